/*
 * fuzz_producer_response.c — libFuzzer target: the producer library
 * (producer/kp_producer.h) sends a real ProduceRequest to a fake broker
 * inside this file, and the fuzzer's bytes come back as the broker's
 * answer to it. Then the broker behaves (answers every later request
 * well) while the producer retries, expires or completes; finally the
 * producer is closed.
 *
 * Oracle beyond "no crash, no leak, no sanitizer report": no record gets
 * a second callback, ever; after close every record sent has had exactly
 * one callback (libuv's promise, kp_producer.h); the buffer pool is whole
 * again; a record acknowledged by the fuzzed answer carries an offset >= 0
 * or -1 only where the answer said so (we do not check values: any number
 * the broker sends is its business). A failure aborts with the reason.
 *
 * Input:
 *   OFFSET SIZE DESCRIPTION
 *   0      1    flags
 *                 bit 0    enable.idempotence=true (acks all)
 *                 bit 1    acks=1 (ignored with idempotence)
 *                 bits 2-4 records to send - 1 (1..8), partitions i % 2
 *                 bit 5    raw: the bytes are the whole frame (size and
 *                          correlation id included); else the harness
 *                          writes size + the request's correlation id and
 *                          the bytes are the body
 *                 bit 6    deliver the answer in 1..7-byte reads
 *                          (byte 1 & 7 + 1), else in one read
 *                 bit 7    close the connection right after the answer
 *   1      1    bits 0-2 chunk size selector (with flags bit 6)
 *                 bit 3    close as soon as the answer has been read (the
 *                          application's close() races the completions),
 *                          else close once every record was called back or
 *                          10 s of simulated time passed
 *   2      n    the answer
 *
 * World: one broker, node 0 ("b0", port 9000), topic "t" with 2
 * partitions led by it; ApiVersions answers the kp_api_supported table,
 * Metadata the topic, InitProducerId producer id 1000 epoch 0.
 * Time: a fake clock moved by what kp_producer_run_once returns (at most
 * 100 ms a step); every run is bounded in simulated time and steps.
 *
 * Memory: one producer and one fake world per input, freed at the end.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_arena.h"
#include "kp_config.h"
#include "kp_producer.h"
#include "kp_proto.h"
#include "kp_record_batch.h"
#include "kp_serializer.h"

#define FZ_MAX_RECORDS 8

struct kp_conn {
    kp_conn_state state;
    bool released;
    uint8_t *in;                /* bytes the producer sent, not yet parsed */
    size_t in_len, in_cap;
    uint8_t *out;               /* bytes for the producer to read */
    size_t out_len, out_off, out_cap;
    kp_conn *next;              /* every connection, for freeing */
};

typedef struct fz_world {
    int64_t now_us;
    kp_conn *conns;
    kp_arena *arena;
    const uint8_t *answer;      /* the fuzzed answer, used once */
    size_t answer_len;
    bool answered;              /* the fuzzed answer was delivered */
    bool raw;
    bool close_after;
    bool early_close;
    size_t chunk;               /* bytes per recv (SIZE_MAX: all) */
    int64_t offsets[2];
    int callbacks[FZ_MAX_RECORDS];
    int nrecords;
    bool unblocked;
    bool closed;
} fz_world;

static fz_world *fz_w;         /* one world at a time (callbacks reach it) */

static void fz_fail(const char *what) {
    fprintf(stderr, "fuzz_producer_response oracle failed: %s\n", what);
    abort();
}

static void fz_grow(uint8_t **p, size_t *cap, size_t need) {
    if (need <= *cap)
        return;
    size_t n = *cap ? *cap : 1024;
    while (n < need)
        n *= 2;
    *p = realloc(*p, n);
    if (!*p)
        abort();
    *cap = n;
}

static void fz_emit(kp_conn *c, const void *p, size_t len) {
    fz_grow(&c->out, &c->out_cap, c->out_len + len);
    memcpy(c->out + c->out_len, p, len);
    c->out_len += len;
}

static void fz_respond(kp_conn *c, int16_t api, int16_t ver, int32_t corr, const void *body) {
    kp_writer w;
    kp_wr_init(&w, NULL, 0);
    kp_response_frame_encode(&w, api, ver, corr, body);
    size_t need = w.len;
    uint8_t *buf = malloc(need);
    if (!buf)
        abort();
    kp_wr_init(&w, buf, need);
    kp_response_frame_encode(&w, api, ver, corr, body);
    fz_emit(c, buf, need);
    free(buf);
}

