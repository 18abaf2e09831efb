#!/usr/bin/env bash
# Formatting: fails if any file in the workspace or fuzz/ is not rustfmt-clean.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo fmt --all -- --check
# The fuzz targets are their own workspace.
rustfmt --edition 2021 --check fuzz/src/lib.rs fuzz/fuzz_targets/*.rs
