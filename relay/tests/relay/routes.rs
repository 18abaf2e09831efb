//! `/health`, `/status`, `/docs/{id}`, `/metrics`.

use crate::support::{settings, Client, Relay};

#[tokio::test]
async fn health_status_docs_and_metrics_answer() {
    let relay = Relay::start(settings()).await;
    let (status, body) = relay.get("/health").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"{"status":"ok"}"#), "{body}");

    let mut a = Client::new(1, "notes");
    a.connect(&relay).await;
    a.edit(|d| {
        d.insert(0, "hi").unwrap();
        d.set_title("T", 1).unwrap();
        d.increment("n", 3).unwrap();
    })
    .await;
    a.settle().await;

    let (status, body) = relay.get("/status").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""connections":1"#), "{body}");
    assert!(
        body.contains(r#"{"clients":1,"id":"notes","server_seq":1,"users":[]}"#),
        "{body}"
    );

    let (status, body) = relay.get("/docs/notes").await;
    assert_eq!(status, 200);
    assert!(
        body.contains(r#""text":"hi""#) && body.contains(r#""title":"T""#),
        "{body}"
    );
    assert!(
        body.contains(r#""counters":{"n":3}"#) && body.contains(r#""server_seq":1"#),
        "{body}"
    );
    assert_eq!(relay.get("/docs/unknown").await.0, 404);
    assert_eq!(relay.get("/docs/-bad").await.0, 400);

    let (status, body) = relay.get("/metrics").await;
    assert_eq!(status, 200);
    for name in [
        "quire_connections",
        "quire_documents",
        "quire_messages_in_total",
        "quire_bytes_out_total",
        "quire_fanout_latency_seconds_bucket",
        "quire_snapshot_resyncs_total",
        "quire_presence_messages_in_total",
        "quire_presence_messages_out_total",
        "quire_presence_rejected_total",
    ] {
        assert!(body.contains(name), "{name} missing in {body}");
    }
    // Static directories are optional.
    assert_eq!(relay.get("/pkg/none.js").await.0, 404);
    relay.stop().await;
}
