/*
 * test_metrics.c — the Sender's sensors: Java names, avg/max/rate/total
 * semantics of Kafka's SampledStat (30 s windows, 2 samples), per-topic
 * registration, gauges.
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

#include "kp_metrics.h"

static double get(kp_metrics *m, const char *name, const char *topic, int64_t now) {
    double v = -12345;
    assert_true(kp_metrics_get(m, name, topic, now, &v));
    return v;
}

static void t_empty_stats_read_nan_and_zero(void **s) {
    (void)s;
    kp_metrics *m = kp_metrics_new();
    assert_true(isnan(get(m, "batch-size-avg", NULL, 0)));
    assert_true(isnan(get(m, "request-latency-max", NULL, 0)));
    assert_true(get(m, "record-send-rate", NULL, 0) == 0);
    assert_true(get(m, "record-retry-total", NULL, 0) == 0);
    double v;
    assert_false(kp_metrics_get(m, "no-such-metric", NULL, 0, &v));
    assert_false(kp_metrics_get(m, "byte-rate", "unknown-topic", 0, &v));
    kp_metrics_destroy(m);
}

static void t_batch_metrics_avg_and_max(void **s) {
    (void)s;
    kp_metrics *m = kp_metrics_new();
    kp_metrics_record_batch(m, "t", 10, 1000, 1.0, 5, 100, 1000);
    kp_metrics_record_batch(m, "t", 30, 3000, 0.5, 15, 300, 1000);
    kp_metrics_record_request(m, 40, 1000);
    assert_true(get(m, "batch-size-avg", NULL, 1000) == 2000);
    assert_true(get(m, "batch-size-max", NULL, 1000) == 3000);
    assert_true(get(m, "compression-rate-avg", NULL, 1000) == 0.75);
    assert_true(get(m, "record-queue-time-avg", NULL, 1000) == 10);
    assert_true(get(m, "record-queue-time-max", NULL, 1000) == 15);
    assert_true(get(m, "record-size-max", NULL, 1000) == 300);
    assert_true(get(m, "records-per-request-avg", NULL, 1000) == 40);
    assert_true(get(m, "record-send-total", NULL, 1000) == 40);
    assert_true(get(m, "record-send-total", "t", 1000) == 40);
    assert_true(get(m, "byte-total", "t", 1000) == 4000);
    kp_metrics_destroy(m);
}

static void t_rate_uses_at_least_one_full_window(void **s) {
    (void)s;
    kp_metrics *m = kp_metrics_new();
    kp_metrics_record_request(m, 300, 0);
    /* 300 records over a minimum window of 30 s = 10/s */
    assert_true(fabs(get(m, "record-send-rate", NULL, 1000) - 10.0) < 1e-9);
    /* 60 s later the window is 60 s: 5/s */
    assert_true(fabs(get(m, "record-send-rate", NULL, 59999) - 300.0 / 59.999) < 1e-6);
    kp_metrics_destroy(m);
}

static void t_samples_expire_after_two_windows(void **s) {
    (void)s;
    kp_metrics *m = kp_metrics_new();
    kp_metrics_record_latency(m, 500, 0);
    assert_true(get(m, "request-latency-max", NULL, 59999) == 500);
    assert_true(isnan(get(m, "request-latency-max", NULL, 60000)));
    kp_metrics_record_latency(m, 7, 60000);
    assert_true(get(m, "request-latency-avg", NULL, 60000) == 7);
    kp_metrics_destroy(m);
}

/* A record inside the current sample's window skips the purge of the
 * other sample (kp_stat_record's fast path); an expired older sample
 * must still be gone for every reader. Samples: [0, 30000) holds 500,
 * [40000, 70000) holds 20 then 30; at 65000 the first is past its two
 * windows. */
static void t_old_sample_expires_under_records_in_the_current_window(void **s) {
    (void)s;
    kp_metrics *m = kp_metrics_new();
    kp_metrics_record_latency(m, 500, 0);
    kp_metrics_record_latency(m, 20, 40000);
    assert_true(get(m, "request-latency-max", NULL, 40000) == 500);
    kp_metrics_record_latency(m, 30, 65000);
    assert_true(get(m, "request-latency-max", NULL, 65000) == 30);
    assert_true(get(m, "request-latency-avg", NULL, 65000) == 25);
    /* the next sample after [40000, 70000) reuses the expired slot */
    kp_metrics_record_latency(m, 4, 70000);
    assert_true(get(m, "request-latency-avg", NULL, 70000) == 18);
    assert_true(get(m, "request-latency-max", NULL, 100000) == 4);
    kp_metrics_destroy(m);
}

