#!/usr/bin/env bash
# kcat_broker.sh — a real Kafka client we did not write (Debian's kcat,
# librdkafka 2.0.x) against `kpsim broker` on loopback:
#   1. kcat -L lists the N brokers and the topics;
#   2. kcat -P -X enable.idempotence=true produces 10,000 messages (every
#      third keyed), kcat -C -e -o beginning reads exactly those back, each
#      partition in send order, each key on one partition;
#   3. 1 MiB of random bytes and a few thousand truncated / garbled frames
#      are thrown at the ports; the broker is still alive, every bad
#      connection was closed with a logged reason, and kcat still produces
#      and consumes correctly (transactionally too);
#   4. SIGTERM: the broker exits 0 and its summary counts every message.
# Loopback only; every wait has a timeout; the broker is killed on exit.
# Skips (0 failed) only when kcat is missing and cannot be installed.
# KPSIM may point at any build (e.g. an ASan one). Last line: "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
KPSIM=${KPSIM:-$PWD/build/kpsim}
passed=0; failed=0
ok()   { passed=$((passed + 1)); echo "ok   $*"; }
bad()  { failed=$((failed + 1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

if ! command -v kcat >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    timeout 300 apt-get install -y -qq kcat >/dev/null 2>&1 || true
  fi
fi
if ! command -v kcat >/dev/null 2>&1; then
  echo "skip: kcat is not installed and could not be installed (apt-get install kcat)"
  finish
fi
if [ ! -x "$KPSIM" ]; then
  bad "kpsim binary $KPSIM exists"; finish
fi

work=$(mktemp -d)
BPID=
cleanup() {
  [ -n "$BPID" ] && kill -KILL "$BPID" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

N=3
"$KPSIM" broker --listen 127.0.0.1:0 --brokers $N --partitions 4 --topic pre \
    >"$work/broker.out" 2>"$work/broker.err" &
BPID=$!
PORT=
for _ in $(seq 1 100); do
  PORT=$(sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+)\.\..*/\1/p' "$work/broker.out")
  [ -n "$PORT" ] && break
  sleep 0.05
done
if [ -z "$PORT" ]; then
  bad "broker starts and prints its ports"; cat "$work/broker.err"; finish
fi
ok "broker listening on 127.0.0.1:$PORT..$((PORT + N - 1))"
B=127.0.0.1:$PORT
KC=(timeout 60 kcat -b "$B" -X socket.timeout.ms=10000 -X message.timeout.ms=30000)

# ---- 1. metadata --------------------------------------------------------
"${KC[@]}" -L >"$work/L.txt" 2>&1
check "kcat -L lists $N brokers" grep -q "^ $N brokers:" "$work/L.txt"
for i in $(seq 0 $((N - 1))); do
  check "kcat -L shows broker $i at port $((PORT + i))" grep -q "broker $i at 127.0.0.1:$((PORT + i))" "$work/L.txt"
done
check "kcat -L lists topic 'pre' with 4 partitions" grep -q 'topic "pre" with 4 partitions' "$work/L.txt"

# ---- 2. idempotent produce, consume back ---------------------------------
make_msgs() { # $1 first $2 last: every third keyed (17 keys)
  awk -v a="$1" -v b="$2" 'BEGIN { for (i = a; i <= b; i++) {
      if (i % 3 == 0) printf "key%d:v%d\n", i % 17, i; else printf ":v%d\n", i } }'
}
make_msgs 1 10000 >"$work/msgs1.txt"
"${KC[@]}" -P -t test -K: -X enable.idempotence=true <"$work/msgs1.txt" 2>"$work/P1.err"
check "kcat -P (idempotent) of 10000 messages exits 0" test $? -eq 0

consume() { # $1 out file, extra kcat args after
  local out=$1; shift
  "${KC[@]}" -C -t test -e -o beginning -f '%p\t%k\t%s\n' "$@" >"$out" 2>"$out.err"
}
verify() { # $1 consumed file, $2 expected count: same set, per-partition order, keys stick
  awk -F'\t' -v want="$2" '
    { n++; v = substr($3, 2) + 0
      if (v in seen) { print "duplicate v" v; bad = 1 }
      seen[v] = 1
      if ($1 in last && last[$1] >= v) { print "partition " $1 ": v" v " after v" last[$1]; bad = 1 }
      last[$1] = v
      if ($2 != "") { if ($2 in kp && kp[$2] != $1) { print "key " $2 " on two partitions"; bad = 1 }; kp[$2] = $1 } }
    END { for (i = 1; i <= want; i++) if (!(i in seen)) { print "missing v" i; bad = 1; break }
          if (n != want) { print "got " n " messages, want " want; bad = 1 }
          exit bad }' "$1"
}
consume "$work/C1.txt"
check "kcat -C -e -o beginning exits 0" test $? -eq 0
check "consumed exactly the 10000 messages, per-partition in send order" verify "$work/C1.txt" 10000

# ---- 3. garbage at the ports ----------------------------------------------
# Frames are built without forks: F accumulates printf escapes.
declare -a H
for ((i = 0; i < 256; i++)); do printf -v 'H[i]' '\\x%02x' "$i"; done
F=
b()   { local x; for x in "$@"; do F+=${H[x & 255]}; done; }           # bytes
i32() { b $(( $1 >> 24 )) $(( $1 >> 16 )) $(( $1 >> 8 )) $(( $1 )); }   # big-endian int32
rnd() { local i; for ((i = 0; i < $1; i++)); do F+=${H[RANDOM & 255]}; done; }
throw() { # $1 port: connect, write F, close
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 0
  printf "$F" >&3 2>/dev/null
  exec 3>&- 3<&-
}
RANDOM=4242
# 1 MiB of random bytes on one connection per broker
for i in $(seq 0 $((N - 1))); do
  { exec 3<>"/dev/tcp/127.0.0.1/$((PORT + i))"; } 2>/dev/null && {
    head -c 1048576 /dev/urandom >&3 2>/dev/null; exec 3>&- 3<&-; }
done
frames=0
for ((k = 0; k < 3000; k++)); do
  p=$((PORT + k % N)); F=
  case $((k % 7)) in
    0) i32 100; b 0 18 0 2; rnd 10 ;;                                  # truncated, then EOF
    1) b 255 255 255 255; rnd 8 ;;                                     # negative size
    2) b 127 255 255 255; rnd 8 ;;                                     # 2 GiB announced
    3) n=$((RANDOM % 40)); i32 $((8 + n)); b 0 $((RANDOM % 60)) 0 $((RANDOM % 16)); i32 $k; rnd $n ;;
    4) i32 3; b 0 18 0 ;;                                              # shorter than a header
    5) # Produce v7 to test-0 whose record set is 70 random bytes (bad CRC)
       i32 110; b 0 0 0 7; i32 $k; b 255 255; b 255 255 0 1; i32 5000; i32 1
       b 0 4 116 101 115 116; i32 1; i32 0; i32 70; rnd 70 ;;
    6) i32 12; b 0 3 0 7; i32 $k; b 0 1 120; rnd 1 ;;                  # Metadata v7, body cut
  esac
  throw "$p"
  frames=$((frames + 1))
