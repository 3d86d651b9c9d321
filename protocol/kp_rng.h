/*
 * kp_rng.h — deterministic PRNG streams.
 *
 * One scenario seed; each component draws from its own stream derived from
 * (seed, component name), so one more draw in one component never shifts
 * another's sequence (DESIGN.md "Determinism rules"). The generator is
 * xoshiro256** seeded through splitmix64; the name is hashed with FNV-1a 64.
 * Results are identical on every platform: integer arithmetic only, except
 * kp_rng_exp() which uses log() from libm (same build, same machine class).
 *
 * Memory: a kp_rng is a 32-byte value; copy it to fork a stream's state.
 */
#ifndef KP_RNG_H
#define KP_RNG_H

#include <stdint.h>
#include <stdbool.h>

typedef struct kp_rng {
    uint64_t s[4];
} kp_rng;

/* The stream for component `name` under scenario seed `seed`. */
kp_rng kp_rng_stream(uint64_t seed, const char *name);
/* A sub-stream: stream of `parent`'s seed material plus a suffix, e.g.
 * kp_rng_stream(seed, "net") then kp_rng_substream(&net, "link/0-1"). */
kp_rng kp_rng_substream(const kp_rng *parent, const char *name);

uint64_t kp_rng_u64(kp_rng *r);
uint32_t kp_rng_u32(kp_rng *r);
/* Uniform in [0, bound) without modulo bias; bound 0 returns 0. */
uint64_t kp_rng_below(kp_rng *r, uint64_t bound);
/* Uniform in [lo, hi] inclusive. */
int64_t kp_rng_range(kp_rng *r, int64_t lo, int64_t hi);
/* Uniform double in [0, 1) with 53 random bits. */
double kp_rng_double(kp_rng *r);
/* True with probability p. */
bool kp_rng_chance(kp_rng *r, double p);
/* Exponentially distributed with the given mean (for Poisson processes). */
double kp_rng_exp(kp_rng *r, double mean);

/* 64-bit FNV-1a of a string, used for stream names and trace digests. */
uint64_t kp_fnv1a64(const void *data, uint64_t len, uint64_t h);
#define KP_FNV1A64_INIT 0xcbf29ce484222325ULL

#endif
