/*
 * test_record_batch.c — RecordBatch v2 against the bytes kafka-clients
 * 2.1.1's MemoryRecordsBuilder writes (KAFKA_FACTS.md), record sizes,
 * sequence wrapping, corruption and truncation handling, and round trips
 * through every codec with headers and null keys/values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_crc32c.h"
#include "kp_record_batch.h"
#include "kp_rng.h"

/* ---- helpers ------------------------------------------------------------ */

static size_t unhex(const char *hex, uint8_t *out, size_t cap) {
    size_t n = strlen(hex) / 2;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static kp_slice S(const char *s) { return kp_slice_str(s); }

static const char *VEC_PLAIN =
    "000000000000000000000040ffffffff021c07770100000000000000000000000000000000000000000000"
    "ffffffffffffffffffffffffffff000000011c000000066b65790a76616c756500";
static const char *VEC_IDEMPOTENT =
    "000000000000000000000040ffffffff020b7e3603000000000000000000000000000000000000000000"
    "000000000000053d8a000000000000000000011c000000066b65790a76616c756500";
static const char *VEC_TXN =
    "000000000000000000000040ffffffff02e8b2116c001000000000000000000000000000000000000000"
    "00000000000001e240000000000005000000011c000000066b65790a76616c756500";
static const char *VEC_TWO =
    "00000000000000000000004fffffffff0207fc9cf900000000000100000000000003e800000000000003ed"
    "ffffffffffffffffffffffffffff0000000220000000086b6579310c76616c7565310018000a02010c76616c75653200";

static kp_slice build_one(uint8_t *buf, size_t cap, bool txn) {
    kp_batch_builder b;
    kp_batch_builder_init(&b, buf, cap, KP_CODEC_NONE, txn);
    assert_int_equal(kp_batch_builder_append(&b, 0, S("key"), S("value"), NULL, 0), KP_ERR_NONE);
    kp_slice out;
    assert_int_equal(kp_batch_builder_close(&b, NULL, 0, &out), KP_ERR_NONE);
    return out;
}

static void assert_bytes_hex(kp_slice got, const char *hex) {
    uint8_t want[256];
    size_t n = unhex(hex, want, sizeof want);
    assert_int_equal((size_t)got.len, n);
    assert_memory_equal(got.ptr, want, n);
}

/* ---- the four byte vectors ------------------------------------------------ */

static void batch_plain_vector_byte_for_byte(void **state) {
    (void)state;
    uint8_t buf[256];
    kp_slice out = build_one(buf, sizeof buf, false);
    assert_int_equal(out.len, 76);
    assert_bytes_hex(out, VEC_PLAIN);
    assert_int_equal(kp_be32_get(buf + 17), 0x1C077701u);
}

static void batch_idempotent_vector_byte_for_byte(void **state) {
    (void)state;
    uint8_t buf[256];
    kp_slice out = build_one(buf, sizeof buf, false);
    kp_batch_set_producer_state(buf, (size_t)out.len, 343434, 0, 0);
    assert_bytes_hex(out, VEC_IDEMPOTENT);
    assert_int_equal(kp_be32_get(buf + 17), 0x0B7E3603u);
}

static void batch_transactional_vector_byte_for_byte(void **state) {
    (void)state;
    uint8_t buf[256];
    kp_slice out = build_one(buf, sizeof buf, true);
    assert_int_equal(kp_be16_get(buf + 21), 0x0010);
    kp_batch_set_producer_state(buf, (size_t)out.len, 123456, 0, 5);
    assert_bytes_hex(out, VEC_TXN);
    assert_int_equal(kp_be32_get(buf + 17), 0xE8B2116Cu);
}

/* MemoryRecordsBuilder.setProducerState before close: the vectors' bytes
 * with one CRC at close (no rewrite); the transactional bit follows the
 * setter; a set after close changes nothing. */
static kp_slice build_with_state(uint8_t *buf, size_t cap, bool init_txn, int64_t pid,
                                 int16_t epoch, int32_t seq, bool txn) {
    kp_batch_builder b;
    kp_batch_builder_init(&b, buf, cap, KP_CODEC_NONE, init_txn);
    assert_int_equal(kp_batch_builder_append(&b, 0, S("key"), S("value"), NULL, 0), KP_ERR_NONE);
    kp_batch_builder_set_producer_state(&b, pid, epoch, seq, txn);
    kp_slice out;
    assert_int_equal(kp_batch_builder_close(&b, NULL, 0, &out), KP_ERR_NONE);
    kp_batch_builder_set_producer_state(&b, 1, 1, 1, !txn); /* closed: ignored */
    kp_slice again;
    assert_int_equal(kp_batch_builder_close(&b, NULL, 0, &again), KP_ERR_NONE);
    assert_ptr_equal(again.ptr, out.ptr);
    return out;
}

static void batch_builder_producer_state_before_close(void **state) {
    (void)state;
    uint8_t buf[256];
    assert_bytes_hex(build_with_state(buf, sizeof buf, false, 343434, 0, 0, false), VEC_IDEMPOTENT);
    assert_bytes_hex(build_with_state(buf, sizeof buf, false, 123456, 0, 5, true), VEC_TXN);
    assert_bytes_hex(build_with_state(buf, sizeof buf, true, 343434, 0, 0, false), VEC_IDEMPOTENT);
    assert_bytes_hex(build_with_state(buf, sizeof buf, false, -1, -1, -1, false), VEC_PLAIN);
}

/* The inline kp_record_iter_next (common shapes) against the general
 * decoder kp_record_iter_next_slow: batches of random shapes (null and
 * empty keys and values, values long enough for 2- and 3-byte lengths,
 * headers, offset deltas past 63) and then one byte of the records part
 * changed at random; both iterators must return the same records, the
 * same end and the same error. */
static bool same_record(const kp_record *a, const kp_record *b) {
    return a->attributes == b->attributes && a->timestamp == b->timestamp &&
           a->offset_delta == b->offset_delta && a->offset == b->offset &&
           a->key.ptr == b->key.ptr && a->key.len == b->key.len && a->value.ptr == b->value.ptr &&
           a->value.len == b->value.len && a->header_count == b->header_count &&
           a->headers_raw.ptr == b->headers_raw.ptr && a->headers_raw.len == b->headers_raw.len;
}

/* The inline iterator (kp_record_iter_next) and its key/value-only form
 * (kp_record_iter_next_kv) against the general decoder, record by record
 * and error by error, over random shapes and random corruptions. */
static void batch_inline_iterator_matches_the_general_one(void **state) {
    (void)state;
    enum { CAP = 70000 };
    uint8_t *buf = malloc(CAP), *vbuf = malloc(CAP);
    memset(vbuf, 'v', CAP);
    kp_rng rng = kp_rng_stream(11, "iter-inline");
    int fast_records = 0;
    for (int round = 0; round < 400; round++) {
        kp_batch_builder b;
        kp_batch_builder_init(&b, buf, CAP, KP_CODEC_NONE, false);
        int n = 1 + (int)kp_rng_below(&rng, round % 4 == 0 ? 150 : 6);
        for (int i = 0; i < n; i++) {
            uint64_t shape = kp_rng_below(&rng, 10);
            int32_t vlen = shape < 6 ? (int32_t)kp_rng_below(&rng, 120)
                         : shape < 8 ? 60 + (int32_t)kp_rng_below(&rng, 8200) /* 2- and 3-byte lengths */
                                     : -1;
            kp_slice key = kp_rng_below(&rng, 3) == 0 ? KP_SLICE_NULL
                                                      : (kp_slice){ vbuf, (int32_t)kp_rng_below(&rng, 20) };
            kp_header h[2] = { { S("h"), S("x") }, { S("hh"), KP_SLICE_NULL } };
            int nh = kp_rng_below(&rng, 8) == 0 ? 1 + (int)kp_rng_below(&rng, 2) : 0;
            kp_slice value = vlen < 0 ? KP_SLICE_NULL : (kp_slice){ vbuf, vlen };
            if (kp_batch_builder_append(&b, 1000 + (int64_t)kp_rng_below(&rng, 300000), key, value, h, nh))
                break;
        }
        kp_slice out;
        assert_int_equal(kp_batch_builder_close(&b, NULL, 0, &out), KP_ERR_NONE);
        for (int corrupt = 0; corrupt < 2; corrupt++) {
            if (corrupt) {
                size_t at = 61 + (size_t)kp_rng_below(&rng, (uint64_t)out.len - 61);
                buf[at] = (uint8_t)kp_rng_below(&rng, 256);
                kp_batch_update_crc(buf, (size_t)out.len);
            }
            kp_record_iter fast, slow, kv;
            kp_err e1 = kp_record_iter_init(&fast, buf, (size_t)out.len, NULL);
            kp_err e2 = kp_record_iter_init(&slow, buf, (size_t)out.len, NULL);
            kp_err e3 = kp_record_iter_init(&kv, buf, (size_t)out.len, NULL);
            assert_int_equal(e1, e2);
            assert_int_equal(e1, e3);
            for (;;) {
                kp_record a, c;
                memset(&a, 0x5c, sizeof a);
                memset(&c, 0x5c, sizeof c);
                kp_slice key, value;
                memset(&key, 0x5c, sizeof key);
                memset(&value, 0x5c, sizeof value);
                bool got_a = kp_record_iter_next(&fast, &a);
                bool got_c = kp_record_iter_next_slow(&slow, &c);
                bool got_kv = kp_record_iter_next_kv(&kv, &key, &value); /* key and value only */
                assert_int_equal(got_a, got_c);
                assert_int_equal(got_a, got_kv);
                if (!got_a)
                    break;
                assert_true(same_record(&a, &c));
                assert_ptr_equal(key.ptr, c.key.ptr);
                assert_int_equal(key.len, c.key.len);
                assert_ptr_equal(value.ptr, c.value.ptr);
                assert_int_equal(value.len, c.value.len);
                fast_records += a.header_count == 0;
            }
            assert_int_equal(fast.err, slow.err);
            assert_int_equal(fast.index, slow.index);
            assert_ptr_equal(fast.rd.p, slow.rd.p);
            assert_int_equal(kv.err, slow.err);
            assert_int_equal(kv.index, slow.index);
            assert_ptr_equal(kv.rd.p, slow.rd.p);
        }
    }
    assert_true(fast_records > 1000);
    free(buf);
    free(vbuf);
}

/* The builder's record bytes against DefaultRecord.writeTo written out
 * with kp_buf's own varint writers, across the shapes where the builder's
 * common-record path hands over to the general one: timestamp deltas
 * around 63/64 (one- and two-byte varints) and negative, offset deltas past
 * 63 and 8,191, keys of 63/64 bytes, values around 8,191/8,192 bytes of
 * body, nulls, headers. */
static size_t ref_record(uint8_t *out, size_t cap, int64_t tsd, int32_t od, kp_slice key,
                         kp_slice value, const kp_header *h, int nh) {
    uint8_t body[20000];
    kp_writer w;
    kp_wr_init(&w, body, sizeof body);
    kp_wr_i8(&w, 0);
    kp_wr_varlong(&w, tsd);
    kp_wr_varint(&w, od);
    kp_wr_varint(&w, key.len);
    if (key.len > 0)
        kp_wr_raw(&w, key.ptr, (size_t)key.len);
    kp_wr_varint(&w, value.len);
    if (value.len > 0)
        kp_wr_raw(&w, value.ptr, (size_t)value.len);
    kp_wr_varint(&w, nh);
    for (int i = 0; i < nh; i++) {
        kp_wr_varint(&w, h[i].key.len);
        kp_wr_raw(&w, h[i].key.ptr, (size_t)h[i].key.len);
        kp_wr_varint(&w, h[i].value.len);
        if (h[i].value.len > 0)
            kp_wr_raw(&w, h[i].value.ptr, (size_t)h[i].value.len);
    }
    assert_int_equal(w.err, KP_ERR_NONE);
    kp_writer o;
    kp_wr_init(&o, out, cap);
    kp_wr_varint(&o, (int32_t)w.len);
    kp_wr_raw(&o, body, w.len);
    assert_int_equal(o.err, KP_ERR_NONE);
    return o.len;
}

static void batch_builder_bytes_match_a_reference_encoder(void **state) {
    (void)state;
    enum { CAP = 1 << 20 };
    uint8_t *buf = malloc(CAP), *ref = malloc(CAP), *data = malloc(20000);
    memset(data, 'k', 20000);
    kp_rng rng = kp_rng_stream(5, "builder-ref");
    static const int64_t tss[] = { 0, 1, 63, 64, 65, -1, -64, -65, 8191, 100000 };
    static const int32_t klens[] = { -1, 0, 1, 62, 63, 64, 200 };
    static const int32_t vlens[] = { -1, 0, 1, 50, 63, 64, 4000, 4090, 4100, 8180, 8200, 12000 };
    kp_header hs[2] = { { S("h1"), S("v") }, { S("h2"), KP_SLICE_NULL } };
    for (int round = 0; round < 6; round++) {
        kp_batch_builder b;
        kp_batch_builder_init(&b, buf, CAP, KP_CODEC_NONE, false);
        size_t rlen = 0;
        int64_t first = 1000000;
        int n = round < 3 ? 120 : 9000; /* offset deltas past 63 and past 8,191 */
        for (int i = 0; i < n; i++) {
            int64_t tsd = i == 0 ? 0 : tss[kp_rng_below(&rng, 10)];
            kp_slice key = { data, klens[kp_rng_below(&rng, 7)] };
            kp_slice value = { data, n > 200  ? (int32_t)kp_rng_below(&rng, 40)
                                     : i % 2 ? i % 100 /* bodies around 63/64 bytes */
                                             : vlens[kp_rng_below(&rng, 12)] };
            if (key.len < 0)
                key = KP_SLICE_NULL;
            if (value.len < 0)
                value = KP_SLICE_NULL;
            int nh = kp_rng_below(&rng, 6) == 0 ? 1 + (int)kp_rng_below(&rng, 2) : 0;
            assert_int_equal(kp_batch_builder_append(&b, first + tsd, key, value, hs, nh), KP_ERR_NONE);
            rlen += ref_record(ref + rlen, CAP - rlen, tsd, i, key, value, hs, nh);
        }
        assert_int_equal(kp_batch_builder_uncompressed_bytes(&b), KP_BATCH_HEADER_SIZE + rlen);
        assert_memory_equal(buf + KP_BATCH_HEADER_SIZE, ref, rlen);
    }
    free(buf);
    free(ref);
    free(data);
}

static void batch_two_records_vector_byte_for_byte(void **state) {
    (void)state;
    uint8_t buf[256];
    kp_batch_builder b;
    kp_batch_builder_init(&b, buf, sizeof buf, KP_CODEC_NONE, false);
    assert_int_equal(kp_batch_builder_append(&b, 1000, S("key1"), S("value1"), NULL, 0), 0);
    assert_int_equal(kp_batch_builder_append(&b, 1005, KP_SLICE_NULL, S("value2"), NULL, 0), 0);
    assert_int_equal(kp_batch_builder_count(&b), 2);
    assert_int_equal(kp_batch_builder_uncompressed_bytes(&b), 91);
    kp_slice out;
    assert_int_equal(kp_batch_builder_close(&b, NULL, 0, &out), KP_ERR_NONE);
    assert_bytes_hex(out, VEC_TWO);
    assert_int_equal(kp_be32_get(buf + 17), 0x07FC9CF9u);
}

static void batch_vectors_decode(void **state) {
    (void)state;
    uint8_t buf[256];
    size_t n = unhex(VEC_TXN, buf, sizeof buf);
    kp_batch_header h;
    size_t total;
    assert_int_equal(kp_batch_parse_header(buf, n, &h, &total), KP_ERR_NONE);
    assert_int_equal(total, 76);
    assert_int_equal(h.batch_length, 64);
    assert_int_equal(h.partition_leader_epoch, -1);
    assert_int_equal(h.magic, 2);
    assert_int_equal(h.crc, 0xE8B2116Cu);
    assert_true(kp_batch_is_transactional(&h));
    assert_false(kp_batch_is_control(&h));
    assert_int_equal(kp_batch_codec(&h), KP_CODEC_NONE);
    assert_int_equal(h.producer_id, 123456);
    assert_int_equal(h.producer_epoch, 0);
    assert_int_equal(h.base_sequence, 5);
    assert_int_equal(kp_batch_last_sequence(&h), 5);
    assert_int_equal(h.record_count, 1);
    assert_int_equal(kp_batch_verify_crc(buf, total), KP_ERR_NONE);

    n = unhex(VEC_TWO, buf, sizeof buf);
    kp_record_iter it;
    assert_int_equal(kp_record_iter_init(&it, buf, n, NULL), KP_ERR_NONE);
    assert_int_equal(it.hdr.first_timestamp, 1000);
    assert_int_equal(it.hdr.max_timestamp, 1005);
    assert_int_equal(it.hdr.last_offset_delta, 1);
    assert_int_equal(it.hdr.producer_id, -1);
    assert_int_equal(kp_batch_last_sequence(&it.hdr), -1);
    kp_record r;
    assert_true(kp_record_iter_next(&it, &r));
    assert_int_equal(r.timestamp, 1000);
    assert_int_equal(r.offset, 0);
    assert_true(kp_slice_eq_str(r.key, "key1"));
    assert_true(kp_slice_eq_str(r.value, "value1"));
    assert_int_equal(r.header_count, 0);
    assert_true(kp_record_iter_next(&it, &r));
    assert_int_equal(r.timestamp, 1005);
    assert_int_equal(r.offset_delta, 1);
    assert_int_equal(r.key.len, -1);
    assert_true(kp_slice_eq_str(r.value, "value2"));
    assert_false(kp_record_iter_next(&it, &r));
    assert_int_equal(it.err, KP_ERR_NONE);
}

/* ---- sizes ------------------------------------------------------------------ */

static void record_size_15_then_16_bytes_from_offset_delta_64(void **state) {
    (void)state;
    assert_int_equal(kp_record_size(0, 0, S("key"), S("value"), NULL, 0), 15);
    assert_int_equal(kp_record_size(0, 63, S("key"), S("value"), NULL, 0), 15);
    assert_int_equal(kp_record_size(0, 64, S("key"), S("value"), NULL, 0), 16);
    /* and the builder lays records out accordingly */
    uint8_t buf[4096];
    kp_batch_builder b;
    kp_batch_builder_init(&b, buf, sizeof buf, KP_CODEC_NONE, false);
    for (int i = 0; i < 65; i++)
        assert_int_equal(kp_batch_builder_append(&b, 0, S("key"), S("value"), NULL, 0), 0);
    assert_int_equal(kp_batch_builder_uncompressed_bytes(&b), 61 + 64 * 15 + 16);
}

/* The record sizes use their own varint-size formula (no loop, no
 * division); it agrees with kp_buf's kp_varint_size / kp_varlong_size on
 * both sides of every 7-bit boundary, for deltas, negative deltas and
 * lengths. */
static void record_size_matches_kp_buf_varint_sizes(void **state) {
    (void)state;
    static uint8_t big[1 << 22];
    for (int shift = 0; shift < 64; shift++)
        for (int d = -1; d <= 1; d++) {
            /* wrapping arithmetic: at shift 63 these pass INT64_MIN/MAX */
            int64_t ts = (int64_t)(((uint64_t)1 << shift) + (uint64_t)(int64_t)d);
            for (int sign = 0; sign < 2; sign++) {
                int64_t t = sign ? (int64_t)(0 - (uint64_t)ts) : ts;
                size_t body = 1 + (size_t)kp_varlong_size(t) + 1 + 1 + 1 + 1;
                assert_int_equal(kp_record_size(t, 0, KP_SLICE_NULL, KP_SLICE_NULL, NULL, 0),
                                 (size_t)kp_varint_size((int32_t)body) + body);
            }
            if (shift > 30)
                continue;
            int32_t v = (int32_t)((int64_t)1 << shift) + d;
            if (v < 0)
                continue;
            size_t vlen = (size_t)v < sizeof big ? (size_t)v : 0;
            kp_slice value = { big, (int32_t)vlen };
            size_t body = 1 + 1 + (size_t)kp_varint_size(v) + 1 + (size_t)kp_varint_size((int32_t)vlen) + vlen + 1;
            assert_int_equal(kp_record_size(0, v, KP_SLICE_NULL, value, NULL, 0),
                             (size_t)kp_varint_size((int32_t)body) + body);
        }
}

static void record_size_upper_bound_93(void **state) {
    (void)state;
    assert_int_equal(kp_record_size_upper_bound(S("key"), S("value"), NULL, 0), 93);
    assert_int_equal(kp_record_size_upper_bound(KP_SLICE_NULL, KP_SLICE_NULL, NULL, 0), 61 + 21 + 3);
    kp_header h[1] = { { S("h"), KP_SLICE_NULL } };
    assert_int_equal(kp_record_size_upper_bound(S("key"), S("value"), h, 1), 93 + 2 + 1);
}

static void record_size_with_headers_matches_builder(void **state) {
    (void)state;
    kp_header h[2] = { { S("trace-id"), S("abc") }, { S("empty"), KP_SLICE_NULL } };
    uint8_t buf[512];
    kp_batch_builder b;
    kp_batch_builder_init(&b, buf, sizeof buf, KP_CODEC_NONE, false);
    assert_int_equal(kp_batch_builder_append(&b, 5, S("k"), S("v"), h, 2), 0);
    assert_int_equal(kp_batch_builder_append(&b, 1000000, KP_SLICE_NULL, KP_SLICE_NULL, h, 2), 0);
    size_t want = 61 + kp_record_size(0, 0, S("k"), S("v"), h, 2) +
                  kp_record_size(1000000 - 5, 1, KP_SLICE_NULL, KP_SLICE_NULL, h, 2);
    assert_int_equal(kp_batch_builder_uncompressed_bytes(&b), want);
    kp_slice out;
    assert_int_equal(kp_batch_builder_close(&b, NULL, 0, &out), 0);
    assert_int_equal((size_t)out.len, want);
}

/* The kvh split: sizing key, value and headers once and adding the
 * place-dependent varints gives the full functions' sizes, and the
 * builder's _kvh append writes the very bytes of the plain append
 * (null key/value, headers with a null value, lengths across the one- and
 * two-byte varint boundary, large deltas). */
static void record_sizes_from_kvh_match_the_full_functions(void **state) {
    (void)state;
    static uint8_t big[300];
    memset(big, 'x', sizeof big);
    kp_header h[2] = { { S("trace-id"), S("abc") }, { S("empty"), KP_SLICE_NULL } };
    const kp_slice keys[] = { KP_SLICE_NULL, S(""), S("k"), { big, 63 }, { big, 64 }, { big, 300 } };
    const kp_slice vals[] = { KP_SLICE_NULL, S("v"), { big, 64 }, { big, 299 } };
    const int64_t tsds[] = { 0, 1, 63, 64, 1000000, -5, INT64_MAX };
    const int32_t ods[] = { 0, 63, 64, 8191, 8192, INT32_MAX };
    for (size_t ki = 0; ki < sizeof keys / sizeof keys[0]; ki++)
        for (size_t vi = 0; vi < sizeof vals / sizeof vals[0]; vi++)
            for (int nh = 0; nh <= 2; nh++) {
                size_t kvh = kp_record_kvh_size(keys[ki], vals[vi], h, nh);
                /* the inline size (no headers) is the general walk's */
                assert_int_equal(kvh, kp_record_kvh_size_general(keys[ki], vals[vi], h, nh));
                assert_int_equal(kp_record_size_upper_bound_kvh(kvh),
                                 kp_record_size_upper_bound(keys[ki], vals[vi], h, nh));
                for (size_t ti = 0; ti < sizeof tsds / sizeof tsds[0]; ti++)
                    for (size_t oi = 0; oi < sizeof ods / sizeof ods[0]; oi++)
                        assert_int_equal(kp_record_size_kvh(tsds[ti], ods[oi], kvh),
                                         kp_record_size(tsds[ti], ods[oi], keys[ki], vals[vi], h, nh));
                uint8_t a[2048], b2[2048];
                kp_batch_builder ba, bb;
                kp_batch_builder_init(&ba, a, sizeof a, KP_CODEC_NONE, false);
                kp_batch_builder_init(&bb, b2, sizeof b2, KP_CODEC_NONE, false);
                for (int r = 0; r < 3; r++) {
                    assert_int_equal(kp_batch_builder_append(&ba, 7 + 100 * r, keys[ki], vals[vi], h, nh), 0);
                    assert_int_equal(
                        kp_batch_builder_append_kvh(&bb, 7 + 100 * r, keys[ki], vals[vi], h, nh, kvh), 0);
                }
                assert_int_equal(kp_batch_builder_uncompressed_bytes(&ba),
                                 kp_batch_builder_uncompressed_bytes(&bb));
                assert_memory_equal(a + 61, b2 + 61, kp_batch_builder_uncompressed_bytes(&ba) - 61);
            }
    /* the _kvh append keeps the plain one's argument and state checks */
    uint8_t buf[128];
    kp_batch_builder b;
    kp_batch_builder_init(&b, buf, sizeof buf, KP_CODEC_NONE, false);
    kp_header bad = { KP_SLICE_NULL, S("v") };
    assert_int_equal(kp_batch_builder_append_kvh(&b, 0, S("k"), S("v"), &bad, 1,
                                                 kp_record_kvh_size(S("k"), S("v"), &bad, 1)),
                     KP_ERR__INVALID_ARG);
    assert_int_equal(kp_batch_builder_append_kvh(&b, 0, S("k"), (kp_slice){ big, 200 }, NULL, 0,
                                                 kp_record_kvh_size(S("k"), (kp_slice){ big, 200 }, NULL, 0)),
                     KP_ERR__NOMEM);
    assert_int_equal(kp_batch_builder_count(&b), 0);
}

/* The inline append (kp_batch_builder_append_kvh) writes the common record
 * itself: its bytes, lengths and timestamps are the general encoder's for
 * every record on both sides of each of its limits (key 63/64 bytes,
 * kvh 4,095/4,096, offset delta 63/64 and 8,191/8,192, timestamp delta
 * -64/63/64, headers), and a record that no longer fits is refused by both
 * with nothing written. */
static void builder_inline_append_writes_the_general_encoders_bytes(void **state) {
    (void)state;
    static uint8_t big[5000];
    memset(big, 'y', sizeof big);
    kp_header h[1] = { { S("h"), S("v") } };
    const kp_slice keys[] = { KP_SLICE_NULL, S(""), { big, 63 }, { big, 64 } };
    const kp_slice vals[] = { KP_SLICE_NULL, S(""), { big, 57 }, { big, 58 }, { big, 100 }, { big, 4000 } };
    const int64_t tsds[] = { 0, 63, 64, -64, -65, 5 };
    static uint8_t a[1 << 21], g[1 << 21];
    for (size_t ki = 0; ki < sizeof keys / sizeof keys[0]; ki++)
        for (size_t vi = 0; vi < sizeof vals / sizeof vals[0]; vi++)
            for (int nh = 0; nh <= 1; nh++) {
                kp_batch_builder ba, bg;
                kp_batch_builder_init(&ba, a, sizeof a, KP_CODEC_NONE, false);
                kp_batch_builder_init(&bg, g, sizeof g, KP_CODEC_NONE, false);
                size_t kvh = kp_record_kvh_size(keys[ki], vals[vi], h, nh);
                int records = vals[vi].len > 1000 ? 70 : 8200; /* offset deltas past 64 / 8,192 */
                for (int r = 0; r < records; r++) {
                    int64_t ts = 1000 + tsds[r % 6];
                    assert_int_equal(kp_batch_builder_append_kvh(&ba, ts, keys[ki], vals[vi], h, nh, kvh), 0);
                    assert_int_equal(
                        kp_batch_builder_append_kvh_general(&bg, ts, keys[ki], vals[vi], h, nh, kvh), 0);
                }
                assert_int_equal(kp_batch_builder_count(&ba), records);
                assert_int_equal(kp_batch_builder_uncompressed_bytes(&ba), kp_batch_builder_uncompressed_bytes(&bg));
                assert_memory_equal(a + 61, g + 61, kp_batch_builder_uncompressed_bytes(&ba) - 61);
                kp_slice oa, og;
                assert_int_equal(kp_batch_builder_close(&ba, NULL, 0, &oa), KP_ERR_NONE);
                assert_int_equal(kp_batch_builder_close(&bg, NULL, 0, &og), KP_ERR_NONE);
                assert_int_equal(oa.len, og.len);
                assert_memory_equal(a, g, (size_t)oa.len);
            }
    /* full: both refuse the record and write nothing */
    uint8_t small[200], small_g[200];
    kp_batch_builder ba, bg;
    kp_batch_builder_init(&ba, small, sizeof small, KP_CODEC_NONE, false);
    kp_batch_builder_init(&bg, small_g, sizeof small_g, KP_CODEC_NONE, false);
    kp_slice v = { big, 100 };
    size_t kvh = kp_record_kvh_size(KP_SLICE_NULL, v, NULL, 0);
    assert_int_equal(kp_batch_builder_append_kvh(&ba, 1, KP_SLICE_NULL, v, NULL, 0, kvh), 0);
    assert_int_equal(kp_batch_builder_append_kvh(&ba, 1, KP_SLICE_NULL, v, NULL, 0, kvh), KP_ERR__NOMEM);
    assert_int_equal(kp_batch_builder_append_kvh_general(&bg, 1, KP_SLICE_NULL, v, NULL, 0, kvh), 0);
    assert_int_equal(kp_batch_builder_append_kvh_general(&bg, 1, KP_SLICE_NULL, v, NULL, 0, kvh), KP_ERR__NOMEM);
    assert_int_equal(kp_batch_builder_count(&ba), 1);
    assert_int_equal(kp_batch_builder_uncompressed_bytes(&ba), kp_batch_builder_uncompressed_bytes(&bg));
}

/* ---- sequences (DefaultRecordBatchTest) -------------------------------------- */

static void sequence_increment_wraps(void **state) {
    (void)state;
    assert_int_equal(kp_sequence_increment(5, 5), 10);
    assert_int_equal(kp_sequence_increment(INT32_MAX, 1), 0);
    assert_int_equal(kp_sequence_increment(INT32_MAX - 5, 10), 4);
    assert_int_equal(kp_sequence_increment(0, 0), 0);
    /* a hostile negative delta wraps as Java's int arithmetic does, defined */
    assert_int_equal(kp_sequence_increment(5, -1), -2147483644);
    assert_int_equal(kp_sequence_increment(INT32_MIN, -1), INT32_MAX);
    kp_batch_header h = { 0 };
    h.base_sequence = INT32_MAX - 1;
    h.last_offset_delta = 3;
    assert_int_equal(kp_batch_last_sequence(&h), 1);
    h.base_sequence = -1;
    assert_int_equal(kp_batch_last_sequence(&h), -1);
}

/* ---- builder behaviour ------------------------------------------------------- */

static void builder_nomem_writes_nothing_and_has_room_agrees(void **state) {
    (void)state;
    uint8_t buf[61 + 30];
    memset(buf, 0xEE, sizeof buf);
    kp_batch_builder b;
    kp_batch_builder_init(&b, buf, sizeof buf, KP_CODEC_NONE, false);
    assert_true(kp_batch_builder_has_room_for(&b, 0, S("key"), S("value"), NULL, 0));
    assert_int_equal(kp_batch_builder_append(&b, 0, S("key"), S("value"), NULL, 0), 0); /* 15 */
    assert_true(kp_batch_builder_has_room_for(&b, 0, S("key"), S("value"), NULL, 0));
    assert_int_equal(kp_batch_builder_append(&b, 0, S("key"), S("value"), NULL, 0), 0); /* 30 */
    assert_false(kp_batch_builder_has_room_for(&b, 0, S("k"), KP_SLICE_NULL, NULL, 0));
    kp_batch_builder copy = b;
    assert_int_equal(kp_batch_builder_append(&b, 0, S("k"), KP_SLICE_NULL, NULL, 0), KP_ERR__NOMEM);
    assert_memory_equal(&copy, &b, sizeof b);
    assert_int_equal(kp_batch_builder_count(&b), 2);

    kp_batch_builder tiny;
    kp_batch_builder_init(&tiny, buf, 10, KP_CODEC_NONE, false);
    assert_false(kp_batch_builder_has_room_for(&tiny, 0, KP_SLICE_NULL, KP_SLICE_NULL, NULL, 0));
    assert_int_equal(kp_batch_builder_append(&tiny, 0, KP_SLICE_NULL, KP_SLICE_NULL, NULL, 0),
                     KP_ERR__NOMEM);
}

static void builder_states_and_bad_arguments(void **state) {
    (void)state;
    uint8_t buf[256];
    kp_batch_builder b;
    kp_slice out;
    kp_batch_builder_init(&b, buf, sizeof buf, KP_CODEC_NONE, false);
    assert_int_equal(kp_batch_builder_close(&b, NULL, 0, &out), KP_ERR__STATE);
    kp_header nullkey = { KP_SLICE_NULL, S("v") };
    assert_int_equal(kp_batch_builder_append(&b, 0, S("k"), S("v"), &nullkey, 1), KP_ERR__INVALID_ARG);
    assert_int_equal(kp_batch_builder_append(&b, 0, S("k"), S("v"), NULL, 1), KP_ERR__INVALID_ARG);
    assert_int_equal(kp_batch_builder_append(&b, 0, S("k"), S("v"), NULL, -1), KP_ERR__INVALID_ARG);
    assert_int_equal(kp_batch_builder_count(&b), 0);
    assert_int_equal(kp_batch_builder_append(&b, 7, S("k"), S("v"), NULL, 0), 0);
    assert_int_equal(kp_batch_builder_close(&b, NULL, 0, &out), 0);
    assert_true(kp_batch_builder_is_closed(&b));
    kp_slice again;
    assert_int_equal(kp_batch_builder_close(&b, NULL, 0, &again), 0);
    assert_ptr_equal(again.ptr, out.ptr);
    assert_int_equal(again.len, out.len);
    assert_int_equal(kp_batch_builder_append(&b, 7, S("k"), S("v"), NULL, 0), KP_ERR__STATE);
    assert_false(kp_batch_builder_has_room_for(&b, 7, S("k"), S("v"), NULL, 0));
}

static void builder_timestamps_first_and_max(void **state) {
    (void)state;
    uint8_t buf[256];
    kp_batch_builder b;
    kp_batch_builder_init(&b, buf, sizeof buf, KP_CODEC_NONE, false);
    static const int64_t ts[] = { 500, 400, 900, 600 };
    for (int i = 0; i < 4; i++)
        assert_int_equal(kp_batch_builder_append(&b, ts[i], KP_SLICE_NULL, S("v"), NULL, 0), 0);
    kp_slice out;
    assert_int_equal(kp_batch_builder_close(&b, NULL, 0, &out), 0);
    kp_record_iter it;
    assert_int_equal(kp_record_iter_init(&it, out.ptr, (size_t)out.len, NULL), 0);
    assert_int_equal(it.hdr.first_timestamp, 500);
    assert_int_equal(it.hdr.max_timestamp, 900);
    assert_int_equal(it.hdr.last_offset_delta, 3);
    kp_record r;
    for (int i = 0; i < 4; i++) {
        assert_true(kp_record_iter_next(&it, &r));
        assert_int_equal(r.timestamp, ts[i]);
        assert_int_equal(r.offset_delta, i);
    }
    assert_false(kp_record_iter_next(&it, &r));
    assert_int_equal(it.err, 0);
}

static void batch_rewrites_outside_crc_keep_it_valid(void **state) {
    (void)state;
    uint8_t buf[256];
    kp_slice out = build_one(buf, sizeof buf, false);
    kp_batch_set_base_offset(buf, 4242);
    kp_batch_set_partition_leader_epoch(buf, 7);
    assert_int_equal(kp_batch_verify_crc(buf, (size_t)out.len), KP_ERR_NONE);
    kp_record_iter it;
    assert_int_equal(kp_record_iter_init(&it, buf, (size_t)out.len, NULL), 0);
    assert_int_equal(it.hdr.base_offset, 4242);
    assert_int_equal(it.hdr.partition_leader_epoch, 7);
    kp_record r;
    assert_true(kp_record_iter_next(&it, &r));
    assert_int_equal(r.offset, 4242);
}

/* ---- corruption ------------------------------------------------------------- */

static void batch_corrupted_crc_detected(void **state) {
    (void)state;
    uint8_t buf[256];
    size_t n = unhex(VEC_TWO, buf, sizeof buf);
    /* any bit flipped from attributes to the end breaks the CRC */
    for (size_t i = 21; i < n; i++) {
        buf[i] ^= 0x01;
        assert_int_equal(kp_batch_verify_crc(buf, n), KP_ERR__CRC);
        kp_record_iter it;
        kp_err e = kp_record_iter_init(&it, buf, n, NULL);
        assert_int_not_equal(e, KP_ERR_NONE);
        kp_record r;
        assert_false(kp_record_iter_next(&it, &r));
        buf[i] ^= 0x01;
    }
    buf[17] ^= 0x80; /* the stored CRC itself */
    assert_int_equal(kp_batch_verify_crc(buf, n), KP_ERR__CRC);
}

/* The header's fields as a caller that read them itself has them (the
 * broker's validation): big-endian reads, no checks. */
static kp_batch_header fields_of(const uint8_t *p) {
    kp_batch_header h = {
        .base_offset = (int64_t)kp_be64_get(p),
        .batch_length = (int32_t)kp_be32_get(p + 8),
        .partition_leader_epoch = (int32_t)kp_be32_get(p + 12),
        .magic = (int8_t)p[16],
        .crc = kp_be32_get(p + 17),
        .attributes = (int16_t)kp_be16_get(p + 21),
        .last_offset_delta = (int32_t)kp_be32_get(p + 23),
        .first_timestamp = (int64_t)kp_be64_get(p + 27),
        .max_timestamp = (int64_t)kp_be64_get(p + 35),
        .producer_id = (int64_t)kp_be64_get(p + 43),
        .producer_epoch = (int16_t)kp_be16_get(p + 51),
        .base_sequence = (int32_t)kp_be32_get(p + 53),
        .record_count = (int32_t)kp_be32_get(p + 57),
    };
    return h;
}

/* kp_record_iter_init_parsed takes the header's fields from its caller
 * and leaves the CRC to it (the broker reads and checks both first): a
 * batch whose stored CRC is wrong still iterates there, record for record
 * as kp_record_iter_init gives it once the CRC is right, while
 * kp_record_iter_init refuses it; every check kp_batch_parse_header makes
 * on the fields stays, with kp_record_iter_init's error. */
static void iter_init_parsed_skips_only_the_reads_and_the_crc(void **state) {
    (void)state;
    uint8_t buf[256], good[256];
    size_t n = unhex(VEC_TWO, buf, sizeof buf);
    memcpy(good, buf, n);
    buf[17] ^= 0x80; /* the stored CRC */
    kp_record_iter it, ref;
    assert_int_equal(kp_record_iter_init(&it, buf, n, NULL), KP_ERR__CRC);
    kp_batch_header h = fields_of(buf);
    it.hdr = h;
    assert_int_equal(kp_record_iter_init_parsed(&it, buf, n, NULL), KP_ERR_NONE);
    assert_int_equal(kp_record_iter_init(&ref, good, n, NULL), KP_ERR_NONE);
    kp_record r, q;
    int got = 0;
    while (kp_record_iter_next(&it, &r)) {
        assert_true(kp_record_iter_next(&ref, &q));
        assert_int_equal(r.offset, q.offset);
        assert_int_equal(r.timestamp, q.timestamp);
        assert_int_equal(r.key.len, q.key.len);
        assert_int_equal(r.value.len, q.value.len);
        assert_memory_equal(r.value.ptr, buf + (q.value.ptr - good), (size_t)q.value.len);
        got++;
    }
    assert_false(kp_record_iter_next(&ref, &q));
    assert_int_equal(it.err, KP_ERR_NONE);
    assert_int_equal(got, it.hdr.record_count);
    assert_true(got > 0);

    /* each field check, against kp_record_iter_init on the same bytes
     * (CRC made right) */
    static const struct { size_t at; int width; int64_t v; } muts[] = {
        { 16, 1, 1 },     /* magic 1: unsupported */
        { 16, 1, 3 },     /* magic 3: malformed */
        { 8, 4, 10 },     /* batchLength below a header */
        { 8, 4, -1 },
        { 22, 1, 7 },     /* codec 7 */
        { 57, 4, -1 },    /* recordCount < 0 */
        { 57, 4, 1000 },  /* more records than bytes for them */
        { 23, 4, -5 },    /* lastOffsetDelta < recordCount - 1 */
    };
    for (size_t i = 0; i < sizeof muts / sizeof muts[0]; i++) {
        uint8_t m[256];
        memcpy(m, good, n);
        if (muts[i].width == 1)
            m[muts[i].at] = (uint8_t)muts[i].v;
        else
            kp_be32_put(m + muts[i].at, (uint32_t)muts[i].v);
        kp_batch_update_crc(m, n);
        kp_err want = kp_record_iter_init(&ref, m, n, NULL);
        assert_int_not_equal(want, KP_ERR_NONE);
        h = fields_of(m);
        it.hdr = h;
        assert_int_equal(kp_record_iter_init_parsed(&it, m, n, NULL), want);
        assert_false(kp_record_iter_next(&it, &r));
    }
    /* a total other than the header's: refused as by kp_record_iter_init */
    h = fields_of(good);
    it.hdr = h;
    assert_int_equal(kp_record_iter_init_parsed(&it, good, n - 1, NULL),
                     kp_record_iter_init(&ref, good, n - 1, NULL));
    assert_false(kp_record_iter_next(&it, &r));
    uint8_t longer[257];
    memcpy(longer, good, n);
    longer[n] = 0;
    it.hdr = h;
    assert_int_equal(kp_record_iter_init_parsed(&it, longer, n + 1, NULL),
                     kp_record_iter_init(&ref, longer, n + 1, NULL));
    assert_false(kp_record_iter_next(&it, &r));
}

static void batch_every_truncation_rejected(void **state) {
    (void)state;
    uint8_t full[256];
    size_t n = unhex(VEC_TWO, full, sizeof full);
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *p = malloc(cut ? cut : 1); /* exact size so ASan sees over-reads */
        memcpy(p, full, cut);
        kp_batch_header h;
        size_t total;
        assert_int_equal(kp_batch_parse_header(p, cut, &h, &total), KP_ERR__TRUNCATED);
        kp_record_iter it;
        assert_int_not_equal(kp_record_iter_init(&it, p, cut, NULL), KP_ERR_NONE);
        kp_records_walk w;
        kp_slice b;
        kp_records_walk_init(&w, p, cut);
        assert_false(kp_records_next_batch(&w, &h, &b));
        assert_true(cut == 0 ? w.err == KP_ERR_NONE : w.err == KP_ERR__TRUNCATED);
        free(p);
    }
}

