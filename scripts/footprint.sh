#!/usr/bin/env bash
# Flash and RAM footprint of the smallest meerkat that serves HTTP, measured the way firmware
# engineers compare libraries: `size` on the stripped, linked program.
#
#   scripts/footprint.sh [FEATURES]      (default: the smallest build that serves HTTP)
#
# Builds libmeerkat.a with the `footprint` profile (opt-level s, LTO, one codegen unit,
# panic = abort) and links, with -Os and section garbage collection:
#   target/footprint/http-hello  from benches/c/meerkat_hello.c   (usage: URL WEB_ROOT)
#   target/footprint/tcp-echo    from c-examples/tcp-echo/main.c
# then prints text/data/bss of each and the largest contributors to the archive's text by
# crate. benches/size (cargo bench --bench size) prints the same beside Mongoose's programs.
set -euo pipefail
cd "$(dirname "$0")/.."
features=${1:-std}
out=target/footprint
mkdir -p "$out"

echo "== cargo build --profile footprint --no-default-features --features $features"
cargo build --quiet --lib --profile footprint --no-default-features --features "$features"
lib=target/footprint/libmeerkat.a

cc_flags=(-Os -std=c99 -D_POSIX_C_SOURCE=200809L -ffunction-sections -fdata-sections -Iinclude)
ld_flags=(-Wl,--gc-sections -s "$lib" -lpthread -ldl -lm -lrt -lutil -lgcc_s -lc)
gcc "${cc_flags[@]}" benches/c/meerkat_hello.c -o "$out/http-hello" "${ld_flags[@]}"
gcc "${cc_flags[@]}" c-examples/tcp-echo/main.c -o "$out/tcp-echo" "${ld_flags[@]}"

echo "== size (stripped, linked; bytes)"
size "$out/http-hello" "$out/tcp-echo"

echo "== archive text by crate (largest first; the linker keeps only what is reached)"
size -A --common "$lib" 2>/dev/null | awk '
  /^[^ ].*\(ex / { obj=$0; sub(/ .*/, "", obj); next }
  $1 ~ /^\.text/ { t[obj]+=$2 }
  END { for (o in t) printf "%10d %s\n", t[o], o }' | sort -rn | head -15 || true
