#!/usr/bin/env bash
# Proves quire-core builds for the browser target (no std::time, no I/O, no
# native-only dependencies). Needs the wasm32 target (scripts/ci/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo check -p quire-core --target wasm32-unknown-unknown
