/*
 * test_compress.c — the four codecs: round trips (empty, tiny, large,
 * incompressible), decoding of streams written by other implementations
 * (the gzip, lz4 and zstd command-line tools, captured when this test was
 * written; hand-assembled snappy xerial frames), the xerial framing we
 * write, hostile and truncated input, and the kp_dbuf bound that stops
 * decompression bombs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4frame.h>
#include <zstd.h>

#include "kp_buf.h"
#include "kp_compress.h"
#include "kp_rng.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const kp_codec codecs[] = { KP_CODEC_NONE, KP_CODEC_GZIP, KP_CODEC_SNAPPY,
                                   KP_CODEC_LZ4, KP_CODEC_ZSTD };

/* Compresses and decompresses; returns the compressed size. */
static size_t round_trip(kp_codec c, const uint8_t *in, size_t len) {
    size_t bound = kp_compress_bound(c, len);
    uint8_t *z = malloc(bound ? bound : 1);
    size_t zlen = 0;
    kp_err e = kp_compress(c, in, len, z, bound, &zlen);
    if (e)
        fail_msg("%s: compress %zu bytes: %s", kp_codec_name(c), len, kp_err_name(e));
    assert_true(zlen <= bound);
    kp_dbuf d;
    kp_dbuf_init(&d, 0);
    e = kp_decompress(c, z, zlen, &d);
    if (e)
        fail_msg("%s: decompress %zu bytes: %s", kp_codec_name(c), zlen, kp_err_name(e));
    assert_int_equal(d.len, len);
    if (len)
        assert_memory_equal(d.ptr, in, len);
    kp_dbuf_free(&d);
    free(z);
    return zlen;
}

static uint8_t *make_input(size_t len, bool noise, uint64_t seed) {
    uint8_t *p = malloc(len ? len : 1);
    kp_rng r = kp_rng_stream(seed, "compress-input");
    static const char words[] = "the quick producer sends a batch to the leader; ";
    for (size_t i = 0; i < len; i++)
        p[i] = noise ? (uint8_t)kp_rng_u32(&r) : (uint8_t)words[i % (sizeof words - 1)];
    return p;
}

static void compress_round_trip_sizes(void **state) {
    (void)state;
    static const size_t sizes[] = { 0, 1, 2, 100, 32767, 32768, 32769, 65536 + 3, 1 << 20 };
    for (size_t s = 0; s < N(sizes); s++) {
        uint8_t *text = make_input(sizes[s], false, s);
        uint8_t *noise = make_input(sizes[s], true, s);
        for (size_t c = 0; c < N(codecs); c++) {
            size_t zt = round_trip(codecs[c], text, sizes[s]);
            (void)round_trip(codecs[c], noise, sizes[s]);
            if (codecs[c] != KP_CODEC_NONE && sizes[s] >= 32768)
                assert_true(zt < sizes[s] / 4); /* repetitive text really compresses */
        }
        free(text);
        free(noise);
    }
}

static void compress_output_too_small_is_nomem(void **state) {
    (void)state;
    uint8_t *in = make_input(5000, true, 9);
    uint8_t out[64];
    for (size_t c = 0; c < N(codecs); c++) {
        size_t zlen = 123;
        assert_int_equal(kp_compress(codecs[c], in, 5000, out, sizeof out, &zlen), KP_ERR__NOMEM);
    }
    size_t zlen;
    assert_int_equal(kp_compress((kp_codec)9, in, 10, out, sizeof out, &zlen), KP_ERR__INVALID_ARG);
    kp_dbuf d;
    kp_dbuf_init(&d, 0);
    assert_int_equal(kp_decompress((kp_codec)9, in, 10, &d), KP_ERR__INVALID_ARG);
    free(in);
}

static void decode(kp_codec c, const uint8_t *z, size_t zlen, const char *want) {
    kp_dbuf d;
    kp_dbuf_init(&d, 0);
    kp_err e = kp_decompress(c, z, zlen, &d);
    if (e)
        fail_msg("%s: %s", kp_codec_name(c), kp_err_name(e));
    assert_int_equal(d.len, strlen(want));
    assert_memory_equal(d.ptr, want, d.len);
    kp_dbuf_free(&d);
}

