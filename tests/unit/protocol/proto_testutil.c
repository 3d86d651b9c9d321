/*
 * proto_testutil.c — see proto_testutil.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto_testutil.h"

uint8_t *pt_unhex(const char *hex, size_t *len) {
    size_t n = strlen(hex);
    uint8_t *out = malloc(n / 2 + 1);
    assert_non_null(out);
    size_t k = 0;
    int hi = -1;
    for (size_t i = 0; i < n; i++) {
        char c = hex[i];
        int v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            out[k++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    assert_int_equal(hi, -1); /* odd number of digits is a typo */
    *len = k;
    return out;
}

void pt_assert_hex(const uint8_t *buf, size_t len, const char *hex) {
    size_t n;
    uint8_t *want = pt_unhex(hex, &n);
    if (n != len || memcmp(buf, want, n) != 0) {
        fprintf(stderr, "want %s\ngot  ", hex);
        for (size_t i = 0; i < len; i++)
            fprintf(stderr, "%02x", buf[i]);
        fprintf(stderr, "\n");
    }
    assert_int_equal(len, n);
    assert_memory_equal(buf, want, n);
    free(want);
}

uint8_t *pt_encode(bool request, int16_t api_key, int16_t version, const void *body, size_t *len) {
    kp_writer w;
    kp_wr_init(&w, NULL, 0);
    if (request)
        kp_request_body_encode(&w, api_key, version, body);
    else
        kp_response_body_encode(&w, api_key, version, body);
    size_t need = w.len;
    uint8_t *buf = malloc(need ? need : 1);
    assert_non_null(buf);
    kp_wr_init(&w, buf, need);
    if (request)
        kp_request_body_encode(&w, api_key, version, body);
    else
        kp_response_body_encode(&w, api_key, version, body);
    assert_int_equal(w.err, KP_ERR_NONE);
    assert_int_equal(w.len, need);
    *len = need;
    return buf;
}

kp_err pt_decode(bool request, int16_t api_key, int16_t version, const uint8_t *buf, size_t len,
                 kp_arena *a, void *out) {
    kp_reader r;
    kp_rd_init(&r, buf, len);
    if (request)
        return kp_request_body_decode(&r, api_key, version, a, out);
    return kp_response_body_decode(&r, api_key, version, a, out);
}

void pt_check_malformed(bool request, int16_t api_key, int16_t version, const uint8_t *buf, size_t len) {
    kp_arena *a = kp_arena_new(0, 0);
    union {
        kp_request_body req;
        kp_response_body resp;
    } out;
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, buf, n);
        kp_arena_reset(a);
        kp_err err = pt_decode(request, api_key, version, copy, n, a, &out);
        if (err == KP_ERR_NONE)
            fail_msg("%s %s v%d: prefix of %zu of %zu bytes accepted", kp_api_name(api_key),
                     request ? "request" : "response", version, n, len);
        assert_true(err == KP_ERR__TRUNCATED || err == KP_ERR__BAD_MSG);
        free(copy);
    }
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    kp_arena_reset(a);
    assert_int_equal(pt_decode(request, api_key, version, longer, len + 1, a, &out), KP_ERR__BAD_MSG);
    free(longer);

    const kp_api_version *range = kp_api_supported_range(api_key);
    assert_non_null(range);
    assert_int_equal(pt_decode(request, api_key, range->min_version - 1, buf, len, a, &out),
                     KP_ERR__UNSUPPORTED);
    assert_int_equal(pt_decode(request, api_key, range->max_version + 1, buf, len, a, &out),
                     KP_ERR__UNSUPPORTED);
    kp_arena_destroy(a);
}

static const char *pt_short_name(int16_t api_key) {
    switch (api_key) {
    case KP_API_PRODUCE: return "produce";
    case KP_API_FETCH: return "fetch";
    case KP_API_LIST_OFFSETS: return "list_offsets";
    case KP_API_METADATA: return "metadata";
    case KP_API_FIND_COORDINATOR: return "find_coordinator";
    case KP_API_API_VERSIONS: return "api_versions";
    case KP_API_INIT_PRODUCER_ID: return "init_producer_id";
    case KP_API_ADD_PARTITIONS_TO_TXN: return "add_partitions_to_txn";
    case KP_API_END_TXN: return "end_txn";
    }
    return "unknown";
}

