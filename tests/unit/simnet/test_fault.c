/*
 * test_fault.c — each fault's effect on an open connection and on a connect
 * attempt (simnet/sn_net.c, "FAULTS" in sn_net.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "sn_testkit.h"

#define LAT 1000

typedef struct fx {
    sn_world *w;
    sn_node *p, *b, *x; /* producer, broker, bystander */
    kp_transport tp, tx;
    tk_server srv;
    probe sp[8];
    probe cp, xp;       /* p's client probe, x's client probe */
    tk_obs obs;
} fx;

static fx *fx_new(void) {
    fx *f = calloc(1, sizeof *f);
    f->w = sn_world_new(3, tk_obs_observer(&f->obs));
    f->p = sn_node_add(f->w, "producer-1");
    f->b = sn_node_add(f->w, "broker-0");
    f->x = sn_node_add(f->w, "producer-2");
    sn_set_default_link(f->w, (sn_link_cfg){ .latency_us = LAT });
    f->tp = sn_transport(f->w, f->p);
    f->tx = sn_transport(f->w, f->x);
    f->srv = (tk_server){ .probes = f->sp, .max = 8, .auto_read = false, .w = f->w, .tr = f->tp };
    sn_node_listen(f->b, NULL, 9092, tk_accept, &f->srv);
    probe_init(&f->cp, f->w, f->tp);
    probe_init(&f->xp, f->w, f->tx);
    return f;
}

static void fx_free(fx *f) {
    probe_free(&f->cp);
    probe_free(&f->xp);
    for (int i = 0; i < 8; i++)
        probe_free(&f->sp[i]);
    sn_world_destroy(f->w);
    free(f);
}

static kp_conn *fx_connect(fx *f, probe *pr, kp_transport tr) {
    probe_init(pr, f->w, tr);
    pr->c = tr.connect(tr.ctx, "broker-0", 9092, probe_cb, pr);
    return pr->c;
}

/* Opens p->b (server probe sp[0]) and x->b (sp[1]); now = 10 ms. */
static void fx_open_both(fx *f) {
    fx_connect(f, &f->cp, f->tp);
    sn_world_run_until(f->w, 100);
    fx_connect(f, &f->xp, f->tx);
    sn_world_run_until(f->w, 10000);
    assert_int_equal(f->cp.connected, 1);
    assert_int_equal(f->xp.connected, 1);
    assert_int_equal(f->srv.n, 2);
}

static void disconnect_resets_open_connection_both_sides(void **state) {
    (void)state;
    fx *f = fx_new();
    fx_open_both(f);
    assert_int_equal(sn_conn_send(f->cp.c, "abc", 3), 3);
    assert_int_equal(sn_conn_send(f->sp[0].c, "unread", 6), 6);
    sn_world_run_until(f->w, 11000);   /* "unread" waits in p's buffer */
    assert_int_equal(sn_conn_readable(f->cp.c), 6);
    assert_int_equal(sn_conn_send(f->cp.c, "lost", 4), 4); /* in flight */
    sn_fault_disconnect(f->w, f->p, f->b);
    /* state changes at once; events follow from the loop at the same time */
    assert_int_equal(sn_conn_state(f->cp.c), KP_CONN_CLOSED);
    assert_int_equal(sn_conn_state(f->sp[0].c), KP_CONN_CLOSED);
    sn_world_run_until(f->w, 11000);
    assert_int_equal(f->cp.closed, 1);
    assert_int_equal(f->cp.closed_err, KP_ERR__TRANSPORT);
    assert_int_equal(f->cp.at[f->cp.n - 1], 11000);
    assert_int_equal(f->sp[0].closed, 1);
    assert_int_equal(f->sp[0].closed_err, KP_ERR__TRANSPORT);
    char buf[8];
    assert_int_equal(sn_conn_recv(f->cp.c, buf, 8), -1);  /* RST discards */
    sn_world_run_until(f->w, 50000);
    assert_int_equal(sn_conn_readable(f->sp[0].c), 0);  /* "abc" had arrived: gone too */
    assert_int_equal(sn_conn_recv(f->sp[0].c, buf, 8), -1);
    assert_int_equal(f->sp[0].n, 2);                     /* READABLE (abc), CLOSED; no "lost" */
    assert_int_equal(sn_conn_send(f->cp.c, "x", 1), -1);
    /* the bystander's connection is untouched */
    assert_int_equal(f->xp.closed, 0);
    assert_int_equal(sn_conn_state(f->xp.c), KP_CONN_CONNECTED);
    assert_int_equal(f->obs.count[SN_EV_DISCONNECT - 300], 1);
    assert_int_equal(f->obs.count[SN_EV_RESET - 300], 2);
    /* b NULL: every connection of b */
    sn_fault_disconnect(f->w, f->b, NULL);
    sn_world_run_until(f->w, 50000);
    assert_int_equal(f->xp.closed, 1);
    fx_free(f);
}

