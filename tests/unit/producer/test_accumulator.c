/*
 * test_accumulator.c — RecordAccumulator 2.1.1, from the behaviours
 * RecordAccumulatorTest checks: full batches, large records, linger,
 * next-ready-check delay, retry backoff, flush, aborts, expiry, muting,
 * drain order (2.1.1's shared index and the per-node fix), partial drains,
 * splitting, unknown leaders, memory exhaustion, idempotent sequencing;
 * plus the no-malloc-after-warm-up property of the hot path.
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
#include "kp_batch_int.h"
#include "kp_accumulator.h"
#include "kp_events.h"
#include "kp_record_batch.h"

#define T "topic"

typedef struct fx {
    kp_config cfg;
    kp_buffer_pool *pool;
    kp_accumulator *acc;
    fx_events ev;
    kp_observer obs;
    fx_cb rec;
    fx_cb_ctx ctx;
    char err[256];
} fx;

static fx *setup(int32_t batch_size, int64_t memory, int32_t linger_ms, kp_codec codec,
                 bool bug_13834) {
    fx *f = calloc(1, sizeof *f);
    kp_config_init(&f->cfg);
    f->cfg.batch_size = batch_size;
    f->cfg.buffer_memory = memory;
    f->cfg.linger_ms = linger_ms;
    f->cfg.compression_type = (kp_compression)codec;
    f->cfg.retry_backoff_ms = 100;
    f->cfg.delivery_timeout_ms = 120000;
    f->cfg.bug_kafka_13834 = bug_13834;
    f->obs = (kp_observer){ fx_on_event, &f->ev };
    f->pool = kp_buffer_pool_new(memory, (size_t)batch_size, &f->obs);
    f->acc = kp_accumulator_new(&f->cfg, f->pool, &f->obs);
    f->ctx = (fx_cb_ctx){ &f->rec, 0 };
    return f;
}

static void check(const fx *f) {
    char why[256];
    if (!kp_accumulator_verify(f->acc, why, sizeof why))
        fail_msg("accumulator broken: %s", why);
    if (!kp_buffer_pool_verify(f->pool, why, sizeof why))
        fail_msg("pool broken: %s", why);
}

static void teardown(fx *f) {
    check(f);
    kp_accumulator_destroy(f->acc);
    assert_true(kp_buffer_pool_is_whole(f->pool)); /* everything came back */
    kp_buffer_pool_destroy(f->pool);
    free(f);
}

static kp_append_result app(fx *f, const char *topic, int32_t p, int64_t now, kp_slice key,
                            kp_slice value) {
    kp_append_result r;
    memset(&r, 0, sizeof r);
    kp_err e;
    kp_append_status st = kp_accumulator_append(f->acc, topic, p, now, key, value, NULL, 0, fx_record_cb,
                                                &f->ctx, now, 1000, NULL, &r, &e, f->err, sizeof f->err);
    if (st != KP_APPEND_OK)
        fail_msg("append failed: %d %s", (int)e, f->err);
    /* the producer's wakeup test, precomputed */
    assert_int_equal(r.wake_sender, r.batch_is_full || r.new_batch_created);
    return r;
}

static kp_append_result app1(fx *f, int32_t p, int64_t now) {
    return app(f, T, p, now, fx_s("key"), fx_s("value"));
}

/* key "key" + value "0123456789": a batch of one such record is ONE bytes
 * and two never fit in max(batch.size <= ONE, upper bound 98), so every
 * append of it makes a batch of its own (DefaultRecordBatch sizes). */
#define ONE 81
static kp_append_result app1b(fx *f, int32_t p, int64_t now) {
    return app(f, T, p, now, fx_s("key"), fx_s("0123456789"));
}

/* complete every batch of a drain successfully and give it back */
static void complete_all(fx *f, const kp_drain_result *d, int64_t base) {
    for (size_t i = 0; i < d->node_count; i++)
        for (size_t k = 0; k < d->nodes[i].count; k++) {
            kp_batch *b = d->nodes[i].batches[k];
            assert_true(kp_batch_done(b, base, -1, KP_ERR_NONE, NULL, NULL));
            kp_accumulator_deallocate(f->acc, b);
        }
}

static kp_ready_result ready(fx *f, const kp_cluster *cl, int64_t now) {
    kp_ready_result r;
    kp_accumulator_ready(f->acc, cl, now, &r);
    return r;
}

static kp_drain_result drain(fx *f, const kp_cluster *cl, const int32_t *nodes, size_t n,
                             int32_t max, int64_t now) {
    kp_drain_result d;
    kp_accumulator_drain(f->acc, cl, nodes, n, max, now, &d);
    return d;
}

static const int32_t NODE0[] = { 0 };
static const int32_t NODES01[] = { 0, 1 };

/* ------------------------------------------------------------------ */

/* An append through a topic's handle (the send path's) and one by name
 * reach the same deque, for partitions below and far above the ones the
 * handle indexes directly (and a negative one, never a real partition),
 * and a handle made before any append makes the name known. */
static kp_append_result app_t(fx *f, kp_acc_topic *t, int32_t p, int64_t now) {
    kp_append_result r;
    kp_err e;
    kp_slice k = fx_s("key"), v = fx_s("value");
    kp_append_status st = kp_accumulator_append_t(f->acc, t, p, now, k, v, NULL, 0,
                                                  kp_record_kvh_size(k, v, NULL, 0), fx_record_cb, &f->ctx,
                                                  now, 1000, NULL, &r, &e, f->err, sizeof f->err);
    if (st != KP_APPEND_OK)
        fail_msg("append failed: %d %s", (int)e, f->err);
    return r;
}

static void acc_topic_handle_reaches_the_deques_by_name(void **state) {
    (void)state;
    fx *f = setup(1024, 64 * 1024, 0, KP_CODEC_NONE, false);
    assert_null(kp_accumulator_topic_name(f->acc, "u"));
    kp_acc_topic *u = kp_accumulator_topic(f->acc, "u");
    assert_non_null(u);
    assert_ptr_equal(kp_accumulator_topic_name(f->acc, "u"), kp_acc_topic_name(u));
    kp_acc_topic *t = kp_accumulator_topic(f->acc, T);
    assert_int_equal(kp_acc_topic_index(u), 0);
    assert_int_equal(kp_acc_topic_index(t), 1);
    int32_t parts[] = { 0, 5, 1, 40, (1 << 20) + 3, -2, 0x7fffffff };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        kp_append_result a = app_t(f, t, parts[i], 0);
        kp_append_result b = app(f, T, parts[i], 0, fx_s("key"), fx_s("value"));
        assert_ptr_equal(a.batch, b.batch); /* the same open batch */
        assert_int_equal(kp_accumulator_queued_batches(f->acc, T, parts[i]), 1);
        assert_int_equal(kp_batch_record_count(a.batch), 2);
        assert_int_equal(kp_batch_partition(a.batch), parts[i]);
        /* the other topic's partition of the same number is its own */
        assert_int_equal(kp_accumulator_queued_batches(f->acc, "u", parts[i]), 0);
        assert_true(kp_accumulator_would_start_new_batch_t(f->acc, u, parts[i], 0, 10));
        assert_false(kp_accumulator_would_start_new_batch_t(f->acc, t, parts[i], 0, 10));
    }
    char why[128];
    assert_true(kp_accumulator_verify(f->acc, why, sizeof why));
    kp_accumulator_abort_undrained_batches(f->acc, KP_ERR__CLOSED, "test over");
    teardown(f);
}

/* Record by record, kp_accumulator_append_t emits exactly Java's events: a
 * record the last batch has room for gives APPEND (and BATCH_FULL "full"
 * when it fills the batch) and nothing else; a record that finds no room
 * closes that batch with one BATCH_FULL (none when it was closed already)
 * and starts a new one (BATCH_CREATED, APPEND). Records of varied sizes
 * over three partitions, and every deque checked after each append. */
static kp_append_result full_t(fx *f, kp_acc_topic *t, int32_t p, int64_t now, kp_slice v) {
    kp_append_result r;
    memset(&r, 0, sizeof r);
    kp_err e = KP_ERR__STATE;
    kp_slice k = KP_SLICE_NULL;
    kp_append_status st = kp_accumulator_append_t(f->acc, t, p, now, k, v, NULL, 0, kp_record_kvh_size(k, v, NULL, 0),
                                                  fx_record_cb, &f->ctx, now, 1000, NULL, &r, &e, f->err,
                                                  sizeof f->err);
    if (st != KP_APPEND_OK)
        fail_msg("append failed: %d %s", (int)e, f->err);
    assert_int_equal(e, KP_ERR_NONE);
    /* the producer's wakeup test, precomputed, on both paths (into the
     * last batch, into a new one) */
    assert_int_equal(r.wake_sender, r.batch_is_full || r.new_batch_created);
    return r;
}

static void acc_append_into_the_last_batch_emits_javas_events(void **state) {
    (void)state;
    fx *f = setup(512, 64 * 1024, 0, KP_CODEC_NONE, false);
    kp_acc_topic *t = kp_accumulator_topic(f->acc, T);
    static uint8_t bytes[200];
    int into_last = 0, new_batches = 0;
    for (int i = 0; i < 90; i++) {
        int32_t p = i % 3;
        kp_slice v = { bytes, 10 + (i * 37) % 150 };
        size_t kvh = kp_record_kvh_size(KP_SLICE_NULL, v, NULL, 0);
        size_t nq = kp_accumulator_queued_batches(f->acc, T, p);
        kp_batch *last = nq ? kp_accumulator_queued_batch(f->acc, T, p, nq - 1) : NULL;
        bool room = last && kp_batch_has_room_kvh(last, i, kvh);
        bool was_closed = last && last->closed_for_appends;
        int app0 = f->ev.count[KP_EV_APPEND], full0 = f->ev.count[KP_EV_BATCH_FULL],
            new0 = f->ev.count[KP_EV_BATCH_CREATED], tot0 = f->ev.total;
        kp_append_result r = full_t(f, t, p, i, v);
        assert_int_equal(f->ev.count[KP_EV_APPEND], app0 + 1);
        if (room) {
            into_last++;
            assert_ptr_equal(r.batch, last);
            assert_false(r.new_batch_created);
            int full = kp_batch_is_full(last) ? 1 : 0;
            assert_int_equal(f->ev.count[KP_EV_BATCH_FULL], full0 + full);
            assert_int_equal(f->ev.total, tot0 + 1 + full);
            assert_int_equal(r.batch_is_full, nq > 1 || full);
        } else {
            new_batches++;
            assert_true(r.new_batch_created);
            assert_ptr_not_equal(r.batch, last);
            assert_int_equal(f->ev.count[KP_EV_BATCH_CREATED], new0 + 1);
            int closing = last && !was_closed ? 1 : 0;
            assert_int_equal(f->ev.count[KP_EV_BATCH_FULL], full0 + closing);
            if (last)
                assert_true(last->closed_for_appends);
            assert_int_equal(kp_accumulator_queued_batches(f->acc, T, p), nq + 1);
        }
        check(f);
    }
    assert_true(into_last > 40);
    assert_true(new_batches > 6); /* first batches and full ones */
    /* closed: even a record some last batch has room for is refused
     * (append checks `closed` before tryAppend) */
    kp_slice v1 = { bytes, 1 };
    size_t kvh1 = kp_record_kvh_size(KP_SLICE_NULL, v1, NULL, 0);
    int32_t roomy = -1;
    for (int32_t p = 0; p < 3 && roomy < 0; p++) {
        size_t nq = kp_accumulator_queued_batches(f->acc, T, p);
        if (kp_batch_has_room_kvh(kp_accumulator_queued_batch(f->acc, T, p, nq - 1), 100, kvh1))
            roomy = p;
    }
    assert_true(roomy >= 0);
    kp_accumulator_close(f->acc);
    int tot = f->ev.total;
    kp_append_result r;
    kp_err e;
    assert_int_equal(kp_accumulator_append_t(f->acc, t, roomy, 100, KP_SLICE_NULL, v1, NULL, 0, kvh1, fx_record_cb,
                                             &f->ctx, 100, 1000, NULL, &r, &e, f->err, sizeof f->err),
                     KP_APPEND_ERROR);
    assert_int_equal(e, KP_ERR__CLOSED);
    assert_int_equal(f->ev.total, tot);
    kp_accumulator_abort_undrained_batches(f->acc, KP_ERR__CLOSED, "test over");
    teardown(f);
}

