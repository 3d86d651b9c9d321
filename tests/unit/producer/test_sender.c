/*
 * test_sender.c — Sender behaviours as Kafka's SenderTest checks them
 * (retries, splits, expiry, ordering, idempotence, metadata refresh,
 * request timeouts, throttling, acks=0, the bug switches), driven through
 * a whole producer over the fake broker with a fake clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_events.h"
#include "kp_msg_produce.h"
#include "kp_proto.h"
#include "prod_harness.h"

/* Metadata known, connections up, one record ("v0") acked on p. */
static void warm(ph *h, int32_t p) {
    int id;
    ph_send(h, p, NULL, &id);
    assert_true(ph_run_until_acked(h, 5000));
    ph_run_for(h, 5);
}

static kp_sender_stats stats(ph *h) {
    kp_sender_stats st;
    kp_producer_sender_stats(h->p, &st);
    return st;
}

static int produce_reqs(ph *h) { return fb_count_api(h->w, KP_API_PRODUCE); }

static bool log_in_order(ph *h, int32_t p, int from_id, int n) {
    if (fb_log_len(h->w, "t", p) != n)
        return false;
    for (int i = 0; i < n; i++) {
        char want[32];
        snprintf(want, sizeof want, "v%d", from_id + i);
        if (strcmp(fb_log_value(h->w, "t", p, i), want) != 0)
            return false;
    }
    return true;
}

static double metric(ph *h, const char *name) {
    double v = NAN;
    kp_metrics_get(kp_producer_metrics(h->p), name, NULL, fb_now_ms(h->w), &v);
    return v;
}

/* ---------------------------------------------------------------- */

static void t_retry_then_success(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    warm(h, 0);
    fb_inject(h->w, "t", 0, KP_ERR_NOT_ENOUGH_REPLICAS, 1, -1);
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 5000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    assert_int_equal(ph_cb_of(h, id)->offset, 1);
    assert_int_equal(stats(h).retries, 1);
    assert_true(metric(h, "record-retry-total") == 1);
    assert_true(log_in_order(h, 0, 0, 2));
    ph_free(h);
}

/* Every Produce request goes out as one gather write whose batch is not
 * copied into the frame (kp_wr_bytes_ref in the encoder): with batches
 * over the gather threshold (256 bytes), each request is a sendv of more
 * than one piece. */
static void t_produce_batches_are_gathered_not_copied(void **s) {
    (void)s;
    ph *h = ph_new(1, 2, NULL);
    warm(h, 0); /* metadata and connection; its small batch is copied */
    warm(h, 1);
    int reqs0 = produce_reqs(h), gathered0 = fb_sendv_gathered(h->w);
    char value[400];
    memset(value, 'g', sizeof value - 1);
    value[sizeof value - 1] = 0;
    for (int i = 0; i < 6; i++) {
        int id;
        kp_err err;
        ph_send_value(h, i % 2, value, &id, &err);
    }
    assert_true(ph_run_until_acked(h, 5000));
    assert_int_equal(ph_callbacks_ok(h), 8);
    assert_true(produce_reqs(h) > reqs0);
    assert_int_equal(fb_sendv_gathered(h->w) - gathered0, produce_reqs(h) - reqs0);
    assert_int_equal(fb_log_len(h->w, "t", 0) + fb_log_len(h->w, "t", 1), 8);
    assert_string_equal(fb_log_value(h->w, "t", 1, 3), value);
    ph_free(h);
}

static void t_retry_waits_retry_backoff(void **s) {
    (void)s;
    const char *set[] = { "retry.backoff.ms=250", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_inject(h->w, "t", 0, KP_ERR_NOT_ENOUGH_REPLICAS, 1, -1);
    int id, r0 = produce_reqs(h);
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 20);
    assert_int_equal(produce_reqs(h), r0 + 1); /* first attempt failed */
    ph_run_for(h, 200);
    assert_int_equal(produce_reqs(h), r0 + 1); /* backing off */
    assert_true(ph_run_until_acked(h, 500));
    assert_int_equal(produce_reqs(h), r0 + 2);
    ph_free(h);
}

static void t_retries_exhausted(void **s) {
    (void)s;
    const char *set[] = { "retries=2", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_inject(h->w, "t", 0, KP_ERR_NOT_ENOUGH_REPLICAS, 3, -1);
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 5000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NOT_ENOUGH_REPLICAS);
    assert_int_equal(stats(h).retries, 2);
    assert_true(metric(h, "record-error-total") == 1);
    assert_int_equal(fb_log_len(h->w, "t", 0), 1);
    ph_free(h);
}

static void t_non_retriable_error_fails_at_once(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    warm(h, 0);
    fb_inject(h->w, "t", 0, KP_ERR_INVALID_REQUIRED_ACKS, 1, -1);
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 5000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_INVALID_REQUIRED_ACKS);
    assert_int_equal(stats(h).retries, 0);
    ph_free(h);
}

static void t_topic_authorization_failed_message(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    warm(h, 0);
    fb_inject(h->w, "t", 0, KP_ERR_TOPIC_AUTHORIZATION_FAILED, 1, -1);
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 5000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_TOPIC_AUTHORIZATION_FAILED);
    assert_string_equal(ph_cb_of(h, id)->msg, "Not authorized to access topics: [t]");
    ph_free(h);
}

static void t_not_leader_requests_metadata_and_follows_leader(void **s) {
    (void)s;
    ph *h = ph_new(2, 1, NULL);
    warm(h, 0); /* p0 led by node 0 */
    int md0 = fb_count_api(h->w, KP_API_METADATA);
    fb_set_leader(h->w, "t", 0, 1);
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 5000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    assert_true(fb_count_api(h->w, KP_API_METADATA) > md0);
    assert_int_equal(kp_producer_metadata_requests(h->p), fb_count_api(h->w, KP_API_METADATA));
    const fb_req *last = NULL;
    for (int i = 0; i < fb_nreqs(h->w); i++)
        if (fb_req_at(h->w, i)->api_key == KP_API_PRODUCE)
            last = fb_req_at(h->w, i);
    assert_int_equal(last->node, 1);
    assert_int_equal(fb_log_len(h->w, "t", 0), 2);
    ph_free(h);
}

