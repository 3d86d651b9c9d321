/*
 * kp_config.h — producer configuration (ProducerConfig 2.1.1).
 *
 * What it is for: every setting of the 2.1 producer that matters to the
 * pipeline, with 2.1's defaults, set by name from strings (the CLI's
 * `--set producer.linger.ms=5` strips "producer." and calls kp_config_set),
 * and the cross-checks the KafkaProducer constructor applies
 * (kp_config_validate). kpsim's own experiment switches (`bug.KAFKA-NNNN`)
 * live here too so that one `--set` reaches them.
 *
 * Memory: kp_config is a plain value (no pointers, strings in fixed arrays),
 * so it can be copied, compared, and embedded. Nothing here allocates.
 *
 * Invariants:
 *  - After kp_config_init every field holds its 2.1.1 default and no
 *    setting counts as "explicitly set".
 *  - kp_config_set stores exactly what was given (after range checks) and
 *    marks the setting explicit; derived values are only computed by
 *    kp_config_validate, which is idempotent. After a successful validate,
 *    the fields hold the EFFECTIVE values the producer runs with (e.g.
 *    enable_idempotence true when transactional.id is set, acks -1 and
 *    retries INT32_MAX when idempotence is on and they were not set,
 *    delivery_timeout_ms raised to linger + request timeout when defaulted).
 *  - `validated` is cleared by every kp_config_set.
 *
 * Enum settings take kpsim's short names ("string", "sticky") or, so that
 * a Java producer's properties carry over, the Java class names (fully
 * qualified or simple: "org.apache.kafka.common.serialization.
 * StringSerializer", "DefaultPartitioner").
 *
 * Errors (KP_ERR__CONFIG, Java ConfigException) carry a message in errbuf
 * that names the setting and the accepted values or range, e.g.
 *   "Invalid value 7 for configuration acks: String must be one of: all, -1, 0, 1"
 *   "Unknown configuration 'linger.msx'"
 */
#ifndef KP_CONFIG_H
#define KP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kp_err.h"

/* compression.type; the values are the RecordBatch v2 attribute codec ids. */
typedef enum kp_compression {
    KP_COMPRESSION_NONE   = 0,
    KP_COMPRESSION_GZIP   = 1,
    KP_COMPRESSION_SNAPPY = 2,
    KP_COMPRESSION_LZ4    = 3,
    KP_COMPRESSION_ZSTD   = 4
} kp_compression;
#define KP_COMPRESSION_COUNT 5
const char *kp_compression_name(kp_compression c); /* "none", "gzip", ... */

/* partitioner.class */
typedef enum kp_partitioner_kind {
    KP_PARTITIONER_DEFAULT = 0, /* DefaultPartitioner 2.1 */
    KP_PARTITIONER_STICKY  = 1  /* KIP-480-style sticky (experiment knob) */
} kp_partitioner_kind;

/* key.serializer / value.serializer (built-in serializers, kp_serializer.h) */
typedef enum kp_serializer_kind {
    KP_SERIALIZER_BYTES  = 0, /* ByteArraySerializer: bytes as given */
    KP_SERIALIZER_STRING = 1, /* StringSerializer: UTF-8 text as given */
    KP_SERIALIZER_INT    = 2, /* IntegerSerializer: 4 bytes big-endian */
    KP_SERIALIZER_LONG   = 3  /* LongSerializer: 8 bytes big-endian */
} kp_serializer_kind;

/* interceptor.classes: built-in test interceptors (kp_interceptor.h). */
typedef enum kp_interceptor_kind {
    KP_INTERCEPTOR_COUNTING = 0, /* "counting": counts onSend / acks / errors */
    KP_INTERCEPTOR_MODIFYING = 1,/* "modifying": appends "-intercepted" to the value */
    KP_INTERCEPTOR_THROWING = 2  /* "throwing": fails every onSend / onAck (ignored) */
} kp_interceptor_kind;
#define KP_CONFIG_MAX_INTERCEPTORS 8

