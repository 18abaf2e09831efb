//! Positive-negative counter: two grow-only counters, value = P - N.

use crate::crdt::gcounter::GCounter;
use crate::ids::ReplicaId;

/// A counter that can go up and down.
///
/// Increments and decrements are kept in separate grow-only counters so
/// each half merges by maximum; the value is their difference.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PNCounter {
    p: GCounter,
    n: GCounter,
}

impl PNCounter {
    /// An empty counter (value zero).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `by` on behalf of `replica` (saturating per replica).
    pub fn increment(&mut self, replica: ReplicaId, by: u64) {
        self.p.increment(replica, by);
    }

    /// Subtracts `by` on behalf of `replica` (saturating per replica).
    pub fn decrement(&mut self, replica: ReplicaId, by: u64) {
        self.n.increment(replica, by);
    }

    /// Adds a signed `delta`: positive increments, negative decrements by
    /// the magnitude. `unsigned_abs` keeps `i64::MIN` from overflowing.
    pub fn add(&mut self, replica: ReplicaId, delta: i64) {
        if delta >= 0 {
            self.increment(replica, delta.unsigned_abs());
        } else {
            self.decrement(replica, delta.unsigned_abs());
        }
    }

    /// P - N, computed in `i128` (no overflow) and saturated into `i64`.
    pub fn value(&self) -> i64 {
        // Sum exactly (each side fits an i128), saturate only the result.
        let sum = |g: &GCounter| g.iter().map(|(_, v)| i128::from(v)).sum::<i128>();
        let v = sum(&self.p) - sum(&self.n);
        v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// Merges both halves by element-wise maximum.
    pub fn merge(&mut self, other: &PNCounter) {
        self.p.merge(&other.p);
        self.n.merge(&other.n);
    }

    /// `replica`'s `(increments, decrements)` totals.
    pub fn totals(&self, replica: ReplicaId) -> (u64, u64) {
        (self.p.get(replica), self.n.get(replica))
    }

    /// Raises `replica`'s totals to at least `p` and `n` (applying a remote
    /// operation that carries the replica's new absolute totals).
    pub fn set_at_least(&mut self, replica: ReplicaId, p: u64, n: u64) {
        self.p.set_at_least(replica, p);
        self.n.set_at_least(replica, n);
    }

    /// The increments half.
    pub fn p(&self) -> &GCounter {
        &self.p
    }

    /// The decrements half.
    pub fn n(&self) -> &GCounter {
        &self.n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: ReplicaId = ReplicaId(1);
    const B: ReplicaId = ReplicaId(2);

    #[test]
    fn increments_and_decrements_combine() {
        let mut c = PNCounter::new();
        c.increment(A, 10);
        c.decrement(B, 3);
        c.add(A, -4);
        c.add(B, 2);
        assert_eq!(c.value(), 5);
        assert_eq!(c.totals(A), (10, 4));
        assert_eq!(c.totals(B), (2, 3));
        assert_eq!(c.p().value(), 12);
        assert_eq!(c.n().value(), 7);
    }

    #[test]
    fn add_handles_i64_min() {
        let mut c = PNCounter::new();
        c.add(A, i64::MIN);
        assert_eq!(c.totals(A), (0, 1u64 << 63));
        assert_eq!(c.value(), i64::MIN);
    }

    #[test]
    fn add_zero_leaves_state_unchanged() {
        let mut c = PNCounter::new();
        c.add(A, 0);
        assert_eq!(c, PNCounter::new());
    }

    #[test]
    fn value_saturates_at_i64_bounds() {
        let mut up = PNCounter::new();
        up.increment(A, u64::MAX);
        assert_eq!(up.value(), i64::MAX);

        let mut down = PNCounter::new();
        down.decrement(A, u64::MAX);
        down.decrement(B, u64::MAX);
        assert_eq!(down.value(), i64::MIN);

        // Both halves saturated: the difference is exact, not a wrap.
        let mut both = PNCounter::new();
        both.increment(A, u64::MAX);
        both.decrement(B, u64::MAX);
        assert_eq!(both.value(), 0);
    }

    #[test]
    fn set_at_least_is_idempotent_and_monotone() {
        let mut c = PNCounter::new();
        c.set_at_least(A, 5, 2);
        c.set_at_least(A, 5, 2);
        c.set_at_least(A, 1, 1);
        assert_eq!(c.totals(A), (5, 2));
        assert_eq!(c.value(), 3);
    }

    #[test]
    fn merge_combines_concurrent_updates() {
        let mut x = PNCounter::new();
        x.add(A, 5);
        let mut y = PNCounter::new();
        y.add(B, -2);
        x.merge(&y);
        assert_eq!(x.value(), 3);
    }

    fn arb_pncounter() -> impl Strategy<Value = PNCounter> {
        let delta = prop_oneof![4 => -100..100i64, 1 => any::<i64>()];
        prop::collection::vec((0..4u64, delta), 0..12).prop_map(|ops| {
            let mut c = PNCounter::new();
            for (r, d) in ops {
                c.add(ReplicaId(r), d);
            }
            c
        })
    }

    fn merged(a: &PNCounter, b: &PNCounter) -> PNCounter {
        let mut out = a.clone();
        out.merge(b);
        out
    }

    proptest! {
        #[test]
        fn merge_is_commutative(a in arb_pncounter(), b in arb_pncounter()) {
            prop_assert_eq!(merged(&a, &b), merged(&b, &a));
        }

        #[test]
        fn merge_is_associative(
            a in arb_pncounter(), b in arb_pncounter(), c in arb_pncounter()
        ) {
            prop_assert_eq!(merged(&merged(&a, &b), &c), merged(&a, &merged(&b, &c)));
        }

        #[test]
        fn merge_is_idempotent(a in arb_pncounter(), b in arb_pncounter()) {
            prop_assert_eq!(merged(&a, &a), a.clone());
            let ab = merged(&a, &b);
            prop_assert_eq!(merged(&ab, &b), ab);
        }

        #[test]
        fn value_matches_sum_of_small_deltas(
            deltas in prop::collection::vec((0..4u64, -1000..1000i64), 0..20)
        ) {
            let mut c = PNCounter::new();
            for &(r, d) in &deltas {
                c.add(ReplicaId(r), d);
            }
            prop_assert_eq!(c.value(), deltas.iter().map(|&(_, d)| d).sum::<i64>());
        }
    }
}
