/*
 * rp_model.c — per-event roles, producer scopes, split pieces and record
 * numbers of an in-memory trace (the rules are in rp_internal.h).
 *
 * Why infer: the producer reports a send, an append and a callback without
 * a record id (KafkaProducer.send has none either). Its order does the work:
 * doSend appends the record it was given before returning, and
 * ProducerBatch.done completes its thunks in append order, so the n-th
 * callback of a batch is the n-th record appended to it. Split pieces keep
 * their parent's record order (RecordAccumulator.splitAndReenqueue).
 *
 * Memory: the arrays and maps of a model are malloc'ed; rp__model_free.
 */
#include "rp_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct rp_queue {
    int64_t *rec;
    size_t n, cap;
    size_t next_cb;   /* callbacks consumed */
    size_t taken;     /* records handed to split pieces */
    bool filled;      /* a piece that already took its parent's records */
    /* a piece appended to before it took its parent's records (a producer
     * that leaves pieces open: Java closes them, closeForRecordAppends):
     * those records come after the parent's */
    int64_t *own;
    size_t n_own, cap_own;
} rp_queue;

typedef struct rp_scope {
    const char *name; /* pool string or "" */
    size_t len;
    int64_t sends, last_send, max_batch;
} rp_scope;

int64_t rp__batch_key(const rp__model *m, size_t i, int64_t batch_id) {
    return (int64_t)(((uint64_t)m->scope[i] << 40) | ((uint64_t)batch_id & ((1ull << 40) - 1)));
}

static int rp_vpush(int64_t **v, size_t *n, size_t *cap, int64_t r) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        int64_t *p = realloc(*v, nc * sizeof *p);
        if (!p)
            return -1;
        *v = p;
        *cap = nc;
    }
    (*v)[(*n)++] = r;
    return 0;
}

static int rp_q_push(rp_queue *q, int64_t r) {
    return rp_vpush(&q->rec, &q->n, &q->cap, r);
}

typedef struct rp_mb {
    rp__model *m;
    rp_queue *qs;
    size_t n_qs, cap_qs;
    rp__imap qix; /* batch key -> queue index */
    rp_scope *sc;
    size_t n_sc, cap_sc;
} rp_mb;

static rp_queue *rp_queue_of(rp_mb *b, int64_t key, bool create) {
    size_t ix;
    if (rp__imap_get(&b->qix, key, &ix))
        return &b->qs[ix];
    if (!create)
        return NULL;
    if (b->n_qs == b->cap_qs) {
        size_t cap = b->cap_qs ? b->cap_qs * 2 : 64;
        rp_queue *q = realloc(b->qs, cap * sizeof *q);
        if (!q)
            return NULL;
        b->qs = q;
        b->cap_qs = cap;
    }
    memset(&b->qs[b->n_qs], 0, sizeof b->qs[0]);
    if (rp__imap_put(&b->qix, key, b->n_qs))
        return NULL;
    return &b->qs[b->n_qs++];
}

static int rp_scope_of(rp_mb *b, const char *comp, uint32_t *out) {
    const char *sp = strchr(comp, ' ');
    size_t len = sp ? (size_t)(sp - comp) : 0;
    for (size_t i = 0; i < b->n_sc; i++)
        if (b->sc[i].len == len && !strncmp(b->sc[i].name, comp, len)) {
            *out = (uint32_t)i;
            return 0;
        }
    if (b->n_sc == b->cap_sc) {
        size_t cap = b->cap_sc ? b->cap_sc * 2 : 8;
        rp_scope *s = realloc(b->sc, cap * sizeof *s);
        if (!s)
            return -1;
        b->sc = s;
        b->cap_sc = cap;
    }
    b->sc[b->n_sc] = (rp_scope){comp, len, 0, -1, -1};
    *out = (uint32_t)b->n_sc++;
    return 0;
}

/* A piece of `count` records (all of it: its own appends included) takes
 * the rest from its parent, in order, then its own appends. */
static int rp_piece_take(rp_mb *b, int64_t piece_key, int64_t count) {
    size_t pk;
    if (!rp__imap_get(&b->m->parent, piece_key, &pk))
        return 0;
    if (!rp_queue_of(b, piece_key, true))
        return -1;
    rp_queue *par = rp_queue_of(b, (int64_t)pk, false);
    rp_queue *piece = rp_queue_of(b, piece_key, false); /* the array may have moved */
    if (piece->filled)
        return 0;
    int64_t from_parent = count - (int64_t)piece->n_own;
    for (int64_t k = 0; par && k < from_parent && par->taken < par->n; k++)
        if (rp_q_push(piece, par->rec[par->taken++]))
            return -1;
    for (size_t k = 0; k < piece->n_own; k++)
        if (rp_q_push(piece, piece->own[k]))
            return -1;
    free(piece->own);
    piece->own = NULL;
    piece->n_own = piece->cap_own = 0;
    piece->filled = true;
    return 0;
}