static void t_totals_are_cumulative(void **s) {
    (void)s;
    kp_metrics *m = kp_metrics_new();
    kp_metrics_record_batch(m, "a", 1, 10, 1, 0, 1, 0);
    for (int i = 0; i < 5; i++) {
        kp_metrics_record_retries(m, "a", 3, (int64_t)i * 40000);
        kp_metrics_record_errors(m, "a", 2, (int64_t)i * 40000);
        kp_metrics_record_split(m, (int64_t)i * 40000);
    }
    assert_true(get(m, "record-retry-total", NULL, 200000) == 15);
    assert_true(get(m, "record-error-total", NULL, 200000) == 10);
    assert_true(get(m, "record-retry-total", "a", 200000) == 15);
    assert_true(get(m, "record-error-total", "a", 200000) == 10);
    assert_true(get(m, "batch-split-total", NULL, 200000) == 5);
    kp_metrics_destroy(m);
}

/* record_batch_h: the hint is filled in with the topic's entry and then
 * names it (each topic its own); the numbers are those of the plain call. */
static void t_batch_hint_names_the_topic_entry(void **s) {
    (void)s;
    kp_metrics *m = kp_metrics_new();
    kp_hint ha = KP_HINT_NONE, hb = KP_HINT_NONE;
    kp_metrics_record_batch_h(m, "a", &ha, 1, 10, 1, 0, 1, 0);
    kp_metrics_record_batch_h(m, "b", &hb, 2, 20, 1, 0, 1, 0);
    assert_int_equal(ha.gen, 1);
    assert_int_equal(ha.ix, 0);
    assert_int_equal(hb.gen, 1);
    assert_int_equal(hb.ix, 1);
    for (int i = 0; i < 3; i++) {
        kp_metrics_record_batch_h(m, "a", &ha, 1, 10, 1, 0, 1, 0);
        kp_metrics_record_batch_h(m, "b", &hb, 2, 20, 1, 0, 1, 0);
    }
    kp_metrics_record_batch(m, "a", 1, 10, 1, 0, 1, 0);
    assert_true(get(m, "record-send-total", "a", 0) == 5);
    assert_true(get(m, "record-send-total", "b", 0) == 8);
    assert_true(get(m, "byte-total", "b", 0) == 80);
    kp_metrics_destroy(m);
}

static void t_topic_metrics_only_after_registration(void **s) {
    (void)s;
    kp_metrics *m = kp_metrics_new();
    kp_metrics_record_retries(m, "x", 4, 0); /* not registered: global only */
    double v;
    assert_false(kp_metrics_get(m, "record-retry-total", "x", 0, &v));
    assert_true(get(m, "record-retry-total", NULL, 0) == 4);
    kp_metrics_destroy(m);
}

static int g_inflight(void *ctx) { (void)ctx; return 3; }
static int64_t g_md(void *ctx) { (void)ctx; return 1000; }

/* A batch recorded into windows known current (every statistic's common
 * case, no window test) lands where a per-statistic record would: the
 * window that ends at 30 s still rotates, a second topic (whose entry may
 * move the table) and a read in between change nothing reported. */
