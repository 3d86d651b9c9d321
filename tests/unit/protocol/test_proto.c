/*
 * test_proto.c — request header v1, response header v0, frames, the API
 * table, and every byte vector of KAFKA_FACTS.md (kafka-clients 2.1.1,
 * client_id "producer-1"), encoded byte for byte and decoded back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto_testutil.h"

#define CLIENT_ID "000a70726f64756365722d31" /* "producer-1" */

/* The 76-byte plain RecordBatch of KAFKA_FACTS.md (opaque here). */
#define BATCH76 \
    "000000000000000000000040ffffffff021c07770100000000000000000000000000000000000000000000" \
    "ffffffffffffffffffffffffffff000000011c000000066b65790a76616c756500"

/* Encodes header + body (no size prefix) like the vectors are written. */
static uint8_t *encode_request(int16_t key, int16_t ver, int32_t corr, const void *body, size_t *len) {
    kp_request_header h = { key, ver, corr, kp_slice_str("producer-1") };
    kp_writer w;
    kp_wr_init(&w, NULL, 0);
    kp_request_frame_encode(&w, &h, body);
    size_t need = w.len;
    uint8_t *buf = malloc(need);
    kp_wr_init(&w, buf, need);
    kp_request_frame_encode(&w, &h, body);
    assert_int_equal(w.err, KP_ERR_NONE);
    assert_int_equal(w.len, need);
    assert_int_equal(kp_be32_get(buf), need - 4); /* size patched */
    *len = need - 4;
    memmove(buf, buf + 4, need - 4);
    return buf;
}

/* Fuzz seeds from the vectors (KP_WRITE_CORPUS): the whole frame for the
 * *_all targets, the body with its version selector for the per-API ones.
 * Request frames here carry client_id "producer-1": header = 20 bytes. */
static void write_vector_seeds(bool request, int16_t key, int16_t ver, const uint8_t *frame, size_t len) {
    static unsigned seq;
    char name[32], target[64];
    snprintf(name, sizeof name, "vector_%02u", seq++);
    const kp_api_version *range = kp_api_supported_range(key);
    uint8_t sel = (uint8_t)(ver - range->min_version);
    static const char *const shorts[] = {
        [0] = "produce", [1] = "fetch", [2] = "list_offsets", [3] = "metadata", [10] = "find_coordinator",
        [18] = "api_versions", [22] = "init_producer_id", [24] = "add_partitions_to_txn", [26] = "end_txn",
    };
    snprintf(target, sizeof target, "%s_%s", request ? "req" : "resp", shorts[key]);
    if (request) {
        pt_corpus_write("req_all", name, NULL, 0, frame, len);
        pt_corpus_write(target, name, &sel, 1, frame + 4 + 20, len - 4 - 20);
    } else {
        uint8_t kv[4];
        kp_be16_put(kv, (uint16_t)key);
        kp_be16_put(kv + 2, (uint16_t)ver);
        pt_corpus_write("resp_all", name, kv, 4, frame, len);
        pt_corpus_write(target, name, &sel, 1, frame + 8, len - 8);
    }
}

/* Prefixes hex with its size and decodes it as a request frame. */
static uint8_t *decode_request_hex(const char *hex, kp_arena *a, kp_request *out) {
    size_t n;
    uint8_t *body = pt_unhex(hex, &n);
    uint8_t *frame = malloc(n + 4);
    kp_be32_put(frame, (uint32_t)n);
    memcpy(frame + 4, body, n);
    free(body);
    size_t flen;
    assert_int_equal(kp_frame_peek(frame, n + 4, KP_FRAME_MAX_DEFAULT, &flen), KP_ERR_NONE);
    assert_int_equal(flen, n + 4);
    assert_int_equal(kp_request_frame_decode(frame, n + 4, a, out), KP_ERR_NONE);
    assert_true(kp_slice_eq_str(out->hdr.client_id, "producer-1"));
    write_vector_seeds(true, out->hdr.api_key, out->hdr.api_version, frame, n + 4);
    return frame; /* decoded slices point into it */
}

static uint8_t *encode_response(int16_t key, int16_t ver, int32_t corr, const void *body, size_t *len) {
    kp_writer w;
    kp_wr_init(&w, NULL, 0);
    kp_response_frame_encode(&w, key, ver, corr, body);
    size_t need = w.len;
    uint8_t *buf = malloc(need);
    kp_wr_init(&w, buf, need);
    kp_response_frame_encode(&w, key, ver, corr, body);
    assert_int_equal(w.err, KP_ERR_NONE);
    assert_int_equal(kp_be32_get(buf), need - 4);
    *len = need - 4;
    memmove(buf, buf + 4, need - 4);
    return buf;
}

static uint8_t *decode_response_hex(const char *hex, int16_t key, int16_t ver, kp_arena *a, kp_response *out) {
    size_t n;
    uint8_t *body = pt_unhex(hex, &n);
    uint8_t *frame = malloc(n + 4);
    kp_be32_put(frame, (uint32_t)n);
    memcpy(frame + 4, body, n);
    free(body);
    kp_response_header h;
    assert_int_equal(kp_response_frame_header(frame, n + 4, &h), KP_ERR_NONE);
    assert_int_equal(kp_response_frame_decode(frame, n + 4, key, ver, a, out), KP_ERR_NONE);
    assert_int_equal(h.correlation_id, out->hdr.correlation_id);
    write_vector_seeds(false, key, ver, frame, n + 4);
    return frame;
}

