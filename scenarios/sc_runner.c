/*
 * sc_runner.c — one scenario, one seed: world, cluster, actors, faults, run,
 * check (see sc_runner.h for the story and the ownership).
 *
 * Sections:
 *   observer      counts, digest, trace
 *   broker side   simnet server connections <-> broker_mock connections
 *   producer side sender actor (run_once + wakeup) and application actor
 *   faults        scripted faults and chaos
 *   run           build, loop, check, report, free
 */
#include "sc_runner.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bm_cluster.h"
#include "bm_conn.h"
#include "bm_events.h"
#include "kp_events.h"
#include "kp_producer.h"
#include "kp_proto.h"
#include "rp_trace.h"
#include "sc_checker.h"
#include "sc_digest.h"
#include "sc_valgen.h"
#include "simnet.h"

#define SC_PORT_BASE 9092
#define SC_MAX_TOPICS 64
#define SC_NCOUNTERS 32
#define SC_ERR_SLOTS 256 /* err + 128 */
#define SC_TRACE_BROKER_NAMES 64 /* brokers whose trace component name is kept */

typedef struct sc_world sc_world;

/* The harness's own event kinds (KP_EV_BASE_HARNESS + n): what the runner
 * does to the world, so traces and reports show the cause next to the
 * effects. Names containing "fault" are fault markers in reports. */
enum {
    SC_EV_FAULT = KP_EV_BASE_HARNESS + 0,     /* detail: the action, e.g. "leader_move t-0 -> 2" */
    SC_EV_FAULT_END = KP_EV_BASE_HARNESS + 1, /* detail: what was undone */
    SC_EV_CHAOS_FAULT = KP_EV_BASE_HARNESS + 2,
    SC_EV_TXN_BEGIN = KP_EV_BASE_HARNESS + 10,
    SC_EV_TXN_COMMITTED = KP_EV_BASE_HARNESS + 11,
    SC_EV_TXN_ABORTED = KP_EV_BASE_HARNESS + 12,
    SC_EV_TXN_FAILED = KP_EV_BASE_HARNESS + 13,
    SC_EV_LAST = KP_EV_BASE_HARNESS + 99
};

static const char *sc_harness_kind_name(int kind) {
    switch (kind) {
    case SC_EV_FAULT: return "fault";
    case SC_EV_FAULT_END: return "fault_end";
    case SC_EV_CHAOS_FAULT: return "chaos_fault";
    case SC_EV_TXN_BEGIN: return "txn_begin";
    case SC_EV_TXN_COMMITTED: return "txn_committed";
    case SC_EV_TXN_ABORTED: return "txn_aborted";
    case SC_EV_TXN_FAILED: return "txn_failed";
    default: return NULL;
    }
}

/* ======================================================================
 * Per-emitter observer contexts
 * ==================================================================== */

#define SC_COUNT_KINDS 512 /* entries of an observer's count table (sc_obs_counting) */

typedef struct sc_obs {
    sc_world *w;
    /* what each event kind counts (sc_count_event), indexed by kind: the
     * producers' table, or all zeros for the cluster, the network and the
     * harness, each entry with SC_CNT_TRACE while the run writes a trace
     * (set by sc_obs_counting; in the struct, not behind a pointer: one
     * load per event) */
    uint16_t count[SC_COUNT_KINDS];
    int producer;           /* -1 for the cluster and the network */
    char component[6][48];  /* producer: app, metadata, accumulator, sender, network, txn */
} sc_obs;

/* ======================================================================
 * Broker-side connection adapter
 * ==================================================================== */

typedef struct sc_bconn {
    sc_world *w;
    int32_t broker;
    kp_conn *conn;       /* simnet server side */
    bm_conn *bc;         /* NULL once broker_mock closed it */
    uint8_t *out;        /* response bytes not yet accepted by the link */
    size_t out_len, out_cap;
    bool dead;           /* closed; freed at the end of the run */
    struct sc_bconn *next;
} sc_bconn;

/* ======================================================================
 * Producer actors
 * ==================================================================== */

typedef struct sc_prod {
    sc_world *w;
    int idx;
    const Kpsim__Producer *spec;
    const Kpsim__Workload *wl;
    sn_node *node;
    kp_producer *p;
    kp_config cfg;
    sc_obs obs;
    sn_timer sender_timer;
    sn_timer app_timer;
    bool in_run, woken;
    kp_time_us spin_at;      /* sim time of the last zero-sleep run */
    int spin_count;          /* zero-sleep runs in a row at spin_at */
    int64_t spins;           /* deferred spins (for the report) */
    /* workload */
    kp_rng rng;
    int topic;
    /* the producer's interned copy of the workload's topic (NULL until a
     * record was appended): pinned in the run digest, and what a
     * callback's md->topic is for this topic (see sc_record_cb) */
    const char *acc_topic;
    int64_t next_seq;
    int64_t target;          /* records to send, -1 = by duration */
    kp_time_us start_us, end_us;
    double interval_us;      /* 0 = as fast as the producer accepts */
    int64_t due_seq;         /* the record due_us belongs to (-1: none) */
    kp_time_us due_us;       /* when record due_seq is due (rated workloads) */
    int64_t flush_every;
    int64_t blocked_seq;     /* seq of the send that blocked, -1 */
    bool waiting_flush, done_sending, closing, closed;
    int64_t flush_upto;
    /* transactions (Workload.transactions): init -> (begin, sends,
     * commit|abort)* ; the actor waits for each callback */
    const Kpsim__Transactions *txn;
    int txn_phase;           /* SC_TXN_* below */
    int64_t txn_from;        /* first record of the open transaction */
    int64_t txn_index;       /* transactions begun so far */
    bool txn_aborting;       /* the open transaction ends in an abort */
    kp_time_us txn_not_before; /* begin_delay_ms after the previous end */
    kp_time_us txn_end_at;   /* commit_delay_ms after the transaction filled, -1 */
    sc_valgen valgen;        /* the values (sc_value_format's bytes) */
    kp_producer_record rec;  /* the send's template: topic, headers, kinds */
    kp_header headers[4];    /* rec.headers */
    kp_datum_kind key_kind, value_kind;
    double *zipf_cdf;
    int64_t zipf_n;          /* entries of zipf_cdf (key_space, at most 1,000,000) */
    int64_t counters[SC_NCOUNTERS];
    int64_t errors[SC_ERR_SLOTS];
} sc_prod;

/* ======================================================================
 * Faults
 * ==================================================================== */

typedef struct sc_fault_ev {
    sc_world *w;
    const Kpsim__Fault *f;
    bool undo;               /* the end of a fault with a duration */
    sn_link_cfg saved;       /* slow link: what to restore */
    sn_timer t;
} sc_fault_ev;

/* ======================================================================
 * The world
 * ==================================================================== */

struct sc_world {
    const sc_scenario *sc;
    const Kpsim__Scenario *s;
    const sc_run_opts *opts;
    uint64_t seed;
    sn_world *net;
    bm_cluster *cluster;
    sn_node **broker_nodes;
    int nbrokers;
    sn_timer broker_timer;
    sc_prod *prods;
    int nprods;
    int nclosed;             /* producers whose close() completed */
    bool all_closed;         /* nclosed >= nprods: the run's gate for sc_all_closed */
    sc_checker *checker;
    /* the settle hook's last topic: cluster name -> index into topics[] */
    const char *settle_name;
    int settle_topic;
    sc_bconn *bconns;
    sc_fault_ev *faults;
    size_t nfaults;
    sn_timer chaos_move_timer, chaos_err_timer;
    kp_rng chaos_rng;
    kp_time_us chaos_end_us;
    double chaos_moves_per_us, chaos_errs_per_us;
    const char *topics[SC_MAX_TOPICS];
    int ntopics;
    sc_obs broker_obs, net_obs, harness_obs;
    rp_trace_writer *trace;
    char broker_comp[SC_TRACE_BROKER_NAMES][16]; /* trace component "broker-N", "" until used */
    sc_digest digest;        /* every event, in order (sc_digest.h) */
    int32_t digest_topics;   /* the cluster's topic names pinned in it so far */
    uint64_t events;
    int64_t totals[SC_NCOUNTERS];
    int64_t total_errors[SC_ERR_SLOTS];
    char fail_msg[256];
    bool failed_build;
};

/* Record callbacks carry (producer, seq) in the ctx pointer; the world is
 * found through this pointer, set for the duration of sc_run (one run per
 * thread at a time). */
static _Thread_local sc_world *sc__world;

