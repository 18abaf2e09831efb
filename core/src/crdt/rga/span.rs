//! Run-length spans of characters, and the per-replica content arena.
//!
//! A span is a run of characters inserted by one replica with consecutive
//! sequence numbers and Lamport timestamps, where each character's origin is
//! the one before it. Only the first character's origin is stored.

use crate::ids::Seq;

/// Index of a replica in a document's replica table (local to one document).
pub(crate) type Agent = u32;

/// A character id with the replica interned.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub(crate) struct ItemId {
    pub agent: Agent,
    pub seq: Seq,
}

/// Sentinel agent for "no origin" (the start of the document).
pub(crate) const ROOT_AGENT: Agent = Agent::MAX;
/// Sentinel content offset for characters whose content is unknown (they
/// arrived already deleted).
pub(crate) const NO_CONTENT: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub agent: Agent,
    pub seq: Seq,
    /// Characters in the run.
    pub len: u32,
    /// UTF-16 code units of the run's content.
    pub utf16: u32,
    /// Lamport timestamp of the first character; the k-th has `lamport + k`.
    pub lamport: u64,
    /// Origin of the first character (`ROOT_AGENT` agent for none).
    pub origin: ItemId,
    /// Byte offset of the content in the agent's arena, or `NO_CONTENT`.
    pub content: u32,
    pub deleted: bool,
}

impl Span {
    #[inline]
    pub fn visible_chars(&self) -> u32 {
        if self.deleted {
            0
        } else {
            self.len
        }
    }

    #[inline]
    pub fn visible_utf16(&self) -> u32 {
        if self.deleted {
            0
        } else {
            self.utf16
        }
    }

    #[inline]
    pub fn contains(&self, agent: Agent, seq: Seq) -> bool {
        self.agent == agent && seq >= self.seq && seq - self.seq < self.len
    }

    #[inline]
    pub fn last_id(&self) -> ItemId {
        ItemId {
            agent: self.agent,
            seq: self.seq + self.len - 1,
        }
    }

    /// Origin of the character at `offset`.
    #[inline]
    pub fn origin_at(&self, offset: u32) -> ItemId {
        if offset == 0 {
            self.origin
        } else {
            ItemId {
                agent: self.agent,
                seq: self.seq + offset - 1,
            }
        }
    }

    /// True when `next` continues this run exactly (same replica, chained
    /// ids and clocks, same state, adjacent content).
    #[inline]
    pub fn can_append(&self, next: &Span, content_bytes: u32) -> bool {
        self.agent == next.agent
            && self.deleted == next.deleted
            && self.seq + self.len == next.seq
            && self.lamport + u64::from(self.len) == next.lamport
            && next.origin == self.last_id()
            && match (self.content, next.content) {
                (NO_CONTENT, NO_CONTENT) => true,
                (NO_CONTENT, _) | (_, NO_CONTENT) => false,
                (a, b) => a + content_bytes == b,
            }
    }
}

/// The text a replica inserted, in arrival order (which is its sequence
/// order). Spans point into it by byte offset.
#[derive(Clone, Debug, Default)]
pub(crate) struct Arena {
    text: String,
    /// True while every byte is ASCII, so char and byte offsets coincide.
    ascii: bool,
    /// The seq right after the last pushed run: a run pushed at that seq
    /// continues the previous content.
    tail: Option<Seq>,
}

impl Arena {
    pub fn new() -> Self {
        Self {
            text: String::new(),
            ascii: true,
            tail: None,
        }
    }

    /// An arena holding `text`, whose last run ends before `tail`.
    pub fn from_text(text: String, tail: Seq) -> Self {
        Self {
            ascii: text.is_ascii(),
            text,
            tail: Some(tail),
        }
    }

    /// Appends the content of the run `seq..seq + chars`, returning its byte
    /// offset and whether it directly follows the content of `seq - 1`.
    pub fn push(&mut self, s: &str, seq: Seq, chars: u32) -> (u32, bool) {
        let at = self.text.len() as u32;
        match s.as_bytes() {
            // One typed ASCII key: no scan, no copy call.
            &[b] if b.is_ascii() => self.text.push(char::from(b)),
            _ => {
                self.ascii &= s.is_ascii();
                self.text.push_str(s);
            }
        }
        let follows = self.tail == Some(seq);
        self.tail = Some(seq + chars);
        (at, follows)
    }

    pub fn is_ascii(&self) -> bool {
        self.ascii
    }

    /// Everything pushed so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The `chars` characters starting at byte `offset`.
    #[inline]
    pub fn slice(&self, offset: u32, chars: u32) -> &str {
        let start = offset as usize;
        let end = if self.ascii {
            start + chars as usize
        } else {
            start + byte_len(&self.text[start..], chars)
        };
        &self.text[start..end]
    }

    /// Byte length and UTF-16 length of the first `chars` characters at
    /// byte `offset`.
    pub fn measure(&self, offset: u32, chars: u32) -> (u32, u32) {
        if self.ascii {
            return (chars, chars);
        }
        let mut bytes = 0;
        let mut utf16 = 0;
        for c in self.text[offset as usize..].chars().take(chars as usize) {
            bytes += c.len_utf8() as u32;
            utf16 += c.len_utf16() as u32;
        }
        (bytes, utf16)
    }

    pub fn heap_bytes(&self) -> usize {
        self.text.capacity()
    }
}

fn byte_len(s: &str, chars: u32) -> usize {
    s.char_indices()
        .nth(chars as usize)
        .map_or(s.len(), |(i, _)| i)
}

/// Splits `span` at character `offset` (0 < offset < len) using the arena to
/// measure content, returning the right half; `span` keeps the left half.
pub(crate) fn split_span(span: &mut Span, offset: u32, arena: &Arena) -> Span {
    debug_assert!(offset > 0 && offset < span.len);
    let (bytes, utf16) = if span.content == NO_CONTENT {
        (0, 0)
    } else if arena.is_ascii() {
        (offset, offset)
    } else {
        arena.measure(span.content, offset)
    };
    let right = Span {
        agent: span.agent,
        seq: span.seq + offset,
        len: span.len - offset,
        utf16: if span.content == NO_CONTENT {
            span.len - offset
        } else {
            span.utf16 - utf16
        },
        lamport: span.lamport + u64::from(offset),
        origin: ItemId {
            agent: span.agent,
            seq: span.seq + offset - 1,
        },
        content: if span.content == NO_CONTENT {
            NO_CONTENT
        } else {
            span.content + bytes
        },
        deleted: span.deleted,
    };
    span.len = offset;
    span.utf16 = if span.content == NO_CONTENT {
        offset
    } else {
        utf16
    };
    right
}