/* ready remembers each partition's leader per cluster: a new cluster
 * (even one at the freed one's address) and a cluster sealed after it was
 * first asked are asked again. */
/* kp_accumulator_topic_name: NULL until a record of the topic was
 * appended, then the accumulator's own copy (not the caller's string),
 * the pointer its batches carry, and the same pointer for the rest of the
 * accumulator's life however many topics, partitions and batches follow. */
static void acc_topic_name_is_one_stable_copy(void **state) {
    (void)state;
    fx *f = setup(1024, 64 * 1024, 0, KP_CODEC_NONE, false);
    char mine[16];
    strcpy(mine, T);
    assert_null(kp_accumulator_topic_name(f->acc, mine));
    kp_append_result r = app(f, mine, 0, 0, fx_s("key"), fx_s("value"));
    const char *name = kp_accumulator_topic_name(f->acc, mine);
    assert_non_null(name);
    assert_true(name != mine);
    assert_string_equal(name, T);
    assert_ptr_equal(kp_batch_topic(r.batch), name);
    assert_ptr_equal(kp_accumulator_topic_name(f->acc, name), name);
    /* the handle, by the caller's string or by the copy, is the one entry */
    kp_acc_topic *h = kp_accumulator_topic(f->acc, mine);
    assert_ptr_equal(kp_accumulator_topic(f->acc, name), h);
    assert_ptr_equal(kp_acc_topic_name(h), name);
    assert_int_equal(kp_acc_topic_index(h), 0);
    strcpy(mine, "zzzzz"); /* the caller's buffer is reused: the copy stays */
    assert_string_equal(name, T);
    assert_null(kp_accumulator_topic_name(f->acc, "other"));
    for (int i = 0; i < 200; i++) {
        char other[16];
        snprintf(other, sizeof other, "t%d", i % 7);
        app(f, other, i % 5, i, fx_s("key"), fx_s("value"));
        r = app(f, T, i % 3, i, fx_s("key"), fx_s("value"));
        assert_ptr_equal(kp_accumulator_topic_name(f->acc, T), name);
        assert_ptr_equal(kp_batch_topic(r.batch), name);
    }
    kp_accumulator_abort_undrained_batches(f->acc, KP_ERR__CLOSED, "test over");
    teardown(f);
}

static void acc_ready_asks_each_new_cluster_for_the_leader(void **state) {
    (void)state;
    fx *f = setup(1024, 1 << 20, 0, KP_CODEC_NONE, false);
    int32_t on1[] = { 1 }, on2[] = { 2 };
    app1(f, 0, 0);
    for (int round = 0; round < 4; round++) {
        kp_cluster *cl = fx_cluster(3, T, 1, round % 2 ? on2 : on1);
        kp_ready_result r = ready(f, cl, 5);
        assert_int_equal(r.ready_count, 1);
        assert_int_equal(r.ready_nodes[0], round % 2 ? 2 : 1);
        kp_cluster_destroy(cl);
    }
    /* unsealed: no partitions yet, so no leader; sealed: leader 2 */
    kp_cluster *cl = kp_cluster_new();
    for (int i = 0; i < 3; i++)
        kp_cluster_add_node(cl, i, "localhost", 9092 + i, NULL);
    kp_cluster_add_topic(cl, T, KP_ERR_NONE, false);
    kp_cluster_add_partition(cl, T, 0, 2, 0, on2, 1, on2, 1, NULL, 0, KP_ERR_NONE);
    kp_ready_result r = ready(f, cl, 5);
    assert_int_equal(r.ready_count, 0);
    assert_int_equal(r.unknown_leader_count, 1);
    kp_cluster_seal(cl);
    r = ready(f, cl, 5);
    assert_int_equal(r.ready_count, 1);
    assert_int_equal(r.ready_nodes[0], 2);
    kp_drain_result d = drain(f, cl, r.ready_nodes, 1, 1 << 20, 5);
    complete_all(f, &d, 0);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* RecordAccumulatorTest.testFull */
static void acc_full_batch_makes_its_leader_ready(void **state) {
    (void)state;
    fx *f = setup(1024, 1 << 20, 10, KP_CODEC_NONE, false);
    kp_cluster *cl = fx_cluster(1, T, 1, NULL);
    int appends = 0;
    kp_append_result r = app1(f, 0, 0);
    assert_true(r.new_batch_created);
    appends++;
    while (!r.batch_is_full) {
        kp_ready_result rr = ready(f, cl, 0);
        assert_int_equal(rr.ready_count, 0); /* not full, linger not over */
        assert_int_equal(rr.next_ready_check_delay_ms, 10);
        r = app1(f, 0, 0);
        appends++;
    }
    /* the record that did not fit opened a second batch: "full" because
     * the deque holds more than one */
    assert_true(r.new_batch_created);
    assert_int_equal(kp_accumulator_queued_batches(f->acc, T, 0), 2);
    appends--;
    kp_batch *first = kp_accumulator_queued_batch(f->acc, T, 0, 0);
    assert_false(kp_batch_has_room_for(first, 0, fx_s("key"), fx_s("value"), NULL, 0));
    kp_ready_result rr = ready(f, cl, 0);
    assert_int_equal(rr.ready_count, 1);
    assert_int_equal(rr.ready_nodes[0], 0);
    kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 0);
    assert_int_equal(d.batch_count, 1);
    kp_batch *b = d.nodes[0].batches[0];
    assert_ptr_equal(b, first);
    assert_int_equal(kp_batch_record_count(b), appends);
    assert_true(kp_batch_is_closed(b));
    kp_slice recs = kp_batch_records(b);
    assert_true(recs.len <= 1024);
    kp_record_iter it;
    assert_int_equal(kp_record_iter_init(&it, recs.ptr, (size_t)recs.len, NULL), KP_ERR_NONE);
    kp_record rec;
    int n = 0;
    while (kp_record_iter_next(&it, &rec)) {
        assert_true(kp_slice_eq_str(rec.key, "key"));
        assert_true(kp_slice_eq_str(rec.value, "value"));
        n++;
    }
    assert_int_equal(n, appends);
    complete_all(f, &d, 0);
    assert_int_equal(f->rec.count, appends);
    kp_accumulator_abort_incomplete_batches(f->acc, KP_ERR__CLOSED, NULL);
    assert_int_equal(f->rec.count, appends + 1);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* testAppendLarge: a record above batch.size gets a buffer of its own size */
static void acc_large_record_gets_its_own_buffer(void **state) {
    (void)state;
    fx *f = setup(512, 1 << 20, 0, KP_CODEC_NONE, false);
    kp_cluster *cl = fx_cluster(1, T, 1, NULL);
    char big[2000];
    memset(big, 'x', sizeof big);
    kp_slice v = { (const uint8_t *)big, sizeof big };
    kp_append_result r = app(f, T, 0, 0, fx_s("key"), v);
    assert_true(r.new_batch_created);
    assert_int_equal(kp_batch_initial_capacity(r.batch), (size_t)kp_record_size_upper_bound(fx_s("key"), v, NULL, 0));
    assert_int_equal(kp_buffer_pool_available_memory(f->pool), (1 << 20) - kp_batch_initial_capacity(r.batch));
    kp_ready_result rr = ready(f, cl, 0);
    assert_int_equal(rr.ready_count, 1);
    kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 0);
    assert_int_equal(d.batch_count, 1);
    kp_record_iter it;
    kp_slice recs = kp_batch_records(d.nodes[0].batches[0]);
    kp_record_iter_init(&it, recs.ptr, (size_t)recs.len, NULL);
    kp_record rec;
    assert_true(kp_record_iter_next(&it, &rec));
    assert_int_equal(rec.value.len, 2000);
    complete_all(f, &d, 0);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* testLinger */
static void acc_linger_holds_a_partial_batch(void **state) {
    (void)state;
    fx *f = setup(1024, 1 << 20, 10, KP_CODEC_NONE, false);
    kp_cluster *cl = fx_cluster(1, T, 1, NULL);
    app1(f, 0, 0);
    kp_ready_result rr = ready(f, cl, 0);
    assert_int_equal(rr.ready_count, 0);
    assert_int_equal(rr.next_ready_check_delay_ms, 10);
    rr = ready(f, cl, 7);
    assert_int_equal(rr.next_ready_check_delay_ms, 3);
    rr = ready(f, cl, 10);
    assert_int_equal(rr.ready_count, 1);
    kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 10);
    assert_int_equal(d.batch_count, 1);
    assert_int_equal(kp_batch_record_count(d.nodes[0].batches[0]), 1);
    assert_int_equal(kp_batch_drained_ms(d.nodes[0].batches[0]), 10);
    complete_all(f, &d, 0);
    rr = ready(f, cl, 11);
    assert_int_equal(rr.next_ready_check_delay_ms, INT64_MAX); /* nothing queued */
    kp_cluster_destroy(cl);
    teardown(f);
}

