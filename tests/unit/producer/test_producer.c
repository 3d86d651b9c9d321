/*
 * test_producer.c — the KafkaProducer facade: send/doSend/waitOnMetadata
 * as the blog walks them, the synchronous-vs-callback contract of
 * kp_producer.h, flush, close vs forceClose, KAFKA-19479's flush switch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_events.h"
#include "prod_harness.h"

static void t_send_waits_for_metadata_then_acks(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    int id;
    assert_int_equal(ph_send(h, -1, NULL, &id), KP_SEND_BLOCKED);
    assert_true(kp_producer_send_blocked(h->p));
    assert_true(ph_run_until_acked(h, 5000));
    assert_int_equal(h->unblocked, 1);
    assert_false(kp_producer_send_blocked(h->p));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    assert_int_equal(ph_cb_of(h, id)->offset, 0);
    assert_int_equal(fb_log_len(h->w, "t", 0), 1);
    assert_string_equal(fb_log_value(h->w, "t", 0, 0), "v0");
    /* metadata known now: the next send is synchronous */
    assert_int_equal(ph_send(h, -1, NULL, &id), KP_SEND_OK);
    assert_true(ph_run_until_acked(h, 5000));
    assert_int_equal(ph_cb_of(h, id)->offset, 1);
    assert_true(ph_each_once(h));
    ph_free(h);
}

static void t_metadata_wait_times_out_through_callback(void **s) {
    (void)s;
    const char *set[] = { "max.block.ms=500", NULL };
    ph *h = ph_new(1, 1, set);
    fb_set_topic_error(h->w, "t", KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    int id;
    assert_int_equal(ph_send(h, -1, NULL, &id), KP_SEND_BLOCKED);
    ph_run_for(h, 499);
    assert_int_equal(ph_callbacks_total(h), 0);
    ph_run_for(h, 10);
    assert_int_equal(ph_callbacks_total(h), 1);
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR__TIMED_OUT);
    assert_string_equal(ph_cb_of(h, id)->msg, "Failed to update metadata after 500 ms.");
    assert_string_equal(ph_cb_of(h, id)->topic, "t");
    assert_int_equal(h->unblocked, 1);
    ph_free(h);
}

/* F1: per-topic Metadata errors are events of their own with err set
 * (NetworkClient logs response.errors()); the response event itself
 * stays NONE, as the response decoded. */
