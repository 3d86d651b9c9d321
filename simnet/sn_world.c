/*
 * sn_world.c — virtual clock, event heap and PRNG streams (see sn_world.h).
 *
 * The step reads as the specification (libuv uv_run): pop the earliest
 * timer, advance the clock to its time, mark it idle, call it. Nothing else
 * happens in a step; connections and chaos are just timers.
 */
#include "sn_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* World                                                               */
/* ------------------------------------------------------------------ */

sn_world *sn_world_new(uint64_t seed, kp_observer obs) {
    sn_world *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->seed = seed;
    w->obs = obs;
    w->default_link = (sn_link_cfg){ .latency_us = 1000 };
    w->sndbuf = 131072; /* producer send.buffer.bytes */
    w->rcvbuf = 131072;
    w->next_conn_id = 1;
    return w;
}

void sn_world_destroy(sn_world *w) {
    if (!w)
        return;
    sn__chaos_destroy(w);
    sn__faults_destroy(w);
    sn__net_destroy(w);
    /* the caller's pending timers are not touched: their memory may be gone */
    free(w->heap);
    free(w->fifo);
    free(w);
}

uint64_t sn_world_seed(const sn_world *w) { return w->seed; }
kp_observer sn_world_observer(const sn_world *w) { return w->obs; }
uint64_t sn_world_events_run(const sn_world *w) { return w->events_run; }
uint32_t sn_world_pending(const sn_world *w) { return w->heap_len + w->fifo_live; }

static kp_time_us sn__clock_now(void *ctx) {
    return ((const sn_world *)ctx)->head.now;
}

kp_clock sn_clock(sn_world *w) {
    if (w->live)
        return w->live_clock;
    return (kp_clock){ .now_us = sn__clock_now, .ctx = w, .now_at = &w->head.now,
                       .epoch_us = KP_SIM_EPOCH_US };
}

void sn__world_set_live(sn_world *w, kp_clock clock) {
    w->live = true;
    w->live_clock = clock;
}

void sn__world_set_now(sn_world *w, kp_time_us now) {
    if (now > w->head.now)
        w->head.now = now;
}

kp_rng sn_rng_stream(sn_world *w, const char *name) {
    return kp_rng_stream(w->seed, name);
}

/* ------------------------------------------------------------------ */
/* Heap on (at, seq)                                                   */
/* ------------------------------------------------------------------ */

static inline bool sn__before(const sn__hent *a, const sn__hent *b) {
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static inline void sn__heap_set(sn_world *w, uint32_t i, sn__hent e) {
    w->heap[i] = e;
    e.t->heap_index = i + 1;
}

/* The entries are passed as their three fields, not as a 24-byte struct
 * by value (which went through the stack at every call). */
static inline __attribute__((always_inline)) void sn__heap_put(sn_world *w, uint32_t i, kp_time_us at,
                                                              uint64_t seq, sn_timer *t) {
    w->heap[i] = (sn__hent){ at, seq, t };
    t->heap_index = i + 1;
}

/* Sift up an entry whose seq is larger than every other in the heap (a
 * timer just (re)scheduled: seqs only grow), so only `at` orders it
 * against the others. */
static inline __attribute__((always_inline)) void sn__sift_up_newest(sn_world *w, uint32_t i, kp_time_us at,
                                                                    uint64_t seq, sn_timer *t) {
    sn__hent *h = w->heap;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!(at < h[p].at))
            break;
        sn__heap_set(w, i, h[p]);
        i = p;
    }
    sn__heap_put(w, i, at, seq, t);
}

static void sn__sift_up(sn_world *w, uint32_t i, kp_time_us at, uint64_t seq, sn_timer *t) {
    const sn__hent e = { at, seq, t };
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!sn__before(&e, &w->heap[p]))
            break;
        sn__heap_set(w, i, w->heap[p]);
        i = p;
    }
    sn__heap_put(w, i, at, seq, t);
}

