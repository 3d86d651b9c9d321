#!/usr/bin/env bash
# Runs that once crashed kpsim: each must end with a verdict (exit 0 or 1),
# never a signal. Under the ASan build (make test runs the CLI tests there
# too) a use-after-free in any of them fails the test.
set -u
fail() { echo "FAIL: $*"; exit 1; }
cd "$(dirname "$0")/../.."
run() {
  "$KPSIM" run "$@" --quiet >/tmp/kp_regr.$$ 2>&1; rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then cat /tmp/kp_regr.$$; rm -f /tmp/kp_regr.$$; fail "kpsim run $* -> exit $rc"; fi
  rm -f /tmp/kp_regr.$$
}
# split (MESSAGE_TOO_LARGE) with max.in.flight=1: the unmute read the split
# batch after it was released (found by kpsim sweep, shrunk to 2 records)
for seed in 1 2 3 4; do
  run tests/data/sweep/chaos_idempotent.textpb --seed $seed \
      --set producer.app.max.in.flight.requests.per.connection=1 --set topic.t.max.message.bytes=100
done
# a Zipf key_space beyond the runner's 1,000,000-entry table: the key draw
# searched past the table's end (SIGSEGV at key_space 50,000,000)
run tests/data/runs/zipf_huge_keyspace.textpb
# acks=0 + a leader move: the broker closes the connection inside a feed
run scenarios/catalog/leader_move_retry.textpb --set producer.acks=0
echo ok
