/*
 * rp_format.c — text, JSON Lines and Chrome/Perfetto output of a trace
 * (formats described in rp_format.h).
 */
#include "rp_format.h"
#include "rp_internal.h"
#include "rp_kinds.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

bool rp_format_parse(const char *name, rp_format *out) {
    if (!name)
        return false;
    if (!strcmp(name, "text"))
        *out = RP_FORMAT_TEXT;
    else if (!strcmp(name, "json"))
        *out = RP_FORMAT_JSON;
    else if (!strcmp(name, "perfetto"))
        *out = RP_FORMAT_PERFETTO;
    else
        return false;
    return true;
}

/* ====================================================================== */
/* text                                                                    */
/* ====================================================================== */

static int rp_clampw(size_t n, int lo, int hi) {
    return n < (size_t)lo ? lo : n > (size_t)hi ? hi : (int)n;
}

rp_text_widths rp_text_widths_of(const rp_trace_header *h) {
    size_t k = 0, c = 0;
    for (size_t i = 0; i < h->n_kinds; i++) {
        if (strlen(h->kinds[i].name) > k)
            k = strlen(h->kinds[i].name);
        if (h->kinds[i].component && strlen(h->kinds[i].component) > c)
            c = strlen(h->kinds[i].component);
    }
    for (size_t i = 0; i < h->n_components; i++)
        if (strlen(h->components[i].name) > c)
            c = strlen(h->components[i].name);
    /* a header that names no component (the runner names them per event,
     * e.g. "producer-1 accumulator") gets room for the usual ones */
    rp_text_widths w = {rp_clampw(k, 9, 32), rp_clampw(c ? c : 22, 9, 24)};
    return w;
}

/* A string on one line: quotes, backslashes and control bytes escaped. */
static void rp_text_quoted(FILE *out, const char *s) {
    putc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", *p);
        else
            putc(*p, out);
    }
    putc('"', out);
}

static bool rp_text_needs_quotes(const char *s) {
    if (!*s)
        return true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '\\' || *p == 0x7f)
            return true;
    return false;
}

/* A bare word when it has no spaces, quotes or control bytes; else quoted.
 * Returns the columns printed (bytes; UTF-8 counts per byte). */
static int rp_text_word(FILE *out, const char *s) {
    if (!rp_text_needs_quotes(s)) {
        fputs(s, out);
        return (int)strlen(s);
    }
    int n = 2;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p == '"' || *p == '\\' || *p == '\n') ? 2 : (*p < 0x20 || *p == 0x7f) ? 4 : 1;
    rp_text_quoted(out, s);
    return n;
}

void rp_text_header(FILE *out, const rp_trace_header *h, const rp_text_widths *w) {
    fprintf(out, "# kpsim trace (format %u, written by kpsim %s)\n", h->format_version,
            h->kpsim_version ? h->kpsim_version : "?");
    fprintf(out, "# scenario: %s\n", h->scenario ? h->scenario : "(unnamed)");
    if (h->purpose)
        fprintf(out, "# purpose:  %s\n", h->purpose);
    fprintf(out, "# seed:     %" PRIu64 "\n", h->seed);
    for (size_t i = 0; i < h->n_settings; i++)
        fprintf(out, "# set %s=%s\n", h->settings[i].key, h->settings[i].value);
    fprintf(out, "# %10s %6s  %-*s  %-*s  %s\n", "time_ms", "seq", w->kind, "kind", w->component,
            "component", "fields");
}

static bool rp_has_fields(const kp_event *ev) {
    return ev->node != -1 || ev->topic || ev->partition != -1 || ev->batch_id != -1 ||
           ev->base_sequence != -1 || ev->record_count != -1 || ev->bytes != -1 ||
           ev->correlation_id != -1 || ev->api_key != -1 || ev->err != KP_ERR_NONE ||
           ev->attempt != -1 || ev->offset != -1 || ev->producer_id != -1 ||
           ev->producer_epoch != -1 || ev->value != -1 || ev->detail;
}

