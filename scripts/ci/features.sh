#!/usr/bin/env bash
# Checks quire-core with each feature on its own and with none (what
# `cargo hack check --each-feature` does, without installing cargo-hack):
# every feature combination a user can pick must build.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo check -p quire-core --no-default-features
for feature in std serde; do
    cargo check -p quire-core --no-default-features --features "$feature"
done
cargo check -p quire-core --all-features
