/*
 * cmd_produce.c — `kpsim produce --bootstrap HOST:PORT --topic T
 * [--count N] [--size B] [--key-space K] [--set producer.X=V]...
 * [--timeout-ms MS] [--quiet]`: the producer library on real TCP.
 *
 * The loop is simnet's live loop (simnet/live.h: poll(), CLOCK_MONOTONIC,
 * a socket kp_transport). Two actors share it, as in the simulation: the
 * application actor sends records until a send blocks (then it waits for
 * on_unblocked) or all are sent, then flushes and closes; the Sender actor
 * is kp_producer_run_once, called again after the time it returns or as
 * soon as env.wakeup / a socket readiness event fires.
 *
 * Record n (0-based): value = "<n> " padded with '.' to --size bytes (just
 * "<n> " when --size is smaller), so a consumer can check loss, duplicates
 * and order; key = "key-<n mod K>" when --key-space K > 0, else null.
 *
 * Prints a summary: records acknowledged (once / more than once), failed by
 * error, duplicates avoided (DUPLICATE_SEQUENCE_NUMBER answers taken as
 * success), retries, splits, the sender's metrics. Exit 0 iff every record
 * was acknowledged exactly once; 1 otherwise; 2 for bad usage.
 *
 * Why connections went away: the producer's observer collects each distinct
 * (node, error, reason) of a closed connection or a malformed answer
 * (correlation id out of order, a frame size out of range, a body the
 * decoder refused, a request timeout) and the run ends with one line per
 * reason on stderr, with a count — so "the broker is broken" reads
 * differently from "the network is slow".
 */
#include "kp_cli.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_config.h"
#include "kp_events.h"
#include "kp_producer.h"
#include "live.h"

static int pr_run(int argc, char **argv);

const kp_cmd kp_cmd_produce = {
    .name = "produce",
    .synopsis = "produce --bootstrap HOST:PORT --topic T [--count N] [--size B] [--key-space K] "
                "[--set producer.X=V]... [--timeout-ms MS] [--quiet]",
    .summary = "Run the producer on real TCP against any Kafka-protocol broker and summarise.",
    .help =
        "Record n has value \"<n> \" padded with '.' to B bytes and, with --key-space K > 0,\n"
        "key \"key-<n mod K>\". Sends as fast as the producer accepts (a blocked send waits),\n"
        "then flushes and closes. Exit 0 iff every record was acknowledged exactly once.\n\n"
        "options:\n"
        "  --bootstrap HOST:PORT  bootstrap.servers (comma-separated list allowed)\n"
        "  --topic T              topic to produce to\n"
        "  --count N              records to send (default 1000)\n"
        "  --size B               value size in bytes (default 100)\n"
        "  --key-space K          distinct keys; 0 = null keys (default 0)\n"
        "  --set producer.X=V     any producer setting, e.g. producer.enable.idempotence=true\n"
        "  --timeout-ms MS        give up (close with forceClose) after MS (default 300000)\n"
        "  --quiet                summary line only\n\n"
        "example:\n"
        "  kpsim broker --listen 127.0.0.1:9092 &\n"
        "  kpsim produce --bootstrap 127.0.0.1:9092 --topic t --count 100000 \\\n"
        "      --set producer.enable.idempotence=true\n",
    .run = pr_run,
};

typedef struct pr_state {
    sn_live *live;
    kp_producer *p;
    int64_t count, next;
    int32_t size, key_space;
    uint8_t *acks;        /* per record: successful callbacks (saturating) */
    uint8_t *fails;       /* per record: failed callbacks */
    int64_t acked_once, acked_more, failed_records;
    int64_t failed_by_err[256]; /* index: err + 128 (clamped) */
    bool blocked, closed, flushed, closing;
    char *value;
    char key[64];
} pr_state;

static int pr_err_index(kp_err e) {
    int i = (int)e + 128;
    return i < 0 ? 0 : i > 255 ? 255 : i;
}

static pr_state *pr_g;       /* the one producer run of this process */

/* Distinct reasons connections were closed or answers refused, in order of
 * first appearance (a bounded table; reasons past it are counted only). */
