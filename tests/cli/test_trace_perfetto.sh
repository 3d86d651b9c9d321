#!/usr/bin/env bash
# kpsim trace --format perfetto: Chrome Trace Event JSON that parses, with a
# named track per component, spans for requests and batches, fault instants.
set -u
fail() { echo "FAIL: $*"; exit 1; }
FX="$(cd "$(dirname "$0")/.." && pwd)/data/traces/synthetic.kptrace"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$KPSIM" trace "$FX" --format perfetto --out "$tmp/pf.json" 2>"$tmp/err" || fail "exit $?"
[ -s "$tmp/err" ] && fail "stderr: $(cat "$tmp/err")"
python3 -m json.tool "$tmp/pf.json" >/dev/null || fail "not JSON"
python3 - "$tmp/pf.json" <<'PY' || fail "content"
import json, sys
d = json.load(open(sys.argv[1]))
ev = d["traceEvents"]
tracks = {e["tid"]: e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
for want in ["application", "accumulator", "sender", "network client", "broker 1", "broker 2",
             "link client->1", "link client->2", "harness"]:
    assert want in tracks.values(), "no track " + want
spans = [e for e in ev if e["ph"] == "X"]
req = [e for e in spans if e["cat"] == "request"]
bat = [e for e in spans if e["cat"] == "batch"]
assert len(req) == 11 and len(bat) == 12, (len(req), len(bat))
assert all(e["dur"] >= 0 and e["tid"] in tracks for e in spans)
# spans on one track never overlap (Chrome nests slices per thread)
by = {}
for e in spans:
    by.setdefault(e["tid"], []).append((e["ts"], e["ts"] + e["dur"]))
for tid, iv in by.items():
    iv.sort()
    for a, b in zip(iv, iv[1:]):
        assert b[0] >= a[1], ("overlap on", tracks[tid], a, b)
faults = [e for e in ev if e.get("cat") == "fault"]
assert [f["name"] for f in faults] == ["link client->2 down", "orders-1 leader 2 -> 1"]
assert all(f["ph"] == "i" and f["s"] == "g" for f in faults)
assert any(e["ph"] == "C" and e["name"].startswith("in-flight requests") for e in ev)
PY
echo ok