/* ---- request vectors ------------------------------------------------ */

static const char *const V_API_VERSIONS = "0012000200000000" CLIENT_ID;
static const char *const V_METADATA = "0003000700000001" CLIENT_ID "0000000100047465737401";
static const char *const V_METADATA_ALL = "0003000700000001" CLIENT_ID "ffffffff01";
static const char *const V_PRODUCE = "0000000700000002" CLIENT_ID
                                     "ffffffff000075300000000100047465737400000001000000000000004c" BATCH76;
static const char *const V_INIT_PID = "0016000100000003" CLIENT_ID "ffff7fffffff";
static const char *const V_FIND_COORD = "000a000200000004" CLIENT_ID "000574786e2d3101";
static const char *const V_ADD_PARTS = "0018000100000005" CLIENT_ID
                                       "000574786e2d3100000000000003e80000000000010004746573740000000100000000";
static const char *const V_END_TXN = "001a000100000006" CLIENT_ID "000574786e2d3100000000000003e8000001";

static void vector_api_versions_request(void **state) {
    (void)state;
    kp_api_versions_request m = { 0 };
    size_t len;
    uint8_t *buf = encode_request(KP_API_API_VERSIONS, 2, 0, &m, &len);
    pt_assert_hex(buf, len, V_API_VERSIONS);
    free(buf);
    kp_arena *a = kp_arena_new(0, 0);
    kp_request r;
    free(decode_request_hex(V_API_VERSIONS, a, &r));
    assert_int_equal(r.hdr.api_key, 18);
    assert_int_equal(r.hdr.api_version, 2);
    assert_int_equal(r.hdr.correlation_id, 0);
    kp_arena_destroy(a);
}

static void vector_metadata_request(void **state) {
    (void)state;
    kp_slice topics[] = { kp_slice_str("test") };
    kp_metadata_request m = { 1, topics, true };
    size_t len;
    uint8_t *buf = encode_request(KP_API_METADATA, 7, 1, &m, &len);
    pt_assert_hex(buf, len, V_METADATA);
    free(buf);
    kp_metadata_request all = { -1, NULL, true };
    buf = encode_request(KP_API_METADATA, 7, 1, &all, &len);
    pt_assert_hex(buf, len, V_METADATA_ALL);
    free(buf);

    kp_arena *a = kp_arena_new(0, 0);
    kp_request r;
    uint8_t *frame = decode_request_hex(V_METADATA, a, &r);
    assert_int_equal(r.hdr.correlation_id, 1);
    assert_int_equal(r.body.metadata.topic_count, 1);
    assert_true(kp_slice_eq_str(r.body.metadata.topics[0], "test"));
    assert_true(r.body.metadata.allow_auto_topic_creation);
    free(frame);
    frame = decode_request_hex(V_METADATA_ALL, a, &r);
    assert_int_equal(r.body.metadata.topic_count, -1);
    assert_null(r.body.metadata.topics);
    free(frame);
    kp_arena_destroy(a);
}

static void vector_produce_request(void **state) {
    (void)state;
    size_t blen;
    uint8_t *batch = pt_unhex(BATCH76, &blen);
    assert_int_equal(blen, 76);
    kp_produce_partition_data pd = { 0, { batch, (int32_t)blen } };
    kp_produce_topic_data td = { kp_slice_str("test"), 1, &pd };
    kp_produce_request m = { KP_SLICE_NULL, -1, 30000, 1, &td };
    size_t len;
    uint8_t *buf = encode_request(KP_API_PRODUCE, 7, 2, &m, &len);
    pt_assert_hex(buf, len, V_PRODUCE);
    free(buf);

    kp_arena *a = kp_arena_new(0, 0);
    kp_request r;
    uint8_t *frame = decode_request_hex(V_PRODUCE, a, &r);
    const kp_produce_request *g = &r.body.produce;
    assert_int_equal(r.hdr.correlation_id, 2);
    assert_int_equal(g->transactional_id.len, -1);
    assert_int_equal(g->acks, -1);
    assert_int_equal(g->timeout_ms, 30000);
    assert_int_equal(g->topic_count, 1);
    assert_true(kp_slice_eq_str(g->topics[0].topic, "test"));
    assert_int_equal(g->topics[0].partition_count, 1);
    assert_int_equal(g->topics[0].partitions[0].partition, 0);
    assert_true(kp_slice_eq(g->topics[0].partitions[0].records, pd.records));
    assert_true(kp_api_has_response(KP_API_PRODUCE, 7, g));
    free(frame);
    free(batch);
    kp_arena_destroy(a);
}

static void vector_init_producer_id_request(void **state) {
    (void)state;
    kp_init_producer_id_request m = { KP_SLICE_NULL, INT32_MAX };
    size_t len;
    uint8_t *buf = encode_request(KP_API_INIT_PRODUCER_ID, 1, 3, &m, &len);
    pt_assert_hex(buf, len, V_INIT_PID);
    free(buf);
    kp_arena *a = kp_arena_new(0, 0);
    kp_request r;
    free(decode_request_hex(V_INIT_PID, a, &r));
    assert_int_equal(r.hdr.correlation_id, 3);
    assert_int_equal(r.body.init_producer_id.transactional_id.len, -1);
    assert_int_equal(r.body.init_producer_id.transaction_timeout_ms, INT32_MAX);
    kp_arena_destroy(a);
}

