//! A reader for decode's hot loops. [`Reader`] methods take `&mut self`, and
//! wasm keeps a value whose address a call takes in memory: the position is
//! stored back after every read. A [`Cursor`] is copied into the loop
//! instead, and its slow paths take and return it by value, so its position
//! stays in a local. Same checks and errors as [`Reader`].

use super::reader::{unzigzag, Reader};
use super::DecodeError;

#[derive(Clone, Copy)]
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Offset of `bytes[0]` in the input, for error offsets.
    base: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `bytes`, which start at `base` in the input.
    pub fn new(bytes: &'a [u8], base: usize) -> Self {
        Cursor {
            bytes,
            pos: 0,
            base,
        }
    }

    /// A [`Reader`] at the cursor, for reads that are rare.
    pub fn reader(&self) -> Reader<'a> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        Reader::at_offset(rest, self.base + self.pos)
    }

    /// Reads an unsigned varint, as [`Reader::varint`].
    #[inline(always)]
    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let (b, p) = (self.bytes, self.pos);
        // Most values fit in one to three bytes, read here without a call
        // (which costs in V8's baseline code).
        if let Some(&b0) = b.get(p) {
            if b0 < 0x80 {
                self.pos = p + 1;
                return Ok(u64::from(b0));
            }
            if let Some(&b1) = b.get(p + 1) {
                if b1 < 0x80 && b1 != 0 {
                    self.pos = p + 2;
                    return Ok(u64::from(b0 & 0x7f) | u64::from(b1) << 7);
                }
                if let Some(&b2) = b.get(p + 2) {
                    if b1 >= 0x80 && b2 < 0x80 && b2 != 0 {
                        self.pos = p + 3;
                        return Ok(u64::from(b0 & 0x7f)
                            | u64::from(b1 & 0x7f) << 7
                            | u64::from(b2) << 14);
                    }
                }
            }
        }
        let (value, c) = varint_long(*self)?;
        *self = c;
        Ok(value)
    }

    /// [`Cursor::varint`] out of line, for fields that are rare in hot
    /// loops: smaller code. Inlined all the same: a call taking the cursor
    /// by reference would put it back in memory.
    #[inline(always)]
    pub fn varint_rare(&mut self) -> Result<u64, DecodeError> {
        let (value, c) = varint_long(*self)?;
        *self = c;
        Ok(value)
    }

    /// Reads a zigzag-encoded signed varint, as [`Reader::varint_signed`].
    #[inline(always)]
    pub fn varint_signed(&mut self) -> Result<i64, DecodeError> {
        self.varint().map(unzigzag)
    }
}

/// The varint at `c` (a rare field's, longer than three bytes, or
/// malformed), and the cursor after it.
#[inline(never)]
fn varint_long(c: Cursor<'_>) -> Result<(u64, Cursor<'_>), DecodeError> {
    // Up to nine bytes here, quickly; ten bytes and anything malformed go
    // to the reader, for its checks and errors.
    let mut value = 0u64;
    for (i, &byte) in c.bytes.iter().skip(c.pos).take(9).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            if byte == 0 && i > 0 {
                break;
            }
            let pos = c.pos + i + 1;
            return Ok((value, Cursor { pos, ..c }));
        }
    }
    varint_by_reader(c)
}

/// The varint at `c` read by a [`Reader`]: ten bytes long, or malformed.
#[cold]
#[inline(never)]
fn varint_by_reader(c: Cursor<'_>) -> Result<(u64, Cursor<'_>), DecodeError> {
    let mut r = c.reader();
    let value = r.varint()?;
    Ok((value, r.cursor()))
}

#[cfg(test)]
mod tests {
    use super::Cursor;
    use crate::codec::reader::Reader;
    use crate::codec::writer::Writer;
    use proptest::prelude::*;

    proptest! {
        /// Every length of varint, signed or not, and the position after.
        #[test]
        fn reads_what_the_writer_wrote(
            values in proptest::collection::vec((any::<u64>(), 0u32..64, any::<bool>()), 1..12),
        ) {
            let mut w = Writer::new();
            for &(v, shift, signed) in &values {
                if signed { w.varint_signed(v as i64 >> shift) } else { w.varint(v >> shift) }
            }
            let bytes = w.into_inner();
            let mut c = Cursor::new(&bytes, 0);
            for &(v, shift, signed) in &values {
                if signed {
                    prop_assert_eq!(c.varint_signed(), Ok(v as i64 >> shift));
                } else {
                    prop_assert_eq!(c.varint(), Ok(v >> shift));
                }
            }
            prop_assert_eq!(c.reader().offset(), bytes.len());
        }

        /// A cursor reads what a reader reads: the same values, errors and
        /// positions.
        #[test]
        fn reads_like_a_reader(
            bytes in proptest::collection::vec(any::<u8>(), 0..40),
            base in 0usize..100,
            signed in proptest::collection::vec(any::<bool>(), 1..12),
        ) {
            let mut r = Reader::at_offset(&bytes, base);
            let mut c = Cursor::new(&bytes, base);
            for s in signed {
                if s {
                    let want = r.varint_signed();
                    prop_assert_eq!(c.varint_signed(), want.clone());
                    if want.is_err() { break; }
                } else {
                    let want = r.varint();
                    prop_assert_eq!(c.clone().varint_rare(), want.clone());
                    prop_assert_eq!(c.varint(), want.clone());
                    if want.is_err() { break; }
                }
                prop_assert_eq!(c.reader().offset(), r.offset());
            }
        }
    }
}
