//! Encoding of whole documents with history (`KIND_DOC`, see
//! `docs/PROTOCOL.md`). Canonical: replicas with the same history encode
//! to the same bytes, whatever order they received it in.

use super::envelope::{self, KIND_DOC};
use super::reader::Reader;
use super::writer::Writer;
use super::DecodeError;
use crate::crdt::hlc::Hlc;
use crate::crdt::lww::Stamp;
use crate::crdt::pncounter::PNCounter;
use crate::crdt::rga::order::{check_order, sort_by_id};
use crate::crdt::rga::span::{Agent, ItemId, Span, NO_CONTENT, ROOT_AGENT};
use crate::crdt::rga::{Arena, Rga};
use crate::doc::{
    merge_deletes, AgentLog, CounterOp, LogKind, LogOp, TitleOp, MAX_COUNTER_NAME, MAX_TITLE,
};
use crate::ids::{ReplicaId, Seq, MAX_LAMPORT, MAX_SEQ};
use crate::Doc;
use std::collections::BTreeMap;

/// Span header: `len << 4 | same_agent << 3 | mode << 1 | deleted`.
const SPAN_DELETED: u64 = 1;
const SPAN_MODE_SHIFT: u32 = 1;
/// Same replica, next seq and Lamport, origin the span before.
const MODE_CONTINUES: u64 = 0;
/// Origin is the item right before the span in document order.
const MODE_CHAINED: u64 = 1;
/// Origin is the same replica's `seq - 1` (the rest of a split run).
const MODE_OWN_PREV: u64 = 2;
/// Origin given explicitly (or the start of the document).
const MODE_EXPLICIT: u64 = 3;
/// Same replica as the span before.
const SPAN_SAME_AGENT: u64 = 1 << 3;
const SPAN_FLAG_BITS: u32 = 4;

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
        let mut order: Vec<Agent> = (0..self.replicas.len() as Agent)
            .filter(|&a| self.logs[a as usize].next > 0)
            .collect();
        order.sort_unstable_by_key(|&a| self.replicas[a as usize]);
        let mut rank = vec![u64::MAX; self.replicas.len()];
        for (i, &a) in order.iter().enumerate() {
            rank[a as usize] = i as u64;
        }
        let rank_of = |r: ReplicaId| rank[self.agents[&r] as usize];

        let mut w = envelope::begin(KIND_DOC);
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
            entries.sort_unstable();
            w.varint(entries.len() as u64);
            for (r, p, n) in entries {
                w.varint(r);
                w.varint(p);
                w.varint(n);
            }
        }
        // Non-insert history per replica.
        for &a in &order {
            let ops = canonical_log(&self.logs[a as usize].ops);
            w.varint(ops.len() as u64);
            let mut prev_end = 0;
            let mut target_agent = a;
            let mut target_ref: i64 = 0;
            for op in &ops {
                w.varint(u64::from(op.seq - prev_end));
                prev_end = op.seq + op.len;
                match &op.kind {
                    LogKind::Delete { target, reversed } => {
                        let same = target.agent == target_agent;
                        let mut header = u64::from(op.len) << LOG_FLAG_BITS | LOG_DELETE;
                        header |= if *reversed { LOG_REVERSED } else { 0 }
                            | if same { LOG_SAME_TARGET } else { 0 };
                        w.varint(header);
                        if !same {
                            w.varint(rank[target.agent as usize]);
                        }
                        w.varint_signed(i64::from(target.seq) - target_ref);
                        target_agent = target.agent;
                        target_ref = last_target(target.seq, op.len, *reversed);
                    }
                    LogKind::Title(t) => {
                        let TitleOp { time, value } = &**t;
                        w.varint(1 << LOG_FLAG_BITS | LOG_TITLE);
                        w.varint(time.wall_ms);
                        w.varint(u64::from(time.counter));
                        w.str(value);
                    }
                    LogKind::Counter(c) => {
                        let CounterOp { name, p, n } = &**c;
                        w.varint(1 << LOG_FLAG_BITS | LOG_COUNTER);
                        w.str(name);
                        w.varint(*p);
                        w.varint(*n);
                    }
                }
            }
        }
        // Spans in document order, maximal runs, then the visible text.
        let counts: Vec<InsertCount> = (0..self.replicas.len())
            .map(|a| InsertCount::new(&canonical_log(&self.logs[a].ops)))
            .collect();
        let mut spans = SpanWriter::new(&rank, &counts);
        let mut text = String::with_capacity(self.rga.len_chars());
        let mut cur: Option<Span> = None;
        for (s, content) in self.rga.spans() {
            if !s.deleted {
                text.push_str(content.unwrap_or_default());
            }
            match &mut cur {
                Some(c) if continues(c, s) && c.deleted == s.deleted => c.len += s.len,
                _ => {
                    if let Some(c) = cur.take() {
                        spans.push(&c);
                    }
                    cur = Some(*s);
                }
            }
        }
        if let Some(c) = cur {
            spans.push(&c);
        }
        w.varint(spans.count);
        w.raw(spans.w.as_slice());
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
        let agent = |v: u64| -> Result<Agent, DecodeError> {
            if v < n as u64 {
                Ok(v as Agent)
            } else {
                Err(invalid("replica index"))
            }
        };
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

        let title_tag = r.varint()?;
        if title_tag > 0 {
            let rep = table[agent(title_tag - 1)? as usize];
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
            let entries = r.len("counter entries", n)?;
            let counter = doc.counters.entry(name.to_owned()).or_default();
            let mut last = None;
            for _ in 0..entries {
                let a = agent(r.varint()?)?;
                if last.is_some_and(|l| l >= a) {
                    return Err(invalid("counter entries not strictly ascending"));
                }
                last = Some(a);
                counter.set_at_least(table[a as usize], r.varint()?, r.varint()?);
            }
        }
        for a in 0..n {
            let count = r.len("history", usize::MAX)?;
            let mut ops = Vec::with_capacity(count);
            let mut prev_end = 0u64;
            let mut target_agent = a as Agent;
            let mut target_ref: i64 = 0;
            for _ in 0..count {
                let seq = prev_end
                    .checked_add(r.varint()?)
                    .ok_or(invalid("history seq"))?;
                let header = r.varint()?;
                let len = header >> LOG_FLAG_BITS;
                let (len, kind) = match header & 3 {
                    LOG_DELETE => {
                        let reversed = header & LOG_REVERSED != 0;
                        if header & LOG_SAME_TARGET == 0 {
                            target_agent = agent(r.varint()?)?;
                        }
                        let t = target_agent;
                        let first = target_ref
                            .checked_add(r.varint_signed()?)
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
                        (
                            len,
                            LogKind::Delete {
                                target: ItemId {
                                    agent: t,
                                    seq: first as Seq,
                                },
                                reversed,
                            },
                        )
                    }
                    LOG_TITLE if len == 1 => {
                        let time = Hlc::new(r.varint()?, r.varint_u32()?);
                        (
                            1,
                            LogKind::Title(Box::new(TitleOp {
                                time,
                                value: r.str("title", MAX_TITLE)?.to_owned(),
                            })),
                        )
                    }
                    LOG_COUNTER if len == 1 => {
                        let name = r.str("counter name", MAX_COUNTER_NAME)?.to_owned();
                        (
                            1,
                            LogKind::Counter(Box::new(CounterOp {
                                name,
                                p: r.varint()?,
                                n: r.varint()?,
                            })),
                        )
                    }
                    other => {
                        return Err(DecodeError::UnknownTag {
                            what: "history operation",
                            tag: other,
                        })
                    }
                };
                if seq
                    .checked_add(len)
                    .is_none_or(|end| end > u64::from(next[a]))
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
            doc.logs[a].ops = ops;
        }
        // Spans.
        let counts: Vec<InsertCount> = doc.logs.iter().map(|l| InsertCount::new(&l.ops)).collect();
        let count = r.len("spans", usize::MAX)?;
        let mut spans: Vec<Span> = Vec::with_capacity(count);
        let mut last_end = vec![0u64; n];
        let mut last_d = vec![0i64; n];
        let mut visible: usize = 0;
        let mut max_lamport = 0;
        for _ in 0..count {
            let header = r.varint()?;
            let len = header >> SPAN_FLAG_BITS;
            if len == 0 || len > u64::from(MAX_SEQ) {
                return Err(invalid("span length"));
            }
            let deleted = header & SPAN_DELETED != 0;
            let prev = spans.last();
            let before = prev.map_or(
                ItemId {
                    agent: ROOT_AGENT,
                    seq: 0,
                },
                Span::last_id,
            );
            let mode = (header >> SPAN_MODE_SHIFT) & 3;
            let (a, seq, lamport, origin, base) = if mode == MODE_CONTINUES {
                let p = prev.ok_or(invalid("first span continues nothing"))?;
                let seq = p.seq + p.len;
                (
                    p.agent,
                    u64::from(seq),
                    p.lamport + u64::from(p.len),
                    before,
                    counts[p.agent as usize].before(seq),
                )
            } else {
                let a = if header & SPAN_SAME_AGENT != 0 {
                    prev.ok_or(invalid("first span has no agent before it"))?
                        .agent
                } else {
                    agent(r.varint()?)?
                };
                let seq = last_end[a as usize]
                    .checked_add_signed(r.varint_signed()?)
                    .ok_or(invalid("span seq"))?;
                if seq > u64::from(MAX_SEQ) {
                    return Err(invalid("span seq"));
                }
                let d = last_d[a as usize]
                    .checked_add(r.varint_signed()?)
                    .ok_or(invalid("span lamport"))?;
                let base = counts[a as usize].before(seq as Seq);
                let lamport = base
                    .checked_add(d)
                    .filter(|&l| l > 0)
                    .ok_or(invalid("span lamport"))? as u64;
                let origin = match mode {
                    MODE_CHAINED => before,
                    MODE_OWN_PREV => ItemId {
                        agent: a,
                        seq: seq.checked_sub(1).ok_or(invalid("span origin"))? as Seq,
                    },
                    _ => match r.varint()? {
                        0 => ItemId {
                            agent: ROOT_AGENT,
                            seq: 0,
                        },
                        o => {
                            let oa = agent(o - 1)?;
                            let os = r.varint()?;
                            if os >= u64::from(next[oa as usize]) {
                                return Err(invalid("span origin"));
                            }
                            ItemId {
                                agent: oa,
                                seq: os as Seq,
                            }
                        }
                    },
                };
                (a, seq, lamport, origin, base)
            };
            if seq + len > u64::from(next[a as usize]) || lamport + len > MAX_LAMPORT {
                return Err(invalid("span ids out of range"));
            }
            last_end[a as usize] = seq + len;
            last_d[a as usize] = lamport as i64 - base;
            max_lamport = max_lamport.max(lamport + len - 1);
            if !deleted {
                visible += len as usize;
            }
            spans.push(Span {
                agent: a,
                seq: seq as Seq,
                len: len as u32,
                utf16: len as u32,
                lamport,
                origin,
                content: NO_CONTENT,
                deleted,
            });
        }
        let text_buf = read_text(&mut r)?;
        let text: &str = &text_buf;
        r.finish()?;
        // Every span by id, sorted: for the coverage check, the target
        // checks and the id index.
        let by_id = sort_by_id(&spans);
        check_coverage(&by_id, &spans, &doc.logs, &next)?;
        // Origins are earlier characters, and the order is RGA's.
        check_order(&spans).map_err(invalid)?;
        let find = |agent: Agent, seq: Seq| -> Option<&Span> {
            let key = u64::from(agent) << 32 | u64::from(seq);
            let i = by_id.partition_point(|&(k, _)| k <= key).checked_sub(1)?;
            let s = &spans[by_id[i].1 as usize];
            s.contains(agent, seq).then_some(s)
        };
        for log in &doc.logs {
            for op in &log.ops {
                if let Some(lo) = op.delete_range() {
                    let mut at = lo.seq;
                    while at < lo.seq + op.len {
                        let s = find(lo.agent, at).ok_or(invalid("delete target"))?;
                        if !s.deleted {
                            return Err(invalid("a deleted character is visible"));
                        }
                        at = s.seq + s.len;
                    }
                }
            }
        }

        // Hand each visible span its text.
        let mut arenas: Vec<Arena> = (0..doc.replicas.len()).map(|_| Arena::new()).collect();
        let ascii = text.is_ascii();
        let mut rest = text;
        let mut chars_seen = 0usize;
        for s in spans.iter_mut().filter(|s| !s.deleted) {
            let bytes = if ascii {
                s.len as usize
            } else {
                let mut ends = rest
                    .char_indices()
                    .map(|(i, _)| i)
                    .chain(core::iter::once(rest.len()));
                ends.nth(s.len as usize)
                    .ok_or(invalid("text shorter than the visible spans"))?
            };
            if bytes > rest.len() {
                return Err(invalid("text shorter than the visible spans"));
            }
            let (piece, tail) = rest.split_at(bytes);
            chars_seen += s.len as usize;
            if !ascii {
                s.utf16 = piece.encode_utf16().count() as u32;
            }
            s.content = arenas[s.agent as usize].push(piece, s.seq, s.len).0;
            rest = tail;
        }
        if !rest.is_empty() || chars_seen != visible {
            return Err(invalid("text length does not match the visible spans"));
        }
        doc.rga = Rga::from_parts(arenas, spans, &by_id);
        doc.max_lamport = max_lamport;
        check_registers(&doc)?;
        Ok(doc)
    }
}

