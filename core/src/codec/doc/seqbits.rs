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
/// something is wrong; the sorted checks then say what. `spans` come leaf
/// by leaf.
pub(super) fn ids_ok<'a>(
    spans: impl Iterator<Item = &'a [Span]>,
    logs: &[AgentLog],
    next: &[Seq],
) -> bool {
    // Per replica, the bit of its seq 0 and its operation count: one
    // lookup (and one bounds check) per range.
    let mut at = Vec::with_capacity(next.len());
    let mut ids = 0usize;
    let mut expected = 0u64;
    for &end in next {
        at.push((ids, u64::from(end)));
        ids += (end as usize).div_ceil(64) * 64;
        expected += u64::from(end);
    }
    // The bits of `(agent, seq..seq + len)` when the range stays within
    // the replica's ids.
    let range = |agent: usize, seq: Seq, len: u32| {
        let &(base, end) = at.get(agent)?;
        let hi = u64::from(seq) + u64::from(len);
        (hi <= end).then(|| (base + seq as usize, base + hi as usize))
    };
    let mut bits = Bits::new(ids / 64);
    // Clashes are collected, not tested per range: one branch less in
    // the loops, and any clash fails the check all the same.
    let mut clash = 0u64;
    let mut total = 0u64;
    for leaf in spans {
        for s in leaf {
            let Some((lo, hi)) = range(s.agent as usize, s.seq, s.len) else {
                return false;
            };
            clash |= bits.mark(lo, hi, s.deleted);
            total += u64::from(s.len);
        }
    }
    // Every span is marked, so the deleted bits are final: each record
    // is marked and its delete targets checked in one pass.
    for (a, log) in logs.iter().enumerate().take(next.len()) {
        for op in &log.ops {
            let Some((lo, hi)) = range(a, op.seq, op.len) else {
                return false;
            };
            clash |= bits.mark(lo, hi, false);
            total += u64::from(op.len);
            if let Some(t) = op.delete_range() {
                match range(t.agent as usize, t.seq, op.len) {
                    Some((lo, hi)) if bits.all_deleted(lo, hi) => {}
                    _ => return false,
                }
            }
        }
    }
    // No range overlaps another and all lie below `next`: the counts
    // match exactly when nothing is missing.
    clash == 0 && total == expected
}

/// Per 64 ids, a word of used bits and a word of deleted bits: a span
/// marks both in one pass over its words.
struct Bits(Vec<u64>);

impl Bits {
    /// For `words * 64` ids, none used.
    fn new(words: usize) -> Self {
        Bits(vec![0; 2 * words])
    }

    /// The word pairs holding ids `lo..hi` (`lo < hi`), and the masks of
    /// the ids in the first and the last of them.
    #[inline]
    fn span(lo: usize, hi: usize) -> (usize, usize, u64, u64) {
        let first = !0u64 << (lo % 64);
        let last = !0u64 >> (63 - (hi - 1) % 64);
        (2 * (lo / 64), 2 * ((hi - 1) / 64) + 2, first, last)
    }

    /// Marks ids `lo..hi` used, and deleted too if `deleted`; returns the
    /// bits of those already used (nonzero if any was).
    #[inline]
    fn mark(&mut self, lo: usize, hi: usize, deleted: bool) -> u64 {
        if lo >= hi {
            return 0;
        }
        let (w0, w1, first, last) = Self::span(lo, hi);
        let Some(words) = self.0.get_mut(w0..w1) else {
            return !0;
        };
        let del = 0u64.wrapping_sub(u64::from(deleted));
        // Most runs lie within one word.
        if let [used, dead] = words {
            let m = first & last;
            let clash = *used & m;
            *used |= m;
            *dead |= m & del;
            return clash;
        }
        let n = words.len() / 2 - 1;
        let mut clash = 0;
        for (i, w) in words.chunks_exact_mut(2).enumerate() {
            let m = word_mask(i, n, first, last);
            clash |= w[0] & m;
            w[0] |= m;
            w[1] |= m & del;
        }
        clash
    }

    /// Whether ids `lo..hi` are all deleted.
    fn all_deleted(&self, lo: usize, hi: usize) -> bool {
        if lo >= hi {
            return true;
        }
        let (w0, w1, first, last) = Self::span(lo, hi);
        let Some(words) = self.0.get(w0..w1) else {
            return false;
        };
        let n = words.len() / 2 - 1;
        (0..).zip(words.chunks_exact(2)).all(|(i, w)| {
            let m = word_mask(i, n, first, last);
            w[1] & m == m
        })
    }

    /// Whether id `i` is used and whether it is deleted.
    #[cfg(test)]
    fn get(&self, i: usize) -> (bool, bool) {
        let w = 2 * (i / 64);
        (
            self.0[w] >> (i % 64) & 1 == 1,
            self.0[w + 1] >> (i % 64) & 1 == 1,
        )
    }
}

/// The mask of the ids in word `i` of a run over words `0..=n`: `first`
/// in the first word, `last` in the last, all bits between.
#[inline]
fn word_mask(i: usize, n: usize, first: u64, last: u64) -> u64 {
    (if i == 0 { first } else { !0 }) & if i == n { last } else { !0 }
}

#[cfg(test)]
mod tests {
    use super::Bits;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn bits_behave_like_two_sets(
            ranges in proptest::collection::vec((0usize..300, 0usize..150, any::<bool>()), 1..30),
        ) {
            let mut bits = Bits::new(8);
            let mut used = [false; 512];
            let mut deleted = [false; 512];
            for (lo, len, del) in ranges {
                let hi = lo + len;
                prop_assert_eq!(bits.all_deleted(lo, hi), deleted[lo..hi].iter().all(|&b| b));
                let fresh = used[lo..hi].iter().all(|&b| !b);
                prop_assert_eq!(bits.mark(lo, hi, del) == 0, fresh);
                used[lo..hi].iter_mut().for_each(|b| *b = true);
                if del {
                    deleted[lo..hi].iter_mut().for_each(|b| *b = true);
                    prop_assert!(bits.all_deleted(lo, hi));
                }
            }
            for i in 0..512 {
                prop_assert_eq!(bits.get(i), (used[i], deleted[i]));
            }
        }
    }

    #[test]
    fn out_of_range_is_refused() {
        let mut bits = Bits::new(2);
        assert_ne!(bits.mark(100, 129, true), 0);
        assert!(!bits.all_deleted(127, 129));
        assert_eq!(bits.mark(0, 128, true), 0);
        assert!(bits.all_deleted(0, 128));
        assert_ne!(bits.mark(5, 6, false), 0);
    }
}
