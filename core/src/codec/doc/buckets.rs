//! Rank queries on sorted keys in O(1) on typical input: where each bucket
//! of `1 << shift` key values starts. The table has at most about twice as
//! many entries as there are keys whatever their range, so hostile input
//! cannot make it large, and a crowded bucket only costs a binary search.

use crate::crdt::rga::span::{Agent, Span};
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
                match items.get(lo..hi) {
                    // Buckets hold about one key: scan them.
                    Some(s) if s.len() <= 4 => lo + s.iter().take_while(|t| key(t) <= x).count(),
                    Some(s) => lo + s.partition_point(|t| key(t) <= x),
                    None => lo,
                }
            }
            _ => items.partition_point(|t| key(t) <= x),
        }
    }
}

/// Every span by id: `(agent << 32 | seq, span index)` sorted, with
/// buckets of `1 << shift` sequence numbers per replica for lookups.
pub(super) struct ById {
    pub sorted: Vec<(u64, u32)>,
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
    pub fn new(spans: &[Span], next: &[Seq]) -> Self {
        let total: u64 = next.iter().map(|&e| u64::from(e)).sum();
        let mut shift = 0;
        while total >> shift > 2 * spans.len() as u64 {
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
        for s in spans {
            starts[bucket(s) + 1] += 1;
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        let mut at = starts.clone();
        let mut sorted = vec![(0u64, 0u32); spans.len()];
        for (i, s) in spans.iter().enumerate() {
            let slot = &mut at[bucket(s)];
            sorted[*slot as usize] = (u64::from(s.agent) << 32 | u64::from(s.seq), i as u32);
            *slot += 1;
        }
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

    /// The index in `sorted` of the last span of `agent` starting at or
    /// before `seq`, if any.
    #[inline]
    pub fn last_at_or_before(&self, agent: Agent, seq: Seq) -> Option<usize> {
        let a = agent as usize;
        let (first, end) = (*self.base.get(a)?, *self.base.get(a + 1)?);
        let b = (first + (u64::from(seq) >> self.shift) as usize).min(end - 1);
        let (lo, hi) = (self.starts[b] as usize, self.starts[b + 1] as usize);
        let key = u64::from(agent) << 32 | u64::from(seq);
        let i = lo + self.sorted[lo..hi].partition_point(|&(k, _)| k <= key);
        (i > self.starts[first] as usize).then(|| i - 1)
    }
}

/// Sorts a bucket: insertion sort for the usual few entries, heapsort for
/// crowded (hostile) ones. Smaller in wasm than `sort_unstable`.
fn sort_small(v: &mut [(u64, u32)]) {
    if v.len() <= 16 {
        for i in 1..v.len() {
            let mut j = i;
            while j > 0 && v[j - 1] > v[j] {
                v.swap(j - 1, j);
                j -= 1;
            }
        }
        return;
    }
    let sift = |v: &mut [(u64, u32)], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            break;
        }
        if child + 1 < end && v[child] < v[child + 1] {
            child += 1;
        }
        if v[root] >= v[child] {
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
    use super::{Buckets, ById};
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
        fn sort_small_sorts(mut v in proptest::collection::vec((0u64..50, any::<u32>()), 0..60)) {
            let mut want = v.clone();
            want.sort_unstable();
            super::sort_small(&mut v);
            prop_assert_eq!(v, want);
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
            let spans: Vec<Span> = picks
                .iter()
                .map(|&(a, s)| {
                    let a = a % next.len();
                    span(a as u32, s % next[a])
                })
                .collect();
            let by_id = ById::new(&spans, &next);
            let mut want: Vec<(u64, u32)> = spans
                .iter()
                .enumerate()
                .map(|(i, s)| (u64::from(s.agent) << 32 | u64::from(s.seq), i as u32))
                .collect();
            want.sort_unstable();
            prop_assert_eq!(&by_id.sorted, &want);
            for (a, seq) in queries {
                let key = u64::from(a) << 32 | u64::from(seq);
                let i = want.partition_point(|&(k, _)| k <= key);
                let naive = (i > 0 && want[i - 1].0 >> 32 == u64::from(a)).then(|| i - 1);
                prop_assert_eq!(by_id.last_at_or_before(a, seq), naive);
            }
        }
    }
}
