/*
 * rp_trace_reader.c — reads kpsim traces back (format: trace.proto), one
 * frame at a time or the whole file into memory.
 *
 * Hostile input is the normal case here (traces get truncated when a run is
 * killed, copied half-way, or fuzzed): every length is checked against the
 * bytes that exist before anything is allocated for it beyond a bounded
 * step, protobuf-c decodes into a bounded per-frame arena, and every failure
 * becomes one message "NAME: offset N: what" (N = byte offset of the frame
 * at fault) and a sticky RP_TRACE_ERROR. Never a crash, never an over-read.
 *
 * Invariants of a reader:
 *   - header parsed and valid before open returns;
 *   - events come with seq 0, 1, 2, ... (a gap or a repeat is an error);
 *   - after the summary only a clean end of file is accepted;
 *   - off = bytes consumed = offset of the next frame.
 *
 * Ownership: the reader owns the frame buffer, the per-frame arena (event
 * strings live there until the next call), and the header pool (header and
 * summary live there until close).
 */
#include "rp_trace.h"
#include "rp_internal.h"
#include "trace.pb-c.h"

#include "kp_arena.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define RP_READ_STEP (1u << 20) /* grow the frame buffer by at most this per read */
#define RP_ARENA_MAX (128u * 1024u * 1024u)

struct rp_trace_reader {
    const uint8_t *mem; /* memory source, or NULL */
    size_t mem_len;
    FILE *f;            /* file source (owned), or NULL */
    uint64_t off;
    char name[256];
    char err[512];
    bool failed, summary_seen;
    uint64_t n_events;
    uint8_t *frame;
    size_t frame_cap;
    kp_arena *arena;
    ProtobufCAllocator alloc;
    rp__pool *pool;     /* header + summary */
    rp_trace_header header;
    rp_trace_summary summary;
    /* kind table sorted by number for lookup */
    rp_kind_def *kinds_sorted;
};

/* ---- errors -------------------------------------------------------------- */

static rp_trace_item rp_fail(rp_trace_reader *r, uint64_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static rp_trace_item rp_fail(rp_trace_reader *r, uint64_t at, const char *fmt, ...) {
    if (r->failed)
        return RP_TRACE_ERROR;
    int n = snprintf(r->err, sizeof r->err, "%s: offset %llu: ", r->name, (unsigned long long)at);
    if (n > 0 && (size_t)n < sizeof r->err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err + n, sizeof r->err - (size_t)n, fmt, ap);
        va_end(ap);
    }
    r->failed = true;
    return RP_TRACE_ERROR;
}

/* ---- protobuf-c allocator over the per-frame arena --------------------- */

static void *rp_arena_alloc_cb(void *ctx, size_t n) {
    return kp_arena_alloc(ctx, n);
}
static void rp_arena_free_cb(void *ctx, void *p) {
    (void)ctx;
    (void)p; /* everything goes at the next reset */
}

/* ---- byte source ----------------------------------------------------------- */

/* Next byte, or -1 at end of input. */
static int rp_getbyte(rp_trace_reader *r) {
    if (r->mem) {
        if (r->off >= r->mem_len)
            return -1;
        return r->mem[r->off++];
    }
    int c = getc(r->f);
    if (c == EOF)
        return -1;
    r->off++;
    return c;
}

/* Points *out at n bytes of input (copied into the frame buffer for files).
 * Returns the number of bytes available (< n at end of input). */
static size_t rp_getbytes(rp_trace_reader *r, size_t n, const uint8_t **out) {
    if (r->mem) {
        size_t left = r->mem_len - (size_t)r->off;
        size_t got = n < left ? n : left;
        *out = r->mem + r->off;
        r->off += got;
        return got;
    }
    size_t got = 0;
    while (got < n) {
        /* grow step by step, so a lying length in a short file costs at most
         * one step more than the file holds */
        size_t want = n - got < RP_READ_STEP ? n - got : RP_READ_STEP;
        if (r->frame_cap < got + want) {
            size_t cap = got + want;
            uint8_t *p = realloc(r->frame, cap);
            if (!p)
                break;
            r->frame = p;
            r->frame_cap = cap;
        }
        size_t k = fread(r->frame + got, 1, want, r->f);
        got += k;
        r->off += k;
        if (k < want)
            break;
    }
    *out = r->frame;
    return got;
}

