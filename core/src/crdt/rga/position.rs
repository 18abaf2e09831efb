//! Finding characters: ids to tree positions, and positions in chars and
//! UTF-16 code units to each other.

use super::span::{Agent, ItemId, Span, NO_CONTENT};
use super::{CharInfo, Piece, Pos, Rga};
use crate::error::EditError;
use crate::ids::Seq;

impl Rga {
    pub(super) fn find_id(&self, id: ItemId) -> Option<(u32, usize)> {
        let leaf = self.index().leaf(id.agent, id.seq)?;
        let i = self.tree.leaves[leaf as usize]
            .spans
            .iter()
            .position(|s| s.contains(id.agent, id.seq))?;
        Some((leaf, i))
    }

    /// Lamport timestamp of a known character, `None` if `id` is no character.
    pub fn char_info(&self, id: ItemId) -> Option<CharInfo> {
        let (leaf, i) = self.find_id(id)?;
        let s = &self.tree.leaves[leaf as usize].spans[i];
        Some(CharInfo {
            lamport: s.lamport + u64::from(id.seq - s.seq),
        })
    }

    /// The inserted characters `from..to` of `agent` (all must be
    /// characters), in sequence order, one piece per span part.
    pub fn pieces(&self, agent: Agent, from: Seq, to: Seq) -> impl Iterator<Item = Piece<'_>> + '_ {
        let mut seq = from;
        core::iter::from_fn(move || {
            if seq >= to {
                return None;
            }
            let (leaf, idx) = self.find_id(ItemId { agent, seq })?;
            let s = &self.tree.leaves[leaf as usize].spans[idx];
            let offset = seq - s.seq;
            let len = (to - seq).min(s.len - offset);
            let content = (!s.deleted && s.content != NO_CONTENT).then(|| {
                let arena = &self.arenas[agent as usize];
                let start = if offset == 0 {
                    s.content
                } else {
                    s.content + arena.measure(s.content, offset).0
                };
                arena.slice(start, len)
            });
            let piece = Piece {
                seq,
                len,
                lamport: s.lamport + u64::from(offset),
                origin: s.origin_at(offset),
                content,
            };
            seq += len;
            Some(piece)
        })
    }

    /// How many characters follow `id` (itself included) in its span, or
    /// `None` if `id` is no character.
    pub fn char_run(&self, id: ItemId) -> Option<u32> {
        let (leaf, i) = self.find_id(id)?;
        let s = &self.tree.leaves[leaf as usize].spans[i];
        Some(s.len - (id.seq - s.seq))
    }

    /// Converts a UTF-16 index to a char index.
    pub fn utf16_to_chars(&self, pos: usize) -> Result<usize, EditError> {
        let len = self.len_utf16();
        if pos > len {
            return Err(EditError::OutOfBounds { index: pos, len });
        }
        if len == self.len_chars() {
            // Every character is one code unit (typical text): no walk.
            return Ok(pos);
        }
        let (leaf, start) = self.tree.find(pos, true);
        let mut p = pos - start.utf16;
        let mut chars = start.chars;
        for s in &self.tree.leaves[leaf as usize].spans {
            if s.deleted {
                continue;
            }
            if p < s.utf16 as usize {
                if s.utf16 == s.len {
                    return Ok(chars + p);
                }
                let text = self.arenas[s.agent as usize].slice(s.content, s.len);
                let mut acc = 0;
                for (k, c) in text.chars().enumerate() {
                    if acc == p {
                        return Ok(chars + k);
                    }
                    acc += c.len_utf16();
                    if acc > p {
                        return Err(EditError::InsideSurrogatePair { index: pos });
                    }
                }
                unreachable!("utf16 offset inside span");
            }
            p -= s.utf16 as usize;
            chars += s.len as usize;
        }
        Ok(chars)
    }

    /// Converts a char index (<= len) to a UTF-16 index.
    pub fn chars_to_utf16(&self, pos: usize) -> usize {
        let (leaf, start) = self.tree.find(pos, false);
        let mut p = pos.saturating_sub(start.chars);
        let mut utf16 = start.utf16;
        for s in &self.tree.leaves[leaf as usize].spans {
            if s.deleted {
                continue;
            }
            if p < s.len as usize {
                return utf16 + self.prefix_utf16(s, p as u32) as usize;
            }
            p -= s.len as usize;
            utf16 += s.utf16 as usize;
        }
        utf16
    }

    pub(super) fn prefix_utf16(&self, s: &Span, chars: u32) -> u32 {
        if s.utf16 == s.len || s.content == NO_CONTENT {
            chars
        } else {
            self.arenas[s.agent as usize].measure(s.content, chars).1
        }
    }

    /// Visible position of char `offset` of span `idx` of `leaf`.
    pub(super) fn position(&self, leaf: u32, idx: usize, offset: u32) -> Pos {
        let start = self.tree.leaf_start(leaf);
        let mut pos = Pos {
            chars: start.chars,
            utf16: start.utf16,
        };
        let spans = &self.tree.leaves[leaf as usize].spans;
        for s in &spans[..idx] {
            pos.chars += s.visible_chars() as usize;
            pos.utf16 += s.visible_utf16() as usize;
        }
        if offset > 0 && idx < spans.len() && !spans[idx].deleted {
            pos.chars += offset as usize;
            pos.utf16 += self.prefix_utf16(&spans[idx], offset) as usize;
        }
        pos
    }
}
