//! Checks for spans that arrive in document order (decode): verifying that
//! the order is the one RGA integration produces.
//!
//! RGA order is the preorder of the origin tree with each character's
//! children by descending `(Lamport, replica, seq)`: an insert skips exactly
//! the higher siblings (and their subtrees, whose timestamps are higher
//! still) after its origin. So a stack of the path from the start to the
//! last character checks the whole text in one pass.

use super::span::{Agent, Span, ROOT_AGENT};
use crate::ids::Seq;

/// Why a span sequence is not in RGA order.
pub(crate) type OrderError = &'static str;

/// A span on the path, and how many of its characters are on it.
#[derive(Debug)]
struct OnPath {
    agent: Agent,
    seq: Seq,
    lamport: u64,
    len: u32,
}

impl OnPath {
    /// Ordering key of the character at `offset`. Agents must be numbered
    /// in replica-id order (as decode numbers them).
    #[inline]
    fn key(&self, offset: u32) -> (u64, Agent, Seq) {
        (
            self.lamport + u64::from(offset),
            self.agent,
            self.seq + offset,
        )
    }
}

/// Checks, one span at a time in document order, that spans are in RGA
/// order and that every origin is an earlier character with a lower
/// Lamport timestamp.
#[derive(Debug, Default)]
pub(crate) struct OrderCheck {
    /// The path from the start to the last character. Each entry's first
    /// character is a child of the last character of the entry below.
    path: Vec<OnPath>,
}

impl OrderCheck {
    /// Checks the span that comes after every span pushed so far.
    #[inline]
    pub fn push(&mut self, x: &Span) -> Result<(), OrderError> {
        let path = &mut self.path;
        let o = x.origin;
        // The sibling visited last under `o`, if any.
        let mut prev = None;
        loop {
            let Some(s) = path.last_mut() else {
                if o.agent == ROOT_AGENT {
                    break;
                }
                return Err("span origin is not an earlier character");
            };
            if o.agent == s.agent && o.seq >= s.seq && o.seq - s.seq < s.len {
                let k = o.seq - s.seq;
                if s.lamport + u64::from(k) >= x.lamport {
                    return Err("span Lamport not above its origin's");
                }
                if k + 1 < s.len {
                    prev = Some(s.key(k + 1));
                    s.len = k + 1;
                }
                break;
            }
            prev = Some(s.key(0));
            path.pop();
        }
        let new = OnPath {
            agent: x.agent,
            seq: x.seq,
            lamport: x.lamport,
            len: x.len,
        };
        if prev.is_some_and(|p| p < new.key(0)) {
            return Err("spans out of RGA order");
        }
        path.push(new);
        Ok(())
    }
}