static inline __attribute__((always_inline)) void sn__sift_down(sn_world *w, uint32_t i, kp_time_us at,
                                                               uint64_t seq, sn_timer *t) {
    const sn__hent e = { at, seq, t };
    uint32_t n = w->heap_len;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && sn__before(&w->heap[c + 1], &w->heap[c]))
            c++;
        if (!sn__before(&w->heap[c], &e))
            break;
        sn__heap_set(w, i, w->heap[c]);
        i = c;
    }
    sn__heap_put(w, i, at, seq, t);
}

/* Puts (at, seq, t) at slot i (vacated or being updated), restoring heap
 * order. */
static void sn__heap_fix(sn_world *w, uint32_t i, kp_time_us at, uint64_t seq, sn_timer *t) {
    const sn__hent e = { at, seq, t };
    if (i > 0 && sn__before(&e, &w->heap[(i - 1) / 2]))
        sn__sift_up(w, i, at, seq, t);
    else
        sn__sift_down(w, i, at, seq, t);
}

static void sn__heap_remove(sn_world *w, uint32_t i) {
    w->heap[i].t->heap_index = 0;
    w->heap_len--;
    if (i == w->heap_len)
        return;
    const sn__hent *last = &w->heap[w->heap_len];
    sn__heap_fix(w, i, last->at, last->seq, last->t);
}

/* sn__heap_remove(w, 0), the step's pop: the last entry sifts down from
 * the root (it cannot go up), inline in the run loop. */
static inline __attribute__((always_inline)) void sn__heap_pop(sn_world *w) {
    w->heap[0].t->heap_index = 0;
    uint32_t n = --w->heap_len;
    if (!n)
        return;
    const sn__hent *last = &w->heap[n];
    sn__sift_down(w, 0, last->at, last->seq, last->t);
}

/* ------------------------------------------------------------------ */
/* FIFO of timers scheduled at now (sn_int.h)                          */
/* ------------------------------------------------------------------ */

/* The FIFO is full: slide or grow it (sn__fifo_push). */
static __attribute__((noinline)) void sn__fifo_room(sn_world *w) {
    if (w->fifo_cap && w->fifo_live <= w->fifo_cap / 2) {
        /* slide the live slots to the front, dropping popped and
         * cancelled ones: at least half the array comes free, so the
         * slide is paid for by the pushes that fill it again */
        uint32_t j = 0;
        for (uint32_t i = w->fifo_head; i < w->fifo_len; i++)
            if (w->fifo[i].t) {
                w->fifo[j] = w->fifo[i];
                w->fifo[j].t->heap_index = SN__IN_FIFO | (j + 1);
                j++;
            }
        w->fifo_head = 0;
        w->fifo_len = j;
    } else {
        uint32_t cap = w->fifo_cap ? w->fifo_cap * 2 : 64;
        sn__hent *f = realloc(w->fifo, (size_t)cap * sizeof *f);
        if (!f)
            abort(); /* as for the heap */
        w->fifo = f;
        w->fifo_cap = cap;
    }
}

static inline __attribute__((always_inline)) void sn__fifo_push(sn_world *w, kp_time_us at, uint64_t seq,
                                                               sn_timer *t) {
    if (w->fifo_len == w->fifo_cap)
        sn__fifo_room(w);
    w->fifo[w->fifo_len] = (sn__hent){ at, seq, t };
    t->heap_index = SN__IN_FIFO | (w->fifo_len + 1);
    w->fifo_len++;
    w->fifo_live++;
}

static inline void sn__fifo_remove(sn_world *w, uint32_t i) {
    w->fifo[i].t->heap_index = 0;
    w->fifo[i].t = NULL;
    if (--w->fifo_live == 0) {
        w->fifo_head = w->fifo_len = 0;
        return;
    }
    while (!w->fifo[w->fifo_head].t) /* a live slot follows */
        w->fifo_head++;
}

/* Takes t out of whichever queue holds it (it is pending). */
static void sn__unqueue(sn_world *w, sn_timer *t) {
    uint32_t i = (t->heap_index & ~SN__IN_FIFO) - 1;
    if (t->heap_index & SN__IN_FIFO) {
        assert(i < w->fifo_len && w->fifo[i].t == t);
        sn__fifo_remove(w, i);
    } else {
        assert(i < w->heap_len && w->heap[i].t == t);
        sn__heap_remove(w, i);
    }
}

