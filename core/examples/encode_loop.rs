//! Replays one editing trace, then encodes the document N times: a fixed
//! workload for profiling `Doc::encode` (callgrind, perf).
//!
//! ```sh
//! cargo build --release -p quire-core --example encode_loop
//! valgrind --tool=callgrind --toggle-collect='*Doc*encode*' \
//!     target/release/examples/encode_loop ../shared/traces/automerge-paper.json.gz 10
//! ```
//!
//! Prints the encoded size and the median time of the N encodes.

#[path = "../tests/support/trace.rs"]
mod trace;

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(path), n) = (args.next(), args.next()) else {
        eprintln!("usage: encode_loop PATH.json.gz [N]");
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
    let mut times = Vec::with_capacity(n);
    let mut size = 0;
    for _ in 0..n {
        let start = Instant::now();
        size = doc.encode().len();
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "encoded {size} bytes; median of {n}: {:.3} ms",
        times[n / 2]
    );
    ExitCode::SUCCESS
}
