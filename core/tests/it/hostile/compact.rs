//! Hostile compact delta frames: bodies built by hand, field by field as
//! `docs/PROTOCOL.md` ("Compact delta body") lays them out.

use super::forge::{
    compact_frame, crc32, delta_body, delta_err, doc_err, limit, reseal, unknown, Body, LEAD_DELTA,
    OP_INSERT,
};
use super::{decode, no_panic, report};
use crate::vectors::{self, Kind, ALICE, BOB};
use quire_core::{DecodeError, Delta, Doc, VersionVector};

/// Limits from `docs/PROTOCOL.md`, "Limits".
const MAX_LAMPORT: u64 = 1 << 48;
const MAX_SEQ: u64 = u32::MAX as u64 / 2;
const MAX_INSERT_BYTES: usize = 16 << 20;

/// Op headers (see `compact.rs`): insert `n << 4 | origin << 2 | text << 1`,
/// delete `len << 4 | own << 3 | reversed << 2 | 1`.
const TEXT: u64 = 1 << 1;
const CHAIN: u64 = 1 << 2;
const OWN: u64 = 2 << 2;
const EXPLICIT: u64 = 3 << 2;
const DELETE_OWN: u64 = 1 << 3 | 1;

/// A one-replica body of Alice's, up to her first op.
fn alice(ops: u64) -> Body {
    Body::default()
        .v(&[(ops - 1) << 1 | 1])
        .raw(&ALICE.0.to_le_bytes())
}

fn invalid(what: &'static str) -> DecodeError {
    DecodeError::Invalid { what }
}

#[test]
fn compact_vectors_start_with_the_lead_byte_and_are_smaller() {
    for (compact, legacy) in [
        ("edited_delta_compact.bin", "edited_delta.bin"),
        ("backspace_delta_compact.bin", "backspace_delta.bin"),
    ] {
        let bytes = vectors::stored(compact);
        assert_eq!(bytes[0], LEAD_DELTA);
        assert_eq!(&vectors::stored(legacy)[..4], b"QUIR");
        let n = bytes.len();
        assert_eq!(bytes[n - 4..], crc32(&bytes[..n - 4]).to_le_bytes());
    }
}

#[test]
fn compact_lead_byte_is_checked_for_length_version_and_kind() {
    let empty = [0u8]; // an empty delta: no replicas
    assert_eq!(Delta::decode(&compact_frame(&empty)), Ok(Delta::default()));
    assert_eq!(Delta::default().encode(), compact_frame(&empty));
    // Below lead byte and checksum.
    for cut in 0..5 {
        let err = delta_err(&compact_frame(&[])[..cut]);
        assert_eq!(err, DecodeError::Truncated { offset: 0 });
    }
    let mut bytes = compact_frame(&empty);
    // Version 2 and version 0 of a delta.
    for version in [2, 0] {
        bytes[0] = LEAD_DELTA & !7 | version;
        reseal(&mut bytes);
        let err = delta_err(&bytes);
        assert_eq!(
            err,
            DecodeError::UnsupportedVersion {
                found: version,
                supported: 1
            }
        );
    }
    // A compact lead of kind 1 (document), which has no compact frame.
    bytes[0] = 0b1100_1001;
    reseal(&mut bytes);
    let wrong = DecodeError::WrongKind {
        found: 1,
        expected: 2,
    };
    assert_eq!(delta_err(&bytes), wrong);
    assert_eq!(doc_err(&bytes), DecodeError::BadMagic);
    // A compact delta given to the document decoder.
    let delta = vectors::stored("edited_delta_compact.bin");
    let wrong = DecodeError::WrongKind {
        found: 2,
        expected: 1,
    };
    assert_eq!(doc_err(&delta), wrong);
    // A lead byte that is neither: not a Quire encoding.
    for lead in [0x00, 0x7f, 0x80, 0xbf] {
        bytes[0] = lead;
        let padded = [&bytes[..], &[0; 8]].concat();
        assert_eq!(delta_err(&padded), DecodeError::BadMagic, "{lead:#x}");
    }
}

#[test]
fn every_byte_of_a_compact_vector_replaced_returns_error_not_panic() {
    let mut problems = Vec::new();
    for name in ["edited_delta_compact.bin", "backspace_delta_compact.bin"] {
        let bytes = vectors::stored(name);
        for i in 0..bytes.len() {
            for value in (0..=255).filter(|&v| v != bytes[i]) {
                let mut damaged = bytes.clone();
                damaged[i] = value;
                let case = format!("{name} byte {i} set to {value:#04x}");
                match decode(&case, Kind::Delta, &damaged) {
                    Ok(false) => {}
                    Ok(true) => problems.push(format!("{case}: accepted")),
                    Err(e) => problems.push(e),
                }
            }
        }
    }
    report(&problems);
}

