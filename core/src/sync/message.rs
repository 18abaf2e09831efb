//! Sync protocol messages and their framing (see `docs/PROTOCOL.md`, part 2).
//!
//! One WebSocket binary message carries one frame: the protocol version
//! byte, the message tag byte, then the body. Deltas and snapshots travel as
//! their own checksummed encodings (`Delta::encode`, `Doc::encode`), so the
//! relay stores and forwards them without re-encoding.

use crate::codec::reader::Reader;
use crate::codec::version::{read_version, write_version};
use crate::codec::writer::Writer;
use crate::codec::DecodeError;
use crate::ids::ReplicaId;
use crate::version::VersionVector;

/// The protocol version this build speaks (first byte of every frame).
pub const PROTOCOL_VERSION: u8 = 1;

/// Message tags (second byte of every frame).
pub mod tag {
    /// Client -> server: open a session on one document.
    pub const HELLO: u8 = 1;
    /// Server -> client: the session is open; catch-up follows inline.
    pub const HELLO_ACK: u8 = 2;
    /// Client -> server: a delta of the client's own operations.
    pub const UPDATE: u8 = 3;
    /// Server -> client: an update was accepted (and maybe stored).
    pub const ACK: u8 = 4;
    /// Server -> client: another client's delta with its `server_seq`.
    pub const DELTA: u8 = 5;
    /// Either way: are you there?
    pub const PING: u8 = 6;
    /// Either way: the answer to a ping, echoing its nonce.
    pub const PONG: u8 = 7;
    /// Either way: something went wrong (stable code, message, fatal flag).
    pub const ERROR: u8 = 8;
    /// Either way: the sender is leaving; the connection closes next.
    pub const BYE: u8 = 9;
    /// Either way: ephemeral presence state (opaque to the protocol core).
    pub const PRESENCE: u8 = 10;
}

/// Longest document id, in bytes (see [`validate_doc_id`]).
pub const MAX_DOC_ID: usize = 64;
/// Longest auth token, in bytes.
pub const MAX_TOKEN: usize = 4096;
/// Longest error message text, in bytes.
pub const MAX_ERROR_MESSAGE: usize = 1024;
/// Largest embedded delta, snapshot or presence payload, in bytes. The
/// transport's own frame limit is usually lower.
pub const MAX_PAYLOAD: usize = 64 << 20;
/// Most deltas one `hello_ack` may carry.
pub const MAX_CATCH_UP_DELTAS: usize = 1 << 20;

/// Checks a document id: 1 to 64 bytes of ASCII letters, digits, `-`, `_`
/// and `.`, starting with a letter or digit. The same grammar holds on every
/// route of the relay, so ids are safe in URLs, file names and store keys.
pub fn validate_doc_id(id: &str) -> Result<(), DecodeError> {
    let bytes = id.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= MAX_DOC_ID
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(DecodeError::Invalid {
            what: "document id (1-64 of [A-Za-z0-9._-], starting with a letter or digit)",
        })
    }
}

/// Where a reconnecting client left off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    /// The last `server_seq` the client has seen.
    pub server_seq: u64,
    /// The document epoch that `server_seq` belongs to.
    pub epoch: u64,
}

/// The first message of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// The document to open (checked by [`validate_doc_id`]).
    pub doc_id: String,
    /// The client's replica id: the only author it may write as.
    pub replica: ReplicaId,
    /// What the client holds.
    pub version: VersionVector,
    /// Where the client left off, if it has been here before.
    pub resume: Option<Resume>,
    /// An auth token, when the relay requires one.
    pub token: Option<String>,
}

/// What a client lacks, sent inside [`HelloAck`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatchUp {
    /// The logged deltas after the client's `server_seq`, in order:
    /// `(server_seq, encoded delta)`, consecutive, ending at the ack's
    /// `server_seq`. Empty when the client is up to date.
    Deltas(Vec<(u64, Vec<u8>)>),
    /// The whole document (`Doc::encode`), to merge: sent when the log no
    /// longer reaches back, the epoch differs, or the client claims a
    /// `server_seq` from the future.
    Snapshot(Vec<u8>),
}