static void t_metadata_topic_errors_are_events(void **s) {
    (void)s;
    const char *set[] = { "max.block.ms=500", NULL };
    ph *h = ph_new(1, 1, set);
    fb_set_topic_error(h->w, "t", KP_ERR_LEADER_NOT_AVAILABLE);
    int id;
    assert_int_equal(ph_send(h, -1, NULL, &id), KP_SEND_BLOCKED);
    ph_run_for(h, 200);
    int n = h->events[KP_EV_METADATA_TOPIC_ERROR - 100];
    assert_true(n >= 1);
    assert_int_equal(h->last_err[KP_EV_METADATA_TOPIC_ERROR - 100], KP_ERR_LEADER_NOT_AVAILABLE);
    assert_int_equal(h->last_err[KP_EV_METADATA_RESPONSE - 100], KP_ERR_NONE);
    assert_string_equal(kp_event_kind_name(KP_EV_METADATA_TOPIC_ERROR), "metadata_topic_error");
    fb_set_topic_error(h->w, "t", KP_ERR_NONE);
    assert_true(ph_run_until_acked(h, 1000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    int after = h->events[KP_EV_METADATA_TOPIC_ERROR - 100];
    ph_run_for(h, 500); /* healthy refreshes add none */
    assert_int_equal(h->events[KP_EV_METADATA_TOPIC_ERROR - 100], after);
    ph_free(h);
}

static void t_second_send_while_blocked_is_refused(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    int a, b;
    kp_err err;
    assert_int_equal(ph_send(h, -1, NULL, &a), KP_SEND_BLOCKED);
    assert_int_equal(ph_send_value(h, -1, "x", &b, &err), KP_SEND_ERROR);
    assert_int_equal(err, KP_ERR__STATE);
    ph_run_until_acked(h, 2000);
    assert_int_equal(h->per_id[b], 0); /* synchronous failure: never a callback */
    assert_int_equal(h->per_id[a], 1);
    ph_free(h);
}

static void t_invalid_partition_after_metadata(void **s) {
    (void)s;
    ph *h = ph_new(1, 2, NULL);
    int id;
    assert_int_equal(ph_send(h, 5, NULL, &id), KP_SEND_BLOCKED);
    ph_run_for(h, 2000);
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR__INVALID_ARG);
    assert_string_equal(ph_cb_of(h, id)->msg, "Invalid partition given with record: 5 is not in the range [0...2).");
    ph_free(h);
}

static void t_record_without_topic_is_refused(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    kp_producer_record r;
    memset(&r, 0, sizeof r);
    r.partition = -1;
    r.key = kp_datum_null();
    r.value = kp_datum_str("v");
    kp_err err;
    assert_int_equal(kp_producer_send(h->p, &r, NULL, NULL, &err, NULL, 0), KP_SEND_ERROR);
    assert_int_equal(err, KP_ERR__INVALID_ARG);
    ph_free(h);
}

static void t_record_too_large_is_synchronous(void **s) {
    (void)s;
    const char *set[] = { "max.request.size=200", NULL };
    ph *h = ph_new(1, 1, set);
    int id;
    ph_send(h, -1, NULL, &id);
    ph_run_until_acked(h, 2000);
    char big[400];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    kp_err err;
    assert_int_equal(ph_send_value(h, -1, big, &id, &err), KP_SEND_ERROR);
    assert_int_equal(err, KP_ERR__RECORD_TOO_LARGE);
    double e = 0;
    assert_true(kp_metrics_get(kp_producer_metrics(h->p), "record-error-total", NULL, fb_now_ms(h->w), &e));
    assert_true(e == 1); /* doSend's errors.record() */
    ph_run_for(h, 100);
    assert_int_equal(h->per_id[id], 0);
    ph_free(h);
}

static void t_keyed_records_go_to_murmur2_partition(void **s) {
    (void)s;
    ph *h = ph_new(2, 4, NULL);
    int id;
    ph_send(h, -1, "key1", &id); /* murmur2 "key1" % 4 = 0 (KAFKA_FACTS) */
    ph_run_until_acked(h, 5000);
    ph_send(h, -1, "test", &id); /* % 4 = 3 */
    ph_run_until_acked(h, 5000);
    assert_int_equal(h->cbs[0].partition, 0);
    assert_int_equal(h->cbs[1].partition, 3);
    assert_int_equal(fb_log_len(h->w, "t", 3), 1);
    ph_free(h);
}

static void flushed(void *ctx) { ((ph *)ctx)->flushed++; }
static void closed(void *ctx) { ((ph *)ctx)->closed++; }

static void t_flush_completes_when_batches_done(void **s) {
    (void)s;
    const char *set[] = { "linger.ms=10000", NULL };
    ph *h = ph_new(1, 1, set);
    int id;
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 100);
    assert_int_equal(ph_send(h, 0, NULL, &id), KP_SEND_OK);
    ph_run_for(h, 100);
    assert_int_equal(ph_callbacks_total(h), 0); /* both records linger */
    kp_producer_flush(h->p, flushed, h);
    assert_true(kp_producer_flush_pending(h->p));
    assert_int_equal(h->flushed, 0); /* never inside flush() */
    ph_run_for(h, 100);
    assert_int_equal(h->flushed, 1);
    assert_int_equal(ph_callbacks_total(h), 2);
    assert_false(kp_producer_flush_pending(h->p));
    ph_free(h);
}

