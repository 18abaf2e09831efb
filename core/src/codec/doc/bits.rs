//! The Lamport predictor lookup of encode and decode: which sequence numbers a replica's
//! history (non-insert operations) took, as a bitmap with a running count
//! per 64-bit word, so a lookup is two loads and a popcount instead of a
//! search with branches that spans in document order keep mispredicting.

use super::spans::InsertCount;
use crate::doc::LogOp;
use crate::ids::Seq;

/// Per 64 sequence numbers: how many of those below the history took, and
/// a word whose bit `k` is set when it took the `k`-th.
pub(super) struct HistoryBits(Vec<(u32, u64)>);

impl HistoryBits {
    /// For `ops` in seq order, all ending at or before `next`. `None` when
    /// the bitmap would be large next to the history (16 bytes per 64
    /// sequence numbers; sparse ids), where [`InsertCount`] is the fit:
    /// at most 64 bytes per operation, so a decoded history of hostile
    /// counts cannot make it large.
    pub fn new(ops: &[LogOp], next: Seq) -> Option<Self> {
        let len = next as usize / 64 + 1;
        if len > 4 * ops.len() {
            return None;
        }
        let mut words = vec![(0u32, 0u64); len];
        for op in ops {
            let mut at = op.seq as usize;
            let stop = (at + op.len as usize).min(len * 64);
            while at < stop {
                let n = (64 - at % 64).min(stop - at);
                words[at / 64].1 |= (u64::MAX >> (64 - n)) << (at % 64);
                at += n;
            }
        }
        let mut taken = 0;
        for w in &mut words {
            w.0 = taken;
            taken += w.1.count_ones();
        }
        Some(HistoryBits(words))
    }

    /// Characters the replica inserted before `seq`, like
    /// [`InsertCount::before`] for a `seq` no history operation straddles
    /// (the first id of a span; past `next`, where no span starts, the
    /// answer is `seq`).
    #[inline]
    pub fn before(&self, seq: Seq) -> i64 {
        let (below, word) = self.0.get(seq as usize / 64).copied().unwrap_or_default();
        let taken = below + (word & ((1u64 << (seq % 64)) - 1)).count_ones();
        i64::from(seq) - i64::from(taken)
    }
}

/// The lookup: the bitmap, or the bucket index for sparse histories.
pub(super) enum Predictor {
    Dense(HistoryBits),
    Sparse(InsertCount),
}

impl Predictor {
    pub fn new(ops: &[LogOp], next: Seq) -> Self {
        match HistoryBits::new(ops, next) {
            Some(bits) => Predictor::Dense(bits),
            None => Predictor::Sparse(InsertCount::new(ops, next)),
        }
    }

    /// Inlined: once per span in decode, where wasm made it a call.
    #[inline(always)]
    pub fn before(&self, seq: Seq) -> i64 {
        match self {
            Predictor::Dense(bits) => bits.before(seq),
            Predictor::Sparse(count) => sparse_before(count, seq),
        }
    }
}

/// The sparse lookup, out of line: rare, and larger.
#[inline(never)]
fn sparse_before(count: &InsertCount, seq: Seq) -> i64 {
    count.before(seq)
}

#[cfg(test)]
mod tests {
    use super::{HistoryBits, InsertCount};
    use crate::crdt::rga::span::ItemId;
    use crate::doc::{LogKind, LogOp};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn bits_count_like_the_bucket_index(
            runs in proptest::collection::vec((0u32..80, 1u32..150), 1..40),
            queries in proptest::collection::vec(0u32..5000, 1..40),
        ) {
            // History runs separated by insert gaps; queries are insert seqs.
            let mut ops = Vec::new();
            let mut inserts = Vec::new();
            let mut seq = 0;
            for (gap, len) in runs {
                inserts.extend(seq..seq + gap);
                seq += gap;
                let target = ItemId { agent: 0, seq: 0 };
                let kind = LogKind::Delete { target, reversed: false };
                ops.push(LogOp { seq, len, kind });
                seq += len;
            }
            inserts.extend(seq..seq + 10);
            let next = seq + 10;
            let bits = HistoryBits::new(&ops, next).expect("dense");
            let count = InsertCount::new(&ops, next);
            for q in queries {
                let q = inserts[q as usize % inserts.len()];
                prop_assert_eq!(bits.before(q), count.before(q));
            }
        }
    }

    #[test]
    fn sparse_histories_get_no_bitmap() {
        let target = ItemId { agent: 0, seq: 0 };
        let kind = LogKind::Delete {
            target,
            reversed: false,
        };
        let ops = [LogOp {
            seq: 0,
            len: 1,
            kind,
        }];
        assert!(HistoryBits::new(&ops, 4 * 64 - 1).is_some());
        assert!(HistoryBits::new(&ops, 4 * 64).is_none());
        assert!(HistoryBits::new(&[], 0).is_none());
    }
}
