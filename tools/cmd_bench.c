/*
 * cmd_bench.c — `kpsim bench`: the fixed benchmark workloads of issue 11,
 * each a whole judged run, timed on the wall clock, with a table.
 *
 *   workload            file (scenarios/bench/)   what
 *   throughput          throughput.textpb         1,000,000 x 100 B, 3 brokers, 6 partitions,
 *                                                 acks=all, idempotence, linger.ms=5
 *   compression-CODEC   throughput.textpb         the same, compression.type=CODEC
 *                                                 (gzip, snappy, lz4, zstd)
 *   faults              faults.textpb             100,000 records through leader moves, resets,
 *                                                 injected errors, a MESSAGE_TOO_LARGE window
 *   quiet-hour          quiet_hour.textpb         one simulated hour at 1,000 records/s
 *   sweep               sweep_chaos.textpb        1,000 seeds of a 10,000-record chaos run,
 *                                                 one forked child per seed, --jobs at a time
 *
 * Every workload runs in a forked child, so "peak RSS" (getrusage
 * ru_maxrss of that child) is the workload's own, not the maximum of all
 * that ran before it in this process; for the sweep it is the largest
 * child. A workload whose run fails a check (or does not acknowledge every
 * record where the workload promises it) still prints its numbers, and the
 * exit status is then 1: a fast wrong run is not a result.
 *
 * Columns: records acknowledged; simulated seconds (the run's end time,
 * summed over seeds for the sweep); wall seconds (CLOCK_MONOTONIC around
 * sc_run in the child, around the whole set of children for the sweep);
 * CPU seconds (user + system of the child(ren)); records/s on the wall
 * clock; simulated/wall time; peak RSS; simulation events per wall second.
 * With --only the last line is machine-readable:
 *   NAME records=N wall_s=X records_per_s=Y sim_s=Z peak_rss_kb=R cpu_s=C events_per_s=E
 * (and seeds=S seeds_per_s=Q for the sweep).
 *
 * Wall time is measured here on purpose (DESIGN.md: only tests must not
 * read the real clock). The workloads are scenario files, so `kpsim run
 * scenarios/bench/faults.textpb` replays one with the full report.
 */
#include "kp_cli.h"
#include "sc_runner.h"
#include "sc_scenario.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int kp_bench_run(int argc, char **argv);

const kp_cmd kp_cmd_bench = {
    .name = "bench",
    .synopsis = "bench [--only NAME] [--records N] [--seeds N] [--jobs N] [--in-process] [--root DIR]",
    .summary = "Run the benchmark workloads (scenarios/bench/) and print a table of wall-clock speed.",
    .help =
        "workloads: throughput, compression-gzip, compression-snappy, compression-lz4,\n"
        "           compression-zstd, faults, quiet-hour, sweep\n\n"
        "options:\n"
        "  --only NAME    run one workload; the last line is then machine-readable:\n"
        "                 NAME records=N wall_s=X records_per_s=Y sim_s=Z peak_rss_kb=R ...\n"
        "  --records N    records per run instead of the workload's own (sweep: per seed;\n"
        "                 quiet-hour: stop after N records or the hour, whichever first;\n"
        "                 faults: its schedule spans 0.8 simulated s, about 90,000\n"
        "                 records, and its expectations fail when a run ends earlier)\n"
        "  --seeds N      seeds of the sweep workload (1..N; default 1000)\n"
        "  --jobs N       child processes of the sweep at a time (default 2)\n"
        "  --in-process   run each workload in this process, not a forked child (for\n"
        "                 profilers: valgrind, perf); peak RSS is then the process's;\n"
        "                 not for the sweep\n"
        "  --root DIR     the checkout holding scenarios/bench/ (default: found from the\n"
        "                 executable's path, then the current directory)\n\n"
        "Every run is judged as by `kpsim run`; exit status 1 when one failed a check\n"
        "(its numbers are still printed). A progress line goes to stderr on a terminal.\n\n"
        "example:\n"
        "  kpsim bench --only throughput --records 200000\n",
    .run = kp_bench_run,
};

