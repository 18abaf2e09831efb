//! Auth tokens: refused handshakes (4005), read-only clients, write tokens
//! end to end, and bearer tokens on `GET /docs/{id}`.

use std::sync::Arc;

use quire_core::presence::{ClientState, Presence, UserInfo};
use quire_core::sync::{close, ErrorCode, Message};
use quire_core::{Doc, ReplicaId, VersionVector};
use quire_relay::auth::{now_unix, Claims, Scope, Secret};
use quire_relay::store::{MemoryStore, Store};
use tokio_tungstenite::tungstenite::Message as Ws;

use crate::support::{hello_with_token, http_exchange, raw_exchange, settings, Client, Relay};

const SECRET: &str = "test-secret-test-secret-test-secret-0123";

fn secret() -> Secret {
    Secret::from_text(SECRET).unwrap()
}

/// A token for `doc` valid for an hour.
fn token(doc: &str, scope: Scope) -> String {
    minted(doc, scope, now_unix() + 3600)
}

fn minted(doc: &str, scope: Scope, exp: u64) -> String {
    secret().mint(&Claims {
        doc: doc.into(),
        scope,
        exp,
        replica: None,
    })
}

/// A write token for `doc` that admits only `replica`.
fn pinned(doc: &str, replica: u64) -> String {
    secret().mint(&Claims {
        doc: doc.into(),
        scope: Scope::Write,
        exp: now_unix() + 3600,
        replica: Some(ReplicaId(replica)),
    })
}

/// A relay with auth on, over a store the test can inspect.
async fn auth_relay() -> (Relay, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let settings = quire_relay::Settings {
        auth: Some(secret()),
        ..settings()
    };
    (Relay::with_store(settings, store.clone()).await, store)
}

/// Log entries the store holds for `doc`.
fn stored_updates(store: &MemoryStore, doc: &str) -> usize {
    store.load(doc).unwrap().map_or(0, |d| d.log.len())
}

async fn writer(relay: &Relay, replica: u64, doc: &str) -> Client {
    let mut c = Client::with_token(replica, doc, Some(token(doc, Scope::Write)));
    c.connect(relay).await;
    c
}

#[tokio::test]
async fn hellos_without_a_valid_token_are_refused_with_4005_and_change_nothing() {
    let (relay, store) = auth_relay().await;
    let mut w = writer(&relay, 1, "doc").await;
    w.edit(|d| d.insert(0, "kept").unwrap()).await;
    w.settle().await;

    let other = Secret::from_text("another-secret-another-secret-0123456789").unwrap();
    let forged = other.mint(&Claims {
        doc: "doc".into(),
        scope: Scope::Write,
        exp: now_unix() + 3600,
        replica: None,
    });
    let good = token("doc", Scope::Write);
    let mut flipped = good.clone().into_bytes();
    flipped[10] ^= 1;
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("another secret", Some(forged)),
        ("another document", Some(token("other", Scope::Write))),
        (
            "expired",
            Some(minted("doc", Scope::Write, now_unix() - 3600)),
        ),
        ("truncated", Some(good[..good.len() - 1].to_owned())),
        ("bit flip", Some(String::from_utf8(flipped).unwrap())),
        ("garbage", Some("not-a-token".into())),
        ("empty", Some(String::new())),
        ("oversized", Some("a".repeat(4000))),
    ];
    for (i, (case, token)) in cases.into_iter().enumerate() {
        let mut socket = relay.socket("doc").await;
        let replica = 100 + i as u64;
        let mut evil = Doc::new(ReplicaId(replica));
        evil.insert(0, "evil").unwrap();
        let delta = evil.delta_since(&VersionVector::new()).encode();
        let hello = hello_with_token("doc", replica, VersionVector::new(), None, token);
        // The update is pipelined right after the hello: it must not land.
        let update = Message::Update { id: 1, delta }.encode();
        let (messages, code) = raw_exchange(
            &mut socket,
            vec![Ws::Binary(hello.into()), Ws::Binary(update.into())],
        )
        .await;
        assert_eq!(code, Some(close::UNAUTHORIZED), "{case}");
        assert!(
            matches!(&messages[..], [Message::Error(e)] if e.code == ErrorCode::UNAUTHORIZED && e.fatal),
            "{case}: {messages:?}"
        );
    }
    assert_eq!(stored_updates(&store, "doc"), 1);
    // The writer saw nothing of the refused clients.
    w.edit(|d| d.insert(4, "!").unwrap()).await;
    w.settle().await;
    assert_eq!(w.doc.text(), "kept!");
    assert_eq!(w.session.server_seq(), Some(2));
    let (_, metrics) = relay.get("/metrics").await;
    for line in [
        r#"quire_auth_refused_total{reason="missing"} 1"#,
        r#"quire_auth_refused_total{reason="bad_signature"} 2"#,
        r#"quire_auth_refused_total{reason="wrong_document"} 1"#,
        r#"quire_auth_refused_total{reason="expired"} 1"#,
        r#"quire_auth_refused_total{reason="malformed"} 4"#,
    ] {
        assert!(metrics.contains(line), "{line} missing in {metrics}");
    }
    relay.stop().await;
}

