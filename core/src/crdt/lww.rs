//! Last-writer-wins register, ordered by `(hlc, replica)` stamps.
//!
//! Convergence with future-dated writes: `merge` always compares raw stamps,
//! so every replica picks the same winner. A write dated far in the future
//! does not drag the local clock (see the clamp in [`HlcClock::observe`]),
//! and [`LwwRegister::next_stamp`] always beats the current value, so the
//! next local write replaces it: a bad clock cannot dominate forever.

use crate::crdt::hlc::{Hlc, HlcClock};
use crate::ids::ReplicaId;

/// When a write happened, and where; ordered by `(time, replica)`.
///
/// Equal times break by replica id, which gives the same answer on every
/// replica.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Stamp {
    /// The hybrid logical time of the write.
    pub time: Hlc,
    /// The replica that wrote it.
    pub replica: ReplicaId,
}

impl Stamp {
    /// Builds a stamp.
    pub const fn new(time: Hlc, replica: ReplicaId) -> Self {
        Self { time, replica }
    }
}

/// A register holding one value; the write with the greatest [`Stamp`] wins.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LwwRegister<T> {
    value: T,
    stamp: Stamp,
}

impl<T> LwwRegister<T> {
    /// A register holding `initial` with the zero stamp, which every real
    /// write beats.
    pub fn new(initial: T) -> Self {
        Self {
            value: initial,
            stamp: Stamp::default(),
        }
    }

    /// The current value.
    pub fn get(&self) -> &T {
        &self.value
    }

    /// The stamp of the current value.
    pub fn stamp(&self) -> Stamp {
        self.stamp
    }

    /// Takes `value` if `stamp` beats the current one; returns whether it
    /// won. Equal stamps lose, so re-applying a write is a no-op.
    pub fn set(&mut self, value: T, stamp: Stamp) -> bool {
        if stamp > self.stamp {
            self.value = value;
            self.stamp = stamp;
            true
        } else {
            false
        }
    }

    /// A stamp for a local write that beats the current value, even when
    /// that value is dated far in the future:
    /// `max(clock.now(wall_ms), current time + 1 tick)`.
    ///
    /// The clock itself is not moved past its clamp; only this stamp is.
    pub fn next_stamp(&self, clock: &mut HlcClock, wall_ms: u64, replica: ReplicaId) -> Stamp {
        let time = clock.now(wall_ms).max(self.stamp.time.successor());
        Stamp::new(time, replica)
    }
}

