/*
 * bm_conn.c — framing, the one-request-at-a-time rule, deferred responses
 * and closing on malformed input (contract in bm_conn.h).
 *
 * The pump of a connection, in order (what SocketServer.Processor does for
 * one channel):
 *   1. the current request: resume its wait (acks=all, Fetch min_bytes),
 *      write its response once built and not before ready_at (injected
 *      delay);
 *   2. muted by a quota throttle (2.1 answers at once, then reads no
 *      request of the channel until the throttle time passed)? stop;
 *   3. the next whole frame in the input buffer: decode, count, inject,
 *      hand to its API handler (bm_handlers.c) — it becomes current.
 * Frames are taken one at a time, so responses go out in request order.
 *
 * Memory: the input buffer grows with the bytes actually received (a frame
 * that announces 100 MiB costs nothing until its bytes arrive) and is
 * bounded by socket.request.max.bytes + 4 per frame; a decoded request
 * lives in the connection's arena until the next one. Frames are taken
 * from a read offset (in_off); the unread rest moves to the front only
 * when the buffer runs out of room at its end and the frames taken since
 * are at least as many bytes (else the buffer grows), so buffered frames
 * cost each byte one copy in and at most one move on average, not one move
 * per frame taken. When nothing is buffered, bm_conn_feed decodes whole
 * frames straight from the caller's bytes and copies in only the rest.
 * A keeping carrier (io.kept/io.release, simnet's links) holds the unread
 * input itself (kept_len bytes): bm_conn_feed_kept and the poll take
 * frames where they lie in its ring, run by run, and release each frame
 * taken; conn->in then only assembles a frame that lies across several of
 * its runs, and frames queued behind a request in progress are never
 * copied. Of such a frame, runs of BM_GATHER_MIN bytes or more that are
 * exactly a Produce request's records (a client's batches the carrier
 * holds where the client lent them) are not copied either: the request is
 * decoded around them (kp_request_frame_decode_gathered) and its handler
 * reads them in place.
 * Responses are encoded into one buffer per connection (resp_buf, grown by
 * doubling, reused for every response; io->write copies what it keeps).
 * Likewise the current request's wait (acks=all Produce, Fetch below
 * min_bytes) is built in one block per connection (wait_mem, grown when
 * too small, freed with the connection).
 */
#include "bm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==================================================================== */
/* Registry                                                              */
/* ==================================================================== */

bm_conn *bm_conn_open(bm_cluster *c, int32_t broker_id, const bm_conn_io *io, void *io_ctx) {
    if (!c || !io || broker_id < 0 || broker_id >= c->conf.brokers || !c->brokers[broker_id].up)
        return NULL;
    bm_conn *conn = calloc(1, sizeof *conn);
    if (!conn)
        return NULL;
    conn->arena = kp_arena_new(0, 0);
    void *arr = c->conns;
    if (!conn->arena || !bm__grow(&arr, &c->capconns, c->nconns + 1, sizeof(bm_conn *))) {
        kp_arena_destroy(conn->arena);
        free(conn);
        return NULL;
    }
    c->conns = arr;
    c->conns[c->nconns++] = conn;
    conn->c = c;
    conn->id = c->next_conn_id++;
    conn->broker = broker_id;
    conn->io = *io;
    conn->io_ctx = io_ctx;
    return conn;
}

int32_t bm__conn_broker(const bm_conn *conn) {
    return conn->broker;
}

static void bm_conn_reset_current(bm_conn *conn) {
    conn->resp = NULL; /* its bytes stay in resp_buf for the next one */
    conn->resp_len = 0;
    conn->wait = NULL;
    conn->busy = false;
    conn->no_response = false;
    conn->ready_at_us = 0;
    conn->wait_deadline_us = 0;
}

