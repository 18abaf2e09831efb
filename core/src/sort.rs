//! Small sorts. The standard library's sorts are fast but large (sorting
//! networks, several partition schemes), and each element type and
//! comparator gets its own copy: together they were over a third of the
//! wasm module's sorting and map code. These two are a few hundred bytes
//! each. Both stay O(n log n) in the worst case, since inputs can come from
//! remote deltas.

/// Sorts `v` by `key`; equal keys end up in any order.
pub(crate) fn sort_unstable_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_unstable_by(v, |a, b| key(a) < key(b));
}

/// Sorts `v` ascending by `less` (a strict weak order); equal elements end
/// up in any order. Heapsort: in place, O(n log n) whatever the input.
pub(crate) fn sort_unstable_by<T>(v: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    let n = v.len();
    if n < 2 {
        // Most calls: a keystroke's delta names one replica.
        return;
    }
    // The first n / 2 rounds build a max-heap bottom-up; each later round
    // moves the heap's top (its largest element) to the end of the heap.
    for i in (0..n + n / 2).rev() {
        let (end, node) = if i >= n {
            (n, i - n)
        } else {
            v.swap(0, i);
            (i, 0)
        };
        sift_down(&mut v[..end], node, &mut less);
    }
}

/// Moves `v[node]` down until it is no less than its children.
fn sift_down<T>(v: &mut [T], mut node: usize, less: &mut impl FnMut(&T, &T) -> bool) {
    loop {
        let mut child = 2 * node + 1;
        if child >= v.len() {
            return;
        }
        if child + 1 < v.len() && less(&v[child], &v[child + 1]) {
            child += 1;
        }
        if !less(&v[node], &v[child]) {
            return;
        }
        v.swap(node, child);
        node = child;
    }
}

/// Sorts `v` by `key`, keeping equal keys in their order. Merge sort: needs
/// a buffer of half the slice, and takes O(n) on sorted input.
pub(crate) fn sort_by_key<T: Copy, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    if v.len() < 2 {
        // Most calls (a keystroke's delta); skips the call.
        return;
    }
    merge_sort(v, &mut Vec::new(), &mut |a: &T, b: &T| key(a) < key(b));
}

/// Slices this short are insertion-sorted.
const RUN: usize = 16;

fn merge_sort<T: Copy>(v: &mut [T], buf: &mut Vec<T>, less: &mut impl FnMut(&T, &T) -> bool) {
    let n = v.len();
    if n <= RUN {
        for i in 1..n {
            let mut j = i;
            while j > 0 && less(&v[j], &v[j - 1]) {
                v.swap(j, j - 1);
                j -= 1;
            }
        }
        return;
    }
    let mid = n / 2;
    merge_sort(&mut v[..mid], buf, less);
    merge_sort(&mut v[mid..], buf, less);
    if !less(&v[mid], &v[mid - 1]) {
        return;
    }
    // Merge from the front: the left half waits in `buf`, and the write
    // position never passes the right half's read position.
    buf.clear();
    buf.extend_from_slice(&v[..mid]);
    let (mut i, mut j) = (0, mid);
    for k in 0..n {
        if i == mid {
            // The rest of the right half is already in place.
            return;
        }
        if j < n && less(&v[j], &buf[i]) {
            v[k] = v[j];
            j += 1;
        } else {
            v[k] = buf[i];
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Pairs whose first field is the key and second tells equal keys apart,
    /// so the tests see where ties end up.
    fn inputs() -> impl Strategy<Value = Vec<(u8, u16)>> {
        let keys = prop_oneof![Just(2u8), Just(8), Just(u8::MAX)];
        (keys, 0usize..300, 0u8..4).prop_flat_map(|(max, len, shape)| {
            proptest::collection::vec((0..=max, any::<u16>()), len).prop_map(move |mut v| {
                match shape {
                    1 => v.sort(),
                    2 => v.sort_by(|a, b| b.cmp(a)),
                    _ => {}
                }
                v
            })
        })
    }

    proptest! {
        #[test]
        fn unstable_sort_by_key_orders_like_std(mut v in inputs()) {
            let mut want = v.clone();
            want.sort_by_key(|p| p.0);
            sort_unstable_by_key(&mut v, |p| p.0);
            // The same keys in the same order, and the same elements.
            let keys = |v: &[(u8, u16)]| v.iter().map(|p| p.0).collect::<Vec<_>>();
            prop_assert_eq!(keys(&v), keys(&want));
            v.sort();
            want.sort();
            prop_assert_eq!(v, want);
        }

        #[test]
        fn unstable_sort_by_matches_std_on_whole_elements(mut v in inputs()) {
            let mut want = v.clone();
            want.sort_unstable();
            sort_unstable_by(&mut v, |a, b| a < b);
            prop_assert_eq!(v, want);
        }

        #[test]
        fn stable_sort_by_key_matches_std(mut v in inputs()) {
            let mut want = v.clone();
            want.sort_by_key(|p| p.0);
            sort_by_key(&mut v, |p| p.0);
            prop_assert_eq!(v, want);
        }

        #[test]
        fn reversed_key_sorts_descending(mut v in inputs()) {
            let mut want = v.clone();
            want.sort_by_key(|p| core::cmp::Reverse(p.0));
            sort_by_key(&mut v, |p| core::cmp::Reverse(p.0));
            prop_assert_eq!(&v, &want);
            sort_unstable_by_key(&mut v, |p| core::cmp::Reverse(p.0));
            prop_assert!(v.windows(2).all(|w| w[0].0 >= w[1].0));
        }
    }

    #[test]
    fn short_slices_sort() {
        let mut empty: [u8; 0] = [];
        sort_unstable_by(&mut empty, |a, b| a < b);
        sort_by_key(&mut empty, |&x| x);
        let mut one = [7];
        sort_unstable_by(&mut one, |a, b| a < b);
        assert_eq!(one, [7]);
        let mut two = [(1, 0), (0, 1)];
        sort_by_key(&mut two, |p| p.0);
        assert_eq!(two, [(0, 1), (1, 0)]);
    }
}