/* testNextReadyCheckDelay: the smallest time left over all partitions */
static void acc_next_ready_check_delay_is_the_minimum(void **state) {
    (void)state;
    fx *f = setup(1024, 1 << 20, 10, KP_CODEC_NONE, false);
    int32_t leaders[3] = { 0, 1, 1 };
    kp_cluster *cl = fx_cluster(2, T, 3, leaders);
    app1(f, 0, 0);
    app1(f, 1, 4);
    kp_ready_result rr = ready(f, cl, 6);
    assert_int_equal(rr.ready_count, 0);
    assert_int_equal(rr.next_ready_check_delay_ms, 4);
    /* partition 2 (node 1) fills: node 1 ready, delay still from p0 */
    kp_append_result r;
    do
        r = app1(f, 2, 6);
    while (!r.batch_is_full);
    rr = ready(f, cl, 6);
    assert_int_equal(rr.ready_count, 1);
    assert_int_equal(rr.ready_nodes[0], 1);
    assert_int_equal(rr.next_ready_check_delay_ms, 4);
    rr = ready(f, cl, 10);
    assert_int_equal(rr.ready_count, 2);
    assert_int_equal(rr.ready_nodes[0], 0); /* sorted by node id */
    assert_int_equal(rr.ready_nodes[1], 1);
    kp_accumulator_abort_incomplete_batches(f->acc, KP_ERR__CLOSED, NULL);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* testRetryBackoff */
static void acc_reenqueued_batch_backs_off(void **state) {
    (void)state;
    fx *f = setup(1024, 1 << 20, 0, KP_CODEC_NONE, false);
    kp_cluster *cl = fx_cluster(1, T, 1, NULL);
    app1(f, 0, 0);
    kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 0);
    kp_batch *b = d.nodes[0].batches[0];
    kp_accumulator_reenqueue(f->acc, b, 0);
    assert_int_equal(kp_batch_attempts(b), 1);
    assert_ptr_equal(kp_accumulator_queued_batch(f->acc, T, 0, 0), b);
    /* a new record goes to a new batch: the re-enqueued one is closed */
    kp_append_result r = app1(f, 0, 1);
    assert_true(r.new_batch_created);
    assert_int_equal(kp_accumulator_queued_batches(f->acc, T, 0), 2);
    kp_ready_result rr = ready(f, cl, 50);
    assert_int_equal(rr.ready_count, 0); /* backing off, even though "full" (2 queued) */
    assert_int_equal(rr.next_ready_check_delay_ms, 50);
    d = drain(f, cl, NODE0, 1, 1 << 20, 50);
    assert_int_equal(d.batch_count, 0);
    rr = ready(f, cl, 100);
    assert_int_equal(rr.ready_count, 1);
    d = drain(f, cl, NODE0, 1, 1 << 20, 100);
    assert_int_equal(d.batch_count, 1);
    assert_ptr_equal(d.nodes[0].batches[0], b); /* the retried batch goes first */
    complete_all(f, &d, 0);
    d = drain(f, cl, NODE0, 1, 1 << 20, 100);
    assert_int_equal(d.batch_count, 1);
    complete_all(f, &d, 1);
    assert_int_equal(f->rec.count, 2);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* testFlush: flush makes everything ready and completes when done */
static void acc_flush_makes_ready_and_tracks_completion(void **state) {
    (void)state;
    fx *f = setup(1024, 1 << 20, 100000, KP_CODEC_NONE, false);
    int32_t leaders[3] = { 0, 0, 0 };
    kp_cluster *cl = fx_cluster(1, T, 3, leaders);
    app1(f, 0, 0);
    app1(f, 1, 0);
    assert_int_equal(ready(f, cl, 0).ready_count, 0);
    uint64_t token = kp_accumulator_begin_flush(f->acc, 0);
    assert_true(kp_accumulator_flush_in_progress(f->acc));
    assert_int_equal(ready(f, cl, 0).ready_count, 1);
    assert_false(kp_accumulator_flush_completed(f->acc, token, true));
    /* a batch created after the flush began is not waited for */
    app1(f, 2, 1);
    kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 1);
    assert_int_equal(d.batch_count, 3);
    kp_batch *later = NULL;
    for (size_t k = 0; k < d.nodes[0].count; k++) {
        kp_batch *b = d.nodes[0].batches[k];
        if (kp_batch_partition(b) == 2) {
            later = b;
            continue;
        }
        assert_false(kp_accumulator_flush_completed(f->acc, token, true));
        kp_batch_done(b, 0, -1, KP_ERR_NONE, NULL, NULL);
        kp_accumulator_deallocate(f->acc, b);
    }
    assert_true(kp_accumulator_flush_completed(f->acc, token, true));
    assert_true(kp_accumulator_has_incomplete(f->acc)); /* the later batch */
    kp_accumulator_end_flush(f->acc, 1);
    assert_false(kp_accumulator_flush_in_progress(f->acc));
    assert_int_equal(f->ev.count[KP_EV_FLUSH_BEGIN], 1);
    assert_int_equal(f->ev.count[KP_EV_FLUSH_DONE], 1);
    kp_batch_done(later, 0, -1, KP_ERR_NONE, NULL, NULL);
    kp_accumulator_deallocate(f->acc, later);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* testAbortIncompleteBatches: every record's callback fires with the error,
 * queued and in-flight alike, and the pool is whole again. */
static void acc_abort_incomplete_batches_fires_every_callback(void **state) {
    (void)state;
    fx *f = setup(256, 1 << 20, 0, KP_CODEC_NONE, false);
    int32_t leaders[3] = { 0, 0, 0 };
    kp_cluster *cl = fx_cluster(1, T, 3, leaders);
    int sent = 0;
    for (int i = 0; i < 30; i++, sent++)
        app1(f, i % 3, 0);
    kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 0); /* in flight now */
    assert_true(d.batch_count == 3);
    kp_batch *inflight = d.nodes[0].batches[0];
    kp_accumulator_close(f->acc);
    kp_accumulator_abort_incomplete_batches(f->acc, KP_ERR__CLOSED, "Producer is closed forcefully.");
    assert_int_equal(f->rec.count, sent);
    for (int i = 0; i < sent; i++)
        assert_int_equal(f->rec.errs[i], KP_ERR__CLOSED);
    assert_false(kp_accumulator_has_incomplete(f->acc));
    assert_false(kp_accumulator_has_undrained(f->acc));
    /* the sender's late response for an aborted in-flight batch is ignored */
    bool illegal = true;
    assert_false(kp_batch_done(inflight, 5, -1, KP_ERR_NONE, NULL, &illegal));
    assert_false(illegal);
    assert_int_equal(f->rec.count, sent);
    for (size_t k = 0; k < d.nodes[0].count; k++)
        kp_accumulator_deallocate(f->acc, d.nodes[0].batches[k]);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* abortUndrainedBatches: only what was never drained */
static void acc_abort_undrained_leaves_in_flight_batches(void **state) {
    (void)state;
    fx *f = setup(1024, 1 << 20, 0, KP_CODEC_NONE, false);
    int32_t leaders[2] = { 0, 0 };
    kp_cluster *cl = fx_cluster(1, T, 2, leaders);
    app1(f, 0, 0);
    kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 0);
    assert_int_equal(d.batch_count, 1);
    kp_batch *inflight = d.nodes[0].batches[0];
    app1(f, 0, 1);
    app1(f, 1, 1);
    kp_accumulator_abort_undrained_batches(f->acc, KP_ERR__ABORTED, "Failing batch since transaction was aborted");
    assert_int_equal(f->rec.count, 2);
    assert_int_equal(kp_accumulator_incomplete_count(f->acc), 1);
    assert_false(kp_batch_is_done(inflight));
    assert_false(kp_accumulator_has_undrained(f->acc));
    kp_batch_done(inflight, 0, -1, KP_ERR_NONE, NULL, NULL);
    kp_accumulator_deallocate(f->acc, inflight);
    assert_int_equal(f->rec.count, 3);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* testExpiredBatches: head first per partition, mute ignored */
static void acc_expiry_takes_heads_past_delivery_timeout(void **state) {
    (void)state;
    fx *f = setup(ONE, 1 << 20, 0, KP_CODEC_NONE, false); /* one record per batch */
    f->cfg.delivery_timeout_ms = 1000;
    kp_accumulator_destroy(f->acc);
    f->acc = kp_accumulator_new(&f->cfg, f->pool, &f->obs);
    app1b(f, 0, 0);
    app1b(f, 0, 500);
    app1b(f, 1, 100);
    kp_accumulator_mute_partition(f->acc, T, 1, 0);
    kp_batch *const *exp;
    kp_accumulator_reset_next_batch_expiry_time(f->acc);
    assert_int_equal(kp_accumulator_expired_batches(f->acc, 999, &exp), 0);
    assert_int_equal(kp_accumulator_next_expiry_time_ms(f->acc), 1000);
    kp_accumulator_reset_next_batch_expiry_time(f->acc);
    size_t n = kp_accumulator_expired_batches(f->acc, 1100, &exp);
    assert_int_equal(n, 2); /* p0's head and the muted p1's head */
    assert_int_equal(kp_batch_partition(exp[0]), 0);
    assert_int_equal(kp_batch_created_ms(exp[0]), 0);
    assert_int_equal(kp_batch_partition(exp[1]), 1);
    assert_int_equal(kp_accumulator_next_expiry_time_ms(f->acc), 1500);
    assert_int_equal(f->ev.count[KP_EV_BATCH_EXPIRED], 2);
    for (size_t i = 0; i < n; i++) {
        char msg[128];
        snprintf(msg, sizeof msg, "Expiring 1 record(s) for %s-%d", T, kp_batch_partition(exp[i]));
        kp_batch *b = exp[i];
        assert_true(kp_batch_done(b, -1, -1, KP_ERR__TIMED_OUT, msg, NULL));
        kp_accumulator_deallocate(f->acc, b);
    }
    assert_int_equal(f->rec.count, 2);
    assert_int_equal(f->rec.errs[0], KP_ERR__TIMED_OUT);
    assert_int_equal(kp_accumulator_queued_batches(f->acc, T, 0), 1);
    kp_accumulator_abort_incomplete_batches(f->acc, KP_ERR__CLOSED, NULL);
    teardown(f);
}

/* The bound on the heads' creation times that lets the sender skip the
 * expiry walks: exact after a walk, lowered when an older batch comes back
 * to the front (a retry), so that batch still expires on time. */
static void acc_head_bound_follows_a_retried_batch_to_the_front(void **state) {
    (void)state;
    fx *f = setup(ONE, 1 << 20, 0, KP_CODEC_NONE, false); /* one record per batch */
    f->cfg.delivery_timeout_ms = 1000;
    kp_accumulator_destroy(f->acc);
    f->acc = kp_accumulator_new(&f->cfg, f->pool, &f->obs);
    kp_cluster *cl = fx_cluster(1, T, 1, NULL);
    assert_int_equal(kp_accumulator_head_created_lb(f->acc), INT64_MAX);
    app1b(f, 0, 0);
    assert_int_equal(kp_accumulator_head_created_lb(f->acc), 0);
    kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 0);
    assert_int_equal(d.batch_count, 1);
    kp_batch *a = d.nodes[0].batches[0];
    app1b(f, 0, 300);
    kp_batch *const *exp;
    kp_accumulator_reset_next_batch_expiry_time(f->acc);
    assert_int_equal(kp_accumulator_expired_batches(f->acc, 400, &exp), 0);
    assert_int_equal(kp_accumulator_head_created_lb(f->acc), 300); /* exact: the head left */
    kp_accumulator_reenqueue(f->acc, a, 400);
    assert_ptr_equal(kp_accumulator_queued_batch(f->acc, T, 0, 0), a);
    assert_int_equal(kp_accumulator_head_created_lb(f->acc), 0);
    check(f);
    kp_accumulator_reset_next_batch_expiry_time(f->acc);
    size_t n = kp_accumulator_expired_batches(f->acc, 1000, &exp);
    assert_int_equal(n, 1);
    assert_ptr_equal(exp[0], a);
    assert_int_equal(kp_accumulator_head_created_lb(f->acc), 300);
    assert_true(kp_batch_done(a, -1, -1, KP_ERR__TIMED_OUT, "expired", NULL));
    kp_accumulator_deallocate(f->acc, a);
    kp_accumulator_abort_incomplete_batches(f->acc, KP_ERR__CLOSED, NULL);
    kp_cluster_destroy(cl);
    teardown(f);
}

