//! A B-tree of spans in document order, indexed by visible length (in
//! characters and in UTF-16 code units). Nodes live in arenas and refer to
//! each other by index; leaves are linked for fast scans.

use super::bulk::BulkSpans;
use super::span::Span;

/// Spans per leaf at most.
pub(crate) const LEAF_CAP: usize = 32;
/// A splice adds at most this many spans before the leaf is split.
const LEAF_SLACK: usize = 4;
/// Children per internal node at most.
const NODE_CAP: usize = 16;
/// Spans per leaf when building in bulk: room to grow without splitting.
pub(super) const BULK_FILL: usize = LEAF_CAP * 3 / 4;
/// Null index.
pub(crate) const NONE: u32 = u32::MAX;

/// Visible length of a subtree.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct Counts {
    pub chars: usize,
    pub utf16: usize,
}

impl Counts {
    fn of(spans: &[Span]) -> Counts {
        let mut c = Counts::default();
        for s in spans {
            c.chars += s.visible_chars() as usize;
            c.utf16 += s.visible_utf16() as usize;
        }
        c
    }
    fn add(&mut self, o: Counts) {
        self.chars += o.chars;
        self.utf16 += o.utf16;
    }
    fn sub(&mut self, o: Counts) {
        self.chars -= o.chars;
        self.utf16 -= o.utf16;
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Leaf {
    pub spans: Vec<Span>,
    pub parent: u32,
    pub prev: u32,
    pub next: u32,
    pub counts: Counts,
}

#[derive(Clone, Debug)]
struct Node {
    children: Vec<u32>,
    parent: u32,
    counts: Counts,
}

/// What a splice did to the tree shape.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spliced {
    /// The leaf created by a split, or `NONE`.
    pub new_leaf: u32,
    /// Spans at index `>= split_at` (of the combined run) went to `new_leaf`.
    pub split_at: usize,
}

impl Spliced {
    /// Where the span that would be at index `idx` of `leaf` (had it not
    /// split) ended up.
    pub fn locate(&self, leaf: u32, idx: usize) -> (u32, usize) {
        if self.new_leaf != NONE && idx >= self.split_at {
            (self.new_leaf, idx - self.split_at)
        } else {
            (leaf, idx)
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Tree {
    pub leaves: Vec<Leaf>,
    nodes: Vec<Node>,
    root: u32,
    /// 0: the root is a leaf; otherwise the number of internal levels.
    height: u32,
    /// No span changed since [`Tree::from_bulk`] built the tree (spans
    /// change only through `splice` and `update_span`; `leaves` is read).
    pristine: bool,
}

impl Leaf {
    /// A leaf of `spans`, not linked yet.
    pub fn new(spans: Vec<Span>) -> Self {
        Leaf {
            spans,
            parent: NONE,
            prev: NONE,
            next: NONE,
            counts: Counts::default(),
        }
    }
}

impl Default for Tree {
    fn default() -> Self {
        Self::new()
    }
}

impl Tree {
    pub fn new() -> Self {
        Tree {
            leaves: vec![Leaf::new(Vec::new())],
            nodes: Vec::new(),
            root: 0,
            height: 0,
            pristine: false,
        }
    }

    /// Builds a tree from spans in document order (used by decode), taking
    /// over their leaves.
    pub fn from_bulk(spans: BulkSpans) -> Self {
        let mut leaves = spans.leaves;
        if leaves.is_empty() {
            return Self::new();
        }
        let last = leaves.len() as u32 - 1;
        for (i, l) in (0..).zip(&mut leaves) {
            l.counts = Counts::of(&l.spans);
            l.prev = if i == 0 { NONE } else { i - 1 };
            l.next = if i == last { NONE } else { i + 1 };
        }
        let mut tree = Tree {
            leaves,
            nodes: Vec::new(),
            root: 0,
            height: 0,
            pristine: true,
        };
        let mut level: Vec<u32> = (0..tree.leaves.len() as u32).collect();
        const NODE_FILL: usize = NODE_CAP * 3 / 4;
        while level.len() > 1 {
            let mut next_level = Vec::with_capacity(level.len() / NODE_FILL + 1);
            for chunk in level.chunks(NODE_FILL) {
                let id = tree.nodes.len() as u32;
                let mut counts = Counts::default();
                for &c in chunk {
                    counts.add(tree.counts_of(c, tree.height == 0));
                    tree.set_parent(c, tree.height == 0, id);
                }
                tree.nodes.push(Node {
                    children: chunk.to_vec(),
                    parent: NONE,
                    counts,
                });
                next_level.push(id);
            }
            tree.height += 1;
            level = next_level;
        }
        tree.root = level[0];
        tree
    }

    /// Whether no span changed since [`Tree::from_bulk`] built the tree.
    pub fn pristine(&self) -> bool {
        self.pristine
    }

    pub fn counts(&self) -> Counts {
        self.counts_of(self.root, self.height == 0)
    }

    fn counts_of(&self, i: u32, leaf: bool) -> Counts {
        if leaf {
            self.leaves[i as usize].counts
        } else {
            self.nodes[i as usize].counts
        }
    }

    fn set_parent(&mut self, i: u32, leaf: bool, parent: u32) {
        if leaf {
            self.leaves[i as usize].parent = parent;
        } else {
            self.nodes[i as usize].parent = parent;
        }
    }

    pub fn first_leaf(&self) -> u32 {
        let mut i = self.root;
        for _ in 0..self.height {
            i = self.nodes[i as usize].children[0];
        }
        i
    }

    /// The leaf holding visible unit `pos` (chars, or UTF-16 when `utf16`),
    /// or the last leaf when `pos` is at or past the end; with the counts
    /// before that leaf.
    pub fn find(&self, mut pos: usize, utf16: bool) -> (u32, Counts) {
        let mut start = Counts::default();
        let mut i = self.root;
        for level in (0..self.height).rev() {
            let node = &self.nodes[i as usize];
            let leaf_children = level == 0;
            let last = node.children.len() - 1;
            for (k, &c) in node.children.iter().enumerate() {
                let cc = self.counts_of(c, leaf_children);
                let n = if utf16 { cc.utf16 } else { cc.chars };
                if pos < n || k == last {
                    i = c;
                    break;
                }
                pos -= n;
                start.add(cc);
            }
        }
        (i, start)
    }

    /// Visible counts before the start of `leaf`.
    pub fn leaf_start(&self, leaf: u32) -> Counts {
        let mut start = Counts::default();
        let mut child = leaf;
        let mut parent = self.leaves[leaf as usize].parent;
        let mut leaf_children = true;
        while parent != NONE {
            let node = &self.nodes[parent as usize];
            for &c in &node.children {
                if c == child {
                    break;
                }
                start.add(self.counts_of(c, leaf_children));
            }
            child = parent;
            parent = node.parent;
            leaf_children = false;
        }
        start
    }

    fn add_up(&mut self, leaf: u32, add: Counts, sub: Counts) {
        let l = &mut self.leaves[leaf as usize];
        l.counts.add(add);
        l.counts.sub(sub);
        let mut p = l.parent;
        while p != NONE {
            let n = &mut self.nodes[p as usize];
            n.counts.add(add);
            n.counts.sub(sub);
            p = n.parent;
        }
    }

    /// Changes the visible state of span `idx` of `leaf` in place.
    pub fn update_span(&mut self, leaf: u32, idx: usize, f: impl FnOnce(&mut Span)) {
        self.pristine = false;
        let span = &mut self.leaves[leaf as usize].spans[idx];
        let before = Counts::of(core::slice::from_ref(span));
        f(span);
        let after = Counts::of(core::slice::from_ref(span));
        self.add_up(leaf, after, before);
    }

    /// Replaces `remove` spans at `idx` of `leaf` with `insert`, splitting
    /// the leaf when it overflows.
    pub fn splice(&mut self, leaf: u32, idx: usize, remove: usize, insert: &[Span]) -> Spliced {
        debug_assert!(insert.len() <= remove + LEAF_SLACK);
        self.pristine = false;
        let l = &mut self.leaves[leaf as usize];
        let removed = Counts::of(&l.spans[idx..idx + remove]);
        let added = Counts::of(insert);
        // Overwrite in place, then grow or shrink by the difference.
        let common = remove.min(insert.len());
        l.spans[idx..idx + common].copy_from_slice(&insert[..common]);
        if insert.len() > remove {
            let extra = &insert[common..];
            let at = idx + common;
            l.spans.extend_from_slice(extra);
            l.spans[at..].rotate_right(extra.len());
        } else if remove > insert.len() {
            l.spans.drain(idx + common..idx + remove);
        }
        self.add_up(leaf, added, removed);
        if self.leaves[leaf as usize].spans.len() <= LEAF_CAP {
            return Spliced {
                new_leaf: NONE,
                split_at: 0,
            };
        }
        // Appending (typing, loading in order) splits right after the new
        // spans, so leaves stay full and few spans move; otherwise halve.
        let len = self.leaves[leaf as usize].spans.len();
        let end = idx + insert.len();
        let preferred = if end >= len - len / 4 { end } else { len / 2 };
        // Both halves must fit (len <= LEAF_CAP + LEAF_SLACK).
        let split_at = preferred.clamp(len - LEAF_CAP, LEAF_CAP);
        let new_leaf = self.split_leaf(leaf, split_at);
        Spliced { new_leaf, split_at }
    }

    fn split_leaf(&mut self, leaf: u32, at: usize) -> u32 {
        let new = self.leaves.len() as u32;
        let l = &mut self.leaves[leaf as usize];
        // Leaves are a third full on average once deletes coalesce spans:
        // sized to their spans, not to `LEAF_CAP`, they take half the memory.
        let moved: Vec<Span> = l.spans.drain(at..).collect();
        l.spans.shrink_to(at + LEAF_SLACK);
        let counts = Counts::of(&moved);
        l.counts.sub(counts);
        let (parent, next) = (l.parent, l.next);
        l.next = new;
        if next != NONE {
            self.leaves[next as usize].prev = new;
        }
        self.leaves.push(Leaf {
            spans: moved,
            parent,
            prev: leaf,
            next,
            counts,
        });
        self.insert_child(parent, leaf, new, true);
        new
    }

    /// Puts `new` right after `after` under `parent` (both at the level
    /// below it), growing a new root or splitting nodes as needed.
    fn insert_child(&mut self, parent: u32, after: u32, new: u32, leaf_children: bool) {
        if parent == NONE {
            let counts = {
                let mut c = self.counts_of(after, leaf_children);
                c.add(self.counts_of(new, leaf_children));
                c
            };
            let root = self.nodes.len() as u32;
            self.nodes.push(Node {
                children: vec![after, new],
                parent: NONE,
                counts,
            });
            self.set_parent(after, leaf_children, root);
            self.set_parent(new, leaf_children, root);
            self.root = root;
            self.height += 1;
            return;
        }
        let node = &mut self.nodes[parent as usize];
        let pos = node
            .children
            .iter()
            .position(|&c| c == after)
            .expect("child under its parent");
        node.children.insert(pos + 1, new);
        self.set_parent(new, leaf_children, parent);
        if self.nodes[parent as usize].children.len() <= NODE_CAP {
            return;
        }
        // Split the node in two.
        let sibling = self.nodes.len() as u32;
        let node = &mut self.nodes[parent as usize];
        let half = node.children.len() / 2;
        let moved: Vec<u32> = node.children.drain(half..).collect();
        let grand = node.parent;
        let mut counts = Counts::default();
        for &c in &moved {
            counts.add(self.counts_of(c, leaf_children));
            self.set_parent(c, leaf_children, sibling);
        }
        self.nodes[parent as usize].counts.sub(counts);
        self.nodes.push(Node {
            children: moved,
            parent: grand,
            counts,
        });
        self.insert_child(grand, parent, sibling, false);
    }

    /// Iterates all spans in document order.
    pub fn spans(&self) -> impl Iterator<Item = &Span> + '_ {
        let mut leaf = self.first_leaf();
        core::iter::from_fn(move || {
            if leaf == NONE {
                return None;
            }
            let l = &self.leaves[leaf as usize];
            leaf = l.next;
            Some(l.spans.iter())
        })
        .flatten()
    }

    /// Span count and heap bytes, for diagnostics.
    pub fn heap_bytes(&self) -> usize {
        let leaves: usize = self
            .leaves
            .iter()
            .map(|l| l.spans.capacity() * core::mem::size_of::<Span>())
            .sum();
        let nodes: usize = self.nodes.iter().map(|n| n.children.capacity() * 4).sum();
        leaves
            + nodes
            + self.leaves.capacity() * core::mem::size_of::<Leaf>()
            + self.nodes.capacity() * core::mem::size_of::<Node>()
    }

    /// Checks structural invariants (tests only).
    #[cfg(test)]
    pub fn check(&self) {
        let mut total = Counts::default();
        let mut leaf = self.first_leaf();
        let mut prev = NONE;
        while leaf != NONE {
            let l = &self.leaves[leaf as usize];
            assert_eq!(l.prev, prev);
            assert_eq!(l.counts, Counts::of(&l.spans), "leaf counts");
            assert!(l.spans.len() <= LEAF_CAP);
            total.add(l.counts);
            prev = leaf;
            leaf = l.next;
        }
        assert_eq!(total, self.counts(), "root counts");
    }
}
