#!/usr/bin/env python3
"""What a program keeps of LLVM's merged-constant pools, and for whom.

LLVM puts every `unnamed_addr` constant of 4, 8, 16 or 32 bytes (string literals of that
length, SIMD and float constants, TypeIds) into one `.rodata.cst4/8/16/32` section of the
whole LTO object, and every NUL-terminated one (`c"..."` literals, `core::fmt` templates)
into one `.rodata.str1.1`: `-fdata-sections` does not split SHF_MERGE sections. GNU ld's
--gc-sections keeps such a section whole as soon as one piece is referenced (lld drops the
dead pieces), so a program carries every protocol's short texts. This lists each pool's
pieces as LIVE (referenced from a section the link kept) or dead, with their referrers.
scripts/footprint.sh runs it on every program it links and prints the pools each keeps; by
hand (-v lists every piece):

  scripts/footprint.sh        # builds target/footprint/libmeerkat-nounwind.a
  gcc <footprint.sh's flags> benches/c/meerkat_hello.c -o /tmp/x \\
      -Wl,--gc-sections -Wl,--print-gc-sections target/footprint/libmeerkat-nounwind.a \\
      -lpthread -ldl -lm -lrt -lutil -lgcc_s -lc 2> /tmp/gc.txt
  ar x target/footprint/libmeerkat-nounwind.a $(ar t ... | grep '^meerkat-')
  scripts/merge_pools.py meerkat-*.rcgu.o /tmp/gc.txt [-v]
"""
import collections
import re
import subprocess
import sys


def run(*args):
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def main():
    obj, gclog = sys.argv[1], sys.argv[2]
    verbose = "-v" in sys.argv
    removed = set()
    for line in open(gclog):
        m = re.search(r"removing unused section '([^']+)' in file '.*meerkat-[0-9a-f]+\.meerkat", line)
        if m:
            removed.add(m.group(1))
    secs = {}
    for line in run("readelf", "-SW", obj).splitlines():
        m = re.match(r"\s*\[\s*(\d+)\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+([0-9a-f]+)\s+([0-9a-f]+)", line)
        if m:
            secs[int(m.group(1))] = (m.group(2), int(m.group(3), 16), int(m.group(4), 16))
    byname = {}
    for line in run("readelf", "-sW", obj).splitlines():
        m = re.match(r"\s*\d+:\s+([0-9a-f]+)\s+\d+\s+\w+\s+\w+\s+\w+\s+(\d+)\s+(\S+)", line)
        if m:
            byname[m.group(3)] = (int(m.group(2)), int(m.group(1), 16))
    pools = [n for n, _, _ in secs.values() if n.startswith((".rodata.cst", ".rodata.str"))]
    refs = collections.defaultdict(set)
    cur = None
    for line in run("readelf", "-rW", obj).splitlines():
        m = re.match(r"Relocation section '\.rela(\S+)'", line)
        if m:
            cur = m.group(1)
            continue
        m = re.match(r"[0-9a-f]+\s+[0-9a-f]+\s+(\S+)\s+[0-9a-f]+\s+(\S+)\s*([+-])\s*([0-9a-f]+)", line)
        if not (m and cur):
            continue
        kind, sym = m.group(1), m.group(2)
        add = int(m.group(4), 16) * (1 if m.group(3) == "+" else -1)
        if kind in ("R_X86_64_PC32", "R_X86_64_PLT32"):
            add += 4
        if sym in pools:
            refs[(sym, add)].add(cur)
        elif sym in byname and secs.get(byname[sym][0], ("",))[0] in pools:
            refs[(secs[byname[sym][0]][0], byname[sym][1] + add)].add(cur)
    data = open(obj, "rb").read()
    for pool in pools:
        _, off, size = next(v for v in secs.values() if v[0] == pool)
        es = {".rodata.cst4": 4, ".rodata.cst8": 8, ".rodata.cst16": 16, ".rodata.cst32": 32}.get(pool)
        pieces, p = [], 0
        while p < size:
            ln = es or data.index(b"\0", off + p) - off - p + 1
            pieces.append((p, ln))
            p += ln
        live = 0
        for p, ln in pieces:
            users = set().union(*[u for (s, a), u in refs.items() if s == pool and p <= a < p + ln])
            kept = sorted(u for u in users if u not in removed)
            live += ln if kept else 0
            if verbose:
                print(pool, p, ln, "LIVE" if kept else "dead", data[off + p:off + p + ln], (kept or sorted(users))[:3])
        print(f"{pool}: {size} B, live {live}, dead {size - live}")


if __name__ == "__main__":
    main()