static size_t unhex(const char *hex, uint8_t *out) {
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

/* `printf 'hello kafka\n' | gzip -9n` and `python3 -c "print('kafka '*40,end='')" | gzip -9n` */
static void decode_gzip_from_gzip_cli(void **state) {
    (void)state;
    static const uint8_t hello[] = {
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0x48,
        0xcd, 0xc9, 0xc9, 0x57, 0xc8, 0x4e, 0x4c, 0xcb, 0x4e, 0xe4, 0x02, 0x00,
        0xa4, 0x65, 0x6f, 0xc3, 0x0c, 0x00, 0x00, 0x00
    };
    decode(KP_CODEC_GZIP, hello, sizeof hello, "hello kafka\n");
    uint8_t k[64];
    size_t n = unhex("1f8b0800000000000203cb4e4ccb4e54c81e31240009d28dbaf0000000", k);
    char want[241];
    for (int i = 0; i < 40; i++)
        memcpy(want + 6 * i, "kafka ", 6);
    want[240] = 0;
    decode(KP_CODEC_GZIP, k, n, want);
    /* two members back to back read as one stream (GZIPInputStream) */
    uint8_t two[2 * sizeof hello];
    memcpy(two, hello, sizeof hello);
    memcpy(two + sizeof hello, hello, sizeof hello);
    decode(KP_CODEC_GZIP, two, sizeof two, "hello kafka\nhello kafka\n");
    /* a zlib (not gzip) stream is not what Kafka writes: rejected */
    static const uint8_t zlib_stream[] = { 0x78, 0x9c, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00,
                                           0x06, 0x2c, 0x02, 0x15 };
    kp_dbuf d;
    kp_dbuf_init(&d, 0);
    assert_int_equal(kp_decompress(KP_CODEC_GZIP, zlib_stream, sizeof zlib_stream, &d),
                     KP_ERR__COMPRESSION);
    kp_dbuf_free(&d);
}

/* Hand-assembled xerial frames around raw snappy blocks:
 * "hello"     = 05 | literal len 5 (tag 0x10) 'hello'
 * "abcabcabc" = 09 | literal len 3 (tag 0x08) 'abc' | copy len 6 offset 3 (09 03) */
static void decode_snappy_xerial_hand_made(void **state) {
    (void)state;
    static const uint8_t one[] = {
        0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0x00, 0, 0, 0, 1, 0, 0, 0, 1,
        0, 0, 0, 7, 0x05, 0x10, 'h', 'e', 'l', 'l', 'o'
    };
    decode(KP_CODEC_SNAPPY, one, sizeof one, "hello");
    static const uint8_t two[] = {
        0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0x00, 0, 0, 0, 1, 0, 0, 0, 1,
        0, 0, 0, 7, 0x05, 0x10, 'h', 'e', 'l', 'l', 'o',
        0, 0, 0, 7, 0x09, 0x08, 'a', 'b', 'c', 0x09, 0x03
    };
    decode(KP_CODEC_SNAPPY, two, sizeof two, "helloabcabcabc");
    /* a raw block without the xerial header (SnappyInputStream falls back) */
    static const uint8_t raw[] = { 0x09, 0x08, 'a', 'b', 'c', 0x09, 0x03 };
    decode(KP_CODEC_SNAPPY, raw, sizeof raw, "abcabcabc");
    /* header only = empty stream (what SnappyOutputStream writes for no data) */
    decode(KP_CODEC_SNAPPY, one, 16, "");

    kp_dbuf d;
    kp_dbuf_init(&d, 0);
    uint8_t bad[sizeof two];
    memcpy(bad, two, sizeof two);
    bad[30] = 0x7F; /* second chunk length beyond the input */
    assert_int_equal(kp_decompress(KP_CODEC_SNAPPY, bad, sizeof bad, &d), KP_ERR__COMPRESSION);
    memcpy(bad, two, sizeof two);
    bad[37] = 0x09; /* copy offset 9 before the start of the output */
    assert_int_equal(kp_decompress(KP_CODEC_SNAPPY, bad, sizeof bad, &d), KP_ERR__COMPRESSION);
    memcpy(bad, two, sizeof two);
    bad[11] = 0; /* version 0 */
    assert_int_equal(kp_decompress(KP_CODEC_SNAPPY, bad, sizeof bad, &d), KP_ERR__COMPRESSION);
    assert_int_equal(d.len, 0);
    kp_dbuf_free(&d);
}

static void snappy_we_write_xerial_chunks_of_32k(void **state) {
    (void)state;
    size_t len = 70000;
    uint8_t *in = make_input(len, false, 3);
    size_t bound = kp_compress_bound(KP_CODEC_SNAPPY, len);
    uint8_t *z = malloc(bound);
    size_t zlen;
    assert_int_equal(kp_compress(KP_CODEC_SNAPPY, in, len, z, bound, &zlen), 0);
    static const uint8_t hdr[16] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1 };
    assert_memory_equal(z, hdr, 16);
    /* 70000 = 32768 + 32768 + 4464: three chunks, each a snappy block whose
     * preamble (varint uncompressed length) says so */
    size_t at = 16, chunks = 0;
    static const uint32_t want[3] = { 32768, 32768, 4464 };
    while (at < zlen) {
        uint32_t clen = kp_be32_get(z + at);
        kp_reader r;
        kp_rd_init(&r, z + at + 4, clen);
        assert_true(chunks < 3);
        assert_int_equal(kp_rd_uvarint(&r), want[chunks]);
        at += 4 + clen;
        chunks++;
    }
    assert_int_equal(at, zlen);
    assert_int_equal(chunks, 3);
    /* empty input: just the header */
    assert_int_equal(kp_compress(KP_CODEC_SNAPPY, in, 0, z, bound, &zlen), 0);
    assert_int_equal(zlen, 16);
    free(z);
    free(in);
}

