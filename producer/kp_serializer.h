/*
 * kp_serializer.h — key/value serializers (org.apache.kafka.common.
 * serialization, 2.1.1) and a user hook.
 *
 * Java serializes objects; here an application value is a kp_datum that
 * says what it holds. The built-ins accept what their Java class accepts
 * and fail otherwise, as Java's ClassCastException turned into a
 * SerializationException in doSend ("Can't convert value of class X to
 * class Y specified in value.serializer"):
 *   bytes  (ByteArraySerializer) BYTES/STRING -> the bytes, zero-copy
 *   string (StringSerializer)    STRING/BYTES -> the bytes (UTF-8 as given)
 *   int    (IntegerSerializer)   INT          -> 4 bytes big-endian
 *   long   (LongSerializer)      LONG         -> 8 bytes big-endian
 * A null datum serializes to null (len -1) for every serializer.
 *
 * Memory: no allocation. Zero-copy results point into the datum; int/long
 * results are written into the caller's scratch (>= 8 bytes) — valid as
 * long as those. A user hook writes into the scratch it is given.
 */
#ifndef KP_SERIALIZER_H
#define KP_SERIALIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_buf.h"
#include "kp_config.h"
#include "kp_err.h"

typedef enum kp_datum_kind {
    KP_DATUM_NULL   = 0,
    KP_DATUM_BYTES  = 1,
    KP_DATUM_STRING = 2,
    KP_DATUM_INT    = 3,
    KP_DATUM_LONG   = 4
} kp_datum_kind;

typedef struct kp_datum {
    kp_datum_kind kind;
    const void *ptr;  /* BYTES / STRING */
    int32_t len;      /* BYTES / STRING length */
    int64_t i;        /* INT (int32 range) / LONG */
} kp_datum;

static inline kp_datum kp_datum_null(void) { return (kp_datum){ KP_DATUM_NULL, NULL, -1, 0 }; }
kp_datum kp_datum_str(const char *s);            /* NULL -> null datum */
kp_datum kp_datum_bytes(const void *p, int32_t len);
kp_datum kp_datum_int(int32_t v);
kp_datum kp_datum_long(int64_t v);

/* User serializer: write the bytes for d into scratch[0..cap) and set
 * *out (which may instead point at memory the hook owns, living until the
 * next call). Return KP_ERR__SERIALIZATION with a message on failure. */
typedef kp_err kp_serialize_fn(void *ctx, const char *topic, const kp_datum *d,
                               uint8_t *scratch, size_t cap, kp_slice *out,
                               char *errbuf, size_t n);

typedef struct kp_serializer {
    kp_serializer_kind kind;   /* used when fn is NULL */
    kp_serialize_fn *fn;       /* user hook, or NULL */
    void *ctx;
    const char *config_name;   /* "key.serializer" / "value.serializer" */
} kp_serializer;

void kp_serializer_init(kp_serializer *s, kp_serializer_kind kind, const char *config_name);
void kp_serializer_set_user(kp_serializer *s, kp_serialize_fn *fn, void *ctx);
const char *kp_serializer_class_name(kp_serializer_kind kind); /* Java class name */

/* Serializer.serialize(topic, data). scratch must have >= 8 bytes for the
 * built-ins. KP_ERR__SERIALIZATION (message in errbuf) on a type mismatch. */
kp_err kp_serialize(const kp_serializer *s, const char *topic, const kp_datum *d,
                    uint8_t *scratch, size_t cap, kp_slice *out, char *errbuf, size_t n);
/* kp_serialize's cases that take no work, inline for the send path: a
 * built-in serializer given a null datum, or the bytes/string serializer
 * given bytes or a string (passed through as they are). True with *out
 * set, exactly as kp_serialize would; false: call kp_serialize. */
static inline bool kp_serialize_as_is(const kp_serializer *s, const kp_datum *d, kp_slice *out) {
    if (s->fn)
        return false;
    if (d->kind == KP_DATUM_NULL) {
        *out = KP_SLICE_NULL;
        return true;
    }
    if ((s->kind == KP_SERIALIZER_BYTES || s->kind == KP_SERIALIZER_STRING) &&
        (d->kind == KP_DATUM_BYTES || d->kind == KP_DATUM_STRING)) {
        *out = (kp_slice){ d->ptr, d->len };
        return true;
    }
    return false;
}

#endif