/// Text section modes.
const TEXT_RAW: u64 = 0;
const TEXT_LZ4: u64 = 1;
/// Largest visible text of a document, in bytes.
const MAX_TEXT: usize = 1 << 30;

/// The visible text, LZ4-compressed when that saves at least a tenth.
fn write_text(w: &mut Writer, text: &str) {
    if text.len() >= 256 {
        let packed = lz4_flex::block::compress(text.as_bytes());
        if packed.len() < text.len() - text.len() / 10 {
            w.varint(TEXT_LZ4);
            w.varint(text.len() as u64);
            w.bytes(&packed);
            return;
        }
    }
    w.varint(TEXT_RAW);
    w.str(text);
}

fn read_text(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    match r.varint()? {
        TEXT_RAW => Ok(r.str("text", MAX_TEXT)?.to_owned()),
        TEXT_LZ4 => {
            let size = r.varint_usize_max("text", MAX_TEXT)?;
            let packed = r.bytes("compressed text", MAX_TEXT)?;
            // LZ4 expands at most ~255x: refuse sizes no input can reach.
            if size > packed.len().saturating_mul(255) {
                return Err(invalid("compressed text size"));
            }
            let raw = lz4_flex::block::decompress(packed, size)
                .map_err(|_| invalid("compressed text"))?;
            if raw.len() != size {
                return Err(invalid("compressed text size"));
            }
            String::from_utf8(raw).map_err(|e| DecodeError::InvalidUtf8 {
                offset: e.utf8_error().valid_up_to(),
            })
        }
        other => Err(DecodeError::UnknownTag {
            what: "text mode",
            tag: other,
        }),
    }
}

