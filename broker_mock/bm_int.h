/*
 * bm_int.h — broker_mock's internal structures, shared by its .c files
 * (bm_cluster.c: controller, replication, logs, producer state;
 * bm_txn.c: transaction coordinator; bm_conn.c: framing and request
 * dispatch; bm_handlers.c: one handler per API). Not for other layers.
 *
 * Ownership:
 *   bm_cluster owns brokers, topics (and their partitions, replicas, logs),
 *   transactional ids, injection rules, quota windows and the connection
 *   registry. A bm_batch is reference counted: each replica log holding it
 *   owns one reference; the bytes live in the same allocation (a digested
 *   batch's digest array instead, in bytes[]: dig points there until the
 *   batch is settled, then NULL). A freed batch with a small tail goes to
 *   the cluster's batch pool (a free list the cluster owns) for the next
 *   produced batch: a simulation folds and frees one header per batch
 *   (per record in the quiet hour, where nearly every batch holds one).
 *   With a digester and a settle hook, a settled batch is then *folded*:
 *   every replica drops it (it is freed) and what a new leader's replay
 *   of it would add to the producer state goes into the partition's fold
 *   (bm_fold_producer per producer id, bm_fold_txn per aborted
 *   transaction's batch), so a simulation's logs hold only the unsettled
 *   suffix and memory does not grow with the batch count.
 *
 * Invariants (checked by bm_cluster_verify):
 *   - a replica log is contiguous: log[i+1]->base_offset == log[i]->last_offset + 1,
 *     log[0]->base_offset >= log_start (rounded down to a batch), leo == last + 1;
 *     an empty log ends at or after bm__log_base (log start or fold end);
 *   - folded batches are in no log: log[0]->last_offset >= fold_off;
 *   - every live ISR member's log is a pointer prefix of (or equal to) the
 *     leader's; the leader is in the ISR;
 *   - hw <= leo of every ISR member when there is a leader;
 *   - with a settle hook: the batches below `settled` are the same in
 *     every replica's log (none can be truncated away any more), settled_n
 *     of them; a replica's log[0 .. same_n) is the leader's (the settle
 *     walk's progress);
 *   - producer entries are sorted by pid, unique, hold <= 5 batch metadata;
 *   - open transactions are sorted by first offset.
 */
#ifndef BM_INT_H
#define BM_INT_H

#include "bm_cluster.h"
#include "bm_conn.h"
#include "bm_events.h"
#include "kp_compress.h"
#include "kp_proto.h"

/* RecordBatch v2 header (KAFKA_FACTS.md), the fields the broker reads or
 * rewrites:
 *   OFFSET SIZE DESCRIPTION
 *   0      8    baseOffset            (rewritten by the leader)
 *   8      4    batchLength = total - 12
 *   12     4    partitionLeaderEpoch  (rewritten by the leader)
 *   16     1    magic = 2
 *   17     4    crc = CRC32C of [21, end)
 *   21     2    attributes: 0-2 codec, 3 LogAppendTime, 4 transactional, 5 control
 *   23     4    lastOffsetDelta
 *   27     8    firstTimestamp
 *   35     8    maxTimestamp          (rewritten with LogAppendTime, CRC redone)
 *   43     8    producerId
 *   51     2    producerEpoch
 *   53     4    baseSequence
 *   57     4    recordCount
 *   61     ..   records
 */
#define BM_BATCH_HDR 61
#define BM_POOL_TAIL 64  /* bytes after the header of a pooled batch block */
#define BM_POOL_MAX 256  /* pooled blocks kept at most */
/* No pool under AddressSanitizer: a freed batch is really freed, so a use
 * after free is still reported. */
#if defined(__SANITIZE_ADDRESS__)
#define BM_POOL_ON 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BM_POOL_ON 0
#endif
#endif
#ifndef BM_POOL_ON
#define BM_POOL_ON 1
#endif
#define BM_ATTR_LOG_APPEND_TIME 0x08
#define BM_ATTR_TRANSACTIONAL 0x10
#define BM_ATTR_CONTROL 0x20

