/*
 * test_network_client.c — NetworkClient behaviours as Kafka's
 * NetworkClientTest and ClusterConnectionStatesTest check them, over the
 * fake broker (byte-level) with a fake clock and a static node list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "fake_broker.h"
#include "kp_events.h"
#include "kp_network_client.h"
#include "kp_proto.h"
#include "kp_record_batch.h"

typedef struct fix {
    fb_world *w;
    kp_env env;
    kp_netclient *nc;
    kp_node nodes[4];
    int nnodes;
    int update_requests;
    bool update_due;
    /* completions */
    int ndone;
    kp_client_response last;
    int32_t done_corr[32];
    bool done_disc[32];
    /* the first DISCONNECTED event that named a protocol violation */
    int nbad;
    kp_err bad_err;
    int64_t bad_bytes;
    char bad_detail[96];
} fix;

static void on_event(void *ctx, const kp_event *ev) {
    fix *f = ctx;
    if (ev->kind != KP_EV_DISCONNECTED || ev->err != KP_ERR__BAD_MSG)
        return;
    if (f->nbad++ == 0) {
        f->bad_err = ev->err;
        f->bad_bytes = ev->bytes;
        strncpy(f->bad_detail, ev->detail ? ev->detail : "", sizeof f->bad_detail - 1);
    }
}

static int st_fetch(void *ctx, kp_node *out, int cap) {
    fix *f = ctx;
    int n = f->nnodes < cap ? f->nnodes : cap;
    memcpy(out, f->nodes, (size_t)n * sizeof *out);
    return n;
}
static bool st_due(void *ctx, int64_t now) { (void)now; return ((fix *)ctx)->update_due; }
static int64_t st_maybe(void *ctx, int64_t now) { (void)ctx; (void)now; return INT64_MAX; }
static void st_req(void *ctx) { ((fix *)ctx)->update_requests++; }
static const kp_metadata_updater_ops st_ops = { st_fetch, st_due, st_maybe, st_req };

static fix *mk(int max_in_flight, int64_t backoff, int64_t backoff_max) {
    fix *f = calloc(1, sizeof *f);
    f->w = fb_new();
    fb_add_node(f->w, 0);
    fb_add_node(f->w, 1);
    fb_set_now_ms(f->w, 1000);
    f->env = fb_env(f->w, NULL);
    f->env.observer = (kp_observer){ on_event, f };
    kp_netclient_opts o = { "producer-1", max_in_flight, backoff, backoff_max, 30000, true, 540000 };
    f->nc = kp_netclient_new(&o, &f->env);
    f->nodes[0] = (kp_node){ 0, "b0", 9000, NULL };
    f->nodes[1] = (kp_node){ 1, "b1", 9001, NULL };
    f->nnodes = 2;
    kp_netclient_set_updater(f->nc, &st_ops, f);
    return f;
}

/* A new netclient (mk's defaults: 5 in flight, backoff 50..1000 ms) over
 * f->env as it is now, for a test that changed the transport after mk. */
static void nc_rebuild(fix *f) {
    kp_netclient_destroy(f->nc);
    kp_netclient_opts o = { "producer-1", 5, 50, 1000, 30000, true, 540000 };
    f->nc = kp_netclient_new(&o, &f->env);
    kp_netclient_set_updater(f->nc, &st_ops, f);
}

static void rm(fix *f) {
    char why[128] = "";
    if (!kp_netclient_verify(f->nc, why, sizeof why))
        fail_msg("kp_netclient_verify: %s", why);
    kp_netclient_destroy(f->nc);
    fb_free(f->w);
    free(f);
}

static int64_t now(fix *f) { return fb_now_ms(f->w); }

static void on_done(void *ctx, const kp_client_response *r) {
    fix *f = ctx;
    f->last = *r;
    if (f->ndone < 32) {
        f->done_corr[f->ndone] = r->correlation_id;
        f->done_disc[f->ndone] = r->disconnected;
    }
    f->ndone++;
}

/* Metadata request body for no topics (the fake answers it). */
static bool enc_md(void *ctx, kp_writer *w, int16_t v) {
    (void)ctx;
    kp_wr_array_len(w, 0);
    if (v >= 4)
        kp_wr_bool(w, true);
    return true;
}

static int32_t send_md(fix *f, int node) {
    return kp_netclient_send(f->nc, node, KP_API_METADATA, 1, 7, enc_md, NULL, true, 30000, on_done, f, now(f));
}

/* Connects node and completes ApiVersions. */
static void connect_ready(fix *f, int node) {
    assert_false(kp_netclient_ready(f->nc, &f->nodes[node], now(f)));
    kp_netclient_poll(f->nc, 0, now(f)); /* connected -> ApiVersions sent */
    kp_netclient_poll(f->nc, 0, now(f)); /* response */
    assert_int_equal(kp_netclient_status(f->nc, node), KP_NODE_READY);
    assert_true(kp_netclient_ready(f->nc, &f->nodes[node], now(f)));
}

/* ---------------------------------------------------------------- */

static void t_ready_connects_then_checks_api_versions(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    assert_false(kp_netclient_ready(f->nc, &f->nodes[0], now(f)));
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_CONNECTING);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_CHECKING_API_VERSIONS);
    assert_int_equal(fb_count_api(f->w, KP_API_API_VERSIONS), 1);
    assert_int_equal(fb_req_at(f->w, 0)->api_version, 2);
    assert_false(kp_netclient_can_send(f->nc, 0, now(f)));
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_READY);
    assert_true(kp_netclient_is_ready(f->nc, 0, now(f)));
    rm(f);
}

static void t_api_versions_falls_back_to_v0_when_refused(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    fb_set_api_max(f->w, 0, KP_API_API_VERSIONS, 1); /* refuses our v2 */
    kp_netclient_ready(f->nc, &f->nodes[0], now(f));
    for (int i = 0; i < 4; i++)
        kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_READY);
    assert_int_equal(fb_count_api(f->w, KP_API_API_VERSIONS), 2);
    assert_int_equal(fb_req_at(f->w, 0)->api_version, 2);
    assert_int_equal(fb_req_at(f->w, 1)->api_version, 0);
    assert_int_equal(kp_netclient_api_version(f->nc, 0, KP_API_PRODUCE), 7);
    rm(f);
}

static void t_version_is_min_of_client_and_broker(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    fb_set_api_max(f->w, 0, KP_API_PRODUCE, 5);
    fb_set_api_max(f->w, 0, KP_API_METADATA, 4);
    connect_ready(f, 0);
    assert_int_equal(kp_netclient_api_version(f->nc, 0, KP_API_PRODUCE), 5);
    assert_int_equal(kp_netclient_api_version(f->nc, 0, KP_API_METADATA), 4);
    assert_int_equal(kp_netclient_api_version(f->nc, 0, KP_API_INIT_PRODUCER_ID), 1);
    send_md(f, 0);
    assert_int_equal(fb_req_at(f->w, fb_nreqs(f->w) - 1)->api_version, 4);
    rm(f);
}

