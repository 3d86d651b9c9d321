/*
 * test_world.c — the virtual clock, the event queue and PRNG streams
 * (simnet/sn_world.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "sn_world.h"

/* A log of which timer ran when. */
typedef struct rec {
    int ids[4096];
    kp_time_us at[4096];
    int n;
} rec;

typedef struct tt {
    sn_timer t;
    int id;
    rec *r;
    /* optional: a timer to schedule at now from inside the callback */
    sn_timer *chain;
} tt;

static void tt_fire(void *ctx, sn_world *w) {
    tt *x = ctx;
    x->r->ids[x->r->n] = x->id;
    x->r->at[x->r->n] = sn_now(w);
    x->r->n++;
    if (x->chain)
        sn_timer_schedule(w, x->chain, sn_now(w));
}

static void tt_init(tt *x, int id, rec *r) {
    memset(x, 0, sizeof *x);
    x->id = id;
    x->r = r;
    sn_timer_init(&x->t, tt_fire, x);
}

static sn_world *new_world(uint64_t seed) {
    return sn_world_new(seed, (kp_observer){ 0 });
}

static void queue_same_time_runs_in_schedule_order(void **state) {
    (void)state;
    sn_world *w = new_world(1);
    rec r = { .n = 0 };
    tt x[5];
    for (int i = 0; i < 5; i++)
        tt_init(&x[i], i, &r);
    sn_timer_schedule(w, &x[3].t, 100);
    sn_timer_schedule(w, &x[1].t, 100);
    sn_timer_schedule(w, &x[4].t, 50);
    sn_timer_schedule(w, &x[0].t, 100);
    sn_timer_schedule(w, &x[2].t, 200);
    while (sn_world_step(w)) {}
    int want[5] = { 4, 3, 1, 0, 2 };
    assert_int_equal(r.n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(r.ids[i], want[i]);
    assert_int_equal(r.at[0], 50);
    assert_int_equal(r.at[3], 100);
    assert_int_equal(sn_now(w), 200);
    sn_world_destroy(w);
}

static void queue_event_scheduled_during_step_runs_after_those_already_due(void **state) {
    (void)state;
    sn_world *w = new_world(1);
    rec r = { .n = 0 };
    tt a, b, c, late;
    tt_init(&a, 1, &r);
    tt_init(&b, 2, &r);
    tt_init(&c, 3, &r);
    tt_init(&late, 9, &r);
    a.chain = &late.t; /* a schedules `late` at now = 10 */
    sn_timer_schedule(w, &a.t, 10);
    sn_timer_schedule(w, &b.t, 10);
    sn_timer_schedule(w, &c.t, 10);
    assert_true(sn_world_step(w));          /* a */
    assert_true(sn_timer_pending(&late.t));
    assert_int_equal(late.t.at, 10);
    sn_world_run_until(w, 10);
    int want[4] = { 1, 2, 3, 9 };
    assert_int_equal(r.n, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r.ids[i], want[i]);
        assert_int_equal(r.at[i], 10);
    }
    sn_world_destroy(w);
}

static void queue_past_times_clamp_to_now(void **state) {
    (void)state;
    sn_world *w = new_world(1);
    rec r = { .n = 0 };
    tt a;
    tt_init(&a, 1, &r);
    sn_world_run_until(w, 500);
    assert_int_equal(sn_now(w), 500);
    sn_timer_schedule(w, &a.t, 20);
    assert_int_equal(a.t.at, 500);
    sn_world_step(w);
    assert_int_equal(r.at[0], 500);
    assert_int_equal(sn_now(w), 500);
    sn_world_destroy(w);
}

