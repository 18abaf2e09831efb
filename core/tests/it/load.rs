//! Reading a loaded document: right after `Doc::decode` the text is copied
//! whole from where decode put it; every later edit, local or remote, must
//! show in the text all the same.

use quire_core::{Doc, ReplicaId, UndoManager};

const WRITER: ReplicaId = ReplicaId(1);
const OTHER: ReplicaId = ReplicaId(2);
const READER: ReplicaId = ReplicaId(3);

/// One writer's document: typed out of order, with deletes, so document
/// order differs from typing order. It ends typing at the end.
fn one_writer(text: &str) -> Doc {
    let mut d = Doc::new(WRITER);
    d.insert(0, text).unwrap();
    d.insert(2, text).unwrap();
    d.delete(1, 3).unwrap();
    d.insert(d.len(), "end").unwrap();
    d
}

/// A document two replicas wrote into.
fn two_writers() -> Doc {
    let mut d = one_writer("abcdef");
    let mut o = Doc::new(OTHER);
    o.merge(&d).unwrap();
    o.insert(4, "XY").unwrap();
    d.merge(&o).unwrap();
    d
}

/// The loaded copy of `doc` and a replica that got the same state by
/// merging, both making local edits as `READER`.
fn loaded_and_merged(doc: &Doc) -> (Doc, Doc) {
    let loaded = Doc::decode(&doc.encode(), READER).unwrap();
    let mut merged = Doc::new(READER);
    merged.merge(doc).unwrap();
    assert_eq!(loaded.text(), doc.text());
    (loaded, merged)
}

fn sources() -> Vec<Doc> {
    vec![
        one_writer("hello world"),
        one_writer("grüße, 世界 👋"),
        two_writers(),
    ]
}

#[test]
fn local_edits_after_a_load_show_in_the_text() {
    type Edit = fn(&mut Doc);
    let edits: [Edit; 4] = [
        |d| d.insert(3, "+").unwrap(),
        |d| d.delete(2, 2).unwrap(),
        |d| d.insert(0, "é").unwrap(),
        |d| d.insert(d.len(), "!").unwrap(),
    ];
    for doc in sources() {
        for edit in edits {
            let (mut loaded, mut merged) = loaded_and_merged(&doc);
            edit(&mut loaded);
            edit(&mut merged);
            assert_ne!(loaded.text(), doc.text());
            assert_eq!(loaded.text(), merged.text());
        }
    }
}

#[test]
fn remote_edits_after_a_load_show_in_the_text() {
    for doc in sources() {
        let (mut loaded, _) = loaded_and_merged(&doc);
        // The writer goes on typing, and deleting, after the copy was saved:
        // first where it stopped, which extends its last run in place.
        let mut writer = doc.clone();
        for (at, text) in [(writer.len(), " more"), (1, "typed later")] {
            let since = writer.version();
            writer.insert(at, text).unwrap();
            loaded.apply(&writer.delta_since(&since)).unwrap();
            assert_eq!(loaded.text(), writer.text());
        }
        writer.delete(0, 4).unwrap();
        loaded
            .apply(&writer.delta_since(&loaded.version()))
            .unwrap();
        assert_eq!(loaded.text(), writer.text());
    }
}

#[test]
fn undo_after_a_load_shows_in_the_text() {
    for doc in sources() {
        let (mut loaded, _) = loaded_and_merged(&doc);
        let before = loaded.text();
        let mut undo = UndoManager::new(&loaded);
        loaded.insert(2, "undone").unwrap();
        undo.capture(&loaded, 0);
        assert!(undo.undo(&mut loaded, 1_000).unwrap());
        assert_eq!(loaded.text(), before);
        // A reloaded copy reads the same.
        assert_eq!(
            Doc::decode(&loaded.encode(), READER).unwrap().text(),
            before
        );
    }
}
