//! The text section: the visible text, raw or LZ4-compressed, handed out to
//! the visible spans on decode.

use super::invalid;
use crate::codec::reader::Reader;
use crate::codec::writer::Writer;
use crate::codec::DecodeError;
use crate::crdt::rga::span::Agent;
use crate::crdt::rga::{Arena, BulkSpans};
use crate::ids::Seq;

/// Text section modes.
const TEXT_RAW: u64 = 0;
const TEXT_LZ4: u64 = 1;
/// Largest visible text of a document, in bytes.
const MAX_TEXT: usize = 1 << 30;

/// The visible text, LZ4-compressed when that saves at least a tenth.
pub(super) fn write_text(w: &mut Writer, text: &str) {
    if text.len() >= 256 {
        let packed = lz4_flex::block::compress(text.as_bytes());
        if packed.len() < text.len() - text.len() / 10 {
            w.varint(TEXT_LZ4);
            w.varint(text.len() as u64);
            w.bytes(&packed);
            return;
        }
    }
    w.varint(TEXT_RAW);
    w.str(text);
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
    let mut arenas: Vec<Arena> = (0..agents).map(|_| Arena::new()).collect();
    // One writer (common): its arena is the text itself, no copies. If the
    // text is ASCII too, the spans already point at their characters.
    let ascii = text.is_ascii();
    if let Some(a) = writer.filter(|_| ascii) {
        if text.len() < visible {
            return Err(invalid("text shorter than the visible spans"));
        }
        if text.len() > visible {
            return Err(invalid("text length does not match the visible spans"));
        }
        arenas[a as usize] = Arena::from_text(text, tail);
        return Ok(arenas);
    }
    let mut rest = text.as_str();
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
            s.content = if writer.is_some() {
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
    if let Some(a) = writer {
        arenas[a as usize] = Arena::from_text(text, tail);
    }
    Ok(arenas)
}
