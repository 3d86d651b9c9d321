/*
 * rp_report.c — the report folder of one run: index.html, chart data,
 * a gnuplot script, and the charts gnuplot draws from them (rp_report.h).
 *
 * The pipeline: one pass over the events collects what every chart needs
 * (by kind NAME, through rp_kinds.h), each chart writes its .dat file and
 * its part of report.gp, gnuplot runs once in DIR with its output captured
 * (any output counts as a warning), and the page is written last, so it
 * can say which charts exist.
 *
 * Memory: everything is allocated per call and freed before returning; the
 * trace is borrowed.
 */
#include "rp_report.h"
#include "rp_internal.h"
#include "rp_kinds.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define RP_MAX_FAULT_LABELS 40

/* ====================================================================== */
/* small tools                                                             */
/* ====================================================================== */

typedef struct rp_vec {
    int64_t *v;
    size_t n, cap;
} rp_vec;

static int rp_vec_push(rp_vec *a, int64_t x) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        int64_t *p = realloc(a->v, cap * sizeof *p);
        if (!p)
            return -1;
        a->v = p;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

static int rp_i64_cmp(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array (n > 0). */
static int64_t rp_pct(const int64_t *s, size_t n, int p) {
    size_t rank = (size_t)((p * n + 99) / 100);
    if (rank == 0)
        rank = 1;
    return s[rank > n ? n - 1 : rank - 1];
}

/* 1, 2, 5 x 10^k at or above x (x > 0). */
static int64_t rp_nice(int64_t x) {
    int64_t m = 1;
    while (m * 10 <= x)
        m *= 10;
    if (x <= m)
        return m;
    if (x <= 2 * m)
        return 2 * m;
    if (x <= 5 * m)
        return 5 * m;
    return 10 * m;
}

static void rp_ms(char *buf, size_t len, int64_t us) {
    rp__ms3(buf, len, us);
}

static int rp_mkdirs(const char *dir) {
    char tmp[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == '\0') {
            char c = tmp[i];
            tmp[i] = '\0';
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
                return -1;
            tmp[i] = c;
        }
    }
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

static FILE *rp_open_in(const char *dir, const char *name, rp_report_result *res) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f && !res->error[0])
        snprintf(res->error, sizeof res->error, "cannot write %.400s: %s", path, strerror(errno));
    return f;
}

static int rp_close(FILE *f, const char *dir, const char *name, rp_report_result *res) {
    if (!f)
        return -1;
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        if (!res->error[0])
            snprintf(res->error, sizeof res->error, "write error on %.400s/%.60s", dir, name);
        return -1;
    }
    return 0;
}

/* A gnuplot single-quoted string: '' stands for ', control bytes dropped. */
static void rp_gp_quote(rp__sbuf *b, const char *s) {
    rp__sbuf_putn(b, "'", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = rp__utf8_len(p);
        if (n == 0) /* invalid UTF-8 would make the SVG unreadable */
            rp__sbuf_putn(b, "?", 1);
        else if (*p == '\'')
            rp__sbuf_putn(b, "''", 2);
        else if (n > 1 || (*p >= 0x20 && *p != 0x7f))
            rp__sbuf_putn(b, (const char *)p, n);
        p += n ? n : 1;
    }
    rp__sbuf_putn(b, "'", 1);
}

static void rp_html(FILE *f, const char *s) {
    if (!s)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = rp__utf8_len(p);
        if (n == 0) {
            fputs("\xef\xbf\xbd", f); /* U+FFFD for a byte that is not UTF-8 */
            p++;
            continue;
        }
        if (n > 1) {
            fwrite(p, 1, n, f);
            p += n;
            continue;
        }
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if ((*p >= 0x20 && *p != 0x7f) || *p == '\n' || *p == '\t')
                putc(*p, f);
        }
        p++;
    }
}

/* ====================================================================== */
/* analysis: one pass, by kind name                                        */
/* ====================================================================== */

typedef struct rp_fault {
    int64_t t_us;
    const char *label;
} rp_fault;

typedef struct rp_an {
    const rp_trace *t;
    rp__model m;
    bool have_model;
    rp__pool *pool;     /* fault labels */
    int64_t t_end_us;
    rp_fault *faults;
    size_t n_faults;
    int64_t sent, acked, failed, retries, splits, metadata, expiries, errors;
    bool acks_from_callbacks;
    int64_t role_count[RP_ROLE__COUNT];
    unsigned char *ck;  /* per event: counter it bumps (CK_*), 0 = none */
    rp_vec batch_bytes, req_records, lat_t, lat_v; /* lat: (ack time, latency) */
    rp_vec buf_t, buf_v;                           /* buffer pool in use over time */
    bool buf_estimated;
    rp__span *spans;
    size_t n_spans;
} rp_an;

enum { CK_RETRY = 1, CK_SPLIT, CK_METADATA, CK_EXPIRY };

static void rp_an_free(rp_an *a) {
    if (a->have_model)
        rp__model_free(&a->m);
    rp__pool_free(a->pool);
    free(a->faults);
    free(a->ck);
    free(a->batch_bytes.v);
    free(a->req_records.v);
    free(a->lat_t.v);
    free(a->lat_v.v);
    free(a->buf_t.v);
    free(a->buf_v.v);
    free(a->spans);
}

/* The label of a fault marker: its detail, else "kind: ERROR", else kind. */
static const char *rp_fault_label(rp_an *a, const rp_event *e) {
    char kb[24];
    const char *k = rp__kind_label(e, kb, sizeof kb);
    if (e->ev.detail && *e->ev.detail)
        return e->ev.detail;
    rp__sbuf b = {0};
    if (e->ev.err != KP_ERR_NONE)
        rp__sbuf_printf(&b, "%s: %s", k, kp_err_name(e->ev.err));
    else
        rp__sbuf_printf(&b, "%s", k);
    const char *l = b.p ? rp__pool_intern(a->pool, b.p) : NULL;
    free(b.p);
    return l ? l : "fault";
}

