/*
 * test_buffer_pool.c — BufferPool 2.1.1 re-cast without blocking, from
 * the behaviours BufferPoolTest checks: simple allocate/deallocate with
 * pooling, hard limit, delayed allocation served on deallocate, block
 * timeout with memory given back, FIFO waiters, non-pooled sizes freeing
 * up pooled buffers, and the accounting identity.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "acc_fixtures.h"
#include "kp_buffer_pool.h"
#include "kp_events.h"

static char err[256];

typedef struct served {
    int calls;
    kp_pool_waiter *order[8];
} served;

static void on_done(void *ctx, kp_pool_waiter *w) {
    served *s = ctx;
    if (s->calls < 8)
        s->order[s->calls] = w;
    s->calls++;
}

static void assert_consistent(const kp_buffer_pool *p) {
    char why[256];
    if (!kp_buffer_pool_verify(p, why, sizeof why))
        fail_msg("pool accounting broken: %s", why);
}

static uint8_t *alloc_now(kp_buffer_pool *p, size_t size) {
    uint8_t *b = NULL;
    kp_err e;
    assert_int_equal(kp_buffer_pool_allocate(p, size, 0, 1000, NULL, &b, &e, err, sizeof err), KP_POOL_OK);
    assert_non_null(b);
    return b;
}

/* BufferPoolTest.testSimple */
static void pool_simple_allocate_and_pooling(void **state) {
    (void)state;
    kp_buffer_pool *p = kp_buffer_pool_new(2 * 1024, 1024, NULL);
    uint8_t *b1 = alloc_now(p, 1024);
    assert_int_equal(kp_buffer_pool_available_memory(p), 1024);
    assert_int_equal(kp_buffer_pool_unallocated_memory(p), 1024);
    memset(b1, 0xab, 1024); /* the whole buffer is ours */
    kp_buffer_pool_deallocate(p, b1, 1024);
    assert_int_equal(kp_buffer_pool_free_count(p), 1);
    assert_int_equal(kp_buffer_pool_available_memory(p), 2048);
    assert_int_equal(kp_buffer_pool_unallocated_memory(p), 1024);
    /* a poolable request reuses the pooled buffer: no new malloc */
    uint64_t mallocs = kp_buffer_pool_mallocs(p);
    uint8_t *b2 = alloc_now(p, 1024);
    assert_ptr_equal(b2, b1);
    assert_int_equal(kp_buffer_pool_mallocs(p), mallocs);
    /* a non-poolable size comes from unallocated memory */
    uint8_t *b3 = alloc_now(p, 500);
    assert_int_equal(kp_buffer_pool_available_memory(p), 2048 - 1024 - 500);
    assert_consistent(p);
    kp_buffer_pool_deallocate(p, b3, 500);
    kp_buffer_pool_deallocate(p, b2, 1024);
    assert_true(kp_buffer_pool_is_whole(p));
    kp_buffer_pool_destroy(p);
}

/* kp_buffer_pool_take_pooled: allocate's pooled case and nothing else */
static void pool_take_pooled_only_a_free_poolable_buffer(void **state) {
    (void)state;
    kp_buffer_pool *p = kp_buffer_pool_new(4 * 1024, 1024, NULL);
    /* nothing pooled yet, or not the poolable size: NULL, nothing changed */
    assert_null(kp_buffer_pool_take_pooled(p, 1024));
    assert_int_equal(kp_buffer_pool_available_memory(p), 4096);
    uint8_t *b1 = alloc_now(p, 1024);
    kp_buffer_pool_deallocate(p, b1, 1024);
    assert_int_equal(kp_buffer_pool_free_count(p), 1);
    assert_null(kp_buffer_pool_take_pooled(p, 1000));
    assert_int_equal(kp_buffer_pool_free_count(p), 1);
    /* the pooled buffer, accounted as allocate accounts it */
    uint64_t mallocs = kp_buffer_pool_mallocs(p);
    uint8_t *b2 = kp_buffer_pool_take_pooled(p, 1024);
    assert_ptr_equal(b2, b1);
    assert_int_equal(kp_buffer_pool_free_count(p), 0);
    assert_int_equal(kp_buffer_pool_available_memory(p), 3072);
    assert_int_equal(kp_buffer_pool_allocated_bytes(p), 1024);
    assert_int_equal(kp_buffer_pool_mallocs(p), mallocs);
    assert_consistent(p);
    /* the free list is empty again: NULL */
    assert_null(kp_buffer_pool_take_pooled(p, 1024));
    kp_buffer_pool_deallocate(p, b2, 1024);
    assert_true(kp_buffer_pool_is_whole(p));
    kp_buffer_pool_destroy(p);
}

