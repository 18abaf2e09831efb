//! Identifiers: replica ids, operation ids and Lamport clocks.

use core::fmt;

/// A replica (one copy of a document on one device or process).
///
/// Chosen by the caller, usually at random: the core has no RNG. Two live
/// replicas must never share an id.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ReplicaId(pub u64);

impl fmt::Debug for ReplicaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "R{:x}", self.0)
    }
}

impl fmt::Display for ReplicaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// A per-replica sequence number. Every operation of a replica takes one or
/// more consecutive sequence numbers (an insert of `n` characters takes `n`).
pub type Seq = u32;

/// The id of one operation (or of one inserted character): `(replica, seq)`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OpId {
    /// The replica that created the operation.
    pub replica: ReplicaId,
    /// Its sequence number on that replica.
    pub seq: Seq,
}

impl OpId {
    /// Builds an id.
    pub const fn new(replica: ReplicaId, seq: Seq) -> Self {
        Self { replica, seq }
    }
}

impl fmt::Debug for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}@{}", self.replica, self.seq)
    }
}

/// The largest sequence number a replica may use; leaves room so that
/// `seq + len` never overflows.
pub const MAX_SEQ: Seq = u32::MAX / 2;

/// The largest Lamport timestamp accepted from a peer. Far above anything a
/// real history reaches, far below overflow.
pub const MAX_LAMPORT: u64 = 1 << 48;