static void t_request_response_round_trip(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    int32_t c1 = send_md(f, 0);
    assert_true(c1 >= 0);
    assert_int_equal(kp_netclient_in_flight_count(f->nc), 1);
    kp_netclient_poll(f->nc, 100, now(f));
    assert_int_equal(f->ndone, 1);
    assert_int_equal(f->last.correlation_id, c1);
    assert_false(f->last.disconnected);
    assert_non_null(f->last.body);
    assert_true(f->last.body_len > 4);
    assert_int_equal(kp_netclient_in_flight_count(f->nc), 0);
    rm(f);
}

/* A request is framed straight into the output buffer's free room (4 KB
 * at first, from ApiVersions): one encode when it fits, a second one
 * (after growing) when it did not; the frames are whole either way. */
typedef struct md_topics {
    int n;     /* topics to ask for */
    int calls; /* encoder calls */
} md_topics;

static bool enc_md_topics(void *ctx, kp_writer *w, int16_t v) {
    md_topics *t = ctx;
    t->calls++;
    kp_wr_array_len(w, t->n);
    for (int i = 0; i < t->n; i++) {
        char name[32];
        snprintf(name, sizeof name, "topic-%02d", i);
        kp_wr_cstring(w, name);
    }
    if (v >= 4)
        kp_wr_bool(w, false);
    return true;
}

/* With a transport that answers the pending op, poll leaves an idle
 * connection alone (no recv) and still reads a response the moment it
 * is there. */
static void t_poll_skips_idle_connections(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    int before = fb_recv_calls(f->w);
    for (int i = 0; i < 10; i++)
        kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(fb_recv_calls(f->w), before); /* nothing pending */
    fb_hold(f->w, 0, true);
    int32_t c1 = send_md(f, 0);
    kp_netclient_poll(f->nc, 0, now(f)); /* written; the answer is held */
    before = fb_recv_calls(f->w);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(fb_recv_calls(f->w), before);
    assert_int_equal(f->ndone, 0);
    assert_int_equal(fb_release(f->w, 0, 1), 1);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_true(fb_recv_calls(f->w) > before);
    assert_int_equal(f->ndone, 1);
    assert_int_equal(f->last.correlation_id, c1);
    rm(f);
}

/* A transport with the generation op (a counter this test moves by hand)
 * in front of the fake broker's: counts the pending questions. */
typedef struct gen_tr {
    kp_transport inner;
    uint64_t gen;
    int pending_calls;
} gen_tr;
static gen_tr g_tr;
static bool gen_pending(void *ctx, kp_conn *c) {
    gen_tr *g = ctx;
    g->pending_calls++;
    return g->inner.pending(g->inner.ctx, c);
}
static uint64_t gen_generation(void *ctx) { return ((gen_tr *)ctx)->gen; }
#define GEN_FWD(ret, name, params, args) \
    static ret gen_##name params { gen_tr *g = ctx; return g->inner.name args; }
GEN_FWD(kp_conn *, connect, (void *ctx, const char *h, int p, kp_conn_cb *cb, void *cc), (g->inner.ctx, h, p, cb, cc))
GEN_FWD(ssize_t, send, (void *ctx, kp_conn *c, const void *b, size_t n), (g->inner.ctx, c, b, n))
GEN_FWD(ssize_t, sendv, (void *ctx, kp_conn *c, const kp_iov *v, int n), (g->inner.ctx, c, v, n))
GEN_FWD(ssize_t, recv, (void *ctx, kp_conn *c, void *b, size_t n), (g->inner.ctx, c, b, n))
GEN_FWD(kp_conn_state, state, (void *ctx, kp_conn *c), (g->inner.ctx, c))
static void gen_close(void *ctx, kp_conn *c) {
    gen_tr *g = ctx;
    g->inner.close(g->inner.ctx, c);
}

/* While the transport's generation reads the same, poll takes its quiet
 * connections as still quiet without asking the pending op; once it
 * moves, they are asked again and a waiting response is read. */
static void t_poll_trusts_an_unchanged_generation(void **s) {
    (void)s;
    fix *f = calloc(1, sizeof *f);
    f->w = fb_new();
    fb_add_node(f->w, 0);
    fb_add_node(f->w, 1);
    fb_set_now_ms(f->w, 1000);
    f->env = fb_env(f->w, NULL);
    f->env.observer = (kp_observer){ on_event, f };
    g_tr = (gen_tr){ .inner = f->env.transport };
    f->env.transport = (kp_transport){ gen_connect, gen_send, gen_sendv, gen_recv, gen_close, gen_state,
                                       gen_pending, gen_generation, &g_tr, NULL, NULL };
    kp_netclient_opts o = { "producer-1", 5, 50, 1000, 30000, true, 540000 };
    f->nc = kp_netclient_new(&o, &f->env);
    f->nodes[0] = (kp_node){ 0, "b0", 9000, NULL };
    f->nodes[1] = (kp_node){ 1, "b1", 9001, NULL };
    f->nnodes = 2;
    kp_netclient_set_updater(f->nc, &st_ops, f);
    connect_ready(f, 0);
    connect_ready(f, 1);
    for (int i = 0; i < 3; i++) /* both quiet now */
        kp_netclient_poll(f->nc, 0, now(f));
    int asked = g_tr.pending_calls;
    for (int i = 0; i < 5; i++)
        kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(g_tr.pending_calls, asked); /* same generation: no question */
    g_tr.gen++;
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(g_tr.pending_calls, asked + 2); /* moved: both asked once */
    fb_hold(f->w, 0, true);
    int32_t c1 = send_md(f, 0);
    kp_netclient_poll(f->nc, 0, now(f)); /* written; the answer is held */
    kp_netclient_poll(f->nc, 0, now(f)); /* quiet again, waiting */
    asked = g_tr.pending_calls;
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(g_tr.pending_calls, asked);
    assert_int_equal(fb_release(f->w, 0, 1), 1);
    g_tr.gen++; /* the answer is there: the transport's counter moves */
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(f->ndone, 1);
    assert_int_equal(f->last.correlation_id, c1);
    char why[128] = "";
    assert_true(kp_netclient_verify(f->nc, why, sizeof why));
    rm(f);
}

