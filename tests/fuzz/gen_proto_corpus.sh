#!/usr/bin/env bash
# gen_proto_corpus.sh — regenerate the seed corpora of the message codec
# fuzz targets (tests/fuzz/corpus/{req,resp}_*/) from the protocol unit
# tests: every KAFKA_FACTS.md vector (test_proto) and every round-trip
# encoding at every version (test_msg_*), written through KP_WRITE_CORPUS.
#
#   tests/fuzz/gen_proto_corpus.sh [BUILD_DIR]     (default build)
#
# Builds the protocol unit tests in BUILD_DIR first. Deterministic: the same
# tests write the same files.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
make --no-print-directory BUILD="$BUILD" \
  "$BUILD/tests/protocol/test_proto" \
  $(ls tests/unit/protocol/test_msg_*.c | sed -E "s#tests/unit/protocol/(.*)\.c#$BUILD/tests/protocol/\1#") >/dev/null
rm -rf tests/fuzz/corpus/req_* tests/fuzz/corpus/resp_*
mkdir -p tests/fuzz/corpus
for t in "$BUILD/tests/protocol/test_proto" "$BUILD"/tests/protocol/test_msg_*; do
  KP_WRITE_CORPUS=$PWD/tests/fuzz/corpus "$t" >/dev/null 2>&1 || { echo "$t failed" >&2; exit 1; }
done
for d in tests/fuzz/corpus/req_* tests/fuzz/corpus/resp_*; do
  echo "$(basename "$d"): $(ls "$d" | wc -l) seeds"
done
