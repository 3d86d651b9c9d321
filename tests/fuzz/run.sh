#!/usr/bin/env bash
# run.sh — build and run libFuzzer targets for a bounded time.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS NAME...
#
# For each NAME: links tests/fuzz/fuzz_NAME.c with clang
# -fsanitize=fuzzer,address,undefined against BUILD_DIR/lib/libkp_*.a (the
# layer libraries, built by `make fuzz` with -fsanitize=fuzzer-no-link),
# runs it for SECONDS (-max_total_time) on a scratch copy of
# tests/fuzz/corpus/NAME/ (the committed corpus is never written to), and
# prints one line: executions, corpus size, result. A crash, leak, timeout
# or sanitizer report keeps its input under BUILD_DIR/fuzz/artifacts/NAME/
# and makes the script exit 1 after the remaining targets ran.
set -u
cd "$(dirname "$0")/../.."
if [ $# -lt 2 ]; then
  echo "usage: tests/fuzz/run.sh BUILD_DIR SECONDS NAME..." >&2
  exit 2
fi
BUILD=$1; SECS=$2; shift 2
CC=${FUZZ_CC:-clang}
# Link order: users before what they use (as `make deps-check` orders layers).
LINK_ORDER="scenarios reports producer simnet broker_mock protocol"
libs=(); incs=()
for l in $LINK_ORDER; do
  incs+=("-I$l" "-I$BUILD/gen/$l")
  [ -f "$BUILD/lib/libkp_$l.a" ] && libs+=("$BUILD/lib/libkp_$l.a")
done
SYS_LIBS=$(pkg-config --libs zlib liblz4 libzstd snappy libprotobuf-c 2>/dev/null \
           || echo -lz -llz4 -lzstd -lsnappy -lprotobuf-c)
CFLAGS="-std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

failed=0
for name in "$@"; do
  src=tests/fuzz/fuzz_$name.c
  bin=$BUILD/fuzz/fuzz_$name
  art=$BUILD/fuzz/artifacts/$name
  log=$BUILD/fuzz/fuzz_$name.log
  mkdir -p "$BUILD/fuzz" "$art"
  if [ ! -f "$src" ]; then
    echo "fuzz $name: no $src"; failed=1; continue
  fi
  # shellcheck disable=SC2086
  if ! $CC $CFLAGS "${incs[@]}" "$src" "${libs[@]}" $SYS_LIBS -lm -o "$bin" >"$log" 2>&1; then
    echo "fuzz $name: BUILD FAILED"; cat "$log"; failed=1; continue
  fi
  work=$(mktemp -d "$BUILD/fuzz/corpus-$name.XXXXXX")
  [ -d "tests/fuzz/corpus/$name" ] && cp -R "tests/fuzz/corpus/$name/." "$work/"
  seeds=$(find "$work" -type f | wc -l)
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    "$bin" -max_total_time="$SECS" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
           -artifact_prefix="$art/" "$work" >"$log" 2>&1
  rc=$?
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n1)
  corpus=$(find "$work" -type f | wc -l)
  rm -rf "$work"
  if [ $rc -eq 0 ]; then
    echo "fuzz $name: ok, ${execs:-?} executions in ${SECS}s, corpus $seeds -> $corpus"
  else
    failed=1
    crash=$(ls -t "$art" 2>/dev/null | head -n1)
    echo "fuzz $name: FAILED (exit $rc) after ${execs:-?} executions; input kept: $art/$crash; log: $log"
    grep -E 'ERROR|SUMMARY|==[0-9]+==' "$log" | head -n 5
  fi
done
exit $failed
