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
 * The names relied on (aliases in rp_kinds.c; a name may also carry a
 * "layer." prefix, e.g. "producer.batch_created"; only the part after the
 * last '.' is matched):
 *
 *   role                 names                        fields used
 *   SEND                 send                         value = record number (0-based send order)
 *   APPEND               append, record_appended      batch_id, value = record number
 *   BATCH_CREATED        batch_created                batch_id, topic, partition    (span start)
 *   BATCH_DRAINED        batch_drained                batch_id, node, record_count, bytes (span end)
 *   REQUEST_SENT         request_sent                 node, correlation_id, api_key,
 *                                                     record_count, bytes           (span start)
 *   REQUEST_DONE         response_received, request_timed_out, request_failed,
 *                        request_disconnected         node, correlation_id, err     (span end)
 *   BATCH_ACKED          batch_completed, batch_acked batch_id, record_count, offset
 *   BATCH_FAILED         batch_failed                 batch_id, record_count, err
 *   CALLBACK             callback, record_callback    err (0 = acked), value = record number,
 *                                                     record_count (records it covers, default 1)
 *   RETRY                retry, batch_retry           batch_id, attempt
 *   SPLIT                split, batch_split           batch_id = new piece, value = parent batch id
 *   METADATA_REFRESH     metadata_update_requested, metadata_refresh, metadata_request
 *   EXPIRED              batch_expired, expired       batch_id, record_count
 *   BUFFER               buffer_allocated, buffer_deallocated, buffer_pool
 *                                                     value = bytes of the pool in use after it
 *   FAULT                any name containing "fault", and
 *                        link_down, link_partition, link_blackhole, broker_crash,
 *                        leader_move, disconnect_injected
 *                                                     detail = what (marker label)
 *
 * Memory: all static; nothing allocates.
 */
#ifndef RP_KINDS_H
#define RP_KINDS_H

#include <stdbool.h>

typedef enum rp_role {
    RP_ROLE_NONE = 0,
    RP_ROLE_SEND,
    RP_ROLE_APPEND,
    RP_ROLE_BATCH_CREATED,
    RP_ROLE_BATCH_DRAINED,
    RP_ROLE_REQUEST_SENT,
    RP_ROLE_REQUEST_DONE,
    RP_ROLE_BATCH_ACKED,
    RP_ROLE_BATCH_FAILED,
    RP_ROLE_CALLBACK,
    RP_ROLE_RETRY,
    RP_ROLE_SPLIT,
    RP_ROLE_METADATA_REFRESH,
    RP_ROLE_EXPIRED,
    RP_ROLE_BUFFER,
    RP_ROLE_FAULT,
    RP_ROLE__COUNT
} rp_role;

/* The role of a kind name (NULL -> RP_ROLE_NONE). */
rp_role rp_kind_role(const char *kind_name);

/* The canonical (first) name of a role, e.g. "batch_created". */
const char *rp_role_name(rp_role role);

/* Kafka API name for an api_key ("Produce", "Metadata", ...), NULL if not
 * one a 2.1 producer speaks. */
const char *rp_api_name(int api_key);

#endif