static void vector_find_coordinator_request(void **state) {
    (void)state;
    kp_find_coordinator_request m = { kp_slice_str("txn-1"), KP_COORDINATOR_TRANSACTION };
    size_t len;
    uint8_t *buf = encode_request(KP_API_FIND_COORDINATOR, 2, 4, &m, &len);
    pt_assert_hex(buf, len, V_FIND_COORD);
    free(buf);
    kp_arena *a = kp_arena_new(0, 0);
    kp_request r;
    uint8_t *frame = decode_request_hex(V_FIND_COORD, a, &r);
    assert_true(kp_slice_eq_str(r.body.find_coordinator.key, "txn-1"));
    assert_int_equal(r.body.find_coordinator.key_type, 1);
    free(frame);
    kp_arena_destroy(a);
}

static void vector_add_partitions_to_txn_request(void **state) {
    (void)state;
    int32_t parts[] = { 0 };
    kp_add_partitions_to_txn_topic t = { kp_slice_str("test"), 1, parts };
    kp_add_partitions_to_txn_request m = { kp_slice_str("txn-1"), 1000, 0, 1, &t };
    size_t len;
    uint8_t *buf = encode_request(KP_API_ADD_PARTITIONS_TO_TXN, 1, 5, &m, &len);
    pt_assert_hex(buf, len, V_ADD_PARTS);
    free(buf);
    kp_arena *a = kp_arena_new(0, 0);
    kp_request r;
    uint8_t *frame = decode_request_hex(V_ADD_PARTS, a, &r);
    const kp_add_partitions_to_txn_request *g = &r.body.add_partitions_to_txn;
    assert_true(kp_slice_eq_str(g->transactional_id, "txn-1"));
    assert_int_equal(g->producer_id, 1000);
    assert_int_equal(g->producer_epoch, 0);
    assert_int_equal(g->topic_count, 1);
    assert_true(kp_slice_eq_str(g->topics[0].topic, "test"));
    assert_int_equal(g->topics[0].partition_count, 1);
    assert_int_equal(g->topics[0].partitions[0], 0);
    free(frame);
    kp_arena_destroy(a);
}

static void vector_end_txn_request(void **state) {
    (void)state;
    kp_end_txn_request m = { kp_slice_str("txn-1"), 1000, 0, true };
    size_t len;
    uint8_t *buf = encode_request(KP_API_END_TXN, 1, 6, &m, &len);
    pt_assert_hex(buf, len, V_END_TXN);
    free(buf);
    kp_arena *a = kp_arena_new(0, 0);
    kp_request r;
    uint8_t *frame = decode_request_hex(V_END_TXN, a, &r);
    assert_true(kp_slice_eq_str(r.body.end_txn.transactional_id, "txn-1"));
    assert_int_equal(r.body.end_txn.producer_id, 1000);
    assert_int_equal(r.body.end_txn.producer_epoch, 0);
    assert_true(r.body.end_txn.committed);
    free(frame);
    kp_arena_destroy(a);
}

/* ---- response vectors ----------------------------------------------- */

static const char *const V_PRODUCE_RESP =
    "000000020000000100047465737400000001000000000000000000000000002affffffffffffffff000000000000000000000000";
static const char *const V_INIT_PID_RESP = "000000030000000000000000000000053d8a0000";
static const char *const V_METADATA_RESP =
    "0000000100000000000000010000000000096c6f63616c686f737400002384ffff0009636c75737465722d310000000000000001"
    "0000000474657374000000000100000000000000000000000000050000000100000000000000010000000000000000";
static const char *const V_END_TXN_RESP = "00000006000000000000";

static void vector_produce_response(void **state) {
    (void)state;
    kp_produce_partition_response p = { 0, KP_ERR_NONE, 42, -1, 0 };
    kp_produce_topic_response t = { kp_slice_str("test"), 1, &p };
    kp_produce_response m = { 1, &t, 0 };
    size_t len;
    uint8_t *buf = encode_response(KP_API_PRODUCE, 7, 2, &m, &len);
    pt_assert_hex(buf, len, V_PRODUCE_RESP);
    free(buf);
    kp_arena *a = kp_arena_new(0, 0);
    kp_response r;
    uint8_t *frame = decode_response_hex(V_PRODUCE_RESP, KP_API_PRODUCE, 7, a, &r);
    const kp_produce_response *g = &r.body.produce;
    assert_int_equal(r.hdr.correlation_id, 2);
    assert_int_equal(g->topic_count, 1);
    assert_true(kp_slice_eq_str(g->topics[0].topic, "test"));
    assert_int_equal(g->topics[0].partition_count, 1);
    assert_int_equal(g->topics[0].partitions[0].partition, 0);
    assert_int_equal(g->topics[0].partitions[0].error_code, 0);
    assert_int_equal(g->topics[0].partitions[0].base_offset, 42);
    assert_int_equal(g->topics[0].partitions[0].log_append_time, -1);
    assert_int_equal(g->topics[0].partitions[0].log_start_offset, 0);
    assert_int_equal(g->throttle_time_ms, 0);
    free(frame);
    kp_arena_destroy(a);
}

