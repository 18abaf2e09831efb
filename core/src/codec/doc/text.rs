//! The text section: the visible text, raw or LZ4-compressed, handed out to
//! the visible spans on decode.

use super::invalid;
use crate::codec::reader::Reader;
use crate::codec::writer::{put_varint, Writer};
use crate::codec::DecodeError;
use crate::crdt::rga::span::Span;
use crate::crdt::rga::Arena;

/// Text section modes.
const TEXT_RAW: u64 = 0;
const TEXT_LZ4: u64 = 1;
/// Largest visible text of a document, in bytes.
const MAX_TEXT: usize = 1 << 30;
/// Longest varint.
const MAX_VARINT: usize = 10;

/// The visible text, LZ4-compressed when that saves at least a tenth.
/// The block is compressed straight into `w`, after room for its length.
pub(super) fn write_text(w: &mut Writer, text: &str) {
    if text.len() >= 256 {
        // Blocks of `limit` bytes or more are not kept: room for the varint
        // of `limit` is enough, and the block moves down when its length
        // takes fewer bytes.
        let limit = text.len() - text.len() / 10;
        let start = w.len();
        let max = lz4_flex::block::get_maximum_output_size(text.len());
        let slot = varint_len(limit as u64);
        let buf = w.room(start, 2 * MAX_VARINT + slot + max);
        let mut at = put_varint(buf, start, TEXT_LZ4);
        at = put_varint(buf, at, text.len() as u64);
        let block = at + slot;
        match lz4_flex::block::compress_into(text.as_bytes(), &mut buf[block..block + max]) {
            Ok(packed) if packed < limit => {
                at = put_varint(buf, at, packed as u64);
                if at < block {
                    buf.copy_within(block..block + packed, at);
                }
                w.truncate(at + packed);
                return;
            }
            _ => w.truncate(start),
        }
    }
    w.varint(TEXT_RAW);
    w.str(text);
}

/// Most bytes [`write_text`] takes for a text of `len` bytes.
pub(super) fn max_text_bytes(len: usize) -> usize {
    3 * MAX_VARINT + len.max(lz4_flex::block::get_maximum_output_size(len))
}

/// Bytes of the varint of `v`.
fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

pub(super) fn read_text(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    match r.varint()? {
        TEXT_RAW => Ok(r.str("text", MAX_TEXT)?.to_owned()),
        TEXT_LZ4 => {
            let size = r.varint_usize_max("text", MAX_TEXT)?;
            let packed = r.bytes("compressed text", MAX_TEXT)?;
            // LZ4 expands at most ~255x: refuse sizes no input can reach.
            if size > packed.len().saturating_mul(255) {
                return Err(invalid("compressed text size"));
            }
            let raw = lz4_flex::block::decompress(packed, size)
                .map_err(|_| invalid("compressed text"))?;
            if raw.len() != size {
                return Err(invalid("compressed text size"));
            }
            String::from_utf8(raw).map_err(|e| DecodeError::InvalidUtf8 {
                offset: e.utf8_error().valid_up_to(),
            })
        }
        other => Err(DecodeError::UnknownTag {
            what: "text mode",
            tag: other,
        }),
    }
}

/// Hands each visible span its characters of `text`, in order, into its
/// replica's arena; `visible` is the spans' total.
pub(super) fn hand_out(
    spans: &mut [Span],
    text: String,
    visible: usize,
    agents: usize,
) -> Result<Vec<Arena>, DecodeError> {
    let mut arenas: Vec<Arena> = (0..agents).map(|_| Arena::new()).collect();
    // One writer (common): its arena is the text itself, no copies.
    let mut shown = spans.iter().filter(|s| !s.deleted);
    let first = shown.next().map(|s| s.agent);
    let single = first.filter(|&a| shown.all(|s| s.agent == a));
    let ascii = text.is_ascii();
    let mut rest = text.as_str();
    let mut chars_seen = 0usize;
    let mut tail = 0;
    for s in spans.iter_mut().filter(|s| !s.deleted) {
        let bytes = if ascii {
            s.len as usize
        } else {
            let mut ends = rest
                .char_indices()
                .map(|(i, _)| i)
                .chain(core::iter::once(rest.len()));
            ends.nth(s.len as usize)
                .ok_or(invalid("text shorter than the visible spans"))?
        };
        if bytes > rest.len() {
            return Err(invalid("text shorter than the visible spans"));
        }
        let (piece, after) = rest.split_at(bytes);
        chars_seen += s.len as usize;
        if !ascii {
            s.utf16 = piece.encode_utf16().count() as u32;
        }
        s.content = if single.is_some() {
            (text.len() - rest.len()) as u32
        } else {
            arenas[s.agent as usize].push(piece, s.seq, s.len).0
        };
        tail = s.seq + s.len;
        rest = after;
    }
    if !rest.is_empty() || chars_seen != visible {
        return Err(invalid("text length does not match the visible spans"));
    }
    if let Some(a) = single {
        arenas[a as usize] = Arena::from_text(text, tail);
    }
    Ok(arenas)
}

#[cfg(test)]
mod tests {
    use super::{read_text, write_text, TEXT_LZ4, TEXT_RAW};
    use crate::codec::reader::Reader;
    use crate::codec::writer::Writer;

    /// The section as `docs/PROTOCOL.md` defines it, from a separate block.
    fn reference(text: &str) -> Vec<u8> {
        let mut w = Writer::new();
        let packed = lz4_flex::block::compress(text.as_bytes());
        if text.len() >= 256 && packed.len() < text.len() - text.len() / 10 {
            w.varint(TEXT_LZ4);
            w.varint(text.len() as u64);
            w.bytes(&packed);
        } else {
            w.varint(TEXT_RAW);
            w.str(text);
        }
        w.into_inner()
    }

    #[test]
    fn text_section_matches_the_reference_and_round_trips() {
        let mut noise = String::new();
        let mut x = 1u32;
        for _ in 0..3000 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            noise.push(char::from(b'!' + (x >> 24) as u8 % 90));
        }
        let texts = [
            String::new(),
            "short".to_owned(),
            "ab".repeat(127),
            "ab".repeat(128),
            // The block's length takes fewer varint bytes than the room
            // left for it (2 instead of 3), so the block moves down.
            "the quick brown fox ".repeat(1000),
            "é€𝄞 mixed".repeat(500),
            noise,
        ];
        for text in &texts {
            let mut w = Writer::new();
            w.u8(0xaa);
            write_text(&mut w, text);
            let bytes = w.into_inner();
            assert_eq!(bytes[1..], reference(text), "text of {} bytes", text.len());
            let mut r = Reader::new(&bytes[1..]);
            assert_eq!(read_text(&mut r).as_deref(), Ok(text.as_str()));
        }
    }
}
