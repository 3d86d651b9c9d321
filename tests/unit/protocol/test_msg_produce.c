/*
 * test_msg_produce.c — Produce v3..v7: round trips at every version with
 * several topics and partitions, null and empty record sets, a null and a
 * set transactional id; defaults of absent fields; malformed input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto_testutil.h"

static const uint8_t batch_a[] = { 0, 0, 0, 0, 0, 0, 0, 7, 0xde, 0xad, 0xbe, 0xef, 0x02 };
static const uint8_t batch_b[] = { 0xff, 0x00, 0x7f };

static kp_produce_request sample_request(kp_slice txn_id, int16_t acks, int32_t timeout_ms) {
    static kp_produce_partition_data p1[] = {
        { 0, { batch_a, sizeof batch_a } },
        { 5, { NULL, -1 } },         /* null record set */
        { -1, { batch_b, 0 } },      /* empty record set, odd partition id */
    };
    static kp_produce_partition_data p2[] = {
        { 2147483647, { batch_b, sizeof batch_b } },
    };
    static kp_produce_topic_data topics[] = {
        { { (const uint8_t *)"test", 4 }, 3, p1 },
        { { (const uint8_t *)"", 0 }, 1, p2 }, /* empty topic name */
        { { (const uint8_t *)"orders.v2", 9 }, 0, NULL },
    };
    return (kp_produce_request){ txn_id, acks, timeout_ms, 3, topics };
}

static void assert_request_eq(const kp_produce_request *a, const kp_produce_request *b) {
    pt_assert_slice_eq(a->transactional_id, b->transactional_id);
    assert_int_equal(a->acks, b->acks);
    assert_int_equal(a->timeout_ms, b->timeout_ms);
    assert_int_equal(a->topic_count, b->topic_count);
    for (int32_t i = 0; i < a->topic_count; i++) {
        pt_assert_slice_eq(a->topics[i].topic, b->topics[i].topic);
        assert_int_equal(a->topics[i].partition_count, b->topics[i].partition_count);
        for (int32_t j = 0; j < a->topics[i].partition_count; j++) {
            assert_int_equal(a->topics[i].partitions[j].partition, b->topics[i].partitions[j].partition);
            pt_assert_slice_eq(a->topics[i].partitions[j].records, b->topics[i].partitions[j].records);
        }
    }
}

static void produce_request_roundtrips_every_version(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_produce_request reqs[] = {
        sample_request(KP_SLICE_NULL, -1, 30000),
        sample_request(kp_slice_str("txn-1"), 1, -5),
        sample_request(kp_slice_str(""), 0, 0),
    };
    for (size_t k = 0; k < sizeof reqs / sizeof reqs[0]; k++) {
        for (int16_t v = KP_PRODUCE_MIN_VERSION; v <= KP_PRODUCE_MAX_VERSION; v++) {
            kp_request_body out;
            size_t len;
            kp_arena_reset(a);
            uint8_t *buf = pt_roundtrip(PT_REQ, KP_API_PRODUCE, v, &reqs[k], a, &out, &len);
            assert_request_eq(&reqs[k], &out.produce);
            /* record sets are zero-copy: they point into the input */
            const kp_slice rec = out.produce.topics[0].partitions[0].records;
            assert_true(rec.ptr >= buf && rec.ptr + rec.len <= buf + len);
            free(buf);
        }
    }
    kp_arena_destroy(a);
}

static kp_produce_response sample_response(void) {
    static kp_produce_partition_response p1[] = {
        { 0, KP_ERR_NONE, 42, -1, 0 },
        { 1, KP_ERR_NOT_LEADER_FOR_PARTITION, -1, -1, -1 },
        { 7, KP_ERR_DUPLICATE_SEQUENCE_NUMBER, 9000000000LL, 1700000000123LL, 12 },
    };
    static kp_produce_partition_response p2[] = {
        { 3, KP_ERR_UNKNOWN_SERVER_ERROR, INT64_MIN, INT64_MAX, -77 },
    };
    static kp_produce_topic_response topics[] = {
        { { (const uint8_t *)"test", 4 }, 3, p1 },
        { { (const uint8_t *)"other", 5 }, 1, p2 },
    };
    return (kp_produce_response){ 2, topics, 250 };
}

