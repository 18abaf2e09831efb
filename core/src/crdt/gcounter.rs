//! Grow-only counter: one monotone total per replica, merged by maximum.

use crate::ids::ReplicaId;
use std::collections::BTreeMap;

/// A grow-only counter.
///
/// Each replica only ever raises its own entry, so the element-wise maximum
/// of two states is their join. Zero entries are never stored, which keeps
/// the representation canonical and the derived `PartialEq` meaningful.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GCounter {
    state: BTreeMap<ReplicaId, u64>,
}

impl GCounter {
    /// An empty counter (value zero).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `by` to `replica`'s entry, saturating at `u64::MAX`.
    pub fn increment(&mut self, replica: ReplicaId, by: u64) {
        if by == 0 {
            return;
        }
        let entry = self.state.entry(replica).or_insert(0);
        *entry = entry.saturating_add(by);
    }

    /// `replica`'s total so far.
    pub fn get(&self, replica: ReplicaId) -> u64 {
        self.state.get(&replica).copied().unwrap_or(0)
    }

    /// The sum over all replicas, saturating at `u64::MAX`.
    pub fn value(&self) -> u64 {
        self.state
            .values()
            .fold(0u64, |acc, &v| acc.saturating_add(v))
    }

    /// Raises `replica`'s entry to at least `total`.
    ///
    /// Remote operations carry the replica's new absolute total rather than
    /// a delta, so re-applying one is harmless.
    pub fn set_at_least(&mut self, replica: ReplicaId, total: u64) {
        if total > self.get(replica) {
            self.state.insert(replica, total);
        }
    }

    /// Element-wise maximum with `other`.
    pub fn merge(&mut self, other: &GCounter) {
        for (&replica, &total) in &other.state {
            self.set_at_least(replica, total);
        }
    }

    /// Non-zero entries in ascending replica order.
    pub fn iter(&self) -> impl Iterator<Item = (ReplicaId, u64)> + '_ {
        self.state.iter().map(|(&r, &v)| (r, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: ReplicaId = ReplicaId(1);
    const B: ReplicaId = ReplicaId(2);

    #[test]
    fn new_counter_is_zero() {
        let c = GCounter::new();
        assert_eq!(c.value(), 0);
        assert_eq!(c.get(A), 0);
        assert_eq!(c.iter().count(), 0);
    }

    #[test]
    fn increments_add_up_per_replica_and_in_total() {
        let mut c = GCounter::new();
        c.increment(A, 3);
        c.increment(B, 4);
        c.increment(A, 2);
        assert_eq!(c.get(A), 5);
        assert_eq!(c.get(B), 4);
        assert_eq!(c.value(), 9);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![(A, 5), (B, 4)]);
    }

    #[test]
    fn increment_by_zero_leaves_state_unchanged() {
        let mut c = GCounter::new();
        c.increment(A, 0);
        assert_eq!(c, GCounter::new());
    }

    #[test]
    fn increment_saturates_at_u64_max() {
        let mut c = GCounter::new();
        c.increment(A, u64::MAX - 1);
        c.increment(A, 5);
        assert_eq!(c.get(A), u64::MAX);
    }

    #[test]
    fn value_saturates_at_u64_max() {
        let mut c = GCounter::new();
        c.increment(A, u64::MAX);
        c.increment(B, 1);
        assert_eq!(c.value(), u64::MAX);
    }

    #[test]
    fn set_at_least_never_lowers_an_entry() {
        let mut c = GCounter::new();
        c.set_at_least(A, 7);
        c.set_at_least(A, 3);
        assert_eq!(c.get(A), 7);
        c.set_at_least(B, 0);
        assert_eq!(c.iter().count(), 1);
    }

    #[test]
    fn merge_takes_element_wise_max() {
        let mut x = GCounter::new();
        x.increment(A, 5);
        x.increment(B, 1);
        let mut y = GCounter::new();
        y.increment(A, 2);
        y.increment(B, 9);
        x.merge(&y);
        assert_eq!((x.get(A), x.get(B)), (5, 9));
    }

    /// A state built from random increments over a few replicas; `by` is
    /// sometimes huge so saturation is exercised too.
    fn arb_gcounter() -> impl Strategy<Value = GCounter> {
        let by = prop_oneof![4 => 0..100u64, 1 => any::<u64>()];
        prop::collection::vec((0..4u64, by), 0..12).prop_map(|ops| {
            let mut c = GCounter::new();
            for (r, by) in ops {
                c.increment(ReplicaId(r), by);
            }
            c
        })
    }

    fn merged(a: &GCounter, b: &GCounter) -> GCounter {
        let mut out = a.clone();
        out.merge(b);
        out
    }

    proptest! {
        #[test]
        fn merge_is_commutative(a in arb_gcounter(), b in arb_gcounter()) {
            prop_assert_eq!(merged(&a, &b), merged(&b, &a));
        }

        #[test]
        fn merge_is_associative(
            a in arb_gcounter(), b in arb_gcounter(), c in arb_gcounter()
        ) {
            prop_assert_eq!(merged(&merged(&a, &b), &c), merged(&a, &merged(&b, &c)));
        }

        #[test]
        fn merge_is_idempotent(a in arb_gcounter(), b in arb_gcounter()) {
            prop_assert_eq!(merged(&a, &a), a.clone());
            let ab = merged(&a, &b);
            prop_assert_eq!(merged(&ab, &b), ab);
        }

        #[test]
        fn merge_never_decreases_the_value(a in arb_gcounter(), b in arb_gcounter()) {
            let m = merged(&a, &b);
            prop_assert!(m.value() >= a.value().max(b.value()));
        }
    }
}