/* A batch whose header and CRC are right but whose records lie: each
 * malformation is re-CRC'd so the iterator must find it itself. */
static kp_err iterate_all(uint8_t *p, size_t n) {
    kp_batch_update_crc(p, n);
    kp_record_iter it;
    kp_err e = kp_record_iter_init(&it, p, n, NULL);
    if (e)
        return e;
    kp_record r;
    int guard = 0;
    while (kp_record_iter_next(&it, &r))
        assert_true(++guard < 100);
    return it.err;
}

static void batch_record_level_malformations(void **state) {
    (void)state;
    uint8_t buf[256];
    size_t n = unhex(VEC_TWO, buf, sizeof buf);
    assert_int_equal(iterate_all(buf, n), KP_ERR_NONE);
    /* record count 3 but only 2 records */
    kp_be32_put(buf + 57, 3);
    kp_be32_put(buf + 23, 2);
    assert_int_equal(iterate_all(buf, n), KP_ERR__TRUNCATED);
    /* record count 1: a trailing record left over */
    kp_be32_put(buf + 57, 1);
    kp_be32_put(buf + 23, 1);
    assert_int_equal(iterate_all(buf, n), KP_ERR__BAD_MSG);
    n = unhex(VEC_TWO, buf, sizeof buf);
    /* lastOffsetDelta 0 while a record has offset delta 1 */
    kp_be32_put(buf + 23, 0);
    kp_be32_put(buf + 57, 1);
    kp_batch_header h;
    size_t t;
    assert_int_equal(kp_batch_parse_header(buf, n, &h, &t), KP_ERR_NONE);
    assert_int_equal(iterate_all(buf, n), KP_ERR__BAD_MSG);
    n = unhex(VEC_TWO, buf, sizeof buf);
    /* first record's length varint 0x20 (16) -> 0x22 (17): length lies */
    assert_int_equal(buf[61], 0x20);
    buf[61] = 0x22;
    assert_int_not_equal(iterate_all(buf, n), KP_ERR_NONE);
    n = unhex(VEC_TWO, buf, sizeof buf);
    /* key length 4 (0x08) -> -2 (0x03) */
    assert_int_equal(buf[65], 0x08);
    buf[65] = 0x03;
    assert_int_equal(iterate_all(buf, n), KP_ERR__BAD_MSG);
    n = unhex(VEC_TWO, buf, sizeof buf);
    /* second record offset delta 1 (0x02) -> 0 (0x00): not increasing */
    assert_int_equal(buf[61 + 17 + 3], 0x02);
    buf[61 + 17 + 3] = 0x00;
    assert_int_equal(iterate_all(buf, n), KP_ERR__BAD_MSG);
}

