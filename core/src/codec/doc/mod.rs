//! Encoding of whole documents with history (`KIND_DOC`, see
//! `docs/PROTOCOL.md`). Canonical: replicas with the same history encode
//! to the same bytes, whatever order they received it in.

mod bits;
mod buckets;
mod check;
mod seqbits;
mod spans;
mod text;

use super::cursor::Cursor;
use super::envelope::{self, KIND_DOC};
use super::reader::Reader;
use super::writer::{put_bytes, put_varint, short_varint, zigzag, Writer};
use super::DecodeError;
use crate::crdt::hlc::Hlc;
use crate::crdt::lww::Stamp;
use crate::crdt::rga::span::{Agent, ItemId};
use crate::crdt::rga::Rga;
use crate::doc::{
    continued_direction, merge_deletes, CounterOp, LogKind, LogOp, TitleOp, MAX_COUNTER_NAME,
    MAX_TITLE,
};
use crate::ids::{ReplicaId, Seq, MAX_SEQ};
use crate::sort::sort_unstable_by_key;
use crate::Doc;
use bits::Predictor;
use check::{check_ids, check_registers};
use spans::{read_spans, write_spans, ReadSpans};
use text::{hand_out, max_text_bytes, read_text, write_text};

/// History header: `len << 4 | same_target_agent << 3 | reversed << 2 | kind`.
const LOG_DELETE: u64 = 0;
const LOG_TITLE: u64 = 1;
const LOG_COUNTER: u64 = 2;
const LOG_REVERSED: u64 = 1 << 2;
const LOG_SAME_TARGET: u64 = 1 << 3;
const LOG_FLAG_BITS: u32 = 4;

/// Most replicas a document may name.
const MAX_REPLICAS: usize = 1 << 20;

impl Doc {
    /// Encodes the whole document with its history.
    pub fn encode(&self) -> Vec<u8> {
        // Replicas that did something, in ascending id order.
        let mut ids: Vec<ReplicaId> = (self.replicas.iter().zip(&self.logs))
            .filter(|(_, log)| log.next > 0)
            .map(|(&id, _)| id)
            .collect();
        sort_unstable_by_key(&mut ids, |&id| id);
        let order: Vec<Agent> = ids.iter().map(|id| self.agents[id]).collect();
        let mut rank = vec![u64::MAX; self.replicas.len()];
        for (i, &a) in order.iter().enumerate() {
            rank[a as usize] = i as u64;
        }
        let rank_of = |r: ReplicaId| rank[self.agents[&r] as usize];

        // Spans and the visible text first: their sizes size the output.
        let (span_count, spans, text) = write_spans(&self.rga, &rank, &self.logs);
        let log_ops: usize = order.iter().map(|&a| self.logs[a as usize].ops.len()).sum();
        let size = 16 * order.len()
            + MAX_DELETE_BYTES * log_ops
            + spans.len()
            + max_text_bytes(text.len());
        let mut w = envelope::begin_with_capacity(KIND_DOC, size);
        w.varint(order.len() as u64);
        for &a in &order {
            w.replica(self.replicas[a as usize]);
        }
        for &a in &order {
            w.varint(u64::from(self.logs[a as usize].next));
        }
        // Title.
        let stamp = self.title.stamp();
        if stamp == Stamp::default() {
            w.varint(0);
        } else {
            w.varint(rank_of(stamp.replica) + 1);
            w.varint(stamp.time.wall_ms);
            w.varint(u64::from(stamp.time.counter));
            w.str(self.title.get());
        }
        // Counters: per name, per replica (p, n).
        w.varint(self.counters.len() as u64);
        for (name, c) in &self.counters {
            w.str(name);
            let mut entries: Vec<(u64, u64, u64)> = Vec::new();
            for (r, p) in c.p().iter() {
                entries.push((rank_of(r), p, c.n().get(r)));
            }
            for (r, n) in c.n().iter() {
                if c.p().get(r) == 0 {
                    entries.push((rank_of(r), 0, n));
                }
            }
            sort_unstable_by_key(&mut entries, |&e| e);
            w.varint(entries.len() as u64);
            for (r, p, n) in entries {
                w.varint(r);
                w.varint(p);
                w.varint(n);
            }
        }
        // Non-insert history per replica.
        for &a in &order {
            write_log(&mut w, &self.logs[a as usize].ops, a, &rank);
        }
        w.varint(span_count);
        w.raw(spans.as_slice());
        write_text(&mut w, &text);
        envelope::finish(w)
    }