static void produce_response_roundtrips_every_version(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_produce_response m = sample_response();
    for (int16_t v = KP_PRODUCE_MIN_VERSION; v <= KP_PRODUCE_MAX_VERSION; v++) {
        kp_response_body out;
        size_t len;
        kp_arena_reset(a);
        uint8_t *buf = pt_roundtrip(PT_RESP, KP_API_PRODUCE, v, &m, a, &out, &len);
        const kp_produce_response *g = &out.produce;
        assert_int_equal(g->throttle_time_ms, 250);
        assert_int_equal(g->topic_count, 2);
        for (int32_t i = 0; i < 2; i++) {
            pt_assert_slice_eq(g->topics[i].topic, m.topics[i].topic);
            assert_int_equal(g->topics[i].partition_count, m.topics[i].partition_count);
            for (int32_t j = 0; j < m.topics[i].partition_count; j++) {
                const kp_produce_partition_response *e = &m.topics[i].partitions[j];
                const kp_produce_partition_response *p = &g->topics[i].partitions[j];
                assert_int_equal(p->partition, e->partition);
                assert_int_equal(p->error_code, e->error_code);
                assert_int_equal(p->base_offset, e->base_offset);
                assert_int_equal(p->log_append_time, e->log_append_time);
                /* log_start_offset is v5+; Kafka's default before is -1 */
                assert_int_equal(p->log_start_offset, v >= 5 ? e->log_start_offset : -1);
            }
        }
        /* v3/v4 partitions are 22 bytes, v5+ 30 */
        size_t want = 4 + (2 + 4 + 4 + 3 * (v >= 5 ? 30 : 22)) + (2 + 5 + 4 + (v >= 5 ? 30 : 22)) + 4;
        assert_int_equal(len, want);
        free(buf); /* decoded slices point into it: free only now */
    }
    kp_arena_destroy(a);
}

static void produce_request_huge_counts_rejected_before_allocation(void **state) {
    (void)state;
    size_t len;
    /* no txn id, acks 1, timeout 1000, topics count 0x7fffffff, then 6 bytes */
    uint8_t *buf = pt_unhex("ffff0001000003e87fffffff000174000000", &len);
    kp_arena *a = kp_arena_new(0, 0);
    kp_request_body out;
    assert_int_equal(pt_decode(PT_REQ, KP_API_PRODUCE, 7, buf, len, a, &out), KP_ERR__BAD_MSG);
    assert_int_equal(kp_arena_reserved(a), 0);
    free(buf);
    /* one topic "t", partitions count 0x10000000 with 8 bytes left */
    buf = pt_unhex("ffff0001000003e800000001000174100000000000000000000000", &len);
    assert_int_equal(pt_decode(PT_REQ, KP_API_PRODUCE, 7, buf, len, a, &out), KP_ERR__BAD_MSG);
    free(buf);
    /* negative count (other than -1) and null (-1) array: both malformed */
    buf = pt_unhex("ffff0001000003e8fffffffe", &len);
    assert_int_equal(pt_decode(PT_REQ, KP_API_PRODUCE, 7, buf, len, a, &out), KP_ERR__BAD_MSG);
    free(buf);
    buf = pt_unhex("ffff0001000003e8ffffffff", &len);
    assert_int_equal(pt_decode(PT_REQ, KP_API_PRODUCE, 7, buf, len, a, &out), KP_ERR__BAD_MSG);
    free(buf);
    kp_arena_destroy(a);
}