static kp_slice build_codec_batch(uint8_t *buf, size_t cap, uint8_t *scr, size_t scap,
                                  kp_codec c, int n) {
    kp_batch_builder b;
    kp_batch_builder_init(&b, buf, cap, c, false);
    for (int i = 0; i < n; i++)
        assert_int_equal(kp_batch_builder_append(&b, 100 + i, S("k"), S("value"), NULL, 0), 0);
    assert_true(kp_batch_builder_close_bound(&b) <= scap);
    kp_slice out;
    assert_int_equal(kp_batch_builder_close(&b, scr, scap, &out), 0);
    return out;
}

static kp_err iterate_codec(uint8_t *p, size_t n) {
    kp_batch_update_crc(p, n);
    kp_dbuf d;
    kp_dbuf_init(&d, 0);
    kp_record_iter it;
    kp_err e = kp_record_iter_init(&it, p, n, &d);
    kp_record r;
    while (!e && kp_record_iter_next(&it, &r))
        ;
    if (!e)
        e = it.err;
    kp_dbuf_free(&d);
    return e;
}

/* Counts that disagree with the compressed records are found after
 * decompression, like for plain batches. */
static void batch_compressed_count_mismatch(void **state) {
    (void)state;
    uint8_t buf[1024], scr[2048];
    for (int c = 1; c < KP_CODEC_COUNT; c++) {
        kp_slice out = build_codec_batch(buf, sizeof buf, scr, sizeof scr, (kp_codec)c, 3);
        size_t n = (size_t)out.len;
        assert_int_equal(iterate_codec(buf, n), KP_ERR_NONE);
        kp_be32_put(buf + 57, 4);
        kp_be32_put(buf + 23, 3);
        assert_int_equal(iterate_codec(buf, n), KP_ERR__TRUNCATED);
        kp_be32_put(buf + 57, 2);
        kp_be32_put(buf + 23, 2);
        assert_int_equal(iterate_codec(buf, n), KP_ERR__BAD_MSG);
        kp_be32_put(buf + 57, 3);
        kp_be16_put(buf + 21, (uint16_t)((c % 4) + 1)); /* another codec's bytes */
        assert_int_not_equal(iterate_codec(buf, n), KP_ERR_NONE);
        kp_be16_put(buf + 21, (uint16_t)c);
        /* the codec's own trailer damaged (CRC re-done): gzip's CRC32/ISIZE,
         * lz4's end mark; snappy and zstd (no checksum by default) may
         * decode damaged bytes to other bytes, so they are left to the fuzzer */
        buf[n - 2] ^= 0x5A;
        kp_err e = iterate_codec(buf, n);
        if (c == KP_CODEC_GZIP || c == KP_CODEC_LZ4)
            assert_int_equal(e, KP_ERR__COMPRESSION);
    }
}

