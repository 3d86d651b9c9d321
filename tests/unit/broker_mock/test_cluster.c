/*
 * test_cluster.c — the cluster model: ISR shrink/expand, acks=all waiting
 * for the ISR, min.insync.replicas, clean and unclean leader election with
 * truncation, restart and catch-up, controlled moves, message.max.bytes at
 * the limit +-1 byte, CRC, and the 2.1 idempotent producer state (the
 * 5-batch duplicate window, OUT_OF_ORDER, UNKNOWN_PRODUCER_ID, fencing).
 * Every step runs bm_cluster_verify.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "bm_int.h"
#include "bm_testutil.h"
#include "kp_record_batch.h"

#define MS 1000

static bmt_world *world3(int32_t min_isr) {
    bm_config conf;
    bm_config_defaults(&conf);
    conf.brokers = 3;
    conf.min_insync_replicas = min_isr;
    bmt_world *w = bmt_new(&conf);
    assert_int_equal(bm_cluster_create_topic(w->c, "t", 1, 3), KP_ERR_NONE);
    return w;
}

static bm_partition_info info(bmt_world *w, const char *topic, int32_t p) {
    bm_partition_info pi;
    assert_int_equal(bm_cluster_partition_info(w->c, topic, p, &pi), KP_ERR_NONE);
    return pi;
}

static void topic_creation_assigns_replicas_round_robin(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    assert_int_equal(bm_cluster_create_topic(w->c, "u", 4, 2), KP_ERR_NONE);
    for (int32_t p = 0; p < 4; p++) {
        bm_partition_info pi = info(w, "u", p);
        assert_int_equal(pi.nreplicas, 2);
        assert_int_equal(pi.replicas[0], p % 3);
        assert_int_equal(pi.replicas[1], (p + 1) % 3);
        assert_int_equal(pi.leader, p % 3);
        assert_int_equal(pi.nisr, 2);
    }
    assert_int_equal(bm_cluster_create_topic(w->c, "u", 1, 1), KP_ERR_TOPIC_ALREADY_EXISTS);
    assert_int_equal(bm_cluster_create_topic(w->c, "bad name", 1, 1), KP_ERR_INVALID_TOPIC_EXCEPTION);
    assert_int_equal(bm_cluster_create_topic(w->c, "x", 1, 4), KP_ERR_INVALID_REPLICATION_FACTOR);
    assert_int_equal(bm_cluster_create_topic(w->c, "x", 0, 1), KP_ERR_INVALID_PARTITIONS);
    assert_int_equal(bm_cluster_topic_count(w->c), 2);
    bmt_free(w);
}

/* A topic's name keeps its address and bytes while the cluster lives,
 * however many topics come after it (the topics array moves), and the
 * partition events (appends included) carry that very pointer: the runner pins it in its
 * digest (scenarios/sc_runner.c) on that promise (bm_cluster.h). */
static void topic_names_stay_put_and_events_carry_them(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    const char *t = bm_cluster_topic_name(w->c, 0);
    assert_string_equal(t, "t");
    for (int i = 0; i < 40; i++) {
        char name[16];
        snprintf(name, sizeof name, "more%d", i);
        assert_int_equal(bm_cluster_create_topic(w->c, name, 1, 1), KP_ERR_NONE);
    }
    assert_int_equal(bm_cluster_topic_count(w->c), 41);
    assert_ptr_equal(bm_cluster_topic_name(w->c, 0), t);
    assert_string_equal(t, "t");
    w->watch_topic = t;
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, 3).err, KP_ERR_NONE);
    bmt_advance(w, 5 * MS);
    const bmt_event *rep = bmt_last(w, BM_EV_REPLICATE), *hw = bmt_last(w, BM_EV_HW_ADVANCE),
                    *app = bmt_last(w, BM_EV_APPEND);
    assert_non_null(rep);
    assert_non_null(hw);
    assert_non_null(app);
    assert_true(rep->watched_topic);
    assert_true(hw->watched_topic);
    /* the append too, though the produce named the topic with its own
     * string (here a literal; a request's decoded copy in a run) */
    assert_true(app->watched_topic);
    bmt_free(w);
}

static void followers_replicate_on_the_clock_and_hw_follows(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    bm_produce_result r = bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, 3);
    assert_int_equal(r.err, KP_ERR_NONE);
    assert_int_equal(r.base_offset, 0);
    bm_partition_info pi = info(w, "t", 0);
    assert_int_equal(pi.log_end_offset, 3);
    assert_int_equal(pi.high_watermark, 0); /* followers have not fetched yet */
    bmt_advance(w, 5 * MS);
    pi = info(w, "t", 0);
    assert_int_equal(pi.replica_leo[1], 3);
    assert_int_equal(pi.replica_leo[2], 3);
    assert_int_equal(pi.high_watermark, 3);
    assert_true(bmt_count(w, BM_EV_REPLICATE) >= 2);
    assert_true(bmt_count(w, BM_EV_HW_ADVANCE) >= 1);
    /* idle cluster: no deadline */
    assert_true(bm_cluster_poll(w->c, w->now) == BM_TIME_NEVER);
    bmt_free(w);
}

static void isr_shrinks_after_lag_time_max_and_expands_when_caught_up(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    assert_int_equal(bm_cluster_pause_follower(w->c, 2, true), KP_ERR_NONE);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, 1).err, KP_ERR_NONE);
    bmt_advance(w, 9000 * MS);
    assert_int_equal(info(w, "t", 0).nisr, 3);        /* not yet 10 s */
    assert_int_equal(info(w, "t", 0).high_watermark, 0); /* the stalled one holds it */
    bmt_advance(w, 1100 * MS);
    bm_partition_info pi = info(w, "t", 0);
    assert_int_equal(pi.nisr, 2);
    assert_int_equal(pi.high_watermark, 1); /* shrinking let the HW move */
    const bmt_event *e = bmt_last(w, BM_EV_ISR_SHRINK);
    assert_non_null(e);
    assert_int_equal(e->node, 2);
    assert_int_equal(e->value, 2);
    assert_int_equal(bm_cluster_pause_follower(w->c, 2, false), KP_ERR_NONE);
    bmt_advance(w, 5 * MS);
    pi = info(w, "t", 0);
    assert_int_equal(pi.nisr, 3);
    e = bmt_last(w, BM_EV_ISR_EXPAND);
    assert_non_null(e);
    assert_int_equal(e->node, 2);
    bmt_free(w);
}

/* A follower's last caught-up time is the last poll that saw it caught up,
 * however many polls in a row found nothing changed (they skip the ISR
 * scan, bm_isr_shrink): it leaves the ISR replica.lag.time.max.ms after
 * the last of them, not after the scan that first saw it so. */
static void a_caught_up_follower_counts_from_the_last_poll_that_saw_it(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, 1).err, KP_ERR_NONE);
    bmt_advance(w, 5 * MS); /* both followers caught up */
    assert_int_equal(bm_cluster_pause_follower(w->c, 2, true), KP_ERR_NONE);
    bmt_poll(w);
    for (int k = 0; k < 3; k++) { /* polls with nothing changed */
        w->now += 1000 * MS;
        assert_true(bm_cluster_poll(w->c, w->now) == BM_TIME_NEVER);
    }
    kp_time_us last_seen = w->now;
    w->now += 500 * MS;
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, 1).err, KP_ERR_NONE);
    bmt_advance(w, 5 * MS); /* follower 1 catches up, 2 is paused */
    kp_time_us due = last_seen + 10000 * MS + 1;
    assert_true(bm_cluster_poll(w->c, w->now) == due);
    w->now = due - 1;
    bmt_poll(w);
    assert_int_equal(info(w, "t", 0).nisr, 3);
    w->now = due;
    bmt_poll(w);
    assert_int_equal(info(w, "t", 0).nisr, 2);
    assert_int_equal(bmt_last(w, BM_EV_ISR_SHRINK)->node, 2);
    bmt_free(w);
}

/* The replication tick looks at each partition as the ISR-shrink scan
 * would right after it (bm_isr_look) and leaves the scan nothing to do
 * unless a follower is due to leave the ISR: then the full scan runs, so
 * the shrink comes after every fetch of that tick, of later partitions
 * too, at the tick's time, and the next deadline is the full scan's. */
