/*
 * kp_accumulator.h — RecordAccumulator (kafka-clients 2.1.1).
 *
 * What it is for: between send() and the Sender. Records are appended into
 * per-partition queues (deques) of ProducerBatches; the Sender asks which
 * leaders have sendable data (ready), takes at most one batch per partition
 * per node up to max.request.size (drain), fails batches past
 * delivery.timeout.ms (expiredBatches), puts failed batches back at the
 * front (reenqueue), splits batches the broker found too large
 * (splitAndReenqueue), mutes partitions while a request is in flight when
 * ordering is guaranteed, and keeps the set of incomplete batches for
 * flush() and close().
 *
 * Single-threaded: the application actor and the sender actor run on one
 * event loop, so nothing here locks. Where Java's append blocks in
 * BufferPool.allocate, append returns KP_APPEND_WOULD_BLOCK with the
 * caller's waiter queued in the pool; when the waiter's callback reports
 * it SERVED, the caller calls kp_accumulator_append again with the same
 * record and the same waiter, and the append completes with that buffer
 * (Java's second synchronized block: if a batch appeared meanwhile the
 * buffer goes back to the pool). A FAILED waiter carries the error
 * (KP_ERR__BUFFER_EXHAUSTED + kp_pool_waiter_message) to report.
 *
 * Determinism: partitions are kept in a table in first-use order (never a
 * pointer-keyed hash); ready() reports nodes sorted by node id and topics
 * in first-seen order; drain() visits nodes in the order given.
 *
 * Drain index: by default one start index per node (the fix of
 * KAFKA-13834, as later Kafka); with config bug.KAFKA-13834=true, 2.1.1's
 * single index shared by all nodes (which starves partitions).
 *
 * Memory: the accumulator owns its batches (until kp_accumulator_deallocate
 * frees or recycles them), its partition table and its result arrays; it
 * borrows the config, the pool, the observer and the txn hooks, which must
 * outlive it. Topic strings are interned (copied once, kp_acc_topic); the
 * kp_batch topic pointers and the topic handles stay valid for the
 * accumulator's life. Result arrays returned by
 * ready/drain/expired are valid until the next call of the same function.
 *
 * Hot path: an append into an existing batch allocates nothing; a new batch
 * takes a recycled struct (and its thunk columns) and a pooled buffer.
 */
#ifndef KP_ACCUMULATOR_H
#define KP_ACCUMULATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_batch.h"
#include "kp_buffer_pool.h"
#include "kp_compression_estimator.h"
#include "kp_config.h"
#include "kp_env.h"
#include "kp_metadata.h"
#include "kp_record_batch.h"

typedef struct kp_accumulator kp_accumulator;
/* A topic as the accumulator keeps it: its interned name and its
 * partitions' deques by number. The send path resolves a record's topic
 * to this handle once (kp_accumulator_topic) and appends through it, so a
 * record costs no lookup by name here. Owned by the accumulator; valid
 * until kp_accumulator_destroy. */
typedef struct kp_acc_topic kp_acc_topic;

/* The TransactionManager's part in drain / reenqueue / split (Java's
 * `transactionManager` field, null when neither idempotent nor
 * transactional: pass NULL hooks then). All callbacks get ctx. */
