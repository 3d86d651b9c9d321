/*
 * kp_txn_manager.h — TransactionManager of kafka-clients 2.1.1, the
 * whole: producer id and epoch, sequence numbers per partition,
 * in-flight batches ordered by sequence, last acked sequence and offset,
 * unresolved sequences, the fatal / abortable error states, and the
 * transactional half: the state machine UNINITIALIZED .. FATAL_ERROR with
 * one setter that checks State.isTransitionValid, the partitions of the
 * current transaction (new -> pending -> added), the transaction
 * coordinator, and the queue of TxnRequestHandlers (FindCoordinator,
 * InitProducerId, AddPartitionsToTxn, EndTxn) that the Sender sends.
 * An idempotent producer (no transactional.id) only uses the producer-id
 * part and the error states.
 *
 * Who calls what (as in Java):
 *   - Sender.runOnce preamble: should_reset_producer_state_after_resolving_
 *     sequences, reset_producer_id, has_producer_id, set_producer_id_and_epoch
 *     (InitProducerId), has_fatal_error, last_error.
 *   - RecordAccumulator.drain (kp_accumulator): is_send_to_partition_allowed,
 *     producer_id_and_epoch, has_unresolved_sequence, first_in_flight_sequence,
 *     sequence_number, increment_sequence_number, add_in_flight_batch.
 *   - Sender.completeBatch / failBatch: can_retry, has_producer_id_and_epoch,
 *     maybe_update_last_acked_sequence, update_last_acked_offset,
 *     remove_in_flight_batch, adjust_sequences_due_to_failed_batch,
 *     mark_sequence_unresolved, transition_to_fatal_error.
 *   - KafkaProducer (kp_producer): initialize_transactions,
 *     begin_transaction, begin_commit, begin_abort,
 *     maybe_add_partition_to_transaction (doSend), forget_result.
 *   - Sender.maybeSendTransactionalRequest: next_request_handler,
 *     coordinator, lookup_coordinator, retry / requeue, handler_sent; the
 *     netclient calls handler_encode and handler_on_complete.
 *
 * Partitions are keyed by (topic string, partition) — compared as strings,
 * never by pointer — and kept in an array in first-use order, so nothing
 * depends on addresses. Entries are only ever appended, and the whole
 * table is dropped at once (reset_producer_id), which bumps its
 * generation: so a kp_hint (kp_hint.h) — an index plus the
 * generation it was taken in — names the same entry for as long as the
 * generation holds, and the _h calls below and the calls taking a batch
 * (through the batch's own hint) skip the lookup by name on a hit. In-flight batches per partition are kept sorted by
 * base sequence (Java: a PriorityQueue by baseSequence).
 *
 * Memory: the manager owns its partition table and copies of topic names,
 * the transaction's partition list and every request handler (one taken by
 * the Sender is lent to the request in flight and comes back through
 * handler_on_complete; destroy frees queued and in-flight ones). Batches in
 * the in-flight lists are borrowed (owned by the accumulator / sender) and
 * must be removed (remove_in_flight_batch or reset_producer_id) before they
 * are freed. kp_txn_result objects are the caller's.
 *
 * Invariants (checked by kp_txn_verify): each in-flight list is strictly
 * increasing in base sequence; every in-flight batch has a sequence; next
 * sequence >= 0; state transitions only through the one setter.
 */
#ifndef KP_TXN_MANAGER_H
#define KP_TXN_MANAGER_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_env.h"
#include "kp_err.h"
#include "kp_record_batch.h" /* KP_NO_PRODUCER_ID, KP_NO_PRODUCER_EPOCH, KP_NO_SEQUENCE */

#include "kp_batch.h" /* kp_batch, kp_hint */

typedef struct kp_pid_epoch {
    int64_t producer_id;   /* KP_NO_PRODUCER_ID if none */
    int16_t epoch;         /* KP_NO_PRODUCER_EPOCH if none */
} kp_pid_epoch;