void rp_text_event(FILE *out, const rp_trace_header *h, const rp_event *e,
                   const rp_text_widths *w) {
    const kp_event *ev = &e->ev;
    char t[32], kb[24];
    rp__ms3(t, sizeof t, ev->time_us);
    fprintf(out, "%12s %6" PRIu64 "  %-*s  ", t, e->seq, w->kind, rp__kind_label(e, kb, sizeof kb));
    /* the component is a column: spaces are fine, only odd bytes get quoted;
     * no trailing blanks when no field follows */
    const char *comp = rp__event_component(h, e);
    int used;
    bool odd = !*comp;
    for (const unsigned char *p = (const unsigned char *)comp; *p; p++)
        odd |= *p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f;
    if (odd) {
        used = rp_text_word(out, comp);
    } else {
        fputs(comp, out);
        used = (int)strlen(comp);
    }
    if (rp_has_fields(ev))
        fprintf(out, "%*s", used < w->component ? w->component - used : 0, "");
    if (ev->node != -1)
        fprintf(out, "  node=%" PRId32, ev->node);
    if (ev->topic) {
        fputs("  topic=", out);
        (void)rp_text_word(out, ev->topic);
    }
    if (ev->partition != -1)
        fprintf(out, "  partition=%" PRId32, ev->partition);
    if (ev->batch_id != -1)
        fprintf(out, "  batch=%" PRId64, ev->batch_id);
    if (ev->base_sequence != -1)
        fprintf(out, "  base_seq=%" PRId32, ev->base_sequence);
    if (ev->record_count != -1)
        fprintf(out, "  records=%" PRId32, ev->record_count);
    if (ev->bytes != -1)
        fprintf(out, "  bytes=%" PRId64, ev->bytes);
    if (ev->correlation_id != -1)
        fprintf(out, "  corr=%" PRId32, ev->correlation_id);
    if (ev->api_key != -1) {
        const char *api = rp_api_name(ev->api_key);
        if (api)
            fprintf(out, "  api=%s", api);
        else
            fprintf(out, "  api=%" PRId32, ev->api_key);
    }
    if (ev->err != KP_ERR_NONE)
        fprintf(out, "  err=%s", kp_err_name(ev->err));
    if (ev->attempt != -1)
        fprintf(out, "  attempt=%" PRId32, ev->attempt);
    if (ev->offset != -1)
        fprintf(out, "  offset=%" PRId64, ev->offset);
    if (ev->producer_id != -1)
        fprintf(out, "  pid=%" PRId64, ev->producer_id);
    if (ev->producer_epoch != -1)
        fprintf(out, "  epoch=%" PRId32, ev->producer_epoch);
    if (ev->value != -1)
        fprintf(out, "  value=%" PRId64, ev->value);
    if (ev->detail) {
        fputs("  detail=", out);
        rp_text_quoted(out, ev->detail);
    }
    putc('\n', out);
}

static void rp_text_verdicts(FILE *out, const char *what, const rp_verdict *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "#   %-11s %s  %s (%" PRId64 ")", what, v[i].passed ? "PASS" : "FAIL",
                v[i].name, v[i].count);
        if (v[i].message)
            fprintf(out, ": %s", v[i].message);
        putc('\n', out);
    }
}

void rp_text_summary(FILE *out, const rp_trace_summary *s) {
    char t[32];
    rp__ms3(t, sizeof t, s->end_time_us);
    fprintf(out, "# summary: %s  sent=%" PRId64 " acked=%" PRId64 " failed=%" PRId64
                 "  end=%s ms  events=%" PRIu64 "\n",
            s->passed ? "PASS" : "FAIL", s->records_sent, s->records_acked, s->records_failed,
            s->end_time_us >= 0 ? t : "?", s->event_count);
    rp_text_verdicts(out, "invariant", s->invariants, s->n_invariants);
    rp_text_verdicts(out, "expectation", s->expectations, s->n_expectations);
    for (size_t i = 0; i < s->n_metrics; i++)
        fprintf(out, "#   metric      %s = %.17g%s%s\n", s->metrics[i].key, s->metrics[i].value,
                s->metrics[i].unit ? " " : "", s->metrics[i].unit ? s->metrics[i].unit : "");
    if (s->reproduce)
        fprintf(out, "# reproduce: %s\n", s->reproduce);
}

/* ====================================================================== */
/* JSON Lines                                                              */
/* ====================================================================== */