/* ---- frames ---------------------------------------------------------------- */

/* Reads one frame and decodes it. Returns NULL with *eof set at a clean end,
 * NULL with the reader failed on error. */
static Kptrace__Record *rp_read_frame(rp_trace_reader *r, bool *eof, uint64_t *at) {
    *eof = false;
    *at = r->off;
    uint32_t len = 0;
    for (int i = 0;; i++) {
        int c = rp_getbyte(r);
        if (c < 0) {
            if (i == 0) {
                *eof = true;
                return NULL;
            }
            rp_fail(r, *at, "truncated frame length (end of file inside the varint)");
            return NULL;
        }
        if (i == 4 && (c & 0xf0)) {
            rp_fail(r, *at, "frame length varint longer than 5 bytes or over 32 bits");
            return NULL;
        }
        len |= (uint32_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80))
            break;
    }
    if (len == 0 || len > RP_TRACE_MAX_FRAME) {
        rp_fail(r, *at, "frame length %lu out of range 1..%u", (unsigned long)len,
                RP_TRACE_MAX_FRAME);
        return NULL;
    }
    const uint8_t *body;
    size_t got = rp_getbytes(r, len, &body);
    if (got < len) {
        rp_fail(r, *at, "truncated frame: length %lu, only %zu bytes left", (unsigned long)len,
                got);
        return NULL;
    }
    kp_arena_reset(r->arena);
    Kptrace__Record *rec = kptrace__record__unpack(&r->alloc, len, body);
    if (!rec) {
        rp_fail(r, *at, "frame of %lu bytes is not a valid kptrace.Record", (unsigned long)len);
        return NULL;
    }
    return rec;
}

/* ---- header ------------------------------------------------------------------ */

static int rp_kind_cmp(const void *a, const void *b) {
    const rp_kind_def *x = a, *y = b;
    return (x->kind > y->kind) - (x->kind < y->kind);
}

const char *rp_trace_kind_name(const rp_trace_header *h, int32_t kind) {
    /* the reader's own header keeps a sorted copy; a caller-built header is
     * searched linearly */
    for (size_t i = 0; i < h->n_kinds; i++)
        if (h->kinds[i].kind == kind)
            return h->kinds[i].name;
    return NULL;
}

