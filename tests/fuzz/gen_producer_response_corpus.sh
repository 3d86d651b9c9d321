#!/usr/bin/env bash
# gen_producer_response_corpus.sh — regenerate the seed corpus of
# fuzz_producer_response (tests/fuzz/corpus/producer_response/) with
# tests/fuzz/gen_producer_response_corpus.c: ProduceResponse v7 answers
# encoded by protocol/kp_msg_produce.c under several flag bytes, and whole
# frames for raw mode. Deterministic (files are named by their content).
# The regression inputs regress-* (found by fuzzing) are kept.
#
#   tests/fuzz/gen_producer_response_corpus.sh [BUILD_DIR]   (default build)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
make --no-print-directory BUILD="$BUILD" "$BUILD/lib/libkp_protocol.a" >/dev/null
mkdir -p "$BUILD/fuzz"
gen=$BUILD/fuzz/gen_producer_response_corpus
${CC:-cc} -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -Iprotocol \
  tests/fuzz/gen_producer_response_corpus.c "$BUILD/lib/libkp_protocol.a" \
  $(pkg-config --libs zlib liblz4 libzstd snappy 2>/dev/null || echo -lz -llz4 -lzstd -lsnappy) -lm -o "$gen"
out=tests/fuzz/corpus/producer_response
# generated seeds only: regress-* (inputs that once crashed) stay
mkdir -p "$out"
rm -f "$out"/seed-*
"$gen" "$out"
