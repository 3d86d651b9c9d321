/*
 * rdk_compare.c — `make bench-compare`: benchmark workloads (a) and (c) of
 * issue 11 through librdkafka's own in-process mock cluster, kpsim's
 * `kpsim bench --only` runs of the same shapes in the same invocation, and
 * the ratio of the two.
 *
 *   rdk_compare [--kpsim PATH] [--records N] [--fault-records N] [--no-kpsim]
 *               [--only throughput|faults|faults-timeline] [--runs N] [--timeline-runs N]
 *
 * librdkafka side (Debian's librdkafka 2.x, linked only into this program):
 *   throughput  N = 1,000,000 messages of 100 bytes, keyless, to a topic of
 *               6 partitions (replication 3) on a 3-broker mock cluster
 *               (test.mock.num.brokers=3), acks=all, enable.idempotence,
 *               linger.ms=5; the clock runs from the first produce() to
 *               the end of flush() (every delivery report in).
 *   faults      the same shape with 100,000 messages; while they are being
 *               produced, at 10% / 30% / 50% / 70% / 90% of the messages
 *               enqueued: Produce errors pushed onto the mock
 *               (NOT_LEADER_FOR_PARTITION x3, REQUEST_TIMED_OUT x3), partition
 *               leaders moved to another broker, and one broker taken down
 *               and up again (its connections drop). librdkafka has no
 *               batch splitting, so the MESSAGE_TOO_LARGE window of kpsim's
 *               workload has no counterpart here; retries back off on the
 *               real clock (retry.backoff.ms=10 as in kpsim's scenario).
 *   faults on kpsim's timeline
 *               the faults workload replayed on the wall clock the way
 *               kpsim's scenario (scenarios/bench/faults.textpb) runs it
 *               on its simulated clock: message i is produced at
 *               i x (kpsim's simulated seconds / N) — the pace kpsim's
 *               producer reached in simulation (0.8 s for 100,000 when
 *               --no-kpsim) — and each of the scenario's faults at its
 *               at_ms (leader moves, the per-broker NOT_LEADER /
 *               REQUEST_TIMED_OUT answers with their delay, connection
 *               drops as broker down+up); the message.max.bytes window has
 *               no counterpart. Its wall time swings with librdkafka's
 *               reconnect backoff, so the row is the median of
 *               --timeline-runs runs (default 5), with the range. This is the run a user without simulated
 *               time has to wait for to see that shape of faults.
 * Every workload runs in a forked child, so the peak RSS is its own.
 * This machine's speed swings from minute to minute (shared 2-core VMs:
 * 1.5x seen), so `throughput` and `faults` run --runs times (default 3)
 * on each side, the two sides alternately, and each row is its side's
 * median run, with the range; the ratio is of the medians.
 *
 * The two sides are NOT the same work: librdkafka moves real bytes through
 * real loopback sockets and threads in real time; kpsim simulates the
 * network and the brokers on a virtual clock AND checks every record
 * (exactly one callback, in the final log at its offset with its bytes,
 * no duplicates, order). The ratio answers a user's question — "how many
 * runs of this shape per minute can I afford with each?" — not "which
 * producer is faster".
 *
 * Exit: 0 when every run delivered every message (and kpsim's runs
 * passed), 1 otherwise, 2 for bad usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RDK_TOPIC "bench"
#define RDK_PARTITIONS 6
#define RDK_BROKERS 3
#define RDK_VALUE 100
#define RDK_API_PRODUCE 0 /* Kafka API key of Produce */

typedef struct rdk_result {
    bool ran;
    int64_t delivered, failed;
    double wall_s, cpu_s;
    long peak_rss_kb;
    char error[200];
} rdk_result;

static double rdk_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rdk_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    rdk_result *r = opaque;
    if (m->err)
        r->failed++;
    else
        r->delivered++;
}

static bool rdk_set(rd_kafka_conf_t *conf, const char *k, const char *v, rdk_result *r) {
    char err[256];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
        snprintf(r->error, sizeof r->error, "%.40s=%.40s: %.100s", k, v, err);
        return false;
    }
    return true;
}

