//! Group commit: one thread owns the writes to the store. Rooms queue
//! appends over a bounded channel; the thread takes everything queued,
//! stores it with ONE `Store::append` (one fsync for the lot), then answers
//! every request. Compactions go through the same queue, so they are
//! ordered with the appends around them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::{mpsc, oneshot};

use super::{Append, Snapshot, Store, StoreError};

type Reply = oneshot::Sender<Result<(), StoreError>>;

enum Request {
    Append(Append, Reply),
    Compact {
        doc_id: String,
        snapshot: Snapshot,
        retain: u64,
        reply: Reply,
    },
}

/// Async handle to the writer thread; cheap to clone. The thread stops once
/// every handle is dropped and the queue is drained.
#[derive(Clone)]
pub struct StoreWriter {
    requests: mpsc::Sender<Request>,
    store: Arc<dyn Store>,
}

impl std::fmt::Debug for StoreWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreWriter")
            .field(
                "queued",
                &(self.requests.max_capacity() - self.requests.capacity()),
            )
            .field("durable", &self.store.is_durable())
            .finish_non_exhaustive()
    }
}

/// An append that is queued (its place among the writer's requests is
/// fixed) but maybe not yet committed. Await it for the commit's result.
///
/// Dropping it does not cancel the append; only the result is lost.
#[derive(Debug)]
#[must_use = "an ack may only be sent once the commit succeeded"]
pub struct Commit {
    reply: oneshot::Receiver<Result<(), StoreError>>,
}

impl Future for Commit {
    type Output = Result<(), StoreError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // A dropped reply means the thread died before answering.
        Pin::new(&mut self.reply)
            .poll(cx)
            .map(|reply| reply.unwrap_or(Err(StoreError::WriterStopped)))
    }
}

impl StoreWriter {
    /// Starts the writer thread for `store`. `queue` bounds both the
    /// channel (senders wait when it is full) and the size of one batch.
    pub fn spawn(store: Arc<dyn Store>, queue: usize) -> Result<Self, StoreError> {
        let queue = queue.max(1);
        let (requests, receiver) = mpsc::channel(queue);
        let thread_store = Arc::clone(&store);
        std::thread::Builder::new()
            .name("quire-store-writer".into())
            .spawn(move || run(&*thread_store, receiver, queue))
            .map_err(|e| StoreError::Backend(format!("cannot start the writer thread: {e}")))?;
        Ok(Self { requests, store })
    }

    /// The store, for reads (`load`, `list`) and `create`, which need no
    /// ordering with appends.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Whether a successful commit is durable (see [`Store::is_durable`]).
    pub fn is_durable(&self) -> bool {
        self.store.is_durable()
    }

    /// Queues `append` (waiting while the queue is full) and returns its
    /// pending [`Commit`]. Appends queued one after the other are committed
    /// in that order, so a room can queue seq `n + 1` before `n` is durable.
    pub async fn submit(&self, append: Append) -> Result<Commit, StoreError> {
        let (reply, receiver) = oneshot::channel();
        self.send(Request::Append(append, reply)).await?;
        Ok(Commit { reply: receiver })
    }

    /// Appends one entry and waits until it is committed.
    pub async fn append(&self, append: Append) -> Result<(), StoreError> {
        self.submit(append).await?.await
    }

    /// Compacts `doc_id` (see [`Store::compact`]) after every append queued
    /// before it, and waits for the result.
    pub async fn compact(
        &self,
        doc_id: String,
        snapshot: Snapshot,
        retain: u64,
    ) -> Result<(), StoreError> {
        let (reply, receiver) = oneshot::channel();
        let request = Request::Compact {
            doc_id,
            snapshot,
            retain,
            reply,
        };
        self.send(request).await?;
        Commit { reply: receiver }.await
    }

    async fn send(&self, request: Request) -> Result<(), StoreError> {
        self.requests
            .send(request)
            .await
            .map_err(|_| StoreError::WriterStopped)
    }
}

