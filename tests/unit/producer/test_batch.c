/*
 * test_batch.c — ProducerBatch 2.1.1 and CompressionRatioEstimator, from
 * the behaviours ProducerBatchTest checks: callbacks once with base+index
 * offsets, no completion twice after success, delivery timeout boundary,
 * split preserving records, headers, codec and sequences; plus the exact
 * bytes of closed batches (KAFKA_FACTS.md vectors) and the estimate rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acc_fixtures.h"
#include "kp_batch.h"
#include "kp_compression_estimator.h"
#include "kp_events.h"
#include "kp_record_batch.h"

static uint8_t pool_buf[1 << 16];

static kp_batch *make(size_t cap, kp_codec codec, int64_t now, kp_compression_estimator *est,
                      uint8_t **staging_out) {
    kp_batch_params p = {
        .topic = "t",
        .partition = 0,
        .batch_id = 1,
        .buffer = pool_buf,
        .capacity = cap,
        .codec = codec,
        .now_ms = now,
        .estimator = est,
    };
    if (codec != KP_CODEC_NONE) {
        float r = est ? kp_compression_estimator_get(est, "t", codec) : 1.0f;
        p.staging_capacity = kp_batch_staging_size(codec, cap, r);
        p.staging = malloc(p.staging_capacity);
        *staging_out = p.staging;
    }
    kp_batch *b = kp_batch_new(&p);
    assert_non_null(b);
    return b;
}

static void hex_to_bytes(const char *hex, uint8_t *out, size_t *len) {
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    *len = n;
}

static void assert_records_equal_hex(const kp_batch *b, const char *hex) {
    uint8_t want[256];
    size_t n;
    hex_to_bytes(hex, want, &n);
    kp_slice r = kp_batch_records(b);
    assert_int_equal((size_t)r.len, n);
    assert_memory_equal(r.ptr, want, n);
}

#define ONE_RECORD_HEX \
    "000000000000000000000040ffffffff021c07770100000000000000000000000000000000000000000000ffffffffffffffffffffffffffff000000011c000000066b65790a76616c756500"
#define IDEMPOTENT_HEX \
    "000000000000000000000040ffffffff020b7e3603000000000000000000000000000000000000000000000000000000053d8a000000000000000000011c000000066b65790a76616c756500"
#define TXN_HEX \
    "000000000000000000000040ffffffff02e8b2116c00100000000000000000000000000000000000000000000000000001e240000000000005000000011c000000066b65790a76616c756500"
#define TWO_RECORDS_HEX \
    "00000000000000000000004fffffffff0207fc9cf900000000000100000000000003e800000000000003edffffffffffffffffffffffffffff0000000220000000086b6579310c76616c7565310018000a02010c76616c75653200"

static void batch_close_writes_the_2_1_1_bytes(void **state) {
    (void)state;
    kp_batch *b = make(16384, KP_CODEC_NONE, 0, NULL, NULL);
    assert_true(kp_batch_try_append(b, 0, fx_s("key"), fx_s("value"), NULL, 0, NULL, NULL, 0, NULL));
    assert_int_equal(kp_batch_records(b).len, -1); /* not built before close */
    assert_int_equal(kp_batch_close(b, NULL), KP_ERR_NONE);
    assert_records_equal_hex(b, ONE_RECORD_HEX);
    assert_int_equal(kp_batch_estimated_size(b), 76);
    assert_int_equal(kp_batch_close(b, NULL), KP_ERR_NONE); /* idempotent */
    kp_batch_destroy(b);

    b = make(16384, KP_CODEC_NONE, 0, NULL, NULL);
    kp_batch_try_append(b, 1000, fx_s("key1"), fx_s("value1"), NULL, 0, NULL, NULL, 0, NULL);
    kp_batch_try_append(b, 1005, KP_SLICE_NULL, fx_s("value2"), NULL, 0, NULL, NULL, 0, NULL);
    kp_batch_close(b, NULL);
    assert_records_equal_hex(b, TWO_RECORDS_HEX);
    kp_batch_destroy(b);
}

/* setProducerState before close (drain assigns, then closes) and after */
static void batch_producer_state_before_and_after_close(void **state) {
    (void)state;
    kp_batch *b = make(16384, KP_CODEC_NONE, 0, NULL, NULL);
    kp_batch_try_append(b, 0, fx_s("key"), fx_s("value"), NULL, 0, NULL, NULL, 0, NULL);
    kp_batch_assign_producer_state(b, 343434, 0, 0, false);
    assert_true(kp_batch_has_sequence(b));
    kp_batch_close(b, NULL);
    assert_records_equal_hex(b, IDEMPOTENT_HEX);
    /* rewritten in place after close: transactional, pid 123456, seq 5 */
    kp_batch_reset_producer_state(b, 123456, 0, 5, true);
    assert_true(kp_batch_sequence_has_been_reset(b));
    assert_records_equal_hex(b, TXN_HEX);
    assert_int_equal(kp_batch_base_sequence(b), 5);
    assert_true(kp_batch_transactional(b));
    kp_slice r = kp_batch_records(b);
    assert_int_equal(kp_batch_verify_crc(r.ptr, (size_t)r.len), KP_ERR_NONE);
    kp_batch_destroy(b);
}

static void batch_callbacks_fire_once_with_base_plus_index(void **state) {
    (void)state;
    fx_cb rec = { 0 };
    fx_cb_ctx ctx[3] = { { &rec, 10 }, { &rec, 11 }, { &rec, 12 } };
    kp_batch *b = make(16384, KP_CODEC_NONE, 100, NULL, NULL);
    for (int i = 0; i < 3; i++) {
        int32_t rel = -1;
        assert_true(kp_batch_try_append(b, 100 + i, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &ctx[i],
                                        100, &rel));
        assert_int_equal(rel, i);
    }
    assert_int_equal(kp_batch_record_count(b), 3);
    kp_batch_close(b, NULL);
    assert_true(kp_batch_done(b, 500, -1, KP_ERR_NONE, NULL, NULL));
    assert_int_equal(rec.count, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rec.offsets[i], 500 + i);
        assert_int_equal(rec.timestamps[i], 100 + i); /* CreateTime */
        assert_int_equal(rec.tags[i], 10 + i);         /* in append order */
        assert_int_equal(rec.errs[i], KP_ERR_NONE);
    }
    assert_int_equal(kp_batch_final_state(b), KP_BATCH_SUCCEEDED);
    kp_batch_destroy(b);
}

