/*
 * test_msg_fetch.c — ListOffsets v1..v3 and Fetch v4..v10: round trips at
 * every version (sessions and forgotten topics from v7, current leader
 * epoch from v9, aborted transactions null / empty / several, null record
 * sets), defaults of absent fields, malformed input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto_testutil.h"

/* ---- ListOffsets ----------------------------------------------------- */

static void list_offsets_roundtrips_every_version(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_list_offsets_partition pa[] = {
        { 0, KP_LIST_OFFSETS_LATEST }, { 1, KP_LIST_OFFSETS_EARLIEST }, { 2, 1700000000000LL },
    };
    kp_list_offsets_partition pb[] = { { -1, INT64_MIN } };
    kp_list_offsets_topic topics[] = {
        { kp_slice_str("test"), 3, pa }, { kp_slice_str("x"), 1, pb }, { kp_slice_str("none"), 0, NULL },
    };
    kp_list_offsets_request req = { -1, KP_ISOLATION_READ_COMMITTED, 3, topics };
    kp_list_offsets_partition_response ra[] = {
        { 0, KP_ERR_NONE, -1, 42 }, { 1, KP_ERR_NOT_LEADER_FOR_PARTITION, -1, -1 },
        { 2, KP_ERR_NONE, 1700000000000LL, 9 },
    };
    kp_list_offsets_topic_response tr[] = { { kp_slice_str("test"), 3, ra }, { kp_slice_str("y"), 0, NULL } };
    kp_list_offsets_response resp = { 33, 2, tr };

    for (int16_t v = KP_LIST_OFFSETS_MIN_VERSION; v <= KP_LIST_OFFSETS_MAX_VERSION; v++) {
        kp_request_body rq;
        kp_response_body rs;
        size_t len;
        kp_arena_reset(a);
        uint8_t *buf = pt_roundtrip(PT_REQ, KP_API_LIST_OFFSETS, v, &req, a, &rq, &len);
        const kp_list_offsets_request *g = &rq.list_offsets;
        assert_int_equal(g->replica_id, -1);
        assert_int_equal(g->isolation_level, v >= 2 ? KP_ISOLATION_READ_COMMITTED : KP_ISOLATION_READ_UNCOMMITTED);
        assert_int_equal(g->topic_count, 3);
        for (int32_t i = 0; i < 3; i++) {
            pt_assert_slice_eq(g->topics[i].topic, topics[i].topic);
            assert_int_equal(g->topics[i].partition_count, topics[i].partition_count);
            for (int32_t j = 0; j < topics[i].partition_count; j++) {
                assert_int_equal(g->topics[i].partitions[j].partition, topics[i].partitions[j].partition);
                assert_int_equal(g->topics[i].partitions[j].timestamp, topics[i].partitions[j].timestamp);
            }
        }
        free(buf);
        buf = pt_roundtrip(PT_RESP, KP_API_LIST_OFFSETS, v, &resp, a, &rs, &len);
        const kp_list_offsets_response *gr = &rs.list_offsets;
        assert_int_equal(gr->throttle_time_ms, v >= 2 ? 33 : 0);
        assert_int_equal(gr->topic_count, 2);
        for (int32_t i = 0; i < 2; i++) {
            pt_assert_slice_eq(gr->topics[i].topic, tr[i].topic);
            assert_int_equal(gr->topics[i].partition_count, tr[i].partition_count);
            for (int32_t j = 0; j < tr[i].partition_count; j++) {
                const kp_list_offsets_partition_response *e = &tr[i].partitions[j], *p = &gr->topics[i].partitions[j];
                assert_int_equal(p->partition, e->partition);
                assert_int_equal(p->error_code, e->error_code);
                assert_int_equal(p->timestamp, e->timestamp);
                assert_int_equal(p->offset, e->offset);
            }
        }
        free(buf);
    }
    kp_arena_destroy(a);
}

/* ---- Fetch ----------------------------------------------------------- */