static void t_close_drains_in_flight_then_closes(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    int id;
    ph_send(h, 0, NULL, &id);
    ph_run_until_acked(h, 2000);
    fb_hold(h->w, 0, true);
    for (int i = 0; i < 3; i++)
        ph_send(h, 0, NULL, &id);
    ph_run_for(h, 20);
    assert_int_equal(kp_producer_pending_records(h->p), 3);
    kp_producer_close(h->p, KP_CLOSE_FOREVER, closed, h);
    ph_run_for(h, 50);
    assert_int_equal(h->closed, 0); /* waits for the held responses */
    fb_release(h->w, 0, 100);
    ph_run_for(h, 50);
    assert_int_equal(h->closed, 1);
    assert_true(kp_producer_is_closed(h->p));
    assert_int_equal(kp_producer_pending_records(h->p), 0);
    assert_int_equal(ph_callbacks_ok(h), 4);
    assert_true(ph_each_once(h));
    assert_true(kp_producer_pool_is_whole(h->p));
    kp_err err;
    assert_int_equal(ph_send_value(h, 0, "late", &id, &err), KP_SEND_ERROR);
    assert_int_equal(err, KP_ERR__CLOSED);
    ph_free(h);
}

static void t_force_close_aborts_incomplete(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    int id;
    ph_send(h, 0, NULL, &id);
    ph_run_until_acked(h, 2000);
    fb_hold(h->w, 0, true);
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 20); /* in flight */
    const char *set_linger = "x";
    (void)set_linger;
    kp_producer_close(h->p, 0, closed, h);
    ph_run_for(h, 5);
    assert_int_equal(h->closed, 1);
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR__ABORTED);
    assert_string_equal(ph_cb_of(h, id)->msg, "Producer is closed forcefully.");
    assert_true(ph_each_once(h));
    assert_true(kp_producer_pool_is_whole(h->p));
    ph_free(h);
}

static void t_close_with_timeout_forces_after_it(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    int id;
    ph_send(h, 0, NULL, &id);
    ph_run_until_acked(h, 2000);
    fb_blackhole(h->w, 0, true);
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 10);
    kp_producer_close(h->p, 1000, closed, h);
    ph_run_for(h, 990);
    assert_int_equal(h->closed, 0);
    ph_run_for(h, 20);
    assert_int_equal(h->closed, 1);
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR__ABORTED);
    assert_true(ph_each_once(h));
    ph_free(h);
}

static void t_close_fails_blocked_send(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    fb_set_topic_error(h->w, "t", KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    int id;
    assert_int_equal(ph_send(h, -1, NULL, &id), KP_SEND_BLOCKED);
    ph_run_for(h, 50);
    kp_producer_close(h->p, 0, closed, h);
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR__CLOSED);
    assert_int_equal(h->unblocked, 1);
    ph_run_for(h, 5);
    assert_int_equal(h->closed, 1);
    ph_free(h);
}

static void t_buffer_exhausted_blocks_then_resumes(void **s) {
    (void)s;
    const char *set[] = { "buffer.memory=2048", "batch.size=1024", "linger.ms=0", NULL };
    ph *h = ph_new(1, 2, set);
    int id;
    ph_send(h, 0, NULL, &id);
    ph_run_until_acked(h, 2000);
    fb_hold(h->w, 0, true);
    assert_int_equal(ph_send(h, 0, NULL, &id), KP_SEND_OK);
    ph_run_for(h, 5); /* batch in flight, holds 1024 */
    assert_int_equal(ph_send(h, 1, NULL, &id), KP_SEND_OK); /* second 1024 */
    assert_int_equal(ph_send(h, 1, NULL, &id), KP_SEND_OK); /* into p1's open batch */
    int blocked;
    h->unblocked = 0; /* (the warm-up send waited for metadata) */
    assert_int_equal(ph_send(h, 0, NULL, &blocked), KP_SEND_BLOCKED); /* no memory for p0 */
    assert_true(kp_producer_send_blocked(h->p));
    ph_run_for(h, 5);
    assert_int_equal(h->unblocked, 0);
    assert_int_equal(h->per_id[blocked], 0);
    fb_release(h->w, 0, 100); /* answers free the buffers */
    fb_hold(h->w, 0, false);
    assert_true(ph_run_until_acked(h, 5000));
    assert_int_equal(h->unblocked, 1);
    assert_int_equal(ph_cb_of(h, blocked)->err, KP_ERR_NONE);
    assert_true(ph_each_once(h));
    assert_int_equal(ph_callbacks_ok(h), h->next_id);
    assert_true(h->events[KP_EV_SEND_BLOCKED - 100] >= 1);
    ph_free(h);
}

