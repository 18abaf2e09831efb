//! Hostile input: truncated, corrupted, forged and random bytes.
//!
//! Decoding and applying never panic: every input ends in an error, or in an
//! object that behaves like any other. A refused delta leaves the document
//! exactly as it was (same encoding). Each case runs inside
//! [`std::panic::catch_unwind`] so that one panic is reported with the input
//! that caused it instead of aborting the whole test.

use crate::vectors::{self, Kind, ALICE, BOB, READER, VECTORS};
use quire_core::{ApplyError, DecodeError, Delta, Doc, DocOptions, OpId, ReplicaId, VersionVector};
use std::panic::{catch_unwind, AssertUnwindSafe};

// ---- building frames by hand ----

/// Magic, version, kind.
const HEADER_LEN: usize = 6;
const KIND_DOC: u8 = 1;
const KIND_DELTA: u8 = 2;
const OP_INSERT: u8 = 1;
const OP_DELETE: u8 = 2;

/// CRC-32/ISO-HDLC (reflected, polynomial 0xedb88320), bit by bit.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A complete frame: header, `body`, checksum.
fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = b"QUIR".to_vec();
    out.extend([1, kind]);
    out.extend_from_slice(body);
    out.extend(crc32(&out).to_le_bytes());
    out
}

/// The body of a frame (between header and checksum).
fn body_of(frame: &[u8]) -> &[u8] {
    &frame[HEADER_LEN..frame.len() - 4]
}

/// Rewrites the checksum of a tampered frame.
fn reseal(frame: &mut [u8]) {
    let split = frame.len() - 4;
    let crc = crc32(&frame[..split]);
    frame[split..].copy_from_slice(&crc.to_le_bytes());
}

/// Appends the primitives of the format to a body.
#[derive(Default)]
struct Body(Vec<u8>);

impl Body {
    fn varint(mut self, mut v: u64) -> Self {
        while v >= 0x80 {
            self.0.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
        self
    }

    fn zigzag(self, v: i64) -> Self {
        self.varint(((v << 1) ^ (v >> 63)) as u64)
    }

    fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }

    fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }

    fn str(self, s: &str) -> Self {
        self.varint(s.len() as u64).raw(s.as_bytes())
    }

    fn replica(self, r: ReplicaId) -> Self {
        self.raw(&r.0.to_le_bytes())
    }

    fn doc(&self) -> Vec<u8> {
        frame(KIND_DOC, &self.0)
    }

    fn delta(&self) -> Vec<u8> {
        frame(KIND_DELTA, &self.0)
    }
}

/// A delta body with one block of `ops` ops by `table[block]`.
fn delta_body(table: &[ReplicaId], block: u64, ops: u64) -> Body {
    let mut b = Body::default().varint(table.len() as u64);
    for &r in table {
        b = b.replica(r);
    }
    b.varint(1).varint(block).varint(ops)
}

// ---- running hostile cases ----

/// Runs `f`, turning a panic into an error naming `case`.
fn no_panic<T>(case: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        let msg = p
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| p.downcast_ref::<&str>().copied())
            .unwrap_or("(non-string panic)");
        format!("{case}: panicked: {msg}")
    })
}

/// A decoded document must behave: its text matches its lengths, it
/// re-encodes to bytes that decode to the same document, and it can be
/// edited.
fn check_doc(case: &str, doc: &Doc) -> Result<(), String> {
    no_panic(case, || {
        let text = doc.text();
        if text.chars().count() != doc.len() || text.encode_utf16().count() != doc.len_utf16() {
            return Err(format!("{case}: text {text:?} does not match len {} / utf16 {}", doc.len(), doc.len_utf16()));
        }
        let bytes = doc.encode();
        let again = Doc::decode(&bytes, READER).map_err(|e| format!("{case}: re-encoding does not decode: {e}"))?;
        if again.encode() != bytes || again.text() != text {
            return Err(format!("{case}: re-encoding is not a fixed point"));
        }
        let mut edited = doc.clone();
        edited.insert(doc.len(), "z").map_err(|e| format!("{case}: insert failed: {e}"))?;
        edited.delete(0, 1).map_err(|e| format!("{case}: delete failed: {e}"))?;
        Ok(())
    })?
}

