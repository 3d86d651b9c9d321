/*
 * rdk_helper.c — the librdkafka side of kpsim's interoperability tests
 * (tests/interop/run.sh, tests/suites/interop.sh; issue 10).
 *
 * kpsim's producer and broker speak the Kafka protocol; this helper puts a
 * peer we did not write on the other end of the wire: Debian's librdkafka
 * (2.0.x), its in-process mock cluster, its consumer, its producer and its
 * Java-compatible murmur2 partitioner. One binary, six modes:
 *
 *   mock        start librdkafka's mock cluster (3 brokers), create the
 *               topic, print "bootstrap ADDR", then either run a command
 *               (every "{bootstrap}" in it replaced; typically `kpsim
 *               produce`) or wait for a line on stdin / SIGTERM; meanwhile
 *               inject the requested faults, triggered by the topic's
 *               progress (sum of high watermarks); then consume everything
 *               with a librdkafka consumer (check.crcs=true) and verify.
 *   consume     the same consumer + verification against any bootstrap.
 *   produce     a librdkafka producer writing the kpsim record layout
 *               (idempotence, codec, keys as asked); waits for every
 *               delivery report.
 *   verify      the verification over lines "PARTITION<TAB>KEY<TAB>VALUE"
 *               on stdin (kcat -f '%p\t%k\t%s\n'), so kcat can read back.
 *   partitioner 10,000 (--keys) keys from a fixed seed (every length 0..64: ASCII, UTF-8, raw bytes), each
 *               placed by rd_kafka_msg_partitioner_murmur2 and by
 *               `kpsim partition` for several partition counts; counts
 *               the disagreements.
 *   selftest    known-bad inputs through the verifier and the sequence
 *               audit: each must be caught.
 *
 * The record layout is the one `kpsim produce` writes (tools/cmd_produce.c):
 * record n (0-based) has value "<n> " padded with '.' to --size bytes (just
 * "<n> " when that is longer) and, with --key-space K > 0, key
 * "key-<n mod K>", else a null key. The verifier checks, per record: the
 * value's leading sequence number is in [0, count), the value is exactly
 * the layout of that number, the key is the one of that number, a keyed
 * record sits on the partition murmur2 picks (when the partition count is
 * known); over all records: each number seen once (duplicates counted),
 * none missing, and within each partition numbers only increase (a smaller
 * number after a larger one is a reorder; one producer, so any reorder is a
 * defect unless retries without idempotence were in play).
 *
 * In mock mode the helper also reads the stored batch headers (producer
 * id, epoch, base sequence) with its own Fetch requests and audits them
 * (sq_audit below): duplicates and reorders that the broker accepted
 * against the idempotence rules while the producer's sequences followed
 * its send order are the broker's doing (librdkafka 2.0's mock checks no
 * sequences without a transactional.id) and do not fail the case; the
 * records must then all be there, and the RESULT line says excused=1.
 *
 * Every mode prints one machine-readable line last:
 *   RESULT case=NAME sent=N read=R dups=D reorders=O missing=M bad=B result=PASS|FAIL
 * (produce prints "RESULT ... delivered=" instead) and exits 0 iff PASS.
 *
 * Memory: everything is owned by main()'s mode function and freed before it
 * returns; the verifier's arrays are sized by --count (one byte per record)
 * and --partitions (at most VF_MAX_PARTITIONS). Every wait is bounded by
 * --timeout-ms; a command started by `mock` gets PR_SET_PDEATHSIG so it
 * cannot outlive the helper, and is killed at the timeout.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define VF_MAX_PARTITIONS 1024
#define HP_MAX_FAULTS 8

/* ---- small utilities ---------------------------------------------------- */

