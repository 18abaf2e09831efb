//! Convergence, resume, compaction, offline edits and duplicates.

use quire_core::sync::{Message, Status};
use quire_core::VersionVector;

use quire_relay::Settings;

use crate::support::{hello_frame, pair, settings, Relay};

#[tokio::test]
async fn two_clients_converge() {
    let relay = Relay::start(settings()).await;
    let (mut a, mut b) = pair(&relay).await;
    a.edit(|d| d.insert(0, "hello").unwrap()).await;
    a.settle().await;
    b.pump_until(|c| c.doc.text() == "hello").await;
    b.edit(|d| d.insert(5, " world").unwrap()).await;
    b.settle().await;
    a.pump_until(|c| c.doc.text() == "hello world").await;
    assert_eq!(a.session.server_seq(), Some(2));
    assert_eq!(b.session.server_seq(), Some(2));
    assert_eq!(a.doc.snapshot(), b.doc.snapshot());
    relay.stop().await;
}

#[tokio::test]
async fn a_client_that_was_offline_gets_exactly_the_missing_deltas() {
    let relay = Relay::start(settings()).await;
    let (mut a, mut b) = pair(&relay).await;
    a.edit(|d| d.insert(0, "a").unwrap()).await;
    a.settle().await;
    b.pump_until(|c| c.doc.text() == "a").await;
    b.disconnect();
    for i in 0..5 {
        a.edit(|d| d.insert(d.len(), &i.to_string()).unwrap()).await;
        a.settle().await;
    }
    assert_eq!(a.session.server_seq(), Some(6));
    // Reconnect with resume at seq 1: a raw hello shows the catch-up.
    let resume = b.session.resume().unwrap();
    assert_eq!(resume.server_seq, 1);
    let mut raw = relay.socket("doc").await;
    let hello = hello_frame("doc", 9, VersionVector::new(), Some(resume));
    let ack = crate::hostile::first_reply(&mut raw, hello).await;
    match ack {
        Message::HelloAck(ack) => {
            assert_eq!(ack.server_seq, 6);
            match ack.catch_up {
                quire_core::sync::CatchUp::Deltas(d) => {
                    assert_eq!(
                        d.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
                        [2, 3, 4, 5, 6]
                    )
                }
                other => panic!("expected deltas, got {other:?}"),
            }
        }
        other => panic!("expected hello_ack, got {other:?}"),
    }
    b.connect(&relay).await;
    assert_eq!(b.doc.text(), "a01234");
    assert_eq!(b.session.server_seq(), Some(6));
    relay.stop().await;
}

#[tokio::test]
async fn after_compaction_a_far_behind_client_gets_a_snapshot() {
    let relay = Relay::start(Settings {
        compact_every: 3,
        ..settings()
    })
    .await;
    let (mut a, mut b) = pair(&relay).await;
    a.edit(|d| d.insert(0, "x").unwrap()).await;
    a.settle().await;
    b.pump_until(|c| c.session.server_seq() == Some(1)).await;
    b.disconnect();
    for _ in 0..9 {
        a.edit(|d| d.insert(d.len(), "y").unwrap()).await;
        a.settle().await;
    }
    // seq 10; the log keeps the 3 entries before the last snapshot (seq 9).
    let before = relay.shared.metrics.snapshot_resyncs.get();
    b.connect(&relay).await;
    assert_eq!(relay.shared.metrics.snapshot_resyncs.get(), before + 1);
    assert_eq!(b.doc.text(), a.doc.text());
    assert_eq!(b.session.server_seq(), Some(10));
    relay.stop().await;
}

#[tokio::test]
async fn offline_edits_are_resent_and_acked_once() {
    let relay = Relay::start(settings()).await;
    let (mut a, mut b) = pair(&relay).await;
    b.disconnect();
    b.edit(|d| d.insert(0, "offline ").unwrap()).await;
    b.edit(|d| d.increment("likes", 2).unwrap()).await;
    // Pending counts operations: 8 characters and a counter.
    assert_eq!(b.session.pending(), 9);
    assert_eq!(b.session.status(), Status::Offline);
    b.connect(&relay).await;
    b.settle().await;
    // Both offline edits went in one update: one ack, one server_seq.
    assert_eq!(b.acks.len(), 1);
    assert_eq!(b.acks[0].1, 1);
    assert_eq!(relay.shared.documents(), vec![("doc".into(), 2, 1)]);
    a.pump_until(|c| c.doc.counter("likes") == 2).await;
    assert_eq!(a.doc.text(), "offline ");
    relay.stop().await;
}

#[tokio::test]
async fn duplicates_are_acked_without_a_new_server_seq() {
    let relay = Relay::start(settings()).await;
    let (mut a, mut b) = pair(&relay).await;
    a.edit(|d| d.insert(0, "once").unwrap()).await;
    a.settle().await;
    // The same delta sent again on a raw connection of the same replica.
    let delta = a.doc.delta_since(&VersionVector::new()).encode();
    let mut raw = relay.socket("doc").await;
    let hello = hello_frame("doc", 1, a.doc.version(), None);
    crate::hostile::first_reply(&mut raw, hello).await;
    let update = Message::Update { id: 7, delta }.encode();
    let ack = crate::hostile::first_reply(&mut raw, update).await;
    assert_eq!(
        ack,
        Message::Ack {
            id: 7,
            server_seq: 1,
            durable: false
        }
    );
    b.pump_until(|c| c.doc.text() == "once").await;
    assert_eq!(relay.shared.documents(), vec![("doc".into(), 2, 1)]);
    relay.stop().await;
}
