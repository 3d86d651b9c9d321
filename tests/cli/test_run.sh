#!/usr/bin/env bash
# kpsim run: the exit-status contract (0 pass, 1 a check failed with the
# reproducing command, 2 bad usage / bad file), --junit, --report, and a
# regression: acks=0 + a leader move (the broker closes the connection from
# inside a feed) must run to a verdict, not abort.
set -u
fail() { echo "FAIL: $*"; exit 1; }
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
f=scenarios/catalog/leader_move_retry.textpb

"$KPSIM" run "$f" --quiet >"$tmp/out" 2>&1 || fail "default run: exit $?"
grep -q "verdict    PASS" "$tmp/out" || fail "no PASS verdict"

"$KPSIM" run "$f" --set producer.acks=0 >"$tmp/out" 2>&1; rc=$?
[ $rc -eq 1 ] || fail "acks=0 run: exit $rc, want 1"
grep -q "^reproduce  kpsim run $f --seed 1 --set producer.acks=0$" "$tmp/out" || fail "no reproduce line"
grep -Eq "anomaly +acks0_loss +observed [1-9]" "$tmp/out" || fail "acks=0 loss not measured"
# the printed command reproduces the same verdict
cmd=$(sed -n 's/^reproduce  kpsim //p' "$tmp/out")
# shellcheck disable=SC2086
"$KPSIM" $cmd >"$tmp/out2" 2>&1; [ $? -eq 1 ] || fail "reproduce command did not fail the same way"
diff <(grep -v '^reproduce' "$tmp/out") <(grep -v '^reproduce' "$tmp/out2") >/dev/null || fail "reproduce run differs"

"$KPSIM" run "$f" --junit "$tmp/j.xml" --quiet >/dev/null || fail "junit run exit $?"
grep -q '<testcase classname="kpsim.run" name="leader_move_retry">' "$tmp/j.xml" || fail "junit testcase missing"
"$KPSIM" run "$f" --set producer.acks=0 --junit "$tmp/j2.xml" --quiet >/dev/null
grep -q '<failure message="expectation counter retries' "$tmp/j2.xml" || fail "junit failure missing"

"$KPSIM" run "$f" --report "$tmp/rep" --quiet >/dev/null || fail "report run exit $?"
[ -s "$tmp/rep/index.html" ] && [ -s "$tmp/rep/records.png" ] || fail "report files missing"

for args in "" "--seed" "--seed x $f" "--bogus $f" "$f $f" "/nonexistent.textpb" "$f --set nosuch.key=1"; do
  # shellcheck disable=SC2086
  "$KPSIM" run $args >/dev/null 2>&1; rc=$?
  [ $rc -eq 2 ] || fail "args '$args': exit $rc, want 2"
done
printf 'name: "x"\nbogus_field: 1\n' >"$tmp/bad.textpb"
"$KPSIM" run "$tmp/bad.textpb" 2>"$tmp/err"; [ $? -eq 2 ] || fail "bad file: want exit 2"
grep -q "bad.textpb:2:1:" "$tmp/err" || fail "bad file: no FILE:LINE:COLUMN ($(cat "$tmp/err"))"
# counter bounds with producer: count that producer's records only
cat >"$tmp/pp.textpb" <<'PP'
name: "per_producer_counts"
purpose: "two producers, bounds per producer"
family: "basics"
cluster { brokers: 1 topic { name: "t" partitions: 1 } }
producer { name: "a" workload { topic: "t" records: 30 } }
producer { name: "b" workload { topic: "t" records: 70 } }
expect {
  counter { name: RECORDS_ACKED min: 30 max: 30 producer: "a" }
  counter { name: RECORDS_ACKED min: 70 max: 70 producer: "b" }
  counter { name: RECORDS_ACKED min: 100 max: 100 }
}
PP
"$KPSIM" run "$tmp/pp.textpb" --quiet >/dev/null || fail "per-producer RECORDS_ACKED bounds"
echo ok