static void vector_init_producer_id_response(void **state) {
    (void)state;
    kp_init_producer_id_response m = { 0, KP_ERR_NONE, 343434, 0 };
    size_t len;
    uint8_t *buf = encode_response(KP_API_INIT_PRODUCER_ID, 1, 3, &m, &len);
    pt_assert_hex(buf, len, V_INIT_PID_RESP);
    free(buf);
    kp_arena *a = kp_arena_new(0, 0);
    kp_response r;
    free(decode_response_hex(V_INIT_PID_RESP, KP_API_INIT_PRODUCER_ID, 1, a, &r));
    assert_int_equal(r.hdr.correlation_id, 3);
    assert_int_equal(r.body.init_producer_id.throttle_time_ms, 0);
    assert_int_equal(r.body.init_producer_id.error_code, 0);
    assert_int_equal(r.body.init_producer_id.producer_id, 343434);
    assert_int_equal(r.body.init_producer_id.producer_epoch, 0);
    kp_arena_destroy(a);
}

static void vector_metadata_response(void **state) {
    (void)state;
    kp_metadata_broker b = { 0, kp_slice_str("localhost"), 9092, KP_SLICE_NULL };
    int32_t r0[] = { 0 };
    kp_metadata_partition p = { 0, 0, 0, 5, 1, r0, 1, r0, 0, NULL };
    kp_metadata_topic t = { 0, kp_slice_str("test"), false, 1, &p };
    kp_metadata_response m = { 0, 1, &b, kp_slice_str("cluster-1"), 0, 1, &t };
    size_t len;
    uint8_t *buf = encode_response(KP_API_METADATA, 7, 1, &m, &len);
    pt_assert_hex(buf, len, V_METADATA_RESP);
    free(buf);
    kp_arena *a = kp_arena_new(0, 0);
    kp_response r;
    uint8_t *frame = decode_response_hex(V_METADATA_RESP, KP_API_METADATA, 7, a, &r);
    const kp_metadata_response *g = &r.body.metadata;
    assert_int_equal(r.hdr.correlation_id, 1);
    assert_int_equal(g->throttle_time_ms, 0);
    assert_int_equal(g->broker_count, 1);
    assert_int_equal(g->brokers[0].node_id, 0);
    assert_true(kp_slice_eq_str(g->brokers[0].host, "localhost"));
    assert_int_equal(g->brokers[0].port, 9092);
    assert_int_equal(g->brokers[0].rack.len, -1);
    assert_true(kp_slice_eq_str(g->cluster_id, "cluster-1"));
    assert_int_equal(g->controller_id, 0);
    assert_int_equal(g->topic_count, 1);
    assert_int_equal(g->topics[0].error_code, 0);
    assert_true(kp_slice_eq_str(g->topics[0].topic, "test"));
    assert_false(g->topics[0].is_internal);
    assert_int_equal(g->topics[0].partition_count, 1);
    const kp_metadata_partition *gp = &g->topics[0].partitions[0];
    assert_int_equal(gp->error_code, 0);
    assert_int_equal(gp->partition, 0);
    assert_int_equal(gp->leader, 0);
    assert_int_equal(gp->leader_epoch, 5);
    assert_int_equal(gp->replica_count, 1);
    assert_int_equal(gp->replicas[0], 0);
    assert_int_equal(gp->isr_count, 1);
    assert_int_equal(gp->isr[0], 0);
    assert_int_equal(gp->offline_replica_count, 0);
    free(frame);
    kp_arena_destroy(a);
}

static void vector_end_txn_response(void **state) {
    (void)state;
    kp_end_txn_response m = { 0, KP_ERR_NONE };
    size_t len;
    uint8_t *buf = encode_response(KP_API_END_TXN, 1, 6, &m, &len);
    pt_assert_hex(buf, len, V_END_TXN_RESP);
    free(buf);
    kp_arena *a = kp_arena_new(0, 0);
    kp_response r;
    free(decode_response_hex(V_END_TXN_RESP, KP_API_END_TXN, 1, a, &r));
    assert_int_equal(r.hdr.correlation_id, 6);
    assert_int_equal(r.body.end_txn.throttle_time_ms, 0);
    assert_int_equal(r.body.end_txn.error_code, 0);
    kp_arena_destroy(a);
}

/* ---- headers, frames, table ----------------------------------------- */

static void request_header_roundtrip_and_null_client_id(void **state) {
    (void)state;
    kp_request_header h = { KP_API_METADATA, 5, -123456, KP_SLICE_NULL };
    uint8_t buf[32];
    kp_writer w;
    kp_wr_init(&w, buf, sizeof buf);
    kp_request_header_encode(&w, &h);
    pt_assert_hex(buf, w.len, "00030005fffe1dc0ffff");
    kp_reader r;
    kp_rd_init(&r, buf, w.len);
    kp_request_header g;
    assert_int_equal(kp_request_header_decode(&r, &g), KP_ERR_NONE);
    assert_int_equal(g.api_key, 3);
    assert_int_equal(g.api_version, 5);
    assert_int_equal(g.correlation_id, -123456);
    assert_int_equal(g.client_id.len, -1);
    for (size_t n = 0; n < w.len; n++) {
        kp_rd_init(&r, buf, n);
        assert_int_not_equal(kp_request_header_decode(&r, &g), KP_ERR_NONE);
    }
}

/* The generic readers' request header: what the decoder's one-test path
 * must equal, verdict and reader state included. */
static kp_err ref_request_header_decode(kp_reader *r, kp_request_header *out) {
    out->api_key = kp_rd_i16(r);
    out->api_version = kp_rd_i16(r);
    out->correlation_id = kp_rd_i32(r);
    out->client_id = kp_rd_nullable_string(r);
    return r->err;
}