static uint64_t walks(const fx *f) {
    kp_accumulator_stats st;
    kp_accumulator_stats_get(f->acc, &st);
    return st.ready_walks;
}

/* ready() after a call that found nothing ready answers without walking
 * while the deques only gained new heads (lingering batches of empty
 * deques), with the delay a walk computes; a deque's answer changing
 * (linger over, a batch filled, a second batch, an unmute time reached,
 * a retried head backing off) or any other deque change makes it walk. */
static void acc_ready_answers_unchanged_deques_without_walking(void **state) {
    (void)state;
    fx *f = setup(1024, 1 << 20, 5, KP_CODEC_NONE, false);
    const int32_t leaders[] = { 0, 1, 0 };
    kp_cluster *cl = fx_cluster(2, T, 3, leaders);
    /* every deque used once: their leaders are known (a deque's first
     * batch makes ready() walk, for the lookup) */
    for (int32_t p = 0; p < 3; p++)
        app1(f, p, 0);
    assert_int_equal(ready(f, cl, 5).ready_count, 2);
    kp_drain_result d = drain(f, cl, NODES01, 2, 1 << 20, 5);
    assert_int_equal(d.batch_count, 3);
    complete_all(f, &d, 0);
    app1(f, 0, 100);
    kp_ready_result r = ready(f, cl, 100);
    assert_int_equal(r.ready_count, 0);
    assert_int_equal(r.next_ready_check_delay_ms, 5);
    uint64_t w = walks(f);
    app1(f, 1, 102); /* a new head of an empty deque: ready at 107 */
    r = ready(f, cl, 103);
    assert_int_equal(walks(f), w); /* no walk */
    assert_int_equal(r.ready_count, 0);
    assert_int_equal(r.next_ready_check_delay_ms, 2);
    check(f);
    app1(f, 0, 103); /* into p0's lingering batch: not full, nothing changes */
    r = ready(f, cl, 104);
    assert_int_equal(walks(f), w);
    assert_int_equal(r.next_ready_check_delay_ms, 1);
    r = ready(f, cl, 105); /* p0's linger is over: walks, node 0 ready */
    assert_int_equal(walks(f), w + 1);
    assert_int_equal(r.ready_count, 1);
    assert_int_equal(r.ready_nodes[0], 0);
    d = drain(f, cl, NODE0, 1, 1 << 20, 105);
    assert_int_equal(d.batch_count, 1);
    complete_all(f, &d, 0);
    r = ready(f, cl, 105); /* a drain changed the deques: walks */
    assert_int_equal(walks(f), w + 2);
    assert_int_equal(r.ready_count, 0);
    assert_int_equal(r.next_ready_check_delay_ms, 2);
    /* a batch filled by appends (a new head first) makes its leader ready
     * at once; until then the answer stands */
    kp_append_result a = app1(f, 2, 106);
    r = ready(f, cl, 106);
    assert_int_equal(walks(f), w + 2);
    assert_int_equal(r.next_ready_check_delay_ms, 1); /* p1 at 107 */
    while (!a.batch_is_full) {
        a = app1(f, 2, 106);
        r = ready(f, cl, 106);
        assert_int_equal(walks(f), w + 2 + a.batch_is_full);
        assert_int_equal(r.ready_count, a.batch_is_full);
    }
    assert_int_equal(r.ready_nodes[0], 0);
    d = drain(f, cl, NODE0, 1, 1 << 20, 106);
    assert_int_equal(d.batch_count, 1);
    complete_all(f, &d, 0);
    d = drain(f, cl, NODE0, 1, 1 << 20, 106); /* the record that did not fit */
    assert_int_equal(d.batch_count, 1);
    complete_all(f, &d, 0);
    /* a muted deque gives no delay, and the answer holds until its unmute */
    r = ready(f, cl, 106);
    assert_int_equal(r.next_ready_check_delay_ms, 1); /* p1 at 107 */
    kp_accumulator_mute_partition(f->acc, T, 1, 106);
    kp_accumulator_unmute_partition(f->acc, T, 1, 140, 106); /* throttled until 140 */
    w = walks(f);
    r = ready(f, cl, 106);
    assert_int_equal(walks(f), w + 1);
    assert_int_equal(r.ready_count, 0);
    assert_int_equal(r.next_ready_check_delay_ms, INT64_MAX);
    r = ready(f, cl, 120);
    assert_int_equal(walks(f), w + 1);
    assert_int_equal(r.next_ready_check_delay_ms, INT64_MAX);
    check(f);
    app1(f, 0, 130); /* lingers until 135 */
    r = ready(f, cl, 131);
    assert_int_equal(walks(f), w + 1);
    assert_int_equal(r.next_ready_check_delay_ms, 4);
    r = ready(f, cl, 140); /* both: p0 lingered, p1 unmuted */
    assert_int_equal(walks(f), w + 2);
    assert_int_equal(r.ready_count, 2);
    d = drain(f, cl, NODES01, 2, 1 << 20, 140);
    assert_int_equal(d.batch_count, 2);
    /* a retried head backs off: re-enqueued (a deque change) it is
     * walked, and then waits retry.backoff.ms, not linger.ms */
    kp_batch *rb = d.nodes[0].batches[0];
    for (size_t i = 1; i < d.node_count; i++)
        complete_all(f, &(kp_drain_result){ &d.nodes[i], 1, d.nodes[i].count }, 0);
    kp_accumulator_reenqueue(f->acc, rb, 141);
    r = ready(f, cl, 141);
    assert_int_equal(walks(f), w + 3);
    assert_int_equal(r.next_ready_check_delay_ms, 100);
    app1(f, 2, 150); /* p2 (node 0 too) lingers until 55 */
    r = ready(f, cl, 152);
    assert_int_equal(walks(f), w + 3);
    assert_int_equal(r.next_ready_check_delay_ms, 3);
    check(f);
    kp_cluster_destroy(cl);
    kp_accumulator_abort_incomplete_batches(f->acc, KP_ERR__CLOSED, NULL);
    teardown(f);
}

/* drain finds a deque by the cluster's topic name: a later cluster (a new
 * generation, its names perhaps where the old one's were) is looked up
 * again, not taken for the topic the old name was. */
static void acc_drain_looks_topics_up_again_in_a_new_cluster(void **state) {
    (void)state;
    fx *f = setup(1024, 1 << 20, 0, KP_CODEC_NONE, false);
    app(f, "aa", 0, 0, fx_s("k"), fx_s("v"));
    app(f, "bb", 0, 0, fx_s("k"), fx_s("v"));
    kp_cluster *cl = fx_cluster(1, "aa", 1, NULL);
    kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 0);
    assert_int_equal(d.batch_count, 1);
    assert_string_equal(kp_batch_topic(d.nodes[0].batches[0]), "aa");
    complete_all(f, &d, 0);
    kp_cluster_destroy(cl);
    cl = fx_cluster(1, "bb", 1, NULL);
    d = drain(f, cl, NODE0, 1, 1 << 20, 0);
    assert_int_equal(d.batch_count, 1);
    assert_string_equal(kp_batch_topic(d.nodes[0].batches[0]), "bb");
    complete_all(f, &d, 0);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* testMutedPartitions + unmute with throttle time */
static void acc_muted_partition_is_neither_ready_nor_drained(void **state) {
    (void)state;
    fx *f = setup(1024, 1 << 20, 0, KP_CODEC_NONE, false);
    kp_cluster *cl = fx_cluster(1, T, 1, NULL);
    app1(f, 0, 0);
    kp_accumulator_mute_partition(f->acc, T, 0, 0);
    assert_true(kp_accumulator_is_muted(f->acc, T, 0, 0));
    assert_int_equal(ready(f, cl, 10).ready_count, 0);
    assert_int_equal(drain(f, cl, NODE0, 1, 1 << 20, 10).batch_count, 0);
    kp_accumulator_unmute_partition(f->acc, T, 0, 50, 10); /* throttled until 50 */
    assert_true(kp_accumulator_is_muted(f->acc, T, 0, 49));
    assert_int_equal(ready(f, cl, 49).ready_count, 0);
    assert_false(kp_accumulator_is_muted(f->acc, T, 0, 50));
    assert_int_equal(ready(f, cl, 50).ready_count, 1);
    kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 50);
    assert_int_equal(d.batch_count, 1);
    complete_all(f, &d, 0);
    assert_int_equal(f->ev.count[KP_EV_PARTITION_MUTED], 1);
    assert_int_equal(f->ev.count[KP_EV_PARTITION_UNMUTED], 1);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* The KAFKA_FACTS.md "Drain order in 2.1" scenario: A leads p0,p1, B leads
 * p2,p3, one record per batch, max size one batch. Returns the partitions
 * drained per step as a string like "0,2|0,2|...". */
static void drain_scenario(bool bug, char *out, size_t n) {
    fx *f = setup(ONE, 1 << 20, 0, KP_CODEC_NONE, bug);
    int32_t leaders[4] = { 0, 0, 1, 1 };
    kp_cluster *cl = fx_cluster(2, T, 4, leaders);
    size_t len = 0;
    out[0] = '\0';
#define STEP(max)                                                                   \
    do {                                                                            \
        kp_drain_result d = drain(f, cl, NODES01, 2, (max), 0);                     \
        for (size_t i = 0; i < d.node_count; i++)                                   \
            for (size_t k = 0; k < d.nodes[i].count; k++)                           \
                len += (size_t)snprintf(out + len, n - len, "%d,",                  \
                                        kp_batch_partition(d.nodes[i].batches[k])); \
        len += (size_t)snprintf(out + len, n - len, "|");                           \
        complete_all(f, &d, 0);                                                     \
    } while (0)
    for (int p = 0; p < 4; p++)
        app1b(f, p, 0);
    STEP(ONE);
    app1b(f, 0, 0);
    app1b(f, 2, 0);
    STEP(ONE);
    STEP(ONE);
    app1b(f, 1, 0);
    app1b(f, 2, 0);
    app1b(f, 3, 0);
    kp_accumulator_mute_partition(f->acc, T, 3, 0);
    STEP(ONE);
    app1b(f, 0, 0);
    app1b(f, 1, 0);
    app1b(f, 2, 0);
    kp_accumulator_unmute_partition(f->acc, T, 3, 0, 0);
    STEP(INT32_MAX);
#undef STEP
    kp_cluster_destroy(cl);
    teardown(f);
}

static void acc_drain_order_2_1_1_shared_index_starves(void **state) {
    (void)state;
    char got[128];
    drain_scenario(true, got, sizeof got);
    /* A[0]B[2]; A[0]B[2]; A[1]B[3]; A[1]B[2]; A[0,1]B[2,3] */
    assert_string_equal(got, "0,2,|0,2,|1,3,|1,2,|0,1,2,3,|");
}

