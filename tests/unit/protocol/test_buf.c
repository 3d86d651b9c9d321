/*
 * test_buf.c — wire primitives: the varint/varlong vectors of Kafka's
 * ByteUtilsTest (KAFKA_FACTS.md), the malformed 6th/11th-byte cases,
 * strings/bytes/arrays with nulls and hostile lengths, the sticky reader
 * error, and the writer's sizing pass agreeing with its writing pass.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "kp_buf.h"

typedef struct {
    int64_t v;
    uint8_t bytes[10];
    size_t n;
} vec;

#define V(val, ...) { (val), { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ }) }

static const vec varints[] = {
    V(0, 0x00), V(-1, 0x01), V(1, 0x02), V(63, 0x7E), V(-64, 0x7F),
    V(64, 0x80, 0x01), V(-65, 0x81, 0x01), V(8191, 0xFE, 0x7F), V(-8192, 0xFF, 0x7F),
    V(8192, 0x80, 0x80, 0x01), V(-8193, 0x81, 0x80, 0x01),
    V(1048575, 0xFE, 0xFF, 0x7F), V(-1048576, 0xFF, 0xFF, 0x7F),
    V(1048576, 0x80, 0x80, 0x80, 0x01), V(-1048577, 0x81, 0x80, 0x80, 0x01),
    V(134217727, 0xFE, 0xFF, 0xFF, 0x7F), V(-134217728, 0xFF, 0xFF, 0xFF, 0x7F),
    V(134217728, 0x80, 0x80, 0x80, 0x80, 0x01), V(-134217729, 0x81, 0x80, 0x80, 0x80, 0x01),
    V(INT32_MAX, 0xFE, 0xFF, 0xFF, 0xFF, 0x0F), V(INT32_MIN, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F),
};

static const vec varlongs_only[] = {
    V(17179869184LL, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
    V(4611686018427387904LL, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
    V(INT64_MAX, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01),
    V(INT64_MIN, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* kp_wr_bytes_ref: without a gather list it is kp_wr_bytes; with one,
 * fields of at least `min` bytes are listed (length prefix written, bytes
 * not copied, kp_wr_total counts them), shorter ones, nulls and fields past
 * the list's room are copied. */
static void buf_bytes_ref_gathers_large_fields(void **state) {
    (void)state;
    uint8_t big[300], small[10];
    memset(big, 0xb1, sizeof big);
    memset(small, 0x5a, sizeof small);
    uint8_t plain[512], out[512];
    kp_writer w;
    kp_wr_init(&w, plain, sizeof plain);
    kp_wr_bytes_ref(&w, (kp_slice){ big, (int32_t)sizeof big });
    kp_wr_bytes_ref(&w, (kp_slice){ small, (int32_t)sizeof small });
    assert_int_equal(w.len, 4 + 300 + 4 + 10);
    assert_int_equal(kp_wr_total(&w), w.len);
    assert_memory_equal(plain + 4, big, 300);

    kp_wr_run runs[1];
    kp_wr_gather g = { .runs = runs, .cap = 1, .min = 256 };
    kp_wr_init(&w, out, sizeof out);
    w.gather = &g;
    kp_wr_i16(&w, 7);
    kp_wr_bytes_ref(&w, (kp_slice){ big, (int32_t)sizeof big });   /* listed */
    kp_wr_bytes_ref(&w, (kp_slice){ small, (int32_t)sizeof small }); /* short: copied */
    kp_wr_bytes_ref(&w, KP_SLICE_NULL);                              /* null: -1 */
    kp_wr_bytes_ref(&w, (kp_slice){ big, (int32_t)sizeof big });   /* list full: copied */
    assert_int_equal(g.n, 1);
    assert_int_equal(g.bytes, 300);
    assert_int_equal(runs[0].at, 2 + 4);
    assert_ptr_equal(runs[0].ptr, big);
    assert_int_equal(runs[0].len, 300);
    assert_int_equal(w.len, 2 + 4 + (4 + 10) + 4 + (4 + 300));
    assert_int_equal(kp_wr_total(&w), w.len + 300);
    assert_int_equal(kp_be32_get(out + 2), 300);
    assert_int_equal(kp_be32_get(out + 6), 10);
    assert_memory_equal(out + 10, small, 10);
    assert_int_equal((int32_t)kp_be32_get(out + 20), -1);
    assert_memory_equal(out + 28, big, 300);
}