static void batch_log_append_time_replaces_create_time(void **state) {
    (void)state;
    fx_cb rec = { 0 };
    fx_cb_ctx ctx = { &rec, 0 };
    kp_batch *b = make(16384, KP_CODEC_NONE, 0, NULL, NULL);
    kp_batch_try_append(b, 7, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &ctx, 0, NULL);
    kp_batch_try_append(b, 8, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &ctx, 0, NULL);
    kp_batch_done(b, 0, 99999, KP_ERR_NONE, NULL, NULL);
    assert_int_equal(rec.timestamps[0], 99999);
    assert_int_equal(rec.timestamps[1], 99999);
    assert_int_equal(rec.offsets[1], 1);
    kp_batch_destroy(b);
    /* acks=0: base offset -1, every record's offset -1 */
    fx_cb r2 = { 0 };
    fx_cb_ctx c2 = { &r2, 0 };
    b = make(16384, KP_CODEC_NONE, 0, NULL, NULL);
    kp_batch_try_append(b, 7, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &c2, 0, NULL);
    kp_batch_try_append(b, 8, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &c2, 0, NULL);
    kp_batch_done(b, -1, -1, KP_ERR_NONE, NULL, NULL);
    assert_int_equal(r2.offsets[0], -1);
    assert_int_equal(r2.offsets[1], -1);
    kp_batch_destroy(b);
}

/* ProducerBatchTest.testBatchCannotCompleteTwice + the 2.1.1 done() rules */
static void batch_cannot_complete_twice(void **state) {
    (void)state;
    fx_cb rec = { 0 };
    fx_cb_ctx ctx = { &rec, 0 };
    kp_batch *b = make(16384, KP_CODEC_NONE, 0, NULL, NULL);
    kp_batch_try_append(b, 0, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &ctx, 0, NULL);
    bool illegal = false;
    assert_true(kp_batch_done(b, 10, -1, KP_ERR_NONE, NULL, &illegal));
    assert_false(illegal);
    assert_false(kp_batch_done(b, 20, -1, KP_ERR_NONE, NULL, &illegal));
    assert_true(illegal); /* "A SUCCEEDED batch must not attempt another state change" */
    assert_false(kp_batch_done(b, -1, -1, KP_ERR_REQUEST_TIMED_OUT, "x", &illegal));
    assert_true(illegal);
    assert_int_equal(kp_batch_abort(b, KP_ERR__ABORTED, NULL), KP_ERR__STATE);
    assert_int_equal(rec.count, 1); /* never fired again */
    assert_int_equal(rec.offsets[0], 10);
    kp_batch_destroy(b);

    /* FAILED -> FAILED and FAILED -> SUCCEEDED are ignored, not illegal */
    fx_cb r2 = { 0 };
    fx_cb_ctx c2 = { &r2, 0 };
    b = make(16384, KP_CODEC_NONE, 0, NULL, NULL);
    kp_batch_try_append(b, 0, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &c2, 0, NULL);
    assert_true(kp_batch_done(b, -1, -1, KP_ERR__TIMED_OUT, "Expiring 1 record(s)", &illegal));
    assert_false(kp_batch_done(b, 5, -1, KP_ERR_NONE, NULL, &illegal));
    assert_false(illegal);
    assert_int_equal(r2.count, 1);
    assert_int_equal(r2.errs[0], KP_ERR__TIMED_OUT);
    assert_int_equal(r2.offsets[0], -1);
    assert_int_equal(kp_batch_final_state(b), KP_BATCH_FAILED);
    kp_batch_destroy(b);
}

/* With a record wrap, every record completes through it with its own
 * callback and context, a record without callback included; the
 * callbacks are not called directly. */
typedef struct wrap_log {
    int n;
    kp_record_cb *cbs[4];
    void *ctxs[4];
    int32_t rel[4];
    kp_err errs[4];
} wrap_log;

static void wrap_record(void *wrap_ctx, kp_record_cb *cb, void *cb_ctx, const kp_record_metadata *md, kp_err err,
                        const char *msg) {
    (void)msg;
    wrap_log *l = wrap_ctx;
    l->cbs[l->n] = cb;
    l->ctxs[l->n] = cb_ctx;
    l->rel[l->n] = md->relative_offset;
    l->errs[l->n] = err;
    l->n++;
}

static void batch_records_complete_through_the_wrap(void **state) {
    (void)state;
    fx_cb rec = { 0 };
    fx_cb_ctx c1 = { &rec, 1 }, c2 = { &rec, 2 };
    wrap_log log = { 0 };
    kp_record_wrap wrap = { wrap_record, &log, NULL };
    kp_batch_params p = { .topic = "t", .partition = 0, .batch_id = 1, .buffer = pool_buf,
                          .capacity = 1024, .codec = KP_CODEC_NONE, .wrap = &wrap };
    kp_batch *b = kp_batch_new(&p);
    assert_true(kp_batch_try_append(b, 0, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &c1, 0, NULL));
    assert_true(kp_batch_try_append(b, 0, fx_s("k"), fx_s("v"), NULL, 0, NULL, NULL, 0, NULL));
    assert_true(kp_batch_try_append(b, 0, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &c2, 0, NULL));
    assert_true(kp_batch_done(b, 100, -1, KP_ERR_NONE, NULL, NULL));
    assert_int_equal(rec.count, 0); /* only the wrap calls them */
    assert_int_equal(log.n, 3);
    assert_ptr_equal(log.cbs[0], fx_record_cb);
    assert_ptr_equal(log.ctxs[0], &c1);
    assert_null(log.cbs[1]);
    assert_ptr_equal(log.ctxs[2], &c2);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(log.rel[i], i);
        assert_int_equal(log.errs[i], KP_ERR_NONE);
    }
    kp_batch_destroy(b);
}

/* The common batch (one callback, timestamp and key/value sizes for all
 * its records) completes through the wrap with each record's full
 * metadata: its own ctx, offset base + index (-1 without a base offset or
 * on error), CreateTime or the broker's LogAppendTime (-1 on error), the
 * shared sizes, the batch's topic, partition and id, the error message. */
typedef struct md_log {
    int n;
    void *ctx[3];
    kp_record_metadata md[3];
    kp_err err[3];
    const char *msg[3];
} md_log;

static void wrap_md(void *wrap_ctx, kp_record_cb *cb, void *cb_ctx, const kp_record_metadata *md, kp_err err,
                    const char *msg) {
    md_log *l = wrap_ctx;
    assert_ptr_equal(cb, fx_record_cb);
    l->ctx[l->n] = cb_ctx;
    l->md[l->n] = *md;
    l->err[l->n] = err;
    l->msg[l->n] = msg;
    l->n++;
}

