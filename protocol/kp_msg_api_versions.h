/*
 * kp_msg_api_versions.h — ApiVersions (api key 18), versions 0..2.
 *
 * The first request a 2.1 client sends on a new connection
 * (NetworkClient.handleConnections -> ApiVersionsRequest); the answer
 * bounds every later request's version: used = min(client max, broker max).
 *
 * Request, v0..v2: no fields (the body is empty).
 *
 * Response:
 *   FIELD              TYPE     VERSIONS  NOTE
 *   error_code         int16    0+
 *   api_keys           ARRAY    0+        non-nullable
 *     api_key          int16    0+
 *     min_version      int16    0+
 *     max_version      int16    0+
 *   throttle_time_ms   int32    1+        default 0 when absent
 *
 * Byte layout of a v1/v2 response with one entry:
 *   OFFSET SIZE DESCRIPTION
 *   0      2    error_code
 *   2      4    api_keys count (1)
 *   6      2    api_key
 *   8      2    min_version
 *   10     2    max_version
 *   12     4    throttle_time_ms
 *
 * A broker that receives ApiVersions with a version it does not support
 * (librdkafka opens with v3, which is flexible) answers in the v0 body
 * layout with error_code UNSUPPORTED_VERSION (35) so that any client can
 * read it and retry lower: kp_api_versions_response_encode_unsupported().
 *
 * Memory: decoded api_keys live in the arena passed to the decoder.
 */
#ifndef KP_MSG_API_VERSIONS_H
#define KP_MSG_API_VERSIONS_H

#include <stdint.h>

#include "kp_arena.h"
#include "kp_buf.h"

#define KP_API_VERSIONS_MIN_VERSION 0
#define KP_API_VERSIONS_MAX_VERSION 2

/* v0..v2 carry no fields; C wants a member. */
typedef struct kp_api_versions_request {
    uint8_t unused_;
} kp_api_versions_request;

typedef struct kp_api_version {
    int16_t api_key;
    int16_t min_version;
    int16_t max_version;
} kp_api_version;

typedef struct kp_api_versions_response {
    int16_t error_code;
    int32_t api_key_count;
    kp_api_version *api_keys;
    int32_t throttle_time_ms; /* v1+ */
} kp_api_versions_response;

void kp_api_versions_request_encode(kp_writer *w, int16_t version, const kp_api_versions_request *m);
kp_err kp_api_versions_request_decode(kp_reader *r, int16_t version, kp_arena *a,
                                      kp_api_versions_request *out);
void kp_api_versions_response_encode(kp_writer *w, int16_t version, const kp_api_versions_response *m);
kp_err kp_api_versions_response_decode(kp_reader *r, int16_t version, kp_arena *a,
                                       kp_api_versions_response *out);

/* The body (no header) a broker sends for an ApiVersions request of a
 * version it does not support: the v0 layout with error_code
 * UNSUPPORTED_VERSION and the given api_keys (may be 0 entries; Kafka
 * brokers since 2.4 list at least ApiVersions' own range so the client
 * can pick a version without a second failure). Decode it with version 0. */
void kp_api_versions_response_encode_unsupported(kp_writer *w, const kp_api_version *api_keys,
                                                 int32_t api_key_count);

#endif