static void buf_varint_vectors_encode_and_decode(void **state) {
    (void)state;
    for (size_t i = 0; i < N(varints); i++) {
        uint8_t out[16];
        kp_writer w;
        kp_wr_init(&w, out, sizeof out);
        kp_wr_varint(&w, (int32_t)varints[i].v);
        assert_int_equal(w.err, KP_ERR_NONE);
        assert_int_equal(w.len, varints[i].n);
        assert_memory_equal(out, varints[i].bytes, varints[i].n);
        assert_int_equal(kp_varint_size((int32_t)varints[i].v), (int)varints[i].n);

        kp_reader r;
        kp_rd_init(&r, varints[i].bytes, varints[i].n);
        assert_int_equal(kp_rd_varint(&r), (int32_t)varints[i].v);
        assert_int_equal(r.err, KP_ERR_NONE);
        assert_int_equal(kp_rd_remaining(&r), 0);
    }
}

static void buf_varlong_vectors_encode_and_decode(void **state) {
    (void)state;
    for (int pass = 0; pass < 2; pass++) {
        const vec *t = pass ? varlongs_only : varints;
        size_t n = pass ? N(varlongs_only) : N(varints);
        for (size_t i = 0; i < n; i++) {
            uint8_t out[16];
            kp_writer w;
            kp_wr_init(&w, out, sizeof out);
            kp_wr_varlong(&w, t[i].v);
            assert_int_equal(w.len, t[i].n);
            assert_memory_equal(out, t[i].bytes, t[i].n);
            assert_int_equal(kp_varlong_size(t[i].v), (int)t[i].n);
            kp_reader r;
            kp_rd_init(&r, t[i].bytes, t[i].n);
            assert_true(kp_rd_varlong(&r) == t[i].v);
            assert_int_equal(r.err, KP_ERR_NONE);
        }
    }
}

static void buf_varint_sixth_byte_is_malformed(void **state) {
    (void)state;
    static const uint8_t six[] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 };
    kp_reader r;
    kp_rd_init(&r, six, sizeof six);
    assert_int_equal(kp_rd_varint(&r), 0);
    assert_int_equal(r.err, KP_ERR__BAD_MSG);
    /* five bytes whose value needs more than 32 bits */
    static const uint8_t wide[] = { 0xFF, 0xFF, 0xFF, 0xFF, 0x7F };
    kp_rd_init(&r, wide, sizeof wide);
    (void)kp_rd_varint(&r);
    assert_int_equal(r.err, KP_ERR__BAD_MSG);
}

static void buf_varlong_eleventh_byte_is_malformed(void **state) {
    (void)state;
    static const uint8_t eleven[] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 };
    kp_reader r;
    kp_rd_init(&r, eleven, sizeof eleven);
    assert_true(kp_rd_varlong(&r) == 0);
    assert_int_equal(r.err, KP_ERR__BAD_MSG);
    static const uint8_t tenth_too_big[] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02 };
    kp_rd_init(&r, tenth_too_big, sizeof tenth_too_big);
    (void)kp_rd_varlong(&r);
    assert_int_equal(r.err, KP_ERR__BAD_MSG);
}

static void buf_varint_truncated(void **state) {
    (void)state;
    static const uint8_t cut[] = { 0x80, 0x80 };
    kp_reader r;
    kp_rd_init(&r, cut, sizeof cut);
    (void)kp_rd_varint(&r);
    assert_int_equal(r.err, KP_ERR__TRUNCATED);
    kp_rd_init(&r, cut, sizeof cut);
    (void)kp_rd_varlong(&r);
    assert_int_equal(r.err, KP_ERR__TRUNCATED);
    kp_rd_init(&r, NULL, 0);
    (void)kp_rd_uvarint(&r);
    assert_int_equal(r.err, KP_ERR__TRUNCATED);
}

