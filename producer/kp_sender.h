/*
 * kp_sender.h — the Sender of kafka-clients 2.1.1 (the annotated
 * Sender.java in ../shared/seeds/), as an actor on one event loop.
 *
 * kp_sender_run_once(s, now) is one iteration of Sender.run's loop
 * (Sender.run(long now) in the seed, runOnce in later Kafka):
 *
 *   1. the transaction/idempotence preamble: reset the producer id when a
 *      partition's unresolved sequences cannot resolve; an idempotent
 *      producer without a producer id sends InitProducerId (null
 *      transactional id, timeout INT32_MAX) to leastLoadedNode and, until
 *      it has one or is in a fatal state, does nothing but client.poll
 *      (retry.backoff.ms); fatal error -> abort the accumulator's batches;
 *      a transactional producer instead sends its TransactionManager's
 *      next request (maybeSendTransactionalRequest: FindCoordinator to
 *      leastLoadedNode, InitProducerId / AddPartitionsToTxn / EndTxn to the
 *      coordinator; when completing, abort undrained batches (abort) and
 *      begin a flush; EndTxn only once nothing is incomplete) and, while
 *      one is pending or in flight, only polls; an abortable error fails
 *      the undrained batches; unresolved sequences are fatal;
 *   2. sendProducerData: ready -> unknown leaders request a metadata
 *      update -> drop nodes the client is not ready for -> drain -> record
 *      in-flight batches -> mute partitions (max.in.flight = 1) -> expire
 *      queued and in-flight batches at delivery.timeout.ms (both walks
 *      skipped while a lower bound on the heads' creation times says no
 *      head can have expired; the next expiry time is then computed only
 *      if it could shorten the poll timeout) -> metrics -> poll timeout ->
 *      one ProduceRequest per node;
 *   3. client.poll.
 *
 * It returns how long the driver may wait before calling it again (0 when
 * it should run again at once). The driver also calls it again early when
 * env.wakeup() fires (Sender.wakeup, a transport readiness callback).
 *
 * Where Java blocks (maybeWaitForProducerId's awaitReady/sendAndReceive)
 * the sender keeps a small state instead: an InitProducerId in flight, or
 * a backoff deadline; each run_once advances it.
 *
 * Close: kp_sender_initiate_close (running = false, accumulator closed);
 * the sender keeps running until nothing is undrained and nothing is in
 * flight, then closes the network client (kp_sender_is_closed becomes
 * true). kp_sender_force_close additionally aborts every incomplete batch
 * (callbacks with KP_ERR__ABORTED "Producer is closed forcefully.") at the
 * next run_once.
 *
 * Bug switches (kp_config, default off):
 *   bug.KAFKA-8325: on MESSAGE_TOO_LARGE the split batch stays in the
 *     sender's in-flight list (2.1.0/2.1.1 did not remove it); at
 *     delivery.timeout.ms it is "expired" again: its records' callbacks
 *     fire a second time with a TimeoutException and its pooled buffer is
 *     held until then (in Java: deallocated twice). In C the double free
 *     itself is not reproduced, the duplicate callbacks and the held memory
 *     are.
 *   bug.KAFKA-8484: a failed batch of an earlier producer id/epoch
 *     rewinds the current id's sequences (2.1.1 failBatch); fixed (2.3):
 *     it only sets the error state and leaves the in-flight set.
 *   bug.KAFKA-8350 and bug.KAFKA-19479 live in the accumulator (split size)
 *     and the facade (flush) respectively.
 *
 * Memory: the sender borrows every dependency (config, accumulator,
 * metadata, network client, transaction manager, metrics, env), which must
 * outlive it. It owns its in-flight bookkeeping: per partition the batches
 * sent and not completed (Java inFlightBatches), and per request the
 * batches it carries (recycled request records, no allocation per record).
 */
#ifndef KP_SENDER_H
#define KP_SENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_accumulator.h"
#include "kp_config.h"
#include "kp_env.h"
#include "kp_metadata.h"
#include "kp_metrics.h"
#include "kp_network_client.h"
#include "kp_txn_manager.h"

typedef struct kp_sender kp_sender;

typedef struct kp_sender_deps {
    const kp_config *cfg;        /* validated: acks, retries, max.in.flight, ... */
    kp_accumulator *acc;
    kp_metadata *md;
    kp_netclient *nc;
    kp_txn_manager *tm;          /* NULL unless idempotent / transactional */
    kp_metrics *metrics;         /* may be NULL */
    const kp_env *env;
} kp_sender_deps;

kp_sender *kp_sender_new(const kp_sender_deps *d);
void kp_sender_destroy(kp_sender *s); /* NULL ok; the client is not closed */

/* One Sender loop iteration; returns ms the driver may sleep. After the
 * sender closed, returns INT64_MAX and does nothing. */
int64_t kp_sender_run_once(kp_sender *s, int64_t now_ms);

/* Sender.wakeup: env.wakeup(). */
void kp_sender_wakeup(kp_sender *s);
/* Sender.initiateClose: accumulator.close(), running = false, wakeup. */
void kp_sender_initiate_close(kp_sender *s);
/* Sender.forceClose: forceClose = true, then initiateClose. */
void kp_sender_force_close(kp_sender *s);
bool kp_sender_is_running(const kp_sender *s);
/* The loop finished: everything sent (or aborted) and the client closed. */
bool kp_sender_is_closed(const kp_sender *s);

/* Batches sent and not yet completed (Java inFlightBatches, all partitions). */
int kp_sender_in_flight_batches(const kp_sender *s);

/* Counters for reports, tests and `kpsim produce`. */
typedef struct kp_sender_stats {
    uint64_t produce_requests;
    uint64_t batches_sent;
    uint64_t retries;            /* batches re-enqueued */
    uint64_t splits;             /* batches split */
    uint64_t expired;            /* batches failed at delivery.timeout.ms */
    uint64_t failed;             /* batches failed (any error, expiry included) */
    uint64_t duplicates;         /* DUPLICATE_SEQUENCE_NUMBER answers (success without offset) */
    uint64_t init_producer_id;   /* InitProducerId requests sent */
    uint64_t producer_id_resets;
} kp_sender_stats;
void kp_sender_stats_get(const kp_sender *s, kp_sender_stats *out);

#endif