void bm__conn_free(bm_conn *conn) {
    bm_cluster *c = conn->c;
    for (size_t i = 0; i < c->nconns; i++)
        if (c->conns[i] == conn) {
            memmove(&c->conns[i], &c->conns[i + 1], (c->nconns - i - 1) * sizeof(bm_conn *));
            c->nconns--;
            break;
        }
    bm_conn_reset_current(conn);
    kp_arena_destroy(conn->arena);
    free(conn->in);
    free(conn->resp_buf);
    free(conn->wait_mem);
    free(conn);
}

/* Closes with a logged reason: event, io->close, free. */
static void bm_conn_fail(bm_conn *conn, const char *reason) {
    kp_event ev = bm__ev(conn->c, BM_EV_CONN_CLOSED, conn->broker);
    ev.detail = reason;
    ev.value = conn->id;
    bm__emit(conn->c, &ev);
    bm_conn_io io = conn->io;
    void *ctx = conn->io_ctx;
    bm__conn_free(conn);
    if (io.close)
        io.close(ctx, reason);
}

void bm__conn_kill(bm_conn *conn, const char *reason) {
    bm_conn_fail(conn, reason);
}

void bm_conn_close(bm_conn *conn) {
    if (!conn)
        return;
    kp_event ev = bm__ev(conn->c, BM_EV_CONN_CLOSED, conn->broker);
    ev.detail = "closed by client";
    ev.value = conn->id;
    bm__emit(conn->c, &ev);
    bm__conn_free(conn);
}

int64_t bm_conn_requests(const bm_conn *conn) {
    return conn->nreq;
}

int64_t bm_conn_responses(const bm_conn *conn) {
    return conn->nresp;
}

/* ==================================================================== */
/* Responses                                                             */
/* ==================================================================== */

/* Makes resp_buf hold at least `need` bytes (its content is not kept). */
static bool bm_conn_resp_room(bm_conn *conn, size_t need) {
    if (need <= conn->resp_cap)
        return true;
    size_t cap = conn->resp_cap ? conn->resp_cap : 256;
    while (cap < need)
        cap *= 2;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return false;
    free(conn->resp_buf);
    conn->resp_buf = buf;
    conn->resp_cap = cap;
    return true;
}

/* Encodes the response straight into the connection's reused buffer; only
 * when it does not fit (the writer counts on past its capacity) does the
 * buffer grow and the frame get encoded again. */
bool bm__conn_set_response(bm_conn *conn, int16_t api_key, int16_t version, const void *body) {
    kp_writer w;
    for (;;) {
        kp_wr_init(&w, conn->resp_buf, conn->resp_cap);
        kp_response_frame_encode(&w, api_key, version, conn->corr, body);
        if (w.len <= conn->resp_cap && conn->resp_buf)
            break;
        if (!bm_conn_resp_room(conn, w.len ? w.len : 1)) /* at least doubles */
            return false;
    }
    conn->resp = conn->resp_buf;
    conn->resp_len = w.len;
    return w.err == KP_ERR_NONE;
}

static void bm_conn_write_current(bm_conn *conn, kp_time_us now) {
    if (conn->resp) {
        kp_event ev = bm__ev(conn->c, BM_EV_RESPONSE, conn->broker);
        ev.api_key = conn->api_key;
        ev.correlation_id = conn->corr;
        ev.bytes = (int64_t)conn->resp_len;
        bm__emit(conn->c, &ev);
        conn->nresp++;
        if (conn->io.write)
            conn->io.write(conn->io_ctx, conn->resp, conn->resp_len);
    }
    (void)now;
    bm_conn_reset_current(conn);
}

/* ==================================================================== */
/* Requests                                                              */
/* ==================================================================== */

/* The REQUEST event's detail for a client id of len bytes (already cut
 * to what the event shows): the cluster's copy, one per distinct id, kept
 * until bm_cluster_destroy (bm_cluster_detail_is_stable), so that the
 * runner's digest finds it by address instead of hashing a stack copy per
 * request. The connection remembers its last id (a producer sends one id
 * on every request). NULL on no memory. */
