/*
 * test_rng.c — PRNG streams: xoshiro256** known answers, the same
 * (seed, name) gives the same sequence, streams are independent of each
 * other's draws, and the bounded helpers stay in bounds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "kp_rng.h"

/* Reference outputs of xoshiro256** from state {1,2,3,4} (the algorithm's
 * published reference code gives these). */
static void rng_xoshiro256ss_reference_outputs(void **state) {
    (void)state;
    kp_rng r = { { 1, 2, 3, 4 } };
    assert_true(kp_rng_u64(&r) == 11520u);
    assert_true(kp_rng_u64(&r) == 0u);
    assert_true(kp_rng_u64(&r) == 1509978240u);
    assert_true(kp_rng_u64(&r) == 1215971899390074240u);
}

static void rng_same_seed_and_name_same_sequence(void **state) {
    (void)state;
    kp_rng a = kp_rng_stream(42, "net"), b = kp_rng_stream(42, "net");
    for (int i = 0; i < 1000; i++)
        assert_true(kp_rng_u64(&a) == kp_rng_u64(&b));
}

static int differing_draws(kp_rng a, kp_rng b) {
    int diff = 0;
    for (int i = 0; i < 64; i++)
        diff += kp_rng_u64(&a) != kp_rng_u64(&b);
    return diff;
}

static void rng_other_name_or_seed_other_sequence(void **state) {
    (void)state;
    assert_int_equal(differing_draws(kp_rng_stream(42, "net"), kp_rng_stream(42, "broker")), 64);
    assert_int_equal(differing_draws(kp_rng_stream(42, "net"), kp_rng_stream(43, "net")), 64);
    assert_int_equal(differing_draws(kp_rng_stream(0, ""), kp_rng_stream(0, "a")), 64);
}

/* DESIGN.md: "adding a random draw in one place does not reshuffle the
 * others". */
static void rng_extra_draws_on_one_stream_leave_another_unchanged(void **state) {
    (void)state;
    uint64_t want[100];
    kp_rng b0 = kp_rng_stream(7, "workload");
    for (int i = 0; i < 100; i++)
        want[i] = kp_rng_u64(&b0);

    kp_rng a = kp_rng_stream(7, "net"), b = kp_rng_stream(7, "workload");
    for (int i = 0; i < 100; i++) {
        for (int k = 0; k < i % 5; k++) /* A draws an irregular extra amount */
            (void)kp_rng_u64(&a);
        assert_true(kp_rng_u64(&b) == want[i]);
    }
}

static void rng_substream_deterministic_and_distinct(void **state) {
    (void)state;
    kp_rng net = kp_rng_stream(9, "net");
    kp_rng s1 = kp_rng_substream(&net, "link/0-1"), s2 = kp_rng_substream(&net, "link/0-1");
    kp_rng s3 = kp_rng_substream(&net, "link/0-2");
    assert_int_equal(differing_draws(s1, s2), 0);
    assert_int_equal(differing_draws(s1, s3), 64);
    assert_int_equal(differing_draws(s1, net), 64);
}

static void rng_below_stays_in_bounds_and_covers_them(void **state) {
    (void)state;
    kp_rng r = kp_rng_stream(1, "below");
    assert_true(kp_rng_below(&r, 0) == 0);
    for (int i = 0; i < 100; i++)
        assert_true(kp_rng_below(&r, 1) == 0);
    static const uint64_t bounds[] = { 2, 3, 7, 10, 1000, (1ull << 63) + 1, UINT64_MAX };
    for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++)
        for (int i = 0; i < 2000; i++)
            assert_true(kp_rng_below(&r, bounds[b]) < bounds[b]);
    /* 10 buckets, 20000 draws: each bucket within 15% of 2000 */
    int hist[10] = { 0 };
    for (int i = 0; i < 20000; i++)
        hist[kp_rng_below(&r, 10)]++;
    for (int i = 0; i < 10; i++) {
        assert_in_range(hist[i], 1700, 2300);
    }
}

static void rng_range_inclusive(void **state) {
    (void)state;
    kp_rng r = kp_rng_stream(2, "range");
    assert_int_equal(kp_rng_range(&r, 5, 5), 5);
    assert_int_equal(kp_rng_range(&r, 5, 4), 5); /* empty range gives lo */
    bool seen_lo = false, seen_hi = false;
    for (int i = 0; i < 1000; i++) {
        int64_t v = kp_rng_range(&r, -3, 3);
        assert_true(v >= -3 && v <= 3);
        seen_lo |= v == -3;
        seen_hi |= v == 3;
    }
    assert_true(seen_lo && seen_hi);
    bool neg = false, pos = false;
    for (int i = 0; i < 100; i++) {
        int64_t v = kp_rng_range(&r, INT64_MIN, INT64_MAX);
        neg |= v < 0;
        pos |= v > 0;
    }
    assert_true(neg && pos);
}

static void rng_double_chance_exp(void **state) {
    (void)state;
    kp_rng r = kp_rng_stream(3, "double");
    double sum = 0;
    for (int i = 0; i < 10000; i++) {
        double d = kp_rng_double(&r);
        assert_true(d >= 0.0 && d < 1.0);
        sum += d;
    }
    assert_true(fabs(sum / 10000 - 0.5) < 0.02);
    for (int i = 0; i < 100; i++) {
        assert_false(kp_rng_chance(&r, 0.0));
        assert_true(kp_rng_chance(&r, 1.0));
    }
    int hits = 0;
    for (int i = 0; i < 10000; i++)
        hits += kp_rng_chance(&r, 0.25);
    assert_in_range(hits, 2300, 2700);
    double esum = 0;
    for (int i = 0; i < 20000; i++) {
        double e = kp_rng_exp(&r, 50.0);
        assert_true(e >= 0.0);
        esum += e;
    }
    assert_true(fabs(esum / 20000 - 50.0) < 2.5);
}

static void rng_fnv1a64_known_answers(void **state) {
    (void)state;
    /* FNV-1a 64 published test values */
    assert_true(kp_fnv1a64("", 0, KP_FNV1A64_INIT) == 0xcbf29ce484222325ull);
    assert_true(kp_fnv1a64("a", 1, KP_FNV1A64_INIT) == 0xaf63dc4c8601ec8cull);
    assert_true(kp_fnv1a64("foobar", 6, KP_FNV1A64_INIT) == 0x85944171f73967e8ull);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rng_xoshiro256ss_reference_outputs),
        cmocka_unit_test(rng_same_seed_and_name_same_sequence),
        cmocka_unit_test(rng_other_name_or_seed_other_sequence),
        cmocka_unit_test(rng_extra_draws_on_one_stream_leave_another_unchanged),
        cmocka_unit_test(rng_substream_deterministic_and_distinct),
        cmocka_unit_test(rng_below_stays_in_bounds_and_covers_them),
        cmocka_unit_test(rng_range_inclusive),
        cmocka_unit_test(rng_double_chance_exp),
        cmocka_unit_test(rng_fnv1a64_known_answers),
    };
    return cmocka_run_group_tests_name("rng", tests, NULL, NULL);
}