/* Fault step i of 5 (faults workload only). */
static void rdk_fault(rd_kafka_mock_cluster_t *mc, int step) {
    switch (step) {
    case 0:
        rd_kafka_mock_push_request_errors(mc, RDK_API_PRODUCE, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                          RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                          RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
        rd_kafka_mock_partition_set_leader(mc, RDK_TOPIC, 0, 2);
        break;
    case 1:
        rd_kafka_mock_broker_set_down(mc, 3);
        rd_kafka_mock_broker_set_up(mc, 3);
        break;
    case 2:
        rd_kafka_mock_push_request_errors(mc, RDK_API_PRODUCE, 3, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                          RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
        rd_kafka_mock_partition_set_leader(mc, RDK_TOPIC, 3, 3);
        break;
    case 3:
        rd_kafka_mock_partition_set_leader(mc, RDK_TOPIC, 5, 1);
        rd_kafka_mock_push_request_errors(mc, RDK_API_PRODUCE, 2, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                          RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
        break;
    default:
        rd_kafka_mock_partition_set_leader(mc, RDK_TOPIC, 1, 3);
        break;
    }
}

/* The faults of scenarios/bench/faults.textpb, in time order; kpsim's broker
 * ids are 0-based, the mock cluster's 1-based. */
enum { RDK_TF_LEADER, RDK_TF_ERRORS, RDK_TF_DROP, RDK_TF_NONE };
typedef struct rdk_tfault {
    int at_ms, kind;
    int32_t broker; /* RDK_TF_LEADER: new leader; RDK_TF_ERRORS/RDK_TF_DROP: broker, -1 = all */
    int32_t partition;
    rd_kafka_resp_err_t err;
    int count, rtt_ms;
} rdk_tfault;

static const rdk_tfault rdk_timeline[] = {
    { 100, RDK_TF_LEADER, 1 + 1, 0, RD_KAFKA_RESP_ERR_NO_ERROR, 0, 0 },
    { 150, RDK_TF_ERRORS, 1 + 1, 0, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, 3, 0 },
    { 250, RDK_TF_DROP, 2 + 1, 0, RD_KAFKA_RESP_ERR_NO_ERROR, 0, 0 },
    { 300, RDK_TF_ERRORS, 0 + 1, 0, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, 3, 20 },
    { 400, RDK_TF_LEADER, 2 + 1, 3, RD_KAFKA_RESP_ERR_NO_ERROR, 0, 0 },
    { 450, RDK_TF_NONE, 0, 0, RD_KAFKA_RESP_ERR_NO_ERROR, 0, 0 }, /* message.max.bytes=4000: no counterpart */
    { 500, RDK_TF_NONE, 0, 0, RD_KAFKA_RESP_ERR_NO_ERROR, 0, 0 }, /* ... and back */
    { 600, RDK_TF_DROP, -1, 0, RD_KAFKA_RESP_ERR_NO_ERROR, 0, 0 },
    { 700, RDK_TF_LEADER, 0 + 1, 5, RD_KAFKA_RESP_ERR_NO_ERROR, 0, 0 },
    { 750, RDK_TF_ERRORS, 2 + 1, 0, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, 2, 0 },
};
#define RDK_TIMELINE_N (int)(sizeof rdk_timeline / sizeof rdk_timeline[0])

static void rdk_tfault_apply(rd_kafka_mock_cluster_t *mc, const rdk_tfault *f) {
    switch (f->kind) {
    case RDK_TF_LEADER:
        rd_kafka_mock_partition_set_leader(mc, RDK_TOPIC, f->partition, f->broker);
        break;
    case RDK_TF_ERRORS:
        for (int i = 0; i < f->count; i++)
            rd_kafka_mock_broker_push_request_error_rtts(mc, f->broker, RDK_API_PRODUCE, 1, f->err, f->rtt_ms);
        break;
    case RDK_TF_DROP:
        rd_kafka_mock_broker_set_down(mc, f->broker);
        rd_kafka_mock_broker_set_up(mc, f->broker);
        break;
    default:
        break;
    }
}

/* Applies every timeline fault due at elapsed milliseconds ms. */
static void rdk_timeline_due(rd_kafka_mock_cluster_t *mc, double ms, int *next) {
    while (*next < RDK_TIMELINE_N && rdk_timeline[*next].at_ms <= ms)
        rdk_tfault_apply(mc, &rdk_timeline[(*next)++]);
}

/* pace_s > 0: the timeline run (messages spread over pace_s seconds, faults
 * at their times); faults without pace_s: the progress-driven fault run. */
static void rdk_workload(int64_t n, bool faults, double pace_s, rdk_result *r) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512];
    if (!rdk_set(conf, "test.mock.num.brokers", "3", r) || !rdk_set(conf, "acks", "all", r) ||
        !rdk_set(conf, "enable.idempotence", "true", r) || !rdk_set(conf, "linger.ms", "5", r) ||
        !rdk_set(conf, "retry.backoff.ms", "10", r) || !rdk_set(conf, "log_level", "0", r) ||
        !rdk_set(conf, "queue.buffering.max.messages", "1000000", r)) {
        rd_kafka_conf_destroy(conf);
        return;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, rdk_dr);
    rd_kafka_conf_set_opaque(conf, r);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        snprintf(r->error, sizeof r->error, "rd_kafka_new: %.150s", err);
        return;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(rk);
    if (!mc || rd_kafka_mock_topic_create(mc, RDK_TOPIC, RDK_PARTITIONS, RDK_BROKERS) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(r->error, sizeof r->error, "no mock cluster / topic");
        rd_kafka_destroy(rk);
        return;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, RDK_TOPIC, NULL);
    char value[RDK_VALUE];
    memset(value, 'v', sizeof value);
    int next_fault = 0;
    double t0 = rdk_now();
    for (int64_t i = 0; i < n; i++) {
        if (pace_s > 0) {
            double due = pace_s * (double)i / (double)n;
            for (;;) {
                double el = rdk_now() - t0;
                rdk_timeline_due(mc, el * 1000.0, &next_fault);
                if (el >= due)
                    break;
                int wait_ms = (int)((due - el) * 1000.0);
                rd_kafka_poll(rk, wait_ms > 0 ? wait_ms : 0);
                if (wait_ms <= 0)
                    break;
            }
        } else if (faults && next_fault < 5 && i >= n * (2 * next_fault + 1) / 10)
            rdk_fault(mc, next_fault++);
        while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, value, sizeof value, NULL, 0,
                                NULL) != 0) {
            if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                snprintf(r->error, sizeof r->error, "produce: %s", rd_kafka_err2str(rd_kafka_last_error()));
                goto out;
            }
            rd_kafka_poll(rk, 1);
        }
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    /* The timeline run ends when every message is reported and every fault
     * of the schedule has happened. */
    while (pace_s > 0 && next_fault < RDK_TIMELINE_N) {
        double el_ms = (rdk_now() - t0) * 1000.0;
        rdk_timeline_due(mc, el_ms, &next_fault);
        if (next_fault < RDK_TIMELINE_N)
            rd_kafka_poll(rk, (int)(rdk_timeline[next_fault].at_ms - el_ms) + 1);
    }
    while (rd_kafka_flush(rk, 60000) == RD_KAFKA_RESP_ERR__TIMED_OUT && r->delivered + r->failed < n)
        ;
    r->wall_s = rdk_now() - t0;
    r->ran = true;
