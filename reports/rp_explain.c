/*
 * rp_explain.c — selection of one record's events and their narration from
 * a phrasebook (rp_explain.h). The phrasebooks (en, zh) are at the bottom.
 */
#include "rp_explain.h"
#include "rp_internal.h"
#include "rp_kinds.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ====================================================================== */
/* selection                                                               */
/* ====================================================================== */

static bool rp_record_level(rp_role r) {
    return r == RP_ROLE_SEND || r == RP_ROLE_APPEND || r == RP_ROLE_CALLBACK;
}

/* (node, correlation id): the producer's view; broker events match it too
 * (the broker does not know the producer's scope). */
static int64_t rp_req_key2(int32_t node, int32_t corr) {
    return (int64_t)(((uint64_t)(uint32_t)node << 32) | (uint32_t)corr);
}

static bool rp_is_broker(const rp_event *e) {
    return e->ev.kind >= KP_EV_BASE_BROKER && e->ev.kind < KP_EV_BASE_NET;
}

static bool rp_noise(const rp_event *e) {
    return e->kind_name && !strcmp(e->kind_name, "sender_poll_timeout");
}

/* scope: index of the selected producer's scope in the model */
static int rp_sel(const rp_trace *t, const char *producer, int64_t record, int64_t batch,
                  rp_explain_sel *out) {
    memset(out, 0, sizeof *out);
    out->record = record;
    size_t n = t->n_events;
    rp__model m;
    if (rp__model_build(t, &m) != 0)
        return -1;
    /* the producer: named, else the scope of the first send (or of the
     * first event naming the batch) */
    int64_t scope = -1;
    for (size_t i = 0; i < n && scope < 0; i++) {
        const rp_event *e = &t->events[i];
        bool cand = record >= 0 ? m.role[i] == RP_ROLE_SEND : e->ev.batch_id == batch;
        if (!cand)
            continue;
        const char *c = rp__event_component(&t->header, e);
        size_t pl = producer ? strlen(producer) : 0;
        if (!producer || (!strncmp(c, producer, pl) && (c[pl] == ' ' || c[pl] == '\0')))
            scope = m.scope[i];
    }
    rp__imap chain = {0}, reqs = {0}, offs = {0};
    unsigned char *take = calloc(n ? n : 1, 1);
    int64_t *order = malloc((n + 2) * sizeof *order);
    size_t n_order = 0;
    int rc = take && order ? 0 : -1;
    size_t dummy;
    if (scope < 0)
        goto done;
    /* 1. the record's own events, its batches, its send window */
    if (record < 0) {
        /* a batch: its key in the chosen scope */
        for (size_t i = 0; i < n && !n_order; i++)
            if ((int64_t)m.scope[i] == scope && t->events[i].ev.batch_id == batch)
                order[n_order++] = rp__batch_key(&m, i, batch);
        if (n_order)
            rc |= rp__imap_put(&chain, order[0], 1);
    }
    size_t send_ix = SIZE_MAX, append_ix = SIZE_MAX;
    for (size_t i = 0; i < n && !rc && record >= 0; i++) {
        const kp_event *e = &t->events[i].ev;
        if ((int64_t)m.scope[i] != scope || !rp_record_level(m.role[i]) || m.record[i] != record)
            continue;
        take[i] = 1;
        if (m.role[i] == RP_ROLE_SEND && send_ix == SIZE_MAX)
            send_ix = i;
        if (m.role[i] == RP_ROLE_APPEND && append_ix == SIZE_MAX)
            append_ix = i;
        int64_t k = e->batch_id >= 0 ? rp__batch_key(&m, i, e->batch_id) : -1;
        if (k >= 0 && !rp__imap_get(&chain, k, &dummy)) {
            rc |= rp__imap_put(&chain, k, 1);
            order[n_order++] = k;
        }
    }
    /* the send window: what doSend did between send() and append (waiting
     * for metadata, choosing the partition), and the requests it caused */
    if (send_ix != SIZE_MAX) {
        size_t end = append_ix != SIZE_MAX ? append_ix : send_ix + 1;
        for (size_t i = send_ix + 1; i < end && i < n && !rc; i++) {
            const rp_event *e = &t->events[i];
            if ((int64_t)m.scope[i] != scope || rp_noise(e) || e->ev.batch_id >= 0 ||
                rp_record_level(m.role[i]))
                continue;
            take[i] = 1;
            if (e->ev.correlation_id >= 0 && e->ev.node != -1)
                rc |= rp__imap_put(&reqs, rp_req_key2(e->ev.node, e->ev.correlation_id), 1);
        }
    }
    /* 2. split pieces. A record: the pieces between its append batch and
     * the batch of its callback (walking up the parent links). Otherwise
     * (a batch, or a record without a callback): every descendant, to a
     * fixed point: a key whose parent is in the chain. */
    int64_t cb_key = -1;
    for (size_t i = 0; i < n && record >= 0; i++)
        if (take[i] && m.role[i] == RP_ROLE_CALLBACK && t->events[i].ev.batch_id >= 0)
            cb_key = rp__batch_key(&m, i, t->events[i].ev.batch_id);
    bool walked = false;
    if (cb_key >= 0) {
        size_t up = 0;
        int64_t k = cb_key;
        for (size_t guard = 0; guard < n && !rc; guard++) {
            if (!rp__imap_get(&chain, k, &dummy)) {
                rc |= rp__imap_put(&chain, k, 1);
                order[n_order < n + 2 ? n_order++ : n_order - 1] = k;
            }
            if (!rp__imap_get(&m.parent, k, &up))
                break;
            k = (int64_t)up;
        }
        walked = true;
    }
    for (bool grew = !walked; grew && !rc;) {
        grew = false;
        for (size_t s2 = 0; s2 < m.parent.cap && !rc; s2++) {
            if (!m.parent.used[s2])
                continue;
            int64_t piece = m.parent.keys[s2];
            if (rp__imap_get(&chain, (int64_t)m.parent.vals[s2], &dummy) &&
                !rp__imap_get(&chain, piece, &dummy)) {
                rc |= rp__imap_put(&chain, piece, 1);
                order[n_order < n + 2 ? n_order++ : n_order - 1] = piece;
                grew = true;
            }
        }
    }
    /* 3. requests and log offsets of the chain */
    for (size_t i = 0; i < n && !rc; i++) {
        const kp_event *e = &t->events[i].ev;
        if (e->batch_id < 0 || !rp__imap_get(&chain, rp__batch_key(&m, i, e->batch_id), &dummy))
            continue;
        if (e->correlation_id >= 0 && e->node != -1)
            rc |= rp__imap_put(&reqs, rp_req_key2(e->node, e->correlation_id), 1);
        if (e->offset >= 0 && e->partition >= 0 &&
            (m.role[i] == RP_ROLE_BATCH_ACKED || (e->correlation_id >= 0 && e->err == KP_ERR_NONE)))
            rc |= rp__imap_put(&offs, (int64_t)(((uint64_t)(uint32_t)e->partition << 40) ^ (uint64_t)e->offset), 1);
    }
    /* 4. the selection */
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (size_t i = 0; i < n && !rc; i++) {
        const rp_event *ee = &t->events[i];
        const kp_event *e = &ee->ev;
        bool mine = take[i];
        if (!mine && e->batch_id >= 0 && (int64_t)m.scope[i] == scope &&
            rp__imap_get(&chain, rp__batch_key(&m, i, e->batch_id), &dummy))
            mine = !(record >= 0 && rp_record_level(m.role[i]) && m.record[i] != record);
        /* the requests' events, except those about other batches (a
         * ProduceRequest carries the batches of several partitions) */
        if (!mine && e->correlation_id >= 0 && e->node != -1 && e->batch_id < 0 &&
            ((int64_t)m.scope[i] == scope || rp_is_broker(ee)) &&
            rp__imap_get(&reqs, rp_req_key2(e->node, e->correlation_id), &dummy))
            mine = true;
        /* the broker's append of the batch: same partition, its base offset */
        if (!mine && rp_is_broker(ee) && e->offset >= 0 && e->partition >= 0 && e->record_count > 0 &&
            rp__imap_get(&offs, (int64_t)(((uint64_t)(uint32_t)e->partition << 40) ^ (uint64_t)e->offset),
                         &dummy))
            mine = true;
        take[i] = mine;
        if (mine) {
            first = e->time_us < first ? e->time_us : first;
            last = e->time_us > last ? e->time_us : last;
        }
    }
    /* 5. the context a reader of the story needs:
     *    - after the record's append, the sender's wakeup if doSend woke it
     *      (batch full or new), until the next send of this producer;
     *    - before each drain of the chain, the last `ready` of that node
     *      (RecordAccumulator.ready: why the batch could go);
     *    - after each broker append of the chain, the followers' replication
     *      and the high watermark passing the batch's end (acks=all waits
     *      for it) */
    if (append_ix != SIZE_MAX)
        for (size_t i = append_ix + 1; i < n && !rc; i++) {
            const rp_event *ee = &t->events[i];
            if (ee->ev.time_us != t->events[append_ix].ev.time_us)
                break;
            if ((int64_t)m.scope[i] != scope)
                continue;
            if (m.role[i] == RP_ROLE_SEND)
                break;
            if (m.role[i] == RP_ROLE_WAKEUP)
                take[i] = 1;
        }
    for (size_t i = 0; i < n && !rc; i++) {
        const kp_event *e = &t->events[i].ev;
        if (!take[i] || m.role[i] != RP_ROLE_BATCH_DRAINED || e->node == -1)
            continue;
        for (size_t j = i; j-- > 0;) {
            if ((int64_t)m.scope[j] == scope && m.role[j] == RP_ROLE_READY &&
                t->events[j].ev.node == e->node) {
                take[j] = 1;
                break;
            }
            if ((int64_t)m.scope[j] == scope && m.role[j] == RP_ROLE_BATCH_DRAINED && take[j])
                break; /* an earlier drain of the chain has its own */
        }
    }
    for (size_t i = 0; i < n && !rc; i++) {
        const rp_event *ba = &t->events[i];
        if (!take[i] || !rp_is_broker(ba) || m.role[i] != RP_ROLE_NONE || ba->ev.offset < 0 ||
            ba->ev.record_count <= 0 || ba->ev.partition < 0 || !ba->ev.topic || ba->ev.correlation_id >= 0)
            continue;
        /* a broker append of the chain (selected by its log position) */
        int64_t end = ba->ev.offset + ba->ev.record_count;
        rp__imap followers = {0};
        for (size_t j = i + 1; j < n && !rc; j++) {
            const kp_event *e = &t->events[j].ev;
            if ((m.role[j] != RP_ROLE_REPLICATE && m.role[j] != RP_ROLE_HW_ADVANCE) ||
                e->partition != ba->ev.partition || !e->topic || strcmp(e->topic, ba->ev.topic) ||
                e->offset < end)
                continue;
            if (m.role[j] == RP_ROLE_HW_ADVANCE) {
                take[j] = 1;
                break;
            }
            if (!rp__imap_get(&followers, e->node, &dummy)) {
                rc |= rp__imap_put(&followers, e->node, 1);
                take[j] = 1;
            }
        }
        rp__imap_free(&followers);
    }
    for (size_t i = 0; i < n && !rc; i++)
        if ((m.role[i] == RP_ROLE_FAULT ||
             (m.role[i] == RP_ROLE_METADATA_REFRESH && (int64_t)m.scope[i] == scope)) &&
            t->events[i].ev.time_us >= first && t->events[i].ev.time_us <= last)
            take[i] = 1;
done:
    if (!rc) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            k += take[i];
        out->ix = malloc((k ? k : 1) * sizeof *out->ix);
        out->batches = malloc((n_order ? n_order : 1) * sizeof *out->batches);
        if (!out->ix || !out->batches) {
            rc = -1;
        } else {
            for (size_t i = 0; i < n; i++)
                if (take[i])
                    out->ix[out->n++] = i;
            /* the chain in order of first appearance in the trace; pieces
             * the trace never names by id come last */
            rp__imap seen = {0};
            for (size_t i = 0; i < n && !rc; i++) {
                int64_t b = t->events[i].ev.batch_id;
                if (b < 0)
                    continue;
                int64_t key = rp__batch_key(&m, i, b);
                if (rp__imap_get(&chain, key, &dummy) && !rp__imap_get(&seen, key, &dummy)) {
                    rc |= rp__imap_put(&seen, key, 1);
                    out->batches[out->n_batches++] = b;
                }
            }
            for (size_t o = 0; o < n_order && !rc; o++)
                if (!rp__imap_get(&seen, order[o], &dummy))
                    out->batches[out->n_batches++] = order[o] & ((1ll << 40) - 1);
            rp__imap_free(&seen);
        }
    }
    out->record_of = NULL;
    if (!rc && out->n) {
        out->record_of = malloc(out->n * sizeof *out->record_of);
        if (!out->record_of)
            rc = -1;
        else
            for (size_t k = 0; k < out->n; k++)
                out->record_of[k] = m.record[out->ix[k]];
    }
    rp__imap_free(&chain);
    rp__imap_free(&reqs);
    rp__imap_free(&offs);
    rp__model_free(&m);
    free(take);
    free(order);
    if (rc)
        rp_explain_sel_free(out);
    return rc;
}

