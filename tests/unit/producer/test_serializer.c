/*
 * test_serializer.c — the built-in serializers' byte formats (2.1.1
 * IntegerSerializer / LongSerializer are big-endian), null handling, the
 * type errors doSend reports, and the user hook.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kp_serializer.h"

static char err[256];
static uint8_t scratch[16];

static void serializer_string_and_bytes_are_zero_copy(void **state) {
    (void)state;
    kp_serializer s;
    kp_serializer_init(&s, KP_SERIALIZER_STRING, "value.serializer");
    kp_datum d = kp_datum_str("héllo");
    kp_slice out;
    assert_int_equal(kp_serialize(&s, "t", &d, scratch, sizeof scratch, &out, err, sizeof err), KP_ERR_NONE);
    assert_ptr_equal(out.ptr, d.ptr); /* no copy */
    assert_int_equal(out.len, 6);      /* UTF-8 bytes, not characters */
    kp_serializer_init(&s, KP_SERIALIZER_BYTES, "key.serializer");
    uint8_t raw[3] = { 0, 1, 2 };
    d = kp_datum_bytes(raw, 3);
    assert_int_equal(kp_serialize(&s, "t", &d, scratch, sizeof scratch, &out, err, sizeof err), KP_ERR_NONE);
    assert_int_equal(out.len, 3);
    assert_memory_equal(out.ptr, raw, 3);
    d = kp_datum_bytes(raw, 0); /* empty is not null */
    assert_int_equal(kp_serialize(&s, "t", &d, scratch, sizeof scratch, &out, err, sizeof err), KP_ERR_NONE);
    assert_int_equal(out.len, 0);
}

static void serializer_int_and_long_are_big_endian(void **state) {
    (void)state;
    kp_serializer s;
    kp_slice out;
    kp_serializer_init(&s, KP_SERIALIZER_INT, "key.serializer");
    kp_datum d = kp_datum_int(0x01020304);
    assert_int_equal(kp_serialize(&s, "t", &d, scratch, sizeof scratch, &out, err, sizeof err), KP_ERR_NONE);
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.ptr, "\x01\x02\x03\x04", 4);
    d = kp_datum_int(-2);
    kp_serialize(&s, "t", &d, scratch, sizeof scratch, &out, err, sizeof err);
    assert_memory_equal(out.ptr, "\xff\xff\xff\xfe", 4);
    kp_serializer_init(&s, KP_SERIALIZER_LONG, "value.serializer");
    d = kp_datum_long(0x0102030405060708LL);
    assert_int_equal(kp_serialize(&s, "t", &d, scratch, sizeof scratch, &out, err, sizeof err), KP_ERR_NONE);
    assert_int_equal(out.len, 8);
    assert_memory_equal(out.ptr, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    d = kp_datum_long(INT64_MIN);
    kp_serialize(&s, "t", &d, scratch, sizeof scratch, &out, err, sizeof err);
    assert_memory_equal(out.ptr, "\x80\x00\x00\x00\x00\x00\x00\x00", 8);
}

static void serializer_null_is_null_for_every_kind(void **state) {
    (void)state;
    for (int k = KP_SERIALIZER_BYTES; k <= KP_SERIALIZER_LONG; k++) {
        kp_serializer s;
        kp_serializer_init(&s, (kp_serializer_kind)k, "key.serializer");
        kp_datum d = kp_datum_null();
        kp_slice out = { scratch, 5 };
        assert_int_equal(kp_serialize(&s, "t", &d, scratch, sizeof scratch, &out, err, sizeof err), KP_ERR_NONE);
        assert_int_equal(out.len, -1);
    }
    kp_datum s = kp_datum_str(NULL);
    assert_int_equal(s.kind, KP_DATUM_NULL);
}

static void serializer_type_mismatch_names_both_classes(void **state) {
    (void)state;
    kp_serializer s;
    kp_slice out;
    kp_serializer_init(&s, KP_SERIALIZER_INT, "value.serializer");
    kp_datum d = kp_datum_str("12");
    assert_int_equal(kp_serialize(&s, "t", &d, scratch, sizeof scratch, &out, err, sizeof err),
                     KP_ERR__SERIALIZATION);
    assert_string_equal(err, "Can't convert value of class java.lang.String to class "
                             "org.apache.kafka.common.serialization.IntegerSerializer specified in value.serializer");
    kp_serializer_init(&s, KP_SERIALIZER_LONG, "key.serializer");
    d = kp_datum_int(5); /* Integer is not a Long: ClassCastException in Java */
    assert_int_equal(kp_serialize(&s, "t", &d, scratch, sizeof scratch, &out, err, sizeof err),
                     KP_ERR__SERIALIZATION);
    assert_non_null(strstr(err, "key of class java.lang.Integer"));
    kp_serializer_init(&s, KP_SERIALIZER_STRING, "value.serializer");
    d = kp_datum_long(5);
    assert_int_equal(kp_serialize(&s, "t", &d, scratch, sizeof scratch, &out, err, sizeof err),
                     KP_ERR__SERIALIZATION);
}

