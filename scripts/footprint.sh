#!/usr/bin/env bash
# Flash and RAM footprint of the smallest meerkat that serves HTTP, measured the way firmware
# engineers compare libraries: `size` on the stripped, linked program.
#
#   scripts/footprint.sh [--tls] [FEATURES]
#
# Builds libmeerkat.a with the `footprint` profile (opt-level z, LTO, one codegen unit,
# panic = abort) and, by default, without std (`--no-default-features`: the no_std + alloc
# crate over the libc backend, with the C abort and allocator hooks of the shim; FEATURES
# adds features, e.g. `std` for the std build, `ws-deflate`), removes the unwind tables from
# a copy of it (libmeerkat-nounwind.a, see below) and links that, with -Os,
# -ffunction-sections -fdata-sections -Wl,--gc-sections:
#   target/footprint/http-hello   from benches/c/meerkat_hello.c   (usage: URL WEB_ROOT)
#   target/footprint/tcp-echo     from c-examples/tcp-echo/main.c
# With --tls (default features then `std,tls-rustcrypto`: rustls with the pure-Rust crypto
# provider), instead, into target/footprint-tls/ (with a copy of its archive):
#   target/footprint-tls/https-hello  from benches/c/meerkat_https_hello.c (URL CERT KEY)
# FOOTPRINT_PROGS="name:source[:cflag,cflag...] ..." links more programs the same way
# (after the default ones), e.g. FOOTPRINT_PROGS="ws:benches/c/meerkat_ws.c
# mqtt:benches/c/mqtt_size.c:-DWITH_MQTT".
# Each program is linked unstripped into unstripped/ beside it and stripped with `strip`.
# Prints text/data/bss of each stripped program, its ELF sections, and a breakdown of the
# linked http-hello's (https-hello's) code by Rust crate::module, from `nm -S -C` on the
# unstripped program. benches/size.rs (cargo bench --bench size) runs this script and prints
# the same beside Mongoose's programs.
set -euo pipefail
cd "$(dirname "$0")/.."

tls=0
if [ "${1:-}" = "--tls" ]; then
    tls=1
    shift
fi
if [ $tls = 1 ]; then
    features=${1:-std,tls-rustcrypto}
    out=target/footprint-tls
    progs=(https-hello:benches/c/meerkat_https_hello.c)
else
    features=${1:-}
    out=target/footprint
    progs=(http-hello:benches/c/meerkat_hello.c tcp-echo:c-examples/tcp-echo/main.c)
fi
mkdir -p "$out/unstripped"

echo "== cargo rustc --crate-type staticlib --profile footprint --no-default-features${features:+ --features $features}"
# --crate-type staticlib: Cargo.toml's [lib] is `staticlib` and `rlib`, and for a mix of crate
# types Cargo does not run LTO (it passes no `-C lto` and bundles every dependency's own
# object code: core, alloc, the crypto crates' rodata), whatever the profile says. Built
# alone, the staticlib gets the fat LTO of the footprint profile: http-hello's stripped text
# 160,206 -> 135,495 bytes, tcp-echo's 83,506 -> 65,595 (benches/README.md, 2026-12-04).
# No unwind tables: with panic = abort nothing unwinds (the precompiled core/alloc keep theirs).
# Static relocation model, as firmware targets have by default (thumbv7em-none-eabi, ...): no
# GOT, and tables of pointers are read-only data instead of .data.rel.ro, which `size` counts
# as data (RAM). On http-hello: text +6.7 KB, data -10.7 KB, text + data -4.0 KB before LTO
# ran (see --crate-type below); with LTO: text 133,827 -> 134,823 B (+996), data 2,640 ->
# 1,120 B (-1,520), text + data -524 B (2026-12-04). Given to
# meerkat's own rustc only (`cargo rustc`; LTO generates all the code there): in RUSTFLAGS it
# would reach the proc macros of the TLS build, which must be position-independent.
RUSTFLAGS="${RUSTFLAGS:-} -C force-unwind-tables=no" \
    cargo rustc --quiet --lib --crate-type staticlib --profile footprint --no-default-features ${features:+--features "$features"} \
    -- -C relocation-model=static
lib=target/footprint/libmeerkat.a
# cargo keeps one libmeerkat.a per profile: the TLS build keeps a copy of its own.
if [ $tls = 1 ]; then
    cp "$lib" "$out/libmeerkat.a"
    lib=$out/libmeerkat.a
fi
# -C force-unwind-tables=no covers the crates built here, but the precompiled core and alloc
# that LTO pulls in (and compiler_builtins, and the C shim) come with .eh_frame entries for
# their functions: about 16 KB of http-hello's text. With panic = abort nothing unwinds
# through meerkat (a C++ exception thrown through it would be undefined behaviour anyway), so
# firmware drops them as linker scripts commonly do; here, from a copy of the archive.
# (Nightly's -Zbuild-std with these flags would not emit them at all.)
objcopy --remove-section=.eh_frame --remove-section=.rela.eh_frame "$lib" "$out/libmeerkat-nounwind.a"
lib=$out/libmeerkat-nounwind.a

