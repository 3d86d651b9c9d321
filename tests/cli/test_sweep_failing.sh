#!/usr/bin/env bash
# A deliberately failing sweep (tests/data/sweep/retry_budget.textpb: a
# retry bound that some random fault schedules break, plus a --set) prints
# one line per failing seed, in seed order, and each line's command, run as
# printed, reproduces that seed's failure exactly; the seeds it names are
# the ones --out marks failed, and the others pass when run alone.
set -u
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
F=tests/data/sweep/retry_budget.textpb

"$KPSIM" sweep $F --seeds 1..40 --jobs 2 --set producer.linger.ms=3 --out "$tmp/r.tsv" >"$tmp/out"; rc=$?
[ $rc -eq 1 ] || fail "exit $rc, want 1"
grep '^FAIL seed' "$tmp/out" >"$tmp/fails" || fail "no failing seed reported: $(cat "$tmp/out")"
# every line: FAIL seed N: kpsim run FILE --seed N --set ...  # what failed
grep -vE '^FAIL seed ([0-9]+): kpsim run tests/data/sweep/retry_budget\.textpb --seed \1 --set producer\.linger\.ms=3  # expectation counter retries in 0\.\.4: [0-9]+$' "$tmp/fails" \
  && fail "malformed failing-seed line(s) above"
# seed order
sed -E 's/^FAIL seed ([0-9]+):.*/\1/' "$tmp/fails" >"$tmp/seeds"
sort -n "$tmp/seeds" | cmp -s - "$tmp/seeds" || fail "failing seeds not in seed order"
# the same seeds as --out
awk -F'\t' '/^[0-9]/ && $2 == "fail" {print $1}' "$tmp/r.tsv" | cmp -s - "$tmp/seeds" || fail "--out disagrees on failing seeds"

# each printed command reproduces its seed's failure (the shell ignores the # comment)
while IFS= read -r line; do
  seed=$(sed -E 's/^FAIL seed ([0-9]+):.*/\1/' <<<"$line")
  cmd=${line#*: }                # kpsim run ... # expectation ...
  want=${line##*  \# }
  cmd=${cmd/#kpsim /\"\$KPSIM\" }
  got=$(eval "$cmd" 2>&1); r=$?
  [ $r -eq 1 ] || fail "seed $seed: reproduce exit $r, want 1 ($cmd)"
  grep -qF "first      $want" <<<"$got" || fail "seed $seed: reproduced run failed differently: $(grep -E '^(first|verdict)' <<<"$got")"
  # and the digest is the one the sweep recorded
  d=$(awk -F'\t' -v s="$seed" '$1 == s {print $3}' "$tmp/r.tsv")
  grep -q "digest $d" <<<"$got" || fail "seed $seed: digest differs from the sweep's $d"
done <"$tmp/fails"
# a seed the sweep passed passes alone too
p=$(awk -F'\t' '/^[0-9]/ && $2 == "pass" {print $1; exit}' "$tmp/r.tsv")
[ -n "$p" ] || fail "no passing seed to check"
"$KPSIM" run $F --seed "$p" --set producer.linger.ms=3 --quiet >/dev/null || fail "seed $p passed in the sweep, fails alone"

# a --set that makes every seed fail (min.insync.replicas above the
# replication factor: NOT_ENOUGH_REPLICAS until delivery.timeout.ms): all
# reported with the --set in their command, exit 1
out=$("$KPSIM" sweep tests/data/sweep/chaos_idempotent.textpb --seeds 1..6 --set broker.min.insync.replicas=4 \
      --set producer.delivery.timeout.ms=2000 --set producer.request.timeout.ms=500 --jobs 2); rc=$?
[ $rc -eq 1 ] || fail "all-failing --set: exit $rc: $out"
# (a seed may also crash the producer: CRASH is a failure too)
[ "$(grep -cE '^(FAIL|CRASH|TIMEOUT) seed' <<<"$out")" -eq 6 ] && [ "$(tail -n1 <<<"$out")" = "0 passed, 6 failed" ] || fail "all-failing: $out"
[ "$(grep -c -- " --set broker.min.insync.replicas=4 --set producer.delivery.timeout.ms=2000 --set producer.request.timeout.ms=500  # " <<<"$out")" -eq 6 ] \
  || fail "--set missing from reproduce: $out"
grep -q -- "--set producer.request.timeout.ms=500  # expectation counter records_acked == 600: 0$" <<<"$out" || fail "no expectation failure: $out"
exit 0
