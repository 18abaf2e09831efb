#!/usr/bin/env bash
# Compiles every benchmark without running it, so benches never go stale.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo bench --workspace --no-run
