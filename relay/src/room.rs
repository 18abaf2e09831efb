//! One task per loaded document. The room owns the relay's replica of the
//! document, its `server_seq` and epoch, the in-memory tail of its log and
//! its connected clients. Because one task does all of it, registering a
//! client and computing its catch-up happen with no update in between.
//!
//! Updates are pipelined: an accepted update gets the next `server_seq`
//! and is queued to the store writer at once; its ack and fan-out wait for
//! its commit, and commits complete in order. Nothing is shown to any
//! client before it is stored, so a crash cannot reuse a `server_seq` that
//! a client has seen.
//!
//! The room also relays presence ([`crate::presence`]), which never touches
//! the store.

use std::collections::{HashMap, VecDeque};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use quire_core::presence::PresenceEntry;
use quire_core::sync::{close, CatchUp, ErrorCode, ErrorMessage, Hello, HelloAck, Message};
use quire_core::{ApplyError, Delta, Doc, ReplicaId};
use tokio::sync::{mpsc, oneshot};

use crate::buffer::Outbox;
use crate::presence::{RoomPresence, Users};
use crate::state::Shared;
use crate::store::{Append, Commit, LogEntry, Snapshot, StoreError, StoredDoc};

/// The relay's own replica id: it never edits, so the id is never written.
const SERVER_REPLICA: ReplicaId = ReplicaId(0);

/// A request to a room.
#[derive(Debug)]
#[non_exhaustive]
pub enum Command {
    /// Registers a connection after its `hello`; the room queues the
    /// `hello_ack`. Answered `Err(message)` when the document cannot be
    /// loaded; dropped unanswered when the room is unloading (retry).
    Join {
        /// The connection.
        conn: u64,
        /// Its hello (doc id already checked).
        hello: Hello,
        /// Whether it may send document updates (its token's scope).
        writes: bool,
        /// Where the room queues frames for it.
        outbox: Arc<Outbox>,
        /// Done (or why not).
        reply: oneshot::Sender<Result<(), JoinRefused>>,
    },
    /// An `update` from a joined connection.
    Update {
        /// The connection.
        conn: u64,
        /// The client's update id.
        id: u64,
        /// `Delta::encode` bytes.
        delta: Vec<u8>,
        /// When it was received (for the fan-out latency).
        received: Instant,
    },
    /// A checked presence entry of a joined connection (its own).
    Presence {
        /// The connection.
        conn: u64,
        /// The entry (`presence::check_client_body` passed).
        entry: PresenceEntry,
    },
    /// The connection is gone.
    Leave {
        /// The connection.
        conn: u64,
    },
    /// The materialised document, for `GET /docs/{id}`.
    Read {
        /// `None` when the document does not exist.
        reply: oneshot::Sender<Result<Option<DocView>, String>>,
    },
}

/// A document as `GET /docs/{id}` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DocView {
    /// The title.
    pub title: String,
    /// The body text.
    pub text: String,
    /// Named counters.
    pub counters: std::collections::BTreeMap<String, i64>,
    /// The last committed `server_seq`.
    pub server_seq: u64,
}

impl DocView {
    fn of(doc: &Doc, server_seq: u64) -> Self {
        Self {
            title: doc.title().to_owned(),
            text: doc.text(),
            counters: doc.counters(),
            server_seq,
        }
    }
}

/// Live figures of a room for `/status`.
#[derive(Debug, Default)]
pub struct RoomInfo {
    clients: AtomicUsize,
    server_seq: AtomicU64,
    users: Users,
}

impl RoomInfo {
    /// Connected clients.
    pub fn clients(&self) -> usize {
        self.clients.load(Ordering::Relaxed)
    }
    /// Last committed `server_seq`.
    pub fn server_seq(&self) -> u64 {
        self.server_seq.load(Ordering::Relaxed)
    }
    /// Users with presence; idle after `idle_after` without activity.
    pub fn users(&self, idle_after: std::time::Duration) -> Vec<crate::presence::UserView> {
        self.users.view(tokio::time::Instant::now(), idle_after)
    }
}