/* The broker's good answer to a Produce request: every partition NONE. */
static void fz_produce_ok(fz_world *w, kp_conn *c, const kp_request *rq) {
    const kp_produce_request *m = &rq->body.produce;
    kp_produce_topic_response tr[4];
    kp_produce_partition_response pr[4][4];
    int nt = m->topic_count > 4 ? 4 : m->topic_count;
    for (int i = 0; i < nt; i++) {
        const kp_produce_topic_data *td = &m->topics[i];
        tr[i].topic = td->topic;
        tr[i].partition_count = td->partition_count > 4 ? 4 : td->partition_count;
        tr[i].partitions = pr[i];
        for (int j = 0; j < tr[i].partition_count; j++) {
            const kp_produce_partition_data *pd = &td->partitions[j];
            kp_batch_header h;
            size_t total;
            int32_t n = 0;
            if (pd->records.len > 0 &&
                kp_batch_parse_header(pd->records.ptr, (size_t)pd->records.len, &h, &total) == KP_ERR_NONE)
                n = h.record_count;
            int slot = pd->partition == 1 ? 1 : 0;
            pr[i][j] = (kp_produce_partition_response){ pd->partition, 0, w->offsets[slot], -1, 0 };
            w->offsets[slot] += n;
        }
    }
    if (m->acks == 0)
        return;
    kp_produce_response r = { nt, tr, 0 };
    fz_respond(c, KP_API_PRODUCE, rq->hdr.api_version, rq->hdr.correlation_id, &r);
}

/* The first Produce request: the fuzzer's bytes answer it. */
static void fz_produce_fuzzed(fz_world *w, kp_conn *c, const kp_request *rq) {
    w->answered = true;
    if (w->raw) {
        fz_emit(c, w->answer, w->answer_len);
    } else {
        uint8_t hdr[8];
        kp_be32_put(hdr, (uint32_t)(w->answer_len + 4));
        kp_be32_put(hdr + 4, (uint32_t)rq->hdr.correlation_id);
        fz_emit(c, hdr, sizeof hdr);
        fz_emit(c, w->answer, w->answer_len);
    }
    if (w->close_after)
        c->state = KP_CONN_CLOSED; /* recv hands out what is left, then -1 */
}

static void fz_process(fz_world *w, kp_conn *c) {
    for (;;) {
        size_t flen;
        if (kp_frame_peek(c->in, c->in_len, KP_FRAME_MAX_DEFAULT, &flen) != KP_ERR_NONE)
            return;
        kp_arena_reset(w->arena);
        kp_request rq;
        memset(&rq, 0, sizeof rq);
        if (kp_request_frame_decode(c->in, flen, w->arena, &rq) != KP_ERR_NONE)
            fz_fail("the producer sent a request protocol/ cannot decode");
        switch (rq.hdr.api_key) {
        case KP_API_API_VERSIONS: {
            kp_api_versions_response r = { 0, kp_api_supported_count, (kp_api_version *)kp_api_supported, 0 };
            fz_respond(c, KP_API_API_VERSIONS, rq.hdr.api_version, rq.hdr.correlation_id, &r);
            break;
        }
        case KP_API_METADATA: {
            kp_metadata_broker b = { 0, kp_slice_str("b0"), 9000, KP_SLICE_NULL };
            static int32_t rep[1] = { 0 };
            kp_metadata_partition parts[2];
            memset(parts, 0, sizeof parts);
            for (int p = 0; p < 2; p++) {
                parts[p].partition = p;
                parts[p].leader = 0;
                parts[p].replica_count = 1;
                parts[p].replicas = rep;
                parts[p].isr_count = 1;
                parts[p].isr = rep;
            }
            kp_metadata_topic t;
            memset(&t, 0, sizeof t);
            t.topic = kp_slice_str("t");
            t.partition_count = 2;
            t.partitions = parts;
            kp_metadata_response r;
            memset(&r, 0, sizeof r);
            r.broker_count = 1;
            r.brokers = &b;
            r.cluster_id = kp_slice_str("fuzz");
            r.controller_id = 0;
            r.topic_count = 1;
            r.topics = &t;
            fz_respond(c, KP_API_METADATA, rq.hdr.api_version, rq.hdr.correlation_id, &r);
            break;
        }
        case KP_API_INIT_PRODUCER_ID: {
            kp_init_producer_id_response r = { 0, 0, 1000, 0 };
            fz_respond(c, KP_API_INIT_PRODUCER_ID, rq.hdr.api_version, rq.hdr.correlation_id, &r);
            break;
        }
        case KP_API_PRODUCE:
            if (!w->answered)
                fz_produce_fuzzed(w, c, &rq);
            else
                fz_produce_ok(w, c, &rq);
            break;
        default:
            fz_fail("the producer sent an API it should not need");
        }
        memmove(c->in, c->in + flen, c->in_len - flen);
        c->in_len -= flen;
        if (c->state == KP_CONN_CLOSED)
            return;
    }
}