/* Every prefix of headers with a null, an empty and a set client id, with
 * every byte replaced by values that make the id's length -2, -1, 0, huge
 * or short, and a reader that failed before: the decoder and the generic
 * readers agree on the verdict, the fields and where the reader stops. */
static void request_header_decode_matches_generic_readers(void **state) {
    (void)state;
    static const uint8_t subst[] = { 0x00, 0x01, 0x05, 0x7f, 0x80, 0xfe, 0xff };
    static const char *ids[] = { NULL, "", "producer-1" };
    for (size_t id = 0; id < 3; id++) {
        kp_request_header h = { KP_API_PRODUCE, 7, 42, kp_slice_str(ids[id]) };
        uint8_t buf[40];
        kp_writer w;
        kp_wr_init(&w, buf, sizeof buf);
        kp_request_header_encode(&w, &h);
        kp_wr_i32(&w, 0x01020304); /* a body after it */
        assert_int_equal(w.err, KP_ERR_NONE);
        for (size_t i = 0; i <= w.len; i++) {
            for (size_t s = 0; s <= sizeof subst; s++) {
                uint8_t m[40];
                memcpy(m, buf, w.len);
                if (i < w.len && s < sizeof subst)
                    m[i] = subst[s];
                for (size_t n = 0; n <= w.len; n++) {
                    for (int pre = 0; pre < 2; pre++) {
                        kp_reader r1, r2;
                        kp_rd_init(&r1, m, n);
                        kp_rd_init(&r2, m, n);
                        if (pre) {
                            kp_rd_fail(&r1, KP_ERR__BAD_MSG);
                            kp_rd_fail(&r2, KP_ERR__BAD_MSG);
                        }
                        kp_request_header g1, g2;
                        memset(&g1, 0x5a, sizeof g1);
                        memset(&g2, 0x5a, sizeof g2);
                        kp_err e1 = kp_request_header_decode(&r1, &g1);
                        kp_err e2 = ref_request_header_decode(&r2, &g2);
                        assert_int_equal(e1, e2);
                        assert_int_equal(r1.err, r2.err);
                        assert_ptr_equal(r1.p, r2.p);
                        assert_ptr_equal(r1.end, r2.end);
                        assert_int_equal(g1.api_key, g2.api_key);
                        assert_int_equal(g1.api_version, g2.api_version);
                        assert_int_equal(g1.correlation_id, g2.correlation_id);
                        assert_int_equal(g1.client_id.len, g2.client_id.len);
                        assert_ptr_equal(g1.client_id.ptr, g2.client_id.ptr);
                    }
                }
            }
        }
    }
}

static void response_header_roundtrip(void **state) {
    (void)state;
    kp_response_header h = { INT32_MIN };
    uint8_t buf[4];
    kp_writer w;
    kp_wr_init(&w, buf, sizeof buf);
    kp_response_header_encode(&w, &h);
    pt_assert_hex(buf, w.len, "80000000");
    kp_reader r;
    kp_rd_init(&r, buf, 4);
    kp_response_header g;
    assert_int_equal(kp_response_header_decode(&r, &g), KP_ERR_NONE);
    assert_int_equal(g.correlation_id, INT32_MIN);
    kp_rd_init(&r, buf, 3);
    assert_int_equal(kp_response_header_decode(&r, &g), KP_ERR__TRUNCATED);
}

static void frame_peek_waits_for_whole_frame_and_bounds_size(void **state) {
    (void)state;
    uint8_t buf[16] = { 0, 0, 0, 6, 1, 2, 3, 4, 5, 6, 9, 9 };
    size_t need;
    for (size_t n = 0; n < 4; n++) {
        assert_int_equal(kp_frame_peek(buf, n, 100, &need), KP_ERR__TRUNCATED);
        assert_int_equal(need, 4);
    }
    for (size_t n = 4; n < 10; n++) {
        assert_int_equal(kp_frame_peek(buf, n, 100, &need), KP_ERR__TRUNCATED);
        assert_int_equal(need, 10);
    }
    assert_int_equal(kp_frame_peek(buf, 12, 100, &need), KP_ERR_NONE); /* next frame's bytes follow */
    assert_int_equal(need, 10);
    assert_int_equal(kp_frame_peek(buf, 12, 5, &need), KP_ERR__BAD_MSG); /* over the bound */
    uint8_t neg[4] = { 0xff, 0xff, 0xff, 0xfe };
    assert_int_equal(kp_frame_peek(neg, 4, 100, &need), KP_ERR__BAD_MSG);
}

