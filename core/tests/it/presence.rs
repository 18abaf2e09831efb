//! Presence and anchored cursors: cursors follow concurrent edits on every
//! replica, line/column with multi-byte text, idle and expiry with injected
//! time, stale entries, the relay's checks, golden bytes and hostile bodies.

use quire_core::presence::{
    decode_entries, encode_entries, validate_client_body, ClientState, Presence, PresenceEntry,
    PresenceError, PresenceOptions, Selection, UserInfo, MAX_PRESENCE_ENTRIES, MAX_PRESENCE_STATE,
};
use quire_core::{Anchor, DecodeError, Doc, OpId, ReplicaId, Side};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Exchanges deltas both ways and checks that the replicas agree (shared
/// with the undo tests).
pub(crate) fn sync(a: &mut Doc, b: &mut Doc) {
    let to_b = a.delta_since(&b.version());
    let to_a = b.delta_since(&a.version());
    b.apply(&to_b).unwrap();
    a.apply(&to_a).unwrap();
    assert_eq!(a.snapshot(), b.snapshot());
}

/// A seeded xorshift: `next(n)` is in `0..n`.
pub(crate) fn rng(mut seed: u64) -> impl FnMut(usize) -> usize {
    move |n| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    }
}

fn pair(text: &str) -> (Doc, Doc) {
    let mut a = Doc::new(ReplicaId(1));
    let mut b = Doc::new(ReplicaId(2));
    a.insert(0, text).unwrap();
    sync(&mut a, &mut b);
    (a, b)
}

fn user(name: &str, cursor: Option<Anchor>) -> ClientState {
    ClientState {
        user: UserInfo {
            name: name.into(),
            color: "#f00".into(),
            data: String::new(),
        },
        cursor,
        selection: None,
    }
}

// ---- anchors under concurrency ----

#[test]
fn concurrent_insert_before_the_cursor_moves_it_right_by_its_length() {
    let (mut a, mut b) = pair("hello world");
    let cursor = a.anchor_at(6); // before "world"
    b.insert(0, "¡¡").unwrap();
    a.insert(11, "!").unwrap();
    sync(&mut a, &mut b);
    assert_eq!(a.text(), "¡¡hello world!");
    assert_eq!(a.resolve(&cursor), 8);
    assert_eq!(b.resolve(&cursor), 8);
}

#[test]
fn concurrent_insert_exactly_at_the_cursor_moves_it_right() {
    let (mut a, mut b) = pair("abcd");
    let caret = a.anchor_at(2);
    let keep = a.anchor_at_side(2, Side::After);
    b.insert(2, "XYZ").unwrap();
    sync(&mut a, &mut b);
    assert_eq!(a.text(), "abXYZcd");
    assert_eq!(a.resolve(&caret), 5);
    assert_eq!(a.resolve(&keep), 2);
}

#[test]
fn inserts_after_the_cursor_leave_it() {
    let (mut a, mut b) = pair("abcd");
    let caret = a.anchor_at(1);
    b.insert(3, "X").unwrap();
    a.insert(4, "Y").unwrap();
    sync(&mut a, &mut b);
    assert_eq!(b.resolve(&caret), 1);
}

#[test]
fn concurrent_delete_covering_the_cursor_moves_it_to_the_delete_start() {
    let (mut a, mut b) = pair("0123456789");
    let caret = a.anchor_at(5);
    b.delete(3, 4).unwrap(); // "3456"
    a.insert(0, ">").unwrap();
    sync(&mut a, &mut b);
    assert_eq!(a.text(), ">012789");
    assert_eq!(a.resolve(&caret), 4);
    assert_eq!(b.resolve(&caret), 4);
}

#[test]
fn deletes_before_and_after_the_cursor() {
    let (mut a, mut b) = pair("0123456789");
    let caret = a.anchor_at(5);
    b.delete(0, 2).unwrap();
    a.delete(7, 3).unwrap();
    sync(&mut a, &mut b);
    assert_eq!(a.text(), "23456");
    assert_eq!(a.resolve(&caret), 3);
    assert_eq!(a.resolve_utf16(&caret), 3);
}

