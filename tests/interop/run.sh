#!/usr/bin/env bash
# run.sh — kpsim against Kafka-protocol peers we did not write (issue 10):
# Debian's librdkafka (its in-process mock cluster, consumer, producer and
# murmur2 partitioner) and kcat. Prints a table: case, records sent,
# records read back, duplicates, reorders, result, seconds.
#
#   tests/interop/run.sh --kpsim PATH --helper PATH [--quick] [--table FILE]
#
# Parts (tests/interop/rdk_helper.c does the librdkafka side):
#  1. mock: librdkafka's mock cluster (3 brokers, topic of 4 partitions) is
#     the broker; `kpsim produce` sends (keyed / unkeyed, idempotence on /
#     off, every codec), a librdkafka consumer with check.crcs=true reads
#     everything back: count, content, per-partition order, no duplicates,
#     keyed records on murmur2's partition. Faults from the mock, fired at a
#     fraction of the run: Produce NOT_LEADER_FOR_PARTITION and
#     REQUEST_TIMED_OUT, connections dropped, every partition leader moved,
#     the leader of partition 0 down and up. The helper also reads the
#     stored batch headers and audits producer ids and sequences, so a
#     duplicate or reorder the mock accepted against the idempotence rules
#     (it checks none without a transactional.id) is told apart from a
#     producer fault; those rows show the counts with a '*'. This is also
#     cross-decoding one way: librdkafka decodes (and CRC-checks) the
#     batches kpsim encoded with each codec.
#  2. kpsim broker: a librdkafka producer (idempotent, each codec) and kcat
#     (idempotent, each codec kcat offers) produce to `kpsim broker`; kcat
#     reads back; on SIGTERM the broker's summary (records it decoded per
#     partition, producer ids and sequence ranges) must match what kcat
#     read — cross-decoding the other way: kpsim decodes librdkafka batches.
#  4. partitioner: 10,000 random byte keys (fixed seed), librdkafka's
#     rd_kafka_msg_partitioner_murmur2 against `kpsim partition`, for 12
#     partition counts.
# --quick (tests/suites/interop.sh, inside `make test`): fewer records and
# cases, same parts. Loopback only; every wait has a timeout; everything
# started is killed on exit. Result per row: PASS, FAIL, or for a row listed
# in KNOWN_DEFECTS (a kpsim defect written down in the README) KNOWN while
# it fails and FIXED once it passes. Last line: "interop: N passed, M failed"
# (KNOWN rows are in neither count).
set -u
KPSIM=; HELPER=; QUICK=0; TABLE=
while [ $# -gt 0 ]; do
  case "$1" in
    --kpsim) KPSIM=$2; shift 2 ;;
    --helper) HELPER=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --table) TABLE=$2; shift 2 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$KPSIM" ] && [ -x "$HELPER" ] || { echo "run.sh: need --kpsim and --helper (executables)" >&2; exit 2; }
command -v kcat >/dev/null || { echo "run.sh: kcat is not installed" >&2; exit 2; }

