/*
 * kp_err.c — the error table: name, description, retriable and
 * invalid-metadata flags for every code kpsim knows (see kp_err.h).
 */
#include "kp_err.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define R  1 /* retriable */
#define M  2 /* invalid metadata (implies a metadata refresh) */

typedef struct kp_err_row {
    kp_err code;
    const char *name;
    unsigned flags;
    const char *desc;
} kp_err_row;

static const kp_err_row kp_err_rows[] = {
    { KP_ERR__BAD_MSG, "_BAD_MSG", 0, "Malformed protocol bytes." },
    { KP_ERR__TRUNCATED, "_TRUNCATED", 0, "Input ended inside a field." },
    { KP_ERR__CRC, "_CRC", 0, "RecordBatch CRC32C does not match its contents." },
    { KP_ERR__NOMEM, "_NOMEM", 0, "Out of memory or output buffer too small." },
    { KP_ERR__TIMED_OUT, "_TIMED_OUT", 0, "Timed out (TimeoutException)." },
    { KP_ERR__INVALID_ARG, "_INVALID_ARG", 0, "Invalid argument." },
    { KP_ERR__STATE, "_STATE", 0, "Operation not allowed in the current state." },
    { KP_ERR__RECORD_TOO_LARGE, "_RECORD_TOO_LARGE", 0, "Record is larger than max.request.size or buffer.memory (RecordTooLargeException)." },
    { KP_ERR__BUFFER_EXHAUSTED, "_BUFFER_EXHAUSTED", 0, "Failed to allocate memory within the configured max blocking time." },
    { KP_ERR__CLOSED, "_CLOSED", 0, "Closed." },
    { KP_ERR__UNSUPPORTED, "_UNSUPPORTED", 0, "Not supported by this implementation or version." },
    { KP_ERR__NOENT, "_NOENT", 0, "No such entity." },
    { KP_ERR__COMPRESSION, "_COMPRESSION", 0, "Compression or decompression failed." },
    { KP_ERR__CONFIG, "_CONFIG", 0, "Invalid configuration (ConfigException)." },
    { KP_ERR__TRANSPORT, "_TRANSPORT", 0, "Connection refused or reset." },
    { KP_ERR__FATAL, "_FATAL", 0, "The producer is in a fatal error state." },
    { KP_ERR__ABORTED, "_ABORTED", 0, "Aborted before it was sent." },
    { KP_ERR__EXPIRED, "_EXPIRED", 0, "Expired: delivery.timeout.ms passed before acknowledgement." },
    { KP_ERR__INTERCEPTOR, "_INTERCEPTOR", 0, "An interceptor failed." },
    { KP_ERR__SERIALIZATION, "_SERIALIZATION", 0, "Serialization failed (SerializationException)." },
    { KP_ERR__INTERRUPTED, "_INTERRUPTED", 0, "Interrupted (InterruptException)." },

    { KP_ERR_UNKNOWN_SERVER_ERROR, "UNKNOWN_SERVER_ERROR", 0, "The server experienced an unexpected error." },
    { KP_ERR_NONE, "NONE", 0, "Success." },
    { KP_ERR_OFFSET_OUT_OF_RANGE, "OFFSET_OUT_OF_RANGE", 0, "Requested offset is outside the log's range." },
    { KP_ERR_CORRUPT_MESSAGE, "CORRUPT_MESSAGE", R, "A record failed its CRC or is otherwise corrupt." },
    { KP_ERR_UNKNOWN_TOPIC_OR_PARTITION, "UNKNOWN_TOPIC_OR_PARTITION", R | M, "This server does not host that topic-partition." },
    { KP_ERR_INVALID_FETCH_SIZE, "INVALID_FETCH_SIZE", 0, "The requested fetch size is invalid." },
    { KP_ERR_LEADER_NOT_AVAILABLE, "LEADER_NOT_AVAILABLE", R | M, "There is no leader for this topic-partition (election in progress)." },
    { KP_ERR_NOT_LEADER_FOR_PARTITION, "NOT_LEADER_FOR_PARTITION", R | M, "This server is not the leader for that topic-partition." },
    { KP_ERR_REQUEST_TIMED_OUT, "REQUEST_TIMED_OUT", R, "The request timed out on the server." },
    { KP_ERR_BROKER_NOT_AVAILABLE, "BROKER_NOT_AVAILABLE", 0, "The broker is not available." },
    { KP_ERR_REPLICA_NOT_AVAILABLE, "REPLICA_NOT_AVAILABLE", 0, "The replica is not available for the requested topic-partition." },
    { KP_ERR_MESSAGE_TOO_LARGE, "MESSAGE_TOO_LARGE", 0, "The request included a batch larger than the server accepts." },
    { KP_ERR_STALE_CONTROLLER_EPOCH, "STALE_CONTROLLER_EPOCH", 0, "The controller moved to another broker." },
    { KP_ERR_OFFSET_METADATA_TOO_LARGE, "OFFSET_METADATA_TOO_LARGE", 0, "The offset commit metadata is too large." },
    { KP_ERR_NETWORK_EXCEPTION, "NETWORK_EXCEPTION", R | M, "The connection was closed before a response was received." },
    { KP_ERR_COORDINATOR_LOAD_IN_PROGRESS, "COORDINATOR_LOAD_IN_PROGRESS", R, "The coordinator is still loading." },
    { KP_ERR_COORDINATOR_NOT_AVAILABLE, "COORDINATOR_NOT_AVAILABLE", R, "The coordinator is not available." },
    { KP_ERR_NOT_COORDINATOR, "NOT_COORDINATOR", R, "This is not the correct coordinator." },
    { KP_ERR_INVALID_TOPIC_EXCEPTION, "INVALID_TOPIC_EXCEPTION", 0, "The topic name is not valid." },
    { KP_ERR_RECORD_LIST_TOO_LARGE, "RECORD_LIST_TOO_LARGE", 0, "The record batch is larger than the segment size." },
    { KP_ERR_NOT_ENOUGH_REPLICAS, "NOT_ENOUGH_REPLICAS", R, "Fewer in-sync replicas than min.insync.replicas; not appended." },
    { KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", R, "Appended, but fewer in-sync replicas than required acknowledged it." },
    { KP_ERR_INVALID_REQUIRED_ACKS, "INVALID_REQUIRED_ACKS", 0, "acks must be -1, 0 or 1." },
    { KP_ERR_ILLEGAL_GENERATION, "ILLEGAL_GENERATION", 0, "Illegal consumer group generation." },
    { KP_ERR_INCONSISTENT_GROUP_PROTOCOL, "INCONSISTENT_GROUP_PROTOCOL", 0, "Group protocol does not match the group's." },
    { KP_ERR_INVALID_GROUP_ID, "INVALID_GROUP_ID", 0, "The group id is invalid." },
    { KP_ERR_UNKNOWN_MEMBER_ID, "UNKNOWN_MEMBER_ID", 0, "The member id is not in the current generation." },
    { KP_ERR_INVALID_SESSION_TIMEOUT, "INVALID_SESSION_TIMEOUT", 0, "The session timeout is out of range." },
    { KP_ERR_REBALANCE_IN_PROGRESS, "REBALANCE_IN_PROGRESS", 0, "The group is rebalancing." },
    { KP_ERR_INVALID_COMMIT_OFFSET_SIZE, "INVALID_COMMIT_OFFSET_SIZE", 0, "The offset commit was rejected: metadata too large." },
    { KP_ERR_TOPIC_AUTHORIZATION_FAILED, "TOPIC_AUTHORIZATION_FAILED", 0, "Not authorized to access the topic." },
    { KP_ERR_GROUP_AUTHORIZATION_FAILED, "GROUP_AUTHORIZATION_FAILED", 0, "Not authorized to access the group." },
    { KP_ERR_CLUSTER_AUTHORIZATION_FAILED, "CLUSTER_AUTHORIZATION_FAILED", 0, "Not authorized for this cluster action." },
    { KP_ERR_INVALID_TIMESTAMP, "INVALID_TIMESTAMP", 0, "The timestamp is out of the accepted range." },
    { KP_ERR_UNSUPPORTED_SASL_MECHANISM, "UNSUPPORTED_SASL_MECHANISM", 0, "SASL mechanism not supported." },
    { KP_ERR_ILLEGAL_SASL_STATE, "ILLEGAL_SASL_STATE", 0, "Request not valid in the SASL state." },
    { KP_ERR_UNSUPPORTED_VERSION, "UNSUPPORTED_VERSION", 0, "The server does not support this API version." },
    { KP_ERR_TOPIC_ALREADY_EXISTS, "TOPIC_ALREADY_EXISTS", 0, "The topic already exists." },
    { KP_ERR_INVALID_PARTITIONS, "INVALID_PARTITIONS", 0, "The number of partitions is invalid." },
    { KP_ERR_INVALID_REPLICATION_FACTOR, "INVALID_REPLICATION_FACTOR", 0, "The replication factor is invalid." },
    { KP_ERR_INVALID_REPLICA_ASSIGNMENT, "INVALID_REPLICA_ASSIGNMENT", 0, "The replica assignment is invalid." },
    { KP_ERR_INVALID_CONFIG, "INVALID_CONFIG", 0, "The configuration is invalid." },
    { KP_ERR_NOT_CONTROLLER, "NOT_CONTROLLER", R, "This is not the controller." },
    { KP_ERR_INVALID_REQUEST, "INVALID_REQUEST", 0, "The request is malformed or invalid." },
    { KP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT, "UNSUPPORTED_FOR_MESSAGE_FORMAT", 0, "The message format version does not support this request." },
    { KP_ERR_POLICY_VIOLATION, "POLICY_VIOLATION", 0, "The request violates a configured policy." },
    { KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "OUT_OF_ORDER_SEQUENCE_NUMBER", 0, "The broker received an out of order sequence number." },
    { KP_ERR_DUPLICATE_SEQUENCE_NUMBER, "DUPLICATE_SEQUENCE_NUMBER", 0, "The broker received a duplicate sequence number." },
    { KP_ERR_INVALID_PRODUCER_EPOCH, "INVALID_PRODUCER_EPOCH", 0, "The producer epoch is old: another producer with the same transactional.id took over (fenced)." },
    { KP_ERR_INVALID_TXN_STATE, "INVALID_TXN_STATE", 0, "The operation is not valid in the transaction's state." },
    { KP_ERR_INVALID_PRODUCER_ID_MAPPING, "INVALID_PRODUCER_ID_MAPPING", 0, "The producer id does not match the transactional.id." },
    { KP_ERR_INVALID_TRANSACTION_TIMEOUT, "INVALID_TRANSACTION_TIMEOUT", 0, "The transaction timeout exceeds the broker's maximum." },
    { KP_ERR_CONCURRENT_TRANSACTIONS, "CONCURRENT_TRANSACTIONS", 0, "The coordinator is still completing the previous transaction." },
    { KP_ERR_TRANSACTION_COORDINATOR_FENCED, "TRANSACTION_COORDINATOR_FENCED", 0, "A newer transaction coordinator exists." },
    { KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", 0, "Not authorized for this transactional.id." },
    { KP_ERR_SECURITY_DISABLED, "SECURITY_DISABLED", 0, "Security features are disabled." },
    { KP_ERR_OPERATION_NOT_ATTEMPTED, "OPERATION_NOT_ATTEMPTED", 0, "Not attempted because another part of the request failed." },
    { KP_ERR_KAFKA_STORAGE_ERROR, "KAFKA_STORAGE_ERROR", R | M, "Disk error on the broker for this partition." },
    { KP_ERR_LOG_DIR_NOT_FOUND, "LOG_DIR_NOT_FOUND", 0, "The log directory does not exist." },
    { KP_ERR_SASL_AUTHENTICATION_FAILED, "SASL_AUTHENTICATION_FAILED", 0, "SASL authentication failed." },
    { KP_ERR_UNKNOWN_PRODUCER_ID, "UNKNOWN_PRODUCER_ID", 0, "The broker has no state for this producer id." },
    { KP_ERR_REASSIGNMENT_IN_PROGRESS, "REASSIGNMENT_IN_PROGRESS", 0, "A partition reassignment is in progress." },
    { KP_ERR_DELEGATION_TOKEN_AUTH_DISABLED, "DELEGATION_TOKEN_AUTH_DISABLED", 0, "Delegation token authentication is disabled." },
    { KP_ERR_DELEGATION_TOKEN_NOT_FOUND, "DELEGATION_TOKEN_NOT_FOUND", 0, "Delegation token not found." },
    { KP_ERR_DELEGATION_TOKEN_OWNER_MISMATCH, "DELEGATION_TOKEN_OWNER_MISMATCH", 0, "Delegation token owner mismatch." },
    { KP_ERR_DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", 0, "Delegation token requests not allowed on this channel." },
    { KP_ERR_DELEGATION_TOKEN_AUTHORIZATION_FAILED, "DELEGATION_TOKEN_AUTHORIZATION_FAILED", 0, "Delegation token authorization failed." },
    { KP_ERR_DELEGATION_TOKEN_EXPIRED, "DELEGATION_TOKEN_EXPIRED", 0, "Delegation token expired." },
    { KP_ERR_INVALID_PRINCIPAL_TYPE, "INVALID_PRINCIPAL_TYPE", 0, "The principal type is not supported." },
    { KP_ERR_NON_EMPTY_GROUP, "NON_EMPTY_GROUP", 0, "The group is not empty." },
    { KP_ERR_GROUP_ID_NOT_FOUND, "GROUP_ID_NOT_FOUND", 0, "The group id does not exist." },
    { KP_ERR_FETCH_SESSION_ID_NOT_FOUND, "FETCH_SESSION_ID_NOT_FOUND", R, "The fetch session id was not found." },
    { KP_ERR_INVALID_FETCH_SESSION_EPOCH, "INVALID_FETCH_SESSION_EPOCH", R, "The fetch session epoch is invalid." },
    { KP_ERR_LISTENER_NOT_FOUND, "LISTENER_NOT_FOUND", R | M, "The leader has no endpoint for this listener." },
    { KP_ERR_TOPIC_DELETION_DISABLED, "TOPIC_DELETION_DISABLED", 0, "Topic deletion is disabled." },
    { KP_ERR_FENCED_LEADER_EPOCH, "FENCED_LEADER_EPOCH", R | M, "The leader epoch in the request is older than the broker's." },
    { KP_ERR_UNKNOWN_LEADER_EPOCH, "UNKNOWN_LEADER_EPOCH", R, "The leader epoch in the request is newer than the broker's." },
    { KP_ERR_UNSUPPORTED_COMPRESSION_TYPE, "UNSUPPORTED_COMPRESSION_TYPE", 0, "The compression type is not supported by this request version." },
};

#define KP_ERR_NROWS (sizeof(kp_err_rows) / sizeof(kp_err_rows[0]))

static const kp_err_row *kp_err_row_of(kp_err err) {
    /* Kafka codes are dense from -1 and local codes dense from -100 down:
     * index directly, verify, fall back to a scan. */
    size_t nlocal = (size_t)(-100 - KP_ERR__LOCAL_MIN) + 1;
    size_t idx;
    if (err <= -100 && err >= KP_ERR__LOCAL_MIN)
        idx = (size_t)(-100 - (int)err);
    else if (err >= -1 && err <= KP_ERR_KAFKA_MAX)
        idx = nlocal + (size_t)((int)err + 1);
    else
        return NULL;
    if (idx < KP_ERR_NROWS && kp_err_rows[idx].code == err)
        return &kp_err_rows[idx];
    for (size_t i = 0; i < KP_ERR_NROWS; i++)
        if (kp_err_rows[i].code == err)
            return &kp_err_rows[i];
    return NULL;
}

const char *kp_err_name(kp_err err) {
    const kp_err_row *row = kp_err_row_of(err);
    if (row)
        return row->name;
    static char ring[8][24];
    static unsigned next;
    char *s = ring[next++ % 8];
    snprintf(s, sizeof ring[0], "ERR_%d", (int)err);
    return s;
}

const char *kp_err_desc(kp_err err) {
    const kp_err_row *row = kp_err_row_of(err);
    return row ? row->desc : "Unknown error code.";
}

bool kp_err_from_name(const char *name, kp_err *out) {
    if (!name)
        return false;
    if (strncasecmp(name, "KP_ERR_", 7) == 0)
        name += 7;
    for (size_t i = 0; i < KP_ERR_NROWS; i++) {
        if (strcasecmp(kp_err_rows[i].name, name) == 0) {
            *out = kp_err_rows[i].code;
            return true;
        }
    }
    return false;
}

bool kp_err_is_retriable(kp_err err) {
    const kp_err_row *row = kp_err_row_of(err);
    return row && (row->flags & R);
}

bool kp_err_is_invalid_metadata(kp_err err) {
    const kp_err_row *row = kp_err_row_of(err);
    return row && (row->flags & M);
}

bool kp_err_is_known(kp_err err) {
    return kp_err_row_of(err) != NULL;
}