static void produce_null_topic_name_rejected(void **state) {
    (void)state;
    size_t len;
    /* topic name length -1 in a non-nullable STRING */
    uint8_t *buf = pt_unhex("ffff0001000003e800000001ffff00000000", &len);
    kp_arena *a = kp_arena_new(0, 0);
    kp_request_body out;
    assert_int_equal(pt_decode(PT_REQ, KP_API_PRODUCE, 5, buf, len, a, &out), KP_ERR__BAD_MSG);
    free(buf);
    /* response: topic name null */
    kp_response_body rout;
    buf = pt_unhex("00000001ffff0000000000000000", &len);
    assert_int_equal(pt_decode(PT_RESP, KP_API_PRODUCE, 5, buf, len, a, &rout), KP_ERR__BAD_MSG);
    free(buf);
    /* a record set length below -1 */
    buf = pt_unhex("ffff0001000003e800000001000174000000010000000080000000", &len);
    assert_int_equal(pt_decode(PT_REQ, KP_API_PRODUCE, 5, buf, len, a, &out), KP_ERR__BAD_MSG);
    free(buf);
    kp_arena_destroy(a);
}

static void produce_decode_fails_cleanly_when_arena_bound_is_hit(void **state) {
    (void)state;
    /* 200 partitions need 200 * sizeof(kp_produce_partition_data) bytes of
     * arena; a 512-byte bound refuses and the decoder says NOMEM. */
    enum { N = 200 };
    kp_produce_partition_data parts[N];
    for (int i = 0; i < N; i++)
        parts[i] = (kp_produce_partition_data){ i, KP_SLICE_NULL };
    kp_produce_topic_data t = { kp_slice_str("t"), N, parts };
    kp_produce_request m = { KP_SLICE_NULL, 1, 100, 1, &t };
    size_t len;
    uint8_t *buf = pt_encode(PT_REQ, KP_API_PRODUCE, 7, &m, &len);
    kp_arena *small = kp_arena_new(64, 512);
    kp_request_body out;
    assert_int_equal(pt_decode(PT_REQ, KP_API_PRODUCE, 7, buf, len, small, &out), KP_ERR__NOMEM);
    assert_true(kp_arena_reserved(small) <= 512);
    kp_arena *big = kp_arena_new(0, 0);
    assert_int_equal(pt_decode(PT_REQ, KP_API_PRODUCE, 7, buf, len, big, &out), KP_ERR_NONE);
    assert_int_equal(out.produce.topics[0].partition_count, N);
    assert_int_equal(out.produce.topics[0].partitions[N - 1].partition, N - 1);
    kp_arena_destroy(small);
    kp_arena_destroy(big);
    free(buf);
}

static void produce_unsupported_versions_rejected(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    kp_request_body out;
    kp_response_body rout;
    size_t len;
    kp_produce_request m = sample_request(KP_SLICE_NULL, 1, 1);
    uint8_t *buf = pt_encode(PT_REQ, KP_API_PRODUCE, 3, &m, &len);
    for (int16_t v = -1; v < 3; v++)
        assert_int_equal(pt_decode(PT_REQ, KP_API_PRODUCE, v, buf, len, a, &out), KP_ERR__UNSUPPORTED);
    for (int16_t v = 8; v < 12; v++) {
        assert_int_equal(pt_decode(PT_REQ, KP_API_PRODUCE, v, buf, len, a, &out), KP_ERR__UNSUPPORTED);
        assert_int_equal(pt_decode(PT_RESP, KP_API_PRODUCE, v, buf, len, a, &rout), KP_ERR__UNSUPPORTED);
    }
    free(buf);
    kp_arena_destroy(a);
}

/* ---- the cursor decoders against the generic readers ------------------ */

/* The reference: the Produce decoders as written with the kp_rd_* readers
 * (before kp_msg_produce.c read through a local cursor). The decoders in
 * kp_msg_produce.c must give the same verdict and, on success, the same
 * message for any input. */
