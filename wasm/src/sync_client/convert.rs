//! Conversions for `SyncClient`: options in, status objects, resume points
//! and errors out.

use crate::convert::{get, millis};
use crate::error::{code, Error};
use js_sys::{Function, Object, Reflect};
use quire_core::sync::message::MAX_TOKEN;
use quire_core::sync::{close, ErrorCode, Resume, SyncError};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Stable error codes of the sync client, beside those of `crate::error`.
pub(crate) mod sync_code {
    /// No WebSocket constructor: pass `options.WebSocket` (Node < 22).
    pub const NO_WEBSOCKET: &str = "NO_WEBSOCKET";
    /// The socket could not be created or failed to send.
    pub const CONNECT: &str = "CONNECT";
    /// The connection closed (the close code is in the message).
    pub const CLOSED: &str = "CLOSED";
    /// The server broke the protocol or sent a malformed frame.
    pub const PROTOCOL: &str = "PROTOCOL";
    /// No `hello_ack` in time.
    pub const HANDSHAKE_TIMEOUT: &str = "HANDSHAKE_TIMEOUT";
    /// Nothing received within the heartbeat budget.
    pub const HEARTBEAT_TIMEOUT: &str = "HEARTBEAT_TIMEOUT";
    /// The server has more of this replica than the document (a reused
    /// replica id). Fatal.
    pub const REPLICA_BEHIND: &str = "REPLICA_BEHIND";
    /// Bad or missing token. Fatal.
    pub const UNAUTHORIZED: &str = "UNAUTHORIZED";
    /// The token only allows reading.
    pub const READ_ONLY: &str = "READ_ONLY";
    /// The server does not speak this protocol version. Fatal.
    pub const UNSUPPORTED_VERSION: &str = "UNSUPPORTED_VERSION";
    /// The server rejected the document id. Fatal.
    pub const BAD_DOCUMENT_ID: &str = "BAD_DOCUMENT_ID";
    /// The server is rate limiting or overloaded.
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// Any other error the server reported.
    pub const SERVER: &str = "SERVER";
    /// The document could not be saved or a stored one read. Not fatal:
    /// what is in memory stays, and saving is retried at the next change.
    pub const STORAGE: &str = "STORAGE";
}

/// Defaults: 0.5 s doubling up to 30 s.
const DEFAULT_BACKOFF: Backoff = Backoff {
    initial_ms: 500,
    max_ms: 30_000,
};

/// Reconnect delays: full jitter over an exponential ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    pub(crate) initial_ms: u64,
    pub(crate) max_ms: u64,
}

impl Backoff {
    /// The delay before reconnect attempt `attempt` (0-based) given a
    /// uniform `unit` in `[0, 1)`: in `[0, min(max, initial * 2^attempt)]`.
    pub(crate) fn delay(self, attempt: u32, unit: f64) -> u64 {
        let ceiling = self
            .initial_ms
            .saturating_mul(1u64 << attempt.min(32))
            .min(self.max_ms);
        (ceiling as f64 * unit.clamp(0.0, 1.0)) as u64
    }
}

/// `options` of `new SyncClient(...)`.
#[derive(Debug, Default)]
pub(crate) struct Options {
    pub(crate) token: Option<String>,
    pub(crate) websocket: Option<Function>,
    pub(crate) backoff: Option<Backoff>,
    /// undefined (the default storage), null or false (none), or a storage.
    pub(crate) storage: JsValue,
    /// A Web Locks implementation (`navigator.locks` by default).
    pub(crate) locks: JsValue,
    pub(crate) heartbeat_interval_ms: Option<u64>,
    pub(crate) heartbeat_timeout_ms: Option<u64>,
    pub(crate) handshake_timeout_ms: Option<u64>,
}

impl Options {
    pub(crate) fn backoff(&self) -> Backoff {
        self.backoff.unwrap_or(DEFAULT_BACKOFF)
    }
}

