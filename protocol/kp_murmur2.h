/*
 * kp_murmur2.h — Kafka's murmur2 (org.apache.kafka.common.utils.Utils) and
 * the 2.1 DefaultPartitioner's keyed choice.
 *
 * Kafka's variant: seed 0x9747b28c, m 0x5bd1e995, r 24, h = seed ^ len;
 * 4-byte little-endian blocks; the 3/2/1-byte tail falls through and is
 * multiplied by m; then h ^= h >>> 13, h *= m, h ^= h >>> 15. The result is
 * a signed 32-bit int. toPositive(x) = x & 0x7fffffff (not abs()).
 */
#ifndef KP_MURMUR2_H
#define KP_MURMUR2_H

#include <stddef.h>
#include <stdint.h>

int32_t kp_murmur2(const void *data, size_t len);

static inline int32_t kp_to_positive(int32_t x) {
    return (int32_t)((uint32_t)x & 0x7fffffffu);
}

/* DefaultPartitioner (2.1) for a non-null key:
 * toPositive(murmur2(key)) % num_partitions. num_partitions must be > 0. */
static inline int32_t kp_partition_for_key(const void *key, size_t len, int32_t num_partitions) {
    return kp_to_positive(kp_murmur2(key, len)) % num_partitions;
}

#endif