/* BufferPoolTest.testCantAllocateMoreMemoryThanWeHave */
static void pool_refuses_more_than_total(void **state) {
    (void)state;
    kp_buffer_pool *p = kp_buffer_pool_new(1024, 512, NULL);
    uint8_t *b = NULL;
    kp_err e;
    kp_pool_waiter w;
    kp_pool_waiter_init(&w, NULL, NULL);
    assert_int_equal(kp_buffer_pool_allocate(p, 1025, 0, 1000, &w, &b, &e, err, sizeof err), KP_POOL_ERROR);
    assert_int_equal(e, KP_ERR__RECORD_TOO_LARGE);
    assert_string_equal(err, "Attempt to allocate 1025 bytes, but there is a hard limit of 1024 on memory allocations.");
    assert_int_equal(w.state, KP_WAITER_IDLE);
    assert_true(kp_buffer_pool_is_whole(p));
    kp_buffer_pool_destroy(p);
}

/* BufferPoolTest.testDelayedAllocation */
static void pool_waiter_is_served_by_deallocate(void **state) {
    (void)state;
    fx_events ev = { 0 };
    kp_observer obs = { fx_on_event, &ev };
    kp_buffer_pool *p = kp_buffer_pool_new(5 * 1024, 1024, &obs);
    uint8_t *big = alloc_now(p, 5 * 1024);
    served s = { 0 };
    kp_pool_waiter w;
    kp_pool_waiter_init(&w, on_done, &s);
    uint8_t *b = NULL;
    kp_err e;
    assert_int_equal(kp_buffer_pool_allocate(p, 1024, 10, 1000, &w, &b, &e, err, sizeof err),
                     KP_POOL_WOULD_BLOCK);
    assert_null(b);
    assert_int_equal(w.state, KP_WAITER_QUEUED);
    assert_int_equal(w.deadline_ms, 1010);
    assert_int_equal(kp_buffer_pool_queued(p), 1);
    assert_int_equal(kp_buffer_pool_next_deadline(p), 1010);
    assert_int_equal(s.calls, 0);
    kp_buffer_pool_deallocate(p, big, 5 * 1024);
    assert_int_equal(s.calls, 1);
    assert_int_equal(w.state, KP_WAITER_SERVED);
    assert_int_equal(kp_buffer_pool_queued(p), 0);
    uint8_t *got = kp_pool_waiter_take_buffer(&w);
    assert_non_null(got);
    assert_int_equal(w.state, KP_WAITER_IDLE);
    assert_int_equal(kp_buffer_pool_available_memory(p), 4 * 1024);
    assert_consistent(p);
    kp_buffer_pool_deallocate(p, got, 1024);
    assert_true(kp_buffer_pool_is_whole(p));
    assert_int_equal(ev.count[KP_EV_POOL_WAIT], 1);
    assert_int_equal(ev.count[KP_EV_POOL_WAIT_DONE], 1);
    kp_buffer_pool_destroy(p);
}

/* BufferPoolTest.testBlockTimeout: the waiter fails with Java's message and
 * whatever it had collected goes back. */