int rp_explain_select_record(const rp_trace *t, const char *producer, int64_t record,
                             rp_explain_sel *out) {
    return rp_sel(t, producer, record < 0 ? -2 : record, -1, out);
}

int rp_explain_select_batch(const rp_trace *t, const char *producer, int64_t batch_id,
                            rp_explain_sel *out) {
    return rp_sel(t, producer, -1, batch_id, out);
}

void rp_explain_sel_free(rp_explain_sel *s) {
    if (!s)
        return;
    free(s->ix);
    free(s->batches);
    free(s->record_of);
    s->ix = NULL;
    s->batches = NULL;
    s->record_of = NULL;
    s->n = s->n_batches = 0;
}

/* ====================================================================== */
/* templates                                                               */
/* ====================================================================== */

typedef struct rp_tctx {
    const rp_trace *t;
    const rp_event *e;
    int64_t record, batch;
    const char *scenario;
    uint64_t seed;
} rp_tctx;

/* Appends the value of field `name` (n bytes); false when it does not apply. */
static bool rp_field(rp__sbuf *b, const rp_tctx *c, const char *name, size_t n) {
#define IS(s) (n == sizeof(s) - 1 && !memcmp(name, s, n))
    const kp_event *ev = c->e ? &c->e->ev : NULL;
    char tmp[32];
    if (IS("scenario")) {
        rp__sbuf_printf(b, "%s", c->scenario ? c->scenario : "?");
        return true;
    }
    if (IS("seed")) {
        rp__sbuf_printf(b, "%" PRIu64, c->seed);
        return true;
    }
    if (IS("record")) {
        if (c->record < 0)
            return false;
        rp__sbuf_printf(b, "%" PRId64, c->record);
        return true;
    }
    if (!ev) {
        if (IS("batch") && c->batch >= 0) {
            rp__sbuf_printf(b, "%" PRId64, c->batch);
            return true;
        }
        return false;
    }
#define NUM(s, v, fmt)                                \
    if (IS(s)) {                                      \
        if ((v) == -1)                                \
            return false;                             \
        rp__sbuf_printf(b, "%" fmt, v);               \
        return true;                                  \
    }
    if (IS("time")) {
        rp__ms3(tmp, sizeof tmp, ev->time_us);
        rp__sbuf_printf(b, "%s", tmp);
        return true;
    }
    if (IS("kind")) {
        rp__sbuf_printf(b, "%s", rp__kind_label(c->e, tmp, sizeof tmp));
        return true;
    }
    if (IS("component")) {
        rp__sbuf_printf(b, "%s", rp__event_component(&c->t->header, c->e));
        return true;
    }
    if (IS("topic") || IS("detail")) {
        const char *s = IS("topic") ? ev->topic : ev->detail;
        if (!s)
            return false;
        rp__sbuf_printf(b, "%s", s);
        return true;
    }
    if (IS("err")) {
        if (ev->err == KP_ERR_NONE)
            return false;
        rp__sbuf_printf(b, "%s", kp_err_name(ev->err));
        return true;
    }
    if (IS("api")) {
        if (ev->api_key == -1)
            return false;
        const char *a = rp_api_name(ev->api_key);
        if (a)
            rp__sbuf_printf(b, "%s", a);
        else
            rp__sbuf_printf(b, "api %" PRId32, ev->api_key);
        return true;
    }
    NUM("node", ev->node, PRId32)
    NUM("partition", ev->partition, PRId32)
    NUM("batch", ev->batch_id, PRId64)
    NUM("base_seq", ev->base_sequence, PRId32)
    NUM("records", ev->record_count, PRId32)
    NUM("bytes", ev->bytes, PRId64)
    NUM("corr", ev->correlation_id, PRId32)
    NUM("attempt", ev->attempt, PRId32)
    NUM("offset", ev->offset, PRId64)
    NUM("pid", ev->producer_id, PRId64)
    NUM("epoch", ev->producer_epoch, PRId32)
    NUM("value", ev->value, PRId64)
    return false;
#undef NUM
#undef IS
}

