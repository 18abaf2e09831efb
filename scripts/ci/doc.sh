#!/usr/bin/env bash
# API docs: broken intra-doc links and other rustdoc warnings are errors.
set -euo pipefail
cd "$(dirname "$0")/../.."

RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
