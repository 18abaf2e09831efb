//! Hybrid logical clock: wall-clock milliseconds plus a logical counter.
//!
//! The core has no clock, so callers pass the current wall time in. Remote
//! timestamps are clamped to `wall + max_skew` when observed, so one peer
//! with a badly wrong clock cannot drag every later local timestamp with it.

/// A hybrid logical timestamp, ordered by `(wall_ms, counter)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Hlc {
    /// Milliseconds of wall-clock time (any epoch, as long as it is shared).
    pub wall_ms: u64,
    /// Breaks ties between timestamps issued within the same millisecond.
    pub counter: u32,
}

impl Hlc {
    /// The zero timestamp, below every timestamp a clock issues.
    pub const ZERO: Hlc = Hlc::new(0, 0);

    /// Builds a timestamp.
    pub const fn new(wall_ms: u64, counter: u32) -> Self {
        Self { wall_ms, counter }
    }

    /// The smallest timestamp greater than `self`: counter overflow rolls
    /// into `wall_ms + 1`. Saturates (returns `self`) at the maximum.
    pub const fn successor(self) -> Hlc {
        if self.counter < u32::MAX {
            Hlc::new(self.wall_ms, self.counter + 1)
        } else if self.wall_ms < u64::MAX {
            Hlc::new(self.wall_ms + 1, 0)
        } else {
            self
        }
    }
}

/// Issues monotone [`Hlc`] timestamps for one replica.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HlcClock {
    last: Hlc,
    max_skew_ms: u64,
}

impl Default for HlcClock {
    fn default() -> Self {
        Self::new()
    }
}

impl HlcClock {
    /// How far ahead of local wall time an observed timestamp may move the
    /// clock, unless configured otherwise: one minute.
    pub const DEFAULT_MAX_SKEW_MS: u64 = 60_000;

    /// A clock at zero with the default skew bound.
    pub fn new() -> Self {
        Self::with_max_skew(Self::DEFAULT_MAX_SKEW_MS)
    }

    /// A clock at zero that lets observed timestamps move it at most
    /// `max_skew_ms` ahead of local wall time.
    pub fn with_max_skew(max_skew_ms: u64) -> Self {
        Self {
            last: Hlc::ZERO,
            max_skew_ms,
        }
    }

    /// A new timestamp: at least `wall_ms`, and strictly greater than every
    /// timestamp this clock issued or observed (after clamping). Only at the
    /// very maximum `Hlc` does it saturate instead.
    pub fn now(&mut self, wall_ms: u64) -> Hlc {
        let next = if wall_ms > self.last.wall_ms {
            Hlc::new(wall_ms, 0)
        } else {
            self.last.successor()
        };
        self.last = next;
        next
    }

    /// Moves the clock forward to a timestamp seen from a peer.
    ///
    /// A timestamp more than `max_skew_ms` ahead of `wall_ms` only moves the
    /// clock to `wall_ms + max_skew_ms`: it is still merged as data, but
    /// local timestamps are not dragged into the future with it.
    pub fn observe(&mut self, remote: Hlc, wall_ms: u64) {
        let limit = wall_ms.saturating_add(self.max_skew_ms);
        let seen = if remote.wall_ms > limit {
            Hlc::new(limit, 0)
        } else {
            remote
        };
        self.last = self.last.max(seen);
    }

    /// The latest timestamp issued or observed (after clamping).
    pub fn last(&self) -> Hlc {
        self.last
    }

