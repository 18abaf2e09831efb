//! Spans in document order, already cut into the leaves a bulk-built tree
//! gets: decode fills them once, checks them, and the tree takes the
//! leaves over without copying a span.

use super::span::Span;
use super::tree::{Leaf, BULK_FILL};
use core::ops::Index;

#[derive(Debug, Default)]
pub(crate) struct BulkSpans {
    pub(super) leaves: Vec<Leaf>,
    /// Spans announced, to size the last leaf exactly.
    announced: usize,
}

impl BulkSpans {
    /// Room for `n` spans.
    pub fn with_capacity(n: usize) -> Self {
        BulkSpans {
            leaves: Vec::with_capacity(n.div_ceil(BULK_FILL)),
            announced: n,
        }
    }

    /// Adds a span. The span goes straight into its leaf: were it passed
    /// to the (cold) call that starts a leaf, wasm would build it in
    /// memory and copy it.
    #[inline]
    pub fn push(&mut self, s: Span) {
        if self
            .leaves
            .last()
            .is_none_or(|leaf| leaf.spans.len() >= BULK_FILL)
        {
            self.start_leaf();
        }
        if let Some(leaf) = self.leaves.last_mut() {
            leaf.spans.push(s);
        }
    }

    #[cold]
    fn start_leaf(&mut self) {
        let room = self
            .announced
            .saturating_sub(self.len())
            .clamp(1, BULK_FILL);
        self.leaves.push(Leaf::new(Vec::with_capacity(room)));
    }

    pub fn len(&self) -> usize {
        self.leaves
            .last()
            .map_or(0, |l| (self.leaves.len() - 1) * BULK_FILL + l.spans.len())
    }

    /// The spans, leaf by leaf.
    pub fn chunks(&self) -> impl DoubleEndedIterator<Item = &[Span]> + '_ {
        self.leaves.iter().map(|l| l.spans.as_slice())
    }

    pub fn chunks_mut(&mut self) -> impl Iterator<Item = &mut [Span]> + '_ {
        self.leaves.iter_mut().map(|l| l.spans.as_mut_slice())
    }
}

impl Index<usize> for BulkSpans {
    type Output = Span;

    #[inline]
    fn index(&self, i: usize) -> &Span {
        &self.leaves[i / BULK_FILL].spans[i % BULK_FILL]
    }
}

#[cfg(test)]
mod tests {
    use super::BulkSpans;
    use crate::crdt::rga::span::{ItemId, Span, NO_CONTENT, ROOT_AGENT};
    use crate::crdt::rga::tree::BULK_FILL;

    fn span(seq: u32) -> Span {
        Span {
            agent: 0,
            seq,
            len: 1,
            utf16: 1,
            lamport: u64::from(seq) + 1,
            origin: ItemId {
                agent: ROOT_AGENT,
                seq: 0,
            },
            content: NO_CONTENT,
            deleted: false,
        }
    }

    #[test]
    fn spans_keep_their_index_and_announced_leaves_have_no_slack() {
        for n in [
            0,
            1,
            BULK_FILL - 1,
            BULK_FILL,
            BULK_FILL + 1,
            5 * BULK_FILL + 3,
        ] {
            let mut spans = BulkSpans::with_capacity(n);
            for i in 0..n as u32 {
                spans.push(span(i));
            }
            assert_eq!(spans.len(), n);
            for i in 0..n {
                assert_eq!(spans[i].seq, i as u32);
            }
            let room: usize = spans.leaves.iter().map(|l| l.spans.capacity()).sum();
            assert_eq!(room, n, "{n} spans");
            assert!(spans.leaves.iter().all(|l| l.spans.len() <= BULK_FILL));
        }
    }
}