/* LogAppendTime (attributes bit 3): every record reads the batch's
 * maxTimestamp, as DefaultRecordBatch does. */
static void batch_log_append_time_uses_max_timestamp(void **state) {
    (void)state;
    uint8_t buf[256];
    kp_batch_builder b;
    kp_batch_builder_init(&b, buf, sizeof buf, KP_CODEC_NONE, false);
    assert_int_equal(kp_batch_builder_append(&b, 10, S("a"), S("1"), NULL, 0), 0);
    assert_int_equal(kp_batch_builder_append(&b, 20, S("b"), S("2"), NULL, 0), 0);
    kp_slice out;
    assert_int_equal(kp_batch_builder_close(&b, NULL, 0, &out), 0);
    kp_be64_put(buf + 35, 5555); /* the broker's append time */
    kp_be16_put(buf + 21, KP_BATCH_ATTR_LOG_APPEND_TIME);
    kp_batch_update_crc(buf, (size_t)out.len);
    kp_record_iter it;
    assert_int_equal(kp_record_iter_init(&it, buf, (size_t)out.len, NULL), 0);
    assert_true(kp_batch_is_log_append_time(&it.hdr));
    kp_record r;
    while (kp_record_iter_next(&it, &r))
        assert_int_equal(r.timestamp, 5555);
    assert_int_equal(it.err, 0);
    assert_int_equal(it.index, 2);
}

