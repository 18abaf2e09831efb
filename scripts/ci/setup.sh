#!/usr/bin/env bash
# Installs the prerequisites of scripts/test that are missing, and does
# nothing for those already present (safe to run repeatedly).
#
# A prerequisite that cannot be installed here (no rustup, not root for
# apt-get, no network) is a clear error naming it, never a silent skip.
set -euo pipefail
cd "$(dirname "$0")/../.."

die() {
    echo "error: $*" >&2
    exit 1
}

ok() {
    echo "ok: $*"
}

have() {
    command -v "$1" >/dev/null 2>&1
}

# Installs Debian packages when running as root with apt-get; otherwise fails
# naming the packages. `apt-get update` runs at most once per invocation.
apt_updated=0
apt_install() {
    if [[ "$(id -u)" -ne 0 ]] || ! have apt-get; then
        die "missing prerequisite: $* (install with: apt-get install -y $*; needs root on Debian)"
    fi
    if (( apt_updated == 0 )); then
        apt-get update
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
}

# Adds a rustup component or target; fails naming it when rustup is absent.
rustup_add() {
    local kind=$1 name=$2
    have rustup || die "missing prerequisite: $name (Rust $kind), and rustup is not installed to add it (see https://rustup.rs)"
    rustup "$kind" add "$name"
}

# --- Rust toolchain ---------------------------------------------------------
have cargo || die "missing prerequisite: cargo (install Rust stable with rustup: https://rustup.rs)"
have rustc || die "missing prerequisite: rustc (install Rust stable with rustup: https://rustup.rs)"
ok "$(rustc --version)"

# rustc needs a system linker (cc) to link tests, examples and benches.
if ! have cc; then
    apt_install gcc libc6-dev
    have cc || die "missing prerequisite: a C linker 'cc' (gcc) after installing it"
fi
ok "linker: $(command -v cc)"

# libFuzzer (scripts/ci/fuzz.sh) is C++, built by libfuzzer-sys.
if ! have c++; then
    apt_install g++
    have c++ || die "missing prerequisite: a C++ compiler 'c++' (g++) after installing it"
fi
ok "C++ compiler: $(command -v c++)"

# --- rustfmt, clippy --------------------------------------------------------
if ! cargo fmt --version >/dev/null 2>&1; then
    rustup_add component rustfmt
fi
cargo fmt --version >/dev/null 2>&1 || die "missing prerequisite: rustfmt (cargo fmt)"
ok "$(cargo fmt --version)"

if ! cargo clippy --version >/dev/null 2>&1; then
    rustup_add component clippy
fi
cargo clippy --version >/dev/null 2>&1 || die "missing prerequisite: clippy (cargo clippy)"
ok "$(cargo clippy --version)"

# --- wasm32 target ----------------------------------------------------------
wasm_target=wasm32-unknown-unknown
has_wasm_target() {
    [[ -d "$(rustc --print sysroot)/lib/rustlib/$wasm_target/lib" ]]
}
if ! has_wasm_target; then
    rustup_add target "$wasm_target"
fi
has_wasm_target || die "missing prerequisite: Rust target $wasm_target"
ok "target $wasm_target"

# --- wasm-bindgen-cli, pinned ---------------------------------------------
# Its version must equal the exact `wasm-bindgen = "=X.Y.Z"` pin of
# wasm/Cargo.toml (the CLI and the library must match byte for byte).
pin=$(sed -n 's/^wasm-bindgen = { *version = "=\([0-9.]*\)".*/\1/p; s/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' wasm/Cargo.toml | head -n1)
[[ -n "$pin" ]] || die "wasm/Cargo.toml has no exact wasm-bindgen pin (wasm-bindgen = \"=X.Y.Z\")"
if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $pin" ]]; then
    echo "installing wasm-bindgen-cli $pin (about 2 minutes)"
    cargo install wasm-bindgen-cli --version "=$pin"
fi
[[ "$(wasm-bindgen --version 2>/dev/null)" == "wasm-bindgen $pin" ]] ||
    die "missing prerequisite: wasm-bindgen-cli $pin on PATH (cargo install wasm-bindgen-cli --version =$pin)"
ok "wasm-bindgen $pin"

# `setup.sh --run` stops here: the main job (scripts/run) needs no Node
# packages and no browser.
if [[ "${1:-}" == "--run" ]]; then
    echo "setup: prerequisites of scripts/run present"
    exit 0
fi

# --- Node and npm (provided by the machine, not installed here) -------------
have node || die "missing prerequisite: node >= 20 (https://nodejs.org or apt-get install nodejs)"
have npm || die "missing prerequisite: npm (comes with Node)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
(( node_major >= 20 )) || die "missing prerequisite: node >= 20 (found $(node --version))"
ok "node $(node --version), npm $(npm --version)"

# npm dependencies of every package with a lockfile (only when out of date).
for lock in wasm/package-lock.json e2e/package-lock.json; do
    dir=$(dirname "$lock")
    [[ -f "$lock" ]] || continue
    if [[ ! -d "$dir/node_modules" || "$lock" -nt "$dir/node_modules/.package-lock.json" ]]; then
        (cd "$dir" && npm ci --no-audit --no-fund)
    fi
    ok "npm dependencies of $dir"
done

# --- Chromium for the browser tests (Debian's package) ----------------------
# chromedriver runs the wasm-bindgen tests in the browser.
if ! have chromium || ! have chromedriver; then
    apt_install chromium chromium-driver
fi
have chromium || die "missing prerequisite: chromium (apt-get install -y chromium)"
have chromedriver || die "missing prerequisite: chromedriver (apt-get install -y chromium-driver)"
ok "$(chromium --version 2>/dev/null | head -n1)"
ok "$(chromedriver --version 2>/dev/null | head -n1)"

echo "setup: all prerequisites present"