static void disconnect_kills_connect_in_flight(void **state) {
    (void)state;
    fx *f = fx_new();
    fx_connect(f, &f->cp, f->tp);
    sn_world_run_until(f->w, 500);
    sn_fault_disconnect(f->w, f->p, f->b);
    sn_world_run_until(f->w, 100000);
    assert_int_equal(f->cp.n, 1);
    assert_int_equal(f->cp.ev[0], KP_CONN_EV_CLOSED);
    assert_int_equal(f->cp.err[0], KP_ERR__TRANSPORT);
    assert_int_equal(f->cp.at[0], 500);
    assert_int_equal(f->srv.n, 0);  /* the SYN never arrived */
    fx_free(f);
}

static void abort_resets_peer_at_once(void **state) {
    (void)state;
    fx *f = fx_new();
    fx_open_both(f);
    sn_conn_abort(f->cp.c);
    sn_world_run_until(f->w, 10000);
    assert_int_equal(f->sp[0].closed, 1);
    assert_int_equal(f->sp[0].closed_err, KP_ERR__TRANSPORT);
    assert_int_equal(f->cp.closed, 0); /* released: no events */
    fx_free(f);
}

static void partition_holds_bytes_then_delivers_them_after_heal(void **state) {
    (void)state;
    fx *f = fx_new();
    fx_open_both(f);
    sn_fault_partition(f->w, f->p, f->b, true);
    assert_true(sn_link_blocked(f->w, f->p, f->b));
    assert_true(sn_link_blocked(f->w, f->b, f->p));
    assert_false(sn_link_blocked(f->w, f->x, f->b));
    assert_int_equal(sn_conn_send(f->cp.c, "held", 4), 4);
    assert_int_equal(sn_conn_send(f->xp.c, "free", 4), 4);
    sn_world_run_until(f->w, 500000);
    assert_int_equal(sn_conn_readable(f->sp[0].c), 0);   /* held */
    assert_int_equal(sn_conn_readable(f->sp[1].c), 4);   /* bystander fine */
    assert_int_equal(sn_conn_state(f->cp.c), KP_CONN_CONNECTED); /* looks alive */
    assert_int_equal(sn_conn_unacked(f->cp.c), 4);
    assert_int_equal(f->cp.closed + f->sp[0].closed, 0);
    assert_true(f->obs.count[SN_EV_STALL - 300] >= 1);
    sn_fault_heal(f->w, f->p, f->b);
    assert_false(sn_link_blocked(f->w, f->p, f->b));
    sn_world_run_until(f->w, 500000 + LAT - 1);
    assert_int_equal(sn_conn_readable(f->sp[0].c), 0);
    sn_world_run_until(f->w, 500000 + LAT);
    char buf[8];
    assert_int_equal(sn_conn_recv(f->sp[0].c, buf, 8), 4);
    assert_memory_equal(buf, "held", 4);
    assert_int_equal(f->obs.count[SN_EV_PARTITION - 300], 1);
    assert_int_equal(f->obs.count[SN_EV_HEAL - 300], 1);
    fx_free(f);
}