static void pool_waiter_times_out_and_returns_memory(void **state) {
    (void)state;
    kp_buffer_pool *p = kp_buffer_pool_new(10, 1, NULL);
    uint8_t *b1 = alloc_now(p, 1);
    uint8_t *b2 = alloc_now(p, 1);
    uint8_t *b3 = alloc_now(p, 1);
    (void)b3;
    uint8_t *rest = alloc_now(p, 7);
    served s = { 0 };
    kp_pool_waiter w;
    kp_pool_waiter_init(&w, on_done, &s);
    uint8_t *b = NULL;
    kp_err e;
    assert_int_equal(kp_buffer_pool_allocate(p, 5, 0, 100, &w, &b, &e, err, sizeof err), KP_POOL_WOULD_BLOCK);
    /* two 1-byte buffers come back: the head collects them (2 of 5) */
    kp_buffer_pool_deallocate(p, b1, 1);
    kp_buffer_pool_deallocate(p, b2, 1);
    assert_int_equal(w.accumulated, 2);
    assert_int_equal(kp_buffer_pool_reserved_bytes(p), 2);
    assert_consistent(p);
    assert_int_equal(kp_buffer_pool_expire(p, 99), 0);
    assert_int_equal(kp_buffer_pool_expire(p, 100), 1);
    assert_int_equal(s.calls, 1);
    assert_int_equal(w.state, KP_WAITER_FAILED);
    assert_int_equal(w.err, KP_ERR__BUFFER_EXHAUSTED);
    char msg[128];
    kp_pool_waiter_message(&w, msg, sizeof msg);
    assert_string_equal(msg, "Failed to allocate memory within the configured max blocking time 100 ms.");
    assert_int_equal(kp_buffer_pool_reserved_bytes(p), 0);
    assert_int_equal(kp_buffer_pool_available_memory(p), 2); /* "don't lose available memory" */
    assert_consistent(p);
    kp_buffer_pool_deallocate(p, rest, 7);
    kp_buffer_pool_deallocate(p, b3, 1);
    assert_true(kp_buffer_pool_is_whole(p));
    kp_buffer_pool_destroy(p);
}

static void pool_zero_block_time_fails_at_once(void **state) {
    (void)state;
    kp_buffer_pool *p = kp_buffer_pool_new(1024, 1024, NULL);
    uint8_t *all = alloc_now(p, 1024);
    kp_pool_waiter w;
    kp_pool_waiter_init(&w, NULL, NULL);
    uint8_t *b = NULL;
    kp_err e;
    assert_int_equal(kp_buffer_pool_allocate(p, 1024, 0, 0, &w, &b, &e, err, sizeof err), KP_POOL_ERROR);
    assert_int_equal(e, KP_ERR__BUFFER_EXHAUSTED);
    assert_string_equal(err, "Failed to allocate memory within the configured max blocking time 0 ms.");
    assert_int_equal(kp_buffer_pool_queued(p), 0);
    assert_int_equal(kp_buffer_pool_allocate(p, 1024, 0, 500, NULL, &b, &e, err, sizeof err), KP_POOL_ERROR);
    assert_int_equal(e, KP_ERR__BUFFER_EXHAUSTED);
    kp_buffer_pool_deallocate(p, all, 1024);
    kp_buffer_pool_destroy(p);
}

/* Waiters are served in the order they came (Java's waiters deque). */
static void pool_waiters_are_served_fifo(void **state) {
    (void)state;
    kp_buffer_pool *p = kp_buffer_pool_new(3 * 100, 100, NULL);
    uint8_t *a = alloc_now(p, 100), *b = alloc_now(p, 100), *c = alloc_now(p, 100);
    served s = { 0 };
    kp_pool_waiter w1, w2, w3;
    kp_pool_waiter_init(&w1, on_done, &s);
    kp_pool_waiter_init(&w2, on_done, &s);
    kp_pool_waiter_init(&w3, on_done, &s);
    uint8_t *x;
    kp_err e;
    assert_int_equal(kp_buffer_pool_allocate(p, 100, 0, 1000, &w1, &x, &e, err, sizeof err), KP_POOL_WOULD_BLOCK);
    assert_int_equal(kp_buffer_pool_allocate(p, 200, 1, 1000, &w2, &x, &e, err, sizeof err), KP_POOL_WOULD_BLOCK);
    assert_int_equal(kp_buffer_pool_allocate(p, 100, 2, 1000, &w3, &x, &e, err, sizeof err), KP_POOL_WOULD_BLOCK);
    kp_buffer_pool_deallocate(p, a, 100); /* -> w1 */
    assert_int_equal(s.calls, 1);
    assert_ptr_equal(s.order[0], &w1);
    kp_buffer_pool_deallocate(p, b, 100); /* w2 collects 100 of 200; w3 must not overtake */
    assert_int_equal(s.calls, 1);
    assert_int_equal(w2.accumulated, 100);
    assert_int_equal(w3.state, KP_WAITER_QUEUED);
    kp_buffer_pool_deallocate(p, c, 100); /* w2 complete */
    assert_int_equal(s.calls, 2);
    assert_ptr_equal(s.order[1], &w2);
    assert_int_equal(w3.state, KP_WAITER_QUEUED);
    uint8_t *g1 = kp_pool_waiter_take_buffer(&w1);
    kp_buffer_pool_deallocate(p, g1, 100); /* -> w3 */
    assert_int_equal(s.calls, 3);
    assert_ptr_equal(s.order[2], &w3);
    assert_consistent(p);
    kp_buffer_pool_deallocate(p, kp_pool_waiter_take_buffer(&w2), 200);
    kp_buffer_pool_deallocate(p, kp_pool_waiter_take_buffer(&w3), 100);
    assert_true(kp_buffer_pool_is_whole(p));
    kp_buffer_pool_destroy(p);
}

