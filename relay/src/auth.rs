//! Auth tokens: HMAC-SHA256 signed grants of one document, a scope and an
//! expiry, minted by the app's server (or `quire-relay token`) with a
//! secret shared with the relay.
//!
//! Format (version 1; `docs/PROTOCOL.md`, "Auth tokens"):
//!
//! ```text
//! token   = payload "." tag
//! payload = base64url(JSON {"v":1,"doc":ID,"scope":"read"|"write","exp":UNIX_SECONDS
//!                            [,"replica":16 LOWER-CASE HEX DIGITS]})
//! tag     = base64url(HMAC-SHA256(secret, payload))   the MAC is over the encoded text
//! ```
//!
//! base64url is RFC 4648 section 5 without padding. The parser is strict:
//! at most [`MAX_TOKEN_LEN`] bytes, exactly one dot, canonical base64url,
//! a 32-byte tag checked in constant time before the payload is parsed, then
//! a JSON object with exactly those four fields and, optionally, `replica`:
//! a token naming a replica admits only a `hello` from that replica, so its
//! holder cannot write, or take over a connection, as another client.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use quire_core::sync::validate_doc_id;
use quire_core::ReplicaId;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The token format this relay mints and accepts.
pub const TOKEN_VERSION: u64 = 1;
/// Shortest secret accepted, in bytes (HMAC-SHA256's output size).
pub const MIN_SECRET: usize = 32;
/// Longest secret accepted, in bytes.
pub const MAX_SECRET: usize = 4096;
/// Longest token accepted, in bytes. A version 1 token is at most about
/// 200 bytes; the slack allows whitespace in the JSON.
pub const MAX_TOKEN_LEN: usize = 1024;
/// Seconds a token stays valid after its `exp`, for clock skew between the
/// minting server and the relay.
pub const EXPIRY_LEEWAY: u64 = 60;
/// Length of an HMAC-SHA256 tag in base64url without padding.
const TAG_CHARS: usize = 43;
/// Length of an HMAC-SHA256 tag.
const TAG_BYTES: usize = 32;

/// What a token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Catch-up, live updates and presence; no document updates.
    Read,
    /// Everything `Read` allows, and document updates.
    Write,
}

impl Scope {
    /// The name in tokens and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a valid token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The one document the token is for.
    pub doc: String,
    /// Read or write.
    pub scope: Scope,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: u64,
    /// The one replica whose `hello` the token admits; `None`: any.
    pub replica: Option<ReplicaId>,
}

/// The signed JSON payload, field for field.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    v: u64,
    doc: String,
    scope: Scope,
    exp: u64,
    /// 16 lower-case hex digits, like presence ids. A string: JSON numbers
    /// lose precision past 2^53 in JavaScript.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_string"
    )]
    replica: Option<String>,
}

/// A present `replica` member must be a string (`null` is refused).
fn some_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

/// The replica id of a token's `replica` member: exactly 16 lower-case
/// hex digits (one spelling per id, as everywhere else in the protocol).
pub(crate) fn parse_replica(text: &str) -> Option<ReplicaId> {
    let canonical = text.len() == 16
        && (text.bytes()).all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    canonical
        .then(|| u64::from_str_radix(text, 16).ok())
        .flatten()
        .map(ReplicaId)
}

/// Only the version of a payload, to name it when the full parse fails.
#[derive(Deserialize)]
struct VersionOnly {
    v: u64,
}

/// Why a token was refused. Every variant means "unauthorized"; the text
/// tells the app what to fix without revealing anything about the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// No token was sent (auth is on): mint one on the app's server and
    /// pass it as `token` (WebSocket `hello`) or `Authorization: Bearer`.
    #[error("a token is required")]
    Missing,
    /// The token is longer than any valid one.
    #[error("token of {len} bytes is longer than {max}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// [`MAX_TOKEN_LEN`].
        max: usize,
    },
    /// Not `payload.tag` in canonical base64url.
    #[error("malformed token: {what}")]
    Malformed {
        /// Which part is wrong.
        what: &'static str,
    },
    /// The tag does not match: minted with another secret, or altered.
    #[error("token signature does not match")]
    BadSignature,
    /// Signed, but the payload is not the expected JSON object.
    #[error("token payload is invalid: {reason}")]
    BadPayload {
        /// What the JSON parser or a field check said.
        reason: String,
    },
    /// Signed with a format version this relay does not speak.
    #[error("token version {found} is not supported (this relay reads version {supported})")]
    UnsupportedVersion {
        /// The payload's `v`.
        found: u64,
        /// [`TOKEN_VERSION`].
        supported: u64,
    },
    /// Past its expiry (plus [`EXPIRY_LEEWAY`]): mint a new one.
    #[error("token expired at {exp} (now {now})")]
    Expired {
        /// The token's `exp`.
        exp: u64,
        /// The relay's clock, in Unix seconds.
        now: u64,
    },
    /// Valid, but for another document.
    #[error("token is for document {token:?}, not {wanted:?}")]
    WrongDocument {
        /// The token's `doc`.
        token: String,
        /// The document asked for.
        wanted: String,
    },
    /// Valid, but it names another replica than the `hello`'s.
    #[error("token is for replica {token}, not {hello}")]
    WrongReplica {
        /// The token's `replica`.
        token: ReplicaId,
        /// The replica of the `hello`.
        hello: ReplicaId,
    },
}

