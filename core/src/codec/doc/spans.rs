//! The span section of a document: every character run in document order,
//! with ids and Lamport timestamps predicted from the replica's history.

use super::bits::Predictor;
use super::buckets::Buckets;
use super::{agent_at, invalid};
use crate::codec::reader::Reader;
use crate::codec::writer::{put_varint, short_varint, zigzag, Writer};
use crate::codec::DecodeError;
use crate::crdt::rga::order::OrderCheck;
use crate::crdt::rga::span::{Agent, ItemId, Span, NO_CONTENT, ROOT_AGENT};
use crate::crdt::rga::{BulkSpans, Rga};
use crate::doc::{AgentLog, LogOp};
use crate::ids::{Seq, MAX_LAMPORT, MAX_SEQ};

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

const START: ItemId = ItemId {
    agent: ROOT_AGENT,
    seq: 0,
};

/// Per replica, the sequence numbers its non-insert operations take, to
/// predict Lamport timestamps: a replica's k-th inserted character usually
/// has a timestamp near k.
pub(super) struct InsertCount {
    /// Per operation, its end and the sequence numbers taken up to it.
    ends: Vec<(Seq, u32)>,
    /// Spans come in document order, not seq order: O(1) lookups.
    index: Buckets,
}

impl InsertCount {
    /// For `ops` in seq order, all ending at or before `next`.
    pub fn new(ops: &[LogOp], next: Seq) -> Self {
        let mut sum = 0u32;
        let ends: Vec<(Seq, u32)> = ops
            .iter()
            .map(|op| {
                sum = sum.wrapping_add(op.len);
                (op.seq + op.len, sum)
            })
            .collect();
        let index = Buckets::new(&ends, |e| e.0, next);
        InsertCount { ends, index }
    }

    /// Characters the replica inserted before `seq`.
    #[inline]
    pub fn before(&self, seq: Seq) -> i64 {
        let i = self.index.count_le(&self.ends, |e| e.0, seq);
        i64::from(seq) - i.checked_sub(1).map_or(0, |i| i64::from(self.ends[i].1))
    }
}

/// True when `s` continues the run of `len` characters starting with `c`:
/// ids, clocks and origins.
fn continues(c: &Span, len: u32, s: &Span) -> bool {
    c.agent == s.agent
        && c.seq + len == s.seq
        && c.lamport + u64::from(len) == s.lamport
        && s.origin
            == (ItemId {
                agent: c.agent,
                seq: c.seq + len - 1,
            })
}

/// Most bytes one span takes: six varints.
const MAX_SPAN_BYTES: usize = 60;

/// Writes the span section's records (after its count), one run of spans
/// at a time.
struct SpanWriter {
    w: Writer,
    /// Bytes written to `w` (see [`Writer::room`]).
    len: usize,
    count: u64,
    /// Per replica (agent), what its spans need.
    agents: Vec<AgentState>,
    /// Last id of the run written before (`START` at first).
    prev_last: ItemId,
}

/// One replica's rank, Lamport predictor, and the end and predictor error
/// of its last run (one bounds check per span instead of four).
struct AgentState {
    rank: u64,
    predict: Predictor,
    last_end: u64,
    last_d: i64,
}

impl SpanWriter {
    /// For replicas of the given ranks and histories, about `spans` spans.
    pub fn new(rank: &[u64], logs: &[AgentLog], spans: usize) -> Self {
        let mut w = Writer::new();
        // About 5 bytes per span.
        w.room(0, spans * 6 + MAX_SPAN_BYTES);
        let agents = rank
            .iter()
            .zip(logs)
            .map(|(&rank, log)| AgentState {
                rank,
                predict: Predictor::new(&log.ops, log.next),
                last_end: 0,
                last_d: 0,
            })
            .collect();
        SpanWriter {
            w,
            len: 0,
            count: 0,
            agents,
            prev_last: START,
        }
    }
}

