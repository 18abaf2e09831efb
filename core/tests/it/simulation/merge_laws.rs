//! Merge is a join at the document level: commutative, associative and
//! idempotent, judged by canonical `encode()` bytes; applying a delta twice
//! is applying it once.

use super::FRAGMENTS;
use proptest::prelude::*;
use quire_core::{Delta, Doc, ReplicaId, VersionVector};

const IDS: [ReplicaId; 3] = [ReplicaId(7), ReplicaId(8), ReplicaId(u64::MAX - 1)];
const NAMES: [&str; 2] = ["a", "ü"];

#[derive(Clone, Debug)]
enum Action {
    /// Insert at `at % (len + 1)`.
    Insert {
        at: usize,
        text: String,
    },
    /// Delete up to `len` chars from `at % len`.
    Delete {
        at: usize,
        len: usize,
    },
    Title {
        text: String,
        now: u64,
    },
    Count {
        name: usize,
        by: i64,
    },
    /// Merge another replica in (so histories depend on each other).
    Sync {
        from: usize,
    },
}

fn arb_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 1..4).prop_map(|f| f.concat())
}

fn arb_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (any::<usize>(), arb_text()).prop_map(|(at, text)| Action::Insert { at, text }),
        2 => (any::<usize>(), 1..6usize).prop_map(|(at, len)| Action::Delete { at, len }),
        1 => (arb_text(), 0..5u64).prop_map(|(text, now)| Action::Title { text, now: 1_000 + now }),
        1 => (0..2usize, -3..4i64).prop_map(|(name, by)| Action::Count { name, by }),
        2 => (0..3usize).prop_map(|from| Action::Sync { from }),
    ]
}

fn arb_script() -> impl Strategy<Value = Vec<(usize, Action)>> {
    prop::collection::vec((0..3usize, arb_action()), 0..40)
}

/// Runs a script on three replicas.
fn build(script: &[(usize, Action)]) -> Vec<Doc> {
    let mut docs: Vec<Doc> = IDS.iter().map(|&id| Doc::new(id)).collect();
    for (r, action) in script {
        let len = docs[*r].len();
        match action {
            Action::Insert { at, text } => docs[*r].insert(at % (len + 1), text).unwrap(),
            Action::Delete { at, len: n } if len > 0 => {
                let at = at % len;
                docs[*r].delete(at, (*n).min(len - at)).unwrap();
            }
            Action::Delete { .. } => {}
            Action::Title { text, now } => docs[*r].set_title(text, *now).unwrap(),
            Action::Count { name, by } => docs[*r].increment(NAMES[*name], *by).unwrap(),
            Action::Sync { from } if from != r => {
                let other = docs[*from].clone();
                docs[*r].merge(&other).unwrap();
            }
            Action::Sync { .. } => {}
        }
    }
    docs
}

fn merged(into: &Doc, from: &[&Doc]) -> Doc {
    let mut d = into.clone();
    for f in from {
        d.merge(f).unwrap();
    }
    d
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn merge_is_commutative(script in arb_script()) {
        let d = build(&script);
        for (a, b) in [(0, 1), (0, 2), (1, 2)] {
            let ab = merged(&d[a], &[&d[b]]);
            let ba = merged(&d[b], &[&d[a]]);
            prop_assert_eq!(ab.snapshot(), ba.snapshot());
            prop_assert!(ab.encode() == ba.encode(), "{} ⊔ {} encodes differently", a, b);
        }
    }

    #[test]
    fn merge_is_associative_in_every_order(script in arb_script()) {
        let d = build(&script);
        let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
        let want = merged(&d[0], &[&d[1], &d[2]]);
        let bytes = want.encode();
        for [a, b, c] in orders {
            let left = merged(&merged(&d[a], &[&d[b]]), &[&d[c]]);
            let right = merged(&d[a], &[&merged(&d[b], &[&d[c]])]);
            prop_assert_eq!(left.snapshot(), want.snapshot());
            prop_assert!(left.encode() == bytes, "({} ⊔ {}) ⊔ {} encodes differently", a, b, c);
            prop_assert!(right.encode() == bytes, "{} ⊔ ({} ⊔ {}) encodes differently", a, b, c);
        }
    }

    #[test]
    fn merge_is_idempotent(script in arb_script()) {
        let d = build(&script);
        for a in 0..3 {
            let bytes = d[a].encode();
            prop_assert!(merged(&d[a], &[&d[a]]).encode() == bytes, "{} ⊔ {} changed it", a, a);
            let b = (a + 1) % 3;
            let ab = merged(&d[a], &[&d[b]]);
            prop_assert!(merged(&ab, &[&d[b]]).encode() == ab.encode(), "({} ⊔ {}) ⊔ {} changed it", a, b, b);
            prop_assert!(merged(&ab, &[&d[a]]).encode() == ab.encode(), "({} ⊔ {}) ⊔ {} changed it", a, b, a);
        }
    }

    #[test]
    fn applying_a_delta_twice_equals_applying_it_once(script in arb_script(), cut in any::<u64>()) {
        let d = build(&script);
        let (a, b) = ((cut % 3) as usize, ((cut / 3 % 2 + 1 + cut % 3) % 3) as usize);
        // From nothing, from what `a` has, and from a stale version.
        let stale: VersionVector = d[b].version().iter().map(|(r, n)| (r, n / 2)).collect();
        for since in [VersionVector::new(), d[a].version(), stale] {
            let delta = d[b].delta_since(&since);
            let delta = Delta::decode(&delta.encode()).unwrap();
            let mut once = d[a].clone();
            once.apply(&delta).unwrap();
            let mut twice = once.clone();
            let again = twice.apply(&delta).unwrap();
            prop_assert_eq!(again.applied, 0);
            prop_assert_eq!(twice.snapshot(), once.snapshot());
            prop_assert!(twice.encode() == once.encode(), "second apply changed the encoding");
            prop_assert_eq!(twice.pending(), once.pending());
        }
    }

    #[test]
    fn merged_documents_round_trip_through_encode(script in arb_script()) {
        let d = build(&script);
        let all = merged(&d[0], &[&d[1], &d[2]]);
        let bytes = all.encode();
        let back = Doc::decode(&bytes, ReplicaId(99)).unwrap();
        prop_assert_eq!(back.snapshot(), all.snapshot());
        prop_assert!(back.encode() == bytes, "decode then encode changed the bytes");
    }
}
