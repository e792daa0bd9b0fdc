#!/usr/bin/env bash
# Build libmeerkat.a (release) and run a C example against it.
# Usage: scripts/run-example.sh [example-name] [listening-url]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
name=${1:-http-server}
url=${2:-}
cargo build --release --lib
mkdir -p target/examples
gcc -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -Werror -Iinclude \
    "c-examples/$name/main.c" target/release/libmeerkat.a \
    -lpthread -ldl -lm -lrt -o "target/examples/$name"
cd "c-examples/$name"
exec "../../target/examples/$name" ${url:+"$url"}
