//! Reading primitives from untrusted bytes (the inverse of [`super::writer`]).
//!
//! Every method returns a [`DecodeError`] instead of panicking, never indexes
//! out of bounds and never allocates: lengths and counts are checked against
//! both a caller-given limit and the bytes actually remaining before anyone
//! can act on them. A failed read leaves the reader where it was.

// Used by the doc and delta codecs.
#![allow(dead_code)]

use super::cursor::Cursor;
use super::DecodeError;
use crate::ids::ReplicaId;

/// The longest varint encoding of a `u64`: ceil(64 / 7) bytes.
const MAX_VARINT_LEN: usize = 10;

/// A cursor over an encoded byte slice.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    /// The bytes not yet consumed.
    rest: &'a [u8],
    /// Length of the whole input, to compute offsets.
    total: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self {
            rest: bytes,
            total: bytes.len(),
        }
    }

    /// A reader at the start of `rest`, which starts at `offset` in the
    /// input (error offsets count from the input's start).
    pub(crate) fn at_offset(rest: &'a [u8], offset: usize) -> Self {
        Self {
            rest,
            total: offset + rest.len(),
        }
    }

    /// A [`Cursor`] at the reader's position, for a hot loop; hand it back
    /// with [`Reader::seek`].
    pub(crate) fn cursor(&self) -> Cursor<'a> {
        Cursor::new(self.rest, self.offset())
    }

    /// Moves the reader to `c`, a cursor from [`Reader::cursor`].
    pub(crate) fn seek(&mut self, c: &Cursor<'a>) {
        *self = c.reader();
    }

    /// How many bytes have been consumed (the offset of the next read).
    pub(crate) fn offset(&self) -> usize {
        self.total - self.rest.len()
    }

    /// How many bytes are left.
    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Whether every byte has been consumed.
    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Reads one byte.
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        match self.rest.split_first() {
            Some((&byte, rest)) => {
                self.rest = rest;
                Ok(byte)
            }
            None => Err(self.truncated()),
        }
    }

    /// Reads a `u32` stored as 4 little-endian bytes.
    pub(crate) fn u32_le(&mut self) -> Result<u32, DecodeError> {
        match self.rest.split_first_chunk::<4>() {
            Some((&bytes, rest)) => {
                self.rest = rest;
                Ok(u32::from_le_bytes(bytes))
            }
            None => Err(self.truncated()),
        }
    }

    /// Reads an unsigned LEB128 varint.
    ///
    /// Rejects encodings longer than 10 bytes or above `u64::MAX`
    /// ([`DecodeError::VarintOverflow`]) and overlong ones ending in a zero
    /// byte ([`DecodeError::NonCanonicalVarint`]), so each value has exactly
    /// one accepted encoding.
    pub(crate) fn varint(&mut self) -> Result<u64, DecodeError> {
        // Most values fit in one or two bytes: no loop, no offset.
        match *self.rest {
            [b, ref rest @ ..] if b < 0x80 => {
                self.rest = rest;
                Ok(u64::from(b))
            }
            [b0, b1, ref rest @ ..] if b1 < 0x80 && b1 != 0 => {
                self.rest = rest;
                Ok(u64::from(b0 & 0x7f) | u64::from(b1) << 7)
            }
            _ => self.varint_long(),
        }
    }

    fn varint_long(&mut self) -> Result<u64, DecodeError> {
        let (value, len) = self.peek_varint()?;
        self.advance(len);
        Ok(value)
    }

    /// Reads a varint that must fit in a `u32`.
    pub(crate) fn varint_u32(&mut self) -> Result<u32, DecodeError> {
        let (value, len) = self.peek_varint()?;
        let value = u32::try_from(value).map_err(|_| DecodeError::VarintOverflow {
            offset: self.offset(),
        })?;
        self.advance(len);
        Ok(value)
    }

    /// Reads a varint that must be at most `limit`
    /// ([`DecodeError::LimitExceeded`] naming `what` otherwise).
    pub(crate) fn varint_usize_max(
        &mut self,
        what: &'static str,
        limit: usize,
    ) -> Result<usize, DecodeError> {
        let (value, len) = self.peek_varint()?;
        let value = check_limit(what, value, limit)?;
        self.advance(len);
        Ok(value)
    }

    /// Reads a zigzag-encoded signed varint.
    pub(crate) fn varint_signed(&mut self) -> Result<i64, DecodeError> {
        self.varint().map(unzigzag)
    }

    /// Reads a length or element count and checks it before anyone can act
    /// on it.
    ///
    /// Fails with [`DecodeError::LimitExceeded`] (naming `what`) above
    /// `limit`, and with [`DecodeError::Truncated`] above the bytes
    /// remaining after the count: every byte or element takes at least one
    /// byte, so a count claiming 2^60 elements fails here and nothing is
    /// ever allocated from it.
    pub(crate) fn len(&mut self, what: &'static str, limit: usize) -> Result<usize, DecodeError> {
        let start = self.offset();
        let (value, len) = self.peek_varint()?;
        let value = check_limit(what, value, limit)?;
        // `len <= self.rest.len()` was checked by `peek_varint`.
        if value > self.rest.len() - len {
            return Err(DecodeError::Truncated { offset: start });
        }
        self.advance(len);
        Ok(value)
    }

    /// Checks a count already read (or derived from a field read) at
    /// `offset`, as [`Reader::len`] does: at most `limit`, and at most the
    /// bytes remaining.
    pub(crate) fn count(
        &self,
        what: &'static str,
        value: u64,
        limit: usize,
        offset: usize,
    ) -> Result<usize, DecodeError> {
        let value = check_limit(what, value, limit)?;
        if value > self.rest.len() {
            return Err(DecodeError::Truncated { offset });
        }
        Ok(value)
    }

    /// Reads a length-prefixed byte string of at most `limit` bytes,
    /// borrowed from the input.
    pub(crate) fn bytes(
        &mut self,
        what: &'static str,
        limit: usize,
    ) -> Result<&'a [u8], DecodeError> {
        let saved = self.rest;
        let result = self.len(what, limit).and_then(|n| self.raw(n));
        if result.is_err() {
            self.rest = saved;
        }
        result
    }

    /// Reads a length-prefixed UTF-8 string of at most `limit` bytes,
    /// borrowed from the input.
    pub(crate) fn str(&mut self, what: &'static str, limit: usize) -> Result<&'a str, DecodeError> {
        let saved = self.rest;
        let result = self.len(what, limit).and_then(|n| self.utf8(n));
        if result.is_err() {
            self.rest = saved;
        }
        result
    }

    /// Reads exactly `n` bytes of UTF-8, borrowed from the input.
    pub(crate) fn utf8(&mut self, n: usize) -> Result<&'a str, DecodeError> {
        let start = self.offset();
        let saved = self.rest;
        let bytes = self.raw(n)?;
        core::str::from_utf8(bytes).map_err(|e| {
            self.rest = saved;
            DecodeError::InvalidUtf8 {
                offset: start + e.valid_up_to(),
            }
        })
    }

    /// Reads exactly `n` bytes, borrowed from the input.
    pub(crate) fn raw(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        match self.rest.split_at_checked(n) {
            Some((bytes, rest)) => {
                self.rest = rest;
                Ok(bytes)
            }
            None => Err(self.truncated()),
        }
    }

    /// Reads a replica id (8 bytes, little-endian).
    pub(crate) fn replica(&mut self) -> Result<ReplicaId, DecodeError> {
        let mut id = [0u8; 8];
        id.copy_from_slice(self.raw(8)?);
        Ok(ReplicaId(u64::from_le_bytes(id)))
    }

    /// Ends decoding: fails with [`DecodeError::TrailingBytes`] if any input
    /// is left.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                count: self.rest.len(),
            })
        }
    }

    /// Decodes the varint at the cursor without consuming it: its value and
    /// its length in bytes (at most `self.remaining()`).
    fn peek_varint(&self) -> Result<(u64, usize), DecodeError> {
        let offset = self.offset();
        let mut value = 0u64;
        for (i, &byte) in self.rest.iter().take(MAX_VARINT_LEN).enumerate() {
            let payload = u64::from(byte & 0x7f);
            // The 10th byte holds only bit 63 and must end the varint.
            if i == MAX_VARINT_LEN - 1 && (byte & 0x80 != 0 || payload > 1) {
                return Err(DecodeError::VarintOverflow { offset });
            }
            value |= payload << (7 * i);
            if byte & 0x80 == 0 {
                // A zero final byte after the first adds nothing: overlong.
                if byte == 0 && i > 0 {
                    return Err(DecodeError::NonCanonicalVarint { offset });
                }
                return Ok((value, i + 1));
            }
        }
        // Fewer than 10 bytes left, all with the continuation bit set.
        Err(DecodeError::Truncated { offset })
    }

    /// Consumes `n` bytes; `n` must be at most `self.remaining()`.
    fn advance(&mut self, n: usize) {
        self.rest = self.rest.get(n..).unwrap_or_default();
    }

    fn truncated(&self) -> DecodeError {
        DecodeError::Truncated {
            offset: self.offset(),
        }
    }
}