#[tokio::test]
async fn a_read_token_receives_everything_but_its_updates_are_refused() {
    let (relay, store) = auth_relay().await;
    let mut w = writer(&relay, 1, "doc").await;
    w.edit(|d| d.insert(0, "before ").unwrap()).await;
    w.settle().await;

    let mut r = Client::with_token(2, "doc", Some(token("doc", Scope::Read)));
    r.connect(&relay).await;
    assert_eq!(r.doc.text(), "before ", "catch-up");
    // The hello_ack tells each client whether it may write.
    assert!(r.session.read_only() && !w.session.read_only());
    w.edit(|d| d.insert(7, "live").unwrap()).await;
    w.settle().await;
    r.pump_until(|c| c.doc.text() == "before live").await;

    // A read-only client may publish presence (it is not document state).
    let mut presence = Presence::new(ReplicaId(2));
    let state = ClientState {
        user: UserInfo {
            name: "Viewer".into(),
            color: "#0f0".into(),
            data: String::new(),
        },
        cursor: None,
        selection: None,
    };
    r.now += 1;
    let body = presence.set_local(state, r.now).unwrap();
    assert!(r.session.send_presence(body, r.now));
    r.flush().await;
    w.pump_until(|c| !c.presence.is_empty()).await;

    r.edit(|d| d.insert(0, "evil ").unwrap()).await;
    r.pump_until(|c| !c.errors.is_empty()).await;
    let e = &r.errors[0];
    assert_eq!(e.code, ErrorCode::READ_ONLY);
    assert!(!e.fatal && e.update_id.is_some(), "{e:?}");
    assert!(r.acks.is_empty());
    // The edit stays local: 5 characters that will never be acknowledged.
    assert_eq!(r.session.pending(), 5);

    // The writer goes on; neither it nor the store ever sees the refused edit.
    w.edit(|d| d.insert(11, "!").unwrap()).await;
    w.settle().await;
    r.pump_until(|c| c.doc.text().ends_with("before live!"))
        .await;
    assert_eq!(w.doc.text(), "before live!");
    assert_eq!(w.session.server_seq(), Some(3));
    assert_eq!(stored_updates(&store, "doc"), 3);
    let auth = format!("Authorization: Bearer {}\r\n", token("doc", Scope::Read));
    let (status, _, body) = http_exchange(relay.addr, "/docs/doc", &auth).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""text":"before live!""#), "{body}");
    let (_, metrics) = relay.get("/metrics").await;
    assert!(
        metrics.contains("quire_read_only_refused_total 1"),
        "{metrics}"
    );
    relay.stop().await;
}

