//! A minimal in-memory server for driving `ClientSession`s: the relay's
//! rules (server_seq, log, catch-up, acks, fan-out) without sockets.

use quire_core::sync::{CatchUp, ErrorCode, ErrorMessage, Hello, HelloAck, Message, Resume};
use quire_core::{ApplyError, Delta, Doc, ReplicaId};

/// A connected client as the server sees it.
pub struct Conn {
    pub replica: Option<ReplicaId>,
    pub outbox: Vec<Vec<u8>>,
    pub open: bool,
}

/// One document on the fake server.
pub struct Server {
    pub doc: Doc,
    pub epoch: u64,
    /// `(server_seq, delta)` for seqs `log_start + 1 ..`.
    pub log: Vec<(u64, Vec<u8>)>,
    pub server_seq: u64,
    pub conns: Vec<Conn>,
    /// Drop acks instead of sending them (simulates a lost ack).
    pub drop_acks: bool,
}

impl Server {
    pub fn new(epoch: u64) -> Self {
        Self {
            doc: Doc::new(ReplicaId(0)),
            epoch,
            log: Vec::new(),
            server_seq: 0,
            conns: Vec::new(),
            drop_acks: false,
        }
    }

    /// Opens a connection; returns its index.
    pub fn open(&mut self) -> usize {
        self.conns.push(Conn {
            replica: None,
            outbox: Vec::new(),
            open: true,
        });
        self.conns.len() - 1
    }

    /// Forgets every log entry up to `seq` (as compaction would).
    pub fn truncate_log(&mut self, seq: u64) {
        self.log.retain(|(s, _)| *s > seq);
    }

    fn send(&mut self, conn: usize, message: Message) {
        self.conns[conn].outbox.push(message.encode());
    }

    /// Handles one frame from `conn`.
    pub fn receive(&mut self, conn: usize, bytes: &[u8]) {
        match Message::decode(bytes) {
            Ok(Message::Hello(hello)) => self.hello(conn, hello),
            Ok(Message::Update { id, delta }) => self.update(conn, id, &delta),
            Ok(Message::Ping { nonce }) => self.send(conn, Message::Pong { nonce }),
            Ok(Message::Bye) => self.conns[conn].open = false,
            Ok(_) => {}
            Err(e) => self.send(
                conn,
                Message::Error(ErrorMessage {
                    code: ErrorCode::MALFORMED,
                    fatal: true,
                    update_id: None,
                    message: e.to_string(),
                }),
            ),
        }
    }

    fn hello(&mut self, conn: usize, hello: Hello) {
        self.conns[conn].replica = Some(hello.replica);
        let first_held = self.log.first().map_or(self.server_seq + 1, |(s, _)| *s);
        let catch_up = match hello.resume {
            Some(Resume { server_seq, epoch })
                if epoch == self.epoch
                    && server_seq <= self.server_seq
                    && first_held <= server_seq + 1 =>
            {
                CatchUp::Deltas(
                    self.log
                        .iter()
                        .filter(|(s, _)| *s > server_seq)
                        .cloned()
                        .collect(),
                )
            }
            None if first_held == 1 => CatchUp::Deltas(self.log.clone()),
            _ => CatchUp::Snapshot(self.doc.encode()),
        };
        let ack = HelloAck {
            server_seq: self.server_seq,
            epoch: self.epoch,
            version: self.doc.version(),
            catch_up,
            read_only: false,
        };
        self.send(conn, Message::HelloAck(ack));
    }

    fn update(&mut self, conn: usize, id: u64, bytes: &[u8]) {
        let replica = self.conns[conn].replica;
        let result = Delta::decode(bytes)
            .map_err(ApplyError::from)
            .and_then(|delta| {
                if delta.replicas().any(|r| Some(r) != replica) {
                    return Err(ApplyError::MissingDependencies { waiting: 0 });
                }
                self.doc.apply_complete(&delta)
            });
        match result {
            Ok(outcome) if outcome.applied == 0 => {
                if !self.drop_acks {
                    let server_seq = self.server_seq;
                    self.send(
                        conn,
                        Message::Ack {
                            id,
                            server_seq,
                            durable: true,
                        },
                    );
                }
            }
            Ok(_) => {
                self.server_seq += 1;
                let seq = self.server_seq;
                self.log.push((seq, bytes.to_vec()));
                if !self.drop_acks {
                    self.send(
                        conn,
                        Message::Ack {
                            id,
                            server_seq: seq,
                            durable: true,
                        },
                    );
                }
                for other in 0..self.conns.len() {
                    if other != conn
                        && self.conns[other].open
                        && self.conns[other].replica.is_some()
                    {
                        self.send(
                            other,
                            Message::Delta {
                                server_seq: seq,
                                delta: bytes.to_vec(),
                            },
                        );
                    }
                }
            }
            Err(e) => self.send(
                conn,
                Message::Error(ErrorMessage {
                    code: ErrorCode::INVALID_DELTA,
                    fatal: false,
                    update_id: Some(id),
                    message: e.to_string(),
                }),
            ),
        }
    }
}
