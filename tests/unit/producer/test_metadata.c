/*
 * test_metadata.c — Cluster and Metadata (2.1.1), written from the
 * behaviours MetadataTest checks: timeToNextUpdate with backoff and max
 * age, failed updates, topic expiry, listeners, empty responses ignored,
 * close; and Cluster's leader / available / per-node views.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "acc_fixtures.h"
#include "kp_events.h"
#include "kp_metadata.h"

#define BACKOFF 100
#define MAX_AGE 1000

static kp_cluster *one_topic(const char *topic, int nparts) {
    return fx_cluster(1, topic, nparts, NULL);
}

/* A topic looked up once answers like the by-name accessors; every
 * cluster (and every seal) has its own generation. */
static void cluster_topic_handle_answers_like_the_name(void **state) {
    (void)state;
    kp_cluster *cl = kp_cluster_new();
    uint64_t g0 = kp_cluster_generation(cl);
    kp_cluster_add_node(cl, 0, "h", 1, NULL);
    kp_cluster_add_topic(cl, "a", KP_ERR_NONE, false);
    kp_cluster_add_topic(cl, "bad", KP_ERR_INVALID_TOPIC_EXCEPTION, false);
    kp_cluster_add_topic(cl, "secret", KP_ERR_TOPIC_AUTHORIZATION_FAILED, false);
    int32_t r0 = 0;
    kp_cluster_add_partition(cl, "a", 1, KP_NO_LEADER, 0, &r0, 1, &r0, 1, NULL, 0, KP_ERR_NONE);
    kp_cluster_add_partition(cl, "a", 0, 0, 0, &r0, 1, &r0, 1, NULL, 0, KP_ERR_NONE);
    kp_cluster_seal(cl);
    assert_true(kp_cluster_generation(cl) != g0);
    kp_cluster *other = kp_cluster_new();
    assert_true(kp_cluster_generation(other) != kp_cluster_generation(cl));
    kp_cluster_destroy(other);

    const kp_cluster_topic *a = kp_cluster_topic_find(cl, "a");
    assert_non_null(a);
    assert_int_equal(kp_cluster_topic_partition_count(a), kp_cluster_partition_count(cl, "a"));
    assert_int_equal(kp_cluster_topic_partition_count(a), 2);
    const kp_partition_info *const *av;
    assert_int_equal(kp_cluster_topic_available_partitions(cl, a, &av), 1);
    assert_int_equal(av[0]->partition, 0);
    assert_false(kp_cluster_topic_has_error(a, KP_ERR_INVALID_TOPIC_EXCEPTION));
    assert_true(kp_cluster_topic_has_error(kp_cluster_topic_find(cl, "bad"), KP_ERR_INVALID_TOPIC_EXCEPTION));
    assert_true(kp_cluster_topic_invalid(cl, "bad"));
    assert_true(kp_cluster_topic_has_error(kp_cluster_topic_find(cl, "secret"),
                                           KP_ERR_TOPIC_AUTHORIZATION_FAILED));
    assert_int_equal(kp_cluster_topic_partition_count(kp_cluster_topic_find(cl, "bad")), -1);
    const kp_cluster_topic *none = kp_cluster_topic_find(cl, "nope");
    assert_null(none);
    assert_int_equal(kp_cluster_topic_partition_count(none), -1);
    assert_false(kp_cluster_topic_has_error(none, KP_ERR_INVALID_TOPIC_EXCEPTION));
    assert_int_equal(kp_cluster_topic_available_partitions(cl, none, &av), 0);
    assert_null(av);
    kp_cluster_destroy(cl);
}

static void metadata_starts_empty_at_version_zero(void **state) {
    (void)state;
    kp_metadata *md = kp_metadata_new(BACKOFF, MAX_AGE, true, NULL);
    assert_int_equal(kp_metadata_version(md), 0);
    assert_int_equal(kp_cluster_node_count(kp_metadata_fetch(md)), 0);
    assert_int_equal(kp_cluster_partition_count(kp_metadata_fetch(md), "t"), -1);
    assert_false(kp_metadata_update_requested(md));
    /* lastSuccessfulRefresh 0 + max age 1000: expires at 1000 */
    assert_int_equal(kp_metadata_time_to_next_update(md, 0), MAX_AGE);
    assert_int_equal(kp_metadata_time_to_next_update(md, 400), MAX_AGE - 400);
    assert_int_equal(kp_metadata_time_to_next_update(md, 5000), 0);
    kp_metadata_destroy(md);
}

