/*
 * kp_network_client.c — NetworkClient, ClusterConnectionStates,
 * InFlightRequests and ApiVersions of kafka-clients 2.1 (see the header
 * for the model, the frame layout and the invariants).
 *
 * Sections: connection table · ClusterConnectionStates · InFlightRequests ·
 * framing and I/O · poll phases · public queries.
 */
#include "kp_network_client.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_arena.h"
#include "kp_events.h"
#include "kp_proto.h"

/* ------------------------------------------------------------------ */
/* Types                                                               */
/* ------------------------------------------------------------------ */

/* Gather writes (kp_nc_flush_gather): at most this many referenced byte
 * runs per frame (more are copied), and runs shorter than MIN bytes are
 * copied (an iov piece costs more than copying a small batch). */
#define KP_NC_GATHER_RUNS 64
#define KP_NC_GATHER_MIN 256

/* One in-flight request (Java NetworkClient.InFlightRequest). */
typedef struct kp_nc_req {
    int32_t corr;
    int16_t api_key;
    int16_t api_version;
    bool expect_response;
    int64_t send_ms;
    int64_t timeout_ms;
    kp_request_done_cb *done;
    void *done_ctx;
} kp_nc_req;

typedef struct kp_nc_conn {
    int32_t id;
    char *host;
    int32_t port;
    kp_conn_status status;
    kp_conn *conn;                 /* transport handle while not DISCONNECTED */
    bool ever_attempted;
    int64_t last_connect_attempt_ms;
    int failed_attempts;
    int64_t reconnect_backoff_ms;
    int64_t throttle_until_ms;
    bool versions_known;
    int16_t api_min[KP_NC_MAX_API_KEY];
    int16_t api_max[KP_NC_MAX_API_KEY]; /* -1: broker lacks the API */
    int16_t api_versions_req_version;   /* what we sent (fallback to 0) */
    /* output: at most one frame (Java: one send in progress) */
    uint8_t *out;
    size_t out_len, out_off, out_cap;
    /* input: bytes read, parsed from in_off */
    uint8_t *in;
    size_t in_len, in_off, in_cap;
    bool pending_close;            /* close after this poll's receives */
    int64_t last_active_ms;        /* last connect, send or receive */
    bool pending_timeout;
    /* in-flight ring, oldest at head */
    kp_nc_req *ring;
    int head, count;
    /* The earliest idle or request deadline of this connection (the
     * poll's closing walk), valid unless dl_stale: every change to status,
     * the ring or last_active_ms sets dl_stale (kp_nc_touch). */
    int64_t dl;
    bool dl_stale;
    /* quiet implies a transport handle, a status other than DISCONNECTED
     * and "locally idle" (see kp_nc_locally_idle), and is only ever set
     * when the transport has the pending op; any change to the state it
     * reads clears it (kp_nc_touch), as does the poll once it handled the
     * connection. False only costs the full test. */
    bool quiet;
} kp_nc_conn;

/* A completed request waiting for its callback at the end of poll. */
typedef struct kp_nc_done {
    kp_request_done_cb *cb;
    void *ctx;
    kp_client_response resp;
} kp_nc_done;

struct kp_netclient {
    kp_env env;
    char *client_id;
    kp_slice client_id_s;           /* client_id as every frame writes it */
    int max_in_flight;
    int64_t reconnect_backoff_ms, reconnect_backoff_max_ms;
    double reconnect_backoff_max_exp;
    int64_t request_timeout_ms;
    int64_t max_idle_ms;
    bool discover_versions;
    int16_t client_max[KP_NC_MAX_API_KEY];
    int32_t next_corr;
    const kp_metadata_updater_ops *upd;
    void *upd_ctx;
    kp_nc_conn *conns[KP_NC_MAX_NODES];
    int nconns;
    kp_nc_done *done;               /* completions of this poll */
    int ndone, done_cap;
    kp_nc_done *aborted;            /* version mismatches (abortedSends) */
    int naborted, aborted_cap;
    kp_node nodes_scratch[KP_NC_MAX_NODES];
    kp_arena *arena;                /* ApiVersions decoding */
    int in_flight;                  /* sum of the connections' counts */
    /* No idle connection and no in-flight request expires before this
     * time (ms): poll skips its idle and timeout walks until then. Set
     * exactly by each poll's final walk, only ever lowered in between
     * (kp_nc_note_deadline), so it is never later than the truth. */
    int64_t walk_at;
    /* Some connection was touched (kp_nc_touch) since the poll's closing
     * walk: until then every connection's dl is current, no input buffer
     * has a consumed prefix, and walk_at is their minimum, so the walk
     * would find nothing to do. */
    bool walk_dirty;
    /* The transport's generation (kp_transport.generation) read at the
     * start of the last poll (gen_valid: a poll has read it). While it
     * reads the same, no quiet connection can have become pending since
     * that poll found it not pending (or skipped it the same way), so the
     * poll skips asking the transport about it. */
    uint64_t gen_seen;
    bool gen_valid;
    /* Every connection was quiet, or DISCONNECTED or without a handle
     * (which the poll's loop skips too), when the last poll's loop ended;
     * cleared by kp_nc_touch, the only way out of both. With an unchanged
     * generation the loop would then skip every connection: it is not
     * walked at all. (A connection added to the table is DISCONNECTED.) */
    bool loop_idle;
    /* The gather list of the frame being sent (kp_nc_do_send): batch
     * bytes a Produce encoder referenced (kp_wr_bytes_ref) instead of
     * copying. Used within one kp_nc_do_send only: by its return the
     * frame is written out or joined into the connection's buffer. */
    kp_wr_run gather_runs[KP_NC_GATHER_RUNS];
    kp_wr_gather gather;
};

static const char *const kp_status_names[] = {
    "DISCONNECTED", "CONNECTING", "CHECKING_API_VERSIONS", "READY"
};

const char *kp_conn_status_name(kp_conn_status s) {
    return (unsigned)s < 4 ? kp_status_names[s] : "?";
}

static int64_t kp_nc_now_us(const kp_netclient *nc) {
    return kp_clock_now_us(&nc->env.clock);
}

static void kp_nc_emit(kp_netclient *nc, int kind, int32_t node, int32_t corr,
                       int16_t api_key, kp_err err, int64_t value, const char *detail) {
    kp_event ev;
    kp_event_init(&ev, kind, 0);
    ev.node = node;
    ev.correlation_id = corr;
    ev.api_key = api_key;
    ev.err = err;
    ev.value = value;
    ev.detail = detail;
    /* the clock last: its read may be a call, and then no argument is
     * live across it (read first, it kept six registers saved per event) */
    ev.time_us = kp_nc_now_us(nc);
    kp_observer_emit(&nc->env.observer, &ev);
}

/* A peer broke the protocol and the connection is about to be closed:
 * DISCONNECTED with err _BAD_MSG, bytes = the size of the frame refused
 * (as read: any value, -1 included), detail = what was wrong. */
static void kp_nc_emit_violation(kp_netclient *nc, const kp_nc_conn *c, int32_t corr, int32_t size,
                                 const char *detail) {
    kp_event ev;
    kp_event_init(&ev, KP_EV_DISCONNECTED, kp_nc_now_us(nc));
    ev.node = c->id;
    ev.correlation_id = corr;
    ev.err = KP_ERR__BAD_MSG;
    ev.bytes = size;
    ev.detail = detail;
    kp_observer_emit(&nc->env.observer, &ev);
}

/* ------------------------------------------------------------------ */
/* Connection table                                                    */
/* ------------------------------------------------------------------ */