static void t_buffer_exhausted_times_out(void **s) {
    (void)s;
    const char *set[] = { "buffer.memory=1024", "batch.size=1024", "max.block.ms=300", NULL };
    ph *h = ph_new(1, 2, set);
    int id;
    ph_send(h, 0, NULL, &id);
    ph_run_until_acked(h, 2000);
    fb_blackhole(h->w, 0, true);
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 5);
    int blocked;
    assert_int_equal(ph_send(h, 1, NULL, &blocked), KP_SEND_BLOCKED);
    ph_run_for(h, 310);
    assert_int_equal(ph_cb_of(h, blocked)->err, KP_ERR__BUFFER_EXHAUSTED);
    assert_string_equal(ph_cb_of(h, blocked)->msg,
                        "Failed to allocate memory within the configured max blocking time 300 ms.");
    ph_free(h);
}

/* F4: BufferPool.allocate fails at max.block.ms even while the sender
 * sleeps on a blackholed request (its sleep is request.timeout.ms long):
 * the blocked send must wake the driver so the pool deadline is folded in. */
static void t_buffer_exhausted_times_out_while_sender_sleeps(void **s) {
    (void)s;
    const char *set[] = { "buffer.memory=1024", "batch.size=1024", "max.block.ms=300", NULL };
    ph *h = ph_new(1, 2, set);
    int id;
    ph_send(h, 0, NULL, &id);
    ph_run_until_acked(h, 2000);
    fb_blackhole(h->w, 0, true);
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 5); /* the batch is in flight, the pool is empty */
    int64_t sleep_ms = kp_producer_run_once(h->p);
    assert_true(sleep_ms > 1000); /* waiting for request.timeout.ms */
    int w0 = fb_wakeups(h->w);
    int blocked;
    int64_t t0 = fb_now_ms(h->w);
    assert_int_equal(ph_send(h, 1, NULL, &blocked), KP_SEND_BLOCKED);
    /* the driver: sleep what run_once said unless woken meanwhile */
    if (fb_wakeups(h->w) == w0)
        fb_advance_ms(h->w, sleep_ms);
    ph_run_for(h, 400);
    assert_int_equal(ph_cb_of(h, blocked)->err, KP_ERR__BUFFER_EXHAUSTED);
    assert_true(ph_cb_of(h, blocked)->at_ms - t0 <= 301);
    ph_free(h);
}

/* KIP-480 abortOnNewBatch: with the sticky partitioner a linger window
 * fills ONE batch — a record that would start a batch moves the sticky
 * partition first and goes there. (Switching after the append scattered
 * the first records of every window over the partitions.) */
static void t_sticky_fills_one_batch_per_window(void **s) {
    (void)s;
    const char *set[] = { "partitioner.class=sticky", "linger.ms=1000", NULL };
    ph *h = ph_new(1, 6, set);
    int id;
    ph_send(h, -1, NULL, &id); /* waits for metadata, then appended */
    ph_run_for(h, 5);
    for (int i = 0; i < 19; i++)
        assert_int_equal(ph_send(h, -1, NULL, &id), KP_SEND_OK);
    kp_producer_flush(h->p, NULL, NULL);
    assert_true(ph_run_until_acked(h, 3000));
    int used = 0, most = 0;
    for (int p = 0; p < 6; p++) {
        used += fb_log_len(h->w, "t", p) > 0;
        if (fb_log_len(h->w, "t", p) > most)
            most = fb_log_len(h->w, "t", p);
    }
    assert_int_equal(used, 1);
    assert_int_equal(most, 20);
    assert_int_equal(fb_count_api(h->w, 0 /* Produce */), 1);
    ph_free(h);
}

