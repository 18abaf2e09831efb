//! Deltas: the operations one replica sends another.

use crate::crdt::hlc::Hlc;
use crate::ids::{OpId, ReplicaId, Seq};

/// A set of operations, grouped by replica and ordered by sequence number.
/// Build one with [`Doc::delta_since`](crate::Doc::delta_since), send it
/// with [`Delta::encode`], apply it with [`Doc::apply`](crate::Doc::apply).
/// Applying a delta twice, or deltas out of order, is harmless.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    pub(crate) blocks: Vec<Block>,
}

/// The operations of one replica, sorted by `seq`, not overlapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Block {
    pub replica: ReplicaId,
    pub ops: Vec<Op>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Op {
    pub seq: Seq,
    pub body: Body,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Body {
    /// `len` characters; the first goes after `origin` (`None`: the start),
    /// each next one after the one before it. `content` is `None` when the
    /// characters are deleted and the sender dropped their text.
    Insert {
        len: u32,
        lamport: u64,
        origin: Option<OpId>,
        content: Option<String>,
    },
    /// Deletes `len` characters: `target`, then the ones after it (or
    /// before it, when `reversed`) in the target replica's sequence.
    Delete {
        len: u32,
        target: OpId,
        reversed: bool,
    },
    /// Sets the title (LWW by `(time, replica)`).
    Title { time: Hlc, value: String },
    /// This replica's new totals for a counter.
    Counter { name: String, p: u64, n: u64 },
}

impl Body {
    /// Sequence numbers the operation takes.
    pub fn len(&self) -> u32 {
        match self {
            Body::Insert { len, .. } | Body::Delete { len, .. } => *len,
            Body::Title { .. } | Body::Counter { .. } => 1,
        }
    }
}

impl Op {
    pub fn end(&self) -> Seq {
        self.seq + self.body.len()
    }

    /// The part of this operation from sequence number `from` on
    /// (`seq <= from < end`).
    pub fn slice_from(&self, from: Seq) -> Op {
        let k = from - self.seq;
        if k == 0 {
            return self.clone();
        }
        let body = match &self.body {
            Body::Insert {
                len,
                lamport,
                content,
                ..
            } => Body::Insert {
                len: len - k,
                lamport: lamport + u64::from(k),
                origin: None, // fixed by the caller: the replica's own `from - 1`
                content: content
                    .as_ref()
                    .map(|c| c.chars().skip(k as usize).collect()),
            },
            Body::Delete {
                len,
                target,
                reversed,
            } => Body::Delete {
                len: len - k,
                target: OpId::new(
                    target.replica,
                    if *reversed {
                        target.seq - k
                    } else {
                        target.seq + k
                    },
                ),
                reversed: *reversed,
            },
            other => other.clone(),
        };
        Op { seq: from, body }
    }
}

impl Delta {
    /// True when there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.blocks.iter().all(|b| b.ops.is_empty())
    }

    /// Number of operations (runs count once).
    pub fn op_count(&self) -> usize {
        self.blocks.iter().map(|b| b.ops.len()).sum()
    }

    /// Replicas with operations in this delta.
    pub fn replicas(&self) -> impl Iterator<Item = ReplicaId> + '_ {
        self.blocks
            .iter()
            .filter(|b| !b.ops.is_empty())
            .map(|b| b.replica)
    }
}
