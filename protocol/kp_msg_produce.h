/*
 * kp_msg_produce.h — Produce (api key 0), versions 3..7.
 *
 * Sender.sendProduceRequest builds one of these per node from the drained
 * batches; the broker answers per partition (Sender.handleProduceResponse).
 * v3 is the first version carrying RecordBatch v2 (magic 2), which
 * idempotence needs. Between v3 and v7 the request layout does not change:
 * v4 lets the broker answer KAFKA_STORAGE_ERROR, v5 adds log_start_offset
 * to the response, v6 changes throttling semantics (response sent before
 * the throttle), v7 allows zstd. With acks = 0 the broker sends no response
 * at all (kp_api_has_response()).
 *
 * Request:
 *   FIELD                 TYPE             VERSIONS  NOTE
 *   transactional_id      NULLABLE_STRING  3+        null unless transactional
 *   acks                  int16                      0, 1, -1 (all)
 *   timeout_ms            int32
 *   topic_data            ARRAY
 *     topic               STRING
 *     data                ARRAY
 *       partition         int32
 *       record_set        NULLABLE_BYTES             opaque here (RecordBatch v2 bytes)
 *
 *   e.g. v7, no txn id, acks -1, timeout 30000, test-0 + 76-byte batch:
 *   OFFSET SIZE DESCRIPTION
 *   0      2    transactional_id length (-1 = null)
 *   2      2    acks (-1)
 *   4      4    timeout_ms (30000)
 *   8      4    topic_data count (1)
 *   12     2+4  topic "test"
 *   18     4    data count (1)
 *   22     4    partition (0)
 *   26     4    record_set length (76)
 *   30     76   record_set
 *
 * Response:
 *   FIELD                 TYPE     VERSIONS  NOTE
 *   responses             ARRAY
 *     topic               STRING
 *     partition_responses ARRAY
 *       partition         int32
 *       error_code        int16
 *       base_offset       int64
 *       log_append_time   int64    2+        -1 unless LogAppendTime
 *       log_start_offset  int64    5+        default -1
 *   throttle_time_ms      int32    1+
 *
 * Memory: arrays in the decoder's arena; topic names and record sets are
 * zero-copy slices of the input buffer.
 */
#ifndef KP_MSG_PRODUCE_H
#define KP_MSG_PRODUCE_H

#include <stdint.h>

#include "kp_arena.h"
#include "kp_buf.h"

#define KP_PRODUCE_MIN_VERSION 3
#define KP_PRODUCE_MAX_VERSION 7

typedef struct kp_produce_partition_data {
    int32_t partition;
    kp_slice records; /* nullable; RecordBatch bytes, opaque at this level */
} kp_produce_partition_data;

typedef struct kp_produce_topic_data {
    kp_slice topic;
    int32_t partition_count;
    kp_produce_partition_data *partitions;
} kp_produce_topic_data;

typedef struct kp_produce_request {
    kp_slice transactional_id; /* nullable */
    int16_t acks;
    int32_t timeout_ms;
    int32_t topic_count;
    kp_produce_topic_data *topics;
} kp_produce_request;

typedef struct kp_produce_partition_response {
    int32_t partition;
    int16_t error_code;
    int64_t base_offset;
    int64_t log_append_time;
    int64_t log_start_offset; /* v5+; -1 */
} kp_produce_partition_response;

typedef struct kp_produce_topic_response {
    kp_slice topic;
    int32_t partition_count;
    kp_produce_partition_response *partitions;
} kp_produce_topic_response;

typedef struct kp_produce_response {
    int32_t topic_count;
    kp_produce_topic_response *topics;
    int32_t throttle_time_ms;
} kp_produce_response;

void kp_produce_request_encode(kp_writer *w, int16_t version, const kp_produce_request *m);
kp_err kp_produce_request_decode(kp_reader *r, int16_t version, kp_arena *a, kp_produce_request *out);
/* The request body at [p, end) of a gathered frame (kp_request_frame_
 * decode_gathered): base is the cut frame's start, runs[0..nruns) the byte
 * runs cut out of it (run i after the first runs[i].at bytes of the cut
 * frame, kp_wr_gather's layout), each of which must be exactly one
 * partition's records. True when it decoded what kp_produce_request_decode
 * decodes from the joined bytes (records pointing into the runs); false
 * when a run is anything else or the joined bytes would not decode as
 * they are (nothing decided: the caller joins them and decodes). */
bool kp_produce_request_decode_gathered(const uint8_t *base, const uint8_t *p, const uint8_t *end,
                                        const kp_wr_run *runs, int nruns, int16_t version, kp_arena *a,
                                        kp_produce_request *out);
void kp_produce_response_encode(kp_writer *w, int16_t version, const kp_produce_response *m);
kp_err kp_produce_response_decode(kp_reader *r, int16_t version, kp_arena *a, kp_produce_response *out);

#endif
