//! Loading and replaying real editing traces (the `josephg/editing-traces`
//! format), shared by `examples/trace.rs`, `benches/traces.rs` and
//! `tests/traces.rs`. Each includes it with
//! `#[path = "../tests/support/trace.rs"] mod trace;` (or the path relative
//! to it), so this file is not a test target of its own.
//!
//! Two formats:
//! - sequential: `{startContent, endContent, txns: [{patches}]}`;
//! - concurrent: `{kind: "concurrent", endContent, numAgents,
//!   txns: [{parents, agent, patches, numChildren}]}`.
//!
//! A patch is `[pos, delCount, insText]`: delete `delCount` characters at
//! `pos`, then insert `insText` at `pos`. Positions and lengths are Unicode
//! code points, which is what `Doc::insert` / `Doc::delete` take.
//!
//! Nothing here panics on malformed input: every problem is a [`TraceError`]
//! naming the file, the transaction or the patch.

// Each includer uses a different subset of these items.
#![allow(dead_code)]

use quire_core::{Delta, Doc, ReplicaId, VersionVector};
use serde::Deserialize;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Environment variable naming the traces directory. A relative path is
/// taken relative to the `core` crate directory.
pub const TRACES_ENV: &str = "QUIRE_TRACES";
/// Default traces directory, relative to the `core` crate directory.
pub const DEFAULT_TRACES_DIR: &str = "../../shared/traces";

/// Why a trace could not be loaded or replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceError(pub String);

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TraceError {}

fn err<T>(msg: impl Into<String>) -> Result<T, TraceError> {
    Err(TraceError(msg.into()))
}

/// One edit: delete `.1` characters at `.0`, then insert `.2` at `.0`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Patch(pub usize, pub usize, pub String);

/// Sequential or concurrent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One linear history.
    Sequential,
    /// Several agents; each txn names its parent txns.
    Concurrent,
}

impl Kind {
    /// `"sequential"` or `"concurrent"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Sequential => "sequential",
            Kind::Concurrent => "concurrent",
        }
    }
}

/// One transaction. For sequential traces `parents` is empty and `agent` 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Txn {
    /// Indexes of earlier txns whose merged state this txn was made on.
    pub parents: Vec<usize>,
    /// The agent (`0..num_agents`) that made it.
    pub agent: usize,
    /// Edits, applied in order.
    pub patches: Vec<Patch>,
}

/// A loaded trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// File name (without directories), for reports.
    pub name: String,
    /// Sequential or concurrent.
    pub kind: Kind,
    /// Text before the first txn (sequential traces only; usually empty).
    pub start_content: String,
    /// Expected text after the whole trace.
    pub end_content: String,
    /// Number of agents (1 for sequential traces).
    pub num_agents: usize,
    /// The transactions, in order.
    pub txns: Vec<Txn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTrace {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    start_content: String,
    end_content: String,
    #[serde(default)]
    num_agents: Option<usize>,
    txns: Vec<RawTxn>,
}

#[derive(Deserialize)]
struct RawTxn {
    #[serde(default)]
    parents: Option<Vec<usize>>,
    #[serde(default)]
    agent: Option<usize>,
    #[serde(default)]
    patches: Vec<Patch>,
}

/// The traces directory: `$QUIRE_TRACES` or [`DEFAULT_TRACES_DIR`], a
/// relative path being taken relative to the `core` crate directory.
pub fn traces_dir() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    match std::env::var_os(TRACES_ENV) {
        Some(dir) if !dir.is_empty() => crate_dir.join(dir),
        _ => crate_dir.join(DEFAULT_TRACES_DIR),
    }
}

/// The `*.json.gz` files in `dir`, sorted by name.
pub fn list_traces(dir: &Path) -> Result<Vec<PathBuf>, TraceError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        TraceError(format!(
            "cannot read the traces directory {}: {e} (set {TRACES_ENV} to the directory holding the *.json.gz editing traces)",
            dir.display()
        ))
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| TraceError(format!("cannot list {}: {e}", dir.display())))?;
        let path = entry.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".json.gz"))
        {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// Loads a `.json.gz` (gzip-compressed, detected by its magic bytes) or
/// plain `.json` trace.
pub fn load(path: &Path) -> Result<Trace, TraceError> {
    let raw = std::fs::read(path)
        .map_err(|e| TraceError(format!("cannot read {}: {e}", path.display())))?;
    let json = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 8);
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| TraceError(format!("{}: not valid gzip: {e}", path.display())))?;
        out
    } else {
        raw
    };
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    parse(&name, &json).map_err(|e| TraceError(format!("{}: {e}", path.display())))
}