static int64_t hp_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t hp_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void hp_sleep_ms(int64_t ms) {
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

__attribute__((format(printf, 1, 2))) static void hp_die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rdk_helper: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static int64_t hp_int(const char *opt, const char *v, int64_t lo, int64_t hi) {
    char *end = NULL;
    errno = 0;
    long long x = v ? strtoll(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || x < lo || x > hi)
        hp_die("%s: want an integer in [%lld, %lld], got '%s'", opt, (long long)lo, (long long)hi,
               v ? v : "(nothing)");
    return (int64_t)x;
}

static volatile sig_atomic_t hp_stop_signal;
static void hp_on_signal(int sig) { hp_stop_signal = sig; }

/* ---- the verifier ----------------------------------------------------- */

static int64_t hp_wall_start; /* wall clock (ms) when the helper started */

typedef struct vf_state {
    int64_t count;         /* records expected: sequence numbers 0..count-1 */
    int32_t size;          /* --size of the producer */
    int32_t key_space;     /* 0: null keys */
    int32_t partitions;    /* 0: unknown (no partition check) */
    uint8_t *seen;         /* per sequence number: times read (saturating) */
    int64_t last[VF_MAX_PARTITIONS];   /* highest number read per partition, -1 none */
    int64_t per_part[VF_MAX_PARTITIONS];
    int64_t read, dups, reorders, bad_content, bad_key, bad_partition, out_of_range;
    /* timestamps (consumer only): CreateTime within [ts_lo, ts_hi] ms since
     * the epoch, i.e. the producer's wall clock during this run */
    int64_t ts_lo, ts_hi, ts_checked, ts_bad, ts_example;
    /* consume only: every record read as (partition, offset, number), for
     * the sequence audit; grown by doubling */
    struct vf_rec { int32_t partition; int64_t offset, n; } *recs;
    size_t nrecs, caprecs;
    int shown;             /* problems printed so far (at most 10) */
    char *expect;          /* scratch: the expected value */
} vf_state;

static void vf_init(vf_state *v, int64_t count, int32_t size, int32_t key_space, int32_t partitions) {
    memset(v, 0, sizeof *v);
    v->count = count;
    v->size = size;
    v->key_space = key_space;
    v->partitions = partitions;
    v->seen = calloc((size_t)count + 1, 1);
    v->expect = malloc((size_t)size + 32);
    if (!v->seen || !v->expect)
        hp_die("out of memory");
    for (int i = 0; i < VF_MAX_PARTITIONS; i++)
        v->last[i] = -1;
    v->ts_lo = hp_wall_start - 300000; /* 5 minutes of slack either side */
    v->ts_hi = hp_wall_ms() + 3600000;
}

static void vf_free(vf_state *v) {
    free(v->seen);
    free(v->expect);
    free(v->recs);
}

static void vf_keep(vf_state *v, int32_t partition, int64_t offset, int64_t n) {
    if (v->nrecs == v->caprecs) {
        v->caprecs = v->caprecs ? v->caprecs * 2 : 4096;
        v->recs = realloc(v->recs, v->caprecs * sizeof *v->recs);
        if (!v->recs)
            hp_die("out of memory");
    }
    v->recs[v->nrecs++] = (struct vf_rec){ partition, offset, n };
}

__attribute__((format(printf, 2, 3))) static void vf_problem(vf_state *v, const char *fmt, ...) {
    if (v->shown++ >= 10)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "verify: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

/* One record read back. key == NULL is a null key. Returns the record's
 * number, -1 when the value does not carry one. */
static int64_t vf_add(vf_state *v, int32_t partition, const char *key, size_t keylen, const char *val,
                      size_t vlen) {
    v->read++;
    if (partition < 0 || partition >= VF_MAX_PARTITIONS) {
        v->bad_partition++;
        vf_problem(v, "partition %d out of range", (int)partition);
        return -1;
    }
    v->per_part[partition]++;
    int64_t n = 0;
    size_t i = 0;
    while (i < vlen && i < 19 && val[i] >= '0' && val[i] <= '9')
        n = n * 10 + (val[i++] - '0');
    if (i == 0 || i >= vlen || val[i] != ' ') {
        v->bad_content++;
        vf_problem(v, "partition %d: value '%.*s' does not start with '<n> '", (int)partition,
                   (int)(vlen > 40 ? 40 : vlen), val);
        return -1;
    }
    if (n >= v->count) {
        v->out_of_range++;
        vf_problem(v, "partition %d: sequence %" PRId64 " >= count %" PRId64, (int)partition, n, v->count);
        return -1;
    }
    int len = snprintf(v->expect, (size_t)v->size + 32, "%" PRId64 " ", n);
    if (len < v->size) {
        memset(v->expect + len, '.', (size_t)(v->size - len));
        len = v->size;
    }
    if ((size_t)len != vlen || memcmp(v->expect, val, vlen) != 0) {
        v->bad_content++;
        vf_problem(v, "record %" PRId64 ": value of %zu bytes differs from the %d-byte layout", n, vlen, len);
    }
    char kb[64];
    if (v->key_space > 0) {
        int kl = snprintf(kb, sizeof kb, "key-%" PRId64, n % v->key_space);
        if (!key || (size_t)kl != keylen || memcmp(kb, key, keylen) != 0) {
            v->bad_key++;
            vf_problem(v, "record %" PRId64 ": key '%.*s', want '%s'", n, key ? (int)keylen : 6,
                       key ? key : "(null)", kb);
        } else if (v->partitions > 0) {
            int32_t want = rd_kafka_msg_partitioner_murmur2(NULL, key, keylen, v->partitions, NULL, NULL);
            if (want != partition) {
                v->bad_partition++;
                vf_problem(v, "record %" PRId64 " (key %s) on partition %d, murmur2 says %d", n, kb,
                           (int)partition, (int)want);
            }
        }
    } else if (key && keylen > 0) {
        v->bad_key++;
        vf_problem(v, "record %" PRId64 ": key '%.*s', want null", n, (int)keylen, key);
    }
    if (v->seen[n]) {
        v->dups++;
        vf_problem(v, "record %" PRId64 " read again (partition %d)", n, (int)partition);
    }
    if (v->seen[n] < 255)
        v->seen[n]++;
    if (n < v->last[partition]) {
        v->reorders++;
        vf_problem(v, "partition %d: record %" PRId64 " after %" PRId64, (int)partition, n, v->last[partition]);
    } else {
        v->last[partition] = n;
    }
    return n;
}

/* A record's timestamp as the consumer saw it. Kafka's CreateTime is the
 * producer's wall clock in ms since the epoch (KafkaProducer.doSend takes
 * time.milliseconds(), i.e. System.currentTimeMillis()). Counted apart
 * from `bad`: its own table row judges it. */
static void vf_timestamp(vf_state *v, rd_kafka_timestamp_type_t type, int64_t ts) {
    v->ts_checked++;
    if (type != RD_KAFKA_TIMESTAMP_CREATE_TIME || ts < v->ts_lo || ts > v->ts_hi) {
        if (v->ts_bad++ == 0) {
            v->ts_example = ts;
            fprintf(stderr, "verify: record timestamp %" PRId64 " (%s) is not a CreateTime between %" PRId64
                            " and %" PRId64 " (wall clock ms around this run)\n",
                    ts, type == RD_KAFKA_TIMESTAMP_CREATE_TIME ? "CreateTime" : "not CreateTime", v->ts_lo, v->ts_hi);
        }
    }
}

static int64_t vf_missing(const vf_state *v) {
    int64_t m = 0;
    for (int64_t i = 0; i < v->count; i++)
        if (!v->seen[i])
            m++;
    return m;
}

/* Prints the per-partition counts and the RESULT line; true iff PASS. */
static bool vf_excused;        /* the sequence audit put every dup and reorder on the broker */

static bool vf_report(vf_state *v, const char *case_name, bool extra_ok, const char *note) {
    int64_t missing = vf_missing(v);
    if (missing > 0) {
        for (int64_t i = 0; i < v->count; i++)
            if (!v->seen[i]) {
                vf_problem(v, "first missing record: %" PRId64 " (%" PRId64 " missing)", i, missing);
                break;
            }
    }
    int np = v->partitions > 0 ? v->partitions : 0;
    if (np == 0)
        for (int i = 0; i < VF_MAX_PARTITIONS; i++)
            if (v->per_part[i])
                np = i + 1;
    printf("per-partition:");
    for (int i = 0; i < np; i++)
        printf(" %d=%" PRId64, i, v->per_part[i]);
    printf("\n");
    int64_t bad = v->bad_content + v->bad_key + v->bad_partition + v->out_of_range;
    bool pass = extra_ok && missing == 0 && (v->dups == 0 || vf_excused) && (v->reorders == 0 || vf_excused) && bad == 0 &&
                v->read == v->count + (vf_excused ? v->dups : 0);
    printf("RESULT case=%s sent=%" PRId64 " read=%" PRId64 " dups=%" PRId64 " reorders=%" PRId64
           " missing=%" PRId64 " bad=%" PRId64 " ts_checked=%" PRId64 " ts_bad=%" PRId64 " ts_example=%" PRId64
           " excused=%d result=%s%s%s\n",
           case_name, v->count, v->read, v->dups, v->reorders, missing, bad, v->ts_checked, v->ts_bad,
           v->ts_example, (int)vf_excused, pass ? "PASS" : "FAIL",
           note && *note ? " note=" : "", note ? note : "");
    fflush(stdout);
    return pass;
}

/* ---- librdkafka configuration ----------------------------------------- */

static void hp_set(rd_kafka_conf_t *conf, const char *k, const char *val) {
    char es[256];
    if (rd_kafka_conf_set(conf, k, val, es, sizeof es) != RD_KAFKA_CONF_OK)
        hp_die("librdkafka setting %s=%s: %s", k, val, es);
}

static void hp_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    if (level <= 4) /* warnings and worse, to stderr with a tag */
        fprintf(stderr, "librdkafka %d %s: %s\n", level, fac, buf);
}

/* ---- consume ------------------------------------------------------------ */

typedef struct hp_common {
    const char *case_name;
    const char *topic;
    int64_t count;
    int32_t size, key_space, partitions;
    int64_t timeout_ms;
} hp_common;

/* Partition count of topic from metadata, -1 on failure. */
static int32_t hp_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int32_t n = -1;
    if (rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
            n = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
    return n;
}

/* Leader broker id of topic/partition from metadata, -1 if unknown. */
static int32_t hp_leader(rd_kafka_t *rk, const char *topic, int32_t partition, int timeout_ms) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int32_t leader = -1;
    if (rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (md->topic_cnt == 1)
            for (int i = 0; i < md->topics[0].partition_cnt; i++)
                if (md->topics[0].partitions[i].id == partition)
                    leader = md->topics[0].partitions[i].leader;
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
    return leader;
}

static rd_kafka_t *hp_consumer_new(const char *bootstrap) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char es[256];
    hp_set(conf, "bootstrap.servers", bootstrap);
    hp_set(conf, "group.id", "kpsim-interop");
    hp_set(conf, "enable.auto.commit", "false");
    hp_set(conf, "enable.partition.eof", "true");
    hp_set(conf, "auto.offset.reset", "earliest");
    hp_set(conf, "check.crcs", "true"); /* librdkafka verifies kpsim's CRC32C */
    hp_set(conf, "client.id", "rdk_helper-consumer");
    rd_kafka_conf_set_log_cb(conf, hp_log_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, es, sizeof es);
    if (!rk)
        hp_die("consumer: %s", es);
    return rk;
}

/* Reads the whole topic from the beginning into the verifier; stops when
 * every partition is at its end and at least count records were read, or
 * at the deadline. Returns false on a consumer error other than EOF. */
static bool hp_consume(const char *bootstrap, const hp_common *c, vf_state *v) {
    rd_kafka_t *rk = hp_consumer_new(bootstrap);
    int64_t deadline = hp_now_ms() + c->timeout_ms;
    int32_t np = -1;
    while (np < 0 && hp_now_ms() < deadline)
        np = hp_partition_count(rk, c->topic, 2000);
    if (np <= 0 || np > VF_MAX_PARTITIONS) {
        fprintf(stderr, "consume: cannot learn the partitions of %s\n", c->topic);
        rd_kafka_destroy(rk);
        return false;
    }
    if (v->partitions == 0)
        v->partitions = np;
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(np);
    for (int32_t p = 0; p < np; p++)
        rd_kafka_topic_partition_list_add(tl, c->topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, tl);
    rd_kafka_topic_partition_list_destroy(tl);
    if (err)
        hp_die("assign: %s", rd_kafka_err2str(err));
    bool *eof = calloc((size_t)np, sizeof *eof);
    bool ok = true;
    int errors = 0;
    for (;;) {
        int neof = 0;
        for (int32_t p = 0; p < np; p++)
            neof += eof[p];
        if (neof == np && v->read >= v->count)
            break;
        if (hp_now_ms() >= deadline) {
            fprintf(stderr, "consume: timed out after %" PRId64 " ms with %" PRId64 " records, %d/%d partitions at end\n",
                    c->timeout_ms, v->read, neof, (int)np);
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->partition >= 0 && m->partition < np)
                eof[m->partition] = true;
        } else if (m->err) {
            if (errors++ < 10)
                fprintf(stderr, "consume: %s [%d]: %s\n", c->topic, (int)m->partition, rd_kafka_message_errstr(m));
            ok = false;
        } else {
            if (m->partition >= 0 && m->partition < np)
                eof[m->partition] = false;
            int64_t n = vf_add(v, m->partition, m->key, m->key_len, m->payload, m->len);
            vf_keep(v, m->partition, m->offset, n);
            rd_kafka_timestamp_type_t tt;
            int64_t ts = rd_kafka_message_timestamp(m, &tt);
            vf_timestamp(v, tt, ts);
        }
        rd_kafka_message_destroy(m);
    }
    free(eof);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return ok;
}

