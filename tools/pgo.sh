#!/usr/bin/env bash
# pgo.sh DIR PLAIN — build DIR/kpsim with gcc's profile-guided optimisation.
#
#   1. DIR/kpsim instrumented (PGO_PHASE=gen: -fprofile-generate);
#   2. training: the bench workloads at small sizes and every catalog
#      scenario, run by that binary; each object's counters land in its
#      DIR/obj/.../NAME.gcda when the process exits;
#   3. the objects rebuilt from the same paths with the counts
#      (PGO_PHASE=use: -fprofile-use -fprofile-partial-training), so
#      branches are laid out and functions inlined by how often they ran.
#      Code the training never reached is optimised as in the plain build,
#      not for size (-fprofile-partial-training);
#   4. tests/bench/pgo_same.sh: the new binary must print the same run
#      digest as PLAIN (the ordinary build) for every scenario it is given;
#      otherwise it is deleted and this script fails.
#
# Called by the Makefile's $(PGO_BUILD)/kpsim rule (`make pgo`, `make
# bench`, `make bench-compare`). The simulation is deterministic, so the
# training and its counts are the same on every run: the binary is
# reproducible for a given compiler. MAKE names the make to call (default
# make); extra make arguments (CC=..., O=...) come from PGO_MAKEFLAGS.
set -u
cd "$(dirname "$0")/.."
DIR=${1:?usage: tools/pgo.sh DIR PLAIN_KPSIM}
PLAIN=${2:?usage: tools/pgo.sh DIR PLAIN_KPSIM}
MAKE=${MAKE:-make}
# shellcheck disable=SC2086
sub() { $MAKE --no-print-directory -s BUILD="$DIR" ${PGO_MAKEFLAGS:-} "$@"; }

clean_objects() {
  rm -rf "$DIR/lib" "$DIR/kpsim"
  [ -d "$DIR/obj" ] && find "$DIR/obj" -name '*.o' -delete
  return 0
}

rm -rf "$DIR/obj"
clean_objects
echo "pgo: building the instrumented binary ($DIR/kpsim)"
sub PGO_PHASE=gen "$DIR/kpsim" || exit 1

echo "pgo: training"
K="$DIR/kpsim"
train() {
  "$@" >/dev/null 2>&1 || { echo "pgo: training step failed: $*" >&2; exit 1; }
}
train "$K" bench --only throughput --records 200000 --in-process
train "$K" bench --only quiet-hour --records 40000 --in-process
train "$K" bench --only faults --in-process
for c in gzip snappy lz4 zstd; do
  train "$K" bench --only compression-$c --records 20000 --in-process
done
train "$K" bench --only sweep --seeds 8 --jobs 1
for f in scenarios/catalog/*.textpb; do
  "$K" run "$f" >/dev/null 2>&1   # a scenario that fails its expectations still trains
done

echo "pgo: building with the profile"
clean_objects
sub PGO_PHASE=use "$DIR/kpsim" || exit 1

if ! tests/bench/pgo_same.sh "$PLAIN" "$DIR/kpsim"; then
  rm -f "$DIR/kpsim"
  echo "pgo: $DIR/kpsim does not print the plain build's digests; deleted" >&2
  exit 1
fi