static void sc_log(sc_world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sc_log(sc_world *w, const char *fmt, ...) {
    if (!w->opts->out || w->opts->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(w->opts->out, fmt, ap);
    va_end(ap);
}

static kp_time_us sc_now(const sc_world *w) { return sn_now(w->net); }

/* The checker's number of topic name, or -1 when it has none yet. */
static int sc_topic_find(const sc_world *w, const char *name) {
    for (int i = 0; i < w->ntopics; i++)
        if (!strcmp(w->topics[i], name))
            return i;
    return -1;
}

/* The checker's number of topic name, given one if it has none yet. */
static int sc_topic_index(sc_world *w, const char *name) {
    if (!name)
        return -1;
    int i = sc_topic_find(w, name);
    if (i >= 0)
        return i;
    if (w->ntopics == SC_MAX_TOPICS)
        return -1;
    w->topics[w->ntopics] = name; /* points into the scenario message */
    return w->ntopics++;
}

/* ======================================================================
 * observer
 * ==================================================================== */

static const char *sc_event_kind_name(int kind) {
    const char *n = NULL;
    if (kind >= KP_EV_BASE_PRODUCER && kind < KP_EV_BASE_BROKER)
        n = kp_event_kind_name(kind);
    else if (kind >= KP_EV_BASE_BROKER && kind < KP_EV_BASE_NET)
        n = bm_event_name(kind);
    else if (kind >= KP_EV_BASE_NET && kind < KP_EV_BASE_HARNESS)
        n = sn_event_name(kind);
    else if (kind >= KP_EV_BASE_HARNESS && kind <= SC_EV_LAST)
        n = sc_harness_kind_name(kind);
    return n;
}

/* Which track of a producer an event kind belongs to. */
static int sc_producer_track(int kind) {
    if (kind >= 180)
        return 5; /* txn manager */
    if (kind >= 160)
        return kind == KP_EV_RETRY || kind == KP_EV_BATCH_FAILED || kind == KP_EV_SENDER_SPLIT ||
                       kind == KP_EV_SENDER_EXPIRED || kind == KP_EV_SENDER_POLL_TIMEOUT ||
                       kind == KP_EV_PRODUCE_REQUEST || kind == KP_EV_PRODUCE_RESPONSE
                   ? 3  /* sender */
                   : 4; /* network client */
    if (kind >= 140)
        return 2; /* accumulator */
    if (kind >= 120 && kind < 130)
        return 1; /* metadata */
    return 0;     /* application */
}

/* What a producer event kind counts, by table (indexed by the kind; 512
 * entries so that any kind & 511 is in it, and only producer kinds are
 * set): the low five bits are 1 + the Kpsim__Counter it bumps (0: none),
 * SC_CNT_ERR marks the responses whose Kafka error is counted by code,
 * SC_CNT_TIMEOUT the disconnect that is a request timeout when value == 1.
 * Most events count nothing and cost one load here. */
#define SC_CNT_ERR 0x40
#define SC_CNT_TIMEOUT 0x80
/* in every entry of every observer's table while the run writes a trace:
 * the observer's one test of its entry then also sends each event to the
 * trace, with no test of w->trace of its own on the common path */
#define SC_CNT_TRACE 0x100
#define SC_CNT(c) (1 + (c))
static const uint8_t sc_count_table[SC_COUNT_KINDS] = {
    [KP_EV_BATCH_CREATED] = SC_CNT(KPSIM__COUNTER__BATCHES),
    [KP_EV_PRODUCE_REQUEST] = SC_CNT(KPSIM__COUNTER__REQUESTS),
    [KP_EV_RETRY] = SC_CNT(KPSIM__COUNTER__RETRIES),
    [KP_EV_SENDER_SPLIT] = SC_CNT(KPSIM__COUNTER__SPLITS),
    [KP_EV_METADATA_REQUEST] = SC_CNT(KPSIM__COUNTER__METADATA_REFRESHES),
    [KP_EV_SENDER_EXPIRED] = SC_CNT(KPSIM__COUNTER__EXPIRED),
    [KP_EV_DISCONNECTED] = SC_CNT(KPSIM__COUNTER__DISCONNECTS) | SC_CNT_TIMEOUT,
    [KP_EV_THROTTLE] = SC_CNT(KPSIM__COUNTER__THROTTLED),
    [KP_EV_PRODUCER_ID_RESET] = SC_CNT(KPSIM__COUNTER__PRODUCER_ID_RESETS),
    [KP_EV_SEND_BLOCKED] = SC_CNT(KPSIM__COUNTER__BLOCKED_SENDS),
    /* errors the producer met in responses (Kafka codes; local codes are
     * counted from callbacks) */
    [KP_EV_PRODUCE_RESPONSE] = SC_CNT_ERR,
    [KP_EV_METADATA_RESPONSE] = SC_CNT_ERR,
    [KP_EV_METADATA_TOPIC_ERROR] = SC_CNT_ERR,
    [KP_EV_INIT_PRODUCER_ID] = SC_CNT_ERR,
    [KP_EV_TXN_RESPONSE] = SC_CNT_ERR,
};
_Static_assert(SC_EV_LAST < SC_COUNT_KINDS, "every event kind indexes the count tables");

/* Gives o the count table for what it observes (a producer: sc_count_table;
 * anything else counts nothing), with SC_CNT_TRACE in every entry while
 * w->trace is open: called when the observer is made, after the trace
 * opened (sc_run). Bits left on after the trace closes only send events
 * the out-of-line way, which asks w->trace itself. */
static void sc_obs_counting(sc_obs *o) {
    uint16_t t = o->w->trace ? SC_CNT_TRACE : 0;
    for (int k = 0; k < SC_COUNT_KINDS; k++)
        o->count[k] = (uint16_t)((o->producer >= 0 ? sc_count_table[k] : 0) | t);
}

_Static_assert(KPSIM__COUNTER__BLOCKED_SENDS < 0x3f && SC_NCOUNTERS <= 0x3f, "counter numbers fit in six bits");

/* The counting half of the observer, for producer events whose table
 * entry is not 0. */
static inline __attribute__((always_inline)) void sc_count_event(sc_world *w, sc_prod *pr, const kp_event *ev,
                                                                  unsigned f) {
    unsigned c = f & 0x3f;
    if (c) {
        pr->counters[c - 1]++;
        w->totals[c - 1]++;
    }
    if ((f & SC_CNT_TIMEOUT) && ev->value == 1) {
        pr->counters[KPSIM__COUNTER__REQUEST_TIMEOUTS]++;
        w->totals[KPSIM__COUNTER__REQUEST_TIMEOUTS]++;
    }
    if ((f & SC_CNT_ERR) && ev->err != KP_ERR_NONE && ev->err >= -1 && ev->err < 128) {
        pr->errors[ev->err + 128]++;
        w->total_errors[ev->err + 128]++;
    }
}

/* The trace half of the observer, out of line: its stack frame (a stamped
 * copy of the event, a name buffer) would otherwise be set up for every
 * event of every run, traced or not. */
static __attribute__((noinline)) void sc_trace_event(sc_world *w, const sc_obs *o, const kp_event *in,
                                                     kp_time_us now) {
    kp_event stamped = *in;
    stamped.time_us = now;
    const char *comp;
    char buf[48];
    if (o->producer >= 0)
        comp = o->component[sc_producer_track(stamped.kind)];
    else if (stamped.kind >= KP_EV_BASE_BROKER && stamped.kind < KP_EV_BASE_NET && stamped.node >= 0) {
        /* "broker-N", formatted once per broker (snprintf per event was
         * ~700 instructions) */
        if (stamped.node < SC_TRACE_BROKER_NAMES) {
            char *name = w->broker_comp[stamped.node];
            if (!name[0])
                snprintf(name, sizeof w->broker_comp[0], "broker-%d", (int)stamped.node);
            comp = name;
        } else {
            snprintf(buf, sizeof buf, "broker-%d", (int)stamped.node);
            comp = buf;
        }
    } else
        comp = o->component[0];
    rp_trace_writer_event(w->trace, &stamped, comp);
}

/* Pins, in the digest, the names of the cluster's topics created since
 * the last call (bm_topic names: fixed until bm_cluster_destroy). */
static void sc_pin_cluster_topics(sc_world *w) {
    int32_t n = bm_cluster_topic_count(w->cluster);
    for (; w->digest_topics < n; w->digest_topics++)
        sc_digest_pin(&w->digest, bm_cluster_topic_name(w->cluster, w->digest_topics));
}

/* What the observer does with an event besides the digest: the
 * producer's counters and the trace. */
static inline void sc_observe_rest(sc_world *w, const sc_obs *o, const kp_event *ev, kp_time_us now) {
    /* one load for every event: the table of an observer that is not a
     * producer's is all zeros (a producer test, a range test and a
     * subtraction before) */
    unsigned f = o->count[(unsigned)ev->kind & (SC_COUNT_KINDS - 1)];
    if (f) {
        if (f & (SC_CNT_TRACE - 1))
            sc_count_event(w, &w->prods[o->producer], ev, f);
        if (w->trace) /* f has SC_CNT_TRACE whenever it is open */
            sc_trace_event(w, o, ev, now);
    }
}

/* The observer for an event whose topic or detail the digest must hash
 * (or look up with a call): out of line, so that sc_on_event's common
 * path makes no call but tail calls. */
static __attribute__((noinline)) void sc_on_event_slow(sc_world *w, const sc_obs *o, const kp_event *ev,
                                                       kp_time_us now) {
    /* The broker's events carry its own copy of the topic name (a heap
     * string that keeps its address and bytes until bm_cluster_destroy,
     * after the run's sc_digest_unpin_all): pin each topic's name once the
     * cluster has it, so that its events take the common path (a third of
     * the quiet-hour workload's events were hashing it here). Pins only
     * save work: the digest is the same either way. */
    if (ev->topic && w->cluster && w->digest_topics < bm_cluster_topic_count(w->cluster))
        sc_pin_cluster_topics(w);
    /* A connection event's detail ("app>broker-1"): simnet keeps it, at
     * one address, until sn_world_destroy (sn_net.h's PROMISE), after the
     * run's sc_digest_unpin_all. Pinned on first sight, the net events of
     * every request take the common path (~2 per record in the quiet hour
     * were hashing it here). Fault details, formatted per event, are not
     * stable and stay unpinned. */
    if (ev->kind >= KP_EV_BASE_NET && ev->detail && w->net && w->digest.npins < SC_DIGEST_PINS &&
        sn_detail_is_stable(w->net, ev->detail))
        sc_digest_pin(&w->digest, ev->detail);
    /* A REQUEST event's detail (the client id "app"): the cluster's copy,
     * kept until bm_cluster_destroy (bm_cluster_detail_is_stable), after
     * the run's sc_digest_unpin_all; one per request was hashed here. */
    else if (ev->kind >= KP_EV_BASE_BROKER && ev->kind < KP_EV_BASE_NET && ev->detail && w->cluster &&
             w->digest.npins < SC_DIGEST_PINS && bm_cluster_detail_is_stable(w->cluster, ev->detail))
        sc_digest_pin(&w->digest, ev->detail);
    sc_digest_event_slow(&w->digest, ev, now);
    sc_observe_rest(w, o, ev, now);
}

/* The observer's work; `path` (a constant wherever this is inlined) is the
 * digest's SC_DIGEST_PATH_*, or -1 for "ask the digest". */
static inline __attribute__((always_inline)) void sc_on_event_path(void *ctx, const kp_event *ev, int path) {
    sc_obs *o = ctx;
    sc_world *w = o->w;
    /* Every event is reported synchronously, as it happens; the producer
     * decides in milliseconds (as Java does) and stamps some events with
     * its millisecond clock. The digest and the trace are the harness's
     * record, so they carry the world's microsecond time, which never goes
     * backwards. */
    kp_time_us now = w->net ? sn_now(w->net) : ev->time_us;
    w->events++;
    bool taken;
#if SC_DIGEST_AESNI
    if (path == SC_DIGEST_PATH_AES_VEX || path == SC_DIGEST_PATH_AES)
        taken = sc_digest_event_try_hw(&w->digest, ev, now, path == SC_DIGEST_PATH_AES_VEX);
    else
#endif
        taken = sc_digest_event_try(&w->digest, ev, now);
    if (!taken) {
        sc_on_event_slow(w, o, ev, now);
        return;
    }
    sc_observe_rest(w, o, ev, now);
}

static void sc_on_event(void *ctx, const kp_event *ev) {
    sc_on_event_path(ctx, ev, -1);
}

#if SC_DIGEST_AESNI
/* sc_on_event for a run whose digest is on an AES-NI path (the observers
 * are given the one for w->digest.path): the same work without asking. */
static void sc_on_event_aes(void *ctx, const kp_event *ev) {
    sc_on_event_path(ctx, ev, SC_DIGEST_PATH_AES);
}

static void sc_on_event_vex(void *ctx, const kp_event *ev) {
    sc_on_event_path(ctx, ev, SC_DIGEST_PATH_AES_VEX);
}
#endif

static kp_observer sc_observer(sc_obs *o) {
    sc_obs_counting(o);
#if SC_DIGEST_AESNI
    if (o->w->digest.path == SC_DIGEST_PATH_AES_VEX)
        return (kp_observer){ .on_event = sc_on_event_vex, .ctx = o };
    if (o->w->digest.path == SC_DIGEST_PATH_AES)
        return (kp_observer){ .on_event = sc_on_event_aes, .ctx = o };
#endif
    return (kp_observer){ .on_event = sc_on_event, .ctx = o };
}

/* ======================================================================
 * broker side
 * ==================================================================== */

static void sc_broker_kick(sc_world *w) {
    kp_time_us now = sc_now(w);
    if (!sn_timer_pending(&w->broker_timer) || w->broker_timer.at > now)
        sn_timer_schedule(w->net, &w->broker_timer, now);
}

static void sc_broker_fire(void *ctx, sn_world *net) {
    sc_world *w = ctx;
    kp_time_us next = bm_cluster_poll(w->cluster, sn_now(net));
    if (next != BM_TIME_NEVER)
        sn_timer_schedule(net, &w->broker_timer, next);
}

static void sc_broker_wakeup(void *ctx) {
    sc_broker_kick(ctx);
}

static void sc_bconn_flush(sc_bconn *b) {
    if (b->dead || !b->out_len)
        return;
    ssize_t n = sn_conn_send(b->conn, b->out, b->out_len);
    if (n < 0) {
        b->out_len = 0;
        return;
    }
    if (n > 0) {
        memmove(b->out, b->out + n, b->out_len - (size_t)n);
        b->out_len -= (size_t)n;
    }
}

static void sc_bconn_write(void *ctx, const uint8_t *bytes, size_t len) {
    sc_bconn *b = ctx;
    if (b->dead)
        return;
    if (!b->out_len) {
        /* nothing queued: straight into the link, queue only what it
         * does not take (the same sn_conn_send calls as through b->out) */
        ssize_t n = sn_conn_send(b->conn, bytes, len);
        if (n < 0 || (size_t)n == len)
            return;
        bytes += n;
        len -= (size_t)n;
    }
    if (b->out_len + len > b->out_cap) {
        size_t cap = b->out_cap ? b->out_cap : 4096;
        while (cap < b->out_len + len)
            cap *= 2;
        uint8_t *n = realloc(b->out, cap);
        if (!n)
            abort();
        b->out = n;
        b->out_cap = cap;
    }
    bool queued = b->out_len > 0;
    memcpy(b->out + b->out_len, bytes, len);
    b->out_len += len;
    if (queued)
        sc_bconn_flush(b);
}

/* broker_mock closed the connection (it frees its side itself). */
static void sc_bconn_close(void *ctx, const char *reason) {
    sc_bconn *b = ctx;
    (void)reason; /* broker_mock emitted BM_EV_CONN_CLOSED with it */
    b->bc = NULL;
    if (!b->dead) {
        b->dead = true;
        sn_conn_close(b->conn);
        b->conn = NULL;
    }
}

/* broker_mock reads the request bytes the link holds for it (kept there
 * by sn_conn_keep, not copied out) and lets go of each frame it took. */
static const uint8_t *sc_bconn_kept(void *ctx, size_t off, size_t *len) {
    sc_bconn *b = ctx;
    return sn_conn_kept(b->conn, off, len);
}

static void sc_bconn_release(void *ctx, size_t n) {
    sc_bconn *b = ctx;
    sn_conn_release(b->conn, n);
}

static const bm_conn_io sc_bconn_io = { .write = sc_bconn_write,
                                        .close = sc_bconn_close,
                                        .kept = sc_bconn_kept,
                                        .release = sc_bconn_release };

static void sc_bconn_event(void *ctx, kp_conn *c, kp_conn_event ev, kp_err err) {
    sc_bconn *b = ctx;
    (void)err;
    if (b->dead)
        return;
    switch (ev) {
    case KP_CONN_EV_READABLE: {
        /* Read in place: each contiguous run of unread bytes is marked
         * read (window and events as a consume) but kept in the link's
         * ring, and broker_mock takes whole frames where they lie
         * (sc_bconn_kept), now or, behind a request in progress, when
         * that completes; it releases each frame taken. broker_mock may
         * close the connection from inside bm_conn_feed_kept
         * (with acks=0 a 2.1 broker closes it on a produce error: the
         * client's only signal to refresh metadata); simnet has then
         * released it, so look before reading again. */
        while (!b->dead && b->bc) {
            size_t n;
            const uint8_t *p = sn_conn_peek(c, &n);
            if (!n)
                break;
            sn_conn_keep(c, n);
            bm_conn_feed_kept(b->bc, p, n);
        }
        sc_broker_kick(b->w);
        break;
    }
    case KP_CONN_EV_WRITABLE:
        sc_bconn_flush(b);
        break;
    case KP_CONN_EV_CLOSED:
        bm_conn_close(b->bc);
        b->bc = NULL;
        b->dead = true;
        sn_conn_close(b->conn);
        b->conn = NULL;
        break;
    case KP_CONN_EV_CONNECTED:
        break;
    }
}

typedef struct sc_listen_ctx {
    sc_world *w;
    int32_t broker;
} sc_listen_ctx;

static void sc_broker_accept(void *ctx, kp_conn *c) {
    sc_listen_ctx *l = ctx;
    sc_world *w = l->w;
    sc_bconn *b = calloc(1, sizeof *b);
    if (!b)
        abort();
    b->w = w;
    b->broker = l->broker;
    b->conn = c;
    b->next = w->bconns;
    w->bconns = b;
    b->bc = bm_conn_open(w->cluster, l->broker, &sc_bconn_io, b);
    if (!b->bc) { /* broker down in the cluster model: refuse */
        b->dead = true;
        sn_conn_close(c);
        b->conn = NULL;
        return;
    }
    sn_conn_set_cb(c, sc_bconn_event, b);
}

/* ======================================================================
 * producer side: the sender actor
 * ==================================================================== */

static void sc_sender_fire(void *ctx, sn_world *net) {
    sc_prod *pr = ctx;
    if (!pr->p)
        return;
    pr->in_run = true;
    pr->woken = false;
    int64_t ms = kp_producer_run_once(pr->p);
    pr->in_run = false;
    if (!pr->p || pr->closed)
        return;
    kp_time_us now = sn_now(net);
    kp_time_us at;
    /* Sender.sendProducerData polls with timeout 0 whenever a node is
     * ready, even when drain could not take anything (idempotence holding
     * a retried batch back behind one in flight): the Java sender thread
     * busy-spins there until I/O arrives. Under virtual time such a spin
     * would never end, so the second zero-sleep run at one instant moves
     * the next run to the next millisecond (the producer's clock
     * resolution: nothing it decides can change within one ms); I/O and
     * wakeup() still run it at once. */
    if (ms <= 0 || pr->woken) {
        if (now == pr->spin_at)
            pr->spin_count++;
        else {
            pr->spin_at = now;
            pr->spin_count = 1;
        }
    }
    if (pr->woken && pr->spin_count < 64)
        at = now;
    else if (ms <= 0 && pr->spin_count < 2)
        at = now;
    else if (ms <= 0 || pr->woken) {
        at = (now / 1000 + 1) * 1000;
        pr->spins++;
    } else if (ms > INT64_MAX / 2000)
        at = INT64_MAX / 2;
    else
        at = now + ms * 1000;
    sn_timer_schedule(net, &pr->sender_timer, at);
}

/* Sender.wakeup(): run the sender as soon as possible. */
static void sc_sender_wakeup(void *ctx) {
    sc_prod *pr = ctx;
    if (pr->in_run) {
        pr->woken = true;
        return;
    }
    kp_time_us now = sc_now(pr->w);
    if (!sn_timer_pending(&pr->sender_timer) || pr->sender_timer.at > now)
        sn_timer_schedule(pr->w->net, &pr->sender_timer, now);
}

/* ======================================================================
 * producer side: the application actor (the workload)
 * ==================================================================== */

static void sc_app_schedule(sc_prod *pr, kp_time_us at) {
    kp_time_us now = sc_now(pr->w);
    sn_timer_schedule(pr->w->net, &pr->app_timer, at < now ? now : at);
}

/* A record's callback to the checker and the counters, in general. */
static __attribute__((noinline)) void sc_record_cb_general(sc_world *w, sc_prod *pr, int p, int64_t seq,
                                                           const kp_record_metadata *md, kp_err err) {
    /* the producer's own copy of the workload topic is known by address
     * (it lives, unchanged, as long as the producer); any other name is
     * looked up */
    int topic = !md ? pr->topic : md->topic == pr->acc_topic && md->topic ? pr->topic : sc_topic_index(w, md->topic);
    pr->counters[err == KP_ERR_NONE ? KPSIM__COUNTER__RECORDS_ACKED : KPSIM__COUNTER__RECORDS_FAILED]++;
    if (err != KP_ERR_NONE && err < -1 && err >= -128) {
        pr->errors[err + 128]++;
        w->total_errors[err + 128]++;
    }
    sc_checker_on_callback(w->checker, p, seq, topic, md ? md->partition : -1,
                           md ? md->offset : -1, err, sc_now(w));
}

static void sc_record_cb(void *ctx, const kp_record_metadata *md, kp_err err, const char *errmsg) {
    (void)errmsg;
    sc_world *w = sc__world;
    uintptr_t tag = (uintptr_t)ctx;
    int p = (int)(tag & 0xff);
    int64_t seq = (int64_t)(tag >> 8);
    assert(w && p < w->nprods);
    sc_prod *pr = &w->prods[p];
    /* the common one, an acknowledgement in the workload's topic, with no
     * call before the checker's (so this frame saves no registers around
     * calls: ~12 Ir a record) */
    if (!md || err != KP_ERR_NONE || md->topic != pr->acc_topic || !md->topic) {
        sc_record_cb_general(w, pr, p, seq, md, err);
        return;
    }
    pr->counters[KPSIM__COUNTER__RECORDS_ACKED]++;
    sc_checker_on_callback(w->checker, p, seq, pr->topic, md->partition, md->offset, KP_ERR_NONE, sc_now(w));
}

static void sc_closed_cb(void *ctx) {
    sc_prod *pr = ctx;
    sc_world *w = pr->w;
    if (!pr->closed && ++w->nclosed >= w->nprods)
        w->all_closed = true;
    pr->closed = true;
    sc_checker_on_closed(w->checker, pr->idx, sc_now(w));
    bool whole = kp_producer_pool_is_whole(pr->p);
    sc_checker_on_pool(w->checker, pr->idx, whole ? pr->cfg.buffer_memory : 0, pr->cfg.buffer_memory);
    sn_timer_cancel(w->net, &pr->app_timer);
}

static void sc_app_close(sc_prod *pr) {
    if (pr->closing)
        return;
    pr->closing = true;
    const Kpsim__Workload *wl = pr->wl;
    int64_t timeout = KP_CLOSE_FOREVER;
    if (wl && wl->force_close)
        timeout = 0;
    else if (wl && wl->has_close_timeout_ms)
        timeout = wl->close_timeout_ms;
    kp_producer_close(pr->p, timeout, sc_closed_cb, pr);
    sc_sender_wakeup(pr);
}

static void sc_flush_done(void *ctx) {
    sc_prod *pr = ctx;
    sc_checker_on_flush_done(pr->w->checker, pr->idx, pr->flush_upto, sc_now(pr->w));
    pr->waiting_flush = false;
    sc_app_schedule(pr, sc_now(pr->w));
}

static void sc_unblocked(void *ctx) {
    sc_prod *pr = ctx;
    if (pr->blocked_seq >= 0) {
        sc_checker_on_send_returned(pr->w->checker, pr->idx, pr->blocked_seq, sc_now(pr->w));
        pr->blocked_seq = -1;
    }
    sc_app_schedule(pr, sc_now(pr->w));
}

/* A key rank from the Zipf table (one double drawn). The table has at most
 * 1,000,000 entries (normalised over them), so a larger key_space draws
 * among its first million keys. */
static int64_t sc_zipf_draw(sc_prod *pr) {
    double u = kp_rng_double(&pr->rng);
    int64_t lo = 0, hi = pr->zipf_n - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (pr->zipf_cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- transactions ---------------------------------------------------- */

enum {
    SC_TXN_NEED_INIT = 0, /* initTransactions not called yet */
    SC_TXN_WAIT = 1,      /* a transactional call's callback is pending */
    SC_TXN_READY = 2,     /* no open transaction */
    SC_TXN_OPEN = 3,      /* beginTransaction done, sending */
    SC_TXN_FAILED = 4     /* fatal: the actor stops sending and closes */
};

static void sc_app_close(sc_prod *pr);
static void sc_harness_emit(sc_world *w, int kind, int32_t node, const char *detail);

static void sc_txn_done(void *ctx, kp_err err, const char *msg) {
    sc_prod *pr = ctx;
    sc_world *w = pr->w;
    char what[200];
    if (pr->txn_phase != SC_TXN_WAIT)
        return;
    if (pr->txn_from < 0) { /* initTransactions */
        snprintf(what, sizeof what, "initTransactions: %s%s%s", kp_err_name(err), msg ? " " : "", msg ? msg : "");
        if (err != KP_ERR_NONE) {
            sc_harness_emit(w, SC_EV_TXN_FAILED, -1, what);
            pr->txn_phase = SC_TXN_FAILED;
        } else
            pr->txn_phase = SC_TXN_READY;
    } else {
        bool committed = !pr->txn_aborting;
        if (err == KP_ERR_NONE) {
            /* the outcome is known: tell the checker which records it holds */
            sc_checker_on_txn_end(w->checker, pr->idx, pr->txn_from, pr->next_seq, committed);
            pr->counters[committed ? KPSIM__COUNTER__TXN_COMMITTED : KPSIM__COUNTER__TXN_ABORTED]++;
            w->totals[committed ? KPSIM__COUNTER__TXN_COMMITTED : KPSIM__COUNTER__TXN_ABORTED]++;
            snprintf(what, sizeof what, "records %" PRId64 "..%" PRId64, pr->txn_from, pr->next_seq - 1);
            sc_harness_emit(w, committed ? SC_EV_TXN_COMMITTED : SC_EV_TXN_ABORTED, -1, what);
            pr->txn_phase = SC_TXN_READY;
        } else {
            snprintf(what, sizeof what, "%s: %s%s%s", committed ? "commitTransaction" : "abortTransaction",
                     kp_err_name(err), msg ? " " : "", msg ? msg : "");
            sc_harness_emit(w, SC_EV_TXN_FAILED, -1, what);
            if (err < -1 && err >= -128) {
                pr->errors[err + 128]++;
                w->total_errors[err + 128]++;
            }
            /* outcome unknown: all or nothing of it may be visible */
            sc_checker_on_txn_unknown(w->checker, pr->idx, pr->txn_from, pr->next_seq);
            pr->txn_phase = SC_TXN_FAILED;
        }
        pr->txn_from = -1;
    }
    sc_app_schedule(pr, sc_now(w));
}

/* Drives the transaction around the next send. Returns true when the actor
 * may send now; false when it waits (a callback or a delay) or stops. */
static bool sc_txn_step(sc_prod *pr, kp_time_us now, bool finished) {
    sc_world *w = pr->w;
    const Kpsim__Transactions *t = pr->txn;
    kp_err err;
    switch (pr->txn_phase) {
    case SC_TXN_NEED_INIT:
        pr->txn_phase = SC_TXN_WAIT;
        pr->txn_from = -1;
        err = kp_producer_init_transactions(pr->p, sc_txn_done, pr);
        if (err != KP_ERR_NONE) {
            sc_harness_emit(w, SC_EV_TXN_FAILED, -1, kp_producer_txn_error_message(pr->p));
            pr->txn_phase = SC_TXN_FAILED;
            return false;
        }
        return false;
    case SC_TXN_WAIT:
        return false;
    case SC_TXN_FAILED:
        return false;
    case SC_TXN_READY:
        if (finished)
            return true; /* nothing open: the caller closes */
        if (now < pr->txn_not_before) {
            sc_app_schedule(pr, pr->txn_not_before);
            return false;
        }
        err = kp_producer_begin_transaction(pr->p);
        if (err != KP_ERR_NONE) {
            sc_harness_emit(w, SC_EV_TXN_FAILED, -1, kp_producer_txn_error_message(pr->p));
            pr->txn_phase = SC_TXN_FAILED;
            return false;
        }
        pr->txn_index++;
        pr->txn_from = pr->next_seq;
        pr->txn_aborting = t->abort_every > 0 && pr->txn_index % t->abort_every == 0;
        pr->txn_phase = SC_TXN_OPEN;
        sc_harness_emit(w, SC_EV_TXN_BEGIN, -1, pr->txn_aborting ? "will abort" : "will commit");
        return true;
    case SC_TXN_OPEN: {
        int64_t in_txn = pr->next_seq - pr->txn_from;
        if (!finished && in_txn < t->records_per_txn)
            return true;
        /* the transaction is full (or the workload is done): end it after
         * commit_delay_ms */
        if (pr->txn_end_at < 0)
            pr->txn_end_at = now + t->commit_delay_ms * 1000;
        if (now < pr->txn_end_at) {
            sc_app_schedule(pr, pr->txn_end_at);
            return false;
        }
        pr->txn_end_at = -1;
        pr->txn_phase = SC_TXN_WAIT;
        err = pr->txn_aborting ? kp_producer_abort_transaction(pr->p, sc_txn_done, pr)
                               : kp_producer_commit_transaction(pr->p, sc_txn_done, pr);
        if (err != KP_ERR_NONE) {
            /* refused at once (the producer is in an error state): what was
             * sent in it may still be committed or aborted by others */
            sc_harness_emit(w, SC_EV_TXN_FAILED, -1, kp_producer_txn_error_message(pr->p));
            sc_checker_on_txn_unknown(w->checker, pr->idx, pr->txn_from, pr->next_seq);
            pr->txn_from = -1;
            pr->txn_phase = SC_TXN_FAILED;
            return false;
        }
        pr->txn_not_before = now + t->begin_delay_ms * 1000;
        return false;
    }
    }
    return false;
}

/* Sends record pr->next_seq. Returns false when the actor must wait. */
static bool sc_app_send_one(sc_prod *pr) {
    sc_world *w = pr->w;
    const Kpsim__Workload *wl = pr->wl;
    int64_t seq = pr->next_seq;
    kp_time_us now = sc_now(w);

    size_t size = 100;
    if (wl->has_value_size)
        size = (size_t)wl->value_size;
    else if (wl->has_value_size_min && wl->has_value_size_max)
        size = (size_t)kp_rng_range(&pr->rng, wl->value_size_min, wl->value_size_max);
    size_t vlen;
    uint32_t rest;
    const char *vbytes = sc_valgen_next_rest(&pr->valgen, pr->idx, seq, size, &vlen, &rest);

    /* "key-K": the workload's keys, formatted by hand (this ran snprintf
     * per record) */
    char keybuf[32];
    kp_slice key = KP_SLICE_NULL;
    if (wl->key_distribution != KPSIM__KEY_DISTRIBUTION__NONE && wl->key_space > 0) {
        uint64_t k = pr->zipf_cdf ? (uint64_t)sc_zipf_draw(pr) : kp_rng_below(&pr->rng, (uint64_t)wl->key_space);
        char *end = keybuf + sizeof keybuf, *q = end;
        do {
            *--q = (char)('0' + k % 10);
            k /= 10;
        } while (k);
        memcpy(q -= 4, "key-", 4);
        key = (kp_slice){ (const uint8_t *)q, (int32_t)(end - q) };
    }
    kp_slice value = { (const uint8_t *)vbytes, (int32_t)vlen };

    /* the template built with the actor holds topic, timestamp, headers */
    kp_producer_record *rec = &pr->rec;
    rec->partition = wl->n_partition ? wl->partition[seq % (int64_t)wl->n_partition] : -1;
    rec->key = key.len < 0 ? kp_datum_null() : (kp_datum){ pr->key_kind, key.ptr, key.len, 0 };
    rec->value = (kp_datum){ pr->value_kind, value.ptr, value.len, 0 };

    uint32_t kv_hash = sc_kv_hash_from(rest, key, value);
    sc_checker_on_send(w->checker, pr->idx, seq, kv_hash, now);
    pr->next_seq++;
    kp_err err = KP_ERR_NONE;
    char errbuf[256];
    void *tag = (void *)(uintptr_t)(((uint64_t)seq << 8) | (uint64_t)pr->idx);
    kp_send_status st = kp_producer_send(pr->p, rec, sc_record_cb, tag, &err, errbuf, sizeof errbuf);
    switch (st) {
    case KP_SEND_OK:
        pr->counters[KPSIM__COUNTER__RECORDS_SENT]++;
        w->totals[KPSIM__COUNTER__RECORDS_SENT]++;
        if (!pr->acc_topic && (pr->acc_topic = kp_producer_topic_name(pr->p, rec->topic))) {
            sc_digest_pin(&w->digest, pr->acc_topic);
            /* later records name their topic with those same bytes at
             * that address: the accumulator then finds its partition by
             * a pointer compare instead of strcmp (any pointer to the
             * same bytes is the same record to the producer) */
            if (!strcmp(rec->topic, pr->acc_topic))
                rec->topic = pr->acc_topic;
        }
        break;
    case KP_SEND_BLOCKED:
        pr->counters[KPSIM__COUNTER__RECORDS_SENT]++;
        w->totals[KPSIM__COUNTER__RECORDS_SENT]++;
        pr->blocked_seq = seq;
        break;
    case KP_SEND_ERROR:
        sc_checker_on_send_failed(w->checker, pr->idx, seq, err);
        if (err < -1 && err >= -128) {
            pr->errors[err + 128]++;
            w->total_errors[err + 128]++;
        }
        break;
    }
    if (pr->flush_every > 0 && pr->next_seq % pr->flush_every == 0) {
        pr->waiting_flush = true;
        pr->flush_upto = pr->next_seq;
        sc_checker_on_flush_begin(w->checker, pr->idx, pr->next_seq, now);
        kp_producer_flush(pr->p, sc_flush_done, pr);
        return false;
    }
    return st != KP_SEND_BLOCKED;
}

static bool sc_app_finished(const sc_prod *pr, kp_time_us now) {
    if (pr->target >= 0 && pr->next_seq >= pr->target)
        return true;
    if (pr->end_us >= 0 && now >= pr->end_us)
        return true;
    return false;
}

/* llround(x) for x >= 0, without the libm call (~27 Ir per record in the
 * quiet hour): trunc(x), plus one when the fraction is at least one half.
 * Exact: trunc(x) is a double, and x - trunc(x) is representable (it
 * needs no more significant bits than x), so the comparison sees the true
 * fraction, as llround does. x at or above 2^62 (never in a scenario)
 * still goes to llround. */
static inline int64_t sc_round_nonneg(double x) {
    if (!(x < 0x1p62))
        return (int64_t)llround(x);
    int64_t t = (int64_t)x;
    return t + (x - (double)t >= 0.5);
}

/* The application actor: sends what is due, then sleeps until the next
 * send, a flush completion or an unblock. */
static void sc_app_fire(void *ctx, sn_world *net) {
    sc_prod *pr = ctx;
    if (pr->closing || pr->waiting_flush)
        return;
    if (kp_producer_send_blocked(pr->p))
        return; /* on_unblocked resumes us */
    kp_time_us now = sn_now(net);
    int burst = 0;
    for (;;) {
        bool finished = sc_app_finished(pr, now);
        if (pr->txn) {
            bool go = sc_txn_step(pr, now, finished);
            if (pr->txn_phase == SC_TXN_FAILED) {
                pr->done_sending = true;
                sc_app_close(pr);
                return;
            }
            if (!go && !(finished && pr->txn_phase == SC_TXN_READY))
                return; /* waiting for a callback or a delay */
        }
        if (finished) {
            pr->done_sending = true;
            sc_app_close(pr);
            return;
        }
        kp_time_us due = pr->start_us;
        if (pr->interval_us > 0) {
            /* once per record (the actor wakes at `due` and looks again) */
            if (pr->due_seq != pr->next_seq) {
                pr->due_seq = pr->next_seq;
                pr->due_us = pr->start_us + sc_round_nonneg((double)pr->next_seq * pr->interval_us);
            }
            due = pr->due_us;
        }
        if (due > now) {
            sc_app_schedule(pr, due);
            return;
        }
        if (!sc_app_send_one(pr))
            return;
        /* as fast as accepted: yield now and then so the sender runs */
        if (++burst == 256) {
            sc_app_schedule(pr, now);
            return;
        }
    }
}

/* ======================================================================
 * faults
 * ==================================================================== */

static sn_node *sc_node(sc_world *w, const char *name) {
    return name && *name ? sn_node_find(w->net, name) : NULL;
}

static void sc_crash(sc_world *w, int32_t broker, bool down) {
    if (broker < 0 || broker >= w->nbrokers)
        return;
    if (down) {
        bm_cluster_crash_broker(w->cluster, broker);
        sn_fault_node_down(w->net, w->broker_nodes[broker]);
    } else {
        sn_fault_node_up(w->net, w->broker_nodes[broker]);
        bm_cluster_restart_broker(w->cluster, broker);
    }
    sc_broker_kick(w);
}

static void sc_chaos_crash(void *ctx, sn_node *node, bool down) {
    sc_world *w = ctx;
    for (int i = 0; i < w->nbrokers; i++)
        if (w->broker_nodes[i] == node) {
            sc_crash(w, i, down);
            return;
        }
}

static void sc_set_broker_setting(sc_world *w, const char *key, const char *value) {
    long long v = strtoll(value, NULL, 10);
    bool b = !strcmp(value, "true") || !strcmp(value, "1");
    if (!strcmp(key, "message.max.bytes") || !strcmp(key, "max.message.bytes"))
        bm_cluster_set_message_max_bytes(w->cluster, (int32_t)v);
    else if (!strcmp(key, "min.insync.replicas"))
        bm_cluster_set_min_insync_replicas(w->cluster, (int32_t)v);
    else if (!strcmp(key, "unclean.leader.election.enable"))
        bm_cluster_set_unclean_election(w->cluster, b);
    else if (!strcmp(key, "kpsim.replica.lag.ms"))
        bm_cluster_set_replica_lag(w->cluster, v * 1000);
    else if (!strcmp(key, "quota.producer.default"))
        bm_cluster_set_quota(w->cluster, v);
}

static void sc_apply_sets(sc_world *w, sn_node *const *as, size_t na, sn_node *const *bs, size_t nb,
                          bool heal, bool both) {
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++) {
            if (heal)
                sn_fault_heal(w->net, as[i], bs[j]);
            else
                sn_fault_partition(w->net, as[i], bs[j], both);
        }
}

static size_t sc_nodes_of(sc_world *w, char **names, size_t n, sn_node **out, size_t cap) {
    size_t k = 0;
    for (size_t i = 0; i < n && k < cap; i++) {
        sn_node *nd = sc_node(w, names[i]);
        if (nd)
            out[k++] = nd;
    }
    return k;
}

static void sc_fault_schedule_undo(sc_fault_ev *fe, int64_t duration_ms);

static void sc_harness_emit(sc_world *w, int kind, int32_t node, const char *detail) {
    kp_event ev;
    kp_event_init(&ev, kind, sc_now(w));
    ev.node = node;
    ev.detail = detail;
    sc_on_event(&w->harness_obs, &ev);
}

/* One line saying what a scripted fault does, for the trace. */
static void sc_fault_describe(const Kpsim__Fault *f, bool undo, char *buf, size_t n) {
    switch (f->action_case) {
    case KPSIM__FAULT__ACTION_DISCONNECT:
        snprintf(buf, n, "disconnect %s%s%s", f->disconnect->node, f->disconnect->peer ? " <-> " : "",
                 f->disconnect->peer ? f->disconnect->peer : "");
        break;
    case KPSIM__FAULT__ACTION_PARTITION:
        snprintf(buf, n, "%s %s%s | %s%s", undo ? "heal" : "partition", f->partition->n_a ? f->partition->a[0] : "",
                 f->partition->n_a > 1 ? ",..." : "", f->partition->n_b ? f->partition->b[0] : "",
                 f->partition->n_b > 1 ? ",..." : "");
        break;
    case KPSIM__FAULT__ACTION_HEAL: snprintf(buf, n, "heal"); break;
    case KPSIM__FAULT__ACTION_BLACKHOLE:
        snprintf(buf, n, "blackhole %s %s%s", undo || !f->blackhole->on ? "off" : "on", f->blackhole->node,
                 f->blackhole->peer ? " -> peer" : "");
        break;
    case KPSIM__FAULT__ACTION_SLOW_LINK:
        snprintf(buf, n, "%s %s", undo ? "link restored" : "slow link", f->slow_link->a);
        break;
    case KPSIM__FAULT__ACTION_CRASH:
        snprintf(buf, n, "broker-%d %s", (int)f->crash->broker, undo ? "restart" : "crash");
        break;
    case KPSIM__FAULT__ACTION_RESTART: snprintf(buf, n, "broker-%d restart", (int)f->restart->broker); break;
    case KPSIM__FAULT__ACTION_LEADER_MOVE:
        snprintf(buf, n, "leader move %s-%d -> broker %d", f->leader_move->topic, (int)f->leader_move->partition,
                 (int)f->leader_move->to_broker);
        break;
    case KPSIM__FAULT__ACTION_INJECT:
        snprintf(buf, n, "inject %s x%d on broker %d", f->inject->error, (int)f->inject->count,
                 (int)f->inject->broker);
        break;
    case KPSIM__FAULT__ACTION_REJECT:
        snprintf(buf, n, "reject %s-%d with %s", f->reject->topic, (int)f->reject->partition, f->reject->error);
        break;
    case KPSIM__FAULT__ACTION_SET_BROKER_SETTING:
        snprintf(buf, n, "set %s=%s", f->set_broker_setting->key, f->set_broker_setting->value);
        break;
    case KPSIM__FAULT__ACTION_SET_TOPIC_SETTING:
        snprintf(buf, n, "set %s %s=%s", f->set_topic_setting->topic, f->set_topic_setting->key,
                 f->set_topic_setting->value);
        break;
    default: snprintf(buf, n, "fault"); break;
    }
}

static void sc_fault_fire(void *ctx, sn_world *net) {
    sc_fault_ev *fe = ctx;
    sc_world *w = fe->w;
    const Kpsim__Fault *f = fe->f;
    sn_node *as[64], *bs[64];
    (void)net;
    char what[160];
    sc_fault_describe(f, fe->undo, what, sizeof what);
    sc_harness_emit(w, fe->undo ? SC_EV_FAULT_END : SC_EV_FAULT, -1, what);
    switch (f->action_case) {
    case KPSIM__FAULT__ACTION_DISCONNECT:
        sn_fault_disconnect(w->net, sc_node(w, f->disconnect->node), sc_node(w, f->disconnect->peer));
        break;
    case KPSIM__FAULT__ACTION_PARTITION: {
        const Kpsim__NetPartition *p = f->partition;
        size_t na = sc_nodes_of(w, p->a, p->n_a, as, 64), nb = sc_nodes_of(w, p->b, p->n_b, bs, 64);
        sc_apply_sets(w, as, na, bs, nb, fe->undo, !p->one_way);
        if (!fe->undo && p->has_duration_ms)
            sc_fault_schedule_undo(fe, p->duration_ms);
        break;
    }
    case KPSIM__FAULT__ACTION_HEAL: {
        const Kpsim__Heal *h = f->heal;
        if (!h->n_a && !h->n_b) { /* heal everything */
            int n = sn_node_count(w->net);
            for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++)
                    sn_fault_heal(w->net, sn_node_at(w->net, i), sn_node_at(w->net, j));
        } else {
            size_t na = sc_nodes_of(w, h->a, h->n_a, as, 64), nb = sc_nodes_of(w, h->b, h->n_b, bs, 64);
            sc_apply_sets(w, as, na, bs, nb, true, true);
        }
        break;
    }
    case KPSIM__FAULT__ACTION_BLACKHOLE: {
        const Kpsim__Blackhole *b = f->blackhole;
        bool on = fe->undo ? false : b->on;
        sn_fault_blackhole(w->net, sc_node(w, b->node), sc_node(w, b->peer), on);
        if (!fe->undo && on && b->has_duration_ms)
            sc_fault_schedule_undo(fe, b->duration_ms);
        break;
    }
    case KPSIM__FAULT__ACTION_SLOW_LINK: {
        const Kpsim__SlowLink *s = f->slow_link;
        sn_node *a = sc_node(w, s->a), *b = sc_node(w, s->b);
        if (!a)
            break;
        int n = sn_node_count(w->net);
        for (int i = 0; i < n; i++) {
            sn_node *peer = b ? b : sn_node_at(w->net, i);
            if (peer == a)
                continue;
            if (fe->undo) {
                sn_reset_link(w->net, a, peer);
            } else {
                sn_link_cfg cfg = sn_link_get(w->net, a, peer);
                if (s->has_latency_ms)
                    cfg.latency_us = (kp_time_us)s->latency_ms * 1000;
                if (s->has_jitter_ms)
                    cfg.jitter_us = (kp_time_us)s->jitter_ms * 1000;
                if (s->has_bandwidth_bytes_per_s)
                    cfg.bandwidth_bps = s->bandwidth_bytes_per_s * 8;
                sn_set_link(w->net, a, peer, cfg);
            }
            if (b)
                break;
        }
        if (!fe->undo && s->has_duration_ms)
            sc_fault_schedule_undo(fe, s->duration_ms);
        break;
    }
    case KPSIM__FAULT__ACTION_CRASH:
        sc_crash(w, f->crash->broker, !fe->undo);
        if (!fe->undo && f->crash->has_restart_after_ms)
            sc_fault_schedule_undo(fe, f->crash->restart_after_ms);
        break;
    case KPSIM__FAULT__ACTION_RESTART:
        sc_crash(w, f->restart->broker, false);
        break;
    case KPSIM__FAULT__ACTION_LEADER_MOVE:
        bm_cluster_move_leader(w->cluster, f->leader_move->topic, f->leader_move->partition,
                               f->leader_move->to_broker, false);
        sc_broker_kick(w);
        break;
    case KPSIM__FAULT__ACTION_INJECT: {
        const Kpsim__InjectErrors *in = f->inject;
        kp_err e = KP_ERR_NONE;
        kp_err_from_name(in->error, &e);
        bm_cluster_inject(w->cluster, in->broker, (int16_t)in->api, in->count, e, in->delay_ms * 1000);
        break;
    }
    case KPSIM__FAULT__ACTION_REJECT: {
        const Kpsim__RejectPartition *r = f->reject;
        kp_err e = KP_ERR_NONE;
        kp_err_from_name(r->error, &e);
        bm_cluster_reject_partition(w->cluster, r->topic, r->partition, e, r->until_ms * 1000);
        break;
    }
    case KPSIM__FAULT__ACTION_SET_BROKER_SETTING:
        sc_set_broker_setting(w, f->set_broker_setting->key, f->set_broker_setting->value);
        break;
    case KPSIM__FAULT__ACTION_SET_TOPIC_SETTING:
        /* broker_mock keeps these settings cluster-wide (README: limits) */
        sc_set_broker_setting(w, f->set_topic_setting->key, f->set_topic_setting->value);
        break;
    default:
        break;
    }
    sc_broker_kick(w);
}

static void sc_fault_schedule_undo(sc_fault_ev *fe, int64_t duration_ms) {
    sc_fault_ev *undo = fe + 1; /* every fault has a second slot for its end */
    undo->undo = true;
    sn_timer_schedule(fe->w->net, &undo->t, sc_now(fe->w) + duration_ms * 1000);
}

/* Chaos beyond the network: leader moves and injected errors, drawn from
 * the "chaos/cluster" stream as Poisson processes. */
static void sc_chaos_move_fire(void *ctx, sn_world *net) {
    sc_world *w = ctx;
    kp_time_us now = sn_now(net);
    if (now >= w->chaos_end_us)
        return;
    if (w->ntopics > 0) {
        int t = (int)kp_rng_below(&w->chaos_rng, (uint64_t)w->ntopics);
        int32_t np = bm_cluster_partition_count(w->cluster, w->topics[t]);
        if (np > 0) {
            int32_t part = (int32_t)kp_rng_below(&w->chaos_rng, (uint64_t)np);
            bm_partition_info info;
            if (bm_cluster_partition_info(w->cluster, w->topics[t], part, &info) == KP_ERR_NONE &&
                info.nisr > 1) {
                int32_t to = info.isr[kp_rng_below(&w->chaos_rng, (uint64_t)info.nisr)];
                if (to != info.leader) {
                    char what[160];
                    snprintf(what, sizeof what, "leader move %s-%d -> broker %d", w->topics[t], (int)part, (int)to);
                    sc_harness_emit(w, SC_EV_CHAOS_FAULT, to, what);
                    bm_cluster_move_leader(w->cluster, w->topics[t], part, to, false);
                }
            }
        }
    }
    sc_broker_kick(w);
    double gap = kp_rng_exp(&w->chaos_rng, 1.0 / w->chaos_moves_per_us);
    sn_timer_schedule(net, &w->chaos_move_timer, now + (kp_time_us)gap + 1);
}

static void sc_chaos_err_fire(void *ctx, sn_world *net) {
    sc_world *w = ctx;
    kp_time_us now = sn_now(net);
    if (now >= w->chaos_end_us)
        return;
    const Kpsim__Chaos *ch = w->s->chaos;
    double total = 0;
    for (size_t i = 0; i < ch->n_error; i++)
        total += ch->error[i]->per_min;
    double pick = kp_rng_double(&w->chaos_rng) * total;
    for (size_t i = 0; i < ch->n_error; i++) {
        pick -= ch->error[i]->per_min;
        if (pick < 0 || i + 1 == ch->n_error) {
            kp_err e = KP_ERR_NONE;
            kp_err_from_name(ch->error[i]->error, &e);
            int32_t broker = (int32_t)kp_rng_below(&w->chaos_rng, (uint64_t)w->nbrokers);
            char what[160];
            snprintf(what, sizeof what, "inject %s on broker %d", ch->error[i]->error, (int)broker);
            sc_harness_emit(w, SC_EV_CHAOS_FAULT, broker, what);
            bm_cluster_inject(w->cluster, broker, (int16_t)ch->error[i]->api, 1, e, 0);
            break;
        }
    }
    double gap = kp_rng_exp(&w->chaos_rng, 1.0 / w->chaos_errs_per_us);
    sn_timer_schedule(net, &w->chaos_err_timer, now + (kp_time_us)gap + 1);
}

static void sc_chaos_net_start(void *ctx, sn_world *net) {
    sc_world *w = ctx;
    const Kpsim__Chaos *ch = w->s->chaos;
    sn_chaos_cfg cfg = { 0 };
    cfg.disconnects_per_s = ch->disconnects_per_min / 60.0;
    cfg.partitions_per_s = ch->partitions_per_min / 60.0;
    cfg.blackholes_per_s = ch->blackholes_per_min / 60.0;
    cfg.slow_links_per_s = ch->slow_links_per_min / 60.0;
    cfg.crashes_per_s = ch->broker_crashes_per_min / 60.0;
    cfg.mean_duration_us = ch->mean_duration_ms * 1000;
    cfg.on_crash = sc_chaos_crash;
    cfg.on_crash_ctx = w;
    if (cfg.disconnects_per_s <= 0 && cfg.partitions_per_s <= 0 && cfg.blackholes_per_s <= 0 &&
        cfg.slow_links_per_s <= 0 && cfg.crashes_per_s <= 0)
        return;
    int n = sn_node_count(net);
    sn_node **nodes = calloc((size_t)n, sizeof *nodes);
    if (!nodes)
        abort();
    for (int i = 0; i < n; i++)
        nodes[i] = sn_node_at(net, i);
    sn_chaos_start(net, &cfg, nodes, n, w->chaos_end_us);
    free(nodes);
}

static void sc_chaos_setup(sc_world *w, sn_timer *start_timer) {
    const Kpsim__Chaos *ch = w->s->chaos;
    if (!ch)
        return;
    kp_time_us start = ch->start_ms * 1000;
    w->chaos_end_us = ch->has_end_ms ? ch->end_ms * 1000 : w->s->time_limit_ms * 1000;
    w->chaos_rng = sn_rng_stream(w->net, "chaos/cluster");
    sn_timer_init(start_timer, sc_chaos_net_start, w);
    sn_timer_schedule(w->net, start_timer, start);
    if (ch->leader_moves_per_min > 0) {
        w->chaos_moves_per_us = ch->leader_moves_per_min / 60e6;
        sn_timer_init(&w->chaos_move_timer, sc_chaos_move_fire, w);
        double gap = kp_rng_exp(&w->chaos_rng, 1.0 / w->chaos_moves_per_us);
        sn_timer_schedule(w->net, &w->chaos_move_timer, start + (kp_time_us)gap + 1);
    }
    double err_rate = 0;
    for (size_t i = 0; i < ch->n_error; i++)
        err_rate += ch->error[i]->per_min;
    if (err_rate > 0) {
        w->chaos_errs_per_us = err_rate / 60e6;
        sn_timer_init(&w->chaos_err_timer, sc_chaos_err_fire, w);
        double gap = kp_rng_exp(&w->chaos_rng, 1.0 / w->chaos_errs_per_us);
        sn_timer_schedule(w->net, &w->chaos_err_timer, start + (kp_time_us)gap + 1);
    }
}

/* ======================================================================
 * build
 * ==================================================================== */

static bool sc_build_fail(sc_world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool sc_build_fail(sc_world *w, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->fail_msg, sizeof w->fail_msg, fmt, ap);
    va_end(ap);
    w->failed_build = true;
    return false;
}

static sn_link_cfg sc_link_cfg(const Kpsim__Network *n) {
    sn_link_cfg cfg = { .latency_us = 1000, .jitter_us = 0, .bandwidth_bps = 0,
                        .min_chunk = 1, .max_chunk = 65536 };
    if (n) {
        cfg.latency_us = (kp_time_us)n->latency_ms * 1000;
        cfg.jitter_us = (kp_time_us)n->jitter_ms * 1000;
        cfg.bandwidth_bps = n->bandwidth_bytes_per_s * 8;
        cfg.min_chunk = n->min_chunk_bytes;
        cfg.max_chunk = n->max_chunk_bytes;
    }
    return cfg;
}

_Static_assert(sizeof(bm_digest) == sizeof(sc_log_digest), "a broker digest holds the checker's");

/* The cluster's settle hook: records whose log positions are final, fed
 * to the checker now. Topics the scenario does not name are not judged
 * (as in the final scan); control batches are not records. */
static __attribute__((noinline)) void sc_settle_topic(sc_world *w, const char *name) {
    w->settle_name = name;
    w->settle_topic = sc_topic_find(w, name);
}

static void sc_settled_batch(void *ctx, const bm_settled_batch *b) {
    sc_world *w = ctx;
    if (b->topic != w->settle_name) /* out of line: no call before the checker's in the common case */
        sc_settle_topic(w, b->topic);
    if (w->settle_topic < 0 || b->control)
        return;
    assert(b->digests && "the runner's cluster digests every data batch");
    bool visible = b->txn_state == BM_TXN_NONE || b->txn_state == BM_TXN_COMMITTED;
    sc_checker_log_digests(w->checker, w->settle_topic, b->partition, b->base_offset, b->digests,
                           b->count, visible);
}

static bool sc_build_cluster(sc_world *w, sc_listen_ctx *listen) {
    const Kpsim__Cluster *cl = w->s->cluster;
    bm_config conf;
    bm_config_defaults(&conf);
    conf.brokers = cl ? cl->brokers : 3;
    conf.port_base = SC_PORT_BASE;
    snprintf(conf.host, sizeof conf.host, "localhost");
    /* broker settings by their Kafka names (the loader validated them
     * with the same function) */
    for (size_t i = 0; cl && i < cl->n_broker_setting; i++) {
        char errbuf[256];
        if (bm_config_set(&conf, cl->broker_setting[i]->key, cl->broker_setting[i]->value, errbuf,
                          sizeof errbuf) != KP_ERR_NONE)
            return sc_build_fail(w, "broker setting %s: %s", cl->broker_setting[i]->key, errbuf);
    }
    kp_env env = {
        .clock = sn_clock(w->net),
        .observer = sc_observer(&w->broker_obs),
        .rng = sn_rng_stream(w->net, "broker"),
        .wakeup = sc_broker_wakeup,
        .wakeup_ctx = w,
    };
    w->cluster = bm_cluster_new(&conf, &env);
    if (!w->cluster)
        return sc_build_fail(w, "could not create a cluster of %d brokers", (int)conf.brokers);
    /* the logs keep what the checker's log scan reads, not the records,
     * and hand each record to the checker once it is settled */
    /* the digester is the checker's own (sc_log_digest_best: the broker's
     * bm_digest_fn, its 12-byte slot holding an sc_log_digest) */
    bm_cluster_set_digester(w->cluster, sc_log_digest_best(), NULL);
    bm_cluster_set_settler(w->cluster, sc_settled_batch, w);
    w->nbrokers = conf.brokers;
    w->broker_nodes = calloc((size_t)w->nbrokers, sizeof *w->broker_nodes);
    if (!w->broker_nodes)
        abort();
    for (int i = 0; i < w->nbrokers; i++) {
        char name[32];
        snprintf(name, sizeof name, "broker-%d", i);
        w->broker_nodes[i] = sn_node_add(w->net, name);
        listen[i] = (sc_listen_ctx){ w, i };
        if (!sn_node_listen(w->broker_nodes[i], "localhost", SC_PORT_BASE + i, sc_broker_accept, &listen[i]))
            return sc_build_fail(w, "broker-%d cannot listen", i);
    }
    for (size_t t = 0; cl && t < cl->n_topic; t++) {
        const Kpsim__Topic *tp = cl->topic[t];
        bm_topic_config tc;
        bm_topic_config_defaults(&tc);
        for (size_t k = 0; k < tp->n_setting; k++) {
            char errbuf[256];
            if (bm_topic_config_set(&tc, tp->setting[k]->key, tp->setting[k]->value, errbuf, sizeof errbuf) !=
                KP_ERR_NONE)
                return sc_build_fail(w, "topic %s setting %s: %s", tp->name, tp->setting[k]->key, errbuf);
        }
        kp_err e = bm_cluster_create_topic_with(w->cluster, tp->name, tp->partitions, tp->replication_factor, &tc);
        if (e != KP_ERR_NONE)
            return sc_build_fail(w, "topic %s: %s", tp->name, kp_err_name(e));
        sc_topic_index(w, tp->name);
    }
    sn_timer_init(&w->broker_timer, sc_broker_fire, w);
    sc_broker_kick(w);
    return true;
}

static bool sc_build_producer(sc_world *w, int i) {
    sc_prod *pr = &w->prods[i];
    const Kpsim__Producer *spec = w->s->producer[i];
    pr->w = w;
    pr->idx = i;
    pr->spec = spec;
    pr->wl = spec->workload;
    pr->blocked_seq = -1;
    pr->obs.w = w;
    pr->obs.producer = i;
    static const char *const tracks[6] = { "app", "metadata", "accumulator", "sender", "network", "txn" };
    for (int k = 0; k < 6; k++)
        snprintf(pr->obs.component[k], sizeof pr->obs.component[k], "%s %s", spec->name, tracks[k]);
    pr->node = sn_node_add(w->net, spec->name);
    if (!pr->node)
        return sc_build_fail(w, "producer %s: node name taken", spec->name);

    sc_error err;
    if (!sc_scenario_producer_config(w->sc, (size_t)i, &pr->cfg, &err))
        return sc_build_fail(w, "%s", err.text);
    if (!pr->cfg.bootstrap_servers[0]) {
        size_t off = 0;
        for (int b = 0; b < w->nbrokers && off + 32 < sizeof pr->cfg.bootstrap_servers; b++)
            off += (size_t)snprintf(pr->cfg.bootstrap_servers + off, sizeof pr->cfg.bootstrap_servers - off,
                                    "%slocalhost:%d", b ? "," : "", SC_PORT_BASE + b);
    }
    if (!pr->cfg.client_id[0])
        snprintf(pr->cfg.client_id, sizeof pr->cfg.client_id, "%s", spec->name);
    char errbuf[256];
    if (kp_config_validate(&pr->cfg, errbuf, sizeof errbuf) != KP_ERR_NONE)
        return sc_build_fail(w, "producer %s: %s", spec->name, errbuf);

    char stream[96];
    snprintf(stream, sizeof stream, "producer/%s", spec->name);
    kp_env env = {
        .clock = sn_clock(w->net),
        .transport = sn_transport(w->net, pr->node),
        .observer = sc_observer(&pr->obs),
        .rng = sn_rng_stream(w->net, stream),
        .wakeup = sc_sender_wakeup,
        .wakeup_ctx = pr,
    };
    kp_err e = KP_ERR_NONE;
    pr->p = kp_producer_new(&pr->cfg, &env, &e, errbuf, sizeof errbuf);
    if (!pr->p)
        return sc_build_fail(w, "producer %s: %s (%s)", spec->name, errbuf, kp_err_name(e));
    kp_producer_set_on_unblocked(pr->p, sc_unblocked, pr);
    sn_timer_init(&pr->sender_timer, sc_sender_fire, pr);
    sn_timer_init(&pr->app_timer, sc_app_fire, pr);
    sn_timer_schedule(w->net, &pr->sender_timer, 0);

    snprintf(stream, sizeof stream, "workload/%s", spec->name);
    pr->rng = sn_rng_stream(w->net, stream);
    const Kpsim__Workload *wl = pr->wl;
    pr->target = wl && wl->has_records ? wl->records : -1;
    pr->start_us = wl ? wl->start_ms * 1000 : 0;
    pr->end_us = wl && wl->has_duration_ms ? pr->start_us + wl->duration_ms * 1000 : -1;
    if (pr->target < 0 && pr->end_us < 0)
        pr->target = 0;
    pr->due_seq = -1;
    pr->interval_us = wl && wl->has_rate_per_s && wl->rate_per_s > 0 ? 1e6 / wl->rate_per_s : 0;
    pr->flush_every = wl && wl->has_flush_every ? wl->flush_every : 0;
    pr->txn = wl && wl->transactions ? wl->transactions : NULL;
    pr->txn_phase = SC_TXN_NEED_INIT;
    pr->txn_from = -1;
    pr->txn_end_at = -1;
    pr->topic = wl ? sc_topic_index(w, wl->topic) : -1;
    sc_valgen_init(&pr->valgen);
    if (wl) {
        static const char *const hkeys[4] = { "h0", "h1", "h2", "h3" };
        int nh = wl->headers > 4 ? 4 : (int)wl->headers;
        for (int h = 0; h < nh; h++)
            pr->headers[h] = (kp_header){ kp_slice_str(hkeys[h]), kp_slice_str("v") };
        /* the scenario's topic name lives and stays as it is for the run:
         * the send and partition events carry it */
        sc_digest_pin(&w->digest, wl->topic);
        pr->rec = (kp_producer_record){
            .topic = wl->topic,
            .partition = -1,
            .timestamp = -1,
            .headers = nh ? pr->headers : NULL,
            .header_count = nh,
        };
    }
    /* the workload's keys and values are text: a STRING datum suits the
     * default StringSerializer, a BYTES datum the ByteArraySerializer */
    pr->key_kind = pr->cfg.key_serializer == KP_SERIALIZER_BYTES ? KP_DATUM_BYTES : KP_DATUM_STRING;
    pr->value_kind = pr->cfg.value_serializer == KP_SERIALIZER_BYTES ? KP_DATUM_BYTES : KP_DATUM_STRING;
    if (wl && wl->key_distribution == KPSIM__KEY_DISTRIBUTION__ZIPF && wl->key_space > 0) {
        int64_t n = wl->key_space > 1000000 ? 1000000 : wl->key_space;
        pr->zipf_n = n;
        pr->zipf_cdf = malloc((size_t)n * sizeof *pr->zipf_cdf);
        if (!pr->zipf_cdf)
            abort();
        double sum = 0;
        for (int64_t k = 0; k < n; k++)
            sum += 1.0 / pow((double)(k + 1), wl->zipf_s);
        double acc = 0;
        for (int64_t k = 0; k < n; k++) {
            acc += 1.0 / pow((double)(k + 1), wl->zipf_s) / sum;
            pr->zipf_cdf[k] = acc;
        }
    }
    if (wl)
        sn_timer_schedule(w->net, &pr->app_timer, pr->start_us);
    else
        sc_app_close(pr);
    return true;
}

static bool sc_build_faults(sc_world *w) {
    w->nfaults = w->s->n_fault;
    w->faults = calloc(w->nfaults * 2 + 1, sizeof *w->faults);
    if (!w->faults)
        abort();
    for (size_t i = 0; i < w->nfaults; i++) {
        for (int k = 0; k < 2; k++) {
            sc_fault_ev *fe = &w->faults[2 * i + (size_t)k];
            fe->w = w;
            fe->f = w->s->fault[i];
            fe->undo = k == 1;
            sn_timer_init(&fe->t, sc_fault_fire, fe);
        }
        sn_timer_schedule(w->net, &w->faults[2 * i].t, w->s->fault[i]->at_ms * 1000);
    }
    return true;
}

static void sc_setup_checker(sc_world *w) {
    sc_producer_info *info = calloc((size_t)w->nprods, sizeof *info);
    if (!info)
        abort();
    for (int i = 0; i < w->nprods; i++) {
        const kp_config *c = &w->prods[i].cfg;
        info[i] = (sc_producer_info){
            .idempotent = c->enable_idempotence,
            .max_in_flight = c->max_in_flight,
            .acks = c->acks,
            .delivery_timeout_ms = c->delivery_timeout_ms,
            /* the sender notices an expired batch on its next iteration,
             * which a pending poll may delay by up to one retry backoff */
            .timeout_slack_ms = c->retry_backoff_ms + 1,
            .transactional = c->has_transactional_id || w->prods[i].txn != NULL,
        };
    }
    w->checker = sc_checker_new(w->nprods, info);
    free(info);
    const Kpsim__Expect *ex = w->s->expect;
    if (!ex)
        return;
    for (size_t i = 0; i < ex->n_disable; i++) {
        switch (ex->disable[i]) {
        case KPSIM__INVARIANT__ONE_CALLBACK_PER_SEND:
            sc_checker_disable(w->checker, SC_INV_ONE_CALLBACK);
            break;
        case KPSIM__INVARIANT__ACKED_IN_LOG: sc_checker_disable(w->checker, SC_INV_ACKED_IN_LOG); break;
        case KPSIM__INVARIANT__NO_DUPLICATES: sc_checker_disable(w->checker, SC_INV_NO_DUPLICATES); break;
        case KPSIM__INVARIANT__SEND_ORDER: sc_checker_disable(w->checker, SC_INV_PER_PARTITION_ORDER); break;
        case KPSIM__INVARIANT__DELIVERY_TIMEOUT: sc_checker_disable(w->checker, SC_INV_DELIVERY_TIMEOUT); break;
        case KPSIM__INVARIANT__BUFFER_POOL_WHOLE: sc_checker_disable(w->checker, SC_INV_BUFFER_POOL_WHOLE); break;
        case KPSIM__INVARIANT__FLUSH_COMPLETES_SENDS: sc_checker_disable(w->checker, SC_INV_FLUSH_COMPLETES); break;
        default: break;
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        Kpsim__Anomaly *list = pass ? ex->expect_anomaly : ex->allow_anomaly;
        size_t n = pass ? ex->n_expect_anomaly : ex->n_allow_anomaly;
        for (size_t i = 0; i < n; i++) {
            sc_anomaly a;
            switch (list[i]) {
            case KPSIM__ANOMALY__REORDERING: a = SC_ANOM_REORDERING; break;
            case KPSIM__ANOMALY__DUPLICATES: a = SC_ANOM_DUPLICATES; break;
            case KPSIM__ANOMALY__ACKS1_LOSS_ON_UNCLEAN_FAILOVER: a = SC_ANOM_ACKED_LOST; break;
            case KPSIM__ANOMALY__ACKS0_LOSS: a = SC_ANOM_ACKS0_LOSS; break;
            default: continue;
            }
            if (pass)
                sc_checker_expect(w->checker, a);
            else
                sc_checker_allow(w->checker, a);
        }
    }
}

/* ======================================================================
 * run, check, report
 * ==================================================================== */

/* The run's stop test, asked after every event of the world: a count,
 * not a walk over the producers. */
static bool sc_all_closed(void *ctx) {
    sc_world *w = ctx;
    if (w->nclosed < w->nprods)
        return false;
    /* an accepted EndTxn's markers still to be written: the logs are not
     * final for a read_committed reader yet (the broker's poll writes them) */
    return bm_cluster_txn_markers_pending(w->cluster) == 0;
}

typedef struct sc_scan_ctx {
    sc_world *w;
    int32_t topic;
} sc_scan_ctx;

static void sc_feed_record(sc_world *w, int topic, const bm_record_view *rec) {
    /* a read_committed reader sees non-transactional records and those of
     * committed transactions (aborted and still-open ones stay hidden) */
    bool visible = rec->txn_state == BM_TXN_NONE || rec->txn_state == BM_TXN_COMMITTED;
    if (rec->control)
        return;
    if (rec->digest) {
        sc_log_digest d;
        memcpy(&d, rec->digest, sizeof d);
        sc_checker_log_digest(w->checker, topic, rec->partition, rec->offset, &d, visible);
    } else {
        sc_checker_log_record_txn(w->checker, topic, rec->partition, rec->offset, rec->key,
                                  rec->value, visible);
    }
}

static bool sc_scan_record(void *ctx, const bm_record_view *rec) {
    sc_scan_ctx *sx = ctx;
    sc_feed_record(sx->w, sx->topic, rec);
    return true;
}

/* The end of the run: what did not settle is final now. */
static void sc_scan_logs(sc_world *w) {
    for (int t = 0; t < w->ntopics; t++) {
        int32_t np = bm_cluster_partition_count(w->cluster, w->topics[t]);
        for (int32_t p = 0; p < np; p++) {
            sc_scan_ctx sx = { w, t };
            int64_t from = bm_cluster_settled_offset(w->cluster, w->topics[t], p);
            bm_cluster_read_log_from(w->cluster, w->topics[t], p, from, sc_scan_record, &sx);
        }
    }
}

static const char *sc_counter_name(int c) {
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&kpsim__counter__descriptor, c);
    return v ? v->name : "?";
}

typedef struct sc_expect_line {
    char text[160];
    bool passed;
} sc_expect_line;

/* Evaluates the scenario's counter and error bounds into lines. */
static size_t sc_eval_expectations(sc_world *w, sc_expect_line **out) {
    const Kpsim__Expect *ex = w->s->expect;
    size_t n = ex ? ex->n_counter + ex->n_error : 0;
    sc_expect_line *lines = calloc(n + 1, sizeof *lines);
    if (!lines)
        abort();
    size_t k = 0;
    for (size_t i = 0; ex && i < ex->n_counter; i++) {
        const Kpsim__CounterBound *cb = ex->counter[i];
        int c = (int)cb->name;
        int64_t v = 0;
        for (int p = 0; p < w->nprods; p++) {
            if (cb->producer && strcmp(cb->producer, w->prods[p].spec->name))
                continue;
            v += w->prods[p].counters[c];
        }
        bool ok = v >= cb->min && (!cb->has_max || v <= cb->max);
        char range[64];
        if (cb->has_max && cb->max == cb->min)
            snprintf(range, sizeof range, "== %" PRId64, cb->min);
        else if (cb->has_max)
            snprintf(range, sizeof range, "in %" PRId64 "..%" PRId64, cb->min, cb->max);
        else
            snprintf(range, sizeof range, ">= %" PRId64, cb->min);
        const char *name = sc_counter_name(c);
        char lname[48];
        size_t j = 0;
        for (; name[j] && j + 1 < sizeof lname; j++)
            lname[j] = (char)(name[j] >= 'A' && name[j] <= 'Z' ? name[j] - 'A' + 'a' : name[j]);
        lname[j] = 0;
        snprintf(lines[k].text, sizeof lines[k].text, "counter %s%s%s %s: %" PRId64, lname,
                 cb->producer ? " of " : "", cb->producer ? cb->producer : "", range, v);
        lines[k++].passed = ok;
    }
    for (size_t i = 0; ex && i < ex->n_error; i++) {
        const Kpsim__ErrorBound *eb = ex->error[i];
        kp_err e = KP_ERR_NONE;
        kp_err_from_name(eb->name, &e);
        int64_t v = 0;
        if ((int)e >= -128 && (int)e < 128)
            for (int p = 0; p < w->nprods; p++) {
                if (eb->producer && strcmp(eb->producer, w->prods[p].spec->name))
                    continue;
                v += w->prods[p].errors[e + 128];
            }
        bool ok = v >= eb->min && (!eb->has_max || v <= eb->max);
        char range[64];
        if (eb->has_max && eb->max == eb->min)
            snprintf(range, sizeof range, "== %" PRId64, eb->min);
        else if (eb->has_max)
            snprintf(range, sizeof range, "in %" PRId64 "..%" PRId64, eb->min, eb->max);
        else
            snprintf(range, sizeof range, ">= %" PRId64, eb->min);
        snprintf(lines[k].text, sizeof lines[k].text, "error %s%s%s %s: %" PRId64, kp_err_name(e),
                 eb->producer ? " of " : "", eb->producer ? eb->producer : "", range, v);
        lines[k++].passed = ok;
    }
    *out = lines;
    return k;
}

static void sc_trace_open(sc_world *w) {
    const char *path = w->opts->trace_path;
    if (!path)
        return;
    kp_err e = KP_ERR_NONE;
    w->trace = rp_trace_writer_open_path(path, &e);
    if (!w->trace) {
        sc_log(w, "warning: cannot write trace %s (%s)\n", path, kp_err_name(e));
        return;
    }
    for (int k = KP_EV_BASE_PRODUCER; k <= SC_EV_LAST; k++) {
        const char *n = sc_event_kind_name(k);
        if (!n)
            continue;
        const char *layer = k < KP_EV_BASE_BROKER ? "producer"
                            : k < KP_EV_BASE_NET  ? "broker"
                            : k < KP_EV_BASE_HARNESS ? "net"
                                                      : "harness";
        rp_trace_writer_register_kind(w->trace, k, n, layer, NULL);
    }
    const Kpsim__Scenario *s = w->s;
    rp_kv settings[64];
    char keys[64][96];
    size_t ns = 0;
    for (size_t p = 0; p < s->n_producer && ns < 60; p++)
        for (size_t i = 0; i < s->producer[p]->n_setting && ns < 60; i++) {
            snprintf(keys[ns], sizeof keys[ns], "%s.%s", s->producer[p]->name, s->producer[p]->setting[i]->key);
            settings[ns] = (rp_kv){ keys[ns], s->producer[p]->setting[i]->value };
            ns++;
        }
    rp_trace_header h = {
        .kpsim_version = KP_VERSION_STRING,
        .scenario = s->name,
        .purpose = s->purpose,
        .seed = w->seed,
        .start_time_us = 0,
        .settings = settings,
        .n_settings = ns,
    };
    rp_trace_writer_header(w->trace, &h);
}

static void sc_trace_close(sc_world *w, const sc_run_result *res, const sc_expect_line *lines, size_t nlines) {
    if (!w->trace)
        return;
    rp_verdict inv[SC_INV_COUNT + SC_ANOM_COUNT];
    char msgs[SC_INV_COUNT][160];
    size_t ni = 0;
    for (int i = 0; i < SC_INV_COUNT; i++) {
        const sc_inv_result *r = sc_checker_result(w->checker, (sc_invariant)i);
        if (!r->enabled)
            continue;
        snprintf(msgs[ni], sizeof msgs[ni], "%s", r->nfirst ? r->first[0] : "");
        inv[ni] = (rp_verdict){ sc_invariant_name((sc_invariant)i), r->violations == 0, r->checked,
                                r->nfirst ? msgs[ni] : NULL };
        ni++;
    }
    rp_verdict *exp = calloc(nlines + SC_ANOM_COUNT + 1, sizeof *exp);
    size_t ne = 0;
    char anames[SC_ANOM_COUNT][64];
    for (int a = 0; a < SC_ANOM_COUNT; a++) {
        if (!sc_checker_anomaly_expected(w->checker, (sc_anomaly)a))
            continue;
        snprintf(anames[a], sizeof anames[a], "anomaly %s observed", sc_anomaly_name((sc_anomaly)a));
        int64_t c = sc_checker_anomaly_count(w->checker, (sc_anomaly)a);
        exp[ne++] = (rp_verdict){ anames[a], c > 0, c, NULL };
    }
    for (size_t i = 0; i < nlines; i++)
        exp[ne++] = (rp_verdict){ lines[i].text, lines[i].passed, 0, NULL };
    rp_metric metrics[SC_NCOUNTERS];
    size_t nm = 0;
    char mnames[SC_NCOUNTERS][48];
    for (int c = 1; c < SC_NCOUNTERS && nm < SC_NCOUNTERS; c++) {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&kpsim__counter__descriptor, c);
        if (!v)
            continue;
        size_t j = 0;
        for (; v->name[j] && j + 1 < sizeof mnames[nm]; j++)
            mnames[nm][j] = (char)(v->name[j] >= 'A' && v->name[j] <= 'Z' ? v->name[j] - 'A' + 'a' : v->name[j]);
        mnames[nm][j] = 0;
        int64_t val = c < 32 ? res->counters[c] : 0;
        metrics[nm] = (rp_metric){ mnames[nm], (double)val, NULL };
        nm++;
    }
    rp_trace_summary sum = {
        .passed = res->passed,
        .invariants = inv,
        .n_invariants = ni,
        .expectations = exp,
        .n_expectations = ne,
        .metrics = metrics,
        .n_metrics = nm,
        .records_sent = res->sent,
        .records_acked = res->acked,
        .records_failed = res->failed,
        .end_time_us = res->sim_end_us,
        .reproduce = w->opts->reproduce,
    };
    rp_trace_writer_summary(w->trace, &sum);
    rp_trace_writer_close(w->trace);
    w->trace = NULL;
    free(exp);
}

static void sc_print_report(sc_world *w, const sc_run_result *res, const sc_expect_line *lines, size_t nlines) {
    FILE *out = w->opts->out;
    if (!out)
        return;
    const Kpsim__Scenario *s = w->s;
    if (!w->opts->quiet) {
        fprintf(out, "scenario   %s — %s\n", s->name, s->purpose ? s->purpose : "");
        fprintf(out, "seed       %" PRIu64 "   simulated %.3f s   events %" PRIu64 "   digest %016" PRIx64 "\n",
                res->seed, res->sim_end_us / 1e6, res->events, res->digest);
        fprintf(out, "records    sent %" PRId64 "   acked %" PRId64 "   failed %" PRId64 "\n", res->sent,
                res->acked, res->failed);
        fprintf(out, "counters  ");
        static const int shown[] = { KPSIM__COUNTER__BATCHES, KPSIM__COUNTER__REQUESTS, KPSIM__COUNTER__RETRIES,
                                     KPSIM__COUNTER__SPLITS, KPSIM__COUNTER__METADATA_REFRESHES,
                                     KPSIM__COUNTER__EXPIRED, KPSIM__COUNTER__DISCONNECTS,
                                     KPSIM__COUNTER__REQUEST_TIMEOUTS, KPSIM__COUNTER__BLOCKED_SENDS };
        for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
            const char *n = sc_counter_name(shown[i]);
            fprintf(out, " ");
            for (const char *c = n; *c; c++)
                fputc(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c, out);
            fprintf(out, " %" PRId64, res->counters[shown[i]]);
        }
        fprintf(out, "\nerrors    ");
        int shown_errs = 0;
        for (int e = 0; e < SC_ERR_SLOTS; e++)
            if (w->total_errors[e]) {
                fprintf(out, " %s %" PRId64, kp_err_name((kp_err)(e - 128)), w->total_errors[e]);
                shown_errs++;
            }
        fprintf(out, "%s\n", shown_errs ? "" : " none");
        fprintf(out, "checks\n");
        sc_checker_print(w->checker, out);
        for (size_t i = 0; i < nlines; i++)
            fprintf(out, "  %s expect    %s\n", lines[i].passed ? "ok  " : "FAIL", lines[i].text);
        if (res->timed_out)
            fprintf(out, "  FAIL run       the time limit (%.3f s) came before every producer closed\n",
                     res->sim_end_us / 1e6);
    }
    fprintf(out, "verdict    %s  %s (seed %" PRIu64 ")\n", res->passed ? "PASS" : "FAIL", s->name, res->seed);
    if (!res->passed) {
        fprintf(out, "first      %s\n", res->first_failure);
        if (w->opts->reproduce)
            fprintf(out, "reproduce  %s\n", w->opts->reproduce);
    }
}