static void acc_drain_order_per_node_index(void **state) {
    (void)state;
    char got[128];
    drain_scenario(false, got, sizeof got);
    /* {p0,p2} {p1,p3} {p0,p2} {p1,p2} {all} (RecordAccumulatorTest.testDrainBatches) */
    assert_string_equal(got, "0,2,|1,3,|0,2,|1,2,|0,1,2,3,|");
}

/* max.request.size: the first batch always goes, then stop at the first
 * that would exceed it; at most one batch per partition per drain. */
static void acc_drain_respects_max_size(void **state) {
    (void)state;
    fx *f = setup(ONE, 1 << 20, 0, KP_CODEC_NONE, false);
    int32_t leaders[3] = { 0, 0, 0 };
    kp_cluster *cl = fx_cluster(1, T, 3, leaders);
    for (int p = 0; p < 3; p++) {
        app1b(f, p, 0);
        app1b(f, p, 0);
    }
    kp_drain_result d = drain(f, cl, NODE0, 1, ONE * 2, 0);
    assert_int_equal(d.batch_count, 2);
    assert_int_not_equal(kp_batch_partition(d.nodes[0].batches[0]), kp_batch_partition(d.nodes[0].batches[1]));
    complete_all(f, &d, 0);
    d = drain(f, cl, NODE0, 1, 10, 0); /* smaller than any batch: still one */
    assert_int_equal(d.batch_count, 1);
    complete_all(f, &d, 0);
    d = drain(f, cl, NODE0, 1, INT32_MAX, 0);
    assert_int_equal(d.batch_count, 3); /* one per partition */
    complete_all(f, &d, 0);
    assert_false(kp_accumulator_has_undrained(f->acc));
    kp_cluster_destroy(cl);
    teardown(f);
}

/* A compressed batch is built when it fills (the next record opens a new
 * batch), and its staging memory goes back then, not at the drain: the
 * queued batches share one staging buffer between them (one malloc),
 * each still estimated, not closed, until its drain closes it, and the
 * bytes drained are its records, in order. */
static void acc_a_full_compressed_batch_gives_its_staging_back_at_once(void **state) {
    (void)state;
    fx *f = setup(1024, 1 << 20, 0, KP_CODEC_GZIP, false);
    kp_cluster *cl = fx_cluster(1, T, 1, NULL);
    char value[100];
    int sent = 0;
    while (kp_accumulator_queued_batches(f->acc, T, 0) < 5) {
        memset(value, 'a' + sent % 26, sizeof value);
        snprintf(value, sizeof value, "%d", sent);
        app(f, T, 0, 0, KP_SLICE_NULL, (kp_slice){ (const uint8_t *)value, sizeof value });
        sent++;
    }
    kp_accumulator_stats st;
    kp_accumulator_stats_get(f->acc, &st);
    assert_int_equal(st.staging_mallocs, 1);
    for (size_t i = 0; i < 4; i++) {
        const kp_batch *b = kp_accumulator_queued_batch(f->acc, T, 0, i);
        assert_true(b->built);
        assert_null(b->staging);
        assert_true(b->staging_capacity > 0); /* given back at the drain */
        assert_false(kp_batch_is_closed(b));
        assert_true(kp_batch_estimated_size(b) != b->records.len);
    }
    const kp_batch *open = kp_accumulator_queued_batch(f->acc, T, 0, 4);
    assert_false(open->built);
    assert_non_null(open->staging);
    int seen = 0;
    kp_dbuf scratch;
    kp_dbuf_init(&scratch, 0);
    for (int64_t now = 0; kp_accumulator_queued_batches(f->acc, T, 0) > 0; now += 1000) {
        kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, now);
        assert_true(d.batch_count > 0); /* one per partition and drain */
        for (size_t k = 0; k < d.nodes[0].count; k++) {
            kp_batch *b = d.nodes[0].batches[k];
            assert_true(kp_batch_is_closed(b));
            kp_slice bytes = kp_batch_records(b);
            kp_record_iter it;
            assert_int_equal(kp_record_iter_init(&it, bytes.ptr, (size_t)bytes.len, &scratch),
                             KP_ERR_NONE);
            kp_record r;
            while (kp_record_iter_next(&it, &r)) {
                char want[16];
                snprintf(want, sizeof want, "%d", seen++);
                assert_int_equal(r.value.len, 100);
                assert_memory_equal(r.value.ptr, want, strlen(want) + 1);
            }
            assert_int_equal(it.err, KP_ERR_NONE);
        }
        complete_all(f, &d, now);
    }
    kp_dbuf_free(&scratch);
    assert_int_equal(seen, sent);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* splitAndReenqueue: pieces at the front, in order, estimate reset */
static void acc_split_and_reenqueue_puts_pieces_first(void **state) {
    (void)state;
    fx *f = setup(1024, 1 << 20, 0, KP_CODEC_GZIP, false);
    kp_cluster *cl = fx_cluster(1, T, 1, NULL);
    kp_compression_estimator *est = kp_accumulator_estimator(f->acc);
    kp_compression_estimator_set(est, T, KP_CODEC_GZIP, 0.05f); /* far too optimistic */
    char value[100];
    int sent = 0;
    kp_append_result r;
    do {
        memset(value, 'a' + sent % 26, sizeof value);
        for (int i = 0; i < 100; i += 7)
            value[i] = (char)('0' + (sent * 7 + i) % 10);
        r = app(f, T, 0, 0, KP_SLICE_NULL, (kp_slice){ (const uint8_t *)value, sizeof value });
        sent++;
    } while (!r.batch_is_full);
    app1(f, 0, 0); /* a second batch behind it */
    sent++;
    kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 0);
    kp_batch *big = d.nodes[0].batches[0];
    int32_t big_records = kp_batch_record_count(big);
    assert_true(big_records > 50);
    kp_err err;
    int n = kp_accumulator_split_and_reenqueue(f->acc, big, 5, &err);
    assert_true(n >= 2);
    assert_true(kp_compression_estimator_get(est, T, KP_CODEC_GZIP) >= 1.0f);
    kp_accumulator_deallocate(f->acc, big); /* Sender.completeBatch does this */
    assert_int_equal(kp_accumulator_queued_batches(f->acc, T, 0), (size_t)n + 1);
    int64_t base = 0;
    int total = 0;
    for (int k = 0; k < n; k++) {
        kp_batch *p = kp_accumulator_queued_batch(f->acc, T, 0, 0);
        assert_true(kp_batch_is_split_batch(p));
        assert_int_equal(kp_batch_attempts(p), 0); /* "as if they are not even tried" */
        kp_drain_result dd = drain(f, cl, NODE0, 1, 1 << 20, 10);
        assert_int_equal(dd.batch_count, 1);
        assert_ptr_equal(dd.nodes[0].batches[0], p);
        total += kp_batch_record_count(p);
        complete_all(f, &dd, base);
        base += 1000;
    }
    assert_int_equal(total, big_records);
    assert_int_equal(f->ev.count[KP_EV_BATCH_SPLIT], 1);
    d = drain(f, cl, NODE0, 1, 1 << 20, 10);
    complete_all(f, &d, 0);
    assert_int_equal(f->rec.count, sent); /* every record exactly once */
    kp_cluster_destroy(cl);
    teardown(f);
}

/* a split batch's pieces and flush: fixed waits for them, 2.1 does not */
static void acc_flush_after_split_counts_pieces_unless_bug_19479(void **state) {
    (void)state;
    fx *f = setup(200, 1 << 20, 0, KP_CODEC_NONE, false);
    kp_cluster *cl = fx_cluster(1, T, 1, NULL);
    for (int i = 0; i < 6; i++)
        app1(f, 0, 0);
    uint64_t token = kp_accumulator_begin_flush(f->acc, 0);
    kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 0);
    kp_batch *big = d.nodes[0].batches[0];
    kp_err err;
    assert_int_equal(kp_accumulator_split_and_reenqueue(f->acc, big, 0, &err), 1);
    kp_accumulator_deallocate(f->acc, big);
    assert_false(kp_accumulator_flush_completed(f->acc, token, true));
    assert_true(kp_accumulator_flush_completed(f->acc, token, false)); /* KAFKA-19479 */
    d = drain(f, cl, NODE0, 1, 1 << 20, 0);
    complete_all(f, &d, 0);
    assert_true(kp_accumulator_flush_completed(f->acc, token, true));
    kp_accumulator_end_flush(f->acc, 0);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* unknown leader: the topic is reported once, others still become ready */
static void acc_unknown_leader_topics_are_reported(void **state) {
    (void)state;
    fx *f = setup(1024, 1 << 20, 0, KP_CODEC_NONE, false);
    int32_t leaders[3] = { -1, 0, -1 };
    kp_cluster *cl = fx_cluster(1, T, 3, leaders);
    app1(f, 0, 0);
    app1(f, 1, 0);
    app(f, "other", 0, 0, KP_SLICE_NULL, fx_s("v")); /* not in the cluster at all */
    kp_ready_result rr = ready(f, cl, 0);
    assert_int_equal(rr.ready_count, 1);
    assert_int_equal(rr.unknown_leader_count, 2);
    assert_string_equal(rr.unknown_leader_topics[0], T);
    assert_string_equal(rr.unknown_leader_topics[1], "other");
    kp_accumulator_abort_incomplete_batches(f->acc, KP_ERR__CLOSED, NULL);
    kp_cluster_destroy(cl);
    teardown(f);
}

typedef struct wake {
    int calls;
} wake;

static void on_pool_done(void *ctx, kp_pool_waiter *w) {
    (void)w;
    ((wake *)ctx)->calls++;
}

/* memory exhausted: append would block, ready treats every head as
 * sendable (pool has waiters), the waiter resumes after a deallocate and
 * the re-called append uses its buffer. */
static void acc_exhausted_memory_blocks_then_resumes(void **state) {
    (void)state;
    fx *f = setup(1024, 2048, 100000, KP_CODEC_NONE, false);
    int32_t leaders[3] = { 0, 0, 0 };
    kp_cluster *cl = fx_cluster(1, T, 3, leaders);
    app1(f, 0, 0);
    app1(f, 1, 0);
    assert_int_equal(ready(f, cl, 0).ready_count, 0); /* linger */
    wake wk = { 0 };
    kp_pool_waiter w;
    kp_pool_waiter_init(&w, on_pool_done, &wk);
    kp_append_result r;
    kp_err e;
    kp_append_status st = kp_accumulator_append(f->acc, T, 2, 0, fx_s("key"), fx_s("value"), NULL, 0, fx_record_cb,
                                                &f->ctx, 0, 60000, &w, &r, &e, f->err, sizeof f->err);
    assert_int_equal(st, KP_APPEND_WOULD_BLOCK);
    assert_int_equal(kp_buffer_pool_queued(f->pool), 1);
    kp_ready_result rr = ready(f, cl, 0);
    assert_int_equal(rr.ready_count, 1); /* exhausted: sendable despite linger */
    kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 0);
    assert_int_equal(d.batch_count, 2);
    assert_int_equal(wk.calls, 0);
    complete_all(f, &d, 0);
    assert_int_equal(wk.calls, 1);
    assert_int_equal(w.state, KP_WAITER_SERVED);
    uint64_t mallocs = kp_buffer_pool_mallocs(f->pool);
    st = kp_accumulator_append(f->acc, T, 2, 0, fx_s("key"), fx_s("value"), NULL, 0, fx_record_cb, &f->ctx, 1,
                               60000, &w, &r, &e, f->err, sizeof f->err);
    assert_int_equal(st, KP_APPEND_OK);
    assert_true(r.new_batch_created);
    assert_int_equal(w.state, KP_WAITER_IDLE);
    assert_int_equal(kp_buffer_pool_mallocs(f->pool), mallocs); /* used the waiter's buffer */
    kp_accumulator_abort_incomplete_batches(f->acc, KP_ERR__CLOSED, NULL);
    assert_int_equal(f->rec.count, 3);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* Two sends to one partition both wait; the first creates the batch, the
 * second finds room in it and gives its buffer back (Java's second
 * tryAppend). A waiter that timed out reports Java's message. */
