//! Golden vectors: the exact bytes of a few small documents and deltas,
//! stored in `core/tests/vectors/` and specified byte by byte in
//! `docs/PROTOCOL.md`.
//!
//! The stored files are the reference. These tests rebuild each object with
//! the same API calls (fixed replica ids, fixed wall clock) and require the
//! encoder to produce exactly the stored bytes, and decode each stored file
//! and check what it holds. The files are written only by the `#[ignore]`d
//! [`regenerate_golden_vectors`] test (see `core/tests/vectors/README.md`).
//!
//! Legacy vectors hold deltas in the envelope that builds before the compact
//! delta frame wrote: nothing writes them any more, and they must keep
//! decoding to the same deltas.

use quire_core::{Delta, Doc, ReplicaId, VersionVector};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Edits the title, "hé", a counter and a concurrent "!".
pub(crate) const ALICE: ReplicaId = ReplicaId(0xa1);
/// Edits "llo😀", " ", two counters and deletes Alice's "!".
pub(crate) const BOB: ReplicaId = ReplicaId(0xb0b);
/// Types "abcd" and backspaces three times.
pub(crate) const CAROL: ReplicaId = ReplicaId(0xca201);
/// A replica that only reads the vectors.
pub(crate) const READER: ReplicaId = ReplicaId(0xfeed);
/// The wall clock of the title write (2023-11-14T22:13:20Z).
pub(crate) const TITLE_MS: u64 = 1_700_000_000_000;

/// Which decoder a vector is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `Doc::decode`.
    Doc,
    /// `Delta::decode`.
    Delta,
}

/// One golden vector: its file name, kind and how it is built.
pub(crate) struct Vector {
    pub name: &'static str,
    pub kind: Kind,
    /// The current encoding of what the file holds.
    pub build: fn() -> Vec<u8>,
    /// Written by earlier builds (a delta in an envelope): read only, and
    /// `build` gives the compact encoding it now re-encodes to.
    pub legacy: bool,
}

/// Every golden vector.
pub(crate) const VECTORS: &[Vector] = &[
    Vector {
        name: "empty_doc.bin",
        kind: Kind::Doc,
        build: || empty_doc().encode(),
        legacy: false,
    },
    Vector {
        name: "edited_doc.bin",
        kind: Kind::Doc,
        build: || edited_doc().encode(),
        legacy: false,
    },
    Vector {
        name: "edited_delta_compact.bin",
        kind: Kind::Delta,
        build: || edited_delta().encode(),
        legacy: false,
    },
    Vector {
        name: "backspace_delta_compact.bin",
        kind: Kind::Delta,
        build: || backspace_delta().encode(),
        legacy: false,
    },
    Vector {
        name: "edited_delta.bin",
        kind: Kind::Delta,
        build: || edited_delta().encode(),
        legacy: true,
    },
    Vector {
        name: "backspace_delta.bin",
        kind: Kind::Delta,
        build: || backspace_delta().encode(),
        legacy: true,
    },
];

/// The folder holding the stored vectors.
pub(crate) fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

/// The stored bytes of the vector `name`.
pub(crate) fn stored(name: &str) -> Vec<u8> {
    let path = vector_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (see core/tests/vectors/README.md)",
            path.display()
        )
    })
}

/// A document nobody edited.
pub(crate) fn empty_doc() -> Doc {
    Doc::new(ALICE)
}

/// Both replicas of the edited document, after they synced: title
/// "Groceries", text "héllo 😀", counters `votes = 3 - 1` and `views = 7`.
///
/// Alice writes the title, types "hé" and adds 3 votes. Bob receives that,
/// types "llo😀" after "hé", then a space before the emoji, removes a vote
/// and adds 7 views. Concurrently Alice types "!" after "hé"; it sorts after
/// Bob's run (same Lamport timestamp 3, higher replica id first). Bob
/// receives it and deletes it, and Alice receives that.
pub(crate) fn edited_replicas() -> (Doc, Doc) {
    let mut alice = Doc::new(ALICE);
    alice.set_title("Groceries", TITLE_MS).unwrap();
    alice.insert(0, "hé").unwrap();
    alice.increment("votes", 3).unwrap();

    let mut bob = Doc::new(BOB);
    bob.merge(&alice).unwrap();
    bob.insert(2, "llo😀").unwrap();
    bob.insert(5, " ").unwrap();
    bob.increment("votes", -1).unwrap();
    bob.increment("views", 7).unwrap();

    alice.insert(2, "!").unwrap();
    bob.merge(&alice).unwrap();
    assert_eq!(bob.text(), "héllo 😀!");
    bob.delete(7, 1).unwrap();
    alice.merge(&bob).unwrap();
    (alice, bob)
}

/// Alice's replica of the edited document.
pub(crate) fn edited_doc() -> Doc {
    edited_replicas().0
}

/// Everything in the edited document, as a delta for an empty peer.
pub(crate) fn edited_delta() -> Delta {
    edited_doc().delta_since(&VersionVector::new())
}

