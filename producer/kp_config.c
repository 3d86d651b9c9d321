/*
 * kp_config.c — ProducerConfig 2.1.1: defaults, set-by-name, cross-checks.
 *
 * One table describes every setting (name, kind, field, range); set, dump,
 * is_explicit and the help listing all walk it, so a setting added to the
 * table is settable, dumped and listed at once.
 */
#include "kp_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ */
/* The setting table                                                    */
/* ------------------------------------------------------------------ */

typedef enum setting_kind {
    K_I32,          /* int32 with [min, max] */
    K_I64,          /* int64 with [min, max] */
    K_BOOL,
    K_STR,          /* fixed char array */
    K_ACKS,
    K_COMPRESSION,
    K_PARTITIONER,
    K_SERIALIZER,
    K_INTERCEPTORS,
    K_TXN_ID
} setting_kind;

typedef struct setting {
    const char *name;
    setting_kind kind;
    size_t off;     /* offsetof the field in kp_config */
    size_t size;    /* K_STR: array size */
    int64_t min, max;
} setting;

#define F(field) offsetof(kp_config, field), sizeof(((kp_config *)0)->field)

static const setting SETTINGS[] = {
    { "bootstrap.servers", K_STR, F(bootstrap_servers), 0, 0 },
    { "client.id", K_STR, F(client_id), 0, 0 },
    { "acks", K_ACKS, F(acks), 0, 0 },
    { "retries", K_I32, F(retries), 0, INT32_MAX },
    { "retry.backoff.ms", K_I64, F(retry_backoff_ms), 0, INT64_MAX },
    { "request.timeout.ms", K_I32, F(request_timeout_ms), 0, INT32_MAX },
    { "delivery.timeout.ms", K_I32, F(delivery_timeout_ms), 0, INT32_MAX },
    { "max.in.flight.requests.per.connection", K_I32, F(max_in_flight), 1, INT32_MAX },
    { "batch.size", K_I32, F(batch_size), 0, INT32_MAX },
    { "linger.ms", K_I32, F(linger_ms), 0, INT32_MAX },
    { "buffer.memory", K_I64, F(buffer_memory), 0, INT64_MAX },
    { "max.block.ms", K_I64, F(max_block_ms), 0, INT64_MAX },
    { "max.request.size", K_I32, F(max_request_size), 0, INT32_MAX },
    { "compression.type", K_COMPRESSION, F(compression_type), 0, 0 },
    { "metadata.max.age.ms", K_I64, F(metadata_max_age_ms), 0, INT64_MAX },
    { "reconnect.backoff.ms", K_I64, F(reconnect_backoff_ms), 0, INT64_MAX },
    { "reconnect.backoff.max.ms", K_I64, F(reconnect_backoff_max_ms), 0, INT64_MAX },
    { "connections.max.idle.ms", K_I64, F(connections_max_idle_ms), INT64_MIN, INT64_MAX },
    { "send.buffer.bytes", K_I32, F(send_buffer_bytes), -1, INT32_MAX },
    { "receive.buffer.bytes", K_I32, F(receive_buffer_bytes), -1, INT32_MAX },
    { "enable.idempotence", K_BOOL, F(enable_idempotence), 0, 0 },
    { "transactional.id", K_TXN_ID, F(transactional_id), 0, 0 },
    { "transaction.timeout.ms", K_I32, F(transaction_timeout_ms), INT32_MIN, INT32_MAX },
    { "partitioner.class", K_PARTITIONER, F(partitioner), 0, 0 },
    { "key.serializer", K_SERIALIZER, F(key_serializer), 0, 0 },
    { "value.serializer", K_SERIALIZER, F(value_serializer), 0, 0 },
    { "interceptor.classes", K_INTERCEPTORS, F(interceptors), 0, 0 },
    { "bug.KAFKA-13834", K_BOOL, F(bug_kafka_13834), 0, 0 },
    { "bug.KAFKA-8325", K_BOOL, F(bug_kafka_8325), 0, 0 },
    { "bug.KAFKA-8350", K_BOOL, F(bug_kafka_8350), 0, 0 },
    { "bug.KAFKA-19479", K_BOOL, F(bug_kafka_19479), 0, 0 },
    { "bug.KAFKA-8484", K_BOOL, F(bug_kafka_8484), 0, 0 },
};
#define NSETTINGS (sizeof SETTINGS / sizeof SETTINGS[0])
_Static_assert(NSETTINGS <= 64, "explicit_mask has 64 bits");

