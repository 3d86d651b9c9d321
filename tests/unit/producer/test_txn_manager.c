/*
 * test_txn_manager.c — the idempotence part of TransactionManager as
 * Kafka's TransactionManagerTest checks it: sequences, in-flight batches
 * by sequence, last acked sequence/offset, adjusting sequences after a
 * failed batch, canRetry for OUT_OF_ORDER_SEQUENCE_NUMBER and
 * UNKNOWN_PRODUCER_ID, unresolved sequences, resetProducerId, the state
 * machine's transitions; and the transactional half through a whole
 * producer over the fake broker: FindCoordinator, InitProducerId via the
 * coordinator, AddPartitionsToTxn before the first batch, EndTxn after the
 * flush, abort, each coordinator error of the four requests, fencing,
 * coordinator loss, and the application's illegal calls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "fake_broker.h"
#include "kp_batch.h"
#include "kp_events.h"
#include "kp_msg_txn.h"
#include "kp_network_client.h"
#include "kp_proto.h"
#include "kp_txn_manager.h"
#include "prod_harness.h"

typedef struct tfix {
    fb_world *w;
    kp_env env;
    kp_txn_manager *tm;
    kp_batch *b[16];
    uint8_t *buf[16];
    int nb;
} tfix;

static tfix *mk(void) {
    tfix *f = calloc(1, sizeof *f);
    f->w = fb_new();
    f->env = fb_env(f->w, NULL);
    f->tm = kp_txn_manager_new(NULL, 60000, 100, &f->env);
    return f;
}

static void rm(tfix *f) {
    for (int i = 0; i < f->nb; i++) {
        kp_batch_destroy(f->b[i]);
        free(f->buf[i]);
    }
    kp_txn_manager_destroy(f->tm);
    fb_free(f->w);
    free(f);
}

/* A closed batch of n records for t-p. */
static kp_batch *batch(tfix *f, int32_t partition, int n) {
    int i = f->nb++;
    f->buf[i] = calloc(1, 4096);
    kp_batch_params bp;
    memset(&bp, 0, sizeof bp);
    bp.topic = "t";
    bp.partition = partition;
    bp.batch_id = i + 1;
    bp.buffer = f->buf[i];
    bp.capacity = 4096;
    bp.codec = KP_CODEC_NONE;
    bp.now_ms = 0;
    f->b[i] = kp_batch_new(&bp);
    assert_non_null(f->b[i]);
    for (int k = 0; k < n; k++)
        assert_true(kp_batch_try_append(f->b[i], 0, KP_SLICE_NULL, kp_slice_str("v"), NULL, 0, NULL, NULL, 0,
                                        NULL));
    assert_int_equal(kp_batch_close(f->b[i], NULL), KP_ERR_NONE);
    return f->b[i];
}

/* What RecordAccumulator.drain does for an idempotent batch. */
static kp_batch *drain(tfix *f, kp_batch *b) {
    kp_pid_epoch pe = kp_txn_producer_id_and_epoch(f->tm);
    const char *t = kp_batch_topic(b);
    int32_t p = kp_batch_partition(b);
    kp_batch_assign_producer_state(b, pe.producer_id, pe.epoch, kp_txn_sequence_number(f->tm, t, p), false);
    kp_txn_increment_sequence_number(f->tm, t, p, kp_batch_record_count(b));
    kp_txn_add_in_flight_batch(f->tm, b);
    return b;
}

static void set_pid(tfix *f, int64_t pid) {
    kp_txn_set_producer_id_and_epoch(f->tm, (kp_pid_epoch){ pid, 0 });
}

/* ---------------------------------------------------------------- */

static void t_state_machine_transitions(void **s) {
    (void)s;
    tfix *f = mk();
    assert_int_equal(kp_txn_get_state(f->tm), KP_TXN_UNINITIALIZED);
    assert_false(kp_txn_is_transactional(f->tm));
    kp_txn_transition_to_abortable_error(f->tm, KP_ERR_NOT_ENOUGH_REPLICAS); /* invalid from UNINITIALIZED */
    assert_int_equal(kp_txn_get_state(f->tm), KP_TXN_UNINITIALIZED);
    assert_false(kp_txn_has_error(f->tm));
    kp_txn_transition_to_fatal_error(f->tm, KP_ERR_CLUSTER_AUTHORIZATION_FAILED);
    assert_true(kp_txn_has_fatal_error(f->tm));
    assert_int_equal(kp_txn_last_error(f->tm), KP_ERR_CLUSTER_AUTHORIZATION_FAILED);
    assert_false(kp_txn_is_send_to_partition_allowed(f->tm, "t", 0));
    assert_string_equal(kp_txn_state_name(KP_TXN_FATAL_ERROR), "FATAL_ERROR");
    rm(f);
}

static void t_sequences_start_at_zero_and_wrap(void **s) {
    (void)s;
    tfix *f = mk();
    assert_int_equal(kp_txn_sequence_number(f->tm, "t", 0), 0);
    kp_txn_increment_sequence_number(f->tm, "t", 0, 5);
    assert_int_equal(kp_txn_sequence_number(f->tm, "t", 0), 5);
    assert_int_equal(kp_txn_sequence_number(f->tm, "t", 1), 0);
    kp_txn_increment_sequence_number(f->tm, "t", 1, INT32_MAX - 5);
    kp_txn_increment_sequence_number(f->tm, "t", 1, 10);
    assert_int_equal(kp_txn_sequence_number(f->tm, "t", 1), 4);
    rm(f);
}

/* A kp_hint skips the lookup by name while the table's generation
 * holds; once reset_producer_id drops the table, an old hint (whose index
 * now names another partition) must not be trusted. */
static void t_hints_survive_appends_and_go_stale_on_reset(void **s) {
    (void)s;
    tfix *f = mk();
    kp_hint h = { 0, 0 };
    assert_int_equal(kp_txn_sequence_number_h(f->tm, "a", 0, &h), 0);
    assert_true(h.gen != 0);
    kp_txn_increment_sequence_number_h(f->tm, "a", 0, 3, &h);
    assert_int_equal(kp_txn_sequence_number_h(f->tm, "a", 0, &h), 3);
    /* more entries appended: the hint still names "a" */
    for (int p = 0; p < 40; p++)
        assert_int_equal(kp_txn_sequence_number(f->tm, "z", p), 0);
    kp_txn_increment_sequence_number_h(f->tm, "a", 0, 2, &h);
    assert_int_equal(kp_txn_sequence_number(f->tm, "a", 0), 5);
    kp_txn_maybe_update_last_acked_sequence_h(f->tm, "a", 0, 4, &h);
    assert_int_equal(kp_txn_last_acked_sequence(f->tm, "a", 0), 4);
    assert_false(kp_txn_has_unresolved_sequence_h(f->tm, "a", 0, &h));
    assert_int_equal(kp_txn_first_in_flight_sequence_h(f->tm, "a", 0, &h), KP_NO_SEQUENCE);
    /* the table is dropped; "b" takes the index "a" had */
    kp_txn_reset_producer_id(f->tm, "test");
    assert_int_equal(kp_txn_sequence_number(f->tm, "b", 0), 0);
    kp_txn_increment_sequence_number(f->tm, "b", 0, 7);
    assert_int_equal(kp_txn_sequence_number_h(f->tm, "a", 0, &h), 0); /* not b's 7 */
    assert_int_equal(kp_txn_sequence_number(f->tm, "b", 0), 7);
    assert_int_equal(kp_txn_last_acked_sequence(f->tm, "a", 0), -1);
    rm(f);
}

static void t_producer_id_and_epoch(void **s) {
    (void)s;
    tfix *f = mk();
    assert_false(kp_txn_has_producer_id(f->tm));
    set_pid(f, 343434);
    assert_true(kp_txn_has_producer_id(f->tm));
    assert_true(kp_txn_has_producer_id_of(f->tm, 343434));
    assert_true(kp_txn_has_producer_id_and_epoch(f->tm, 343434, 0));
    assert_false(kp_txn_has_producer_id_and_epoch(f->tm, 343434, 1));
    rm(f);
}

static void t_in_flight_batches_ordered_by_sequence(void **s) {
    (void)s;
    tfix *f = mk();
    set_pid(f, 1);
    kp_batch *a = drain(f, batch(f, 0, 2)); /* seq 0 */
    kp_batch *b = drain(f, batch(f, 0, 3)); /* seq 2 */
    kp_batch *c = drain(f, batch(f, 0, 1)); /* seq 5 */
    assert_int_equal(kp_batch_base_sequence(c), 5);
    assert_int_equal(kp_txn_first_in_flight_sequence(f->tm, "t", 0), 0);
    kp_txn_remove_in_flight_batch(f->tm, a);
    assert_int_equal(kp_txn_first_in_flight_sequence(f->tm, "t", 0), 2);
    assert_ptr_equal(kp_txn_next_batch_by_sequence(f->tm, "t", 0), b);
    /* re-added (retry) goes back in sequence order */
    kp_txn_add_in_flight_batch(f->tm, a);
    assert_ptr_equal(kp_txn_next_batch_by_sequence(f->tm, "t", 0), a);
    assert_int_equal(kp_txn_in_flight_batch_count(f->tm, "t", 0), 3);
    assert_true(kp_txn_verify(f->tm));
    assert_int_equal(kp_txn_first_in_flight_sequence(f->tm, "t", 1), KP_NO_SEQUENCE);
    rm(f);
}

