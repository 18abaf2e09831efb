//! Minimal reproductions of bugs the simulation found. Each must fail until
//! the core is fixed, then stays as a regression test.

use quire_core::{Delta, Doc, ReplicaId, VersionVector};

/// `delta_since` lists blocks in the order the sender learned of replicas;
/// `Delta::encode` writes them so, and `Delta::decode` rejects blocks that
/// are not in ascending replica order.
#[test]
fn a_delta_from_a_replica_that_met_a_lower_id_later_decodes() {
    let mut a = Doc::new(ReplicaId(2));
    a.insert(0, "x").unwrap();
    let mut b = Doc::new(ReplicaId(1));
    b.insert(0, "y").unwrap();
    a.merge(&b).unwrap();
    let bytes = a.delta_since(&VersionVector::new()).encode();
    let delta = Delta::decode(&bytes).expect("a delta the core encoded must decode");
    assert_eq!(delta.encode(), bytes);
}

/// Local edits that split B-tree leaves left stale entries in the id index
/// (fixed in `edc6cf1`): merging the other replica's edits back then
/// panicked with "origin checked by the caller" (the simulation's seed 3
/// failed the same way with `NotACharacter`).
#[test]
fn merging_back_after_many_leaf_splits_finds_every_character() {
    let mut a = Doc::new(ReplicaId(1));
    let mut b = Doc::new(ReplicaId(2));
    // `(insert?, index, len)`; inserts insert `len` times "a".
    let a_edits = [
        (true, 0, 4),
        (false, 0, 1),
        (true, 0, 5),
        (false, 2, 1),
        (false, 0, 1),
        (true, 0, 1),
        (true, 0, 6),
        (true, 9, 5),
        (false, 10, 1),
        (true, 1, 1),
        (true, 0, 1),
        (false, 5, 1),
        (true, 4, 11),
        (false, 0, 5),
        (true, 0, 1),
        (true, 0, 2),
        (true, 9, 11),
        (true, 1, 1),
        (true, 0, 13),
        (false, 0, 1),
        (false, 50, 1),
        (true, 1, 1),
        (true, 0, 1),
        (true, 0, 1),
        (true, 33, 1),
        (true, 20, 1),
    ];
    let b_edits = [
        (false, 50, 1),
        (true, 18, 1),
        (false, 0, 15),
        (false, 0, 1),
        (false, 24, 1),
        (false, 0, 1),
        (false, 0, 13),
        (false, 23, 1),
        (false, 7, 1),
        (false, 1, 1),
        (false, 2, 1),
        (true, 20, 1),
    ];
    let edit = |doc: &mut Doc, &(insert, at, n): &(bool, usize, usize)| {
        if insert {
            doc.insert(at, &"a".repeat(n)).unwrap();
        } else {
            doc.delete(at, n).unwrap();
        }
    };
    a_edits.iter().for_each(|e| edit(&mut a, e));
    b.merge(&a).unwrap();
    b_edits.iter().for_each(|e| edit(&mut b, e));
    a.merge(&b).unwrap();
    b.merge(&a).unwrap();
    assert_eq!(a.text(), b.text());
    assert!(a.encode() == b.encode());
}
