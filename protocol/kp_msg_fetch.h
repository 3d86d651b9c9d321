/*
 * kp_msg_fetch.h — reading data back: ListOffsets (api key 2) v1..v3 and
 * Fetch (api key 1) v4..v10.
 *
 * A producer never sends these; kpsim's checker, `kpsim produce --verify`
 * style tools and real consumers against broker_mock do. v4 is the first
 * Fetch with isolation_level, last_stable_offset and aborted transactions
 * (read_committed), so the transactional scenarios can be read back.
 *
 * ListOffsets request:
 *   FIELD               TYPE    VERSIONS  NOTE
 *   replica_id          int32   1+        -1 for a consumer
 *   isolation_level     int8    2+        0 read_uncommitted, 1 read_committed; default 0
 *   topics              ARRAY
 *     topic             STRING
 *     partitions        ARRAY
 *       partition       int32
 *       timestamp       int64             -1 latest, -2 earliest, else a time
 * ListOffsets response:
 *   throttle_time_ms    int32   2+        default 0
 *   responses           ARRAY
 *     topic             STRING
 *     partition_responses ARRAY
 *       partition       int32
 *       error_code      int16
 *       timestamp       int64             -1 when not found
 *       offset          int64             -1 when not found
 *
 * Fetch request (v4..v10; v8 only changes throttling, v10 allows zstd):
 *   FIELD                   TYPE    VERSIONS  NOTE
 *   replica_id              int32             -1 for a consumer
 *   max_wait_ms             int32
 *   min_bytes               int32
 *   max_bytes               int32   3+
 *   isolation_level         int8    4+
 *   session_id              int32   7+        default 0 (no session)
 *   session_epoch           int32   7+        default -1 (full fetch, no session)
 *   topics                  ARRAY
 *     topic                 STRING
 *     partitions            ARRAY
 *       partition           int32
 *       current_leader_epoch int32  9+        default -1
 *       fetch_offset        int64
 *       log_start_offset    int64   5+        default -1 (followers only)
 *       partition_max_bytes int32
 *   forgotten_topics_data   ARRAY   7+        default [] (count 0)
 *     topic                 STRING
 *     partitions            [int32]
 *
 * Fetch response:
 *   throttle_time_ms        int32   1+
 *   error_code              int16   7+        default 0
 *   session_id              int32   7+        default 0
 *   responses               ARRAY
 *     topic                 STRING
 *     partitions            ARRAY
 *       partition           int32
 *       error_code          int16
 *       high_watermark      int64
 *       last_stable_offset  int64   4+
 *       log_start_offset    int64   5+        default -1
 *       aborted_transactions ARRAY  4+        nullable (-1 = null)
 *         producer_id       int64
 *         first_offset      int64
 *       records             NULLABLE_BYTES    opaque here (RecordBatch bytes)
 *
 *   Per-partition header of a v5..v10 response partition:
 *   OFFSET SIZE DESCRIPTION
 *   0      4    partition
 *   4      2    error_code
 *   6      8    high_watermark
 *   14     8    last_stable_offset
 *   22     8    log_start_offset
 *   30     4    aborted_transactions count (-1 = null), then 16 bytes each
 *   34+16n 4    records length, then the records
 *
 * Memory: arrays in the decoder's arena; strings and records point into
 * the input.
 */
#ifndef KP_MSG_FETCH_H
#define KP_MSG_FETCH_H

#include <stdint.h>

#include "kp_arena.h"
#include "kp_buf.h"

#define KP_ISOLATION_READ_UNCOMMITTED 0
#define KP_ISOLATION_READ_COMMITTED 1

/* ---- ListOffsets --------------------------------------------------- */

#define KP_LIST_OFFSETS_MIN_VERSION 1
#define KP_LIST_OFFSETS_MAX_VERSION 3

#define KP_LIST_OFFSETS_LATEST (-1)
#define KP_LIST_OFFSETS_EARLIEST (-2)

typedef struct kp_list_offsets_partition {
    int32_t partition;
    int64_t timestamp;
} kp_list_offsets_partition;

typedef struct kp_list_offsets_topic {
    kp_slice topic;
    int32_t partition_count;
    kp_list_offsets_partition *partitions;
} kp_list_offsets_topic;