static const char *rp_reader_kind_name(const rp_trace_reader *r, int32_t kind) {
    size_t lo = 0, hi = r->header.n_kinds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int32_t k = r->kinds_sorted[mid].kind;
        if (k == kind)
            return r->kinds_sorted[mid].name;
        if (k < kind)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

#define RP_DUP(s) rp__pool_intern(r->pool, (s))

static bool rp_copy_header(rp_trace_reader *r, const Kptrace__Header *h, uint64_t at) {
    if (!h->magic || strcmp(h->magic, RP_TRACE_MAGIC) != 0) {
        rp_fail(r, at, "not a kpsim trace (header magic is not \"" RP_TRACE_MAGIC "\")");
        return false;
    }
    if (!h->has_format_version || h->format_version != RP_TRACE_FORMAT_VERSION) {
        rp_fail(r, at, "unsupported trace format version %lu (this kpsim reads %u)",
                (unsigned long)h->format_version, RP_TRACE_FORMAT_VERSION);
        return false;
    }
    rp_trace_header *o = &r->header;
    o->format_version = h->format_version;
    o->kpsim_version = RP_DUP(h->kpsim_version);
    o->scenario = RP_DUP(h->scenario);
    o->purpose = RP_DUP(h->purpose);
    o->seed = h->seed;
    o->start_time_us = h->start_time_us;
    rp_kv *kv = rp__pool_alloc(r->pool, h->n_settings * sizeof *kv);
    rp_kind_def *kd = rp__pool_alloc(r->pool, h->n_kinds * sizeof *kd);
    rp_kind_def *ks = rp__pool_alloc(r->pool, h->n_kinds * sizeof *ks);
    rp_component_def *cd = rp__pool_alloc(r->pool, h->n_components * sizeof *cd);
    if (!kv || !kd || !ks || !cd) {
        rp_fail(r, at, "out of memory copying the header");
        return false;
    }
    for (size_t i = 0; i < h->n_settings; i++) {
        kv[i].key = RP_DUP(h->settings[i]->key ? h->settings[i]->key : "");
        kv[i].value = RP_DUP(h->settings[i]->value ? h->settings[i]->value : "");
    }
    for (size_t i = 0; i < h->n_kinds; i++) {
        const Kptrace__KindDef *k = h->kinds[i];
        if (!k->has_kind || !k->name || !*k->name) {
            rp_fail(r, at, "header: kind table entry %zu has no number or no name", i);
            return false;
        }
        kd[i].kind = k->kind;
        kd[i].name = RP_DUP(k->name);
        kd[i].layer = RP_DUP(k->layer);
        kd[i].component = RP_DUP(k->component);
    }
    memcpy(ks, kd, h->n_kinds * sizeof *ks);
    qsort(ks, h->n_kinds, sizeof *ks, rp_kind_cmp);
    for (size_t i = 1; i < h->n_kinds; i++)
        if (ks[i].kind == ks[i - 1].kind) {
            rp_fail(r, at, "header: kind %d is named twice", (int)ks[i].kind);
            return false;
        }
    for (size_t i = 0; i < h->n_components; i++) {
        cd[i].name = RP_DUP(h->components[i]->name ? h->components[i]->name : "");
        cd[i].role = RP_DUP(h->components[i]->role);
        cd[i].node = h->components[i]->node;
    }
    o->settings = kv;
    o->n_settings = h->n_settings;
    o->kinds = kd;
    o->n_kinds = h->n_kinds;
    o->components = cd;
    o->n_components = h->n_components;
    r->kinds_sorted = ks;
    return true;
}

static rp_trace_reader *rp_reader_start(rp_trace_reader *r, char *errbuf, size_t errlen) {
    r->arena = kp_arena_new(64u * 1024u, RP_ARENA_MAX);
    r->pool = rp__pool_new();
    if (!r->arena || !r->pool) {
        rp_fail(r, 0, "out of memory");
    } else {
        r->alloc.alloc = rp_arena_alloc_cb;
        r->alloc.free = rp_arena_free_cb;
        r->alloc.allocator_data = r->arena;
        bool eof;
        uint64_t at;
        Kptrace__Record *rec = rp_read_frame(r, &eof, &at);
        if (eof)
            rp_fail(r, 0, "empty file: no trace header");
        else if (rec && rec->body_case != KPTRACE__RECORD__BODY_HEADER)
            rp_fail(r, at, "first frame is not a trace header");
        else if (rec)
            rp_copy_header(r, rec->header, at);
    }
    if (r->failed) {
        if (errlen) {
            snprintf(errbuf, errlen, "%s", r->err);
        }
        rp_trace_reader_close(r);
        return NULL;
    }
    return r;
}

static rp_trace_reader *rp_reader_alloc(const char *name) {
    rp_trace_reader *r = calloc(1, sizeof *r);
    if (r)
        snprintf(r->name, sizeof r->name, "%s", name ? name : "trace");
    return r;
}

rp_trace_reader *rp_trace_reader_open_path(const char *path, char *errbuf, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errlen)
            snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    rp_trace_reader *r = rp_reader_alloc(path);
    if (!r) {
        fclose(f);
        if (errlen)
            snprintf(errbuf, errlen, "%s: out of memory", path);
        return NULL;
    }
    r->f = f;
    return rp_reader_start(r, errbuf, errlen);
}