static void t_frame_written_in_place_or_after_growing(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    md_topics small = { 1, 0 }, big = { 1000, 0 }; /* ~11 KB: past the 4 KB first buffer */
    int32_t a = kp_netclient_send(f->nc, 0, KP_API_METADATA, 1, 7, enc_md_topics, &small, true, 30000, on_done, f,
                                  now(f));
    int32_t b = kp_netclient_send(f->nc, 0, KP_API_METADATA, 1, 7, enc_md_topics, &big, true, 30000, on_done, f,
                                  now(f));
    int32_t c = kp_netclient_send(f->nc, 0, KP_API_METADATA, 1, 7, enc_md_topics, &small, true, 30000, on_done, f,
                                  now(f));
    assert_true(a >= 0 && b > a && c > b);
    assert_int_equal(big.calls, 2);   /* did not fit the room the small frames left */
    assert_int_equal(small.calls, 2); /* once each: the room fits them */
    kp_netclient_poll(f->nc, 100, now(f));
    assert_int_equal(f->ndone, 3);
    assert_int_equal(f->last.correlation_id, c);
    assert_false(f->last.disconnected);
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_READY);
    rm(f);
}

/* Gather writes: a Produce body whose batch goes in with kp_wr_bytes_ref
 * is sent from where the batch lies (one sendv); a write the transport
 * takes only in part is joined into the connection's buffer before
 * kp_netclient_send returns, so the batch memory may change right after
 * (an expiry frees it, a rewrite changes it) and the broker still gets the
 * bytes of the moment of the send. Without sendv the frame is copied. */
typedef struct gather_body {
    uint8_t batch[8192];
    kp_slice bytes;
} gather_body;

static bool enc_produce_ref(void *ctx, kp_writer *w, int16_t v) {
    (void)v;
    gather_body *b = ctx;
    kp_wr_cstring(w, NULL); /* transactional id */
    kp_wr_i16(w, 1);        /* acks */
    kp_wr_i32(w, 30000);
    kp_wr_array_len(w, 1);
    kp_wr_cstring(w, "t");
    kp_wr_array_len(w, 1);
    kp_wr_i32(w, 0);
    kp_wr_bytes_ref(w, b->bytes);
    return true;
}

static void gather_batch(gather_body *b) {
    kp_batch_builder bb;
    kp_batch_builder_init(&bb, b->batch, sizeof b->batch, KP_CODEC_NONE, false);
    for (int i = 0; i < 40; i++) {
        char v[112]; /* 100 bytes and NUL; room for what -Wformat-truncation assumes of %02d */
        snprintf(v, sizeof v, "value-%02d-%091d", i, 0);
        assert_int_equal(kp_batch_builder_append(&bb, 1000 + i, KP_SLICE_NULL, kp_slice_str(v), NULL, 0),
                         KP_ERR_NONE);
    }
    assert_int_equal(kp_batch_builder_close(&bb, NULL, 0, &b->bytes), KP_ERR_NONE);
    assert_true(b->bytes.len > 4000);
}

static void gather_check_log(fix *f) {
    assert_int_equal(fb_log_len(f->w, "t", 0), 40);
    for (int i = 0; i < 40; i++) {
        char v[112]; /* 100 bytes and NUL; room for what -Wformat-truncation assumes of %02d */
        snprintf(v, sizeof v, "value-%02d-%091d", i, 0);
        assert_string_equal(fb_log_value(f->w, "t", 0, i), v);
    }
}

static void t_gather_write_sends_batches_in_place(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    fb_add_topic(f->w, "t", 1);
    connect_ready(f, 0);
    gather_body *b = calloc(1, sizeof *b);
    gather_batch(b);
    int before = fb_sendv_calls(f->w);
    int32_t c = kp_netclient_send(f->nc, 0, KP_API_PRODUCE, 3, 7, enc_produce_ref, b, true, 30000, on_done, f,
                                  now(f));
    assert_true(c >= 0);
    assert_int_equal(fb_sendv_calls(f->w), before + 1);
    kp_netclient_poll(f->nc, 100, now(f));
    assert_int_equal(f->ndone, 1);
    assert_false(f->last.disconnected);
    gather_check_log(f);
    free(b);
    rm(f);
}

/* A transport that lends (kp_transport.sendv_keep, reclaim) in front of
 * the fake broker's: records what it was lent. */
typedef struct lend_tr {
    kp_transport inner;
    int keep_calls, plain_calls, reclaims;
    uint32_t last_keep;
    const void *lent;
} lend_tr;
static lend_tr l_tr;
#define LEND_FWD(ret, name, params, args) \
    static ret lend_##name params { lend_tr *l = ctx; return l->inner.name args; }
LEND_FWD(kp_conn *, connect, (void *ctx, const char *h, int p, kp_conn_cb *cb, void *cc), (l->inner.ctx, h, p, cb, cc))
LEND_FWD(ssize_t, send, (void *ctx, kp_conn *c, const void *b, size_t n), (l->inner.ctx, c, b, n))
LEND_FWD(ssize_t, recv, (void *ctx, kp_conn *c, void *b, size_t n), (l->inner.ctx, c, b, n))
LEND_FWD(kp_conn_state, state, (void *ctx, kp_conn *c), (l->inner.ctx, c))
LEND_FWD(bool, pending, (void *ctx, kp_conn *c), (l->inner.ctx, c))
static void lend_close(void *ctx, kp_conn *c) {
    lend_tr *l = ctx;
    l->inner.close(l->inner.ctx, c);
}
static ssize_t lend_sendv(void *ctx, kp_conn *c, const kp_iov *v, int n) {
    lend_tr *l = ctx;
    l->plain_calls++;
    return l->inner.sendv(l->inner.ctx, c, v, n);
}
static ssize_t lend_sendv_keep(void *ctx, kp_conn *c, const kp_iov *v, int n, uint32_t keep) {
    lend_tr *l = ctx;
    l->keep_calls++;
    l->last_keep = keep;
    for (int i = 0; i < n && i < 32; i++)
        if (keep >> i & 1)
            l->lent = v[i].ptr;
    return l->inner.sendv(l->inner.ctx, c, v, n); /* the fake copies */
}
static void lend_reclaim(void *ctx, kp_conn *c) {
    (void)c;
    ((lend_tr *)ctx)->reclaims++;
}

/* A request that expects a response lends its gathered batches to a
 * transport that can keep them (exactly the batch pieces); an acks=0
 * request, complete once written, does not; kp_netclient_reclaim asks the
 * transport to take back each connection's lent bytes. */