void pt_corpus_write(const char *target, const char *name, const uint8_t *prefix, size_t plen,
                     const uint8_t *data, size_t len) {
    const char *root = getenv("KP_WRITE_CORPUS");
    if (!root || !*root)
        return;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, target);
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        fail_msg("mkdir %s: %s", path, strerror(errno));
    snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        fail_msg("open %s: %s", path, strerror(errno));
    if (plen)
        fwrite(prefix, 1, plen, f);
    if (len)
        fwrite(data, 1, len, f);
    fclose(f);
}

/* Seeds for fuzz_{req,resp}_<api> (version selector byte + body) and
 * fuzz_{req,resp}_all (a whole request frame; api key + version + a whole
 * response frame). Names are made unique by a per-process counter. */
static void pt_write_seeds(bool request, int16_t api_key, int16_t version, const uint8_t *body, size_t len) {
    static unsigned seq;
    if (!getenv("KP_WRITE_CORPUS"))
        return;
    const kp_api_version *range = kp_api_supported_range(api_key);
    const char *side = request ? "req" : "resp";
    char target[64], name[64];
    snprintf(target, sizeof target, "%s_%s", side, pt_short_name(api_key));
    snprintf(name, sizeof name, "v%d_%03u", version, seq++);
    uint8_t sel = (uint8_t)(version - range->min_version);
    pt_corpus_write(target, name, &sel, 1, body, len);

    snprintf(target, sizeof target, "%s_all", side);
    snprintf(name, sizeof name, "%s_v%d_%03u", pt_short_name(api_key), version, seq++);
    uint8_t *frame = malloc(len + 64);
    kp_writer w;
    kp_wr_init(&w, frame, len + 64);
    if (request) {
        kp_request_header h = { api_key, version, 7, kp_slice_str("producer-1") };
        size_t begin = kp_frame_begin(&w);
        kp_request_header_encode(&w, &h);
        kp_wr_raw(&w, body, len);
        kp_frame_end(&w, begin);
    } else {
        kp_wr_i16(&w, api_key);
        kp_wr_i16(&w, version);
        size_t begin = kp_frame_begin(&w);
        kp_wr_i32(&w, 7);
        kp_wr_raw(&w, body, len);
        kp_frame_end(&w, begin);
    }
    assert_int_equal(w.err, KP_ERR_NONE);
    pt_corpus_write(target, name, NULL, 0, frame, w.len);
    free(frame);
}

uint8_t *pt_roundtrip(bool request, int16_t api_key, int16_t version, const void *body, kp_arena *a,
                      void *out, size_t *len) {
    size_t n1, n2;
    uint8_t *b1 = pt_encode(request, api_key, version, body, &n1);
    kp_err err = pt_decode(request, api_key, version, b1, n1, a, out);
    if (err)
        fail_msg("%s %s v%d: decode of own encoding failed: %s", kp_api_name(api_key),
                 request ? "request" : "response", version, kp_err_name(err));
    uint8_t *b2 = pt_encode(request, api_key, version, out, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    free(b2);
    pt_check_malformed(request, api_key, version, b1, n1);
    pt_write_seeds(request, api_key, version, b1, n1);
    *len = n1;
    return b1;
}

void pt_assert_slice_eq(kp_slice a, kp_slice b) {
    if (!kp_slice_eq(a, b))
        fail_msg("slice mismatch: len %d vs %d ('%.*s' vs '%.*s')", a.len, b.len, a.len > 0 ? a.len : 0,
                 a.ptr ? (const char *)a.ptr : "", b.len > 0 ? b.len : 0, b.ptr ? (const char *)b.ptr : "");
}