/* The earliest pending entry on (at, seq), NULL when none; *in_fifo says
 * which queue it heads. */
static inline const sn__hent *sn__first(const sn_world *w, bool *in_fifo) {
    const sn__hent *h = w->heap_len ? &w->heap[0] : NULL;
    *in_fifo = false;
    if (w->fifo_live) {
        const sn__hent *f = &w->fifo[w->fifo_head];
        if (!h || sn__before(f, h)) {
            *in_fifo = true;
            return f;
        }
    }
    return h;
}

/* ------------------------------------------------------------------ */
/* Timers                                                              */
/* ------------------------------------------------------------------ */

void sn_timer_init(sn_timer *t, void (*fn)(void *ctx, sn_world *w), void *ctx) {
    memset(t, 0, sizeof *t);
    t->fn = fn;
    t->ctx = ctx;
}

/* The heap is full: double it. */
static __attribute__((noinline)) void sn__heap_grow(sn_world *w) {
    uint32_t cap = w->heap_cap ? w->heap_cap * 2 : 256;
    sn__hent *h = realloc(w->heap, (size_t)cap * sizeof *h);
    if (!h)
        abort(); /* the simulation cannot go on without its queue */
    w->heap = h;
    w->heap_cap = cap;
}

/* sn_timer_schedule of a pending timer (t->at and t->seq already new). */
static __attribute__((noinline)) void sn__reschedule(sn_world *w, sn_timer *t) {
    kp_time_us at = t->at;
    if (at == w->head.now) {
        /* after every other entry at now: the FIFO's tail */
        sn__unqueue(w, t);
        sn__fifo_push(w, at, t->seq, t);
        return;
    }
    if (t->heap_index & SN__IN_FIFO) {
        sn__unqueue(w, t);
        if (w->heap_len == w->heap_cap)
            sn__heap_grow(w);
        sn__sift_up_newest(w, w->heap_len++, at, t->seq, t);
        return;
    }
    uint32_t i = t->heap_index - 1;
    assert(i < w->heap_len && w->heap[i].t == t);
    sn__heap_fix(w, i, at, t->seq, t);
}

/* sn_timer_schedule's push when the FIFO or the heap is full: a tail
 * call of its own, so the common path keeps nothing across a call (its
 * frame saved and restored three registers for these calls, ~8 Ir per
 * schedule). */
static __attribute__((noinline)) void sn__schedule_full(sn_world *w, sn_timer *t, kp_time_us at, uint64_t seq) {
    if (at == w->head.now) {
        sn__fifo_push(w, at, seq, t);
        return;
    }
    sn__heap_grow(w);
    sn__sift_up_newest(w, w->heap_len++, at, seq, t);
}

/* The common cases (an idle timer, for now or later) inline: the FIFO's
 * tail, or a push that sifts up by `at` alone (its seq is the largest).
 * Measured (callgrind, quiet-hour, 20,000 records, ~122,000 schedules):
 * the schedule with its sifts was ~11.1M Ir. */
void sn_timer_schedule(sn_world *w, sn_timer *t, kp_time_us at) {
    assert(t->fn);
    kp_time_us now = w->head.now;
    if (at < now)
        at = now;
    uint64_t seq = w->next_seq++;
    t->at = at;
    t->seq = seq;
    if (t->heap_index) {
        sn__reschedule(w, t);
        return;
    }
    if (at == now) {
        if (w->fifo_len == w->fifo_cap) {
            sn__schedule_full(w, t, at, seq);
            return;
        }
        w->fifo[w->fifo_len] = (sn__hent){ at, seq, t };
        t->heap_index = SN__IN_FIFO | (w->fifo_len + 1);
        w->fifo_len++;
        w->fifo_live++;
        return;
    }
    if (w->heap_len == w->heap_cap) {
        sn__schedule_full(w, t, at, seq);
        return;
    }
    sn__sift_up_newest(w, w->heap_len++, at, seq, t);
}

void sn_timer_cancel(sn_world *w, sn_timer *t) {
    if (t->heap_index)
        sn__unqueue(w, t);
}

