/*
 * kp_interceptor.c — the interceptor chain and its built-in test
 * interceptors.
 */
#include "kp_interceptor.h"

#include <stdlib.h>
#include <string.h>

#include "kp_events.h"

#define MAX_CHAIN 16

typedef struct link {
    const kp_interceptor_ops *ops;
    void *ctx;
} link;

struct kp_interceptors {
    link chain[MAX_CHAIN];
    int n;
    uint64_t errors;
    const kp_observer *obs;
};

/* ---- counting ------------------------------------------------------ */
typedef struct counting {
    uint64_t sends, acks, ack_errors;
} counting;

static kp_err counting_send(void *ctx, const kp_producer_record *in, kp_producer_record *out) {
    (void)in;
    (void)out;
    ((counting *)ctx)->sends++;
    return KP_ERR_NONE;
}

static kp_err counting_ack(void *ctx, const kp_record_metadata *md, kp_err err) {
    (void)md;
    counting *c = ctx;
    if (err)
        c->ack_errors++;
    else
        c->acks++;
    return KP_ERR_NONE;
}

static const kp_interceptor_ops COUNTING = { "counting", counting_send, counting_ack, free };

/* ---- modifying ----------------------------------------------------- */
#define SUFFIX "-intercepted"
typedef struct modifying {
    char *buf;
    size_t cap;
} modifying;

static kp_err modifying_send(void *ctx, const kp_producer_record *in, kp_producer_record *out) {
    modifying *m = ctx;
    if (in->value.kind != KP_DATUM_STRING && in->value.kind != KP_DATUM_BYTES)
        return KP_ERR_NONE;
    size_t len = (size_t)in->value.len;
    size_t need = len + sizeof SUFFIX;
    if (need > m->cap) {
        size_t nc = m->cap ? m->cap : 64;
        while (nc < need)
            nc *= 2;
        char *nb = realloc(m->buf, nc);
        if (!nb)
            return KP_ERR__NOMEM;
        m->buf = nb;
        m->cap = nc;
    }
    if (len)
        memmove(m->buf, in->value.ptr, len); /* in may already be our buffer */
    memcpy(m->buf + len, SUFFIX, sizeof SUFFIX);
    out->value.ptr = m->buf;
    out->value.len = (int32_t)(len + sizeof SUFFIX - 1);
    return KP_ERR_NONE;
}

static void modifying_destroy(void *ctx) {
    modifying *m = ctx;
    free(m->buf);
    free(m);
}

static const kp_interceptor_ops MODIFYING = { "modifying", modifying_send, NULL, modifying_destroy };

/* ---- throwing ------------------------------------------------------ */
static kp_err throwing_send(void *ctx, const kp_producer_record *in, kp_producer_record *out) {
    (void)ctx;
    (void)in;
    out->value = kp_datum_str("garbage-from-a-throwing-interceptor"); /* must be discarded */
    return KP_ERR__INTERCEPTOR;
}

static kp_err throwing_ack(void *ctx, const kp_record_metadata *md, kp_err err) {
    (void)ctx;
    (void)md;
    (void)err;
    return KP_ERR__INTERCEPTOR;
}

static const kp_interceptor_ops THROWING = { "throwing", throwing_send, throwing_ack, NULL };

/* ---- chain --------------------------------------------------------- */

kp_interceptors *kp_interceptors_new(const kp_config *cfg, const kp_observer *obs) {
    kp_interceptors *ic = calloc(1, sizeof *ic);
    if (!ic)
        return NULL;
    ic->obs = obs;
    for (int i = 0; cfg && i < cfg->interceptor_count; i++) {
        kp_err e = KP_ERR_NONE;
        switch (cfg->interceptors[i]) {
        case KP_INTERCEPTOR_COUNTING: {
            counting *c = calloc(1, sizeof *c);
            e = c ? kp_interceptors_add(ic, &COUNTING, c) : KP_ERR__NOMEM;
            if (e)
                free(c);
            break;
        }
        case KP_INTERCEPTOR_MODIFYING: {
            modifying *m = calloc(1, sizeof *m);
            e = m ? kp_interceptors_add(ic, &MODIFYING, m) : KP_ERR__NOMEM;
            if (e)
                free(m);
            break;
        }
        case KP_INTERCEPTOR_THROWING:
            e = kp_interceptors_add(ic, &THROWING, NULL);
            break;
        }
        if (e) {
            kp_interceptors_destroy(ic);
            return NULL;
        }
    }
    return ic;
}

