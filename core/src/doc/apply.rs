//! Applying deltas. Every operation is planned against the document first
//! (readiness, dependencies, validity); only then is anything changed, so a
//! refused delta leaves the document exactly as it was.

use super::{
    remaining_targets, CounterOp, Doc, LogKind, LogOp, TitleOp, MAX_COUNTER_NAME, MAX_TITLE,
};
use crate::crdt::lww::Stamp;
use crate::crdt::rga::span::ItemId;
use crate::crdt::rga::NewRun;
use crate::delta::{Body, Delta, Op};
use crate::error::ApplyError;
use crate::ids::{OpId, ReplicaId, Seq, MAX_LAMPORT, MAX_SEQ};
use crate::sort::{sort_by_key, sort_unstable_by_key};
use std::collections::BTreeMap;

/// What [`Doc::apply`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApplyOutcome {
    /// Operations (runs count once) integrated now, including buffered ones
    /// whose dependencies arrived. A blank replica that takes over a whole
    /// encoded document ([`Doc::merge_encoded`]) counts its sequence numbers.
    pub applied: usize,
    /// Operations still waiting for missing dependencies.
    pub pending: usize,
    /// What changed, in order, when change tracking is on
    /// ([`Doc::set_track_changes`]); each change's positions hold in the
    /// text as left by the changes before it.
    pub changes: Vec<Change>,
}

/// A change made by a remote operation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// Text was inserted.
    Insert {
        /// Position in Unicode scalar values.
        index: usize,
        /// Position in UTF-16 code units.
        index_utf16: usize,
        /// Inserted length in Unicode scalar values.
        len: usize,
        /// Inserted length in UTF-16 code units.
        len_utf16: usize,
    },
    /// Text was deleted.
    Delete {
        /// Position in Unicode scalar values.
        index: usize,
        /// Position in UTF-16 code units.
        index_utf16: usize,
        /// Deleted length in Unicode scalar values.
        len: usize,
        /// Deleted length in UTF-16 code units.
        len_utf16: usize,
    },
    /// The title changed.
    Title,
    /// A counter changed.
    Counter {
        /// Its name.
        name: String,
    },
}

/// Steps from which an apply switches the id index to bulk mode.
const BULK_STEPS: usize = 512;

struct Step<'a> {
    replica: ReplicaId,
    op: &'a Op,
    /// First sequence number to apply (`op.seq` unless a prefix is known).
    from: Seq,
}

/// Planning state per replica of the delta (and of buffered operations),
/// kept in vectors sorted by replica id: deltas name few replicas, and a
/// binary search beats hashing them.
struct PlanState {
    replicas: Vec<ReplicaId>,
    /// Next sequence number each replica will have.
    next: Vec<Seq>,
    /// Next sequence number each replica has in the document.
    in_doc: Vec<Seq>,
    /// Inserts planned so far: `(start, end, lamport of start)`, ascending.
    planned: Vec<Vec<(Seq, Seq, u64)>>,
}

impl PlanState {
    fn slot(&self, r: ReplicaId) -> Option<usize> {
        self.replicas.binary_search(&r).ok()
    }

    /// Operations of `r` the document has.
    fn in_doc(&self, doc: &Doc, r: ReplicaId) -> Seq {
        self.slot(r)
            .map_or_else(|| doc.ops_of(r), |i| self.in_doc[i])
    }

    /// Operations of `r` known after the steps planned so far.
    fn known(&self, doc: &Doc, r: ReplicaId) -> Seq {
        self.slot(r).map_or_else(|| doc.ops_of(r), |i| self.next[i])
    }

    /// The planned insert run holding `seq` of `r`.
    fn planned_run(&self, r: ReplicaId, seq: Seq) -> Option<(Seq, Seq, u64)> {
        let runs = &self.planned[self.slot(r)?];
        // Usually the run just planned.
        if let Some(&last) = runs.last().filter(|&&(s, e, _)| s <= seq && seq < e) {
            return Some(last);
        }
        let i = runs.partition_point(|&(_, end, _)| end <= seq);
        runs.get(i).copied().filter(|&(start, _, _)| start <= seq)
    }
}

impl Doc {
    /// Integrates a delta. Operations already here are skipped; operations
    /// whose dependencies are missing wait (bounded) until they arrive. On
    /// error nothing changed.
    pub fn apply(&mut self, delta: &Delta) -> Result<ApplyOutcome, ApplyError> {
        self.apply_inner(delta, false)
    }

