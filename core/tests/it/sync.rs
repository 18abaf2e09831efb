//! The sync protocol: message framing and the client session driven
//! against an in-memory server (`sync/server.rs`).

mod messages;
mod server;

use quire_core::sync::{close, ClientConfig, ClientSession, SessionEvent, Status, SyncError};
use quire_core::{Doc, ReplicaId};
use server::Server;

const DOC: &str = "notes";

/// A replica with its session and, while online, its connection.
struct Client {
    doc: Doc,
    session: ClientSession,
    conn: Option<usize>,
    events: Vec<SessionEvent>,
}

impl Client {
    fn new(replica: u64) -> Self {
        let doc = Doc::new(ReplicaId(replica));
        let session = ClientSession::new(DOC, &doc, ClientConfig::default()).unwrap();
        Self {
            doc,
            session,
            conn: None,
            events: Vec::new(),
        }
    }

    fn connect(&mut self, server: &mut Server, now: u64) {
        self.conn = Some(server.open());
        self.session.connected(&self.doc, now);
    }

    fn disconnect(&mut self, server: &mut Server) {
        if let Some(c) = self.conn.take() {
            server.conns[c].open = false;
        }
        self.session.disconnected();
    }

    fn type_at(&mut self, index: usize, text: &str, now: u64) {
        self.doc.insert(index, text).unwrap();
        self.session.local_changes(&self.doc, now);
    }
}

/// A client connected to `server` and caught up, at time 0.
fn online(server: &mut Server, replica: u64) -> Client {
    let mut client = Client::new(replica);
    client.connect(server, 0);
    pump(server, &mut [&mut client], 0);
    client
}

/// Delivers frames both ways until nothing moves.
fn pump(server: &mut Server, clients: &mut [&mut Client], now: u64) {
    loop {
        let mut moved = false;
        for client in clients.iter_mut() {
            let Some(conn) = client.conn else { continue };
            while let Some(frame) = client.session.poll_transmit() {
                moved = true;
                server.receive(conn, &frame);
            }
            for frame in std::mem::take(&mut server.conns[conn].outbox) {
                moved = true;
                let events = client
                    .session
                    .receive(&mut client.doc, &frame, now)
                    .expect("valid server frame");
                client.events.extend(events);
            }
        }
        if !moved {
            return;
        }
    }
}

#[test]
fn two_clients_converge_through_the_server() {
    let mut server = Server::new(7);
    let (mut a, mut b) = (Client::new(1), Client::new(2));
    a.connect(&mut server, 0);
    b.connect(&mut server, 0);
    pump(&mut server, &mut [&mut a, &mut b], 0);
    assert_eq!(a.session.status(), Status::Live);
    a.type_at(0, "Hello", 1);
    b.type_at(0, "World", 1);
    pump(&mut server, &mut [&mut a, &mut b], 1);
    assert_eq!(a.doc.text(), b.doc.text());
    assert_eq!(a.doc.text().len(), 10);
    assert_eq!(server.server_seq, 2);
    assert_eq!(a.session.server_seq(), Some(2));
    assert_eq!(b.session.server_seq(), Some(2));
    assert_eq!((a.session.pending(), b.session.pending()), (0, 0));
}

#[test]
fn offline_edits_are_resent_after_reconnect_and_stored_once() {
    let mut server = Server::new(7);
    let (mut a, mut b) = (Client::new(1), Client::new(2));
    a.connect(&mut server, 0);
    b.connect(&mut server, 0);
    pump(&mut server, &mut [&mut a, &mut b], 0);
    a.disconnect(&mut server);
    a.type_at(0, "offline ", 1);
    a.type_at(8, "edits", 2);
    assert_eq!(a.session.pending(), 13);
    assert_eq!(a.session.poll_transmit(), None, "nothing is sent offline");
    b.type_at(0, "meanwhile", 3);
    pump(&mut server, &mut [&mut a, &mut b], 3);
    assert_eq!(server.server_seq, 1);

    a.connect(&mut server, 4);
    pump(&mut server, &mut [&mut a, &mut b], 4);
    assert_eq!(a.doc.text(), b.doc.text());
    assert!(a.doc.text().contains("offline edits"));
    assert_eq!(
        server.server_seq, 2,
        "the offline edits went out as one update"
    );
    assert_eq!(a.session.pending(), 0);
    assert!(a
        .events
        .iter()
        .any(|e| matches!(e, SessionEvent::Acked { server_seq: 2, .. })));
}