/* Warm up: metadata known, connection ready, one record acked. */
static void warm(ph *h) {
    int id;
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 200);
    kp_producer_flush(h->p, NULL, NULL);
    ph_run_until_acked(h, 2000);
    ph_run_for(h, 10);
}

/* doSend wakes the sender for every record that fills or starts a batch,
 * as Java does; the trace names the wakeup only when it changes something:
 * the first one since the sender last ran. */
static void t_do_send_wakeup_event_once_per_sender_run(void **s) {
    (void)s;
    const char *set[] = { "linger.ms=10000", NULL };
    ph *h = ph_new(1, 6, set);
    warm(h);
    int w0 = fb_wakeups(h->w), e0 = h->events[KP_EV_WAKEUP - 100];
    int id;
    for (int p = 1; p < 6; p++) /* each record starts a batch */
        assert_int_equal(ph_send(h, p, NULL, &id), KP_SEND_OK);
    assert_int_equal(fb_wakeups(h->w) - w0, 5);
    assert_int_equal(h->events[KP_EV_WAKEUP - 100] - e0, 1);
    ph_step(h, 1); /* the sender runs: the wakeup is consumed */
    assert_int_equal(ph_send(h, 0, NULL, &id), KP_SEND_OK);
    assert_int_equal(fb_wakeups(h->w) - w0, 6);
    assert_int_equal(h->events[KP_EV_WAKEUP - 100] - e0, 2);
    ph_free(h);
}

static void t_bug_19479_flush_returns_before_split_pieces(void **s) {
    (void)s;
    for (int bug = 0; bug <= 1; bug++) {
        const char *set[] = { "linger.ms=10000", "batch.size=1000",
                              bug ? "bug.KAFKA-19479=true" : "bug.KAFKA-19479=false", NULL };
        ph *h = ph_new(1, 1, set);
        warm(h);
        int id;
        for (int i = 0; i < 20; i++)
            ph_send(h, 0, NULL, &id);
        fb_set_message_max_bytes(h->w, 200);
        fb_hold(h->w, 0, true);
        h->flushed = 0;
        kp_producer_flush(h->p, flushed, h);
        ph_run_for(h, 5);     /* the batch goes out; its answer is held */
        assert_int_equal(fb_held(h->w, 0), 1);
        fb_release(h->w, 0, 1); /* MESSAGE_TOO_LARGE -> split */
        ph_run_for(h, 50);
        assert_int_equal(ph_callbacks_total(h), 1); /* only the warm-up record */
        if (bug) {
            /* 2.1: flush returned when the big batch was split; its pieces
             * are not acknowledged (here they even wait for linger.ms) */
            assert_int_equal(h->flushed, 1);
        } else {
            assert_true(fb_held(h->w, 0) >= 1); /* pieces sent, answers held */
            assert_int_equal(h->flushed, 0);
        }
        fb_hold(h->w, 0, false);
        for (int k = 0; k < 400 && ph_callbacks_total(h) < 21; k++) {
            fb_release(h->w, 0, 100);
            ph_run_for(h, 50);
        }
        assert_true(ph_run_until_acked(h, 20000));
        ph_run_for(h, 10);
        assert_int_equal(h->flushed, 1);
        assert_true(ph_each_once(h));
        assert_int_equal(ph_callbacks_ok(h), 21);
        assert_int_equal(fb_log_len(h->w, "t", 0), 21);
        ph_free(h);
    }
}

static void t_interceptors_see_every_ack(void **s) {
    (void)s;
    const char *set[] = { "interceptor.classes=counting", NULL };
    ph *h = ph_new(1, 1, set);
    int id;
    ph_send(h, 0, NULL, &id);
    ph_run_until_acked(h, 2000);
    ph_send(h, 0, NULL, &id);
    ph_run_until_acked(h, 2000);
    uint64_t sends, acks, errs;
    assert_true(kp_interceptors_counts(kp_producer_interceptors(h->p), &sends, &acks, &errs));
    assert_int_equal(sends, 2);
    assert_int_equal(acks, 2);
    assert_int_equal(errs, 0);
    ph_free(h);
}

