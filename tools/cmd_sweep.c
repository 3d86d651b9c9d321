/*
 * cmd_sweep.c — `kpsim sweep SCENARIO --seeds A..B`: one scenario, many
 * seeds, each run in its own child process; and `kpsim sweep --merge
 * FILES...`: the per-shard result files of a spread-out sweep, joined.
 *
 * The story of a sweep:
 *   1. load    the scenario with its --set overrides, once, in the parent
 *              (a bad file is exit 2 before anything runs)
 *   2. run     the seeds of the shard in increasing order, up to --jobs
 *              children at once; a child runs sc_run and writes its
 *              sc_run_result into a pipe. A child that dies (signal, exit
 *              without a full result) is a "crash" of that seed, named
 *              with its last words (the child's stderr goes to a memfd;
 *              its assertion or sanitizer SUMMARY line ends the failure
 *              text); one that outlives --timeout seconds of wall time is
 *              killed and is a "timeout" of that seed. Neither stops the
 *              sweep.
 *   3. emit    results in seed order, whatever order the children finish
 *              in (results wait in a ring of --jobs + KP_SW_SLACK slots; a
 *              seed is started only when its slot is free, so one slow
 *              seed holds back at most that many, while the other jobs
 *              keep running — with a ring of only --jobs slots, one slow
 *              seed idled every other job until it ended): a line per
 *              failing seed on stdout, a line per seed in --out, a test
 *              case per seed in --junit
 *   4. shrink  (--shrink) the first failing seeds, through sc_sweep_shrink,
 *              each candidate run in a child like the seeds
 *   5. verdict the last line "N passed, M failed"; exit 0 / 1
 *
 * stdout depends only on (scenario, --set, seeds, shard): never on --jobs,
 * timing or the terminal. The progress line goes to stderr and only when
 * stderr is a terminal.
 *
 * Memory: the parent keeps the ring of results, the failing seeds
 * (for --shrink), and with --report one counter row per seed; the JUnit
 * test cases are spooled to a temporary file and copied under their
 * <testsuite> header at the end (the header carries the counts).
 */
#include "kp_cli.h"
#include "rp_report.h"
#include "sc_runner.h"
#include "sc_scenario.h"
#include "sc_sweep.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int kp_sweep_run(int argc, char **argv);

const kp_cmd kp_cmd_sweep = {
    .name = "sweep",
    .synopsis = "sweep SCENARIO --seeds A..B [--shard I/N] [--jobs N] [--set key=value]... [--out FILE] "
                "[--junit FILE] [--report DIR] [--shrink]  |  sweep --merge FILE...",
    .summary = "Run one scenario over a range of seeds in parallel processes; merge sharded results.",
    .help =
        "Runs SCENARIO once per seed, each run in its own process. Prints one line per\n"
        "failing seed, in seed order, with the command that reproduces it and what\n"
        "failed first, then a last line 'N passed, M failed'. The output is the same\n"
        "whatever --jobs is. A seed whose run crashes or exceeds --timeout is a\n"
        "failure of that seed, not of the sweep.\n\n"
        "  FAIL seed 17: kpsim run FILE --seed 17 --set k=v  # invariant SEND_ORDER: ...\n\n"
        "options:\n"
        "  --seeds A..B      the inclusive seed range (required; 'A' alone is one seed)\n"
        "  --shard I/N       only shard I of N (1-based): seeds with (seed - A) % N == I - 1;\n"
        "                    the N shards cover the range exactly once (a 0-based job\n"
        "                    index k is --shard $((k+1))/N)\n"
        "  --jobs N          N runs at once (default: the number of CPUs)\n"
        "  --set key=value   override a setting, as for kpsim run; repeatable\n"
        "  --timeout S       wall-time limit per seed in seconds (default 300)\n"
        "  --out FILE        per-seed results, one TSV line per seed (seed, verdict,\n"
        "                    digest, events, sim_end_us, every counter, first failure);\n"
        "                    the input of --merge\n"
        "  --junit FILE      JUnit XML: one test case per seed; a failure carries the\n"
        "                    failed check and the reproducing command\n"
        "  --report DIR      DIR/index.html: pass/fail per seed and counter distributions\n"
        "  --shrink          for the first failing seed(s): drop scripted faults, lower\n"
        "                    chaos rates, halve record counts, drop producer settings\n"
        "                    while it still fails the same check; print the smaller\n"
        "                    scenario (protobuf text) and how many runs it took\n"
        "  --shrink-max K    shrink the first K failing seeds (default 1)\n"
        "  --shrink-runs R   at most R runs per shrink (default 200)\n"
        "  --shrink-dir DIR  also write each shrunk scenario to DIR/NAME-seedN.textpb\n"
        "  --merge FILE...   read --out files of the shards of one sweep, check that\n"
        "                    every seed is there exactly once, print the failing seeds and\n"
        "                    the total as one sweep would; --out/--junit/--report write\n"
        "                    the merged results (exit 2 when seeds are missing or twice)\n\n"
        "exit status: 0 every seed passed, 1 some seed failed, 2 bad usage, a bad\n"
        "scenario or result file, an output that could not be written, or (--merge)\n"
        "missing or duplicate seeds\n\n"
        "examples:\n"
        "  kpsim sweep scenarios/catalog/leader_move_retry.textpb --seeds 1..500 --jobs 4\n"
        "  kpsim sweep F --seeds 1..3000 --shard 2/3 --out shard2.tsv\n"
        "  kpsim sweep --merge shard1.tsv shard2.tsv shard3.tsv --junit sweep.xml\n",
    .run = kp_sweep_run,
};

/* ======================================================================
 * Small helpers
 * ==================================================================== */