static void t_requests_with_responses_lend_their_batches(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    l_tr = (lend_tr){ .inner = f->env.transport };
    f->env.transport = (kp_transport){ .connect = lend_connect, .send = lend_send, .sendv = lend_sendv,
                                       .recv = lend_recv, .close = lend_close, .state = lend_state,
                                       .pending = lend_pending, .sendv_keep = lend_sendv_keep,
                                       .reclaim = lend_reclaim, .ctx = &l_tr };
    nc_rebuild(f);
    fb_add_topic(f->w, "t", 1);
    connect_ready(f, 0);
    gather_body *b = calloc(1, sizeof *b);
    gather_batch(b);
    assert_int_equal(l_tr.keep_calls, 0);
    assert_true(kp_netclient_send(f->nc, 0, KP_API_PRODUCE, 3, 7, enc_produce_ref, b, true, 30000, on_done, f,
                                  now(f)) >= 0);
    assert_int_equal(l_tr.keep_calls, 1);
    assert_ptr_equal(l_tr.lent, b->batch);
    assert_int_equal(__builtin_popcount(l_tr.last_keep), 1); /* the batch, nothing else */
    kp_netclient_poll(f->nc, 100, now(f));
    assert_int_equal(f->ndone, 1);
    int plain = l_tr.plain_calls;
    assert_true(kp_netclient_send(f->nc, 0, KP_API_PRODUCE, 3, 7, enc_produce_ref, b, false, 30000, on_done, f,
                                  now(f)) >= 0);
    assert_int_equal(l_tr.keep_calls, 1); /* acks=0: copied */
    assert_int_equal(l_tr.plain_calls, plain + 1);
    kp_netclient_reclaim(f->nc);
    assert_int_equal(l_tr.reclaims, 1); /* one connection with a handle */
    kp_netclient_poll(f->nc, 100, now(f));
    free(b);
    rm(f);
}

static void t_gather_write_cut_short_is_joined_before_return(void **s) {
    (void)s;
    for (int plain = 0; plain < 2; plain++) {
        fix *f = mk(5, 50, 1000);
        if (plain) { /* a transport without sendv: the frame is copied */
            f->env.transport.sendv = NULL;
            nc_rebuild(f);
        }
        fb_add_topic(f->w, "t", 1);
        connect_ready(f, 0);
        gather_body *b = calloc(1, sizeof *b);
        gather_batch(b);
        fb_set_send_window(f->w, 100); /* the header and a little of the batch */
        int before = fb_sendv_calls(f->w);
        int32_t c = kp_netclient_send(f->nc, 0, KP_API_PRODUCE, 3, 7, enc_produce_ref, b, true, 30000, on_done,
                                      f, now(f));
        assert_true(c >= 0);
        assert_int_equal(fb_sendv_calls(f->w), before + (plain ? 0 : 1));
        memset(b->batch, 0xee, sizeof b->batch); /* the batch is gone */
        fb_set_send_window(f->w, SIZE_MAX);
        for (int i = 0; i < 10 && f->ndone == 0; i++) {
            fb_writable(f->w, 0);
            kp_netclient_poll(f->nc, 0, now(f));
        }
        assert_int_equal(f->ndone, 1);
        assert_int_equal(f->last.correlation_id, c);
        assert_false(f->last.disconnected);
        gather_check_log(f);
        free(b);
        rm(f);
    }
}

static void t_correlation_ids_increase(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    int32_t a = send_md(f, 0), b = send_md(f, 0), c = send_md(f, 0);
    assert_true(a < b && b < c);
    int32_t ids[8];
    assert_int_equal(kp_netclient_in_flight_ids(f->nc, 0, ids, 8), 3);
    assert_int_equal(ids[0], a);
    assert_int_equal(ids[2], c);
    rm(f);
}

static void t_partial_reads_reassemble_frames(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    fb_set_recv_chunk(f->w, 3);
    connect_ready(f, 0);
    send_md(f, 0);
    send_md(f, 0);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(f->ndone, 2);
    assert_false(f->done_disc[0]);
    assert_true(f->done_corr[0] < f->done_corr[1]);
    rm(f);
}

static void t_partial_writes_hold_the_next_request(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    fb_set_send_window(f->w, 10);
    int32_t c = send_md(f, 0);
    assert_true(c >= 0);
    /* the frame is not out: no second request may start (one send in
     * progress per connection) */
    assert_false(kp_netclient_can_send(f->nc, 0, now(f)));
    assert_int_equal(send_md(f, 0), -1);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(f->ndone, 0);
    for (int i = 0; i < 10 && f->ndone == 0; i++) {
        fb_writable(f->w, 0);
        kp_netclient_poll(f->nc, 0, now(f));
    }
    assert_int_equal(f->ndone, 1);
    assert_int_equal(f->last.correlation_id, c);
    assert_false(f->last.disconnected);
    fb_set_send_window(f->w, SIZE_MAX);
    assert_true(kp_netclient_can_send(f->nc, 0, now(f)));
    rm(f);
}

/* Idle polls mark a connection quiet and skip the closing walk; a send
 * between two polls must undo both: the rest of a partly written frame
 * goes out although the transport has nothing to read, and the new
 * request's deadline shortens the sleep. */
static void t_send_after_idle_polls_is_flushed_and_timed(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    char why[128] = "";
    for (int i = 0; i < 3; i++) {
        assert_int_equal(kp_netclient_poll(f->nc, 100000, now(f)), 30000);
        assert_true(kp_netclient_verify(f->nc, why, sizeof why));
    }
    fb_set_send_window(f->w, 10);
    int32_t c = kp_netclient_send(f->nc, 0, KP_API_METADATA, 1, 7, enc_md, NULL, true, 200, on_done, f, now(f));
    assert_true(c >= 0);
    assert_false(kp_netclient_can_send(f->nc, 0, now(f))); /* frame not out yet */
    fb_set_send_window(f->w, SIZE_MAX);
    fb_writable(f->w, 0);
    kp_netclient_poll(f->nc, 100000, now(f)); /* the rest goes out */
    assert_true(kp_netclient_can_send(f->nc, 0, now(f)));
    kp_netclient_poll(f->nc, 100000, now(f));
    assert_int_equal(f->ndone, 1);
    assert_int_equal(f->last.correlation_id, c);
    for (int i = 0; i < 3; i++)
        assert_int_equal(kp_netclient_poll(f->nc, 100000, now(f)), 30000);
    fb_hold(f->w, 0, true);
    assert_true(kp_netclient_send(f->nc, 0, KP_API_METADATA, 1, 7, enc_md, NULL, true, 200, on_done, f,
                                  now(f)) >= 0);
    assert_int_equal(kp_netclient_poll(f->nc, 100000, now(f)), 201);
    assert_true(kp_netclient_verify(f->nc, why, sizeof why));
    rm(f);
}

