//! Queries by character id for anchors (cursors that follow edits), line
//! and column lookups, and undo (tombstones and their text).

use super::span::{Agent, ItemId, NO_CONTENT};
use super::tree::NONE;
use super::Rga;
use crate::ids::Seq;
use core::cmp::Ordering;

/// Line and column of a position in the text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LineCol {
    /// Zero-based line: the number of `'\n'` before the position.
    pub line: usize,
    /// Zero-based column in Unicode scalar values since the line start.
    pub column: usize,
    /// The same column in UTF-16 code units (what JavaScript uses).
    pub column_utf16: usize,
}

/// Where a character is: its visible position (for a tombstone, the number
/// of visible characters before it) and whether it is visible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Located {
    pub pos: usize,
    pub visible: bool,
}

/// A run of consecutive ids in one span, as undo sees it.
#[derive(Clone, Debug)]
pub(crate) struct IdRun {
    pub start: ItemId,
    pub len: u32,
    pub at: Located,
    /// The run's text, `None` when unknown (it arrived already deleted).
    pub text: Option<String>,
}

impl Rga {
    /// The id of the visible character at `pos` (`None` at or past the end).
    pub fn id_at(&self, pos: usize) -> Option<ItemId> {
        if pos >= self.len_chars() {
            return None;
        }
        let (leaf, start) = self.tree.find(pos, false);
        let (idx, offset) = self.find_in_leaf(leaf, pos - start.chars);
        let s = self.tree.leaves[leaf as usize].spans.get(idx)?;
        Some(ItemId {
            agent: s.agent,
            seq: s.seq + offset,
        })
    }

    /// Where character `id` is, or `None` if it is not a known character.
    pub fn locate_id(&self, id: ItemId) -> Option<Located> {
        let (leaf, idx) = self.find_id(id)?;
        let s = &self.tree.leaves[leaf as usize].spans[idx];
        Some(Located {
            pos: self.position(leaf, idx, id.seq - s.seq).chars,
            visible: !s.deleted,
        })
    }

    /// The ids `seq..seq + len` of `agent` as runs within spans, in id
    /// order, with their positions and text. Unknown ids are skipped.
    pub fn id_runs(&self, agent: Agent, seq: Seq, len: u32) -> Vec<IdRun> {
        let mut out = Vec::new();
        let end = seq.saturating_add(len);
        let mut s = seq;
        while s < end {
            let id = ItemId { agent, seq: s };
            let Some((leaf, idx)) = self.find_id(id) else {
                s += 1;
                continue;
            };
            let span = &self.tree.leaves[leaf as usize].spans[idx];
            let offset = s - span.seq;
            let k = (end - s).min(span.len - offset);
            let text = (span.content != NO_CONTENT).then(|| {
                let arena = &self.arenas[agent as usize];
                let from = span.content + arena.measure(span.content, offset).0;
                arena.slice(from, k).to_owned()
            });
            out.push(IdRun {
                start: id,
                len: k,
                at: Located {
                    pos: self.position(leaf, idx, offset).chars,
                    visible: !span.deleted,
                },
                text,
            });
            s += k;
        }
        out
    }

    /// Document order of two known characters (`Equal` if either is unknown
    /// or they are the same).
    pub fn cmp_order(&self, a: ItemId, b: ItemId) -> Ordering {
        let (Some((la, ia)), Some((lb, ib))) = (self.find_id(a), self.find_id(b)) else {
            return Ordering::Equal;
        };
        let key = |leaf: u32, idx: usize, id: ItemId| {
            let s = &self.tree.leaves[leaf as usize].spans[idx];
            (idx, id.seq - s.seq)
        };
        if la == lb {
            return key(la, ia, a).cmp(&key(lb, ib, b));
        }
        let (pa, pb) = (
            self.tree.leaf_start(la).chars,
            self.tree.leaf_start(lb).chars,
        );
        if pa != pb {
            return pa.cmp(&pb);
        }
        // Same visible start: only leaves without visible text lie between,
        // so walking forward from one finds the other quickly.
        if self.leaf_reaches(la, lb) {
            Ordering::Less
        } else {
            Ordering::Greater
        }
    }

    /// Whether `to` follows `from` with no visible text in the leaves between.
    fn leaf_reaches(&self, from: u32, to: u32) -> bool {
        let mut cur = self.tree.leaves[from as usize].next;
        while cur != NONE {
            if cur == to {
                return true;
            }
            let l = &self.tree.leaves[cur as usize];
            if l.counts.chars > 0 {
                return false;
            }
            cur = l.next;
        }
        false
    }

    /// Line and column of visible char `pos` (clamped to the length).
    ///
    /// O(pos): the tree caches no newline counts, so this scans the text
    /// before `pos` (a byte count per span, fast in practice).
    pub fn line_col(&self, pos: usize) -> LineCol {
        let mut left = pos.min(self.len_chars());
        let mut out = LineCol::default();
        for s in self.tree.spans() {
            if left == 0 {
                break;
            }
            if s.deleted {
                continue;
            }
            let arena = &self.arenas[s.agent as usize];
            let take = (s.len as usize).min(left) as u32;
            let text = arena.slice(s.content, take);
            left -= take as usize;
            match text.rfind('\n') {
                None if take == s.len => {
                    out.column += s.len as usize;
                    out.column_utf16 += s.utf16 as usize;
                }
                None => {
                    out.column += take as usize;
                    out.column_utf16 += text.encode_utf16().count();
                }
                Some(last) => {
                    out.line += text.bytes().filter(|&b| b == b'\n').count();
                    let tail = &text[last + 1..];
                    out.column = tail.chars().count();
                    out.column_utf16 = tail.encode_utf16().count();
                }
            }
        }
        out
    }
}
