use super::*;
use crate::doc::Side;
use crate::ids::OpId;

fn state(name: &str) -> ClientState {
    ClientState {
        user: UserInfo {
            name: name.into(),
            color: "#123456".into(),
            data: String::new(),
        },
        cursor: Some(Anchor::Char {
            id: OpId::new(ReplicaId(7), 3),
            side: Side::Before,
        }),
        selection: Some(Selection {
            start: Anchor::Start,
            end: Anchor::End,
        }),
    }
}

#[test]
fn entries_round_trip() {
    let entries = vec![
        PresenceEntry {
            client: ReplicaId(1),
            clock: 5,
            activity: 2,
            state: Some(state("ann")),
        },
        PresenceEntry::left(ReplicaId(u64::MAX), u64::MAX),
    ];
    let body = encode_entries(&entries);
    assert_eq!(decode_entries(&body), Ok(entries));
}

#[test]
fn a_peer_sees_the_local_state() {
    let mut a = Presence::new(ReplicaId(1));
    let mut b = Presence::new(ReplicaId(2));
    let body = a.set_local(state("ann"), 1_000).unwrap();
    assert_eq!(b.apply(&body, 50).unwrap(), vec![ReplicaId(1)]);
    let users = b.users(50);
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].state, state("ann"));
    assert!(!users[0].idle);
    // Our own entry echoed back is ignored.
    assert_eq!(a.apply(&body, 60).unwrap(), vec![]);
    assert!(a.users(60).is_empty());
}

#[test]
fn stale_and_duplicate_entries_are_ignored() {
    let mut a = Presence::new(ReplicaId(1));
    let mut b = Presence::new(ReplicaId(2));
    let old = a.set_local(state("old"), 10).unwrap();
    let new = a.set_local(state("new"), 11).unwrap();
    b.apply(&new, 0).unwrap();
    assert_eq!(b.apply(&old, 1).unwrap(), vec![]);
    assert_eq!(b.apply(&new, 2).unwrap(), vec![]);
    assert_eq!(b.users(2)[0].state.user.name, "new");
    assert_eq!(b.users(2)[0].last_heard, 0);
}

#[test]
fn local_clock_moves_forward_even_without_time() {
    let mut a = Presence::new(ReplicaId(1));
    let mut b = Presence::new(ReplicaId(2));
    for i in 0..3 {
        let body = a.set_local(state(&i.to_string()), 0).unwrap();
        assert_eq!(b.apply(&body, 0).unwrap(), vec![ReplicaId(1)]);
    }
}

#[test]
fn left_entries_remove_and_block_older_entries() {
    let mut a = Presence::new(ReplicaId(1));
    let mut b = Presence::new(ReplicaId(2));
    let body = a.set_local(state("ann"), 100).unwrap();
    b.apply(&body, 0).unwrap();
    // The relay reports the leave with the last clock it saw.
    let left = encode_entries(&[PresenceEntry::left(ReplicaId(1), 100)]);
    assert_eq!(b.apply(&left, 1).unwrap(), vec![ReplicaId(1)]);
    assert_eq!(b.apply(&body, 2).unwrap(), vec![]);
    assert!(b.users(2).is_empty());
    let back = a.set_local(state("ann"), 100).unwrap();
    assert_eq!(b.apply(&back, 3).unwrap(), vec![ReplicaId(1)]);
}

#[test]
fn idle_after_threshold_and_active_again_on_activity() {
    let mut a = Presence::new(ReplicaId(1));
    let mut b = Presence::new(ReplicaId(2));
    let idle_after = PresenceOptions::default().idle_after_ms;
    b.apply(&a.set_local(state("ann"), 1).unwrap(), 0).unwrap();
    assert_eq!(b.active(idle_after - 1).len(), 1);
    // Keepalives keep it alive but not active.
    b.apply(&a.keepalive(2).unwrap(), idle_after).unwrap();
    assert_eq!(b.idle(idle_after).len(), 1);
    assert!(b.active(idle_after).is_empty());
    b.apply(&a.set_local(state("ann"), 3).unwrap(), idle_after + 5)
        .unwrap();
    assert_eq!(b.active(idle_after + 5).len(), 1);
}

#[test]
fn expiry_removes_the_silent() {
    let mut a = Presence::new(ReplicaId(1));
    let mut b = Presence::new(ReplicaId(2));
    b.apply(&a.set_local(state("ann"), 1).unwrap(), 1_000)
        .unwrap();
    assert_eq!(b.expire(31_000), vec![]);
    assert_eq!(b.expire(31_001), vec![ReplicaId(1)]);
    assert!(b.users(31_001).is_empty());
}

#[test]
fn oversize_state_is_refused() {
    let mut a = Presence::new(ReplicaId(1));
    let mut s = state("ann");
    s.user.data = "x".repeat(MAX_PRESENCE_STATE);
    assert!(matches!(
        a.set_local(s, 0),
        Err(PresenceError::TooLarge { .. })
    ));
    let mut s = state("ann");
    s.user.name = "n".repeat(MAX_USER_NAME + 1);
    assert!(matches!(
        a.set_local(s, 0),
        Err(PresenceError::TooLarge {
            what: "user name",
            ..
        })
    ));
    assert_eq!(a.keepalive(0), None);
}

#[test]
fn relay_validation_rejects_forgery_and_lists() {
    let mut a = Presence::new(ReplicaId(1));
    let body = a.set_local(state("ann"), 0).unwrap();
    assert_eq!(
        validate_client_body(&body, ReplicaId(1)).unwrap().client,
        ReplicaId(1)
    );
    assert_eq!(
        validate_client_body(&body, ReplicaId(9)),
        Err(PresenceError::ForgedClient {
            claimed: ReplicaId(1),
            sender: ReplicaId(9)
        })
    );
    let two = encode_entries(&[
        PresenceEntry::left(ReplicaId(1), 1),
        PresenceEntry::left(ReplicaId(1), 2),
    ]);
    assert_eq!(
        validate_client_body(&two, ReplicaId(1)),
        Err(PresenceError::NotOneEntry { count: 2 })
    );
}

#[test]
fn max_clients_bounds_the_tracker() {
    let opts = PresenceOptions {
        max_clients: 2,
        ..Default::default()
    };
    let mut b = Presence::with_options(ReplicaId(0), opts);
    for id in 1..=3 {
        let mut a = Presence::new(ReplicaId(id));
        b.apply(&a.set_local(state("x"), 1).unwrap(), 0).unwrap();
    }
    assert_eq!(b.users(0).len(), 2);
    assert_eq!(b.entries().len(), 2);
}