static void t_max_in_flight_limits_sends(void **s) {
    (void)s;
    fix *f = mk(2, 50, 1000);
    connect_ready(f, 0);
    fb_hold(f->w, 0, true);
    assert_true(send_md(f, 0) >= 0);
    assert_true(kp_netclient_can_send(f->nc, 0, now(f)));
    assert_true(send_md(f, 0) >= 0);
    assert_false(kp_netclient_can_send(f->nc, 0, now(f)));
    assert_int_equal(send_md(f, 0), -1);
    fb_release(f->w, 0, 1);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(f->ndone, 1);
    assert_true(kp_netclient_can_send(f->nc, 0, now(f)));
    rm(f);
}

static void t_request_timeout_closes_connection(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    fb_blackhole(f->w, 0, true);
    send_md(f, 0);
    fb_advance_ms(f->w, 30000);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(f->ndone, 0); /* exactly request.timeout.ms is not yet expired */
    fb_advance_ms(f->w, 1);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(f->ndone, 1);
    assert_true(f->last.disconnected);
    assert_true(f->last.timed_out);
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_DISCONNECTED);
    assert_true(f->update_requests >= 1);
    assert_false(fb_connected(f->w, 0));
    rm(f);
}

/* poll skips its timeout walk until the earliest deadline it knows; a
 * request sent later with a shorter timeout must still expire on time. */
static void t_shorter_timeout_sent_later_still_expires(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    connect_ready(f, 1);
    fb_blackhole(f->w, 0, true);
    fb_blackhole(f->w, 1, true);
    send_md(f, 0); /* 30 s */
    kp_netclient_poll(f->nc, 0, now(f));
    fb_advance_ms(f->w, 10);
    assert_true(kp_netclient_send(f->nc, 1, KP_API_METADATA, 1, 7, enc_md, NULL, true, 100, on_done, f,
                                  now(f)) >= 0);
    char why[128] = "";
    assert_true(kp_netclient_verify(f->nc, why, sizeof why));
    assert_int_equal(kp_netclient_poll(f->nc, INT64_MAX, now(f)), 101);
    fb_advance_ms(f->w, 100);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(f->ndone, 0); /* exactly 100 ms is not yet expired */
    fb_advance_ms(f->w, 1);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(f->ndone, 1);
    assert_true(f->last.timed_out);
    assert_int_equal(kp_netclient_status(f->nc, 1), KP_NODE_DISCONNECTED);
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_READY);
    assert_int_equal(kp_netclient_in_flight_count(f->nc), 1);
    rm(f);
}

/* The closing walk's per-connection deadline is cached: a response that
 * empties the ring must move it from the request's timeout to the idle
 * expiry (capped by request.timeout.ms in the returned sleep). */
static void t_poll_deadline_follows_the_ring(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    fb_hold(f->w, 0, true);
    int32_t c1 = kp_netclient_send(f->nc, 0, KP_API_METADATA, 1, 7, enc_md, NULL, true, 500, on_done, f, now(f));
    assert_true(c1 >= 0);
    assert_int_equal(kp_netclient_poll(f->nc, 100000, now(f)), 501);
    fb_advance_ms(f->w, 100);
    assert_int_equal(kp_netclient_poll(f->nc, 100000, now(f)), 401);
    assert_int_equal(fb_release(f->w, 0, 1), 1);
    assert_int_equal(kp_netclient_poll(f->nc, 100000, now(f)), 30000);
    assert_int_equal(f->ndone, 1);
    /* a second request brings the shorter deadline back */
    assert_true(kp_netclient_send(f->nc, 0, KP_API_METADATA, 1, 7, enc_md, NULL, true, 200, on_done, f,
                                  now(f)) >= 0);
    assert_int_equal(kp_netclient_poll(f->nc, 100000, now(f)), 201);
    rm(f);
}

static void t_poll_returns_request_deadline(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    fb_blackhole(f->w, 0, true);
    send_md(f, 0);
    fb_advance_ms(f->w, 10000);
    int64_t sleep = kp_netclient_poll(f->nc, INT64_MAX, now(f));
    assert_int_equal(sleep, 20001);
    rm(f);
}

static void t_disconnect_fails_in_flight_and_requests_metadata(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    fb_hold(f->w, 0, true);
    send_md(f, 0);
    send_md(f, 0);
    fb_disconnect(f->w, 0);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(f->ndone, 2);
    assert_true(f->done_disc[0] && f->done_disc[1]);
    assert_false(f->last.timed_out);
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_DISCONNECTED);
    assert_int_equal(f->update_requests, 1);
    assert_int_equal(kp_netclient_in_flight_count(f->nc), 0);
    rm(f);
}

static void t_reconnect_waits_for_backoff(void **s) {
    (void)s;
    fix *f = mk(5, 50, 50); /* max == base: flat backoff, no jitter */
    connect_ready(f, 0);
    fb_disconnect(f->w, 0);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_true(kp_netclient_is_blacked_out(f->nc, 0, now(f)));
    assert_int_equal(kp_netclient_connection_delay(f->nc, 0, now(f)), 50);
    assert_false(kp_netclient_ready(f->nc, &f->nodes[0], now(f)));
    assert_int_equal(fb_connects(f->w, 0), 1);
    fb_advance_ms(f->w, 49);
    assert_false(kp_netclient_ready(f->nc, &f->nodes[0], now(f)));
    assert_int_equal(fb_connects(f->w, 0), 1);
    fb_advance_ms(f->w, 1);
    assert_false(kp_netclient_ready(f->nc, &f->nodes[0], now(f)));
    assert_int_equal(fb_connects(f->w, 0), 2);
    rm(f);
}

static void t_reconnect_backoff_grows_exponentially_with_jitter(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    fb_refuse(f->w, 0, true);
    for (int i = 1; i <= 8; i++) {
        while (!kp_netclient_maybe_connect(f->nc, &f->nodes[0], now(f)))
            fb_advance_ms(f->w, 1);
        kp_netclient_poll(f->nc, 0, now(f)); /* refused -> disconnected */
        assert_int_equal(kp_netclient_failed_attempts(f->nc, 0), i);
        double exp = pow(2.0, i - 1) * 50.0;
        if (exp > 1000.0)
            exp = 1000.0;
        int64_t b = kp_netclient_reconnect_backoff(f->nc, 0);
        assert_true((double)b >= 0.8 * exp - 1);
        assert_true((double)b <= 1.2 * exp + 1);
    }
    rm(f);
}

static void t_backoff_flat_when_max_not_above_base(void **s) {
    (void)s;
    fix *f = mk(5, 100, 100);
    fb_refuse(f->w, 0, true);
    for (int i = 0; i < 4; i++) {
        while (!kp_netclient_maybe_connect(f->nc, &f->nodes[0], now(f)))
            fb_advance_ms(f->w, 1);
        kp_netclient_poll(f->nc, 0, now(f));
        assert_int_equal(kp_netclient_reconnect_backoff(f->nc, 0), 100);
    }
    assert_int_equal(kp_netclient_failed_attempts(f->nc, 0), 0);
    rm(f);
}

