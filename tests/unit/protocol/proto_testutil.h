/*
 * proto_testutil.h — helpers for the message codec tests (test_proto.c,
 * test_msg_*.c): hex vectors, encode/decode through the kp_proto.h
 * dispatch, the malformed-input checks every codec must pass, and the
 * fuzz seed writer.
 *
 * Seeds: when the environment variable KP_WRITE_CORPUS names a directory
 * (tests/fuzz/corpus), pt_roundtrip() writes every encoding it checks as a
 * seed for the fuzz targets (tests/fuzz/fuzz_proto_common.h has the input
 * formats): corpus/{req,resp}_<api>/ get a version selector byte + body,
 * corpus/req_all/ a whole request frame, corpus/resp_all/ api key +
 * version + a whole response frame.
 */
#ifndef PROTO_TESTUTIL_H
#define PROTO_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_proto.h"

#define PT_REQ true
#define PT_RESP false

/* Hex string (whitespace ignored) -> malloc'd bytes; *len set. */
uint8_t *pt_unhex(const char *hex, size_t *len);

/* Asserts buf[0..len) equals the hex string, printing both on mismatch. */
void pt_assert_hex(const uint8_t *buf, size_t len, const char *hex);

/* Body encoding through the dispatch, sized then written; malloc'd. */
uint8_t *pt_encode(bool request, int16_t api_key, int16_t version, const void *body, size_t *len);

/* Body decoding through the dispatch into *out (a kp_request_body or
 * kp_response_body). */
kp_err pt_decode(bool request, int16_t api_key, int16_t version, const uint8_t *buf, size_t len,
                 kp_arena *a, void *out);

/* The malformed-input contract, on one valid body encoding:
 *   - every strict prefix is rejected (no crash, no over-read under ASan:
 *     each prefix is decoded from its own exact-size heap copy);
 *   - one trailing byte is rejected with KP_ERR__BAD_MSG;
 *   - versions just outside the supported range give KP_ERR__UNSUPPORTED. */
void pt_check_malformed(bool request, int16_t api_key, int16_t version, const uint8_t *buf, size_t len);

/* Encode `body`, decode it into *out (using arena a), re-encode the
 * decoded struct and assert both encodings are equal, run
 * pt_check_malformed, and write the seed if KP_WRITE_CORPUS is set.
 * Returns the first encoding (malloc'd) and its length; *out holds the
 * decoded struct for the caller's field-by-field comparison. */
uint8_t *pt_roundtrip(bool request, int16_t api_key, int16_t version, const void *body, kp_arena *a,
                      void *out, size_t *len);

/* Writes a fuzz seed file `$KP_WRITE_CORPUS/target/name` (no-op when the
 * variable is unset): prefix bytes then data bytes. */
void pt_corpus_write(const char *target, const char *name, const uint8_t *prefix, size_t plen,
                     const uint8_t *data, size_t len);

/* Field comparison shortcuts. */
void pt_assert_slice_eq(kp_slice a, kp_slice b);

#endif