static void batch_shared_thunks_complete_with_each_records_metadata(void **state) {
    (void)state;
    fx_cb rec = { 0 };
    fx_cb_ctx c[3] = { { &rec, 0 }, { &rec, 1 }, { &rec, 2 } };
    struct {
        int64_t base, log_append;
        kp_err err;
        const char *errmsg;
    } cases[] = {
        { 500, -1, KP_ERR_NONE, NULL },
        { 500, 777, KP_ERR_NONE, NULL },
        { -1, -1, KP_ERR_NONE, NULL },
        { 500, -1, KP_ERR_REQUEST_TIMED_OUT, "gone" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        md_log log = { 0 };
        kp_record_wrap wrap = { wrap_md, &log, NULL };
        kp_batch_params p = { .topic = "tt", .partition = 4, .batch_id = 31, .buffer = pool_buf,
                              .capacity = 1024, .codec = KP_CODEC_NONE, .wrap = &wrap };
        kp_batch *b = kp_batch_new(&p);
        for (int i = 0; i < 3; i++)
            assert_true(kp_batch_try_append(b, 42, fx_s("key"), fx_s("value"), NULL, 0, fx_record_cb, &c[i], 0,
                                            NULL));
        assert_true(kp_batch_done(b, cases[k].base, cases[k].log_append, cases[k].err, cases[k].errmsg, NULL));
        assert_int_equal(log.n, 3);
        for (int i = 0; i < 3; i++) {
            const kp_record_metadata *md = &log.md[i];
            assert_ptr_equal(log.ctx[i], &c[i]);
            assert_string_equal(md->topic, "tt");
            assert_int_equal(md->partition, 4);
            assert_int_equal(md->batch_id, 31);
            assert_int_equal(md->relative_offset, i);
            assert_int_equal(md->serialized_key_size, 3);
            assert_int_equal(md->serialized_value_size, 5);
            assert_int_equal(log.err[i], cases[k].err);
            if (cases[k].err) {
                assert_int_equal(md->offset, -1);
                assert_int_equal(md->timestamp, -1);
                assert_string_equal(log.msg[i], "gone");
            } else {
                assert_int_equal(md->offset, cases[k].base < 0 ? -1 : cases[k].base + i);
                assert_int_equal(md->timestamp, cases[k].log_append != -1 ? cases[k].log_append : 42);
                assert_null(log.msg[i]);
            }
        }
        kp_batch_destroy(b);
    }
    assert_int_equal(rec.count, 0);
}

/* A wrap with a run function gets a common batch of several records in
 * one call: the shared callback, the ctx column in append order, the base
 * offset (-1 when the records get none) and the batch's metadata; a batch
 * of one record, or one whose records differ, still goes record by
 * record through fn. */
typedef struct run_log {
    int runs, fns;
    kp_record_cb *cb;
    void *ctxs[4];
    int32_t n;
    int64_t base;
    kp_record_metadata md;
    kp_err err;
} run_log;

static void run_fn(void *wrap_ctx, kp_record_cb *cb, void *cb_ctx, const kp_record_metadata *md, kp_err err,
                   const char *msg) {
    (void)cb, (void)cb_ctx, (void)md, (void)err, (void)msg;
    ((run_log *)wrap_ctx)->fns++;
}

static void run_run(void *wrap_ctx, kp_record_cb *cb, void *const *ctxs, int32_t n, int64_t base_offset,
                    kp_record_metadata *md, kp_err err, const char *msg) {
    (void)msg;
    run_log *l = wrap_ctx;
    l->runs++;
    l->cb = cb;
    l->n = n;
    for (int32_t i = 0; i < n && i < 4; i++)
        l->ctxs[i] = ctxs[i];
    l->base = base_offset;
    l->md = *md;
    l->err = err;
}

static void batch_common_batch_completes_through_the_wraps_run(void **state) {
    (void)state;
    fx_cb rec = { 0 };
    fx_cb_ctx c[3] = { { &rec, 0 }, { &rec, 1 }, { &rec, 2 } };
    int64_t bases[] = { 900, -1 };
    kp_err errs[] = { KP_ERR_NONE, KP_ERR_NONE, KP_ERR_NOT_LEADER_FOR_PARTITION };
    for (int k = 0; k < 3; k++) {
        run_log log = { 0 };
        kp_record_wrap wrap = { run_fn, &log, run_run };
        kp_batch_params p = { .topic = "t", .partition = 2, .batch_id = 8, .buffer = pool_buf,
                              .capacity = 1024, .codec = KP_CODEC_NONE, .wrap = &wrap };
        kp_batch *b = kp_batch_new(&p);
        for (int i = 0; i < 3; i++)
            assert_true(kp_batch_try_append(b, 5, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &c[i], 0, NULL));
        assert_true(kp_batch_done(b, bases[k % 2], -1, errs[k], errs[k] ? "x" : NULL, NULL));
        assert_int_equal(log.runs, 1);
        assert_int_equal(log.fns, 0);
        assert_ptr_equal(log.cb, fx_record_cb);
        assert_int_equal(log.n, 3);
        for (int i = 0; i < 3; i++)
            assert_ptr_equal(log.ctxs[i], &c[i]);
        assert_int_equal(log.base, errs[k] ? -1 : bases[k % 2]);
        assert_int_equal(log.err, errs[k]);
        assert_int_equal(log.md.partition, 2);
        assert_int_equal(log.md.batch_id, 8);
        assert_int_equal(log.md.timestamp, errs[k] ? -1 : 5);
        kp_batch_destroy(b);
    }
    /* one record; records with different callbacks: fn per record */
    run_log log = { 0 };
    kp_record_wrap wrap = { run_fn, &log, run_run };
    kp_batch_params p = { .topic = "t", .partition = 2, .batch_id = 8, .buffer = pool_buf,
                          .capacity = 1024, .codec = KP_CODEC_NONE, .wrap = &wrap };
    kp_batch *b = kp_batch_new(&p);
    assert_true(kp_batch_try_append(b, 5, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &c[0], 0, NULL));
    assert_true(kp_batch_done(b, 1, -1, KP_ERR_NONE, NULL, NULL));
    kp_batch_destroy(b);
    b = kp_batch_new(&p);
    assert_true(kp_batch_try_append(b, 5, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &c[0], 0, NULL));
    assert_true(kp_batch_try_append(b, 5, fx_s("k"), fx_s("v"), NULL, 0, NULL, NULL, 0, NULL));
    assert_true(kp_batch_done(b, 1, -1, KP_ERR_NONE, NULL, NULL));
    kp_batch_destroy(b);
    assert_int_equal(log.runs, 0);
    assert_int_equal(log.fns, 3);
    assert_int_equal(rec.count, 0);
}

static void batch_abort_fires_callbacks_with_the_error(void **state) {
    (void)state;
    fx_events ev = { 0 };
    kp_observer obs = { fx_on_event, &ev };
    fx_cb rec = { 0 };
    fx_cb_ctx ctx = { &rec, 0 };
    kp_batch_params p = { .topic = "t", .partition = 3, .batch_id = 9, .buffer = pool_buf,
                          .capacity = 1024, .codec = KP_CODEC_NONE, .obs = &obs };
    kp_batch *b = kp_batch_new(&p);
    kp_batch_try_append(b, 0, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &ctx, 0, NULL);
    kp_batch_try_append(b, 0, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &ctx, 0, NULL);
    kp_batch_abort_record_appends(b);
    assert_false(kp_batch_try_append(b, 0, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &ctx, 0, NULL));
    assert_int_equal(kp_batch_abort(b, KP_ERR__CLOSED, "Producer is closed forcefully."), KP_ERR_NONE);
    assert_int_equal(rec.count, 2);
    assert_int_equal(rec.errs[1], KP_ERR__CLOSED);
    assert_int_equal(rec.partitions[1], 3);
    assert_int_equal(kp_batch_final_state(b), KP_BATCH_ABORTED);
    assert_int_equal(ev.count[KP_EV_BATCH_ABORTED], 1);
    assert_int_equal(kp_batch_close(b, NULL), KP_ERR__STATE); /* aborted: never built */
    kp_batch_destroy(b);
}

/* ProducerBatchTest.testBatchExpiration: the boundary is inclusive */
static void batch_delivery_timeout_boundary(void **state) {
    (void)state;
    kp_batch *b = make(1024, KP_CODEC_NONE, 1000, NULL, NULL);
    assert_false(kp_batch_has_reached_delivery_timeout(b, 120000, 1000 + 119999));
    assert_true(kp_batch_has_reached_delivery_timeout(b, 120000, 1000 + 120000));
    kp_batch_destroy(b);
}

/* hasRoomFor / isFull for codec none: write limit = capacity, the first
 * record is always accepted, even when it alone is past the limit. */
static void batch_room_and_full_without_compression(void **state) {
    (void)state;
    /* 76-byte batch for one key/value record; second record (offset delta
     * 1, same timestamp) is 15 bytes */
    kp_batch *b = make(76 + 15, KP_CODEC_NONE, 0, NULL, NULL);
    assert_true(kp_batch_try_append(b, 0, fx_s("key"), fx_s("value"), NULL, 0, NULL, NULL, 0, NULL));
    assert_false(kp_batch_is_full(b));
    assert_true(kp_batch_has_room_for(b, 0, fx_s("key"), fx_s("value"), NULL, 0));
    assert_false(kp_batch_has_room_for(b, 0, fx_s("key"), fx_s("value!"), NULL, 0));
    assert_true(kp_batch_try_append(b, 0, fx_s("key"), fx_s("value"), NULL, 0, NULL, NULL, 0, NULL));
    assert_true(kp_batch_is_full(b));
    assert_int_equal(kp_batch_estimated_size(b), 91);
    assert_false(kp_batch_try_append(b, 0, KP_SLICE_NULL, KP_SLICE_NULL, NULL, 0, NULL, NULL, 0, NULL));
    kp_batch_destroy(b);
    /* batch.size 0: one record per batch */
    b = make(93, KP_CODEC_NONE, 0, NULL, NULL);
    assert_true(kp_batch_try_append(b, 0, fx_s("key"), fx_s("value"), NULL, 0, NULL, NULL, 0, NULL));
    assert_int_equal(kp_record_size_upper_bound(fx_s("key"), fx_s("value"), NULL, 0), 93);
    assert_int_equal(kp_batch_max_record_size(b), 93);
    kp_batch_destroy(b);
}

/* hasRoomFor decides from the record's exact size (DefaultRecord.
 * sizeInBytes: its timestamp and offset deltas' varint lengths count);
 * kp_batch_has_room_kvh answers most records from an upper bound of that
 * size and must agree with the exact rule everywhere, also at the end of
 * a batch and for timestamp deltas from one to ten varint bytes. */
static void batch_room_agrees_with_the_exact_record_size(void **state) {
    (void)state;
    static uint8_t val[400];
    uint64_t x = 88172645463325252ULL;
    int answered = 0, refused = 0;
    size_t caps[] = { 200, 1024, 4096 };
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        kp_batch *b = make(caps[c], KP_CODEC_NONE, 0, NULL, NULL);
        int64_t first_ts = -1;
        for (int i = 0; i < 3000; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int32_t vlen = (int32_t)(x % 300);
            int shift = (int)((x >> 20) % 60);
            int64_t ts = (int64_t)((x >> 8) & ((1ULL << shift) - 1)) - (int64_t)((x >> 40) % 1000);
            kp_slice v = { val, vlen };
            size_t kvh = kp_record_kvh_size(KP_SLICE_NULL, v, NULL, 0);
            int32_t n = kp_batch_record_count(b);
            int64_t delta = n ? ts - first_ts : 0;
            size_t rec = kp_record_size_kvh(delta, n, kvh);
            bool want = !kp_batch_is_full(b) && (int64_t)kp_batch_estimated_size(b) + (int64_t)rec <= (int64_t)caps[c];
            assert_int_equal(kp_batch_has_room_kvh(b, ts, kvh), want);
            if (want) {
                assert_true(kp_batch_try_append_kvh(b, ts, KP_SLICE_NULL, v, NULL, 0, kvh, NULL, NULL, 0, NULL));
                if (n == 0)
                    first_ts = ts;
                answered++;
            } else {
                refused++;
                kp_batch_destroy(b);
                b = make(caps[c], KP_CODEC_NONE, 0, NULL, NULL);
            }
        }
        kp_batch_destroy(b);
    }
    assert_true(answered > 1000 && refused > 100);
}