impl SpanWriter {
    /// Writes the run of `len` characters starting with `s`; `cont` when it
    /// continues the run written before.
    #[inline(always)]
    fn write(&mut self, s: &Span, len: u32, cont: bool) {
        self.count += 1;
        let a = s.agent as usize;
        let agent = &self.agents[a];
        let d = s.lamport as i64 - agent.predict.before(s.seq);
        let buf = self.w.room(self.len, MAX_SPAN_BYTES);
        let mut header = u64::from(len) << SPAN_FLAG_BITS | u64::from(s.deleted);
        if cont {
            self.len = put_varint(buf, self.len, header | MODE_CONTINUES << SPAN_MODE_SHIFT);
        } else {
            let mode = if s.origin == self.prev_last {
                MODE_CHAINED
            } else if s.origin.agent == s.agent && s.origin.seq + 1 == s.seq {
                MODE_OWN_PREV
            } else {
                MODE_EXPLICIT
            };
            let same_agent = self.prev_last.agent == s.agent;
            header |= mode << SPAN_MODE_SHIFT | if same_agent { SPAN_SAME_AGENT } else { 0 };
            let gap = zigzag(i64::from(s.seq) - agent.last_end as i64);
            let dd = zigzag(d - agent.last_d);
            // Most records: varints of at most 2, 3 and 1 bytes, written
            // with one store and no branch on their lengths.
            if same_agent && mode != MODE_EXPLICIT && header < 1 << 14 && gap < 1 << 21 && dd < 0x80
            {
                let (h, nh) = short_varint(header);
                let (g, ng) = short_varint(gap);
                let bytes = h | g << (8 * nh) | dd << (8 * (nh + ng));
                // A fixed-size store: `copy_from_slice` would be a call.
                if let Some(out) = buf[self.len..].first_chunk_mut::<8>() {
                    *out = bytes.to_le_bytes();
                }
                self.len += nh + ng + 1;
            } else {
                let origin = (mode == MODE_EXPLICIT).then(|| match s.origin.agent {
                    ROOT_AGENT => None,
                    o => Some((self.agents[o as usize].rank, s.origin.seq)),
                });
                let rank = (!same_agent).then_some(agent.rank);
                self.len = put_record(buf, self.len, [header, gap, dd], rank, origin);
            }
        }
        let agent = &mut self.agents[a];
        agent.last_end = u64::from(s.seq + len);
        agent.last_d = d;
        self.prev_last = ItemId {
            agent: s.agent,
            seq: s.seq + len - 1,
        };
    }

    /// The number of records and the records.
    fn finish(mut self) -> (u64, Writer) {
        self.w.truncate(self.len);
        (self.count, self.w)
    }
}

/// Writes a span record at `buf[at..]` in general form: the header, the
/// agent's `rank` unless it is the one before, the seq gap and the Lamport
/// offset change (`fields`), and an explicit `origin` (`Some(None)` for the
/// start of the document).
#[inline(never)]
fn put_record(
    buf: &mut [u8],
    mut at: usize,
    [header, gap, dd]: [u64; 3],
    rank: Option<u64>,
    origin: Option<Option<(u64, Seq)>>,
) -> usize {
    let mut v = [header, 0, 0, 0, 0, 0];
    let mut n = 1;
    let mut push = |x| {
        v[n] = x;
        n += 1;
    };
    if let Some(rank) = rank {
        push(rank);
    }
    push(gap);
    push(dd);
    match origin {
        Some(Some((rank, seq))) => {
            push(rank + 1);
            push(u64::from(seq));
        }
        Some(None) => push(0),
        None => {}
    }
    for &v in &v[..n] {
        at = put_varint(buf, at, v);
    }
    at
}

/// Copies the visible text out of the replicas' arenas, one span at a
/// time. Most spans are short and come from one ASCII arena, kept at hand:
/// they are copied in 8-byte words, which in wasm is much cheaper than a
/// `memory.copy` call per span.
struct TextCopy<'a> {
    rga: &'a Rga,
    /// The text so far (`len` bytes), then room for a word copy.
    out: Vec<u8>,
    len: usize,
    agent: Agent,
    ascii: &'a [u8],
}

/// Longest piece copied in words.
const SHORT: usize = 32;

impl<'a> TextCopy<'a> {
    fn new(rga: &'a Rga) -> Self {
        TextCopy {
            rga,
            out: vec![0; rga.len_chars() + SHORT],
            len: 0,
            agent: ROOT_AGENT,
            ascii: &[],
        }
    }

