/*
 * bm_config.c — broker and topic settings by their Kafka names (the
 * `broker.KEY=VALUE` overrides of a scenario and of `--set`), see
 * bm_config_set / bm_topic_config_set in bm_cluster.h.
 *
 * One table row per setting: name, kind, range, where it goes. Values are
 * checked completely before anything is stored, so a failed set leaves the
 * config as it was.
 */
#include "bm_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kp_err bm_cfg_fail(char *errbuf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static kp_err bm_cfg_fail(char *errbuf, size_t n, const char *fmt, ...) {
    if (errbuf && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, n, fmt, ap);
        va_end(ap);
    }
    return KP_ERR__CONFIG;
}

static bool bm_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out) {
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool bm_parse_bool(const char *s, bool *out) {
    if (s && !strcmp(s, "true"))
        *out = true;
    else if (s && !strcmp(s, "false"))
        *out = false;
    else
        return false;
    return true;
}

static bool bm_parse_ts_type(const char *s, bool *log_append) {
    if (s && !strcmp(s, "CreateTime"))
        *log_append = false;
    else if (s && !strcmp(s, "LogAppendTime"))
        *log_append = true;
    else
        return false;
    return true;
}

enum { BM_K_INT, BM_K_BOOL, BM_K_TS, BM_K_RATE };

typedef struct bm_cfg_row {
    const char *name;
    int kind;
    int64_t lo, hi;
    int64_t scale; /* value * scale is stored (ms -> us) */
    size_t off;    /* offsetof in bm_config */
    int width;     /* 4 or 8 bytes for ints */
} bm_cfg_row;

#define ROW_I32(n, f, lo, hi) { n, BM_K_INT, lo, hi, 1, offsetof(bm_config, f), 4 }
#define ROW_I64(n, f, lo, hi, sc) { n, BM_K_INT, lo, hi, sc, offsetof(bm_config, f), 8 }
#define ROW_BOOL(n, f) { n, BM_K_BOOL, 0, 0, 1, offsetof(bm_config, f), 0 }

static const bm_cfg_row bm_cfg_rows[] = {
    ROW_I32("message.max.bytes", message_max_bytes, 0, INT32_MAX),
    ROW_I32("min.insync.replicas", min_insync_replicas, 1, INT32_MAX),
    ROW_BOOL("unclean.leader.election.enable", unclean_leader_election),
    ROW_I64("replica.lag.time.max.ms", replica_lag_time_max_ms, 0, INT64_MAX / 1000, 1),
    ROW_I64("replica.fetch.wait.max.ms", replica_fetch_interval_us, 0, INT32_MAX, 1000),
    ROW_I64("kpsim.replica.lag.ms", replica_lag_us, 0, INT64_MAX / 1000, 1000),
    ROW_BOOL("auto.create.topics.enable", auto_create_topics),
    ROW_I32("num.partitions", num_partitions, 1, 100000),
    ROW_I32("default.replication.factor", default_replication_factor, 1, BM_MAX_BROKERS),
    ROW_I64("quota.producer.default", produce_quota_bytes_per_sec, 0, INT64_MAX, 1),
    { "log.message.timestamp.type", BM_K_TS, 0, 0, 1, offsetof(bm_config, log_append_time), 0 },
    ROW_I64("transaction.max.timeout.ms", transaction_max_timeout_ms, 1, INT32_MAX, 1),
    ROW_I64("socket.request.max.bytes", socket_request_max_bytes, 1, INT32_MAX, 1),
    ROW_I64("kpsim.txn.marker.delay.ms", txn_marker_delay_us, 0, INT64_MAX / 1000, 1000),
    { "kpsim.chaos.error.rate", BM_K_RATE, 0, 0, 1, offsetof(bm_config, chaos_error_rate), 0 },
    ROW_BOOL("kpsim.duplicate.as.error", duplicate_as_error),
};

kp_err bm_config_set(bm_config *conf, const char *name, const char *value, char *errbuf,
                     size_t errlen) {
    if (!name)
        return bm_cfg_fail(errbuf, errlen, "broker setting without a name");
    for (size_t i = 0; i < sizeof bm_cfg_rows / sizeof bm_cfg_rows[0]; i++) {
        const bm_cfg_row *r = &bm_cfg_rows[i];
        if (strcmp(r->name, name) != 0)
            continue;
        char *base = (char *)conf + r->off;
        switch (r->kind) {
        case BM_K_INT: {
            int64_t v;
            if (!bm_parse_i64(value, r->lo, r->hi, &v))
                return bm_cfg_fail(errbuf, errlen, "%s must be a whole number from %lld to %lld, got '%s'",
                                   name, (long long)r->lo, (long long)r->hi, value ? value : "");
            v *= r->scale;
            if (r->width == 4) {
                int32_t v32 = (int32_t)v;
                memcpy(base, &v32, sizeof v32);
            } else {
                memcpy(base, &v, sizeof v);
            }
            return KP_ERR_NONE;
        }
        case BM_K_BOOL: {
            bool b;
            if (!bm_parse_bool(value, &b))
                return bm_cfg_fail(errbuf, errlen, "%s must be true or false, got '%s'", name,
                                   value ? value : "");
            memcpy(base, &b, sizeof b);
            return KP_ERR_NONE;
        }
        case BM_K_TS: {
            bool b;
            if (!bm_parse_ts_type(value, &b))
                return bm_cfg_fail(errbuf, errlen, "%s must be CreateTime or LogAppendTime, got '%s'",
                                   name, value ? value : "");
            memcpy(base, &b, sizeof b);
            return KP_ERR_NONE;
        }
        default: {
            char *end;
            double d = value ? strtod(value, &end) : -1;
            if (!value || !*value || *end || !(d >= 0.0 && d <= 1.0))
                return bm_cfg_fail(errbuf, errlen, "%s must be a number from 0 to 1, got '%s'", name,
                                   value ? value : "");
            memcpy(base, &d, sizeof d);
            return KP_ERR_NONE;
        }
        }
    }
    return bm_cfg_fail(errbuf, errlen, "unknown broker setting '%s'", name);
}

void bm_topic_config_defaults(bm_topic_config *tc) {
    tc->max_message_bytes = -1;
    tc->min_insync_replicas = -1;
    tc->unclean_leader_election = -1;
    tc->log_append_time = -1;
}

kp_err bm_topic_config_set(bm_topic_config *tc, const char *name, const char *value, char *errbuf,
                           size_t errlen) {
    int64_t v;
    bool b;
    if (!name)
        return bm_cfg_fail(errbuf, errlen, "topic setting without a name");
    if (!strcmp(name, "max.message.bytes")) {
        if (!bm_parse_i64(value, 0, INT32_MAX, &v))
            return bm_cfg_fail(errbuf, errlen, "max.message.bytes must be a whole number from 0 to %d, got '%s'",
                               INT32_MAX, value ? value : "");
        tc->max_message_bytes = (int32_t)v;
    } else if (!strcmp(name, "min.insync.replicas")) {
        if (!bm_parse_i64(value, 1, INT32_MAX, &v))
            return bm_cfg_fail(errbuf, errlen, "min.insync.replicas must be a whole number >= 1, got '%s'",
                               value ? value : "");
        tc->min_insync_replicas = (int32_t)v;
    } else if (!strcmp(name, "unclean.leader.election.enable")) {
        if (!bm_parse_bool(value, &b))
            return bm_cfg_fail(errbuf, errlen, "unclean.leader.election.enable must be true or false, got '%s'",
                               value ? value : "");
        tc->unclean_leader_election = b;
    } else if (!strcmp(name, "message.timestamp.type")) {
        if (!bm_parse_ts_type(value, &b))
            return bm_cfg_fail(errbuf, errlen,
                               "message.timestamp.type must be CreateTime or LogAppendTime, got '%s'",
                               value ? value : "");
        tc->log_append_time = b;
    } else {
        return bm_cfg_fail(errbuf, errlen, "unknown topic setting '%s'", name);
    }
    return KP_ERR_NONE;
}
