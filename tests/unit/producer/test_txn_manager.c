/*
 * test_txn_manager.c — the idempotence part of TransactionManager as
 * Kafka's TransactionManagerTest checks it: sequences, in-flight batches
 * by sequence, last acked sequence/offset, adjusting sequences after a
 * failed batch, canRetry for OUT_OF_ORDER_SEQUENCE_NUMBER and
 * UNKNOWN_PRODUCER_ID, unresolved sequences, resetProducerId, the state
 * machine's transitions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fake_broker.h"
#include "kp_batch.h"
#include "kp_txn_manager.h"

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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_state_machine_transitions),
        cmocka_unit_test(t_sequences_start_at_zero_and_wrap),
        cmocka_unit_test(t_producer_id_and_epoch),
        cmocka_unit_test(t_in_flight_batches_ordered_by_sequence),
        cmocka_unit_test(t_last_acked_sequence_only_grows),
        cmocka_unit_test(t_last_acked_offset),
        cmocka_unit_test(t_adjust_sequences_after_failed_batch),
        cmocka_unit_test(t_adjust_below_zero_is_fatal_not_abort),
        cmocka_unit_test(t_can_retry_out_of_order_sequence),
        cmocka_unit_test(t_can_retry_unknown_producer_id),
        cmocka_unit_test(t_unresolved_sequences_resolve_or_reset),
        cmocka_unit_test(t_reset_producer_id_clears_state),
        cmocka_unit_test(t_adjust_ignored_after_reset),
    };
    return cmocka_run_group_tests_name("txn_manager", tests, NULL, NULL);
}
