//! What every task of the relay shares: settings, the store writer,
//! metrics, the registry of loaded documents and the shutdown signal.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::config::Settings;
use crate::metrics::Metrics;
use crate::presence::UserView;
use crate::room::{self, Command, RoomInfo};
use crate::store::{Store, StoreError, StoreWriter};

/// Commands queued per room before connections wait.
const ROOM_QUEUE: usize = 1024;
/// Appends queued in the writer before rooms wait (and the largest batch).
const WRITER_QUEUE: usize = 1024;

/// A loaded document: its command queue and live figures.
#[derive(Debug, Clone)]
pub struct RoomHandle {
    /// Commands to the room's task.
    pub tx: mpsc::Sender<Command>,
    /// Figures for `/status`, updated by the room.
    pub info: Arc<RoomInfo>,
}

/// A loaded document as `/status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DocStatus {
    /// The document id.
    pub id: String,
    /// Connected clients.
    pub clients: usize,
    /// Last committed `server_seq`.
    pub server_seq: u64,
    /// Clients with presence, active or idle.
    pub users: Vec<UserView>,
}

/// State shared by every task.
#[derive(Debug)]
pub struct Shared {
    /// Runtime settings.
    pub settings: Settings,
    /// Group-commit writer (and the store behind it).
    pub writer: StoreWriter,
    /// Prometheus metrics.
    pub metrics: Metrics,
    rooms: Mutex<HashMap<String, RoomHandle>>,
    connections: AtomicUsize,
    next_conn: AtomicU64,
    shutdown: watch::Sender<bool>,
}

impl Shared {
    /// Shared state over `store` (starts the writer thread).
    pub fn new(settings: Settings, store: Arc<dyn Store>) -> Result<Arc<Self>, StoreError> {
        Ok(Arc::new(Self {
            settings,
            writer: StoreWriter::spawn(store, WRITER_QUEUE)?,
            metrics: Metrics::new(),
            rooms: Mutex::default(),
            connections: AtomicUsize::new(0),
            next_conn: AtomicU64::new(1),
            shutdown: watch::channel(false).0,
        }))
    }

    fn rooms(&self) -> MutexGuard<'_, HashMap<String, RoomHandle>> {
        // Map operations cannot panic halfway.
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The room of `doc_id`, started (and loading) if it is not in memory.
    pub fn room(self: &Arc<Self>, doc_id: &str) -> RoomHandle {
        let mut rooms = self.rooms();
        if let Some(handle) = rooms.get(doc_id) {
            if !handle.tx.is_closed() {
                return handle.clone();
            }
        }
        let (tx, rx) = mpsc::channel(ROOM_QUEUE);
        let info = Arc::new(RoomInfo::default());
        let handle = RoomHandle { tx, info };
        rooms.insert(doc_id.to_owned(), handle.clone());
        self.metrics.documents.set(rooms.len() as i64);
        tokio::spawn(room::run(
            Arc::clone(self),
            doc_id.to_owned(),
            rx,
            Arc::clone(&handle.info),
        ));
        handle
    }

    /// The room of `doc_id` if it is in memory.
    pub fn loaded_room(&self, doc_id: &str) -> Option<RoomHandle> {
        self.rooms().get(doc_id).cloned()
    }

    /// Removes the room of `doc_id` from the registry if it is the one
    /// owning `info` (a newer one may have replaced it).
    pub(crate) fn remove_room(&self, doc_id: &str, info: &Arc<RoomInfo>) {
        let mut rooms = self.rooms();
        if rooms
            .get(doc_id)
            .is_some_and(|h| Arc::ptr_eq(&h.info, info))
        {
            rooms.remove(doc_id);
        }
        self.metrics.documents.set(rooms.len() as i64);
    }

    /// `(doc_id, clients, server_seq)` of every loaded document, sorted.
    pub fn documents(&self) -> Vec<(String, usize, u64)> {
        (self.status().into_iter())
            .map(|d| (d.id, d.clients, d.server_seq))
            .collect()
    }

    /// How many documents are loaded.
    pub fn loaded_documents(&self) -> usize {
        self.rooms().len()
    }

    /// Every loaded document with its users, sorted by id (`/status`).
    pub fn status(&self) -> Vec<DocStatus> {
        let idle_after = self.settings.presence_idle_after;
        let mut docs: Vec<_> = (self.rooms().iter())
            .map(|(id, h)| DocStatus {
                id: id.clone(),
                clients: h.info.clients(),
                server_seq: h.info.server_seq(),
                users: h.info.users(idle_after),
            })
            .collect();
        docs.sort_by(|a, b| a.id.cmp(&b.id));
        docs
    }

    /// Counts a new connection unless the limit is reached.
    pub fn try_connect(self: &Arc<Self>) -> Option<ConnectionGuard> {
        let n = self.connections.fetch_add(1, Ordering::SeqCst);
        let guard = ConnectionGuard {
            shared: Arc::clone(self),
            id: self.next_conn.fetch_add(1, Ordering::Relaxed),
        };
        self.metrics.connections.inc();
        // Dropping the guard undoes the count.
        (n < self.settings.max_connections).then_some(guard)
    }

    /// Open connections.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Tells every room and connection to close (1001).
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// A receiver that turns `true` on shutdown.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Waits (at most `limit`) until every room has drained its commits,
    /// closed its clients and exited.
    pub async fn wait_rooms_closed(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while !self.rooms().is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// One counted connection; uncounted when dropped.
#[derive(Debug)]
pub struct ConnectionGuard {
    shared: Arc<Shared>,
    /// The connection's id (unique in this process).
    pub id: u64,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.shared.connections.fetch_sub(1, Ordering::SeqCst);
        self.shared.metrics.connections.dec();
    }
}

/// Resolves once shutdown has begun (the watch guard is not held across
/// awaits, which keeps callers `Send`).
pub async fn until_shutdown(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|&s| s).await;
}