/* shouldStopDrainBatchesForPartition's manager part, call by call as the
 * accumulator asks it without the fused hook. */
static bool ref_stop(kp_txn_manager *tm, const kp_batch *b) {
    const char *t = kp_batch_topic(b);
    int32_t p = kp_batch_partition(b);
    if (!kp_txn_is_send_to_partition_allowed(tm, t, p))
        return true;
    if (kp_txn_producer_id_and_epoch(tm).producer_id == KP_NO_PRODUCER_ID)
        return true;
    if (!kp_batch_has_sequence(b) && kp_txn_has_unresolved_sequence(tm, t, p))
        return true;
    int32_t fi = kp_txn_first_in_flight_sequence(tm, t, p);
    return fi != KP_NO_SEQUENCE && kp_batch_has_sequence(b) && kp_batch_base_sequence(b) != fi;
}

/* kp_txn_drain_take_h, checked against the single calls: the same stop
 * answer, and when it goes, a batch without sequence gets the producer
 * state and sequence the single calls would give it and is in flight. */
static bool take(kp_txn_manager *tm, kp_batch *b, kp_hint *h) {
    bool stop = ref_stop(tm, b);
    bool fresh = !kp_batch_has_sequence(b);
    const char *t = kp_batch_topic(b);
    int32_t p = kp_batch_partition(b);
    int32_t seq = fresh && !stop ? kp_txn_sequence_number(tm, t, p) : kp_batch_base_sequence(b);
    int n = kp_txn_in_flight_batch_count(tm, t, p);
    bool r = kp_txn_drain_take_h(tm, b, t, p, h);
    assert_int_equal(r, stop);
    assert_int_equal(kp_batch_base_sequence(b), seq);
    if (fresh && !stop) {
        assert_int_equal(kp_batch_producer_id(b), kp_txn_producer_id_and_epoch(tm).producer_id);
        assert_int_equal(kp_txn_sequence_number(tm, t, p), seq + kp_batch_record_count(b));
        assert_int_equal(kp_txn_in_flight_batch_count(tm, t, p), n + 1);
    } else {
        assert_int_equal(kp_txn_in_flight_batch_count(tm, t, p), n);
    }
    return r;
}

/* The drain's fused questions and steps answer and act as the single calls
 * do, in every state the drain can meet. */
static void t_fused_drain_calls_match_single_calls(void **s) {
    (void)s;
    tfix *f = mk();
    kp_hint h0 = { 0, 0 }, h1 = { 0, 0 };
    kp_batch *a = batch(f, 0, 2);
    assert_true(take(f->tm, a, &h0)); /* no producer id yet */
    assert_false(kp_batch_has_sequence(a));
    set_pid(f, 9);
    assert_false(take(f->tm, a, &h0)); /* unknown partition: goes, seq 0 */
    kp_batch *b = batch(f, 0, 3);
    assert_false(take(f->tm, b, &h0));
    kp_batch *c = drain(f, batch(f, 0, 1)); /* the single calls, same table */
    assert_int_equal(kp_batch_base_sequence(a), 0);
    assert_int_equal(kp_batch_base_sequence(b), 2);
    assert_int_equal(kp_batch_base_sequence(c), 5);
    assert_int_equal(kp_batch_producer_id(b), 9);
    assert_int_equal(kp_txn_sequence_number(f->tm, "t", 0), 6);
    assert_int_equal(kp_txn_in_flight_batch_count(f->tm, "t", 0), 3);
    assert_ptr_equal(kp_txn_next_batch_by_sequence(f->tm, "t", 0), a);
    assert_true(kp_txn_verify(f->tm));
    /* a retried batch: goes only if it is the first in flight, unchanged */
    assert_false(take(f->tm, a, &h0));
    assert_true(take(f->tm, b, &h0));
    kp_txn_remove_in_flight_batch(f->tm, a);
    assert_false(take(f->tm, b, &h0));
    assert_true(take(f->tm, c, &h0));
    /* unresolved: a new batch waits, a sequenced one does not */
    kp_txn_mark_sequence_unresolved(f->tm, "t", 0);
    kp_batch *d = batch(f, 0, 1);
    assert_true(take(f->tm, d, &h0));
    assert_false(kp_batch_has_sequence(d));
    assert_false(take(f->tm, b, &h0));
    kp_batch *e = batch(f, 1, 1); /* another partition, its own hint */
    assert_false(take(f->tm, e, &h1));
    assert_int_equal(kp_batch_base_sequence(e), 0);
    assert_int_equal(kp_txn_first_in_flight_sequence(f->tm, "t", 1), 0);
    /* fatal: nothing goes */
    kp_txn_transition_to_fatal_error(f->tm, KP_ERR_CLUSTER_AUTHORIZATION_FAILED);
    assert_true(take(f->tm, b, &h0));
    assert_true(take(f->tm, d, &h0));
    rm(f);
}

/* completeBatch's steps, one by one (as before kp_txn_batch_acked). */
static void ref_acked(kp_txn_manager *tm, kp_batch *b, int64_t base_offset) {
    if (kp_txn_has_producer_id_and_epoch(tm, kp_batch_producer_id(b), kp_batch_producer_epoch(b)))
        kp_txn_maybe_update_last_acked_sequence(tm, kp_batch_topic(b), kp_batch_partition(b),
                                                kp_batch_base_sequence(b) + kp_batch_record_count(b) - 1);
    kp_txn_update_last_acked_offset(tm, b, base_offset);
    kp_txn_remove_in_flight_batch(tm, b);
}

static void same_state(kp_txn_manager *a, kp_txn_manager *b, int32_t partition) {
    assert_int_equal(kp_txn_last_acked_sequence(a, "t", partition), kp_txn_last_acked_sequence(b, "t", partition));
    assert_int_equal(kp_txn_last_acked_offset(a, "t", partition), kp_txn_last_acked_offset(b, "t", partition));
    assert_int_equal(kp_txn_in_flight_batch_count(a, "t", partition), kp_txn_in_flight_batch_count(b, "t", partition));
    assert_int_equal(kp_txn_first_in_flight_sequence(a, "t", partition),
                     kp_txn_first_in_flight_sequence(b, "t", partition));
}

/* kp_txn_batch_acked leaves the manager as completeBatch's three calls do:
 * acknowledged out of order, without an offset, after an epoch change, and
 * for a partition the manager dropped. */
static void t_batch_acked_matches_single_calls(void **s) {
    (void)s;
    tfix *f = mk(), *g = mk();
    set_pid(f, 5);
    set_pid(g, 5);
    kp_batch *fa = drain(f, batch(f, 0, 2)), *ga = drain(g, batch(g, 0, 2));
    kp_batch *fb = drain(f, batch(f, 0, 3)), *gb = drain(g, batch(g, 0, 3));
    kp_batch *fc = drain(f, batch(f, 0, 1)), *gc = drain(g, batch(g, 0, 1));
    kp_txn_batch_acked(f->tm, fb, 100); /* the middle one first */
    ref_acked(g->tm, gb, 100);
    same_state(f->tm, g->tm, 0);
    assert_int_equal(kp_txn_last_acked_sequence(f->tm, "t", 0), 4);
    assert_int_equal(kp_txn_last_acked_offset(f->tm, "t", 0), 102);
    assert_int_equal(kp_txn_in_flight_batch_count(f->tm, "t", 0), 2);
    kp_txn_batch_acked(f->tm, fa, -1); /* acks=0: no offset */
    ref_acked(g->tm, ga, -1);
    same_state(f->tm, g->tm, 0);
    set_pid(f, 6); /* a new producer id: the sequence is not taken */
    set_pid(g, 6);
    kp_txn_batch_acked(f->tm, fc, 200);
    ref_acked(g->tm, gc, 200);
    same_state(f->tm, g->tm, 0);
    assert_int_equal(kp_txn_last_acked_sequence(f->tm, "t", 0), 4);
    assert_int_equal(kp_txn_last_acked_offset(f->tm, "t", 0), 200);
    /* the table dropped: without an offset nothing is created */
    kp_batch *fd = drain(f, batch(f, 1, 1)), *gd = drain(g, batch(g, 1, 1));
    kp_txn_reset_producer_id(f->tm, "test");
    kp_txn_reset_producer_id(g->tm, "test");
    kp_txn_batch_acked(f->tm, fd, -1);
    ref_acked(g->tm, gd, -1);
    same_state(f->tm, g->tm, 1);
    assert_int_equal(kp_txn_sequence_number(f->tm, "t", 1), kp_txn_sequence_number(g->tm, "t", 1));
    assert_true(kp_txn_verify(f->tm));
    rm(f);
    rm(g);
}

/* kp_txn_sender_idle holds exactly when every manager step of Sender.run
 * is a no-op: an idempotent producer with an id, no error, nothing that
 * may be unresolved. */
