//! A document: title (LWW register), body (RGA text) and named PN counters,
//! with the history needed to send any peer what it lacks.

mod anchor;
mod apply;
mod log;
mod merge;

use crate::crdt::hlc::HlcClock;
use crate::crdt::lww::LwwRegister;
use crate::crdt::pncounter::PNCounter;
use crate::crdt::rga::span::{Agent, ItemId, ROOT_AGENT};
use crate::crdt::rga::Rga;
use crate::delta::{Block, Body, Delta, Op};
use crate::error::EditError;
use crate::ids::{OpId, ReplicaId, Seq, MAX_LAMPORT, MAX_SEQ};
use crate::sort::sort_unstable_by_key;
use crate::version::VersionVector;
use std::collections::{BTreeMap, HashMap};

pub use anchor::{Anchor, LineCol, Side};
pub use apply::{ApplyOutcome, Change};
pub(crate) use log::{
    continued_direction, merge_deletes, remaining_targets, AgentLog, CounterOp, LogKind, LogOp,
    TitleOp,
};

/// Longest counter name, in bytes.
pub const MAX_COUNTER_NAME: usize = 256;
/// Longest title, in bytes.
pub const MAX_TITLE: usize = 64 * 1024;

/// Settings of a [`Doc`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DocOptions {
    /// Operations that may wait for missing dependencies at once.
    pub max_pending: usize,
    /// How far ahead of the caller's clock a title timestamp may drag the
    /// local clock, in milliseconds.
    pub max_clock_skew_ms: u64,
}

impl Default for DocOptions {
    fn default() -> Self {
        DocOptions {
            max_pending: 10_000,
            max_clock_skew_ms: crate::crdt::hlc::HlcClock::DEFAULT_MAX_SKEW_MS,
        }
    }
}

/// The materialised state of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Snapshot {
    /// The title.
    pub title: String,
    /// The body text.
    pub text: String,
    /// Counter values by name.
    pub counters: BTreeMap<String, i64>,
    /// The version this state is at.
    pub version: VersionVector,
}

/// One replica of a document.
#[derive(Clone, Debug)]
pub struct Doc {
    pub(crate) replica: ReplicaId,
    pub(crate) agent: Agent,
    /// Agent index -> replica id, and back.
    pub(crate) replicas: Vec<ReplicaId>,
    pub(crate) agents: HashMap<ReplicaId, Agent>,
    pub(crate) logs: Vec<AgentLog>,
    pub(crate) rga: Rga,
    pub(crate) title: LwwRegister<String>,
    pub(crate) clock: HlcClock,
    pub(crate) counters: BTreeMap<String, PNCounter>,
    pub(crate) max_lamport: u64,
    /// Operations waiting for their dependencies.
    pub(crate) pending: Vec<(ReplicaId, Op)>,
    pub(crate) options: DocOptions,
    pub(crate) track_changes: bool,
}

impl Doc {
    /// An empty document edited by `replica`.
    pub fn new(replica: ReplicaId) -> Self {
        Self::with_options(replica, DocOptions::default())
    }

    /// An empty document with explicit settings.
    pub fn with_options(replica: ReplicaId, options: DocOptions) -> Self {
        let mut doc = Doc {
            replica,
            agent: 0,
            replicas: Vec::new(),
            agents: HashMap::new(),
            logs: Vec::new(),
            rga: Rga::new(),
            title: LwwRegister::new(String::new()),
            clock: HlcClock::with_max_skew(options.max_clock_skew_ms),
            counters: BTreeMap::new(),
            max_lamport: 0,
            pending: Vec::new(),
            options,
            track_changes: false,
        };
        doc.agent = doc.intern(replica);
        doc
    }

    /// This replica's id.
    pub fn replica(&self) -> ReplicaId {
        self.replica
    }

    /// Makes [`Doc::apply`] report which ranges changed (off by default: it
    /// costs a tree walk per change).
    pub fn set_track_changes(&mut self, on: bool) {
        self.track_changes = on;
    }

    pub(crate) fn intern(&mut self, replica: ReplicaId) -> Agent {
        if let Some(&a) = self.agents.get(&replica) {
            return a;
        }
        let a = self.replicas.len() as Agent;
        self.replicas.push(replica);
        self.agents.insert(replica, a);
        self.logs.push(AgentLog::default());
        self.rga.ensure_agent(a);
        a
    }

    fn item_to_op(&self, id: ItemId) -> OpId {
        OpId::new(self.replicas[id.agent as usize], id.seq)
    }

    // ---- text ----

    /// The body text.
    pub fn text(&self) -> String {
        self.rga.text()
    }

    /// Length of the body in Unicode scalar values.
    pub fn len(&self) -> usize {
        self.rga.len_chars()
    }

