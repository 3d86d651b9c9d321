/*
 * sc_scenario.c — scenario files: load (sc_textpb), defaults, `--set`
 * overrides, and the semantic checks with FILE:LINE:COLUMN errors.
 *
 * The checks run in file order (scenario fields, cluster, network,
 * producers, faults, chaos, expectations) and stop at the first problem,
 * so the message a person reads is about the first thing to fix. Each
 * error points at the value that is wrong (or at the field name when the
 * name itself is the problem, or at the enclosing '{' when a required
 * field is missing) and says what would be right.
 *
 * Producer settings are judged by the producer's own configuration code
 * (producer/kp_config: kp_config_set per setting, kp_config_validate for
 * the KafkaProducer constructor's cross-checks), so the scenario loader
 * and the producer can never disagree about what is valid. Broker and
 * topic settings are judged by the tables below, which list the settings
 * the broker mock models (broker_mock/bm_cluster.h, bm_config).
 *
 * Memory: see sc_scenario.h. Strings written into the message by defaults
 * and --set are malloc'd like the parser's, so protobuf-c frees them.
 */
#include "sc_scenario.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bm_cluster.h"
#include "kp_err.h"

/* A value that came from --set rather than the file: errors about it name
 * the --set argument instead of a file position. */
typedef struct sc__override {
    const ProtobufCMessage *msg;
    const char *field;   /* static string; NULL = the whole message */
    char *arg;           /* the --set argument, owned */
} sc__override;

struct sc_scenario {
    Kpsim__Scenario *msg;
    sc_positions *pos;
    char *file;
    sc__override *ov;
    size_t n_ov;
};

#define SC_MAX_BROKERS 64
#define SC_MAX_PARTITIONS 10000
#define SC_MAX_VALUE_SIZE 104857600
#define SC_MAX_HEADERS 1000

/* ======================================================================
 * Errors at positions
 * ==================================================================== */

static const sc__override *sc__override_of(const sc_scenario *sc, const void *msg, const char *field) {
    for (size_t i = sc->n_ov; i-- > 0;)
        if (sc->ov[i].msg == msg && (!sc->ov[i].field || (field && !strcmp(sc->ov[i].field, field))))
            return &sc->ov[i];
    return NULL;
}

static bool sc__verr(const sc_scenario *sc, sc_error *err, const void *msg, const char *field, size_t index,
                     bool at_name, const char *fmt, va_list ap) __attribute__((format(printf, 7, 0)));
static bool sc__verr(const sc_scenario *sc, sc_error *err, const void *msg, const char *field, size_t index,
                     bool at_name, const char *fmt, va_list ap) {
    const sc__override *ov = msg ? sc__override_of(sc, msg, field) : NULL;
    if (ov) {
        char origin[300];
        snprintf(origin, sizeof origin, "--set %s", ov->arg);
        sc_error_vset(err, origin, (sc_pos){ 0, 0 }, fmt, ap);
        return false;
    }
    sc_pos p = { 0, 0 }, name = { 0, 0 }, value = { 0, 0 };
    if (msg && field && sc_positions_field(sc->pos, msg, field, index, &name, &value))
        p = at_name ? name : value;
    if (msg && !p.line)
        sc_positions_message(sc->pos, msg, &p);
    sc_error_vset(err, sc->file, p, fmt, ap);
    return false;
}

bool sc_scenario_error(const sc_scenario *sc, sc_error *err, const void *msg, const char *field, size_t index,
                       const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sc__verr(sc, err, msg, field, index, false, fmt, ap);
    va_end(ap);
    return false;
}

/* Validation context: the scenario and where the error goes. */
typedef struct sc__v {
    sc_scenario *sc;
    sc_error *err;
    const Kpsim__Scenario *s;
    int32_t brokers;
} sc__v;

static bool sc__fail(sc__v *v, const void *msg, const char *field, size_t index, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static bool sc__fail(sc__v *v, const void *msg, const char *field, size_t index, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sc__verr(v->sc, v->err, msg, field, index, false, fmt, ap);
    va_end(ap);
    return false;
}

/* "at 12:5" or "from --set ARG" for a message's field, for messages that
 * point at a second place. */
static const char *sc__origin(const sc_scenario *sc, const void *msg, const char *field, char *buf, size_t cap) {
    const sc__override *ov = sc__override_of(sc, msg, field);
    sc_pos p = sc_scenario_pos(sc, msg, field, 0);
    if (ov)
        snprintf(buf, cap, "from --set %s", ov->arg);
    else if (p.line)
        snprintf(buf, cap, "at %d:%d", p.line, p.column);
    else
        snprintf(buf, cap, "by default");
    return buf;
}

sc_pos sc_scenario_pos(const sc_scenario *sc, const void *msg, const char *field, size_t index) {
    sc_pos name = { 0, 0 }, value = { 0, 0 };
    if (!sc || !msg)
        return value;
    if (!field) {
        sc_positions_message(sc->pos, msg, &value);
        return value;
    }
    sc_positions_field(sc->pos, msg, field, index, &name, &value);
    return value;
}

/* ======================================================================
 * Small checks
 * ==================================================================== */

static bool sc__charset_ok(const char *s, const char *extra, bool lower_only) {
    if (!*s)
        return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(extra, c) ||
                  (!lower_only && c >= 'A' && c <= 'Z');
        if (!ok || c == 0)
            return false;
    }
    return true;
}

/* A required string field. */
static bool sc__need_str(sc__v *v, const void *msg, const char *field, const char *s, const char *what,
                         const char *example) {
    if (!s)
        return sc__fail(v, msg, NULL, 0, "missing required field '%s' (%s), e.g. %s", field, what, example);
    if (!*s)
        return sc__fail(v, msg, field, 0, "field '%s' must not be empty (%s), e.g. %s", field, what, example);
    return true;
}

static bool sc__need(sc__v *v, const void *msg, const char *field, bool present, const char *what,
                     const char *example) {
    if (!present)
        return sc__fail(v, msg, NULL, 0, "missing required field '%s' (%s), e.g. %s", field, what, example);
    return true;
}

/* A time in ms from the start of the run: 0..time_limit_ms. */
static bool sc__time(sc__v *v, const void *msg, const char *field, int64_t t) {
    if (t < 0)
        return sc__fail(v, msg, field, 0,
                        "%s %" PRId64 " is in the past: times are simulated ms from the start of the run, >= 0", field, t);
    if (t > v->s->time_limit_ms)
        return sc__fail(v, msg, field, 0, "%s %" PRId64 " is beyond the scenario's time_limit_ms %" PRId64
                        " (raise time_limit_ms or move the event earlier)", field, t, v->s->time_limit_ms);
    return true;
}

static bool sc__min(sc__v *v, const void *msg, const char *field, int64_t x, int64_t min) {
    if (x < min)
        return sc__fail(v, msg, field, 0, "%s must be >= %" PRId64 ", got %" PRId64, field, min, x);
    return true;
}

static bool sc__range(sc__v *v, const void *msg, const char *field, int64_t x, int64_t min, int64_t max) {
    if (x < min || x > max)
        return sc__fail(v, msg, field, 0, "%s must be in %" PRId64 "..%" PRId64 ", got %" PRId64, field, min, max, x);
    return true;
}

static bool sc__rate(sc__v *v, const void *msg, const char *field, double x) {
    if (!(x >= 0) || isinf(x))
        return sc__fail(v, msg, field, 0, "%s must be a finite number >= 0, got %g", field, x);
    return true;
}

