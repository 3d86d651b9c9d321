#!/usr/bin/env bash
# deps_check.sh — every #include "..." in a layer names a header of that
# layer or of a layer below it (the list mirrors the Makefile's deps_*).
set -u
cd "$(dirname "$0")/.."
declare -A allowed=(
  [protocol]="protocol"
  [simnet]="simnet protocol"
  [broker_mock]="broker_mock protocol"
  [producer]="producer protocol"
  [reports]="reports protocol"
  [scenarios]="scenarios reports producer simnet broker_mock protocol"
)
bad=0
for layer in "${!allowed[@]}"; do
  for f in $layer/*.c $layer/*.h; do
    [ -f "$f" ] || continue
    while IFS= read -r inc; do
      h=$(sed -E 's/.*"([^"]+)".*/\1/' <<<"$inc")
      found=""
      for l in ${allowed[$layer]}; do
        if [ -f "$l/$h" ]; then found=$l; fi
        if [ "${h%.pb-c.h}" != "$h" ] && [ -f "$l/${h%.pb-c.h}.proto" ]; then found=$l; fi
      done
      if [ -z "$found" ]; then
        echo "deps-check: $f includes \"$h\", which is not in {${allowed[$layer]}}" >&2
        bad=1
      fi
    done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "$f")
  done
done
[ $bad = 0 ] && echo "deps-check: ok"
exit $bad
