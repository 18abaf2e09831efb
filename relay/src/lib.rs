//! `quire-relay`: WebSocket fan-out, server sequencing, offline replay and
//! durable storage for Quire documents.
//!
//! Patterns (mini-redis style, one file each):
//! - [`conn`]: one type owns a socket, generic over `Sink`/`Stream`.
//! - [`buffer`]: the bounded per-connection send queue (overflow closes
//!   with a resync code, never skips a delta).
//! - [`room`]: one task per document; server sequencing, pipelined group
//!   commits, catch-up, fan-out, compaction.
//! - [`presence`]: ephemeral presence, coalesced fan-out, join snapshot.
//! - [`store`]: the storage boundary and its group-commit writer.
//! - [`auth`]: signed tokens (HMAC-SHA256) granting one document, read or
//!   write, until an expiry.
//! - [`http`]: routes; [`metrics`]: Prometheus; [`config`]: flags and env.

pub mod auth;
pub mod buffer;
pub mod config;
pub mod conn;
pub mod http;
pub mod metrics;
pub mod presence;
pub mod room;
pub mod state;
pub mod store;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;

pub use config::{Config, Settings};
pub use state::Shared;

/// How long shutdown waits for rooms to drain their commits and close.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves the relay on `listener` until `shutdown` resolves; then closes
/// every connection with 1001 after the pending commits are acknowledged.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = http::router(Arc::clone(&shared));
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down");
        shared.begin_shutdown();
        shared.wait_rooms_closed(SHUTDOWN_GRACE).await;
    };
    // Frames are small and latency-bound: without TCP_NODELAY, Nagle holds
    // a frame until the client's (delayed) ACK of the previous one.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(signal)
        .await
}