static void a_shrink_due_at_a_tick_comes_after_all_its_fetches(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    assert_int_equal(bm_cluster_create_topic(w->c, "u", 2, 3), KP_ERR_NONE);
    bm_partition_info p0 = info(w, "u", 0), p1 = info(w, "u", 1);
    assert_int_equal(p0.leader, 0);
    assert_int_equal(p1.leader, 1);
    /* broker 2 stops fetching once the partition's followers have nothing
     * to fetch; the last poll before the append is at 4,999 us, so its
     * replica of u-0 is due to shrink at 4,999 + 10 s + 1 = 10,005,000 us,
     * a tick's time (5,000 us interval) */
    assert_int_equal(bm_cluster_pause_follower(w->c, 2, true), KP_ERR_NONE);
    w->now = 4999;
    bmt_poll(w);
    assert_int_equal(bmt_produce(w, 0, "u", 0, 1, -1, -1, -1, 1).err, KP_ERR_NONE);
    bmt_advance(w, 10001 * MS - 4999); /* follower 1 fetched u-0 long ago */
    assert_int_equal(w->now, 10001 * MS);
    assert_int_equal(info(w, "u", 0).nisr, 3);
    /* an append on u-1 makes a tick at 10,005,000 us, when u-0's replica
     * on broker 2 is due */
    assert_int_equal(bmt_produce(w, 1, "u", 1, 1, -1, -1, -1, 1).err, KP_ERR_NONE);
    assert_true(bm_cluster_poll(w->c, w->now) == 10005 * MS);
    size_t before = w->nev;
    w->now = 10005 * MS;
    /* next: u-1's replica on broker 2, behind since the append at 10,001 ms */
    assert_true(bm_cluster_poll(w->c, w->now) == 10001 * MS + 10000 * MS + 1);
    bmt_verify(w);
    ssize_t rep = -1, shrink = -1;
    for (size_t i = before; i < w->nev; i++) {
        if (w->ev[i].kind == BM_EV_REPLICATE && w->ev[i].partition == 1)
            rep = (ssize_t)i;
        if (w->ev[i].kind == BM_EV_ISR_SHRINK)
            shrink = (ssize_t)i;
    }
    assert_true(rep >= 0); /* u-1 fetched by broker 0 in this tick */
    assert_true(shrink > rep);
    assert_int_equal(w->ev[shrink].partition, 0);
    assert_int_equal(w->ev[shrink].node, 2);
    assert_int_equal(info(w, "u", 0).nisr, 2);
    assert_int_equal(info(w, "u", 0).high_watermark, 1);
    bmt_free(w);
}

static void lagging_follower_with_replica_lag_leaves_isr(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    bm_cluster_set_replica_lag(w->c, 20000 * MS); /* batches reach followers 20 s late */
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, 1).err, KP_ERR_NONE);
    bmt_advance(w, 10100 * MS);
    assert_int_equal(info(w, "t", 0).nisr, 1);
    bmt_advance(w, 10000 * MS);
    assert_int_equal(info(w, "t", 0).nisr, 3); /* caught up, rejoined */
    bmt_free(w);
}

static void acks_all_waits_until_the_isr_has_the_batch(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    bm_produce_result r = bmt_produce(w, 0, "t", 0, -1, -1, -1, -1, 2);
    assert_int_equal(r.err, KP_ERR_NONE);
    assert_true(r.pending);
    assert_int_equal(r.required_offset, 2);
    kp_err e;
    assert_false(bm_cluster_acks_check(w->c, "t", 0, r.required_offset, r.leader_epoch, &e));
    bmt_advance(w, 5 * MS);
    assert_true(bm_cluster_acks_check(w->c, "t", 0, r.required_offset, r.leader_epoch, &e));
    assert_int_equal(e, KP_ERR_NONE);
    /* acks=1 never waits */
    r = bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, 1);
    assert_false(r.pending);
    bmt_free(w);
}

static void min_insync_replicas_rejects_before_append_and_after(void **state) {
    (void)state;
    bmt_world *w = world3(2);
    assert_int_equal(bm_cluster_crash_broker(w->c, 1), KP_ERR_NONE);
    assert_int_equal(bm_cluster_crash_broker(w->c, 2), KP_ERR_NONE);
    assert_int_equal(info(w, "t", 0).nisr, 1);
    bm_produce_result r = bmt_produce(w, 0, "t", 0, -1, -1, -1, -1, 1);
    assert_int_equal(r.err, KP_ERR_NOT_ENOUGH_REPLICAS);
    assert_int_equal(info(w, "t", 0).log_end_offset, 0); /* nothing appended */
    r = bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, 1); /* acks=1 does not care */
    assert_int_equal(r.err, KP_ERR_NONE);
    bmt_free(w);

    /* NOT_ENOUGH_REPLICAS_AFTER_APPEND: the ISR shrank below min.insync
     * while the append waited. */
    w = world3(3);
    bm_cluster_pause_follower(w->c, 2, true);
    r = bmt_produce(w, 0, "t", 0, -1, -1, -1, -1, 1);
    assert_int_equal(r.err, KP_ERR_NONE);
    assert_true(r.pending);
    bmt_advance(w, 10100 * MS);
    kp_err e;
    assert_true(bm_cluster_acks_check(w->c, "t", 0, r.required_offset, r.leader_epoch, &e));
    assert_int_equal(e, KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND);
    bmt_free(w);
}

static void clean_election_on_crash_keeps_acknowledged_data(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    bm_produce_result r = bmt_produce(w, 0, "t", 0, -1, -1, -1, -1, 4);
    bmt_advance(w, 5 * MS);
    int32_t epoch0 = info(w, "t", 0).leader_epoch;
    assert_int_equal(bm_cluster_crash_broker(w->c, 0), KP_ERR_NONE);
    bm_partition_info pi = info(w, "t", 0);
    assert_int_equal(pi.leader, 1);
    assert_int_equal(pi.leader_epoch, epoch0 + 1);
    assert_int_equal(pi.nisr, 2);
    assert_int_equal(pi.log_end_offset, 4);
    /* the pending check of an append made under the old epoch */
    kp_err e;
    assert_true(bm_cluster_acks_check(w->c, "t", 0, r.required_offset, r.leader_epoch, &e));
    assert_int_equal(e, KP_ERR_NOT_LEADER_FOR_PARTITION);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, 1).err, KP_ERR_NOT_LEADER_FOR_PARTITION);
    r = bmt_produce(w, 1, "t", 0, 1, -1, -1, -1, 1);
    assert_int_equal(r.err, KP_ERR_NONE);
    assert_int_equal(r.base_offset, 4);
    const bmt_event *ev = bmt_last(w, BM_EV_LEADER_CHANGE);
    assert_int_equal(ev->node, 1);
    assert_non_null(strstr(ev->detail, "crash"));
    bmt_free(w);
}

static void no_eligible_leader_without_unclean_election(void **state) {
    (void)state;
    bm_config conf;
    bm_config_defaults(&conf);
    conf.brokers = 2;
    bmt_world *w = bmt_new(&conf);
    assert_int_equal(bm_cluster_create_topic(w->c, "t", 1, 2), KP_ERR_NONE);
    bm_cluster_pause_follower(w->c, 1, true);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, 1).err, KP_ERR_NONE);
    bmt_advance(w, 10100 * MS);
    assert_int_equal(info(w, "t", 0).nisr, 1);
    bm_cluster_crash_broker(w->c, 0);
    bm_partition_info pi = info(w, "t", 0);
    assert_int_equal(pi.leader, -1);
    assert_int_equal(pi.nisr, 1); /* the dead leader stays the last ISR member */
    assert_int_equal(pi.isr[0], 0);
    /* it comes back: leader again, data intact */
    bm_cluster_restart_broker(w->c, 0);
    pi = info(w, "t", 0);
    assert_int_equal(pi.leader, 0);
    assert_int_equal(pi.log_end_offset, 1);
    bmt_free(w);
}

static void unclean_election_truncates_an_acks1_write(void **state) {
    (void)state;
    bm_config conf;
    bm_config_defaults(&conf);
    conf.brokers = 2;
    conf.unclean_leader_election = true;
    bmt_world *w = bmt_new(&conf);
    assert_int_equal(bm_cluster_create_topic(w->c, "t", 1, 2), KP_ERR_NONE);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, 2).err, KP_ERR_NONE);
    bmt_advance(w, 5 * MS); /* offsets 0,1 replicated */
    bm_cluster_pause_follower(w->c, 1, true);
    bm_produce_result r = bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, 3); /* acks=1: acknowledged */
    assert_int_equal(r.err, KP_ERR_NONE);
    assert_int_equal(r.base_offset, 2);
    bmt_advance(w, 10100 * MS);
    assert_int_equal(info(w, "t", 0).nisr, 1);
    bm_cluster_pause_follower(w->c, 1, false);
    bm_cluster_crash_broker(w->c, 0);
    bm_partition_info pi = info(w, "t", 0);
    assert_int_equal(pi.leader, 1);
    assert_int_equal(pi.log_end_offset, 2);   /* offsets 2..4 are gone */
    assert_int_equal(pi.high_watermark, 2);
    assert_non_null(strstr(bmt_last(w, BM_EV_LEADER_CHANGE)->detail, "unclean"));
    /* a new write takes offset 2 */
    r = bmt_produce(w, 1, "t", 0, 1, -1, -1, -1, 1);
    assert_int_equal(r.base_offset, 2);
    /* the old leader comes back and truncates its divergent suffix */
    int truncs = bmt_count(w, BM_EV_TRUNCATE);
    bm_cluster_restart_broker(w->c, 0);
    assert_int_equal(bmt_count(w, BM_EV_TRUNCATE), truncs + 1);
    const bmt_event *t = bmt_last(w, BM_EV_TRUNCATE);
    assert_int_equal(t->node, 0);
    assert_int_equal(t->offset, 2);
    assert_int_equal(t->value, 3);
    bmt_advance(w, 10 * MS);
    pi = info(w, "t", 0);
    assert_int_equal(pi.replica_leo[0], 3);
    assert_int_equal(pi.nisr, 2);
    bmt_log log;
    bmt_read(w, "t", 0, &log);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.offset[2], 2);
    bmt_free(w);
}