typedef struct bm_batch {
    uint32_t refs;
    uint32_t len;             /* the batch's size as received (bytes) */
    bool digested;            /* the records are in dig, not in bytes[] */
    bool pooled;              /* a block of the pool's size (bm_cluster.batch_pool) */
    bm_digest *dig;           /* digested: count digests (in bytes[]), NULL
                               * once handed to the settle hook */
    int64_t base_offset;
    int64_t last_offset;
    int32_t count;
    int64_t pid;
    int16_t epoch;
    int32_t base_seq;
    int16_t attributes;
    int8_t ctrl_type;         /* -1 data, 0 abort marker, 1 commit marker */
    int64_t max_timestamp;
    kp_time_us append_us;     /* when the leader appended it */
    int32_t leader_epoch;
    uint8_t bytes[];          /* the batch as stored (offsets rewritten), or
                               * a digested batch's digests */
} bm_batch;
_Static_assert(offsetof(bm_batch, bytes) % _Alignof(bm_digest) == 0,
               "a digested batch's digests live in bytes[]");

typedef struct bm_replica {
    int32_t broker;
    /* log[0 .. n): the batches after the folded prefix. log == mem + head:
     * folding drops from the front by moving log on; bm_log_push slides
     * the batches back to mem when the end of mem is reached and at least
     * half of it is free (amortised O(1) per batch). */
    bm_batch **log;
    size_t n;
    bm_batch **mem;
    size_t head, cap;
    int64_t leo;
    bool in_isr;
    kp_time_us last_caught_up_us;
    kp_time_us last_fetch_us;
    int64_t last_fetch_leader_leo;
    /* a caught-up ISR follower at the last full ISR-shrink scan, not
     * changed since but by the leader's appends: the polls that skip the
     * scan (bm_isr_shrink) leave its last_caught_up_us behind, raised when
     * it stops being one (bm_caught_up_sync, bm_leader_appended) */
    bool caught_up;
    /* with a settle hook: log[0 .. same_n) are known to be the leader's
     * log[0 .. same_n) (the settle walk's progress; a lower bound, cut by
     * truncation, a leader change, deletion and the fold) */
    size_t same_n;
} bm_replica;

#define BM_PRODUCER_WINDOW 5 /* ProducerStateEntry.NumBatchesToRetain */

typedef struct bm_batch_meta {
    int32_t first_seq, last_seq;
    int64_t first_offset, last_offset;
    int64_t timestamp;
} bm_batch_meta;

/* One producer id's state (ProducerStateEntry): b is a ring, the oldest
 * of the nb batches held at head (bm__producer_meta), so adding a batch
 * moves none; head is 0 until the ring is full, so b[0 .. nb) are the
 * batches held. The leader's table (bm_partition.prod) and the fold's
 * (bm_fold_producer) are kept by the same update (bm_producer_apply). */
typedef struct bm_producer {
    int64_t pid;
    int16_t epoch;
    int16_t head;                     /* the oldest's slot in b */
    int32_t nb;                       /* batch metadata held */
    bm_batch_meta b[BM_PRODUCER_WINDOW];
    int64_t txn_first_offset;         /* -1: no open transaction */
} bm_producer;

/* The k-th oldest batch of e's window (0 <= k < e->nb). */
static inline const bm_batch_meta *bm__producer_meta(const bm_producer *e, int32_t k) {
    int32_t at = e->head + k;
    return &e->b[at >= BM_PRODUCER_WINDOW ? at - BM_PRODUCER_WINDOW : at];
}

/* The fold of a producer id: the state a replay of the folded batches
 * (from the log start) gives it, plus the last offset of its last folded
 * batch, data or marker. Every transaction in the folded prefix is
 * complete (a transactional batch settles only with its marker), so after
 * the replay txn_first_offset is -1 again; it is the open transaction's
 * first offset only while folding. */
typedef struct bm_fold_producer {
    bm_producer st;
    int64_t last_offset;
} bm_fold_producer;

/* A folded batch of an aborted transaction (data, or the abort marker
 * closing a transaction that had data here): a replay that starts inside
 * the transaction (after DeleteRecords) opens it at its first retained
 * batch, so the aborted range it adds depends on these offsets. */
typedef struct bm_fold_txn {
    int64_t pid;
    int64_t base_offset;
    int64_t last_offset;
    bool marker;
} bm_fold_txn;

/* The settle walk's progress on one transaction (bm_settle): no marker
 * of pid in the leader's log after the batch at `from` and before `to`;
 * `outcome` (BM_TXN_COMMITTED / ABORTED) when the marker at `to` is its
 * first after `from`, else 0. pid -1: unused. */
typedef struct bm_txn_wait {
    int64_t pid;
    int64_t from, to;
    int outcome;
} bm_txn_wait;
#define BM_TXN_WAITS 4 /* transactions followed at once per partition */

