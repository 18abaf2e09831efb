#!/usr/bin/env bash
# Relay load benchmark, smoke run (~15 s after the build): short phases and
# 200 idle connections. Fails when a phase fails (a client closed, a delta
# missing), not when a latency or memory target is missed: shared CI
# machines are too noisy for that. Full run and results: docs/benchmarks/relay.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

# The bench profile (release settings, outputs in target/release) reuses
# what bench-build compiled.
cargo build --profile bench -p quire-relay --bins --examples
export QUIRE_RELAY_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/quire-relay"
cargo run --profile bench -p quire-relay --example load -- --secs 1 --idle 200 "$@"
