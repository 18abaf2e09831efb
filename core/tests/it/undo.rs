//! Undo and redo of the local replica with other replicas editing at the
//! same time: undo never removes another user's text, emits ordinary
//! operations, and the replicas converge.

use crate::presence::{rng, sync};
use quire_core::{Doc, ReplicaId, UndoManager, UndoOptions};

struct Pair {
    a: Doc,
    b: Doc,
    ua: UndoManager,
    ub: UndoManager,
}

fn pair(text: &str) -> Pair {
    let mut a = Doc::new(ReplicaId(1));
    let mut b = Doc::new(ReplicaId(2));
    a.insert(0, text).unwrap();
    sync(&mut a, &mut b);
    let ua = UndoManager::new(&a);
    let ub = UndoManager::new(&b);
    Pair { a, b, ua, ub }
}

#[test]
fn undo_removes_only_own_text_with_remote_text_inside_it() {
    let mut p = pair("");
    p.a.insert(0, "abcd").unwrap();
    p.ua.capture(&p.a, 0);
    sync(&mut p.a, &mut p.b);
    p.b.insert(2, "XY").unwrap(); // inside Alice's run
    p.b.insert(6, "!").unwrap();
    sync(&mut p.a, &mut p.b);
    assert_eq!(p.a.text(), "abXYcd!");
    assert!(p.ua.undo(&mut p.a, 1000).unwrap());
    assert_eq!(p.a.text(), "XY!");
    sync(&mut p.a, &mut p.b);
    assert_eq!(p.b.text(), "XY!");
}

#[test]
fn undo_with_concurrent_remote_edits_converges() {
    let mut p = pair("shared ");
    p.a.insert(7, "alice").unwrap();
    p.ua.capture(&p.a, 0);
    p.b.insert(0, "bob ").unwrap();
    p.ub.capture(&p.b, 0);
    // Both undo before hearing from each other.
    p.ua.undo(&mut p.a, 10).unwrap();
    p.b.delete(0, 1).unwrap(); // and Bob keeps editing
    sync(&mut p.a, &mut p.b);
    assert_eq!(p.a.text(), "ob shared ");
    p.ub.undo(&mut p.b, 2000).unwrap(); // undoes Bob's delete of "b"
    sync(&mut p.a, &mut p.b);
    assert_eq!(p.a.text(), "bob shared ");
    p.ub.undo(&mut p.b, 2001).unwrap();
    p.ua.redo(&mut p.a, 2002).unwrap();
    sync(&mut p.a, &mut p.b);
    assert_eq!(p.a.text(), "shared alice");
}

#[test]
fn undo_of_a_delete_of_remote_text_restores_it_everywhere() {
    let mut p = pair("keep this");
    p.b.insert(9, " and that").unwrap();
    sync(&mut p.a, &mut p.b);
    p.a.delete(4, 14).unwrap(); // Alice deletes Bob's words too
    p.ua.capture(&p.a, 0);
    sync(&mut p.a, &mut p.b);
    assert_eq!(p.b.text(), "keep");
    p.b.insert(4, "!").unwrap();
    sync(&mut p.a, &mut p.b);
    p.ua.undo(&mut p.a, 10).unwrap();
    sync(&mut p.a, &mut p.b);
    // Bob typed "!" after "keep" while the rest was gone: it stays there.
    assert_eq!(p.b.text(), "keep! this and that");
}

#[test]
fn text_deleted_remotely_is_not_deleted_again() {
    let mut p = pair("");
    p.a.insert(0, "abcdef").unwrap();
    p.ua.capture(&p.a, 0);
    sync(&mut p.a, &mut p.b);
    p.b.delete(1, 3).unwrap();
    p.b.insert(0, "B").unwrap();
    sync(&mut p.a, &mut p.b);
    p.ua.undo(&mut p.a, 10).unwrap();
    sync(&mut p.a, &mut p.b);
    assert_eq!(p.a.text(), "B");
    // Redo brings back what the undo removed; Bob's delete stands.
    p.ua.redo(&mut p.a, 20).unwrap();
    sync(&mut p.a, &mut p.b);
    assert_eq!(p.a.text(), "Baef");
}

#[test]
fn capture_window_groups_typing_and_is_configurable() {
    let mut d = Doc::new(ReplicaId(1));
    let mut options = UndoOptions::default();
    assert_eq!(options.capture_window_ms, 500);
    options.capture_window_ms = 100;
    let mut u = UndoManager::with_options(&d, options);
    for (i, t) in [0u64, 50, 140, 300, 390].into_iter().enumerate() {
        d.insert(i, "x").unwrap();
        u.capture(&d, t);
    }
    // Gaps: 50, 90, 160, 90 -> steps {0,50,140} and {300,390}.
    u.undo(&mut d, 1000).unwrap();
    assert_eq!(d.len(), 3);
    u.undo(&mut d, 1001).unwrap();
    assert_eq!(d.len(), 0);
    assert!(!u.can_undo());
}

