#!/usr/bin/env bash
# kpsim trace --record K / --batch B: only the events of one record (its
# batch, the split piece it went on in, the requests, the broker side) or of
# one batch with all its pieces; usage errors exit 2.
set -u
fail() { echo "FAIL: $*"; exit 1; }
FX="$(cd "$(dirname "$0")/.." && pwd)/data/traces/synthetic.kptrace"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$KPSIM" trace "$FX" --record 17 >"$tmp/r17" 2>"$tmp/err" || fail "--record 17: exit $?"
ev=$(grep -v '^#' "$tmp/r17")
[ "$(wc -l <<<"$ev")" = 18 ] || fail "--record 17: $(wc -l <<<"$ev") events, want 18"
grep -q ' split .* batch=5  records=3  err=MESSAGE_TOO_LARGE  value=3$' <<<"$ev" || fail "no split piece 5"
grep -q 'batch=4 ' <<<"$ev" && fail "piece 4 (records 14, 15) is not record 17's"
grep -q ' callback .* value=17$' <<<"$ev" || fail "no callback of record 17"
grep -q ' log_append .* offset=7$' <<<"$ev" || fail "no broker append"
"$KPSIM" trace "$FX" --batch 3 --format json >"$tmp/b3" || fail "--batch 3: exit $?"
python3 - "$tmp/b3" <<'PY' || fail "--batch 3 json"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
assert objs[0]["type"] == "header"
batches = {o.get("batch_id") for o in objs[1:]} - {None}
assert batches == {3, 4, 5}, batches
assert sum(1 for o in objs if o.get("kind_name") == "callback") == 5
PY
"$KPSIM" trace "$FX" --record 999 >/dev/null 2>"$tmp/e"; rc=$?
[ $rc = 2 ] && grep -q "no events of record 999" "$tmp/e" || fail "--record 999: exit $rc"
for args in "--record" "--record -1" "--record 1 --batch 2" "--record 1 --format perfetto" "--producer p"; do
  # shellcheck disable=SC2086
  "$KPSIM" trace "$FX" $args >/dev/null 2>"$tmp/u"; rc=$?
  [ $rc = 2 ] && grep -q "usage: kpsim trace" "$tmp/u" || fail "args '$args': exit $rc"
done
echo ok
