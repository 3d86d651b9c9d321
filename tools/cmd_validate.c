/*
 * cmd_validate.c — `kpsim validate [--set KEY=VALUE]... FILE...`: loads and
 * checks scenario files without running them (syntax, types, names that
 * must exist, times, settings and the producer's config cross-checks; see
 * scenarios/scenario.proto). Prints "FILE: ok" per good file on stdout and
 * each error as "FILE:LINE:COLUMN: what" on stderr; exit 0 when every file
 * is good, 2 otherwise.
 */
#include "kp_cli.h"
#include "sc_scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int kp_validate_run(int argc, char **argv);

const kp_cmd kp_cmd_validate = {
    .name = "validate",
    .synopsis = "validate [--set KEY=VALUE]... FILE...",
    .summary = "Check scenario files (syntax and meaning) without running them.",
    .help =
        "Loads each FILE as a scenario (protobuf text format, schema in\n"
        "scenarios/scenario.proto) and runs every check `kpsim run` runs before\n"
        "starting: unknown fields, wrong types, values out of range, names of\n"
        "brokers / producers / topics that do not exist, times in the past or past\n"
        "time_limit_ms, unknown error names, producer settings and their\n"
        "cross-checks (e.g. enable.idempotence=true with acks=1).\n"
        "Prints 'FILE: ok' for a good file, else FILE:LINE:COLUMN and what is wrong.\n\n"
        "options:\n"
        "  --set KEY=VALUE   apply an override first, as `kpsim run --set` does\n"
        "                    (producer.KEY, producer.NAME.KEY, broker.KEY,\n"
        "                    topic.NAME.KEY, net.latency.ms, ...); repeatable\n\n"
        "example:\n"
        "  kpsim validate scenarios/catalog/*.textpb\n"
        "  kpsim validate --set producer.acks=1 scenarios/catalog/leader_move_retry.textpb\n",
    .run = kp_validate_run,
};

static int kp_validate_run(int argc, char **argv) {
    const char **sets = calloc((size_t)argc, sizeof *sets);
    const char **files = calloc((size_t)argc, sizeof *files);
    size_t nsets = 0, nfiles = 0;
    int rc = KP_EXIT_OK;
    if (!sets || !files) {
        fprintf(stderr, "kpsim validate: out of memory\n");
        rc = KP_EXIT_USAGE;
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--set")) {
            if (i + 1 >= argc) {
                rc = kp_cli_usage(&kp_cmd_validate, "--set needs KEY=VALUE");
                goto out;
            }
            sets[nsets++] = argv[++i];
        } else if (!strncmp(argv[i], "--set=", 6)) {
            sets[nsets++] = argv[i] + 6;
        } else if (!strcmp(argv[i], "--")) {
            while (++i < argc)
                files[nfiles++] = argv[i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            rc = kp_cli_usage(&kp_cmd_validate, "unknown option '%s'", argv[i]);
            goto out;
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (nfiles == 0) {
        rc = kp_cli_usage(&kp_cmd_validate, "give at least one scenario FILE");
        goto out;
    }
    for (size_t i = 0; i < nfiles; i++) {
        sc_error err;
        sc_scenario *sc = sc_scenario_load_with_sets(files[i], sets, nsets, &err);
        if (!sc) {
            fprintf(stderr, "%s\n", err.text);
            rc = KP_EXIT_USAGE;
            continue;
        }
        printf("%s: ok\n", files[i]);
        sc_scenario_free(sc);
    }
out:
    free(sets);
    free(files);
    return rc;
}
