#!/usr/bin/env bash
# determinism_simnet.sh — the simulated world ignores the wall clock.
#
# Runs the busy randomized simulation of tests/unit/simnet/test_determinism.c
# (`--hash SEED`: many nodes and connections, random sends, chaos faults of
# every kind; prints an FNV-1a hash over every net event and callback) for a
# few seeds: plainly, twice, then under libfaketime with two very different
# fake clocks — FAKETIME='@2001-01-01 00:00:00' (via the faketime command)
# and FAKETIME='+20y x10' (via LD_PRELOAD, 20 years ahead, running 10x fast).
# Every run of one seed must print the identical line; a stray read of the
# real clock anywhere in simnet shows up as a different hash. The binary's
# `--wallclock` mode proves each fake clock really was in effect.
#
# Prints one line per check and a last line "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
B=${KP_BUILD:-build}
BIN="$B/tests/simnet/test_determinism"
LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
SEEDS=${SIMNET_DET_SEEDS:-"1 42 20260101"}
# ASan wants to be first in the library list; libfaketime preloaded is fine.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

passed=0; failed=0
ok()  { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

if [ ! -x "$BIN" ]; then
  make --no-print-directory BUILD="$B" "$BIN" >/dev/null 2>&1 || true
fi
if [ ! -x "$BIN" ] || ! command -v faketime >/dev/null || [ ! -f "$LIB" ]; then
  bad "needs $BIN, the faketime command and $LIB (apt-get install faketime)"
  echo "$passed passed, $failed failed"
  exit 1
fi

fake1() { faketime -f '@2001-01-01 00:00:00' "$@"; }
fake2() { LD_PRELOAD="$LIB" FAKETIME='+20y x10' "$@"; }

# the fake clocks are in effect for this very binary
y0=$("$BIN" --wallclock); y1=$(fake1 "$BIN" --wallclock); y2=$(fake2 "$BIN" --wallclock)
if [ "$y1" = 2001 ]; then ok "faketime @2001: wall clock reads $y1"; else bad "faketime @2001: wall clock reads '$y1'"; fi
if [ -n "$y2" ] && [ "$y2" -ge $((y0 + 19)) ] 2>/dev/null; then ok "FAKETIME +20y: wall clock reads $y2 (real $y0)"
else bad "FAKETIME +20y: wall clock reads '$y2' (real $y0)"; fi

# the check can fail: a run that reads the wall clock is caught
c0=$("$BIN" --canary 1); c1=$(fake1 "$BIN" --canary 1)
if [ -n "$c0" ] && [ "$c0" != "$c1" ]; then ok "canary: a run that reads the wall clock hashes differently"
else bad "canary: wall-clock run not detected ('$c0' vs '$c1')"; fi

for seed in $SEEDS; do
  a=$("$BIN" --hash "$seed"); b=$("$BIN" --hash "$seed")
  c=$(fake1 "$BIN" --hash "$seed"); d=$(fake2 "$BIN" --hash "$seed")
  echo "     plain:        $a"
  case "$a" in *" hash="*" broken=0 corrupt=0") ok "seed $seed: ran, invariants held, no corrupted byte" ;;
               *) bad "seed $seed: unexpected output '$a'" ;; esac
  if [ "$a" = "$b" ]; then ok "seed $seed: same hash twice"; else bad "seed $seed: '$a' then '$b'"; fi
  if [ "$a" = "$c" ]; then ok "seed $seed: same hash at @2001-01-01"; else bad "seed $seed @2001: '$c'"; fi
  if [ "$a" = "$d" ]; then ok "seed $seed: same hash at +20y x10"; else bad "seed $seed +20y x10: '$d'"; fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