/* ---- faults (mock mode) -------------------------------------------------- */

/* A fault fires once the topic holds at least `at` records (sum of high
 * watermarks), at == 0 before the command starts. */
typedef enum { FT_PUSH, FT_LEADER_MOVE, FT_BROKER_DOWN } hp_fault_kind;

typedef struct hp_fault {
    char spec[64];
    hp_fault_kind kind;
    rd_kafka_resp_err_t err;  /* FT_PUSH */
    int arg;                  /* FT_PUSH: count; FT_BROKER_DOWN: ms down */
    double at_fraction;
    int64_t at;
    bool fired;
    int64_t fired_at_records;
    char what[128];           /* what was done, for the log */
} hp_fault;

typedef struct hp_mock {
    rd_kafka_mock_cluster_t *mc;
    rd_kafka_t *watch;        /* a consumer handle used for metadata/watermarks */
    const char *topic;
    int32_t partitions, brokers;
    hp_fault faults[HP_MAX_FAULTS];
    int nfaults;
    atomic_bool stop;         /* set by the main thread: the fault thread ends */
    pthread_mutex_t lock;
    int64_t max_seen;         /* highest sum of high watermarks observed */
} hp_mock;

static void hp_fault_parse(hp_fault *f, const char *spec, int64_t count) {
    memset(f, 0, sizeof *f);
    snprintf(f->spec, sizeof f->spec, "%s", spec);
    char kind[32] = "";
    int arg = 0;
    double at = 0;
    const char *atp = strchr(spec, '@');
    if (atp) {
        char *end;
        at = strtod(atp + 1, &end);
        if (*end || at < 0 || at >= 1)
            hp_die("--fault %s: @F wants a fraction in [0, 1)", spec);
    }
    size_t kl = atp ? (size_t)(atp - spec) : strlen(spec);
    const char *colon = memchr(spec, ':', kl);
    size_t nl = colon ? (size_t)(colon - spec) : kl;
    if (nl >= sizeof kind)
        hp_die("--fault %s: unknown", spec);
    memcpy(kind, spec, nl);
    if (colon)
        arg = (int)strtol(colon + 1, NULL, 10);
    f->at_fraction = at;
    f->at = (int64_t)(at * (double)count);
    if (!strcmp(kind, "not_leader") || !strcmp(kind, "timed_out") || !strcmp(kind, "disconnect")) {
        f->kind = FT_PUSH;
        f->err = !strcmp(kind, "not_leader")  ? RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION
                 : !strcmp(kind, "timed_out") ? RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT
                                              : RD_KAFKA_RESP_ERR__TRANSPORT;
        f->arg = arg > 0 ? arg : 1;
    } else if (!strcmp(kind, "leader_move")) {
        f->kind = FT_LEADER_MOVE;
    } else if (!strcmp(kind, "broker_down")) {
        f->kind = FT_BROKER_DOWN;
        f->arg = arg > 0 ? arg : 500;
    } else {
        hp_die("--fault %s: unknown kind '%s' (not_leader:N, timed_out:N, disconnect:N, leader_move, "
               "broker_down:MS; each optionally @FRACTION)", spec, kind);
    }
}

static void hp_fault_fire(hp_mock *m, hp_fault *f, int64_t records) {
    f->fired = true;
    f->fired_at_records = records;
    switch (f->kind) {
    case FT_PUSH: {
        rd_kafka_resp_err_t errs[64];
        int n = f->arg > 64 ? 64 : f->arg;
        for (int i = 0; i < n; i++)
            errs[i] = f->err;
        rd_kafka_mock_push_request_errors_array(m->mc, 0 /* Produce */, (size_t)n, errs);
        snprintf(f->what, sizeof f->what, "next %d Produce requests answer %s", n, rd_kafka_err2name(f->err));
        break;
    }
    case FT_LEADER_MOVE: {
        int moved = 0;
        for (int32_t p = 0; p < m->partitions; p++) {
            int32_t cur = hp_leader(m->watch, m->topic, p, 2000);
            int32_t next = cur < 1 ? 1 : cur % m->brokers + 1; /* mock broker ids are 1..N */
            if (rd_kafka_mock_partition_set_leader(m->mc, m->topic, p, next) == RD_KAFKA_RESP_ERR_NO_ERROR)
                moved++;
        }
        snprintf(f->what, sizeof f->what, "moved the leader of %d partition(s) to the next broker", moved);
        break;
    }
    case FT_BROKER_DOWN: {
        int32_t b = hp_leader(m->watch, m->topic, 0, 2000);
        if (b < 1)
            b = 1;
        rd_kafka_mock_broker_set_down(m->mc, b);
        hp_sleep_ms(f->arg);
        rd_kafka_mock_broker_set_up(m->mc, b);
        snprintf(f->what, sizeof f->what, "broker %d (leader of partition 0) down for %d ms, then up", (int)b, f->arg);
        break;
    }
    }
    fprintf(stderr, "fault %s fired at %" PRId64 " records: %s\n", f->spec, records, f->what);
}

/* Sum of the topic's high watermarks; -1 if a query failed. */
static int64_t hp_progress(hp_mock *m) {
    int64_t sum = 0;
    for (int32_t p = 0; p < m->partitions; p++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(m->watch, m->topic, p, &lo, &hi, 500) != RD_KAFKA_RESP_ERR_NO_ERROR)
            return -1;
        sum += hi;
    }
    return sum;
}

static void *hp_fault_thread(void *arg) {
    hp_mock *m = arg;
    while (!atomic_load(&m->stop)) {
        int pending = 0;
        for (int i = 0; i < m->nfaults; i++)
            pending += !m->faults[i].fired;
        if (!pending)
            break;
        int64_t rec = hp_progress(m);
        if (rec >= 0) {
            pthread_mutex_lock(&m->lock);
            if (rec > m->max_seen)
                m->max_seen = rec;
            pthread_mutex_unlock(&m->lock);
            for (int i = 0; i < m->nfaults; i++) {
                hp_fault *f = &m->faults[i];
                if (!f->fired && rec >= f->at) {
                    hp_fault_fire(m, f, rec);
                    break; /* one per round: progress is re-read between faults */
                }
            }
        }
        hp_sleep_ms(5);
    }
    return NULL;
}

/* ---- sequence audit (mock mode) -------------------------------------------
 *
 * librdkafka's consumer does not show a record's producer id, epoch or
 * sequence, and librdkafka 2.0's mock accepts batches a Kafka broker would
 * refuse (it checks sequences only with a transactional.id). To say whose
 * doing a duplicate or reorder is, the helper reads the stored batch
 * headers itself with plain Fetch v4 requests, one stored batch per answer
 * (the mock returns one message set per partition and request):
 *
 *   Fetch v4 request (after the int32 size):
 *   OFFSET SIZE DESCRIPTION
 *   0      2    api_key 1
 *   2      2    api_version 4
 *   4      4    correlation_id
 *   8      2+n  client_id (int16 length + bytes)
 *   ...    4    replica_id -1
 *          4    max_wait_ms 0
 *          4    min_bytes 0
 *          4    max_bytes
 *          1    isolation_level 0
 *          4    topics count 1, then topic (int16 length + bytes)
 *          4    partitions count 1, then partition i32, fetch_offset i64,
 *               partition_max_bytes i32
 *   Fetch v4 response: correlation_id i32, throttle_time_ms i32, topics
 *   count i32, topic string, partitions count i32, partition i32,
 *   error_code i16, high_watermark i64, last_stable_offset i64, aborted
 *   count i32 (+ 16 bytes each), record_set bytes (int32 length).
 *   RecordBatch v2 header fields used: base_offset i64 @0, batch_length
 *   i32 @8, magic i8 @16, last_offset_delta i32 @23, producer_id i64 @43,
 *   producer_epoch i16 @51, base_sequence i32 @53 (records are not decoded:
 *   the producer writes offset deltas 0..count-1, so record k of a batch
 *   has sequence base_sequence + k).
 *
 * The audit then joins the consumer's (partition, offset, number) with
 * (producer id, epoch, sequence) and judges each side:
 *   producer fault  within one (id, epoch) of a partition, ordered by
 *                   sequence, record numbers must strictly increase and one
 *                   sequence must carry one record; anything else is the
 *                   producer's (RecordAccumulator/Sender assign sequences in
 *                   send order per partition);
 *   broker accepted walking the log in offset order, a sequence seen
 *                   before (duplicate) or lower than one seen before (out of
 *                   order): Kafka answers DUPLICATE_SEQUENCE_NUMBER /
 *                   OUT_OF_ORDER_SEQUENCE_NUMBER instead of appending.
 * With no producer fault, every duplicate or reorder the consumer saw is
 * one of the broker's. */