work=$(mktemp -d /tmp/kpsim-interop.XXXXXX)
BPID=
cleanup() {
  [ -n "$BPID" ] && kill -KILL "$BPID" 2>/dev/null && wait "$BPID" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0; failed=0; known=0; EXCUSED=0
rows=()
# Known kpsim defects (README "Interoperability", findings): a row named
# here that fails is reported as KNOWN and not counted as failed; one that
# passes is reported as FIXED (counted as passed) so the entry can go.
KNOWN_DEFECTS=()
row() { # case sent read dups reorders result secs
  local res=$6 k
  for k in "${KNOWN_DEFECTS[@]}"; do
    if [ "$k" = "$1" ]; then [ "$res" = PASS ] && res=FIXED || res=KNOWN; fi
  done
  rows+=("$(printf '| %-62s | %7s | %7s | %5s | %8s | %-6s | %5s |' "$1" "$2" "$3" "$4" "$5" "$res" "$7")")
  case $res in
    PASS|FIXED) passed=$((passed + 1)) ;;
    KNOWN) known=$((known + 1)) ;;
    *) failed=$((failed + 1)) ;;
  esac
  printf '%-6s %s (%s s)\n' "$res" "$1" "$7"
}
field() { sed -nE "s/.* $1=([^ ]*).*/\1/p" <<<"$2"; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
from_result() { # case line secs log: one table row from a RESULT line
  local name=$1 line=$2 secs=$3 log=$4 res
  if [ -z "$line" ]; then
    row "$name" - - - - FAIL "$secs"; tail -n 20 "$log" | sed 's/^/    /'; return
  fi
  local d o
  res=$(field result "$line"); d=$(field dups "$line"); o=$(field reorders "$line")
  if [ "$(field excused "$line")" = 1 ]; then # the audit put them on the broker
    [ "$d" != 0 ] && d="$d*"; [ "$o" != 0 ] && o="$o*"; EXCUSED=1
  fi
  row "$name" "$(field sent "$line")" "$(field read "$line")" "$d" "$o" "$res" "$secs"
  if [ "$res" != PASS ]; then grep -vE '^(  |kpsim produce|per-partition)' "$log" | tail -n 15 | sed 's/^/    /'; fi
}

CODECS=(none gzip snappy lz4 zstd)
if [ $QUICK = 1 ]; then N=20000; else N=100000; fi
FN=100000
SIZE=100; KEYS=1000; P=4

# ---- 0. the checks can fail: known-bad input through the verifier and the audit
t0=$(date +%s.%N)
timeout -k 5 30 "$HELPER" selftest >"$work/selftest.log" 2>&1
from_result "helper self-test: each check catches its bad input" "$(grep '^RESULT' "$work/selftest.log")" \
    "$(elapsed "$t0")" "$work/selftest.log"

# ---- 1. librdkafka's mock cluster as the broker --------------------------------
mock_case() { # name, kpsim produce settings (--key-space/--set ...), helper options before --, [count [size]]
  local name=$1 kp=$2 hopts=$3 n=${4:-$N} size=${5:-$SIZE} log t0 keys=0 line
  log="$work/case.$RANDOM.log"
  [[ "$kp" =~ --key-space\ ([0-9]+) ]] && keys=${BASH_REMATCH[1]}
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  timeout -k 10 180 "$HELPER" mock --topic t --partitions $P --count "$n" --size "$size" --key-space $keys \
      --case x --timeout-ms 150000 $hopts -- \
      "$KPSIM" produce --bootstrap '{bootstrap}' --topic t --count "$n" --size "$size" $kp --quiet \
      >"$log" 2>&1
  line=$(grep '^RESULT' "$log" | tail -n1)
  from_result "$name" "$line" "$(elapsed "$t0")" "$log"
  grep -h '^fault ' "$log" | sed 's/^/    /'
  TS_CHECKED=$((TS_CHECKED + $(field ts_checked "$line" | grep -E '^[0-9]+$' || echo 0)))
  TS_BAD=$((TS_BAD + $(field ts_bad "$line" | grep -E '^[0-9]+$' || echo 0)))
  [ -z "$TS_EX" ] && [ "$(field ts_bad "$line")" != 0 ] && TS_EX=$(field ts_example "$line")
  return 0
}
TS_CHECKED=0; TS_BAD=0; TS_EX=

fault_case() { mock_case "$1" "$2" "$3" "$FN"; }
IDEM='--set producer.enable.idempotence=true'
echo "== 1. kpsim produce -> librdkafka mock cluster (3 brokers, $P partitions), $N records each"
if [ $QUICK = 1 ]; then
  mock_case "mock: unkeyed, idempotence off, none"  ""                                              ""
  mock_case "mock: keyed, idempotence on, gzip"     "--key-space $KEYS $IDEM --set producer.compression.type=gzip" ""
  mock_case "mock: unkeyed, idempotence on, snappy" "$IDEM --set producer.compression.type=snappy"  ""
  mock_case "mock: keyed, idempotence off, lz4"     "--key-space $KEYS --set producer.compression.type=lz4" ""
  mock_case "mock: keyed, idempotence on, zstd"     "--key-space $KEYS $IDEM --set producer.compression.type=zstd" ""
else
  for keyed in unkeyed keyed; do
    for idem in off on; do
      for z in "${CODECS[@]}"; do
        kp="--set producer.compression.type=$z"
        [ $keyed = keyed ] && kp="--key-space $KEYS $kp"
        [ $idem = on ] && kp="$kp $IDEM"
        mock_case "mock: $keyed, idempotence $idem, $z" "$kp" ""
      done
    done
  done
  # large records and large batches: one compressed blob per ~1 MB request
  mock_case "mock: keyed, idempotence on, zstd, 10 KB values" \
      "--key-space 100 $IDEM --set producer.compression.type=zstd" "" 10000 10000
  mock_case "mock: unkeyed, gzip, batch.size 1 MB, linger 20 ms" \
      "--set producer.compression.type=gzip --set producer.batch.size=1000000 --set producer.linger.ms=20" "" $N
fi

echo "== 1b. the same with the mock's fault injection (idempotence on), $FN records each"
# Fault cases always send $FN records: the faults fire at fractions of the
# topic's progress, and a short run could end before the last one.
INF1='--set producer.max.in.flight.requests.per.connection=1'
ALLF='--fault not_leader:5@0.15 --fault timed_out:5@0.3 --fault disconnect:2@0.45 --fault leader_move@0.6 --fault broker_down:500@0.75'
if [ $QUICK = 0 ]; then
  fault_case "fault: Produce NOT_LEADER x5, in.flight 1"          "--key-space $KEYS $IDEM $INF1 --set producer.compression.type=lz4"    "--fault not_leader:5@0.3"
  fault_case "fault: Produce REQUEST_TIMED_OUT x5, in.flight 1"   "--key-space $KEYS $IDEM $INF1 --set producer.compression.type=zstd"   "--fault timed_out:5@0.3"
  fault_case "fault: connection dropped x2, in.flight 1"          "--key-space $KEYS $IDEM $INF1 --set producer.compression.type=gzip"   "--fault disconnect:2@0.3"
  fault_case "fault: every leader moved, in.flight 1"             "--key-space $KEYS $IDEM $INF1 --set producer.compression.type=snappy" "--fault leader_move@0.4"
  fault_case "fault: leader down 500 ms, in.flight 1"             "--key-space $KEYS $IDEM $INF1"                                         "--fault broker_down:500@0.5"
  fault_case "fault: every leader moved, in.flight 5"             "--key-space $KEYS $IDEM --set producer.compression.type=lz4"          "--fault leader_move@0.4"
  fault_case "fault: leader down 500 ms, in.flight 5"             "--key-space $KEYS $IDEM --set producer.compression.type=zstd"         "--fault broker_down:500@0.5"
  fault_case "fault: Produce NOT_LEADER x5, in.flight 5"          "--key-space $KEYS $IDEM --set producer.compression.type=lz4"          "--fault not_leader:5@0.3"
  fault_case "fault: all five, in.flight 5"                       "--key-space $KEYS $IDEM --set producer.compression.type=gzip"         "$ALLF"
  # Responses held 3 ms: a broker taken down loses answers to appended
  # requests, the producer retries them, and the mock appends them again
  # (the audit shows the same producer id, epoch and sequence twice).
  fault_case "fault: leader down, 3 ms RTT, in.flight 1"          "--key-space $KEYS $IDEM $INF1"                                         "--rtt-ms 3 --fault broker_down:500@0.5"
fi
fault_case "fault: all five in one run, in.flight 1"     "--key-space $KEYS $IDEM $INF1 --set producer.compression.type=zstd"   "$ALLF"
fault_case "fault: unkeyed, all five, in.flight 1"       "$IDEM $INF1 --set producer.compression.type=gzip"                     "$ALLF"

# Record timestamps: CreateTime is the producer's wall clock in ms since the
# epoch. Control: librdkafka's own producer through the same check.
t0=$(date +%s.%N)
timeout -k 10 60 "$HELPER" mock --topic t --partitions $P --count 1000 --size $SIZE --case x --timeout-ms 50000 -- \
    "$HELPER" produce --bootstrap '{bootstrap}' --topic t --count 1000 --size $SIZE --case p >"$work/ts.log" 2>&1
line=$(grep '^RESULT case=x' "$work/ts.log")
c=$(field ts_checked "$line"); b=$(field ts_bad "$line")
res=FAIL; [ -n "$c" ] && [ "$c" -gt 0 ] && [ "$b" = 0 ] && [ "$(field result "$line")" = PASS ] && res=PASS
row "record timestamps: librdkafka -> mock (control)" "${c:-0}" "$(( ${c:-0} - ${b:-0} ))" - - $res "$(elapsed "$t0")"
res=FAIL; [ $TS_CHECKED -gt 0 ] && [ $TS_BAD = 0 ] && res=PASS
row "record timestamps: kpsim produce -> mock, CreateTime = wall clock" $TS_CHECKED $((TS_CHECKED - TS_BAD)) - - $res -
[ $TS_BAD = 0 ] || echo "    $TS_BAD of $TS_CHECKED records carry a timestamp outside the run's wall-clock window, e.g. $TS_EX ms (now: $(date +%s%3N) ms)"

# ---- 2. kpsim's broker, librdkafka and kcat as producers -------------------------
echo "== 2. librdkafka / kcat -> kpsim broker (3 brokers, $P partitions), kcat reads back"
# Port 0 picks broker 0's port; brokers 1 and 2 take the next two, which
# another process may hold: then try again (5 times).
PORT=
for _try in 1 2 3 4 5; do
  "$KPSIM" broker --listen 127.0.0.1:0 --brokers 3 --partitions $P >"$work/broker.out" 2>"$work/broker.err" &
  BPID=$!
  for _ in $(seq 1 100); do
    PORT=$(sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+)\.\..*/\1/p' "$work/broker.out")
    [ -n "$PORT" ] && break
    kill -0 "$BPID" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$PORT" ] && break
  kill -KILL "$BPID" 2>/dev/null; wait "$BPID" 2>/dev/null; BPID=
done
B=127.0.0.1:$PORT
declare -A READ_PER_TOPIC
readback() { # name topic sent keys: kcat -C reads topic back, helper verifies
  local name=$1 topic=$2 sent=$3 keys=$4 t0=$5 log line
  log="$work/rb.$topic.log"
  timeout -k 10 120 kcat -b "$B" -C -t "$topic" -e -o beginning -q -f '%p\t%k\t%s\n' \
      -X socket.timeout.ms=10000 2>"$log.kcat" \
    | "$HELPER" verify --count "$N" --size $SIZE --key-space "$keys" --partitions $P --case x >"$log" 2>&1
  line=$(grep '^RESULT' "$log" | tail -n1)
  READ_PER_TOPIC[$topic]=$(sed -nE 's/^per-partition: //p' "$log")
  if [ -n "$line" ] && [ "$(field sent "$line")" != "$sent" ]; then line=${line/result=PASS/result=FAIL}; fi
  line=${line/ sent=$N / sent=$sent }
  from_result "$name" "$line" "$(elapsed "$t0")" "$log"
  cat "$log.kcat" | head -n 5 | sed 's/^/    kcat: /'
}
if [ -z "$PORT" ]; then
  row "kpsim broker starts" - - - - FAIL 0; cat "$work/broker.err"
else
  if [ $QUICK = 1 ]; then RCODECS=(gzip zstd); KCODECS=(lz4); else RCODECS=("${CODECS[@]}"); KCODECS=(none gzip snappy lz4 zstd); fi
  rdk_produce() { # name topic codec keys idempotence(--idempotence|"")
    local t0 out line sent
    t0=$(date +%s.%N)
    out=$(timeout -k 10 120 "$HELPER" produce --bootstrap "$B" --topic "$2" --count $N --size $SIZE \
          --key-space "$4" --codec "$3" $5 --case x --timeout-ms 100000 2>"$work/p.err")
    line=$(grep '^RESULT' <<<"$out")
    sent=$(field delivered "$line"); [ "$(field result "$line")" = PASS ] || { sent="${sent:-0}!"; head -n 5 "$work/p.err"; }
    [ -n "$5" ] && IDEMPOTENT[$2]=1
    readback "$1" "$2" "$sent" "$4" "$t0"
  }
  declare -A IDEMPOTENT
  for z in "${RCODECS[@]}"; do
    rdk_produce "librdkafka producer (idempotent, $z) -> kpsim" "rdk-$z" "$z" $KEYS --idempotence
  done
  [ $QUICK = 0 ] && rdk_produce "librdkafka producer (unkeyed, not idempotent, snappy) -> kpsim" rdk-plain snappy 0 ""
  awk -v n=$N -v k=$KEYS -v s=$SIZE 'BEGIN { for (i = 0; i < n; i++) { v = i " "; while (length(v) < s) v = v "."
                                              printf "key-%d:%s\n", i % k, v } }' >"$work/kcat.in"
  for z in "${KCODECS[@]}"; do
    t0=$(date +%s.%N)
    timeout -k 10 120 kcat -b "$B" -P -t "kcat-$z" -z "$z" -K: -X enable.idempotence=true -X partitioner=murmur2_random \
        -X socket.timeout.ms=10000 -X message.timeout.ms=60000 <"$work/kcat.in" 2>"$work/kp.err"
    rc=$?; sent=$N; [ $rc -eq 0 ] || { sent="0!"; head -n 5 "$work/kp.err"; }
    IDEMPOTENT[kcat-$z]=1
    readback "kcat -P (idempotent, $z) -> kpsim" "kcat-$z" "$sent" $KEYS "$t0"
  done
  # the broker's own account: SIGTERM, then its summary per partition
  kill -TERM "$BPID"
  for _ in $(seq 1 100); do kill -0 "$BPID" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$BPID" 2>/dev/null; wait "$BPID"; brc=$?; BPID=
  for topic in $(printf '%s\n' "${!READ_PER_TOPIC[@]}" | sort); do
    want=${READ_PER_TOPIC[$topic]}
    got=$(awk -v t="$topic" -v idem="${IDEMPOTENT[$topic]:-0}" '
      $0 ~ "^" t "-[0-9]+: " { split($1, a, "-"); p = a[length(a)] + 0; sub(":", "", p)
                               for (i = 1; i <= NF; i++) if ($i == "records") { n[p] = $(i - 1); break }
                               cur = p; next }
      /^  producer / && cur != "" { if ($3 + 0 != n[cur] || $6 != "0.." (n[cur] - 1)) bad = 1; np[cur]++; next }
      /^[^ ]/ { cur = "" }
      END { out = ""; for (p = 0; p < 64; p++) if (p in n) { out = out (out == "" ? "" : " ") p "=" n[p]
                                                              if (n[p] > 0 && np[p] != idem) bad = 1 }
            print out (bad ? " SEQUENCES-WRONG" : "") }' "$work/broker.out")
    sum_want=$(tr ' ' '\n' <<<"$want" | awk -F= '{ s += $2 } END { print s + 0 }')
    sum_got=$(tr ' ' '\n' <<<"$got" | awk -F= '$2 ~ /^[0-9]+$/ { s += $2 } END { print s + 0 }')
    res=PASS; [ "$got" = "$want" ] && [ $brc -eq 0 ] || res=FAIL
    row "kpsim broker summary agrees: $topic" "$sum_want" "$sum_got" - - $res -
    [ $res = PASS ] || echo "    kcat read per partition: $want; broker summary: $got (broker exit $brc)"
  done
fi

# ---- 4. the partitioner ------------------------------------------------------------
echo "== 4. murmur2 partitioner: librdkafka vs kpsim partition"
t0=$(date +%s.%N)
timeout -k 5 60 "$HELPER" partitioner --kpsim "$KPSIM" --keys 10000 --seed 42 >"$work/part.log" 2>&1
grep '^partitioner:' "$work/part.log" | sed 's/^/    /'
from_result "partitioner: 10000 random keys x 12 partition counts" "$(grep '^RESULT' "$work/part.log")" "$(elapsed "$t0")" "$work/part.log"

# ---- the table -------------------------------------------------------------------------
{
  echo
  printf '| %-62s | %7s | %7s | %5s | %8s | %-6s | %5s |\n' case sent "read" dups reorders result s
  printf '|%s|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..64})" --------: --------: ------: ---------: -------- ------:
  printf '%s\n' "${rows[@]}"
  if [ $EXCUSED = 1 ]; then
    echo
    echo "\* appended by the broker against the idempotence rules (librdkafka's mock checks no sequences"
    echo "without a transactional.id): the audit of the stored batches found the same producer id, epoch and"
    echo "sequence twice, or a lower sequence after a higher one, while the producer's sequences followed its"
    echo "send order. A Kafka broker answers DUPLICATE_SEQUENCE_NUMBER / OUT_OF_ORDER_SEQUENCE_NUMBER instead."
  fi
  echo
} | tee ${TABLE:+"$TABLE"}
[ $known -gt 0 ] && echo "interop: $known known kpsim defect(s) reported as KNOWN (see the README's interoperability section)"
echo "interop: $passed passed, $failed failed"
[ $failed -eq 0 ]
