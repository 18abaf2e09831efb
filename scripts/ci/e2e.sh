#!/usr/bin/env bash
# Browser end-to-end tests: headless Chromium (Debian's package, driven by
# playwright-core) against the real quire-relay serving the demo and the
# wasm package. Needs scripts/ci/wasm.sh to have built wasm/pkg.
set -euo pipefail
cd "$(dirname "$0")/../.."

[[ -f wasm/pkg/web/index.js ]] || { echo "error: wasm/pkg is not built (run scripts/build-wasm)" >&2; exit 1; }
cargo build -p quire-relay
export QUIRE_RELAY_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/quire-relay"
cd e2e
[[ -d node_modules ]] || npm ci --no-audit --no-fund
npm test