    /// Decodes a document; `replica` makes the local edits from now on.
    /// Never panics; every field is checked.
    pub fn decode(bytes: &[u8], replica: ReplicaId) -> Result<Doc, DecodeError> {
        let body = envelope::open(bytes, KIND_DOC)?;
        let mut r = Reader::new(body);
        let n = r.len("replicas", MAX_REPLICAS)?;
        let mut table: Vec<ReplicaId> = Vec::with_capacity(n);
        for _ in 0..n {
            let id = r.replica()?;
            if table.last().is_some_and(|&last| last >= id) {
                return Err(invalid("replica table not strictly ascending"));
            }
            table.push(id);
        }
        let mut next = Vec::with_capacity(n);
        for _ in 0..n {
            let v = r.varint()?;
            if v == 0 || v > u64::from(MAX_SEQ) {
                return Err(invalid("replica operation count"));
            }
            next.push(v as Seq);
        }
        let mut doc = Doc::new(replica);
        // Agents are ranks: intern the table first, the local replica after.
        doc.replicas.clear();
        doc.agents.clear();
        doc.logs.clear();
        for (i, &id) in table.iter().enumerate() {
            doc.intern(id);
            doc.logs[i].next = next[i];
        }
        doc.agent = doc.intern(replica);

        read_registers(&mut r, &mut doc, &table)?;
        let mut register_records = 0;
        for a in 0..n {
            doc.logs[a].ops = read_history(&mut r, a as Agent, &next, &mut register_records)?;
        }
        let predict: Vec<Predictor> = doc.logs[..n]
            .iter()
            .zip(&next)
            .map(|(l, &end)| Predictor::new(&l.ops, end))
            .collect();
        let ReadSpans {
            mut spans,
            visible,
            max_lamport,
            writer,
            tail,
        } = read_spans(&mut r, &predict, &next)?;
        drop(predict);
        check_ids(&spans, &doc.logs, &next)?;
        let text_buf = read_text(&mut r)?;
        r.finish()?;
        let arenas = hand_out(
            &mut spans,
            text_buf,
            visible,
            writer,
            tail,
            doc.replicas.len(),
        )?;
        doc.rga = Rga::from_parts(arenas, spans, writer);
        doc.max_lamport = max_lamport;
        check_registers(&doc, register_records)?;
        Ok(doc)
    }
}

/// Reads the title and the counters into `doc`; `table` is the replica
/// table. Out of line: it runs once per decode and keeps `Doc::decode`
/// small, so V8 optimizes the hot loops sooner.
#[inline(never)]
fn read_registers(
    r: &mut Reader<'_>,
    doc: &mut Doc,
    table: &[ReplicaId],
) -> Result<(), DecodeError> {
    let title_tag = r.varint()?;
    if title_tag > 0 {
        let rep = replica_at(table, title_tag - 1)?;
        let time = Hlc::new(r.varint()?, r.varint_u32()?);
        let value = r.str("title", MAX_TITLE)?.to_owned();
        doc.title.set(value, Stamp { time, replica: rep });
    }
    let ncounters = r.len("counters", usize::MAX)?;
    let mut last_name: Option<&str> = None;
    for _ in 0..ncounters {
        let name = r.str("counter name", MAX_COUNTER_NAME)?;
        if last_name.is_some_and(|l| l >= name) {
            return Err(invalid("counter names not strictly ascending"));
        }
        last_name = Some(name);
        let entries = r.len("counter entries", table.len())?;
        let counter = doc.counters.entry(name.to_owned()).or_default();
        let mut last = None;
        for _ in 0..entries {
            let a = r.varint()?;
            if last.is_some_and(|l| l >= a) {
                return Err(invalid("counter entries not strictly ascending"));
            }
            last = Some(a);
            let rep = replica_at(table, a)?;
            counter.set_at_least(rep, r.varint()?, r.varint()?);
        }
    }
    Ok(())
}