#[test]
fn a_lost_ack_leads_to_a_harmless_resend() {
    let mut server = Server::new(7);
    let mut a = online(&mut server, 1);
    server.drop_acks = true;
    a.type_at(0, "abc", 1);
    pump(&mut server, &mut [&mut a], 1);
    assert_eq!(server.server_seq, 1);
    assert_eq!(a.session.pending(), 3, "no ack yet");

    // Reconnect: the server's version already holds the edit, so nothing
    // is resent and it counts as acknowledged.
    server.drop_acks = false;
    a.disconnect(&mut server);
    a.connect(&mut server, 2);
    pump(&mut server, &mut [&mut a], 2);
    assert_eq!(a.session.pending(), 0);
    assert_eq!(server.server_seq, 1);
    assert_eq!(server.doc.text(), "abc");
}

#[test]
fn a_client_behind_a_compacted_log_gets_a_snapshot() {
    let mut server = Server::new(7);
    let (mut a, mut b) = (Client::new(1), Client::new(2));
    a.connect(&mut server, 0);
    b.connect(&mut server, 0);
    pump(&mut server, &mut [&mut a, &mut b], 0);
    b.disconnect(&mut server);
    for i in 0..5 {
        a.type_at(i, "x", 1);
        pump(&mut server, &mut [&mut a], 1);
    }
    server.truncate_log(3);
    b.connect(&mut server, 2);
    pump(&mut server, &mut [&mut a, &mut b], 2);
    assert_eq!(b.doc.text(), "xxxxx");
    assert_eq!(b.session.server_seq(), Some(5));
}

#[test]
fn a_new_epoch_gets_a_snapshot_and_own_edits_are_resent() {
    let mut server = Server::new(7);
    let mut a = Client::new(1);
    a.connect(&mut server, 0);
    a.type_at(0, "kept", 0);
    pump(&mut server, &mut [&mut a], 0);
    assert_eq!(server.server_seq, 1);
    a.disconnect(&mut server);

    // The server lost everything (a memory store restarted).
    let mut server = Server::new(8);
    a.connect(&mut server, 1);
    pump(&mut server, &mut [&mut a], 1);
    assert_eq!(server.doc.text(), "kept");
    assert_eq!(a.session.server_seq(), Some(1));
}

#[test]
fn a_server_seq_gap_is_a_protocol_error() {
    let mut server = Server::new(7);
    let mut a = online(&mut server, 1);
    let other = Doc::new(ReplicaId(9));
    let frame = quire_core::sync::Message::Delta {
        server_seq: 5,
        delta: other.delta_since(&a.doc.version()).encode(),
    }
    .encode();
    let err = a.session.receive(&mut a.doc, &frame, 1).unwrap_err();
    assert_eq!(
        err,
        SyncError::Protocol {
            what: "server_seq gap"
        }
    );
    assert_eq!(err.close_code(), close::PROTOCOL_ERROR);
    assert!(!err.is_fatal());
}

#[test]
fn a_silent_server_is_detected_and_pinged_first() {
    let mut server = Server::new(7);
    let mut a = online(&mut server, 1);
    let config = ClientConfig::default();
    let ping_at = a.session.poll_timeout().unwrap();
    assert_eq!(ping_at, config.heartbeat_interval_ms);
    a.session.handle_timeout(ping_at).unwrap();
    let frame = a.session.poll_transmit().expect("a ping");
    assert!(matches!(
        quire_core::sync::Message::decode(&frame),
        Ok(quire_core::sync::Message::Ping { .. })
    ));
    let dead_at = config.heartbeat_timeout_ms;
    let err = a.session.handle_timeout(dead_at).unwrap_err();
    assert_eq!(err, SyncError::HeartbeatTimeout(dead_at));
    assert_eq!(err.close_code(), close::HEARTBEAT_TIMEOUT);
    assert_eq!(a.session.status(), Status::Offline);
}

#[test]
fn a_missing_hello_ack_times_out() {
    let doc = Doc::new(ReplicaId(1));
    let mut s = ClientSession::new(DOC, &doc, ClientConfig::default()).unwrap();
    s.connected(&doc, 100);
    assert_eq!(s.status(), Status::Connecting);
    let deadline = s.poll_timeout().unwrap();
    assert!(s.handle_timeout(deadline - 1).is_ok());
    assert!(matches!(
        s.handle_timeout(deadline),
        Err(SyncError::HandshakeTimeout(_))
    ));
}

