//! Hostile input: truncated, corrupted, forged and random bytes.
//!
//! Decoding and applying never panic: every input ends in an error, or in an
//! object that behaves like any other. A refused delta leaves the document
//! exactly as it was (same encoding). Each case runs inside
//! [`std::panic::catch_unwind`] so that a panic is reported with the input
//! that caused it.
//!
//! Bodies are built by hand with [`Body`], field by field as
//! `docs/PROTOCOL.md` lays them out.

mod compact;
mod forge;
mod mutate;

use crate::vectors::{self, Kind, ALICE, BOB, READER, VECTORS};
use forge::{
    body_of, compact_frame, crc32, delta_body, delta_err, doc_err, frame, header_len, limit,
    reframe, reseal, set_version, unknown, Body, CONTENT_EXPLICIT, KIND_DELTA, KIND_DOC,
    OP_COUNTER, OP_DELETE, OP_INSERT, OP_TITLE,
};
use quire_core::{ApplyError, DecodeError, Delta, Doc, DocOptions, OpId, ReplicaId, VersionVector};
use std::panic::{catch_unwind, AssertUnwindSafe};

// ---- running hostile cases ----

/// Runs `f`, turning a panic into an error naming `case`.
fn no_panic<T>(case: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        let msg = p.downcast_ref::<String>().map(String::as_str);
        let msg = msg.or_else(|| p.downcast_ref::<&str>().copied());
        format!("{case}: panicked: {}", msg.unwrap_or("(non-string panic)"))
    })
}

/// A decoded document must behave: its text matches its lengths, it
/// re-encodes to bytes that decode to the same document, and it can be
/// edited.
fn check_doc(case: &str, doc: &Doc) -> Result<(), String> {
    no_panic(case, || {
        let text = doc.text();
        if text.chars().count() != doc.len() || text.encode_utf16().count() != doc.len_utf16() {
            let (len, utf16) = (doc.len(), doc.len_utf16());
            return Err(format!(
                "{case}: text {text:?} but len {len}, utf16 {utf16}"
            ));
        }
        let bytes = doc.encode();
        let again = Doc::decode(&bytes, READER);
        let again = again.map_err(|e| format!("{case}: re-encoding does not decode: {e}"))?;
        if again.encode() != bytes || again.text() != text {
            return Err(format!("{case}: re-encoding is not a fixed point"));
        }
        let mut edited = doc.clone();
        let edit = edited
            .insert(doc.len(), "z")
            .and_then(|()| edited.delete(0, 1));
        edit.map_err(|e| format!("{case}: editing failed: {e}"))
    })?
}

/// A decoded delta must re-encode to an equal delta, and applying it to an
/// empty and to the edited document must either work (leaving a document
/// that behaves) or change nothing.
fn check_delta(case: &str, delta: &Delta) -> Result<(), String> {
    no_panic(case, || {
        let again = Delta::decode(&delta.encode());
        let again = again.map_err(|e| format!("{case}: re-encoding does not decode: {e}"))?;
        if &again != delta {
            return Err(format!("{case}: re-encoding changed the delta"));
        }
        for mut doc in [Doc::new(READER), vectors::edited_doc()] {
            let before = doc.encode();
            match doc.apply(delta) {
                Ok(_) => check_doc(case, &doc)?,
                Err(_) if doc.encode() == before => {}
                Err(e) => return Err(format!("{case}: refused ({e}) but changed the document")),
            }
        }
        Ok(())
    })?
}

/// Decodes `bytes` as `kind`: `Ok(true)` if accepted (and the result
/// behaves), `Ok(false)` if refused, `Err` on a panic or a misbehaving
/// result.
fn decode(case: &str, kind: Kind, bytes: &[u8]) -> Result<bool, String> {
    match kind {
        Kind::Doc => match no_panic(case, || Doc::decode(bytes, READER))? {
            Ok(doc) => check_doc(case, &doc).map(|()| true),
            Err(_) => Ok(false),
        },
        Kind::Delta => match no_panic(case, || Delta::decode(bytes))? {
            Ok(delta) => check_delta(case, &delta).map(|()| true),
            Err(_) => Ok(false),
        },
    }
}

/// Records a problem unless `bytes` is refused without a panic.
fn expect_refused(problems: &mut Vec<String>, case: &str, kind: Kind, bytes: &[u8]) {
    match decode(case, kind, bytes) {
        Ok(false) => {}
        Ok(true) => problems.push(format!("{case}: accepted")),
        Err(e) => problems.push(e),
    }
}