static void t_ready_resets_backoff(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    fb_refuse(f->w, 0, true);
    for (int i = 0; i < 3; i++) {
        while (!kp_netclient_maybe_connect(f->nc, &f->nodes[0], now(f)))
            fb_advance_ms(f->w, 1);
        kp_netclient_poll(f->nc, 0, now(f));
    }
    assert_int_equal(kp_netclient_failed_attempts(f->nc, 0), 3);
    fb_refuse(f->w, 0, false);
    while (!kp_netclient_maybe_connect(f->nc, &f->nodes[0], now(f)))
        fb_advance_ms(f->w, 1);
    kp_netclient_poll(f->nc, 0, now(f));
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_READY);
    assert_int_equal(kp_netclient_failed_attempts(f->nc, 0), 0);
    assert_int_equal(kp_netclient_reconnect_backoff(f->nc, 0), 50);
    rm(f);
}

static void t_connecting_state_until_established(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    fb_hold_connect(f->w, 0, true);
    kp_netclient_ready(f->nc, &f->nodes[0], now(f));
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_CONNECTING);
    assert_true(kp_netclient_is_any_connecting(f->nc));
    assert_int_equal(kp_netclient_connection_delay(f->nc, 0, now(f)), INT64_MAX);
    fb_complete_connect(f->w, 0);
    assert_true(fb_wakeups(f->w) >= 1);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_CHECKING_API_VERSIONS);
    rm(f);
}

static void t_throttle_blocks_sends_until_it_passes(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    kp_netclient_throttle(f->nc, 0, 200, now(f));
    assert_false(kp_netclient_can_send(f->nc, 0, now(f)));
    assert_int_equal(kp_netclient_poll_delay(f->nc, 0, now(f)), 200);
    fb_advance_ms(f->w, 150);
    assert_int_equal(kp_netclient_throttle_delay(f->nc, 0, now(f)), 50);
    assert_false(kp_netclient_ready(f->nc, &f->nodes[0], now(f)));
    fb_advance_ms(f->w, 50);
    assert_true(kp_netclient_can_send(f->nc, 0, now(f)));
    assert_int_equal(fb_connects(f->w, 0), 1); /* throttled is not disconnected */
    rm(f);
}

static void t_no_response_request_completes_on_send(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    fb_blackhole(f->w, 0, true);
    int32_t c = kp_netclient_send(f->nc, 0, KP_API_METADATA, 1, 7, enc_md, NULL, false, 30000, on_done, f, now(f));
    assert_true(c >= 0);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(f->ndone, 1);
    assert_null(f->last.body);
    assert_false(f->last.disconnected);
    assert_int_equal(kp_netclient_in_flight_count(f->nc), 0);
    rm(f);
}

static void t_unsupported_api_completes_with_version_mismatch(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    fb_set_api_max(f->w, 0, KP_API_INIT_PRODUCER_ID, -1);
    connect_ready(f, 0);
    int n0 = fb_nreqs(f->w);
    int32_t c = kp_netclient_send(f->nc, 0, KP_API_INIT_PRODUCER_ID, 0, 1, NULL, NULL, true, 30000, on_done, f, now(f));
    assert_true(c >= 0);
    assert_int_equal(fb_nreqs(f->w), n0); /* never sent */
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(f->ndone, 1);
    assert_true(f->last.version_mismatch);
    rm(f);
}

static void t_correlation_mismatch_closes_connection(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    fb_hold(f->w, 0, true);
    send_md(f, 0);
    const uint8_t bogus[] = { 0, 0, 0, 4, 0x7f, 0, 0, 1 };
    fb_push_raw(f->w, 0, bogus, sizeof bogus);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(f->ndone, 1);
    assert_true(f->last.disconnected);
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_DISCONNECTED);
    assert_int_equal(f->nbad, 1);
    assert_int_equal(f->bad_bytes, 4); /* the refused frame's size */
    assert_string_equal(f->bad_detail, "correlation id does not match the oldest in-flight request");
    rm(f);
}

static void t_oversized_frame_closes_connection(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    fb_hold(f->w, 0, true);
    send_md(f, 0);
    const uint8_t bogus[] = { 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
    fb_push_raw(f->w, 0, bogus, sizeof bogus);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_true(f->last.disconnected);
    /* the close says why: the size read and the accepted range */
    assert_int_equal(f->nbad, 1);
    assert_int_equal(f->bad_bytes, 0x7fffffff);
    assert_string_equal(f->bad_detail, "response frame size outside 4..104857600");
    rm(f);
}

static void t_negative_frame_size_closes_connection_and_says_so(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    fb_hold(f->w, 0, true);
    send_md(f, 0);
    const uint8_t bogus[] = { 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0 };
    fb_push_raw(f->w, 0, bogus, sizeof bogus);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_true(f->last.disconnected);
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_DISCONNECTED);
    assert_int_equal(f->nbad, 1);
    assert_int_equal(f->bad_bytes, -2);
    rm(f);
}

static void t_connection_refused_is_a_disconnect(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    fb_refuse(f->w, 1, true);
    assert_false(kp_netclient_ready(f->nc, &f->nodes[1], now(f)));
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(kp_netclient_status(f->nc, 1), KP_NODE_DISCONNECTED);
    assert_int_equal(kp_netclient_failed_attempts(f->nc, 1), 1);
    assert_true(f->update_requests >= 1);
    rm(f);
}

static void t_least_loaded_prefers_idle_ready_node(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    fb_hold(f->w, 0, true);
    connect_ready(f, 1);
    send_md(f, 0);
    kp_node n;
    for (int i = 0; i < 10; i++) {
        assert_true(kp_netclient_least_loaded_node(f->nc, now(f), &n));
        assert_int_equal(n.id, 1);
    }
    rm(f);
}

static void t_least_loaded_skips_blacked_out(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    fb_refuse(f->w, 0, true);
    kp_netclient_ready(f->nc, &f->nodes[0], now(f));
    kp_netclient_poll(f->nc, 0, now(f)); /* node 0 blacked out */
    kp_node n;
    for (int i = 0; i < 10; i++) {
        assert_true(kp_netclient_least_loaded_node(f->nc, now(f), &n));
        assert_int_equal(n.id, 1);
    }
    f->nnodes = 1; /* only the blacked-out node known */
    assert_false(kp_netclient_least_loaded_node(f->nc, now(f), &n));
    rm(f);
}

