/*
 * sn_net.h — simulated nodes, links and TCP-like connections; faults.
 *
 * Why: the producer and the broker talk through kp_transport (kp_env.h) and
 * must not know whether the bytes crossed a socket or this simulation. Here
 * a connection is a pair of ordered byte streams between two nodes, carried
 * by the link between them, with the behaviour the producer's NetworkClient
 * has to survive: connect delay, refusal, partial reads, latency, bandwidth,
 * reset, partition and blackhole.
 *
 * MODEL (every number from the link configuration of the ordered pair):
 *   connect  A connect from node A to host:port sends a SYN: it arrives at the
 *            listening node B after latency(A->B) (+jitter). If B is up and
 *            listens there, B's on_accept runs then (the accepted conn is
 *            CONNECTED at once) and a SYN-ACK goes back: after
 *            latency(B->A) the client's CONNECTED event fires. If B is down
 *            or nobody listens on host:port, an RST goes back instead and
 *            the client gets CLOSED with KP_ERR__TRANSPORT (refused) after
 *            that same round trip. An address that names no node at all is
 *            refused after a round trip of the default link.
 *            A handshake message that meets a partition or a blackhole is
 *            held (no event, like TCP retrying its SYN) and goes on, one
 *            latency later, when the direction is healed.
 *   bytes    send() copies bytes into the sender's buffer (bounded: sndbuf,
 *            default 131072 = send.buffer.bytes) and cuts them into chunks of
 *            a random size in [min_chunk, max_chunk] (max_chunk <= 0: one
 *            chunk per send). A chunk leaves when the link's transmitter is
 *            free (bandwidth is shared by all connections of a direction):
 *              start   = max(now, link.busy_until)
 *              busy_until = start + ceil(bytes * 8 * 1e6 / bandwidth_bps)
 *              arrival = max(busy_until + latency + U[0, jitter],
 *                            arrival of the previous chunk of this stream)
 *            so a chunk never overtakes an earlier one. At arrival its bytes
 *            move into the receiver's buffer (READABLE fires) and leave the
 *            sender's buffer (one ring per direction holds both: arrival
 *            moves a boundary and copies nothing). WRITABLE fires after a send returned short,
 *            once a third of the send buffer is free again (Linux's
 *            sk_stream_wspace rule): bulk writers should wait for it, since
 *            chunks are cut per send and never merge.
 *            Bytes stay in the sender's buffer until they arrive, so sndbuf
 *            bounds bytes queued + in flight. A receiver that does not read
 *            holds arrivals once it has rcvbuf bytes buffered (default
 *            131072); reading reopens the window, and the held chunk arrives
 *            one latency(receiver->sender) later (the window update).
 *   close    close() releases the handle at once (no more events for it).
 *            On an open connection it sends a FIN behind the bytes already
 *            sent: the peer receives them all, then CLOSED with
 *            KP_ERR__CLOSED. Closing while the connect is still under way
 *            abandons it (a server that had accepted gets CLOSED with
 *            KP_ERR__TRANSPORT one latency later). Bytes that reach an
 *            endpoint already closed by its user are discarded.
 *   reset    a reset (fault) closes the endpoint with KP_ERR__TRANSPORT,
 *            discards its unread bytes and everything in flight.
 *
 * EVENTS are delivered through each endpoint's own timer at the current
 * time, never from inside send/recv/close/connect: after a user call, any
 * consequent event is a later step of the loop. For one endpoint the order
 * within one dispatch is CONNECTED, READABLE (only if recv would return > 0),
 * WRITABLE (only while connected), CLOSED (last; nothing after it). READABLE
 * is edge-triggered (once per arrival): read until recv returns 0 or -1.
 *
 * FAULTS (each emits a trace event, sn_events.h):
 *   disconnect  reset every connection between a and b at once, both sides.
 *   partition   blocks a->b (and b->a): bytes and handshakes in that direction
 *               are held, nothing is lost; the connection looks alive; on heal
 *               everything held arrives one latency after the heal.
 *   blackhole   a<->b drops every chunk that arrives while it is on. A stream
 *               that lost bytes never delivers again (TCP could not deliver
 *               past the hole; only the user's request timeouts notice), but
 *               its sender's buffer keeps draining. Handshakes are held as in
 *               a partition. Connections made after it is lifted work.
 *   node down   every connection of the node is reset: its own endpoints at
 *               once, the remote endpoints one latency later; connects to it
 *               are refused after a round trip. Its listeners stay registered
 *               and answer again after node up. The broker behind the node
 *               is told by the runner, not by simnet.
 *   slow link   sn_set_link at any time: applies to chunks cut afterwards.
 *
 * Memory: nodes belong to the world. Each connection allocates one struct
 * and its byte rings (grown by doubling, per connection, never per byte;
 * a ring's old buffer is kept by the world for the next ring that grows,
 * at most eight of them, until sn_world_destroy); it
 * is freed at the next event step after both of its exposed endpoints are
 * closed by their users, or by sn_world_destroy. A kp_conn handle stays valid
 * until its user closes it. A connection's two event details ("a>b",
 * formatted once at connect, not per event) belong to the world: one copy
 * per distinct text, shared by every connection with the same ends, freed
 * only by sn_world_destroy.
 *
 * PROMISE (sn_detail_is_stable): the detail string of every connection
 * event (CONNECT, ACCEPT, CONNECTED, REFUSED, SEND, DELIVER, HELD, STALL,
 * DROP, WINDOW_FULL, PEER_CLOSED, CLOSE, RESET) keeps its address and its
 * bytes from the event until sn_world_destroy, so an observer may key a
 * cache on its address (the runner's digest pins them). Fault events'
 * details are formatted per event into a buffer that dies with the event.
 *
 * Determinism: nodes, listeners and connections live in arrays/lists in
 * creation order; every random draw (jitter, chunk size) comes from a stream
 * per connection direction, named "net/<client node>/<k>/<c2s|s2c>" where k
 * counts that client node's connects.
 */
