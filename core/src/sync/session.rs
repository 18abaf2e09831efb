//! The client side of the sync protocol as a sans-IO state machine.
//!
//! The session does not own the document: every call that reads or changes
//! it borrows it, so the same [`Doc`] can be edited by the application
//! between calls (the wasm binding shares it with JS).
//!
//! Offline buffering: local operations are captured by
//! [`ClientSession::local_changes`]. While live they go out at once as
//! `update`s and stay in the outbox until acked. While offline nothing is
//! encoded; after the next `hello_ack` the session sends every own operation
//! the server's version lacks, in one update. That covers edits made offline,
//! updates whose ack was lost, and a server that restarted without them, and
//! sends nothing the server already has.

use super::message::{validate_doc_id, CatchUp, ErrorMessage, Hello, HelloAck, Message, Resume};
use crate::codec::DecodeError;
use crate::doc::{ApplyOutcome, Doc};
use crate::error::ApplyError;
use crate::ids::{ReplicaId, Seq};
use std::collections::VecDeque;

/// Timing of a session, in milliseconds of the driver's monotonic clock.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Send a ping after this long without sending anything.
    pub heartbeat_interval_ms: u64,
    /// Consider the connection dead after this long without receiving
    /// anything (three missed heartbeats by default).
    pub heartbeat_timeout_ms: u64,
    /// Give up on a connection whose `hello_ack` does not come this soon.
    pub handshake_timeout_ms: u64,
    /// Sent in `hello` when the relay requires authentication.
    pub token: Option<String>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            heartbeat_interval_ms: 10_000,
            heartbeat_timeout_ms: 30_000,
            handshake_timeout_ms: 10_000,
            token: None,
        }
    }
}

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// No transport (or it failed): local edits are buffered.
    Offline,
    /// The transport is open and `hello` sent; waiting for `hello_ack`.
    Connecting,
    /// Caught up; updates flow both ways.
    Live,
}

impl Status {
    /// `"offline"`, `"connecting"` or `"live"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Offline => "offline",
            Status::Connecting => "connecting",
            Status::Live => "live",
        }
    }
}

/// Something the application may want to show.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEvent {
    /// The status changed.
    Status(Status),
    /// Remote operations were applied to the document.
    Remote(ApplyOutcome),
    /// An update was acknowledged.
    Acked {
        /// The update's id.
        id: u64,
        /// Its `server_seq`.
        server_seq: u64,
        /// Whether the server has stored it durably.
        durable: bool,
    },
    /// The server sent an error (a fatal one also stops the session).
    ServerError(ErrorMessage),
    /// Another client's presence state.
    Presence(Vec<u8>),
}

/// Why the session cannot go on over the current transport. The driver
/// closes it with [`SyncError::close_code`] and, unless
/// [`SyncError::is_fatal`], reconnects (with backoff).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The document id breaks the grammar; pick a valid id.
    #[error("invalid document id: {0}")]
    BadDocumentId(DecodeError),
    /// The server sent a frame that does not decode. The server is broken
    /// or not a Quire relay; reconnecting may help if it was a glitch.
    #[error("malformed message from the server: {0}")]
    Decode(#[from] DecodeError),
    /// The server sent a delta or snapshot the document refuses.
    #[error("the server sent a change the document refuses: {0}")]
    Apply(#[from] ApplyError),
    /// The server broke the protocol rules (`what` says which).
    #[error("protocol violation by the server: {what}")]
    Protocol {
        /// The rule that was broken.
        what: &'static str,
    },
    /// No `hello_ack` within the handshake deadline.
    #[error("no hello_ack within {0} ms")]
    HandshakeTimeout(u64),
    /// Nothing received within the heartbeat budget: the link is dead.
    #[error("nothing received for {0} ms")]
    HeartbeatTimeout(u64),
    /// The server holds more of this replica than the document: the replica
    /// id was reused after losing local state. Start a new replica.
    #[error("the server has {server} operations of this replica, the document only {local}")]
    ReplicaBehind {
        /// Own operations the server has.
        server: Seq,
        /// Own operations the document has.
        local: Seq,
    },
    /// The server ended the session with a fatal error.
    #[error("the server refused the session: {} ({})", .0.message, .0.code.name())]
    Refused(ErrorMessage),
}

impl SyncError {
    /// The WebSocket close code the driver should close with.
    pub fn close_code(&self) -> u16 {
        use super::close;
        match self {
            SyncError::BadDocumentId(_) => close::BAD_DOCUMENT_ID,
            SyncError::HandshakeTimeout(_) => close::HANDSHAKE_TIMEOUT,
            SyncError::HeartbeatTimeout(_) => close::HEARTBEAT_TIMEOUT,
            SyncError::Refused(_) | SyncError::ReplicaBehind { .. } => close::NORMAL,
            _ => close::PROTOCOL_ERROR,
        }
    }

    /// Whether reconnecting cannot help.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            SyncError::BadDocumentId(_) | SyncError::ReplicaBehind { .. } | SyncError::Refused(_)
        )
    }
}

