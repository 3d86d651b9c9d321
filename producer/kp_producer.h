/*
 * kp_producer.h — KafkaProducer (kafka-clients 2.1.1): the facade that
 * wires config, metadata, partitioner, serializers, interceptors,
 * BufferPool, RecordAccumulator, NetworkClient, TransactionManager
 * (idempotence), metrics and the Sender, and runs them as two actors on
 * the caller's single-threaded loop (DESIGN.md "Threads and blocking").
 *
 * WHAT IS SYNCHRONOUS AND WHAT IS A CALLBACK
 *
 *   kp_producer_send(p, rec, cb, ctx)  — KafkaProducer.send:
 *     interceptors.onSend, then doSend (waitOnMetadata, serialize,
 *     partition, ensureValidRecordSize, accumulator.append, wakeup).
 *     Returns one of:
 *       KP_SEND_OK       appended; cb(ctx, md, err, msg) is called exactly
 *                        once later, from kp_producer_run_once (or from
 *                        close/destroy for aborted records).
 *       KP_SEND_ERROR    failed synchronously (*err, message in errbuf):
 *                        cb is NEVER called for this record (libuv's
 *                        promise). Interceptors' onSendError did run.
 *                        E.g. RecordTooLarge, serialization, closed,
 *                        invalid partition, topic known unauthorized.
 *       KP_SEND_BLOCKED  where Java's send would block (metadata unknown in
 *                        waitOnMetadata, or BufferPool exhausted): the
 *                        producer copied the record and finishes the send
 *                        itself when the condition clears; cb is called
 *                        exactly once, later — with the Java error if the
 *                        wait fails: KP_ERR__TIMED_OUT "Failed to update
 *                        metadata after N ms.", KP_ERR__BUFFER_EXHAUSTED
 *                        "Failed to allocate memory within the configured
 *                        max blocking time N ms.", or the error doSend met
 *                        after the wait (as 2.1 doSend reports ApiExceptions
 *                        through the callback). When the blocked send has
 *                        been appended or failed, on_unblocked fires.
 *     One application actor: while a send is blocked, the application must
 *     not send again (it gets KP_SEND_ERROR / KP_ERR__STATE, no callback)
 *     until on_unblocked fires or kp_producer_send_blocked() is false.
 *
 *   kp_producer_flush(p, done, ctx)  — KafkaProducer.flush without
 *     blocking: beginFlush + wakeup; done(ctx) is called once, from a later
 *     kp_producer_run_once, when every batch incomplete at the call has
 *     completed (with bug.KAFKA-19479=true: 2.1's early return once a
 *     split batch's original completes, before its pieces are acked).
 *     kp_producer_flush_pending() queries it.
 *
 *   kp_producer_close(p, timeout_ms, done, ctx)  — close(timeout): the
 *     sender stops accepting, drains everything (in flight included) and
 *     stops; if that takes longer than timeout_ms, forceClose: every
 *     incomplete batch is aborted (callbacks with KP_ERR__ABORTED). 0 =
 *     forceClose at once; KP_CLOSE_FOREVER waits as long as it takes.
 *     done(ctx) fires once, from kp_producer_run_once, when the producer
 *     is closed (kp_producer_is_closed). A blocked send is failed with
 *     KP_ERR__CLOSED "Producer closed while send in progress". Called from
 *     a record callback (i.e. inside run_once, Java's I/O thread) with
 *     timeout_ms > 0 it is overridden to 0, as Java does.
 *
 *   kp_producer_run_once(p)  — the Sender actor: one Sender.run iteration
 *     plus the producer's own timers (blocked send deadline, BufferPool
 *     waiter deadlines, close deadline) and completions (flush, close).
 *     Returns the ms the driver may wait before calling it again; the
 *     driver calls it earlier when env.wakeup fires or the transport
 *     reports readiness. Record callbacks run inside it.
 *
 *   TRANSACTIONS (transactional.id set; enable.idempotence follows it) —
 *   KafkaProducer.initTransactions / beginTransaction / commitTransaction /
 *   abortTransaction without blocking. Each call returns KP_ERR_NONE, or
 *   fails synchronously with the Java exception as an error (its message:
 *   kp_producer_txn_error_message) and then its callback is NEVER called:
 *     KP_ERR__STATE  no transactional.id ("Cannot use transactional methods
 *                    without enabling transactions ..."), an illegal
 *                    transition ("TransactionalId T: Invalid transition
 *                    attempted from state A to state B"), or another
 *                    transactional call of this actor still in progress;
 *     the last error (e.g. KP_ERR_INVALID_PRODUCER_EPOCH when fenced) when
 *                    the manager is in an error state (maybeFailWithError);
 *     KP_ERR__CLOSED after close.
 *   Otherwise done(ctx, err, msg) is called exactly once, from a later
 *   kp_producer_run_once: err KP_ERR_NONE (msg NULL) on success, else the
 *   error of the failed request (fatal ones leave the producer in
 *   FATAL_ERROR: only close is left), KP_ERR__TIMED_OUT for
 *   initTransactions after max.block.ms ("Timeout expired while
 *   initializing transactional state in Nms."; calling it again waits for
 *   the same InitProducerId), or KP_ERR__CLOSED when the producer closed
 *   first. commit flushes (sends every record of the transaction and waits
 *   for their acks) before EndTxn; abort fails the records not yet sent
 *   (KP_ERR__ABORTED "Failing batch since transaction was aborted").
 *   Sends in a transaction: the first send to a partition adds it
 *   (AddPartitionsToTxn before its first batch goes out); a send outside
 *   IN_TRANSACTION fails synchronously with KP_ERR__STATE ("Cannot call
 *   send in state READY"), in an error state with the last error.
 *   sendOffsetsToTransaction is not provided (no group coordinator).
 *
 * Memory: the producer copies the config and owns every component; env is
 * copied (its ctx pointers are borrowed). Record key/value bytes are copied
 * into the batch at append (or into a private copy while blocked); the
 * caller's record may be reused as soon as send returns. Callback
 * arguments are borrowed for the duration of the call.
 */