bool sn_world_next_time(const sn_world *w, kp_time_us *at) {
    bool in_fifo;
    const sn__hent *e = sn__first(w, &in_fifo);
    if (!e)
        return false;
    *at = e->at;
    return true;
}

bool sn_world_verify(const sn_world *w) {
    for (uint32_t i = 0; i < w->heap_len; i++) {
        const sn__hent *e = &w->heap[i];
        if (e->t->heap_index != i + 1 || e->t->at != e->at || e->t->seq != e->seq)
            return false;
        if (i > 0 && sn__before(e, &w->heap[(i - 1) / 2]))
            return false;
        if (e->at < w->head.now && !w->live)
            return false;
    }
    if (w->fifo_head > w->fifo_len || w->fifo_len > w->fifo_cap ||
        (w->fifo_len > 0 && !w->fifo[w->fifo_head].t))
        return false;
    uint32_t live = 0;
    const sn__hent *prev = NULL;
    for (uint32_t i = w->fifo_head; i < w->fifo_len; i++) {
        const sn__hent *e = &w->fifo[i];
        if (!e->t)
            continue;
        if (e->t->heap_index != (SN__IN_FIFO | (i + 1)) || e->t->at != e->at ||
            e->t->seq != e->seq || e->at > w->head.now || (prev && !sn__before(prev, e)))
            return false;
        prev = e;
        live++;
    }
    if (live != w->fifo_live)
        return false;
    return sn__net_verify(w);
}

/* ------------------------------------------------------------------ */
/* Running                                                             */
/* ------------------------------------------------------------------ */

/* Runs e, the first entry (sn__first). */
/* sn__fifo_remove of the FIFO's head, the step's pop: its slot needs no
 * NULL (the head moves past it at once). */
static inline __attribute__((always_inline)) void sn__fifo_pop(sn_world *w) {
    uint32_t i = w->fifo_head;
    w->fifo[i].t->heap_index = 0;
    if (--w->fifo_live == 0) {
        w->fifo_head = w->fifo_len = 0;
        return;
    }
    do /* a live slot follows */
        i++;
    while (!w->fifo[i].t);
    w->fifo_head = i;
}

static inline __attribute__((always_inline)) void sn__run_first(sn_world *w, const sn__hent *e, bool in_fifo) {
    sn_timer *t = e->t;
    if (in_fifo)
        sn__fifo_pop(w);
    else
        sn__heap_pop(w);
    if (t->at > w->head.now)
        w->head.now = t->at;
    w->events_run++;
    t->fn(t->ctx, w); /* t may be freed or rescheduled in here */
}

bool sn_world_step(sn_world *w) {
    bool in_fifo;
    const sn__hent *e = sn__first(w, &in_fifo);
    if (!e)
        return false;
    sn__run_first(w, e, in_fifo);
    return true;
}

void sn_world_run_until(sn_world *w, kp_time_us t) {
    assert(!w->live);
    bool in_fifo;
    for (const sn__hent *e; (e = sn__first(w, &in_fifo)) && e->at <= t;)
        sn__run_first(w, e, in_fifo);
    if (t > w->head.now)
        w->head.now = t;
}

/* The loop of sn_world_run and sn_world_run_gated (gate NULL: done is
 * asked before every step). */
static inline __attribute__((always_inline)) bool sn__run(sn_world *w, const bool *gate,
                                                          bool (*done)(void *ctx), void *ctx,
                                                          kp_time_us limit) {
    assert(!w->live);
    for (;;) {
        if (done && (!gate || *gate) && done(ctx))
            return true;
        bool in_fifo;
        const sn__hent *e = sn__first(w, &in_fifo);
        if (!e)
            return false;
        if (e->at > limit) {
            if (limit > w->head.now)
                w->head.now = limit;
            return false;
        }
        sn__run_first(w, e, in_fifo);
    }
}

bool sn_world_run(sn_world *w, bool (*done)(void *ctx), void *ctx, kp_time_us limit) {
    return sn__run(w, NULL, done, ctx, limit);
}

bool sn_world_run_gated(sn_world *w, const bool *gate, bool (*done)(void *ctx), void *ctx,
                        kp_time_us limit) {
    return sn__run(w, gate, done, ctx, limit);
}
