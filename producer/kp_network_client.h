/*
 * kp_network_client.h — the producer's NetworkClient (kafka-clients 2.1):
 * per-node connections over a kp_transport, ClusterConnectionStates,
 * InFlightRequests, ApiVersions negotiation, request timeouts, throttling,
 * leastLoadedNode, wakeup, and the MetadataUpdater seam
 * (DefaultMetadataUpdater: kp_metadata_updater_* at the end). Internal
 * requests (ApiVersions, Metadata) complete through their own callbacks;
 * a disconnect reaches them as a disconnected response, which is where
 * Java calls MetadataUpdater.handleDisconnection.
 *
 * Single-threaded model (DESIGN.md "Threads and blocking"): nothing here
 * blocks. kp_netclient_poll(nc, timeout, now) is Java's NetworkClient.poll
 * without the selector wait: it flushes pending output, reads whatever the
 * transport has, completes responses, handles disconnections, new
 * connections, ApiVersions, timed-out requests, and then calls the
 * completion callbacks in order. It returns how long the caller may sleep
 * (min of `timeout`, the metadata timeout and the request-timeout
 * deadline). Transport readiness callbacks only record the event and call
 * env.wakeup(); the work happens in the next poll.
 *
 * Wire framing (Kafka protocol guide), requests written by this module:
 *
 *   OFFSET SIZE DESCRIPTION
 *   0      4    size of the rest (int32, big-endian)
 *   4      2    api_key
 *   6      2    api_version (min(client max, broker max) from ApiVersions)
 *   8      4    correlation_id (per client, +1 per request)
 *   12     2+n  client_id (nullable string)
 *   ...         request body (written by the caller's encode function)
 *
 * Responses: int32 size, int32 correlation_id, body. The correlation id
 * must be that of the oldest in-flight request of that node; anything else
 * is a protocol error and the connection is closed (its requests complete
 * as disconnected).
 *
 * ClusterConnectionStates, per node:
 *   DISCONNECTED --connect--> CONNECTING --established--> CHECKING_API_VERSIONS
 *   --ApiVersions ok--> READY;  any --close/reset/timeout--> DISCONNECTED.
 * Reconnect backoff after a disconnect: reconnect.backoff.ms *
 * 2^(failures-1), exponent capped at log2(max/base), times U(0.8,1.2) from
 * the producer's rng stream; only when max > base (else a flat base).
 * A successful ApiVersions exchange resets the failure count.
 *
 * Idle connections (Selector.maybeCloseOldestConnection): a connection
 * with nothing in flight and no bytes moved for connections.max.idle.ms is
 * closed; as in 2.1 that is a disconnect like any other (backoff grows, a
 * metadata update is requested).
 *
 * Memory: the client owns its connection table, per-connection input and
 * output buffers (grown, reused, bounded by KP_NC_MAX_FRAME), in-flight
 * rings (max.in.flight entries per node) and node host strings. A response
 * body passed to a callback is borrowed for the duration of the callback.
 * The metadata updater and env are borrowed and must outlive the client.
 * Byte fields an encoder hands over with kp_wr_bytes_ref (the sender's
 * batches) are borrowed during kp_netclient_send: with a transport
 * that has sendv the frame goes out as one gather write of the header
 * parts (in the output buffer) and those bytes (where they lie), and
 * whatever the transport did not take is joined into the output buffer
 * before the call returns. So a partly written frame never refers to a
 * batch. A request that expects a response goes further with a transport
 * that has sendv_keep: it lends those bytes, which the transport reads in
 * place until the peer read them or the connection is closed; the caller
 * keeps them unchanged until the request completes (its response, or its
 * disconnection, which closes the connection first), or calls
 * kp_netclient_reclaim before it changes or frees one earlier (the
 * sender: before it aborts in-flight batches and before the transaction
 * manager rewrites in-flight batches' sequences).
 *
 * Invariants: per node, in-flight correlation ids are increasing from the
 * oldest to the newest; count <= max_in_flight; a node is READY only with
 * an established transport connection and negotiated versions; at most
 * one request frame is partially written per connection (Java: one send in
 * progress per KafkaChannel), and no new request is queued until it is out.
 * poll skips its idle and timeout walks before the earliest deadline it
 * knows: no request deadline and no idle deadline is earlier than it, and
 * the in-flight total is the sum of the connections' counts. A connection
 * marked quiet is locally idle (nothing to write, no whole frame buffered,
 * no acks=0 send to complete, no close due); poll then asks only the
 * transport's pending op, and not even that while the transport's
 * generation op reads what it read at the previous poll. poll's closing walk runs only when a connection
 * changed since the last one (else the earliest deadline stands).
 */
#ifndef KP_NETWORK_CLIENT_H
#define KP_NETWORK_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_buf.h"
#include "kp_env.h"
#include "kp_metadata.h"

#define KP_NC_MAX_FRAME (100 * 1024 * 1024) /* larger frames are malformed */
#define KP_NC_MAX_NODES 256
#define KP_NC_MAX_API_KEY 64