static void queue_cancel_and_reschedule(void **state) {
    (void)state;
    sn_world *w = new_world(1);
    rec r = { .n = 0 };
    tt x[4];
    for (int i = 0; i < 4; i++)
        tt_init(&x[i], i, &r);
    sn_timer zero;
    memset(&zero, 0, sizeof zero);
    assert_false(sn_timer_pending(&zero)); /* zero-filled = idle */
    sn_timer_cancel(w, &zero);             /* no-op */
    for (int i = 0; i < 4; i++)
        sn_timer_schedule(w, &x[i].t, 100 + i);
    sn_timer_cancel(w, &x[1].t);
    assert_false(sn_timer_pending(&x[1].t));
    sn_timer_cancel(w, &x[1].t); /* twice is fine */
    sn_timer_schedule(w, &x[3].t, 5);   /* reschedule earlier */
    sn_timer_schedule(w, &x[0].t, 300); /* reschedule later */
    sn_timer_schedule(w, &x[2].t, 102); /* same time, new seq: still alone */
    assert_int_equal(sn_world_pending(w), 3);
    /* the verifier notices a timer whose key was changed behind its back */
    assert_true(sn_world_verify(w));
    x[2].t.at += 1000;
    assert_false(sn_world_verify(w));
    x[2].t.at -= 1000;
    assert_true(sn_world_verify(w));
    while (sn_world_step(w)) {}
    assert_int_equal(r.n, 3);
    assert_int_equal(r.ids[0], 3);
    assert_int_equal(r.at[0], 5);
    assert_int_equal(r.ids[1], 2);
    assert_int_equal(r.ids[2], 0);
    assert_int_equal(r.at[2], 300);
    sn_world_destroy(w);
}

static void queue_reschedule_at_same_time_goes_behind_ties(void **state) {
    (void)state;
    sn_world *w = new_world(1);
    rec r = { .n = 0 };
    tt a, b;
    tt_init(&a, 1, &r);
    tt_init(&b, 2, &r);
    sn_timer_schedule(w, &a.t, 7);
    sn_timer_schedule(w, &b.t, 7);
    sn_timer_schedule(w, &a.t, 7);
    while (sn_world_step(w)) {}
    assert_int_equal(r.ids[0], 2);
    assert_int_equal(r.ids[1], 1);
    sn_world_destroy(w);
}

/* Reference: a random mix of schedule/reschedule/cancel over 1000 timers
 * fires in (time, last-schedule order), compared with a brute-force scan. */
static void queue_random_ops_match_reference_order(void **state) {
    (void)state;
    enum { N = 1000 };
    sn_world *w = new_world(7);
    rec *r = calloc(1, sizeof *r);
    tt *x = calloc(N, sizeof *x);
    uint64_t *order = calloc(N, sizeof *order); /* reference seq */
    kp_time_us *at = calloc(N, sizeof *at);
    bool *live = calloc(N, sizeof *live);
    kp_rng g = kp_rng_stream(99, "ops");
    uint64_t seq = 0;
    for (int i = 0; i < N; i++)
        tt_init(&x[i], i, r);
    for (int op = 0; op < 20000; op++) {
        int i = (int)kp_rng_below(&g, N);
        if (kp_rng_chance(&g, 0.2)) {
            sn_timer_cancel(w, &x[i].t);
            live[i] = false;
        } else {
            at[i] = kp_rng_range(&g, 0, 50);
            order[i] = seq++;
            live[i] = true;
            sn_timer_schedule(w, &x[i].t, at[i]);
        }
    }
    assert_true(sn_world_verify(w));
    int expect = 0;
    for (int i = 0; i < N; i++)
        expect += live[i];
    assert_int_equal(sn_world_pending(w), expect);
    for (int k = 0; k < expect; k++) {
        int best = -1;
        for (int i = 0; i < N; i++)
            if (live[i] && (best < 0 || at[i] < at[best] ||
                            (at[i] == at[best] && order[i] < order[best])))
                best = i;
        live[best] = false;
        assert_true(sn_world_step(w));
        if (k % 97 == 0)
            assert_true(sn_world_verify(w));
        assert_int_equal(r->ids[r->n - 1], best);
        assert_int_equal(r->at[r->n - 1], at[best]);
    }
    assert_false(sn_world_step(w));
    free(r); free(x); free(order); free(at); free(live);
    sn_world_destroy(w);
}

/* Timers scheduled at now go through a FIFO ahead of the heap
 * (sn_world.h); callbacks that schedule, reschedule and cancel others at
 * now and later, mixed with timers already due at now from the heap, must
 * still fire in exactly (time, last-schedule) order. Checked against a
 * brute-force reference at every firing, with sn_world_verify (the FIFO's
 * back-indices, order and live count) along the way. */
