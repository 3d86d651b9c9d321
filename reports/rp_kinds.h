/*
 * rp_kinds.h — what reports/ understands of an event, keyed by kind NAME.
 *
 * Kind numbers belong to the layers (producer 100..199, broker 200..299,
 * net 300..399, harness 400..499) and keep growing; a trace carries its own
 * number -> name table (trace.proto Header.kinds). Everything in reports/
 * that interprets events — Perfetto spans, report charts, explain — asks
 * this one table what a NAME means, so a new kind costs one line here and
 * an unknown kind degrades to "an instant on its component's track".
 *
 * A name counts only in its layer's number range (simnet's "send" is bytes
 * on a link, not KafkaProducer.send); kinds outside 100..499 (tests, tools)
 * match every entry. A name may carry a "layer." prefix; only the part after
 * the last '.' is matched. The names relied on:
 *
 *   role              layer     names                        fields used
 *   SEND              producer  send                         value = record number if >= 0,
 *                                                            else the n-th send is record n
 *   APPEND            producer  append, record_appended      batch_id (the record: the last send)
 *   BATCH_CREATED     producer  batch_created                batch_id, topic, partition,
 *                                                            value = buffer size  (span start)
 *   BATCH_DRAINED     producer  drain, batch_drained         batch_id, node, record_count, bytes
 *                                                                                  (span end)
 *   REQUEST_SENT      producer  request_sent                 node, correlation_id, api_key
 *                                                                                  (span start)
 *   REQUEST_DONE      producer  response_received, request_timed_out, request_failed
 *                                                            node, correlation_id (span end)
 *   REQUEST_ABORT_NODE producer disconnected                 node: ends every request in
 *                                                            flight to it
 *   PRODUCE_REQUEST   producer  produce_request              record_count (records per request)
 *   BATCH_ACKED       producer  batch_done, batch_completed, batch_acked
 *                                                            batch_id, err (0 = acked)
 *   BATCH_FAILED      producer  batch_failed, batch_aborted  batch_id, record_count, err
 *   CALLBACK          producer  callback, record_callback    err (0 = acked), batch_id,
 *                                                            value = record number if >= 0
 *   RETRY             producer  retry, batch_retry           batch_id, attempt  (span restart)
 *   REENQUEUE         producer  batch_reenqueued             batch_id           (span restart)
 *   SPLIT             producer  split                        batch_id = a piece, value = parent
 *   SPLIT_PARENT      producer  batch_split                  batch_id = parent, value = pieces;
 *                                                            the pieces are the next `value`
 *                                                            batch ids (one id counter)
 *   METADATA_REFRESH  producer  metadata_update_requested, metadata_refresh
 *   EXPIRED           producer  batch_expired, sender_expired, expired
 *                                                            batch_id (counted once per batch)
 *   BUFFER            producer  buffer_allocated, buffer_deallocated, buffer_pool
 *                                                            value = pool bytes in use after it
 *   READY             producer  ready                        node (explain: why a drain happened)
 *   WAKEUP            producer  wakeup                       (explain: doSend woke the sender)
 *   REPLICATE         broker    replicate                    node = follower, topic, partition,
 *                                                            offset = its new log end
 *   HW_ADVANCE        broker    hw_advance                   topic, partition, offset = high watermark
 *   FAULT             net       disconnect, partition, blackhole_on, node_down,
 *                               heal, blackhole_off, node_up
 *                     broker    broker_down, broker_up, injected,
 *                               leader_change (unless detail is "create")
 *                     harness   leader_move, fault, link_down, link_partition,
 *                               link_blackhole, broker_crash, disconnect_injected
 *                     any       a name containing "fault"
 *                                                            detail (or name) = marker label
 *
 * Memory: all static; nothing allocates.
 */
#ifndef RP_KINDS_H
#define RP_KINDS_H

#include <stdbool.h>

#include "rp_trace.h"

typedef enum rp_role {
    RP_ROLE_NONE = 0,
    RP_ROLE_SEND,
    RP_ROLE_APPEND,
    RP_ROLE_BATCH_CREATED,
    RP_ROLE_BATCH_DRAINED,
    RP_ROLE_REQUEST_SENT,
    RP_ROLE_REQUEST_DONE,
    RP_ROLE_REQUEST_ABORT_NODE,
    RP_ROLE_PRODUCE_REQUEST,
    RP_ROLE_BATCH_ACKED,
    RP_ROLE_BATCH_FAILED,
    RP_ROLE_CALLBACK,
    RP_ROLE_RETRY,
    RP_ROLE_REENQUEUE,
    RP_ROLE_SPLIT,
    RP_ROLE_SPLIT_PARENT,
    RP_ROLE_METADATA_REFRESH,
    RP_ROLE_EXPIRED,
    RP_ROLE_BUFFER,
    RP_ROLE_FAULT,
    RP_ROLE_READY,
    RP_ROLE_WAKEUP,
    RP_ROLE_REPLICATE,
    RP_ROLE_HW_ADVANCE,
    RP_ROLE__COUNT
} rp_role;

/* The role of an event: its kind name, within its layer's number range,
 * and (for leader_change) its detail. */
rp_role rp_event_role(const rp_event *e);

/* The role of a kind name and number (detail-dependent entries assume a
 * detail that selects them). kind < 100 or >= 500 matches every layer. */
rp_role rp_kind_role_n(int kind, const char *kind_name);

/* Name-only lookup, as if the kind were in the name's own layer. */
rp_role rp_kind_role(const char *kind_name);

/* The canonical (first) name of a role, e.g. "batch_created". */
const char *rp_role_name(rp_role role);

/* Kafka API name for an api_key ("Produce", "Metadata", ...), NULL if not
 * one a 2.1 producer speaks. */
const char *rp_api_name(int api_key);

#endif
