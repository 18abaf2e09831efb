//! Storage boundary of the relay: each document's epoch, its latest
//! snapshot and the log of accepted deltas after it.
//!
//! Methods are blocking (the default store is an embedded database); the
//! relay calls them off the async runtime. `append` takes a batch so one
//! durable commit covers many updates (group commit): [`StoreWriter`] owns
//! the store on one thread and batches whatever the rooms queued meanwhile.

use std::collections::HashMap;

mod memory;
mod redb;
mod writer;

pub use self::memory::MemoryStore;
pub use self::redb::RedbStore;
pub use self::writer::{Commit, StoreWriter};

/// A stored delta: its `server_seq` and its `Delta::encode` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Gap-free per document, starting at 1.
    pub seq: u64,
    /// The encoded delta exactly as accepted.
    pub delta: Vec<u8>,
}

/// A snapshot: the whole document (`Doc::encode`, with history) as of `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The last `server_seq` folded into it.
    pub seq: u64,
    /// `Doc::encode` bytes.
    pub doc: Vec<u8>,
}

/// Everything stored for one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDoc {
    /// Chosen when the document was created; never changes afterwards.
    pub epoch: u64,
    /// The latest snapshot, if the log was ever compacted.
    pub snapshot: Option<Snapshot>,
    /// Log entries still held, ascending and gap-free. They may start
    /// before the snapshot's seq (a retained tail for replay); entries
    /// after the snapshot always continue it without a gap.
    pub log: Vec<LogEntry>,
}

/// One append of a group commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Append {
    /// The document.
    pub doc_id: String,
    /// The entry to add (its seq is one more than the document's last).
    pub entry: LogEntry,
}

/// Why the store failed. The relay answers with `error` code `internal` and
/// never acknowledges what was not stored.
///
/// `Clone` because one failed group commit is reported to every request of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed (disk full, I/O error, corruption).
    #[error("store backend failed: {0}")]
    Backend(String),
    /// An append does not continue the document's log (a bug in the caller).
    #[error("document {doc_id}: append of seq {seq} does not follow seq {last}")]
    OutOfOrder {
        /// The document.
        doc_id: String,
        /// The seq that was appended.
        seq: u64,
        /// The last seq stored.
        last: u64,
    },
    /// Appending to or compacting a document that was never created.
    #[error("document {0} does not exist in the store")]
    NoSuchDocument(String),
    /// A snapshot older than the stored one, or beyond the last stored seq
    /// (a bug in the caller: compact only what was appended).
    #[error("document {doc_id}: snapshot at seq {seq} is outside {min}..={max}")]
    SnapshotOutOfRange {
        /// The document.
        doc_id: String,
        /// The snapshot's seq.
        seq: u64,
        /// The stored snapshot's seq (0 without one).
        min: u64,
        /// The last seq stored.
        max: u64,
    },
    /// The [`StoreWriter`] thread is gone (it panicked, or the relay is
    /// shutting down); nothing more is stored. Restart the relay.
    #[error("the store writer thread has stopped")]
    WriterStopped,
}

/// Durable (or, for tests, in-memory) storage of documents.
pub trait Store: Send + Sync + 'static {
    /// Loads a document, or `None` if it was never created.
    fn load(&self, doc_id: &str) -> Result<Option<StoredDoc>, StoreError>;

    /// Creates an empty document with `epoch`; does nothing if it exists.
    /// Returns the document's epoch (the existing one if it existed).
    fn create(&self, doc_id: &str, epoch: u64) -> Result<u64, StoreError>;

    /// Appends entries (to one or several documents) in one atomic,
    /// durable commit: when it returns `Ok`, a crash cannot lose them.
    /// Each entry must continue its document's log (the first seq is 1;
    /// after a compaction that kept no tail, the snapshot's seq + 1), else
    /// the whole batch fails with `OutOfOrder` or `NoSuchDocument` and
    /// nothing of it is stored.
    fn append(&self, batch: &[Append]) -> Result<(), StoreError>;

    /// Stores `snapshot` for `doc_id` and drops log entries with
    /// `seq <= snapshot.seq - retain` (keeping a tail of `retain` entries
    /// for cheap replay). Atomic. The snapshot's seq must lie between the
    /// stored snapshot's and the last appended seq (`SnapshotOutOfRange`).
    fn compact(&self, doc_id: &str, snapshot: &Snapshot, retain: u64) -> Result<(), StoreError>;

    /// Ids of every stored document.
    fn list(&self) -> Result<Vec<String>, StoreError>;

    /// Whether `append` returning means durable (false for memory stores:
    /// acks then say `durable: false`).
    fn is_durable(&self) -> bool;
}

/// The last seq of a document: its newest log entry, or its snapshot's seq
/// when compaction kept no entry after it (0 for a new document).
fn last_seq(snapshot_seq: Option<u64>, last_entry: Option<u64>) -> u64 {
    snapshot_seq.unwrap_or(0).max(last_entry.unwrap_or(0))
}

/// Checks that `batch` continues every document's log without a gap, given
/// `stored_last` (a document's last stored seq, `None` if it does not
/// exist). Both stores validate the whole batch before writing any of it.
fn check_batch(
    batch: &[Append],
    mut stored_last: impl FnMut(&str) -> Result<Option<u64>, StoreError>,
) -> Result<(), StoreError> {
    let mut last: HashMap<&str, u64> = HashMap::new();
    for append in batch {
        let doc_id = append.doc_id.as_str();
        let prev = match last.get(doc_id) {
            Some(&seq) => seq,
            None => {
                stored_last(doc_id)?.ok_or_else(|| StoreError::NoSuchDocument(doc_id.to_owned()))?
            }
        };
        if prev.checked_add(1) != Some(append.entry.seq) {
            return Err(StoreError::OutOfOrder {
                doc_id: doc_id.to_owned(),
                seq: append.entry.seq,
                last: prev,
            });
        }
        last.insert(doc_id, append.entry.seq);
    }
    Ok(())
}

/// Checks a compaction of `doc_id` (stored snapshot at `stored_snapshot`,
/// last seq `last`) and returns the highest seq to drop from the log.
fn compaction_cut(
    doc_id: &str,
    snapshot: &Snapshot,
    retain: u64,
    stored_snapshot: Option<u64>,
    last: u64,
) -> Result<u64, StoreError> {
    let min = stored_snapshot.unwrap_or(0);
    if snapshot.seq < min || snapshot.seq > last {
        return Err(StoreError::SnapshotOutOfRange {
            doc_id: doc_id.to_owned(),
            seq: snapshot.seq,
            min,
            max: last,
        });
    }
    Ok(snapshot.seq.saturating_sub(retain))
}