static const char *const COMPRESSION_NAMES[KP_COMPRESSION_COUNT] = {
    "none", "gzip", "snappy", "lz4", "zstd"
};
static const char *const SERIALIZER_NAMES[] = { "bytes", "string", "int", "long" };
static const char *const PARTITIONER_NAMES[] = { "default", "sticky" };
static const char *const INTERCEPTOR_NAMES[] = { "counting", "modifying", "throwing" };

const char *kp_compression_name(kp_compression c) {
    if ((int)c < 0 || (int)c >= KP_COMPRESSION_COUNT)
        return "unknown";
    return COMPRESSION_NAMES[c];
}

__attribute__((format(printf, 3, 4)))
static void put_err(char *errbuf, size_t n, const char *fmt, ...) {
    if (!errbuf || n == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, n, fmt, ap);
    va_end(ap);
}

static const setting *find_setting(const char *name, size_t *idx) {
    for (size_t i = 0; i < NSETTINGS; i++) {
        if (strcmp(SETTINGS[i].name, name) == 0) {
            if (idx)
                *idx = i;
            return &SETTINGS[i];
        }
    }
    return NULL;
}

void kp_config_init(kp_config *c) {
    memset(c, 0, sizeof *c);
    c->acks = 1;
    c->retries = INT32_MAX;
    c->retry_backoff_ms = 100;
    c->request_timeout_ms = 30000;
    c->delivery_timeout_ms = 120000;
    c->max_in_flight = 5;
    c->batch_size = 16384;
    c->linger_ms = 0;
    c->buffer_memory = 33554432;
    c->max_block_ms = 60000;
    c->max_request_size = 1048576;
    c->compression_type = KP_COMPRESSION_NONE;
    c->metadata_max_age_ms = 300000;
    c->reconnect_backoff_ms = 50;
    c->reconnect_backoff_max_ms = 1000;
    c->connections_max_idle_ms = 540000;
    c->send_buffer_bytes = 131072;
    c->receive_buffer_bytes = 32768;
    c->enable_idempotence = false;
    c->transaction_timeout_ms = 60000;
    c->partitioner = KP_PARTITIONER_DEFAULT;
    c->key_serializer = KP_SERIALIZER_STRING;
    c->value_serializer = KP_SERIALIZER_STRING;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

static bool parse_i64(const char *s, int64_t *out) {
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0')
        return false;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s)
        return false;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end != '\0')
        return false;
    *out = (int64_t)v;
    return true;
}

static int find_name(const char *const *names, int count, const char *v) {
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], v) == 0)
            return i;
    return -1;
}

/* Java class names accepted as aliases, so a Java producer's properties
 * carry over: the fully qualified name or the simple class name. */
static const char *const SERIALIZER_CLASSES[] = {
    "org.apache.kafka.common.serialization.ByteArraySerializer",
    "org.apache.kafka.common.serialization.StringSerializer",
    "org.apache.kafka.common.serialization.IntegerSerializer",
    "org.apache.kafka.common.serialization.LongSerializer",
};
/* Only the default has a Java class of the same behaviour (2.4's
 * UniformStickyPartitioner is sticky for keyed records too; ours is not). */
static const char *const PARTITIONER_CLASSES[] = {
    "org.apache.kafka.clients.producer.internals.DefaultPartitioner",
};

static int find_class(const char *const *classes, int count, const char *v) {
    for (int i = 0; i < count; i++) {
        const char *simple = strrchr(classes[i], '.') + 1;
        if (strcmp(classes[i], v) == 0 || strcmp(simple, v) == 0)
            return i;
    }
    return -1;
}

static void list_names(char *dst, size_t n, const char *const *names, int count) {
    size_t len = 0;
    dst[0] = '\0';
    for (int i = 0; i < count && len < n; i++)
        len += (size_t)snprintf(dst + len, n - len, "%s%s", i ? ", " : "", names[i]);
}

