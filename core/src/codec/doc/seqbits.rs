//! The id checks of decode for dense ids: one bit per sequence number of
//! each replica, so a span or history record marks its range with a few
//! word operations instead of taking part in a sort by id. It runs when
//! the bitmaps are no larger than the input needs anyway (a span or record
//! per 64 ids at least); sparse ids, which a short hostile input can make
//! huge, take the sorted checks.

use crate::crdt::rga::span::Span;
use crate::doc::AgentLog;
use crate::ids::Seq;

/// Whether the bitmaps for `next` are small beside `items` (spans and
/// history records): one 64-bit word of each per item at most.
pub(super) fn fits(next: &[Seq], items: usize) -> bool {
    let ids: u64 = next.iter().map(|&e| u64::from(e)).sum();
    ids / 64 <= items as u64
}

/// Whether every sequence number below `next[agent]` is used exactly once,
/// by a span or a history record, and every delete targets deleted
/// characters only: what the sorted checks verify. `false` only says
/// something is wrong; the sorted checks then say what.
pub(super) fn ids_ok<'a>(
    spans: impl Iterator<Item = &'a Span>,
    logs: &[AgentLog],
    next: &[Seq],
) -> bool {
    let mut base = Vec::with_capacity(next.len());
    let mut words = 0usize;
    for &end in next {
        base.push(words * 64);
        words += (end as usize).div_ceil(64);
    }
    // The bit of `(agent, seq)` when `seq + len` stays within the replica.
    let range = |agent: usize, seq: Seq, len: u32| {
        let end = u64::from(seq) + u64::from(len);
        let b = *base.get(agent)?;
        (end <= u64::from(next[agent])).then(|| (b + seq as usize, b + end as usize))
    };
    let mut used = Bits(vec![0; words]);
    let mut deleted = Bits(vec![0; words]);
    let mut total = 0u64;
    for s in spans {
        let Some((lo, hi)) = range(s.agent as usize, s.seq, s.len) else {
            return false;
        };
        if !used.set_fresh(lo, hi) {
            return false;
        }
        if s.deleted {
            deleted.set_fresh(lo, hi);
        }
        total += u64::from(s.len);
    }
    for (a, log) in logs.iter().enumerate().take(next.len()) {
        for op in &log.ops {
            let Some((lo, hi)) = range(a, op.seq, op.len) else {
                return false;
            };
            if !used.set_fresh(lo, hi) {
                return false;
            }
            total += u64::from(op.len);
        }
    }
    // No range overlaps another and all lie below `next`: the counts
    // match exactly when nothing is missing.
    if total != next.iter().map(|&e| u64::from(e)).sum::<u64>() {
        return false;
    }
    for op in logs.iter().flat_map(|l| &l.ops) {
        if let Some(lo) = op.delete_range() {
            match range(lo.agent as usize, lo.seq, op.len) {
                Some((lo, hi)) if deleted.all_set(lo, hi) => {}
                _ => return false,
            }
        }
    }
    true
}

/// A bitmap.
struct Bits(Vec<u64>);

impl Bits {
    /// The words holding bits `lo..hi` (`lo < hi`), and the masks of the
    /// bits in the first and the last of them.
    #[inline]
    fn span(lo: usize, hi: usize) -> (usize, usize, u64, u64) {
        let first = !0u64 << (lo % 64);
        let last = !0u64 >> (63 - (hi - 1) % 64);
        (lo / 64, (hi - 1) / 64, first, last)
    }

    /// Sets bits `lo..hi`; false (and some set) if any already was.
    #[inline]
    fn set_fresh(&mut self, lo: usize, hi: usize) -> bool {
        if lo >= hi {
            return true;
        }
        let (w0, w1, first, last) = Self::span(lo, hi);
        let Some(words) = self.0.get_mut(w0..=w1) else {
            return false;
        };
        let n = words.len() - 1;
        if n == 0 {
            let m = first & last;
            let clash = words[0] & m;
            words[0] |= m;
            return clash == 0;
        }
        let mut clash = words[0] & first | words[n] & last;
        words[0] |= first;
        words[n] |= last;
        for w in &mut words[1..n] {
            clash |= *w;
            *w = !0;
        }
        clash == 0
    }

    /// Whether bits `lo..hi` are all set.
    fn all_set(&self, lo: usize, hi: usize) -> bool {
        if lo >= hi {
            return true;
        }
        let (w0, w1, first, last) = Self::span(lo, hi);
        let Some(words) = self.0.get(w0..=w1) else {
            return false;
        };
        let n = words.len() - 1;
        if n == 0 {
            return words[0] & first & last == first & last;
        }
        words[0] & first == first && words[n] & last == last && words[1..n].iter().all(|&w| w == !0)
    }
}

#[cfg(test)]
mod tests {
    use super::Bits;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn bits_behave_like_a_set(ranges in proptest::collection::vec((0usize..300, 0usize..150), 1..30)) {
            let mut bits = Bits(vec![0; 8]);
            let mut naive = [false; 512];
            for (lo, len) in ranges {
                let hi = lo + len;
                let was_all = naive[lo..hi].iter().all(|&b| b);
                prop_assert_eq!(bits.all_set(lo, hi), was_all);
                let fresh = naive[lo..hi].iter().all(|&b| !b);
                prop_assert_eq!(bits.set_fresh(lo, hi), fresh);
                naive[lo..hi].iter_mut().for_each(|b| *b = true);
                prop_assert!(bits.all_set(lo, hi));
            }
            for (i, &b) in naive.iter().enumerate() {
                prop_assert_eq!(bits.0[i / 64] >> (i % 64) & 1 == 1, b);
            }
        }
    }

    #[test]
    fn out_of_range_is_refused() {
        let mut bits = Bits(vec![0; 2]);
        assert!(!bits.set_fresh(100, 129));
        assert!(!bits.all_set(127, 129));
        assert!(bits.set_fresh(0, 128));
        assert!(bits.all_set(0, 128));
    }
}
