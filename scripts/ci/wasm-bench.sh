#!/usr/bin/env bash
# Smoke test of the trace-bench adapter for the npm package `quire`
# (wasm/bench/trace-bench/quire.mjs): one replay (no warm-up) of
# automerge-paper through ../shared/bench/trace-bench, checked against the
# trace's final text, plus encode, decode, merge-remote and the live-sync
# stream. About 20-40 s. Full comparison: docs/benchmarks/wasm.md.
#
# Needs node and npm, the built package (wasm/pkg; built here with
# scripts/build-wasm when missing), trace-bench (TRACE_BENCH, default
# ../shared/bench/trace-bench) and the traces (QUIRE_TRACES, default
# ../shared/traces). trace-bench's npm dependencies are installed with
# `npm ci` in place, or in a scratch copy when that folder is read-only.
set -euo pipefail
cd "$(dirname "$0")/../.."

die() {
    echo "wasm-bench: error: $*" >&2
    exit 1
}
command -v node >/dev/null 2>&1 || die "missing node (>= 20)"

bench="${TRACE_BENCH:-../shared/bench/trace-bench}"
traces="${QUIRE_TRACES:-../shared/traces}"
trace="$traces/automerge-paper.json.gz"
adapter="$PWD/wasm/bench/trace-bench/quire.mjs"
[[ -f "$bench/bench.mjs" ]] || die "no trace-bench at $bench (set TRACE_BENCH)"
[[ -f "$trace" ]] || die "no trace $trace (set QUIRE_TRACES)"
[[ -f wasm/pkg/node/index.mjs ]] || scripts/build-wasm

scratch=$(mktemp -d "${TMPDIR:-/tmp}/quire-wasm-bench.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
# A private copy of the package, so a concurrent build-wasm cannot swap it
# out between the harness' child processes.
cp -R wasm/pkg "$scratch/pkg"
export QUIRE_PKG="$scratch/pkg"

if [[ ! -d "$bench/node_modules" ]]; then
    command -v npm >/dev/null 2>&1 || die "missing npm (comes with node)"
    if [[ ! -w "$bench" ]]; then
        cp -R "$bench" "$scratch/trace-bench"
        bench="$scratch/trace-bench"
    fi
    (cd "$bench" && npm ci --no-audit --no-fund)
fi

trace=$(cd "$(dirname "$trace")" && pwd)/$(basename "$trace")
(cd "$bench" && node --expose-gc bench.mjs --runs 1 --warmup 0 --no-mem --stream \
    --json "$scratch/result.json" --adapters "$adapter" "$trace")
# bench.mjs exits non-zero only for a failed replay; a failed stream phase
# (or a missing number) must fail the smoke too.
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
const bad = r.filter((x) => x.error || x.streamError || x.applyMs == null || x.mergeMs == null || x.streamMs == null);
if (r.length !== 1 || bad.length) {
  console.error("wasm-bench: error: the quire adapter failed:", JSON.stringify(bad.map((x) => x.error || x.streamError || x)));
  process.exit(1);
}
' "$scratch/result.json"
echo "wasm-bench: ok"
