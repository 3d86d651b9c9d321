#!/usr/bin/env bash
# determinism.sh — same scenario + seed => the same run, byte for byte,
# whatever the wall clock says and however a sweep is parallelised.
#
# For a few scenarios — every catalog scenario with a chaos block, the two
# busiest catalog scenarios (most events), and the chaos sweep fixture
# tests/data/sweep/chaos_idempotent.textpb — `kpsim run --trace` runs
#   1. plainly,
#   2. under `faketime -f '@2001-01-01 00:00:00'` (the clock stands at the
#      start of 2001; -f takes FAKETIME syntax, the '@' form),
#   3. under LD_PRELOAD=libfaketime.so.1 FAKETIME='+20y x10' (20 years
#      ahead, running ten times fast),
# and the three traces must be byte-identical and the three digests equal:
# any read of the real clock (or of anything else outside the seed) in the
# producer, the broker mock, simnet or the runner shows up here. Then a
# sweep with --jobs 1 and with --jobs 2 (and one under the fast fake clock)
# must print the same lines and write the same --out file.
# The comparison can fail: two different seeds must give different traces.
#
# Needs libfaketime (Debian package faketime, in the Makefile's deps).
# Prints one line per check and a last line "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
KPSIM=${KPSIM:-build/kpsim}
LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
# ASan wants to be first in the library list; libfaketime preloaded is fine.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

passed=0; failed=0
ok()  { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

if ! command -v faketime >/dev/null || [ ! -f "$LIB" ]; then
  bad "libfaketime is missing: apt-get install faketime (or: make deps)"
  echo "$passed passed, $failed failed"; exit 1
fi
if [ ! -x "$KPSIM" ]; then
  bad "no $KPSIM: build it first (make)"
  echo "$passed passed, $failed failed"; exit 1
fi

fake1() { faketime -f '@2001-01-01 00:00:00' "$@"; }
fake2() { LD_PRELOAD="$LIB" FAKETIME='+20y x10' "$@"; }

# the fake clocks are really in effect
now=$(date +%Y); y1=$(fake1 date +%Y); y2=$(fake2 date +%Y)
[ "$y1" = 2001 ] && ok "faketime @2001: the clock reads $y1" || bad "faketime @2001: the clock reads '$y1'"
[ -n "$y2" ] && [ "$y2" -ge $((now + 19)) ] 2>/dev/null && ok "FAKETIME +20y x10: the clock reads $y2 (real $now)" \
  || bad "FAKETIME +20y x10: the clock reads '$y2' (real $now)"

# ---- which scenarios --------------------------------------------------------
chaos=$(grep -l '^[[:space:]]*chaos[[:space:]]*{' scenarios/catalog/*.textpb 2>/dev/null)
busiest=$(for f in scenarios/catalog/*.textpb; do
            ev=$("$KPSIM" run "$f" 2>/dev/null | sed -nE 's/.* events ([0-9]+) .*/\1/p')
            echo "${ev:-0} $f"
          done | sort -rn | head -n 2 | cut -d' ' -f2)
scenarios=$(printf '%s\n' $chaos $busiest tests/data/sweep/chaos_idempotent.textpb | awk '!seen[$0]++')
[ -n "$busiest" ] || bad "no catalog scenario ran"

digest() { sed -nE 's/.* digest ([0-9a-f]{16}).*/\1/p' "$1"; }

# ---- runs: plain, @2001, +20y x10 --------------------------------------------
for f in $scenarios; do
  n=$(basename "$f" .textpb)
  "$KPSIM" run "$f" --trace "$tmp/$n.0.kpt" >"$tmp/$n.0.out" 2>&1
  fake1 "$KPSIM" run "$f" --trace "$tmp/$n.1.kpt" >"$tmp/$n.1.out" 2>&1
  fake2 "$KPSIM" run "$f" --trace "$tmp/$n.2.kpt" >"$tmp/$n.2.out" 2>&1
  d0=$(digest "$tmp/$n.0.out"); d1=$(digest "$tmp/$n.1.out"); d2=$(digest "$tmp/$n.2.out")
  if [ -z "$d0" ] || [ ! -s "$tmp/$n.0.kpt" ]; then
    bad "$f: the plain run printed no digest or wrote no trace: $(tail -n 3 "$tmp/$n.0.out")"; continue
  fi
  size=$(stat -c %s "$tmp/$n.0.kpt")
  if cmp -s "$tmp/$n.0.kpt" "$tmp/$n.1.kpt" && [ "$d0" = "$d1" ]; then ok "$f: @2001 gives the same trace ($size bytes) and digest $d0"
  else bad "$f: @2001 differs (digest $d0 vs '$d1')"; fi
  if cmp -s "$tmp/$n.0.kpt" "$tmp/$n.2.kpt" && [ "$d0" = "$d2" ]; then ok "$f: +20y x10 gives the same trace and digest"
  else bad "$f: +20y x10 differs (digest $d0 vs '$d2')"; fi
done

# ---- the check can fail: another seed, another trace ----------------------------
F=tests/data/sweep/chaos_idempotent.textpb
"$KPSIM" run $F --seed 2 --trace "$tmp/other.kpt" >"$tmp/other.out" 2>&1
if ! cmp -s "$tmp/chaos_idempotent.0.kpt" "$tmp/other.kpt" && [ "$(digest "$tmp/other.out")" != "$(digest "$tmp/chaos_idempotent.0.out")" ]; then
  ok "canary: seed 2 gives a different trace and digest than seed 1"
else
  bad "canary: seeds 1 and 2 gave the same trace: the comparison above proves nothing"
fi

# ---- sweeps: --jobs 1 == --jobs 2 == --jobs 2 under the fast fake clock ------------
for f in $F $(printf '%s\n' $busiest | head -n 1); do
  n=$(basename "$f" .textpb)
  "$KPSIM" sweep "$f" --seeds 1..24 --jobs 1 --out "$tmp/$n.j1.tsv" >"$tmp/$n.j1.txt" 2>&1
  "$KPSIM" sweep "$f" --seeds 1..24 --jobs 2 --out "$tmp/$n.j2.tsv" >"$tmp/$n.j2.txt" 2>&1
  fake2 "$KPSIM" sweep "$f" --seeds 1..24 --jobs 2 --out "$tmp/$n.f2.tsv" >"$tmp/$n.f2.txt" 2>&1
  if ! grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$tmp/$n.j1.txt"; then
    bad "sweep $f: no final line: $(tail -n 3 "$tmp/$n.j1.txt")"
  elif cmp -s "$tmp/$n.j1.txt" "$tmp/$n.j2.txt" && cmp -s "$tmp/$n.j1.tsv" "$tmp/$n.j2.tsv"; then
    ok "sweep $f 1..24: --jobs 1 and --jobs 2 print and write the same ($(tail -n1 "$tmp/$n.j1.txt"))"
  else
    bad "sweep $f: --jobs 1 and --jobs 2 differ: $(diff "$tmp/$n.j1.tsv" "$tmp/$n.j2.tsv" | head -n 5)"
  fi
  if cmp -s "$tmp/$n.j1.txt" "$tmp/$n.f2.txt" && cmp -s "$tmp/$n.j1.tsv" "$tmp/$n.f2.tsv"; then
    ok "sweep $f 1..24: the same under +20y x10"
  else
    bad "sweep $f: differs under +20y x10: $(diff "$tmp/$n.j1.tsv" "$tmp/$n.f2.tsv" | head -n 5)"
  fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
