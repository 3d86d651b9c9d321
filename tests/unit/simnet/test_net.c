/*
 * test_net.c — nodes, links and connections (simnet/sn_net.c): handshake
 * timing, refusal, byte-exact reassembly of chunked streams, latency and
 * bandwidth arithmetic, buffer bounds, close, no re-entrant callbacks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_testkit.h"

typedef struct net {
    sn_world *w;
    sn_node *cli, *srv;
    kp_transport tr;
    tk_server server;
    probe sp[8];
    probe cp;
    tk_obs obs;
} net;

static net *net_new(sn_link_cfg link, bool server_auto_read) {
    net *n = calloc(1, sizeof *n);
    n->w = sn_world_new(5, tk_obs_observer(&n->obs));
    n->cli = sn_node_add(n->w, "producer-1");
    n->srv = sn_node_add(n->w, "broker-0");
    sn_set_default_link(n->w, link);
    n->tr = sn_transport(n->w, n->cli);
    n->server = (tk_server){ .probes = n->sp, .max = 8, .auto_read = server_auto_read,
                             .w = n->w, .tr = n->tr };
    assert_true(sn_node_listen(n->srv, NULL, 9092, tk_accept, &n->server));
    probe_init(&n->cp, n->w, n->tr);
    return n;
}

static void net_free(net *n) {
    probe_free(&n->cp);
    for (int i = 0; i < 8; i++)
        probe_free(&n->sp[i]);
    sn_world_destroy(n->w);
    free(n);
}

static kp_conn *net_connect(net *n, const char *host, int port) {
    tk_in_call = 1;
    kp_conn *c = n->tr.connect(n->tr.ctx, host, port, probe_cb, &n->cp);
    tk_in_call = 0;
    n->cp.c = c;
    return c;
}

static void connect_takes_one_round_trip(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 1000 }, false);
    kp_conn *c = net_connect(n, "broker-0", 9092);
    assert_non_null(c);
    assert_int_equal(n->tr.state(NULL, c), KP_CONN_CONNECTING);
    assert_int_equal(sn_conn_send(c, "x", 1), 0); /* not yet */
    sn_world_run_until(n->w, 999);
    assert_int_equal(n->server.n, 0);
    sn_world_run_until(n->w, 1000);
    assert_int_equal(n->server.n, 1); /* accept at one latency */
    assert_int_equal(sn_conn_state(n->sp[0].c), KP_CONN_CONNECTED);
    assert_int_equal(n->cp.n, 0);
    sn_world_run_until(n->w, 2000);
    assert_int_equal(n->cp.n, 1);
    assert_int_equal(n->cp.ev[0], KP_CONN_EV_CONNECTED);
    assert_int_equal(n->cp.at[0], 2000);
    assert_int_equal(sn_conn_state(c), KP_CONN_CONNECTED);
    assert_ptr_equal(sn_conn_peer_node(c), n->srv);
    assert_ptr_equal(sn_conn_node(n->sp[0].c), n->srv);
    assert_int_equal(n->obs.count[SN_EV_ACCEPT - 300], 1);
    assert_int_equal(n->obs.count[SN_EV_CONNECTED - 300], 1);
    assert_int_equal(n->cp.reentered, 0);
    net_free(n);
}

static void connect_to_unlistened_port_is_refused_after_round_trip(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 1500 }, false);
    kp_conn *c = net_connect(n, "broker-0", 9999);
    sn_world_run_until(n->w, 100000);
    assert_int_equal(n->cp.n, 1);
    assert_int_equal(n->cp.ev[0], KP_CONN_EV_CLOSED);
    assert_int_equal(n->cp.err[0], KP_ERR__TRANSPORT);
    assert_int_equal(n->cp.at[0], 3000);
    assert_int_equal(sn_conn_state(c), KP_CONN_CLOSED);
    assert_int_equal(sn_conn_send(c, "x", 1), -1);
    char b[4];
    assert_int_equal(sn_conn_recv(c, b, 4), -1);
    assert_int_equal(n->obs.count[SN_EV_REFUSED - 300], 1);
    n->tr.close(NULL, c);
    sn_world_run_until(n->w, 100001);
    assert_int_equal(sn_conn_count(n->w), 0);
    net_free(n);
}

static void connect_to_unknown_host_is_refused_over_default_link(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 700 }, false);
    net_connect(n, "nowhere", 1);
    sn_world_run_until(n->w, 100000);
    assert_int_equal(n->cp.n, 1);
    assert_int_equal(n->cp.err[0], KP_ERR__TRANSPORT);
    assert_int_equal(n->cp.at[0], 1400);
    assert_null(sn_conn_peer_node(n->cp.c));
    sn_conn_close(n->cp.c);
    /* unlisten: a later connect is refused too */
    sn_node_unlisten(n->srv, NULL, 9092);
    probe_init(&n->cp, n->w, n->tr);
    net_connect(n, "broker-0", 9092);
    sn_world_run_until(n->w, 200000);
    assert_int_equal(n->server.n, 0);
    assert_int_equal(n->cp.closed, 1);
    sn_conn_close(n->cp.c);
    net_free(n);
}

static void listen_refuses_taken_address(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 10 }, false);
    assert_false(sn_node_listen(n->cli, "broker-0", 9092, tk_accept, &n->server));
    assert_true(sn_node_listen(n->cli, "broker-0", 9093, tk_accept, &n->server));
    assert_ptr_equal(sn_node_find(n->w, "broker-0"), n->srv);
    assert_null(sn_node_find(n->w, "zzz"));
    assert_int_equal(sn_node_count(n->w), 2);
    assert_ptr_equal(sn_node_at(n->w, 1), n->srv);
    assert_string_equal(sn_node_name(n->srv), "broker-0");
    net_free(n);
}

/* Pumps `total` test bytes from p's connection with odd-size writes,
 * continuing on WRITABLE. */
typedef struct pump {
    kp_conn *c;
    uint64_t tag;
    size_t total, sent;
    int short_sends;
} pump;