static kp_nc_conn *kp_nc_find(const kp_netclient *nc, int32_t id) {
    for (int i = 0; i < nc->nconns; i++)
        if (nc->conns[i]->id == id)
            return nc->conns[i];
    return NULL;
}

/* Every change to a connection's status, in-flight ring, buffers,
 * pending_close or last_active_ms goes through here: its deadline is
 * recomputed and its quiet mark dropped at the next poll. */
static void kp_nc_touch(kp_netclient *nc, kp_nc_conn *c) {
    c->dl_stale = true;
    c->quiet = false;
    nc->walk_dirty = true;
    nc->loop_idle = false;
}

static kp_nc_conn *kp_nc_get(kp_netclient *nc, const kp_node *node) {
    kp_nc_conn *c = kp_nc_find(nc, node->id);
    if (c) {
        if (node->host && (!c->host || strcmp(c->host, node->host) != 0)) {
            char *h = strdup(node->host);
            if (h) {
                free(c->host);
                c->host = h;
            }
        }
        c->port = node->port;
        return c;
    }
    if (nc->nconns >= KP_NC_MAX_NODES)
        return NULL;
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->ring = calloc((size_t)nc->max_in_flight, sizeof *c->ring);
    c->host = strdup(node->host ? node->host : "");
    if (!c->ring || !c->host) {
        free(c->ring);
        free(c->host);
        free(c);
        return NULL;
    }
    c->id = node->id;
    c->port = node->port;
    c->status = KP_NODE_DISCONNECTED;
    c->reconnect_backoff_ms = nc->reconnect_backoff_ms;
    kp_nc_touch(nc, c);
    nc->conns[nc->nconns++] = c;
    return c;
}

static void kp_nc_note_deadline(kp_netclient *nc, int64_t at) {
    if (at < nc->walk_at)
        nc->walk_at = at;
}

/* A connection that is READY with nothing in flight may expire idle at
 * last_active + connections.max.idle.ms (+1: the test is '>'). */
static void kp_nc_note_idle(kp_netclient *nc, const kp_nc_conn *c) {
    if (nc->max_idle_ms > 0 && c->status == KP_NODE_READY && c->count == 0)
        kp_nc_note_deadline(nc, c->last_active_ms + nc->max_idle_ms + 1);
}

/* The one setter of a connection's state (STYLE: state machines have one
 * setter): checks the transition and emits OLD -> NEW. */
static void kp_nc_set_status(kp_netclient *nc, kp_nc_conn *c, kp_conn_status to, kp_err err) {
    kp_conn_status from = c->status;
    if (from == to)
        return;
    switch (to) {
    case KP_NODE_CONNECTING: assert(from == KP_NODE_DISCONNECTED); break;
    case KP_NODE_CHECKING_API_VERSIONS: assert(from == KP_NODE_CONNECTING); break;
    case KP_NODE_READY: assert(from == KP_NODE_CONNECTING || from == KP_NODE_CHECKING_API_VERSIONS); break;
    case KP_NODE_DISCONNECTED: break;
    }
    c->status = to;
    kp_nc_touch(nc, c);
    kp_nc_note_idle(nc, c);
    kp_event ev;
    kp_event_init(&ev, KP_EV_CONN_STATE, kp_nc_now_us(nc));
    ev.node = c->id;
    ev.err = err;
    ev.value = to;
    char detail[64];
    snprintf(detail, sizeof detail, "%s -> %s", kp_conn_status_name(from), kp_conn_status_name(to));
    ev.detail = detail;
    kp_observer_emit(&nc->env.observer, &ev);
}

/* ------------------------------------------------------------------ */
/* ClusterConnectionStates                                             */
/* ------------------------------------------------------------------ */

/* ClusterConnectionStates.updateReconnectBackoff */
static void kp_nc_update_backoff(kp_netclient *nc, kp_nc_conn *c) {
    if (nc->reconnect_backoff_max_ms > nc->reconnect_backoff_ms) {
        c->failed_attempts++;
        double e = (double)(c->failed_attempts - 1);
        if (e > nc->reconnect_backoff_max_exp)
            e = nc->reconnect_backoff_max_exp;
        int64_t b = (int64_t)((double)nc->reconnect_backoff_ms * pow(2.0, e));
        double jitter = 0.8 + 0.4 * kp_rng_double(&nc->env.rng);
        c->reconnect_backoff_ms = (int64_t)(jitter * (double)b);
    }
}

/* ClusterConnectionStates.resetReconnectBackoff (on ready) */
static void kp_nc_reset_backoff(kp_netclient *nc, kp_nc_conn *c) {
    c->failed_attempts = 0;
    c->reconnect_backoff_ms = nc->reconnect_backoff_ms;
}

/* ClusterConnectionStates.canConnect */
static bool kp_nc_can_connect(const kp_nc_conn *c, int64_t now) {
    if (!c || !c->ever_attempted)
        return true;
    return c->status == KP_NODE_DISCONNECTED &&
           now - c->last_connect_attempt_ms >= c->reconnect_backoff_ms;
}

/* ClusterConnectionStates.isBlackedOut */
static bool kp_nc_blacked_out(const kp_nc_conn *c, int64_t now) {
    if (!c || !c->ever_attempted)
        return false;
    return c->status == KP_NODE_DISCONNECTED &&
           now - c->last_connect_attempt_ms < c->reconnect_backoff_ms;
}

/* ClusterConnectionStates.connectionDelay */
static int64_t kp_nc_conn_delay(const kp_nc_conn *c, int64_t now) {
    if (!c || !c->ever_attempted)
        return 0;
    if (c->status == KP_NODE_DISCONNECTED) {
        int64_t left = c->reconnect_backoff_ms - (now - c->last_connect_attempt_ms);
        return left > 0 ? left : 0;
    }
    return INT64_MAX;
}

static void kp_nc_conn_cb(void *ctx, kp_conn *conn, kp_conn_event ev, kp_err err) {
    (void)conn; (void)ev; (void)err;
    kp_netclient *nc = ctx;
    /* Work happens in poll (Java: the selector reports, poll handles). */
    if (nc->env.wakeup)
        nc->env.wakeup(nc->env.wakeup_ctx);
}

/* NetworkClient.initiateConnect */
static void kp_nc_initiate_connect(kp_netclient *nc, kp_nc_conn *c, int64_t now) {
    c->ever_attempted = true;
    c->last_connect_attempt_ms = now;
    c->last_active_ms = now;
    kp_nc_touch(nc, c);
    c->versions_known = false;
    kp_nc_set_status(nc, c, KP_NODE_CONNECTING, KP_ERR_NONE);
    c->conn = nc->env.transport.connect(nc->env.transport.ctx, c->host, c->port, kp_nc_conn_cb, nc);
    if (!c->conn) {
        /* local failure: like an IOException in connect -> disconnected */
        kp_nc_set_status(nc, c, KP_NODE_DISCONNECTED, KP_ERR__TRANSPORT);
        kp_nc_update_backoff(nc, c);
        if (nc->upd && nc->upd->request_update)
            nc->upd->request_update(nc->upd_ctx);
    }
}

/* ------------------------------------------------------------------ */
/* InFlightRequests                                                    */
/* ------------------------------------------------------------------ */

static kp_nc_req *kp_nc_ring_at(kp_nc_conn *c, int i, int cap) {
    int k = c->head + i; /* head < cap and i < count <= cap */
    return &c->ring[k >= cap ? k - cap : k];
}


static kp_nc_done *kp_nc_push_done(kp_nc_done **arr, int *n, int *cap) {
    if (*n == *cap) {
        int ncap = *cap ? *cap * 2 : 16;
        kp_nc_done *p = realloc(*arr, (size_t)ncap * sizeof *p);
        if (!p)
            abort(); /* cannot lose a completion: exactly-once callbacks */
        *arr = p;
        *cap = ncap;
    }
    kp_nc_done *d = &(*arr)[(*n)++];
    memset(d, 0, sizeof *d);
    return d;
}