void kp_interceptors_destroy(kp_interceptors *ic) {
    if (!ic)
        return;
    for (int i = 0; i < ic->n; i++)
        if (ic->chain[i].ops->destroy)
            ic->chain[i].ops->destroy(ic->chain[i].ctx);
    free(ic);
}

kp_err kp_interceptors_add(kp_interceptors *ic, const kp_interceptor_ops *ops, void *ctx) {
    if (ic->n == MAX_CHAIN)
        return KP_ERR__NOMEM;
    ic->chain[ic->n++] = (link){ ops, ctx };
    return KP_ERR_NONE;
}

int kp_interceptors_count(const kp_interceptors *ic) {
    return ic->n;
}

const int *kp_interceptors_count_ref(const kp_interceptors *ic) {
    return &ic->n;
}

static void report(kp_interceptors *ic, const char *name, const char *topic, int32_t partition,
                   kp_err err, int64_t now) {
    ic->errors++;
    if (!ic->obs || !ic->obs->on_event)
        return;
    kp_event ev;
    kp_event_init(&ev, KP_EV_INTERCEPTOR_ERROR, now * 1000);
    ev.topic = topic;
    ev.partition = partition;
    ev.err = err;
    ev.detail = name;
    kp_observer_emit(ic->obs, &ev);
}

void kp_interceptors_on_send(kp_interceptors *ic, const kp_producer_record *in,
                             kp_producer_record *out, int64_t now) {
    kp_producer_record cur = *in;
    for (int i = 0; i < ic->n; i++) {
        const link *l = &ic->chain[i];
        if (!l->ops->on_send)
            continue;
        kp_producer_record next = cur;
        kp_err e = l->ops->on_send(l->ctx, &cur, &next);
        if (e) /* "Error executing interceptor onSend callback": keep cur */
            report(ic, l->ops->name, cur.topic, cur.partition, e, now);
        else
            cur = next;
    }
    *out = cur;
}

void kp_interceptors_on_ack(kp_interceptors *ic, const kp_record_metadata *md, kp_err err,
                            int64_t now) {
    for (int i = 0; i < ic->n; i++) {
        const link *l = &ic->chain[i];
        if (!l->ops->on_ack)
            continue;
        kp_err e = l->ops->on_ack(l->ctx, md, err);
        if (e)
            report(ic, l->ops->name, md->topic, md->partition, e, now);
    }
}

void kp_interceptors_on_send_error(kp_interceptors *ic, const kp_producer_record *rec,
                                   int32_t partition, kp_err err, int64_t now) {
    kp_record_metadata md = {
        .topic = rec->topic,
        .partition = partition >= 0 ? partition : rec->partition,
        .offset = -1,
        .timestamp = -1,
        .serialized_key_size = -1,
        .serialized_value_size = -1,
        .relative_offset = -1,
        .batch_id = -1,
    };
    kp_interceptors_on_ack(ic, &md, err, now);
}

uint64_t kp_interceptors_errors(const kp_interceptors *ic) {
    return ic->errors;
}

bool kp_interceptors_counts(const kp_interceptors *ic, uint64_t *sends, uint64_t *acks,
                            uint64_t *ack_errors) {
    bool any = false;
    uint64_t s = 0, a = 0, x = 0;
    for (int i = 0; i < ic->n; i++) {
        if (ic->chain[i].ops != &COUNTING)
            continue;
        const counting *c = ic->chain[i].ctx;
        s += c->sends;
        a += c->acks;
        x += c->ack_errors;
        any = true;
    }
    if (sends)
        *sends = s;
    if (acks)
        *acks = a;
    if (ack_errors)
        *ack_errors = x;
    return any;
}