static void assert_fetch_request(const kp_fetch_request *e, const kp_fetch_request *g, int16_t v) {
    assert_int_equal(g->replica_id, e->replica_id);
    assert_int_equal(g->max_wait_ms, e->max_wait_ms);
    assert_int_equal(g->min_bytes, e->min_bytes);
    assert_int_equal(g->max_bytes, e->max_bytes);
    assert_int_equal(g->isolation_level, e->isolation_level);
    assert_int_equal(g->session_id, v >= 7 ? e->session_id : 0);
    assert_int_equal(g->session_epoch, v >= 7 ? e->session_epoch : -1);
    assert_int_equal(g->topic_count, e->topic_count);
    for (int32_t i = 0; i < e->topic_count; i++) {
        pt_assert_slice_eq(g->topics[i].topic, e->topics[i].topic);
        assert_int_equal(g->topics[i].partition_count, e->topics[i].partition_count);
        for (int32_t j = 0; j < e->topics[i].partition_count; j++) {
            const kp_fetch_partition *ep = &e->topics[i].partitions[j], *gp = &g->topics[i].partitions[j];
            assert_int_equal(gp->partition, ep->partition);
            assert_int_equal(gp->current_leader_epoch, v >= 9 ? ep->current_leader_epoch : -1);
            assert_int_equal(gp->fetch_offset, ep->fetch_offset);
            assert_int_equal(gp->log_start_offset, v >= 5 ? ep->log_start_offset : -1);
            assert_int_equal(gp->partition_max_bytes, ep->partition_max_bytes);
        }
    }
    if (v < 7) {
        assert_int_equal(g->forgotten_topic_count, 0);
        return;
    }
    assert_int_equal(g->forgotten_topic_count, e->forgotten_topic_count);
    for (int32_t i = 0; i < e->forgotten_topic_count; i++) {
        pt_assert_slice_eq(g->forgotten_topics[i].topic, e->forgotten_topics[i].topic);
        assert_int_equal(g->forgotten_topics[i].partition_count, e->forgotten_topics[i].partition_count);
        for (int32_t j = 0; j < e->forgotten_topics[i].partition_count; j++)
            assert_int_equal(g->forgotten_topics[i].partitions[j], e->forgotten_topics[i].partitions[j]);
    }
}

static void fetch_request_roundtrips_every_version(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_fetch_partition pa[] = {
        { 0, 5, 0, -1, 1048576 }, { 1, -1, 123456789012LL, 7, 65536 }, { 2, 2147483647, -1, 0, 0 },
    };
    kp_fetch_partition pb[] = { { 9, 0, 42, 42, -1 } };
    kp_fetch_topic topics[] = {
        { kp_slice_str("test"), 3, pa }, { kp_slice_str("orders"), 1, pb }, { kp_slice_str("idle"), 0, NULL },
    };
    int32_t fa[] = { 3, 4 };
    kp_fetch_forgotten_topic forgotten[] = { { kp_slice_str("old"), 2, fa }, { kp_slice_str("older"), 0, NULL } };
    kp_fetch_request req = { -1, 500, 1, 52428800, KP_ISOLATION_READ_COMMITTED, 1234, 7, 3, topics, 2, forgotten };
    kp_fetch_request follower = { 2, 0, 0, INT32_MAX, KP_ISOLATION_READ_UNCOMMITTED, 0, -1, 1, topics + 1, 0, NULL };
    const kp_fetch_request *ms[] = { &req, &follower };
    for (size_t k = 0; k < 2; k++) {
        for (int16_t v = KP_FETCH_MIN_VERSION; v <= KP_FETCH_MAX_VERSION; v++) {
            kp_request_body rq;
            size_t len;
            kp_arena_reset(a);
            uint8_t *buf = pt_roundtrip(PT_REQ, KP_API_FETCH, v, ms[k], a, &rq, &len);
            assert_fetch_request(ms[k], &rq.fetch, v);
            free(buf);
        }
    }
    kp_arena_destroy(a);
}

