//! Appends per second through the group-commit writer, with 1 and with 64
//! concurrent appenders (each awaits its commit before the next append, as
//! a client waiting for its ack would). The redb figures include an fsync
//! per batch; the memory store shows the writer's own overhead.
//!
//! `cargo bench -p quire-relay --bench store_writer`

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use quire_relay::store::{Append, LogEntry, MemoryStore, RedbStore, Store, StoreWriter};
use tokio::runtime::Runtime;

/// About one typed character's delta.
const DELTA_BYTES: usize = 64;

/// A writer over `store` with `appenders` documents, and each document's
/// next seq (kept across criterion's calls).
struct Setup {
    writer: StoreWriter,
    next_seq: Vec<u64>,
}

impl Setup {
    fn new(store: Arc<dyn Store>, appenders: usize) -> Self {
        for doc in 0..appenders {
            store.create(&format!("doc{doc}"), 1).unwrap();
        }
        Self {
            writer: StoreWriter::spawn(store, 1024).unwrap(),
            next_seq: vec![1; appenders],
        }
    }

    /// `total` appends spread over the appenders; returns the wall time.
    fn run(&mut self, runtime: &Runtime, total: u64) -> Duration {
        let appenders = self.next_seq.len() as u64;
        let start = Instant::now();
        runtime.block_on(async {
            let tasks: Vec<_> = (0..appenders)
                .map(|doc| {
                    let count = total / appenders + u64::from(doc < total % appenders);
                    let first = self.next_seq[doc as usize];
                    let writer = self.writer.clone();
                    tokio::spawn(async move {
                        let doc_id = format!("doc{doc}");
                        for seq in first..first + count {
                            let entry = LogEntry {
                                seq,
                                delta: vec![b'x'; DELTA_BYTES],
                            };
                            let doc_id = doc_id.clone();
                            writer.append(Append { doc_id, entry }).await.unwrap();
                        }
                        first + count
                    })
                })
                .collect();
            for (doc, task) in tasks.into_iter().enumerate() {
                self.next_seq[doc] = task.await.unwrap();
            }
        });
        start.elapsed()
    }
}

fn writer_appends(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("writer_append");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for appenders in [1, 64] {
        let redb_dir = dir.path().join(format!("redb-{appenders}"));
        let stores: [(&str, Arc<dyn Store>); 2] = [
            ("redb", Arc::new(RedbStore::open(&redb_dir).unwrap())),
            ("memory", Arc::new(MemoryStore::new())),
        ];
        for (name, store) in stores {
            let mut setup = Setup::new(store, appenders);
            let id = BenchmarkId::new(name, format!("{appenders} appenders"));
            group.bench_function(id, |b| b.iter_custom(|iters| setup.run(&runtime, iters)));
        }
    }
    group.finish();
}

criterion_group!(benches, writer_appends);
criterion_main!(benches);