/* Renders tpl[0..len) into b; a [part] whose own fields do not all apply
 * is dropped (nested parts decide for themselves); a field outside any
 * part that does not apply is printed as "?". */
static void rp_render(rp__sbuf *b, const rp_tctx *c, const char *tpl, size_t len, int depth) {
    for (size_t i = 0; i < len;) {
        char ch = tpl[i];
        if (ch == '[' && depth < 4) {
            size_t j = i + 1;
            int nest = 1;
            while (j < len && nest) {
                nest += tpl[j] == '[' ? 1 : tpl[j] == ']' ? -1 : 0;
                j++;
            }
            /* render the part alone; keep it only when every field applied */
            rp__sbuf part = {0};
            bool ok = true;
            int inner = 0; /* fields of nested parts decide for themselves */
            for (size_t k = i + 1; k + 1 < j; k++) {
                inner += tpl[k] == '[' ? 1 : tpl[k] == ']' ? -1 : 0;
                if (tpl[k] == '{' && inner == 0) {
                    size_t e = k + 1;
                    while (e < j - 1 && tpl[e] != '}')
                        e++;
                    rp__sbuf probe = {0};
                    ok &= rp_field(&probe, c, tpl + k + 1, e - k - 1);
                    free(probe.p);
                    k = e;
                }
            }
            if (ok)
                rp_render(&part, c, tpl + i + 1, (j - 1) - (i + 1), depth + 1);
            if (ok && part.p)
                rp__sbuf_putn(b, part.p, part.len);
            free(part.p);
            i = j;
        } else if (ch == '{') {
            size_t e = i + 1;
            while (e < len && tpl[e] != '}')
                e++;
            if (!rp_field(b, c, tpl + i + 1, e - i - 1))
                rp__sbuf_putn(b, "?", 1);
            i = e + 1;
        } else {
            rp__sbuf_putn(b, &tpl[i], 1);
            i++;
        }
    }
}

