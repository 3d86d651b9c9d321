#!/usr/bin/env bash
# deps.sh PKG... — make sure the named Debian packages are installed.
# As root with apt-get: installs what is missing (apt-get update first).
# Otherwise: prints the exact command to run and exits 1.
set -u
missing=()
for p in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >/tmp/kpsim-deps.log 2>&1; then
    echo "deps: apt-get failed; see /tmp/kpsim-deps.log" >&2
    tail -n 20 /tmp/kpsim-deps.log >&2
    exit 1
  fi
  exit 0
fi
echo "deps: missing Debian packages: ${missing[*]}" >&2
echo "deps: install them with:" >&2
echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
exit 1