#[test]
fn a_fatal_server_error_stops_the_session() {
    let mut server = Server::new(7);
    let mut a = Client::new(1);
    a.connect(&mut server, 0);
    let _hello = a.session.poll_transmit();
    let frame = quire_core::sync::Message::Error(quire_core::sync::ErrorMessage {
        code: quire_core::sync::ErrorCode::UNAUTHORIZED,
        fatal: true,
        update_id: None,
        message: "bad token".into(),
    })
    .encode();
    let err = a.session.receive(&mut a.doc, &frame, 1).unwrap_err();
    assert!(err.is_fatal());
    assert!(a.session.stopped().is_some());
    a.session.connected(&a.doc, 2);
    assert_eq!(
        a.session.poll_transmit(),
        None,
        "a stopped session stays down"
    );
}

#[test]
fn a_replica_that_lost_its_state_gets_its_own_history_back() {
    let mut server = Server::new(7);
    let mut a = online(&mut server, 1);
    a.type_at(0, "abc", 0);
    pump(&mut server, &mut [&mut a], 0);
    a.disconnect(&mut server);

    // Same replica id, fresh empty document and session: the catch-up
    // returns its own operations, so its next ones cannot reuse their ids.
    let mut fresh = Client::new(1);
    fresh.connect(&mut server, 1);
    pump(&mut server, &mut [&mut fresh], 1);
    assert_eq!(fresh.doc.text(), "abc");
    fresh.type_at(3, "d", 2);
    pump(&mut server, &mut [&mut fresh], 2);
    assert_eq!(server.doc.text(), "abcd");
}

/// Replica 1 types "abc" and goes offline; its document is then replaced by
/// a fresh one (holding `new_edit`, if any) while the session keeps its
/// resume point. Returns the client and the error its `hello_ack` gives.
fn reconnect_with_lost_document(
    server: &mut Server,
    new_edit: Option<&str>,
) -> (Client, SyncError) {
    let mut a = online(server, 1);
    a.type_at(0, "abc", 0);
    pump(server, &mut [&mut a], 0);
    a.disconnect(server);

    a.doc = Doc::new(ReplicaId(1));
    if let Some(text) = new_edit {
        a.doc.insert(0, text).unwrap();
    }
    a.connect(server, 1);
    let hello = a.session.poll_transmit().unwrap();
    server.receive(a.conn.unwrap(), &hello);
    let ack = server.conns[a.conn.unwrap()].outbox.remove(0);
    let err = a.session.receive(&mut a.doc, &ack, 1).unwrap_err();
    (a, err)
}

#[test]
fn a_replica_that_lost_its_state_and_edited_again_is_stopped() {
    let mut server = Server::new(7);
    // The document was lost and a new edit reused the replica's first id.
    let (_, err) = reconnect_with_lost_document(&mut server, Some("x"));
    assert!(matches!(
        err,
        SyncError::ReplicaBehind {
            server: 3,
            local: 1
        }
    ));
    assert!(err.is_fatal());
}

#[test]
fn a_lost_document_with_a_kept_resume_point_resyncs_from_scratch() {
    let mut server = Server::new(7);
    let (mut a, err) = reconnect_with_lost_document(&mut server, None);
    assert!(!err.is_fatal());
    assert_eq!(a.session.resume(), None);

    a.disconnect(&mut server);
    a.connect(&mut server, 2);
    pump(&mut server, &mut [&mut a], 2);
    assert_eq!(a.doc.text(), "abc");
    assert_eq!(a.session.status(), Status::Live);
}

#[test]
fn a_rejected_update_is_reported_and_not_waited_for() {
    let mut server = Server::new(7);
    let mut a = online(&mut server, 1);
    // An update whose delta writes as another replica.
    let mut forged = Doc::new(ReplicaId(99));
    forged.insert(0, "x").unwrap();
    let frame = quire_core::sync::Message::Update {
        id: 42,
        delta: forged.delta_since(&Default::default()).encode(),
    }
    .encode();
    server.receive(a.conn.unwrap(), &frame);
    pump(&mut server, &mut [&mut a], 1);
    assert!(a.events.iter().any(|e| matches!(
        e,
        SessionEvent::ServerError(m) if m.update_id == Some(42) && !m.fatal
    )));
    assert_eq!(server.doc.text(), "");
}

#[test]
fn invalid_document_ids_are_refused() {
    let doc = Doc::new(ReplicaId(1));
    for bad in ["", "-lead", "a/b", "space here", &"x".repeat(65), "é"] {
        assert!(
            matches!(
                ClientSession::new(bad, &doc, ClientConfig::default()),
                Err(SyncError::BadDocumentId(_))
            ),
            "{bad:?}"
        );
    }
    for good in ["notes", "a", "Doc_1.v2-x", &"x".repeat(64)] {
        assert!(ClientSession::new(good, &doc, ClientConfig::default()).is_ok());
    }
}
