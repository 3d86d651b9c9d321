/*
 * cmd_trace.c — `kpsim trace TRACE [--format text|json|perfetto]`: prints a
 * trace file (reports/trace.proto) as aligned text, JSON Lines, or a
 * Chrome/Perfetto timeline. Formats: reports/rp_format.h.
 */
#include "kp_cli.h"
#include "rp_format.h"
#include "rp_trace.h"

#include <stdio.h>
#include <string.h>

static int kp_trace_run(int argc, char **argv);

const kp_cmd kp_cmd_trace = {
    .name = "trace",
    .synopsis = "trace TRACE [--format text|json|perfetto] [--out FILE]",
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
        "  --out FILE         write there instead of standard output\n\n"
        "A truncated or damaged trace prints what could be read, then names the byte offset\n"
        "of the bad frame and exits 2.\n\n"
        "example:\n"
        "  kpsim trace run.kptrace --format perfetto --out run.json\n",
    .run = kp_trace_run,
};

static int kp_trace_run(int argc, char **argv) {
    const char *path = NULL, *out_path = NULL;
    rp_format fmt = RP_FORMAT_TEXT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
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
    FILE *out = stdout;
    if (out_path && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, "kpsim trace: cannot write %s\n", out_path);
        return KP_EXIT_USAGE;
    }
    char err[600];
    int rc = KP_EXIT_OK;
    if (fmt == RP_FORMAT_PERFETTO) {
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