/// Per replica, the sequence numbers its non-insert operations take, to
/// predict Lamport timestamps: a replica's k-th inserted character usually
/// has a timestamp near k.
struct InsertCount {
    ends: Vec<Seq>,
    taken: Vec<u32>,
}

impl InsertCount {
    fn new(ops: &[LogOp]) -> Self {
        let mut taken = Vec::with_capacity(ops.len());
        let mut sum = 0;
        for op in ops {
            sum += op.len;
            taken.push(sum);
        }
        InsertCount {
            ends: ops.iter().map(|op| op.seq + op.len).collect(),
            taken,
        }
    }

    /// Characters the replica inserted before `seq`.
    fn before(&self, seq: Seq) -> i64 {
        let i = self.ends.partition_point(|&e| e <= seq);
        i64::from(seq)
            - if i == 0 {
                0
            } else {
                i64::from(self.taken[i - 1])
            }
    }
}

/// The last target of a delete run, in its own order.
fn last_target(first: Seq, len: u32, reversed: bool) -> i64 {
    if reversed {
        i64::from(first) - i64::from(len) + 1
    } else {
        i64::from(first) + i64::from(len) - 1
    }
}

fn invalid(what: &'static str) -> DecodeError {
    DecodeError::Invalid { what }
}

/// True when `s` continues `c`'s run of ids, clocks and origins.
fn continues(c: &Span, s: &Span) -> bool {
    c.agent == s.agent
        && c.seq + c.len == s.seq
        && c.lamport + u64::from(c.len) == s.lamport
        && s.origin == c.last_id()
}

