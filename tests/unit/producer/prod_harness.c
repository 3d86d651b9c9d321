/*
 * prod_harness.c — see prod_harness.h.
 */
#include "prod_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_events.h"

static void ph_on_event(void *ctx, const kp_event *ev) {
    ph *h = ctx;
    if (getenv("PH_TRACE")) {
        const char *nm = kp_event_kind_name(ev->kind);
        fprintf(stderr, "%8lld %-24s node=%d %s/%d batch=%lld corr=%d err=%s val=%lld %s\n",
                (long long)(ev->time_us / 1000), nm ? nm : "?", (int)ev->node, ev->topic ? ev->topic : "-",
                (int)ev->partition, (long long)ev->batch_id, (int)ev->correlation_id, kp_err_name(ev->err),
                (long long)ev->value, ev->detail ? ev->detail : "");
    }
    if (ev->kind >= 100 && ev->kind < 300) {
        h->events[ev->kind - 100 < 200 ? ev->kind - 100 : 199]++;
        h->last_err[ev->kind - 100 < 200 ? ev->kind - 100 : 199] = ev->err;
    }
    if (ev->kind == KP_EV_PRODUCE_RESPONSE && ev->batch_id < 0) {
        h->bad_answers++;
        h->bad_answer_err = ev->err;
    }
    int64_t f[14] = { ev->kind, ev->time_us, ev->node, ev->partition, ev->batch_id, ev->base_sequence,
                      ev->record_count, ev->bytes, ev->correlation_id, ev->api_key, ev->err, ev->attempt,
                      ev->offset, ev->value };
    h->trace_hash = kp_fnv1a64(f, sizeof f, h->trace_hash ? h->trace_hash : KP_FNV1A64_INIT);
    if (ev->topic)
        h->trace_hash = kp_fnv1a64(ev->topic, strlen(ev->topic), h->trace_hash);
    if (ev->detail)
        h->trace_hash = kp_fnv1a64(ev->detail, strlen(ev->detail), h->trace_hash);
}

static void ph_unblocked(void *ctx) { ((ph *)ctx)->unblocked++; }

ph *ph_new(int nodes, int nparts, const char *const *settings) {
    ph *h = calloc(1, sizeof *h);
    h->w = fb_new();
    for (int i = 0; i < nodes; i++)
        fb_add_node(h->w, i);
    fb_add_topic(h->w, "t", nparts);
    fb_set_now_ms(h->w, 1000);
    h->obs.on_event = ph_on_event;
    h->obs.ctx = h;
    h->env = fb_env(h->w, &h->obs);
    kp_config c;
    kp_config_init(&c);
    char eb[256];
    if (kp_config_set(&c, "bootstrap.servers", "b0:9000", eb, sizeof eb) != KP_ERR_NONE)
        abort();
    for (int i = 0; settings && settings[i]; i++)
        if (kp_config_set_kv(&c, settings[i], eb, sizeof eb) != KP_ERR_NONE) {
            fprintf(stderr, "ph_new: %s: %s\n", settings[i], eb);
            abort();
        }
    kp_err err;
    h->p = kp_producer_new(&c, &h->env, &err, eb, sizeof eb);
    if (!h->p) {
        fprintf(stderr, "ph_new: %s\n", eb);
        abort();
    }
    kp_producer_set_on_unblocked(h->p, ph_unblocked, h);
    return h;
}

void ph_free(ph *h) {
    kp_producer_destroy(h->p);
    fb_free(h->w);
    free(h);
}

typedef struct ph_ctx {
    ph *h;
    int id;
} ph_ctx;

static ph_ctx ph_ctxs[PH_MAX_CB]; /* ids index here; one harness at a time */

static void ph_record_cb(void *ctx, const kp_record_metadata *md, kp_err err, const char *msg) {
    ph_ctx *c = ctx;
    ph *h = c->h;
    if (h->ncb < PH_MAX_CB) {
        ph_cb *r = &h->cbs[h->ncb++];
        r->id = c->id;
        r->err = err;
        r->offset = md->offset;
        r->partition = md->partition;
        snprintf(r->topic, sizeof r->topic, "%s", md->topic ? md->topic : "(null)");
        r->at_ms = fb_now_ms(h->w);
        snprintf(r->msg, sizeof r->msg, "%s", msg ? msg : "");
    }
    if (c->id < PH_MAX_CB)
        h->per_id[c->id]++;
}