static void fetch_response_roundtrips_every_version(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    static const uint8_t recs[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    kp_fetch_aborted_transaction ab[] = { { 1000, 5 }, { -1, INT64_MAX } };
    kp_fetch_partition_response pa[] = {
        { 0, KP_ERR_NONE, 100, 90, 0, 2, ab, { recs, sizeof recs } },
        { 1, KP_ERR_NOT_LEADER_FOR_PARTITION, -1, -1, -1, -1, NULL, { NULL, -1 } }, /* null aborted, null records */
        { 2, KP_ERR_OFFSET_OUT_OF_RANGE, 7, 7, 3, 0, NULL, { recs, 0 } },           /* empty aborted, empty records */
    };
    kp_fetch_partition_response pb[] = { { 5, KP_ERR_NONE, INT64_MAX, INT64_MIN, 12, 1, ab + 1, { recs + 3, 2 } } };
    kp_fetch_topic_response topics[] = { { kp_slice_str("test"), 3, pa }, { kp_slice_str("o"), 1, pb } };
    kp_fetch_response resp = { 10, KP_ERR_FETCH_SESSION_ID_NOT_FOUND, 99, 2, topics };
    kp_fetch_response empty = { 0, KP_ERR_NONE, 0, 0, NULL };
    const kp_fetch_response *ms[] = { &resp, &empty };
    for (size_t k = 0; k < 2; k++) {
        const kp_fetch_response *m = ms[k];
        for (int16_t v = KP_FETCH_MIN_VERSION; v <= KP_FETCH_MAX_VERSION; v++) {
            kp_response_body rs;
            size_t len;
            kp_arena_reset(a);
            uint8_t *buf = pt_roundtrip(PT_RESP, KP_API_FETCH, v, m, a, &rs, &len);
            const kp_fetch_response *g = &rs.fetch;
            assert_int_equal(g->throttle_time_ms, m->throttle_time_ms);
            assert_int_equal(g->error_code, v >= 7 ? m->error_code : 0);
            assert_int_equal(g->session_id, v >= 7 ? m->session_id : 0);
            assert_int_equal(g->topic_count, m->topic_count);
            for (int32_t i = 0; i < m->topic_count; i++) {
                pt_assert_slice_eq(g->topics[i].topic, m->topics[i].topic);
                assert_int_equal(g->topics[i].partition_count, m->topics[i].partition_count);
                for (int32_t j = 0; j < m->topics[i].partition_count; j++) {
                    const kp_fetch_partition_response *e = &m->topics[i].partitions[j];
                    const kp_fetch_partition_response *p = &g->topics[i].partitions[j];
                    assert_int_equal(p->partition, e->partition);
                    assert_int_equal(p->error_code, e->error_code);
                    assert_int_equal(p->high_watermark, e->high_watermark);
                    assert_int_equal(p->last_stable_offset, e->last_stable_offset);
                    assert_int_equal(p->log_start_offset, v >= 5 ? e->log_start_offset : -1);
                    assert_int_equal(p->aborted_transaction_count, e->aborted_transaction_count);
                    for (int32_t t = 0; t < e->aborted_transaction_count; t++) {
                        assert_int_equal(p->aborted_transactions[t].producer_id, e->aborted_transactions[t].producer_id);
                        assert_int_equal(p->aborted_transactions[t].first_offset,
                                         e->aborted_transactions[t].first_offset);
                    }
                    pt_assert_slice_eq(p->records, e->records);
                    if (p->records.len > 0) /* zero copy */
                        assert_true(p->records.ptr >= buf && p->records.ptr + p->records.len <= buf + len);
                }
            }
            free(buf);
        }
    }
    kp_arena_destroy(a);
}

static void fetch_malformed(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_request_body rq;
    kp_response_body rs;
    size_t len;
    /* request v7: topics count huge */
    uint8_t *buf = pt_unhex("ffffffff" "000001f4" "00000001" "7fffffff" "00" "00000000" "ffffffff"
                            "7fffffff" "000000000000", &len);
    assert_int_equal(pt_decode(PT_REQ, KP_API_FETCH, 7, buf, len, a, &rq), KP_ERR__BAD_MSG);
    free(buf);
    /* request v7: forgotten topics null (not nullable) */
    buf = pt_unhex("ffffffff" "000001f4" "00000001" "7fffffff" "00" "00000000" "ffffffff" "00000000" "ffffffff", &len);
    assert_int_equal(pt_decode(PT_REQ, KP_API_FETCH, 7, buf, len, a, &rq), KP_ERR__BAD_MSG);
    free(buf);
    assert_int_equal(kp_arena_used(a), 0); /* both refused before allocating */
    /* response v4: aborted transactions count huge */
    buf = pt_unhex("00000000" "00000001" "000174" "00000001" "00000000" "0000" "0000000000000000"
                   "0000000000000000" "10000000" "ffffffff", &len);
    assert_int_equal(pt_decode(PT_RESP, KP_API_FETCH, 4, buf, len, a, &rs), KP_ERR__BAD_MSG);
    free(buf);
    /* response v4: records length -2 */
    buf = pt_unhex("00000000" "00000001" "000174" "00000001" "00000000" "0000" "0000000000000000"
                   "0000000000000000" "ffffffff" "fffffffe", &len);
    assert_int_equal(pt_decode(PT_RESP, KP_API_FETCH, 4, buf, len, a, &rs), KP_ERR__BAD_MSG);
    free(buf);
    /* the same with records null decodes fine (control for the two above) */
    buf = pt_unhex("00000000" "00000001" "000174" "00000001" "00000000" "0000" "0000000000000000"
                   "0000000000000000" "ffffffff" "ffffffff", &len);
    assert_int_equal(pt_decode(PT_RESP, KP_API_FETCH, 4, buf, len, a, &rs), KP_ERR_NONE);
    assert_int_equal(rs.fetch.topics[0].partitions[0].aborted_transaction_count, -1);
    assert_int_equal(rs.fetch.topics[0].partitions[0].records.len, -1);
    free(buf);
    /* ListOffsets v1: topic null */
    buf = pt_unhex("ffffffff" "00000001" "ffff" "00000000", &len);
    assert_int_equal(pt_decode(PT_REQ, KP_API_LIST_OFFSETS, 1, buf, len, a, &rq), KP_ERR__BAD_MSG);
    free(buf);
    kp_arena_destroy(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(list_offsets_roundtrips_every_version),
        cmocka_unit_test(fetch_request_roundtrips_every_version),
        cmocka_unit_test(fetch_response_roundtrips_every_version),
        cmocka_unit_test(fetch_malformed),
    };
    return cmocka_run_group_tests_name("msg_fetch", tests, NULL, NULL);
}
