/*
 * test_determinism.c — a busy randomized simulation (many nodes and
 * connections, random sends, closes and aborts, chaos faults of every kind)
 * whose every net event and every callback is folded into one FNV-1a hash.
 * Same seed => same hash, run after run and under any fake wall clock.
 *
 * Two modes:
 *   test_determinism                 cmocka tests (same seed twice, seeds
 *                                    differ, bytes intact under chaos)
 *   test_determinism --hash SEED     prints "seed=SEED hash=H events=N"
 *   test_determinism --canary SEED   the same with the wall clock (hour)
 *                                    mixed in: what the suite must catch
 *   test_determinism --wallclock     prints the wall-clock year (proves to
 *                                    tests/suites/determinism_simnet.sh
 *                                    that libfaketime is in effect)
 * The suite runs --hash plain and under two libfaketime clocks and demands
 * identical lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sn_testkit.h"

#define N_BROKERS 3
#define N_CLIENTS 9
#define MAX_CC 6       /* connections per client */
#define MAX_SC 4096    /* server-side connection slots */
#define SIM_SECONDS 10

typedef struct sim sim;

typedef struct cconn {
    struct actor *a;
    kp_conn *c;
    uint64_t tag;       /* the connection id: both ends know it */
    uint64_t sent, got;
    bool used;
} cconn;

typedef struct actor {
    sim *s;
    sn_node *node;
    kp_transport tr;
    kp_rng rng;
    sn_timer tick;
    cconn cc[MAX_CC];
} actor;

typedef struct sconn {
    sim *s;
    kp_conn *c;
    uint64_t tag, got, sent;
    bool used;
} sconn;

struct sim {
    sn_world *w;
    uint64_t hash;
    uint64_t events;
    uint64_t corrupt;       /* bytes that differ from their stream */
    uint64_t bytes_in;      /* bytes verified at servers and clients */
    uint64_t broken;        /* sn_world_verify failures */
    sn_node *brokers[N_BROKERS];
    actor clients[N_CLIENTS];
    sconn sc[MAX_SC];
};

/* ---- hashing ------------------------------------------------------------ */

static uint64_t h_i64(uint64_t h, int64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i)); /* big-endian: any host */
    return kp_fnv1a64(b, 8, h);
}

static uint64_t h_str(uint64_t h, const char *s) {
    if (!s)
        return h_i64(h, -1);
    h = h_i64(h, (int64_t)strlen(s));
    return kp_fnv1a64(s, strlen(s), h);
}

/* Field by field: never the struct's bytes, which include padding. */
static void on_event(void *ctx, const kp_event *ev) {
    sim *s = ctx;
    uint64_t h = s->hash;
    h = h_i64(h, ev->kind);
    h = h_i64(h, ev->time_us);
    h = h_i64(h, ev->node);
    h = h_str(h, ev->topic);
    h = h_i64(h, ev->partition);
    h = h_i64(h, ev->batch_id);
    h = h_i64(h, ev->base_sequence);
    h = h_i64(h, ev->record_count);
    h = h_i64(h, ev->bytes);
    h = h_i64(h, ev->correlation_id);
    h = h_i64(h, ev->api_key);
    h = h_i64(h, ev->err);
    h = h_i64(h, ev->attempt);
    h = h_i64(h, ev->offset);
    h = h_i64(h, ev->producer_id);
    h = h_i64(h, ev->producer_epoch);
    h = h_i64(h, ev->value);
    h = h_str(h, ev->detail);
    s->hash = h;
    s->events++;
}

/* What users saw through callbacks goes into the hash too. */
static void note(sim *s, int what, uint64_t tag, int64_t x) {
    s->hash = h_i64(h_i64(h_i64(h_i64(s->hash, 1000 + what), (int64_t)tag), x), sn_now(s->w));
}

static void verify(sim *s, const uint8_t *b, size_t n, uint64_t tag, uint64_t off) {
    for (size_t i = 0; i < n; i++)
        s->corrupt += b[i] != tk_byte(tag, off + i);
    s->bytes_in += n;
}

/* ---- servers: verify what arrives, answer a quarter of it --------------- */

static void server_cb(void *ctx, kp_conn *c, kp_conn_event ev, kp_err err) {
    sconn *x = ctx;
    sim *s = x->s;
    note(s, 10 + (int)ev, x->tag, err);
    if (ev == KP_CONN_EV_CLOSED) {
        sn_conn_close(c);
        x->used = false;
        return;
    }
    if (ev != KP_CONN_EV_READABLE)
        return;
    uint8_t buf[4096];
    ssize_t r;
    size_t total = 0;
    while ((r = sn_conn_recv(c, buf, sizeof buf)) > 0) {
        verify(s, buf, (size_t)r, x->tag, x->got);
        x->got += (uint64_t)r;
        total += (size_t)r;
    }
    size_t reply = total / 4;
    uint8_t out[4096];
    while (reply > 0) {
        size_t k = reply < sizeof out ? reply : sizeof out;
        for (size_t i = 0; i < k; i++)
            out[i] = tk_byte(x->tag ^ 0xabcdefULL, x->sent + i);
        ssize_t w = sn_conn_send(c, out, k);
        if (w <= 0)
            break;
        x->sent += (uint64_t)w;
        reply -= (size_t)w;
    }
    note(s, 20, x->tag, (int64_t)total);
}