#[tokio::test]
async fn a_reader_cannot_take_over_a_writers_replica_id() {
    let (relay, store) = auth_relay().await;
    let mut w = writer(&relay, 7, "doc").await;
    w.edit(|d| d.insert(0, "mine").unwrap()).await;
    w.settle().await;

    // Replica ids are public (deltas and presence carry them): a reader
    // naming the writer's must not replace the writer's connection.
    let mut socket = relay.socket("doc").await;
    let hello = hello_with_token(
        "doc",
        7,
        VersionVector::new(),
        None,
        Some(token("doc", Scope::Read)),
    );
    let (messages, code) = raw_exchange(&mut socket, vec![Ws::Binary(hello.into())]).await;
    assert_eq!(code, Some(close::UNAUTHORIZED));
    assert!(
        matches!(&messages[..], [Message::Error(e)] if e.code == ErrorCode::UNAUTHORIZED && e.fatal),
        "{messages:?}"
    );

    // The writer is still connected and acknowledged.
    w.edit(|d| d.insert(4, "!").unwrap()).await;
    w.settle().await;
    assert_eq!(w.session.server_seq(), Some(2));
    assert_eq!(stored_updates(&store, "doc"), 2);
    let (_, metrics) = relay.get("/metrics").await;
    let line = r#"quire_auth_refused_total{reason="replica_in_use"} 1"#;
    assert!(metrics.contains(line), "{metrics}");

    // A writer may still replace its own replica's connection (a reload).
    let mut again = writer(&relay, 7, "doc").await;
    again.settle().await;
    assert_eq!(again.doc.text(), "mine!");
    relay.stop().await;
}

#[tokio::test]
async fn a_token_naming_a_replica_cannot_connect_as_another() {
    let (relay, store) = auth_relay().await;
    let mut w = Client::with_token(7, "doc", Some(pinned("doc", 7)));
    w.connect(&relay).await;
    w.edit(|d| d.insert(0, "mine").unwrap()).await;
    w.settle().await;

    // Another client's write token, pinned to its own replica, naming the
    // writer's: refused before it can replace the writer's connection or
    // write as it, even with the update pipelined.
    let mut socket = relay.socket("doc").await;
    let mut evil = Doc::new(ReplicaId(7));
    evil.insert(0, "forged").unwrap();
    let delta = evil.delta_since(&VersionVector::new()).encode();
    let hello = hello_with_token("doc", 7, VersionVector::new(), None, Some(pinned("doc", 8)));
    let update = Message::Update { id: 1, delta }.encode();
    let frames = vec![Ws::Binary(hello.into()), Ws::Binary(update.into())];
    let (messages, code) = raw_exchange(&mut socket, frames).await;
    assert_eq!(code, Some(close::UNAUTHORIZED));
    assert!(
        matches!(&messages[..], [Message::Error(e)] if e.code == ErrorCode::UNAUTHORIZED
            && e.fatal && e.message.contains("replica")),
        "{messages:?}"
    );

    // The writer kept its connection; its pinned token works on reconnect.
    w.edit(|d| d.insert(4, "!").unwrap()).await;
    w.settle().await;
    assert_eq!(w.session.server_seq(), Some(2));
    w.disconnect();
    w.edit(|d| d.insert(0, "> ").unwrap()).await;
    w.connect(&relay).await;
    w.settle().await;
    assert_eq!(w.doc.text(), "> mine!");
    assert_eq!(stored_updates(&store, "doc"), 3);
    let (_, metrics) = relay.get("/metrics").await;
    let line = r#"quire_auth_refused_total{reason="wrong_replica"} 1"#;
    assert!(metrics.contains(line), "{metrics}");
    relay.stop().await;
}

