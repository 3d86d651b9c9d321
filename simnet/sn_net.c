/*
 * sn_net.c — nodes, links, simulated TCP-like connections and faults
 * (the model is described in sn_net.h).
 *
 * A connection (sn__conn) holds both endpoints (struct kp_conn, the handles
 * users see) and both directions. Direction d carries the bytes sent by
 * endpoint d (0 = client, 1 = server) in one ring, oldest first:
 *
 *   dir[d].bytes:  [ kept | rcv_len: arrived, unread | gap | in flight (queued) ]
 *                           ^ ep[1-d] reads here            ^ ep[d] sends here
 *   dir[d].chunks: (len, arrival) of the in-flight bytes, in arrival order
 *
 * A send copies the bytes into the ring (the only copy simnet makes), or,
 * for pieces the sender lends (sn_conn_sendv_keep: a request's batches),
 * records where they lie: the direction's stream is then a list of pieces
 * (sn__seg), ring bytes and lent ones in order, until no lent byte is left
 * or the sender closes (then the lent bytes still there are copied); the
 * deliver timer at chunks.head.at moves the boundary (rcv_len grows by the
 * chunk, nothing is copied); recv copies out, or sn_conn_peek hands out the
 * unread bytes in place and sn_conn_consume steps over them. sn_conn_keep
 * marks bytes read (window and events exactly as sn_conn_consume) but
 * leaves them at the ring's front (`kept`) until sn_conn_release: a reader
 * that cannot use them yet (a broker connection busy with an earlier
 * request) holds them there instead of copying them out. `gap` counts
 * bytes a blackhole dropped while unread bytes were still in front of them
 * (nothing arrives after a drop, so the gap is always the last thing before
 * the in-flight bytes); it goes when the reader has read up to it. The
 * sender's buffer (sndbuf) bounds the in-flight part, the receiver's
 * (rcvbuf) the unread part. Rings grow by doubling, are never allocated
 * per send, and live as long as the connection; a buffer a ring lets go
 * of (growing, or freed with its connection) goes to the world's spares,
 * where the next ring to grow finds it with its pages already in memory.
 *
 * Handshake: c->phase names the message in flight (SYN on dir 0, SYN-ACK or
 * the RST of a refusal on dir 1), carried by c->hs. A message that meets a
 * partition or blackhole sets c->held and waits for sn__net_kick.
 *
 * Events to users go through each endpoint's notify timer (post_ev), so no
 * user callback ever runs inside a user call. A connection is freed by its gc
 * timer, never inside a user call or a callback, so an endpoint stays
 * readable memory until the step after its close.
 */
#include "sn_events.h"
#include "sn_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SN_CONN_MAGIC 0x736e6370u /* "sncp" */

enum { EVB_CONNECTED = 1, EVB_READABLE = 2, EVB_WRITABLE = 4, EVB_CLOSED = 8 };

enum sn__phase {
    PH_SYN = 1,   /* SYN in flight client -> server (dir 0) */
    PH_SYNACK,    /* accepted; SYN-ACK in flight server -> client (dir 1) */
    PH_RST,       /* refused; RST in flight server -> client (dir 1) */
    PH_OPEN,      /* established */
    PH_DEAD       /* refused, reset or abandoned: no byte moves any more */
};

typedef struct sn__chunk {
    kp_time_us at;
    uint32_t len;
    uint32_t fin; /* 1: the FIN marker (len 0) */
} sn__chunk;

typedef struct sn__chunkq {
    sn__chunk *v;
    uint32_t cap, head, len; /* cap is a power of two */
} sn__chunkq;

/* A piece of a direction's stream while it holds referenced bytes
 * (sn_conn_sendv_keep): ptr NULL for the next len bytes of the ring, else
 * len bytes of the sender's at ptr, read in place. */
typedef struct sn__seg {
    const uint8_t *ptr;
    size_t len;
} sn__seg;

typedef struct sn__dir {
    sn__conn *conn;
    int from;
    sn__ring bytes;      /* [kept][rcv_len unread][gap dropped][in flight] */
    /* With referenced bytes (refs > 0) the stream is segs[seg_head ..
     * + seg_n) in order and the ring holds only the bytes of the pieces
     * without ptr; without (refs == 0, seg_n == 0) the stream is the ring.
     * The positions above (kept, rcv_len, gap, in flight) count stream
     * bytes. */
    sn__seg *segs;
    uint32_t seg_cap, seg_head, seg_n; /* seg_cap a power of two */
    size_t refs;         /* stream bytes in referenced pieces */
    size_t kept;         /* read by ep[1 - from] (sn_conn_keep), held until released */
    size_t rcv_len;      /* arrived, not yet read by ep[1 - from] */
    size_t gap;          /* dropped by a blackhole behind unread bytes */
    sn__chunkq chunks;
    sn_timer deliver;
    kp_time_us last_at;  /* arrival of the last chunk cut */
    bool fin;            /* FIN queued */
    bool stalled_part;   /* head chunk held by a partition */
    bool stalled_window; /* head chunk held: receiver buffer full */
    bool lost;           /* a blackhole ate bytes: nothing more arrives */
    kp_rng rng;
} sn__dir;

struct kp_conn {
    uint32_t magic;
    int side;
    sn__conn *conn;
    sn__dir *rx;         /* &conn->dir[1 - side]: what this end receives */
    kp_conn_state state;
    kp_conn_cb *cb;
    void *cb_ctx;
    bool exposed;        /* handed to a user (connect's return, on_accept) */
    bool released;       /* the user closed it */
    bool want_writable;  /* a send returned short */
    unsigned pending;    /* EVB_* waiting for the notify timer */
    kp_err pending_err;
    sn_timer notify;
    sn_timer reset;      /* delayed reset (the remote side of a node down) */
    int64_t sndbuf, rcvbuf;
};

struct sn__conn {
    sn_world *w;
    uint64_t id;
    sn__conn *prev, *next;
    sn_node *node[2];    /* client node, server node (NULL: unknown address) */
    char *host;
    const char *label[2]; /* event detail seen from each side, "me>peer":
                           * interned in the world (sn__label_intern) */
    int port;
    int phase;
    bool held;
    sn_timer hs;
    sn_timer gc;
    struct kp_conn ep[2];
    sn__dir dir[2];
};

/* The direction an endpoint reads from. */
static inline sn__dir *sn__rx(kp_conn *ep) { return ep->rx; }

/* ------------------------------------------------------------------ */
/* Rings                                                               */
/* ------------------------------------------------------------------ */

/* Gives a ring's old buffer of cap bytes to the world's spares (or frees
 * it: small, or smaller than every spare when they are full). */
static void sn__ring_let_go(sn_world *w, uint8_t *buf, size_t cap) {
    if (!buf)
        return;
    if (cap < SN__RING_SPARE_MIN) {
        free(buf);
        return;
    }
    if (w->n_ring_spare < SN__RING_SPARES) {
        w->ring_spare[w->n_ring_spare++] = (struct sn__spare){ buf, cap };
        return;
    }
    int min = 0;
    for (int i = 1; i < SN__RING_SPARES; i++)
        if (w->ring_spare[i].cap < w->ring_spare[min].cap)
            min = i;
    if (w->ring_spare[min].cap >= cap) {
        free(buf);
        return;
    }
    free(w->ring_spare[min].buf);
    w->ring_spare[min] = (struct sn__spare){ buf, cap };
}

/* A buffer of at least *cap bytes: the smallest spare that is large
 * enough (*cap becomes its size), else a fresh one. A fresh one of 64 KB
 * or more has its pages made present in one madvise (a hint, like
 * MADV_HUGEPAGE in kp_slab: refused, the pages fault in as the ring
 * fills): a ring that grew that far fills it, and one call costs less
 * than a fault per 4 KB page (faults workload: 1,078 -> 814 page faults,
 * task-clock median of 60 interleaved runs 23.90 -> 23.51 ms). */