static void acc_second_waiter_appends_into_the_new_batch(void **state) {
    (void)state;
    fx *f = setup(1024, 1024, 100000, KP_CODEC_NONE, false);
    kp_cluster *cl = fx_cluster(1, T, 2, (int32_t[]){ 0, 0 });
    app1(f, 0, 0);
    wake wk = { 0 };
    kp_pool_waiter w1, w2, w3;
    kp_pool_waiter_init(&w1, on_pool_done, &wk);
    kp_pool_waiter_init(&w2, on_pool_done, &wk);
    kp_pool_waiter_init(&w3, on_pool_done, &wk);
    kp_append_result r;
    kp_err e;
    assert_int_equal(kp_accumulator_append(f->acc, T, 1, 0, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &f->ctx, 0,
                                           5000, &w1, &r, &e, f->err, sizeof f->err),
                     KP_APPEND_WOULD_BLOCK);
    assert_int_equal(kp_accumulator_append(f->acc, T, 1, 0, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &f->ctx, 0,
                                           5000, &w2, &r, &e, f->err, sizeof f->err),
                     KP_APPEND_WOULD_BLOCK);
    assert_int_equal(kp_accumulator_append(f->acc, T, 0, 0, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &f->ctx, 10,
                                           100, &w3, &r, &e, f->err, sizeof f->err),
                     KP_APPEND_OK); /* room in p0's batch: no wait */
    kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 0);
    complete_all(f, &d, 0); /* the one buffer comes back: w1 served, w2 still waits */
    assert_int_equal(w1.state, KP_WAITER_SERVED);
    assert_int_equal(w2.state, KP_WAITER_QUEUED);
    assert_int_equal(kp_accumulator_append(f->acc, T, 1, 0, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &f->ctx, 1,
                                           5000, &w1, &r, &e, f->err, sizeof f->err),
                     KP_APPEND_OK);
    assert_true(r.new_batch_created);
    /* w2 times out; re-calling append reports the pool's error */
    assert_int_equal(kp_buffer_pool_expire(f->pool, 5000), 1);
    assert_int_equal(w2.state, KP_WAITER_FAILED);
    assert_int_equal(kp_accumulator_append(f->acc, T, 1, 0, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &f->ctx,
                                           5000, 5000, &w2, &r, &e, f->err, sizeof f->err),
                     KP_APPEND_ERROR);
    assert_int_equal(e, KP_ERR__BUFFER_EXHAUSTED);
    assert_string_equal(f->err, "Failed to allocate memory within the configured max blocking time 5000 ms.");
    assert_int_equal(w2.state, KP_WAITER_IDLE);
    kp_accumulator_abort_incomplete_batches(f->acc, KP_ERR__CLOSED, NULL);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* A waiter served while another send created the batch: buffer returned */
static void acc_served_waiter_gives_buffer_back_when_batch_exists(void **state) {
    (void)state;
    fx *f = setup(1024, 2048, 100000, KP_CODEC_NONE, false);
    app1(f, 0, 0);
    app1(f, 1, 0);
    wake wk = { 0 };
    kp_pool_waiter w1, w2;
    kp_pool_waiter_init(&w1, on_pool_done, &wk);
    kp_pool_waiter_init(&w2, on_pool_done, &wk);
    kp_append_result r;
    kp_err e;
    kp_accumulator_append(f->acc, T, 2, 0, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &f->ctx, 0, 5000, &w1, &r,
                          &e, f->err, sizeof f->err);
    kp_accumulator_append(f->acc, T, 2, 0, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &f->ctx, 0, 5000, &w2, &r,
                          &e, f->err, sizeof f->err);
    /* both batches come back: both waiters are served */
    kp_accumulator_abort_batches(f->acc, KP_ERR__ABORTED, "test");
    assert_int_equal(w1.state, KP_WAITER_SERVED);
    assert_int_equal(w2.state, KP_WAITER_SERVED);
    assert_int_equal(kp_accumulator_append(f->acc, T, 2, 0, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &f->ctx,
                                           1, 5000, &w1, &r, &e, f->err, sizeof f->err),
                     KP_APPEND_OK);
    assert_true(r.new_batch_created);
    int64_t avail = kp_buffer_pool_available_memory(f->pool);
    assert_int_equal(kp_accumulator_append(f->acc, T, 2, 0, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &f->ctx,
                                           1, 5000, &w2, &r, &e, f->err, sizeof f->err),
                     KP_APPEND_OK);
    assert_false(r.new_batch_created);
    assert_int_equal(r.relative_offset, 1);
    assert_int_equal(kp_buffer_pool_available_memory(f->pool), avail + 1024); /* w2's buffer back */
    kp_accumulator_abort_incomplete_batches(f->acc, KP_ERR__CLOSED, NULL);
    teardown(f);
}

static void acc_closed_accumulator_refuses_appends(void **state) {
    (void)state;
    fx *f = setup(1024, 1 << 20, 100000, KP_CODEC_NONE, false);
    kp_cluster *cl = fx_cluster(1, T, 1, NULL);
    app1(f, 0, 0);
    const bool *closed = kp_accumulator_closed_ref(f->acc); /* the producer's view, read in place */
    assert_false(*closed);
    kp_accumulator_close(f->acc);
    assert_true(kp_accumulator_is_closed(f->acc));
    assert_true(*closed);
    assert_int_equal(ready(f, cl, 0).ready_count, 1); /* closing: sendable now */
    kp_append_result r;
    kp_err e;
    assert_int_equal(kp_accumulator_append(f->acc, T, 0, 0, fx_s("k"), fx_s("v"), NULL, 0, fx_record_cb, &f->ctx,
                                           0, 0, NULL, &r, &e, f->err, sizeof f->err),
                     KP_APPEND_ERROR);
    assert_int_equal(e, KP_ERR__CLOSED);
    assert_string_equal(f->err, "Producer closed while send in progress");
    kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 0);
    complete_all(f, &d, 0);
    assert_int_equal(f->rec.count, 1); /* the refused record has no callback */
    kp_cluster_destroy(cl);
    teardown(f);
}

/* ---- idempotence ---------------------------------------------------- */

typedef struct fake_tm {
    int64_t pid;
    int16_t epoch;
    int32_t next_seq[8];
    int32_t first_in_flight[8];
    bool unresolved[8];
    bool send_allowed;
    int in_flight_added;
} fake_tm;

static bool tm_allowed(void *ctx, const char *t, int32_t p) {
    (void)t;
    (void)p;
    return ((fake_tm *)ctx)->send_allowed;
}
static bool tm_pid(void *ctx, int64_t *pid, int16_t *epoch) {
    fake_tm *tm = ctx;
    *pid = tm->pid;
    *epoch = tm->epoch;
    return tm->pid >= 0;
}
static bool tm_unresolved(void *ctx, const char *t, int32_t p, kp_hint *h) {
    (void)t;
    (void)h;
    return ((fake_tm *)ctx)->unresolved[p];
}
static int32_t tm_first(void *ctx, const char *t, int32_t p, kp_hint *h) {
    (void)t;
    (void)h;
    return ((fake_tm *)ctx)->first_in_flight[p];
}
static int32_t tm_seq(void *ctx, const char *t, int32_t p, kp_hint *h) {
    (void)t;
    (void)h;
    return ((fake_tm *)ctx)->next_seq[p];
}
static void tm_inc(void *ctx, const char *t, int32_t p, int32_t n, kp_hint *h) {
    (void)t;
    (void)h;
    ((fake_tm *)ctx)->next_seq[p] += n;
}
static void tm_add(void *ctx, kp_batch *b) {
    (void)b;
    ((fake_tm *)ctx)->in_flight_added++;
}

static kp_txn_hooks hooks_for(fake_tm *tm) {
    for (int i = 0; i < 8; i++)
        tm->first_in_flight[i] = KP_NO_SEQUENCE;
    tm->send_allowed = true;
    return (kp_txn_hooks){ .ctx = tm, .is_transactional = false, .send_allowed = tm_allowed,
                           .producer_id_and_epoch = tm_pid, .has_unresolved_sequence = tm_unresolved,
                           .first_in_flight_sequence = tm_first, .sequence_number = tm_seq,
                           .increment_sequence_number = tm_inc, .add_in_flight_batch = tm_add };
}

static void acc_idempotent_drain_assigns_sequences(void **state) {
    (void)state;
    fx *f = setup(76 + 15 * 2, 1 << 20, 0, KP_CODEC_NONE, false); /* 3 records per batch */
    kp_cluster *cl = fx_cluster(1, T, 1, NULL);
    fake_tm tm = { .pid = 343434, .epoch = 0 };
    kp_txn_hooks h = hooks_for(&tm);
    kp_accumulator_set_txn_hooks(f->acc, &h);
    for (int i = 0; i < 7; i++)
        app1(f, 0, 0);
    int32_t expect_seq[] = { 0, 3, 6 };
    for (int k = 0; k < 3; k++) {
        kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 0);
        assert_int_equal(d.batch_count, 1);
        kp_batch *b = d.nodes[0].batches[0];
        assert_int_equal(kp_batch_base_sequence(b), expect_seq[k]);
        assert_int_equal(kp_batch_producer_id(b), 343434);
        kp_slice rec = kp_batch_records(b);
        kp_batch_header hdr;
        size_t total;
        assert_int_equal(kp_batch_parse_header(rec.ptr, (size_t)rec.len, &hdr, &total), KP_ERR_NONE);
        assert_int_equal(hdr.producer_id, 343434);
        assert_int_equal(hdr.base_sequence, expect_seq[k]);
        assert_int_equal(kp_batch_verify_crc(rec.ptr, total), KP_ERR_NONE);
        complete_all(f, &d, 0);
    }
    assert_int_equal(tm.next_seq[0], 7);
    assert_int_equal(tm.in_flight_added, 3);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* shouldStopDrainBatchesForPartition: no pid, not allowed, unresolved
 * sequence for a new batch, retried batch not first in flight. */
