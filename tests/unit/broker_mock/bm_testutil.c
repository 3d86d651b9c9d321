/*
 * bm_testutil.c — helpers of the broker_mock unit tests (bm_testutil.h).
 */
#include "bm_testutil.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_record_batch.h"

static kp_time_us bmt_clock(void *ctx) {
    return ((bmt_world *)ctx)->now;
}

static void bmt_on_event(void *ctx, const kp_event *ev) {
    bmt_world *w = ctx;
    if (w->nev == w->capev) {
        w->capev = w->capev ? w->capev * 2 : 256;
        w->ev = realloc(w->ev, w->capev * sizeof *w->ev);
        assert_non_null(w->ev);
    }
    bmt_event *e = &w->ev[w->nev++];
    memset(e, 0, sizeof *e);
    e->kind = ev->kind;
    e->node = ev->node;
    e->partition = ev->partition;
    e->offset = ev->offset;
    e->value = ev->value;
    e->err = ev->err;
    e->watched_topic = w->watch_topic && ev->topic == w->watch_topic;
    e->api_key = (int16_t)ev->api_key;
    if (ev->detail)
        snprintf(e->detail, sizeof e->detail, "%s", ev->detail);
    e->detail_ptr = ev->detail;
}

bmt_world *bmt_new(const bm_config *conf) {
    bmt_world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    bm_config def;
    bm_config_defaults(&def);
    kp_env env;
    memset(&env, 0, sizeof env);
    env.clock.now_us = bmt_clock;
    env.clock.ctx = w;
    env.observer.on_event = bmt_on_event;
    env.observer.ctx = w;
    env.rng = kp_rng_stream(42, "broker");
    w->c = bm_cluster_new(conf ? conf : &def, &env);
    assert_non_null(w->c);
    return w;
}

void bmt_free(bmt_world *w) {
    if (!w)
        return;
    bm_cluster_destroy(w->c);
    free(w->ev);
    free(w);
}

void bmt_poll(bmt_world *w) {
    bm_cluster_poll(w->c, w->now);
    bmt_verify(w);
}

void bmt_advance(bmt_world *w, kp_time_us us) {
    kp_time_us end = w->now + us;
    for (int guard = 0; guard < 10000000; guard++) {
        kp_time_us next = bm_cluster_poll(w->c, w->now);
        bmt_verify(w);
        if (next > end || next == BM_TIME_NEVER)
            break;
        w->now = next > w->now ? next : w->now + 1;
    }
    w->now = end;
    bm_cluster_poll(w->c, w->now);
    bmt_verify(w);
}

int bmt_count(const bmt_world *w, int kind) {
    int n = 0;
    for (size_t i = 0; i < w->nev; i++)
        n += w->ev[i].kind == kind;
    return n;
}

const bmt_event *bmt_last(const bmt_world *w, int kind) {
    for (size_t i = w->nev; i-- > 0;)
        if (w->ev[i].kind == kind)
            return &w->ev[i];
    return NULL;
}

void bmt_verify(const bmt_world *w) {
    const char *msg = bm_cluster_verify(w->c);
    if (msg)
        fail_msg("bm_cluster_verify: %s", msg);
}

size_t bmt_batch(uint8_t *buf, size_t cap, int64_t pid, int16_t epoch, int32_t seq, int32_t count,
                 bool transactional, size_t value_len) {
    kp_batch_builder b;
    kp_batch_builder_init(&b, buf, cap, KP_CODEC_NONE, transactional);
    static uint8_t val[1 << 20];
    assert_true(value_len <= sizeof val);
    memset(val, 'v', value_len);
    for (int32_t i = 0; i < count; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", (int)i);
        kp_slice k = { (const uint8_t *)key, (int32_t)strlen(key) };
        kp_slice v = { val, (int32_t)value_len };
        assert_int_equal(kp_batch_builder_append(&b, 1000 + i, k, v, NULL, 0), KP_ERR_NONE);
    }
    kp_slice out;
    assert_int_equal(kp_batch_builder_close(&b, NULL, 0, &out), KP_ERR_NONE);
    if (pid >= 0)
        kp_batch_set_producer_state(buf, (size_t)out.len, pid, epoch, seq);
    return (size_t)out.len;
}

bm_produce_result bmt_produce(bmt_world *w, int32_t broker, const char *topic, int32_t part,
                              int16_t acks, int64_t pid, int16_t epoch, int32_t seq, int32_t count) {
    static uint8_t buf[1 << 16];
    size_t n = bmt_batch(buf, sizeof buf, pid, epoch, seq, count, false, 8);
    bm_produce_result r;
    bm_cluster_produce(w->c, broker, topic, part, acks, 7, buf, n, &r);
    bmt_verify(w);
    return r;
}

static bool bmt_read_cb(void *ctx, const bm_record_view *v) {
    bmt_log *l = ctx;
    if (l->n >= 4096)
        return false;
    l->offset[l->n] = v->offset;
    l->pid[l->n] = v->producer_id;
    l->seq[l->n] = v->sequence;
    l->txn_state[l->n] = v->txn_state;
    l->control[l->n] = v->control;
    l->n++;
    return true;
}

void bmt_read(bmt_world *w, const char *topic, int32_t part, bmt_log *out) {
    memset(out, 0, sizeof *out);
    assert_int_equal(bm_cluster_read_log(w->c, topic, part, bmt_read_cb, out), KP_ERR_NONE);
}

/* ---- client ------------------------------------------------------- */