static void buf_fixed_width_big_endian(void **state) {
    (void)state;
    uint8_t out[64];
    kp_writer w;
    kp_wr_init(&w, out, sizeof out);
    kp_wr_i8(&w, -2);
    kp_wr_i16(&w, -2);
    kp_wr_i32(&w, 0x01020304);
    kp_wr_i64(&w, INT64_MIN);
    kp_wr_u32(&w, 0xE3069283u);
    kp_wr_bool(&w, true);
    static const uint8_t want[] = { 0xFE, 0xFF, 0xFE, 0x01, 0x02, 0x03, 0x04,
                                    0x80, 0, 0, 0, 0, 0, 0, 0, 0xE3, 0x06, 0x92, 0x83, 0x01 };
    assert_int_equal(w.len, sizeof want);
    assert_memory_equal(out, want, sizeof want);
    kp_reader r;
    kp_rd_init(&r, out, w.len);
    assert_int_equal(kp_rd_i8(&r), -2);
    assert_int_equal(kp_rd_i16(&r), -2);
    assert_int_equal(kp_rd_i32(&r), 0x01020304);
    assert_true(kp_rd_i64(&r) == INT64_MIN);
    assert_int_equal(kp_rd_u32(&r), 0xE3069283u);
    assert_true(kp_rd_bool(&r));
    assert_int_equal(r.err, KP_ERR_NONE);
    assert_int_equal(kp_rd_remaining(&r), 0);
}

static void buf_strings_with_nulls(void **state) {
    (void)state;
    uint8_t out[64];
    kp_writer w;
    kp_wr_init(&w, out, sizeof out);
    kp_wr_cstring(&w, "abc");
    kp_wr_cstring(&w, NULL);
    kp_wr_cstring(&w, "");
    static const uint8_t want[] = { 0, 3, 'a', 'b', 'c', 0xFF, 0xFF, 0, 0 };
    assert_int_equal(w.len, sizeof want);
    assert_memory_equal(out, want, sizeof want);

    kp_reader r;
    kp_rd_init(&r, out, w.len);
    kp_slice s = kp_rd_string(&r);
    assert_true(kp_slice_eq_str(s, "abc"));
    assert_ptr_equal(s.ptr, out + 2); /* zero copy */
    s = kp_rd_nullable_string(&r);
    assert_int_equal(s.len, -1);
    assert_true(kp_slice_eq(s, KP_SLICE_NULL));
    s = kp_rd_string(&r);
    assert_int_equal(s.len, 0);
    assert_false(kp_slice_eq(s, KP_SLICE_NULL)); /* empty is not null */
    assert_int_equal(r.err, KP_ERR_NONE);

    /* a null where the field is not nullable */
    kp_rd_init(&r, out + 5, 2);
    (void)kp_rd_string(&r);
    assert_int_equal(r.err, KP_ERR__BAD_MSG);
    /* length -2 */
    static const uint8_t neg[] = { 0xFF, 0xFE };
    kp_rd_init(&r, neg, sizeof neg);
    (void)kp_rd_nullable_string(&r);
    assert_int_equal(r.err, KP_ERR__BAD_MSG);
    /* length beyond the input */
    static const uint8_t longer[] = { 0x00, 0x05, 'a', 'b' };
    kp_rd_init(&r, longer, sizeof longer);
    s = kp_rd_string(&r);
    assert_int_equal(r.err, KP_ERR__TRUNCATED);
    assert_int_equal(s.len, -1);
}

static void buf_bytes_with_nulls(void **state) {
    (void)state;
    uint8_t out[64];
    kp_writer w;
    kp_wr_init(&w, out, sizeof out);
    kp_wr_bytes(&w, (kp_slice){ (const uint8_t *)"\x00\x01", 2 });
    kp_wr_bytes(&w, KP_SLICE_NULL);
    static const uint8_t want[] = { 0, 0, 0, 2, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF };
    assert_int_equal(w.len, sizeof want);
    assert_memory_equal(out, want, sizeof want);
    kp_reader r;
    kp_rd_init(&r, out, w.len);
    kp_slice b = kp_rd_bytes(&r);
    assert_int_equal(b.len, 2);
    b = kp_rd_nullable_bytes(&r);
    assert_int_equal(b.len, -1);
    assert_int_equal(r.err, KP_ERR_NONE);
    kp_rd_init(&r, out + 6, 4);
    (void)kp_rd_bytes(&r);
    assert_int_equal(r.err, KP_ERR__BAD_MSG);
    static const uint8_t huge[] = { 0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3 };
    kp_rd_init(&r, huge, sizeof huge);
    (void)kp_rd_bytes(&r);
    assert_int_equal(r.err, KP_ERR__TRUNCATED);
}