#ifndef SN_NET_H
#define SN_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_env.h"
#include "sn_world.h"

typedef struct sn_node sn_node;

typedef struct sn_link_cfg {
    kp_time_us latency_us;   /* one-way */
    kp_time_us jitter_us;    /* each chunk adds U[0, jitter_us] */
    int64_t bandwidth_bps;   /* bits per second; 0 = infinite */
    int min_chunk, max_chunk; /* delivery chunk sizes; max_chunk <= 0: whole sends */
} sn_link_cfg;

/* ---- nodes ------------------------------------------------------------ */

/* Adds a node named `name` (copied; names should be unique — lookups return
 * the first). Node ids count from 0 in creation order. */
sn_node *sn_node_add(sn_world *w, const char *name);
sn_node *sn_node_find(sn_world *w, const char *name);
int32_t sn_node_id(const sn_node *n);
const char *sn_node_name(const sn_node *n);
/* True when s (an event's detail) is one of w's connection event details:
 * its address and bytes then stay the same until sn_world_destroy (the
 * PROMISE above). A walk over the distinct details (about two per pair of
 * nodes that ever connected): for an observer's slow path, not per event. */
bool sn_detail_is_stable(const sn_world *w, const char *s);
bool sn_node_is_up(const sn_node *n);
int sn_node_count(const sn_world *w);
sn_node *sn_node_at(sn_world *w, int id);
/* Socket buffer sizes of this node's endpoints (connections made after the
 * call); <= 0 keeps the current value. */
void sn_node_set_buffers(sn_node *n, int64_t sndbuf, int64_t rcvbuf);

/* ---- server side ------------------------------------------------------ */

typedef void sn_accept_cb(void *ctx, kp_conn *c);
/* Listens on host:port (host NULL = the node's name). Every accepted
 * connection is handed to on_accept (from the loop), already CONNECTED;
 * set its event callback there with sn_conn_set_cb. Returns false if
 * another listener (on any node) holds host:port. */
bool sn_node_listen(sn_node *n, const char *host, int port, sn_accept_cb *on_accept, void *ctx);
/* Stops listening; connects that arrive later are refused. */
void sn_node_unlisten(sn_node *n, const char *host, int port);
/* Sets (or replaces) the event callback of a connection. */
void sn_conn_set_cb(kp_conn *c, kp_conn_cb *cb, void *cb_ctx);