static void restarted_broker_catches_up_and_rejoins_isr(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    bm_cluster_crash_broker(w->c, 2);
    assert_int_equal(info(w, "t", 0).nisr, 2);
    for (int i = 0; i < 5; i++)
        assert_int_equal(bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, 2).err, KP_ERR_NONE);
    bmt_advance(w, 5 * MS);
    assert_int_equal(info(w, "t", 0).replica_leo[2], 0);
    bm_cluster_restart_broker(w->c, 2);
    assert_int_equal(bm_cluster_restart_broker(w->c, 2), KP_ERR__STATE);
    bmt_advance(w, 5 * MS);
    bm_partition_info pi = info(w, "t", 0);
    assert_int_equal(pi.replica_leo[2], 10);
    assert_int_equal(pi.nisr, 3);
    bmt_free(w);
}

static void controlled_move_gives_not_leader_on_the_old_broker(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, 2).err, KP_ERR_NONE);
    assert_int_equal(bm_cluster_move_leader(w->c, "t", 0, 2, false), KP_ERR_NONE);
    /* the new leader had not fetched yet? it was in the ISR: moves are
     * from the ISR, and the followers' logs are prefixes, so the
     * unreplicated suffix of the old leader is truncated */
    bm_partition_info pi = info(w, "t", 0);
    assert_int_equal(pi.leader, 2);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, 1).err, KP_ERR_NOT_LEADER_FOR_PARTITION);
    bm_produce_result r = bmt_produce(w, 2, "t", 0, 1, -1, -1, -1, 1);
    assert_int_equal(r.err, KP_ERR_NONE);
    assert_int_equal(r.base_offset, pi.log_end_offset);
    /* moving to a replica outside the ISR needs `unclean` */
    bm_cluster_pause_follower(w->c, 1, true);
    bmt_advance(w, 10100 * MS);
    assert_int_equal(bm_cluster_move_leader(w->c, "t", 0, 1, false), KP_ERR__STATE);
    assert_int_equal(bm_cluster_move_leader(w->c, "t", 0, 1, true), KP_ERR_NONE);
    assert_int_equal(info(w, "t", 0).leader, 1);
    bmt_free(w);
}

static void message_max_bytes_at_the_limit_plus_minus_one(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    static uint8_t buf[8192];
    size_t n = bmt_batch(buf, sizeof buf, -1, -1, -1, 3, false, 1000);
    bm_produce_result r;
    bm_cluster_set_message_max_bytes(w->c, (int32_t)n - 1);
    bm_cluster_produce(w->c, 0, "t", 0, 1, 7, buf, n, &r);
    assert_int_equal(r.err, KP_ERR_MESSAGE_TOO_LARGE);
    assert_int_equal(info(w, "t", 0).log_end_offset, 0);
    bm_cluster_set_message_max_bytes(w->c, (int32_t)n);
    bm_cluster_produce(w->c, 0, "t", 0, 1, 7, buf, n, &r);
    assert_int_equal(r.err, KP_ERR_NONE);
    bm_cluster_set_message_max_bytes(w->c, (int32_t)n + 1);
    bm_cluster_produce(w->c, 0, "t", 0, 1, 7, buf, n, &r);
    assert_int_equal(r.err, KP_ERR_NONE);
    assert_int_equal(r.base_offset, 3);
    bmt_free(w);
}

static void corrupt_batches_are_rejected(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    static uint8_t buf[4096];
    size_t n = bmt_batch(buf, sizeof buf, -1, -1, -1, 2, false, 10);
    bm_produce_result r;
    buf[n - 1] ^= 0x55; /* inside the CRC */
    bm_cluster_produce(w->c, 0, "t", 0, 1, 7, buf, n, &r);
    assert_int_equal(r.err, KP_ERR_CORRUPT_MESSAGE);
    buf[n - 1] ^= 0x55;
    kp_batch_set_base_offset(buf, 7); /* clients must send 0 */
    bm_cluster_produce(w->c, 0, "t", 0, 1, 7, buf, n, &r);
    assert_int_equal(r.err, KP_ERR_CORRUPT_MESSAGE);
    kp_batch_set_base_offset(buf, 0);
    bm_cluster_produce(w->c, 0, "t", 0, 1, 7, buf, n - 1, &r); /* truncated */
    assert_int_equal(r.err, KP_ERR_CORRUPT_MESSAGE);
    bm_cluster_produce(w->c, 0, "t", 0, 1, 7, buf, 30, &r);
    assert_int_equal(r.err, KP_ERR_CORRUPT_MESSAGE);
    /* a record that does not parse, under a valid CRC (LogValidator) */
    buf[61] = 0x7f; /* first record's length varint: far beyond the batch */
    kp_batch_update_crc(buf, n);
    bm_cluster_produce(w->c, 0, "t", 0, 1, 7, buf, n, &r);
    assert_int_equal(r.err, KP_ERR_CORRUPT_MESSAGE);
    n = bmt_batch(buf, sizeof buf, -1, -1, -1, 2, false, 10);
    bm_cluster_produce(w->c, 0, "t", 0, 1, 7, NULL, 0, &r);
    assert_int_equal(r.err, KP_ERR_CORRUPT_MESSAGE);
    bm_cluster_produce(w->c, 0, "t", 0, 2, 7, buf, n, &r);
    assert_int_equal(r.err, KP_ERR_INVALID_REQUIRED_ACKS);
    bm_cluster_produce(w->c, 0, "nope", 0, 1, 7, buf, n, &r);
    assert_int_equal(r.err, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    bm_cluster_produce(w->c, 0, "t", 1, 1, 7, buf, n, &r);
    assert_int_equal(r.err, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    bm_cluster_produce(w->c, 0, "t", 0, 1, 7, buf, n, &r);
    assert_int_equal(r.err, KP_ERR_NONE);
    bmt_free(w);
}

static void partition_rejection_until_time_t_and_storage_error_by_version(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    bm_cluster_reject_partition(w->c, "t", 0, KP_ERR_KAFKA_STORAGE_ERROR, 100 * MS);
    static uint8_t buf[4096];
    size_t n = bmt_batch(buf, sizeof buf, -1, -1, -1, 1, false, 10);
    bm_produce_result r;
    bm_cluster_produce(w->c, 0, "t", 0, 1, 4, buf, n, &r);
    assert_int_equal(r.err, KP_ERR_KAFKA_STORAGE_ERROR);
    bm_cluster_produce(w->c, 0, "t", 0, 1, 3, buf, n, &r); /* v3 has no code 56 */
    assert_int_equal(r.err, KP_ERR_NOT_LEADER_FOR_PARTITION);
    bmt_advance(w, 99 * MS);
    bm_cluster_produce(w->c, 0, "t", 0, 1, 7, buf, n, &r);
    assert_int_equal(r.err, KP_ERR_KAFKA_STORAGE_ERROR);
    bmt_advance(w, 1 * MS);
    bm_cluster_produce(w->c, 0, "t", 0, 1, 7, buf, n, &r);
    assert_int_equal(r.err, KP_ERR_NONE);
    bmt_free(w);
}

static void chaos_errors_come_from_the_broker_stream(void **state) {
    (void)state;
    int errs[2] = { 0, 0 };
    int first_err_at[2] = { -1, -1 };
    for (int run = 0; run < 2; run++) {
        bmt_world *w = world3(1);
        bm_cluster_set_chaos(w->c, 0.3);
        for (int i = 0; i < 200; i++) {
            kp_err e = bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, 1).err;
            if (e != KP_ERR_NONE) {
                errs[run]++;
                if (first_err_at[run] < 0)
                    first_err_at[run] = i;
                assert_true(kp_err_is_retriable(e));
            }
        }
        bmt_free(w);
    }
    assert_int_equal(errs[0], errs[1]); /* same seed, same errors */
    assert_int_equal(first_err_at[0], first_err_at[1]);
    assert_in_range(errs[0], 30, 90);
}

static void compressed_batches_are_validated_and_read_back(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    static uint8_t buf[8192], scratch[8192];
    kp_batch_builder b;
    kp_batch_builder_init(&b, buf, sizeof buf, KP_CODEC_GZIP, false);
    for (int i = 0; i < 50; i++)
        assert_int_equal(kp_batch_builder_append(&b, 1000 + i, kp_slice_str("key"),
                                                 kp_slice_str("value value value"), NULL, 0),
                         KP_ERR_NONE);
    kp_slice out;
    assert_int_equal(kp_batch_builder_close(&b, scratch, sizeof scratch, &out), KP_ERR_NONE);
    bm_produce_result r;
    bm_cluster_produce(w->c, 0, "t", 0, 1, 7, out.ptr, (size_t)out.len, &r);
    assert_int_equal(r.err, KP_ERR_NONE);
    bmt_log log;
    bmt_read(w, "t", 0, &log);
    assert_int_equal(log.n, 50);
    assert_int_equal(log.offset[49], 49);
    /* garbage in the compressed stream, CRC fixed up */
    memcpy(scratch, out.ptr, (size_t)out.len);
    scratch[70] ^= 0xff;
    scratch[71] ^= 0xff;
    kp_batch_update_crc(scratch, (size_t)out.len);
    bm_cluster_produce(w->c, 0, "t", 0, 1, 7, scratch, (size_t)out.len, &r);
    assert_int_equal(r.err, KP_ERR_CORRUPT_MESSAGE);
    bmt_free(w);
}

/* ---- idempotent producer state ---------------------------------- */

static void duplicate_window_is_exactly_five_batches(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    const int64_t pid = 4000;
    for (int32_t s = 0; s < 6; s++) {
        bm_produce_result r = bmt_produce(w, 0, "t", 0, 1, pid, 0, s, 1);
        assert_int_equal(r.err, KP_ERR_NONE);
        assert_int_equal(r.base_offset, s);
    }
    /* window = batches with seq 1..5; each retry answers its original
     * offset and appends nothing (2.1: NONE + the duplicate's offset) */
    for (int32_t s = 1; s < 6; s++) {
        bm_produce_result r = bmt_produce(w, 0, "t", 0, 1, pid, 0, s, 1);
        assert_int_equal(r.err, KP_ERR_NONE);
        assert_true(r.duplicate);
        assert_int_equal(r.base_offset, s);
    }
    assert_int_equal(bmt_count(w, BM_EV_DUPLICATE), 5);
    assert_int_equal(info(w, "t", 0).log_end_offset, 6);
    /* seq 0 fell out of the window: not a duplicate, and not in sequence */
    bm_produce_result r = bmt_produce(w, 0, "t", 0, 1, pid, 0, 0, 1);
    assert_int_equal(r.err, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_false(r.duplicate);
    /* the same first sequence with a different range is no duplicate */
    r = bmt_produce(w, 0, "t", 0, 1, pid, 0, 3, 2);
    assert_int_equal(r.err, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    /* a 2-record batch in the window is matched on (first, last) */
    r = bmt_produce(w, 0, "t", 0, 1, pid, 0, 6, 2);
    assert_int_equal(r.base_offset, 6);
    r = bmt_produce(w, 0, "t", 0, 1, pid, 0, 6, 2);
    assert_true(r.duplicate);
    assert_int_equal(r.base_offset, 6);
    bmt_log log;
    bmt_read(w, "t", 0, &log);
    assert_int_equal(log.n, 8);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(log.seq[i], i);
        assert_int_equal(log.pid[i], pid);
    }
    bmt_free(w);
}

static void duplicate_as_error_answers_duplicate_sequence_number(void **state) {
    (void)state;
    bm_config conf;
    bm_config_defaults(&conf);
    conf.duplicate_as_error = true;
    bmt_world *w = bmt_new(&conf);
    bm_cluster_create_topic(w->c, "t", 1, 1);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 7, 0, 0, 1).err, KP_ERR_NONE);
    bm_produce_result r = bmt_produce(w, 0, "t", 0, 1, 7, 0, 0, 1);
    assert_int_equal(r.err, KP_ERR_DUPLICATE_SEQUENCE_NUMBER);
    assert_int_equal(r.base_offset, 0);
    bmt_free(w);
}