    /// Appends the characters of `s`, if it is visible. A deleted span
    /// takes the word copy too, of nothing: document order keeps deleted
    /// and visible spans alternating, where a branch would mispredict.
    #[inline]
    fn push(&mut self, s: &Span) {
        let (c, n) = if s.deleted {
            (0, 0)
        } else {
            (s.content as usize, s.len as usize)
        };
        if self.agent == s.agent && n <= SHORT {
            // Four whole words: may read past the piece (within the arena)
            // and write past it (overwritten next).
            let src = self.ascii.get(c..).and_then(<[u8]>::first_chunk::<SHORT>);
            let dst = self
                .out
                .get_mut(self.len..)
                .and_then(<[u8]>::first_chunk_mut::<SHORT>);
            if let (Some(src), Some(dst)) = (src, dst) {
                copy_words(dst, src);
                self.len += n;
                return;
            }
        }
        if n > 0 {
            self.push_other(s);
        }
    }

    /// A long piece, another replica's, one from a non-ASCII arena, or one
    /// within a word copy of its arena's end.
    #[inline(never)]
    fn push_other(&mut self, s: &Span) {
        self.agent = s.agent;
        self.ascii = self.rga.ascii_arena(s.agent);
        let piece = self.rga.content(s).as_bytes();
        let end = self.len + piece.len();
        if self.out.len() < end + SHORT {
            self.out.resize((end + SHORT).max(self.out.len() * 2), 0);
        }
        self.out[self.len..end].copy_from_slice(piece);
        self.len = end;
    }

    fn finish(mut self) -> Vec<u8> {
        self.out.truncate(self.len);
        self.out
    }
}

/// Copies `src` to `dst` a word at a time, unrolled: one copy of 32 bytes
/// would compile to a `memory.copy` call, and a loop stays a loop.
#[inline(always)]
fn copy_words(dst: &mut [u8; SHORT], src: &[u8; SHORT]) {
    copy_word(dst, src, 0);
    copy_word(dst, src, 8);
    copy_word(dst, src, 16);
    copy_word(dst, src, 24);
}

#[inline(always)]
fn copy_word(dst: &mut [u8; SHORT], src: &[u8; SHORT], at: usize) {
    let d = dst.get_mut(at..).and_then(<[u8]>::first_chunk_mut::<8>);
    let s = src.get(at..).and_then(<[u8]>::first_chunk::<8>);
    if let (Some(d), Some(s)) = (d, s) {
        *d = *s;
    }
}

/// The span section of `rga` (its spans in document order as maximal
/// runs): the record count and the records; and the visible text (UTF-8).
/// Not inlined into `Doc::encode`: V8 optimizes a wasm function in
/// the background once it runs hot, taking longer the larger it is, and
/// this loop alone is ready by the second call.
#[inline(never)]
pub(super) fn write_spans(rga: &Rga, rank: &[u64], logs: &[AgentLog]) -> (u64, Writer, Vec<u8>) {
    let mut records = SpanWriter::new(rank, logs, rga.span_count());
    let mut text = TextCopy::new(rga);
    // The run being extended: its first span, its length (0 before the
    // first span), and whether it continues the run written before.
    let mut first: &Span = &NO_SPAN;
    let mut len = 0;
    let mut first_cont = false;
    // The end marker writes the last run and takes its place, unwritten.
    for leaf in rga.leaves().chain([&[NO_SPAN][..]]) {
        for s in leaf {
            text.push(s);
            let cont = len > 0 && continues(first, len, s);
            if cont && first.deleted == s.deleted {
                len += s.len;
                continue;
            }
            if len > 0 {
                records.write(first, len, first_cont);
            }
            (first, len, first_cont) = (s, s.len, cont);
        }
    }
    let (count, records) = records.finish();
    (count, records, text.finish())
}

/// Stands for the run before the first span, and after the last one.
const NO_SPAN: Span = Span {
    agent: ROOT_AGENT,
    seq: 0,
    len: 0,
    utf16: 0,
    lamport: 0,
    origin: START,
    content: NO_CONTENT,
    deleted: true,
};

/// The spans as read, before any cross-check. Visible spans point at
/// their first character's index in the visible text, which is their
/// content offset when the text is ASCII and has one writer.
pub(super) struct ReadSpans {
    pub spans: BulkSpans,
    /// Characters not deleted.
    pub visible: usize,
    pub max_lamport: u64,
    /// The replica that wrote every visible character, if one did.
    pub writer: Option<Agent>,
    /// The seq right after the last visible span.
    pub tail: Seq,
}