static void t_disconnect_retries_and_refreshes_metadata(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    warm(h, 0);
    int md0 = fb_count_api(h->w, KP_API_METADATA);
    fb_blackhole(h->w, 0, true);
    int id;
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 10);
    fb_disconnect(h->w, 0);
    fb_blackhole(h->w, 0, false);
    assert_true(ph_run_until_acked(h, 5000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    assert_true(stats(h).retries >= 1);
    assert_true(fb_count_api(h->w, KP_API_METADATA) > md0);
    assert_true(fb_connects(h->w, 0) >= 2);
    ph_free(h);
}

static void t_request_timeout_closes_connection_then_retries(void **s) {
    (void)s;
    const char *set[] = { "request.timeout.ms=1000", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_blackhole(h->w, 0, true);
    int id;
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 999);
    assert_true(fb_connected(h->w, 0));
    assert_int_equal(h->per_id[id], 0);
    ph_run_for(h, 10);
    assert_false(fb_connected(h->w, 0)); /* closed by the client */
    fb_blackhole(h->w, 0, false);
    assert_true(ph_run_until_acked(h, 5000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    assert_true(h->events[KP_EV_DISCONNECTED - 100] >= 1);
    ph_free(h);
}

static void t_split_on_message_too_large_until_pieces_fit(void **s) {
    (void)s;
    const char *set[] = { "linger.ms=1000", "batch.size=4000", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_set_message_max_bytes(h->w, 300);
    int id;
    for (int i = 0; i < 40; i++)
        ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 10000));
    assert_true(ph_each_once(h));
    assert_int_equal(ph_callbacks_ok(h), 41);
    assert_true(stats(h).splits >= 2);
    assert_true(metric(h, "batch-split-total") >= 2);
    assert_int_equal(stats(h).retries, 0); /* attempts not counted */
    assert_true(log_in_order(h, 0, 0, 41));
    ph_free(h);
}

static void t_single_record_too_large_fails(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    warm(h, 0);
    fb_set_message_max_bytes(h->w, 50);
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 5000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_MESSAGE_TOO_LARGE);
    assert_int_equal(stats(h).splits, 0);
    ph_free(h);
}

static void t_expiry_of_queued_batch(void **s) {
    (void)s;
    const char *set[] = { "delivery.timeout.ms=31000", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_disconnect(h->w, 0);
    fb_refuse(h->w, 0, true);
    int id;
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 30990);
    assert_int_equal(h->per_id[id], 0);
    ph_run_for(h, 20);
    assert_int_equal(h->per_id[id], 1);
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR__TIMED_OUT);
    assert_non_null(strstr(ph_cb_of(h, id)->msg, "Expiring 1 record(s) for t-0:"));
    assert_non_null(strstr(ph_cb_of(h, id)->msg, "ms has passed since batch creation"));
    assert_true(ph_cb_of(h, id)->at_ms - 1000 >= 31000);
    ph_free(h);
}

static void t_expiry_of_in_flight_batch(void **s) {
    (void)s;
    const char *set[] = { "delivery.timeout.ms=30000", "request.timeout.ms=30000", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_hold(h->w, 0, true);
    int id;
    ph_send(h, 0, NULL, &id);
    int64_t t0 = fb_now_ms(h->w);
    ph_run_for(h, 29990);
    assert_int_equal(h->per_id[id], 0);
    assert_int_equal(fb_held(h->w, 0), 1);
    ph_run_for(h, 20);
    assert_int_equal(h->per_id[id], 1);
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR__TIMED_OUT);
    assert_true(ph_cb_of(h, id)->at_ms - t0 >= 30000);
    /* the request is still out; its late answer changes nothing */
    fb_release(h->w, 0, 10);
    ph_run_for(h, 100);
    assert_true(ph_each_once(h));
    assert_int_equal(stats(h).expired, 1);
    kp_producer_close(h->p, 0, NULL, NULL);
    ph_run_for(h, 10);
    assert_true(kp_producer_pool_is_whole(h->p)); /* freed once, not twice */
    ph_free(h);
}

/* In-flight heads on two partitions, created 10 s apart, and a second
 * batch behind the first head: each expires at its own creation +
 * delivery.timeout.ms, the one behind only once it became the head (the
 * walk keeps each list's head creation time). */
static void t_in_flight_heads_expire_each_on_time(void **s) {
    (void)s;
    const char *set[] = { "delivery.timeout.ms=30000", "request.timeout.ms=30000", "linger.ms=0", NULL };
    ph *h = ph_new(1, 2, set);
    warm(h, 0);
    warm(h, 1);
    fb_hold(h->w, 0, true);
    int a, b, c;
    int64_t t0 = fb_now_ms(h->w);
    ph_send(h, 0, NULL, &a);
    ph_run_for(h, 10000);
    ph_send(h, 1, NULL, &b);
    ph_run_for(h, 10000);
    ph_send(h, 0, NULL, &c);
    ph_run_for(h, 5);
    assert_int_equal(fb_held(h->w, 0), 3);
    ph_run_for(h, 30000 - 20005 + 20);
    assert_int_equal(h->per_id[a], 1);
    assert_int_equal(ph_cb_of(h, a)->err, KP_ERR__TIMED_OUT);
    assert_true(ph_cb_of(h, a)->at_ms - t0 >= 30000 && ph_cb_of(h, a)->at_ms - t0 <= 30020);
    assert_int_equal(h->per_id[b], 0);
    assert_int_equal(h->per_id[c], 0);
    ph_run_for(h, 10000);
    assert_int_equal(h->per_id[b], 1);
    assert_true(ph_cb_of(h, b)->at_ms - t0 >= 40000 && ph_cb_of(h, b)->at_ms - t0 <= 40020);
    assert_int_equal(h->per_id[c], 0);
    ph_run_for(h, 10000);
    assert_int_equal(h->per_id[c], 1);
    assert_int_equal(ph_cb_of(h, c)->err, KP_ERR__TIMED_OUT);
    assert_true(ph_cb_of(h, c)->at_ms - t0 >= 50000 && ph_cb_of(h, c)->at_ms - t0 <= 50020);
    assert_int_equal(stats(h).expired, 3);
    ph_free(h);
}

static void t_no_retry_after_delivery_timeout(void **s) {
    (void)s;
    const char *set[] = { "delivery.timeout.ms=30100", "request.timeout.ms=30000", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_hold(h->w, 0, true);
    fb_inject(h->w, "t", 0, KP_ERR_NOT_ENOUGH_REPLICAS, 1, -1);
    int id;
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 30050); /* the request timed out: NETWORK_EXCEPTION, retried once */
    ph_run_for(h, 200);
    assert_int_equal(h->per_id[id], 1);
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR__TIMED_OUT);
    ph_free(h);
}

/* A ProduceResponse whose body the decoder refuses: one event names the
 * decoder's verdict, the batch completes with NETWORK_EXCEPTION and is
 * retried, and the record is acknowledged once by the next answer. */
static void t_malformed_produce_response_says_why_and_retries(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    warm(h, 0);
    fb_hold(h->w, 0, true);
    int id, r0 = produce_reqs(h);
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 20);
    assert_int_equal(produce_reqs(h), r0 + 1);
    int32_t corr = -1;
    for (int i = fb_nreqs(h->w) - 1; i >= 0 && corr < 0; i--)
        if (fb_req_at(h->w, i)->api_key == KP_API_PRODUCE)
            corr = fb_req_at(h->w, i)->corr;
    assert_true(corr >= 0);
    /* size 6: the correlation id and two bytes of a body that needs more */
    const uint8_t frame[] = { 0, 0, 0, 6, (uint8_t)(corr >> 24), (uint8_t)(corr >> 16),
                              (uint8_t)(corr >> 8), (uint8_t)corr, 0, 1 };
    fb_hold(h->w, 0, false);
    fb_push_raw(h->w, 0, frame, sizeof frame);
    assert_true(ph_run_until_acked(h, 2000));
    assert_int_equal(h->bad_answers, 1);
    assert_true(h->bad_answer_err < 0); /* a local decode error, not a Kafka code */
    assert_int_equal(stats(h).retries, 1);
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    assert_true(ph_each_once(h));
    ph_free(h);
}

