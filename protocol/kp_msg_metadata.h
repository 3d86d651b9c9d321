/*
 * kp_msg_metadata.h — Metadata (api key 3), versions 1..7.
 *
 * The producer asks for the topics it has records for
 * (Sender -> NetworkClient.maybeUpdate -> MetadataRequest) and builds its
 * Cluster view (leaders, partitions, ISR) from the answer; the mock broker
 * answers from its controller view.
 *
 * Request:
 *   FIELD                      TYPE        VERSIONS  NOTE
 *   topics                     [STRING]    1+        nullable: null = all topics, [] = none
 *   allow_auto_topic_creation  BOOLEAN     4+        default true when absent (v1..v3)
 *
 *   e.g. v7 ["test"], auto-create:
 *   OFFSET SIZE DESCRIPTION
 *   0      4    topics count (1; -1 = null)
 *   4      2    topic name length (4)
 *   6      4    "test"
 *   10     1    allow_auto_topic_creation (1)
 *
 * Response:
 *   FIELD                      TYPE        VERSIONS  NOTE
 *   throttle_time_ms           int32       3+        default 0
 *   brokers                    ARRAY       1+
 *     node_id                  int32
 *     host                     STRING
 *     port                     int32
 *     rack                     NULLABLE_STRING 1+
 *   cluster_id                 NULLABLE_STRING 2+    default null
 *   controller_id              int32       1+
 *   topics                     ARRAY
 *     error_code               int16
 *     topic                    STRING
 *     is_internal              BOOLEAN     1+
 *     partitions               ARRAY
 *       error_code             int16
 *       partition              int32
 *       leader                 int32       (-1 = none)
 *       leader_epoch           int32       7+        default -1
 *       replicas               [int32]
 *       isr                    [int32]
 *       offline_replicas       [int32]     5+        default [] (count 0)
 *
 * Memory: arrays in the decoder's arena; strings point into the input.
 */
#ifndef KP_MSG_METADATA_H
#define KP_MSG_METADATA_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_buf.h"

#define KP_METADATA_MIN_VERSION 1
#define KP_METADATA_MAX_VERSION 7

typedef struct kp_metadata_request {
    int32_t topic_count; /* -1 = null = all topics */
    kp_slice *topics;
    bool allow_auto_topic_creation; /* v4+; true for v1..v3 */
} kp_metadata_request;

typedef struct kp_metadata_broker {
    int32_t node_id;
    kp_slice host;
    int32_t port;
    kp_slice rack; /* nullable */
} kp_metadata_broker;

typedef struct kp_metadata_partition {
    int16_t error_code;
    int32_t partition;
    int32_t leader;
    int32_t leader_epoch; /* v7+; -1 */
    int32_t replica_count;
    int32_t *replicas;
    int32_t isr_count;
    int32_t *isr;
    int32_t offline_replica_count; /* v5+; 0 */
    int32_t *offline_replicas;
} kp_metadata_partition;

typedef struct kp_metadata_topic {
    int16_t error_code;
    kp_slice topic;
    bool is_internal;
    int32_t partition_count;
    kp_metadata_partition *partitions;
} kp_metadata_topic;

typedef struct kp_metadata_response {
    int32_t throttle_time_ms; /* v3+; 0 */
    int32_t broker_count;
    kp_metadata_broker *brokers;
    kp_slice cluster_id; /* v2+; null */
    int32_t controller_id;
    int32_t topic_count;
    kp_metadata_topic *topics;
} kp_metadata_response;

void kp_metadata_request_encode(kp_writer *w, int16_t version, const kp_metadata_request *m);
kp_err kp_metadata_request_decode(kp_reader *r, int16_t version, kp_arena *a, kp_metadata_request *out);
void kp_metadata_response_encode(kp_writer *w, int16_t version, const kp_metadata_response *m);
kp_err kp_metadata_response_decode(kp_reader *r, int16_t version, kp_arena *a, kp_metadata_response *out);

#endif