#[test]
fn cursor_at_the_end_stays_at_the_end() {
    let (mut a, mut b) = pair("abc");
    let end = a.anchor_at(3);
    assert_eq!(end, Anchor::End);
    b.insert(3, "def").unwrap();
    sync(&mut a, &mut b);
    assert_eq!(a.resolve(&end), 6);
}

#[test]
fn random_concurrent_edits_resolve_alike_on_both_replicas() {
    let mut next = rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..50 {
        let (mut a, mut b) = pair("the quick brown fox");
        let anchors: Vec<Anchor> = (0..=a.len())
            .map(|i| {
                a.anchor_at_side(
                    i,
                    if i % 2 == 0 {
                        Side::Before
                    } else {
                        Side::After
                    },
                )
            })
            .collect();
        let ids: Vec<Option<Anchor>> = (0..a.len()).map(|i| Some(a.anchor_at(i))).collect();
        for _ in 0..6 {
            for d in [&mut a, &mut b] {
                let len = d.len();
                if next(3) == 0 && len > 0 {
                    let at = next(len);
                    d.delete(at, 1 + next((len - at).min(3))).unwrap();
                } else {
                    d.insert(next(len + 1), ["x", "😀", "汉字"][next(3)])
                        .unwrap();
                }
            }
            sync(&mut a, &mut b);
        }
        for anchor in anchors.iter().chain(ids.iter().flatten()) {
            let at = a.resolve(anchor);
            assert_eq!(at, b.resolve(anchor));
            assert!(at <= a.len());
            assert_eq!(a.resolve_utf16(anchor), a.index_to_utf16(at));
        }
    }
}

// ---- line and column ----

#[test]
fn line_and_column_with_emoji_cjk_and_combining_marks() {
    let mut d = Doc::new(ReplicaId(1));
    d.insert(0, "e\u{301}😀\n汉字x\n👩‍💻").unwrap();
    let at = |i: usize| {
        let l = d.line_col(i);
        (l.line, l.column, l.column_utf16)
    };
    assert_eq!(at(2), (0, 2, 2)); // after e + combining acute: 2 scalars
    assert_eq!(at(3), (0, 3, 4)); // after the emoji
    assert_eq!(at(4), (1, 0, 0));
    assert_eq!(at(6), (1, 2, 2));
    assert_eq!(at(8), (2, 0, 0));
    assert_eq!(at(11), (2, 3, 5)); // woman, ZWJ, laptop
    assert_eq!(d.line_col_utf16(d.len_utf16()), d.line_col(d.len()));
    // Deleted text does not count.
    d.delete(3, 1).unwrap();
    let joined = quire_core::LineCol {
        line: 0,
        column: 6,
        column_utf16: 7,
    };
    assert_eq!(d.line_col(6), joined);
    assert_eq!(d.line_col(d.len()).line, 1);
}

#[test]
fn line_and_column_of_a_remote_cursor() {
    let (mut a, mut b) = pair("one\ntwo\nthree");
    let cursor = b.anchor_at(6); // "tw|o"
    let mut pa = Presence::new(ReplicaId(1));
    let mut pb = Presence::new(ReplicaId(2));
    pa.apply(&pb.set_local(user("bob", Some(cursor)), 0).unwrap(), 0)
        .unwrap();
    a.insert(0, "zero\n").unwrap();
    sync(&mut a, &mut b);
    let seen = pa.users(0)[0].state.cursor.unwrap();
    let lc = a.line_col(a.resolve(&seen));
    assert_eq!((lc.line, lc.column), (2, 2));
}

// ---- idle, expiry and stale entries ----