static bool sc__error_name(sc__v *v, const void *msg, const char *field, const char *name, bool allow_none) {
    kp_err e;
    if (!kp_err_from_name(name, &e)) {
        static const char *const common[] = {
            "NOT_LEADER_FOR_PARTITION", "LEADER_NOT_AVAILABLE", "UNKNOWN_TOPIC_OR_PARTITION",
            "REQUEST_TIMED_OUT", "NETWORK_EXCEPTION", "MESSAGE_TOO_LARGE", "NOT_ENOUGH_REPLICAS",
            "NOT_ENOUGH_REPLICAS_AFTER_APPEND", "CORRUPT_MESSAGE", "OUT_OF_ORDER_SEQUENCE_NUMBER",
            "DUPLICATE_SEQUENCE_NUMBER", "UNKNOWN_PRODUCER_ID", "INVALID_PRODUCER_EPOCH",
            "KAFKA_STORAGE_ERROR", "COORDINATOR_NOT_AVAILABLE", "NOT_COORDINATOR", "CONCURRENT_TRANSACTIONS",
            "TOPIC_AUTHORIZATION_FAILED", "CLUSTER_AUTHORIZATION_FAILED", "UNSUPPORTED_VERSION",
            "INVALID_REQUIRED_ACKS", "RECORD_LIST_TOO_LARGE", "UNKNOWN_SERVER_ERROR", "_TIMED_OUT", "_EXPIRED",
            "_TRANSPORT", "_RECORD_TOO_LARGE", "_BUFFER_EXHAUSTED",
        };
        const char *near = sc_textpb_nearest(name, common, sizeof common / sizeof common[0], sizeof common[0], 0);
        if (near)
            return sc__fail(v, msg, field, 0, "unknown error name '%s'; did you mean '%s'?", name, near);
        return sc__fail(v, msg, field, 0,
                        "unknown error name '%s': use Kafka's protocol name, e.g. NOT_LEADER_FOR_PARTITION "
                        "(the list is in protocol/kp_err.h)", name);
    }
    if (!allow_none && e == KP_ERR_NONE)
        return sc__fail(v, msg, field, 0, "error NONE is not an error: name the error to inject");
    return true;
}

/* ======================================================================
 * Names: topics and nodes
 * ==================================================================== */

static const Kpsim__Topic *sc__topic(const Kpsim__Scenario *s, const char *name) {
    if (!s->cluster || !name)
        return NULL;
    for (size_t i = 0; i < s->cluster->n_topic; i++)
        if (s->cluster->topic[i]->name && !strcmp(s->cluster->topic[i]->name, name))
            return s->cluster->topic[i];
    return NULL;
}

/* A topic that must be declared in the cluster; `hint` (may be "") is
 * appended to the error. */
static bool sc__need_topic_hint(sc__v *v, const void *msg, const char *field, const char *name,
                                const Kpsim__Topic **out, const char *hint) {
    const Kpsim__Topic *t = sc__topic(v->s, name);
    if (t) {
        *out = t;
        return true;
    }
    const Kpsim__Cluster *c = v->s->cluster;
    const char *names[64] = { 0 };
    size_t n = 0, k = 0;
    char list[400];
    list[0] = 0;
    for (size_t i = 0; c && i < c->n_topic && n < 64; i++) {
        names[n++] = c->topic[i]->name;
        if (k < sizeof list - 1)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", c->topic[i]->name);
    }
    const char *near = sc_textpb_nearest(name, names, n, sizeof names[0], 0);
    if (near)
        return sc__fail(v, msg, field, 0, "topic '%s' is not a topic of the cluster; did you mean '%s'?%s", name, near,
                        hint);
    return sc__fail(v, msg, field, 0, "topic '%s' is not a topic of the cluster (topics: %s)%s", name,
                    n ? list : "none; declare it in cluster { topic { name: ... } }", hint);
}

static bool sc__need_topic(sc__v *v, const void *msg, const char *field, const char *name, const Kpsim__Topic **out) {
    return sc__need_topic_hint(v, msg, field, name, out, "");
}

int32_t sc_node_broker_id(const char *node) {
    if (!node || strncmp(node, "broker-", 7) != 0)
        return -1;
    const char *d = node + 7;
    if (!*d || (d[0] == '0' && d[1]))
        return -1;
    int32_t id = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9' || id > 100000)
            return -1;
        id = id * 10 + (*d - '0');
    }
    return id;
}

static bool sc__is_producer(const Kpsim__Scenario *s, const char *name) {
    for (size_t i = 0; i < s->n_producer; i++)
        if (s->producer[i]->name && !strcmp(s->producer[i]->name, name))
            return true;
    return false;
}

/* A node name: a producer's name or broker-<id> with id < brokers. */
static bool sc__node(sc__v *v, const void *msg, const char *field, size_t idx, const char *name) {
    int32_t id = sc_node_broker_id(name);
    if ((id >= 0 && id < v->brokers) || sc__is_producer(v->s, name))
        return true;
    char list[600];
    size_t k = 0;
    const char *names[128] = { 0 };
    char bnames[SC_MAX_BROKERS][24];
    size_t n = 0;
    list[0] = 0;
    for (size_t i = 0; i < v->s->n_producer && n < 64; i++) {
        names[n++] = v->s->producer[i]->name;
        if (k < sizeof list - 1)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", k ? ", " : "", v->s->producer[i]->name);
    }
    for (int32_t b = 0; b < v->brokers && b < SC_MAX_BROKERS; b++) {
        snprintf(bnames[b], sizeof bnames[b], "broker-%d", (int)b);
        names[n++] = bnames[b];
        if (k < sizeof list - 1)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", k ? ", " : "", bnames[b]);
    }
    if (id >= 0)
        return sc__fail(v, msg, field, idx, "node '%s' does not exist: the cluster has %d broker%s (broker-0..broker-%d)",
                        name, (int)v->brokers, v->brokers == 1 ? "" : "s", (int)v->brokers - 1);
    const char *near = sc_textpb_nearest(name, names, n, sizeof names[0], 0);
    if (near)
        return sc__fail(v, msg, field, idx, "unknown node '%s'; did you mean '%s'?", name, near);
    return sc__fail(v, msg, field, idx, "unknown node '%s' (nodes: %s)", name, list);
}

static bool sc__broker(sc__v *v, const void *msg, const char *field, bool has, int32_t id) {
    if (!has)
        return sc__fail(v, msg, NULL, 0, "missing required field '%s' (a broker id 0..%d), e.g. %s: 0", field,
                        (int)v->brokers - 1, field);
    if (id < 0 || id >= v->brokers)
        return sc__fail(v, msg, field, 0, "broker %d does not exist: the cluster has %d broker%s (ids 0..%d)", (int)id,
                        (int)v->brokers, v->brokers == 1 ? "" : "s", (int)v->brokers - 1);
    return true;
}

static bool sc__partition(sc__v *v, const void *msg, const char *field, size_t idx, const Kpsim__Topic *t, int32_t p) {
    if (p < 0 || p >= t->partitions)
        return sc__fail(v, msg, field, idx, "partition %d is out of range: topic '%s' has %d partition%s (0..%d)",
                        (int)p, t->name, (int)t->partitions, t->partitions == 1 ? "" : "s", (int)t->partitions - 1);
    return true;
}

/* ======================================================================
 * Broker and topic settings
 * ==================================================================== */

/* Broker and topic settings are judged by the broker mock's own setters
 * (bm_config_set, bm_topic_config_set), so what validates here is exactly
 * what the runner can apply. The name lists below serve the messages
 * ("did you mean", "known: ...") and say which failures are about the
 * name rather than the value; they mirror the setters' tables and
 * scenario.proto's Cluster.broker_setting / Topic.setting comments. */
static const char *const sc__broker_keys[] = {
    "message.max.bytes", "min.insync.replicas", "unclean.leader.election.enable", "replica.lag.time.max.ms",
    "replica.fetch.wait.max.ms", "kpsim.replica.lag.ms", "auto.create.topics.enable", "num.partitions",
    "default.replication.factor", "quota.producer.default", "log.message.timestamp.type",
    "transaction.max.timeout.ms", "socket.request.max.bytes", "kpsim.txn.marker.delay.ms", "kpsim.chaos.error.rate",
    "kpsim.duplicate.as.error",
};

static const char *const sc__topic_keys[] = {
    "max.message.bytes", "min.insync.replicas", "unclean.leader.election.enable", "message.timestamp.type",
};

#define SC_NELEM(a) (sizeof(a) / sizeof((a)[0]))

static bool sc__parse_i64(const char *s, int64_t *out) {
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || *end || s[0] == ' ' || s[0] == '+')
        return false;
    *out = x;
    return true;
}

static bool sc__broker_value_ok(const char *key, const char *value, char *buf, size_t cap) {
    bm_config c;
    bm_config_defaults(&c);
    return bm_config_set(&c, key, value, buf, cap) == KP_ERR_NONE;
}

static bool sc__topic_value_ok(const char *key, const char *value, char *buf, size_t cap) {
    bm_topic_config c;
    bm_topic_config_defaults(&c);
    return bm_topic_config_set(&c, key, value, buf, cap) == KP_ERR_NONE;
}