/// Records a problem if decoding `bytes` panics or gives an object that
/// misbehaves; returns whether it was accepted.
fn expect_no_panic(problems: &mut Vec<String>, case: &str, kind: Kind, bytes: &[u8]) -> bool {
    decode(case, kind, bytes).unwrap_or_else(|e| {
        problems.push(e);
        false
    })
}

/// Fails listing the problems found.
fn report(problems: &[String]) {
    let first: Vec<&str> = problems.iter().take(10).map(String::as_str).collect();
    assert!(
        problems.is_empty(),
        "{} problem(s), the first ones:\n{}",
        problems.len(),
        first.join("\n")
    );
}

/// A small deterministic PRNG (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn the_tests_crc32_is_crc32_iso_hdlc() {
    // The standard check value, and the stored checksum of a vector.
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    let bytes = vectors::stored("empty_doc.bin");
    assert_eq!(frame(KIND_DOC, body_of(&bytes)), bytes);
}

// ---- hostile lengths and varints ----

#[test]
fn count_claiming_2_pow_60_elements_returns_error_without_allocating() {
    let huge = 1u64 << 60;
    let pad = [0u8; 16];
    // The replica tables have limits of their own.
    let doc = Body::default().v(&[huge]).raw(&pad).doc();
    assert_eq!(doc_err(&doc), limit("replicas", huge, 1 << 20));
    let delta = Body::default().v(&[huge]).raw(&pad).delta();
    assert_eq!(delta_err(&delta), limit("delta replicas", huge, 1 << 16));
    // Other counts cannot exceed the bytes left. No replicas or title,
    // then 2^60 counters:
    let counters = Body::default().v(&[0, 0, huge]).raw(&pad).doc();
    assert_eq!(doc_err(&counters), DecodeError::Truncated { offset: 2 });
    // No replicas, title or counters, then 2^60 spans:
    let spans = Body::default().v(&[0, 0, 0, huge]).raw(&pad).doc();
    assert_eq!(doc_err(&spans), DecodeError::Truncated { offset: 3 });
    // One replica with one op, no title or counters, 2^60 history entries:
    let history = Body::default()
        .replicas(&[ALICE])
        .v(&[1, 0, 0, huge])
        .raw(&pad)
        .doc();
    assert_eq!(doc_err(&history), DecodeError::Truncated { offset: 12 });
    // A block of 2^60 operations:
    let ops = delta_body(&[ALICE], 0, huge).raw(&pad).delta();
    assert_eq!(delta_err(&ops), DecodeError::Truncated { offset: 11 });
    // A title of 2^60 bytes:
    let title = delta_body(&[ALICE], 0, 1)
        .v(&[0])
        .u8(OP_TITLE)
        .v(&[1, 0, huge])
        .raw(&pad)
        .delta();
    assert_eq!(delta_err(&title), limit("title", huge, 64 * 1024));
    // 2^60 entries of a counter (at most one per replica):
    let entries = Body::default()
        .v(&[0, 0, 1])
        .str("c")
        .v(&[huge])
        .raw(&pad)
        .doc();
    assert_eq!(doc_err(&entries), limit("counter entries", huge, 0));
}

#[test]
fn overlong_varints_in_a_body_are_rejected_as_non_canonical() {
    // An empty document whose replica count 0 takes two bytes.
    let doc = Body::default().raw(&[0x80, 0x00]).v(&[0, 0, 0, 0, 0]).doc();
    assert_eq!(doc_err(&doc), DecodeError::NonCanonicalVarint { offset: 0 });
    // An insert whose Lamport timestamp 1 takes three bytes.
    let insert = delta_body(&[ALICE], 0, 1).v(&[0]).u8(OP_INSERT).v(&[1, 1]);
    let delta = insert.raw(&[0x81, 0x80, 0x00]).str("a").delta();
    assert_eq!(
        delta_err(&delta),
        DecodeError::NonCanonicalVarint { offset: 16 }
    );
}

#[test]
fn eleven_byte_varint_in_a_body_is_rejected_as_overflow() {
    let mut long = [0x80u8; 11];
    long[10] = 0x01;
    // A title whose wall clock takes 11 bytes.
    let title = delta_body(&[ALICE], 0, 1).v(&[0]).u8(OP_TITLE).raw(&long);
    let delta = title.v(&[0]).str("t").delta();
    assert_eq!(
        delta_err(&delta),
        DecodeError::VarintOverflow { offset: 14 }
    );
}

