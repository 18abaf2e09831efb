//! Presence over the relay: join snapshot, fan-out and coalescing, leaves
//! and heartbeat deaths, forged and oversized bodies, `/status` users.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use quire_core::presence::{
    decode_entries, encode_entries, ClientState, Presence, PresenceEntry, UserInfo,
};
use quire_core::sync::ErrorCode;
use quire_core::{Anchor, ReplicaId};
use quire_relay::Settings;

use crate::support::{settings, Client, Relay};

fn state(name: &str) -> ClientState {
    ClientState {
        user: UserInfo {
            name: name.into(),
            color: "#f00".into(),
            data: String::new(),
        },
        cursor: Some(Anchor::Start),
        selection: None,
    }
}

/// Sets `me`'s state to `name` and sends it.
async fn set(c: &mut Client, me: &mut Presence, name: &str) {
    c.now += 1;
    let body = me.set_local(state(name), c.now).unwrap();
    send_raw(c, body).await;
}

async fn send_raw(c: &mut Client, body: Vec<u8>) {
    assert!(c.session.send_presence(body, c.now));
    c.flush().await;
}

/// What `c` knows of the others' presence: name by replica.
fn seen(c: &Client) -> BTreeMap<u64, String> {
    let mut p = Presence::new(c.doc.replica());
    for body in &c.presence {
        p.apply(body, 0).unwrap();
    }
    (p.users(0).into_iter())
        .map(|u| (u.id.0, u.state.user.name))
        .collect()
}

fn knows(c: &Client, replica: u64, name: &str) -> bool {
    seen(c).get(&replica).map(String::as_str) == Some(name)
}

#[tokio::test]
async fn a_joining_client_gets_the_current_presence_of_the_others_in_one_frame() {
    let relay = Relay::start(settings()).await;
    let (mut a, mut b) = crate::support::pair(&relay).await;
    let (mut pa, mut pb) = (Presence::new(ReplicaId(1)), Presence::new(ReplicaId(2)));
    set(&mut a, &mut pa, "Ann").await;
    set(&mut b, &mut pb, "Bob").await;
    a.pump_until(|c| knows(c, 2, "Bob")).await;
    b.pump_until(|c| knows(c, 1, "Ann")).await;

    let mut c = Client::new(3, "doc");
    c.connect(&relay).await;
    c.pump_until(|c| !c.presence.is_empty()).await;
    let entries = decode_entries(&c.presence[0]).unwrap();
    let mut clients: Vec<u64> = entries.iter().map(|e| e.client.0).collect();
    clients.sort_unstable();
    assert_eq!(clients, [1, 2]);
    assert_eq!(
        seen(&c),
        BTreeMap::from([(1, "Ann".into()), (2, "Bob".into())])
    );
    relay.stop().await;
}

#[tokio::test]
async fn a_burst_of_updates_is_coalesced_and_the_last_state_always_arrives() {
    let interval = Duration::from_millis(200);
    let relay = Relay::start(Settings {
        presence_interval: interval,
        ..settings()
    })
    .await;
    let (mut a, mut b) = crate::support::pair(&relay).await;
    let mut pa = Presence::new(ReplicaId(1));
    let started = Instant::now();
    for i in 0..30 {
        set(&mut a, &mut pa, &format!("n{i}")).await;
    }
    b.pump_until(|c| knows(c, 1, "n29")).await;
    let elapsed = started.elapsed();
    let frames = b.presence.len() as u128;
    assert!(
        frames <= elapsed.as_millis() / interval.as_millis() + 2,
        "{frames} frames in {elapsed:?}"
    );
    assert!(frames < 30);
    assert_eq!(relay.shared.metrics.presence_in.get(), 30);
    relay.stop().await;
}

#[tokio::test]
async fn leaving_or_being_replaced_removes_presence_at_once() {
    let relay = Relay::start(settings()).await;
    let (mut a, mut b) = crate::support::pair(&relay).await;
    let mut pa = Presence::new(ReplicaId(1));
    set(&mut a, &mut pa, "Ann").await;
    b.pump_until(|c| knows(c, 1, "Ann")).await;

    // A newer connection of replica 1 replaces the first: its presence goes.
    let mut again = Client::new(1, "doc");
    again.connect(&relay).await;
    let started = Instant::now();
    b.pump_until(|c| !seen(c).contains_key(&1)).await;
    // A restarted client's clock rises with its wall clock (`now`).
    again.now += 10_000;
    let mut pa = Presence::new(ReplicaId(1));
    set(&mut again, &mut pa, "Ann again").await;
    b.pump_until(|c| knows(c, 1, "Ann again")).await;

    // The connection drops: the left entry carries the last clock seen.
    let clock = decode_entries(b.presence.last().unwrap()).unwrap()[0].clock;
    again.disconnect();
    b.pump_until(|c| !seen(c).contains_key(&1)).await;
    assert!(started.elapsed() < Duration::from_secs(1));
    let last = decode_entries(b.presence.last().unwrap()).unwrap();
    assert_eq!(last, [PresenceEntry::left(ReplicaId(1), clock)]);
    relay.stop().await;
}