typedef struct sc__skind {
    const char *what;                 /* "broker setting" */
    const char *const *keys;
    size_t nkeys;
    bool (*value_ok)(const char *key, const char *value, char *buf, size_t cap);
} sc__skind;

static const sc__skind sc__broker_kind = { "broker setting", sc__broker_keys, SC_NELEM(sc__broker_keys),
                                           sc__broker_value_ok };
static const sc__skind sc__topic_kind = { "topic setting", sc__topic_keys, SC_NELEM(sc__topic_keys),
                                          sc__topic_value_ok };

static bool sc__skind_has(const sc__skind *k, const char *key) {
    for (size_t i = 0; i < k->nkeys; i++)
        if (!strcmp(k->keys[i], key))
            return true;
    return false;
}

/* Checks one key=value. False with the reason in buf; *bad_key says
 * whether the name (rather than the value) is wrong. */
static bool sc__setting_ok(const sc__skind *k, const char *key, const char *value, bool *bad_key, char *buf,
                           size_t cap) {
    *bad_key = !sc__skind_has(k, key);
    if (*bad_key) {
        const char *near = sc_textpb_nearest(key, k->keys, k->nkeys, sizeof k->keys[0], 0);
        if (near) {
            snprintf(buf, cap, "unknown %s '%s'; did you mean '%s'?", k->what, key, near);
        } else {
            size_t n = (size_t)snprintf(buf, cap, "unknown %s '%s' (known: ", k->what, key);
            for (size_t i = 0; i < k->nkeys && n < cap - 1; i++)
                n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", k->keys[i]);
            if (n < cap - 1)
                snprintf(buf + n, cap - n, ")");
        }
        return false;
    }
    return k->value_ok(key, value, buf, cap);
}

/* One Setting message: key and value present. */
static bool sc__setting_shape(sc__v *v, const Kpsim__Setting *st, const char *example_key) {
    if (!st->key)
        return sc__fail(v, st, NULL, 0, "setting without 'key', e.g. setting { key: \"%s\" value: \"...\" }", example_key);
    if (!st->value)
        return sc__fail(v, st, NULL, 0, "setting '%s' has no 'value', e.g. { key: \"%s\" value: \"...\" }", st->key,
                        st->key);
    return true;
}

/* A key given twice in one list: the second is an error. */
static bool sc__setting_dup(sc__v *v, Kpsim__Setting *const *list, size_t i, const char *what) {
    for (size_t j = 0; j < i; j++) {
        if (list[j]->key && !strcmp(list[j]->key, list[i]->key)) {
            char o[300];
            return sc__fail(v, list[i], "key", 0, "%s '%s' is given twice (first %s)", what, list[i]->key,
                            sc__origin(v->sc, list[j], "key", o, sizeof o));
        }
    }
    return true;
}

static bool sc__table_settings(sc__v *v, Kpsim__Setting *const *list, size_t n, const sc__skind *k) {
    for (size_t i = 0; i < n; i++) {
        const Kpsim__Setting *st = list[i];
        if (!sc__setting_shape(v, st, k->keys[0]) || !sc__setting_dup(v, list, i, k->what))
            return false;
        char buf[700];
        bool bad_key;
        if (!sc__setting_ok(k, st->key, st->value, &bad_key, buf, sizeof buf))
            return sc__fail(v, st, bad_key ? "key" : "value", 0, "%s", buf);
    }
    return true;
}

/* ======================================================================
 * Producer settings (through producer/kp_config)
 * ==================================================================== */

static bool sc__producer_settings(sc__v *v, const Kpsim__Producer *p, kp_config *cfg) {
    kp_config_init(cfg);
    char buf[1200];
    for (size_t i = 0; i < p->n_setting; i++) {
        const Kpsim__Setting *st = p->setting[i];
        if (!sc__setting_shape(v, st, "linger.ms") || !sc__setting_dup(v, p->setting, i, "producer setting"))
            return false;
        if (!strcmp(st->key, "bootstrap.servers"))
            return sc__fail(v, st, "key", 0,
                            "producer '%s': bootstrap.servers is set by the simulator (the brokers are cluster.brokers); "
                            "remove this setting", p->name);
        bool known = false;
        size_t nn = kp_config_setting_count();
        for (size_t j = 0; j < nn && !known; j++)
            known = !strcmp(kp_config_setting_name(j), st->key);
        if (!known) {
            const char *names[128];
            size_t m = 0;
            for (size_t j = 0; j < nn && m < 128; j++)
                names[m++] = kp_config_setting_name(j);
            const char *near = sc_textpb_nearest(st->key, names, m, sizeof names[0], 0);
            if (near)
                return sc__fail(v, st, "key", 0, "producer '%s': unknown producer setting '%s'; did you mean '%s'?",
                                p->name, st->key, near);
            return sc__fail(v, st, "key", 0,
                            "producer '%s': unknown producer setting '%s' (settings use the Java ProducerConfig names, "
                            "e.g. linger.ms, acks, enable.idempotence)", p->name, st->key);
        }
        if (kp_config_set(cfg, st->key, st->value, buf, sizeof buf) != KP_ERR_NONE)
            return sc__fail(v, st, "value", 0, "producer '%s': %s", p->name, buf);
    }
    if (!kp_config_is_explicit(cfg, "client.id") && p->name)
        kp_config_set(cfg, "client.id", p->name, NULL, 0);
    if (kp_config_validate(cfg, buf, sizeof buf) == KP_ERR_NONE)
        return true;

    /* Point at the setting the message is about, and say where the
     * setting that turned idempotence on is. */
    static const struct { const char *needle, *key; } culprit[] = {
        { "delivery.timeout.ms", "delivery.timeout.ms" },
        { "transactional.id without", "enable.idempotence" },
        { "retries", "retries" },
        { "max.in.flight", "max.in.flight.requests.per.connection" },
        { "acks", "acks" },
    };
    const Kpsim__Setting *at = NULL;
    for (size_t c = 0; c < SC_NELEM(culprit) && !at; c++) {
        if (!strstr(buf, culprit[c].needle))
            continue;
        for (size_t i = 0; i < p->n_setting; i++)
            if (!strcmp(p->setting[i]->key, culprit[c].key))
                at = p->setting[i];
    }
    char why[400] = "";
    /* the setting that turned idempotence on (or, when the culprit is
     * enable.idempotence=false itself, the transactional.id) */
    const Kpsim__Setting *idem = NULL;
    for (size_t i = 0; i < p->n_setting; i++)
        if (p->setting[i] != at && (!strcmp(p->setting[i]->key, "enable.idempotence") ||
                                    (!idem && !strcmp(p->setting[i]->key, "transactional.id"))))
            idem = p->setting[i];
    if (idem && idem != at) {
        char o[300];
        snprintf(why, sizeof why, " (%s: %s=%s %s)", strcmp(idem->key, "transactional.id") || !at ||
                 strcmp(at->key, "enable.idempotence") ? "idempotence is on" : "see",
                 idem->key, idem->value, sc__origin(v->sc, idem, "value", o, sizeof o));
    } else if (strstr(buf, "delivery.timeout.ms")) {
        snprintf(why, sizeof why, " (linger.ms=%d + request.timeout.ms=%d = %" PRId64 ")", (int)cfg->linger_ms,
                 (int)cfg->request_timeout_ms, (int64_t)cfg->linger_ms + cfg->request_timeout_ms);
    }
    if (at)
        return sc__fail(v, at, "value", 0, "producer '%s': %s=%s contradicts the other settings: %s%s", p->name, at->key,
                        at->value, buf, why);
    return sc__fail(v, p, NULL, 0, "producer '%s': %s%s", p->name, buf, why);
}

/* ======================================================================
 * The checks, section by section
 * ==================================================================== */