static void kp_nc_fill_resp(kp_client_response *r, const kp_nc_conn *c, const kp_nc_req *q, int64_t now) {
    r->node = c->id;
    r->api_key = q->api_key;
    r->api_version = q->api_version;
    r->correlation_id = q->corr;
    r->created_ms = q->send_ms;
    r->received_ms = now;
}

/* ------------------------------------------------------------------ */
/* Disconnection (NetworkClient.processDisconnection)                  */
/* ------------------------------------------------------------------ */

static void kp_nc_process_disconnection(kp_netclient *nc, kp_nc_conn *c, int64_t now,
                                        bool timed_out, kp_err why) {
    if (c->conn) {
        nc->env.transport.close(nc->env.transport.ctx, c->conn);
        c->conn = NULL;
    }
    if (c->status == KP_NODE_DISCONNECTED)
        return;
    c->last_connect_attempt_ms = now;
    kp_nc_set_status(nc, c, KP_NODE_DISCONNECTED, why);
    kp_nc_update_backoff(nc, c);
    c->versions_known = false;
    c->pending_close = false;
    c->out_len = c->out_off = 0;
    /* unparsed input of a dead connection is dropped; frames parsed from
     * it this poll keep pointing into c->in, whose bytes stay in place
     * until the next read, which comes after the callbacks */
    c->in_len = c->in_off = 0;
    for (int i = 0; i < c->count; i++) {
        kp_nc_req *q = kp_nc_ring_at(c, i, nc->max_in_flight);
        kp_nc_done *d = kp_nc_push_done(&nc->done, &nc->ndone, &nc->done_cap);
        d->cb = q->done;
        d->ctx = q->done_ctx;
        kp_nc_fill_resp(&d->resp, c, q, now);
        d->resp.disconnected = true;
        d->resp.timed_out = timed_out;
    }
    nc->in_flight -= c->count;
    c->count = 0;
    c->head = 0;
    kp_nc_touch(nc, c);
    kp_nc_emit(nc, KP_EV_DISCONNECTED, c->id, -1, -1, why, timed_out ? 1 : 0,
               timed_out ? "NetworkClient.handleTimedOutRequests" : "NetworkClient.processDisconnection");
}

/* ------------------------------------------------------------------ */
/* Framing and I/O                                                     */
/* ------------------------------------------------------------------ */

/* Makes *buf hold at least need bytes, keeping its first `keep` (<= the
 * old capacity). A larger buffer is a fresh one that gets only those
 * bytes, not the old capacity: realloc copies the whole old block,
 * writing (so faulting in) pages no byte was ever put in. */
static bool kp_nc_grow(uint8_t **buf, size_t *cap, size_t need, size_t keep) {
    size_t ncap = *cap ? *cap : 4096;
    while (ncap < need)
        ncap *= 2;
    uint8_t *p = malloc(ncap);
    if (!p)
        return false;
    if (keep)
        memcpy(p, *buf, keep);
    free(*buf);
    *buf = p;
    *cap = ncap;
    return true;
}

static inline bool kp_nc_reserve(uint8_t **buf, size_t *cap, size_t need, size_t keep) {
    return need <= *cap || kp_nc_grow(buf, cap, need, keep);
}

/* Writes as much of the pending frame as the transport takes. Returns
 * false when the connection is closed. */
static bool kp_nc_flush(kp_netclient *nc, kp_nc_conn *c) {
    while (c->out_off < c->out_len) {
        ssize_t n = nc->env.transport.send(nc->env.transport.ctx, c->conn, c->out + c->out_off,
                                           c->out_len - c->out_off);
        if (n < 0)
            return false;
        if (n == 0)
            break;
        c->out_off += (size_t)n;
    }
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    return true;
}

/* Room kept for input before each recv. Responses are small (a Produce
 * answer is ~100 bytes), so the buffer stays at its first 16 KB unless a
 * response or a backlog needs more. */
#define KP_NC_READ_ROOM 16384

/* Reads everything available. Returns false when closed. */
static bool kp_nc_read(kp_netclient *nc, kp_nc_conn *c) {
    if (nc->env.transport.pending && !nc->env.transport.pending(nc->env.transport.ctx, c->conn))
        return true; /* recv would find nothing */
    for (int rounds = 0; rounds < 1024; rounds++) {
        if (!kp_nc_reserve(&c->in, &c->in_cap, c->in_len + KP_NC_READ_ROOM, c->in_len))
            return false;
        ssize_t n = nc->env.transport.recv(nc->env.transport.ctx, c->conn, c->in + c->in_len,
                                           c->in_cap - c->in_len);
        if (n < 0)
            return false;
        if (n == 0)
            return true;
        c->in_len += (size_t)n;
        /* a short read took everything there was: the pending op says
         * whether a recv now would do anything (a close, a window update),
         * for less than that recv (once per response) */
        if (c->in_len < c->in_cap && nc->env.transport.pending &&
            !nc->env.transport.pending(nc->env.transport.ctx, c->conn))
            return true;
    }
    return true;
}

static int16_t kp_nc_pick_version(const kp_netclient *nc, const kp_nc_conn *c, int16_t api_key,
                                  int16_t min_v, int16_t max_v) {
    int16_t hi = max_v;
    if (api_key >= 0 && api_key < KP_NC_MAX_API_KEY && nc->client_max[api_key] >= 0 &&
        nc->client_max[api_key] < hi)
        hi = nc->client_max[api_key];
    if (!nc->discover_versions || !c->versions_known)
        return hi >= min_v ? hi : -1;
    if (api_key < 0 || api_key >= KP_NC_MAX_API_KEY || c->api_max[api_key] < 0)
        return -1;
    if (c->api_max[api_key] < hi)
        hi = c->api_max[api_key];
    int16_t lo = min_v > c->api_min[api_key] ? min_v : c->api_min[api_key];
    return hi >= lo ? hi : -1;
}

typedef struct kp_nc_frame_ctx {
    kp_slice client_id;
    int16_t api_key, version;
    int32_t corr;
    kp_request_encode_fn *encode;
    void *encode_ctx;
} kp_nc_frame_ctx;

static bool kp_nc_write_frame(kp_writer *w, const kp_nc_frame_ctx *f) {
    size_t size_at = kp_wr_reserve_i32(w);
    kp_wr_i16(w, f->api_key);
    kp_wr_i16(w, f->version);
    kp_wr_i32(w, f->corr);
    kp_wr_string(w, f->client_id);
    if (f->encode && !f->encode(f->encode_ctx, w, f->version))
        return false;
    kp_wr_patch_i32(w, size_at, (int32_t)(kp_wr_total(w) - size_at - 4));
    return true;
}

/* A writer into buf[0, cap) with the netclient's gather list (emptied)
 * attached when g is not NULL. */
static void kp_nc_wr_init(kp_writer *w, void *buf, size_t cap, kp_wr_gather *g) {
    kp_wr_init(w, buf, cap);
    if (g) {
        g->n = 0;
        g->bytes = 0;
        w->gather = g;
    }
}

/* Joins a gathered frame in place: out[0, inl) holds the bytes written,
 * the runs of g go between them; afterwards out[0, inl + g->bytes) is the
 * whole frame (out has room for it). The written pieces move right, last
 * first, then each run is copied into its gap. */
static void kp_nc_join(uint8_t *out, size_t inl, const kp_wr_gather *g) {
    size_t shift = g->bytes, end = inl;
    for (int i = g->n - 1; i >= 0; i--) {
        size_t at = g->runs[i].at;
        memmove(out + at + shift, out + at, end - at);
        shift -= g->runs[i].len;
        memcpy(out + at + shift, g->runs[i].ptr, g->runs[i].len);
        end = at;
    }
}

