//! Per-replica history of non-insert operations. Inserts need no log of
//! their own: the text CRDT's spans are their history.

use crate::crdt::hlc::Hlc;
use crate::crdt::rga::span::ItemId;
use crate::ids::Seq;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LogKind {
    /// Targets `target`, then the following (or, if `reversed`, preceding)
    /// sequence numbers of the target replica.
    Delete {
        target: ItemId,
        reversed: bool,
    },
    /// Rare, so boxed: delete records stay small.
    Title(Box<TitleOp>),
    Counter(Box<CounterOp>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TitleOp {
    pub time: Hlc,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CounterOp {
    pub name: String,
    pub p: u64,
    pub n: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LogOp {
    pub seq: Seq,
    pub len: u32,
    pub kind: LogKind,
}

impl LogOp {
    /// The ascending target range of a delete.
    pub fn delete_range(&self) -> Option<ItemId> {
        match self.kind {
            LogKind::Delete { target, reversed } => Some(ItemId {
                agent: target.agent,
                seq: lowest_target(target.seq, self.len, reversed),
            }),
            _ => None,
        }
    }
}

/// The lowest seq a delete run of `len` targets: a reversed run (backspaces)
/// names its highest target and goes down from it.
pub(crate) fn lowest_target(target: Seq, len: u32, reversed: bool) -> Seq {
    if reversed {
        target + 1 - len
    } else {
        target
    }
}

/// Ascending `(first, count)` of a delete run's targets once its first `k`
/// deletes are skipped: a reversed run's remaining targets are its lowest.
pub(crate) fn remaining_targets(target: Seq, len: u32, reversed: bool, k: u32) -> (Seq, u32) {
    let skip = if reversed { 0 } else { k };
    (lowest_target(target, len, reversed) + skip, len - k)
}

/// Merges delete `b` into `a` when `b` continues it (canonical runs: the
/// same targets give the same records however they were chunked).
#[inline]
pub(crate) fn merge_deletes(a: &mut LogOp, b: &LogOp) -> bool {
    let Some(backward) = continued_direction(a, b) else {
        return false;
    };
    if let LogKind::Delete { reversed, .. } = &mut a.kind {
        *reversed = backward;
    }
    a.len += b.len;
    true
}

/// When delete `b` continues delete `a`: whether the merged run goes
/// backward (see [`merge_deletes`]).
#[inline]
pub(crate) fn continued_direction(a: &LogOp, b: &LogOp) -> Option<bool> {
    let (
        LogKind::Delete {
            target: ta,
            reversed: ra,
        },
        LogKind::Delete {
            target: tb,
            reversed: rb,
        },
    ) = (&a.kind, &b.kind)
    else {
        return None;
    };
    if a.seq + a.len != b.seq || ta.agent != tb.agent {
        return None;
    }
    // Direction: None for a single target (either way).
    let dir_a = (a.len > 1).then_some(*ra);
    let dir_b = (b.len > 1).then_some(*rb);
    let last_a = if *ra {
        ta.seq + 1 - a.len
    } else {
        ta.seq + a.len - 1
    };
    let forward = dir_a != Some(true) && dir_b != Some(true) && tb.seq == last_a + 1;
    let backward = dir_a != Some(false) && dir_b != Some(false) && tb.seq + 1 == last_a;
    (forward || backward).then_some(backward)
}

/// One replica's history: how many sequence numbers it used, and its
/// non-insert operations in order.
#[derive(Clone, Debug, Default)]
pub(crate) struct AgentLog {
    pub next: Seq,
    pub ops: Vec<LogOp>,
}

impl AgentLog {
    /// Records a delete of `len` chars starting at `target`, merging it into
    /// the previous record when it continues it forwards (delete key) or
    /// backwards (backspace).
    pub fn push_delete(&mut self, seq: Seq, target: ItemId, len: u32) {
        if let Some(last) = self.ops.last_mut() {
            if last.seq + last.len == seq {
                if let LogKind::Delete {
                    target: t,
                    reversed,
                } = &mut last.kind
                {
                    if t.agent == target.agent {
                        if !*reversed && t.seq + last.len == target.seq {
                            last.len += len;
                            return;
                        }
                        let lowest = t.seq + 1 - if *reversed { last.len } else { 1 };
                        if len == 1 && (*reversed || last.len == 1) && target.seq + 1 == lowest {
                            *reversed = true;
                            last.len += 1;
                            return;
                        }
                    }
                }
            }
        }
        self.ops.push(LogOp {
            seq,
            len,
            kind: LogKind::Delete {
                target,
                reversed: false,
            },
        });
    }

    /// Index of the first op ending after `from`.
    pub fn first_after(&self, from: Seq) -> usize {
        self.ops.partition_point(|op| op.seq + op.len <= from)
    }

    pub fn heap_bytes(&self) -> usize {
        self.ops.capacity() * core::mem::size_of::<LogOp>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(seq: Seq) -> ItemId {
        ItemId { agent: 0, seq }
    }

    #[test]
    fn backspaces_merge_into_one_reversed_record() {
        let mut log = AgentLog::default();
        for (i, t) in [9, 8, 7, 6].into_iter().enumerate() {
            log.push_delete(10 + i as Seq, id(t), 1);
        }
        assert_eq!(log.ops.len(), 1);
        assert_eq!(log.ops[0].len, 4);
        assert_eq!(log.ops[0].delete_range(), Some(id(6)));
    }

    #[test]
    fn forward_deletes_merge_and_gaps_do_not() {
        let mut log = AgentLog::default();
        log.push_delete(0, id(5), 2);
        log.push_delete(2, id(7), 1);
        assert_eq!(log.ops.len(), 1);
        log.push_delete(3, id(20), 1);
        log.push_delete(5, id(21), 1); // not contiguous in seq
        assert_eq!(log.ops.len(), 3);
    }
}
