//! Heartbeats, slow consumers, replaced connections, handshake deadline,
//! connection limit.

use std::time::Duration;

use futures_util::SinkExt;
use quire_core::sync::{close, Message};
use quire_core::VersionVector;
use tokio_tungstenite::tungstenite::Message as Ws;

use quire_relay::Settings;

use crate::support::{hello_frame, read_until_close, settings, Client, Relay};

fn hello(replica: u64) -> Ws {
    Ws::Binary(hello_frame("doc", replica, VersionVector::new(), None).into())
}

#[tokio::test]
async fn a_silent_client_is_closed_after_the_heartbeat_timeout() {
    let relay = Relay::start(Settings {
        heartbeat_interval: Duration::from_millis(50),
        heartbeat_timeout: Duration::from_millis(300),
        ..settings()
    })
    .await;
    let mut socket = relay.socket("doc").await;
    socket.send(hello(1)).await.unwrap();
    let (messages, code) = read_until_close(&mut socket).await;
    assert_eq!(code, Some(close::HEARTBEAT_TIMEOUT));
    // It was pinged while silent.
    assert!(messages.iter().any(|m| matches!(m, Message::Ping { .. })));
    assert!(relay
        .shared
        .metrics
        .render()
        .contains("reason=\"heartbeat_timeout\""));
    assert_eq!(relay.shared.documents()[0].1, 0);
    relay.stop().await;
}

#[tokio::test]
async fn no_hello_within_the_deadline_closes_4001() {
    let relay = Relay::start(Settings {
        handshake_timeout: Duration::from_millis(200),
        ..settings()
    })
    .await;
    let mut socket = relay.socket("doc").await;
    let (_, code) = read_until_close(&mut socket).await;
    assert_eq!(code, Some(close::HANDSHAKE_TIMEOUT));
    relay.stop().await;
}

#[tokio::test]
async fn a_second_connection_of_the_same_replica_replaces_the_first() {
    let relay = Relay::start(settings()).await;
    let mut old = relay.socket("doc").await;
    old.send(hello(1)).await.unwrap();
    let mut new = Client::new(1, "doc");
    new.connect(&relay).await;
    let (_, code) = read_until_close(&mut old).await;
    assert_eq!(code, Some(close::REPLACED));
    relay.stop().await;
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed_4008() {
    let relay = Relay::start(Settings {
        max_connections: 1,
        ..settings()
    })
    .await;
    let mut a = Client::new(1, "doc");
    a.connect(&relay).await;
    let mut extra = relay.socket("doc").await;
    let (_, code) = read_until_close(&mut extra).await;
    assert_eq!(code, Some(close::OVERLOADED));
    relay.stop().await;
}

#[tokio::test]
async fn a_never_reading_client_is_closed_with_resync_while_others_keep_receiving() {
    let relay = Relay::start(Settings {
        send_queue_messages: 8,
        send_queue_bytes: 32 * 1024,
        ..settings()
    })
    .await;
    // Joins, then never reads.
    let mut stuck = relay.socket("doc").await;
    stuck.send(hello(9)).await.unwrap();
    let mut writer = Client::new(1, "doc");
    let mut reader = Client::new(2, "doc");
    writer.connect(&relay).await;
    reader.connect(&relay).await;
    // Enough to fill the loopback socket buffers, then the queue.
    let chunk = "x".repeat(64 * 1024);
    for _ in 0..500 {
        writer.edit(|d| d.insert(d.len(), &chunk).unwrap()).await;
        writer.settle().await;
        let seq = writer.session.server_seq();
        reader.pump_until(|c| c.session.server_seq() == seq).await;
        if relay.shared.metrics.render().contains("reason=\"resync\"") {
            break;
        }
    }
    assert!(relay.shared.metrics.render().contains("reason=\"resync\""));
    let seq = writer.session.server_seq();
    reader.pump_until(|c| c.session.server_seq() == seq).await;
    assert_eq!(reader.doc.text(), writer.doc.text());
    drop(stuck);
    relay.stop().await;
}
