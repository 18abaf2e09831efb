//! The text section: the visible text, raw or LZ4-compressed, handed out to
//! the visible spans on decode.

use super::invalid;
use crate::codec::reader::Reader;
use crate::codec::writer::{put_varint, Writer};
use crate::codec::DecodeError;
use crate::crdt::rga::span::Agent;
use crate::crdt::rga::{Arena, BulkSpans};
use crate::ids::Seq;

/// Text section modes.
const TEXT_RAW: u64 = 0;
const TEXT_LZ4: u64 = 1;
const TEXT_LZ4_BLOCKS: u64 = 2;
/// Raw bytes per LZ4 block in mode 2. Below 64 KiB lz4_flex hashes the
/// same way on 32- and 64-bit targets, so wasm and native builds write the
/// same bytes; one block over it would not.
const TEXT_BLOCK: usize = 61_440;
/// Largest visible text of a document, in bytes.
const MAX_TEXT: usize = 1 << 30;
/// Longest varint.
const MAX_VARINT: usize = 10;

/// The visible text, LZ4-compressed when that saves at least a tenth: one
/// block (mode 1) up to [`TEXT_BLOCK`] bytes, else one block per
/// [`TEXT_BLOCK`] bytes (mode 2).
pub(super) fn write_text(w: &mut Writer, text: &[u8]) {
    if text.len() >= 256 {
        let start = w.len();
        let mode = if text.len() <= TEXT_BLOCK {
            TEXT_LZ4
        } else {
            TEXT_LZ4_BLOCKS
        };
        w.varint(mode);
        w.varint(text.len() as u64);
        // The packed blocks together must stay under `limit` bytes.
        let mut left = text.len() - text.len() / 10;
        let packed = text.chunks(TEXT_BLOCK).try_for_each(|raw| {
            left -= write_block(w, raw, left)?;
            Some(())
        });
        if packed.is_some() {
            return;
        }
        w.truncate(start);
    }
    w.varint(TEXT_RAW);
    w.bytes(text);
}

/// Appends `raw` as a length-prefixed LZ4 block compressed straight into
/// `w`, if the block is shorter than `limit`; returns its length.
fn write_block(w: &mut Writer, raw: &[u8], limit: usize) -> Option<usize> {
    // Room for the varint of `limit` is enough for the block's; the block
    // moves down when its length takes fewer bytes.
    let start = w.len();
    let max = lz4_flex::block::get_maximum_output_size(raw.len());
    let slot = varint_len(limit as u64);
    let buf = w.room(start, slot + max);
    let block = start + slot;
    match lz4_flex::block::compress_into(raw, &mut buf[block..block + max]) {
        Ok(packed) if packed < limit => {
            let at = put_varint(buf, start, packed as u64);
            if at < block {
                buf.copy_within(block..block + packed, at);
            }
            w.truncate(at + packed);
            Some(packed)
        }
        _ => {
            w.truncate(start);
            None
        }
    }
}

/// Most bytes [`write_text`] takes for a text of `len` bytes.
pub(super) fn max_text_bytes(len: usize) -> usize {
    let blocks = len.div_ceil(TEXT_BLOCK).max(1);
    (2 + blocks) * MAX_VARINT + len.max(lz4_flex::block::get_maximum_output_size(len) + blocks * 20)
}

/// Bytes of the varint of `v`.
fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

pub(super) fn read_text(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    let mode = r.varint()?;
    if mode == TEXT_RAW {
        return Ok(r.str("text", MAX_TEXT)?.to_owned());
    }
    if mode != TEXT_LZ4 && mode != TEXT_LZ4_BLOCKS {
        return Err(DecodeError::UnknownTag {
            what: "text mode",
            tag: mode,
        });
    }
    let size = r.varint_usize_max("text", MAX_TEXT)?;
    // LZ4 expands at most ~255x: refuse sizes no input can reach before
    // allocating them.
    if size > r.remaining().saturating_mul(255) {
        return Err(invalid("compressed text size"));
    }
    // Mode 1 is one block, even of an empty text; mode 2 one per TEXT_BLOCK.
    let (block, blocks) = if mode == TEXT_LZ4 {
        (size, 1)
    } else {
        (TEXT_BLOCK, size.div_ceil(TEXT_BLOCK))
    };
    let mut raw = vec![0; size];
    let mut done = 0;
    for _ in 0..blocks {
        let packed = r.bytes("compressed text", MAX_TEXT)?;
        let out = &mut raw[done..size.min(done + block)];
        if out.len() > packed.len().saturating_mul(255) {
            return Err(invalid("compressed text size"));
        }
        match lz4_flex::block::decompress_into(packed, out) {
            Ok(got) if got == out.len() => done += got,
            Ok(_) => return Err(invalid("compressed text size")),
            Err(_) => return Err(invalid("compressed text")),
        }
    }
    String::from_utf8(raw).map_err(|e| DecodeError::InvalidUtf8 {
        offset: e.utf8_error().valid_up_to(),
    })
}