static const char *bm__client_id(bm_conn *conn, const uint8_t *id, size_t len) {
    bm_cluster *c = conn->c;
    if (conn->client_id) {
        const struct bm_client_id *k = &c->client_ids[conn->client_id - 1];
        if (k->len == len && (!len || !memcmp(k->s, id, len)))
            return k->s;
    }
    for (size_t i = 0; i < c->nclient_ids; i++) {
        const struct bm_client_id *k = &c->client_ids[i];
        if (k->len == len && (!len || !memcmp(k->s, id, len))) {
            conn->client_id = i + 1;
            return k->s;
        }
    }
    if (c->nclient_ids == BM_CLIENT_IDS_MAX)
        return NULL; /* the caller shows a copy of its own */
    if (c->nclient_ids == c->capclient_ids) {
        size_t cap = c->capclient_ids ? c->capclient_ids * 2 : 4;
        struct bm_client_id *v = realloc(c->client_ids, cap * sizeof *v);
        if (!v)
            return NULL;
        c->client_ids = v;
        c->capclient_ids = cap;
    }
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    if (len)
        memcpy(s, id, len);
    s[len] = 0;
    c->client_ids[c->nclient_ids++] = (struct bm_client_id){ s, len };
    conn->client_id = c->nclient_ids;
    return s;
}

/* Takes one whole request frame of len bytes: decodes it (or, when pre is
 * not NULL, takes pre as its request, decoded by the caller from a
 * gathered frame whose first bytes are at frame), emits, injects, hands it
 * to its handler. Returns false if the connection was closed (and freed). */
