//! Prometheus metrics (`GET /metrics`).

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Why a connection closed (label of `quire_closes_total`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CloseLabels {
    /// A short reason, e.g. `heartbeat_timeout`.
    pub reason: &'static str,
}

/// Why a request was refused by auth (label of `quire_auth_refused_total`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuthLabels {
    /// `TokenError::reason`, e.g. `expired`.
    pub reason: &'static str,
}

/// Every metric of the relay.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Open WebSocket connections.
    pub connections: Gauge,
    /// Documents loaded in memory.
    pub documents: Gauge,
    /// Protocol messages received.
    pub messages_in: Counter,
    /// Protocol messages queued for sending.
    pub messages_out: Counter,
    /// Bytes received in protocol messages.
    pub bytes_in: Counter,
    /// Bytes queued for sending.
    pub bytes_out: Counter,
    /// Seconds from receiving an update to queueing it for every other
    /// client (includes the store commit).
    pub fanout_latency: Histogram,
    /// Closed connections by reason.
    pub closes: Family<CloseLabels, Counter>,
    /// Catch-ups served as a whole snapshot instead of deltas.
    pub snapshot_resyncs: Counter,
    /// Updates accepted (given a `server_seq`).
    pub updates_accepted: Counter,
    /// Updates refused (forged, invalid, missing dependencies, store failure).
    pub updates_rejected: Counter,
    /// Presence messages received from joined clients.
    pub presence_in: Counter,
    /// Presence frames queued for clients (fan-out, join snapshots, leaves).
    pub presence_out: Counter,
    /// Presence messages refused (forged, malformed, too large).
    pub presence_rejected: Counter,
    /// WebSocket `hello`s and HTTP reads refused for their token.
    pub auth_refused: Family<AuthLabels, Counter>,
    /// Updates refused because the token only allows reading.
    pub read_only_refused: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("quire");
        let connections = Gauge::default();
        let documents = Gauge::default();
        let messages_in = Counter::default();
        let messages_out = Counter::default();
        let bytes_in = Counter::default();
        let bytes_out = Counter::default();
        // 50 us .. ~0.8 s
        let fanout_latency = Histogram::new(
            prometheus_client::metrics::histogram::exponential_buckets(0.000_05, 2.0, 15),
        );
        let closes = Family::<CloseLabels, Counter>::default();
        let snapshot_resyncs = Counter::default();
        let updates_accepted = Counter::default();
        let updates_rejected = Counter::default();
        let presence_in = Counter::default();
        let presence_out = Counter::default();
        let presence_rejected = Counter::default();
        let auth_refused = Family::<AuthLabels, Counter>::default();
        let read_only_refused = Counter::default();
        registry.register(
            "connections",
            "Open WebSocket connections",
            connections.clone(),
        );
        registry.register("documents", "Documents loaded in memory", documents.clone());
        registry.register(
            "messages_in",
            "Protocol messages received",
            messages_in.clone(),
        );
        registry.register(
            "messages_out",
            "Protocol messages sent",
            messages_out.clone(),
        );
        registry.register("bytes_in", "Bytes received", bytes_in.clone());
        registry.register("bytes_out", "Bytes sent", bytes_out.clone());
        registry.register(
            "fanout_latency_seconds",
            "From receiving an update to queueing it for the other clients",
            fanout_latency.clone(),
        );
        registry.register("closes", "Closed connections by reason", closes.clone());
        registry.register(
            "snapshot_resyncs",
            "Catch-ups served as a snapshot",
            snapshot_resyncs.clone(),
        );
        registry.register(
            "updates_accepted",
            "Updates accepted",
            updates_accepted.clone(),
        );
        registry.register(
            "updates_rejected",
            "Updates refused",
            updates_rejected.clone(),
        );
        registry.register(
            "presence_messages_in",
            "Presence messages received",
            presence_in.clone(),
        );
        registry.register(
            "presence_messages_out",
            "Presence frames sent",
            presence_out.clone(),
        );
        registry.register(
            "presence_rejected",
            "Presence messages refused",
            presence_rejected.clone(),
        );
        registry.register(
            "auth_refused",
            "Handshakes and HTTP reads refused for their token, by reason",
            auth_refused.clone(),
        );
        registry.register(
            "read_only_refused",
            "Updates refused because the token only allows reading",
            read_only_refused.clone(),
        );
        Self {
            registry,
            connections,
            documents,
            messages_in,
            messages_out,
            bytes_in,
            bytes_out,
            fanout_latency,
            closes,
            snapshot_resyncs,
            updates_accepted,
            updates_rejected,
            presence_in,
            presence_out,
            presence_rejected,
            auth_refused,
            read_only_refused,
        }
    }

    /// Counts a request refused by auth.
    pub fn refused(&self, reason: &'static str) {
        self.auth_refused
            .get_or_create(&AuthLabels { reason })
            .inc();
    }

    /// Counts a closed connection.
    pub fn closed(&self, reason: &'static str) {
        self.closes.get_or_create(&CloseLabels { reason }).inc();
    }

    /// Counts one queued outgoing frame.
    pub fn sent(&self, bytes: usize) {
        self.messages_out.inc();
        self.bytes_out.inc_by(bytes as u64);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// The reason label for a close code.
pub fn close_reason(code: u16) -> &'static str {
    use quire_core::sync::close;
    match code {
        close::NORMAL => "normal",
        close::GOING_AWAY => "going_away",
        close::PROTOCOL_ERROR => "protocol_error",
        crate::conn::UNSUPPORTED_DATA => "unsupported_data",
        close::TOO_LARGE => "too_large",
        close::INTERNAL => "internal",
        close::HANDSHAKE_TIMEOUT => "handshake_timeout",
        close::HEARTBEAT_TIMEOUT => "heartbeat_timeout",
        close::RESYNC => "resync",
        close::REPLACED => "replaced",
        close::UNAUTHORIZED => "unauthorized",
        close::UNSUPPORTED_VERSION => "unsupported_version",
        close::BAD_DOCUMENT_ID => "bad_document_id",
        close::OVERLOADED => "overloaded",
        _ => "other",
    }
}
