#!/usr/bin/env bash
# kpsim sweep --shard I/N and --merge: shards 1/3, 2/3, 3/3 of a range run
# every seed exactly once, and merging their --out files gives, byte for
# byte, the --out, stdout and JUnit of the unsharded sweep. --jobs does not
# change any output. Merge refuses (exit 2, saying what) a missing shard,
# a shard given twice, an unfinished shard file and files of two different
# sweeps.
set -u
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
F=tests/data/sweep/retry_budget.textpb   # some seeds fail: failures must merge too
S=1..31                                  # 31 = 3*10+1: the shards differ in size

"$KPSIM" sweep "$F" --seeds $S --jobs 2 --out "$tmp/all.tsv" --junit "$tmp/all.xml" >"$tmp/all.txt" 2>"$tmp/all.err"
rc=$?; [ $rc -le 1 ] || fail "whole sweep: exit $rc: $(cat "$tmp/all.err")"
[ -s "$tmp/all.err" ] && fail "stderr is not a terminal, yet the sweep wrote to it: $(cat "$tmp/all.err")"
grep -q '^seed	verdict	digest	' "$tmp/all.tsv" || fail "no column line in --out"
grep -q '^# end	[0-9]* passed, [0-9]* failed$' "$tmp/all.tsv" || fail "no trailer in --out"
grep -q ' failed$' "$tmp/all.txt" || fail "no final line"
nfail=$(grep -c '^FAIL seed ' "$tmp/all.txt")
[ "$nfail" -ge 1 ] && [ "$nfail" -le 25 ] || fail "want some but not all seeds failing, got $nfail"

# --jobs changes nothing
"$KPSIM" sweep "$F" --seeds $S --jobs 1 --out "$tmp/j1.tsv" >"$tmp/j1.txt"
"$KPSIM" sweep "$F" --seeds $S --jobs 3 --out "$tmp/j3.tsv" >"$tmp/j3.txt"
cmp -s "$tmp/all.txt" "$tmp/j1.txt" && cmp -s "$tmp/all.txt" "$tmp/j3.txt" || fail "stdout differs with --jobs 1/2/3"
cmp -s "$tmp/all.tsv" "$tmp/j1.tsv" && cmp -s "$tmp/all.tsv" "$tmp/j3.tsv" || fail "--out differs with --jobs 1/2/3"

# the three shards: disjoint, complete, (seed - 1) % 3 == I - 1
for i in 1 2 3; do
  "$KPSIM" sweep "$F" --seeds $S --shard $i/3 --jobs 2 --out "$tmp/s$i.tsv" >"$tmp/s$i.txt"
  rc=$?; [ $rc -le 1 ] || fail "shard $i/3: exit $rc"
  grep -q "^# shard	$i/3$" "$tmp/s$i.tsv" || fail "shard $i: header"
  bad=$(awk -F'\t' -v i=$i '/^[0-9]/ && ($1 - 1) % 3 != i - 1' "$tmp/s$i.tsv")
  [ -z "$bad" ] || fail "shard $i/3 ran seeds of another shard: $bad"
done
cat "$tmp"/s[123].tsv | awk -F'\t' '/^[0-9]/ {print $1}' | sort -n >"$tmp/seeds"
seq 1 31 | cmp -s - "$tmp/seeds" || fail "shards do not cover 1..31 exactly once: $(tr '\n' ' ' <"$tmp/seeds")"
# every shard line is the whole sweep's line for that seed
cat "$tmp"/s[123].tsv | grep '^[0-9]' | sort -n >"$tmp/shard_lines"
grep '^[0-9]' "$tmp/all.tsv" | sort -n | cmp -s - "$tmp/shard_lines" || fail "a shard's result differs from the whole sweep's"

# merge (files in any order) == the whole sweep
"$KPSIM" sweep --merge "$tmp/s3.tsv" "$tmp/s1.tsv" "$tmp/s2.tsv" --out "$tmp/m.tsv" --junit "$tmp/m.xml" >"$tmp/m.txt"
rc=$?; [ $rc -eq 1 ] || fail "merge of a sweep with failures: exit $rc, want 1"
cmp -s "$tmp/all.txt" "$tmp/m.txt" || fail "merged stdout differs: $(diff "$tmp/all.txt" "$tmp/m.txt")"
cmp -s "$tmp/all.tsv" "$tmp/m.tsv" || fail "merged --out differs: $(diff "$tmp/all.tsv" "$tmp/m.tsv")"
cmp -s "$tmp/all.xml" "$tmp/m.xml" || fail "merged --junit differs"

# a Kubernetes-style 0-based index maps to --shard index+1
for idx in 0 1 2; do
  "$KPSIM" sweep "$F" --seeds $S --shard $((idx + 1))/3 --out "$tmp/k$idx.tsv" >/dev/null
done
"$KPSIM" sweep --merge "$tmp"/k[012].tsv >"$tmp/k.txt"; cmp -s "$tmp/all.txt" "$tmp/k.txt" || fail "indexed merge differs"

# missing shard
"$KPSIM" sweep --merge "$tmp/s1.tsv" "$tmp/s3.tsv" >"$tmp/o" 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] || fail "missing shard: exit $rc, want 2"
grep -q 'missing shard 2/3' "$tmp/e" || fail "missing shard not named: $(cat "$tmp/e")"
grep -q '10 seed(s) of 1..31 missing: 2 5 8 11 14 17 20 23 26 29' "$tmp/e" || fail "missing seeds not listed: $(cat "$tmp/e")"
# shard given twice
"$KPSIM" sweep --merge "$tmp/s1.tsv" "$tmp/s2.tsv" "$tmp/s3.tsv" "$tmp/s2.tsv" >"$tmp/o" 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] || fail "duplicate shard: exit $rc, want 2"
grep -q 'shard 2/3 given 2 times' "$tmp/e" && grep -q '10 seed(s) more than once: 2 5 8' "$tmp/e" || fail "duplicates: $(cat "$tmp/e")"
# an unfinished shard (killed before its end line)
grep -v '^# end' "$tmp/s2.tsv" >"$tmp/s2cut.tsv"
"$KPSIM" sweep --merge "$tmp/s1.tsv" "$tmp/s2cut.tsv" "$tmp/s3.tsv" >"$tmp/o" 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q 's2cut.tsv: incomplete' "$tmp/e" || fail "unfinished shard: exit $rc: $(cat "$tmp/e")"
head -n 12 "$tmp/s2.tsv" >"$tmp/s2half.tsv"
"$KPSIM" sweep --merge "$tmp/s1.tsv" "$tmp/s2half.tsv" "$tmp/s3.tsv" >"$tmp/o" 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q 'seed(s) of 1..31 missing' "$tmp/e" || fail "half a shard: exit $rc: $(cat "$tmp/e")"
# shards of two different sweeps
"$KPSIM" sweep "$F" --seeds $S --shard 2/3 --set producer.linger.ms=3 --out "$tmp/other.tsv" >/dev/null
"$KPSIM" sweep --merge "$tmp/s1.tsv" "$tmp/other.tsv" "$tmp/s3.tsv" >"$tmp/o" 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q 'not shards of one sweep: different --set overrides' "$tmp/e" || fail "mixed sweeps: exit $rc: $(cat "$tmp/e")"
# not a result file: its line named
printf 'hello\n' >"$tmp/junk.tsv"
"$KPSIM" sweep --merge "$tmp/junk.tsv" >"$tmp/o" 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q 'junk.tsv:1:1: not a kpsim sweep result file' "$tmp/e" || fail "junk file: exit $rc: $(cat "$tmp/e")"
exit 0
