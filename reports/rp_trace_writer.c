/*
 * rp_trace_writer.c — streams a run into a trace file (format: trace.proto).
 *
 * Why a writer of our own around protobuf-c: the trace is written while the
 * run goes, event by event, possibly millions of them. The header and the
 * summary (once per file) are packed by protobuf-c. Events are encoded by
 * hand (rp_event_encode) straight into one reused output buffer: the same
 * bytes protobuf-c's pack() makes for a Record{event} (a cmocka test
 * compares the two over tens of thousands of random events), at a fraction
 * of the cost (protobuf-c's descriptor walk was ~230 ns per event, three
 * times the cost of the run it traced; see the commit). Full buffers go to
 * stdio. No malloc per event, bounded memory (the buffer, plus a scratch
 * buffer only for a frame larger than the buffer, kept for reuse).
 *
 * Event wire layout (proto2, trace.proto; fields in number order, each
 * only when it applies — "-1 = not applicable" fields are left out):
 *   OFFSET  SIZE      DESCRIPTION
 *   0       1-5       frame length (varint) of the Record
 *   +0      1         0x12: Record.event (field 2, length-delimited)
 *   +1      1-5       Event length (varint)
 *   +n      ...       08 seq(varint) 10 kind(int32 varint) 18 time_us(zigzag64)
 *                     22 component(len+bytes) 28 node 32 topic 38 partition
 *                     40 batch_id 48 base_sequence 50 record_count 58 bytes
 *                     60 correlation_id 68 api_key 70 err 78 attempt
 *                     80 01 offset 88 01 producer_id 90 01 producer_epoch
 *                     98 01 value a2 01 detail   (numbers zigzag)
 *
 * Invariants:
 *   - state goes OPEN -> HEADER -> (SUMMARY); events only in HEADER;
 *   - the first error that loses bytes (I/O, no memory) is sticky: later
 *     calls return it and write nothing; close() reports it;
 *   - seq of the n-th event written is n-1 (no gaps: a refused event does
 *     not consume a number);
 *   - bytes depend only on the calls made: fields are packed in field-number
 *     order, only those that apply, no pointers, no clock.
 *
 * Ownership: the writer owns its buffers, its copies of registered kinds,
 * and the FILE when opened by path.
 */
#include "rp_trace.h"
#include "trace.pb-c.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RP_WBUF_CAP (64u * 1024u)

enum { RP_W_OPEN, RP_W_HEADER, RP_W_SUMMARY };

struct rp_trace_writer {
    FILE *f;
    bool own_file;
    int state;
    kp_err err;          /* sticky */
    uint64_t seq;        /* next sequence number */
    uint8_t *buf;        /* RP_WBUF_CAP bytes */
    size_t len;
    uint8_t *scratch;    /* for frames > RP_WBUF_CAP */
    size_t scratch_cap;
    rp_kind_def *kinds;  /* registered, strings owned */
    size_t n_kinds, cap_kinds;
    /* kind number -> index+1 into kinds for kinds 0..RP_KIND_DIRECT-1 */
#define RP_KIND_DIRECT 1024
    uint16_t kind_ix[RP_KIND_DIRECT];
    bool use_pb;         /* rp_trace_writer_use_protobuf_c */
};

static char *rp_strdup(const char *s) {
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static rp_trace_writer *rp_writer_new(FILE *f, bool own) {
    rp_trace_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->buf = malloc(RP_WBUF_CAP);
    if (!w->buf) {
        free(w);
        return NULL;
    }
    w->f = f;
    w->own_file = own;
    w->state = RP_W_OPEN;
    w->err = KP_ERR_NONE;
    return w;
}

rp_trace_writer *rp_trace_writer_open_path(const char *path, kp_err *err) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        if (err)
            *err = errno == ENOENT ? KP_ERR__NOENT : KP_ERR__INVALID_ARG;
        return NULL;
    }
    rp_trace_writer *w = rp_writer_new(f, true);
    if (!w) {
        fclose(f);
        if (err)
            *err = KP_ERR__NOMEM;
        return NULL;
    }
    if (err)
        *err = KP_ERR_NONE;
    return w;
}

