/*
 * test_chaos.c — random faults at rates (simnet/sn_chaos.c): counts follow
 * the rates, everything is whole again at `until`, the draws are a pure
 * function of the seed, scripted faults survive chaos.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_testkit.h"

typedef struct evlog {
    int n;
    int kind[20000];
    kp_time_us at[20000];
    int32_t node[20000];
    int64_t value[20000];
    kp_time_us last_start; /* time of the last fault that began */
} evlog;

static void evlog_on(void *ctx, const kp_event *ev) {
    evlog *l = ctx;
    if (l->n < 20000) {
        l->kind[l->n] = ev->kind;
        l->at[l->n] = ev->time_us;
        l->node[l->n] = ev->node;
        l->value[l->n] = ev->value;
        l->n++;
    }
    if (ev->kind == SN_EV_PARTITION || ev->kind == SN_EV_BLACKHOLE_ON ||
        ev->kind == SN_EV_NODE_DOWN || ev->kind == SN_EV_DISCONNECT)
        l->last_start = ev->time_us;
}

typedef struct crashes {
    int down, up;
} crashes;
static void on_crash(void *ctx, sn_node *n, bool down) {
    crashes *c = ctx;
    (void)n;
    if (down)
        c->down++;
    else
        c->up++;
}

#define NN 5

static sn_world *chaos_world(uint64_t seed, evlog *log, sn_node **nodes, crashes *cr,
                             kp_time_us until) {
    sn_world *w = sn_world_new(seed, (kp_observer){ .on_event = evlog_on, .ctx = log });
    char name[16];
    for (int i = 0; i < NN; i++) {
        snprintf(name, sizeof name, "n%d", i);
        nodes[i] = sn_node_add(w, name);
    }
    sn_chaos_cfg cfg = {
        .disconnects_per_s = 2, .partitions_per_s = 5, .blackholes_per_s = 3,
        .slow_links_per_s = 1, .crashes_per_s = 0.5, .mean_duration_us = 200000,
        .one_way_fraction = 0.5, .slow_factor = 20, .slow_bandwidth_bps = 1000000,
        .on_crash = on_crash, .on_crash_ctx = cr,
    };
    sn_chaos_start(w, &cfg, nodes, NN, until);
    return w;
}

static void chaos_counts_follow_rates_and_all_heals_by_until(void **state) {
    (void)state;
    evlog *log = calloc(1, sizeof *log);
    sn_node *nodes[NN];
    crashes cr = { 0, 0 };
    const kp_time_us until = 200 * 1000000LL; /* 200 s */
    sn_world *w = chaos_world(9, log, nodes, &cr, until);
    sn_world_run_until(w, until / 2);
    /* halfway: something is broken right now, with high probability */
    sn_world_run_until(w, until);
    sn_chaos_stats s = sn_chaos_get_stats(w);
    /* Poisson: mean 400 disconnects (sd 20), 1000 partitions (sd 32) ...;
     * partitions/blackholes/slow/crash may be skipped when a target is busy */
    assert_in_range(s.disconnects, 300, 500);
    assert_in_range(s.partitions + s.skipped, 850, 1800);
    assert_true(s.partitions > 500);
    assert_true(s.blackholes > 300);
    assert_true(s.slow_links > 50);
    assert_true(s.crashes > 30);
    assert_int_equal(cr.down, (int)s.crashes);
    assert_int_equal(cr.up, cr.down);
    /* the network is whole at until */
    for (int i = 0; i < NN; i++) {
        assert_true(sn_node_is_up(nodes[i]));
        for (int j = 0; j < NN; j++) {
            assert_false(sn_link_blocked(w, nodes[i], nodes[j]));
            assert_false(sn_link_blackholed(w, nodes[i], nodes[j]));
            assert_int_equal(sn_link_get(w, nodes[i], nodes[j]).latency_us, 1000);
        }
    }
    assert_true(log->last_start < until);
    assert_int_equal(sn_world_pending(w), 0);  /* nothing left scheduled */
    /* only the given nodes were touched */
    for (int i = 0; i < log->n; i++)
        if (log->kind[i] == SN_EV_NODE_DOWN)
            assert_in_range(log->node[i], 0, NN - 1);
    sn_world_destroy(w);
    free(log);
}

static void chaos_is_a_function_of_the_seed(void **state) {
    (void)state;
    evlog *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b), *c = calloc(1, sizeof *c);
    sn_node *na[NN], *nb[NN], *nc[NN];
    crashes ca = { 0, 0 }, cb = { 0, 0 }, cc = { 0, 0 };
    sn_world *wa = chaos_world(77, a, na, &ca, 20000000);
    sn_world *wb = chaos_world(77, b, nb, &cb, 20000000);
    sn_world *wc = chaos_world(78, c, nc, &cc, 20000000);
    /* another stream drawn from in world b changes nothing */
    kp_rng other = sn_rng_stream(wb, "producer-1");
    for (int i = 0; i < 100; i++)
        (void)kp_rng_u64(&other);
    sn_world_run_until(wa, 20000000);
    sn_world_run_until(wb, 20000000);
    sn_world_run_until(wc, 20000000);
    assert_true(a->n > 50);
    assert_int_equal(a->n, b->n);
    for (int i = 0; i < a->n; i++) {
        assert_int_equal(a->kind[i], b->kind[i]);
        assert_int_equal(a->at[i], b->at[i]);
        assert_int_equal(a->node[i], b->node[i]);
        assert_int_equal(a->value[i], b->value[i]);
    }
    int differ = a->n != c->n;
    for (int i = 0; !differ && i < a->n; i++)
        differ = a->at[i] != c->at[i] || a->kind[i] != c->kind[i];
    assert_true(differ);
    sn_world_destroy(wa);
    sn_world_destroy(wb);
    sn_world_destroy(wc);
    free(a);
    free(b);
    free(c);
}

