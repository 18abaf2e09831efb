//! Character id -> leaf. Per replica, an ordered map from the first sequence
//! number of a range to the leaf holding that range's characters; a range
//! runs until the next entry. Entries change only when spans are created
//! or move to another leaf, never per keystroke. The entries decode or a
//! bulk apply made stay a sorted vector until the first change.

use super::span::Agent;
use crate::ids::Seq;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub(crate) struct IdIndex {
    maps: Vec<BTreeMap<Seq, u32>>,
    /// Per agent, the leaf of the map's last entry (`NONE` if empty): a
    /// keystroke's fresh range usually lands there and needs no update.
    tail: Vec<u32>,
    /// In bulk mode (applying a large delta), `seq -> leaf` per agent
    /// (`NONE` where no character): moving a span costs a few stores, not
    /// map updates. The entries are rebuilt from it when the bulk ends.
    dense: Option<Vec<Vec<u32>>>,
    /// Per agent, the entries decode or a bulk apply made, sorted by seq:
    /// they answer lookups as well as a map, and move into `maps` on the
    /// first change (most documents are read more than they are edited).
    frozen: Vec<Vec<(Seq, u32)>>,
}

const NONE: u32 = u32::MAX;

impl IdIndex {
    pub fn ensure_agent(&mut self, agent: Agent) {
        let need = agent as usize + 1;
        if self.maps.len() < need {
            self.maps.resize_with(need, BTreeMap::new);
            self.tail.resize(need, NONE);
        }
        if let Some(d) = &mut self.dense {
            if d.len() < need {
                d.resize_with(need, Vec::new);
            }
        }
    }

    /// Moves `agent`'s frozen entries into its map, before changing them.
    fn thaw(&mut self, agent: usize) -> &mut BTreeMap<Seq, u32> {
        if let Some(f) = self.frozen.get_mut(agent).filter(|f| !f.is_empty()) {
            // Inserts, not `collect`: that sorts first, and a sort's code
            // is large in the wasm module. From the end, as each insert
            // then stops at a node's first key (twice as fast as from the
            // start).
            for (seq, leaf) in core::mem::take(f).into_iter().rev() {
                self.maps[agent].insert(seq, leaf);
            }
        }
        &mut self.maps[agent]
    }

    /// Switches to bulk mode, given every span as `(agent, start, end, leaf)`.
    /// The maps are rebuilt when it ends, so frozen entries can go.
    pub fn begin_bulk(&mut self, spans: impl Iterator<Item = (Agent, Seq, Seq, u32)>) {
        self.frozen = Vec::new();
        let mut dense: Vec<Vec<u32>> = vec![Vec::new(); self.maps.len()];
        for (agent, start, end, leaf) in spans {
            fill(&mut dense[agent as usize], start, end, leaf);
        }
        self.dense = Some(dense);
    }

    /// Leaves bulk mode. The entries become frozen, as decode leaves them:
    /// building a sorted vector is quicker than a map, and needs no sort.
    pub fn end_bulk(&mut self) {
        let Some(dense) = self.dense.take() else {
            return;
        };
        let mut frozen = Vec::with_capacity(dense.len());
        for ((map, tail), d) in self.maps.iter_mut().zip(&mut self.tail).zip(dense) {
            let mut runs = Vec::new();
            let mut last = NONE;
            for (s, &l) in d.iter().enumerate() {
                if l != NONE && l != last {
                    runs.push((s as Seq, l));
                    last = l;
                }
            }
            *map = BTreeMap::new();
            *tail = last;
            frozen.push(runs);
        }
        self.frozen = frozen;
    }

    /// The leaf that may hold `(agent, seq)`.
    #[inline]
    pub fn leaf(&self, agent: Agent, seq: Seq) -> Option<u32> {
        if let Some(d) = &self.dense {
            return d
                .get(agent as usize)?
                .get(seq as usize)
                .copied()
                .filter(|&l| l != NONE);
        }
        if let Some(f) = self.frozen.get(agent as usize).filter(|f| !f.is_empty()) {
            let i = f.partition_point(|&(s, _)| s <= seq);
            return i.checked_sub(1).map(|i| f[i].1);
        }
        self.maps
            .get(agent as usize)?
            .range(..=seq)
            .next_back()
            .map(|(_, &l)| l)
    }

    /// Maps a fresh range `[start, end)` (above every seq of `agent` seen
    /// so far) to `leaf`.
    #[inline]
    pub fn assign_fresh(&mut self, agent: Agent, start: Seq, end: Seq, leaf: u32) {
        if let Some(d) = &mut self.dense {
            fill(&mut d[agent as usize], start, end, leaf);
            return;
        }
        if self.tail[agent as usize] != leaf {
            let map = self.thaw(agent as usize);
            map.insert(start, leaf);
            // A split may have left an entry past `start`.
            self.tail[agent as usize] = map.last_key_value().map_or(NONE, |(_, &l)| l);
        }
    }

    /// Maps `[start, end)` of `agent` to `leaf`, keeping what follows.
    pub fn assign(&mut self, agent: Agent, start: Seq, end: Seq, leaf: u32) {
        if let Some(d) = &mut self.dense {
            fill(&mut d[agent as usize], start, end, leaf);
            return;
        }
        let map = self.thaw(agent as usize);
        let inner = map.range(start + 1..end).next().is_some();
        let start_leaf = map.range(..=start).next_back().map(|(_, &l)| l);
        if start_leaf == Some(leaf) && !inner {
            return; // already mapped, and what follows is untouched
        }
        // Keep what `end` maps to now, unless an entry starts there.
        if !map.contains_key(&end) {
            if let Some((_, &l)) = map.range(..end).next_back() {
                map.insert(end, l);
            }
        }
        if inner {
            while let Some((&s, _)) = map.range(start + 1..end).next() {
                map.remove(&s);
            }
        }
        map.insert(start, leaf);
        self.tail[agent as usize] = map.last_key_value().map_or(NONE, |(_, &l)| l);
    }

    /// Builds from, per agent, `(start, leaf)` sorted by start, one entry
    /// per run of the agent's characters in one leaf.
    pub fn from_runs(agents: usize, runs: Vec<Vec<(Seq, u32)>>) -> Self {
        let mut tail: Vec<u32> = runs
            .iter()
            .map(|r| r.last().map_or(NONE, |&(_, l)| l))
            .collect();
        tail.resize(agents, NONE);
        let mut maps = Vec::with_capacity(agents);
        maps.resize_with(agents, BTreeMap::new);
        IdIndex {
            maps,
            tail,
            dense: None,
            frozen: runs,
        }
    }

    pub fn heap_bytes(&self) -> usize {
        // A BTreeMap node holds up to 11 entries in ~200 bytes.
        let maps: usize = self.maps.iter().map(|m| m.len() * 16 + 64).sum();
        maps + self.frozen.iter().map(|f| f.capacity() * 8).sum::<usize>()
    }
}

fn fill(v: &mut Vec<u32>, start: Seq, end: Seq, leaf: u32) {
    let (start, end) = (start as usize, end as usize);
    if v.len() < end {
        v.resize(end, NONE);
    }
    v[start..end].fill(leaf);
}
