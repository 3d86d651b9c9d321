/*
 * test_partitioner.c — DefaultPartitioner 2.1.1 (DefaultPartitionerTest:
 * keyed stays on murmur2 % all partitions, keyless round-robins over the
 * available partitions, per-topic counters) and the sticky knob.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "acc_fixtures.h"
#include "kp_events.h"
#include "kp_murmur2.h"
#include "kp_partitioner.h"

static const kp_slice NOKEY = { NULL, -1 };

static void partitioner_keyed_uses_murmur2_over_all_partitions(void **state) {
    (void)state;
    /* partitions 0 and 2 have no leader: keyed choice ignores availability */
    int32_t leaders[12] = { -1, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    kp_cluster *cl = fx_cluster(1, "t", 12, leaders);
    kp_rng rng = kp_rng_stream(1, "producer");
    kp_partitioner *p = kp_partitioner_new(KP_PARTITIONER_DEFAULT, &rng, NULL);
    kp_err err;
    /* KAFKA_FACTS: "test" -> 11 for N=12, "key1" -> 8, "" -> 9, "a" -> 4 */
    assert_int_equal(kp_partitioner_partition(p, cl, "t", -1, fx_s("test"), 0, &err), 11);
    assert_int_equal(kp_partitioner_partition(p, cl, "t", -1, fx_s("key1"), 0, &err), 8);
    assert_int_equal(kp_partitioner_partition(p, cl, "t", -1, fx_s(""), 0, &err), 9);
    assert_int_equal(kp_partitioner_partition(p, cl, "t", -1, fx_s("a"), 0, &err), 4);
    /* the same key always lands on the same partition */
    for (int i = 0; i < 5; i++)
        assert_int_equal(kp_partitioner_partition(p, cl, "t", -1, fx_s("key"), 0, &err), 1);
    kp_partitioner_destroy(p);
    kp_cluster_destroy(cl);
}

static void partitioner_explicit_partition_wins(void **state) {
    (void)state;
    kp_cluster *cl = fx_cluster(1, "t", 3, NULL);
    kp_rng rng = kp_rng_stream(1, "producer");
    kp_partitioner *p = kp_partitioner_new(KP_PARTITIONER_DEFAULT, &rng, NULL);
    kp_err err;
    assert_int_equal(kp_partitioner_partition(p, cl, "t", 2, fx_s("test"), 0, &err), 2);
    assert_int_equal(kp_partitioner_partition(p, cl, "t", 0, NOKEY, 0, &err), 0);
    assert_false(kp_partitioner_peek(p, "t", &(int32_t){ 0 })); /* no counter used */
    kp_partitioner_destroy(p);
    kp_cluster_destroy(cl);
}

/* kp_partitioner_round_robin_v (the producer's keyless entry) answers and
 * emits what kp_partitioner_partition_v does for a keyless record: two
 * partitioners on the same PRNG stream, one asked through each, agree
 * record by record over two topics (the random start drawn on each
 * topic's first use, in the same order), with all partitions available,
 * some, and none (then over all of them), through a hint and without. */
static void partitioner_round_robin_entry_matches_the_general_one(void **state) {
    (void)state;
    int32_t some[7] = { 0, -1, 0, -1, 0, -1, 0 }, none[7] = { -1, -1, -1, -1, -1, -1, -1 };
    kp_cluster *cls[3] = { fx_cluster(1, "t", 5, NULL), fx_cluster(1, "t", 5, some), fx_cluster(1, "t", 5, none) };
    kp_cluster *us[3] = { fx_cluster(1, "u", 7, NULL), fx_cluster(1, "u", 7, some), fx_cluster(1, "u", 7, none) };
    kp_rng ra = kp_rng_stream(3, "producer"), rb = kp_rng_stream(3, "producer");
    fx_events ea, eb;
    memset(&ea, 0, sizeof ea);
    memset(&eb, 0, sizeof eb);
    kp_observer oa = { fx_on_event, &ea }, ob = { fx_on_event, &eb };
    kp_partitioner *a = kp_partitioner_new(KP_PARTITIONER_DEFAULT, &ra, &oa);
    kp_partitioner *b = kp_partitioner_new(KP_PARTITIONER_DEFAULT, &rb, &ob);
    kp_hint ha[2] = { KP_HINT_NONE, KP_HINT_NONE }, hb[2] = { KP_HINT_NONE, KP_HINT_NONE };
    for (int i = 0; i < 60; i++) {
        int k = (i / 20) % 3, ti = i % 2 == 0 || i > 40 ? 0 : 1;
        const char *topic = ti ? "u" : "t";
        const kp_cluster *cl = ti ? us[k] : cls[k];
        kp_part_view v;
        kp_part_view_of(&v, cl, kp_cluster_topic_find(cl, topic));
        assert_true(v.count > 0);
        kp_err err = KP_ERR__STATE;
        bool hinted = i % 3 != 0;
        int32_t pa = kp_partitioner_round_robin_v(a, &v, topic, hinted ? &ha[ti] : NULL, i);
        int32_t pb = kp_partitioner_partition_v(b, &v, topic, hinted ? &hb[ti] : NULL, -1, NOKEY, i, &err);
        assert_int_equal(err, KP_ERR_NONE);
        assert_true(pa >= 0 && pa < v.count);
        assert_int_equal(pa, pb);
        assert_int_equal(ea.total, eb.total);
        assert_int_equal(ea.count[KP_EV_PARTITION_CHOSEN], i + 1);
    }
    int32_t ca = -1, cb = -2;
    assert_true(kp_partitioner_peek(a, "u", &ca));
    assert_true(kp_partitioner_peek(b, "u", &cb));
    assert_int_equal(ca, cb);
    kp_partitioner_destroy(a);
    kp_partitioner_destroy(b);
    for (int k = 0; k < 3; k++) {
        kp_cluster_destroy(cls[k]);
        kp_cluster_destroy(us[k]);
    }
}

