#!/usr/bin/env bash
# kpsim report: index.html and non-empty PNG charts from a trace fixture,
# gnuplot silent (any output is a failure), exit 2 on a bad trace.
set -u
fail() { echo "FAIL: $*"; exit 1; }
FX="$(cd "$(dirname "$0")/.." && pwd)/data/traces/synthetic.kptrace"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$KPSIM" report "$FX" --out "$tmp/rep" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc = 0 ] || fail "exit $rc: $(cat "$tmp/err")"
[ -s "$tmp/err" ] && fail "stderr not empty (gnuplot warnings?): $(cat "$tmp/err")"
grep -q "index.html: 7 charts, 0 without data" "$tmp/out" || fail "stdout: $(cat "$tmp/out")"
[ -s "$tmp/rep/index.html" ] || fail "no index.html"
for c in records inflight batch_size records_per_request latency counters buffer; do
  f="$tmp/rep/$c.png"
  [ -s "$f" ] || fail "$c.png missing or empty"
  [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = "211PNG" ] || fail "$c.png is not a PNG"
  grep -q "<img src=\"$c.png\"" "$tmp/rep/index.html" || fail "$c.png not on the page"
  [ -s "$tmp/rep/$c.svg" ] || fail "$c.svg missing"
done
# gnuplot itself, run again on the written script, prints nothing
(cd "$tmp/rep" && gnuplot report.gp) >"$tmp/gp" 2>&1 || fail "gnuplot report.gp failed"
[ -s "$tmp/gp" ] && fail "gnuplot printed: $(cat "$tmp/gp")"
grep -q 'retries &gt;= 1' "$tmp/rep/index.html" || fail "verdicts missing"
"$KPSIM" report "$FX" --out "$tmp/rep2" --no-svg >/dev/null 2>&1 || fail "--no-svg: exit $?"
[ -e "$tmp/rep2/records.svg" ] && fail "--no-svg wrote SVG"
head -c 100 "$FX" >"$tmp/cut"
"$KPSIM" report "$tmp/cut" --out "$tmp/rep3" >/dev/null 2>"$tmp/e3"; rc=$?
[ $rc = 2 ] && grep -q 'offset' "$tmp/e3" || fail "damaged trace: exit $rc: $(cat "$tmp/e3")"
"$KPSIM" report "$FX" >/dev/null 2>&1; [ $? = 2 ] || fail "no --out: want exit 2"
echo ok
