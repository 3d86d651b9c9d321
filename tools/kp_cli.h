/*
 * kp_cli.h — what the kpsim subcommands share: the command table entry,
 * exit codes (DESIGN.md "The command line"), and small argument helpers.
 *
 * Each subcommand lives in tools/cmd_NAME.c and is listed once in the table
 * in tools/kpsim.c. Commands are thin: they parse arguments and call the
 * layers; they do not implement simulation logic.
 */
#ifndef KP_CLI_H
#define KP_CLI_H

#include <stdbool.h>
#include <stdint.h>

enum {
    KP_EXIT_OK = 0,        /* ran; every expectation held */
    KP_EXIT_FAILED = 1,    /* ran; an expectation or invariant failed */
    KP_EXIT_USAGE = 2      /* bad usage or bad input */
};

typedef struct kp_cmd {
    const char *name;
    const char *synopsis;  /* one line: "partition --partitions N KEY..." */
    const char *summary;   /* one sentence */
    const char *help;      /* options, one per line, then an example */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} kp_cmd;

/* Prints "kpsim NAME: <message>" and the synopsis to stderr; returns 2. */
int kp_cli_usage(const kp_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parses a whole decimal integer in [min, max]; false on anything else. */
bool kp_cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/* True when stderr is a terminal (progress lines go there, else nowhere). */
bool kp_cli_is_tty(void);

const kp_cmd *kp_cli_find(const char *name);

#endif
