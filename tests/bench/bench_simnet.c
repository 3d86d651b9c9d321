/*
 * bench_simnet.c — how fast the simulated world runs.
 *
 *   timers      events scheduled + fired per second (each event is one
 *               sn_timer_schedule and one callback), with 1k and 100k timers
 *               pending, and with a cancel + reschedule per event
 *   streams     bytes per second moved through a simulated connection
 *               (send -> chunks -> delivery -> recv), whole-send chunks and
 *               MTU-like 1..1500-byte chunks
 *
 * Wall time is measured here, in the bench, never inside simnet.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simnet.h"

static double wall_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- timers ---------------------------------------------------------------- */

typedef struct bt {
    sn_timer t;
    sn_timer *victim; /* optional: cancel + reschedule this one each fire */
    uint32_t k;
} bt;

static uint32_t g_delays[4096];

static void bt_fire(void *ctx, sn_world *w) {
    bt *b = ctx;
    b->k = (b->k + 1) & 4095;
    kp_time_us now = sn_now(w);
    sn_timer_schedule(w, &b->t, now + 1 + g_delays[b->k]);
    if (b->victim) {
        sn_timer_cancel(w, b->victim);
        sn_timer_schedule(w, b->victim, now + 1 + g_delays[(b->k + 7) & 4095]);
    }
}

static void bench_timers(int pending, uint64_t events, bool with_cancel) {
    sn_world *w = sn_world_new(1, (kp_observer){ 0 });
    bt *v = calloc((size_t)pending, sizeof *v);
    for (int i = 0; i < pending; i++) {
        sn_timer_init(&v[i].t, bt_fire, &v[i]);
        v[i].k = (uint32_t)i & 4095;
        if (with_cancel)
            v[i].victim = &v[(i + pending / 2) % pending].t;
        sn_timer_schedule(w, &v[i].t, g_delays[i & 4095]);
    }
    double t0 = wall_s();
    for (uint64_t i = 0; i < events; i++)
        sn_world_step(w);
    double dt = wall_s() - t0;
    printf("simnet timers: %6d pending%s: %8.2f M events/s (scheduled+fired; %llu in %.2f s)\n",
           pending, with_cancel ? ", +cancel+reschedule" : "                    ",
           (double)events / dt / 1e6, (unsigned long long)events, dt);
    free(v);
    sn_world_destroy(w);
}

/* ---- streams --------------------------------------------------------------- */

typedef struct pipe_end {
    kp_conn *c;
    uint64_t moved, target;
} pipe_end;

static void rx_cb(void *ctx, kp_conn *c, kp_conn_event ev, kp_err err) {
    pipe_end *p = ctx;
    (void)err;
    if (ev != KP_CONN_EV_READABLE)
        return;
    static uint8_t buf[65536];
    ssize_t r;
    while ((r = sn_conn_recv(c, buf, sizeof buf)) > 0)
        p->moved += (uint64_t)r;
}

static void on_accept(void *ctx, kp_conn *c) {
    pipe_end *p = ctx;
    p->c = c;
    sn_conn_set_cb(c, rx_cb, p);
}

/* The writer: fills the socket until send returns short, then waits for
 * WRITABLE, as a poll-driven client does. */
typedef struct writer {
    kp_conn *c;
    uint8_t *buf;
    size_t write_size;
    uint64_t sent, total;
} writer;

static void writer_pump(writer *wr) {
    while (wr->sent < wr->total) {
        size_t n = wr->write_size;
        if (n > wr->total - wr->sent)
            n = (size_t)(wr->total - wr->sent);
        ssize_t r = sn_conn_send(wr->c, wr->buf, n);
        if (r <= 0)
            return;
        wr->sent += (uint64_t)r;
        if ((size_t)r < n)
            return;
    }
}

static void tx_cb(void *ctx, kp_conn *c, kp_conn_event ev, kp_err err) {
    writer *wr = ctx;
    (void)err;
    wr->c = c;
    if (ev == KP_CONN_EV_CONNECTED || ev == KP_CONN_EV_WRITABLE)
        writer_pump(wr);
}

static bool all_moved(void *ctx) {
    const pipe_end *p = ctx;
    return p->moved >= p->target;
}

static void bench_stream(const char *label, sn_link_cfg link, uint64_t total, size_t write_size) {
    sn_world *w = sn_world_new(1, (kp_observer){ 0 });
    sn_set_default_link(w, link);
    sn_node *a = sn_node_add(w, "producer-1"), *b = sn_node_add(w, "broker-0");
    pipe_end rx = { .target = total };
    sn_node_listen(b, NULL, 9092, on_accept, &rx);
    writer wr = { .write_size = write_size, .total = total, .buf = malloc(write_size) };
    memset(wr.buf, 0x5a, write_size);
    kp_transport tr = sn_transport(w, a);
    tr.connect(tr.ctx, "broker-0", 9092, tx_cb, &wr);
    double t0 = wall_s();
    sn_world_run(w, all_moved, &rx, INT64_MAX);
    double dt = wall_s() - t0;
    uint64_t evs = sn_world_events_run(w);
    printf("simnet stream: %-34s %8.1f MB/s moved (%llu MB, %.2f M events, %.2f s wall, %.2f s simulated)\n",
           label, (double)rx.moved / dt / 1e6, (unsigned long long)(rx.moved / 1000000),
           (double)evs / 1e6, dt, (double)sn_now(w) / 1e6);
    free(wr.buf);
    sn_world_destroy(w);
}

int main(void) {
    kp_rng r = kp_rng_stream(1, "bench");
    for (int i = 0; i < 4096; i++)
        g_delays[i] = (uint32_t)kp_rng_below(&r, 1000);
    bench_timers(1000, 20000000, false);
    bench_timers(100000, 10000000, false);
    bench_timers(1000, 10000000, true);
    bench_stream("16 KiB writes, whole-send chunks",
                 (sn_link_cfg){ .latency_us = 500 }, 4000000000ULL, 16384);
    bench_stream("16 KiB writes, 1..1500 B chunks",
                 (sn_link_cfg){ .latency_us = 500, .jitter_us = 100, .min_chunk = 1, .max_chunk = 1500 },
                 2000000000ULL, 16384);
    bench_stream("1 Gbit/s link, 1..1500 B chunks",
                 (sn_link_cfg){ .latency_us = 500, .bandwidth_bps = 1000000000, .min_chunk = 1, .max_chunk = 1500 },
                 2000000000ULL, 16384);
    return 0;
}