static void t_sender_idle_only_at_rest(void **s) {
    (void)s;
    tfix *f = mk();
    assert_false(kp_txn_sender_idle(f->tm)); /* no producer id: InitProducerId to send */
    set_pid(f, 3);
    assert_true(kp_txn_sender_idle(f->tm));
    kp_batch *a = drain(f, batch(f, 0, 1));
    assert_true(kp_txn_sender_idle(f->tm)); /* batches in flight change nothing */
    kp_txn_remove_in_flight_batch(f->tm, a);
    kp_txn_mark_sequence_unresolved(f->tm, "t", 0);
    assert_false(kp_txn_sender_idle(f->tm)); /* the resolve walk has work */
    kp_txn_maybe_update_last_acked_sequence(f->tm, "t", 0, 0); /* acked after all */
    assert_false(kp_txn_should_reset_producer_state_after_resolving_sequences(f->tm));
    assert_true(kp_txn_sender_idle(f->tm)); /* resolved */
    kp_txn_reset_producer_id(f->tm, "test");
    assert_false(kp_txn_sender_idle(f->tm));
    set_pid(f, 4);
    assert_true(kp_txn_sender_idle(f->tm));
    kp_txn_transition_to_fatal_error(f->tm, KP_ERR_CLUSTER_AUTHORIZATION_FAILED);
    assert_false(kp_txn_sender_idle(f->tm));
    rm(f);
    fb_world *w = fb_new();
    kp_env env = fb_env(w, NULL);
    kp_txn_manager *tm = kp_txn_manager_new("tx", 60000, 100, &env);
    kp_txn_set_producer_id_and_epoch(tm, (kp_pid_epoch){ 5, 0 });
    assert_false(kp_txn_sender_idle(tm)); /* transactional: its requests to send */
    kp_txn_manager_destroy(tm);
    fb_free(w);
}

static void t_last_acked_sequence_only_grows(void **s) {
    (void)s;
    tfix *f = mk();
    assert_int_equal(kp_txn_last_acked_sequence(f->tm, "t", 0), -1);
    assert_true(kp_txn_is_next_sequence(f->tm, "t", 0, 0));
    kp_txn_maybe_update_last_acked_sequence(f->tm, "t", 0, 9);
    kp_txn_maybe_update_last_acked_sequence(f->tm, "t", 0, 4);
    assert_int_equal(kp_txn_last_acked_sequence(f->tm, "t", 0), 9);
    assert_true(kp_txn_is_next_sequence(f->tm, "t", 0, 10));
    assert_false(kp_txn_is_next_sequence(f->tm, "t", 0, 11));
    rm(f);
}

static void t_last_acked_offset(void **s) {
    (void)s;
    tfix *f = mk();
    kp_batch *b = batch(f, 0, 3);
    kp_txn_update_last_acked_offset(f->tm, b, -1);
    assert_int_equal(kp_txn_last_acked_offset(f->tm, "t", 0), -1);
    kp_txn_update_last_acked_offset(f->tm, b, 10);
    assert_int_equal(kp_txn_last_acked_offset(f->tm, "t", 0), 12);
    kp_txn_update_last_acked_offset(f->tm, b, 2);
    assert_int_equal(kp_txn_last_acked_offset(f->tm, "t", 0), 12);
    rm(f);
}

static void t_adjust_sequences_after_failed_batch(void **s) {
    (void)s;
    tfix *f = mk();
    set_pid(f, 1);
    kp_batch *a = drain(f, batch(f, 0, 2)); /* 0..1 */
    kp_batch *b = drain(f, batch(f, 0, 3)); /* 2..4 fails for sure */
    kp_batch *c = drain(f, batch(f, 0, 4)); /* 5..8 */
    kp_txn_remove_in_flight_batch(f->tm, b);
    kp_txn_adjust_sequences_due_to_failed_batch(f->tm, b);
    assert_int_equal(kp_batch_base_sequence(a), 0);
    assert_false(kp_batch_sequence_has_been_reset(a));
    assert_int_equal(kp_batch_base_sequence(c), 2);
    assert_true(kp_batch_sequence_has_been_reset(c));
    assert_int_equal(kp_txn_sequence_number(f->tm, "t", 0), 6);
    assert_true(kp_txn_verify(f->tm));
    rm(f);
}

/* A rewind below sequence 0 (reachable from broker answers, KAFKA-8484)
 * is Java's IllegalStateException: a fatal error, not an abort. */
static void t_adjust_below_zero_is_fatal_not_abort(void **s) {
    (void)s;
    tfix *f = mk();
    set_pid(f, 1);
    kp_batch *old = drain(f, batch(f, 0, 2)); /* pid 1: 0..1 */
    kp_txn_reset_producer_id(f->tm, "test");
    set_pid(f, 2);
    kp_batch *c = drain(f, batch(f, 0, 1)); /* pid 2: 0 */
    kp_txn_adjust_sequences_due_to_failed_batch(f->tm, old);
    assert_int_equal(kp_txn_get_state(f->tm), KP_TXN_FATAL_ERROR);
    assert_int_equal(kp_txn_last_error(f->tm), KP_ERR__STATE);
    assert_int_equal(kp_txn_sequence_number(f->tm, "t", 0), 1); /* untouched */
    assert_int_equal(kp_batch_base_sequence(c), 0);
    assert_true(kp_txn_verify(f->tm));
    rm(f);
}

static void t_can_retry_out_of_order_sequence(void **s) {
    (void)s;
    tfix *f = mk();
    set_pid(f, 1);
    kp_batch *a = drain(f, batch(f, 0, 1)); /* seq 0: next in line */
    kp_batch *b = drain(f, batch(f, 0, 1)); /* seq 1 */
    /* the first in line gets OOOS: a real loss, not retriable */
    assert_false(kp_txn_can_retry(f->tm, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, -1, a));
    /* a later batch fails because an earlier one did: retriable */
    assert_true(kp_txn_can_retry(f->tm, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, -1, b));
    /* not while the partition's sequences are unresolved */
    kp_txn_mark_sequence_unresolved(f->tm, "t", 0);
    assert_false(kp_txn_can_retry(f->tm, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, -1, b));
    /* never for a batch of another producer id */
    set_pid(f, 2);
    assert_false(kp_txn_can_retry(f->tm, KP_ERR_NOT_LEADER_FOR_PARTITION, -1, b));
    rm(f);
}

static void t_can_retry_unknown_producer_id(void **s) {
    (void)s;
    tfix *f = mk();
    set_pid(f, 1);
    kp_batch *a = drain(f, batch(f, 0, 2));
    kp_txn_maybe_update_last_acked_sequence(f->tm, "t", 0, 1);
    kp_txn_update_last_acked_offset(f->tm, a, 0); /* offsets 0..1 acked */
    kp_txn_remove_in_flight_batch(f->tm, a);
    kp_batch *b = drain(f, batch(f, 0, 3)); /* seq 2 */
    kp_batch *c = drain(f, batch(f, 0, 1)); /* seq 5 */
    /* log start unknown: retry */
    assert_true(kp_txn_can_retry(f->tm, KP_ERR_UNKNOWN_PRODUCER_ID, -1, b));
    /* log start not past what we acked: a real error */
    assert_false(kp_txn_can_retry(f->tm, KP_ERR_UNKNOWN_PRODUCER_ID, 1, b));
    /* the head of the log was removed: sequences restart at 0 */
    assert_true(kp_txn_can_retry(f->tm, KP_ERR_UNKNOWN_PRODUCER_ID, 10, b));
    assert_int_equal(kp_batch_base_sequence(b), 0);
    assert_int_equal(kp_batch_base_sequence(c), 3);
    assert_int_equal(kp_txn_sequence_number(f->tm, "t", 0), 4);
    assert_int_equal(kp_txn_last_acked_sequence(f->tm, "t", 0), -1);
    /* the other reset batch is retried as is */
    assert_true(kp_txn_can_retry(f->tm, KP_ERR_UNKNOWN_PRODUCER_ID, 10, c));
    assert_int_equal(kp_batch_base_sequence(c), 3);
    rm(f);
}

static void t_unresolved_sequences_resolve_or_reset(void **s) {
    (void)s;
    tfix *f = mk();
    set_pid(f, 1);
    kp_batch *a = drain(f, batch(f, 0, 1)); /* seq 0 expires */
    kp_batch *b = drain(f, batch(f, 0, 1)); /* seq 1 */
    kp_txn_remove_in_flight_batch(f->tm, a);
    kp_txn_mark_sequence_unresolved(f->tm, "t", 0);
    assert_true(kp_txn_has_unresolved_sequences(f->tm));
    /* b still in flight: nothing decided */
    assert_false(kp_txn_should_reset_producer_state_after_resolving_sequences(f->tm));
    /* b succeeded: the expired batch made it too; resolved */
    kp_txn_maybe_update_last_acked_sequence(f->tm, "t", 0, 1);
    kp_txn_remove_in_flight_batch(f->tm, b);
    assert_false(kp_txn_should_reset_producer_state_after_resolving_sequences(f->tm));
    assert_false(kp_txn_has_unresolved_sequences(f->tm));
    /* p1: the only batch expires: cannot resolve -> reset */
    kp_batch *c = drain(f, batch(f, 1, 1));
    kp_txn_remove_in_flight_batch(f->tm, c);
    kp_txn_mark_sequence_unresolved(f->tm, "t", 1);
    assert_true(kp_txn_should_reset_producer_state_after_resolving_sequences(f->tm));
    rm(f);
}