static void sequence_gap_is_out_of_order(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 9, 0, 0, 2).err, KP_ERR_NONE);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 9, 0, 3, 1).err, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 9, 0, 2, 1).err, KP_ERR_NONE);
    /* a new epoch must start at 0 */
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 9, 1, 3, 1).err, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 9, 1, 0, 1).err, KP_ERR_NONE);
    /* and the old epoch is fenced */
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 9, 0, 3, 1).err, KP_ERR_INVALID_PRODUCER_EPOCH);
    bmt_free(w);
}

static void unknown_producer_id_for_unknown_pid_and_after_retention(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    /* never seen, non-zero sequence */
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 77, 0, 5, 1).err, KP_ERR_UNKNOWN_PRODUCER_ID);
    /* write, lose the state through retention, continue: UNKNOWN */
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 77, 0, 0, 3).err, KP_ERR_NONE);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 88, 0, 0, 1).err, KP_ERR_NONE);
    bmt_advance(w, 5 * MS);
    assert_int_equal(bm_cluster_delete_records(w->c, "t", 0, 3), KP_ERR_NONE);
    assert_int_equal(info(w, "t", 0).log_start_offset, 3);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 77, 0, 3, 1).err, KP_ERR_UNKNOWN_PRODUCER_ID);
    /* pid 88's last batch is still there */
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 88, 0, 1, 1).err, KP_ERR_NONE);
    /* pid 77 restarting at 0 is accepted */
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 77, 0, 0, 1).err, KP_ERR_NONE);
    bmt_free(w);
}

static void truncation_loses_producer_state(void **state) {
    (void)state;
    bm_config conf;
    bm_config_defaults(&conf);
    conf.brokers = 2;
    conf.unclean_leader_election = true;
    bmt_world *w = bmt_new(&conf);
    assert_int_equal(bm_cluster_create_topic(w->c, "t", 1, 2), KP_ERR_NONE);
    /* pid 50: one batch replicated, one not; pid 60: nothing replicated */
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 50, 0, 0, 2).err, KP_ERR_NONE);
    bmt_advance(w, 5 * MS);
    bm_cluster_pause_follower(w->c, 1, true);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 50, 0, 2, 2).err, KP_ERR_NONE);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 60, 0, 0, 3).err, KP_ERR_NONE);
    bmt_advance(w, 10100 * MS);
    bm_cluster_pause_follower(w->c, 1, false);
    bm_cluster_crash_broker(w->c, 0); /* unclean: broker 1 leads with offsets 0..1 */
    /* pid 50's next sequence (4) is now a gap: the new leader knows 0..1 */
    assert_int_equal(bmt_produce(w, 1, "t", 0, 1, 50, 0, 4, 1).err, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(bmt_produce(w, 1, "t", 0, 1, 50, 0, 2, 2).err, KP_ERR_NONE);
    /* pid 60 is unknown to the new leader */
    assert_int_equal(bmt_produce(w, 1, "t", 0, 1, 60, 0, 3, 1).err, KP_ERR_UNKNOWN_PRODUCER_ID);
    bmt_free(w);
}

