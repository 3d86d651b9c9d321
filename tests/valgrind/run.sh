#!/usr/bin/env bash
# run.sh — `make valgrind`: every catalog scenario (scenarios/catalog/
# *.textpb) run by KPSIM under memcheck:
#
#   valgrind --error-exitcode=1 --leak-check=full
#            --errors-for-leak-kinds=definite,indirect
#            [--suppressions=tests/valgrind/kpsim.supp if it exists]
#
# so an invalid read/write, a use of uninitialised memory in a branch or a
# syscall, a bad free, or a definite/indirect leak fails the scenario, as
# does the scenario's own verdict (kpsim exits 1). "still reachable" and
# "possibly lost" are reported in the log but do not fail (libc/protobuf-c
# caches). Suppressions, if ever needed, go in tests/valgrind/kpsim.supp,
# each with a comment saying why it is not our bug.
#
#   tests/valgrind/run.sh KPSIM [JOBS]     (JOBS parallel scenarios, default 2)
#
# Per scenario one line: ok/FAIL, seconds, memcheck's error count, bytes
# definitely lost; logs in $VALGRIND_LOGS (default build/valgrind). Last line
# "valgrind: N passed, M failed (T s)".
set -u
cd "$(dirname "$0")/../.."
KPSIM=${1:?usage: tests/valgrind/run.sh KPSIM [JOBS]}
JOBS=${2:-2}
LOGS=${VALGRIND_LOGS:-build/valgrind}
if ! command -v valgrind >/dev/null 2>&1; then
  echo "valgrind: not installed (apt-get install valgrind)"; exit 2
fi
mkdir -p "$LOGS"
SUPP=()
[ -f tests/valgrind/kpsim.supp ] && SUPP=(--suppressions=tests/valgrind/kpsim.supp)
one() { # scenario file -> $LOGS/NAME.res (one line, plus the log head on failure)
  local s=$1 n t0 t1 rc errs lost
  n=$(basename "$s" .textpb)
  t0=$(date +%s%N)
  valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
      --track-origins=yes "${SUPP[@]}" --log-file="$LOGS/$n.vg" \
      "$KPSIM" run "$s" --quiet >"$LOGS/$n.out" 2>&1
  rc=$?
  t1=$(date +%s%N)
  local secs; secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
  errs=$(grep -cE '^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|.*definitely lost|.*indirectly lost)' "$LOGS/$n.vg")
  lost=$(sed -nE 's/.*definitely lost: ([0-9,]+) bytes.*/\1/p' "$LOGS/$n.vg" | tr -d , | tail -n1)
  exec >"$LOGS/$n.res"
  if [ $rc -eq 0 ]; then
    printf 'ok   %-52s %6.1fs  memcheck errors 0\n' "$n" "$secs"
  else
    printf 'FAIL %-52s %6.1fs  exit %d, memcheck errors %s, definitely lost %s bytes (log %s)\n' \
        "$n" "$secs" "$rc" "$errs" "${lost:-0}" "$LOGS/$n.vg"
    head -n 30 "$LOGS/$n.vg" | sed 's/^/     /'
    [ "$errs" = 0 ] && tail -n 3 "$LOGS/$n.out" | sed 's/^/     /'
  fi
}
export -f one
export KPSIM LOGS
export SUPP_ARGS="${SUPP[*]:-}"
start=$(date +%s)
rm -f "$LOGS"/*.res
# the list is taken once: files added to the catalog meanwhile are not this run's
list=$(ls scenarios/catalog/*.textpb)
echo "$list" | xargs -P "$JOBS" -I{} bash -c 'SUPP=($SUPP_ARGS); one "$1"' _ {}
end=$(date +%s)
for s in $list; do cat "$LOGS/$(basename "$s" .textpb).res" 2>/dev/null; done >"$LOGS/results.txt"
cat "$LOGS/results.txt"
p=$(grep -c '^ok ' "$LOGS/results.txt"); f=$(grep -c '^FAIL ' "$LOGS/results.txt")
total=$(echo "$list" | wc -l)
[ $((p + f)) -lt "$total" ] && f=$((total - p))   # a scenario with no result line failed
echo "valgrind: $p passed, $f failed ($((end - start)) s, $JOBS jobs)"
[ "$f" -eq 0 ]