static void pump_go(pump *pu) {
    uint8_t buf[4099];
    static const size_t sizes[] = { 1, 7, 333, 4099, 17, 1000, 2 };
    for (int k = 0; pu->sent < pu->total; k++) {
        size_t want = sizes[(pu->sent + (size_t)k) % 7];
        if (want > pu->total - pu->sent)
            want = pu->total - pu->sent;
        for (size_t i = 0; i < want; i++)
            buf[i] = tk_byte(pu->tag, pu->sent + i);
        tk_in_call = 1;
        ssize_t r = sn_conn_send(pu->c, buf, want);
        tk_in_call = 0;
        assert_true(r >= 0);
        pu->sent += (size_t)r;
        if ((size_t)r < want) {
            pu->short_sends++;
            return;
        }
    }
}

/* Records every event's node, detail text and detail pointer. */
typedef struct detail_log {
    int n;
    int32_t node[64];
    int kind[64];
    const char *ptr[64];
    char text[64][64];
} detail_log;

static void detail_log_on_event(void *ctx, const kp_event *ev) {
    detail_log *d = ctx;
    if (d->n == 64)
        return;
    d->node[d->n] = ev->node;
    d->kind[d->n] = ev->kind;
    d->ptr[d->n] = ev->detail;
    snprintf(d->text[d->n], sizeof d->text[0], "%s", ev->detail ? ev->detail : "(null)");
    d->n++;
}

static void connection_events_name_both_ends_with_one_string_per_side(void **state) {
    (void)state;
    detail_log *d = calloc(1, sizeof *d);
    sn_world *w = sn_world_new(5, (kp_observer){ .on_event = detail_log_on_event, .ctx = d });
    sn_node *cli = sn_node_add(w, "producer-1");
    sn_node *srv = sn_node_add(w, "broker-0");
    kp_transport tr = sn_transport(w, cli);
    probe sp[2] = { 0 }, cp;
    tk_server server = { .probes = sp, .max = 2, .auto_read = true, .w = w, .tr = tr };
    assert_true(sn_node_listen(srv, NULL, 9092, tk_accept, &server));
    probe_init(&cp, w, tr);
    cp.auto_read = true;
    tk_in_call = 1;
    cp.c = tr.connect(tr.ctx, "broker-0", 9092, probe_cb, &cp);
    tk_in_call = 0;
    sn_world_run_until(w, 10000);
    assert_int_equal(sn_conn_send(cp.c, "abc", 3), 3);
    sn_world_run_until(w, 20000);
    assert_int_equal(sn_conn_send(sp[0].c, "de", 2), 2);
    sn_world_run_until(w, 30000);
    /* connect, accept, connected, send, deliver, send, deliver */
    assert_int_equal(d->n, 7);
    const char *side[2] = { NULL, NULL };
    for (int i = 0; i < d->n; i++) {
        int s = d->node[i] == sn_node_id(cli) ? 0 : 1;
        assert_string_equal(d->text[i], s == 0 ? "producer-1>broker-0" : "broker-0>producer-1");
        if (!side[s])
            side[s] = d->ptr[i];
        assert_ptr_equal(d->ptr[i], side[s]); /* formatted once, not per event */
    }
    assert_ptr_not_equal(side[0], side[1]);
    /* an address that names no node: "me>host:port" */
    int before = d->n;
    probe cp2;
    probe_init(&cp2, w, tr);
    tk_in_call = 1;
    cp2.c = tr.connect(tr.ctx, "nowhere", 7, probe_cb, &cp2);
    tk_in_call = 0;
    sn_world_run_until(w, 40000);
    assert_true(d->n > before);
    assert_string_equal(d->text[before], "producer-1>nowhere:7");
    sn_conn_close(cp2.c);
    sn_conn_close(cp.c);
    probe_free(&cp2);
    probe_free(&cp);
    probe_free(&sp[0]);
    probe_free(&sp[1]);
    sn_world_destroy(w);
    free(d);
}

/* sn_net.h's PROMISE: a connection event's detail keeps its address and
 * bytes until sn_world_destroy, past the connection's own end; the next
 * connection between the same ends reuses it; a fault's detail is not
 * stable. */
static void connection_details_outlive_their_connection(void **state) {
    (void)state;
    detail_log *d = calloc(1, sizeof *d);
    sn_world *w = sn_world_new(5, (kp_observer){ .on_event = detail_log_on_event, .ctx = d });
    sn_node *cli = sn_node_add(w, "producer-1");
    sn_node *srv = sn_node_add(w, "broker-0");
    kp_transport tr = sn_transport(w, cli);
    probe sp[2] = { 0 }, cp, cp2;
    tk_server server = { .probes = sp, .max = 2, .auto_read = true, .w = w, .tr = tr };
    assert_true(sn_node_listen(srv, NULL, 9092, tk_accept, &server));
    probe_init(&cp, w, tr);
    tk_in_call = 1;
    cp.c = tr.connect(tr.ctx, "broker-0", 9092, probe_cb, &cp);
    tk_in_call = 0;
    sn_world_run_until(w, 10000);
    assert_true(d->n >= 3); /* connect, accept, connected */
    const char *mine = d->ptr[0], *theirs = NULL;
    for (int i = 0; i < d->n; i++)
        if (d->node[i] == sn_node_id(srv))
            theirs = d->ptr[i];
    assert_non_null(theirs);
    assert_true(sn_detail_is_stable(w, mine));
    assert_true(sn_detail_is_stable(w, theirs));
    /* a fault's detail is formatted per event */
    int before = d->n;
    sn_fault_disconnect(w, cli, srv);
    assert_true(d->n > before);
    assert_int_equal(d->kind[before], SN_EV_DISCONNECT);
    assert_false(sn_detail_is_stable(w, d->ptr[before]));
    char copy[64];
    snprintf(copy, sizeof copy, "%s", mine);
    assert_false(sn_detail_is_stable(w, copy)); /* same text, other address */
    /* both ends closed by their users: the connection is freed */
    sn_conn_close(cp.c);
    sn_conn_close(sp[0].c);
    sn_world_run_until(w, 20000);
    assert_true(sn_world_verify(w));
    assert_string_equal(mine, "producer-1>broker-0");
    assert_string_equal(theirs, "broker-0>producer-1");
    assert_true(sn_detail_is_stable(w, mine));
    /* a new connection between the same ends: the same two strings */
    before = d->n;
    probe_init(&cp2, w, tr);
    tk_in_call = 1;
    cp2.c = tr.connect(tr.ctx, "broker-0", 9092, probe_cb, &cp2);
    tk_in_call = 0;
    sn_world_run_until(w, 30000);
    assert_true(d->n >= before + 3);
    for (int i = before; i < d->n; i++)
        assert_ptr_equal(d->ptr[i], d->node[i] == sn_node_id(cli) ? mine : theirs);
    sn_conn_close(cp2.c);
    probe_free(&cp2);
    probe_free(&cp);
    probe_free(&sp[0]);
    probe_free(&sp[1]);
    sn_world_destroy(w);
    free(d);
}