static kp_err ref_request_decode(kp_reader *r, kp_arena *a, kp_produce_request *out) {
    *out = (kp_produce_request){ 0 };
    out->transactional_id = kp_rd_nullable_string(r);
    out->acks = kp_rd_i16(r);
    out->timeout_ms = kp_rd_i32(r);
    int32_t nt = kp_rd_array_len(r, 2 + 4, false);
    if (!r->err && nt > 0 && !(out->topics = kp_arena_calloc(a, (size_t)nt, sizeof *out->topics)))
        kp_rd_fail(r, KP_ERR__NOMEM);
    for (int32_t i = 0; i < nt && !r->err; i++) {
        kp_produce_topic_data *t = &out->topics[i];
        t->topic = kp_rd_string(r);
        int32_t np = kp_rd_array_len(r, 4 + 4, false);
        if (!r->err && np > 0 && !(t->partitions = kp_arena_calloc(a, (size_t)np, sizeof *t->partitions)))
            kp_rd_fail(r, KP_ERR__NOMEM);
        for (int32_t j = 0; j < np && !r->err; j++) {
            t->partitions[j].partition = kp_rd_i32(r);
            t->partitions[j].records = kp_rd_nullable_bytes(r);
        }
        t->partition_count = r->err ? 0 : np;
    }
    out->topic_count = r->err ? 0 : nt;
    if (!r->err && r->p != r->end)
        kp_rd_fail(r, KP_ERR__BAD_MSG);
    return r->err;
}

static kp_err ref_response_decode(kp_reader *r, int16_t version, kp_arena *a, kp_produce_response *out) {
    *out = (kp_produce_response){ 0 };
    int32_t nt = kp_rd_array_len(r, 2 + 4, false);
    if (!r->err && nt > 0 && !(out->topics = kp_arena_calloc(a, (size_t)nt, sizeof *out->topics)))
        kp_rd_fail(r, KP_ERR__NOMEM);
    for (int32_t i = 0; i < nt && !r->err; i++) {
        kp_produce_topic_response *t = &out->topics[i];
        t->topic = kp_rd_string(r);
        int32_t np = kp_rd_array_len(r, 4 + 2 + 8 + 8 + (version >= 5 ? 8 : 0), false);
        if (!r->err && np > 0 && !(t->partitions = kp_arena_calloc(a, (size_t)np, sizeof *t->partitions)))
            kp_rd_fail(r, KP_ERR__NOMEM);
        for (int32_t j = 0; j < np && !r->err; j++) {
            kp_produce_partition_response *p = &t->partitions[j];
            p->partition = kp_rd_i32(r);
            p->error_code = kp_rd_i16(r);
            p->base_offset = kp_rd_i64(r);
            p->log_append_time = kp_rd_i64(r);
            p->log_start_offset = version >= 5 ? kp_rd_i64(r) : -1;
        }
        t->partition_count = r->err ? 0 : np;
    }
    out->topic_count = r->err ? 0 : nt;
    out->throttle_time_ms = kp_rd_i32(r);
    if (!r->err && r->p != r->end)
        kp_rd_fail(r, KP_ERR__BAD_MSG);
    return r->err;
}

static void assert_response_eq(const kp_produce_response *a, const kp_produce_response *b) {
    assert_int_equal(a->topic_count, b->topic_count);
    assert_int_equal(a->throttle_time_ms, b->throttle_time_ms);
    for (int32_t i = 0; i < a->topic_count; i++) {
        pt_assert_slice_eq(a->topics[i].topic, b->topics[i].topic);
        assert_int_equal(a->topics[i].partition_count, b->topics[i].partition_count);
        for (int32_t j = 0; j < a->topics[i].partition_count; j++) {
            const kp_produce_partition_response *x = &a->topics[i].partitions[j];
            const kp_produce_partition_response *y = &b->topics[i].partitions[j];
            assert_int_equal(x->partition, y->partition);
            assert_int_equal(x->error_code, y->error_code);
            assert_int_equal(x->base_offset, y->base_offset);
            assert_int_equal(x->log_append_time, y->log_append_time);
            assert_int_equal(x->log_start_offset, y->log_start_offset);
        }
    }
}

