//! Small shared containers.

/// A map kept as a vector sorted by key: binary search to find, shifts to
/// insert and remove. For the small maps of presence and undo it is as fast
/// as a `BTreeMap` and compiles to far less code, which counts in the wasm
/// binary (every `BTreeMap<K, V>` instantiation adds several KiB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VecMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord + Copy, V> VecMap<K, V> {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn find(&self, key: &K) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.cmp(key))
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.find(key).ok().map(|i| &mut self.entries[i].1)
    }

    /// Inserts or replaces; returns the previous value.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(core::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }

    /// Entries in ascending key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    /// The entry with the greatest key `<= key`.
    pub(crate) fn floor(&self, key: &K) -> Option<(&K, &V)> {
        let i = match self.find(key) {
            Ok(i) => i,
            Err(0) => return None,
            Err(i) => i - 1,
        };
        self.entries.get(i).map(|(k, v)| (k, v))
    }

    /// The entry with the least key `>= key`.
    pub(crate) fn ceil(&self, key: &K) -> Option<(&K, &V)> {
        let i = self.find(key).unwrap_or_else(|i| i);
        self.entries.get(i).map(|(k, v)| (k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::VecMap;

    #[test]
    fn behaves_like_a_sorted_map() {
        let mut m = VecMap::new();
        for k in [5, 1, 9, 3] {
            assert_eq!(m.insert(k, k * 10), None);
        }
        assert_eq!(m.insert(3, 33), Some(30));
        assert_eq!(m.iter().map(|(k, _)| *k).collect::<Vec<_>>(), [1, 3, 5, 9]);
        assert_eq!(m.get(&3), Some(&33));
        assert_eq!(m.floor(&4), Some((&3, &33)));
        assert_eq!(m.floor(&0), None);
        assert_eq!(m.ceil(&6), Some((&9, &90)));
        assert_eq!(m.ceil(&10), None);
        assert_eq!(m.remove(&5), Some(50));
        m.retain(|k, _| *k != 1);
        assert_eq!(m.len(), 2);
        *m.get_mut(&9).unwrap() += 1;
        assert_eq!(m.get(&9), Some(&91));
    }
}
