#!/usr/bin/env bash
# catalog.sh — every scenario in scenarios/catalog/ with its default seed
# must pass (exit 0); and each run twice with --trace must give
# byte-identical traces (same scenario + seed => same bytes).
# Prints "N passed, M failed" last.
set -u
cd "$(dirname "$0")/../.."
KPSIM=${KPSIM:-build/kpsim}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
for f in scenarios/catalog/*.textpb; do
  name=$(basename "$f" .textpb)
  if timeout 300 "$KPSIM" run "$f" --quiet --trace "$tmp/$name.1.kpt" >"$tmp/out" 2>&1; then
    pass=$((pass + 1)); echo "ok   run $f"
  else
    fail=$((fail + 1)); echo "FAIL run $f"; sed 's/^/     /' "$tmp/out"
    "$KPSIM" run "$f" 2>&1 | grep -E 'FAIL|first|reproduce' | head -20 | sed 's/^/     /'
    continue
  fi
  timeout 300 "$KPSIM" run "$f" --quiet --trace "$tmp/$name.2.kpt" >/dev/null 2>&1
  # the trace is the harness's record: its times never go backwards
  back=$("$KPSIM" trace "$tmp/$name.1.kpt" --format text | awk '!/^#/ && $1 ~ /^[0-9.]+$/ { if ($1 + 0 < prev) n++; prev = $1 + 0 } END { print n + 0 }')
  if [ "$back" != 0 ]; then
    fail=$((fail + 1)); echo "FAIL trace time goes backwards $back times in $f"
  fi
  if cmp -s "$tmp/$name.1.kpt" "$tmp/$name.2.kpt"; then
    pass=$((pass + 1)); echo "ok   deterministic trace $f ($(stat -c %s "$tmp/$name.1.kpt") bytes)"
  else
    fail=$((fail + 1)); echo "FAIL deterministic trace $f: two runs differ"
  fi
  rm -f "$tmp/$name".*.kpt
done
echo "catalog: $pass passed, $fail failed"
