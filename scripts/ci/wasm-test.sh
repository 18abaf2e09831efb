#!/usr/bin/env bash
# Runs the wasm-bindgen-test tests of the bindings (wasm/tests/) compiled to
# wasm32: first in Node, then in headless Chromium driven by chromedriver
# (options in wasm/webdriver.json: headless, --no-sandbox, /usr/bin/chromium).
#
# Needs the wasm32 target and wasm-bindgen-cli at the pinned version (it
# provides wasm-bindgen-test-runner; scripts/ci/setup.sh), node, and for the
# browser half Debian's `chromium` and `chromium-driver` packages. Set
# CHROMEDRIVER to use another chromedriver.
set -euo pipefail
cd "$(dirname "$0")/../.."

die() {
    echo "wasm-test: error: $*" >&2
    exit 1
}
have() {
    command -v "$1" >/dev/null 2>&1
}

cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
[[ -d "$cargo_bin" ]] && export PATH="$PATH:$cargo_bin"

pin=$(sed -n 's/^wasm-bindgen = .*version = "=\([0-9.]*\)".*/\1/p' wasm/Cargo.toml)
[[ -n "$pin" ]] || die "no exact wasm-bindgen pin (\"=X.Y.Z\") found in wasm/Cargo.toml"
have wasm-bindgen-test-runner ||
    die "missing wasm-bindgen-test-runner (comes with wasm-bindgen-cli: cargo install wasm-bindgen-cli --version =$pin)"
found=$(wasm-bindgen-test-runner --version | awk '{print $2}')
[[ "$found" == "$pin" ]] ||
    die "wasm-bindgen-test-runner is $found but wasm/Cargo.toml pins wasm-bindgen $pin (cargo install wasm-bindgen-cli --version =$pin --force)"
have node || die "missing node (>= 20), which runs the Node half of the tests"

chromedriver="${CHROMEDRIVER:-$(command -v chromedriver || true)}"
[[ -n "$chromedriver" && -x "$chromedriver" ]] ||
    die "missing chromedriver for the headless Chromium tests (apt-get install -y chromium chromium-driver; or set CHROMEDRIVER=/path/to/chromedriver)"
chromium=$(sed -n 's/.*"binary": *"\([^"]*\)".*/\1/p' wasm/webdriver.json)
[[ -z "$chromium" || -x "$chromium" ]] ||
    die "missing $chromium, the browser named in wasm/webdriver.json (apt-get install -y chromium)"

export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
run() {
    cargo test -p quire-wasm --target wasm32-unknown-unknown --tests
}

echo "wasm-test: Node ($(node --version))"
(unset WASM_BINDGEN_USE_BROWSER CHROMEDRIVER; run)

echo "wasm-test: headless Chromium ($chromedriver)"
WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER="$chromedriver" run