/* MetadataTest.testTimeToNextUpdate / _RetryBackoff */
static void metadata_time_to_next_update_honours_backoff_and_age(void **state) {
    (void)state;
    kp_metadata *md = kp_metadata_new(BACKOFF, MAX_AGE, true, NULL);
    int64_t now = 10000;
    assert_true(kp_metadata_update(md, one_topic("t", 1), now));
    assert_int_equal(kp_metadata_time_to_next_update(md, now), MAX_AGE);
    assert_int_equal(kp_metadata_time_to_next_update(md, now + 999), 1);
    assert_int_equal(kp_metadata_request_update(md, now + 10), 1);
    assert_true(kp_metadata_update_requested(md));
    /* forced, but backoff after the last refresh still applies */
    assert_int_equal(kp_metadata_time_to_next_update(md, now + 10), BACKOFF - 10);
    assert_int_equal(kp_metadata_time_to_next_update(md, now + BACKOFF), 0);
    assert_int_equal(kp_metadata_time_to_allow_update(md, now + 50), 50);
    kp_metadata_destroy(md);
}

/* kp_metadata_generation_ref reads, in place, the current cluster's
 * generation: from creation on, new with every cluster that becomes
 * current, unchanged by an update that is refused. */
static void metadata_generation_ref_follows_the_current_cluster(void **state) {
    (void)state;
    kp_metadata *md = kp_metadata_new(BACKOFF, MAX_AGE, true, NULL);
    const uint64_t *gen = kp_metadata_generation_ref(md);
    assert_int_equal(*gen, kp_cluster_generation(kp_metadata_fetch(md)));
    uint64_t g0 = *gen;
    assert_true(kp_metadata_update(md, one_topic("t", 3), 20));
    assert_int_equal(*gen, kp_cluster_generation(kp_metadata_fetch(md)));
    assert_true(*gen != g0);
    uint64_t g1 = *gen;
    assert_false(kp_metadata_update(md, kp_cluster_new(), 30)); /* no nodes: ignored */
    assert_int_equal(*gen, g1);
    assert_int_equal(*gen, kp_cluster_generation(kp_metadata_fetch(md)));
    assert_true(kp_metadata_update(md, one_topic("t", 4), 40));
    assert_int_equal(*gen, kp_cluster_generation(kp_metadata_fetch(md)));
    assert_true(*gen != g1);
    kp_metadata_destroy(md);
}

static void metadata_update_bumps_version_and_clears_need(void **state) {
    (void)state;
    kp_metadata *md = kp_metadata_new(BACKOFF, MAX_AGE, true, NULL);
    int32_t v = kp_metadata_request_update(md, 5);
    assert_int_equal(v, 0);
    assert_true(kp_metadata_update(md, one_topic("t", 3), 20));
    assert_int_equal(kp_metadata_version(md), 1);
    assert_false(kp_metadata_update_requested(md));
    assert_int_equal(kp_metadata_last_refresh(md), 20);
    assert_int_equal(kp_metadata_last_successful_update(md), 20);
    assert_int_equal(kp_cluster_partition_count(kp_metadata_fetch(md), "t"), 3);
    assert_true(kp_metadata_update(md, one_topic("t", 4), 30));
    assert_int_equal(kp_metadata_version(md), 2);
    assert_int_equal(kp_cluster_partition_count(kp_metadata_fetch(md), "t"), 4);
    kp_metadata_destroy(md);
}

/* MetadataTest.testFailedUpdate */
/* requestUpdateForNewTopics means "refresh now" even at the very start of
 * the clock (kpsim's time begins at 0, Java's lastRefreshMs = 0 is 1970). */
static void metadata_new_topic_at_time_zero_updates_at_once(void **state) {
    (void)state;
    kp_metadata *md = kp_metadata_new(BACKOFF, MAX_AGE, true, NULL);
    kp_metadata_update(md, one_topic("x", 1), 0); /* the bootstrap update at t=0 */
    kp_metadata_add(md, "a", 0);
    assert_int_equal(kp_metadata_time_to_allow_update(md, 0), 0);
    assert_int_equal(kp_metadata_time_to_next_update(md, 0), 0);
    kp_metadata_destroy(md);
}

