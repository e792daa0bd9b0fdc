#!/usr/bin/env bash
# The whole test suite: formatting, lints, the header drift check and every test
# (unit, property, loopback end-to-end, C examples under ASan/UBSan, CMake consumer).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --all-targets -- -D warnings
echo "== cargo doc (no warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps
echo "== cargo test"
mkdir -p target
cargo test --no-fail-fast 2>&1 | tee target/test.log
echo "== the loop, TCP and HTTP tests again on the poll(2) backend (epoll is Linux's default)"
MEERKAT_POLLER=poll cargo test --test poller --test tcp --test api --test rust_api --test http_server --test http_static --test http_client --test stress 2>&1 | tee -a target/test.log
echo "== TLS unit tests with the pure-Rust crypto provider (the ESP32 configuration)"
cargo test --lib --no-default-features --features std,tls-rustcrypto tls 2>&1 | tee -a target/test.log
# Summarise: one closing line for the whole run.
passed=$(grep -Eo '[0-9]+ passed' target/test.log | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' target/test.log | awk '{s+=$1} END {print s+0}')
echo "summary: ${passed} passed, ${failed} failed"
