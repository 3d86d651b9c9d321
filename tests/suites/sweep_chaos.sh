#!/usr/bin/env bash
# sweep_chaos.sh — the short sweep of `make test` (the long one is
# `make sweep`): every catalog scenario with a chaos block, and the chaos
# fixture tests/data/sweep/chaos_idempotent.textpb (idempotence under random
# disconnects, leader moves and retriable errors), over seeds 1..200
# (KP_SWEEP_SEEDS; 1..50 in the ASan build) with 2 processes. Each seed is
# a different random fault schedule and counts as one test; a failing seed
# prints the command that reproduces it. Last line "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
KPSIM=${KPSIM:-build/kpsim}
# 200 seeds; 50 in a sanitizer build (run_tests.sh sets KP_BUILD), which is
# about ten times slower per seed
case "${KP_BUILD:-}" in *asan*) def=1..50 ;; *) def=1..200 ;; esac
SEEDS=${KP_SWEEP_SEEDS:-$def}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
chaos=$(grep -l '^[[:space:]]*chaos[[:space:]]*{' scenarios/catalog/*.textpb 2>/dev/null)
for f in $chaos tests/data/sweep/chaos_idempotent.textpb; do
  "$KPSIM" sweep "$f" --seeds "$SEEDS" --jobs 2 >"$tmp/out" 2>&1; rc=$?
  line=$(tail -n1 "$tmp/out")
  if ! grep -qE '^[0-9]+ passed, [0-9]+ failed$' <<<"$line" || [ $rc -gt 1 ]; then
    failed=$((failed + 1)); echo "FAIL sweep $f: exit $rc"; sed 's/^/     /' "$tmp/out"; continue
  fi
  set -- $line
  passed=$((passed + $1)); failed=$((failed + $3))
  if [ "$3" -gt 0 ]; then echo "FAIL sweep $f seeds $SEEDS: $line"; grep -v ' passed, ' "$tmp/out" | sed 's/^/     /'
  else echo "ok   sweep $f seeds $SEEDS: $line"; fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
