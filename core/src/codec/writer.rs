//! Appending primitives to a byte buffer (the inverse of [`super::reader`]).
//!
//! Integers are unsigned LEB128 varints (signed ones zigzag-mapped first);
//! byte strings and strings are a varint length followed by the raw bytes.
//! Writing cannot fail.

// Used by the doc and delta codecs.
#![allow(dead_code)]

use crate::ids::ReplicaId;

/// A growable output buffer with the format's primitive encoders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub(crate) fn new() -> Self {
        Self { buf: Vec::new() }
    }

    /// An empty writer with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
        }
    }

    /// Appends one byte.
    pub(crate) fn u8(&mut self, value: u8) {
        self.buf.push(value);
    }

    /// Appends a `u32` as 4 little-endian bytes.
    pub(crate) fn u32_le(&mut self, value: u32) {
        self.buf.extend_from_slice(&value.to_le_bytes());
    }

    /// Appends an unsigned LEB128 varint (1 to 10 bytes, always canonical).
    pub(crate) fn varint(&mut self, mut value: u64) {
        if value < 0x80 {
            self.buf.push(value as u8);
            return;
        }
        while value >= 0x80 {
            self.buf.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.buf.push(value as u8);
    }

    /// Appends a signed integer: zigzag-mapped (0, -1, 1, -2, ... to
    /// 0, 1, 2, 3, ...) so small magnitudes stay short, then as a varint.
    pub(crate) fn varint_signed(&mut self, value: i64) {
        self.varint(zigzag(value));
    }

    /// Appends a byte string: its length as a varint, then the bytes.
    pub(crate) fn bytes(&mut self, value: &[u8]) {
        self.varint(value.len() as u64);
        self.buf.extend_from_slice(value);
    }

    /// Appends a string: its UTF-8 length in bytes as a varint, then the bytes.
    pub(crate) fn str(&mut self, value: &str) {
        self.bytes(value.as_bytes());
    }

    /// Appends bytes as they are, with no length prefix.
    pub(crate) fn raw(&mut self, value: &[u8]) {
        self.buf.extend_from_slice(value);
    }

    /// Appends a replica id (8 bytes, little-endian).
    pub(crate) fn replica(&mut self, id: ReplicaId) {
        self.raw(&id.0.to_le_bytes());
    }

    /// The buffer, grown (zero-filled) to at least `len + n` bytes, where
    /// `len` counts the bytes written so far: hot loops write into it with
    /// [`put_varint`], keep `len` in a local, and end with
    /// [`Writer::truncate`]. No capacity check or length update per byte.
    #[inline]
    pub(crate) fn room(&mut self, len: usize, n: usize) -> &mut [u8] {
        if self.buf.len() < len + n {
            self.grow(len + n);
        }
        &mut self.buf
    }

    #[cold]
    fn grow(&mut self, min: usize) {
        let len = min.max(self.buf.len() * 2);
        self.buf.resize(len, 0);
    }

    /// Keeps the first `len` bytes (closes a [`Writer::room`] section).
    pub(crate) fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
    }

    /// Number of bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing has been written yet.
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The bytes written so far.
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    /// Gives up the buffer.
    pub(crate) fn into_inner(self) -> Vec<u8> {
        self.buf
    }
}

/// Writes `value` as a varint at `buf[pos..]` and returns the position
/// after it (see [`Writer::room`]). Panics if `buf` is too short.
#[inline(always)]
pub(crate) fn put_varint(buf: &mut [u8], mut pos: usize, mut value: u64) -> usize {
    while value >= 0x80 {
        buf[pos] = value as u8 | 0x80;
        value >>= 7;
        pos += 1;
    }
    buf[pos] = value as u8;
    pos + 1
}

/// The varint of `v` (below 2^21) as little-endian bytes, and its length:
/// hot loops pack a few into one word and write them with one store.
#[inline(always)]
pub(crate) fn short_varint(v: u64) -> (u64, usize) {
    let n = 1 + usize::from(v >= 0x80) + usize::from(v >= 0x4000);
    // 7-bit groups spread into bytes, continuation bits on all but the last.
    let groups = v & 0x7f | (v << 1) & 0x7f00 | (v << 2) & 0x7f_0000;
    (groups | ((1 << (8 * (n - 1))) - 1) & 0x8080, n)
}

