#!/usr/bin/env bash
# kpsim sweep exit status: 0 when every seed passed, 1 when some failed
# (a crashed or hung seed is a failure of that seed, and the sweep goes on
# with the others), 2 for bad usage, a bad scenario file or a bad --set.
# The progress line appears on a terminal only.
set -u
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
OK=tests/data/sweep/chaos_idempotent.textpb
SOME=tests/data/sweep/retry_budget.textpb

out=$("$KPSIM" sweep $OK --seeds 1..12 --jobs 2 2>"$tmp/e"); rc=$?
[ $rc -eq 0 ] || fail "all passing: exit $rc, want 0: $out $(cat "$tmp/e")"
[ "$out" = "12 passed, 0 failed" ] || fail "all passing: output '$out'"
[ -s "$tmp/e" ] && fail "stderr not a terminal but written: $(cat "$tmp/e")"

out=$("$KPSIM" sweep $SOME --seeds 1..30 --jobs 2); rc=$?
[ $rc -eq 1 ] || fail "some failing: exit $rc, want 1"
last=$(tail -n1 <<<"$out"); n=$(grep -c '^FAIL seed' <<<"$out")
[ "$last" = "$((30 - n)) passed, $n failed" ] || fail "final line '$last' with $n FAIL lines"

# an empty shard (more shards than seeds) passes trivially
out=$("$KPSIM" sweep $OK --seeds 5..6 --shard 3/4); rc=$?
[ $rc -eq 0 ] && [ "$out" = "0 passed, 0 failed" ] || fail "empty shard: exit $rc, '$out'"

# a crash (SIGSEGV in seed 3's child) and hangs (seeds 5, 6) fail those
# seeds only; the timeout is enforced on wall time
start=$(date +%s)
out=$(KPSIM_SWEEP_TEST_CRASH=3 KPSIM_SWEEP_TEST_HANG=5..6 "$KPSIM" sweep $OK --seeds 1..8 --jobs 2 --timeout 1 \
      --out "$tmp/c.tsv" --junit "$tmp/c.xml" 2>"$tmp/e"); rc=$?
took=$(( $(date +%s) - start ))
[ $rc -eq 1 ] || fail "crash/hang: exit $rc, want 1"
[ $took -le 20 ] || fail "hung seeds not killed in time: took ${took}s"
# the dying child's last words are in the failure text, not on our stderr
grep -q '^CRASH seed 3: kpsim run tests/data/sweep/chaos_idempotent.textpb --seed 3  # crash: killed by signal 11 (Segmentation fault): kpsim: KPSIM_SWEEP_TEST_CRASH: seed 3 dies now$' <<<"$out" \
  || fail "crash line: $out"
[ -s "$tmp/e" ] && fail "a child's stderr leaked: $(cat "$tmp/e")"
grep -q '^TIMEOUT seed 5: .*# timeout: no result after 1 s' <<<"$out" || fail "timeout line 5: $out"
grep -q '^TIMEOUT seed 6: ' <<<"$out" || fail "timeout line 6: $out"
[ "$(tail -n1 <<<"$out")" = "5 passed, 3 failed" ] || fail "crash/hang final line: $out"
awk -F'\t' '$1==3 && $2=="crash"' "$tmp/c.tsv" | grep -q . || fail "crash not in --out"
[ "$(grep -c '<error type="timeout"' "$tmp/c.xml")" -eq 2 ] || fail "timeouts not JUnit errors"
grep -q 'errors="3"' "$tmp/c.xml" || fail "JUnit error count"

# a slow seed does not idle the other jobs: with seeds 1 and 12 hanging
# until the 3 s timeout, --jobs 2 runs 2..11 beside seed 1 and reaches 12
# while 1 still hangs, so both time out together (about 3 s; when results
# could only wait in --jobs ring slots, seed 3 waited for seed 1: 6 s)
start=$(date +%s%N)
out=$(KPSIM_SWEEP_TEST_HANG=1,12 "$KPSIM" sweep $OK --seeds 1..14 --jobs 2 --timeout 3); rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
[ $rc -eq 1 ] || fail "two hangs: exit $rc, want 1"
[ "$(tail -n1 <<<"$out")" = "12 passed, 2 failed" ] || fail "two hangs: final line: $out"
[ "$(grep -c '^TIMEOUT seed' <<<"$out")" -eq 2 ] || fail "two hangs: timeout lines: $out"
[ $took -lt 5500 ] || fail "a hung seed held back the other job: took ${took} ms"

# bad usage and bad input: exit 2 and a message
usage() { # expected-message-regex args...
  local want=$1; shift
  "$KPSIM" sweep "$@" >"$tmp/o" 2>"$tmp/e"; local r=$?
  [ $r -eq 2 ] || fail "sweep $*: exit $r, want 2"
  grep -qE -- "$want" "$tmp/e" || fail "sweep $*: stderr '$(cat "$tmp/e")' lacks /$want/"
  [ -s "$tmp/o" ] && fail "sweep $*: wrote to stdout: $(cat "$tmp/o")"
  return 0
}
usage 'give the seeds' $OK
usage 'give a SCENARIO' --seeds 1..3
usage '--seeds needs A..B' $OK --seeds 3..1
usage '--seeds needs A..B' $OK --seeds 1-3
usage '--shard needs I/N' $OK --seeds 1..3 --shard 0/3
usage '--shard needs I/N' $OK --seeds 1..3 --shard 4/3
usage '--jobs needs' $OK --seeds 1..3 --jobs 0
usage '--timeout needs' $OK --seeds 1..3 --timeout 0
usage "unknown option '--bogus'" $OK --seeds 1..3 --bogus
usage 'one SCENARIO only' $OK $OK --seeds 1..3
usage 'cannot read' tests/data/sweep/absent.textpb --seeds 1..3
usage '^--set producer.linger.ms=x: ' $OK --seeds 1..3 --set producer.linger.ms=x
usage '--merge needs at least one' --merge
usage '--merge takes result files' --merge x.tsv --seeds 1..3
printf 'name: "x"\npurpose: "p"\nfamily: "test"\ncluster { brokers: -1 }\n' >"$tmp/bad.textpb"
usage 'bad.textpb:4:' "$tmp/bad.textpb" --seeds 1..3
"$KPSIM" help sweep | grep -q -- '--shard I/N' || fail "help sweep"

# a terminal gets a progress line (done/total, rate, time left) on stderr
if command -v script >/dev/null; then
  script -qec "$KPSIM sweep $OK --seeds 1..20 --jobs 2" /dev/null >"$tmp/tty" 2>&1 </dev/null
  grep -q 'seeds .*/s .*left' "$tmp/tty" || fail "no progress line on a terminal: $(cat -v "$tmp/tty")"
  grep -q '20/20 seeds' "$tmp/tty" || fail "progress never reached 20/20: $(cat -v "$tmp/tty")"
fi
exit 0
