//! Merging encoded state of either kind: a delta, or a whole document with
//! its history (what Automerge's `loadIncremental` and Yjs' state updates
//! do). A document is often the smallest way to ship everything at once,
//! since its encoding is columnar and compressed.

use super::apply::{ApplyOutcome, Change};
use super::Doc;
use crate::codec::envelope::KIND_DOC;
use crate::codec::DecodeError;
use crate::crdt::lww::Stamp;
use crate::delta::Delta;
use crate::error::ApplyError;
use crate::version::VersionVector;

impl Doc {
    /// Decodes and applies an encoded delta ([`Delta::encode`]) or an
    /// encoded document ([`Doc::encode`]), whichever `bytes` holds. On error
    /// nothing changed.
    pub fn merge_encoded(&mut self, bytes: &[u8]) -> Result<ApplyOutcome, ApplyError> {
        match Delta::decode(bytes) {
            Ok(delta) => self.apply(&delta),
            Err(DecodeError::WrongKind { found, .. }) if found == KIND_DOC => {
                self.merge_owned(Doc::decode(bytes, self.replica)?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// [`Doc::merge`], taking `other` by value: a blank replica takes its
    /// state over instead of replaying its history.
    pub(crate) fn merge_owned(&mut self, other: Doc) -> Result<ApplyOutcome, ApplyError> {
        if self.is_blank() && other.replica == self.replica {
            Ok(self.adopt(other))
        } else {
            self.merge(&other)
        }
    }

    /// True when no replica's operation is here or waiting.
    fn is_blank(&self) -> bool {
        self.pending.is_empty() && self.logs.iter().all(|log| log.next == 0)
    }

    /// Takes over `other`'s state, which was decoded for this replica: the
    /// same result as applying its whole history, without replaying it.
    fn adopt(&mut self, other: Doc) -> ApplyOutcome {
        let version = other.version();
        let mut changes = Vec::new();
        if self.track_changes {
            changes = adopted_changes(&other);
        }
        let Doc {
            options,
            clock,
            track_changes,
            ..
        } = core::mem::replace(self, other);
        self.options = options;
        self.clock = clock;
        self.track_changes = track_changes;
        ApplyOutcome {
            applied: operations(&version),
            pending: 0,
            changes,
        }
    }
}

/// Sequence numbers taken by everything in `version` (a run counts once per
/// character here, unlike in a delta, where it counts once).
fn operations(version: &VersionVector) -> usize {
    version.iter().map(|(_, seq)| seq as usize).sum()
}

/// What a blank replica sees change when it takes over `doc`'s state.
fn adopted_changes(doc: &Doc) -> Vec<Change> {
    let mut changes = Vec::new();
    let (len, len_utf16) = (doc.len(), doc.len_utf16());
    if len > 0 {
        changes.push(Change::Insert {
            index: 0,
            index_utf16: 0,
            len,
            len_utf16,
        });
    }
    if doc.title.stamp() != Stamp::default() {
        changes.push(Change::Title);
    }
    changes.extend(
        doc.counters
            .keys()
            .map(|name| Change::Counter { name: name.clone() }),
    );
    changes
}
