//! Per-replica undo and redo for one [`Doc`].
//!
//! Undo reverts only the local replica's own changes, by making *new*
//! local operations on the document, so an undo composes with concurrent
//! edits and syncs like any other edit (send `delta_since` as usual):
//! - inserted text: the characters that are still visible are deleted
//!   (characters of other replicas are never touched);
//! - deleted text: re-inserted where its tombstones are;
//! - a title change: the previous value is set again with a new stamp,
//!   unless another replica's title has won since (then it stays);
//! - a counter change: the opposite amount is added.
//!
//! The manager observes edits by reading the replica's own history: call
//! [`UndoManager::capture`] after local edits (and preferably after
//! applying remote ones too, which is cheap: it keeps the title seen
//! current, so a title undo restores what this replica saw before it
//! wrote). Edits captured within the capture window of the previous one
//! join its undo step; a captured edit clears the redo stack.
//!
//! Re-inserted text gets new ids. The manager remembers which new
//! characters replaced which deleted ones, so undoing an older insert also
//! removes the text an undo brought back.

use crate::crdt::rga::span::ItemId;
use crate::doc::{remaining_targets, Doc, LogKind};
use crate::error::EditError;
use crate::ids::Seq;
use crate::sort::{sort_unstable_by, sort_unstable_by_key};
use crate::util::VecMap;

/// Settings of an [`UndoManager`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UndoOptions {
    /// Edits captured less than this many milliseconds after the previous
    /// one form one undo step (default 500).
    pub capture_window_ms: u64,
}

impl Default for UndoOptions {
    fn default() -> Self {
        Self {
            capture_window_ms: 500,
        }
    }
}

/// One change of the local replica, as undo needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Effect {
    /// The replica inserted its characters `seq..seq + len`.
    Insert {
        seq: Seq,
        len: u32,
    },
    /// The replica deleted the characters `target..target + len`.
    Delete {
        target: ItemId,
        len: u32,
    },
    Title {
        before: String,
        after: String,
    },
    Counter {
        name: String,
        delta: i64,
    },
}

#[derive(Clone, Debug, Default)]
struct Step {
    effects: Vec<Effect>,
}

/// Undo and redo stacks of the local replica of one [`Doc`]. Use it with
/// that document only.
#[derive(Clone, Debug)]
pub struct UndoManager {
    options: UndoOptions,
    /// Own operations before this are captured.
    seen: Seq,
    /// The title as of the last capture.
    title_seen: String,
    undo: Vec<Step>,
    redo: Vec<Step>,
    /// When the open undo step last grew; `None`: the next edit starts one.
    last_edit: Option<u64>,
    /// Deleted character range start -> (the new characters that replaced
    /// it on undo or redo, its length).
    replaced: VecMap<ItemId, (ItemId, u32)>,
}

impl UndoManager {
    /// A manager for `doc`'s local replica; edits made before are not
    /// undoable.
    pub fn new(doc: &Doc) -> Self {
        Self::with_options(doc, UndoOptions::default())
    }

    /// A manager with explicit settings.
    pub fn with_options(doc: &Doc, options: UndoOptions) -> Self {
        Self {
            options,
            seen: doc.logs[doc.agent as usize].next,
            title_seen: doc.title().to_owned(),
            undo: Vec::new(),
            redo: Vec::new(),
            last_edit: None,
            replaced: VecMap::new(),
        }
    }

    /// Records the local edits made since the last call; `now` in
    /// milliseconds (any monotonic clock).
    pub fn capture(&mut self, doc: &Doc, now: u64) {
        let effects = self.read_new(doc);
        if effects.is_empty() {
            return;
        }
        self.redo.clear();
        let window = self.options.capture_window_ms;
        let joins = self
            .last_edit
            .is_some_and(|t| now.saturating_sub(t) < window);
        match self.undo.last_mut() {
            Some(step) if joins => step.effects.extend(effects),
            _ => self.undo.push(Step { effects }),
        }
        self.last_edit = Some(now);
    }

    /// Ends the current undo step: the next edit starts a new one.
    pub fn stop_capturing(&mut self) {
        self.last_edit = None;
    }

    /// Whether there is a step to undo (after capturing).
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Whether there is a step to redo.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// Forgets both stacks.
    pub fn clear(&mut self) {
        self.undo.clear();
        self.redo.clear();
        self.last_edit = None;
    }

    /// Reverts the last undo step with new local operations on `doc`.
    /// Returns `Ok(false)` when there is nothing to undo. Local edits not
    /// yet captured are captured first.
    pub fn undo(&mut self, doc: &mut Doc, now: u64) -> Result<bool, EditError> {
        self.pop_and_revert(doc, now, false)
    }

