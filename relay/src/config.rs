//! Command line and environment settings (every flag has a `QUIRE_*`
//! variable), turned into the runtime [`Settings`].

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use quire_core::ReplicaId;

use crate::auth::{self, Scope, Secret, SecretError};

/// Environment variable holding the auth secret itself (an alternative to
/// `--auth-secret-file`; not a flag, so it never shows in `ps`).
pub const AUTH_SECRET_ENV: &str = "QUIRE_AUTH_SECRET";

/// `quire-relay`: WebSocket sync, server sequencing, offline replay and
/// durable storage for Quire documents.
///
/// Without a subcommand it runs the server. Auth is off unless a secret is
/// configured (`--auth-secret-file`, or the secret itself in
/// `QUIRE_AUTH_SECRET`); then every WebSocket `hello` and `GET /docs/{id}`
/// needs a token for its document, minted by the app's server or by
/// `quire-relay token`.
#[derive(Debug, Clone, Parser)]
#[command(name = "quire-relay", version, about, long_about)]
pub struct Config {
    /// What to do instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// File holding the auth secret (at least 32 bytes, e.g. from
    /// `openssl rand -base64 32`; surrounding whitespace is ignored). Turns
    /// auth on. `QUIRE_AUTH_SECRET` may hold the secret itself instead.
    #[arg(
        long,
        env = "QUIRE_AUTH_SECRET_FILE",
        value_name = "PATH",
        global = true
    )]
    pub auth_secret_file: Option<PathBuf>,

    /// Address to listen on.
    #[arg(long, env = "QUIRE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory of the embedded store (redb); created if missing.
    #[arg(long, env = "QUIRE_DATA_DIR", default_value = "./quire-data")]
    pub data_dir: PathBuf,

    /// Keep everything in memory (nothing survives a restart; acks say
    /// `durable: false`).
    #[arg(long, env = "QUIRE_MEMORY")]
    pub memory: bool,

    /// Seconds between the server's pings on every connection.
    #[arg(long, env = "QUIRE_HEARTBEAT_INTERVAL", default_value_t = 15)]
    pub heartbeat_interval: u64,

    /// Seconds without receiving anything after which a connection is
    /// closed (4002).
    #[arg(long, env = "QUIRE_HEARTBEAT_TIMEOUT", default_value_t = 45)]
    pub heartbeat_timeout: u64,

    /// Seconds a new connection has to send `hello` (else close 4001).
    #[arg(long, env = "QUIRE_HANDSHAKE_TIMEOUT", default_value_t = 10)]
    pub handshake_timeout: u64,

    /// Compact a document's log into a snapshot every this many accepted
    /// updates; the last this many log entries are kept for replay.
    #[arg(long, env = "QUIRE_COMPACT_EVERY", default_value_t = 100)]
    pub compact_every: u64,

    /// Largest WebSocket message accepted, in bytes.
    #[arg(long, env = "QUIRE_MAX_MESSAGE", default_value_t = 1 << 20)]
    pub max_message: usize,

    /// Most messages queued for one connection before it is closed with
    /// 4003 (resync).
    #[arg(long, env = "QUIRE_SEND_QUEUE_MESSAGES", default_value_t = 1024)]
    pub send_queue_messages: usize,

    /// Most bytes queued for one connection before it is closed with 4003.
    #[arg(long, env = "QUIRE_SEND_QUEUE_BYTES", default_value_t = 4 << 20)]
    pub send_queue_bytes: usize,

    /// Most simultaneous WebSocket connections (more are closed with 4008).
    #[arg(long, env = "QUIRE_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Milliseconds between two fan-outs of one client's presence; updates
    /// in between are coalesced (the latest goes out when it ends).
    #[arg(long, env = "QUIRE_PRESENCE_INTERVAL_MS", default_value_t = 50)]
    pub presence_interval_ms: u64,

    /// Milliseconds without activity after which `/status` shows a user
    /// idle (the core's default threshold: 5 minutes).
    #[arg(long, env = "QUIRE_PRESENCE_IDLE_MS", default_value_t = 300_000)]
    pub presence_idle_ms: u64,

    /// Seconds a document without clients stays in memory.
    #[arg(long, env = "QUIRE_IDLE_UNLOAD", default_value_t = 60)]
    pub idle_unload: u64,

    /// Static files served at `/` (the demo page); a missing directory is
    /// fine.
    #[arg(long, env = "QUIRE_WWW", default_value = "www")]
    pub www: PathBuf,

    /// The wasm package served at `/pkg/`; a missing directory is fine.
    #[arg(long, env = "QUIRE_PKG", default_value = "wasm/pkg")]
    pub pkg: PathBuf,

    /// Log filter (tracing-subscriber `EnvFilter` syntax, e.g. `info` or
    /// `quire_relay=debug`); `RUST_LOG` is used when this is not given.
    #[arg(long, env = "QUIRE_LOG")]
    pub log: Option<String>,
}

/// Subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Prints a token granting one document, signed with the relay's
    /// secret (`--auth-secret-file` or `QUIRE_AUTH_SECRET`).
    Token(TokenArgs),
}

/// `quire-relay token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// The document the token grants.
    #[arg(long)]
    pub doc: String,
    /// `read` (catch-up, live updates, presence) or `write` (also updates).
    #[arg(long, value_parser = parse_scope)]
    pub scope: Scope,
    /// Seconds until the token expires (it is checked when a connection
    /// starts; an open connection is not cut at expiry).
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    pub ttl: u64,
    /// Admit only this replica's connections (its id in hex, e.g. from
    /// `doc.replicaId`), so the holder cannot connect as another client.
    #[arg(long, value_parser = parse_replica)]
    pub replica: Option<ReplicaId>,
}

/// A replica id of 1 to 16 hex digits, either case: the token's spelling
/// (16 lower-case digits) without its leading zeros and case.
fn parse_replica(s: &str) -> Result<ReplicaId, String> {
    let canonical = format!("{:0>16}", s.to_ascii_lowercase());
    (!s.is_empty())
        .then(|| auth::parse_replica(&canonical))
        .flatten()
        .ok_or_else(|| "expected a replica id of 1 to 16 hex digits".into())
}

fn parse_scope(s: &str) -> Result<Scope, String> {
    match s {
        "read" => Ok(Scope::Read),
        "write" => Ok(Scope::Write),
        _ => Err("expected `read` or `write`".into()),
    }
}

impl Config {
    /// The auth secret from `--auth-secret-file` or `QUIRE_AUTH_SECRET`;
    /// `None` when neither is set (auth off).
    pub fn auth_secret(&self) -> Result<Option<Secret>, SecretError> {
        let env = std::env::var_os(AUTH_SECRET_ENV);
        secret_from(self.auth_secret_file.as_deref(), env.as_deref())
    }

    /// The runtime settings these flags describe, with auth off:
    /// [`Config::auth_secret`] reads the secret (it may fail).
    pub fn settings(&self) -> Settings {
        Settings {
            heartbeat_interval: Duration::from_secs(self.heartbeat_interval.max(1)),
            heartbeat_timeout: Duration::from_secs(self.heartbeat_timeout.max(1)),
            handshake_timeout: Duration::from_secs(self.handshake_timeout.max(1)),
            compact_every: self.compact_every.max(1),
            max_message: self.max_message.max(64),
            send_queue_messages: self.send_queue_messages.max(1),
            send_queue_bytes: self.send_queue_bytes.max(1),
            max_connections: self.max_connections,
            idle_unload: Duration::from_secs(self.idle_unload),
            presence_interval: Duration::from_millis(self.presence_interval_ms),
            presence_idle_after: Duration::from_millis(self.presence_idle_ms),
            www: Some(self.www.clone()),
            pkg: Some(self.pkg.clone()),
            auth: None,
        }
    }
}

/// The secret from a file or the environment's value; refuses both.
fn secret_from(file: Option<&Path>, env: Option<&OsStr>) -> Result<Option<Secret>, SecretError> {
    match (file, env) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(SecretError::TwoSources),
        (Some(path), None) => Secret::from_file(path).map(Some),
        (None, Some(value)) => Secret::new(value.as_encoded_bytes().trim_ascii()).map(Some),
    }
}