/* kp_metadata_add_h: the same topic set as kp_metadata_add (a name added
 * either way is one topic); a hint filled in by one call finds that topic
 * again without its name, and a hint from before an expiry that moved the
 * topics is not trusted: the topic it named is gone, another sits at its
 * index, and the add must still reach (and re-add) the named topic. */
static void metadata_add_h_finds_the_topic_through_its_hint(void **state) {
    (void)state;
    kp_metadata *md = kp_metadata_new(BACKOFF, MAX_AGE, true, NULL);
    kp_hint ha = KP_HINT_NONE, hb = KP_HINT_NONE;
    kp_metadata_add_h(md, "a", 0, &ha);
    kp_metadata_add(md, "a", 0);
    kp_metadata_add_h(md, "a", 0, &ha);
    kp_metadata_add_h(md, "b", 0, &hb);
    assert_int_equal(kp_metadata_topic_count(md), 2);
    assert_int_not_equal(ha.gen, 0);
    assert_int_equal(ha.ix, 0);
    assert_int_equal(hb.ix, 1);
    /* b stays in use, a expires: b moves to index 0 */
    kp_metadata_update(md, one_topic("b", 1), 1000);
    kp_metadata_add_h(md, "b", 1000 + KP_TOPIC_EXPIRY_MS - 1, &hb);
    kp_metadata_update(md, one_topic("b", 1), 1000 + KP_TOPIC_EXPIRY_MS);
    assert_int_equal(kp_metadata_topic_count(md), 1);
    assert_string_equal(kp_metadata_topic_at(md, 0), "b");
    /* the old hint for a names index 0 (now b): a is added anew */
    kp_metadata_add_h(md, "a", 1000 + KP_TOPIC_EXPIRY_MS, &ha);
    assert_int_equal(kp_metadata_topic_count(md), 2);
    assert_string_equal(kp_metadata_topic_at(md, 1), "a");
    assert_int_equal(ha.ix, 1);
    /* and b's hint, renewed, finds b */
    kp_metadata_add_h(md, "b", 1000 + KP_TOPIC_EXPIRY_MS, &hb);
    assert_int_equal(hb.ix, 0);
    assert_int_equal(kp_metadata_topic_count(md), 2);
    kp_metadata_destroy(md);
}

static void metadata_failed_update_only_moves_last_refresh(void **state) {
    (void)state;
    kp_metadata *md = kp_metadata_new(BACKOFF, MAX_AGE, true, NULL);
    kp_metadata_update(md, one_topic("t", 1), 100);
    kp_metadata_request_update(md, 200);
    kp_metadata_failed_update(md, 300, KP_ERR_NONE);
    assert_int_equal(kp_metadata_version(md), 1);
    assert_int_equal(kp_metadata_last_refresh(md), 300);
    assert_int_equal(kp_metadata_last_successful_update(md), 100);
    assert_true(kp_metadata_update_requested(md));
    assert_int_equal(kp_metadata_time_to_next_update(md, 300), BACKOFF);
    assert_int_equal(kp_metadata_time_to_next_update(md, 400), 0);
    assert_int_equal(kp_metadata_take_auth_error(md), KP_ERR_NONE);
    kp_metadata_failed_update(md, 500, KP_ERR_SASL_AUTHENTICATION_FAILED);
    assert_int_equal(kp_metadata_take_auth_error(md), KP_ERR_SASL_AUTHENTICATION_FAILED);
    assert_int_equal(kp_metadata_take_auth_error(md), KP_ERR_NONE); /* cleared */
    kp_metadata_destroy(md);
}

