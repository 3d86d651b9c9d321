/*
 * fuzz_broker_request.c — libFuzzer target: bytes in -> a running
 * broker_mock cluster -> responses out, no crash, no leak, every
 * invariant of bm_cluster_verify holding after every step, and every
 * response a well-formed frame that protocol/ decodes as the answer to the
 * request with its correlation id.
 *
 * Input: a script of steps, each
 *   OFFSET SIZE DESCRIPTION
 *   0      1    op: low 3 bits select the action, the rest a parameter
 *   1      2    n, big-endian (bounded by what is left)
 *   3      n    bytes
 * Actions: 0-2 feed the bytes to connection 0-2 (connection i talks to
 * broker i % 3; a closed one is reopened), in chunks of (op >> 3) + 1
 * bytes when op >> 3 < 8, else whole; 3 move the clock by n * 137 us and
 * poll; 4 crash / restart broker n % 3; 5 move the leader of t-(n % 2) to
 * broker n % 3 (unclean when op & 8); 6 inject an error for the next
 * request of API n % 30 on broker (n >> 8) % 3; 7 pause/resume a follower.
 * A topic "t" with 2 partitions x 3 replicas exists from the start;
 * Metadata with auto creation makes more.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bm_cluster.h"
#include "bm_conn.h"
#include "kp_proto.h"

/* What the harness expects back: the requests it fed, in order. */
typedef struct fz_req {
    int32_t corr;
    int16_t api, version;
} fz_req;

typedef struct fz_conn {
    bm_conn *conn;
    bool closed;
    uint8_t *out;
    size_t out_len, out_cap;
    uint8_t *in;               /* shadow of the fed bytes, cut into frames */
    size_t in_len, in_cap;
    fz_req reqs[512];
    size_t nreqs;
    kp_arena *arena;
} fz_conn;

static kp_time_us fz_now;

static kp_time_us fz_clock(void *ctx) {
    (void)ctx;
    return fz_now;
}

static void fz_write(void *ctx, const uint8_t *b, size_t n) {
    fz_conn *fc = ctx;
    if (fc->out_len + n > fc->out_cap) {
        size_t nc = fc->out_cap ? fc->out_cap : 1024;
        while (nc < fc->out_len + n)
            nc *= 2;
        fc->out = realloc(fc->out, nc);
        if (!fc->out)
            abort();
        fc->out_cap = nc;
    }
    memcpy(fc->out + fc->out_len, b, n);
    fc->out_len += n;
    /* every response is whole frames, each decodable as the answer to the
     * request with its correlation id (requests without an answer —
     * acks=0 Produce — are skipped over) */
    size_t off = 0, flen;
    while (kp_frame_peek(fc->out + off, fc->out_len - off, INT32_MAX, &flen) == KP_ERR_NONE) {
        if (flen < 8)
            abort();
        int32_t corr = (int32_t)kp_be32_get(fc->out + off + 4);
        size_t k = 0;
        while (k < fc->nreqs && fc->reqs[k].corr != corr)
            k++;
        if (k == fc->nreqs)
            abort(); /* an answer to nothing that was asked */
        fz_req rq = fc->reqs[k];
        memmove(fc->reqs, fc->reqs + k + 1, (fc->nreqs - k - 1) * sizeof rq);
        fc->nreqs -= k + 1;
        int16_t v = rq.api == KP_API_API_VERSIONS && rq.version > KP_API_VERSIONS_MAX_VERSION
                        ? 0 : rq.version;
        kp_response resp;
        kp_arena_reset(fc->arena);
        if (kp_response_frame_decode(fc->out + off, flen, rq.api, v, fc->arena, &resp) != KP_ERR_NONE)
            abort(); /* the broker wrote something the protocol cannot read */
        off += flen;
    }
    if (off != fc->out_len)
        abort(); /* a write never leaves half a frame */
    fc->out_len = 0;
}

/* Mirrors the fed bytes: every whole frame with a readable header is a
 * request that may be answered. */
