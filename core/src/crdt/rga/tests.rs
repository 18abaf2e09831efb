//! Model-based tests of the span tree: every edit is mirrored on a plain
//! `Vec<char>`, and the structure's invariants are checked after each step.

use super::span::ItemId;
use super::{NewRun, Rga};
use crate::ids::ReplicaId;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Edit {
    Insert(usize, String),
    Delete(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let text = prop::sample::select(vec![
        "a",
        "bc",
        "😀",
        "e\u{301}",
        "漢字",
        "xyz ",
        "\0",
        "👍🏽!",
    ]);
    prop_oneof![
        3 => (any::<usize>(), prop::collection::vec(text, 1..4)).prop_map(|(p, t)| Edit::Insert(p, t.concat())),
        2 => (any::<usize>(), 1usize..8).prop_map(|(p, n)| Edit::Delete(p, n)),
    ]
}

fn utf16_len(chars: &[char]) -> usize {
    chars.iter().map(|c| c.len_utf16()).sum()
}

proptest! {
    #[test]
    fn local_edits_match_a_plain_string_model(edits in prop::collection::vec(edit(), 1..300)) {
        let mut rga = Rga::new();
        rga.ensure_agent(0);
        let mut model: Vec<char> = Vec::new();
        let (mut seq, mut lamport) = (0u32, 1u64);
        for e in edits {
            match e {
                Edit::Insert(p, text) => {
                    let p = p % (model.len() + 1);
                    rga.insert(p, 0, seq, lamport, &text).unwrap();
                    let n = text.chars().count();
                    seq += n as u32;
                    lamport += n as u64;
                    model.splice(p..p, text.chars());
                }
                Edit::Delete(p, n) => {
                    if model.is_empty() {
                        continue;
                    }
                    let p = p % model.len();
                    let n = n.min(model.len() - p);
                    let mut deleted = 0;
                    rga.delete(p, n, |_, k| deleted += k).unwrap();
                    prop_assert_eq!(deleted as usize, n);
                    seq += n as u32;
                    model.drain(p..p + n);
                }
            }
            rga.check();
            prop_assert_eq!(rga.text(), model.iter().collect::<String>());
            prop_assert_eq!(rga.len_utf16(), utf16_len(&model));
        }
        // Every char boundary converts both ways; surrogate halves are refused.
        let mut utf16 = 0;
        for (i, c) in model.iter().enumerate() {
            prop_assert_eq!(rga.utf16_to_chars(utf16), Ok(i));
            prop_assert_eq!(rga.chars_to_utf16(i), utf16);
            if c.len_utf16() == 2 {
                prop_assert!(rga.utf16_to_chars(utf16 + 1).is_err());
            }
            utf16 += c.len_utf16();
        }
        prop_assert_eq!(rga.utf16_to_chars(utf16), Ok(model.len()));
        prop_assert!(rga.utf16_to_chars(utf16 + 1).is_err());
    }
}

fn run(agent: u32, seq: u32, lamport: u64, origin: Option<ItemId>, text: &str) -> NewRun<'_> {
    NewRun {
        agent,
        seq,
        len: text.chars().count() as u32,
        lamport,
        origin,
        content: Some(text),
    }
}

#[test]
fn concurrent_inserts_at_one_place_order_by_lamport_then_replica() {
    let replicas = [ReplicaId(10), ReplicaId(20), ReplicaId(30)];
    let base = run(0, 0, 1, None, "ab");
    let after_a = Some(ItemId { agent: 0, seq: 0 });
    // Three runs go after 'a' concurrently; apply in every order that keeps
    // each replica's own order (X before Z), as `Doc::apply` does.
    let others = [
        run(1, 0, 2, after_a, "X"),
        run(2, 0, 2, after_a, "Y"),
        run(1, 1, 5, after_a, "Z"),
    ];
    let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2]];
    for order in orders {
        let mut rga = Rga::new();
        for a in 0..3 {
            rga.ensure_agent(a);
        }
        rga.integrate_insert(&replicas, base, false);
        for i in order {
            rga.integrate_insert(&replicas, others[i], false);
            rga.check();
        }
        // Z has the highest Lamport; X and Y tie on Lamport, Y's replica is higher.
        assert_eq!(rga.text(), "aZYXb", "order {order:?}");
    }
}

#[test]
fn a_remote_run_skips_the_subtree_of_a_later_sibling() {
    let replicas = [ReplicaId(1), ReplicaId(2)];
    let mut rga = Rga::new();
    rga.ensure_agent(0);
    rga.ensure_agent(1);
    rga.integrate_insert(&replicas, run(0, 0, 1, None, "a"), false);
    // Replica 0 typed "bc" after 'a' (later), replica 1 typed "Q" after 'a' (earlier).
    rga.integrate_insert(
        &replicas,
        run(0, 1, 5, Some(ItemId { agent: 0, seq: 0 }), "bc"),
        false,
    );
    rga.integrate_insert(
        &replicas,
        run(1, 0, 2, Some(ItemId { agent: 0, seq: 0 }), "Q"),
        false,
    );
    rga.check();
    assert_eq!(rga.text(), "abcQ");
}

#[test]
fn tombstones_keep_their_place_and_deleting_twice_is_harmless() {
    let replicas = [ReplicaId(1)];
    let mut rga = Rga::new();
    rga.ensure_agent(0);
    rga.integrate_insert(&replicas, run(0, 0, 1, None, "hello"), false);
    rga.delete_ids(0, 1, 3);
    rga.delete_ids(0, 2, 1);
    rga.check();
    assert_eq!(rga.text(), "ho");
    // An insert after a deleted char lands where that char was.
    rga.integrate_insert(
        &replicas,
        run(0, 5, 6, Some(ItemId { agent: 0, seq: 2 }), "X"),
        false,
    );
    assert_eq!(rga.text(), "hXo");
}
