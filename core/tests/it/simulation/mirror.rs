//! A plain-string mirror of one replica's text, driven only by the
//! [`Change`] events that [`Doc::apply`](quire_core::Doc::apply) reports:
//! what a UI that never reads `text()` would show.
//!
//! A `Change::Insert` carries positions and lengths but not the characters,
//! so inserted characters start out unknown and are filled in from the
//! document's text once the apply is done. Every position is checked as the
//! change arrives: exactly where the text before it is known, and within the
//! bounds an unknown character allows (1 or 2 UTF-16 units) otherwise.

use quire_core::Change;

#[derive(Clone, Copy, Debug)]
enum Slot {
    Known(char),
    /// A character of the `n`th insert of the current apply.
    Unknown(usize),
}

/// The mirrored text.
#[derive(Debug, Default)]
pub(super) struct Mirror {
    slots: Vec<Slot>,
    /// `(len, len_utf16)` of each insert of the current apply.
    inserts: Vec<(usize, usize)>,
}

/// UTF-16 length of `slots`, as `(known units, unknown characters)`.
fn units(slots: &[Slot]) -> (usize, usize) {
    slots.iter().fold((0, 0), |(k, u), s| match s {
        Slot::Known(c) => (k + c.len_utf16(), u),
        Slot::Unknown(_) => (k, u + 1),
    })
}

/// Whether `utf16` is a possible UTF-16 length of `slots`.
fn units_fit(slots: &[Slot], utf16: usize) -> bool {
    let (known, unknown) = units(slots);
    (known + unknown..=known + 2 * unknown).contains(&utf16)
}

impl Mirror {
    /// A mirror of `text`.
    pub(super) fn new(text: &str) -> Self {
        Mirror {
            slots: text.chars().map(Slot::Known).collect(),
            inserts: Vec::new(),
        }
    }

    /// Mirrors a local insert (which reports no change).
    pub(super) fn local_insert(&mut self, index: usize, text: &str) {
        self.slots
            .splice(index..index, text.chars().map(Slot::Known));
    }

    /// Mirrors a local delete.
    pub(super) fn local_delete(&mut self, index: usize, len: usize) {
        self.slots.drain(index..index + len);
    }

    /// The mirrored text (every character must be known).
    pub(super) fn text(&self) -> String {
        self.slots
            .iter()
            .map(|s| match s {
                Slot::Known(c) => *c,
                Slot::Unknown(_) => panic!("mirror has unresolved characters"),
            })
            .collect()
    }

    /// Replays the changes of one apply, then checks the result against
    /// `text_after` (the document's text after the apply) and fills in the
    /// inserted characters.
    pub(super) fn apply(&mut self, changes: &[Change], text_after: &str) -> Result<(), String> {
        self.inserts.clear();
        for (n, change) in changes.iter().enumerate() {
            self.replay(change)
                .map_err(|e| format!("change #{n} {change:?}: {e}"))?;
        }
        let after: Vec<char> = text_after.chars().collect();
        if after.len() != self.slots.len() {
            return Err(format!(
                "after replaying {} changes the mirror has {} chars, the document {}",
                changes.len(),
                self.slots.len(),
                after.len()
            ));
        }
        let mut survivors = vec![(0usize, 0usize); self.inserts.len()];
        for (k, (slot, &c)) in self.slots.iter_mut().zip(&after).enumerate() {
            match *slot {
                Slot::Known(m) if m != c => {
                    return Err(format!("char {k}: mirror has {m:?}, document has {c:?}"));
                }
                Slot::Known(_) => {}
                Slot::Unknown(i) => {
                    survivors[i].0 += 1;
                    survivors[i].1 += c.len_utf16();
                    *slot = Slot::Known(c);
                }
            }
        }
        for (i, (&(len, len_utf16), &(left, left_utf16))) in
            self.inserts.iter().zip(&survivors).enumerate()
        {
            if left == len && left_utf16 != len_utf16 {
                return Err(format!(
                    "insert #{i} reported len_utf16 {len_utf16}, its characters have {left_utf16}"
                ));
            }
        }
        Ok(())
    }

    fn check_index(&self, index: usize, index_utf16: usize, len: usize) -> Result<(), String> {
        if len == 0 {
            return Err("empty change".into());
        }
        if index > self.slots.len() {
            return Err(format!(
                "index past the end (mirror has {} chars)",
                self.slots.len()
            ));
        }
        if !units_fit(&self.slots[..index], index_utf16) {
            return Err(format!(
                "index_utf16 does not match, prefix units {:?}",
                units(&self.slots[..index])
            ));
        }
        Ok(())
    }

    fn replay(&mut self, change: &Change) -> Result<(), String> {
        match *change {
            Change::Insert {
                index,
                index_utf16,
                len,
                len_utf16,
            } => {
                self.check_index(index, index_utf16, len)?;
                if !(len..=2 * len).contains(&len_utf16) {
                    return Err("len_utf16 impossible for len".into());
                }
                let id = self.inserts.len();
                self.inserts.push((len, len_utf16));
                self.slots
                    .splice(index..index, std::iter::repeat_n(Slot::Unknown(id), len));
            }
            Change::Delete {
                index,
                index_utf16,
                len,
                len_utf16,
            } => {
                self.check_index(index, index_utf16, len)?;
                let end = index.checked_add(len).filter(|&e| e <= self.slots.len());
                let Some(end) = end else {
                    return Err(format!(
                        "range past the end (mirror has {} chars)",
                        self.slots.len()
                    ));
                };
                if !units_fit(&self.slots[index..end], len_utf16) {
                    return Err(format!(
                        "len_utf16 does not match, range units {:?}",
                        units(&self.slots[index..end])
                    ));
                }
                self.slots.drain(index..end);
            }
            Change::Title | Change::Counter { .. } => {}
            _ => return Err("unknown change kind".into()),
        }
        Ok(())
    }
}
