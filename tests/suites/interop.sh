#!/usr/bin/env bash
# interop.sh — the part of `make interop` that runs inside `make test`:
# tests/interop/run.sh --quick (20,000 records per plain case, the fault
# cases at 100,000, a subset of codecs; about 20 s). kpsim produce against
# librdkafka's mock cluster read back by librdkafka's consumer, faults
# included; librdkafka's producer and kcat against kpsim broker read back by
# kcat with the broker's summary; the murmur2 partitioner on 10,000 keys.
# The full matrix is `make interop`.
#
# Needs librdkafka-dev and kcat: installs them when it can (root +
# apt-get, via tools/deps.sh); only where they cannot be installed does it
# skip, saying so, with 0 failed. Builds the helper into $KP_BUILD/interop/.
# Last line: "N passed, M failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
KPSIM=${KPSIM:-$PWD/build/kpsim}
BUILD=${KP_BUILD:-$(dirname "$KPSIM")}
BUILD=${BUILD#"$PWD/"}

have() { pkg-config --exists rdkafka 2>/dev/null && command -v kcat >/dev/null 2>&1; }
if ! have; then
  timeout 600 tools/deps.sh librdkafka-dev kcat >/dev/null 2>&1 || true
fi
if ! have; then
  echo "skip: librdkafka-dev and kcat are needed and could not be installed" \
       "(as root: apt-get install librdkafka-dev kcat, or make interop-deps)"
  echo "0 passed, 0 failed"
  exit 0
fi
if [ ! -x "$KPSIM" ]; then
  echo "FAIL kpsim binary $KPSIM exists"; echo "0 passed, 1 failed"; exit 1
fi
if ! timeout 300 make --no-print-directory BUILD="$BUILD" "$BUILD/interop/rdk_helper" >/tmp/kpsim-interop-build.$$ 2>&1; then
  cat /tmp/kpsim-interop-build.$$; rm -f /tmp/kpsim-interop-build.$$
  echo "FAIL building the librdkafka helper"; echo "0 passed, 1 failed"; exit 1
fi
rm -f /tmp/kpsim-interop-build.$$
out=$(mktemp); trap 'rm -f "$out"' EXIT
timeout 240 tests/interop/run.sh --quick --kpsim "$KPSIM" --helper "$BUILD/interop/rdk_helper" >"$out" 2>&1
rc=$?
cat "$out"
line=$(grep -E '^interop: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -n1)
if [ -z "$line" ]; then
  echo "FAIL run.sh ended without its summary line (exit $rc; 240 s limit)"
  echo "0 passed, 1 failed"; exit 1
fi
p=$(sed -nE 's/^interop: ([0-9]+) passed.*/\1/p' <<<"$line")
f=$(sed -nE 's/.* ([0-9]+) failed$/\1/p' <<<"$line")
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