/// The stored title and counters are exactly what the history wrote.
fn check_registers(doc: &Doc) -> Result<(), DecodeError> {
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
fn check_coverage(
    by_id: &[(u64, u32)],
    spans: &[Span],
    logs: &[AgentLog],
    next: &[Seq],
) -> Result<(), DecodeError> {
    let mut i = 0;
    for (a, &end) in next.iter().enumerate() {
        let ops = &logs[a].ops;
        let mut j = 0;
        let mut at: Seq = 0;
        loop {
            let span = by_id
                .get(i)
                .map(|&(_, k)| &spans[k as usize])
                .filter(|s| s.agent as usize == a);
            if let Some(s) = span.filter(|s| s.seq == at) {
                at += s.len;
                i += 1;
            } else if let Some(op) = ops.get(j).filter(|op| op.seq == at) {
                at += op.len;
                j += 1;
            } else if span.is_some() || j < ops.len() || at != end {
                return Err(invalid("history has gaps or overlaps"));
            } else {
                break;
            }
        }
    }
    Ok(())
}

/// Delete records merged into maximal runs.
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

struct SpanWriter<'a> {
    w: Writer,
    count: u64,
    rank: &'a [u64],
    counts: &'a [InsertCount],
    prev: Option<Span>,
    last_end: Vec<u64>,
    last_d: Vec<i64>,
}

