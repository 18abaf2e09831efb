#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz: libFuzzer with AddressSanitizer) of
# every decoder of hostile input: documents, deltas applied to a document,
# protocol frames and presence bodies (fuzz/fuzz_targets/). Each target
# starts from the golden vectors and runs FUZZ_SECONDS (default 45) with a
# fixed seed. A crash fails the step; its input lands in fuzz/artifacts/.
# Needs a pinned nightly and cargo-fuzz, installed here when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

nightly=nightly-2026-05-20
cargo_fuzz=0.13.2
seconds=${FUZZ_SECONDS:-45}

rustup toolchain install "$nightly" --profile minimal --no-self-update
if [[ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $cargo_fuzz" ]]; then
    cargo install cargo-fuzz --version "=$cargo_fuzz" --locked
fi

cd fuzz
# Its own target directory: sanitizer builds share nothing with the rest.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-../target}/fuzz"
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
run() {
    local target=$1
    shift
    mkdir -p "$corpus/$target"
    for seed in "$@"; do
        cp "$seed" "$corpus/$target/"
    done
    cargo "+$nightly" fuzz run -O "$target" "$corpus/$target" -- \
        -max_total_time="$seconds" -seed=1 -rss_limit_mb=2048 -print_final_stats=1
}
run doc_decode ../core/tests/vectors/*_doc.bin
run delta_apply ../core/tests/vectors/*_delta*.bin
run message_decode