typedef enum kp_txn_state {
    KP_TXN_UNINITIALIZED = 0,
    KP_TXN_INITIALIZING,
    KP_TXN_READY,
    KP_TXN_IN_TRANSACTION,
    KP_TXN_COMMITTING_TRANSACTION,
    KP_TXN_ABORTING_TRANSACTION,
    KP_TXN_ABORTABLE_ERROR,
    KP_TXN_FATAL_ERROR
} kp_txn_state;

const char *kp_txn_state_name(kp_txn_state s);

typedef struct kp_txn_manager kp_txn_manager;

/* transactional_id NULL for an idempotent producer (copied otherwise). */
kp_txn_manager *kp_txn_manager_new(const char *transactional_id, int32_t transaction_timeout_ms,
                                   int64_t retry_backoff_ms, const kp_env *env);
void kp_txn_manager_destroy(kp_txn_manager *tm); /* NULL ok */

/* ---- identity and state -------------------------------------------- */
bool kp_txn_is_transactional(const kp_txn_manager *tm);
const char *kp_txn_transactional_id(const kp_txn_manager *tm); /* NULL if none */
kp_txn_state kp_txn_get_state(const kp_txn_manager *tm);
bool kp_txn_has_error(const kp_txn_manager *tm);          /* abortable or fatal */
bool kp_txn_has_fatal_error(const kp_txn_manager *tm);
bool kp_txn_has_abortable_error(const kp_txn_manager *tm);
kp_err kp_txn_last_error(const kp_txn_manager *tm);       /* KP_ERR_NONE if none */
/* transitionToFatalError: always allowed. */
void kp_txn_transition_to_fatal_error(kp_txn_manager *tm, kp_err err);
/* transitionToAbortableError: skipped while aborting. */
void kp_txn_transition_to_abortable_error(kp_txn_manager *tm, kp_err err);
/* isSendToPartitionAllowed: not in a fatal state (and, transactional,
 * the partition is in the transaction). */
bool kp_txn_is_send_to_partition_allowed(const kp_txn_manager *tm, const char *topic, int32_t partition);

/* ---- producer id ------------------------------------------------------- */
bool kp_txn_has_producer_id(const kp_txn_manager *tm);
bool kp_txn_has_producer_id_of(const kp_txn_manager *tm, int64_t producer_id);
bool kp_txn_has_producer_id_and_epoch(const kp_txn_manager *tm, int64_t producer_id, int16_t epoch);
kp_pid_epoch kp_txn_producer_id_and_epoch(const kp_txn_manager *tm);
void kp_txn_set_producer_id_and_epoch(kp_txn_manager *tm, kp_pid_epoch pe);
/* resetProducerId: forget pid, sequences, in-flight lists, unresolved
 * partitions and acked offsets (non-transactional only). why is for the
 * event. */
void kp_txn_reset_producer_id(kp_txn_manager *tm, const char *why);

/* ---- sequences ----------------------------------------------------------- */
int32_t kp_txn_sequence_number(kp_txn_manager *tm, const char *topic, int32_t partition);
/* The same with a lookup cache for (topic, partition) (NULL: none). */
int32_t kp_txn_sequence_number_h(kp_txn_manager *tm, const char *topic, int32_t partition,
                                 kp_hint *hint);
void kp_txn_increment_sequence_number(kp_txn_manager *tm, const char *topic, int32_t partition,
                                      int32_t increment);
void kp_txn_increment_sequence_number_h(kp_txn_manager *tm, const char *topic, int32_t partition,
                                        int32_t increment, kp_hint *hint);
bool kp_txn_is_next_sequence(kp_txn_manager *tm, const char *topic, int32_t partition, int32_t sequence);
void kp_txn_maybe_update_last_acked_sequence(kp_txn_manager *tm, const char *topic, int32_t partition,
                                             int32_t sequence);
