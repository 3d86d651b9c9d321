/*
 * kp_msg_txn.h — the idempotence / transaction APIs of a 2.1 producer:
 * InitProducerId (22) v0..v1, FindCoordinator (10) v0..v2,
 * AddPartitionsToTxn (24) v0..v1, EndTxn (26) v0..v1.
 *
 * TransactionManager drives them: InitProducerId for a producer id and
 * epoch (idempotent producers send it to the least-loaded node with a null
 * transactional id), FindCoordinator for the transaction coordinator,
 * AddPartitionsToTxn before the first send to a partition in a transaction,
 * EndTxn to commit or abort. In every pair the layout is the same across
 * the versions supported here (v1 changes only throttling semantics),
 * except FindCoordinator v0, which has neither key_type, throttle_time_ms
 * nor error_message.
 *
 * InitProducerId request v0..v1:
 *   OFFSET SIZE DESCRIPTION
 *   0      2+n  transactional_id   NULLABLE_STRING (null = idempotent only)
 *   2+n    4    transaction_timeout_ms int32 (INT32_MAX for idempotent)
 * InitProducerId response v0..v1:
 *   0      4    throttle_time_ms   int32
 *   4      2    error_code         int16
 *   6      8    producer_id        int64
 *   14     2    producer_epoch     int16
 *
 * FindCoordinator request:
 *   FIELD             TYPE             VERSIONS
 *   key               STRING           0+   (group id or transactional id)
 *   key_type          int8             1+   0 group, 1 transaction; default 0
 * FindCoordinator response:
 *   throttle_time_ms  int32            1+   default 0
 *   error_code        int16            0+
 *   error_message     NULLABLE_STRING  1+   default null
 *   node_id           int32            0+
 *   host              STRING           0+
 *   port              int32            0+
 *
 * AddPartitionsToTxn request v0..v1:
 *   transactional_id  STRING
 *   producer_id       int64
 *   producer_epoch    int16
 *   topics            ARRAY
 *     topic           STRING
 *     partitions      [int32]
 * AddPartitionsToTxn response v0..v1:
 *   throttle_time_ms  int32
 *   errors            ARRAY
 *     topic           STRING
 *     partition_errors ARRAY
 *       partition     int32
 *       error_code    int16
 *
 * EndTxn request v0..v1:
 *   OFFSET SIZE DESCRIPTION
 *   0      2+n  transactional_id   STRING
 *   2+n    8    producer_id        int64
 *   10+n   2    producer_epoch     int16
 *   12+n   1    transaction_result BOOLEAN (true = commit)
 * EndTxn response v0..v1:
 *   0      4    throttle_time_ms   int32
 *   4      2    error_code         int16
 *
 * Memory: arrays in the decoder's arena; strings point into the input.
 */
#ifndef KP_MSG_TXN_H
#define KP_MSG_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_buf.h"

/* ---- InitProducerId ------------------------------------------------ */

#define KP_INIT_PRODUCER_ID_MIN_VERSION 0
#define KP_INIT_PRODUCER_ID_MAX_VERSION 1

typedef struct kp_init_producer_id_request {
    kp_slice transactional_id; /* nullable */
    int32_t transaction_timeout_ms;
} kp_init_producer_id_request;

typedef struct kp_init_producer_id_response {
    int32_t throttle_time_ms;
    int16_t error_code;
    int64_t producer_id;
    int16_t producer_epoch;
} kp_init_producer_id_response;

void kp_init_producer_id_request_encode(kp_writer *w, int16_t version, const kp_init_producer_id_request *m);
kp_err kp_init_producer_id_request_decode(kp_reader *r, int16_t version, kp_arena *a,
                                          kp_init_producer_id_request *out);
void kp_init_producer_id_response_encode(kp_writer *w, int16_t version, const kp_init_producer_id_response *m);
kp_err kp_init_producer_id_response_decode(kp_reader *r, int16_t version, kp_arena *a,
                                           kp_init_producer_id_response *out);

/* ---- FindCoordinator ----------------------------------------------- */