    /// Integrates a delta only if every one of its operations can be
    /// applied now; otherwise fails with [`ApplyError::MissingDependencies`]
    /// and nothing changed. For a server, which must never store or forward
    /// what it cannot integrate.
    pub fn apply_complete(&mut self, delta: &Delta) -> Result<ApplyOutcome, ApplyError> {
        self.apply_inner(delta, true)
    }

    fn apply_inner(&mut self, delta: &Delta, complete: bool) -> Result<ApplyOutcome, ApplyError> {
        validate(delta)?;
        let pending = core::mem::take(&mut self.pending);
        let planned = self.plan(delta, &pending).and_then(|(steps, leftover)| {
            if complete && leftover.len() > pending.len() {
                Err(ApplyError::MissingDependencies {
                    waiting: leftover.len() - pending.len(),
                })
            } else {
                Ok((steps, leftover))
            }
        });
        let (steps, leftover) = match planned {
            Ok(p) => p,
            Err(e) => {
                self.pending = pending;
                return Err(e);
            }
        };
        let outcome = self.execute(&steps, leftover);
        Ok(outcome)
    }

    /// Decodes and applies an encoded delta.
    pub fn apply_encoded(&mut self, bytes: &[u8]) -> Result<ApplyOutcome, ApplyError> {
        let delta = Delta::decode(bytes)?;
        self.apply(&delta)
    }

    /// Merges everything `other` has that this document lacks.
    pub fn merge(&mut self, other: &Doc) -> Result<ApplyOutcome, ApplyError> {
        let delta = other.delta_since(&self.version());
        self.apply(&delta)
    }