static void one_way_partition_blocks_one_direction(void **state) {
    (void)state;
    fx *f = fx_new();
    fx_open_both(f);
    sn_fault_partition(f->w, f->p, f->b, false); /* p -> b only */
    assert_true(sn_link_blocked(f->w, f->p, f->b));
    assert_false(sn_link_blocked(f->w, f->b, f->p));
    assert_int_equal(sn_conn_send(f->cp.c, "up", 2), 2);
    assert_int_equal(sn_conn_send(f->sp[0].c, "down", 4), 4);
    sn_world_run_until(f->w, 100000);
    assert_int_equal(sn_conn_readable(f->sp[0].c), 0);
    assert_int_equal(sn_conn_readable(f->cp.c), 4);
    sn_fault_heal(f->w, f->b, f->p); /* heal is symmetric */
    sn_world_run_until(f->w, 200000);
    assert_int_equal(sn_conn_readable(f->sp[0].c), 2);
    fx_free(f);
}

static void connect_across_partition_waits_then_completes_on_heal(void **state) {
    (void)state;
    fx *f = fx_new();
    sn_fault_partition(f->w, f->p, f->b, true);
    fx_connect(f, &f->cp, f->tp);
    sn_world_run_until(f->w, 10000000); /* 10 s: no event at all */
    assert_int_equal(f->cp.n, 0);
    assert_int_equal(f->srv.n, 0);
    assert_int_equal(sn_conn_state(f->cp.c), KP_CONN_CONNECTING);
    assert_true(f->obs.count[SN_EV_HELD - 300] >= 1);
    sn_fault_heal(f->w, f->p, NULL);
    sn_world_run_until(f->w, 10000000 + 2 * LAT);
    assert_int_equal(f->srv.n, 1);
    assert_int_equal(f->cp.connected, 1);
    assert_int_equal(f->cp.at[0], 10000000 + 2 * LAT);
    fx_free(f);
}

static void syn_ack_held_by_one_way_partition_keeps_order(void **state) {
    (void)state;
    fx *f = fx_new();
    sn_fault_partition(f->w, f->b, f->p, false); /* only b -> p */
    fx_connect(f, &f->cp, f->tp);
    f->cp.auto_read = true;
    sn_world_run_until(f->w, LAT);
    assert_int_equal(f->srv.n, 1);               /* SYN got through */
    assert_int_equal(sn_conn_send(f->sp[0].c, "greet", 5), 5);
    sn_world_run_until(f->w, 3000000);
    assert_int_equal(f->cp.n, 0);                /* SYN-ACK and bytes held */
    sn_fault_heal(f->w, f->p, f->b);
    sn_world_run_until(f->w, 4000000);
    assert_int_equal(f->cp.n, 2);
    assert_int_equal(f->cp.ev[0], KP_CONN_EV_CONNECTED);
    assert_int_equal(f->cp.ev[1], KP_CONN_EV_READABLE);
    assert_int_equal(f->cp.got_len, 5);
    fx_free(f);
}

static void blackhole_drops_bytes_silently_and_connection_stays_dead(void **state) {
    (void)state;
    fx *f = fx_new();
    fx_open_both(f);
    sn_fault_blackhole(f->w, f->p, f->b, true);
    assert_true(sn_link_blackholed(f->w, f->p, f->b));
    assert_true(sn_link_blackholed(f->w, f->b, f->p));
    assert_int_equal(sn_conn_send(f->cp.c, "gone", 4), 4);
    sn_world_run_until(f->w, 100000);
    assert_int_equal(sn_conn_readable(f->sp[0].c), 0);
    assert_int_equal(sn_conn_unacked(f->cp.c), 0);   /* the sender's buffer drained */
    assert_int_equal(sn_conn_state(f->cp.c), KP_CONN_CONNECTED);
    assert_int_equal(f->cp.closed + f->sp[0].closed, 0);
    assert_int_equal(f->obs.count[SN_EV_DROP - 300], 1);
    /* lifted: this stream has a hole, nothing more arrives on it ... */
    sn_fault_blackhole(f->w, f->p, f->b, false);
    assert_int_equal(sn_conn_send(f->cp.c, "later", 5), 5);
    sn_world_run_until(f->w, 200000);
    assert_int_equal(sn_conn_readable(f->sp[0].c), 0);
    /* ... while the other direction, which lost nothing, still works */
    assert_int_equal(sn_conn_send(f->sp[0].c, "back", 4), 4);
    sn_world_run_until(f->w, 300000);
    assert_int_equal(sn_conn_readable(f->cp.c), 4);
    /* and a new connection works */
    probe np;
    fx_connect(f, &np, f->tp);
    sn_world_run_until(f->w, 400000);
    assert_int_equal(np.connected, 1);
    assert_int_equal(sn_conn_send(np.c, "new", 3), 3);
    sn_world_run_until(f->w, 500000);
    assert_int_equal(sn_conn_readable(f->sp[2].c), 3);
    assert_int_equal(f->obs.count[SN_EV_BLACKHOLE_ON - 300], 1);
    assert_int_equal(f->obs.count[SN_EV_BLACKHOLE_OFF - 300], 1);
    probe_free(&np);
    fx_free(f);
}