static void stream_chunks_reassemble_byte_exact_both_ways(void **state) {
    (void)state;
    sn_link_cfg link = { .latency_us = 2000, .jitter_us = 1500, .bandwidth_bps = 80000000,
                         .min_chunk = 1, .max_chunk = 97 };
    net *n = net_new(link, true);
    sn_node_set_buffers(n->cli, 16384, 8192);
    sn_node_set_buffers(n->srv, 16384, 8192);
    kp_conn *c = net_connect(n, "broker-0", 9092);
    n->cp.auto_read = true;
    sn_world_run_until(n->w, 10000);
    assert_int_equal(n->cp.connected, 1);
    const size_t total = 300000;
    pump up = { c, 11, total, 0, 0 }, down = { n->sp[0].c, 22, total, 0, 0 };
    int guard = 0;
    while ((up.sent < total || down.sent < total || n->sp[0].got_len < total ||
            n->cp.got_len < total) && guard++ < 1000000) {
        pump_go(&up);
        pump_go(&down);
        if (guard % 1000 == 0)
            assert_true(sn_world_verify(n->w));
        if (!sn_world_step(n->w))
            break;
    }
    assert_int_equal(n->sp[0].got_len, total);
    assert_int_equal(n->cp.got_len, total);
    for (size_t i = 0; i < total; i++) {
        if (n->sp[0].got[i] != tk_byte(11, i) || n->cp.got[i] != tk_byte(22, i))
            fail_msg("byte %zu differs", i);
    }
    /* partial delivery: far more arrivals than sends of 4 KiB frames */
    assert_true(n->sp[0].readable > (int)(total / 97));
    assert_true(up.short_sends > 0);         /* the 16 KiB send buffer filled */
    assert_true(n->cp.writable > 0);         /* ... and WRITABLE said so */
    assert_int_equal(n->cp.reentered + n->sp[0].reentered, 0);
    net_free(n);
}

static void latency_and_bandwidth_arithmetic(void **state) {
    (void)state;
    /* 8 Mbit/s = 1 byte per microsecond; 5 ms one way; whole-send chunks */
    net *n = net_new((sn_link_cfg){ .latency_us = 5000, .bandwidth_bps = 8000000 }, false);
    kp_conn *c = net_connect(n, "broker-0", 9092);
    sn_world_run_until(n->w, 10000);
    assert_int_equal(n->cp.connected, 1);
    uint8_t buf[1000];
    memset(buf, 'a', sizeof buf);
    /* two sends back to back at t=10000: the transmitter serialises them */
    assert_int_equal(sn_conn_send(c, buf, 1000), 1000);
    assert_int_equal(sn_conn_send(c, buf, 1000), 1000);
    assert_int_equal(sn_conn_unacked(c), 2000);
    probe *s = &n->sp[0];
    sn_world_run_until(n->w, 15999);
    assert_int_equal(sn_conn_readable(s->c), 0);
    sn_world_run_until(n->w, 16000); /* 10000 + 1000 (1000 B) + 5000 */
    assert_int_equal(sn_conn_readable(s->c), 1000);
    sn_world_run_until(n->w, 17000); /* second one queued behind the first */
    assert_int_equal(sn_conn_readable(s->c), 2000);
    assert_int_equal(sn_conn_unacked(c), 0);
    /* a second connection on the same link shares the transmitter */
    probe cp2;
    probe_init(&cp2, n->w, n->tr);
    kp_conn *c2 = n->tr.connect(n->tr.ctx, "broker-0", 9092, probe_cb, &cp2);
    sn_world_run_until(n->w, 30000);
    assert_int_equal(cp2.connected, 1);
    assert_int_equal(sn_conn_send(c, buf, 1000), 1000);  /* busy 30000..31000 */
    assert_int_equal(sn_conn_send(c2, buf, 500), 500);   /* busy 31000..31500 */
    sn_world_run_until(n->w, 36499);
    assert_int_equal(sn_conn_readable(n->sp[1].c), 0);
    sn_world_run_until(n->w, 36500);
    assert_int_equal(sn_conn_readable(n->sp[1].c), 500);
    assert_int_equal(sn_conn_readable(s->c), 3000);
    /* ceil: 3 bytes at 16 bit/s take 1.5 s -> 1500000 us exactly; 1 byte
     * at 3 bit/s takes 2666666.67 us -> 2666667 */
    sn_set_link(n->w, n->cli, n->srv, (sn_link_cfg){ .latency_us = 0, .bandwidth_bps = 3 });
    sn_link_cfg got = sn_link_get(n->w, n->srv, n->cli);
    assert_int_equal(got.bandwidth_bps, 3);
    assert_int_equal(sn_conn_send(c, "z", 1), 1);
    kp_time_us t0 = sn_now(n->w);
    sn_world_run_until(n->w, t0 + 2666666);
    assert_int_equal(sn_conn_readable(s->c), 3000);
    sn_world_run_until(n->w, t0 + 2666667);
    assert_int_equal(sn_conn_readable(s->c), 3001);
    assert_true(n->obs.count[SN_EV_LINK_CFG - 300] >= 2);
    sn_reset_link(n->w, n->cli, n->srv);
    assert_int_equal(sn_link_get(n->w, n->cli, n->srv).latency_us, 5000);
    probe_free(&cp2);
    net_free(n);
}