typedef struct kp_netclient kp_netclient;

typedef enum kp_conn_status {
    KP_NODE_DISCONNECTED = 0,
    KP_NODE_CONNECTING = 1,
    KP_NODE_CHECKING_API_VERSIONS = 2,
    KP_NODE_READY = 3
} kp_conn_status;

const char *kp_conn_status_name(kp_conn_status s);

/* What a completion callback sees (Java ClientResponse). */
typedef struct kp_client_response {
    int32_t node;
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    int64_t created_ms;     /* when the request was created (send time) */
    int64_t received_ms;    /* when the response (or disconnect) was seen */
    bool disconnected;      /* connection lost/closed/timed out before a response */
    bool timed_out;         /* disconnected because request.timeout.ms passed */
    bool version_mismatch;  /* no usable version: never sent */
    const uint8_t *body;    /* response body after the correlation id; NULL
                             * when there is no response (acks=0, disconnect) */
    size_t body_len;
} kp_client_response;

typedef void kp_request_done_cb(void *ctx, const kp_client_response *resp);
/* Writes the request body for `version` into w: once, or twice when the
 * first write did not fit (the writer then only counted the size) or was
 * a sizing pass (NULL buffer). Must write the same bytes each time.
 * false = cannot encode. Byte fields written with kp_wr_bytes_ref may be
 * gathered (the writer then lists them instead of copying them) when the
 * transport offers a gather write: their memory is read until
 * kp_netclient_send returns, and not after (what the transport did not
 * take by then is copied into the connection's buffer), so it must stay
 * unchanged during that call only. */
typedef bool kp_request_encode_fn(void *ctx, kp_writer *w, int16_t version);

/* Java MetadataUpdater: the client asks it for nodes and lets it send
 * internal Metadata requests. */
typedef struct kp_metadata_updater_ops {
    /* Fills up to cap nodes; returns the count. */
    int (*fetch_nodes)(void *ctx, kp_node *out, int cap);
    /* isUpdateDue: no fetch in flight and metadata.timeToNextUpdate == 0. */
    bool (*is_update_due)(void *ctx, int64_t now_ms);
    /* maybeUpdate: may send a Metadata request; returns ms until it needs
     * to run again. */
    int64_t (*maybe_update)(void *ctx, int64_t now_ms);
    /* metadata.requestUpdate(). */
    void (*request_update)(void *ctx);
} kp_metadata_updater_ops;

typedef struct kp_netclient_opts {
    const char *client_id;        /* copied */
    int max_in_flight;            /* max.in.flight.requests.per.connection */
    int64_t reconnect_backoff_ms;
    int64_t reconnect_backoff_max_ms;
    int64_t request_timeout_ms;
    bool discover_versions;       /* ApiVersions on each new connection */
    int64_t connections_max_idle_ms; /* Selector idle expiry; 0 = never */
} kp_netclient_opts;

/* env is borrowed; env->rng is forked into the client's own stream. */
kp_netclient *kp_netclient_new(const kp_netclient_opts *opts, const kp_env *env);
void kp_netclient_destroy(kp_netclient *nc); /* closes connections; accepts NULL */

void kp_netclient_set_updater(kp_netclient *nc, const kp_metadata_updater_ops *ops, void *ctx);

/* Client maximum version per API (Java ApiKeys latestVersion); ApiVersions
 * narrows it per node. Defaults: KAFKA_FACTS "Client max versions". */
void kp_netclient_set_client_max_version(kp_netclient *nc, int16_t api_key, int16_t v);

/* NetworkClient.ready: true if a request can be sent now; otherwise starts
 * a connection when allowed and returns false. */
bool kp_netclient_ready(kp_netclient *nc, const kp_node *node, int64_t now_ms);
/* isReady: !metadata update due && canSendRequest. */
bool kp_netclient_is_ready(kp_netclient *nc, int32_t node, int64_t now_ms);
/* canSendRequest: state READY, not throttled, output drained, room in flight. */
bool kp_netclient_can_send(kp_netclient *nc, int32_t node, int64_t now_ms);
/* Starts connecting if allowed (canConnect). Returns true if it did. */
bool kp_netclient_maybe_connect(kp_netclient *nc, const kp_node *node, int64_t now_ms);
/* connectionDelay: ms until a reconnect is allowed (0 if now), or
 * INT64_MAX while connecting / connected. */
int64_t kp_netclient_connection_delay(kp_netclient *nc, int32_t node, int64_t now_ms);
/* pollDelayMs: the throttle delay when connected and throttled, else
 * connectionDelay. */
int64_t kp_netclient_poll_delay(kp_netclient *nc, int32_t node, int64_t now_ms);
bool kp_netclient_is_blacked_out(kp_netclient *nc, int32_t node, int64_t now_ms);
bool kp_netclient_is_any_connecting(const kp_netclient *nc);
kp_conn_status kp_netclient_status(const kp_netclient *nc, int32_t node);
/* The node's current reconnect backoff (for tests and traces). */
int64_t kp_netclient_reconnect_backoff(const kp_netclient *nc, int32_t node);
int kp_netclient_failed_attempts(const kp_netclient *nc, int32_t node);