static void blackhole_behind_unread_bytes_keeps_them_readable(void **state) {
    (void)state;
    fx *f = fx_new();
    fx_open_both(f);
    probe *s = &f->sp[0];
    assert_int_equal(sn_conn_send(f->cp.c, "first", 5), 5);
    sn_world_run_until(f->w, 20000);
    assert_int_equal(sn_conn_readable(s->c), 5); /* arrived, not read */
    sn_fault_blackhole(f->w, f->p, f->b, true);
    assert_int_equal(sn_conn_send(f->cp.c, "dropped", 7), 7);
    sn_world_run_until(f->w, 30000);
    assert_int_equal(f->obs.count[SN_EV_DROP - 300], 1);
    assert_int_equal(sn_conn_unacked(f->cp.c), 0); /* the sender's buffer drained */
    assert_int_equal(sn_conn_readable(s->c), 5);
    assert_true(sn_world_verify(f->w));
    /* room for a full send buffer again, though the dropped bytes sit
     * behind the unread ones in the direction's ring */
    static uint8_t big[131072];
    assert_int_equal(sn_conn_send(f->cp.c, big, sizeof big), (ssize_t)sizeof big);
    sn_world_run_until(f->w, 40000);
    assert_int_equal(sn_conn_unacked(f->cp.c), 0);
    assert_int_equal(f->obs.count[SN_EV_DROP - 300], 2);
    size_t len;
    const uint8_t *p = sn_conn_peek(s->c, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(p, "first", 5);
    char out[16];
    assert_int_equal(sn_conn_recv(s->c, out, sizeof out), 5);
    assert_memory_equal(out, "first", 5);
    assert_int_equal(sn_conn_recv(s->c, out, sizeof out), 0);
    assert_int_equal(sn_conn_readable(s->c), 0);
    assert_true(sn_world_verify(f->w));
    fx_free(f);
}

static void remote_side_of_a_node_down_reads_what_arrived_until_its_reset(void **state) {
    (void)state;
    fx *f = fx_new();
    fx_open_both(f);
    probe *s = &f->sp[0];
    assert_int_equal(sn_conn_send(f->cp.c, "arrived", 7), 7);
    sn_world_run_until(f->w, 20000);
    assert_int_equal(sn_conn_send(f->cp.c, "in flight", 9), 9);
    sn_fault_node_down(f->w, f->p); /* b's side is reset one latency later */
    assert_int_equal(sn_conn_state(s->c), KP_CONN_CONNECTED);
    assert_int_equal(sn_conn_readable(s->c), 7);
    assert_true(sn_world_verify(f->w));
    sn_world_run_until(f->w, 20000 + LAT - 1);
    char out[16];
    assert_int_equal(sn_conn_recv(s->c, out, 3), 3);
    assert_memory_equal(out, "arr", 3);
    sn_world_run_until(f->w, 20000 + LAT);
    assert_int_equal(sn_conn_state(s->c), KP_CONN_CLOSED);
    assert_int_equal(sn_conn_readable(s->c), 0); /* the reset took the rest */
    assert_int_equal(sn_conn_recv(s->c, out, sizeof out), -1);
    assert_true(sn_world_verify(f->w));
    fx_free(f);
}

static void connect_into_blackhole_waits_until_lifted(void **state) {
    (void)state;
    fx *f = fx_new();
    sn_fault_blackhole(f->w, f->p, NULL, true);
    fx_connect(f, &f->cp, f->tp);
    sn_world_run_until(f->w, 5000000);
    assert_int_equal(f->cp.n, 0);
    sn_fault_blackhole(f->w, f->p, NULL, false);
    sn_world_run_until(f->w, 6000000);
    assert_int_equal(f->cp.connected, 1);
    fx_free(f);
}

static void node_down_resets_local_at_once_and_remote_after_latency(void **state) {
    (void)state;
    fx *f = fx_new();
    fx_open_both(f);
    sn_fault_node_down(f->w, f->b);
    assert_false(sn_node_is_up(f->b));
    sn_world_run_until(f->w, 10000);
    assert_int_equal(f->sp[0].closed, 1);     /* the broker's own side: now */
    assert_int_equal(f->sp[1].closed, 1);
    assert_int_equal(f->cp.closed, 0);
    sn_world_run_until(f->w, 10000 + LAT);
    assert_int_equal(f->cp.closed, 1);        /* the producers: one latency later */
    assert_int_equal(f->xp.closed, 1);
    assert_int_equal(f->cp.closed_err, KP_ERR__TRANSPORT);
    assert_int_equal(f->cp.at[f->cp.n - 1], 10000 + LAT);
    assert_int_equal(f->obs.count[SN_EV_NODE_DOWN - 300], 1);
    fx_free(f);
}

static void connect_to_down_node_is_refused_until_up(void **state) {
    (void)state;
    fx *f = fx_new();
    sn_fault_node_down(f->w, f->b);
    fx_connect(f, &f->cp, f->tp);
    sn_world_run_until(f->w, 100000);
    assert_int_equal(f->cp.n, 1);
    assert_int_equal(f->cp.ev[0], KP_CONN_EV_CLOSED);
    assert_int_equal(f->cp.err[0], KP_ERR__TRANSPORT);
    assert_int_equal(f->cp.at[0], 2 * LAT);   /* refused after a round trip */
    sn_conn_close(f->cp.c);
    sn_fault_node_up(f->w, f->b);
    fx_connect(f, &f->cp, f->tp);
    sn_world_run_until(f->w, 200000);
    assert_int_equal(f->cp.connected, 1);     /* its listener answers again */
    assert_int_equal(f->srv.n, 1);
    /* a down node cannot connect anywhere */
    sn_fault_node_down(f->w, f->x);
    fx_connect(f, &f->xp, f->tx);
    sn_world_run_until(f->w, 200000);
    assert_int_equal(f->xp.closed, 1);
    assert_int_equal(f->obs.count[SN_EV_NODE_UP - 300], 1);
    fx_free(f);
}

static void slow_link_applies_to_later_bytes_without_reordering(void **state) {
    (void)state;
    fx *f = fx_new();
    fx_open_both(f);
    f->sp[0].auto_read = true;
    sn_set_link(f->w, f->p, f->b, (sn_link_cfg){ .latency_us = 50000 });
    assert_int_equal(sn_conn_send(f->cp.c, "slow", 4), 4);   /* arrives at +50 ms */
    sn_set_link(f->w, f->p, f->b, (sn_link_cfg){ .latency_us = 10 });
    assert_int_equal(sn_conn_send(f->cp.c, "fast", 4), 4);   /* may not overtake */
    sn_world_run_until(f->w, 10000 + 49999);
    assert_int_equal(f->sp[0].got_len, 0);
    sn_world_run_until(f->w, 10000 + 50000);
    assert_int_equal(f->sp[0].got_len, 8);
    assert_memory_equal(f->sp[0].got, "slowfast", 8);
    fx_free(f);
}

static void partition_sets_cover_every_pair(void **state) {
    (void)state;
    fx *f = fx_new();
    sn_node *as[1] = { f->b }, *bs[2] = { f->p, f->x };
    sn_fault_partition_sets(f->w, as, 1, bs, 2, true);
    assert_true(sn_link_blocked(f->w, f->b, f->p));
    assert_true(sn_link_blocked(f->w, f->x, f->b));
    assert_false(sn_link_blocked(f->w, f->p, f->x));
    sn_fault_heal(f->w, f->b, NULL);
    assert_false(sn_link_blocked(f->w, f->b, f->p));
    assert_false(sn_link_blocked(f->w, f->x, f->b));
    fx_free(f);
}

static void faults_as_data_apply_at_their_time(void **state) {
    (void)state;
    fx *f = fx_new();
    fx_open_both(f);
    for (int k = SN_FAULT_DISCONNECT; k <= SN_FAULT_LINK; k++) {
        const char *nm = sn_fault_kind_name((sn_fault_kind)k);
        assert_non_null(nm);
        assert_int_equal(sn_fault_kind_parse(nm), k);
    }
    assert_int_equal(sn_fault_kind_parse("meteor"), 0);
    assert_null(sn_fault_kind_name((sn_fault_kind)0));
    sn_fault slow = { .kind = SN_FAULT_LINK, .a = f->p, .b = f->b,
                      .link = { .latency_us = 20000 } };
    sn_fault part = { .kind = SN_FAULT_PARTITION_ONEWAY, .a = f->x, .b = f->b };
    sn_fault heal = { .kind = SN_FAULT_HEAL, .a = f->b, .b = f->x };
    sn_fault down = { .kind = SN_FAULT_NODE_DOWN, .a = f->b };
    sn_fault never = { .kind = SN_FAULT_NODE_DOWN, .a = f->p };
    sn_fault_schedule(f->w, 20000, &slow);
    sn_fault_schedule(f->w, 30000, &part);
    sn_fault_schedule(f->w, 40000, &heal);
    sn_fault_schedule(f->w, 50000, &down);
    sn_fault_schedule(f->w, 999000000, &never); /* freed by destroy */
    sn_world_run_until(f->w, 19999);
    assert_int_equal(sn_link_get(f->w, f->p, f->b).latency_us, LAT);
    sn_world_run_until(f->w, 20000);
    assert_int_equal(sn_link_get(f->w, f->b, f->p).latency_us, 20000);
    sn_world_run_until(f->w, 30000);
    assert_true(sn_link_blocked(f->w, f->x, f->b));
    assert_false(sn_link_blocked(f->w, f->b, f->x));
    sn_world_run_until(f->w, 40000);
    assert_false(sn_link_blocked(f->w, f->x, f->b));
    sn_world_run_until(f->w, 50000);
    assert_false(sn_node_is_up(f->b));
    assert_true(sn_node_is_up(f->p));
    assert_int_equal(f->sp[0].closed, 1);
    fx_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(disconnect_resets_open_connection_both_sides),
        cmocka_unit_test(disconnect_kills_connect_in_flight),
        cmocka_unit_test(abort_resets_peer_at_once),
        cmocka_unit_test(partition_holds_bytes_then_delivers_them_after_heal),
        cmocka_unit_test(one_way_partition_blocks_one_direction),
        cmocka_unit_test(connect_across_partition_waits_then_completes_on_heal),
        cmocka_unit_test(syn_ack_held_by_one_way_partition_keeps_order),
        cmocka_unit_test(blackhole_drops_bytes_silently_and_connection_stays_dead),
        cmocka_unit_test(blackhole_behind_unread_bytes_keeps_them_readable),
        cmocka_unit_test(remote_side_of_a_node_down_reads_what_arrived_until_its_reset),
        cmocka_unit_test(connect_into_blackhole_waits_until_lifted),
        cmocka_unit_test(node_down_resets_local_at_once_and_remote_after_latency),
        cmocka_unit_test(connect_to_down_node_is_refused_until_up),
        cmocka_unit_test(slow_link_applies_to_later_bytes_without_reordering),
        cmocka_unit_test(partition_sets_cover_every_pair),
        cmocka_unit_test(faults_as_data_apply_at_their_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