/* The _kvh append path (the record sized once by the producer) decides
 * room and writes bytes exactly as the plain one: the same boundary as
 * above, the same max record size, byte-identical batches. */
static void batch_kvh_append_matches_plain_append(void **state) {
    (void)state;
    size_t kvh = kp_record_kvh_size(fx_s("key"), fx_s("value"), NULL, 0);
    size_t kvh_long = kp_record_kvh_size(fx_s("key"), fx_s("value!"), NULL, 0);
    kp_batch *b = make(76 + 15, KP_CODEC_NONE, 0, NULL, NULL);
    assert_true(kp_batch_try_append_kvh(b, 0, fx_s("key"), fx_s("value"), NULL, 0, kvh, NULL, NULL, 0, NULL));
    assert_true(kp_batch_has_room_kvh(b, 0, kvh));
    assert_false(kp_batch_has_room_kvh(b, 0, kvh_long));
    assert_false(kp_batch_try_append_kvh(b, 0, fx_s("key"), fx_s("value!"), NULL, 0, kvh_long, NULL, NULL, 0,
                                         NULL));
    assert_true(kp_batch_try_append_kvh(b, 0, fx_s("key"), fx_s("value"), NULL, 0, kvh, NULL, NULL, 0, NULL));
    assert_true(kp_batch_is_full(b));
    assert_int_equal(kp_batch_max_record_size(b), 93);
    assert_int_equal(kp_batch_close(b, NULL), KP_ERR_NONE);
    uint8_t got[256];
    kp_slice r = kp_batch_records(b);
    assert_true(r.len > 0 && (size_t)r.len <= sizeof got);
    memcpy(got, r.ptr, (size_t)r.len);
    int32_t len = r.len;
    kp_batch_destroy(b);
    b = make(76 + 15, KP_CODEC_NONE, 0, NULL, NULL);
    assert_true(kp_batch_try_append(b, 0, fx_s("key"), fx_s("value"), NULL, 0, NULL, NULL, 0, NULL));
    assert_true(kp_batch_try_append(b, 0, fx_s("key"), fx_s("value"), NULL, 0, NULL, NULL, 0, NULL));
    assert_int_equal(kp_batch_close(b, NULL), KP_ERR_NONE);
    r = kp_batch_records(b);
    assert_int_equal(r.len, len);
    assert_memory_equal(r.ptr, got, (size_t)len);
    kp_batch_destroy(b);
}

