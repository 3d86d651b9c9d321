/*
 * rp_spans.c — pairs start and end events into spans (see rp_internal.h):
 * batches waiting in the accumulator (keyed by batch_id) and requests in
 * flight (keyed by node and correlation id). Roles come from rp_kinds.h, so
 * the pairing follows kind NAMES, not numbers.
 */
#include "rp_internal.h"
#include "rp_kinds.h"

#include <stdint.h>
#include <stdlib.h>

static int64_t rp_req_key(const kp_event *ev) {
    return (int64_t)(((uint64_t)(uint32_t)ev->node << 32) | (uint32_t)ev->correlation_id);
}

size_t rp__spans_build(const rp_trace *t, rp__span **out, unsigned char *is_boundary) {
    rp__span *sp = NULL;
    size_t n = 0, cap = 0;
    rp__imap open_batch = {0}, open_req = {0}; /* key -> span index + 1 (0 = closed) */
    bool oom = false;
    int64_t last_us = t->n_events ? t->events[t->n_events - 1].ev.time_us : 0;
    for (size_t i = 0; i < t->n_events && !oom; i++) {
        const kp_event *ev = &t->events[i].ev;
        rp_role role = rp_kind_role(t->events[i].kind_name);
        int cat = 0;
        bool end = false;
        int64_t key = 0;
        switch (role) {
        case RP_ROLE_BATCH_CREATED:
        case RP_ROLE_SPLIT:
        case RP_ROLE_RETRY:
            cat = RP_SPAN_BATCH, key = ev->batch_id;
            break;
        case RP_ROLE_BATCH_DRAINED:
        case RP_ROLE_EXPIRED:
        case RP_ROLE_BATCH_FAILED:
            cat = RP_SPAN_BATCH, end = true, key = ev->batch_id;
            break;
        case RP_ROLE_REQUEST_SENT:
            cat = RP_SPAN_REQUEST, key = rp_req_key(ev);
            break;
        case RP_ROLE_REQUEST_DONE:
            cat = RP_SPAN_REQUEST, end = true, key = rp_req_key(ev);
            break;
        default:
            continue;
        }
        if (cat == RP_SPAN_BATCH && ev->batch_id < 0)
            continue;
        if (cat == RP_SPAN_REQUEST && (ev->node < 0 || ev->correlation_id < 0))
            continue;
        rp__imap *m = cat == RP_SPAN_BATCH ? &open_batch : &open_req;
        size_t cur = 0;
        bool is_open = rp__imap_get(m, key, &cur) && cur != 0;
        if (end) {
            if (!is_open)
                continue; /* an end without a start: stays an instant */
            sp[cur - 1].end_ix = i;
            sp[cur - 1].end_us = ev->time_us;
            oom |= rp__imap_put(m, key, 0) != 0;
            if (is_boundary)
                is_boundary[i] = 1;
            continue;
        }
        if (is_open) { /* restarted: the old one ends here, unfinished */
            sp[cur - 1].end_us = ev->time_us;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            rp__span *ns = realloc(sp, nc * sizeof *ns);
            if (!ns) {
                oom = true;
                break;
            }
            sp = ns;
            cap = nc;
        }
        sp[n] = (rp__span){.cat = cat, .start_ix = i, .end_ix = SIZE_MAX,
                           .start_us = ev->time_us, .end_us = INT64_MIN};
        n++;
        oom |= rp__imap_put(m, key, n) != 0;
        /* retries and splits stay instants too (they say why the span began) */
        if (is_boundary && role != RP_ROLE_RETRY && role != RP_ROLE_SPLIT)
            is_boundary[i] = 1;
    }
    rp__imap_free(&open_batch);
    rp__imap_free(&open_req);
    if (oom) {
        free(sp);
        *out = NULL;
        return SIZE_MAX;
    }
    for (size_t k = 0; k < n; k++)
        if (sp[k].end_us == INT64_MIN)
            sp[k].end_us = last_us > sp[k].start_us ? last_us : sp[k].start_us;
    *out = sp;
    return n;
}
