/*
 * test_msg_api_versions.c — ApiVersions v0..v2: round trips, the v0-layout
 * UNSUPPORTED_VERSION answer, malformed input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto_testutil.h"

static void api_versions_request_roundtrips_every_version(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_api_versions_request m = { 0 };
    for (int16_t v = KP_API_VERSIONS_MIN_VERSION; v <= KP_API_VERSIONS_MAX_VERSION; v++) {
        kp_request_body out;
        size_t len;
        uint8_t *buf = pt_roundtrip(PT_REQ, KP_API_API_VERSIONS, v, &m, a, &out, &len);
        assert_int_equal(len, 0); /* empty body in v0..v2 */
        free(buf);
    }
    kp_arena_destroy(a);
}

static void api_versions_response_roundtrips_every_version(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_api_versions_response m = { KP_ERR_NONE, kp_api_supported_count, (kp_api_version *)kp_api_supported, 1234 };
    kp_api_version odd[] = { { -1, -5, 32767 }, { 32767, 0, -1 } };
    kp_api_versions_response m2 = { KP_ERR_UNSUPPORTED_VERSION, 2, odd, -1 };
    kp_api_versions_response m3 = { KP_ERR_CLUSTER_AUTHORIZATION_FAILED, 0, NULL, 0 };
    const kp_api_versions_response *ms[] = { &m, &m2, &m3 };
    for (size_t k = 0; k < 3; k++) {
        for (int16_t v = KP_API_VERSIONS_MIN_VERSION; v <= KP_API_VERSIONS_MAX_VERSION; v++) {
            kp_response_body out;
            size_t len;
            kp_arena_reset(a);
            uint8_t *buf = pt_roundtrip(PT_RESP, KP_API_API_VERSIONS, v, ms[k], a, &out, &len);
            const kp_api_versions_response *g = &out.api_versions;
            assert_int_equal(g->error_code, ms[k]->error_code);
            assert_int_equal(g->api_key_count, ms[k]->api_key_count);
            for (int32_t i = 0; i < g->api_key_count; i++) {
                assert_int_equal(g->api_keys[i].api_key, ms[k]->api_keys[i].api_key);
                assert_int_equal(g->api_keys[i].min_version, ms[k]->api_keys[i].min_version);
                assert_int_equal(g->api_keys[i].max_version, ms[k]->api_keys[i].max_version);
            }
            assert_int_equal(g->throttle_time_ms, v >= 1 ? ms[k]->throttle_time_ms : 0);
            assert_int_equal(len, 2 + 4 + 6 * (size_t)ms[k]->api_key_count + (v >= 1 ? 4 : 0));
            free(buf);
        }
    }
    kp_arena_destroy(a);
}

static void api_versions_unsupported_body_decodes_as_v0(void **state) {
    (void)state;
    kp_api_version keys[] = { { 18, 0, 2 } };
    uint8_t buf[32];
    kp_writer w;
    kp_wr_init(&w, buf, sizeof buf);
    kp_api_versions_response_encode_unsupported(&w, keys, 1);
    pt_assert_hex(buf, w.len, "0023" "00000001" "0012" "0000" "0002");
    kp_arena *a = kp_arena_new(0, 0);
    kp_response_body out;
    assert_int_equal(pt_decode(PT_RESP, KP_API_API_VERSIONS, 0, buf, w.len, a, &out), KP_ERR_NONE);
    assert_int_equal(out.api_versions.error_code, 35);
    assert_int_equal(out.api_versions.throttle_time_ms, 0);
    /* a v1 reader wants 4 more bytes: the answer is deliberately v0 */
    assert_int_equal(pt_decode(PT_RESP, KP_API_API_VERSIONS, 1, buf, w.len, a, &out), KP_ERR__TRUNCATED);
    kp_arena_destroy(a);
}

static void api_versions_malformed(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_response_body out;
    kp_request_body rout;
    size_t len;
    /* huge count, null array, negative count */
    const char *bad[] = { "00007fffffff000000000000", "0000ffffffff00000000", "0000fffffffe", "000080000000" };
    for (size_t i = 0; i < 4; i++) {
        uint8_t *buf = pt_unhex(bad[i], &len);
        kp_arena_reset(a);
        assert_int_equal(pt_decode(PT_RESP, KP_API_API_VERSIONS, 1, buf, len, a, &out), KP_ERR__BAD_MSG);
        free(buf);
    }
    assert_int_equal(kp_arena_used(a), 0);
    /* a non-empty request body is not v0..v2 */
    uint8_t one = 0;
    assert_int_equal(pt_decode(PT_REQ, KP_API_API_VERSIONS, 2, &one, 1, a, &rout), KP_ERR__BAD_MSG);
    assert_int_equal(pt_decode(PT_REQ, KP_API_API_VERSIONS, 3, &one, 0, a, &rout), KP_ERR__UNSUPPORTED);
    assert_int_equal(pt_decode(PT_REQ, KP_API_API_VERSIONS, -1, &one, 0, a, &rout), KP_ERR__UNSUPPORTED);
    kp_arena_destroy(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(api_versions_request_roundtrips_every_version),
        cmocka_unit_test(api_versions_response_roundtrips_every_version),
        cmocka_unit_test(api_versions_unsupported_body_decodes_as_v0),
        cmocka_unit_test(api_versions_malformed),
    };
    return cmocka_run_group_tests_name("msg_api_versions", tests, NULL, NULL);
}