#define KP_FIND_COORDINATOR_MIN_VERSION 0
#define KP_FIND_COORDINATOR_MAX_VERSION 2

#define KP_COORDINATOR_GROUP 0
#define KP_COORDINATOR_TRANSACTION 1

typedef struct kp_find_coordinator_request {
    kp_slice key;
    int8_t key_type; /* v1+; 0 (group) for v0 */
} kp_find_coordinator_request;

typedef struct kp_find_coordinator_response {
    int32_t throttle_time_ms; /* v1+; 0 */
    int16_t error_code;
    kp_slice error_message; /* v1+, nullable; null */
    int32_t node_id;
    kp_slice host;
    int32_t port;
} kp_find_coordinator_response;

void kp_find_coordinator_request_encode(kp_writer *w, int16_t version, const kp_find_coordinator_request *m);
kp_err kp_find_coordinator_request_decode(kp_reader *r, int16_t version, kp_arena *a,
                                          kp_find_coordinator_request *out);
void kp_find_coordinator_response_encode(kp_writer *w, int16_t version, const kp_find_coordinator_response *m);
kp_err kp_find_coordinator_response_decode(kp_reader *r, int16_t version, kp_arena *a,
                                           kp_find_coordinator_response *out);

/* ---- AddPartitionsToTxn -------------------------------------------- */

#define KP_ADD_PARTITIONS_TO_TXN_MIN_VERSION 0
#define KP_ADD_PARTITIONS_TO_TXN_MAX_VERSION 1

typedef struct kp_add_partitions_to_txn_topic {
    kp_slice topic;
    int32_t partition_count;
    int32_t *partitions;
} kp_add_partitions_to_txn_topic;

typedef struct kp_add_partitions_to_txn_request {
    kp_slice transactional_id;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t topic_count;
    kp_add_partitions_to_txn_topic *topics;
} kp_add_partitions_to_txn_request;

typedef struct kp_add_partitions_to_txn_partition_result {
    int32_t partition;
    int16_t error_code;
} kp_add_partitions_to_txn_partition_result;

typedef struct kp_add_partitions_to_txn_topic_result {
    kp_slice topic;
    int32_t partition_count;
    kp_add_partitions_to_txn_partition_result *partitions;
} kp_add_partitions_to_txn_topic_result;

typedef struct kp_add_partitions_to_txn_response {
    int32_t throttle_time_ms;
    int32_t topic_count;
    kp_add_partitions_to_txn_topic_result *topics;
} kp_add_partitions_to_txn_response;

void kp_add_partitions_to_txn_request_encode(kp_writer *w, int16_t version,
                                             const kp_add_partitions_to_txn_request *m);
kp_err kp_add_partitions_to_txn_request_decode(kp_reader *r, int16_t version, kp_arena *a,
                                               kp_add_partitions_to_txn_request *out);
void kp_add_partitions_to_txn_response_encode(kp_writer *w, int16_t version,
                                              const kp_add_partitions_to_txn_response *m);
kp_err kp_add_partitions_to_txn_response_decode(kp_reader *r, int16_t version, kp_arena *a,
                                                kp_add_partitions_to_txn_response *out);

/* ---- EndTxn -------------------------------------------------------- */

#define KP_END_TXN_MIN_VERSION 0
#define KP_END_TXN_MAX_VERSION 1

typedef struct kp_end_txn_request {
    kp_slice transactional_id;
    int64_t producer_id;
    int16_t producer_epoch;
    bool committed; /* transaction_result: true = commit, false = abort */
} kp_end_txn_request;

typedef struct kp_end_txn_response {
    int32_t throttle_time_ms;
    int16_t error_code;
} kp_end_txn_response;

void kp_end_txn_request_encode(kp_writer *w, int16_t version, const kp_end_txn_request *m);
kp_err kp_end_txn_request_decode(kp_reader *r, int16_t version, kp_arena *a, kp_end_txn_request *out);
void kp_end_txn_response_encode(kp_writer *w, int16_t version, const kp_end_txn_response *m);
kp_err kp_end_txn_response_decode(kp_reader *r, int16_t version, kp_arena *a, kp_end_txn_response *out);

#endif