static void bmt_io_write(void *ctx, const uint8_t *bytes, size_t len) {
    bmt_client *cl = ctx;
    if (cl->out_len + len > cl->out_cap) {
        size_t nc = cl->out_cap ? cl->out_cap : 4096;
        while (nc < cl->out_len + len)
            nc *= 2;
        cl->out = realloc(cl->out, nc);
        assert_non_null(cl->out);
        cl->out_cap = nc;
    }
    memcpy(cl->out + cl->out_len, bytes, len);
    cl->out_len += len;
}

static void bmt_io_close(void *ctx, const char *reason) {
    bmt_client *cl = ctx;
    cl->closed = true;
    cl->conn = NULL;
    snprintf(cl->reason, sizeof cl->reason, "%s", reason);
}

bmt_client *bmt_client_open(bmt_world *w, int32_t broker) {
    bmt_client *cl = calloc(1, sizeof *cl);
    assert_non_null(cl);
    cl->w = w;
    cl->arena = kp_arena_new(0, 0);
    static const bm_conn_io io = { .write = bmt_io_write, .close = bmt_io_close };
    cl->conn = bm_conn_open(w->c, broker, &io, cl);
    assert_non_null(cl->conn);
    return cl;
}

static const uint8_t *bmt_io_kept(void *ctx, size_t off, size_t *len) {
    bmt_client *cl = ctx;
    if (off >= cl->ring_len) {
        *len = 0;
        return NULL;
    }
    size_t at = (cl->ring_head + off) & (cl->ring_cap - 1);
    size_t n = cl->ring_len - off;
    *len = cl->ring_cap - at < n ? cl->ring_cap - at : n;
    return cl->ring + at;
}

static void bmt_io_release(void *ctx, size_t n) {
    bmt_client *cl = ctx;
    assert_true(n <= cl->ring_len);
    cl->ring_head = (cl->ring_head + n) & (cl->ring_cap - 1);
    cl->ring_len -= n;
    cl->released += n;
}

bmt_client *bmt_client_open_keeping(bmt_world *w, int32_t broker, size_t ring_cap, size_t head) {
    assert_true(ring_cap && !(ring_cap & (ring_cap - 1)) && head < ring_cap);
    bmt_client *cl = calloc(1, sizeof *cl);
    assert_non_null(cl);
    cl->w = w;
    cl->arena = kp_arena_new(0, 0);
    cl->ring = malloc(ring_cap);
    assert_non_null(cl->ring);
    cl->ring_cap = ring_cap;
    cl->ring_head = head;
    static const bm_conn_io io = { .write = bmt_io_write,
                                   .close = bmt_io_close,
                                   .kept = bmt_io_kept,
                                   .release = bmt_io_release };
    cl->conn = bm_conn_open(w->c, broker, &io, cl);
    assert_non_null(cl->conn);
    return cl;
}

void bmt_client_free(bmt_client *cl) {
    if (!cl)
        return;
    if (cl->conn)
        bm_conn_close(cl->conn);
    kp_arena_destroy(cl->arena);
    free(cl->out);
    free(cl->ring);
    free(cl);
}

void bmt_feed(bmt_client *cl, const void *bytes, size_t len, size_t chunk) {
    const uint8_t *p = bytes;
    if (chunk == 0)
        chunk = len;
    for (size_t off = 0; off < len && cl->conn; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        if (cl->ring) {
            assert_true(cl->ring_len + n <= cl->ring_cap);
            /* one contiguous run at a time, as simnet's peek gives them */
            size_t done = 0;
            while (done < n && cl->conn) {
                size_t at = (cl->ring_head + cl->ring_len) & (cl->ring_cap - 1);
                size_t run = cl->ring_cap - at < n - done ? cl->ring_cap - at : n - done;
                memcpy(cl->ring + at, p + off + done, run);
                cl->ring_len += run;
                done += run;
                bm_conn_feed_kept(cl->conn, cl->ring + at, run);
            }
        } else {
            bm_conn_feed(cl->conn, p + off, n);
        }
        bmt_poll(cl->w);
    }
}

void bmt_send(bmt_client *cl, int16_t api_key, int16_t version, int32_t corr, const void *body,
              size_t chunk) {
    kp_request_header h = { api_key, version, corr, kp_slice_str("bmt-client") };
    kp_writer w;
    kp_wr_init(&w, NULL, 0);
    kp_request_frame_encode(&w, &h, body);
    uint8_t *buf = malloc(w.len);
    assert_non_null(buf);
    size_t n = w.len;
    kp_wr_init(&w, buf, n);
    kp_request_frame_encode(&w, &h, body);
    assert_int_equal(w.err, KP_ERR_NONE);
    bmt_feed(cl, buf, n, chunk);
    free(buf);
}

int bmt_pending_frames(const bmt_client *cl) {
    int n = 0;
    size_t off = 0;
    for (;;) {
        size_t flen;
        if (kp_frame_peek(cl->out + off, cl->out_len - off, INT32_MAX, &flen) != KP_ERR_NONE)
            return n;
        n++;
        off += flen;
    }
}

bool bmt_recv(bmt_client *cl, int16_t api_key, int16_t version, kp_response *out) {
    size_t flen;
    if (kp_frame_peek(cl->out, cl->out_len, INT32_MAX, &flen) != KP_ERR_NONE)
        return false;
    kp_arena_reset(cl->arena);
    static uint8_t frame[1 << 22];
    assert_true(flen <= sizeof frame);
    memcpy(frame, cl->out, flen);
    memmove(cl->out, cl->out + flen, cl->out_len - flen);
    cl->out_len -= flen;
    assert_int_equal(kp_response_frame_decode(frame, flen, api_key, version, cl->arena, out),
                     KP_ERR_NONE);
    return true;
}
