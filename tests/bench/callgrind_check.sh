#!/bin/sh
# callgrind_check.sh — `make bench-check`: the instruction count (callgrind
# Ir) of benchmark workload (a), `throughput`, at a small size, against the
# number recorded in tests/bench/callgrind_baseline.txt. Instruction counts
# do not depend on machine load, so a slowdown shows up as a number.
#
#   tests/bench/callgrind_check.sh KPSIM BASELINE_FILE [--update]
#
# Fails (exit 1) when the count is more than 10% above the recorded one.
# When a change makes the run legitimately more expensive, run with
# --update (make bench-check UPDATE=1) and commit the new baseline file
# together with that change, saying why in the commit message. A count far
# below the baseline passes and says so: record the win with --update.
#
# Baseline file: lines "key value"; '#' starts a comment.
#   records  N    the --records of the measured run
#   ir       N    total instructions (callgrind "summary:" / "totals:")
set -eu
kpsim=$1
baseline=$2
update=${3:-}

command -v valgrind >/dev/null 2>&1 || { echo "bench-check: needs valgrind (apt-get install valgrind)"; exit 2; }
[ -x "$kpsim" ] || { echo "bench-check: no executable $kpsim"; exit 2; }

records=20000
if [ -f "$baseline" ]; then
  r=$(awk '$1 == "records" { print $2 }' "$baseline")
  [ -n "$r" ] && records=$r
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if ! valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" \
     "$kpsim" bench --only throughput --records "$records" --in-process >"$out/log" 2>&1; then
  echo "bench-check: the measured run failed:"
  cat "$out/log"
  exit 1
fi
ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$out/cg.out")
[ -n "$ir" ] || { echo "bench-check: no instruction total in callgrind's output"; exit 2; }

if [ "$update" = "--update" ]; then
  {
    echo "# make bench-check: callgrind instruction count (Ir) of"
    echo "#   kpsim bench --only throughput --records $records --in-process"
    echo "# built with the default flags (gcc -O2 -g). Update with"
    echo "# 'make bench-check UPDATE=1' in the commit that changes it, and say why."
    echo "records $records"
    echo "ir $ir"
  } >"$baseline"
  echo "bench-check: recorded $ir instructions for $records records in $baseline"
  exit 0
fi

base=$(awk '$1 == "ir" { print $2 }' "$baseline" 2>/dev/null || true)
[ -n "$base" ] || { echo "bench-check: no 'ir' line in $baseline (make bench-check UPDATE=1 records one)"; exit 2; }
limit=$((base + base / 10))
pct=$(awk -v a="$ir" -v b="$base" 'BEGIN { printf "%+.1f", (a - b) * 100.0 / b }')
echo "bench-check: throughput, $records records: $ir instructions (recorded $base, ${pct}%, limit $limit)"
if [ "$ir" -gt "$limit" ]; then
  echo "bench-check: FAIL: more than 10% above the recorded count. Profile it:"
  echo "  valgrind --tool=callgrind $kpsim bench --only throughput --records $records --in-process"
  echo "or, if the cost is intended, record it: make bench-check UPDATE=1 (commit the file with the change)"
  exit 1
fi
if [ "$ir" -lt $((base - base / 10)) ]; then
  echo "bench-check: more than 10% below the recorded count: record the win with make bench-check UPDATE=1"
fi
echo "bench-check: ok"
