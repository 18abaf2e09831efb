#!/usr/bin/env bash
# Lints: every crate, every target (tests, benches, examples), every feature;
# any warning is an error.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo clippy --workspace --all-targets --all-features -- -D warnings