/// Writes a length-prefixed byte string like [`Writer::bytes`] at
/// `buf[pos..]` and returns the position after it.
pub(crate) fn put_bytes(buf: &mut [u8], pos: usize, value: &[u8]) -> usize {
    let pos = put_varint(buf, pos, value.len() as u64);
    buf[pos..pos + value.len()].copy_from_slice(value);
    pos + value.len()
}

/// Maps a signed integer to an unsigned one so that small magnitudes of
/// either sign get small values: `0, -1, 1, -2, ...` to `0, 1, 2, 3, ...`.
pub(crate) const fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

#[cfg(test)]
mod tests {
    use super::{put_bytes, put_varint, short_varint, zigzag, Writer};

    fn varint_bytes(value: u64) -> Vec<u8> {
        let mut w = Writer::new();
        w.varint(value);
        w.into_inner()
    }

    #[test]
    fn varint_encodes_known_values() {
        assert_eq!(varint_bytes(0), [0x00]);
        assert_eq!(varint_bytes(1), [0x01]);
        assert_eq!(varint_bytes(127), [0x7f]);
        assert_eq!(varint_bytes(128), [0x80, 0x01]);
        assert_eq!(varint_bytes(300), [0xac, 0x02]);
        assert_eq!(varint_bytes(16_383), [0xff, 0x7f]);
        assert_eq!(varint_bytes(16_384), [0x80, 0x80, 0x01]);
        assert_eq!(
            varint_bytes(u64::MAX),
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
    }

    #[test]
    fn short_varint_matches_varint_below_2_pow_21() {
        for v in [0, 1, 0x7f, 0x80, 300, 0x3fff, 0x4000, 99_999, (1 << 21) - 1] {
            let (bytes, n) = short_varint(v);
            assert_eq!(bytes.to_le_bytes()[..n], varint_bytes(v), "{v}");
            assert_eq!(bytes >> (8 * n), 0, "{v}");
        }
    }

    #[test]
    fn varint_length_is_one_byte_per_seven_bits() {
        assert_eq!(varint_bytes(0).len(), 1);
        for bits in 1..=64u32 {
            let value = if bits == 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            };
            assert_eq!(varint_bytes(value).len(), bits.div_ceil(7) as usize);
        }
    }

    #[test]
    fn zigzag_maps_small_magnitudes_to_small_values() {
        assert_eq!(zigzag(0), 0);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        assert_eq!(zigzag(-2), 3);
        assert_eq!(zigzag(i64::MAX), u64::MAX - 1);
        assert_eq!(zigzag(i64::MIN), u64::MAX);
    }

    #[test]
    fn put_varint_and_put_bytes_write_what_writer_writes() {
        let values = [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ];
        let mut w = Writer::new();
        let mut len = 0;
        for v in values {
            let buf = w.room(len, 10);
            len = put_varint(buf, len, v);
        }
        let buf = w.room(len, 12);
        len = put_bytes(buf, len, b"hello");
        w.truncate(len);
        let mut want = Writer::new();
        for v in values {
            want.varint(v);
        }
        want.bytes(b"hello");
        assert_eq!(w, want);
    }

    #[test]
    fn signed_varint_of_minus_one_is_one_byte() {
        let mut w = Writer::new();
        w.varint_signed(-1);
        assert_eq!(w.as_slice(), [0x01]);
    }

    #[test]
    fn strings_and_bytes_are_length_prefixed() {
        let mut w = Writer::with_capacity(16);
        assert!(w.is_empty());
        w.str("héllo");
        w.bytes(&[]);
        w.bytes(&[9, 8]);
        assert_eq!(
            w.as_slice(),
            [6, b'h', 0xc3, 0xa9, b'l', b'l', b'o', 0, 2, 9, 8]
        );
        assert_eq!(w.len(), 11);
    }

    #[test]
    fn fixed_width_and_raw_writes_have_no_prefix() {
        let mut w = Writer::new();
        w.u8(0xab);
        w.u32_le(0x0403_0201);
        w.raw(b"xy");
        assert_eq!(w.into_inner(), [0xab, 1, 2, 3, 4, b'x', b'y']);
    }
}