/* An answer naming another topic of the same length ("u" for "t") does
 * not answer the batch (the handler compares with the encoder's cached
 * name when it can): the batch is missing from the response, retried, and
 * acknowledged once. */
static void t_answer_for_another_topic_leaves_the_batch_unanswered(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    warm(h, 0);
    fb_hold(h->w, 0, true);
    int id, r0 = produce_reqs(h);
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 20);
    assert_int_equal(produce_reqs(h), r0 + 1);
    const fb_req *q = NULL;
    for (int i = fb_nreqs(h->w) - 1; i >= 0 && !q; i--)
        if (fb_req_at(h->w, i)->api_key == KP_API_PRODUCE)
            q = fb_req_at(h->w, i);
    assert_non_null(q);
    kp_produce_partition_response pr = { 0 };
    pr.partition = 0;
    pr.base_offset = 0;
    pr.log_append_time = -1;
    pr.log_start_offset = 0;
    kp_produce_topic_response tr = { kp_slice_str("u"), 1, &pr };
    kp_produce_response m = { 1, &tr, 0 };
    uint8_t frame[256];
    kp_writer w;
    kp_wr_init(&w, frame + 8, sizeof frame - 8);
    kp_produce_response_encode(&w, q->api_version, &m);
    assert_false(w.err);
    uint32_t size = (uint32_t)(kp_wr_total(&w) + 4);
    int32_t corr = q->corr;
    const uint8_t head[8] = { (uint8_t)(size >> 24), (uint8_t)(size >> 16), (uint8_t)(size >> 8), (uint8_t)size,
                              (uint8_t)(corr >> 24), (uint8_t)(corr >> 16), (uint8_t)(corr >> 8), (uint8_t)corr };
    memcpy(frame, head, sizeof head);
    fb_hold(h->w, 0, false);
    fb_push_raw(h->w, 0, frame, 8 + kp_wr_total(&w));
    assert_true(ph_run_until_acked(h, 2000));
    assert_int_equal(stats(h).retries, 1);
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    assert_true(ph_each_once(h));
    ph_free(h);
}

static void t_max_in_flight_one_mutes_partition(void **s) {
    (void)s;
    const char *set[] = { "max.in.flight.requests.per.connection=1", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_hold(h->w, 0, true);
    int id, r0 = produce_reqs(h);
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 5);
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 5);
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 50);
    assert_int_equal(produce_reqs(h), r0 + 1); /* muted: one at a time */
    assert_int_equal(fb_held(h->w, 0), 1);
    fb_release(h->w, 0, 1);
    ph_run_for(h, 5);
    assert_int_equal(produce_reqs(h), r0 + 2); /* the rest, one batch */
    fb_hold(h->w, 0, false);
    fb_release(h->w, 0, 10);
    assert_true(ph_run_until_acked(h, 2000));
    assert_true(log_in_order(h, 0, 0, 4));
    ph_free(h);
}

static void t_ordering_with_retries_max_in_flight_one(void **s) {
    (void)s;
    const char *set[] = { "max.in.flight.requests.per.connection=1", "linger.ms=0", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_inject(h->w, "t", 0, KP_ERR_NOT_LEADER_FOR_PARTITION, 2, -1);
    int id;
    for (int i = 0; i < 6; i++) {
        ph_send(h, 0, NULL, &id);
        ph_run_for(h, 1);
    }
    assert_true(ph_run_until_acked(h, 5000));
    assert_true(ph_each_once(h));
    assert_true(log_in_order(h, 0, 0, 7));
    ph_free(h);
}

static void t_reordering_without_idempotence_at_five(void **s) {
    (void)s;
    /* the anomaly idempotence prevents: a retry with 5 in flight lands
     * after a later batch */
    const char *set[] = { "linger.ms=0", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_hold(h->w, 0, true);
    fb_inject(h->w, "t", 0, KP_ERR_NOT_ENOUGH_REPLICAS, 1, -1);
    int a, b;
    ph_send(h, 0, NULL, &a);
    ph_run_for(h, 2);
    ph_send(h, 0, NULL, &b);
    ph_run_for(h, 2);
    assert_int_equal(fb_held(h->w, 0), 2);
    fb_hold(h->w, 0, false);
    fb_release(h->w, 0, 2);
    assert_true(ph_run_until_acked(h, 3000));
    assert_int_equal(fb_log_len(h->w, "t", 0), 3);
    assert_string_equal(fb_log_value(h->w, "t", 0, 1), "v2");
    assert_string_equal(fb_log_value(h->w, "t", 0, 2), "v1");
    ph_free(h);
}

static void t_idempotent_init_producer_id_first(void **s) {
    (void)s;
    const char *set[] = { "enable.idempotence=true", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    int first_pid = -1, first_produce = -1;
    for (int i = 0; i < fb_nreqs(h->w); i++) {
        if (fb_req_at(h->w, i)->api_key == KP_API_INIT_PRODUCER_ID && first_pid < 0)
            first_pid = i;
        if (fb_req_at(h->w, i)->api_key == KP_API_PRODUCE && first_produce < 0)
            first_produce = i;
    }
    assert_true(first_pid >= 0 && first_pid < first_produce);
    const fb_req *r = fb_req_at(h->w, first_produce);
    assert_int_equal(r->pid[0], 1000);
    assert_int_equal(r->base_seq[0], 0);
    assert_int_equal(r->acks, -1); /* idempotence implies acks=all */
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 2000));
    r = fb_req_at(h->w, fb_nreqs(h->w) - 1);
    assert_int_equal(r->base_seq[0], 1);
    ph_free(h);
}

static void t_init_producer_id_retriable_error_backs_off(void **s) {
    (void)s;
    const char *set[] = { "enable.idempotence=true", "retry.backoff.ms=200", NULL };
    ph *h = ph_new(1, 1, set);
    fb_inject_init_pid(h->w, KP_ERR_COORDINATOR_LOAD_IN_PROGRESS, 2);
    int id;
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 150);
    assert_int_equal(fb_count_api(h->w, KP_API_INIT_PRODUCER_ID), 1);
    assert_true(ph_run_until_acked(h, 3000));
    assert_int_equal(fb_count_api(h->w, KP_API_INIT_PRODUCER_ID), 3);
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    ph_free(h);
}

static void t_init_producer_id_fatal_error_aborts(void **s) {
    (void)s;
    const char *set[] = { "enable.idempotence=true", NULL };
    ph *h = ph_new(1, 1, set);
    fb_inject_init_pid(h->w, KP_ERR_CLUSTER_AUTHORIZATION_FAILED, 1);
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 3000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_CLUSTER_AUTHORIZATION_FAILED);
    assert_int_equal(fb_count_api(h->w, KP_API_PRODUCE), 0);
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 3000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_CLUSTER_AUTHORIZATION_FAILED);
    ph_free(h);
}