    /// The configured skew bound in milliseconds.
    pub fn max_skew_ms(&self) -> u64 {
        self.max_skew_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const YEAR_MS: u64 = 365 * 24 * 60 * 60 * 1000;

    #[test]
    fn timestamps_order_by_wall_then_counter() {
        assert!(Hlc::new(1, 9) < Hlc::new(2, 0));
        assert!(Hlc::new(2, 0) < Hlc::new(2, 1));
        assert_eq!(Hlc::default(), Hlc::ZERO);
    }

    #[test]
    fn now_follows_wall_clock_when_it_advances() {
        let mut c = HlcClock::new();
        assert_eq!(c.now(100), Hlc::new(100, 0));
        assert_eq!(c.now(250), Hlc::new(250, 0));
        assert_eq!(c.last(), Hlc::new(250, 0));
    }

    #[test]
    fn now_bumps_counter_when_wall_clock_stalls_or_goes_back() {
        let mut c = HlcClock::new();
        c.now(100);
        assert_eq!(c.now(100), Hlc::new(100, 1));
        assert_eq!(c.now(50), Hlc::new(100, 2));
    }

    #[test]
    fn counter_overflow_rolls_into_next_millisecond() {
        let mut c = HlcClock::new();
        c.observe(Hlc::new(100, u32::MAX), 100);
        assert_eq!(c.now(100), Hlc::new(101, 0));
    }

    #[test]
    fn clock_saturates_at_the_maximum_instead_of_overflowing() {
        let max = Hlc::new(u64::MAX, u32::MAX);
        assert_eq!(max.successor(), max);
        let mut c = HlcClock::with_max_skew(u64::MAX);
        c.observe(max, u64::MAX);
        assert_eq!(c.now(u64::MAX), max);
    }

    #[test]
    fn observe_within_skew_moves_clock_to_remote() {
        let mut c = HlcClock::new();
        c.observe(Hlc::new(1_030, 4), 1_000);
        assert_eq!(c.last(), Hlc::new(1_030, 4));
        assert_eq!(c.now(1_000), Hlc::new(1_030, 5));
    }

    #[test]
    fn observe_never_moves_clock_backwards() {
        let mut c = HlcClock::new();
        c.now(5_000);
        c.observe(Hlc::new(10, 0), 5_000);
        assert_eq!(c.last(), Hlc::new(5_000, 0));
    }

    #[test]
    fn observing_a_year_ahead_moves_clock_at_most_max_skew_ahead() {
        let wall = 1_700_000_000_000;
        let mut c = HlcClock::new();
        c.observe(Hlc::new(wall + YEAR_MS, 0), wall);
        assert_eq!(c.last(), Hlc::new(wall + HlcClock::DEFAULT_MAX_SKEW_MS, 0));
        let t = c.now(wall);
        assert!(t.wall_ms <= wall + HlcClock::DEFAULT_MAX_SKEW_MS);
    }

    #[derive(Clone, Debug)]
    enum Event {
        Now(u64),
        Observe(Hlc, u64),
    }

    fn arb_event() -> impl Strategy<Value = Event> {
        let wall = 0..10_000u64;
        prop_oneof![
            wall.clone().prop_map(Event::Now),
            (0..100_000u64, any::<u32>(), wall)
                .prop_map(|(w, c, wall)| Event::Observe(Hlc::new(w, c), wall)),
        ]
    }

    proptest! {
        #[test]
        fn now_is_strictly_monotone_and_at_least_wall(
            events in prop::collection::vec(arb_event(), 1..50),
            skew in 0..5_000u64,
        ) {
            let mut c = HlcClock::with_max_skew(skew);
            for e in events {
                let before = c.last();
                match e {
                    Event::Now(wall) => {
                        let t = c.now(wall);
                        prop_assert!(t > before);
                        prop_assert!(t.wall_ms >= wall);
                        prop_assert_eq!(c.last(), t);
                    }
                    Event::Observe(remote, wall) => {
                        c.observe(remote, wall);
                        prop_assert!(c.last() >= before);
                        // The clamp: never pushed past wall + skew by a peer.
                        prop_assert!(
                            c.last().wall_ms <= before.wall_ms.max(wall + skew)
                        );
                        if remote.wall_ms <= wall + skew {
                            prop_assert!(c.last() >= remote);
                        }
                    }
                }
            }
        }
    }
}