/* Java's fast path does not look at the waiters: a request that fits in
 * what is free right now is served even while a bigger one waits. */
static void pool_small_request_may_pass_a_waiting_big_one(void **state) {
    (void)state;
    kp_buffer_pool *p = kp_buffer_pool_new(1000, 100, NULL);
    uint8_t *big = alloc_now(p, 700);
    served s = { 0 };
    kp_pool_waiter w;
    kp_pool_waiter_init(&w, on_done, &s);
    uint8_t *x;
    kp_err e;
    assert_int_equal(kp_buffer_pool_allocate(p, 500, 0, 1000, &w, &x, &e, err, sizeof err), KP_POOL_WOULD_BLOCK);
    assert_int_equal(w.accumulated, 0); /* waits without reserving */
    uint8_t *small = alloc_now(p, 250);
    assert_non_null(small);
    /* that allocation left 50 bytes over: the head is signalled and takes them */
    assert_int_equal(w.accumulated, 50);
    kp_buffer_pool_deallocate(p, big, 700);
    assert_int_equal(w.state, KP_WAITER_SERVED);
    assert_int_equal(kp_buffer_pool_available_memory(p), 1000 - 250 - 500);
    assert_consistent(p);
    kp_buffer_pool_deallocate(p, kp_pool_waiter_take_buffer(&w), 500);
    kp_buffer_pool_deallocate(p, small, 250);
    assert_true(kp_buffer_pool_is_whole(p));
    kp_buffer_pool_destroy(p);
}

/* A non-poolable size frees up pooled buffers (BufferPool.freeUp). */
static void pool_non_poolable_size_frees_up_pooled_buffers(void **state) {
    (void)state;
    kp_buffer_pool *p = kp_buffer_pool_new(4 * 1024, 1024, NULL);
    uint8_t *b[4];
    for (int i = 0; i < 4; i++)
        b[i] = alloc_now(p, 1024);
    for (int i = 0; i < 4; i++)
        kp_buffer_pool_deallocate(p, b[i], 1024);
    assert_int_equal(kp_buffer_pool_free_count(p), 4);
    assert_int_equal(kp_buffer_pool_unallocated_memory(p), 0);
    uint8_t *odd = alloc_now(p, 2500); /* needs three pooled buffers released */
    assert_int_equal(kp_buffer_pool_free_count(p), 1);
    assert_int_equal(kp_buffer_pool_unallocated_memory(p), 3 * 1024 - 2500);
    assert_int_equal(kp_buffer_pool_available_memory(p), 4 * 1024 - 2500);
    assert_consistent(p);
    kp_buffer_pool_deallocate(p, odd, 2500);
    assert_true(kp_buffer_pool_is_whole(p));
    kp_buffer_pool_destroy(p);
}

/* The slab (kp_buffer_pool.h, "Memory"): poolable buffers are carved in
 * order from one region, each a whole poolable_size of its own; a buffer
 * the pool lets go of (freeUp for a non-poolable request) is the next
 * one handed out, so the most ever carved is the most ever alive at once;
 * a non-poolable size never comes from it. A sanitizer build has no slab
 * (every buffer its own malloc), and this test then checks just that. */