/// A decoded delta must re-encode to a decodable equal delta, and applying
/// it to an empty and to the edited document must not panic (errors are
/// fine; a refused delta changes nothing).
fn check_delta(case: &str, delta: &Delta) -> Result<(), String> {
    no_panic(case, || {
        let again = Delta::decode(&delta.encode()).map_err(|e| format!("{case}: re-encoding does not decode: {e}"))?;
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

/// Fails listing every problem found.
fn report(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{} problem(s), the first ones:\n{}",
        problems.len(),
        problems.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
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

// ---- truncation, corruption, random bytes ----

#[test]
fn every_prefix_of_every_golden_vector_returns_error_not_panic() {
    let mut problems = Vec::new();
    for v in VECTORS {
        let bytes = vectors::stored(v.name);
        for cut in 0..bytes.len() {
            match decode(&format!("{} cut at {cut}", v.name), v.kind, &bytes[..cut]) {
                Ok(false) => {}
                Ok(true) => problems.push(format!("{} cut at {cut}: accepted", v.name)),
                Err(e) => problems.push(e),
            }
        }
    }
    report(&problems);
}

#[test]
fn every_prefix_of_every_golden_body_with_a_valid_checksum_returns_error_not_panic() {
    let mut problems = Vec::new();
    for v in VECTORS {
        let bytes = vectors::stored(v.name);
        let kind = bytes[5];
        let body = body_of(&bytes);
        for cut in 0..body.len() {
            let case = format!("{} body cut at {cut}", v.name);
            match decode(&case, v.kind, &frame(kind, &body[..cut])) {
                Ok(false) => {}
                Ok(true) => problems.push(format!("{case}: accepted")),
                Err(e) => problems.push(e),
            }
        }
    }
    report(&problems);
}

#[test]
fn every_single_bit_flip_of_every_golden_vector_returns_error_not_panic() {
    let mut problems = Vec::new();
    for v in VECTORS {
        let bytes = vectors::stored(v.name);
        for bit in 0..bytes.len() * 8 {
            let mut damaged = bytes.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            // CRC-32 detects every single-bit error; an accepted flip must
            // at least be a valid object (checked by `decode`).
            if let Err(e) = decode(&format!("{} bit {bit} flipped", v.name), v.kind, &damaged) {
                problems.push(e);
            }
            if v.kind == Kind::Doc && Doc::decode(&damaged, READER).is_ok() {
                problems.push(format!("{} bit {bit} flipped: accepted", v.name));
            }
        }
    }
    report(&problems);
}

#[test]
fn every_single_bit_flip_of_every_golden_body_with_a_valid_checksum_returns_error_or_a_valid_object() {
    let mut problems = Vec::new();
    let mut accepted = 0;
    for v in VECTORS {
        let bytes = vectors::stored(v.name);
        for bit in HEADER_LEN * 8..(bytes.len() - 4) * 8 {
            let mut damaged = bytes.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            reseal(&mut damaged);
            match decode(&format!("{} bit {bit} flipped and resealed", v.name), v.kind, &damaged) {
                Ok(ok) => accepted += usize::from(ok),
                Err(e) => problems.push(e),
            }
        }
    }
    report(&problems);
    // Flips of a text byte, a counter value or a timestamp are valid.
    assert!(accepted > 0);
}

#[test]
fn random_bytes_return_error_not_panic() {
    let mut rng = Rng(0x5eed_0001);
    let mut problems = Vec::new();
    for i in 0..20_000 {
        let len = rng.below(64);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        for kind in [Kind::Doc, Kind::Delta] {
            match decode(&format!("random input {i} {bytes:02x?}"), kind, &bytes) {
                Ok(false) => {}
                Ok(true) => problems.push(format!("random input {i} {bytes:02x?}: accepted")),
                Err(e) => problems.push(e),
            }
        }
    }
    report(&problems);
}

#[test]
fn random_bodies_in_a_valid_frame_return_error_or_a_valid_object_not_panic() {
    let mut rng = Rng(0x5eed_0002);
    let mut problems = Vec::new();
    for i in 0..20_000 {
        let len = rng.below(48);
        let body: Vec<u8> = (0..len).map(|_| (rng.next() % 24) as u8).collect();
        for (kind, k) in [(Kind::Doc, KIND_DOC), (Kind::Delta, KIND_DELTA)] {
            if let Err(e) = decode(&format!("random {kind:?} body {i} {body:02x?}"), kind, &frame(k, &body)) {
                problems.push(e);
            }
        }
    }
    report(&problems);
}

#[test]
fn random_mutations_of_golden_bodies_return_error_or_a_valid_object_not_panic() {
    let mut rng = Rng(0x5eed_0003);
    let mut problems = Vec::new();
    for v in VECTORS {
        let bytes = vectors::stored(v.name);
        let kind = bytes[5];
        for i in 0..5_000 {
            let mut body = body_of(&bytes).to_vec();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(body.len() + 1);
                match rng.below(4) {
                    0 if at < body.len() => body[at] = rng.next() as u8,
                    1 if at < body.len() => body[at] = body[at].wrapping_add(1 + rng.below(3) as u8),
                    2 if at < body.len() => drop(body.remove(at)),
                    _ => body.insert(at, rng.next() as u8 & 0x7f),
                }
            }
            let case = format!("{} mutation {i}: body {body:02x?}", v.name);
            if let Err(e) = decode(&case, v.kind, &frame(kind, &body)) {
                problems.push(e);
            }
        }
    }
    report(&problems);
}

// ---- hostile lengths and varints ----

#[test]
fn count_claiming_2_pow_60_elements_returns_error_without_allocating() {
    let huge = 1u64 << 60;
    // The replica tables have limits of their own.
    assert_eq!(
        Doc::decode(&Body::default().varint(huge).raw(&[0; 16]).doc(), READER).unwrap_err(),
        DecodeError::LimitExceeded { what: "replicas", value: huge, limit: 1 << 20 }
    );
    assert_eq!(
        Delta::decode(&Body::default().varint(huge).raw(&[0; 16]).delta()).unwrap_err(),
        DecodeError::LimitExceeded { what: "delta replicas", value: huge, limit: 1 << 16 }
    );
    // Other counts can never exceed the bytes left: no replicas, no title,
    // then 2^60 counters.
    let counters = Body::default().varint(0).varint(0).varint(huge).raw(&[0; 16]);
    assert_eq!(Doc::decode(&counters.doc(), READER).unwrap_err(), DecodeError::Truncated { offset: 2 });
    // No replicas, title, counters; then 2^60 spans.
    let spans = Body::default().varint(0).varint(0).varint(0).varint(huge).raw(&[0; 16]);
    assert_eq!(Doc::decode(&spans.doc(), READER).unwrap_err(), DecodeError::Truncated { offset: 3 });
    // One replica with one op; then 2^60 history entries.
    let history = Body::default().varint(1).replica(ALICE).varint(1).varint(0).varint(0).varint(huge);
    assert_eq!(
        Doc::decode(&history.raw(&[0; 16]).doc(), READER).unwrap_err(),
        DecodeError::Truncated { offset: 12 }
    );
    // A block of 2^60 operations.
    let ops = delta_body(&[ALICE], 0, huge).raw(&[0; 16]);
    assert_eq!(Delta::decode(&ops.delta()).unwrap_err(), DecodeError::Truncated { offset: 11 });
    // A string of 2^60 bytes.
    let title = delta_body(&[ALICE], 0, 1).varint(0).u8(3).varint(1).varint(0).varint(huge).raw(&[0; 16]);
    assert_eq!(
        Delta::decode(&title.delta()).unwrap_err(),
        DecodeError::LimitExceeded { what: "title", value: huge, limit: 64 * 1024 }
    );
    // 2^60 counter entries (limited by the replica count).
    let entries = Body::default().varint(0).varint(0).varint(1).str("c").varint(huge);
    assert_eq!(
        Doc::decode(&entries.doc(), READER).unwrap_err(),
        DecodeError::LimitExceeded { what: "counter entries", value: huge, limit: 0 }
    );
}

#[test]
fn overlong_varints_in_a_body_are_rejected_as_non_canonical() {
    // The replica count 0 written as two bytes.
    let doc = Body::default().raw(&[0x80, 0x00]).raw(&[0; 5]).doc();
    assert_eq!(Doc::decode(&doc, READER).unwrap_err(), DecodeError::NonCanonicalVarint { offset: 0 });
    // A delta op's lamport 1 written as 0x81 0x80 0x00.
    let delta = delta_body(&[ALICE], 0, 1)
        .varint(0)
        .u8(OP_INSERT)
        .varint(1)
        .varint(1)
        .raw(&[0x81, 0x80, 0x00])
        .str("a")
        .delta();
    assert_eq!(Delta::decode(&delta).unwrap_err(), DecodeError::NonCanonicalVarint { offset: 15 });
}

#[test]
fn eleven_byte_varint_in_a_body_is_rejected_as_overflow() {
    let mut long = [0x80u8; 11];
    long[10] = 0x01;
    let delta = delta_body(&[ALICE], 0, 1).varint(0).u8(3).raw(&long).varint(0).str("t").delta();
    assert_eq!(Delta::decode(&delta).unwrap_err(), DecodeError::VarintOverflow { offset: 13 });
}

// ---- unknown tags, versions and kinds ----

#[test]
fn unknown_operation_tags_return_unknown_tag_error() {
    for tag in [0u8, 5, 0x7f, 0xff] {
        let delta = delta_body(&[ALICE], 0, 1).varint(0).u8(tag).raw(&[0; 8]).delta();
        assert_eq!(
            Delta::decode(&delta).unwrap_err(),
            DecodeError::UnknownTag { what: "operation", tag: u64::from(tag) },
            "tag {tag}"
        );
    }
}

#[test]
fn reserved_origin_kind_returns_unknown_tag_error() {
    // Insert header 0b111: content, origin kind 3.
    let delta = delta_body(&[ALICE], 0, 1).varint(0).u8(OP_INSERT).varint(7).varint(1).varint(1).str("a").delta();
    // The tag reported is the masked header bits (3 << 1), not 3.
    assert_eq!(Delta::decode(&delta).unwrap_err(), DecodeError::UnknownTag { what: "origin kind", tag: 6 });
}

#[test]
fn unknown_history_kind_and_text_mode_return_unknown_tag_error() {
    // One replica with one op whose history header has kind 3.
    let history = Body::default().varint(1).replica(ALICE).varint(1).varint(0).varint(0).varint(1);
    let doc = history.varint(0).varint(1 << 4 | 3).raw(&[0; 4]).doc();
    assert_eq!(
        Doc::decode(&doc, READER).unwrap_err(),
        DecodeError::UnknownTag { what: "history operation", tag: 3 }
    );
    // An empty document with text mode 2.
    let doc = Body::default().raw(&[0, 0, 0, 0]).varint(2).varint(0).doc();
    assert_eq!(Doc::decode(&doc, READER).unwrap_err(), DecodeError::UnknownTag { what: "text mode", tag: 2 });
}

#[test]
fn future_format_version_is_rejected_naming_both_versions() {
    for v in VECTORS {
        let mut bytes = vectors::stored(v.name);
        bytes[4] = 2;
        reseal(&mut bytes);
        let err = match v.kind {
            Kind::Doc => Doc::decode(&bytes, READER).unwrap_err(),
            Kind::Delta => Delta::decode(&bytes).unwrap_err(),
        };
        assert_eq!(err, DecodeError::UnsupportedVersion { found: 2, supported: 1 });
        let msg = err.to_string();
        assert!(msg.contains("version 2") && msg.contains("version 1"), "{msg}");
    }
}

#[test]
fn document_bytes_given_to_the_delta_decoder_are_rejected_as_wrong_kind() {
    let doc = vectors::stored("edited_doc.bin");
    assert_eq!(Delta::decode(&doc).unwrap_err(), DecodeError::WrongKind { found: 1, expected: 2 });
    let delta = vectors::stored("edited_delta.bin");
    assert_eq!(Doc::decode(&delta, READER).unwrap_err(), DecodeError::WrongKind { found: 2, expected: 1 });
    assert!(matches!(
        Doc::new(READER).apply_encoded(&doc),
        Err(ApplyError::Decode(DecodeError::WrongKind { found: 1, expected: 2 }))
    ));
}

#[test]
fn bad_magic_and_a_corrupted_checksum_are_reported() {
    let mut bytes = vectors::stored("empty_doc.bin");
    bytes[0] = b'X';
    assert_eq!(Doc::decode(&bytes, READER).unwrap_err(), DecodeError::BadMagic);
    let mut bytes = vectors::stored("empty_doc.bin");
    bytes[7] = 1;
    assert!(matches!(Doc::decode(&bytes, READER), Err(DecodeError::ChecksumMismatch { .. })));
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
    // Bob inserts "x" after Alice's seq 2, which is her delete.
    let forged = delta_body(&[ALICE, BOB], 1, 1)
        .varint(0)
        .u8(OP_INSERT)
        .varint(1 | 2 << 1) // content, explicit origin
        .varint(1)
        .varint(10)
        .varint(0)
        .varint(2)
        .str("x")
        .delta();
    assert_refused_unchanged(&mut doc, &forged, ApplyError::NotACharacter { id: OpId::new(ALICE, 2) });
}

#[test]
fn delete_whose_target_is_a_delete_is_refused_and_leaves_the_document_unchanged() {
    let mut doc = alice_ab_minus_b();
    let forged = delta_body(&[ALICE, BOB], 1, 1).varint(0).u8(OP_DELETE).varint(1 << 1).varint(0).varint(2).delta();
    assert_refused_unchanged(&mut doc, &forged, ApplyError::NotACharacter { id: OpId::new(ALICE, 2) });
}

#[test]
fn insert_whose_lamport_is_not_above_its_origins_is_refused() {
    let mut doc = alice_ab_minus_b();
    // After "b" (Lamport 2) with Lamport 2, then 1.
    for lamport in [2, 1] {
        let forged = delta_body(&[ALICE, BOB], 1, 1)
            .varint(0)
            .u8(OP_INSERT)
            .varint(1 | 2 << 1)
            .varint(1)
            .varint(lamport)
            .varint(0)
            .varint(1)
            .str("x")
            .delta();
        assert_refused_unchanged(&mut doc, &forged, ApplyError::BadLamport { id: OpId::new(BOB, 0), lamport });
    }
}

/// Bob's five counter increments (seq 0 to 4), and the delta of all but
/// the first: four operations that cannot apply before seq 0 arrives.
fn bob_increments() -> (Delta, Delta) {
    let mut bob = Doc::new(BOB);
    for _ in 0..5 {
        bob.increment("n", 1).unwrap();
    }
    let all = bob.delta_since(&VersionVector::new());
    let later = bob.delta_since(&[(BOB, 1)].into_iter().collect());
    (all, later)
}

#[test]
fn too_many_operations_waiting_for_dependencies_are_refused_and_leave_the_document_unchanged() {
    let (_, later) = bob_increments();
    let mut options = DocOptions::default();
    options.max_pending = 3;
    let mut doc = Doc::with_options(READER, options.clone());
    doc.insert(0, "mine").unwrap();
    assert_refused_unchanged(&mut doc, &later.encode(), ApplyError::TooManyPending { limit: 3 });
    options.max_pending = 4;
    let mut doc = Doc::with_options(READER, options);
    assert_eq!(doc.apply(&later).unwrap().pending, 4);
}

#[test]
fn operations_with_missing_dependencies_wait_and_are_integrated_when_they_arrive() {
    // An insert whose origin is missing, and counters after a gap.
    let mut bob = Doc::new(BOB);
    bob.insert(0, "hello").unwrap();
    let first = bob.delta_since(&VersionVector::new());
    bob.insert(5, " world").unwrap();
    bob.increment("n", 2).unwrap();
    let rest = bob.delta_since(&first_version(&first));

    let mut doc = Doc::new(READER);
    let outcome = doc.apply(&rest).unwrap();
    assert_eq!((outcome.applied, outcome.pending), (0, 2));
    assert_eq!(doc.pending(), 2);
    assert_eq!(doc.text(), "");
    assert!(doc.version().is_empty());

    let outcome = doc.apply(&first).unwrap();
    assert_eq!((outcome.applied, outcome.pending), (3, 0));
    assert_eq!(doc.pending(), 0);
    assert_eq!(doc.text(), "hello world");
    assert_eq!(doc.counter("n"), 2);
    assert_eq!(doc.encode(), bob.encode());
}

/// The version a peer has after applying `delta` to an empty document.
fn first_version(delta: &Delta) -> VersionVector {
    let mut doc = Doc::new(READER);
    doc.apply(delta).unwrap();
    doc.version()
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
