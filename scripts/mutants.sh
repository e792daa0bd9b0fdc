#!/usr/bin/env bash
# Mutation testing of the G1/G2 core: cargo-mutants (crates.io) mutates src/handle.rs
# (the generational handle table) and src/mgr/wakeup.rs (the cross-thread wakeup queue)
# one change at a time and runs the tests that guard them: the unit tests (`--lib`),
# tests/api.rs and tests/stress.rs. Every mutant must make a test fail.
#
# Slow (~135 mutants, each an incremental build plus ~5 s of tests: about an hour on two
# cores), so it is not part of scripts/test.sh. Exits 0 when no mutant is missed (a mutant
# that makes the tests time out counts as caught, and is listed); non-zero otherwise.
#
#   scripts/mutants.sh                    # everything, one job
#   scripts/mutants.sh -F 'set_dead'      # only mutants whose name matches a regex
#   MUTANTS_JOBS=2 scripts/mutants.sh     # parallel jobs (each builds its own copy)
#
# PROPTEST_CASES (default here 64, proptest's own default is 256) keeps the property tests
# of the whole library from dominating every mutant's test time. Report:
# target/mutants-report/mutants.out/{caught,missed,timeout,unviable}.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo mutants --version >/dev/null 2>&1; then
    cargo install --locked cargo-mutants
fi

out="${MUTANTS_OUT:-target/mutants-report}"
mkdir -p "$out"
export PROPTEST_CASES="${PROPTEST_CASES:-64}"
# --cargo-arg goes to the build too, so only these three test targets are built per mutant.
rc=0
cargo mutants \
    -f src/handle.rs -f src/mgr/wakeup.rs \
    --cargo-arg=--lib --cargo-arg=--test=api --cargo-arg=--test=stress \
    -j "${MUTANTS_JOBS:-1}" --timeout "${MUTANTS_TIMEOUT:-90}" --build-timeout 600 \
    -o "$out" "$@" || rc=$?

report="$out/mutants.out"
count() { if [ -f "$report/$1.txt" ]; then grep -c . "$report/$1.txt" || true; else echo 0; fi; }
echo "mutants: $(count caught) caught, $(count missed) missed, $(count timeout) timeouts, $(count unviable) unviable"
case "$rc" in
0 | 2 | 3) ;; # finished: the verdict is missed.txt (exit 3 can hide 2)
*)
    echo "cargo mutants failed to run (exit $rc; 4: the unmutated tests fail)" >&2
    exit "$rc"
    ;;
esac
if [ -s "$report/timeout.txt" ]; then
    echo "timed out (counted as caught):"
    sed 's/^/  /' "$report/timeout.txt"
fi
if [ -s "$report/missed.txt" ]; then
    echo "MISSED: no test fails for these mutants:" >&2
    sed 's/^/  /' "$report/missed.txt" >&2
    exit 2
fi
echo "no mutant missed"
