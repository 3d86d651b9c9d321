/*
 * kp_batch.h — ProducerBatch (kafka-clients 2.1.1): records of one
 * partition written as one RecordBatch v2, plus each record's callback.
 *
 * Life of a batch (the accumulator creates it; the sender completes it):
 *   open      records appended with kp_batch_try_append (RecordBatch v2
 *             bytes written as they come, protocol/kp_record_batch.h)
 *   closed    kp_batch_close: header, compression, CRC; the bytes are
 *             kp_batch_records(); producer id/epoch/sequence set before or
 *             after close (kp_batch_assign_producer_state re-CRCs)
 *   done      kp_batch_done / kp_batch_abort: every record's callback fires
 *             exactly once, in append order, with offset = base + index.
 *
 * Where the bytes are:
 *   - codec none: straight in the buffer the accumulator got from the
 *     BufferPool (capacity max(batch.size, record upper bound));
 *   - a codec: the records are written uncompressed into a staging buffer
 *     the accumulator recycles (sized at creation for the most uncompressed
 *     bytes the ratio estimate can admit, so appends never move data);
 *     close compresses and copies the batch into the pooled buffer when it
 *     fits (it nearly always does), otherwise the batch keeps its staging
 *     buffer as its records — Java's ByteBufferOutputStream growing past
 *     the pooled buffer, the road to MESSAGE_TOO_LARGE.
 *   Split pieces own a malloc'd buffer, as Java allocates them outside the
 *   pool (isSplitBatch: not returned to the pool).
 *
 * Record thunks (ProducerBatch.Thunk): each record's callback, ctx,
 * create timestamp and serialized key/value sizes, stored by column
 * (kp_batch_int.h): the ctx per record; every other field once per batch
 * while all its records share it, per record from the first record that
 * differs. A batch whose records share one callback function (the
 * runner's, `kpsim produce`'s, the producer's bug.KAFKA-8325 one) and one
 * timestamp and sizes thus costs 8 bytes a record, not 32; a batch that
 * mixes callbacks (or anything else) costs up to the full 32, and every
 * record still completes through its own callback and ctx. The record
 * itself is referenced by its index (= offset delta) in the batch; its
 * bytes live in the batch buffer, so no per-record allocation exists. The
 * columns belong to the batch struct and start at 16 entries; a growth
 * doubles them up to 256, then adds a quarter, and goes at least to the
 * count the batch will hold at the size of its records so far (plus an
 * eighth: one growth for a batch of like records); the accumulator recycles batch structs with their columns, so a
 * warmed-up producer appends without malloc (kp_batch_thunk_growths counts
 * the reallocs, tests assert it stays 0 after warm-up). With a record wrap
 * (kp_batch_params.wrap: the producer's InterceptorCallback) the thunk's
 * callback and ctx are the application's own, so the thunk is all a record
 * costs in the accumulator.
 *
 * Size estimate (MemoryRecordsBuilder): estimated bytes written =
 *   none:  61 + uncompressed record bytes
 *   codec: 61 + (int)(uncompressed * ratio * 1.05)   (float arithmetic)
 * with ratio the topic's estimate when the batch was created.
 *   hasRoomFor: not closed for appends and (no record yet, or
 *               write_limit >= estimate + exact size of the next record)
 *   isFull:     closed for appends, or (records > 0 and
 *               write_limit <= estimate)
 * write_limit is the pooled buffer's capacity.
 *
 * Layout: the struct is private (kp_batch_int.h) except its head
 * (kp_batch_head below: identity, record count, producer state,
 * attempts), which every batch begins with so that those getters are
 * inline; outside kp_batch.c and the accumulator it is read-only.
 *
 * Memory: a kp_batch is owned by the accumulator (or by the test that made
 * it with kp_batch_new, which frees it with kp_batch_destroy). It borrows
 * its topic string (interned by the accumulator), its pooled buffer (given
 * back by kp_accumulator_deallocate) and its estimator.
 */
#ifndef KP_BATCH_H
#define KP_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_buf.h"
#include "kp_compress.h"
#include "kp_compression_estimator.h"
#include "kp_hint.h"
#include "kp_env.h"
#include "kp_err.h"
#include "kp_record_batch.h"