static void t_reset_producer_id_clears_state(void **s) {
    (void)s;
    tfix *f = mk();
    set_pid(f, 7);
    drain(f, batch(f, 0, 2));
    kp_txn_mark_sequence_unresolved(f->tm, "t", 0);
    kp_txn_maybe_update_last_acked_sequence(f->tm, "t", 0, 1);
    kp_txn_reset_producer_id(f->tm, "test");
    assert_false(kp_txn_has_producer_id(f->tm));
    assert_false(kp_txn_has_unresolved_sequences(f->tm));
    assert_false(kp_txn_has_in_flight_batches(f->tm, "t", 0));
    assert_int_equal(kp_txn_sequence_number(f->tm, "t", 0), 0);
    assert_int_equal(kp_txn_last_acked_sequence(f->tm, "t", 0), -1);
    rm(f);
}

static void t_adjust_ignored_after_reset(void **s) {
    (void)s;
    tfix *f = mk();
    set_pid(f, 1);
    kp_batch *a = drain(f, batch(f, 0, 2));
    kp_txn_reset_producer_id(f->tm, "test");
    kp_txn_adjust_sequences_due_to_failed_batch(f->tm, a); /* not tracked: no-op */
    assert_int_equal(kp_txn_sequence_number(f->tm, "t", 0), 0);
    rm(f);
}

/* ---- the application's calls in every state (State.isTransitionValid,
 * maybeFailWithError), on a bare transactional manager ---------------- */

/* Answers the handler the Sender would have sent (correlation id 7). */
static void answer_init_pid(kp_txn_manager *tm, kp_txn_handler *h) {
    kp_txn_handler_sent(tm, h, 7);
    kp_init_producer_id_response m = { 0, 0, 4000, 3 };
    uint8_t buf[64];
    kp_writer w;
    kp_wr_init(&w, buf, sizeof buf);
    kp_init_producer_id_response_encode(&w, 1, &m);
    kp_client_response r;
    memset(&r, 0, sizeof r);
    r.node = 0;
    r.api_key = KP_API_INIT_PRODUCER_ID;
    r.api_version = 1;
    r.correlation_id = 7;
    r.body = buf;
    r.body_len = w.len;
    kp_txn_handler_on_complete(h, &r);
}

/* A transactional manager brought to state st through its own calls. */
static kp_txn_manager *tm_in_state(fb_world *w, kp_env *env, kp_txn_state st, kp_txn_result *res) {
    *env = fb_env(w, NULL);
    kp_txn_manager *tm = kp_txn_manager_new("tx", 60000, 100, env);
    if (st == KP_TXN_UNINITIALIZED)
        return tm;
    if (st == KP_TXN_FATAL_ERROR) {
        kp_txn_transition_to_fatal_error(tm, KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
        return tm;
    }
    assert_int_equal(kp_txn_initialize_transactions(tm, res, NULL, 0), KP_ERR_NONE);
    if (st == KP_TXN_INITIALIZING)
        return tm;
    kp_txn_handler *h = kp_txn_next_request_handler(tm, false);
    assert_non_null(h);
    assert_string_equal(kp_txn_handler_name(h), "InitProducerId");
    answer_init_pid(tm, h);
    assert_true(res->done);
    assert_int_equal(res->err, KP_ERR_NONE);
    assert_int_equal(kp_txn_producer_id_and_epoch(tm).producer_id, 4000);
    assert_int_equal(kp_txn_producer_id_and_epoch(tm).epoch, 3);
    if (st == KP_TXN_READY)
        return tm;
    assert_int_equal(kp_txn_begin_transaction(tm, NULL, 0), KP_ERR_NONE);
    if (st == KP_TXN_COMMITTING_TRANSACTION)
        assert_int_equal(kp_txn_begin_commit(tm, res, NULL, 0), KP_ERR_NONE);
    else if (st == KP_TXN_ABORTING_TRANSACTION)
        assert_int_equal(kp_txn_begin_abort(tm, res, NULL, 0), KP_ERR_NONE);
    else if (st == KP_TXN_ABORTABLE_ERROR)
        kp_txn_transition_to_abortable_error(tm, KP_ERR_TOPIC_AUTHORIZATION_FAILED);
    return tm;
}

static void t_txn_calls_in_every_state(void **s) {
    (void)s;
    /* rows: state; columns: init, begin, commit, abort. 0 = allowed,
     * 1 = invalid transition (KP_ERR__STATE), 2 = the last error */
    static const int want[8][4] = {
        /* UNINITIALIZED          */ { 0, 1, 1, 1 },
        /* INITIALIZING           */ { 1, 1, 1, 1 },
        /* READY                  */ { 1, 0, 1, 1 },
        /* IN_TRANSACTION         */ { 1, 1, 0, 0 },
        /* COMMITTING_TRANSACTION */ { 1, 1, 1, 1 },
        /* ABORTING_TRANSACTION   */ { 1, 1, 1, 1 },
        /* ABORTABLE_ERROR        */ { 1, 2, 2, 0 },
        /* FATAL_ERROR            */ { 1, 2, 2, 2 },
    };
    for (int st = 0; st < 8; st++) {
        for (int call = 0; call < 4; call++) {
            fb_world *w = fb_new();
            kp_env env;
            kp_txn_result r0, r1;
            kp_txn_manager *tm = tm_in_state(w, &env, (kp_txn_state)st, &r0);
            assert_int_equal(kp_txn_get_state(tm), st);
            char msg[256] = "";
            kp_err e;
            switch (call) {
            case 0: e = kp_txn_initialize_transactions(tm, &r1, msg, sizeof msg); break;
            case 1: e = kp_txn_begin_transaction(tm, msg, sizeof msg); break;
            case 2: e = kp_txn_begin_commit(tm, &r1, msg, sizeof msg); break;
            default: e = kp_txn_begin_abort(tm, &r1, msg, sizeof msg); break;
            }
            if (want[st][call] == 0) {
                assert_int_equal(e, KP_ERR_NONE);
                assert_int_not_equal(kp_txn_get_state(tm), st);
            } else {
                assert_int_equal(kp_txn_get_state(tm), st); /* nothing changed */
                if (want[st][call] == 1) {
                    assert_int_equal(e, KP_ERR__STATE);
                    assert_non_null(strstr(msg, "TransactionalId tx: Invalid transition attempted from state"));
                } else {
                    assert_int_equal(e, kp_txn_last_error(tm));
                    assert_non_null(strstr(msg, "error state"));
                }
            }
            assert_true(kp_txn_verify(tm));
            kp_txn_manager_destroy(tm);
            fb_free(w);
        }
    }
    /* a non-transactional manager refuses every transactional call */
    fb_world *w = fb_new();
    kp_env env = fb_env(w, NULL);
    kp_txn_manager *tm = kp_txn_manager_new(NULL, 60000, 100, &env);
    char msg[256];
    assert_int_equal(kp_txn_begin_transaction(tm, msg, sizeof msg), KP_ERR__STATE);
    assert_string_equal(msg, "Transactional method invoked on a non-transactional producer.");
    kp_txn_manager_destroy(tm);
    fb_free(w);
}

/* EndTxn with nothing added: no request, the transaction completes at once
 * (nextRequestHandler, !transactionStarted); handlers come in priority
 * order (FindCoordinator first). */
static void t_txn_handler_queue_order_and_empty_commit(void **s) {
    (void)s;
    fb_world *w = fb_new();
    kp_env env;
    kp_txn_result r0, r1;
    kp_txn_manager *tm = tm_in_state(w, &env, KP_TXN_IN_TRANSACTION, &r0);
    assert_int_equal(kp_txn_begin_commit(tm, &r1, NULL, 0), KP_ERR_NONE);
    kp_txn_lookup_coordinator(tm);
    kp_txn_lookup_coordinator(tm); /* one pending FindCoordinator */
    kp_txn_handler *h = kp_txn_next_request_handler(tm, false);
    assert_string_equal(kp_txn_handler_name(h), "FindCoordinator");
    assert_false(kp_txn_handler_needs_coordinator(h));
    kp_txn_requeue(tm, h); /* given back: still first */
    h = kp_txn_next_request_handler(tm, false);
    assert_string_equal(kp_txn_handler_name(h), "FindCoordinator");
    kp_txn_retry(tm, h); /* a retry backs off; priority keeps it before EndTxn */
    assert_true(kp_txn_handler_not_before(h) >= fb_now_ms(w) + 100);
    h = kp_txn_next_request_handler(tm, false);
    assert_string_equal(kp_txn_handler_name(h), "FindCoordinator");
    kp_txn_requeue(tm, h);
    assert_false(r1.done);
    kp_txn_manager_destroy(tm);
    fb_free(w);
    /* without the FindCoordinator: the empty commit completes locally */
    w = fb_new();
    tm = tm_in_state(w, &env, KP_TXN_IN_TRANSACTION, &r0);
    assert_int_equal(kp_txn_begin_commit(tm, &r1, NULL, 0), KP_ERR_NONE);
    assert_null(kp_txn_next_request_handler(tm, true)); /* batches incomplete */
    assert_false(r1.done);
    assert_null(kp_txn_next_request_handler(tm, false));
    assert_true(r1.done);
    assert_int_equal(r1.err, KP_ERR_NONE);
    assert_int_equal(kp_txn_get_state(tm), KP_TXN_READY);
    kp_txn_manager_destroy(tm);
    fb_free(w);
}

/* ================================================================== */
/* transactions through the whole producer (prod_harness, fake broker) */
/* ================================================================== */

typedef struct tx_cb {
    int calls;
    kp_err err;
    char msg[256];
    int64_t at_ms;
} tx_cb;

static fb_world *tx_world; /* for the callback's clock */

static void tx_done(void *ctx, kp_err err, const char *msg) {
    tx_cb *c = ctx;
    c->calls++;
    c->err = err;
    snprintf(c->msg, sizeof c->msg, "%s", msg ? msg : "");
    c->at_ms = tx_world ? fb_now_ms(tx_world) : 0;
}

/* The application actor's send: waits out a blocked send (the first one
 * to a topic waits for its metadata). */
static kp_send_status tx_send(ph *h, int32_t partition, int *id) {
    kp_send_status st = ph_send(h, partition, NULL, id);
    int64_t end = fb_now_ms(h->w) + 3000;
    while (kp_producer_send_blocked(h->p) && fb_now_ms(h->w) < end)
        ph_step(h, 10);
    return st;
}

static ph *tx_new(int nodes, int nparts, const char *extra) {
    const char *set[] = { "transactional.id=tx", "linger.ms=0", extra, NULL };
    ph *h = ph_new(nodes, nparts, set);
    tx_world = h->w;
    return h;
}

/* Steps until the callback fired or ms passed. */
static bool tx_wait(ph *h, const tx_cb *c, int64_t ms) {
    int64_t end = fb_now_ms(h->w) + ms;
    while (c->calls == 0 && fb_now_ms(h->w) < end)
        ph_step(h, end - fb_now_ms(h->w));
    return c->calls > 0;
}

static void tx_init(ph *h) {
    tx_cb c = { 0 };
    assert_int_equal(kp_producer_init_transactions(h->p, tx_done, &c), KP_ERR_NONE);
    assert_true(tx_wait(h, &c, 3000));
    assert_int_equal(c.err, KP_ERR_NONE);
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_READY);
}