/* `printf 'hello kafka\n' | lz4 -B4 -BI --no-frame-crc` — the frame header
 * 04 22 4d 18 60 40 82 is also what KafkaLZ4BlockOutputStream writes — and
 * the `kafka ` x 40 input with the CLI's content checksum (FLG 0x64). */
static void decode_lz4_from_lz4_cli(void **state) {
    (void)state;
    static const uint8_t hello[] = {
        0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82, 0x0c, 0x00, 0x00, 0x80, 0x68,
        0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x6b, 0x61, 0x66, 0x6b, 0x61, 0x0a, 0x00,
        0x00, 0x00, 0x00
    };
    decode(KP_CODEC_LZ4, hello, sizeof hello, "hello kafka\n");
    uint8_t k[64];
    size_t n = unhex("04224d186440a7100000006f6b61666b61200600d25061666b612000000000e1351a75", k);
    char want[241];
    for (int i = 0; i < 40; i++)
        memcpy(want + 6 * i, "kafka ", 6);
    want[240] = 0;
    decode(KP_CODEC_LZ4, k, n, want);
    k[n - 1] ^= 1; /* content checksum wrong */
    kp_dbuf d;
    kp_dbuf_init(&d, 0);
    assert_int_equal(kp_decompress(KP_CODEC_LZ4, k, n, &d), KP_ERR__COMPRESSION);
    /* our own output carries Kafka's frame header */
    uint8_t z[128];
    size_t zlen;
    assert_int_equal(kp_compress(KP_CODEC_LZ4, "hello kafka\n", 12, z, sizeof z, &zlen), 0);
    static const uint8_t kafka_hdr[7] = { 0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82 };
    assert_memory_equal(z, kafka_hdr, 7);
    /* two frames back to back */
    uint8_t two[2 * sizeof hello];
    memcpy(two, hello, sizeof hello);
    memcpy(two + sizeof hello, hello, sizeof hello);
    decode(KP_CODEC_LZ4, two, sizeof two, "hello kafka\nhello kafka\n");
    kp_dbuf_free(&d);
}

/* Frames other LZ4F settings produce (linked blocks, block and content
 * checksums, content size) decode too. */
static void decode_lz4_other_frame_settings(void **state) {
    (void)state;
    size_t len = 300000;
    uint8_t *in = make_input(len, false, 4);
    LZ4F_preferences_t p;
    memset(&p, 0, sizeof p);
    p.frameInfo.blockSizeID = LZ4F_max256KB;
    p.frameInfo.blockMode = LZ4F_blockLinked;
    p.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
    p.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled;
    p.frameInfo.contentSize = len;
    p.compressionLevel = 9;
    size_t bound = LZ4F_compressFrameBound(len, &p);
    uint8_t *z = malloc(bound);
    size_t zlen = LZ4F_compressFrame(z, bound, in, len, &p);
    assert_false(LZ4F_isError(zlen));
    kp_dbuf d;
    kp_dbuf_init(&d, 0);
    assert_int_equal(kp_decompress(KP_CODEC_LZ4, z, zlen, &d), 0);
    assert_int_equal(d.len, len);
    assert_memory_equal(d.ptr, in, len);
    kp_dbuf_free(&d);
    free(z);
    free(in);
}