static void t_idempotent_five_in_flight_order_after_error(void **s) {
    (void)s;
    const char *set[] = { "enable.idempotence=true", "linger.ms=0", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_hold(h->w, 0, true);
    fb_inject(h->w, "t", 0, KP_ERR_NOT_ENOUGH_REPLICAS, 1, -1); /* first of the five */
    int id;
    for (int i = 0; i < 5; i++) {
        ph_send(h, 0, NULL, &id);
        ph_run_for(h, 1);
    }
    assert_int_equal(fb_held(h->w, 0), 5); /* five in flight */
    fb_hold(h->w, 0, false);
    fb_release(h->w, 0, 5);
    assert_true(ph_run_until_acked(h, 5000));
    assert_true(ph_each_once(h));
    assert_int_equal(ph_callbacks_ok(h), 6);
    assert_true(log_in_order(h, 0, 0, 6));
    ph_free(h);
}

static void t_idempotent_disconnect_with_five_in_flight_no_dup(void **s) {
    (void)s;
    const char *set[] = { "enable.idempotence=true", "linger.ms=0", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_hold(h->w, 0, true); /* broker appends, answers are lost */
    int id;
    for (int i = 0; i < 5; i++) {
        ph_send(h, 0, NULL, &id);
        ph_run_for(h, 1);
    }
    assert_int_equal(fb_held(h->w, 0), 5);
    assert_int_equal(fb_log_len(h->w, "t", 0), 6);
    fb_disconnect(h->w, 0);
    fb_hold(h->w, 0, false);
    assert_true(ph_run_until_acked(h, 10000));
    assert_true(ph_each_once(h));
    assert_int_equal(ph_callbacks_ok(h), 6);
    assert_true(log_in_order(h, 0, 0, 6)); /* no duplicate, no reorder */
    for (int i = 1; i <= 5; i++)
        assert_int_equal(ph_cb_of(h, i)->offset, i); /* original offsets */
    ph_free(h);
}

static void t_duplicate_sequence_is_success_without_offset(void **s) {
    (void)s;
    const char *set[] = { "enable.idempotence=true", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_inject(h->w, "t", 0, KP_ERR_DUPLICATE_SEQUENCE_NUMBER, 1, -1);
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 2000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    assert_int_equal(ph_cb_of(h, id)->offset, -1);
    assert_int_equal(stats(h).duplicates, 1);
    ph_free(h);
}

static void t_out_of_order_for_current_pid_resets_producer_id(void **s) {
    (void)s;
    const char *set[] = { "enable.idempotence=true", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_inject(h->w, "t", 0, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, 1, -1);
    int id;
    ph_send(h, 0, NULL, &id); /* sequence 1 = last acked + 1: not retriable */
    assert_true(ph_run_until_acked(h, 2000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(stats(h).producer_id_resets, 1);
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 3000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    assert_int_equal(fb_count_api(h->w, KP_API_INIT_PRODUCER_ID), 2);
    const fb_req *r = fb_req_at(h->w, fb_nreqs(h->w) - 1);
    assert_int_equal(r->pid[0], 1001);
    assert_int_equal(r->base_seq[0], 0);
    ph_free(h);
}

/* KAFKA-8484: pid 1000 has five batches in flight; the first is answered
 * OUT_OF_ORDER_SEQUENCE_NUMBER as the next sequence (producer id reset),
 * pid 1001 writes six records on the new leader, then the four old answers
 * (OOOS too) arrive. Fixed (2.3): they leave only the in-flight set, and
 * the next record gets sequence 6 and is written. bug.KAFKA-8484 (2.1.1):
 * each rewinds pid 1001's next sequence by its records, the next record
 * goes out with sequence 2, the broker answers it as a duplicate of an
 * earlier batch: acknowledged, never written. */
static void run_8484(bool bug, bool *written, int32_t *last_seq) {
    const char *set[] = { "enable.idempotence=true", "linger.ms=0", "metadata.max.age.ms=50",
                          bug ? "bug.KAFKA-8484=true" : "bug.KAFKA-8484=false", NULL };
    ph *h = ph_new(2, 1, set);
    warm(h, 0);
    fb_hold(h->w, 0, true);
    fb_inject(h->w, "t", 0, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, 5, -1);
    int id;
    for (int i = 0; i < 5; i++) {
        ph_send(h, 0, NULL, &id);
        ph_run_for(h, 1);
    }
    assert_int_equal(fb_held(h->w, 0), 5);
    fb_release(h->w, 0, 1); /* seq 1 = last acked + 1: reset the producer id */
    ph_run_for(h, 5);
    assert_int_equal(stats(h).producer_id_resets, 1);
    fb_set_leader(h->w, "t", 0, 1);
    ph_run_for(h, 300); /* new pid from node 1, metadata names the new leader */
    for (int i = 0; i < 6; i++) {
        ph_send(h, 0, NULL, &id);
        ph_run_for(h, 20);
    }
    assert_int_equal(fb_log_len(h->w, "t", 0), 7); /* v0 + six of pid 1001 */
    fb_hold(h->w, 0, false);
    fb_release(h->w, 0, 4); /* the old pid's answers */
    ph_run_for(h, 50);
    int last;
    ph_send(h, 0, NULL, &last);
    ph_run_until_acked(h, 3000);
    const fb_req *r = fb_req_at(h->w, fb_nreqs(h->w) - 1);
    assert_int_equal(r->api_key, KP_API_PRODUCE);
    *last_seq = r->base_seq[0];
    char want[32];
    snprintf(want, sizeof want, "v%d", last);
    *written = false;
    for (int i = 0; i < fb_log_len(h->w, "t", 0); i++)
        if (strcmp(fb_log_value(h->w, "t", 0, i), want) == 0)
            *written = true;
    if (!bug) {
        assert_true(ph_each_once(h));
        assert_int_equal(ph_cb_of(h, last)->err, KP_ERR_NONE);
    }
    ph_free(h);
}

static void t_bug_8484_old_pid_failure_leaves_new_sequences(void **s) {
    (void)s;
    bool written;
    int32_t seq;
    run_8484(false, &written, &seq);
    assert_int_equal(seq, 6);
    assert_true(written);
    run_8484(true, &written, &seq);
    assert_int_equal(seq, 2); /* rewound by the four old records */
    assert_false(written);    /* "acknowledged" as a duplicate */
}

/* 2.3 handleFailedBatch: maybeTransitionToErrorState runs for a batch of
 * an earlier producer id too — only the sequence bookkeeping is skipped.
 * pid 1000's batch on p0 fails OUT_OF_ORDER_SEQUENCE_NUMBER (reset, new
 * pid), then its batch on p1 fails CLUSTER_AUTHORIZATION_FAILED: fatal. */
static void t_stale_pid_batch_still_sets_error_state(void **s) {
    (void)s;
    const char *set[] = { "enable.idempotence=true", "linger.ms=0", NULL };
    ph *h = ph_new(2, 2, set);
    fb_set_leader(h->w, "t", 1, 0);
    warm(h, 0);
    warm(h, 1);
    fb_hold(h->w, 0, true);
    fb_inject(h->w, "t", 0, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, 1, -1);
    fb_inject(h->w, "t", 1, KP_ERR_CLUSTER_AUTHORIZATION_FAILED, 1, -1);
    int a, b;
    ph_send(h, 0, NULL, &a);
    ph_run_for(h, 1);
    ph_send(h, 1, NULL, &b);
    ph_run_for(h, 1);
    assert_int_equal(fb_held(h->w, 0), 2);
    fb_release(h->w, 0, 1);
    ph_run_for(h, 200); /* reset, pid 1001 from node 1 */
    assert_int_equal(stats(h).producer_id_resets, 1);
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_UNINITIALIZED);
    fb_release(h->w, 0, 1);
    ph_run_for(h, 50);
    assert_int_equal(ph_cb_of(h, b)->err, KP_ERR_CLUSTER_AUTHORIZATION_FAILED);
    assert_int_equal(kp_producer_transaction_state(h->p), KP_TXN_FATAL_ERROR);
    ph_free(h);
}

static void t_unknown_producer_id_after_log_truncation_restarts_sequences(void **s) {
    (void)s;
    const char *set[] = { "enable.idempotence=true", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 2000)); /* last acked offset 1 */
    fb_forget_producers(h->w, 5);              /* retention removed the head */
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 3000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    const fb_req *r = fb_req_at(h->w, fb_nreqs(h->w) - 1);
    assert_int_equal(r->base_seq[0], 0); /* startSequencesAtBeginning */
    assert_int_equal(r->pid[0], 1000);    /* same producer id */
    ph_free(h);
}

static void t_cluster_authorization_failed_is_fatal_with_idempotence(void **s) {
    (void)s;
    const char *set[] = { "enable.idempotence=true", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_inject(h->w, "t", 0, KP_ERR_CLUSTER_AUTHORIZATION_FAILED, 1, -1);
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 2000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_CLUSTER_AUTHORIZATION_FAILED);
    assert_string_equal(ph_cb_of(h, id)->msg, "The producer is not authorized to do idempotent sends");
    int r0 = produce_reqs(h);
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 2000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_CLUSTER_AUTHORIZATION_FAILED); /* aborted */
    assert_int_equal(produce_reqs(h), r0);
    ph_free(h);
}

static void t_expired_retried_batch_marks_unresolved_and_resets_pid(void **s) {
    (void)s;
    const char *set[] = { "enable.idempotence=true", "delivery.timeout.ms=31500", "retry.backoff.ms=1000", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_inject(h->w, "t", 0, KP_ERR_NOT_ENOUGH_REPLICAS, 1000, -1);
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 40000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR__TIMED_OUT);
    assert_true(h->events[KP_EV_SEQUENCE_UNRESOLVED - 100] >= 1);
    ph_run_for(h, 500);
    assert_int_equal(stats(h).producer_id_resets, 1);
    fb_inject(h->w, "t", 0, 0, 0, -1);
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 3000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    assert_int_equal(fb_count_api(h->w, KP_API_INIT_PRODUCER_ID), 2);
    ph_free(h);
}

static void t_throttle_delays_next_produce(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    warm(h, 0);
    fb_set_throttle(h->w, 0, 500);
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 2000)); /* answered with throttle 500 */
    int64_t t0 = fb_now_ms(h->w);
    fb_set_throttle(h->w, 0, 0);
    int r0 = produce_reqs(h);
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 400);
    assert_int_equal(produce_reqs(h), r0);
    assert_true(ph_run_until_acked(h, 1000));
    assert_true(fb_now_ms(h->w) - t0 >= 490);
    assert_true(metric(h, "produce-throttle-time-max") == 500);
    assert_true(h->events[KP_EV_THROTTLE - 100] >= 1);
    ph_free(h);
}