static int req_index(ph *h, int16_t api, int nth) {
    for (int i = 0; i < fb_nreqs(h->w); i++)
        if (fb_req_at(h->w, i)->api_key == api && nth-- == 0)
            return i;
    return -1;
}

static int req_last(ph *h, int16_t api) {
    int last = -1;
    for (int i = 0; i < fb_nreqs(h->w); i++)
        if (fb_req_at(h->w, i)->api_key == api)
            last = i;
    return last;
}

static void t_txn_init_finds_coordinator_then_producer_id(void **s) {
    (void)s;
    ph *h = tx_new(2, 1, NULL);
    fb_set_coordinator(h->w, 1);
    tx_cb c = { 0 };
    assert_int_equal(kp_producer_init_transactions(h->p, tx_done, &c), KP_ERR_NONE);
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_INITIALIZING);
    assert_true(kp_producer_txn_call_pending(h->p));
    assert_true(tx_wait(h, &c, 3000));
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.err, KP_ERR_NONE);
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_READY);
    int fc = req_index(h, KP_API_FIND_COORDINATOR, 0), ip = req_index(h, KP_API_INIT_PRODUCER_ID, 0);
    assert_true(fc >= 0 && ip > fc);
    assert_int_equal(fb_req_at(h->w, ip)->node, 1); /* sent to the coordinator */
    assert_int_equal(h->events[KP_EV_TXN_COORDINATOR - 100], 1);
    ph_run_for(h, 100);
    assert_int_equal(c.calls, 1); /* exactly once */
    ph_free(h);
}

static void t_txn_begin_send_commit(void **s) {
    (void)s;
    ph *h = tx_new(1, 2, NULL);
    tx_init(h);
    assert_int_equal(kp_producer_begin_transaction(h->p), KP_ERR_NONE);
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_IN_TRANSACTION);
    int id;
    assert_int_equal(tx_send(h, 0, &id), KP_SEND_BLOCKED); /* metadata of t first */
    assert_int_equal(tx_send(h, 1, &id), KP_SEND_OK);
    for (int i = 1; i < 3; i++) {
        assert_int_equal(tx_send(h, 0, &id), KP_SEND_OK);
        assert_int_equal(tx_send(h, 1, &id), KP_SEND_OK);
    }
    assert_true(ph_run_until_acked(h, 3000));
    /* AddPartitionsToTxn before the first batch of each partition */
    int ap = req_index(h, KP_API_ADD_PARTITIONS_TO_TXN, 0), pr = req_index(h, KP_API_PRODUCE, 0);
    assert_true(ap >= 0 && pr > ap);
    assert_int_equal(fb_txn_partitions(h->w), 2);
    assert_int_equal(fb_log_txn_state(h->w, "t", 0, 0), FB_TXN_OPEN);
    tx_cb c = { 0 };
    assert_int_equal(kp_producer_commit_transaction(h->p, tx_done, &c), KP_ERR_NONE);
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_COMMITTING_TRANSACTION);
    assert_true(tx_wait(h, &c, 3000));
    assert_int_equal(c.err, KP_ERR_NONE);
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_READY);
    assert_int_equal(fb_txn_commits(h->w), 1);
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < 3; i++)
            assert_int_equal(fb_log_txn_state(h->w, "t", p, i), FB_TXN_COMMITTED);
    assert_true(fb_req_at(h->w, req_last(h, KP_API_END_TXN))->acks == 1); /* COMMIT */
    assert_true(ph_each_once(h));
    /* the next transaction adds its partitions again */
    assert_int_equal(kp_producer_begin_transaction(h->p), KP_ERR_NONE);
    assert_int_equal(tx_send(h, 0, &id), KP_SEND_OK);
    assert_true(ph_run_until_acked(h, 3000));
    assert_int_equal(req_index(h, KP_API_ADD_PARTITIONS_TO_TXN, 1) > req_last(h, KP_API_END_TXN), true);
    ph_free(h);
}

static void t_txn_commit_flushes_before_end_txn(void **s) {
    (void)s;
    ph *h = tx_new(1, 1, "batch.size=16384");
    const char *lg[] = { NULL };
    (void)lg;
    tx_init(h);
    kp_producer_begin_transaction(h->p);
    /* linger.ms=0 but the partition is not in the transaction yet: the
     * batch waits for AddPartitionsToTxn; commit must still send it */
    int id;
    for (int i = 0; i < 5; i++)
        tx_send(h, 0, &id);
    tx_cb c = { 0 };
    assert_int_equal(kp_producer_commit_transaction(h->p, tx_done, &c), KP_ERR_NONE);
    assert_true(tx_wait(h, &c, 3000));
    assert_int_equal(c.err, KP_ERR_NONE);
    assert_int_equal(ph_callbacks_ok(h), 5);
    assert_true(req_last(h, KP_API_PRODUCE) < req_last(h, KP_API_END_TXN));
    for (int i = 0; i < 5; i++)
        assert_int_equal(fb_log_txn_state(h->w, "t", 0, i), FB_TXN_COMMITTED);
    ph_free(h);
}

static void t_txn_abort_after_sends_marks_records_aborted(void **s) {
    (void)s;
    ph *h = tx_new(1, 1, NULL);
    tx_init(h);
    kp_producer_begin_transaction(h->p);
    int id;
    for (int i = 0; i < 4; i++)
        tx_send(h, 0, &id);
    assert_true(ph_run_until_acked(h, 3000));
    tx_cb c = { 0 };
    assert_int_equal(kp_producer_abort_transaction(h->p, tx_done, &c), KP_ERR_NONE);
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_ABORTING_TRANSACTION);
    assert_true(tx_wait(h, &c, 3000));
    assert_int_equal(c.err, KP_ERR_NONE);
    assert_int_equal(fb_txn_aborts(h->w), 1);
    assert_int_equal(fb_req_at(h->w, req_last(h, KP_API_END_TXN))->acks, 0); /* ABORT */
    for (int i = 0; i < 4; i++)
        assert_int_equal(fb_log_txn_state(h->w, "t", 0, i), FB_TXN_ABORTED);
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_READY);
    ph_free(h);
}

/* abortUndrainedBatches: records not sent yet fail with
 * "Failing batch since transaction was aborted"; a partition whose
 * AddPartitionsToTxn never went out means no EndTxn at all. */
static void t_txn_abort_fails_undrained_records(void **s) {
    (void)s;
    ph *h = tx_new(1, 1, "linger.ms=60000");
    tx_init(h);
    int before = fb_count_api(h->w, KP_API_ADD_PARTITIONS_TO_TXN);
    kp_producer_begin_transaction(h->p);
    int a, b;
    tx_send(h, 0, &a);
    tx_send(h, 0, &b);
    tx_cb c = { 0 };
    assert_int_equal(kp_producer_abort_transaction(h->p, tx_done, &c), KP_ERR_NONE);
    assert_true(tx_wait(h, &c, 3000));
    assert_int_equal(c.err, KP_ERR_NONE);
    assert_int_equal(ph_cb_of(h, a)->err, KP_ERR__ABORTED);
    assert_string_equal(ph_cb_of(h, b)->msg, "Failing batch since transaction was aborted");
    assert_int_equal(fb_count_api(h->w, KP_API_ADD_PARTITIONS_TO_TXN), before);
    assert_int_equal(fb_count_api(h->w, KP_API_END_TXN), 0);
    assert_int_equal(fb_log_len(h->w, "t", 0), 0);
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_READY);
    assert_true(ph_each_once(h));
    ph_free(h);
}