/* Entries of producer kinds (and of kinds outside the layer ranges) are
 * plain names; the other layers' carry their layer: "broker.append" is the
 * log append, "append" the accumulator's. */
static const rp_phrase *rp_phrase_of(const rp_phrasebook *pb, const rp_event *e) {
    const char *kind_name = e->kind_name;
    if (!kind_name)
        return NULL;
    const char *dot = strrchr(kind_name, '.');
    const char *name = dot ? dot + 1 : kind_name;
    int k = e->ev.kind;
    const char *layer = k >= 200 && k < 300 ? "broker." : k >= 300 && k < 400 ? "net."
                      : k >= 400 && k < 500 ? "harness." : "";
    size_t ll = strlen(layer);
    for (size_t i = 0; i < pb->n; i++) {
        const char *pn = pb->phrases[i].kind_name;
        if (!strncmp(pn, layer, ll) && !strcmp(pn + ll, name) && (ll || !strchr(pn, '.')))
            return &pb->phrases[i];
    }
    if (rp_event_role(e) == RP_ROLE_FAULT)
        for (size_t i = 0; i < pb->n; i++)
            if (!strcmp(pb->phrases[i].kind_name, "fault"))
                return &pb->phrases[i];
    return NULL;
}

void rp_explain_sentence(FILE *out, const rp_trace *t, const rp_event *e, const rp_phrasebook *pb,
                         int64_t record) {
    const rp_phrase *ph = rp_phrase_of(pb, e);
    const char *tpl = ph ? ph->text : pb->fallback;
    rp_tctx c = {t, e, record, -1, t->header.scenario, t->header.seed};
    rp__sbuf b = {0};
    rp_render(&b, &c, tpl, strlen(tpl), 0);
    if (b.p)
        fputs(b.p, out);
    free(b.p);
}

