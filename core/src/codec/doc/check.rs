//! Cross-checks of a decoded document: its parts agree with each other.

use super::buckets::ById;
use super::invalid;
use crate::codec::DecodeError;
use crate::crdt::lww::Stamp;
use crate::crdt::pncounter::PNCounter;
use crate::doc::{AgentLog, LogKind};
use crate::ids::Seq;
use crate::Doc;
use std::collections::BTreeMap;

/// The stored title and counters are exactly what the history wrote.
pub(super) fn check_registers(doc: &Doc) -> Result<(), DecodeError> {
    let mut title: Option<(Stamp, &str)> = None;
    let mut counters: BTreeMap<&str, PNCounter> = BTreeMap::new();
    for (log, &replica) in doc.logs.iter().zip(&doc.replicas) {
        for op in &log.ops {
            match &op.kind {
                LogKind::Title(t) => {
                    let stamp = Stamp {
                        time: t.time,
                        replica,
                    };
                    if title.is_none_or(|(best, _)| stamp > best) {
                        title = Some((stamp, &t.value));
                    }
                }
                LogKind::Counter(c) => counters
                    .entry(&c.name)
                    .or_default()
                    .set_at_least(replica, c.p, c.n),
                LogKind::Delete { .. } => {}
            }
        }
    }
    let stored_title = (doc.title.stamp() != Stamp::default())
        .then(|| (doc.title.stamp(), doc.title.get().as_str()));
    if stored_title != title {
        return Err(invalid("title does not match its history"));
    }
    if doc.counters.len() != counters.len()
        || doc
            .counters
            .iter()
            .any(|(name, c)| counters.get(name.as_str()) != Some(c))
    {
        return Err(invalid("counters do not match their history"));
    }
    Ok(())
}

/// Every sequence number of every replica is used exactly once, by a span
/// or by a history record.
pub(super) fn check_coverage(
    by_id: &ById,
    logs: &[AgentLog],
    next: &[Seq],
) -> Result<(), DecodeError> {
    for (a, &end) in next.iter().enumerate() {
        let mine = by_id.of_agent(a);
        let ops = &logs[a].ops;
        let (mut i, mut j) = (0, 0);
        let mut at: Seq = 0;
        loop {
            if let Some(e) = mine.get(i).filter(|e| e.seq == at) {
                at += e.len();
                i += 1;
            } else if let Some(op) = ops.get(j).filter(|op| op.seq == at) {
                at += op.len;
                j += 1;
            } else if i < mine.len() || j < ops.len() || at != end {
                return Err(invalid("history has gaps or overlaps"));
            } else {
                break;
            }
        }
    }
    Ok(())
}

/// Every delete target is a character, and a deleted one.
pub(super) fn check_deletes(by_id: &ById, logs: &[AgentLog]) -> Result<(), DecodeError> {
    for log in logs {
        for op in &log.ops {
            if let Some(lo) = op.delete_range() {
                let mut at = lo.seq;
                while at < lo.seq + op.len {
                    // The span holding `at`: spans do not overlap (checked).
                    let e = by_id
                        .last_at_or_before(lo.agent, at)
                        .map(|i| by_id.sorted[i])
                        .filter(|e| at - e.seq < e.len())
                        .ok_or(invalid("delete target"))?;
                    if !e.deleted() {
                        return Err(invalid("a deleted character is visible"));
                    }
                    at = e.seq + e.len();
                }
            }
        }
    }
    Ok(())
}