impl<T: Clone> LwwRegister<T> {
    /// Keeps whichever of the two values has the greater stamp.
    pub fn merge(&mut self, other: &Self) {
        if other.stamp > self.stamp {
            self.value = other.value.clone();
            self.stamp = other.stamp;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: ReplicaId = ReplicaId(1);
    const B: ReplicaId = ReplicaId(2);
    const YEAR_MS: u64 = 365 * 24 * 60 * 60 * 1000;

    #[test]
    fn new_register_holds_initial_value_and_zero_stamp() {
        let r = LwwRegister::new("x");
        assert_eq!(*r.get(), "x");
        assert_eq!(r.stamp(), Stamp::new(Hlc::ZERO, ReplicaId(0)));
    }

    #[test]
    fn first_real_write_beats_the_initial_value() {
        let mut r = LwwRegister::new(0);
        let mut clock = HlcClock::new();
        let s = r.next_stamp(&mut clock, 0, ReplicaId(0));
        assert!(r.set(1, s));
        assert_eq!(*r.get(), 1);
    }

    #[test]
    fn set_keeps_the_greater_stamp() {
        let mut r = LwwRegister::new("init");
        assert!(r.set("late", Stamp::new(Hlc::new(20, 0), A)));
        assert!(!r.set("early", Stamp::new(Hlc::new(10, 0), B)));
        assert!(!r.set("late", Stamp::new(Hlc::new(20, 0), A)));
        assert_eq!(*r.get(), "late");
    }

    #[test]
    fn equal_times_break_by_replica_id() {
        let t = Hlc::new(5, 0);
        let mut x = LwwRegister::new("");
        x.set("a", Stamp::new(t, A));
        let mut y = LwwRegister::new("");
        y.set("b", Stamp::new(t, B));
        let mut xy = x.clone();
        xy.merge(&y);
        y.merge(&x);
        assert_eq!(*xy.get(), "b");
        assert_eq!(xy, y);
    }

    #[test]
    fn future_dated_write_is_beaten_by_the_next_local_write() {
        let wall = 1_700_000_000_000;
        let mut clock = HlcClock::new();
        let mut r = LwwRegister::new(String::new());

        // A peer with a clock a year ahead writes; we merge and observe it.
        let future = Stamp::new(Hlc::new(wall + YEAR_MS, 3), B);
        assert!(r.set("from the future".into(), future));
        clock.observe(future.time, wall);
        assert!(clock.last().wall_ms <= wall + clock.max_skew_ms());

        let s = r.next_stamp(&mut clock, wall, A);
        assert!(s > future);
        assert!(r.set("local".into(), s));
        assert_eq!(r.get(), "local");
        // The local clock was not dragged a year ahead.
        assert!(clock.now(wall).wall_ms <= wall + clock.max_skew_ms());
    }

    #[test]
    fn next_stamp_uses_the_clock_when_current_value_is_older() {
        let mut clock = HlcClock::new();
        let mut r = LwwRegister::new(0);
        r.set(1, Stamp::new(Hlc::new(10, 0), B));
        assert_eq!(
            r.next_stamp(&mut clock, 500, A),
            Stamp::new(Hlc::new(500, 0), A)
        );
    }

    /// Random register states that are consistent with one global history:
    /// each write gets its stamp from its replica's own clock (so stamps are
    /// unique, as in a real system), and each state saw a random subset.
    fn arb_states() -> impl Strategy<Value = Vec<LwwRegister<String>>> {
        // (replica, wall_ms, value), then which of the three states saw it.
        let write = (0..3u64, 0..1_000u64, any::<u8>());
        prop::collection::vec((write, any::<[bool; 3]>()), 0..20).prop_map(|log| {
            let mut clocks = [HlcClock::new(), HlcClock::new(), HlcClock::new()];
            let mut states = vec![LwwRegister::new(String::new()); 3];
            for ((r, wall, v), seen) in log {
                let stamp = Stamp::new(clocks[r as usize].now(wall), ReplicaId(r));
                for (state, seen) in states.iter_mut().zip(seen) {
                    if seen {
                        state.set(format!("v{v}"), stamp);
                    }
                }
            }
            states
        })
    }

    fn merged(a: &LwwRegister<String>, b: &LwwRegister<String>) -> LwwRegister<String> {
        let mut out = a.clone();
        out.merge(b);
        out
    }

    proptest! {
        #[test]
        fn merge_is_commutative(s in arb_states()) {
            prop_assert_eq!(merged(&s[0], &s[1]), merged(&s[1], &s[0]));
        }

        #[test]
        fn merge_is_associative(s in arb_states()) {
            let (a, b, c) = (&s[0], &s[1], &s[2]);
            prop_assert_eq!(merged(&merged(a, b), c), merged(a, &merged(b, c)));
        }

        #[test]
        fn merge_is_idempotent(s in arb_states()) {
            prop_assert_eq!(merged(&s[0], &s[0]), s[0].clone());
            let ab = merged(&s[0], &s[1]);
            prop_assert_eq!(merged(&ab, &s[1]), ab);
        }

        #[test]
        fn next_stamp_always_beats_the_current_value(
            wall in 0..1_000_000u64,
            cur_wall in any::<u64>(),
            cur_counter in 0..u32::MAX,
            writer in 0..5u64,
        ) {
            let mut r = LwwRegister::new(0u8);
            r.set(1, Stamp::new(Hlc::new(cur_wall, cur_counter), ReplicaId(4)));
            let mut clock = HlcClock::new();
            let s = r.next_stamp(&mut clock, wall, ReplicaId(writer));
            prop_assert!(s > r.stamp());
            prop_assert!(r.set(2, s));
        }
    }
}