static bool bm_conn_take_frame(bm_conn *conn, const uint8_t *frame, size_t len, kp_request *pre) {
    kp_request dec, *req = pre;
    kp_err err = KP_ERR_NONE;
    if (!req) {
        memset(&dec, 0, sizeof dec);
        kp_arena_reset(conn->arena);
        err = kp_request_frame_decode(frame, len, conn->arena, &dec);
        req = &dec;
    }
    bm_cluster *c = conn->c;
    char reason[160];
    if (err == KP_ERR__UNSUPPORTED) {
        if (req->hdr.api_key == KP_API_API_VERSIONS && req->hdr.api_version > KP_API_VERSIONS_MAX_VERSION) {
            /* KafkaApis.handleApiVersionsRequest: an unknown (newer)
             * version gets a v0 body with UNSUPPORTED_VERSION. */
            conn->nreq++;
            conn->busy = true;
            conn->api_key = req->hdr.api_key;
            conn->api_version = 0;
            conn->corr = req->hdr.correlation_id;
            kp_event ev = bm__ev(c, BM_EV_REQUEST, conn->broker);
            ev.api_key = req->hdr.api_key;
            ev.correlation_id = req->hdr.correlation_id;
            ev.value = req->hdr.api_version;
            ev.bytes = (int64_t)len;
            bm__emit(c, &ev);
            kp_writer w;
            kp_wr_init(&w, NULL, 0);
            kp_api_versions_unsupported_frame_encode(&w, conn->corr, kp_api_supported,
                                                     kp_api_supported_count);
            if (!bm_conn_resp_room(conn, w.len)) {
                bm_conn_fail(conn, "out of memory");
                return false;
            }
            conn->resp = conn->resp_buf;
            conn->resp_len = w.len;
            kp_wr_init(&w, conn->resp, conn->resp_len);
            kp_api_versions_unsupported_frame_encode(&w, conn->corr, kp_api_supported,
                                                     kp_api_supported_count);
            ev = bm__ev(c, BM_EV_ERROR, conn->broker);
            ev.api_key = req->hdr.api_key;
            ev.correlation_id = req->hdr.correlation_id;
            ev.err = KP_ERR_UNSUPPORTED_VERSION;
            ev.detail = "ApiVersions version above v2: v0 answer with the supported ranges";
            bm__emit(c, &ev);
            return true;
        }
        const kp_api_version *range = kp_api_supported_range(req->hdr.api_key);
        if (range)
            snprintf(reason, sizeof reason, "%s (api key %d) v%d not supported (v%d..v%d)",
                     kp_api_name(req->hdr.api_key), (int)req->hdr.api_key, (int)req->hdr.api_version,
                     (int)range->min_version, (int)range->max_version);
        else
            snprintf(reason, sizeof reason,
                     "%s (api key %d) v%d not implemented by broker_mock",
                     kp_api_name(req->hdr.api_key), (int)req->hdr.api_key, (int)req->hdr.api_version);
        bm_conn_fail(conn, reason);
        return false;
    }
    if (err != KP_ERR_NONE) {
        if (len >= 8)
            snprintf(reason, sizeof reason, "malformed request frame (%zu bytes, api key %d v%d): %s",
                     len, (int)(int16_t)kp_be16_get(frame + 4), (int)(int16_t)kp_be16_get(frame + 6),
                     kp_err_name(err));
        else
            snprintf(reason, sizeof reason, "malformed request frame (%zu bytes): %s", len,
                     kp_err_name(err));
        bm_conn_fail(conn, reason);
        return false;
    }
    conn->nreq++;
    conn->busy = true;
    conn->api_key = req->hdr.api_key;
    conn->api_version = req->hdr.api_version;
    conn->corr = req->hdr.correlation_id;
    char client_id[128];
    size_t cl = req->hdr.client_id.len > 0 ? (size_t)req->hdr.client_id.len : 0;
    if (cl >= sizeof client_id)
        cl = sizeof client_id - 1;
    kp_event ev = bm__ev(c, BM_EV_REQUEST, conn->broker);
    ev.api_key = req->hdr.api_key;
    ev.correlation_id = req->hdr.correlation_id;
    ev.value = req->hdr.api_version;
    ev.bytes = (int64_t)len;
    ev.detail = bm__client_id(conn, req->hdr.client_id.ptr, cl);
    if (!ev.detail) { /* no cluster copy (table full, no memory): a local one */
        if (cl)
            memcpy(client_id, req->hdr.client_id.ptr, cl);
        client_id[cl] = 0;
        ev.detail = client_id;
    }
    bm__emit(c, &ev);

    kp_err injected = KP_ERR_NONE;
    int64_t delay_us = 0;
    if (bm__inject_take(c, conn->broker, req->hdr.api_key, &injected, &delay_us)) {
        ev = bm__ev(c, BM_EV_INJECTED, conn->broker);
        ev.api_key = req->hdr.api_key;
        ev.correlation_id = req->hdr.correlation_id;
        ev.err = injected;
        ev.value = delay_us;
        bm__emit(c, &ev);
        conn->ready_at_us = bm__now(c) + delay_us;
        bm__wakeup(c);
    }
    const char *why = NULL;
    if (!bm__handle(conn, req, injected, &why)) {
        bm_conn_fail(conn, why ? why : "request refused");
        return false;
    }
    return true;
}

/* One pump (see the file comment) over the unread input src[*off, len):
 * conn->in, or the caller's bytes in bm_conn_feed's direct pass. Advances
 * *off past each frame taken. Returns false if the connection is gone. */