void rp_explain_print(FILE *out, const rp_trace *t, const rp_explain_sel *sel,
                      const rp_phrasebook *pb) {
    rp_tctx c = {t, NULL, sel->record, sel->n_batches ? sel->batches[0] : -1, t->header.scenario,
                 t->header.seed};
    const char *title = sel->record >= 0 ? pb->title_record : pb->title_batch;
    rp__sbuf b = {0};
    rp_render(&b, &c, title, strlen(title), 0);
    fprintf(out, "%s\n\n", b.p ? b.p : "");
    free(b.p);
    if (sel->n == 0) {
        fprintf(out, "%s\n", pb->nothing);
        return;
    }
    int width = 1;
    for (size_t n = sel->n; n >= 10; n /= 10)
        width++;
    for (size_t k = 0; k < sel->n; k++) {
        const rp_event *e = &t->events[sel->ix[k]];
        const rp_phrase *ph = rp_phrase_of(pb, e);
        char tm[32];
        rp__ms3(tm, sizeof tm, e->ev.time_us);
        fprintf(out, "%*zu. %10s ms  ", width, k + 1, tm);
        if (ph && ph->java && *ph->java)
            fprintf(out, "%s — ", ph->java);
        rp_explain_sentence(out, t, e, pb,
                            sel->record_of && sel->record_of[k] >= 0 ? sel->record_of[k] : sel->record);
        putc('\n', out);
    }
}

/* ====================================================================== */
/* phrasebooks                                                             */
/* ====================================================================== */

