/*
 * bench_accumulator.c — appends per second into the RecordAccumulator:
 * 100-byte values (key null) to one partition, batch.size 16384,
 * buffer.memory 32 MiB, uncompressed and with each codec.
 *
 * Two numbers per codec:
 *   append     records / (total time - time spent draining): the cost of
 *              kp_accumulator_append and the loop (records are written
 *              straight into the pooled buffer, or the staging buffer for
 *              a codec);
 *   pipeline   append + drain (which closes the batch: compression and
 *              CRC32C) + completion callback + deallocate, i.e. what the
 *              producer's hot loop pays per record end to end without I/O.
 * Also checks the hot-path claim: after warm-up the run allocates nothing
 * (batch structs, thunk arrays, staging and pooled buffers are recycled).
 * Values are words drawn from a small vocabulary, so they compress like
 * text. Rates are per second of this process's CPU time
 * (CLOCK_PROCESS_CPUTIME_ID; benches live outside the determinism-guarded
 * trees). Prints a table; exits 1 if the no-allocation claim fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kp_accumulator.h"
#include "kp_buffer_pool.h"
#include "kp_config.h"
#include "kp_metadata.h"
#include "kp_rng.h"

#define VALUE_SIZE 100
#define NVALUES 1024

/* CPU time of this process: on a shared, loaded machine wall time mostly
 * measures the other processes. */
static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
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

static uint64_t acked;
static void on_ack(void *ctx, const kp_record_metadata *md, kp_err err, const char *msg) {
    (void)ctx;
    (void)md;
    (void)msg;
    if (!err)
        acked++;
}

typedef struct result {
    double append_rate;
    double pipeline_rate;
    double avg_batch;
    double ratio;
    bool no_alloc;
} result;

static result run(kp_codec codec, long records) {
    kp_config cfg;
    kp_config_init(&cfg);
    cfg.compression_type = (kp_compression)codec;
    kp_buffer_pool *pool = kp_buffer_pool_new(cfg.buffer_memory, (size_t)cfg.batch_size, NULL);
    kp_accumulator *acc = kp_accumulator_new(&cfg, pool, NULL);
    kp_cluster *cl = kp_cluster_new();
    kp_cluster_add_node(cl, 0, "localhost", 9092, NULL);
    kp_cluster_add_topic(cl, "bench", KP_ERR_NONE, false);
    int32_t leader = 0;
    kp_cluster_add_partition(cl, "bench", 0, 0, 0, &leader, 1, &leader, 1, NULL, 0, KP_ERR_NONE);
    kp_cluster_seal(cl);
    const int32_t node = 0;
    char err[256];
    double drain_time = 0;
    uint64_t batches = 0, batch_bytes = 0, raw_bytes = 0;
    long warm = records / 10;
    kp_accumulator_stats s_warm = { 0 }, s_end;
    uint64_t pool_warm = 0;
    acked = 0;
    double t0 = now_s();
    for (long i = 0; i < records; i++) {
        if (i == warm) {
            kp_accumulator_stats_get(acc, &s_warm);
            pool_warm = kp_buffer_pool_mallocs(pool);
        }
        kp_slice v = { values[i % NVALUES], VALUE_SIZE };
        kp_append_result r;
        kp_err e;
        kp_append_status st = kp_accumulator_append(acc, "bench", 0, i, KP_SLICE_NULL, v, NULL, 0, on_ack,
                                                    NULL, i, 60000, NULL, &r, &e, err, sizeof err);
        if (st != KP_APPEND_OK) {
            fprintf(stderr, "append failed: %s\n", err);
            exit(1);
        }
        if (r.batch_is_full) {
            double a = now_s();
            kp_drain_result d;
            kp_accumulator_drain(acc, cl, &node, 1, cfg.max_request_size, i, &d);
            for (size_t k = 0; k < d.batch_count; k++) {
                kp_batch *b = d.nodes[0].batches[k];
                batches++;
                batch_bytes += (uint64_t)kp_batch_records(b).len;
                raw_bytes += kp_batch_uncompressed_bytes(b);
                kp_batch_done(b, (int64_t)i, -1, KP_ERR_NONE, NULL, NULL);
                kp_accumulator_deallocate(acc, b);
            }
            drain_time += now_s() - a;
        }
    }
    double total = now_s() - t0;
    double append_time = total - drain_time;
    kp_accumulator_stats_get(acc, &s_end);
    result res = {
        .append_rate = (double)records / append_time,
        .pipeline_rate = (double)records / total,
        .avg_batch = batches ? (double)batch_bytes / (double)batches : 0,
        .ratio = raw_bytes ? (double)batch_bytes / (double)(raw_bytes + 61 * batches) : 0,
        .no_alloc = s_end.batch_struct_mallocs == s_warm.batch_struct_mallocs &&
                    s_end.thunk_growths == s_warm.thunk_growths &&
                    s_end.staging_mallocs == s_warm.staging_mallocs &&
                    kp_buffer_pool_mallocs(pool) == pool_warm,
    };
    kp_accumulator_abort_incomplete_batches(acc, KP_ERR__CLOSED, NULL);
    kp_accumulator_destroy(acc);
    if (!kp_buffer_pool_is_whole(pool)) {
        fprintf(stderr, "pool not whole after the run\n");
        exit(1);
    }
    kp_buffer_pool_destroy(pool);
    kp_cluster_destroy(cl);
    return res;
}

int main(int argc, char **argv) {
    long scale = argc > 1 ? atol(argv[1]) : 1;
    if (scale < 1)
        scale = 1;
    make_values();
    printf("accumulator: %d-byte values, batch.size 16384, one partition, rates per CPU second\n", VALUE_SIZE);
    printf("%-7s %14s %16s %11s %8s %9s\n", "codec", "append/s", "pipeline/s", "avg batch", "ratio",
           "no-alloc");
    int bad = 0;
    for (kp_codec c = KP_CODEC_NONE; c <= KP_CODEC_ZSTD; c++) {
        long n = (c == KP_CODEC_NONE ? 4000000L : 1000000L) * scale;
        result r = run(c, n);
        printf("%-7s %14.0f %16.0f %10.0fB %8.3f %9s\n", kp_codec_name(c), r.append_rate, r.pipeline_rate,
               r.avg_batch, r.ratio, r.no_alloc ? "yes" : "NO");
        if (!r.no_alloc)
            bad = 1;
    }
    return bad;
}