/* kp_nc_flush for a gathered frame of `need` bytes (inl of them in c->out,
 * the rest in g's runs; c->out has room for need): one gather write. What
 * the transport did not take is joined into c->out, so nothing refers to
 * the runs' memory after the return; from there on it is kp_nc_flush's
 * loop, with the same calls and results as for a contiguous frame. */
static bool kp_nc_flush_gather(kp_netclient *nc, kp_nc_conn *c, size_t inl, size_t need,
                               const kp_wr_gather *g, bool lend) {
    kp_iov iov[2 * KP_NC_GATHER_RUNS + 1];
    int k = 0;
    uint64_t runs = 0; /* bit i: iov[i] is a run */
    size_t at = 0;
    for (int i = 0; i < g->n; i++) {
        if (g->runs[i].at > at)
            iov[k++] = (kp_iov){ c->out + at, g->runs[i].at - at };
        runs |= (uint64_t)1 << (k & 63);
        iov[k++] = (kp_iov){ g->runs[i].ptr, g->runs[i].len };
        at = g->runs[i].at;
    }
    if (inl > at)
        iov[k++] = (kp_iov){ c->out + at, inl - at };
    ssize_t n = lend ? nc->env.transport.sendv_keep(nc->env.transport.ctx, c->conn, iov, k, (uint32_t)runs)
                     : nc->env.transport.sendv(nc->env.transport.ctx, c->conn, iov, k);
    if (n == (ssize_t)need)
        return true; /* all written: out_len stays 0 */
    kp_nc_join(c->out, inl, g);
    c->out_len = need;
    c->out_off = n > 0 ? (size_t)n : 0;
    if (n < 0)
        return false;
    if (n == 0)
        return true;
    return kp_nc_flush(nc, c);
}

/* NetworkClient.doSend once the version is known: frames the request into
 * the connection's output and registers it in flight. */
static int32_t kp_nc_do_send(kp_netclient *nc, kp_nc_conn *c, int16_t api_key, int16_t version,
                             kp_request_encode_fn *encode, void *encode_ctx, bool expect_response,
                             int64_t timeout_ms, kp_request_done_cb *done, void *done_ctx, int64_t now) {
    kp_nc_frame_ctx f = { nc->client_id_s, api_key, version, nc->next_corr, encode, encode_ctx };
    /* Straight into the output buffer's free room (the buffer keeps the
     * size of the largest frame so far, so this nearly always fits); when
     * it did not, the writer still counted the size: grow, write again.
     * Bytes past out_len count only once out_len moves. With a gather
     * write in the transport and no frame pending, large byte fields
     * (Produce's batches) are not copied into the buffer but sent from
     * where they lie (kp_nc_flush_gather); the buffer still gets room for
     * the whole frame, for the part a short write leaves. */
    kp_wr_gather *g = nc->env.transport.sendv && c->out_len == 0 ? &nc->gather : NULL;
    kp_writer w;
    kp_nc_wr_init(&w, c->out ? c->out + c->out_len : NULL, c->out_cap - c->out_len, g);
    if (!kp_nc_write_frame(&w, &f) || kp_wr_total(&w) > KP_NC_MAX_FRAME)
        return -1;
    size_t inl = w.len, need = kp_wr_total(&w);
    if (!w.buf || w.err) {
        if (!kp_nc_reserve(&c->out, &c->out_cap, c->out_len + need, c->out_len))
            return -1;
        kp_nc_wr_init(&w, c->out + c->out_len, inl, g);
        if (!kp_nc_write_frame(&w, &f) || w.err || w.len != inl || kp_wr_total(&w) != need)
            return -1;
    } else if (need > inl && !kp_nc_reserve(&c->out, &c->out_cap, need, inl)) {
        return -1; /* keeps the bytes written (out_len is 0) */
    }
    bool gathered = g && g->n > 0;
    if (!gathered)
        c->out_len += need;
    nc->next_corr = nc->next_corr == INT32_MAX ? 0 : nc->next_corr + 1;
    int idx = (c->head + c->count) % nc->max_in_flight;
    kp_nc_req *q = &c->ring[idx];
    q->corr = f.corr;
    q->api_key = api_key;
    q->api_version = version;
    q->expect_response = expect_response;
    q->send_ms = now;
    q->timeout_ms = timeout_ms;
    q->done = done;
    q->done_ctx = done_ctx;
    c->count++;
    nc->in_flight++;
    c->last_active_ms = now;
    kp_nc_touch(nc, c);
    kp_nc_note_deadline(nc, now + timeout_ms + 1);
    kp_nc_emit(nc, KP_EV_REQUEST_SENT, c->id, f.corr, api_key, KP_ERR_NONE, (int64_t)need,
               "NetworkClient.doSend");
    /* A request that gets a response may lend its batches to the
     * transport (kp_transport.sendv_keep): the sender keeps a request's
     * batches unchanged until its response or its disconnection, which
     * closes the connection first (kp_nc_process_disconnection), and the
     * broker has read the request before it answers. An acks=0 request
     * completes when written, so its batches are copied. Only the first
     * 32 pieces can be lent (the keep mask). */
    bool lend = gathered && expect_response && nc->env.transport.sendv_keep && nc->env.transport.reclaim &&
                2 * g->n + 1 <= 32;
    if (!(gathered ? kp_nc_flush_gather(nc, c, inl, need, g, lend) : kp_nc_flush(nc, c)))
        c->pending_close = true; /* touched above */
    return f.corr;
}

/* ------------------------------------------------------------------ */
/* ApiVersions (NetworkClient.handleApiVersionsResponse)               */
/* ------------------------------------------------------------------ */

static void kp_nc_api_versions_done(void *ctx, const kp_client_response *r);

static void kp_nc_send_api_versions(kp_netclient *nc, kp_nc_conn *c, int16_t version, int64_t now) {
    c->api_versions_req_version = version;
    int32_t corr = kp_nc_do_send(nc, c, KP_API_API_VERSIONS, version, NULL, NULL, true,
                                 nc->request_timeout_ms, kp_nc_api_versions_done, nc, now);
    if (corr < 0) {
        c->pending_close = true;
        kp_nc_touch(nc, c);
    }
}

/* NetworkClient.handleApiVersionsResponse. Response body: see
 * protocol/kp_msg_api_versions.h (error_code, [api_key, min, max],
 * throttle_time_ms v1+). */