typedef struct kp_txn_hooks {
    void *ctx;
    bool is_transactional;
    /* isSendToPartitionAllowed(tp) */
    bool (*send_allowed)(void *ctx, const char *topic, int32_t partition);
    /* producerIdAndEpoch(); returns isValid() (pid != -1) */
    bool (*producer_id_and_epoch)(void *ctx, int64_t *pid, int16_t *epoch);
    /* hasUnresolvedSequence(tp). `hint`, here and below: the deque's
     * cache of where tp sits in the manager's table (kp_hint). */
    bool (*has_unresolved_sequence)(void *ctx, const char *topic, int32_t partition,
                                    kp_hint *hint);
    /* firstInFlightSequence(tp): KP_NO_SEQUENCE (-1) if none */
    int32_t (*first_in_flight_sequence)(void *ctx, const char *topic, int32_t partition,
                                        kp_hint *hint);
    /* sequenceNumber(tp) / incrementSequenceNumber(tp, n) */
    int32_t (*sequence_number)(void *ctx, const char *topic, int32_t partition, kp_hint *hint);
    void (*increment_sequence_number)(void *ctx, const char *topic, int32_t partition,
                                      int32_t n, kp_hint *hint);
    /* addInFlightBatch(batch) */
    void (*add_in_flight_batch)(void *ctx, kp_batch *b);
    /* nextBatchBySequence(tp) != null (reenqueue sanity check) */
    bool (*has_in_flight_batches)(void *ctx, const char *topic, int32_t partition);
    /* Optional (NULL: the single calls above). The drain's calls for the
     * deque's first batch fused, for a manager that answers them from one
     * table entry: shouldStopDrainBatchesForPartition's manager part
     * (send_allowed, producer_id_and_epoch's validity, then
     * has_unresolved_sequence for a batch without sequence or
     * first_in_flight_sequence for one with, in that order): true = stop,
     * nothing changed. Otherwise, for a batch without sequence,
     * setProducerState(producerIdAndEpoch(), sequenceNumber(tp)) +
     * incrementSequenceNumber + addInFlightBatch, and false. */
    bool (*drain_take)(void *ctx, kp_batch *first, const char *topic, int32_t partition, kp_hint *hint);
} kp_txn_hooks;

/* cfg (borrowed): batch.size, linger.ms, retry.backoff.ms,
 * delivery.timeout.ms, compression.type, bug.KAFKA-13834 are read at
 * creation. pool and obs borrowed; obs may be NULL. Creates its own
 * compression estimator. */
kp_accumulator *kp_accumulator_new(const kp_config *cfg, kp_buffer_pool *pool,
                                   const kp_observer *obs);
/* Frees every batch (no callbacks: abort first if they matter), buffers go
 * back to the pool. NULL ok. */
void kp_accumulator_destroy(kp_accumulator *acc);

void kp_accumulator_set_txn_hooks(kp_accumulator *acc, const kp_txn_hooks *hooks);
/* Batches created from now on complete their records through wrap (see
 * kp_record_wrap in kp_batch.h; NULL: each record's callback directly).
 * Borrowed: must outlive the accumulator. */
void kp_accumulator_set_record_wrap(kp_accumulator *acc, const kp_record_wrap *wrap);
/* Optional clock for events emitted by batches (done/aborted). Borrowed. */
void kp_accumulator_set_clock(kp_accumulator *acc, const kp_clock *clock);
kp_compression_estimator *kp_accumulator_estimator(kp_accumulator *acc);

/* ------------------------------------------------------------------ */
/* append                                                              */
/* ------------------------------------------------------------------ */

typedef enum kp_append_status {
    KP_APPEND_OK          = 0, /* appended; see kp_append_result */
    KP_APPEND_WOULD_BLOCK = 1, /* waiter queued in the pool */
    KP_APPEND_ERROR       = 2  /* *err set, message in errbuf; no callback */
} kp_append_status;

/* RecordAppendResult: the batch and index are the "future". */
typedef struct kp_append_result {
    kp_batch *batch;
    int32_t relative_offset;
    bool batch_is_full;     /* deque has > 1 batch or the last one is full */
    bool new_batch_created;
    /* batch_is_full || new_batch_created: the producer's "wake the
     * sender" test, in one byte stored once, so the caller reads it with
     * one byte load (the compiler merged the two-bool test into one 16-bit
     * load over two byte stores, which cannot be forwarded from them and
     * stalled: perf, 38-62% of kp_producer_send's cycles) */
    bool wake_sender;
} kp_append_result;

/* RecordAccumulator.append(..., abortOnNewBatch = true) without the
 * append (KIP-480, 2.4): true when appending this record to topic-partition
 * would have to start a new batch (no batch in the deque, or the last one
 * has no room for it). Changes nothing. */
bool kp_accumulator_would_start_new_batch(const kp_accumulator *acc, const char *topic, int32_t partition,
                                          int64_t timestamp, kp_slice key, kp_slice value,
                                          const kp_header *headers, int header_count);
/* The same with kvh = kp_record_kvh_size(key, value, headers, header_count). */
bool kp_accumulator_would_start_new_batch_kvh(const kp_accumulator *acc, const char *topic,
                                              int32_t partition, int64_t timestamp, size_t kvh);
/* The same for a resolved topic (kp_accumulator_topic). */
bool kp_accumulator_would_start_new_batch_t(const kp_accumulator *acc, const kp_acc_topic *topic,
                                            int32_t partition, int64_t timestamp, size_t kvh);

