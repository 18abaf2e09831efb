#!/usr/bin/env bash
# Replays every real editing trace (*.json.gz) with the `trace` example of
# quire-core, in release mode. Each run prints one line of JSON to stdout;
# progress and errors go to stderr. Fails if any trace fails.
#
# Traces directory: $QUIRE_TRACES, default ../shared/traces. A relative path
# is taken relative to the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."

traces_dir="${QUIRE_TRACES:-../shared/traces}"

if [[ ! -d "$traces_dir" ]]; then
    echo "error: traces directory '$traces_dir' does not exist (resolved from $(pwd))." >&2
    echo "       The editing traces live outside the repository, in ../shared/traces;" >&2
    echo "       set QUIRE_TRACES to the directory holding the *.json.gz traces." >&2
    exit 1
fi

shopt -s nullglob
traces=("$traces_dir"/*.json.gz)
shopt -u nullglob

if (( ${#traces[@]} == 0 )); then
    echo "error: no *.json.gz traces in '$traces_dir'." >&2
    exit 1
fi

# Build once up front so compile errors are reported once, not per trace.
# The bench profile (release settings) reuses what bench-build compiled.
cargo build --profile bench -p quire-core --example trace

failed=()
for trace in "${traces[@]}"; do
    echo "--- trace: $trace" >&2
    if ! cargo run --quiet --profile bench -p quire-core --example trace -- "$trace"; then
        echo "error: trace replay failed: $trace" >&2
        failed+=("$trace")
    fi
done

if (( ${#failed[@]} > 0 )); then
    echo "error: ${#failed[@]} of ${#traces[@]} trace(s) failed:" >&2
    printf '  %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "all ${#traces[@]} trace(s) replayed" >&2
