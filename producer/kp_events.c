/*
 * kp_events.c — names of the producer's event kinds (see kp_events.h).
 * A switch, not a table indexed by kind, so blocks may have gaps.
 */
#include "kp_events.h"

#include <stddef.h>

const char *kp_event_kind_name(int kind) {
    switch (kind) {
    /* KafkaProducer facade */
    case KP_EV_SEND:                      return "send";
    case KP_EV_SEND_BLOCKED:              return "send_blocked";
    case KP_EV_SEND_UNBLOCKED:            return "send_unblocked";
    case KP_EV_SEND_FAILED:               return "send_failed";
    case KP_EV_METADATA_WAIT:             return "metadata_wait";
    case KP_EV_WAKEUP:                    return "wakeup";
    case KP_EV_CALLBACK:                  return "callback";
    case KP_EV_FLUSH_REQUESTED:           return "flush_requested";
    case KP_EV_FLUSH_COMPLETED:           return "flush_completed";
    case KP_EV_CLOSE_REQUESTED:           return "close_requested";
    case KP_EV_CLOSED:                    return "closed";
    case KP_EV_FORCE_CLOSE:               return "force_close";
    /* Metadata */
    case KP_EV_METADATA_UPDATE_REQUESTED: return "metadata_update_requested";
    case KP_EV_METADATA_UPDATED:          return "metadata_updated";
    case KP_EV_METADATA_UPDATE_FAILED:    return "metadata_update_failed";
    case KP_EV_METADATA_TOPIC_ADDED:      return "metadata_topic_added";
    case KP_EV_METADATA_TOPIC_EXPIRED:    return "metadata_topic_expired";
    /* partitioner, interceptors, BufferPool */
    case KP_EV_PARTITION_CHOSEN:          return "partition_chosen";
    case KP_EV_INTERCEPTOR_ERROR:         return "interceptor_error";
    case KP_EV_POOL_WAIT:                 return "pool_wait";
    case KP_EV_POOL_WAIT_DONE:            return "pool_wait_done";
    case KP_EV_POOL_TIMEOUT:              return "pool_timeout";
    /* RecordAccumulator / ProducerBatch */
    case KP_EV_APPEND:                    return "append";
    case KP_EV_BATCH_CREATED:             return "batch_created";
    case KP_EV_BATCH_FULL:                return "batch_full";
    case KP_EV_READY:                     return "ready";
    case KP_EV_DRAIN:                     return "drain";
    case KP_EV_BATCH_EXPIRED:             return "batch_expired";
    case KP_EV_BATCH_SPLIT:               return "batch_split";
    case KP_EV_BATCH_REENQUEUED:          return "batch_reenqueued";
    case KP_EV_PARTITION_MUTED:           return "partition_muted";
    case KP_EV_PARTITION_UNMUTED:         return "partition_unmuted";
    case KP_EV_BATCH_DONE:                return "batch_done";
    case KP_EV_BATCH_ABORTED:             return "batch_aborted";
    case KP_EV_FLUSH_BEGIN:               return "flush_begin";
    case KP_EV_FLUSH_DONE:                return "flush_done";
    case KP_EV_UNKNOWN_LEADER:            return "unknown_leader";
    /* Sender / NetworkClient */
    case KP_EV_CONN_STATE:                return "conn_state";
    case KP_EV_DISCONNECTED:              return "disconnected";
    case KP_EV_REQUEST_SENT:              return "request_sent";
    case KP_EV_RESPONSE_RECEIVED:         return "response_received";
    case KP_EV_API_VERSIONS:              return "api_versions";
    case KP_EV_THROTTLE:                  return "throttle";
    case KP_EV_PRODUCE_REQUEST:           return "produce_request";
    case KP_EV_PRODUCE_RESPONSE:          return "produce_response";
    case KP_EV_RETRY:                     return "retry";
    case KP_EV_BATCH_FAILED:              return "batch_failed";
    case KP_EV_METADATA_REQUEST:          return "metadata_request";
    case KP_EV_METADATA_RESPONSE:         return "metadata_response";
    case KP_EV_METADATA_TOPIC_ERROR:      return "metadata_topic_error";
    case KP_EV_TXN_REQUEST:               return "txn_request";
    case KP_EV_TXN_RESPONSE:              return "txn_response";
    case KP_EV_TXN_COORDINATOR:           return "txn_coordinator";
    case KP_EV_TXN_PARTITION_ADDED:       return "txn_partition_added";
    case KP_EV_TXN_COMMITTED:             return "txn_committed";
    case KP_EV_TXN_ABORTED:               return "txn_aborted";
    case KP_EV_SENDER_SPLIT:              return "sender_split";
    case KP_EV_SENDER_EXPIRED:            return "sender_expired";
    case KP_EV_SENDER_POLL_TIMEOUT:       return "sender_poll_timeout";
    /* TransactionManager */
    case KP_EV_TXN_STATE:                 return "txn_state";
    case KP_EV_PRODUCER_ID:               return "producer_id";
    case KP_EV_INIT_PRODUCER_ID:          return "init_producer_id";
    case KP_EV_SEQUENCE_UNRESOLVED:       return "sequence_unresolved";
    case KP_EV_PRODUCER_ID_RESET:         return "producer_id_reset";
    case KP_EV_FATAL_ERROR:               return "fatal_error";
    case KP_EV_SEQUENCE_ADJUSTED:         return "sequence_adjusted";
    default:                              return NULL;
    }
}