/* ---- transport and clock ------------------------------------------- */

static kp_time_us fz_now(void *ctx) { return ((fz_world *)ctx)->now_us; }

static kp_conn *fz_connect(void *ctx, const char *host, int port, kp_conn_cb *cb, void *cb_ctx) {
    fz_world *w = ctx;
    (void)cb;
    (void)cb_ctx;
    kp_conn *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->next = w->conns;
    w->conns = c;
    c->state = strcmp(host, "b0") == 0 && port == 9000 ? KP_CONN_CONNECTED : KP_CONN_CLOSED;
    return c;
}

static ssize_t fz_send(void *ctx, kp_conn *c, const void *buf, size_t len) {
    if (c->released)
        fz_fail("send on a connection after close");
    if (c->state != KP_CONN_CONNECTED)
        return -1;
    fz_grow(&c->in, &c->in_cap, c->in_len + len);
    memcpy(c->in + c->in_len, buf, len);
    c->in_len += len;
    fz_process(ctx, c);
    return (ssize_t)len;
}

static ssize_t fz_recv(void *ctx, kp_conn *c, void *buf, size_t cap) {
    fz_world *w = ctx;
    if (c->released)
        fz_fail("recv on a connection after close");
    size_t avail = c->out_len - c->out_off;
    if (avail == 0)
        return c->state == KP_CONN_CLOSED ? -1 : 0;
    size_t n = avail < cap ? avail : cap;
    if (n > w->chunk)
        n = w->chunk;
    memcpy(buf, c->out + c->out_off, n);
    c->out_off += n;
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    return (ssize_t)n;
}

static void fz_close(void *ctx, kp_conn *c) {
    (void)ctx;
    if (c->released)
        fz_fail("a connection closed twice");
    c->released = true;
    c->state = KP_CONN_CLOSED;
}

static kp_conn_state fz_state(void *ctx, kp_conn *c) {
    (void)ctx;
    return c->state;
}

static void fz_wakeup(void *ctx) { (void)ctx; }

/* FZ_TRACE=1: the producer's events on stderr, to read a failing input */
static void fz_on_event(void *ctx, const kp_event *ev) {
    (void)ctx;
    fprintf(stderr, "%8lld kind=%d node=%d %s/%d batch=%lld seq=%d n=%d corr=%d err=%s val=%lld %s\n",
            (long long)(ev->time_us / 1000), ev->kind, (int)ev->node, ev->topic ? ev->topic : "-",
            (int)ev->partition, (long long)ev->batch_id, (int)ev->base_sequence, (int)ev->record_count,
            (int)ev->correlation_id, kp_err_name(ev->err), (long long)ev->value, ev->detail ? ev->detail : "");
}

/* ---- the producer's side -------------------------------------------- */

static void fz_record_cb(void *ctx, const kp_record_metadata *md, kp_err err, const char *msg) {
    (void)md;
    (void)err;
    (void)msg;
    int i = (int)(intptr_t)ctx;
    if (getenv("FZ_TRACE"))
        fprintf(stderr, "callback record %d: %s offset %lld\n", i, kp_err_name(err), md ? (long long)md->offset : -2LL);
    if (i < 0 || i >= fz_w->nrecords)
        fz_fail("a callback for a record never sent");
    if (++fz_w->callbacks[i] > 1)
        fz_fail("a record got a second callback");
}

static void fz_unblocked(void *ctx) { ((fz_world *)ctx)->unblocked = true; }
static void fz_closed(void *ctx) { ((fz_world *)ctx)->closed = true; }

/* One run_once; the clock moves by its answer, 1..100 ms. */
static void fz_step(fz_world *w, kp_producer *p) {
    int64_t ms = kp_producer_run_once(p);
    if (ms < 1)
        ms = 1;
    if (ms > 100)
        ms = 100;
    w->now_us += ms * 1000;
}

static bool fz_answer_read(const fz_world *w) {
    for (const kp_conn *c = w->conns; c; c = c->next)
        if (!c->released && c->out_len > c->out_off)
            return false;
    return true;
}