impl<'a> SpanWriter<'a> {
    fn new(rank: &'a [u64], counts: &'a [InsertCount]) -> Self {
        SpanWriter {
            w: Writer::new(),
            count: 0,
            rank,
            counts,
            prev: None,
            last_end: vec![0; rank.len()],
            last_d: vec![0; rank.len()],
        }
    }

    fn push(&mut self, s: &Span) {
        self.count += 1;
        let before = self.prev.map_or(
            ItemId {
                agent: ROOT_AGENT,
                seq: 0,
            },
            |p| p.last_id(),
        );
        let mut header = u64::from(s.len) << SPAN_FLAG_BITS;
        if s.deleted {
            header |= SPAN_DELETED;
        }
        let cont = self.prev.is_some_and(|p| continues(&p, s));
        let a = s.agent as usize;
        if cont {
            self.w.varint(header | MODE_CONTINUES << SPAN_MODE_SHIFT);
        } else {
            let mode = if s.origin == before {
                MODE_CHAINED
            } else if s.origin.agent == s.agent && s.origin.seq + 1 == s.seq {
                MODE_OWN_PREV
            } else {
                MODE_EXPLICIT
            };
            let same_agent = self.prev.is_some_and(|p| p.agent == s.agent);
            header |= mode << SPAN_MODE_SHIFT | if same_agent { SPAN_SAME_AGENT } else { 0 };
            self.w.varint(header);
            if !same_agent {
                self.w.varint(self.rank[a]);
            }
            self.w
                .varint_signed(i64::from(s.seq) - self.last_end[a] as i64);
            let d = s.lamport as i64 - self.counts[a].before(s.seq);
            self.w.varint_signed(d - self.last_d[a]);
            if mode == MODE_EXPLICIT {
                if s.origin.agent == ROOT_AGENT {
                    self.w.varint(0);
                } else {
                    self.w.varint(self.rank[s.origin.agent as usize] + 1);
                    self.w.varint(u64::from(s.origin.seq));
                }
            }
        }
        self.last_end[a] = u64::from(s.seq + s.len);
        self.last_d[a] = s.lamport as i64 - self.counts[a].before(s.seq);
        self.prev = Some(*s);
    }
}