/// Hands each visible span its characters of `text`, in order, into its
/// replica's arena. `visible` is the spans' total; `writer` (the only
/// replica with visible spans, if one is) and `tail` are as in
/// [`super::spans::ReadSpans`].
pub(super) fn hand_out(
    spans: &mut BulkSpans,
    text: String,
    visible: usize,
    writer: Option<Agent>,
    tail: Seq,
    agents: usize,
) -> Result<Vec<Arena>, DecodeError> {
    // The one scan of the text for non-ASCII bytes.
    let whole = Arena::from_text(text, tail);
    let mut arenas: Vec<Arena> = (0..agents).map(|_| Arena::new()).collect();
    // One writer (common): its arena is the text itself, no copies. If the
    // text is ASCII too, the spans already point at their characters.
    if let Some(a) = writer.filter(|_| whole.is_ascii()) {
        let len = whole.text().len();
        if len < visible {
            return Err(invalid("text shorter than the visible spans"));
        }
        if len > visible {
            return Err(invalid("text length does not match the visible spans"));
        }
        arenas[a as usize] = whole;
        return Ok(arenas);
    }
    hand_out_pieces(spans, &whole, visible, writer.is_some(), &mut arenas)?;
    if let Some(a) = writer {
        arenas[a as usize] = whole;
    }
    Ok(arenas)
}