static bool bm_conn_pump_span(bm_conn *conn, const uint8_t *src, size_t len, size_t *off,
                              kp_time_us *deadline) {
    bm_cluster *c = conn->c;
    for (int guard = 0; guard < 1000000; guard++) {
        kp_time_us now = bm__now(c);
        if (conn->busy) {
            if (conn->wait)
                bm__handler_resume(conn, now);
            if (conn->wait) {
                if (deadline)
                    bm__min_deadline(deadline, conn->wait_deadline_us);
                return true;
            }
            if (now < conn->ready_at_us) {
                if (deadline)
                    bm__min_deadline(deadline, conn->ready_at_us);
                return true;
            }
            bm_conn_write_current(conn, now);
        }
        if (*off == len)
            return true;
        if (now < conn->mute_until_us) {
            if (deadline)
                bm__min_deadline(deadline, conn->mute_until_us);
            return true;
        }
        int64_t max = c->conf.socket_request_max_bytes;
        if (max > INT32_MAX)
            max = INT32_MAX;
        const uint8_t *in = src + *off;
        size_t flen = 0;
        kp_err e = kp_frame_peek(in, len - *off, (int32_t)max, &flen);
        if (e == KP_ERR__TRUNCATED)
            return true;
        if (e != KP_ERR_NONE) {
            char reason[128];
            snprintf(reason, sizeof reason,
                     "frame size %d outside 0..%lld (socket.request.max.bytes)",
                     (int)(int32_t)kp_be32_get(in), (long long)max);
            bm_conn_fail(conn, reason);
            return false;
        }
        if (flen < 4 + 8) {
            char reason[96];
            snprintf(reason, sizeof reason, "frame of %zu bytes is shorter than a request header",
                     flen - 4);
            bm_conn_fail(conn, reason);
            return false;
        }
        /* Decode in place, then step over the frame's bytes (no move:
         * conn->in's space is reclaimed when it runs empty or bm_conn_feed
         * needs room); the decoded request points into src only during
         * the handler. */
        if (!bm_conn_take_frame(conn, in, flen, NULL))
            return false;
        *off += flen;
    }
    return true;
}

/* Copies the first n held bytes of a keeping carrier to dst (n <= kept_len). */
static void bm_conn_kept_copy(bm_conn *conn, uint8_t *dst, size_t n) {
    size_t at = 0;
    while (at < n) {
        size_t run = 0;
        const uint8_t *p = conn->io.kept(conn->io_ctx, at, &run);
        if (!p || !run)
            break; /* cannot happen: n <= kept_len */
        if (run > n - at)
            run = n - at;
        memcpy(dst + at, p, run);
        at += run;
    }
}

/* Makes conn->in hold at least `need` bytes (its content is not kept). */
static bool bm_conn_in_room(bm_conn *conn, size_t need);

/* A whole frame of flen held bytes that lies across several of the
 * carrier's runs (not busy, not muted, its size valid): when its large
 * runs (BM_GATHER_MIN bytes or more, past the header) are exactly the
 * records of a Produce request's partitions -- a client's batches that
 * the carrier holds where the client lent them (simnet's
 * sn_conn_sendv_keep) -- only the bytes between them are copied into
 * conn->in and the request is decoded with its records in place
 * (kp_request_frame_decode_gathered), then taken and pumped on exactly as
 * the copied frame would be. Returns 1 when taken, 0 when not (nothing
 * done but the copies: the caller joins the frame), -1 when the
 * connection is gone. conn->in holds flen bytes. */
#define BM_GATHER_MIN 256
#define BM_GATHER_RUNS 64
static int bm_conn_take_gathered(bm_conn *conn, size_t flen, kp_time_us *deadline) {
    kp_wr_run runs[BM_GATHER_RUNS];
    int n = 0;
    size_t inl = 0;
    for (size_t off = 0; off < flen;) {
        size_t run = 0;
        const uint8_t *p = conn->io.kept(conn->io_ctx, off, &run);
        if (!p || !run)
            return 0; /* cannot happen: flen <= kept_len */
        if (run > flen - off)
            run = flen - off;
        if (off >= 4 + 8 && run >= BM_GATHER_MIN && n < BM_GATHER_RUNS) {
            runs[n++] = (kp_wr_run){ inl, p, run };
        } else {
            memcpy(conn->in + inl, p, run);
            inl += run;
        }
        off += run;
    }
    if (!n)
        return 0;
    kp_request req;
    memset(&req, 0, sizeof req);
    kp_arena_reset(conn->arena);
    if (!kp_request_frame_decode_gathered(conn->in, inl, runs, n, conn->arena, &req))
        return 0;
    if (!bm_conn_take_frame(conn, conn->in, flen, &req))
        return -1;
    /* what the pump does after taking a frame: the request in progress */
    size_t none = 0;
    return bm_conn_pump_span(conn, NULL, 0, &none, deadline) ? 1 : -1;
}