static void acc_idempotent_drain_stops_where_2_1_1_stops(void **state) {
    (void)state;
    fx *f = setup(ONE, 1 << 20, 0, KP_CODEC_NONE, false);
    kp_cluster *cl = fx_cluster(1, T, 1, NULL);
    fake_tm tm = { .pid = -1, .epoch = 0 };
    kp_txn_hooks h = hooks_for(&tm);
    kp_accumulator_set_txn_hooks(f->acc, &h);
    app1b(f, 0, 0);
    app1b(f, 0, 0);
    assert_int_equal(drain(f, cl, NODE0, 1, 1 << 20, 0).batch_count, 0); /* no producer id */
    tm.pid = 7;
    tm.send_allowed = false;
    assert_int_equal(drain(f, cl, NODE0, 1, 1 << 20, 0).batch_count, 0); /* not allowed */
    tm.send_allowed = true;
    tm.unresolved[0] = true;
    assert_int_equal(drain(f, cl, NODE0, 1, 1 << 20, 0).batch_count, 0); /* unresolved */
    tm.unresolved[0] = false;
    kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 0);
    assert_int_equal(d.batch_count, 1);
    kp_batch *b0 = d.nodes[0].batches[0];
    d = drain(f, cl, NODE0, 1, 1 << 20, 0);
    kp_batch *b1 = d.nodes[0].batches[0];
    assert_int_equal(kp_batch_base_sequence(b1), 1);
    /* b1 fails and is retried while b0 (seq 0) is still first in flight */
    tm.first_in_flight[0] = 0;
    kp_accumulator_reenqueue(f->acc, b1, 0);
    assert_int_equal(drain(f, cl, NODE0, 1, 1 << 20, 200).batch_count, 0);
    tm.first_in_flight[0] = 1; /* b0 acknowledged: b1 is first now */
    d = drain(f, cl, NODE0, 1, 1 << 20, 200);
    assert_int_equal(d.batch_count, 1);
    assert_ptr_equal(d.nodes[0].batches[0], b1);
    assert_int_equal(kp_batch_base_sequence(b1), 1); /* sequence kept on retry */
    kp_batch_done(b0, 0, -1, KP_ERR_NONE, NULL, NULL);
    kp_accumulator_deallocate(f->acc, b0);
    complete_all(f, &d, 1);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* insertInSequenceOrder: retries come back out of order, the deque is kept
 * sorted by sequence ahead of never-drained batches. */
