#!/usr/bin/env bash
# Builds the npm package `quire` (scripts/build-wasm), installs the JS dev
# dependencies from wasm/package-lock.json, type-checks the declarations
# against a typed usage file and runs the JS tests against the built package.
# Needs what scripts/build-wasm needs, plus npm.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v npm >/dev/null 2>&1 || { echo "error: missing npm (comes with node >= 20)" >&2; exit 1; }

scripts/build-wasm
(cd wasm && npm ci --no-audit --no-fund)
(cd wasm && npx --no-install tsc --noEmit -p .)
# The SyncClient tests include one against the real relay: build it, and
# require it (QUIRE_REQUIRE_RELAY) so that test can never be skipped here.
cargo build -p quire-relay
export QUIRE_RELAY_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/quire-relay"
export QUIRE_REQUIRE_RELAY=1
node --test wasm/test/
