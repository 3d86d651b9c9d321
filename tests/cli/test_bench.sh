#!/usr/bin/env bash
# kpsim bench: every workload of scenarios/bench/ loads and runs; --only
# ends with the machine-readable line (NAME records=N wall_s=X
# records_per_s=Y sim_s=Z peak_rss_kb=R ...); a run that fails its checks
# makes the exit status 1; bad options exit 2. Small record counts: this
# checks the command, not the speed (no timing is asserted).
set -u
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
line_re='^([a-z0-9-]+) records=([0-9]+) wall_s=[0-9]+\.[0-9]{3} records_per_s=[0-9]+ sim_s=([0-9]+\.[0-9]{3}) peak_rss_kb=([0-9]+) cpu_s=[0-9.]+ events_per_s=[0-9]+'

# Each one-run workload at a small size: the last line names it, counts
# every record as acknowledged, and reports a simulated time and an RSS.
# (faults keeps its own 100,000: its schedule spans the first 0.8 simulated
# seconds and its expectations demand that every fault was met.)
for w in throughput compression-gzip compression-snappy compression-lz4 compression-zstd faults quiet-hour; do
  n=3000; [ "$w" = faults ] && n=100000
  out=$("$KPSIM" bench --only "$w" --records $n) || fail "$w: exit $?: $out"
  last=$(printf '%s\n' "$out" | tail -n1)
  [[ $last =~ $line_re ]] || fail "$w: last line not machine-readable: $last"
  [ "${BASH_REMATCH[1]}" = "$w" ] || fail "$w: line names ${BASH_REMATCH[1]}"
  [ "${BASH_REMATCH[2]}" -eq $n ] || fail "$w: records=${BASH_REMATCH[2]}, want $n"
  [ "${BASH_REMATCH[4]}" -gt 0 ] || fail "$w: peak_rss_kb 0"
  awk -v s="${BASH_REMATCH[3]}" 'BEGIN { exit !(s > 0) }' || fail "$w: sim_s ${BASH_REMATCH[3]}"
  printf '%s\n' "$out" | grep -q '^workload ' || fail "$w: no table header"
done
# quiet-hour paces 1,000 records/s: 3,000 records take 3 simulated seconds.
out=$("$KPSIM" bench --only quiet-hour --records 3000 | tail -n1)
[[ $out =~ sim_s=(3\.[0-9]{3}) ]] || fail "quiet-hour sim_s: $out"

# The sweep: seeds x records, the per-seed processes, seeds_per_s.
out=$("$KPSIM" bench --only sweep --seeds 3 --records 1000 --jobs 2) || fail "sweep: exit $?: $out"
last=$(printf '%s\n' "$out" | tail -n1)
[[ $last =~ $line_re ]] || fail "sweep line: $last"
[ "${BASH_REMATCH[2]}" -eq 3000 ] || fail "sweep records=${BASH_REMATCH[2]}, want 3 x 1000"
[[ $last =~ seeds=3\ seeds_per_s=[0-9.]+$ ]] || fail "sweep seeds fields: $last"

# In-process gives the same simulation (same simulated end time).
a=$("$KPSIM" bench --only throughput --records 2000 | tail -n1 | grep -o 'sim_s=[0-9.]*')
b=$("$KPSIM" bench --only throughput --records 2000 --in-process | tail -n1 | grep -o 'sim_s=[0-9.]*')
[ -n "$a" ] && [ "$a" = "$b" ] || fail "forked $a vs in-process $b"

# A workload whose checks fail: exit 1, the table row says FAILED and the
# reason. (A bench root whose throughput file demands too much.)
mkdir -p "$tmp/r/scenarios/bench"
cp scenarios/bench/*.textpb "$tmp/r/scenarios/bench/"
sed -i 's/counter { name: RECORDS_FAILED max: 0 }/counter { name: RETRIES min: 1000000 }/' "$tmp/r/scenarios/bench/throughput.textpb"
out=$("$KPSIM" bench --root "$tmp/r" --only throughput --records 500); rc=$?
[ $rc -eq 1 ] || fail "failing run: exit $rc: $out"
printf '%s\n' "$out" | grep -q 'FAILED' || fail "no FAILED in: $out"
printf '%s\n' "$out" | grep -q 'retries' || fail "the failed expectation is not named: $out"

# Usage errors: exit 2 with a message.
for args in "--only nosuch" "--records 0" "--jobs 0" "--in-process" "--only sweep --in-process" "--bogus" "--root $tmp"; do
  "$KPSIM" bench $args >"$tmp/o" 2>"$tmp/e"; rc=$?
  [ $rc -eq 2 ] || fail "bench $args: exit $rc"
  grep -q 'kpsim bench' "$tmp/e" || fail "bench $args: no message: $(cat "$tmp/e")"
done
# The root is found from the executable's path, whatever the directory.
abs=$(cd "$(dirname "$KPSIM")" && pwd)/$(basename "$KPSIM")
(cd "$tmp" && "$abs" bench --only throughput --records 500 >/dev/null) || fail "bench from another directory"
echo "ok"