typedef struct bm_txn_range {
    int64_t pid;
    int64_t first_offset;
    int64_t last_offset;              /* marker offset (aborted index) */
} bm_txn_range;

typedef struct bm_topic bm_topic;

typedef struct bm_partition {
    bm_topic *topic;
    int32_t id;
    bm_replica *rep;
    int32_t nrep;
    int32_t leader;                   /* index into rep, -1 none */
    int32_t nisr;                     /* replicas with in_isr (bm__isr_size) */
    int32_t leader_epoch;
    int64_t hw;
    int64_t log_start;
    /* with a settle hook: records below this offset were handed to it
     * (every replica's log holds them; see bm_cluster_set_settler) */
    int64_t settled;
    size_t settled_n;                 /* batches below it, in every replica's log */
    int32_t settle_lag;               /* the replica that bounded it last */
    bm_txn_wait txw[BM_TXN_WAITS];    /* open transactions' markers, as far
                                       * as looked for (cleared with same_n) */
    int32_t txw_next;                 /* the entry to reuse next */
    bool caught_up_any;               /* some replica's caught_up */
    /* a log, the ISR, the leader or the log start changed since the last
     * bm_hw_update (which a repeat would not change otherwise) */
    bool hw_dirty;
    /* the folded prefix (bm_int.h header): batches below fold_off are in
     * no log; the replay of those at or after log_start is fold[] (sorted
     * by pid) and fold_txn[] (offset order) */
    int64_t fold_off;
    int64_t fold_max_ts;              /* of the folded data batches; INT64_MIN none */
    bool fold_stuck;                  /* out of memory once: fold no more */
    bm_fold_producer *fold;
    size_t nfold, capfold;
    size_t fold_hint;                 /* fold[] index last folded into (checked) */
    bm_fold_txn *fold_txn;
    size_t nfold_txn, capfold_txn;
    /* leader-side state, rebuilt from the leader's log on leader change */
    bm_producer *prod;
    size_t nprod, capprod;
    size_t prod_hint;                 /* prod[] index last updated (checked) */
    bm_txn_range *open;
    size_t nopen, capopen;
    bm_txn_range *aborted;
    size_t naborted, capaborted;
    /* injection: reject produce with reject_err until reject_until */
    kp_err reject_err;
    kp_time_us reject_until;
} bm_partition;

struct bm_topic {
    char *name;
    bm_topic_config conf;
    int32_t npart;
    bm_partition *parts;
};

typedef struct bm_broker {
    int32_t id;
    bool up;
    bool follower_paused;
    kp_rng rng;
} bm_broker;

typedef struct bm_inject_rule {
    int32_t broker;
    int16_t api;
    int32_t left;
    kp_err err;
    int64_t delay_us;
} bm_inject_rule;

enum bm_txn_state {
    BM_TXS_EMPTY, BM_TXS_ONGOING, BM_TXS_PREPARE_COMMIT, BM_TXS_PREPARE_ABORT,
    BM_TXS_COMPLETE_COMMIT, BM_TXS_COMPLETE_ABORT
};

typedef struct bm_txn_part {
    int32_t topic;   /* index into c->topics */
    int32_t partition;
    bool marker_written;
} bm_txn_part;

typedef struct bm_txn {
    char *id;
    int64_t pid;
    int16_t epoch;
    int32_t timeout_ms;
    int state;
    kp_time_us start_us;
    kp_time_us complete_at_us;
    bm_txn_part *parts;
    size_t nparts, capparts;
} bm_txn;

#define BM_QUOTA_SAMPLES 11 /* quota.window.num */
#define BM_QUOTA_SAMPLE_MS 1000 /* quota.window.size.seconds */

typedef struct bm_quota_client {
    char *client_id;
    int64_t sample_bytes[BM_QUOTA_SAMPLES];
    int64_t sample_start_ms[BM_QUOTA_SAMPLES];
    int32_t cur;
} bm_quota_client;

