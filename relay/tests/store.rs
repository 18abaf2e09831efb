//! The `Store` contract, run against both stores, plus what only the redb
//! store promises (reopening) and the group-commit writer over each.

use std::sync::Arc;

use quire_relay::store::{
    Append, LogEntry, MemoryStore, RedbStore, Snapshot, Store, StoreError, StoreWriter,
};

fn delta(doc_id: &str, seq: u64) -> Vec<u8> {
    format!("{doc_id}#{seq}").into_bytes()
}

fn append(doc_id: &str, seq: u64) -> Append {
    Append {
        doc_id: doc_id.into(),
        entry: LogEntry {
            seq,
            delta: delta(doc_id, seq),
        },
    }
}

fn seqs(store: &dyn Store, doc_id: &str) -> Vec<u64> {
    let doc = store.load(doc_id).unwrap().expect("document exists");
    for entry in &doc.log {
        assert_eq!(
            entry.delta,
            delta(doc_id, entry.seq),
            "payload of {doc_id}#{}",
            entry.seq
        );
    }
    doc.log.iter().map(|e| e.seq).collect()
}

/// Every behaviour a `Store` promises; leaves documents "a", "b", "c" behind.
fn check_contract(store: &dyn Store) {
    // Create and load.
    assert_eq!(store.load("a").unwrap(), None);
    assert_eq!(store.create("a", 41).unwrap(), 41);
    assert_eq!(
        store.create("a", 99).unwrap(),
        41,
        "create keeps the first epoch"
    );
    assert_eq!(store.create("b", 42).unwrap(), 42);
    assert_eq!(store.create("c", 43).unwrap(), 43);
    let a = store.load("a").unwrap().unwrap();
    assert_eq!((a.epoch, a.snapshot, a.log.len()), (41, None, 0));
    assert_eq!(store.list().unwrap(), ["a", "b", "c"]);

    // Appends: one batch may hold several documents; seqs start at 1.
    store.append(&[]).unwrap();
    store
        .append(&[append("a", 1), append("b", 1), append("a", 2)])
        .unwrap();
    assert_eq!(seqs(store, "a"), [1, 2]);
    assert_eq!(seqs(store, "b"), [1]);

    // A gap, a repeat or an unknown document rejects the whole batch.
    let gap = store.append(&[append("a", 3), append("a", 5)]);
    assert_eq!(
        gap,
        Err(StoreError::OutOfOrder {
            doc_id: "a".into(),
            seq: 5,
            last: 3
        })
    );
    let repeat = store.append(&[append("a", 3), append("b", 1)]);
    assert!(matches!(
        repeat,
        Err(StoreError::OutOfOrder {
            seq: 1,
            last: 1,
            ..
        })
    ));
    let unknown = store.append(&[append("a", 3), append("zz", 1)]);
    assert_eq!(unknown, Err(StoreError::NoSuchDocument("zz".into())));
    assert_eq!(
        seqs(store, "a"),
        [1, 2],
        "nothing of a rejected batch is applied"
    );
    assert_eq!(store.load("zz").unwrap(), None);

    // Compaction keeps the snapshot and a tail of `retain` entries.
    let batch: Vec<_> = (3..=10).map(|seq| append("a", seq)).collect();
    store.append(&batch).unwrap();
    let snap8 = Snapshot {
        seq: 8,
        doc: b"a at 8".to_vec(),
    };
    store.compact("a", &snap8, 3).unwrap();
    let a = store.load("a").unwrap().unwrap();
    assert_eq!(a.snapshot.as_ref(), Some(&snap8));
    assert_eq!(seqs(store, "a"), [6, 7, 8, 9, 10]);
    store.append(&[append("a", 11)]).unwrap();

    // Snapshots go forward only, and never past the log.
    let out_of_range = |seq| {
        let snapshot = Snapshot {
            seq,
            doc: Vec::new(),
        };
        store.compact("a", &snapshot, 0)
    };
    assert!(matches!(
        out_of_range(7),
        Err(StoreError::SnapshotOutOfRange {
            min: 8,
            max: 11,
            ..
        })
    ));
    assert!(matches!(
        out_of_range(12),
        Err(StoreError::SnapshotOutOfRange { seq: 12, .. })
    ));
    assert_eq!(store.load("a").unwrap().unwrap().snapshot, Some(snap8));
    let missing = store.compact(
        "zz",
        &Snapshot {
            seq: 0,
            doc: Vec::new(),
        },
        0,
    );
    assert_eq!(missing, Err(StoreError::NoSuchDocument("zz".into())));

    // With no tail left, the log continues from the snapshot's seq.
    let snap11 = Snapshot {
        seq: 11,
        doc: b"a at 11".to_vec(),
    };
    store.compact("a", &snap11, 0).unwrap();
    assert_eq!(seqs(store, "a"), Vec::<u64>::new());
    assert!(matches!(
        store.append(&[append("a", 11)]),
        Err(StoreError::OutOfOrder { last: 11, .. })
    ));
    store.append(&[append("a", 12)]).unwrap();
    assert_eq!(seqs(store, "a"), [12]);

    // A retain longer than the log keeps all of it.
    store.append(&[append("c", 1), append("c", 2)]).unwrap();
    store
        .compact(
            "c",
            &Snapshot {
                seq: 2,
                doc: b"c".to_vec(),
            },
            100,
        )
        .unwrap();
    assert_eq!(seqs(store, "c"), [1, 2]);
}

