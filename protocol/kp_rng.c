/*
 * kp_rng.c — xoshiro256** streams seeded by splitmix64 (see kp_rng.h).
 */
#include "kp_rng.h"

#include <math.h>
#include <string.h>

uint64_t kp_fnv1a64(const void *data, uint64_t len, uint64_t h) {
    const unsigned char *p = data;
    for (uint64_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t kp_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static kp_rng kp_rng_from(uint64_t material) {
    kp_rng r;
    for (int i = 0; i < 4; i++)
        r.s[i] = kp_splitmix64(&material);
    if (!(r.s[0] | r.s[1] | r.s[2] | r.s[3]))
        r.s[0] = 1; /* the all-zero state is a fixed point */
    return r;
}

kp_rng kp_rng_stream(uint64_t seed, const char *name) {
    uint64_t h = kp_fnv1a64(name, strlen(name), KP_FNV1A64_INIT);
    uint64_t x = seed;
    return kp_rng_from(kp_splitmix64(&x) ^ h);
}

kp_rng kp_rng_substream(const kp_rng *parent, const char *name) {
    uint64_t h = kp_fnv1a64(name, strlen(name), KP_FNV1A64_INIT);
    uint64_t x = parent->s[0] ^ (parent->s[1] << 1) ^ (parent->s[2] >> 1) ^ parent->s[3];
    return kp_rng_from(kp_splitmix64(&x) ^ h);
}

static inline uint64_t kp_rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t kp_rng_u64(kp_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = kp_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = kp_rotl(s[3], 45);
    return result;
}

uint32_t kp_rng_u32(kp_rng *r) {
    return (uint32_t)(kp_rng_u64(r) >> 32);
}

uint64_t kp_rng_below(kp_rng *r, uint64_t bound) {
    if (bound == 0)
        return 0;
    /* Rejection sampling on the top of the range: unbiased, bounded in
     * expectation by two draws. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
    uint64_t x;
    do {
        x = kp_rng_u64(r);
    } while (x >= limit);
    return x % bound;
}

int64_t kp_rng_range(kp_rng *r, int64_t lo, int64_t hi) {
    if (hi <= lo)
        return lo;
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;
    if (span == 0) /* full 64-bit range */
        return (int64_t)kp_rng_u64(r);
    return (int64_t)((uint64_t)lo + kp_rng_below(r, span));
}

double kp_rng_double(kp_rng *r) {
    return (double)(kp_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

bool kp_rng_chance(kp_rng *r, double p) {
    if (p <= 0)
        return false;
    if (p >= 1)
        return true;
    return kp_rng_double(r) < p;
}

double kp_rng_exp(kp_rng *r, double mean) {
    double u = kp_rng_double(r);
    return -mean * log(1.0 - u);
}
