/*
 * test_live.c — the real-world seams (simnet/live.c) on loopback only
 * (127.0.0.1): an echo server and a client exchanging 10 MB in odd-size
 * writes, a refused connect, a peer reset, an orderly close, the pending
 * op, timers on the live world, wakeup. Every wait is bounded by a deadline.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"
#include "sn_testkit.h"

#define SECONDS(s) ((kp_time_us)(s) * 1000000)

/* ---- echo server: writes back what it reads, keeping what did not fit -- */
typedef struct echo_conn {
    kp_conn *c;
    kp_transport tr;
    uint8_t *pend;
    size_t pend_len, pend_cap;
    bool closed;
} echo_conn;

typedef struct echo_srv {
    kp_transport tr;
    echo_conn conns[8];
    int n;
    bool abort_on_accept;
    bool close_on_accept;
} echo_srv;

static void echo_flush(echo_conn *e) {
    while (e->pend_len) {
        ssize_t r = e->tr.send(e->tr.ctx, e->c, e->pend, e->pend_len);
        if (r <= 0)
            return;
        memmove(e->pend, e->pend + r, e->pend_len - (size_t)r);
        e->pend_len -= (size_t)r;
    }
}

static void echo_cb(void *ctx, kp_conn *c, kp_conn_event ev, kp_err err) {
    echo_conn *e = ctx;
    (void)err;
    if (ev == KP_CONN_EV_CLOSED) {
        e->tr.close(e->tr.ctx, c);
        e->closed = true;
        return;
    }
    if (ev == KP_CONN_EV_READABLE) {
        uint8_t buf[8191];
        for (;;) {
            if (e->pend_len > 4u << 20)
                break; /* backpressure: stop reading while 4 MB wait to go out */
            ssize_t r = e->tr.recv(e->tr.ctx, c, buf, sizeof buf);
            if (r <= 0)
                break;
            if (e->pend_len + (size_t)r > e->pend_cap) {
                e->pend_cap = (e->pend_len + (size_t)r) * 2;
                e->pend = realloc(e->pend, e->pend_cap);
            }
            memcpy(e->pend + e->pend_len, buf, (size_t)r);
            e->pend_len += (size_t)r;
        }
    }
    if (!e->closed)
        echo_flush(e);
}

static void echo_accept(void *ctx, kp_conn *c) {
    echo_srv *s = ctx;
    if (s->abort_on_accept) {
        sn_live_conn_abort(c);
        return;
    }
    if (s->close_on_accept) {
        s->tr.send(s->tr.ctx, c, "bye", 3);
        s->tr.close(s->tr.ctx, c);
        return;
    }
    if (s->n >= 8) {
        s->tr.close(s->tr.ctx, c);
        return;
    }
    echo_conn *e = &s->conns[s->n++];
    memset(e, 0, sizeof *e);
    e->c = c;
    e->tr = s->tr;
    sn_live_conn_set_cb(c, echo_cb, e);
}

/* ---- client: pumps N bytes with odd-size writes, checks the echo ------- */
typedef struct client {
    kp_transport tr;
    kp_conn *c;
    size_t total, sent, got;
    size_t bad_at;        /* first mismatching byte + 1, 0 if none */
    int step;
    int connected, closed, writable;
    kp_err closed_err;
} client;

static void client_pump(client *k) {
    uint8_t buf[65537];
    static const size_t sizes[] = { 1, 4093, 65537, 17, 777, 30001, 2 };
    while (k->sent < k->total) {
        size_t want = sizes[k->step % 7];
        if (want > k->total - k->sent)
            want = k->total - k->sent;
        for (size_t i = 0; i < want; i++)
            buf[i] = tk_byte(5, k->sent + i);
        ssize_t r = k->tr.send(k->tr.ctx, k->c, buf, want);
        if (r < 0)
            return;
        k->sent += (size_t)r;
        if ((size_t)r < want)
            return; /* WRITABLE will call again */
        k->step++;
    }
}

