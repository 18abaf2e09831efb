//! Rank queries on sorted keys in O(1) on typical input: where each bucket
//! of `1 << shift` key values starts. The table has at most about twice as
//! many entries as there are keys whatever their range, so hostile input
//! cannot make it large, and a crowded bucket only costs a binary search.

use crate::crdt::rga::span::{Agent, Span};
use crate::crdt::rga::BulkSpans;
use crate::ids::Seq;

pub(super) struct Buckets {
    shift: u32,
    /// `starts[b]`: how many keys are in buckets below `b`.
    starts: Vec<u32>,
}

impl Buckets {
    /// Indexes `items`, whose keys are ascending and at most `max`.
    pub fn new<T>(items: &[T], key: impl Fn(&T) -> u32, max: u32) -> Self {
        let n = items.len() as u64;
        let mut shift = 0;
        while u64::from(max) >> shift > 2 * n {
            shift += 1;
        }
        let buckets = (u64::from(max) >> shift) as usize + 1;
        let mut starts = Vec::with_capacity(buckets + 1);
        for (i, t) in items.iter().enumerate() {
            let b = ((u64::from(key(t)) >> shift) as usize).min(buckets);
            if starts.len() <= b {
                starts.resize(b + 1, i as u32);
            }
        }
        starts.resize(buckets + 1, items.len() as u32);
        Buckets { shift, starts }
    }

    /// How many of `items` (those given to [`Buckets::new`]) have a key at
    /// most `x`.
    #[inline]
    pub fn count_le<T>(&self, items: &[T], key: impl Fn(&T) -> u32, x: u32) -> usize {
        let b = (u64::from(x) >> self.shift) as usize;
        match (self.starts.get(b), self.starts.get(b + 1)) {
            (Some(&lo), Some(&hi)) => {
                let (lo, hi) = (lo as usize, hi as usize);
                lo + items
                    .get(lo..hi)
                    .map_or(0, |s| count_sorted(s, |t| key(t) <= x))
            }
            _ => items.partition_point(|t| key(t) <= x),
        }
    }
}

/// How many of `items` satisfy `pred`, which holds for a prefix of them:
/// a bucket holds a few items at most (unless the input is hostile), and
/// scanning them is quicker than a binary search.
#[inline]
fn count_sorted<T>(items: &[T], pred: impl Fn(&T) -> bool) -> usize {
    if items.len() <= 8 {
        items.iter().take_while(|t| pred(t)).count()
    } else {
        items.partition_point(pred)
    }
}

/// A span in [`ById`]: what the checks need of it, so they never look up
/// the span itself (a random access in wasm, through its leaf).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Entry {
    pub seq: Seq,
    /// `len | deleted << 31` (lengths are at most `MAX_SEQ`).
    run: u32,
    /// The span's index in document order.
    pub index: u32,
}

