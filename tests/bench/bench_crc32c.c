/*
 * bench_crc32c.c — CRC32C throughput, table vs SSE4.2, at the sizes that
 * matter: a 4 KiB batch and a 1 MiB request. Prints GB/s (10^9 bytes/s).
 * Uses CLOCK_MONOTONIC: benches live outside the determinism-guarded trees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kp_crc32c.h"
#include "kp_rng.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Runs fn over buf until at least min_s passed; returns GB/s. */
static double measure(crc_fn fn, const uint8_t *buf, size_t len, double min_s, uint32_t *sink) {
    size_t iters = 1;
    for (;;) {
        double t0 = now_s();
        uint32_t c = 0;
        for (size_t i = 0; i < iters; i++)
            c = fn(c, buf, len);
        double dt = now_s() - t0;
        *sink ^= c;
        if (dt >= min_s)
            return (double)len * (double)iters / dt / 1e9;
        iters *= 2;
    }
}

int main(void) {
    size_t sizes[] = { 4096, 1u << 20 };
    size_t max = 1u << 20;
    uint8_t *buf = malloc(max);
    if (!buf)
        return 1;
    kp_rng r = kp_rng_stream(1, "bench-crc");
    for (size_t i = 0; i < max; i++)
        buf[i] = (uint8_t)kp_rng_u32(&r);
    uint32_t sink = 0;
    printf("crc32c (kp_crc32c uses %s)\n", kp_crc32c_impl_name());
    printf("%-20s %10s %10s\n", "implementation", "size", "GB/s");
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        printf("%-20s %10zu %10.2f\n", "sw slicing-by-8", sizes[s],
               measure(kp_crc32c_sw, buf, sizes[s], 0.3, &sink));
        if (kp_crc32c_hw_available())
            printf("%-20s %10zu %10.2f\n", "hw sse4.2 3-way", sizes[s],
                   measure(kp_crc32c_hw, buf, sizes[s], 0.3, &sink));
        else
            printf("%-20s %10zu %10s\n", "hw sse4.2 3-way", sizes[s], "n/a");
    }
    free(buf);
    return sink == 0xFFFFFFFFu ? 1 : 0; /* keeps the loops from being elided */
}
