#!/usr/bin/env bash
# kpsim partition: Kafka's N=3 vector, and exit 2 with a usage message on
# bad arguments (N missing, N < 1, not a number, no key).
set -u
fail() { echo "FAIL: $*"; exit 1; }
out=$("$KPSIM" partition --partitions 3 0 1 2 3 4 5 6 7 8 9) || fail "exit $?"
want=$(printf '0\t2\n1\t0\n2\t2\n3\t2\n4\t1\n5\t0\n6\t1\n7\t0\n8\t0\n9\t2')
[ "$out" = "$want" ] || fail "N=3 vector: got $out"
for args in "" "--partitions 3" "--partitions 0 k" "--partitions -1 k" "--partitions x k" "k" "--bogus 3 k"; do
  # shellcheck disable=SC2086
  "$KPSIM" partition $args >/dev/null 2>/tmp/kp_part_err; rc=$?
  [ $rc -eq 2 ] || fail "args '$args': exit $rc, want 2"
  grep -q "usage: kpsim partition" /tmp/kp_part_err || fail "args '$args': no usage line"
done
echo ok