/// Reads replica `a`'s non-insert history; `next` is each replica's
/// operation count. Counts its title and counter records into `registers`.
#[inline(never)]
fn read_history(
    r: &mut Reader<'_>,
    a: Agent,
    next: &[Seq],
    registers: &mut usize,
) -> Result<Vec<LogOp>, DecodeError> {
    let count = r.len("history", usize::MAX)?;
    let mut ops = Vec::with_capacity(count);
    let mut c = r.cursor();
    let mut prev_end = 0u64;
    let mut target_agent = a;
    let mut target_ref: i64 = 0;
    for _ in 0..count {
        let seq = prev_end
            .checked_add(c.varint()?)
            .ok_or(invalid("history seq"))?;
        let header = c.varint()?;
        let len = header >> LOG_FLAG_BITS;
        let (len, kind) = if header & 3 == LOG_DELETE {
            let reversed = header & LOG_REVERSED != 0;
            if header & LOG_SAME_TARGET == 0 {
                target_agent = agent_at(c.varint_rare()?, next.len())?;
            }
            let t = target_agent;
            let first = target_ref
                .checked_add(c.varint_signed()?)
                .ok_or(invalid("delete target"))?;
            let (lo, hi) = if reversed {
                (first.checked_sub(len as i64 - 1), first)
            } else {
                (Some(first), first.saturating_add(len as i64 - 1))
            };
            if len == 0
                || len > u64::from(MAX_SEQ)
                || lo.is_none_or(|lo| lo < 0)
                || hi >= i64::from(next[t as usize])
            {
                return Err(invalid("delete target range"));
            }
            target_ref = last_target(first as Seq, len as u32, reversed);
            let target = ItemId {
                agent: t,
                seq: first as Seq,
            };
            (len, LogKind::Delete { target, reversed })
        } else {
            let (kind, after) = read_register_op(c, header)?;
            c = after;
            *registers += 1;
            (1, kind)
        };
        if seq
            .checked_add(len)
            .is_none_or(|end| end > u64::from(next[a as usize]))
        {
            return Err(invalid("history past the replica's operation count"));
        }
        prev_end = seq + len;
        ops.push(LogOp {
            seq: seq as Seq,
            len: len as u32,
            kind,
        });
    }
    r.seek(&c);
    Ok(ops)
}

/// A title or counter record of the history (after its header) at `c`,
/// and the cursor after it. Out of line: rare, and it keeps
/// `read_history`'s loop small for V8 to optimize.
#[cold]
#[inline(never)]
fn read_register_op(c: Cursor<'_>, header: u64) -> Result<(LogKind, Cursor<'_>), DecodeError> {
    let mut r = c.reader();
    let kind = match header & 3 {
        LOG_TITLE if header >> LOG_FLAG_BITS == 1 => {
            let time = Hlc::new(r.varint()?, r.varint_u32()?);
            let value = r.str("title", MAX_TITLE)?.to_owned();
            LogKind::Title(Box::new(TitleOp { time, value }))
        }
        LOG_COUNTER if header >> LOG_FLAG_BITS == 1 => {
            let name = r.str("counter name", MAX_COUNTER_NAME)?.to_owned();
            let (p, n) = (r.varint()?, r.varint()?);
            LogKind::Counter(Box::new(CounterOp { name, p, n }))
        }
        other => {
            return Err(DecodeError::UnknownTag {
                what: "history operation",
                tag: other,
            })
        }
    };
    Ok((kind, r.cursor()))
}

/// Replica index `v` of a document naming `n` replicas.
fn agent_at(v: u64, n: usize) -> Result<Agent, DecodeError> {
    if v < n as u64 {
        Ok(v as Agent)
    } else {
        Err(invalid("replica index"))
    }
}

/// Entry `i` of the replica table.
fn replica_at(table: &[ReplicaId], i: u64) -> Result<ReplicaId, DecodeError> {
    usize::try_from(i)
        .ok()
        .and_then(|i| table.get(i).copied())
        .ok_or(invalid("replica index"))
}

/// The last target of a delete run, in its own order.
fn last_target(first: Seq, len: u32, reversed: bool) -> i64 {
    if reversed {
        i64::from(first) - i64::from(len) + 1
    } else {
        i64::from(first) + i64::from(len) - 1
    }
}

/// Most bytes a delete record takes: four varints.
const MAX_DELETE_BYTES: usize = 40;

/// Writes replica `a`'s non-insert history in canonical form: as it is
/// when it already is (local typing merges as it goes), else merged first.
fn write_log(w: &mut Writer, ops: &[LogOp], a: Agent, rank: &[u64]) {
    let start = w.len();
    if !write_ops(w, ops, a, rank) {
        w.truncate(start);
        write_ops(w, &canonical_log(ops), a, rank);
    }
}