#if defined(__SANITIZE_ADDRESS__)
#define POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_ASAN 1
#endif
#endif
static void pool_slab_reuses_what_it_let_go(void **state) {
    (void)state;
    kp_buffer_pool *p = kp_buffer_pool_new(8 * 1024, 1024, NULL);
#ifdef POOL_ASAN
    assert_true(kp_buffer_pool_slab_carved(p) == SIZE_MAX);
    kp_buffer_pool_destroy(p);
    return;
#endif
    assert_int_equal(kp_buffer_pool_slab_carved(p), 0);
    uint8_t *b[8];
    for (int i = 0; i < 4; i++) {
        b[i] = alloc_now(p, 1024);
        memset(b[i], 0x10 + i, 1024);
    }
    assert_int_equal(kp_buffer_pool_slab_carved(p), 4);
    for (int i = 1; i < 4; i++)
        assert_ptr_equal(b[i], b[0] + 1024 * i); /* carved in order, no overlap */
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 1024; j += 97)
            assert_int_equal(b[i][j], 0x10 + i);
    for (int i = 0; i < 4; i++)
        kp_buffer_pool_deallocate(p, b[i], 1024);
    /* 4 KB pooled and free, 4 KB never allocated: 6000 bytes lets two
     * pooled buffers go (non-pooled 4096 -> 5120 -> 6144) */
    uint8_t *odd = alloc_now(p, 6000);
    assert_int_equal(kp_buffer_pool_free_count(p), 2);
    assert_false(odd >= b[0] && odd < b[0] + 8 * 1024); /* a malloc, not the slab */
    /* the two let go are handed out again before anything new is carved */
    uint8_t *r[4];
    for (int i = 0; i < 2; i++)
        r[i] = alloc_now(p, 1024); /* from the free list */
    assert_int_equal(kp_buffer_pool_free_count(p), 0);
    kp_buffer_pool_deallocate(p, odd, 6000);
    for (int i = 2; i < 4; i++)
        r[i] = alloc_now(p, 1024); /* new buffers: the two spares */
    assert_int_equal(kp_buffer_pool_slab_carved(p), 4);
    for (int i = 0; i < 4; i++) {
        assert_true(r[i] >= b[0] && r[i] < b[0] + 4 * 1024);
        for (int j = 0; j < i; j++)
            assert_ptr_not_equal(r[i], r[j]);
    }
    /* a fifth live one is carved */
    uint8_t *fifth = alloc_now(p, 1024);
    assert_ptr_equal(fifth, b[0] + 4 * 1024);
    assert_int_equal(kp_buffer_pool_slab_carved(p), 5);
    assert_consistent(p);
    for (int i = 0; i < 4; i++)
        kp_buffer_pool_deallocate(p, r[i], 1024);
    kp_buffer_pool_deallocate(p, fifth, 1024);
    assert_true(kp_buffer_pool_is_whole(p));
    kp_buffer_pool_destroy(p);
}

static void pool_cancelled_waiter_gives_back_what_it_held(void **state) {
    (void)state;
    kp_buffer_pool *p = kp_buffer_pool_new(300, 100, NULL);
    uint8_t *a = alloc_now(p, 100), *b = alloc_now(p, 200);
    served s = { 0 };
    kp_pool_waiter w1, w2;
    kp_pool_waiter_init(&w1, on_done, &s);
    kp_pool_waiter_init(&w2, on_done, &s);
    uint8_t *x;
    kp_err e;
    kp_buffer_pool_allocate(p, 250, 0, 1000, &w1, &x, &e, err, sizeof err);
    kp_buffer_pool_allocate(p, 100, 0, 1000, &w2, &x, &e, err, sizeof err);
    kp_buffer_pool_deallocate(p, a, 100); /* w1 holds 100 of 250 */
    assert_int_equal(w1.accumulated, 100);
    kp_buffer_pool_cancel(p, &w1, KP_ERR__CLOSED); /* its 100 goes to w2 */
    assert_int_equal(w1.state, KP_WAITER_FAILED);
    assert_int_equal(w1.err, KP_ERR__CLOSED);
    assert_int_equal(w2.state, KP_WAITER_SERVED);
    assert_int_equal(s.calls, 2);
    kp_buffer_pool_cancel(p, &w1, KP_ERR__CLOSED); /* not queued: no-op */
    assert_int_equal(s.calls, 2);
    assert_consistent(p);
    kp_buffer_pool_deallocate(p, kp_pool_waiter_take_buffer(&w2), 100);
    kp_buffer_pool_deallocate(p, b, 200);
    assert_true(kp_buffer_pool_is_whole(p));
    assert_int_equal(kp_buffer_pool_waits(p), 2);
    kp_buffer_pool_destroy(p);
}

