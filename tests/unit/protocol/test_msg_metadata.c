/*
 * test_msg_metadata.c — Metadata v1..v7: round trips at every version
 * (null/empty/several topics; brokers with and without rack; partitions
 * without leader, with offline replicas), defaults of absent fields,
 * malformed input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto_testutil.h"

static void metadata_request_roundtrips_every_version(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_slice topics[] = { kp_slice_str("test"), kp_slice_str(""), kp_slice_str("__consumer_offsets") };
    kp_metadata_request ms[] = {
        { 3, topics, false },
        { -1, NULL, true }, /* all topics */
        { 0, NULL, false }, /* no topics */
    };
    for (size_t k = 0; k < 3; k++) {
        for (int16_t v = KP_METADATA_MIN_VERSION; v <= KP_METADATA_MAX_VERSION; v++) {
            kp_request_body out;
            size_t len;
            kp_arena_reset(a);
            uint8_t *buf = pt_roundtrip(PT_REQ, KP_API_METADATA, v, &ms[k], a, &out, &len);
            const kp_metadata_request *g = &out.metadata;
            assert_int_equal(g->topic_count, ms[k].topic_count);
            for (int32_t i = 0; i < g->topic_count; i++)
                pt_assert_slice_eq(g->topics[i], ms[k].topics[i]);
            /* absent before v4: Kafka's default is true */
            assert_int_equal(g->allow_auto_topic_creation, v >= 4 ? ms[k].allow_auto_topic_creation : true);
            free(buf);
        }
    }
    kp_arena_destroy(a);
}

static kp_metadata_response sample_response(void) {
    static kp_metadata_broker brokers[] = {
        { 0, { (const uint8_t *)"localhost", 9 }, 9092, { NULL, -1 } },
        { 1, { (const uint8_t *)"b1.example", 10 }, 19092, { (const uint8_t *)"rack-a", 6 } },
        { -7, { (const uint8_t *)"", 0 }, -1, { (const uint8_t *)"", 0 } },
    };
    static int32_t r012[] = { 0, 1, 2 };
    static int32_t r1[] = { 1 };
    static int32_t rneg[] = { -1, 2147483647 };
    static kp_metadata_partition p1[] = {
        { 0, 0, 0, 5, 3, r012, 2, r012, 1, r1 },
        { KP_ERR_LEADER_NOT_AVAILABLE, 1, -1, -1, 2, rneg, 0, NULL, 0, NULL },
    };
    static kp_metadata_partition p2[] = {
        { KP_ERR_NONE, 2147483647, 1, 2147483647, 1, r1, 1, r1, 2, rneg },
    };
    static kp_metadata_topic topics[] = {
        { 0, { (const uint8_t *)"test", 4 }, false, 2, p1 },
        { KP_ERR_UNKNOWN_TOPIC_OR_PARTITION, { (const uint8_t *)"gone", 4 }, false, 0, NULL },
        { 0, { (const uint8_t *)"__transaction_state", 19 }, true, 1, p2 },
    };
    return (kp_metadata_response){ 77, 3, brokers, { (const uint8_t *)"cluster-1", 9 }, 1, 3, topics };
}

static void assert_i32s(const int32_t *a, int32_t na, const int32_t *b, int32_t nb) {
    assert_int_equal(na, nb);
    for (int32_t i = 0; i < na; i++)
        assert_int_equal(a[i], b[i]);
}