/// Writes `ops` as they are; stops and returns false at the first delete
/// record that the canonical form merges or writes forward.
fn write_ops(w: &mut Writer, ops: &[LogOp], a: Agent, rank: &[u64]) -> bool {
    w.varint(ops.len() as u64);
    let mut len = w.len();
    let mut prev_end = 0;
    let mut target_agent = a;
    let mut target_ref: i64 = 0;
    let mut prev: Option<&LogOp> = None;
    for op in ops {
        let gap = u64::from(op.seq - prev_end);
        prev_end = op.seq + op.len;
        let strings = match &op.kind {
            LogKind::Delete { .. } => 0,
            LogKind::Title(t) => t.value.len(),
            LogKind::Counter(c) => c.name.len(),
        };
        let buf = w.room(len, MAX_DELETE_BYTES + strings);
        match &op.kind {
            LogKind::Delete { target, reversed } => {
                let same = target.agent == target_agent;
                let shift = zigzag(i64::from(target.seq) - target_ref);
                // A delete that continues the one before has no seq gap,
                // its target replica, and a target next to its last one
                // (a shift of +-1): only such a record is checked in full.
                let near = gap == 0 && same && (shift == 1 || shift == 2);
                let merges = near && prev.is_some_and(|p| continued_direction(p, op).is_some());
                if merges || (*reversed && op.len == 1) {
                    return false;
                }
                let mut header = u64::from(op.len) << LOG_FLAG_BITS | LOG_DELETE;
                header |= if *reversed { LOG_REVERSED } else { 0 }
                    | if same { LOG_SAME_TARGET } else { 0 };
                // Most records: varints of at most 2, 2 and 3 bytes,
                // written with one store and no branch on their lengths.
                if same && gap < 1 << 14 && header < 1 << 14 && shift < 1 << 21 {
                    let (g, ng) = short_varint(gap);
                    let (h, nh) = short_varint(header);
                    let (t, nt) = short_varint(shift);
                    let bytes = g | h << (8 * ng) | t << (8 * (ng + nh));
                    if let Some(out) = buf[len..].first_chunk_mut::<8>() {
                        *out = bytes.to_le_bytes();
                    }
                    len += ng + nh + nt;
                } else {
                    let rank = (!same).then(|| rank[target.agent as usize]);
                    len = put_delete(buf, len, [gap, header, shift], rank);
                }
                target_agent = target.agent;
                target_ref = last_target(target.seq, op.len, *reversed);
            }
            kind => {
                len = put_varint(buf, len, gap);
                len = put_register_op(buf, len, kind);
            }
        }
        prev = Some(op);
    }
    w.truncate(len);
    true
}

/// Writes a delete record in general form: its seq gap, header and
/// target shift (`fields`), with the target's `rank` unless it is the
/// one before. Out of line: rare, and it keeps the delete loop small for
/// V8 to optimize sooner.
#[inline(never)]
fn put_delete(buf: &mut [u8], mut len: usize, fields: [u64; 3], rank: Option<u64>) -> usize {
    let [gap, header, shift] = fields;
    len = put_varint(buf, len, gap);
    len = put_varint(buf, len, header);
    if let Some(rank) = rank {
        len = put_varint(buf, len, rank);
    }
    put_varint(buf, len, shift)
}

/// Writes a title or counter operation after its seq gap. Out of line:
/// rare, and it keeps the delete loop small for V8 to optimize sooner.
#[inline(never)]
fn put_register_op(buf: &mut [u8], mut len: usize, kind: &LogKind) -> usize {
    match kind {
        LogKind::Title(t) => {
            let TitleOp { time, value } = &**t;
            len = put_varint(buf, len, 1 << LOG_FLAG_BITS | LOG_TITLE);
            len = put_varint(buf, len, time.wall_ms);
            len = put_varint(buf, len, u64::from(time.counter));
            put_bytes(buf, len, value.as_bytes())
        }
        LogKind::Counter(c) => {
            let CounterOp { name, p, n } = &**c;
            len = put_varint(buf, len, 1 << LOG_FLAG_BITS | LOG_COUNTER);
            len = put_bytes(buf, len, name.as_bytes());
            len = put_varint(buf, len, *p);
            put_varint(buf, len, *n)
        }
        LogKind::Delete { .. } => len,
    }
}

fn invalid(what: &'static str) -> DecodeError {
    DecodeError::Invalid { what }
}

/// Delete records merged into maximal runs, greedily from the first, and a
/// run of one target written forward.
fn canonical_log(ops: &[LogOp]) -> Vec<LogOp> {
    let mut out: Vec<LogOp> = Vec::with_capacity(ops.len());
    for op in ops {
        if let Some(last) = out.last_mut() {
            if merge_deletes(last, op) {
                continue;
            }
        }
        let mut op = op.clone();
        if let LogKind::Delete { reversed, .. } = &mut op.kind {
            if op.len == 1 {
                *reversed = false;
            }
        }
        out.push(op);
    }
    out
}