static int rp_an_build(rp_an *a, const rp_trace *t) {
    memset(a, 0, sizeof *a);
    a->t = t;
    const rp_event *ev = t->events;
    size_t n = t->n_events;
    a->t_end_us = n ? ev[n - 1].ev.time_us : 0;
    if (t->has_summary && t->summary.end_time_us > a->t_end_us)
        a->t_end_us = t->summary.end_time_us;
    a->faults = calloc(n ? n : 1, sizeof *a->faults);
    a->ck = calloc(n ? n : 1, 1);
    a->pool = rp__pool_new();
    if (!a->faults || !a->ck || !a->pool || rp__model_build(t, &a->m) != 0)
        return -1;
    a->have_model = true;
    const rp_role *role = a->m.role;
    for (size_t i = 0; i < n; i++) {
        a->role_count[role[i]]++;
        if (ev[i].ev.err != KP_ERR_NONE)
            a->errors++;
    }
    a->acks_from_callbacks = a->role_count[RP_ROLE_CALLBACK] > 0;
    bool split_parents = a->role_count[RP_ROLE_SPLIT_PARENT] > 0;
    bool req_from_produce = a->role_count[RP_ROLE_PRODUCE_REQUEST] > 0;
    a->buf_estimated = a->role_count[RP_ROLE_BUFFER] == 0;
    rp__imap send_t = {0};   /* (scope, record) -> send event */
    rp__imap expired = {0};  /* batch keys already counted */
    rp__imap buf_size = {0}; /* live batch key -> buffer bytes + 1 */
    int64_t in_use = 0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const kp_event *e = &ev[i].ev;
        rp_role r = role[i];
        int64_t recs = e->record_count > 0 ? e->record_count : 1;
        int64_t rkey = a->m.record[i] >= 0 ? rp__batch_key(&a->m, i, a->m.record[i]) : -1;
        int64_t bkey = e->batch_id >= 0 ? rp__batch_key(&a->m, i, e->batch_id) : -1;
        size_t got;
        switch (r) {
        case RP_ROLE_SEND:
            a->sent++;
            if (rkey >= 0)
                rc |= rp__imap_put(&send_t, rkey, i);
            break;
        case RP_ROLE_CALLBACK:
            if (e->err == KP_ERR_NONE) {
                a->acked += recs;
                if (rkey >= 0 && rp__imap_get(&send_t, rkey, &got)) {
                    rc |= rp_vec_push(&a->lat_t, e->time_us);
                    rc |= rp_vec_push(&a->lat_v, e->time_us - ev[got].ev.time_us);
                }
            } else {
                a->failed += recs;
            }
            break;
        case RP_ROLE_BATCH_ACKED:
        case RP_ROLE_BATCH_FAILED:
            if (!a->acks_from_callbacks) {
                if (r == RP_ROLE_BATCH_ACKED && e->err == KP_ERR_NONE)
                    a->acked += recs;
                else
                    a->failed += recs;
            }
            break;
        case RP_ROLE_BATCH_DRAINED:
            if (e->bytes >= 0)
                rc |= rp_vec_push(&a->batch_bytes, e->bytes);
            break;
        case RP_ROLE_PRODUCE_REQUEST:
            if (e->record_count >= 0)
                rc |= rp_vec_push(&a->req_records, e->record_count);
            break;
        case RP_ROLE_REQUEST_SENT:
            if (!req_from_produce && (e->api_key == 0 || e->api_key == -1) && e->record_count >= 0)
                rc |= rp_vec_push(&a->req_records, e->record_count);
            break;
        case RP_ROLE_RETRY:
            a->retries++;
            a->ck[i] = CK_RETRY;
            break;
        case RP_ROLE_SPLIT:
        case RP_ROLE_SPLIT_PARENT:
            if ((r == RP_ROLE_SPLIT_PARENT) == split_parents) {
                a->splits++;
                a->ck[i] = CK_SPLIT;
            }
            break;
        case RP_ROLE_METADATA_REFRESH:
            a->metadata++;
            a->ck[i] = CK_METADATA;
            break;
        case RP_ROLE_EXPIRED:
            if (bkey < 0 || !rp__imap_get(&expired, bkey, &got)) {
                a->expiries++;
                a->ck[i] = CK_EXPIRY;
                if (bkey >= 0)
                    rc |= rp__imap_put(&expired, bkey, 1);
            }
            break;
        case RP_ROLE_FAULT:
            a->faults[a->n_faults].t_us = e->time_us;
            a->faults[a->n_faults].label = rp_fault_label(a, &ev[i]);
            a->n_faults++;
            break;
        default:
            break;
        }
        /* buffer pool in use: told by the pool, or estimated as the buffer
         * of every batch between its creation and its end */
        if (!a->buf_estimated && r == RP_ROLE_BUFFER && e->value >= 0) {
            rc |= rp_vec_push(&a->buf_t, e->time_us);
            rc |= rp_vec_push(&a->buf_v, e->value);
        } else if (a->buf_estimated && bkey >= 0) {
            int64_t d = 0;
            if (r == RP_ROLE_BATCH_CREATED) {
                int64_t size = e->value > 0 ? e->value : e->bytes > 0 ? e->bytes : 0;
                if (size > 0 && !rp__imap_get(&buf_size, bkey, &got)) {
                    rc |= rp__imap_put(&buf_size, bkey, (size_t)size + 1);
                    d = size;
                }
            } else if (r == RP_ROLE_BATCH_ACKED || r == RP_ROLE_BATCH_FAILED || r == RP_ROLE_EXPIRED ||
                       r == RP_ROLE_SPLIT_PARENT) {
                if (rp__imap_get(&buf_size, bkey, &got) && got > 0) {
                    d = -(int64_t)(got - 1);
                    rc |= rp__imap_put(&buf_size, bkey, 0);
                }
            }
            if (d) {
                in_use += d;
                rc |= rp_vec_push(&a->buf_t, e->time_us);
                rc |= rp_vec_push(&a->buf_v, in_use);
            }
        }
    }
    rp__imap_free(&send_t);
    rp__imap_free(&expired);
    rp__imap_free(&buf_size);
    if (rc)
        return -1;
    a->n_spans = rp__spans_build(&a->m, &a->spans, NULL);
    return a->n_spans == SIZE_MAX ? -1 : 0;
}

/* ====================================================================== */
/* charts                                                                  */
/* ====================================================================== */

typedef struct rp_chart {
    const char *file;   /* base name: records -> records.dat/.png/.svg */
    const char *title;
    const char *needs;  /* what events it reads, for the page */
    bool drawn;         /* has data, in report.gp */
} rp_chart;

enum { CH_RECORDS, CH_INFLIGHT, CH_BATCH, CH_RPR, CH_LATENCY, CH_COUNTERS, CH_BUFFER, CH__N };

typedef struct rp_ctx {
    const char *dir;
    const rp_trace *t;
    rp_an an;
    rp__sbuf gp;
    rp_chart ch[CH__N];
    bool svg;
    int64_t bucket_us;
    rp_report_result *res;
} rp_ctx;

static void rp_x_range(rp_ctx *c, rp__sbuf *b) {
    char hi[32];
    rp_ms(hi, sizeof hi, c->an.t_end_us > 0 ? c->an.t_end_us : 1000);
    rp__sbuf_printf(b, "set xrange [0:%s]\nset xlabel 'simulated time (ms)'\n", hi);
}

static void rp_fault_marks(rp_ctx *c, rp__sbuf *b) {
    /* one label per instant: a fault and the effects reported at the same
     * time (the harness's "leader move" and the broker's leader_change)
     * would print on top of each other; the first one names it */
    int64_t span = c->an.t_end_us > 0 ? c->an.t_end_us : 1000;
    int64_t last_label_t = INT64_MIN / 2;
    size_t labels = 0;
    for (size_t i = 0; i < c->an.n_faults; i++) {
        char x[32];
        rp_ms(x, sizeof x, c->an.faults[i].t_us);
        rp__sbuf_printf(b,
                        "set arrow from %s, graph 0 to %s, graph 1 nohead dashtype 2 "
                        "linecolor rgb '#c0392b' front\n",
                        x, x);
        int64_t t = c->an.faults[i].t_us;
        if (labels < RP_MAX_FAULT_LABELS && t - last_label_t > span / 200) {
            last_label_t = t;
            labels++;
            rp__sbuf_printf(b, "set label ");
            rp_gp_quote(b, c->an.faults[i].label);
            rp__sbuf_printf(b,
                            " at %s, graph 0.98 rotate by 90 right offset -0.7,0 "
                            "textcolor rgb '#c0392b' front\n",
                            x);
        }
    }
}