/// Converts `value` to `usize` if it is at most `limit`.
fn check_limit(what: &'static str, value: u64, limit: usize) -> Result<usize, DecodeError> {
    match usize::try_from(value) {
        Ok(v) if v <= limit => Ok(v),
        _ => Err(DecodeError::LimitExceeded {
            what,
            value,
            limit: limit as u64,
        }),
    }
}

/// Inverse of [`super::writer::zigzag`].
pub(super) const fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

#[cfg(test)]
mod tests {
    use super::{DecodeError, Reader};
    use crate::codec::writer::Writer;
    use proptest::prelude::*;

    fn encode_varint(value: u64) -> Vec<u8> {
        let mut w = Writer::new();
        w.varint(value);
        w.into_inner()
    }

    /// One primitive of the format, to build mixed encodings.
    #[derive(Debug, Clone)]
    enum Item {
        U8(u8),
        U32(u32),
        Varint(u64),
        Signed(i64),
        Bytes(Vec<u8>),
        Str(String),
    }

    fn item() -> impl Strategy<Value = Item> {
        prop_oneof![
            any::<u8>().prop_map(Item::U8),
            any::<u32>().prop_map(Item::U32),
            any::<u64>().prop_map(Item::Varint),
            any::<i64>().prop_map(Item::Signed),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Item::Bytes),
            ".{0,20}".prop_map(Item::Str),
        ]
    }

    fn write_items(items: &[Item]) -> Vec<u8> {
        let mut w = Writer::new();
        for item in items {
            match item {
                Item::U8(v) => w.u8(*v),
                Item::U32(v) => w.u32_le(*v),
                Item::Varint(v) => w.varint(*v),
                Item::Signed(v) => w.varint_signed(*v),
                Item::Bytes(v) => w.bytes(v),
                Item::Str(v) => w.str(v),
            }
        }
        w.into_inner()
    }

    /// Reads `items` back from `bytes`, checking each value.
    fn read_items(bytes: &[u8], items: &[Item]) -> Result<(), DecodeError> {
        let mut r = Reader::new(bytes);
        for item in items {
            match item {
                Item::U8(v) => assert_eq!(r.u8()?, *v),
                Item::U32(v) => assert_eq!(r.u32_le()?, *v),
                Item::Varint(v) => assert_eq!(r.varint()?, *v),
                Item::Signed(v) => assert_eq!(r.varint_signed()?, *v),
                Item::Bytes(v) => assert_eq!(r.bytes("bytes", 1 << 20)?, v.as_slice()),
                Item::Str(v) => assert_eq!(r.str("string", 1 << 20)?, v.as_str()),
            }
        }
        r.finish()
    }

    proptest! {
        #[test]
        fn every_u64_varint_round_trips(value in any::<u64>()) {
            let bytes = encode_varint(value);
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(r.varint(), Ok(value));
            prop_assert!(r.finish().is_ok());
        }

        #[test]
        fn every_i64_signed_varint_round_trips(value in any::<i64>()) {
            let mut w = Writer::new();
            w.varint_signed(value);
            let bytes = w.into_inner();
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(r.varint_signed(), Ok(value));
            prop_assert!(r.is_empty());
        }

        #[test]
        fn every_string_round_trips(value in any::<String>()) {
            let mut w = Writer::new();
            w.str(&value);
            let bytes = w.into_inner();
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(r.str("string", usize::MAX), Ok(value.as_str()));
            prop_assert!(r.finish().is_ok());
        }

        #[test]
        fn mixed_sequences_round_trip(items in proptest::collection::vec(item(), 0..12)) {
            let bytes = write_items(&items);
            prop_assert_eq!(read_items(&bytes, &items), Ok(()));
        }

        #[test]
        fn every_strict_prefix_of_an_encoding_returns_error(
            items in proptest::collection::vec(item(), 1..8),
        ) {
            let bytes = write_items(&items);
            for cut in 0..bytes.len() {
                prop_assert!(read_items(&bytes[..cut], &items).is_err(), "prefix {} accepted", cut);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&bytes);
            loop {
                let before = r.offset();
                let step = match before % 5 {
                    0 => r.varint().map(drop),
                    1 => r.varint_signed().map(drop),
                    2 => r.str("s", 16).map(drop),
                    3 => r.bytes("b", usize::MAX).map(drop),
                    _ => r.varint_u32().map(drop),
                };
                if step.is_err() {
                    prop_assert_eq!(r.offset(), before, "a failed read moved the cursor");
                    break;
                }
                prop_assert!(r.offset() > before);
            }
        }

        #[test]
        fn varint_u32_accepts_exactly_the_u32_range(value in any::<u64>()) {
            let bytes = encode_varint(value);
            let mut r = Reader::new(&bytes);
            match u32::try_from(value) {
                Ok(v) => prop_assert_eq!(r.varint_u32(), Ok(v)),
                Err(_) => prop_assert_eq!(r.varint_u32(), Err(DecodeError::VarintOverflow { offset: 0 })),
            }
        }
    }

    #[test]
    fn truncated_varint_returns_error_not_panic() {
        let mut r = Reader::new(&[0x01, 0x80, 0x80]);
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.varint(), Err(DecodeError::Truncated { offset: 1 }));
        assert_eq!(r.offset(), 1);
        assert_eq!(
            Reader::new(&[]).varint(),
            Err(DecodeError::Truncated { offset: 0 })
        );
    }

    #[test]
    fn eleven_byte_varint_is_rejected_as_overflow() {
        let mut bytes = [0x80u8; 11];
        bytes[10] = 0x01;
        assert_eq!(
            Reader::new(&bytes).varint(),
            Err(DecodeError::VarintOverflow { offset: 0 })
        );
        // Also when the input stops right after the 10th continuation byte.
        assert_eq!(
            Reader::new(&bytes[..10]).varint(),
            Err(DecodeError::VarintOverflow { offset: 0 })
        );
    }

    #[test]
    fn ten_byte_varint_above_u64_max_is_rejected_as_overflow() {
        let mut bytes = [0xffu8; 10];
        bytes[9] = 0x02; // bit 64
        assert_eq!(
            Reader::new(&bytes).varint(),
            Err(DecodeError::VarintOverflow { offset: 0 })
        );
        bytes[9] = 0x01; // bit 63: exactly u64::MAX
        assert_eq!(Reader::new(&bytes).varint(), Ok(u64::MAX));
    }

    #[test]
    fn overlong_varint_encodings_are_rejected_as_non_canonical() {
        for bytes in [
            &[0x80, 0x00][..],
            &[0x81, 0x00],
            &[0xff, 0x80, 0x00],
            &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
        ] {
            assert_eq!(
                Reader::new(bytes).varint(),
                Err(DecodeError::NonCanonicalVarint { offset: 0 }),
                "{bytes:02x?}"
            );
        }
        // A lone zero byte is the canonical encoding of 0.
        assert_eq!(Reader::new(&[0x00]).varint(), Ok(0));
    }

    #[test]
    fn varint_u32_rejects_values_above_u32_max() {
        let bytes = encode_varint(u64::from(u32::MAX) + 1);
        let mut r = Reader::new(&bytes);
        assert_eq!(
            r.varint_u32(),
            Err(DecodeError::VarintOverflow { offset: 0 })
        );
        assert_eq!(r.offset(), 0);
        let bytes = encode_varint(u64::from(u32::MAX));
        assert_eq!(Reader::new(&bytes).varint_u32(), Ok(u32::MAX));
    }

    #[test]
    fn varint_usize_max_rejects_values_above_the_limit() {
        let bytes = encode_varint(101);
        assert_eq!(
            Reader::new(&bytes).varint_usize_max("replicas", 100),
            Err(DecodeError::LimitExceeded {
                what: "replicas",
                value: 101,
                limit: 100
            })
        );
        assert_eq!(
            Reader::new(&bytes).varint_usize_max("replicas", 101),
            Ok(101)
        );
    }

    #[test]
    fn count_claiming_2_pow_60_elements_is_rejected_before_any_allocation() {
        let mut bytes = encode_varint(1 << 60);
        bytes.extend_from_slice(&[0; 32]);
        // With no limit of its own the count still cannot exceed the input.
        let mut r = Reader::new(&bytes);
        assert_eq!(
            r.len("ops", usize::MAX),
            Err(DecodeError::Truncated { offset: 0 })
        );
        assert_eq!(r.offset(), 0);
        // With a limit, the limit is reported.
        assert_eq!(
            Reader::new(&bytes).len("ops", 1000),
            Err(DecodeError::LimitExceeded {
                what: "ops",
                value: 1 << 60,
                limit: 1000
            })
        );
        assert!(Reader::new(&bytes).bytes("blob", usize::MAX).is_err());
        assert!(Reader::new(&bytes).str("text", usize::MAX).is_err());
    }

    #[test]
    fn len_accepts_a_count_equal_to_the_remaining_bytes() {
        let bytes = [3, 7, 7, 7];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.len("items", 3), Ok(3));
        assert_eq!(r.remaining(), 3);
        let mut r = Reader::new(&bytes[..3]);
        assert_eq!(r.len("items", 3), Err(DecodeError::Truncated { offset: 0 }));
    }

    #[test]
    fn byte_string_longer_than_its_limit_is_rejected() {
        let mut w = Writer::new();
        w.bytes(b"abcdef");
        let bytes = w.into_inner();
        assert_eq!(
            Reader::new(&bytes).bytes("title", 5),
            Err(DecodeError::LimitExceeded {
                what: "title",
                value: 6,
                limit: 5
            })
        );
        assert_eq!(Reader::new(&bytes).bytes("title", 6), Ok(&b"abcdef"[..]));
    }

    #[test]
    fn invalid_utf8_is_rejected_with_the_offset_of_the_bad_byte() {
        // u8 marker, then a 4-byte string "ab" + lone continuation byte + "c".
        let bytes = [0xaa, 4, b'a', b'b', 0x80, b'c'];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8(), Ok(0xaa));
        assert_eq!(
            r.str("title", 100),
            Err(DecodeError::InvalidUtf8 { offset: 4 })
        );
        assert_eq!(r.offset(), 1, "a failed read must not move the cursor");
        // The same bytes are fine as a byte string.
        assert_eq!(r.bytes("title", 100), Ok(&bytes[2..]));
    }

    #[test]
    fn truncated_utf8_sequence_is_rejected() {
        // "é" is 0xc3 0xa9; keep only its first byte inside the string.
        let bytes = [1, 0xc3];
        assert_eq!(
            Reader::new(&bytes).str("title", 100),
            Err(DecodeError::InvalidUtf8 { offset: 1 })
        );
    }

    #[test]
    fn fixed_width_reads_report_truncation_at_their_start() {
        let mut r = Reader::new(&[1, 2, 3, 4, 5]);
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.u32_le(), Ok(0x0504_0302));
        assert_eq!(r.u8(), Err(DecodeError::Truncated { offset: 5 }));
        assert_eq!(
            Reader::new(&[1, 2, 3]).u32_le(),
            Err(DecodeError::Truncated { offset: 0 })
        );
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.raw(4), Err(DecodeError::Truncated { offset: 0 }));
        assert_eq!(r.raw(usize::MAX), Err(DecodeError::Truncated { offset: 0 }));
        assert_eq!(r.raw(3), Ok(&[1, 2, 3][..]));
        assert!(r.is_empty());
        assert_eq!(r.raw(0), Ok(&[][..]));
    }

    #[test]
    fn finish_reports_the_number_of_trailing_bytes() {
        let mut r = Reader::new(&[0, 1, 2]);
        assert_eq!(r.u8(), Ok(0));
        assert_eq!(r.finish(), Err(DecodeError::TrailingBytes { count: 2 }));
        assert_eq!(Reader::new(&[]).finish(), Ok(()));
    }
}
