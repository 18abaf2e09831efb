//! The text CRDT: RGA (replicated growable array) on a B-tree of run-length
//! spans.
//!
//! Each character has an id `(replica, seq)`, a Lamport timestamp and an
//! origin: the character it was inserted after. A remote insert goes right
//! after its origin, past any run whose first timestamp is higher (higher
//! Lamport first, then higher replica id), so concurrent inserts at one place
//! end in the same order everywhere. Deletes leave tombstones.
//!
//! A local insert's origin is the visible character before the cursor (as
//! in other RGA and YATA editors), so edits that other replicas see as
//! concurrent only meet when they really are at the same place.

pub(crate) mod anchor;
mod bulk;
pub(crate) mod by_id;
mod index;
pub(crate) mod order;
mod position;
pub(crate) mod span;
mod tree;

use crate::error::EditError;
use crate::ids::{ReplicaId, Seq};
pub(crate) use bulk::BulkSpans;
use by_id::ById;
use index::IdIndex;
pub(crate) use span::Arena;
use span::{split_span, Agent, ItemId, Span, NO_CONTENT, ROOT_AGENT};
use std::sync::OnceLock;
use tree::{Spliced, Tree, NONE};

/// Where a change happened, in both position units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pos {
    pub chars: usize,
    pub utf16: usize,
}

/// A run of characters to integrate.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NewRun<'a> {
    pub agent: Agent,
    pub seq: Seq,
    pub len: u32,
    pub lamport: u64,
    /// `None`: the start of the document.
    pub origin: Option<ItemId>,
    /// `None` when the sender no longer has it (the run is deleted there).
    pub content: Option<&'a str>,
}

/// A part of one span, as history: the inserts `seq..seq + len`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Piece<'a> {
    pub seq: Seq,
    pub len: u32,
    pub lamport: u64,
    pub origin: ItemId,
    /// `None` when deleted (the text is not sent) or unknown.
    pub content: Option<&'a str>,
}

/// What is known about one character.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CharInfo {
    pub lamport: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct Rga {
    tree: Tree,
    /// Built from the tree on first use after a decode: loading a
    /// document to read it needs no index.
    index: OnceLock<IdIndex>,
    arenas: Vec<Arena>,
    /// A leaf and its start (in chars): most edits land near the last one.
    cursor: Option<(u32, usize)>,
    /// A span of some leaf and the visible chars before it in that leaf, so
    /// in-leaf searches start next to the last edit (see `Finger`).
    finger: Finger,
    /// While the tree is as decode built it, the replica whose arena is the
    /// whole visible text, in order (one writer): reading the text after a
    /// load copies it whole.
    flat: Option<Agent>,
}

/// `(leaf, span index, visible chars before it in the leaf)`. Edits at span
/// index `lo` leave spans before `lo` alone, so the finger stays valid when
/// walked back to `lo` first ([`Rga::edit_at`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Finger {
    leaf: u32,
    idx: usize,
    before: usize,
}

const NO_FINGER: Finger = Finger {
    leaf: NONE,
    idx: 0,
    before: 0,
};

impl Default for Rga {
    fn default() -> Self {
        Self::new()
    }
}

impl Rga {
    pub fn new() -> Self {
        Rga {
            tree: Tree::new(),
            index: OnceLock::from(IdIndex::default()),
            arenas: Vec::new(),
            cursor: None,
            finger: NO_FINGER,
            flat: None,
        }
    }

    pub fn ensure_agent(&mut self, agent: Agent) {
        if let Some(index) = self.index.get_mut() {
            index.ensure_agent(agent);
        }
        while self.arenas.len() <= agent as usize {
            self.arenas.push(Arena::new());
        }
    }

    pub fn len_chars(&self) -> usize {
        self.tree.counts().chars
    }

    pub fn len_utf16(&self) -> usize {
        self.tree.counts().utf16
    }

    /// How many spans the tree holds.
    pub fn span_count(&self) -> usize {
        self.tree.leaves.iter().map(|l| l.spans.len()).sum()
    }

    /// The visible text.
    pub fn text(&self) -> String {
        match self.flat_text() {
            Some(text) => text.to_owned(),
            None => self.text_by_spans(),
        }
    }

    /// The visible text when one arena holds all of it (see `flat`).
    fn flat_text(&self) -> Option<&str> {
        let a = self.flat.filter(|_| self.tree.pristine())?;
        self.arenas.get(a as usize).map(Arena::text)
    }

