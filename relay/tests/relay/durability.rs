//! A relay restarted on the same redb directory serves the same document.

use std::sync::Arc;

use quire_relay::store::RedbStore;

use crate::support::{settings, Client, Relay};

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