#define PR_WHY_MAX 16
typedef struct pr_why {
    int32_t node;
    kp_err err;
    int kind;
    char detail[96];
    int64_t count, last_bytes;
} pr_why;
static pr_why pr_whys[PR_WHY_MAX];
static int pr_nwhy;
static int64_t pr_why_overflow;

static void pr_on_event(void *ctx, const kp_event *ev) {
    (void)ctx;
    bool bad_answer = ev->kind == KP_EV_PRODUCE_RESPONSE && ev->batch_id < 0 && ev->err != KP_ERR_NONE;
    if (ev->kind != KP_EV_DISCONNECTED && !bad_answer)
        return;
    const char *d = ev->detail ? ev->detail : "";
    for (int i = 0; i < pr_nwhy; i++) {
        pr_why *w = &pr_whys[i];
        if (w->node == ev->node && w->err == ev->err && w->kind == ev->kind &&
            strncmp(w->detail, d, sizeof w->detail - 1) == 0) {
            w->count++;
            w->last_bytes = ev->bytes;
            return;
        }
    }
    if (pr_nwhy == PR_WHY_MAX) {
        pr_why_overflow++;
        return;
    }
    pr_why *w = &pr_whys[pr_nwhy++];
    w->node = ev->node;
    w->err = ev->err;
    w->kind = ev->kind;
    snprintf(w->detail, sizeof w->detail, "%s", d);
    w->count = 1;
    w->last_bytes = ev->bytes;
}

static void pr_print_whys(void) {
    for (int i = 0; i < pr_nwhy; i++) {
        const pr_why *w = &pr_whys[i];
        char last[48] = "";
        /* a protocol violation (_BAD_MSG close) carries the size of the
         * frame refused (any value, -1 included), a malformed answer its
         * body length */
        bool sized = w->kind != KP_EV_DISCONNECTED || w->err == KP_ERR__BAD_MSG;
        if (sized || w->last_bytes != -1)
            snprintf(last, sizeof last, " (last: %lld bytes)", (long long)w->last_bytes);
        fprintf(stderr, "kpsim produce: node %d: %s %lld time%s (%s): %s%s\n", (int)w->node,
                w->kind == KP_EV_DISCONNECTED ? "connection closed" : "malformed answer",
                (long long)w->count, w->count == 1 ? "" : "s", kp_err_name(w->err), w->detail, last);
    }
    if (pr_why_overflow)
        fprintf(stderr, "kpsim produce: %lld more events of other reasons\n", (long long)pr_why_overflow);
}
static const char *pr_topic;

static void pr_record_cb(void *ctx, const kp_record_metadata *md, kp_err err, const char *msg) {
    (void)md;
    (void)msg;
    pr_state *st = pr_g;
    int64_t n = (int64_t)(uintptr_t)ctx;
    if (n < 0 || n >= st->count)
        return;
    if (err == KP_ERR_NONE) {
        if (st->acks[n] == 0)
            st->acked_once++;
        else if (st->acks[n] == 1)
            st->acked_more++;
        if (st->acks[n] < 255)
            st->acks[n]++;
    } else {
        if (st->fails[n] == 0)
            st->failed_records++;
        if (st->fails[n] < 255)
            st->fails[n]++;
        st->failed_by_err[pr_err_index(err)]++;
    }
}

static void pr_unblocked(void *ctx) { ((pr_state *)ctx)->blocked = false; }
static void pr_flushed(void *ctx) { ((pr_state *)ctx)->flushed = true; }
static void pr_closed(void *ctx) { ((pr_state *)ctx)->closed = true; }

static void pr_wakeup(void *ctx) { sn_live_wakeup(ctx); }