/* leastLoadedNode: an idle READY node if any (scan from a random offset),
 * else the not-blacked-out node with the fewest in-flight requests. Fills
 * *out and returns true, or false when none. out->host points into the
 * client and stays valid until the next fetch_nodes. */
bool kp_netclient_least_loaded_node(kp_netclient *nc, int64_t now_ms, kp_node *out);

/* Sends a request. api_key with [min_version, max_version] the versions
 * the builder allows (Java oldestAllowedVersion/latestAllowedVersion);
 * the client picks the highest one the broker also supports. A request
 * without usable version completes with version_mismatch at the next poll.
 * expect_response false (acks=0): completes as soon as the bytes are
 * written. internal: a Metadata/ApiVersions request of the client itself.
 * Returns the correlation id, or -1 when the node cannot take a request
 * (call kp_netclient_can_send first). */
int32_t kp_netclient_send(kp_netclient *nc, int32_t node, int16_t api_key,
                          int16_t min_version, int16_t max_version,
                          kp_request_encode_fn *encode, void *encode_ctx,
                          bool expect_response, int64_t timeout_ms,
                          kp_request_done_cb *done, void *done_ctx, int64_t now_ms);

/* NetworkClient.poll: does all pending I/O work and completes responses.
 * Returns how long the caller may sleep, <= timeout_ms. */
int64_t kp_netclient_poll(kp_netclient *nc, int64_t timeout_ms, int64_t now_ms);

/* Throttle the node until now + throttle_ms (Java maybeThrottle: only for
 * responses whose version makes the client throttle, Produce v6+ etc.). */
void kp_netclient_throttle(kp_netclient *nc, int32_t node, int64_t throttle_ms, int64_t now_ms);
int64_t kp_netclient_throttle_delay(const kp_netclient *nc, int32_t node, int64_t now_ms);

/* Closes the connection now; its in-flight requests complete as
 * disconnected at the next poll. */
void kp_netclient_disconnect(kp_netclient *nc, int32_t node, int64_t now_ms);

int kp_netclient_in_flight_count(const kp_netclient *nc);
int kp_netclient_in_flight_count_node(const kp_netclient *nc, int32_t node);
bool kp_netclient_has_in_flight(const kp_netclient *nc);
/* The negotiated version for api_key on node, -1 if unknown. */
int kp_netclient_api_version(const kp_netclient *nc, int32_t node, int16_t api_key);
/* Sender.wakeup -> env.wakeup. */
void kp_netclient_wakeup(kp_netclient *nc);
/* Takes back every batch byte a connection's transport still reads in
 * place (kp_transport.reclaim; requests that lent their batches, see
 * kp_netclient_send): call before a batch of a live request may change or
 * go, other than through that request's completion or its connection's
 * close (which take it back first). No I/O, no event. */
void kp_netclient_reclaim(kp_netclient *nc);
/* Abort everything and close every connection (NetworkClient.close). */
void kp_netclient_close(kp_netclient *nc, int64_t now_ms);

/* Checks the invariants in the header comment (tests, debug builds):
 * false and a reason in why (may be NULL) when one is broken. */
bool kp_netclient_verify(const kp_netclient *nc, char *why, size_t n);

/* Correlation ids of a node's in-flight requests, oldest first (tests). */
int kp_netclient_in_flight_ids(const kp_netclient *nc, int32_t node, int32_t *out, int cap);

#endif

/* ------------------------------------------------------------------ */
/* DefaultMetadataUpdater (NetworkClient.DefaultMetadataUpdater 2.1)   */
/* ------------------------------------------------------------------ */

/* The producer's metadata updater: feeds the client the cluster's nodes,
 * and in maybeUpdate (the blog's walk-through) waits for an in-flight
 * fetch, picks leastLoadedNode, connects to it if needed, then sends a
 * Metadata request for the known topics (allow_auto_topic_creation true);
 * the response becomes a kp_cluster given to kp_metadata_update (empty
 * node list = failedUpdate). Installs itself with kp_netclient_set_updater.
 * Both nc and md are borrowed and must outlive the updater. */
typedef struct kp_metadata_updater kp_metadata_updater;

kp_metadata_updater *kp_metadata_updater_new(kp_netclient *nc, kp_metadata *md,
                                             int64_t request_timeout_ms,
                                             int64_t reconnect_backoff_ms,
                                             const kp_env *env);
void kp_metadata_updater_destroy(kp_metadata_updater *u); /* NULL ok */
bool kp_metadata_updater_fetch_in_progress(const kp_metadata_updater *u);
/* Metadata requests sent / responses applied (for tests and metrics). */
int64_t kp_metadata_updater_requests(const kp_metadata_updater *u);