/// The server's answer to [`Hello`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelloAck {
    /// The document's current `server_seq` (0: nothing accepted yet).
    pub server_seq: u64,
    /// The document's epoch: changes when its log restarts from scratch.
    pub epoch: u64,
    /// What the server holds, after the catch-up: the client sends its own
    /// operations beyond this.
    pub version: VersionVector,
    /// What the client lacks.
    pub catch_up: CatchUp,
    /// The connection may not write (a `read` token): its updates will be
    /// refused with `read_only`, so an app can lock its editor.
    pub read_only: bool,
}

/// A stable error code (see the table in `docs/PROTOCOL.md`). Unknown codes
/// from newer peers are kept as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub u16);

impl ErrorCode {
    /// The frame could not be decoded.
    pub const MALFORMED: Self = Self(1);
    /// The frame's protocol version is not spoken here.
    pub const UNSUPPORTED_VERSION: Self = Self(2);
    /// The message tag is unknown.
    pub const UNKNOWN_MESSAGE: Self = Self(3);
    /// The frame is larger than the receiver accepts.
    pub const TOO_LARGE: Self = Self(4);
    /// The message is not allowed in this state (e.g. `update` before `hello`).
    pub const UNEXPECTED: Self = Self(5);
    /// The delta does not decode or does not apply to the document.
    pub const INVALID_DELTA: Self = Self(6);
    /// The delta writes as a replica other than the sender's.
    pub const FORGED_REPLICA: Self = Self(7);
    /// The delta depends on operations the server does not have.
    pub const MISSING_DEPENDENCIES: Self = Self(8);
    /// The token is missing, invalid or expired.
    pub const UNAUTHORIZED: Self = Self(9);
    /// The token only allows reading.
    pub const READ_ONLY: Self = Self(10);
    /// The document id breaks the grammar.
    pub const BAD_DOCUMENT_ID: Self = Self(11);
    /// Too many messages, connections or documents; retry later.
    pub const RATE_LIMITED: Self = Self(12);
    /// The server failed (e.g. its store); retry later.
    pub const INTERNAL: Self = Self(13);
    /// The server has more of the client's replica than the client: the
    /// replica id was reused after losing state. Start a new replica.
    pub const REPLICA_BEHIND: Self = Self(14);

    /// A short stable name, e.g. `"invalid_delta"`.
    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "malformed",
            2 => "unsupported_version",
            3 => "unknown_message",
            4 => "too_large",
            5 => "unexpected",
            6 => "invalid_delta",
            7 => "forged_replica",
            8 => "missing_dependencies",
            9 => "unauthorized",
            10 => "read_only",
            11 => "bad_document_id",
            12 => "rate_limited",
            13 => "internal",
            14 => "replica_behind",
            _ => "unknown",
        }
    }
}

/// An `error` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorMessage {
    /// What went wrong.
    pub code: ErrorCode,
    /// Whether the session is over: a fatal error is followed by a close,
    /// and the client must not reconnect without a change (token, id...).
    pub fatal: bool,
    /// The `update` id this error concerns, if any: that update was
    /// rejected and will never be acknowledged.
    pub update_id: Option<u64>,
    /// Human-readable detail (at most [`MAX_ERROR_MESSAGE`] bytes).
    pub message: String,
}

/// One protocol message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// See [`Hello`].
    Hello(Hello),
    /// See [`HelloAck`].
    HelloAck(HelloAck),
    /// A delta of the sender's own operations, with an id the sender picks
    /// (increasing per session) to match the `ack`.
    Update {
        /// Client-chosen id, echoed by `ack`.
        id: u64,
        /// `Delta::encode` bytes.
        delta: Vec<u8>,
    },
    /// The update `id` was accepted as `server_seq`. A duplicate (nothing
    /// new) is acked with the current `server_seq`.
    Ack {
        /// The update's id.
        id: u64,
        /// The `server_seq` it was given (or the current one for a duplicate).
        server_seq: u64,
        /// Whether the store has committed it (a crash cannot lose it).
        durable: bool,
    },
    /// Another client's accepted delta.
    Delta {
        /// Its `server_seq`: exactly one more than the previous one the
        /// client saw.
        server_seq: u64,
        /// `Delta::encode` bytes.
        delta: Vec<u8>,
    },
    /// Heartbeat request.
    Ping {
        /// Echoed by the pong.
        nonce: u64,
    },
    /// Heartbeat answer.
    Pong {
        /// The ping's nonce.
        nonce: u64,
    },
    /// See [`ErrorMessage`].
    Error(ErrorMessage),
    /// The sender is leaving.
    Bye,
    /// Ephemeral presence state; its body is defined by the presence layer.
    Presence(Vec<u8>),
}