#[test]
fn lz4_text_of_another_size_than_declared_returns_error_not_panic() {
    // Two LZ4 blocks: 5 literals "hello"; and 1 literal "a", a match of 8
    // at offset 1, then 5 literals "bbbbb" (14 bytes).
    let blocks: [(&[u8], u64); 2] = [(b"\x50hello", 5), (b"\x14a\x01\x00\x50bbbbb", 14)];
    for (packed, real) in blocks {
        for size in 0..20 {
            // An empty document (no replicas, title, counters or spans)
            // whose text section claims `size` bytes.
            let doc = Body::default()
                .v(&[0, 0, 0, 0, 1, size, packed.len() as u64])
                .raw(packed)
                .doc();
            let result = no_panic(&format!("size {size}"), || {
                Doc::decode(&doc, READER).map(|d| d.text())
            });
            let what = match size.cmp(&real) {
                std::cmp::Ordering::Less => "compressed text",
                std::cmp::Ordering::Greater => "compressed text size",
                // The right size: then the text is longer than the spans.
                std::cmp::Ordering::Equal => "text length does not match the visible spans",
            };
            let expected = Ok(Err(DecodeError::Invalid { what }));
            assert_eq!(
                result.map(|r| r.map(drop)),
                expected,
                "{packed:02x?} as {size} bytes"
            );
        }
    }
}

// ---- unknown tags, versions and kinds ----

#[test]
fn unknown_operation_tags_return_unknown_tag_error() {
    for tag in [0u8, 5, 0x7f, 0xff] {
        let delta = delta_body(&[ALICE], 0, 1)
            .v(&[0])
            .u8(tag)
            .raw(&[0; 8])
            .delta();
        assert_eq!(
            delta_err(&delta),
            unknown("operation", u64::from(tag)),
            "tag {tag}"
        );
    }
}

#[test]
fn reserved_origin_kind_returns_unknown_tag_error() {
    // Insert header 0b111: content, origin kind 3.
    let delta = delta_body(&[ALICE], 0, 1)
        .v(&[0])
        .u8(OP_INSERT)
        .v(&[7, 1, 1])
        .str("a")
        .delta();
    // The tag reported is the masked header bits (3 << 1), not 3.
    assert_eq!(delta_err(&delta), unknown("origin kind", 6));
}

#[test]
fn unknown_history_kind_and_text_mode_return_unknown_tag_error() {
    // Alice's one operation has history kind 3.
    let doc = Body::default()
        .replicas(&[ALICE])
        .v(&[1, 0, 0, 1, 0, 1 << 4 | 3])
        .raw(&[0; 4])
        .doc();
    assert_eq!(doc_err(&doc), unknown("history operation", 3));
    // A title record of length 2 reports the title kind.
    let title = Body::default()
        .replicas(&[ALICE])
        .v(&[2, 0, 0, 1, 0, 2 << 4 | 1]);
    assert_eq!(
        doc_err(&title.raw(&[0; 4]).doc()),
        unknown("history operation", 1)
    );
    // An empty document with text mode 3.
    let doc = Body::default().v(&[0, 0, 0, 0, 3, 0]).doc();
    assert_eq!(doc_err(&doc), unknown("text mode", 3));
}

#[test]
fn future_format_version_is_rejected_naming_both_versions() {
    for v in VECTORS {
        let mut bytes = vectors::stored(v.name);
        set_version(&mut bytes, 2);
        let err = match v.kind {
            Kind::Doc => doc_err(&bytes),
            Kind::Delta => delta_err(&bytes),
        };
        assert_eq!(
            err,
            DecodeError::UnsupportedVersion {
                found: 2,
                supported: 1
            }
        );
        let msg = err.to_string();
        assert!(
            msg.contains("version 2") && msg.contains("version 1"),
            "{msg}"
        );
    }
}

#[test]
fn document_bytes_given_to_the_delta_decoder_are_rejected_as_wrong_kind() {
    let doc = vectors::stored("edited_doc.bin");
    assert_eq!(
        delta_err(&doc),
        DecodeError::WrongKind {
            found: 1,
            expected: 2
        }
    );
    let err = Doc::new(READER).apply_encoded(&doc).unwrap_err();
    assert_eq!(
        err,
        ApplyError::Decode(DecodeError::WrongKind {
            found: 1,
            expected: 2
        })
    );
    let delta = vectors::stored("edited_delta.bin");
    assert_eq!(
        doc_err(&delta),
        DecodeError::WrongKind {
            found: 2,
            expected: 1
        }
    );
}