#[test]
fn the_memory_store_meets_the_contract() {
    let store = MemoryStore::new();
    check_contract(&store);
    assert!(!store.is_durable());
}

#[test]
fn the_redb_store_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path()).unwrap();
    check_contract(&store);
    assert!(store.is_durable());
}

#[test]
fn a_reopened_redb_store_sees_everything() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("nested/data");
    let before = {
        let store = RedbStore::open(&data_dir).unwrap();
        check_contract(&store);
        let ids = store.list().unwrap();
        let docs: Vec<_> = ids.iter().map(|id| store.load(id).unwrap()).collect();
        (ids, docs)
    };
    let store = RedbStore::open(&data_dir).unwrap();
    let ids = store.list().unwrap();
    let docs: Vec<_> = ids.iter().map(|id| store.load(id).unwrap()).collect();
    assert_eq!((ids, docs), before);
    // And it keeps going where it stopped.
    store.append(&[append("a", 13), append("b", 2)]).unwrap();
    assert_eq!(seqs(&store, "a"), [12, 13]);
}

#[test]
fn a_second_open_of_the_same_directory_fails_instead_of_sharing_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let _first = RedbStore::open(dir.path()).unwrap();
    assert!(matches!(
        RedbStore::open(dir.path()),
        Err(StoreError::Backend(_))
    ));
}

/// Several tasks append to their own documents at once, some awaiting each
/// commit, some queueing many before awaiting; every log ends up complete
/// and in order.
async fn check_group_commit(store: Arc<dyn Store>) {
    const DOCS: u64 = 12;
    const PER_DOC: u64 = 60;
    for doc in 0..DOCS {
        store.create(&format!("doc{doc}"), doc).unwrap();
    }
    let writer = StoreWriter::spawn(Arc::clone(&store), 64).unwrap();
    let tasks: Vec<_> = (0..DOCS)
        .map(|doc| {
            let writer = writer.clone();
            tokio::spawn(async move {
                let id = format!("doc{doc}");
                if doc % 2 == 0 {
                    for seq in 1..=PER_DOC {
                        writer.append(append(&id, seq)).await.unwrap();
                    }
                } else {
                    let mut pending = Vec::new();
                    for seq in 1..=PER_DOC {
                        pending.push(writer.submit(append(&id, seq)).await.unwrap());
                    }
                    for commit in pending {
                        commit.await.unwrap();
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    for doc in 0..DOCS {
        let expected: Vec<u64> = (1..=PER_DOC).collect();
        assert_eq!(seqs(&*store, &format!("doc{doc}")), expected);
    }
}

#[tokio::test]
async fn concurrent_appends_through_the_writer_land_in_order_in_memory() {
    check_group_commit(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn concurrent_appends_through_the_writer_land_in_order_in_redb() {
    let dir = tempfile::tempdir().unwrap();
    check_group_commit(Arc::new(RedbStore::open(dir.path()).unwrap())).await;
}