enum { FZ_N = 200, FZ_FIRES = 20000 };
typedef struct fz fz;
typedef struct fz_timer {
    sn_timer t;
    int id;
    fz *z;
} fz_timer;
struct fz {
    fz_timer x[FZ_N];
    kp_time_us at[FZ_N];
    uint64_t ord[FZ_N];
    bool live[FZ_N];
    uint64_t seq;
    kp_rng g;
    int fired, wrong;
};

static void fz_schedule(fz *z, sn_world *w, int i, kp_time_us at) {
    z->at[i] = at;
    z->ord[i] = z->seq++;
    z->live[i] = true;
    sn_timer_schedule(w, &z->x[i].t, at);
}

static void fz_fire(void *ctx, sn_world *w) {
    fz_timer *x = ctx;
    fz *z = x->z;
    int best = -1;
    for (int i = 0; i < FZ_N; i++)
        if (z->live[i] && (best < 0 || z->at[i] < z->at[best] ||
                           (z->at[i] == z->at[best] && z->ord[i] < z->ord[best])))
            best = i;
    if (best != x->id || z->at[best] != sn_now(w))
        z->wrong++;
    z->live[x->id] = false;
    if (++z->fired >= FZ_FIRES)
        return;
    for (int k = 0, nops = 1 + (int)kp_rng_below(&z->g, 3); k < nops; k++) {
        int i = (int)kp_rng_below(&z->g, FZ_N);
        uint64_t r = kp_rng_below(&z->g, 10);
        if (r < 2) {
            sn_timer_cancel(w, &z->x[i].t);
            z->live[i] = false;
        } else {
            fz_schedule(z, w, i, sn_now(w) + (r < 7 ? 0 : kp_rng_range(&z->g, 1, 5)));
        }
    }
}

static void queue_same_time_fifo_keeps_time_seq_order(void **state) {
    (void)state;
    sn_world *w = new_world(3);
    fz *z = calloc(1, sizeof *z);
    z->g = kp_rng_stream(5, "fifo");
    for (int i = 0; i < FZ_N; i++) {
        z->x[i].id = i;
        z->x[i].z = z;
        sn_timer_init(&z->x[i].t, fz_fire, &z->x[i]);
        fz_schedule(z, w, i, kp_rng_range(&z->g, 0, 10));
    }
    int steps = 0;
    while (sn_world_step(w)) {
        if (++steps % 53 == 0) {
            assert_true(sn_world_verify(w));
            int live = 0;
            for (int i = 0; i < FZ_N; i++)
                live += z->live[i];
            assert_int_equal(sn_world_pending(w), live);
        }
    }
    assert_int_equal(z->wrong, 0);
    assert_true(z->fired >= FZ_FIRES);
    assert_int_equal(sn_world_pending(w), 0);
    free(z);
    sn_world_destroy(w);
}

/* next_time and run_until see a timer waiting in the FIFO. */
static void queue_fifo_timer_is_seen_by_next_time_and_run_until(void **state) {
    (void)state;
    sn_world *w = new_world(1);
    rec r = { .n = 0 };
    tt a, b;
    tt_init(&a, 1, &r);
    tt_init(&b, 2, &r);
    sn_timer_schedule(w, &b.t, 10);
    sn_timer_schedule(w, &a.t, 0); /* now: the FIFO */
    kp_time_us next = -1;
    assert_true(sn_world_next_time(w, &next));
    assert_int_equal(next, 0);
    assert_int_equal(sn_world_pending(w), 2);
    sn_world_run_until(w, 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.ids[0], 1);
    sn_timer_schedule(w, &a.t, 0);
    sn_timer_schedule(w, &a.t, 20); /* from the FIFO to the heap */
    assert_true(sn_world_next_time(w, &next));
    assert_int_equal(next, 10);
    sn_timer_cancel(w, &b.t);
    assert_true(sn_world_next_time(w, &next));
    assert_int_equal(next, 20);
    assert_true(sn_world_verify(w));
    sn_world_destroy(w);
}