/// Builds the document a stored one describes: the snapshot, then the log
/// after it. Returns it with its `server_seq`.
pub fn materialise(stored: &StoredDoc) -> Result<(Doc, u64), String> {
    let (mut doc, mut seq) = match &stored.snapshot {
        Some(s) => (
            Doc::decode(&s.doc, SERVER_REPLICA).map_err(|e| format!("snapshot: {e}"))?,
            s.seq,
        ),
        None => (Doc::new(SERVER_REPLICA), 0),
    };
    let base = seq;
    for entry in stored.log.iter().filter(|e| e.seq > base) {
        // Every logged delta was integrable when accepted; one that is not
        // now means the store is damaged, which must not pass silently.
        quire_core::Delta::decode(&entry.delta)
            .map_err(quire_core::ApplyError::from)
            .and_then(|delta| doc.apply_complete(&delta))
            .map_err(|e| format!("log entry {}: {e}", entry.seq))?;
        seq = entry.seq;
    }
    Ok((doc, seq))
}

/// A random, non-zero epoch (no RNG dependency: std's hasher keys are
/// random per process, mixed with the time and the document id).
fn random_epoch(doc_id: &str) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    doc_id.hash(&mut h);
    std::time::SystemTime::now().hash(&mut h);
    h.finish().max(1)
}

struct Client {
    replica: ReplicaId,
    /// May send document updates.
    writes: bool,
    outbox: Arc<Outbox>,
}

/// Why a connection cannot join.
#[derive(Debug)]
pub enum JoinRefused {
    /// The document could not be loaded or created.
    Unavailable(String),
    /// A read-only connection named the replica id of a connection that
    /// may write: replacing it would let a reader knock a writer off.
    ReplicaInUse,
}

/// Waiting for the store, in `server_seq` order.
enum Pending {
    Append {
        commit: Commit,
        seq: u64,
        conn: u64,
        update_id: u64,
        delta: Vec<u8>,
        received: Instant,
        /// The document as of `seq`, when this update triggers compaction.
        snapshot: Option<Vec<u8>>,
    },
    /// A duplicate's ack, due once the appends before it have committed.
    DuplicateAck { conn: u64, update_id: u64, seq: u64 },
}

struct Room {
    shared: Arc<Shared>,
    doc_id: String,
    info: Arc<RoomInfo>,
    /// `None` until the document exists in the store.
    epoch: Option<u64>,
    doc: Doc,
    /// Last committed `server_seq`.
    seq: u64,
    /// Last assigned `server_seq` (committed or pending).
    assigned: u64,
    /// Committed log entries held in memory, gap-free, ending at `seq`.
    log: VecDeque<LogEntry>,
    clients: HashMap<u64, Client>,
    presence: RoomPresence,
    pending: VecDeque<Pending>,
    last_active: tokio::time::Instant,
    /// A commit failed: the room must unload.
    failed: bool,
}

/// The room's task: loads the document, then serves commands until it is
/// idle long enough, fails, or the relay shuts down.
pub async fn run(
    shared: Arc<Shared>,
    doc_id: String,
    mut rx: mpsc::Receiver<Command>,
    info: Arc<RoomInfo>,
) {
    let store = Arc::clone(shared.writer.store());
    let id = doc_id.clone();
    let loaded = tokio::task::spawn_blocking(move || store.load(&id))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()))
        .and_then(|stored| match stored {
            None => Ok((None, Doc::new(SERVER_REPLICA), 0, VecDeque::new())),
            Some(s) => materialise(&s).map(|(doc, seq)| (Some(s.epoch), doc, seq, s.log.into())),
        });
    let (epoch, doc, seq, log) = match loaded {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(doc = %doc_id, error = %e, "cannot load document");
            fail_all(&mut rx, &e).await;
            shared.remove_room(&doc_id, &info);
            return;
        }
    };
    info.server_seq.store(seq, Ordering::Relaxed);
    let mut room = Room {
        presence: RoomPresence::new(shared.settings.presence_interval),
        shared,
        doc_id,
        info,
        epoch,
        doc,
        seq,
        assigned: seq,
        log,
        clients: HashMap::new(),
        pending: VecDeque::new(),
        last_active: tokio::time::Instant::now(),
        failed: false,
    };
    room.serve(rx).await;
}

/// Answers every queued command of a room that could not load.
async fn fail_all(rx: &mut mpsc::Receiver<Command>, error: &str) {
    rx.close();
    while let Some(cmd) = rx.recv().await {
        match cmd {
            Command::Join { reply, .. } => {
                drop(reply.send(Err(JoinRefused::Unavailable(error.to_owned()))))
            }
            Command::Read { reply } => drop(reply.send(Err(error.to_owned()))),
            _ => {}
        }
    }
}

/// Waits for the oldest pending commit (never resolves when none is).
async fn next_commit(pending: &mut VecDeque<Pending>) -> Result<(), StoreError> {
    poll_fn(|cx| match pending.front_mut() {
        Some(Pending::Append { commit, .. }) => Pin::new(commit).poll(cx),
        _ => std::task::Poll::Pending,
    })
    .await
}