typedef struct kp_list_offsets_request {
    int32_t replica_id;
    int8_t isolation_level; /* v2+; 0 */
    int32_t topic_count;
    kp_list_offsets_topic *topics;
} kp_list_offsets_request;

typedef struct kp_list_offsets_partition_response {
    int32_t partition;
    int16_t error_code;
    int64_t timestamp;
    int64_t offset;
} kp_list_offsets_partition_response;

typedef struct kp_list_offsets_topic_response {
    kp_slice topic;
    int32_t partition_count;
    kp_list_offsets_partition_response *partitions;
} kp_list_offsets_topic_response;

typedef struct kp_list_offsets_response {
    int32_t throttle_time_ms; /* v2+; 0 */
    int32_t topic_count;
    kp_list_offsets_topic_response *topics;
} kp_list_offsets_response;

void kp_list_offsets_request_encode(kp_writer *w, int16_t version, const kp_list_offsets_request *m);
kp_err kp_list_offsets_request_decode(kp_reader *r, int16_t version, kp_arena *a,
                                      kp_list_offsets_request *out);
void kp_list_offsets_response_encode(kp_writer *w, int16_t version, const kp_list_offsets_response *m);
kp_err kp_list_offsets_response_decode(kp_reader *r, int16_t version, kp_arena *a,
                                       kp_list_offsets_response *out);

/* ---- Fetch --------------------------------------------------------- */

#define KP_FETCH_MIN_VERSION 4
#define KP_FETCH_MAX_VERSION 10

typedef struct kp_fetch_partition {
    int32_t partition;
    int32_t current_leader_epoch; /* v9+; -1 */
    int64_t fetch_offset;
    int64_t log_start_offset; /* v5+; -1 */
    int32_t partition_max_bytes;
} kp_fetch_partition;

typedef struct kp_fetch_topic {
    kp_slice topic;
    int32_t partition_count;
    kp_fetch_partition *partitions;
} kp_fetch_topic;

typedef struct kp_fetch_forgotten_topic {
    kp_slice topic;
    int32_t partition_count;
    int32_t *partitions;
} kp_fetch_forgotten_topic;

typedef struct kp_fetch_request {
    int32_t replica_id;
    int32_t max_wait_ms;
    int32_t min_bytes;
    int32_t max_bytes;
    int8_t isolation_level;
    int32_t session_id;    /* v7+; 0 */
    int32_t session_epoch; /* v7+; -1 */
    int32_t topic_count;
    kp_fetch_topic *topics;
    int32_t forgotten_topic_count; /* v7+; 0 */
    kp_fetch_forgotten_topic *forgotten_topics;
} kp_fetch_request;

typedef struct kp_fetch_aborted_transaction {
    int64_t producer_id;
    int64_t first_offset;
} kp_fetch_aborted_transaction;

typedef struct kp_fetch_partition_response {
    int32_t partition;
    int16_t error_code;
    int64_t high_watermark;
    int64_t last_stable_offset;
    int64_t log_start_offset; /* v5+; -1 */
    int32_t aborted_transaction_count; /* -1 = null */
    kp_fetch_aborted_transaction *aborted_transactions;
    kp_slice records; /* nullable */
} kp_fetch_partition_response;

typedef struct kp_fetch_topic_response {
    kp_slice topic;
    int32_t partition_count;
    kp_fetch_partition_response *partitions;
} kp_fetch_topic_response;

typedef struct kp_fetch_response {
    int32_t throttle_time_ms;
    int16_t error_code; /* v7+; 0 */
    int32_t session_id; /* v7+; 0 */
    int32_t topic_count;
    kp_fetch_topic_response *topics;
} kp_fetch_response;

void kp_fetch_request_encode(kp_writer *w, int16_t version, const kp_fetch_request *m);
kp_err kp_fetch_request_decode(kp_reader *r, int16_t version, kp_arena *a, kp_fetch_request *out);
void kp_fetch_response_encode(kp_writer *w, int16_t version, const kp_fetch_response *m);
kp_err kp_fetch_response_decode(kp_reader *r, int16_t version, kp_arena *a, kp_fetch_response *out);

#endif