impl Message {
    /// The tag of this message (see [`tag`]).
    pub fn tag(&self) -> u8 {
        match self {
            Message::Hello(_) => tag::HELLO,
            Message::HelloAck(_) => tag::HELLO_ACK,
            Message::Update { .. } => tag::UPDATE,
            Message::Ack { .. } => tag::ACK,
            Message::Delta { .. } => tag::DELTA,
            Message::Ping { .. } => tag::PING,
            Message::Pong { .. } => tag::PONG,
            Message::Error(_) => tag::ERROR,
            Message::Bye => tag::BYE,
            Message::Presence(_) => tag::PRESENCE,
        }
    }

    /// Encodes this message as one frame.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(PROTOCOL_VERSION);
        w.u8(self.tag());
        match self {
            Message::Hello(h) => {
                w.str(&h.doc_id);
                w.replica(h.replica);
                write_version(&mut w, &h.version);
                let flags = u8::from(h.resume.is_some()) | u8::from(h.token.is_some()) << 1;
                w.u8(flags);
                if let Some(resume) = h.resume {
                    w.varint(resume.server_seq);
                    w.varint(resume.epoch);
                }
                if let Some(token) = &h.token {
                    w.str(token);
                }
            }
            Message::HelloAck(a) => {
                w.varint(a.server_seq);
                w.varint(a.epoch);
                write_version(&mut w, &a.version);
                let access = if a.read_only { ACK_READ_ONLY } else { 0 };
                match &a.catch_up {
                    CatchUp::Deltas(deltas) => {
                        w.u8(CATCH_UP_DELTAS | access);
                        w.varint(deltas.len() as u64);
                        for (seq, delta) in deltas {
                            w.varint(*seq);
                            w.bytes(delta);
                        }
                    }
                    CatchUp::Snapshot(doc) => {
                        w.u8(CATCH_UP_SNAPSHOT | access);
                        w.bytes(doc);
                    }
                }
            }
            Message::Update { id, delta } => {
                w.varint(*id);
                w.bytes(delta);
            }
            Message::Ack {
                id,
                server_seq,
                durable,
            } => {
                w.varint(*id);
                w.varint(*server_seq);
                w.u8(u8::from(*durable));
            }
            Message::Delta { server_seq, delta } => {
                w.varint(*server_seq);
                w.bytes(delta);
            }
            Message::Ping { nonce } | Message::Pong { nonce } => w.varint(*nonce),
            Message::Error(e) => {
                w.varint(u64::from(e.code.0));
                w.u8(u8::from(e.fatal));
                // 0 means "no update": ids start at 1.
                w.varint(e.update_id.unwrap_or(0));
                w.str(&e.message);
            }
            Message::Bye => {}
            Message::Presence(body) => w.bytes(body),
        }
        w.into_inner()
    }

    /// Decodes one frame, checking every field; never panics, never
    /// allocates from an unchecked length.
    pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
        let mut r = Reader::new(bytes);
        let version = r.u8()?;
        if version != PROTOCOL_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                found: version,
                supported: PROTOCOL_VERSION,
            });
        }
        let message = match r.u8()? {
            tag::HELLO => Message::Hello(read_hello(&mut r)?),
            tag::HELLO_ACK => Message::HelloAck(read_hello_ack(&mut r)?),
            tag::UPDATE => {
                let id = r.varint()?;
                let delta = r.bytes("update delta", MAX_PAYLOAD)?.to_vec();
                Message::Update { id, delta }
            }
            tag::ACK => Message::Ack {
                id: r.varint()?,
                server_seq: r.varint()?,
                durable: read_bool(&mut r, "ack durable flag")?,
            },
            tag::DELTA => {
                let server_seq = r.varint()?;
                let delta = r.bytes("delta", MAX_PAYLOAD)?.to_vec();
                Message::Delta { server_seq, delta }
            }
            tag::PING => Message::Ping { nonce: r.varint()? },
            tag::PONG => Message::Pong { nonce: r.varint()? },
            tag::ERROR => {
                let code = r.varint_usize_max("error code", usize::from(u16::MAX))?;
                let fatal = read_bool(&mut r, "error fatal flag")?;
                let update_id = Some(r.varint()?).filter(|&id| id != 0);
                let message = read_str(&mut r, "error message", MAX_ERROR_MESSAGE)?;
                Message::Error(ErrorMessage {
                    code: ErrorCode(code as u16),
                    fatal,
                    update_id,
                    message,
                })
            }
            tag::BYE => Message::Bye,
            tag::PRESENCE => Message::Presence(r.bytes("presence", MAX_PAYLOAD)?.to_vec()),
            other => {
                return Err(DecodeError::UnknownTag {
                    what: "message",
                    tag: u64::from(other),
                })
            }
        };
        r.finish()?;
        Ok(message)
    }
}