/* One input through both decoders (arena bound `bound`, 0 = default). */
static void diff_one(bool request, int16_t v, const uint8_t *buf, size_t len, size_t bound) {
    kp_arena *a1 = kp_arena_new(64, bound), *a2 = kp_arena_new(64, bound);
    kp_reader r1, r2;
    kp_rd_init(&r1, buf, len);
    kp_rd_init(&r2, buf, len);
    if (request) {
        kp_produce_request m1, m2;
        kp_err e1 = kp_produce_request_decode(&r1, v, a1, &m1);
        kp_err e2 = ref_request_decode(&r2, a2, &m2);
        assert_int_equal(e1, e2);
        assert_int_equal(m1.topic_count, m2.topic_count);
        if (!e1)
            assert_request_eq(&m1, &m2);
    } else {
        kp_produce_response m1, m2;
        kp_err e1 = kp_produce_response_decode(&r1, v, a1, &m1);
        kp_err e2 = ref_response_decode(&r2, v, a2, &m2);
        assert_int_equal(e1, e2);
        assert_int_equal(m1.topic_count, m2.topic_count);
        if (!e1)
            assert_response_eq(&m1, &m2);
    }
    assert_int_equal(r1.err, r2.err);
    assert_true(r1.p == r2.p);
    kp_arena_destroy(a1);
    kp_arena_destroy(a2);
}

/* Every prefix of a reference encoding, and every byte of it replaced by
 * each of a few values that turn lengths and counts into -1, -2, huge,
 * zero or short: the cursor decoders and the generic readers agree. */
static void produce_cursor_decoders_match_generic_readers(void **state) {
    (void)state;
    static const uint8_t subst[] = { 0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff };
    kp_produce_partition_response pr1[] = { { 0, 0, 42, -1, 7 }, { 3, 6, -1, 1234567890123LL, -1 } };
    kp_produce_partition_response pr2[] = { { 9, 0, 1, 2, 3 } };
    kp_produce_topic_response tr[] = {
        { kp_slice_str("test"), 2, pr1 }, { kp_slice_str(""), 1, pr2 }, { kp_slice_str("x"), 0, NULL },
    };
    kp_produce_response resp = { 3, tr, 17 };
    for (int16_t v = KP_PRODUCE_MIN_VERSION; v <= KP_PRODUCE_MAX_VERSION; v++) {
        for (int kind = 0; kind < 2; kind++) {
            bool request = kind == 0;
            kp_produce_request req = sample_request(v & 1 ? kp_slice_str("txn") : KP_SLICE_NULL, -1, 30000);
            size_t len;
            uint8_t *buf = pt_encode(request, KP_API_PRODUCE, v, request ? (const void *)&req : (const void *)&resp,
                                     &len);
            for (size_t n = 0; n <= len; n++)
                diff_one(request, v, buf, n, 0);
            for (size_t i = 0; i < len; i++) {
                uint8_t keep = buf[i];
                for (size_t s = 0; s < sizeof subst; s++) {
                    buf[i] = subst[s];
                    diff_one(request, v, buf, len, 0);
                }
                buf[i] = keep;
            }
            diff_one(request, v, buf, len, 64); /* the arena bound refuses */
            free(buf);
        }
    }
}

/* The response field by field through the generic writers (the encoder's
 * general path): what its one-pass path must equal. */