/* A caller's hint (partition_in's `hint`) reaches the same per-topic
 * counter as the name (the same round-robin sequence), and once filled in
 * it alone finds the state: the name passed with it is not read again (a
 * hint belongs to one topic, so a different name with it still counts on
 * the first topic's state). */
static void partitioner_hint_shares_the_topic_state(void **state) {
    (void)state;
    kp_cluster *cl = fx_cluster(1, "t", 3, NULL);
    const kp_cluster_topic *ct = kp_cluster_topic_find(cl, "t");
    kp_rng r1 = kp_rng_stream(5, "producer"), r2 = kp_rng_stream(5, "producer");
    kp_partitioner *a = kp_partitioner_new(KP_PARTITIONER_DEFAULT, &r1, NULL);
    kp_partitioner *b = kp_partitioner_new(KP_PARTITIONER_DEFAULT, &r2, NULL);
    kp_hint h = KP_HINT_NONE;
    kp_err err;
    for (int i = 0; i < 7; i++) {
        kp_hint *via = i % 3 == 2 ? NULL : &h; /* mixed: one state */
        int32_t x = kp_partitioner_partition_in(a, cl, ct, "t", via, -1, NOKEY, 0, &err);
        int32_t y = kp_partitioner_partition(b, cl, "t", -1, NOKEY, 0, &err);
        assert_int_equal(x, y);
    }
    assert_int_not_equal(h.gen, 0);
    int32_t before, after;
    assert_true(kp_partitioner_peek(a, "t", &before));
    kp_partitioner_partition_in(a, cl, ct, "u", &h, -1, NOKEY, 0, &err);
    assert_true(kp_partitioner_peek(a, "t", &after));
    assert_int_equal(after, before + 1);
    assert_false(kp_partitioner_peek(a, "u", &(int32_t){ 0 }));
    kp_partitioner_destroy(a);
    kp_partitioner_destroy(b);
    kp_cluster_destroy(cl);
}

/* DefaultPartitionerTest.testRoundRobinWithUnavailablePartitions */
static void partitioner_keyless_round_robin_over_available(void **state) {
    (void)state;
    int32_t leaders[3] = { 0, -1, 0 }; /* partition 1 has no leader */
    kp_cluster *cl = fx_cluster(1, "t", 3, leaders);
    kp_rng rng = kp_rng_stream(42, "producer");
    kp_partitioner *p = kp_partitioner_new(KP_PARTITIONER_DEFAULT, &rng, NULL);
    kp_err err;
    int count[3] = { 0 };
    for (int i = 0; i < 100; i++) {
        int32_t part = kp_partitioner_partition(p, cl, "t", -1, NOKEY, 0, &err);
        assert_in_range(part, 0, 2);
        count[part]++;
    }
    assert_int_equal(count[1], 0);
    assert_int_equal(count[0], 50);
    assert_int_equal(count[2], 50);
    kp_partitioner_destroy(p);
    kp_cluster_destroy(cl);
}

static void partitioner_no_available_partition_falls_back_to_all(void **state) {
    (void)state;
    int32_t leaders[4] = { -1, -1, -1, -1 };
    kp_cluster *cl = fx_cluster(1, "t", 4, leaders);
    kp_rng rng = kp_rng_stream(7, "producer");
    kp_partitioner *p = kp_partitioner_new(KP_PARTITIONER_DEFAULT, &rng, NULL);
    kp_err err;
    int32_t first = kp_partitioner_partition(p, cl, "t", -1, NOKEY, 0, &err);
    for (int i = 1; i < 8; i++)
        assert_int_equal(kp_partitioner_partition(p, cl, "t", -1, NOKEY, 0, &err), (first + i) % 4);
    kp_partitioner_destroy(p);
    kp_cluster_destroy(cl);
}