impl Entry {
    fn new(s: &Span, index: u32) -> Self {
        Entry {
            seq: s.seq,
            run: s.len | u32::from(s.deleted) << 31,
            index,
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
pub(super) struct ById {
    pub sorted: Vec<Entry>,
    shift: u32,
    /// Per replica, its first bucket; one more entry for the end.
    base: Vec<usize>,
    /// Per bucket, the index in `sorted` of its first span; one more entry.
    starts: Vec<u32>,
}

impl ById {
    /// Sorts `spans`, whose ids must be below `next[agent]`: a counting
    /// sort by bucket, then a sort inside each crowded bucket. Valid spans
    /// do not overlap, so buckets hold about one span each.
    pub fn new(spans: &BulkSpans, next: &[Seq]) -> Self {
        let total: u64 = next.iter().map(|&e| u64::from(e)).sum();
        let mut shift = 0;
        while total >> shift > spans.len() as u64 {
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
        for s in spans.chunks().flatten() {
            starts[bucket(s) + 1] += 1;
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        // Each bucket's start moves to its end as it fills, so `starts`
        // ends up one bucket ahead; shifting it back needs no second table.
        let mut sorted = vec![Entry::default(); spans.len()];
        for (i, s) in (0..).zip(spans.chunks().flatten()) {
            let slot = &mut starts[bucket(s)];
            sorted[*slot as usize] = Entry::new(s, i);
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
            let leaves = mine
                .iter()
                .map(|e| (e.seq, BulkSpans::leaf_of(e.index as usize)));
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

/// Sorts a bucket: insertion sort for the usual few entries, heapsort for
/// crowded (hostile) ones. Smaller in wasm than `sort_unstable`.
fn sort_small(v: &mut [Entry]) {
    // Ties (overlapping spans, rejected later) by index: deterministic.
    let key = |e: &Entry| (e.seq, e.index);
    if v.len() <= 16 {
        for i in 1..v.len() {
            let mut j = i;
            while j > 0 && key(&v[j - 1]) > key(&v[j]) {
                v.swap(j - 1, j);
                j -= 1;
            }
        }
        return;
    }
    let sift = |v: &mut [Entry], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            break;
        }
        if child + 1 < end && key(&v[child]) < key(&v[child + 1]) {
            child += 1;
        }
        if key(&v[root]) >= key(&v[child]) {
            break;
        }
        v.swap(root, child);
        root = child;
    };
    for i in (0..v.len() / 2).rev() {
        sift(v, i, v.len());
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        sift(v, 0, end);
    }
}

#[cfg(test)]
mod tests {
    use super::{Buckets, ById, Entry};
    use crate::crdt::rga::span::ItemId;
    use crate::crdt::rga::span::{Span, NO_CONTENT, ROOT_AGENT};
    use crate::crdt::rga::BulkSpans;
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
        fn counts_like_a_binary_search(
            mut keys in proptest::collection::vec(any::<u32>(), 0..40),
            max in any::<u32>(),
            queries in proptest::collection::vec(any::<u32>(), 1..20),
        ) {
            keys.sort_unstable();
            let b = Buckets::new(&keys, |&k| k, max);
            prop_assert!(b.starts.len() <= 2 * keys.len() + 3);
            for x in queries.into_iter().chain(keys.iter().copied()) {
                let want = keys.partition_point(|&k| k <= x);
                prop_assert_eq!(b.count_le(&keys, |&k| k, x), want);
            }
        }

        #[test]
        fn sort_small_sorts(v in proptest::collection::vec((0u32..50, any::<u32>()), 0..60)) {
            let mut want = v.clone();
            want.sort_unstable();
            let mut entries: Vec<Entry> = v
                .iter()
                .map(|&(seq, index)| Entry { seq, run: 1, index })
                .collect();
            super::sort_small(&mut entries);
            let got: Vec<(u32, u32)> = entries.iter().map(|e| (e.seq, e.index)).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn dense_small_keys(len in 0usize..50, max in 0u32..200) {
            let keys: Vec<u32> = (0..len as u32).map(|k| k.min(max)).collect();
            let b = Buckets::new(&keys, |&k| k, max);
            for x in 0..=max + 1 {
                prop_assert_eq!(b.count_le(&keys, |&k| k, x), keys.partition_point(|&k| k <= x));
            }
        }

        #[test]
        fn by_id_sorts_and_finds_like_a_binary_search(
            next in proptest::collection::vec(1u32..300, 1..4),
            picks in proptest::collection::vec((0usize..4, any::<u32>()), 0..60),
            queries in proptest::collection::vec((0u32..5, 0u32..320), 1..30),
        ) {
            let mut spans = BulkSpans::with_capacity(picks.len());
            for &(a, s) in &picks {
                let a = a % next.len();
                spans.push(span(a as u32, s % next[a]));
            }
            let by_id = ById::new(&spans, &next);
            let mut want: Vec<(u64, u32)> = spans
                .chunks()
                .flatten()
                .enumerate()
                .map(|(i, s)| (u64::from(s.agent) << 32 | u64::from(s.seq), i as u32))
                .collect();
            want.sort_unstable();
            let sorted: Vec<(u64, u32)> = by_id
                .sorted
                .iter()
                .map(|e| (u64::from(spans[e.index as usize].agent) << 32 | u64::from(e.seq), e.index))
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