    /// The visible text, span by span.
    fn text_by_spans(&self) -> String {
        let mut out = String::with_capacity(self.len_chars());
        // Spans whose content is contiguous in one arena (most of a decoded
        // text, edits aside) are copied as one run: `(agent, bytes)`.
        let mut run = (ROOT_AGENT, 0..0);
        for s in self.tree.spans().filter(|s| !s.deleted) {
            let start = s.content as usize;
            let end = start + self.arenas[s.agent as usize].measure(s.content, s.len).0 as usize;
            if run.0 == s.agent && run.1.end == start {
                run.1.end = end;
            } else {
                self.push_run(&mut out, run);
                run = (s.agent, start..end);
            }
        }
        self.push_run(&mut out, run);
        out
    }

    fn push_run(&self, out: &mut String, (agent, bytes): (Agent, core::ops::Range<usize>)) {
        if let Some(arena) = self.arenas.get(agent as usize) {
            out.push_str(&arena.text()[bytes]);
        }
    }

    /// All spans in document order, one leaf's at a time (plain loops over
    /// slices, for encode).
    pub fn leaves(&self) -> impl Iterator<Item = &[Span]> + '_ {
        let mut leaf = self.tree.first_leaf();
        core::iter::from_fn(move || {
            let l = self.tree.leaves.get(leaf as usize)?;
            leaf = l.next;
            Some(&l.spans[..])
        })
    }

    /// Replica `agent`'s arena when it is ASCII (spans' content offsets and
    /// lengths then index it directly); else empty.
    pub fn ascii_arena(&self, agent: Agent) -> &[u8] {
        match self.arenas.get(agent as usize) {
            Some(a) if a.is_ascii() => a.text().as_bytes(),
            _ => &[],
        }
    }

    /// The text of a span (empty when its content is unknown: it arrived
    /// deleted).
    #[inline]
    pub fn content(&self, s: &Span) -> &str {
        if s.content == NO_CONTENT {
            ""
        } else {
            self.arenas[s.agent as usize].slice(s.content, s.len)
        }
    }

    /// Rebuilds from spans in document order whose content is already in
    /// `arenas` (decode). The id index is built when first needed. `flat`:
    /// the replica whose arena is exactly the visible text, if one is.
    pub fn from_parts(arenas: Vec<Arena>, spans: BulkSpans, flat: Option<Agent>) -> Self {
        Rga {
            index: OnceLock::new(),
            tree: Tree::from_bulk(spans),
            arenas,
            cursor: None,
            finger: NO_FINGER,
            flat,
        }
    }

    /// Character id -> leaf, built from the tree if not yet.
    fn index(&self) -> &IdIndex {
        self.index.get_or_init(|| self.build_index())
    }

    fn index_mut(&mut self) -> &mut IdIndex {
        if self.index.get().is_none() {
            self.index = OnceLock::from(self.build_index());
        }
        match self.index.get_mut() {
            Some(index) => index,
            None => unreachable!("the index was just built"),
        }
    }

    /// The id index of the tree as it is: its spans sorted by id.
    #[cold]
    fn build_index(&self) -> IdIndex {
        let mut leaves = Vec::new();
        let mut leaf = self.tree.first_leaf();
        while let Some(l) = self.tree.leaves.get(leaf as usize) {
            leaves.push((leaf, &l.spans[..]));
            leaf = l.next;
        }
        let mut next = vec![0; self.arenas.len()];
        for s in leaves.iter().flat_map(|(_, s)| *s) {
            if let Some(end) = next.get_mut(s.agent as usize) {
                *end = (*end).max(s.seq + s.len);
            }
        }
        let runs = ById::new(&leaves, &next).into_leaf_runs();
        IdIndex::from_runs(self.arenas.len(), runs)
    }

    /// Prepares for integrating many runs (see `IdIndex` bulk mode).
    pub fn begin_bulk(&mut self) {
        let tree = &self.tree;
        let mut leaf = tree.first_leaf();
        let mut spans = Vec::new();
        while leaf != NONE {
            let l = &tree.leaves[leaf as usize];
            spans.extend(
                l.spans
                    .iter()
                    .map(|s| (s.agent, s.seq, s.seq + s.len, leaf)),
            );
            leaf = l.next;
        }
        self.index_mut().begin_bulk(spans.into_iter());
    }

    /// Ends a bulk integration.
    pub fn end_bulk(&mut self) {
        self.index_mut().end_bulk();
    }

    pub fn heap_bytes(&self) -> usize {
        self.tree.heap_bytes()
            + self.index.get().map_or(0, IdIndex::heap_bytes)
            + self.arenas.iter().map(Arena::heap_bytes).sum::<usize>()
    }

    /// The leaf holding visible char `pos` (or the last leaf at the end).
    fn locate(&mut self, pos: usize) -> (u32, usize) {
        if let Some((leaf, start)) = self.cursor {
            let l = &self.tree.leaves[leaf as usize];
            let end = start + l.counts.chars;
            if pos >= start && (pos < end || (pos == end && l.next == NONE)) {
                return (leaf, start);
            }
        }
        let (leaf, start) = self.tree.find(pos, false);
        self.cursor = Some((leaf, start.chars));
        (leaf, start.chars)
    }

    /// Span index and char offset of visible char `p` of `leaf` (or
    /// `(len, 0)` at the end of the leaf).
    fn find_in_leaf(&self, leaf: u32, p: usize) -> (usize, u32) {
        let (idx, offset, _) = self.scan_leaf(leaf, p);
        (idx, offset)
    }

    /// [`Rga::find_in_leaf`] for edits: leaves the finger on the span found.
    fn seek_in_leaf(&mut self, leaf: u32, p: usize) -> (usize, u32) {
        let (idx, offset, before) = self.scan_leaf(leaf, p);
        self.finger = Finger { leaf, idx, before };
        (idx, offset)
    }

    /// Span index, char offset and visible chars before the span; starts
    /// from the finger when it is in `leaf`.
    fn scan_leaf(&self, leaf: u32, p: usize) -> (usize, u32, usize) {
        let spans = &self.tree.leaves[leaf as usize].spans;
        let f = self.finger;
        let (mut i, mut before) = if f.leaf == leaf && f.idx < spans.len() {
            (f.idx, f.before)
        } else {
            (0, 0)
        };
        // Back to the span holding `p`: the first with less before it.
        while before > p {
            i -= 1;
            before -= spans[i].visible_chars() as usize;
        }
        while i < spans.len() {
            let v = spans[i].visible_chars() as usize;
            if p < before + v {
                return (i, (p - before) as u32, before);
            }
            before += v;
            i += 1;
        }
        (spans.len(), 0, before)
    }

    /// Called before changing spans from index `lo` of `leaf` on: walks the
    /// finger back so it only counts spans that stay.
    fn edit_at(&mut self, leaf: u32, lo: usize) {
        let f = &mut self.finger;
        if f.leaf != leaf {
            return;
        }
        let spans = &self.tree.leaves[leaf as usize].spans;
        while f.idx > lo {
            f.idx -= 1;
            f.before -= spans[f.idx].visible_chars() as usize;
        }
    }

    /// The id of the item right before span `idx` of `leaf`.
    fn item_before(&self, leaf: u32, idx: usize) -> ItemId {
        let l = &self.tree.leaves[leaf as usize];
        if idx > 0 {
            return l.spans[idx - 1].last_id();
        }
        let mut prev = l.prev;
        while prev != NONE {
            let p = &self.tree.leaves[prev as usize];
            if let Some(s) = p.spans.last() {
                return s.last_id();
            }
            prev = p.prev;
        }
        ItemId {
            agent: ROOT_AGENT,
            seq: 0,
        }
    }

    /// Inserts `text` at visible char `pos` as a local edit. The caller
    /// checked that `text` is non-empty and that the ids are fresh.
    pub fn insert(
        &mut self,
        pos: usize,
        agent: Agent,
        seq: Seq,
        lamport: u64,
        text: &str,
    ) -> Result<(), EditError> {
        let len = self.len_chars();
        if pos > len {
            return Err(EditError::OutOfBounds { index: pos, len });
        }
        let (chars, utf16) = if text.is_ascii() {
            (text.len() as u32, text.len() as u32)
        } else {
            text.chars()
                .fold((0u32, 0u32), |(n, u), c| (n + 1, u + c.len_utf16() as u32))
        };
        // Right after the visible character before `pos` (its origin), or at
        // the very start.
        let (leaf, idx, offset) = if pos == 0 {
            // Every leaf after the first moves: only the first stays cached.
            let first = self.tree.first_leaf();
            self.cursor = Some((first, 0));
            (first, 0, 0)
        } else {
            let (leaf, start) = self.locate(pos - 1);
            let (idx, offset) = self.seek_in_leaf(leaf, pos - 1 - start);
            if offset + 1 == self.tree.leaves[leaf as usize].spans[idx].len {
                (leaf, idx + 1, 0)
            } else {
                (leaf, idx, offset + 1)
            }
        };
        let (content, follows) = self.arenas[agent as usize].push(text, seq, chars);
        let new = Span {
            agent,
            seq,
            len: chars,
            utf16,
            lamport,
            origin: ItemId {
                agent: ROOT_AGENT,
                seq: 0,
            },
            content,
            deleted: false,
        };
        self.place(leaf, idx, offset, new, true, follows);
        Ok(())
    }

    /// Places a fresh span before char `offset` of span `idx` of `leaf`. A
    /// local span takes the item before it as its origin.
    /// `follows`: the new content directly follows that of `seq - 1`.
    fn place(
        &mut self,
        leaf: u32,
        idx: usize,
        offset: u32,
        mut new: Span,
        local: bool,
        follows: bool,
    ) {
        self.edit_at(leaf, idx.saturating_sub(1));
        if offset > 0 {
            let mut left = self.tree.leaves[leaf as usize].spans[idx];
            let arena = &self.arenas[left.agent as usize];
            let right = split_span(&mut left, offset, arena);
            if local {
                new.origin = left.last_id();
            }
            let done = self.tree.splice(leaf, idx, 1, &[left, new, right]);
            self.after_splice(leaf, done);
            let (l, _) = done.locate(leaf, idx + 1);
            self.index_mut()
                .assign_fresh(new.agent, new.seq, new.seq + new.len, l);
            return;
        }
        if local {
            new.origin = self.item_before(leaf, idx);
        }
        if idx > 0 {
            let prev = self.tree.leaves[leaf as usize].spans[idx - 1];
            if follows_on(&prev, &new, follows) {
                self.tree.update_span(leaf, idx - 1, |s| {
                    s.len += new.len;
                    s.utf16 += new.utf16;
                });
                self.index_mut()
                    .assign_fresh(new.agent, new.seq, new.seq + new.len, leaf);
                return;
            }
        }
        let done = self.tree.splice(leaf, idx, 0, &[new]);
        self.after_splice(leaf, done);
        let (l, _) = done.locate(leaf, idx);
        self.index_mut()
            .assign_fresh(new.agent, new.seq, new.seq + new.len, l);
    }

    /// Whether `next` continues `prev` (measures content for non-ASCII).
    fn can_append(&self, prev: &Span, next: &Span) -> bool {
        if prev.agent != next.agent
            || prev.deleted != next.deleted
            || prev.seq + prev.len != next.seq
        {
            return false;
        }
        let bytes = if prev.content == NO_CONTENT {
            0
        } else {
            self.arenas[prev.agent as usize]
                .measure(prev.content, prev.len)
                .0
        };
        prev.can_append(next, bytes)
    }

    /// Re-points the index (and the finger) at spans a leaf split moved.
    fn after_splice(&mut self, leaf: u32, done: Spliced) {
        if done.new_leaf == NONE {
            return;
        }
        if self.finger.leaf == leaf && self.finger.idx >= done.split_at {
            self.finger = NO_FINGER;
        }
        let moved: Vec<(Agent, Seq, Seq)> = self.tree.leaves[done.new_leaf as usize]
            .spans
            .iter()
            .map(|s| (s.agent, s.seq, s.seq + s.len))
            .collect();
        for (agent, start, end) in moved {
            self.index_mut().assign(agent, start, end, done.new_leaf);
        }
    }

    /// Deletes `len` visible chars at `pos` as a local edit, reporting
    /// each deleted id range in document order to `on_target`.
    pub fn delete(
        &mut self,
        pos: usize,
        len: usize,
        mut on_target: impl FnMut(ItemId, u32),
    ) -> Result<(), EditError> {
        let total = self.len_chars();
        if pos.checked_add(len).is_none_or(|end| end > total) {
            return Err(EditError::OutOfBounds {
                index: pos.saturating_add(len),
                len: total,
            });
        }
        let mut remaining = len;
        while remaining > 0 {
            // What is left to delete always starts at visible `pos`.
            let (mut leaf, start) = self.locate(pos);
            let (mut idx, offset) = self.seek_in_leaf(leaf, pos - start);
            loop {
                let l = &self.tree.leaves[leaf as usize];
                if idx == l.spans.len() {
                    leaf = l.next;
                    idx = 0;
                } else if l.spans[idx].deleted {
                    idx += 1;
                } else {
                    break;
                }
            }
            let s = self.tree.leaves[leaf as usize].spans[idx];
            let offset = if s.deleted { 0 } else { offset.min(s.len) };
            let k = (remaining as u64).min(u64::from(s.len - offset)) as u32;
            on_target(
                ItemId {
                    agent: s.agent,
                    seq: s.seq + offset,
                },
                k,
            );
            self.delete_piece(leaf, idx, offset, k);
            remaining -= k as usize;
        }
        Ok(())
    }

    /// Marks `[seq, seq + len)` of `agent` deleted (all must be known
    /// characters; deleting twice is harmless).
    pub fn delete_ids(&mut self, agent: Agent, seq: Seq, len: u32) {
        // A remote delete may shift the cached leaf's start.
        self.cursor = None;
        let end = seq + len;
        let mut s = seq;
        while s < end {
            let Some((leaf, idx)) = self.find_id(ItemId { agent, seq: s }) else {
                debug_assert!(false, "delete of an unknown character");
                return;
            };
            let span = self.tree.leaves[leaf as usize].spans[idx];
            let offset = s - span.seq;
            let k = (end - s).min(span.len - offset);
            if !span.deleted {
                self.delete_piece(leaf, idx, offset, k);
            }
            s += k;
        }
    }

    /// Visible position and length of `[seq, seq+len)` pieces, for change
    /// events (call before deleting them).
    pub fn visible_pieces(&self, agent: Agent, seq: Seq, len: u32) -> Vec<(Pos, Pos)> {
        let mut out = Vec::new();
        let end = seq + len;
        let mut s = seq;
        while s < end {
            let Some((leaf, idx)) = self.find_id(ItemId { agent, seq: s }) else {
                break;
            };
            let span = self.tree.leaves[leaf as usize].spans[idx];
            let offset = s - span.seq;
            let k = (end - s).min(span.len - offset);
            if !span.deleted {
                let at = self.position(leaf, idx, offset);
                let u = self.prefix_utf16(&span, offset + k) - self.prefix_utf16(&span, offset);
                out.push((
                    at,
                    Pos {
                        chars: k as usize,
                        utf16: u as usize,
                    },
                ));
            }
            s += k;
        }
        out
    }

    fn delete_piece(&mut self, leaf: u32, idx: usize, offset: u32, k: u32) {
        self.edit_at(leaf, idx.saturating_sub(1));
        let spans = &self.tree.leaves[leaf as usize].spans;
        let span = spans[idx];
        let arena = &self.arenas[span.agent as usize];
        // Backspacing: the deleted tail joins the tombstones right after it,
        // which continue it; the boundary moves and nothing is spliced.
        if offset > 0 && offset + k == span.len && !span.deleted {
            if let Some(next) = spans.get(idx + 1) {
                let mut head = span;
                let mut tail = split_span(&mut head, offset, arena);
                tail.deleted = true;
                if self.can_append(&tail, next) {
                    tail.len += next.len;
                    tail.utf16 += next.utf16;
                    self.tree.update_span(leaf, idx, |s| *s = head);
                    self.tree.update_span(leaf, idx + 1, |s| *s = tail);
                    return;
                }
            }
        }
        // Up to: left neighbour, kept head, deleted middle, kept tail, right neighbour.
        let mut parts = [span; 5];
        let mut n = 0;
        let mut lo = idx;
        let mut hi = idx + 1;
        if offset == 0 && idx > 0 {
            lo -= 1;
            parts[n] = spans[idx - 1];
            n += 1;
        }
        let mut mid = span;
        if offset > 0 {
            let right = split_span(&mut mid, offset, arena);
            parts[n] = mid;
            n += 1;
            mid = right;
        }
        if k < mid.len {
            let rest = split_span(&mut mid, k, arena);
            mid.deleted = true;
            parts[n] = mid;
            parts[n + 1] = rest;
            n += 2;
        } else {
            mid.deleted = true;
            parts[n] = mid;
            n += 1;
            if let Some(next) = spans.get(idx + 1) {
                parts[n] = *next;
                n += 1;
                hi += 1;
            }
        }
        let n = self.coalesce(&mut parts[..n]);
        let done = self.tree.splice(leaf, lo, hi - lo, &parts[..n]);
        self.after_splice(leaf, done);
    }

    /// Merges neighbours that continue each other, in place; returns the
    /// new count.
    fn coalesce(&self, parts: &mut [Span]) -> usize {
        let mut n = 0;
        for i in 0..parts.len() {
            let p = parts[i];
            if n > 0 && self.can_append(&parts[n - 1], &p) {
                parts[n - 1].len += p.len;
                parts[n - 1].utf16 += p.utf16;
            } else {
                parts[n] = p;
                n += 1;
            }
        }
        n
    }

    /// Integrates a remote insert run whose origin is known. Returns where
    /// it became visible when `track` is set.
    pub fn integrate_insert(
        &mut self,
        replicas: &[ReplicaId],
        run: NewRun<'_>,
        track: bool,
    ) -> Option<Pos> {
        self.cursor = None;
        let (content, follows, utf16) = match run.content {
            Some(text) => {
                let (at, follows) = self.arenas[run.agent as usize].push(text, run.seq, run.len);
                (at, follows, text.encode_utf16().count() as u32)
            }
            None => (NO_CONTENT, true, run.len),
        };
        let new = Span {
            agent: run.agent,
            seq: run.seq,
            len: run.len,
            utf16,
            lamport: run.lamport,
            origin: run.origin.unwrap_or(ItemId {
                agent: ROOT_AGENT,
                seq: 0,
            }),
            content,
            deleted: run.content.is_none(),
        };
        let key = (run.lamport, replicas[run.agent as usize], run.seq);
        let (mut leaf, mut idx, mut offset) = match run.origin {
            None => (self.tree.first_leaf(), 0, 0),
            Some(o) => {
                let (leaf, idx) = self.find_id(o).expect("origin checked by the caller");
                let s = &self.tree.leaves[leaf as usize].spans[idx];
                let off = o.seq - s.seq + 1;
                if off == s.len {
                    (leaf, idx + 1, 0)
                } else {
                    (leaf, idx, off)
                }
            }
        };
        // Skip runs that sort before the new one (higher timestamps first).
        loop {
            let l = &self.tree.leaves[leaf as usize];
            if idx == l.spans.len() {
                if l.next == NONE {
                    break;
                }
                leaf = l.next;
                idx = 0;
                continue;
            }
            let s = &l.spans[idx];
            let other = (
                s.lamport + u64::from(offset),
                replicas[s.agent as usize],
                s.seq + offset,
            );
            if other > key {
                idx += 1;
                offset = 0;
            } else {
                break;
            }
        }
        let at = track.then(|| self.position(leaf, idx, offset));
        self.place(leaf, idx, offset, new, false, follows);
        at.filter(|_| !new.deleted)
    }

    #[cfg(test)]
    pub fn check(&self) {
        self.tree.check();
        if let Some(text) = self.flat_text() {
            assert_eq!(text, self.text_by_spans(), "flat text");
        }
        for s in self.tree.spans() {
            for seq in [s.seq, s.seq + s.len - 1] {
                assert!(
                    self.find_id(ItemId {
                        agent: s.agent,
                        seq
                    })
                    .is_some(),
                    "index finds {:?}",
                    (s.agent, seq)
                );
            }
        }
    }
}

/// `next` continues `prev`, given whether its content was pushed right
/// after `prev`'s (so no content needs measuring).
fn follows_on(prev: &Span, next: &Span, follows: bool) -> bool {
    let contiguous_content = match (prev.content, next.content) {
        (NO_CONTENT, NO_CONTENT) => true,
        (NO_CONTENT, _) | (_, NO_CONTENT) => false,
        _ => follows,
    };
    contiguous_content
        && prev.agent == next.agent
        && prev.deleted == next.deleted
        && prev.seq + prev.len == next.seq
        && prev.lamport + u64::from(prev.len) == next.lamport
        && next.origin == prev.last_id()
}

#[cfg(test)]
mod tests;
