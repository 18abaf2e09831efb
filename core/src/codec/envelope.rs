//! The versioned frame around every encoded object.
//!
//! ```text
//! magic "QUIR" (4) | version (u8) | kind (u8) | body | crc32 (u32 LE)
//! ```
//!
//! The checksum is CRC-32/ISO-HDLC (the zlib/PNG CRC) over every byte before
//! it, header included. [`open`] checks, in order: length, magic, version,
//! kind, checksum.

// Used by the doc and delta codecs.
#![allow(dead_code)]

use super::writer::Writer;
use super::DecodeError;

/// The first four bytes of every encoding.
pub(crate) const MAGIC: [u8; 4] = *b"QUIR";
/// The format version this build writes and reads.
pub(crate) const FORMAT_VERSION: u8 = 1;

/// Kind byte of an encoded document (`Doc::encode`).
pub(crate) const KIND_DOC: u8 = 1;
/// Kind byte of an encoded delta (`Delta::encode`).
pub(crate) const KIND_DELTA: u8 = 2;
/// Object kind: a version vector.
pub(crate) const KIND_VERSION: u8 = 3;

/// Magic, version and kind.
pub(crate) const HEADER_LEN: usize = MAGIC.len() + 2;
/// The trailing CRC-32.
pub(crate) const CHECKSUM_LEN: usize = 4;
/// The size of a frame with an empty body.
pub(crate) const MIN_FRAME_LEN: usize = HEADER_LEN + CHECKSUM_LEN;

/// CRC-32/ISO-HDLC of `bytes` (see the target dependencies in Cargo.toml).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn checksum(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// CRC-32/ISO-HDLC of `bytes` (see the target dependencies in Cargo.toml).
#[cfg(target_arch = "wasm32")]
pub(crate) fn checksum(bytes: &[u8]) -> u32 {
    crc32_sliced(bytes)
}

/// CRC-32/ISO-HDLC eight bytes a step (slice-by-8), four times the speed
/// of a byte at a time. The 8 KiB of tables are computed on first use:
/// static tables would add that much to the wasm module.
#[cfg(any(target_arch = "wasm32", test))]
fn crc32_sliced(bytes: &[u8]) -> u32 {
    static TABLES: std::sync::OnceLock<[[u32; 256]; 8]> = std::sync::OnceLock::new();
    let t = TABLES.get_or_init(|| {
        let mut t = [[0u32; 256]; 8];
        for (i, slot) in (0..).zip(&mut t[0]) {
            let mut c: u32 = i;
            for _ in 0..8 {
                c = (c >> 1) ^ ((c & 1) * 0xEDB8_8320);
            }
            *slot = c;
        }
        for k in 1..8 {
            for i in 0..256 {
                let prev = t[k - 1][i];
                t[k][i] = prev >> 8 ^ t[0][prev as usize & 0xff];
            }
        }
        t
    });
    let byte = |k: usize, x: u32| t[k][x as usize & 0xff];
    let mut crc = !0u32;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let lo = crc ^ u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        let hi = u32::from_le_bytes([c[4], c[5], c[6], c[7]]);
        crc = byte(7, lo) ^ byte(6, lo >> 8) ^ byte(5, lo >> 16) ^ byte(4, lo >> 24);
        crc ^= byte(3, hi) ^ byte(2, hi >> 8) ^ byte(1, hi >> 16) ^ byte(0, hi >> 24);
    }
    for &b in chunks.remainder() {
        crc = crc >> 8 ^ byte(0, crc ^ u32::from(b));
    }
    !crc
}

/// Starts a frame of the given kind: a writer holding the header, to which
/// the body is appended directly. Close it with [`finish`].
pub(crate) fn begin(kind: u8) -> Writer {
    begin_with_capacity(kind, 0)
}

/// Like [`begin`], reserving room for a body of about `body_len` bytes.
pub(crate) fn begin_with_capacity(kind: u8, body_len: usize) -> Writer {
    let mut w = Writer::with_capacity(MIN_FRAME_LEN.saturating_add(body_len));
    w.raw(&MAGIC);
    w.u8(FORMAT_VERSION);
    w.u8(kind);
    w
}

