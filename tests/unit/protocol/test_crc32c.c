/*
 * test_crc32c.c — CRC32C against the published vectors (Kafka's Crc32CTest
 * and KAFKA_FACTS.md), for the table and the SSE4.2 implementations, and
 * the two against each other on every length 0..1024 at every alignment.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_crc32c.h"
#include "kp_rng.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static const struct {
    const char *name;
    crc_fn fn;
} impls[] = {
    { "sw", kp_crc32c_sw },
    { "hw", kp_crc32c_hw },
    { "dispatch", kp_crc32c },
};
#define NIMPL (sizeof impls / sizeof impls[0])

static uint32_t crc_str(crc_fn fn, const char *s) {
    return fn(0, s, strlen(s));
}

static void crc32c_published_vectors_every_implementation(void **state) {
    (void)state;
    uint8_t zeros[32], ones[32];
    memset(zeros, 0, sizeof zeros);
    memset(ones, 0xff, sizeof ones);
    for (size_t i = 0; i < NIMPL; i++) {
        crc_fn f = impls[i].fn;
        assert_int_equal(crc_str(f, "123456789"), 0xE3069283u);
        assert_int_equal(crc_str(f, "Some String"), 608512271u);
        assert_int_equal(crc_str(f, "Any String you want"), 0x73C6E69Bu);
        assert_int_equal(crc_str(f, ""), 0u);
        assert_int_equal(f(0, NULL, 0), 0u);
        assert_int_equal(crc_str(f, "a"), 0xC1D04330u);
        assert_int_equal(f(0, zeros, 32), 0x8A9136AAu);
        assert_int_equal(f(0, ones, 32), 0x62A8AB43u);
    }
}

/* Crc32CTest.testUpdate: whole, byte by byte and two parts agree. */
static void crc32c_chaining_byte_by_byte_and_two_parts(void **state) {
    (void)state;
    const char *s = "Any String you want";
    size_t n = strlen(s);
    for (size_t i = 0; i < NIMPL; i++) {
        crc_fn f = impls[i].fn;
        uint32_t c = 0;
        for (size_t k = 0; k < n; k++)
            c = f(c, s + k, 1);
        assert_int_equal(c, 0x73C6E69Bu);
        for (size_t cut = 0; cut <= n; cut++)
            assert_int_equal(f(f(0, s, cut), s + cut, n - cut), 0x73C6E69Bu);
    }
}

static void fill_random(kp_rng *r, uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)kp_rng_u32(r);
}

static void crc32c_hw_equals_sw_every_length_and_alignment(void **state) {
    (void)state;
    if (!kp_crc32c_hw_available())
        print_message("note: no SSE4.2 on this CPU; hw path falls back to the table\n");
    kp_rng r = kp_rng_stream(1, "crc32c");
    uint8_t *buf = malloc(1024 + 16);
    assert_non_null(buf);
    fill_random(&r, buf, 1024 + 16);
    for (size_t len = 0; len <= 1024; len++)
        for (size_t off = 0; off < 8; off++) {
            uint32_t init = (uint32_t)(len * 2654435761u);
            uint32_t sw = kp_crc32c_sw(init, buf + off, len);
            uint32_t hw = kp_crc32c_hw(init, buf + off, len);
            if (sw != hw)
                fail_msg("len %zu off %zu: sw %08x hw %08x", len, off, sw, hw);
        }
    free(buf);
}

/* Long inputs go through the 3-way interleaved blocks (3 x 8192 and
 * 3 x 256 bytes) and their recombination. */
static void crc32c_hw_equals_sw_long_inputs(void **state) {
    (void)state;
    kp_rng r = kp_rng_stream(2, "crc32c-long");
    size_t max = 3 * 8192 * 3 + 3 * 256 * 2 + 77;
    uint8_t *buf = malloc(max + 8);
    assert_non_null(buf);
    fill_random(&r, buf, max + 8);
    static const size_t lens[] = { 767, 768, 769, 1535, 1536, 24575, 24576, 24577,
                                   24576 + 768, 49152 + 1000, 3 * 8192 * 3 + 3 * 256 * 2 + 77 };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        for (size_t off = 0; off < 8; off++) {
            uint32_t sw = kp_crc32c_sw(0, buf + off, lens[i]);
            uint32_t hw = kp_crc32c_hw(0, buf + off, lens[i]);
            if (sw != hw)
                fail_msg("len %zu off %zu: sw %08x hw %08x", lens[i], off, sw, hw);
            /* chaining across an odd split point agrees too */
            size_t cut = lens[i] / 3 + off;
            assert_int_equal(kp_crc32c_hw(kp_crc32c_hw(0, buf + off, cut), buf + off + cut,
                                          lens[i] - cut), sw);
        }
    free(buf);
}

