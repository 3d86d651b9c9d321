/*
 * test_valgen.c — the workload's incremental value generator
 * (scenarios/sc_valgen.c) writes exactly sc_value_format's bytes, for runs
 * of consecutive sequence numbers across every digit-count change, for
 * jumps, repeats, other producers and changing sizes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "sc_checker.h"
#include "sc_valgen.h"

static void same_as_format(sc_valgen *g, int producer, int64_t seq, size_t size) {
    char want[1200];
    size_t wn = sc_value_format(want, sizeof want, producer, seq, size);
    size_t gn = 0;
    uint32_t rest = 0;
    const char *got = sc_valgen_next_rest(g, producer, seq, size, &gn, &rest);
    if (gn != wn || memcmp(got, want, wn) != 0)
        fail_msg("producer %d seq %lld size %zu: %zu bytes '%.*s', want %zu '%.*s'", producer, (long long)seq, size,
                 gn, (int)gn, got, wn, (int)wn, want);
    /* the CRC of the value's rest, kept per image (a head longer than
     * SC_KV_HEAD, the long buffer, a size change: computed) */
    kp_slice v = { (const uint8_t *)got, (int32_t)gn };
    if (rest != sc_kv_hash_rest(v))
        fail_msg("producer %d seq %lld size %zu: rest %08x, want %08x", producer, (long long)seq, size, rest,
                 sc_kv_hash_rest(v));
}

/* (same_as_format also checks sc_valgen_next_rest's rest against the hash.)
 * Consecutive records, the workload's pattern: every seq from 0 through
 * the 1 -> 2 -> ... -> 6 digit changes, several sizes and producers. */
static void consecutive_runs(void **state) {
    (void)state;
    static const int prods[] = { 0, 3, 200, 2147483647 };
    static const size_t sizes[] = { 100, 0, 1, 7, 26, 47, 131, 300, 1000 };
    for (size_t p = 0; p < sizeof prods / sizeof prods[0]; p++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            sc_valgen g;
            sc_valgen_init(&g);
            int64_t n = s == 0 && p == 0 ? 1100000 : 12000; /* one long run past a million */
            for (int64_t seq = 0; seq < n; seq++)
                same_as_format(&g, prods[p], seq, sizes[s]);
            sc_valgen_free(&g);
        }
}

/* Jumps, repeats, carries at the largest numbers, changing sizes and
 * producers between calls, and the negative numbers of the general path. */
static void jumps_and_oddities(void **state) {
    (void)state;
    sc_valgen g;
    sc_valgen_init(&g);
    static const int64_t seqs[] = { 5,  6,  6,  99, 100, 98, 99,  100, 9999999, 10000000, 0, 1,
                                    INT64_MAX - 2, INT64_MAX - 1, INT64_MAX, 12345, 12346, 12347 };
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        same_as_format(&g, 1, seqs[i], 100);
        same_as_format(&g, 2, seqs[i], 64);  /* another producer: a new head */
        same_as_format(&g, 2, seqs[i], 500); /* the same head, a longer value */
        same_as_format(&g, 2, seqs[i], 3);   /* shorter than the head */
    }
    for (int64_t seq = 0; seq < 3000; seq++)
        same_as_format(&g, 0, seq, (size_t)(seq * 7 % 400)); /* the size drawn per record */
    /* heads of 18 and 19 bytes in consecutive runs: the common case with
     * a head past SC_KV_HEAD (the rest is no image's alone) */
    for (int64_t seq = 999900; seq < 1000100; seq++)
        same_as_format(&g, 2147483647, seq, 100);
    same_as_format(&g, -1, 5, 100);
    same_as_format(&g, 4, -7, 100);
    same_as_format(&g, 4, 0, 100); /* and back to a normal head */
    same_as_format(&g, 4, 1, 100);
    sc_valgen_free(&g);
    sc_valgen_free(NULL);
}

/* The value images (sc_valgen.h): the same seq % 26 with heads of every
 * length in turn (a shorter head must give back the letters a longer one
 * covered), values on both sides of SC_VALGEN_IMAGE_MAX one after another
 * (the long buffer and the images alternate), images regrown while
 * others hold heads, and a value returned earlier for another residue
 * left untouched by the next call. */
static void images_and_long_values(void **state) {
    (void)state;
    sc_valgen g;
    sc_valgen_init(&g);
    static const int64_t seqs[] = { 26, 1040, 10000010, 4, 100000000000000022, 26, 52, 1000000000 + 12, 0 };
    static const int prods[] = { 0, 2147483647, 12 };
    for (size_t p = 0; p < sizeof prods / sizeof prods[0]; p++)
        for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
            same_as_format(&g, prods[p], seqs[i], 40);
            same_as_format(&g, prods[p], seqs[i], 2);
        }
    for (int64_t seq = 0; seq < 200; seq++) {
        size_t size = seq % 3 == 0 ? SC_VALGEN_IMAGE_MAX + 1 + (size_t)seq : seq % 3 == 1 ? SC_VALGEN_IMAGE_MAX
                                                                                          : (size_t)(seq * 37 % 900);
        char want[SC_VALGEN_IMAGE_MAX + 300];
        size_t wn = sc_value_format(want, sizeof want, 1, seq, size);
        size_t gn = 0;
        const char *got = sc_valgen_next(&g, 1, seq, size, &gn);
        assert_int_equal(gn, wn);
        assert_memory_equal(got, want, wn);
    }
    sc_valgen_free(&g);
    /* consecutive values of different residues live in different images:
     * the previous one is still intact after the next call */
    sc_valgen_init(&g);
    char keep[100];
    size_t kn = 0, gn = 0;
    memcpy(keep, sc_valgen_next(&g, 3, 7, 100, &kn), 100);
    const char *first = sc_valgen_next(&g, 3, 8, 100, &gn);
    (void)first;
    char want[100];
    assert_int_equal(sc_value_format(want, sizeof want, 3, 7, 100), 100);
    assert_memory_equal(keep, want, 100);
    sc_valgen_free(&g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(consecutive_runs),
        cmocka_unit_test(jumps_and_oddities),
        cmocka_unit_test(images_and_long_values),
    };
    return cmocka_run_group_tests_name("valgen", tests, NULL, NULL);
}
