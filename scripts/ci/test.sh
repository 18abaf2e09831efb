#!/usr/bin/env bash
# Unit, integration and doc tests of every crate in the workspace.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo test --workspace
