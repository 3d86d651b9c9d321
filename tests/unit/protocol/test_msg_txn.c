/*
 * test_msg_txn.c — InitProducerId v0..v1, FindCoordinator v0..v2,
 * AddPartitionsToTxn v0..v1, EndTxn v0..v1: round trips at every version,
 * defaults of absent fields (FindCoordinator v0), malformed input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto_testutil.h"

static void init_producer_id_roundtrips_every_version(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_init_producer_id_request reqs[] = {
        { KP_SLICE_NULL, INT32_MAX },
        { kp_slice_str("txn-1"), 60000 },
        { kp_slice_str(""), -1 },
    };
    kp_init_producer_id_response resps[] = {
        { 0, KP_ERR_NONE, 343434, 0 },
        { 100, KP_ERR_COORDINATOR_LOAD_IN_PROGRESS, -1, -1 },
        { -3, KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, INT64_MAX, INT16_MAX },
    };
    for (int16_t v = KP_INIT_PRODUCER_ID_MIN_VERSION; v <= KP_INIT_PRODUCER_ID_MAX_VERSION; v++) {
        for (size_t k = 0; k < 3; k++) {
            kp_request_body rq;
            kp_response_body rs;
            size_t len;
            uint8_t *buf = pt_roundtrip(PT_REQ, KP_API_INIT_PRODUCER_ID, v, &reqs[k], a, &rq, &len);
            pt_assert_slice_eq(rq.init_producer_id.transactional_id, reqs[k].transactional_id);
            assert_int_equal(rq.init_producer_id.transaction_timeout_ms, reqs[k].transaction_timeout_ms);
            free(buf);
            buf = pt_roundtrip(PT_RESP, KP_API_INIT_PRODUCER_ID, v, &resps[k], a, &rs, &len);
            assert_int_equal(len, 16);
            assert_int_equal(rs.init_producer_id.throttle_time_ms, resps[k].throttle_time_ms);
            assert_int_equal(rs.init_producer_id.error_code, resps[k].error_code);
            assert_int_equal(rs.init_producer_id.producer_id, resps[k].producer_id);
            assert_int_equal(rs.init_producer_id.producer_epoch, resps[k].producer_epoch);
            free(buf);
        }
    }
    kp_arena_destroy(a);
}

static void find_coordinator_roundtrips_every_version(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_find_coordinator_request reqs[] = {
        { kp_slice_str("txn-1"), KP_COORDINATOR_TRANSACTION },
        { kp_slice_str("group-a"), KP_COORDINATOR_GROUP },
        { kp_slice_str(""), -1 },
    };
    kp_find_coordinator_response resps[] = {
        { 0, KP_ERR_NONE, KP_SLICE_NULL, 2, kp_slice_str("b2.example"), 9094 },
        { 5, KP_ERR_COORDINATOR_NOT_AVAILABLE, kp_slice_str("The coordinator is not available."), -1,
          kp_slice_str(""), -1 },
        { -1, KP_ERR_NOT_COORDINATOR, kp_slice_str(""), 0, kp_slice_str("h"), 0 },
    };
    for (int16_t v = KP_FIND_COORDINATOR_MIN_VERSION; v <= KP_FIND_COORDINATOR_MAX_VERSION; v++) {
        for (size_t k = 0; k < 3; k++) {
            kp_request_body rq;
            kp_response_body rs;
            size_t len;
            uint8_t *buf = pt_roundtrip(PT_REQ, KP_API_FIND_COORDINATOR, v, &reqs[k], a, &rq, &len);
            pt_assert_slice_eq(rq.find_coordinator.key, reqs[k].key);
            /* v0 has no key_type: group (0) is implied */
            assert_int_equal(rq.find_coordinator.key_type, v >= 1 ? reqs[k].key_type : KP_COORDINATOR_GROUP);
            assert_int_equal(len, 2 + (size_t)reqs[k].key.len + (v >= 1 ? 1 : 0));
            free(buf);
            buf = pt_roundtrip(PT_RESP, KP_API_FIND_COORDINATOR, v, &resps[k], a, &rs, &len);
            const kp_find_coordinator_response *g = &rs.find_coordinator;
            assert_int_equal(g->throttle_time_ms, v >= 1 ? resps[k].throttle_time_ms : 0);
            assert_int_equal(g->error_code, resps[k].error_code);
            pt_assert_slice_eq(g->error_message, v >= 1 ? resps[k].error_message : KP_SLICE_NULL);
            assert_int_equal(g->node_id, resps[k].node_id);
            pt_assert_slice_eq(g->host, resps[k].host);
            assert_int_equal(g->port, resps[k].port);
            free(buf);
        }
    }
    kp_arena_destroy(a);
}