/* The inverse of an odd a modulo 2^64 (Newton's iteration). */
static uint64_t inv_odd(uint64_t a) {
    uint64_t x = a; /* right to 3 bits */
    for (int i = 0; i < 6; i++)
        x *= 2 - a * x;
    return x;
}

/* A pick carries its remainder to the next one instead of dividing (the
 * counter moves by one): the carried remainder must restart where the
 * counter's positive part wraps to 0 (past INT32_MAX and past UINT32_MAX)
 * and when the count of partitions it is over changes, also to the same
 * count of different partitions. The PRNG state is set so that the
 * counter's random start is just below each wrap. */
static void partitioner_round_robin_across_counter_wraps_and_views(void **state) {
    (void)state;
    int32_t some[5] = { 0, -1, 0, -1, 0 }, none[5] = { -1, -1, -1, -1, -1 };
    kp_cluster *cls[4] = { fx_cluster(1, "t", 3, NULL), fx_cluster(1, "t", 5, some), fx_cluster(1, "t", 5, none),
                           fx_cluster(1, "t", 5, NULL) };
    const uint32_t starts[2] = { 0x7ffffff3u, 0xfffffff1u };
    for (int s = 0; s < 2; s++) {
        /* kp_rng_u64 = rotl(s1 * 5, 7) * 9: its top half is the start */
        uint64_t want = (uint64_t)starts[s] << 32, x = want * inv_odd(9);
        kp_rng rng = kp_rng_stream(11, "producer");
        rng.s[1] = ((x >> 7) | (x << 57)) * inv_odd(5);
        kp_rng probe = rng;
        assert_int_equal(kp_rng_u32(&probe), starts[s]);
        kp_partitioner *p = kp_partitioner_new(KP_PARTITIONER_DEFAULT, &rng, NULL);
        kp_hint h = KP_HINT_NONE;
        for (uint32_t i = 0; i < 48; i++) {
            /* views in runs of 1 to 6 picks */
            const kp_cluster *cl = cls[(i * i / 7 + i / 5) % 4];
            kp_part_view v;
            kp_part_view_of(&v, cl, kp_cluster_topic_find(cl, "t"));
            int32_t pos = kp_to_positive((int32_t)(starts[s] + i));
            int32_t expect = v.navail > 0 ? v.avail[(size_t)pos % v.navail]->partition : pos % v.count;
            assert_int_equal(kp_partitioner_round_robin_v(p, &v, "t", &h, 0), expect);
        }
        kp_partitioner_destroy(p);
    }
    for (int k = 0; k < 4; k++)
        kp_cluster_destroy(cls[k]);
}

/* The counter starts at a random int from the producer's PRNG stream:
 * toPositive(start + i) % n. Same seed, same sequence; the draw happens
 * once per topic, on first use. */
static void partitioner_counter_starts_from_the_prng_stream(void **state) {
    (void)state;
    kp_cluster *cl = fx_cluster(1, "t", 5, NULL);
    kp_rng rng = kp_rng_stream(99, "producer");
    kp_rng copy = rng;
    int32_t start = (int32_t)kp_rng_u32(&copy);
    kp_partitioner *p = kp_partitioner_new(KP_PARTITIONER_DEFAULT, &rng, NULL);
    kp_err err;
    for (int i = 0; i < 20; i++) {
        int32_t expect = kp_to_positive((int32_t)((uint32_t)start + (uint32_t)i)) % 5;
        assert_int_equal(kp_partitioner_partition(p, cl, "t", -1, NOKEY, 0, &err), expect);
    }
    int32_t v;
    assert_true(kp_partitioner_peek(p, "t", &v));
    assert_int_equal(v, (int32_t)((uint32_t)start + 20u));
    /* exactly one draw was taken from the stream */
    assert_true(rng.s[0] == copy.s[0] && rng.s[3] == copy.s[3]);
    kp_partitioner_destroy(p);
    kp_cluster_destroy(cl);
}