/* Appends the chart to report.gp once per output format. */
static void rp_gp_emit(rp_ctx *c, int id, const rp__sbuf *body) {
    static const char *const terms[2][2] = {
        {"pngcairo noenhanced size 960,420 font 'sans,10'", "png"},
        {"svg noenhanced size 960,420 font 'sans,10' background rgb 'white'", "svg"},
    };
    for (int k = 0; k < (c->svg ? 2 : 1); k++) {
        rp__sbuf_printf(&c->gp, "\n# ---- %s (%s)\nreset\nset terminal %s\nset output '%s.%s'\n",
                        c->ch[id].title, terms[k][1], terms[k][0], c->ch[id].file, terms[k][1]);
        rp__sbuf_putn(&c->gp, body->p ? body->p : "", body->len);
        rp__sbuf_printf(&c->gp, "unset output\n");
    }
    c->ch[id].drawn = true;
}

static void rp_common_style(rp__sbuf *b, const char *title, const char *ylabel) {
    rp__sbuf_printf(b, "set title ");
    rp_gp_quote(b, title);
    rp__sbuf_printf(b,
                    "\nset ylabel '%s'\nset grid lc rgb '#dddddd'\nset key outside top center horizontal\n"
                    "set border 3\nset tics nomirror\n",
                    ylabel);
}

static double rp_ymax(int64_t m) {
    return m <= 0 ? 1.0 : (double)m * 1.15 + 0.5;
}

static int rp_chart_records(rp_ctx *c) {
    const rp_trace *t = c->t;
    if (c->an.sent == 0 && c->an.acked == 0 && c->an.failed == 0)
        return 0;
    FILE *f = rp_open_in(c->dir, "records.dat", c->res);
    if (!f)
        return -1;
    fprintf(f, "# time_ms sent acked failed (cumulative records)\n0.000 0 0 0\n");
    int64_t s = 0, a = 0, fl = 0;
    bool pending = false;
    for (size_t i = 0; i < t->n_events; i++) {
        const rp_event *e = &t->events[i];
        rp_role r = c->an.m.role[i];
        int64_t recs = e->ev.record_count > 0 ? e->ev.record_count : 1;
        bool ok = e->ev.err == KP_ERR_NONE;
        bool ch = true;
        if (r == RP_ROLE_SEND)
            s++;
        else if (r == RP_ROLE_CALLBACK)
            ok ? (a += recs) : (fl += recs);
        else if (!c->an.acks_from_callbacks && (r == RP_ROLE_BATCH_ACKED || r == RP_ROLE_BATCH_FAILED))
            ok && r == RP_ROLE_BATCH_ACKED ? (a += recs) : (fl += recs);
        else
            ch = false;
        /* one row per instant: changes at the same time are summed up in
         * the row of the last of them (a step chart shows nothing else) */
        bool last_at_time = i + 1 == t->n_events || t->events[i + 1].ev.time_us != e->ev.time_us;
        pending |= ch;
        if (pending && last_at_time) {
            char x[32];
            rp_ms(x, sizeof x, e->ev.time_us);
            fprintf(f, "%s %" PRId64 " %" PRId64 " %" PRId64 "\n", x, s, a, fl);
            pending = false;
        }
    }
    char x[32];
    rp_ms(x, sizeof x, c->an.t_end_us);
    fprintf(f, "%s %" PRId64 " %" PRId64 " %" PRId64 "\n", x, s, a, fl);
    if (rp_close(f, c->dir, "records.dat", c->res))
        return -1;
    int64_t m = s > a + fl ? s : a + fl;
    rp__sbuf b = {0};
    rp_common_style(&b, c->ch[CH_RECORDS].title, "records");
    rp_x_range(c, &b);
    rp__sbuf_printf(&b, "set yrange [0:%.1f]\n", rp_ymax(m));
    rp_fault_marks(c, &b);
    rp__sbuf_printf(&b,
                    "plot 'records.dat' using 1:2 with steps lw 2 lc rgb '#2c7fb8' title 'sent', \\\n"
                    "     'records.dat' using 1:3 with steps lw 2 lc rgb '#31a354' title 'acked', \\\n"
                    "     'records.dat' using 1:4 with steps lw 2 lc rgb '#de2d26' title 'failed'\n");
    rp_gp_emit(c, CH_RECORDS, &b);
    free(b.p);
    return b.failed ? -1 : 0;
}

static const char *rp_node_name(const rp_trace *t, int32_t node, char *buf, size_t len) {
    for (size_t i = 0; i < t->header.n_components; i++)
        if (t->header.components[i].node == node && t->header.components[i].role &&
            !strcmp(t->header.components[i].role, "broker"))
            return t->header.components[i].name;
    if (node < 0)
        snprintf(buf, len, "bootstrap node %" PRId32, node);
    else
        snprintf(buf, len, "node %" PRId32, node);
    return buf;
}

static int rp_chart_inflight(rp_ctx *c) {
    const rp_an *an = &c->an;
    /* distinct nodes, ascending */
    rp_vec nodes = {0};
    int rc = 0;
    for (size_t k = 0; k < an->n_spans; k++) {
        if (an->spans[k].cat != RP_SPAN_REQUEST)
            continue;
        int32_t node = c->t->events[an->spans[k].start_ix].ev.node;
        bool seen = false;
        for (size_t j = 0; j < nodes.n; j++)
            seen |= nodes.v[j] == node;
        if (!seen)
            rc |= rp_vec_push(&nodes, node);
    }
    if (rc) {
        free(nodes.v);
        return -1;
    }
    if (nodes.n == 0)
        return 0;
    qsort(nodes.v, nodes.n, sizeof *nodes.v, rp_i64_cmp);
    FILE *f = rp_open_in(c->dir, "inflight.dat", c->res);
    if (!f) {
        free(nodes.v);
        return -1;
    }
    int64_t peak = 0;
    rp_vec ts = {0}, ds = {0};
    for (size_t j = 0; j < nodes.n && !rc; j++) {
        ts.n = ds.n = 0;
        for (size_t k = 0; k < an->n_spans; k++) {
            const rp__span *s = &an->spans[k];
            if (s->cat != RP_SPAN_REQUEST || c->t->events[s->start_ix].ev.node != nodes.v[j])
                continue;
            /* encode (time, delta) so that ends sort before starts at a tie */
            rc |= rp_vec_push(&ts, s->start_us * 2 + 1);
            rc |= rp_vec_push(&ts, s->end_us * 2);
        }
        if (rc)
            break;
        qsort(ts.v, ts.n, sizeof *ts.v, rp_i64_cmp);
        char nb[32];
        fprintf(f, "%s# %s: time_ms requests_in_flight\n0.000 0\n", j ? "\n\n" : "",
                rp_node_name(c->t, (int32_t)nodes.v[j], nb, sizeof nb));
        int64_t cur = 0;
        for (size_t k = 0; k < ts.n; k++) {
            int64_t tm = ts.v[k] >> 1; /* arithmetic shift: times are >= 0 here */
            cur += (ts.v[k] & 1) ? 1 : -1;
            if (cur > peak)
                peak = cur;
            char x[32];
            rp_ms(x, sizeof x, tm);
            fprintf(f, "%s %" PRId64 "\n", x, cur);
        }
        char x[32];
        rp_ms(x, sizeof x, an->t_end_us);
        fprintf(f, "%s %" PRId64 "\n", x, cur);
    }
    free(ts.v);
    free(ds.v);
    if (rp_close(f, c->dir, "inflight.dat", c->res) || rc) {
        free(nodes.v);
        return -1;
    }
    rp__sbuf b = {0};
    rp_common_style(&b, c->ch[CH_INFLIGHT].title, "requests in flight");
    rp_x_range(c, &b);
    rp__sbuf_printf(&b, "set yrange [0:%" PRId64 "]\n%s", peak + 1, peak <= 10 ? "set ytics 1\n" : "");
    rp_fault_marks(c, &b);
    rp__sbuf_printf(&b, "plot ");
    for (size_t j = 0; j < nodes.n; j++) {
        char nb[32];
        rp__sbuf_printf(&b, "%s'inflight.dat' index %zu using 1:2 with steps lw 2 title ",
                        j ? ", \\\n     " : "", j);
        rp_gp_quote(&b, rp_node_name(c->t, (int32_t)nodes.v[j], nb, sizeof nb));
    }
    rp__sbuf_printf(&b, "\n");
    free(nodes.v);
    rp_gp_emit(c, CH_INFLIGHT, &b);
    free(b.p);
    return b.failed ? -1 : 0;
}

