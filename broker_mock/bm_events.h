/*
 * bm_events.h — what broker_mock reports through kp_observer (kinds 200..299).
 *
 * Every event is a kp_event (protocol/kp_env.h) with the fields that apply
 * filled in and the rest -1/NULL. The table says which fields each kind
 * uses; `node` is always the broker the event concerns.
 *
 *   KIND                 FIELDS
 *   REQUEST        200   node, api_key, correlation_id, value=api_version, bytes, detail=client_id
 *                        (the cluster's copy, kept until bm_cluster_destroy)
 *   RESPONSE       201   node, api_key, correlation_id, bytes, value=delay us
 *   APPEND         202   node, topic, partition, offset=base, record_count, producer_id,
 *                        producer_epoch, base_sequence, bytes, value=1 if transactional
 *   DUPLICATE      203   node, topic, partition, offset=original base, producer_id, base_sequence
 *   ERROR          204   node, api_key, correlation_id, topic, partition, err, detail=why
 *   ISR_SHRINK     205   node=leaving replica, topic, partition, value=new ISR size
 *   ISR_EXPAND     206   node=joining replica, topic, partition, value=new ISR size
 *   LEADER_CHANGE  207   node=new leader (-1 none), topic, partition, value=leader epoch,
 *                        detail=reason ("crash", "move", "unclean", "restart", "create")
 *   TRUNCATE       208   node=replica, topic, partition, offset=new log end, value=records removed
 *   REPLICATE      209   node=follower, topic, partition, offset=new log end
 *   HW_ADVANCE     210   node=leader, topic, partition, offset=high watermark
 *   CONN_CLOSED    211   node, detail=reason
 *   BROKER_DOWN    212   node
 *   BROKER_UP      213   node
 *   TOPIC_CREATED  214   topic, value=partitions, record_count=replication factor
 *   TXN_STATE      215   node=coordinator, producer_id, producer_epoch, detail="OLD -> NEW"
 *   TXN_MARKER     216   node, topic, partition, offset, producer_id, producer_epoch,
 *                        value=1 commit / 0 abort
 *   THROTTLE       217   node, api_key, correlation_id, value=throttle ms, detail=client_id
 *   INJECTED       218   node, api_key, correlation_id, err, value=delay us
 *   PID_ALLOC      219   node, producer_id, producer_epoch, detail=transactional id or NULL
 *   LOG_START      220   topic, partition, offset=new log start (retention)
 *
 * Memory: names are static strings.
 */
#ifndef BM_EVENTS_H
#define BM_EVENTS_H

#include "kp_env.h"

enum {
    BM_EV_REQUEST = KP_EV_BASE_BROKER + 0,
    BM_EV_RESPONSE = KP_EV_BASE_BROKER + 1,
    BM_EV_APPEND = KP_EV_BASE_BROKER + 2,
    BM_EV_DUPLICATE = KP_EV_BASE_BROKER + 3,
    BM_EV_ERROR = KP_EV_BASE_BROKER + 4,
    BM_EV_ISR_SHRINK = KP_EV_BASE_BROKER + 5,
    BM_EV_ISR_EXPAND = KP_EV_BASE_BROKER + 6,
    BM_EV_LEADER_CHANGE = KP_EV_BASE_BROKER + 7,
    BM_EV_TRUNCATE = KP_EV_BASE_BROKER + 8,
    BM_EV_REPLICATE = KP_EV_BASE_BROKER + 9,
    BM_EV_HW_ADVANCE = KP_EV_BASE_BROKER + 10,
    BM_EV_CONN_CLOSED = KP_EV_BASE_BROKER + 11,
    BM_EV_BROKER_DOWN = KP_EV_BASE_BROKER + 12,
    BM_EV_BROKER_UP = KP_EV_BASE_BROKER + 13,
    BM_EV_TOPIC_CREATED = KP_EV_BASE_BROKER + 14,
    BM_EV_TXN_STATE = KP_EV_BASE_BROKER + 15,
    BM_EV_TXN_MARKER = KP_EV_BASE_BROKER + 16,
    BM_EV_THROTTLE = KP_EV_BASE_BROKER + 17,
    BM_EV_INJECTED = KP_EV_BASE_BROKER + 18,
    BM_EV_PID_ALLOC = KP_EV_BASE_BROKER + 19,
    BM_EV_LOG_START = KP_EV_BASE_BROKER + 20,
    BM_EV__END
};

/* "append", "isr_shrink", ...; NULL for kinds outside this layer. */
const char *bm_event_name(int kind);

#endif