/* Closing updates the topic's compression estimate for its codec; an
 * uncompressed batch's estimate is never read (its size is exact), and
 * closing one leaves it alone. */
static void batch_close_updates_the_estimate_of_a_codec_only(void **state) {
    (void)state;
    kp_compression_estimator *est = kp_compression_estimator_new();
    kp_compression_estimator_set(est, "t", KP_CODEC_NONE, 0.5f);
    kp_compression_estimator_set(est, "t", KP_CODEC_GZIP, 0.5f);
    kp_dbuf scratch;
    kp_dbuf_init(&scratch, 0);
    char value[100];
    memset(value, 'x', sizeof value);
    kp_slice v = { (const uint8_t *)value, sizeof value };
    uint8_t *staging = NULL;
    kp_batch *b = make(4096, KP_CODEC_NONE, 0, est, &staging);
    assert_true(kp_batch_try_append(b, 0, KP_SLICE_NULL, v, NULL, 0, NULL, NULL, 0, NULL));
    assert_int_equal(kp_batch_estimated_size(b), 61 + (int32_t)kp_batch_uncompressed_bytes(b)); /* exact */
    assert_int_equal(kp_batch_close(b, &scratch), KP_ERR_NONE);
    assert_true(kp_batch_compression_ratio(b) == 1.0);
    assert_true(kp_compression_estimator_get(est, "t", KP_CODEC_NONE) == 0.5f); /* untouched */
    kp_batch_destroy(b);
    b = make(4096, KP_CODEC_GZIP, 0, est, &staging);
    assert_true(kp_batch_try_append(b, 0, KP_SLICE_NULL, v, NULL, 0, NULL, NULL, 0, NULL));
    assert_int_equal(kp_batch_close(b, &scratch), KP_ERR_NONE);
    assert_true(kp_batch_compression_ratio(b) > 0.0);
    assert_true(kp_compression_estimator_get(est, "t", KP_CODEC_GZIP) != 0.5f); /* updated */
    kp_batch_destroy(b);
    free(staging);
    kp_dbuf_free(&scratch);
    kp_compression_estimator_destroy(est);
}

/* With a codec the size is an estimate: header + raw * ratio * 1.05 */
static void batch_compressed_estimate_uses_the_ratio(void **state) {
    (void)state;
    kp_compression_estimator *est = kp_compression_estimator_new();
    kp_compression_estimator_set(est, "t", KP_CODEC_GZIP, 0.5f);
    uint8_t *staging = NULL;
    kp_batch *b = make(4096, KP_CODEC_GZIP, 0, est, &staging);
    assert_true(kp_batch_estimated_ratio(b) == 0.5f);
    char value[100];
    memset(value, 'x', sizeof value);
    kp_slice v = { (const uint8_t *)value, sizeof value };
    int n = 0;
    while (kp_batch_try_append(b, 0, KP_SLICE_NULL, v, NULL, 0, NULL, NULL, 0, NULL))
        n++;
    size_t raw = kp_batch_uncompressed_bytes(b);
    /* more raw bytes than the 4096-byte limit fit, as the estimate allows */
    assert_true(raw > 4096);
    float estf = (float)(int32_t)raw * 0.5f * 1.05f;
    assert_int_equal(kp_batch_estimated_size(b), 61 + (int32_t)estf);
    assert_true(kp_batch_is_full(b) || !kp_batch_has_room_for(b, 0, KP_SLICE_NULL, v, NULL, 0));
    kp_dbuf scratch;
    kp_dbuf_init(&scratch, 0);
    assert_int_equal(kp_batch_close(b, &scratch), KP_ERR_NONE);
    kp_slice r = kp_batch_records(b);
    assert_true(r.len < 4096); /* repetitive data compresses: copied into the pooled buffer */
    assert_ptr_equal(r.ptr, pool_buf);
    double ratio = kp_batch_compression_ratio(b);
    assert_true(ratio > 0.0 && ratio < 0.5);
    /* the estimate improved slowly: 0.5 - 0.005 */
    assert_true(kp_compression_estimator_get(est, "t", KP_CODEC_GZIP) == 0.5f - 0.005f);
    /* the records read back */
    kp_record_iter it;
    kp_dbuf d;
    kp_dbuf_init(&d, 0);
    assert_int_equal(kp_record_iter_init(&it, r.ptr, (size_t)r.len, &d), KP_ERR_NONE);
    kp_record rr;
    int got = 0;
    while (kp_record_iter_next(&it, &rr)) {
        assert_int_equal(rr.value.len, 100);
        got++;
    }
    assert_int_equal(it.err, KP_ERR_NONE);
    assert_int_equal(got, n);
    kp_dbuf_free(&d);
    kp_dbuf_free(&scratch);
    kp_batch_destroy(b);
    free(staging);
    kp_compression_estimator_destroy(est);
}

/* CompressionRatioEstimator: up fast (+0.05 or to the observed), down slow */
static void estimator_moves_up_fast_and_down_slowly(void **state) {
    (void)state;
    kp_compression_estimator *e = kp_compression_estimator_new();
    assert_true(kp_compression_estimator_get(e, "t", KP_CODEC_LZ4) == 1.0f);
    assert_true(kp_compression_estimator_update(e, "t", KP_CODEC_LZ4, 0.3f) == 1.0f - 0.005f);
    assert_true(kp_compression_estimator_update(e, "t", KP_CODEC_LZ4, 0.3f) == (1.0f - 0.005f) - 0.005f);
    float cur = kp_compression_estimator_get(e, "t", KP_CODEC_LZ4);
    assert_true(kp_compression_estimator_update(e, "t", KP_CODEC_LZ4, cur + 0.01f) == cur + 0.05f);
    assert_true(kp_compression_estimator_update(e, "t", KP_CODEC_LZ4, 1.7f) == 1.7f);
    assert_true(kp_compression_estimator_update(e, "t", KP_CODEC_LZ4, 1.7f) == 1.7f); /* equal: kept */
    /* per topic and per codec */
    assert_true(kp_compression_estimator_get(e, "t", KP_CODEC_GZIP) == 1.0f);
    assert_true(kp_compression_estimator_get(e, "u", KP_CODEC_LZ4) == 1.0f);
    kp_compression_estimator_reset(e, "t");
    assert_true(kp_compression_estimator_get(e, "t", KP_CODEC_LZ4) == 1.0f);
    kp_compression_estimator_set(e, "t", KP_CODEC_ZSTD, 0.25f);
    kp_compression_estimator_remove(e, "t");
    assert_true(kp_compression_estimator_get(e, "t", KP_CODEC_ZSTD) == 1.0f);
    kp_compression_estimator_destroy(e);
}