static bool fz_all_called(const fz_world *w) {
    for (int i = 0; i < w->nrecords; i++)
        if (w->callbacks[i] == 0)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    uint8_t flags = data[0];
    fz_world w;
    memset(&w, 0, sizeof w);
    fz_w = &w;
    w.now_us = 1000000;
    w.arena = kp_arena_new(0, 16u << 20);
    w.answer = data + 2;
    w.answer_len = size - 2;
    w.raw = flags & 0x20;
    w.close_after = flags & 0x80;
    w.early_close = data[1] & 8;
    w.chunk = flags & 0x40 ? (size_t)(data[1] & 7) + 1 : SIZE_MAX;
    int nrec = ((flags >> 2) & 7) + 1;

    kp_config cfg;
    kp_config_init(&cfg);
    char eb[256];
    const char *settings[][2] = {
        { "bootstrap.servers", "b0:9000" }, { "linger.ms", "0" },        { "request.timeout.ms", "1000" },
        { "delivery.timeout.ms", "3000" },  { "retry.backoff.ms", "10" }, { "max.block.ms", "1000" },
        { "reconnect.backoff.ms", "10" },   { "reconnect.backoff.max.ms", "50" },
        { "enable.idempotence", flags & 1 ? "true" : "false" },
        { "acks", flags & 1 ? "all" : flags & 2 ? "1" : "all" },
    };
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (kp_config_set(&cfg, settings[i][0], settings[i][1], eb, sizeof eb) != KP_ERR_NONE) {
            fprintf(stderr, "config %s: %s\n", settings[i][0], eb);
            abort();
        }
    kp_env env;
    memset(&env, 0, sizeof env);
    env.clock.now_us = fz_now;
    env.clock.ctx = &w;
    env.transport.connect = fz_connect;
    env.transport.send = fz_send;
    env.transport.recv = fz_recv;
    env.transport.close = fz_close;
    env.transport.state = fz_state;
    env.transport.ctx = &w;
    env.rng = kp_rng_stream(1, "producer");
    if (getenv("FZ_TRACE"))
        env.observer.on_event = fz_on_event;
    env.wakeup = fz_wakeup;
    env.wakeup_ctx = &w;
    kp_err err;
    kp_producer *p = kp_producer_new(&cfg, &env, &err, eb, sizeof eb);
    if (!p) {
        fprintf(stderr, "kp_producer_new: %s\n", eb);
        abort();
    }
    kp_producer_set_on_unblocked(p, fz_unblocked, &w);

    /* the application: nrec sends, waiting out a blocked one */
    int steps = 0;
    for (int i = 0; i < nrec; i++) {
        char val[16];
        snprintf(val, sizeof val, "v%d", i);
        kp_producer_record r;
        memset(&r, 0, sizeof r);
        r.topic = "t";
        r.partition = i % 2;
        r.timestamp = -1;
        r.key = kp_datum_null();
        r.value = kp_datum_str(val);
        w.nrecords = i + 1;
        kp_send_status st = kp_producer_send(p, &r, fz_record_cb, (void *)(intptr_t)i, &err, eb, sizeof eb);
        if (st == KP_SEND_ERROR) {
            w.callbacks[i] = 1; /* failed synchronously: no callback, accounted here */
            continue;
        }
        while (kp_producer_send_blocked(p) && steps++ < 10000)
            fz_step(&w, p);
    }
    /* run until every record is called back or 10 s of simulated time */
    int64_t end = w.now_us + 10 * 1000000;
    while (!fz_all_called(&w) && w.now_us < end && steps++ < 100000) {
        if (w.early_close && w.answered && fz_answer_read(&w))
            break;
        fz_step(&w, p);
    }
    /* graceful close (5 s), which turns into forceClose when it takes longer */
    kp_producer_close(p, 5000, fz_closed, &w);
    end = w.now_us + 20 * 1000000;
    while (!w.closed && w.now_us < end && steps++ < 200000)
        fz_step(&w, p);
    if (!w.closed)
        fz_fail("close(5000) did not finish in 20 s of simulated time");
    for (int i = 0; i < w.nrecords; i++)
        if (w.callbacks[i] != 1)
            fz_fail("a record sent had no callback when close finished");
    if (!kp_producer_pool_is_whole(p))
        fz_fail("buffer pool not whole after close");
    kp_producer_destroy(p);
    kp_conn *c = w.conns;
    while (c) {
        kp_conn *n = c->next;
        free(c->in);
        free(c->out);
        free(c);
        c = n;
    }
    kp_arena_destroy(w.arena);
    fz_w = NULL;
    return 0;
}