static void jitter_never_reorders_chunks(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 100, .jitter_us = 100000, .min_chunk = 1,
                                    .max_chunk = 3 }, true);
    kp_conn *c = net_connect(n, "broker-0", 9092);
    sn_world_run_until(n->w, 300000);
    uint8_t buf[600];
    for (int i = 0; i < 600; i++)
        buf[i] = (uint8_t)i;
    assert_int_equal(sn_conn_send(c, buf, 600), 600);
    kp_time_us prev = 0;
    int arrivals = 0;
    while (sn_world_step(n->w)) {
        if (n->obs.last.kind == SN_EV_DELIVER) {
            assert_true(n->obs.last.time_us >= prev);
            prev = n->obs.last.time_us;
            arrivals++;
        }
    }
    assert_true(arrivals >= 200);
    assert_int_equal(n->sp[0].got_len, 600);
    assert_memory_equal(n->sp[0].got, buf, 600);
    net_free(n);
}

static void send_buffer_bounds_and_writable(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 1000 }, true);
    kp_conn *c = net_connect(n, "broker-0", 9092);
    sn_world_run_until(n->w, 5000);
    uint8_t *big = calloc(1, 200000);
    tk_in_call = 1;
    assert_int_equal(sn_conn_send(c, big, 200000), 131072); /* send.buffer.bytes */
    assert_int_equal(sn_conn_send(c, big, 10), 0);
    tk_in_call = 0;
    assert_int_equal(n->cp.writable, 0);
    sn_world_run_until(n->w, 6000);
    assert_int_equal(n->cp.writable, 1);
    assert_int_equal(n->sp[0].got_len, 131072);
    assert_int_equal(n->cp.reentered, 0);
    free(big);
    net_free(n);
}

/* sendv is send of the pieces' concatenation: the same count taken at
 * the send buffer's bound, the same bytes in order, and the transport op
 * is offered. */
static void sendv_is_send_of_the_concatenation(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 1000 }, true);
    assert_non_null(n->tr.sendv);
    kp_conn *c = net_connect(n, "broker-0", 9092);
    sn_world_run_until(n->w, 5000);
    enum { A = 5, B = 100000, C = 60000 }; /* 160,005 bytes: past 131,072 */
    uint8_t *src = malloc(A + B + C);
    for (size_t i = 0; i < A + B + C; i++)
        src[i] = tk_byte(7, i);
    kp_iov iov[4] = { { src, A }, { src + A, 0 }, { src + A, B }, { src + A + B, C } };
    tk_in_call = 1;
    assert_int_equal(n->tr.sendv(n->tr.ctx, c, iov, 4), 131072); /* send.buffer.bytes */
    assert_int_equal(sn_conn_sendv(c, iov, 4), 0);                /* full: nothing more */
    tk_in_call = 0;
    sn_world_run_until(n->w, 6000);
    assert_int_equal(n->cp.writable, 1);
    assert_int_equal(n->sp[0].got_len, 131072);
    tk_in_call = 1;
    kp_iov rest = { src + 131072, A + B + C - 131072 };
    assert_int_equal(sn_conn_sendv(c, &rest, 1), A + B + C - 131072);
    tk_in_call = 0;
    sn_world_run_until(n->w, 8000);
    assert_int_equal(n->sp[0].got_len, A + B + C);
    assert_memory_equal(n->sp[0].got, src, A + B + C);
    assert_int_equal(n->cp.reentered, 0);
    free(src);
    net_free(n);
}

static void receive_window_holds_bytes_until_read(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 1000, .max_chunk = 1000, .min_chunk = 1000 }, false);
    sn_node_set_buffers(n->srv, 0, 4000);
    kp_conn *c = net_connect(n, "broker-0", 9092);
    sn_world_run_until(n->w, 5000);
    uint8_t buf[10000];
    memset(buf, 1, sizeof buf);
    assert_int_equal(sn_conn_send(c, buf, 10000), 10000);
    sn_world_run_until(n->w, 100000);
    probe *s = &n->sp[0];
    assert_int_equal(sn_conn_readable(s->c), 4000);     /* window full */
    assert_int_equal(sn_conn_unacked(c), 6000);          /* the rest waits */
    assert_true(n->obs.count[SN_EV_WINDOW_FULL - 300] >= 1);
    uint8_t out[10000];
    assert_int_equal(sn_conn_recv(s->c, out, 10000), 4000);
    sn_world_run_until(n->w, 100999);
    assert_int_equal(sn_conn_readable(s->c), 0);          /* window update in flight */
    sn_world_run_until(n->w, 101000);
    assert_int_equal(sn_conn_readable(s->c), 4000);
    assert_int_equal(sn_conn_recv(s->c, out, 10000), 4000);
    sn_world_run_until(n->w, 200000);
    assert_int_equal(sn_conn_recv(s->c, out, 10000), 2000);
    assert_int_equal(sn_conn_unacked(c), 0);
    net_free(n);
}

static void peek_and_consume_read_in_place_across_the_ring_end(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 1000 }, false);
    kp_conn *c = net_connect(n, "broker-0", 9092);
    sn_world_run_until(n->w, 5000);
    probe *s = &n->sp[0];
    uint8_t buf[1500], out[4000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = tk_byte(7, i);
    size_t len;
    assert_null(sn_conn_peek(s->c, &len));
    assert_int_equal(len, 0);
    /* 1500 + 1500 bytes into a 1024-then-2048-byte ring read 1000 at a
     * time: the second send's bytes wrap around the ring's end */
    assert_int_equal(sn_conn_send(c, buf, 1500), 1500);
    sn_world_run_until(n->w, 6000);
    const uint8_t *p = sn_conn_peek(s->c, &len);
    assert_int_equal(len, 1500);
    assert_memory_equal(p, buf, 1500);
    sn_conn_consume(s->c, 1000);
    assert_int_equal(sn_conn_readable(s->c), 500);
    assert_int_equal(sn_conn_send(c, buf, 1500), 1500);
    sn_world_run_until(n->w, 7000);
    assert_int_equal(sn_conn_readable(s->c), 2000);
    size_t got = 0;
    for (int runs = 0; runs < 3; runs++) {
        p = sn_conn_peek(s->c, &len);
        if (!len)
            break;
        assert_true(got + len <= sizeof out);
        memcpy(out + got, p, len);
        got += len;
        sn_conn_consume(s->c, len);
        assert_true(sn_world_verify(n->w));
    }
    assert_int_equal(got, 2000);
    assert_memory_equal(out, buf + 1000, 500);
    assert_memory_equal(out + 500, buf, 1500);
    assert_int_equal(sn_conn_readable(s->c), 0);
    assert_int_equal(sn_conn_recv(s->c, out, sizeof out), 0);
    net_free(n);
}