/// An update sent and not yet acknowledged.
#[derive(Debug, Clone)]
struct InFlight {
    id: u64,
    /// Own operations up to this seq are in it.
    to: Seq,
}

/// The client's state machine for one document (see the module docs).
#[derive(Debug, Clone)]
pub struct ClientSession {
    doc_id: String,
    replica: ReplicaId,
    config: ClientConfig,
    status: Status,
    stopped: Option<SyncError>,
    transmit: VecDeque<Vec<u8>>,
    in_flight: VecDeque<InFlight>,
    next_id: u64,
    /// Own operations up to here are sent (live) or due after the handshake.
    captured: Seq,
    /// Own operations up to here are acknowledged by the server.
    acked: Seq,
    resume: Option<Resume>,
    /// The last `hello_ack` said this connection may not write.
    read_only: bool,
    connected_at: u64,
    last_received: u64,
    last_sent: u64,
    next_nonce: u64,
}

impl ClientSession {
    /// A session for `doc_id`, offline until [`ClientSession::connected`].
    /// `doc` is the replica it will sync.
    pub fn new(doc_id: &str, doc: &Doc, config: ClientConfig) -> Result<Self, SyncError> {
        validate_doc_id(doc_id).map_err(SyncError::BadDocumentId)?;
        let own = doc.ops_of(doc.replica());
        Ok(Self {
            doc_id: doc_id.to_owned(),
            replica: doc.replica(),
            config,
            status: Status::Offline,
            stopped: None,
            transmit: VecDeque::new(),
            in_flight: VecDeque::new(),
            next_id: 1,
            captured: own,
            // Unknown until the first hello_ack: count everything as pending.
            acked: 0,
            resume: None,
            read_only: false,
            connected_at: 0,
            last_received: 0,
            last_sent: 0,
            next_nonce: 1,
        })
    }

    /// The document id.
    pub fn doc_id(&self) -> &str {
        &self.doc_id
    }

    /// The current status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// Own operations not yet acknowledged by the server (as of the last
    /// [`ClientSession::local_changes`]).
    pub fn pending(&self) -> u64 {
        u64::from(self.captured.saturating_sub(self.acked))
    }

    /// The last `server_seq` seen, if any.
    pub fn server_seq(&self) -> Option<u64> {
        self.resume.map(|r| r.server_seq)
    }

    /// The server refuses this client's updates (a `read` token), as its
    /// last `hello_ack` said: the app should not offer editing. False
    /// before the first `hello_ack`; kept while offline.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Where to resume: save it with the document to resume after a reload.
    pub fn resume(&self) -> Option<Resume> {
        self.resume
    }

    /// Restores a saved resume point (see [`ClientSession::resume`]).
    pub fn set_resume(&mut self, resume: Option<Resume>) {
        self.resume = resume;
    }

    /// Why the session stopped for good, if it did: the driver must not
    /// reconnect.
    pub fn stopped(&self) -> Option<&SyncError> {
        self.stopped.as_ref()
    }

    /// The transport is open: sends `hello`.
    pub fn connected(&mut self, doc: &Doc, now: u64) {
        if self.stopped.is_some() {
            return;
        }
        self.transmit.clear();
        self.in_flight.clear();
        self.connected_at = now;
        self.last_received = now;
        self.queue(
            Message::Hello(Hello {
                doc_id: self.doc_id.clone(),
                replica: self.replica,
                version: doc.version(),
                resume: self.resume,
                token: self.config.token.clone(),
            }),
            now,
        );
        self.status = Status::Connecting;
    }

    /// The transport closed or failed: back to offline, keeping everything
    /// unacknowledged for the next connection.
    pub fn disconnected(&mut self) {
        self.transmit.clear();
        self.in_flight.clear();
        self.status = Status::Offline;
    }