/* The application actor: send until blocked or done. */
static void pr_send_some(pr_state *st) {
    int budget = 10000;
    while (!st->blocked && st->next < st->count && budget-- > 0) {
        int64_t n = st->next;
        int len = snprintf(st->value, (size_t)st->size + 32, "%" PRId64 " ", n);
        if (len < st->size) {
            memset(st->value + len, '.', (size_t)(st->size - len));
            len = st->size;
        }
        kp_producer_record r;
        memset(&r, 0, sizeof r);
        r.topic = pr_topic;
        r.partition = -1;
        r.timestamp = -1;
        r.key = kp_datum_null();
        if (st->key_space > 0) {
            snprintf(st->key, sizeof st->key, "key-%" PRId64, n % st->key_space);
            r.key = kp_datum_bytes(st->key, (int32_t)strlen(st->key));
        }
        r.value = kp_datum_bytes(st->value, len);
        kp_err err;
        char eb[256];
        kp_send_status s = kp_producer_send(st->p, &r, pr_record_cb, (void *)(uintptr_t)n, &err, eb, sizeof eb);
        st->next++;
        if (s == KP_SEND_BLOCKED) {
            st->blocked = true;
        } else if (s == KP_SEND_ERROR) {
            if (st->fails[n] == 0)
                st->failed_records++;
            st->fails[n] = 1;
            st->failed_by_err[pr_err_index(err)]++;
        }
    }
}

