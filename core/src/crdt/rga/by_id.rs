//! Every span by id: a sort of the spans in document order by replica and
//! sequence number, for the checks decode runs and for building the id
//! index from the spans.

use super::span::{Agent, Span};
use crate::ids::Seq;
use crate::sort::sort_unstable_by_key;

/// A span in [`ById`]: what the checks need of it, so they never look up
/// the span itself (a random access in wasm, through its leaf).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    pub seq: Seq,
    /// `len | deleted << 31` (lengths are at most `MAX_SEQ`).
    run: u32,
    /// The leaf holding the span.
    pub leaf: u32,
}

impl Entry {
    fn new(s: &Span, leaf: u32) -> Self {
        Entry {
            seq: s.seq,
            run: s.len | u32::from(s.deleted) << 31,
            leaf,
        }
    }

    pub fn len(&self) -> u32 {
        self.run & !(1 << 31)
    }

    pub fn deleted(&self) -> bool {
        self.run >> 31 != 0
    }
}

/// Every span by id: its entry, sorted by agent, then seq, with buckets of
/// `1 << shift` sequence numbers per replica for lookups. A bucket holds
/// one replica's spans only, so the agent need not be stored.
pub(crate) struct ById {
    pub sorted: Vec<Entry>,
    shift: u32,
    /// Per replica, its first bucket; one more entry for the end.
    base: Vec<usize>,
    /// Per bucket, the index in `sorted` of its first span; one more entry.
    starts: Vec<u32>,
}