void kp_txn_maybe_update_last_acked_sequence_h(kp_txn_manager *tm, const char *topic,
                                               int32_t partition, int32_t sequence,
                                               kp_hint *hint);
int32_t kp_txn_last_acked_sequence(kp_txn_manager *tm, const char *topic, int32_t partition);
int64_t kp_txn_last_acked_offset(kp_txn_manager *tm, const char *topic, int32_t partition);
/* updateLastAckedOffset: base_offset -1 (no offset) leaves it. */
void kp_txn_update_last_acked_offset(kp_txn_manager *tm, const struct kp_batch *b, int64_t base_offset);

/* ---- in-flight batches ------------------------------------------------- */
void kp_txn_add_in_flight_batch(kp_txn_manager *tm, struct kp_batch *b);
void kp_txn_remove_in_flight_batch(kp_txn_manager *tm, const struct kp_batch *b);
/* completeBatch's manager steps for a batch acknowledged without error,
 * in Java's order and with one lookup: maybeUpdateLastAckedSequence(tp,
 * baseSequence + recordCount - 1) if hasProducerIdAndEpoch(batch's),
 * updateLastAckedOffset(base_offset), removeInFlightBatch. */
void kp_txn_batch_acked(kp_txn_manager *tm, struct kp_batch *b, int64_t base_offset);
/* KP_NO_SEQUENCE when none tracked. */
int32_t kp_txn_first_in_flight_sequence(kp_txn_manager *tm, const char *topic, int32_t partition);
int32_t kp_txn_first_in_flight_sequence_h(kp_txn_manager *tm, const char *topic, int32_t partition,
                                          kp_hint *hint);
struct kp_batch *kp_txn_next_batch_by_sequence(kp_txn_manager *tm, const char *topic, int32_t partition);
bool kp_txn_has_in_flight_batches(kp_txn_manager *tm, const char *topic, int32_t partition);
int kp_txn_in_flight_batch_count(kp_txn_manager *tm, const char *topic, int32_t partition);
/* Forgets every tracked in-flight batch without touching them: the
 * accumulator is about to free them all (Sender.maybeAbortBatches ->
 * abortBatches on a fatal error). Java's GC made this unnecessary. */
void kp_txn_forget_in_flight_batches(kp_txn_manager *tm);
/* adjustSequencesDueToFailedBatch: the batch failed for sure; later
 * in-flight batches and the next sequence move down by its record count.
 * A move below sequence 0 (Java's IllegalStateException; reachable from
 * broker answers under bug.KAFKA-8484) changes nothing and transitions to
 * FATAL_ERROR with KP_ERR__STATE. */
void kp_txn_adjust_sequences_due_to_failed_batch(kp_txn_manager *tm, const struct kp_batch *b);

/* ---- the drain's questions and steps, fused ---------------------------- */
/* What RecordAccumulator.drainBatchesForOneNode asks and does of the
 * manager for the deque's first batch, in Java's order, with one table
 * lookup. First shouldStopDrainBatchesForPartition's manager part:
 * !isSendToPartitionAllowed(tp), !producerIdAndEpoch().isValid(),
 * (!first.hasSequence() && hasUnresolvedSequence(tp)), (first.hasSequence()
 * && firstInFlightSequence(tp) not NO_SEQUENCE and != first.baseSequence());
 * if any holds, returns true and changes nothing. Otherwise, for a batch
 * without sequence: setProducerState(producerIdAndEpoch(), sequenceNumber(tp),
 * isTransactional()), incrementSequenceNumber(tp, recordCount),
 * addInFlightBatch(batch); returns false. Leaves the batch's own txn hint
 * to the caller. */
bool kp_txn_drain_take_h(kp_txn_manager *tm, struct kp_batch *first, const char *topic, int32_t partition,
                         kp_hint *hint);

