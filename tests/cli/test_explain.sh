#!/usr/bin/env bash
# kpsim explain: stable for a fixed scenario and seed, names the pipeline
# steps in pipeline order, and tells the same steps in Chinese.
set -u
fail() { echo "FAIL: $*"; exit 1; }
cd "$(dirname "$0")/../.."
f=scenarios/catalog/leader_move_retry.textpb
a=$("$KPSIM" explain "$f" --record 990) || fail "explain exit $?"
b=$("$KPSIM" explain "$f" --record 990) || fail "second explain exit $?"
[ "$a" = "$b" ] || fail "two runs differ"
prev=0
for step in "KafkaProducer.send" "Partitioner.partition" "RecordAccumulator.append" \
            "RecordAccumulator.drain" "Sender.sendProduceRequest" "Sender.handleProduceResponse" \
            "RecordAccumulator.reenqueue" "Log.append" "ProducerBatch.done"; do
  line=$(grep -n -F "$step" <<<"$a" | head -n1 | cut -d: -f1)
  [ -n "$line" ] || fail "no step $step"
  # the first mention of each step comes after the previous step's first
  # mention, except append, which may be preceded by the batch's creation
  if [ "$step" != "RecordAccumulator.append" ] && [ "$line" -lt "$prev" ]; then
    fail "$step (line $line) before the previous step (line $prev)"
  fi
  prev=$line
done
grep -q "NOT_LEADER_FOR_PARTITION" <<<"$a" || fail "the leader move's error is not told"
zh=$("$KPSIM" explain "$f" --record 990 --lang zh) || fail "zh exit $?"
[ "$(grep -c '^ *[0-9]*\. ' <<<"$a")" = "$(grep -c '^ *[0-9]*\. ' <<<"$zh")" ] || fail "zh tells a different number of steps"
grep -qP '[\x{4e00}-\x{9fff}]' <<<"$zh" || fail "zh output has no Chinese"
"$KPSIM" explain "$f" --record 99999999 >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown record: want exit 2"
"$KPSIM" explain >/dev/null 2>&1; [ $? -eq 2 ] || fail "no scenario: want exit 2"
echo ok