typedef struct kp_batch kp_batch;

/* The fields the stages read per batch (the sender, the transaction
 * manager, the events), grouped as the first member of every kp_batch so
 * that their getters below are inline: a call per read cost more than the
 * read, some 40 reads per batch. Written only by kp_batch.c and the
 * accumulator; everyone else reads them through the getters. */
typedef struct kp_batch_head {
    const char *topic;        /* interned by the accumulator */
    int32_t partition;
    int32_t record_count;
    int64_t id;               /* producer-unique */
    int64_t producer_id;      /* KP_NO_PRODUCER_ID until assigned */
    int16_t producer_epoch;
    int32_t base_sequence;    /* KP_NO_SEQUENCE until assigned */
    int32_t attempts;
    kp_hint txn_hint;         /* the transaction manager's lookup cache */
    void *sender_req;         /* the sender's slot (kp_batch_sender_req) */
} kp_batch_head;

/* A kp_batch begins with its head (C11 6.7.2.1: a pointer to a struct,
 * converted, points to its first member). */
static inline kp_batch_head *kp_batch__head(kp_batch *b) {
    return (kp_batch_head *)(void *)b;
}
static inline const kp_batch_head *kp_batch__chead(const kp_batch *b) {
    return (const kp_batch_head *)(const void *)b;
}

/* The batch's own hint into the transaction manager's table (kp_hint.h;
 * its topic and partition never change). */
static inline kp_hint *kp_batch_txn_hint(kp_batch *b) {
    return &kp_batch__head(b)->txn_hint;
}

/* A slot the sender keeps in each batch, NULL when the batch is made (and
 * when its struct is recycled): the last request that carried the batch
 * (a kp_sreq, opaque here; the sender checks that it still does before
 * trusting it). */
static inline void **kp_batch_sender_req(kp_batch *b) {
    return &kp_batch__head(b)->sender_req;
}

/* RecordMetadata, as a record's callback sees it. */
typedef struct kp_record_metadata {
    const char *topic;
    int32_t partition;
    int64_t offset;              /* base offset + relative offset; -1 if unknown */
    int64_t timestamp;           /* LogAppendTime if the broker gave one, else CreateTime; -1 on error */
    int32_t serialized_key_size;   /* -1 for a null key */
    int32_t serialized_value_size; /* -1 for a null value */
    int32_t relative_offset;     /* index in the batch */
    int64_t batch_id;
} kp_record_metadata;

/* A record's completion (Callback.onCompletion). err KP_ERR_NONE on
 * success; errmsg a human sentence (borrowed for the call) when failed. */
typedef void kp_record_cb(void *ctx, const kp_record_metadata *md, kp_err err,
                          const char *errmsg);

/* What every record of a batch completes through when set: called with
 * the record's own callback and context (cb may be NULL) instead of
 * calling cb directly. The facade's InterceptorCallback lives here, once
 * per producer, so a record carries no wrapper object of its own. */
typedef void kp_record_wrap_fn(void *wrap_ctx, kp_record_cb *cb, void *cb_ctx, const kp_record_metadata *md,
                               kp_err err, const char *errmsg);
/* Optional, for a batch whose records share one callback (and timestamp
 * and sizes: the common batch): its n records in order, record i with
 * context ctxs[i], md->offset = base_offset + i (-1 for every record when
 * base_offset < 0) and md->relative_offset = i written before its turn;
 * every other field of md is the batch's. Must do exactly what n calls of
 * fn would; saves a call per record. */
typedef void kp_record_wrap_run_fn(void *wrap_ctx, kp_record_cb *cb, void *const *ctxs, int32_t n,
                                   int64_t base_offset, kp_record_metadata *md, kp_err err,
                                   const char *errmsg);
typedef struct kp_record_wrap {
    kp_record_wrap_fn *fn;
    void *ctx;
    kp_record_wrap_run_fn *run; /* NULL: fn per record */
} kp_record_wrap;