/* Sender.run's manager part has nothing to do: an idempotent-only manager
 * with a producer id, no error, and no partition that may be unresolved.
 * Then shouldResetProducerStateAfterResolvingSequences is false,
 * maybeWaitForProducerId returns at once, and neither the fatal / no
 * producer id branch nor the abortable one is taken: the sender may go
 * straight to sendProducerData. */
bool kp_txn_sender_idle(const kp_txn_manager *tm);

/* ---- unresolved sequences ---------------------------------------------- */
bool kp_txn_has_unresolved_sequences(const kp_txn_manager *tm);
bool kp_txn_has_unresolved_sequence(kp_txn_manager *tm, const char *topic, int32_t partition);
bool kp_txn_has_unresolved_sequence_h(kp_txn_manager *tm, const char *topic, int32_t partition,
                                      kp_hint *hint);
void kp_txn_mark_sequence_unresolved(kp_txn_manager *tm, const char *topic, int32_t partition);
/* shouldResetProducerStateAfterResolvingSequences: drops partitions that
 * resolved (the next sequence follows the last acked one) and returns true
 * when one drained without resolving. Never for a transactional producer. */
bool kp_txn_should_reset_producer_state_after_resolving_sequences(kp_txn_manager *tm);

/* ---- produce errors ------------------------------------------------------ */
/* TransactionManager.canRetry(response, batch): OUT_OF_ORDER_SEQUENCE_NUMBER
 * when the batch is not the next in line (or its sequence was reset);
 * UNKNOWN_PRODUCER_ID when log_start_offset is -1, the sequence was reset,
 * or the log start moved past the last acked offset (then sequences restart
 * from 0: startSequencesAtBeginning). */
bool kp_txn_can_retry(kp_txn_manager *tm, kp_err error, int64_t log_start_offset, struct kp_batch *b);

/* ---- transactions: the application's calls ----------------------------
 *
 * TransactionalRequestResult: the caller owns it (the facade embeds one per
 * pending call); the manager sets done/err/msg when the request handler
 * finishes and never touches it afterwards. While !done the manager holds
 * a pointer to it: it must stay valid until done or kp_txn_manager_destroy.
 *
 * Each call returns KP_ERR_NONE, or the Java exception as an error with its
 * message in msg (KP_ERR__STATE for IllegalStateException / an invalid
 * transition, the last error for maybeFailWithError) — then the state did
 * not change and the result will never be done by this call. */
typedef struct kp_txn_result {
    bool done;
    kp_err err;        /* KP_ERR_NONE: success */
    char msg[200];
} kp_txn_result;

/* initializeTransactions: UNINITIALIZED -> INITIALIZING, forgets the
 * producer id and sequences, enqueues InitProducerId (with the
 * transactional.id and transaction.timeout.ms, via the coordinator). */
kp_err kp_txn_initialize_transactions(kp_txn_manager *tm, kp_txn_result *res, char *msg, size_t n);
/* beginTransaction: READY -> IN_TRANSACTION (maybeFailWithError first). */
kp_err kp_txn_begin_transaction(kp_txn_manager *tm, char *msg, size_t n);
/* beginCommit: IN_TRANSACTION -> COMMITTING_TRANSACTION, enqueues the
 * pending AddPartitionsToTxn and EndTxn(COMMIT). */
kp_err kp_txn_begin_commit(kp_txn_manager *tm, kp_txn_result *res, char *msg, size_t n);
/* beginAbort: IN_TRANSACTION / ABORTABLE_ERROR -> ABORTING_TRANSACTION,
 * drops partitions not yet sent to the coordinator, enqueues EndTxn(ABORT). */
kp_err kp_txn_begin_abort(kp_txn_manager *tm, kp_txn_result *res, char *msg, size_t n);
/* failIfNotReadyForSend + maybeAddPartitionToTransaction (doSend, after
 * the partition is known). Idempotent-only managers: only the error check. */
kp_err kp_txn_maybe_add_partition_to_transaction(kp_txn_manager *tm, const char *topic, int32_t partition,
                                                 char *msg, size_t n);