static void run_until_includes_boundary_and_sets_now(void **state) {
    (void)state;
    sn_world *w = new_world(1);
    rec r = { .n = 0 };
    tt a, b;
    tt_init(&a, 1, &r);
    tt_init(&b, 2, &r);
    sn_timer_schedule(w, &a.t, 100);
    sn_timer_schedule(w, &b.t, 101);
    sn_world_run_until(w, 100);
    assert_int_equal(r.n, 1);
    assert_int_equal(sn_now(w), 100);
    sn_world_run_until(w, 1000);
    assert_int_equal(r.n, 2);
    assert_int_equal(sn_now(w), 1000);
    kp_clock c = sn_clock(w);
    assert_int_equal(kp_clock_now_us(&c), 1000);
    assert_int_equal(kp_clock_now_ms(&c), 1);
    assert_false(sn_world_step(w));
    sn_world_destroy(w);
}

/* The world's clock is read as a load (kp_clock.now_at), and agrees with
 * its function at every instant; a clock without now_at calls now_us. */
static kp_time_us fixed_now(void *ctx) { return *(const kp_time_us *)ctx; }

static void clock_reads_the_world_time_directly(void **state) {
    (void)state;
    sn_world *w = new_world(1);
    kp_clock c = sn_clock(w);
    assert_non_null(c.now_at);
    rec r = { .n = 0 };
    tt a;
    tt_init(&a, 1, &r);
    sn_timer_schedule(w, &a.t, 250);
    for (kp_time_us t = 0; t <= 1000; t += 125) {
        sn_world_run_until(w, t);
        assert_int_equal(kp_clock_now_us(&c), t);
        assert_int_equal(kp_clock_now_us(&c), c.now_us(c.ctx));
        assert_int_equal(kp_clock_now_us(&c), sn_now(w));
    }
    assert_int_equal(r.n, 1);
    kp_time_us v = 77;
    kp_clock f = { .now_us = fixed_now, .ctx = &v };
    assert_int_equal(kp_clock_now_us(&f), 77);
    assert_int_equal(kp_clock_now_ms(&f), 0);
    sn_world_destroy(w);
}

typedef struct periodic {
    sn_timer t;
    int fired;
} periodic;
static void periodic_fire(void *ctx, sn_world *w) {
    periodic *p = ctx;
    p->fired++;
    sn_timer_schedule(w, &p->t, sn_now(w) + 10);
}
static bool fired_five(void *ctx) { return ((periodic *)ctx)->fired >= 5; }

typedef struct gated {
    periodic p;
    bool gate;
    int asked;
} gated;
static void gated_fire(void *ctx, sn_world *w) {
    gated *g = ctx;
    periodic_fire(&g->p, w);
    if (g->p.fired == 3)
        g->gate = true;
}
static bool gated_done(void *ctx) {
    gated *g = ctx;
    g->asked++;
    return g->p.fired >= 2;
}

/* sn_world_run_gated asks done only while the gate is set: done already
 * holds after the second event, but the run goes on until the third sets
 * the gate, then stops before the next step. A gate that stays down runs
 * to the limit without asking. */
static void run_gated_asks_done_only_through_the_gate(void **state) {
    (void)state;
    sn_world *w = new_world(1);
    gated g = { .gate = false };
    sn_timer_init(&g.p.t, gated_fire, &g);
    sn_timer_schedule(w, &g.p.t, 10);
    assert_true(sn_world_run_gated(w, &g.gate, gated_done, &g, 1000000));
    assert_int_equal(g.p.fired, 3);
    assert_int_equal(g.asked, 1);
    assert_int_equal(sn_now(w), 30);
    g.gate = false;
    g.asked = 0;
    assert_false(sn_world_run_gated(w, &g.gate, gated_done, &g, 75));
    assert_int_equal(g.asked, 0);
    assert_int_equal(g.p.fired, 7); /* 40 .. 70 */
    assert_int_equal(sn_now(w), 75);
    sn_timer_cancel(w, &g.p.t);
    sn_world_destroy(w);
}