done
ok "threw 1 MiB of random bytes per broker and $frames garbled frames"
sleep 0.5
check "broker still running after the garbage" kill -0 "$BPID"
closes=$(grep -c 'closed a connection' "$work/broker.err")
check "bad connections were closed with a logged reason ($closes)" test "$closes" -ge 2000
check "reasons name the problem" grep -qE 'frame size|not implemented|malformed|shorter than a request header' "$work/broker.err"

"${KC[@]}" -L >"$work/L2.txt" 2>&1
check "kcat -L still answers" grep -q "^ $N brokers:" "$work/L2.txt"
make_msgs 10001 11000 >"$work/msgs2.txt"
"${KC[@]}" -P -t test -K: -X enable.idempotence=true <"$work/msgs2.txt" 2>"$work/P2.err"
check "kcat -P (idempotent) still produces" test $? -eq 0
consume "$work/C2.txt"
check "all 11000 messages read back in per-partition order" verify "$work/C2.txt" 11000
seq 1 100 | sed 's/^/t/' | "${KC[@]}" -P -t txn -X transactional.id=kcat-suite 2>"$work/P3.err"
check "kcat -P transactional commits" grep -q 'Transaction successfully committed' "$work/P3.err"
"${KC[@]}" -C -t txn -e -o beginning -X isolation.level=read_committed -f '%s\n' >"$work/C3.txt" 2>/dev/null
check "read_committed consumer sees the 100 committed messages" test "$(grep -c '^t' "$work/C3.txt")" -eq 100

for z in gzip snappy lz4 zstd; do
  seq 1 500 | sed "s/^/$z-/" | "${KC[@]}" -P -t "c$z" -z "$z" -X enable.idempotence=true 2>/dev/null
  got=$("${KC[@]}" -C -t "c$z" -e -o beginning -f '%s\n' 2>/dev/null | grep -c "^$z-")
  check "kcat -P -z $z: 500 compressed messages stored and read back" test "$got" -eq 500
done

# ---- 4. shutdown ------------------------------------------------------------
kill -TERM "$BPID"
rc=
for _ in $(seq 1 100); do
  if ! kill -0 "$BPID" 2>/dev/null; then wait "$BPID"; rc=$?; break; fi
  sleep 0.05
done
BPID_DONE=$BPID; BPID=
check "broker exits 0 on SIGTERM" test "${rc:-timeout}" = 0
total=$(awk '/^test-[0-9]+:/ { for (i = 1; i <= NF; i++) if ($i == "records") s += $(i-1) } END { print s + 0 }' "$work/broker.out")
check "summary counts 11000 records in topic test ($total)" test "$total" -eq 11000
check "summary lists the producer ids" grep -q '  producer [0-9]*: ' "$work/broker.out"
: "$BPID_DONE"
finish