static void acc_reenqueue_keeps_sequence_order(void **state) {
    (void)state;
    fx *f = setup(ONE, 1 << 20, 0, KP_CODEC_NONE, false);
    kp_cluster *cl = fx_cluster(1, T, 1, NULL);
    fake_tm tm = { .pid = 1, .epoch = 0 };
    kp_txn_hooks h = hooks_for(&tm);
    kp_accumulator_set_txn_hooks(f->acc, &h);
    kp_batch *b[3];
    for (int i = 0; i < 4; i++)
        app1b(f, 0, 0);
    for (int i = 0; i < 3; i++) {
        kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 0);
        b[i] = d.nodes[0].batches[0];
    }
    kp_accumulator_reenqueue(f->acc, b[1], 0);
    kp_accumulator_reenqueue(f->acc, b[2], 0);
    kp_accumulator_reenqueue(f->acc, b[0], 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(kp_batch_base_sequence(kp_accumulator_queued_batch(f->acc, T, 0, (size_t)i)), i);
    assert_false(kp_batch_has_sequence(kp_accumulator_queued_batch(f->acc, T, 0, 3)));
    check(f);
    kp_accumulator_abort_incomplete_batches(f->acc, KP_ERR__CLOSED, NULL);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* ---- hot path --------------------------------------------------------- */

/* After warm-up, a full append -> drain -> complete cycle allocates nothing:
 * batch structs (with their thunk columns) and pooled buffers are reused. */
static void acc_no_allocation_after_warm_up(void **state) {
    (void)state;
    fx *f = setup(4096, 1 << 20, 0, KP_CODEC_NONE, false);
    int32_t leaders[4] = { 0, 0, 0, 0 };
    kp_cluster *cl = fx_cluster(1, T, 4, leaders);
    kp_accumulator_stats s0, s1;
    uint64_t pool0 = 0;
    for (int cycle = 0; cycle < 20; cycle++) {
        if (cycle == 5) {
            kp_accumulator_stats_get(f->acc, &s0);
            pool0 = kp_buffer_pool_mallocs(f->pool);
        }
        for (int i = 0; i < 400; i++)
            app1(f, i % 4, cycle);
        kp_drain_result d;
        do {
            d = drain(f, cl, NODE0, 1, 1 << 20, cycle);
            complete_all(f, &d, 0);
        } while (d.batch_count > 0);
    }
    kp_accumulator_stats_get(f->acc, &s1);
    assert_true(s1.batches_created > s0.batches_created);
    assert_int_equal(s1.batch_struct_mallocs, s0.batch_struct_mallocs);
    assert_int_equal(s1.thunk_growths, s0.thunk_growths);
    assert_int_equal(kp_buffer_pool_mallocs(f->pool), pool0);
    assert_true(s1.batches_recycled > 0);
    assert_int_equal(f->rec.count, 20 * 400);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* every codec: records go in, batches close, read back, all called back */
static void acc_compressed_batches_round_trip_each_codec(void **state) {
    (void)state;
    for (kp_codec codec = KP_CODEC_NONE; codec <= KP_CODEC_ZSTD; codec++) {
        fx *f = setup(16384, 1 << 22, 0, codec, false);
        kp_cluster *cl = fx_cluster(1, T, 1, NULL);
        char value[100];
        for (int i = 0; i < 2000; i++) {
            snprintf(value, sizeof value, "%099d", i * 7919);
            app(f, T, 0, i, KP_SLICE_NULL, (kp_slice){ (const uint8_t *)value, 100 });
        }
        int seen = 0;
        kp_dbuf scratch;
        kp_dbuf_init(&scratch, 0);
        kp_drain_result d;
        do {
            d = drain(f, cl, NODE0, 1, 1 << 20, 5000);
            for (size_t k = 0; k < d.batch_count; k++) {
                kp_batch *b = d.nodes[0].batches[k];
                kp_slice r = kp_batch_records(b);
                kp_record_iter it;
                assert_int_equal(kp_record_iter_init(&it, r.ptr, (size_t)r.len, &scratch), KP_ERR_NONE);
                kp_record rec;
                while (kp_record_iter_next(&it, &rec)) {
                    snprintf(value, sizeof value, "%099d", seen * 7919);
                    assert_memory_equal(rec.value.ptr, value, 100);
                    assert_int_equal(rec.timestamp, seen);
                    seen++;
                }
                assert_int_equal(it.err, KP_ERR_NONE);
                assert_int_equal(kp_batch_compression(b), codec);
            }
            complete_all(f, &d, 0);
        } while (d.batch_count > 0);
        assert_int_equal(seen, 2000);
        assert_int_equal(f->rec.count, 2000);
        kp_dbuf_free(&scratch);
        kp_cluster_destroy(cl);
        teardown(f);
    }
}

/* RecordAppendResult flags and the events of the batching steps */
static void acc_append_result_flags_and_events(void **state) {
    (void)state;
    fx *f = setup(ONE, 1 << 20, 0, KP_CODEC_NONE, false);
    kp_cluster *cl = fx_cluster(1, T, 1, NULL);
    kp_append_result r = app1b(f, 0, 0);
    assert_true(r.new_batch_created);
    assert_false(r.batch_is_full); /* 81 of 98 bytes: not full yet */
    assert_int_equal(r.relative_offset, 0);
    r = app1b(f, 0, 0);
    assert_true(r.new_batch_created);
    assert_true(r.batch_is_full); /* deque holds two batches */
    assert_int_equal(f->ev.count[KP_EV_BATCH_CREATED], 2);
    assert_int_equal(f->ev.count[KP_EV_APPEND], 2);
    assert_true(f->ev.count[KP_EV_BATCH_FULL] >= 1);
    ready(f, cl, 0);
    assert_int_equal(f->ev.count[KP_EV_READY], 1);
    kp_drain_result d = drain(f, cl, NODE0, 1, 1 << 20, 0);
    assert_int_equal(f->ev.count[KP_EV_DRAIN], 1);
    kp_batch *b = d.nodes[0].batches[0];
    kp_accumulator_reenqueue(f->acc, b, 0);
    assert_int_equal(f->ev.count[KP_EV_BATCH_REENQUEUED], 1);
    assert_string_equal(kp_event_kind_name(KP_EV_DRAIN), "drain");
    kp_accumulator_abort_incomplete_batches(f->acc, KP_ERR__CLOSED, NULL);
    assert_int_equal(f->ev.count[KP_EV_BATCH_ABORTED], 2);
    kp_cluster_destroy(cl);
    teardown(f);
}

/* ---- determinism -------------------------------------------------------- */

typedef struct digest {
    uint64_t h;
    int n;
} digest;

static void digest_event(void *ctx, const kp_event *ev) {
    digest *d = ctx;
    int64_t f[] = { ev->kind, ev->time_us, ev->node, ev->partition, ev->batch_id, ev->record_count,
                    ev->bytes, ev->base_sequence, ev->attempt, ev->value, ev->offset, ev->err };
    d->h = kp_fnv1a64(f, sizeof f, d->h);
    if (ev->topic)
        d->h = kp_fnv1a64(ev->topic, strlen(ev->topic), d->h);
    d->n++;
}

/* One mixed workload (several topics and partitions, random sizes, drains,
 * retries, splits, expiry, mute) whose event stream is digested. */
static digest run_workload(uint64_t seed, size_t heap_noise) {
    void *noise = malloc(heap_noise); /* shift the heap: addresses must not matter */
    digest dg = { KP_FNV1A64_INIT, 0 };
    kp_observer obs = { digest_event, &dg };
    kp_config cfg;
    kp_config_init(&cfg);
    cfg.batch_size = 512;
    cfg.linger_ms = 5;
    cfg.delivery_timeout_ms = 400;
    kp_buffer_pool *pool = kp_buffer_pool_new(1 << 16, 512, &obs);
    kp_accumulator *acc = kp_accumulator_new(&cfg, pool, &obs);
    static const char *topics[3] = { "orders", "audit", "clicks" };
    kp_cluster *cl = kp_cluster_new();
    for (int n = 0; n < 3; n++)
        kp_cluster_add_node(cl, n, "h", 9092 + n, NULL);
    for (int t = 0; t < 3; t++) {
        kp_cluster_add_topic(cl, topics[t], KP_ERR_NONE, false);
        for (int p = 0; p < 4; p++) {
            int32_t l = (t + p) % 3;
            kp_cluster_add_partition(cl, topics[t], p, l, 0, &l, 1, &l, 1, NULL, 0, KP_ERR_NONE);
        }
    }
    kp_cluster_seal(cl);
    kp_rng rng = kp_rng_stream(seed, "workload");
    static fx_cb rec;
    memset(&rec, 0, sizeof rec);
    enum { MAXREC = 4 * 700 };
    static fx_cb_ctx ctxs[MAXREC];
    int appended = 0, refused = 0;
    char value[300];
    memset(value, 'v', sizeof value);
    char err[256];
    for (int64_t now = 0; now < 2000; now += 3) {
        for (int k = 0; k < 4; k++) {
            const char *t = topics[kp_rng_below(&rng, 3)];
            int32_t p = (int32_t)kp_rng_below(&rng, 4);
            kp_slice v = { (const uint8_t *)value, (int32_t)kp_rng_range(&rng, 0, 299) };
            kp_append_result r;
            kp_err e;
            int id = appended + refused;
            ctxs[id] = (fx_cb_ctx){ &rec, id };
            if (kp_accumulator_append(acc, t, p, now, KP_SLICE_NULL, v, NULL, 0, fx_record_cb, &ctxs[id], now, 0,
                                      NULL, &r, &e, err, sizeof err) == KP_APPEND_OK)
                appended++;
            else
                refused++; /* pool exhausted with max.block.ms 0: no callback may come */
        }
        if (now % 50 == 0)
            kp_accumulator_mute_partition(acc, topics[now % 3], (int32_t)(now % 4), now);
        if (now % 50 == 20)
            kp_accumulator_unmute_partition(acc, topics[(now - 20) % 3], (int32_t)((now - 20) % 4), now + 7, now);
        kp_ready_result rr;
        kp_accumulator_ready(acc, cl, now, &rr);
        kp_drain_result d;
        kp_accumulator_drain(acc, cl, rr.ready_nodes, rr.ready_count, 2048, now, &d);
        for (size_t i = 0; i < d.node_count; i++)
            for (size_t k = 0; k < d.nodes[i].count; k++) {
                kp_batch *b = d.nodes[i].batches[k];
                uint64_t fate = kp_rng_below(&rng, 10);
                if (fate == 0 && kp_batch_record_count(b) > 1) {
                    kp_err e;
                    kp_accumulator_split_and_reenqueue(acc, b, now, &e);
                    kp_accumulator_deallocate(acc, b);
                } else if (fate == 1) {
                    kp_accumulator_reenqueue(acc, b, now);
                } else {
                    kp_batch_done(b, now, -1, KP_ERR_NONE, NULL, NULL);
                    kp_accumulator_deallocate(acc, b);
                }
            }
        kp_batch *const *exp;
        size_t ne = kp_accumulator_expired_batches(acc, now, &exp);
        for (size_t i = 0; i < ne; i++) {
            kp_batch *b = exp[i];
            kp_batch_done(b, -1, -1, KP_ERR__TIMED_OUT, "expired", NULL);
            kp_accumulator_deallocate(acc, b);
        }
        char why[256];
        if (!kp_accumulator_verify(acc, why, sizeof why))
            fail_msg("broken at %lld: %s", (long long)now, why);
    }
    kp_accumulator_abort_incomplete_batches(acc, KP_ERR__CLOSED, NULL);
    kp_accumulator_destroy(acc);
    assert_true(kp_buffer_pool_is_whole(pool));
    kp_buffer_pool_destroy(pool);
    kp_cluster_destroy(cl);
    free(noise);
    /* every accepted record called back exactly once, refused ones never */
    static int seen[MAXREC];
    memset(seen, 0, sizeof seen);
    assert_int_equal(rec.count, appended);
    for (int i = 0; i < rec.count; i++)
        seen[rec.tags[i]]++;
    int once = 0;
    for (int i = 0; i < appended + refused; i++) {
        assert_true(seen[i] <= 1);
        once += seen[i];
    }
    assert_int_equal(once, appended);
    assert_true(refused > 0 && appended > 1000);
    dg.h ^= (uint64_t)rec.count;
    return dg;
}

static void acc_same_inputs_give_the_same_event_stream(void **state) {
    (void)state;
    digest a = run_workload(17, 1);
    digest b = run_workload(17, 123457);
    digest c = run_workload(18, 1);
    assert_true(a.n > 1000);
    assert_true(a.h == b.h); /* independent of heap addresses */
    assert_int_equal(a.n, b.n);
    assert_true(a.h != c.h); /* and the digest does see the inputs */
}

/* RecordAccumulatorTest.testAppendInExpiryCallback: a callback that sends
 * again (into the very partition whose batch just expired) works, and the
 * new record gets a batch of its own. */
typedef struct resend {
    fx *f;
    int fired;
    kp_append_status st;
} resend;

static void resend_cb(void *ctx, const kp_record_metadata *md, kp_err err, const char *msg) {
    (void)msg;
    resend *r = ctx;
    r->fired++;
    assert_int_equal(err, KP_ERR__TIMED_OUT);
    kp_append_result res;
    kp_err e;
    r->st = kp_accumulator_append(r->f->acc, md->topic, md->partition, 0, fx_s("key"), fx_s("again"), NULL, 0,
                                  fx_record_cb, &r->f->ctx, 2000, 0, NULL, &res, &e, r->f->err,
                                  sizeof r->f->err);
}

static void acc_callback_may_append_again(void **state) {
    (void)state;
    fx *f = setup(1024, 1 << 20, 0, KP_CODEC_NONE, false);
    f->cfg.delivery_timeout_ms = 1000;
    kp_accumulator_destroy(f->acc);
    f->acc = kp_accumulator_new(&f->cfg, f->pool, &f->obs);
    resend rs = { f, 0, KP_APPEND_ERROR };
    kp_append_result r;
    kp_err e;
    assert_int_equal(kp_accumulator_append(f->acc, T, 0, 0, fx_s("key"), fx_s("value"), NULL, 0, resend_cb, &rs, 0,
                                           0, NULL, &r, &e, f->err, sizeof f->err),
                     KP_APPEND_OK);
    kp_batch *const *exp;
    assert_int_equal(kp_accumulator_expired_batches(f->acc, 2000, &exp), 1);
    kp_batch *b = exp[0];
    assert_true(kp_batch_done(b, -1, -1, KP_ERR__TIMED_OUT, "Expiring 1 record(s)", NULL));
    kp_accumulator_deallocate(f->acc, b);
    assert_int_equal(rs.fired, 1);
    assert_int_equal(rs.st, KP_APPEND_OK);
    assert_int_equal(kp_accumulator_queued_batches(f->acc, T, 0), 1);
    kp_batch *nb = kp_accumulator_queued_batch(f->acc, T, 0, 0);
    assert_int_equal(kp_batch_created_ms(nb), 2000);
    kp_accumulator_abort_incomplete_batches(f->acc, KP_ERR__CLOSED, NULL);
    assert_int_equal(f->rec.count, 1);
    teardown(f);
}

/* kp_batch__init on a recycled struct (every byte stale, the thunk
 * columns kept) leaves exactly the bytes it leaves on a zeroed one: the
 * written-out zeroing reaches the struct's last word and every field
 * that is not zero is stored. */
static void acc_batch_init_resets_a_recycled_struct_whole(void **state) {
    (void)state;
    static uint8_t buf[256];
    void *ctx_col[4];
    kp_batch_params p = { .topic = "t", .partition = 3, .batch_id = 77, .buffer = buf,
                          .capacity = sizeof buf, .codec = KP_CODEC_NONE, .now_ms = 1234,
                          .has_est_ratio = true, .est_ratio = 0.5f };
    kp_batch *stale = malloc(sizeof *stale);
    kp_batch *fresh = calloc(1, sizeof *fresh);
    assert_non_null(stale);
    assert_non_null(fresh);
    memset(stale, 0xA5, sizeof *stale);
    stale->thunks.ctx = fresh->thunks.ctx = ctx_col;
    stale->thunks.cb = fresh->thunks.cb = NULL;
    stale->thunks.ts = fresh->thunks.ts = NULL;
    stale->thunks.key_size = fresh->thunks.key_size = NULL;
    stale->thunks.value_size = fresh->thunks.value_size = NULL;
    stale->thunks.cap = fresh->thunks.cap = 4;
    kp_batch__init(stale, &p);
    kp_batch__init(fresh, &p);
    assert_memory_equal(stale, fresh, sizeof *fresh);
    /* the last word, the first and a few fields by name */
    assert_false(stale->zombie);
    assert_null(stale->free_next);
    assert_int_equal(stale->h.record_count, 0);
    assert_int_equal(stale->h.partition, 3);
    assert_int_equal(stale->builder.len, KP_BATCH_HEADER_SIZE);
    assert_ptr_equal(stale->builder.buf, buf);
    assert_true(stale->est_ratio == 0.5f);
    free(stale);
    free(fresh);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(acc_full_batch_makes_its_leader_ready),
        cmocka_unit_test(acc_ready_answers_unchanged_deques_without_walking),
        cmocka_unit_test(acc_drain_looks_topics_up_again_in_a_new_cluster),
        cmocka_unit_test(acc_ready_asks_each_new_cluster_for_the_leader),
        cmocka_unit_test(acc_topic_name_is_one_stable_copy),
        cmocka_unit_test(acc_topic_handle_reaches_the_deques_by_name),
        cmocka_unit_test(acc_append_into_the_last_batch_emits_javas_events),
        cmocka_unit_test(acc_large_record_gets_its_own_buffer),
        cmocka_unit_test(acc_linger_holds_a_partial_batch),
        cmocka_unit_test(acc_next_ready_check_delay_is_the_minimum),
        cmocka_unit_test(acc_reenqueued_batch_backs_off),
        cmocka_unit_test(acc_head_bound_follows_a_retried_batch_to_the_front),
        cmocka_unit_test(acc_flush_makes_ready_and_tracks_completion),
        cmocka_unit_test(acc_abort_incomplete_batches_fires_every_callback),
        cmocka_unit_test(acc_abort_undrained_leaves_in_flight_batches),
        cmocka_unit_test(acc_expiry_takes_heads_past_delivery_timeout),
        cmocka_unit_test(acc_muted_partition_is_neither_ready_nor_drained),
        cmocka_unit_test(acc_drain_order_2_1_1_shared_index_starves),
        cmocka_unit_test(acc_drain_order_per_node_index),
        cmocka_unit_test(acc_drain_respects_max_size),
        cmocka_unit_test(acc_a_full_compressed_batch_gives_its_staging_back_at_once),
        cmocka_unit_test(acc_split_and_reenqueue_puts_pieces_first),
        cmocka_unit_test(acc_flush_after_split_counts_pieces_unless_bug_19479),
        cmocka_unit_test(acc_unknown_leader_topics_are_reported),
        cmocka_unit_test(acc_exhausted_memory_blocks_then_resumes),
        cmocka_unit_test(acc_second_waiter_appends_into_the_new_batch),
        cmocka_unit_test(acc_served_waiter_gives_buffer_back_when_batch_exists),
        cmocka_unit_test(acc_closed_accumulator_refuses_appends),
        cmocka_unit_test(acc_idempotent_drain_assigns_sequences),
        cmocka_unit_test(acc_idempotent_drain_stops_where_2_1_1_stops),
        cmocka_unit_test(acc_reenqueue_keeps_sequence_order),
        cmocka_unit_test(acc_no_allocation_after_warm_up),
        cmocka_unit_test(acc_compressed_batches_round_trip_each_codec),
        cmocka_unit_test(acc_append_result_flags_and_events),
        cmocka_unit_test(acc_same_inputs_give_the_same_event_stream),
        cmocka_unit_test(acc_callback_may_append_again),
        cmocka_unit_test(acc_batch_init_resets_a_recycled_struct_whole),
    };
    return cmocka_run_group_tests_name("accumulator", tests, NULL, NULL);
}