/* ProducerBatch.FinalState */
typedef enum kp_batch_state {
    KP_BATCH_OPEN      = 0, /* no final state yet */
    KP_BATCH_SUCCEEDED = 1,
    KP_BATCH_FAILED    = 2,
    KP_BATCH_ABORTED   = 3
} kp_batch_state;

/* ------------------------------------------------------------------ */
/* Creating (the accumulator does this; public for tests)              */
/* ------------------------------------------------------------------ */

typedef struct kp_batch_params {
    const char *topic;          /* borrowed; must outlive the batch */
    int32_t partition;
    int64_t batch_id;           /* producer-unique */
    uint8_t *buffer;            /* pooled buffer (borrowed) */
    size_t capacity;            /* its size = write limit */
    kp_codec codec;
    int64_t now_ms;             /* createdMs */
    kp_compression_estimator *estimator; /* may be NULL: ratio 1.0 */
    kp_hint est_hint;           /* the estimator's cache for topic (zero: none) */
    /* the estimator's ratio for (topic, codec), when the caller already
     * asked for it for this batch (CompressionRatioEstimator.estimation,
     * once per new batch); false: the batch asks the estimator itself */
    bool has_est_ratio;
    float est_ratio;
    /* codec != none: staging buffer for the uncompressed records (borrowed
     * unless the batch is a split piece); size from kp_batch_staging_size */
    uint8_t *staging;
    size_t staging_capacity;
    bool is_split_batch;        /* buffer (and staging) owned and freed by the batch */
    const kp_observer *obs;     /* KP_EV_BATCH_DONE / _ABORTED; may be NULL (borrowed) */
    int64_t flush_origin;       /* 0: the batch's own id (see kp_batch_flush_origin) */
    const kp_clock *clock;      /* time-stamps those events; may be NULL (borrowed) */
    const kp_record_wrap *wrap; /* may be NULL: each record's cb directly (borrowed) */
} kp_batch_params;

/* Bytes of staging a compressed batch of `capacity` needs when created with
 * ratio estimate `ratio` (0 for codec none): room for the most uncompressed
 * bytes hasRoomFor can admit, (capacity - 61) / (ratio * 1.05), plus the
 * codec's worst-case expansion for close. Capped at 64x the capacity and
 * 16 MiB (unless the capacity alone is larger): past that, hasRoomFor says
 * no — the one place kpsim batches less than Java, reached only when the
 * estimate drops near zero. */
size_t kp_batch_staging_size(kp_codec codec, size_t capacity, float ratio);

/* NULL on allocation failure. */
kp_batch *kp_batch_new(const kp_batch_params *p);
void kp_batch_destroy(kp_batch *b); /* NULL ok; does not fire callbacks */

/* ------------------------------------------------------------------ */
/* Appending                                                           */
/* ------------------------------------------------------------------ */

/* ProducerBatch.tryAppend: false (nothing written) when there is no room
 * (hasRoomFor) or the batch is closed for appends. On success returns
 * true and *relative_offset (may be NULL) = the record's index.
 * key/value len -1 = null. */
bool kp_batch_try_append(kp_batch *b, int64_t timestamp, kp_slice key, kp_slice value,
                         const kp_header *headers, int header_count,
                         kp_record_cb *cb, void *cb_ctx, int64_t now,
                         int32_t *relative_offset);
bool kp_batch_has_room_for(const kp_batch *b, int64_t timestamp, kp_slice key,
                           kp_slice value, const kp_header *headers, int header_count);
/* The same two with kvh = kp_record_kvh_size(key, value, headers,
 * header_count) computed once by the caller (the producer sizes each
 * record once and passes it along the append path). */
bool kp_batch_try_append_kvh(kp_batch *b, int64_t timestamp, kp_slice key, kp_slice value,
                             const kp_header *headers, int header_count, size_t kvh,
                             kp_record_cb *cb, void *cb_ctx, int64_t now,
                             int32_t *relative_offset);