/// Reads `options` (undefined or an object; unknown keys are ignored).
pub(crate) fn options(o: &JsValue) -> Result<Options, Error> {
    if o.is_undefined() || o.is_null() {
        return Ok(Options::default());
    }
    if !o.is_object() {
        return Err(Error::invalid_argument("options must be an object"));
    }
    let token = match get(o, "token")? {
        t if t.is_undefined() || t.is_null() => None,
        t => {
            let t = crate::convert::text(&t, "options.token")?;
            if t.len() > MAX_TOKEN {
                return Err(Error::new(
                    code::LIMIT,
                    format!("options.token is {} bytes, at most {MAX_TOKEN}", t.len()),
                ));
            }
            Some(t)
        }
    };
    let websocket = match get(o, "WebSocket")? {
        w if w.is_undefined() || w.is_null() => None,
        w => Some(
            w.dyn_into()
                .map_err(|_| Error::invalid_argument("options.WebSocket must be a constructor"))?,
        ),
    };
    let backoff = match get(o, "backoff")? {
        b if b.is_undefined() => None,
        b if b.is_object() => {
            let initial_ms = millis(&b, "initialMs", 0)?.unwrap_or(DEFAULT_BACKOFF.initial_ms);
            let max_ms = millis(&b, "maxMs", 0)?.unwrap_or(DEFAULT_BACKOFF.max_ms);
            Some(Backoff {
                initial_ms,
                max_ms: max_ms.max(initial_ms),
            })
        }
        _ => return Err(Error::invalid_argument("options.backoff must be an object")),
    };
    let storage = match get(o, "storage")? {
        s if s.is_undefined() || s.is_null() || s == JsValue::FALSE => s,
        s => {
            let callable = |k| get(&s, k).is_ok_and(|f| f.is_function());
            if !(callable("get") && callable("set")) {
                return Err(Error::invalid_argument(
                    "options.storage must have get(key) and set(key, value) methods",
                ));
            }
            s
        }
    };
    Ok(Options {
        token,
        websocket,
        backoff,
        storage,
        locks: get(o, "locks")?,
        heartbeat_interval_ms: millis(o, "heartbeatIntervalMs", 1)?,
        heartbeat_timeout_ms: millis(o, "heartbeatTimeoutMs", 1)?,
        handshake_timeout_ms: millis(o, "handshakeTimeoutMs", 1)?,
    })
}

/// A resume point as stored: `"<epoch>:<server_seq>"` in decimal.
pub(crate) fn resume_to_string(r: Resume) -> String {
    format!("{}:{}", r.epoch, r.server_seq)
}

/// Parses [`resume_to_string`]'s format; anything else is no resume point
/// (the server then sends a snapshot, which is always safe).
pub(crate) fn resume_from_str(s: &str) -> Option<Resume> {
    let (epoch, seq) = s.split_once(':')?;
    let num = |t: &str| {
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<u64>().ok())
            .flatten()
    };
    Some(Resume {
        epoch: num(epoch)?,
        server_seq: num(seq)?,
    })
}

/// Why the client went offline or stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) code: &'static str,
    pub(crate) message: String,
    /// Reconnecting cannot help: the client stopped.
    pub(crate) fatal: bool,
}

impl Failure {
    pub(crate) fn new(code: &'static str, message: impl Into<String>, fatal: bool) -> Self {
        Failure {
            code,
            message: message.into(),
            fatal,
        }
    }

    /// A JS `Error` (name `QuireError`) with `code` and `fatal`.
    pub(crate) fn to_js(&self) -> JsValue {
        let err: JsValue = Error::new(self.code, self.message.clone()).into();
        // Setting a property on a fresh Error cannot fail.
        let _ = Reflect::set(&err, &"fatal".into(), &self.fatal.into());
        err
    }
}

fn server_code(c: ErrorCode) -> &'static str {
    match c {
        ErrorCode::UNAUTHORIZED => sync_code::UNAUTHORIZED,
        ErrorCode::READ_ONLY => sync_code::READ_ONLY,
        ErrorCode::UNSUPPORTED_VERSION => sync_code::UNSUPPORTED_VERSION,
        ErrorCode::BAD_DOCUMENT_ID => sync_code::BAD_DOCUMENT_ID,
        ErrorCode::RATE_LIMITED => sync_code::RATE_LIMITED,
        ErrorCode::REPLICA_BEHIND => sync_code::REPLICA_BEHIND,
        ErrorCode::MALFORMED | ErrorCode::UNKNOWN_MESSAGE | ErrorCode::UNEXPECTED => {
            sync_code::PROTOCOL
        }
        ErrorCode::TOO_LARGE => code::LIMIT,
        ErrorCode::INVALID_DELTA => code::INVALID_DELTA,
        _ => sync_code::SERVER,
    }
}

/// An `error` message from the server.
pub(crate) fn server_error(e: &quire_core::sync::ErrorMessage) -> Failure {
    let message = format!("the server reported {}: {}", e.code.name(), e.message);
    Failure::new(server_code(e.code), message, e.fatal)
}