static void batch_header_validation(void **state) {
    (void)state;
    uint8_t buf[256];
    size_t n = unhex(VEC_PLAIN, buf, sizeof buf), t;
    kp_batch_header h;
    buf[16] = 1;
    assert_int_equal(kp_batch_parse_header(buf, n, &h, &t), KP_ERR__UNSUPPORTED);
    buf[16] = 3;
    assert_int_equal(kp_batch_parse_header(buf, n, &h, &t), KP_ERR__BAD_MSG);
    buf[16] = 2;
    kp_be32_put(buf + 8, 48); /* batchLength below the header */
    assert_int_equal(kp_batch_parse_header(buf, n, &h, &t), KP_ERR__BAD_MSG);
    kp_be32_put(buf + 8, 0x7FFFFFFF - 12); /* largest sane length: more than we have */
    assert_int_equal(kp_batch_parse_header(buf, n, &h, &t), KP_ERR__TRUNCATED);
    kp_be32_put(buf + 8, 0x7FFFFFFF); /* total would not fit an int32 */
    assert_int_equal(kp_batch_parse_header(buf, n, &h, &t), KP_ERR__BAD_MSG);
    kp_be32_put(buf + 8, 64);
    kp_be16_put(buf + 21, 5); /* codec 5 */
    assert_int_equal(kp_batch_parse_header(buf, n, &h, &t), KP_ERR__BAD_MSG);
    kp_be16_put(buf + 21, 0);
    kp_be32_put(buf + 57, (uint32_t)-1); /* negative count */
    assert_int_equal(kp_batch_parse_header(buf, n, &h, &t), KP_ERR__BAD_MSG);
    kp_be32_put(buf + 57, 1000); /* count the bytes could not hold */
    kp_be32_put(buf + 23, 999);
    assert_int_equal(kp_batch_parse_header(buf, n, &h, &t), KP_ERR__BAD_MSG);
    kp_be32_put(buf + 57, 1);
    kp_be32_put(buf + 23, 0);
    assert_int_equal(kp_batch_parse_header(buf, n, &h, &t), KP_ERR_NONE);
    /* a longer buffer: total is the batch, not the buffer */
    assert_int_equal(kp_batch_parse_header(buf, sizeof buf, &h, &t), KP_ERR_NONE);
    assert_int_equal(t, 76);
    kp_record_iter it;
    assert_int_equal(kp_record_iter_init(&it, buf, n + 1, NULL), KP_ERR__BAD_MSG);
}