void rp_json_header(FILE *out, const rp_trace_header *h) {
    fprintf(out, "{\"type\":\"header\",\"format_version\":%u,\"kpsim_version\":", h->format_version);
    rp__json_str(out, h->kpsim_version);
    fputs(",\"scenario\":", out);
    rp__json_str(out, h->scenario);
    fputs(",\"purpose\":", out);
    rp__json_str(out, h->purpose);
    fprintf(out, ",\"seed\":%" PRIu64 ",\"start_time_us\":%" PRId64 ",\"settings\":{", h->seed,
            h->start_time_us);
    for (size_t i = 0; i < h->n_settings; i++) {
        if (i)
            putc(',', out);
        rp__json_str(out, h->settings[i].key);
        putc(':', out);
        rp__json_str(out, h->settings[i].value);
    }
    fputs("},\"kinds\":[", out);
    for (size_t i = 0; i < h->n_kinds; i++) {
        fprintf(out, "%s{\"kind\":%" PRId32 ",\"name\":", i ? "," : "", h->kinds[i].kind);
        rp__json_str(out, h->kinds[i].name);
        fputs(",\"layer\":", out);
        rp__json_str(out, h->kinds[i].layer);
        fputs(",\"component\":", out);
        rp__json_str(out, h->kinds[i].component);
        putc('}', out);
    }
    fputs("],\"components\":[", out);
    for (size_t i = 0; i < h->n_components; i++) {
        fputs(i ? ",{\"name\":" : "{\"name\":", out);
        rp__json_str(out, h->components[i].name);
        fputs(",\"role\":", out);
        rp__json_str(out, h->components[i].role);
        fprintf(out, ",\"node\":%" PRId32 "}", h->components[i].node);
    }
    fputs("]}\n", out);
}

/* The fields of a kp_event that apply, as ,"name":value pairs. */
static void rp_json_fields(FILE *out, const kp_event *ev) {
#define RP_JF(name, fmt, v)                                 \
    if ((v) != -1)                                          \
        fprintf(out, ",\"" name "\":%" fmt, v)
    RP_JF("node", PRId32, ev->node);
    if (ev->topic) {
        fputs(",\"topic\":", out);
        rp__json_str(out, ev->topic);
    }
    RP_JF("partition", PRId32, ev->partition);
    RP_JF("batch_id", PRId64, ev->batch_id);
    RP_JF("base_sequence", PRId32, ev->base_sequence);
    RP_JF("record_count", PRId32, ev->record_count);
    RP_JF("bytes", PRId64, ev->bytes);
    RP_JF("correlation_id", PRId32, ev->correlation_id);
    RP_JF("api_key", PRId32, ev->api_key);
    if (ev->err != KP_ERR_NONE) {
        fprintf(out, ",\"err\":%d,\"err_name\":", (int)ev->err);
        rp__json_str(out, kp_err_name(ev->err));
    }
    RP_JF("attempt", PRId32, ev->attempt);
    RP_JF("offset", PRId64, ev->offset);
    RP_JF("producer_id", PRId64, ev->producer_id);
    RP_JF("producer_epoch", PRId32, ev->producer_epoch);
    RP_JF("value", PRId64, ev->value);
#undef RP_JF
    if (ev->detail) {
        fputs(",\"detail\":", out);
        rp__json_str(out, ev->detail);
    }
}

void rp_json_event(FILE *out, const rp_trace_header *h, const rp_event *e) {
    fprintf(out, "{\"type\":\"event\",\"seq\":%" PRIu64 ",\"time_us\":%" PRId64 ",\"kind\":%d",
            e->seq, e->ev.time_us, e->ev.kind);
    fputs(",\"kind_name\":", out);
    rp__json_str(out, e->kind_name);
    fputs(",\"component\":", out);
    rp__json_str(out, rp__event_component(h, e));
    rp_json_fields(out, &e->ev);
    fputs("}\n", out);
}

static void rp_json_verdicts(FILE *out, const char *key, const rp_verdict *v, size_t n) {
    fprintf(out, ",\"%s\":[", key);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ",{\"name\":" : "{\"name\":", out);
        rp__json_str(out, v[i].name);
        fprintf(out, ",\"passed\":%s,\"count\":%" PRId64 ",\"message\":",
                v[i].passed ? "true" : "false", v[i].count);
        rp__json_str(out, v[i].message);
        putc('}', out);
    }
    putc(']', out);
}

/* JSON has no NaN or infinities: those become null. */
static void rp_json_double(FILE *out, double d) {
    if (d != d || d > 1.7976931348623157e308 || d < -1.7976931348623157e308)
        fputs("null", out);
    else
        fprintf(out, "%.17g", d);
}