static uint8_t *sn__ring_take(sn_world *w, size_t *cap) {
    int best = -1;
    for (int i = 0; i < w->n_ring_spare; i++)
        if (w->ring_spare[i].cap >= *cap && (best < 0 || w->ring_spare[i].cap < w->ring_spare[best].cap))
            best = i;
    if (best < 0) {
        uint8_t *b = malloc(*cap);
#ifdef MADV_POPULATE_WRITE
        if (b && *cap >= 65536) {
            uintptr_t lo = ((uintptr_t)b + 4095) & ~(uintptr_t)4095;
            uintptr_t hi = ((uintptr_t)b + *cap) & ~(uintptr_t)4095;
            if (hi > lo)
                (void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
        }
#endif
        return b;
    }
    uint8_t *b = w->ring_spare[best].buf;
    *cap = w->ring_spare[best].cap;
    w->ring_spare[best] = w->ring_spare[--w->n_ring_spare];
    return b;
}

static bool sn__ring_grow(sn_world *w, sn__ring *r, size_t need) {
    size_t cap = r->cap ? r->cap : 1024;
    while (cap < r->len + need)
        cap *= 2;
    uint8_t *b = sn__ring_take(w, &cap);
    if (!b)
        return false;
    if (r->len) {
        size_t first = r->cap - r->head < r->len ? r->cap - r->head : r->len;
        memcpy(b, r->buf + r->head, first);
        memcpy(b + first, r->buf, r->len - first);
    }
    sn__ring_let_go(w, r->buf, r->cap);
    r->buf = b;
    r->cap = cap;
    r->head = 0;
    return true;
}

static inline bool sn__ring_reserve(sn_world *w, sn__ring *r, size_t need) {
    return r->len + need <= r->cap || sn__ring_grow(w, r, need);
}

bool sn__ring_push(sn_world *w, sn__ring *r, const void *data, size_t n) {
    if (!n)
        return true;
    if (!sn__ring_reserve(w, r, n))
        return false;
    size_t tail = (r->head + r->len) & (r->cap - 1);
    size_t first = r->cap - tail < n ? r->cap - tail : n;
    memcpy(r->buf + tail, data, first);
    if (n > first) /* across the ring's end (a memcpy of nothing is still a call) */
        memcpy(r->buf, (const uint8_t *)data + first, n - first);
    r->len += n;
    return true;
}

void sn__ring_truncate(sn__ring *r, size_t keep) {
    assert(keep <= r->len);
    r->len = keep;
    if (!r->len)
        r->head = 0;
}

void sn__ring_free(sn_world *w, sn__ring *r) {
    sn__ring_let_go(w, r->buf, r->cap);
    memset(r, 0, sizeof *r);
}

/* The queue is full: double it (the simulation cannot go on without its
 * chunks). */
static __attribute__((noinline)) void sn__chunkq_grow(sn__chunkq *q) {
    uint32_t cap = q->cap ? q->cap * 2 : 16;
    sn__chunk *v = malloc((size_t)cap * sizeof *v);
    if (!v)
        abort();
    for (uint32_t i = 0; i < q->len; i++)
        v[i] = q->v[(q->head + i) & (q->cap - 1)];
    free(q->v);
    q->v = v;
    q->cap = cap;
    q->head = 0;
}

static inline void sn__chunkq_push(sn__chunkq *q, sn__chunk ch) {
    if (q->len == q->cap)
        sn__chunkq_grow(q);
    q->v[(q->head + q->len) & (q->cap - 1)] = ch;
    q->len++;
}

static inline sn__chunk *sn__chunkq_at(sn__chunkq *q, uint32_t i) {
    return &q->v[(q->head + i) & (q->cap - 1)];
}

static void sn__chunkq_pop(sn__chunkq *q) {
    assert(q->len);
    q->head = (q->head + 1) & (q->cap - 1);
    q->len--;
}

/* ---- a direction's stream: the ring, or segments while it holds
 * referenced bytes (see sn__dir) ---------------------------------------- */

static inline size_t sn__slen(const sn__dir *d) {
    return d->bytes.len + d->refs;
}

static inline sn__seg *sn__seg_at(const sn__dir *d, uint32_t i) {
    return &d->segs[(d->seg_head + i) & (d->seg_cap - 1)];
}

/* Appends a piece (ptr NULL: len more ring bytes, merged into a ring piece
 * at the end). Out of line: the sends of a stream without pieces only
 * test seg_n. */
static __attribute__((noinline)) void sn__seg_push(sn__dir *d, const uint8_t *ptr, size_t len) {
    if (!len)
        return;
    if (d->seg_n && !ptr && !sn__seg_at(d, d->seg_n - 1)->ptr) {
        sn__seg_at(d, d->seg_n - 1)->len += len;
        return;
    }
    if (d->seg_n == d->seg_cap) {
        uint32_t cap = d->seg_cap ? d->seg_cap * 2 : 8;
        sn__seg *v = malloc((size_t)cap * sizeof *v);
        if (!v)
            abort(); /* the stream cannot lose its order */
        for (uint32_t i = 0; i < d->seg_n; i++)
            v[i] = *sn__seg_at(d, i);
        free(d->segs);
        d->segs = v;
        d->seg_cap = cap;
        d->seg_head = 0;
    }
    d->segs[(d->seg_head + d->seg_n) & (d->seg_cap - 1)] = (sn__seg){ ptr, len };
    d->seg_n++;
}

/* No referenced byte left: the ring is the stream again. */
static inline void sn__seg_settle(sn__dir *d) {
    if (!d->refs) {
        d->seg_n = 0;
        d->seg_head = 0;
    }
}

/* sn__stream_drop_front with pieces. */
static __attribute__((noinline)) void sn__stream_drop_front_segs(sn__dir *d, size_t n) {
    sn__ring *r = &d->bytes;
    while (n) {
        sn__seg *sg = sn__seg_at(d, 0);
        size_t k = sg->len < n ? sg->len : n;
        if (sg->ptr) {
            sg->ptr += k;
            d->refs -= k;
        } else {
            r->len -= k;
            r->head = r->len ? (r->head + k) & (r->cap - 1) : 0;
        }
        sg->len -= k;
        n -= k;
        if (!sg->len) {
            d->seg_head = (d->seg_head + 1) & (d->seg_cap - 1);
            d->seg_n--;
        }
    }
    sn__seg_settle(d);
}

/* Drops the first n stream bytes. */
static inline void sn__stream_drop_front(sn__dir *d, size_t n) {
    if (__builtin_expect(d->seg_n != 0, 0)) {
        sn__stream_drop_front_segs(d, n);
        return;
    }
    sn__ring *r = &d->bytes;
    r->len -= n;
    r->head = r->len ? (r->head + n) & (r->cap - 1) : 0;
}

/* Keeps the first keep stream bytes, drops the rest. */
static void sn__stream_truncate(sn__dir *d, size_t keep) {
    if (!d->seg_n) {
        sn__ring_truncate(&d->bytes, keep);
        return;
    }
    assert(keep <= sn__slen(d));
    size_t drop = sn__slen(d) - keep;
    while (drop) {
        sn__seg *sg = sn__seg_at(d, d->seg_n - 1);
        size_t k = sg->len < drop ? sg->len : drop;
        if (sg->ptr)
            d->refs -= k;
        else
            d->bytes.len -= k;
        sg->len -= k;
        drop -= k;
        if (!sg->len)
            d->seg_n--;
    }
    if (!d->bytes.len)
        d->bytes.head = 0;
    sn__seg_settle(d);
}

/* The contiguous run of stream bytes at offset off, at most max long
 * (off < stream length; two runs where the ring wraps, one per piece). */
static const uint8_t *sn__stream_run(const sn__dir *d, size_t off, size_t max, size_t *len) {
    const sn__ring *r = &d->bytes;
    size_t in_ring = off, n = max;
    if (d->seg_n) {
        in_ring = 0;
        for (uint32_t i = 0;; i++) {
            const sn__seg *sg = sn__seg_at(d, i);
            if (off < sg->len) {
                if (n > sg->len - off)
                    n = sg->len - off;
                if (sg->ptr) {
                    *len = n;
                    return sg->ptr + off;
                }
                in_ring += off;
                break;
            }
            off -= sg->len;
            if (!sg->ptr)
                in_ring += sg->len;
        }
    }
    size_t at = (r->head + in_ring) & (r->cap - 1);
    *len = r->cap - at < n ? r->cap - at : n;
    return r->buf + at;
}

/* The sender lets go of what it lent: every referenced byte still in the
 * stream is copied into a ring of its own, in order. */
static void sn__stream_own(sn_world *w, sn__dir *d) {
    if (!d->seg_n)
        return;
    size_t len = sn__slen(d), cap = 1024;
    while (cap < len)
        cap *= 2;
    uint8_t *b = sn__ring_take(w, &cap);
    if (!b)
        abort(); /* the stream cannot lose its bytes */
    for (size_t off = 0, k = 0; off < len; off += k) {
        const uint8_t *p = sn__stream_run(d, off, len - off, &k);
        memcpy(b + off, p, k);
    }
    sn__ring_let_go(w, d->bytes.buf, d->bytes.cap);
    d->bytes = (sn__ring){ b, cap, 0, len };
    d->refs = 0;
    sn__seg_settle(d);
}

/* Bytes of a direction accepted by send and not yet arrived (or dropped). */
static inline size_t sn__inflight(const sn__dir *dir) {
    return sn__slen(dir) - dir->kept - dir->rcv_len - dir->gap;
}

/* The reader stepped over n unread bytes; a gap that is now at the front
 * goes with them. */
static inline void sn__rx_take(sn__dir *dir, size_t n) {
    assert(n <= dir->rcv_len);
    assert(!dir->kept || !n); /* a keeping reader releases before it reads on */
    dir->rcv_len -= n;
    if (!dir->rcv_len && dir->gap) {
        n += dir->gap;
        dir->gap = 0;
    }
    sn__stream_drop_front(dir, n);
}

/* The reader let go of its first n kept bytes; a gap that is now at the
 * front (nothing unread left) goes with them. */
static inline void sn__rx_release(sn__dir *dir, size_t n) {
    assert(n <= dir->kept);
    dir->kept -= n;
    if (!dir->kept && !dir->rcv_len && dir->gap) {
        n += dir->gap;
        dir->gap = 0;
    }
    sn__stream_drop_front(dir, n);
}

/* A reset: the unread bytes (and a gap) are gone; kept ones stay with the
 * reader, as bytes it had read, until it releases them or closes. */
static void sn__rx_drop_unread(sn__dir *dir) {
    if (!dir->kept) {
        sn__rx_take(dir, dir->rcv_len);
        return;
    }
    /* a reset comes after sn__kill: nothing is in flight behind them */
    assert(!sn__inflight(dir));
    dir->rcv_len = dir->gap = 0;
    sn__stream_truncate(dir, dir->kept);
}

/* Drops the in-flight head chunk of n bytes (blackhole, closed reader). */
static void sn__drop_head(sn__dir *dir, size_t n) {
    if (!dir->kept && !dir->rcv_len && !dir->gap)
        sn__stream_drop_front(dir, n);
    else
        dir->gap += n;
}

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

void sn__emit(sn_world *w, int kind, int32_t node, int64_t value, int64_t bytes,
              kp_err err, const char *detail) {
    if (!w->obs.on_event)
        return;
    kp_event ev;
    kp_event_init(&ev, kind, w->head.now);
    ev.node = node;
    ev.value = value;
    ev.bytes = bytes;
    ev.err = err;
    ev.detail = detail;
    kp_observer_emit(&w->obs, &ev);
}

const char *sn__pair_name(char *buf, size_t cap, const sn_node *a, const sn_node *b) {
    snprintf(buf, cap, "%s>%s", a ? a->name : "*", b ? b->name : "*");
    return buf;
}

/* The world's copy of the text s: one heap string per distinct text,
 * freed by sn__net_destroy only (the promise of sn_detail_is_stable).
 * Connections between the same endpoints share it. NULL on no memory. */
static const char *sn__label_intern(sn_world *w, const char *s) {
    for (int i = 0; i < w->n_labels; i++)
        if (!strcmp(w->labels[i], s))
            return w->labels[i];
    if (w->n_labels == w->cap_labels) {
        int cap = w->cap_labels ? w->cap_labels * 2 : 8;
        char **v = realloc(w->labels, (size_t)cap * sizeof *v);
        if (!v)
            return NULL;
        w->labels = v;
        w->cap_labels = cap;
    }
    char *copy = strdup(s);
    if (copy)
        w->labels[w->n_labels++] = copy;
    return copy;
}

bool sn_detail_is_stable(const sn_world *w, const char *s) {
    for (int i = 0; i < w->n_labels; i++)
        if (w->labels[i] == s)
            return true;
    return false;
}

/* The detail of the connection's events seen from `side`: "me>peer", or
 * "me>host:port" for an address that names no node (at most 191 chars).
 * Formatted once when the connection is made (the nodes and the address
 * never change), not per event, and interned in the world. NULL on no
 * memory. */
static const char *sn__conn_label(sn_world *w, const sn__conn *c, int side) {
    char buf[192];
    const sn_node *me = c->node[side], *peer = c->node[1 - side];
    if (peer)
        sn__pair_name(buf, sizeof buf, me, peer);
    else
        snprintf(buf, sizeof buf, "%s>%s:%d", me ? me->name : "*", c->host, c->port);
    return sn__label_intern(w, buf);
}

/* A connection event seen from endpoint `side`. */
static void sn__emit_conn(sn__conn *c, int kind, int side, int64_t bytes, kp_err err) {
    sn_world *w = c->w;
    if (!w->obs.on_event)
        return;
    const sn_node *me = c->node[side];
    sn__emit(w, kind, me ? me->id : -1, (int64_t)c->id, bytes, err, c->label[side]);
}

/* ------------------------------------------------------------------ */
/* Nodes and links                                                     */
/* ------------------------------------------------------------------ */

sn_node *sn_node_add(sn_world *w, const char *name) {
    if (w->n_nodes == w->cap_nodes) {
        int cap = w->cap_nodes ? w->cap_nodes * 2 : 8;
        sn_node **v = realloc(w->nodes, (size_t)cap * sizeof *v);
        if (!v)
            return NULL;
        w->nodes = v;
        w->cap_nodes = cap;
    }
    if (w->n_nodes == w->links_cap) {
        int cap = w->links_cap ? w->links_cap * 2 : 8;
        sn__link *m = calloc((size_t)cap * (size_t)cap, sizeof *m);
        if (!m)
            return NULL;
        for (int a = 0; a < w->links_cap; a++)
            memcpy(&m[a * cap], &w->links[a * w->links_cap],
                   (size_t)w->links_cap * sizeof *m);
        free(w->links);
        w->links = m;
        w->links_cap = cap;
    }
    sn_node *n = calloc(1, sizeof *n);
    char *nm = strdup(name ? name : "");
    if (!n || !nm) {
        free(n);
        free(nm);
        return NULL;
    }
    n->w = w;
    n->id = w->n_nodes;
    n->name = nm;
    n->up = true;
    n->sndbuf = w->sndbuf;
    n->rcvbuf = w->rcvbuf;
    w->nodes[w->n_nodes++] = n;
    return n;
}

sn_node *sn_node_find(sn_world *w, const char *name) {
    for (int i = 0; i < w->n_nodes; i++)
        if (strcmp(w->nodes[i]->name, name) == 0)
            return w->nodes[i];
    return NULL;
}

int32_t sn_node_id(const sn_node *n) { return n->id; }
const char *sn_node_name(const sn_node *n) { return n->name; }
bool sn_node_is_up(const sn_node *n) { return n->up; }
int sn_node_count(const sn_world *w) { return w->n_nodes; }
sn_node *sn_node_at(sn_world *w, int id) {
    return id >= 0 && id < w->n_nodes ? w->nodes[id] : NULL;
}

void sn_node_set_buffers(sn_node *n, int64_t sndbuf, int64_t rcvbuf) {
    if (sndbuf > 0)
        n->sndbuf = sndbuf;
    if (rcvbuf > 0)
        n->rcvbuf = rcvbuf;
}

sn__link *sn__link_of(sn_world *w, const sn_node *a, const sn_node *b) {
    if (!a || !b)
        return NULL;
    return &w->links[a->id * w->links_cap + b->id];
}

static sn_link_cfg sn__cfg(const sn_world *w, const sn__link *l) {
    return l && l->has_cfg ? l->cfg : w->default_link;
}

sn_link_cfg sn_link_get(const sn_world *w, const sn_node *a, const sn_node *b) {
    return sn__cfg(w, sn__link_of((sn_world *)w, a, b));
}

static bool sn__part(const sn__link *l) { return l && (l->part_script || l->part_chaos); }
static bool sn__bh(const sn__link *l) { return l && (l->bh_script || l->bh_chaos); }

bool sn_link_blocked(const sn_world *w, const sn_node *a, const sn_node *b) {
    return sn__part(sn__link_of((sn_world *)w, a, b));
}

bool sn_link_blackholed(const sn_world *w, const sn_node *a, const sn_node *b) {
    return sn__bh(sn__link_of((sn_world *)w, a, b));
}

void sn_set_default_link(sn_world *w, sn_link_cfg cfg) {
    w->default_link = cfg;
}

static void sn__emit_link(sn_world *w, const sn_node *a, const sn_node *b, sn_link_cfg cfg) {
    if (!w->obs.on_event)
        return;
    char buf[160];
    kp_event ev;
    kp_event_init(&ev, SN_EV_LINK_CFG, w->head.now);
    ev.node = a->id;
    ev.value = b->id;
    ev.bytes = cfg.bandwidth_bps;
    ev.offset = cfg.latency_us;
    ev.detail = sn__pair_name(buf, sizeof buf, a, b);
    kp_observer_emit(&w->obs, &ev);
}

void sn_set_link_oneway(sn_world *w, sn_node *a, sn_node *b, sn_link_cfg cfg) {
    sn__link *l = sn__link_of(w, a, b);
    l->cfg = cfg;
    l->has_cfg = true;
    sn__emit_link(w, a, b, cfg);
}

void sn_set_link(sn_world *w, sn_node *a, sn_node *b, sn_link_cfg cfg) {
    sn_set_link_oneway(w, a, b, cfg);
    if (a != b)
        sn_set_link_oneway(w, b, a, cfg);
}

void sn_reset_link(sn_world *w, sn_node *a, sn_node *b) {
    sn__link_of(w, a, b)->has_cfg = false;
    sn__link_of(w, b, a)->has_cfg = false;
    sn__emit_link(w, a, b, w->default_link);
}

/* ------------------------------------------------------------------ */
/* Listeners                                                           */
/* ------------------------------------------------------------------ */

static sn__listener *sn__find_listener(sn_world *w, const char *host, int port, sn_node **owner) {
    for (int i = 0; i < w->n_nodes; i++) {
        sn_node *n = w->nodes[i];
        for (int j = 0; j < n->n_listeners; j++)
            if (n->listeners[j].port == port && strcmp(n->listeners[j].host, host) == 0) {
                if (owner)
                    *owner = n;
                return &n->listeners[j];
            }
    }
    return NULL;
}

/* The node an address leads to: its listener's node, else the node that
 * has that name or listens on that host at another port, else none. */
static sn_node *sn__resolve(sn_world *w, const char *host, int port) {
    sn_node *n = NULL;
    if (sn__find_listener(w, host, port, &n))
        return n;
    for (int i = 0; i < w->n_nodes; i++)
        if (strcmp(w->nodes[i]->name, host) == 0)
            return w->nodes[i];
    for (int i = 0; i < w->n_nodes; i++)
        for (int j = 0; j < w->nodes[i]->n_listeners; j++)
            if (strcmp(w->nodes[i]->listeners[j].host, host) == 0)
                return w->nodes[i];
    return NULL;
}

bool sn_node_listen(sn_node *n, const char *host, int port, sn_accept_cb *on_accept, void *ctx) {
    if (!host)
        host = n->name;
    if (sn__find_listener(n->w, host, port, NULL))
        return false;
    if (n->n_listeners == n->cap_listeners) {
        int cap = n->cap_listeners ? n->cap_listeners * 2 : 4;
        sn__listener *v = realloc(n->listeners, (size_t)cap * sizeof *v);
        if (!v)
            return false;
        n->listeners = v;
        n->cap_listeners = cap;
    }
    char *h = strdup(host);
    if (!h)
        return false;
    n->listeners[n->n_listeners++] = (sn__listener){ h, port, on_accept, ctx };
    return true;
}

void sn_node_unlisten(sn_node *n, const char *host, int port) {
    if (!host)
        host = n->name;
    for (int j = 0; j < n->n_listeners; j++)
        if (n->listeners[j].port == port && strcmp(n->listeners[j].host, host) == 0) {
            free(n->listeners[j].host);
            memmove(&n->listeners[j], &n->listeners[j + 1],
                    (size_t)(n->n_listeners - j - 1) * sizeof n->listeners[0]);
            n->n_listeners--;
            return;
        }
}

/* ------------------------------------------------------------------ */
/* Connection plumbing                                                 */
/* ------------------------------------------------------------------ */

static void sn__notify_fire(void *ctx, sn_world *w);
static void sn__hs_fire(void *ctx, sn_world *w);
static void sn__gc_fire(void *ctx, sn_world *w);
static void sn__deliver_fire(void *ctx, sn_world *w);
static void sn__reset_fire(void *ctx, sn_world *w);

static kp_conn *sn__check(kp_conn *ep) {
    assert(ep && ep->magic == SN_CONN_MAGIC);
    return ep;
}

/* Posts an event for the endpoint's user; it runs from the notify timer.
 * (Inline into the delivery, its most frequent caller: ~20,000 posts in
 * the quiet hour's 20,000 records.) */
static inline __attribute__((always_inline)) void sn__post_in(kp_conn *ep, unsigned bit, kp_err err) {
    /* Every change that can turn sn_conn_pending from false to true (bytes
     * landing, a FIN, a reset, a refused or completed connect) posts here:
     * the owner's generation moves first (kp_transport.generation). */
    sn_node *owner = ep->conn->node[ep->side];
    if (owner)
        owner->rx_gen++;
    if (!ep->exposed || ep->released)
        return;
    ep->pending |= bit;
    if (bit == EVB_CLOSED)
        ep->pending_err = err;
    if (!sn_timer_pending(&ep->notify))
        sn_timer_schedule(ep->conn->w, &ep->notify, ep->conn->w->head.now);
}

static void sn__post(kp_conn *ep, unsigned bit, kp_err err) {
    sn__post_in(ep, bit, err);
}

static void sn__notify_fire(void *ctx, sn_world *w) {
    kp_conn *ep = ctx;
    unsigned p = ep->pending;
    kp_err err = ep->pending_err;
    ep->pending = 0;
    /* The endpoint memory lives until the gc step after its close, so it can
     * be checked after every callback. */
#define SN__FIRE(ev, e)                                                  \
    do {                                                                 \
        if (ep->released || !ep->cb)                                     \
            return;                                                      \
        ep->cb(ep->cb_ctx, ep, (ev), (e));                               \
    } while (0)
    if (p & EVB_CONNECTED)
        SN__FIRE(KP_CONN_EV_CONNECTED, KP_ERR_NONE);
    if ((p & EVB_READABLE) && sn__rx(ep)->rcv_len > 0)
        SN__FIRE(KP_CONN_EV_READABLE, KP_ERR_NONE);
    if ((p & EVB_WRITABLE) && ep->state == KP_CONN_CONNECTED)
        SN__FIRE(KP_CONN_EV_WRITABLE, KP_ERR_NONE);
    if (p & EVB_CLOSED)
        SN__FIRE(KP_CONN_EV_CLOSED, err);
#undef SN__FIRE
    (void)w;
}

/* One hop's delay a->b (latency + jitter), for handshake messages. */
static kp_time_us sn__hop(sn__dir *d, sn_node *a, sn_node *b) {
    sn_link_cfg cfg = sn__cfg(d->conn->w, sn__link_of(d->conn->w, a, b));
    kp_time_us t = cfg.latency_us;
    if (cfg.jitter_us > 0)
        t += kp_rng_range(&d->rng, 0, cfg.jitter_us);
    return t;
}

static void sn__schedule_gc(sn__conn *c) {
    if (!sn_timer_pending(&c->gc))
        sn_timer_schedule(c->w, &c->gc, c->w->head.now);
}

static void sn__conn_free(sn__conn *c) {
    sn_world *w = c->w;
    sn_timer_cancel(w, &c->hs);
    sn_timer_cancel(w, &c->gc);
    for (int i = 0; i < 2; i++) {
        sn_timer_cancel(w, &c->ep[i].notify);
        sn_timer_cancel(w, &c->ep[i].reset);
        sn_timer_cancel(w, &c->dir[i].deliver);
        sn__ring_free(w, &c->dir[i].bytes);
        free(c->dir[i].segs);
        free(c->dir[i].chunks.v);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conn_head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        w->conn_tail = c->prev;
    free(c->host);
    free(c);
}

static void sn__gc_fire(void *ctx, sn_world *w) {
    sn__conn *c = ctx;
    (void)w;
    for (int i = 0; i < 2; i++)
        if (c->ep[i].exposed && !c->ep[i].released)
            return;
    sn__conn_free(c);
}

/* Stops every byte and handshake message of the connection. */
static void sn__kill(sn__conn *c) {
    c->phase = PH_DEAD;
    c->held = false;
    sn_timer_cancel(c->w, &c->hs);
    for (int d = 0; d < 2; d++) {
        sn__dir *dir = &c->dir[d];
        sn_timer_cancel(c->w, &dir->deliver);
        /* what arrived stays readable until the reader's own reset */
        sn__stream_truncate(dir, dir->kept + dir->rcv_len + dir->gap);
        dir->chunks.len = 0;
        dir->chunks.head = 0;
        dir->stalled_part = dir->stalled_window = false;
    }
}

/* Resets one endpoint: CLOSED with KP_ERR__TRANSPORT, unread bytes gone. */
static void sn__reset_endpoint(sn__conn *c, int side) {
    kp_conn *ep = &c->ep[side];
    sn_timer_cancel(c->w, &ep->reset);
    if (ep->state == KP_CONN_CLOSED || ep->released)
        return;
    ep->state = KP_CONN_CLOSED;
    ep->want_writable = false;
    sn__rx_drop_unread(sn__rx(ep));
    if (ep->exposed) {
        sn__emit_conn(c, SN_EV_RESET, side, -1, KP_ERR__TRANSPORT);
        sn__post(ep, EVB_CLOSED, KP_ERR__TRANSPORT);
    }
}

static void sn__reset_fire(void *ctx, sn_world *w) {
    kp_conn *ep = ctx;
    (void)w;
    sn__reset_endpoint(ep->conn, ep->side);
    sn__schedule_gc(ep->conn);
}

/* Re-times the chunks of a direction so none arrives before `floor`, and
 * (re)arms its delivery timer. */
static void sn__retime(sn__dir *dir, kp_time_us floor) {
    for (uint32_t i = 0; i < dir->chunks.len; i++) {
        sn__chunk *ch = sn__chunkq_at(&dir->chunks, i);
        if (ch->at < floor)
            ch->at = floor;
        floor = ch->at;
    }
    if (dir->last_at < floor)
        dir->last_at = floor;
    if (dir->chunks.len && !dir->stalled_part && !dir->stalled_window)
        sn_timer_schedule(dir->conn->w, &dir->deliver, sn__chunkq_at(&dir->chunks, 0)->at);
}

/* Cuts n freshly queued bytes (and the FIN when fin) into chunks. */
static void sn__cut(sn__conn *c, int d, size_t n, bool fin) {
    sn_world *w = c->w;
    sn__dir *dir = &c->dir[d];
    sn__link *l = sn__link_of(w, c->node[d], c->node[1 - d]);
    /* read in place (a copy of the struct was seven loads and stores a
     * send, kept on the stack across the calls below) */
    const sn_link_cfg *cfg = l && l->has_cfg ? &l->cfg : &w->default_link;
    bool was_empty = dir->chunks.len == 0;
    while (n > 0) {
        size_t sz = n;
        if (cfg->max_chunk > 0) {
            int64_t lo = cfg->min_chunk > 0 ? cfg->min_chunk : 1;
            int64_t hi = cfg->max_chunk > lo ? cfg->max_chunk : lo;
            sz = (size_t)kp_rng_range(&dir->rng, lo, hi);
            if (sz > n)
                sz = n;
        }
        kp_time_us start = w->head.now, ser = 0;
        if (l && l->busy_until > start)
            start = l->busy_until;
        if (cfg->bandwidth_bps > 0)
            ser = (kp_time_us)(((int64_t)sz * 8 * 1000000 + cfg->bandwidth_bps - 1) / cfg->bandwidth_bps);
        if (l)
            l->busy_until = start + ser;
        kp_time_us at = start + ser + cfg->latency_us;
        if (cfg->jitter_us > 0)
            at += kp_rng_range(&dir->rng, 0, cfg->jitter_us);
        if (at < dir->last_at)
            at = dir->last_at;
        dir->last_at = at;
        sn__chunkq_push(&dir->chunks, (sn__chunk){ at, (uint32_t)sz, 0 });
        n -= sz;
    }
    if (fin) {
        kp_time_us at = w->head.now + cfg->latency_us;
        if (cfg->jitter_us > 0)
            at += kp_rng_range(&dir->rng, 0, cfg->jitter_us);
        if (at < dir->last_at)
            at = dir->last_at;
        dir->last_at = at;
        dir->fin = true;
        sn__chunkq_push(&dir->chunks, (sn__chunk){ at, 0, 1 });
    }
    if (was_empty && dir->chunks.len && !dir->stalled_part && !dir->stalled_window)
        sn_timer_schedule(w, &dir->deliver, sn__chunkq_at(&dir->chunks, 0)->at);
}

/* The sender of direction d got room back. Like Linux (sk_stream_wspace),
 * WRITABLE waits until a third of the send buffer is free: a writer that
 * waits for it writes in large pieces instead of refilling byte by byte. */
static inline void sn__room(sn__conn *c, int d) {
    kp_conn *ep = &c->ep[d];
    if (ep->want_writable && ep->state == KP_CONN_CONNECTED &&
        ep->sndbuf - (int64_t)sn__inflight(&c->dir[d]) >= (ep->sndbuf + 2) / 3) {
        ep->want_writable = false;
        sn__post(ep, EVB_WRITABLE, KP_ERR_NONE);
    }
}

static void sn__next(sn__dir *dir) {
    if (dir->chunks.len)
        sn_timer_schedule(dir->conn->w, &dir->deliver, sn__chunkq_at(&dir->chunks, 0)->at);
}

static void sn__deliver_fire(void *ctx, sn_world *w) {
    sn__dir *dir = ctx;
    sn__conn *c = dir->conn;
    int d = dir->from;
    sn_node *src = c->node[d], *dst = c->node[1 - d];
    kp_conn *rx = &c->ep[1 - d];
    sn__link *l = sn__link_of(w, src, dst);
    if (c->phase == PH_DEAD || !dir->chunks.len)
        return;
    sn__chunk ch = *sn__chunkq_at(&dir->chunks, 0);
    if (sn__part(l)) {
        if (!dir->stalled_part)
            sn__emit_conn(c, SN_EV_STALL, d, (int64_t)sn__inflight(dir), KP_ERR_NONE);
        dir->stalled_part = true;
        return;
    }
    if (sn__bh(l) || dir->lost) {
        dir->lost = true;
        sn__drop_head(dir, ch.len);
        sn__chunkq_pop(&dir->chunks);
        sn__emit_conn(c, SN_EV_DROP, d, ch.len, KP_ERR_NONE);
        sn__room(c, d);
        sn__next(dir);
        return;
    }
    if (ch.fin) {
        sn__chunkq_pop(&dir->chunks);
        sn__emit_conn(c, SN_EV_PEER_CLOSED, 1 - d, -1, KP_ERR__CLOSED);
        if (!rx->released && rx->state != KP_CONN_CLOSED) {
            rx->state = KP_CONN_CLOSED;
            rx->want_writable = false;
            sn__post(rx, EVB_CLOSED, KP_ERR__CLOSED);
        }
        sn__schedule_gc(c);
        return;
    }
    if (rx->released) { /* the reader closed its end: bytes are discarded */
        sn__drop_head(dir, ch.len);
    } else {
        if ((int64_t)dir->rcv_len >= rx->rcvbuf) {
            dir->stalled_window = true; /* pending now: the generation moves */
            if (c->node[1 - d])
                c->node[1 - d]->rx_gen++;
            sn__emit_conn(c, SN_EV_WINDOW_FULL, 1 - d, (int64_t)dir->rcv_len, KP_ERR_NONE);
            return;
        }
        dir->rcv_len += ch.len; /* arrived: in place, behind the unread bytes */
        sn__emit_conn(c, SN_EV_DELIVER, 1 - d, ch.len, KP_ERR_NONE);
        sn__post_in(rx, EVB_READABLE, KP_ERR_NONE);
    }
    sn__chunkq_pop(&dir->chunks);
    sn__room(c, d);
    sn__next(dir);
}

/* ------------------------------------------------------------------ */
/* Handshake                                                           */
/* ------------------------------------------------------------------ */

static void sn__hs_fire(void *ctx, sn_world *w) {
    sn__conn *c = ctx;
    int d = c->phase == PH_SYN ? 0 : 1;
    sn_node *src = c->node[d], *dst = c->node[1 - d];
    sn__link *l = sn__link_of(w, src, dst);
    if (sn__part(l) || sn__bh(l)) {
        c->held = true;
        sn__emit_conn(c, SN_EV_HELD, 0, -1, KP_ERR_NONE);
        return;
    }
    switch (c->phase) {
    case PH_SYN: {
        sn_node *owner = NULL;
        sn__listener *li = sn__find_listener(w, c->host, c->port, &owner);
        if (!dst || !dst->up || !li || owner != dst) {
            c->phase = PH_RST;
            sn_timer_schedule(w, &c->hs, w->head.now + sn__hop(&c->dir[1], dst, src));
            return;
        }
        sn_accept_cb *fn = li->on_accept;
        void *actx = li->ctx;
        c->ep[1].state = KP_CONN_CONNECTED;
        c->ep[1].exposed = true;
        c->phase = PH_SYNACK;
        kp_time_us t = w->head.now + sn__hop(&c->dir[1], dst, src);
        c->dir[1].last_at = t; /* server bytes never overtake the SYN-ACK */
        sn_timer_schedule(w, &c->hs, t);
        sn__emit_conn(c, SN_EV_ACCEPT, 1, -1, KP_ERR_NONE);
        if (fn)
            fn(actx, &c->ep[1]);
        return;
    }
    case PH_SYNACK:
        c->phase = PH_OPEN;
        if (!c->ep[0].released && c->ep[0].state == KP_CONN_CONNECTING) {
            c->ep[0].state = KP_CONN_CONNECTED;
            sn__emit_conn(c, SN_EV_CONNECTED, 0, -1, KP_ERR_NONE);
            sn__post(&c->ep[0], EVB_CONNECTED, KP_ERR_NONE);
        }
        return;
    case PH_RST:
        c->phase = PH_DEAD;
        if (c->ep[0].state != KP_CONN_CLOSED) {
            c->ep[0].state = KP_CONN_CLOSED;
            sn__emit_conn(c, SN_EV_REFUSED, 0, -1, KP_ERR__TRANSPORT);
            sn__post(&c->ep[0], EVB_CLOSED, KP_ERR__TRANSPORT);
        }
        sn__schedule_gc(c);
        return;
    default:
        assert(!"handshake timer in a settled phase");
    }
}

void sn__net_kick(sn_world *w) {
    for (sn__conn *c = w->conn_head; c; c = c->next) {
        if (c->phase == PH_DEAD)
            continue;
        if (c->held) {
            int d = c->phase == PH_SYN ? 0 : 1;
            sn__link *l = sn__link_of(w, c->node[d], c->node[1 - d]);
            if (!sn__part(l) && !sn__bh(l)) {
                c->held = false;
                kp_time_us t = w->head.now + sn__hop(&c->dir[d], c->node[d], c->node[1 - d]);
                sn_timer_schedule(w, &c->hs, t);
                if (d == 1)
                    sn__retime(&c->dir[1], t);
            }
        }
        for (int d = 0; d < 2; d++) {
            sn__dir *dir = &c->dir[d];
            if (dir->stalled_part && !sn__part(sn__link_of(w, c->node[d], c->node[1 - d]))) {
                dir->stalled_part = false;
                sn__retime(dir, w->head.now + sn__hop(dir, c->node[d], c->node[1 - d]));
            }
        }
    }
}

/* ------------------------------------------------------------------ */
/* Transport ops                                                       */
/* ------------------------------------------------------------------ */

static void sn__dir_init(sn__conn *c, int d, const char *client, uint64_t k) {
    char name[160];
    sn__dir *dir = &c->dir[d];
    dir->conn = c;
    dir->from = d;
    snprintf(name, sizeof name, "net/%s/%llu/%s", client, (unsigned long long)k,
             d == 0 ? "c2s" : "s2c");
    dir->rng = sn_rng_stream(c->w, name);
    sn_timer_init(&dir->deliver, sn__deliver_fire, dir);
}

static kp_conn *sn__connect(void *ctx, const char *host, int port, kp_conn_cb *cb, void *cb_ctx) {
    sn_node *from = ctx;
    sn_world *w = from->w;
    if (!host || port < 0)
        return NULL;
    sn__conn *c = calloc(1, sizeof *c);
    if (!c || !(c->host = strdup(host))) {
        free(c);
        return NULL;
    }
    c->w = w;
    c->id = w->next_conn_id++;
    c->port = port;
    c->node[0] = from;
    c->node[1] = sn__resolve(w, host, port);
    c->label[0] = sn__conn_label(w, c, 0);
    c->label[1] = sn__conn_label(w, c, 1);
    if (!c->label[0] || !c->label[1]) {
        free(c->host);
        free(c);
        return NULL;
    }
    uint64_t k = from->connects++;
    for (int i = 0; i < 2; i++) {
        kp_conn *ep = &c->ep[i];
        ep->magic = SN_CONN_MAGIC;
        ep->side = i;
        ep->conn = c;
        ep->rx = &c->dir[1 - i];
        ep->state = KP_CONN_CONNECTING;
        const sn_node *n = c->node[i];
        ep->sndbuf = n ? n->sndbuf : w->sndbuf;
        ep->rcvbuf = n ? n->rcvbuf : w->rcvbuf;
        sn_timer_init(&ep->notify, sn__notify_fire, ep);
        sn_timer_init(&ep->reset, sn__reset_fire, ep);
        sn__dir_init(c, i, from->name, k);
    }
    c->ep[0].exposed = true;
    c->ep[0].cb = cb;
    c->ep[0].cb_ctx = cb_ctx;
    sn_timer_init(&c->hs, sn__hs_fire, c);
    sn_timer_init(&c->gc, sn__gc_fire, c);
    c->prev = w->conn_tail;
    if (w->conn_tail)
        w->conn_tail->next = c;
    else
        w->conn_head = c;
    w->conn_tail = c;

    sn__emit_conn(c, SN_EV_CONNECT, 0, -1, KP_ERR_NONE);
    if (!from->up) {
        c->phase = PH_DEAD;
        c->ep[0].state = KP_CONN_CLOSED;
        sn__emit_conn(c, SN_EV_REFUSED, 0, -1, KP_ERR__TRANSPORT);
        sn__post(&c->ep[0], EVB_CLOSED, KP_ERR__TRANSPORT);
        return &c->ep[0];
    }
    c->phase = PH_SYN;
    sn_timer_schedule(w, &c->hs, w->head.now + sn__hop(&c->dir[0], from, c->node[1]));
    return &c->ep[0];
}

/* A send's bookkeeping before any byte moves: how many of len bytes the
 * endpoint takes now (0..len; -1 when closed). *push is set when those
 * bytes are to go into the ring (false when they vanish: a reset is on
 * its way). */
static inline __attribute__((always_inline)) ssize_t sn__send_take(kp_conn *ep, size_t len,
                                                                   bool *push) {
    sn__check(ep);
    assert(!ep->released);
    *push = false;
    sn__conn *c = ep->conn;
    if (ep->state == KP_CONN_CLOSED)
        return -1;
    if (ep->state != KP_CONN_CONNECTED || len == 0)
        return 0;
    sn__dir *dir = &c->dir[ep->side];
    int64_t room = ep->sndbuf - (int64_t)sn__inflight(dir);
    size_t n = room <= 0 ? 0 : ((int64_t)len < room ? len : (size_t)room);
    if (n < len)
        ep->want_writable = true;
    if (!n)
        return 0;
    if (dir->fin) /* cannot happen: the user closed it */
        return -1;
    *push = c->phase != PH_DEAD; /* else a reset is on its way to us: bytes vanish */
    return (ssize_t)n;
}

/* After n bytes went into the ring: the send event and the chunks. */
static inline void sn__send_done(kp_conn *ep, size_t n) {
    sn__conn *c = ep->conn;
    sn__emit_conn(c, SN_EV_SEND, ep->side, (int64_t)n, KP_ERR_NONE);
    sn__cut(c, ep->side, n, false);
}

ssize_t sn_conn_send(kp_conn *ep, const void *buf, size_t len) {
    bool push;
    ssize_t n = sn__send_take(ep, len, &push);
    if (!push)
        return n;
    sn__dir *dir = &ep->conn->dir[ep->side];
    if (!sn__ring_push(ep->conn->w, &dir->bytes, buf, (size_t)n))
        return 0;
    if (__builtin_expect(dir->seg_n != 0, 0))
        sn__seg_push(dir, NULL, (size_t)n);
    sn__send_done(ep, (size_t)n);
    return n;
}

/* sn__send_take for the concatenation of iov[0..niov) (both gather writes). */
static inline ssize_t sn__sendv_take(kp_conn *ep, const kp_iov *iov, int niov, bool *push) {
    size_t len = 0;
    for (int i = 0; i < niov; i++)
        len += iov[i].len;
    return sn__send_take(ep, len, push);
}

/* send() of the concatenation of iov[0..niov): the pieces go into the
 * ring one after the other (one copy per byte, as for one buffer), then
 * one send event and one cut of the whole. */
ssize_t sn_conn_sendv(kp_conn *ep, const kp_iov *iov, int niov) {
    bool push;
    ssize_t n = sn__sendv_take(ep, iov, niov, &push);
    if (!push)
        return n;
    sn__dir *dir = &ep->conn->dir[ep->side];
    sn__ring *r = &dir->bytes;
    if (!sn__ring_reserve(ep->conn->w, r, (size_t)n))
        return 0;
    size_t left = (size_t)n;
    for (int i = 0; i < niov && left; i++) {
        size_t k = iov[i].len < left ? iov[i].len : left;
        sn__ring_push(ep->conn->w, r, iov[i].ptr, k); /* room reserved: cannot fail */
        left -= k;
    }
    if (__builtin_expect(dir->seg_n != 0, 0))
        sn__seg_push(dir, NULL, (size_t)n);
    sn__send_done(ep, (size_t)n);
    return n;
}

/* sn_conn_sendv, but a piece whose bit is set in keep goes into the
 * stream by reference (a segment; see sn__dir) instead of into the ring:
 * the sender keeps those bytes unchanged until the reader has read them
 * or the sender closes (sn_conn_close copies what is still referenced). */
ssize_t sn_conn_sendv_keep(kp_conn *ep, const kp_iov *iov, int niov, uint32_t keep) {
    bool push;
    ssize_t n = sn__sendv_take(ep, iov, niov, &push);
    if (!push)
        return n;
    sn_world *w = ep->conn->w;
    sn__dir *dir = &ep->conn->dir[ep->side];
    size_t left = (size_t)n, copied = 0;
    for (int i = 0; i < niov && left; i++) {
        size_t k = iov[i].len < left ? iov[i].len : left;
        if (i >= 32 || !(keep >> i & 1))
            copied += k;
        left -= k;
    }
    if (!sn__ring_reserve(w, &dir->bytes, copied))
        return 0;
    left = (size_t)n;
    for (int i = 0; i < niov && left; i++) {
        size_t k = iov[i].len < left ? iov[i].len : left;
        left -= k;
        if (!k)
            continue;
        if (i < 32 && (keep >> i & 1)) {
            if (!dir->seg_n && dir->bytes.len) /* the ring so far: one piece */
                sn__seg_push(dir, NULL, dir->bytes.len);
            sn__seg_push(dir, iov[i].ptr, k);
            dir->refs += k;
        } else {
            sn__ring_push(w, &dir->bytes, iov[i].ptr, k); /* room reserved */
            if (dir->seg_n)
                sn__seg_push(dir, NULL, k);
        }
    }
    sn__send_done(ep, (size_t)n);
    return n;
}

void sn_conn_reclaim(kp_conn *ep) {
    sn__check(ep);
    assert(!ep->released);
    sn__stream_own(ep->conn->w, &ep->conn->dir[ep->side]);
}

/* The reader took n bytes (n may be 0): step over them and, when its
 * buffer is below rcvbuf again, send the window update for a held chunk. */
static inline void sn__read_done(kp_conn *ep, size_t n) {
    sn__conn *c = ep->conn;
    sn__dir *in = sn__rx(ep);
    if (n)
        sn__rx_take(in, n);
    if (in->stalled_window && (int64_t)in->rcv_len < ep->rcvbuf && c->phase != PH_DEAD) {
        /* window update: the held chunk comes one latency back later */
        in->stalled_window = false;
        sn_link_cfg cfg = sn__cfg(c->w, sn__link_of(c->w, c->node[ep->side], c->node[1 - ep->side]));
        sn__retime(in, c->w->head.now + cfg.latency_us);
    }
}

ssize_t sn_conn_recv(kp_conn *ep, void *buf, size_t cap) {
    sn__check(ep);
    assert(!ep->released);
    sn__dir *in = sn__rx(ep);
    if (!in->rcv_len && !in->stalled_window) /* a poll that finds nothing */
        return ep->state == KP_CONN_CLOSED ? -1 : 0;
    size_t n = in->rcv_len < cap ? in->rcv_len : cap;
    assert(!in->kept); /* a keeping reader releases before it reads on */
    if (n && __builtin_expect(!in->seg_n, 1)) {
        const sn__ring *r = &in->bytes;
        size_t first = r->cap - r->head < n ? r->cap - r->head : n;
        memcpy(buf, r->buf + r->head, first);
        if (n > first)
            memcpy((uint8_t *)buf + first, r->buf, n - first);
    } else if (n) {
        for (size_t off = 0, k = 0; off < n; off += k) {
            const uint8_t *p = sn__stream_run(in, off, n - off, &k);
            memcpy((uint8_t *)buf + off, p, k);
        }
    }
    sn__read_done(ep, n);
    if (n)
        return (ssize_t)n;
    return ep->state == KP_CONN_CLOSED ? -1 : 0;
}

const uint8_t *sn_conn_peek(kp_conn *ep, size_t *len) {
    sn__check(ep);
    assert(!ep->released);
    const sn__dir *in = sn__rx(ep);
    const sn__ring *r = &in->bytes;
    size_t n = in->rcv_len;
    if (!n) {
        *len = 0;
        return NULL;
    }
    if (__builtin_expect(in->seg_n != 0, 0))
        return sn__stream_run(in, in->kept, n, len);
    size_t at = r->cap ? (r->head + in->kept) & (r->cap - 1) : 0;
    *len = r->cap - at < n ? r->cap - at : n;
    return r->buf + at;
}

void sn_conn_consume(kp_conn *ep, size_t n) {
    sn__check(ep);
    assert(!ep->released);
    assert(n <= sn__rx(ep)->rcv_len);
    sn__read_done(ep, n);
}

void sn_conn_keep(kp_conn *ep, size_t n) {
    sn__check(ep);
    assert(!ep->released);
    sn__dir *in = sn__rx(ep);
    assert(n <= in->rcv_len);
    /* read as sn_conn_consume reads (window update included); the bytes
     * move from the unread run to the kept one, which it borders */
    in->rcv_len -= n;
    in->kept += n;
    sn__read_done(ep, 0);
}

const uint8_t *sn_conn_kept(kp_conn *ep, size_t off, size_t *len) {
    sn__check(ep);
    assert(!ep->released);
    const sn__dir *in = sn__rx(ep);
    const sn__ring *r = &in->bytes;
    if (off >= in->kept) {
        *len = 0;
        return NULL;
    }
    size_t n = in->kept - off;
    if (__builtin_expect(in->seg_n != 0, 0))
        return sn__stream_run(in, off, n, len);
    size_t at = (r->head + off) & (r->cap - 1);
    *len = r->cap - at < n ? r->cap - at : n;
    return r->buf + at;
}

void sn_conn_release(kp_conn *ep, size_t n) {
    sn__check(ep);
    assert(!ep->released);
    sn__rx_release(sn__rx(ep), n);
}

void sn_conn_close(kp_conn *ep) {
    sn__check(ep);
    assert(!ep->released);
    sn__conn *c = ep->conn;
    sn_world *w = c->w;
    int s = ep->side;
    /* what this end lent (sn_conn_sendv_keep) is its own no more */
    sn__stream_own(w, &c->dir[s]);
    ep->released = true;
    ep->pending = 0;
    sn_timer_cancel(w, &ep->notify);
    sn_timer_cancel(w, &ep->reset);
    sn__emit_conn(c, SN_EV_CLOSE, s, -1, KP_ERR_NONE);
    if (ep->state == KP_CONN_CONNECTED && c->phase != PH_DEAD) {
        sn__cut(c, s, 0, true); /* FIN behind the bytes already sent */
    } else if (s == 0 && (c->phase == PH_SYN || c->phase == PH_SYNACK || c->phase == PH_RST)) {
        /* abandoned connect: an accepted server side hears an RST */
        bool accepted = c->phase == PH_SYNACK;
        sn__kill(c);
        kp_conn *srv = &c->ep[1];
        if (accepted && srv->exposed && !srv->released && srv->state == KP_CONN_CONNECTED)
            sn_timer_schedule(w, &srv->reset, w->head.now + sn__hop(&c->dir[0], c->node[0], c->node[1]));
    }
    ep->state = KP_CONN_CLOSED;
    ep->want_writable = false;
    sn__dir *in = &c->dir[1 - s];
    sn__rx_release(in, in->kept); /* kept and unread bytes are gone */
    sn__rx_take(in, in->rcv_len);
    if (in->stalled_window) { /* bytes to us are discarded from now on */
        in->stalled_window = false;
        sn__retime(in, w->head.now);
    }
    sn__schedule_gc(c);
}

void sn_conn_abort(kp_conn *ep) {
    sn__check(ep);
    assert(!ep->released);
    sn__conn *c = ep->conn;
    if (c->phase != PH_DEAD) {
        sn__kill(c);
        sn__reset_endpoint(c, 1 - ep->side);
    }
    if (ep->state != KP_CONN_CLOSED) {
        ep->state = KP_CONN_CLOSED;
        sn__emit_conn(c, SN_EV_RESET, ep->side, -1, KP_ERR__TRANSPORT);
    }
    sn_conn_close(ep);
}

kp_conn_state sn_conn_state(const kp_conn *ep) {
    assert(ep && ep->magic == SN_CONN_MAGIC);
    return ep->state;
}

bool sn_conn_pending(const kp_conn *ep) {
    assert(ep && ep->magic == SN_CONN_MAGIC);
    const sn__dir *in = ep->rx;
    /* exactly the cases where sn_conn_recv returns nonzero or updates the
     * window */
    return ep->state != KP_CONN_CONNECTED || in->rcv_len || in->stalled_window;
}

void sn_conn_set_cb(kp_conn *ep, kp_conn_cb *cb, void *cb_ctx) {
    sn__check(ep);
    ep->cb = cb;
    ep->cb_ctx = cb_ctx;
}

int64_t sn_conn_readable(const kp_conn *ep) {
    return (int64_t)ep->rx->rcv_len;
}
int64_t sn_conn_unacked(const kp_conn *ep) {
    return (int64_t)sn__inflight(&ep->conn->dir[ep->side]);
}
uint64_t sn_conn_id(const kp_conn *ep) { return ep->conn->id; }
int sn_conn_count(const sn_world *w) {
    int n = 0;
    for (const sn__conn *c = w->conn_head; c; c = c->next)
        n++;
    return n;
}
sn_node *sn_conn_node(const kp_conn *ep) { return ep->conn->node[ep->side]; }
sn_node *sn_conn_peer_node(const kp_conn *ep) { return ep->conn->node[1 - ep->side]; }

static ssize_t sn__op_send(void *ctx, kp_conn *c, const void *buf, size_t len) {
    (void)ctx;
    return sn_conn_send(c, buf, len);
}
static ssize_t sn__op_sendv(void *ctx, kp_conn *c, const kp_iov *iov, int n) {
    (void)ctx;
    return sn_conn_sendv(c, iov, n);
}
static ssize_t sn__op_sendv_keep(void *ctx, kp_conn *c, const kp_iov *iov, int n, uint32_t keep) {
    (void)ctx;
    return sn_conn_sendv_keep(c, iov, n, keep);
}
static void sn__op_reclaim(void *ctx, kp_conn *c) {
    (void)ctx;
    sn_conn_reclaim(c);
}
static ssize_t sn__op_recv(void *ctx, kp_conn *c, void *buf, size_t cap) {
    (void)ctx;
    return sn_conn_recv(c, buf, cap);
}
static void sn__op_close(void *ctx, kp_conn *c) {
    (void)ctx;
    sn_conn_close(c);
}
static kp_conn_state sn__op_state(void *ctx, kp_conn *c) {
    (void)ctx;
    return sn_conn_state(c);
}
static bool sn__op_pending(void *ctx, kp_conn *c) {
    (void)ctx;
    return sn_conn_pending(c);
}
static uint64_t sn__op_generation(void *ctx) {
    return ((const sn_node *)ctx)->rx_gen;
}

kp_transport sn_transport(sn_world *w, sn_node *from) {
    assert(from && from->w == w);
    (void)w;
    return (kp_transport){
        .connect = sn__connect,
        .send = sn__op_send,
        .recv = sn__op_recv,
        .close = sn__op_close,
        .state = sn__op_state,
        .pending = sn__op_pending,
        .generation = sn__op_generation,
        .sendv = sn__op_sendv,
        .sendv_keep = sn__op_sendv_keep,
        .reclaim = sn__op_reclaim,
        .ctx = from,
    };
}

/* ------------------------------------------------------------------ */
/* Faults                                                              */
/* ------------------------------------------------------------------ */

static bool sn__between(const sn__conn *c, const sn_node *a, const sn_node *b) {
    if (!b)
        return c->node[0] == a || c->node[1] == a;
    return (c->node[0] == a && c->node[1] == b) || (c->node[0] == b && c->node[1] == a);
}

static void sn__emit_fault(sn_world *w, int kind, const sn_node *a, const sn_node *b,
                           const char *what) {
    if (!w->obs.on_event)
        return;
    char buf[224], pair[160];
    sn__pair_name(pair, sizeof pair, a, b);
    snprintf(buf, sizeof buf, "%s%s%s", pair, what && *what ? " " : "", what ? what : "");
    sn__emit(w, kind, a ? a->id : -1, b ? b->id : -1, -1, KP_ERR_NONE, buf);
}

void sn__disconnect(sn_world *w, sn_node *a, sn_node *b, const char *why) {
    sn__emit_fault(w, SN_EV_DISCONNECT, a, b, why);
    for (sn__conn *c = w->conn_head; c; c = c->next) {
        if (c->phase == PH_DEAD || !sn__between(c, a, b))
            continue;
        sn__kill(c);
        sn__reset_endpoint(c, 0);
        sn__reset_endpoint(c, 1);
        sn__schedule_gc(c);
    }
}

void sn_fault_disconnect(sn_world *w, sn_node *a, sn_node *b) {
    sn__disconnect(w, a, b, "");
}

/* Applies fn to the link a->b (and b->a when both), or to every pair of a
 * with every other node when b is NULL. */
static void sn__each_link(sn_world *w, sn_node *a, sn_node *b, bool both,
                          void (*fn)(sn__link *l, int arg), int arg) {
    for (int i = 0; i < w->n_nodes; i++) {
        sn_node *x = w->nodes[i];
        if (b ? x != b : x == a)
            continue;
        fn(sn__link_of(w, a, x), arg);
        if (both)
            fn(sn__link_of(w, x, a), arg);
    }
}

static void sn__l_part_script(sn__link *l, int on) { l->part_script = on; }
static void sn__l_part_chaos(sn__link *l, int delta) {
    if (delta > 0)
        l->part_chaos++;
    else if (l->part_chaos)
        l->part_chaos--;
}
static void sn__l_heal(sn__link *l, int arg) {
    (void)arg;
    l->part_script = false;
    l->part_chaos = 0;
}
static void sn__l_bh_script(sn__link *l, int on) { l->bh_script = on; }
static void sn__l_bh_chaos(sn__link *l, int delta) {
    if (delta > 0)
        l->bh_chaos++;
    else if (l->bh_chaos)
        l->bh_chaos--;
}

void sn__partition(sn_world *w, sn_node *a, sn_node *b, bool both, bool chaos, bool on) {
    sn__emit_fault(w, on ? SN_EV_PARTITION : SN_EV_HEAL, a, b,
                   chaos ? (both ? "both chaos" : "one-way chaos") : (both ? "both" : "one-way"));
    if (chaos)
        sn__each_link(w, a, b, both, sn__l_part_chaos, on ? 1 : -1);
    else if (on)
        sn__each_link(w, a, b, both, sn__l_part_script, 1);
    if (!on)
        sn__net_kick(w);
}

void sn_fault_partition(sn_world *w, sn_node *a, sn_node *b, bool both_ways) {
    sn__partition(w, a, b, both_ways, false, true);
}

void sn_fault_partition_sets(sn_world *w, sn_node *const *as, int na,
                             sn_node *const *bs, int nb, bool both_ways) {
    for (int i = 0; i < na; i++)
        for (int j = 0; j < nb; j++)
            if (as[i] != bs[j])
                sn_fault_partition(w, as[i], bs[j], both_ways);
}

void sn_fault_heal(sn_world *w, sn_node *a, sn_node *b) {
    sn__emit_fault(w, SN_EV_HEAL, a, b, "");
    sn__each_link(w, a, b, true, sn__l_heal, 0);
    sn__net_kick(w);
}

void sn__blackhole(sn_world *w, sn_node *a, sn_node *b, bool on, bool chaos) {
    sn__emit_fault(w, on ? SN_EV_BLACKHOLE_ON : SN_EV_BLACKHOLE_OFF, a, b, chaos ? "chaos" : "");
    if (chaos)
        sn__each_link(w, a, b, true, sn__l_bh_chaos, on ? 1 : -1);
    else
        sn__each_link(w, a, b, true, sn__l_bh_script, on);
    if (!on)
        sn__net_kick(w);
}

void sn_fault_blackhole(sn_world *w, sn_node *a, sn_node *b, bool on) {
    sn__blackhole(w, a, b, on, false);
}

void sn__node_down(sn_world *w, sn_node *n, const char *why) {
    sn__emit_fault(w, SN_EV_NODE_DOWN, n, NULL, why);
    n->up = false;
    for (sn__conn *c = w->conn_head; c; c = c->next) {
        if (c->phase == PH_DEAD || !sn__between(c, n, NULL))
            continue;
        /* which endpoints existed: a server side exists once accepted */
        sn__kill(c);
        for (int s = 0; s < 2; s++) {
            kp_conn *ep = &c->ep[s];
            if (c->node[s] == n) {
                sn__reset_endpoint(c, s);
            } else if (ep->exposed && !ep->released && ep->state != KP_CONN_CLOSED) {
                sn_link_cfg cfg = sn__cfg(w, sn__link_of(w, n, c->node[s]));
                sn_timer_schedule(w, &ep->reset, w->head.now + cfg.latency_us);
            }
        }
        sn__schedule_gc(c);
    }
}

void sn_fault_node_down(sn_world *w, sn_node *n) { sn__node_down(w, n, ""); }

void sn__node_up(sn_world *w, sn_node *n, const char *why) {
    sn__emit_fault(w, SN_EV_NODE_UP, n, NULL, why);
    n->up = true;
}

void sn_fault_node_up(sn_world *w, sn_node *n) { sn__node_up(w, n, ""); }

/* ------------------------------------------------------------------ */
/* Invariants                                                          */
/* ------------------------------------------------------------------ */

bool sn__net_verify(const sn_world *w) {
    const sn__conn *prev = NULL;
    for (const sn__conn *c = w->conn_head; c; prev = c, c = c->next) {
        if (c->prev != prev || (prev && prev->id >= c->id))
            return false; /* list in creation order */
        for (int d = 0; d < 2; d++) {
            const sn__dir *dir = &c->dir[d];
            const kp_conn *ep = &c->ep[d];
            uint64_t sum = 0;
            kp_time_us last = INT64_MIN;
            for (uint32_t i = 0; i < dir->chunks.len; i++) {
                const sn__chunk *ch = &dir->chunks.v[(dir->chunks.head + i) & (dir->chunks.cap - 1)];
                if (ch->at < last || (ch->fin && i + 1 != dir->chunks.len))
                    return false; /* arrivals ordered; FIN last */
                last = ch->at;
                sum += ch->len;
            }
            if (dir->kept + dir->rcv_len + dir->gap > sn__slen(dir) || (dir->gap && !dir->lost))
                return false; /* the stream holds kept + unread + gap + in flight */
            size_t ring = 0, refs = 0;
            for (uint32_t i = 0; i < dir->seg_n; i++) {
                const sn__seg *sg = sn__seg_at(dir, i);
                if (!sg->len)
                    return false; /* no empty piece */
                *(sg->ptr ? &refs : &ring) += sg->len;
            }
            if (refs != dir->refs || (dir->seg_n && (ring != dir->bytes.len || !refs)))
                return false; /* the pieces are the stream while it has references */
            if (sum != sn__inflight(dir) || (dir->chunks.len && last > dir->last_at))
                return false;
            if (!ep->released && (int64_t)sn__inflight(dir) > ep->sndbuf)
                return false;
            /* a delivery needs room below rcvbuf and adds one chunk, which
             * is never larger than the peer's send buffer */
            const sn__dir *in = &c->dir[1 - d];
            if (ep->rx != in || ep->conn != c || ep->side != d)
                return false; /* an end receives the other direction */
            if (!ep->released && (int64_t)in->rcv_len > ep->rcvbuf + c->ep[1 - d].sndbuf)
                return false;
            if (ep->released && (in->kept || in->rcv_len || in->gap))
                return false; /* a closed reader keeps no unread bytes */
            if (c->phase == PH_DEAD && (dir->chunks.len || sn_timer_pending(&dir->deliver)))
                return false;
            if (dir->chunks.len && !dir->stalled_part && !dir->stalled_window &&
                c->phase != PH_DEAD && !sn_timer_pending(&dir->deliver))
                return false; /* bytes in flight always have a delivery armed */
        }
        if (c->held && sn_timer_pending(&c->hs))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Teardown                                                            */
/* ------------------------------------------------------------------ */

void sn__net_destroy(sn_world *w) {
    while (w->conn_head)
        sn__conn_free(w->conn_head);
    for (int i = 0; i < w->n_nodes; i++) {
        sn_node *n = w->nodes[i];
        for (int j = 0; j < n->n_listeners; j++)
            free(n->listeners[j].host);
        free(n->listeners);
        free(n->name);
        free(n);
    }
    for (int i = 0; i < w->n_ring_spare; i++)
        free(w->ring_spare[i].buf);
    w->n_ring_spare = 0;
    for (int i = 0; i < w->n_labels; i++)
        free(w->labels[i]);
    free(w->labels);
    w->labels = NULL;
    w->n_labels = w->cap_labels = 0;
    free(w->nodes);
    free(w->links);
    w->nodes = NULL;
    w->links = NULL;
    w->n_nodes = w->cap_nodes = w->links_cap = 0;
}