static void producer_state_survives_a_clean_leader_change(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    for (int32_t s = 0; s < 3; s++)
        assert_int_equal(bmt_produce(w, 0, "t", 0, -1, 5, 0, s, 1).err, KP_ERR_NONE);
    bmt_advance(w, 5 * MS);
    bm_cluster_crash_broker(w->c, 0);
    int32_t l = info(w, "t", 0).leader;
    /* the retry of the last batch is still a duplicate on the new leader */
    bm_produce_result r = bmt_produce(w, l, "t", 0, 1, 5, 0, 2, 1);
    assert_true(r.duplicate);
    assert_int_equal(r.base_offset, 2);
    assert_int_equal(bmt_produce(w, l, "t", 0, 1, 5, 0, 4, 1).err, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(bmt_produce(w, l, "t", 0, 1, 5, 0, 3, 1).err, KP_ERR_NONE);
    bmt_free(w);
}

/* The same script twice gives the same events, field for field, at the
 * same times: chaos draws, replication ticks, elections, truncations. */
static uint64_t script_digest(void) {
    bm_config conf;
    bm_config_defaults(&conf);
    conf.unclean_leader_election = true;
    conf.chaos_error_rate = 0.2;
    bmt_world *w = bmt_new(&conf);
    bm_cluster_create_topic(w->c, "t", 3, 3);
    int32_t seq[3] = { 0, 0, 0 };
    for (int step = 0; step < 300; step++) {
        int32_t p = step % 3;
        bm_partition_info pi = info(w, "t", p);
        if (pi.leader >= 0) {
            bm_produce_result r = bmt_produce(w, pi.leader, "t", p, (step & 1) ? 1 : -1, 42, 0, seq[p], 2);
            if (r.err == KP_ERR_NONE && !r.duplicate)
                seq[p] += 2;
        }
        if (step == 100)
            bm_cluster_crash_broker(w->c, 1);
        if (step == 150)
            bm_cluster_pause_follower(w->c, 2, true);
        if (step == 200)
            bm_cluster_restart_broker(w->c, 1);
        if (step == 250)
            bm_cluster_pause_follower(w->c, 2, false);
        bmt_advance(w, 97 * MS);
    }
    uint64_t h = KP_FNV1A64_INIT;
    for (size_t i = 0; i < w->nev; i++)
        h = kp_fnv1a64(&w->ev[i], sizeof w->ev[i], h);
    h = kp_fnv1a64(&w->nev, sizeof w->nev, h);
    /* the script did exercise what it claims */
    assert_true(bmt_count(w, BM_EV_APPEND) > 150);
    assert_true(bmt_count(w, BM_EV_ERROR) > 20); /* chaos */
    assert_true(bmt_count(w, BM_EV_LEADER_CHANGE) >= 4); /* 3 creations + the crash */
    assert_true(bmt_count(w, BM_EV_TRUNCATE) >= 1);
    assert_true(bmt_count(w, BM_EV_ISR_SHRINK) >= 1);
    assert_true(bmt_count(w, BM_EV_ISR_EXPAND) >= 1);
    bmt_free(w);
    return h;
}

/* ---- digested logs (what a simulation keeps) ------------------------- */

typedef struct dig_calls {
    int n;
} dig_calls;

/* A digest the test can read back: key length, the key's digit, value length. */
static void test_digester(void *ctx, kp_slice key, kp_slice value, bm_digest *out) {
    ((dig_calls *)ctx)->n++;
    out->w[0] = (uint32_t)key.len;
    out->w[1] = key.len >= 2 ? (uint32_t)(key.ptr[1] - '0') : 99;
    out->w[2] = (uint32_t)value.len;
}

typedef struct dig_log {
    int n;
    int64_t offset[16];
    int32_t seq[16];
    uint32_t key_digit[16];
    bool null_kv[16];
    bool control[16];
} dig_log;

static bool dig_read_cb(void *ctx, const bm_record_view *v) {
    dig_log *l = ctx;
    assert_true(l->n < 16);
    l->offset[l->n] = v->offset;
    l->seq[l->n] = v->sequence;
    l->control[l->n] = v->control;
    if (v->digest) {
        assert_int_equal(v->digest->w[0], 2);
        assert_int_equal(v->digest->w[2], 8);
        l->key_digit[l->n] = v->digest->w[1];
    }
    l->null_kv[l->n] = v->digest && v->key.len == -1 && v->value.len == -1 && v->header_count == -1;
    l->n++;
    return true;
}

static void digested_log_keeps_digests_through_duplicates_and_truncation(void **state) {
    (void)state;
    bm_config conf;
    bm_config_defaults(&conf);
    conf.brokers = 2;
    conf.unclean_leader_election = true;
    bmt_world *w = bmt_new(&conf);
    dig_calls calls = { 0 };
    bm_cluster_set_digester(w->c, test_digester, &calls);
    assert_int_equal(bm_cluster_create_topic(w->c, "t", 1, 2), KP_ERR_NONE);
    /* idempotent: seq 0..2 appended; its retry is a duplicate and a batch
     * with a sequence gap is rejected: digested while validated, not kept */
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 7, 0, 0, 3).err, KP_ERR_NONE);
    assert_int_equal(calls.n, 3);
    bm_produce_result r = bmt_produce(w, 0, "t", 0, 1, 7, 0, 0, 3);
    assert_true(r.duplicate);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 7, 0, 9, 2).err, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(calls.n, 8);
    /* a first record that does not parse: nothing digested, nothing kept */
    static uint8_t bad[1 << 12];
    size_t nbad = bmt_batch(bad, sizeof bad, 7, 0, 3, 2, false, 8);
    bad[61] = 0x7f; /* its length varint: far beyond the batch */
    kp_batch_update_crc(bad, nbad);
    bm_cluster_produce(w->c, 0, "t", 0, 1, 7, bad, nbad, &r);
    assert_int_equal(r.err, KP_ERR_CORRUPT_MESSAGE);
    assert_int_equal(calls.n, 8);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 7, 0, 3, 2).err, KP_ERR_NONE);
    assert_int_equal(calls.n, 10);
    bmt_advance(w, 5 * MS); /* offsets 0..4 replicated */
    dig_log log = { 0 };
    assert_int_equal(bm_cluster_read_log(w->c, "t", 0, dig_read_cb, &log), KP_ERR_NONE);
    assert_int_equal(log.n, 5);
    const uint32_t digits[5] = { 0, 1, 2, 0, 1 };
    for (int i = 0; i < 5; i++) {
        assert_int_equal(log.offset[i], i);
        assert_int_equal(log.seq[i], i);
        assert_int_equal(log.key_digit[i], digits[i]);
        assert_true(log.null_kv[i]);
    }
    /* an acks=1 write only the leader has, lost on an unclean election */
    bm_cluster_pause_follower(w->c, 1, true);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, 7, 0, 5, 2).base_offset, 5);
    assert_int_equal(calls.n, 12);
    bmt_advance(w, 10100 * MS);
    bm_cluster_pause_follower(w->c, 1, false);
    bm_cluster_crash_broker(w->c, 0);
    assert_int_equal(info(w, "t", 0).log_end_offset, 5);
    bm_cluster_restart_broker(w->c, 0);
    bmt_advance(w, 10 * MS);
    bmt_verify(w);
    memset(&log, 0, sizeof log);
    assert_int_equal(bm_cluster_read_log(w->c, "t", 0, dig_read_cb, &log), KP_ERR_NONE);
    assert_int_equal(log.n, 5);
    assert_int_equal(log.offset[4], 4);
    bmt_free(w);
}

typedef struct settled_log {
    int n;
    int64_t offset[32];
    bool control[32];
    int txn_state[32];
} settled_log;

static void settle_cb(void *ctx, const bm_settled_batch *b) {
    settled_log *l = ctx;
    assert_string_equal(b->topic, "t");
    assert_true(b->control ? b->digests == NULL : b->digests != NULL);
    for (int32_t i = 0; i < b->count; i++) {
        assert_true(l->n < 32);
        if (b->digests) /* test_digester's: key length 2, value length 8 */
            assert_true(b->digests[i].w[0] == 2 && b->digests[i].w[2] == 8);
        l->offset[l->n] = b->base_offset + i;
        l->control[l->n] = b->control;
        l->txn_state[l->n] = b->txn_state;
        l->n++;
    }
}

static bool count_cb(void *ctx, const bm_record_view *v) {
    (void)v;
    (*(int *)ctx)++;
    return true;
}

/* A record is settled once every replica's log holds it (a crashed one's
 * too): handed out once, in offset order, and never truncated after. */
static void settled_records_are_handed_out_once_when_every_replica_has_them(void **state) {
    (void)state;
    bm_config conf;
    bm_config_defaults(&conf);
    conf.brokers = 3;
    conf.unclean_leader_election = true;
    bmt_world *w = bmt_new(&conf);
    dig_calls calls = { 0 };
    settled_log set = { 0 };
    bm_cluster_set_digester(w->c, test_digester, &calls);
    bm_cluster_set_settler(w->c, settle_cb, &set);
    assert_int_equal(bm_cluster_create_topic(w->c, "t", 1, 3), KP_ERR_NONE);
    assert_int_equal(bmt_produce(w, 0, "t", 0, -1, -1, -1, -1, 2).err, KP_ERR_NONE);
    assert_int_equal(set.n, 0); /* only the leader has it */
    assert_int_equal(bm_cluster_settled_offset(w->c, "t", 0), 0);
    bmt_advance(w, 5 * MS);
    assert_int_equal(set.n, 2);
    assert_int_equal(set.offset[1], 1);
    assert_int_equal(bm_cluster_settled_offset(w->c, "t", 0), 2);
    /* broker 2 down: nothing settles, whatever the ISR says */
    bm_cluster_crash_broker(w->c, 2);
    assert_int_equal(bmt_produce(w, 0, "t", 0, -1, -1, -1, -1, 3).err, KP_ERR_NONE);
    bmt_advance(w, 20 * MS);
    assert_int_equal(info(w, "t", 0).high_watermark, 5);
    assert_int_equal(set.n, 2);
    /* reading the settled records again is refused; the rest is there */
    int n = 0;
    assert_int_equal(bm_cluster_read_log(w->c, "t", 0, count_cb, &n), KP_ERR__STATE);
    n = 0;
    assert_int_equal(bm_cluster_read_log_from(w->c, "t", 0, 2, count_cb, &n), KP_ERR_NONE);
    assert_int_equal(n, 3);
    /* the leader and broker 1 crash; broker 2 comes back and leads alone
     * (unclean): offsets 2..4 are gone, the settled 0..1 stay */
    bm_cluster_crash_broker(w->c, 0);
    bm_cluster_crash_broker(w->c, 1);
    bm_cluster_restart_broker(w->c, 2);
    bmt_poll(w);
    assert_int_equal(info(w, "t", 0).leader, 2);
    assert_int_equal(info(w, "t", 0).log_end_offset, 2);
    assert_int_equal(set.n, 2);
    assert_int_equal(bmt_produce(w, 2, "t", 0, 1, -1, -1, -1, 1).base_offset, 2);
    bmt_advance(w, 5 * MS);
    assert_int_equal(set.n, 2); /* brokers 0 and 1 are down with other logs */
    bm_cluster_restart_broker(w->c, 0);
    bm_cluster_restart_broker(w->c, 1);
    bmt_advance(w, 10 * MS);
    bmt_verify(w);
    assert_int_equal(set.n, 3);
    assert_int_equal(set.offset[2], 2);
    for (int i = 0; i < set.n; i++)
        assert_false(set.control[i]);
    bmt_free(w);
}

/* Digests numbered in validation order (w[1]), so a batch block reused
 * from the pool that still showed a former batch's digests is seen. */
static void numbering_digester(void *ctx, kp_slice key, kp_slice value, bm_digest *out) {
    out->w[0] = (uint32_t)key.len;
    out->w[1] = (uint32_t)((dig_calls *)ctx)->n++;
    out->w[2] = (uint32_t)value.len;
}

typedef struct numbered_log {
    int n;
    bool in_order;
} numbered_log;

static void numbered_settle_cb(void *ctx, const bm_settled_batch *b) {
    numbered_log *l = ctx;
    for (int32_t i = 0; i < b->count; i++)
        l->in_order = l->in_order && b->digests[i].w[1] == (uint32_t)l->n++;
}

/* What a shape digester saw, record by record. */
typedef struct shape_log {
    int n;
    int32_t klen[16], vlen[16];
    uint8_t kfirst[16];
} shape_log;

static void shape_digester(void *ctx, kp_slice key, kp_slice value, bm_digest *out) {
    shape_log *l = ctx;
    assert_true(l->n < 16);
    l->klen[l->n] = key.len;
    l->vlen[l->n] = value.len;
    l->kfirst[l->n] = key.len > 0 ? key.ptr[0] : 0;
    out->w[0] = (uint32_t)key.len;
    out->w[1] = (uint32_t)l->n++;
    out->w[2] = (uint32_t)value.len;
}