#[test]
fn relative_origins_and_targets_before_seq_0_are_invalid() {
    // Seq 0: "a" chained to seq -1.
    let chained = alice(1).v(&[0, 1 << 4 | CHAIN | TEXT, 0]).raw(b"a");
    assert_eq!(
        delta_err(&chained.compact()),
        invalid("chained origin at seq 0")
    );
    // Seq 5: "a" after seq 5 - 2 - distance; distance 3 is seq 0.
    let own = |distance| {
        let insert = alice(1).v(&[5, 1 << 4 | OWN | TEXT, 0, distance]);
        insert.raw(b"a").compact()
    };
    let delta = Delta::decode(&own(3)).unwrap();
    assert_eq!(delta.encode(), own(3));
    for distance in [4, u64::MAX] {
        assert_eq!(delta_err(&own(distance)), invalid("origin distance"));
    }
    // Seq 2: delete 1 at seq 2 - 1 - distance.
    let delete = |distance| {
        let ops = alice(1).v(&[2, 1 << 4 | DELETE_OWN, distance]);
        ops.compact()
    };
    assert!(Delta::decode(&delete(1)).is_ok());
    for distance in [2, u64::MAX] {
        assert_eq!(
            delta_err(&delete(distance)),
            invalid("delete target distance")
        );
    }
}

#[test]
fn lamport_outside_1_to_max_lamport_is_refused_while_decoding() {
    // Seq 0 predicts Lamport 1; the difference is stored.
    let insert = |difference: i64| {
        let ops = alice(1).v(&[0, 1 << 4 | TEXT]).z(&[difference]);
        ops.raw(b"a").compact()
    };
    for difference in [-2, i64::MIN] {
        assert_eq!(delta_err(&insert(difference)), invalid("insert lamport"));
    }
    // Lamport 0 decodes (`apply` refuses it, as for the envelope).
    assert!(Delta::decode(&insert(-1)).is_ok());
    // Lamport + len may reach MAX_LAMPORT, not pass it.
    let top = MAX_LAMPORT as i64 - 2;
    assert!(Delta::decode(&insert(top)).is_ok());
    let over = limit("lamport", MAX_LAMPORT, MAX_LAMPORT - 1);
    assert_eq!(delta_err(&insert(top + 1)), over);
    for difference in [i64::MAX, i64::MAX - 1] {
        assert!(matches!(
            delta_err(&insert(difference)),
            DecodeError::LimitExceeded {
                what: "lamport",
                ..
            }
        ));
    }
    // The envelope's absolute Lamport timestamp has the same bound.
    let legacy = delta_body(&[ALICE], 0, 1).v(&[0]).u8(OP_INSERT);
    let legacy = legacy.v(&[1, 1, MAX_LAMPORT]).str("a").delta();
    assert_eq!(delta_err(&legacy), over);
}

#[test]
fn insert_lengths_come_from_the_text_and_are_checked() {
    let insert = |header: u64, text: &[u8]| alice(1).v(&[0, header, 0]).raw(text).compact();
    // No text bytes: a zero-length insert.
    let err = delta_err(&insert(TEXT, b""));
    assert_eq!(err, invalid("zero-length operation"));
    // More bytes than the limit, or than the body holds (offset of the
    // op header: head 1 + replica 8 + seq gap 1).
    let huge = (MAX_INSERT_BYTES as u64 + 1) << 4 | TEXT;
    let err = delta_err(&insert(huge, b"abc"));
    assert_eq!(
        err,
        limit("insert text", huge >> 4, MAX_INSERT_BYTES as u64)
    );
    let err = delta_err(&insert(4 << 4 | TEXT, b"abc"));
    assert_eq!(err, DecodeError::Truncated { offset: 10 });
    // Not UTF-8: the offset of the bad byte (header 1, Lamport 1, "a").
    let err = delta_err(&insert(2 << 4 | TEXT, b"a\xff"));
    assert_eq!(err, DecodeError::InvalidUtf8 { offset: 13 });
    // "é" is two bytes, one character.
    let delta = Delta::decode(&insert(2 << 4 | TEXT, "é".as_bytes())).unwrap();
    assert_eq!(delta.op_count(), 1);
    // Without text, the header holds the length itself.
    let err = delta_err(&insert(MAX_SEQ << 4, b""));
    assert_eq!(err, limit("sequence number", MAX_SEQ, MAX_SEQ));
    assert_eq!(delta_err(&insert(0, b"")), invalid("zero-length operation"));
}