/* A histogram of v into DIR/NAME.dat: bins of width w starting at 0
 * (w = 1 for small integers). */
static int rp_chart_hist(rp_ctx *c, int id, rp_vec *v, const char *xlabel) {
    if (v->n == 0)
        return 0;
    qsort(v->v, v->n, sizeof *v->v, rp_i64_cmp);
    int64_t max = v->v[v->n - 1] > 0 ? v->v[v->n - 1] : 1;
    int64_t w = max <= 40 ? 1 : rp_nice((max + 29) / 30);
    size_t nbins = (size_t)(max / w) + 1;
    int64_t *cnt = calloc(nbins, sizeof *cnt);
    if (!cnt)
        return -1;
    for (size_t i = 0; i < v->n; i++)
        cnt[(v->v[i] < 0 ? 0 : v->v[i]) / w]++;
    char name[64];
    snprintf(name, sizeof name, "%s.dat", c->ch[id].file);
    FILE *f = rp_open_in(c->dir, name, c->res);
    if (!f) {
        free(cnt);
        return -1;
    }
    fprintf(f, "# bin_start count (bin width %" PRId64 "; n=%zu p50=%" PRId64 " p99=%" PRId64
               " max=%" PRId64 ")\n",
            w, v->n, rp_pct(v->v, v->n, 50), rp_pct(v->v, v->n, 99), v->v[v->n - 1]);
    int64_t peak = 0;
    for (size_t i = 0; i < nbins; i++) {
        fprintf(f, "%" PRId64 " %" PRId64 "\n", (int64_t)i * w, cnt[i]);
        if (cnt[i] > peak)
            peak = cnt[i];
    }
    free(cnt);
    if (rp_close(f, c->dir, name, c->res))
        return -1;
    rp__sbuf b = {0};
    char title[160];
    snprintf(title, sizeof title, "%s, n=%zu, p50=%" PRId64 ", max=%" PRId64, c->ch[id].title,
             v->n, rp_pct(v->v, v->n, 50), v->v[v->n - 1]);
    rp_common_style(&b, title, "count");
    rp__sbuf_printf(&b, "unset key\nset xlabel '%s'\n", xlabel);
    /* boxes centred on bin_start + w/2; the axis starts at 0 */
    rp__sbuf_printf(&b,
                    "set xrange [0:%" PRId64 "]\nset yrange [0:%.1f]\nset boxwidth %" PRId64
                    "*0.9 absolute\nset style fill solid 0.7 border lc rgb '#555555'\n"
                    "plot '%s' using ($1+%" PRId64 "/2.0):2 with boxes lc rgb '#756bb1' notitle\n",
                    (int64_t)(nbins + 1) * w, rp_ymax(peak), w, name, w);
    rp_gp_emit(c, id, &b);
    free(b.p);
    return b.failed ? -1 : 0;
}

static int rp_chart_latency(rp_ctx *c) {
    rp_an *an = &c->an;
    if (an->lat_v.n == 0)
        return 0;
    int64_t bucket = c->bucket_us > 0 ? c->bucket_us : rp_nice(an->t_end_us / 40 > 1000 ? an->t_end_us / 40 : 1000);
    FILE *f = rp_open_in(c->dir, "latency.dat", c->res);
    if (!f)
        return -1;
    char bms[32];
    rp_ms(bms, sizeof bms, bucket);
    fprintf(f, "# bucket_mid_ms p50_ms p99_ms max_ms n (send -> ack latency, by ack time, bucket %s ms)\n", bms);
    /* lat_t ascends (events are in time order); walk buckets */
    int64_t *tmp = malloc(an->lat_v.n * sizeof *tmp);
    if (!tmp) {
        fclose(f);
        return -1;
    }
    int64_t ymax = 0, prev = INT64_MIN;
    for (size_t i = 0; i < an->lat_v.n;) {
        int64_t b0 = an->lat_t.v[i] / bucket * bucket;
        if (prev != INT64_MIN && b0 != prev + bucket)
            fputs("\n", f); /* a blank line: gnuplot does not join across empty buckets */
        prev = b0;
        size_t j = i, m = 0;
        while (j < an->lat_v.n && an->lat_t.v[j] / bucket * bucket == b0)
            tmp[m++] = an->lat_v.v[j++];
        qsort(tmp, m, sizeof *tmp, rp_i64_cmp);
        char x[32], p50[32], p99[32], mx[32];
        rp_ms(x, sizeof x, b0 + bucket / 2);
        rp_ms(p50, sizeof p50, rp_pct(tmp, m, 50));
        rp_ms(p99, sizeof p99, rp_pct(tmp, m, 99));
        rp_ms(mx, sizeof mx, tmp[m - 1]);
        if (tmp[m - 1] > ymax)
            ymax = tmp[m - 1];
        fprintf(f, "%s %s %s %s %zu\n", x, p50, p99, mx, m);
        i = j;
    }
    free(tmp);
    if (rp_close(f, c->dir, "latency.dat", c->res))
        return -1;
    rp__sbuf b = {0};
    rp_common_style(&b, c->ch[CH_LATENCY].title, "send -> ack latency (ms)");
    rp_x_range(c, &b);
    rp__sbuf_printf(&b, "set yrange [0:%.3f]\n", rp_ymax(ymax) / 1000.0 + 0.001);
    rp_fault_marks(c, &b);
    rp__sbuf_printf(&b,
                    "plot 'latency.dat' using 1:2 with linespoints pt 7 ps 0.6 lw 2 lc rgb '#31a354' title 'p50', \\\n"
                    "     'latency.dat' using 1:3 with linespoints pt 7 ps 0.6 lw 2 lc rgb '#fd8d3c' title 'p99', \\\n"
                    "     'latency.dat' using 1:4 with linespoints pt 7 ps 0.6 lw 1 lc rgb '#de2d26' title 'max'\n");
    rp_gp_emit(c, CH_LATENCY, &b);
    free(b.p);
    return b.failed ? -1 : 0;
}