/* sn_conn_keep reads as consume does (the window opens at the same
 * moment) but the bytes stay in the ring, in order, behind those kept
 * before, readable with sn_conn_kept (two runs across the ring's end)
 * until released; a reset drops only the unread bytes, a close all. */
static void keep_reads_like_consume_and_holds_the_bytes_until_released(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 1000, .max_chunk = 1000, .min_chunk = 1000 }, false);
    sn_node_set_buffers(n->srv, 0, 4000);
    kp_conn *c = net_connect(n, "broker-0", 9092);
    sn_world_run_until(n->w, 5000);
    uint8_t buf[10000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = tk_byte(11, i);
    assert_int_equal(sn_conn_send(c, buf, 10000), 10000);
    sn_world_run_until(n->w, 100000);
    probe *s = &n->sp[0];
    assert_int_equal(sn_conn_readable(s->c), 4000); /* window full */
    size_t len;
    sn_conn_keep(s->c, 3000); /* 1000 left: below rcvbuf, update goes */
    assert_true(sn_world_verify(n->w));
    sn_world_run_until(n->w, 100999);
    assert_int_equal(sn_conn_readable(s->c), 1000);
    sn_world_run_until(n->w, 101000);
    assert_int_equal(sn_conn_readable(s->c), 4000); /* as after consume */
    const uint8_t *p = sn_conn_peek(s->c, &len);
    assert_true(len > 0);
    assert_memory_equal(p, buf + 3000, len < 4000 ? len : 4000);
    /* the kept bytes, whole, in one or two runs */
    uint8_t out[10000];
    size_t got = 0;
    while ((p = sn_conn_kept(s->c, got, &len)) != NULL) {
        memcpy(out + got, p, len);
        got += len;
    }
    assert_int_equal(got, 3000);
    assert_memory_equal(out, buf, 3000);
    /* keep the next 4000 behind them, release the first 3500 */
    sn_conn_keep(s->c, 4000);
    sn_conn_release(s->c, 3500);
    assert_true(sn_world_verify(n->w));
    got = 0;
    while ((p = sn_conn_kept(s->c, got, &len)) != NULL) {
        memcpy(out + got, p, len);
        got += len;
    }
    assert_int_equal(got, 3500);
    assert_memory_equal(out, buf + 3500, 3500);
    sn_world_run_until(n->w, 200000);
    assert_int_equal(sn_conn_readable(s->c), 3000);
    /* a reset: the unread 3000 go, the kept 3500 stay until released */
    sn_conn_abort(c);
    assert_true(sn_world_verify(n->w));
    assert_int_equal(sn_conn_readable(s->c), 0);
    got = 0;
    while ((p = sn_conn_kept(s->c, got, &len)) != NULL) {
        memcpy(out + got, p, len);
        got += len;
    }
    assert_int_equal(got, 3500);
    assert_memory_equal(out, buf + 3500, 3500);
    sn_conn_release(s->c, 1000);
    assert_non_null(sn_conn_kept(s->c, 0, &len));
    assert_true(sn_world_verify(n->w));
    net_free(n); /* closes with 2500 kept: they go with the connection */
}

static void consume_opens_the_window_like_recv(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 1000, .max_chunk = 1000, .min_chunk = 1000 }, false);
    sn_node_set_buffers(n->srv, 0, 4000);
    kp_conn *c = net_connect(n, "broker-0", 9092);
    sn_world_run_until(n->w, 5000);
    uint8_t buf[10000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = tk_byte(9, i);
    assert_int_equal(sn_conn_send(c, buf, 10000), 10000);
    sn_world_run_until(n->w, 100000);
    probe *s = &n->sp[0];
    assert_int_equal(sn_conn_readable(s->c), 4000); /* window full */
    size_t len;
    const uint8_t *p = sn_conn_peek(s->c, &len);
    assert_int_equal(len, 4000);
    assert_memory_equal(p, buf, 4000);
    sn_conn_consume(s->c, 3000); /* 1000 left: below rcvbuf, update goes */
    sn_world_run_until(n->w, 100999);
    assert_int_equal(sn_conn_readable(s->c), 1000);
    sn_world_run_until(n->w, 101000);
    assert_int_equal(sn_conn_readable(s->c), 4000); /* 1000 + 3000 more */
    p = sn_conn_peek(s->c, &len);
    assert_true(len > 0);
    assert_memory_equal(p, buf + 3000, len < 4000 ? len : 4000);
    uint8_t out[10000];
    assert_int_equal(sn_conn_recv(s->c, out, sizeof out), 4000);
    assert_memory_equal(out, buf + 3000, 4000);
    sn_world_run_until(n->w, 200000);
    assert_int_equal(sn_conn_recv(s->c, out, sizeof out), 3000);
    assert_memory_equal(out, buf + 7000, 3000);
    assert_int_equal(sn_conn_unacked(c), 0);
    assert_true(sn_world_verify(n->w));
    net_free(n);
}

