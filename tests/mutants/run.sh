#!/usr/bin/env bash
# tests/mutants/run.sh — the mutation suite: does the checker have teeth?
#
# Each mutant is one deliberate defect behind `#ifdef KP_MUTANT_<NAME>` at
# the place of the behaviour (grep KP_MUTANT_ in producer/ and
# broker_mock/; undefined, the code is unchanged). For each mutant this
# builds kpsim with EXTRA_CFLAGS=-DKP_MUTANT_<NAME> in its own build dir,
# runs every catalog scenario with its default seed and the short seed
# sweeps listed for that mutant, and records which scenarios (or seeds)
# fail and with which invariant or expectation. A mutant is CAUGHT when some
# failing run names the check the defect should break (the EXPECT pattern
# below, matched against the run's "FAIL invariant ..."/"FAIL expect ..."
# lines, or a sweep seed's first failure); a failure that names something
# else, or a crash, is reported but does not count.
#
# The four historical producer bugs are not mutants: they are run-time
# switches (`--set producer.bug.KAFKA-N=true`), run here on the unmutated
# build against their bug_kafka_N_* scenario.
#
# The unmutated build ($BUILD/kpsim) must pass the whole catalog and every
# sweep used below, else the suite fails: a mutant "caught" by a scenario
# that fails anyway proves nothing.
#
#   tests/mutants/run.sh [--build DIR] [--prefix P] [--jobs N] [--only NAME]...
#                        [--table FILE] [--no-build]
#     --build DIR   the unmutated build (default build); built if needed
#     --prefix P    mutant build dirs are P-NAME (default: DIR-mut, or
#                   build/mut when DIR is build, so they stay under build/)
#     --jobs N      make -j and sweep --jobs (default 2)
#     --only NAME   just this mutant (repeatable)
#     --table FILE  also write the result table (markdown) to FILE
#     --no-build    reuse the binaries as they are, even if the sources
#                   changed since (for a second look at the last results)
#
# Exit: 0 every mutant and every bug switch caught and the unmutated build
# passes everything; 1 otherwise; 2 bad usage or a build failed.
set -u
cd "$(dirname "$0")/../.." || exit 2

# NAME ; where the hook is ; EXPECT: an egrep pattern over the checks a
# failing run names ("invariant X ...", "expect counter ...", "expect error
# ...") or a sweep seed's first failure ; sweeps (scenario:seeds,
# space-separated; the whole catalog always runs) ; the defect in words
MUTANTS=(
  "NO_MUTE;producer/kp_sender.c;invariant per_partition_order;chaos_inflight1_order:1..200;max.in.flight=1 no longer mutes a drained partition (Sender.sendProducerData)"
  "SPLIT_KEEPS_SEQUENCE;producer/kp_batch.c;invariant (acked_in_log|no_duplicates|per_partition_order)|error OUT_OF_ORDER_SEQUENCE_NUMBER;;every split piece keeps the big batch's base sequence (ProducerBatch.split)"
  "NO_DUP_WINDOW;broker_mock/bm_cluster.c;invariant (no_duplicates|acked_in_log)|counter records_(acked|failed)|error (OUT_OF_ORDER_SEQUENCE_NUMBER|DUPLICATE_SEQUENCE_NUMBER);;the broker's 5-batch duplicate window never matches (ProducerStateEntry.findDuplicateBatch)"
  "REENQUEUE_BACK;producer/kp_accumulator.c;invariant per_partition_order;;a retried batch goes to the back of its deque, not the front (RecordAccumulator.reenqueue)"
  "IGNORE_DELIVERY_TIMEOUT;producer/kp_batch.c;invariant (delivery_timeout_bound|one_callback_per_send)|counter expired;;delivery.timeout.ms never expires a batch (ProducerBatch.hasReachedDeliveryTimeout)"
  "SPLIT_DOUBLE_CALLBACK;producer/kp_batch.c;invariant one_callback_per_send;;the big batch's callbacks fire at the split, then its pieces' (ProducerBatch.split)"
  "NO_METADATA_REFRESH;producer/kp_sender.c;counter metadata_refreshes;;NOT_LEADER_FOR_PARTITION and other invalid-metadata errors request no metadata update (Sender.completeBatch)"
  "ACKS_ALL_AS_ONE;broker_mock/bm_cluster.c;invariant acked_in_log;;the broker answers acks=all as soon as the leader has the batch (no ISR wait)"
  "BROKER_IGNORES_SEQUENCE;broker_mock/bm_cluster.c;invariant no_duplicates;;the broker neither deduplicates nor checks sequences (Log.analyzeAndValidateProducerState skipped)"
  "POOL_LEAK;producer/kp_buffer_pool.c;invariant buffer_pool_whole;;a batch.size buffer given back is freed and never counted as available again (BufferPool.deallocate)"
)