static void ref_response_encode(kp_writer *w, int16_t v, const kp_produce_response *m) {
    kp_wr_i32(w, m->topic_count);
    for (int32_t i = 0; i < m->topic_count; i++) {
        kp_wr_string(w, m->topics[i].topic);
        kp_wr_i32(w, m->topics[i].partition_count);
        for (int32_t j = 0; j < m->topics[i].partition_count; j++) {
            const kp_produce_partition_response *p = &m->topics[i].partitions[j];
            kp_wr_i32(w, p->partition);
            kp_wr_i16(w, p->error_code);
            kp_wr_i64(w, p->base_offset);
            kp_wr_i64(w, p->log_append_time);
            if (v >= 5)
                kp_wr_i64(w, p->log_start_offset);
        }
    }
    kp_wr_i32(w, m->throttle_time_ms);
}

/* The encoder writes the same bytes as the generic writers whether the
 * buffer has room for all (one pass), exactly the room, one byte too
 * little (refused: NOMEM, the length the whole would take, nothing
 * written past the room), after bytes already written, or sizes only. */
static void produce_response_encode_matches_generic_writers(void **state) {
    (void)state;
    kp_produce_partition_response pr1[] = { { 0, 0, 42, -1, 7 }, { 3, 6, -1, 1234567890123LL, -1 } };
    kp_produce_partition_response pr2[] = { { -9, -1, INT64_MIN, INT64_MAX, 3 } };
    kp_produce_topic_response tr[] = {
        { kp_slice_str("test"), 2, pr1 }, { kp_slice_str(""), 1, pr2 }, { kp_slice_str("x"), 0, NULL },
    };
    kp_produce_response shapes[] = { sample_response(), { 3, tr, -17 }, { 1, tr, 0 }, { 0, NULL, 5 } };
    for (int16_t v = KP_PRODUCE_MIN_VERSION; v <= KP_PRODUCE_MAX_VERSION; v++) {
        for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
            uint8_t want[512], got[512];
            kp_writer rw;
            kp_wr_init(&rw, want, sizeof want);
            ref_response_encode(&rw, v, &shapes[k]);
            assert_int_equal(rw.err, KP_ERR_NONE);
            size_t n = rw.len;
            for (size_t pre = 0; pre < 3; pre += 2) { /* pre bytes already in the buffer */
                for (size_t cap = pre + n - 1; cap <= pre + n + 8; cap++) {
                    memset(got, 0xa5, sizeof got);
                    kp_writer w;
                    kp_wr_init(&w, got, cap);
                    for (size_t i = 0; i < pre; i++)
                        kp_wr_i8(&w, (int8_t)i);
                    kp_produce_response_encode(&w, v, &shapes[k]);
                    assert_int_equal(w.len, pre + n);
                    if (cap < pre + n) {
                        assert_int_equal(w.err, KP_ERR__NOMEM);
                        for (size_t i = cap; i < sizeof got; i++)
                            assert_int_equal(got[i], 0xa5);
                    } else {
                        assert_int_equal(w.err, KP_ERR_NONE);
                        assert_memory_equal(got + pre, want, n);
                        assert_int_equal(got[pre + n], 0xa5);
                    }
                }
            }
            kp_writer sz;
            kp_wr_init(&sz, NULL, 0);
            kp_produce_response_encode(&sz, v, &shapes[k]);
            assert_int_equal(sz.len, n);
            assert_int_equal(sz.err, KP_ERR_NONE);
        }
    }
}


int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(produce_request_roundtrips_every_version),
        cmocka_unit_test(produce_response_roundtrips_every_version),
        cmocka_unit_test(produce_request_huge_counts_rejected_before_allocation),
        cmocka_unit_test(produce_null_topic_name_rejected),
        cmocka_unit_test(produce_decode_fails_cleanly_when_arena_bound_is_hit),
        cmocka_unit_test(produce_unsupported_versions_rejected),
        cmocka_unit_test(produce_cursor_decoders_match_generic_readers),
        cmocka_unit_test(produce_response_encode_matches_generic_writers),
    };
    return cmocka_run_group_tests_name("msg_produce", tests, NULL, NULL);
}