/// `hello_ack` flags: bit 0 the catch-up's kind, bit 1 read-only.
const CATCH_UP_DELTAS: u8 = 0;
const CATCH_UP_SNAPSHOT: u8 = 1;
const ACK_READ_ONLY: u8 = 2;

fn read_bool(r: &mut Reader<'_>, what: &'static str) -> Result<bool, DecodeError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(DecodeError::Invalid { what }),
    }
}

fn read_str(r: &mut Reader<'_>, what: &'static str, limit: usize) -> Result<String, DecodeError> {
    let offset = r.offset();
    let raw = r.bytes(what, limit)?;
    core::str::from_utf8(raw)
        .map(str::to_owned)
        .map_err(|e| DecodeError::InvalidUtf8 {
            offset: offset + e.valid_up_to(),
        })
}

fn read_hello(r: &mut Reader<'_>) -> Result<Hello, DecodeError> {
    let doc_id = read_str(r, "document id", MAX_DOC_ID)?;
    validate_doc_id(&doc_id)?;
    let replica = r.replica()?;
    let version = read_version(r)?;
    let flags = r.u8()?;
    if flags & !0b11 != 0 {
        return Err(DecodeError::Invalid {
            what: "hello flags",
        });
    }
    let resume = if flags & 1 != 0 {
        Some(Resume {
            server_seq: r.varint()?,
            epoch: r.varint()?,
        })
    } else {
        None
    };
    let token = if flags & 2 != 0 {
        Some(read_str(r, "token", MAX_TOKEN)?)
    } else {
        None
    };
    Ok(Hello {
        doc_id,
        replica,
        version,
        resume,
        token,
    })
}

fn read_hello_ack(r: &mut Reader<'_>) -> Result<HelloAck, DecodeError> {
    let server_seq = r.varint()?;
    let epoch = r.varint()?;
    let version = read_version(r)?;
    let flags = r.u8()?;
    if flags & !(CATCH_UP_SNAPSHOT | ACK_READ_ONLY) != 0 {
        return Err(DecodeError::UnknownTag {
            what: "hello_ack flags",
            tag: u64::from(flags),
        });
    }
    let catch_up = match flags & CATCH_UP_SNAPSHOT {
        CATCH_UP_DELTAS => {
            // Each delta takes at least two bytes (seq, length), so the count
            // is checked against the bytes left before anything is allocated.
            let n = r.len("catch-up deltas", MAX_CATCH_UP_DELTAS)?;
            let mut deltas = Vec::with_capacity(n.min(r.remaining() / 2));
            for _ in 0..n {
                let seq = r.varint()?;
                let delta = r.bytes("catch-up delta", MAX_PAYLOAD)?.to_vec();
                deltas.push((seq, delta));
            }
            CatchUp::Deltas(deltas)
        }
        _ => CatchUp::Snapshot(r.bytes("snapshot", MAX_PAYLOAD)?.to_vec()),
    };
    Ok(HelloAck {
        server_seq,
        epoch,
        version,
        catch_up,
        read_only: flags & ACK_READ_ONLY != 0,
    })
}