static void sc_first_failure(sc_world *w, sc_run_result *res, const sc_expect_line *lines, size_t nlines) {
    res->first_failure[0] = 0;
    if (res->timed_out) {
        snprintf(res->first_failure, sizeof res->first_failure,
                 "time limit reached before every producer closed");
        return;
    }
    for (int i = 0; i < SC_INV_COUNT; i++) {
        const sc_inv_result *r = sc_checker_result(w->checker, (sc_invariant)i);
        if (r->enabled && r->violations) {
            snprintf(res->first_failure, sizeof res->first_failure, "invariant %s: %s",
                     sc_invariant_name((sc_invariant)i), r->nfirst ? r->first[0] : "violated");
            return;
        }
    }
    for (int a = 0; a < SC_ANOM_COUNT; a++)
        if (sc_checker_anomaly_expected(w->checker, (sc_anomaly)a) &&
            !sc_checker_anomaly_count(w->checker, (sc_anomaly)a)) {
            snprintf(res->first_failure, sizeof res->first_failure, "expected anomaly %s was not observed",
                     sc_anomaly_name((sc_anomaly)a));
            return;
        }
    for (size_t i = 0; i < nlines; i++)
        if (!lines[i].passed) {
            snprintf(res->first_failure, sizeof res->first_failure, "expectation %s", lines[i].text);
            return;
        }
}

