#!/usr/bin/env bash
# pgo.sh — the binary the benchmarks time is the same program as the one
# the tests run. `make pgo` builds $BUILD/pgo/kpsim with gcc's profile-
# guided optimisation (tools/pgo.sh: instrumented build, training run,
# rebuild with the counts); then tests/bench/pgo_same.sh runs every
# catalog and bench scenario with both binaries and each must print the
# same verdict and the same run digest (one test per scenario file).
# Without gcc (CC=clang, a sanitizer build) there is no PGO build and the
# benches time the plain binary: nothing to compare, "0 passed, 0 failed".
set -u
cd "$(dirname "$0")/../.."
B=${KP_BUILD:-$PWD/build}
B=${B#"$PWD"/}
if ! make --no-print-directory -s -j2 BUILD="$B" pgo; then
  echo "FAIL make pgo"
  echo "0 passed, 1 failed"
  exit 1
fi
if [ ! -x "$B/pgo/kpsim" ] || [ ! "$B/pgo/kpsim" -nt "$B/kpsim" ]; then
  echo "pgo: no profile-guided build with this compiler; the benches time $B/kpsim"
  echo "0 passed, 0 failed"
  exit 0
fi
out=$(tests/bench/pgo_same.sh "$B/kpsim" "$B/pgo/kpsim"); rc=$?
echo "$out"
tail -n1 <<<"$out" | sed -E 's/^pgo-same: //'
exit $rc