impl TokenError {
    /// A short label for metrics (`quire_auth_refused_total{reason}`).
    pub fn reason(&self) -> &'static str {
        match self {
            TokenError::Missing => "missing",
            TokenError::TooLong { .. } | TokenError::Malformed { .. } => "malformed",
            TokenError::BadSignature => "bad_signature",
            TokenError::BadPayload { .. } | TokenError::UnsupportedVersion { .. } => "bad_payload",
            TokenError::Expired { .. } => "expired",
            TokenError::WrongDocument { .. } => "wrong_document",
            TokenError::WrongReplica { .. } => "wrong_replica",
        }
    }
}

/// Why a secret cannot be used. The relay refuses to start on any.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// Too short to resist guessing: use at least 32 random bytes, e.g.
    /// `openssl rand -base64 32`.
    #[error(
        "auth secret is {len} bytes, at least {min} are required (e.g. `openssl rand -base64 32`)"
    )]
    TooShort {
        /// Its length after trimming whitespace.
        len: usize,
        /// [`MIN_SECRET`].
        min: usize,
    },
    /// Longer than [`MAX_SECRET`]: probably the wrong file.
    #[error("auth secret is longer than {max} bytes (is this the right file?)")]
    TooLong {
        /// [`MAX_SECRET`].
        max: usize,
    },
    /// Both `QUIRE_AUTH_SECRET` and a secret file are given: keep one.
    #[error("both QUIRE_AUTH_SECRET and --auth-secret-file are set; keep one")]
    TwoSources,
    /// The secret file cannot be read.
    #[error("cannot read the auth secret file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// The shared secret: mints and verifies tokens. Its `Debug` shows nothing.
#[derive(Clone)]
pub struct Secret {
    /// The MAC keyed with the secret, cloned per token.
    mac: HmacSha256,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// A secret from its bytes, used as they are as the HMAC key (no
    /// trimming here; [`Secret::from_file`] and the env variable trim).
    pub fn new(bytes: &[u8]) -> Result<Self, SecretError> {
        if bytes.len() < MIN_SECRET {
            return Err(SecretError::TooShort {
                len: bytes.len(),
                min: MIN_SECRET,
            });
        }
        if bytes.len() > MAX_SECRET {
            return Err(SecretError::TooLong { max: MAX_SECRET });
        }
        // HMAC takes keys of any length; the error cannot happen.
        let mac = HmacSha256::new_from_slice(bytes)
            .map_err(|_| SecretError::TooLong { max: MAX_SECRET })?;
        Ok(Self { mac })
    }

    /// A secret from text (e.g. an env variable), without surrounding
    /// whitespace.
    pub fn from_text(text: &str) -> Result<Self, SecretError> {
        Self::new(text.trim_ascii().as_bytes())
    }

    /// A secret from a file: its bytes without surrounding ASCII
    /// whitespace (so `openssl rand -base64 32 > file` works as is).
    pub fn from_file(path: &Path) -> Result<Self, SecretError> {
        let read = |source| SecretError::Read {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read)?;
        let mut bytes = Vec::new();
        // Bounded read: a secret file is small; more is the wrong file.
        (file.take(MAX_SECRET as u64 + 1024))
            .read_to_end(&mut bytes)
            .map_err(read)?;
        Self::new(bytes.trim_ascii())
    }

    /// The token granting `claims`.
    pub fn mint(&self, claims: &Claims) -> String {
        let payload = Payload {
            v: TOKEN_VERSION,
            doc: claims.doc.clone(),
            scope: claims.scope,
            exp: claims.exp,
            replica: claims.replica.map(|r| r.to_string()),
        };
        // A struct of strings and integers always serializes.
        let json = serde_json::to_vec(&payload).unwrap_or_default();
        let mut token = URL_SAFE_NO_PAD.encode(json);
        let mut mac = self.mac.clone();
        mac.update(token.as_bytes());
        let tag = mac.finalize().into_bytes();
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(tag, &mut token);
        token
    }