static void request_frame_decode_checks_size_and_version(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_request r;
    size_t n;
    /* size prefix disagrees with the frame length */
    uint8_t *f = pt_unhex("00000015" "0012000200000000" CLIENT_ID, &n);
    assert_int_equal(kp_request_frame_decode(f, n, a, &r), KP_ERR__BAD_MSG);
    free(f);
    /* trailing byte after an ApiVersions v2 body */
    f = pt_unhex("00000015" "0012000200000000" CLIENT_ID "00", &n);
    assert_int_equal(kp_request_frame_decode(f, n, a, &r), KP_ERR__BAD_MSG);
    free(f);
    /* ApiVersions v3 (flexible; librdkafka's first try): header kept */
    f = pt_unhex("00000017" "001200030000002a" CLIENT_ID "000000", &n);
    assert_int_equal(kp_request_frame_decode(f, n, a, &r), KP_ERR__UNSUPPORTED);
    assert_int_equal(r.hdr.api_key, KP_API_API_VERSIONS);
    assert_int_equal(r.hdr.api_version, 3);
    assert_int_equal(r.hdr.correlation_id, 42);
    free(f);
    /* an API kpsim does not implement (JoinGroup) */
    f = pt_unhex("00000014" "000b000500000001" CLIENT_ID, &n);
    assert_int_equal(kp_request_frame_decode(f, n, a, &r), KP_ERR__UNSUPPORTED);
    assert_int_equal(r.hdr.api_key, 11);
    free(f);
    /* Produce v2 is below our range */
    f = pt_unhex("00000014" "0000000200000001" CLIENT_ID, &n);
    assert_int_equal(kp_request_frame_decode(f, n, a, &r), KP_ERR__UNSUPPORTED);
    free(f);
    /* header cut inside client_id */
    f = pt_unhex("0000000c" "0012000200000000000a7072", &n);
    assert_int_equal(kp_request_frame_decode(f, n, a, &r), KP_ERR__TRUNCATED);
    free(f);
    kp_arena_destroy(a);
}

static void response_frame_decode_rejects_unsupported_and_trailing(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_response r;
    size_t n;
    uint8_t *f = pt_unhex("0000000a" "00000006000000000000", &n);
    assert_int_equal(kp_response_frame_decode(f, n, KP_API_END_TXN, 1, a, &r), KP_ERR_NONE);
    assert_int_equal(kp_response_frame_decode(f, n, KP_API_END_TXN, 2, a, &r), KP_ERR__UNSUPPORTED);
    assert_int_equal(kp_response_frame_decode(f, n, 11, 0, a, &r), KP_ERR__UNSUPPORTED);
    assert_int_equal(kp_response_frame_decode(f, n - 1, KP_API_END_TXN, 1, a, &r), KP_ERR__BAD_MSG);
    free(f);
    f = pt_unhex("0000000b" "0000000600000000000000", &n);
    assert_int_equal(kp_response_frame_decode(f, n, KP_API_END_TXN, 1, a, &r), KP_ERR__BAD_MSG);
    free(f);
    kp_arena_destroy(a);
}

static void unknown_api_keys_and_short_frames_rejected(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_request_body rq;
    kp_response_body rs;
    uint8_t empty[1] = { 0 };
    assert_int_equal(pt_decode(PT_REQ, 11, 0, empty, 0, a, &rq), KP_ERR__UNSUPPORTED);
    assert_int_equal(pt_decode(PT_RESP, -1, 0, empty, 0, a, &rs), KP_ERR__UNSUPPORTED);
    kp_response_header h;
    kp_response r;
    kp_request q;
    uint8_t f[6] = { 0, 0, 0, 2, 0, 1 }; /* size 2: a correlation id needs 4 */
    assert_int_equal(kp_response_frame_header(f, 3, &h), KP_ERR__TRUNCATED);
    assert_int_equal(kp_response_frame_header(f, 6, &h), KP_ERR__TRUNCATED);
    assert_int_equal(kp_response_frame_decode(f, 6, KP_API_END_TXN, 1, a, &r), KP_ERR__TRUNCATED);
    assert_int_equal(kp_request_frame_decode(f, 3, a, &q), KP_ERR__TRUNCATED);
    kp_arena_destroy(a);
}

static void api_versions_unsupported_answer_is_v0_layout(void **state) {
    (void)state;
    uint8_t buf[64];
    kp_writer w;
    kp_wr_init(&w, buf, sizeof buf);
    kp_api_versions_unsupported_frame_encode(&w, 42, NULL, 0);
    /* size 10, corr 42, error 35, empty api_keys, no throttle field */
    pt_assert_hex(buf, w.len, "0000000a" "0000002a" "0023" "00000000");
    kp_wr_init(&w, buf, sizeof buf);
    kp_api_version av = { KP_API_API_VERSIONS, 0, 2 };
    kp_api_versions_unsupported_frame_encode(&w, 7, &av, 1);
    pt_assert_hex(buf, w.len, "00000010" "00000007" "0023" "00000001" "001200000002");
    kp_arena *a = kp_arena_new(0, 0);
    kp_response r;
    assert_int_equal(kp_response_frame_decode(buf, w.len, KP_API_API_VERSIONS, 0, a, &r), KP_ERR_NONE);
    assert_int_equal(r.hdr.correlation_id, 7);
    assert_int_equal(r.body.api_versions.error_code, KP_ERR_UNSUPPORTED_VERSION);
    assert_int_equal(r.body.api_versions.api_key_count, 1);
    assert_int_equal(r.body.api_versions.api_keys[0].max_version, 2);
    kp_arena_destroy(a);
}