struct bm_cluster {
    bm_config conf;
    kp_env env;
    kp_time_us now;
    bm_broker brokers[BM_MAX_BROKERS];
    bm_topic *topics;
    int32_t ntopics, captopics;
    int64_t next_pid;
    kp_time_us next_tick_us;
    bm_txn *txns;
    size_t ntxns, captxns;
    bm_inject_rule *rules;
    size_t nrules, caprules;
    bm_quota_client *quota;
    size_t nquota, capquota;
    /* the REQUEST events' details: each distinct client id (as shown:
     * at most 127 bytes) once, kept until bm_cluster_destroy
     * (bm_cluster_detail_is_stable); at most BM_CLIENT_IDS_MAX of them,
     * so a live peer sending a new id per request cannot grow the
     * broker's memory or the per-request scan: further ids are shown
     * from a per-request copy (not stable) */
#define BM_CLIENT_IDS_MAX 64
    struct bm_client_id {
        char *s;
        size_t len;
    } *client_ids;
    size_t nclient_ids, capclient_ids;
    kp_dbuf scratch;            /* decompression for record validation */
    bm_digest_fn *digest_fn;    /* digested logs (bm_cluster_set_digester) */
    void *digest_ctx;
    bm_settle_fn *settle_fn;    /* bm_cluster_set_settler */
    void *settle_ctx;
    bm_conn **conns;            /* open connections, in open order */
    size_t nconns, capconns;
    int64_t next_conn_id;
    /* Bumped whenever what an acks=all wait checks can change: a
     * partition's HW, leader or leader epoch (bm_ack_gen_bump). A wait
     * that found nothing done at generation G finds nothing done again
     * until the generation moves or its deadline passes. One counter for
     * the cluster, not one per partition: a wait would then compare each
     * of its partitions' counters, which costs what the test itself does
     * (bm__acks_check_part: three comparisons); the cluster's spares the
     * whole loop, and the poll of the connection (bm__conn_waits_unchanged),
     * for the polls between two HW moves (quiet-hour: without it +0.45M Ir
     * in 20,000 records, per partition no better). */
    uint64_t ack_gen;
    /* What the poll may skip (bm_isr_shrink, bm_replication_pending):
     * isr_clean while no replica changed since the last full ISR-shrink
     * scan but by leader appends (bm_repl_changed), whose earliest shrink
     * is isr_next (lowered by those appends); pend_clean while `pending`
     * (an active follower behind or out of the ISR) holds. shrink_poll_us:
     * the last poll's shrink phase, the last_caught_up_us a caught-up
     * follower has as of then. */
    bool isr_clean, pend_clean, pending;
    kp_time_us isr_next;
    kp_time_us shrink_poll_us;
    /* Batches the settle walks compared or looked at, for tests (each walk
     * takes up where the last stopped, so it grows with the batches). */
    uint64_t settle_steps;
    /* Freed batch blocks of size sizeof(bm_batch) + BM_POOL_TAIL, linked
     * through their dig field, at most BM_POOL_MAX (none under ASan, so a
     * use after free is still caught). */
    bm_batch *batch_pool;
    size_t nbatch_pool;
};

/* ---- bm_cluster.c ----------------------------------------------------- */
/* The clock, an event stamped with it, and the observer: inline, since
 * the broker emits several events per produced batch (request, append,
 * replicate per follower, HW advance, response) and out of line each paid
 * a call, the full kp_event_init and a struct copy for the return (about
 * 70 Ir an event in quiet-hour, callgrind). */
static inline kp_time_us bm__now(const bm_cluster *c) {
    return c->env.clock.now_us ? kp_clock_now_us(&c->env.clock) : c->now;
}

static inline kp_event bm__ev(const bm_cluster *c, int kind, int32_t node) {
    kp_event ev;
    kp_event_init(&ev, kind, bm__now(c));
    ev.node = node;
    return ev;
}

static inline void bm__emit(const bm_cluster *c, kp_event *ev) {
    kp_observer_emit(&c->env.observer, ev);
}
bool bm__grow(void **arr, size_t *cap, size_t need, size_t elem);
bm_topic *bm__topic(const bm_cluster *c, const char *name);
int32_t bm__topic_index(const bm_cluster *c, const char *name);
/* bm__topic_index of the name's n bytes (none of them NUL), read where
 * they are: the Produce handler looks its topics up in the request's own
 * bytes, not in the wait's copy of them, which it wrote a moment before
 * with narrow stores that strcmp's wide loads cannot be forwarded from
 * (0.7% of the quiet hour's perf samples waited there). */
int32_t bm__topic_index_n(const bm_cluster *c, const uint8_t *name, size_t n);
bm_partition *bm__partition(const bm_cluster *c, const char *topic, int32_t partition);
/* bm_cluster_produce on the partition already found (p: bm__partition of
 * topic and partition, NULL when there is none). */
void bm__produce(bm_cluster *c, bm_partition *p, int32_t broker, const char *topic,
                 int32_t partition, int16_t acks, int16_t api_version, const uint8_t *rec,
                 size_t len, bm_produce_result *out);