    #[allow(clippy::type_complexity)]
    fn plan<'a>(
        &self,
        delta: &'a Delta,
        pending: &'a [(ReplicaId, Op)],
    ) -> Result<(Vec<Step<'a>>, Vec<(ReplicaId, Op)>), ApplyError> {
        let mut queues: BTreeMap<ReplicaId, Vec<&'a Op>> = BTreeMap::new();
        for b in &delta.blocks {
            queues.entry(b.replica).or_default().extend(b.ops.iter());
        }
        for (r, op) in pending {
            queues.entry(*r).or_default().push(op);
        }
        for q in queues.values_mut() {
            sort_by_key(q, |op| op.seq);
        }
        let replicas: Vec<ReplicaId> = queues.keys().copied().collect();
        let in_doc: Vec<Seq> = replicas.iter().map(|&r| self.ops_of(r)).collect();
        let mut state = PlanState {
            next: in_doc.clone(),
            in_doc,
            planned: vec![Vec::new(); replicas.len()],
            replicas,
        };
        let mut heads: Vec<usize> = vec![0; queues.len()];
        let mut steps = Vec::new();
        loop {
            let mut progress = false;
            for (slot, ((&r, q), head)) in queues.iter().zip(heads.iter_mut()).enumerate() {
                while let Some(&op) = q.get(*head) {
                    let n = state.next[slot];
                    if op.end() <= n {
                        *head += 1;
                        continue;
                    }
                    if op.seq > n || !self.ready(r, op, n, &state)? {
                        break;
                    }
                    if let Body::Insert { lamport, .. } = op.body {
                        state.planned[slot].push((n, op.end(), lamport + u64::from(n - op.seq)));
                    }
                    state.next[slot] = op.end();
                    steps.push(Step {
                        replica: r,
                        op,
                        from: n,
                    });
                    *head += 1;
                    progress = true;
                }
            }
            if !progress {
                break;
            }
        }
        let mut leftover: Vec<(ReplicaId, Op)> = Vec::new();
        for ((&r, q), &head) in queues.iter().zip(&heads) {
            let mut last_seq = None;
            for &op in &q[head..] {
                if op.end() > state.known(self, r) && last_seq != Some(op.seq) {
                    leftover.push((r, op.clone()));
                    last_seq = Some(op.seq);
                }
            }
        }
        if leftover.len() > self.options.max_pending {
            return Err(ApplyError::TooManyPending {
                limit: self.options.max_pending,
            });
        }
        Ok((steps, leftover))
    }

    /// Whether `op` (from sequence number `from`) can be applied now.
    fn ready(
        &self,
        r: ReplicaId,
        op: &Op,
        from: Seq,
        state: &PlanState,
    ) -> Result<bool, ApplyError> {
        let k = from - op.seq;
        match &op.body {
            Body::Insert {
                lamport, origin, ..
            } => {
                let origin = if k > 0 {
                    Some(OpId::new(r, from - 1))
                } else {
                    *origin
                };
                let Some(o) = origin else { return Ok(true) };
                if o.seq >= state.known(self, o.replica) {
                    return Ok(false);
                }
                let origin_lamport = self.char_lamport(o, state)?;
                let lamport = lamport + u64::from(k);
                if lamport <= origin_lamport {
                    return Err(ApplyError::BadLamport {
                        id: OpId::new(r, from),
                        lamport,
                    });
                }
                Ok(true)
            }
            Body::Delete {
                len,
                target,
                reversed,
            } => {
                let (lo, count) = remaining_targets(target.seq, *len, *reversed, k);
                if lo + count > state.known(self, target.replica) {
                    return Ok(false);
                }
                self.check_chars(target.replica, lo, count, state)?;
                Ok(true)
            }
            Body::Title { .. } | Body::Counter { .. } => Ok(true),
        }
    }

    /// Lamport timestamp of a known operation id, which must be a character.
    fn char_lamport(&self, id: OpId, state: &PlanState) -> Result<u64, ApplyError> {
        if id.seq < state.in_doc(self, id.replica) {
            let agent = self.agents[&id.replica];
            return self
                .rga
                .char_info(ItemId { agent, seq: id.seq })
                .map(|c| c.lamport)
                .ok_or(ApplyError::NotACharacter { id });
        }
        state
            .planned_run(id.replica, id.seq)
            .map(|(s, _, l)| l + u64::from(id.seq - s))
            .ok_or(ApplyError::NotACharacter { id })
    }

    /// Checks that `lo..lo + count` of `replica` are all characters.
    fn check_chars(
        &self,
        replica: ReplicaId,
        lo: Seq,
        count: u32,
        state: &PlanState,
    ) -> Result<(), ApplyError> {
        let end = lo + count;
        let doc_next = state.in_doc(self, replica);
        let mut s = lo;
        while s < end {
            let run = if s < doc_next {
                let agent = self.agents[&replica];
                self.rga.char_run(ItemId { agent, seq: s })
            } else {
                state.planned_run(replica, s).map(|(_, b, _)| b - s)
            };
            match run {
                Some(n) => s += n.min(end - s),
                None => {
                    return Err(ApplyError::NotACharacter {
                        id: OpId::new(replica, s),
                    })
                }
            }
        }
        Ok(())
    }

    fn execute(&mut self, steps: &[Step<'_>], leftover: Vec<(ReplicaId, Op)>) -> ApplyOutcome {
        let mut changes = Vec::new();
        let track = self.track_changes;
        let mut last = (self.replica, self.agent);
        // Many runs: index moves become plain stores for the duration.
        let bulk = steps.len() >= BULK_STEPS;
        if bulk {
            self.rga.begin_bulk();
        }
        for step in steps {
            let agent = if step.replica == last.0 {
                last.1
            } else {
                let a = self.intern(step.replica);
                last = (step.replica, a);
                a
            };
            let k = step.from - step.op.seq;
            match &step.op.body {
                Body::Insert {
                    len,
                    lamport,
                    origin,
                    content,
                } => {
                    let origin = if k > 0 {
                        Some(ItemId {
                            agent,
                            seq: step.from - 1,
                        })
                    } else {
                        origin.map(|o| {
                            let agent = if o.replica == step.replica {
                                agent
                            } else {
                                self.intern(o.replica)
                            };
                            ItemId { agent, seq: o.seq }
                        })
                    };
                    let content = content.as_deref().map(|c| skip_chars(c, k));
                    let run = NewRun {
                        agent,
                        seq: step.from,
                        len: len - k,
                        lamport: lamport + u64::from(k),
                        origin,
                        content,
                    };
                    if let Some(at) = self.rga.integrate_insert(&self.replicas, run, track) {
                        let len_utf16 = content.map_or(0, |c| c.encode_utf16().count());
                        changes.push(Change::Insert {
                            index: at.chars,
                            index_utf16: at.utf16,
                            len: run.len as usize,
                            len_utf16,
                        });
                    }
                    self.max_lamport = self.max_lamport.max(lamport + u64::from(len - 1));
                }
                Body::Delete {
                    len,
                    target,
                    reversed,
                } => {
                    let t = if target.replica == step.replica {
                        agent
                    } else {
                        self.intern(target.replica)
                    };
                    let (lo, count) = remaining_targets(target.seq, *len, *reversed, k);
                    if track {
                        let mut pieces = self.rga.visible_pieces(t, lo, count);
                        sort_unstable_by_key(&mut pieces, |(at, _)| core::cmp::Reverse(at.chars));
                        changes.extend(pieces.into_iter().map(|(at, n)| Change::Delete {
                            index: at.chars,
                            index_utf16: at.utf16,
                            len: n.chars,
                            len_utf16: n.utf16,
                        }));
                    }
                    self.rga.delete_ids(t, lo, count);
                    let first = if *reversed {
                        target.seq - k
                    } else {
                        target.seq + k
                    };
                    self.logs[agent as usize].ops.push(LogOp {
                        seq: step.from,
                        len: len - k,
                        kind: LogKind::Delete {
                            target: ItemId {
                                agent: t,
                                seq: first,
                            },
                            reversed: *reversed,
                        },
                    });
                }
                Body::Title { time, value } => {
                    if self.title.set(
                        value.clone(),
                        Stamp {
                            time: *time,
                            replica: step.replica,
                        },
                    ) && track
                    {
                        changes.push(Change::Title);
                    }
                    self.logs[agent as usize].ops.push(LogOp {
                        seq: step.from,
                        len: 1,
                        kind: LogKind::Title(Box::new(TitleOp {
                            time: *time,
                            value: value.clone(),
                        })),
                    });
                }
                Body::Counter { name, p, n } => {
                    self.counters.entry(name.clone()).or_default().set_at_least(
                        step.replica,
                        *p,
                        *n,
                    );
                    if track {
                        changes.push(Change::Counter { name: name.clone() });
                    }
                    self.logs[agent as usize].ops.push(LogOp {
                        seq: step.from,
                        len: 1,
                        kind: LogKind::Counter(Box::new(CounterOp {
                            name: name.clone(),
                            p: *p,
                            n: *n,
                        })),
                    });
                }
            }
            self.logs[agent as usize].next = step.op.end();
        }
        if bulk {
            self.rga.end_bulk();
        }
        self.pending = leftover;
        ApplyOutcome {
            applied: steps.len(),
            pending: self.pending.len(),
            changes,
        }
    }
}