/// [`hand_out`] when spans need their content offsets: non-ASCII text, or
/// several writers (whose pieces go to their own arenas). Out of line, so
/// the common case stays small for V8 to optimize.
#[inline(never)]
fn hand_out_pieces(
    spans: &mut BulkSpans,
    whole: &Arena,
    visible: usize,
    one_writer: bool,
    arenas: &mut [Arena],
) -> Result<(), DecodeError> {
    let (text, ascii) = (whole.text(), whole.is_ascii());
    let mut rest = text;
    let mut chars_seen = 0usize;
    for chunk in spans.chunks_mut() {
        for s in chunk.iter_mut() {
            if s.deleted {
                continue;
            }
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
            s.content = if one_writer {
                (text.len() - rest.len()) as u32
            } else {
                arenas[s.agent as usize].push(piece, s.seq, s.len).0
            };
            rest = after;
        }
    }
    if !rest.is_empty() || chars_seen != visible {
        return Err(invalid("text length does not match the visible spans"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{read_text, write_text, TEXT_BLOCK, TEXT_LZ4, TEXT_LZ4_BLOCKS, TEXT_RAW};
    use crate::codec::reader::Reader;
    use crate::codec::writer::Writer;
    use crate::codec::DecodeError;

    /// The section as `docs/PROTOCOL.md` defines it, from separate blocks.
    fn reference(text: &str) -> Vec<u8> {
        let blocks: Vec<Vec<u8>> = text
            .as_bytes()
            .chunks(TEXT_BLOCK)
            .map(lz4_flex::block::compress)
            .collect();
        let packed: usize = blocks.iter().map(Vec::len).sum();
        let mut w = Writer::new();
        if text.len() >= 256 && packed < text.len() - text.len() / 10 {
            let mode = if blocks.len() == 1 {
                TEXT_LZ4
            } else {
                TEXT_LZ4_BLOCKS
            };
            w.varint(mode);
            w.varint(text.len() as u64);
            for b in &blocks {
                w.bytes(b);
            }
        } else {
            w.varint(TEXT_RAW);
            w.str(text);
        }
        w.into_inner()
    }

    /// Printable pseudo-random ASCII, which LZ4 barely compresses.
    fn noise(len: usize) -> String {
        let mut x = 1u32;
        (0..len)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                char::from(b'!' + (x >> 24) as u8 % 90)
            })
            .collect()
    }

    fn words(len: usize) -> String {
        let mut x = 7u32;
        let mut s = String::new();
        while s.len() < len {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            s.push_str(
                ["quire ", "sync ", "text ", "délta ", "merge ", "€ "][(x >> 29) as usize % 6],
            );
        }
        s
    }

    fn section(text: &str) -> Vec<u8> {
        let mut w = Writer::new();
        write_text(&mut w, text.as_bytes());
        w.into_inner()
    }

    #[test]
    fn text_section_matches_the_reference_and_round_trips() {
        let texts = [
            String::new(),
            "short".to_owned(),
            "ab".repeat(127),
            "ab".repeat(128),
            // The block's length takes fewer varint bytes than the room
            // left for it (2 instead of 3), so the block moves down.
            "the quick brown fox ".repeat(1000),
            "é€𝄞 mixed".repeat(500),
            noise(3000),
            // One block, and the smallest and a larger text of several (a
            // block boundary may split a character).
            words(TEXT_BLOCK),
            words(TEXT_BLOCK + 1),
            words(3 * TEXT_BLOCK + 1000),
            // Compressible blocks, then one that is not: stays raw.
            format!("{}{}", "ab".repeat(TEXT_BLOCK), noise(TEXT_BLOCK * 2)),
        ];
        for text in &texts {
            let mut w = Writer::new();
            w.u8(0xaa);
            write_text(&mut w, text.as_bytes());
            let bytes = w.into_inner();
            assert_eq!(bytes[1..], reference(text), "text of {} bytes", text.len());
            let mut r = Reader::new(&bytes[1..]);
            assert_eq!(read_text(&mut r).as_deref(), Ok(text.as_str()));
        }
    }

    /// Earlier builds wrote any text as one block; it still reads.
    #[test]
    fn one_block_over_the_block_size_still_reads() {
        let text = words(2 * TEXT_BLOCK);
        let mut w = Writer::new();
        w.varint(TEXT_LZ4);
        w.varint(text.len() as u64);
        w.bytes(&lz4_flex::block::compress(text.as_bytes()));
        let bytes = w.into_inner();
        assert_eq!(
            read_text(&mut Reader::new(&bytes)).as_deref(),
            Ok(text.as_str())
        );
    }

    #[test]
    fn broken_blocks_are_typed_errors() {
        let text = words(2 * TEXT_BLOCK + 10);
        let good = section(&text);
        assert_eq!(good[0], TEXT_LZ4_BLOCKS as u8);
        // Truncations fail, none panics (a stride: debug builds are slow).
        for len in (0..good.len())
            .step_by(61)
            .chain(good.len() - 64..good.len())
        {
            assert!(
                read_text(&mut Reader::new(&good[..len])).is_err(),
                "truncated to {len}"
            );
        }
        // A size one byte short or long: the last block does not fit.
        let size_at = 1;
        let mut r = Reader::new(&good[size_at..]);
        let size = r.varint().unwrap() as usize;
        let rest = &good[good.len() - r.remaining()..];
        for wrong in [size - 1, size + 1] {
            let mut w = Writer::new();
            w.varint(TEXT_LZ4_BLOCKS);
            w.varint(wrong as u64);
            w.raw(rest);
            let got = read_text(&mut Reader::new(w.as_slice()));
            assert!(
                matches!(
                    got,
                    Err(DecodeError::Invalid { .. } | DecodeError::Truncated { .. })
                ),
                "size {wrong}: {got:?}"
            );
        }
        // A size no input of this length can reach is refused up front.
        let mut w = Writer::new();
        w.varint(TEXT_LZ4_BLOCKS);
        w.varint(1 << 29);
        w.bytes(&[0]);
        assert_eq!(
            read_text(&mut Reader::new(w.as_slice())),
            Err(DecodeError::Invalid {
                what: "compressed text size"
            })
        );
    }
}