rp_trace_writer *rp_trace_writer_open_file(FILE *f) {
    return f ? rp_writer_new(f, false) : NULL;
}

static const rp_kind_def *rp_writer_kind(const rp_trace_writer *w, int32_t kind) {
    if (kind >= 0 && kind < RP_KIND_DIRECT) {
        uint16_t ix = w->kind_ix[kind];
        return ix ? &w->kinds[ix - 1] : NULL;
    }
    for (size_t i = 0; i < w->n_kinds; i++)
        if (w->kinds[i].kind == kind)
            return &w->kinds[i];
    return NULL;
}

kp_err rp_trace_writer_register_kind(rp_trace_writer *w, int32_t kind, const char *name,
                                     const char *layer, const char *component) {
    if (w->err)
        return w->err;
    if (w->state != RP_W_OPEN)
        return KP_ERR__STATE;
    if (!name || !*name || rp_writer_kind(w, kind) || w->n_kinds >= UINT16_MAX - 1)
        return KP_ERR__INVALID_ARG;
    if (w->n_kinds == w->cap_kinds) {
        size_t cap = w->cap_kinds ? w->cap_kinds * 2 : 64;
        rp_kind_def *k = realloc(w->kinds, cap * sizeof *k);
        if (!k)
            return KP_ERR__NOMEM;
        w->kinds = k;
        w->cap_kinds = cap;
    }
    rp_kind_def *d = &w->kinds[w->n_kinds];
    d->kind = kind;
    d->name = rp_strdup(name);
    d->layer = rp_strdup(layer);
    d->component = rp_strdup(component);
    if (!d->name || (layer && !d->layer) || (component && !d->component)) {
        free((char *)d->name);
        free((char *)d->layer);
        free((char *)d->component);
        return KP_ERR__NOMEM;
    }
    w->n_kinds++;
    if (kind >= 0 && kind < RP_KIND_DIRECT)
        w->kind_ix[kind] = (uint16_t)w->n_kinds;
    return KP_ERR_NONE;
}

/* ---- output ---------------------------------------------------------- */

static kp_err rp_writer_flush(rp_trace_writer *w) {
    if (w->len && fwrite(w->buf, 1, w->len, w->f) != w->len)
        w->err = KP_ERR__TRANSPORT;
    w->len = 0;
    return w->err;
}

