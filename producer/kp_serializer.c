/*
 * kp_serializer.c — the built-in serializers (2.1.1 byte formats).
 */
#include "kp_serializer.h"

#include <stdio.h>
#include <string.h>

kp_datum kp_datum_str(const char *s) {
    if (!s)
        return kp_datum_null();
    return (kp_datum){ KP_DATUM_STRING, s, (int32_t)strlen(s), 0 };
}

kp_datum kp_datum_bytes(const void *p, int32_t len) {
    if (!p && len != 0)
        return kp_datum_null();
    return (kp_datum){ KP_DATUM_BYTES, p, len, 0 };
}

kp_datum kp_datum_int(int32_t v) { return (kp_datum){ KP_DATUM_INT, NULL, 0, v }; }
kp_datum kp_datum_long(int64_t v) { return (kp_datum){ KP_DATUM_LONG, NULL, 0, v }; }

void kp_serializer_init(kp_serializer *s, kp_serializer_kind kind, const char *config_name) {
    s->kind = kind;
    s->fn = NULL;
    s->ctx = NULL;
    s->config_name = config_name;
}

void kp_serializer_set_user(kp_serializer *s, kp_serialize_fn *fn, void *ctx) {
    s->fn = fn;
    s->ctx = ctx;
}

const char *kp_serializer_class_name(kp_serializer_kind kind) {
    switch (kind) {
    case KP_SERIALIZER_BYTES: return "org.apache.kafka.common.serialization.ByteArraySerializer";
    case KP_SERIALIZER_STRING: return "org.apache.kafka.common.serialization.StringSerializer";
    case KP_SERIALIZER_INT: return "org.apache.kafka.common.serialization.IntegerSerializer";
    case KP_SERIALIZER_LONG: return "org.apache.kafka.common.serialization.LongSerializer";
    }
    return "?";
}

static const char *datum_class(kp_datum_kind k) {
    switch (k) {
    case KP_DATUM_NULL: return "null";
    case KP_DATUM_BYTES: return "[B";
    case KP_DATUM_STRING: return "java.lang.String";
    case KP_DATUM_INT: return "java.lang.Integer";
    case KP_DATUM_LONG: return "java.lang.Long";
    }
    return "?";
}

static kp_err mismatch(const kp_serializer *s, const kp_datum *d, char *errbuf, size_t n) {
    if (errbuf && n)
        snprintf(errbuf, n, "Can't convert %s of class %s to class %s specified in %s",
                 s->config_name && strncmp(s->config_name, "key", 3) == 0 ? "key" : "value",
                 datum_class(d->kind), kp_serializer_class_name(s->kind),
                 s->config_name ? s->config_name : "serializer");
    return KP_ERR__SERIALIZATION;
}

static void put_be(uint8_t *p, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

kp_err kp_serialize(const kp_serializer *s, const char *topic, const kp_datum *d,
                    uint8_t *scratch, size_t cap, kp_slice *out, char *errbuf, size_t n) {
    if (s->fn)
        return s->fn(s->ctx, topic, d, scratch, cap, out, errbuf, n);
    if (d->kind == KP_DATUM_NULL) {
        *out = KP_SLICE_NULL;
        return KP_ERR_NONE;
    }
    switch (s->kind) {
    case KP_SERIALIZER_BYTES:
    case KP_SERIALIZER_STRING:
        if (d->kind != KP_DATUM_BYTES && d->kind != KP_DATUM_STRING)
            return mismatch(s, d, errbuf, n);
        *out = (kp_slice){ d->ptr, d->len };
        return KP_ERR_NONE;
    case KP_SERIALIZER_INT:
        if (d->kind != KP_DATUM_INT || d->i < INT32_MIN || d->i > INT32_MAX)
            return mismatch(s, d, errbuf, n);
        if (cap < 4)
            return KP_ERR__NOMEM;
        put_be(scratch, (uint64_t)(uint32_t)(int32_t)d->i, 4);
        *out = (kp_slice){ scratch, 4 };
        return KP_ERR_NONE;
    case KP_SERIALIZER_LONG:
        if (d->kind != KP_DATUM_LONG)
            return mismatch(s, d, errbuf, n);
        if (cap < 8)
            return KP_ERR__NOMEM;
        put_be(scratch, (uint64_t)d->i, 8);
        *out = (kp_slice){ scratch, 8 };
        return KP_ERR_NONE;
    }
    return mismatch(s, d, errbuf, n);
}