#[test]
fn bad_magic_and_a_corrupted_checksum_are_reported() {
    let mut bytes = vectors::stored("empty_doc.bin");
    bytes[0] = b'X';
    assert_eq!(doc_err(&bytes), DecodeError::BadMagic);
    let mut bytes = vectors::stored("empty_doc.bin");
    bytes[7] = 1;
    let computed = crc32(&bytes[..12]);
    assert_eq!(
        doc_err(&bytes),
        DecodeError::ChecksumMismatch {
            stored: 0x8134_efda,
            computed
        }
    );
}

/// Replaces the one occurrence of `from` in `bytes` with `to`.
fn replace_once(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at: Vec<usize> = (0..bytes.len())
        .filter(|&i| bytes[i..].starts_with(from))
        .collect();
    assert_eq!(at.len(), 1, "{from:02x?} occurs {} times", at.len());
    [&bytes[..at[0]], to, &bytes[at[0] + from.len()..]].concat()
}

#[test]
fn non_canonical_documents_are_accepted_and_re_encode_canonically() {
    let stored = vectors::stored("edited_doc.bin");
    // Alice's title record with header bits 2 and 3 set (0x1d for 0x11).
    let body = replace_once(body_of(&stored), &[2, 0, 0x11, 0x80], &[2, 0, 0x1d, 0x80]);
    // "hé" split into "h" and a mode-0 span "é": 6 spans instead of 5.
    let body = replace_once(
        &body,
        &[5, 0x22, 0, 2, 2, 0x32],
        &[6, 0x12, 0, 2, 2, 0x10, 0x32],
    );
    let doc = Doc::decode(&frame(KIND_DOC, &body), READER).unwrap();
    assert_eq!(doc.text(), "héllo 😀");
    assert_eq!(doc.encode(), stored);
}

// ---- forged deltas ----

/// Alice typed "ab" (seq 0 and 1, Lamport 1 and 2) and deleted "b" (seq 2).
fn alice_ab_minus_b() -> Doc {
    let mut doc = Doc::new(ALICE);
    doc.insert(0, "ab").unwrap();
    doc.delete(1, 1).unwrap();
    doc
}

/// Applies `bytes` to `doc`, which must refuse it with `expected` and stay
/// exactly as it was.
fn assert_refused_unchanged(doc: &mut Doc, bytes: &[u8], expected: ApplyError) {
    let before = doc.encode();
    let pending = doc.pending();
    assert_eq!(doc.apply_encoded(bytes).unwrap_err(), expected);
    assert_eq!(doc.encode(), before, "a refused delta changed the document");
    assert_eq!(doc.pending(), pending);
}

#[test]
fn insert_whose_origin_is_a_delete_is_refused_and_leaves_the_document_unchanged() {
    let mut doc = alice_ab_minus_b();
    // Bob's seq 0: "x" (Lamport 10) after Alice's seq 2, her delete.
    let insert = delta_body(&[ALICE, BOB], 1, 1).v(&[0]).u8(OP_INSERT);
    let forged = insert.v(&[CONTENT_EXPLICIT, 1, 10, 0, 2]).str("x").delta();
    let expected = ApplyError::NotACharacter {
        id: OpId::new(ALICE, 2),
    };
    assert_refused_unchanged(&mut doc, &forged, expected);
}

#[test]
fn delete_whose_target_is_a_delete_is_refused_and_leaves_the_document_unchanged() {
    let mut doc = alice_ab_minus_b();
    // Bob's seq 0 deletes one character: Alice's seq 2, her delete.
    let forged = delta_body(&[ALICE, BOB], 1, 1)
        .v(&[0])
        .u8(OP_DELETE)
        .v(&[1 << 1, 0, 2])
        .delta();
    let expected = ApplyError::NotACharacter {
        id: OpId::new(ALICE, 2),
    };
    assert_refused_unchanged(&mut doc, &forged, expected);
}