static void close_delivers_pending_bytes_then_closed(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 1000 }, false);
    kp_conn *c = net_connect(n, "broker-0", 9092);
    sn_world_run_until(n->w, 5000);
    probe *s = &n->sp[0];
    assert_int_equal(sn_conn_send(c, "hello", 5), 5);
    tk_in_call = 1;
    n->tr.close(NULL, c);
    tk_in_call = 0;
    sn_world_run_until(n->w, 5999);
    assert_int_equal(s->n, 0);
    sn_world_run_until(n->w, 6000);
    assert_int_equal(probe_count(s, KP_CONN_EV_READABLE), 1);
    assert_int_equal(probe_count(s, KP_CONN_EV_CLOSED), 1);
    assert_int_equal(s->ev[s->n - 1], KP_CONN_EV_CLOSED); /* last */
    assert_int_equal(s->closed_err, KP_ERR__CLOSED);
    assert_int_equal(sn_conn_state(s->c), KP_CONN_CLOSED);
    char b[16];
    assert_int_equal(sn_conn_recv(s->c, b, 16), 5);     /* bytes survive the FIN */
    assert_memory_equal(b, "hello", 5);
    assert_int_equal(sn_conn_recv(s->c, b, 16), -1);
    assert_int_equal(sn_conn_send(s->c, b, 1), -1);
    assert_int_equal(n->cp.n, 1);           /* the closer heard only CONNECTED */
    assert_int_equal(sn_conn_count(n->w), 1);
    sn_conn_close(s->c);
    sn_world_run_until(n->w, 7000);
    assert_int_equal(sn_conn_count(n->w), 0);            /* freed after both closed */
    net_free(n);
}

/* A freed connection's ring buffer is kept by the world and the next ring
 * that grows to its size gets it back (pages already in memory) instead
 * of a fresh block: the bytes read in place lie where the first
 * connection's did, although a block of that size was taken from malloc
 * in between (without the spares it would have been that one). */
static void a_freed_ring_buffer_is_reused_by_the_next_ring(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 1000 }, false);
    enum { LEN = 20000 }; /* a ring of 32 KB */
    uint8_t *buf = malloc(LEN);
    for (size_t i = 0; i < LEN; i++)
        buf[i] = tk_byte(9, i);
    const uint8_t *first = NULL;
    void *hog = NULL;
    for (int k = 0; k < 2; k++) {
        kp_conn *c = net_connect(n, "broker-0", 9092);
        sn_world_run_until(n->w, 10000 * k + 5000);
        probe *s = &n->sp[k];
        assert_int_equal(sn_conn_send(c, buf, LEN), LEN);
        sn_world_run_until(n->w, 10000 * k + 6000);
        size_t len;
        const uint8_t *p = sn_conn_peek(s->c, &len);
        assert_int_equal(len, LEN);
        assert_memory_equal(p, buf, LEN);
        if (k == 0)
            first = p;
        else
            assert_ptr_equal(p, first);
        sn_conn_close(c);
        n->cp.c = NULL;
        sn_conn_close(s->c);
        sn_world_run_until(n->w, 10000 * k + 8000);
        assert_int_equal(sn_conn_count(n->w), 0);
        if (k == 0) {
            hog = malloc(32768); /* where malloc would put the next ring */
            memset(hog, 0, 32768);
        }
    }
    free(hog);
    free(buf);
    net_free(n);
}

/* Pieces lent to sn_conn_sendv_keep are read where they lie (peek and
 * kept hand out the sender's own memory), the stream keeps its order
 * around them, and closing the sender copies what is still lent: the
 * reader then reads the same bytes although the sender reused its
 * buffer. */
static void lent_pieces_are_read_in_place_until_the_sender_closes(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 1000 }, false);
    kp_conn *c = net_connect(n, "broker-0", 9092);
    sn_world_run_until(n->w, 5000);
    probe *s = &n->sp[0];
    enum { H = 10, B = 3000, T = 5, ALL = H + B + T + H };
    uint8_t hdr[H], *body = malloc(B), tail[T], want[ALL];
    for (size_t i = 0; i < H; i++)
        hdr[i] = tk_byte(1, i);
    for (size_t i = 0; i < B; i++)
        body[i] = tk_byte(2, i);
    for (size_t i = 0; i < T; i++)
        tail[i] = tk_byte(3, i);
    kp_iov iov[3] = { { hdr, H }, { body, B }, { tail, T } };
    assert_int_equal(n->tr.sendv_keep(n->tr.ctx, c, iov, 3, 2), H + B + T);
    assert_int_equal(sn_conn_send(c, hdr, H), H); /* an ordinary send behind them */
    memcpy(want, hdr, H);
    memcpy(want + H, body, B);
    memcpy(want + H + B, tail, T);
    memcpy(want + H + B + T, hdr, H);
    assert_true(sn_world_verify(n->w));
    sn_world_run_until(n->w, 6000);
    assert_int_equal(sn_conn_readable(s->c), ALL);
    size_t len;
    const uint8_t *p = sn_conn_peek(s->c, &len);
    assert_int_equal(len, H);
    assert_memory_equal(p, hdr, H);
    sn_conn_keep(s->c, H);
    p = sn_conn_peek(s->c, &len);
    assert_ptr_equal(p, body); /* in place: not copied */
    assert_int_equal(len, B);
    sn_conn_keep(s->c, B);
    p = sn_conn_peek(s->c, &len);
    assert_int_equal(len, T + H); /* the ring's bytes after the lent piece */
    assert_memory_equal(p, want + H + B, T + H);
    sn_conn_keep(s->c, T + H);
    assert_true(sn_world_verify(n->w));
    /* the first piece read and let go: the lent one is the front now */
    sn_conn_release(s->c, H);
    assert_ptr_equal(sn_conn_kept(s->c, 0, &len), body);
    assert_int_equal(len, B);
    assert_ptr_equal(sn_conn_kept(s->c, 100, &len), body + 100);
    assert_int_equal(len, B - 100);
    /* the sender closes and reuses its buffer: the reader's bytes stay */
    sn_conn_close(c);
    n->cp.c = NULL;
    memset(body, 0, B);
    free(body);
    assert_true(sn_world_verify(n->w));
    uint8_t got[ALL];
    size_t at = 0;
    while ((p = sn_conn_kept(s->c, at, &len)) != NULL) {
        memcpy(got + at, p, len);
        at += len;
    }
    assert_int_equal(at, ALL - H);
    assert_memory_equal(got, want + H, ALL - H);
    sn_conn_release(s->c, ALL - H);
    assert_int_equal(sn_conn_readable(s->c), 0);
    assert_true(sn_world_verify(n->w));
    net_free(n);
}

