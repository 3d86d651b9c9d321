/*
 * kp_partitioner.h — DefaultPartitioner (kafka-clients 2.1.1) and a sticky
 * partitioner (2.4's StickyPartitionCache, an experiment knob).
 *
 * Choice for a record (KafkaProducer.partition + Partitioner.partition):
 *   1. an explicit partition in the record wins (range-checked by the
 *      facade's waitOnMetadata, not here);
 *   2. a key: toPositive(murmur2(keyBytes)) % numPartitions (all
 *      partitions, available or not);
 *   3. no key, default: a per-topic counter that starts at a random int
 *      drawn from the producer's PRNG stream on the topic's first use, then
 *      toPositive(counter++) % #available indexes the available partitions
 *      (those with a leader, by id) — or % numPartitions when none is;
 *   4. no key, sticky: the topic's cached partition; a new one is picked
 *      (kp_partitioner_on_new_batch) when a record would start a batch
 *      for the cached one (the facade asks the accumulator first, KIP-480
 *      abortOnNewBatch): at random among the available partitions,
 *      different from the old one when more than one is available.
 *
 * Memory: owns copies of topic names (array in first-use order); borrows
 * the rng and the observer.
 */
#ifndef KP_PARTITIONER_H
#define KP_PARTITIONER_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_buf.h"
#include "kp_config.h"
#include "kp_env.h"
#include "kp_metadata.h"
#include "kp_rng.h"

typedef struct kp_partitioner kp_partitioner;

/* rng: the producer's stream (borrowed; draws happen on a topic's first
 * use and on sticky switches). obs may be NULL. */
kp_partitioner *kp_partitioner_new(kp_partitioner_kind kind, kp_rng *rng,
                                   const kp_observer *obs);
void kp_partitioner_destroy(kp_partitioner *p); /* NULL ok */
kp_partitioner_kind kp_partitioner_kind_of(const kp_partitioner *p);

/* The partition for a record. explicit_partition >= 0 wins; key.len -1 =
 * null key. Returns the partition, or -1 with *err = KP_ERR__NOENT when the
 * topic's partition count is unknown in cl (the facade waits for metadata
 * before calling), KP_ERR__NOMEM on allocation failure. Emits
 * KP_EV_PARTITION_CHOSEN. */
int32_t kp_partitioner_partition(kp_partitioner *p, const kp_cluster *cl, const char *topic,
                                 int32_t explicit_partition, kp_slice key, int64_t now,
                                 kp_err *err);
/* The same with the topic already looked up in cl (ct may be NULL: the
 * topic is unknown there); the send path finds it once per record.
 * hint: the caller's kp_hint for this topic (NULL: by name), filled in
 * once the topic has state here; from then on the state is found without
 * a string compare (states are never removed: a hint stays good). */
int32_t kp_partitioner_partition_in(kp_partitioner *p, const kp_cluster *cl, const kp_cluster_topic *ct,
                                    const char *topic, kp_hint *hint, int32_t explicit_partition, kp_slice key,
                                    int64_t now, kp_err *err);

/* A topic as one cluster shows it to the partitioner: its partition
 * count and the partitions that have a leader (kp_part_view_of). A
 * cluster never changes once it is current, so a caller may keep a view
 * per topic for as long as the cluster's generation holds (the producer
 * does) and partition through it without asking the cluster again. The
 * view borrows from cl. */
typedef struct kp_part_view {
    const kp_cluster *cl;
    const kp_cluster_topic *ct;               /* NULL: the topic is unknown in cl */
    int32_t count;                            /* kp_cluster_topic_partition_count */
    const kp_partition_info *const *avail;    /* kp_cluster_topic_available_partitions */
    size_t navail;
} kp_part_view;
void kp_part_view_of(kp_part_view *v, const kp_cluster *cl, const kp_cluster_topic *ct);
/* kp_partitioner_partition_in through a view of the topic. */
int32_t kp_partitioner_partition_v(kp_partitioner *p, const kp_part_view *v, const char *topic, kp_hint *hint,
                                   int32_t explicit_partition, kp_slice key, int64_t now, kp_err *err);

/* Case 3 alone (the default partitioner, no key, no explicit partition),
 * for a view with a known partition count (v->count > 0): what
 * kp_partitioner_partition_v answers and emits for such a record, without
 * the other cases' arguments and tests (the producer's keyless send takes
 * this when its partitioner is the default). -1 only when out of memory
 * (a topic's first use). */
int32_t kp_partitioner_round_robin_v(kp_partitioner *p, const kp_part_view *v, const char *topic, kp_hint *hint,
                                     int64_t now);

/* Sticky: a batch was created for prev_partition of topic; switch the
 * topic's sticky partition if it is prev_partition (StickyPartitionCache
 * .nextPartition). Returns the new sticky partition (or the unchanged one);
 * -1 if the topic is unknown in cl. No-op returning -1 for default. */
int32_t kp_partitioner_on_new_batch(kp_partitioner *p, const kp_cluster *cl, const char *topic,
                                    int32_t prev_partition, int64_t now);

/* Test hooks: the current counter of a topic (default) / sticky partition;
 * false if the topic has none yet. */
bool kp_partitioner_peek(const kp_partitioner *p, const char *topic, int32_t *value);

#endif
