//! Property tests of both delta readers on arbitrary deltas: the compact
//! frame round-trips and refuses every truncation and corruption; the
//! envelope of earlier builds (written here by a test-only copy of their
//! writer) decodes to the same deltas.

use super::*;
use crate::ids::OpId;
use proptest::prelude::*;

/// An origin or a delete target, relative to the op it belongs to.
#[derive(Clone, Debug)]
enum Ref {
    Root,
    /// The block replica's `seq - 1 - k`, or `seq + k` when that is below 0.
    Own(u32),
    /// `(table[i % table.len()], seq)`.
    Other(usize, u32),
}

#[derive(Clone, Debug)]
enum RawBody {
    Insert {
        text: String,
        keep_text: bool,
        lamport: u64,
        origin: Ref,
    },
    Delete {
        len: u32,
        target: Ref,
        reversed: bool,
    },
    Title(u64, u32, String),
    Counter(String, u64, u64),
}

fn small_or_any_seq() -> impl Strategy<Value = u32> {
    prop_oneof![0..4u32, 0..300_000u32, (MAX_SEQ - 40)..MAX_SEQ]
}

fn lamport() -> impl Strategy<Value = u64> {
    prop_oneof![0..8u64, 0..300_000u64, (MAX_LAMPORT - 64)..=MAX_LAMPORT]
}

fn reference() -> impl Strategy<Value = Ref> {
    prop_oneof![
        Just(Ref::Root),
        (0..3u32).prop_map(Ref::Own),
        small_or_any_seq().prop_map(Ref::Own),
        (any::<usize>(), small_or_any_seq()).prop_map(|(i, s)| Ref::Other(i, s)),
    ]
}

fn body() -> impl Strategy<Value = RawBody> {
    prop_oneof![
        4 => ("\\PC{1,6}", any::<bool>(), lamport(), reference()).prop_map(
            |(text, keep_text, lamport, origin)| RawBody::Insert { text, keep_text, lamport, origin }
        ),
        2 => (1..20u32, reference(), any::<bool>())
            .prop_map(|(len, target, reversed)| RawBody::Delete { len, target, reversed }),
        1 => (any::<u64>(), any::<u32>(), "\\PC{0,8}").prop_map(|(w, c, v)| RawBody::Title(w, c, v)),
        1 => ("[a-z]{0,5}", any::<u64>(), any::<u64>())
            .prop_map(|(name, p, n)| RawBody::Counter(name, p, n)),
    ]
}

fn resolve(r: &Ref, own: ReplicaId, seq: Seq, table: &[ReplicaId]) -> Option<OpId> {
    match *r {
        Ref::Root => None,
        Ref::Own(k) => Some(OpId::new(
            own,
            seq.checked_sub(1 + k)
                .unwrap_or(seq.saturating_add(k) % MAX_SEQ),
        )),
        Ref::Other(i, s) => Some(OpId::new(table[i % table.len()], s)),
    }
}

/// Turns raw blocks into a delta as a decoder returns it: blocks ascending,
/// none empty, ops ascending within `MAX_SEQ`.
fn build(raw: Vec<(ReplicaId, Vec<(u32, RawBody)>)>, extra: Vec<ReplicaId>) -> Delta {
    let mut table: Vec<ReplicaId> = raw.iter().map(|(r, _)| *r).chain(extra).collect();
    table.sort_unstable();
    let mut blocks = Vec::new();
    for (replica, ops) in raw {
        let mut out = Vec::new();
        let mut next: u64 = 0;
        for (gap, raw) in ops {
            let seq = next + u64::from(gap);
            let len = match &raw {
                RawBody::Insert { text, .. } => text.chars().count() as u64,
                RawBody::Delete { len, .. } => u64::from(*len),
                _ => 1,
            };
            if seq + len > u64::from(MAX_SEQ) {
                break;
            }
            let seq = seq as Seq;
            let body = match raw {
                RawBody::Insert {
                    text,
                    keep_text,
                    lamport,
                    origin,
                } => Body::Insert {
                    len: len as u32,
                    lamport: lamport.min(MAX_LAMPORT - len),
                    origin: resolve(&origin, replica, seq, &table),
                    content: keep_text.then_some(text),
                },
                RawBody::Delete {
                    len,
                    target,
                    reversed,
                } => Body::Delete {
                    len,
                    target: resolve(&target, replica, seq, &table).unwrap_or(OpId::new(replica, 0)),
                    reversed,
                },
                RawBody::Title(w, c, value) => Body::Title {
                    time: Hlc::new(w, c),
                    value,
                },
                RawBody::Counter(name, p, n) => Body::Counter { name, p, n },
            };
            next = u64::from(seq) + len;
            out.push(Op { seq, body });
        }
        if !out.is_empty() {
            blocks.push(Block { replica, ops: out });
        }
    }
    Delta { blocks }
}