/// Closes a frame started with [`begin`]: appends the checksum of
/// everything written.
pub(crate) fn finish(mut w: Writer) -> Vec<u8> {
    let crc = checksum(w.as_slice());
    w.u32_le(crc);
    w.into_inner()
}

/// Frames an already encoded body.
pub(crate) fn seal(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut w = begin_with_capacity(kind, body.len());
    w.raw(body);
    finish(w)
}

/// Checks a frame and returns its body.
///
/// Fails with [`DecodeError::Truncated`] below the 10-byte minimum, then
/// [`DecodeError::BadMagic`], [`DecodeError::UnsupportedVersion`],
/// [`DecodeError::WrongKind`] and [`DecodeError::ChecksumMismatch`], checked
/// in that order.
pub(crate) fn open(bytes: &[u8], expected_kind: u8) -> Result<&[u8], DecodeError> {
    let truncated = DecodeError::Truncated { offset: 0 };
    if bytes.len() < MIN_FRAME_LEN {
        return Err(truncated);
    }
    let (framed, stored) = bytes
        .split_last_chunk::<CHECKSUM_LEN>()
        .ok_or(truncated.clone())?;
    let (&[m0, m1, m2, m3, version, kind], body) =
        framed.split_first_chunk::<HEADER_LEN>().ok_or(truncated)?;
    if [m0, m1, m2, m3] != MAGIC {
        return Err(DecodeError::BadMagic);
    }
    if version != FORMAT_VERSION {
        return Err(DecodeError::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if kind != expected_kind {
        return Err(DecodeError::WrongKind {
            found: kind,
            expected: expected_kind,
        });
    }
    let stored = u32::from_le_bytes(*stored);
    let computed = checksum(framed);
    if stored != computed {
        return Err(DecodeError::ChecksumMismatch { stored, computed });
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Rewrites the checksum after tampering with a frame.
    fn reseal(frame: &mut [u8]) {
        let split = frame.len() - CHECKSUM_LEN;
        let crc = checksum(&frame[..split]);
        frame[split..].copy_from_slice(&crc.to_le_bytes());
    }

    #[test]
    fn layout_is_magic_version_kind_body_crc() {
        let frame = seal(KIND_DELTA, b"hi");
        assert_eq!(&frame[..4], b"QUIR");
        assert_eq!(frame[4], FORMAT_VERSION);
        assert_eq!(frame[5], KIND_DELTA);
        assert_eq!(&frame[6..8], b"hi");
        assert_eq!(frame[8..], checksum(&frame[..8]).to_le_bytes());
        assert_eq!(frame.len(), MIN_FRAME_LEN + 2);
    }

    #[test]
    fn checksum_is_crc32_iso_hdlc() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(checksum(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn sliced_crc32_matches_the_reference() {
        assert_eq!(crc32_sliced(b"123456789"), 0xcbf4_3926);
        let bytes: Vec<u8> = (0..300u32).map(|i| (i * 7 + i / 5) as u8).collect();
        for len in 0..bytes.len() {
            assert_eq!(crc32_sliced(&bytes[..len]), crc32fast::hash(&bytes[..len]));
        }
    }

    #[test]
    fn begin_and_finish_match_seal() {
        let mut w = begin(KIND_DOC);
        w.varint(300);
        w.str("body");
        let mut body = Writer::new();
        body.varint(300);
        body.str("body");
        assert_eq!(finish(w), seal(KIND_DOC, body.as_slice()));
    }

    #[test]
    fn empty_body_round_trips() {
        let frame = seal(KIND_DOC, &[]);
        assert_eq!(frame.len(), MIN_FRAME_LEN);
        assert_eq!(open(&frame, KIND_DOC), Ok(&[][..]));
    }

    #[test]
    fn input_shorter_than_a_frame_is_truncated() {
        let frame = seal(KIND_DOC, &[]);
        for cut in 0..MIN_FRAME_LEN {
            assert_eq!(
                open(&frame[..cut], KIND_DOC),
                Err(DecodeError::Truncated { offset: 0 })
            );
        }
    }

    #[test]
    fn every_prefix_of_a_frame_returns_error() {
        let frame = seal(KIND_DOC, b"some body bytes");
        for cut in 0..frame.len() {
            assert!(
                open(&frame[..cut], KIND_DOC).is_err(),
                "prefix {cut} accepted"
            );
        }
    }

    #[test]
    fn flipping_any_bit_returns_error() {
        let frame = seal(KIND_DELTA, b"\x00\x01\x7f\x80\xff body");
        for i in 0..frame.len() {
            for bit in 0..8 {
                let mut damaged = frame.clone();
                damaged[i] ^= 1 << bit;
                assert!(
                    open(&damaged, KIND_DELTA).is_err(),
                    "flipping bit {bit} of byte {i} went unnoticed"
                );
            }
        }
    }

    #[test]
    fn corrupted_body_reports_both_checksums() {
        let mut frame = seal(KIND_DOC, b"body");
        let stored = u32::from_le_bytes(frame[10..14].try_into().unwrap());
        frame[7] ^= 0x01;
        let computed = checksum(&frame[..10]);
        assert_eq!(
            open(&frame, KIND_DOC),
            Err(DecodeError::ChecksumMismatch { stored, computed })
        );
    }

    #[test]
    fn wrong_version_names_both_versions() {
        let mut frame = seal(KIND_DOC, b"body");
        frame[4] = FORMAT_VERSION + 1;
        reseal(&mut frame);
        let err = open(&frame, KIND_DOC).unwrap_err();
        assert_eq!(
            err,
            DecodeError::UnsupportedVersion {
                found: FORMAT_VERSION + 1,
                supported: FORMAT_VERSION
            }
        );
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("version {}", FORMAT_VERSION + 1)),
            "{msg}"
        );
        assert!(msg.contains(&format!("version {FORMAT_VERSION}")), "{msg}");
    }

    #[test]
    fn wrong_kind_names_both_kinds() {
        let frame = seal(KIND_DELTA, b"body");
        assert_eq!(
            open(&frame, KIND_DOC),
            Err(DecodeError::WrongKind {
                found: KIND_DELTA,
                expected: KIND_DOC
            })
        );
    }

    #[test]
    fn bad_magic_is_reported() {
        let mut frame = seal(KIND_DOC, b"body");
        frame[..4].copy_from_slice(b"QUIX");
        reseal(&mut frame);
        assert_eq!(open(&frame, KIND_DOC), Err(DecodeError::BadMagic));
        assert_eq!(open(&[0u8; 64], KIND_DOC), Err(DecodeError::BadMagic));
    }

    #[test]
    fn checks_run_in_order_magic_version_kind_checksum() {
        // Every field wrong at once (and a stale checksum): magic wins.
        let mut frame = seal(KIND_DOC, b"body");
        frame[HEADER_LEN] = b'B';
        frame[..4].copy_from_slice(b"ZZZZ");
        frame[4] = 9;
        frame[5] = 9;
        assert_eq!(open(&frame, KIND_DOC), Err(DecodeError::BadMagic));
        // Magic fixed: version wins over kind and checksum.
        frame[..4].copy_from_slice(&MAGIC);
        assert!(matches!(
            open(&frame, KIND_DOC),
            Err(DecodeError::UnsupportedVersion { found: 9, .. })
        ));
        // Version fixed: kind wins over checksum.
        frame[4] = FORMAT_VERSION;
        assert!(matches!(
            open(&frame, KIND_DOC),
            Err(DecodeError::WrongKind { found: 9, .. })
        ));
        // Kind fixed: only the stale checksum is left.
        frame[5] = KIND_DOC;
        assert!(matches!(
            open(&frame, KIND_DOC),
            Err(DecodeError::ChecksumMismatch { .. })
        ));
        reseal(&mut frame);
        assert_eq!(open(&frame, KIND_DOC), Ok(&b"Body"[..]));
    }

    proptest! {
        #[test]
        fn any_body_round_trips(
            kind in any::<u8>(),
            body in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            let frame = seal(kind, &body);
            prop_assert_eq!(open(&frame, kind), Ok(body.as_slice()));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = open(&bytes, KIND_DOC);
        }
    }
}