static void server_accept(void *ctx, kp_conn *c) {
    sim *s = ctx;
    for (int i = 0; i < MAX_SC; i++) {
        if (s->sc[i].used)
            continue;
        sconn *x = &s->sc[i];
        *x = (sconn){ .s = s, .c = c, .tag = sn_conn_id(c), .used = true };
        sn_conn_set_cb(c, server_cb, x);
        note(s, 30, x->tag, i);
        return;
    }
    sn_conn_close(c); /* out of slots: bounded like a real server */
}

/* ---- clients: random connects, sends, closes, aborts -------------------- */

static void cc_release(cconn *x) {
    x->used = false;
    x->c = NULL;
}

static void client_cb(void *ctx, kp_conn *c, kp_conn_event ev, kp_err err) {
    cconn *x = ctx;
    sim *s = x->a->s;
    note(s, 40 + (int)ev, x->tag, err);
    if (ev == KP_CONN_EV_READABLE) {
        uint8_t buf[4096];
        ssize_t r;
        while ((r = sn_conn_recv(c, buf, sizeof buf)) > 0) {
            verify(s, buf, (size_t)r, x->tag ^ 0xabcdefULL, x->got);
            x->got += (uint64_t)r;
        }
    }
    if (ev == KP_CONN_EV_CLOSED) {
        sn_conn_close(c);
        cc_release(x);
    }
}

