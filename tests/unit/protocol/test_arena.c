/*
 * test_arena.c — the bump allocator: alignment, zero fill, reuse on reset,
 * the max-total bound, overflow-safe calloc.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "kp_arena.h"

static void arena_allocations_are_aligned_zeroed_and_disjoint(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(64, 0);
    assert_non_null(a);
    unsigned char *prev = NULL;
    for (size_t i = 1; i < 200; i++) {
        unsigned char *p = kp_arena_alloc(a, i);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        for (size_t j = 0; j < i; j++)
            assert_int_equal(p[j], 0);
        memset(p, 0xAB, i); /* ASan would catch an overlap or overrun */
        assert_true(p != prev);
        prev = p;
    }
    assert_true(kp_arena_used(a) >= 199 * 200 / 2);
    kp_arena_destroy(a);
}

static void arena_zero_size_is_non_null(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    assert_non_null(kp_arena_alloc(a, 0));
    assert_non_null(kp_arena_calloc(a, 0, 8));
    assert_int_equal(kp_arena_reserved(a), 0);
    kp_arena_destroy(a);
}

static void arena_reset_reuses_chunks_without_growing(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(256, 0);
    for (int i = 0; i < 40; i++)
        assert_non_null(kp_arena_alloc(a, 48));
    assert_non_null(kp_arena_alloc(a, 5000)); /* a chunk of its own */
    size_t reserved = kp_arena_reserved(a);
    for (int round = 0; round < 50; round++) {
        kp_arena_reset(a);
        assert_int_equal(kp_arena_used(a), 0);
        for (int i = 0; i < 40; i++) {
            unsigned char *p = kp_arena_alloc(a, 48);
            assert_non_null(p);
            for (int j = 0; j < 48; j++)
                assert_int_equal(p[j], 0); /* zeroed again after reuse */
            memset(p, 0xCD, 48);
        }
        assert_non_null(kp_arena_alloc(a, 5000));
        assert_int_equal(kp_arena_reserved(a), reserved);
    }
    kp_arena_destroy(a);
}

static void arena_reset_with_other_shapes_stays_bounded(void **state) {
    (void)state;
    /* Alternate large requests of growing size: chunks that no longer fit
     * are given back, so reserved tracks the live shape, not the history. */
    kp_arena *a = kp_arena_new(128, 1u << 20);
    for (size_t big = 1000; big < 200000; big += 1000) {
        kp_arena_reset(a);
        assert_non_null(kp_arena_alloc(a, 16));
        assert_non_null(kp_arena_alloc(a, big));
        assert_true(kp_arena_reserved(a) <= 128 + big + 2 * 1000 + 64);
    }
    kp_arena_destroy(a);
}

static void arena_refuses_past_max_total(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(1024, 4096);
    size_t got = 0;
    while (kp_arena_alloc(a, 100))
        got += 100;
    assert_true(got > 0);
    assert_true(kp_arena_reserved(a) <= 4096);
    assert_null(kp_arena_alloc(a, 100000));
    assert_null(kp_arena_alloc(a, SIZE_MAX));
    assert_null(kp_arena_alloc(a, SIZE_MAX - 3));
    kp_arena_reset(a);
    assert_non_null(kp_arena_alloc(a, 100)); /* usable again after reset */
    kp_arena_destroy(a);
}

static void arena_calloc_checks_overflow(void **state) {
    (void)state;
    kp_arena *a = kp_arena_new(0, 0);
    assert_null(kp_arena_calloc(a, SIZE_MAX / 2, 4));
    assert_null(kp_arena_calloc(a, (size_t)1 << 40, (size_t)1 << 30));
    int32_t *v = kp_arena_calloc(a, 10, sizeof *v);
    assert_non_null(v);
    for (int i = 0; i < 10; i++)
        assert_int_equal(v[i], 0);
    kp_arena_destroy(a);
}

static void arena_destroy_accepts_null(void **state) {
    (void)state;
    kp_arena_destroy(NULL);
}

/* The inline fast path (kp_arena.h) bumps a window over the current chunk
 * and the slow path walks the chunks: they must agree on what is handed
 * out. Blocks of mixed sizes — fitting ones, ones that need the next chunk,
 * one the bound refuses — each filled with its own pattern, must all keep
 * their pattern (no block overlaps another), and kp_arena_used() must count
 * every block, across resets and with a chunk size that is not a multiple
 * of the alignment. */
static void arena_fast_and_slow_paths_agree(void **state) {
    (void)state;
    const size_t al = _Alignof(max_align_t);
    kp_arena *a = kp_arena_new(100, 4096);
    assert_non_null(a);
    static const size_t sizes[] = { 1, 7, 16, 33, 90, 5, 200, 3, 64, 99, 1, 150, 2, 17, 48 };
    const size_t ns = sizeof sizes / sizeof sizes[0];
    for (int round = 0; round < 3; round++) {
        unsigned char *blk[sizeof sizes / sizeof sizes[0]];
        size_t want_used = 0;
        for (size_t i = 0; i < ns; i++) {
            blk[i] = kp_arena_alloc(a, sizes[i]);
            assert_non_null(blk[i]);
            assert_int_equal((uintptr_t)blk[i] % al, 0);
            for (size_t j = 0; j < sizes[i]; j++)
                assert_int_equal(blk[i][j], 0);
            memset(blk[i], (int)(i + 1), sizes[i]);
            want_used += (sizes[i] + al - 1) / al * al;
            assert_int_equal(kp_arena_used(a), want_used);
            if (i == 6) /* the bound refuses; the window must stay usable */
                assert_null(kp_arena_alloc(a, 8192));
        }
        for (size_t i = 0; i < ns; i++)
            for (size_t j = 0; j < sizes[i]; j++)
                assert_int_equal(blk[i][j], (unsigned char)(i + 1));
        assert_true(kp_arena_reserved(a) <= 4096);
        kp_arena_reset(a);
        assert_int_equal(kp_arena_used(a), 0);
    }
    kp_arena_destroy(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arena_allocations_are_aligned_zeroed_and_disjoint),
        cmocka_unit_test(arena_zero_size_is_non_null),
        cmocka_unit_test(arena_reset_reuses_chunks_without_growing),
        cmocka_unit_test(arena_reset_with_other_shapes_stays_bounded),
        cmocka_unit_test(arena_refuses_past_max_total),
        cmocka_unit_test(arena_calloc_checks_overflow),
        cmocka_unit_test(arena_destroy_accepts_null),
        cmocka_unit_test(arena_fast_and_slow_paths_agree),
    };
    return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