/// Carol types "abcd" one character at a time, then backspaces three
/// times: one delete run targeting d, c, b (reversed).
pub(crate) fn backspace_doc() -> Doc {
    let mut carol = Doc::new(CAROL);
    for (i, c) in ["a", "b", "c", "d"].into_iter().enumerate() {
        carol.insert(i, c).unwrap();
    }
    for i in [3, 2, 1] {
        carol.delete(i, 1).unwrap();
    }
    carol
}

/// Everything Carol did, as a delta for an empty peer.
pub(crate) fn backspace_delta() -> Delta {
    backspace_doc().delta_since(&VersionVector::new())
}

/// The stored long document (not in [`VECTORS`]: the byte-by-byte hostile
/// tests would take minutes over it).
pub(crate) const LONG_TEXT_DOC: &str = "long_text_doc.bin";

/// 1,600 numbered lines (81,600 bytes) typed one by one, then one line
/// deleted: a text over 64 KiB, so its LZ4 section has two blocks.
pub(crate) fn long_text_doc() -> Doc {
    let mut carol = Doc::new(CAROL);
    let mut at = 0;
    for i in 0..1600 {
        let line = format!("{i:05} the quick brown fox jumps over the lazy dog.\n");
        carol.insert(at, &line).unwrap();
        at += line.len();
    }
    carol.delete(51 * 800, 51).unwrap();
    carol
}

fn version(entries: &[(ReplicaId, u32)]) -> VersionVector {
    entries.iter().copied().collect()
}

fn counters(entries: &[(&str, i64)]) -> BTreeMap<String, i64> {
    entries.iter().map(|&(k, v)| (k.to_owned(), v)).collect()
}

/// Fails with the first differing byte when `actual` is not `name`'s bytes.
fn assert_stored(name: &str, actual: &[u8]) {
    let expected = stored(name);
    if actual == expected.as_slice() {
        return;
    }
    let at = actual
        .iter()
        .zip(&expected)
        .position(|(a, e)| a != e)
        .unwrap_or(actual.len().min(expected.len()));
    panic!(
        "{name}: the encoder no longer produces the stored bytes (first \
         difference at byte {at}; {} bytes encoded, {} stored).\n\
         encoded: {actual:02x?}\nstored:  {expected:02x?}\n\
         A change of the wire format needs a new format version; see \
         core/tests/vectors/README.md.",
        actual.len(),
        expected.len()
    );
}

#[test]
fn empty_document_encodes_to_the_stored_bytes() {
    assert_stored("empty_doc.bin", &empty_doc().encode());
}

#[test]
fn edited_document_encodes_to_the_stored_bytes() {
    assert_stored("edited_doc.bin", &edited_doc().encode());
}

#[test]
fn both_replicas_of_the_edited_document_encode_to_the_stored_bytes() {
    let (alice, bob) = edited_replicas();
    assert_stored("edited_doc.bin", &alice.encode());
    assert_stored("edited_doc.bin", &bob.encode());
}

#[test]
fn delta_of_the_edited_document_encodes_to_the_stored_bytes() {
    assert_stored("edited_delta_compact.bin", &edited_delta().encode());
}

#[test]
fn backspace_delta_encodes_to_the_stored_bytes() {
    assert_stored("backspace_delta_compact.bin", &backspace_delta().encode());
}

/// The same bytes from every build: lz4_flex hashes differently on 32- and
/// 64-bit targets for blocks of 64 KiB and more, so the text goes in
/// smaller blocks (wasm/test/sync.test.mjs re-encodes this file in wasm).
#[test]
fn long_document_encodes_to_the_stored_bytes_and_back() {
    let bytes = long_text_doc().encode();
    assert_stored(LONG_TEXT_DOC, &bytes);
    let doc = Doc::decode(&bytes, READER).unwrap();
    assert_eq!(doc.text(), long_text_doc().text());
    assert_eq!(doc.len(), 1599 * 51);
    assert_eq!(doc.encode(), bytes);
}

#[test]
fn legacy_envelope_deltas_decode_to_the_deltas_the_api_builds() {
    let edited = Delta::decode(&stored("edited_delta.bin")).unwrap();
    assert_eq!(edited, edited_delta());
    let backspace = Delta::decode(&stored("backspace_delta.bin")).unwrap();
    assert_eq!(backspace, backspace_delta());
    // The compact vectors hold the same deltas, in fewer bytes.
    for (legacy, compact) in [
        ("edited_delta.bin", "edited_delta_compact.bin"),
        ("backspace_delta.bin", "backspace_delta_compact.bin"),
    ] {
        let (legacy, compact) = (stored(legacy), stored(compact));
        assert_eq!(Delta::decode(&legacy), Delta::decode(&compact));
        assert!(compact.len() < legacy.len());
    }
}

#[test]
fn stored_empty_document_decodes_to_an_empty_document() {
    let doc = Doc::decode(&stored("empty_doc.bin"), READER).unwrap();
    assert_eq!(doc.text(), "");
    assert_eq!(doc.title(), "");
    assert!(doc.counters().is_empty());
    assert!(doc.version().is_empty());
    assert_eq!(doc.replica(), READER);
}

