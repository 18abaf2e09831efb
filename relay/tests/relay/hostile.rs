//! Malformed and hostile input: an error and/or close code, and other
//! connections unaffected.

use futures_util::{SinkExt, StreamExt};
use quire_core::sync::{close, ErrorCode, Message};
use quire_core::{Doc, ReplicaId, VersionVector};
use tokio_tungstenite::tungstenite::Message as Ws;

use quire_relay::Settings;

use crate::support::{hello_frame, pair, raw_exchange, settings, Client, Relay, Socket, WAIT};

/// Sends `frame`, returns the first protocol message received.
pub async fn first_reply(socket: &mut Socket, frame: Vec<u8>) -> Message {
    socket.send(Ws::Binary(frame.into())).await.unwrap();
    loop {
        let next = tokio::time::timeout(WAIT, socket.next()).await.unwrap();
        match next.unwrap().unwrap() {
            Ws::Binary(b) => return Message::decode(&b).unwrap(),
            Ws::Close(f) => panic!("closed: {f:?}"),
            _ => {}
        }
    }
}

fn hello(doc_id: &str, replica: u64) -> Vec<u8> {
    hello_frame(doc_id, replica, VersionVector::new(), None)
}

fn error_code(messages: &[Message]) -> Option<(ErrorCode, bool)> {
    messages.iter().find_map(|m| match m {
        Message::Error(e) => Some((e.code, e.fatal)),
        _ => None,
    })
}

async fn expect(
    relay: &Relay,
    path_id: &str,
    frames: Vec<Ws>,
    code: Option<ErrorCode>,
    close: u16,
) {
    let mut socket = relay.socket(path_id).await;
    let (messages, got) = raw_exchange(&mut socket, frames).await;
    assert_eq!(got, Some(close), "close code; messages {messages:?}");
    if let Some(code) = code {
        assert_eq!(error_code(&messages), Some((code, true)), "{messages:?}");
    }
}

#[tokio::test]
async fn every_malformed_input_gets_its_error_and_close_code() {
    let relay = Relay::start(Settings {
        max_message: 64 * 1024,
        ..settings()
    })
    .await;
    let (mut a, mut b) = pair(&relay).await;

    let bin = |b: Vec<u8>| Ws::Binary(b.into());
    let cases: Vec<(&str, Vec<Ws>, Option<ErrorCode>, u16)> = vec![
        (
            "doc",
            vec![bin(vec![])],
            Some(ErrorCode::MALFORMED),
            close::PROTOCOL_ERROR,
        ),
        (
            "doc",
            vec![bin(vec![0xde, 0xad, 0xbe, 0xef])],
            Some(ErrorCode::UNSUPPORTED_VERSION),
            close::UNSUPPORTED_VERSION,
        ),
        (
            "doc",
            vec![bin(vec![1, 200, 0])],
            Some(ErrorCode::UNKNOWN_MESSAGE),
            close::PROTOCOL_ERROR,
        ),
        (
            "doc",
            vec![bin(hello("doc", 3)[..6].to_vec())],
            Some(ErrorCode::MALFORMED),
            close::PROTOCOL_ERROR,
        ),
        (
            "doc",
            vec![Ws::Text("hello".into())],
            None,
            quire_relay::conn::UNSUPPORTED_DATA,
        ),
        (
            "doc",
            vec![bin(Message::Update {
                id: 1,
                delta: vec![],
            }
            .encode())],
            Some(ErrorCode::UNEXPECTED),
            close::PROTOCOL_ERROR,
        ),
        (
            "doc",
            vec![bin(Message::Ping { nonce: 1 }.encode())],
            Some(ErrorCode::UNEXPECTED),
            close::PROTOCOL_ERROR,
        ),
        (
            "doc",
            vec![bin(hello("other", 3))],
            Some(ErrorCode::BAD_DOCUMENT_ID),
            close::BAD_DOCUMENT_ID,
        ),
        (
            "-bad",
            vec![],
            Some(ErrorCode::BAD_DOCUMENT_ID),
            close::BAD_DOCUMENT_ID,
        ),
        (
            "doc",
            vec![bin(hello("doc", 3)), bin(hello("doc", 3))],
            Some(ErrorCode::UNEXPECTED),
            close::PROTOCOL_ERROR,
        ),
    ];
    for (path, frames, code, close) in cases {
        expect(&relay, path, frames, code, close).await;
    }
    // Oversize: the WebSocket layer stops reading at the limit; the error
    // is sent, the close frame may not make it before the socket drops.
    let mut socket = relay.socket("doc").await;
    let (messages, got) = raw_exchange(&mut socket, vec![bin(vec![1; 100 * 1024])]).await;
    assert_eq!(error_code(&messages), Some((ErrorCode::TOO_LARGE, true)));
    assert!(matches!(got, None | Some(close::TOO_LARGE)), "{got:?}");

    // The others never noticed.
    a.edit(|d| d.insert(0, "still fine").unwrap()).await;
    a.settle().await;
    b.pump_until(|c| c.doc.text() == "still fine").await;
    relay.stop().await;
}

#[tokio::test]
async fn refused_updates_get_a_non_fatal_error_and_leave_the_document_unchanged() {
    let relay = Relay::start(settings()).await;
    let mut a = Client::new(1, "doc");
    a.connect(&relay).await;
    a.edit(|d| d.insert(0, "base").unwrap()).await;
    a.settle().await;

    let mut raw = relay.socket("doc").await;
    assert!(matches!(
        first_reply(&mut raw, hello("doc", 5)).await,
        Message::HelloAck(_)
    ));

    // Forged: operations of replica 6 sent by replica 5.
    let mut other = Doc::new(ReplicaId(6));
    other.insert(0, "forged").unwrap();
    let forged = other.delta_since(&VersionVector::new()).encode();
    let reply = first_reply(
        &mut raw,
        Message::Update {
            id: 1,
            delta: forged,
        }
        .encode(),
    )
    .await;
    assert!(
        matches!(reply, Message::Error(ref e) if e.code == ErrorCode::FORGED_REPLICA && !e.fatal && e.update_id == Some(1)),
        "{reply:?}"
    );

    // Not a delta.
    let reply = first_reply(
        &mut raw,
        Message::Update {
            id: 2,
            delta: vec![1, 2, 3],
        }
        .encode(),
    )
    .await;
    assert!(
        matches!(reply, Message::Error(ref e) if e.code == ErrorCode::INVALID_DELTA && !e.fatal && e.update_id == Some(2)),
        "{reply:?}"
    );

    // Depends on an operation the relay never got.
    let mut own = Doc::new(ReplicaId(5));
    own.insert(0, "a").unwrap();
    own.insert(1, "b").unwrap();
    let mut since = own.version();
    since.set(ReplicaId(5), 1);
    let gap = own.delta_since(&since).encode();
    let reply = first_reply(&mut raw, Message::Update { id: 3, delta: gap }.encode()).await;
    assert!(
        matches!(reply, Message::Error(ref e) if e.code == ErrorCode::MISSING_DEPENDENCIES && e.update_id == Some(3)),
        "{reply:?}"
    );

    // Still open, and nothing changed.
    let reply = first_reply(&mut raw, Message::Ping { nonce: 42 }.encode()).await;
    assert_eq!(reply, Message::Pong { nonce: 42 });
    assert_eq!(relay.shared.documents(), vec![("doc".into(), 2, 1)]);
    let (status, body) = relay.get("/docs/doc").await;
    assert_eq!(status, 200);
    assert!(body.contains("\"text\":\"base\""), "{body}");
    relay.stop().await;
}