fn delta() -> impl Strategy<Value = Delta> {
    let replica = prop_oneof![Just(0u64), Just(0xa1), Just(u64::MAX), any::<u64>()];
    let ops = proptest::collection::vec((small_or_any_seq(), body()), 1..6);
    (
        proptest::collection::btree_map(replica.clone(), ops, 0..4),
        proptest::collection::vec(replica, 0..2),
    )
        .prop_map(|(blocks, extra)| {
            let raw = blocks.into_iter().map(|(r, ops)| (ReplicaId(r), ops));
            let mut extra: Vec<ReplicaId> = extra.into_iter().map(ReplicaId).collect();
            let mut raw: Vec<_> = raw.collect();
            extra.retain(|e| raw.iter().all(|(r, _)| r != e));
            extra.sort_unstable();
            extra.dedup();
            raw.sort_by_key(|(r, _)| *r);
            build(raw, extra)
        })
}

/// The envelope writer of earlier builds, kept to test that their deltas
/// still decode.
fn legacy_encode(delta: &Delta) -> Vec<u8> {
    let mut table: Vec<ReplicaId> = Vec::new();
    for b in &delta.blocks {
        table.push(b.replica);
        for op in &b.ops {
            match &op.body {
                Body::Insert {
                    origin: Some(o), ..
                } => table.push(o.replica),
                Body::Delete { target, .. } => table.push(target.replica),
                _ => {}
            }
        }
    }
    table.sort_unstable();
    table.dedup();
    let idx = |r: ReplicaId| table.binary_search(&r).unwrap() as u64;
    let mut w = envelope::begin(KIND_DELTA);
    w.varint(table.len() as u64);
    for &r in &table {
        w.replica(r);
    }
    w.varint(delta.blocks.len() as u64);
    for b in &delta.blocks {
        w.varint(idx(b.replica));
        w.varint(b.ops.len() as u64);
        let mut prev_end = 0;
        for op in &b.ops {
            w.varint(u64::from(op.seq - prev_end));
            prev_end = op.end();
            match &op.body {
                Body::Insert {
                    len,
                    lamport,
                    origin,
                    content,
                } => {
                    w.u8(1);
                    let chain = *origin == op.seq.checked_sub(1).map(|s| OpId::new(b.replica, s));
                    let kind = match origin {
                        None => 0,
                        Some(_) if chain => 1 << 1,
                        Some(_) => 2 << 1,
                    };
                    w.varint(kind | u64::from(content.is_some()));
                    w.varint(u64::from(*len));
                    w.varint(*lamport);
                    if let Some(o) = origin.filter(|_| !chain) {
                        w.varint(idx(o.replica));
                        w.varint(u64::from(o.seq));
                    }
                    if let Some(c) = content {
                        w.str(c);
                    }
                }
                Body::Delete {
                    len,
                    target,
                    reversed,
                } => {
                    w.u8(2);
                    w.varint(u64::from(*len) << 1 | u64::from(*reversed));
                    w.varint(idx(target.replica));
                    w.varint(u64::from(target.seq));
                }
                Body::Title { time, value } => {
                    w.u8(3);
                    write_title(&mut w, time, value);
                }
                Body::Counter { name, p, n } => {
                    w.u8(4);
                    write_counter(&mut w, name, *p, *n);
                }
            }
        }
    }
    envelope::finish(w)
}

