/*
 * fuzz_proto_common.h — shared body of the message codec fuzz targets
 * (tests/fuzz/fuzz_req_*.c, fuzz_resp_*.c). Each target is one line that
 * calls one of the functions below.
 *
 * Inputs:
 *   fuzz_{req,resp}_<api>  byte 0 picks the version (min + b % range), the
 *                          rest is the message body of that API.
 *   fuzz_req_all           a whole request frame: size, header v1, body
 *                          (dispatch on the header's api key and version).
 *   fuzz_resp_all          api_key int16, api_version int16, then a whole
 *                          response frame: size, correlation id, body.
 *
 * Oracle beyond "no crash, no sanitizer report": whatever decodes must
 * re-encode to the same length (the only lossy field is a BOOLEAN, where
 * any non-zero byte reads as true), and that re-encoding must decode and
 * re-encode to itself byte for byte. A failure aborts.
 *
 * Memory: one arena per process, bounded at 16 MiB, reset per input; the
 * bound is part of what is tested (a hostile count yields NOMEM/BAD_MSG).
 */
#ifndef FUZZ_PROTO_COMMON_H
#define FUZZ_PROTO_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_proto.h"

static inline kp_arena *fuzz_arena(void) {
    static kp_arena *a;
    if (!a) {
        a = kp_arena_new(0, 16u << 20);
        if (!a)
            abort();
    }
    kp_arena_reset(a);
    return a;
}

static inline void fuzz_check(bool ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz oracle failed: %s\n", what);
        abort();
    }
}

/* Encodes a body into a fresh heap buffer of exactly its size. */
static inline uint8_t *fuzz_encode_body(bool request, int16_t key, int16_t ver, const void *body, size_t *len) {
    kp_writer w;
    kp_wr_init(&w, NULL, 0);
    if (request)
        kp_request_body_encode(&w, key, ver, body);
    else
        kp_response_body_encode(&w, key, ver, body);
    size_t need = w.len;
    uint8_t *buf = malloc(need ? need : 1);
    kp_wr_init(&w, buf, need);
    if (request)
        kp_request_body_encode(&w, key, ver, body);
    else
        kp_response_body_encode(&w, key, ver, body);
    fuzz_check(w.err == KP_ERR_NONE && w.len == need, "sizing pass == writing pass");
    *len = need;
    return buf;
}

static inline kp_err fuzz_decode_body(bool request, int16_t key, int16_t ver, const uint8_t *buf, size_t len,
                               kp_arena *a, void *out) {
    kp_reader r;
    kp_rd_init(&r, buf, len);
    if (request)
        return kp_request_body_decode(&r, key, ver, a, out);
    return kp_response_body_decode(&r, key, ver, a, out);
}

/* decoded `first` (from `in_len` input bytes) -> encode -> decode ->
 * encode: lengths equal, last two encodings identical. */
static inline void fuzz_reencode(bool request, int16_t key, int16_t ver, const void *first, size_t in_len) {
    union {
        kp_request_body req;
        kp_response_body resp;
    } second;
    kp_arena *a2 = kp_arena_new(0, 16u << 20);
    size_t n1, n2;
    uint8_t *b1 = fuzz_encode_body(request, key, ver, first, &n1);
    fuzz_check(n1 == in_len, "re-encoding has the input's length");
    fuzz_check(fuzz_decode_body(request, key, ver, b1, n1, a2, &second) == KP_ERR_NONE,
               "re-encoding decodes");
    uint8_t *b2 = fuzz_encode_body(request, key, ver, &second, &n2);
    fuzz_check(n1 == n2 && memcmp(b1, b2, n1) == 0, "encode(decode(encode(x))) == encode(x)");
    free(b1);
    free(b2);
    kp_arena_destroy(a2);
}

static inline int fuzz_proto_body(bool request, int16_t key, const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    const kp_api_version *range = kp_api_supported_range(key);
    int16_t ver = (int16_t)(range->min_version + data[0] % (range->max_version - range->min_version + 1));
    /* an exact-size heap copy, so ASan sees any read past the end */
    size_t len = size - 1;
    uint8_t *body = malloc(len ? len : 1);
    memcpy(body, data + 1, len);
    union {
        kp_request_body req;
        kp_response_body resp;
    } out;
    if (fuzz_decode_body(request, key, ver, body, len, fuzz_arena(), &out) == KP_ERR_NONE)
        fuzz_reencode(request, key, ver, &out, len);
    free(body);
    return 0;
}

static inline int fuzz_proto_request_frame(const uint8_t *data, size_t size) {
    size_t flen;
    if (kp_frame_peek(data, size, KP_FRAME_MAX_DEFAULT, &flen) != KP_ERR_NONE)
        return 0;
    uint8_t *frame = malloc(flen ? flen : 1);
    memcpy(frame, data, flen);
    kp_request req;
    kp_err err = kp_request_frame_decode(frame, flen, fuzz_arena(), &req);
    if (err == KP_ERR_NONE) {
        /* header + body re-encoded as a frame has the same length */
        kp_writer w;
        kp_wr_init(&w, NULL, 0);
        kp_request_frame_encode(&w, &req.hdr, &req.body);
        fuzz_check(w.len == flen, "request frame re-encodes to its length");
        kp_reader r;
        kp_rd_init(&r, frame + 4, flen - 4);
        kp_request_header h;
        fuzz_check(kp_request_header_decode(&r, &h) == KP_ERR_NONE, "header decodes again");
        fuzz_reencode(true, req.hdr.api_key, req.hdr.api_version, &req.body, kp_rd_remaining(&r));
    } else if (err == KP_ERR__UNSUPPORTED && req.hdr.api_key == KP_API_API_VERSIONS) {
        /* what a broker answers: must be a well-formed v0 response */
        uint8_t out[256];
        kp_writer w;
        kp_wr_init(&w, out, sizeof out);
        kp_api_versions_unsupported_frame_encode(&w, req.hdr.correlation_id, kp_api_supported,
                                                 kp_api_supported_count);
        kp_response resp;
        fuzz_check(w.err == KP_ERR_NONE &&
                       kp_response_frame_decode(out, w.len, KP_API_API_VERSIONS, 0, fuzz_arena(), &resp) ==
                           KP_ERR_NONE &&
                       resp.hdr.correlation_id == req.hdr.correlation_id,
                   "UNSUPPORTED_VERSION answer decodes as ApiVersions v0");
    }
    free(frame);
    return 0;
}

static inline int fuzz_proto_response_frame(const uint8_t *data, size_t size) {
    if (size < 4)
        return 0;
    int16_t key = (int16_t)kp_be16_get(data);
    int16_t ver = (int16_t)kp_be16_get(data + 2);
    size_t flen;
    if (kp_frame_peek(data + 4, size - 4, KP_FRAME_MAX_DEFAULT, &flen) != KP_ERR_NONE)
        return 0;
    uint8_t *frame = malloc(flen ? flen : 1);
    memcpy(frame, data + 4, flen);
    kp_response resp;
    if (kp_response_frame_decode(frame, flen, key, ver, fuzz_arena(), &resp) == KP_ERR_NONE) {
        kp_writer w;
        kp_wr_init(&w, NULL, 0);
        kp_response_frame_encode(&w, key, ver, resp.hdr.correlation_id, &resp.body);
        fuzz_check(w.len == flen, "response frame re-encodes to its length");
        fuzz_reencode(false, key, ver, &resp.body, flen - 8);
    }
    free(frame);
    return 0;
}

#endif
