//! Cross-checks of a decoded document: its parts agree with each other.

use super::{invalid, seqbits};
use crate::codec::DecodeError;
use crate::crdt::lww::Stamp;
use crate::crdt::pncounter::PNCounter;
use crate::crdt::rga::by_id::ById;
use crate::crdt::rga::BulkSpans;
use crate::doc::{AgentLog, LogKind};
use crate::ids::Seq;
use crate::Doc;
use std::collections::BTreeMap;

/// The stored title and counters are exactly what the history wrote;
/// `records` is how many title and counter records the history has.
pub(super) fn check_registers(doc: &Doc, records: usize) -> Result<(), DecodeError> {
    let mut title: Option<(Stamp, &str)> = None;
    let mut counters: BTreeMap<&str, PNCounter> = BTreeMap::new();
    // Most documents have none: no pass over every delete record then.
    let logs = if records > 0 { &doc.logs[..] } else { &[] };
    for (log, &replica) in logs.iter().zip(&doc.replicas) {
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
/// or by a history record, and every delete targets deleted characters.
/// Dense ids take bitmaps; sparse ids, or a failed bitmap check (to name
/// the error), a sort by id.
pub(super) fn check_ids(
    spans: &BulkSpans,
    logs: &[AgentLog],
    next: &[Seq],
) -> Result<(), DecodeError> {
    let records: usize = logs.iter().map(|l| l.ops.len()).sum();
    let dense = seqbits::fits(next, spans.len() + records);
    if dense && seqbits::ids_ok(spans.chunks(), logs, next) {
        return Ok(());
    }
    check_sorted(spans, logs, next)?;
    if dense {
        // The two checks disagree: never accept what one refuses.
        return Err(invalid("history has gaps or overlaps"));
    }
    Ok(())
}

/// [`check_ids`] by sorting the spans by id.
#[inline(never)]
fn check_sorted(spans: &BulkSpans, logs: &[AgentLog], next: &[Seq]) -> Result<(), DecodeError> {
    let leaves: Vec<_> = (0..).zip(spans.chunks()).collect();
    let by_id = ById::new(&leaves, next);
    check_coverage(&by_id, logs, next)?;
    check_deletes(&by_id, logs)
}

/// Every sequence number of every replica is used exactly once, by a span
/// or by a history record.
fn check_coverage(by_id: &ById, logs: &[AgentLog], next: &[Seq]) -> Result<(), DecodeError> {
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
fn check_deletes(by_id: &ById, logs: &[AgentLog]) -> Result<(), DecodeError> {
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

#[cfg(test)]
mod tests {
    use super::{check_sorted, seqbits};
    use crate::crdt::rga::span::{ItemId, Span, NO_CONTENT, ROOT_AGENT};
    use crate::crdt::rga::BulkSpans;
    use crate::doc::{AgentLog, LogKind, LogOp};
    use proptest::collection::vec;
    use proptest::prelude::*;

    /// Replicas laid out as pieces `(len, kind, pick)`: kind 0 a visible
    /// span, 1 a deleted one, 2 and 3 a delete record whose target is
    /// picked among deleted spans long enough (else anywhere).
    fn layout(replicas: &[Vec<(u32, u8, u32)>]) -> (Vec<Span>, Vec<AgentLog>, Vec<u32>) {
        let mut spans = Vec::new();
        let mut logs: Vec<AgentLog> = Vec::new();
        let mut records = Vec::new();
        for (a, pieces) in replicas.iter().enumerate() {
            let mut seq = 0;
            logs.push(AgentLog::default());
            for &(len, kind, pick) in pieces {
                if kind < 2 {
                    spans.push(Span {
                        agent: a as u32,
                        seq,
                        len,
                        utf16: len,
                        lamport: 1,
                        origin: ItemId {
                            agent: ROOT_AGENT,
                            seq: 0,
                        },
                        content: NO_CONTENT,
                        deleted: kind == 1,
                    });
                } else {
                    records.push((a, seq, len, pick, kind == 3));
                }
                seq += len;
            }
            logs[a].next = seq;
        }
        for (a, seq, len, pick, reversed) in records {
            let fits: Vec<&Span> = spans.iter().filter(|s| s.deleted && s.len >= len).collect();
            let target = match fits.get(pick as usize % fits.len().max(1)) {
                Some(s) => ItemId {
                    agent: s.agent,
                    seq: s.seq + pick % (s.len - len + 1),
                },
                None => ItemId {
                    agent: pick % 2,
                    seq: pick % 8,
                },
            };
            // A reversed record names its highest target.
            let named = if reversed {
                target.seq + len - 1
            } else {
                target.seq
            };
            let kind = LogKind::Delete {
                target: ItemId {
                    seq: named,
                    ..target
                },
                reversed,
            };
            let ops = &mut logs[a].ops;
            let at = ops.partition_point(|o: &LogOp| o.seq < seq);
            ops.insert(at, LogOp { seq, len, kind });
        }
        let next = logs.iter().map(|l| l.next).collect();
        (spans, logs, next)
    }

    proptest! {
        #[test]
        fn bitmaps_agree_with_the_sorted_checks(
            replicas in vec(vec((1u32..6, 0u8..4, any::<u32>()), 0..12), 1..4),
            tamper in vec((0u8..6, any::<u32>()), 0..3),
        ) {
            let (mut spans, mut logs, mut next) = layout(&replicas);
            for (how, pick) in tamper {
                let p = pick as usize;
                let ops = |logs: &mut Vec<AgentLog>| {
                    let a = p % logs.len();
                    (!logs[a].ops.is_empty()).then(|| (a, p % logs[a].ops.len()))
                };
                match how {
                    0 if !spans.is_empty() => { spans.remove(p % spans.len()); }
                    1 => if let Some((a, i)) = ops(&mut logs) { logs[a].ops.remove(i); },
                    2 if !spans.is_empty() => { let n = spans.len(); spans[p % n].deleted ^= true; }
                    // Shifted by one, within the replica's ids: decode
                    // refuses spans past `next` before these checks run
                    // (and `ById::new` requires it).
                    3 if !spans.is_empty() => {
                        let n = spans.len();
                        let s = &mut spans[p % n];
                        let seq = s.seq.saturating_sub(1) + 2 * (pick & 1);
                        if seq + s.len <= next[s.agent as usize] {
                            s.seq = seq;
                        }
                    }
                    4 => { let n = next.len(); next[p % n] += 1 + pick % 70; }
                    5 => if let Some((a, i)) = ops(&mut logs) {
                        logs[a].ops[i].kind = LogKind::Delete {
                            target: ItemId { agent: pick % 3, seq: pick % 9 },
                            reversed: false,
                        };
                    },
                    _ => {}
                }
            }
            let mut bulk = BulkSpans::with_capacity(spans.len());
            for s in &spans {
                bulk.push(*s);
            }
            let dense = seqbits::ids_ok(bulk.chunks(), &logs, &next);
            let sorted = check_sorted(&bulk, &logs, &next);
            prop_assert_eq!(dense, sorted.is_ok(), "sorted: {:?}", sorted);
        }
    }
}
