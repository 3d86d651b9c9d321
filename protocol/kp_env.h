/*
 * kp_env.h — the seams between the system under test and its world.
 *
 * Why this lives in protocol/: the producer and the broker both read time,
 * draw random numbers and report events, and neither may know which world it
 * runs in (DESIGN.md "The seams"). protocol/ is the one layer both depend on,
 * so the *interfaces* live here; the implementations live in simnet/
 * (virtual clock, simulated streams) and in simnet/live.c (CLOCK_MONOTONIC,
 * sockets + poll()). Nothing in this header does I/O.
 *
 * The rule it enforces: in producer/ and broker_mock/, time comes only from
 * kp_clock, bytes only through kp_transport, randomness only from a kp_rng
 * stream handed in by the environment, and everything worth tracing leaves
 * through kp_observer. `make tidy` rejects time(), clock_gettime(), rand(),
 * socket() and friends in those trees.
 *
 * Memory: every struct here is a small value owned by whoever embeds it;
 * the ctx pointers are borrowed and must outlive the component using them.
 */
#ifndef KP_ENV_H
#define KP_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "kp_err.h"
#include "kp_rng.h"

/* ------------------------------------------------------------------ */
/* Clock                                                               */
/* ------------------------------------------------------------------ */

/* Microseconds on a monotonic time line. In simulation, the virtual time
 * (starting at 0 unless a scenario says otherwise); live, CLOCK_MONOTONIC. */
typedef int64_t kp_time_us;

typedef struct kp_clock {
    kp_time_us (*now_us)(void *ctx);
    void *ctx;
    /* Optional (NULL: call now_us): where a virtual clock keeps its time,
     * read directly instead of through the call (the simulated world's
     * clock, read several times per event). *now_at must equal
     * now_us(ctx) whenever it is read. */
    const kp_time_us *now_at;
    /* Wall time = now_us + epoch_us, in microseconds since 1970. Used only
     * for timestamps that leave the process (a record's CreateTime, the
     * broker's LogAppendTime), never for timeouts. Live: CLOCK_REALTIME
     * minus CLOCK_MONOTONIC at start; simulation: KP_SIM_EPOCH_US, so
     * timestamps look real and stay deterministic. 0 (tests) = none. */
    int64_t epoch_us;
} kp_clock;

/* 2021-01-01T00:00:00Z: where simulated wall time starts. */
#define KP_SIM_EPOCH_US INT64_C(1609459200000000)

static inline kp_time_us kp_clock_now_us(const kp_clock *c) {
    return c->now_at ? *c->now_at : c->now_us(c->ctx);
}
/* Wall-clock milliseconds since 1970 (System.currentTimeMillis). */
static inline int64_t kp_clock_wall_ms(const kp_clock *c) {
    return (kp_clock_now_us(c) + c->epoch_us) / 1000;
}
/* The producer, like the Java client, works in milliseconds. */
static inline int64_t kp_clock_now_ms(const kp_clock *c) {
    return kp_clock_now_us(c) / 1000;
}

/* ------------------------------------------------------------------ */
/* Transport: non-blocking byte streams                                */
/* ------------------------------------------------------------------ */

/* A connection handle. Opaque; owned by the transport. It stays valid
 * until the user calls close() on it, even after the peer went away (then
 * send/recv report KP_ERR__TRANSPORT and the state is CLOSED). */
typedef struct kp_conn kp_conn;

typedef enum kp_conn_state {
    KP_CONN_CONNECTING = 1, /* connect() issued, not yet established */
    KP_CONN_CONNECTED  = 2, /* bytes may flow */
    KP_CONN_CLOSED     = 3  /* refused, reset, or closed by the peer */
} kp_conn_state;

/* Readiness notifications, delivered on the driving loop (never from inside
 * a send/recv/connect/close call on the same connection). */
typedef enum kp_conn_event {
    KP_CONN_EV_CONNECTED = 1, /* connect completed */
    KP_CONN_EV_READABLE  = 2, /* recv() would return > 0 bytes */
    KP_CONN_EV_WRITABLE  = 3, /* a send that returned short may go on */
    KP_CONN_EV_CLOSED    = 4  /* refused or reset; err says which */
} kp_conn_event;