/* RecordAccumulator.append. key/value len -1 = null. max_block_ms: what is
 * left of max.block.ms after the metadata wait. waiter: embedded in the
 * caller, IDLE on a first call (or SERVED/FAILED when re-called after its
 * callback). Errors: KP_ERR__CLOSED ("Producer closed while send in
 * progress"), KP_ERR__RECORD_TOO_LARGE (record bigger than buffer.memory),
 * KP_ERR__BUFFER_EXHAUSTED (waiter failed / max_block_ms 0), KP_ERR__NOMEM.
 * On error no callback will fire for this record. */
kp_append_status kp_accumulator_append(kp_accumulator *acc, const char *topic,
                                       int32_t partition, int64_t timestamp,
                                       kp_slice key, kp_slice value,
                                       const kp_header *headers, int header_count,
                                       kp_record_cb *cb, void *cb_ctx,
                                       int64_t now, int64_t max_block_ms,
                                       kp_pool_waiter *waiter, kp_append_result *res,
                                       kp_err *err, char *errbuf, size_t errbuf_len);
/* The same for a resolved topic (kp_accumulator_topic), with kvh =
 * kp_record_kvh_size(key, value, headers, header_count) computed once by
 * the caller (kp_producer_send sizes each record once for its size check):
 * the send path's append, which finds the partition's deque by index. */
kp_append_status kp_accumulator_append_t(kp_accumulator *acc, kp_acc_topic *topic,
                                         int32_t partition, int64_t timestamp,
                                         kp_slice key, kp_slice value,
                                         const kp_header *headers, int header_count,
                                         size_t kvh, kp_record_cb *cb, void *cb_ctx,
                                         int64_t now, int64_t max_block_ms,
                                         kp_pool_waiter *waiter, kp_append_result *res,
                                         kp_err *err, char *errbuf, size_t errbuf_len);

/* ------------------------------------------------------------------ */
/* ready / drain                                                       */
/* ------------------------------------------------------------------ */

typedef struct kp_ready_result {
    const int32_t *ready_nodes;          /* sorted ascending */
    size_t ready_count;
    int64_t next_ready_check_delay_ms;   /* INT64_MAX if nothing pending */
    const char *const *unknown_leader_topics; /* first-seen order */
    size_t unknown_leader_count;
} kp_ready_result;

/* RecordAccumulator.ready(cluster, now). A partition's head batch makes its
 * leader ready when sendable (more than one batch queued or full; waited
 * >= linger.ms, or >= retry.backoff.ms when attempts > 0; pool has waiters;
 * closed; flush in progress) and not backing off (attempts > 0 and waited
 * < retry.backoff.ms). Muted partitions and partitions of an already-ready
 * leader are skipped. Unknown leader with batches queued -> the topic is
 * reported. next_ready_check_delay = min over not-ready heads of the time
 * left to linger / backoff. Emits KP_EV_READY per ready node. A call
 * after one that found no node ready and no unknown leader answers without
 * walking the deques while none changed but by new batches of empty deques
 * and none of their answers can have changed yet (stats.ready_walks counts
 * the walks). */
void kp_accumulator_ready(kp_accumulator *acc, const kp_cluster *cl, int64_t now,
                          kp_ready_result *out);

typedef struct kp_drained_node {
    int32_t node;
    kp_batch *const *batches;  /* in drain order */
    size_t count;
} kp_drained_node;

typedef struct kp_drain_result {
    const kp_drained_node *nodes; /* one per node asked, same order */
    size_t node_count;
    size_t batch_count;           /* total */
} kp_drain_result;

/* RecordAccumulator.drain(cluster, nodes, maxSize, now): per node, over the
 * partitions it leads (Cluster.partitionsForNode order) from the node's
 * start index round-robin: skip muted, empty and backing-off partitions;
 * stop at the first head batch that would push the total past max_size
 * once one batch is taken; stop at shouldStopDrainBatchesForPartition (txn
 * hooks); take the head, assign producer id/epoch/sequence when idempotent
 * and it has none, close it, mark it drained. Emits KP_EV_DRAIN per batch.
 * The batches now belong to the caller (the sender) until it completes
 * them and calls kp_accumulator_deallocate or re-enqueues them. */