/* The estimator's hints: a hit skips the name lookup; remove moves the
 * entries behind the removed one, so an older hint must not be trusted. */
static void estimator_hint_goes_stale_on_remove(void **state) {
    (void)state;
    kp_compression_estimator *e = kp_compression_estimator_new();
    kp_hint h = { 0, 0 };
    assert_true(kp_compression_estimator_get_h(e, "a", KP_CODEC_LZ4, &h) == 1.0f);
    assert_true(h.gen != 0);
    kp_compression_estimator_set(e, "a", KP_CODEC_LZ4, 2.0f);
    assert_true(kp_compression_estimator_get_h(e, "a", KP_CODEC_LZ4, &h) == 2.0f);
    kp_compression_estimator_set(e, "b", KP_CODEC_LZ4, 3.0f);
    assert_true(kp_compression_estimator_update_h(e, "a", KP_CODEC_LZ4, 1.0f, &h) == 2.0f - 0.005f);
    assert_true(kp_compression_estimator_get(e, "a", KP_CODEC_LZ4) == 2.0f - 0.005f);
    assert_true(kp_compression_estimator_get(e, "b", KP_CODEC_LZ4) == 3.0f);
    kp_compression_estimator_remove(e, "a"); /* "b" moves to a's index */
    assert_true(kp_compression_estimator_get_h(e, "a", KP_CODEC_LZ4, &h) == 1.0f); /* not b's */
    assert_true(kp_compression_estimator_update_h(e, "a", KP_CODEC_LZ4, 1.5f, &h) == 1.5f);
    assert_true(kp_compression_estimator_get(e, "b", KP_CODEC_LZ4) == 3.0f);
    kp_compression_estimator_destroy(e);
}

static void batch_reenqueue_and_drain_bookkeeping(void **state) {
    (void)state;
    kp_batch *b = make(1024, KP_CODEC_NONE, 100, NULL, NULL);
    kp_batch_try_append(b, 0, fx_s("k"), fx_s("v"), NULL, 0, NULL, NULL, 150, NULL);
    assert_int_equal(kp_batch_last_append_ms(b), 150);
    assert_int_equal(kp_batch_waited_ms(b, 120), 20); /* from lastAttempt = created */
    assert_int_equal(kp_batch_waited_ms(b, 50), 0);
    kp_batch_drained(b, 300);
    kp_batch_drained(b, 200); /* max */
    assert_int_equal(kp_batch_queue_time_ms(b), 200);
    kp_batch_reenqueued(b, 140); /* max(lastAppend 150, now) */
    assert_int_equal(kp_batch_attempts(b), 1);
    assert_int_equal(kp_batch_last_attempt_ms(b), 150);
    assert_true(kp_batch_in_retry(b));
    kp_batch_reenqueued(b, 400);
    assert_int_equal(kp_batch_attempts(b), 2);
    assert_int_equal(kp_batch_last_attempt_ms(b), 400);
    assert_int_equal(kp_batch_last_append_ms(b), 400);
    kp_batch_destroy(b);
}

/* ProducerBatchTest.testSplitPreservesHeaders / MagicAndCompressionType */
static void batch_split_preserves_records_headers_codec(void **state) {
    (void)state;
    for (kp_codec codec = KP_CODEC_NONE; codec <= KP_CODEC_ZSTD; codec++) {
        fx_cb rec = { 0 };
        fx_cb_ctx ctx[40];
        uint8_t *staging = NULL;
        kp_batch *b = make(1 << 15, codec, 77, NULL, &staging);
        char value[200];
        kp_header h = { fx_s("header-key"), fx_s("header-value") };
        for (int i = 0; i < 40; i++) {
            memset(value, 'a' + i % 26, sizeof value);
            ctx[i] = (fx_cb_ctx){ &rec, i };
            assert_true(kp_batch_try_append(b, 1000 + i, fx_s("key"),
                                            (kp_slice){ (const uint8_t *)value, sizeof value }, &h, 1,
                                            fx_record_cb, &ctx[i], 80, NULL));
        }
        kp_batch_assign_producer_state(b, 5, 1, 100, false);
        kp_dbuf scratch;
        kp_dbuf_init(&scratch, 0);
        assert_int_equal(kp_batch_close(b, &scratch), KP_ERR_NONE);
        kp_batch *pieces[40];
        int64_t next_id = 50;
        kp_err err;
        int n = kp_batch_split(b, 1024, &scratch, &next_id, pieces, 40, &err);
        assert_true(n > 1);
        assert_int_equal(next_id, 50 + n);
        int total = 0;
        int32_t seq = 100;
        for (int k = 0; k < n; k++) {
            kp_batch *p = pieces[k];
            assert_true(kp_batch_is_split_batch(p));
            assert_int_equal(kp_batch_compression(p), codec);
            assert_int_equal(kp_batch_created_ms(p), 77); /* creation time retained */
            assert_int_equal(kp_batch_base_sequence(p), seq);
            assert_int_equal(kp_batch_producer_id(p), 5);
            assert_int_equal(kp_batch_flush_origin(p), kp_batch_flush_origin(b));
            /* closed for appends (closeForRecordAppends): no new record
             * can ride on a piece whose sequence range is fixed */
            assert_true(kp_batch_is_full(p));
            assert_false(kp_batch_try_append(p, 2000, fx_s("k"), fx_s("v"), NULL, 0, NULL, NULL, 90, NULL));
            seq += kp_batch_record_count(p);
            total += kp_batch_record_count(p);
            assert_int_equal(kp_batch_close(p, &scratch), KP_ERR_NONE);
            kp_slice r = kp_batch_records(p);
            if (kp_batch_record_count(p) > 1)
                assert_true(codec != KP_CODEC_NONE || r.len <= 1024);
            kp_record_iter it;
            kp_dbuf d;
            kp_dbuf_init(&d, 0);
            assert_int_equal(kp_record_iter_init(&it, r.ptr, (size_t)r.len, &d), KP_ERR_NONE);
            kp_record rr;
            while (kp_record_iter_next(&it, &rr)) {
                assert_int_equal(rr.header_count, 1);
                kp_header_iter hi;
                kp_header hh;
                kp_header_iter_init(&hi, &rr);
                assert_true(kp_header_iter_next(&hi, &hh));
                assert_true(kp_slice_eq_str(hh.key, "header-key"));
                assert_true(kp_slice_eq_str(hh.value, "header-value"));
                assert_true(kp_slice_eq_str(rr.key, "key"));
            }
            assert_int_equal(it.err, KP_ERR_NONE);
            kp_dbuf_free(&d);
        }
        assert_int_equal(total, 40);
        /* the big batch fired nothing; each piece fires its own records */
        assert_false(kp_batch_is_done(b));
        int64_t base = 0;
        for (int k = 0; k < n; k++) {
            kp_batch_done(pieces[k], base, -1, KP_ERR_NONE, NULL, NULL);
            base += kp_batch_record_count(pieces[k]);
            kp_batch_destroy(pieces[k]);
        }
        assert_int_equal(rec.count, 40);
        for (int i = 0; i < 40; i++) {
            assert_int_equal(rec.tags[i], i);      /* every record once, in order */
            assert_int_equal(rec.offsets[i], i);
            assert_int_equal(rec.timestamps[i], 1000 + i);
        }
        kp_dbuf_free(&scratch);
        kp_batch_destroy(b);
        free(staging);
    }
}

