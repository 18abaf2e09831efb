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

/// Ordering key of the character at `offset` of `s`. Agents must be
/// numbered in replica-id order (as decode numbers them).
#[inline]
fn key(s: &Span, offset: u32) -> (u64, Agent, Seq) {
    (s.lamport + u64::from(offset), s.agent, s.seq + offset)
}

/// Checks that `spans` (document order) are in RGA order, and that every
/// origin is an earlier character with a lower Lamport timestamp.
pub(crate) fn check_order(spans: &[Span]) -> Result<(), OrderError> {
    // The path from the start to the last character: spans and how many of
    // their characters are on it. Each entry's first character is a child
    // of the last character of the entry below.
    let mut path: Vec<(u32, u32)> = Vec::new();
    for (i, x) in spans.iter().enumerate() {
        let o = x.origin;
        // The sibling visited last under `o`, if any.
        let mut prev = None;
        loop {
            let Some(&mut (top, ref mut on_path)) = path.last_mut() else {
                if o.agent == ROOT_AGENT {
                    break;
                }
                return Err("span origin is not an earlier character");
            };
            let s = &spans[top as usize];
            if o.agent == s.agent && o.seq >= s.seq && o.seq - s.seq < *on_path {
                let k = o.seq - s.seq;
                if s.lamport + u64::from(k) >= x.lamport {
                    return Err("span Lamport not above its origin's");
                }
                if k + 1 < *on_path {
                    prev = Some(key(s, k + 1));
                    *on_path = k + 1;
                }
                break;
            }
            prev = Some(key(s, 0));
            path.pop();
        }
        if prev.is_some_and(|p| p < key(x, 0)) {
            return Err("spans out of RGA order");
        }
        path.push((i as u32, x.len));
    }
    Ok(())
}