static void t_least_loaded_fewest_in_flight(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    connect_ready(f, 1);
    fb_hold(f->w, 0, true);
    fb_hold(f->w, 1, true);
    send_md(f, 0);
    send_md(f, 1);
    send_md(f, 1);
    kp_node n;
    assert_true(kp_netclient_least_loaded_node(f->nc, now(f), &n));
    assert_int_equal(n.id, 0);
    rm(f);
}

static void t_not_ready_while_metadata_update_due(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    f->update_due = true;
    assert_false(kp_netclient_is_ready(f->nc, 0, now(f)));
    assert_true(kp_netclient_can_send(f->nc, 0, now(f)));
    f->update_due = false;
    assert_true(kp_netclient_is_ready(f->nc, 0, now(f)));
    rm(f);
}

static void t_responses_complete_in_request_order(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    fb_hold(f->w, 0, true);
    int32_t a = send_md(f, 0), b = send_md(f, 0), c = send_md(f, 0);
    fb_release(f->w, 0, 3);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(f->ndone, 3);
    assert_int_equal(f->done_corr[0], a);
    assert_int_equal(f->done_corr[1], b);
    assert_int_equal(f->done_corr[2], c);
    rm(f);
}

static void t_close_fails_everything(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    connect_ready(f, 0);
    fb_hold(f->w, 0, true);
    send_md(f, 0);
    kp_netclient_close(f->nc, now(f));
    assert_int_equal(f->ndone, 1);
    assert_true(f->last.disconnected);
    assert_false(kp_netclient_has_in_flight(f->nc));
    rm(f);
}

static void t_wakeup_calls_env(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    int w0 = fb_wakeups(f->w);
    kp_netclient_wakeup(f->nc);
    assert_int_equal(fb_wakeups(f->w), w0 + 1);
    rm(f);
}

/* ---- DefaultMetadataUpdater with the real Metadata ---------------- */

typedef struct ufix {
    fb_world *w;
    kp_env env;
    kp_netclient *nc;
    kp_metadata *md;
    kp_metadata_updater *u;
} ufix;

static ufix *umk(void) {
    ufix *f = calloc(1, sizeof *f);
    f->w = fb_new();
    fb_add_node(f->w, 0);
    fb_add_node(f->w, 1);
    fb_add_topic(f->w, "t", 4);
    fb_set_now_ms(f->w, 1000);
    f->env = fb_env(f->w, NULL);
    kp_netclient_opts o = { "producer-1", 5, 50, 1000, 30000, true, 0 };
    f->nc = kp_netclient_new(&o, &f->env);
    f->md = kp_metadata_new(100, 300000, true, NULL);
    assert_int_equal(kp_metadata_bootstrap(f->md, "b0:9000", 1000), KP_ERR_NONE);
    f->u = kp_metadata_updater_new(f->nc, f->md, 30000, 50, &f->env);
    return f;
}

static void urm(ufix *f) {
    kp_metadata_updater_destroy(f->u);
    kp_netclient_destroy(f->nc);
    kp_metadata_destroy(f->md);
    fb_free(f->w);
    free(f);
}

static void t_updater_connects_then_fetches_known_topics(void **s) {
    (void)s;
    ufix *f = umk();
    int64_t now = fb_now_ms(f->w);
    kp_metadata_add(f->md, "t", now);
    int32_t v0 = kp_metadata_version(f->md);
    kp_netclient_poll(f->nc, 0, now); /* maybeUpdate: connect to the bootstrap node */
    assert_int_equal(fb_count_api(f->w, KP_API_METADATA), 0);
    assert_int_equal(kp_netclient_status(f->nc, -1), KP_NODE_CHECKING_API_VERSIONS);
    kp_netclient_poll(f->nc, 0, now); /* ApiVersions answered: READY */
    assert_int_equal(fb_count_api(f->w, KP_API_METADATA), 0);
    kp_netclient_poll(f->nc, 0, now); /* Metadata sent (and answered by the fake) */
    assert_int_equal(fb_count_api(f->w, KP_API_METADATA), 1);
    kp_netclient_poll(f->nc, 0, now); /* response applied */
    assert_true(kp_metadata_version(f->md) > v0);
    const kp_cluster *cl = kp_metadata_fetch(f->md);
    assert_int_equal(kp_cluster_partition_count(cl, "t"), 4);
    assert_int_equal(kp_cluster_node_count(cl), 2);
    assert_int_equal(kp_cluster_leader_for(cl, "t", 1), 1);
    assert_false(kp_metadata_updater_fetch_in_progress(f->u));
    assert_int_equal(kp_metadata_updater_requests(f->u), 1);
    urm(f);
}

static void t_updater_waits_for_in_flight_fetch(void **s) {
    (void)s;
    ufix *f = umk();
    int64_t now = fb_now_ms(f->w);
    kp_metadata_add(f->md, "t", now);
    kp_netclient_poll(f->nc, 0, now);
    kp_netclient_poll(f->nc, 0, now);
    fb_hold(f->w, 0, true);
    kp_netclient_poll(f->nc, 0, now); /* Metadata sent, answer held */
    assert_true(kp_metadata_updater_fetch_in_progress(f->u));
    kp_metadata_request_update(f->md, now);
    fb_advance_ms(f->w, 500);
    int64_t sleep = kp_netclient_poll(f->nc, INT64_MAX, fb_now_ms(f->w));
    assert_int_equal(fb_count_api(f->w, KP_API_METADATA), 1); /* no second fetch */
    assert_true(sleep > 0);
    fb_release(f->w, 0, 1);
    kp_netclient_poll(f->nc, 0, fb_now_ms(f->w));
    assert_false(kp_metadata_updater_fetch_in_progress(f->u));
    urm(f);
}

static void t_updater_unknown_topic_has_no_partitions(void **s) {
    (void)s;
    ufix *f = umk();
    int64_t now = fb_now_ms(f->w);
    kp_metadata_add(f->md, "nope", now);
    for (int i = 0; i < 4; i++)
        kp_netclient_poll(f->nc, 0, now);
    const kp_cluster *cl = kp_metadata_fetch(f->md);
    assert_int_equal(kp_cluster_partition_count(cl, "nope"), -1);
    assert_int_equal(kp_cluster_topic_error(cl, "nope"), KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    urm(f);
}

static void t_updater_disconnect_clears_fetch(void **s) {
    (void)s;
    ufix *f = umk();
    int64_t now = fb_now_ms(f->w);
    kp_metadata_add(f->md, "t", now);
    kp_netclient_poll(f->nc, 0, now);
    kp_netclient_poll(f->nc, 0, now);
    fb_hold(f->w, 0, true);
    kp_netclient_poll(f->nc, 0, now);
    assert_true(kp_metadata_updater_fetch_in_progress(f->u));
    fb_disconnect(f->w, 0);
    kp_netclient_poll(f->nc, 0, now);
    assert_false(kp_metadata_updater_fetch_in_progress(f->u));
    assert_true(kp_metadata_update_requested(f->md));
    urm(f);
}

static void t_send_to_unready_node_is_refused(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    assert_int_equal(send_md(f, 0), -1); /* never connected */
    assert_int_equal(kp_netclient_in_flight_count(f->nc), 0);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(f->ndone, 0);
    rm(f);
}

static void t_no_broker_discovery_is_ready_on_connect(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    kp_netclient_destroy(f->nc);
    kp_netclient_opts o = { "producer-1", 5, 50, 1000, 30000, false, 0 };
    f->nc = kp_netclient_new(&o, &f->env);
    kp_netclient_set_updater(f->nc, &st_ops, f);
    kp_netclient_ready(f->nc, &f->nodes[0], now(f));
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_READY);
    assert_int_equal(fb_count_api(f->w, KP_API_API_VERSIONS), 0);
    send_md(f, 0);
    assert_int_equal(fb_req_at(f->w, 0)->api_version, 7); /* the client's latest */
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(f->ndone, 1);
    rm(f);
}