static void batch_split_of_an_open_batch_is_refused(void **state) {
    (void)state;
    kp_batch *b = make(1024, KP_CODEC_NONE, 0, NULL, NULL);
    kp_batch_try_append(b, 0, fx_s("k"), fx_s("v"), NULL, 0, NULL, NULL, 0, NULL);
    kp_batch *out[2];
    int64_t id = 1;
    kp_err err;
    assert_int_equal(kp_batch_split(b, 1024, NULL, &id, out, 2, &err), -1);
    assert_int_equal(err, KP_ERR__STATE);
    kp_batch_destroy(b);
}

static void batch_thunk_columns_grow_to_the_expected_count_then_by_a_quarter(void **state) {
    (void)state;
    kp_batch *b = make(1 << 16, KP_CODEC_NONE, 0, NULL, NULL);
    int n = 0;
    while (kp_batch_try_append(b, 0, KP_SLICE_NULL, KP_SLICE_NULL, NULL, 0, NULL, NULL, 0, NULL))
        n++;
    assert_true(n > 5000); /* 7-byte records: thousands in 64 KiB */
    /* records of one size: the first growth (at 16) goes straight to the
     * count the capacity holds at that size, so the columns grow once and
     * end within an eighth of n */
    assert_int_equal(kp_batch_thunk_growths(b), 1);
    kp_batch_destroy(b);
    /* records that grow: 16 small ones set the first growth (capped at what
     * the capacity holds at the smallest record), then the columns double up
     * to 256 and grow by a quarter: logarithmic reallocs, never one per record */
    b = make(1 << 16, KP_CODEC_NONE, 0, NULL, NULL);
    static uint8_t big[600];
    n = 0;
    for (;; n++) {
        kp_slice v = { big, n < 16 ? 0 : (int32_t)(n % 600) };
        if (!kp_batch_try_append(b, 0, KP_SLICE_NULL, v, NULL, 0, NULL, NULL, 0, NULL))
            break;
    }
    assert_true(n > 200);
    assert_true(kp_batch_thunk_growths(b) <= 2);
    kp_batch_destroy(b);
    /* records that start large and shrink: the estimate from the first 16
     * is too low, and the columns double from it, then grow by a quarter */
    b = make(1 << 16, KP_CODEC_NONE, 0, NULL, NULL);
    n = 0;
    for (;; n++) {
        kp_slice v = { big, n < 16 ? 500 : 0 };
        if (!kp_batch_try_append(b, 0, KP_SLICE_NULL, v, NULL, 0, NULL, NULL, 0, NULL))
            break;
    }
    assert_true(n > 5000);
    uint32_t g = kp_batch_thunk_growths(b);
    assert_true(g > 2 && g < 40);
    kp_batch_destroy(b);
}

/* Callback state by column: a batch whose records share the callback
 * function, timestamp and sizes keeps only a ctx per record; records that
 * differ (two callback functions, a null key, another timestamp, a NULL
 * callback) from some record on still complete through their own
 * callback, ctx and metadata, in append order, once each — on done and
 * after a split. */
typedef struct mix_call {
    int fn;        /* 0: mix_a, 1: mix_b */
    int rec;       /* *ctx */
    int64_t offset;
    int64_t timestamp;
    int32_t key_size, value_size, relative_offset;
    kp_err err;
} mix_call;
static mix_call mix_calls[64];
static int mix_n;

static void mix_note(int fn, void *ctx, const kp_record_metadata *md, kp_err err) {
    assert_true(mix_n < 64);
    mix_calls[mix_n++] = (mix_call){ fn, *(int *)ctx, md->offset, md->timestamp, md->serialized_key_size,
                                     md->serialized_value_size, md->relative_offset, err };
}
static void mix_a(void *ctx, const kp_record_metadata *md, kp_err err, const char *msg) {
    (void)msg;
    mix_note(0, ctx, md, err);
}
static void mix_b(void *ctx, const kp_record_metadata *md, kp_err err, const char *msg) {
    (void)msg;
    mix_note(1, ctx, md, err);
}

typedef struct mix_rec {
    kp_record_cb *cb;
    int64_t ts;
    const char *key;   /* NULL: null key */
    const char *value;
} mix_rec;

/* record 6 has no callback; the others alternate from record 3 on */
static const mix_rec mix_recs[8] = {
    { mix_a, 100, "k", "v" },    { mix_a, 100, "k", "v" },     { mix_a, 100, "k", "v" },
    { mix_b, 105, NULL, "vvvv" }, { mix_a, 100, "kk", "v" },   { mix_b, 90, "k", "v" },
    { NULL, 100, "k", "v" },     { mix_a, 100, "k", "vvvvvv" },
};

static kp_slice mix_slice(const char *s) {
    return s ? fx_s(s) : KP_SLICE_NULL;
}

static void mix_expect(int from, int to, int64_t base, int first_rel) {
    int rel = first_rel;
    for (int i = from; i < to; i++, rel++) {
        if (!mix_recs[i].cb)
            continue;
        mix_call *c = NULL;
        for (int k = 0; k < mix_n; k++)
            if (mix_calls[k].rec == i)
                c = &mix_calls[k];
        assert_non_null(c);
        assert_int_equal(c->fn, mix_recs[i].cb == mix_b ? 1 : 0);
        assert_int_equal(c->offset, base + rel);
        assert_int_equal(c->relative_offset, rel);
        assert_int_equal(c->timestamp, mix_recs[i].ts);
        assert_int_equal(c->key_size, mix_recs[i].key ? (int32_t)strlen(mix_recs[i].key) : -1);
        assert_int_equal(c->value_size, (int32_t)strlen(mix_recs[i].value));
        assert_int_equal(c->err, KP_ERR_NONE);
    }
}

