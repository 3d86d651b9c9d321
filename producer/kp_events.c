/*
 * kp_events.c — names of the producer's event kinds (see kp_events.h).
 * A switch, not a table indexed by kind, so blocks may have gaps.
 */
#include "kp_events.h"

#include <stddef.h>

const char *kp_event_kind_name(int kind) {
    switch (kind) {
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
    default:                              return NULL;
    }
}
