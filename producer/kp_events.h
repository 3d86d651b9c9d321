/*
 * kp_events.h — the producer's event kinds (100..199), one enum.
 *
 * Every producer module reports what it does through the kp_observer of its
 * kp_env (protocol/kp_env.h). The kinds live in ONE enum so that a trace
 * reader needs one table, grouped by module in fixed blocks so that two
 * people adding kinds to different modules never renumber each other:
 *
 *   100..119  KafkaProducer facade (kp_producer)        send path, callbacks
 *   120..129  Metadata (kp_metadata)                    cluster view
 *   130..139  partitioner / interceptors / BufferPool   application side
 *   140..159  RecordAccumulator / ProducerBatch         batching
 *   160..179  Sender / NetworkClient                    I/O side
 *   180..199  TransactionManager / metrics              idempotence, txns
 *
 * Numbers are part of the trace format: never renumber a kind, only append
 * inside a block. kp_event_kind_name() gives the stable lower-case name used
 * in text traces ("batch_created"); unknown kinds give NULL.
 *
 * Fields (kp_event in kp_env.h) that each kind fills are listed beside it;
 * the rest stay "not applicable" (-1 / NULL).
 */
#ifndef KP_EVENTS_H
#define KP_EVENTS_H

#include "kp_env.h"

enum kp_producer_event_kind {
    /* ---- 100..119 KafkaProducer facade (kp_producer) ---------------- */
    KP_EV_SEND                      = 100, /* topic, partition (-1 if none given), bytes = key+value; detail "KafkaProducer.send" */
    KP_EV_SEND_BLOCKED              = 101, /* topic, detail = "waitOnMetadata" / "BufferPool.allocate", value = max.block.ms left */
    KP_EV_SEND_UNBLOCKED            = 102, /* topic, value = ms blocked */
    KP_EV_SEND_FAILED               = 103, /* topic, partition, err: synchronous failure of doSend */
    KP_EV_METADATA_WAIT             = 104, /* topic, value = metadata version awaited (waitOnMetadata) */
    KP_EV_WAKEUP                    = 105, /* detail = who woke the sender ("doSend", "flush", "close"); doSend's only when the sender was not already woken since its last run */
    KP_EV_CALLBACK                  = 106, /* topic, partition, offset, err, batch_id: one per record */
    KP_EV_FLUSH_REQUESTED           = 107, /* value = incomplete batches */
    KP_EV_FLUSH_COMPLETED           = 108, /* flush() would return now */
    KP_EV_CLOSE_REQUESTED           = 109, /* value = timeout ms (0 = forceClose) */
    KP_EV_CLOSED                    = 110, /* sender stopped, network client closed */
    KP_EV_FORCE_CLOSE               = 111, /* value = batches aborted */

    /* ---- 120..129 Metadata ----------------------------------------- */
    KP_EV_METADATA_UPDATE_REQUESTED = 120, /* value = version at request; detail = why */
    KP_EV_METADATA_UPDATED          = 121, /* value = new version; record_count = #topics, node = #nodes */
    KP_EV_METADATA_UPDATE_FAILED    = 122, /* detail = "empty nodes" or a reason */
    KP_EV_METADATA_TOPIC_ADDED      = 123, /* topic */
    KP_EV_METADATA_TOPIC_EXPIRED    = 124, /* topic (unused for TOPIC_EXPIRY_MS) */

    /* ---- 130..139 partitioner, interceptors, BufferPool ------------ */
    KP_EV_PARTITION_CHOSEN          = 130, /* topic, partition, detail = "explicit"/"keyed"/"round-robin"/"sticky" */
    KP_EV_INTERCEPTOR_ERROR         = 131, /* topic, partition, detail = interceptor name, err */
    KP_EV_POOL_WAIT                 = 132, /* bytes = size asked, value = available memory */
    KP_EV_POOL_WAIT_DONE            = 133, /* bytes = size served */
    KP_EV_POOL_TIMEOUT              = 134, /* bytes = size asked, value = max.block.ms, err BUFFER_EXHAUSTED */

    /* ---- 140..159 RecordAccumulator / ProducerBatch ---------------- */
    KP_EV_APPEND                    = 140, /* topic, partition, batch_id, record_count = records in batch, bytes = record size */
    KP_EV_BATCH_CREATED             = 141, /* topic, partition, batch_id, bytes = buffer capacity */
    KP_EV_BATCH_FULL                = 142, /* topic, partition, batch_id, record_count, bytes = estimated size */
    KP_EV_READY                     = 143, /* node = ready node, value = next ready check delay ms */
    KP_EV_DRAIN                     = 144, /* node, topic, partition, batch_id, record_count, bytes, base_sequence, attempt */
    KP_EV_BATCH_EXPIRED             = 145, /* topic, partition, batch_id, record_count, value = ms since creation */
    KP_EV_BATCH_SPLIT               = 146, /* topic, partition, batch_id (the big one), value = pieces */
    KP_EV_BATCH_REENQUEUED          = 147, /* topic, partition, batch_id, attempt */
    KP_EV_PARTITION_MUTED           = 148, /* topic, partition */
    KP_EV_PARTITION_UNMUTED         = 149, /* topic, partition, value = throttle-until ms */
    KP_EV_BATCH_DONE                = 150, /* topic, partition, batch_id, offset = base offset, err */
    KP_EV_BATCH_ABORTED             = 151, /* topic, partition, batch_id, err */
    KP_EV_FLUSH_BEGIN               = 152, /* value = incomplete batches to wait for */
    KP_EV_FLUSH_DONE                = 153, /* flush bookkeeping complete */
    KP_EV_UNKNOWN_LEADER            = 154, /* topic: batches queued, leader unknown (ready) */