#[test]
fn insert_whose_lamport_is_not_above_its_origins_is_refused() {
    let mut doc = alice_ab_minus_b();
    // Bob's "x" after "b" (Lamport 2) with Lamport 2, then 1.
    for lamport in [2, 1] {
        let insert = delta_body(&[ALICE, BOB], 1, 1).v(&[0]).u8(OP_INSERT);
        let forged = insert
            .v(&[CONTENT_EXPLICIT, 1, lamport, 0, 1])
            .str("x")
            .delta();
        let expected = ApplyError::BadLamport {
            id: OpId::new(BOB, 0),
            lamport,
        };
        assert_refused_unchanged(&mut doc, &forged, expected);
    }
}

#[test]
fn too_many_operations_waiting_for_dependencies_are_refused_and_leave_the_document_unchanged() {
    // Bob's increments at seq 1 to 4: none can apply before seq 0.
    let mut bob = Doc::new(BOB);
    for _ in 0..5 {
        bob.increment("n", 1).unwrap();
    }
    let later = bob.delta_since(&[(BOB, 1)].into_iter().collect());
    let mut options = DocOptions::default();
    options.max_pending = 3;
    let mut doc = Doc::with_options(READER, options.clone());
    doc.insert(0, "mine").unwrap();
    assert_refused_unchanged(
        &mut doc,
        &later.encode(),
        ApplyError::TooManyPending { limit: 3 },
    );
    options.max_pending = 4;
    let mut doc = Doc::with_options(READER, options);
    assert_eq!(doc.apply(&later).unwrap().pending, 4);
}

#[test]
fn operations_with_missing_dependencies_wait_and_are_integrated_when_they_arrive() {
    // An insert whose origin is missing, and a counter after a gap.
    let mut bob = Doc::new(BOB);
    bob.insert(0, "hello").unwrap();
    let first = bob.delta_since(&VersionVector::new());
    bob.insert(5, " world").unwrap();
    bob.increment("n", 2).unwrap();
    let rest = bob.delta_since(&[(BOB, 5)].into_iter().collect());

    let mut doc = Doc::new(READER);
    let outcome = doc.apply(&rest).unwrap();
    assert_eq!((outcome.applied, outcome.pending, doc.pending()), (0, 2, 2));
    assert_eq!(doc.text(), "");
    assert!(doc.version().is_empty());

    let outcome = doc.apply(&first).unwrap();
    assert_eq!((outcome.applied, outcome.pending, doc.pending()), (3, 0, 0));
    assert_eq!(doc.text(), "hello world");
    assert_eq!(doc.counter("n"), 2);
    assert_eq!(doc.encode(), bob.encode());
}

#[test]
fn applying_the_same_delta_twice_is_a_no_op() {
    for v in VECTORS.iter().filter(|v| v.kind == Kind::Delta) {
        let bytes = vectors::stored(v.name);
        let mut doc = Doc::new(READER);
        doc.apply_encoded(&bytes).unwrap();
        let once = doc.encode();
        let outcome = doc.apply_encoded(&bytes).unwrap();
        assert_eq!((outcome.applied, outcome.pending), (0, 0), "{}", v.name);
        assert_eq!(doc.encode(), once, "{}", v.name);
    }
}

// ---- structurally impossible documents and deltas ----

#[test]
fn delta_whose_sequence_gap_overflows_returns_error_not_panic() {
    // Alice's counter at seq 0, then one at seq 1 + (2^64 - 1).
    let ops = delta_body(&[ALICE], 0, 2)
        .v(&[0])
        .u8(OP_COUNTER)
        .str("c")
        .v(&[1, 0]);
    let delta = ops
        .v(&[u64::MAX])
        .u8(OP_COUNTER)
        .str("c")
        .v(&[2, 0])
        .delta();
    let result = no_panic("delta seq gap 2^64 - 1", || Delta::decode(&delta));
    assert!(matches!(result, Ok(Err(_))), "{result:?}");
}

#[test]
fn document_whose_history_sequence_gap_overflows_returns_error_not_panic() {
    // Alice (next 1, no title or counters) has one history op: a title
    // at seq 2^64 - 1. Then no spans and an empty raw text.
    let alice = Body::default().replicas(&[ALICE]).v(&[1, 0, 0]);
    let history = alice.v(&[1, u64::MAX, 1 << 4 | 1, 0, 0]).str("t");
    let doc = history.v(&[0, 0, 0]).doc();
    let result = no_panic("history seq gap 2^64 - 1", || {
        Doc::decode(&doc, READER).map(|d| d.text())
    });
    assert!(matches!(result, Ok(Err(_))), "{result:?}");
}