rp_trace_reader *rp_trace_reader_open_mem(const void *buf, size_t len, const char *name,
                                          char *errbuf, size_t errlen) {
    rp_trace_reader *r = rp_reader_alloc(name);
    if (!r) {
        if (errlen)
            snprintf(errbuf, errlen, "%s: out of memory", name ? name : "trace");
        return NULL;
    }
    static const uint8_t empty[1];
    r->mem = len ? buf : empty;
    r->mem_len = len;
    return rp_reader_start(r, errbuf, errlen);
}

const rp_trace_header *rp_trace_reader_header(const rp_trace_reader *r) {
    return &r->header;
}

/* ---- events and summary -------------------------------------------------- */

static void rp_copy_event(const rp_trace_reader *r, const Kptrace__Event *e, rp_event *out) {
    kp_event *ev = &out->ev;
    kp_event_init(ev, e->kind, e->time_us);
    ev->node = e->node;
    ev->topic = e->topic;
    ev->partition = e->partition;
    ev->batch_id = e->batch_id;
    ev->base_sequence = e->base_sequence;
    ev->record_count = e->record_count;
    ev->bytes = e->bytes;
    ev->correlation_id = e->correlation_id;
    ev->api_key = e->api_key;
    ev->err = (kp_err)e->err;
    ev->attempt = e->attempt;
    ev->offset = e->offset;
    ev->producer_id = e->producer_id;
    ev->producer_epoch = e->producer_epoch;
    ev->value = e->value;
    ev->detail = e->detail;
    out->seq = e->seq;
    out->component = e->component;
    out->kind_name = rp_reader_kind_name(r, e->kind);
}

static bool rp_copy_verdicts(rp_trace_reader *r, Kptrace__Verdict **v, size_t n,
                             const rp_verdict **out) {
    rp_verdict *a = rp__pool_alloc(r->pool, n * sizeof *a);
    if (!a)
        return false;
    for (size_t i = 0; i < n; i++) {
        a[i].name = RP_DUP(v[i]->name ? v[i]->name : "");
        a[i].passed = v[i]->passed;
        a[i].count = v[i]->count;
        a[i].message = RP_DUP(v[i]->message);
    }
    *out = a;
    return true;
}

static bool rp_copy_summary(rp_trace_reader *r, const Kptrace__Summary *s) {
    rp_trace_summary *o = &r->summary;
    o->passed = s->passed;
    o->records_sent = s->has_records_sent ? s->records_sent : -1;
    o->records_acked = s->has_records_acked ? s->records_acked : -1;
    o->records_failed = s->has_records_failed ? s->records_failed : -1;
    o->end_time_us = s->end_time_us;
    o->event_count = s->event_count;
    o->reproduce = RP_DUP(s->reproduce);
    if (!rp_copy_verdicts(r, s->invariants, s->n_invariants, &o->invariants) ||
        !rp_copy_verdicts(r, s->expectations, s->n_expectations, &o->expectations))
        return false;
    o->n_invariants = s->n_invariants;
    o->n_expectations = s->n_expectations;
    rp_metric *m = rp__pool_alloc(r->pool, s->n_metrics * sizeof *m);
    if (!m)
        return false;
    for (size_t i = 0; i < s->n_metrics; i++) {
        m[i].key = RP_DUP(s->metrics[i]->key ? s->metrics[i]->key : "");
        m[i].value = s->metrics[i]->value;
        m[i].unit = RP_DUP(s->metrics[i]->unit);
    }
    o->metrics = m;
    o->n_metrics = s->n_metrics;
    return true;
}