typedef void kp_conn_cb(void *cb_ctx, kp_conn *conn, kp_conn_event ev, kp_err err);

/* One piece of a gather write (kp_transport.sendv). */
typedef struct kp_iov {
    const void *ptr;
    size_t len;
} kp_iov;

typedef struct kp_transport {
    /* Starts a non-blocking connect to host:port. Never blocks; returns a
     * handle in CONNECTING state (or CLOSED when refused at once, in which
     * case a CLOSED event still follows), or NULL only on a local failure
     * (no memory, bad address). `cb` receives this connection's events. */
    kp_conn *(*connect)(void *ctx, const char *host, int port,
                        kp_conn_cb *cb, void *cb_ctx);
    /* Queues up to len bytes; returns how many were accepted (0..len), or
     * -1 when the connection is closed. Bytes accepted are delivered in
     * order unless the connection dies. */
    ssize_t (*send)(void *ctx, kp_conn *conn, const void *buf, size_t len);
    /* Optional (NULL: not offered; use send). Exactly send() of the
     * concatenation of iov[0..n): the same return value, the same bytes
     * accepted and the same events, without the caller joining the
     * pieces first. The pieces are read during the call only. */
    ssize_t (*sendv)(void *ctx, kp_conn *conn, const kp_iov *iov, int n);
    /* Moves up to cap received bytes into buf; returns the count, 0 when
     * nothing is there now, -1 when closed and nothing is left. */
    ssize_t (*recv)(void *ctx, kp_conn *conn, void *buf, size_t cap);
    /* Closes and releases the handle; no more events for it. */
    void (*close)(void *ctx, kp_conn *conn);
    kp_conn_state (*state)(void *ctx, kp_conn *conn);
    /* Optional (NULL: a poller must assume true). A cheap question that
     * does no I/O and changes nothing: false means the connection is
     * CONNECTED and has nothing to read as far as the transport knows, so
     * a recv() now would return 0 and do nothing else; a poller may then
     * skip the connection. Simulated transports answer exactly; a socket
     * transport answers "no readiness reported since a recv() found
     * nothing" (bytes arriving later are reported by its next readiness
     * wait, with a READABLE event). True when bytes wait, when the state
     * is anything but CONNECTED, or when the transport cannot tell. */
    bool (*pending)(void *ctx, kp_conn *conn);
    /* Optional (NULL: not offered; only with pending). A counter over every
     * connection made through this transport (this ctx): it changes
     * whenever pending() of one of them may have turned from false to true
     * (bytes arrived, the state changed). Two equal reads mean no such
     * change happened in between, so a poller that found a connection not
     * pending after the first read may take it as still not pending
     * without asking again. Does no I/O and changes nothing. */
    uint64_t (*generation)(void *ctx);
    void *ctx;
    /* Optional (NULL: not offered; use sendv). sendv that may keep the
     * pieces whose bit is set in `keep` (bit i for iov[i], i < 32) by
     * reference instead of copying them. Such bytes must stay as they are,
     * where they are, until the peer has read them or this endpoint is
     * closed (close copies whatever is still referenced). A Kafka broker
     * reads a whole request before it answers, so a client may pass a
     * request's batches this way and keep them unchanged until the
     * response or its close. Same return value, bytes and events as
     * sendv. */
    ssize_t (*sendv_keep)(void *ctx, kp_conn *conn, const kp_iov *iov, int n, uint32_t keep);
    /* With sendv_keep: the transport copies whatever this endpoint lent
     * that it still refers to, so the caller may change or free those
     * bytes from now on (the peer still reads the same bytes). */
    void (*reclaim)(void *ctx, kp_conn *conn);
} kp_transport;

/* ------------------------------------------------------------------ */
/* Events (observer)                                                   */
/* ------------------------------------------------------------------ */

/* Event kinds are numbered per layer so layers add kinds without touching
 * each other: the producer's kinds are 100..199 (producer/kp_events.h),
 * the broker's 200..299 (broker_mock/), the network's 300..399 (simnet/),
 * the harness's 400..499 (scenarios/). */