static void kp_nc_api_versions_done(void *ctx, const kp_client_response *r) {
    kp_netclient *nc = ctx;
    kp_nc_conn *c = kp_nc_find(nc, r->node);
    if (!c || r->disconnected || c->status != KP_NODE_CHECKING_API_VERSIONS)
        return;
    int64_t now = r->received_ms;
    kp_reader rd;
    kp_rd_init(&rd, r->body, r->body_len);
    kp_api_versions_response m;
    memset(&m, 0, sizeof m);
    if (!nc->arena)
        nc->arena = kp_arena_new(0, 0);
    if (nc->arena)
        kp_arena_reset(nc->arena);
    kp_err derr = nc->arena ? kp_api_versions_response_decode(&rd, r->api_version, nc->arena, &m) : KP_ERR__NOMEM;
    if (derr != KP_ERR_NONE && nc->arena && r->api_version > 0) {
        /* a broker refusing our version answers in the v0 layout */
        kp_rd_init(&rd, r->body, r->body_len);
        memset(&m, 0, sizeof m);
        kp_arena_reset(nc->arena);
        if (kp_api_versions_response_decode(&rd, 0, nc->arena, &m) == KP_ERR_NONE &&
            m.error_code == KP_ERR_UNSUPPORTED_VERSION)
            derr = KP_ERR_NONE;
    }
    rd.err = derr;
    int16_t err = m.error_code;
    int16_t mins[KP_NC_MAX_API_KEY], maxs[KP_NC_MAX_API_KEY];
    for (int i = 0; i < KP_NC_MAX_API_KEY; i++)
        mins[i] = maxs[i] = -1;
    for (int32_t i = 0; derr == KP_ERR_NONE && i < m.api_key_count; i++) {
        int16_t k = m.api_keys[i].api_key;
        if (k >= 0 && k < KP_NC_MAX_API_KEY) {
            mins[k] = m.api_keys[i].min_version;
            maxs[k] = m.api_keys[i].max_version;
        }
    }
    if (rd.err) {
        kp_nc_emit(nc, KP_EV_API_VERSIONS, c->id, r->correlation_id, KP_API_API_VERSIONS, rd.err, -1,
                   "malformed ApiVersions response");
        kp_nc_process_disconnection(nc, c, now, false, rd.err);
        return;
    }
    if (err != KP_ERR_NONE) {
        if (err == KP_ERR_UNSUPPORTED_VERSION && r->api_version > 0) {
            /* the broker answered in v0 form; retry with v0 */
            kp_nc_send_api_versions(nc, c, 0, now);
            return;
        }
        kp_nc_emit(nc, KP_EV_API_VERSIONS, c->id, r->correlation_id, KP_API_API_VERSIONS, (kp_err)err, -1,
                   "ApiVersions error: closing");
        kp_nc_process_disconnection(nc, c, now, false, (kp_err)err);
        return;
    }
    memcpy(c->api_min, mins, sizeof mins);
    memcpy(c->api_max, maxs, sizeof maxs);
    c->versions_known = true;
    if (r->api_version >= 2 && m.throttle_time_ms > 0) /* KIP-219 */
        kp_netclient_throttle(nc, c->id, m.throttle_time_ms, now);
    kp_nc_set_status(nc, c, KP_NODE_READY, KP_ERR_NONE);
    kp_nc_reset_backoff(nc, c);
    int produce_v = kp_nc_pick_version(nc, c, 0, 0, 7);
    kp_nc_emit(nc, KP_EV_API_VERSIONS, c->id, r->correlation_id, KP_API_API_VERSIONS, KP_ERR_NONE,
               produce_v, "NetworkClient.handleApiVersionsResponse (value = Produce version)");
}

/* ------------------------------------------------------------------ */
/* Poll phases                                                         */
/* ------------------------------------------------------------------ */

/* handleCompletedSends: acks=0 requests complete once written. */
static void kp_nc_handle_completed_sends(kp_netclient *nc, kp_nc_conn *c, int64_t now) {
    if (c->out_len != 0 || c->count == 0)
        return;
    kp_nc_req *last = kp_nc_ring_at(c, c->count - 1, nc->max_in_flight);
    if (last->expect_response)
        return;
    kp_nc_done *d = kp_nc_push_done(&nc->done, &nc->ndone, &nc->done_cap);
    d->cb = last->done;
    d->ctx = last->done_ctx;
    kp_nc_fill_resp(&d->resp, c, last, now);
    c->count--; /* completeLastSent */
    nc->in_flight--;
    kp_nc_touch(nc, c);
    kp_nc_note_idle(nc, c);
}

/* handleCompletedReceives: frames in the input buffer. The completions
 * point into c->in, which stays untouched until the callbacks ran. */
static void kp_nc_handle_receives(kp_netclient *nc, kp_nc_conn *c, int64_t now) {
    while (c->status != KP_NODE_DISCONNECTED && c->in_len - c->in_off >= 4) {
        const uint8_t *p = c->in + c->in_off;
        int32_t size = (int32_t)kp_be32_get(p);
        if (size < 4 || size > KP_NC_MAX_FRAME) {
            /* Java's NetworkReceive throws InvalidReceiveException: the
             * connection is closed */
            _Static_assert(KP_NC_MAX_FRAME == 104857600, "the detail names the limit");
            kp_nc_emit_violation(nc, c, -1, size, "response frame size outside 4..104857600");
            c->pending_close = true;
            kp_nc_touch(nc, c);
            return;
        }
        if (c->in_len - c->in_off < 4 + (size_t)size)
            return;
        int32_t corr = (int32_t)kp_be32_get(p + 4);
        if (c->count == 0 || kp_nc_ring_at(c, 0, nc->max_in_flight)->corr != corr ||
            !kp_nc_ring_at(c, 0, nc->max_in_flight)->expect_response) {
            /* Java: IllegalStateException "Correlation id for response does
             * not match request" — fatal for this connection */
            kp_nc_emit_violation(nc, c, corr, size, "correlation id does not match the oldest in-flight request");
            c->pending_close = true;
            kp_nc_touch(nc, c);
            return;
        }
        kp_nc_req *q = kp_nc_ring_at(c, 0, nc->max_in_flight);
        kp_nc_done *d = kp_nc_push_done(&nc->done, &nc->ndone, &nc->done_cap);
        d->cb = q->done;
        d->ctx = q->done_ctx;
        kp_nc_fill_resp(&d->resp, c, q, now);
        d->resp.body = p + 8;
        d->resp.body_len = (size_t)size - 4;
        c->head = (c->head + 1) % nc->max_in_flight;
        c->count--;
        nc->in_flight--;
        c->in_off += 4 + (size_t)size;
        c->last_active_ms = now;
        kp_nc_touch(nc, c);
        kp_nc_note_idle(nc, c);
        kp_nc_emit(nc, KP_EV_RESPONSE_RECEIVED, c->id, corr, q->api_key, KP_ERR_NONE, size,
                   "NetworkClient.handleCompletedReceives");
    }
}

/* handleTimedOutRequests */
static bool kp_nc_has_expired(const kp_netclient *nc, kp_nc_conn *c, int64_t now) {
    for (int i = 0; i < c->count; i++) {
        kp_nc_req *q = kp_nc_ring_at(c, i, nc->max_in_flight);
        if (now - q->send_ms > q->timeout_ms)
            return true;
    }
    return false;
}

/* The poll's skip test without the transport's part: nothing to write, no
 * acks=0 send to complete, no whole frame buffered, no close due, not
 * connecting (the caller has checked it is not DISCONNECTED). */
static bool kp_nc_locally_idle(const kp_netclient *nc, const kp_nc_conn *c) {
    if (c->status == KP_NODE_CONNECTING || c->out_len != 0 || c->pending_close || c->in_len - c->in_off >= 4)
        return false;
    if (c->count == 0)
        return true;
    int k = c->head + c->count - 1; /* the newest request, as kp_nc_ring_at */
    return c->ring[k >= nc->max_in_flight ? k - nc->max_in_flight : k].expect_response;
}

static void kp_nc_run_callbacks(kp_netclient *nc) {
    /* callbacks may send (adding to nc->done is impossible from send: it
     * only fails synchronously), so iterate by index over a stable count */
    for (int i = 0; i < nc->ndone; i++) {
        kp_nc_done *d = &nc->done[i];
        if (d->cb)
            d->cb(d->ctx, &d->resp);
    }
    nc->ndone = 0;
}