/* ======================================================================
 * workloads
 * ==================================================================== */

typedef struct kp_bench_wl {
    const char *name;
    const char *file;        /* under scenarios/bench/ */
    const char *set;         /* one --set, or NULL */
    bool all_acked;          /* every record of the workload must be acknowledged */
    bool sweep;
} kp_bench_wl;

static const kp_bench_wl kp_bench_wls[] = {
    { "throughput", "throughput.textpb", NULL, true, false },
    { "compression-gzip", "throughput.textpb", "producer.compression.type=gzip", true, false },
    { "compression-snappy", "throughput.textpb", "producer.compression.type=snappy", true, false },
    { "compression-lz4", "throughput.textpb", "producer.compression.type=lz4", true, false },
    { "compression-zstd", "throughput.textpb", "producer.compression.type=zstd", true, false },
    { "faults", "faults.textpb", NULL, true, false },
    { "quiet-hour", "quiet_hour.textpb", NULL, false, false },
    /* the sweep is judged by the scenario's own checks only: under its
     * chaos 2.1 legitimately fails a few records in ~1 seed of 500 (see
     * sweep_chaos.textpb); every invariant still has to hold */
    { "sweep", "sweep_chaos.textpb", NULL, false, true },
};
#define KP_BENCH_NWL (sizeof kp_bench_wls / sizeof kp_bench_wls[0])

/* What a child sends back through its pipe (plain values only). */
typedef struct kp_bench_child {
    int rc;                  /* sc_run's return */
    bool passed;
    int64_t sent, acked, failed;
    int64_t sim_end_us;
    uint64_t events;
    double wall_s;           /* around sc_run */
    char failure[256];
} kp_bench_child;

/* One row of the table. */
typedef struct kp_bench_row {
    const char *name;
    int64_t records;         /* acknowledged */
    int64_t expected;        /* records the workload should acknowledge (0: not checked) */
    double sim_s, wall_s, cpu_s;
    long peak_rss_kb;
    uint64_t events;
    int64_t seeds, seeds_failed, first_bad_seed;
    bool ok;
    char failure[300];
} kp_bench_row;

static double kp_bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double kp_bench_cpu(const struct rusage *ru) {
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 + (double)ru->ru_stime.tv_sec +
           (double)ru->ru_stime.tv_usec / 1e6;
}

/* ---- finding scenarios/bench/ ------------------------------------------ */

static bool kp_bench_has_dir(const char *root) {
    char p[PATH_MAX];
    struct stat st;
    if (snprintf(p, sizeof p, "%s/scenarios/bench/throughput.textpb", root) >= (int)sizeof p)
        return false;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool kp_bench_find_up(const char *start, char *out, size_t cap) {
    char d[PATH_MAX];
    if (snprintf(d, sizeof d, "%s", start) >= (int)sizeof d)
        return false;
    for (;;) {
        if (kp_bench_has_dir(d))
            return snprintf(out, cap, "%s", d) < (int)cap;
        char *slash = strrchr(d, '/');
        if (!slash || (slash == d && !d[1]))
            return false;
        if (slash == d)
            d[1] = 0;
        else
            *slash = 0;
    }
}

static bool kp_bench_find_root(char *out, size_t cap) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash && slash != exe) {
            *slash = 0;
            if (kp_bench_find_up(exe, out, cap))
                return true;
        }
    }
    char cwd[PATH_MAX];
    return getcwd(cwd, sizeof cwd) && kp_bench_find_up(cwd, out, cap);
}

/* Loads the workload's scenario with its --set and the record count
 * (records > 0 overrides the file's). The bench owns the loaded scenario,
 * so it edits the record count in the message and validates again. */