/* ---- round trips through every codec -------------------------------------------- */

static void round_trip(kp_codec codec, int nrec, size_t value_size, bool incompressible) {
    size_t cap = 61 + (size_t)nrec * (value_size + 64);
    uint8_t *buf = malloc(cap);
    uint8_t *vals = malloc(value_size + 1);
    kp_rng rng = kp_rng_stream(11, kp_codec_name(codec));
    for (size_t i = 0; i < value_size; i++)
        vals[i] = incompressible ? (uint8_t)kp_rng_u32(&rng) : (uint8_t)('a' + i % 7);
    kp_header hdrs[2] = { { S("h1"), S("one") }, { S("h2"), KP_SLICE_NULL } };
    kp_batch_builder b;
    kp_batch_builder_init(&b, buf, cap, codec, false);
    for (int i = 0; i < nrec; i++) {
        kp_slice key = i % 3 == 0 ? KP_SLICE_NULL : S("key");
        kp_slice val = i % 5 == 4 ? KP_SLICE_NULL : (kp_slice){ vals, (int32_t)value_size };
        assert_int_equal(kp_batch_builder_append(&b, 1000 + i, key, val, hdrs, i % 3), 0);
    }
    size_t sb = kp_batch_builder_close_bound(&b);
    if (codec == KP_CODEC_NONE)
        assert_int_equal(sb, 0);
    uint8_t *scratch = malloc(sb ? sb : 1);
    /* one byte short of the bound is refused without damage */
    if (sb) {
        kp_slice o;
        assert_int_equal(kp_batch_builder_close(&b, scratch, sb - 1, &o), KP_ERR__NOMEM);
        assert_false(kp_batch_builder_is_closed(&b));
    }
    kp_slice out;
    kp_err e = kp_batch_builder_close(&b, scratch, sb, &out);
    if (e == KP_ERR__NOMEM && codec != KP_CODEC_NONE && incompressible) {
        /* compressed output larger than cap: acceptable outcome, builder open */
        assert_false(kp_batch_builder_is_closed(&b));
        goto done;
    }
    assert_int_equal(e, KP_ERR_NONE);
    kp_batch_header h;
    size_t total;
    assert_int_equal(kp_batch_parse_header(out.ptr, (size_t)out.len, &h, &total), 0);
    assert_int_equal(kp_batch_codec(&h), codec);
    assert_int_equal(h.record_count, nrec);
    if (codec != KP_CODEC_NONE && !incompressible && nrec > 10)
        assert_true((size_t)out.len < kp_batch_builder_uncompressed_bytes(&b));

    kp_dbuf scr;
    kp_dbuf_init(&scr, 0);
    kp_record_iter it;
    kp_err ie = kp_record_iter_init(&it, out.ptr, total, &scr);
    if (ie)
        fail_msg("codec %s nrec %d size %zu: %s", kp_codec_name(codec), nrec, value_size, kp_err_name(ie));
    kp_record r;
    for (int i = 0; i < nrec; i++) {
        assert_true(kp_record_iter_next(&it, &r));
        assert_int_equal(r.offset_delta, i);
        assert_int_equal(r.timestamp, 1000 + i);
        if (i % 3 == 0)
            assert_int_equal(r.key.len, -1);
        else
            assert_true(kp_slice_eq_str(r.key, "key"));
        if (i % 5 == 4) {
            assert_int_equal(r.value.len, -1);
        } else {
            assert_int_equal(r.value.len, (int32_t)value_size);
            if (value_size)
                assert_memory_equal(r.value.ptr, vals, value_size);
        }
        assert_int_equal(r.header_count, i % 3);
        kp_header_iter hi;
        kp_header hh;
        kp_header_iter_init(&hi, &r);
        for (int k = 0; k < i % 3; k++) {
            assert_true(kp_header_iter_next(&hi, &hh));
            assert_true(kp_slice_eq(hh.key, hdrs[k].key));
            assert_true(kp_slice_eq(hh.value, hdrs[k].value));
        }
        assert_false(kp_header_iter_next(&hi, &hh));
    }
    assert_false(kp_record_iter_next(&it, &r));
    assert_int_equal(it.err, KP_ERR_NONE);

    if (codec != KP_CODEC_NONE) {
        /* a compressed batch needs scratch, and its max bounds the output */
        assert_int_equal(kp_record_iter_init(&it, out.ptr, total, NULL), KP_ERR__INVALID_ARG);
        kp_dbuf small;
        kp_dbuf_init(&small, 16);
        kp_err want = kp_batch_builder_uncompressed_bytes(&b) - 61 > 16 ? KP_ERR__NOMEM : KP_ERR_NONE;
        assert_int_equal(kp_record_iter_init(&it, out.ptr, total, &small), want);
        kp_dbuf_free(&small);
    }
    kp_dbuf_free(&scr);
done:
    free(scratch);
    free(vals);
    free(buf);
}