static kp_err upper_hook(void *ctx, const char *topic, const kp_datum *d, uint8_t *buf, size_t cap,
                         kp_slice *out, char *errbuf, size_t n) {
    (*(int *)ctx)++;
    if (d->kind != KP_DATUM_STRING || (size_t)d->len > cap) {
        snprintf(errbuf, n, "upper: cannot serialize for %s", topic);
        return KP_ERR__SERIALIZATION;
    }
    for (int32_t i = 0; i < d->len; i++) {
        char c = ((const char *)d->ptr)[i];
        buf[i] = (uint8_t)(c >= 'a' && c <= 'z' ? c - 32 : c);
    }
    *out = (kp_slice){ buf, d->len };
    return KP_ERR_NONE;
}

static void serializer_user_hook_replaces_the_builtin(void **state) {
    (void)state;
    int calls = 0;
    kp_serializer s;
    kp_serializer_init(&s, KP_SERIALIZER_STRING, "value.serializer");
    kp_serializer_set_user(&s, upper_hook, &calls);
    kp_datum d = kp_datum_str("abc");
    kp_slice out;
    assert_int_equal(kp_serialize(&s, "t", &d, scratch, sizeof scratch, &out, err, sizeof err), KP_ERR_NONE);
    assert_memory_equal(out.ptr, "ABC", 3);
    d = kp_datum_int(1);
    assert_int_equal(kp_serialize(&s, "topic-x", &d, scratch, sizeof scratch, &out, err, sizeof err),
                     KP_ERR__SERIALIZATION);
    assert_string_equal(err, "upper: cannot serialize for topic-x");
    assert_int_equal(calls, 2);
}

/* kp_serialize_as_is (the send path's inline case) answers only where
 * kp_serialize does no work, and then with kp_serialize's very slice: for
 * every serializer kind, datum kind and a user hook. Where it declines,
 * kp_serialize must be asked (a user hook, a number, or a type error). */
static void serializer_as_is_agrees_with_serialize(void **state) {
    (void)state;
    static const uint8_t raw[2] = { 7, 9 };
    kp_datum data[] = { kp_datum_null(), kp_datum_bytes(raw, 2), kp_datum_str("abc"), kp_datum_bytes(raw, 0),
                        kp_datum_int(5), kp_datum_long(6) };
    kp_serializer_kind kinds[] = { KP_SERIALIZER_BYTES, KP_SERIALIZER_STRING, KP_SERIALIZER_INT,
                                   KP_SERIALIZER_LONG };
    int calls = 0, as_is = 0;
    for (int hook = 0; hook < 2; hook++) {
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            for (size_t i = 0; i < sizeof data / sizeof data[0]; i++) {
                kp_serializer s;
                kp_serializer_init(&s, kinds[k], "value.serializer");
                if (hook)
                    kp_serializer_set_user(&s, upper_hook, &calls);
                kp_slice fast = { (const uint8_t *)"x", 99 };
                bool took = kp_serialize_as_is(&s, &data[i], &fast);
                bool plain = !hook && (data[i].kind == KP_DATUM_NULL ||
                                       ((kinds[k] == KP_SERIALIZER_BYTES || kinds[k] == KP_SERIALIZER_STRING) &&
                                        (data[i].kind == KP_DATUM_BYTES || data[i].kind == KP_DATUM_STRING)));
                assert_int_equal(took, plain);
                if (!took)
                    continue;
                as_is++;
                int before = calls;
                kp_slice slow;
                assert_int_equal(kp_serialize(&s, "t", &data[i], scratch, sizeof scratch, &slow, err, sizeof err),
                                 KP_ERR_NONE);
                assert_int_equal(calls, before);
                assert_ptr_equal(fast.ptr, slow.ptr);
                assert_int_equal(fast.len, slow.len);
            }
        }
    }
    assert_int_equal(as_is, 4 * 1 + 2 * 3); /* null for every kind; bytes/string x 3 data for two kinds */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(serializer_string_and_bytes_are_zero_copy),
        cmocka_unit_test(serializer_int_and_long_are_big_endian),
        cmocka_unit_test(serializer_null_is_null_for_every_kind),
        cmocka_unit_test(serializer_type_mismatch_names_both_classes),
        cmocka_unit_test(serializer_user_hook_replaces_the_builtin),
        cmocka_unit_test(serializer_as_is_agrees_with_serialize),
    };
    return cmocka_run_group_tests_name("serializer", tests, NULL, NULL);
}