impl Room {
    async fn serve(&mut self, mut rx: mpsc::Receiver<Command>) {
        let mut shutdown = self.shared.shutdown_signal();
        let idle = self.shared.settings.idle_unload;
        loop {
            let idle_now = self.clients.is_empty() && self.pending.is_empty();
            let presence_due = self.presence.next_due();
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.handle(cmd).await,
                    None => break,
                },
                result = next_commit(&mut self.pending), if !self.pending.is_empty() => {
                    match result {
                        Ok(()) => self.committed(),
                        Err(e) => self.store_failed(&e),
                    }
                }
                _ = tokio::time::sleep_until(presence_due.unwrap_or(self.last_active)), if presence_due.is_some() => {
                    self.presence_due();
                }
                _ = tokio::time::sleep_until(self.last_active + idle), if idle_now => {
                    tracing::debug!(doc = %self.doc_id, "unloading idle document");
                    break;
                }
                _ = crate::state::until_shutdown(&mut shutdown) => {
                    self.drain().await;
                    self.close_all(close::GOING_AWAY);
                    break;
                }
            }
            if self.failed {
                break;
            }
        }
        // Unregister first, then drop the queue: a join still in it gets no
        // answer, so its connection retries with a fresh room.
        self.shared.remove_room(&self.doc_id, &self.info);
        drop(rx);
    }

    async fn handle(&mut self, cmd: Command) {
        self.last_active = tokio::time::Instant::now();
        match cmd {
            Command::Join {
                conn,
                hello,
                writes,
                outbox,
                reply,
            } => {
                let result = self.join(conn, hello, writes, outbox).await;
                let _ = reply.send(result);
            }
            Command::Update {
                conn,
                id,
                delta,
                received,
            } => self.update(conn, id, delta, received).await,
            Command::Presence { conn, entry } => self.presence_update(conn, entry),
            Command::Leave { conn } => {
                self.clients.remove(&conn);
                self.info
                    .clients
                    .store(self.clients.len(), Ordering::Relaxed);
                self.presence_left(conn);
            }
            Command::Read { reply } => {
                let view = self.epoch.map(|_| DocView::of(&self.doc, self.seq));
                let _ = reply.send(Ok(view));
            }
        }
    }

    fn send(&self, outbox: &Outbox, message: &Message) {
        let frame = message.encode();
        let len = frame.len();
        if outbox.push(frame) {
            self.shared.metrics.sent(len);
        }
    }

    fn send_to(&self, conn: u64, message: &Message) {
        if let Some(c) = self.clients.get(&conn) {
            self.send(&c.outbox, message);
        }
    }

    async fn ensure_created(&mut self) -> Result<u64, String> {
        if let Some(epoch) = self.epoch {
            return Ok(epoch);
        }
        let store = Arc::clone(self.shared.writer.store());
        let id = self.doc_id.clone();
        let epoch = random_epoch(&id);
        let epoch = tokio::task::spawn_blocking(move || store.create(&id, epoch))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        self.epoch = Some(epoch);
        Ok(epoch)
    }

    async fn join(
        &mut self,
        conn: u64,
        hello: Hello,
        writes: bool,
        outbox: Arc<Outbox>,
    ) -> Result<(), JoinRefused> {
        if !writes && (self.clients.values()).any(|c| c.replica == hello.replica && c.writes) {
            return Err(JoinRefused::ReplicaInUse);
        }
        let epoch = self
            .ensure_created()
            .await
            .map_err(JoinRefused::Unavailable)?;
        let replaced: Vec<u64> = (self.clients.iter())
            .filter(|(_, c)| c.replica == hello.replica)
            .map(|(&id, _)| id)
            .collect();
        for old in replaced {
            if let Some(c) = self.clients.remove(&old) {
                tracing::info!(doc = %self.doc_id, replica = hello.replica.0, "connection replaced");
                c.outbox.close(close::REPLACED);
            }
            self.presence_left(old);
        }
        let catch_up = self.catch_up(&hello, epoch);
        if matches!(catch_up, CatchUp::Snapshot(_)) {
            self.shared.metrics.snapshot_resyncs.inc();
        }
        let ack = Message::HelloAck(HelloAck {
            server_seq: self.seq,
            epoch,
            version: self.doc.version(),
            catch_up,
            read_only: !writes,
        });
        self.send(&outbox, &ack);
        for frame in self.presence.snapshot() {
            let len = frame.len();
            if outbox.push(frame) {
                self.shared.metrics.sent(len);
                self.shared.metrics.presence_out.inc();
            }
        }
        self.clients.insert(
            conn,
            Client {
                replica: hello.replica,
                writes,
                outbox,
            },
        );
        self.info
            .clients
            .store(self.clients.len(), Ordering::Relaxed);
        Ok(())
    }

    /// The committed deltas after the client's seq when the log still has
    /// them all, else the whole document.
    fn catch_up(&self, hello: &Hello, epoch: u64) -> CatchUp {
        let from = match hello.resume {
            Some(r) if r.epoch == epoch && r.server_seq <= self.seq => r.server_seq,
            Some(_) => return CatchUp::Snapshot(self.doc.encode()),
            None => 0,
        };
        let first_held = self.log.front().map_or(self.seq + 1, |e| e.seq);
        if first_held > from + 1 {
            return CatchUp::Snapshot(self.doc.encode());
        }
        CatchUp::Deltas(
            (self.log.iter())
                .filter(|e| e.seq > from)
                .map(|e| (e.seq, e.delta.clone()))
                .collect(),
        )
    }

    fn reject(&self, conn: u64, update_id: u64, code: ErrorCode, message: String) {
        self.shared.metrics.updates_rejected.inc();
        let error = Message::Error(ErrorMessage {
            code,
            fatal: false,
            update_id: Some(update_id),
            message,
        });
        self.send_to(conn, &error);
    }

    async fn update(&mut self, conn: u64, id: u64, bytes: Vec<u8>, received: Instant) {
        let Some(replica) = self.clients.get(&conn).map(|c| c.replica) else {
            return; // replaced or gone
        };
        let delta = match Delta::decode(&bytes) {
            Ok(d) => d,
            Err(e) => return self.reject(conn, id, ErrorCode::INVALID_DELTA, e.to_string()),
        };
        if let Some(other) = delta.replicas().find(|&r| r != replica) {
            let msg = format!("the delta writes as replica {}, not {}", other.0, replica.0);
            return self.reject(conn, id, ErrorCode::FORGED_REPLICA, msg);
        }
        let outcome = match self.doc.apply_complete(&delta) {
            Ok(o) => o,
            Err(e @ ApplyError::MissingDependencies { .. }) => {
                return self.reject(conn, id, ErrorCode::MISSING_DEPENDENCIES, e.to_string())
            }
            Err(e) => return self.reject(conn, id, ErrorCode::INVALID_DELTA, e.to_string()),
        };
        if outcome.applied == 0 {
            let dup = Pending::DuplicateAck {
                conn,
                update_id: id,
                seq: self.assigned,
            };
            if self.pending.is_empty() {
                self.finish(dup);
            } else {
                self.pending.push_back(dup);
            }
            return;
        }
        self.assigned += 1;
        let seq = self.assigned;
        // The document is exactly as of `seq` now (updates apply in seq order).
        // `is_multiple_of` needs Rust 1.87; the MSRV is 1.85.
        #[allow(clippy::manual_is_multiple_of)]
        let snapshot = (seq % self.shared.settings.compact_every == 0).then(|| self.doc.encode());
        let append = Append {
            doc_id: self.doc_id.clone(),
            entry: LogEntry {
                seq,
                delta: bytes.clone(),
            },
        };
        match self.shared.writer.submit(append).await {
            Ok(commit) => self.pending.push_back(Pending::Append {
                commit,
                seq,
                conn,
                update_id: id,
                delta: bytes,
                received,
                snapshot,
            }),
            Err(e) => {
                self.reject(conn, id, ErrorCode::INTERNAL, e.to_string());
                // The replica already holds the update: start over from the store.
                self.store_failed(&e);
            }
        }
    }

    /// The oldest pending append committed: ack, fan out, then release the
    /// duplicate acks queued behind it.
    fn committed(&mut self) {
        if let Some(front) = self.pending.pop_front() {
            self.finish(front);
        }
        while matches!(self.pending.front(), Some(Pending::DuplicateAck { .. })) {
            if let Some(dup) = self.pending.pop_front() {
                self.finish(dup);
            }
        }
    }

    fn finish(&mut self, done: Pending) {
        let durable = self.shared.writer.is_durable();
        match done {
            Pending::DuplicateAck {
                conn,
                update_id,
                seq,
            } => self.send_to(
                conn,
                &Message::Ack {
                    id: update_id,
                    server_seq: seq,
                    durable,
                },
            ),
            Pending::Append {
                seq,
                conn,
                update_id,
                delta,
                received,
                snapshot,
                ..
            } => {
                self.seq = seq;
                self.info.server_seq.store(seq, Ordering::Relaxed);
                self.shared.metrics.updates_accepted.inc();
                let ack = Message::Ack {
                    id: update_id,
                    server_seq: seq,
                    durable,
                };
                self.send_to(conn, &ack);
                let frame = Bytes::from(
                    Message::Delta {
                        server_seq: seq,
                        delta: delta.clone(),
                    }
                    .encode(),
                );
                self.broadcast(conn, &frame);
                let latency = received.elapsed().as_secs_f64();
                self.shared.metrics.fanout_latency.observe(latency);
                self.log.push_back(LogEntry { seq, delta });
                if let Some(doc) = snapshot {
                    self.compact(seq, doc);
                }
            }
        }
    }

    /// Stores a snapshot as of `seq` (after its append committed) and trims
    /// the in-memory log to the same retained tail as the store.
    fn compact(&mut self, seq: u64, doc: Vec<u8>) {
        let retain = self.shared.settings.compact_every;
        let cut = seq.saturating_sub(retain);
        while self.log.front().is_some_and(|e| e.seq <= cut) {
            self.log.pop_front();
        }
        let writer = self.shared.writer.clone();
        let doc_id = self.doc_id.clone();
        tokio::spawn(async move {
            let snapshot = Snapshot { seq, doc };
            match writer.compact(doc_id.clone(), snapshot, retain).await {
                Ok(()) => tracing::debug!(doc = %doc_id, seq, "compacted"),
                Err(e) => tracing::warn!(doc = %doc_id, seq, error = %e, "compaction failed"),
            }
        });
    }

    /// A commit failed: the replica holds updates the store lacks. Nothing
    /// after it is acked; every client is told and disconnected (1011), and
    /// the room unloads so the next connection reloads from the store. The
    /// clients resend what the reloaded document lacks.
    fn store_failed(&mut self, error: &StoreError) {
        tracing::error!(doc = %self.doc_id, %error, "store commit failed; unloading document");
        self.failed = true;
        let pending: Vec<Pending> = self.pending.drain(..).collect();
        for p in pending {
            if let Pending::Append {
                conn, update_id, ..
            } = p
            {
                if let Some(c) = self.clients.get(&conn) {
                    let error = Message::Error(ErrorMessage {
                        code: ErrorCode::INTERNAL,
                        fatal: false,
                        update_id: Some(update_id),
                        message: format!("not stored: {error}"),
                    });
                    self.send(&c.outbox, &error);
                }
            }
        }
        self.close_all(close::INTERNAL);
    }

    /// Waits for every pending commit (at shutdown).
    async fn drain(&mut self) {
        while !self.pending.is_empty() {
            match next_commit(&mut self.pending).await {
                Ok(()) => self.committed(),
                Err(e) => return self.store_failed(&e),
            }
        }
    }

    fn close_all(&mut self, code: u16) {
        for (_, c) in self.clients.drain() {
            c.outbox.close(code);
        }
        self.info.clients.store(0, Ordering::Relaxed);
        self.presence.clear(&self.info.users);
    }

    /// Queues `frame` for every client but `except`; returns how many took it.
    fn broadcast(&self, except: u64, frame: &Bytes) -> u64 {
        let mut queued = 0;
        for (_, c) in self.clients.iter().filter(|(&id, _)| id != except) {
            if c.outbox.push(frame.clone()) {
                self.shared.metrics.sent(frame.len());
                queued += 1;
            }
        }
        queued
    }

    fn broadcast_presence(&self, except: u64, frame: &Bytes) {
        let queued = self.broadcast(except, frame);
        self.shared.metrics.presence_out.inc_by(queued);
    }

    fn presence_update(&mut self, conn: u64, entry: PresenceEntry) {
        if !self.clients.contains_key(&conn) {
            return; // replaced or gone
        }
        let now = tokio::time::Instant::now();
        if let Some(frame) = self.presence.update(conn, entry, now, &self.info.users) {
            self.broadcast_presence(conn, &frame);
        }
    }

    /// Sends the entries the interval held back.
    fn presence_due(&mut self) {
        for (conn, frame) in self.presence.take_due(tokio::time::Instant::now()) {
            self.broadcast_presence(conn, &frame);
        }
    }

    /// `conn` is gone: the others learn it at once.
    fn presence_left(&mut self, conn: u64) {
        if let Some(frame) = self.presence.remove(conn, &self.info.users) {
            self.broadcast_presence(conn, &frame);
        }
    }
}