void kp_accumulator_drain(kp_accumulator *acc, const kp_cluster *cl,
                          const int32_t *nodes, size_t node_count, int32_t max_size,
                          int64_t now, kp_drain_result *out);

/* ------------------------------------------------------------------ */
/* expiry, retry, split, mute                                          */
/* ------------------------------------------------------------------ */

/* RecordAccumulator.expiredBatches(now): per partition, head first, while
 * the head has reached delivery.timeout.ms (mute ignored): remove it, abort
 * its record appends, collect it. Also recomputes the next expiry time.
 * The caller fails each (kp_batch_done with KP_ERR__TIMED_OUT) and
 * deallocates it. Emits KP_EV_BATCH_EXPIRED. */
size_t kp_accumulator_expired_batches(kp_accumulator *acc, int64_t now,
                                      kp_batch *const **out);
void kp_accumulator_reset_next_batch_expiry_time(kp_accumulator *acc);
/* maybeUpdateNextBatchExpiryTime: used by the sender for in-flight batches. */
void kp_accumulator_maybe_update_next_batch_expiry_time(kp_accumulator *acc,
                                                        const kp_batch *b);
/* The same for a batch created at created_ms. */
void kp_accumulator_maybe_update_next_batch_expiry_time_ms(kp_accumulator *acc, int64_t created_ms);
int64_t kp_accumulator_next_expiry_time_ms(const kp_accumulator *acc);
/* A lower bound of the creation times of the deques' head batches
 * (INT64_MAX: no head since the last expiry walk): lowered whenever a
 * batch becomes a head, exact after kp_accumulator_expired_batches. While
 * now - bound < delivery.timeout.ms no queued batch can expire. */
int64_t kp_accumulator_head_created_lb(const kp_accumulator *acc);
int64_t kp_accumulator_delivery_timeout_ms(const kp_accumulator *acc);

/* RecordAccumulator.reenqueue: attempts++, lastAttempt = now, to the FRONT
 * of its deque (in sequence order when idempotent). */
void kp_accumulator_reenqueue(kp_accumulator *acc, kp_batch *b, int64_t now);

/* RecordAccumulator.splitAndReenqueue(bigBatch): resets the topic's ratio
 * estimate to max(1, big batch ratio), splits into batch.size pieces,
 * puts them at the front in order (tracked as in flight when idempotent),
 * and adds them to the incomplete set. Returns the number of pieces, or -1
 * with *err. The big batch itself is NOT deallocated: the caller does that
 * (Sender.completeBatch calls deallocate right after). */
int kp_accumulator_split_and_reenqueue(kp_accumulator *acc, kp_batch *big, int64_t now,
                                       kp_err *err);

/* mutePartition: mute until further notice (Long.MAX_VALUE). */
void kp_accumulator_mute_partition(kp_accumulator *acc, const char *topic,
                                   int32_t partition, int64_t now);
/* unmutePartition(tp, throttleUntilTimeMs): muted while now < until. */
void kp_accumulator_unmute_partition(kp_accumulator *acc, const char *topic,
                                     int32_t partition, int64_t throttle_until_ms,
                                     int64_t now);
bool kp_accumulator_is_muted(const kp_accumulator *acc, const char *topic,
                             int32_t partition, int64_t now);

/* ------------------------------------------------------------------ */
/* completion, flush, close                                            */
/* ------------------------------------------------------------------ */

/* RecordAccumulator.deallocate: removes the batch from the incomplete set,
 * gives its pooled buffer back (not for split pieces), and frees or
 * recycles the batch. The pointer is dead afterwards. */
void kp_accumulator_deallocate(kp_accumulator *acc, kp_batch *b);

/* beginFlush: flushesInProgress++ and returns a token: the flush is
 * complete when no incomplete batch created before it remains
 * (kp_accumulator_flush_completed). */
uint64_t kp_accumulator_begin_flush(kp_accumulator *acc, int64_t now);
/* True when every batch that was incomplete at begin_flush is done.
 * count_split_pieces true: pieces of a batch split after the flush began
 * count as that batch (fixed behaviour); false: as in 2.1 (KAFKA-19479),
 * the original counts as done once split. */
bool kp_accumulator_flush_completed(const kp_accumulator *acc, uint64_t token,
                                    bool count_split_pieces);