typedef struct sq_batch {
    int64_t base_offset;
    int32_t count;
    int64_t pid;
    int16_t epoch;
    int32_t base_seq;
} sq_batch;

static uint32_t sq_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t sq_be64(const uint8_t *p) { return (uint64_t)sq_be32(p) << 32 | sq_be32(p + 4); }
static void sq_put16(uint8_t **w, uint16_t x) { *(*w)++ = (uint8_t)(x >> 8); *(*w)++ = (uint8_t)x; }
static void sq_put32(uint8_t **w, uint32_t x) { sq_put16(w, (uint16_t)(x >> 16)); sq_put16(w, (uint16_t)x); }
static void sq_put64(uint8_t **w, uint64_t x) { sq_put32(w, (uint32_t)(x >> 32)); sq_put32(w, (uint32_t)x); }

static bool sq_io(int fd, void *buf, size_t n, bool rd) {
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = rd ? read(fd, p, n) : write(fd, p, n);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            return false;
        }
        p += r;
        n -= (size_t)r;
    }
    return true;
}

/* A bounded reader over a response. */
typedef struct sq_rd { const uint8_t *p, *end; bool bad; } sq_rd;
static const uint8_t *sq_take(sq_rd *r, size_t n) {
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *q = r->p;
    r->p += n;
    return q;
}
static int64_t sq_i64(sq_rd *r) { const uint8_t *q = sq_take(r, 8); return q ? (int64_t)sq_be64(q) : 0; }
static int32_t sq_i32(sq_rd *r) { const uint8_t *q = sq_take(r, 4); return q ? (int32_t)sq_be32(q) : 0; }
static int16_t sq_i16(sq_rd *r) { const uint8_t *q = sq_take(r, 2); return q ? (int16_t)(q[0] << 8 | q[1]) : 0; }

/* Reads every batch header of topic/partition from the broker at
 * host:port into *out (malloc'd, caller frees). False on any error. */
static bool sq_fetch_partition(const char *host, int port, const char *topic, int32_t partition, sq_batch **out,
                               size_t *nout, char *why, size_t whylen) {
    *out = NULL;
    *nout = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(why, whylen, "cannot connect to %s:%d", host, port);
        if (fd >= 0)
            close(fd);
        return false;
    }
    size_t tl = strlen(topic), cap = 0;
    uint8_t req[512], *resp = NULL;
    int64_t offset = 0, hw = -1;
    bool ok = false;
    int empty = 0;
    for (int32_t corr = 1; tl < 256; corr++) {
        uint8_t *w = req + 4;
        sq_put16(&w, 1);
        sq_put16(&w, 4);
        sq_put32(&w, (uint32_t)corr);
        sq_put16(&w, 10);
        memcpy(w, "rdk_helper", 10);
        w += 10;
        sq_put32(&w, (uint32_t)-1);
        sq_put32(&w, 0);
        sq_put32(&w, 0);
        sq_put32(&w, 64 << 20);
        *w++ = 0;
        sq_put32(&w, 1);
        sq_put16(&w, (uint16_t)tl);
        memcpy(w, topic, tl);
        w += tl;
        sq_put32(&w, 1);
        sq_put32(&w, (uint32_t)partition);
        sq_put64(&w, (uint64_t)offset);
        sq_put32(&w, 64 << 20);
        uint8_t *h = req;
        sq_put32(&h, (uint32_t)(w - req - 4));
        uint8_t szb[4];
        if (!sq_io(fd, req, (size_t)(w - req), false) || !sq_io(fd, szb, 4, true)) {
            snprintf(why, whylen, "Fetch: connection failed at offset %" PRId64, offset);
            break;
        }
        uint32_t sz = sq_be32(szb);
        if (sz > (256u << 20)) {
            snprintf(why, whylen, "Fetch: response of %u bytes", sz);
            break;
        }
        if (sz > cap) {
            cap = sz;
            resp = realloc(resp, cap);
        }
        if (!sq_io(fd, resp, sz, true)) {
            snprintf(why, whylen, "Fetch: truncated response");
            break;
        }
        sq_rd r = { resp, resp + sz, false };
        sq_i32(&r);                /* correlation id */
        sq_i32(&r);                /* throttle */
        sq_i32(&r);                /* topics: 1 */
        sq_take(&r, (size_t)(uint16_t)sq_i16(&r));
        sq_i32(&r);                /* partitions: 1 */
        sq_i32(&r);
        int16_t err = sq_i16(&r);
        hw = sq_i64(&r);
        sq_i64(&r);                /* last stable offset */
        int32_t naborted = sq_i32(&r);
        if (naborted > 0)
            sq_take(&r, (size_t)naborted * 16);
        int32_t rslen = sq_i32(&r);
        const uint8_t *rs = rslen > 0 ? sq_take(&r, (size_t)rslen) : NULL;
        if (r.bad || err != 0) {
            snprintf(why, whylen, "Fetch at offset %" PRId64 ": %s", offset,
                     r.bad ? "malformed response" : rd_kafka_err2name((rd_kafka_resp_err_t)err));
            break;
        }
        if (offset >= hw) {
            ok = true;
            break;
        }
        if (!rs) {
            if (++empty > 50) {
                snprintf(why, whylen, "Fetch at offset %" PRId64 ": no data below the high watermark %" PRId64, offset, hw);
                break;
            }
            continue;
        }
        sq_rd b = { rs, rs + rslen, false };
        while (!b.bad && b.end - b.p >= 61) {
            const uint8_t *hd = b.p;
            int32_t blen = (int32_t)sq_be32(hd + 8);
            if (blen < 49 || (size_t)(b.end - b.p) < (size_t)blen + 12)
                break; /* a partial batch at the end */
            sq_batch sb = { (int64_t)sq_be64(hd), (int32_t)sq_be32(hd + 23) + 1, (int64_t)sq_be64(hd + 43),
                            (int16_t)(hd[51] << 8 | hd[52]), (int32_t)sq_be32(hd + 53) };
            if (hd[16] != 2 || sb.count < 1) {
                snprintf(why, whylen, "batch at offset %" PRId64 ": magic %d, %d records", sb.base_offset, hd[16], sb.count);
                goto done;
            }
            if (*nout % 256 == 0)
                *out = realloc(*out, (*nout + 256) * sizeof **out);
            (*out)[(*nout)++] = sb;
            offset = sb.base_offset + sb.count;
            sq_take(&b, (size_t)blen + 12);
        }
    }
done:
    free(resp);
    close(fd);
    return ok;
}

typedef struct sq_result {
    bool done;                 /* the audit ran (every partition fetched) */
    int64_t checked;           /* records with a producer id */
    int64_t broker_dups;       /* records whose (id, epoch, sequence) was already in the log */
    int64_t broker_ooo;        /* records below a sequence already in the log */
    int64_t broker_gaps;       /* records appended more than one past the highest sequence */
    int64_t producer_faults;   /* sequence order != send order, or one sequence, two records */
} sq_result;

typedef struct sq_rec { int64_t pid; int16_t epoch; int32_t seq; int64_t offset, n; } sq_rec;