static bool sc__check_top(sc__v *v) {
    const Kpsim__Scenario *s = v->s;
    if (!sc__need_str(v, s, "name", s->name, "a short identifier", "name: \"leader_move\"") ||
        !sc__need_str(v, s, "purpose", s->purpose, "one line saying what the scenario shows",
                      "purpose: \"NOT_LEADER -> metadata refresh -> retry\"") ||
        !sc__need_str(v, s, "family", s->family, "the catalog group", "family: \"faults\""))
        return false;
    if (!sc__charset_ok(s->name, "_.-", false))
        return sc__fail(v, s, "name", 0, "name \"%s\" may only use letters, digits, '_', '.' and '-'", s->name);
    if (strchr(s->purpose, '\n'))
        return sc__fail(v, s, "purpose", 0, "purpose must be one line (kpsim list prints it on one line)");
    if (!sc__charset_ok(s->family, "_-", true))
        return sc__fail(v, s, "family", 0, "family \"%s\" may only use lower-case letters, digits, '_' and '-'", s->family);
    if (s->time_limit_ms < 1)
        return sc__fail(v, s, "time_limit_ms", 0, "time_limit_ms must be >= 1, got %" PRId64, s->time_limit_ms);
    return true;
}

static bool sc__check_cluster(sc__v *v) {
    const Kpsim__Cluster *c = v->s->cluster;
    if (!c)
        return sc__fail(v, v->s, NULL, 0,
                        "missing required field 'cluster', e.g. cluster { brokers: 3 topic { name: \"t\" partitions: 3 } }");
    if (!sc__range(v, c, "brokers", c->brokers, 1, SC_MAX_BROKERS))
        return false;
    v->brokers = c->brokers;
    for (size_t i = 0; i < c->n_topic; i++) {
        const Kpsim__Topic *t = c->topic[i];
        if (!sc__need_str(v, t, "name", t->name, "the topic name", "name: \"events\""))
            return false;
        if (strlen(t->name) > 249 || !sc__charset_ok(t->name, "._-", false) || !strcmp(t->name, ".") ||
            !strcmp(t->name, ".."))
            return sc__fail(v, t, "name", 0, "\"%s\" is not a valid Kafka topic name: use letters, digits, '.', '_' "
                            "and '-', at most 249 characters", t->name);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(c->topic[j]->name, t->name)) {
                char o[300];
                return sc__fail(v, t, "name", 0, "topic '%s' is declared twice (first %s)", t->name,
                                sc__origin(v->sc, c->topic[j], "name", o, sizeof o));
            }
        if (!sc__range(v, t, "partitions", t->partitions, 1, SC_MAX_PARTITIONS))
            return false;
        if (t->replication_factor < 1 || t->replication_factor > c->brokers)
            return sc__fail(v, t, "replication_factor", 0,
                            "replication_factor %d for topic '%s' must be in 1..%d (the number of brokers)",
                            (int)t->replication_factor, t->name, (int)c->brokers);
        if (!sc__table_settings(v, t->setting, t->n_setting, &sc__topic_kind))
            return false;
    }
    return sc__table_settings(v, c->broker_setting, c->n_broker_setting, &sc__broker_kind);
}

static bool sc__check_link_values(sc__v *v, const void *msg, bool has_lat, int32_t lat, bool has_jit, int32_t jit,
                                  bool has_bw, int64_t bw) {
    if ((has_lat && !sc__min(v, msg, "latency_ms", lat, 0)) || (has_jit && !sc__min(v, msg, "jitter_ms", jit, 0)) ||
        (has_bw && !sc__min(v, msg, "bandwidth_bytes_per_s", bw, 0)))
        return false;
    return true;
}

static bool sc__check_network(sc__v *v) {
    const Kpsim__Network *n = v->s->network;
    if (!n)
        return true;
    if (!sc__check_link_values(v, n, true, n->latency_ms, true, n->jitter_ms, true, n->bandwidth_bytes_per_s))
        return false;
    if (!sc__min(v, n, "min_chunk_bytes", n->min_chunk_bytes, 1))
        return false;
    if (n->max_chunk_bytes < n->min_chunk_bytes)
        return sc__fail(v, n, "max_chunk_bytes", 0, "max_chunk_bytes %d is below min_chunk_bytes %d",
                        (int)n->max_chunk_bytes, (int)n->min_chunk_bytes);
    for (size_t i = 0; i < n->n_link; i++) {
        const Kpsim__Link *l = n->link[i];
        if (!sc__need_str(v, l, "a", l->a, "a node name", "a: \"producer-1\"") ||
            !sc__need_str(v, l, "b", l->b, "a node name", "b: \"broker-0\"") || !sc__node(v, l, "a", 0, l->a) ||
            !sc__node(v, l, "b", 0, l->b))
            return false;
        if (!strcmp(l->a, l->b))
            return sc__fail(v, l, "b", 0, "a link joins two different nodes; both ends are '%s'", l->a);
        if (!sc__check_link_values(v, l, l->has_latency_ms, l->latency_ms, l->has_jitter_ms, l->jitter_ms,
                                   l->has_bandwidth_bytes_per_s, l->bandwidth_bytes_per_s))
            return false;
    }
    return true;
}

static bool sc__check_workload(sc__v *v, const Kpsim__Producer *p, const kp_config *cfg) {
    const Kpsim__Workload *w = p->workload;
    if (!w)
        return sc__fail(v, p, NULL, 0, "producer '%s' has no workload, e.g. workload { topic: \"t\" records: 1000 }",
                        p->name);
    if (!sc__need_str(v, w, "topic", w->topic, "the topic to send to", "topic: \"t\""))
        return false;
    const Kpsim__Topic *t = sc__topic(v->s, w->topic);
    if (!t && !w->allow_unknown_topic) {
        const char *auto_create = v->s->cluster ? sc_setting_get(v->s->cluster->broker_setting,
                                                                 v->s->cluster->n_broker_setting,
                                                                 "auto.create.topics.enable")
                                                : NULL;
        if (!auto_create || strcasecmp(auto_create, "true")) {
            const Kpsim__Topic *dummy;
            return sc__need_topic_hint(v, w, "topic", w->topic, &dummy,
                                       " (to send to a missing topic on purpose, set allow_unknown_topic: true or the "
                                       "broker setting auto.create.topics.enable to \"true\")");
        }
    }
    if (!w->has_records && !w->has_duration_ms)
        return sc__fail(v, w, NULL, 0, "producer '%s': the workload needs 'records' or 'duration_ms' (or both) to end, "
                        "e.g. records: 1000", p->name);
    if ((w->has_records && !sc__min(v, w, "records", w->records, 1)) ||
        (w->has_duration_ms && !sc__min(v, w, "duration_ms", w->duration_ms, 1)))
        return false;
    if (w->has_rate_per_s && !sc__rate(v, w, "rate_per_s", w->rate_per_s))
        return false;
    if (!sc__time(v, w, "start_ms", w->start_ms))
        return false;
    if (w->key_distribution == KPSIM__KEY_DISTRIBUTION__NONE) {
        if (w->has_key_space)
            return sc__fail(v, w, "key_space", 0, "key_space is set but key_distribution is NONE (null keys): set "
                            "key_distribution: UNIFORM or ZIPF, or remove key_space");
    } else {
        if (!w->has_key_space)
            return sc__fail(v, w, "key_distribution", 0, "key_distribution %s needs key_space (the number of distinct "
                            "keys), e.g. key_space: 100",
                            w->key_distribution == KPSIM__KEY_DISTRIBUTION__ZIPF ? "ZIPF" : "UNIFORM");
        if (!sc__min(v, w, "key_space", w->key_space, 1))
            return false;
    }
    if (w->has_zipf_s && (!(w->zipf_s > 0) || isinf(w->zipf_s)))
        return sc__fail(v, w, "zipf_s", 0, "zipf_s must be a finite number > 0, got %g", w->zipf_s);
    if (w->has_zipf_s && w->key_distribution != KPSIM__KEY_DISTRIBUTION__ZIPF)
        return sc__fail(v, w, "zipf_s", 0, "zipf_s applies only with key_distribution: ZIPF");
    if (w->has_value_size && (w->has_value_size_min || w->has_value_size_max))
        return sc__fail(v, w, w->has_value_size_min ? "value_size_min" : "value_size_max", 0,
                        "give either value_size (fixed) or value_size_min and value_size_max, not both forms");
    if (w->has_value_size_min != w->has_value_size_max)
        return sc__fail(v, w, w->has_value_size_min ? "value_size_min" : "value_size_max", 0,
                        "value_size_min and value_size_max go together (a uniform size range)");
    if ((w->has_value_size && !sc__range(v, w, "value_size", w->value_size, 0, SC_MAX_VALUE_SIZE)) ||
        (w->has_value_size_min && !sc__range(v, w, "value_size_min", w->value_size_min, 0, SC_MAX_VALUE_SIZE)) ||
        (w->has_value_size_max && !sc__range(v, w, "value_size_max", w->value_size_max, 0, SC_MAX_VALUE_SIZE)))
        return false;
    if (w->has_value_size_min && w->value_size_max < w->value_size_min)
        return sc__fail(v, w, "value_size_max", 0, "value_size_max %d is below value_size_min %d",
                        (int)w->value_size_max, (int)w->value_size_min);
    for (size_t i = 0; i < w->n_partition; i++) {
        if (t && !sc__partition(v, w, "partition", i, t, w->partition[i]))
            return false;
        if (!t && w->partition[i] < 0)
            return sc__fail(v, w, "partition", i, "partition %d is negative", (int)w->partition[i]);
    }
    if (!sc__range(v, w, "headers", w->headers, 0, SC_MAX_HEADERS))
        return false;
    if (w->has_flush_every && !sc__min(v, w, "flush_every", w->flush_every, 1))
        return false;
    if (w->transactions) {
        const Kpsim__Transactions *x = w->transactions;
        if (!cfg->has_transactional_id)
            return sc__fail(v, w, "transactions", 0, "producer '%s' sends in transactions but has no transactional.id: "
                            "add setting { key: \"transactional.id\" value: \"txn-1\" }", p->name);
        if (!sc__min(v, x, "records_per_txn", x->records_per_txn, 1) ||
            !sc__min(v, x, "abort_every", x->abort_every, 0) ||
            !sc__min(v, x, "begin_delay_ms", x->begin_delay_ms, 0) ||
            !sc__min(v, x, "commit_delay_ms", x->commit_delay_ms, 0))
            return false;
    } else if (cfg->has_transactional_id) {
        return sc__fail(v, p, "workload", 0, "producer '%s' has a transactional.id but its workload has no "
                        "transactions { ... }: a transactional producer can only send inside a transaction", p->name);
    }
    if (w->has_close_timeout_ms && w->force_close)
        return sc__fail(v, w, "force_close", 0, "force_close: true contradicts close_timeout_ms (set at %d:%d): "
                        "choose close(timeout) or forceClose", sc_scenario_pos(v->sc, w, "close_timeout_ms", 0).line,
                        sc_scenario_pos(v->sc, w, "close_timeout_ms", 0).column);
    if (w->has_close_timeout_ms && !sc__min(v, w, "close_timeout_ms", w->close_timeout_ms, 0))
        return false;
    return true;
}