/// Parses the JSON of a trace and checks its structure (parents point to
/// earlier txns, agents are in range).
pub fn parse(name: &str, json: &[u8]) -> Result<Trace, TraceError> {
    let raw: RawTrace = serde_json::from_slice(json)
        .map_err(|e| TraceError(format!("not an editing trace: {e}")))?;
    let concurrent = match raw.kind.as_deref() {
        Some("concurrent") => true,
        Some("sequential") | None => raw.txns.iter().any(|t| t.parents.is_some()),
        Some(other) => return err(format!("unknown trace kind {other:?}")),
    };
    let kind = if concurrent {
        Kind::Concurrent
    } else {
        Kind::Sequential
    };
    if concurrent && !raw.start_content.is_empty() {
        return err("concurrent traces with a non-empty startContent are not supported");
    }
    let max_agent = raw.txns.iter().filter_map(|t| t.agent).max();
    let num_agents = match (kind, raw.num_agents) {
        (Kind::Sequential, _) => 1,
        (Kind::Concurrent, Some(n)) => n,
        (Kind::Concurrent, None) => max_agent.map_or(1, |m| m + 1),
    };
    let mut txns = Vec::with_capacity(raw.txns.len());
    for (i, t) in raw.txns.into_iter().enumerate() {
        let parents = t.parents.unwrap_or_default();
        let agent = t.agent.unwrap_or(0);
        if kind == Kind::Concurrent {
            if agent >= num_agents {
                return err(format!(
                    "txn {i}: agent {agent} is not below numAgents {num_agents}"
                ));
            }
            if let Some(&p) = parents.iter().find(|&&p| p >= i) {
                return err(format!("txn {i}: parent {p} does not come before it"));
            }
        }
        txns.push(Txn {
            parents,
            agent,
            patches: t.patches,
        });
    }
    Ok(Trace {
        name: name.to_owned(),
        kind,
        start_content: raw.start_content,
        end_content: raw.end_content,
        num_agents,
        txns,
    })
}

impl Trace {
    /// Number of patches in all txns.
    pub fn patch_count(&self) -> usize {
        self.txns.iter().map(|t| t.patches.len()).sum()
    }

    /// The name without `.json.gz` / `.json`, for benchmark ids.
    pub fn short_name(&self) -> &str {
        let n = self.name.as_str();
        n.strip_suffix(".json.gz")
            .or_else(|| n.strip_suffix(".json"))
            .unwrap_or(n)
    }
}

/// The patches of a sequential trace as one flat list (a non-empty
/// `startContent` becomes a first insert at 0). Built once, outside timed
/// loops, for benchmarks.
pub fn flat_patches(trace: &Trace) -> Result<Vec<Patch>, TraceError> {
    if trace.kind != Kind::Sequential {
        return err(format!(
            "{}: flat patches need a sequential trace",
            trace.name
        ));
    }
    let mut out = Vec::with_capacity(trace.patch_count() + 1);
    if !trace.start_content.is_empty() {
        out.push(Patch(0, 0, trace.start_content.clone()));
    }
    out.extend(trace.txns.iter().flat_map(|t| t.patches.iter().cloned()));
    Ok(out)
}

/// Applies one patch as local edits: delete, then insert.
pub fn apply_patch(doc: &mut Doc, patch: &Patch) -> Result<(), TraceError> {
    let Patch(pos, del, ins) = patch;
    if *del > 0 {
        doc.delete(*pos, *del)
            .map_err(|e| TraceError(format!("delete({pos}, {del}): {e}")))?;
    }
    if !ins.is_empty() {
        doc.insert(*pos, ins).map_err(|e| {
            TraceError(format!("insert({pos}, {} chars): {e}", ins.chars().count()))
        })?;
    }
    Ok(())
}

/// Replays patches as local edits on a fresh document of replica 1.
pub fn replay_patches(patches: &[Patch]) -> Result<Doc, TraceError> {
    let mut doc = Doc::new(ReplicaId(1));
    for (i, p) in patches.iter().enumerate() {
        apply_patch(&mut doc, p).map_err(|e| TraceError(format!("patch {i} {p:?}: {e}")))?;
    }
    Ok(doc)
}

/// Replays a sequential trace as local edits on one document (replica 1).
pub fn replay_sequential(trace: &Trace) -> Result<Doc, TraceError> {
    if trace.kind != Kind::Sequential {
        return err(format!(
            "{}: replay_sequential needs a sequential trace",
            trace.name
        ));
    }
    let mut doc = Doc::new(ReplicaId(1));
    if !trace.start_content.is_empty() {
        doc.insert(0, &trace.start_content)
            .map_err(|e| TraceError(format!("{}: startContent: {e}", trace.name)))?;
    }
    for (i, txn) in trace.txns.iter().enumerate() {
        for (j, p) in txn.patches.iter().enumerate() {
            apply_patch(&mut doc, p)
                .map_err(|e| TraceError(format!("{}: txn {i} patch {j} {p:?}: {e}", trace.name)))?;
        }
    }
    Ok(doc)
}