static sc_scenario *kp_bench_load(const char *root, const kp_bench_wl *wl, int64_t records) {
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/scenarios/bench/%s", root, wl->file) >= (int)sizeof path) {
        fprintf(stderr, "kpsim bench: path too long under %s\n", root);
        return NULL;
    }
    const char *sets[1] = { wl->set };
    sc_error err;
    sc_scenario *sc = sc_scenario_load_with_sets(path, sets, wl->set ? 1 : 0, &err);
    if (!sc) {
        fprintf(stderr, "%s\n", err.text);
        return NULL;
    }
    if (records > 0) {
        Kpsim__Scenario *m = (Kpsim__Scenario *)sc_scenario_proto(sc);
        for (size_t i = 0; i < m->n_producer; i++) {
            m->producer[i]->workload->has_records = 1;
            m->producer[i]->workload->records = records;
        }
        if (!sc_scenario_validate(sc, &err)) {
            fprintf(stderr, "%s (with --records %" PRId64 ")\n", err.text, records);
            sc_scenario_free(sc);
            return NULL;
        }
    }
    return sc;
}

/* Records the scenario's workloads promise to send (0 when by duration). */
static int64_t kp_bench_expected(const sc_scenario *sc) {
    const Kpsim__Scenario *m = sc_scenario_proto(sc);
    int64_t n = 0;
    for (size_t i = 0; i < m->n_producer; i++) {
        const Kpsim__Workload *w = m->producer[i]->workload;
        if (!w->has_records || w->has_duration_ms)
            return 0;
        n += w->records;
    }
    return n;
}

/* ---- children ------------------------------------------------------------ */

static void kp_bench_child_main(const sc_scenario *sc, uint64_t seed, bool seed_set, int fd) {
    kp_bench_child c;
    memset(&c, 0, sizeof c);
    sc_run_opts opts = { .seed = seed, .seed_set = seed_set, .quiet = true };
    sc_run_result res;
    double t0 = kp_bench_now();
    c.rc = sc_run(sc, &opts, &res);
    c.wall_s = kp_bench_now() - t0;
    if (c.rc == 0) {
        c.passed = res.passed;
        c.sent = res.sent;
        c.acked = res.acked;
        c.failed = res.failed;
        c.sim_end_us = res.sim_end_us;
        c.events = res.events;
        snprintf(c.failure, sizeof c.failure, "%s", res.first_failure);
    } else {
        snprintf(c.failure, sizeof c.failure, "the world could not be built");
    }
    const char *p = (const char *)&c;
    size_t left = sizeof c;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(3);
        p += n;
        left -= (size_t)n;
    }
    _exit(0);
}

typedef struct kp_bench_proc {
    pid_t pid;
    int fd;
    uint64_t seed;
} kp_bench_proc;