static bool sc__check_producers(sc__v *v) {
    const Kpsim__Scenario *s = v->s;
    if (s->n_producer == 0)
        return sc__fail(v, s, NULL, 0, "a scenario needs at least one producer { workload { ... } }");
    for (size_t i = 0; i < s->n_producer; i++) {
        const Kpsim__Producer *p = s->producer[i];
        if (!p->name || !sc__charset_ok(p->name, "_-", false))
            return sc__fail(v, p, "name", 0, "producer name \"%s\" may only use letters, digits, '_' and '-'",
                            p->name ? p->name : "");
        if (sc_node_broker_id(p->name) >= 0)
            return sc__fail(v, p, "name", 0, "producer name \"%s\" is reserved for a broker node", p->name);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s->producer[j]->name, p->name)) {
                char o[300];
                return sc__fail(v, p, "name", 0, "producer name '%s' is used twice (first %s)", p->name,
                                sc__origin(v->sc, s->producer[j], "name", o, sizeof o));
            }
        kp_config cfg;
        if (!sc__producer_settings(v, p, &cfg) || !sc__check_workload(v, p, &cfg))
            return false;
    }
    return true;
}

static bool sc__node_list(sc__v *v, const void *msg, const char *field, char *const *names, size_t n, bool required) {
    if (required && n == 0)
        return sc__fail(v, msg, NULL, 0, "missing '%s': a list of node names, e.g. %s: [\"broker-0\"]", field, field);
    for (size_t i = 0; i < n; i++)
        if (!sc__node(v, msg, field, i, names[i]))
            return false;
    return true;
}

static bool sc__check_fault(sc__v *v, const Kpsim__Fault *f) {
    if (!sc__need(v, f, "at_ms", f->has_at_ms, "when, ms from the start", "at_ms: 2000") ||
        !sc__time(v, f, "at_ms", f->at_ms))
        return false;
    const Kpsim__Topic *t;
    switch (f->action_case) {
    default: /* KPSIM__FAULT__ACTION__NOT_SET */
        return sc__fail(v, f, NULL, 0, "a fault needs one action: disconnect, partition, heal, blackhole, slow_link, "
                        "crash, restart, leader_move, inject, reject, set_broker_setting or set_topic_setting");
    case KPSIM__FAULT__ACTION_DISCONNECT: {
        const Kpsim__Disconnect *d = f->disconnect;
        if (!sc__need_str(v, d, "node", d->node, "a node name", "node: \"broker-0\"") || !sc__node(v, d, "node", 0, d->node) ||
            (d->peer && !sc__node(v, d, "peer", 0, d->peer)))
            return false;
        if (d->peer && !strcmp(d->peer, d->node))
            return sc__fail(v, d, "peer", 0, "peer '%s' is the node itself: name the other end of the connections", d->peer);
        return true;
    }
    case KPSIM__FAULT__ACTION_PARTITION: {
        const Kpsim__NetPartition *np = f->partition;
        if (!sc__node_list(v, np, "a", np->a, np->n_a, true) || !sc__node_list(v, np, "b", np->b, np->n_b, true))
            return false;
        for (size_t i = 0; i < np->n_b; i++)
            for (size_t j = 0; j < np->n_a; j++)
                if (!strcmp(np->a[j], np->b[i]))
                    return sc__fail(v, np, "b", i, "node '%s' is on both sides of the partition", np->b[i]);
        return !np->has_duration_ms || sc__min(v, np, "duration_ms", np->duration_ms, 1);
    }
    case KPSIM__FAULT__ACTION_HEAL: {
        const Kpsim__Heal *h = f->heal;
        if ((h->n_a == 0) != (h->n_b == 0))
            return sc__fail(v, h, h->n_a ? "a" : "b", 0, "heal takes both sides (a and b) or neither (heal everything)");
        return sc__node_list(v, h, "a", h->a, h->n_a, false) && sc__node_list(v, h, "b", h->b, h->n_b, false);
    }
    case KPSIM__FAULT__ACTION_BLACKHOLE: {
        const Kpsim__Blackhole *b = f->blackhole;
        if (!sc__need_str(v, b, "node", b->node, "a node name", "node: \"broker-1\"") || !sc__node(v, b, "node", 0, b->node) ||
            (b->peer && !sc__node(v, b, "peer", 0, b->peer)))
            return false;
        if (b->peer && !strcmp(b->peer, b->node))
            return sc__fail(v, b, "peer", 0, "peer '%s' is the node itself: name the other end of the link", b->peer);
        if (b->has_duration_ms && !b->on)
            return sc__fail(v, b, "duration_ms", 0, "duration_ms applies to turning a blackhole on, not off");
        return !b->has_duration_ms || sc__min(v, b, "duration_ms", b->duration_ms, 1);
    }
    case KPSIM__FAULT__ACTION_SLOW_LINK: {
        const Kpsim__SlowLink *l = f->slow_link;
        if (!sc__need_str(v, l, "a", l->a, "a node name", "a: \"broker-0\"") || !sc__node(v, l, "a", 0, l->a) ||
            (l->b && !sc__node(v, l, "b", 0, l->b)))
            return false;
        if (l->b && !strcmp(l->a, l->b))
            return sc__fail(v, l, "b", 0, "a link joins two different nodes; both ends are '%s'", l->a);
        if (!l->has_latency_ms && !l->has_jitter_ms && !l->has_bandwidth_bytes_per_s)
            return sc__fail(v, l, NULL, 0, "slow_link changes nothing: give latency_ms, jitter_ms or bandwidth_bytes_per_s");
        return sc__check_link_values(v, l, l->has_latency_ms, l->latency_ms, l->has_jitter_ms, l->jitter_ms,
                                     l->has_bandwidth_bytes_per_s, l->bandwidth_bytes_per_s) &&
               (!l->has_duration_ms || sc__min(v, l, "duration_ms", l->duration_ms, 1));
    }
    case KPSIM__FAULT__ACTION_CRASH: {
        const Kpsim__BrokerCrash *c = f->crash;
        return sc__broker(v, c, "broker", c->has_broker, c->broker) &&
               (!c->has_restart_after_ms || sc__min(v, c, "restart_after_ms", c->restart_after_ms, 1));
    }
    case KPSIM__FAULT__ACTION_RESTART:
        return sc__broker(v, f->restart, "broker", f->restart->has_broker, f->restart->broker);
    case KPSIM__FAULT__ACTION_LEADER_MOVE: {
        const Kpsim__LeaderMove *m = f->leader_move;
        return sc__need_str(v, m, "topic", m->topic, "the topic", "topic: \"t\"") &&
               sc__need_topic(v, m, "topic", m->topic, &t) &&
               sc__need(v, m, "partition", m->has_partition, "the partition", "partition: 0") &&
               sc__partition(v, m, "partition", 0, t, m->partition) &&
               sc__broker(v, m, "to_broker", m->has_to_broker, m->to_broker);
    }
    case KPSIM__FAULT__ACTION_INJECT: {
        const Kpsim__InjectErrors *e = f->inject;
        return sc__broker(v, e, "broker", e->has_broker, e->broker) &&
               sc__need_str(v, e, "error", e->error, "a protocol error name", "error: \"NOT_LEADER_FOR_PARTITION\"") &&
               sc__error_name(v, e, "error", e->error, false) && sc__min(v, e, "count", e->count, 1) &&
               sc__min(v, e, "delay_ms", e->delay_ms, 0);
    }
    case KPSIM__FAULT__ACTION_REJECT: {
        const Kpsim__RejectPartition *r = f->reject;
        if (!(sc__need_str(v, r, "topic", r->topic, "the topic", "topic: \"t\"") &&
              sc__need_topic(v, r, "topic", r->topic, &t) &&
              sc__need(v, r, "partition", r->has_partition, "the partition", "partition: 0") &&
              sc__partition(v, r, "partition", 0, t, r->partition) &&
              sc__need_str(v, r, "error", r->error, "a protocol error name", "error: \"NOT_ENOUGH_REPLICAS\"") &&
              sc__error_name(v, r, "error", r->error, false) &&
              sc__need(v, r, "until_ms", r->has_until_ms, "when the rejections stop", "until_ms: 5000") &&
              sc__time(v, r, "until_ms", r->until_ms)))
            return false;
        if (r->until_ms <= f->at_ms)
            return sc__fail(v, r, "until_ms", 0, "until_ms %" PRId64 " must be after the fault's at_ms %" PRId64,
                            r->until_ms, f->at_ms);
        return true;
    }
    case KPSIM__FAULT__ACTION_SET_BROKER_SETTING: {
        const Kpsim__SetBrokerSetting *b = f->set_broker_setting;
        if (b->has_broker && !sc__broker(v, b, "broker", true, b->broker))
            return false;
        if (!sc__need_str(v, b, "key", b->key, "a broker setting", "key: \"message.max.bytes\"") ||
            !sc__need_str(v, b, "value", b->value, "the new value", "value: \"10000\""))
            return false;
        char buf[700];
        bool bad_key;
        if (!sc__setting_ok(&sc__broker_kind, b->key, b->value, &bad_key, buf, sizeof buf))
            return sc__fail(v, b, bad_key ? "key" : "value", 0, "%s", buf);
        return true;
    }
    case KPSIM__FAULT__ACTION_SET_TOPIC_SETTING: {
        const Kpsim__SetTopicSetting *b = f->set_topic_setting;
        if (!sc__need_str(v, b, "topic", b->topic, "the topic", "topic: \"t\"") ||
            !sc__need_topic(v, b, "topic", b->topic, &t) ||
            !sc__need_str(v, b, "key", b->key, "a topic setting", "key: \"max.message.bytes\"") ||
            !sc__need_str(v, b, "value", b->value, "the new value", "value: \"10000\""))
            return false;
        char buf[700];
        bool bad_key;
        if (!sc__setting_ok(&sc__topic_kind, b->key, b->value, &bad_key, buf, sizeof buf))
            return sc__fail(v, b, bad_key ? "key" : "value", 0, "%s", buf);
        return true;
    }
    }
}