static const rp_phrase rp_en[] = {
    /* application thread: KafkaProducer */
    {"send", "KafkaProducer.send", "The application calls send() for record {record}[ to {topic}][-{partition}][ ({bytes} bytes)]."},
    {"metadata_wait", "KafkaProducer.waitOnMetadata", "No metadata for {topic} yet: send() waits for metadata version {value}."},
    {"send_blocked", "KafkaProducer.doSend", "send() blocks[ in {detail}][ for at most {value} ms (max.block.ms)]."},
    {"send_unblocked", "KafkaProducer.doSend", "send() goes on[ after {value} ms]."},
    {"send_failed", "KafkaProducer.doSend", "send() fails at once[ with {err}][: {detail}]."},
    {"partition_chosen", "Partitioner.partition", "The partitioner picks partition {partition} of {topic}[ ({detail})]."},
    {"interceptor_error", "ProducerInterceptors.onSend", "An interceptor failed[ ({detail})][: {err}]; the record goes on."},
    {"wakeup", "Sender.wakeup", "The sender thread is woken up[ ({detail})]."},
    {"callback", "ProducerBatch.done", "The callback of record {record} runs[: offset {offset}][, error {err}]."},
    /* metadata */
    {"metadata_update_requested", "Metadata.requestUpdate", "The producer asks for fresh metadata[: {detail}]."},
    {"metadata_updated", "Metadata.update", "Metadata version {value} arrives[ ({records} topics)]."},
    {"metadata_topic_added", "Metadata.add", "Topic {topic} joins the topics the producer keeps metadata for."},
    {"metadata_request", "DefaultMetadataUpdater.maybeUpdate", "A Metadata request (correlation id {corr}) goes to node {node}, the least loaded node."},
    {"metadata_response", "DefaultMetadataUpdater.handleCompletedMetadataResponse", "Node {node} answers the Metadata request {corr}[ with {err}][: {value} brokers]."},
    /* buffer pool */
    {"pool_wait", "BufferPool.allocate", "The buffer pool has no {bytes} bytes free[ ({value} available)]: send() waits."},
    {"pool_wait_done", "BufferPool.allocate", "The buffer pool serves {bytes} bytes."},
    {"pool_timeout", "BufferPool.allocate", "No buffer within max.block.ms[: {err}]."},
    {"buffer_allocated", "BufferPool.allocate", "The buffer pool hands out {bytes} bytes for batch {batch}[ ({value} bytes in use)]."},
    {"buffer_deallocated", "BufferPool.deallocate", "Batch {batch} returns its {bytes} bytes to the buffer pool[ ({value} bytes in use)]."},
    /* accumulator */
    {"batch_created", "RecordAccumulator.append", "No open batch can take it: a new ProducerBatch {batch} is created[ for {topic}][-{partition}]."},
    {"append", "RecordAccumulator.append", "Record {record} is appended to batch {batch}[: {detail}][ (records in the batch: {records})]."},
    {"batch_full", "RecordAccumulator.append", "Batch {batch} is full[ ({detail})]: the sender will take it."},
    {"ready", "RecordAccumulator.ready", "The sender finds node {node} ready to receive data[: {detail}]."},
    {"drain", "RecordAccumulator.drain", "The sender drains batch {batch} for node {node}[ ({records} records, {bytes} bytes)][, base sequence {base_seq}][, attempt {attempt}]."},
    {"batch_drained", "RecordAccumulator.drain", "The sender drains batch {batch} for node {node}[ ({records} records, {bytes} bytes)][, attempt {attempt}]."},
    {"batch_reenqueued", "RecordAccumulator.reenqueue", "Batch {batch} is put back at the head of its queue[ (attempt {attempt})]."},
    {"batch_split", "RecordAccumulator.splitAndReenqueue", "Batch {batch} is split into {value} smaller batches, re-enqueued as if never tried."},
    {"split", "RecordAccumulator.splitAndReenqueue", "Batch {value} was too big[ ({err})]: piece {batch}[ with {records} records] is re-enqueued."},
    {"batch_expired", "RecordAccumulator.expiredBatches", "Batch {batch} expired before it could be sent[ ({detail})]."},
    {"batch_done", "ProducerBatch.done", "Batch {batch} is complete[: base offset {offset}][, error {err}]."},
    {"batch_completed", "Sender.completeBatch", "Batch {batch} is done: written at base offset {offset}[ ({records} records)]."},
    {"batch_aborted", "ProducerBatch.abort", "Batch {batch} is aborted[: {err}]."},
    {"partition_muted", "RecordAccumulator.mutePartition", "Partition {topic}-{partition} is muted: one request at a time (max.in.flight = 1)."},
    {"partition_unmuted", "RecordAccumulator.unmutePartition", "Partition {topic}-{partition} is unmuted."},
    /* sender and network client */
    {"conn_state", "ClusterConnectionStates", "Connection to node {node}: {detail}."},
    {"disconnected", "NetworkClient.processDisconnection", "Node {node} is disconnected[ ({err})][ in {detail}]: its requests in flight fail."},
    {"api_versions", "NetworkClient.handleApiVersionsResponse", "Node {node} tells its API versions[ ({err})]: Produce v{value}."},
    {"request_sent", "NetworkClient.doSend", "The {api} request with correlation id {corr} goes to node {node}[ carrying {records} records][ ({bytes} bytes)]."},
    {"response_received", "NetworkClient.handleCompletedReceives", "Node {node} answers correlation id {corr}[ with error {err}]."},
    {"request_timed_out", "NetworkClient.handleTimedOutRequests", "No answer to correlation id {corr} from node {node}: the request timed out[ ({detail})]."},
    {"produce_request", "Sender.sendProduceRequest", "A ProduceRequest (correlation id {corr}) is built for node {node}[: {records} records][ in {value} batches][, {bytes} bytes]."},
    {"produce_response", "Sender.handleProduceResponse", "The response for batch {batch} from node {node} (correlation id {corr})[: error {err}][, base offset {offset}]."},
    {"retry", "Sender.reenqueueBatch", "Batch {batch} goes back to the accumulator for another try[ (attempt {attempt})][ after {err}][; {value} retries left]."},
    {"sender_split", "Sender.completeBatch", "MESSAGE_TOO_LARGE for batch {batch}[ ({records} records)]: it will be split."},
    {"sender_expired", "Sender.sendProducerData", "Batch {batch} is failed by delivery.timeout.ms[ after {value} ms]."},
    {"batch_failed", "Sender.failBatch", "Batch {batch} fails[ with {err}][: {detail}]."},
    {"throttle", "NetworkClient", "Node {node} asks the producer to wait {value} ms (quota)."},
    /* broker */
    {"broker.request", "KafkaApis.handle", "Broker {node} receives the {api} request (correlation id {corr})."},
    {"broker.response", "KafkaApis.sendResponse", "Broker {node} answers the {api} request (correlation id {corr})."},
    {"broker.produce_received", "KafkaApis.handleProduceRequest", "Broker {node} receives the {api} request (correlation id {corr})."},
    {"broker.append", "Log.append", "Broker {node} appends {records} records to [{topic}-{partition}] at offset {offset}."},
    {"broker.log_append", "Log.append", "Broker {node} appends {records} records to [{topic}-{partition}] at offset {offset}."},
    {"broker.error", "KafkaApis", "Broker {node} refuses[ {topic}-{partition}][ with {err}][: {detail}]."},
    {"broker.duplicate", "ProducerStateManager", "Broker {node} sees a duplicate of the batch at offset {offset} and acknowledges it again."},
    {"broker.hw_advance", "Partition.maybeIncrementLeaderHW", "The high watermark of [{topic}-{partition}] on broker {node} reaches {offset}."},
    {"broker.replicate", "ReplicaFetcherThread", "Follower {node} copies [{topic}-{partition}] up to offset {offset}."},
    {"broker.leader_change", "Controller", "Broker {node} becomes the leader of [{topic}-{partition}][ ({detail})]."},
    {"broker.injected", "", "Broker {node} answers with an injected {err}."},
    /* network and harness */
    {"net.connect", "", "The network starts a connection[ ({detail})]."},
    {"net.accept", "", "The broker side accepts the connection[ ({detail})]."},
    {"net.connected", "", "The connection is established[ ({detail})]."},
    {"net.refused", "", "The connection is refused[ ({detail})]."},
    {"net.send", "", "{bytes} bytes go onto the link[ ({detail})]."},
    {"net.deliver", "", "{bytes} bytes arrive[ ({detail})]."},
    {"net.drop", "", "{bytes} bytes vanish in a blackhole[ ({detail})]."},
    {"net.stall", "", "{bytes} bytes are held by a network partition[ ({detail})]."},
    {"net.reset", "", "The connection is reset[ ({detail})]."},
    {"net.close", "", "The connection is closed[ ({detail})]."},
    {"net.peer_closed", "", "The peer closed the connection[ ({detail})]."},
    {"harness.leader_move", "", "The cluster moves leadership[: {detail}]."},
    {"fault", "", "Fault injected[ at {component}][: {detail}]."},
};

