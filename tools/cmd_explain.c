/*
 * cmd_explain.c — `kpsim explain SCENARIO [--seed N] [--record K] [--lang en|zh]`:
 * runs the scenario with a trace (to a temporary file) and tells the life of
 * one record through the pipeline, one numbered step per event, each naming
 * the Java method it mirrors (reports/rp_explain.h does the telling).
 */
#include "kp_cli.h"
#include "rp_explain.h"
#include "rp_trace.h"
#include "sc_runner.h"
#include "sc_scenario.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int kp_explain_run(int argc, char **argv);

const kp_cmd kp_cmd_explain = {
    .name = "explain",
    .synopsis = "explain SCENARIO [--seed N] [--record K] [--producer NAME] [--set key=value]... [--lang en|zh]",
    .summary = "Tell the life of one record through the producer pipeline, step by step.",
    .help =
        "Runs SCENARIO (with its trace) and narrates record K: KafkaProducer.send,\n"
        "waitOnMetadata and the metadata request it caused, the partitioner's choice,\n"
        "RecordAccumulator.append, sender.wakeup, ready, drain, the ProduceRequest, what\n"
        "the network and the broker did with it, Sender.completeBatch (retry, split,\n"
        "metadata refresh, failure) and the callback. Each step names the Java method.\n\n"
        "options:\n"
        "  --seed N          the scenario's seed otherwise\n"
        "  --record K        the K-th record the producer sent, from 0 (default 0)\n"
        "  --producer NAME   which producer, when the scenario has several\n"
        "  --set key=value   as for kpsim run\n"
        "  --lang en|zh      English (default) or Chinese\n\n"
        "example:\n"
        "  kpsim explain scenarios/catalog/leader_move_retry.textpb --record 1000\n",
    .run = kp_explain_run,
};

static int kp_explain_run(int argc, char **argv) {
    const char *file = NULL, *lang = "en", *producer = NULL;
    uint64_t seed = 0;
    bool seed_set = false;
    int64_t record = 0;
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    size_t nsets = 0;
    int rc = KP_EXIT_USAGE;
    if (!sets)
        return rc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--seed")) {
            char *end;
            if (!v || !*v || v[0] == '-' || (seed = strtoull(v, &end, 10), *end)) {
                rc = kp_cli_usage(&kp_cmd_explain, "--seed needs a whole number");
                goto out;
            }
            seed_set = true;
            i++;
        } else if (!strcmp(a, "--record")) {
            if (!kp_cli_parse_i64(v, 0, INT64_MAX, &record)) {
                rc = kp_cli_usage(&kp_cmd_explain, "--record needs a whole number >= 0");
                goto out;
            }
            i++;
        } else if (!strcmp(a, "--lang")) {
            if (!v || !rp_phrasebook_get(v)) {
                rc = kp_cli_usage(&kp_cmd_explain, "--lang takes en or zh");
                goto out;
            }
            lang = v;
            i++;
        } else if (!strcmp(a, "--producer")) {
            if (!v) {
                rc = kp_cli_usage(&kp_cmd_explain, "--producer needs a name");
                goto out;
            }
            producer = v;
            i++;
        } else if (!strcmp(a, "--set")) {
            if (!v) {
                rc = kp_cli_usage(&kp_cmd_explain, "--set needs key=value");
                goto out;
            }
            sets[nsets++] = v;
            i++;
        } else if (a[0] == '-' && a[1]) {
            rc = kp_cli_usage(&kp_cmd_explain, "unknown option '%s'", a);
            goto out;
        } else if (!file) {
            file = a;
        } else {
            rc = kp_cli_usage(&kp_cmd_explain, "one SCENARIO only");
            goto out;
        }
    }
    if (!file) {
        rc = kp_cli_usage(&kp_cmd_explain, "give a SCENARIO file (kpsim list shows the catalog)");
        goto out;
    }
    sc_error err;
    sc_scenario *sc = sc_scenario_load_with_sets(file, sets, nsets, &err);
    if (!sc) {
        fprintf(stderr, "%s\n", err.text);
        goto out;
    }
    char path[] = "/tmp/kpsim-explain-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "kpsim explain: cannot create a temporary trace file\n");
        sc_scenario_free(sc);
        goto out;
    }
    close(fd);
    sc_run_opts opts = { .seed = seed, .seed_set = seed_set, .trace_path = path, .out = NULL };
    sc_run_result res;
    rc = sc_run(sc, &opts, &res);
    if (rc != 0) {
        fprintf(stderr, "kpsim explain: %s: the scenario could not be run\n", file);
        unlink(path);
        sc_scenario_free(sc);
        goto out;
    }
    char errbuf[512];
    rp_trace *t = rp_trace_load_path(path, errbuf, sizeof errbuf);
    unlink(path);
    if (!t) {
        fprintf(stderr, "kpsim explain: %s\n", errbuf);
        sc_scenario_free(sc);
        rc = KP_EXIT_FAILED;
        goto out;
    }
    rp_explain_sel sel;
    if (rp_explain_select_record(t, producer, record, &sel) != 0) {
        fprintf(stderr, "kpsim explain: out of memory\n");
        rc = KP_EXIT_FAILED;
    } else {
        rp_explain_print(stdout, t, &sel, rp_phrasebook_get(lang));
        rc = sel.n ? KP_EXIT_OK : KP_EXIT_USAGE;
        if (!sel.n)
            fprintf(stderr, "kpsim explain: record %" PRId64 " was not sent in this run (%" PRId64
                    " records were)\n", record, res.sent);
        rp_explain_sel_free(&sel);
    }
    rp_trace_free(t);
    sc_scenario_free(sc);
out:
    free(sets);
    return rc;
}