static void api_table_names_and_ranges(void **state) {
    (void)state;
    assert_string_equal(kp_api_name(0), "Produce");
    assert_string_equal(kp_api_name(3), "Metadata");
    assert_string_equal(kp_api_name(18), "ApiVersions");
    assert_string_equal(kp_api_name(22), "InitProducerId");
    assert_string_equal(kp_api_name(24), "AddPartitionsToTxn");
    assert_string_equal(kp_api_name(26), "EndTxn");
    assert_string_equal(kp_api_name(42), "DeleteGroups");
    assert_string_equal(kp_api_name(43), "Unknown");
    assert_string_equal(kp_api_name(-1), "Unknown");
    static const struct { int16_t key, lo, hi; } want[] = {
        { 0, 3, 7 }, { 1, 4, 10 }, { 2, 1, 3 }, { 3, 1, 7 }, { 10, 0, 2 },
        { 18, 0, 2 }, { 22, 0, 1 }, { 24, 0, 1 }, { 26, 0, 1 },
    };
    assert_int_equal(kp_api_supported_count, 9);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const kp_api_version *v = kp_api_supported_range(want[i].key);
        assert_non_null(v);
        assert_int_equal(v->min_version, want[i].lo);
        assert_int_equal(v->max_version, want[i].hi);
        assert_true(kp_api_version_supported(want[i].key, want[i].lo));
        assert_true(kp_api_version_supported(want[i].key, want[i].hi));
        assert_false(kp_api_version_supported(want[i].key, (int16_t)(want[i].lo - 1)));
        assert_false(kp_api_version_supported(want[i].key, (int16_t)(want[i].hi + 1)));
        if (i > 0) /* ordered by key */
            assert_true(kp_api_supported[i - 1].api_key < kp_api_supported[i].api_key);
    }
    assert_null(kp_api_supported_range(11));
}

static void produce_with_acks_zero_has_no_response(void **state) {
    (void)state;
    kp_produce_request p0 = { KP_SLICE_NULL, 0, 1000, 0, NULL };
    kp_produce_request p1 = { KP_SLICE_NULL, 1, 1000, 0, NULL };
    kp_produce_request pall = { KP_SLICE_NULL, -1, 1000, 0, NULL };
    assert_false(kp_api_has_response(KP_API_PRODUCE, 7, &p0));
    assert_true(kp_api_has_response(KP_API_PRODUCE, 3, &p1));
    assert_true(kp_api_has_response(KP_API_PRODUCE, 5, &pall));
    kp_metadata_request m = { -1, NULL, true };
    assert_true(kp_api_has_response(KP_API_METADATA, 7, &m));
    assert_true(kp_api_has_response(KP_API_API_VERSIONS, 2, NULL));
}

/* kp_request_frame_decode_gathered: a Produce frame whose large records
 * were cut out decodes as the joined frame does, those records pointing
 * into the runs; runs that are not exactly records, or a frame that is not
 * a Produce request, are refused (the caller then joins and decodes). */
static void gathered_produce_frame_decodes_records_in_place(void **state) {
    (void)state;
    static uint8_t big1[300], big2[700], small[50];
    for (size_t i = 0; i < sizeof big1; i++)
        big1[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < sizeof big2; i++)
        big2[i] = (uint8_t)(i * 13 + 5);
    memset(small, 0x5a, sizeof small);
    kp_produce_partition_data p0[2] = { { 0, { big1, sizeof big1 } }, { 1, { small, sizeof small } } };
    kp_produce_partition_data p1[2] = { { 4, KP_SLICE_NULL }, { 5, { big2, sizeof big2 } } };
    kp_produce_topic_data td[2] = { { kp_slice_str("alpha"), 2, p0 }, { kp_slice_str("beta"), 2, p1 } };
    kp_produce_request m = { KP_SLICE_NULL, -1, 30000, 2, td };
    kp_request_header h = { KP_API_PRODUCE, 7, 42, kp_slice_str("producer-1") };
    kp_writer w;
    kp_wr_init(&w, NULL, 0);
    kp_request_frame_encode(&w, &h, &m);
    size_t n = w.len;
    uint8_t *joined = malloc(n), *cut = malloc(n), *r1 = malloc(sizeof big1), *r2 = malloc(sizeof big2);
    kp_wr_init(&w, joined, n);
    kp_request_frame_encode(&w, &h, &m);
    /* cut the two large records out (the runs live elsewhere) */
    const uint8_t *a = memmem(joined, n, big1, sizeof big1), *b = memmem(joined, n, big2, sizeof big2);
    assert_non_null(a);
    assert_non_null(b);
    size_t at1 = (size_t)(a - joined), at2 = (size_t)(b - joined);
    memcpy(cut, joined, at1);
    memcpy(cut + at1, a + sizeof big1, at2 - at1 - sizeof big1);
    memcpy(cut + at2 - sizeof big1, b + sizeof big2, n - at2 - sizeof big2);
    size_t cn = n - sizeof big1 - sizeof big2;
    memcpy(r1, big1, sizeof big1);
    memcpy(r2, big2, sizeof big2);
    kp_wr_run runs[3] = { { at1, r1, sizeof big1 }, { at2 - sizeof big1, r2, sizeof big2 } };
    kp_arena *ar = kp_arena_new(0, 0), *ar2 = kp_arena_new(0, 0);
    kp_request want, got;
    memset(&want, 0, sizeof want);
    memset(&got, 0, sizeof got);
    assert_int_equal(kp_request_frame_decode(joined, n, ar, &want), KP_ERR_NONE);
    assert_true(kp_request_frame_decode_gathered(cut, cn, runs, 2, ar2, &got));
    assert_int_equal(got.hdr.api_key, want.hdr.api_key);
    assert_int_equal(got.hdr.api_version, want.hdr.api_version);
    assert_int_equal(got.hdr.correlation_id, want.hdr.correlation_id);
    assert_int_equal(got.hdr.client_id.len, want.hdr.client_id.len);
    assert_memory_equal(got.hdr.client_id.ptr, want.hdr.client_id.ptr, (size_t)want.hdr.client_id.len);
    const kp_produce_request *gp = &got.body.produce, *wp = &want.body.produce;
    assert_int_equal(gp->acks, wp->acks);
    assert_int_equal(gp->timeout_ms, wp->timeout_ms);
    assert_int_equal(gp->transactional_id.len, wp->transactional_id.len);
    assert_int_equal(gp->topic_count, 2);
    for (int t = 0; t < 2; t++) {
        assert_int_equal(gp->topics[t].topic.len, wp->topics[t].topic.len);
        assert_memory_equal(gp->topics[t].topic.ptr, wp->topics[t].topic.ptr, (size_t)wp->topics[t].topic.len);
        assert_int_equal(gp->topics[t].partition_count, 2);
        for (int j = 0; j < 2; j++) {
            const kp_produce_partition_data *g = &gp->topics[t].partitions[j], *x = &wp->topics[t].partitions[j];
            assert_int_equal(g->partition, x->partition);
            assert_int_equal(g->records.len, x->records.len);
            if (x->records.len > 0)
                assert_memory_equal(g->records.ptr, x->records.ptr, (size_t)x->records.len);
        }
    }
    assert_ptr_equal(gp->topics[0].partitions[0].records.ptr, r1); /* in place */
    assert_ptr_equal(gp->topics[1].partitions[1].records.ptr, r2);
    /* refused: a run one byte off, a run too many, a run short, a bad size */
    kp_wr_run off1[2] = { { at1 + 1, r1, sizeof big1 }, runs[1] };
    assert_false(kp_request_frame_decode_gathered(cut, cn, off1, 2, ar2, &got));
    runs[2] = (kp_wr_run){ cn, r1, 10 };
    assert_false(kp_request_frame_decode_gathered(cut, cn, runs, 3, ar2, &got));
    kp_wr_run shorter[2] = { { at1, r1, sizeof big1 - 1 }, runs[1] };
    assert_false(kp_request_frame_decode_gathered(cut, cn, shorter, 2, ar2, &got));
    assert_false(kp_request_frame_decode_gathered(cut, cn, runs, 1, ar2, &got));
    /* a frame that is not a Produce request: never decoded here */
    kp_metadata_request md = { 0 };
    md.topic_count = -1;
    kp_request_header hm = { KP_API_METADATA, 7, 43, kp_slice_str("producer-1") };
    kp_wr_init(&w, joined, n);
    kp_request_frame_encode(&w, &hm, &md);
    assert_int_equal(w.err, KP_ERR_NONE);
    assert_false(kp_request_frame_decode_gathered(joined, w.len, NULL, 0, ar2, &got));
    kp_arena_destroy(ar);
    kp_arena_destroy(ar2);
    free(joined);
    free(cut);
    free(r1);
    free(r2);
}

