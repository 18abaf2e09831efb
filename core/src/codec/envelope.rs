//! The versioned frames around every encoded object.
//!
//! ```text
//! envelope: magic "QUIR" (4) | version (u8) | kind (u8) | body | crc32 (u32 LE)
//! compact:  lead (u8) = 0b11kk_kvvv (kind k, version v)  | body | crc32 (u32 LE)
//! ```
//!
//! The checksum is CRC-32/ISO-HDLC (the zlib/PNG CRC) over every byte before
//! it, header included. The compact frame saves five bytes where they count
//! (small deltas); its lead byte can never start an envelope ('Q' is
//! `0x51`). [`open_frame`] checks, in order: length, magic or lead, version,
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

/// The two top bits set on a compact frame's lead byte.
pub(crate) const COMPACT_MARK: u8 = 0b1100_0000;
/// The lead byte of a compact frame of `kind` (below 8) in this version.
pub(crate) const fn compact_lead(kind: u8) -> u8 {
    COMPACT_MARK | kind << 3 | FORMAT_VERSION
}
/// Whether `kind` has a compact frame (only deltas, where five bytes matter).
const fn has_compact_frame(kind: u8) -> bool {
    kind == KIND_DELTA
}
/// The size of a compact frame with an empty body.
pub(crate) const MIN_COMPACT_LEN: usize = 1 + CHECKSUM_LEN;

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

/// CRC-32/ISO-HDLC of `bytes`: slice-by-16 tables built at run time (see
/// the target dependencies in Cargo.toml).
#[cfg(target_arch = "wasm32")]
pub(crate) fn checksum(bytes: &[u8]) -> u32 {
    super::crc32::hash(bytes)
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

/// Starts a compact frame of the given kind (see [`compact_lead`]); close it
/// with [`finish`].
pub(crate) fn begin_compact(kind: u8, body_len: usize) -> Writer {
    let mut w = Writer::with_capacity(MIN_COMPACT_LEN.saturating_add(body_len));
    w.u8(compact_lead(kind));
    w
}

/// Closes a frame started with [`begin`] or [`begin_compact`]: appends the
/// checksum of everything written.
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

/// Which frame a body came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    /// Magic, version, kind ([`begin`]).
    Envelope,
    /// One lead byte ([`begin_compact`]).
    Compact,
}

/// Checks an envelope and returns its body. A compact frame is refused
/// like an envelope of its kind would be (`WrongKind`), so callers that do
/// not read compact frames need not know them.
pub(crate) fn open(bytes: &[u8], expected_kind: u8) -> Result<&[u8], DecodeError> {
    open_frame(bytes, expected_kind).map(|(_, body)| body)
}

/// Checks a frame of either layout and returns which one it is and its body.
///
/// Fails with [`DecodeError::Truncated`] below the frame's minimum size (10
/// bytes for an envelope, 5 for a compact frame), then
/// [`DecodeError::BadMagic`], [`DecodeError::UnsupportedVersion`],
/// [`DecodeError::WrongKind`] and [`DecodeError::ChecksumMismatch`], checked
/// in that order. A compact lead byte of a kind without a compact frame is a
/// [`DecodeError::BadMagic`].
pub(crate) fn open_frame(bytes: &[u8], expected_kind: u8) -> Result<(Frame, &[u8]), DecodeError> {
    let truncated = DecodeError::Truncated { offset: 0 };
    let (frame, header_len) = match bytes.first() {
        Some(lead) if lead & COMPACT_MARK == COMPACT_MARK => (Frame::Compact, 1),
        _ => (Frame::Envelope, HEADER_LEN),
    };
    let (framed, stored) = bytes
        .split_last_chunk::<CHECKSUM_LEN>()
        .filter(|(framed, _)| framed.len() >= header_len)
        .ok_or(truncated)?;
    let (header, body) = framed.split_at(header_len);
    let (version, kind) = match *header {
        [lead] => (lead & 7, (lead >> 3) & 7),
        [m0, m1, m2, m3, version, kind] if [m0, m1, m2, m3] == MAGIC => (version, kind),
        _ => return Err(DecodeError::BadMagic),
    };
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
    if frame == Frame::Compact && !has_compact_frame(kind) {
        return Err(DecodeError::BadMagic);
    }
    let stored = u32::from_le_bytes(*stored);
    let computed = checksum(framed);
    if stored != computed {
        return Err(DecodeError::ChecksumMismatch { stored, computed });
    }
    Ok((frame, body))
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

    #[test]
    fn compact_layout_is_lead_body_crc() {
        let mut w = begin_compact(KIND_DELTA, 2);
        w.raw(b"hi");
        let frame = finish(w);
        assert_eq!(frame[0], 0b1101_0001);
        assert_eq!(&frame[1..3], b"hi");
        assert_eq!(frame[3..], checksum(&frame[..3]).to_le_bytes());
        assert_eq!(
            open_frame(&frame, KIND_DELTA),
            Ok((Frame::Compact, &b"hi"[..]))
        );
        // Callers that read only envelopes see a frame of another kind.
        assert_eq!(
            open(&frame, KIND_DOC),
            Err(DecodeError::WrongKind {
                found: KIND_DELTA,
                expected: KIND_DOC
            })
        );
    }

    #[test]
    fn no_compact_lead_byte_starts_an_envelope() {
        for kind in 0..8 {
            assert_ne!(compact_lead(kind), MAGIC[0]);
            assert_eq!(compact_lead(kind) & COMPACT_MARK, COMPACT_MARK);
        }
    }

    #[test]
    fn compact_frames_check_length_version_kind_then_checksum() {
        let mut frame = seal_compact(b"body");
        for cut in 0..MIN_COMPACT_LEN {
            assert_eq!(
                open_frame(&frame[..cut], KIND_DELTA),
                Err(DecodeError::Truncated { offset: 0 })
            );
        }
        frame[1] = b'B'; // stale checksum from here on
        frame[0] = compact_lead(KIND_DOC) & !7 | 2;
        assert!(matches!(
            open_frame(&frame, KIND_DELTA),
            Err(DecodeError::UnsupportedVersion { found: 2, .. })
        ));
        frame[0] = compact_lead(KIND_DOC);
        assert!(matches!(
            open_frame(&frame, KIND_DELTA),
            Err(DecodeError::WrongKind {
                found: KIND_DOC,
                ..
            })
        ));
        // Documents have no compact frame.
        assert_eq!(open(&frame, KIND_DOC), Err(DecodeError::BadMagic));
        frame[0] = compact_lead(KIND_DELTA);
        assert!(matches!(
            open_frame(&frame, KIND_DELTA),
            Err(DecodeError::ChecksumMismatch { .. })
        ));
        reseal(&mut frame);
        assert_eq!(
            open_frame(&frame, KIND_DELTA),
            Ok((Frame::Compact, &b"Body"[..]))
        );
    }

    fn seal_compact(body: &[u8]) -> Vec<u8> {
        let mut w = begin_compact(KIND_DELTA, body.len());
        w.raw(body);
        finish(w)
    }

    proptest! {
        #[test]
        fn any_compact_body_round_trips(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let frame = seal_compact(&body);
            prop_assert_eq!(frame.len(), MIN_COMPACT_LEN + body.len());
            prop_assert_eq!(open_frame(&frame, KIND_DELTA), Ok((Frame::Compact, body.as_slice())));
        }

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