/* ---- client side and connection ops ----------------------------------- */

/* The kp_transport seam for connections made from `from`. Its send, recv,
 * close and state ops also work on connections accepted by any node. */
kp_transport sn_transport(sn_world *w, sn_node *from);

/* Direct forms of the transport ops (same semantics as kp_env.h): send
 * before CONNECTED accepts nothing (returns 0; CONNECTED says when to
 * start); send/recv on a CLOSED connection return -1 (recv first hands out
 * bytes that arrived before a FIN). */
ssize_t sn_conn_send(kp_conn *c, const void *buf, size_t len);
/* The gather form (kp_transport.sendv): sn_conn_send of the pieces'
 * concatenation, copied into the ring piece by piece (same bytes, one send
 * event, one set of chunks). */
ssize_t sn_conn_sendv(kp_conn *c, const kp_iov *iov, int n);
/* kp_transport.sendv_keep: sn_conn_sendv, except that the pieces whose bit
 * is set in keep (iov[i] for bit i < 32) are not copied: the stream refers
 * to them where they lie, and readers (recv, peek, kept) read them there.
 * The caller keeps them unchanged until the peer has read them, or until
 * it closes this endpoint: sn_conn_close (and abort) copies what is still
 * referenced first, so the peer reads the same bytes after the close. */
ssize_t sn_conn_sendv_keep(kp_conn *c, const kp_iov *iov, int n, uint32_t keep);
/* kp_transport.reclaim: what this endpoint lent and the stream still refers
 * to is copied now; the caller may change or free it. Events, bytes and
 * timing are unchanged. */
void sn_conn_reclaim(kp_conn *c);
ssize_t sn_conn_recv(kp_conn *c, void *buf, size_t cap);
/* Zero-copy read: the longest contiguous run of unread bytes, in place
 * (NULL and *len 0 when nothing is unread; unread bytes that wrap around
 * the end of the connection's ring come back in two runs). The bytes stay
 * valid after sn_conn_consume, until the peer endpoint's next send (which
 * may reuse or move the space) or the connection is freed — in practice
 * for the rest of the caller's event callback. */
const uint8_t *sn_conn_peek(kp_conn *c, size_t *len);
/* Marks the first n unread bytes as read (n <= sn_conn_readable), exactly
 * as sn_conn_recv of n bytes would, window update included, without
 * copying them. */
void sn_conn_consume(kp_conn *c, size_t n);
/* Marks the first n unread bytes as read exactly as sn_conn_consume does
 * (window update, events), but keeps them in the ring, in order, behind
 * the bytes kept before, until sn_conn_release: a reader that cannot use
 * them yet holds them there instead of copying them. While bytes are kept
 * the reader reads on only with peek + keep (recv and consume assert);
 * closing drops them; a reset drops only the unread bytes (the kept ones
 * were read, as a recv'd buffer would be). sn_conn_kept: the contiguous run of kept
 * bytes from offset off (NULL, *len 0 past the end; a run that wraps
 * around the ring's end comes back in two), valid as sn_conn_peek's. */
void sn_conn_keep(kp_conn *c, size_t n);
const uint8_t *sn_conn_kept(kp_conn *c, size_t off, size_t *len);
/* Lets go of the first n kept bytes (n <= what is kept). */
void sn_conn_release(kp_conn *c, size_t n);
void sn_conn_close(kp_conn *c);
kp_conn_state sn_conn_state(const kp_conn *c);
/* The transport's pending op: false exactly when the endpoint is
 * CONNECTED and sn_conn_recv would return 0 and change nothing (no unread
 * byte, no held window update). */
bool sn_conn_pending(const kp_conn *c);
/* Resets the connection like a disconnect fault (RST both sides: the peer
 * gets CLOSED with KP_ERR__TRANSPORT at once) and releases the handle. */