/* The broker's digest walk takes the common records (one- and two-byte
 * varints, no headers) through a fast loop of its own and hands any other
 * to the general decoder, then goes on: in one batch of common records,
 * a record with a header, one whose value needs three-byte varints, a
 * null key and value, an empty key, every record is digested once, in
 * order, with its own key and value. A malformed record after a run of
 * common ones (its header count says one header that is not there)
 * still rejects the batch, and nothing of it reaches the log. */
static void digest_walk_takes_every_record_shape_in_order(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    shape_log log = { 0 };
    bm_cluster_set_digester(w->c, shape_digester, &log);
    static uint8_t buf[1 << 15], big[9000];
    memset(big, 'b', sizeof big);
    kp_batch_builder b;
    kp_batch_builder_init(&b, buf, sizeof buf, KP_CODEC_NONE, false);
    const kp_header hdr = { { (const uint8_t *)"h", 1 }, { (const uint8_t *)"x", 1 } };
    int32_t want_k[12], want_v[12];
    for (int i = 0; i < 12; i++) {
        char key[16];
        snprintf(key, sizeof key, "%c%d", 'a' + i, i);
        kp_slice k = { (const uint8_t *)key, (int32_t)strlen(key) }, v = { big, 8 };
        int nh = 0;
        if (i == 2)
            nh = 1;
        else if (i == 5)
            v.len = (int32_t)sizeof big;
        else if (i == 7)
            k = v = (kp_slice){ NULL, -1 };
        else if (i == 9)
            k.len = 0;
        want_k[i] = k.len;
        want_v[i] = v.len;
        assert_int_equal(kp_batch_builder_append(&b, 1000 + i, k, v, nh ? &hdr : NULL, nh), KP_ERR_NONE);
    }
    kp_slice out;
    assert_int_equal(kp_batch_builder_close(&b, NULL, 0, &out), KP_ERR_NONE);
    bm_produce_result r;
    bm_cluster_produce(w->c, 0, "t", 0, 1, 7, buf, (size_t)out.len, &r);
    assert_int_equal(r.err, KP_ERR_NONE);
    assert_int_equal(log.n, 12);
    for (int i = 0; i < 12; i++) {
        assert_int_equal(log.klen[i], want_k[i]);
        assert_int_equal(log.vlen[i], want_v[i]);
        if (want_k[i] > 0)
            assert_int_equal(log.kfirst[i], 'a' + i);
    }
    /* six common records; the fifth's header count (its last byte) says 1 */
    size_t n = bmt_batch(buf, sizeof buf, -1, -1, -1, 6, false, 8);
    size_t rec = (n - KP_BATCH_HEADER_SIZE) / 6; /* all the same size here */
    assert_int_equal(buf[KP_BATCH_HEADER_SIZE + 5 * rec - 1], 0);
    buf[KP_BATCH_HEADER_SIZE + 5 * rec - 1] = 2; /* zigzag(1) */
    kp_batch_update_crc(buf, n);
    log.n = 0;
    bm_cluster_produce(w->c, 0, "t", 0, 1, 7, buf, n, &r);
    assert_int_equal(r.err, KP_ERR_CORRUPT_MESSAGE);
    assert_int_equal(log.n, 4); /* the four before it, digested and dropped */
    assert_int_equal(info(w, "t", 0).log_end_offset, 12);
    bmt_free(w);
}

/* Settled batches are freed as they fold; a small one's block goes back to
 * the cluster's pool and is taken by a later batch (bm_int.h). Batches of
 * 1..8 records (up to 5 fit a pooled block, larger ones are allocated on
 * their own) settle with exactly their own digests, in order, and the pool
 * stays bounded. */
static void settled_batch_blocks_are_reused_with_their_own_digests(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    dig_calls calls = { 0 };
    numbered_log set = { .in_order = true };
    bm_cluster_set_digester(w->c, numbering_digester, &calls);
    bm_cluster_set_settler(w->c, numbered_settle_cb, &set);
    int produced = 0;
    for (int k = 0; k < 400; k++) {
        int32_t count = 1 + k % 8;
        assert_int_equal(bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, count).err, KP_ERR_NONE);
        produced += count;
        if (k % 3 == 2)
            bmt_advance(w, 5 * MS);
    }
    bmt_advance(w, 10 * MS);
    bmt_verify(w);
    assert_int_equal(calls.n, produced);
    assert_int_equal(set.n, produced);
    assert_true(set.in_order);
    assert_true(w->c->nbatch_pool <= BM_POOL_MAX);
    if (BM_POOL_ON)
        assert_true(w->c->nbatch_pool > 0);
    else
        assert_int_equal(w->c->nbatch_pool, 0);
    bmt_free(w);
}

/* With four replicas the settle walk, which starts at the replica that
 * lagged last time, must still look at every replica: here the leader is
 * replica 3, replica 0 lagged last, and the followers hold 3, 2 and 1 of
 * the unsettled batches; only the first of them is in every log. */
static void settle_bound_counts_every_replica_of_four(void **state) {
    (void)state;
    bm_config conf;
    bm_config_defaults(&conf);
    conf.brokers = 4;
    bmt_world *w = bmt_new(&conf);
    dig_calls calls = { 0 };
    settled_log set = { 0 };
    bm_cluster_set_digester(w->c, test_digester, &calls);
    bm_cluster_set_settler(w->c, settle_cb, &set);
    assert_int_equal(bm_cluster_create_topic(w->c, "t", 1, 4), KP_ERR_NONE);
    assert_int_equal(bm_cluster_move_leader(w->c, "t", 0, 3, false), KP_ERR_NONE);
    assert_int_equal(bmt_produce(w, 3, "t", 0, 1, -1, -1, -1, 1).base_offset, 0);
    bmt_advance(w, 6 * MS);
    assert_int_equal(bm_cluster_settled_offset(w->c, "t", 0), 1);
    /* replica 0 alone lags: the walk will start there next time */
    bm_cluster_pause_follower(w->c, 0, true);
    assert_int_equal(bmt_produce(w, 3, "t", 0, 1, -1, -1, -1, 1).base_offset, 1);
    bmt_advance(w, 6 * MS);
    /* replica 2 stops at offset 1, replica 1 at 2, replica 0 gets all */
    bm_cluster_pause_follower(w->c, 2, true);
    assert_int_equal(bmt_produce(w, 3, "t", 0, 1, -1, -1, -1, 1).base_offset, 2);
    bmt_advance(w, 6 * MS);
    bm_cluster_pause_follower(w->c, 1, true);
    assert_int_equal(bmt_produce(w, 3, "t", 0, 1, -1, -1, -1, 1).base_offset, 3);
    bm_cluster_pause_follower(w->c, 0, false);
    bmt_advance(w, 6 * MS);
    bmt_verify(w);
    assert_int_equal(info(w, "t", 0).replica_leo[0], 4);
    assert_int_equal(bm_cluster_settled_offset(w->c, "t", 0), 2); /* replica 2 has up to 1 */
    assert_int_equal(set.n, 2);
    bm_cluster_pause_follower(w->c, 1, false);
    bm_cluster_pause_follower(w->c, 2, false);
    bmt_advance(w, 6 * MS);
    bmt_verify(w);
    assert_int_equal(bm_cluster_settled_offset(w->c, "t", 0), 4);
    assert_int_equal(set.n, 4);
    bmt_free(w);
}

/* A transactional batch settles only with its marker (its read_committed
 * state is final then). */
static void a_transactional_batch_settles_with_its_marker(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    dig_calls calls = { 0 };
    settled_log set = { 0 };
    bm_cluster_set_digester(w->c, test_digester, &calls);
    bm_cluster_set_settler(w->c, settle_cb, &set);
    static uint8_t buf[1 << 12];
    size_t n = bmt_batch(buf, sizeof buf, 9, 0, 0, 2, true, 8);
    bm_produce_result r;
    bm_cluster_produce(w->c, 0, "t", 0, 1, 7, buf, n, &r);
    assert_int_equal(r.err, KP_ERR_NONE);
    assert_int_equal(bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, 1).err, KP_ERR_NONE);
    bmt_advance(w, 10 * MS);
    assert_int_equal(set.n, 0); /* open: neither it nor what follows */
    bm_partition *p = bm__partition(w->c, "t", 0);
    assert_true(bm__write_marker(w->c, p, 9, 0, true));
    bmt_advance(w, 10 * MS);
    assert_int_equal(set.n, 4);
    assert_int_equal(set.txn_state[0], BM_TXN_COMMITTED);
    assert_int_equal(set.txn_state[1], BM_TXN_COMMITTED);
    assert_int_equal(set.txn_state[2], BM_TXN_NONE);
    assert_true(set.control[3]);
    assert_int_equal(set.offset[3], 3);
    bmt_free(w);
}

typedef struct txn_settled {
    int64_t records, committed, aborted, markers;
    int64_t next; /* the next offset expected: settled in offset order */
    bool in_order;
} txn_settled;

static void txn_settle_cb(void *ctx, const bm_settled_batch *b) {
    txn_settled *s = ctx;
    s->in_order = s->in_order && b->base_offset == s->next;
    s->next = b->base_offset + b->count;
    s->records += b->count;
    if (b->control)
        s->markers++;
    else if (b->txn_state == BM_TXN_COMMITTED)
        s->committed += b->count;
    else if (b->txn_state == BM_TXN_ABORTED)
        s->aborted += b->count;
}

