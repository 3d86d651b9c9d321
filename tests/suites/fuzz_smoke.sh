#!/usr/bin/env bash
# fuzz_smoke.sh — the bounded fuzz step of `make test`: builds the layer
# libraries with clang -fsanitize=fuzzer-no-link,address,undefined (in
# FUZZ_BUILD, default build/fuzz, the dir `make fuzz` uses), then runs every
# tests/fuzz/fuzz_*.c target through tests/fuzz/run.sh for
# FUZZ_SMOKE_SECONDS (default 3) on a scratch copy of its committed corpus,
# two targets at a time. Each target is one test: passed when no crash,
# leak, timeout, oracle abort or sanitizer report; a failing input is kept
# under FUZZ_BUILD/fuzz/artifacts/NAME/. Every committed corpus input
# (including crash regressions) is replayed first, so a fixed bug that
# comes back fails here within seconds.
#
# Skips cleanly (0 failed) when clang or its libFuzzer runtime is missing.
# Under the sanitizer pass of run_tests.sh (KP_BUILD ending in "asan") it
# does not run again: the targets already carry ASan+UBSan.
# Total about 1-2 minutes on 2 cores once the libraries are built.
# Last line: "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
FUZZ_BUILD=${FUZZ_BUILD:-build/fuzz}
SECS=${FUZZ_SMOKE_SECONDS:-3}
finish() { echo "fuzz-smoke: $1 passed, $2 failed"; [ "$2" -eq 0 ]; exit $?; }

case "${KP_BUILD:-}" in
  *asan) echo "skip: the fuzz targets run with ASan+UBSan already (pass without sanitizers runs them)"; finish 0 0 ;;
esac
if ! command -v clang >/dev/null 2>&1; then
  echo "skip: clang is not installed (apt-get install clang)"; finish 0 0
fi
probe=$(mktemp -d); trap 'rm -rf "$probe"' EXIT
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe/p.c"
if ! clang -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
  echo "skip: clang has no libFuzzer runtime (apt-get install clang, which ships compiler-rt)"; finish 0 0
fi

LIBS=""
for l in protocol simnet broker_mock producer reports scenarios; do LIBS="$LIBS $FUZZ_BUILD/lib/libkp_$l.a"; done
# shellcheck disable=SC2086
if ! make --no-print-directory BUILD="$FUZZ_BUILD" CC=clang O=1 SANITIZER=fuzzer-no-link,address,undefined \
      $LIBS >"$probe/make.log" 2>&1; then
  echo "FAIL building the layer libraries with clang for fuzzing"; tail -n 20 "$probe/make.log"; finish 0 1
fi

names=$(ls tests/fuzz/fuzz_*.c | sed -E 's#.*/fuzz_(.*)\.c#\1#')
lane() { # run.sh over every other target, from offset $1
  local i=0 n
  for n in $names; do
    if [ $((i % 2)) -eq "$1" ]; then tests/fuzz/run.sh "$FUZZ_BUILD" "$SECS" "$n"; fi
    i=$((i + 1))
  done
}
lane 0 >"$probe/lane0.txt" 2>&1 &
l0=$!
lane 1 >"$probe/lane1.txt" 2>&1
wait "$l0"
cat "$probe/lane0.txt" "$probe/lane1.txt" >"$probe/all.txt"
cat "$probe/all.txt"
p=$(grep -cE '^fuzz [a-z_0-9]+: ok' "$probe/all.txt")
f=$(grep -cE '^fuzz [a-z_0-9]+: (FAILED|BUILD FAILED|no )' "$probe/all.txt")
total=$(echo "$names" | wc -w)
# a target that printed nothing (killed?) counts as failed
[ $((p + f)) -lt "$total" ] && f=$((total - p))
finish "$p" "$f"