fn reseal(bytes: &mut [u8]) {
    let split = bytes.len() - envelope::CHECKSUM_LEN;
    let crc = envelope::checksum(&bytes[..split]);
    bytes[split..].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn the_legacy_writer_matches_the_stored_vector() {
    let backspace = include_bytes!("../../../tests/vectors/backspace_delta.bin");
    let delta = Delta::decode(backspace).unwrap();
    assert_eq!(legacy_encode(&delta), backspace);
    let compact = include_bytes!("../../../tests/vectors/backspace_delta_compact.bin");
    assert_eq!(delta.encode(), compact);
}

/// The deltas replicas send are no larger compact than in the envelope of
/// earlier builds. Arbitrary deltas can be: the compact body stores Lamport
/// timestamps, origins and targets relative to the op's seq, which costs
/// bytes when they lie far apart, as in no history (a seq near 2^31 with
/// Lamport 0).
#[test]
fn compact_deltas_of_an_editing_session_are_no_larger_than_legacy() {
    use crate::{Doc, ReplicaId};
    let mut a = Doc::new(ReplicaId(1));
    let mut b = Doc::new(ReplicaId(0xa1));
    let mut checked = 0;
    let mut check = |from: &Doc, since: &crate::VersionVector| {
        let delta = from.delta_since(since);
        let (compact, legacy) = (delta.encode(), legacy_encode(&delta));
        assert!(compact.len() <= legacy.len(), "{delta:?}");
        checked += 1;
    };
    for (i, ch) in "hello world, typed one key at a time".chars().enumerate() {
        let since = a.version();
        a.insert(i, &ch.to_string()).unwrap();
        check(&a, &since);
    }
    b.merge(&a).unwrap();
    type Edit = fn(&mut Doc);
    let edits: [Edit; 6] = [
        |d| d.delete(d.len() - 1, 1).unwrap(),
        |d| d.delete(3, 4).unwrap(),
        |d| d.insert(5, "pasted text").unwrap(),
        |d| d.insert(0, "ünïcödé 👋").unwrap(),
        |d| d.set_title("notes", 1_000).unwrap(),
        |d| d.increment("views", -2).unwrap(),
    ];
    for edit in edits {
        for doc in [&mut a, &mut b] {
            let since = doc.version();
            edit(doc);
            check(doc, &since);
        }
        // Each catches up with the other: deltas of several ops and replicas.
        let (va, vb) = (a.version(), b.version());
        check(&a, &vb);
        check(&b, &va);
        a.merge(&b).unwrap();
        b.merge(&a).unwrap();
    }
    assert_eq!(checked, 36 + 6 * 4);
}

proptest! {
    #[test]
    fn compact_deltas_round_trip_canonically(delta in delta()) {
        let bytes = delta.encode();
        prop_assert_eq!(bytes[0], envelope::compact_lead(KIND_DELTA));
        let decoded = Delta::decode(&bytes).unwrap();
        prop_assert_eq!(&decoded, &delta);
        prop_assert_eq!(decoded.encode(), bytes);
    }

    #[test]
    fn envelope_deltas_decode_to_the_same_delta(delta in delta()) {
        let legacy = legacy_encode(&delta);
        prop_assert_eq!(&legacy[..4], b"QUIR");
        let decoded = Delta::decode(&legacy).unwrap();
        prop_assert_eq!(&decoded, &delta);
    }

    #[test]
    fn every_truncation_and_byte_corruption_of_a_compact_delta_is_an_error(
        delta in delta(),
        xor in 1..=255u8,
    ) {
        let bytes = delta.encode();
        for cut in 0..bytes.len() {
            prop_assert!(Delta::decode(&bytes[..cut]).is_err(), "cut at {}", cut);
        }
        for i in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[i] ^= xor;
            prop_assert!(Delta::decode(&damaged).is_err(), "byte {} ^ {:#x}", i, xor);
        }
    }

    #[test]
    fn corrupted_compact_bodies_with_a_valid_checksum_never_panic(
        delta in delta(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        cut in any::<usize>(),
    ) {
        let mut bytes = delta.encode();
        let body = bytes.len() - envelope::CHECKSUM_LEN - 1;
        for (at, value) in edits {
            bytes[1 + at % body.max(1)] = value;
        }
        let keep = 1 + cut % (body + 1);
        bytes.drain(keep..bytes.len() - envelope::CHECKSUM_LEN);
        reseal(&mut bytes);
        if let Ok(decoded) = Delta::decode(&bytes) {
            let again = Delta::decode(&decoded.encode());
            prop_assert_eq!(again.as_ref(), Ok(&decoded));
        }
    }
}