static void t_acks_zero_succeeds_without_offsets(void **s) {
    (void)s;
    const char *set[] = { "acks=0", NULL };
    ph *h = ph_new(1, 1, set);
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 2000));
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 2000));
    assert_int_equal(ph_cb_of(h, 0)->err, KP_ERR_NONE);
    assert_int_equal(ph_cb_of(h, 0)->offset, -1);
    assert_int_equal(ph_cb_of(h, 1)->offset, -1);
    assert_int_equal(fb_log_len(h->w, "t", 0), 2);
    assert_int_equal(fb_req_at(h->w, fb_nreqs(h->w) - 1)->acks, 0);
    ph_free(h);
}

static void t_unsupported_produce_version(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    fb_set_api_max(h->w, 0, KP_API_PRODUCE, 2); /* magic v2 needs v3+ */
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 2000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_UNSUPPORTED_VERSION);
    assert_int_equal(produce_reqs(h), 0);
    ph_free(h);
}

static void t_one_request_per_node_with_all_its_partitions(void **s) {
    (void)s;
    const char *set[] = { "linger.ms=100", NULL };
    ph *h = ph_new(2, 4, set); /* p0,p2 on node 0; p1,p3 on node 1 */
    warm(h, 0);
    warm(h, 1);
    int first = fb_nreqs(h->w);
    int id;
    for (int p = 0; p < 4; p++)
        assert_int_equal(ph_send(h, p, NULL, &id), KP_SEND_OK);
    assert_true(ph_run_until_acked(h, 3000));
    int reqs = 0;
    for (int i = first; i < fb_nreqs(h->w); i++) {
        const fb_req *r = fb_req_at(h->w, i);
        if (r->api_key != KP_API_PRODUCE)
            continue;
        reqs++;
        assert_int_equal(r->nparts, 2);
        assert_int_equal(r->partition[0] % 2, r->node);
        assert_int_equal(r->partition[1] % 2, r->node);
    }
    assert_int_equal(reqs, 2);
    ph_free(h);
}

static void t_metrics_after_traffic(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    warm(h, 0);
    int id;
    for (int i = 0; i < 5; i++) {
        ph_send(h, 0, NULL, &id);
        ph_run_until_acked(h, 1000);
    }
    assert_true(metric(h, "record-send-total") == 6);
    assert_true(metric(h, "batch-size-avg") > 61);
    assert_true(metric(h, "request-latency-max") >= 0);
    assert_true(metric(h, "records-per-request-avg") == 1);
    assert_true(metric(h, "requests-in-flight") == 0);
    assert_true(metric(h, "metadata-age") >= 0);
    double v;
    assert_true(kp_metrics_get(kp_producer_metrics(h->p), "record-send-total", "t", fb_now_ms(h->w), &v));
    assert_true(v == 6);
    ph_free(h);
}