/// The writer thread: waits for a request, takes whatever else is queued
/// (up to `max_batch`), handles it in order, repeats.
fn run(store: &dyn Store, mut receiver: mpsc::Receiver<Request>, max_batch: usize) {
    let mut queued = Vec::with_capacity(max_batch);
    while let Some(first) = receiver.blocking_recv() {
        queued.push(first);
        while queued.len() < max_batch {
            match receiver.try_recv() {
                Ok(request) => queued.push(request),
                Err(_) => break,
            }
        }
        handle(store, queued.drain(..));
    }
}

/// Commits consecutive appends as one batch; a compaction first commits the
/// appends queued before it.
fn handle(store: &dyn Store, requests: impl Iterator<Item = Request>) {
    let mut batch = Vec::new();
    let mut replies = Vec::new();
    for request in requests {
        match request {
            Request::Append(append, reply) => {
                batch.push(append);
                replies.push(reply);
            }
            Request::Compact {
                doc_id,
                snapshot,
                retain,
                reply,
            } => {
                commit(store, &mut batch, &mut replies);
                let _ = reply.send(store.compact(&doc_id, &snapshot, retain));
            }
        }
    }
    commit(store, &mut batch, &mut replies);
}

/// Appends `batch` in one commit and answers every request of it, then
/// empties both vectors.
fn commit(store: &dyn Store, batch: &mut Vec<Append>, replies: &mut Vec<Reply>) {
    if batch.is_empty() {
        return;
    }
    match store.append(batch) {
        Ok(()) => replies.drain(..).for_each(|reply| {
            let _ = reply.send(Ok(()));
        }),
        // A request the store rejects (out of order, unknown document) must
        // not fail the others of its batch. Nothing of the batch was
        // applied, so store them one by one to find out which one it was.
        Err(StoreError::OutOfOrder { .. } | StoreError::NoSuchDocument(_)) if batch.len() > 1 => {
            for (append, reply) in batch.iter().zip(replies.drain(..)) {
                let _ = reply.send(store.append(std::slice::from_ref(append)));
            }
        }
        // The commit itself failed: nothing of the batch may be acked.
        Err(err) => replies.drain(..).for_each(|reply| {
            let _ = reply.send(Err(err.clone()));
        }),
    }
    batch.clear();
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::store::{LogEntry, MemoryStore, StoredDoc};

    /// A memory store whose commits are slow (so requests pile up into
    /// batches), counted, and can be made to fail or to panic.
    #[derive(Debug, Default)]
    struct SlowStore {
        inner: MemoryStore,
        commits: AtomicUsize,
        failing: AtomicBool,
        panicking: AtomicBool,
    }

    impl Store for SlowStore {
        fn load(&self, doc_id: &str) -> Result<Option<StoredDoc>, StoreError> {
            self.inner.load(doc_id)
        }
        fn create(&self, doc_id: &str, epoch: u64) -> Result<u64, StoreError> {
            self.inner.create(doc_id, epoch)
        }
        fn append(&self, batch: &[Append]) -> Result<(), StoreError> {
            std::thread::sleep(Duration::from_millis(5));
            self.commits.fetch_add(1, Ordering::SeqCst);
            assert!(
                !self.panicking.load(Ordering::SeqCst),
                "simulated bug in a store"
            );
            if self.failing.load(Ordering::SeqCst) {
                return Err(StoreError::Backend("disk full".into()));
            }
            self.inner.append(batch)
        }
        fn compact(&self, doc_id: &str, s: &Snapshot, retain: u64) -> Result<(), StoreError> {
            self.inner.compact(doc_id, s, retain)
        }
        fn list(&self) -> Result<Vec<String>, StoreError> {
            self.inner.list()
        }
        fn is_durable(&self) -> bool {
            true
        }
    }

    fn append(doc_id: &str, seq: u64) -> Append {
        Append {
            doc_id: doc_id.into(),
            entry: LogEntry {
                seq,
                delta: vec![seq as u8; 3],
            },
        }
    }

    fn setup(docs: &[&str]) -> (Arc<SlowStore>, StoreWriter) {
        let store = Arc::new(SlowStore::default());
        for doc in docs {
            store.create(doc, 7).unwrap();
        }
        let writer = StoreWriter::spawn(store.clone(), 256).unwrap();
        (store, writer)
    }

    fn seqs(store: &dyn Store, doc_id: &str) -> Vec<u64> {
        let doc = store.load(doc_id).unwrap().unwrap();
        doc.log.iter().map(|e| e.seq).collect()
    }

    #[tokio::test]
    async fn queued_appends_share_one_commit_and_keep_their_order() {
        let (store, writer) = setup(&["a"]);
        let mut pending = Vec::new();
        for seq in 1..=100 {
            pending.push(writer.submit(append("a", seq)).await.unwrap());
        }
        for commit in pending {
            commit.await.unwrap();
        }
        assert_eq!(seqs(&*store, "a"), (1..=100).collect::<Vec<_>>());
        // 100 appends, but far fewer fsyncs.
        assert!(store.commits.load(Ordering::SeqCst) < 20);
    }

    #[tokio::test]
    async fn a_failed_commit_fails_every_request_of_its_batch() {
        let (store, writer) = setup(&["a", "b"]);
        store.failing.store(true, Ordering::SeqCst);
        let first = writer.submit(append("a", 1)).await.unwrap();
        let second = writer.submit(append("b", 1)).await.unwrap();
        let failed = StoreError::Backend("disk full".into());
        assert_eq!(first.await, Err(failed.clone()));
        assert_eq!(second.await, Err(failed));
        assert!(seqs(&*store, "a").is_empty() && seqs(&*store, "b").is_empty());
    }

    #[tokio::test]
    async fn an_out_of_order_append_fails_alone() {
        let (store, writer) = setup(&["a", "b"]);
        let ok_a = writer.submit(append("a", 1)).await.unwrap();
        let bad = writer.submit(append("b", 5)).await.unwrap();
        let unknown = writer.submit(append("nope", 1)).await.unwrap();
        let ok_b = writer.submit(append("b", 1)).await.unwrap();
        assert_eq!(ok_a.await, Ok(()));
        assert!(matches!(
            bad.await,
            Err(StoreError::OutOfOrder {
                seq: 5,
                last: 0,
                ..
            })
        ));
        assert!(matches!(unknown.await, Err(StoreError::NoSuchDocument(_))));
        assert_eq!(ok_b.await, Ok(()));
        assert_eq!(seqs(&*store, "b"), [1]);
    }

    #[tokio::test]
    async fn compaction_is_ordered_after_the_appends_queued_before_it() {
        let (store, writer) = setup(&["a"]);
        let mut pending = Vec::new();
        for seq in 1..=10 {
            pending.push(writer.submit(append("a", seq)).await.unwrap());
        }
        let snapshot = Snapshot {
            seq: 10,
            doc: b"doc".to_vec(),
        };
        writer
            .compact("a".into(), snapshot.clone(), 2)
            .await
            .unwrap();
        for commit in pending {
            commit.await.unwrap();
        }
        let doc = store.load("a").unwrap().unwrap();
        assert_eq!(doc.snapshot, Some(snapshot));
        assert_eq!(seqs(&*store, "a"), [9, 10]);
    }

    #[tokio::test]
    async fn requests_after_the_thread_died_report_writer_stopped() {
        let (store, writer) = setup(&["a"]);
        store.panicking.store(true, Ordering::SeqCst);
        assert_eq!(
            writer.append(append("a", 1)).await,
            Err(StoreError::WriterStopped)
        );
        assert_eq!(
            writer.append(append("a", 1)).await,
            Err(StoreError::WriterStopped)
        );
    }
}
