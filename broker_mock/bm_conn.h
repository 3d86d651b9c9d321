/*
 * bm_conn.h — one client connection to one broker of a bm_cluster:
 * request bytes in, response bytes out.
 *
 * The carrier (simnet's simulated stream, or a real socket in
 * tools/cmd_broker.c) feeds whatever bytes arrived, in any chunking:
 * partial frames, several frames at once, one byte at a time. Each
 * complete frame is one request:
 *
 *   OFFSET SIZE DESCRIPTION
 *   0      4    size: int32, bytes that follow (request header + body)
 *   4      2    api_key
 *   6      2    api_version
 *   8      4    correlation_id
 *   12     2+n  client_id: nullable string (int16 length, -1 = null)
 *   ..          request body (per API, protocol/kp_msg_*.h)
 *
 * Responses are `int32 size, int32 correlation_id, body` and leave through
 * io->write in request order, as Kafka guarantees per connection, even
 * when a later request completes first (acks=all waits and injected
 * delays defer a response; a quota throttle mutes the connection after
 * its response; acks=0 Produce has none).
 *
 * Malformed input closes *this* connection with a logged reason (a
 * BM_EV_CONN_CLOSED event and io->close(ctx, reason)): a size < 8 or
 * > socket.request.max.bytes, a truncated header, an API the broker does
 * not implement (what a 2.1 broker does too: it cannot parse the request
 * and drops the connection), an unsupported version of an implemented API,
 * a body that does not decode. ApiVersions with a version above the
 * supported range is answered (v0 body, UNSUPPORTED_VERSION and the
 * supported ranges), as Kafka's brokers do for clients that probe.
 * Other connections and the cluster go on.
 *
 * Memory: the connection copies bytes it needs; `io` is copied, io_ctx is
 * borrowed. After io->close has been called the bm_conn is already freed;
 * the carrier must not touch it again (and must not call bm_conn_close).
 * io->write must accept the whole buffer (the carrier queues what the
 * socket does not take at once).
 */
#ifndef BM_CONN_H
#define BM_CONN_H

#include <stddef.h>
#include <stdint.h>

typedef struct bm_cluster bm_cluster;
typedef struct bm_conn bm_conn;

typedef struct bm_conn_io {
    void (*write)(void *ctx, const uint8_t *bytes, size_t len);
    void (*close)(void *ctx, const char *reason);
    /* Optional, both or neither: a keeping carrier holds the unread input
     * itself (simnet's sn_conn_keep) and feeds with bm_conn_feed_kept.
     * kept: the contiguous run of the held bytes from offset off (NULL and
     * *len 0 past the end); release: the connection is done with the
     * first n held bytes. The connection then copies only a frame that
     * lies across two runs, never the frames queued behind a request in
     * progress, and of such a frame not the runs that are exactly a
     * Produce request's records (read in place during the request's
     * handler; valid until released, like every held byte). */
    const uint8_t *(*kept)(void *ctx, size_t off, size_t *len);
    void (*release)(void *ctx, size_t n);
} bm_conn_io;

/* A connection accepted by broker_id. NULL if the broker is down or
 * unknown (the carrier refuses the connect), or on no memory. */
bm_conn *bm_conn_open(bm_cluster *c, int32_t broker_id, const bm_conn_io *io, void *io_ctx);

/* Bytes received from the client, borrowed for the call: whole frames are
 * decoded where they lie when nothing is buffered, the rest is copied. May
 * call io->write and io->close before it returns. Then call
 * bm_cluster_poll (deadlines may have changed). */
void bm_conn_feed(bm_conn *conn, const uint8_t *bytes, size_t len);

/* For a keeping carrier (io.kept set): n more bytes received are held by
 * the carrier behind those it already held for this connection; bytes is
 * where they lie now (contiguous, valid for the call), so a connection
 * that held nothing reads them without asking io.kept. The
 * connection takes whole frames as bm_conn_feed would (same order, same
 * events, same input limit) and releases each frame's bytes once taken. */
void bm_conn_feed_kept(bm_conn *conn, const uint8_t *bytes, size_t n);

/* The client went away: pending responses are dropped, the connection is
 * freed; io->close is NOT called. Accepts NULL. */
void bm_conn_close(bm_conn *conn);

/* Requests received / responses written so far on this connection. */
int64_t bm_conn_requests(const bm_conn *conn);
int64_t bm_conn_responses(const bm_conn *conn);

#endif
