/*
 * sn_int.h — simnet internals shared by sn_world.c, sn_net.c, sn_chaos.c
 * and live.c. Not for use outside simnet/.
 *
 * Invariants:
 *   - a pending timer is in exactly one of two queues, and its heap_index
 *     says which: w->heap[0..heap_len) is a binary min-heap on (at, seq),
 *     and w->heap[t->heap_index - 1].t == t; or, with SN__IN_FIFO set,
 *     w->fifo[(t->heap_index & ~SN__IN_FIFO) - 1].t == t. Either slot's
 *     (at, seq) equal t's.
 *   - the FIFO holds only timers scheduled for the time that was `now` when
 *     they were scheduled. now never decreases and seq only grows, so the
 *     FIFO is in (at, seq) order already: its live slots in
 *     [fifo_head, fifo_len) are sorted, a cancelled slot has t == NULL,
 *     fifo[fifo_head] is live unless the FIFO is empty (then head = len = 0),
 *     and fifo_live counts the live slots. The next event is the smaller of
 *     the heap's root and the FIFO's head.
 *   - w->nodes[i]->id == i; links is a links_cap x links_cap matrix indexed
 *     [from * links_cap + to], links_cap >= n_nodes.
 *   - the connection list is in creation order; a connection leaves it only
 *     when it is freed (sn__conn_gc), never during a fault's walk over it.
 *   - within one direction, chunk arrival times are non-decreasing and
 *     sum(chunk lengths) == the in-flight bytes (the stream's bytes after
 *     the kept, unread and gap ones; the FIN chunk has length 0). The
 *     stream is the ring, or, while the sender lent bytes
 *     (sn_conn_sendv_keep), the ring's bytes and the lent ones in the
 *     order of the direction's pieces (sn_net.c, sn__dir).
 */
#ifndef SN_INT_H
#define SN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sn_chaos.h"
#include "sn_net.h"
#include "sn_world.h"

/* ---- byte ring, grown by doubling (power-of-two capacity) ----------------- */
#define SN__RING_SPARES 8
#define SN__RING_SPARE_MIN 4096

typedef struct sn__ring {
    uint8_t *buf;
    size_t cap, head, len;
} sn__ring;

/* Growth takes a buffer from the world's spares when one is large enough
 * (sn_world.ring_spare) and gives the old one back to them; so does
 * sn__ring_free. */
bool sn__ring_push(sn_world *w, sn__ring *r, const void *data, size_t n);
void sn__ring_truncate(sn__ring *r, size_t keep); /* drops all but the first keep */
void sn__ring_free(sn_world *w, sn__ring *r);

/* ---- links ------------------------------------------------------------- */
typedef struct sn__link {
    sn_link_cfg cfg;          /* valid when has_cfg */
    bool has_cfg;
    bool part_script;         /* sn_fault_partition */
    bool bh_script;           /* sn_fault_blackhole */
    uint16_t part_chaos;      /* chaos partitions active (count) */
    uint16_t bh_chaos;        /* chaos blackholes active (count) */
    bool slow_chaos;          /* a chaos slow-link fault owns cfg now */
    kp_time_us busy_until;    /* the direction's transmitter is busy until */
} sn__link;

typedef struct sn__listener {
    char *host;
    int port;
    sn_accept_cb *on_accept;
    void *ctx;
} sn__listener;

struct sn_node {
    sn_world *w;
    int32_t id;
    char *name;
    bool up;
    int64_t sndbuf, rcvbuf;
    uint64_t connects;        /* connects made from here (rng stream names) */
    uint64_t rx_gen;          /* bumped by every event posted to one of this
                               * node's endpoints (sn__post): the transport's
                               * generation op */
    sn__listener *listeners;
    int n_listeners, cap_listeners;
};

typedef struct sn__conn sn__conn;

typedef struct sn__chaos sn__chaos;

/* A heap slot carries its timer's key, so sifting never chases pointers. */
#define SN__IN_FIFO 0x80000000u /* in sn_timer.heap_index: a FIFO slot */
typedef struct sn__hent {
    kp_time_us at;
    uint64_t seq;
    sn_timer *t;
} sn__hent;

struct sn_world {
    sn_world_head head;       /* first: sn_now reads head.now (sn_world.h) */
    uint64_t seed;
    kp_observer obs;
    uint64_t next_seq;
    uint64_t events_run;
    sn__hent *heap;
    uint32_t heap_len, heap_cap;
    /* timers scheduled at now, in schedule order (see the invariants): in
     * quiet-hour about 40% of schedules, which skip the heap's sifts */
    sn__hent *fifo;
    uint32_t fifo_head, fifo_len, fifo_cap, fifo_live;

    /* live mode (live.c): the clock seam reads the real clock */
    bool live;
    kp_clock live_clock;

    /* network */
    sn_node **nodes;
    int n_nodes, cap_nodes;
    sn__link *links;
    int links_cap;
    sn_link_cfg default_link;
    int64_t sndbuf, rcvbuf;   /* defaults for new nodes */
    sn__conn *conn_head, *conn_tail;
    uint64_t next_conn_id;
    /* connection event details, one per distinct text, kept until
     * sn__net_destroy (sn_detail_is_stable) */
    char **labels;
    int n_labels, cap_labels;

    /* Byte ring buffers (SN__RING_SPARE_MIN bytes or more) that a ring let
     * go of, when it grew or its connection was freed: the next ring that
     * grows takes the smallest one that is large enough instead of a
     * fresh block, whose pages it would fault in one by one as the ring
     * fills (a new connection after a reset, or the next connection
     * growing through the same sizes). At most SN__RING_SPARES, the
     * largest kept; freed by sn__net_destroy. Contents are garbage; which
     * block a ring gets changes only where its bytes lie, never what a
     * reader sees. */
    struct sn__spare { uint8_t *buf; size_t cap; } ring_spare[SN__RING_SPARES];
    int n_ring_spare;

    sn__chaos *chaos;         /* list of chaos runs (sn_chaos.c) */
    struct sn__planned *planned; /* scheduled faults not yet applied (sn_fault.c) */
};

/* Events: emits one net event when an observer is set. */
void sn__emit(sn_world *w, int kind, int32_t node, int64_t value, int64_t bytes,
              kp_err err, const char *detail);
/* "a>b" names of two nodes into buf (b may be NULL). */
const char *sn__pair_name(char *buf, size_t cap, const sn_node *a, const sn_node *b);

sn__link *sn__link_of(sn_world *w, const sn_node *a, const sn_node *b);
/* After a partition or blackhole was lifted: resume held handshakes and
 * held bytes whose direction is clear now. */
void sn__net_kick(sn_world *w);

/* Faults with their origin ("chaos" faults are counted apart from scripted
 * ones, see sn_chaos.h). `why` goes into the event detail. */
void sn__disconnect(sn_world *w, sn_node *a, sn_node *b, const char *why);
void sn__partition(sn_world *w, sn_node *a, sn_node *b, bool both, bool chaos, bool on);
void sn__blackhole(sn_world *w, sn_node *a, sn_node *b, bool on, bool chaos);
void sn__node_down(sn_world *w, sn_node *n, const char *why);
void sn__node_up(sn_world *w, sn_node *n, const char *why);

void sn__net_destroy(sn_world *w);
bool sn__net_verify(const sn_world *w);
void sn__chaos_destroy(sn_world *w);
void sn__faults_destroy(sn_world *w);

/* live mode hooks (live.c) */
void sn__world_set_live(sn_world *w, kp_clock clock);
void sn__world_set_now(sn_world *w, kp_time_us now);

#endif