static void t_bug_8325_split_batch_expires_again(void **s) {
    (void)s;
    for (int bug = 0; bug <= 1; bug++) {
        const char *set[] = { "linger.ms=1000", "batch.size=4000", "delivery.timeout.ms=31000",
                              bug ? "bug.KAFKA-8325=true" : "bug.KAFKA-8325=false", NULL };
        ph *h = ph_new(1, 1, set);
        warm(h, 0);
        fb_set_message_max_bytes(h->w, 300);
        int id;
        for (int i = 0; i < 40; i++)
            ph_send(h, 0, NULL, &id);
        assert_true(ph_run_until_acked(h, 10000));
        assert_true(ph_each_once(h));
        ph_run_for(h, 32000); /* past delivery.timeout.ms of the big batch */
        if (bug) {
            /* the split batch was left in flight: expired, its records'
             * callbacks fire again with a TimeoutException */
            assert_false(ph_each_once(h));
            assert_true(ph_callbacks_err(h, KP_ERR__TIMED_OUT) >= 40);
        } else {
            assert_true(ph_each_once(h));
            assert_int_equal(ph_callbacks_err(h, KP_ERR__TIMED_OUT), 0);
            assert_true(kp_producer_pool_is_whole(h->p));
        }
        ph_free(h);
    }
}

static void t_bug_8350_endless_split(void **s) {
    (void)s;
    for (int bug = 0; bug <= 1; bug++) {
        const char *set[] = { "linger.ms=1000", "batch.size=8000", "delivery.timeout.ms=31000",
                              bug ? "bug.KAFKA-8350=true" : "bug.KAFKA-8350=false", NULL };
        ph *h = ph_new(1, 1, set);
        warm(h, 0);
        fb_set_message_max_bytes(h->w, 300);
        int id;
        for (int i = 0; i < 30; i++)
            ph_send(h, 0, NULL, &id);
        ph_run_until_acked(h, 40000);
        if (bug) {
            /* batch.size pieces never fit: split again and again until
             * delivery.timeout.ms fails the records */
            assert_true(stats(h).splits > 50);
            assert_int_equal(ph_callbacks_err(h, KP_ERR__TIMED_OUT), 30);
        } else {
            assert_true(stats(h).splits < 20);
            assert_int_equal(ph_callbacks_ok(h), 31);
            assert_true(log_in_order(h, 0, 0, 31));
        }
        ph_free(h);
    }
}

static void t_unknown_leader_waits_for_metadata(void **s) {
    (void)s;
    ph *h = ph_new(2, 1, NULL);
    warm(h, 0);
    fb_set_leader(h->w, "t", 0, -1); /* election in progress */
    fb_inject(h->w, "t", 0, KP_ERR_NOT_LEADER_FOR_PARTITION, 1, -1);
    int md0 = fb_count_api(h->w, KP_API_METADATA);
    int id;
    ph_send(h, 0, NULL, &id);
    ph_run_for(h, 1000);
    assert_int_equal(h->per_id[id], 0);
    /* metadata asked again and again (retry.backoff.ms apart) */
    assert_true(fb_count_api(h->w, KP_API_METADATA) >= md0 + 3);
    assert_true(h->events[KP_EV_UNKNOWN_LEADER - 100] >= 1);
    fb_set_leader(h->w, "t", 0, 1);
    assert_true(ph_run_until_acked(h, 2000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_NONE);
    assert_int_equal(fb_log_len(h->w, "t", 0), 2);
    ph_free(h);
}

static void t_idempotent_retry_keeps_its_sequence(void **s) {
    (void)s;
    const char *set[] = { "enable.idempotence=true", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_inject(h->w, "t", 0, KP_ERR_NOT_ENOUGH_REPLICAS, 2, -1);
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 3000));
    int seen = 0;
    for (int i = 0; i < fb_nreqs(h->w); i++) {
        const fb_req *r = fb_req_at(h->w, i);
        if (r->api_key == KP_API_PRODUCE && r->base_seq[0] != 0) {
            assert_int_equal(r->base_seq[0], 1);
            assert_int_equal(r->pid[0], 1000);
            seen++;
        }
    }
    assert_int_equal(seen, 3); /* two failures and the success, same sequence */
    ph_free(h);
}

static void t_idempotent_split_pieces_get_consecutive_sequences(void **s) {
    (void)s;
    const char *set[] = { "enable.idempotence=true", "linger.ms=1000", "batch.size=4000", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_set_message_max_bytes(h->w, 300);
    int id;
    for (int i = 0; i < 40; i++)
        ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 10000));
    assert_int_equal(ph_callbacks_ok(h), 41);
    assert_true(stats(h).splits >= 1);
    assert_true(log_in_order(h, 0, 0, 41));
    /* the accepted requests cover sequences 1..40 without gap */
    int32_t next = 1;
    for (int i = 0; i < fb_nreqs(h->w); i++) {
        const fb_req *r = fb_req_at(h->w, i);
        if (r->api_key != KP_API_PRODUCE || r->bytes[0] > 300 || r->base_seq[0] == 0)
            continue;
        assert_int_equal(r->base_seq[0], next);
        next += r->count[0];
    }
    assert_int_equal(next, 41);
    ph_free(h);
}

static void t_fatal_error_aborts_batches_in_flight_safely(void **s) {
    (void)s;
    const char *set[] = { "enable.idempotence=true", "linger.ms=0", NULL };
    ph *h = ph_new(2, 2, set); /* p0 on node 0, p1 on node 1 */
    warm(h, 0);
    warm(h, 1);
    fb_hold(h->w, 0, true);
    int id;
    for (int i = 0; i < 3; i++) {
        ph_send(h, 0, NULL, &id); /* in flight at node 0 */
        ph_run_for(h, 1);
    }
    assert_int_equal(fb_held(h->w, 0), 3);
    fb_inject(h->w, "t", 1, KP_ERR_CLUSTER_AUTHORIZATION_FAILED, 1, -1);
    int fatal;
    ph_send(h, 1, NULL, &fatal);
    ph_run_for(h, 200);
    assert_int_equal(ph_cb_of(h, fatal)->err, KP_ERR_CLUSTER_AUTHORIZATION_FAILED);
    /* the producer is fatal: the batches in flight were aborted */
    assert_int_equal(ph_callbacks_err(h, KP_ERR_CLUSTER_AUTHORIZATION_FAILED), 4);
    /* a new record takes a recycled batch struct; the late answers of
     * the aborted requests must not complete it */
    int late;
    assert_int_equal(ph_send(h, 0, NULL, &late), KP_SEND_OK);
    int responses = h->events[KP_EV_PRODUCE_RESPONSE - 100];
    fb_hold(h->w, 0, false);
    fb_release(h->w, 0, 10);
    ph_run_for(h, 200);
    /* the answers arrived for batches already freed: nothing completed */
    assert_int_equal(h->events[KP_EV_PRODUCE_RESPONSE - 100], responses);
    assert_int_equal(h->per_id[late], 1);
    assert_int_equal(ph_cb_of(h, late)->err, KP_ERR_CLUSTER_AUTHORIZATION_FAILED);
    assert_true(ph_each_once(h));
    kp_producer_close(h->p, 0, NULL, NULL);
    ph_run_for(h, 10);
    assert_true(kp_producer_pool_is_whole(h->p));
    ph_free(h);
}