int rp__model_build(const rp_trace *t, rp__model *m) {
    memset(m, 0, sizeof *m);
    m->t = t;
    m->n = t->n_events;
    size_t n = m->n ? m->n : 1;
    m->role = malloc(n * sizeof *m->role);
    m->record = malloc(n * sizeof *m->record);
    m->first_piece = malloc(n * sizeof *m->first_piece);
    m->scope = malloc(n * sizeof *m->scope);
    rp_mb b = {.m = m};
    int rc = m->role && m->record && m->first_piece && m->scope ? 0 : -1;
    /* scopes: one per component prefix; when at most one of them sends,
     * there is one producer and everything is one scope */
    size_t senders = 0;
    for (size_t i = 0; i < m->n && !rc; i++) {
        m->role[i] = rp_event_role(&t->events[i]);
        rc = rp_scope_of(&b, rp__event_component(&t->header, &t->events[i]), &m->scope[i]);
    }
    for (size_t sc = 0; sc < b.n_sc && !rc; sc++)
        for (size_t i = 0; i < m->n; i++)
            if (m->scope[i] == sc && m->role[i] == RP_ROLE_SEND) {
                senders++;
                break;
            }
    if (senders <= 1 && !rc) {
        for (size_t i = 0; i < m->n; i++)
            m->scope[i] = 0;
        b.n_sc = b.n_sc ? 1 : 0;
    }
    for (size_t i = 0; i < m->n && !rc; i++) {
        const rp_event *e = &t->events[i];
        const kp_event *ev = &e->ev;
        rp_role r = m->role[i];
        m->record[i] = -1;
        m->first_piece[i] = -1;
        rp_scope *s = &b.sc[m->scope[i]];
        int64_t key = ev->batch_id >= 0 ? rp__batch_key(m, i, ev->batch_id) : -1;
        if (ev->batch_id > s->max_batch &&
            (r == RP_ROLE_BATCH_CREATED || r == RP_ROLE_SPLIT || r == RP_ROLE_APPEND))
            s->max_batch = ev->batch_id;
        switch (r) {
        case RP_ROLE_SEND:
            m->record[i] = ev->value >= 0 ? ev->value : s->sends;
            s->sends++;
            s->last_send = m->record[i];
            break;
        case RP_ROLE_APPEND:
            m->record[i] = s->last_send;
            if (key >= 0 && s->last_send >= 0) {
                rp_queue *q = rp_queue_of(&b, key, true);
                size_t pk;
                if (!q)
                    rc = -1;
                else if (!q->filled && rp__imap_get(&m->parent, key, &pk))
                    rc = rp_vpush(&q->own, &q->n_own, &q->cap_own, s->last_send);
                else
                    rc = rp_q_push(q, s->last_send);
            }
            break;
        case RP_ROLE_SPLIT:
            if (key >= 0 && ev->value >= 0)
                rc = rp__imap_put(&m->parent, key, (size_t)rp__batch_key(m, i, ev->value));
            break;
        case RP_ROLE_SPLIT_PARENT:
            if (key >= 0 && ev->value > 0 && ev->value < 1000000) {
                int64_t first = s->max_batch + 1;
                m->first_piece[i] = first;
                for (int64_t k = 0; k < ev->value && !rc; k++)
                    rc = rp__imap_put(&m->parent, rp__batch_key(m, i, first + k), (size_t)key);
                s->max_batch = first + ev->value - 1;
            }
            break;
        case RP_ROLE_BATCH_DRAINED:
            if (key >= 0 && ev->record_count > 0)
                rc = rp_piece_take(&b, key, ev->record_count);
            break;
        case RP_ROLE_CALLBACK:
            if (ev->value >= 0) {
                m->record[i] = ev->value;
            } else if (key >= 0) {
                rc = rp_piece_take(&b, key, INT64_MAX / 2); /* never drained: all of it */
                rp_queue *q = rc ? NULL : rp_queue_of(&b, key, false);
                if (q && q->next_cb < q->n)
                    m->record[i] = q->rec[q->next_cb++];
            }
            break;
        default:
            break;
        }
    }
    m->n_scopes = b.n_sc;
    for (size_t i = 0; i < b.n_qs; i++) {
        free(b.qs[i].rec);
        free(b.qs[i].own);
    }
    free(b.qs);
    free(b.sc);
    rp__imap_free(&b.qix);
    if (rc) {
        rp__model_free(m);
        return -1;
    }
    return 0;
}

void rp__model_free(rp__model *m) {
    if (!m)
        return;
    free(m->role);
    free(m->record);
    free(m->first_piece);
    free(m->scope);
    rp__imap_free(&m->parent);
    memset(m, 0, sizeof *m);
}
