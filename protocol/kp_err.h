/*
 * kp_err.h — the one error type of kpsim.
 *
 * Kafka's protocol error codes keep their numbers and their protocol names
 * (KP_ERR_NOT_LEADER_FOR_PARTITION = 6), so a reader can look them up in the
 * protocol guide. Errors that never travel on the wire (a malformed frame, a
 * local timeout, a closed producer) are negative and spelled with a double
 * underscore (KP_ERR__TIMED_OUT), in the range -100..-199 so that they never
 * collide with Kafka's -1 UNKNOWN_SERVER_ERROR.
 *
 * Flags follow kafka-clients 2.1.1:
 *   retriable       — a RetriableException subclass in 2.1
 *   invalid_metadata — an InvalidMetadataException subclass: a producer that
 *                     sees it requests a metadata update (Sender.completeBatch)
 *
 * Memory: names are static strings; nothing here allocates.
 */
#ifndef KP_ERR_H
#define KP_ERR_H

#include <stdbool.h>

typedef enum kp_err {
    /* ---- local errors (never on the wire) -------------------------- */
    KP_ERR__BAD_MSG            = -100, /* malformed bytes: length, varint, enum */
    KP_ERR__TRUNCATED          = -101, /* input ended inside a field */
    KP_ERR__CRC                = -102, /* RecordBatch CRC32C mismatch */
    KP_ERR__NOMEM              = -103, /* allocation failed / buffer too small */
    KP_ERR__TIMED_OUT          = -104, /* Java TimeoutException */
    KP_ERR__INVALID_ARG        = -105, /* caller passed a bad argument */
    KP_ERR__STATE              = -106, /* illegal state for this call */
    KP_ERR__RECORD_TOO_LARGE   = -107, /* Java RecordTooLargeException (local) */
    KP_ERR__BUFFER_EXHAUSTED   = -108, /* BufferPool could not allocate in max.block.ms */
    KP_ERR__CLOSED             = -109, /* producer/connection closed */
    KP_ERR__UNSUPPORTED        = -110, /* version / feature not supported here */
    KP_ERR__NOENT              = -111, /* no such thing (topic, node, file) */
    KP_ERR__COMPRESSION        = -112, /* codec failed to (de)compress */
    KP_ERR__CONFIG             = -113, /* Java ConfigException */
    KP_ERR__TRANSPORT          = -114, /* connection refused / reset */
    KP_ERR__FATAL              = -115, /* producer in a fatal state */
    KP_ERR__ABORTED            = -116, /* batch aborted (forceClose, txn abort) */
    KP_ERR__EXPIRED            = -117, /* batch expired: delivery.timeout.ms */
    KP_ERR__INTERCEPTOR        = -118, /* an interceptor failed */
    KP_ERR__SERIALIZATION      = -119, /* a serializer failed */
    KP_ERR__INTERRUPTED        = -120, /* Java InterruptException */
    KP_ERR__LOCAL_MIN          = -120,

    /* ---- Kafka protocol error codes (2.1.1) ------------------------ */
    KP_ERR_UNKNOWN_SERVER_ERROR                   = -1,
    KP_ERR_NONE                                   = 0,
    KP_ERR_OFFSET_OUT_OF_RANGE                    = 1,
    KP_ERR_CORRUPT_MESSAGE                        = 2,
    KP_ERR_UNKNOWN_TOPIC_OR_PARTITION             = 3,
    KP_ERR_INVALID_FETCH_SIZE                     = 4,
    KP_ERR_LEADER_NOT_AVAILABLE                   = 5,
    KP_ERR_NOT_LEADER_FOR_PARTITION               = 6,
    KP_ERR_REQUEST_TIMED_OUT                      = 7,
    KP_ERR_BROKER_NOT_AVAILABLE                   = 8,
    KP_ERR_REPLICA_NOT_AVAILABLE                  = 9,
    KP_ERR_MESSAGE_TOO_LARGE                      = 10,
    KP_ERR_STALE_CONTROLLER_EPOCH                 = 11,
    KP_ERR_OFFSET_METADATA_TOO_LARGE              = 12,
    KP_ERR_NETWORK_EXCEPTION                      = 13,
    KP_ERR_COORDINATOR_LOAD_IN_PROGRESS           = 14,
    KP_ERR_COORDINATOR_NOT_AVAILABLE              = 15,
    KP_ERR_NOT_COORDINATOR                        = 16,
    KP_ERR_INVALID_TOPIC_EXCEPTION                = 17,
    KP_ERR_RECORD_LIST_TOO_LARGE                  = 18,
    KP_ERR_NOT_ENOUGH_REPLICAS                    = 19,
    KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND       = 20,
    KP_ERR_INVALID_REQUIRED_ACKS                  = 21,
    KP_ERR_ILLEGAL_GENERATION                     = 22,
    KP_ERR_INCONSISTENT_GROUP_PROTOCOL            = 23,
    KP_ERR_INVALID_GROUP_ID                       = 24,
    KP_ERR_UNKNOWN_MEMBER_ID                      = 25,
    KP_ERR_INVALID_SESSION_TIMEOUT                = 26,
    KP_ERR_REBALANCE_IN_PROGRESS                  = 27,
    KP_ERR_INVALID_COMMIT_OFFSET_SIZE             = 28,
    KP_ERR_TOPIC_AUTHORIZATION_FAILED             = 29,
    KP_ERR_GROUP_AUTHORIZATION_FAILED             = 30,
    KP_ERR_CLUSTER_AUTHORIZATION_FAILED           = 31,
    KP_ERR_INVALID_TIMESTAMP                      = 32,
    KP_ERR_UNSUPPORTED_SASL_MECHANISM             = 33,
    KP_ERR_ILLEGAL_SASL_STATE                     = 34,
    KP_ERR_UNSUPPORTED_VERSION                    = 35,
    KP_ERR_TOPIC_ALREADY_EXISTS                   = 36,
    KP_ERR_INVALID_PARTITIONS                     = 37,
    KP_ERR_INVALID_REPLICATION_FACTOR             = 38,
    KP_ERR_INVALID_REPLICA_ASSIGNMENT             = 39,
    KP_ERR_INVALID_CONFIG                         = 40,
    KP_ERR_NOT_CONTROLLER                         = 41,
    KP_ERR_INVALID_REQUEST                        = 42,
    KP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT         = 43,
    KP_ERR_POLICY_VIOLATION                       = 44,
    KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER           = 45,
    KP_ERR_DUPLICATE_SEQUENCE_NUMBER              = 46,
    KP_ERR_INVALID_PRODUCER_EPOCH                 = 47,
    KP_ERR_INVALID_TXN_STATE                      = 48,
    KP_ERR_INVALID_PRODUCER_ID_MAPPING            = 49,
    KP_ERR_INVALID_TRANSACTION_TIMEOUT            = 50,
    KP_ERR_CONCURRENT_TRANSACTIONS                = 51,
    KP_ERR_TRANSACTION_COORDINATOR_FENCED         = 52,
    KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED  = 53,
    KP_ERR_SECURITY_DISABLED                      = 54,
    KP_ERR_OPERATION_NOT_ATTEMPTED                = 55,
    KP_ERR_KAFKA_STORAGE_ERROR                    = 56,
    KP_ERR_LOG_DIR_NOT_FOUND                      = 57,
    KP_ERR_SASL_AUTHENTICATION_FAILED             = 58,
    KP_ERR_UNKNOWN_PRODUCER_ID                    = 59,
    KP_ERR_REASSIGNMENT_IN_PROGRESS               = 60,
    KP_ERR_DELEGATION_TOKEN_AUTH_DISABLED         = 61,
    KP_ERR_DELEGATION_TOKEN_NOT_FOUND             = 62,
    KP_ERR_DELEGATION_TOKEN_OWNER_MISMATCH        = 63,
    KP_ERR_DELEGATION_TOKEN_REQUEST_NOT_ALLOWED   = 64,
    KP_ERR_DELEGATION_TOKEN_AUTHORIZATION_FAILED  = 65,
    KP_ERR_DELEGATION_TOKEN_EXPIRED               = 66,
    KP_ERR_INVALID_PRINCIPAL_TYPE                 = 67,
    KP_ERR_NON_EMPTY_GROUP                        = 68,
    KP_ERR_GROUP_ID_NOT_FOUND                     = 69,
    KP_ERR_FETCH_SESSION_ID_NOT_FOUND             = 70,
    KP_ERR_INVALID_FETCH_SESSION_EPOCH            = 71,
    KP_ERR_LISTENER_NOT_FOUND                     = 72,
    KP_ERR_TOPIC_DELETION_DISABLED                = 73,
    KP_ERR_FENCED_LEADER_EPOCH                    = 74,
    KP_ERR_UNKNOWN_LEADER_EPOCH                   = 75,
    KP_ERR_UNSUPPORTED_COMPRESSION_TYPE           = 76,
    KP_ERR_KAFKA_MAX                              = 76
} kp_err;

/* Protocol or local name without prefix, e.g. "NOT_LEADER_FOR_PARTITION",
 * "_TIMED_OUT". Never NULL: unknown codes give "ERR_<n>" from a static ring
 * (valid until 8 more unknown codes are named). */
const char *kp_err_name(kp_err err);

/* A sentence for humans, e.g. "This server is not the leader for that
 * topic-partition." Never NULL. */
const char *kp_err_desc(kp_err err);

/* Looks a name up (with or without the "KP_ERR_" prefix, case-insensitive).
 * Returns true and sets *out on success. */
bool kp_err_from_name(const char *name, kp_err *out);

/* RetriableException in kafka-clients 2.1.1. */
bool kp_err_is_retriable(kp_err err);

/* InvalidMetadataException in kafka-clients 2.1.1 (triggers metadata update). */
bool kp_err_is_invalid_metadata(kp_err err);

/* True for codes in the table (Kafka 2.1.1 codes and kpsim's local codes). */
bool kp_err_is_known(kp_err err);

#endif
