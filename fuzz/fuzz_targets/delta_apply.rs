//! `Doc::apply_encoded` of any delta frame (checksum made valid) to a
//! document with a small history: refused input leaves the document
//! unchanged; accepted input leaves one that encodes and decodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quire_core::{Doc, ReplicaId};

fn base() -> Doc {
    let mut a = Doc::new(ReplicaId(1));
    a.insert(0, "hello world").unwrap();
    a.set_title("t", 1).unwrap();
    a.increment("n", 2).unwrap();
    let mut b = Doc::new(ReplicaId(2));
    b.merge(&a).unwrap();
    b.delete(0, 6).unwrap();
    b.insert(0, "héllo ").unwrap();
    a.insert(11, "!").unwrap();
    a.merge(&b).unwrap();
    a
}

fuzz_target!(|data: &[u8]| {
    let frame = quire_fuzz::resealed(data);
    let mut doc = base();
    let before = doc.encode();
    match doc.apply_encoded(&frame) {
        Err(_) => assert_eq!(doc.encode(), before, "a refused delta changes nothing"),
        Ok(_) => {
            let encoded = doc.encode();
            let again = Doc::decode(&encoded, ReplicaId(3)).expect("the result decodes");
            assert_eq!(again.text(), doc.text());
        }
    }
});