/// The replica id of agent `agent` in [`replay_concurrent`].
pub fn agent_replica(agent: usize) -> ReplicaId {
    ReplicaId(agent as u64 + 1)
}

/// Replays a concurrent trace with one replica per agent (agent `a` is
/// `ReplicaId(a + 1)`), then merges all replicas with each other; every
/// returned document should hold `end_content`.
///
/// Before txn `i`, its agent's replica is brought to exactly the union of the
/// versions after its parents by applying the deltas captured from the other
/// agents' txns it lacks, in txn order (so nothing waits for a dependency);
/// txn `i`'s patches are then local edits, with positions relative to that
/// state. After the txn, its delta (`delta_since` the version before it) and
/// the version after it are kept.
pub fn replay_concurrent(trace: &Trace) -> Result<Vec<Doc>, TraceError> {
    if trace.kind != Kind::Concurrent {
        return err(format!(
            "{}: replay_concurrent needs a concurrent trace",
            trace.name
        ));
    }
    let name = &trace.name;
    let mut docs: Vec<Doc> = (0..trace.num_agents)
        .map(|a| Doc::new(agent_replica(a)))
        .collect();
    // Per txn: the version after it and the delta it produced.
    let mut after: Vec<VersionVector> = Vec::with_capacity(trace.txns.len());
    let mut deltas: Vec<Delta> = Vec::with_capacity(trace.txns.len());
    // Per agent: `(start seq, end seq, txn index)` of its txns that produced
    // operations, in order; seq ranges are contiguous.
    let mut by_agent: Vec<Vec<(u32, u32, usize)>> = vec![Vec::new(); trace.num_agents];
    let mut needed: Vec<usize> = Vec::new();

    for (i, txn) in trace.txns.iter().enumerate() {
        let mut target = VersionVector::new();
        for &p in &txn.parents {
            target.merge(&after[p]);
        }
        let doc = &mut docs[txn.agent];
        let current = doc.version();
        if !target.includes(&current) {
            return err(format!(
                "{name}: txn {i}: agent {}'s replica is at {current:?}, which its parents {:?} ({target:?}) do not include \
                 (an agent's txns must be totally ordered)",
                txn.agent, txn.parents
            ));
        }

        needed.clear();
        for (replica, want) in target.iter() {
            let have = current.get(replica);
            if want <= have {
                continue;
            }
            let Some(list) = (replica.0 as usize)
                .checked_sub(1)
                .and_then(|a| by_agent.get(a))
            else {
                return err(format!(
                    "{name}: txn {i}: unknown replica {replica:?} in a parent's version"
                ));
            };
            let mut k = list.partition_point(|&(_, end, _)| end <= have);
            while k < list.len() && list[k].0 < want {
                needed.push(list[k].2);
                k += 1;
            }
        }
        needed.sort_unstable();
        for &t in &needed {
            doc.apply(&deltas[t]).map_err(|e| {
                TraceError(format!(
                    "{name}: txn {i}: applying the delta of txn {t}: {e}"
                ))
            })?;
        }
        let before = doc.version();
        if before != target || doc.pending() != 0 {
            return err(format!(
                "{name}: txn {i}: agent {}'s replica is at {before:?} with {} pending ops after merging its parents {:?}, \
                 expected exactly {target:?}",
                txn.agent,
                doc.pending(),
                txn.parents
            ));
        }

        for (j, p) in txn.patches.iter().enumerate() {
            apply_patch(doc, p).map_err(|e| {
                TraceError(format!(
                    "{name}: txn {i} (agent {}) patch {j} {p:?}: {e}",
                    txn.agent
                ))
            })?;
        }
        let version = doc.version();
        let replica = agent_replica(txn.agent);
        let (start, end) = (before.get(replica), version.get(replica));
        if end > start {
            by_agent[txn.agent].push((start, end, i));
        }
        deltas.push(doc.delta_since(&before));
        after.push(version);
    }
    drop((after, deltas, by_agent));

    // Merge all replicas with each other: everything into the first, then
    // the first into every other.
    if let Some((first, rest)) = docs.split_first_mut() {
        for other in rest.iter() {
            first
                .merge(other)
                .map_err(|e| TraceError(format!("{name}: final merge into replica 1: {e}")))?;
        }
        for (k, other) in rest.iter_mut().enumerate() {
            other.merge(first).map_err(|e| {
                TraceError(format!("{name}: final merge into replica {}: {e}", k + 2))
            })?;
        }
    }
    Ok(docs)
}

/// Replays either kind: the documents of all replicas (one for sequential
/// traces).
pub fn replay(trace: &Trace) -> Result<Vec<Doc>, TraceError> {
    match trace.kind {
        Kind::Sequential => replay_sequential(trace).map(|d| vec![d]),
        Kind::Concurrent => replay_concurrent(trace),
    }
}