#[tokio::test]
async fn write_tokens_sync_end_to_end_and_across_reconnects() {
    let (relay, store) = auth_relay().await;
    let mut a = writer(&relay, 1, "notes").await;
    let mut b = writer(&relay, 2, "notes").await;
    a.edit(|d| d.insert(0, "a").unwrap()).await;
    b.edit(|d| d.insert(0, "b").unwrap()).await;
    a.settle().await;
    b.settle().await;
    a.pump_until(|c| c.doc.text().len() == 2).await;
    b.pump_until(|c| c.doc.text().len() == 2).await;
    assert_eq!(a.doc.text(), b.doc.text());

    // The same token is sent again on reconnect (with resume).
    b.disconnect();
    b.edit(|d| d.insert(0, "offline ").unwrap()).await;
    b.connect(&relay).await;
    b.settle().await;
    a.pump_until(|c| c.doc.text().starts_with("offline ")).await;
    assert_eq!(a.doc.text(), b.doc.text());
    assert_eq!(stored_updates(&store, "notes"), 3);
    relay.stop().await;
}

#[tokio::test]
async fn http_reads_need_a_bearer_token_for_that_document() {
    let (relay, _) = auth_relay().await;
    let mut w = writer(&relay, 1, "doc").await;
    w.edit(|d| d.insert(0, "secret text").unwrap()).await;
    w.settle().await;

    let get =
        |headers: String| async move { http_exchange(relay.addr, "/docs/doc", &headers).await };
    let bearer = |t: &str| format!("Authorization: Bearer {t}\r\n");

    let (status, head, body) = get(String::new()).await;
    assert_eq!(status, 401);
    assert!(
        head.to_lowercase().contains("www-authenticate: bearer"),
        "{head}"
    );
    assert!(!body.contains("secret text"), "{body}");
    for token in [token("doc", Scope::Read), token("doc", Scope::Write)] {
        let (status, _, body) = get(bearer(&token)).await;
        assert_eq!(status, 200);
        assert!(body.contains(r#""text":"secret text""#), "{body}");
    }
    let lower = format!("authorization: bearer {}\r\n", token("doc", Scope::Read));
    assert_eq!(get(lower).await.0, 200, "the scheme is case-insensitive");

    let (status, head, _) = get(bearer(&token("other", Scope::Write))).await;
    assert_eq!(status, 403);
    assert!(head.contains("insufficient_scope"), "{head}");
    for refused in [
        bearer(&minted("doc", Scope::Read, now_unix() - 3600)),
        bearer("not-a-token"),
        format!("Authorization: Basic {}\r\n", token("doc", Scope::Read)),
        format!("Authorization: {}\r\n", token("doc", Scope::Read)),
    ] {
        let (status, head, body) = get(refused.clone()).await;
        assert_eq!(status, 401, "{refused}");
        assert!(head.contains("invalid_token"), "{head}");
        assert!(!body.contains("secret text"), "{body}");
    }
    // A refusal does not tell whether a document exists; a valid token does.
    assert_eq!(get_path(&relay, "/docs/nothing", "").await, 401);
    let t = bearer(&token("nothing", Scope::Read));
    assert_eq!(get_path(&relay, "/docs/nothing", &t).await, 404);
    assert_eq!(get_path(&relay, "/docs/-bad", "").await, 400);

    // /status names no documents or users when auth is on; the rest is open.
    let (status, body) = relay.get("/status").await;
    assert_eq!(status, 200);
    assert!(
        body.contains(r#""auth":true"#) && body.contains(r#""loaded_documents":1"#),
        "{body}"
    );
    assert!(!body.contains(r#""doc""#), "{body}");
    assert_eq!(relay.get("/health").await.0, 200);
    assert_eq!(relay.get("/metrics").await.0, 200);
    relay.stop().await;
}

async fn get_path(relay: &Relay, path: &str, headers: &str) -> u16 {
    http_exchange(relay.addr, path, headers).await.0
}

#[tokio::test]
async fn without_a_secret_tokens_are_ignored_and_every_client_may_write() {
    let relay = Relay::start(settings()).await;
    let mut a = Client::with_token(1, "doc", Some("anything".into()));
    a.connect(&relay).await;
    a.edit(|d| d.insert(0, "open").unwrap()).await;
    a.settle().await;
    assert_eq!(relay.get("/docs/doc").await.0, 200);
    relay.stop().await;
}
