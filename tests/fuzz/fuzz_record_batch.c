/*
 * fuzz_record_batch.c — libFuzzer target for the RecordBatch v2 decoder
 * and the codecs behind it.
 *
 * Each input is used three ways:
 *   1. as a record set (Produce/Fetch payload): walk its batches, verify
 *      each CRC, then iterate the records of a copy whose CRC has been
 *      fixed up, so the fuzzer gets past the checksum into the records,
 *      the headers, control records and every codec's decompressor;
 *   2. as compressed bytes: byte 0 picks a codec, the rest is decompressed
 *      into a bounded kp_dbuf;
 *   3. as a recipe for a batch (when byte 0 has its top bit set): records
 *      are cut from the input, built with the builder, closed with the codec
 *      byte 0 names, and must iterate back to exactly what went in — a
 *      mismatch aborts.
 * Copies are malloc'd at their exact size so ASan catches any over-read.
 * Seeds: tests/fuzz/corpus/record_batch/ (the KAFKA_FACTS.md vectors,
 * batches compressed with every codec, a control batch, a record set).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kp_compress.h"
#include "kp_record_batch.h"

#define KP_FUZZ_DBUF_MAX (4u << 20)

static void kp_fuzz_iterate(const uint8_t *batch, size_t len, kp_dbuf *scratch) {
    kp_record_iter it;
    if (kp_record_iter_init(&it, batch, len, scratch) != KP_ERR_NONE)
        return;
    kp_record r;
    int32_t n = 0;
    while (kp_record_iter_next(&it, &r)) {
        n++;
        kp_header_iter hi;
        kp_header h;
        kp_header_iter_init(&hi, &r);
        int32_t nh = 0;
        while (kp_header_iter_next(&hi, &h))
            nh++;
        if (nh != r.header_count)
            abort(); /* the iterator validated these headers */
        if (kp_batch_is_control(&it.hdr)) {
            kp_control_type t;
            int32_t epoch;
            (void)kp_control_record_parse(&r, &t, &epoch);
        }
    }
    if (it.err == KP_ERR_NONE && n != it.hdr.record_count)
        abort();
}

static void kp_fuzz_record_set(const uint8_t *data, size_t size, kp_dbuf *scratch) {
    kp_records_walk w;
    kp_batch_header h;
    kp_slice b;
    kp_records_walk_init(&w, data, size);
    while (kp_records_next_batch(&w, &h, &b)) {
        size_t len = (size_t)b.len;
        (void)kp_batch_verify_crc(b.ptr, len);
        (void)kp_batch_last_sequence(&h);
        uint8_t *copy = malloc(len);
        if (!copy)
            return;
        memcpy(copy, b.ptr, len);
        kp_batch_update_crc(copy, len);
        kp_fuzz_iterate(copy, len, scratch);
        free(copy);
    }
}

static void kp_fuzz_decompress(const uint8_t *data, size_t size) {
    if (size < 1)
        return;
    kp_dbuf d;
    kp_dbuf_init(&d, KP_FUZZ_DBUF_MAX);
    size_t n = size - 1;
    uint8_t *copy = malloc(n ? n : 1);
    if (copy) {
        memcpy(copy, data + 1, n);
        kp_err e = kp_decompress((kp_codec)(data[0] % KP_CODEC_COUNT), copy, n, &d);
        if (e != KP_ERR_NONE && d.len != 0)
            abort(); /* a failed decompress leaves the dbuf as it was */
        free(copy);
    }
    kp_dbuf_free(&d);
}

/* Builds a batch from slices of the input and checks it reads back. */
static void kp_fuzz_build(const uint8_t *data, size_t size, kp_dbuf *scratch) {
    if (size < 2 || !(data[0] & 0x80))
        return;
    kp_codec codec = (kp_codec)(data[0] % KP_CODEC_COUNT);
    enum { MAXREC = 64 };
    kp_slice keys[MAXREC], vals[MAXREC];
    kp_header hdrs[MAXREC];
    int64_t ts[MAXREC];
    int nrec = 0;
    size_t at = 1;
    while (at < size && nrec < MAXREC) {
        uint8_t c = data[at++];
        size_t klen = c & 7, vlen = (size_t)(c >> 3) * 3;
        keys[nrec] = (c & 7) == 7 ? KP_SLICE_NULL : (kp_slice){ data + at, 0 };
        if (keys[nrec].len == 0) {
            klen = klen > size - at ? size - at : klen;
            keys[nrec].len = (int32_t)klen;
            at += klen;
        }
        vlen = vlen > size - at ? size - at : vlen;
        vals[nrec] = (c >> 3) == 31 ? KP_SLICE_NULL : (kp_slice){ data + at, (int32_t)vlen };
        if (vals[nrec].len >= 0)
            at += vlen;
        hdrs[nrec] = (kp_header){ keys[nrec].len >= 0 ? keys[nrec] : (kp_slice){ data, 0 }, vals[nrec] };
        ts[nrec] = (int64_t)c * 1000 - 50000;
        nrec++;
    }
    size_t cap = 61;
    for (int i = 0; i < nrec; i++)
        cap += kp_record_size(ts[i] - ts[0], i, keys[i], vals[i], &hdrs[i], i & 1);
    cap += 64;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return;
    kp_batch_builder b;
    kp_batch_builder_init(&b, buf, cap, codec, (data[0] & 0x40) != 0);
    for (int i = 0; i < nrec; i++)
        if (kp_batch_builder_append(&b, ts[i], keys[i], vals[i], &hdrs[i], i & 1) != KP_ERR_NONE)
            abort(); /* cap was computed to fit */
    size_t sb = kp_batch_builder_close_bound(&b);
    uint8_t *scr = malloc(sb ? sb : 1);
    kp_slice out;
    if (scr && kp_batch_builder_close(&b, scr, sb, &out) == KP_ERR_NONE) {
        kp_batch_set_producer_state(buf, (size_t)out.len, 77, 1, 2147483600);
        kp_record_iter it;
        if (kp_record_iter_init(&it, out.ptr, (size_t)out.len, scratch) != KP_ERR_NONE)
            abort();
        kp_record r;
        for (int i = 0; i < nrec; i++) {
            if (!kp_record_iter_next(&it, &r))
                abort();
            if (!kp_slice_eq(r.key, keys[i]) || !kp_slice_eq(r.value, vals[i]) ||
                r.timestamp != ts[i] || r.offset_delta != i || r.header_count != (i & 1))
                abort();
        }
        if (kp_record_iter_next(&it, &r) || it.err != KP_ERR_NONE)
            abort();
        if (kp_batch_last_sequence(&it.hdr) != kp_sequence_increment(2147483600, nrec - 1))
            abort();
    }
    free(scr);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kp_dbuf scratch;
    kp_dbuf_init(&scratch, KP_FUZZ_DBUF_MAX);
    kp_fuzz_record_set(data, size, &scratch);
    kp_fuzz_decompress(data, size);
    kp_fuzz_build(data, size, &scratch);
    kp_dbuf_free(&scratch);
    return 0;
}