/* NetworkClient 2.1: a response without nodes is ignored (failedUpdate) */
static void metadata_empty_nodes_response_is_a_failed_update(void **state) {
    (void)state;
    fx_events ev = { 0 };
    kp_observer obs = { fx_on_event, &ev };
    kp_metadata *md = kp_metadata_new(BACKOFF, MAX_AGE, true, &obs);
    kp_metadata_update(md, one_topic("t", 2), 100);
    kp_cluster *empty = kp_cluster_new();
    kp_cluster_add_topic(empty, "t", KP_ERR_LEADER_NOT_AVAILABLE, false);
    assert_false(kp_metadata_update(md, empty, 700));
    assert_int_equal(kp_metadata_version(md), 1);
    assert_int_equal(kp_metadata_last_refresh(md), 700);
    assert_int_equal(kp_metadata_last_successful_update(md), 100);
    assert_int_equal(kp_cluster_partition_count(kp_metadata_fetch(md), "t"), 2); /* kept */
    assert_int_equal(ev.count[KP_EV_METADATA_UPDATE_FAILED], 1);
    assert_int_equal(ev.count[KP_EV_METADATA_UPDATED], 1);
    kp_metadata_destroy(md);
}

/* MetadataTest.testTopicExpiry */
static void metadata_unused_topics_expire_at_the_next_update(void **state) {
    (void)state;
    kp_metadata *md = kp_metadata_new(BACKOFF, MAX_AGE, true, NULL);
    int64_t t0 = 1000;
    kp_metadata_add(md, "a", t0);
    assert_true(kp_metadata_update_requested(md));
    assert_int_equal(kp_metadata_time_to_next_update(md, t0), 0); /* new topic: update at once */
    kp_metadata_update(md, one_topic("a", 1), t0);
    assert_true(kp_metadata_contains_topic(md, "a"));
    /* not used for TOPIC_EXPIRY_MS: gone at the next update after that */
    kp_metadata_update(md, one_topic("a", 1), t0 + KP_TOPIC_EXPIRY_MS - 1);
    assert_true(kp_metadata_contains_topic(md, "a"));
    kp_metadata_update(md, one_topic("a", 1), t0 + KP_TOPIC_EXPIRY_MS);
    assert_false(kp_metadata_contains_topic(md, "a"));
    /* a used topic is kept: add() resets its expiry */
    kp_metadata_add(md, "b", t0);
    kp_metadata_update(md, one_topic("b", 1), t0);
    kp_metadata_add(md, "b", t0 + 200000);
    kp_metadata_update(md, one_topic("b", 1), t0 + 200000);
    kp_metadata_update(md, one_topic("b", 1), t0 + 400000);
    assert_true(kp_metadata_contains_topic(md, "b"));
    kp_metadata_update(md, one_topic("b", 1), t0 + 200000 + KP_TOPIC_EXPIRY_MS);
    assert_false(kp_metadata_contains_topic(md, "b"));
    kp_metadata_destroy(md);

    /* without expiry (consumer-style) topics stay */
    kp_metadata *keep = kp_metadata_new(BACKOFF, MAX_AGE, false, NULL);
    kp_metadata_add(keep, "a", 0);
    kp_metadata_update(keep, one_topic("a", 1), 0);
    kp_metadata_update(keep, one_topic("a", 1), 10 * KP_TOPIC_EXPIRY_MS);
    assert_true(kp_metadata_contains_topic(keep, "a"));
    kp_metadata_destroy(keep);
}

static void metadata_topics_keep_first_use_order(void **state) {
    (void)state;
    kp_metadata *md = kp_metadata_new(BACKOFF, MAX_AGE, true, NULL);
    kp_metadata_add(md, "zeta", 0);
    kp_metadata_add(md, "alpha", 0);
    kp_metadata_add(md, "zeta", 0);
    kp_metadata_add(md, "mid", 0);
    assert_int_equal(kp_metadata_topic_count(md), 3);
    assert_string_equal(kp_metadata_topic_at(md, 0), "zeta");
    assert_string_equal(kp_metadata_topic_at(md, 1), "alpha");
    assert_string_equal(kp_metadata_topic_at(md, 2), "mid");
    kp_metadata_destroy(md);
}

static int listener_calls;
static int32_t listener_seen_count;
static void listener(void *ctx, const kp_cluster *cl) {
    (void)ctx;
    listener_calls++;
    listener_seen_count = kp_cluster_partition_count(cl, "t");
}