impl From<&SyncError> for Failure {
    fn from(e: &SyncError) -> Self {
        let code = match e {
            SyncError::BadDocumentId(_) => sync_code::BAD_DOCUMENT_ID,
            SyncError::Apply(a) => Error::from(a.clone()).code,
            SyncError::HandshakeTimeout(_) => sync_code::HANDSHAKE_TIMEOUT,
            SyncError::HeartbeatTimeout(_) => sync_code::HEARTBEAT_TIMEOUT,
            SyncError::ReplicaBehind { .. } => sync_code::REPLICA_BEHIND,
            SyncError::Refused(m) => server_code(m.code),
            _ => sync_code::PROTOCOL,
        };
        Failure::new(code, e.to_string(), e.is_fatal())
    }
}

/// The failure a close code stands for (fatal for the codes
/// `close::is_fatal` names).
pub(crate) fn closed(close_code: u16, reason: &str) -> Failure {
    let code = match close_code {
        close::UNAUTHORIZED => sync_code::UNAUTHORIZED,
        close::UNSUPPORTED_VERSION => sync_code::UNSUPPORTED_VERSION,
        close::BAD_DOCUMENT_ID => sync_code::BAD_DOCUMENT_ID,
        close::OVERLOADED => sync_code::RATE_LIMITED,
        close::HANDSHAKE_TIMEOUT => sync_code::HANDSHAKE_TIMEOUT,
        close::HEARTBEAT_TIMEOUT => sync_code::HEARTBEAT_TIMEOUT,
        close::PROTOCOL_ERROR => sync_code::PROTOCOL,
        _ => sync_code::CLOSED,
    };
    let message = if reason.is_empty() {
        format!("the connection closed (code {close_code})")
    } else {
        format!("the connection closed (code {close_code}: {reason})")
    };
    Failure::new(code, message, close::is_fatal(close_code))
}

/// What `client.status` and friends report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Report {
    pub(crate) status: &'static str,
    pub(crate) pending: u64,
    pub(crate) server_seq: Option<u64>,
    /// The stored document was restored (or there is no storage).
    pub(crate) restored: bool,
    /// The relay refuses this client's updates (a `read` token).
    pub(crate) read_only: bool,
}

impl Default for Report {
    fn default() -> Self {
        Report {
            status: "offline",
            pending: 0,
            server_seq: None,
            restored: false,
            read_only: false,
        }
    }
}

/// `serverSeq` for JS: a number, or null.
pub(crate) fn seq_to_js(seq: Option<u64>) -> JsValue {
    seq.map_or(JsValue::NULL, |s| JsValue::from(s as f64))
}

/// `{ status, pending, serverSeq, restored, readOnly, error }` for
/// `onStatus` listeners.
pub(crate) fn status_event(r: &Report, error: Option<&Failure>) -> JsValue {
    let o = Object::new();
    let fields = [
        ("status", JsValue::from_str(r.status)),
        ("pending", JsValue::from(r.pending as f64)),
        ("serverSeq", seq_to_js(r.server_seq)),
        ("restored", JsValue::from_bool(r.restored)),
        ("readOnly", JsValue::from_bool(r.read_only)),
        ("error", error.map_or(JsValue::NULL, Failure::to_js)),
    ];
    for (k, v) in fields {
        // Defining a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&o, &k.into(), &v);
    }
    o.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_delay_is_full_jitter_under_a_capped_exponential() {
        let b = Backoff {
            initial_ms: 100,
            max_ms: 1_000,
        };
        assert_eq!(b.delay(0, 0.0), 0);
        assert_eq!(b.delay(0, 0.999_999), 99);
        assert_eq!(b.delay(2, 0.5), 200);
        assert_eq!(b.delay(10, 0.5), 500);
        assert_eq!(b.delay(u32::MAX, 0.5), 500);
    }

    #[test]
    fn resume_points_round_trip_and_garbage_is_ignored() {
        let r = Resume {
            epoch: 7,
            server_seq: u64::MAX,
        };
        assert_eq!(resume_from_str(&resume_to_string(r)), Some(r));
        for bad in [
            "",
            "1",
            "1:",
            ":1",
            "1:2:3",
            "+1:2",
            "a:1",
            "1:18446744073709551616",
        ] {
            assert_eq!(resume_from_str(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn fatal_close_codes_stop_and_others_retry() {
        assert!(closed(close::UNAUTHORIZED, "").fatal);
        assert_eq!(closed(close::UNAUTHORIZED, "").code, "UNAUTHORIZED");
        assert!(!closed(close::GOING_AWAY, "bye").fatal);
        assert_eq!(closed(1006, "").code, "CLOSED");
    }
}
