//! Version vectors: how much of each replica's history a document holds.

use crate::ids::{ReplicaId, Seq};
use std::collections::BTreeMap;

/// For each replica, the number of its operations (sequence numbers
/// `0..n`) a document holds. Histories are gap-free per replica, so one
/// number per replica says exactly what is there.
#[derive(Clone, Default, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VersionVector {
    entries: BTreeMap<ReplicaId, Seq>,
}

impl VersionVector {
    /// The empty version: nothing seen.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many operations of `replica` are included.
    pub fn get(&self, replica: ReplicaId) -> Seq {
        self.entries.get(&replica).copied().unwrap_or(0)
    }

    /// Sets the count for `replica` (a zero removes the entry).
    pub fn set(&mut self, replica: ReplicaId, next: Seq) {
        if next == 0 {
            self.entries.remove(&replica);
        } else {
            self.entries.insert(replica, next);
        }
    }

    /// Raises the count for `replica` to at least `next`.
    pub fn advance(&mut self, replica: ReplicaId, next: Seq) {
        if next > self.get(replica) {
            self.entries.insert(replica, next);
        }
    }

    /// Element-wise maximum.
    pub fn merge(&mut self, other: &VersionVector) {
        for (&r, &n) in &other.entries {
            self.advance(r, n);
        }
    }

    /// True when every operation in `other` is also in `self`.
    pub fn includes(&self, other: &VersionVector) -> bool {
        other.entries.iter().all(|(&r, &n)| self.get(r) >= n)
    }

    /// True when the operation `(replica, seq)` is included.
    pub fn contains(&self, replica: ReplicaId, seq: Seq) -> bool {
        seq < self.get(replica)
    }

    /// Replicas with a non-zero count, in ascending id order.
    pub fn iter(&self) -> impl Iterator<Item = (ReplicaId, Seq)> + '_ {
        self.entries.iter().map(|(&r, &n)| (r, n))
    }

    /// Number of replicas with a non-zero count.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True for the empty version.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Total number of operations included.
    pub fn total(&self) -> u64 {
        self.entries.values().map(|&n| u64::from(n)).sum()
    }
}

impl FromIterator<(ReplicaId, Seq)> for VersionVector {
    fn from_iter<I: IntoIterator<Item = (ReplicaId, Seq)>>(iter: I) -> Self {
        let mut v = VersionVector::new();
        for (r, n) in iter {
            v.advance(r, n);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_takes_elementwise_max_and_includes_both() {
        let a: VersionVector = [(ReplicaId(1), 3), (ReplicaId(2), 1)].into_iter().collect();
        let b: VersionVector = [(ReplicaId(2), 5), (ReplicaId(3), 2)].into_iter().collect();
        let mut m = a.clone();
        m.merge(&b);
        assert_eq!(m.get(ReplicaId(1)), 3);
        assert_eq!(m.get(ReplicaId(2)), 5);
        assert_eq!(m.get(ReplicaId(3)), 2);
        assert!(m.includes(&a) && m.includes(&b));
        assert!(!a.includes(&b));
        assert!(m.contains(ReplicaId(2), 4) && !m.contains(ReplicaId(2), 5));
    }
}