/* recv copies across ring and lent pieces in order; a lent piece the send
 * buffer takes only in part is lent in part (the rest is the caller's to
 * send again); a reset drops the unread lent bytes with the rest. */
static void lent_pieces_recv_partial_send_and_reset(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 1000 }, false);
    kp_conn *c = net_connect(n, "broker-0", 9092);
    sn_world_run_until(n->w, 5000);
    probe *s = &n->sp[0];
    enum { A = 7, B = 200000 };
    uint8_t a[A], *b = malloc(B);
    for (size_t i = 0; i < A; i++)
        a[i] = tk_byte(4, i);
    for (size_t i = 0; i < B; i++)
        b[i] = tk_byte(5, i);
    kp_iov iov[2] = { { a, A }, { b, B } };
    assert_int_equal(sn_conn_sendv_keep(c, iov, 2, 2), 131072); /* send.buffer.bytes */
    sn_world_run_until(n->w, 6000);
    uint8_t *out = malloc(131072);
    assert_int_equal(sn_conn_recv(s->c, out, 5), 5);
    assert_memory_equal(out, a, 5);
    assert_int_equal(sn_conn_recv(s->c, out + 5, 131072), 131072 - 5);
    assert_memory_equal(out + 5, a + 5, A - 5);
    assert_memory_equal(out + A, b, 131072 - A);
    assert_true(sn_world_verify(n->w));
    /* more lent bytes, then a reset before they are read */
    kp_iov rest = { b + 131072 - A, 1000 };
    assert_int_equal(sn_conn_sendv_keep(c, &rest, 1, 1), 1000);
    sn_world_run_until(n->w, 7000);
    assert_int_equal(sn_conn_readable(s->c), 1000);
    sn_fault_disconnect(n->w, n->cli, n->srv);
    assert_int_equal(sn_conn_readable(s->c), 0);
    assert_true(sn_world_verify(n->w));
    sn_conn_close(c);
    n->cp.c = NULL;
    free(b);
    free(out);
    net_free(n);
}

static void server_may_send_on_accept_and_close_at_once(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 1000 }, false);
    n->cp.auto_read = true;
    /* a server that greets and hangs up inside on_accept */
    struct greeter { int accepted; } g = { 0 };
    (void)g;
    net_connect(n, "broker-0", 9092);
    sn_world_run_until(n->w, 1000);
    assert_int_equal(n->server.n, 1);
    kp_conn *sc = n->sp[0].c;
    assert_int_equal(sn_conn_send(sc, "hi", 2), 2);
    sn_conn_close(sc);
    sn_world_run_until(n->w, 10000);
    assert_int_equal(n->cp.n, 3);
    assert_int_equal(n->cp.ev[0], KP_CONN_EV_CONNECTED);
    assert_int_equal(n->cp.ev[1], KP_CONN_EV_READABLE);
    assert_int_equal(n->cp.ev[2], KP_CONN_EV_CLOSED);
    assert_int_equal(n->cp.got_len, 2);
    assert_int_equal(n->cp.at[0], 2000);
    sn_conn_close(n->cp.c);
    net_free(n);
}

static void closing_a_connect_in_progress_resets_accepted_server(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 1000 }, false);
    kp_conn *c = net_connect(n, "broker-0", 9092);
    sn_world_run_until(n->w, 1500); /* accepted, SYN-ACK in flight */
    assert_int_equal(n->server.n, 1);
    sn_conn_close(c);
    sn_world_run_until(n->w, 10000);
    assert_int_equal(n->cp.n, 0);
    assert_int_equal(n->sp[0].closed, 1);
    assert_int_equal(n->sp[0].closed_err, KP_ERR__TRANSPORT);
    assert_int_equal(n->sp[0].at[0], 2500);
    sn_conn_close(n->sp[0].c);
    /* abandoning before the SYN arrives: the server never hears of it */
    probe_init(&n->cp, n->w, n->tr);
    c = net_connect(n, "broker-0", 9092);
    sn_world_run_until(n->w, 10500);
    sn_conn_close(c);
    sn_world_run_until(n->w, 20000);
    assert_int_equal(n->server.n, 1);
    assert_int_equal(sn_conn_count(n->w), 0);
    net_free(n);
}

static void event_names_cover_every_kind(void **state) {
    (void)state;
    static const int kinds[] = {
        SN_EV_CONNECT, SN_EV_ACCEPT, SN_EV_CONNECTED, SN_EV_REFUSED, SN_EV_HELD, SN_EV_CLOSE,
        SN_EV_PEER_CLOSED, SN_EV_RESET, SN_EV_SEND, SN_EV_DELIVER, SN_EV_DROP, SN_EV_STALL,
        SN_EV_WINDOW_FULL, SN_EV_DISCONNECT, SN_EV_PARTITION, SN_EV_HEAL, SN_EV_BLACKHOLE_ON,
        SN_EV_BLACKHOLE_OFF, SN_EV_NODE_DOWN, SN_EV_NODE_UP, SN_EV_LINK_CFG,
        SN_EV_CHAOS_START, SN_EV_CHAOS_END, SN_EV_CHAOS_SKIP,
    };
    size_t nk = sizeof kinds / sizeof kinds[0];
    for (size_t i = 0; i < nk; i++) {
        assert_true(kinds[i] >= 300 && kinds[i] < 400);
        const char *nm = sn_event_name(kinds[i]);
        assert_non_null(nm);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(nm, sn_event_name(kinds[j]));
    }
    assert_null(sn_event_name(299));
    assert_null(sn_event_name(350));
}

/* The transport's pending op answers exactly what a recv would do: false
 * only when CONNECTED with nothing unread; true from the step the bytes
 * land (before the READABLE notification runs), after a FIN, and while
 * connecting. */
