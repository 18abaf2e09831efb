//! The default store: one redb file in the data directory.
//!
//! redb rather than SQLite: it is pure Rust (no C toolchain to build or
//! cross-compile the relay) and every commit is ACID and fsynced before it
//! returns, which is exactly what a durable ack needs.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::{
    check_batch, compaction_cut, last_seq, Append, LogEntry, Snapshot, Store, StoreError, StoredDoc,
};

/// Document id -> epoch. A document exists iff it has a row here.
const DOCS: TableDefinition<&str, u64> = TableDefinition::new("docs");
/// (document id, seq) -> encoded delta. Keys sort by document, then seq, so
/// one document's log is one contiguous range.
const LOG: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("log");
/// Document id -> (seq, encoded document) of its latest snapshot.
const SNAPSHOTS: TableDefinition<&str, (u64, &[u8])> = TableDefinition::new("snapshots");

/// The database file's name inside the data directory.
const FILE_NAME: &str = "quire.redb";

/// Documents in a redb database; every write is one durable transaction.
#[derive(Debug)]
pub struct RedbStore {
    db: Database,
    path: PathBuf,
}

/// Maps any redb error to [`StoreError::Backend`].
fn backend(err: impl Into<redb::Error>) -> StoreError {
    StoreError::Backend(err.into().to_string())
}

/// All of one document's log, as a key range.
fn log_range(doc_id: &str) -> std::ops::RangeInclusive<(&str, u64)> {
    (doc_id, 0)..=(doc_id, u64::MAX)
}

/// The tables as read inside one transaction (read or write).
struct Tables<D, L, S> {
    docs: D,
    log: L,
    snapshots: S,
}

/// The tables opened in a write transaction.
type WriteTables<'txn> = Tables<
    redb::Table<'txn, &'static str, u64>,
    redb::Table<'txn, (&'static str, u64), &'static [u8]>,
    redb::Table<'txn, &'static str, (u64, &'static [u8])>,
>;

impl<D, L, S> Tables<D, L, S>
where
    D: ReadableTable<&'static str, u64>,
    L: ReadableTable<(&'static str, u64), &'static [u8]>,
    S: ReadableTable<&'static str, (u64, &'static [u8])>,
{
    fn snapshot_seq(&self, doc_id: &str) -> Result<Option<u64>, StoreError> {
        Ok(self
            .snapshots
            .get(doc_id)
            .map_err(backend)?
            .map(|g| g.value().0))
    }

    /// A document's last seq, or `None` if it does not exist.
    fn last_seq(&self, doc_id: &str) -> Result<Option<u64>, StoreError> {
        if self.docs.get(doc_id).map_err(backend)?.is_none() {
            return Ok(None);
        }
        let last_entry = match self
            .log
            .range(log_range(doc_id))
            .map_err(backend)?
            .next_back()
        {
            Some(row) => Some(row.map_err(backend)?.0.value().1),
            None => None,
        };
        Ok(Some(last_seq(self.snapshot_seq(doc_id)?, last_entry)))
    }
}

impl RedbStore {
    /// Opens (or creates) the database in `data_dir`, creating the
    /// directory if needed. Fails if another process has it open.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Backend(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        let path = data_dir.join(FILE_NAME);
        let db = Database::create(&path).map_err(backend)?;
        // Create the tables up front so read transactions never meet a
        // missing table.
        let txn = db.begin_write().map_err(backend)?;
        txn.open_table(DOCS).map_err(backend)?;
        txn.open_table(LOG).map_err(backend)?;
        txn.open_table(SNAPSHOTS).map_err(backend)?;
        txn.commit().map_err(backend)?;
        Ok(Self { db, path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the tables in one write transaction and commits it with
    /// redb's default (immediate, fsynced) durability. If `f` fails, the
    /// transaction is dropped, which aborts it: nothing of it is applied.
    fn write<T>(
        &self,
        f: impl FnOnce(&mut WriteTables<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = self.db.begin_write().map_err(backend)?;
        let value = {
            let mut tables = Tables {
                docs: txn.open_table(DOCS).map_err(backend)?,
                log: txn.open_table(LOG).map_err(backend)?,
                snapshots: txn.open_table(SNAPSHOTS).map_err(backend)?,
            };
            f(&mut tables)?
        };
        txn.commit().map_err(backend)?;
        Ok(value)
    }
}

impl Store for RedbStore {
    fn load(&self, doc_id: &str) -> Result<Option<StoredDoc>, StoreError> {
        let txn = self.db.begin_read().map_err(backend)?;
        let docs = txn.open_table(DOCS).map_err(backend)?;
        let Some(epoch) = docs.get(doc_id).map_err(backend)?.map(|g| g.value()) else {
            return Ok(None);
        };
        let snapshot = txn
            .open_table(SNAPSHOTS)
            .map_err(backend)?
            .get(doc_id)
            .map_err(backend)?
            .map(|g| {
                let (seq, doc) = g.value();
                Snapshot {
                    seq,
                    doc: doc.to_vec(),
                }
            });
        let log = txn
            .open_table(LOG)
            .map_err(backend)?
            .range(log_range(doc_id))
            .map_err(backend)?
            .map(|row| {
                let (key, delta) = row.map_err(backend)?;
                Ok(LogEntry {
                    seq: key.value().1,
                    delta: delta.value().to_vec(),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(StoredDoc {
            epoch,
            snapshot,
            log,
        }))
    }

    fn create(&self, doc_id: &str, epoch: u64) -> Result<u64, StoreError> {
        self.write(|t| {
            if let Some(existing) = t.docs.get(doc_id).map_err(backend)? {
                return Ok(existing.value());
            }
            t.docs.insert(doc_id, epoch).map_err(backend)?;
            Ok(epoch)
        })
    }

    fn append(&self, batch: &[Append]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.write(|t| {
            check_batch(batch, |id| t.last_seq(id))?;
            for append in batch {
                let key = (append.doc_id.as_str(), append.entry.seq);
                t.log
                    .insert(key, append.entry.delta.as_slice())
                    .map_err(backend)?;
            }
            Ok(())
        })
    }

    fn compact(&self, doc_id: &str, snapshot: &Snapshot, retain: u64) -> Result<(), StoreError> {
        self.write(|t| {
            let last = t
                .last_seq(doc_id)?
                .ok_or_else(|| StoreError::NoSuchDocument(doc_id.to_owned()))?;
            let stored = t.snapshot_seq(doc_id)?;
            let cut = compaction_cut(doc_id, snapshot, retain, stored, last)?;
            t.snapshots
                .insert(doc_id, (snapshot.seq, snapshot.doc.as_slice()))
                .map_err(backend)?;
            t.log
                .retain_in((doc_id, 0)..=(doc_id, cut), |_, _| false)
                .map_err(backend)?;
            Ok(())
        })
    }

    fn list(&self) -> Result<Vec<String>, StoreError> {
        let txn = self.db.begin_read().map_err(backend)?;
        let docs = txn.open_table(DOCS).map_err(backend)?;
        docs.iter()
            .map_err(backend)?
            .map(|row| Ok(row.map_err(backend)?.0.value().to_owned()))
            .collect()
    }

    fn is_durable(&self) -> bool {
        true
    }
}