static bool sc__check_chaos(sc__v *v) {
    const Kpsim__Chaos *c = v->s->chaos;
    if (!c)
        return true;
    if (!sc__rate(v, c, "disconnects_per_min", c->disconnects_per_min) ||
        !sc__rate(v, c, "partitions_per_min", c->partitions_per_min) ||
        !sc__rate(v, c, "blackholes_per_min", c->blackholes_per_min) ||
        !sc__rate(v, c, "slow_links_per_min", c->slow_links_per_min) ||
        !sc__rate(v, c, "broker_crashes_per_min", c->broker_crashes_per_min) ||
        !sc__rate(v, c, "leader_moves_per_min", c->leader_moves_per_min) ||
        !sc__min(v, c, "mean_duration_ms", c->mean_duration_ms, 1) || !sc__time(v, c, "start_ms", c->start_ms))
        return false;
    if (c->has_end_ms && (!sc__time(v, c, "end_ms", c->end_ms)))
        return false;
    if (c->has_end_ms && c->end_ms <= c->start_ms)
        return sc__fail(v, c, "end_ms", 0, "end_ms %" PRId64 " must be after start_ms %" PRId64, c->end_ms, c->start_ms);
    for (size_t i = 0; i < c->n_error; i++) {
        const Kpsim__ChaosError *e = c->error[i];
        if (!sc__need_str(v, e, "error", e->error, "a protocol error name", "error: \"NOT_LEADER_FOR_PARTITION\"") ||
            !sc__error_name(v, e, "error", e->error, false) ||
            !sc__need(v, e, "per_min", e->has_per_min, "the rate per simulated minute", "per_min: 2"))
            return false;
        if (!(e->per_min > 0) || isinf(e->per_min))
            return sc__fail(v, e, "per_min", 0, "per_min must be a finite number > 0, got %g", e->per_min);
    }
    return true;
}

static bool sc__check_bound(sc__v *v, const void *msg, bool has_max, int64_t min, int64_t max, const char *producer) {
    if (!sc__min(v, msg, "min", min, 0))
        return false;
    if (has_max && max < min)
        return sc__fail(v, msg, "max", 0, "max %" PRId64 " is below min %" PRId64 ": no count can satisfy both", max, min);
    if (producer && !sc__is_producer(v->s, producer))
        return sc__fail(v, msg, "producer", 0, "no producer is named '%s'", producer);
    return true;
}

static bool sc__check_expect(sc__v *v) {
    const Kpsim__Expect *e = v->s->expect;
    if (!e)
        return true;
    for (size_t i = 0; i < e->n_disable; i++)
        if (e->disable[i] == KPSIM__INVARIANT__INVARIANT_UNSPECIFIED)
            return sc__fail(v, e, "disable", i, "INVARIANT_UNSPECIFIED is not an invariant: name one, e.g. SEND_ORDER");
    for (size_t i = 0; i < e->n_allow_anomaly; i++)
        if (e->allow_anomaly[i] == KPSIM__ANOMALY__ANOMALY_UNSPECIFIED)
            return sc__fail(v, e, "allow_anomaly", i, "ANOMALY_UNSPECIFIED is not an anomaly: name one, e.g. REORDERING");
    for (size_t i = 0; i < e->n_expect_anomaly; i++)
        if (e->expect_anomaly[i] == KPSIM__ANOMALY__ANOMALY_UNSPECIFIED)
            return sc__fail(v, e, "expect_anomaly", i, "ANOMALY_UNSPECIFIED is not an anomaly: name one, e.g. DUPLICATES");
    for (size_t i = 0; i < e->n_counter; i++) {
        const Kpsim__CounterBound *b = e->counter[i];
        if (!b->has_name || b->name == KPSIM__COUNTER__COUNTER_UNSPECIFIED)
            return sc__fail(v, b, b->has_name ? "name" : NULL, 0, "a counter bound needs a counter name, e.g. "
                            "counter { name: RETRIES min: 1 }");
        if (!sc__check_bound(v, b, b->has_max, b->min, b->max, b->producer))
            return false;
    }
    for (size_t i = 0; i < e->n_error; i++) {
        const Kpsim__ErrorBound *b = e->error[i];
        if (!sc__need_str(v, b, "name", b->name, "an error name", "name: \"NOT_LEADER_FOR_PARTITION\"") ||
            !sc__error_name(v, b, "name", b->name, false) || !sc__check_bound(v, b, b->has_max, b->min, b->max, b->producer))
            return false;
    }
    return true;
}