#[test]
fn idle_and_expiry_with_injected_time() {
    let mut options = PresenceOptions::default();
    options.idle_after_ms = 1_000;
    options.timeout_ms = 500;
    let mut me = Presence::with_options(ReplicaId(9), options);
    let mut busy = Presence::new(ReplicaId(1));
    let mut lazy = Presence::new(ReplicaId(2));
    let mut gone = Presence::new(ReplicaId(3));
    for p in [&mut busy, &mut lazy, &mut gone] {
        let body = p.set_local(user("u", None), 0).unwrap();
        me.apply(&body, 0).unwrap();
    }
    for now in (100..=1_500).step_by(100) {
        me.apply(&busy.set_local(user("u", None), now).unwrap(), now)
            .unwrap();
        me.apply(&lazy.keepalive(now).unwrap(), now).unwrap();
        if now == 400 {
            assert_eq!(me.expire(now), vec![]);
        }
    }
    assert_eq!(me.expire(1_500), vec![ReplicaId(3)]);
    let ids =
        |users: Vec<quire_core::presence::User>| users.iter().map(|u| u.id).collect::<Vec<_>>();
    assert_eq!(ids(me.active(1_500)), vec![ReplicaId(1)]);
    assert_eq!(ids(me.idle(1_500)), vec![ReplicaId(2)]);
    assert_eq!(ids(me.users(1_500)), vec![ReplicaId(1), ReplicaId(2)]);
    // Activity again makes it active.
    me.apply(&lazy.set_local(user("u", None), 1_600).unwrap(), 1_600)
        .unwrap();
    assert_eq!(me.active(1_600).len(), 2);
}

#[test]
fn stale_clocks_are_ignored_in_any_order() {
    let mut sender = Presence::new(ReplicaId(1));
    let bodies: Vec<Vec<u8>> = (0..5)
        .map(|i| sender.set_local(user(&format!("v{i}"), None), 10).unwrap())
        .collect();
    let mut r = Presence::new(ReplicaId(2));
    for i in [3, 1, 4, 0, 2, 4] {
        r.apply(&bodies[i], 0).unwrap();
    }
    assert_eq!(r.users(0)[0].state.user.name, "v4");
}

// ---- relay ----

#[test]
fn relay_flow_join_snapshot_forgery_and_leave() {
    let mut alice = Presence::new(ReplicaId(1));
    let body = alice
        .set_local(user("alice", Some(Anchor::Start)), 5)
        .unwrap();
    // The relay checks the sender and keeps the entry.
    let entry = validate_client_body(&body, ReplicaId(1)).unwrap();
    assert!(matches!(
        validate_client_body(&body, ReplicaId(2)),
        Err(PresenceError::ForgedClient { .. })
    ));
    assert!(matches!(
        validate_client_body(&[0xff], ReplicaId(1)),
        Err(PresenceError::Decode(_))
    ));
    // A joining client gets the current entries.
    let mut bob = Presence::new(ReplicaId(2));
    let join = encode_entries(std::slice::from_ref(&entry));
    assert_eq!(bob.apply(&join, 0).unwrap(), vec![ReplicaId(1)]);
    // Alice disconnects: the relay sends a "left" entry with her last clock.
    let left = encode_entries(&[PresenceEntry::left(entry.client, entry.clock)]);
    assert_eq!(bob.apply(&left, 1).unwrap(), vec![ReplicaId(1)]);
    assert!(bob.users(1).is_empty());
    // A client leaving by itself.
    bob.apply(&join, 2).unwrap(); // stale now: ignored
    assert!(bob.users(2).is_empty());
    let again = alice.set_local(user("alice", None), 6).unwrap();
    bob.apply(&again, 3).unwrap();
    bob.apply(&alice.leave(7), 4).unwrap();
    assert!(bob.users(4).is_empty());
}

// ---- wire: golden bytes and hostile input ----

fn golden_entry() -> PresenceEntry {
    PresenceEntry {
        client: ReplicaId(1),
        clock: 1000,
        activity: 3,
        state: Some(ClientState {
            user: UserInfo {
                name: "Ann".into(),
                color: "#f00".into(),
                data: String::new(),
            },
            cursor: Some(Anchor::Char {
                id: OpId::new(ReplicaId(2), 5),
                side: Side::Before,
            }),
            selection: Some(Selection {
                start: Anchor::Start,
                end: Anchor::Char {
                    id: OpId::new(ReplicaId(2), 7),
                    side: Side::After,
                },
            }),
        }),
    }
}

const GOLDEN: &str = "01 0100000000000000 e807 03 01 20 \
     03416e6e 0423663030 00 03 \
     02 0200000000000000 05 \
     00 03 0200000000000000 07";