impl ById {
    /// Sorts the spans of `leaves` (each with its leaf), whose ids must be
    /// below `next[agent]`: a counting sort by bucket, then a sort inside
    /// each crowded bucket. Valid spans do not overlap, so buckets hold
    /// about one span each.
    pub fn new(leaves: &[(u32, &[Span])], next: &[Seq]) -> Self {
        let spans = || {
            leaves
                .iter()
                .flat_map(|&(l, s)| s.iter().map(move |s| (l, s)))
        };
        let count = leaves.iter().map(|(_, s)| s.len()).sum::<usize>();
        let total: u64 = next.iter().map(|&e| u64::from(e)).sum();
        let mut shift = 0;
        while total >> shift > count as u64 {
            shift += 1;
        }
        let mut base = Vec::with_capacity(next.len() + 1);
        let mut buckets = 0;
        for &end in next {
            base.push(buckets);
            buckets += (u64::from(end) >> shift) as usize + 1;
        }
        base.push(buckets);
        let bucket = |s: &Span| base[s.agent as usize] + (u64::from(s.seq) >> shift) as usize;
        let mut starts = vec![0u32; buckets + 1];
        for (_, s) in spans() {
            starts[bucket(s) + 1] += 1;
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        // Each bucket's start moves to its end as it fills, so `starts`
        // ends up one bucket ahead; shifting it back needs no second table.
        let mut sorted = vec![Entry::default(); count];
        for (leaf, s) in spans() {
            let slot = &mut starts[bucket(s)];
            sorted[*slot as usize] = Entry::new(s, leaf);
            *slot += 1;
        }
        starts.copy_within(..buckets, 1);
        starts[0] = 0;
        for w in starts.windows(2) {
            if w[1] - w[0] > 1 {
                sort_small(&mut sorted[w[0] as usize..w[1] as usize]);
            }
        }
        ById {
            sorted,
            shift,
            base,
            starts,
        }
    }

    /// The entries of `agent`'s spans, by seq.
    pub fn of_agent(&self, agent: usize) -> &[Entry] {
        let (first, end) = (self.base[agent], self.base[agent + 1]);
        &self.sorted[self.starts[first] as usize..self.starts[end] as usize]
    }

    /// Per replica, `(seq, leaf)` where a run of its spans in one leaf
    /// starts (what the id index holds), each sized exactly; the tables
    /// are freed first.
    pub fn into_leaf_runs(self) -> Vec<Vec<(Seq, u32)>> {
        let ById {
            sorted,
            mut base,
            starts,
            ..
        } = self;
        // `base` becomes where each replica's entries start in `sorted`.
        for b in &mut base {
            *b = starts[*b] as usize;
        }
        drop(starts);
        let mut out = Vec::with_capacity(base.len());
        for w in base.windows(2) {
            let mine = &sorted[w[0]..w[1]];
            let leaves = mine.iter().map(|e| (e.seq, e.leaf));
            let mut last = u32::MAX;
            let count = leaves
                .clone()
                .filter(|&(_, l)| core::mem::replace(&mut last, l) != l)
                .count();
            let mut runs = Vec::with_capacity(count);
            last = u32::MAX;
            for (seq, leaf) in leaves {
                if leaf != last {
                    runs.push((seq, leaf));
                    last = leaf;
                }
            }
            out.push(runs);
        }
        out
    }

    /// The index in `sorted` of the last span of `agent` starting at or
    /// before `seq`, if any.
    #[inline]
    pub fn last_at_or_before(&self, agent: Agent, seq: Seq) -> Option<usize> {
        let a = agent as usize;
        let (first, end) = (*self.base.get(a)?, *self.base.get(a + 1)?);
        let b = (first + (u64::from(seq) >> self.shift) as usize).min(end - 1);
        let (lo, hi) = (self.starts[b] as usize, self.starts[b + 1] as usize);
        let i = lo + count_sorted(&self.sorted[lo..hi], |e| e.seq <= seq);
        (i > self.starts[first] as usize).then(|| i - 1)
    }
}

/// Sorts a bucket: insertion sort for the usual few entries, the crate's
/// heapsort for crowded (hostile) ones.
fn sort_small(v: &mut [Entry]) {
    // Ties (overlapping spans, rejected later) by leaf: deterministic.
    let key = |e: &Entry| (e.seq, e.leaf);
    if v.len() > 16 {
        return sort_unstable_by_key(v, key);
    }
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && key(&v[j - 1]) > key(&v[j]) {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// How many of `items` satisfy `pred`, which holds for a prefix of them:
/// a bucket holds a few items at most (unless the input is hostile), and
/// scanning them is quicker than a binary search.
#[inline]
pub(crate) fn count_sorted<T>(items: &[T], pred: impl Fn(&T) -> bool) -> usize {
    if items.len() <= 8 {
        items.iter().take_while(|t| pred(t)).count()
    } else {
        items.partition_point(pred)
    }
}

#[cfg(test)]
mod tests {
    use super::{ById, Entry};
    use crate::crdt::rga::span::ItemId;
    use crate::crdt::rga::span::{Span, NO_CONTENT, ROOT_AGENT};
    use proptest::prelude::*;

    fn span(agent: u32, seq: u32) -> Span {
        Span {
            agent,
            seq,
            len: 1,
            utf16: 1,
            lamport: 1,
            origin: ItemId {
                agent: ROOT_AGENT,
                seq: 0,
            },
            content: NO_CONTENT,
            deleted: false,
        }
    }

    proptest! {
        #[test]
        fn sort_small_sorts(v in proptest::collection::vec((0u32..50, any::<u32>()), 0..60)) {
            let mut want = v.clone();
            want.sort_unstable();
            let mut entries: Vec<Entry> = v
                .iter()
                .map(|&(seq, leaf)| Entry { seq, run: 1, leaf })
                .collect();
            super::sort_small(&mut entries);
            let got: Vec<(u32, u32)> = entries.iter().map(|e| (e.seq, e.leaf)).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn by_id_sorts_and_finds_like_a_binary_search(
            next in proptest::collection::vec(1u32..300, 1..4),
            picks in proptest::collection::vec((0usize..4, any::<u32>()), 0..60),
            queries in proptest::collection::vec((0u32..5, 0u32..320), 1..30),
        ) {
            // Leaves of three spans, numbered backwards: entries carry
            // whatever leaf number they are given.
            let spans: Vec<Span> = picks
                .iter()
                .map(|&(a, s)| {
                    let a = a % next.len();
                    span(a as u32, s % next[a])
                })
                .collect();
            let leaves: Vec<(u32, &[Span])> =
                spans.chunks(3).zip((0..1000u32).rev()).map(|(s, l)| (l, s)).collect();
            let by_id = ById::new(&leaves, &next);
            let mut want: Vec<(u64, u32)> = leaves
                .into_iter()
                .flat_map(|(l, s)| s.iter().map(move |s| (u64::from(s.agent) << 32 | u64::from(s.seq), l)))
                .collect();
            want.sort_unstable();
            let sorted: Vec<(u64, u32)> = (0..next.len())
                .flat_map(|a| by_id.of_agent(a).iter().map(move |e| ((a as u64) << 32 | u64::from(e.seq), e.leaf)))
                .collect();
            prop_assert_eq!(&sorted, &want);
            for (a, seq) in queries {
                let key = u64::from(a) << 32 | u64::from(seq);
                let i = want.partition_point(|&(k, _)| k <= key);
                let naive = (i > 0 && want[i - 1].0 >> 32 == u64::from(a)).then(|| i - 1);
                prop_assert_eq!(by_id.last_at_or_before(a, seq), naive);
            }
        }
    }
}
