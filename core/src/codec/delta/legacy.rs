//! The ops of a delta body inside an envelope of kind `KIND_DELTA`, which
//! builds before the compact frame wrote (`docs/PROTOCOL.md`, "Envelope
//! delta body"). Read only: stored relay logs and older peers still send
//! it. [`super::op`] reads them after [`header`] has turned their leading
//! fields into a compact op header.

use super::compact::{
    H_COUNTER, H_DELETE, H_HAS_TEXT, H_LEN_SHIFT, H_ORIGIN_SHIFT, H_REVERSED, H_TITLE,
    ORIGIN_CHAIN, ORIGIN_EXPLICIT, ORIGIN_ROOT,
};
use super::len_field;
use crate::codec::reader::Reader;
use crate::codec::DecodeError;

/// Operation tags.
const OP_INSERT: u8 = 1;
const OP_DELETE: u8 = 2;
const OP_TITLE: u8 = 3;
const OP_COUNTER: u8 = 4;

/// Insert flags (low bits of the insert header).
const INSERT_HAS_CONTENT: u64 = 1;
const INSERT_ORIGIN_SHIFT: u32 = 1;
const INSERT_ORIGIN_MASK: u64 = 3 << INSERT_ORIGIN_SHIFT;

/// Reads an op's tag and, for inserts and deletes, its header and length;
/// returns the compact op header they amount to.
pub(super) fn header(r: &mut Reader<'_>) -> Result<u64, DecodeError> {
    Ok(match r.u8()? {
        OP_INSERT => {
            let flags = r.varint()?;
            if flags & !(INSERT_HAS_CONTENT | INSERT_ORIGIN_MASK) != 0 {
                return Err(DecodeError::Invalid {
                    what: "insert flags",
                });
            }
            let len = len_field(r.varint()?)?;
            let origin = match flags >> INSERT_ORIGIN_SHIFT {
                0 => ORIGIN_ROOT,
                1 => ORIGIN_CHAIN,
                2 => ORIGIN_EXPLICIT,
                _ => {
                    return Err(DecodeError::UnknownTag {
                        what: "origin kind",
                        tag: flags & INSERT_ORIGIN_MASK,
                    })
                }
            };
            let text = if flags & INSERT_HAS_CONTENT != 0 {
                H_HAS_TEXT
            } else {
                0
            };
            u64::from(len) << H_LEN_SHIFT | origin << H_ORIGIN_SHIFT | text
        }
        OP_DELETE => {
            let header = r.varint()?;
            let len = len_field(header >> 1)?;
            let reversed = if header & 1 == 1 { H_REVERSED } else { 0 };
            u64::from(len) << H_LEN_SHIFT | reversed | H_DELETE
        }
        OP_TITLE => H_TITLE,
        OP_COUNTER => H_COUNTER,
        other => {
            return Err(DecodeError::UnknownTag {
                what: "operation",
                tag: u64::from(other),
            })
        }
    })
}