static double kp_sw_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Appends `arg` to a shell command, single-quoted when it needs quoting. */
static void kp_sw_shell_arg(char *buf, size_t cap, size_t *off, const char *arg) {
    bool plain = *arg != 0;
    for (const char *p = arg; *p; p++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./=:,+@%-", *p))
            plain = false;
    if (*off >= cap)
        return;
    if (plain) {
        *off += (size_t)snprintf(buf + *off, cap - *off, " %s", arg);
        return;
    }
    *off += (size_t)snprintf(buf + *off, cap - *off, " '");
    for (const char *p = arg; *p && *off < cap; p++)
        *off += (size_t)snprintf(buf + *off, cap - *off, *p == '\'' ? "'\\''" : "%c", *p);
    if (*off < cap)
        *off += (size_t)snprintf(buf + *off, cap - *off, "'");
}

static void kp_sw_xml(FILE *f, const char *s) {
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            /* XML 1.0 has no place for other control characters */
            fputc(c < 0x20 && c != '\t' && c != '\n' && c != '\r' ? '?' : c, f);
        }
    }
}

/* ======================================================================
 * Emitting results in seed order (shared by sweep and merge)
 * ==================================================================== */

typedef struct kp_sw_fail {
    uint64_t seed;
    char failure[256];
} kp_sw_fail;

typedef struct kp_sw_emit {
    const char *scenario_path;
    const char *name;
    const char *const *sets;
    size_t nsets;
    FILE *out;            /* --out, or NULL */
    FILE *junit;          /* the --junit file, opened first so a bad path fails early */
    FILE *junit_cases;    /* spooled <testcase> elements, or NULL */
    bool report;          /* keep a counter row per seed */
    uint64_t passed, failed, errors;
    kp_sw_fail *fails;    /* every failing seed, seed order */
    size_t nfails, fails_cap;
    rp_sweep_seed *rows;  /* --report */
    rp_metric *metrics;   /* ncols per row */
    char **row_failures;
    size_t nrows, rows_cap;
    bool oom;
} kp_sw_emit;

/* "kpsim run FILE --seed N --set ..." */
static void kp_sw_reproduce(const kp_sw_emit *e, uint64_t seed, char *buf, size_t cap) {
    size_t off = (size_t)snprintf(buf, cap, "kpsim run");
    kp_sw_shell_arg(buf, cap, &off, e->scenario_path);
    if (off < cap)
        off += (size_t)snprintf(buf + off, cap - off, " --seed %" PRIu64, seed);
    for (size_t i = 0; i < e->nsets; i++) {
        if (off < cap)
            off += (size_t)snprintf(buf + off, cap - off, " --set");
        kp_sw_shell_arg(buf, cap, &off, e->sets[i]);
    }
}

static const char *kp_sw_upper(sc_sweep_verdict v) {
    switch (v) {
    case SC_SWEEP_PASS: return "PASS";
    case SC_SWEEP_FAIL: return "FAIL";
    case SC_SWEEP_CRASH: return "CRASH";
    case SC_SWEEP_TIMEOUT: return "TIMEOUT";
    }
    return "?";
}

static void kp_sw_emit_seed(kp_sw_emit *e, const sc_sweep_seed *s) {
    char repro[2048];
    kp_sw_reproduce(e, s->seed, repro, sizeof repro);
    if (s->verdict == SC_SWEEP_PASS) {
        e->passed++;
    } else {
        e->failed++;
        e->errors += s->verdict != SC_SWEEP_FAIL;
        printf("%s seed %" PRIu64 ": %s  # %s\n", kp_sw_upper(s->verdict), s->seed, repro, s->failure);
        if (e->nfails == e->fails_cap) {
            size_t nc = e->fails_cap ? e->fails_cap * 2 : 16;
            kp_sw_fail *nf = realloc(e->fails, nc * sizeof *nf);
            if (!nf) {
                e->oom = true;
            } else {
                e->fails = nf;
                e->fails_cap = nc;
            }
        }
        if (e->nfails < e->fails_cap) {
            e->fails[e->nfails].seed = s->seed;
            snprintf(e->fails[e->nfails].failure, sizeof e->fails[0].failure, "%s", s->failure);
            e->nfails++;
        }
    }
    if (e->out)
        sc_sweep_write_seed(e->out, s);
    if (e->junit_cases) {
        FILE *f = e->junit_cases;
        fprintf(f, "  <testcase classname=\"kpsim.sweep.");
        kp_sw_xml(f, e->name);
        fprintf(f, "\" name=\"seed %" PRIu64 "\"", s->seed);
        if (s->verdict == SC_SWEEP_PASS) {
            fprintf(f, "/>\n");
        } else {
            const char *tag = s->verdict == SC_SWEEP_FAIL ? "failure" : "error";
            char key[256];
            sc_sweep_failure_key(s->failure, key, sizeof key);
            fprintf(f, ">\n    <%s type=\"", tag);
            kp_sw_xml(f, key);
            fprintf(f, "\" message=\"");
            kp_sw_xml(f, s->failure);
            fprintf(f, "\">");
            kp_sw_xml(f, s->failure);
            fprintf(f, "\nreproduce: ");
            kp_sw_xml(f, repro);
            fprintf(f, "</%s>\n  </testcase>\n", tag);
        }
    }
    if (e->report && !e->oom) {
        size_t nc = sc_sweep_counter_columns();
        if (e->nrows == e->rows_cap) {
            size_t cap = e->rows_cap ? e->rows_cap * 2 : 256;
            rp_sweep_seed *nr = realloc(e->rows, cap * sizeof *nr);
            if (nr)
                e->rows = nr;
            rp_metric *nm = nr ? realloc(e->metrics, cap * nc * sizeof *nm) : NULL;
            if (nm)
                e->metrics = nm;
            char **nf = nm ? realloc(e->row_failures, cap * sizeof *nf) : NULL;
            if (nf)
                e->row_failures = nf;
            if (!nf) {
                e->oom = true;
                return;
            }
            e->rows_cap = cap;
        }
        rp_metric *m = &e->metrics[e->nrows * nc];
        for (size_t c = 0; c < nc; c++)
            m[c] = (rp_metric){ .key = sc_sweep_counter_column_name(c),
                                .value = (double)s->counters[sc_sweep_counter_number(c)] };
        e->row_failures[e->nrows] = s->verdict == SC_SWEEP_PASS ? NULL : strdup(s->failure);
        e->rows[e->nrows] = (rp_sweep_seed){ .seed = s->seed, .passed = s->verdict == SC_SWEEP_PASS,
                                             .n_counters = nc };
        e->nrows++;
    }
}