#[test]
fn stored_edited_document_decodes_to_its_text_title_counters_and_version() {
    let doc = Doc::decode(&stored("edited_doc.bin"), READER).unwrap();
    assert_eq!(doc.text(), "héllo 😀");
    assert_eq!(doc.len(), 7);
    assert_eq!(doc.len_utf16(), 8);
    assert_eq!(doc.title(), "Groceries");
    assert_eq!(doc.counters(), counters(&[("views", 7), ("votes", 2)]));
    assert_eq!(doc.version(), version(&[(ALICE, 5), (BOB, 8)]));
    assert_eq!(doc.pending(), 0);
}

#[test]
fn stored_edited_delta_rebuilds_the_edited_document() {
    let delta = Delta::decode(&stored("edited_delta_compact.bin")).unwrap();
    // Alice: title, "hé", counter, "!" (deleted); Bob: "llo😀", " ",
    // two counters, delete.
    assert_eq!(delta.op_count(), 9);
    assert_eq!(delta.replicas().collect::<Vec<_>>(), [ALICE, BOB]);
    let mut doc = Doc::new(READER);
    let outcome = doc.apply(&delta).unwrap();
    assert_eq!(outcome.applied, 9);
    assert_eq!(outcome.pending, 0);
    assert_eq!(doc.text(), "héllo 😀");
    assert_eq!(doc.title(), "Groceries");
    assert_eq!(doc.counters(), counters(&[("views", 7), ("votes", 2)]));
    assert_eq!(doc.version(), version(&[(ALICE, 5), (BOB, 8)]));
    assert_eq!(doc.encode(), stored("edited_doc.bin"));
}

#[test]
fn stored_backspace_delta_rebuilds_carols_document() {
    let delta = Delta::decode(&stored("backspace_delta_compact.bin")).unwrap();
    // "a", then "bcd" without its text (deleted), then one delete run.
    assert_eq!(delta.op_count(), 3);
    let mut doc = Doc::new(READER);
    doc.apply(&delta).unwrap();
    assert_eq!(doc.text(), "a");
    assert_eq!(doc.version(), version(&[(CAROL, 7)]));
    assert_eq!(doc.encode(), backspace_doc().encode());
}

#[test]
fn stored_documents_re_encode_to_the_same_bytes() {
    for v in VECTORS.iter().filter(|v| v.kind == Kind::Doc) {
        let bytes = stored(v.name);
        let doc = Doc::decode(&bytes, READER).unwrap();
        assert_eq!(doc.encode(), bytes, "{}", v.name);
    }
}

#[test]
fn stored_deltas_re_encode_to_the_current_bytes() {
    for v in VECTORS.iter().filter(|v| v.kind == Kind::Delta) {
        let bytes = stored(v.name);
        let again = Delta::decode(&bytes).unwrap().encode();
        assert_eq!(again, (v.build)(), "{}", v.name);
        if !v.legacy {
            assert_eq!(again, bytes, "{}", v.name);
        }
    }
}

#[test]
fn applied_stored_deltas_give_back_the_same_delta() {
    for v in VECTORS.iter().filter(|v| v.kind == Kind::Delta) {
        let bytes = stored(v.name);
        let mut doc = Doc::new(ReplicaId(0));
        doc.apply_encoded(&bytes).unwrap();
        let again = doc.delta_since(&VersionVector::new());
        assert_eq!(again, Delta::decode(&bytes).unwrap(), "{}", v.name);
        assert_eq!(again.encode(), (v.build)(), "{}", v.name);
    }
}

#[test]
fn same_history_encodes_equal_even_when_deltas_chunk_deletes_differently() {
    // Alice deletes "a", then "b": one forward record of 2 in her history.
    // Bob receives the two deletes in two deltas: two records of 1.
    let mut alice = Doc::new(ALICE);
    alice.insert(0, "abc").unwrap();
    let mut bob = Doc::new(BOB);
    bob.merge(&alice).unwrap();
    for _ in 0..2 {
        alice.delete(0, 1).unwrap();
        bob.merge(&alice).unwrap();
    }
    let all = VersionVector::new();
    // "ab" (deleted, without text), "c", then the deletes.
    assert_eq!(alice.delta_since(&all).op_count(), 2 + 1);
    assert_eq!(bob.delta_since(&all).op_count(), 2 + 2);
    assert_eq!(alice.encode(), bob.encode());
}

/// Writes every vector but the legacy ones to `core/tests/vectors/`. Run it
/// only when the format changes on purpose:
/// `cargo test -p quire-core --test it -- --ignored regenerate_golden_vectors`
#[test]
#[ignore = "rewrites the stored golden vectors; run only on purpose"]
fn regenerate_golden_vectors() {
    let dir = vector_dir();
    std::fs::create_dir_all(&dir).unwrap();
    for v in VECTORS.iter().filter(|v| !v.legacy) {
        std::fs::write(dir.join(v.name), (v.build)()).unwrap();
    }
    std::fs::write(dir.join(LONG_TEXT_DOC), long_text_doc().encode()).unwrap();
}