static void metadata_listeners_see_each_update_and_close_stops_updates(void **state) {
    (void)state;
    listener_calls = 0;
    kp_metadata *md = kp_metadata_new(BACKOFF, MAX_AGE, true, NULL);
    assert_int_equal(kp_metadata_add_listener(md, listener, NULL), KP_ERR_NONE);
    kp_metadata_update(md, one_topic("t", 6), 1);
    assert_int_equal(listener_calls, 1);
    assert_int_equal(listener_seen_count, 6);
    kp_metadata_close(md);
    assert_true(kp_metadata_is_closed(md));
    assert_false(kp_metadata_update(md, one_topic("t", 7), 2)); /* after close: ignored */
    assert_int_equal(listener_calls, 1);
    assert_int_equal(kp_metadata_version(md), 1);
    kp_metadata_destroy(md);
}

static void cluster_leaders_available_and_per_node_views(void **state) {
    (void)state;
    kp_cluster *cl = kp_cluster_new();
    kp_cluster_add_node(cl, 1, "b1", 9092, "rack-a");
    kp_cluster_add_node(cl, 2, "b2", 9092, NULL);
    kp_cluster_add_topic(cl, "t", KP_ERR_NONE, false);
    kp_cluster_add_topic(cl, "u", KP_ERR_NONE, false);
    int32_t r12[] = { 1, 2 }, r2[] = { 2 };
    /* added out of id order; leader 9 is not a known node */
    kp_cluster_add_partition(cl, "t", 2, 2, 7, r12, 2, r2, 1, NULL, 0, KP_ERR_NONE);
    kp_cluster_add_partition(cl, "t", 0, 1, 3, r12, 2, r12, 2, NULL, 0, KP_ERR_NONE);
    kp_cluster_add_partition(cl, "u", 0, 2, 1, r2, 1, r2, 1, NULL, 0, KP_ERR_NONE);
    kp_cluster_add_partition(cl, "t", 1, 9, 0, r12, 2, r12, 2, r2, 1, KP_ERR_LEADER_NOT_AVAILABLE);
    assert_int_equal(kp_cluster_add_partition(cl, "t", 1, 1, 0, NULL, 0, NULL, 0, NULL, 0, KP_ERR_NONE),
                     KP_ERR__INVALID_ARG); /* duplicate */
    kp_cluster_seal(cl);
    assert_int_equal(kp_cluster_add_node(cl, 3, "x", 1, NULL), KP_ERR__STATE);
    assert_int_equal(kp_cluster_partition_count(cl, "t"), 3);
    assert_int_equal(kp_cluster_leader_for(cl, "t", 0), 1);
    assert_int_equal(kp_cluster_leader_for(cl, "t", 1), KP_NO_LEADER);
    assert_int_equal(kp_cluster_leader_for(cl, "t", 2), 2);
    assert_int_equal(kp_cluster_leader_for(cl, "t", 3), KP_NO_LEADER);
    const kp_partition_info *pi = kp_cluster_partition(cl, "t", 2);
    assert_int_equal(pi->leader_epoch, 7);
    assert_int_equal(pi->replica_count, 2);
    assert_int_equal(pi->isr_count, 1);
    assert_string_equal(pi->topic, "t");
    assert_int_equal(kp_cluster_partition(cl, "t", 1)->offline_count, 1);
    const kp_partition_info *const *parts;
    assert_int_equal(kp_cluster_partitions_for_topic(cl, "t", &parts), 3);
    assert_int_equal(parts[0]->partition, 0);
    assert_int_equal(parts[1]->partition, 1);
    assert_int_equal(parts[2]->partition, 2);
    assert_int_equal(kp_cluster_available_partitions(cl, "t", &parts), 2);
    assert_int_equal(parts[0]->partition, 0);
    assert_int_equal(parts[1]->partition, 2);
    const kp_tp *tps;
    /* partitionsForNode: in the order the partitions were added */
    assert_int_equal(kp_cluster_partitions_for_node(cl, 2, &tps), 2);
    assert_string_equal(tps[0].topic, "t");
    assert_int_equal(tps[0].partition, 2);
    assert_string_equal(tps[1].topic, "u");
    assert_int_equal(tps[1].partition, 0);
    assert_int_equal(kp_cluster_partitions_for_node(cl, 1, &tps), 1);
    assert_int_equal(kp_cluster_partitions_for_node(cl, 5, &tps), 0);
    assert_string_equal(kp_cluster_node_by_id(cl, 1)->rack, "rack-a");
    assert_null(kp_cluster_node_by_id(cl, 2)->rack);
    kp_cluster_destroy(cl);
}