static void run_stops_at_done_or_limit(void **state) {
    (void)state;
    sn_world *w = new_world(1);
    periodic p = { .fired = 0 };
    sn_timer_init(&p.t, periodic_fire, &p);
    sn_timer_schedule(w, &p.t, 10);
    assert_true(sn_world_run(w, fired_five, &p, 1000000));
    assert_int_equal(p.fired, 5);
    assert_int_equal(sn_now(w), 50);
    assert_false(sn_world_run(w, NULL, NULL, 75));
    assert_int_equal(p.fired, 7); /* 60, 70 */
    assert_int_equal(sn_now(w), 75);
    sn_timer_cancel(w, &p.t);
    assert_false(sn_world_run(w, NULL, NULL, 1000));
    assert_int_equal(sn_now(w), 75); /* queue empty: now stays */
    assert_int_equal(sn_world_events_run(w), 7);
    sn_world_destroy(w);
}

/* A callback may free the memory that embeds its own timer. */
typedef struct selffree {
    sn_timer t;
    int *count;
} selffree;
static void selffree_fire(void *ctx, sn_world *w) {
    selffree *s = ctx;
    (*s->count)++;
    free(s);
    (void)w;
}

static void callback_may_free_its_timer(void **state) {
    (void)state;
    sn_world *w = new_world(1);
    int count = 0;
    for (int i = 0; i < 100; i++) {
        selffree *s = malloc(sizeof *s);
        s->count = &count;
        sn_timer_init(&s->t, selffree_fire, s);
        sn_timer_schedule(w, &s->t, i % 7);
    }
    while (sn_world_step(w)) {}
    assert_int_equal(count, 100);
    sn_world_destroy(w);
    sn_world_destroy(NULL);
}

static void rng_streams_are_independent(void **state) {
    (void)state;
    sn_world *w1 = new_world(42), *w2 = new_world(42), *w3 = new_world(43);
    kp_rng a1 = sn_rng_stream(w1, "producer-1");
    kp_rng b1 = sn_rng_stream(w1, "chaos");
    kp_rng a2 = sn_rng_stream(w2, "producer-1");
    kp_rng b2 = sn_rng_stream(w2, "chaos");
    kp_rng b3 = sn_rng_stream(w3, "chaos");
    /* extra draws on A in world 2 leave B's sequence unchanged */
    for (int i = 0; i < 1000; i++)
        (void)kp_rng_u64(&a2);
    (void)a1;
    int same_as_other_seed = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = kp_rng_u64(&b1);
        assert_true(x == kp_rng_u64(&b2));
        same_as_other_seed += x == kp_rng_u64(&b3);
    }
    assert_int_equal(same_as_other_seed, 0);
    /* different names under one seed differ */
    kp_rng p = sn_rng_stream(w1, "net/a/0/c2s"), q = sn_rng_stream(w1, "net/a/0/s2c");
    assert_true(kp_rng_u64(&p) != kp_rng_u64(&q));
    assert_int_equal(sn_world_seed(w3), 43);
    sn_world_destroy(w1);
    sn_world_destroy(w2);
    sn_world_destroy(w3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(queue_same_time_runs_in_schedule_order),
        cmocka_unit_test(queue_event_scheduled_during_step_runs_after_those_already_due),
        cmocka_unit_test(queue_past_times_clamp_to_now),
        cmocka_unit_test(queue_cancel_and_reschedule),
        cmocka_unit_test(queue_reschedule_at_same_time_goes_behind_ties),
        cmocka_unit_test(queue_random_ops_match_reference_order),
        cmocka_unit_test(queue_same_time_fifo_keeps_time_seq_order),
        cmocka_unit_test(queue_fifo_timer_is_seen_by_next_time_and_run_until),
        cmocka_unit_test(run_until_includes_boundary_and_sets_now),
        cmocka_unit_test(clock_reads_the_world_time_directly),
        cmocka_unit_test(run_stops_at_done_or_limit),
        cmocka_unit_test(run_gated_asks_done_only_through_the_gate),
        cmocka_unit_test(callback_may_free_its_timer),
        cmocka_unit_test(rng_streams_are_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
