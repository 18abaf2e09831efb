use super::*;
use crate::ReplicaId;

fn doc() -> (Doc, UndoManager) {
    let d = Doc::new(ReplicaId(1));
    let u = UndoManager::new(&d);
    (d, u)
}

#[test]
fn undo_and_redo_an_insert() {
    let (mut d, mut u) = doc();
    d.insert(0, "hello").unwrap();
    u.capture(&d, 0);
    assert!(u.undo(&mut d, 1000).unwrap());
    assert_eq!(d.text(), "");
    assert!(u.redo(&mut d, 1001).unwrap());
    assert_eq!(d.text(), "hello");
    assert!(u.undo(&mut d, 1002).unwrap());
    assert_eq!(d.text(), "");
    assert!(!u.undo(&mut d, 1003).unwrap());
}

#[test]
fn edits_within_the_window_form_one_step() {
    let (mut d, mut u) = doc();
    for (i, c) in "abc".chars().enumerate() {
        d.insert(i, &c.to_string()).unwrap();
        u.capture(&d, i as u64 * 100);
    }
    d.insert(3, "d").unwrap();
    u.capture(&d, 1000);
    u.undo(&mut d, 1100).unwrap();
    assert_eq!(d.text(), "abc");
    u.undo(&mut d, 1200).unwrap();
    assert_eq!(d.text(), "");
}

#[test]
fn typing_then_backspace_in_one_step_undoes_to_before() {
    let (mut d, mut u) = doc();
    d.insert(0, "abc").unwrap();
    d.delete(2, 1).unwrap();
    u.capture(&d, 0);
    u.undo(&mut d, 10).unwrap();
    assert_eq!(d.text(), "");
    u.redo(&mut d, 20).unwrap();
    assert_eq!(d.text(), "ab");
}

#[test]
fn undo_of_a_delete_restores_text_in_order() {
    let (mut d, mut u) = doc();
    d.insert(0, "b").unwrap();
    d.insert(0, "a").unwrap(); // "ab": ids out of document order
    d.insert(2, "c").unwrap();
    u.capture(&d, 0);
    u.stop_capturing();
    d.delete(0, 2).unwrap();
    u.capture(&d, 1);
    assert_eq!(d.text(), "c");
    u.undo(&mut d, 2).unwrap();
    assert_eq!(d.text(), "abc");
    // Undoing the inserts also removes the text the undo brought back.
    u.undo(&mut d, 3).unwrap();
    assert_eq!(d.text(), "");
    u.redo(&mut d, 4).unwrap();
    assert_eq!(d.text(), "abc");
    u.redo(&mut d, 5).unwrap();
    assert_eq!(d.text(), "c");
}

#[test]
fn a_new_edit_clears_redo() {
    let (mut d, mut u) = doc();
    d.insert(0, "x").unwrap();
    u.capture(&d, 0);
    u.undo(&mut d, 1000).unwrap();
    assert!(u.can_redo());
    d.insert(0, "y").unwrap();
    u.capture(&d, 2000);
    assert!(!u.can_redo());
    assert!(!u.redo(&mut d, 2001).unwrap());
    assert_eq!(d.text(), "y");
}

#[test]
fn title_and_counter_undo() {
    let (mut d, mut u) = doc();
    d.set_title("one", 1).unwrap();
    d.increment("likes", 5).unwrap();
    u.capture(&d, 0);
    u.stop_capturing();
    d.set_title("two", 2).unwrap();
    d.increment("likes", -2).unwrap();
    u.capture(&d, 1);
    u.undo(&mut d, 3).unwrap();
    assert_eq!((d.title(), d.counter("likes")), ("one", 5));
    u.undo(&mut d, 4).unwrap();
    assert_eq!((d.title(), d.counter("likes")), ("", 0));
    u.redo(&mut d, 5).unwrap();
    u.redo(&mut d, 6).unwrap();
    assert_eq!((d.title(), d.counter("likes")), ("two", 3));
}

#[test]
fn delete_records_that_grow_after_capture_are_read_once() {
    let (mut d, mut u) = doc();
    d.insert(0, "abcdef").unwrap();
    u.capture(&d, 0);
    u.stop_capturing();
    d.delete(5, 1).unwrap();
    u.capture(&d, 1);
    d.delete(4, 1).unwrap(); // merges into the same backspace record
    u.capture(&d, 2);
    u.stop_capturing();
    d.delete(3, 1).unwrap();
    u.capture(&d, 5000);
    assert_eq!(d.text(), "abc");
    u.undo(&mut d, 5001).unwrap();
    assert_eq!(d.text(), "abcd");
    u.undo(&mut d, 5002).unwrap();
    assert_eq!(d.text(), "abcdef");
}