#[test]
fn redo_is_cleared_by_a_new_edit_but_not_by_remote_ones() {
    let mut p = pair("base");
    p.a.insert(4, "1").unwrap();
    p.ua.capture(&p.a, 0);
    p.ua.undo(&mut p.a, 1000).unwrap();
    p.b.insert(0, ">").unwrap();
    sync(&mut p.a, &mut p.b);
    p.ua.capture(&p.a, 1100);
    assert!(p.ua.can_redo());
    p.a.insert(0, "2").unwrap();
    p.ua.capture(&p.a, 1200);
    assert!(!p.ua.can_redo());
    assert!(!p.ua.redo(&mut p.a, 1300).unwrap());
}

#[test]
fn title_undo_restores_the_previous_value_unless_someone_else_won() {
    let mut p = pair("");
    p.b.set_title("Bob's", 1_000).unwrap();
    sync(&mut p.a, &mut p.b);
    p.ua.capture(&p.a, 0);
    p.a.set_title("Alice's", 2_000).unwrap();
    p.ua.capture(&p.a, 1);
    sync(&mut p.a, &mut p.b);
    p.ua.undo(&mut p.a, 3_000).unwrap();
    sync(&mut p.a, &mut p.b);
    assert_eq!(p.b.title(), "Bob's");
    p.ua.redo(&mut p.a, 4_000).unwrap();
    sync(&mut p.a, &mut p.b);
    assert_eq!(p.b.title(), "Alice's");
    // Bob overwrites; Alice's undo leaves his title alone.
    p.b.set_title("Bob again", 5_000).unwrap();
    sync(&mut p.a, &mut p.b);
    p.ua.undo(&mut p.a, 6_000).unwrap();
    sync(&mut p.a, &mut p.b);
    assert_eq!(p.a.title(), "Bob again");
}

#[test]
fn counter_undo_subtracts_only_own_increments() {
    let mut p = pair("");
    p.a.increment("votes", 5).unwrap();
    p.ua.capture(&p.a, 0);
    p.b.increment("votes", 3).unwrap();
    sync(&mut p.a, &mut p.b);
    assert_eq!(p.a.counter("votes"), 8);
    p.ua.undo(&mut p.a, 1000).unwrap();
    sync(&mut p.a, &mut p.b);
    assert_eq!(p.b.counter("votes"), 3);
    p.ua.redo(&mut p.a, 1001).unwrap();
    sync(&mut p.a, &mut p.b);
    assert_eq!(p.b.counter("votes"), 8);
}

#[test]
fn many_undo_redo_rounds_with_interleaved_remote_edits_converge() {
    let mut p = pair("0123456789");
    let mut next = rng(0x2545_f491_4f6c_dd1d);
    let mut now = 0;
    for round in 0..200 {
        now += 300;
        for (d, u) in [(&mut p.a, &mut p.ua), (&mut p.b, &mut p.ub)] {
            let len = d.len();
            match next(5) {
                0 => drop(u.undo(d, now).unwrap()),
                1 => drop(u.redo(d, now).unwrap()),
                2 if len > 0 => {
                    let at = next(len);
                    d.delete(at, 1 + next((len - at).min(4))).unwrap();
                }
                _ => d.insert(next(len + 1), ["a", "é", "😀"][next(3)]).unwrap(),
            }
            u.capture(d, now);
        }
        if round % 3 == 0 {
            sync(&mut p.a, &mut p.b);
            p.ua.capture(&p.a, now);
            p.ub.capture(&p.b, now);
        }
    }
    sync(&mut p.a, &mut p.b);
    // Undoing everything of one replica leaves only the other's text and
    // the start text, in some order: nothing foreign is lost.
    while p.ua.undo(&mut p.a, now).unwrap() {}
    sync(&mut p.a, &mut p.b);
    assert_eq!(p.a.text(), p.b.text());
}

#[test]
fn undo_everything_of_one_user_keeps_the_other_users_text() {
    let mut p = pair("");
    let mut now = 0;
    for word in ["one ", "two ", "three "] {
        now += 1000;
        let at = p.a.len();
        p.a.insert(at, word).unwrap();
        p.ua.capture(&p.a, now);
        p.b.insert(0, &word.to_uppercase()).unwrap();
        sync(&mut p.a, &mut p.b);
    }
    while p.ua.undo(&mut p.a, now).unwrap() {}
    sync(&mut p.a, &mut p.b);
    assert_eq!(p.b.text(), "THREE TWO ONE ");
}
