//! In-memory store for tests and `--memory`: nothing survives a restart, so
//! acks say `durable: false`.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{
    check_batch, compaction_cut, last_seq, Append, Snapshot, Store, StoreError, StoredDoc,
};

/// Documents in a `HashMap` behind a mutex.
#[derive(Debug, Default)]
pub struct MemoryStore {
    docs: Mutex<HashMap<String, StoredDoc>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn docs(&self) -> MutexGuard<'_, HashMap<String, StoredDoc>> {
        // Every method validates before it mutates, so a panic while the
        // lock was held cannot have left a half-applied change behind.
        self.docs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn doc_last_seq(doc: &StoredDoc) -> u64 {
    last_seq(
        doc.snapshot.as_ref().map(|s| s.seq),
        doc.log.last().map(|e| e.seq),
    )
}

impl Store for MemoryStore {
    fn load(&self, doc_id: &str) -> Result<Option<StoredDoc>, StoreError> {
        Ok(self.docs().get(doc_id).cloned())
    }

    fn create(&self, doc_id: &str, epoch: u64) -> Result<u64, StoreError> {
        let mut docs = self.docs();
        let doc = docs.entry(doc_id.to_owned()).or_insert_with(|| StoredDoc {
            epoch,
            snapshot: None,
            log: Vec::new(),
        });
        Ok(doc.epoch)
    }

    fn append(&self, batch: &[Append]) -> Result<(), StoreError> {
        let mut docs = self.docs();
        check_batch(batch, |id| Ok(docs.get(id).map(doc_last_seq)))?;
        for append in batch {
            if let Some(doc) = docs.get_mut(&append.doc_id) {
                doc.log.push(append.entry.clone());
            }
        }
        Ok(())
    }

    fn compact(&self, doc_id: &str, snapshot: &Snapshot, retain: u64) -> Result<(), StoreError> {
        let mut docs = self.docs();
        let doc = docs
            .get_mut(doc_id)
            .ok_or_else(|| StoreError::NoSuchDocument(doc_id.to_owned()))?;
        let stored = doc.snapshot.as_ref().map(|s| s.seq);
        let cut = compaction_cut(doc_id, snapshot, retain, stored, doc_last_seq(doc))?;
        doc.log.retain(|e| e.seq > cut);
        doc.snapshot = Some(snapshot.clone());
        Ok(())
    }

    fn list(&self) -> Result<Vec<String>, StoreError> {
        let mut ids: Vec<String> = self.docs().keys().cloned().collect();
        ids.sort();
        Ok(ids)
    }

    fn is_durable(&self) -> bool {
        false
    }
}
