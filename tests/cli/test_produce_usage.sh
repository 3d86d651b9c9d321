#!/usr/bin/env bash
# kpsim produce: bad usage exits 2 and says what is wrong.
set -u
out=$("$KPSIM" produce --topic t 2>&1); rc=$?
[ $rc -eq 2 ] || { echo "missing --bootstrap: rc $rc"; exit 1; }
grep -q -- "--bootstrap HOST:PORT is required" <<<"$out" || { echo "$out"; exit 1; }
out=$("$KPSIM" produce --bootstrap 127.0.0.1:1 --topic t --set producer.linger.msx=5 2>&1); rc=$?
[ $rc -eq 2 ] || { echo "unknown setting: rc $rc"; exit 1; }
grep -q "linger.msx" <<<"$out" || { echo "$out"; exit 1; }
out=$("$KPSIM" produce --bootstrap 127.0.0.1:1 --topic t --set broker.x=1 2>&1); rc=$?
[ $rc -eq 2 ] || { echo "non-producer setting: rc $rc"; exit 1; }
out=$("$KPSIM" produce --bootstrap 127.0.0.1:1 --topic t --count -3 2>&1); rc=$?
[ $rc -eq 2 ] || { echo "negative count: rc $rc"; exit 1; }
"$KPSIM" help produce | grep -q "key-<n mod K>" || { echo "help"; exit 1; }
exit 0
