#!/usr/bin/env bash
# Install what building and testing meerkat needs on a fresh Debian machine that already has
# the Rust toolchain, gcc and python3. Idempotent: installs only what is missing.
set -euo pipefail

need=()
for pair in gcc:gcc g++:g++ make:make cmake:cmake curl:curl pkg-config:pkg-config ctags:universal-ctags; do
    cmd=${pair%%:*}
    pkg=${pair##*:}
    command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
# Extra packages named by the caller (e.g. `setup.sh openssl wrk`), installed if missing.
for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done

if [ ${#need[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "setup: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # One `apt-get update` per machine boot is enough (tests call this script too).
    stamp=/tmp/meerkat-apt-updated
    if [ ! -e "$stamp" ]; then
        $SUDO apt-get update -qq
        touch "$stamp"
    fi
    $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

command -v cargo >/dev/null 2>&1 || { echo "setup: cargo not found: install the Rust toolchain (rustup) first" >&2; exit 1; }
rustup component list --installed 2>/dev/null | grep -q clippy || rustup component add clippy rustfmt 2>/dev/null || true