static bool bm_conn_in_room(bm_conn *conn, size_t need) {
    if (need <= conn->in_cap)
        return true;
    size_t cap = conn->in_cap ? conn->in_cap : 4096;
    while (cap < need)
        cap *= 2;
    uint8_t *p = malloc(cap);
    if (!p)
        return false;
    free(conn->in);
    conn->in = p;
    conn->in_cap = cap;
    return true;
}

/* One pump over a keeping carrier's held bytes: run by run, each run
 * pumped where it lies (bm_conn_pump_span, the same loop as over conn->in)
 * and the frames taken released. Only a frame that lies across two runs
 * (the carrier's ring wraps) is copied, into conn->in, and taken there.
 * Returns false if the connection is gone. */
static bool bm_conn_pump_kept(bm_conn *conn, const uint8_t *first, kp_time_us *deadline) {
    for (;;) {
        size_t n = 0;
        const uint8_t *p;
        if (first) { /* the caller's run: all that is held */
            p = first;
            n = conn->kept_len;
            first = NULL;
        } else {
            p = conn->kept_len ? conn->io.kept(conn->io_ctx, 0, &n) : NULL;
        }
        if (!p)
            n = 0;
        size_t off = 0;
        if (!bm_conn_pump_span(conn, p, n, &off, deadline))
            return false;
        if (off) {
            conn->io.release(conn->io_ctx, off);
            conn->kept_len -= off;
        }
        /* stopped by a request in progress (deadline noted by the pump):
         * the same stop as over one contiguous buffer */
        if (conn->busy || !conn->kept_len)
            return true;
        if (off == n) {
            if (!n)
                return true; /* cannot happen: the carrier holds kept_len bytes */
            continue; /* this run all taken: the next one (the ring wrapped) */
        }
        if (bm__now(conn->c) < conn->mute_until_us)
            return true; /* muted (deadline noted by the pump) */
        /* a frame not whole in this run: wait for its bytes unless the
         * held bytes go on past the run (they wrap around the ring) */
        if (conn->kept_len == n - off)
            return true;
        uint8_t hdr[4];
        if (conn->kept_len < sizeof hdr)
            return true;
        bm_conn_kept_copy(conn, hdr, sizeof hdr);
        int64_t max = conn->c->conf.socket_request_max_bytes;
        if (max > INT32_MAX)
            max = INT32_MAX;
        size_t flen = 0;
        kp_err e = kp_frame_peek(hdr, sizeof hdr, (int32_t)max, &flen);
        if (e != KP_ERR_NONE && e != KP_ERR__TRUNCATED)
            flen = sizeof hdr; /* the pump refuses it, with its reason */
        if (flen > conn->kept_len)
            return true; /* not all there yet */
        if (!bm_conn_in_room(conn, flen)) {
            bm_conn_fail(conn, "out of memory for input");
            return false;
        }
        bool size_ok = e == KP_ERR_NONE || e == KP_ERR__TRUNCATED; /* (of the 4 bytes) */
        int g = size_ok && flen >= 4 + 8 ? bm_conn_take_gathered(conn, flen, deadline) : 0;
        if (g < 0)
            return false;
        if (g > 0) {
            conn->io.release(conn->io_ctx, flen);
            conn->kept_len -= flen;
            continue;
        }
        bm_conn_kept_copy(conn, conn->in, flen);
        conn->in_off = conn->in_len = 0;
        size_t foff = 0;
        if (!bm_conn_pump_span(conn, conn->in, flen, &foff, deadline))
            return false;
        if (!foff)
            return true; /* cannot happen: a whole frame, neither busy nor muted */
        conn->io.release(conn->io_ctx, foff);
        conn->kept_len -= foff;
    }
}

