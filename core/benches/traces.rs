//! Criterion benchmarks on real editing traces (josephg/editing-traces):
//!
//! - `local`: replay every patch as a local edit on a fresh document;
//! - `merge`: apply the full history (`delta_since` the empty version) to
//!   an empty document;
//! - `encode`: `Doc::encode` of the replayed document (full history);
//! - `decode`: `Doc::decode` of those bytes.
//!
//! Ids are `op/trace`; throughput is in patches. Traces come from
//! `$QUIRE_TRACES` (default `../../shared/traces`, relative to the `core`
//! crate directory); a missing trace is skipped with a message on stderr.
//! Everything but the measured operation is built outside the timed loop.
//!
//! ```sh
//! cargo bench -p quire-core --bench traces
//! ```

#[path = "../tests/support/trace.rs"]
mod trace;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use quire_core::{Delta, Doc, ReplicaId, VersionVector};
use std::hint::black_box;
use std::time::Duration;

/// The traces benchmarked, by file stem.
const TRACES: &[&str] = &["automerge-paper", "seph-blog1", "friendsforever_flat"];

/// One trace with every input prepared.
struct Input {
    name: String,
    patches: Vec<trace::Patch>,
    /// The document after replaying the trace as local edits.
    doc: Doc,
    delta: Delta,
    encoded: Vec<u8>,
}

fn load_inputs() -> Vec<Input> {
    let dir = trace::traces_dir();
    let mut inputs = Vec::new();
    for stem in TRACES {
        let path = dir.join(format!("{stem}.json.gz"));
        if !path.exists() {
            eprintln!(
                "skipping trace {stem}: {} does not exist (set {} to the traces directory)",
                path.display(),
                trace::TRACES_ENV
            );
            continue;
        }
        let loaded = trace::load(&path).and_then(|t| {
            let patches = trace::flat_patches(&t)?;
            let doc = trace::replay_patches(&patches)?;
            if doc.text() != t.end_content {
                return Err(trace::TraceError(format!(
                    "{stem}: replay does not give endContent"
                )));
            }
            Ok((patches, doc))
        });
        let (patches, doc) = match loaded {
            Ok(x) => x,
            Err(e) => panic!("cannot prepare trace {stem}: {e}"),
        };
        inputs.push(Input {
            name: (*stem).to_owned(),
            delta: doc.delta_since(&VersionVector::new()),
            encoded: doc.encode(),
            doc,
            patches,
        });
    }
    inputs
}

fn benches(c: &mut Criterion) {
    let inputs = load_inputs();
    if inputs.is_empty() {
        eprintln!(
            "no traces found in {}: nothing to benchmark",
            trace::traces_dir().display()
        );
        return;
    }

    let mut group = c.benchmark_group("local");
    for input in &inputs {
        group.throughput(Throughput::Elements(input.patches.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("local", &input.name),
            &input.patches,
            |b, patches| {
                b.iter_with_large_drop(|| {
                    trace::replay_patches(black_box(patches)).expect("replay")
                })
            },
        );
    }
    group.finish();

    let mut group = c.benchmark_group("merge");
    for input in &inputs {
        group.throughput(Throughput::Elements(input.patches.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("merge", &input.name),
            &input.delta,
            |b, delta| {
                b.iter_with_large_drop(|| {
                    let mut doc = Doc::new(ReplicaId(2));
                    doc.apply(black_box(delta)).expect("apply");
                    doc
                })
            },
        );
    }
    group.finish();

    let mut group = c.benchmark_group("encode");
    for input in &inputs {
        group.throughput(Throughput::Elements(input.patches.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("encode", &input.name),
            &input.doc,
            |b, doc| b.iter_with_large_drop(|| black_box(doc).encode()),
        );
    }
    group.finish();

    let mut group = c.benchmark_group("decode");
    for input in &inputs {
        group.throughput(Throughput::Elements(input.patches.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("decode", &input.name),
            &input.encoded,
            |b, bytes| {
                b.iter_with_large_drop(|| {
                    Doc::decode(black_box(bytes), ReplicaId(3)).expect("decode")
                })
            },
        );
    }
    group.finish();
}

criterion_group! {
    name = traces;
    // Small samples keep the whole run under about three minutes.
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(traces);