    /// The claims of `token` if it is well formed, signed with this secret
    /// and not expired at `now` (Unix seconds, with [`EXPIRY_LEEWAY`]).
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLong {
                len: token.len(),
                max: MAX_TOKEN_LEN,
            });
        }
        let malformed = |what| TokenError::Malformed { what };
        let (payload, tag) = token
            .split_once('.')
            .ok_or(malformed("expected payload.signature"))?;
        if payload.is_empty() || tag.contains('.') {
            return Err(malformed("expected payload.signature"));
        }
        if tag.len() != TAG_CHARS {
            return Err(malformed("signature is not 43 base64url characters"));
        }
        let mut tag_bytes = [0u8; TAG_BYTES + 2];
        let n = URL_SAFE_NO_PAD
            .decode_slice(tag, &mut tag_bytes)
            .map_err(|_| malformed("signature is not canonical base64url"))?;
        // Authenticate before parsing anything the sender chose.
        let mut mac = self.mac.clone();
        mac.update(payload.as_bytes());
        mac.verify_slice(&tag_bytes[..n])
            .map_err(|_| TokenError::BadSignature)?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| malformed("payload is not canonical base64url"))?;
        let payload = parse_payload(&json)?;
        if now > payload.exp.saturating_add(EXPIRY_LEEWAY) {
            return Err(TokenError::Expired {
                exp: payload.exp,
                now,
            });
        }
        Ok(Claims {
            doc: payload.doc,
            scope: payload.scope,
            exp: payload.exp,
            // Checked by `parse_payload`.
            replica: payload.replica.as_deref().and_then(parse_replica),
        })
    }

    /// The claims of `token` if it grants `doc_id` at `now`.
    pub fn authorize(
        &self,
        token: Option<&str>,
        doc_id: &str,
        now: u64,
    ) -> Result<Claims, TokenError> {
        let claims = self.verify(token.ok_or(TokenError::Missing)?, now)?;
        if claims.doc != doc_id {
            return Err(TokenError::WrongDocument {
                token: claims.doc,
                wanted: doc_id.to_owned(),
            });
        }
        Ok(claims)
    }
}

/// The scope a `hello` from `replica` for `doc_id` carrying `token` gets at
/// this moment: write access when auth is off (`secret` is `None`).
pub fn grant(
    secret: Option<&Secret>,
    token: Option<&str>,
    doc_id: &str,
    replica: ReplicaId,
) -> Result<Scope, TokenError> {
    let Some(secret) = secret else {
        return Ok(Scope::Write);
    };
    let claims = secret.authorize(token, doc_id, now_unix())?;
    match claims.replica {
        Some(token) if token != replica => Err(TokenError::WrongReplica {
            token,
            hello: replica,
        }),
        _ => Ok(claims.scope),
    }
}

/// The token of an `Authorization` header value `Bearer <token>` (scheme
/// case-insensitive, RFC 6750); `None` for another scheme.
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, rest) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim_matches(' '))
}

/// The payload's JSON: an object of exactly the four fields and maybe
/// `replica` (no unknown or duplicate ones), version 1, a valid document id.
fn parse_payload(json: &[u8]) -> Result<Payload, TokenError> {
    let unsupported = |found| TokenError::UnsupportedVersion {
        found,
        supported: TOKEN_VERSION,
    };
    // serde's derive would also take the fields as an array.
    if json.trim_ascii_start().first() != Some(&b'{') {
        return Err(TokenError::BadPayload {
            reason: "not a JSON object".into(),
        });
    }
    let payload: Payload = match serde_json::from_slice(json) {
        Ok(p) => p,
        Err(e) => {
            // Name a future version rather than its unknown fields.
            if let Ok(VersionOnly { v }) = serde_json::from_slice(json) {
                if v != TOKEN_VERSION {
                    return Err(unsupported(v));
                }
            }
            return Err(TokenError::BadPayload {
                reason: e.to_string(),
            });
        }
    };
    if payload.v != TOKEN_VERSION {
        return Err(unsupported(payload.v));
    }
    validate_doc_id(&payload.doc).map_err(|e| TokenError::BadPayload {
        reason: format!("doc: {e}"),
    })?;
    if let Some(text) = payload.replica.as_deref() {
        if parse_replica(text).is_none() {
            return Err(TokenError::BadPayload {
                reason: format!("replica {text:?} is not 16 lower-case hex digits"),
            });
        }
    }
    Ok(payload)
}

/// The system clock in Unix seconds (0 if it is before 1970).
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