void sn_conn_abort(kp_conn *c);
/* Bytes received and not yet read / accepted by send and not yet arrived. */
int64_t sn_conn_readable(const kp_conn *c);
int64_t sn_conn_unacked(const kp_conn *c);
/* World-unique connection id (creation order, from 1) and the nodes. */
uint64_t sn_conn_id(const kp_conn *c);
sn_node *sn_conn_node(const kp_conn *c);      /* this endpoint's node */
sn_node *sn_conn_peer_node(const kp_conn *c); /* NULL for an unknown address */
/* Connection structs alive in the world (not yet freed). */
int sn_conn_count(const sn_world *w);

/* ---- links ------------------------------------------------------------ */

/* Every pair without its own configuration uses the default (initially
 * latency 1000 us, no jitter, infinite bandwidth, whole-send chunks). */
void sn_set_default_link(sn_world *w, sn_link_cfg cfg);
/* Both directions a->b and b->a. Emits SN_EV_LINK_CFG. */
void sn_set_link(sn_world *w, sn_node *a, sn_node *b, sn_link_cfg cfg);
/* Only a->b. */
void sn_set_link_oneway(sn_world *w, sn_node *a, sn_node *b, sn_link_cfg cfg);
/* Back to the default for both directions. */
void sn_reset_link(sn_world *w, sn_node *a, sn_node *b);
/* The configuration in force for a->b. */
sn_link_cfg sn_link_get(const sn_world *w, const sn_node *a, const sn_node *b);
/* True when a->b is partitioned / blackholed now. */
bool sn_link_blocked(const sn_world *w, const sn_node *a, const sn_node *b);
bool sn_link_blackholed(const sn_world *w, const sn_node *a, const sn_node *b);

/* ---- faults ----------------------------------------------------------- */

/* b NULL means "every other node" for all four pair faults. */
void sn_fault_disconnect(sn_world *w, sn_node *a, sn_node *b);
void sn_fault_partition(sn_world *w, sn_node *a, sn_node *b, bool both_ways);
/* Partitions every node of `as` from every node of `bs`. */
void sn_fault_partition_sets(sn_world *w, sn_node *const *as, int na,
                             sn_node *const *bs, int nb, bool both_ways);
/* Heals a<->b in both directions (scripted and chaos partitions alike). */
void sn_fault_heal(sn_world *w, sn_node *a, sn_node *b);
void sn_fault_blackhole(sn_world *w, sn_node *a, sn_node *b, bool on);
void sn_fault_node_down(sn_world *w, sn_node *n);
void sn_fault_node_up(sn_world *w, sn_node *n);

/* ---- faults as data (for scenario schedules) ---------------------------- */

typedef enum sn_fault_kind {
    SN_FAULT_DISCONNECT = 1,  /* a, b (b NULL: all of a's) */
    SN_FAULT_PARTITION,       /* a <-> b */
    SN_FAULT_PARTITION_ONEWAY,/* a -> b only */
    SN_FAULT_HEAL,            /* a <-> b */
    SN_FAULT_BLACKHOLE_ON,    /* a <-> b */
    SN_FAULT_BLACKHOLE_OFF,
    SN_FAULT_NODE_DOWN,       /* a */
    SN_FAULT_NODE_UP,         /* a */
    SN_FAULT_LINK             /* a <-> b get `link` (slow link) */
} sn_fault_kind;

typedef struct sn_fault {
    sn_fault_kind kind;
    sn_node *a, *b;
    sn_link_cfg link;         /* SN_FAULT_LINK only */
} sn_fault;

/* "disconnect", "partition", ...; NULL for an unknown kind. */
const char *sn_fault_kind_name(sn_fault_kind k);
/* The kind named `name` (as sn_fault_kind_name spells it); 0 when unknown. */
sn_fault_kind sn_fault_kind_parse(const char *name);
/* Applies the fault now, exactly as the sn_fault_* call it names. */
void sn_fault_apply(sn_world *w, const sn_fault *f);
/* Applies it at `at` (a copy is kept by the world until then; freed by
 * sn_world_destroy if the time never comes). The runner learns of node
 * faults through the observer's SN_EV_NODE_DOWN / SN_EV_NODE_UP events. */
void sn_fault_schedule(sn_world *w, kp_time_us at, const sn_fault *f);

#endif