static void client_cb(void *ctx, kp_conn *c, kp_conn_event ev, kp_err err) {
    client *k = ctx;
    switch (ev) {
    case KP_CONN_EV_CONNECTED:
        k->connected++;
        client_pump(k);
        break;
    case KP_CONN_EV_WRITABLE:
        k->writable++;
        client_pump(k);
        break;
    case KP_CONN_EV_READABLE: {
        uint8_t buf[5003];
        for (;;) {
            ssize_t r = k->tr.recv(k->tr.ctx, c, buf, sizeof buf);
            if (r <= 0)
                break;
            for (ssize_t i = 0; i < r; i++)
                if (!k->bad_at && buf[i] != tk_byte(5, k->got + (size_t)i))
                    k->bad_at = k->got + (size_t)i + 1;
            k->got += (size_t)r;
        }
        break;
    }
    case KP_CONN_EV_CLOSED:
        k->closed++;
        k->closed_err = err;
        break;
    }
}

static bool client_done(void *ctx) {
    client *k = ctx;
    return (k->total && k->got >= k->total) || k->closed;
}

static void live_echo_10mb_in_odd_writes(void **state) {
    (void)state;
    sn_live *l = sn_live_new((kp_observer){ 0 });
    assert_non_null(l);
    echo_srv srv = { .tr = sn_live_transport(l) };
    sn_live_listener *ls = sn_live_listen(l, "127.0.0.1", 0, echo_accept, &srv);
    assert_non_null(ls);
    int port = sn_live_listener_port(ls);
    assert_true(port > 0);
    client k = { .tr = sn_live_transport(l), .total = 10u << 20 };
    k.c = k.tr.connect(k.tr.ctx, "127.0.0.1", port, client_cb, &k);
    assert_non_null(k.c);
    assert_true(sn_live_run(l, client_done, &k, sn_live_now() + SECONDS(60)));
    assert_int_equal(k.connected, 1);
    assert_int_equal(k.closed, 0);
    assert_int_equal(k.sent, k.total);
    assert_int_equal(k.got, k.total);
    assert_int_equal(k.bad_at, 0);
    assert_int_equal(srv.n, 1);
    /* orderly close: the server sees CLOSED and closes its side */
    k.tr.close(k.tr.ctx, k.c);
    sn_live_run(l, NULL, NULL, sn_live_now() + 200000);
    assert_true(srv.conns[0].closed);
    free(srv.conns[0].pend);
    sn_live_destroy(l);
}

static void live_refused_connect_is_closed_transport(void **state) {
    (void)state;
    sn_live *l = sn_live_new((kp_observer){ 0 });
    /* a port that was just free: bind one, note it, let it go */
    sn_live_listener *ls = sn_live_listen(l, "127.0.0.1", 0, NULL, NULL);
    int port = sn_live_listener_port(ls);
    sn_live_unlisten(l, ls);
    sn_live_run_once(l, sn_live_now()); /* reaps the listener */
    client k = { .tr = sn_live_transport(l) };
    k.c = k.tr.connect(k.tr.ctx, "127.0.0.1", port, client_cb, &k);
    assert_non_null(k.c);
    assert_true(sn_live_run(l, client_done, &k, sn_live_now() + SECONDS(10)));
    assert_int_equal(k.connected, 0);
    assert_int_equal(k.closed, 1);
    assert_int_equal(k.closed_err, KP_ERR__TRANSPORT);
    assert_int_equal(k.tr.state(k.tr.ctx, k.c), KP_CONN_CLOSED);
    assert_int_equal(k.tr.send(k.tr.ctx, k.c, "x", 1), -1);
    k.tr.close(k.tr.ctx, k.c);
    /* an address that does not resolve fails locally */
    assert_null(k.tr.connect(k.tr.ctx, "no such host.invalid", 1, client_cb, &k));
    sn_live_destroy(l);
}