/* The answer to an acks=all batch whose high watermark came (NONE, or
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below min.insync). */
kp_err bm__acks_done_err(const bm_cluster *c, const bm_partition *p);
/* bm_cluster_acks_check on a partition already found: inline, since a
 * request in progress asks it at every poll and mostly hears "not yet". */
static inline bool bm__acks_check_part(const bm_cluster *c, const bm_partition *p,
                                       int64_t required_offset, int32_t leader_epoch,
                                       kp_err *err) {
    if (p->leader_epoch != leader_epoch || p->leader < 0) {
        *err = KP_ERR_NOT_LEADER_FOR_PARTITION;
        return true;
    }
    if (p->hw >= required_offset) {
        *err = bm__acks_done_err(c, p);
        return true;
    }
    return false;
}
/* Effective settings of a topic (its override, else the broker's). */
int32_t bm__max_message_bytes(const bm_cluster *c, const bm_topic *t);
int32_t bm__min_isr(const bm_cluster *c, const bm_topic *t);
bool bm__unclean(const bm_cluster *c, const bm_topic *t);
bool bm__log_append_time(const bm_cluster *c, const bm_topic *t);
/* Where an empty log of p ends at the least: the log start or the end of
 * the folded prefix, whichever is later. */
static inline int64_t bm__log_base(const bm_partition *p) {
    return p->fold_off > p->log_start ? p->fold_off : p->log_start;
}
/* Leader broker id, -1 none. */
int32_t bm__leader_id(const bm_partition *p);
int32_t bm__isr_size(const bm_partition *p);
int64_t bm__lso(const bm_partition *p);
bm_replica *bm__leader_rep(const bm_partition *p);
/* Auto-creates `topic` (Metadata with allow_auto_topic_creation). */
kp_err bm__auto_create(bm_cluster *c, const char *topic, size_t len);
/* Coordinator write: a commit/abort control batch on p's leader. False if
 * the partition has no leader now (retry later). */
bool bm__write_marker(bm_cluster *c, bm_partition *p, int64_t pid, int16_t epoch,
                      bool commit);
/* The FIFO rule for (broker, api), consumed; false when none matches. */
bool bm__inject_take(bm_cluster *c, int32_t broker, int16_t api, kp_err *err,
                     int64_t *delay_us);
/* Quota accounting: records bytes for client_id, returns throttle ms. */
int32_t bm__quota_record(bm_cluster *c, const char *client_id, size_t len, int64_t bytes);
void bm__wakeup(bm_cluster *c);
/* Lower a deadline. */
static inline void bm__min_deadline(kp_time_us *d, kp_time_us t) {
    if (t < *d)
        *d = t;
}

/* ---- bm_txn.c ---------------------------------------------------------- */
/* Transaction coordinator (TransactionCoordinator 2.1). */
int32_t bm__txn_coordinator(const bm_cluster *c, const char *txn_id, size_t len);
kp_err bm__txn_init_pid(bm_cluster *c, int32_t broker, const char *txn_id, size_t id_len,
                        int32_t timeout_ms, int64_t *pid, int16_t *epoch);
kp_err bm__txn_check(bm_cluster *c, const char *txn_id, size_t id_len, int64_t pid,
                     int16_t epoch, bool older_only, bm_txn **out);
/* Adds the partition to an ongoing transaction (call after bm__txn_check
 * returned NONE for the request). */
void bm__txn_add_partition(bm_cluster *c, bm_txn *t, int32_t topic, int32_t partition);
kp_err bm__txn_end(bm_cluster *c, const char *txn_id, size_t id_len, int64_t pid,
                   int16_t epoch, bool commit);
/* Markers and timeouts due at now; lowers *deadline. */
void bm__txn_poll(bm_cluster *c, kp_time_us *deadline);
void bm__txn_free(bm_cluster *c);
const char *bm__txn_state_name(int state);

/* ---- connections --------------------------------------------------------- */

/* A request being waited on (acks=all Produce, a Fetch below min_bytes).
 * One malloc per request; names copied into it. */
typedef struct bm_wait_part {
    const char *topic;       /* into bm_wait.names */
    int32_t partition;
    /* Produce */
    kp_err err;
    int64_t base_offset;
    int64_t log_append_time;
    int64_t log_start_offset;
    bool pending;
    int64_t required_offset;
    int32_t leader_epoch;
    const bm_partition *part; /* found by the produce handler, else at the
                               * first acks check (partitions live as long
                               * as the cluster); NULL: none (yet) */
    /* Fetch */
    int64_t fetch_offset;
    int32_t max_bytes;
    int32_t current_leader_epoch;
    int64_t log_start_req;
} bm_wait_part;

