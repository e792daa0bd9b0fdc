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
srcs=("c-examples/$name/main.c")
# Examples with a web root packed into the program (device-dashboard): pack it first, as
# the example's CMakeLists.txt does with meerkat_pack().
if [ -d "c-examples/$name/web_root" ] && grep -q mg_packed_files "c-examples/$name/main.c"; then
    python3 scripts/pack.py -s "c-examples/$name/web_root/" -p /web_root \
        -o "target/examples/$name-packed.c" "c-examples/$name/web_root"
    srcs+=("target/examples/$name-packed.c")
fi
gcc -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -Werror -Iinclude \
    "${srcs[@]}" target/release/libmeerkat.a \
    -lpthread -ldl -lm -lrt -o "target/examples/$name"
cd "c-examples/$name"
exec "../../target/examples/$name" ${url:+"$url"}