#[test]
fn unknown_op_headers_return_unknown_tag_error() {
    // Low bits 11 are a title (3) or a counter (7), nothing else.
    for header in [0b1011, 0b1111, 1 << 4 | 3, 1 << 40 | 7] {
        let ops = alice(1).v(&[0, header]).raw(&[0; 8]).compact();
        assert_eq!(delta_err(&ops), unknown("operation", header), "{header}");
    }
}

#[test]
fn compact_counts_indexes_and_gaps_are_checked() {
    // One replica with 2^40 ops: more than the bytes left.
    let many = Body::default().v(&[1 << 41 | 1]).raw(&[0; 16]).compact();
    assert_eq!(delta_err(&many), DecodeError::Truncated { offset: 0 });
    // 2^17 replicas.
    let table = Body::default().v(&[1 << 18]).raw(&[0; 16]).compact();
    assert_eq!(delta_err(&table), limit("delta replicas", 1 << 17, 1 << 16));
    // A table out of order.
    let unordered = Body::default()
        .v(&[2 << 1])
        .raw(&BOB.0.to_le_bytes())
        .raw(&ALICE.0.to_le_bytes())
        .v(&[0, 0]);
    assert_eq!(
        delta_err(&unordered.compact()),
        invalid("replica table not strictly ascending")
    );
    // An explicit origin naming replica 1 of a one-replica table.
    let origin = alice(1)
        .v(&[1, 1 << 4 | EXPLICIT | TEXT, 0, 1, 0])
        .raw(b"a");
    assert_eq!(delta_err(&origin.compact()), invalid("replica index"));
    // A second op whose sequence gap overflows.
    let counter = |b: Body, gap| b.v(&[gap, 7]).str("c").v(&[1, 0]);
    let gaps = counter(counter(alice(2), 0), u64::MAX).compact();
    assert_eq!(delta_err(&gaps), invalid("sequence gap"));
}

#[test]
fn non_canonical_compact_deltas_are_accepted_and_re_encode_canonically() {
    // Alice's "ab" at seq 3, its origin seq 2 written as explicit, in a
    // two-replica table where Bob has no ops.
    let body = Body::default()
        .v(&[2 << 1])
        .raw(&ALICE.0.to_le_bytes())
        .raw(&BOB.0.to_le_bytes())
        .v(&[1, 3, 2 << 4 | EXPLICIT | TEXT, 0, 0, 2])
        .raw(b"ab")
        .v(&[0]);
    let delta = Delta::decode(&body.compact()).unwrap();
    let canonical = alice(1).v(&[3, 2 << 4 | CHAIN | TEXT, 0]).raw(b"ab");
    assert_eq!(delta.encode(), canonical.compact());
}

#[test]
fn compact_deltas_of_random_edits_round_trip_and_merge() {
    // Three replicas edit and exchange deltas; each delta decodes to what
    // was encoded and re-encodes to the same bytes.
    let mut docs: Vec<_> = [ALICE, BOB, vectors::CAROL]
        .into_iter()
        .map(Doc::new)
        .collect();
    let mut rng = super::Rng(0x5eed_0c0d);
    let mut problems = Vec::new();
    for round in 0..300 {
        let (i, j) = (rng.below(3), rng.below(3));
        let before = docs[j].version();
        let len = docs[i].len();
        if len > 0 && rng.below(3) == 0 {
            let at = rng.below(len);
            let n = 1 + rng.below((len - at).min(4));
            docs[i].delete(at, n).unwrap();
        } else {
            let at = rng.below(len + 1);
            docs[i]
                .insert(at, ["x", "é😀", "yz"][rng.below(3)])
                .unwrap();
        }
        let delta = docs[i].delta_since(&before);
        let bytes = delta.encode();
        let case = format!("round {round}");
        match no_panic(&case, || Delta::decode(&bytes)) {
            Ok(Ok(d)) if d == delta && d.encode() == bytes => {}
            other => problems.push(format!("{case}: {other:?}")),
        }
        docs[j].apply_encoded(&bytes).unwrap();
    }
    report(&problems);
    let all = VersionVector::new();
    let full = docs[0].delta_since(&all).encode();
    for doc in &mut docs[1..] {
        doc.apply_encoded(&full).unwrap();
    }
    let rest: Vec<_> = docs.iter().map(|d| d.delta_since(&all).encode()).collect();
    for doc in &mut docs {
        for bytes in &rest {
            doc.apply_encoded(bytes).unwrap();
        }
    }
    assert!(docs.windows(2).all(|w| w[0].text() == w[1].text()));
}
