/*
 * kp_msg_api_versions.c — ApiVersions v0..v2 codecs. Layouts: the header.
 */
#include "kp_msg_api_versions.h"

#include "kp_msg_internal.h"

void kp_api_versions_request_encode(kp_writer *w, int16_t version, const kp_api_versions_request *m) {
    assert(kp__version_ok(version, KP_API_VERSIONS_MIN_VERSION, KP_API_VERSIONS_MAX_VERSION));
    (void)w;
    (void)m; /* empty body */
}

kp_err kp_api_versions_request_decode(kp_reader *r, int16_t version, kp_arena *a,
                                      kp_api_versions_request *out) {
    (void)a;
    if (!kp__version_ok(version, KP_API_VERSIONS_MIN_VERSION, KP_API_VERSIONS_MAX_VERSION))
        return KP_ERR__UNSUPPORTED;
    out->unused_ = 0;
    return kp__rd_finish(r);
}

static void kp_api_versions_body_encode(kp_writer *w, int16_t error_code, const kp_api_version *keys,
                                        int32_t count) {
    kp_wr_i16(w, error_code);
    kp__wr_count(w, count, false);
    for (int32_t i = 0; i < count; i++) {
        kp_wr_i16(w, keys[i].api_key);
        kp_wr_i16(w, keys[i].min_version);
        kp_wr_i16(w, keys[i].max_version);
    }
}

void kp_api_versions_response_encode(kp_writer *w, int16_t version, const kp_api_versions_response *m) {
    assert(kp__version_ok(version, KP_API_VERSIONS_MIN_VERSION, KP_API_VERSIONS_MAX_VERSION));
    kp_api_versions_body_encode(w, m->error_code, m->api_keys, m->api_key_count);
    if (version >= 1)
        kp_wr_i32(w, m->throttle_time_ms);
}

void kp_api_versions_response_encode_unsupported(kp_writer *w, const kp_api_version *api_keys,
                                                 int32_t api_key_count) {
    kp_api_versions_body_encode(w, KP_ERR_UNSUPPORTED_VERSION, api_keys, api_key_count);
}

kp_err kp_api_versions_response_decode(kp_reader *r, int16_t version, kp_arena *a,
                                       kp_api_versions_response *out) {
    if (!kp__version_ok(version, KP_API_VERSIONS_MIN_VERSION, KP_API_VERSIONS_MAX_VERSION))
        return KP_ERR__UNSUPPORTED;
    *out = (kp_api_versions_response){ 0 };
    out->error_code = kp_rd_i16(r);
    int32_t n = kp_rd_array_len(r, 6, false);
    out->api_keys = kp__rd_alloc(r, a, n, sizeof *out->api_keys);
    for (int32_t i = 0; i < n && !r->err; i++) {
        out->api_keys[i].api_key = kp_rd_i16(r);
        out->api_keys[i].min_version = kp_rd_i16(r);
        out->api_keys[i].max_version = kp_rd_i16(r);
    }
    out->api_key_count = r->err ? 0 : n;
    if (version >= 1)
        out->throttle_time_ms = kp_rd_i32(r);
    return kp__rd_finish(r);
}