static void t_batches_in_a_known_window_land_where_each_stat_would(void **s) {
    (void)s;
    kp_metrics *m = kp_metrics_new();
    kp_hint ha = KP_HINT_NONE, hb = KP_HINT_NONE;
    kp_metrics_record_batch_h(m, "a", &ha, 1, 1000, 1.0, 4, 100, 0);
    kp_metrics_record_batch_h(m, "a", &ha, 3, 3000, 0.5, 8, 300, 100);      /* same window */
    for (int i = 0; i < 20; i++) {                                        /* topics move */
        char name[16];
        snprintf(name, sizeof name, "t%02d", i);
        kp_metrics_record_batch(m, name, 1, 2000, 1.0, 6, 200, 200);
    }
    kp_metrics_record_batch_h(m, "b", &hb, 2, 2000, 1.0, 6, 200, 29999);
    assert_true(get(m, "batch-size-max", NULL, 29999) == 3000);          /* a read */
    kp_metrics_record_batch_h(m, "a", &ha, 5, 5000, 0.25, 10, 500, 29999);
    kp_metrics_record_batch_h(m, "a", &ha, 7, 7000, 0.25, 12, 700, 30000);  /* window ends: rotates */
    kp_metrics_record_batch_h(m, "b", &hb, 1, 1000, 1.0, 2, 50, 30001);
    assert_true(get(m, "batch-size-max", NULL, 30001) == 7000);
    assert_true(get(m, "record-send-total", "a", 30001) == 16);
    assert_true(get(m, "byte-total", "a", 30001) == 16000);
    assert_true(get(m, "byte-total", "b", 30001) == 3000);
    /* at 60 s the first window is gone, the second stays: only what was
     * recorded from 30 s on */
    assert_true(get(m, "batch-size-max", NULL, 60000) == 7000);
    assert_true(get(m, "batch-size-avg", NULL, 60000) == 4000);
    assert_true(get(m, "record-size-max", NULL, 60000) == 700);
    assert_true(get(m, "record-queue-time-avg", NULL, 60000) == 7);
    assert_true(get(m, "compression-rate", "a", 60000) == 0.25);
    assert_true(get(m, "compression-rate-avg", NULL, 60000) == 0.625);
    assert_true(get(m, "record-send-rate", "a", 60000) == 7.0 / 30.0);
    kp_metrics_record_batch_h(m, "a", &ha, 1, 9000, 0.5, 20, 900, 60001); /* after reads */
    assert_true(get(m, "batch-size-max", NULL, 60001) == 9000);
    assert_true(get(m, "record-size-max", NULL, 89999) == 900);
    assert_true(isnan(get(m, "record-size-max", NULL, 120001)));
    kp_metrics_destroy(m);
}

static void t_gauges(void **s) {
    (void)s;
    kp_metrics *m = kp_metrics_new();
    kp_metrics_gauges g = { g_inflight, g_md, NULL };
    kp_metrics_set_gauges(m, &g);
    assert_true(get(m, "requests-in-flight", NULL, 0) == 3);
    assert_true(get(m, "metadata-age", NULL, 3500) == 2.5);
    kp_metrics_destroy(m);
}

static void t_throttle_time(void **s) {
    (void)s;
    kp_metrics *m = kp_metrics_new();
    kp_metrics_record_throttle(m, 100, 0);
    kp_metrics_record_throttle(m, 300, 10);
    assert_true(get(m, "produce-throttle-time-avg", NULL, 10) == 200);
    assert_true(get(m, "produce-throttle-time-max", NULL, 10) == 300);
    kp_metrics_destroy(m);
}

static void t_dump_lists_every_name(void **s) {
    (void)s;
    kp_metrics *m = kp_metrics_new();
    kp_metrics_record_batch(m, "topic-1", 1, 10, 1, 0, 1, 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    kp_metrics_dump(m, f, 0);
    fclose(f);
    for (int i = 0; i < kp_metrics_name_count(); i++)
        assert_non_null(strstr(buf, kp_metrics_name_at(i)));
    assert_non_null(strstr(buf, "byte-rate{topic=topic-1}"));
    free(buf);
    kp_metrics_destroy(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_empty_stats_read_nan_and_zero),
        cmocka_unit_test(t_batch_metrics_avg_and_max),
        cmocka_unit_test(t_rate_uses_at_least_one_full_window),
        cmocka_unit_test(t_old_sample_expires_under_records_in_the_current_window),
        cmocka_unit_test(t_samples_expire_after_two_windows),
        cmocka_unit_test(t_totals_are_cumulative),
        cmocka_unit_test(t_topic_metrics_only_after_registration),
        cmocka_unit_test(t_batch_hint_names_the_topic_entry),
        cmocka_unit_test(t_batches_in_a_known_window_land_where_each_stat_would),
        cmocka_unit_test(t_gauges),
        cmocka_unit_test(t_throttle_time),
        cmocka_unit_test(t_dump_lists_every_name),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