static void buf_array_count_bigger_than_input_rejected(void **state) {
    (void)state;
    static const uint8_t a[] = { 0x00, 0x00, 0x00, 0x03, 1, 2, 3, 4, 5, 6, 7, 8 };
    kp_reader r;
    kp_rd_init(&r, a, sizeof a);
    assert_int_equal(kp_rd_array_len(&r, 4, false), 0); /* 3 * 4 > 8 left */
    assert_int_equal(r.err, KP_ERR__BAD_MSG);
    kp_rd_init(&r, a, sizeof a);
    assert_int_equal(kp_rd_array_len(&r, 2, false), 3); /* 3 * 2 <= 8 */
    assert_int_equal(r.err, KP_ERR_NONE);

    static const uint8_t billions[] = { 0x7F, 0xFF, 0xFF, 0xFF };
    kp_rd_init(&r, billions, sizeof billions);
    assert_int_equal(kp_rd_array_len(&r, 1, false), 0);
    assert_int_equal(r.err, KP_ERR__BAD_MSG);

    static const uint8_t null_arr[] = { 0xFF, 0xFF, 0xFF, 0xFF };
    kp_rd_init(&r, null_arr, sizeof null_arr);
    assert_int_equal(kp_rd_array_len(&r, 4, true), -1);
    assert_int_equal(r.err, KP_ERR_NONE);
    kp_rd_init(&r, null_arr, sizeof null_arr);
    (void)kp_rd_array_len(&r, 4, false);
    assert_int_equal(r.err, KP_ERR__BAD_MSG);
    static const uint8_t minus2[] = { 0xFF, 0xFF, 0xFF, 0xFE };
    kp_rd_init(&r, minus2, sizeof minus2);
    (void)kp_rd_array_len(&r, 0, true);
    assert_int_equal(r.err, KP_ERR__BAD_MSG);
}

static void buf_reader_error_is_sticky(void **state) {
    (void)state;
    static const uint8_t b[] = { 0x00, 0x01, 0x02 };
    kp_reader r;
    kp_rd_init(&r, b, sizeof b);
    (void)kp_rd_i32(&r);
    assert_int_equal(r.err, KP_ERR__TRUNCATED);
    assert_int_equal(kp_rd_remaining(&r), 0);
    assert_int_equal(kp_rd_i8(&r), 0); /* even though a byte was there */
    assert_null(kp_rd_raw(&r, 1));
    assert_false(kp_rd_fail(&r, KP_ERR__BAD_MSG));
    assert_int_equal(r.err, KP_ERR__TRUNCATED); /* first error kept */
}

static void buf_sub_reader(void **state) {
    (void)state;
    static const uint8_t b[] = { 1, 2, 3, 4, 5 };
    kp_reader r, s;
    kp_rd_init(&r, b, sizeof b);
    s = kp_rd_sub(&r, 2);
    assert_int_equal(kp_rd_i16(&s), 0x0102);
    (void)kp_rd_i8(&s);
    assert_int_equal(s.err, KP_ERR__TRUNCATED); /* bounded to 2 bytes */
    assert_int_equal(kp_rd_i8(&r), 3);          /* parent skipped them */
    assert_int_equal(r.err, KP_ERR_NONE);
    s = kp_rd_sub(&r, 10);
    assert_int_equal(s.err, KP_ERR__TRUNCATED);
    assert_int_equal(r.err, KP_ERR__TRUNCATED);
}

/* One encoder used twice: with a NULL buffer it counts, then it writes. */
static void encode_sample(kp_writer *w) {
    kp_wr_i16(w, 18);
    kp_wr_cstring(w, "producer-1");
    size_t at = kp_wr_reserve_i32(w);
    kp_wr_array_len(w, 2);
    kp_wr_varint(w, -8193);
    kp_wr_varlong(w, INT64_MIN);
    kp_wr_bytes(w, KP_SLICE_NULL);
    kp_wr_raw(w, "xyz", 3);
    kp_wr_patch_i32(w, at, (int32_t)w->len);
}

