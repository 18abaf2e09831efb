//! Replays one real editing trace and prints one line of JSON about it.
//!
//! ```sh
//! cargo run --release -p quire-core --example trace -- ../shared/traces/automerge-paper.json.gz
//! ```
//!
//! Sequential traces are replayed as local edits on one document; concurrent
//! ones with one replica per agent, each txn applied on a replica that has
//! merged exactly its parents, all replicas merged at the end (see
//! `tests/support/trace.rs`).
//!
//! Output fields: `trace` (file name), `kind`, `ok` (final text equals
//! `endContent`, and so do the text after an encode/decode round trip and
//! the text of an empty document that applied the full delta), `chars`,
//! `ops` (patches), `txns`, `agents`, `apply_ms` (the whole replay),
//! `encode_bytes` / `encode_ms` (`Doc::encode`, full history), `decode_ms`
//! (`Doc::decode` + `text()`), `merge_ms` (applying
//! `delta_since(&VersionVector::new())` to an empty document + `text()`; the
//! delta is built outside the timing), `delta_bytes` (that delta encoded),
//! `stream_bytes` (sequential traces: each txn replayed again on a fresh
//! replica, encoded as `delta_since` the version before it, as trace-bench's
//! `--stream` captures it; the sum of their sizes, each delta decoded and
//! applied to a second replica that must end with the same text),
//! `decode_peak_bytes` (the most heap live at once during `Doc::decode` +
//! `text()`, beyond what was live before, measured in a child process),
//! `memory_bytes` (heap allocated minus freed across the replay, counted by
//! the global allocator below: the document(s) it leaves, for concurrent
//! traces all replicas), `heap_bytes` (what `Doc::heap_bytes` reports for
//! the same document(s)) and `errors` (only when something failed).
//!
//! Every timing is the median of 5 runs after 1 untimed warm-up run, in
//! milliseconds with 3 decimals.
//!
//! Exit codes: 0 ok, 1 the replay or a check failed, 2 usage error or
//! unreadable trace.

#[path = "../tests/support/trace.rs"]
mod trace;

use cap::Cap;
use quire_core::{Delta, Doc, ReplicaId, VersionVector};
use serde::Serialize;
use std::alloc::System;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// Counts live heap bytes (no limit), for `memory_bytes`.
#[global_allocator]
static ALLOC: Cap<System> = Cap::new(System, usize::MAX);

/// Timed runs per measurement (after one warm-up run).
const RUNS: usize = 5;

#[derive(Serialize)]
struct Report {
    trace: String,
    kind: &'static str,
    ok: bool,
    chars: usize,
    ops: usize,
    txns: usize,
    agents: usize,
    apply_ms: f64,
    encode_bytes: usize,
    encode_ms: f64,
    decode_ms: f64,
    merge_ms: f64,
    delta_bytes: usize,
    decode_peak_bytes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_bytes: Option<usize>,
    memory_bytes: usize,
    heap_bytes: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<String>,
}