/* Writes the JUnit file from the spooled test cases. 0 or -1. */
static int kp_sw_junit_finish(kp_sw_emit *e, const char *path) {
    FILE *f = e->junit;
    e->junit = NULL;
    uint64_t n = e->passed + e->failed;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"%" PRIu64 "\" failures=\"%" PRIu64
               "\" errors=\"%" PRIu64 "\">\n<testsuite name=\"kpsim.sweep.",
            n, e->failed - e->errors, e->errors);
    kp_sw_xml(f, e->name);
    fprintf(f, "\" tests=\"%" PRIu64 "\" failures=\"%" PRIu64 "\" errors=\"%" PRIu64 "\">\n", n,
            e->failed - e->errors, e->errors);
    fflush(e->junit_cases);
    rewind(e->junit_cases);
    char buf[8192];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, e->junit_cases)) > 0)
        fwrite(buf, 1, got, f);
    fprintf(f, "</testsuite>\n</testsuites>\n");
    if (fclose(f) != 0) {
        fprintf(stderr, "kpsim sweep: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

static int kp_sw_report_finish(kp_sw_emit *e, const char *dir) {
    if (e->oom) {
        fprintf(stderr, "kpsim sweep: --report: out of memory\n");
        return -1;
    }
    size_t nc = sc_sweep_counter_columns();
    for (size_t i = 0; i < e->nrows; i++) {
        e->rows[i].counters = &e->metrics[i * nc];
        e->rows[i].failure = e->row_failures[i];
    }
    /* the page builds "kpsim run SCENARIO --seed N": carry the --set too */
    char scen[2048];
    size_t off = 0;
    scen[0] = 0;
    kp_sw_shell_arg(scen, sizeof scen, &off, e->scenario_path);
    for (size_t i = 0; i < e->nsets; i++) {
        if (off < sizeof scen)
            off += (size_t)snprintf(scen + off, sizeof scen - off, " --set");
        kp_sw_shell_arg(scen, sizeof scen, &off, e->sets[i]);
    }
    rp_report_result res;
    int rc = rp_sweep_report_write(dir, scen + 1, e->rows, e->nrows, NULL, &res);
    if (rc < 0) {
        fprintf(stderr, "kpsim sweep: --report: %s\n", res.error);
        return -1;
    }
    if (rc > 0)
        fprintf(stderr, "kpsim sweep: --report: charts not drawn cleanly: %s\n",
                res.gnuplot_output[0] ? res.gnuplot_output : "gnuplot missing or failed");
    return 0;
}

static void kp_sw_emit_free(kp_sw_emit *e) {
    for (size_t i = 0; i < e->nrows; i++)
        free(e->row_failures[i]);
    free(e->row_failures);
    free(e->rows);
    free(e->metrics);
    free(e->fails);
    if (e->junit_cases)
        fclose(e->junit_cases);
    if (e->junit)
        fclose(e->junit);
    if (e->out)
        fclose(e->out);
}

/* Opens --out / the JUnit spool as asked. -1 when a file cannot be opened. */
static int kp_sw_emit_open(kp_sw_emit *e, const char *out_path, const char *junit_path, const sc_sweep_meta *meta) {
    if (out_path) {
        e->out = fopen(out_path, "w");
        if (!e->out) {
            fprintf(stderr, "kpsim sweep: cannot write %s: %s\n", out_path, strerror(errno));
            return -1;
        }
        sc_sweep_write_header(e->out, meta);
    }
    if (junit_path) {
        e->junit = fopen(junit_path, "w");
        if (!e->junit) {
            fprintf(stderr, "kpsim sweep: cannot write %s: %s\n", junit_path, strerror(errno));
            return -1;
        }
        e->junit_cases = tmpfile();
        if (!e->junit_cases) {
            fprintf(stderr, "kpsim sweep: --junit: no temporary file: %s\n", strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Trailer, JUnit, report; the final line. Returns the exit status. */
static int kp_sw_emit_finish(kp_sw_emit *e, const char *out_path, const char *junit_path, const char *report_dir,
                             bool inputs_ok) {
    int rc = e->failed ? KP_EXIT_FAILED : KP_EXIT_OK;
    if (e->out) {
        if (inputs_ok)
            sc_sweep_write_trailer(e->out, e->passed, e->failed);
        if (fclose(e->out) != 0) {
            fprintf(stderr, "kpsim sweep: cannot write %s\n", out_path);
            rc = KP_EXIT_USAGE;
        }
        e->out = NULL;
    }
    if (junit_path && kp_sw_junit_finish(e, junit_path) != 0)
        rc = KP_EXIT_USAGE;
    if (report_dir && kp_sw_report_finish(e, report_dir) != 0)
        rc = KP_EXIT_USAGE;
    if (!inputs_ok)
        rc = KP_EXIT_USAGE;
    printf("%" PRIu64 " passed, %" PRIu64 " failed\n", e->passed, e->failed);
    fflush(stdout);
    return rc;
}

/* ======================================================================
 * Running one seed in a child process
 * ==================================================================== */

typedef struct kp_sw_msg {     /* what a child writes into its pipe */
    int32_t rc;                /* sc_run's return */
    sc_run_result res;
} kp_sw_msg;

typedef struct kp_sw_child {
    pid_t pid;                 /* 0: slot free */
    int fd;
    int err_fd;                /* the child's stderr (a memfd), -1 if none */
    uint64_t seed;
    uint64_t index;            /* position in the shard */
    double deadline;
    kp_sw_msg msg;
    size_t got;
} kp_sw_child;

/* Test hooks for the sweep's own failure paths (tests/cli/test_sweep_*):
 * KPSIM_SWEEP_TEST_CRASH=SEEDS makes the child of those seeds say so on
 * stderr and die of SIGSEGV before it runs, KPSIM_SWEEP_TEST_HANG=SEEDS
 * makes it sleep forever. SEEDS: comma-separated "A" or "A..B". They touch
 * nothing but the child about to run that seed. */
static bool kp_sw_test_hook(const char *var, uint64_t seed) {
    const char *v = getenv(var);
    while (v && *v) {
        char one[64];
        size_t n = strcspn(v, ",");
        uint64_t a, b;
        if (n < sizeof one) {
            memcpy(one, v, n);
            one[n] = 0;
            if (sc_sweep_parse_seeds(one, &a, &b) && seed >= a && seed <= b)
                return true;
        }
        v += n + (v[n] == ',');
    }
    return false;
}

/* Ring slots beyond --jobs for results waiting to be emitted in seed order. */
#define KP_SW_SLACK 64

/* Forks a child running `sc` with `seed`. -1 when fork or pipe failed. */
static int kp_sw_spawn(kp_sw_child *c, const sc_scenario *sc, uint64_t seed, double timeout_s) {
    int p[2];
    if (pipe(p) != 0)
        return -1;
    /* what the child says on stderr (an assertion, a sanitizer report) is
     * kept, not shown: the last line goes into a crash's failure text */
    int err_fd = memfd_create("kpsim-sweep-stderr", MFD_CLOEXEC);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        if (err_fd >= 0)
            close(err_fd);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        if (err_fd >= 0)
            dup2(err_fd, STDERR_FILENO);
        signal(SIGPIPE, SIG_DFL);
        if (kp_sw_test_hook("KPSIM_SWEEP_TEST_CRASH", seed)) {
            fprintf(stderr, "kpsim: KPSIM_SWEEP_TEST_CRASH: seed %" PRIu64 " dies now\n", seed);
            signal(SIGSEGV, SIG_DFL);
            raise(SIGSEGV);
        }
        while (kp_sw_test_hook("KPSIM_SWEEP_TEST_HANG", seed))
            pause();
        kp_sw_msg m;
        memset(&m, 0, sizeof m);
        sc_run_opts opts = { .seed = seed, .seed_set = true };
        m.rc = sc_run(sc, &opts, &m.res);
        const uint8_t *b = (const uint8_t *)&m;
        size_t left = sizeof m;
        while (left) {
            ssize_t w = write(p[1], b, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                _exit(3);
            b += w;
            left -= (size_t)w;
        }
        _exit(0);
    }
    close(p[1]);
    c->pid = pid;
    c->fd = p[0];
    c->err_fd = err_fd;
    c->seed = seed;
    c->got = 0;
    c->deadline = kp_sw_now() + timeout_s;
    return 0;
}

/* Reads what is there; true when the child's pipe reached EOF. */
static bool kp_sw_read(kp_sw_child *c) {
    for (;;) {
        uint8_t scratch[256];
        uint8_t *dst = c->got < sizeof c->msg ? (uint8_t *)&c->msg + c->got : scratch;
        size_t cap = c->got < sizeof c->msg ? sizeof c->msg - c->got : sizeof scratch;
        ssize_t r = read(c->fd, dst, cap);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r == 0 || errno != EAGAIN;
        if (dst != scratch)
            c->got += (size_t)r;
        else
            c->got = sizeof c->msg + 1; /* more than a result: not ours */
        return false;
    }
}

/* What the child's stderr says about its death, at most cap - 1 bytes: a
 * sanitizer's "SUMMARY: ..." line when there is one, else the last line
 * that is not empty and not a sanitizer's "==PID==..." (which would make
 * the text differ run to run); "" when none. Closes the memfd. */
static void kp_sw_last_err_line(kp_sw_child *c, char *out, size_t cap) {
    out[0] = 0;
    if (c->err_fd < 0)
        return;
    char buf[16384];
    off_t end = lseek(c->err_fd, 0, SEEK_END);
    off_t from = end > (off_t)sizeof buf - 1 ? end - (off_t)(sizeof buf - 1) : 0;
    ssize_t n = end > 0 ? pread(c->err_fd, buf, (size_t)(end - from), from) : 0;
    close(c->err_fd);
    c->err_fd = -1;
    if (n <= 0)
        return;
    buf[n] = 0;
    char *summary = NULL;
    for (char *p = buf; (p = strstr(p, "SUMMARY: ")); p++)
        if (p == buf || p[-1] == '\n')
            summary = p;
    if (summary) {
        size_t l = strcspn(summary, "\n");
        if (l >= cap)
            l = cap - 1;
        memcpy(out, summary, l);
        out[l] = 0;
        return;
    }
    for (;;) {
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
            buf[--n] = 0;
        if (n == 0)
            return;
        char *line = strrchr(buf, '\n');
        line = line ? line + 1 : buf;
        if (strncmp(line, "==", 2)) {
            size_t l = strlen(line);
            if (l >= cap)
                l = cap - 1;
            memcpy(out, line, l);
            out[l] = 0;
            return;
        }
        n = line - buf;
        buf[n] = 0;
    }
}

/* The child's pipe is closed (or its time is up: kill first). Reaps it and
 * turns what it said into *out. */
static void kp_sw_finish(kp_sw_child *c, bool timed_out, double timeout_s, sc_sweep_seed *out) {
    if (timed_out)
        kill(c->pid, SIGKILL);
    int status = 0;
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {
    }
    close(c->fd);
    char said[160];
    kp_sw_last_err_line(c, said, sizeof said);
    memset(out, 0, sizeof *out);
    out->seed = c->seed;
    if (timed_out) {
        out->verdict = SC_SWEEP_TIMEOUT;
        snprintf(out->failure, sizeof out->failure, "timeout: no result after %g s of wall time (killed)",
                 timeout_s);
    } else if (c->got == sizeof c->msg && c->msg.rc == 0) {
        sc_sweep_seed_from_run(out, &c->msg.res);
        out->seed = c->seed;
    } else if (c->got == sizeof c->msg) {
        out->verdict = SC_SWEEP_FAIL;
        snprintf(out->failure, sizeof out->failure, "world: the runner could not build the world (sc_run returned %d)",
                 (int)c->msg.rc);
    } else {
        out->verdict = SC_SWEEP_CRASH;
        int k;
        if (WIFSIGNALED(status))
            k = snprintf(out->failure, sizeof out->failure, "crash: killed by signal %d (%s)", WTERMSIG(status),
                         strsignal(WTERMSIG(status)));
        else
            k = snprintf(out->failure, sizeof out->failure, "crash: exited with status %d without a result",
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        if (said[0] && k > 0 && (size_t)k < sizeof out->failure)
            snprintf(out->failure + k, sizeof out->failure - (size_t)k, ": %s", said);
    }
    c->pid = 0;
}

/* Runs one seed in a child and waits for it (the shrinker's runs). */
typedef struct kp_sw_single {
    double timeout_s;
} kp_sw_single;

static bool kp_sw_run_one(void *ctx, const sc_scenario *sc, uint64_t seed, sc_sweep_seed *out) {
    const kp_sw_single *s = ctx;
    kp_sw_child c = { 0 };
    if (kp_sw_spawn(&c, sc, seed, s->timeout_s) != 0)
        return false;
    for (;;) {
        double left = c.deadline - kp_sw_now();
        if (left <= 0) {
            kp_sw_finish(&c, true, s->timeout_s, out);
            return true;
        }
        struct pollfd pfd = { .fd = c.fd, .events = POLLIN };
        int n = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (n > 0 && kp_sw_read(&c)) {
            kp_sw_finish(&c, false, s->timeout_s, out);
            return true;
        }
    }
}

/* ======================================================================
 * Progress line (stderr, terminals only)
 * ==================================================================== */

typedef struct kp_sw_progress {
    bool on;
    double start, last;
    const char *name;
} kp_sw_progress;

static void kp_sw_progress_show(kp_sw_progress *p, uint64_t done, uint64_t total, uint64_t failed, bool force) {
    if (!p->on)
        return;
    double now = kp_sw_now();
    if (!force && now - p->last < 0.2)
        return;
    p->last = now;
    double el = now - p->start;
    double rate = el > 0 ? (double)done / el : 0;
    char eta[32] = "?";
    if (rate > 0) {
        uint64_t s = (uint64_t)((double)(total - done) / rate + 0.5);
        snprintf(eta, sizeof eta, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600, s / 60 % 60, s % 60);
    }
    fprintf(stderr, "\r\033[Ksweep %s  %" PRIu64 "/%" PRIu64 " seeds  %.1f/s  left %s  %" PRIu64 " failed", p->name,
            done, total, rate, eta, failed);
    fflush(stderr);
}

static void kp_sw_progress_clear(kp_sw_progress *p) {
    if (p->on) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }
}

/* ======================================================================
 * Shrinking the failing seeds
 * ==================================================================== */

static void kp_sw_shrink(const sc_scenario *sc, const kp_sw_emit *e, int max_seeds, int max_runs, double timeout_s,
                         const char *dir) {
    kp_sw_single ctx = { .timeout_s = timeout_s };
    for (size_t i = 0; i < e->nfails && (int)i < max_seeds; i++) {
        const kp_sw_fail *fl = &e->fails[i];
        if (!strncmp(fl->failure, "timeout", 7)) {
            printf("shrink seed %" PRIu64 ": not shrunk: a timeout (each try could take --timeout)\n", fl->seed);
            continue;
        }
        sc_sweep_shrink_result r;
        if (sc_sweep_shrink(sc, fl->seed, fl->failure, max_runs, kp_sw_run_one, &ctx, &r) != 0) {
            fprintf(stderr, "kpsim sweep: --shrink: out of memory\n");
            return;
        }
        if (!r.reproduced) {
            printf("shrink seed %" PRIu64 ": not shrunk: run again it %s%s — not deterministic "
                   "(tests/suites/determinism.sh)\n",
                   fl->seed, r.last_fail.verdict == SC_SWEEP_PASS ? "passed" : "failed differently: ",
                   r.last_fail.verdict == SC_SWEEP_PASS ? "" : r.last_fail.failure);
            kpsim__scenario__free_unpacked(r.scenario, NULL);
            continue;
        }
        printf("shrink seed %" PRIu64 ": %d runs, %d changes kept%s: %s\n", fl->seed, r.runs, r.kept,
               r.budget_exhausted ? " (run budget exhausted)" : "", r.summary);
        printf("shrink seed %" PRIu64 ": still fails with: %s\n", fl->seed, r.last_fail.failure);
        char *text = sc_sweep_textpb_string(&r.scenario->base, NULL);
        char path[4096] = "";
        if (dir && text) {
            mkdir(dir, 0777);
            snprintf(path, sizeof path, "%s/%s-seed%" PRIu64 ".textpb", dir, r.scenario->name, fl->seed);
            FILE *f = fopen(path, "w");
            if (!f || fprintf(f,
                              "# Shrunk by kpsim sweep --shrink from %s, seed %" PRIu64 " (%d runs).\n"
                              "# Fails with: %s\n%s",
                              e->scenario_path, fl->seed, r.runs, r.last_fail.failure, text) < 0 ||
                fclose(f) != 0) {
                fprintf(stderr, "kpsim sweep: cannot write %s\n", path);
                path[0] = 0;
            }
        }
        printf("---- shrunk scenario, seed %" PRIu64 " (run it: kpsim run %s) ----\n", fl->seed,
               path[0] ? path : "FILE.textpb");
        printf("# Shrunk by kpsim sweep --shrink from %s, seed %" PRIu64 " (%d runs).\n# Fails with: %s\n%s",
               e->scenario_path, fl->seed, r.runs, r.last_fail.failure, text ? text : "");
        printf("---- end of shrunk scenario ----\n");
        free(text);
        kpsim__scenario__free_unpacked(r.scenario, NULL);
    }
}

/* ======================================================================
 * kpsim sweep --merge
 * ==================================================================== */

static int kp_sw_seed_cmp(const void *a, const void *b) {
    uint64_t x = ((const sc_sweep_seed *)a)->seed, y = ((const sc_sweep_seed *)b)->seed;
    return x < y ? -1 : x > y;
}

static bool kp_sw_same_sets(const sc_sweep_file *a, const sc_sweep_file *b) {
    if (a->nsets != b->nsets)
        return false;
    for (size_t i = 0; i < a->nsets; i++)
        if (strcmp(a->sets[i], b->sets[i]))
            return false;
    return true;
}

/* Seeds lo..hi (lo <= hi) are missing: count them, list the first ten. */
static void kp_sw_note_missing(uint64_t lo, uint64_t hi, uint64_t *missing, char *list, size_t cap, size_t *off) {
    uint64_t s = lo;
    for (; *missing < 10; s++) {
        if (*off < cap)
            *off += (size_t)snprintf(list + *off, cap - *off, " %" PRIu64, s);
        ++*missing;
        if (s == hi)
            return;
    }
    *missing += hi - s + 1; /* s..hi: counted, not listed */
}

static int kp_sw_merge(char **files, size_t nfiles, const char *out_path, const char *junit_path,
                       const char *report_dir) {
    sc_sweep_file *fs = calloc(nfiles, sizeof *fs);
    if (!fs)
        return KP_EXIT_USAGE;
    int rc = KP_EXIT_USAGE;
    sc_sweep_seed *all = NULL;
    size_t total = 0;
    for (size_t i = 0; i < nfiles; i++) {
        sc_error err;
        if (!sc_sweep_file_read(files[i], &fs[i], &err)) {
            fprintf(stderr, "kpsim sweep --merge: %s\n", err.text);
            goto out;
        }
        total += fs[i].nseeds;
    }
    /* one sweep: same scenario, name, range, shard count, --set */
    const sc_sweep_file *f0 = &fs[0];
    for (size_t i = 1; i < nfiles; i++) {
        const sc_sweep_file *f = &fs[i];
        const char *what = strcmp(f->scenario_path, f0->scenario_path) ? "scenario"
                           : strcmp(f->name, f0->name)                  ? "scenario name"
                           : f->first != f0->first || f->last != f0->last ? "seed range"
                           : f->shard_count != f0->shard_count          ? "shard count"
                           : !kp_sw_same_sets(f, f0)                    ? "--set overrides"
                                                                        : NULL;
        if (what) {
            fprintf(stderr, "kpsim sweep --merge: %s and %s are not shards of one sweep: different %s\n",
                    f0->path, f->path, what);
            goto out;
        }
    }
    bool ok = true;
    /* which shards have a file, which files are unfinished */
    uint32_t n_shards = f0->shard_count;
    for (uint32_t s = 1; s <= n_shards; s++) {
        size_t have = 0;
        for (size_t i = 0; i < nfiles; i++)
            have += fs[i].shard_index == s;
        uint64_t start;
        if (!have && sc_sweep_shard_seeds(f0->first, f0->last, s, n_shards, &start)) {
            fprintf(stderr, "kpsim sweep --merge: missing shard %" PRIu32 "/%" PRIu32 ": no file\n", s, n_shards);
            ok = false;
        }
        if (have > 1) {
            fprintf(stderr, "kpsim sweep --merge: shard %" PRIu32 "/%" PRIu32 " given %zu times\n", s, n_shards,
                    have);
            ok = false;
        }
    }
    all = malloc((total ? total : 1) * sizeof *all);
    if (!all)
        goto out;
    size_t k = 0;
    for (size_t i = 0; i < nfiles; i++) {
        const sc_sweep_file *f = &fs[i];
        if (!f->complete) {
            fprintf(stderr, "kpsim sweep --merge: %s: incomplete (no \"# end\" line): that sweep did not finish\n",
                    f->path);
            ok = false;
        }
        for (size_t j = 0; j < f->nseeds; j++) {
            uint64_t sd = f->seeds[j].seed;
            if (sd < f->first || sd > f->last || !sc_sweep_in_shard(sd, f->first, f->shard_index, f->shard_count)) {
                fprintf(stderr, "kpsim sweep --merge: %s: seed %" PRIu64 " is not in shard %" PRIu32 "/%" PRIu32
                                " of %" PRIu64 "..%" PRIu64 "\n",
                        f->path, sd, f->shard_index, f->shard_count, f->first, f->last);
                ok = false;
                continue;
            }
            all[k++] = f->seeds[j];
        }
    }
    qsort(all, k, sizeof *all, kp_sw_seed_cmp);
    /* exactly once: duplicates and holes */
    uint64_t dups = 0, missing = 0, expect = f0->first;
    bool reached_last = false;
    char dlist[256] = "", mlist[256] = "";
    size_t doff = 0, moff = 0;
    for (size_t i = 0; i < k; i++) {
        uint64_t sd = all[i].seed;
        if (i > 0 && sd == all[i - 1].seed) {
            if (dups++ < 10 && doff < sizeof dlist)
                doff += (size_t)snprintf(dlist + doff, sizeof dlist - doff, " %" PRIu64, sd);
            continue;
        }
        if (sd > expect)
            kp_sw_note_missing(expect, sd - 1, &missing, mlist, sizeof mlist, &moff);
        reached_last = sd == f0->last;
        expect = sd + 1;
    }
    if (!reached_last)
        kp_sw_note_missing(expect, f0->last, &missing, mlist, sizeof mlist, &moff);
    if (dups) {
        fprintf(stderr, "kpsim sweep --merge: %" PRIu64 " seed(s) more than once:%s%s\n", dups, dlist,
                dups > 10 ? " ..." : "");
        ok = false;
    }
    if (missing) {
        fprintf(stderr, "kpsim sweep --merge: %" PRIu64 " seed(s) of %" PRIu64 "..%" PRIu64 " missing:%s%s\n", missing,
                f0->first, f0->last, mlist, missing > 10 ? " ..." : "");
        ok = false;
    }

    kp_sw_emit e = { .scenario_path = f0->scenario_path,
                     .name = f0->name,
                     .sets = (const char *const *)f0->sets,
                     .nsets = f0->nsets,
                     .report = report_dir != NULL };
    sc_sweep_meta meta = { .scenario_path = f0->scenario_path,
                           .name = f0->name,
                           .first = f0->first,
                           .last = f0->last,
                           .shard_index = 1,
                           .shard_count = 1,
                           .sets = (const char *const *)f0->sets,
                           .nsets = f0->nsets };
    if (kp_sw_emit_open(&e, out_path, junit_path, &meta) != 0) {
        kp_sw_emit_free(&e);
        goto out;
    }
    for (size_t i = 0; i < k; i++)
        if (i == 0 || all[i].seed != all[i - 1].seed)
            kp_sw_emit_seed(&e, &all[i]);
    rc = kp_sw_emit_finish(&e, out_path, junit_path, report_dir, ok);
    kp_sw_emit_free(&e);
out:
    free(all);
    for (size_t i = 0; i < nfiles; i++)
        sc_sweep_file_free(&fs[i]);
    free(fs);
    return rc;
}

/* ======================================================================
 * kpsim sweep SCENARIO --seeds A..B
 * ==================================================================== */

static int kp_sweep_run(int argc, char **argv) {
    const char *file = NULL, *seeds_arg = NULL, *out_path = NULL, *junit_path = NULL, *report_dir = NULL,
               *shrink_dir = NULL;
    uint32_t shard_i = 1, shard_n = 1;
    int64_t jobs = sysconf(_SC_NPROCESSORS_ONLN), shrink_max = 1, shrink_runs = 200, timeout_s = 300;
    bool shrink = false, merge = false;
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    char **merge_files = calloc((size_t)argc + 1, sizeof *merge_files);
    size_t nsets = 0, nmerge = 0;
    int rc = KP_EXIT_USAGE;
    if (!sets || !merge_files)
        goto out;
    if (jobs < 1)
        jobs = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--seeds")) {
            uint64_t x, y;
            if (!sc_sweep_parse_seeds(v, &x, &y)) {
                rc = kp_cli_usage(&kp_cmd_sweep, "--seeds needs A..B with A <= B (whole numbers), got '%s'",
                                  v ? v : "");
                goto out;
            }
            seeds_arg = v;
            i++;
        } else if (!strcmp(a, "--shard")) {
            if (!sc_sweep_parse_shard(v, &shard_i, &shard_n)) {
                rc = kp_cli_usage(&kp_cmd_sweep, "--shard needs I/N with 1 <= I <= N, got '%s'", v ? v : "");
                goto out;
            }
            i++;
        } else if (!strcmp(a, "--jobs") || !strcmp(a, "-j")) {
            if (!kp_cli_parse_i64(v, 1, 1024, &jobs)) {
                rc = kp_cli_usage(&kp_cmd_sweep, "--jobs needs a number in 1..1024, got '%s'", v ? v : "");
                goto out;
            }
            i++;
        } else if (!strcmp(a, "--timeout")) {
            if (!kp_cli_parse_i64(v, 1, 86400 * 7, &timeout_s)) {
                rc = kp_cli_usage(&kp_cmd_sweep, "--timeout needs seconds (1..604800), got '%s'", v ? v : "");
                goto out;
            }
            i++;
        } else if (!strcmp(a, "--shrink-max") || !strcmp(a, "--shrink-runs")) {
            int64_t *dst = a[9] == 'm' ? &shrink_max : &shrink_runs;
            if (!kp_cli_parse_i64(v, 1, 1000000, dst)) {
                rc = kp_cli_usage(&kp_cmd_sweep, "%s needs a positive whole number, got '%s'", a, v ? v : "");
                goto out;
            }
            shrink = true;
            i++;
        } else if (!strcmp(a, "--set")) {
            if (!v) {
                rc = kp_cli_usage(&kp_cmd_sweep, "--set needs key=value");
                goto out;
            }
            sets[nsets++] = v;
            i++;
        } else if (!strcmp(a, "--out") || !strcmp(a, "--junit") || !strcmp(a, "--report") ||
                   !strcmp(a, "--shrink-dir")) {
            if (!v || !*v) {
                rc = kp_cli_usage(&kp_cmd_sweep, "%s needs a path", a);
                goto out;
            }
            if (!strcmp(a, "--out"))
                out_path = v;
            else if (!strcmp(a, "--junit"))
                junit_path = v;
            else if (!strcmp(a, "--report"))
                report_dir = v;
            else
                shrink_dir = v, shrink = true;
            i++;
        } else if (!strcmp(a, "--shrink")) {
            shrink = true;
        } else if (!strcmp(a, "--merge")) {
            merge = true;
        } else if (a[0] == '-' && a[1]) {
            rc = kp_cli_usage(&kp_cmd_sweep, "unknown option '%s'", a);
            goto out;
        } else if (merge) {
            merge_files[nmerge++] = argv[i];
        } else if (!file) {
            file = a;
        } else {
            rc = kp_cli_usage(&kp_cmd_sweep, "one SCENARIO only (also got '%s'); --merge takes several files", a);
            goto out;
        }
    }
    if (merge) {
        if (file || seeds_arg || nsets || shrink || shard_n != 1) {
            rc = kp_cli_usage(&kp_cmd_sweep, "--merge takes result files (and --out, --junit, --report) only; "
                                             "the scenario, seeds and --set come from the files");
            goto out;
        }
        if (!nmerge) {
            rc = kp_cli_usage(&kp_cmd_sweep, "--merge needs at least one result file (from --out)");
            goto out;
        }
        rc = kp_sw_merge(merge_files, nmerge, out_path, junit_path, report_dir);
        goto out;
    }
    if (!file) {
        rc = kp_cli_usage(&kp_cmd_sweep, "give a SCENARIO file (kpsim list shows the catalog)");
        goto out;
    }
    if (!seeds_arg) {
        rc = kp_cli_usage(&kp_cmd_sweep, "give the seeds: --seeds A..B");
        goto out;
    }
    uint64_t first, last;
    sc_sweep_parse_seeds(seeds_arg, &first, &last);

    sc_error err;
    sc_scenario *sc = sc_scenario_load_with_sets(file, sets, nsets, &err);
    if (!sc) {
        fprintf(stderr, "%s\n", err.text);
        goto out;
    }
    const char *name = sc_scenario_proto(sc)->name;
    uint64_t start = 0, total = sc_sweep_shard_seeds(first, last, shard_i, shard_n, &start);

    kp_sw_emit e = { .scenario_path = file, .name = name, .sets = sets, .nsets = nsets, .report = report_dir != NULL };
    sc_sweep_meta meta = { .scenario_path = file, .name = name, .first = first, .last = last,
                           .shard_index = shard_i, .shard_count = shard_n, .sets = sets, .nsets = nsets };
    kp_sw_child *kids = calloc((size_t)jobs, sizeof *kids);
    uint64_t window = (uint64_t)jobs + KP_SW_SLACK; /* results that may wait to be emitted */
    sc_sweep_seed *ring = calloc((size_t)window, sizeof *ring);
    bool *ready = calloc((size_t)window, sizeof *ready);
    struct pollfd *pfds = calloc((size_t)jobs, sizeof *pfds);
    int *pmap = calloc((size_t)jobs, sizeof *pmap);
    if (!kids || !ring || !ready || !pfds || !pmap || kp_sw_emit_open(&e, out_path, junit_path, &meta) != 0) {
        rc = KP_EXIT_USAGE;
        goto done;
    }

    kp_sw_progress prog = { .on = kp_cli_is_tty(), .start = kp_sw_now(), .name = name };
    uint64_t next_start = 0, next_emit = 0;
    size_t running = 0;
    bool spawn_failed = false;
    while (next_emit < total) {
        /* start seeds while a child slot and a ring slot are free */
        while (running < (size_t)jobs && next_start < total && next_start < next_emit + window) {
            size_t slot = 0;
            while (kids[slot].pid)
                slot++;
            uint64_t seed = start + next_start * shard_n;
            if (kp_sw_spawn(&kids[slot], sc, seed, (double)timeout_s) != 0) {
                if (running == 0) {
                    fprintf(stderr, "kpsim sweep: cannot start a child process: %s\n", strerror(errno));
                    spawn_failed = true;
                    break;
                }
                break; /* wait for a child to end, then try again */
            }
            kids[slot].index = next_start++;
            running++;
        }
        if (spawn_failed)
            break;
        /* wait for output, an exit or the nearest deadline */
        double now = kp_sw_now(), wait_s = 0.25;
        int np = 0;
        for (int j = 0; j < jobs; j++)
            if (kids[j].pid) {
                pfds[np] = (struct pollfd){ .fd = kids[j].fd, .events = POLLIN };
                pmap[np++] = j;
                if (kids[j].deadline - now < wait_s)
                    wait_s = kids[j].deadline - now;
            }
        if (wait_s < 0)
            wait_s = 0;
        int n = poll(pfds, (nfds_t)np, (int)(wait_s * 1000) + 1);
        now = kp_sw_now();
        for (int q = 0; q < np; q++) {
            kp_sw_child *c = &kids[pmap[q]];
            bool eof = n > 0 && (pfds[q].revents & (POLLIN | POLLHUP | POLLERR)) && kp_sw_read(c);
            bool late = !eof && now >= c->deadline;
            if (eof || late) {
                size_t r = (size_t)(c->index % window);
                kp_sw_finish(c, late, (double)timeout_s, &ring[r]);
                ready[r] = true;
                running--;
            }
        }
        /* emit everything that is next in seed order */
        while (next_emit < total && ready[next_emit % window]) {
            size_t r = (size_t)(next_emit % window);
            kp_sw_emit_seed(&e, &ring[r]);
            ready[r] = false;
            next_emit++;
        }
        kp_sw_progress_show(&prog, next_emit, total, e.failed, false);
    }
    kp_sw_progress_show(&prog, next_emit, total, e.failed, true);
    kp_sw_progress_clear(&prog);
    if (spawn_failed) {
        for (int j = 0; j < jobs; j++)
            if (kids[j].pid) {
                sc_sweep_seed dummy;
                kp_sw_finish(&kids[j], true, (double)timeout_s, &dummy);
            }
        rc = KP_EXIT_USAGE;
        goto done;
    }
    if (shrink && e.nfails)
        kp_sw_shrink(sc, &e, (int)shrink_max, (int)shrink_runs, (double)timeout_s, shrink_dir);
    rc = kp_sw_emit_finish(&e, out_path, junit_path, report_dir, true);
done:
    kp_sw_emit_free(&e);
    free(kids);
    free(ring);
    free(ready);
    free(pfds);
    free(pmap);
    sc_scenario_free(sc);
out:
    free(sets);
    free(merge_files);
    return rc;
}