static int rp_chart_counters(rp_ctx *c) {
    const rp_an *an = &c->an;
    if (an->retries + an->splits + an->metadata + an->expiries == 0)
        return 0;
    FILE *f = rp_open_in(c->dir, "counters.dat", c->res);
    if (!f)
        return -1;
    fprintf(f, "# time_ms retries splits metadata_refreshes expiries (cumulative)\n0.000 0 0 0 0\n");
    int64_t n[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < c->t->n_events; i++) {
        int k = c->an.ck[i] - 1; /* CK_RETRY.. -> 0..3 */
        if (k < 0)
            continue;
        n[k]++;
        char x[32];
        rp_ms(x, sizeof x, c->t->events[i].ev.time_us);
        fprintf(f, "%s %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n", x, n[0], n[1], n[2], n[3]);
    }
    char x[32];
    rp_ms(x, sizeof x, an->t_end_us);
    fprintf(f, "%s %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n", x, n[0], n[1], n[2], n[3]);
    if (rp_close(f, c->dir, "counters.dat", c->res))
        return -1;
    int64_t m = 0;
    for (int k = 0; k < 4; k++)
        m = n[k] > m ? n[k] : m;
    rp__sbuf b = {0};
    rp_common_style(&b, c->ch[CH_COUNTERS].title, "count (cumulative)");
    rp_x_range(c, &b);
    rp__sbuf_printf(&b, "set yrange [0:%.1f]\n", rp_ymax(m));
    if (m <= 10)
        rp__sbuf_printf(&b, "set ytics 1\n");
    rp_fault_marks(c, &b);
    rp__sbuf_printf(&b,
                    "plot 'counters.dat' using 1:2 with steps lw 2 lc rgb '#e6550d' title 'retries', \\\n"
                    "     'counters.dat' using 1:3 with steps lw 2 lc rgb '#756bb1' title 'splits', \\\n"
                    "     'counters.dat' using 1:4 with steps lw 2 lc rgb '#3182bd' title 'metadata refreshes', \\\n"
                    "     'counters.dat' using 1:5 with steps lw 2 lc rgb '#636363' title 'expiries'\n");
    rp_gp_emit(c, CH_COUNTERS, &b);
    free(b.p);
    return b.failed ? -1 : 0;
}

static int rp_chart_buffer(rp_ctx *c) {
    const rp_an *an = &c->an;
    if (an->buf_t.n == 0)
        return 0;
    FILE *f = rp_open_in(c->dir, "buffer.dat", c->res);
    if (!f)
        return -1;
    fprintf(f, "# time_ms bytes_in_use%s\n0.000 0\n",
            an->buf_estimated ? " (estimated: the buffer of every batch from creation to its end)" : "");
    int64_t m = 0;
    for (size_t i = 0; i < an->buf_t.n; i++) {
        char x[32];
        rp_ms(x, sizeof x, an->buf_t.v[i]);
        fprintf(f, "%s %" PRId64 "\n", x, an->buf_v.v[i]);
        m = an->buf_v.v[i] > m ? an->buf_v.v[i] : m;
    }
    char x[32];
    rp_ms(x, sizeof x, an->t_end_us);
    fprintf(f, "%s %" PRId64 "\n", x, an->buf_v.v[an->buf_t.n - 1]);
    if (rp_close(f, c->dir, "buffer.dat", c->res))
        return -1;
    rp__sbuf b = {0};
    rp_common_style(&b, an->buf_estimated ? "Buffer pool in use over time (estimated from batch lifetimes)"
                                          : c->ch[CH_BUFFER].title,
                    "bytes in use");
    rp_x_range(c, &b);
    rp__sbuf_printf(&b, "set yrange [0:%.1f]\n", rp_ymax(m));
    rp_fault_marks(c, &b);
    rp__sbuf_printf(&b, "plot 'buffer.dat' using 1:2 with steps lw 2 lc rgb '#3182bd' title 'buffer pool in use'\n");
    rp_gp_emit(c, CH_BUFFER, &b);
    free(b.p);
    return b.failed ? -1 : 0;
}

/* ====================================================================== */
/* gnuplot                                                                 */
/* ====================================================================== */

/* Runs `prog script` in dir; everything it prints lands in out. Returns
 * the exit status, or -1 when it could not be started. */
