#!/usr/bin/env bash
# The trace format is readable without kpsim: a 40-line pure-Python decoder
# (no protobuf library) following only reports/trace.proto's framing comment
# reads the fixture and agrees with `kpsim trace --format json`.
set -u
fail() { echo "FAIL: $*"; exit 1; }
FX="$(cd "$(dirname "$0")/.." && pwd)/data/traces/synthetic.kptrace"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$KPSIM" trace "$FX" --format json >"$tmp/json" || fail "kpsim trace: exit $?"
python3 - "$FX" "$tmp/json" <<'PY' || fail "python decoder disagrees"
import json, sys

def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1
        v |= (c & 0x7f) << s; s += 7
        if not c & 0x80:
            return v, i

def fields(b):
    """protobuf wire format -> {field number: [raw values]}"""
    out, i = {}, 0
    while i < len(b):
        key, i = varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i); v = b[i:i + n]; i += n
        elif wt == 1:
            v = b[i:i + 8]; i += 8
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(num, []).append(v)
    return out

zz = lambda v: (v >> 1) ^ -(v & 1)          # sint32/sint64 (zigzag)
data = open(sys.argv[1], "rb").read()
frames, i = [], 0
while i < len(data):                          # varint length + Record
    n, i = varint(data, i)
    frames.append(fields(data[i:i + n])); i += n
header = fields(frames[0][1][0])              # Record.header = 1
assert header[1][0] == b"kpsim-trace" and header[2][0] == 1
kinds = {fields(k)[1][0]: fields(k)[2][0].decode() for k in header[8]}
events = [fields(f[2][0]) for f in frames if 2 in f]    # Record.event = 2
summary = fields(frames[-1][3][0])            # Record.summary = 3
theirs = [json.loads(l) for l in open(sys.argv[2])]
assert len(events) == len(theirs) - 2 == 235, len(events)
for e, j in zip(events, theirs[1:-1]):
    assert e[1][0] == j["seq"] and kinds.get(e[2][0]) == j["kind_name"]
    assert zz(e[3][0]) == j["time_us"]
    if 8 in e:                                # batch_id, sint64
        assert zz(e[8][0]) == j["batch_id"]
    if 14 in e:                               # err, sint32
        assert zz(e[14][0]) == j["err"]
assert summary[5][0] == 40 and summary[6][0] == 35 and summary[7][0] == 5
PY
echo ok
