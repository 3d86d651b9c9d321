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
    /* (kinds added by the facade's owner) */

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
    /* (kinds added by the sender's owner) */

    /* ---- 180..199 TransactionManager / metrics --------------------- */
    /* (kinds added by the transaction manager's owner) */

    KP_EV_PRODUCER_LAST = 199
};

/* Stable lower-case name of a producer event kind, NULL if not a producer
 * kind known to this build. */
const char *kp_event_kind_name(int kind);

#endif