/* DefaultPartitionerTest.testRoundRobin: counters are per topic */
static void partitioner_counters_are_per_topic(void **state) {
    (void)state;
    kp_cluster *cl = kp_cluster_new();
    kp_cluster_add_node(cl, 0, "b", 1, NULL);
    kp_cluster_add_topic(cl, "a", KP_ERR_NONE, false);
    kp_cluster_add_topic(cl, "b", KP_ERR_NONE, false);
    for (int i = 0; i < 3; i++) {
        kp_cluster_add_partition(cl, "a", i, 0, 0, NULL, 0, NULL, 0, NULL, 0, KP_ERR_NONE);
        kp_cluster_add_partition(cl, "b", i, 0, 0, NULL, 0, NULL, 0, NULL, 0, KP_ERR_NONE);
    }
    kp_cluster_seal(cl);
    kp_rng rng = kp_rng_stream(3, "producer");
    kp_partitioner *p = kp_partitioner_new(KP_PARTITIONER_DEFAULT, &rng, NULL);
    kp_err err;
    int ca[3] = { 0 }, cb[3] = { 0 };
    for (int i = 0; i < 30; i++) {
        ca[kp_partitioner_partition(p, cl, "a", -1, NOKEY, 0, &err)]++;
        /* interleaving with another topic does not disturb a's sequence */
        cb[kp_partitioner_partition(p, cl, "b", -1, NOKEY, 0, &err)]++;
        cb[kp_partitioner_partition(p, cl, "b", -1, NOKEY, 0, &err)]++;
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ca[i], 10);
        assert_int_equal(cb[i], 20);
    }
    kp_partitioner_destroy(p);
    kp_cluster_destroy(cl);
}

static void partitioner_unknown_topic_is_an_error(void **state) {
    (void)state;
    kp_cluster *cl = fx_cluster(1, "t", 2, NULL);
    kp_rng rng = kp_rng_stream(1, "producer");
    kp_partitioner *p = kp_partitioner_new(KP_PARTITIONER_DEFAULT, &rng, NULL);
    kp_err err;
    assert_int_equal(kp_partitioner_partition(p, cl, "nope", -1, fx_s("k"), 0, &err), -1);
    assert_int_equal(err, KP_ERR__NOENT);
    kp_partitioner_destroy(p);
    kp_cluster_destroy(cl);
}

static void partitioner_sticky_sticks_until_a_new_batch(void **state) {
    (void)state;
    int32_t leaders[4] = { 0, 0, -1, 0 };
    kp_cluster *cl = fx_cluster(1, "t", 4, leaders);
    kp_rng rng = kp_rng_stream(5, "producer");
    fx_events ev = { 0 };
    kp_observer obs = { fx_on_event, &ev };
    kp_partitioner *p = kp_partitioner_new(KP_PARTITIONER_STICKY, &rng, &obs);
    kp_err err;
    int32_t first = kp_partitioner_partition(p, cl, "t", -1, NOKEY, 0, &err);
    assert_int_not_equal(first, 2); /* only available partitions */
    for (int i = 0; i < 10; i++)
        assert_int_equal(kp_partitioner_partition(p, cl, "t", -1, NOKEY, 0, &err), first);
    /* keyed records still hash */
    assert_int_equal(kp_partitioner_partition(p, cl, "t", -1, fx_s("test"), 0, &err),
                     kp_partition_for_key("test", 4, 4));
    /* a new batch for another partition does not move the sticky one */
    int32_t other = first == 0 ? 1 : 0;
    assert_int_equal(kp_partitioner_on_new_batch(p, cl, "t", other, 0), first);
    /* a new batch for the sticky partition: switch, never to itself or to 2 */
    int32_t prev = first;
    for (int i = 0; i < 20; i++) {
        int32_t next = kp_partitioner_on_new_batch(p, cl, "t", prev, 0);
        assert_int_not_equal(next, prev);
        assert_int_not_equal(next, 2);
        assert_int_equal(kp_partitioner_partition(p, cl, "t", -1, NOKEY, 0, &err), next);
        prev = next;
    }
    assert_true(ev.count[KP_EV_PARTITION_CHOSEN] > 30);
    kp_partitioner_destroy(p);

    /* the default partitioner ignores on_new_batch */
    kp_partitioner *d = kp_partitioner_new(KP_PARTITIONER_DEFAULT, &rng, NULL);
    assert_int_equal(kp_partitioner_on_new_batch(d, cl, "t", 0, 0), -1);
    kp_partitioner_destroy(d);
    kp_cluster_destroy(cl);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(partitioner_keyed_uses_murmur2_over_all_partitions),
        cmocka_unit_test(partitioner_explicit_partition_wins),
        cmocka_unit_test(partitioner_hint_shares_the_topic_state),
        cmocka_unit_test(partitioner_round_robin_entry_matches_the_general_one),
        cmocka_unit_test(partitioner_keyless_round_robin_over_available),
        cmocka_unit_test(partitioner_no_available_partition_falls_back_to_all),
        cmocka_unit_test(partitioner_counter_starts_from_the_prng_stream),
        cmocka_unit_test(partitioner_round_robin_across_counter_wraps_and_views),
        cmocka_unit_test(partitioner_counters_are_per_topic),
        cmocka_unit_test(partitioner_unknown_topic_is_an_error),
        cmocka_unit_test(partitioner_sticky_sticks_until_a_new_batch),
    };
    return cmocka_run_group_tests_name("partitioner", tests, NULL, NULL);
}