static void metadata_response_roundtrips_every_version(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_metadata_response base = sample_response();
    kp_metadata_response nulls = base;
    nulls.cluster_id = KP_SLICE_NULL;
    nulls.controller_id = -1;
    const kp_metadata_response *ms[] = { &base, &nulls };
    for (size_t k = 0; k < 2; k++) {
        const kp_metadata_response *m = ms[k];
        for (int16_t v = KP_METADATA_MIN_VERSION; v <= KP_METADATA_MAX_VERSION; v++) {
            kp_response_body out;
            size_t len;
            kp_arena_reset(a);
            uint8_t *buf = pt_roundtrip(PT_RESP, KP_API_METADATA, v, m, a, &out, &len);
            const kp_metadata_response *g = &out.metadata;
            assert_int_equal(g->throttle_time_ms, v >= 3 ? m->throttle_time_ms : 0);
            assert_int_equal(g->broker_count, m->broker_count);
            for (int32_t i = 0; i < m->broker_count; i++) {
                assert_int_equal(g->brokers[i].node_id, m->brokers[i].node_id);
                pt_assert_slice_eq(g->brokers[i].host, m->brokers[i].host);
                assert_int_equal(g->brokers[i].port, m->brokers[i].port);
                pt_assert_slice_eq(g->brokers[i].rack, m->brokers[i].rack);
            }
            pt_assert_slice_eq(g->cluster_id, v >= 2 ? m->cluster_id : KP_SLICE_NULL);
            assert_int_equal(g->controller_id, m->controller_id);
            assert_int_equal(g->topic_count, m->topic_count);
            for (int32_t i = 0; i < m->topic_count; i++) {
                const kp_metadata_topic *et = &m->topics[i], *gt = &g->topics[i];
                assert_int_equal(gt->error_code, et->error_code);
                pt_assert_slice_eq(gt->topic, et->topic);
                assert_int_equal(gt->is_internal, et->is_internal);
                assert_int_equal(gt->partition_count, et->partition_count);
                for (int32_t j = 0; j < et->partition_count; j++) {
                    const kp_metadata_partition *e = &et->partitions[j], *p = &gt->partitions[j];
                    assert_int_equal(p->error_code, e->error_code);
                    assert_int_equal(p->partition, e->partition);
                    assert_int_equal(p->leader, e->leader);
                    assert_int_equal(p->leader_epoch, v >= 7 ? e->leader_epoch : -1);
                    assert_i32s(p->replicas, p->replica_count, e->replicas, e->replica_count);
                    assert_i32s(p->isr, p->isr_count, e->isr, e->isr_count);
                    if (v >= 5)
                        assert_i32s(p->offline_replicas, p->offline_replica_count, e->offline_replicas,
                                    e->offline_replica_count);
                    else
                        assert_int_equal(p->offline_replica_count, 0);
                }
            }
            free(buf);
        }
    }
    kp_arena_destroy(a);
}

static void metadata_malformed(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_request_body rq;
    kp_response_body rs;
    size_t len;
    /* request: null topic name inside the array; count below -1; huge count */
    const char *bad_req[] = { "00000001ffff01", "fffffffe01", "7fffffff0000000000" };
    for (size_t i = 0; i < 3; i++) {
        uint8_t *buf = pt_unhex(bad_req[i], &len);
        assert_int_equal(pt_decode(PT_REQ, KP_API_METADATA, 4, buf, len, a, &rq), KP_ERR__BAD_MSG);
        free(buf);
    }
    /* response v7: brokers count 0x01000000 with a handful of bytes */
    uint8_t *buf = pt_unhex("00000000" "01000000" "00000000000161000000000000", &len);
    assert_int_equal(pt_decode(PT_RESP, KP_API_METADATA, 7, buf, len, a, &rs), KP_ERR__BAD_MSG);
    free(buf);
    /* broker host null (non-nullable) */
    buf = pt_unhex("00000000" "00000001" "00000000ffff00002384ffff" "ffff" "00000000" "00000000", &len);
    assert_int_equal(pt_decode(PT_RESP, KP_API_METADATA, 7, buf, len, a, &rs), KP_ERR__BAD_MSG);
    free(buf);
    /* replicas count huge inside a partition */
    buf = pt_unhex("00000000" "00000000" "ffff" "00000000" "00000001" "0000" "000174" "00" "00000001"
                   "0000" "00000000" "00000000" "00000000" "7fffffff" "00000000" "00000000",
                   &len);
    kp_arena_reset(a);
    assert_int_equal(pt_decode(PT_RESP, KP_API_METADATA, 7, buf, len, a, &rs), KP_ERR__BAD_MSG);
    free(buf);
    kp_arena_destroy(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(metadata_request_roundtrips_every_version),
        cmocka_unit_test(metadata_response_roundtrips_every_version),
        cmocka_unit_test(metadata_malformed),
    };
    return cmocka_run_group_tests_name("msg_metadata", tests, NULL, NULL);
}
