/*
 * sn_world.h — the simulated world: virtual clock, event queue, PRNG streams.
 *
 * Why: everything in a simulation (the producer's linger timer, a broker's
 * replication tick, a byte arriving over a link, a chaos fault) is an event
 * on ONE queue that only this loop advances. Time never moves on its own,
 * so a run is a pure function of (scenario, seed, build) — DESIGN.md
 * "Determinism rules". Nothing here reads the real clock.
 *
 * The event queue (libuv timer.c, redis ae.c processTimeEvents):
 *   - a binary min-heap of embedded sn_timer structs, ordered by
 *     (at, seq): `seq` is a world-wide counter taken every time a timer is
 *     scheduled or rescheduled, so ties at one instant run in the order they
 *     were (last) scheduled. O(log n) schedule / cancel / reschedule; the
 *     heap's pointer array grows by doubling, never one malloc per schedule.
 *     A timer scheduled for the current time skips the heap: it goes to the
 *     tail of a FIFO, already in (at, seq) order since now never decreases
 *     and seq only grows, and a step runs the smaller of the heap's root and
 *     the FIFO's head — the same order as one heap, without the sifts.
 *   - EVENTS SCHEDULED DURING A STEP: a timer scheduled while a callback runs
 *     for the current time (or any earlier time, which is clamped to now —
 *     time never runs backwards) gets a larger seq than every timer already
 *     queued, so it runs after every event that was already due at that
 *     instant, and before time advances. In redis's words: it does not fire
 *     in the pass that created it; it fires in a later pass of the same time.
 *     A callback that reschedules itself at `now` forever is a livelock that
 *     sn_world_run's time limit does not catch: don't.
 *   - A timer is pending from schedule until it fires or is cancelled. When
 *     its callback runs it is no longer pending, so the callback may
 *     reschedule it (periodic timers) or free the memory embedding it; the
 *     loop does not touch a timer after calling its callback.
 *
 * Memory: sn_world_new allocates the world; sn_world_destroy frees it and
 * everything the world allocated (nodes, connections, chaos state). Timers
 * are owned by whoever embeds them; they must stay valid while pending
 * (cancel before freeing). A zero-filled sn_timer is a valid idle timer.
 */
#ifndef SN_WORLD_H
#define SN_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_env.h"
#include "kp_rng.h"

typedef struct sn_world sn_world;

/* The world's first member, public so that sn_now is a load, not a call:
 * it is read for nearly every event (observers stamp events with it). Not
 * for writing outside simnet. */
typedef struct sn_world_head {
    kp_time_us now;
} sn_world_head;

typedef struct sn_timer {
    kp_time_us at;       /* when it fires (valid while pending) */
    uint64_t seq;        /* tie-breaker: order of (re)scheduling */
    void (*fn)(void *ctx, sn_world *w);
    void *ctx;
    uint32_t heap_index; /* 1-based slot in the heap; 0 = not pending */
} sn_timer;

/* ---- the world ------------------------------------------------------- */

/* A new world at virtual time 0. `obs` receives every net event (kinds
 * 300..399, sn_events.h); its ctx must outlive the world. */
sn_world *sn_world_new(uint64_t seed, kp_observer obs);
/* Frees the world and all it owns; NULL is fine. Pending timers embedded in
 * the caller's own structs are simply forgotten. */
void sn_world_destroy(sn_world *w);

uint64_t sn_world_seed(const sn_world *w);
static inline kp_time_us sn_now(const sn_world *w) {
    return ((const sn_world_head *)(const void *)w)->now;
}
/* The clock seam over this world's virtual time (for kp_env.clock). In a
 * world owned by a live loop (live.h) it reads CLOCK_MONOTONIC instead. */
kp_clock sn_clock(sn_world *w);
kp_observer sn_world_observer(const sn_world *w);

/* Number of timer callbacks run so far (for benchmarks and statistics). */
uint64_t sn_world_events_run(const sn_world *w);
/* Number of timers pending now. */
uint32_t sn_world_pending(const sn_world *w);
/* Time of the earliest pending timer; false when the queue is empty. */
bool sn_world_next_time(const sn_world *w, kp_time_us *at);

/* Checks the world's invariants (heap order and back-indices; per
 * connection: chunk lengths add up to the bytes in flight, arrival times
 * never decrease, buffers within their bounds). Returns true when all hold;
 * tests and debug builds call it at transitions (redis checkConsistency). */
bool sn_world_verify(const sn_world *w);

/* ---- timers ---------------------------------------------------------- */

void sn_timer_init(sn_timer *t, void (*fn)(void *ctx, sn_world *w), void *ctx);
/* Schedules t at `at` (clamped to now when earlier). A pending timer is
 * rescheduled: it takes the new time AND a new seq, exactly as if it had been
 * cancelled and scheduled again. */
void sn_timer_schedule(sn_world *w, sn_timer *t, kp_time_us at);
/* Cancels a pending timer; no-op when it is not pending. */
void sn_timer_cancel(sn_world *w, sn_timer *t);
/* Inline: asked ~70,000 times in the quiet hour's 20,000 records (the
 * runner's wakeups, every connection post), a call of ~9 Ir for one load. */
static inline bool sn_timer_pending(const sn_timer *t) { return t->heap_index != 0; }

/* ---- running --------------------------------------------------------- */

/* Runs the earliest event: sets now to its time, then calls it. Returns false
 * (and does nothing) when the queue is empty. */
bool sn_world_step(sn_world *w);
/* Runs every event with time <= t (including those that events scheduled
 * meanwhile for times <= t), then sets now = t (when t > now). */
void sn_world_run_until(sn_world *w, kp_time_us t);
/* Runs events until done(ctx) returns true (checked before every step; done
 * may be NULL), the queue is empty, or the next event lies after `limit`.
 * Returns true iff done(ctx) returned true. When stopped by the limit, now is
 * set to `limit`; when the queue ran empty, now stays at the last event. */
bool sn_world_run(sn_world *w, bool (*done)(void *ctx), void *ctx, kp_time_us limit);
/* sn_world_run that asks done(ctx) only while *gate is true: the gate is
 * read before every step without a call, for a done that cannot hold
 * until a flag its owner keeps is set (the runner's "every producer has
 * closed"; asking its done was a call per step, ~8 Ir of ~2,500 per
 * step in the quiet hour). The same steps, stops and return as
 * sn_world_run with that done whenever done is false while *gate is. */
bool sn_world_run_gated(sn_world *w, const bool *gate, bool (*done)(void *ctx), void *ctx,
                        kp_time_us limit);

/* ---- randomness ------------------------------------------------------ */

/* The PRNG stream for `name` under this world's seed (kp_rng_stream): the
 * same (seed, name) always yields the same sequence, whatever other streams
 * drew. */
kp_rng sn_rng_stream(sn_world *w, const char *name);

#endif
