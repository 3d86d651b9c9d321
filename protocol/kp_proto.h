/*
 * kp_proto.h — Kafka request/response framing, headers, API keys and the
 * version table, and dispatch to the per-API codecs (kp_msg_*.h).
 *
 * Both sides use this: the producer encodes requests and decodes responses,
 * broker_mock decodes requests and encodes responses. Only non-flexible
 * versions exist here (no tagged fields, no compact strings), which is all
 * a 2.1 client speaks.
 *
 * Frame on the wire (request):
 *   OFFSET  SIZE DESCRIPTION
 *   0       4    size: int32, bytes that follow (header + body)
 *   4       2    api_key          int16
 *   6       2    api_version      int16
 *   8       4    correlation_id   int32
 *   12      2+n  client_id        NULLABLE_STRING (int16 length, -1 = null)
 *   14+n    ...  request body, layout per (api_key, api_version): kp_msg_*.h
 *
 * Frame on the wire (response):
 *   0       4    size
 *   4       4    correlation_id   int32 (response header v0)
 *   8       ...  response body; its layout is known only from the request
 *                that the correlation id answers, so the decoder takes
 *                (api_key, api_version) from the caller.
 *
 * Memory: decoded messages put their arrays in the caller's kp_arena and
 * point into the caller's frame buffer for strings and record sets; both
 * must outlive the decoded struct. Nothing here mallocs.
 *
 * Decoders are strict: they consume exactly the frame (trailing bytes are
 * KP_ERR__BAD_MSG), check array counts against the bytes left before
 * allocating, and reject (api_key, version) pairs outside kp_api_supported
 * with KP_ERR__UNSUPPORTED.
 */
#ifndef KP_PROTO_H
#define KP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_buf.h"
#include "kp_err.h"
#include "kp_msg_api_versions.h"
#include "kp_msg_fetch.h"
#include "kp_msg_metadata.h"
#include "kp_msg_produce.h"
#include "kp_msg_txn.h"

/* ---- API keys ------------------------------------------------------ */

/* The keys kpsim encodes and decodes. kp_api_name() knows the names of
 * every key of Kafka 2.1 (0..42). */
typedef enum kp_api_key {
    KP_API_PRODUCE = 0,
    KP_API_FETCH = 1,
    KP_API_LIST_OFFSETS = 2,
    KP_API_METADATA = 3,
    KP_API_FIND_COORDINATOR = 10,
    KP_API_API_VERSIONS = 18,
    KP_API_INIT_PRODUCER_ID = 22,
    KP_API_ADD_PARTITIONS_TO_TXN = 24,
    KP_API_END_TXN = 26,
} kp_api_key;

/* Protocol name, e.g. "Produce", "InitProducerId"; "Unknown" otherwise.
 * Never NULL. */
const char *kp_api_name(int16_t api_key);

/* ---- versions ------------------------------------------------------ */

/* The version range kpsim implements per API, ordered by api key. The
 * maxima are the 2.1.1 client's (Produce v7, Metadata v7, ApiVersions v2,
 * FindCoordinator v2, InitProducerId v1, AddPartitionsToTxn v1, EndTxn v1)
 * plus ListOffsets v3 and Fetch v10 for reading back. broker_mock can hand
 * this table to its ApiVersions response as it is. */
extern const kp_api_version kp_api_supported[];
extern const int32_t kp_api_supported_count;

/* The range for api_key, or NULL if kpsim does not implement it. */
const kp_api_version *kp_api_supported_range(int16_t api_key);
bool kp_api_version_supported(int16_t api_key, int16_t version);

/* ---- headers ------------------------------------------------------- */

typedef struct kp_request_header { /* request header v1 */
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    kp_slice client_id; /* nullable */
} kp_request_header;

typedef struct kp_response_header { /* response header v0 */
    int32_t correlation_id;
} kp_response_header;

void kp_request_header_encode(kp_writer *w, const kp_request_header *h);
kp_err kp_request_header_decode(kp_reader *r, kp_request_header *out);
void kp_response_header_encode(kp_writer *w, const kp_response_header *h);
kp_err kp_response_header_decode(kp_reader *r, kp_response_header *out);

/* ---- any message --------------------------------------------------- */

typedef union kp_request_body {
    kp_produce_request produce;
    kp_fetch_request fetch;
    kp_list_offsets_request list_offsets;
    kp_metadata_request metadata;
    kp_find_coordinator_request find_coordinator;
    kp_api_versions_request api_versions;
    kp_init_producer_id_request init_producer_id;
    kp_add_partitions_to_txn_request add_partitions_to_txn;
    kp_end_txn_request end_txn;
} kp_request_body;

typedef struct kp_request {
    kp_request_header hdr;
    kp_request_body body; /* the member named by hdr.api_key */
} kp_request;

