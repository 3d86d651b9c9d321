/*
 * test_config.c — broker and topic settings by Kafka name: every kind of
 * value, ranges, unknown names, "unchanged on error", and topic-level
 * overrides winning over the broker's (max.message.bytes,
 * min.insync.replicas, message.timestamp.type, unclean election).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "bm_testutil.h"

static void broker_settings_by_name(void **state) {
    (void)state;
    bm_config c, before;
    bm_config_defaults(&c);
    char err[160];
    assert_int_equal(bm_config_set(&c, "message.max.bytes", "1000", err, sizeof err), KP_ERR_NONE);
    assert_int_equal(c.message_max_bytes, 1000);
    assert_int_equal(bm_config_set(&c, "replica.fetch.wait.max.ms", "7", err, sizeof err), KP_ERR_NONE);
    assert_int_equal(c.replica_fetch_interval_us, 7000);
    assert_int_equal(bm_config_set(&c, "kpsim.replica.lag.ms", "250", err, sizeof err), KP_ERR_NONE);
    assert_int_equal(c.replica_lag_us, 250000);
    assert_int_equal(bm_config_set(&c, "unclean.leader.election.enable", "true", err, sizeof err), KP_ERR_NONE);
    assert_true(c.unclean_leader_election);
    assert_int_equal(bm_config_set(&c, "log.message.timestamp.type", "LogAppendTime", err, sizeof err), KP_ERR_NONE);
    assert_true(c.log_append_time);
    assert_int_equal(bm_config_set(&c, "kpsim.chaos.error.rate", "0.25", err, sizeof err), KP_ERR_NONE);
    assert_true(c.chaos_error_rate == 0.25);
    assert_int_equal(bm_config_set(&c, "quota.producer.default", "1048576", err, sizeof err), KP_ERR_NONE);
    assert_int_equal(c.produce_quota_bytes_per_sec, 1048576);
    before = c;
    static const char *const bad[][2] = {
        { "message.max.bytes", "-1" }, { "message.max.bytes", "12x" }, { "message.max.bytes", "" },
        { "min.insync.replicas", "0" }, { "unclean.leader.election.enable", "yes" },
        { "log.message.timestamp.type", "createtime" }, { "kpsim.chaos.error.rate", "1.5" },
        { "num.partitions", "0" }, { "no.such.setting", "1" }, { "message.max.bytes", "99999999999" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        assert_int_equal(bm_config_set(&c, bad[i][0], bad[i][1], err, sizeof err), KP_ERR__CONFIG);
        assert_non_null(strstr(err, bad[i][0]));
        assert_memory_equal(&c, &before, sizeof c);
    }
    assert_int_equal(bm_config_set(&c, "message.max.bytes", NULL, NULL, 0), KP_ERR__CONFIG);
}

static void topic_overrides_win_over_the_broker(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    bm_topic_config tc;
    bm_topic_config_defaults(&tc);
    char err[160];
    assert_int_equal(bm_topic_config_set(&tc, "max.message.bytes", "200", err, sizeof err), KP_ERR_NONE);
    assert_int_equal(bm_topic_config_set(&tc, "min.insync.replicas", "3", err, sizeof err), KP_ERR_NONE);
    assert_int_equal(bm_topic_config_set(&tc, "message.timestamp.type", "LogAppendTime", err, sizeof err),
                     KP_ERR_NONE);
    assert_int_equal(bm_topic_config_set(&tc, "unclean.leader.election.enable", "true", err, sizeof err),
                     KP_ERR_NONE);
    assert_int_equal(bm_topic_config_set(&tc, "retention.ms", "1", err, sizeof err), KP_ERR__CONFIG);
    assert_non_null(strstr(err, "retention.ms"));
    assert_int_equal(bm_cluster_create_topic_with(w->c, "o", 1, 3, &tc), KP_ERR_NONE);
    assert_int_equal(bm_cluster_create_topic(w->c, "plain", 1, 3), KP_ERR_NONE);
    static uint8_t buf[4096];
    size_t small = bmt_batch(buf, sizeof buf, -1, -1, -1, 1, false, 10);
    bm_produce_result r;
    w->now = 5000000;
    bm_cluster_produce(w->c, 0, "o", 0, 1, 7, buf, small, &r);
    assert_int_equal(r.err, KP_ERR_NONE);
    assert_int_equal(r.log_append_time, 5000); /* LogAppendTime on this topic only */
    bm_cluster_produce(w->c, 0, "plain", 0, 1, 7, buf, small, &r);
    assert_int_equal(r.log_append_time, -1);
    static uint8_t bigbuf[4096];
    size_t big = bmt_batch(bigbuf, sizeof bigbuf, -1, -1, -1, 2, false, 100);
    assert_true(big > 200);
    bm_cluster_produce(w->c, 0, "o", 0, 1, 7, bigbuf, big, &r);
    assert_int_equal(r.err, KP_ERR_MESSAGE_TOO_LARGE);
    bm_cluster_produce(w->c, 0, "plain", 0, 1, 7, bigbuf, big, &r);
    assert_int_equal(r.err, KP_ERR_NONE);
    bm_cluster_crash_broker(w->c, 2);
    bm_cluster_produce(w->c, 0, "o", 0, -1, 7, buf, small, &r);
    assert_int_equal(r.err, KP_ERR_NOT_ENOUGH_REPLICAS); /* topic min.insync 3 */
    bm_cluster_produce(w->c, 0, "plain", 0, -1, 7, buf, small, &r);
    assert_int_equal(r.err, KP_ERR_NONE);
    /* unclean on the topic: the only live replica outside the ISR leads */
    bm_cluster_pause_follower(w->c, 1, true);
    bmt_advance(w, 10100000);
    bm_cluster_crash_broker(w->c, 0);
    bm_partition_info pi;
    bm_cluster_partition_info(w->c, "o", 0, &pi);
    assert_int_equal(pi.leader, 1);
    bm_cluster_partition_info(w->c, "plain", 0, &pi);
    assert_int_equal(pi.leader, -1);
    bmt_free(w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(broker_settings_by_name),
        cmocka_unit_test(topic_overrides_win_over_the_broker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