void rp_json_summary(FILE *out, const rp_trace_summary *s) {
    fprintf(out,
            "{\"type\":\"summary\",\"passed\":%s,\"records_sent\":%" PRId64
            ",\"records_acked\":%" PRId64 ",\"records_failed\":%" PRId64
            ",\"end_time_us\":%" PRId64 ",\"event_count\":%" PRIu64 ",\"reproduce\":",
            s->passed ? "true" : "false", s->records_sent, s->records_acked, s->records_failed,
            s->end_time_us, s->event_count);
    rp__json_str(out, s->reproduce);
    rp_json_verdicts(out, "invariants", s->invariants, s->n_invariants);
    rp_json_verdicts(out, "expectations", s->expectations, s->n_expectations);
    fputs(",\"metrics\":[", out);
    for (size_t i = 0; i < s->n_metrics; i++) {
        fputs(i ? ",{\"key\":" : "{\"key\":", out);
        rp__json_str(out, s->metrics[i].key);
        fputs(",\"value\":", out);
        rp_json_double(out, s->metrics[i].value);
        fputs(",\"unit\":", out);
        rp__json_str(out, s->metrics[i].unit);
        putc('}', out);
    }
    fputs("]}\n", out);
}

int rp_format_stream(FILE *out, rp_trace_reader *r, rp_format fmt) {
    const rp_trace_header *h = rp_trace_reader_header(r);
    rp_text_widths w = rp_text_widths_of(h);
    if (fmt == RP_FORMAT_TEXT)
        rp_text_header(out, h, &w);
    else
        rp_json_header(out, h);
    rp_event e;
    rp_trace_item it;
    while ((it = rp_trace_reader_next(r, &e)) == RP_TRACE_EVENT) {
        if (fmt == RP_FORMAT_TEXT)
            rp_text_event(out, h, &e, &w);
        else
            rp_json_event(out, h, &e);
    }
    if (it == RP_TRACE_SUMMARY) {
        if (fmt == RP_FORMAT_TEXT)
            rp_text_summary(out, rp_trace_reader_summary(r));
        else
            rp_json_summary(out, rp_trace_reader_summary(r));
        it = rp_trace_reader_next(r, &e);
    }
    return it == RP_TRACE_ERROR ? -1 : 0;
}

/* ====================================================================== */
/* Chrome Trace Event JSON (Perfetto)                                      */
/* ====================================================================== */

typedef struct rp_pf_comp {
    const char *name;
    int lanes[3];     /* lanes used per span cat (index RP_SPAN_*) */
    int lane_base[3]; /* first lane number of each cat */
} rp_pf_comp;

typedef struct rp_pf {
    FILE *out;
    const rp_trace *t;
    rp_pf_comp *comps;
    size_t n_comps, cap_comps;
    bool first; /* no comma before the first traceEvent */
} rp_pf;

static int rp_pf_comp_ix(rp_pf *p, const char *name) {
    for (size_t i = 0; i < p->n_comps; i++)
        if (!strcmp(p->comps[i].name, name))
            return (int)i;
    if (p->n_comps == p->cap_comps) {
        size_t cap = p->cap_comps ? p->cap_comps * 2 : 16;
        rp_pf_comp *c = realloc(p->comps, cap * sizeof *c);
        if (!c)
            return -1;
        p->comps = c;
        p->cap_comps = cap;
    }
    memset(&p->comps[p->n_comps], 0, sizeof p->comps[0]);
    p->comps[p->n_comps].name = name;
    return (int)p->n_comps++;
}

/* The track of an event: its component; but a network event of a component
 * that is one word ("network") and whose detail names a link as simnet does
 * ("A>B", the endpoint's own name first) goes to the track of that link,
 * "link A<->B" with the two ends in byte order, so both directions and both
 * ends of one link share a track. The name is interned in the trace's pool. */
static const char *rp_pf_track(const rp_trace *t, const rp_event *e) {
    const char *comp = rp__event_component(&t->header, e);
    const char *d = e->ev.detail;
    if (e->ev.kind < KP_EV_BASE_NET || e->ev.kind >= KP_EV_BASE_HARNESS || strchr(comp, ' ') || !d)
        return comp;
    const char *gt = strchr(d, '>');
    if (!gt || gt == d || !gt[1] || strchr(gt + 1, '>') || strchr(d, ' '))
        return comp;
    size_t la = (size_t)(gt - d), lb = strlen(gt + 1);
    const char *a = d, *b = gt + 1;
    int cmp = strncmp(a, b, la < lb ? la : lb);
    if (cmp > 0 || (cmp == 0 && la > lb)) {
        const char *x = a;
        size_t lx = la;
        a = b, la = lb, b = x, lb = lx;
    }
    rp__sbuf sb = {0};
    rp__sbuf_printf(&sb, "link %.*s<->%.*s", (int)la, a, (int)lb, b);
    const char *name = sb.p ? rp__pool_intern(t->pool, sb.p) : NULL;
    free(sb.p);
    return name ? name : comp;
}