typedef union kp_response_body {
    kp_produce_response produce;
    kp_fetch_response fetch;
    kp_list_offsets_response list_offsets;
    kp_metadata_response metadata;
    kp_find_coordinator_response find_coordinator;
    kp_api_versions_response api_versions;
    kp_init_producer_id_response init_producer_id;
    kp_add_partitions_to_txn_response add_partitions_to_txn;
    kp_end_txn_response end_txn;
} kp_response_body;

typedef struct kp_response {
    kp_response_header hdr;
    kp_response_body body; /* the member named by the request's api key */
} kp_response;

/* Body codecs by (api_key, version). `body` points to the struct of that
 * API (e.g. a kp_produce_request for KP_API_PRODUCE). The encoders assert
 * that the pair is supported; the decoders return KP_ERR__UNSUPPORTED. */
void kp_request_body_encode(kp_writer *w, int16_t api_key, int16_t version, const void *body);
kp_err kp_request_body_decode(kp_reader *r, int16_t api_key, int16_t version, kp_arena *a,
                              kp_request_body *out);
void kp_response_body_encode(kp_writer *w, int16_t api_key, int16_t version, const void *body);
kp_err kp_response_body_decode(kp_reader *r, int16_t api_key, int16_t version, kp_arena *a,
                               kp_response_body *out);

/* NetworkClient: a request expects a response unless it is a Produce with
 * acks = 0 (ProduceRequest.acks() == 0 -> expectResponse false). `req` is
 * the request body struct of that API (may be NULL for APIs other than
 * Produce). */
bool kp_api_has_response(int16_t api_key, int16_t version, const void *req);

/* ---- frames -------------------------------------------------------- */

/* Kafka brokers' socket.request.max.bytes default (100 MiB). */
#define KP_FRAME_MAX_DEFAULT (100 * 1024 * 1024)

/* Is there a whole frame at the start of buf[0..len)?
 *   KP_ERR_NONE        yes; *frame_len = 4 + size (size prefix included)
 *   KP_ERR__TRUNCATED  not yet; *frame_len = bytes needed so far (4 until
 *                      the size is readable, then 4 + size)
 *   KP_ERR__BAD_MSG    size < 0 or size > max_size: close the connection */
kp_err kp_frame_peek(const void *buf, size_t len, int32_t max_size, size_t *frame_len);

/* Size prefix: kp_frame_begin reserves it, kp_frame_end patches it with the
 * bytes written since (so a sizing pass with a NULL buffer works too). */
size_t kp_frame_begin(kp_writer *w);
void kp_frame_end(kp_writer *w, size_t begin);

/* size + request header v1 + body. `body` as for kp_request_body_encode. */
void kp_request_frame_encode(kp_writer *w, const kp_request_header *h, const void *body);

/* Parses one whole request frame (size prefix included, exactly `len`
 * bytes, as delimited by kp_frame_peek). On KP_ERR__UNSUPPORTED (api key
 * unknown here or version out of range) out->hdr is valid, so a broker can
 * answer ApiVersions with kp_api_versions_unsupported_frame_encode(). */
kp_err kp_request_frame_decode(const void *frame, size_t len, kp_arena *a, kp_request *out);

/* A request frame gathered from pieces: frame[0, len) is the frame with
 * the byte runs runs[0..nruns) cut out (run i belongs right after the first
 * runs[i].at bytes of frame, at > the header; kp_wr_gather's layout), and
 * its size field counts them. When the runs are exactly the records of a
 * Produce request's partitions and the joined frame decodes, decodes into
 * *out what kp_request_frame_decode would decode from the joined frame
 * (those records pointing into the runs) and returns true; otherwise
 * returns false, having decided nothing: the caller joins the frame and
 * decodes it as usual (errors included). The runs are read in place: a
 * broker reads a batch where the client's transport left it. */
bool kp_request_frame_decode_gathered(const uint8_t *frame, size_t len, const kp_wr_run *runs, int nruns,
                                      kp_arena *a, kp_request *out);

/* size + response header v0 + body. */
void kp_response_frame_encode(kp_writer *w, int16_t api_key, int16_t version, int32_t correlation_id,
                              const void *body);

/* The correlation id of a whole response frame, to find the request it
 * answers (and with it api_key and version). */
kp_err kp_response_frame_header(const void *frame, size_t len, kp_response_header *out);

/* Parses one whole response frame of a request of (api_key, version). */
kp_err kp_response_frame_decode(const void *frame, size_t len, int16_t api_key, int16_t version,
                                kp_arena *a, kp_response *out);

/* The whole frame a broker sends for an ApiVersions request of a version it
 * does not support: size, correlation id, v0 body with error
 * UNSUPPORTED_VERSION and the given api_keys (see kp_msg_api_versions.h). */
void kp_api_versions_unsupported_frame_encode(kp_writer *w, int32_t correlation_id,
                                              const kp_api_version *api_keys, int32_t api_key_count);

#endif