fn skip_chars(s: &str, k: u32) -> &str {
    if k == 0 {
        return s;
    }
    s.char_indices()
        .nth(k as usize)
        .map_or("", |(i, _)| &s[i..])
}

/// Checks what can be checked without the document.
fn validate(delta: &Delta) -> Result<(), ApplyError> {
    for b in &delta.blocks {
        let r = b.replica;
        let mut prev_end = 0;
        for op in &b.ops {
            let id = OpId::new(r, op.seq);
            let bad = ApplyError::BadSequence { id };
            let len = op.body.len();
            if len == 0 || op.seq < prev_end || op.seq.checked_add(len).is_none_or(|e| e > MAX_SEQ)
            {
                return Err(bad);
            }
            prev_end = op.seq + len;
            match &op.body {
                Body::Insert {
                    lamport,
                    origin,
                    content,
                    ..
                } => {
                    if *lamport == 0 || lamport.saturating_add(u64::from(len)) > MAX_LAMPORT {
                        return Err(ApplyError::BadLamport {
                            id,
                            lamport: *lamport,
                        });
                    }
                    if content
                        .as_ref()
                        .is_some_and(|c| c.chars().count() != len as usize)
                    {
                        return Err(bad);
                    }
                    if origin
                        .is_some_and(|o| o.seq > MAX_SEQ || (o.replica == r && o.seq >= op.seq))
                    {
                        return Err(bad);
                    }
                }
                Body::Delete {
                    target, reversed, ..
                } => {
                    let (lo, hi) = if *reversed {
                        (target.seq.checked_sub(len - 1), Some(target.seq))
                    } else {
                        (Some(target.seq), target.seq.checked_add(len - 1))
                    };
                    match (lo, hi) {
                        (Some(_), Some(hi))
                            if hi < MAX_SEQ && !(target.replica == r && hi >= op.seq) => {}
                        _ => return Err(bad),
                    }
                }
                Body::Title { value, .. } => {
                    if value.len() > MAX_TITLE {
                        return Err(bad);
                    }
                }
                Body::Counter { name, .. } => {
                    if name.len() > MAX_COUNTER_NAME {
                        return Err(bad);
                    }
                }
            }
        }
    }
    Ok(())
}