kp_send_status ph_send_value(ph *h, int32_t partition, const char *value, int *id, kp_err *err) {
    int i = h->next_id++;
    ph_ctxs[i].h = h;
    ph_ctxs[i].id = i;
    kp_producer_record r;
    memset(&r, 0, sizeof r);
    r.topic = "t";
    r.partition = partition;
    r.timestamp = -1;
    r.key = kp_datum_null();
    r.value = kp_datum_str(value);
    char eb[256];
    kp_err e = KP_ERR_NONE;
    kp_send_status st = kp_producer_send(h->p, &r, ph_record_cb, &ph_ctxs[i], &e, eb, sizeof eb);
    if (id)
        *id = i;
    if (err)
        *err = e;
    return st;
}

kp_send_status ph_send(ph *h, int32_t partition, const char *key, int *id) {
    char v[32];
    snprintf(v, sizeof v, "v%d", h->next_id);
    int i = h->next_id++;
    ph_ctxs[i].h = h;
    ph_ctxs[i].id = i;
    kp_producer_record r;
    memset(&r, 0, sizeof r);
    r.topic = "t";
    r.partition = partition;
    r.timestamp = -1;
    r.key = key ? kp_datum_str(key) : kp_datum_null();
    r.value = kp_datum_str(v);
    char eb[256];
    kp_err e;
    kp_send_status st = kp_producer_send(h->p, &r, ph_record_cb, &ph_ctxs[i], &e, eb, sizeof eb);
    if (id)
        *id = i;
    return st;
}

/* Like the simulation driver: run, then sleep what run_once said unless
 * a wakeup came in meanwhile; a few immediate re-runs are allowed before
 * time must move (keeps tests finite). */
static int64_t ph_once(ph *h, int64_t max_ms) {
    static int zero_runs;
    int w0 = fb_wakeups(h->w);
    int64_t t = kp_producer_run_once(h->p);
    if (fb_wakeups(h->w) != w0)
        t = 0;
    if (t > max_ms)
        t = max_ms;
    if (t <= 0) {
        if (++zero_runs < 8)
            return 0;
        t = 1;
    }
    zero_runs = 0;
    return t;
}

void ph_step(ph *h, int64_t max_step_ms) {
    fb_advance_ms(h->w, ph_once(h, max_step_ms));
}

void ph_run_for(ph *h, int64_t ms) {
    int64_t end = fb_now_ms(h->w) + ms;
    int guard = 0;
    while (fb_now_ms(h->w) < end && guard++ < 2000000)
        fb_advance_ms(h->w, ph_once(h, end - fb_now_ms(h->w)));
}

bool ph_run_until_acked(ph *h, int64_t ms) {
    int64_t end = fb_now_ms(h->w) + ms;
    while (fb_now_ms(h->w) < end) {
        bool all = true;
        for (int i = 0; i < h->next_id && all; i++)
            all = h->per_id[i] >= 1;
        if (all)
            return true;
        fb_advance_ms(h->w, ph_once(h, end - fb_now_ms(h->w)));
    }
    bool all = true;
    for (int i = 0; i < h->next_id && all; i++)
        all = h->per_id[i] >= 1;
    return all;
}

int ph_callbacks_ok(const ph *h) {
    int n = 0;
    for (int i = 0; i < h->ncb; i++)
        n += h->cbs[i].err == KP_ERR_NONE;
    return n;
}

int ph_callbacks_err(const ph *h, kp_err err) {
    int n = 0;
    for (int i = 0; i < h->ncb; i++)
        n += h->cbs[i].err == err;
    return n;
}

int ph_callbacks_total(const ph *h) { return h->ncb; }

const ph_cb *ph_cb_of(const ph *h, int id) {
    for (int i = h->ncb - 1; i >= 0; i--)
        if (h->cbs[i].id == id)
            return &h->cbs[i];
    return NULL;
}

bool ph_each_once(const ph *h) {
    for (int i = 0; i < h->next_id; i++)
        if (h->per_id[i] != 1)
            return false;
    return true;
}