static void sizing_pass_matches_written_frame(void **state) {
    (void)state;
    kp_slice topics[] = { kp_slice_str("a"), kp_slice_str("bb") };
    kp_metadata_request m = { 2, topics, false };
    kp_request_header h = { KP_API_METADATA, 4, 9, kp_slice_str("c") };
    kp_writer w;
    kp_wr_init(&w, NULL, 0);
    kp_request_frame_encode(&w, &h, &m);
    size_t need = w.len;
    uint8_t buf[64];
    kp_wr_init(&w, buf, need - 1); /* one byte short: the writer says so */
    kp_request_frame_encode(&w, &h, &m);
    assert_int_equal(w.err, KP_ERR__NOMEM);
    kp_wr_init(&w, buf, sizeof buf);
    kp_request_frame_encode(&w, &h, &m);
    assert_int_equal(w.err, KP_ERR_NONE);
    assert_int_equal(w.len, need);
    pt_assert_hex(buf, w.len, "00000017" "0003000400000009" "000163" "00000002" "000161" "00026262" "00");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vector_api_versions_request),
        cmocka_unit_test(vector_metadata_request),
        cmocka_unit_test(vector_produce_request),
        cmocka_unit_test(vector_init_producer_id_request),
        cmocka_unit_test(vector_find_coordinator_request),
        cmocka_unit_test(vector_add_partitions_to_txn_request),
        cmocka_unit_test(vector_end_txn_request),
        cmocka_unit_test(vector_produce_response),
        cmocka_unit_test(vector_init_producer_id_response),
        cmocka_unit_test(vector_metadata_response),
        cmocka_unit_test(vector_end_txn_response),
        cmocka_unit_test(request_header_roundtrip_and_null_client_id),
        cmocka_unit_test(request_header_decode_matches_generic_readers),
        cmocka_unit_test(response_header_roundtrip),
        cmocka_unit_test(frame_peek_waits_for_whole_frame_and_bounds_size),
        cmocka_unit_test(request_frame_decode_checks_size_and_version),
        cmocka_unit_test(gathered_produce_frame_decodes_records_in_place),
        cmocka_unit_test(response_frame_decode_rejects_unsupported_and_trailing),
        cmocka_unit_test(unknown_api_keys_and_short_frames_rejected),
        cmocka_unit_test(api_versions_unsupported_answer_is_v0_layout),
        cmocka_unit_test(api_table_names_and_ranges),
        cmocka_unit_test(produce_with_acks_zero_has_no_response),
        cmocka_unit_test(sizing_pass_matches_written_frame),
    };
    return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