static void add_partitions_to_txn_roundtrips_every_version(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    int32_t pa[] = { 0, 1, 2, -1 };
    int32_t pb[] = { 2147483647 };
    kp_add_partitions_to_txn_topic topics[] = {
        { kp_slice_str("test"), 4, pa },
        { kp_slice_str("other"), 1, pb },
        { kp_slice_str("empty"), 0, NULL },
    };
    kp_add_partitions_to_txn_request req = { kp_slice_str("txn-1"), 1000, 3, 3, topics };
    kp_add_partitions_to_txn_request req_neg = { kp_slice_str(""), -1, -1, 0, NULL };
    kp_add_partitions_to_txn_partition_result ra[] = {
        { 0, KP_ERR_NONE }, { 1, KP_ERR_CONCURRENT_TRANSACTIONS }, { -1, KP_ERR_UNKNOWN_SERVER_ERROR },
    };
    kp_add_partitions_to_txn_partition_result rb[] = { { 9, KP_ERR_OPERATION_NOT_ATTEMPTED } };
    kp_add_partitions_to_txn_topic_result tr[] = {
        { kp_slice_str("test"), 3, ra },
        { kp_slice_str("other"), 1, rb },
    };
    kp_add_partitions_to_txn_response resp = { 20, 2, tr };
    for (int16_t v = KP_ADD_PARTITIONS_TO_TXN_MIN_VERSION; v <= KP_ADD_PARTITIONS_TO_TXN_MAX_VERSION; v++) {
        const kp_add_partitions_to_txn_request *rqs[] = { &req, &req_neg };
        for (size_t k = 0; k < 2; k++) {
            kp_request_body rq;
            size_t len;
            kp_arena_reset(a);
            uint8_t *buf = pt_roundtrip(PT_REQ, KP_API_ADD_PARTITIONS_TO_TXN, v, rqs[k], a, &rq, &len);
            const kp_add_partitions_to_txn_request *g = &rq.add_partitions_to_txn;
            pt_assert_slice_eq(g->transactional_id, rqs[k]->transactional_id);
            assert_int_equal(g->producer_id, rqs[k]->producer_id);
            assert_int_equal(g->producer_epoch, rqs[k]->producer_epoch);
            assert_int_equal(g->topic_count, rqs[k]->topic_count);
            for (int32_t i = 0; i < g->topic_count; i++) {
                pt_assert_slice_eq(g->topics[i].topic, rqs[k]->topics[i].topic);
                assert_int_equal(g->topics[i].partition_count, rqs[k]->topics[i].partition_count);
                for (int32_t j = 0; j < g->topics[i].partition_count; j++)
                    assert_int_equal(g->topics[i].partitions[j], rqs[k]->topics[i].partitions[j]);
            }
            free(buf);
        }
        kp_response_body rs;
        size_t len;
        uint8_t *buf = pt_roundtrip(PT_RESP, KP_API_ADD_PARTITIONS_TO_TXN, v, &resp, a, &rs, &len);
        const kp_add_partitions_to_txn_response *g = &rs.add_partitions_to_txn;
        assert_int_equal(g->throttle_time_ms, 20);
        assert_int_equal(g->topic_count, 2);
        for (int32_t i = 0; i < 2; i++) {
            pt_assert_slice_eq(g->topics[i].topic, tr[i].topic);
            assert_int_equal(g->topics[i].partition_count, tr[i].partition_count);
            for (int32_t j = 0; j < tr[i].partition_count; j++) {
                assert_int_equal(g->topics[i].partitions[j].partition, tr[i].partitions[j].partition);
                assert_int_equal(g->topics[i].partitions[j].error_code, tr[i].partitions[j].error_code);
            }
        }
        free(buf);
    }
    kp_arena_destroy(a);
}