#ifndef KP_PRODUCER_H
#define KP_PRODUCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_batch.h"
#include "kp_config.h"
#include "kp_env.h"
#include "kp_interceptor.h"
#include "kp_metrics.h"
#include "kp_sender.h"

#define KP_CLOSE_FOREVER INT64_MAX

typedef struct kp_producer kp_producer;

typedef enum kp_send_status {
    KP_SEND_OK = 0,
    KP_SEND_ERROR = 1,
    KP_SEND_BLOCKED = 2
} kp_send_status;

typedef void kp_producer_done_fn(void *ctx);

/* KafkaProducer(config): validates a copy of cfg (2.1 cross-checks),
 * bootstraps the metadata from bootstrap.servers. NULL with *err and a
 * message in errbuf on a bad config (KP_ERR__CONFIG). */
kp_producer *kp_producer_new(const kp_config *cfg, const kp_env *env, kp_err *err, char *errbuf,
                             size_t errbuf_len);
/* Frees everything. Records still incomplete get no callback: close first.
 * NULL ok. */
void kp_producer_destroy(kp_producer *p);

kp_send_status kp_producer_send(kp_producer *p, const kp_producer_record *rec, kp_record_cb *cb,
                                void *cb_ctx, kp_err *err, char *errbuf, size_t errbuf_len);
bool kp_producer_send_blocked(const kp_producer *p);
void kp_producer_set_on_unblocked(kp_producer *p, kp_producer_done_fn *fn, void *ctx);

void kp_producer_flush(kp_producer *p, kp_producer_done_fn *done, void *ctx);
bool kp_producer_flush_pending(const kp_producer *p);

void kp_producer_close(kp_producer *p, int64_t timeout_ms, kp_producer_done_fn *done, void *ctx);
bool kp_producer_is_closed(const kp_producer *p);

int64_t kp_producer_run_once(kp_producer *p);

/* ---- transactions (see above) ----------------------------------------- */
typedef void kp_producer_txn_cb(void *ctx, kp_err err, const char *msg);
kp_err kp_producer_init_transactions(kp_producer *p, kp_producer_txn_cb *done, void *ctx);
kp_err kp_producer_begin_transaction(kp_producer *p);
kp_err kp_producer_commit_transaction(kp_producer *p, kp_producer_txn_cb *done, void *ctx);
kp_err kp_producer_abort_transaction(kp_producer *p, kp_producer_txn_cb *done, void *ctx);
/* Message of the last synchronous failure of a transactional call ("" if
 * none); borrowed until the next transactional call. */
const char *kp_producer_txn_error_message(const kp_producer *p);
/* TransactionManager state (UNINITIALIZED without a transaction manager). */
kp_txn_state kp_producer_transaction_state(const kp_producer *p);
/* A transactional call's callback is still to come. */
bool kp_producer_txn_call_pending(const kp_producer *p);

/* Access for reports, tests and the CLI (borrowed). */
kp_metrics *kp_producer_metrics(kp_producer *p);
const kp_config *kp_producer_config(const kp_producer *p);
void kp_producer_sender_stats(const kp_producer *p, kp_sender_stats *out);
/* The user interceptor chain (kp_interceptors_add before sending). */
kp_interceptors *kp_producer_interceptors(kp_producer *p);
/* The producer's own copy of a topic name once a record of that topic was
 * sent (NULL before): the pointer its batches, their events and the
 * record metadata of their callbacks carry; unchanged and valid until
 * kp_producer_destroy (kp_accumulator_topic_name). A caller that names
 * the topic of later records by this pointer saves the send its one
 * lookup of the topic by name. */
const char *kp_producer_topic_name(const kp_producer *p, const char *topic);
/* Buffer pool whole again (after close): every byte back. */
bool kp_producer_pool_is_whole(const kp_producer *p);
/* Metadata requests sent by the DefaultMetadataUpdater (refreshes). */
int64_t kp_producer_metadata_requests(const kp_producer *p);
/* Records whose callback has not fired yet (sent and not completed). */
int64_t kp_producer_pending_records(const kp_producer *p);

#endif