static void sc_world_free(sc_world *w) {
    /* pinned names are about to be freed: the digest is final anyway */
    sc_digest_unpin_all(&w->digest);
    for (int i = 0; i < w->nprods; i++) {
        sc_prod *pr = &w->prods[i];
        kp_producer_destroy(pr->p);
        pr->p = NULL;
        sc_valgen_free(&pr->valgen);
        free(pr->zipf_cdf);
    }
    /* the cluster frees its connections without calling back */
    bm_cluster_destroy(w->cluster);
    sn_world_destroy(w->net);
    for (sc_bconn *b = w->bconns, *next; b; b = next) {
        next = b->next;
        free(b->out);
        free(b);
    }
    free(w->prods);
    free(w->faults);
    free(w->broker_nodes);
    sc_checker_free(w->checker);
}

int sc_run(const sc_scenario *sc, const sc_run_opts *opts, sc_run_result *res) {
    memset(res, 0, sizeof *res);
    sc_world *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    w->sc = sc;
    w->s = sc_scenario_proto(sc);
    w->opts = opts;
    w->seed = opts->seed_set ? opts->seed : w->s->seed;
    res->seed = w->seed;
    sc_digest_init(&w->digest);
    w->broker_obs = (sc_obs){ .w = w, .producer = -1 };
    snprintf(w->broker_obs.component[0], sizeof w->broker_obs.component[0], "cluster");
    w->net_obs = (sc_obs){ .w = w, .producer = -1 };
    snprintf(w->net_obs.component[0], sizeof w->net_obs.component[0], "network");
    w->harness_obs = (sc_obs){ .w = w, .producer = -1 };
    snprintf(w->harness_obs.component[0], sizeof w->harness_obs.component[0], "harness");
    sc_world *saved = sc__world;
    sc__world = w;

    sc_trace_open(w);
    /* every observer's table after the trace opened (SC_CNT_TRACE) */
    sc_obs_counting(&w->harness_obs); /* called directly, not through sc_observer */
    w->net = sn_world_new(w->seed, sc_observer(&w->net_obs));
    sn_set_default_link(w->net, sc_link_cfg(w->s->network));
    int nb = w->s->cluster ? w->s->cluster->brokers : 3;
    sc_listen_ctx *listen = calloc((size_t)(nb > 0 ? nb : 1), sizeof *listen);
    sn_timer chaos_start;
    bool ok = listen && sc_build_cluster(w, listen);
    w->nprods = (int)w->s->n_producer;
    w->prods = calloc((size_t)(w->nprods ? w->nprods : 1), sizeof *w->prods);
    for (int i = 0; ok && i < w->nprods; i++)
        ok = sc_build_producer(w, i);
    if (ok) {
        const Kpsim__Network *n = w->s->network;
        for (size_t i = 0; n && i < n->n_link; i++) {
            const Kpsim__Link *l = n->link[i];
            sn_node *a = sc_node(w, l->a), *b = sc_node(w, l->b);
            if (!a || !b)
                continue;
            sn_link_cfg cfg = sc_link_cfg(n);
            if (l->has_latency_ms)
                cfg.latency_us = (kp_time_us)l->latency_ms * 1000;
            if (l->has_jitter_ms)
                cfg.jitter_us = (kp_time_us)l->jitter_ms * 1000;
            if (l->has_bandwidth_bytes_per_s)
                cfg.bandwidth_bps = l->bandwidth_bytes_per_s * 8;
            if (l->one_way)
                sn_set_link_oneway(w->net, a, b, cfg);
            else
                sn_set_link(w->net, a, b, cfg);
        }
        ok = sc_build_faults(w);
    }
    if (!ok) {
        if (opts->out)
            fprintf(opts->out, "kpsim run: %s: %s\n", sc_scenario_file(sc), w->fail_msg);
        if (w->trace)
            rp_trace_writer_close(w->trace);
        w->nprods = w->prods ? w->nprods : 0;
        sc_world_free(w);
        free(listen);
        free(w);
        sc__world = saved;
        return 2;
    }
    sc_setup_checker(w);
    sc_chaos_setup(w, &chaos_start);

    /* ---- run -------------------------------------------------------- */
    int64_t limit_ms = opts->time_limit_ms > 0 ? opts->time_limit_ms : w->s->time_limit_ms;
    /* sc_all_closed is false while a producer is open: asked only once
     * all_closed is set, not as a call before every step */
    w->all_closed = w->nclosed >= w->nprods;
    bool done = sn_world_run_gated(w->net, &w->all_closed, sc_all_closed, w, limit_ms * 1000);
    res->timed_out = !done;
    res->sim_end_us = sn_now(w->net);

    /* ---- check ------------------------------------------------------- */
    sc_scan_logs(w);
    sc_checker_finish(w->checker);
    sc_counts counts = sc_checker_counts(w->checker);
    res->events = w->events;
    res->digest = sc_digest_value(&w->digest);
    res->sent = counts.sent;
    res->acked = counts.acked;
    res->failed = counts.failed;
    for (int c = 0; c < SC_NCOUNTERS; c++)
        res->counters[c] = w->totals[c];
    res->counters[KPSIM__COUNTER__RECORDS_ACKED] = counts.acked;
    res->counters[KPSIM__COUNTER__RECORDS_FAILED] = counts.failed;
    sc_expect_line *lines = NULL;
    size_t nlines = sc_eval_expectations(w, &lines);
    bool exp_ok = true;
    for (size_t i = 0; i < nlines; i++)
        exp_ok = exp_ok && lines[i].passed;
    res->passed = !res->timed_out && sc_checker_passed(w->checker) && exp_ok;
    sc_first_failure(w, res, lines, nlines);
    sc_print_report(w, res, lines, nlines);
    sc_trace_close(w, res, lines, nlines);
    free(lines);

    sc_world_free(w);
    free(listen);
    free(w);
    sc__world = saved;
    return 0;
}