static void batch_round_trip_every_codec(void **state) {
    (void)state;
    for (int c = 0; c < KP_CODEC_COUNT; c++) {
        round_trip((kp_codec)c, 1, 0, false);
        round_trip((kp_codec)c, 1, 10, false);
        round_trip((kp_codec)c, 100, 100, false);
        round_trip((kp_codec)c, 30, 3000, true);
        round_trip((kp_codec)c, 500, 1000, false);
    }
}

static void batch_compressed_close_too_big_for_cap_leaves_builder_open(void **state) {
    (void)state;
    /* incompressible values, cap exactly the uncompressed size: the codec
     * adds framing, so the result cannot fit */
    kp_rng rng = kp_rng_stream(5, "noise");
    uint8_t val[2000];
    for (size_t i = 0; i < sizeof val; i++)
        val[i] = (uint8_t)kp_rng_u32(&rng);
    size_t cap = 61 + kp_record_size(0, 0, KP_SLICE_NULL, (kp_slice){ val, 2000 }, NULL, 0);
    uint8_t *buf = malloc(cap);
    for (int c = 1; c < KP_CODEC_COUNT; c++) {
        kp_batch_builder b;
        kp_batch_builder_init(&b, buf, cap, (kp_codec)c, false);
        assert_int_equal(kp_batch_builder_append(&b, 0, KP_SLICE_NULL, (kp_slice){ val, 2000 }, NULL, 0), 0);
        uint8_t before[2100];
        memcpy(before, buf, cap);
        size_t sb = kp_batch_builder_close_bound(&b);
        uint8_t *scratch = malloc(sb);
        kp_slice out;
        assert_int_equal(kp_batch_builder_close(&b, scratch, sb, &out), KP_ERR__NOMEM);
        assert_false(kp_batch_builder_is_closed(&b));
        assert_memory_equal(before, buf, cap);
        free(scratch);
    }
    free(buf);
}

