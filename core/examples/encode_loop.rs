//! Replays one editing trace, then encodes the document N times (or, with
//! `decode` after N, decodes its encoding N times and reads the text): a
//! fixed workload for profiling `Doc::encode` and `Doc::decode` (callgrind,
//! perf).
//!
//! ```sh
//! cargo build --release -p quire-core --example encode_loop
//! valgrind --tool=callgrind --toggle-collect='*Doc*encode*' \
//!     target/release/examples/encode_loop ../shared/traces/automerge-paper.json.gz 10
//! ```
//!
//! Prints the encoded size and the median time of the N runs.

#[path = "../tests/support/trace.rs"]
mod trace;

use quire_core::{Doc, ReplicaId};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(path), n, mode) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: encode_loop PATH.json.gz [N [decode]]");
        return ExitCode::from(2);
    };
    let n: usize = n.and_then(|n| n.parse().ok()).unwrap_or(10).max(1);
    let docs = match trace::load(Path::new(&path)).and_then(|t| trace::replay(&t)) {
        Ok(docs) => docs,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let Some(doc) = docs.first() else {
        eprintln!("error: the trace has no agents");
        return ExitCode::from(1);
    };
    let decode = mode.as_deref() == Some("decode");
    let bytes = doc.encode();
    let size = bytes.len();
    let want = doc.text().len();
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        if decode {
            match Doc::decode(&bytes, ReplicaId(u64::MAX)) {
                Ok(d) => assert_eq!(d.text().len(), want),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(1);
                }
            }
        } else {
            assert_eq!(doc.encode().len(), size);
        }
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "encoded {size} bytes; median of {n}: {:.3} ms",
        times[n / 2]
    );
    ExitCode::SUCCESS
}