# As firmware is linked: not position-independent (no dynamic relocations), no unwind tables.
# benches/size.rs builds Mongoose's programs with the same flags.
cc_flags=(-Os -std=c99 -D_POSIX_C_SOURCE=200809L -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -no-pie -Iinclude)
ld_flags=(-Wl,--gc-sections "$lib" -lpthread -ldl -lm -lrt -lutil -lgcc_s -lc)
# shellcheck disable=SC2206 # FOOTPRINT_PROGS is a space-separated list
progs+=(${FOOTPRINT_PROGS:-})
bins=()
for p in "${progs[@]}"; do
    name=${p%%:*}
    src=${p#*:}
    extra=()
    if [[ $src == *:* ]]; then
        IFS=, read -r -a extra <<<"${src#*:}"
        src=${src%%:*}
    fi
    # --print-gc-sections: what the linker dropped, for the pools report below.
    gcc "${cc_flags[@]}" "${extra[@]}" "$src" -o "$out/unstripped/$name" "${ld_flags[@]}" \
        -Wl,--print-gc-sections 2>"$out/unstripped/$name.gc"
    strip -o "$out/$name" "$out/unstripped/$name"
    bins+=("$out/$name")
done

echo "== size (stripped, linked; bytes)"
size "${bins[@]}"

# LLVM's merged-constant pools (.rodata.cst4/8/16/32, .rodata.str1.1: every 4/8/16/32-byte
# or NUL-terminated constant of the library in one section each) are kept whole by GNU ld as
# soon as one piece is used, other protocols' texts included; the code keeps them unused
# (statics, not such literals), and this shows when a change brings one back.
echo "== merged-constant pools kept whole (scripts/merge_pools.py; bytes, live = used by the program)"
objs=$(mktemp -d)
(cd "$objs" && ar x "$OLDPWD/$lib" $(ar t "$OLDPWD/$lib" | grep '^meerkat-'))
set -- "$objs"/meerkat-*.o
for p in "${progs[@]}"; do
    name=${p%%:*}
    if [ $# -ne 1 ] || [ ! -f "$1" ] || ! command -v python3 >/dev/null; then
        echo "  $name: not measured (needs python3 and one LTO object)"
        continue
    fi
    kept=$(python3 scripts/merge_pools.py "$1" "$out/unstripped/$name.gc" | grep 'live [1-9]' || true)
    echo "${kept:-none}" | sed "s/^/  $name: /"
done
rm -rf "$objs"

first=${progs[0]%%:*}
echo "== $first: ELF sections (bytes; 'text' above is the sum of the read-only ones)"
size -A "$out/$first" | awk '$2 > 0 && $1 ~ /^\./ { printf "  %-20s %8d\n", $1, $2 }'

# Code by Rust crate::module: `nm -S -C` gives each function's size and demangled path in the
# unstripped program, so only what the linker kept is counted. After LTO, inlined code counts
# in its caller's module, and a generic instantiated for a meerkat type (e.g.
# `<core::cell::RefCell<meerkat::..>>`) in the generic's crate. meerkat's C ABI entry points
# (`mg_*`, Rust #[no_mangle] and the C shim) count as `meerkat::(C ABI)`; other symbols
# without `::` are the program, libc start files and libgcc helpers.
by_module() { # $1: unstripped program, $2: 1 = crate::module, 0 = crate
    nm -S -C -t d --size-sort "$1" | awk -v mod="$2" '
      $3 ~ /^[tTwW]$/ {
        size = $2 + 0
        name = $0
        sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", name)
        sub(/^</, "", name)                  # <T as Trait>::f: the implementing type
        sub(/^&(mut )?/, "", name)
        if (name ~ /^[A-Za-z_0-9]+::/) {
          n = split(name, part, "::")
          key = part[1]
          if (mod && (n > 2 || (n == 2 && part[1] == "meerkat"))) key = part[1] "::" part[2]
          sub(/[<(\[ ].*$/, "", key)
        } else if (name ~ /^(mg|mk)_/) {
          key = mod ? "meerkat::(C ABI)" : "meerkat"
        } else {
          key = "(C: program, libc start files, libgcc)"
        }
        total[key] += size
        all += size
      }
      END {
        for (k in total) printf "%8d  %s\n", total[k], k
        printf "%8d  == all function symbols\n", all
      }' | sort -rn
}
echo "== $first: code by crate (function symbols of the linked program; bytes)"
by_module "$out/unstripped/$first" 0 | head -20
echo "== $first: code by crate::module (largest 40)"
by_module "$out/unstripped/$first" 1 | sed -n '2,41p'
echo "== $first: meerkat's own code by module"
by_module "$out/unstripped/$first" 1 | grep ' meerkat' || true