/* From 72 bytes to 3 x 8192 - 1 (with PCLMULQDQ) the input is three
 * streams of a third each, joined by shifts of the first two registers
 * by 2 l and l bytes (l = len / 24 * 8): one carry-less multiplication
 * by a factor for l / 8 mod 64 words, one for l / 8 / 64 (each where not
 * 0). Lengths across the whole range, so that every factor of both
 * tables is used, and both alone, against the table implementation. */
static void crc32c_hw_equals_sw_three_stream_lengths(void **state) {
    (void)state;
    kp_rng r = kp_rng_stream(3, "crc32c-mid");
    size_t max = 3 * 8192 - 1;
    uint8_t *buf = malloc(max + 8);
    assert_non_null(buf);
    fill_random(&r, buf, max + 8);
    bool lo_used[64] = { false }, hi_used[32] = { false };
    for (size_t len = 1025; len <= max; len += len % 7 == 0 ? 61 : 37) {
        size_t m = len / 24; /* l / 8 */
        lo_used[m % 64] = lo_used[2 * m % 64] = true;
        hi_used[m / 64] = hi_used[2 * m / 64] = true;
        size_t off = len % 8;
        uint32_t init = (uint32_t)(len * 2654435761u);
        uint32_t sw = kp_crc32c_sw(init, buf + off, len);
        uint32_t hw = kp_crc32c_hw(init, buf + off, len);
        if (sw != hw)
            fail_msg("len %zu off %zu: sw %08x hw %08x", len, off, sw, hw);
    }
    for (size_t len = 1536; len <= max; len += 1536) { /* l a multiple of 512: no low factor */
        lo_used[0] = true;
        assert_int_equal(kp_crc32c_hw(0, buf, len), kp_crc32c_sw(0, buf, len));
    }
    for (int i = 0; i < 64; i++)
        assert_true(lo_used[i]);
    for (int i = 0; i < 32; i++)
        assert_true(hi_used[i]);
    free(buf);
}

static void crc32c_combine_matches_concatenation(void **state) {
    (void)state;
    kp_rng r = kp_rng_stream(3, "crc32c-combine");
    uint8_t buf[3000];
    fill_random(&r, buf, sizeof buf);
    static const size_t cuts[] = { 0, 1, 7, 64, 1000, 2999, 3000 };
    uint32_t whole = kp_crc32c(0, buf, sizeof buf);
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        size_t c = cuts[i];
        uint32_t a = kp_crc32c(0, buf, c), b = kp_crc32c(0, buf + c, sizeof buf - c);
        assert_int_equal(kp_crc32c_combine(a, b, sizeof buf - c), whole);
    }
    assert_int_equal(kp_crc32c_combine(kp_crc32c(0, "12345", 5), kp_crc32c(0, "6789", 4), 4),
                     0xE3069283u);
}

static void crc32c_detects_every_single_bit_flip(void **state) {
    (void)state;
    uint8_t buf[64];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)i;
    uint32_t good = kp_crc32c(0, buf, sizeof buf);
    for (size_t bit = 0; bit < sizeof buf * 8; bit++) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_not_equal(kp_crc32c(0, buf, sizeof buf), good);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
}

static void crc32c_impl_name_reflects_cpu(void **state) {
    (void)state;
    assert_string_equal(kp_crc32c_impl_name(),
                        kp_crc32c_hw_available() ? "sse4.2" : "slicing-by-8");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32c_published_vectors_every_implementation),
        cmocka_unit_test(crc32c_chaining_byte_by_byte_and_two_parts),
        cmocka_unit_test(crc32c_hw_equals_sw_every_length_and_alignment),
        cmocka_unit_test(crc32c_hw_equals_sw_three_stream_lengths),
        cmocka_unit_test(crc32c_hw_equals_sw_long_inputs),
        cmocka_unit_test(crc32c_combine_matches_concatenation),
        cmocka_unit_test(crc32c_detects_every_single_bit_flip),
        cmocka_unit_test(crc32c_impl_name_reflects_cpu),
    };
    return cmocka_run_group_tests_name("crc32c", tests, NULL, NULL);
}
