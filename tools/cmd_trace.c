/*
 * cmd_trace.c — `kpsim trace TRACE [--format text|json|perfetto]`: prints a
 * trace file (reports/trace.proto) as aligned text, JSON Lines, or a
 * Chrome/Perfetto timeline. Formats: reports/rp_format.h.
 */
#include "kp_cli.h"
#include "rp_explain.h"
#include "rp_format.h"
#include "rp_trace.h"

#include <stdio.h>
#include <string.h>

static int kp_trace_run(int argc, char **argv);

const kp_cmd kp_cmd_trace = {
    .name = "trace",
    .synopsis = "trace TRACE [--format text|json|perfetto] [--record K | --batch B] [--producer P] [--out FILE]",
    .summary = "Print a trace file as text, JSON Lines, or a Perfetto/Chrome timeline.",
    .help =
        "TRACE is a file written by `kpsim run --trace FILE` (format: reports/trace.proto).\n\n"
        "options:\n"
        "  --format text      one event per line: sim time (ms), seq, kind, component and\n"
        "                     the fields that apply; header and summary as '# ' lines (default)\n"
        "  --format json      JSON Lines: a header object, one object per event, a summary\n"
        "  --format perfetto  Chrome Trace Event JSON: open it in https://ui.perfetto.dev or\n"
        "                     chrome://tracing (one track per component, spans for batches in\n"
        "                     the accumulator and requests in flight, instants for the rest)\n"
        "  --record K         only the events of record K (the K-th send, from 0): its batch\n"
        "                     and split pieces, the requests that carried them, the broker's\n"
        "                     append, faults meanwhile (text or json; see kpsim explain)\n"
        "  --batch B          only the events of batch B and its split pieces\n"
        "  --producer P       whose record or batch, when the run has several producers\n"
        "                     (the component prefix, e.g. producer-2)\n"
        "  --out FILE         write there instead of standard output\n\n"
        "A truncated or damaged trace prints what could be read, then names the byte offset\n"
        "of the bad frame and exits 2.\n\n"
        "example:\n"
        "  kpsim trace run.kptrace --format perfetto --out run.json\n"
        "  kpsim trace run.kptrace --record 17\n",
    .run = kp_trace_run,
};

/* The events of one record or batch, in text or JSON Lines. */
static int kp_trace_selected(FILE *out, const char *path, rp_format fmt, const char *producer,
                             int64_t record, int64_t batch) {
    char err[600];
    rp_trace *t = rp_trace_load_path(path, err, sizeof err);
    if (!t) {
        fprintf(stderr, "kpsim trace: %s\n", err);
        return KP_EXIT_USAGE;
    }
    rp_explain_sel sel;
    int e = record >= 0 ? rp_explain_select_record(t, producer, record, &sel)
                        : rp_explain_select_batch(t, producer, batch, &sel);
    if (e != 0) {
        fprintf(stderr, "kpsim trace: out of memory\n");
        rp_trace_free(t);
        return KP_EXIT_USAGE;
    }
    rp_text_widths w = rp_text_widths_of(&t->header);
    if (fmt == RP_FORMAT_TEXT)
        rp_text_header(out, &t->header, &w);
    else
        rp_json_header(out, &t->header);
    for (size_t k = 0; k < sel.n; k++) {
        if (fmt == RP_FORMAT_TEXT)
            rp_text_event(out, &t->header, &t->events[sel.ix[k]], &w);
        else
            rp_json_event(out, &t->header, &t->events[sel.ix[k]]);
    }
    int rc = KP_EXIT_OK;
    if (sel.n == 0) {
        if (record >= 0)
            fprintf(stderr, "kpsim trace: no events of record %lld%s%s\n", (long long)record,
                    producer ? " of " : "", producer ? producer : "");
        else
            fprintf(stderr, "kpsim trace: no events of batch %lld%s%s\n", (long long)batch,
                    producer ? " of " : "", producer ? producer : "");
        rc = KP_EXIT_USAGE;
    }
    rp_explain_sel_free(&sel);
    rp_trace_free(t);
    return rc;
}

