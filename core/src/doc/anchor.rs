//! Anchors: positions tied to characters, so cursors follow concurrent
//! edits; and line/column lookups.

use super::Doc;
pub use crate::crdt::rga::anchor::LineCol;
use crate::crdt::rga::span::ItemId;
use crate::error::EditError;
use crate::ids::OpId;

/// Which side of its character an [`Anchor`] sits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Side {
    /// Just before the character: text inserted exactly at the anchor goes
    /// before it (the anchor moves right). What [`Doc::anchor_at`] makes;
    /// right for carets.
    Before,
    /// Just after the character: text inserted exactly at the anchor goes
    /// after it (the anchor stays).
    After,
}

/// A position that follows edits: tied to a character, not to an index.
///
/// Association: an anchor made by [`Doc::anchor_at`] sits *before* the
/// character at the index, so an insert exactly at the anchor (from any
/// replica) moves it right by the inserted length, and an insert before it
/// moves it right. When its character is deleted, the anchor resolves to
/// where the text continues: a delete covering it moves it to the delete
/// start. This is seed 003's cursor rule, made exact under concurrency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Anchor {
    /// The start of the text; stays at 0 (inserts at 0 go after it).
    Start,
    /// The end of the text; inserts at the end go before it.
    End,
    /// Next to a character.
    Char {
        /// The character (an insert's id).
        id: OpId,
        /// Which side of it.
        side: Side,
    },
}

impl Doc {
    /// An anchor at char `index` (clamped to the length) that sits before
    /// the character there, or [`Anchor::End`] at the end.
    pub fn anchor_at(&self, index: usize) -> Anchor {
        self.anchor_at_side(index, Side::Before)
    }

    /// An anchor at char `index` (clamped) on the given side: `Before` ties
    /// it to the character at `index`, `After` to the one before `index`
    /// (or [`Anchor::Start`] at 0), so inserts at `index` leave it in place.
    pub fn anchor_at_side(&self, index: usize, side: Side) -> Anchor {
        let index = index.min(self.len());
        let (at, fallback) = match side {
            Side::Before => (Some(index), Anchor::End),
            Side::After => (index.checked_sub(1), Anchor::Start),
        };
        match at.and_then(|i| self.rga.id_at(i)) {
            Some(id) => Anchor::Char {
                id: self.item_to_op(id),
                side,
            },
            None => fallback,
        }
    }

    /// [`Doc::anchor_at`] with a UTF-16 index (clamped; an index inside a
    /// surrogate pair moves to the pair's start).
    pub fn anchor_at_utf16(&self, index: usize) -> Anchor {
        self.anchor_at(self.utf16_to_index_floor(index))
    }

    /// The char index an anchor stands at now. An anchor on a character
    /// this document has not received yet (a peer is ahead) resolves to the
    /// end; use [`Doc::try_resolve`] to tell.
    pub fn resolve(&self, anchor: &Anchor) -> usize {
        self.try_resolve(anchor).unwrap_or_else(|| self.len())
    }

    /// [`Doc::resolve`], or `None` when the anchor's character is unknown.
    pub fn try_resolve(&self, anchor: &Anchor) -> Option<usize> {
        match *anchor {
            Anchor::Start => Some(0),
            Anchor::End => Some(self.len()),
            Anchor::Char { id, side } => {
                let agent = *self.agents.get(&id.replica)?;
                let at = self.rga.locate_id(ItemId { agent, seq: id.seq })?;
                Some(at.pos + usize::from(at.visible && side == Side::After))
            }
        }
    }

    /// [`Doc::resolve`] in UTF-16 code units.
    pub fn resolve_utf16(&self, anchor: &Anchor) -> usize {
        self.index_to_utf16(self.resolve(anchor))
    }

    /// Line and column of char `index` (clamped). O(index): scans the text
    /// before it (see [`LineCol`]).
    pub fn line_col(&self, index: usize) -> LineCol {
        self.rga.line_col(index)
    }

    /// [`Doc::line_col`] of a UTF-16 index (clamped, rounded down to a
    /// character boundary).
    pub fn line_col_utf16(&self, index: usize) -> LineCol {
        self.line_col(self.utf16_to_index_floor(index))
    }

