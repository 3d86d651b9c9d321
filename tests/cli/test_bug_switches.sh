#!/usr/bin/env bash
# Historical bug switches (producer config bug.KAFKA-NNNN, default off =
# fixed): each guard scenario in the catalog passes with its switch off and
# fails with it on, on its default seed, naming the invariant or
# expectation the 2.1.1 behaviour breaks. Table: scenario | switch |
# a phrase that must appear on a FAIL line of the failing run.
set -u
cd "$(dirname "$0")/../.."
KPSIM=${KPSIM:-build/kpsim}
table='
bug_kafka_13834_drain_fairness        | bug.KAFKA-13834 | counter expired == 0
bug_kafka_19479_flush_waits_for_split | bug.KAFKA-19479 | invariant flush_completes_sends
bug_kafka_8325_split_stays_inflight   | bug.KAFKA-8325  | invariant one_callback_per_send
bug_kafka_8350_split_converges        | bug.KAFKA-8350  | counter splits in
bug_kafka_8484_reset_with_inflight    | bug.KAFKA-8484  | invariant acked_in_log
'
fails=0; n=0
while IFS='|' read -r scen sw phrase; do
  scen=$(echo $scen); sw=$(echo $sw); phrase=$(echo "$phrase" | sed 's/^ *//; s/ *$//')
  [ -z "$scen" ] && continue
  n=$((n + 1))
  f=scenarios/catalog/$scen.textpb
  if ! "$KPSIM" run "$f" --quiet >/dev/null 2>&1; then
    echo "FAIL: $scen does not pass with $sw off"; fails=$((fails + 1)); continue
  fi
  out=$("$KPSIM" run "$f" --set "producer.$sw=true" 2>&1); rc=$?
  if [ $rc -ne 1 ]; then
    echo "FAIL: $scen with $sw=true: exit $rc, want 1"; fails=$((fails + 1)); continue
  fi
  if ! printf '%s\n' "$out" | grep -E '^ *FAIL' | grep -qF -- "$phrase"; then
    echo "FAIL: $scen with $sw=true: no FAIL line names '$phrase'"; fails=$((fails + 1)); continue
  fi
  echo "ok   $scen: $sw=true fails '$phrase'"
done <<< "$table"
[ $n -ge 5 ] || { echo "FAIL: table has $n rows"; exit 1; }
[ $fails -eq 0 ]