static int sq_cmp_seq(const void *a, const void *b) {
    const sq_rec *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    if (x->epoch != y->epoch)
        return x->epoch < y->epoch ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Audits one partition: recs are the consumer's records of it in offset
 * order, batches the stored headers in offset order. */
static void sq_audit_partition(sq_result *res, int32_t partition, const struct vf_rec *recs, size_t nrecs,
                               const sq_batch *batches, size_t nbatches) {
    sq_rec *rs = calloc(nrecs + 1, sizeof *rs);
    size_t n = 0, bi = 0;
    int shown = 0;
    for (size_t i = 0; i < nrecs; i++) {
        while (bi < nbatches && batches[bi].base_offset + batches[bi].count <= recs[i].offset)
            bi++;
        if (bi == nbatches || batches[bi].base_offset > recs[i].offset || batches[bi].pid < 0 || recs[i].n < 0)
            continue;
        const sq_batch *b = &batches[bi];
        rs[n++] = (sq_rec){ b->pid, b->epoch, (int32_t)(b->base_seq + (recs[i].offset - b->base_offset)),
                            recs[i].offset, recs[i].n };
    }
    res->checked += (int64_t)n;
    /* broker side: offset order; per (id, epoch) the sequences seen so far
     * (a flag per sequence) and the highest */
    int32_t top = 0;
    for (size_t i = 0; i < n; i++)
        top = rs[i].seq > top ? rs[i].seq : top;
    struct { int64_t pid; int16_t epoch; int32_t maxseq; uint8_t *seen; } pe[16];
    int npe = 0;
    for (size_t i = 0; i < n; i++) {
        int k = 0;
        while (k < npe && !(pe[k].pid == rs[i].pid && pe[k].epoch == rs[i].epoch))
            k++;
        if (k == npe) {
            if (npe == 16 || rs[i].seq < 0)
                continue; /* more producers than this audit follows */
            pe[npe].pid = rs[i].pid;
            pe[npe].epoch = rs[i].epoch;
            pe[npe].maxseq = -1;
            pe[npe].seen = calloc((size_t)top + 1, 1);
            npe++;
        }
        if (rs[i].seq < 0)
            continue;
        if (pe[k].seen[rs[i].seq]) {
            if (res->broker_dups++ == 0)
                fprintf(stderr, "audit: partition %d offset %" PRId64 ": producer %" PRId64 " epoch %d sequence %d "
                                "is in the log a second time (a Kafka broker answers DUPLICATE_SEQUENCE_NUMBER)\n",
                        (int)partition, rs[i].offset, rs[i].pid, (int)rs[i].epoch, (int)rs[i].seq);
        } else if (rs[i].seq < pe[k].maxseq) {
            if (res->broker_ooo++ == 0)
                fprintf(stderr, "audit: partition %d offset %" PRId64 ": producer %" PRId64 " epoch %d sequence %d "
                                "appended after sequence %d (a Kafka broker answers OUT_OF_ORDER_SEQUENCE_NUMBER)\n",
                        (int)partition, rs[i].offset, rs[i].pid, (int)rs[i].epoch, (int)rs[i].seq, (int)pe[k].maxseq);
        }
        else if (rs[i].seq > pe[k].maxseq + 1) {
            if (res->broker_gaps++ == 0)
                fprintf(stderr, "audit: partition %d offset %" PRId64 ": producer %" PRId64 " epoch %d sequence %d "
                                "appended after sequence %d (%d sequences skipped; a Kafka broker answers "
                                "OUT_OF_ORDER_SEQUENCE_NUMBER)\n",
                        (int)partition, rs[i].offset, rs[i].pid, (int)rs[i].epoch, (int)rs[i].seq, (int)pe[k].maxseq,
                        (int)(rs[i].seq - pe[k].maxseq - 1));
        }
        pe[k].seen[rs[i].seq] = 1;
        if (rs[i].seq > pe[k].maxseq)
            pe[k].maxseq = rs[i].seq;
    }
    for (int k = 0; k < npe; k++)
        free(pe[k].seen);
    /* producer side: sequence order */
    qsort(rs, n, sizeof *rs, sq_cmp_seq);
    for (size_t i = 1; i < n; i++) {
        if (rs[i].pid != rs[i - 1].pid || rs[i].epoch != rs[i - 1].epoch)
            continue;
        bool fault = rs[i].seq == rs[i - 1].seq ? rs[i].n != rs[i - 1].n : rs[i].n <= rs[i - 1].n;
        if (fault) {
            res->producer_faults++;
            if (shown++ < 5)
                fprintf(stderr, "audit: partition %d: producer %" PRId64 " epoch %d: sequence %d holds record %" PRId64
                                ", sequence %d holds record %" PRId64 " (sequences must follow send order)\n",
                        (int)partition, rs[i].pid, (int)rs[i].epoch, (int)rs[i - 1].seq, rs[i - 1].n, (int)rs[i].seq,
                        rs[i].n);
        }
    }
    free(rs);
}

/* Fetches every partition's batch headers from its leader and audits. */
static void sq_audit(rd_kafka_t *rk, const char *topic, int32_t partitions, vf_state *v, sq_result *res) {
    memset(res, 0, sizeof *res);
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 1, NULL, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "audit: no metadata\n");
        return;
    }
    bool all = true;
    for (int32_t p = 0; p < partitions && all; p++) {
        int32_t leader = hp_leader(rk, topic, p, 5000);
        const char *host = NULL;
        int port = 0;
        for (int i = 0; i < md->broker_cnt; i++)
            if (md->brokers[i].id == leader) {
                host = md->brokers[i].host;
                port = md->brokers[i].port;
            }
        sq_batch *batches = NULL;
        size_t nb = 0;
        char why[256] = "no leader";
        if (!host || !sq_fetch_partition(host, port, topic, p, &batches, &nb, why, sizeof why)) {
            fprintf(stderr, "audit: partition %d: %s\n", (int)p, why);
            all = false;
        } else {
            /* the consumer's records of partition p, in offset order (as read) */
            struct vf_rec *mine = malloc((v->nrecs + 1) * sizeof *mine);
            size_t k = 0;
            for (size_t i = 0; i < v->nrecs; i++)
                if (v->recs[i].partition == p)
                    mine[k++] = v->recs[i];
            sq_audit_partition(res, p, mine, k, batches, nb);
            free(mine);
        }
        free(batches);
    }
    rd_kafka_metadata_destroy(md);
    res->done = all;
}

/* ---- mock mode ------------------------------------------------------------ */

static pid_t hp_spawn(char **argv, const char *bootstrap) {
    /* substitute {bootstrap} */
    int n = 0;
    while (argv[n])
        n++;
    char **av = calloc((size_t)n + 1, sizeof *av);
    for (int i = 0; i < n; i++)
        av[i] = strcmp(argv[i], "{bootstrap}") ? argv[i] : (char *)bootstrap;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        hp_die("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        execvp(av[0], av);
        fprintf(stderr, "rdk_helper: cannot run %s: %s\n", av[0], strerror(errno));
        _exit(127);
    }
    free(av);
    return pid;
}

/* Waits for pid up to deadline; kills it after. Returns its exit status,
 * or -1 when it had to be killed. */
static int hp_wait_child(pid_t pid, int64_t deadline) {
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
        if (r < 0 && errno != EINTR)
            return -1;
        if (hp_now_ms() >= deadline || hp_stop_signal) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            fprintf(stderr, "rdk_helper: command killed (%s)\n", hp_stop_signal ? "signal" : "timeout");
            return -1;
        }
        hp_sleep_ms(10);
    }
}