/* State.isTransitionValid and failIfNotReadyForSend, as the application
 * sees them: synchronous errors with Java's messages, no callback. */
static void t_txn_illegal_calls_fail_synchronously(void **s) {
    (void)s;
    ph *h = tx_new(1, 1, NULL);
    int id;
    kp_err e;
    /* before initTransactions: (after waitOnMetadata, so through the
     * callback here; once metadata is known, synchronously) */
    tx_send(h, 0, &id);
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR__STATE);
    assert_string_equal(ph_cb_of(h, id)->msg, "Cannot perform a 'send' before completing a call to "
                                              "initTransactions when transactions are enabled.");
    assert_int_equal(ph_send_value(h, 0, "x", &id, &e), KP_SEND_ERROR);
    assert_int_equal(e, KP_ERR__STATE);
    assert_int_equal(kp_producer_begin_transaction(h->p), KP_ERR__STATE);
    assert_string_equal(kp_producer_txn_error_message(h->p),
                        "TransactionalId tx: Invalid transition attempted from state UNINITIALIZED to state "
                        "IN_TRANSACTION");
    tx_cb c = { 0 };
    assert_int_equal(kp_producer_commit_transaction(h->p, tx_done, &c), KP_ERR__STATE);
    tx_init(h);
    assert_int_equal(ph_send_value(h, 0, "x", &id, &e), KP_SEND_ERROR);
    assert_int_equal(e, KP_ERR__STATE);
    assert_int_equal(kp_producer_abort_transaction(h->p, tx_done, &c), KP_ERR__STATE);
    assert_string_equal(kp_producer_txn_error_message(h->p),
                        "TransactionalId tx: Invalid transition attempted from state READY to state "
                        "ABORTING_TRANSACTION");
    assert_int_equal(kp_producer_init_transactions(h->p, tx_done, &c), KP_ERR__STATE);
    assert_int_equal(kp_producer_begin_transaction(h->p), KP_ERR_NONE);
    assert_int_equal(kp_producer_begin_transaction(h->p), KP_ERR__STATE);
    assert_int_equal(kp_producer_commit_transaction(h->p, tx_done, &c), KP_ERR_NONE);
    /* one call of the application actor at a time */
    tx_cb c2 = { 0 };
    assert_int_equal(kp_producer_abort_transaction(h->p, tx_done, &c2), KP_ERR__STATE);
    assert_true(tx_wait(h, &c, 3000));
    assert_int_equal(c.calls, 1);
    assert_int_equal(c2.calls, 0);
    assert_int_equal(h->ncb, 1); /* only the blocked send's */
    /* nor while a send of the actor is blocked (here on new metadata) */
    assert_int_equal(kp_producer_begin_transaction(h->p), KP_ERR_NONE);
    kp_producer_record r;
    memset(&r, 0, sizeof r);
    r.topic = "other";
    r.partition = -1;
    r.timestamp = -1;
    assert_int_equal(kp_producer_send(h->p, &r, NULL, NULL, &e, NULL, 0), KP_SEND_BLOCKED);
    assert_int_equal(kp_producer_commit_transaction(h->p, tx_done, &c2), KP_ERR__STATE);
    assert_string_equal(kp_producer_txn_error_message(h->p), "a send of this application actor is blocked");
    ph_free(h);
}

static void t_txn_find_coordinator_not_available_is_retried(void **s) {
    (void)s;
    ph *h = tx_new(1, 1, NULL);
    fb_inject_api(h->w, KP_API_FIND_COORDINATOR, KP_ERR_COORDINATOR_NOT_AVAILABLE, 2);
    tx_init(h);
    assert_int_equal(fb_count_api(h->w, KP_API_FIND_COORDINATOR), 3);
    int f1 = req_index(h, KP_API_FIND_COORDINATOR, 1), f0 = req_index(h, KP_API_FIND_COORDINATOR, 0);
    assert_true(fb_req_at(h->w, f1)->at_ms - fb_req_at(h->w, f0)->at_ms >= 100); /* retry.backoff.ms */
    ph_free(h);
}

static void t_txn_find_coordinator_fatal_errors(void **s) {
    (void)s;
    const int16_t errs[] = { KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, KP_ERR_NOT_COORDINATOR };
    for (int k = 0; k < 2; k++) {
        ph *h = tx_new(1, 1, NULL);
        fb_inject_api(h->w, KP_API_FIND_COORDINATOR, errs[k], 1);
        tx_cb c = { 0 };
        kp_producer_init_transactions(h->p, tx_done, &c);
        assert_true(tx_wait(h, &c, 3000));
        assert_int_equal(c.err, errs[k]);
        assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_FATAL_ERROR);
        assert_int_equal(kp_producer_begin_transaction(h->p), errs[k]); /* maybeFailWithError */
        ph_free(h);
    }
}

static void t_txn_init_producer_id_coordinator_errors(void **s) {
    (void)s;
    /* NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE: find it again;
     * COORDINATOR_LOAD_IN_PROGRESS / CONCURRENT_TRANSACTIONS: retry */
    const int16_t errs[] = { KP_ERR_NOT_COORDINATOR, KP_ERR_COORDINATOR_NOT_AVAILABLE,
                             KP_ERR_COORDINATOR_LOAD_IN_PROGRESS, KP_ERR_CONCURRENT_TRANSACTIONS };
    const int finds[] = { 2, 2, 1, 1 };
    for (int k = 0; k < 4; k++) {
        ph *h = tx_new(1, 1, NULL);
        fb_inject_api(h->w, KP_API_INIT_PRODUCER_ID, errs[k], 1);
        tx_init(h);
        assert_int_equal(fb_count_api(h->w, KP_API_INIT_PRODUCER_ID), 2);
        assert_int_equal(fb_count_api(h->w, KP_API_FIND_COORDINATOR), finds[k]);
        ph_free(h);
    }
    ph *h = tx_new(1, 1, NULL);
    fb_inject_api(h->w, KP_API_INIT_PRODUCER_ID, KP_ERR_INVALID_TXN_STATE, 1);
    tx_cb c = { 0 };
    kp_producer_init_transactions(h->p, tx_done, &c);
    assert_true(tx_wait(h, &c, 3000));
    assert_int_equal(c.err, KP_ERR_INVALID_TXN_STATE);
    assert_non_null(strstr(c.msg, "Unexpected error in InitProducerIdResponse"));
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_FATAL_ERROR);
    ph_free(h);
}

/* initTransactions waits max.block.ms; the next call waits for the same
 * InitProducerId (KafkaProducer.initTransactionsResult). */
static void t_txn_init_times_out_then_resumes(void **s) {
    (void)s;
    ph *h = tx_new(1, 1, "max.block.ms=500");
    fb_inject_api(h->w, KP_API_FIND_COORDINATOR, KP_ERR_COORDINATOR_NOT_AVAILABLE, 1000);
    tx_cb c = { 0 };
    int64_t t0 = fb_now_ms(h->w);
    kp_producer_init_transactions(h->p, tx_done, &c);
    assert_true(tx_wait(h, &c, 2000));
    assert_int_equal(c.err, KP_ERR__TIMED_OUT);
    assert_string_equal(c.msg, "Timeout expired while initializing transactional state in 500ms.");
    assert_true(c.at_ms - t0 <= 501);
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_INITIALIZING);
    fb_inject_api(h->w, KP_API_FIND_COORDINATOR, 0, 0);
    tx_cb c2 = { 0 };
    assert_int_equal(kp_producer_init_transactions(h->p, tx_done, &c2), KP_ERR_NONE);
    assert_true(tx_wait(h, &c2, 2000));
    assert_int_equal(c2.err, KP_ERR_NONE);
    assert_int_equal(fb_count_api(h->w, KP_API_INIT_PRODUCER_ID), 1);
    ph_free(h);
}

/* The coordinator moves: AddPartitionsToTxn answered NOT_COORDINATOR,
 * FindCoordinator names the new one, the add goes there. */
