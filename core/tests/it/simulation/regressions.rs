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