/* Two long transactions, interleaved with each other and with plain
 * batches, stay open while every batch after their first reaches every
 * replica (each append and each replication tick runs the settle walk),
 * then end (one commits, one aborts). Each walk takes up where the last
 * stopped: the batches compared and looked at grow with the batches (about
 * 4 per batch), not with their square (a walk that starts from the first
 * open batch at every call makes 45 million steps here, ~10,000 per
 * batch), and every batch settles once, in order, with its outcome. */
static void a_long_open_transaction_costs_the_settle_walk_linear_time(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    dig_calls calls = { 0 };
    txn_settled set = { .in_order = true };
    bm_cluster_set_digester(w->c, test_digester, &calls);
    bm_cluster_set_settler(w->c, txn_settle_cb, &set);
    static uint8_t buf[1 << 12];
    const int32_t m = 2000; /* batches of each transaction */
    int32_t plain = 0;
    for (int32_t s = 0; s < m; s++) {
        for (int64_t pid = 7; pid <= 8; pid++) {
            size_t n = bmt_batch(buf, sizeof buf, pid, 0, s, 1, true, 8);
            bm_produce_result r;
            bm_cluster_produce(w->c, 0, "t", 0, 1, 7, buf, n, &r);
            assert_int_equal(r.err, KP_ERR_NONE);
        }
        if (s % 3 == 0) {
            assert_int_equal(bmt_produce(w, 0, "t", 0, 1, -1, -1, -1, 1).err, KP_ERR_NONE);
            plain++;
        }
        bmt_advance(w, 1 * MS);
    }
    bmt_advance(w, 10 * MS);
    assert_int_equal(set.records, 0); /* the first batch is open: nothing settles */
    bm_partition *p = bm__partition(w->c, "t", 0);
    assert_true(bm__write_marker(w->c, p, 8, 0, false));
    assert_true(bm__write_marker(w->c, p, 7, 0, true));
    bmt_advance(w, 10 * MS);
    bmt_verify(w);
    assert_true(set.in_order);
    assert_int_equal(set.records, 2 * m + plain + 2);
    assert_int_equal(set.committed, m);
    assert_int_equal(set.aborted, m);
    assert_int_equal(set.markers, 2);
    int64_t batches = 2 * (int64_t)m + plain + 2;
    assert_true(w->c->settle_steps <= (uint64_t)(20 * batches));
    bmt_free(w);
}

/* ---- the folded prefix (settled batches dropped, bm_int.h) ------------ */

static void same_producer_state(const bm_partition *a, const bm_partition *b) {
    assert_int_equal(a->nprod, b->nprod);
    for (size_t i = 0; i < a->nprod; i++) {
        const bm_producer *x = &a->prod[i], *y = &b->prod[i];
        assert_int_equal(x->pid, y->pid);
        assert_int_equal(x->epoch, y->epoch);
        assert_int_equal(x->nb, y->nb);
        assert_int_equal(x->txn_first_offset, y->txn_first_offset);
        for (int32_t k = 0; k < x->nb; k++) {
            const bm_batch_meta *xm = bm__producer_meta(x, k), *ym = bm__producer_meta(y, k);
            assert_int_equal(xm->first_seq, ym->first_seq);
            assert_int_equal(xm->last_seq, ym->last_seq);
            assert_int_equal(xm->first_offset, ym->first_offset);
            assert_int_equal(xm->last_offset, ym->last_offset);
            assert_int_equal(xm->timestamp, ym->timestamp);
        }
    }
    assert_int_equal(a->nopen, b->nopen);
    for (size_t i = 0; i < a->nopen; i++) {
        assert_int_equal(a->open[i].pid, b->open[i].pid);
        assert_int_equal(a->open[i].first_offset, b->open[i].first_offset);
    }
    assert_int_equal(a->naborted, b->naborted);
    for (size_t i = 0; i < a->naborted; i++) {
        assert_int_equal(a->aborted[i].pid, b->aborted[i].pid);
        assert_int_equal(a->aborted[i].first_offset, b->aborted[i].first_offset);
        assert_int_equal(a->aborted[i].last_offset, b->aborted[i].last_offset);
    }
    assert_int_equal(a->log_start, b->log_start);
    assert_int_equal(a->hw, b->hw);
}

static void fold_settle_cb(void *ctx, const bm_settled_batch *b) {
    (void)b;
    (*(int64_t *)ctx)++;
}

/* Over a long run of one record per batch, the logs keep only the
 * unsettled batches; a new leader still rebuilds the 5-batch window from
 * the folded prefix: a retry of one of the last 5 is a duplicate (its
 * offset), of the 6th last OUT_OF_ORDER, the next sequence appends. */
