//! Rank queries on sorted keys in O(1) on typical input: where each bucket
//! of `1 << shift` key values starts. The table has at most about twice as
//! many entries as there are keys whatever their range, so hostile input
//! cannot make it large, and a crowded bucket only costs a binary search.

use crate::crdt::rga::by_id::count_sorted;

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

#[cfg(test)]
mod tests {
    use super::Buckets;
    use proptest::prelude::*;

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
        fn dense_small_keys(len in 0usize..50, max in 0u32..200) {
            let keys: Vec<u32> = (0..len as u32).map(|k| k.min(max)).collect();
            let b = Buckets::new(&keys, |&k| k, max);
            for x in 0..=max + 1 {
                prop_assert_eq!(b.count_le(&keys, |&k| k, x), keys.partition_point(|&k| k <= x));
            }
        }
    }
}