typedef struct kp_config {
    /* ---- connection / identity ------------------------------------- */
    char bootstrap_servers[512];     /* "host:port,host:port"; default "" */
    char client_id[128];             /* default "" (the facade names it producer-N) */
    /* ---- delivery --------------------------------------------------- */
    int16_t acks;                    /* "all"/"-1" -> -1, "0", "1"; default 1 */
    int32_t retries;                 /* [0, INT32_MAX]; default INT32_MAX */
    int64_t retry_backoff_ms;        /* >= 0; default 100 */
    int32_t request_timeout_ms;      /* >= 0; default 30000 */
    int32_t delivery_timeout_ms;     /* >= 0; default 120000 */
    int32_t max_in_flight;           /* max.in.flight.requests.per.connection >= 1; default 5 */
    /* ---- batching / memory ------------------------------------------ */
    int32_t batch_size;              /* >= 0; default 16384 */
    int32_t linger_ms;               /* >= 0; default 0 */
    int64_t buffer_memory;           /* >= 0; default 33554432 */
    int64_t max_block_ms;            /* >= 0; default 60000 */
    int32_t max_request_size;        /* >= 0; default 1048576 */
    kp_compression compression_type; /* default none */
    /* ---- metadata / network ----------------------------------------- */
    int64_t metadata_max_age_ms;     /* >= 0; default 300000 */
    int64_t reconnect_backoff_ms;    /* >= 0; default 50 */
    int64_t reconnect_backoff_max_ms;/* >= 0; default 1000 (:= base if only base set) */
    int64_t connections_max_idle_ms; /* default 540000 */
    int32_t send_buffer_bytes;       /* >= -1; default 131072 */
    int32_t receive_buffer_bytes;    /* >= -1; default 32768 */
    /* ---- idempotence / transactions --------------------------------- */
    bool enable_idempotence;         /* default false (effective value after validate) */
    bool has_transactional_id;       /* transactional.id set (non-empty) */
    char transactional_id[256];
    int32_t transaction_timeout_ms;  /* default 60000 */
    /* ---- plug-ins ---------------------------------------------------- */
    kp_partitioner_kind partitioner; /* partitioner.class: default|sticky */
    kp_serializer_kind key_serializer;   /* default string */
    kp_serializer_kind value_serializer; /* default string */
    int interceptor_count;           /* interceptor.classes, comma-separated */
    kp_interceptor_kind interceptors[KP_CONFIG_MAX_INTERCEPTORS];
    /* ---- kpsim experiment switches (reproduce known bugs) ----------- */
    bool bug_kafka_13834;            /* shared drain index (2.1.1 behaviour) */
    bool bug_kafka_8325;             /* split batch left in flight (sender) */
    bool bug_kafka_8350;             /* endless re-splitting (sender) */
    bool bug_kafka_19479;            /* flush returns before split pieces ack (facade) */
    bool bug_kafka_8484;             /* old-pid failed batch rewinds new pid's sequences (sender) */
    /* ---- bookkeeping ------------------------------------------------- */
    uint64_t explicit_mask;          /* bit i: setting i was set by name */
    bool validated;                  /* kp_config_validate succeeded since last set */
} kp_config;

/* All defaults of kafka-clients 2.1.1, nothing explicit. */
void kp_config_init(kp_config *c);

/* Sets one setting by its Java name from a string. Accepted value syntax:
 * integers in decimal (range-checked per setting), booleans true/false,
 * enums by their Java names. On error returns KP_ERR__CONFIG and writes a
 * message naming the setting and what it accepts (or the unknown name) into
 * errbuf (may be NULL). The config is unchanged on error. */
kp_err kp_config_set(kp_config *c, const char *name, const char *value,
                     char *errbuf, size_t n);

/* Same as kp_config_set with "name=value" in one string. */
kp_err kp_config_set_kv(kp_config *c, const char *name_eq_value,
                        char *errbuf, size_t n);

/* True if the setting was set by name (Java: config.originals().containsKey). */
bool kp_config_is_explicit(const kp_config *c, const char *name);

/* The KafkaProducer constructor's cross-checks and derived values (2.1.1):
 *  - delivery.timeout.ms < linger.ms + request.timeout.ms: error if set
 *    explicitly, else raised to linger + request timeout;
 *  - transactional.id with explicit enable.idempotence=false: error;
 *    transactional.id turns idempotence on;
 *  - idempotence: max.in.flight > 5 error; retries unset -> INT32_MAX,
 *    retries 0 -> error; acks unset -> -1, acks != -1 -> error;
 *  - reconnect.backoff.ms set without reconnect.backoff.max.ms: max := base.
 * Returns KP_ERR_NONE or KP_ERR__CONFIG with the Java message in errbuf. */
kp_err kp_config_validate(kp_config *c, char *errbuf, size_t n);

/* The value of one setting as kp_config_dump prints it ("all", "16384",
 * "null" for an unset transactional.id). KP_ERR__CONFIG (message in buf)
 * for an unknown name. */
kp_err kp_config_get(const kp_config *c, const char *name, char *buf, size_t n);

/* Writes every setting as "name=value\n", in a fixed order, to out. */
void kp_config_dump(const kp_config *c, FILE *out);

/* The same into a buffer (snprintf semantics: returns the length the whole
 * dump needs, writes at most n-1 bytes + NUL). */
size_t kp_config_dump_buf(const kp_config *c, char *buf, size_t n);

/* Number of settings and their names, in dump order (for help texts). */
size_t kp_config_setting_count(void);
const char *kp_config_setting_name(size_t i);

#endif