rp_trace_item rp_trace_reader_next(rp_trace_reader *r, rp_event *ev) {
    if (r->failed)
        return RP_TRACE_ERROR;
    bool eof;
    uint64_t at;
    Kptrace__Record *rec = rp_read_frame(r, &eof, &at);
    if (eof)
        return RP_TRACE_END;
    if (!rec)
        return RP_TRACE_ERROR;
    if (r->summary_seen)
        return rp_fail(r, at, "frame after the summary");
    switch (rec->body_case) {
    case KPTRACE__RECORD__BODY_EVENT: {
        const Kptrace__Event *e = rec->event;
        if (!e->has_seq || !e->has_kind || !e->has_time_us)
            return rp_fail(r, at, "event without seq, kind or time");
        if (e->seq != r->n_events)
            return rp_fail(r, at, "event seq %llu where %llu was due",
                           (unsigned long long)e->seq, (unsigned long long)r->n_events);
        r->n_events++;
        rp_copy_event(r, e, ev);
        return RP_TRACE_EVENT;
    }
    case KPTRACE__RECORD__BODY_SUMMARY:
        if (!rp_copy_summary(r, rec->summary))
            return rp_fail(r, at, "out of memory copying the summary");
        if (rec->summary->has_event_count && rec->summary->event_count != r->n_events)
            return rp_fail(r, at, "summary counts %llu events, the trace holds %llu",
                           (unsigned long long)rec->summary->event_count,
                           (unsigned long long)r->n_events);
        r->summary_seen = true;
        return RP_TRACE_SUMMARY;
    case KPTRACE__RECORD__BODY_HEADER:
        return rp_fail(r, at, "a second trace header");
    default:
        return rp_fail(r, at, "record with no body");
    }
}

const rp_trace_summary *rp_trace_reader_summary(const rp_trace_reader *r) {
    return r->summary_seen ? &r->summary : NULL;
}

const char *rp_trace_reader_error(const rp_trace_reader *r) {
    return r->failed ? r->err : "";
}

uint64_t rp_trace_reader_offset(const rp_trace_reader *r) {
    return r->off;
}

void rp_trace_reader_close(rp_trace_reader *r) {
    if (!r)
        return;
    if (r->f)
        fclose(r->f);
    free(r->frame);
    kp_arena_destroy(r->arena);
    rp__pool_free(r->pool);
    free(r);
}

/* ---- whole trace in memory --------------------------------------------------- */

static rp_trace *rp_trace_load(rp_trace_reader *r, char *errbuf, size_t errlen) {
    if (!r)
        return NULL;
    rp_trace *t = calloc(1, sizeof *t);
    if (!t) {
        if (errlen)
            snprintf(errbuf, errlen, "%s: out of memory", r->name);
        rp_trace_reader_close(r);
        return NULL;
    }
    size_t cap = 0;
    rp_event ev;
    rp_trace_item it;
    while ((it = rp_trace_reader_next(r, &ev)) == RP_TRACE_EVENT) {
        if (t->n_events == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            rp_event *ne = realloc(t->events, ncap * sizeof *ne);
            if (!ne) {
                rp_fail(r, r->off, "out of memory holding %zu events", t->n_events);
                it = RP_TRACE_ERROR;
                break;
            }
            t->events = ne;
            cap = ncap;
        }
        /* re-home the event's strings from the per-frame arena to the pool */
        ev.ev.topic = RP_DUP(ev.ev.topic);
        ev.ev.detail = RP_DUP(ev.ev.detail);
        ev.component = RP_DUP(ev.component);
        t->events[t->n_events++] = ev;
    }
    if (it == RP_TRACE_SUMMARY) {
        t->has_summary = true;
        t->summary = r->summary;
        it = rp_trace_reader_next(r, &ev);
    }
    if (it == RP_TRACE_ERROR) {
        if (errlen)
            snprintf(errbuf, errlen, "%s", r->err);
        rp_trace_reader_close(r);
        free(t->events);
        free(t);
        return NULL;
    }
    t->header = r->header;
    t->pool = r->pool; /* the trace takes the reader's pool */
    r->pool = NULL;
    rp_trace_reader_close(r);
    return t;
}

rp_trace *rp_trace_load_path(const char *path, char *errbuf, size_t errlen) {
    return rp_trace_load(rp_trace_reader_open_path(path, errbuf, errlen), errbuf, errlen);
}

rp_trace *rp_trace_load_mem(const void *buf, size_t len, const char *name, char *errbuf,
                            size_t errlen) {
    return rp_trace_load(rp_trace_reader_open_mem(buf, len, name, errbuf, errlen), errbuf, errlen);
}

void rp_trace_free(rp_trace *t) {
    if (!t)
        return;
    free(t->events);
    rp__pool_free(t->pool);
    free(t);
}