static void t_no_client_throttle_for_produce_before_v6(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    fb_set_api_max(h->w, 0, KP_API_PRODUCE, 5); /* the broker delays, not the client */
    warm(h, 0);
    fb_set_throttle(h->w, 0, 500);
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 2000));
    int64_t t0 = fb_now_ms(h->w);
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 2000));
    assert_true(fb_now_ms(h->w) - t0 < 100);
    assert_true(metric(h, "produce-throttle-time-max") == 500); /* still measured */
    assert_int_equal(h->events[KP_EV_THROTTLE - 100], 0);
    ph_free(h);
}

static void t_unsent_expired_batch_leaves_sequences_resolved(void **s) {
    (void)s;
    const char *set[] = { "enable.idempotence=true", "delivery.timeout.ms=31000", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_disconnect(h->w, 0);
    fb_refuse(h->w, 0, true);
    ph_run_for(h, 10); /* the client has seen the disconnect: nothing is sent */
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 40000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR__TIMED_OUT);
    assert_int_equal(h->events[KP_EV_SEQUENCE_UNRESOLVED - 100], 0);
    assert_int_equal(stats(h).producer_id_resets, 0);
    assert_int_equal(stats(h).retries, 0);
    ph_free(h);
}

static void t_retry_with_old_producer_id_fails_out_of_order(void **s) {
    (void)s;
    const char *set[] = { "enable.idempotence=true", "linger.ms=20", NULL };
    ph *h = ph_new(1, 2, set);
    warm(h, 0);
    warm(h, 1);
    fb_inject(h->w, "t", 0, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, 1, -1);
    fb_inject(h->w, "t", 1, KP_ERR_NOT_ENOUGH_REPLICAS, 1, -1);
    int a, b;
    ph_send(h, 0, NULL, &a);
    ph_send(h, 1, NULL, &b); /* same request: p0 answered first */
    assert_true(ph_run_until_acked(h, 3000));
    assert_int_equal(ph_cb_of(h, a)->err, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(ph_cb_of(h, b)->err, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_non_null(strstr(ph_cb_of(h, b)->msg, "the producer id changed from 1000 to -1"));
    assert_int_equal(stats(h).producer_id_resets, 1);
    ph_free(h);
}

/* A request's batches are lent to the transport (sendv_keep) and may be
 * read by the broker after they were sent. When a failed batch moves the
 * sequences of the batches behind it (adjustSequencesDueToFailedBatch),
 * the bytes already sent must keep the old sequence: b was sent as
 * sequence 2, so the broker reads 2, answers OUT_OF_ORDER (it expects 1
 * after a's failure) and b's retry, now numbered 1, is appended. If the
 * rewrite reached the lent bytes the broker would read 1 for a request
 * sent as 2 and append it at once, without a retry. */
static void t_sequence_adjustment_does_not_reach_lent_bytes(void **s) {
    (void)s;
    const char *set[] = { "enable.idempotence=true", "linger.ms=0", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0); /* sequence 0 acked */
    fb_set_message_max_bytes(h->w, 600);
    char big[700], mid[320];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    memset(mid, 'y', sizeof mid - 1);
    mid[sizeof mid - 1] = 0;
    int a, b;
    kp_err err;
    fb_hold(h->w, 0, true);
    assert_int_equal(ph_send_value(h, 0, big, &a, &err), KP_SEND_OK); /* seq 1: too large */
    ph_run_for(h, 1);
    assert_int_equal(fb_held(h->w, 0), 1); /* read, its answer held */
    fb_hold_requests(h->w, 0, true);
    assert_int_equal(ph_send_value(h, 0, mid, &b, &err), KP_SEND_OK); /* seq 2 */
    ph_run_for(h, 1);
    assert_int_equal(fb_lent(h->w, 0), 1); /* sent, its batch lent, not read yet */
    int reclaims = fb_reclaims(h->w);
    fb_release(h->w, 0, 1);                  /* a's MESSAGE_TOO_LARGE: b's sequence 2 -> 1 */
    ph_run_for(h, 1);
    assert_int_equal(ph_cb_of(h, a)->err, KP_ERR_MESSAGE_TOO_LARGE);
    assert_true(h->events[KP_EV_SEQUENCE_ADJUSTED - 100] >= 1);
    assert_true(fb_reclaims(h->w) > reclaims);
    fb_hold_requests(h->w, 0, false);
    fb_hold(h->w, 0, false);
    assert_int_equal(fb_release_requests(h->w, 0), 1); /* the broker reads b as sent */
    assert_true(ph_run_until_acked(h, 3000));
    assert_int_equal(ph_cb_of(h, b)->err, KP_ERR_NONE);
    assert_int_equal(stats(h).retries, 1); /* b's OUT_OF_ORDER (sent as 2) was retried as 1 */
    assert_int_equal(fb_log_len(h->w, "t", 0), 2);
    assert_string_equal(fb_log_value(h->w, "t", 0, 1), mid);
    ph_free(h);
}

static void t_first_fails_fatally_later_sequences_adjusted(void **s) {
    (void)s;
    const char *set[] = { "enable.idempotence=true", "linger.ms=0", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0); /* sequence 0 acked */
    fb_set_message_max_bytes(h->w, 200);
    fb_hold(h->w, 0, true);
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    int a, b;
    kp_err err;
    assert_int_equal(ph_send_value(h, 0, big, &a, &err), KP_SEND_OK); /* seq 1: too large */
    ph_run_for(h, 1);
    assert_int_equal(ph_send_value(h, 0, "small", &b, &err), KP_SEND_OK); /* seq 2 */
    ph_run_for(h, 1);
    assert_int_equal(fb_held(h->w, 0), 2);
    fb_hold(h->w, 0, false);
    fb_release(h->w, 0, 2);
    assert_true(ph_run_until_acked(h, 3000));
    /* a: one record, cannot split: fails; b's sequence moves down to 1,
     * its OUT_OF_ORDER answer is retried and succeeds */
    assert_int_equal(ph_cb_of(h, a)->err, KP_ERR_MESSAGE_TOO_LARGE);
    assert_int_equal(ph_cb_of(h, b)->err, KP_ERR_NONE);
    assert_int_equal(fb_log_len(h->w, "t", 0), 2);
    assert_string_equal(fb_log_value(h->w, "t", 0, 1), "small");
    assert_int_equal(stats(h).producer_id_resets, 0);
    assert_true(stats(h).retries >= 1); /* b's OUT_OF_ORDER was retried */
    assert_true(h->events[KP_EV_SEQUENCE_ADJUSTED - 100] >= 1);
    ph_free(h);
}

static void t_unsupported_for_message_format_fails(void **s) {
    (void)s;
    ph *h = ph_new(1, 1, NULL);
    warm(h, 0);
    fb_inject(h->w, "t", 0, KP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT, 1, -1);
    int id;
    ph_send(h, 0, NULL, &id);
    assert_true(ph_run_until_acked(h, 2000));
    assert_int_equal(ph_cb_of(h, id)->err, KP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
    assert_int_equal(stats(h).retries, 0);
    ph_free(h);
}

static void t_expired_batch_does_not_split_on_message_too_large(void **s) {
    (void)s;
    const char *set[] = { "delivery.timeout.ms=30000", "linger.ms=0", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    kp_producer_record r;
    memset(&r, 0, sizeof r);
    fb_set_message_max_bytes(h->w, 80);
    fb_hold(h->w, 0, true);
    int a, b;
    kp_err err;
    /* two records in one batch: appended before the sender runs */
    ph_send_value(h, 0, "one", &a, &err);
    ph_send_value(h, 0, "two", &b, &err);
    ph_run_for(h, 30000);
    kp_producer_run_once(h->p); /* created + delivery.timeout.ms: expired in flight */
    assert_int_equal(ph_cb_of(h, a)->err, KP_ERR__TIMED_OUT);
    fb_release(h->w, 0, 10); /* the MESSAGE_TOO_LARGE answer, before request.timeout.ms */
    kp_producer_run_once(h->p);
    ph_run_for(h, 100);
    assert_int_equal(stats(h).splits, 0);
    assert_true(h->events[KP_EV_PRODUCE_RESPONSE - 100] >= 2); /* the answer was seen */
    assert_int_equal(ph_callbacks_err(h, KP_ERR_MESSAGE_TOO_LARGE), 0);
    assert_true(ph_each_once(h));
    ph_free(h);
}

static void t_first_batch_expired_in_flight_keeps_order_muted(void **s) {
    (void)s;
    const char *set[] = { "max.in.flight.requests.per.connection=1", "delivery.timeout.ms=30000",
                          "request.timeout.ms=30000", NULL };
    ph *h = ph_new(1, 1, set);
    warm(h, 0);
    fb_hold(h->w, 0, true);
    int a, b, r0;
    ph_send(h, 0, NULL, &a);
    ph_run_for(h, 5);
    r0 = produce_reqs(h);
    ph_send(h, 0, NULL, &b);
    ph_run_for(h, 29996); /* a expires in flight at 30000 */
    assert_int_equal(ph_cb_of(h, a)->err, KP_ERR__TIMED_OUT);
    /* b is not sent while a's request is still out (the partition stays
     * muted until a's answer or disconnect) */
    assert_int_equal(produce_reqs(h), r0);
    fb_hold(h->w, 0, false);
    fb_release(h->w, 0, 10);
    assert_true(ph_run_until_acked(h, 5000));
    assert_int_equal(ph_cb_of(h, b)->err, KP_ERR_NONE);
    assert_true(ph_each_once(h));
    ph_free(h);
}

static void t_expired_batches_in_multiple_partitions(void **s) {
    (void)s;
    const char *set[] = { "delivery.timeout.ms=30000", NULL };
    ph *h = ph_new(1, 2, set);
    warm(h, 0);
    warm(h, 1);
    fb_hold(h->w, 0, true);
    int a, b;
    ph_send(h, 0, NULL, &a);
    ph_send(h, 1, NULL, &b);
    ph_run_for(h, 30010);
    assert_int_equal(ph_cb_of(h, a)->err, KP_ERR__TIMED_OUT);
    assert_int_equal(ph_cb_of(h, b)->err, KP_ERR__TIMED_OUT);
    assert_int_equal(stats(h).expired, 2);
    ph_free(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_retry_then_success),
        cmocka_unit_test(t_produce_batches_are_gathered_not_copied),
        cmocka_unit_test(t_retry_waits_retry_backoff),
        cmocka_unit_test(t_retries_exhausted),
        cmocka_unit_test(t_non_retriable_error_fails_at_once),
        cmocka_unit_test(t_topic_authorization_failed_message),
        cmocka_unit_test(t_not_leader_requests_metadata_and_follows_leader),
        cmocka_unit_test(t_disconnect_retries_and_refreshes_metadata),
        cmocka_unit_test(t_request_timeout_closes_connection_then_retries),
        cmocka_unit_test(t_split_on_message_too_large_until_pieces_fit),
        cmocka_unit_test(t_single_record_too_large_fails),
        cmocka_unit_test(t_expiry_of_queued_batch),
        cmocka_unit_test(t_expiry_of_in_flight_batch),
        cmocka_unit_test(t_in_flight_heads_expire_each_on_time),
        cmocka_unit_test(t_no_retry_after_delivery_timeout),
        cmocka_unit_test(t_malformed_produce_response_says_why_and_retries),
        cmocka_unit_test(t_answer_for_another_topic_leaves_the_batch_unanswered),
        cmocka_unit_test(t_max_in_flight_one_mutes_partition),
        cmocka_unit_test(t_ordering_with_retries_max_in_flight_one),
        cmocka_unit_test(t_reordering_without_idempotence_at_five),
        cmocka_unit_test(t_idempotent_init_producer_id_first),
        cmocka_unit_test(t_init_producer_id_retriable_error_backs_off),
        cmocka_unit_test(t_init_producer_id_fatal_error_aborts),
        cmocka_unit_test(t_idempotent_five_in_flight_order_after_error),
        cmocka_unit_test(t_idempotent_disconnect_with_five_in_flight_no_dup),
        cmocka_unit_test(t_duplicate_sequence_is_success_without_offset),
        cmocka_unit_test(t_out_of_order_for_current_pid_resets_producer_id),
        cmocka_unit_test(t_bug_8484_old_pid_failure_leaves_new_sequences),
        cmocka_unit_test(t_stale_pid_batch_still_sets_error_state),
        cmocka_unit_test(t_unknown_producer_id_after_log_truncation_restarts_sequences),
        cmocka_unit_test(t_cluster_authorization_failed_is_fatal_with_idempotence),
        cmocka_unit_test(t_expired_retried_batch_marks_unresolved_and_resets_pid),
        cmocka_unit_test(t_throttle_delays_next_produce),
        cmocka_unit_test(t_acks_zero_succeeds_without_offsets),
        cmocka_unit_test(t_unsupported_produce_version),
        cmocka_unit_test(t_one_request_per_node_with_all_its_partitions),
        cmocka_unit_test(t_metrics_after_traffic),
        cmocka_unit_test(t_bug_8325_split_batch_expires_again),
        cmocka_unit_test(t_bug_8350_endless_split),
        cmocka_unit_test(t_unknown_leader_waits_for_metadata),
        cmocka_unit_test(t_idempotent_retry_keeps_its_sequence),
        cmocka_unit_test(t_idempotent_split_pieces_get_consecutive_sequences),
        cmocka_unit_test(t_fatal_error_aborts_batches_in_flight_safely),
        cmocka_unit_test(t_no_client_throttle_for_produce_before_v6),
        cmocka_unit_test(t_unsent_expired_batch_leaves_sequences_resolved),
        cmocka_unit_test(t_retry_with_old_producer_id_fails_out_of_order),
        cmocka_unit_test(t_first_fails_fatally_later_sequences_adjusted),
        cmocka_unit_test(t_sequence_adjustment_does_not_reach_lent_bytes),
        cmocka_unit_test(t_unsupported_for_message_format_fails),
        cmocka_unit_test(t_expired_batch_does_not_split_on_message_too_large),
        cmocka_unit_test(t_first_batch_expired_in_flight_keeps_order_muted),
        cmocka_unit_test(t_expired_batches_in_multiple_partitions),
    };
    return cmocka_run_group_tests_name("sender", tests, NULL, NULL);
}
