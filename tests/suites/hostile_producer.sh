#!/usr/bin/env bash
# hostile_producer.sh — `kpsim produce` against a misbehaving broker
# (tests/hostile/hostile_broker.c: answers ApiVersions, Metadata and
# InitProducerId correctly, then bends its Produce answers: wrong
# correlation ids, truncated frames, answers for partitions nobody asked
# about, garbage, closing mid-frame, 2 GiB and negative size prefixes,
# silence, duplicate answers, NOT_LEADER_FOR_PARTITION).
#
# Each mode twice:
#   always   every Produce misbehaves: kpsim produce exits 1 (not a crash,
#            not a hang), its summary accounts for every record
#            (acknowledged + failed = sent, none more than once), names the
#            error(s), and nothing was acknowledged that the broker never
#            answered well;
#            (dup-answer: the good answer comes first, so exit 0 is fine too);
#   twice    the first two Produce requests misbehave, then the broker
#            behaves: the producer recovers (reconnects, retries) and every
#            record is acknowledged exactly once (exit 0).
# Plus the control (mode ok) and the idempotent producer in both shapes.
# In the "always" cases stderr must also say what the broker did wrong
# (correlation id, frame size, malformed body, timeouts), one line per
# reason with a count.
# unknown-partition found a producer bug (fixed in d467a28): a graceful
# close forgot the batches an answer did not name, so their records never
# got a callback (acknowledged + failed < sent).
# Short timeouts (request.timeout.ms 500, delivery.timeout.ms 2000), so
# the whole suite is bounded (~1 min at worst); every process started is
# killed on exit. KPSIM may be an ASan build; a sanitizer report fails the
# case. Loopback only. Last line: "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
KPSIM=${KPSIM:-$PWD/build/kpsim}
CC=${HOSTILE_CC:-cc}
passed=0; failed=0
ok()   { passed=$((passed + 1)); echo "ok   $*"; }
bad()  { failed=$((failed + 1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
finish() { echo "hostile-producer: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

[ -x "$KPSIM" ] || { bad "kpsim binary $KPSIM exists"; finish; }
work=$(mktemp -d)
HPID=
cleanup() { [ -n "$HPID" ] && kill -KILL "$HPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The fake broker links protocol/ (finished, self-contained) compiled here,
# without sanitizers: it is the tool, not the thing under test.
HB=$work/hostile_broker
PKG=$(pkg-config --cflags --libs zlib liblz4 libzstd snappy 2>/dev/null || echo -lz -llz4 -lzstd -lsnappy)
# shellcheck disable=SC2086
if ! $CC -std=c11 -D_GNU_SOURCE -O1 -g -Iprotocol -o "$HB" tests/hostile/hostile_broker.c protocol/*.c \
      $PKG -lm 2>"$work/cc.err"; then
  bad "tests/hostile/hostile_broker.c builds"; cat "$work/cc.err"; finish
fi

COUNT=200
SETS=(--set producer.request.timeout.ms=500 --set producer.delivery.timeout.ms=2000
      --set producer.linger.ms=0 --set producer.retry.backoff.ms=50
      --set producer.reconnect.backoff.ms=50 --set producer.reconnect.backoff.max.ms=200
      --set producer.max.block.ms=2000 --set producer.batch.size=2048)

# run_case NAME MODE TIMES EXPECT [extra kpsim args...]
#   EXPECT: ok (exit 0, all acknowledged once) or fail (exit 1, all accounted)
run_case() {
  local name=$1 mode=$2 times=$3 expect=$4; shift 4
  # truncate here: the child's redirection happens after the fork, and the
  # loop below must not read the previous case's port
  : >"$work/hb.out"
  "$HB" --mode "$mode" --times "$times" --partitions 3 --seconds 40 >"$work/hb.out" 2>"$work/hb.err" &
  HPID=$!
  local port=
  for _ in $(seq 1 100); do
    port=$(sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+).*/\1/p' "$work/hb.out")
    [ -n "$port" ] && break
    sleep 0.05
  done
  if [ -z "$port" ]; then bad "$name: hostile broker starts"; kill -KILL "$HPID"; HPID=; return; fi
  timeout 30 "$KPSIM" produce --bootstrap "127.0.0.1:$port" --topic hostile --count $COUNT --size 50 \
      --key-space 7 --timeout-ms 20000 "${SETS[@]}" "$@" >"$work/p.out" 2>"$work/p.err"
  local rc=$?
  kill -TERM "$HPID" 2>/dev/null; wait "$HPID" 2>/dev/null; HPID=
  local line acked more failed_n
  line=$(grep -E '^kpsim produce: [0-9]+ records' "$work/p.out" | tail -n1)
  acked=$(sed -nE 's/.*acknowledged ([0-9]+) \(more than once: ([0-9]+)\), failed ([0-9]+).*/\1/p' <<<"$line")
  more=$(sed -nE 's/.*acknowledged ([0-9]+) \(more than once: ([0-9]+)\), failed ([0-9]+).*/\2/p' <<<"$line")
  failed_n=$(sed -nE 's/.*acknowledged ([0-9]+) \(more than once: ([0-9]+)\), failed ([0-9]+).*/\3/p' <<<"$line")
  local hb_line; hb_line=$(tail -n1 "$work/hb.out")
  echo "     $name: exit $rc; ${line:-no summary}"
  echo "     $name: $hb_line"
  grep -E '^  failed ' "$work/p.out" | sed "s/^/     $name:/"
  tail -n 3 "$work/p.err" | sed "s/^/     $name: stderr: /"
  if grep -qE 'AddressSanitizer|runtime error:|LeakSanitizer' "$work/p.err"; then
    bad "$name: no sanitizer report"; head -n 20 "$work/p.err"; return
  fi
  if [ -z "$line" ]; then
    bad "$name: kpsim produce printed its summary (exit $rc)"; tail -n 5 "$work/p.err"; return
  fi
  local broker_records; broker_records=$(sed -nE 's/.* ([0-9]+) records in them$/\1/p' <<<"$hb_line")
  if [ "$expect" = ok ]; then
    check "$name: exit 0, $COUNT acknowledged once, none failed" \
        test "$rc" = 0 -a "$acked" = $COUNT -a "$more" = 0 -a "$failed_n" = 0
    check "$name: the broker answered every record well once ($broker_records)" \
        test "${broker_records:-0}" -ge $COUNT
  else
    if [ "$expect" = fail ]; then
      check "$name: exit 1 (clean failure, not a crash or hang)" test "$rc" = 1
    else
      check "$name: exit 0 or 1 (not a crash or hang)" test "$rc" = 0 -o "$rc" = 1
    fi
    check "$name: every record accounted for: acknowledged $acked + failed $failed_n = $COUNT, none twice" \
        test $((acked + failed_n)) = $COUNT -a "$more" = 0
    check "$name: no more acknowledged than the broker really answered ($acked <= ${broker_records:-0})" \
        test "$acked" -le "${broker_records:-0}"
    [ "$failed_n" = 0 ] || check "$name: the summary names the error" grep -qE '^  failed [A-Z_]+: [0-9]+' "$work/p.out"
  fi
  # what the broker did wrong is said on stderr, not just the timeout
  local why=
  case $mode in
    wrong-corr) why='connection closed [0-9]+ times? \(_BAD_MSG\): correlation id does not match' ;;
    huge-size) why='connection closed [0-9]+ times? \(_BAD_MSG\): response frame size outside 4\.\.104857600 \(last: 2147483647 bytes\)' ;;
    negative-size) why='connection closed [0-9]+ times? \(_BAD_MSG\): response frame size outside 4\.\.104857600 \(last: -[0-9]+ bytes\)' ;;
    truncated) why='malformed answer [0-9]+ times? \(_[A-Z_]+\): Sender.handleProduceResponse' ;;
    silent) why='connection closed [0-9]+ times? \(_TIMED_OUT\): NetworkClient.handleTimedOutRequests' ;;
  esac
  if [ -n "$why" ] && [ "$times" = -1 ]; then
    check "$name: stderr says why ($why)" grep -qE "kpsim produce: node 0: $why" "$work/p.err"
  fi
}

run_case "control (answers well)" ok -1 ok
for mode in wrong-corr truncated unknown-partition garbage close-mid huge-size negative-size silent dup-answer error; do
  # a duplicate answer follows a good one: records may all be acknowledged
  if [ $mode = dup-answer ]; then run_case "$mode, always" "$mode" -1 any; else run_case "$mode, always" "$mode" -1 fail; fi
  run_case "$mode, first two requests" "$mode" 2 ok
done
run_case "idempotent, truncated always" truncated -1 fail --set producer.enable.idempotence=true
run_case "idempotent, wrong-corr first two" wrong-corr 2 ok --set producer.enable.idempotence=true
run_case "idempotent, close-mid first two" close-mid 2 ok --set producer.enable.idempotence=true
finish