kp_err kp_config_set(kp_config *c, const char *name, const char *value,
                     char *errbuf, size_t n) {
    size_t idx = 0;
    const setting *s = name ? find_setting(name, &idx) : NULL;
    if (!s) {
        char all[2048];
        size_t len = 0;
        all[0] = '\0';
        for (size_t i = 0; i < NSETTINGS && len < sizeof all; i++)
            len += (size_t)snprintf(all + len, sizeof all - len, "%s%s", i ? ", " : "",
                                    SETTINGS[i].name);
        put_err(errbuf, n, "Unknown configuration '%s' (known: %s)", name ? name : "(null)", all);
        return KP_ERR__CONFIG;
    }
    if (!value) {
        put_err(errbuf, n, "Invalid value null for configuration %s", s->name);
        return KP_ERR__CONFIG;
    }
    char *field = (char *)c + s->off;
    char names[256];
    switch (s->kind) {
    case K_I32:
    case K_I64: {
        int64_t v;
        if (!parse_i64(value, &v) || v < s->min || v > s->max ||
            (s->kind == K_I32 && (v < INT32_MIN || v > INT32_MAX))) {
            put_err(errbuf, n, "Invalid value %s for configuration %s: accepted values are integers in [%" PRId64 ", %" PRId64 "]",
                    value, s->name, s->min, s->max);
            return KP_ERR__CONFIG;
        }
        if (s->kind == K_I32) {
            int32_t v32 = (int32_t)v;
            memcpy(field, &v32, sizeof v32);
        } else {
            memcpy(field, &v, sizeof v);
        }
        break;
    }
    case K_BOOL: {
        bool v;
        if (strcasecmp(value, "true") == 0)
            v = true;
        else if (strcasecmp(value, "false") == 0)
            v = false;
        else {
            put_err(errbuf, n, "Invalid value %s for configuration %s: Expected value to be either true or false",
                    value, s->name);
            return KP_ERR__CONFIG;
        }
        memcpy(field, &v, sizeof v);
        break;
    }
    case K_STR: {
        size_t len = strlen(value);
        if (len >= s->size) {
            put_err(errbuf, n, "Invalid value for configuration %s: longer than %zu bytes", s->name,
                    s->size - 1);
            return KP_ERR__CONFIG;
        }
        memcpy(field, value, len + 1);
        break;
    }
    case K_TXN_ID: {
        size_t len = strlen(value);
        if (len == 0) {
            put_err(errbuf, n, "Invalid value for configuration %s: String must be non-empty", s->name);
            return KP_ERR__CONFIG;
        }
        if (len >= sizeof c->transactional_id) {
            put_err(errbuf, n, "Invalid value for configuration %s: longer than %zu bytes", s->name,
                    sizeof c->transactional_id - 1);
            return KP_ERR__CONFIG;
        }
        memcpy(c->transactional_id, value, len + 1);
        c->has_transactional_id = true;
        break;
    }
    case K_ACKS: {
        int16_t v;
        if (strcmp(value, "all") == 0 || strcmp(value, "-1") == 0)
            v = -1;
        else if (strcmp(value, "0") == 0)
            v = 0;
        else if (strcmp(value, "1") == 0)
            v = 1;
        else {
            put_err(errbuf, n, "Invalid value %s for configuration acks: String must be one of: all, -1, 0, 1",
                    value);
            return KP_ERR__CONFIG;
        }
        c->acks = v;
        break;
    }
    case K_COMPRESSION: {
        int i = find_name(COMPRESSION_NAMES, KP_COMPRESSION_COUNT, value);
        if (i < 0) {
            list_names(names, sizeof names, COMPRESSION_NAMES, KP_COMPRESSION_COUNT);
            put_err(errbuf, n, "Invalid value %s for configuration compression.type: String must be one of: %s",
                    value, names);
            return KP_ERR__CONFIG;
        }
        c->compression_type = (kp_compression)i;
        break;
    }
    case K_PARTITIONER: {
        int i = find_name(PARTITIONER_NAMES, 2, value);
        if (i < 0)
            i = find_class(PARTITIONER_CLASSES, 1, value);
        if (i < 0) {
            list_names(names, sizeof names, PARTITIONER_NAMES, 2);
            put_err(errbuf, n, "Invalid value %s for configuration partitioner.class: must be one of: %s",
                    value, names);
            return KP_ERR__CONFIG;
        }
        c->partitioner = (kp_partitioner_kind)i;
        break;
    }
    case K_SERIALIZER: {
        int i = find_name(SERIALIZER_NAMES, 4, value);
        if (i < 0)
            i = find_class(SERIALIZER_CLASSES, 4, value);
        if (i < 0) {
            list_names(names, sizeof names, SERIALIZER_NAMES, 4);
            put_err(errbuf, n, "Invalid value %s for configuration %s: must be one of: %s", value,
                    s->name, names);
            return KP_ERR__CONFIG;
        }
        kp_serializer_kind k = (kp_serializer_kind)i;
        memcpy(field, &k, sizeof k);
        break;
    }
    case K_INTERCEPTORS: {
        kp_interceptor_kind list[KP_CONFIG_MAX_INTERCEPTORS];
        int count = 0;
        const char *p = value;
        while (*p) {
            while (*p == ' ' || *p == ',')
                p++;
            if (!*p)
                break;
            const char *e = p;
            while (*e && *e != ',' && *e != ' ')
                e++;
            char item[64];
            size_t len = (size_t)(e - p);
            int found = -1;
            if (len < sizeof item) {
                memcpy(item, p, len);
                item[len] = '\0';
                found = find_name(INTERCEPTOR_NAMES, 3, item);
            }
            if (found < 0 || count == KP_CONFIG_MAX_INTERCEPTORS) {
                list_names(names, sizeof names, INTERCEPTOR_NAMES, 3);
                if (found < 0)
                    put_err(errbuf, n, "Invalid value %s for configuration interceptor.classes: each entry must be one of: %s",
                            value, names);
                else
                    put_err(errbuf, n, "Invalid value %s for configuration interceptor.classes: at most %d entries",
                            value, KP_CONFIG_MAX_INTERCEPTORS);
                return KP_ERR__CONFIG;
            }
            list[count++] = (kp_interceptor_kind)found;
            p = e;
        }
        memcpy(c->interceptors, list, sizeof(list[0]) * (size_t)count);
        c->interceptor_count = count;
        break;
    }
    }
    c->explicit_mask |= (uint64_t)1 << idx;
    c->validated = false;
    return KP_ERR_NONE;
}