static int hp_mode_mock(hp_common *c, int brokers, int rtt_ms, char **faults, int nfaults, char **cmd) {
    char es[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    hp_set(conf, "client.id", "rdk_helper-mock-owner");
    rd_kafka_conf_set_log_cb(conf, hp_log_cb);
    rd_kafka_t *owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof es);
    if (!owner)
        hp_die("mock owner handle: %s", es);
    hp_mock m;
    memset(&m, 0, sizeof m);
    atomic_init(&m.stop, false);
    pthread_mutex_init(&m.lock, NULL);
    m.mc = rd_kafka_mock_cluster_new(owner, brokers);
    if (!m.mc)
        hp_die("rd_kafka_mock_cluster_new failed");
    m.topic = c->topic;
    m.partitions = c->partitions > 0 ? c->partitions : 4;
    m.brokers = brokers;
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(m.mc, c->topic, m.partitions, brokers < 3 ? brokers : 3);
    if (err)
        hp_die("rd_kafka_mock_topic_create: %s", rd_kafka_err2str(err));
    if (rtt_ms > 0)
        rd_kafka_mock_broker_set_rtt(m.mc, -1, rtt_ms);
    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(m.mc);
    printf("bootstrap %s\n", bootstrap);
    fflush(stdout);

    m.watch = hp_consumer_new(bootstrap);
    for (int i = 0; i < nfaults; i++)
        hp_fault_parse(&m.faults[i], faults[i], c->count);
    m.nfaults = nfaults;
    /* faults @0 fire before the command starts */
    for (int i = 0; i < m.nfaults; i++)
        if (m.faults[i].at == 0)
            hp_fault_fire(&m, &m.faults[i], 0);
    pthread_t th;
    bool thread = m.nfaults > 0 && pthread_create(&th, NULL, hp_fault_thread, &m) == 0;

    int64_t deadline = hp_now_ms() + c->timeout_ms;
    int cmd_rc = 0;
    if (cmd && cmd[0]) {
        pid_t pid = hp_spawn(cmd, bootstrap);
        cmd_rc = hp_wait_child(pid, deadline);
        fprintf(stderr, "rdk_helper: command exited %d\n", cmd_rc);
    } else {
        /* wait for a line on stdin, SIGTERM/SIGINT, or the timeout */
        char line[256];
        while (!hp_stop_signal && hp_now_ms() < deadline) {
            struct pollfd pfd = { 0, POLLIN, 0 };
            int r = poll(&pfd, 1, 100);
            if (r > 0) {
                if (!fgets(line, sizeof line, stdin))
                    break;
                break;
            }
        }
    }
    atomic_store(&m.stop, true);
    if (thread)
        pthread_join(th, NULL);

    char note[256] = "";
    bool faults_ok = true;
    for (int i = 0; i < m.nfaults; i++)
        if (!m.faults[i].fired) {
            faults_ok = false;
            snprintf(note, sizeof note, "fault_%s_never_fired(progress_%" PRId64 "_of_%" PRId64 ")",
                     m.faults[i].spec, m.max_seen, m.faults[i].at);
            fprintf(stderr, "rdk_helper: fault %s never fired: the topic reached %" PRId64
                            " records, the fault waited for %" PRId64 "\n",
                    m.faults[i].spec, m.max_seen, m.faults[i].at);
        }
    if (cmd_rc != 0 && !*note)
        snprintf(note, sizeof note, "command_exit_%d", cmd_rc);

    vf_state v;
    vf_init(&v, c->count, c->size, c->key_space, m.partitions);
    hp_common cc = *c;
    cc.timeout_ms = c->timeout_ms < 30000 ? c->timeout_ms : 30000;
    bool cons_ok = hp_consume(bootstrap, &cc, &v);
    if (!cons_ok && !*note)
        snprintf(note, sizeof note, "consumer_errors");
    /* Whose duplicates and reorders? With producer ids in the log, a
     * duplicate is excused when the broker appended the same sequence
     * twice, a reorder when the broker appended a lower sequence after a
     * higher one, and only if the producer's sequences follow its send
     * order (sq_audit). */
    sq_result sq;
    sq_audit(m.watch, c->topic, m.partitions, &v, &sq);
    bool producer_clean = false;
    if (sq.done && sq.checked > 0) {
        producer_clean = sq.producer_faults == 0 && sq.broker_dups == v.dups && (v.reorders == 0 || sq.broker_ooo + sq.broker_dups > 0);
        printf("audit: %" PRId64 " records with producer ids: broker accepted %" PRId64 " duplicate, %" PRId64
               " out-of-order and %" PRId64 " gapped sequences; producer faults %" PRId64 "\n",
               sq.checked, sq.broker_dups, sq.broker_ooo, sq.broker_gaps, sq.producer_faults);
        if (sq.producer_faults > 0 && !*note)
            snprintf(note, sizeof note, "producer_sequence_faults_%" PRId64, sq.producer_faults);
    }
    if (producer_clean && (v.dups > 0 || v.reorders > 0))
        vf_excused = true; /* every one of them is the broker's */
    printf("AUDIT case=%s done=%d checked=%" PRId64 " broker_dups=%" PRId64 " broker_ooo=%" PRId64
           " broker_gaps=%" PRId64 " producer_faults=%" PRId64 "\n",
           c->case_name, (int)sq.done, sq.checked, sq.broker_dups, sq.broker_ooo, sq.broker_gaps, sq.producer_faults);
    bool pass = vf_report(&v, c->case_name, faults_ok && cmd_rc == 0 && cons_ok, note);
    vf_free(&v);
    rd_kafka_destroy(m.watch);
    rd_kafka_mock_cluster_destroy(m.mc);
    rd_kafka_destroy(owner);
    pthread_mutex_destroy(&m.lock);
    return pass ? 0 : 1;
}

/* ---- produce mode -------------------------------------------------------- */

typedef struct hp_prod {
    uint8_t *acked;
    int64_t delivered, failed, delivered_twice;
    rd_kafka_resp_err_t first_err;
} hp_prod;

static void hp_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    hp_prod *p = opaque;
    int64_t n = (int64_t)(intptr_t)m->_private;
    if (m->err) {
        p->failed++;
        if (!p->first_err)
            p->first_err = m->err;
        return;
    }
    if (p->acked[n]++)
        p->delivered_twice++;
    else
        p->delivered++;
}

static int hp_mode_produce(hp_common *c, const char *bootstrap, const char *codec, bool idempotence,
                           const char *acks) {
    char es[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    hp_prod pr;
    memset(&pr, 0, sizeof pr);
    pr.acked = calloc((size_t)c->count + 1, 1);
    hp_set(conf, "bootstrap.servers", bootstrap);
    hp_set(conf, "client.id", "rdk_helper-producer");
    hp_set(conf, "compression.codec", codec);
    hp_set(conf, "enable.idempotence", idempotence ? "true" : "false");
    hp_set(conf, "partitioner", "murmur2_random"); /* the Java DefaultPartitioner's placement */
    hp_set(conf, "linger.ms", "5");
    if (acks)
        hp_set(conf, "acks", acks);
    hp_set(conf, "message.timeout.ms", "60000");
    rd_kafka_conf_set_dr_msg_cb(conf, hp_dr_cb);
    rd_kafka_conf_set_opaque(conf, &pr);
    rd_kafka_conf_set_log_cb(conf, hp_log_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof es);
    if (!rk)
        hp_die("producer: %s", es);
    char *val = malloc((size_t)c->size + 32);
    char key[64];
    int64_t deadline = hp_now_ms() + c->timeout_ms;
    int64_t sent = 0;
    for (int64_t n = 0; n < c->count && hp_now_ms() < deadline; n++) {
        int len = snprintf(val, (size_t)c->size + 32, "%" PRId64 " ", n);
        if (len < c->size) {
            memset(val + len, '.', (size_t)(c->size - len));
            len = c->size;
        }
        int kl = c->key_space > 0 ? snprintf(key, sizeof key, "key-%" PRId64, n % c->key_space) : 0;
        const char *kptr = c->key_space > 0 ? key : NULL;
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(c->topic), RD_KAFKA_V_VALUE(val, (size_t)len),
                RD_KAFKA_V_KEY(kptr, (size_t)kl), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_OPAQUE((void *)(intptr_t)n), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
                sent++;
                break;
            }
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || hp_now_ms() >= deadline) {
                fprintf(stderr, "produce: record %" PRId64 ": %s\n", n, rd_kafka_err2str(e));
                goto done;
            }
            rd_kafka_poll(rk, 10);
        }
        rd_kafka_poll(rk, 0);
    }
done:;
    int64_t left = deadline - hp_now_ms();
    rd_kafka_flush(rk, (int)(left > 0 ? left : 0));
    int outq = rd_kafka_outq_len(rk);
    bool pass = pr.delivered == c->count && pr.failed == 0 && pr.delivered_twice == 0 && outq == 0;
    printf("RESULT case=%s sent=%" PRId64 " delivered=%" PRId64 " failed=%" PRId64 " twice=%" PRId64
           " unfinished=%d first_error=%s result=%s\n",
           c->case_name, sent, pr.delivered, pr.failed, pr.delivered_twice, outq,
           pr.first_err ? rd_kafka_err2name(pr.first_err) : "none", pass ? "PASS" : "FAIL");
    fflush(stdout);
    rd_kafka_destroy(rk);
    free(val);
    free(pr.acked);
    return pass ? 0 : 1;
}

/* ---- verify mode (kcat output) --------------------------------------- */

static int hp_mode_verify(hp_common *c) {
    vf_state v;
    vf_init(&v, c->count, c->size, c->key_space, c->partitions);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t malformed = 0;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = 0;
        char *t1 = strchr(line, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t1 || !t2) {
            if (malformed++ < 5)
                fprintf(stderr, "verify: line without two tabs: %.60s\n", line);
            continue;
        }
        *t1 = *t2 = 0;
        char *end;
        long p = strtol(line, &end, 10);
        if (*end || p < 0 || p >= VF_MAX_PARTITIONS) {
            malformed++;
            continue;
        }
        size_t kl = (size_t)(t2 - t1 - 1);
        vf_add(&v, (int32_t)p, kl ? t1 + 1 : NULL, kl, t2 + 1, (size_t)(line + len - t2 - 1));
    }
    free(line);
    char note[64] = "";
    if (malformed)
        snprintf(note, sizeof note, "%" PRId64 "_malformed_lines", malformed);
    bool pass = vf_report(&v, c->case_name, malformed == 0, note);
    vf_free(&v);
    return pass ? 0 : 1;
}