    fn utf16_to_index_floor(&self, index: usize) -> usize {
        let index = index.min(self.len_utf16());
        match self.rga.utf16_to_chars(index) {
            Ok(i) => i,
            Err(EditError::InsideSurrogatePair { .. }) => {
                self.rga.utf16_to_chars(index - 1).unwrap_or(0)
            }
            Err(_) => self.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ReplicaId, VersionVector};

    fn sync(a: &mut Doc, b: &mut Doc) {
        let to_b = a.delta_since(&b.version());
        let to_a = b.delta_since(&a.version());
        b.apply(&to_b).unwrap();
        a.apply(&to_a).unwrap();
    }

    #[test]
    fn anchor_follows_local_inserts_before_it() {
        let mut d = Doc::new(ReplicaId(1));
        d.insert(0, "hello world").unwrap();
        let a = d.anchor_at(6);
        d.insert(0, ">> ").unwrap();
        assert_eq!(d.resolve(&a), 9);
        d.insert(9, "big ").unwrap(); // exactly at the anchor
        assert_eq!(d.resolve(&a), 13);
    }

    #[test]
    fn after_side_stays_left_of_inserts_at_it() {
        let mut d = Doc::new(ReplicaId(1));
        d.insert(0, "ab").unwrap();
        let a = d.anchor_at_side(1, Side::After);
        d.insert(1, "X").unwrap();
        assert_eq!(d.resolve(&a), 1);
        let s = d.anchor_at_side(0, Side::After);
        assert_eq!(s, Anchor::Start);
        d.insert(0, "Y").unwrap();
        assert_eq!(d.resolve(&s), 0);
    }

    #[test]
    fn deleted_anchor_resolves_to_delete_start() {
        let mut d = Doc::new(ReplicaId(1));
        d.insert(0, "0123456789").unwrap();
        let a = d.anchor_at(5);
        let after = d.anchor_at_side(5, Side::After);
        d.delete(3, 4).unwrap();
        assert_eq!(d.resolve(&a), 3);
        assert_eq!(d.resolve(&after), 3);
    }

    #[test]
    fn end_anchor_and_unknown_characters() {
        let mut a = Doc::new(ReplicaId(1));
        a.insert(0, "abc").unwrap();
        let end = a.anchor_at(99);
        assert_eq!(end, Anchor::End);
        a.insert(3, "d").unwrap();
        assert_eq!(a.resolve(&end), 4);
        let b = Doc::new(ReplicaId(2));
        let foreign = a.anchor_at(1);
        assert_eq!(b.try_resolve(&foreign), None);
        assert_eq!(b.resolve(&foreign), 0);
        let mut c = Doc::new(ReplicaId(3));
        c.apply(&a.delta_since(&VersionVector::new())).unwrap();
        assert_eq!(c.resolve(&foreign), 1);
    }

    #[test]
    fn utf16_anchors_round_down_inside_surrogate_pairs() {
        let mut d = Doc::new(ReplicaId(1));
        d.insert(0, "a😀b").unwrap();
        let a = d.anchor_at_utf16(2); // inside the emoji
        assert_eq!(d.resolve(&a), 1);
        assert_eq!(d.resolve_utf16(&a), 1);
        let b = d.anchor_at_utf16(3);
        assert_eq!(d.resolve(&b), 2);
        assert_eq!(d.resolve_utf16(&b), 3);
    }

    #[test]
    fn remote_insert_at_cursor_moves_it_right() {
        let mut a = Doc::new(ReplicaId(1));
        let mut b = Doc::new(ReplicaId(2));
        a.insert(0, "abcd").unwrap();
        sync(&mut a, &mut b);
        let cursor = a.anchor_at(2);
        b.insert(2, "XY").unwrap();
        sync(&mut a, &mut b);
        assert_eq!(a.text(), "abXYcd");
        assert_eq!(a.resolve(&cursor), 4);
        assert_eq!(b.resolve(&cursor), 4);
    }

    #[test]
    fn line_col_counts_newlines_and_units() {
        let mut d = Doc::new(ReplicaId(1));
        d.insert(0, "ab\n😀c\n").unwrap();
        let lc = |i| {
            let l = d.line_col(i);
            (l.line, l.column, l.column_utf16)
        };
        assert_eq!(lc(0), (0, 0, 0));
        assert_eq!(lc(2), (0, 2, 2));
        assert_eq!(lc(3), (1, 0, 0));
        assert_eq!(lc(4), (1, 1, 2));
        assert_eq!(lc(5), (1, 2, 3));
        assert_eq!(lc(6), (2, 0, 0));
        assert_eq!(lc(60), (2, 0, 0));
        assert_eq!(d.line_col_utf16(5), d.line_col(4));
    }
}
