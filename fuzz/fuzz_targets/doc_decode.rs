//! `Doc::decode` on any frame (checksum made valid). What decodes must be
//! a working document: its encoding decodes to the same encoding, and its
//! text, snapshot and deltas can be read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quire_core::{Doc, ReplicaId, VersionVector};

fuzz_target!(|data: &[u8]| {
    let frame = quire_fuzz::resealed(data);
    let Ok(doc) = Doc::decode(&frame, ReplicaId(u64::MAX)) else {
        return;
    };
    let encoded = doc.encode();
    let again = Doc::decode(&encoded, ReplicaId(u64::MAX)).expect("a re-encoded document decodes");
    assert_eq!(again.encode(), encoded, "encoding is canonical");
    assert_eq!(again.text(), doc.text());
    let mut copy = Doc::new(ReplicaId(u64::MAX - 1));
    copy.apply_encoded(&doc.delta_since(&VersionVector::new()).encode())
        .expect("a document's own delta applies");
    assert_eq!(copy.text(), doc.text());
    let _ = doc.snapshot();
});
