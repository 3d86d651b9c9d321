/*
 * cmd_run.c — `kpsim run SCENARIO`: one scenario, one seed, judged.
 *
 * Exit 0 when every invariant and expectation held, 1 when one failed (the
 * output names it and prints the command that reproduces the run), 2 for
 * bad usage or a bad scenario file (FILE:LINE:COLUMN: what was expected).
 */
#include "kp_cli.h"
#include "rp_report.h"
#include "rp_trace.h"
#include "sc_runner.h"
#include "sc_scenario.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int kp_run_run(int argc, char **argv);

const kp_cmd kp_cmd_run = {
    .name = "run",
    .synopsis = "run SCENARIO [--seed N] [--set key=value]... [--trace FILE] [--report DIR] [--quiet] [--junit FILE]",
    .summary = "Run one scenario with one seed, check every invariant and expectation.",
    .help =
        "options:\n"
        "  --seed N          the scenario's seed otherwise (0..2^64-1)\n"
        "  --set key=value   override a setting: producer.<java name> (every producer) or\n"
        "                    producer.<name>.<java name>, broker.<setting>, net.latency.ms,\n"
        "                    net.jitter.ms, net.bandwidth.bytes.per.s; repeatable\n"
        "  --trace FILE      write the trace (length-delimited protobuf, reports/trace.proto)\n"
        "  --report DIR      write DIR/index.html and gnuplot charts for this run\n"
        "  --quiet           print only the verdict line\n"
        "  --junit FILE      write a JUnit XML file with one test case for this run\n"
        "  --time-limit-ms N stop the simulation at N ms of simulated time\n\n"
        "exit status: 0 every check held, 1 a check failed (the reproducing command is\n"
        "printed), 2 bad usage or a bad scenario file\n\n"
        "example:\n"
        "  kpsim run scenarios/catalog/basics_happy_path.textpb --seed 7 --set producer.linger.ms=5\n",
    .run = kp_run_run,
};

static void kp_xml_escape(FILE *f, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static int kp_write_junit(const char *path, const char *suite, const char *name, const sc_run_result *res,
                          const char *reproduce) {
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "kpsim run: cannot write %s\n", path);
        return -1;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"");
    kp_xml_escape(f, suite);
    fprintf(f, "\" tests=\"1\" failures=\"%d\" time=\"0\">\n  <testcase classname=\"", res->passed ? 0 : 1);
    kp_xml_escape(f, suite);
    fprintf(f, "\" name=\"");
    kp_xml_escape(f, name);
    fprintf(f, "\">");
    if (!res->passed) {
        fprintf(f, "\n    <failure message=\"");
        kp_xml_escape(f, res->first_failure);
        fprintf(f, "\">reproduce: ");
        kp_xml_escape(f, reproduce);
        fprintf(f, "</failure>\n  ");
    }
    fprintf(f, "</testcase>\n</testsuite>\n");
    return fclose(f) == 0 ? 0 : -1;
}

static int kp_run_run(int argc, char **argv) {
    const char *file = NULL, *trace = NULL, *report = NULL, *junit = NULL;
    uint64_t seed = 0;
    bool seed_set = false, quiet = false;
    int64_t limit = 0;
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    size_t nsets = 0;
    if (!sets)
        return KP_EXIT_USAGE;
    int rc = KP_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--seed")) {
            char *end;
            if (!v || !*v || v[0] == '-' || (seed = strtoull(v, &end, 10), *end)) {
                rc = kp_cli_usage(&kp_cmd_run, "--seed needs a whole number, got '%s'", v ? v : "");
                goto out;
            }
            seed_set = true;
            i++;
        } else if (!strcmp(a, "--set")) {
            if (!v) {
                rc = kp_cli_usage(&kp_cmd_run, "--set needs key=value");
                goto out;
            }
            sets[nsets++] = v;
            i++;
        } else if (!strcmp(a, "--trace") || !strcmp(a, "--report") || !strcmp(a, "--junit")) {
            if (!v) {
                rc = kp_cli_usage(&kp_cmd_run, "%s needs a path", a);
                goto out;
            }
            if (!strcmp(a, "--trace"))
                trace = v;
            else if (!strcmp(a, "--report"))
                report = v;
            else
                junit = v;
            i++;
        } else if (!strcmp(a, "--time-limit-ms")) {
            if (!kp_cli_parse_i64(v, 1, INT64_MAX / 1000, &limit)) {
                rc = kp_cli_usage(&kp_cmd_run, "--time-limit-ms needs a positive whole number");
                goto out;
            }
            i++;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = true;
        } else if (a[0] == '-' && a[1]) {
            rc = kp_cli_usage(&kp_cmd_run, "unknown option '%s'", a);
            goto out;
        } else if (!file) {
            file = a;
        } else {
            rc = kp_cli_usage(&kp_cmd_run, "one SCENARIO only (also got '%s')", a);
            goto out;
        }
    }
    if (!file) {
        rc = kp_cli_usage(&kp_cmd_run, "give a SCENARIO file (kpsim list shows the catalog)");
        goto out;
    }
    sc_error err;
    sc_scenario *sc = sc_scenario_load_with_sets(file, sets, nsets, &err);
    if (!sc) {
        fprintf(stderr, "%s\n", err.text);
        rc = KP_EXIT_USAGE;
        goto out;
    }

    /* the command that reproduces this run */
    char repro[2048];
    size_t off = (size_t)snprintf(repro, sizeof repro, "kpsim run %s --seed %" PRIu64, file,
                                  seed_set ? seed : sc_scenario_proto(sc)->seed);
    for (size_t i = 0; i < nsets && off < sizeof repro; i++)
        off += (size_t)snprintf(repro + off, sizeof repro - off, " --set %s", sets[i]);

    char tmp_trace[4096];
    if (report && !trace) {
        mkdir(report, 0777);
        snprintf(tmp_trace, sizeof tmp_trace, "%s/trace.kpt", report);
        trace = tmp_trace;
    }
    sc_run_opts opts = {
        .seed = seed,
        .seed_set = seed_set,
        .trace_path = trace,
        .out = stdout,
        .quiet = quiet,
        .reproduce = repro,
        .time_limit_ms = limit,
    };
    sc_run_result res;
    rc = sc_run(sc, &opts, &res);
    if (rc == 0) {
        rc = res.passed ? KP_EXIT_OK : KP_EXIT_FAILED;
        if (junit && kp_write_junit(junit, "kpsim.run", sc_scenario_proto(sc)->name, &res, repro) != 0)
            rc = KP_EXIT_USAGE;
        if (report) {
            char errbuf[512];
            rp_trace *t = rp_trace_load_path(trace, errbuf, sizeof errbuf);
            if (!t) {
                fprintf(stderr, "kpsim run: report: %s\n", errbuf);
                rc = rc ? rc : KP_EXIT_FAILED;
            } else {
                rp_report_opts ropts = { 0 };
                rp_report_result rres;
                if (rp_report_write(report, t, &ropts, &rres) != 0) {
                    fprintf(stderr, "kpsim run: report: %s\n", rres.error);
                    rc = rc ? rc : KP_EXIT_FAILED;
                } else if (!quiet) {
                    printf("report     %s/index.html (%d charts)\n", report, rres.charts);
                }
                rp_trace_free(t);
            }
        }
    }
    sc_scenario_free(sc);
out:
    free(sets);
    return rc;
}