out:
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
}

/* Runs one librdkafka workload in a child; fills *r. */
static void rdk_run_child(int64_t n, bool faults, double pace_s, rdk_result *r) {
    memset(r, 0, sizeof *r);
    int fds[2];
    if (pipe(fds) != 0) {
        snprintf(r->error, sizeof r->error, "pipe: %s", strerror(errno));
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        rdk_result c;
        memset(&c, 0, sizeof c);
        rdk_workload(n, faults, pace_s, &c);
        ssize_t w = write(fds[1], &c, sizeof c);
        _exit(w == (ssize_t)sizeof c ? 0 : 3);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        snprintf(r->error, sizeof r->error, "fork: %s", strerror(errno));
        return;
    }
    size_t got = 0;
    while (got < sizeof *r) {
        ssize_t k = read(fds[0], (char *)r + got, sizeof *r - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fds[0]);
    int status = 0;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
        ;
    if (got != sizeof *r) {
        memset(r, 0, sizeof *r);
        snprintf(r->error, sizeof r->error, "the librdkafka run died (status %d)", status);
        return;
    }
    r->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
               (double)ru.ru_stime.tv_usec / 1e6;
    r->peak_rss_kb = ru.ru_maxrss;
}

/* kpsim's run of the same workload: the last line of `kpsim bench --only`. */
typedef struct kp_line {
    bool ok;
    int64_t records;
    double wall_s, cpu_s, rps, sim_s;
    long rss_kb;
    double lo_s, hi_s; /* set by kp_median: the fastest and slowest of the runs */
} kp_line;

static void kpsim_run(const char *kpsim, const char *name, int64_t records, kp_line *out) {
    memset(out, 0, sizeof *out);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' bench --only %s --records %" PRId64 " 2>&1", kpsim, name, records);
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    char line[1024], last[1024] = "";
    while (fgets(line, sizeof line, p))
        memcpy(last, line, sizeof last);
    int rc = pclose(p);
    char nm[64];
    if (sscanf(last, "%63s records=%" SCNd64 " wall_s=%lf records_per_s=%lf sim_s=%lf peak_rss_kb=%ld cpu_s=%lf",
               nm, &out->records, &out->wall_s, &out->rps, &out->sim_s, &out->rss_kb, &out->cpu_s) == 7 &&
        !strcmp(nm, name))
        out->ok = WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

static void print_row(const char *wl, const char *impl, int64_t records, double wall, double cpu, long rss_kb,
                      const char *note) {
    printf("%-15s %-11s %10" PRId64 " %8.3f %8.3f %12.0f %7.1f MB  %s\n", wl, impl, records, wall, cpu,
           wall > 0 ? (double)records / wall : 0, (double)rss_kb / 1024.0, note);
}

#define RDK_MAX_RUNS 15

static int rdk_by_wall(const void *a, const void *b) {
    double x = ((const rdk_result *)a)->wall_s, y = ((const rdk_result *)b)->wall_s;
    return x < y ? -1 : x > y;
}

static int kp_by_wall(const void *a, const void *b) {
    double x = ((const kp_line *)a)->wall_s, y = ((const kp_line *)b)->wall_s;
    return x < y ? -1 : x > y;
}

/* The run to show of `runs` runs (sorted by wall time here): the median
 * one, or a failed one when any failed. */
static kp_line kp_median(kp_line *ks, int runs) {
    qsort(ks, (size_t)runs, sizeof ks[0], kp_by_wall);
    kp_line m = ks[runs / 2];
    for (int i = 0; i < runs; i++)
        if (!ks[i].ok)
            m = ks[i];
    m.lo_s = ks[0].wall_s;
    m.hi_s = ks[runs - 1].wall_s;
    return m;
}

#define RDK_USAGE                                                                                                     \
    "usage: rdk_compare [--kpsim PATH] [--records N] [--fault-records N] [--no-kpsim]\n"                              \
    "                   [--only throughput|faults|faults-timeline] [--runs N (1..15, default 3)]\n"     \
    "                   [--timeline-runs N (1..15, default 5)]\n"

int main(int argc, char **argv) {
    const char *kpsim = "build/kpsim", *only = NULL;
    int64_t n_tp = 1000000, n_fault = 100000;
    bool with_kpsim = true;
    int timeline_runs = 5, n_runs = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--kpsim") && i + 1 < argc)
            kpsim = argv[++i];
        else if (!strcmp(argv[i], "--records") && i + 1 < argc)
            n_tp = strtoll(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--fault-records") && i + 1 < argc)
            n_fault = strtoll(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            n_runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--timeline-runs") && i + 1 < argc)
            timeline_runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--no-kpsim"))
            with_kpsim = false;
        else {
            fputs(RDK_USAGE, stderr);
            return 2;
        }
    }
    static const struct {
        const char *name;
        bool faults, timeline;
    } wls[3] = { { "throughput", false, false }, { "faults", true, false }, { "faults-timeline", true, true } };
    bool known = !only;
    for (int w = 0; w < 3; w++)
        known = known || !strcmp(only, wls[w].name);
    if (n_tp <= 0 || n_fault <= 0 || !known || timeline_runs < 1 || timeline_runs > RDK_MAX_RUNS ||
        n_runs < 1 || n_runs > RDK_MAX_RUNS) {
        fputs(n_tp <= 0 || n_fault <= 0 ? "rdk_compare: record counts must be positive\n" : RDK_USAGE, stderr);
        return 2;
    }
    printf("librdkafka %s (its mock cluster, in process) vs kpsim (simulated network + broker_mock + checker)\n",
           rd_kafka_version_str());
    printf("%-15s %-11s %10s %8s %8s %12s %10s\n", "workload", "impl", "records", "wall s", "cpu s", "records/s",
           "peak RSS");
    bool all_ok = true;
    /* kpsim's faults runs: the median is shown in both faults rows, and its
     * simulated duration paces the timeline. */
    kp_line kf, kfs[RDK_MAX_RUNS];
    bool kf_done = false;
    for (int w = 0; w < 3; w++) {
        if (only && strcmp(only, wls[w].name))
            continue;
        int64_t n = wls[w].faults ? n_fault : n_tp;
        kp_line ks[RDK_MAX_RUNS], k;
        bool have_k = false;
        if (with_kpsim && wls[w].timeline && !kf_done) { /* --only faults-timeline */
            for (int i = 0; i < n_runs; i++)
                kpsim_run(kpsim, "faults", n, &kfs[i]);
            kf = kp_median(kfs, n_runs);
            kf_done = true;
        }
        if (with_kpsim && wls[w].faults && kf_done) {
            k = kf;
            have_k = true;
        }
        /* kpsim runs here (alternating with librdkafka's) unless this row
         * shows the faults runs made already. */
        bool fresh_k = with_kpsim && !have_k;
        double pace_s = 0;
        if (wls[w].timeline)
            pace_s = have_k && k.ok && k.sim_s > 0 ? k.sim_s : 0.8;
        /* The timeline run's wall time swings with librdkafka's reconnect
         * backoff after the broker drops (1 s to 5 s seen here), so it runs
         * timeline_runs times; the others --runs times. */
        int runs = wls[w].timeline ? timeline_runs : n_runs;
        rdk_result rs[RDK_MAX_RUNS], r;
        bool rok = true;
        for (int i = 0; i < runs; i++) {
            rdk_run_child(n, wls[w].faults, pace_s, &rs[i]);
            rok = rok && rs[i].ran && rs[i].delivered == n && rs[i].failed == 0;
            if (fresh_k)
                kpsim_run(kpsim, wls[w].faults ? "faults" : wls[w].name, n, &ks[i]);
        }
        if (fresh_k) {
            k = kp_median(ks, runs);
            have_k = true;
            if (wls[w].faults) {
                kf = k;
                kf_done = true;
            }
        }
        qsort(rs, (size_t)runs, sizeof rs[0], rdk_by_wall);
        r = rs[runs / 2];
        for (int i = 0; i < runs; i++)
            if (!(rs[i].ran && rs[i].delivered == n && rs[i].failed == 0))
                r = rs[i]; /* a failed run is the one shown */
        char note[256];
        if (!r.ran)
            snprintf(note, sizeof note, "FAILED: %s", r.error);
        else if (!rok)
            snprintf(note, sizeof note, "FAILED: %" PRId64 " delivered, %" PRId64 " failed", r.delivered, r.failed);
        else if (wls[w].timeline)
            snprintf(note, sizeof note, "paced over %.3f s; median of %d runs (%.2f..%.2f s)", pace_s, runs,
                     rs[0].wall_s, rs[runs - 1].wall_s);
        else if (runs > 1)
            snprintf(note, sizeof note, "median of %d runs (%.3f..%.3f s)", runs, rs[0].wall_s, rs[runs - 1].wall_s);
        else
            note[0] = 0;
        print_row(wls[w].name, "librdkafka", r.delivered, r.wall_s, r.cpu_s, r.peak_rss_kb, note);
        all_ok = all_ok && rok;
        if (!with_kpsim)
            continue;
        if (!k.ok)
            snprintf(note, sizeof note, "FAILED (run it: kpsim bench --only %s)", wls[w].faults ? "faults" : wls[w].name);
        else if (wls[w].timeline)
            snprintf(note, sizeof note, "the faults row's runs (simulated clock)");
        else if (n_runs > 1)
            snprintf(note, sizeof note, "median of %d runs (%.3f..%.3f s)", n_runs, k.lo_s, k.hi_s);
        else
            note[0] = 0;
        print_row(wls[w].name, "kpsim", k.records, k.wall_s, k.cpu_s, k.rss_kb, note);
        all_ok = all_ok && k.ok;
        if (k.ok && rok && k.wall_s > 0 && r.wall_s > 0)
            printf("%-15s ratio kpsim/librdkafka: %.2fx the speed on the wall clock (%.2fx per CPU second)\n",
                   wls[w].name, r.wall_s / k.wall_s, k.cpu_s > 0 ? r.cpu_s / k.cpu_s : 0.0);
    }
    printf("\nNot the same work: librdkafka moves real bytes over loopback sockets with its own threads in\n"
           "real time (retry backoffs are real waits); kpsim simulates network and brokers on a virtual\n"
           "clock and checks every record (one callback, in the final log at its offset with its bytes,\n"
           "no duplicates, order). The faults runs differ too: librdkafka cannot split a batch, so\n"
           "kpsim's MESSAGE_TOO_LARGE window has no counterpart on its side. `faults` drives librdkafka's\n"
           "faults by progress, as fast as it goes; `faults-timeline` replays kpsim's scenario on the\n"
           "wall clock (messages at the pace kpsim's producer reached in simulation, each fault at its\n"
           "time), which is what the same fault schedule costs without a simulated clock.\n");
    return all_ok ? 0 : 1;
}