    /// Length of the body in UTF-16 code units.
    pub fn len_utf16(&self) -> usize {
        self.rga.len_utf16()
    }

    /// True when the body is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn take_seqs(&self, n: usize) -> Result<Seq, EditError> {
        let next = self.logs[self.agent as usize].next;
        if n as u64 > u64::from(MAX_SEQ - next) {
            return Err(EditError::LimitExceeded {
                what: "operations of one replica",
                limit: u64::from(MAX_SEQ),
            });
        }
        Ok(next)
    }

    /// Inserts `text` before the character at `index` (Unicode scalar
    /// values; `index == len()` appends).
    pub fn insert(&mut self, index: usize, text: &str) -> Result<(), EditError> {
        let chars = text.chars().count();
        if chars == 0 {
            return if index > self.len() {
                Err(EditError::OutOfBounds {
                    index,
                    len: self.len(),
                })
            } else {
                Ok(())
            };
        }
        let seq = self.take_seqs(chars)?;
        if self.max_lamport + chars as u64 >= MAX_LAMPORT {
            return Err(EditError::LimitExceeded {
                what: "Lamport clock",
                limit: MAX_LAMPORT,
            });
        }
        let lamport = self.max_lamport + 1;
        self.rga.insert(index, self.agent, seq, lamport, text)?;
        self.max_lamport += chars as u64;
        self.logs[self.agent as usize].next += chars as Seq;
        Ok(())
    }

    /// Deletes `len` characters starting at `index` (Unicode scalar values).
    pub fn delete(&mut self, index: usize, len: usize) -> Result<(), EditError> {
        let mut seq = self.take_seqs(len)?;
        let log = &mut self.logs[self.agent as usize];
        self.rga.delete(index, len, |target, k| {
            log.push_delete(seq, target, k);
            seq += k;
        })?;
        log.next = seq;
        Ok(())
    }

    /// Inserts at a UTF-16 code unit index (what JavaScript strings use).
    pub fn insert_utf16(&mut self, index: usize, text: &str) -> Result<(), EditError> {
        let at = self.rga.utf16_to_chars(index)?;
        self.insert(at, text)
    }

    /// Deletes a range given in UTF-16 code units.
    pub fn delete_utf16(&mut self, index: usize, len: usize) -> Result<(), EditError> {
        let start = self.rga.utf16_to_chars(index)?;
        let end_utf16 = index.checked_add(len).ok_or(EditError::OutOfBounds {
            index,
            len: self.len_utf16(),
        })?;
        let end = self.rga.utf16_to_chars(end_utf16)?;
        self.delete(start, end - start)
    }

    /// Converts a UTF-16 index to a Unicode scalar index.
    pub fn utf16_to_index(&self, index: usize) -> Result<usize, EditError> {
        self.rga.utf16_to_chars(index)
    }

    /// Converts a Unicode scalar index (clamped to `len()`) to UTF-16.
    pub fn index_to_utf16(&self, index: usize) -> usize {
        self.rga.chars_to_utf16(index.min(self.len()))
    }

    // ---- title and counters ----

    /// The title.
    pub fn title(&self) -> &str {
        self.title.get()
    }

    /// Sets the title. `now_ms` is the caller's wall clock (milliseconds
    /// since the Unix epoch); the write wins over every write this replica
    /// has seen.
    pub fn set_title(&mut self, title: &str, now_ms: u64) -> Result<(), EditError> {
        if title.len() > MAX_TITLE {
            return Err(EditError::LimitExceeded {
                what: "title bytes",
                limit: MAX_TITLE as u64,
            });
        }
        let seq = self.take_seqs(1)?;
        let stamp = self.title.next_stamp(&mut self.clock, now_ms, self.replica);
        self.title.set(title.to_owned(), stamp);
        let log = &mut self.logs[self.agent as usize];
        log.ops.push(LogOp {
            seq,
            len: 1,
            kind: LogKind::Title(Box::new(TitleOp {
                time: stamp.time,
                value: title.to_owned(),
            })),
        });
        log.next = seq + 1;
        Ok(())
    }

    /// Adds `by` (negative to decrement) to the counter `name`.
    pub fn increment(&mut self, name: &str, by: i64) -> Result<(), EditError> {
        if name.len() > MAX_COUNTER_NAME {
            return Err(EditError::LimitExceeded {
                what: "counter name bytes",
                limit: MAX_COUNTER_NAME as u64,
            });
        }
        let seq = self.take_seqs(1)?;
        let counter = self.counters.entry(name.to_owned()).or_default();
        counter.add(self.replica, by);
        let (p, n) = counter.totals(self.replica);
        let log = &mut self.logs[self.agent as usize];
        log.ops.push(LogOp {
            seq,
            len: 1,
            kind: LogKind::Counter(Box::new(CounterOp {
                name: name.to_owned(),
                p,
                n,
            })),
        });
        log.next = seq + 1;
        Ok(())
    }

    /// The value of counter `name` (0 if it was never touched).
    pub fn counter(&self, name: &str) -> i64 {
        self.counters.get(name).map_or(0, PNCounter::value)
    }

    /// All counters and their values.
    pub fn counters(&self) -> BTreeMap<String, i64> {
        // Inserts, not `collect`: that sorts first, and a sort's code is
        // large in the wasm module.
        let mut out = BTreeMap::new();
        for (k, c) in &self.counters {
            out.insert(k.clone(), c.value());
        }
        out
    }

    // ---- versions and deltas ----

    /// The version vector: how much of each replica's history is here.
    pub fn version(&self) -> VersionVector {
        self.replicas
            .iter()
            .zip(&self.logs)
            .map(|(&r, log)| (r, log.next))
            .collect()
    }

    /// How many operations of `replica` are here: `version().get(replica)`
    /// without building the whole vector (cheap enough per keystroke).
    pub fn ops_of(&self, replica: ReplicaId) -> Seq {
        self.agents
            .get(&replica)
            .map_or(0, |&a| self.logs[a as usize].next)
    }

    /// Operations waiting for missing dependencies.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Everything this document has that a peer at `since` lacks.
    pub fn delta_since(&self, since: &VersionVector) -> Delta {
        let mut blocks = Vec::new();
        for (agent, log) in self.logs.iter().enumerate() {
            let replica = self.replicas[agent];
            let from = since.get(replica);
            if from >= log.next {
                continue;
            }
            let mut ops = Vec::new();
            let mut seq = from;
            let mut i = log.first_after(from);
            while seq < log.next {
                let stop = log.ops.get(i).map_or(log.next, |op| op.seq.max(seq));
                if seq < stop {
                    self.push_inserts(agent as Agent, seq, stop, &mut ops);
                    seq = stop;
                    continue;
                }
                let op = &log.ops[i];
                ops.push(self.log_op_to_delta(op).slice_from(seq));
                seq = op.seq + op.len;
                i += 1;
            }
            blocks.push(Block { replica, ops });
        }
        sort_unstable_by_key(&mut blocks, |b| b.replica);
        Delta { blocks }
    }

    fn log_op_to_delta(&self, op: &LogOp) -> Op {
        let body = match &op.kind {
            LogKind::Delete { target, reversed } => Body::Delete {
                len: op.len,
                target: self.item_to_op(*target),
                reversed: *reversed,
            },
            LogKind::Title(t) => Body::Title {
                time: t.time,
                value: t.value.clone(),
            },
            LogKind::Counter(c) => Body::Counter {
                name: c.name.clone(),
                p: c.p,
                n: c.n,
            },
        };
        Op { seq: op.seq, body }
    }

    /// Appends the inserts `from..to` of `agent` as runs.
    fn push_inserts(&self, agent: Agent, from: Seq, to: Seq, ops: &mut Vec<Op>) {
        let mut last_end = None;
        for piece in self.rga.pieces(agent, from, to) {
            let origin = (piece.origin.agent != ROOT_AGENT).then(|| self.item_to_op(piece.origin));
            let chained = last_end == Some(piece.seq)
                && piece.origin
                    == ItemId {
                        agent,
                        seq: piece.seq.wrapping_sub(1),
                    };
            if chained {
                if let Some(Op {
                    body:
                        Body::Insert {
                            len,
                            lamport,
                            content,
                            ..
                        },
                    ..
                }) = ops.last_mut()
                {
                    if *lamport + u64::from(*len) == piece.lamport
                        && content.is_some() == piece.content.is_some()
                    {
                        *len += piece.len;
                        if let (Some(c), Some(p)) = (content.as_mut(), piece.content) {
                            c.push_str(p);
                        }
                        last_end = Some(piece.seq + piece.len);
                        continue;
                    }
                }
            }
            ops.push(Op {
                seq: piece.seq,
                body: Body::Insert {
                    len: piece.len,
                    lamport: piece.lamport,
                    origin,
                    content: piece.content.map(str::to_owned),
                },
            });
            last_end = Some(piece.seq + piece.len);
        }
    }

    /// The materialised state.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            title: self.title().to_owned(),
            text: self.text(),
            counters: self.counters(),
            version: self.version(),
        }
    }

    /// Bytes of heap this document holds (approximate, for diagnostics).
    pub fn heap_bytes(&self) -> usize {
        self.rga.heap_bytes() + self.logs.iter().map(AgentLog::heap_bytes).sum::<usize>()
    }
}