/// Runs `f` once untimed (warm-up), then `RUNS` times timed; returns the
/// median time in milliseconds (3 decimals) and the last result. Each
/// result is dropped before the next run starts.
fn measure<T>(mut f: impl FnMut() -> T) -> (f64, T) {
    drop(f());
    let mut times = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        drop(last.take());
        let start = Instant::now();
        let out = f();
        times.push(start.elapsed().as_secs_f64() * 1e3);
        last = Some(out);
    }
    times.sort_by(f64::total_cmp);
    let median = times[RUNS / 2];
    let last = last.expect("RUNS > 0");
    ((median * 1e3).round() / 1e3, last)
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(path), None) = (args.next(), args.next()) else {
        eprintln!(
            "usage: trace PATH.json.gz   (a josephg/editing-traces file, sequential or concurrent)"
        );
        return ExitCode::from(2);
    };
    if path == "--decode-peak" {
        return decode_peak();
    }
    let trace = match trace::load(Path::new(&path)) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&trace) {
        Ok(report) => {
            let ok = report.ok;
            match serde_json::to_string(&report) {
                Ok(line) => println!("{line}"),
                Err(e) => {
                    eprintln!("error: cannot serialise the report: {e}");
                    return ExitCode::from(1);
                }
            }
            for e in &report.errors {
                eprintln!("error: {}: {e}", trace.name);
            }
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: replay failed: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(trace: &trace::Trace) -> Result<Report, trace::TraceError> {
    let mut errors = Vec::new();

    // The replay. Memory: live heap bytes after minus before, the trace
    // being loaded already; the replay's own bookkeeping is freed by then.
    let (apply_ms, replayed) = measure(|| {
        let before = ALLOC.allocated();
        let docs = trace::replay(trace);
        let after = ALLOC.allocated();
        docs.map(|d| (d, after.saturating_sub(before)))
    });
    let (docs, memory_bytes) = replayed?;
    let heap_bytes = docs.iter().map(Doc::heap_bytes).sum();
    let Some(doc) = docs.first() else {
        return Err(trace::TraceError("the trace has no agents".into()));
    };
    let text = doc.text();
    if text != trace.end_content {
        errors.push(format!(
            "final text differs from endContent ({} chars, expected {}; first difference at char {})",
            doc.len(),
            trace.end_content.chars().count(),
            first_difference(&text, &trace.end_content)
        ));
    }
    for (k, other) in docs.iter().enumerate().skip(1) {
        if other.text() != text {
            errors.push(format!(
                "replica {} did not converge with replica 1 after the final merge",
                k + 1
            ));
        }
    }

    // Fresh replica ids for the decoded copy and the merge target.
    let fresh = trace.num_agents as u64 + 1;

    let (encode_ms, bytes) = measure(|| doc.encode());
    let (decode_ms, decoded) =
        measure(|| Doc::decode(&bytes, ReplicaId(fresh + 1)).map(|d| d.text()));
    match decoded {
        Ok(t) if t == text => {}
        Ok(t) => errors.push(format!(
            "text after encode/decode differs ({} chars; first difference at char {})",
            t.chars().count(),
            first_difference(&t, &text)
        )),
        Err(e) => errors.push(format!("Doc::decode of Doc::encode failed: {e}")),
    }

    let decode_peak_bytes = match child_decode_peak(&bytes) {
        Ok(peak) => peak,
        Err(e) => {
            errors.push(format!("decode peak: {e}"));
            0
        }
    };

    let delta = doc.delta_since(&VersionVector::new());
    let delta_bytes = delta.encode().len();
    let (merge_ms, merged) = measure(|| {
        let mut other = Doc::new(ReplicaId(fresh));
        other
            .apply(&delta)
            .map(|outcome| (outcome.pending, other.text()))
    });
    match merged {
        Ok((0, t)) if t == text => {}
        Ok((0, t)) => errors.push(format!(
            "text after applying the full delta to an empty doc differs ({} chars; first difference at char {})",
            t.chars().count(),
            first_difference(&t, &text)
        )),
        Ok((pending, _)) => errors.push(format!("applying the full delta to an empty doc left {pending} ops pending")),
        Err(e) => errors.push(format!("applying the full delta to an empty doc failed: {e}")),
    }

    let stream_bytes = if trace.kind == trace::Kind::Sequential {
        match stream(trace, ReplicaId(fresh + 2)) {
            Ok((bytes, t)) if t == text => Some(bytes),
            Ok(_) => {
                errors.push("text after applying the stream differs".into());
                None
            }
            Err(e) => {
                errors.push(format!("stream: {e}"));
                None
            }
        }
    } else {
        None
    };

    Ok(Report {
        trace: trace.name.clone(),
        kind: trace.kind.as_str(),
        ok: errors.is_empty(),
        chars: doc.len(),
        ops: trace.patch_count(),
        txns: trace.txns.len(),
        agents: trace.num_agents,
        apply_ms,
        encode_bytes: bytes.len(),
        encode_ms,
        decode_ms,
        merge_ms,
        delta_bytes,
        decode_peak_bytes,
        stream_bytes,
        memory_bytes,
        heap_bytes,
        errors,
    })
}

/// `trace --decode-peak`: decodes the document on stdin, reads its text and
/// prints the most heap live at once meanwhile, beyond what was live before.
fn decode_peak() -> ExitCode {
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
        eprintln!("error: cannot read stdin: {e}");
        return ExitCode::from(2);
    }
    bytes.shrink_to_fit();
    let before = ALLOC.allocated();
    match Doc::decode(&bytes, ReplicaId(u64::MAX)).map(|d| (d.text(), d)) {
        Ok(done) => {
            println!("{}", ALLOC.max_allocated().saturating_sub(before));
            drop(done);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Runs `trace --decode-peak` on `bytes` in a child process.
fn child_decode_peak(bytes: &[u8]) -> Result<usize, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .arg("--decode-peak")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let written = child.stdin.take().map(|mut s| s.write_all(bytes));
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if let Some(Err(e)) = written {
        return Err(e.to_string());
    }
    if !out.status.success() {
        return Err(format!("child exited with {}", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse()
        .map_err(|_| format!("unexpected output {text:?}"))
}

/// Replays a sequential trace with one delta per txn, applied to a second
/// replica as it comes: the deltas' total size and the receiver's text.
fn stream(trace: &trace::Trace, receiver: ReplicaId) -> Result<(usize, String), String> {
    let mut doc = Doc::new(ReplicaId(1));
    let mut other = Doc::new(receiver);
    let mut total = 0;
    let start =
        (!trace.start_content.is_empty()).then(|| trace::Patch(0, 0, trace.start_content.clone()));
    let txns = start
        .into_iter()
        .map(|p| vec![p])
        .chain(trace.txns.iter().map(|t| t.patches.clone()));
    for patches in txns {
        let before = doc.version();
        for p in &patches {
            trace::apply_patch(&mut doc, p).map_err(|e| e.0)?;
        }
        let bytes = doc.delta_since(&before).encode();
        total += bytes.len();
        let delta = Delta::decode(&bytes).map_err(|e| e.to_string())?;
        other.apply(&delta).map_err(|e| e.to_string())?;
    }
    Ok((total, other.text()))
}

/// Index (in chars) of the first character where `a` and `b` differ.
fn first_difference(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}