#[test]
fn document_whose_delete_targets_no_character_is_rejected() {
    // Alice (next 3, no title or counters) typed "a" (seq 0) and deleted
    // it (seq 1); her seq 2 deletes the target after: seq 1, which is the
    // first delete, not a character. One deleted span, seq 0, Lamport 1.
    let alice = Body::default().replicas(&[ALICE]).v(&[3, 0, 0]);
    let history = alice.v(&[2, 1, 1 << 4 | 1 << 3]).z(&[0]);
    let history = history.v(&[0, 1 << 4 | 1 << 3]).z(&[1]);
    let span = history.v(&[1, 1 << 4 | 1 << 1 | 1, 0]).z(&[0, 1]);
    let doc = span.v(&[0]).str("").doc();
    let want = DecodeError::Invalid {
        what: "delete target",
    };
    assert_eq!(doc_err(&doc), want);
}

#[test]
fn document_whose_text_is_shorter_than_its_visible_spans_is_rejected() {
    for text in ["a", "é"] {
        // Alice (next 2, no title, counters or history) typed two
        // characters: one visible span of 2 chained to the start, seq 0,
        // Lamport 1. The text section holds one character.
        let alice = Body::default().replicas(&[ALICE]).v(&[2, 0, 0, 0]);
        let span = alice.v(&[1, 2 << 4 | 1 << 1, 0]).z(&[0, 1]);
        let doc = span.v(&[0]).str(text).doc();
        let result = no_panic(text, || {
            Doc::decode(&doc, READER).map(|d| (d.len(), d.text()))
        });
        let refused = matches!(result, Ok(Err(DecodeError::Invalid { .. })));
        assert!(refused, "text {text:?}: {result:?}");
    }
}

#[test]
fn document_whose_state_contradicts_its_history_is_rejected() {
    // Each case holds a state no history reaches: a replica that merges it
    // (receiving its history as operations) ends at the same version with
    // a different state, and the two never converge.
    let span_a = |b: Body| b.v(&[1, 1 << 4 | 1 << 1, 0]).z(&[0, 1]).v(&[0]).str("a");
    let alice = || Body::default().replicas(&[ALICE]);
    let cases = [
        // Alice typed "ab" and deleted "b" (seq 2), but "b" is visible.
        (
            "a visible character the history deletes",
            alice()
                .v(&[3, 0, 0, 1, 2, 1 << 4 | 1 << 3])
                .z(&[1])
                .v(&[1, 2 << 4 | 1 << 1, 0])
                .z(&[0, 1])
                .v(&[0])
                .str("ab"),
        ),
        // Alice typed "a" and nothing else, yet a counter is at 5 ...
        (
            "a counter no operation sets",
            span_a(alice().v(&[1, 0, 1]).str("c").v(&[1, 0, 5, 0, 0])),
        ),
        // ... or the title is set.
        (
            "a title no operation sets",
            span_a(alice().v(&[1, 1, 5, 0]).str("T").v(&[0, 0])),
        ),
    ];
    report(&contradicting_states(&cases));
}

/// `Doc::decode` checks that the spans are in the order RGA integration of
/// their origins and timestamps gives.
#[test]
fn document_whose_spans_are_out_of_rga_order_is_rejected() {
    let cases = [
        // Alice's "a" and Bob's "b", both at the start with Lamport 1, in
        // the wrong order (RGA puts the higher replica id first: "ba").
        // No title, counters or history; Alice's span chained to the
        // start, Bob's with an explicit origin (the start).
        (
            "spans out of RGA order",
            Body::default()
                .replicas(&[ALICE, BOB])
                .v(&[1, 1, 0, 0, 0, 0, 2, 1 << 4 | 1 << 1, 0])
                .z(&[0, 1])
                .v(&[1 << 4 | 3 << 1, 1])
                .z(&[0, 1])
                .v(&[0, 0])
                .str("ab"),
        ),
    ];
    report(&contradicting_states(&cases));
}

/// Decodes each case and records the ones accepted, with what a peer that
/// merges them ends up with.
fn contradicting_states(cases: &[(&str, Body)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (case, body) in cases {
        if let Ok(doc) = Doc::decode(&body.doc(), READER) {
            let mut peer = Doc::new(ReplicaId(7));
            peer.merge(&doc).unwrap();
            let (mine, theirs) = (doc.snapshot(), peer.snapshot());
            problems.push(format!(
                "{case}: accepted as {mine:?}; a peer that merges it has {theirs:?}"
            ));
        }
    }
    problems
}