bool kp_batch_has_room_kvh(const kp_batch *b, int64_t timestamp, size_t kvh);
bool kp_batch_is_full(const kp_batch *b);
/* MemoryRecordsBuilder.estimatedSizeInBytes: the built size once closed. */
int32_t kp_batch_estimated_size(const kp_batch *b);
/* closeForRecordAppends: no more appends; the bytes stay open for close. */
void kp_batch_close_for_appends(kp_batch *b);
/* abortRecordAppends: the batch will never be sent (expired / aborted). */
void kp_batch_abort_record_appends(kp_batch *b);

/* ------------------------------------------------------------------ */
/* Closing and producer state                                          */
/* ------------------------------------------------------------------ */

/* ProducerBatch.close: writes the header (and compresses), updates the
 * compression-ratio estimate of the topic. scratch: a reusable buffer for
 * the compressor (may be NULL for codec none; the accumulator passes its
 * own). Idempotent. Errors: KP_ERR__STATE (empty batch or aborted),
 * KP_ERR__COMPRESSION / KP_ERR__NOMEM from the codec. */
kp_err kp_batch_close(kp_batch *b, kp_dbuf *scratch);
/* For a codec, once closed for appends: builds (compresses) the bytes now,
 * as closeForRecordAppends finishes Java's compressed stream, so that the
 * staging buffer is free before the drain; close then adds the producer
 * state and the estimator update as before (the estimate and the size
 * reported until close do not change). Nothing happens otherwise or when
 * the codec fails (close reports it). Idempotent. */
kp_err kp_batch_seal(kp_batch *b, kp_dbuf *scratch);
bool kp_batch_is_closed(const kp_batch *b);
/* The built RecordBatch v2 bytes (closed batches; {NULL,-1} otherwise). */
kp_slice kp_batch_records(const kp_batch *b);

/* ProducerBatch.setProducerState: remembered, written into the header at
 * close, or rewritten in place (with CRC) if already closed. */
void kp_batch_assign_producer_state(kp_batch *b, int64_t producer_id, int16_t epoch,
                                 int32_t base_sequence, bool transactional);
/* resetProducerState (TransactionManager.adjustSequencesDueToFailedBatch):
 * same, and marks the batch reopened (sequenceHasBeenReset). */
void kp_batch_reset_producer_state(kp_batch *b, int64_t producer_id, int16_t epoch,
                                   int32_t base_sequence, bool transactional);
bool kp_batch_sequence_has_been_reset(const kp_batch *b);

/* ------------------------------------------------------------------ */
/* Completing                                                          */
/* ------------------------------------------------------------------ */

/* ProducerBatch.done(baseOffset, logAppendTime, exception): the first
 * completion fires every record's callback (in order) and returns true.
 * Later completions fire nothing and return false — except after
 * SUCCEEDED, which is an illegal state ("A SUCCEEDED batch must not attempt
 * another state change to X"): false and *illegal (may be NULL) set.
 * err KP_ERR_NONE = success; log_append_time -1 = CreateTime. */
bool kp_batch_done(kp_batch *b, int64_t base_offset, int64_t log_append_time,
                   kp_err err, const char *errmsg, bool *illegal);
/* ProducerBatch.abort: callbacks with err; KP_ERR__STATE (nothing fired)
 * if the batch already has a final state. */
kp_err kp_batch_abort(kp_batch *b, kp_err err, const char *errmsg);
kp_batch_state kp_batch_final_state(const kp_batch *b);
bool kp_batch_is_done(const kp_batch *b);

/* ProducerBatch.hasReachedDeliveryTimeout: delivery_timeout <= now - created. */
bool kp_batch_has_reached_delivery_timeout(const kp_batch *b, int64_t delivery_timeout_ms,
                                           int64_t now);

/* ------------------------------------------------------------------ */
/* Splitting (MESSAGE_TOO_LARGE)                                       */
/* ------------------------------------------------------------------ */

/* ProducerBatch.split(splitBatchSize): the records of this CLOSED batch,
 * in order, re-appended into new batches (is_split_batch, own buffers of
 * max(split_batch_size, record upper bound), same createdMs, same codec),
 * each carrying its records' thunks. If this batch has a sequence, pieces
 * get baseSequence = this + records before them (same pid/epoch). This
 * batch gets no final state and fires no callback (Java completes only its
 * produce future with RecordBatchTooLargeException). Up to max_out pieces
 * go to out[]; returns the count, or -1 (KP_ERR in *err): not closed,
 * empty, more pieces than max_out, decode or allocation failure.
 * next_batch_id is advanced for each piece. */