/* awaitFlushCompletion's finally: flushesInProgress--. */
void kp_accumulator_end_flush(kp_accumulator *acc, int64_t now);
bool kp_accumulator_flush_in_progress(const kp_accumulator *acc);

bool kp_accumulator_has_undrained(const kp_accumulator *acc);
bool kp_accumulator_has_incomplete(const kp_accumulator *acc);
size_t kp_accumulator_incomplete_count(const kp_accumulator *acc);
/* Batches queued (undrained) for one partition. */
size_t kp_accumulator_queued_batches(const kp_accumulator *acc, const char *topic,
                                     int32_t partition);
/* The i-th queued batch of a partition (0 = head), NULL past the end. */
kp_batch *kp_accumulator_queued_batch(const kp_accumulator *acc, const char *topic,
                                      int32_t partition, size_t i);

/* abortIncompleteBatches (forced close): every incomplete batch aborted
 * (callbacks with err/errmsg, default "Producer is closed forcefully.")
 * and deallocated; queues cleared. */
void kp_accumulator_abort_incomplete_batches(kp_accumulator *acc, kp_err err,
                                             const char *errmsg);
/* abortBatches(reason) (Sender.maybeAbortBatches on a fatal error).
 * Queued batches are aborted and deallocated. Batches in flight (drained,
 * still held by the sender) are aborted (callbacks fire) and their pooled
 * buffer goes back to the pool as in Java, but the struct stays valid: a
 * later kp_batch_done on it returns false (already ABORTED); the sender may
 * call kp_accumulator_deallocate on it to free it early, otherwise it is
 * freed with the accumulator. The sender must not read its records after
 * the abort. */
void kp_accumulator_abort_batches(kp_accumulator *acc, kp_err err, const char *errmsg);
/* abortUndrainedBatches(reason): only batches still undrained (idempotent:
 * without a sequence; else not closed). */
void kp_accumulator_abort_undrained_batches(kp_accumulator *acc, kp_err err,
                                            const char *errmsg);

/* close(): later appends fail; ready() treats every head as sendable. */
void kp_accumulator_close(kp_accumulator *acc);
bool kp_accumulator_is_closed(const kp_accumulator *acc);
/* kp_accumulator_is_closed's answer in place, valid as long as acc: the
 * producer reads it on every send without a call. */
const bool *kp_accumulator_closed_ref(const kp_accumulator *acc);

/* The topic's handle: its entry, made (the name interned) on first use by
 * this call or an append. NULL only when out of memory. */
kp_acc_topic *kp_accumulator_topic(kp_accumulator *acc, const char *topic);
/* The handle's interned copy of the name (the pointer its batches, the
 * events about them and the record metadata of their callbacks carry):
 * never written after it is made, it lives as long as the accumulator, so
 * a caller may recognise it by address (the harness's run digest does). */
const char *kp_acc_topic_name(const kp_acc_topic *t);
/* Its place among the accumulator's topics: 0, 1, ... in first-use
 * order, fixed for the accumulator's life (a caller may index its own
 * per-topic data by it). */
size_t kp_acc_topic_index(const kp_acc_topic *t);
/* The interned copy of `topic` (kp_acc_topic_name), NULL if the topic
 * was never used (no append, no kp_accumulator_topic). */
const char *kp_accumulator_topic_name(const kp_accumulator *acc, const char *topic);

/* Checks the structure: each queued batch belongs to its partition, is
 * open or closed-for-append, not done, and is in the incomplete set; the
 * incomplete count matches. False with a reason if broken. */
bool kp_accumulator_verify(const kp_accumulator *acc, char *why, size_t n);

/* Counters for reports and tests. */
typedef struct kp_accumulator_stats {
    uint64_t appends;
    uint64_t batches_created;
    uint64_t batches_recycled;   /* new batches that reused a struct */
    uint64_t batch_struct_mallocs;
    uint64_t thunk_growths;      /* thunk column growths, all batches */
    uint64_t staging_mallocs;
    uint64_t drained;
    uint64_t expired;
    uint64_t reenqueued;
    uint64_t splits;
    uint64_t ready_walks;        /* ready() calls that walked the deques (the
                                  * others' answer was known: no change since) */
} kp_accumulator_stats;
void kp_accumulator_stats_get(const kp_accumulator *acc, kp_accumulator_stats *out);

#endif