    /// Reverts the last undo. Returns `Ok(false)` when there is nothing to
    /// redo.
    pub fn redo(&mut self, doc: &mut Doc, now: u64) -> Result<bool, EditError> {
        self.pop_and_revert(doc, now, true)
    }

    /// Undo (or redo): the reverting operations form a step of the other stack.
    fn pop_and_revert(&mut self, doc: &mut Doc, now: u64, redo: bool) -> Result<bool, EditError> {
        self.capture(doc, now);
        let from = if redo { &mut self.redo } else { &mut self.undo };
        let Some(step) = from.pop() else {
            return Ok(false);
        };
        let (done, result) = self.revert(doc, &step, now);
        if !done.effects.is_empty() {
            let to = if redo { &mut self.undo } else { &mut self.redo };
            to.push(done);
        }
        self.last_edit = None;
        result.map(|()| true)
    }

    /// Applies the inverse of `step`, then reads back what that emitted
    /// (even after an error, so the stacks match the document).
    fn revert(&mut self, doc: &mut Doc, step: &Step, now: u64) -> (Step, Result<(), EditError>) {
        let own = doc.agent;
        let mut result = Ok(());
        let mut i = step.effects.len();
        while i > 0 {
            i -= 1;
            result = match &step.effects[i] {
                Effect::Insert { seq, len } => self.remove_own(doc, *seq, *len),
                Effect::Delete { .. } => {
                    // Adjacent deletes are restored together, so text from
                    // several replicas in one gap comes back in order.
                    let end = i + 1;
                    while i > 0 && matches!(step.effects[i - 1], Effect::Delete { .. }) {
                        i -= 1;
                    }
                    let targets: Vec<(ItemId, u32)> = step.effects[i..end]
                        .iter()
                        .filter_map(|e| match *e {
                            Effect::Delete { target, len } => Some((target, len)),
                            _ => None,
                        })
                        .collect();
                    self.restore(doc, step, &targets)
                }
                Effect::Title { before, after } => {
                    let ours = doc.title.stamp().replica == doc.replica;
                    if ours && doc.title() == after {
                        doc.set_title(before, now)
                    } else {
                        Ok(())
                    }
                }
                Effect::Counter { name, delta } => match delta.checked_neg() {
                    Some(0) => Ok(()),
                    Some(by) => doc.increment(name, by),
                    None => doc
                        .increment(name, i64::MAX)
                        .and_then(|()| doc.increment(name, 1)),
                },
            };
            if result.is_err() {
                break;
            }
        }
        debug_assert_eq!(own, doc.agent);
        let effects = self.read_new(doc);
        (Step { effects }, result)
    }

    /// Deletes whatever is still visible of the own characters
    /// `seq..seq + len` (or of what replaced them).
    fn remove_own(&self, doc: &mut Doc, seq: Seq, len: u32) -> Result<(), EditError> {
        let mut visible: Vec<(usize, usize)> = Vec::new();
        for (start, n) in self.latest(
            ItemId {
                agent: doc.agent,
                seq,
            },
            len,
        ) {
            for run in doc.rga.id_runs(start.agent, start.seq, n) {
                if run.at.visible {
                    visible.push((run.at.pos, run.len as usize));
                }
            }
        }
        // From the end, so earlier positions stay valid.
        sort_unstable_by_key(&mut visible, |&(pos, _)| core::cmp::Reverse(pos));
        for (pos, n) in visible {
            doc.delete(pos, n)?;
        }
        Ok(())
    }

    /// Re-inserts the deleted characters of `targets` (ranges, or what
    /// replaced them) that are still deleted, each where its tombstone is.
    fn restore(
        &mut self,
        doc: &mut Doc,
        step: &Step,
        targets: &[(ItemId, u32)],
    ) -> Result<(), EditError> {
        let own = doc.agent;
        let mut runs = Vec::new();
        let ranges = targets.iter().flat_map(|&(t, n)| self.latest(t, n));
        for (start, n) in ranges.collect::<Vec<_>>() {
            for run in doc.rga.id_runs(start.agent, start.seq, n) {
                // Text inserted in this step goes away with it anyway.
                let from_step = run.start.agent == own && inserted_in(step, run.start.seq);
                if !run.at.visible && !from_step && run.text.is_some() {
                    runs.push(run);
                }
            }
        }
        sort_unstable_by(&mut runs, |a, b| {
            a.at.pos
                .cmp(&b.at.pos)
                .then_with(|| doc.rga.cmp_order(a.start, b.start))
                .is_lt()
        });
        // Runs at one position become one insert, in document order; the
        // positions are handled from the end so earlier ones stay valid.
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        for (i, run) in runs.iter().enumerate() {
            match groups.last_mut() {
                Some((pos, members)) if *pos == run.at.pos => members.push(i),
                _ => groups.push((run.at.pos, vec![i])),
            }
        }
        for (pos, members) in groups.into_iter().rev() {
            let text: String = members
                .iter()
                .filter_map(|&i| runs[i].text.as_deref())
                .collect();
            let mut seq = doc.logs[own as usize].next;
            doc.insert(pos, &text)?;
            for &i in &members {
                let run = &runs[i];
                self.replaced
                    .insert(run.start, (ItemId { agent: own, seq }, run.len));
                seq += run.len;
            }
        }
        Ok(())
    }

