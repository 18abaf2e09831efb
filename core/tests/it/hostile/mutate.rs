//! Truncated, corrupted and randomly mutated golden vectors and bodies.

use super::*;

#[test]
fn every_prefix_of_every_golden_vector_returns_error_not_panic() {
    let mut problems = Vec::new();
    for v in VECTORS {
        let bytes = vectors::stored(v.name);
        for cut in 0..bytes.len() {
            expect_refused(
                &mut problems,
                &format!("{} cut at {cut}", v.name),
                v.kind,
                &bytes[..cut],
            );
        }
    }
    report(&problems);
}

#[test]
fn every_prefix_of_every_golden_body_with_a_valid_checksum_returns_error_not_panic() {
    let mut problems = Vec::new();
    for v in VECTORS {
        let bytes = vectors::stored(v.name);
        let body = body_of(&bytes);
        for cut in 0..body.len() {
            let case = format!("{} body cut at {cut}", v.name);
            expect_refused(&mut problems, &case, v.kind, &reframe(&bytes, &body[..cut]));
        }
    }
    report(&problems);
}

#[test]
fn every_single_bit_flip_of_every_golden_vector_returns_error_not_panic() {
    // CRC-32 detects every single-bit error, so each flip must be refused.
    let mut problems = Vec::new();
    for v in VECTORS {
        let bytes = vectors::stored(v.name);
        for bit in 0..bytes.len() * 8 {
            let mut damaged = bytes.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            expect_refused(
                &mut problems,
                &format!("{} bit {bit} flipped", v.name),
                v.kind,
                &damaged,
            );
        }
    }
    report(&problems);
}

#[test]
fn every_single_bit_flip_of_a_golden_body_under_a_valid_checksum_returns_error_or_a_valid_object() {
    let mut problems = Vec::new();
    let mut accepted = 0;
    for v in VECTORS {
        let bytes = vectors::stored(v.name);
        for bit in header_len(&bytes) * 8..(bytes.len() - 4) * 8 {
            let mut damaged = bytes.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            reseal(&mut damaged);
            let case = format!("{} bit {bit} flipped and resealed", v.name);
            accepted += usize::from(expect_no_panic(&mut problems, &case, v.kind, &damaged));
        }
    }
    report(&problems);
    // Flips in a text byte, a counter value or a timestamp stay valid.
    assert!(accepted > 0);
}

#[test]
fn random_bytes_return_error_not_panic() {
    let mut rng = Rng(0x5eed_0001);
    let mut problems = Vec::new();
    for i in 0..20_000 {
        let bytes: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
        for kind in [Kind::Doc, Kind::Delta] {
            expect_refused(
                &mut problems,
                &format!("random input {i} {bytes:02x?}"),
                kind,
                &bytes,
            );
        }
    }
    report(&problems);
}

#[test]
fn random_bodies_in_a_valid_frame_return_error_or_a_valid_object_not_panic() {
    let mut rng = Rng(0x5eed_0002);
    let mut problems = Vec::new();
    for i in 0..20_000 {
        // Small bytes, so that counts and tags are often plausible.
        let body: Vec<u8> = (0..rng.below(48))
            .map(|_| (rng.next() % 24) as u8)
            .collect();
        let frames = [
            (Kind::Doc, frame(KIND_DOC, &body)),
            (Kind::Delta, frame(KIND_DELTA, &body)),
            (Kind::Delta, compact_frame(&body)),
        ];
        for (kind, bytes) in frames {
            let case = format!("random {kind:?} body {i} {bytes:02x?}");
            expect_no_panic(&mut problems, &case, kind, &bytes);
        }
    }
    report(&problems);
}

/// A document whose text section is LZ4-compressed.
fn lz4_doc() -> Doc {
    let mut doc = Doc::new(ALICE);
    doc.insert(0, &"la la lá ".repeat(40)).unwrap();
    doc.delete(20, 30).unwrap();
    doc
}

/// Decodes `iterations` random mutations (replaced, bumped, removed and
/// inserted bytes) of each golden body and of an LZ4 document, resealed.
fn mutate_and_decode(seed: u64, iterations: usize) {
    let mut rng = Rng(seed);
    let mut problems = Vec::new();
    let mut inputs: Vec<(&str, Kind, Vec<u8>)> = VECTORS
        .iter()
        .map(|v| (v.name, v.kind, vectors::stored(v.name)))
        .collect();
    inputs.push(("lz4 document", Kind::Doc, lz4_doc().encode()));
    for (name, kind, bytes) in inputs {
        for i in 0..iterations {
            let mut body = body_of(&bytes).to_vec();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(body.len() + 1);
                match rng.below(4) {
                    0 if at < body.len() => body[at] = rng.next() as u8,
                    1 if at < body.len() => {
                        body[at] = body[at].wrapping_add(1 + rng.below(3) as u8)
                    }
                    2 if at < body.len() => drop(body.remove(at)),
                    _ => body.insert(at, rng.next() as u8 & 0x7f),
                }
            }
            let case = format!("{name} mutation {i} (seed {seed:#x}): body {body:02x?}");
            expect_no_panic(&mut problems, &case, kind, &reframe(&bytes, &body));
        }
    }
    report(&problems);
}

#[test]
fn random_mutations_of_golden_bodies_return_error_or_a_valid_object_not_panic() {
    mutate_and_decode(0x5eed_0003, 3_000);
}

/// The same with many more mutations (about 80 s), in debug mode so that
/// arithmetic overflow panics:
/// `cargo test -p quire-core --test it -- --ignored soak_random`
#[test]
#[ignore = "soak test; run on purpose"]
fn soak_random_mutations_of_golden_bodies() {
    for seed in 0..20 {
        mutate_and_decode(0x50a6_0000 + seed, 10_000);
    }
}