/* Many rounds of mixed sizes with waiters: the identity always holds and
 * the pool ends whole (BufferPoolTest.testStressfulSituation, serialised). */
static void pool_stays_consistent_under_churn(void **state) {
    (void)state;
    kp_buffer_pool *p = kp_buffer_pool_new(64 * 1024, 4096, NULL);
    kp_rng rng = kp_rng_stream(11, "pool-churn");
    uint8_t *held[64];
    size_t sizes[64];
    int n = 0;
    kp_pool_waiter w[8];
    served s = { 0 };
    for (int i = 0; i < 8; i++)
        kp_pool_waiter_init(&w[i], on_done, &s);
    for (int round = 0; round < 2000; round++) {
        if (n < 64 && kp_rng_chance(&rng, 0.55)) {
            size_t sz = kp_rng_chance(&rng, 0.7) ? 4096 : (size_t)kp_rng_range(&rng, 1, 9000);
            uint8_t *b = NULL;
            kp_err e;
            kp_pool_waiter *free_w = NULL;
            for (int k = 0; k < 8; k++)
                if (w[k].state == KP_WAITER_IDLE)
                    free_w = &w[k];
            kp_pool_status st = kp_buffer_pool_allocate(p, sz, round, 50, free_w, &b, &e, err, sizeof err);
            if (st == KP_POOL_OK) {
                held[n] = b;
                sizes[n++] = sz;
            }
        } else if (n > 0) {
            int k = (int)kp_rng_below(&rng, (uint64_t)n);
            kp_buffer_pool_deallocate(p, held[k], sizes[k]);
            held[k] = held[n - 1];
            sizes[k] = sizes[n - 1];
            n--;
        }
        kp_buffer_pool_expire(p, round);
        for (int k = 0; k < 8; k++) {
            if (w[k].state == KP_WAITER_SERVED && n < 64) {
                sizes[n] = w[k].size;
                held[n++] = kp_pool_waiter_take_buffer(&w[k]);
            } else if (w[k].state == KP_WAITER_SERVED) {
                size_t sz = w[k].size;
                kp_buffer_pool_deallocate(p, kp_pool_waiter_take_buffer(&w[k]), sz);
            } else if (w[k].state == KP_WAITER_FAILED) {
                w[k].state = KP_WAITER_IDLE;
            }
        }
        assert_consistent(p);
    }
    for (int k = 0; k < 8; k++)
        kp_buffer_pool_cancel(p, &w[k], KP_ERR__CLOSED);
    for (int k = 0; k < 8; k++)
        if (w[k].state == KP_WAITER_SERVED) {
            size_t sz = w[k].size;
            kp_buffer_pool_deallocate(p, kp_pool_waiter_take_buffer(&w[k]), sz);
        }
    while (n > 0) {
        n--;
        kp_buffer_pool_deallocate(p, held[n], sizes[n]);
    }
    assert_true(kp_buffer_pool_waits(p) > 0);
    assert_true(kp_buffer_pool_is_whole(p));
    kp_buffer_pool_destroy(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pool_simple_allocate_and_pooling),
        cmocka_unit_test(pool_take_pooled_only_a_free_poolable_buffer),
        cmocka_unit_test(pool_refuses_more_than_total),
        cmocka_unit_test(pool_waiter_is_served_by_deallocate),
        cmocka_unit_test(pool_waiter_times_out_and_returns_memory),
        cmocka_unit_test(pool_zero_block_time_fails_at_once),
        cmocka_unit_test(pool_waiters_are_served_fifo),
        cmocka_unit_test(pool_small_request_may_pass_a_waiting_big_one),
        cmocka_unit_test(pool_non_poolable_size_frees_up_pooled_buffers),
        cmocka_unit_test(pool_slab_reuses_what_it_let_go),
        cmocka_unit_test(pool_cancelled_waiter_gives_back_what_it_held),
        cmocka_unit_test(pool_stays_consistent_under_churn),
    };
    return cmocka_run_group_tests_name("buffer_pool", tests, NULL, NULL);
}
