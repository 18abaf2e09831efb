//! `Doc::merge_encoded`: a delta or a whole encoded document, into a blank
//! replica (which takes the state over) or one with history (a merge).

use quire_core::{ApplyError, Change, DecodeError, Doc, ReplicaId, VersionVector};

const ALICE: ReplicaId = ReplicaId(1);
const BOB: ReplicaId = ReplicaId(2);
const CAROL: ReplicaId = ReplicaId(3);

/// A document with text typed in runs, deletes, a title and a counter.
fn edited(replica: ReplicaId) -> Doc {
    let mut d = Doc::new(replica);
    d.insert(0, "hello wörld 👋").unwrap();
    d.delete(5, 1).unwrap();
    d.insert(5, ", ").unwrap();
    d.set_title("greeting", 1_000).unwrap();
    d.increment("likes", 3).unwrap();
    d.increment("likes", -1).unwrap();
    d
}

#[test]
fn a_blank_replica_takes_over_an_encoded_document_as_if_it_merged_it() {
    let alice = edited(ALICE);
    let mut via_doc = Doc::new(BOB);
    via_doc.set_track_changes(true);
    let outcome = via_doc.merge_encoded(&alice.encode()).unwrap();
    let mut via_delta = Doc::new(BOB);
    via_delta.merge(&alice).unwrap();

    assert_eq!(via_doc.snapshot(), alice.snapshot());
    assert_eq!(via_doc.encode(), via_delta.encode());
    assert_eq!(via_doc.replica(), BOB);
    assert_eq!(outcome.pending, 0);
    assert!(outcome.applied > 0);
    let len = alice.len();
    let len_utf16 = alice.len_utf16();
    assert_eq!(
        outcome.changes,
        vec![
            Change::Insert {
                index: 0,
                index_utf16: 0,
                len,
                len_utf16
            },
            Change::Title,
            Change::Counter {
                name: "likes".into()
            },
        ]
    );

    // It edits as itself afterwards, and its edits reach Alice.
    via_doc.insert(0, ">> ").unwrap();
    let mut alice = alice;
    let since = alice.version();
    alice
        .apply_encoded(&via_doc.delta_since(&since).encode())
        .unwrap();
    assert_eq!(alice.text(), via_doc.text());
    assert_eq!(alice.version().get(BOB), 3);
}

#[test]
fn a_replica_with_history_merges_an_encoded_document() {
    let alice = edited(ALICE);
    let mut bob = Doc::new(BOB);
    bob.insert(0, "bob was here ").unwrap();
    let mut expected = bob.clone();
    expected.merge(&alice).unwrap();

    let outcome = bob.merge_encoded(&alice.encode()).unwrap();
    assert!(outcome.applied > 0);
    assert_eq!(bob.encode(), expected.encode());
    // Merging it again changes nothing.
    let again = bob.merge_encoded(&alice.encode()).unwrap();
    assert_eq!(again.applied, 0);
    assert_eq!(bob.encode(), expected.encode());
}

#[test]
fn a_delta_goes_through_merge_encoded_like_apply_encoded() {
    let alice = edited(ALICE);
    let bytes = alice.delta_since(&VersionVector::new()).encode();
    let mut a = Doc::new(BOB);
    let mut b = Doc::new(BOB);
    assert_eq!(
        a.merge_encoded(&bytes).unwrap(),
        b.apply_encoded(&bytes).unwrap()
    );
    assert_eq!(a.encode(), b.encode());
}

#[test]
fn a_stored_delta_in_either_frame_goes_through_merge_encoded() {
    for name in ["edited_delta.bin", "edited_delta_compact.bin"] {
        let bytes = crate::vectors::stored(name);
        let mut doc = Doc::new(CAROL);
        doc.merge_encoded(&bytes).unwrap();
        assert_eq!(
            doc.encode(),
            crate::vectors::stored("edited_doc.bin"),
            "{name}"
        );
    }
}

#[test]
fn a_document_holding_the_replicas_own_operations_is_taken_over_consistently() {
    // Bob's earlier state, restored into a blank Bob: his next edit must
    // continue his sequence, not reuse it.
    let mut bob = Doc::new(BOB);
    bob.insert(0, "abc").unwrap();
    let saved = bob.encode();
    let mut restored = Doc::new(BOB);
    restored.merge_encoded(&saved).unwrap();
    restored.insert(3, "d").unwrap();
    assert_eq!(restored.ops_of(BOB), 4);
    assert_eq!(restored.text(), "abcd");
}

#[test]
fn bad_bytes_leave_the_document_unchanged_with_a_typed_error() {
    let alice = edited(ALICE);
    let mut target = Doc::new(CAROL);
    target.insert(0, "keep me").unwrap();
    let before = target.encode();

    let mut corrupt = alice.encode();
    let mid = corrupt.len() / 2;
    corrupt[mid] ^= 0x40;
    assert!(matches!(
        target.merge_encoded(&corrupt),
        Err(ApplyError::Decode(DecodeError::ChecksumMismatch { .. }))
    ));
    let version = alice.version().encode();
    assert!(matches!(
        target.merge_encoded(&version),
        Err(ApplyError::Decode(DecodeError::WrongKind { found: 3, .. }))
    ));
    let encoded = alice.encode();
    for cut in [0, 5, encoded.len() / 3, encoded.len() - 1] {
        assert!(target.merge_encoded(&encoded[..cut]).is_err(), "cut {cut}");
    }
    assert_eq!(target.encode(), before);

    // A blank replica stays blank too.
    let mut blank = Doc::new(CAROL);
    assert!(blank.merge_encoded(&corrupt).is_err());
    assert_eq!(blank.encode(), Doc::new(CAROL).encode());
}

#[test]
fn edits_after_a_large_merge_find_the_characters_it_brought() {
    // Over 512 operations: the merge rebuilds the id index in bulk; the
    // operations after it look up and move the entries the bulk left.
    let mut alice = Doc::new(ALICE);
    let mut bob = Doc::new(BOB);
    scatter(&mut alice, 600, "a");
    bob.merge(&alice).unwrap();
    assert_eq!(bob.text(), alice.text());
    scatter(&mut alice, 100, "b");
    scatter(&mut bob, 100, "c");
    bob.merge(&alice).unwrap();
    alice.merge(&bob).unwrap();
    assert_eq!(bob.text(), alice.text());
}

/// `n` inserts of `tag` words at scattered places (no two merge into one
/// operation), every third followed by a two-character delete.
fn scatter(d: &mut Doc, n: usize, tag: &str) {
    for i in 0..n {
        let len = d.text().len();
        d.insert((i * 13) % (len + 1), &format!("{tag}{:03} ", i % 1000))
            .unwrap();
        if i % 3 == 0 && len > 10 {
            d.delete((i * 7) % (len - 4), 2).unwrap();
        }
    }
}