enum {
    KP_EV_BASE_PRODUCER  = 100,
    KP_EV_BASE_BROKER    = 200,
    KP_EV_BASE_NET       = 300,
    KP_EV_BASE_HARNESS   = 400
};

#define KP_EV_NONE32 (-1)

/* One thing that happened. Plain data: fields that do not apply are -1
 * (ints) or NULL (strings); strings are borrowed for the duration of the
 * callback only. The harness copies what it keeps. It also hashes every
 * string of every event into its run digest (scenarios/sc_digest.h): a
 * string literal (read-only memory) once per run, any other string —
 * heap, stack, a buffer formatted per event — from its bytes on every
 * event. Nothing more is promised or required of the emitter; a literal
 * is simply the cheapest detail for a frequent event. */
typedef struct kp_event {
    int kind;               /* KP_EV_BASE_* + layer-specific number */
    int32_t node;           /* broker id / node id this concerns */
    int32_t partition;
    int32_t producer_epoch;
    int64_t batch_id;       /* producer-unique batch id */
    int32_t base_sequence;
    int32_t record_count;
    int64_t bytes;
    int32_t correlation_id;
    int32_t api_key;
    kp_err err;
    int32_t attempt;
    int64_t offset;         /* base offset, log end, high watermark ... */
    int64_t producer_id;
    int64_t value;          /* kind-specific number (e.g. backoff ms) */
    kp_time_us time_us;     /* filled by the emitter from its clock */
    const char *topic;
    const char *detail;     /* short human text, e.g. "linger expired" */
} kp_event;

/* The fields are ordered so that the struct has no padding (each 32-bit
 * field pairs with another before an 8-byte one): kp_event_init then
 * initialises every byte by assigning every field, with no memset first
 * (a memset of the struct compiled to `rep stos`, a dozen instructions
 * under callgrind and a slow start on real CPUs, on every event). The
 * numbers come first and the time and the two strings last: the run
 * digest (scenarios/sc_digest.h) reads the first 80 bytes as they are,
 * in five 16-byte blocks, and replaces the other three (the runner's time
 * for time_us, content hashes for the strings). */
_Static_assert(sizeof(kp_event) == sizeof(int) + 8 * sizeof(int32_t) + sizeof(kp_err) + sizeof(kp_time_us) +
                                      5 * sizeof(int64_t) + 2 * sizeof(const char *),
               "kp_event has no padding bytes");

/* Initialises an event with every optional field "not applicable" (every
 * field, so every byte: the struct has no padding). Inline: every
 * event of the run goes through it (out of line it was 2.7% of a
 * throughput run's instructions, callgrind), and inlined the compiler
 * drops the stores an emitter overwrites at once. */
static inline void kp_event_init(kp_event *ev, int kind, kp_time_us now) {
    *ev = (kp_event){
        .kind = kind,
        .node = -1,
        .time_us = now,
        .topic = NULL,
        .partition = -1,
        .producer_epoch = -1,
        .batch_id = -1,
        .base_sequence = -1,
        .record_count = -1,
        .bytes = -1,
        .correlation_id = -1,
        .api_key = -1,
        .err = KP_ERR_NONE,
        .attempt = -1,
        .offset = -1,
        .producer_id = -1,
        .value = -1,
        .detail = NULL,
    };
}

typedef struct kp_observer {
    void (*on_event)(void *ctx, const kp_event *ev); /* may be NULL */
    void *ctx;
} kp_observer;

static inline void kp_observer_emit(const kp_observer *o, const kp_event *ev) {
    if (o && o->on_event)
        o->on_event(o->ctx, ev);
}

/* ------------------------------------------------------------------ */
/* Environment                                                         */
/* ------------------------------------------------------------------ */

/* What a component (a producer, a broker cluster) is given to live by.
 * wakeup: the component asks its driver to run it again as soon as
 * possible (Sender.wakeup()); in simulation an event at the current time,
 * live a poll() interruption. */
typedef struct kp_env {
    kp_clock clock;
    kp_transport transport;  /* unused by broker_mock */
    kp_observer observer;
    kp_rng rng;              /* this component's own stream (by value) */
    void (*wakeup)(void *ctx);
    void *wakeup_ctx;
} kp_env;

#endif