kp_err kp_config_set_kv(kp_config *c, const char *kv, char *errbuf, size_t n) {
    const char *eq = kv ? strchr(kv, '=') : NULL;
    if (!eq) {
        put_err(errbuf, n, "Expected name=value, got '%s'", kv ? kv : "(null)");
        return KP_ERR__CONFIG;
    }
    char name[128];
    size_t len = (size_t)(eq - kv);
    if (len >= sizeof name) {
        put_err(errbuf, n, "Unknown configuration '%.*s'", (int)len, kv);
        return KP_ERR__CONFIG;
    }
    memcpy(name, kv, len);
    name[len] = '\0';
    return kp_config_set(c, name, eq + 1, errbuf, n);
}

bool kp_config_is_explicit(const kp_config *c, const char *name) {
    size_t idx;
    if (!find_setting(name, &idx))
        return false;
    return (c->explicit_mask >> idx) & 1;
}

/* ------------------------------------------------------------------ */
/* Cross-checks (KafkaProducer constructor, 2.1.1)                      */
/* ------------------------------------------------------------------ */

kp_err kp_config_validate(kp_config *c, char *errbuf, size_t n) {
    kp_config t = *c; /* work on a copy: unchanged on error */

    /* CommonClientConfigs.postProcessReconnectBackoffConfigs */
    if (kp_config_is_explicit(&t, "reconnect.backoff.ms") &&
        !kp_config_is_explicit(&t, "reconnect.backoff.max.ms"))
        t.reconnect_backoff_max_ms = t.reconnect_backoff_ms;

    /* configureDeliveryTimeout */
    int64_t floor = (int64_t)t.linger_ms + t.request_timeout_ms;
    if (t.delivery_timeout_ms < INT32_MAX && t.delivery_timeout_ms < floor) {
        if (kp_config_is_explicit(&t, "delivery.timeout.ms")) {
            put_err(errbuf, n, "delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms");
            return KP_ERR__CONFIG;
        }
        t.delivery_timeout_ms = floor > INT32_MAX ? INT32_MAX : (int32_t)floor;
    }

    /* configureTransactionState */
    bool user_idem = kp_config_is_explicit(&t, "enable.idempotence");
    bool user_txn = t.has_transactional_id;
    bool idem = t.enable_idempotence;
    if (!idem && user_idem && user_txn) {
        put_err(errbuf, n, "Cannot set a transactional.id without also enabling idempotence.");
        return KP_ERR__CONFIG;
    }
    if (user_txn)
        idem = true;
    t.enable_idempotence = idem;

    /* configureRetries */
    if (idem && !kp_config_is_explicit(&t, "retries"))
        t.retries = INT32_MAX;
    else if (idem && t.retries == 0) {
        put_err(errbuf, n, "Must set retries to non-zero when using the idempotent producer.");
        return KP_ERR__CONFIG;
    }

    /* configureInflightRequests */
    if (idem && t.max_in_flight > 5) {
        put_err(errbuf, n, "Must set max.in.flight.requests.per.connection to at most 5 to use the idempotent producer.");
        return KP_ERR__CONFIG;
    }

    /* configureAcks */
    if (idem && !kp_config_is_explicit(&t, "acks"))
        t.acks = -1;
    else if (idem && t.acks != -1) {
        put_err(errbuf, n, "Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence.");
        return KP_ERR__CONFIG;
    }

    t.validated = true;
    *c = t;
    return KP_ERR_NONE;
}