static void pending_op_says_whether_recv_would_find_anything(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 1000 }, false);
    kp_conn *c = net_connect(n, "broker-0", 9092);
    assert_true(n->tr.pending(NULL, c)); /* CONNECTING */
    sn_world_run_until(n->w, 5000);
    probe *s = &n->sp[0];
    assert_false(n->tr.pending(NULL, c));
    assert_false(sn_conn_pending(s->c));
    assert_int_equal(sn_conn_send(c, "hello", 5), 5);
    assert_false(sn_conn_pending(s->c)); /* in flight, not arrived */
    /* step until the bytes land: the READABLE event comes a step later */
    int steps = 0;
    while (sn_conn_readable(s->c) == 0 && steps++ < 100)
        assert_true(sn_world_step(n->w));
    assert_int_equal(probe_count(s, KP_CONN_EV_READABLE), 0);
    assert_true(sn_conn_pending(s->c));
    char b[16];
    assert_int_equal(sn_conn_recv(s->c, b, 2), 2);
    assert_true(sn_conn_pending(s->c)); /* three bytes left */
    assert_int_equal(sn_conn_recv(s->c, b, 16), 3);
    assert_false(sn_conn_pending(s->c));
    assert_int_equal(sn_conn_recv(s->c, b, 16), 0); /* agrees: nothing */
    sn_world_run_until(n->w, 7000);
    assert_false(sn_conn_pending(s->c));
    n->tr.close(NULL, c);
    sn_world_run_until(n->w, 9000);
    assert_int_equal(sn_conn_state(s->c), KP_CONN_CLOSED);
    assert_true(sn_conn_pending(s->c)); /* recv would say -1 */
    assert_int_equal(sn_conn_recv(s->c, b, 16), -1);
    sn_conn_close(s->c);
    net_free(n);
}

/* The transport's generation op: the client node's counter moves whenever
 * one of its endpoints may have become pending (connect completed, bytes
 * landed, a FIN or a reset), before the READABLE notification runs, and
 * stays put while nothing arrives for it (its own sends, bytes landing at
 * the other node, reads that empty the buffer). Equal reads therefore
 * vouch for every "not pending" answer given after the first. */
static void generation_moves_whenever_pending_may_turn_true(void **state) {
    (void)state;
    net *n = net_new((sn_link_cfg){ .latency_us = 1000 }, false);
    assert_non_null(n->tr.generation);
    kp_transport str = sn_transport(n->w, n->srv);
    uint64_t g = n->tr.generation(n->tr.ctx);
    kp_conn *c = net_connect(n, "broker-0", 9092);
    sn_world_run_until(n->w, 5000);
    assert_false(n->tr.pending(n->tr.ctx, c));
    assert_true(n->tr.generation(n->tr.ctx) != g); /* the connect completed */
    g = n->tr.generation(n->tr.ctx);
    probe *s = &n->sp[0];
    uint64_t sg = str.generation(str.ctx);
    /* our own send, its arrival at the broker: nothing for this node */
    assert_int_equal(n->tr.send(n->tr.ctx, c, "hello", 5), 5);
    sn_world_run_until(n->w, 7000);
    assert_int_equal(sn_conn_readable(s->c), 5);
    assert_int_equal(n->tr.generation(n->tr.ctx), g);
    assert_true(str.generation(str.ctx) != sg); /* the broker node's moved */
    /* bytes landing here move it in the step they land */
    assert_int_equal(sn_conn_send(s->c, "abc", 3), 3);
    int steps = 0;
    while (sn_conn_readable(c) == 0 && steps++ < 100) {
        assert_false(n->tr.pending(n->tr.ctx, c));
        assert_int_equal(n->tr.generation(n->tr.ctx), g);
        assert_true(sn_world_step(n->w));
    }
    assert_true(n->tr.pending(n->tr.ctx, c));
    assert_true(n->tr.generation(n->tr.ctx) != g);
    g = n->tr.generation(n->tr.ctx);
    char b[16];
    assert_int_equal(n->tr.recv(n->tr.ctx, c, b, sizeof b), 3);
    assert_false(n->tr.pending(n->tr.ctx, c));
    sn_world_run_until(n->w, 9000);
    assert_int_equal(n->tr.generation(n->tr.ctx), g);
    /* the peer's FIN */
    sn_conn_close(s->c);
    sn_world_run_until(n->w, 12000);
    assert_true(n->tr.pending(n->tr.ctx, c));
    assert_true(n->tr.generation(n->tr.ctx) != g);
    n->tr.close(n->tr.ctx, c);
    net_free(n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connect_takes_one_round_trip),
        cmocka_unit_test(connect_to_unlistened_port_is_refused_after_round_trip),
        cmocka_unit_test(connect_to_unknown_host_is_refused_over_default_link),
        cmocka_unit_test(listen_refuses_taken_address),
        cmocka_unit_test(connection_events_name_both_ends_with_one_string_per_side),
        cmocka_unit_test(connection_details_outlive_their_connection),
        cmocka_unit_test(stream_chunks_reassemble_byte_exact_both_ways),
        cmocka_unit_test(latency_and_bandwidth_arithmetic),
        cmocka_unit_test(jitter_never_reorders_chunks),
        cmocka_unit_test(send_buffer_bounds_and_writable),
        cmocka_unit_test(sendv_is_send_of_the_concatenation),
        cmocka_unit_test(receive_window_holds_bytes_until_read),
        cmocka_unit_test(peek_and_consume_read_in_place_across_the_ring_end),
        cmocka_unit_test(a_freed_ring_buffer_is_reused_by_the_next_ring),
        cmocka_unit_test(lent_pieces_are_read_in_place_until_the_sender_closes),
        cmocka_unit_test(lent_pieces_recv_partial_send_and_reset),
        cmocka_unit_test(consume_opens_the_window_like_recv),
        cmocka_unit_test(keep_reads_like_consume_and_holds_the_bytes_until_released),
        cmocka_unit_test(close_delivers_pending_bytes_then_closed),
        cmocka_unit_test(pending_op_says_whether_recv_would_find_anything),
        cmocka_unit_test(generation_moves_whenever_pending_may_turn_true),
        cmocka_unit_test(server_may_send_on_accept_and_close_at_once),
        cmocka_unit_test(closing_a_connect_in_progress_resets_accepted_server),
        cmocka_unit_test(event_names_cover_every_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