static void buf_writer_sizing_pass_equals_writing_pass(void **state) {
    (void)state;
    kp_writer w;
    kp_wr_init(&w, NULL, 0);
    encode_sample(&w);
    size_t need = w.len;
    assert_int_equal(w.err, KP_ERR_NONE);
    assert_int_equal(need, 2 + 12 + 4 + 4 + 3 + 10 + 4 + 3);
    uint8_t buf[64];
    kp_wr_init(&w, buf, need);
    encode_sample(&w);
    assert_int_equal(w.err, KP_ERR_NONE);
    assert_int_equal(w.len, need);
    assert_int_equal(kp_be32_get(buf + 14), (uint32_t)need); /* patched */
}

static void buf_writer_overflow_sets_err_and_keeps_counting(void **state) {
    (void)state;
    uint8_t buf[64];
    memset(buf, 0xAA, sizeof buf);
    kp_writer w;
    kp_wr_init(&w, buf, 10);
    encode_sample(&w);
    assert_int_equal(w.err, KP_ERR__NOMEM);
    assert_int_equal(w.len, 2 + 12 + 4 + 4 + 3 + 10 + 4 + 3);
    for (size_t i = 10; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0xAA); /* nothing past cap */
    /* exactly full is fine, one more byte is not */
    kp_wr_init(&w, buf, 4);
    kp_wr_i32(&w, 1);
    assert_int_equal(w.err, KP_ERR_NONE);
    kp_wr_i8(&w, 1);
    assert_int_equal(w.err, KP_ERR__NOMEM);
    /* once failed, a write that would have fit the room left is refused too
     * (sticky: len stays past cap), and the bytes under cap stay as written */
    kp_wr_init(&w, buf, 6);
    kp_wr_i32(&w, 0x01020304);
    kp_wr_i32(&w, 0x05060708); /* does not fit: 2 bytes left */
    assert_int_equal(w.err, KP_ERR__NOMEM);
    kp_wr_raw(&w, "", 0);
    kp_wr_i8(&w, 9);
    assert_int_equal(w.err, KP_ERR__NOMEM);
    assert_int_equal(w.len, 4 + 4 + 0 + 1);
    assert_int_equal(kp_be32_get(buf), 0x01020304);
    assert_int_equal(buf[4], 0xAA);
    /* a sizing pass never fails, whatever it counts */
    kp_wr_init(&w, NULL, 0);
    kp_wr_raw(&w, NULL, 0);
    kp_wr_i64(&w, 1);
    assert_int_equal(w.err, KP_ERR_NONE);
    assert_int_equal(w.len, 8);
}

static void buf_zigzag_round_trip_edges(void **state) {
    (void)state;
    static const int32_t v32[] = { 0, -1, 1, INT32_MAX, INT32_MIN, 63, -64 };
    for (size_t i = 0; i < N(v32); i++)
        assert_int_equal(kp_unzigzag32(kp_zigzag32(v32[i])), v32[i]);
    static const int64_t v64[] = { 0, -1, 1, INT64_MAX, INT64_MIN };
    for (size_t i = 0; i < N(v64); i++)
        assert_true(kp_unzigzag64(kp_zigzag64(v64[i])) == v64[i]);
    assert_int_equal(kp_zigzag32(INT32_MIN), 0xFFFFFFFFu);
    assert_int_equal(kp_uvarint_size(0), 1);
    assert_int_equal(kp_uvarint_size(UINT32_MAX), 5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_bytes_ref_gathers_large_fields),
        cmocka_unit_test(buf_varint_vectors_encode_and_decode),
        cmocka_unit_test(buf_varlong_vectors_encode_and_decode),
        cmocka_unit_test(buf_varint_sixth_byte_is_malformed),
        cmocka_unit_test(buf_varlong_eleventh_byte_is_malformed),
        cmocka_unit_test(buf_varint_truncated),
        cmocka_unit_test(buf_fixed_width_big_endian),
        cmocka_unit_test(buf_strings_with_nulls),
        cmocka_unit_test(buf_bytes_with_nulls),
        cmocka_unit_test(buf_array_count_bigger_than_input_rejected),
        cmocka_unit_test(buf_reader_error_is_sticky),
        cmocka_unit_test(buf_sub_reader),
        cmocka_unit_test(buf_writer_sizing_pass_equals_writing_pass),
        cmocka_unit_test(buf_writer_overflow_sets_err_and_keeps_counting),
        cmocka_unit_test(buf_zigzag_round_trip_edges),
    };
    return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
