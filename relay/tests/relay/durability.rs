//! A relay restarted on the same redb directory serves the same document;
//! stored logs written by earlier builds still load.

use std::sync::Arc;

use quire_core::sync::{CatchUp, HelloAck, Message};
use quire_core::{Doc, ReplicaId, VersionVector};
use quire_relay::store::{Append, LogEntry, MemoryStore, RedbStore, Store};

use crate::support::{hello_frame, settings, Client, Relay};

#[tokio::test]
async fn a_restart_on_the_same_data_dir_serves_the_same_document() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings();
    s.compact_every = 4;
    let relay = Relay::with_store(s.clone(), Arc::new(RedbStore::open(dir.path()).unwrap())).await;
    let mut a = Client::new(1, "doc");
    a.connect(&relay).await;
    for i in 0..10 {
        a.edit(|d| d.insert(d.len(), &format!("{i} ")).unwrap())
            .await;
        a.settle().await;
    }
    assert!(a.acks.iter().all(|&(_, _, durable)| durable));
    let text = a.doc.text();
    a.disconnect();
    relay.stop().await;

    // The writer thread releases the database once its last handle drops.
    let mut store = RedbStore::open(dir.path());
    for _ in 0..100 {
        if store.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        store = RedbStore::open(dir.path());
    }
    let relay = Relay::with_store(s, Arc::new(store.unwrap())).await;
    let (status, body) = relay.get("/docs/doc").await;
    assert_eq!(status, 200);
    assert!(body.contains(&format!("\"text\":\"{text}\"")), "{body}");
    assert!(body.contains("\"server_seq\":10"), "{body}");
    // Same epoch: the client resumes with deltas (nothing missing).
    a.connect(&relay).await;
    assert_eq!(a.session.server_seq(), Some(10));
    let mut b = Client::new(2, "doc");
    b.connect(&relay).await;
    assert_eq!(b.doc.text(), text);
    relay.stop().await;
}

#[tokio::test]
async fn a_log_holding_envelope_deltas_of_earlier_builds_loads_and_is_forwarded_as_stored() {
    // Carol's "abcd" and three backspaces, in the envelope that builds
    // before the compact delta frame wrote, then her "e" as now encoded.
    let vectors = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/vectors");
    let legacy = std::fs::read(format!("{vectors}/backspace_delta.bin")).unwrap();
    let mut carol = Doc::new(ReplicaId(0xca201));
    carol.apply_encoded(&legacy).unwrap();
    let before = carol.version();
    carol.insert(1, "e").unwrap();
    let compact = carol.delta_since(&before).encode();
    assert_eq!((&legacy[..4], compact[0]), (&b"QUIR"[..], 0xd1));

    let store = Arc::new(MemoryStore::new());
    store.create("doc", 7).unwrap();
    for (seq, delta) in [(1, &legacy), (2, &compact)] {
        let entry = LogEntry {
            seq,
            delta: delta.clone(),
        };
        let doc_id = "doc".into();
        store.append(&[Append { doc_id, entry }]).unwrap();
    }
    let relay = Relay::with_store(settings(), store).await;
    let (status, body) = relay.get("/docs/doc").await;
    assert_eq!(status, 200);
    assert!(body.contains("\"text\":\"ae\""), "{body}");

    let mut raw = relay.socket("doc").await;
    let hello = hello_frame("doc", 9, VersionVector::new(), None);
    match crate::hostile::first_reply(&mut raw, hello).await {
        Message::HelloAck(HelloAck {
            catch_up: CatchUp::Deltas(deltas),
            ..
        }) => assert_eq!(deltas, [(1, legacy), (2, compact)]),
        other => panic!("expected hello_ack with deltas, got {other:?}"),
    }
    let mut b = Client::new(2, "doc");
    b.connect(&relay).await;
    assert_eq!(b.doc.text(), "ae");
    relay.stop().await;
}