static const rp_phrase rp_zh[] = {
    {"send", "KafkaProducer.send", "应用调用 send() 发送记录 {record}[，目标 {topic}][-{partition}][（{bytes} 字节）]。"},
    {"metadata_wait", "KafkaProducer.waitOnMetadata", "还没有 {topic} 的元数据：send() 等待元数据版本 {value}。"},
    {"send_blocked", "KafkaProducer.doSend", "send() 阻塞[，在 {detail} 中][，最多 {value} 毫秒（max.block.ms）]。"},
    {"send_unblocked", "KafkaProducer.doSend", "send() 继续执行[，等待了 {value} 毫秒]。"},
    {"send_failed", "KafkaProducer.doSend", "send() 立即失败[，错误 {err}][：{detail}]。"},
    {"partition_chosen", "Partitioner.partition", "分区器选择 {topic} 的分区 {partition}[（{detail}）]。"},
    {"interceptor_error", "ProducerInterceptors.onSend", "拦截器出错[（{detail}）][：{err}]；记录继续发送。"},
    {"wakeup", "Sender.wakeup", "唤醒 Sender 线程[（{detail}）]。"},
    {"callback", "ProducerBatch.done", "记录 {record} 的回调执行[：偏移量 {offset}][，错误 {err}]。"},
    {"metadata_update_requested", "Metadata.requestUpdate", "生产者请求更新元数据[：{detail}]。"},
    {"metadata_updated", "Metadata.update", "收到元数据版本 {value}[（{records} 个主题）]。"},
    {"metadata_topic_added", "Metadata.add", "主题 {topic} 加入生产者维护元数据的主题列表。"},
    {"metadata_request", "DefaultMetadataUpdater.maybeUpdate", "向负载最低的节点 {node} 发送 Metadata 请求（关联 ID {corr}）。"},
    {"metadata_response", "DefaultMetadataUpdater.handleCompletedMetadataResponse", "节点 {node} 回复 Metadata 请求 {corr}[，错误 {err}][：{value} 个 broker]。"},
    {"pool_wait", "BufferPool.allocate", "缓冲池没有 {bytes} 字节空闲[（可用 {value}）]：send() 等待。"},
    {"pool_wait_done", "BufferPool.allocate", "缓冲池分配了 {bytes} 字节。"},
    {"pool_timeout", "BufferPool.allocate", "在 max.block.ms 内没有拿到缓冲区[：{err}]。"},
    {"buffer_allocated", "BufferPool.allocate", "缓冲池为批次 {batch} 分配 {bytes} 字节[（已用 {value} 字节）]。"},
    {"buffer_deallocated", "BufferPool.deallocate", "批次 {batch} 把 {bytes} 字节还给缓冲池[（已用 {value} 字节）]。"},
    {"batch_created", "RecordAccumulator.append", "没有可用的批次：新建 ProducerBatch {batch}[，分区 {topic}][-{partition}]。"},
    {"append", "RecordAccumulator.append", "记录 {record} 追加到批次 {batch}[：{detail}][（批次现有 {records} 条记录）]。"},
    {"batch_full", "RecordAccumulator.append", "批次 {batch} 已满[（{detail}）]：等待 Sender 取走。"},
    {"ready", "RecordAccumulator.ready", "Sender 发现节点 {node} 已就绪[：{detail}]。"},
    {"drain", "RecordAccumulator.drain", "Sender 为节点 {node} 取出批次 {batch}[（{records} 条记录，{bytes} 字节）][，基准序号 {base_seq}][，第 {attempt} 次尝试]。"},
    {"batch_drained", "RecordAccumulator.drain", "Sender 为节点 {node} 取出批次 {batch}[（{records} 条记录，{bytes} 字节）][，第 {attempt} 次尝试]。"},
    {"batch_reenqueued", "RecordAccumulator.reenqueue", "批次 {batch} 放回队首[（第 {attempt} 次尝试）]。"},
    {"batch_split", "RecordAccumulator.splitAndReenqueue", "批次 {batch} 拆成 {value} 个小批次，当作从未发送过重新入队。"},
    {"split", "RecordAccumulator.splitAndReenqueue", "批次 {value} 过大[（{err}）]：拆出的批次 {batch}[（{records} 条记录）]重新入队。"},
    {"batch_expired", "RecordAccumulator.expiredBatches", "批次 {batch} 在发送前过期[（{detail}）]。"},
    {"batch_done", "ProducerBatch.done", "批次 {batch} 完成[：基准偏移量 {offset}][，错误 {err}]。"},
    {"batch_completed", "Sender.completeBatch", "批次 {batch} 完成：写入基准偏移量 {offset}[（{records} 条记录）]。"},
    {"batch_aborted", "ProducerBatch.abort", "批次 {batch} 被中止[：{err}]。"},
    {"partition_muted", "RecordAccumulator.mutePartition", "分区 {topic}-{partition} 被静默：同一时间只有一个请求（max.in.flight = 1）。"},
    {"partition_unmuted", "RecordAccumulator.unmutePartition", "分区 {topic}-{partition} 解除静默。"},
    {"conn_state", "ClusterConnectionStates", "到节点 {node} 的连接：{detail}。"},
    {"disconnected", "NetworkClient.processDisconnection", "与节点 {node} 断开连接[（{err}）][，在 {detail} 中]：在途请求全部失败。"},
    {"api_versions", "NetworkClient.handleApiVersionsResponse", "节点 {node} 告知 API 版本[（{err}）]：Produce v{value}。"},
    {"request_sent", "NetworkClient.doSend", "向节点 {node} 发送 {api} 请求，关联 ID {corr}[，携带 {records} 条记录][（{bytes} 字节）]。"},
    {"response_received", "NetworkClient.handleCompletedReceives", "节点 {node} 回复关联 ID {corr}[，错误 {err}]。"},
    {"request_timed_out", "NetworkClient.handleTimedOutRequests", "节点 {node} 没有回复关联 ID {corr}：请求超时[（{detail}）]。"},
    {"produce_request", "Sender.sendProduceRequest", "为节点 {node} 构造 ProduceRequest（关联 ID {corr}）[：{records} 条记录][，{value} 个批次][，{bytes} 字节]。"},
    {"produce_response", "Sender.handleProduceResponse", "节点 {node} 对批次 {batch} 的响应（关联 ID {corr}）[：错误 {err}][，基准偏移量 {offset}]。"},
    {"retry", "Sender.reenqueueBatch", "批次 {batch} 重新放回累加器等待重试[（第 {attempt} 次）][，原因 {err}][；还剩 {value} 次重试]。"},
    {"sender_split", "Sender.completeBatch", "批次 {batch} 收到 MESSAGE_TOO_LARGE[（{records} 条记录）]：将被拆分。"},
    {"sender_expired", "Sender.sendProducerData", "批次 {batch} 因 delivery.timeout.ms 失败[，已过 {value} 毫秒]。"},
    {"batch_failed", "Sender.failBatch", "批次 {batch} 失败[，错误 {err}][：{detail}]。"},
    {"throttle", "NetworkClient", "节点 {node} 要求生产者等待 {value} 毫秒（配额）。"},
    {"broker.request", "KafkaApis.handle", "Broker {node} 收到 {api} 请求（关联 ID {corr}）。"},
    {"broker.response", "KafkaApis.sendResponse", "Broker {node} 回复 {api} 请求（关联 ID {corr}）。"},
    {"broker.produce_received", "KafkaApis.handleProduceRequest", "Broker {node} 收到 {api} 请求（关联 ID {corr}）。"},
    {"broker.log_append", "Log.append", "Broker {node} 把 {records} 条记录写入[ {topic}-{partition}]，偏移量 {offset}。"},
    {"broker.append", "Log.append", "Broker {node} 把 {records} 条记录写入[ {topic}-{partition}]，偏移量 {offset}。"},
    {"broker.error", "KafkaApis", "Broker {node} 拒绝请求[，分区 {topic}-{partition}][，错误 {err}][：{detail}]。"},
    {"broker.duplicate", "ProducerStateManager", "Broker {node} 发现偏移量 {offset} 处的重复批次，再次确认。"},
    {"broker.hw_advance", "Partition.maybeIncrementLeaderHW", "Broker {node} 上[ {topic}-{partition} ]的高水位到达 {offset}。"},
    {"broker.replicate", "ReplicaFetcherThread", "Follower {node} 把[ {topic}-{partition} ]复制到偏移量 {offset}。"},
    {"broker.leader_change", "Controller", "Broker {node} 成为[ {topic}-{partition} ]的 leader[（{detail}）]。"},
    {"broker.injected", "", "Broker {node} 按注入的错误回复 {err}。"},
    {"net.connect", "", "网络开始建立连接[（{detail}）]。"},
    {"net.accept", "", "Broker 端接受连接[（{detail}）]。"},
    {"net.connected", "", "连接建立[（{detail}）]。"},
    {"net.refused", "", "连接被拒绝[（{detail}）]。"},
    {"net.send", "", "{bytes} 字节进入链路[（{detail}）]。"},
    {"net.deliver", "", "{bytes} 字节到达[（{detail}）]。"},
    {"net.drop", "", "{bytes} 字节在黑洞中丢失[（{detail}）]。"},
    {"net.stall", "", "{bytes} 字节被网络分区阻塞[（{detail}）]。"},
    {"net.reset", "", "连接被重置[（{detail}）]。"},
    {"net.close", "", "连接关闭[（{detail}）]。"},
    {"net.peer_closed", "", "对端关闭了连接[（{detail}）]。"},
    {"harness.leader_move", "", "集群迁移分区 leader[：{detail}]。"},
    {"fault", "", "注入故障[，位置 {component}][：{detail}]。"},
};

static const rp_phrasebook rp_books[] = {
    {"en", rp_en, sizeof rp_en / sizeof rp_en[0], "{kind} at {component}[: {detail}].",
     "The life of record {record} in {scenario} (seed {seed})",
     "The life of batch {batch} in {scenario} (seed {seed})",
     "The trace holds no event about it."},
    {"zh", rp_zh, sizeof rp_zh / sizeof rp_zh[0], "{component} 上的 {kind}[：{detail}]。",
     "记录 {record} 的一生：{scenario}（种子 {seed}）",
     "批次 {batch} 的一生：{scenario}（种子 {seed}）",
     "追踪中没有与之相关的事件。"},
};

const rp_phrasebook *rp_phrasebook_get(const char *lang) {
    for (size_t i = 0; lang && i < sizeof rp_books / sizeof rp_books[0]; i++)
        if (!strcmp(rp_books[i].lang, lang))
            return &rp_books[i];
    return NULL;
}