static void rp_pf_sep(rp_pf *p) {
    fputs(p->first ? "\n" : ",\n", p->out);
    p->first = false;
}

static void rp_pf_thread(rp_pf *p, long tid, const char *name, const char *suffix) {
    rp_pf_sep(p);
    fprintf(p->out, "{\"ph\":\"M\",\"pid\":1,\"tid\":%ld,\"name\":\"thread_name\",\"args\":{\"name\":",
            tid);
    if (suffix) {
        rp__sbuf b = {0};
        rp__sbuf_printf(&b, "%s: %s", name, suffix);
        rp__json_str(p->out, b.p ? b.p : name);
        free(b.p);
    } else {
        rp__json_str(p->out, name);
    }
    fputs("}}", p->out);
    rp_pf_sep(p);
    fprintf(p->out,
            "{\"ph\":\"M\",\"pid\":1,\"tid\":%ld,\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":%ld}}",
            tid, tid);
}

static void rp_pf_args(FILE *out, const rp_event *e) {
    fprintf(out, ",\"args\":{\"seq\":%" PRIu64, e->seq);
    rp_json_fields(out, &e->ev);
    putc('}', out);
}

/* A change of requests in flight: ordered by time, ends before starts at
 * the same time, then by span order (a total order: deterministic). */
typedef struct rp_chg {
    int64_t t;
    size_t ord;
    int32_t node;
    int d;
} rp_chg;

static int rp_chg_cmp(const void *a, const void *b) {
    const rp_chg *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->d != y->d)
        return x->d < y->d ? -1 : 1;
    return (x->ord > y->ord) - (x->ord < y->ord);
}

static int rp_span_cmp(const void *a, const void *b) {
    const rp__span *x = a, *y = b;
    if (x->start_us != y->start_us)
        return x->start_us < y->start_us ? -1 : 1;
    return (x->start_ix > y->start_ix) - (x->start_ix < y->start_ix);
}

