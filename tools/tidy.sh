#!/usr/bin/env bash
# tidy.sh — determinism guard: real clocks, real randomness, sleeping,
# sockets and threads may appear only in the files that implement the seams
# (simnet/live*.c: the real clock and the socket transport). Everything else
# in producer/, broker_mock/ and simnet/ gets them through kp_env.
set -u
cd "$(dirname "$0")/.."
pat='\b(time|gettimeofday|clock_gettime|rand|random|srand|srandom|usleep|nanosleep|sleep|socket|poll|select|epoll_wait|pthread_[a-z_]+|getpid|arc4random|getrandom)[[:space:]]*\('
# Comments are stripped first (they quote Java: "time.sleep(retryBackoffMs)").
hits=$(for f in producer/*.c producer/*.h broker_mock/*.c broker_mock/*.h simnet/*.c simnet/*.h; do
         [ -f "$f" ] || continue
         case "$f" in simnet/live*) continue ;; esac
         sed -E 's#/\*.*\*/##g; s#//.*$##; s#^[[:space:]]*(/\*|\*).*$##' "$f" | grep -nE "$pat" | sed "s#^#$f:#"
       done | grep -vE 'kp_[a-z_]*(time|poll|sleep)' )
if [ -n "$hits" ]; then
  echo "tidy: real clock/randomness/socket/thread use outside the seams:" >&2
  echo "$hits" >&2
  exit 1
fi
echo "tidy: ok"
