#!/usr/bin/env bash
# Proves the minimum Rust versions the manifests declare (`rust-version`):
# quire-core (also without default features) and quire-wasm build with the
# workspace's, the relay with its own. Dev-dependencies (proptest,
# criterion) may need a newer compiler: tests run on stable.
set -euo pipefail
cd "$(dirname "$0")/../.."

version_of() { sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' "$1" | head -1; }
libs=$(version_of Cargo.toml)
relay=$(version_of relay/Cargo.toml)
for v in "$libs" "$relay"; do
    rustup toolchain install "$v" --profile minimal --no-self-update
done
rustup target add --toolchain "$libs" wasm32-unknown-unknown

# Its own target directory: another compiler's artifacts.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/msrv"
cargo "+$libs" check -p quire-core
cargo "+$libs" check -p quire-core --no-default-features
cargo "+$libs" check -p quire-wasm --target wasm32-unknown-unknown
cargo "+$relay" check -p quire-relay
