//! Command line and environment settings (every flag has a `QUIRE_*`
//! variable), turned into the runtime [`Settings`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// `quire-relay`: WebSocket sync, server sequencing, offline replay and
/// durable storage for Quire documents.
#[derive(Debug, Clone, Parser)]
#[command(name = "quire-relay", version, about, long_about = None)]
pub struct Config {
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

impl Config {
    /// The runtime settings these flags describe.
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
        }
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
    fn flags_override_defaults() {
        let c = Config::parse_from(["quire-relay", "--memory", "--compact-every", "5"]);
        assert!(c.memory);
        assert_eq!(c.settings().compact_every, 5);
    }
}
