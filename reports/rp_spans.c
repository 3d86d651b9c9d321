/*
 * rp_spans.c — pairs start and end events into spans (see rp_internal.h):
 * batches waiting in the accumulator (keyed by producer scope and batch_id)
 * and requests in flight (keyed by scope, node and correlation id). Roles
 * come from the model (rp_kinds.h names), so pairing follows kind NAMES.
 */
#include "rp_internal.h"

#include <stdint.h>
#include <stdlib.h>

static int64_t rp_req_key(const rp__model *m, size_t i, int32_t node, int32_t corr) {
    return (int64_t)(((uint64_t)m->scope[i] << 48) | ((uint64_t)(uint16_t)node << 32) |
                     (uint32_t)corr);
}

typedef struct rp_sb {
    rp__span *sp;
    size_t n, cap;
} rp_sb;

static int rp_sb_start(rp_sb *b, rp__imap *open, int64_t key, int cat, size_t i, int64_t t_us,
                       int64_t batch_id) {
    size_t cur = 0;
    if (rp__imap_get(open, key, &cur) && cur != 0) {
        if (b->sp[cur - 1].start_us == t_us)
            return 1; /* the same start told twice (retry + batch_reenqueued) */
        b->sp[cur - 1].end_us = t_us; /* restarted: the old one ends here, unfinished */
    }
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 256;
        rp__span *ns = realloc(b->sp, nc * sizeof *ns);
        if (!ns)
            return -1;
        b->sp = ns;
        b->cap = nc;
    }
    b->sp[b->n] = (rp__span){.cat = cat, .start_ix = i, .end_ix = SIZE_MAX, .start_us = t_us,
                             .end_us = INT64_MIN, .batch_id = batch_id};
    b->n++;
    return rp__imap_put(open, key, b->n) ? -1 : 0;
}

static void rp_sb_end(rp_sb *b, rp__imap *open, int64_t key, size_t i, int64_t t_us,
                      unsigned char *is_boundary) {
    size_t cur = 0;
    if (!rp__imap_get(open, key, &cur) || cur == 0)
        return; /* an end without a start: stays an instant */
    b->sp[cur - 1].end_ix = i;
    b->sp[cur - 1].end_us = t_us;
    rp__imap_put(open, key, 0); /* the key exists: no allocation */
    if (is_boundary)
        is_boundary[i] = 1;
}

size_t rp__spans_build(const rp__model *m, rp__span **out, unsigned char *is_boundary) {
    const rp_trace *t = m->t;
    rp_sb b = {0};
    rp__imap open_batch = {0}, open_req = {0}; /* key -> span index + 1 (0 = closed) */
    int rc = 0;
    int64_t last_us = t->n_events ? t->events[t->n_events - 1].ev.time_us : 0;
    for (size_t i = 0; i < t->n_events && rc >= 0; i++) {
        const kp_event *ev = &t->events[i].ev;
        rp_role role = m->role[i];
        bool has_batch = ev->batch_id >= 0;
        bool has_req = ev->node != -1 && ev->correlation_id >= 0;
        switch (role) {
        case RP_ROLE_BATCH_CREATED:
            if (has_batch && (rc = rp_sb_start(&b, &open_batch, rp__batch_key(m, i, ev->batch_id),
                                               RP_SPAN_BATCH, i, ev->time_us, ev->batch_id)) >= 0 && is_boundary)
                is_boundary[i] = 1;
            break;
        case RP_ROLE_RETRY:
        case RP_ROLE_REENQUEUE:
        case RP_ROLE_SPLIT: /* these stay instants too: they say why the span began */
            if (has_batch)
                rc = rp_sb_start(&b, &open_batch, rp__batch_key(m, i, ev->batch_id), RP_SPAN_BATCH, i,
                                 ev->time_us, ev->batch_id);
            break;
        case RP_ROLE_SPLIT_PARENT:
            if (has_batch)
                rp_sb_end(&b, &open_batch, rp__batch_key(m, i, ev->batch_id), i, ev->time_us, NULL);
            for (int64_t k = 0; m->first_piece[i] >= 0 && k < ev->value && rc >= 0; k++)
                rc = rp_sb_start(&b, &open_batch, rp__batch_key(m, i, m->first_piece[i] + k),
                                 RP_SPAN_BATCH, i, ev->time_us, m->first_piece[i] + k);
            break;
        case RP_ROLE_BATCH_DRAINED:
        case RP_ROLE_EXPIRED:
        case RP_ROLE_BATCH_FAILED:
            if (has_batch)
                rp_sb_end(&b, &open_batch, rp__batch_key(m, i, ev->batch_id), i, ev->time_us,
                          role == RP_ROLE_BATCH_DRAINED ? is_boundary : NULL);
            break;
        case RP_ROLE_REQUEST_SENT:
            if (has_req && (rc = rp_sb_start(&b, &open_req, rp_req_key(m, i, ev->node, ev->correlation_id),
                                             RP_SPAN_REQUEST, i, ev->time_us, -1)) >= 0 && is_boundary)
                is_boundary[i] = 1;
            break;
        case RP_ROLE_REQUEST_DONE:
            if (has_req)
                rp_sb_end(&b, &open_req, rp_req_key(m, i, ev->node, ev->correlation_id), i, ev->time_us,
                          is_boundary);
            break;
        case RP_ROLE_REQUEST_ABORT_NODE:
            /* NetworkClient.processDisconnection: every request in flight to
             * the node ends; the slots are visited in table order, which
             * depends on keys only */
            if (ev->node == -1)
                break;
            for (size_t s = 0; s < open_req.cap; s++) {
                int64_t k = open_req.keys[s];
                if (!open_req.used[s] || open_req.vals[s] == 0 ||
                    (uint64_t)k >> 48 != m->scope[i] ||
                    (uint16_t)((uint64_t)k >> 32) != (uint16_t)ev->node)
                    continue;
                b.sp[open_req.vals[s] - 1].end_ix = i;
                b.sp[open_req.vals[s] - 1].end_us = ev->time_us;
                open_req.vals[s] = 0;
            }
            break;
        default:
            break;
        }
    }
    rp__imap_free(&open_batch);
    rp__imap_free(&open_req);
    if (rc < 0) {
        free(b.sp);
        *out = NULL;
        return SIZE_MAX;
    }
    for (size_t k = 0; k < b.n; k++)
        if (b.sp[k].end_us == INT64_MIN)
            b.sp[k].end_us = last_us > b.sp[k].start_us ? last_us : b.sp[k].start_us;
    *out = b.sp;
    return b.n;
}