/* An interceptor added to a running producer's chain sees the sends and
 * acknowledgements from then on (the producer reads the chain's length in
 * place, kp_interceptors_count_ref, not a copy taken at creation). */
static int late_sends, late_acks;
static kp_err late_on_send(void *ctx, const kp_producer_record *in, kp_producer_record *out) {
    (void)ctx;
    (void)in;
    (void)out;
    late_sends++;
    return KP_ERR_NONE;
}
static kp_err late_on_ack(void *ctx, const kp_record_metadata *md, kp_err err) {
    (void)ctx;
    (void)md;
    (void)err;
    late_acks++;
    return KP_ERR_NONE;
}
static void t_interceptor_added_later_sees_sends_and_acks(void **s) {
    (void)s;
    static const kp_interceptor_ops late = { "late", late_on_send, late_on_ack, NULL };
    ph *h = ph_new(1, 1, NULL);
    late_sends = late_acks = 0;
    int id;
    ph_send(h, 0, NULL, &id);
    ph_run_until_acked(h, 2000);
    assert_int_equal(late_sends + late_acks, 0);
    assert_int_equal(kp_interceptors_add(kp_producer_interceptors(h->p), &late, NULL), KP_ERR_NONE);
    ph_send(h, 0, NULL, &id);
    ph_send(h, 0, NULL, &id);
    ph_run_until_acked(h, 2000);
    assert_int_equal(late_sends, 2);
    assert_int_equal(late_acks, 2);
    ph_free(h);
}

/* metadata.add on every send keeps a topic in the metadata: sent to
 * every 50 s across several metadata updates (max age 60 s) for twice the
 * topic expiry (5 min), the topic is never expired, although the send
 * adds it only once per metadata version (kp_metadata_version_ref: each
 * update turns the mark into a time, and the next send marks it again);
 * left alone, it expires. */
static void t_sends_keep_their_topic_in_the_metadata(void **s) {
    (void)s;
    const char *set[] = { "metadata.max.age.ms=60000", NULL };
    ph *h = ph_new(1, 1, set);
    int id;
    int updates0 = h->events[KP_EV_METADATA_UPDATED - 100];
    for (int i = 0; i < 12; i++) {
        ph_send(h, 0, NULL, &id);
        ph_run_for(h, 50000);
    }
    assert_true(ph_run_until_acked(h, 2000));
    assert_true(h->events[KP_EV_METADATA_UPDATED - 100] - updates0 >= 8);
    assert_int_equal(h->events[KP_EV_METADATA_TOPIC_EXPIRED - 100], 0);
    ph_run_for(h, 2 * KP_TOPIC_EXPIRY_MS);
    assert_true(h->events[KP_EV_METADATA_TOPIC_EXPIRED - 100] >= 1);
    ph_free(h);
}

static void t_events_name_the_pipeline(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    int id;
    ph_send(h, 0, NULL, &id);
    ph_run_until_acked(h, 2000);
    assert_true(h->events[KP_EV_SEND - 100] >= 1);
    assert_true(h->events[KP_EV_METADATA_WAIT - 100] >= 1);
    assert_true(h->events[KP_EV_WAKEUP - 100] >= 1);
    assert_true(h->events[KP_EV_PRODUCE_REQUEST - 100] >= 1);
    assert_true(h->events[KP_EV_PRODUCE_RESPONSE - 100] >= 1);
    assert_true(h->events[KP_EV_CALLBACK - 100] >= 1);
    assert_true(h->events[KP_EV_CONN_STATE - 100] >= 2);
    assert_true(h->events[KP_EV_METADATA_REQUEST - 100] >= 1);
    ph_free(h);
}

/* KafkaProducer.throwIfNoTransactionManager: transactional calls need a
 * transactional.id; a transactional.id producer is built (it was refused
 * with KP_ERR__UNSUPPORTED before transactions existed). */