    /// The latest incarnations of `start..start + len`, as id ranges.
    fn latest(&self, start: ItemId, len: u32) -> Vec<(ItemId, u32)> {
        let mut out = Vec::new();
        let mut todo = vec![(start, len)];
        while let Some((id, n)) = todo.pop() {
            if n == 0 {
                continue;
            }
            let covering = self
                .replaced
                .floor(&id)
                .filter(|(old, (_, l))| old.agent == id.agent && id.seq - old.seq < *l);
            if let Some((old, &(new, l))) = covering {
                let off = id.seq - old.seq;
                let k = n.min(l - off);
                todo.push((at(id, k), n - k));
                todo.push((at(new, off), k));
                continue;
            }
            let next = self
                .replaced
                .ceil(&id)
                .filter(|(old, _)| old.agent == id.agent && old.seq < id.seq.saturating_add(n));
            let k = next.map_or(n, |(old, _)| old.seq - id.seq);
            out.push((id, k));
            todo.push((at(id, k), n - k));
        }
        out
    }

    /// The local replica's operations since the last read, as effects.
    fn read_new(&mut self, doc: &Doc) -> Vec<Effect> {
        let own = doc.agent;
        let log = &doc.logs[own as usize];
        let mut effects = Vec::new();
        let mut title = core::mem::take(&mut self.title_seen);
        // Few counters change per step: a linear list beats a hash map here.
        let mut totals: Vec<(&str, (u64, u64))> = Vec::new();
        let mut seq = self.seen;
        let mut i = log.first_after(seq);
        while seq < log.next {
            let stop = log.ops.get(i).map_or(log.next, |op| op.seq.max(seq));
            if seq < stop {
                effects.push(Effect::Insert {
                    seq,
                    len: stop - seq,
                });
                seq = stop;
                continue;
            }
            let op = &log.ops[i];
            // A delete record may have grown since it was last read.
            let skip = seq - op.seq;
            match &op.kind {
                LogKind::Delete { target, reversed } => {
                    let (first, n) = remaining_targets(target.seq, op.len, *reversed, skip);
                    effects.push(Effect::Delete {
                        target: ItemId {
                            agent: target.agent,
                            seq: first,
                        },
                        len: n,
                    });
                }
                LogKind::Title(t) => {
                    effects.push(Effect::Title {
                        before: title.clone(),
                        after: t.value.clone(),
                    });
                    title.clone_from(&t.value);
                }
                LogKind::Counter(c) => {
                    let name = c.name.as_str();
                    let prev = match totals.iter().find(|(n, _)| *n == name) {
                        Some(&(_, t)) => t,
                        None => own_totals_before(log.ops[..i].iter(), name),
                    };
                    let delta =
                        i128::from(c.p) - i128::from(prev.0) - i128::from(c.n) + i128::from(prev.1);
                    match totals.iter_mut().find(|(n, _)| *n == name) {
                        Some(entry) => entry.1 = (c.p, c.n),
                        None => totals.push((name, (c.p, c.n))),
                    }
                    effects.push(Effect::Counter {
                        name: c.name.clone(),
                        delta: i64::try_from(delta).unwrap_or(if delta < 0 {
                            i64::MIN
                        } else {
                            i64::MAX
                        }),
                    });
                }
            }
            seq = op.seq + op.len;
            i += 1;
        }
        self.seen = log.next;
        self.title_seen = doc.title().to_owned();
        effects
    }
}

/// This replica's totals of counter `name` after the last of `ops` that
/// touched it.
fn own_totals_before<'a>(
    ops: impl DoubleEndedIterator<Item = &'a crate::doc::LogOp>,
    name: &str,
) -> (u64, u64) {
    ops.rev()
        .find_map(|op| match &op.kind {
            LogKind::Counter(c) if c.name == name => Some((c.p, c.n)),
            _ => None,
        })
        .unwrap_or((0, 0))
}

/// Whether own seq `seq` was inserted by an effect of `step`.
fn inserted_in(step: &Step, seq: Seq) -> bool {
    step.effects.iter().any(|e| match *e {
        Effect::Insert { seq: s, len } => seq >= s && seq - s < len,
        _ => false,
    })
}

/// `id` moved `k` characters on.
fn at(id: ItemId, k: u32) -> ItemId {
    ItemId {
        agent: id.agent,
        seq: id.seq + k,
    }
}

#[cfg(test)]
mod tests;