static void live_peer_reset_is_closed_transport(void **state) {
    (void)state;
    sn_live *l = sn_live_new((kp_observer){ 0 });
    echo_srv srv = { .tr = sn_live_transport(l), .abort_on_accept = true };
    sn_live_listener *ls = sn_live_listen(l, "127.0.0.1", 0, echo_accept, &srv);
    client k = { .tr = sn_live_transport(l) };
    k.c = k.tr.connect(k.tr.ctx, "127.0.0.1", sn_live_listener_port(ls), client_cb, &k);
    assert_true(sn_live_run(l, client_done, &k, sn_live_now() + SECONDS(10)));
    assert_int_equal(k.closed, 1);
    assert_int_equal(k.closed_err, KP_ERR__TRANSPORT);
    k.tr.close(k.tr.ctx, k.c);
    sn_live_destroy(l);
}

static void live_orderly_close_delivers_bytes_then_closed(void **state) {
    (void)state;
    tk_obs obs;
    memset(&obs, 0, sizeof obs);
    sn_live *l = sn_live_new(tk_obs_observer(&obs));
    echo_srv srv = { .tr = sn_live_transport(l), .close_on_accept = true };
    sn_live_listener *ls = sn_live_listen(l, "127.0.0.1", 0, echo_accept, &srv);
    probe p;
    probe_init(&p, NULL, sn_live_transport(l));
    p.auto_read = true;
    p.c = p.tr.connect(p.tr.ctx, "127.0.0.1", sn_live_listener_port(ls), probe_cb, &p);
    kp_time_us until = sn_live_now() + SECONDS(10);
    while (!p.closed && sn_live_now() < until)
        sn_live_run_once(l, until);
    assert_int_equal(p.closed, 1);
    assert_int_equal(p.closed_err, KP_ERR__CLOSED);
    assert_int_equal(p.got_len, 3);
    assert_memory_equal(p.got, "bye", 3);
    assert_int_equal(p.ev[0], KP_CONN_EV_CONNECTED);
    assert_int_equal(p.ev[p.n - 1], KP_CONN_EV_CLOSED);
    assert_true(obs.count[SN_EV_ACCEPT - 300] == 1 && obs.count[SN_EV_PEER_CLOSED - 300] == 1);
    p.tr.close(p.tr.ctx, p.c);
    probe_free(&p);
    sn_live_destroy(l);
}

/* The pending op on sockets: true until a recv finds nothing, false after
 * that, true again once ppoll reports the echo readable; a CLOSED
 * connection is always pending (recv answers -1). */
static void live_pending_follows_reads_and_readiness(void **state) {
    (void)state;
    sn_live *l = sn_live_new((kp_observer){ 0 });
    echo_srv srv = { .tr = sn_live_transport(l) };
    sn_live_listener *ls = sn_live_listen(l, "127.0.0.1", 0, echo_accept, &srv);
    probe p;
    probe_init(&p, NULL, sn_live_transport(l));
    p.c = p.tr.connect(p.tr.ctx, "127.0.0.1", sn_live_listener_port(ls), probe_cb, &p);
    assert_true(p.tr.pending(p.tr.ctx, p.c)); /* CONNECTING */
    kp_time_us until = sn_live_now() + SECONDS(10);
    while (!p.connected && sn_live_now() < until)
        sn_live_run_once(l, until);
    assert_int_equal(p.connected, 1);
    assert_true(p.tr.pending(p.tr.ctx, p.c)); /* nothing known yet */
    char b[16];
    assert_int_equal(p.tr.recv(p.tr.ctx, p.c, b, sizeof b), 0);
    assert_false(p.tr.pending(p.tr.ctx, p.c));
    assert_int_equal(p.tr.send(p.tr.ctx, p.c, "ping", 4), 4);
    while (!probe_count(&p, KP_CONN_EV_READABLE) && sn_live_now() < until)
        sn_live_run_once(l, until);
    assert_int_equal(probe_count(&p, KP_CONN_EV_READABLE), 1);
    assert_true(p.tr.pending(p.tr.ctx, p.c));
    assert_int_equal(p.tr.recv(p.tr.ctx, p.c, b, sizeof b), 4);
    assert_memory_equal(b, "ping", 4);
    assert_true(p.tr.pending(p.tr.ctx, p.c)); /* not yet known empty */
    assert_int_equal(p.tr.recv(p.tr.ctx, p.c, b, sizeof b), 0);
    assert_false(p.tr.pending(p.tr.ctx, p.c));
    /* the server hangs up: ppoll reports it, the state turns CLOSED */
    srv.tr.close(srv.tr.ctx, srv.conns[0].c);
    srv.conns[0].closed = true;
    while (p.tr.state(p.tr.ctx, p.c) == KP_CONN_CONNECTED && sn_live_now() < until) {
        sn_live_run_once(l, until);
        if (p.tr.pending(p.tr.ctx, p.c))
            p.tr.recv(p.tr.ctx, p.c, b, sizeof b); /* reads the EOF */
    }
    assert_int_equal(p.tr.state(p.tr.ctx, p.c), KP_CONN_CLOSED);
    assert_true(p.tr.pending(p.tr.ctx, p.c));
    assert_int_equal(p.tr.recv(p.tr.ctx, p.c, b, sizeof b), -1);
    p.tr.close(p.tr.ctx, p.c);
    free(srv.conns[0].pend);
    probe_free(&p);
    sn_live_destroy(l);
}