static void cluster_topic_errors_unauthorized_and_invalid(void **state) {
    (void)state;
    kp_cluster *cl = kp_cluster_new();
    kp_cluster_add_node(cl, 0, "b0", 9092, NULL);
    kp_cluster_add_topic(cl, "secret", KP_ERR_TOPIC_AUTHORIZATION_FAILED, false);
    kp_cluster_add_topic(cl, "bad topic!", KP_ERR_INVALID_TOPIC_EXCEPTION, false);
    kp_cluster_add_topic(cl, "new", KP_ERR_LEADER_NOT_AVAILABLE, false);
    kp_cluster_add_partition(cl, "new", 0, 0, 0, NULL, 0, NULL, 0, NULL, 0, KP_ERR_NONE);
    kp_cluster_add_topic(cl, "__consumer_offsets", KP_ERR_NONE, true);
    kp_cluster_seal(cl);
    assert_true(kp_cluster_topic_unauthorized(cl, "secret"));
    assert_false(kp_cluster_topic_invalid(cl, "secret"));
    assert_true(kp_cluster_topic_invalid(cl, "bad topic!"));
    assert_int_equal(kp_cluster_topic_error(cl, "new"), KP_ERR_LEADER_NOT_AVAILABLE);
    assert_int_equal(kp_cluster_partition_count(cl, "new"), -1); /* errored topic: no partitions */
    assert_int_equal(kp_cluster_topic_error(cl, "absent"), KP_ERR__NOENT);
    assert_true(kp_cluster_topic_is_internal(cl, "__consumer_offsets"));
    assert_int_equal(kp_cluster_partition_count(cl, "__consumer_offsets"), -1);
    kp_cluster_destroy(cl);
}

static void metadata_bootstrap_parses_servers(void **state) {
    (void)state;
    kp_metadata *md = kp_metadata_new(BACKOFF, MAX_AGE, true, NULL);
    assert_int_equal(kp_metadata_bootstrap(md, " h1:9092, [::1]:9093,h3:1 ", 0), KP_ERR_NONE);
    const kp_cluster *cl = kp_metadata_fetch(md);
    assert_true(kp_cluster_is_bootstrap(cl));
    assert_int_equal(kp_cluster_node_count(cl), 3);
    assert_int_equal(kp_cluster_node_at(cl, 0)->id, -1);
    assert_string_equal(kp_cluster_node_at(cl, 1)->host, "::1");
    assert_int_equal(kp_cluster_node_at(cl, 1)->port, 9093);
    assert_int_equal(kp_cluster_node_at(cl, 2)->id, -3);
    assert_int_equal(kp_metadata_version(md), 1);
    assert_int_equal(kp_metadata_bootstrap(md, "nohostport", 0), KP_ERR__CONFIG);
    assert_int_equal(kp_metadata_bootstrap(md, "h:70000", 0), KP_ERR__CONFIG);
    assert_int_equal(kp_metadata_bootstrap(md, "", 0), KP_ERR__CONFIG);
    assert_int_equal(kp_metadata_version(md), 1);
    kp_metadata_destroy(md);
}

static void metadata_need_all_topics_keeps_only_known_topics(void **state) {
    (void)state;
    kp_metadata *md = kp_metadata_new(BACKOFF, MAX_AGE, true, NULL);
    kp_metadata_add(md, "keep", 0);
    kp_metadata_update(md, one_topic("keep", 1), 0);
    kp_metadata_set_need_all_topics(md, true);
    assert_true(kp_metadata_update_requested(md));
    kp_cluster *cl = kp_cluster_new();
    kp_cluster_add_node(cl, 0, "b", 1, NULL);
    kp_cluster_add_topic(cl, "keep", KP_ERR_NONE, false);
    kp_cluster_add_partition(cl, "keep", 0, 0, 0, NULL, 0, NULL, 0, NULL, 0, KP_ERR_NONE);
    kp_cluster_add_topic(cl, "other", KP_ERR_NONE, false);
    kp_cluster_add_partition(cl, "other", 0, 0, 0, NULL, 0, NULL, 0, NULL, 0, KP_ERR_NONE);
    kp_metadata_update(md, cl, 10);
    assert_false(kp_metadata_update_requested(md));
    assert_int_equal(kp_cluster_partition_count(kp_metadata_fetch(md), "keep"), 1);
    assert_int_equal(kp_cluster_partition_count(kp_metadata_fetch(md), "other"), -1);
    kp_metadata_destroy(md);
}

