#!/usr/bin/env bash
# kpsim sweep --report DIR: a sweep report page (reports/rp_report.h,
# rp_sweep_report_write) with the pass/fail count, the failing seeds and
# their reproducing commands (with the --set of the sweep), and counter
# distributions across seeds; --merge --report draws the same page from
# shard files.
set -u
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
F=tests/data/sweep/retry_budget.textpb

out=$("$KPSIM" sweep $F --seeds 1..20 --jobs 2 --set producer.linger.ms=3 --report "$tmp/r" --out "$tmp/all.tsv" 2>"$tmp/e"); rc=$?
[ $rc -eq 1 ] || fail "exit $rc: $(cat "$tmp/e")"
last=$(tail -n1 <<<"$out")
p=${last%% passed*}; f=$(sed -E 's/.*, ([0-9]+) failed/\1/' <<<"$last")
[ -f "$tmp/r/index.html" ] || fail "no index.html"
grep -q "$p passed, $f failed" "$tmp/r/index.html" || fail "page lacks '$last'"
seed=$(sed -nE 's/^FAIL seed ([0-9]+):.*/\1/p' <<<"$out" | head -n1)
grep -q "kpsim run tests/data/sweep/retry_budget.textpb --set producer.linger.ms=3 --seed $seed" "$tmp/r/index.html" \
  || fail "reproduce of seed $seed not on the page"
grep -q '<td>retries</td>' "$tmp/r/index.html" || fail "no retries distribution"
[ -f "$tmp/r/sweep_retries.dat" ] || fail "no retries histogram data"

# the same page from shard files through --merge
for i in 1 2; do "$KPSIM" sweep $F --seeds 1..20 --shard $i/2 --set producer.linger.ms=3 --out "$tmp/s$i.tsv" >/dev/null; done
"$KPSIM" sweep --merge "$tmp/s1.tsv" "$tmp/s2.tsv" --report "$tmp/m" >/dev/null 2>&1
cmp -s "$tmp/r/index.html" "$tmp/m/index.html" || fail "merged report page differs"
cmp -s "$tmp/r/sweep_retries.dat" "$tmp/m/sweep_retries.dat" || fail "merged histogram differs"
exit 0