/// What the server runs with (tests build it directly, with short times).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Interval of the server's pings.
    pub heartbeat_interval: Duration,
    /// Silence after which a connection is closed (4002).
    pub heartbeat_timeout: Duration,
    /// Time allowed before `hello` (else 4001).
    pub handshake_timeout: Duration,
    /// Accepted updates between compactions (and log entries kept).
    pub compact_every: u64,
    /// Largest WebSocket message, in bytes.
    pub max_message: usize,
    /// Send queue bound per connection, in messages.
    pub send_queue_messages: usize,
    /// Send queue bound per connection, in bytes.
    pub send_queue_bytes: usize,
    /// Most simultaneous connections.
    pub max_connections: usize,
    /// How long a document without clients stays loaded.
    pub idle_unload: Duration,
    /// Least time between two fan-outs of one client's presence.
    pub presence_interval: Duration,
    /// Inactivity after which a user shows as idle.
    pub presence_idle_after: Duration,
    /// Static files at `/`.
    pub www: Option<PathBuf>,
    /// The wasm package at `/pkg/`.
    pub pkg: Option<PathBuf>,
    /// The auth secret; `None`: auth off, every client may write.
    pub auth: Option<Secret>,
}

impl Default for Settings {
    fn default() -> Self {
        Config::parse_from(["quire-relay"]).settings()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_ones() {
        let s = Settings::default();
        assert_eq!(s.heartbeat_interval, Duration::from_secs(15));
        assert_eq!(s.heartbeat_timeout, Duration::from_secs(45));
        assert_eq!(s.handshake_timeout, Duration::from_secs(10));
        assert_eq!(s.compact_every, 100);
        assert_eq!(s.max_message, 1 << 20);
        assert_eq!(s.presence_interval, Duration::from_millis(50));
        let core = quire_core::presence::PresenceOptions::default();
        assert_eq!(
            s.presence_idle_after.as_millis(),
            u128::from(core.idle_after_ms)
        );
    }

    #[test]
    fn the_token_subcommand_takes_the_secret_flag_before_or_after_it() {
        let c = Config::parse_from(["quire-relay"]);
        assert!(c.command.is_none() && c.auth_secret_file.is_none());
        for args in [
            &[
                "quire-relay",
                "token",
                "--auth-secret-file",
                "s",
                "--doc",
                "d",
                "--scope",
                "read",
            ][..],
            &[
                "quire-relay",
                "--auth-secret-file",
                "s",
                "token",
                "--doc",
                "d",
                "--scope",
                "read",
            ],
        ] {
            let c = Config::parse_from(args);
            assert_eq!(c.auth_secret_file.as_deref(), Some(Path::new("s")));
            let Some(Command::Token(t)) = c.command else {
                panic!("no token subcommand");
            };
            assert_eq!((t.doc.as_str(), t.scope, t.ttl), ("d", Scope::Read, 3600));
            assert_eq!(t.replica, None);
        }
        let pinned = ["--doc", "d", "--scope", "write", "--replica"];
        for (hex, id) in [
            ("3E8", 1000),
            ("00000000000003e8", 1000),
            ("ffffffffffffffff", u64::MAX),
        ] {
            let args = ["quire-relay", "token"].iter().chain(&pinned).chain([&hex]);
            let Some(Command::Token(t)) = Config::parse_from(args).command else {
                panic!("no token subcommand");
            };
            assert_eq!(t.replica, Some(ReplicaId(id)), "{hex}");
        }
        for hex in ["", "0x3e8", "10000000000000000", "-1", "3e8 "] {
            let args = ["quire-relay", "token"].iter().chain(&pinned).chain([&hex]);
            assert!(Config::try_parse_from(args).is_err(), "{hex:?}");
        }
        for bad in [
            &["quire-relay", "token", "--doc", "d", "--scope", "admin"][..],
            &[
                "quire-relay",
                "token",
                "--doc",
                "d",
                "--scope",
                "read",
                "--ttl",
                "0",
            ],
            &["quire-relay", "token", "--scope", "read"],
        ] {
            assert!(Config::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_secret_comes_from_one_source_and_must_be_long_enough() {
        let long = OsStr::new("  0123456789abcdef0123456789abcdef\n");
        assert!(secret_from(None, None).unwrap().is_none());
        assert!(secret_from(None, Some(long)).unwrap().is_some());
        assert!(matches!(
            secret_from(None, Some(OsStr::new(" too short "))),
            Err(SecretError::TooShort { len: 9, .. })
        ));
        assert!(matches!(
            secret_from(None, Some(OsStr::new(""))),
            Err(SecretError::TooShort { len: 0, .. })
        ));
        assert!(matches!(
            secret_from(Some(Path::new("f")), Some(long)),
            Err(SecretError::TwoSources)
        ));
    }

    #[test]
    fn flags_override_defaults() {
        let c = Config::parse_from(["quire-relay", "--memory", "--compact-every", "5"]);
        assert!(c.memory);
        assert_eq!(c.settings().compact_every, 5);
    }
}
