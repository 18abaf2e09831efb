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

# --- Added by later issues --------------------------------------------------
#
# TODO(wasm issue): pinned wasm-bindgen-cli. Its version must equal the exact
# `wasm-bindgen = "=X.Y.Z"` pin in wasm/Cargo.toml (STYLE.md). Read the pin
# from wasm/Cargo.toml rather than repeating it here, then:
#   if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $pin" ]]; then
#       cargo install wasm-bindgen-cli --version "$pin" --locked
#   fi
#   check again, die naming wasm-bindgen-cli $pin if still wrong.
#
# TODO(wasm issue): Node and npm deps. Require node >= 20 and npm (die naming
# them if absent: CI provides them, they are not installed here), then
# `npm ci` in each directory with a package-lock.json (wasm/, www/, bench).
#
# TODO(demo/e2e issue): Chromium for the headless end-to-end test, from
# Debian's packages (apt_install runs apt-get update first, needs root):
#   if ! have chromium || ! have chromedriver; then
#       apt_install chromium chromium-driver
#   fi
#   have chromium || die "missing prerequisite: chromium"
#
# TODO(relay cluster issue): redis-server for the cluster-mode tests:
#   have redis-server || apt_install redis-server
#   have redis-server || die "missing prerequisite: redis-server"

echo "setup: all prerequisites present"