    /// Says goodbye (the driver closes the transport after sending it) and
    /// goes offline.
    pub fn close(&mut self, now: u64) {
        if self.status != Status::Offline {
            self.queue(Message::Bye, now);
        }
        self.in_flight.clear();
        self.status = Status::Offline;
    }

    /// Captures local operations made since the last call; while live they
    /// are sent at once. Returns whether there were any.
    pub fn local_changes(&mut self, doc: &Doc, now: u64) -> bool {
        let own = doc.ops_of(self.replica);
        if own <= self.captured {
            return false;
        }
        if self.status == Status::Live {
            self.send_own(doc, self.captured, own, now);
        }
        self.captured = own;
        true
    }

    /// Handles one frame from the server. On `Err` the driver closes the
    /// transport with [`SyncError::close_code`]; the document keeps every
    /// complete change applied before the error.
    pub fn receive(
        &mut self,
        doc: &mut Doc,
        bytes: &[u8],
        now: u64,
    ) -> Result<Vec<SessionEvent>, SyncError> {
        self.last_received = now;
        let mut events = Vec::new();
        match (self.status, Message::decode(bytes)?) {
            (_, Message::Ping { nonce }) => self.queue(Message::Pong { nonce }, now),
            (_, Message::Pong { .. }) => {}
            (_, Message::Error(e)) if e.fatal => {
                let err = SyncError::Refused(e.clone());
                self.stop(err.clone());
                events.push(SessionEvent::ServerError(e));
                events.push(SessionEvent::Status(Status::Offline));
                return Err(err);
            }
            (_, Message::Error(e)) => {
                if let Some(id) = e.update_id {
                    // Rejected for good: it will never be acked.
                    self.in_flight.retain(|f| f.id != id);
                }
                events.push(SessionEvent::ServerError(e));
            }
            (_, Message::Bye) => {
                self.disconnected();
                events.push(SessionEvent::Status(Status::Offline));
            }
            (Status::Connecting, Message::HelloAck(ack)) => {
                self.on_hello_ack(doc, ack, now, &mut events)?;
            }
            (Status::Live, Message::Delta { server_seq, delta }) => {
                self.advance_seq(server_seq, true)?;
                let outcome = doc.apply_encoded(&delta)?;
                self.commit_seq(server_seq);
                events.push(SessionEvent::Remote(outcome));
            }
            (
                Status::Live,
                Message::Ack {
                    id,
                    server_seq,
                    durable,
                },
            ) => {
                let Some(pos) = self.in_flight.iter().position(|f| f.id == id) else {
                    return Err(SyncError::Protocol {
                        what: "ack for an update that is not in flight",
                    });
                };
                self.advance_seq(server_seq, false)?;
                self.commit_seq(server_seq);
                // Updates are handled in order: earlier ones are done too.
                let to = self.in_flight[pos].to;
                self.in_flight.drain(..=pos);
                self.acked = self.acked.max(to);
                events.push(SessionEvent::Acked {
                    id,
                    server_seq,
                    durable,
                });
            }
            (Status::Live, Message::Presence(body)) => events.push(SessionEvent::Presence(body)),
            _ => {
                return Err(SyncError::Protocol {
                    what: "message not allowed in this state",
                })
            }
        }
        Ok(events)
    }