static void t_transactional_calls_need_transactional_id(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    assert_int_equal(kp_producer_begin_transaction(h->p), KP_ERR__STATE);
    assert_string_equal(kp_producer_txn_error_message(h->p),
                        "Cannot use transactional methods without enabling transactions by setting the "
                        "transactional.id configuration property");
    assert_int_equal(kp_producer_init_transactions(h->p, NULL, NULL), KP_ERR__STATE);
    ph_free(h);
    const char *set[] = { "transactional.id=tx", NULL };
    h = ph_new(1, 1, set);
    assert_non_null(h->p);
    assert_true(kp_producer_config(h->p)->enable_idempotence);
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_UNINITIALIZED);
    ph_free(h);
}

static void t_graceful_close_still_refreshes_metadata(void **s) {
    (void)s;
    ph *h = ph_new(2, 1, NULL);
    int id;
    ph_send(h, 0, NULL, &id);
    ph_run_until_acked(h, 2000);
    fb_set_leader(h->w, "t", 0, 1); /* moved: NOT_LEADER, then metadata */
    ph_send(h, 0, NULL, &id);
    kp_producer_close(h->p, KP_CLOSE_FOREVER, closed, h);
    ph_run_for(h, 3000);
    assert_int_equal(h->closed, 1);
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    assert_true(ph_each_once(h));
    ph_free(h);
}

static ph *g_cb_h;
static void close_from_callback(void *ctx, const kp_record_metadata *md, kp_err err, const char *msg) {
    (void)ctx; (void)md; (void)err; (void)msg;
    kp_producer_close(g_cb_h->p, 60000, closed, g_cb_h);
}

static void t_close_from_callback_is_force_close(void **s) {
    (void)s;
    ph *h = ph_new(2, 2, NULL); /* p0 on node 0, p1 on node 1 */
    int id, held;
    ph_send(h, 0, NULL, &id);
    ph_run_until_acked(h, 2000);
    ph_send(h, 1, NULL, &id);
    ph_run_until_acked(h, 2000);
    g_cb_h = h;
    fb_hold(h->w, 1, true);
    ph_send(h, 1, NULL, &held); /* in flight at node 1, answer held */
    ph_run_for(h, 5);
    kp_producer_record r;
    memset(&r, 0, sizeof r);
    r.topic = "t";
    r.partition = 0;
    r.timestamp = -1;
    r.key = kp_datum_null();
    r.value = kp_datum_str("x");
    kp_err err;
    assert_int_equal(kp_producer_send(h->p, &r, close_from_callback, NULL, &err, NULL, 0), KP_SEND_OK);
    ph_run_for(h, 50);
    /* close(60000) from the callback became close(0): the held batch is
     * aborted at once instead of waiting for its answer */
    assert_int_equal(h->closed, 1);
    assert_int_equal(ph_cb_of(h, held)->err, KP_ERR__ABORTED);
    assert_true(ph_each_once(h));
    ph_free(h);
}

/* A keyless record goes round-robin over the partitions that have a
 * leader in the current cluster. The producer keeps each topic's view of
 * the cluster (count, partitions with a leader) only while that cluster
 * is current: after an update that leaves partition 1 without a leader,
 * records go to 0 and 2 only; after one that gives it a leader again, to
 * all three. */
static void t_keyless_records_follow_the_current_clusters_leaders(void **s) {
    (void)s;
    const char *set[] = { "metadata.max.age.ms=50", "linger.ms=0", NULL };
    ph *h = ph_new(3, 3, set);
    int id, seen[3] = { 0 };
    ph_send(h, -1, NULL, &id);
    assert_true(ph_run_until_acked(h, 3000));
    fb_set_leader(h->w, "t", 1, -1);
    ph_run_for(h, 300); /* a refresh (max age 50) sees partition 1 leaderless */
    for (int i = 0; i < 6; i++) {
        ph_send(h, -1, NULL, &id);
        assert_true(ph_run_until_acked(h, 3000));
        assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
        seen[ph_cb_of(h, id)->partition]++;
    }
    assert_int_equal(seen[1], 0);
    assert_int_equal(seen[0], 3);
    assert_int_equal(seen[2], 3);
    fb_set_leader(h->w, "t", 1, 1);
    ph_run_for(h, 300);
    for (int i = 0; i < 6; i++) {
        ph_send(h, -1, NULL, &id);
        assert_true(ph_run_until_acked(h, 3000));
        seen[ph_cb_of(h, id)->partition]++;
    }
    assert_int_equal(seen[1], 2);
    assert_true(ph_each_once(h));
    ph_free(h);
}