static void batch_mixed_callbacks_each_record_its_own(void **state) {
    (void)state;
    static int ctx[8];
    kp_batch *b = make(4096, KP_CODEC_NONE, 0, NULL, NULL);
    for (int i = 0; i < 3; i++) {
        ctx[i] = i;
        assert_true(kp_batch_try_append(b, mix_recs[i].ts, mix_slice(mix_recs[i].key), fx_s(mix_recs[i].value),
                                        NULL, 0, mix_recs[i].cb, &ctx[i], 0, NULL));
    }
    /* one callback function, timestamp and sizes: only the ctx column */
    assert_int_equal(kp_batch_thunk_bytes(b), 16 * sizeof(void *));
    for (int i = 3; i < 8; i++) {
        ctx[i] = i;
        assert_true(kp_batch_try_append(b, mix_recs[i].ts, mix_slice(mix_recs[i].key), fx_s(mix_recs[i].value),
                                        NULL, 0, mix_recs[i].cb, &ctx[i], 0, NULL));
    }
    /* every field now differs somewhere: all columns in use */
    assert_int_equal(kp_batch_thunk_bytes(b), 16 * (2 * sizeof(void *) + 8 + 4 + 4));

    /* kept open and unsplit: done calls each record's own callback in order */
    mix_n = 0;
    assert_true(kp_batch_done(b, 1000, -1, KP_ERR_NONE, NULL, NULL));
    assert_int_equal(mix_n, 7);
    for (int k = 0, i = 0; i < 8; i++)
        if (mix_recs[i].cb)
            assert_int_equal(mix_calls[k++].rec, i);
    mix_expect(0, 8, 1000, 0);
    kp_batch_destroy(b);

    /* split into small pieces: each piece's records keep their callbacks */
    b = make(4096, KP_CODEC_NONE, 0, NULL, NULL);
    for (int i = 0; i < 8; i++)
        assert_true(kp_batch_try_append(b, mix_recs[i].ts, mix_slice(mix_recs[i].key), fx_s(mix_recs[i].value),
                                        NULL, 0, mix_recs[i].cb, &ctx[i], 0, NULL));
    kp_dbuf scratch;
    kp_dbuf_init(&scratch, 0);
    assert_int_equal(kp_batch_close(b, &scratch), KP_ERR_NONE);
    kp_batch *pieces[8];
    int64_t next_id = 10;
    kp_err err;
    int n = kp_batch_split(b, 1, &scratch, &next_id, pieces, 8, &err);
    assert_true(n >= 3); /* pieces of a record or two */
    mix_n = 0;
    int first = 0;
    for (int i = 0; i < n; i++) {
        int rc = kp_batch_record_count(pieces[i]);
        int before = mix_n;
        assert_true(kp_batch_done(pieces[i], 2000 + 100 * i, -1, KP_ERR_NONE, NULL, NULL));
        for (int k = before, r = first; r < first + rc; r++)
            if (mix_recs[r].cb)
                assert_int_equal(mix_calls[k++].rec, r);
        mix_expect(first, first + rc, 2000 + 100 * i, 0);
        first += rc;
    }
    assert_int_equal(first, 8);
    assert_int_equal(mix_n, 7);
    for (int i = 0; i < n; i++)
        kp_batch_destroy(pieces[i]);
    kp_dbuf_free(&scratch);
    kp_batch_destroy(b);
}

/* A ratio estimate near zero would let Java batch without bound; the
 * staging is capped (64x the write limit, 16 MiB) and hasRoomFor then says
 * no, so the batch still ends. */
static void batch_staging_is_capped_when_the_estimate_collapses(void **state) {
    (void)state;
    size_t body = 16384 - 61;
    size_t s0 = kp_batch_staging_size(KP_CODEC_LZ4, 16384, 0.0f);
    assert_true(s0 >= 61 + body * 64);
    assert_true(s0 <= 61 + kp_compress_bound(KP_CODEC_LZ4, body * 64) + 64);
    size_t s1 = kp_batch_staging_size(KP_CODEC_LZ4, 16384, 1.0f);
    assert_true(s1 >= 61 + kp_compress_bound(KP_CODEC_LZ4, body));
    assert_true(s1 < 2 * 16384);
    size_t big = kp_batch_staging_size(KP_CODEC_ZSTD, (size_t)1 << 20, 0.001f);
    assert_true(big <= 61 + kp_compress_bound(KP_CODEC_ZSTD, (size_t)16 << 20) + 64);
    assert_int_equal(kp_batch_staging_size(KP_CODEC_NONE, 16384, 0.5f), 0);

    kp_compression_estimator *est = kp_compression_estimator_new();
    kp_compression_estimator_set(est, "t", KP_CODEC_LZ4, -0.01f); /* below zero, as Java can drift */
    uint8_t *staging = NULL;
    kp_batch *b = make(4096, KP_CODEC_LZ4, 0, est, &staging);
    char value[100];
    memset(value, 'z', sizeof value);
    kp_slice v = { (const uint8_t *)value, sizeof value };
    long n = 0;
    while (kp_batch_try_append(b, 0, KP_SLICE_NULL, v, NULL, 0, NULL, NULL, 0, NULL))
        n++;
    assert_true(n > 1000);                                   /* far past 4096 bytes raw */
    assert_true(kp_batch_uncompressed_bytes(b) <= (4096 - 61) * 64 + 200);
    kp_dbuf scratch;
    kp_dbuf_init(&scratch, 0);
    assert_int_equal(kp_batch_close(b, &scratch), KP_ERR_NONE);
    assert_int_equal(kp_batch_record_count(b), (int32_t)n);
    kp_dbuf_free(&scratch);
    kp_batch_destroy(b);
    free(staging);
    kp_compression_estimator_destroy(est);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batch_close_writes_the_2_1_1_bytes),
        cmocka_unit_test(estimator_hint_goes_stale_on_remove),
        cmocka_unit_test(batch_producer_state_before_and_after_close),
        cmocka_unit_test(batch_callbacks_fire_once_with_base_plus_index),
        cmocka_unit_test(batch_records_complete_through_the_wrap),
        cmocka_unit_test(batch_shared_thunks_complete_with_each_records_metadata),
        cmocka_unit_test(batch_common_batch_completes_through_the_wraps_run),
        cmocka_unit_test(batch_log_append_time_replaces_create_time),
        cmocka_unit_test(batch_cannot_complete_twice),
        cmocka_unit_test(batch_abort_fires_callbacks_with_the_error),
        cmocka_unit_test(batch_delivery_timeout_boundary),
        cmocka_unit_test(batch_room_and_full_without_compression),
        cmocka_unit_test(batch_kvh_append_matches_plain_append),
        cmocka_unit_test(batch_room_agrees_with_the_exact_record_size),
        cmocka_unit_test(batch_compressed_estimate_uses_the_ratio),
        cmocka_unit_test(estimator_moves_up_fast_and_down_slowly),
        cmocka_unit_test(batch_reenqueue_and_drain_bookkeeping),
        cmocka_unit_test(batch_split_preserves_records_headers_codec),
        cmocka_unit_test(batch_split_of_an_open_batch_is_refused),
        cmocka_unit_test(batch_thunk_columns_grow_to_the_expected_count_then_by_a_quarter),
        cmocka_unit_test(batch_mixed_callbacks_each_record_its_own),
        cmocka_unit_test(batch_staging_is_capped_when_the_estimate_collapses),
        cmocka_unit_test(batch_close_updates_the_estimate_of_a_codec_only),
    };
    return cmocka_run_group_tests_name("batch", tests, NULL, NULL);
}
