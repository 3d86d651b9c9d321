#!/usr/bin/env bash
# pgo_same.sh PLAIN PGO [FILE...] — the profile-guided binary is the same
# program as the plain one: for every scenario file (default: the catalog
# and scenarios/bench/, the bench files cut at 20 simulated seconds) both
# print the same verdict line and the same run digest (a hash of every
# event of the run, in order; DESIGN.md "Determinism"). One line per file,
# then "pgo-same: N passed, M failed". Exit 1 when any differs.
set -u
cd "$(dirname "$0")/../.."
A=${1:?usage: pgo_same.sh PLAIN PGO [FILE...]}
B=${2:?usage: pgo_same.sh PLAIN PGO [FILE...]}
shift 2
[ $# -gt 0 ] || set -- scenarios/catalog/*.textpb scenarios/bench/*.textpb
pass=0; fail=0
for f in "$@"; do
  a=$("$A" run "$f" --time-limit-ms 20000 2>&1 | grep -E "digest [0-9a-f]+|^verdict")
  b=$("$B" run "$f" --time-limit-ms 20000 2>&1 | grep -E "digest [0-9a-f]+|^verdict")
  if grep -qE "digest [0-9a-f]{8}" <<<"$a" && [ "$a" = "$b" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $f"; echo "  plain: $a" | head -3; echo "  pgo:   $b" | head -3
  fi
done
echo "pgo-same: $pass passed, $fail failed"
[ $fail -eq 0 ]
