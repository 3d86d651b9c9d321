#!/usr/bin/env bash
# kpsim sweep --shrink: for the first failing seed of
# tests/data/sweep/shrink_blackhole.textpb (five scripted faults and chaos,
# of which only a long blackhole of the leader makes records expire) it
# finds a smaller scenario — the blackhole alone, no chaos, fewer records —
# that still fails the same check with that seed; prints it as a scenario
# file (protobuf text) with the number of runs it took; writes it with
# --shrink-dir; and the printed file reproduces the failure on its own.
# The shrink output is the same whatever --jobs.
set -u
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
F=tests/data/sweep/shrink_blackhole.textpb

"$KPSIM" sweep $F --seeds 3..4 --jobs 2 --shrink --shrink-dir "$tmp/shr" >"$tmp/out"; rc=$?
[ $rc -eq 1 ] || fail "exit $rc, want 1"
[ "$(tail -n1 "$tmp/out")" = "0 passed, 2 failed" ] || fail "final line: $(tail -n1 "$tmp/out")"
grep -qE '^shrink seed 3: [0-9]+ runs, [0-9]+ changes kept: faults 5 -> 1, chaos dropped' "$tmp/out" || fail "summary: $(grep '^shrink' "$tmp/out")"
grep -q '^shrink seed 4' "$tmp/out" && fail "--shrink-max defaults to the first failing seed only"
grep -q '^shrink seed 3: still fails with: expectation counter records_failed == 0: ' "$tmp/out" || fail "no 'still fails' line"
# the printed scenario, between its markers
sed -n '/^---- shrunk scenario, seed 3/,/^---- end of shrunk scenario/p' "$tmp/out" | sed '1d;$d' >"$tmp/printed.textpb"
[ -s "$tmp/printed.textpb" ] || fail "no scenario printed"
file="$tmp/shr/sweep_shrink_blackhole-seed3.textpb"
[ -f "$file" ] || fail "--shrink-dir file missing: $(ls "$tmp/shr")"
cmp -s "$file" "$tmp/printed.textpb" || fail "printed and written scenarios differ"
grep -q "(run it: kpsim run $file)" "$tmp/out" || fail "run command not printed"
[ "$(grep -c '^fault {' "$file")" -eq 1 ] || fail "want one fault left: $(cat "$file")"
grep -q 'blackhole { node: "broker-0" duration_ms: 6000 }' "$file" || fail "the blackhole is not the fault left"
grep -q '^chaos' "$file" && fail "chaos left in: $(cat "$file")"
grep -q '^seed: 3$' "$file" || fail "the seed is not in the file"
recs=$(sed -nE 's/.* records: ([0-9]+) .*/\1/p' "$file")
[ -n "$recs" ] && [ "$recs" -lt 2000 ] || fail "records not reduced: '$recs'"
# it reproduces alone, with the same check, its seed taken from the file
want=$(sed -nE 's/^shrink seed 3: still fails with: (.*)$/\1/p' "$tmp/out")
got=$("$KPSIM" run "$file"); r=$?
[ $r -eq 1 ] || fail "shrunk scenario: exit $r, want 1"
grep -qF "first      $want" <<<"$got" || fail "shrunk scenario fails differently: $(grep ^first <<<"$got")"
# (the original fails with this seed too: the sweep did not invent it)
"$KPSIM" run $F --seed 3 --quiet >/dev/null; [ $? -eq 1 ] || fail "original seed 3 should fail"

# deterministic: --jobs 1 gives the same output
"$KPSIM" sweep $F --seeds 3..4 --jobs 1 --shrink --shrink-dir "$tmp/shr" >"$tmp/out1"
cmp -s "$tmp/out" "$tmp/out1" || fail "shrink output differs with --jobs: $(diff "$tmp/out" "$tmp/out1")"
# --shrink-max 2 shrinks both; --shrink-runs 1 stops at once and says so
"$KPSIM" sweep $F --seeds 3..4 --shrink-max 2 --shrink-runs 1 >"$tmp/out2"
[ "$(grep -c '^shrink seed [34]: 1 runs, .*(run budget exhausted)' "$tmp/out2")" -eq 2 ] || fail "budget: $(grep ^shrink "$tmp/out2")"
# a timeout is not shrunk (every try could take the whole --timeout)
out=$(KPSIM_SWEEP_TEST_HANG=2 "$KPSIM" sweep tests/data/sweep/chaos_idempotent.textpb --seeds 2 --timeout 1 --shrink); rc=$?
[ $rc -eq 1 ] && grep -q '^shrink seed 2: not shrunk: a timeout' <<<"$out" || fail "timeout shrink: $rc '$out'"
# nothing fails, nothing to shrink
out=$("$KPSIM" sweep tests/data/sweep/chaos_idempotent.textpb --seeds 1..2 --shrink); rc=$?
[ $rc -eq 0 ] && [ "$out" = "2 passed, 0 failed" ] || fail "passing sweep with --shrink: $rc '$out'"
exit 0
