//! Real editing traces (josephg/editing-traces) replayed through the public
//! API: every `*.json.gz` in `$QUIRE_TRACES` (default `../../shared/traces`
//! relative to the `core` crate directory) must end at its `endContent`.
//! A missing or empty traces directory fails the tests: it is not a pass.
//!
//! Each trace is loaded and replayed once (shared between the tests).

#[path = "support/trace.rs"]
mod trace;

use quire_core::{Doc, ReplicaId, VersionVector};
use std::sync::OnceLock;
use trace::{Kind, Trace};

/// A trace and what replaying it gave (all replicas; one for sequential).
struct Replayed {
    trace: Trace,
    docs: Result<Vec<Doc>, String>,
}

/// Every trace in the traces directory, replayed. Panics (failing the test)
/// when the directory is missing, unreadable or holds no traces, or when a
/// trace cannot be loaded.
fn replayed() -> &'static [Replayed] {
    static ALL: OnceLock<Vec<Replayed>> = OnceLock::new();
    ALL.get_or_init(|| {
        let dir = trace::traces_dir();
        let paths = trace::list_traces(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !paths.is_empty(),
            "no *.json.gz editing traces in {} (set {} to the directory holding them)",
            dir.display(),
            trace::TRACES_ENV
        );
        paths
            .iter()
            .map(|path| {
                let trace = trace::load(path).unwrap_or_else(|e| panic!("{e}"));
                let docs = trace::replay(&trace).map_err(|e| e.to_string());
                Replayed { trace, docs }
            })
            .collect()
    })
}

fn of_kind(kind: Kind) -> Vec<&'static Replayed> {
    let all: Vec<_> = replayed().iter().filter(|r| r.trace.kind == kind).collect();
    assert!(
        !all.is_empty(),
        "no {} traces in {}",
        kind.as_str(),
        trace::traces_dir().display()
    );
    all
}

/// The replayed document of a sequential trace, or the reason there is none.
fn sequential_doc(r: &Replayed) -> Result<&Doc, String> {
    match &r.docs {
        Ok(docs) => docs.first().ok_or_else(|| "no document".to_owned()),
        Err(e) => Err(format!("replay failed: {e}")),
    }
}

/// Where two texts first differ, for failure messages.
fn difference(got: &str, want: &str) -> String {
    let at = got
        .chars()
        .zip(want.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let context = |s: &str| {
        s.chars()
            .skip(at.saturating_sub(20))
            .take(40)
            .collect::<String>()
    };
    format!(
        "{} chars vs {} expected, first difference at char {at}: got {:?}, expected {:?}",
        got.chars().count(),
        want.chars().count(),
        context(got),
        context(want)
    )
}

/// Panics listing every failure, so one run shows all broken traces.
fn report(what: &str, failures: Vec<String>) {
    assert!(failures.is_empty(), "{what}:\n  {}", failures.join("\n  "));
}

#[test]
fn the_traces_directory_holds_sequential_and_concurrent_traces() {
    of_kind(Kind::Sequential);
    of_kind(Kind::Concurrent);
}

#[test]
fn every_sequential_trace_replays_to_its_end_content() {
    let mut failures = Vec::new();
    for r in of_kind(Kind::Sequential) {
        match sequential_doc(r) {
            Ok(doc) => {
                let text = doc.text();
                if text != r.trace.end_content {
                    failures.push(format!(
                        "{}: {}",
                        r.trace.name,
                        difference(&text, &r.trace.end_content)
                    ));
                } else if doc.len() != r.trace.end_content.chars().count() {
                    failures.push(format!(
                        "{}: len() is {} but the text has {} chars",
                        r.trace.name,
                        doc.len(),
                        text.chars().count()
                    ));
                }
            }
            Err(e) => failures.push(format!("{}: {e}", r.trace.name)),
        }
    }
    report(
        "sequential traces that did not replay to endContent",
        failures,
    );
}

#[test]
fn every_concurrent_trace_replays_to_its_end_content_with_one_replica_per_agent() {
    let mut failures = Vec::new();
    for r in of_kind(Kind::Concurrent) {
        match &r.docs {
            Ok(docs) => {
                for (k, doc) in docs.iter().enumerate() {
                    let text = doc.text();
                    if text != r.trace.end_content {
                        failures.push(format!(
                            "{}: replica {} after the final merge: {}",
                            r.trace.name,
                            k + 1,
                            difference(&text, &r.trace.end_content)
                        ));
                    }
                }
            }
            Err(e) => failures.push(format!("{}: replay failed: {e}", r.trace.name)),
        }
    }
    report(
        "concurrent traces that did not replay to endContent",
        failures,
    );
}

/// Hands the replayed document of every sequential trace to `check`, which
/// adds its failures; a trace that did not replay is a failure too.
fn check_sequential_docs(what: &str, mut check: impl FnMut(&str, &Doc, &mut Vec<String>)) {
    let mut failures = Vec::new();
    for r in of_kind(Kind::Sequential) {
        match sequential_doc(r) {
            Ok(doc) => check(&r.trace.name, doc, &mut failures),
            Err(e) => failures.push(format!("{}: {e}", r.trace.name)),
        }
    }
    report(what, failures);
}

#[test]
fn every_sequential_trace_survives_an_encode_decode_round_trip_with_equal_text_and_version() {
    check_sequential_docs(
        "sequential traces whose encode/decode round trip differs",
        |name, doc, failures| {
            let bytes = doc.encode();
            match Doc::decode(&bytes, ReplicaId(1)) {
                Ok(decoded) => {
                    let (got, want) = (decoded.text(), doc.text());
                    if got != want {
                        failures.push(format!("{name}: decoded text: {}", difference(&got, &want)));
                    }
                    if decoded.version() != doc.version() {
                        failures.push(format!(
                            "{name}: decoded version {:?}, expected {:?}",
                            decoded.version(),
                            doc.version()
                        ));
                    }
                }
                Err(e) => failures.push(format!(
                    "{name}: Doc::decode of {} encoded bytes failed: {e}",
                    bytes.len()
                )),
            }
        },
    );
}

#[test]
fn every_sequential_trace_rebuilds_its_text_in_a_fresh_doc_from_delta_since_the_empty_version() {
    check_sequential_docs(
        "sequential traces whose full delta does not rebuild the text",
        |name, doc, failures| {
            let delta = doc.delta_since(&VersionVector::new());
            let mut fresh = Doc::new(ReplicaId(2));
            match fresh.apply(&delta) {
                Ok(outcome) if outcome.pending != 0 => {
                    failures.push(format!(
                        "{name}: {} operations left pending",
                        outcome.pending
                    ));
                }
                Ok(_) => {
                    let (got, want) = (fresh.text(), doc.text());
                    if got != want {
                        failures.push(format!("{name}: {}", difference(&got, &want)));
                    }
                }
                Err(e) => failures.push(format!("{name}: apply failed: {e}")),
            }
        },
    );
}
