#!/usr/bin/env bash
# kpsim sweep --junit FILE: well-formed JUnit XML (parsed by Python's
# minidom), one <testcase> per seed, tests/failures counts that match the
# final line, and each failure carrying the failed check (type and message)
# and the reproducing command — also when --set values hold XML and shell
# special characters (escaped in the XML, single-quoted in the command).
set -u
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
F=tests/data/sweep/retry_budget.textpb
ID="a<b&c\"d'e f"

"$KPSIM" sweep $F --seeds 1..25 --jobs 2 --set "producer.client.id=$ID" --junit "$tmp/j.xml" >"$tmp/out"; rc=$?
[ $rc -eq 1 ] || fail "exit $rc, want 1 (some seeds fail)"
n=$(grep -c '^FAIL seed' "$tmp/out")
python3 - "$tmp/j.xml" "$n" "$ID" <<'PY' || fail "JUnit check failed"
import sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])
nfail, cid = int(sys.argv[2]), sys.argv[3]
suites = doc.getElementsByTagName("testsuite")
assert len(suites) == 1, "one testsuite"
s = suites[0]
assert s.getAttribute("name") == "kpsim.sweep.sweep_retry_budget", s.getAttribute("name")
cases = s.getElementsByTagName("testcase")
assert len(cases) == 25 and s.getAttribute("tests") == "25", (len(cases), s.getAttribute("tests"))
assert [c.getAttribute("name") for c in cases] == ["seed %d" % i for i in range(1, 26)], "seed order"
fails = [c for c in cases if c.getElementsByTagName("failure")]
assert len(fails) == nfail == int(s.getAttribute("failures")), (len(fails), nfail, s.getAttribute("failures"))
assert nfail > 0
for c in fails:
    f = c.getElementsByTagName("failure")[0]
    seed = c.getAttribute("name").split()[1]
    assert f.getAttribute("type") == "expectation counter retries in 0..4", f.getAttribute("type")
    assert f.getAttribute("message").startswith("expectation counter retries in 0..4: ")
    text = f.firstChild.data
    want = "reproduce: kpsim run tests/data/sweep/retry_budget.textpb --seed %s --set 'producer.client.id=%s'" % (
        seed, cid.replace("'", "'\\''"))
    assert want in text, (want, text)
PY
# the quoted command in the XML really reproduces under a shell
cmd=$(python3 -c 'import sys,xml.dom.minidom as m; d=m.parse(sys.argv[1]); f=d.getElementsByTagName("failure")[0]; print(f.firstChild.data.split("reproduce: ")[1])' "$tmp/j.xml")
cmd=${cmd/#kpsim /\"\$KPSIM\" }
got=$(eval "$cmd"); r=$?
[ $r -eq 1 ] || fail "reproduce from JUnit: exit $r ($cmd)"

# all passing: no failure elements, failures="0"
"$KPSIM" sweep tests/data/sweep/chaos_idempotent.textpb --seeds 1..5 --junit "$tmp/ok.xml" >/dev/null || fail "passing sweep exit $?"
python3 -c 'import sys,xml.dom.minidom as m; d=m.parse(sys.argv[1]); s=d.getElementsByTagName("testsuite")[0]; assert s.getAttribute("failures")=="0" and not d.getElementsByTagName("failure") and len(d.getElementsByTagName("testcase"))==5' "$tmp/ok.xml" \
  || fail "passing JUnit: $(cat "$tmp/ok.xml")"
# an unwritable --junit path is exit 2
"$KPSIM" sweep tests/data/sweep/chaos_idempotent.textpb --seeds 1..2 --junit "$tmp/no/such/dir/j.xml" >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q 'cannot write' "$tmp/e" || fail "unwritable --junit: exit $rc $(cat "$tmp/e")"
exit 0