int kp_batch_split(kp_batch *b, size_t split_batch_size, kp_dbuf *scratch,
                   int64_t *next_batch_id, kp_batch **out, size_t max_out, kp_err *err);

/* ------------------------------------------------------------------ */
/* Bookkeeping (ProducerBatch fields)                                   */
/* ------------------------------------------------------------------ */

static inline const char *kp_batch_topic(const kp_batch *b) { return kp_batch__chead(b)->topic; }
static inline int32_t kp_batch_partition(const kp_batch *b) { return kp_batch__chead(b)->partition; }
static inline int64_t kp_batch_id(const kp_batch *b) { return kp_batch__chead(b)->id; }
static inline int32_t kp_batch_record_count(const kp_batch *b) { return kp_batch__chead(b)->record_count; }
int32_t kp_batch_max_record_size(const kp_batch *b);
kp_codec kp_batch_compression(const kp_batch *b);
bool kp_batch_is_compressed(const kp_batch *b);
bool kp_batch_is_split_batch(const kp_batch *b);
static inline int32_t kp_batch_attempts(const kp_batch *b) { return kp_batch__chead(b)->attempts; }
int64_t kp_batch_created_ms(const kp_batch *b);
int64_t kp_batch_last_attempt_ms(const kp_batch *b);
int64_t kp_batch_last_append_ms(const kp_batch *b);
int64_t kp_batch_drained_ms(const kp_batch *b);
bool kp_batch_in_retry(const kp_batch *b);
/* waitedTimeMs: max(0, now - lastAttempt). queueTimeMs: drained - created. */
int64_t kp_batch_waited_ms(const kp_batch *b, int64_t now);
int64_t kp_batch_queue_time_ms(const kp_batch *b);
/* reenqueued(now): attempts++, lastAttempt = lastAppend = max(lastAppend, now), retry. */
void kp_batch_reenqueued(kp_batch *b, int64_t now);
/* drained(now): drainedMs = max(drainedMs, now). */
void kp_batch_drained(kp_batch *b, int64_t now);
static inline int64_t kp_batch_producer_id(const kp_batch *b) { return kp_batch__chead(b)->producer_id; }
static inline int16_t kp_batch_producer_epoch(const kp_batch *b) { return kp_batch__chead(b)->producer_epoch; }
static inline int32_t kp_batch_base_sequence(const kp_batch *b) { return kp_batch__chead(b)->base_sequence; }
static inline bool kp_batch_has_sequence(const kp_batch *b) {
    return kp_batch__chead(b)->base_sequence != KP_NO_SEQUENCE;
}
bool kp_batch_transactional(const kp_batch *b);
/* compressionRatio(): actual compressed/uncompressed record bytes after
 * close (1.0 before and for codec none). */
double kp_batch_compression_ratio(const kp_batch *b);
/* The ratio estimate the batch was created with. */
float kp_batch_estimated_ratio(const kp_batch *b);
/* Uncompressed record bytes appended (excluding the 61-byte header). */
size_t kp_batch_uncompressed_bytes(const kp_batch *b);
/* The pooled buffer and its size (what deallocate gives back). */
uint8_t *kp_batch_buffer(const kp_batch *b);
size_t kp_batch_initial_capacity(const kp_batch *b);
/* Reallocs of the thunk columns since creation / recycling (one per
 * growth, however many columns it moved). */
uint32_t kp_batch_thunk_growths(const kp_batch *b);
/* Bytes of the thunk columns the current records use: 8 a record (ctx)
 * plus the per-record columns of the fields that differ in this batch,
 * each at the columns' capacity. */
size_t kp_batch_thunk_bytes(const kp_batch *b);
/* Flush bookkeeping: the id of the batch whose records this batch carries
 * (its own id, or for a split piece the original's flush origin). */
int64_t kp_batch_flush_origin(const kp_batch *b);

#endif