/* A run with connects, retries, a split, a disconnect and a leader move. */
static uint64_t busy_run(int64_t linger_ms) {
    char l[64];
    snprintf(l, sizeof l, "linger.ms=%lld", (long long)linger_ms);
    const char *set[] = { l, "batch.size=2000", "enable.idempotence=true", NULL };
    ph *h = ph_new(3, 6, set);
    int id;
    ph_send(h, -1, NULL, &id);
    ph_run_until_acked(h, 3000);
    fb_set_message_max_bytes(h->w, 400);
    fb_inject(h->w, "t", 2, KP_ERR_NOT_ENOUGH_REPLICAS, 2, -1);
    for (int i = 0; i < 120; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i % 11);
        ph_send(h, -1, key, &id);
        if (i == 60) {
            fb_disconnect(h->w, 1);
            fb_set_leader(h->w, "t", 4, 0);
        }
        ph_run_for(h, 3);
    }
    assert_true(ph_run_until_acked(h, 20000));
    assert_true(ph_each_once(h));
    uint64_t hash = h->trace_hash;
    ph_free(h);
    return hash;
}

static void t_same_inputs_same_trace(void **s) {
    (void)s;
    uint64_t a = busy_run(5), b = busy_run(5), c = busy_run(6);
    assert_true(a == b);
    assert_true(a != c); /* the hash does see the run */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_send_waits_for_metadata_then_acks),
        cmocka_unit_test(t_metadata_wait_times_out_through_callback),
        cmocka_unit_test(t_metadata_topic_errors_are_events),
        cmocka_unit_test(t_second_send_while_blocked_is_refused),
        cmocka_unit_test(t_invalid_partition_after_metadata),
        cmocka_unit_test(t_record_without_topic_is_refused),
        cmocka_unit_test(t_record_too_large_is_synchronous),
        cmocka_unit_test(t_keyed_records_go_to_murmur2_partition),
        cmocka_unit_test(t_flush_completes_when_batches_done),
        cmocka_unit_test(t_close_drains_in_flight_then_closes),
        cmocka_unit_test(t_force_close_aborts_incomplete),
        cmocka_unit_test(t_close_with_timeout_forces_after_it),
        cmocka_unit_test(t_close_fails_blocked_send),
        cmocka_unit_test(t_buffer_exhausted_blocks_then_resumes),
        cmocka_unit_test(t_buffer_exhausted_times_out),
        cmocka_unit_test(t_buffer_exhausted_times_out_while_sender_sleeps),
        cmocka_unit_test(t_sticky_fills_one_batch_per_window),
        cmocka_unit_test(t_do_send_wakeup_event_once_per_sender_run),
        cmocka_unit_test(t_bug_19479_flush_returns_before_split_pieces),
        cmocka_unit_test(t_interceptors_see_every_ack),
        cmocka_unit_test(t_interceptor_added_later_sees_sends_and_acks),
        cmocka_unit_test(t_sends_keep_their_topic_in_the_metadata),
        cmocka_unit_test(t_events_name_the_pipeline),
        cmocka_unit_test(t_transactional_calls_need_transactional_id),
        cmocka_unit_test(t_graceful_close_still_refreshes_metadata),
        cmocka_unit_test(t_close_from_callback_is_force_close),
        cmocka_unit_test(t_same_inputs_same_trace),
        cmocka_unit_test(t_keyless_records_follow_the_current_clusters_leaders),
    };
    return cmocka_run_group_tests_name("producer", tests, NULL, NULL);
}