static void fz_shadow(fz_conn *fc, const uint8_t *b, size_t n) {
    if (fc->in_len + n > fc->in_cap) {
        size_t nc = fc->in_cap ? fc->in_cap : 1024;
        while (nc < fc->in_len + n)
            nc *= 2;
        fc->in = realloc(fc->in, nc);
        if (!fc->in)
            abort();
        fc->in_cap = nc;
    }
    memcpy(fc->in + fc->in_len, b, n);
    fc->in_len += n;
    size_t flen;
    while (kp_frame_peek(fc->in, fc->in_len, INT32_MAX, &flen) == KP_ERR_NONE) {
        kp_reader r;
        kp_rd_init(&r, fc->in + 4, flen - 4);
        kp_request_header h;
        if (kp_request_header_decode(&r, &h) == KP_ERR_NONE &&
            fc->nreqs < sizeof fc->reqs / sizeof fc->reqs[0])
            fc->reqs[fc->nreqs++] = (fz_req){ h.correlation_id, h.api_key, h.api_version };
        memmove(fc->in, fc->in + flen, fc->in_len - flen);
        fc->in_len -= flen;
    }
    if (fc->in_len >= 4 && (int32_t)kp_be32_get(fc->in) < 0)
        fc->in_len = 0; /* the broker closes on this; nothing more to mirror */
}

static void fz_close(void *ctx, const char *reason) {
    fz_conn *fc = ctx;
    if (!reason || !*reason)
        abort(); /* closing always says why */
    fc->conn = NULL;
    fc->closed = true;
    fc->in_len = 0;
    fc->nreqs = 0;
}

static void fz_check(const bm_cluster *c) {
    const char *m = bm_cluster_verify(c);
    if (m) {
        fprintf(stderr, "bm_cluster_verify: %s\n", m);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_now = 0;
    bm_config conf;
    bm_config_defaults(&conf);
    conf.socket_request_max_bytes = 1 << 20; /* keep inputs cheap */
    kp_env env;
    memset(&env, 0, sizeof env);
    env.clock.now_us = fz_clock;
    env.rng = kp_rng_stream(7, "broker");
    bm_cluster *c = bm_cluster_new(&conf, &env);
    if (!c)
        return 0;
    bm_cluster_create_topic(c, "t", 2, 3);
    static const bm_conn_io io = { .write = fz_write, .close = fz_close };
    fz_conn fc[3];
    memset(fc, 0, sizeof fc);
    for (int i = 0; i < 3; i++) {
        fc[i].arena = kp_arena_new(0, 0);
        if (!fc[i].arena)
            abort();
    }
    size_t pos = 0;
    for (int steps = 0; steps < 256 && pos + 3 <= size; steps++) {
        uint8_t op = data[pos];
        size_t n = ((size_t)data[pos + 1] << 8) | data[pos + 2];
        pos += 3;
        if (n > size - pos)
            n = size - pos;
        const uint8_t *bytes = data + pos;
        int act = op & 7;
        if (act <= 2) {
            pos += n;
            fz_conn *f = &fc[act];
            if (!f->conn) {
                f->conn = bm_conn_open(c, act % 3, &io, f);
                if (!f->conn)
                    continue;
            }
            size_t chunk = (op >> 3) < 8 ? (size_t)(op >> 3) + 1 : (n ? n : 1);
            for (size_t off = 0; off < n && f->conn; off += chunk) {
                size_t len = n - off < chunk ? n - off : chunk;
                fz_shadow(f, bytes + off, len);
                bm_conn_feed(f->conn, bytes + off, len);
            }
        } else if (act == 3) {
            fz_now += (kp_time_us)n * 137;
        } else if (act == 4) {
            int32_t b = (int32_t)(n % 3);
            if (bm_cluster_broker_is_up(c, b))
                bm_cluster_crash_broker(c, b);
            else
                bm_cluster_restart_broker(c, b);
        } else if (act == 5) {
            bm_cluster_move_leader(c, "t", (int32_t)(n % 2), (int32_t)(n % 3), (op & 8) != 0);
        } else if (act == 6) {
            bm_cluster_inject(c, (int32_t)((n >> 8) % 3), (int16_t)(n % 30), 1,
                              (kp_err)((op >> 3) % 20), (kp_time_us)(n & 0xff) * 100);
        } else {
            bm_cluster_pause_follower(c, (int32_t)(n % 3), (op & 8) != 0);
        }
        kp_time_us next = bm_cluster_poll(c, fz_now);
        if (act == 3 && next != BM_TIME_NEVER && next <= fz_now + 2000000) {
            fz_now = next;
            bm_cluster_poll(c, fz_now);
        }
        fz_check(c);
    }
    /* run the clock out: every deferred response completes */
    for (int i = 0; i < 64; i++) {
        kp_time_us next = bm_cluster_poll(c, fz_now);
        fz_check(c);
        if (next == BM_TIME_NEVER)
            break;
        fz_now = next > fz_now ? next : fz_now + 1;
    }
    for (int i = 0; i < 3; i++) {
        if (fc[i].conn)
            bm_conn_close(fc[i].conn);
        free(fc[i].out);
        free(fc[i].in);
        kp_arena_destroy(fc[i].arena);
    }
    bm_cluster_destroy(c);
    return 0;
}
