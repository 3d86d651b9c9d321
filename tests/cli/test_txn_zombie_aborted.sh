#!/usr/bin/env bash
# The zombie's transaction is aborted by the coordinator (issue 8).
# In these catalog scenarios the application never learns how its last
# transaction ended (its commit is fenced: txn_failed), so the checker can
# only demand all or nothing of it (txn_atomic). This test reads the
# trace and demands which way it went, as the coordinator must have done:
#   - a broker moved the transaction Ongoing -> PrepareAbort with a bumped
#     epoch (InitProducerId of the new producer, or the timeout), then
#     PrepareAbort -> CompleteAbort;
#   - ABORT markers (txn_marker value=0) with that epoch on every partition
#     of the topic (each scenario's open transaction touched all of them);
#   - no COMMIT marker (value=1) with the old epoch after the fence.
#   - the application reported txn_failed (fenced), not txn_committed, last.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # scenario partitions
  local f=scenarios/catalog/$1.textpb parts=$2
  "$KPSIM" run "$f" --quiet --trace "$tmp/t.kpt" >/dev/null 2>&1 || { echo "FAIL: $1 does not pass"; fails=$((fails + 1)); return; }
  "$KPSIM" trace "$tmp/t.kpt" --format text >"$tmp/t.txt" || { echo "FAIL: $1: kpsim trace"; fails=$((fails + 1)); return; }
  local out
  out=$(awk -v parts="$parts" '
    function field(name,   i) { for (i = 1; i <= NF; i++) if (index($i, name "=") == 1) return substr($i, length(name) + 2); return "" }
    /txn_state/ && /Ongoing -> PrepareAbort/ && $4 ~ /^broker-/ && !fenced { fenced = 1; ep = field("epoch") + 0; t0 = $1 + 0 }
    /txn_state/ && /PrepareAbort -> CompleteAbort/ && fenced && (field("epoch") + 0) == ep { complete = 1 }
    /txn_marker/ && fenced && field("value") == "0" && (field("epoch") + 0) == ep { ab[field("partition")] = 1 }
    /txn_marker/ && fenced && field("value") == "1" && (field("epoch") + 0) < ep { stale++ }
    / txn_failed / { failed = 1 }
    END {
      n = 0; for (p in ab) n++
      if (!fenced) { print "no Ongoing -> PrepareAbort with a bumped epoch"; exit }
      if (ep < 1) print "the abort did not bump the epoch (epoch " ep ")"
      if (!complete) print "the abort never reached CompleteAbort"
      if (n != parts) print "ABORT markers with epoch " ep " on " n " partitions, want " parts
      if (stale) print stale " COMMIT markers with an older epoch after the fence at " t0 " ms"
      if (!failed) print "the application did not report txn_failed"
    }' "$tmp/t.txt")
  if [ -n "$out" ]; then
    echo "FAIL: $1:"; printf '%s\n' "$out" | sed 's/^/  /'; fails=$((fails + 1))
  else
    echo "ok: $1: the zombie transaction was aborted with a bumped epoch on all $parts partitions"
  fi
}
check txn_fenced_by_second_producer 3
check txn_fenced_in_produce 3
check txn_timeout_coordinator_abort 3
[ $fails -eq 0 ] || exit 1
