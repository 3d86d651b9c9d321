/*
 * cmd_report.c — `kpsim report TRACE --out DIR`: the report folder of a run
 * (index.html + gnuplot charts) from its trace alone. See reports/rp_report.h.
 */
#include "kp_cli.h"
#include "rp_report.h"
#include "rp_trace.h"

#include <stdio.h>
#include <string.h>

static int kp_report_run(int argc, char **argv);

const kp_cmd kp_cmd_report = {
    .name = "report",
    .synopsis = "report TRACE --out DIR [--no-svg] [--bucket-ms N]",
    .summary = "Write a run's report folder (index.html + gnuplot charts) from its trace.",
    .help =
        "Reads TRACE (written by `kpsim run --trace FILE`) and writes into DIR:\n"
        "  index.html   scenario, purpose, seed, settings, the verdict of every invariant and\n"
        "               expectation, records, metrics, faults, and the charts; opens offline\n"
        "  *.png *.svg  records sent/acked/failed with fault markers, requests in flight per\n"
        "               broker, batch sizes, records per request, send->ack latency\n"
        "               percentiles, retries/splits/metadata refreshes/expiries, buffer pool use\n"
        "  *.dat, report.gp  the charts' data and the gnuplot script that draws them\n\n"
        "options:\n"
        "  --out DIR       the folder (created if missing)\n"
        "  --no-svg        PNG charts only\n"
        "  --bucket-ms N   time bucket of the latency chart (default: about 40 buckets)\n\n"
        "Exit status: 0 written; 1 written, but gnuplot is missing or printed warnings (shown);\n"
        "2 bad usage, or the trace cannot be read (the message names the byte offset).\n\n"
        "example:\n"
        "  kpsim report run.kptrace --out report/ && xdg-open report/index.html\n",
    .run = kp_report_run,
};

static int kp_report_run(int argc, char **argv) {
    const char *path = NULL, *dir = NULL;
    rp_report_opts opts = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--out") || !strncmp(a, "--out=", 6)) {
            dir = a[5] == '=' ? a + 6 : (i + 1 < argc ? argv[++i] : NULL);
            if (!dir || !*dir)
                return kp_cli_usage(&kp_cmd_report, "--out needs a directory");
        } else if (!strcmp(a, "--no-svg")) {
            opts.no_svg = true;
        } else if (!strcmp(a, "--bucket-ms") || !strncmp(a, "--bucket-ms=", 12)) {
            const char *v = a[11] == '=' ? a + 12 : (i + 1 < argc ? argv[++i] : NULL);
            int64_t ms;
            if (!v || !kp_cli_parse_i64(v, 1, INT64_MAX / 1000, &ms))
                return kp_cli_usage(&kp_cmd_report, "--bucket-ms needs a whole number of ms >= 1");
            opts.bucket_us = ms * 1000;
        } else if (a[0] == '-' && a[1]) {
            return kp_cli_usage(&kp_cmd_report, "unknown option '%s'", a);
        } else if (!path) {
            path = a;
        } else {
            return kp_cli_usage(&kp_cmd_report, "one TRACE only (got '%s' and '%s')", path, a);
        }
    }
    if (!path)
        return kp_cli_usage(&kp_cmd_report, "give a TRACE file");
    if (!dir)
        return kp_cli_usage(&kp_cmd_report, "--out DIR is required");
    char err[600];
    rp_trace *t = rp_trace_load_path(path, err, sizeof err);
    if (!t) {
        fprintf(stderr, "kpsim report: %s\n", err);
        return KP_EXIT_USAGE;
    }
    rp_report_result res;
    int rc = rp_report_write(dir, t, &opts, &res);
    rp_trace_free(t);
    if (rc < 0) {
        fprintf(stderr, "kpsim report: %s\n", res.error);
        return KP_EXIT_USAGE;
    }
    if (rc > 0) {
        fprintf(stderr, "kpsim report: gnuplot did not draw cleanly:\n%s\n", res.gnuplot_output);
    }
    printf("%s/index.html: %d charts, %d without data\n", dir, res.charts, res.charts_empty);
    return rc > 0 ? KP_EXIT_FAILED : KP_EXIT_OK;
}