typedef struct bm_wait {
    int16_t api_key;
    int32_t ntopics;          /* topic groups in request order */
    int32_t *topic_first;     /* index of each group's first part */
    const char **topic_name;  /* each group's topic (into names) */
    int32_t nparts;
    bm_wait_part *parts;
    int32_t throttle_ms;
    /* Produce (acks=all): ack_gen + 1 as of the last check that found a
     * partition still waiting; 0 (never checked) otherwise. */
    uint64_t seen_gen;
    /* Fetch */
    int32_t min_bytes, max_bytes;
    int8_t isolation;
    char *names;
    /* Produce: the response's topics (named, pointing into resp_parts)
     * and partitions, laid out by bm_wait_new in the same block */
    kp_produce_topic_response *resp_topics;
    kp_produce_partition_response *resp_parts;
} bm_wait;

/* Kafka's SocketServer mutes a channel while one request is in progress,
 * so a connection has at most one current request; later frames stay in
 * the input buffer until its response has been written. */
struct bm_conn {
    bm_cluster *c;
    int64_t id;
    int32_t broker;
    bm_conn_io io;
    void *io_ctx;
    uint8_t *in;              /* unread input: in[in_off .. in_len) */
    size_t in_off, in_len, in_cap;
    size_t kept_len;          /* keeping carrier (io.kept): unread bytes it holds */
    kp_arena *arena;
    /* the current request */
    bool busy;
    int16_t api_key, api_version;
    int32_t corr;
    bool no_response;         /* acks=0 Produce */
    uint8_t *resp;            /* encoded frame once complete (in resp_buf) */
    size_t resp_len;
    uint8_t *resp_buf;        /* reused for every response of the conn */
    size_t resp_cap;
    uint8_t *wait_mem;        /* the block of conn->wait, reused by every */
    size_t wait_cap;          /* wait of the conn (one at a time: muted) */
    kp_time_us ready_at_us;   /* not written before (injected delay) */
    kp_time_us wait_deadline_us;
    bm_wait *wait;
    kp_time_us mute_until_us; /* quota throttle: read no request before */
    int64_t nreq, nresp;
    /* the client id of this connection's last request: 1 + its index in
     * c->client_ids, 0 before the first */
    size_t client_id;
};

/* ---- bm_handlers.c: one handler per API --------------------------------- */
/* Handles a decoded request on conn (conn->api_key etc. set). `injected`
 * is an injected error (KP_ERR_NONE for none). Sets either conn->resp (an
 * encoded frame), conn->wait (to be completed by bm__handler_resume), or
 * conn->no_response. Returns false only if the connection must be closed
 * (then *reason says why). */
bool bm__handle(bm_conn *conn, const kp_request *req, kp_err injected, const char **reason);
/* Re-evaluates conn->wait; builds conn->resp when done (or at deadline). */
void bm__handler_resume(bm_conn *conn, kp_time_us now);

/* ---- bm_conn.c --------------------------------------------------------- */
/* Stores an encoded response frame for the current request. */
bool bm__conn_set_response(bm_conn *conn, int16_t api_key, int16_t version, const void *body);
/* The request in progress on conn is an acks=all Produce whose wait would
 * find nothing done at `now` (bm_produce_resume): nothing it checks moved
 * since it last looked (bm_cluster.ack_gen), and its deadline is ahead.
 * Then a poll of conn would only note that deadline: a request in
 * progress keeps the frames behind it unread. */
static inline bool bm__conn_waits_unchanged(const bm_conn *conn, kp_time_us now) {
    const bm_wait *w = conn->wait;
    return w && w->api_key == KP_API_PRODUCE && w->seen_gen == conn->c->ack_gen + 1 &&
           now < conn->wait_deadline_us;
}
/* Completes what is due on a connection; lowers *deadline. May close the
 * connection (then it is freed and removed from c->conns). */
void bm__conn_poll(bm_conn *conn, kp_time_us *deadline);
int32_t bm__conn_broker(const bm_conn *conn);
/* The broker crashed: io->close(reason) and free. */
void bm__conn_kill(bm_conn *conn, const char *reason);
void bm__conn_free(bm_conn *conn);

#endif