static void t_server_disconnect_during_api_versions(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    fb_hold(f->w, 0, true);
    kp_netclient_ready(f->nc, &f->nodes[0], now(f));
    kp_netclient_poll(f->nc, 0, now(f)); /* ApiVersions sent, answer held */
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_CHECKING_API_VERSIONS);
    fb_disconnect(f->w, 0);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_DISCONNECTED);
    assert_int_equal(kp_netclient_failed_attempts(f->nc, 0), 1);
    assert_true(kp_netclient_connection_delay(f->nc, 0, now(f)) > 0);
    assert_true(f->update_requests >= 1);
    assert_int_equal(kp_netclient_in_flight_count(f->nc), 0);
    rm(f);
}

static void t_client_disconnect_during_api_versions(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000);
    fb_hold(f->w, 0, true);
    kp_netclient_ready(f->nc, &f->nodes[0], now(f));
    kp_netclient_poll(f->nc, 0, now(f));
    kp_netclient_disconnect(f->nc, 0, now(f));
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_DISCONNECTED);
    assert_false(fb_connected(f->w, 0));
    fb_release(f->w, 0, 10); /* nothing to deliver to */
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(f->ndone, 0); /* the internal request has no user callback */
    rm(f);
}

static void t_idle_connection_closed_after_max_idle(void **s) {
    (void)s;
    fix *f = mk(5, 50, 1000); /* connections.max.idle.ms 540000 */
    connect_ready(f, 0);
    send_md(f, 0);
    kp_netclient_poll(f->nc, 0, now(f));
    fb_advance_ms(f->w, 540000);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_READY);
    int64_t sleep = kp_netclient_poll(f->nc, INT64_MAX, now(f));
    assert_true(sleep <= 1);
    fb_advance_ms(f->w, 1);
    kp_netclient_poll(f->nc, 0, now(f));
    assert_int_equal(kp_netclient_status(f->nc, 0), KP_NODE_DISCONNECTED);
    assert_false(fb_connected(f->w, 0));
    assert_true(f->update_requests >= 1); /* a disconnect like any other */
    rm(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_ready_connects_then_checks_api_versions),
        cmocka_unit_test(t_api_versions_falls_back_to_v0_when_refused),
        cmocka_unit_test(t_version_is_min_of_client_and_broker),
        cmocka_unit_test(t_request_response_round_trip),
        cmocka_unit_test(t_poll_skips_idle_connections),
        cmocka_unit_test(t_poll_trusts_an_unchanged_generation),
        cmocka_unit_test(t_send_after_idle_polls_is_flushed_and_timed),
        cmocka_unit_test(t_gather_write_sends_batches_in_place),
        cmocka_unit_test(t_gather_write_cut_short_is_joined_before_return),
        cmocka_unit_test(t_requests_with_responses_lend_their_batches),
        cmocka_unit_test(t_correlation_ids_increase),
        cmocka_unit_test(t_frame_written_in_place_or_after_growing),
        cmocka_unit_test(t_partial_reads_reassemble_frames),
        cmocka_unit_test(t_partial_writes_hold_the_next_request),
        cmocka_unit_test(t_max_in_flight_limits_sends),
        cmocka_unit_test(t_request_timeout_closes_connection),
        cmocka_unit_test(t_shorter_timeout_sent_later_still_expires),
        cmocka_unit_test(t_poll_returns_request_deadline),
        cmocka_unit_test(t_poll_deadline_follows_the_ring),
        cmocka_unit_test(t_disconnect_fails_in_flight_and_requests_metadata),
        cmocka_unit_test(t_reconnect_waits_for_backoff),
        cmocka_unit_test(t_reconnect_backoff_grows_exponentially_with_jitter),
        cmocka_unit_test(t_backoff_flat_when_max_not_above_base),
        cmocka_unit_test(t_ready_resets_backoff),
        cmocka_unit_test(t_connecting_state_until_established),
        cmocka_unit_test(t_throttle_blocks_sends_until_it_passes),
        cmocka_unit_test(t_no_response_request_completes_on_send),
        cmocka_unit_test(t_unsupported_api_completes_with_version_mismatch),
        cmocka_unit_test(t_correlation_mismatch_closes_connection),
        cmocka_unit_test(t_oversized_frame_closes_connection),
        cmocka_unit_test(t_negative_frame_size_closes_connection_and_says_so),
        cmocka_unit_test(t_connection_refused_is_a_disconnect),
        cmocka_unit_test(t_least_loaded_prefers_idle_ready_node),
        cmocka_unit_test(t_least_loaded_skips_blacked_out),
        cmocka_unit_test(t_least_loaded_fewest_in_flight),
        cmocka_unit_test(t_not_ready_while_metadata_update_due),
        cmocka_unit_test(t_responses_complete_in_request_order),
        cmocka_unit_test(t_close_fails_everything),
        cmocka_unit_test(t_wakeup_calls_env),
        cmocka_unit_test(t_send_to_unready_node_is_refused),
        cmocka_unit_test(t_no_broker_discovery_is_ready_on_connect),
        cmocka_unit_test(t_server_disconnect_during_api_versions),
        cmocka_unit_test(t_client_disconnect_during_api_versions),
        cmocka_unit_test(t_idle_connection_closed_after_max_idle),
        cmocka_unit_test(t_updater_connects_then_fetches_known_topics),
        cmocka_unit_test(t_updater_waits_for_in_flight_fetch),
        cmocka_unit_test(t_updater_unknown_topic_has_no_partitions),
        cmocka_unit_test(t_updater_disconnect_clears_fetch),
    };
    return cmocka_run_group_tests_name("network_client", tests, NULL, NULL);
}