static void t_txn_coordinator_moves_rediscovered(void **s) {
    (void)s;
    ph *h = tx_new(2, 1, NULL);
    tx_init(h);
    fb_set_coordinator(h->w, 1);
    kp_producer_begin_transaction(h->p);
    int id;
    tx_send(h, 0, &id);
    assert_true(ph_run_until_acked(h, 3000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    assert_int_equal(fb_count_api(h->w, KP_API_FIND_COORDINATOR), 2);
    assert_int_equal(fb_req_at(h->w, req_last(h, KP_API_ADD_PARTITIONS_TO_TXN))->node, 1);
    tx_cb c = { 0 };
    kp_producer_commit_transaction(h->p, tx_done, &c);
    assert_true(tx_wait(h, &c, 3000));
    assert_int_equal(c.err, KP_ERR_NONE);
    assert_int_equal(fb_req_at(h->w, req_last(h, KP_API_END_TXN))->node, 1);
    ph_free(h);
}

/* CONCURRENT_TRANSACTIONS on the first AddPartitionsToTxn: retried after
 * 20 ms (the previous transaction is still completing), not 100. */
static void t_txn_add_partitions_concurrent_transactions_backoff(void **s) {
    (void)s;
    ph *h = tx_new(1, 1, NULL);
    tx_init(h);
    fb_inject_api(h->w, KP_API_ADD_PARTITIONS_TO_TXN, KP_ERR_CONCURRENT_TRANSACTIONS, 2);
    kp_producer_begin_transaction(h->p);
    int id;
    tx_send(h, 0, &id);
    assert_true(ph_run_until_acked(h, 3000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    assert_int_equal(fb_count_api(h->w, KP_API_ADD_PARTITIONS_TO_TXN), 3);
    int64_t t0 = fb_req_at(h->w, req_index(h, KP_API_ADD_PARTITIONS_TO_TXN, 0))->at_ms;
    int64_t t1 = fb_req_at(h->w, req_index(h, KP_API_ADD_PARTITIONS_TO_TXN, 1))->at_ms;
    assert_true(t1 - t0 >= 20 && t1 - t0 < 100);
    assert_true(req_index(h, KP_API_ADD_PARTITIONS_TO_TXN, 2) < req_index(h, KP_API_PRODUCE, 0));
    ph_free(h);
}

/* Partitions that join while AddPartitionsToTxn backs off go out in the
 * one retried request (no request per arrival, no queue overflow). */
static void t_txn_partitions_joining_during_backoff_share_one_request(void **s) {
    (void)s;
    ph *h = tx_new(1, 16, NULL);
    tx_init(h);
    fb_inject_api(h->w, KP_API_ADD_PARTITIONS_TO_TXN, KP_ERR_COORDINATOR_LOAD_IN_PROGRESS, 1);
    kp_producer_begin_transaction(h->p);
    int id;
    tx_send(h, 0, &id);
    ph_run_for(h, 5);
    assert_int_equal(fb_count_api(h->w, KP_API_ADD_PARTITIONS_TO_TXN), 1); /* answered, backing off */
    for (int p = 1; p < 16; p++) {
        assert_int_equal(tx_send(h, p, &id), KP_SEND_OK);
        ph_run_for(h, 2);
    }
    tx_cb c = { 0 };
    assert_int_equal(kp_producer_commit_transaction(h->p, tx_done, &c), KP_ERR_NONE);
    assert_true(tx_wait(h, &c, 3000));
    assert_int_equal(c.err, KP_ERR_NONE);
    assert_int_equal(fb_count_api(h->w, KP_API_ADD_PARTITIONS_TO_TXN), 2);
    assert_int_equal(fb_txn_commits(h->w), 1);
    assert_int_equal(ph_callbacks_ok(h), 16);
    ph_free(h);
}

/* isSendToPartitionAllowed: nothing is drained for a partition until its
 * AddPartitionsToTxn is answered (the coordinator on node 1 holds it). */
static void t_txn_no_drain_until_partition_added(void **s) {
    (void)s;
    ph *h = tx_new(2, 1, NULL);
    fb_set_coordinator(h->w, 1);
    tx_init(h);
    fb_hold(h->w, 1, true);
    kp_producer_begin_transaction(h->p);
    int id;
    tx_send(h, 0, &id);
    ph_run_for(h, 200);
    assert_int_equal(fb_count_api(h->w, KP_API_ADD_PARTITIONS_TO_TXN), 1);
    assert_int_equal(fb_count_api(h->w, KP_API_PRODUCE), 0);
    fb_hold(h->w, 1, false);
    fb_release(h->w, 1, 1);
    assert_true(ph_run_until_acked(h, 2000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    ph_free(h);
}

/* A retried batch that expires leaves its sequence unresolved; a
 * transactional producer cannot resolve it: "The client hasn't received
 * acknowledgment for some previously sent messages and can no longer retry
 * them. It isn't safe to continue." — fatal. */
static void t_txn_expired_retried_batch_is_fatal(void **s) {
    (void)s;
    const char *set[] = { "transactional.id=tx", "linger.ms=0", "request.timeout.ms=1000",
                          "delivery.timeout.ms=1500", NULL };
    ph *h = ph_new(1, 1, set);
    tx_world = h->w;
    tx_init(h);
    kp_producer_begin_transaction(h->p);
    fb_inject(h->w, "t", 0, KP_ERR_NOT_ENOUGH_REPLICAS, 100000, -1);
    int id;
    tx_send(h, 0, &id);
    assert_true(ph_run_until_acked(h, 5000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR__TIMED_OUT);
    ph_run_for(h, 50);
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_FATAL_ERROR);
    assert_int_equal(kp_producer_begin_transaction(h->p), KP_ERR__FATAL); /* maybeFailWithError first */
    tx_cb c = { 0 };
    assert_int_equal(kp_producer_commit_transaction(h->p, tx_done, &c), KP_ERR__FATAL);
    ph_free(h);
}

/* maybeTerminateRequestWithError: in ABORTABLE_ERROR a FindCoordinator
 * still goes out, other handlers fail with the last error; an abortable
 * error while aborting is ignored. */
static void t_txn_abortable_state_lets_find_coordinator_through(void **s) {
    (void)s;
    fb_world *w = fb_new();
    kp_env env;
    kp_txn_result r0, r1;
    kp_txn_manager *tm = tm_in_state(w, &env, KP_TXN_IN_TRANSACTION, &r0);
    char m[128];
    assert_int_equal(kp_txn_maybe_add_partition_to_transaction(tm, "t", 0, m, sizeof m), KP_ERR_NONE);
    kp_txn_handler *h = kp_txn_next_request_handler(tm, true); /* AddPartitionsToTxn */
    assert_string_equal(kp_txn_handler_name(h), "AddPartitionsToTxn");
    kp_txn_requeue(tm, h);
    kp_txn_transition_to_abortable_error(tm, KP_ERR_NOT_ENOUGH_REPLICAS);
    kp_txn_lookup_coordinator(tm);
    h = kp_txn_next_request_handler(tm, true);
    assert_non_null(h);
    assert_string_equal(kp_txn_handler_name(h), "FindCoordinator");
    kp_txn_requeue(tm, h);
    h = kp_txn_next_request_handler(tm, true);
    assert_string_equal(kp_txn_handler_name(h), "FindCoordinator");
    kp_txn_requeue(tm, h);
    assert_int_equal(kp_txn_begin_abort(tm, &r1, m, sizeof m), KP_ERR_NONE);
    kp_txn_transition_to_abortable_error(tm, KP_ERR_NOT_ENOUGH_REPLICAS);
    assert_int_equal(kp_txn_get_state(tm), KP_TXN_ABORTING_TRANSACTION);
    assert_false(kp_txn_is_send_to_partition_allowed(tm, "t", 0)); /* never added */
    assert_true(kp_txn_verify(tm));
    h = kp_txn_next_request_handler(tm, false);
    kp_txn_handler_sent(tm, h, 9);
    assert_true(kp_txn_verify(tm));
    kp_txn_set_in_flight_request_correlation_id(tm, -1); /* corrupt: in flight without an id */
    assert_false(kp_txn_verify(tm));
    kp_txn_set_in_flight_request_correlation_id(tm, 9);
    kp_txn_manager_destroy(tm);
    fb_free(w);
}

static void t_txn_add_partitions_errors(void **s) {
    (void)s;
    /* retried: COORDINATOR_LOAD_IN_PROGRESS, UNKNOWN_TOPIC_OR_PARTITION,
     * NOT_COORDINATOR (after FindCoordinator) */
    const int16_t retried[] = { KP_ERR_COORDINATOR_LOAD_IN_PROGRESS, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION,
                                KP_ERR_NOT_COORDINATOR };
    for (int k = 0; k < 3; k++) {
        ph *h = tx_new(1, 1, NULL);
        tx_init(h);
        fb_inject_api(h->w, KP_API_ADD_PARTITIONS_TO_TXN, retried[k], 1);
        kp_producer_begin_transaction(h->p);
        int id;
        tx_send(h, 0, &id);
        assert_true(ph_run_until_acked(h, 3000));
        assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
        assert_int_equal(fb_count_api(h->w, KP_API_FIND_COORDINATOR), k == 2 ? 2 : 1);
        ph_free(h);
    }
    /* fatal: the epoch is old (ProducerFenced) */
    ph *h = tx_new(1, 1, NULL);
    tx_init(h);
    fb_fence(h->w);
    kp_producer_begin_transaction(h->p);
    int id;
    tx_send(h, 0, &id);
    assert_true(ph_run_until_acked(h, 3000));
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_FATAL_ERROR);
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_INVALID_PRODUCER_EPOCH); /* aborted with the last error */
    tx_cb c = { 0 };
    assert_int_equal(kp_producer_commit_transaction(h->p, tx_done, &c), KP_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(ph_send_value(h, 0, "y", &id, NULL), KP_SEND_ERROR);
    ph_free(h);
    /* abortable: a topic not authorized; abort is allowed and recovers */
    h = tx_new(1, 1, NULL);
    tx_init(h);
    fb_inject_api(h->w, KP_API_ADD_PARTITIONS_TO_TXN, KP_ERR_TOPIC_AUTHORIZATION_FAILED, 1);
    kp_producer_begin_transaction(h->p);
    tx_send(h, 0, &id);
    assert_true(ph_run_until_acked(h, 3000));
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_ABORTABLE_ERROR);
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_TOPIC_AUTHORIZATION_FAILED);
    assert_int_equal(kp_producer_commit_transaction(h->p, tx_done, &c), KP_ERR_TOPIC_AUTHORIZATION_FAILED);
    assert_int_equal(kp_producer_abort_transaction(h->p, tx_done, &c), KP_ERR_NONE);
    assert_true(tx_wait(h, &c, 3000));
    assert_int_equal(c.err, KP_ERR_NONE);
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_READY);
    assert_int_equal(kp_producer_begin_transaction(h->p), KP_ERR_NONE);
    tx_send(h, 0, &id);
    assert_true(ph_run_until_acked(h, 3000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    ph_free(h);
}

static void t_txn_end_txn_errors(void **s) {
    (void)s;
    const int16_t retried[] = { KP_ERR_NOT_COORDINATOR, KP_ERR_COORDINATOR_NOT_AVAILABLE,
                                KP_ERR_COORDINATOR_LOAD_IN_PROGRESS, KP_ERR_CONCURRENT_TRANSACTIONS };
    for (int k = 0; k < 4; k++) {
        ph *h = tx_new(1, 1, NULL);
        tx_init(h);
        kp_producer_begin_transaction(h->p);
        int id;
        tx_send(h, 0, &id);
        assert_true(ph_run_until_acked(h, 3000));
        fb_inject_api(h->w, KP_API_END_TXN, retried[k], 1);
        tx_cb c = { 0 };
        kp_producer_commit_transaction(h->p, tx_done, &c);
        assert_true(tx_wait(h, &c, 3000));
        assert_int_equal(c.err, KP_ERR_NONE);
        assert_int_equal(fb_count_api(h->w, KP_API_END_TXN), 2);
        assert_int_equal(fb_count_api(h->w, KP_API_FIND_COORDINATOR), k < 2 ? 2 : 1);
        assert_int_equal(fb_txn_commits(h->w), 1);
        ph_free(h);
    }
    /* fenced while committing: fatal, the commit's callback says so */
    ph *h = tx_new(1, 1, NULL);
    tx_init(h);
    kp_producer_begin_transaction(h->p);
    int id;
    tx_send(h, 0, &id);
    assert_true(ph_run_until_acked(h, 3000));
    fb_inject_api(h->w, KP_API_END_TXN, KP_ERR_INVALID_PRODUCER_EPOCH, 1);
    tx_cb c = { 0 };
    kp_producer_commit_transaction(h->p, tx_done, &c);
    assert_true(tx_wait(h, &c, 3000));
    assert_int_equal(c.err, KP_ERR_INVALID_PRODUCER_EPOCH);
    assert_non_null(strstr(c.msg, "Producer attempted an operation with an old epoch"));
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_FATAL_ERROR);
    assert_int_equal(kp_producer_begin_transaction(h->p), KP_ERR_INVALID_PRODUCER_EPOCH);
    ph_free(h);
}

/* A second producer with the same transactional.id bumps the epoch: the
 * first one's next Produce is fenced (INVALID_PRODUCER_EPOCH): fatal. */
static void t_txn_fenced_produce_is_fatal(void **s) {
    (void)s;
    ph *h = tx_new(1, 1, NULL);
    tx_init(h);
    kp_producer_begin_transaction(h->p);
    int id;
    tx_send(h, 0, &id);
    assert_true(ph_run_until_acked(h, 3000));
    fb_fence(h->w);
    tx_send(h, 0, &id);
    assert_true(ph_run_until_acked(h, 3000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_FATAL_ERROR);
    assert_int_equal(h->events[KP_EV_FATAL_ERROR - 100], 1);
    tx_cb c = { 0 };
    assert_int_equal(kp_producer_abort_transaction(h->p, tx_done, &c), KP_ERR_INVALID_PRODUCER_EPOCH);
    kp_err e;
    assert_int_equal(ph_send_value(h, 0, "z", &id, &e), KP_SEND_ERROR);
    assert_int_equal(e, KP_ERR_INVALID_PRODUCER_EPOCH);
    ph_free(h);
}

/* The coordinator's connection breaks while EndTxn is in flight: the
 * request is lost, the coordinator looked up again, EndTxn resent. */
static void t_txn_coordinator_disconnect_mid_commit(void **s) {
    (void)s;
    ph *h = tx_new(2, 1, NULL);
    fb_set_coordinator(h->w, 1);
    tx_init(h);
    kp_producer_begin_transaction(h->p);
    int id;
    tx_send(h, 0, &id);
    assert_true(ph_run_until_acked(h, 3000));
    fb_hold(h->w, 1, true);
    tx_cb c = { 0 };
    kp_producer_commit_transaction(h->p, tx_done, &c);
    ph_run_for(h, 20);
    assert_int_equal(fb_count_api(h->w, KP_API_END_TXN), 1);
    fb_disconnect(h->w, 1); /* the held answer is lost with the connection */
    fb_hold(h->w, 1, false);
    assert_true(tx_wait(h, &c, 5000));
    assert_int_equal(c.err, KP_ERR_NONE);
    assert_int_equal(fb_count_api(h->w, KP_API_END_TXN), 2);
    assert_int_equal(fb_count_api(h->w, KP_API_FIND_COORDINATOR), 2);
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_READY);
    ph_free(h);
}

/* close while a transactional call is pending: its callback fires once,
 * with KP_ERR__CLOSED. */
static void t_txn_close_fails_pending_call(void **s) {
    (void)s;
    ph *h = tx_new(1, 1, NULL);
    fb_inject_api(h->w, KP_API_FIND_COORDINATOR, KP_ERR_COORDINATOR_NOT_AVAILABLE, 1000);
    tx_cb c = { 0 };
    kp_producer_init_transactions(h->p, tx_done, &c);
    ph_run_for(h, 50);
    kp_producer_close(h->p, 0, NULL, NULL);
    ph_run_for(h, 50);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.err, KP_ERR__CLOSED);
    ph_free(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_state_machine_transitions),
        cmocka_unit_test(t_sequences_start_at_zero_and_wrap),
        cmocka_unit_test(t_hints_survive_appends_and_go_stale_on_reset),
        cmocka_unit_test(t_producer_id_and_epoch),
        cmocka_unit_test(t_in_flight_batches_ordered_by_sequence),
        cmocka_unit_test(t_fused_drain_calls_match_single_calls),
        cmocka_unit_test(t_batch_acked_matches_single_calls),
        cmocka_unit_test(t_sender_idle_only_at_rest),
        cmocka_unit_test(t_last_acked_sequence_only_grows),
        cmocka_unit_test(t_last_acked_offset),
        cmocka_unit_test(t_adjust_sequences_after_failed_batch),
        cmocka_unit_test(t_adjust_below_zero_is_fatal_not_abort),
        cmocka_unit_test(t_can_retry_out_of_order_sequence),
        cmocka_unit_test(t_can_retry_unknown_producer_id),
        cmocka_unit_test(t_unresolved_sequences_resolve_or_reset),
        cmocka_unit_test(t_reset_producer_id_clears_state),
        cmocka_unit_test(t_adjust_ignored_after_reset),
        cmocka_unit_test(t_txn_calls_in_every_state),
        cmocka_unit_test(t_txn_handler_queue_order_and_empty_commit),
        cmocka_unit_test(t_txn_init_finds_coordinator_then_producer_id),
        cmocka_unit_test(t_txn_begin_send_commit),
        cmocka_unit_test(t_txn_commit_flushes_before_end_txn),
        cmocka_unit_test(t_txn_abort_after_sends_marks_records_aborted),
        cmocka_unit_test(t_txn_abort_fails_undrained_records),
        cmocka_unit_test(t_txn_illegal_calls_fail_synchronously),
        cmocka_unit_test(t_txn_find_coordinator_not_available_is_retried),
        cmocka_unit_test(t_txn_find_coordinator_fatal_errors),
        cmocka_unit_test(t_txn_init_producer_id_coordinator_errors),
        cmocka_unit_test(t_txn_init_times_out_then_resumes),
        cmocka_unit_test(t_txn_coordinator_moves_rediscovered),
        cmocka_unit_test(t_txn_add_partitions_concurrent_transactions_backoff),
        cmocka_unit_test(t_txn_add_partitions_errors),
        cmocka_unit_test(t_txn_no_drain_until_partition_added),
        cmocka_unit_test(t_txn_expired_retried_batch_is_fatal),
        cmocka_unit_test(t_txn_abortable_state_lets_find_coordinator_through),
        cmocka_unit_test(t_txn_partitions_joining_during_backoff_share_one_request),
        cmocka_unit_test(t_txn_end_txn_errors),
        cmocka_unit_test(t_txn_fenced_produce_is_fatal),
        cmocka_unit_test(t_txn_coordinator_disconnect_mid_commit),
        cmocka_unit_test(t_txn_close_fails_pending_call),
    };
    return cmocka_run_group_tests_name("txn_manager", tests, NULL, NULL);
}