BUILD=build; PREFIX=; JOBS=2; ONLY=(); TABLE=; NOBUILD=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=${2%/}; shift 2 ;;
    --prefix) PREFIX=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --only) ONLY+=("$2"); shift 2 ;;
    --table) TABLE=$2; shift 2 ;;
    --no-build) NOBUILD=1; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$PREFIX" ] || { [ "$BUILD" = build ] && PREFIX=build/mut || PREFIX=$BUILD-mut; }
case "$JOBS" in ''|*[!0-9]*) echo "run.sh: --jobs wants a number" >&2; exit 2 ;; esac
START=$(date +%s)

parse() { # one MUTANTS entry into M_NAME M_FILE M_EXPECT M_SWEEPS M_WHAT
  IFS=';' read -r M_NAME M_FILE M_EXPECT M_SWEEPS M_WHAT <<<"$1"
}

# short CHECK: "invariant X checked 3000, violations 12" -> "invariant X (12 violations)"
short() {
  sed -E -e 's/ checked [0-9]+, violations ([0-9]+)$/ (\1 violations)/' -e 's/\(1 violations\)/(1 violation)/' <<<"$1"
}

wanted() {
  [ ${#ONLY[@]} -eq 0 ] && return 0
  local o; for o in "${ONLY[@]}"; do [ "$o" = "$1" ] && return 0; done
  return 1
}

build() { # DIR [EXTRA_CFLAGS]
  [ $NOBUILD = 1 ] && [ -x "$1/kpsim" ] && return 0
  mkdir -p "$1"
  # (a make above us must not pass its BUILD= or EXTRA_CFLAGS= down)
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -j"$JOBS" BUILD="$1" \
      EXTRA_CFLAGS="${2:-}" "$1/kpsim" >"$1/build.log" 2>&1
}

# run_catalog KPSIM OUTDIR: every catalog scenario, default seed. Writes
# OUTDIR/NAME.out; prints "NAME<TAB>rc" per scenario.
run_catalog() {
  local k=$1 out=$2 f n
  mkdir -p "$out"
  for f in scenarios/catalog/*.textpb; do
    n=$(basename "$f" .textpb)
    timeout 120 "$k" run "$f" >"$out/$n.out" 2>&1
    printf '%s\t%s\n' "$n" $?
  done
}

# checks_of FILE: the checks a run names as failed, one per line
# ("invariant X", "expect counter ...", "expect anomaly ..."), and
# "crash rc=N" when it did not finish with 0 or 1.
checks_of() {
  sed -nE 's/^ *FAIL (invariant|expect|anomaly) +/\1 /p' "$1" | sed -E 's/ +/ /g'
}

# run_sweep KPSIM SCENARIO SEEDS OUTFILE: "seed<TAB>first failure" per
# failing seed (from kpsim sweep's "FAIL seed N: ... # FIRST" lines).
run_sweep() {
  timeout 600 "$1" sweep "scenarios/catalog/$2.textpb" --seeds "$3" --jobs "$JOBS" >"$4.raw" 2>&1
  local rc=$?
  sed -nE 's/^ *FAIL seed ([0-9]+):.*# (.*)$/\1\t\2/p' "$4.raw" >"$4"
  tail -n1 "$4.raw" | grep -qE '^[0-9]+ passed, [0-9]+ failed$' || { echo "sweep of $2 printed no summary (rc $rc)" >&2; return 2; }
  return $rc
}

rows=()      # the table, markdown rows
missed=0; broken=0

# ---- the unmutated build ----------------------------------------------------
echo "== unmutated build: $BUILD/kpsim"
if ! build "$BUILD" ""; then
  echo "BUILD FAILED: $BUILD (see $BUILD/build.log)"; tail -n 20 "$BUILD/build.log"; exit 2
fi
base_fail=0
while IFS=$'\t' read -r n rc; do
  if [ "$rc" != 0 ]; then
    base_fail=$((base_fail + 1)); echo "  BASELINE FAIL $n (rc $rc): $(grep -m1 '^first' "$BUILD/mutants-base/$n.out")"
  fi
done < <(run_catalog "$BUILD/kpsim" "$BUILD/mutants-base")
declare -A SWEPT=()
for spec in "${MUTANTS[@]}"; do
  parse "$spec"; wanted "$M_NAME" || continue
  for sw in $M_SWEEPS; do
    [ -n "${SWEPT[$sw]:-}" ] && continue; SWEPT[$sw]=1
    s=${sw%%:*}; seeds=${sw#*:}
    run_sweep "$BUILD/kpsim" "$s" "$seeds" "$BUILD/mutants-base/sweep-$s.tsv"; rc=$?
    if [ $rc != 0 ]; then
      base_fail=$((base_fail + 1))
      echo "  BASELINE FAIL sweep $s $seeds: $(wc -l <"$BUILD/mutants-base/sweep-$s.tsv") seeds, e.g. $(head -n1 "$BUILD/mutants-base/sweep-$s.tsv")"
    fi
  done
done
echo "   catalog $(ls scenarios/catalog/*.textpb | wc -l) scenarios + ${#SWEPT[@]} sweeps: $base_fail failing"

# ---- mutants ----------------------------------------------------------------
# caught/others entries are "WHERE<TAB>CHECK"
for spec in "${MUTANTS[@]}"; do
  parse "$spec"; wanted "$M_NAME" || continue
  dir=$PREFIX-$M_NAME
  if ! grep -q "KP_MUTANT_$M_NAME\b" "$M_FILE"; then
    echo "== $M_NAME: no hook KP_MUTANT_$M_NAME in $M_FILE"; broken=1
    rows+=("| $M_NAME | $M_WHAT | (no hook in $M_FILE) | BROKEN |"); continue
  fi
  t0=$(date +%s)
  if ! build "$dir" "-DKP_MUTANT_$M_NAME"; then
    echo "== $M_NAME: BUILD FAILED (see $dir/build.log)"; tail -n 20 "$dir/build.log"; broken=1
    rows+=("| $M_NAME | $M_WHAT | (build failed) | BROKEN |"); continue
  fi
  t1=$(date +%s)
  out=$dir/mutants-run
  rm -rf "$out"; mkdir -p "$out"
  caught=(); others=(); nfail=0
  while IFS=$'\t' read -r n rc; do
    [ "$rc" = 0 ] && continue
    nfail=$((nfail + 1))
    if [ "$rc" != 1 ]; then others+=("$n"$'\t'"crashed or bad usage (rc $rc)"); continue; fi
    hit=$(checks_of "$out/$n.out" | grep -m1 -E "$M_EXPECT")
    if [ -n "$hit" ]; then caught+=("$n"$'\t'"$(short "$hit")")
    else others+=("$n"$'\t'"$(short "$(checks_of "$out/$n.out" | head -n1)")"); fi
  done < <(run_catalog "$dir/kpsim" "$out")
  for sw in $M_SWEEPS; do
    s=${sw%%:*}; seeds=${sw#*:}
    run_sweep "$dir/kpsim" "$s" "$seeds" "$out/sweep-$s.tsv"
    nseeds=$(wc -l <"$out/sweep-$s.tsv")
    [ "$nseeds" -gt 0 ] || continue
    nfail=$((nfail + 1))
    hit=$(grep -E "$M_EXPECT" "$out/sweep-$s.tsv" | head -n1)
    total=$(( ${seeds#*..} - ${seeds%..*} + 1 ))
    if [ -n "$hit" ]; then
      nhit=$(grep -cE "$M_EXPECT" "$out/sweep-$s.tsv")
      check=${hit#*$'\t'}
      caught+=("$s, sweep $seeds: $nhit of $total seeds (first: seed ${hit%%$'\t'*})"$'\t'"${check%%:*}")
    else
      others+=("$s, sweep $seeds: $nseeds of $total seeds"$'\t'"$(head -n1 "$out/sweep-$s.tsv" | cut -f2 | cut -d: -f1)")
    fi
  done
  t2=$(date +%s)
  echo "== $M_NAME ($M_FILE): built in $((t1 - t0)) s, ran in $((t2 - t1)) s, $nfail failing runs"
  for c in "${caught[@]}"; do echo "   caught  ${c%%$'\t'*} → ${c#*$'\t'}"; done
  for c in "${others[@]}"; do echo "   other   ${c%%$'\t'*} → ${c#*$'\t'}"; done
  if [ ${#caught[@]} -gt 0 ]; then
    by="${caught[0]%%$'\t'*} → ${caught[0]#*$'\t'}"
    if [ ${#caught[@]} -gt 1 ]; then   # at most 6 more names, then a count
      also=$(for c in "${caught[@]:1:6}"; do printf '%s, ' "${c%%$'\t'*}"; done)
      by="$by; also ${also%, }"
      [ ${#caught[@]} -gt 7 ] && by="$by and $(( ${#caught[@]} - 7 )) more"
    fi
    rows+=("| $M_NAME | $M_WHAT | $by | CAUGHT |")
  else
    missed=$((missed + 1))
    if [ ${#others[@]} -gt 0 ]; then by="only unrelated failures: ${others[0]%%$'\t'*} → ${others[0]#*$'\t'}"; else by="nothing fails"; fi
    rows+=("| $M_NAME | $M_WHAT | $by | MISSED |")
  fi
done

# ---- the historical bugs: run-time switches on the unmutated build ----------
# N ; EXPECT (as for mutants) ; the bug in words
BUGS=(
  "8325;invariant one_callback_per_send;a split batch stays in flight, expires, and its records get a second callback"
  "8350;counter splits|counter records_acked;split pieces are batch.size again: splitting never converges"
  "19479;invariant flush_completes_sends;flush() returns before the pieces of a split batch are acknowledged"
  "13834;counter (expired|records_acked)|invariant delivery_timeout_bound;the drain index shared by all nodes starves partitions"
)
if [ ${#ONLY[@]} -eq 0 ]; then
  for spec in "${BUGS[@]}"; do
    IFS=';' read -r b expect what <<<"$spec"
    sw="\`--set producer.bug.KAFKA-$b=true\`"
    f=$(ls scenarios/catalog/bug_kafka_${b}_*.textpb 2>/dev/null | head -n1)
    if [ -z "$f" ]; then
      missed=$((missed + 1)); rows+=("| KAFKA-$b ($sw) | $what | no bug_kafka_${b}_* scenario | MISSED |"); continue
    fi
    n=$(basename "$f" .textpb)
    o="$BUILD/mutants-base/bug-$b.out"
    timeout 120 "$BUILD/kpsim" run "$f" --set "producer.bug.KAFKA-$b=true" >"$o" 2>&1; rc=$?
    hit=$(checks_of "$o" | grep -m1 -E "$expect")
    echo "== KAFKA-$b ($sw): $n rc $rc${hit:+ → $(short "$hit")}"
    if [ $rc = 1 ] && [ -n "$hit" ]; then
      rows+=("| KAFKA-$b ($sw) | $what | $n → $(short "$hit") | CAUGHT |")
    else
      missed=$((missed + 1)); rows+=("| KAFKA-$b ($sw) | $what | $n (rc $rc): $(short "$(checks_of "$o" | head -n1)") | MISSED |")
    fi
  done
fi

# ---- the table ------------------------------------------------------------------
END=$(date +%s)
{
  echo "| mutant | defect | caught by (scenario → invariant / expectation) | result |"
  echo "|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} >"$BUILD/mutants-table.md"
[ -n "$TABLE" ] && cp "$BUILD/mutants-table.md" "$TABLE"
echo
cat "$BUILD/mutants-table.md"
echo
echo "unmutated build: $base_fail failing runs; missed: $missed; total time $((END - START)) s"
[ $broken = 0 ] || exit 2
[ $missed = 0 ] && [ $base_fail = 0 ]
