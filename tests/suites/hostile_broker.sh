#!/usr/bin/env bash
# hostile_broker.sh — `kpsim broker` under attack on loopback, while a real
# client (kcat, librdkafka) produces and consumes through it:
#   - slowloris: 300 connections fed one byte per 50 ms each (valid
#     ApiVersions requests, answered in order once whole);
#   - 150 connections announcing 2 GiB, negative and 100 MiB + 1 frames and
#     then writing zeros (each must be closed, the broker must not grow);
#   - 3000 connections opened and dropped (close, RST, half a size prefix,
#     a request left unread);
#   - 200 connections of 64 KiB random bytes each;
#   - 500 frames with a valid request header and a random body;
# all at once, interleaved with kcat -P of 20,000 messages (idempotent) and
# kcat -C reading back exactly those, same content, per-partition order.
# Then: the broker is alive, its peak RSS stayed small, kcat -L answers, and
# SIGTERM makes it exit 0 with a summary counting the 20,000 records.
# The attackers are tests/hostile/hostile_client.c (built here with cc).
# Loopback only, bounded (~20 s), everything started is killed on exit.
# Skips (0 failed) when kcat is missing and cannot be installed.
# KPSIM may point at any build (e.g. the ASan one). Last line: "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
KPSIM=${KPSIM:-$PWD/build/kpsim}
CC=${HOSTILE_CC:-cc}
passed=0; failed=0
ok()   { passed=$((passed + 1)); echo "ok   $*"; }
bad()  { failed=$((failed + 1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
finish() { echo "hostile-broker: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

if ! command -v kcat >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    timeout 300 apt-get install -y -qq kcat >/dev/null 2>&1 || true
  fi
fi
if ! command -v kcat >/dev/null 2>&1; then
  echo "skip: kcat is not installed and could not be installed (apt-get install kcat)"
  finish
fi
[ -x "$KPSIM" ] || { bad "kpsim binary $KPSIM exists"; finish; }

work=$(mktemp -d)
BPID=; APIDS=()
cleanup() {
  for p in "${APIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  [ -n "$BPID" ] && kill -KILL "$BPID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

HC=$work/hostile_client
if ! $CC -std=c11 -O1 -g -Wall -Wextra -Werror -o "$HC" tests/hostile/hostile_client.c 2>"$work/cc.err"; then
  bad "tests/hostile/hostile_client.c builds"; cat "$work/cc.err"; finish
fi

N=3
# PORT 0: the broker finds a free run of N ports itself
PORT=
"$KPSIM" broker --listen 127.0.0.1:0 --brokers $N --partitions 4 --topic pre \
    >"$work/broker.out" 2>"$work/broker.err" &
BPID=$!
for _ in $(seq 1 100); do
  PORT=$(sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+)\.\..*/\1/p' "$work/broker.out")
  [ -n "$PORT" ] && break
  kill -0 "$BPID" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$PORT" ]; then
  bad "broker starts and prints its ports"; cat "$work/broker.err"; finish
fi
ok "broker listening on 127.0.0.1:$PORT..$((PORT + N - 1))"
B=127.0.0.1:$PORT
KC=(timeout 60 kcat -b "$B" -X socket.timeout.ms=10000 -X message.timeout.ms=30000)
A=(--port "$PORT" --brokers $N)

# ---- the attack, all at once ----------------------------------------------
"$HC" slowloris "${A[@]}" --conns 300 --seconds 8 >"$work/a_slow.txt" 2>&1 & APIDS+=($!)
"$HC" bigframe  "${A[@]}" --conns 150 --seconds 8 >"$work/a_big.txt" 2>&1 & APIDS+=($!)
"$HC" churn     "${A[@]}" --conns 3000 --seconds 15 >"$work/a_churn.txt" 2>&1 & APIDS+=($!)
"$HC" garbage   "${A[@]}" --conns 200 --bytes 65536 --seed 7 >"$work/a_garbage.txt" 2>&1 & APIDS+=($!)
"$HC" badbody   "${A[@]}" --conns 500 --seed 11 >"$work/a_badbody.txt" 2>&1 & APIDS+=($!)

# ---- meanwhile, a real client ---------------------------------------------
awk 'BEGIN { for (i = 1; i <= 20000; i++) {
    if (i % 3 == 0) printf "key%d:v%d-%08x\n", i % 23, i, i * 2654435761 % 4294967296;
    else printf ":v%d-%08x\n", i, i * 2654435761 % 4294967296 } }' >"$work/msgs.txt"
"${KC[@]}" -P -t hostile -K: -X enable.idempotence=true <"$work/msgs.txt" 2>"$work/P.err"
check "kcat -P (idempotent) of 20000 messages during the attack exits 0" test $? -eq 0
"${KC[@]}" -C -t hostile -e -o beginning -f '%p\t%k\t%s\n' >"$work/C.txt" 2>"$work/C.err"
check "kcat -C -e during the attack exits 0" test $? -eq 0
# exact content: the consumed (key, value) pairs are the produced ones
awk -F: '{ print $1 "\t" $2 }' "$work/msgs.txt" | sort >"$work/want.txt"
cut -f2,3 "$work/C.txt" | sort >"$work/got.txt"
check "consumed exactly the 20000 messages, byte for byte ($(wc -l <"$work/got.txt") read)" \
    cmp -s "$work/want.txt" "$work/got.txt"
order_ok() { # per partition, v numbers increase; every key on one partition
  awk -F'\t' '{ v = substr($3, 2) + 0
      if ($1 in last && last[$1] >= v) { bad = 1 }
      last[$1] = v
      if ($2 != "") { if ($2 in kp && kp[$2] != $1) bad = 1; kp[$2] = $1 } }
      END { exit bad }' "$1"
}
check "per-partition send order, each key on one partition" order_ok "$work/C.txt"

# ---- the attackers' own checks ---------------------------------------------
names=(slowloris bigframe churn garbage badbody)
files=(a_slow a_big a_churn a_garbage a_badbody)
for k in 0 1 2 3 4; do
  rc=
  for _ in $(seq 1 400); do
    if ! kill -0 "${APIDS[k]}" 2>/dev/null; then wait "${APIDS[k]}"; rc=$?; break; fi
    sleep 0.05
  done
  cat "$work/${files[k]}.txt"
  check "${names[k]}: the broker behaved (exit ${rc:-timeout})" test "${rc:-x}" = 0
done
APIDS=()

check "broker still running after the attack" kill -0 "$BPID"
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$BPID/status" 2>/dev/null)
check "broker peak RSS stayed below 256 MiB (${hwm:-?} kB) despite 2 GiB announcements" \
    test "${hwm:-999999999}" -lt 262144
closes=$(grep -c 'closed a connection' "$work/broker.err")
check "bad connections closed with a logged reason ($closes)" test "$closes" -ge 800
check "reasons name the frame size" grep -q 'frame size' "$work/broker.err"
"${KC[@]}" -L >"$work/L.txt" 2>&1
check "kcat -L still answers with $N brokers" grep -q "^ $N brokers:" "$work/L.txt"

# ---- shutdown ----------------------------------------------------------------
kill -TERM "$BPID"
rc=
for _ in $(seq 1 100); do
  if ! kill -0 "$BPID" 2>/dev/null; then wait "$BPID"; rc=$?; break; fi
  sleep 0.05
done
BPID=
check "broker exits 0 on SIGTERM" test "${rc:-timeout}" = 0
total=$(awk '/^hostile-[0-9]+:/ { for (i = 1; i <= NF; i++) if ($i == "records") s += $(i-1) } END { print s + 0 }' "$work/broker.out")
check "summary counts 20000 records in topic hostile ($total)" test "$total" -eq 20000
finish
