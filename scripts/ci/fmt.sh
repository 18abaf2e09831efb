#!/usr/bin/env bash
# Formatting: fails if any file in the workspace is not rustfmt-clean.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo fmt --all -- --check
