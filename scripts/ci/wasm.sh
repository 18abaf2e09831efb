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
node --test wasm/test/