    /* ---- 160..179 Sender / NetworkClient --------------------------- */
    KP_EV_CONN_STATE                = 160, /* node, value = new kp_conn_status, detail "OLD -> NEW", err */
    KP_EV_DISCONNECTED              = 161, /* node, err, value = 1 if request timeout; detail = Java method, or for err _BAD_MSG (the peer broke the protocol) what was wrong, with bytes = the refused frame's size */
    KP_EV_REQUEST_SENT              = 162, /* node, api_key, correlation_id, bytes via value = frame size */
    KP_EV_RESPONSE_RECEIVED         = 163, /* node, api_key, correlation_id, value = frame size */
    KP_EV_API_VERSIONS              = 164, /* node, err, value = chosen Produce version */
    KP_EV_THROTTLE                  = 165, /* node, value = throttle ms */
    KP_EV_PRODUCE_REQUEST           = 166, /* node, correlation_id, record_count, bytes, value = #batches (sendProduceRequest) */
    KP_EV_PRODUCE_RESPONSE          = 167, /* node, topic, partition, batch_id, err, offset, correlation_id (completeBatch) */
    KP_EV_RETRY                     = 168, /* topic, partition, batch_id, attempt, err (reenqueueBatch) */
    KP_EV_BATCH_FAILED              = 169, /* topic, partition, batch_id, record_count, err (failBatch) */
    KP_EV_METADATA_REQUEST          = 170, /* node, correlation_id, record_count = #topics (maybeUpdate) */
    KP_EV_METADATA_RESPONSE         = 171, /* node, correlation_id, err, value = #brokers (handleCompletedMetadataResponse) */
    KP_EV_SENDER_SPLIT              = 172, /* topic, partition, batch_id, record_count (completeBatch MESSAGE_TOO_LARGE) */
    KP_EV_SENDER_EXPIRED            = 173, /* topic, partition, batch_id, record_count, value = ms since creation, attempt (sendProducerData) */
    KP_EV_METADATA_TOPIC_ERROR      = 175, /* node, correlation_id, topic, err (handleCompletedMetadataResponse: response.errors(), one per topic) */
    KP_EV_SENDER_POLL_TIMEOUT       = 174, /* value = poll timeout of sendProducerData, record_count = batches drained (only when it drained or dropped a not-ready node) */

    /* ---- 180..199 TransactionManager / metrics --------------------- */
    KP_EV_TXN_STATE                 = 180, /* detail "OLD -> NEW", err = last error */
    KP_EV_PRODUCER_ID               = 181, /* producer_id, producer_epoch (setProducerIdAndEpoch) */
    KP_EV_INIT_PRODUCER_ID          = 182, /* node, correlation_id, err (InitProducerId sent / answered) */
    KP_EV_SEQUENCE_UNRESOLVED       = 183, /* topic, partition (markSequenceUnresolved) */
    KP_EV_PRODUCER_ID_RESET         = 184, /* producer_id (resetProducerId), detail = why */
    KP_EV_FATAL_ERROR               = 185, /* err (transitionToFatalError) */
    KP_EV_SEQUENCE_ADJUSTED         = 186, /* topic, partition, batch_id, base_sequence = new (adjustSequences / startSequencesAtBeginning) */
    KP_EV_TXN_REQUEST               = 187, /* node, correlation_id, api_key, detail = handler (Sender.maybeSendTransactionalRequest) */
    KP_EV_TXN_RESPONSE              = 188, /* node, correlation_id, api_key, err, detail = handler (TxnRequestHandler.onComplete) */
    KP_EV_TXN_COORDINATOR           = 189, /* node = the transaction coordinator found (FindCoordinatorHandler) */
    KP_EV_TXN_PARTITION_ADDED       = 190, /* topic, partition (maybeAddPartitionToTransaction: new in this transaction) */
    KP_EV_TXN_COMMITTED             = 191, /* producer_id, producer_epoch (EndTxn COMMIT answered) */
    KP_EV_TXN_ABORTED               = 192, /* producer_id, producer_epoch (EndTxn ABORT answered) */

    KP_EV_PRODUCER_LAST = 199
};

/* Stable lower-case name of a producer event kind, NULL if not a producer
 * kind known to this build. */
const char *kp_event_kind_name(int kind);

#endif