static size_t rp_varint_put(uint8_t *p, uint32_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Frames one Record: varint length, then the packed message. */
static kp_err rp_writer_frame(rp_trace_writer *w, const Kptrace__Record *rec) {
    size_t body = kptrace__record__get_packed_size(rec);
    if (body == 0 || body > RP_TRACE_MAX_FRAME)
        return KP_ERR__INVALID_ARG; /* not sticky: nothing was written */
    size_t frame = body + 5;
    if (frame > RP_WBUF_CAP - w->len && rp_writer_flush(w))
        return w->err;
    uint8_t *dst = w->buf + w->len;
    if (frame > RP_WBUF_CAP) {
        if (w->scratch_cap < frame) {
            uint8_t *s = realloc(w->scratch, frame);
            if (!s)
                return w->err = KP_ERR__NOMEM;
            w->scratch = s;
            w->scratch_cap = frame;
        }
        dst = w->scratch;
    }
    size_t n = rp_varint_put(dst, (uint32_t)body);
    size_t packed = kptrace__record__pack(rec, dst + n);
    if (packed != body)
        return w->err = KP_ERR__STATE; /* protobuf-c disagreed with itself */
    if (dst == w->scratch) {
        if (fwrite(dst, 1, n + body, w->f) != n + body)
            w->err = KP_ERR__TRANSPORT;
    } else {
        w->len += n + body;
    }
    return w->err;
}

/* protobuf-c's strings are `char *` even when it only reads them. */
static char *rp_mut(const char *s) {
    return (char *)(uintptr_t)s;
}

/* ---- header ------------------------------------------------------------ */

kp_err rp_trace_writer_header(rp_trace_writer *w, const rp_trace_header *h) {
    if (w->err)
        return w->err;
    if (w->state != RP_W_OPEN)
        return KP_ERR__STATE;
    for (size_t i = 0; i < h->n_kinds; i++) {
        if (!h->kinds[i].name || !*h->kinds[i].name || rp_writer_kind(w, h->kinds[i].kind))
            return KP_ERR__INVALID_ARG;
        for (size_t j = 0; j < i; j++)
            if (h->kinds[j].kind == h->kinds[i].kind)
                return KP_ERR__INVALID_ARG;
    }
    /* Register h's kinds too, so events can take their component. Put them
     * first: the header lists h->kinds, then the registered ones. */
    size_t n_reg = w->n_kinds;
    for (size_t i = 0; i < h->n_kinds; i++) {
        kp_err e = rp_trace_writer_register_kind(w, h->kinds[i].kind, h->kinds[i].name,
                                                 h->kinds[i].layer, h->kinds[i].component);
        if (e)
            return e;
    }
    size_t nk = w->n_kinds, ns = h->n_settings, nc = h->n_components;
    Kptrace__KindDef *kd = calloc(nk ? nk : 1, sizeof *kd);
    Kptrace__KindDef **kdp = calloc(nk ? nk : 1, sizeof *kdp);
    Kptrace__Setting *st = calloc(ns ? ns : 1, sizeof *st);
    Kptrace__Setting **stp = calloc(ns ? ns : 1, sizeof *stp);
    Kptrace__Component *cp = calloc(nc ? nc : 1, sizeof *cp);
    Kptrace__Component **cpp = calloc(nc ? nc : 1, sizeof *cpp);
    kp_err e = KP_ERR_NONE;
    if (!kd || !kdp || !st || !stp || !cp || !cpp) {
        e = w->err = KP_ERR__NOMEM;
        goto out;
    }
    for (size_t i = 0; i < nk; i++) {
        /* h's kinds (registered last) come first in the file */
        const rp_kind_def *d = &w->kinds[i < h->n_kinds ? n_reg + i : i - h->n_kinds];
        kptrace__kind_def__init(&kd[i]);
        kd[i].has_kind = 1;
        kd[i].kind = d->kind;
        kd[i].name = rp_mut(d->name);
        kd[i].layer = rp_mut(d->layer);
        kd[i].component = rp_mut(d->component);
        kdp[i] = &kd[i];
    }
    for (size_t i = 0; i < ns; i++) {
        kptrace__setting__init(&st[i]);
        st[i].key = rp_mut(h->settings[i].key);
        st[i].value = rp_mut(h->settings[i].value);
        stp[i] = &st[i];
    }
    for (size_t i = 0; i < nc; i++) {
        kptrace__component__init(&cp[i]);
        cp[i].name = rp_mut(h->components[i].name);
        cp[i].role = rp_mut(h->components[i].role);
        cp[i].has_node = h->components[i].node != -1;
        cp[i].node = h->components[i].node;
        cpp[i] = &cp[i];
    }
    Kptrace__Header hd;
    kptrace__header__init(&hd);
    hd.magic = rp_mut(RP_TRACE_MAGIC);
    hd.has_format_version = 1;
    hd.format_version = RP_TRACE_FORMAT_VERSION;
    hd.kpsim_version = rp_mut(h->kpsim_version);
    hd.scenario = rp_mut(h->scenario);
    hd.purpose = rp_mut(h->purpose);
    hd.has_seed = 1;
    hd.seed = h->seed;
    hd.n_settings = ns;
    hd.settings = stp;
    hd.n_kinds = nk;
    hd.kinds = kdp;
    hd.n_components = nc;
    hd.components = cpp;
    hd.has_start_time_us = h->start_time_us != 0;
    hd.start_time_us = h->start_time_us;
    Kptrace__Record rec;
    kptrace__record__init(&rec);
    rec.body_case = KPTRACE__RECORD__BODY_HEADER;
    rec.header = &hd;
    e = rp_writer_frame(w, &rec);
    if (!e)
        w->state = RP_W_HEADER;
out:
    free(kd);
    free(kdp);
    free(st);
    free(stp);
    free(cp);
    free(cpp);
    return e;
}

/* ---- events ------------------------------------------------------------ */

#define RP_OPT(msg, field, val)                  \
    do {                                         \
        (msg).has_##field = (val) != -1;         \
        (msg).field = (val);                     \
    } while (0)

/* ---- hand-written Event encoder ----------------------------------------- */

static inline uint8_t *rp_put_v64(uint8_t *p, uint64_t v) {
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static inline uint64_t rp_zz32(int32_t v) {
    return (uint32_t)(((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

static inline uint64_t rp_zz64(int64_t v) {
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline size_t rp_v64_size(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Largest encoding of the fixed part: 20 tags of <= 2 bytes, 17 numbers of
 * <= 10 bytes, 3 string lengths of <= 5 bytes. */
#define RP_EVENT_FIXED_MAX (20 * 2 + 17 * 10 + 3 * 5)

#define RP_Z32(tag, v)                   \
    do {                                 \
        if ((v) != -1) {                 \
            *p++ = (tag);                \
            p = rp_put_v64(p, rp_zz32(v)); \
        }                                \
    } while (0)
#define RP_Z64(tag, v)                   \
    do {                                 \
        if ((v) != -1) {                 \
            *p++ = (tag);                \
            p = rp_put_v64(p, rp_zz64(v)); \
        }                                \
    } while (0)
#define RP_Z64X(tag, v)                  \
    do {                                 \
        if ((v) != -1) {                 \
            *p++ = (tag);                \
            *p++ = 0x01;                 \
            p = rp_put_v64(p, rp_zz64(v)); \
        }                                \
    } while (0)
#define RP_STR(p, tag1, tag2, s, n)      \
    do {                                 \
        if (s) {                         \
            *p++ = (tag1);               \
            if (tag2)                    \
                *p++ = (tag2);           \
            p = rp_put_v64(p, (n));      \
            memcpy(p, (s), (n));         \
            p += (n);                    \
        }                                \
    } while (0)

/* Encodes the Event message body (no Record wrapper, no length) at p; the
 * caller guarantees RP_EVENT_FIXED_MAX + the three strings' lengths of
 * room. Returns the end. Field for field what kptrace__event__pack writes
 * for the Kptrace__Event that rp_trace_writer_event_pb builds. */
static uint8_t *rp_event_encode(uint8_t *p, uint64_t seq, const kp_event *ev, const char *component,
                                size_t lc, size_t lt, size_t ld) {
    *p++ = 0x08;
    p = rp_put_v64(p, seq);
    *p++ = 0x10;
    p = rp_put_v64(p, (uint64_t)(int64_t)ev->kind); /* int32: negative = 10 bytes */
    *p++ = 0x18;
    p = rp_put_v64(p, rp_zz64(ev->time_us));
    RP_STR(p, 0x22, 0, component, lc);
    RP_Z32(0x28, ev->node);
    RP_STR(p, 0x32, 0, ev->topic, lt);
    RP_Z32(0x38, ev->partition);
    RP_Z64(0x40, ev->batch_id);
    RP_Z32(0x48, ev->base_sequence);
    RP_Z32(0x50, ev->record_count);
    RP_Z64(0x58, ev->bytes);
    RP_Z32(0x60, ev->correlation_id);
    RP_Z32(0x68, ev->api_key);
    if (ev->err != KP_ERR_NONE) {
        *p++ = 0x70;
        p = rp_put_v64(p, rp_zz32((int32_t)ev->err));
    }
    RP_Z32(0x78, ev->attempt);
    RP_Z64X(0x80, ev->offset);
    RP_Z64X(0x88, ev->producer_id);
    if (ev->producer_epoch != -1) {
        *p++ = 0x90;
        *p++ = 0x01;
        p = rp_put_v64(p, rp_zz32(ev->producer_epoch));
    }
    RP_Z64X(0x98, ev->value);
    RP_STR(p, 0xa2, 0x01, ev->detail, ld);
    return p;
}

/* The same event through protobuf-c (used for frames larger than the
 * output buffer, and by the test that proves the two agree). */
static kp_err rp_trace_writer_event_pb(rp_trace_writer *w, const kp_event *ev, const char *component);

kp_err rp_trace_writer_event(rp_trace_writer *w, const kp_event *ev, const char *component) {
    if (w->err)
        return w->err;
    if (w->state != RP_W_HEADER)
        return KP_ERR__STATE;
    if (!component) {
        const rp_kind_def *d = rp_writer_kind(w, ev->kind);
        component = d ? d->component : NULL;
    }
    size_t lc = component ? strlen(component) : 0;
    size_t lt = ev->topic ? strlen(ev->topic) : 0;
    size_t ld = ev->detail ? strlen(ev->detail) : 0;
    size_t worst = RP_EVENT_FIXED_MAX + lc + lt + ld + 1 + 5 + 5;
    if (worst > RP_WBUF_CAP || w->use_pb)
        return rp_trace_writer_event_pb(w, ev, component);
    if (worst > RP_WBUF_CAP - w->len && rp_writer_flush(w))
        return w->err;
    /* Guess the usual 3 header bytes (frame length < 128, 0x12, Event
     * length < 128); move the body when the guess was short or long. */
    uint8_t *base = w->buf + w->len;
    uint8_t *body = base + 3;
    uint8_t *end = rp_event_encode(body, w->seq, ev, component, lc, lt, ld);
    size_t el = (size_t)(end - body);
    size_t rl = 1 + rp_v64_size(el) + el;
    size_t hl = rp_v64_size(rl) + 1 + rp_v64_size(el);
    if (rl > RP_TRACE_MAX_FRAME)
        return KP_ERR__INVALID_ARG; /* not sticky: nothing was committed */
    if (hl != 3)
        memmove(base + hl, body, el);
    uint8_t *h = rp_put_v64(base, rl);
    *h++ = 0x12;
    rp_put_v64(h, el);
    w->len += hl + el;
    w->seq++;
    return KP_ERR_NONE;
}

static kp_err rp_trace_writer_event_pb(rp_trace_writer *w, const kp_event *ev, const char *component) {
    Kptrace__Event e;
    kptrace__event__init(&e);
    e.has_seq = 1;
    e.seq = w->seq;
    e.has_kind = 1;
    e.kind = ev->kind;
    e.has_time_us = 1;
    e.time_us = ev->time_us;
    e.component = rp_mut(component);
    RP_OPT(e, node, ev->node);
    e.topic = rp_mut(ev->topic);
    RP_OPT(e, partition, ev->partition);
    RP_OPT(e, batch_id, ev->batch_id);
    RP_OPT(e, base_sequence, ev->base_sequence);
    RP_OPT(e, record_count, ev->record_count);
    RP_OPT(e, bytes, ev->bytes);
    RP_OPT(e, correlation_id, ev->correlation_id);
    RP_OPT(e, api_key, ev->api_key);
    e.has_err = ev->err != KP_ERR_NONE;
    e.err = (int32_t)ev->err;
    RP_OPT(e, attempt, ev->attempt);
    RP_OPT(e, offset, ev->offset);
    RP_OPT(e, producer_id, ev->producer_id);
    RP_OPT(e, producer_epoch, ev->producer_epoch);
    RP_OPT(e, value, ev->value);
    e.detail = rp_mut(ev->detail);
    Kptrace__Record rec;
    kptrace__record__init(&rec);
    rec.body_case = KPTRACE__RECORD__BODY_EVENT;
    rec.event = &e;
    kp_err err = rp_writer_frame(w, &rec);
    if (!err)
        w->seq++;
    return err;
}

void rp_trace_writer_use_protobuf_c(rp_trace_writer *w, bool on) {
    w->use_pb = on;
}

uint64_t rp_trace_writer_count(const rp_trace_writer *w) {
    return w->seq;
}

kp_err rp_trace_writer_flush(rp_trace_writer *w) {
    if (!w->err && !rp_writer_flush(w) && fflush(w->f) != 0)
        w->err = KP_ERR__TRANSPORT;
    return w->err;
}

static void rp_writer_on_event(void *ctx, const kp_event *ev) {
    rp_trace_writer *w = ctx;
    kp_err e = rp_trace_writer_event(w, ev, NULL);
    if (e && !w->err)
        w->err = e; /* the observer has nobody to tell: keep it for close() */
}

kp_observer rp_trace_writer_observer(rp_trace_writer *w) {
    kp_observer o = {.on_event = rp_writer_on_event, .ctx = w};
    return o;
}

/* ---- summary ----------------------------------------------------------- */

static Kptrace__Verdict **rp_verdicts(const rp_verdict *v, size_t n, Kptrace__Verdict **store) {
    Kptrace__Verdict *a = calloc(n ? n : 1, sizeof *a);
    Kptrace__Verdict **p = calloc(n ? n : 1, sizeof *p);
    *store = a;
    if (!a || !p) {
        free(p);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        kptrace__verdict__init(&a[i]);
        a[i].name = rp_mut(v[i].name);
        a[i].has_passed = 1;
        a[i].passed = v[i].passed;
        a[i].has_count = 1;
        a[i].count = v[i].count;
        a[i].message = rp_mut(v[i].message);
        p[i] = &a[i];
    }
    return p;
}

kp_err rp_trace_writer_summary(rp_trace_writer *w, const rp_trace_summary *s) {
    if (w->err)
        return w->err;
    if (w->state != RP_W_HEADER)
        return KP_ERR__STATE;
    Kptrace__Verdict *inv = NULL, *exp = NULL;
    Kptrace__Verdict **invp = rp_verdicts(s->invariants, s->n_invariants, &inv);
    Kptrace__Verdict **expp = rp_verdicts(s->expectations, s->n_expectations, &exp);
    size_t nm = s->n_metrics;
    Kptrace__Metric *m = calloc(nm ? nm : 1, sizeof *m);
    Kptrace__Metric **mp = calloc(nm ? nm : 1, sizeof *mp);
    kp_err e = KP_ERR_NONE;
    if (!invp || !expp || !m || !mp) {
        e = w->err = KP_ERR__NOMEM;
        goto out;
    }
    for (size_t i = 0; i < nm; i++) {
        kptrace__metric__init(&m[i]);
        m[i].key = rp_mut(s->metrics[i].key);
        m[i].has_value = 1;
        m[i].value = s->metrics[i].value;
        m[i].unit = rp_mut(s->metrics[i].unit);
        mp[i] = &m[i];
    }
    Kptrace__Summary sm;
    kptrace__summary__init(&sm);
    sm.has_passed = 1;
    sm.passed = s->passed;
    sm.n_invariants = s->n_invariants;
    sm.invariants = invp;
    sm.n_expectations = s->n_expectations;
    sm.expectations = expp;
    sm.n_metrics = nm;
    sm.metrics = mp;
    RP_OPT(sm, records_sent, s->records_sent);
    RP_OPT(sm, records_acked, s->records_acked);
    RP_OPT(sm, records_failed, s->records_failed);
    RP_OPT(sm, end_time_us, s->end_time_us);
    sm.has_event_count = 1;
    sm.event_count = w->seq;
    sm.reproduce = rp_mut(s->reproduce);
    Kptrace__Record rec;
    kptrace__record__init(&rec);
    rec.body_case = KPTRACE__RECORD__BODY_SUMMARY;
    rec.summary = &sm;
    e = rp_writer_frame(w, &rec);
    if (!e)
        w->state = RP_W_SUMMARY;
out:
    free(inv);
    free(invp);
    free(exp);
    free(expp);
    free(m);
    free(mp);
    return e;
}

kp_err rp_trace_writer_close(rp_trace_writer *w) {
    if (!w)
        return KP_ERR_NONE;
    if (!w->err)
        rp_writer_flush(w);
    if (!w->err && fflush(w->f) != 0)
        w->err = KP_ERR__TRANSPORT;
    if (w->own_file && fclose(w->f) != 0 && !w->err)
        w->err = KP_ERR__TRANSPORT;
    kp_err e = w->err;
    for (size_t i = 0; i < w->n_kinds; i++) {
        free((char *)w->kinds[i].name);
        free((char *)w->kinds[i].layer);
        free((char *)w->kinds[i].component);
    }
    free(w->kinds);
    free(w->scratch);
    free(w->buf);
    free(w);
    return e;
}