/* ------------------------------------------------------------------ */
/* Dump                                                                 */
/* ------------------------------------------------------------------ */

static size_t format_value(const kp_config *c, const setting *s, char *buf, size_t n) {
    const char *field = (const char *)c + s->off;
    switch (s->kind) {
    case K_I32: {
        int32_t v;
        memcpy(&v, field, sizeof v);
        return (size_t)snprintf(buf, n, "%" PRId32, v);
    }
    case K_I64: {
        int64_t v;
        memcpy(&v, field, sizeof v);
        return (size_t)snprintf(buf, n, "%" PRId64, v);
    }
    case K_BOOL: {
        bool v;
        memcpy(&v, field, sizeof v);
        return (size_t)snprintf(buf, n, "%s", v ? "true" : "false");
    }
    case K_STR:
        return (size_t)snprintf(buf, n, "%s", field);
    case K_TXN_ID:
        return (size_t)snprintf(buf, n, "%s", c->has_transactional_id ? c->transactional_id : "null");
    case K_ACKS:
        return (size_t)snprintf(buf, n, "%s", c->acks == -1 ? "all" : c->acks == 0 ? "0" : "1");
    case K_COMPRESSION:
        return (size_t)snprintf(buf, n, "%s", kp_compression_name(c->compression_type));
    case K_PARTITIONER:
        return (size_t)snprintf(buf, n, "%s", PARTITIONER_NAMES[c->partitioner == KP_PARTITIONER_STICKY]);
    case K_SERIALIZER: {
        kp_serializer_kind k;
        memcpy(&k, field, sizeof k);
        return (size_t)snprintf(buf, n, "%s", ((unsigned)k < 4) ? SERIALIZER_NAMES[k] : "?");
    }
    case K_INTERCEPTORS: {
        size_t len = 0;
        if (n)
            buf[0] = '\0';
        for (int i = 0; i < c->interceptor_count; i++) {
            const char *nm = ((unsigned)c->interceptors[i] < 3) ? INTERCEPTOR_NAMES[c->interceptors[i]] : "?";
            len += (size_t)snprintf(len < n ? buf + len : NULL, len < n ? n - len : 0, "%s%s",
                                    i ? "," : "", nm);
        }
        return len;
    }
    }
    return 0;
}

kp_err kp_config_get(const kp_config *c, const char *name, char *buf, size_t n) {
    const setting *st = name ? find_setting(name, NULL) : NULL;
    if (!st) {
        if (buf && n)
            snprintf(buf, n, "Unknown configuration '%s'", name ? name : "(null)");
        return KP_ERR__CONFIG;
    }
    char val[600];
    format_value(c, st, val, sizeof val);
    if (buf && n)
        snprintf(buf, n, "%s", val);
    return KP_ERR_NONE;
}

size_t kp_config_dump_buf(const kp_config *c, char *buf, size_t n) {
    size_t len = 0;
    char val[600];
    if (n)
        buf[0] = '\0';
    for (size_t i = 0; i < NSETTINGS; i++) {
        format_value(c, &SETTINGS[i], val, sizeof val);
        int w = snprintf(len < n ? buf + len : NULL, len < n ? n - len : 0, "%s=%s\n",
                         SETTINGS[i].name, val);
        len += (size_t)w;
    }
    return len;
}

void kp_config_dump(const kp_config *c, FILE *out) {
    char val[600];
    for (size_t i = 0; i < NSETTINGS; i++) {
        format_value(c, &SETTINGS[i], val, sizeof val);
        fprintf(out, "%s=%s\n", SETTINGS[i].name, val);
    }
}

size_t kp_config_setting_count(void) {
    return NSETTINGS;
}

const char *kp_config_setting_name(size_t i) {
    return i < NSETTINGS ? SETTINGS[i].name : NULL;
}