static void metadata_events_name_each_step(void **state) {
    (void)state;
    fx_events ev = { 0 };
    kp_observer obs = { fx_on_event, &ev };
    kp_metadata *md = kp_metadata_new(BACKOFF, MAX_AGE, true, &obs);
    kp_metadata_add(md, "t", 0);
    kp_metadata_request_update(md, 1);
    kp_metadata_update(md, one_topic("t", 1), 2);
    kp_metadata_update(md, one_topic("t", 1), 2 + KP_TOPIC_EXPIRY_MS);
    assert_int_equal(ev.count[KP_EV_METADATA_TOPIC_ADDED], 1);
    assert_int_equal(ev.count[KP_EV_METADATA_UPDATE_REQUESTED], 2);
    assert_int_equal(ev.count[KP_EV_METADATA_UPDATED], 2);
    assert_int_equal(ev.count[KP_EV_METADATA_TOPIC_EXPIRED], 1);
    assert_string_equal(kp_event_kind_name(KP_EV_METADATA_UPDATED), "metadata_updated");
    assert_null(kp_event_kind_name(99));
    kp_metadata_destroy(md);
}

/* MetadataTest.testTimeToNextUpdate_OverwriteBackoff: a new topic asks for
 * an update at once, even inside the refresh backoff. */
static void metadata_new_topic_overrides_the_backoff(void **state) {
    (void)state;
    kp_metadata *md = kp_metadata_new(BACKOFF, MAX_AGE, true, NULL);
    int64_t now = 10000;
    kp_metadata_add(md, "a", now);
    kp_metadata_update(md, one_topic("a", 1), now);
    kp_metadata_request_update(md, now);
    assert_int_equal(kp_metadata_time_to_next_update(md, now), BACKOFF);
    kp_metadata_add(md, "a", now); /* known topic: backoff still applies */
    assert_int_equal(kp_metadata_time_to_next_update(md, now), BACKOFF);
    kp_metadata_add(md, "b", now); /* new topic: now */
    assert_int_equal(kp_metadata_time_to_next_update(md, now), 0);
    assert_true(kp_metadata_update_requested(md));
    kp_metadata_destroy(md);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(metadata_starts_empty_at_version_zero),
        cmocka_unit_test(metadata_add_h_finds_the_topic_through_its_hint),
        cmocka_unit_test(cluster_topic_handle_answers_like_the_name),
        cmocka_unit_test(metadata_time_to_next_update_honours_backoff_and_age),
        cmocka_unit_test(metadata_update_bumps_version_and_clears_need),
        cmocka_unit_test(metadata_generation_ref_follows_the_current_cluster),
        cmocka_unit_test(metadata_failed_update_only_moves_last_refresh),
        cmocka_unit_test(metadata_new_topic_at_time_zero_updates_at_once),
        cmocka_unit_test(metadata_empty_nodes_response_is_a_failed_update),
        cmocka_unit_test(metadata_unused_topics_expire_at_the_next_update),
        cmocka_unit_test(metadata_topics_keep_first_use_order),
        cmocka_unit_test(metadata_listeners_see_each_update_and_close_stops_updates),
        cmocka_unit_test(cluster_leaders_available_and_per_node_views),
        cmocka_unit_test(cluster_topic_errors_unauthorized_and_invalid),
        cmocka_unit_test(metadata_bootstrap_parses_servers),
        cmocka_unit_test(metadata_need_all_topics_keeps_only_known_topics),
        cmocka_unit_test(metadata_events_name_each_step),
        cmocka_unit_test(metadata_new_topic_overrides_the_backoff),
    };
    return cmocka_run_group_tests_name("metadata", tests, NULL, NULL);
}