static void client_send(actor *a, cconn *x) {
    uint8_t buf[8000];
    size_t n = (size_t)kp_rng_range(&a->rng, 1, (int64_t)sizeof buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = tk_byte(x->tag, x->sent + i);
    ssize_t w = sn_conn_send(x->c, buf, n);
    if (w > 0)
        x->sent += (uint64_t)w;
    note(a->s, 50, x->tag, w);
}

static void client_tick(void *ctx, sn_world *w) {
    actor *a = ctx;
    int slot = (int)kp_rng_below(&a->rng, MAX_CC);
    cconn *x = &a->cc[slot];
    uint64_t dice = kp_rng_below(&a->rng, 100);
    if (!x->used) {
        if (dice < 40) {
            char host[32];
            int b = (int)kp_rng_below(&a->rng, N_BROKERS);
            int port = 9092 + (int)kp_rng_below(&a->rng, 3); /* 9094: nobody listens */
            snprintf(host, sizeof host, "broker-%d", b);
            x->used = true;
            x->a = a;
            x->sent = x->got = 0;
            x->c = a->tr.connect(a->tr.ctx, host, port, client_cb, x);
            x->tag = sn_conn_id(x->c);
            note(a->s, 60, x->tag, port);
        }
    } else if (sn_conn_state(x->c) == KP_CONN_CONNECTED) {
        if (dice < 85) {
            client_send(a, x);
        } else if (dice < 92) {
            note(a->s, 61, x->tag, (int64_t)x->sent);
            sn_conn_close(x->c);
            cc_release(x);
        } else if (dice < 94) {
            note(a->s, 62, x->tag, (int64_t)x->sent);
            sn_conn_abort(x->c);
            cc_release(x);
        }
    }
    kp_time_us gap = (kp_time_us)kp_rng_exp(&a->rng, 2000.0) + 1;
    if (sn_now(w) + gap < (kp_time_us)SIM_SECONDS * 1000000)
        sn_timer_schedule(w, &a->tick, sn_now(w) + gap);
}

/* ---- the run ------------------------------------------------------------- */

static sim *sim_run(uint64_t seed) {
    sim *s = calloc(1, sizeof *s);
    s->hash = KP_FNV1A64_INIT;
    s->w = sn_world_new(seed, (kp_observer){ .on_event = on_event, .ctx = s });
    sn_world *w = s->w;
    kp_rng topo = sn_rng_stream(w, "topology");
    sn_set_default_link(w, (sn_link_cfg){ .latency_us = 500, .jitter_us = 300,
                                          .min_chunk = 1, .max_chunk = 1500 });
    sn_node *all[N_BROKERS + N_CLIENTS];
    char name[32];
    for (int i = 0; i < N_BROKERS; i++) {
        snprintf(name, sizeof name, "broker-%d", i);
        s->brokers[i] = all[i] = sn_node_add(w, name);
        sn_node_listen(all[i], NULL, 9092, server_accept, s);
        sn_node_listen(all[i], NULL, 9093, server_accept, s);
        sn_node_set_buffers(all[i], 102400, 102400); /* socket.*.buffer.bytes */
    }
    for (int i = 0; i < N_CLIENTS; i++) {
        actor *a = &s->clients[i];
        snprintf(name, sizeof name, "producer-%d", i);
        a->s = s;
        a->node = all[N_BROKERS + i] = sn_node_add(w, name);
        a->tr = sn_transport(w, a->node);
        a->rng = sn_rng_stream(w, name);
        sn_node_set_buffers(a->node, 131072, 32768);
        sn_timer_init(&a->tick, client_tick, a);
        sn_timer_schedule(w, &a->tick, kp_rng_range(&a->rng, 0, 1000));
        /* some pairs get their own link */
        int b = (int)kp_rng_below(&topo, N_BROKERS);
        sn_set_link(w, a->node, s->brokers[b],
                    (sn_link_cfg){ .latency_us = kp_rng_range(&topo, 100, 5000),
                                   .jitter_us = kp_rng_range(&topo, 0, 2000),
                                   .bandwidth_bps = kp_rng_range(&topo, 1, 100) * 1000000,
                                   .min_chunk = 1,
                                   .max_chunk = (int)kp_rng_range(&topo, 1, 9000) });
    }
    sn_chaos_cfg chaos = {
        .disconnects_per_s = 4, .partitions_per_s = 2, .blackholes_per_s = 1,
        .slow_links_per_s = 1, .crashes_per_s = 0.5, .mean_duration_us = 300000,
        .one_way_fraction = 0.3, .slow_factor = 20, .slow_bandwidth_bps = 2000000,
    };
    sn_chaos_start(w, &chaos, all, N_BROKERS + N_CLIENTS, (kp_time_us)(SIM_SECONDS - 2) * 1000000);
    /* in slices, checking the world's invariants between them */
    for (kp_time_us t = 0; t <= (kp_time_us)SIM_SECONDS * 1000000 + 5000000; t += 50000) {
        sn_world_run_until(w, t);
        s->broken += !sn_world_verify(w);
    }
    s->hash = h_i64(s->hash, (int64_t)s->corrupt);
    s->hash = h_i64(s->hash, (int64_t)s->broken);
    s->hash = h_i64(s->hash, (int64_t)s->bytes_in);
    return s;
}

static void sim_free(sim *s) {
    sn_world_destroy(s->w);
    free(s);
}

/* ---- cmocka ----------------------------------------------------------------- */

static void same_seed_same_hash(void **state) {
    (void)state;
    sim *a = sim_run(1234), *b = sim_run(1234);
    assert_true(a->events > 100000); /* busy */
    assert_int_equal(a->events, b->events);
    assert_int_equal(a->hash, b->hash);
    sim_free(a);
    sim_free(b);
}

static void other_seed_other_hash(void **state) {
    (void)state;
    sim *a = sim_run(1), *b = sim_run(2);
    assert_true(a->hash != b->hash);
    sim_free(a);
    sim_free(b);
}

static void bytes_intact_under_chaos(void **state) {
    (void)state;
    sim *s = sim_run(77);
    sn_chaos_stats st = sn_chaos_get_stats(s->w);
    assert_true(st.disconnects > 20 && st.partitions > 10 && st.blackholes > 5 && st.crashes > 0);
    assert_true(s->bytes_in > 10u * 1000 * 1000);
    assert_int_equal(s->corrupt, 0);
    assert_int_equal(s->broken, 0); /* invariants held every 50 ms */
    sim_free(s);
}

int main(int argc, char **argv) {
    /* --canary: the same, plus one read of the wall clock, as a stray
     * time() in simnet would do; the suite demands that this one differs
     * under a fake clock, which proves the check can fail. */
    bool canary = argc >= 3 && strcmp(argv[1], "--canary") == 0;
    if (argc >= 3 && (strcmp(argv[1], "--hash") == 0 || canary)) {
        uint64_t seed = strtoull(argv[2], NULL, 10);
        sim *s = sim_run(seed);
        if (canary)
            s->hash = h_i64(s->hash, (int64_t)time(NULL) / 3600);
        printf("seed=%llu hash=%016llx events=%llu broken=%llu corrupt=%llu\n",
               (unsigned long long)seed, (unsigned long long)s->hash,
               (unsigned long long)s->events, (unsigned long long)s->broken,
               (unsigned long long)s->corrupt);
        sim_free(s);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--wallclock") == 0) {
        time_t t = time(NULL); /* tests only: simnet itself never reads it */
        struct tm tm;
        gmtime_r(&t, &tm);
        printf("%d\n", tm.tm_year + 1900);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_same_hash),
        cmocka_unit_test(other_seed_other_hash),
        cmocka_unit_test(bytes_intact_under_chaos),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