#[tokio::test]
async fn a_client_whose_heartbeat_fails_is_removed_within_the_timeout() {
    let timeout = Duration::from_millis(300);
    let relay = Relay::start(Settings {
        heartbeat_interval: Duration::from_millis(50),
        heartbeat_timeout: timeout,
        ..settings()
    })
    .await;
    let (mut a, mut b) = crate::support::pair(&relay).await;
    let mut pa = Presence::new(ReplicaId(1));
    set(&mut a, &mut pa, "Ann").await;
    let started = Instant::now();
    b.pump_until(|c| knows(c, 1, "Ann")).await;
    // `a` goes silent; `b` keeps answering pings.
    b.pump_until(|c| !seen(c).contains_key(&1)).await;
    assert!(started.elapsed() < timeout + Duration::from_secs(1));
    assert!(relay.shared.documents()[0].1 == 1);
    drop(a);
    relay.stop().await;
}

#[tokio::test]
async fn presence_forging_another_client_is_rejected_and_the_others_see_nothing() {
    let relay = Relay::start(settings()).await;
    let (mut a, mut b) = crate::support::pair(&relay).await;
    let mut forger = Client::new(3, "doc");
    forger.connect(&relay).await;
    // Replica 3 writes as replica 1.
    let forged = Presence::new(ReplicaId(1))
        .set_local(state("forged"), 1)
        .unwrap();
    send_raw(&mut forger, forged).await;
    forger.pump_until(|c| !c.errors.is_empty()).await;
    assert_eq!(forger.errors[0].code, ErrorCode::FORGED_REPLICA);
    assert!(!forger.errors[0].fatal);
    // Still live: its own presence goes through afterwards.
    let mut p3 = Presence::new(ReplicaId(3));
    set(&mut forger, &mut p3, "Cid").await;
    for c in [&mut a, &mut b] {
        c.pump_until(|c| knows(c, 3, "Cid")).await;
        let clients: Vec<u64> = (c.presence.iter())
            .flat_map(|body| decode_entries(body).unwrap())
            .map(|e| e.client.0)
            .collect();
        assert_eq!(clients, [3], "saw {clients:?}");
    }
    assert_eq!(relay.shared.metrics.presence_rejected.get(), 1);
    relay.stop().await;
}

#[tokio::test]
async fn oversized_or_malformed_presence_is_refused_and_never_stored() {
    let relay = Relay::start(settings()).await;
    let (mut a, mut b) = crate::support::pair(&relay).await;
    // A whole body far above the per-client cap.
    send_raw(&mut a, vec![0; 64 * 1024]).await;
    // A name above the core limit (the encoder does not check).
    let long = encode_entries(&[PresenceEntry {
        client: ReplicaId(1),
        clock: 5,
        activity: 1,
        state: Some(state(&"x".repeat(300))),
    }]);
    send_raw(&mut a, long).await;
    // Not a presence body.
    send_raw(&mut a, vec![7, 7, 7]).await;
    a.pump_until(|c| c.errors.len() == 3).await;
    let codes: Vec<ErrorCode> = a.errors.iter().map(|e| e.code).collect();
    assert_eq!(
        codes,
        [
            ErrorCode::TOO_LARGE,
            ErrorCode::TOO_LARGE,
            ErrorCode::MALFORMED
        ]
    );
    assert!(a.errors.iter().all(|e| !e.fatal));

    let mut pa = Presence::new(ReplicaId(1));
    set(&mut a, &mut pa, "Ann").await;
    b.pump_until(|c| knows(c, 1, "Ann")).await;
    assert_eq!(b.presence.len(), 1);
    // Ephemeral: nothing was sequenced or logged.
    assert_eq!(relay.shared.documents(), vec![("doc".into(), 2, 0)]);
    relay.stop().await;
}

#[tokio::test]
async fn status_lists_users_and_whether_they_are_idle() {
    let relay = Relay::start(Settings {
        presence_idle_after: Duration::from_millis(300),
        ..settings()
    })
    .await;
    let (mut a, mut b) = crate::support::pair(&relay).await;
    let mut pa = Presence::new(ReplicaId(1));
    set(&mut a, &mut pa, "Ann").await;
    b.pump_until(|c| knows(c, 1, "Ann")).await;
    let user = |name: &str, idle: bool| {
        format!(
            r##""users":[{{"color":"#f00","id":"0000000000000001","idle":{idle},"name":"{name}"}}]"##
        )
    };
    let (_, body) = relay.get("/status").await;
    assert!(body.contains(&user("Ann", false)), "{body}");

    tokio::time::sleep(Duration::from_millis(400)).await;
    let (_, body) = relay.get("/status").await;
    assert!(body.contains(&user("Ann", true)), "{body}");

    // New activity makes the user active again.
    set(&mut a, &mut pa, "Ann!").await;
    b.pump_until(|c| knows(c, 1, "Ann!")).await;
    let (_, body) = relay.get("/status").await;
    assert!(body.contains(&user("Ann!", false)), "{body}");

    a.disconnect();
    b.pump_until(|c| seen(c).is_empty()).await;
    let (_, body) = relay.get("/status").await;
    assert!(body.contains(r#""users":[]"#), "{body}");
    relay.stop().await;
}