const GOLDEN_LEFT: &str = "01 0100000000000000 e807 00 00";

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn golden_bytes_of_a_state_and_a_left_entry() {
    let entry = golden_entry();
    assert_eq!(encode_entries(std::slice::from_ref(&entry)), hex(GOLDEN));
    assert_eq!(decode_entries(&hex(GOLDEN)).unwrap(), vec![entry]);
    let left = PresenceEntry::left(ReplicaId(1), 1000);
    assert_eq!(
        encode_entries(std::slice::from_ref(&left)),
        hex(GOLDEN_LEFT)
    );
    assert_eq!(decode_entries(&hex(GOLDEN_LEFT)).unwrap(), vec![left]);
    assert_eq!(decode_entries(&[0]).unwrap(), vec![]);
}

fn decode_no_panic(bytes: &[u8]) -> Result<Vec<PresenceEntry>, DecodeError> {
    catch_unwind(AssertUnwindSafe(|| decode_entries(bytes)))
        .unwrap_or_else(|_| panic!("decode panicked on {bytes:02x?}"))
}

#[test]
fn every_prefix_of_a_body_returns_error_not_panic() {
    let body = hex(GOLDEN);
    for cut in 0..body.len() {
        assert!(decode_no_panic(&body[..cut]).is_err(), "prefix {cut}");
        let mut p = Presence::new(ReplicaId(5));
        assert!(p.apply(&body[..cut], 0).is_err());
        assert!(p.users(0).is_empty());
    }
}

#[test]
fn bit_flips_return_error_or_a_canonical_body() {
    let body = hex(GOLDEN);
    for i in 0..body.len() * 8 {
        let mut flipped = body.clone();
        flipped[i / 8] ^= 1 << (i % 8);
        if let Ok(entries) = decode_no_panic(&flipped) {
            assert_eq!(encode_entries(&entries), flipped, "bit {i}");
        }
    }
}

#[test]
fn oversize_and_malformed_bodies_are_refused() {
    // A state just over the limit.
    let mut big = vec![1];
    big.extend_from_slice(&1u64.to_le_bytes());
    big.extend_from_slice(&[0, 0, 1]);
    big.extend_from_slice(&[0x81, 0x40]); // 8193
    big.extend(std::iter::repeat_n(0, MAX_PRESENCE_STATE + 1));
    assert!(matches!(
        decode_no_panic(&big),
        Err(DecodeError::LimitExceeded { .. })
    ));
    // Too many entries, or a count far beyond the bytes.
    let mut many = vec![0x81, 0x08]; // 1025
    many.extend(std::iter::repeat_n(0, 13 * (MAX_PRESENCE_ENTRIES + 1)));
    assert!(matches!(
        decode_no_panic(&many),
        Err(DecodeError::LimitExceeded { .. })
    ));
    assert!(decode_no_panic(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]).is_err());
    // Unknown entry kind, bad flags, unknown anchor tag, trailing bytes.
    let mut kind = hex(GOLDEN_LEFT);
    kind[12] = 2;
    assert!(matches!(
        decode_no_panic(&kind),
        Err(DecodeError::UnknownTag { .. })
    ));
    let golden = hex(GOLDEN);
    let mut flags = golden.clone();
    flags[24] = 4;
    assert!(decode_no_panic(&flags).is_err());
    let mut anchor = golden.clone();
    anchor[25] = 9;
    assert!(decode_no_panic(&anchor).is_err());
    let mut trailing = golden;
    trailing.push(0);
    assert!(matches!(
        decode_no_panic(&trailing),
        Err(DecodeError::TrailingBytes { .. })
    ));
    // Random bytes never panic.
    let mut seed = 7u64;
    for len in 0..400 {
        let bytes: Vec<u8> = (0..len % 64)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 56) as u8
            })
            .collect();
        let _ = decode_no_panic(&bytes);
    }
}

#[test]
fn the_largest_allowed_state_round_trips() {
    let mut p = Presence::new(ReplicaId(1));
    let mut s = user("n", None);
    s.user.data = "d".repeat(MAX_PRESENCE_STATE - 16);
    let body = p.set_local(s.clone(), 0).unwrap();
    let mut q = Presence::new(ReplicaId(2));
    q.apply(&body, 0).unwrap();
    assert_eq!(q.users(0)[0].state, s);
}