/* One pump over conn->in. Returns false if the connection is gone. */
static bool bm_conn_pump(bm_conn *conn, kp_time_us *deadline) {
    if (conn->kept_len) /* a keeping carrier holds input (conn->in is empty then) */
        return bm_conn_pump_kept(conn, NULL, deadline);
    size_t off = conn->in_off;
    if (!bm_conn_pump_span(conn, conn->in, conn->in_len, &off, deadline))
        return false;
    conn->in_off = off;
    if (conn->in_off == conn->in_len)
        conn->in_off = conn->in_len = 0;
    return true;
}

void bm_conn_feed(bm_conn *conn, const uint8_t *bytes, size_t len) {
    if (!conn || len == 0)
        return;
    bm_cluster *c = conn->c;
    c->now = bm__now(c);
    size_t limit = (size_t)c->conf.socket_request_max_bytes + 4;
    size_t unread = conn->in_len - conn->in_off;
    /* Several frames may be queued while one is in progress; bound what
     * one connection may hold (checked when the buffer would have to grow). */
    if (unread + len > conn->in_cap && unread + len > 2 * limit) {
        bm_conn_fail(conn, "input backlog above twice socket.request.max.bytes");
        return;
    }
    bool direct = unread == 0;
    if (direct) {
        /* Nothing buffered: take whole frames straight from the caller's
         * bytes (the same pump that would run over conn->in, stopping at
         * the same frame) and buffer only what it left: a partial frame,
         * or frames behind a request in progress or a throttle mute. */
        size_t off = 0;
        if (!bm_conn_pump_span(conn, bytes, len, &off, NULL))
            return;
        bytes += off;
        len -= off;
        if (len == 0)
            return;
    }
    if (conn->in_len + len > conn->in_cap) {
        /* No room at the end. Move the unread bytes to the front when that
         * frees enough and moves no more than the taken frames it
         * reclaims (so each byte is moved at most once on average);
         * otherwise double, copying only the unread bytes. The capacity
         * stays below four times the largest unread + incoming amount. */
        if (unread <= conn->in_off && unread + len <= conn->in_cap) {
            memmove(conn->in, conn->in + conn->in_off, unread);
        } else {
            size_t ncap = conn->in_cap ? conn->in_cap * 2 : 4096;
            while (ncap < unread + len)
                ncap *= 2;
            uint8_t *p = malloc(ncap);
            if (!p) {
                bm_conn_fail(conn, "out of memory for input");
                return;
            }
            if (unread)
                memcpy(p, conn->in + conn->in_off, unread);
            free(conn->in);
            conn->in = p;
            conn->in_cap = ncap;
        }
        conn->in_off = 0;
        conn->in_len = unread;
    }
    memcpy(conn->in + conn->in_len, bytes, len);
    conn->in_len += len;
    if (!direct) /* the direct pass already stopped where this pump would */
        bm_conn_pump(conn, NULL);
}

void bm_conn_feed_kept(bm_conn *conn, const uint8_t *bytes, size_t n) {
    if (!conn || n == 0)
        return;
    bm_cluster *c = conn->c;
    c->now = bm__now(c);
    size_t limit = (size_t)c->conf.socket_request_max_bytes + 4;
    /* the bound bm_conn_feed puts on one connection's backlog */
    if (conn->kept_len + n > 2 * limit) {
        bm_conn_fail(conn, "input backlog above twice socket.request.max.bytes");
        return;
    }
    /* nothing held before: the bytes just kept are the whole held run */
    const uint8_t *first = conn->kept_len ? NULL : bytes;
    conn->kept_len += n;
    bm_conn_pump_kept(conn, first, NULL);
}

void bm__conn_poll(bm_conn *conn, kp_time_us *deadline) {
    bm_conn_pump(conn, deadline);
}