/* ---- partitioner mode --------------------------------------------------- */

/* splitmix64: a fixed, documented sequence for the keys. */
static uint64_t hp_mix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int hp_mode_partitioner(const char *kpsim, int64_t nkeys, uint64_t seed, const char *plist) {
    /* keys of every length 0..64 bytes, in three kinds taking turns:
     * printable ASCII; valid multibyte UTF-8 (2-, 3- and 4-byte characters
     * mixed with ASCII, cut at the length); and raw bytes 1..255 except TAB
     * and LF (kpsim partition prints KEY<TAB>PARTITION lines; argv cannot
     * hold NUL) — so every tail length and high, non-UTF-8 bytes are
     * covered. */
    static const char *const utf8[] = { "\xc3\xa9", "\xd0\x96", "\xe4\xb8\xad", "\xe2\x82\xac",
                                        "\xf0\x9f\x98\x80", "\xf0\x90\x8d\x88", "a", "Z", "7" };
    char **keys = calloc((size_t)nkeys, sizeof *keys);
    uint64_t s = seed;
    for (int64_t i = 0; i < nkeys; i++) {
        size_t len = (size_t)(i % 65); /* every length, many times over */
        keys[i] = malloc(len + 1);
        size_t j = 0;
        while (j < len) {
            switch (i % 3) {
            case 0: /* printable ASCII */
                keys[i][j++] = (char)(' ' + (int)(hp_mix(&s) % 95));
                break;
            case 1: { /* UTF-8: whole characters while they fit, then ASCII */
                const char *c = utf8[hp_mix(&s) % (sizeof utf8 / sizeof utf8[0])];
                size_t cl = strlen(c);
                if (j + cl > len)
                    c = "x", cl = 1;
                memcpy(keys[i] + j, c, cl);
                j += cl;
                break;
            }
            default: { /* raw bytes */
                int b;
                do
                    b = (int)(hp_mix(&s) & 0xff);
                while (b == 0 || b == '\t' || b == '\n');
                keys[i][j++] = (char)b;
            }
            }
        }
        keys[i][len] = 0;
    }
    int64_t agree = 0, disagree = 0, compared = 0;
    int ncounts = 0;
    char pbuf[256];
    snprintf(pbuf, sizeof pbuf, "%s", plist);
    for (char *tok = strtok(pbuf, ","); tok; tok = strtok(NULL, ",")) {
        int32_t np = (int32_t)hp_int("--partitions", tok, 1, INT32_MAX);
        ncounts++;
        int fds[2];
        if (pipe(fds) != 0)
            hp_die("pipe: %s", strerror(errno));
        char **av = calloc((size_t)nkeys + 6, sizeof *av);
        int a = 0;
        av[a++] = (char *)kpsim;
        av[a++] = "partition";
        av[a++] = "--partitions";
        av[a++] = tok;
        av[a++] = "--";
        for (int64_t i = 0; i < nkeys; i++)
            av[a++] = keys[i];
        av[a] = NULL;
        pid_t pid = fork();
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            dup2(fds[1], 1);
            close(fds[0]);
            close(fds[1]);
            execv(kpsim, av);
            _exit(127);
        }
        free(av);
        close(fds[1]);
        FILE *in = fdopen(fds[0], "r");
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        int64_t i = 0;
        int shown = 0;
        while ((len = getline(&line, &cap, in)) >= 0 && i < nkeys) {
            char *tab = memrchr(line, '\t', (size_t)len);
            size_t klen = strlen(keys[i]);
            long got = tab ? strtol(tab + 1, NULL, 10) : -1;
            int32_t want = rd_kafka_msg_partitioner_murmur2(NULL, keys[i], klen, np, NULL, NULL);
            if (!tab || (size_t)(tab - line) != klen || memcmp(line, keys[i], klen) != 0) {
                disagree++;
                if (shown++ < 5)
                    fprintf(stderr, "partitioner: N=%d key %" PRId64 ": kpsim printed a different key\n", (int)np, i);
            } else if (got != want) {
                disagree++;
                if (shown++ < 5) {
                    fprintf(stderr, "partitioner: N=%d key %" PRId64 " (hex", (int)np, i);
                    for (size_t j = 0; j < klen; j++)
                        fprintf(stderr, " %02x", (unsigned char)keys[i][j]);
                    fprintf(stderr, "): kpsim %ld, librdkafka %d\n", got, (int)want);
                }
            } else {
                agree++;
            }
            i++;
            compared++;
        }
        free(line);
        fclose(in);
        int st;
        waitpid(pid, &st, 0);
        if (i != nkeys || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "partitioner: N=%d: kpsim partition answered %" PRId64 " of %" PRId64 " keys (status %d)\n",
                    (int)np, i, nkeys, st);
            disagree += nkeys - i;
        }
    }
    for (int64_t i = 0; i < nkeys; i++)
        free(keys[i]);
    free(keys);
    bool pass = disagree == 0 && compared == nkeys * ncounts;
    printf("partitioner: %" PRId64 " random keys (seed %" PRIu64 ") x %d partition counts (%s): %" PRId64
           " agree, %" PRId64 " disagree\n",
           nkeys, seed, ncounts, plist, agree, disagree);
    printf("RESULT case=partitioner-murmur2 sent=%" PRId64 " read=%" PRId64 " dups=0 reorders=0 missing=%" PRId64
           " bad=%" PRId64 " result=%s\n",
           nkeys * ncounts, compared, nkeys * ncounts - compared, disagree, pass ? "PASS" : "FAIL");
    return pass ? 0 : 1;
}

/* ---- selftest mode -------------------------------------------------------
 *
 * The checks above must be able to fail. Known-bad inputs, each of which
 * must be caught (and a good one that must not): the verifier on
 * duplicates, reorders, missing records, a wrong value, a wrong key, a
 * keyed record off murmur2's partition; the sequence audit on a batch
 * appended twice, a lower sequence appended after a higher one, and
 * sequences that do not follow send order. */