/* ---- record sets and control batches ------------------------------------------- */

static void records_walk_several_batches(void **state) {
    (void)state;
    uint8_t set[512];
    size_t n = unhex(VEC_PLAIN, set, sizeof set);
    n += unhex(VEC_TWO, set + n, sizeof set - n);
    n += unhex(VEC_TXN, set + n, sizeof set - n);
    kp_records_walk w;
    kp_batch_header h;
    kp_slice b;
    kp_records_walk_init(&w, set, n);
    int counts[3], k = 0;
    while (kp_records_next_batch(&w, &h, &b)) {
        assert_true(k < 3);
        assert_int_equal(kp_batch_verify_crc(b.ptr, (size_t)b.len), 0);
        counts[k++] = h.record_count;
    }
    assert_int_equal(w.err, KP_ERR_NONE);
    assert_int_equal(k, 3);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 2);
    assert_int_equal(counts[2], 1);
    /* a set cut inside its last batch yields the whole ones, then TRUNCATED */
    kp_records_walk_init(&w, set, n - 5);
    k = 0;
    while (kp_records_next_batch(&w, &h, &b))
        k++;
    assert_int_equal(k, 2);
    assert_int_equal(w.err, KP_ERR__TRUNCATED);
}

static void control_batch_commit_and_abort(void **state) {
    (void)state;
    for (int t = 0; t < 2; t++) {
        uint8_t buf[128];
        kp_slice out;
        assert_int_equal(kp_control_batch_build(buf, sizeof buf, (kp_control_type)t, 17, 343434, 3, 9,
                                                123456789, &out), KP_ERR_NONE);
        assert_int_equal(out.len, KP_CONTROL_BATCH_SIZE);
        kp_record_iter it;
        assert_int_equal(kp_record_iter_init(&it, out.ptr, (size_t)out.len, NULL), 0);
        assert_true(kp_batch_is_control(&it.hdr));
        assert_true(kp_batch_is_transactional(&it.hdr));
        assert_int_equal(it.hdr.attributes, 0x30);
        assert_int_equal(it.hdr.producer_id, 343434);
        assert_int_equal(it.hdr.producer_epoch, 3);
        assert_int_equal(it.hdr.base_sequence, -1);
        assert_int_equal(it.hdr.partition_leader_epoch, 9);
        assert_int_equal(it.hdr.first_timestamp, 123456789);
        kp_record r;
        assert_true(kp_record_iter_next(&it, &r));
        static const uint8_t key_commit[4] = { 0, 0, 0, 1 };
        static const uint8_t val[6] = { 0, 0, 0, 0, 0, 17 };
        assert_int_equal(r.key.len, 4);
        assert_int_equal(r.key.ptr[3], t);
        if (t == 1)
            assert_memory_equal(r.key.ptr, key_commit, 4);
        assert_int_equal(r.value.len, 6);
        assert_memory_equal(r.value.ptr, val, 6);
        kp_control_type ty;
        int32_t epoch;
        assert_int_equal(kp_control_record_parse(&r, &ty, &epoch), 0);
        assert_int_equal(ty, t);
        assert_int_equal(epoch, 17);
        assert_false(kp_record_iter_next(&it, &r));
        assert_int_equal(it.err, 0);
    }
    uint8_t small[77];
    kp_slice out;
    assert_int_equal(kp_control_batch_build(small, sizeof small, KP_CONTROL_COMMIT, 0, 1, 0, 0, 0, &out),
                     KP_ERR__NOMEM);
    /* malformed control records */
    kp_record r = { 0 };
    uint8_t key[4] = { 0, 0, 0, 2 }, val[6] = { 0 };
    r.key = (kp_slice){ key, 4 };
    r.value = (kp_slice){ val, 6 };
    kp_control_type ty;
    int32_t ep;
    assert_int_equal(kp_control_record_parse(&r, &ty, &ep), KP_ERR__BAD_MSG); /* type 2 */
    key[3] = 0;
    key[0] = 0x80; /* version < 0 */
    assert_int_equal(kp_control_record_parse(&r, &ty, &ep), KP_ERR__BAD_MSG);
    key[0] = 0;
    r.value.len = 5;
    assert_int_equal(kp_control_record_parse(&r, &ty, &ep), KP_ERR__BAD_MSG);
    r.value.len = 6;
    key[1] = 1; /* key version 1: accepted, like Java */
    assert_int_equal(kp_control_record_parse(&r, &ty, &ep), KP_ERR_NONE);
    assert_int_equal(ty, KP_CONTROL_ABORT);
}

static void codec_names(void **state) {
    (void)state;
    static const char *names[] = { "none", "gzip", "snappy", "lz4", "zstd" };
    for (int c = 0; c < KP_CODEC_COUNT; c++) {
        assert_string_equal(kp_codec_name((kp_codec)c), names[c]);
        kp_codec back;
        assert_true(kp_codec_from_name(names[c], &back));
        assert_int_equal(back, c);
    }
    kp_codec x;
    assert_false(kp_codec_from_name("GZIP", &x));
    assert_false(kp_codec_from_name("brotli", &x));
    assert_false(kp_codec_from_name(NULL, &x));
    assert_string_equal(kp_codec_name((kp_codec)7), "unknown");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batch_plain_vector_byte_for_byte),
        cmocka_unit_test(batch_idempotent_vector_byte_for_byte),
        cmocka_unit_test(batch_transactional_vector_byte_for_byte),
        cmocka_unit_test(batch_two_records_vector_byte_for_byte),
        cmocka_unit_test(batch_builder_producer_state_before_close),
        cmocka_unit_test(batch_inline_iterator_matches_the_general_one),
        cmocka_unit_test(batch_builder_bytes_match_a_reference_encoder),
        cmocka_unit_test(batch_vectors_decode),
        cmocka_unit_test(record_size_15_then_16_bytes_from_offset_delta_64),
        cmocka_unit_test(record_size_matches_kp_buf_varint_sizes),
        cmocka_unit_test(record_size_upper_bound_93),
        cmocka_unit_test(record_size_with_headers_matches_builder),
        cmocka_unit_test(record_sizes_from_kvh_match_the_full_functions),
        cmocka_unit_test(builder_inline_append_writes_the_general_encoders_bytes),
        cmocka_unit_test(sequence_increment_wraps),
        cmocka_unit_test(builder_nomem_writes_nothing_and_has_room_agrees),
        cmocka_unit_test(builder_states_and_bad_arguments),
        cmocka_unit_test(builder_timestamps_first_and_max),
        cmocka_unit_test(batch_rewrites_outside_crc_keep_it_valid),
        cmocka_unit_test(batch_corrupted_crc_detected),
        cmocka_unit_test(iter_init_parsed_skips_only_the_reads_and_the_crc),
        cmocka_unit_test(batch_every_truncation_rejected),
        cmocka_unit_test(batch_record_level_malformations),
        cmocka_unit_test(batch_compressed_count_mismatch),
        cmocka_unit_test(batch_log_append_time_uses_max_timestamp),
        cmocka_unit_test(batch_header_validation),
        cmocka_unit_test(batch_round_trip_every_codec),
        cmocka_unit_test(batch_compressed_close_too_big_for_cap_leaves_builder_open),
        cmocka_unit_test(records_walk_several_batches),
        cmocka_unit_test(control_batch_commit_and_abort),
        cmocka_unit_test(codec_names),
    };
    return cmocka_run_group_tests_name("record_batch", tests, NULL, NULL);
}