    /// The next frame to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// When [`ClientSession::handle_timeout`] wants to run next, if at all.
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.status {
            Status::Offline => None,
            Status::Connecting => Some(self.connected_at + self.config.handshake_timeout_ms),
            Status::Live => Some(
                (self.last_sent + self.config.heartbeat_interval_ms)
                    .min(self.last_received + self.config.heartbeat_timeout_ms),
            ),
        }
    }

    /// Runs timers: handshake deadline, heartbeat pings, dead-link detection.
    /// On `Err` the driver closes the transport and reconnects.
    pub fn handle_timeout(&mut self, now: u64) -> Result<(), SyncError> {
        match self.status {
            Status::Offline => Ok(()),
            Status::Connecting => {
                let limit = self.config.handshake_timeout_ms;
                if now.saturating_sub(self.connected_at) >= limit {
                    self.disconnected();
                    return Err(SyncError::HandshakeTimeout(limit));
                }
                Ok(())
            }
            Status::Live => {
                let limit = self.config.heartbeat_timeout_ms;
                if now.saturating_sub(self.last_received) >= limit {
                    self.disconnected();
                    return Err(SyncError::HeartbeatTimeout(limit));
                }
                if now.saturating_sub(self.last_sent) >= self.config.heartbeat_interval_ms {
                    let nonce = self.next_nonce;
                    self.next_nonce += 1;
                    self.queue(Message::Ping { nonce }, now);
                }
                Ok(())
            }
        }
    }

    /// Queues a presence message (sent only while live).
    pub fn send_presence(&mut self, body: Vec<u8>, now: u64) -> bool {
        if self.status != Status::Live {
            return false;
        }
        self.queue(Message::Presence(body), now);
        true
    }

    fn on_hello_ack(
        &mut self,
        doc: &mut Doc,
        ack: HelloAck,
        now: u64,
        events: &mut Vec<SessionEvent>,
    ) -> Result<(), SyncError> {
        // Checked before the catch-up is applied, which may bring this
        // replica's own operations back. A document with no own operations
        // (a fresh one reusing the id) recovers them; one that has some but
        // fewer than the server made new ones that reuse ids the server
        // already gave to other operations.
        let server_own = ack.version.get(self.replica);
        let own = doc.ops_of(self.replica);
        if own > 0 && server_own > own {
            let err = SyncError::ReplicaBehind {
                server: server_own,
                local: own,
            };
            self.stop(err.clone());
            return Err(err);
        }
        self.read_only = ack.read_only;
        match ack.catch_up {
            CatchUp::Deltas(deltas) => {
                let first = match self.resume {
                    Some(r) if r.epoch == ack.epoch => r.server_seq + 1,
                    _ => 1,
                };
                let consecutive = deltas
                    .iter()
                    .enumerate()
                    .all(|(i, (seq, _))| Some(*seq) == first.checked_add(i as u64));
                if !consecutive
                    || first.checked_add(deltas.len() as u64) != Some(ack.server_seq + 1)
                {
                    return Err(SyncError::Protocol {
                        what: "catch-up deltas do not lead from the client's seq to the server's",
                    });
                }
                for (_, bytes) in &deltas {
                    events.push(SessionEvent::Remote(doc.apply_encoded(bytes)?));
                }
            }
            CatchUp::Snapshot(bytes) => {
                let snapshot = Doc::decode(&bytes, self.replica).map_err(ApplyError::Decode)?;
                events.push(SessionEvent::Remote(doc.merge_owned(snapshot)?));
            }
        }
        self.resume = Some(Resume {
            server_seq: ack.server_seq,
            epoch: ack.epoch,
        });
        let own = doc.ops_of(self.replica);
        if server_own > own {
            // The document lost its state but the resume point survived, so
            // the catch-up skipped this replica's own operations: forget the
            // resume point, and the next connection catches up from scratch.
            self.resume = None;
            self.disconnected();
            return Err(SyncError::Protocol {
                what: "catch-up lacks this replica's own operations; resyncing from scratch",
            });
        }
        self.acked = server_own;
        self.captured = own;
        self.status = Status::Live;
        events.push(SessionEvent::Status(Status::Live));
        if own > server_own {
            self.send_own(doc, server_own, own, now);
        }
        Ok(())
    }

    /// Sends own operations `from..to` as one update.
    fn send_own(&mut self, doc: &Doc, from: Seq, to: Seq, now: u64) {
        let mut since = doc.version();
        since.set(self.replica, from);
        let delta = doc.delta_since(&since);
        let id = self.next_id;
        self.next_id += 1;
        self.in_flight.push_back(InFlight { id, to });
        self.queue(
            Message::Update {
                id,
                delta: delta.encode(),
            },
            now,
        );
    }

    /// Checks a `server_seq` from a delta (`exact`: must be the next one) or
    /// an ack (the next one, or an old one for a duplicate).
    fn advance_seq(&self, seq: u64, exact: bool) -> Result<(), SyncError> {
        let last = self.resume.map_or(0, |r| r.server_seq);
        let ok = seq == last + 1 || (!exact && seq <= last);
        if ok {
            Ok(())
        } else {
            Err(SyncError::Protocol {
                what: "server_seq gap",
            })
        }
    }

    fn commit_seq(&mut self, seq: u64) {
        if let Some(r) = &mut self.resume {
            r.server_seq = r.server_seq.max(seq);
        }
    }

    fn stop(&mut self, err: SyncError) {
        self.disconnected();
        self.stopped = Some(err);
    }

    fn queue(&mut self, message: Message, now: u64) {
        self.last_sent = now;
        self.transmit.push_back(message.encode());
    }
}
