#!/usr/bin/env bash
# kpsim broker: which ports the N brokers take.
#  - a fixed PORT whose run PORT..PORT+N-1 is partly taken: exit 2 and the
#    taken address named;
#  - PORT 0: broker 0 gets a free P from the kernel and the others need
#    P+1..; when one of those is held by another socket the broker keeps
#    that P bound and asks for a fresh one. Proven in a private network
#    namespace whose ephemeral range is 40000..40007 with 40002, 40004 and
#    40006 taken: of the ports the kernel can hand out only 40007 has a free
#    neighbour, and every one of ten starts must come up on 40007..40008
#    (without the retry a start fails unless the kernel's first pick is
#    40007). Skipped, with a line saying so, where unshare cannot make a
#    network namespace.
set -u
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  wait 2>/dev/null; rm -rf "$tmp"
}
trap cleanup EXIT

wait_port() { # file pid -> prints base port
  local p
  for _ in $(seq 1 100); do
    p=$(sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+)\.\..*/\1/p' "$1")
    [ -n "$p" ] && { echo "$p"; return 0; }
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# a holder on some free port P
"$KPSIM" broker --listen 127.0.0.1:0 >"$tmp/h.out" 2>&1 &
hp=$!; pids+=("$hp")
P=$(wait_port "$tmp/h.out" "$hp") || { echo "holder did not start"; cat "$tmp/h.out"; exit 1; }

# a fixed run that includes P as broker 1 (or P-1 itself is taken): exit 2
out=$(timeout 10 "$KPSIM" broker --listen "127.0.0.1:$((P - 1))" --brokers 3 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || { echo "fixed port run over a taken port: rc $rc, $out"; exit 1; }
grep -qE "cannot listen on 127\.0\.0\.1:($((P - 1))|$P \(broker 1\))" <<<"$out" || { echo "$out"; exit 1; }

# PORT 0 over a taken neighbour, in a network namespace of our own
if ! unshare -rn true 2>/dev/null; then
  echo "skip: unshare -rn cannot make a network namespace here (PORT 0 retry not exercised)"
  exit 0
fi
KPSIM_ABS=$(cd "$(dirname "$KPSIM")" && pwd)/$(basename "$KPSIM")
unshare -rn bash -s "$KPSIM_ABS" "$tmp" >"$tmp/ns.out" 2>&1 <<'INNER'
K=$1; T=$2
if command -v ip >/dev/null; then ip link set lo up || exit 3; else exit 3; fi
echo "40000 40007" >/proc/sys/net/ipv4/ip_local_port_range || exit 3
hs=()
for q in 40002 40004 40006; do
  "$K" broker --listen 127.0.0.1:$q >"$T/ns_holder$q.out" 2>&1 &
  hs+=($!)
  for _ in $(seq 1 100); do grep -q listening "$T/ns_holder$q.out" && break; sleep 0.05; done
  grep -q "listening on 127.0.0.1:$q" "$T/ns_holder$q.out" || { echo "holder on $q did not start"; exit 1; }
done
rc=0
for i in $(seq 1 10); do
  "$K" broker --listen 127.0.0.1:0 --brokers 2 >"$T/ns$i.out" 2>"$T/ns$i.err" &
  b=$!
  for _ in $(seq 1 100); do grep -q listening "$T/ns$i.out" && break; kill -0 $b 2>/dev/null || break; sleep 0.05; done
  if grep -q "2 broker(s) listening on 127.0.0.1:40007..40008" "$T/ns$i.out"; then echo "start $i: 40007..40008"
  else echo "start $i: did not come up on 40007..40008"; cat "$T/ns$i.out" "$T/ns$i.err"; rc=1; fi
  kill -TERM $b 2>/dev/null; wait $b 2>/dev/null
done
kill -TERM "${hs[@]}"; wait 2>/dev/null
exit $rc
INNER
rc=$?
if [ $rc -eq 3 ]; then
  echo "skip: no loopback or port range control in the namespace (PORT 0 retry not exercised)"
  exit 0
fi
[ $rc -eq 0 ] || { cat "$tmp/ns.out"; exit 1; }
exit 0
