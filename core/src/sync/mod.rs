//! The sync protocol, sans-IO (see `docs/PROTOCOL.md`, part 2).
//!
//! [`message`] defines the frames both sides exchange; [`ClientSession`] is
//! the client's state machine, driven alike by the browser (wasm) and by
//! native tests: feed it what the transport received
//! ([`ClientSession::receive`]), send what it asks for
//! ([`ClientSession::poll_transmit`]) and wake it when its timer is due
//! ([`ClientSession::handle_timeout`]). It never touches a socket or a clock.

pub mod message;
mod session;

pub use message::{
    validate_doc_id, CatchUp, ErrorCode, ErrorMessage, Hello, HelloAck, Message, Resume,
    PROTOCOL_VERSION,
};
pub use session::{ClientConfig, ClientSession, SessionEvent, Status, SyncError};

/// WebSocket close codes used by the protocol. 1000-1011 are the standard
/// ones; 4000-4999 are the private range.
pub mod close {
    /// Normal closure (after `bye`).
    pub const NORMAL: u16 = 1000;
    /// The server is shutting down; reconnect later.
    pub const GOING_AWAY: u16 = 1001;
    /// A frame broke the protocol (malformed, unknown type, wrong state).
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A text frame: the protocol is binary only.
    pub const UNSUPPORTED_DATA: u16 = 1003;
    /// A frame was larger than the receiver accepts.
    pub const TOO_LARGE: u16 = 1009;
    /// The server failed; reconnect later.
    pub const INTERNAL: u16 = 1011;
    /// No `hello` within the handshake deadline.
    pub const HANDSHAKE_TIMEOUT: u16 = 4001;
    /// Pongs missed beyond the heartbeat budget.
    pub const HEARTBEAT_TIMEOUT: u16 = 4002;
    /// The client fell behind (its send queue overflowed): reconnect now
    /// with `resume` to catch up. Nothing was skipped silently.
    pub const RESYNC: u16 = 4003;
    /// A newer connection of the same replica took over this session.
    pub const REPLACED: u16 = 4004;
    /// Not allowed (bad token, read-only, forged identity). Fatal: do not
    /// reconnect without a new token.
    pub const UNAUTHORIZED: u16 = 4005;
    /// The protocol version is not spoken by the server. Fatal.
    pub const UNSUPPORTED_VERSION: u16 = 4006;
    /// The document id breaks the grammar. Fatal.
    pub const BAD_DOCUMENT_ID: u16 = 4007;
    /// Too many connections or documents; reconnect later with backoff.
    pub const OVERLOADED: u16 = 4008;

    /// Whether a client should stop reconnecting after this close code.
    pub fn is_fatal(code: u16) -> bool {
        matches!(code, UNAUTHORIZED | UNSUPPORTED_VERSION | BAD_DOCUMENT_ID)
    }
}