static int kp_trace_run(int argc, char **argv) {
    const char *path = NULL, *out_path = NULL, *producer = NULL;
    rp_format fmt = RP_FORMAT_TEXT;
    int64_t record = -1, batch = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--record") || !strcmp(a, "--batch")) {
            const char *v = i + 1 < argc ? argv[++i] : NULL;
            int64_t *dst = a[2] == 'r' ? &record : &batch;
            if (!v || !kp_cli_parse_i64(v, 0, INT64_MAX, dst))
                return kp_cli_usage(&kp_cmd_trace, "%s needs a whole number >= 0", a);
            continue;
        }
        if (!strcmp(a, "--producer")) {
            producer = i + 1 < argc ? argv[++i] : NULL;
            if (!producer || !*producer)
                return kp_cli_usage(&kp_cmd_trace, "--producer needs a name");
            continue;
        }
        if (!strcmp(a, "--format") || !strncmp(a, "--format=", 9)) {
            const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v)
                return kp_cli_usage(&kp_cmd_trace, "--format needs a value");
            if (!rp_format_parse(v, &fmt))
                return kp_cli_usage(&kp_cmd_trace, "--format must be text, json or perfetto, got '%s'", v);
        } else if (!strcmp(a, "--out") || !strncmp(a, "--out=", 6)) {
            out_path = a[5] == '=' ? a + 6 : (i + 1 < argc ? argv[++i] : NULL);
            if (!out_path || !*out_path)
                return kp_cli_usage(&kp_cmd_trace, "--out needs a file name");
        } else if (a[0] == '-' && a[1]) {
            return kp_cli_usage(&kp_cmd_trace, "unknown option '%s'", a);
        } else if (!path) {
            path = a;
        } else {
            return kp_cli_usage(&kp_cmd_trace, "one TRACE only (got '%s' and '%s')", path, a);
        }
    }
    if (!path)
        return kp_cli_usage(&kp_cmd_trace, "give a TRACE file");
    if (record >= 0 && batch >= 0)
        return kp_cli_usage(&kp_cmd_trace, "--record and --batch exclude each other");
    if ((record >= 0 || batch >= 0) && fmt == RP_FORMAT_PERFETTO)
        return kp_cli_usage(&kp_cmd_trace, "--record and --batch go with --format text or json");
    if (producer && record < 0 && batch < 0)
        return kp_cli_usage(&kp_cmd_trace, "--producer goes with --record or --batch");
    FILE *out = stdout;
    if (out_path && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, "kpsim trace: cannot write %s\n", out_path);
        return KP_EXIT_USAGE;
    }
    char err[600];
    int rc = KP_EXIT_OK;
    if (record >= 0 || batch >= 0) {
        rc = kp_trace_selected(out, path, fmt, producer, record, batch);
    } else if (fmt == RP_FORMAT_PERFETTO) {
        rp_trace *t = rp_trace_load_path(path, err, sizeof err);
        if (!t) {
            fprintf(stderr, "kpsim trace: %s\n", err);
            rc = KP_EXIT_USAGE;
        } else {
            if (rp_format_perfetto(out, t) != 0) {
                fprintf(stderr, "kpsim trace: out of memory or write error\n");
                rc = KP_EXIT_USAGE;
            }
            rp_trace_free(t);
        }
    } else {
        rp_trace_reader *r = rp_trace_reader_open_path(path, err, sizeof err);
        if (!r) {
            fprintf(stderr, "kpsim trace: %s\n", err);
            rc = KP_EXIT_USAGE;
        } else {
            if (rp_format_stream(out, r, fmt) != 0) {
                fflush(out);
                fprintf(stderr, "kpsim trace: %s\n", rp_trace_reader_error(r));
                rc = KP_EXIT_USAGE;
            }
            rp_trace_reader_close(r);
        }
    }
    if (fflush(out) != 0 || (out != stdout && fclose(out) != 0)) {
        fprintf(stderr, "kpsim trace: write error\n");
        rc = KP_EXIT_USAGE;
    }
    return rc;
}