int rp_format_perfetto(FILE *out, const rp_trace *t) {
    const rp_trace_header *h = &t->header;
    rp_pf p = {.out = out, .t = t, .first = true};
    unsigned char *boundary = calloc(t->n_events ? t->n_events : 1, 1);
    int *ev_comp = calloc(t->n_events ? t->n_events : 1, sizeof *ev_comp);
    rp__span *sp = NULL;
    size_t n_sp = SIZE_MAX;
    int *lane = NULL;
    int rc = -1;
    rp__model mdl;
    bool have_model = false;
    if (!boundary || !ev_comp)
        goto out;
    if (rp__model_build(t, &mdl) != 0)
        goto out;
    have_model = true;
    n_sp = rp__spans_build(&mdl, &sp, boundary);
    if (n_sp == SIZE_MAX)
        goto out;
    if (n_sp) /* qsort(NULL, 0) is undefined */
        qsort(sp, n_sp, sizeof *sp, rp_span_cmp);
    lane = calloc(n_sp ? n_sp : 1, sizeof *lane);
    if (!lane)
        goto out;
    /* components: the header's, then in order of appearance */
    for (size_t i = 0; i < h->n_components; i++)
        if (rp_pf_comp_ix(&p, h->components[i].name) < 0)
            goto out;
    for (size_t i = 0; i < t->n_events; i++)
        if ((ev_comp[i] = rp_pf_comp_ix(&p, rp_pf_track(t, &t->events[i]))) < 0)
            goto out;
    /* lanes: greedy interval partitioning per (component, cat), in start
     * order; lane_end[] is scratch per group */
    for (int cat = RP_SPAN_BATCH; cat <= RP_SPAN_REQUEST; cat++) {
        for (size_t c = 0; c < p.n_comps; c++) {
            int64_t ends[999];
            int nl = 0;
            for (size_t k = 0; k < n_sp; k++) {
                if (sp[k].cat != cat || ev_comp[sp[k].start_ix] != (int)c)
                    continue;
                int l = 0;
                while (l < nl && ends[l] > sp[k].start_us)
                    l++;
                if (l == nl) {
                    if (nl < 999)
                        nl++;
                    else
                        l = nl - 1; /* out of lanes: overlap in the last */
                }
                ends[l] = sp[k].end_us;
                lane[k] = l;
            }
            p.comps[c].lanes[cat] = nl;
        }
    }
    for (size_t c = 0; c < p.n_comps; c++) {
        p.comps[c].lane_base[RP_SPAN_BATCH] = 1;
        p.comps[c].lane_base[RP_SPAN_REQUEST] = 1 + p.comps[c].lanes[RP_SPAN_BATCH];
    }

    fputs("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"scenario\":", out);
    rp__json_str(out, h->scenario);
    fprintf(out, ",\"seed\":\"%" PRIu64 "\",\"kpsim_version\":", h->seed);
    rp__json_str(out, h->kpsim_version);
    fputs("},\"traceEvents\":[", out);
    rp_pf_sep(&p);
    {
        rp__sbuf b = {0};
        rp__sbuf_printf(&b, "kpsim %s (seed %" PRIu64 ")", h->scenario ? h->scenario : "run", h->seed);
        fputs("{\"ph\":\"M\",\"pid\":1,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":", out);
        rp__json_str(out, b.p ? b.p : "kpsim");
        fputs("}}", out);
        free(b.p);
    }
    for (size_t c = 0; c < p.n_comps; c++) {
        long base = 1000L * (long)(c + 1);
        rp_pf_thread(&p, base, p.comps[c].name, NULL);
        for (int cat = RP_SPAN_BATCH; cat <= RP_SPAN_REQUEST; cat++)
            for (int l = 0; l < p.comps[c].lanes[cat]; l++) {
                char sfx[32];
                snprintf(sfx, sizeof sfx, "%s #%d", cat == RP_SPAN_BATCH ? "batches" : "requests",
                         l + 1);
                rp_pf_thread(&p, base + p.comps[c].lane_base[cat] + l, p.comps[c].name, sfx);
            }
    }
    /* instants and counters, in trace order */
    rp__imap inflight = {0}; /* node -> requests in flight */
    for (size_t i = 0; i < t->n_events; i++) {
        const rp_event *e = &t->events[i];
        rp_role role = mdl.role[i];
        char kb[24];
        const char *kname = rp__kind_label(e, kb, sizeof kb);
        if (!boundary[i]) {
            bool fault = role == RP_ROLE_FAULT;
            rp_pf_sep(&p);
            fputs("{\"ph\":\"i\",\"name\":", out);
            if (fault && e->ev.detail) {
                rp__json_str(out, e->ev.detail);
            } else if (e->ev.err != KP_ERR_NONE) {
                rp__sbuf b = {0};
                rp__sbuf_printf(&b, "%s: %s", kname, kp_err_name(e->ev.err));
                rp__json_str(out, b.p ? b.p : kname);
                free(b.p);
            } else {
                rp__json_str(out, kname);
            }
            fprintf(out, ",\"cat\":\"%s\",\"s\":\"%s\",\"ts\":%" PRId64 ",\"pid\":1,\"tid\":%ld",
                    fault ? "fault" : e->ev.err != KP_ERR_NONE ? "error" : "event",
                    fault ? "g" : "t", e->ev.time_us, 1000L * (ev_comp[i] + 1));
            rp_pf_args(out, e);
            putc('}', out);
        }
        if (role == RP_ROLE_BUFFER && e->ev.value >= 0) {
            rp_pf_sep(&p);
            fprintf(out,
                    "{\"ph\":\"C\",\"name\":\"buffer pool in use\",\"ts\":%" PRId64
                    ",\"pid\":1,\"args\":{\"bytes\":%" PRId64 "}}",
                    e->ev.time_us, e->ev.value);
        }
    }
    /* in-flight counters from the request spans, in time order of changes */
    {
        size_t nchg = 0;
        for (size_t k = 0; k < n_sp; k++)
            nchg += sp[k].cat == RP_SPAN_REQUEST ? 2 : 0;
        rp_chg *ch = calloc(nchg ? nchg : 1, sizeof *ch);
        if (!ch)
            goto out;
        size_t m = 0;
        for (size_t k = 0; k < n_sp; k++) {
            if (sp[k].cat != RP_SPAN_REQUEST)
                continue;
            int32_t node = t->events[sp[k].start_ix].ev.node;
            ch[m++] = (rp_chg){sp[k].start_us, 2 * k + 1, node, +1};
            ch[m++] = (rp_chg){sp[k].end_us, 2 * k, node, -1};
        }
        qsort(ch, m, sizeof *ch, rp_chg_cmp);
        for (size_t i = 0; i < m; i++) {
            size_t cur = 0;
            rp__imap_get(&inflight, ch[i].node, &cur);
            cur = (size_t)((long)cur + ch[i].d);
            if (rp__imap_put(&inflight, ch[i].node, cur)) {
                free(ch);
                rp__imap_free(&inflight);
                goto out;
            }
            rp_pf_sep(&p);
            fprintf(out,
                    "{\"ph\":\"C\",\"name\":\"in-flight requests node %" PRId32
                    "\",\"ts\":%" PRId64 ",\"pid\":1,\"args\":{\"requests\":%zu}}",
                    ch[i].node, ch[i].t, cur);
        }
        free(ch);
        rp__imap_free(&inflight);
    }
    /* spans */
    for (size_t k = 0; k < n_sp; k++) {
        const rp_event *s = &t->events[sp[k].start_ix];
        const rp_event *e = sp[k].end_ix != SIZE_MAX ? &t->events[sp[k].end_ix] : NULL;
        int c = ev_comp[sp[k].start_ix];
        long tid = 1000L * (c + 1) + p.comps[c].lane_base[sp[k].cat] + lane[k];
        rp__sbuf b = {0};
        if (sp[k].cat == RP_SPAN_BATCH) {
            rp__sbuf_printf(&b, "batch %" PRId64, sp[k].batch_id);
            if (s->ev.topic)
                rp__sbuf_printf(&b, " %s-%" PRId32, s->ev.topic, s->ev.partition);
            rp_role sr = mdl.role[sp[k].start_ix];
            if (sr == RP_ROLE_RETRY || sr == RP_ROLE_REENQUEUE)
                rp__sbuf_printf(&b, " (retry)");
            else if (sr == RP_ROLE_SPLIT || sr == RP_ROLE_SPLIT_PARENT)
                rp__sbuf_printf(&b, " (split piece)");
        } else {
            const char *api = rp_api_name(s->ev.api_key);
            rp__sbuf_printf(&b, "%s #%" PRId32 " -> node %" PRId32, api ? api : "request",
                            s->ev.correlation_id, s->ev.node);
        }
        if (e && e->ev.err != KP_ERR_NONE)
            rp__sbuf_printf(&b, " %s", kp_err_name(e->ev.err));
        rp_pf_sep(&p);
        fputs("{\"ph\":\"X\",\"name\":", out);
        rp__json_str(out, b.p ? b.p : "span");
        free(b.p);
        fprintf(out,
                ",\"cat\":\"%s\",\"ts\":%" PRId64 ",\"dur\":%" PRId64
                ",\"pid\":1,\"tid\":%ld,\"args\":{\"unfinished\":%s",
                sp[k].cat == RP_SPAN_BATCH ? "batch" : "request", sp[k].start_us,
                sp[k].end_us - sp[k].start_us, tid, e ? "false" : "true");
        fputs(",\"start\":", out);
        rp__json_str(out, s->kind_name);
        fprintf(out, ",\"start_seq\":%" PRIu64, s->seq);
        if (e) {
            fputs(",\"end\":", out);
            rp__json_str(out, e->kind_name);
            fprintf(out, ",\"end_seq\":%" PRIu64, e->seq);
        }
        const kp_event *f = e ? &e->ev : &s->ev;
        if (f->record_count != -1 || s->ev.record_count != -1)
            fprintf(out, ",\"records\":%" PRId32,
                    f->record_count != -1 ? f->record_count : s->ev.record_count);
        if (f->bytes != -1 || s->ev.bytes != -1)
            fprintf(out, ",\"bytes\":%" PRId64, f->bytes != -1 ? f->bytes : s->ev.bytes);
        if (e && e->ev.err != KP_ERR_NONE) {
            fputs(",\"err\":", out);
            rp__json_str(out, kp_err_name(e->ev.err));
        }
        fputs("}}", out);
    }
    fputs("\n]}\n", out);
    rc = ferror(out) ? -1 : 0;
out:
    if (have_model)
        rp__model_free(&mdl);
    free(p.comps);
    free(boundary);
    free(ev_comp);
    free(sp);
    free(lane);
    return rc;
}