int64_t kp_netclient_poll(kp_netclient *nc, int64_t timeout_ms, int64_t now) {
    /* abortedSends: version mismatches complete at once, without I/O */
    if (nc->naborted > 0) {
        int n = nc->naborted;
        for (int i = 0; i < n; i++) {
            kp_nc_done *d = kp_nc_push_done(&nc->done, &nc->ndone, &nc->done_cap);
            *d = nc->aborted[i];
            d->resp.received_ms = now;
        }
        nc->naborted = 0;
        kp_nc_run_callbacks(nc);
        return 0;
    }

    int64_t metadata_timeout = INT64_MAX;
    if (nc->upd && nc->upd->maybe_update)
        metadata_timeout = nc->upd->maybe_update(nc->upd_ctx, now);

    bool any_disconnect = false;
    int newly[KP_NC_MAX_NODES];
    int nnewly = 0;
    /* "selector.poll": output, input, completed receives */
    bool (*pending)(void *, kp_conn *) = nc->env.transport.pending;
    /* the generation before any question: a change from here on shows
     * in the next poll's read */
    bool same_gen = false;
    if (nc->env.transport.generation) {
        uint64_t g = nc->env.transport.generation(nc->env.transport.ctx);
        same_gen = nc->gen_valid && g == nc->gen_seen;
        nc->gen_seen = g;
        nc->gen_valid = true;
    }
    bool skip_loop = same_gen && nc->loop_idle;
    if (skip_loop && !nc->walk_dirty && now < nc->walk_at && nc->ndone == 0) {
        /* Nothing to do (an idle run's poll): no connection to visit, no
         * idle or request deadline reached, no completion, the closing
         * walk would find nothing. The sleep as computed below. */
        int64_t sleep = timeout_ms;
        if (metadata_timeout < sleep)
            sleep = metadata_timeout;
        if (nc->request_timeout_ms < sleep)
            sleep = nc->request_timeout_ms;
        if (nc->walk_at != INT64_MAX && nc->walk_at - now < sleep)
            sleep = nc->walk_at - now;
        return sleep < 0 ? 0 : sleep;
    }
    bool loop_idle = true;
    for (int i = 0; !skip_loop && i < nc->nconns; i++) {
        kp_nc_conn *c = nc->conns[i];
        /* An idle connection: nothing to write, no acks=0 send to
         * complete, no whole frame buffered, no close due, and the
         * transport says it is CONNECTED with nothing to read. Every step
         * below would do nothing for it, so it is skipped. A quiet one is
         * neither DISCONNECTED nor without its transport handle. */
        if (c->quiet) {
            if (same_gen || !pending(nc->env.transport.ctx, c->conn))
                continue;
        } else {
            if (c->status == KP_NODE_DISCONNECTED || !c->conn)
                continue;
            if (pending && (c->quiet = kp_nc_locally_idle(nc, c)) && !pending(nc->env.transport.ctx, c->conn))
                continue;
        }
        c->quiet = false; /* what follows may change what the test read */
        loop_idle = false;
        kp_conn_state st = nc->env.transport.state(nc->env.transport.ctx, c->conn);
        if (st == KP_CONN_CONNECTING)
            continue;
        if (c->status == KP_NODE_CONNECTING && st == KP_CONN_CONNECTED) {
            newly[nnewly++] = i; /* handled after the I/O, as Java's handleConnections */
            continue;
        }
        bool alive = st == KP_CONN_CONNECTED && !c->pending_close;
        if (alive && c->out_off < c->out_len)
            alive = kp_nc_flush(nc, c);
        else if (alive)
            c->out_off = c->out_len = 0; /* what kp_nc_flush does with nothing to write */
        if (alive)
            kp_nc_handle_completed_sends(nc, c, now);
        bool readable = alive ? kp_nc_read(nc, c) : false;
        /* bytes that arrived before a close still count (Java reads them) */
        kp_nc_handle_receives(nc, c, now);
        if (!alive || !readable || c->pending_close) {
            kp_nc_process_disconnection(nc, c, now, false, KP_ERR__TRANSPORT);
            any_disconnect = true;
        }
    }
    if (!skip_loop)
        nc->loop_idle = loop_idle;
    /* handleConnections + handleInitiateApiVersionRequests */
    for (int k = 0; k < nnewly; k++) {
        kp_nc_conn *c = nc->conns[newly[k]];
        if (nc->discover_versions) {
            kp_nc_set_status(nc, c, KP_NODE_CHECKING_API_VERSIONS, KP_ERR_NONE);
            kp_nc_send_api_versions(nc, c, nc->client_max[KP_API_API_VERSIONS], now);
        } else {
            kp_nc_set_status(nc, c, KP_NODE_READY, KP_ERR_NONE);
            kp_nc_reset_backoff(nc, c);
        }
    }
    /* Selector.maybeCloseOldestConnection: idle expiry (nothing can have
     * expired before walk_at) */
    if (nc->max_idle_ms > 0 && now >= nc->walk_at) {
        for (int i = 0; i < nc->nconns; i++) {
            kp_nc_conn *c = nc->conns[i];
            if (c->status == KP_NODE_READY && c->count == 0 && c->out_len == 0 &&
                now - c->last_active_ms > nc->max_idle_ms) {
                kp_nc_process_disconnection(nc, c, now, false, KP_ERR__CLOSED);
                any_disconnect = true;
            }
        }
    }
    /* handleTimedOutRequests */
    bool any_timeout = false;
    for (int i = 0; i < nc->nconns && now >= nc->walk_at; i++) {
        kp_nc_conn *c = nc->conns[i];
        if (c->status != KP_NODE_DISCONNECTED && kp_nc_has_expired(nc, c, now)) {
            kp_nc_process_disconnection(nc, c, now, true, KP_ERR__TIMED_OUT);
            any_timeout = true;
        }
    }
    if ((any_disconnect || any_timeout) && nc->upd && nc->upd->request_update)
        nc->upd->request_update(nc->upd_ctx);

    /* completeResponses; input buffers are compacted only afterwards
     * because the bodies point into them */
    kp_nc_run_callbacks(nc);

    /* Java: selector.poll(min(timeout, metadataTimeout, requestTimeout)).
     * Here the driver sleeps that long; the earliest request deadline is
     * included so a timeout is noticed when it happens. The same pass
     * compacts the input buffers (the callbacks are done with them). */
    int64_t sleep = timeout_ms;
    if (metadata_timeout < sleep)
        sleep = metadata_timeout;
    if (nc->request_timeout_ms < sleep)
        sleep = nc->request_timeout_ms;
    /* the earliest idle or request deadline: unchanged since the last walk
     * unless a connection was touched (walk_at may only have been lowered
     * by a touch's note) */
    int64_t first = nc->walk_at;
    int walk = 0;
    if (nc->walk_dirty) {
        first = INT64_MAX;
        walk = nc->nconns;
        nc->walk_dirty = false;
    }
    for (int i = 0; i < walk; i++) {
        kp_nc_conn *c = nc->conns[i];
        if (c->in_off > 0) {
            if (c->in_len > c->in_off) /* a partial frame stays (else a call per response) */
                memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
            c->in_len -= c->in_off;
            c->in_off = 0;
        }
        if (c->dl_stale) {
            int64_t dl = INT64_MAX;
            if (nc->max_idle_ms > 0 && c->status == KP_NODE_READY && c->count == 0)
                dl = c->last_active_ms + nc->max_idle_ms + 1;
            for (int j = 0; j < c->count; j++) {
                kp_nc_req *q = kp_nc_ring_at(c, j, nc->max_in_flight);
                int64_t at = q->send_ms + q->timeout_ms + 1;
                if (at < dl)
                    dl = at;
            }
            c->dl = dl;
            c->dl_stale = false;
        }
        if (c->dl < first)
            first = c->dl;
    }
    nc->walk_at = first;
    if (first != INT64_MAX && first - now < sleep)
        sleep = first - now;
    return sleep < 0 ? 0 : sleep;
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */
/* ------------------------------------------------------------------ */

kp_netclient *kp_netclient_new(const kp_netclient_opts *o, const kp_env *env) {
    if (!o || !env || o->max_in_flight < 1)
        return NULL;
    kp_netclient *nc = calloc(1, sizeof *nc);
    if (!nc)
        return NULL;
    nc->env = *env;
    nc->env.rng = kp_rng_substream(&env->rng, "network-client");
    nc->client_id = strdup(o->client_id ? o->client_id : "");
    if (!nc->client_id) {
        free(nc);
        return NULL;
    }
    nc->client_id_s = kp_slice_str(nc->client_id);
    nc->max_in_flight = o->max_in_flight;
    nc->walk_at = INT64_MIN; /* nothing known yet: walk */
    nc->walk_dirty = true;
    nc->gather = (kp_wr_gather){ .runs = nc->gather_runs, .cap = KP_NC_GATHER_RUNS,
                                 .min = KP_NC_GATHER_MIN };
    nc->reconnect_backoff_ms = o->reconnect_backoff_ms;
    nc->reconnect_backoff_max_ms = o->reconnect_backoff_max_ms;
    double base = o->reconnect_backoff_ms > 1 ? (double)o->reconnect_backoff_ms : 1.0;
    nc->reconnect_backoff_max_exp =
        o->reconnect_backoff_max_ms > 0 ? log((double)o->reconnect_backoff_max_ms / base) / log(2.0) : 0;
    nc->request_timeout_ms = o->request_timeout_ms;
    nc->discover_versions = o->discover_versions;
    nc->max_idle_ms = o->connections_max_idle_ms;
    for (int i = 0; i < KP_NC_MAX_API_KEY; i++)
        nc->client_max[i] = -1;
    /* kafka-clients 2.1.1 latest versions (KAFKA_FACTS.md) */
    nc->client_max[0] = 7;   /* Produce */
    nc->client_max[3] = 7;   /* Metadata */
    nc->client_max[10] = 2;  /* FindCoordinator */
    nc->client_max[18] = 2;  /* ApiVersions */
    nc->client_max[22] = 1;  /* InitProducerId */
    nc->client_max[24] = 1;  /* AddPartitionsToTxn */
    nc->client_max[26] = 1;  /* EndTxn */
    return nc;
}

void kp_netclient_destroy(kp_netclient *nc) {
    if (!nc)
        return;
    for (int i = 0; i < nc->nconns; i++) {
        kp_nc_conn *c = nc->conns[i];
        if (c->conn)
            nc->env.transport.close(nc->env.transport.ctx, c->conn);
        free(c->ring);
        free(c->host);
        free(c->in);
        free(c->out);
        free(c);
    }
    free(nc->done);
    free(nc->aborted);
    kp_arena_destroy(nc->arena);
    free(nc->client_id);
    free(nc);
}

void kp_netclient_set_updater(kp_netclient *nc, const kp_metadata_updater_ops *ops, void *ctx) {
    nc->upd = ops;
    nc->upd_ctx = ctx;
}

void kp_netclient_set_client_max_version(kp_netclient *nc, int16_t api_key, int16_t v) {
    if (api_key >= 0 && api_key < KP_NC_MAX_API_KEY)
        nc->client_max[api_key] = v;
}

void kp_netclient_reclaim(kp_netclient *nc) {
    if (!nc->env.transport.reclaim)
        return;
    for (int i = 0; i < nc->nconns; i++)
        if (nc->conns[i]->conn)
            nc->env.transport.reclaim(nc->env.transport.ctx, nc->conns[i]->conn);
}

bool kp_netclient_can_send(kp_netclient *nc, int32_t node, int64_t now) {
    kp_nc_conn *c = kp_nc_find(nc, node);
    if (!c || c->status != KP_NODE_READY || !c->conn || c->pending_close)
        return false;
    if (c->throttle_until_ms > now)
        return false;
    if (c->out_len != 0) /* previous send not complete: canSendMore */
        return false;
    return c->count < nc->max_in_flight;
}

bool kp_netclient_is_ready(kp_netclient *nc, int32_t node, int64_t now) {
    if (nc->upd && nc->upd->is_update_due && nc->upd->is_update_due(nc->upd_ctx, now))
        return false;
    return kp_netclient_can_send(nc, node, now);
}

bool kp_netclient_maybe_connect(kp_netclient *nc, const kp_node *node, int64_t now) {
    kp_nc_conn *c = kp_nc_find(nc, node->id);
    if (!kp_nc_can_connect(c, now))
        return false;
    c = kp_nc_get(nc, node);
    if (!c)
        return false;
    kp_nc_initiate_connect(nc, c, now);
    return true;
}

/* NetworkClient.ready */
bool kp_netclient_ready(kp_netclient *nc, const kp_node *node, int64_t now) {
    if (kp_netclient_is_ready(nc, node->id, now))
        return true;
    kp_netclient_maybe_connect(nc, node, now);
    return false;
}

int64_t kp_netclient_connection_delay(kp_netclient *nc, int32_t node, int64_t now) {
    return kp_nc_conn_delay(kp_nc_find(nc, node), now);
}

int64_t kp_netclient_throttle_delay(const kp_netclient *nc, int32_t node, int64_t now) {
    kp_nc_conn *c = kp_nc_find(nc, node);
    if (!c || c->throttle_until_ms <= now)
        return 0;
    return c->throttle_until_ms - now;
}

int64_t kp_netclient_poll_delay(kp_netclient *nc, int32_t node, int64_t now) {
    kp_nc_conn *c = kp_nc_find(nc, node);
    int64_t t = kp_netclient_throttle_delay(nc, node, now);
    if (c && c->status == KP_NODE_READY && t > 0)
        return t;
    return kp_nc_conn_delay(c, now);
}

bool kp_netclient_is_blacked_out(kp_netclient *nc, int32_t node, int64_t now) {
    return kp_nc_blacked_out(kp_nc_find(nc, node), now);
}

bool kp_netclient_is_any_connecting(const kp_netclient *nc) {
    for (int i = 0; i < nc->nconns; i++)
        if (nc->conns[i]->status == KP_NODE_CONNECTING)
            return true;
    return false;
}

kp_conn_status kp_netclient_status(const kp_netclient *nc, int32_t node) {
    kp_nc_conn *c = kp_nc_find(nc, node);
    return c ? c->status : KP_NODE_DISCONNECTED;
}

int64_t kp_netclient_reconnect_backoff(const kp_netclient *nc, int32_t node) {
    kp_nc_conn *c = kp_nc_find(nc, node);
    return c ? c->reconnect_backoff_ms : nc->reconnect_backoff_ms;
}

int kp_netclient_failed_attempts(const kp_netclient *nc, int32_t node) {
    kp_nc_conn *c = kp_nc_find(nc, node);
    return c ? c->failed_attempts : 0;
}

/* NetworkClient.leastLoadedNode */
bool kp_netclient_least_loaded_node(kp_netclient *nc, int64_t now, kp_node *out) {
    if (!nc->upd || !nc->upd->fetch_nodes)
        return false;
    int n = nc->upd->fetch_nodes(nc->upd_ctx, nc->nodes_scratch, KP_NC_MAX_NODES);
    if (n <= 0)
        return false;
    int best_inflight = INT_MAX, found = -1;
    int offset = (int)kp_rng_below(&nc->env.rng, (uint64_t)n);
    for (int i = 0; i < n; i++) {
        int idx = (offset + i) % n;
        const kp_node *node = &nc->nodes_scratch[idx];
        kp_nc_conn *c = kp_nc_find(nc, node->id);
        int inflight = c ? c->count : 0;
        if (inflight == 0 && kp_netclient_is_ready(nc, node->id, now)) {
            *out = *node;
            return true;
        }
        if (!kp_nc_blacked_out(c, now) && inflight < best_inflight) {
            best_inflight = inflight;
            found = idx;
        }
    }
    if (found < 0)
        return false;
    *out = nc->nodes_scratch[found];
    return true;
}

int32_t kp_netclient_send(kp_netclient *nc, int32_t node, int16_t api_key, int16_t min_version,
                          int16_t max_version, kp_request_encode_fn *encode, void *encode_ctx,
                          bool expect_response, int64_t timeout_ms, kp_request_done_cb *done,
                          void *done_ctx, int64_t now) {
    kp_nc_conn *c = kp_nc_find(nc, node);
    if (!c || c->status != KP_NODE_READY || c->out_len != 0 || c->count >= nc->max_in_flight)
        return -1;
    int16_t v = kp_nc_pick_version(nc, c, api_key, min_version, max_version);
    if (v < 0) {
        /* UnsupportedVersionException -> abortedSends with versionMismatch */
        kp_nc_done *d = kp_nc_push_done(&nc->aborted, &nc->naborted, &nc->aborted_cap);
        d->cb = done;
        d->ctx = done_ctx;
        d->resp.node = node;
        d->resp.api_key = api_key;
        d->resp.api_version = -1;
        d->resp.correlation_id = nc->next_corr;
        d->resp.created_ms = now;
        d->resp.version_mismatch = true;
        int32_t corr = nc->next_corr;
        nc->next_corr = nc->next_corr == INT32_MAX ? 0 : nc->next_corr + 1;
        kp_nc_emit(nc, KP_EV_REQUEST_SENT, node, corr, api_key, KP_ERR_UNSUPPORTED_VERSION, -1,
                   "NetworkClient.doSend: no usable version");
        return corr;
    }
    return kp_nc_do_send(nc, c, api_key, v, encode, encode_ctx, expect_response, timeout_ms, done,
                         done_ctx, now);
}

void kp_netclient_throttle(kp_netclient *nc, int32_t node, int64_t throttle_ms, int64_t now) {
    kp_nc_conn *c = kp_nc_find(nc, node);
    if (!c || throttle_ms <= 0)
        return;
    int64_t until = now + throttle_ms;
    if (until > c->throttle_until_ms)
        c->throttle_until_ms = until;
    kp_nc_emit(nc, KP_EV_THROTTLE, node, -1, -1, KP_ERR_NONE, throttle_ms,
               "NetworkClient.maybeThrottle");
}

void kp_netclient_disconnect(kp_netclient *nc, int32_t node, int64_t now) {
    kp_nc_conn *c = kp_nc_find(nc, node);
    if (!c || c->status == KP_NODE_DISCONNECTED)
        return;
    kp_nc_process_disconnection(nc, c, now, false, KP_ERR__CLOSED);
}

int kp_netclient_in_flight_count(const kp_netclient *nc) {
    return nc->in_flight + nc->naborted;
}

int kp_netclient_in_flight_count_node(const kp_netclient *nc, int32_t node) {
    kp_nc_conn *c = kp_nc_find(nc, node);
    return c ? c->count : 0;
}

bool kp_netclient_has_in_flight(const kp_netclient *nc) {
    return kp_netclient_in_flight_count(nc) > 0 || nc->ndone > 0;
}

int kp_netclient_api_version(const kp_netclient *nc, int32_t node, int16_t api_key) {
    kp_nc_conn *c = kp_nc_find(nc, node);
    if (!c || !c->versions_known)
        return -1;
    return kp_nc_pick_version(nc, c, api_key, 0, INT16_MAX);
}

void kp_netclient_wakeup(kp_netclient *nc) {
    if (nc->env.wakeup)
        nc->env.wakeup(nc->env.wakeup_ctx);
}

void kp_netclient_close(kp_netclient *nc, int64_t now) {
    for (int i = 0; i < nc->nconns; i++)
        if (nc->conns[i]->status != KP_NODE_DISCONNECTED)
            kp_nc_process_disconnection(nc, nc->conns[i], now, false, KP_ERR__CLOSED);
    kp_nc_run_callbacks(nc);
}

int kp_netclient_in_flight_ids(const kp_netclient *nc, int32_t node, int32_t *out, int cap) {
    kp_nc_conn *c = kp_nc_find(nc, node);
    if (!c)
        return 0;
    int n = 0;
    for (int i = 0; i < c->count && n < cap; i++)
        out[n++] = c->ring[(c->head + i) % nc->max_in_flight].corr;
    return n;
}

bool kp_netclient_verify(const kp_netclient *nc, char *why, size_t n) {
    int total = 0;
    for (int i = 0; i < nc->nconns; i++) {
        const kp_nc_conn *c = nc->conns[i];
        const char *bad = NULL;
        total += c->count;
        if (c->count < 0 || c->count > nc->max_in_flight)
            bad = "in-flight count out of [0, max.in.flight]";
        else if (nc->max_idle_ms > 0 && c->status == KP_NODE_READY && c->count == 0 &&
                 c->last_active_ms + nc->max_idle_ms + 1 < nc->walk_at)
            bad = "idle deadline before walk_at: poll would skip its expiry";
        else if (c->status == KP_NODE_READY && (!c->conn || (nc->discover_versions && !c->versions_known)))
            bad = "READY without a connection or negotiated versions";
        else if (c->status == KP_NODE_DISCONNECTED && (c->conn || c->count))
            bad = "DISCONNECTED with a connection or requests in flight";
        else if (c->out_off > c->out_len || c->in_off > c->in_len)
            bad = "buffer offsets past their lengths";
        else if (c->quiet && (c->status == KP_NODE_DISCONNECTED || !c->conn || !nc->env.transport.pending ||
                              !kp_nc_locally_idle(nc, c)))
            bad = "marked quiet but not idle: poll would skip it";
        else if (nc->loop_idle && !c->quiet && c->status != KP_NODE_DISCONNECTED && c->conn)
            bad = "loop_idle with a connection neither quiet nor skipped: poll would skip it";
        else if (!nc->walk_dirty && (c->dl_stale || c->in_off > 0))
            bad = "touched without walk_dirty: poll would skip its closing walk";
        for (int j = 1; !bad && j < c->count; j++) {
            int32_t a = c->ring[(c->head + j - 1) % nc->max_in_flight].corr;
            int32_t b = c->ring[(c->head + j) % nc->max_in_flight].corr;
            if (b <= a && !(a > INT32_MAX - 1024 && b < 1024)) /* wrap allowed */
                bad = "correlation ids not increasing oldest to newest";
        }
        for (int j = 0; !bad && j < c->count; j++) {
            const kp_nc_req *q = &c->ring[(c->head + j) % nc->max_in_flight];
            if (q->send_ms + q->timeout_ms + 1 < nc->walk_at)
                bad = "request deadline before walk_at: poll would skip its timeout";
        }
        if (bad) {
            if (why && n)
                snprintf(why, n, "node %d: %s", (int)c->id, bad);
            return false;
        }
    }
    if (!nc->walk_dirty) {
        int64_t first = INT64_MAX;
        for (int i = 0; i < nc->nconns; i++)
            if (nc->conns[i]->dl < first)
                first = nc->conns[i]->dl;
        if (first != nc->walk_at) {
            if (why && n)
                snprintf(why, n, "walk_at %lld is not the earliest connection deadline %lld", (long long)nc->walk_at,
                         (long long)first);
            return false;
        }
    }
    if (total != nc->in_flight) {
        if (why && n)
            snprintf(why, n, "in-flight total %d != sum of the connections' %d", nc->in_flight, total);
        return false;
    }
    return true;
}