static int pr_run(int argc, char **argv) {
    const kp_cmd *cmd = &kp_cmd_produce;
    const char *bootstrap = NULL, *topic = NULL;
    int64_t count = 1000, size = 100, keys = 0, timeout_ms = 300000;
    bool quiet = false;
    kp_config cfg;
    kp_config_init(&cfg);
    char eb[512];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quiet")) {
            quiet = true;
            continue;
        }
        if (!v)
            return kp_cli_usage(cmd, "option %s needs a value", a);
        i++;
        if (!strcmp(a, "--bootstrap")) {
            bootstrap = v;
        } else if (!strcmp(a, "--topic")) {
            topic = v;
        } else if (!strcmp(a, "--count")) {
            if (!kp_cli_parse_i64(v, 0, INT32_MAX, &count))
                return kp_cli_usage(cmd, "--count: not an integer in [0, %d]: %s", INT32_MAX, v);
        } else if (!strcmp(a, "--size")) {
            if (!kp_cli_parse_i64(v, 0, 16 * 1024 * 1024, &size))
                return kp_cli_usage(cmd, "--size: not an integer in [0, 16777216]: %s", v);
        } else if (!strcmp(a, "--key-space")) {
            if (!kp_cli_parse_i64(v, 0, INT32_MAX, &keys))
                return kp_cli_usage(cmd, "--key-space: not an integer in [0, %d]: %s", INT32_MAX, v);
        } else if (!strcmp(a, "--timeout-ms")) {
            if (!kp_cli_parse_i64(v, 1, INT64_MAX / 2000, &timeout_ms))
                return kp_cli_usage(cmd, "--timeout-ms: not a positive integer: %s", v);
        } else if (!strcmp(a, "--set")) {
            if (strncmp(v, "producer.", 9) != 0)
                return kp_cli_usage(cmd, "--set %s: only producer.* settings apply here", v);
            if (kp_config_set_kv(&cfg, v + 9, eb, sizeof eb) != KP_ERR_NONE)
                return kp_cli_usage(cmd, "--set %s: %s", v, eb);
        } else {
            return kp_cli_usage(cmd, "unknown option %s", a);
        }
    }
    if (!bootstrap)
        return kp_cli_usage(cmd, "--bootstrap HOST:PORT is required");
    if (!topic || !*topic)
        return kp_cli_usage(cmd, "--topic T is required");
    if (kp_config_set(&cfg, "bootstrap.servers", bootstrap, eb, sizeof eb) != KP_ERR_NONE)
        return kp_cli_usage(cmd, "--bootstrap %s: %s", bootstrap, eb);
    pr_topic = topic;

    kp_observer none = { NULL, NULL };
    sn_live *live = sn_live_new(none);
    if (!live) {
        fprintf(stderr, "kpsim produce: cannot start the event loop\n");
        return KP_EXIT_FAILED;
    }
    kp_env env;
    memset(&env, 0, sizeof env);
    env.clock = sn_live_clock(live);
    env.transport = sn_live_transport(live);
    env.rng = kp_rng_stream((uint64_t)sn_live_now(), "producer");
    env.wakeup = pr_wakeup;
    env.wakeup_ctx = live;
    env.observer = (kp_observer){ pr_on_event, NULL };
    kp_err err;
    kp_producer *p = kp_producer_new(&cfg, &env, &err, eb, sizeof eb);
    if (!p) {
        sn_live_destroy(live);
        fprintf(stderr, "kpsim produce: %s (%s)\n", eb, kp_err_name(err));
        return KP_EXIT_USAGE;
    }
    pr_state *st = calloc(1, sizeof *st);
    st->live = live;
    st->p = p;
    st->count = count;
    st->size = (int32_t)size;
    st->key_space = (int32_t)keys;
    st->acks = calloc((size_t)count + 1, 1);
    st->fails = calloc((size_t)count + 1, 1);
    st->value = malloc((size_t)size + 32);
    if (!st->acks || !st->fails || !st->value) {
        fprintf(stderr, "kpsim produce: out of memory\n");
        return KP_EXIT_FAILED;
    }
    pr_g = st;
    kp_producer_set_on_unblocked(p, pr_unblocked, st);

    kp_time_us start = sn_live_now();
    kp_time_us deadline = start + timeout_ms * 1000;
    bool forced = false;
    int64_t unsent = 0;
    while (!st->closed) {
        pr_send_some(st);
        if (st->next >= st->count && !st->blocked && !st->closing) {
            st->closing = true;
            kp_producer_flush(p, pr_flushed, st);
            kp_producer_close(p, KP_CLOSE_FOREVER, pr_closed, st);
        }
        kp_time_us now = sn_live_now();
        if (!forced && now >= deadline) {
            forced = true;
            fprintf(stderr, "kpsim produce: --timeout-ms %lld passed, closing with forceClose\n",
                    (long long)timeout_ms);
            if (!st->closing) {
                st->closing = true;
                unsent = st->count - st->next; /* the rest are never sent */
                st->next = st->count;
            }
            kp_producer_close(p, 0, pr_closed, st);
        }
        int64_t sleep_ms = kp_producer_run_once(p);
        if (st->closed)
            break;
        if (!st->blocked && st->next < st->count)
            sleep_ms = 0; /* the application has more to send */
        if (sleep_ms > 100)
            sleep_ms = 100;
        sn_live_run_once(live, sn_live_now() + sleep_ms * 1000);
    }
    kp_time_us end = sn_live_now();
    pr_print_whys();

    kp_sender_stats ss;
    kp_producer_sender_stats(p, &ss);
    int64_t not_sent = unsent;
    double secs = (double)(end - start) / 1e6;
    char unsent_note[64] = "";
    if (not_sent > 0)
        snprintf(unsent_note, sizeof unsent_note, ", never sent %lld", (long long)not_sent);
    printf("kpsim produce: %lld records to %s: acknowledged %lld (more than once: %lld), failed %lld%s in %.3f s (%.0f records/s)\n",
           (long long)count, topic, (long long)st->acked_once, (long long)st->acked_more,
           (long long)st->failed_records, unsent_note, secs,
           secs > 0 ? (double)st->acked_once / secs : 0.0);
    if (!quiet) {
        for (int i = 0; i < 256; i++)
            if (st->failed_by_err[i])
                printf("  failed %s: %lld\n", kp_err_name((kp_err)(i - 128)), (long long)st->failed_by_err[i]);
        printf("  duplicates avoided (DUPLICATE_SEQUENCE_NUMBER taken as success): %llu\n",
               (unsigned long long)ss.duplicates);
        printf("  produce requests %llu, batches %llu, retries %llu, splits %llu, expired %llu, "
               "InitProducerId %llu, producer id resets %llu\n",
               (unsigned long long)ss.produce_requests, (unsigned long long)ss.batches_sent,
               (unsigned long long)ss.retries, (unsigned long long)ss.splits, (unsigned long long)ss.expired,
               (unsigned long long)ss.init_producer_id, (unsigned long long)ss.producer_id_resets);
        kp_metrics_dump(kp_producer_metrics(p), stdout, end / 1000);
    }
    int rc = st->acked_once == count && st->acked_more == 0 && st->failed_records == 0 && not_sent == 0 ? KP_EXIT_OK
                                                                                        : KP_EXIT_FAILED;
    kp_producer_destroy(p);
    sn_live_destroy(live);
    free(st->acks);
    free(st->fails);
    free(st->value);
    free(st);
    pr_g = NULL;
    return rc;
}
