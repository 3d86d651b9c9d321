#!/usr/bin/env bash
# kpsim trace: text (aligned, one line per event, summary), json (every line
# parses), damaged traces (exit 2 naming the byte offset), bad usage (exit 2).
set -u
fail() { echo "FAIL: $*"; exit 1; }
FX="$(cd "$(dirname "$0")/.." && pwd)/data/traces/synthetic.kptrace"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"$KPSIM" trace "$FX" >"$tmp/text" 2>"$tmp/err" || fail "text: exit $?"
[ -s "$tmp/err" ] && fail "text: stderr not empty: $(cat "$tmp/err")"
events=$(grep -vc '^#' "$tmp/text")
[ "$events" = 235 ] || fail "text: $events event lines, want 235"
grep -q '^# scenario: synthetic/leader-move-and-split$' "$tmp/text" || fail "text: no scenario line"
grep -q '^# summary: FAIL  sent=40 acked=35 failed=5' "$tmp/text" || fail "text: no summary line"
grep -q '^#   expectation FAIL  no record fails (5): 5 records expired' "$tmp/text" || fail "text: no verdict"
# aligned: the kind column starts at the same place on every event line
cols=$(grep -v '^#' "$tmp/text" | awk '{ print index($0, $3) }' | sort -u)
[ "$cols" = 22 ] || fail "text: kind column not aligned: $cols"
grep -q '^     122.600    153  fault_link_down            link client->2  node=2  detail="link client->2 down"$' "$tmp/text" \
  || fail "text: fault line: $(grep fault_link_down "$tmp/text")"

"$KPSIM" trace "$FX" --format json >"$tmp/json" || fail "json: exit $?"
[ "$(wc -l <"$tmp/json")" = 237 ] || fail "json: $(wc -l <"$tmp/json") lines, want 237"
python3 - "$tmp/json" <<'PY' || fail "json: a line does not parse"
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
objs = [json.loads(l) for l in lines]
assert objs[0]["type"] == "header" and objs[0]["seed"] == 42
assert all(o["type"] == "event" for o in objs[1:-1])
assert [o["seq"] for o in objs[1:-1]] == list(range(235))
assert objs[-1]["type"] == "summary" and objs[-1]["passed"] is False
assert any(o.get("err_name") == "MESSAGE_TOO_LARGE" for o in objs[1:-1])
PY

# a damaged copy: cut in the middle of a frame
size=$(stat -c %s "$FX")
head -c $((size - 10)) "$FX" >"$tmp/cut.kptrace"
"$KPSIM" trace "$tmp/cut.kptrace" >"$tmp/cut.out" 2>"$tmp/cut.err"; rc=$?
[ $rc = 2 ] || fail "truncated: exit $rc, want 2"
grep -qE 'cut.kptrace: offset [0-9]+: truncated frame' "$tmp/cut.err" || fail "truncated: message: $(cat "$tmp/cut.err")"
[ "$(grep -vc '^#' "$tmp/cut.out")" = 235 ] || fail "truncated: events before the damage not printed"
printf 'not a trace at all' >"$tmp/junk"
"$KPSIM" trace "$tmp/junk" >/dev/null 2>"$tmp/junk.err"; rc=$?
[ $rc = 2 ] && grep -q 'junk: offset 0: ' "$tmp/junk.err" || fail "junk: exit $rc: $(cat "$tmp/junk.err")"
"$KPSIM" trace "$tmp/nonexistent" >/dev/null 2>&1; [ $? = 2 ] || fail "missing file: want exit 2"

for args in "" "--format" "--format xml $FX" "$FX $FX" "--bogus $FX"; do
  # shellcheck disable=SC2086
  "$KPSIM" trace $args >/dev/null 2>"$tmp/u"; rc=$?
  [ $rc = 2 ] || fail "args '$args': exit $rc, want 2"
  grep -q "usage: kpsim trace" "$tmp/u" || fail "args '$args': no usage line"
done
echo ok