static void end_txn_roundtrips_every_version(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_end_txn_request reqs[] = {
        { kp_slice_str("txn-1"), 1000, 0, true },
        { kp_slice_str("txn-2"), -1, -1, false },
    };
    kp_end_txn_response resps[] = { { 0, KP_ERR_NONE }, { 12, KP_ERR_INVALID_PRODUCER_EPOCH } };
    for (int16_t v = KP_END_TXN_MIN_VERSION; v <= KP_END_TXN_MAX_VERSION; v++) {
        for (size_t k = 0; k < 2; k++) {
            kp_request_body rq;
            kp_response_body rs;
            size_t len;
            uint8_t *buf = pt_roundtrip(PT_REQ, KP_API_END_TXN, v, &reqs[k], a, &rq, &len);
            pt_assert_slice_eq(rq.end_txn.transactional_id, reqs[k].transactional_id);
            assert_int_equal(rq.end_txn.producer_id, reqs[k].producer_id);
            assert_int_equal(rq.end_txn.producer_epoch, reqs[k].producer_epoch);
            assert_int_equal(rq.end_txn.committed, reqs[k].committed);
            free(buf);
            buf = pt_roundtrip(PT_RESP, KP_API_END_TXN, v, &resps[k], a, &rs, &len);
            assert_int_equal(rs.end_txn.throttle_time_ms, resps[k].throttle_time_ms);
            assert_int_equal(rs.end_txn.error_code, resps[k].error_code);
            free(buf);
        }
    }
    kp_arena_destroy(a);
}

static void txn_null_in_non_nullable_strings_rejected(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_request_body rq;
    kp_response_body rs;
    size_t len;
    struct { bool req; int16_t key, ver; const char *hex; } cases[] = {
        /* EndTxn transactional_id null */
        { true, KP_API_END_TXN, 1, "ffff00000000000003e8000001" },
        /* AddPartitionsToTxn transactional_id null */
        { true, KP_API_ADD_PARTITIONS_TO_TXN, 1, "ffff00000000000003e8000000000000" },
        /* AddPartitionsToTxn topic null */
        { true, KP_API_ADD_PARTITIONS_TO_TXN, 0, "000174" "00000000000003e8" "0000" "00000001" "ffff" "00000000" },
        /* FindCoordinator key null */
        { true, KP_API_FIND_COORDINATOR, 2, "ffff01" },
        /* FindCoordinator response host null */
        { false, KP_API_FIND_COORDINATOR, 1, "00000000" "0000" "ffff" "00000001" "ffff" "00002384" },
        /* AddPartitionsToTxn response: topic null */
        { false, KP_API_ADD_PARTITIONS_TO_TXN, 1, "00000000" "00000001" "ffff" "00000000" },
        /* AddPartitionsToTxn request: partitions count huge */
        { true, KP_API_ADD_PARTITIONS_TO_TXN, 1, "000174" "00000000000003e8" "0000" "00000001" "000174" "7fffffff" },
        /* InitProducerId: transactional_id length -2 */
        { true, KP_API_INIT_PRODUCER_ID, 0, "fffe0000ea60" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *buf = pt_unhex(cases[i].hex, &len);
        kp_arena_reset(a);
        kp_err err = cases[i].req ? pt_decode(PT_REQ, cases[i].key, cases[i].ver, buf, len, a, &rq)
                                  : pt_decode(PT_RESP, cases[i].key, cases[i].ver, buf, len, a, &rs);
        if (err != KP_ERR__BAD_MSG)
            fail_msg("case %zu: %s", i, kp_err_name(err));
        free(buf);
    }
    kp_arena_destroy(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_producer_id_roundtrips_every_version),
        cmocka_unit_test(find_coordinator_roundtrips_every_version),
        cmocka_unit_test(add_partitions_to_txn_roundtrips_every_version),
        cmocka_unit_test(end_txn_roundtrips_every_version),
        cmocka_unit_test(txn_null_in_non_nullable_strings_rejected),
    };
    return cmocka_run_group_tests_name("msg_txn", tests, NULL, NULL);
}