static int rp_run_gnuplot(const char *prog, const char *dir, const char *script, char *out,
                          size_t outlen) {
    int pfd[2];
    out[0] = '\0';
    if (pipe(pfd) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        close(pfd[0]);
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        close(pfd[1]);
        if (chdir(dir) != 0)
            _exit(126);
        execlp(prog, prog, script, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    size_t n = 0;
    char buf[512];
    ssize_t k;
    while ((k = read(pfd[0], buf, sizeof buf)) != 0) {
        if (k < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        size_t take = (size_t)k < outlen - 1 - n ? (size_t)k : outlen - 1 - n;
        memcpy(out + n, buf, take);
        n += take;
    }
    out[n] = '\0';
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (!WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

static int rp_gnuplot_finish(const char *dir, const rp__sbuf *gp, const rp_report_opts *opts,
                             rp_report_result *res) {
    FILE *f = rp_open_in(dir, "report.gp", res);
    if (!f)
        return -1;
    fputs("# kpsim report charts: run `gnuplot report.gp` in this folder to redraw.\n", f);
    if (gp->p)
        fwrite(gp->p, 1, gp->len, f);
    if (rp_close(f, dir, "report.gp", res))
        return -1;
    const char *prog = opts && opts->gnuplot ? opts->gnuplot : "gnuplot";
    if (!*prog || !gp->len)
        return 0;
    int st = rp_run_gnuplot(prog, dir, "report.gp", res->gnuplot_output, sizeof res->gnuplot_output);
    res->gnuplot_ran = st == 0;
    if (st == 127 && !res->gnuplot_output[0])
        snprintf(res->gnuplot_output, sizeof res->gnuplot_output,
                 "%s: not found (Debian: apt-get install gnuplot-nox)", prog);
    else if (st != 0 && !res->gnuplot_output[0])
        snprintf(res->gnuplot_output, sizeof res->gnuplot_output, "%s exited with status %d",
                 prog, st);
    return 0;
}

/* ====================================================================== */
/* the page                                                                */
/* ====================================================================== */

static const char rp_css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1040px;"
    "color:#222;line-height:1.45;padding:0 1em}\n"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;"
    "margin-top:2em}\n"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;"
    "text-align:left;vertical-align:top}\n"
    "th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".pass{color:#1a7f37;font-weight:bold}.fail{color:#c62828;font-weight:bold}\n"
    ".badge{display:inline-block;padding:.15em .7em;border-radius:.3em;color:#fff;font-weight:bold}\n"
    ".badge.pass{background:#1a7f37;color:#fff}.badge.fail{background:#c62828;color:#fff}"
    ".badge.unknown{background:#888}\n"
    "figure{margin:1em 0}figcaption{color:#555;font-size:.9em}img{max-width:100%;"
    "border:1px solid #eee}\n"
    "code{background:#f4f4f4;padding:0 .25em;border-radius:.2em}.muted{color:#777}\n";

static void rp_page_verdicts(FILE *f, const char *what, const rp_verdict *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "<tr><td>%s</td><td>", what);
        rp_html(f, v[i].name);
        fprintf(f, "</td><td class=\"%s\">%s</td><td class=\"n\">%" PRId64 "</td><td>",
                v[i].passed ? "pass" : "fail", v[i].passed ? "PASS" : "FAIL", v[i].count);
        rp_html(f, v[i].message);
        fputs("</td></tr>\n", f);
    }
}

static void rp_page_chart(FILE *f, const rp_ctx *c, int id) {
    const rp_chart *ch = &c->ch[id];
    fprintf(f, "<figure id=\"%s\"><figcaption><b>", ch->file);
    rp_html(f, ch->title);
    fputs("</b>", f);
    if (ch->drawn) {
        fprintf(f, " — <a href=\"%s.dat\">data</a>", ch->file);
        if (c->svg)
            fprintf(f, " · <a href=\"%s.svg\">SVG</a>", ch->file);
        fprintf(f, "</figcaption>\n<img src=\"%s.png\" alt=\"", ch->file);
        rp_html(f, ch->title);
        fputs("\" width=\"960\" height=\"420\">", f);
    } else {
        fputs("</figcaption>\n<p class=\"muted\">No data: this trace has no ", f);
        rp_html(f, ch->needs);
        fputs(" events.</p>", f);
    }
    fputs("</figure>\n", f);
}

static int rp_page(rp_ctx *c) {
    const rp_trace *t = c->t;
    const rp_trace_header *h = &t->header;
    const rp_an *an = &c->an;
    FILE *f = rp_open_in(c->dir, "index.html", c->res);
    if (!f)
        return -1;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>kpsim report: ", f);
    rp_html(f, h->scenario ? h->scenario : "run");
    fprintf(f, "</title>\n<style>\n%s</style></head>\n<body>\n<h1>", rp_css);
    rp_html(f, h->scenario ? h->scenario : "(unnamed scenario)");
    fputs("</h1>\n", f);
    if (h->purpose) {
        fputs("<p>", f);
        rp_html(f, h->purpose);
        fputs("</p>\n", f);
    }
    if (t->has_summary)
        fprintf(f, "<p><span class=\"badge %s\">%s</span></p>\n", t->summary.passed ? "pass" : "fail",
                t->summary.passed ? "PASS: every invariant and expectation held"
                                  : "FAIL: an invariant or expectation did not hold");
    else
        fputs("<p><span class=\"badge unknown\">NO VERDICT</span> the trace has no summary "
              "(the run was cut short?)</p>\n", f);

    char end[32];
    rp_ms(end, sizeof end, an->t_end_us);
    fputs("<h2>Run</h2>\n<table>\n", f);
    fprintf(f, "<tr><th>seed</th><td>%" PRIu64 "</td></tr>\n", h->seed);
    fputs("<tr><th>kpsim</th><td>", f);
    rp_html(f, h->kpsim_version ? h->kpsim_version : "?");
    fprintf(f, " (trace format %u)</td></tr>\n", h->format_version);
    fprintf(f, "<tr><th>simulated time</th><td>%s ms</td></tr>\n", end);
    fprintf(f, "<tr><th>events</th><td>%zu</td></tr>\n", t->n_events);
    if (t->has_summary && t->summary.reproduce) {
        fputs("<tr><th>reproduce</th><td><code>", f);
        rp_html(f, t->summary.reproduce);
        fputs("</code></td></tr>\n", f);
    }
    fputs("</table>\n", f);

    fputs("<h2>Verdicts</h2>\n", f);
    if (t->has_summary && t->summary.n_invariants + t->summary.n_expectations) {
        fputs("<table>\n<tr><th></th><th>check</th><th>verdict</th><th>count</th><th>detail</th></tr>\n", f);
        rp_page_verdicts(f, "invariant", t->summary.invariants, t->summary.n_invariants);
        rp_page_verdicts(f, "expectation", t->summary.expectations, t->summary.n_expectations);
        fputs("</table>\n", f);
    } else {
        fputs("<p class=\"muted\">No verdicts in this trace.</p>\n", f);
    }

    fputs("<h2>Records</h2>\n<table>\n<tr><th></th><th>from the summary</th><th>counted in the "
          "events</th></tr>\n", f);
    const struct { const char *name; int64_t sum, ev; } rows[] = {
        {"sent", t->has_summary ? t->summary.records_sent : -1, an->sent},
        {"acked", t->has_summary ? t->summary.records_acked : -1, an->acked},
        {"failed", t->has_summary ? t->summary.records_failed : -1, an->failed},
    };
    for (size_t i = 0; i < 3; i++) {
        fprintf(f, "<tr><th>%s</th><td class=\"n\">", rows[i].name);
        if (rows[i].sum >= 0)
            fprintf(f, "%" PRId64, rows[i].sum);
        else
            fputs("—", f);
        fprintf(f, "</td><td class=\"n\">%" PRId64 "</td></tr>\n", rows[i].ev);
    }
    fputs("</table>\n", f);
    fprintf(f,
            "<table>\n<tr><th>retries</th><td class=\"n\">%" PRId64 "</td></tr>\n"
            "<tr><th>split pieces</th><td class=\"n\">%" PRId64 "</td></tr>\n"
            "<tr><th>metadata refreshes requested</th><td class=\"n\">%" PRId64 "</td></tr>\n"
            "<tr><th>expired batches</th><td class=\"n\">%" PRId64 "</td></tr>\n"
            "<tr><th>events with an error</th><td class=\"n\">%" PRId64 "</td></tr>\n"
            "<tr><th>faults</th><td class=\"n\">%zu</td></tr>\n",
            an->retries, an->splits, an->metadata, an->expiries, an->errors, an->n_faults);
    if (an->lat_v.n) {
        int64_t *lv = malloc(an->lat_v.n * sizeof *lv);
        if (lv) {
            memcpy(lv, an->lat_v.v, an->lat_v.n * sizeof *lv);
            qsort(lv, an->lat_v.n, sizeof *lv, rp_i64_cmp);
            char p50[32], p99[32], mx[32];
            rp_ms(p50, sizeof p50, rp_pct(lv, an->lat_v.n, 50));
            rp_ms(p99, sizeof p99, rp_pct(lv, an->lat_v.n, 99));
            rp_ms(mx, sizeof mx, lv[an->lat_v.n - 1]);
            fprintf(f,
                    "<tr><th>send &rarr; ack latency (ms)</th><td class=\"n\">p50 %s &middot; p99 %s "
                    "&middot; max %s (%zu records)</td></tr>\n",
                    p50, p99, mx, an->lat_v.n);
            free(lv);
        }
    }
    fputs("</table>\n", f);

    if (t->has_summary && t->summary.n_metrics) {
        fputs("<h2>Metrics</h2>\n<table>\n<tr><th>metric</th><th>value</th><th>unit</th></tr>\n", f);
        for (size_t i = 0; i < t->summary.n_metrics; i++) {
            fputs("<tr><td>", f);
            rp_html(f, t->summary.metrics[i].key);
            fprintf(f, "</td><td class=\"n\">%.10g</td><td>", t->summary.metrics[i].value);
            rp_html(f, t->summary.metrics[i].unit);
            fputs("</td></tr>\n", f);
        }
        fputs("</table>\n", f);
    }

    fputs("<h2>Charts</h2>\n", f);
    if (c->res->gnuplot_output[0]) {
        fputs("<p class=\"fail\">gnuplot did not draw cleanly:</p><pre>", f);
        rp_html(f, c->res->gnuplot_output);
        fputs("</pre>\n", f);
    }
    for (int id = 0; id < CH__N; id++)
        rp_page_chart(f, c, id);

    if (an->n_faults) {
        fputs("<h2>Faults</h2>\n<table>\n<tr><th>time (ms)</th><th>fault</th></tr>\n", f);
        for (size_t i = 0; i < an->n_faults; i++) {
            char x[32];
            rp_ms(x, sizeof x, an->faults[i].t_us);
            fprintf(f, "<tr><td class=\"n\">%s</td><td>", x);
            rp_html(f, an->faults[i].label);
            fputs("</td></tr>\n", f);
        }
        fputs("</table>\n", f);
    }

    fputs("<h2>Settings</h2>\n", f);
    if (h->n_settings) {
        fputs("<table>\n", f);
        for (size_t i = 0; i < h->n_settings; i++) {
            fputs("<tr><td><code>", f);
            rp_html(f, h->settings[i].key);
            fputs("</code></td><td><code>", f);
            rp_html(f, h->settings[i].value);
            fputs("</code></td></tr>\n", f);
        }
        fputs("</table>\n", f);
    } else {
        fputs("<p class=\"muted\">None recorded.</p>\n", f);
    }

    fputs("<h2>Event kinds</h2>\n<p>What the charts read is decided by kind name "
          "(reports/rp_kinds.h).</p>\n<table>\n<tr><th>kind</th><th>name</th><th>layer</th>"
          "<th>component</th><th>events</th><th>read as</th></tr>\n", f);
    for (size_t i = 0; i < h->n_kinds; i++) {
        size_t cnt = 0;
        for (size_t j = 0; j < t->n_events; j++)
            cnt += t->events[j].ev.kind == h->kinds[i].kind;
        rp_role r = rp_kind_role_n(h->kinds[i].kind, h->kinds[i].name);
        fprintf(f, "<tr><td class=\"n\">%" PRId32 "</td><td>", h->kinds[i].kind);
        rp_html(f, h->kinds[i].name);
        fputs("</td><td>", f);
        rp_html(f, h->kinds[i].layer);
        fputs("</td><td>", f);
        rp_html(f, h->kinds[i].component);
        fprintf(f, "</td><td class=\"n\">%zu</td><td>%s</td></tr>\n", cnt,
                r == RP_ROLE_NONE ? "" : rp_role_name(r));
    }
    fputs("</table>\n<p class=\"muted\">Generated by <code>kpsim report</code>. Chart data: "
          "<code>*.dat</code>; redraw with <code>gnuplot report.gp</code> in this folder.</p>\n"
          "</body></html>\n", f);
    return rp_close(f, c->dir, "index.html", c->res);
}

/* ====================================================================== */
/* entry                                                                   */
/* ====================================================================== */

int rp_report_write(const char *dir, const rp_trace *t, const rp_report_opts *opts,
                    rp_report_result *res) {
    rp_report_result dummy;
    if (!res)
        res = &dummy;
    memset(res, 0, sizeof *res);
    if (rp_mkdirs(dir) != 0) {
        snprintf(res->error, sizeof res->error, "cannot create directory %.400s: %s", dir,
                 strerror(errno));
        return -1;
    }
    static rp_ctx zero;
    rp_ctx *c = malloc(sizeof *c);
    if (!c) {
        snprintf(res->error, sizeof res->error, "out of memory");
        return -1;
    }
    *c = zero;
    c->dir = dir;
    c->t = t;
    c->res = res;
    c->svg = !(opts && opts->no_svg);
    c->bucket_us = opts ? opts->bucket_us : 0;
    const rp_chart charts[CH__N] = {
        {"records", "Records sent / acked / failed over time", "send or callback", false},
        {"inflight", "Requests in flight per broker", "request_sent / response_received", false},
        {"batch_size", "Batch size distribution (bytes, as drained)", "batch_drained with bytes", false},
        {"records_per_request", "Records per Produce request", "request_sent with record_count", false},
        {"latency", "Send to ack latency (p50 / p99 / max per time bucket)",
         "send and successful callback with the record number in value", false},
        {"counters", "Retries, splits, metadata refreshes and expiries over time",
         "retry, split, metadata_update_requested or batch_expired", false},
        {"buffer", "Buffer pool in use over time", "buffer_allocated / buffer_deallocated with value, or batch_created", false},
    };
    memcpy(c->ch, charts, sizeof charts);
    int rc = 0;
    if (rp_an_build(&c->an, t) != 0) {
        snprintf(res->error, sizeof res->error, "out of memory analysing %zu events", t->n_events);
        rc = -1;
    }
    if (!rc)
        rc = rp_chart_records(c) || rp_chart_inflight(c) ||
             rp_chart_hist(c, CH_BATCH, &c->an.batch_bytes, "batch size (bytes)") ||
             rp_chart_hist(c, CH_RPR, &c->an.req_records, "records in the request") ||
             rp_chart_latency(c) || rp_chart_counters(c) || rp_chart_buffer(c)
                 ? -1 : 0;
    if (!rc && c->gp.failed)
        rc = -1;
    if (!rc)
        rc = rp_gnuplot_finish(dir, &c->gp, opts, res);
    for (int id = 0; id < CH__N; id++) {
        res->charts += c->ch[id].drawn;
        res->charts_empty += !c->ch[id].drawn;
    }
    if (!rc)
        rc = rp_page(c);
    if (rc && !res->error[0])
        snprintf(res->error, sizeof res->error, "out of memory");
    rp_an_free(&c->an);
    free(c->gp.p);
    free(c);
    if (rc)
        return -1;
    bool ran = opts && opts->gnuplot && !*opts->gnuplot ? true : res->gnuplot_ran || res->charts == 0;
    return ran && !res->gnuplot_output[0] ? 0 : 1;
}

/* ====================================================================== */
/* sweeps                                                                  */
/* ====================================================================== */

static int rp_dbl_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double rp_dpct(const double *s, size_t n, int p) {
    size_t rank = (size_t)((p * n + 99) / 100);
    if (rank == 0)
        rank = 1;
    return s[rank > n ? n - 1 : rank - 1];
}

/* File-name-safe version of a counter key. */
static void rp_slug(char *out, size_t len, const char *key) {
    size_t j = 0;
    for (const char *p = key; *p && j + 1 < len; p++) {
        char c = *p;
        out[j++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c
                   : (c >= 'A' && c <= 'Z')                         ? (char)(c - 'A' + 'a')
                                                                    : '_';
    }
    out[j] = '\0';
}

static void rp_sweep_term(rp__sbuf *gp, const char *file, bool svg, const rp__sbuf *body) {
    for (int k = 0; k < (svg ? 2 : 1); k++) {
        rp__sbuf_printf(gp, "\nreset\nset terminal %s\nset output '%s.%s'\n",
                        k ? "svg noenhanced size 720,320 font 'sans,10' background rgb 'white'"
                          : "pngcairo noenhanced size 720,320 font 'sans,10'",
                        file, k ? "svg" : "png");
        rp__sbuf_putn(gp, body->p ? body->p : "", body->len);
        rp__sbuf_printf(gp, "unset output\n");
    }
}

int rp_sweep_report_write(const char *dir, const char *scenario, const rp_sweep_seed *seeds,
                          size_t n, const rp_report_opts *opts, rp_report_result *res) {
    rp_report_result dummy;
    if (!res)
        res = &dummy;
    memset(res, 0, sizeof *res);
    if (!scenario)
        scenario = "SCENARIO";
    if (rp_mkdirs(dir) != 0) {
        snprintf(res->error, sizeof res->error, "cannot create directory %.400s: %s", dir,
                 strerror(errno));
        return -1;
    }
    bool svg = !(opts && opts->no_svg);
    size_t n_fail = 0;
    for (size_t i = 0; i < n; i++)
        n_fail += !seeds[i].passed;
    size_t n_keys = n ? seeds[0].n_counters : 0;
    double *vals = malloc((n ? n : 1) * sizeof *vals);
    rp__sbuf gp = {0};
    int rc = vals ? 0 : -1;

    /* pass/fail per seed */
    FILE *f = rc ? NULL : rp_open_in(dir, "sweep_seeds.dat", res);
    if (f) {
        fprintf(f, "# seed passed(1)/failed(0)\n");
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%" PRIu64 " %d\n", seeds[i].seed, seeds[i].passed ? 1 : 0);
        rc = rp_close(f, dir, "sweep_seeds.dat", res);
    } else {
        rc = -1;
    }
    if (!rc && n) {
        rp__sbuf b = {0};
        uint64_t lo = seeds[0].seed, hi = seeds[0].seed;
        for (size_t i = 0; i < n; i++) {
            lo = seeds[i].seed < lo ? seeds[i].seed : lo;
            hi = seeds[i].seed > hi ? seeds[i].seed : hi;
        }
        rp__sbuf_printf(&b,
                        "set title 'Pass / fail per seed (%zu passed, %zu failed)'\n"
                        "set xlabel 'seed'\nset xrange [%" PRIu64 ".0-0.5:%" PRIu64 ".0+0.5]\n"
                        "set yrange [0:1.2]\nset ytics ('fail' 0.5, 'pass' 1)\nunset key\n"
                        "set border 3\nset tics nomirror\nset style fill solid 1.0 noborder\n"
                        "set boxwidth 0.9 relative\n"
                        "plot 'sweep_seeds.dat' using 1:($2 == 1 ? 1 : 0.5):($2 == 1 ? 0x31a354 : 0xde2d26) "
                        "with boxes lc rgb variable notitle\n",
                        n - n_fail, n_fail, lo, hi);
        rp_sweep_term(&gp, "sweep_seeds", svg, &b);
        free(b.p);
    }
    /* one histogram per counter */
    for (size_t k = 0; k < n_keys && !rc; k++) {
        for (size_t i = 0; i < n; i++)
            vals[i] = k < seeds[i].n_counters ? seeds[i].counters[k].value : 0.0;
        qsort(vals, n, sizeof *vals, rp_dbl_cmp);
        char slug[64], name[96];
        rp_slug(slug, sizeof slug, seeds[0].counters[k].key);
        snprintf(name, sizeof name, "sweep_%s.dat", slug);
        f = rp_open_in(dir, name, res);
        if (!f) {
            rc = -1;
            break;
        }
        double lo = vals[0], hi = vals[n - 1];
        double w = hi - lo <= 30 ? 1.0 : (double)rp_nice((int64_t)((hi - lo) / 30) + 1);
        fprintf(f, "# %s: bin_start count\n", seeds[0].counters[k].key);
        double peak = 0;
        for (double b0 = floor(lo / w) * w; b0 <= hi; b0 += w) {
            size_t cnt = 0;
            for (size_t i = 0; i < n; i++)
                cnt += vals[i] >= b0 && vals[i] < b0 + w;
            fprintf(f, "%.10g %zu\n", b0, cnt);
            peak = (double)cnt > peak ? (double)cnt : peak;
        }
        if ((rc = rp_close(f, dir, name, res)))
            break;
        rp__sbuf b = {0};
        rp__sbuf_printf(&b, "set title ");
        rp_gp_quote(&b, seeds[0].counters[k].key);
        rp__sbuf_printf(&b,
                        "\nset xlabel 'value'\nset ylabel 'seeds'\nunset key\nset border 3\n"
                        "set tics nomirror\nset style fill solid 0.7 border lc rgb '#555555'\n"
                        "set boxwidth %.10g*0.9 absolute\nset xrange [%.10g:%.10g]\n"
                        "set yrange [0:%.1f]\nplot '%s' using ($1+%.10g/2.0):2 with boxes "
                        "lc rgb '#756bb1' notitle\n",
                        w, floor(lo / w) * w, floor(hi / w) * w + w, peak * 1.15 + 0.5, name, w);
        snprintf(name, sizeof name, "sweep_%s", slug);
        rp_sweep_term(&gp, name, svg, &b);
        free(b.p);
    }
    if (!rc && gp.failed)
        rc = -1;
    if (!rc)
        rc = rp_gnuplot_finish(dir, &gp, opts, res);

    f = rc ? NULL : rp_open_in(dir, "index.html", res);
    if (f) {
        fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>kpsim sweep: ", f);
        rp_html(f, scenario);
        fprintf(f, "</title>\n<style>\n%s</style></head>\n<body>\n<h1>Sweep: ", rp_css);
        rp_html(f, scenario);
        fprintf(f, "</h1>\n<p><span class=\"badge %s\">%zu passed, %zu failed</span> of %zu seeds</p>\n",
                n_fail ? "fail" : "pass", n - n_fail, n_fail, n);
        if (res->gnuplot_output[0]) {
            fputs("<p class=\"fail\">gnuplot did not draw cleanly:</p><pre>", f);
            rp_html(f, res->gnuplot_output);
            fputs("</pre>\n", f);
        }
        if (n)
            fprintf(f, "<figure><img src=\"sweep_seeds.png\" alt=\"pass/fail per seed\" "
                       "width=\"720\" height=\"320\"></figure>\n");
        if (n_fail) {
            fputs("<h2>Failing seeds</h2>\n<table>\n<tr><th>seed</th><th>what failed</th>"
                  "<th>reproduce</th></tr>\n", f);
            for (size_t i = 0; i < n; i++) {
                if (seeds[i].passed)
                    continue;
                fprintf(f, "<tr><td class=\"n\">%" PRIu64 "</td><td>", seeds[i].seed);
                rp_html(f, seeds[i].failure ? seeds[i].failure : "");
                fputs("</td><td><code>kpsim run ", f);
                rp_html(f, scenario);
                fprintf(f, " --seed %" PRIu64 "</code></td></tr>\n", seeds[i].seed);
            }
            fputs("</table>\n", f);
        }
        if (n_keys) {
            fputs("<h2>Counters across seeds</h2>\n<table>\n<tr><th>counter</th><th>min</th>"
                  "<th>p50</th><th>p90</th><th>p99</th><th>max</th><th>mean</th></tr>\n", f);
            for (size_t k = 0; k < n_keys; k++) {
                double sum = 0;
                for (size_t i = 0; i < n; i++) {
                    vals[i] = k < seeds[i].n_counters ? seeds[i].counters[k].value : 0.0;
                    sum += vals[i];
                }
                qsort(vals, n, sizeof *vals, rp_dbl_cmp);
                fputs("<tr><td>", f);
                rp_html(f, seeds[0].counters[k].key);
                fprintf(f,
                        "</td><td class=\"n\">%.6g</td><td class=\"n\">%.6g</td><td class=\"n\">"
                        "%.6g</td><td class=\"n\">%.6g</td><td class=\"n\">%.6g</td><td class=\"n\">"
                        "%.6g</td></tr>\n",
                        vals[0], rp_dpct(vals, n, 50), rp_dpct(vals, n, 90), rp_dpct(vals, n, 99),
                        vals[n - 1], sum / (double)n);
            }
            fputs("</table>\n", f);
            for (size_t k = 0; k < n_keys; k++) {
                char slug[64];
                rp_slug(slug, sizeof slug, seeds[0].counters[k].key);
                fprintf(f, "<figure><img src=\"sweep_%s.png\" alt=\"", slug);
                rp_html(f, seeds[0].counters[k].key);
                fputs("\" width=\"720\" height=\"320\"></figure>\n", f);
            }
        }
        fputs("</body></html>\n", f);
        rc = rp_close(f, dir, "index.html", res);
    } else {
        rc = -1;
    }
    free(vals);
    free(gp.p);
    if (rc) {
        if (!res->error[0])
            snprintf(res->error, sizeof res->error, "out of memory");
        return -1;
    }
    bool ran = opts && opts->gnuplot && !*opts->gnuplot ? true : res->gnuplot_ran || n == 0;
    return ran && !res->gnuplot_output[0] ? 0 : 1;
}