static bool kp_bench_spawn(const sc_scenario *sc, uint64_t seed, bool seed_set, kp_bench_proc *out) {
    int fds[2];
    if (pipe(fds) != 0) {
        perror("kpsim bench: pipe");
        return false;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("kpsim bench: fork");
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (pid == 0) {
        close(fds[0]);
        kp_bench_child_main(sc, seed, seed_set, fds[1]);
    }
    close(fds[1]);
    *out = (kp_bench_proc){ pid, fds[0], seed };
    return true;
}

/* Reads a finished child's result; false when it died without one. */
static bool kp_bench_collect(kp_bench_proc *p, int status, kp_bench_child *c) {
    memset(c, 0, sizeof *c);
    char *q = (char *)c;
    size_t got = 0;
    while (got < sizeof *c) {
        ssize_t n = read(p->fd, q + got, sizeof *c - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(p->fd);
    p->fd = -1;
    if (got == sizeof *c && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return true;
    memset(c, 0, sizeof *c);
    c->rc = -1;
    if (WIFSIGNALED(status))
        snprintf(c->failure, sizeof c->failure, "the run died of signal %d", WTERMSIG(status));
    else
        snprintf(c->failure, sizeof c->failure, "the run exited %d without a result",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return false;
}

static void kp_bench_judge(kp_bench_row *row, const kp_bench_child *c, uint64_t seed) {
    bool ok = c->rc == 0 && c->passed;
    const char *why = c->failure;
    char buf[96];
    if (ok && row->expected && c->acked != row->expected / (row->seeds ? row->seeds : 1)) {
        ok = false;
        snprintf(buf, sizeof buf, "%" PRId64 " of %" PRId64 " records acknowledged", c->acked,
                 row->expected / (row->seeds ? row->seeds : 1));
        why = buf;
    }
    if (!ok) {
        row->seeds_failed++;
        if (row->ok) {
            row->ok = false;
            row->first_bad_seed = (int64_t)seed;
            snprintf(row->failure, sizeof row->failure, "%s", why);
        }
    }
}

/* One workload in this process (--in-process). */
static void kp_bench_inline(const sc_scenario *sc, kp_bench_row *row) {
    kp_bench_child c;
    memset(&c, 0, sizeof c);
    sc_run_opts opts = { .quiet = true };
    sc_run_result res;
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    double t0 = kp_bench_now();
    c.rc = sc_run(sc, &opts, &res);
    c.wall_s = kp_bench_now() - t0;
    getrusage(RUSAGE_SELF, &r1);
    if (c.rc == 0) {
        c.passed = res.passed;
        c.acked = res.acked;
        c.sim_end_us = res.sim_end_us;
        c.events = res.events;
        snprintf(c.failure, sizeof c.failure, "%s", res.first_failure);
    } else {
        snprintf(c.failure, sizeof c.failure, "the world could not be built");
    }
    row->records = c.acked;
    row->sim_s = (double)c.sim_end_us / 1e6;
    row->wall_s = c.wall_s;
    row->cpu_s = kp_bench_cpu(&r1) - kp_bench_cpu(&r0);
    row->peak_rss_kb = r1.ru_maxrss;
    row->events = c.events;
    kp_bench_judge(row, &c, sc_scenario_proto(sc)->seed);
}

/* One workload, one child. */
static bool kp_bench_single(const sc_scenario *sc, kp_bench_row *row) {
    kp_bench_proc p;
    if (!kp_bench_spawn(sc, 0, false, &p))
        return false;
    int status = 0;
    struct rusage ru;
    while (wait4(p.pid, &status, 0, &ru) < 0)
        if (errno != EINTR) {
            perror("kpsim bench: wait4");
            return false;
        }
    kp_bench_child c;
    kp_bench_collect(&p, status, &c);
    row->records = c.acked;
    row->sim_s = (double)c.sim_end_us / 1e6;
    row->wall_s = c.wall_s;
    row->cpu_s = kp_bench_cpu(&ru);
    row->peak_rss_kb = ru.ru_maxrss;
    row->events = c.events;
    row->seeds = 0;
    kp_bench_judge(row, &c, sc_scenario_proto(sc)->seed);
    return true;
}

static void kp_bench_progress(const char *name, int64_t done, int64_t total, double elapsed) {
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    double left = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\r%s: %" PRId64 "/%" PRId64 " seeds, %.1f seeds/s, %.0f s left   ", name, done, total, rate,
            left);
    fflush(stderr);
}

/* Seeds 1..nseeds, `jobs` children at a time, one per seed. */
static bool kp_bench_sweep(const sc_scenario *sc, int64_t nseeds, int jobs, kp_bench_row *row) {
    kp_bench_proc *procs = calloc((size_t)jobs, sizeof *procs);
    if (!procs)
        return false;
    bool tty = kp_cli_is_tty();
    int running = 0;
    int64_t next = 1, done = 0;
    double t0 = kp_bench_now(), last_progress = 0;
    row->seeds = nseeds;
    bool ok = true;
    while (done < nseeds) {
        while (ok && running < jobs && next <= nseeds) {
            int slot = 0;
            while (procs[slot].pid)
                slot++;
            if (!kp_bench_spawn(sc, (uint64_t)next, true, &procs[slot])) {
                ok = false;
                break;
            }
            next++;
            running++;
        }
        if (!running)
            break;
        int status = 0;
        struct rusage ru;
        pid_t pid = wait4(-1, &status, 0, &ru);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            perror("kpsim bench: wait4");
            ok = false;
            break;
        }
        int slot = -1;
        for (int i = 0; i < jobs; i++)
            if (procs[i].pid == pid)
                slot = i;
        if (slot < 0)
            continue;
        kp_bench_child c;
        kp_bench_collect(&procs[slot], status, &c);
        row->records += c.acked;
        row->sim_s += (double)c.sim_end_us / 1e6;
        row->cpu_s += kp_bench_cpu(&ru);
        if (ru.ru_maxrss > row->peak_rss_kb)
            row->peak_rss_kb = ru.ru_maxrss;
        row->events += c.events;
        kp_bench_judge(row, &c, procs[slot].seed);
        procs[slot].pid = 0;
        running--;
        done++;
        double now = kp_bench_now();
        if (tty && (now - last_progress > 0.25 || done == nseeds)) {
            kp_bench_progress(row->name, done, nseeds, now - t0);
            last_progress = now;
        }
    }
    row->wall_s = kp_bench_now() - t0;
    if (tty)
        fprintf(stderr, "\r%*s\r", 70, "");
    free(procs);
    return ok && done == nseeds;
}

/* ======================================================================
 * the table
 * ==================================================================== */

static void kp_bench_header(void) {
    printf("%-19s %10s %9s %8s %8s %12s %9s %9s %12s\n", "workload", "records", "sim s", "wall s", "cpu s",
           "records/s", "sim/wall", "peak RSS", "events/s");
}

static void kp_bench_print(const kp_bench_row *r) {
    double w = r->wall_s > 0 ? r->wall_s : 1e-9;
    printf("%-19s %10" PRId64 " %9.3f %8.3f %8.3f %12.0f %9.1f %6.1f MB %12.0f%s\n", r->name, r->records, r->sim_s,
           r->wall_s, r->cpu_s, (double)r->records / w, r->sim_s / w, (double)r->peak_rss_kb / 1024.0,
           (double)r->events / w, r->ok ? "" : "  FAILED");
}

static void kp_bench_machine_line(const kp_bench_row *r) {
    double w = r->wall_s > 0 ? r->wall_s : 1e-9;
    printf("%s records=%" PRId64 " wall_s=%.3f records_per_s=%.0f sim_s=%.3f peak_rss_kb=%ld cpu_s=%.3f "
           "events_per_s=%.0f",
           r->name, r->records, r->wall_s, (double)r->records / w, r->sim_s, r->peak_rss_kb, r->cpu_s,
           (double)r->events / w);
    if (r->seeds)
        printf(" seeds=%" PRId64 " seeds_per_s=%.1f", r->seeds, (double)r->seeds / w);
    printf("\n");
}

/* ======================================================================
 * the command
 * ==================================================================== */

static int kp_bench_run(int argc, char **argv) {
    const char *only = NULL;
    int64_t records = 0, seeds = 1000, jobs = 2;
    bool in_process = false;
    char root[PATH_MAX] = "";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--only")) {
            if (!v)
                return kp_cli_usage(&kp_cmd_bench, "--only needs a workload name");
            only = v;
            i++;
        } else if (!strcmp(a, "--records")) {
            if (!kp_cli_parse_i64(v, 1, INT64_C(1) << 40, &records))
                return kp_cli_usage(&kp_cmd_bench, "--records needs a positive whole number");
            i++;
        } else if (!strcmp(a, "--seeds")) {
            if (!kp_cli_parse_i64(v, 1, 100000000, &seeds))
                return kp_cli_usage(&kp_cmd_bench, "--seeds needs a positive whole number");
            i++;
        } else if (!strcmp(a, "--jobs")) {
            if (!kp_cli_parse_i64(v, 1, 1024, &jobs))
                return kp_cli_usage(&kp_cmd_bench, "--jobs needs a whole number 1..1024");
            i++;
        } else if (!strcmp(a, "--in-process")) {
            in_process = true;
        } else if (!strcmp(a, "--root")) {
            if (!v || snprintf(root, sizeof root, "%s", v) >= (int)sizeof root)
                return kp_cli_usage(&kp_cmd_bench, "--root needs a directory");
            if (!kp_bench_has_dir(root))
                return kp_cli_usage(&kp_cmd_bench, "--root %s: no scenarios/bench/ there", root);
            i++;
        } else {
            return kp_cli_usage(&kp_cmd_bench, "unknown argument '%s'", a);
        }
    }
    const kp_bench_wl *sel = NULL;
    if (only) {
        for (size_t i = 0; i < KP_BENCH_NWL; i++)
            if (!strcmp(kp_bench_wls[i].name, only))
                sel = &kp_bench_wls[i];
        if (!sel)
            return kp_cli_usage(&kp_cmd_bench, "no workload '%s' (throughput, compression-gzip, "
                                "compression-snappy, compression-lz4, compression-zstd, faults, "
                                "quiet-hour, sweep)", only);
    }
    if (in_process && (!sel || sel->sweep))
        return kp_cli_usage(&kp_cmd_bench, "--in-process needs --only with a workload other than sweep");
    if (!root[0] && !kp_bench_find_root(root, sizeof root)) {
        fprintf(stderr, "kpsim bench: cannot find scenarios/bench/ from the executable's path or the "
                        "current directory; use --root DIR\n");
        return KP_EXIT_USAGE;
    }

    kp_bench_header();
    fflush(stdout);
    bool all_ok = true;
    kp_bench_row last;
    memset(&last, 0, sizeof last);
    for (size_t i = 0; i < KP_BENCH_NWL; i++) {
        const kp_bench_wl *wl = &kp_bench_wls[i];
        if (sel && wl != sel)
            continue;
        sc_scenario *sc = kp_bench_load(root, wl, records);
        if (!sc)
            return KP_EXIT_USAGE;
        kp_bench_row row;
        memset(&row, 0, sizeof row);
        row.name = wl->name;
        row.ok = true;
        row.first_bad_seed = -1;
        if (kp_cli_is_tty() && !wl->sweep) {
            fprintf(stderr, "%s: running...", wl->name);
            fflush(stderr);
        }
        bool ran;
        if (wl->sweep) {
            row.expected = wl->all_acked ? kp_bench_expected(sc) * seeds : 0;
            ran = kp_bench_sweep(sc, seeds, (int)jobs, &row);
        } else if (in_process) {
            row.expected = wl->all_acked ? kp_bench_expected(sc) : 0;
            kp_bench_inline(sc, &row);
            ran = true;
        } else {
            row.expected = wl->all_acked ? kp_bench_expected(sc) : 0;
            ran = kp_bench_single(sc, &row);
        }
        if (kp_cli_is_tty() && !wl->sweep)
            fprintf(stderr, "\r%*s\r", 40, "");
        sc_scenario_free(sc);
        if (!ran) {
            fprintf(stderr, "kpsim bench: %s: could not run its child processes\n", wl->name);
            return KP_EXIT_FAILED;
        }
        kp_bench_print(&row);
        if (!row.ok) {
            all_ok = false;
            if (row.seeds)
                printf("  %s: %" PRId64 " of %" PRId64 " seeds failed; first: seed %" PRId64 ": %s\n", wl->name,
                       row.seeds_failed, row.seeds, row.first_bad_seed, row.failure);
            else
                printf("  %s: FAILED: %s (kpsim run scenarios/bench/%s%s%s)\n", wl->name, row.failure, wl->file,
                       wl->set ? " --set " : "", wl->set ? wl->set : "");
        }
        fflush(stdout);
        last = row;
    }
    if (!sel)
        printf("(sweep: %" PRId64 " seeds, %" PRId64 " jobs; one child process per seed; peak RSS of the "
               "largest child)\n", seeds, jobs);
    if (sel)
        kp_bench_machine_line(&last);
    return all_ok ? KP_EXIT_OK : KP_EXIT_FAILED;
}