static int st_fail, st_total;
static void st_expect(bool ok, const char *what) {
    st_total++;
    printf("%s selftest: %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok)
        st_fail++;
}

static void st_value(char *buf, size_t cap, int64_t n, int size) {
    int len = snprintf(buf, cap, "%" PRId64 " ", n);
    while (len < size && (size_t)len + 1 < cap)
        buf[len++] = '.';
    buf[len] = 0;
}

static int hp_mode_selftest(void) {
    char val[64], key[32];
    vf_state v;
    /* a clean run: 8 unkeyed records over 2 partitions in order */
    vf_init(&v, 8, 10, 0, 2);
    for (int64_t n = 0; n < 8; n++) {
        st_value(val, sizeof val, n, 10);
        vf_add(&v, (int32_t)(n % 2), NULL, 0, val, strlen(val));
    }
    st_expect(vf_missing(&v) == 0 && v.dups == 0 && v.reorders == 0 && v.bad_content == 0, "clean run passes");
    /* record 3 again on partition 1, then record 1 after it: a duplicate and a reorder */
    st_value(val, sizeof val, 3, 10);
    vf_add(&v, 1, NULL, 0, val, strlen(val));
    st_expect(v.dups == 1, "a record read twice is a duplicate");
    st_expect(v.reorders == 1, "a record below the partition's last is a reorder");
    vf_free(&v);
    vf_init(&v, 4, 10, 0, 2);
    st_value(val, sizeof val, 0, 10);
    vf_add(&v, 0, NULL, 0, val, strlen(val));
    vf_add(&v, 0, NULL, 0, "1 ,,,,,,,,", 10);
    st_expect(v.bad_content == 1, "a value not in the layout is bad content");
    st_expect(vf_missing(&v) == 2, "records never read are missing");
    vf_free(&v);
    /* keyed: key of another record; a key off murmur2's partition */
    vf_init(&v, 10, 10, 3, 4);
    st_value(val, sizeof val, 4, 10);
    vf_add(&v, 0, "key-2", 5, val, strlen(val));
    st_expect(v.bad_key == 1, "a key that is not key-<n mod K> is bad");
    snprintf(key, sizeof key, "key-1");
    int32_t right = rd_kafka_msg_partitioner_murmur2(NULL, key, 5, 4, NULL, NULL);
    vf_add(&v, (right + 1) % 4, key, 5, val, strlen(val));
    st_expect(v.bad_partition == 1, "a keyed record off murmur2's partition is bad");
    vf_free(&v);

    /* the sequence audit: records (offset, number) against batch headers */
    struct vf_rec recs[8];
    sq_batch good[2] = { { 0, 4, 7, 0, 0 }, { 4, 4, 7, 0, 4 } };
    for (int i = 0; i < 8; i++)
        recs[i] = (struct vf_rec){ 0, i, i };
    sq_result r;
    memset(&r, 0, sizeof r);
    sq_audit_partition(&r, 0, recs, 8, good, 2);
    st_expect(r.checked == 8 && r.broker_dups == 0 && r.broker_ooo == 0 && r.producer_faults == 0,
              "audit: in-order sequences are clean");
    /* batch with sequences 0..3 stored twice: records 0..3 again at offsets 4..7 */
    sq_batch twice[2] = { { 0, 4, 7, 0, 0 }, { 4, 4, 7, 0, 0 } };
    for (int i = 0; i < 8; i++)
        recs[i] = (struct vf_rec){ 0, i, i % 4 };
    memset(&r, 0, sizeof r);
    sq_audit_partition(&r, 0, recs, 8, twice, 2);
    st_expect(r.broker_dups == 4 && r.producer_faults == 0, "audit: a batch stored twice is the broker's duplicate");
    /* sequences 4..7 stored before 0..3, records follow their sequences */
    sq_batch swapped[2] = { { 0, 4, 7, 0, 4 }, { 4, 4, 7, 0, 0 } };
    for (int i = 0; i < 8; i++)
        recs[i] = (struct vf_rec){ 0, i, i < 4 ? i + 4 : i - 4 };
    memset(&r, 0, sizeof r);
    sq_audit_partition(&r, 0, recs, 8, swapped, 2);
    st_expect(r.broker_ooo == 4 && r.producer_faults == 0, "audit: a lower sequence after a higher one is the broker's reorder");
    /* sequences 0..3 then 8..11: four skipped */
    sq_batch gapped[2] = { { 0, 4, 7, 0, 0 }, { 4, 4, 7, 0, 8 } };
    for (int i = 0; i < 8; i++)
        recs[i] = (struct vf_rec){ 0, i, i };
    memset(&r, 0, sizeof r);
    sq_audit_partition(&r, 0, recs, 8, gapped, 2);
    st_expect(r.broker_gaps == 1 && r.producer_faults == 0, "audit: a batch past the next sequence is a gap the broker accepted");
    /* in-order sequences, but the producer gave sequences 4..7 to records 0..3 */
    for (int i = 0; i < 8; i++)
        recs[i] = (struct vf_rec){ 0, i, i < 4 ? i + 4 : i - 4 };
    memset(&r, 0, sizeof r);
    sq_audit_partition(&r, 0, recs, 8, good, 2);
    st_expect(r.producer_faults > 0 && r.broker_ooo == 0, "audit: sequences against send order are the producer's fault");
    /* one sequence carrying two different records */
    for (int i = 0; i < 8; i++)
        recs[i] = (struct vf_rec){ 0, i, i };
    memset(&r, 0, sizeof r);
    sq_audit_partition(&r, 0, recs, 8, twice, 2);
    st_expect(r.producer_faults > 0, "audit: one sequence with two records is the producer's fault");
    printf("RESULT case=helper-selftest sent=%d read=%d dups=0 reorders=0 missing=0 bad=%d result=%s\n", st_total,
           st_total - st_fail, st_fail, st_fail ? "FAIL" : "PASS");
    return st_fail ? 1 : 0;
}

/* ---- main ------------------------------------------------------------------ */

static void hp_usage(void) {
    fprintf(stderr,
            "usage:\n"
            "  rdk_helper mock --topic T [--partitions P] [--brokers 3] --count N [--size B] [--key-space K]\n"
            "                  [--rtt-ms MS] [--fault SPEC]... [--case NAME] [--timeout-ms MS] [-- CMD ARG...]\n"
            "      SPEC: not_leader:N | timed_out:N | disconnect:N | leader_move | broker_down:MS,\n"
            "            each optionally @F (fire once the topic holds F*count records; default 0 = at once)\n"
            "      CMD: every argument \"{bootstrap}\" becomes the mock's bootstrap list; without CMD\n"
            "           the helper waits for a line on stdin (or SIGTERM) before consuming\n"
            "  rdk_helper consume --bootstrap B --topic T --count N [--size B] [--key-space K] [--timeout-ms MS]\n"
            "  rdk_helper produce --bootstrap B --topic T --count N [--size B] [--key-space K]\n"
            "                     [--codec none|gzip|snappy|lz4|zstd] [--idempotence] [--acks N] [--timeout-ms MS]\n"
            "  rdk_helper verify --count N [--size B] [--key-space K] [--partitions P]   < kcat -f '%%p\\t%%k\\t%%s\\n'\n"
            "  rdk_helper partitioner --kpsim PATH [--keys 10000] [--seed 42] [--partitions 1,2,3,...]\n"
            "  rdk_helper selftest      the checks above catch known-bad input\n");
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 2)
        hp_usage();
    const char *mode = argv[1];
    hp_common c = { "case", NULL, 0, 100, 0, 0, 60000 };
    const char *bootstrap = NULL, *codec = "none", *kpsim = NULL, *acks = NULL, *plist = "1,2,3,4,6,7,12,16,31,100,1000,2147483647";
    bool idem = false;
    int brokers = 3, rtt = 0, nfaults = 0;
    char *faults[HP_MAX_FAULTS];
    int64_t nkeys = 10000;
    uint64_t seed = 42;
    char **cmd = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            cmd = &argv[i + 1];
            break;
        }
        if (!strcmp(a, "--idempotence")) {
            idem = true;
            continue;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v)
            hp_die("%s needs a value", a);
        if (!strcmp(a, "--topic"))
            c.topic = v;
        else if (!strcmp(a, "--case"))
            c.case_name = v;
        else if (!strcmp(a, "--count"))
            c.count = hp_int(a, v, 0, INT32_MAX);
        else if (!strcmp(a, "--size"))
            c.size = (int32_t)hp_int(a, v, 0, 1 << 20);
        else if (!strcmp(a, "--key-space"))
            c.key_space = (int32_t)hp_int(a, v, 0, INT32_MAX);
        else if (!strcmp(a, "--partitions") && strcmp(mode, "partitioner") != 0)
            c.partitions = (int32_t)hp_int(a, v, 1, VF_MAX_PARTITIONS);
        else if (!strcmp(a, "--partitions"))
            plist = v;
        else if (!strcmp(a, "--timeout-ms"))
            c.timeout_ms = hp_int(a, v, 1, 3600000);
        else if (!strcmp(a, "--bootstrap"))
            bootstrap = v;
        else if (!strcmp(a, "--codec"))
            codec = v;
        else if (!strcmp(a, "--acks"))
            acks = v;
        else if (!strcmp(a, "--brokers"))
            brokers = (int)hp_int(a, v, 1, 16);
        else if (!strcmp(a, "--rtt-ms"))
            rtt = (int)hp_int(a, v, 0, 10000);
        else if (!strcmp(a, "--fault")) {
            if (nfaults == HP_MAX_FAULTS)
                hp_die("at most %d --fault", HP_MAX_FAULTS);
            faults[nfaults++] = (char *)v;
        } else if (!strcmp(a, "--kpsim"))
            kpsim = v;
        else if (!strcmp(a, "--keys"))
            nkeys = hp_int(a, v, 1, 1000000);
        else if (!strcmp(a, "--seed"))
            seed = (uint64_t)hp_int(a, v, 0, INT64_MAX);
        else
            hp_die("unknown option %s", a);
    }
    hp_wall_start = hp_wall_ms();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = hp_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!strcmp(mode, "partitioner")) {
        if (!kpsim)
            hp_die("partitioner: --kpsim PATH is required");
        return hp_mode_partitioner(kpsim, nkeys, seed, plist);
    }
    if (!strcmp(mode, "verify"))
        return hp_mode_verify(&c);
    if (!strcmp(mode, "selftest"))
        return hp_mode_selftest();
    if (!c.topic)
        hp_die("%s: --topic is required", mode);
    if (!strcmp(mode, "mock"))
        return hp_mode_mock(&c, brokers, rtt, faults, nfaults, cmd);
    if (!bootstrap)
        hp_die("%s: --bootstrap is required", mode);
    if (!strcmp(mode, "produce"))
        return hp_mode_produce(&c, bootstrap, codec, idem, acks);
    if (!strcmp(mode, "consume")) {
        vf_state v;
        vf_init(&v, c.count, c.size, c.key_space, c.partitions);
        bool ok = hp_consume(bootstrap, &c, &v);
        bool pass = vf_report(&v, c.case_name, ok, ok ? "" : "consumer_errors");
        vf_free(&v);
        return pass ? 0 : 1;
    }
    hp_usage();
    return 2;
}