bool kp_txn_is_partition_in_transaction(const kp_txn_manager *tm, const char *topic, int32_t partition);
bool kp_txn_has_partitions_to_add(const kp_txn_manager *tm);
bool kp_txn_is_completing(const kp_txn_manager *tm);   /* committing or aborting */
bool kp_txn_is_aborting(const kp_txn_manager *tm);
bool kp_txn_has_ongoing_transaction(const kp_txn_manager *tm);
/* Detaches a result the caller is about to free (close/destroy of the
 * facade); the handler completes without writing to it. */
void kp_txn_forget_result(kp_txn_manager *tm, kp_txn_result *res);

/* ---- transactions: the Sender's side (TxnRequestHandler) --------------
 *
 * Handlers live in a queue ordered by priority (FindCoordinator,
 * InitProducerId, AddPartitionsToTxn, EndTxn), ties in enqueue order. The
 * Sender takes the next one (kp_txn_next_request_handler), sends it with
 * kp_txn_handler_encode / kp_txn_handler_on_complete as the netclient's
 * encode and completion callbacks (ctx = the handler), or gives it back
 * (kp_txn_retry: "back off and try again"; kp_txn_requeue: "not yet",
 * e.g. the coordinator connection is still being set up). The manager owns
 * every handler; one taken out is owned by the Sender until it is sent
 * (then by the in-flight request) or given back. */
typedef struct kp_txn_handler kp_txn_handler;

/* nextRequestHandler(hasIncompleteBatches): NULL when nothing to send now
 * (EndTxn waits for every batch; in an error state handlers fail). */
kp_txn_handler *kp_txn_next_request_handler(kp_txn_manager *tm, bool has_incomplete_batches);
bool kp_txn_handler_needs_coordinator(const kp_txn_handler *h);
int16_t kp_txn_handler_api_key(const kp_txn_handler *h);
int16_t kp_txn_handler_min_version(const kp_txn_handler *h);
int16_t kp_txn_handler_max_version(const kp_txn_handler *h);
/* earliest ms the (retried) handler may be sent; <= now: at once */
int64_t kp_txn_handler_not_before(const kp_txn_handler *h);
const char *kp_txn_handler_name(const kp_txn_handler *h);
/* kp_request_encode_fn / kp_request_done_cb (kp_network_client.h) */
bool kp_txn_handler_encode(void *h, struct kp_writer *w, int16_t version);
struct kp_client_response;
void kp_txn_handler_on_complete(void *h, const struct kp_client_response *resp);
/* coordinator(TRANSACTION): false if unknown. *out's host is owned by tm. */
struct kp_node;
bool kp_txn_coordinator(const kp_txn_manager *tm, struct kp_node *out);
/* lookupCoordinator: forget the coordinator, enqueue FindCoordinator. */
void kp_txn_lookup_coordinator(kp_txn_manager *tm);
/* retry(handler): marked as a retry (backoff before sending), re-enqueued. */
void kp_txn_retry(kp_txn_manager *tm, kp_txn_handler *h);
/* back into the queue unchanged (its place kept) */
void kp_txn_requeue(kp_txn_manager *tm, kp_txn_handler *h);
/* the Sender sent h with correlation id corr: the request owns it now,
 * kp_txn_handler_on_complete takes it back */
void kp_txn_handler_sent(kp_txn_manager *tm, kp_txn_handler *h, int32_t corr);
void kp_txn_set_in_flight_request_correlation_id(kp_txn_manager *tm, int32_t corr);
void kp_txn_clear_in_flight_request_correlation_id(kp_txn_manager *tm);
bool kp_txn_has_in_flight_transactional_request(const kp_txn_manager *tm);
bool kp_txn_has_pending_requests(const kp_txn_manager *tm);

/* Consistency walker (tests, debug builds): false if an invariant broke. */
bool kp_txn_verify(const kp_txn_manager *tm);

#endif