/* `printf 'hello kafka\n' | zstd --no-check` (no content size: streaming
 * decode needed) and `kafka ` x 40 with --check. */
static void decode_zstd_from_zstd_cli(void **state) {
    (void)state;
    static const uint8_t hello[] = {
        0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x61, 0x00, 0x00, 0x68, 0x65, 0x6c,
        0x6c, 0x6f, 0x20, 0x6b, 0x61, 0x66, 0x6b, 0x61, 0x0a
    };
    assert_true(ZSTD_getFrameContentSize(hello, sizeof hello) == ZSTD_CONTENTSIZE_UNKNOWN);
    decode(KP_CODEC_ZSTD, hello, sizeof hello, "hello kafka\n");
    uint8_t k[64];
    size_t n = unhex("28b52ffd24f06d0000306b61666b61200100e750a508d2d0616b", k);
    char want[241];
    for (int i = 0; i < 40; i++)
        memcpy(want + 6 * i, "kafka ", 6);
    want[240] = 0;
    decode(KP_CODEC_ZSTD, k, n, want);
    k[n - 1] ^= 1; /* checksum wrong */
    kp_dbuf d;
    kp_dbuf_init(&d, 0);
    assert_int_equal(kp_decompress(KP_CODEC_ZSTD, k, n, &d), KP_ERR__COMPRESSION);
    uint8_t two[2 * sizeof hello];
    memcpy(two, hello, sizeof hello);
    memcpy(two + sizeof hello, hello, sizeof hello);
    decode(KP_CODEC_ZSTD, two, sizeof two, "hello kafka\nhello kafka\n");
    /* a frame header asking for a 2^30 window is refused, not honoured */
    static const uint8_t huge_window[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x00, (30 - 10) << 3,
                                           0x29, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o' };
    assert_int_equal(kp_decompress(KP_CODEC_ZSTD, huge_window, sizeof huge_window, &d),
                     KP_ERR__COMPRESSION);
    kp_dbuf_free(&d);
}

/* Every strict prefix of a valid stream is an error (snappy: an error or,
 * when cut on a chunk boundary, a prefix of the data), never a crash. */
static void truncated_streams_rejected(void **state) {
    (void)state;
    size_t len = 3000;
    uint8_t *in = make_input(len, false, 5);
    for (size_t c = 1; c < N(codecs); c++) {
        size_t bound = kp_compress_bound(codecs[c], len);
        uint8_t *z = malloc(bound);
        size_t zlen;
        assert_int_equal(kp_compress(codecs[c], in, len, z, bound, &zlen), 0);
        for (size_t cut = 0; cut < zlen; cut++) {
            uint8_t *p = malloc(cut ? cut : 1);
            memcpy(p, z, cut);
            kp_dbuf d;
            kp_dbuf_init(&d, 0);
            kp_err e = kp_decompress(codecs[c], p, cut, &d);
            if (codecs[c] == KP_CODEC_SNAPPY && e == KP_ERR_NONE) {
                assert_true(d.len < len);
                if (d.len)
                    assert_memory_equal(d.ptr, in, d.len);
            } else if (e == KP_ERR_NONE) {
                fail_msg("%s: prefix of %zu/%zu bytes accepted", kp_codec_name(codecs[c]), cut, zlen);
            } else {
                assert_int_equal(d.len, 0);
            }
            kp_dbuf_free(&d);
            free(p);
        }
        free(z);
    }
    free(in);
}

static void garbage_rejected(void **state) {
    (void)state;
    kp_rng r = kp_rng_stream(6, "garbage");
    for (int round = 0; round < 300; round++) {
        size_t len = (size_t)kp_rng_below(&r, 200);
        uint8_t *p = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++)
            p[i] = (uint8_t)kp_rng_u32(&r);
        /* give some inputs a valid magic so the decoders get further */
        if (len >= 16 && round % 4 == 1)
            memcpy(p, "\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16);
        if (len >= 4 && round % 4 == 2)
            memcpy(p, "\x04\x22\x4d\x18", 4);
        if (len >= 4 && round % 4 == 3)
            memcpy(p, "\x28\xb5\x2f\xfd", 4);
        for (size_t c = 1; c < N(codecs); c++) {
            kp_dbuf d;
            kp_dbuf_init(&d, 1 << 20);
            kp_err e = kp_decompress(codecs[c], p, len, &d);
            /* random bytes might by chance be a valid snappy block; the
             * others have magic numbers and checks */
            if (codecs[c] != KP_CODEC_SNAPPY)
                assert_int_not_equal(e, KP_ERR_NONE);
            kp_dbuf_free(&d);
        }
        free(p);
    }
}

/* 16 MiB of zeros compress to little; decoding into a 1 MiB dbuf stops at
 * the bound with KP_ERR__NOMEM and leaves the dbuf as it was. */
static void decompression_bomb_stopped_by_dbuf_max(void **state) {
    (void)state;
    size_t len = 16u << 20;
    uint8_t *zeros = calloc(1, len);
    for (size_t c = 1; c < N(codecs); c++) {
        size_t bound = kp_compress_bound(codecs[c], len);
        uint8_t *z = malloc(bound);
        size_t zlen;
        assert_int_equal(kp_compress(codecs[c], zeros, len, z, bound, &zlen), 0);
        assert_true(zlen < len / 20);
        kp_dbuf d;
        kp_dbuf_init(&d, 1u << 20);
        assert_int_equal(kp_dbuf_append(&d, "prefix", 6), 0);
        assert_int_equal(kp_decompress(codecs[c], z, zlen, &d), KP_ERR__NOMEM);
        assert_int_equal(d.len, 6);
        assert_memory_equal(d.ptr, "prefix", 6);
        assert_true(d.cap <= d.max);
        kp_dbuf_free(&d);
        free(z);
    }
    free(zeros);
}

static void decompress_appends_to_existing_content(void **state) {
    (void)state;
    for (size_t c = 0; c < N(codecs); c++) {
        uint8_t z[256];
        size_t zlen;
        assert_int_equal(kp_compress(codecs[c], "world", 5, z, sizeof z, &zlen), 0);
        kp_dbuf d;
        kp_dbuf_init(&d, 0);
        assert_int_equal(kp_dbuf_append(&d, "hello ", 6), 0);
        assert_int_equal(kp_decompress(codecs[c], z, zlen, &d), 0);
        assert_int_equal(d.len, 11);
        assert_memory_equal(d.ptr, "hello world", 11);
        kp_dbuf_free(&d);
    }
}

static void dbuf_bounds(void **state) {
    (void)state;
    kp_dbuf d;
    kp_dbuf_init(&d, 0);
    assert_int_equal(d.max, KP_DBUF_DEFAULT_MAX);
    kp_dbuf_init(&d, 10);
    assert_null(d.ptr);
    assert_int_equal(kp_dbuf_append(&d, "0123456789", 10), 0);
    assert_int_equal(d.len, 10);
    assert_true(d.cap <= 10);
    assert_int_equal(kp_dbuf_append(&d, "x", 1), KP_ERR__NOMEM);
    assert_int_equal(d.len, 10);
    assert_int_equal(kp_dbuf_reserve(&d, SIZE_MAX), KP_ERR__NOMEM);
    kp_dbuf_reset(&d);
    assert_int_equal(d.len, 0);
    assert_non_null(d.ptr);
    assert_int_equal(kp_dbuf_append(&d, "abc", 3), 0);
    assert_memory_equal(d.ptr, "abc", 3);
    kp_dbuf_free(&d);
    assert_null(d.ptr);
    assert_int_equal(d.len, 0);
    assert_int_equal(d.max, 10);
    kp_dbuf_free(&d); /* twice is fine */
    kp_dbuf_init(&d, 1u << 20);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(kp_dbuf_append(&d, "0123456789", 10), 0);
    assert_int_equal(d.len, 10000);
    assert_true(d.cap >= 10000 && d.cap <= 32768); /* geometric, not per append */
    kp_dbuf_free(&d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compress_round_trip_sizes),
        cmocka_unit_test(compress_output_too_small_is_nomem),
        cmocka_unit_test(decode_gzip_from_gzip_cli),
        cmocka_unit_test(decode_snappy_xerial_hand_made),
        cmocka_unit_test(snappy_we_write_xerial_chunks_of_32k),
        cmocka_unit_test(decode_lz4_from_lz4_cli),
        cmocka_unit_test(decode_lz4_other_frame_settings),
        cmocka_unit_test(decode_zstd_from_zstd_cli),
        cmocka_unit_test(truncated_streams_rejected),
        cmocka_unit_test(garbage_rejected),
        cmocka_unit_test(decompression_bomb_stopped_by_dbuf_max),
        cmocka_unit_test(decompress_appends_to_existing_content),
        cmocka_unit_test(dbuf_bounds),
    };
    return cmocka_run_group_tests_name("compress", tests, NULL, NULL);
}