static void settled_batches_are_folded_and_the_window_survives_a_leader_change(void **state) {
    (void)state;
    bmt_world *w = world3(1);
    dig_calls calls = { 0 };
    int64_t settled = 0;
    bm_cluster_set_digester(w->c, test_digester, &calls);
    bm_cluster_set_settler(w->c, fold_settle_cb, &settled);
    bm_partition *p = bm__partition(w->c, "t", 0);
    size_t most = 0, most_cap = 0;
    const int32_t batches = 3000;
    for (int32_t s = 0; s < batches; s++) {
        int32_t l = info(w, "t", 0).leader;
        bm_produce_result r = bmt_produce(w, l, "t", 0, -1, 77, 0, s, 1);
        assert_int_equal(r.err, KP_ERR_NONE);
        assert_int_equal(r.base_offset, s);
        bmt_advance(w, 1 * MS);
        for (int32_t ri = 0; ri < p->nrep; ri++) {
            if (p->rep[ri].n > most)
                most = p->rep[ri].n;
            if (p->rep[ri].cap > most_cap)
                most_cap = p->rep[ri].cap;
        }
        if (s % 500 == 0)
            bmt_verify(w);
    }
    bmt_advance(w, 20 * MS);
    assert_int_equal(settled, batches);
    /* the headers are gone: a few unsettled batches at any time */
    assert_true(most <= 16);
    assert_true(most_cap <= 32);
    for (int32_t ri = 0; ri < p->nrep; ri++)
        assert_int_equal(p->rep[ri].n, 0);
    assert_int_equal(p->fold_off, batches);
    assert_int_equal(p->nfold, 1);
    /* a clean move: the new leader's state comes from the fold alone */
    int32_t old = info(w, "t", 0).leader;
    assert_int_equal(bm_cluster_move_leader(w->c, "t", 0, (old + 1) % 3, false), KP_ERR_NONE);
    int32_t l = info(w, "t", 0).leader;
    assert_int_not_equal(l, old);
    assert_int_equal(info(w, "t", 0).log_end_offset, batches);
    for (int32_t back = 1; back <= 5; back++) {
        bm_produce_result r = bmt_produce(w, l, "t", 0, 1, 77, 0, batches - back, 1);
        assert_int_equal(r.err, KP_ERR_NONE);
        assert_true(r.duplicate);
        assert_int_equal(r.base_offset, batches - back);
    }
    assert_int_equal(bmt_produce(w, l, "t", 0, 1, 77, 0, batches - 6, 1).err,
                     KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(bmt_produce(w, l, "t", 0, 1, 77, 0, batches + 1, 1).err,
                     KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(bmt_produce(w, l, "t", 0, 1, 78, 0, 3, 1).err, KP_ERR_UNKNOWN_PRODUCER_ID);
    assert_int_equal(bmt_produce(w, l, "t", 0, 1, 77, 1, 0, 1).err, KP_ERR_NONE); /* new epoch */
    assert_int_equal(bmt_produce(w, l, "t", 0, 1, 77, 0, batches, 1).err,
                     KP_ERR_INVALID_PRODUCER_EPOCH);
    /* reading below the folded end is refused, from it on works */
    int n = 0;
    assert_int_equal(bm_cluster_read_log(w->c, "t", 0, count_cb, &n), KP_ERR__STATE);
    assert_int_equal(n, 0);
    assert_int_equal(bm_cluster_read_log_from(w->c, "t", 0, batches, count_cb, &n), KP_ERR_NONE);
    assert_int_equal(n, 1);
    bmt_verify(w);
    bmt_free(w);
}

/* One replica: a batch is settled, handed out and folded away within its
 * own append; the answer still carries its offsets (read before). */
static void a_one_replica_batch_folds_within_its_append(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    dig_calls calls = { 0 };
    int64_t settled = 0;
    bm_cluster_set_digester(w->c, test_digester, &calls);
    bm_cluster_set_settler(w->c, fold_settle_cb, &settled);
    assert_int_equal(bm_cluster_create_topic(w->c, "t", 1, 1), KP_ERR_NONE);
    for (int32_t s = 0; s < 4; s++) {
        bm_produce_result r = bmt_produce(w, 0, "t", 0, -1, 9, 0, 3 * s, 3);
        assert_int_equal(r.err, KP_ERR_NONE);
        assert_int_equal(r.base_offset, 3 * s);
        assert_int_equal(r.required_offset, 3 * s + 3);
        assert_false(r.pending);
        assert_int_equal(settled, s + 1); /* batches */
    }
    bm_partition *p = bm__partition(w->c, "t", 0);
    assert_int_equal(p->rep[0].n, 0);
    assert_int_equal(p->fold_off, 12);
    bm_produce_result r = bmt_produce(w, 0, "t", 0, -1, 9, 0, 9, 3); /* the last again */
    assert_true(r.duplicate);
    assert_int_equal(r.base_offset, 9);
    bmt_free(w);
}

static uint32_t fold_rand(uint32_t *x) {
    *x = *x * 1103515245u + 12345u;
    return (*x >> 16) & 0x7fff;
}

/* The same random script (idempotent producers with epoch bumps, a
 * transactional one committing and aborting, leader moves, crashes,
 * DeleteRecords anywhere below the HW) on a cluster that folds what
 * settles and on one that keeps every batch: the same answers and, after
 * every step, the same producer state, open transactions and aborted
 * index. */
static void a_folded_log_gives_the_producer_state_of_the_whole_log(void **state) {
    (void)state;
    bmt_world *w[2];
    dig_calls calls[2] = { { 0 }, { 0 } };
    int64_t settled = 0;
    for (int i = 0; i < 2; i++) {
        w[i] = world3(1);
        bm_cluster_set_digester(w[i]->c, test_digester, &calls[i]);
    }
    bm_cluster_set_settler(w[0]->c, fold_settle_cb, &settled);
    bm_partition *p[2] = { bm__partition(w[0]->c, "t", 0), bm__partition(w[1]->c, "t", 0) };
    uint32_t rnd = 12345;
    int32_t seq[3] = { 0, 0, 0 };
    int16_t epoch[3] = { 0, 0, 0 };
    const int64_t pids[3] = { 100, 200, 300 }; /* 300 is transactional */
    int txn_batches = 0, moves = 0, deletes = 0, aborts = 0, dups = 0;
    int fold_moves = 0, del_in_fold = 0, fold_txn_moves = 0;
    static uint8_t buf[1 << 12];
    for (int step = 0; step < 4000; step++) {
        int32_t l = info(w[0], "t", 0).leader;
        assert_int_equal(l, info(w[1], "t", 0).leader);
        uint32_t act = fold_rand(&rnd) % 100;
        if (l < 0 && act < 71)
            act = 99; /* no leader: let time pass */
        if (l >= 0 && act < 60) {
            int k = (int)(fold_rand(&rnd) % 3);
            int32_t count = 1 + (int32_t)(fold_rand(&rnd) % 3);
            int32_t s = seq[k];
            if (fold_rand(&rnd) % 10 == 0 && s > 0) /* a retry: duplicate or out of order */
                s -= 1 + (int32_t)(fold_rand(&rnd) % 8), dups++;
            if (s < 0)
                s = 0;
            if (k == 1 && fold_rand(&rnd) % 30 == 0)
                epoch[1]++, seq[1] = 0, s = 0;
            size_t n = bmt_batch(buf, sizeof buf, pids[k], epoch[k], s, count, k == 2, 8);
            bm_produce_result r[2];
            for (int i = 0; i < 2; i++)
                bm_cluster_produce(w[i]->c, l, "t", 0, 1, 7, buf, n, &r[i]);
            assert_int_equal(r[0].err, r[1].err);
            assert_int_equal(r[0].base_offset, r[1].base_offset);
            assert_int_equal(r[0].duplicate, r[1].duplicate);
            if (r[0].err == KP_ERR_NONE && !r[0].duplicate && s == seq[k]) {
                seq[k] += count;
                txn_batches += k == 2;
            }
        } else if (l >= 0 && act < 68) {
            bool commit = fold_rand(&rnd) % 2 == 0;
            for (int i = 0; i < 2; i++)
                assert_true(bm__write_marker(w[i]->c, p[i], 300, epoch[2], commit));
            aborts += !commit;
        } else if (act < 70) {
            int32_t to = (int32_t)(fold_rand(&rnd) % 3);
            for (int i = 0; i < 2; i++)
                bm_cluster_move_leader(w[i]->c, "t", 0, to, false);
            moves++;
            fold_moves += p[0]->fold_off > p[0]->log_start;
            fold_txn_moves += p[0]->nfold_txn > 0 && p[0]->fold_txn[0].last_offset >= p[0]->log_start;
        } else if (act < 71) {
            int64_t lo = p[0]->log_start, hi = p[0]->hw;
            if (hi > lo) {
                int64_t off = lo + (int64_t)(fold_rand(&rnd) % (uint32_t)(hi - lo + 1));
                del_in_fold += off < p[0]->fold_off;
                for (int i = 0; i < 2; i++)
                    assert_int_equal(bm_cluster_delete_records(w[i]->c, "t", 0, off), KP_ERR_NONE);
                deletes++;
            }
        } else if (act < 73) {
            /* a crash while all are up, else the restart of the one down */
            int32_t b = (int32_t)(fold_rand(&rnd) % 3);
            for (int32_t d = 0; d < 3; d++)
                if (!bm_cluster_broker_is_up(w[0]->c, d))
                    b = d;
            for (int i = 0; i < 2; i++) {
                if (bm_cluster_broker_is_up(w[i]->c, b))
                    bm_cluster_crash_broker(w[i]->c, b);
                else
                    bm_cluster_restart_broker(w[i]->c, b);
            }
            moves++;
            fold_moves += p[0]->fold_off > p[0]->log_start;
        } else {
            int64_t us = (int64_t)(fold_rand(&rnd) % 7) * MS;
            for (int i = 0; i < 2; i++)
                bmt_advance(w[i], us);
        }
        same_producer_state(p[0], p[1]);
        if (step % 200 == 0) {
            bmt_verify(w[0]);
            bmt_verify(w[1]);
        }
    }
    /* the script did what it claims: folding happened and the other kept
     * its whole log (from its log start) */
    assert_true(txn_batches > 20 && aborts > 10 && moves > 20 && deletes > 10 && dups > 20);
    /* rebuilds from a fold (with aborted transactions in it), deletions
     * into the folded prefix */
    assert_true(fold_moves > 50 && fold_txn_moves > 5 && del_in_fold > 10);
    assert_true(p[0]->rep[p[0]->leader].n * 4 < p[1]->rep[p[1]->leader].n);
    assert_true(settled > 500);
    bmt_free(w[0]);
    bmt_free(w[1]);
}

static void same_script_same_events(void **state) {
    (void)state;
    assert_true(script_digest() == script_digest());
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(topic_creation_assigns_replicas_round_robin),
        cmocka_unit_test(topic_names_stay_put_and_events_carry_them),
        cmocka_unit_test(followers_replicate_on_the_clock_and_hw_follows),
        cmocka_unit_test(isr_shrinks_after_lag_time_max_and_expands_when_caught_up),
        cmocka_unit_test(a_shrink_due_at_a_tick_comes_after_all_its_fetches),
        cmocka_unit_test(a_caught_up_follower_counts_from_the_last_poll_that_saw_it),
        cmocka_unit_test(lagging_follower_with_replica_lag_leaves_isr),
        cmocka_unit_test(acks_all_waits_until_the_isr_has_the_batch),
        cmocka_unit_test(min_insync_replicas_rejects_before_append_and_after),
        cmocka_unit_test(clean_election_on_crash_keeps_acknowledged_data),
        cmocka_unit_test(no_eligible_leader_without_unclean_election),
        cmocka_unit_test(unclean_election_truncates_an_acks1_write),
        cmocka_unit_test(restarted_broker_catches_up_and_rejoins_isr),
        cmocka_unit_test(controlled_move_gives_not_leader_on_the_old_broker),
        cmocka_unit_test(message_max_bytes_at_the_limit_plus_minus_one),
        cmocka_unit_test(corrupt_batches_are_rejected),
        cmocka_unit_test(partition_rejection_until_time_t_and_storage_error_by_version),
        cmocka_unit_test(chaos_errors_come_from_the_broker_stream),
        cmocka_unit_test(compressed_batches_are_validated_and_read_back),
        cmocka_unit_test(duplicate_window_is_exactly_five_batches),
        cmocka_unit_test(duplicate_as_error_answers_duplicate_sequence_number),
        cmocka_unit_test(sequence_gap_is_out_of_order),
        cmocka_unit_test(unknown_producer_id_for_unknown_pid_and_after_retention),
        cmocka_unit_test(truncation_loses_producer_state),
        cmocka_unit_test(producer_state_survives_a_clean_leader_change),
        cmocka_unit_test(digested_log_keeps_digests_through_duplicates_and_truncation),
        cmocka_unit_test(settled_records_are_handed_out_once_when_every_replica_has_them),
        cmocka_unit_test(settled_batch_blocks_are_reused_with_their_own_digests),
        cmocka_unit_test(digest_walk_takes_every_record_shape_in_order),
        cmocka_unit_test(settle_bound_counts_every_replica_of_four),
        cmocka_unit_test(a_transactional_batch_settles_with_its_marker),
        cmocka_unit_test(a_long_open_transaction_costs_the_settle_walk_linear_time),
        cmocka_unit_test(settled_batches_are_folded_and_the_window_survives_a_leader_change),
        cmocka_unit_test(a_one_replica_batch_folds_within_its_append),
        cmocka_unit_test(a_folded_log_gives_the_producer_state_of_the_whole_log),
        cmocka_unit_test(same_script_same_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