static void chaos_end_keeps_scripted_partition_and_restores_links(void **state) {
    (void)state;
    sn_world *w = sn_world_new(4, (kp_observer){ 0 });
    sn_node *n[2] = { sn_node_add(w, "a"), sn_node_add(w, "b") };
    sn_fault_partition(w, n[0], n[1], true);
    sn_set_link_oneway(w, n[0], n[1], (sn_link_cfg){ .latency_us = 777, .bandwidth_bps = 5 });
    sn_chaos_cfg cfg = { .partitions_per_s = 50, .slow_links_per_s = 20, .mean_duration_us = 10000,
                         .slow_factor = 3 };
    sn_chaos_start(w, &cfg, n, 2, 1000000);
    bool saw_slow = false;
    while (sn_now(w) < 1000000 && sn_world_step(w))
        saw_slow |= sn_link_get(w, n[0], n[1]).latency_us == 3 * 777 &&
                    sn_link_get(w, n[1], n[0]).latency_us == 3 * 1000;
    sn_world_run_until(w, 2000000);
    assert_true(saw_slow);
    assert_true(sn_chaos_get_stats(w).partitions > 10);
    assert_true(sn_chaos_get_stats(w).slow_links > 5);
    assert_true(sn_link_blocked(w, n[0], n[1]));  /* the scripted one stays */
    /* slow links gave back what they replaced: own config and the default */
    assert_int_equal(sn_link_get(w, n[0], n[1]).latency_us, 777);
    assert_int_equal(sn_link_get(w, n[0], n[1]).bandwidth_bps, 5);
    assert_int_equal(sn_link_get(w, n[1], n[0]).latency_us, 1000);
    sn_fault_heal(w, n[0], n[1]);
    assert_false(sn_link_blocked(w, n[0], n[1]));
    sn_world_destroy(w);
}

/* Chaos over live connections: they die and get re-made; nothing leaks and
 * the events keep to the rules (no event after CLOSED on a handle). */
typedef struct churn {
    sn_world *w;
    kp_transport tr;
    probe p;
    sn_timer retry;
    int opened, closed_seen;
} churn;

static void churn_cb(void *ctx, kp_conn *c, kp_conn_event ev, kp_err err) {
    churn *ch = ctx;
    (void)err;
    if (ev == KP_CONN_EV_CONNECTED)
        ch->opened++;
    if (ev == KP_CONN_EV_READABLE) {
        char buf[256];
        while (sn_conn_recv(c, buf, sizeof buf) > 0) {}
    }
    if (ev == KP_CONN_EV_CLOSED) {
        ch->closed_seen++;
        sn_conn_close(c);
        ch->p.c = NULL;
        sn_timer_schedule(ch->w, &ch->retry, sn_now(ch->w) + 5000);
    }
}

static void churn_retry(void *ctx, sn_world *w) {
    churn *ch = ctx;
    (void)w;
    ch->p.c = ch->tr.connect(ch->tr.ctx, "n0", 1, churn_cb, ch);
}

static void server_cb(void *ctx, kp_conn *c, kp_conn_event ev, kp_err err) {
    (void)ctx;
    (void)err;
    if (ev == KP_CONN_EV_READABLE) {
        char buf[256];
        while (sn_conn_recv(c, buf, sizeof buf) > 0) {}
    }
    if (ev == KP_CONN_EV_CLOSED)
        sn_conn_close(c);
}

static void echo_accept(void *ctx, kp_conn *c) {
    sn_conn_set_cb(c, server_cb, ctx);
}

static void chaos_connections_die_and_come_back(void **state) {
    (void)state;
    sn_world *w = sn_world_new(8, (kp_observer){ 0 });
    sn_node *n[4];
    n[0] = sn_node_add(w, "n0");
    for (int i = 1; i < 4; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "n%d", i);
        n[i] = sn_node_add(w, nm);
    }
    sn_node_listen(n[0], NULL, 1, echo_accept, NULL);
    churn cl[3];
    for (int i = 0; i < 3; i++) {
        memset(&cl[i], 0, sizeof cl[i]);
        cl[i].w = w;
        cl[i].tr = sn_transport(w, n[i + 1]);
        sn_timer_init(&cl[i].retry, churn_retry, &cl[i]);
        churn_retry(&cl[i], w);
    }
    sn_chaos_cfg cfg = { .disconnects_per_s = 20, .crashes_per_s = 2, .partitions_per_s = 5,
                         .mean_duration_us = 100000 };
    sn_chaos_start(w, &cfg, n, 4, 5000000);
    sn_world_run_until(w, 6000000);
    for (int i = 0; i < 3; i++) {
        assert_true(cl[i].closed_seen > 3);
        assert_true(cl[i].opened > 3);
        assert_non_null(cl[i].p.c);
        assert_int_equal(sn_conn_state(cl[i].p.c), KP_CONN_CONNECTED); /* whole again */
    }
    sn_world_destroy(w); /* ASan: every connection struct freed */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chaos_counts_follow_rates_and_all_heals_by_until),
        cmocka_unit_test(chaos_is_a_function_of_the_seed),
        cmocka_unit_test(chaos_end_keeps_scripted_partition_and_restores_links),
        cmocka_unit_test(chaos_connections_die_and_come_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