bool sc_scenario_validate(sc_scenario *sc, sc_error *err) {
    sc_error scratch;
    sc__v v = { .sc = sc, .err = err ? err : &scratch, .s = sc->msg, .brokers = 0 };
    if (!sc__check_top(&v) || !sc__check_cluster(&v) || !sc__check_network(&v) || !sc__check_producers(&v))
        return false;
    for (size_t i = 0; i < sc->msg->n_fault; i++)
        if (!sc__check_fault(&v, sc->msg->fault[i]))
            return false;
    return sc__check_chaos(&v) && sc__check_expect(&v);
}

/* ======================================================================
 * Loading
 * ==================================================================== */

static char *sc__strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Defaults that depend on other fields: producer names. */
static bool sc__defaults(sc_scenario *sc, sc_error *err) {
    for (size_t i = 0; i < sc->msg->n_producer; i++) {
        Kpsim__Producer *p = sc->msg->producer[i];
        if (p->name)
            continue;
        char name[32];
        snprintf(name, sizeof name, "producer-%zu", i + 1);
        if (!(p->name = sc__strdup(name))) {
            sc_error_set(err, sc->file, (sc_pos){ 0, 0 }, "out of memory");
            return false;
        }
    }
    return true;
}

static sc_scenario *sc__parse(const char *name, const char *text, size_t len, sc_error *err) {
    sc_scenario *sc = calloc(1, sizeof *sc);
    if (!sc || !(sc->file = sc__strdup(name ? name : "<scenario>"))) {
        free(sc);
        sc_error_set(err, name, (sc_pos){ 0, 0 }, "out of memory");
        return NULL;
    }
    sc->msg = (Kpsim__Scenario *)sc_textpb_parse(&kpsim__scenario__descriptor, sc->file, text, len, &sc->pos, err);
    if (!sc->msg || !sc__defaults(sc, err)) {
        sc_scenario_free(sc);
        return NULL;
    }
    return sc;
}

sc_scenario *sc_scenario_load_text(const char *name, const char *text, size_t len, sc_error *err) {
    sc_scenario *sc = sc__parse(name, text, len, err);
    if (sc && !sc_scenario_validate(sc, err)) {
        sc_scenario_free(sc);
        return NULL;
    }
    return sc;
}

/* Reads the whole file (at most SC_SCENARIO_MAX_FILE bytes). */
static char *sc__read_file(const char *path, size_t *len, sc_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        sc_error_set(err, path, (sc_pos){ 0, 0 }, "cannot read: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            if (cap > SC_SCENARIO_MAX_FILE) {
                free(buf);
                fclose(f);
                sc_error_set(err, path, (sc_pos){ 0, 0 }, "file is larger than %u bytes; a scenario is a page of text",
                             SC_SCENARIO_MAX_FILE);
                return NULL;
            }
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    bool bad = ferror(f);
    int e = errno;
    fclose(f);
    if (!buf || bad) {
        free(buf);
        sc_error_set(err, path, (sc_pos){ 0, 0 }, "cannot read: %s", buf ? strerror(e) : "out of memory");
        return NULL;
    }
    if (n > SC_SCENARIO_MAX_FILE) {
        free(buf);
        sc_error_set(err, path, (sc_pos){ 0, 0 }, "file is larger than %u bytes; a scenario is a page of text",
                     SC_SCENARIO_MAX_FILE);
        return NULL;
    }
    *len = n;
    return buf;
}

sc_scenario *sc_scenario_load_with_sets(const char *path, const char *const *sets, size_t nsets, sc_error *err) {
    size_t len = 0;
    char *text = sc__read_file(path, &len, err);
    if (!text)
        return NULL;
    sc_scenario *sc = sc__parse(path, text, len, err);
    free(text);
    if (!sc)
        return NULL;
    for (size_t i = 0; i < nsets; i++) {
        if (!sc_scenario_apply_set(sc, sets[i], err)) {
            sc_scenario_free(sc);
            return NULL;
        }
    }
    if (!sc_scenario_validate(sc, err)) {
        sc_scenario_free(sc);
        return NULL;
    }
    return sc;
}

sc_scenario *sc_scenario_load(const char *path, sc_error *err) {
    return sc_scenario_load_with_sets(path, NULL, 0, err);
}

void sc_scenario_free(sc_scenario *sc) {
    if (!sc)
        return;
    if (sc->msg)
        protobuf_c_message_free_unpacked(&sc->msg->base, NULL);
    sc_positions_free(sc->pos);
    for (size_t i = 0; i < sc->n_ov; i++)
        free(sc->ov[i].arg);
    free(sc->ov);
    free(sc->file);
    free(sc);
}

const Kpsim__Scenario *sc_scenario_proto(const sc_scenario *sc) {
    return sc ? sc->msg : NULL;
}

const char *sc_scenario_file(const sc_scenario *sc) {
    return sc ? sc->file : NULL;
}

const char *sc_setting_get(Kpsim__Setting *const *settings, size_t n, const char *key) {
    for (size_t i = n; i-- > 0;)
        if (settings[i]->key && !strcmp(settings[i]->key, key))
            return settings[i]->value;
    return NULL;
}

bool sc_scenario_producer_config(const sc_scenario *sc, size_t i, kp_config *out, sc_error *err) {
    if (!sc || i >= sc->msg->n_producer) {
        sc_error_set(err, sc ? sc->file : NULL, (sc_pos){ 0, 0 }, "no producer #%zu", i);
        return false;
    }
    sc_error scratch;
    sc__v v = { .sc = (sc_scenario *)sc, .err = err ? err : &scratch, .s = sc->msg,
                .brokers = sc->msg->cluster ? sc->msg->cluster->brokers : 0 };
    return sc__producer_settings(&v, sc->msg->producer[i], out);
}

/* ======================================================================
 * --set overrides
 * ==================================================================== */

static bool sc__add_override(sc_scenario *sc, const ProtobufCMessage *msg, const char *field, const char *arg) {
    sc__override *o = realloc(sc->ov, (sc->n_ov + 1) * sizeof *o);
    if (!o)
        return false;
    sc->ov = o;
    char *a = sc__strdup(arg);
    if (!a)
        return false;
    sc->ov[sc->n_ov++] = (sc__override){ msg, field, a };
    return true;
}

/* Sets key=value in a settings list (replacing the value of an existing
 * key, else appending a new Setting). */
static bool sc__put_setting(sc_scenario *sc, Kpsim__Setting ***list, size_t *n, const char *key, const char *value,
                            const char *arg) {
    char *val = sc__strdup(value);
    if (!val)
        return false;
    for (size_t i = *n; i-- > 0;) {
        Kpsim__Setting *st = (*list)[i];
        if (st->key && !strcmp(st->key, key)) {
            if (!sc__add_override(sc, &st->base, "value", arg)) {
                free(val);
                return false;
            }
            free(st->value);
            st->value = val;
            return true;
        }
    }
    Kpsim__Setting *st = malloc(sizeof *st);
    Kpsim__Setting **arr = realloc(*list, (*n + 1) * sizeof *arr);
    char *k = sc__strdup(key);
    if (!st || !arr || !k) {
        free(st);
        free(k);
        free(val);
        if (arr)
            *list = arr;
        return false;
    }
    kpsim__setting__init(st);
    st->key = k;
    st->value = val;
    *list = arr;
    arr[(*n)++] = st;
    return sc__add_override(sc, &st->base, NULL, arg);
}

