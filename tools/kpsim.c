/*
 * kpsim.c — the command line: finds the subcommand and runs it.
 *
 *   kpsim COMMAND [ARGS...]     kpsim --help     kpsim help COMMAND
 *   kpsim --version
 *
 * Exit status: 0 = ran and every expectation held; 1 = ran and something
 * failed (it says what, with the reproducing command); 2 = bad usage or bad
 * input (it says what and where).
 */
#include "kp_cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef KP_VERSION
#define KP_VERSION "0.0.0"
#endif

extern const kp_cmd kp_cmd_run;
extern const kp_cmd kp_cmd_explain;
extern const kp_cmd kp_cmd_sweep;
extern const kp_cmd kp_cmd_partition;
extern const kp_cmd kp_cmd_broker;
extern const kp_cmd kp_cmd_produce;
extern const kp_cmd kp_cmd_trace;
extern const kp_cmd kp_cmd_list;
extern const kp_cmd kp_cmd_validate;
extern const kp_cmd kp_cmd_report;
extern const kp_cmd kp_cmd_bench;

static const kp_cmd *const kp_cmds[] = {
    &kp_cmd_run,
    &kp_cmd_explain,
    &kp_cmd_sweep,
    &kp_cmd_partition,
    &kp_cmd_broker,
    &kp_cmd_produce,
    &kp_cmd_trace,
    &kp_cmd_list,
    &kp_cmd_validate,
    &kp_cmd_report,
    &kp_cmd_bench,
};
#define KP_NCMDS (sizeof kp_cmds / sizeof kp_cmds[0])

const kp_cmd *kp_cli_find(const char *name) {
    for (size_t i = 0; i < KP_NCMDS; i++)
        if (strcmp(kp_cmds[i]->name, name) == 0)
            return kp_cmds[i];
    return NULL;
}

int kp_cli_usage(const kp_cmd *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "kpsim %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: kpsim %s\n(see: kpsim help %s)\n", cmd->synopsis, cmd->name);
    return KP_EXIT_USAGE;
}

bool kp_cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out) {
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool kp_cli_is_tty(void) {
    return isatty(STDERR_FILENO) == 1;
}

static void kp_print_overview(FILE *f) {
    fprintf(f,
            "kpsim %s — a deterministic simulation and test harness for the Kafka producer\n\n"
            "usage: kpsim COMMAND [ARGS...]\n\n"
            "commands:\n",
            KP_VERSION);
    for (size_t i = 0; i < KP_NCMDS; i++)
        fprintf(f, "  %-10s %s\n", kp_cmds[i]->name, kp_cmds[i]->summary);
    fprintf(f,
            "\n  kpsim help COMMAND   options and an example for one command\n"
            "  kpsim --version      the version\n\n"
            "exit status: 0 ran and every expectation held; 1 an expectation or\n"
            "invariant failed; 2 bad usage or bad input\n");
}

static int kp_help(const char *name) {
    const kp_cmd *cmd = kp_cli_find(name);
    if (!cmd) {
        fprintf(stderr, "kpsim help: no command '%s'\n\n", name);
        kp_print_overview(stderr);
        return KP_EXIT_USAGE;
    }
    printf("usage: kpsim %s\n\n%s\n\n%s", cmd->synopsis, cmd->summary, cmd->help);
    return KP_EXIT_OK;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        kp_print_overview(stderr);
        return KP_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
        kp_print_overview(stdout);
        return KP_EXIT_OK;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("kpsim %s\n", KP_VERSION);
        return KP_EXIT_OK;
    }
    if (!strcmp(name, "help")) {
        if (argc < 3) {
            kp_print_overview(stdout);
            return KP_EXIT_OK;
        }
        return kp_help(argv[2]);
    }
    const kp_cmd *cmd = kp_cli_find(name);
    if (!cmd) {
        fprintf(stderr, "kpsim: unknown command '%s'\n\n", name);
        kp_print_overview(stderr);
        return KP_EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return kp_help(name);
    return cmd->run(argc - 1, argv + 1);
}
