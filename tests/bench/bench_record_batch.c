/*
 * bench_record_batch.c — RecordBatch v2 encoding and decoding rate per
 * codec: 100-byte values (key null) appended into 16 KiB batches
 * (batch.size default) until full, then closed (compression + CRC32C);
 * then the closed batches iterated back (CRC check, decompression, record
 * parsing). Values are words drawn from a small vocabulary, so they
 * compress like text. Prints records/s and the average batch size.
 * Uses CLOCK_MONOTONIC: benches live outside the determinism-guarded trees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kp_compress.h"
#include "kp_record_batch.h"
#include "kp_rng.h"

#define BATCH_SIZE 16384
#define VALUE_SIZE 100
#define NVALUES 1024

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint8_t values[NVALUES][VALUE_SIZE];

static void make_values(void) {
    static const char *words[] = { "producer", "batch", "leader", "offset", "record",
                                   "partition", "broker", "ack", "retry", "sequence",
                                   "epoch", "linger", "topic", "flush", "metadata", "send" };
    kp_rng r = kp_rng_stream(1, "bench-values");
    for (int v = 0; v < NVALUES; v++) {
        size_t at = 0;
        while (at < VALUE_SIZE) {
            const char *w = words[kp_rng_below(&r, 16)];
            for (size_t i = 0; w[i] && at < VALUE_SIZE; i++)
                values[v][at++] = (uint8_t)w[i];
            if (at < VALUE_SIZE)
                values[v][at++] = (uint8_t)(' ' + kp_rng_below(&r, 10));
        }
    }
}

int main(void) {
    make_values();
    uint8_t *buf = malloc(BATCH_SIZE);
    uint8_t *scratch = malloc(KP_BATCH_HEADER_SIZE + kp_compress_bound(KP_CODEC_GZIP, BATCH_SIZE) +
                              kp_compress_bound(KP_CODEC_ZSTD, BATCH_SIZE) + 4096);
    size_t scratch_cap = KP_BATCH_HEADER_SIZE + kp_compress_bound(KP_CODEC_GZIP, BATCH_SIZE) +
                         kp_compress_bound(KP_CODEC_ZSTD, BATCH_SIZE) + 4096;
    enum { KEEP = 64 };
    static uint8_t kept[KEEP][BATCH_SIZE];
    static size_t kept_len[KEEP];
    if (!buf || !scratch)
        return 1;
    printf("record batch: %d-byte values, %d-byte batches, close = compress + CRC32C\n",
           VALUE_SIZE, BATCH_SIZE);
    printf("%-8s %14s %10s %12s %14s\n", "codec", "encode rec/s", "rec/batch", "batch bytes",
           "decode rec/s");
    for (int c = 0; c < KP_CODEC_COUNT; c++) {
        long records = 0, batches = 0;
        size_t bytes = 0;
        int v = 0, nkept = 0;
        int64_t ts = 1700000000000LL;
        double t0 = now_s(), dt;
        do {
            kp_batch_builder b;
            kp_batch_builder_init(&b, buf, BATCH_SIZE, (kp_codec)c, false);
            kp_slice val = { values[v], VALUE_SIZE };
            while (kp_batch_builder_has_room_for(&b, ts, KP_SLICE_NULL, val, NULL, 0)) {
                if (kp_batch_builder_append(&b, ts, KP_SLICE_NULL, val, NULL, 0))
                    return 1;
                ts++;
                v = (v + 1) % NVALUES;
                val.ptr = values[v];
                records++;
            }
            kp_slice out;
            if (kp_batch_builder_close(&b, scratch, scratch_cap, &out))
                return 1;
            bytes += (size_t)out.len;
            batches++;
            if (nkept < KEEP) {
                memcpy(kept[nkept], out.ptr, (size_t)out.len);
                kept_len[nkept++] = (size_t)out.len;
            }
            dt = now_s() - t0;
        } while (dt < 0.5);
        double enc = (double)records / dt;

        kp_dbuf d;
        kp_dbuf_init(&d, 0);
        long drec = 0;
        int k = 0;
        t0 = now_s();
        do {
            kp_record_iter it;
            if (kp_record_iter_init(&it, kept[k], kept_len[k], &d))
                return 1;
            kp_record r;
            while (kp_record_iter_next(&it, &r))
                drec++;
            if (it.err)
                return 1;
            k = (k + 1) % nkept;
            dt = now_s() - t0;
        } while (dt < 0.5);
        kp_dbuf_free(&d);
        printf("%-8s %14.0f %10.1f %12.0f %14.0f\n", kp_codec_name((kp_codec)c), enc,
               (double)records / (double)batches, (double)bytes / (double)batches,
               (double)drec / dt);
    }
    free(scratch);
    free(buf);
    return 0;
}
