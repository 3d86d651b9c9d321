#!/usr/bin/env bash
# produce_live.sh — `kpsim produce` against `kpsim broker` on loopback:
# 100,000 records with idempotence, each acknowledged exactly once, and the
# broker's log holds each exactly once (sequences 0..N-1 of one producer id).
# Bounded in time; kills what it starts. Last line: "N passed, M failed".
set -u
KPSIM=${KPSIM:-build/kpsim}
passed=0; failed=0
tmp=$(mktemp -d)
bpid=""
cleanup() { [ -n "$bpid" ] && kill "$bpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

check() { # name, command...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}

start_broker() { # args for kpsim broker
  "$KPSIM" broker --listen 127.0.0.1:0 "$@" >"$tmp/broker.out" 2>"$tmp/broker.err" &
  bpid=$!
  for _ in $(seq 1 50); do
    port=$(sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+).*/\1/p' "$tmp/broker.out")
    [ -n "$port" ] && return 0
    sleep 0.1
  done
  echo "broker did not start"; cat "$tmp/broker.err"; return 1
}

stop_broker() {
  kill -TERM "$bpid" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$bpid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$bpid" 2>/dev/null
  wait "$bpid" 2>/dev/null
  bpid=""
}

# 1. one broker, one partition, idempotence: 100,000 records once each
if start_broker; then
  timeout 120 "$KPSIM" produce --bootstrap "127.0.0.1:$port" --topic live --count 100000 --size 100 \
      --set producer.enable.idempotence=true >"$tmp/p1.out" 2>&1
  rc=$?
  cat "$tmp/p1.out" | head -3
  check "produce 100000 idempotent: exit 0" test $rc -eq 0
  check "produce 100000 idempotent: all acknowledged once" \
      grep -q "acknowledged 100000 (more than once: 0), failed 0" "$tmp/p1.out"
  stop_broker
  check "broker log holds 100000 records" grep -q "live-0: .*100000 records" "$tmp/broker.out"
  check "one producer id, sequences 0..99999" grep -q "100000 records, sequences 0..99999" "$tmp/broker.out"
else
  failed=$((failed + 4))
fi

# 2. three brokers, keyed records over 6 partitions, idempotence
if start_broker --brokers 3 --partitions 6; then
  timeout 120 "$KPSIM" produce --bootstrap "127.0.0.1:$port" --topic keyed --count 30000 --size 64 \
      --key-space 100 --set producer.enable.idempotence=true --quiet >"$tmp/p2.out" 2>&1
  rc=$?
  cat "$tmp/p2.out"
  check "produce 30000 keyed over 3 brokers: exit 0" test $rc -eq 0
  stop_broker
  total=$(awk '/^keyed-[0-9]+: / { for (i = 1; i <= NF; i++) if ($i == "records") { n += $(i-1); break } } END { print n + 0 }' "$tmp/broker.out")
  check "broker logs hold 30000 records in all ($total)" test "${total:-0}" -eq 30000
else
  failed=$((failed + 2))
fi

# 3. nothing listening: every record fails at delivery.timeout.ms, exit 1
timeout 60 "$KPSIM" produce --bootstrap 127.0.0.1:1 --topic none --count 5 \
    --set producer.max.block.ms=300 --quiet >"$tmp/p3.out" 2>&1
rc=$?
cat "$tmp/p3.out"
check "unreachable broker: exit 1" test $rc -eq 1

echo "produce-live: $passed passed, $failed failed"
[ $failed -eq 0 ]