/// One replica's state while spans are read: its operation count, the
/// end and Lamport offset of its last span, and its visible characters.
/// One array for all of them: one bounds check per span, and fewer values
/// for wasm to keep in registers.
#[derive(Clone, Copy, Default)]
struct AgentRead {
    next: u64,
    last_end: u64,
    last_d: i64,
    visible: u64,
}

/// Reads the span section, checking their RGA order as they come; `next` is
/// each replica's operation count.
pub(super) fn read_spans(
    r: &mut Reader<'_>,
    predict: &[Predictor],
    next: &[Seq],
) -> Result<ReadSpans, DecodeError> {
    let n = next.len();
    let count = r.len("spans", usize::MAX)?;
    let mut spans = BulkSpans::with_capacity(count);
    let mut agents: Vec<AgentRead> = next
        .iter()
        .map(|&e| AgentRead {
            next: u64::from(e),
            ..AgentRead::default()
        })
        .collect();
    let mut visible: usize = 0;
    let mut max_lamport = 0;
    let mut prev: Option<Span> = None;
    let mut order = OrderCheck::default();
    let mut c = r.cursor();
    for _ in 0..count {
        let header = c.varint()?;
        let len = header >> SPAN_FLAG_BITS;
        if len == 0 || len > u64::from(MAX_SEQ) {
            return Err(invalid("span length"));
        }
        let deleted = header & SPAN_DELETED != 0;
        let before = prev.as_ref().map_or(START, Span::last_id);
        let mode = (header >> SPAN_MODE_SHIFT) & 3;
        let (a, seq, lamport, origin) = if mode == MODE_CONTINUES {
            // The Lamport offset `d` carries over: the span before has no
            // non-insert operation inside (the coverage check rejects any).
            let p = prev.ok_or(invalid("first span continues nothing"))?;
            let seq = p.seq + p.len;
            (
                p.agent,
                u64::from(seq),
                p.lamport + u64::from(p.len),
                before,
            )
        } else {
            let a = if header & SPAN_SAME_AGENT != 0 {
                prev.ok_or(invalid("first span has no agent before it"))?
                    .agent
            } else {
                agent_at(c.varint_rare()?, n)?
            };
            let st = &mut agents[a as usize];
            let seq = st
                .last_end
                .checked_add_signed(c.varint_signed()?)
                .ok_or(invalid("span seq"))?;
            if seq > u64::from(MAX_SEQ) {
                return Err(invalid("span seq"));
            }
            let d = st
                .last_d
                .checked_add(c.varint_signed()?)
                .ok_or(invalid("span lamport"))?;
            st.last_d = d;
            // A span starting inside a history operation gets a wrong
            // prediction here; the coverage check rejects it anyway.
            let base = predict[a as usize].before(seq as Seq);
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
                _ => match c.varint_rare()? {
                    0 => START,
                    o => {
                        let oa = agent_at(o - 1, n)?;
                        let os = c.varint_rare()?;
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
            (a, seq, lamport, origin)
        };
        let st = &mut agents[a as usize];
        if seq + len > st.next || lamport + len > MAX_LAMPORT {
            return Err(invalid("span ids out of range"));
        }
        st.last_end = seq + len;
        max_lamport = max_lamport.max(lamport + len - 1);
        let mut content = NO_CONTENT;
        if !deleted {
            st.visible += len;
            // Past `u32::MAX` this is no offset; `hand_out` then rejects
            // the text as too long or too short.
            content = visible as u32;
            visible += len as usize;
        }
        let span = Span {
            agent: a,
            seq: seq as Seq,
            len: len as u32,
            utf16: len as u32,
            lamport,
            origin,
            content,
            deleted,
        };
        // Origins are earlier characters, and the order is RGA's.
        order.push(&span).map_err(invalid)?;
        spans.push(span);
        prev = Some(span);
    }
    let mut writers = agents.iter().enumerate().filter(|(_, st)| st.visible > 0);
    let writer = match (writers.next(), writers.next()) {
        (Some((a, _)), None) => Some(a as Agent),
        _ => None,
    };
    let tail = spans
        .chunks()
        .rev()
        .flat_map(|leaf| leaf.iter().rev())
        .find(|s| !s.deleted)
        .map_or(0, |s| s.seq + s.len);
    r.seek(&c);
    Ok(ReadSpans {
        spans,
        visible,
        max_lamport,
        writer,
        tail,
    })
}