static bool sc__set_fail(sc_error *err, const char *arg, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool sc__set_fail(sc_error *err, const char *arg, const char *fmt, ...) {
    char origin[300];
    snprintf(origin, sizeof origin, "--set %s", arg);
    va_list ap;
    va_start(ap, fmt);
    sc_error_vset(err, origin, (sc_pos){ 0, 0 }, fmt, ap);
    va_end(ap);
    return false;
}

bool sc_scenario_apply_set(sc_scenario *sc, const char *arg, sc_error *err) {
    const char *eq = arg ? strchr(arg, '=') : NULL;
    if (!eq || eq == arg)
        return sc__set_fail(err, arg ? arg : "", "expected KEY=VALUE, e.g. producer.linger.ms=5");
    char key[256];
    size_t klen = (size_t)(eq - arg);
    if (klen >= sizeof key)
        return sc__set_fail(err, arg, "key too long");
    memcpy(key, arg, klen);
    key[klen] = 0;
    const char *value = eq + 1;
    Kpsim__Scenario *s = sc->msg;
    char buf[1200];

    if (!strncmp(key, "producer.", 9)) {
        const char *rest = key + 9;
        Kpsim__Producer *only = NULL;
        for (size_t i = 0; i < s->n_producer; i++) {
            size_t nl = strlen(s->producer[i]->name);
            if (!strncmp(rest, s->producer[i]->name, nl) && rest[nl] == '.') {
                only = s->producer[i];
                rest += nl + 1;
                break;
            }
        }
        kp_config probe;
        kp_config_init(&probe);
        if (!strcmp(rest, "bootstrap.servers"))
            return sc__set_fail(err, arg, "bootstrap.servers is set by the simulator");
        size_t nn = kp_config_setting_count();
        const char *names[128];
        size_t m = 0;
        bool known = false;
        for (size_t j = 0; j < nn && m < 128; j++) {
            names[m++] = kp_config_setting_name(j);
            known = known || !strcmp(names[m - 1], rest);
        }
        if (!known) {
            const char *near = sc_textpb_nearest(rest, names, m, sizeof names[0], 0);
            char prods[300];
            size_t k = 0;
            prods[0] = 0;
            for (size_t i = 0; i < s->n_producer && k < sizeof prods - 1; i++)
                k += (size_t)snprintf(prods + k, sizeof prods - k, "%s%s", i ? ", " : "", s->producer[i]->name);
            const char *tail = strchr(rest, '.');
            bool tail_known = false;
            for (size_t j = 0; tail && j < m; j++)
                tail_known = tail_known || !strcmp(names[j], tail + 1);
            if (near && !(!only && tail_known))
                return sc__set_fail(err, arg, "unknown producer setting '%s'; did you mean '%s'?", rest, near);
            if (!only && tail)
                return sc__set_fail(err, arg, "'%s' is not a producer setting, and no producer is named '%.*s' "
                                    "(producers: %s); write producer.KEY=VALUE or producer.NAME.KEY=VALUE", rest,
                                    (int)(strchr(rest, '.') - rest), rest, prods);
            return sc__set_fail(err, arg, "unknown producer setting '%s' (settings use the Java ProducerConfig "
                                "names, e.g. linger.ms, acks, enable.idempotence)", rest);
        }
        if (kp_config_set(&probe, rest, value, buf, sizeof buf) != KP_ERR_NONE)
            return sc__set_fail(err, arg, "%s", buf);
        if (s->n_producer == 0)
            return sc__set_fail(err, arg, "the scenario has no producer to apply it to");
        for (size_t i = 0; i < s->n_producer; i++) {
            Kpsim__Producer *p = s->producer[i];
            if (only && p != only)
                continue;
            if (!sc__put_setting(sc, &p->setting, &p->n_setting, rest, value, arg))
                return sc__set_fail(err, arg, "out of memory");
        }
        return true;
    }
    if (!strncmp(key, "broker.", 7)) {
        const char *rest = key + 7;
        bool bad_key;
        if (!sc__setting_ok(&sc__broker_kind, rest, value, &bad_key, buf, sizeof buf))
            return sc__set_fail(err, arg, "%s", buf);
        if (!s->cluster)
            return sc__set_fail(err, arg, "the scenario has no cluster");
        if (!sc__put_setting(sc, &s->cluster->broker_setting, &s->cluster->n_broker_setting, rest, value, arg))
            return sc__set_fail(err, arg, "out of memory");
        return true;
    }
    if (!strncmp(key, "topic.", 6)) {
        const char *rest = key + 6;
        Kpsim__Topic *t = NULL;
        for (size_t i = 0; s->cluster && i < s->cluster->n_topic; i++) {
            size_t nl = strlen(s->cluster->topic[i]->name);
            if (!strncmp(rest, s->cluster->topic[i]->name, nl) && rest[nl] == '.' &&
                sc__skind_has(&sc__topic_kind, rest + nl + 1)) {
                t = s->cluster->topic[i];
                rest += nl + 1;
                break;
            }
        }
        if (!t)
            return sc__set_fail(err, arg, "expected topic.NAME.KEY=VALUE with NAME a topic of the scenario and KEY one "
                                "of max.message.bytes, min.insync.replicas, unclean.leader.election.enable, "
                                "message.timestamp.type");
        bool bad_key;
        if (!sc__setting_ok(&sc__topic_kind, rest, value, &bad_key, buf, sizeof buf))
            return sc__set_fail(err, arg, "%s", buf);
        if (!sc__put_setting(sc, &t->setting, &t->n_setting, rest, value, arg))
            return sc__set_fail(err, arg, "out of memory");
        return true;
    }
    if (!strncmp(key, "net.", 4) || !strcmp(key, "seed") || !strcmp(key, "time.limit.ms")) {
        static const struct { const char *key, *field; int64_t min, max; } nets[] = {
            { "net.latency.ms", "latency_ms", 0, INT32_MAX },
            { "net.jitter.ms", "jitter_ms", 0, INT32_MAX },
            { "net.bandwidth.bytes.per.s", "bandwidth_bytes_per_s", 0, INT64_MAX },
            { "net.min.chunk.bytes", "min_chunk_bytes", 1, INT32_MAX },
            { "net.max.chunk.bytes", "max_chunk_bytes", 1, INT32_MAX },
            { "time.limit.ms", "time_limit_ms", 1, INT64_MAX },
            { "seed", "seed", 0, INT64_MAX },
        };
        size_t k = 0;
        while (k < SC_NELEM(nets) && strcmp(nets[k].key, key))
            k++;
        if (k == SC_NELEM(nets)) {
            const char *near = sc_textpb_nearest(key, nets, SC_NELEM(nets), sizeof nets[0], 0);
            return sc__set_fail(err, arg, "unknown network key '%s'%s%s%s (known: net.latency.ms, net.jitter.ms, "
                                "net.bandwidth.bytes.per.s, net.min.chunk.bytes, net.max.chunk.bytes)", key,
                                near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
        }
        int64_t x;
        if (!sc__parse_i64(value, &x) || x < nets[k].min || x > nets[k].max)
            return sc__set_fail(err, arg, "%s must be a whole number in %" PRId64 "..%" PRId64 ", got \"%s\"", key,
                                nets[k].min, nets[k].max, value);
        if (!strcmp(key, "seed") || !strcmp(key, "time.limit.ms")) {
            if (key[0] == 's') {
                s->has_seed = 1;
                s->seed = (uint64_t)x;
            } else {
                s->has_time_limit_ms = 1;
                s->time_limit_ms = x;
            }
            if (!sc__add_override(sc, &s->base, nets[k].field, arg))
                return sc__set_fail(err, arg, "out of memory");
            return true;
        }
        if (!s->network) {
            Kpsim__Network *n = malloc(sizeof *n);
            if (!n)
                return sc__set_fail(err, arg, "out of memory");
            kpsim__network__init(n);
            s->network = n;
        }
        Kpsim__Network *n = s->network;
        switch (k) {
        case 0: n->has_latency_ms = 1; n->latency_ms = (int32_t)x; break;
        case 1: n->has_jitter_ms = 1; n->jitter_ms = (int32_t)x; break;
        case 2: n->has_bandwidth_bytes_per_s = 1; n->bandwidth_bytes_per_s = x; break;
        case 3: n->has_min_chunk_bytes = 1; n->min_chunk_bytes = (int32_t)x; break;
        default: n->has_max_chunk_bytes = 1; n->max_chunk_bytes = (int32_t)x; break;
        }
        if (!sc__add_override(sc, &n->base, nets[k].field, arg))
            return sc__set_fail(err, arg, "out of memory");
        return true;
    }
    return sc__set_fail(err, arg, "unknown key '%s': it must start with producer. (producer.KEY or producer.NAME.KEY), "
                        "broker., topic.NAME., or net. (net.latency.ms, ...), or be seed or time.limit.ms", key);
}
