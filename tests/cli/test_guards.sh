#!/usr/bin/env bash
# The determinism guard (no real clock, randomness, sockets or threads
# outside the seams) and the layering guard (includes point down the stack)
# hold for the tree, and each can fail: a probe file with a time() call and
# a probe with an upward include are rejected.
set -u
fail() { echo "FAIL: $*"; exit 1; }
cd "$(dirname "$0")/../.."
tools/tidy.sh >/dev/null 2>&1 || { tools/tidy.sh; fail "make tidy"; }
tools/deps_check.sh >/dev/null 2>&1 || { tools/deps_check.sh; fail "make deps-check"; }
probe=producer/zz_guard_probe_$$.c
trap 'rm -f "$probe"' EXIT
printf 'int zz(void) { return (int)time(0); }\n' >"$probe"
tools/tidy.sh >/dev/null 2>&1 && fail "tidy accepted a time() call"
printf '#include "sn_world.h"\n' >"$probe"
tools/deps_check.sh >/dev/null 2>&1 && fail "deps-check accepted producer -> simnet"
rm -f "$probe"
echo ok
