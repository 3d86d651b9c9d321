#!/usr/bin/env bash
# kpsim validate: every catalog file is valid; --set overrides are applied
# before the checks and an error they cause names the --set argument;
# usage errors exit 2.
set -u
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*"; exit 1; }
out=$("$KPSIM" validate scenarios/catalog/*.textpb) || fail "catalog: exit $? ($out)"
[ "$(grep -c ': ok$' <<<"$out")" -eq "$(ls scenarios/catalog/*.textpb | wc -l)" ] || fail "catalog: $out"

f=scenarios/catalog/idempotent_inflight5_injected_errors.textpb
err=$("$KPSIM" validate --set producer.acks=1 "$f" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "--set acks=1 on an idempotent producer: exit $rc"
case "$err" in
  "--set producer.acks=1: producer 'app': acks=1 contradicts the other settings: Must set acks to all"*"enable.idempotence=true at "*) ;;
  *) fail "--set acks=1: $err" ;;
esac
"$KPSIM" validate --set producer.app.linger.ms=50 --set net.latency.ms=3 --set broker.message.max.bytes=10000 "$f" >/dev/null \
  || fail "valid --set overrides rejected"
err=$("$KPSIM" validate --set bogus.key=1 "$f" 2>&1 >/dev/null); [ $? -eq 2 ] || fail "unknown --set key: want exit 2"
grep -q "^--set bogus.key=1: unknown key 'bogus.key': it must start with producer." <<<"$err" || fail "unknown --set key: $err"
err=$("$KPSIM" validate /nonexistent.textpb 2>&1); [ $? -eq 2 ] || fail "missing file: want exit 2"
[ "$err" = "/nonexistent.textpb: cannot read: No such file or directory" ] || fail "missing file: $err"
"$KPSIM" validate >/dev/null 2>&1; [ $? -eq 2 ] || fail "no file: want exit 2"
"$KPSIM" validate --set >/dev/null 2>&1; [ $? -eq 2 ] || fail "--set without value: want exit 2"
echo ok