typedef struct ltimer {
    sn_timer t;
    int order[4];
    int n;
    int id;
    struct ltimer *log;
} ltimer;

static void ltimer_fire(void *ctx, sn_world *w) {
    ltimer *t = ctx;
    (void)w;
    t->log->order[t->log->n++] = t->id;
}

static bool three_fired(void *ctx) { return ((ltimer *)ctx)->n >= 3; }

static void live_timers_fire_in_time_order_on_the_real_clock(void **state) {
    (void)state;
    sn_live *l = sn_live_new((kp_observer){ 0 });
    sn_world *w = sn_live_world(l);
    kp_clock clk = sn_live_clock(l);
    ltimer log = { .n = 0 }, a, b, c;
    ltimer *ts[3] = { &a, &b, &c };
    for (int i = 0; i < 3; i++) {
        memset(ts[i], 0, sizeof *ts[i]);
        ts[i]->id = i;
        ts[i]->log = &log;
        sn_timer_init(&ts[i]->t, ltimer_fire, ts[i]);
    }
    kp_time_us t0 = kp_clock_now_us(&clk);
    sn_timer_schedule(w, &a.t, t0 + 30000);
    sn_timer_schedule(w, &b.t, t0 + 10000);
    sn_timer_schedule(w, &c.t, t0 + 10000);
    assert_true(sn_live_run(l, three_fired, &log, t0 + SECONDS(10)));
    kp_time_us t1 = kp_clock_now_us(&clk);
    assert_true(t1 - t0 >= 30000);
    assert_true(t1 - t0 < SECONDS(5));
    assert_int_equal(log.order[0], 1);
    assert_int_equal(log.order[1], 2);
    assert_int_equal(log.order[2], 0);
    assert_true(sn_now(w) >= t0 + 30000);
    kp_clock wc = sn_clock(w); /* the live world's clock seam is the real one */
    assert_true(kp_clock_now_us(&wc) >= t1);
    sn_live_destroy(l);
    sn_live_destroy(NULL);
}

static void live_wakeup_cuts_the_wait_short(void **state) {
    (void)state;
    sn_live *l = sn_live_new((kp_observer){ 0 });
    sn_live_wakeup(l);
    kp_time_us t0 = sn_live_now();
    sn_live_run_once(l, t0 + SECONDS(5));
    assert_true(sn_live_now() - t0 < SECONDS(1));
    /* a stop asked for before the run ends it at once, without waiting */
    sn_live_stop(l);
    t0 = sn_live_now();
    assert_false(sn_live_run(l, NULL, NULL, t0 + SECONDS(5)));
    assert_true(sn_live_now() - t0 < SECONDS(1));
    sn_live_destroy(l);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(live_echo_10mb_in_odd_writes),
        cmocka_unit_test(live_refused_connect_is_closed_transport),
        cmocka_unit_test(live_peer_reset_is_closed_transport),
        cmocka_unit_test(live_orderly_close_delivers_bytes_then_closed),
        cmocka_unit_test(live_pending_follows_reads_and_readiness),
        cmocka_unit_test(live_timers_fire_in_time_order_on_the_real_clock),
        cmocka_unit_test(live_wakeup_cuts_the_wait_short),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
