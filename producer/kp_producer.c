/*
 * kp_producer.c — KafkaProducer 2.1.1 facade (see kp_producer.h for the
 * synchronous/callback contract). Sections: construction · callbacks
 * (InterceptorCallback) · send (doSend, waitOnMetadata, blocked sends) ·
 * flush · close · run_once.
 */
#include "kp_producer.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_accumulator.h"
#include "kp_buffer_pool.h"
#include "kp_events.h"
#include "kp_metadata.h"
#include "kp_network_client.h"
#include "kp_partitioner.h"
#include "kp_record_batch.h"
#include "kp_serializer.h"
#include "kp_txn_manager.h"

/* InterceptorCallback. Normally one per producer: every batch completes
 * its records through p->wrap, which gets each record's own callback and
 * context (kp_p_record_wrapped; a batch whose records share a callback,
 * all of them in one call, kp_p_records_wrapped), so a record costs its
 * batch thunk only.
 * With bug.KAFKA-8325 a record's callback can fire twice and only the
 * first may count, so there each record gets this object (its `fired`
 * flag), recycled through a free list (slabs of 1024: no malloc per record
 * once warm). */
typedef struct kp_icb {
    kp_producer *p;
    kp_record_cb *cb;
    void *ctx;
    bool fired;
    struct kp_icb *next_free;
} kp_icb;

/* A topic the producer was asked to send to: the accumulator's handle,
 * which a send resolves once from the record's topic name (by address
 * when the caller passes the interned name, kp_producer_topic_name), and
 * what the rest of the send needs about the topic, found through it
 * without another lookup by name: the metadata's and the partitioner's
 * hints, and the topic in the current cluster. Indexed by
 * kp_acc_topic_index; lives as long as the producer. */
typedef struct kp_p_topic {
    kp_acc_topic *at;
    const char *name;               /* kp_acc_topic_name(at) */
    kp_hint md_hint;                /* kp_metadata_add_h */
    int32_t md_added;               /* the metadata version at the last add (-1: none) */
    kp_hint part_hint;              /* kp_partitioner_partition_in */
    /* the topic in the cluster of generation ct_gen (0: none yet), as the
     * partitioner sees it (view.ct may be NULL: not in that cluster;
     * view.count -1: count unknown), and whether it carries
     * INVALID_TOPIC_EXCEPTION there (for waitOnMetadata's first check) */
    uint64_t ct_gen;
    kp_part_view view;
    bool ct_invalid;
} kp_p_topic;

#define KP_ICB_SLAB 1024
#define KP_MAX_FLUSHES 16

typedef enum kp_blk_what { KP_BLK_NONE = 0, KP_BLK_METADATA = 1, KP_BLK_MEMORY = 2 } kp_blk_what;

/* The one send that waits (waitOnMetadata / BufferPool.allocate), with a
 * private copy of its record. */
typedef struct kp_blocked {
    kp_blk_what what;
    kp_producer_record rec;   /* points into storage */
    uint8_t *storage;
    kp_header *headers;
    kp_record_cb *cb;
    void *cb_ctx;
    int64_t begin_ms;         /* send() time: max.block.ms counts from here */
    int32_t awaited_version;
    size_t topic_ix;          /* the record's topic: p->topics[topic_ix] */
    /* after the metadata wait: what append needs again */
    int32_t partition;
    kp_slice key, value;      /* serialized, into storage2 */
    uint8_t *storage2;
    int64_t timestamp;
    kp_icb *icb;
    kp_pool_waiter waiter;
    bool waiter_done;
} kp_blocked;

struct kp_producer {
    kp_config cfg;
    kp_env env;
    kp_rng rng;
    kp_metadata *md;
    kp_netclient *nc;
    kp_metadata_updater *upd;
    kp_buffer_pool *pool;
    kp_accumulator *acc;
    kp_txn_manager *tm;
    bool transactional;       /* tm with a transactional.id (fixed at creation) */
    kp_txn_hooks hooks;       /* borrowed by the accumulator */
    kp_record_wrap wrap;      /* borrowed by the accumulator (not with bug.KAFKA-8325) */
    kp_metrics *metrics;
    kp_sender *sender;
    kp_partitioner *part;
    kp_interceptors *ic;
    /* fields read on every send or acknowledgement, in place (each valid
     * as long as its owner): the chain's length, the accumulator's
     * closed flag, the current cluster's generation */
    const int *ic_n;
    const bool *acc_closed;
    const uint64_t *md_gen;
    const int32_t *md_version;
    kp_serializer ks, vs;
    /* callbacks */
    kp_icb *icb_free;
    kp_icb **slabs;
    int nslabs;
    int64_t pending_records;
    /* blocked send */
    kp_blocked blk;
    kp_producer_done_fn *on_unblocked;
    void *on_unblocked_ctx;
    /* flush */
    struct {
        bool active;
        uint64_t token;
        kp_producer_done_fn *done;
        void *ctx;
    } flushes[KP_MAX_FLUSHES];
    int nflushes;             /* how many of them are active */
    /* close */
    bool closing, close_forced, closed_notified;
    bool in_run_once;         /* the "I/O thread": callbacks run in here */
    /* doSend woke the sender since the sender's last run_once began: a
     * further wakeup before that run changes nothing (Selector.wakeup is
     * idempotent until the next select), so its trace event is left out. */
    bool woke_sender;
    /* topics (kp_p_topic), and the one the last send resolved */
    kp_p_topic *topics;
    size_t ntopics, topics_cap;
    size_t last_topic;              /* index, SIZE_MAX: none */
    int64_t close_deadline;
    kp_producer_done_fn *closed_cb;
    void *closed_ctx;
    /* transactions: the one call of the application actor in progress
     * (Java's thread blocked in result.await) */
    struct {
        bool active;
        int kind;                 /* KP_P_TXN_INIT / COMMIT / ABORT */
        kp_producer_txn_cb *cb;
        void *ctx;
        kp_txn_result *res;       /* &init_res or &end_res */
        int64_t deadline;         /* initTransactions: max.block.ms */
    } txn;
    kp_txn_result init_res;       /* KafkaProducer.initTransactionsResult */
    bool init_res_live;           /* the manager still holds init_res */
    kp_txn_result end_res;        /* commit / abort */
    char txn_msg[256];            /* message of the last synchronous error */
};

enum { KP_P_TXN_INIT = 1, KP_P_TXN_COMMIT = 2, KP_P_TXN_ABORT = 3 };

static int64_t kp_p_now(const kp_producer *p) {
    return kp_clock_now_ms(&p->env.clock);
}

/* Inline (always_inline here and below): the send and completion paths
 * run once per record, and a call with this many arguments costs about
 * what the work does. */
static inline __attribute__((always_inline)) void kp_p_emit(kp_producer *p, int kind, const char *topic,
                                                            int32_t partition, kp_err err, int64_t value,
                                                            const char *detail) {
    kp_event ev;
    kp_event_init(&ev, kind, kp_clock_now_us(&p->env.clock));
    ev.topic = topic;
    ev.partition = partition;
    ev.err = err;
    ev.value = value;
    ev.detail = detail;
    kp_observer_emit(&p->env.observer, &ev);
}

/* Sender.wakeup from the application side; remembers that the sender's
 * next run is due (see woke_sender). Sender.wakeup is client.wakeup is
 * the selector's wakeup: kp_sender_wakeup -> kp_netclient_wakeup -> the
 * driver's env.wakeup, which the client was given from p->env; called
 * here directly (as kp_p_waiter_done does), without the two forwarding
 * calls, on every send that fills or starts a batch. */
static void kp_p_wake_sender(kp_producer *p) {
    p->woke_sender = true;
    if (p->env.wakeup)
        p->env.wakeup(p->env.wakeup_ctx);
}

static void kp_p_seterr(kp_err *err, char *errbuf, size_t n, kp_err e, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void kp_p_seterr(kp_err *err, char *errbuf, size_t n, kp_err e, const char *fmt, ...) {
    if (err)
        *err = e;
    if (errbuf && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, n, fmt, ap);
        va_end(ap);
    }
}

/* ------------------------------------------------------------------ */
/* TransactionManager hooks for the accumulator                        */
/* ------------------------------------------------------------------ */

static bool kp_h_send_allowed(void *ctx, const char *t, int32_t p) {
    return kp_txn_is_send_to_partition_allowed(ctx, t, p);
}
static bool kp_h_pid(void *ctx, int64_t *pid, int16_t *epoch) {
    kp_pid_epoch pe = kp_txn_producer_id_and_epoch(ctx);
    *pid = pe.producer_id;
    *epoch = pe.epoch;
    return pe.producer_id != KP_NO_PRODUCER_ID;
}
static bool kp_h_unresolved(void *ctx, const char *t, int32_t p, kp_hint *h) {
    return kp_txn_has_unresolved_sequence_h(ctx, t, p, h);
}
static int32_t kp_h_first_seq(void *ctx, const char *t, int32_t p, kp_hint *h) {
    return kp_txn_first_in_flight_sequence_h(ctx, t, p, h);
}
static int32_t kp_h_seq(void *ctx, const char *t, int32_t p, kp_hint *h) {
    return kp_txn_sequence_number_h(ctx, t, p, h);
}
static void kp_h_inc(void *ctx, const char *t, int32_t p, int32_t n, kp_hint *h) {
    kp_txn_increment_sequence_number_h(ctx, t, p, n, h);
}
static void kp_h_add(void *ctx, kp_batch *b) {
    kp_txn_add_in_flight_batch(ctx, b);
}
static bool kp_h_has_inflight(void *ctx, const char *t, int32_t p) {
    return kp_txn_has_in_flight_batches(ctx, t, p);
}
static bool kp_h_drain_take(void *ctx, kp_batch *b, const char *t, int32_t p, kp_hint *h) {
    return kp_txn_drain_take_h(ctx, b, t, p, h);
}

/* ------------------------------------------------------------------ */
/* construction                                                        */
/* ------------------------------------------------------------------ */

static void kp_p_record_wrapped(void *wrap_ctx, kp_record_cb *cb, void *cb_ctx, const kp_record_metadata *md,
                                kp_err err, const char *msg);
static void kp_p_records_wrapped(void *wrap_ctx, kp_record_cb *cb, void *const *ctxs, int32_t n, int64_t base_offset,
                                 kp_record_metadata *md, kp_err err, const char *msg);

kp_producer *kp_producer_new(const kp_config *cfg, const kp_env *env, kp_err *err, char *errbuf,
                             size_t errbuf_len) {
    kp_producer *p = calloc(1, sizeof *p);
    if (!p) {
        kp_p_seterr(err, errbuf, errbuf_len, KP_ERR__NOMEM, "out of memory");
        return NULL;
    }
    p->cfg = *cfg;
    kp_err e = kp_config_validate(&p->cfg, errbuf, errbuf_len);
    if (e != KP_ERR_NONE) {
        if (err)
            *err = e;
        free(p);
        return NULL;
    }
    if (!p->cfg.client_id[0])
        snprintf(p->cfg.client_id, sizeof p->cfg.client_id, "producer-1");
    p->env = *env;
    p->last_topic = SIZE_MAX;
    p->rng = kp_rng_substream(&env->rng, "producer");
    int64_t now = kp_p_now(p);

    p->md = kp_metadata_new(p->cfg.retry_backoff_ms, p->cfg.metadata_max_age_ms, true, &p->env.observer);
    p->pool = kp_buffer_pool_new(p->cfg.buffer_memory, (size_t)p->cfg.batch_size, &p->env.observer);
    p->metrics = kp_metrics_new();
    p->part = kp_partitioner_new(p->cfg.partitioner, &p->rng, &p->env.observer);
    p->ic = kp_interceptors_new(&p->cfg, &p->env.observer);
    kp_netclient_opts o = { p->cfg.client_id, p->cfg.max_in_flight, p->cfg.reconnect_backoff_ms,
                            p->cfg.reconnect_backoff_max_ms, p->cfg.request_timeout_ms, true,
                            p->cfg.connections_max_idle_ms };
    p->nc = kp_netclient_new(&o, &p->env);
    if (!p->md || !p->pool || !p->metrics || !p->part || !p->ic || !p->nc) {
        kp_p_seterr(err, errbuf, errbuf_len, KP_ERR__NOMEM, "out of memory");
        kp_producer_destroy(p);
        return NULL;
    }
    kp_buffer_pool_set_clock(p->pool, &p->env.clock);
    e = kp_metadata_bootstrap(p->md, p->cfg.bootstrap_servers, now);
    if (e != KP_ERR_NONE) {
        kp_p_seterr(err, errbuf, errbuf_len, e, "Invalid url in bootstrap.servers: %s", p->cfg.bootstrap_servers);
        kp_producer_destroy(p);
        return NULL;
    }
    p->upd = kp_metadata_updater_new(p->nc, p->md, p->cfg.request_timeout_ms, p->cfg.reconnect_backoff_ms, &p->env);
    p->acc = kp_accumulator_new(&p->cfg, p->pool, &p->env.observer);
    if (p->cfg.enable_idempotence)
        p->tm = kp_txn_manager_new(p->cfg.has_transactional_id ? p->cfg.transactional_id : NULL,
                                   p->cfg.transaction_timeout_ms, p->cfg.retry_backoff_ms, &p->env);
    if (!p->upd || !p->acc || (p->cfg.enable_idempotence && !p->tm)) {
        kp_p_seterr(err, errbuf, errbuf_len, KP_ERR__NOMEM, "out of memory");
        kp_producer_destroy(p);
        return NULL;
    }
    p->ic_n = kp_interceptors_count_ref(p->ic);
    p->acc_closed = kp_accumulator_closed_ref(p->acc);
    p->md_gen = kp_metadata_generation_ref(p->md);
    p->md_version = kp_metadata_version_ref(p->md);
    kp_accumulator_set_clock(p->acc, &p->env.clock);
    if (!p->cfg.bug_kafka_8325) {
        p->wrap = (kp_record_wrap){ kp_p_record_wrapped, p, kp_p_records_wrapped };
        kp_accumulator_set_record_wrap(p->acc, &p->wrap);
    }
    if (p->tm) {
        p->transactional = kp_txn_is_transactional(p->tm);
        kp_txn_hooks h = { p->tm, p->transactional, kp_h_send_allowed, kp_h_pid, kp_h_unresolved, kp_h_first_seq,
                           kp_h_seq, kp_h_inc, kp_h_add, kp_h_has_inflight,
                           kp_h_drain_take };
        p->hooks = h;
        kp_accumulator_set_txn_hooks(p->acc, &p->hooks);
    }
    kp_sender_deps d = { &p->cfg, p->acc, p->md, p->nc, p->tm, p->metrics, &p->env };
    p->sender = kp_sender_new(&d);
    if (!p->sender) {
        kp_p_seterr(err, errbuf, errbuf_len, KP_ERR__NOMEM, "out of memory");
        kp_producer_destroy(p);
        return NULL;
    }
    kp_serializer_init(&p->ks, p->cfg.key_serializer, "key.serializer");
    kp_serializer_init(&p->vs, p->cfg.value_serializer, "value.serializer");
    if (err)
        *err = KP_ERR_NONE;
    return p;
}

static void kp_p_blocked_free(kp_producer *p) {
    free(p->blk.storage);
    free(p->blk.storage2);
    free(p->blk.headers);
    memset(&p->blk, 0, sizeof p->blk);
}

void kp_producer_destroy(kp_producer *p) {
    if (!p)
        return;
    /* batches of live requests are freed below, before the connections
     * close: the transport takes back what they lent it first */
    if (p->nc)
        kp_netclient_reclaim(p->nc);
    if (p->blk.what == KP_BLK_MEMORY && p->blk.waiter.state == KP_WAITER_QUEUED)
        kp_buffer_pool_cancel(p->pool, &p->blk.waiter, KP_ERR__CLOSED);
    if (p->blk.waiter.state == KP_WAITER_SERVED) {
        uint8_t *b = kp_pool_waiter_take_buffer(&p->blk.waiter);
        if (b)
            kp_buffer_pool_deallocate(p->pool, b, p->blk.waiter.size);
    }
    kp_p_blocked_free(p);
    if (p->tm) {
        kp_txn_forget_result(p->tm, &p->init_res);
        kp_txn_forget_result(p->tm, &p->end_res);
    }
    kp_sender_destroy(p->sender);
    kp_accumulator_destroy(p->acc);
    kp_txn_manager_destroy(p->tm);
    kp_metadata_updater_destroy(p->upd);
    kp_netclient_destroy(p->nc);
    kp_buffer_pool_destroy(p->pool);
    kp_metadata_destroy(p->md);
    kp_partitioner_destroy(p->part);
    kp_interceptors_destroy(p->ic);
    kp_metrics_destroy(p->metrics);
    free(p->topics);
    for (int i = 0; i < p->nslabs; i++)
        free(p->slabs[i]);
    free(p->slabs);
    free(p);
}

/* ------------------------------------------------------------------ */
/* InterceptorCallback                                                 */
/* ------------------------------------------------------------------ */

static kp_icb *kp_p_icb_get(kp_producer *p) {
    if (!p->icb_free) {
        kp_icb *slab = calloc(KP_ICB_SLAB, sizeof *slab);
        kp_icb **s = realloc(p->slabs, (size_t)(p->nslabs + 1) * sizeof *s);
        if (!slab || !s) {
            free(slab);
            if (s)
                p->slabs = s;
            return NULL;
        }
        p->slabs = s;
        p->slabs[p->nslabs++] = slab;
        for (int i = KP_ICB_SLAB - 1; i >= 0; i--) {
            slab[i].next_free = p->icb_free;
            p->icb_free = &slab[i];
        }
    }
    kp_icb *c = p->icb_free;
    p->icb_free = c->next_free;
    c->p = p;
    c->fired = false;
    return c;
}

static void kp_p_icb_put(kp_producer *p, kp_icb *c) {
    c->cb = NULL;
    c->ctx = NULL;
    c->next_free = p->icb_free;
    p->icb_free = c;
}

/* The callback event of a record of md's batch, all but its offset and
 * time (kp_p_record_ack sets those). */
static inline __attribute__((always_inline)) void kp_p_ack_event_init(kp_event *ev, const kp_record_metadata *md,
                                                                      kp_err err, const char *msg) {
    kp_event_init(ev, KP_EV_CALLBACK, 0);
    ev->topic = md->topic;
    ev->partition = md->partition;
    ev->err = err;
    ev->batch_id = md->batch_id;
    ev->detail = msg;
}

/* InterceptorCallback.onCompletion: interceptors.onAcknowledgement, the
 * callback event (ev from kp_p_ack_event_init for md's batch); the caller
 * then calls the user's callback. */
static inline __attribute__((always_inline)) void kp_p_record_ack(kp_producer *p, const kp_record_metadata *md,
                                                                  kp_err err, kp_event *ev) {
    /* one clock read for both: the acknowledgement's ms and the event's us */
    kp_time_us now_us = kp_clock_now_us(&p->env.clock);
    if (*p->ic_n > 0)
        kp_interceptors_on_ack(p->ic, md, err, now_us / 1000);
    ev->offset = md->offset;
    ev->time_us = now_us;
    kp_observer_emit(&p->env.observer, ev);
}

/* The producer's kp_record_wrap: every record completes exactly once. */
static void kp_p_record_wrapped(void *wrap_ctx, kp_record_cb *cb, void *cb_ctx, const kp_record_metadata *md,
                                kp_err err, const char *msg) {
    kp_producer *p = wrap_ctx;
    kp_event ev;
    kp_p_ack_event_init(&ev, md, err, msg);
    kp_p_record_ack(p, md, err, &ev);
    p->pending_records--;
    if (cb)
        cb(cb_ctx, md, err, msg);
}

/* The same for a run of records with one callback (kp_record_wrap_run_fn):
 * the loop here, so a record costs no call of its own before the
 * application's. The run's callback events differ only in their offset
 * and time: the event is filled once and those two set per record (what
 * kp_p_record_ack emits for each; the observer, the interceptors and the
 * callback get it and md as const and md's other fields stay as given). */
static void kp_p_records_wrapped(void *wrap_ctx, kp_record_cb *cb, void *const *ctxs, int32_t n, int64_t base_offset,
                                 kp_record_metadata *md, kp_err err, const char *msg) {
    kp_producer *p = wrap_ctx;
    kp_event ev;
    kp_p_ack_event_init(&ev, md, err, msg);
    for (int32_t i = 0; i < n; i++) {
        /* Java's long addition wraps: no signed overflow near INT64_MAX */
        md->offset = base_offset < 0 ? -1 : (int64_t)((uint64_t)base_offset + (uint64_t)i);
        md->relative_offset = i;
        kp_p_record_ack(p, md, err, &ev);
        p->pending_records--;
        if (cb)
            cb(ctxs[i], md, err, msg);
    }
}

/* The per-record InterceptorCallback of bug.KAFKA-8325 mode. */
static void kp_p_record_done(void *ctx, const kp_record_metadata *md, kp_err err, const char *msg) {
    kp_icb *c = ctx;
    kp_producer *p = c->p;
    kp_event ev;
    kp_p_ack_event_init(&ev, md, err, msg);
    kp_p_record_ack(p, md, err, &ev);
    kp_record_cb *cb = c->cb;
    void *uctx = c->ctx;
    if (!c->fired)
        p->pending_records--;
    c->fired = true;
    /* With bug.KAFKA-8325 a record's callback can fire twice (the split
     * batch expires again), as in 2.1: the entry is therefore never
     * recycled, so the second call still reaches the right callback. */
    if (cb)
        cb(uctx, md, err, msg);
}

/* ------------------------------------------------------------------ */
/* doSend                                                              */
/* ------------------------------------------------------------------ */

/* ensureValidRecordSize */
static kp_err kp_p_ensure_valid_record_size(const kp_producer *p, int32_t size, char *errbuf, size_t n) {
    if (size > p->cfg.max_request_size) {
        snprintf(errbuf, n,
                 "The message is %d bytes when serialized which is larger than the maximum request size "
                 "you have configured with the max.request.size configuration.", (int)size);
        return KP_ERR__RECORD_TOO_LARGE;
    }
    if ((int64_t)size > p->cfg.buffer_memory) {
        snprintf(errbuf, n,
                 "The message is %d bytes when serialized which is larger than the total memory buffer "
                 "you have configured with the buffer.memory configuration.", (int)size);
        return KP_ERR__RECORD_TOO_LARGE;
    }
    return KP_ERR_NONE;
}

/* The record's topic, resolved once per send: the entry of the last send
 * when the name is that entry's interned one (the harness passes it), else
 * through the accumulator (by address, then by content; a new topic gets
 * its entry). NULL when out of memory. The pointer is valid until the
 * next call. */
static kp_p_topic *kp_p_topic_of(kp_producer *p, const char *name) {
    if (p->last_topic < p->ntopics && p->topics[p->last_topic].name == name)
        return &p->topics[p->last_topic];
    kp_acc_topic *at = kp_accumulator_topic(p->acc, name);
    if (!at)
        return NULL;
    size_t ix = kp_acc_topic_index(at);
    if (ix >= p->ntopics) {
        if (ix >= p->topics_cap) {
            size_t nc = p->topics_cap ? p->topics_cap * 2 : 4;
            while (nc <= ix)
                nc *= 2;
            kp_p_topic *nt = realloc(p->topics, nc * sizeof *nt);
            if (!nt)
                return NULL;
            p->topics = nt;
            p->topics_cap = nc;
        }
        /* the accumulator numbers its topics 0, 1, ...: entries of topics
         * made there by other callers are filled in too */
        for (size_t i = p->ntopics; i <= ix; i++)
            p->topics[i] = (kp_p_topic){ .at = NULL, .md_added = -1 };
        p->ntopics = ix + 1;
    }
    kp_p_topic *t = &p->topics[ix];
    if (!t->at) {
        t->at = at;
        t->name = kp_acc_topic_name(at);
    }
    p->last_topic = ix;
    return t;
}

/* The topic in the current cluster (NULL: not there), looked up once per
 * cluster: a cluster never changes once it is current (a new one has a
 * new, process-unique generation). */
static __attribute__((noinline)) void kp_p_topic_ct_refresh(kp_p_topic *t, const kp_cluster *cl, uint64_t gen) {
    const kp_cluster_topic *ct = kp_cluster_topic_find(cl, t->name);
    t->ct_gen = gen;
    kp_part_view_of(&t->view, cl, ct);
    t->ct_invalid = kp_cluster_topic_has_error(ct, KP_ERR_INVALID_TOPIC_EXCEPTION);
}

/* Inline: every send asks it; only a new cluster takes the refresh. */
static inline const kp_cluster_topic *kp_p_topic_ct(kp_producer *p, kp_p_topic *t) {
    uint64_t gen = *p->md_gen; /* kp_cluster_generation(kp_metadata_fetch(p->md)) */
    if (t->ct_gen != gen)
        kp_p_topic_ct_refresh(t, kp_metadata_fetch(p->md), gen);
    return t->view.ct;
}

typedef enum kp_md_state { KP_MD_READY, KP_MD_WAIT, KP_MD_FAIL } kp_md_state;

/* One pass of waitOnMetadata's loop body: ready (partition count known and
 * partition in range), keep waiting, or fail with the Java error. *ct is
 * the record's topic t in the current cluster (for the rest of the send). */
static kp_md_state kp_p_check_metadata(kp_producer *p, const kp_producer_record *rec, kp_p_topic *t,
                                       int64_t begin, int64_t now, bool first, const kp_cluster_topic **ct_out,
                                       kp_err *err, char *errbuf, size_t n) {
    const kp_cluster_topic *ct = kp_p_topic_ct(p, t);
    *ct_out = ct;
    if (first && kp_cluster_topic_has_error(ct, KP_ERR_INVALID_TOPIC_EXCEPTION)) {
        snprintf(errbuf, n, "Invalid topics: [%s]", rec->topic);
        *err = KP_ERR_INVALID_TOPIC_EXCEPTION;
        return KP_MD_FAIL;
    }
    if (!first) {
        if (now - begin >= p->cfg.max_block_ms) {
            snprintf(errbuf, n, "Failed to update metadata after %" PRId64 " ms.", p->cfg.max_block_ms);
            *err = KP_ERR__TIMED_OUT;
            return KP_MD_FAIL;
        }
        if (kp_cluster_topic_has_error(ct, KP_ERR_TOPIC_AUTHORIZATION_FAILED)) {
            snprintf(errbuf, n, "Not authorized to access topics: [%s]", rec->topic);
            *err = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
            return KP_MD_FAIL;
        }
        if (kp_cluster_topic_has_error(ct, KP_ERR_INVALID_TOPIC_EXCEPTION)) {
            snprintf(errbuf, n, "Invalid topics: [%s]", rec->topic);
            *err = KP_ERR_INVALID_TOPIC_EXCEPTION;
            return KP_MD_FAIL;
        }
    }
    int32_t count = kp_cluster_topic_partition_count(ct);
    if (count < 0)
        return KP_MD_WAIT;
    if (rec->partition >= 0 && rec->partition >= count) {
        if (first)
            return KP_MD_WAIT; /* Java: a cached count too small -> update */
        snprintf(errbuf, n, "Invalid partition given with record: %d is not in the range [0...%d).",
                 (int)rec->partition, (int)count);
        *err = KP_ERR__INVALID_ARG;
        return KP_MD_FAIL;
    }
    return KP_MD_READY;
}

/* The part of doSend after waitOnMetadata: serialize, partition,
 * ensureValidRecordSize, append, wakeup. Returns OK, ERROR or BLOCKED
 * (memory). For a blocked send (blk true) the serialized bytes are kept in
 * the blocked state. t: the record's topic, its view of the current
 * cluster refreshed just before (kp_p_topic_ct). */
static inline __attribute__((always_inline)) kp_send_status
kp_p_do_send_rest(kp_producer *p, const kp_producer_record *rec, kp_p_topic *t, kp_record_cb *cb, void *cb_ctx,
                  int64_t begin, bool blk, kp_err *err, char *errbuf, size_t n) {
    int64_t now = kp_p_now(p);
    uint8_t kscratch[16], vscratch[16];
    kp_slice key, value;
    kp_err e = KP_ERR_NONE;
    if (!kp_serialize_as_is(&p->ks, &rec->key, &key))
        e = kp_serialize(&p->ks, rec->topic, &rec->key, kscratch, sizeof kscratch, &key, errbuf, n);
    if (e == KP_ERR_NONE && !kp_serialize_as_is(&p->vs, &rec->value, &value))
        e = kp_serialize(&p->vs, rec->topic, &rec->value, vscratch, sizeof vscratch, &value, errbuf, n);
    if (e != KP_ERR_NONE) {
        *err = e;
        return KP_SEND_ERROR;
    }
    /* a keyless record for the default partitioner through its own entry
     * (the same answer and event, fewer arguments and tests) */
    int32_t partition;
    if (rec->partition < 0 && key.len < 0 && p->cfg.partitioner == KP_PARTITIONER_DEFAULT && t->view.count > 0) {
        partition = kp_partitioner_round_robin_v(p->part, &t->view, rec->topic, &t->part_hint, now);
        if (partition < 0)
            e = KP_ERR__NOMEM;
    } else {
        partition =
            kp_partitioner_partition_v(p->part, &t->view, rec->topic, &t->part_hint, rec->partition, key, now, &e);
    }
    if (partition < 0) {
        *err = e;
        snprintf(errbuf, n, "no partition for topic %s (%s)", rec->topic, kp_err_name(e));
        return KP_SEND_ERROR;
    }
    /* the record's key/value/header size, once: the size check, the
     * sticky partitioner's room check and the append all start from it */
    size_t kvh = kp_record_kvh_size(key, value, rec->headers, rec->header_count);
    int32_t size = kp_record_size_upper_bound_kvh(kvh);
    e = kp_p_ensure_valid_record_size(p, size, errbuf, n);
    if (e != KP_ERR_NONE) {
        *err = e;
        return KP_SEND_ERROR;
    }
    /* CreateTime is wall time (System.currentTimeMillis); `now` is the
     * monotonic ms every timeout uses */
    int64_t timestamp = rec->timestamp >= 0 ? rec->timestamp : kp_clock_wall_ms(&p->env.clock);
    if (p->cfg.partitioner == KP_PARTITIONER_STICKY && !blk &&
        kp_accumulator_would_start_new_batch_t(p->acc, t->at, partition, timestamp, kvh)) {
        /* KIP-480 (2.4 doSend): append(abortOnNewBatch=true) says the record
         * would start a batch: onNewBatch moves the sticky partition, the
         * record is partitioned again and appended there, so a linger
         * window fills one batch. (Not again when a blocked send resumes:
         * Java blocks in the second append, after the switch.) */
        kp_partitioner_on_new_batch(p->part, kp_metadata_fetch(p->md), rec->topic, partition, now);
        partition =
            kp_partitioner_partition_v(p->part, &t->view, rec->topic, &t->part_hint, rec->partition, key, now, &e);
        if (partition < 0) {
            *err = e;
            snprintf(errbuf, n, "no partition for topic %s (%s)", rec->topic, kp_err_name(e));
            return KP_SEND_ERROR;
        }
    }
    if (p->transactional) {
        /* maybeAddPartitionToTransaction (failIfNotReadyForSend first):
         * a KafkaException / IllegalStateException, thrown by send */
        e = kp_txn_maybe_add_partition_to_transaction(p->tm, rec->topic, partition, errbuf, n);
        if (e != KP_ERR_NONE) {
            *err = e;
            return KP_SEND_ERROR;
        }
    }
    int64_t remaining = p->cfg.max_block_ms - (now - begin);
    if (remaining < 0)
        remaining = 0;
    /* the record's completion: through p->wrap with the user's callback
     * itself, or (bug.KAFKA-8325) through its own InterceptorCallback */
    kp_icb *c = NULL;
    kp_record_cb *rcb = cb;
    void *rctx = cb_ctx;
    if (!p->wrap.fn) {
        c = kp_p_icb_get(p);
        if (!c) {
            *err = KP_ERR__NOMEM;
            snprintf(errbuf, n, "out of memory");
            return KP_SEND_ERROR;
        }
        c->cb = cb;
        c->ctx = cb_ctx;
        rcb = kp_p_record_done;
        rctx = c;
    }
    /* the waiter of a send that is not blocked is idle: zero from the
     * blocked send that last used it (kp_p_blocked_free) or from creation,
     * written by the pool only when it queues it (and the send then
     * blocks); a cancelled one (out of memory just after queuing) is
     * FAILED and is made idle again here */
    kp_pool_waiter *w = &p->blk.waiter;
    if (!blk && w->state != KP_WAITER_IDLE)
        kp_pool_waiter_init(w, NULL, NULL);
    kp_append_result res;
    kp_append_status st = kp_accumulator_append_t(p->acc, t->at, partition, timestamp, key, value, rec->headers,
                                                  rec->header_count, kvh, rcb, rctx, now, remaining, w, &res, err,
                                                  errbuf, n);
    if (st == KP_APPEND_ERROR) {
        if (c)
            kp_p_icb_put(p, c);
        return KP_SEND_ERROR;
    }
    if (st == KP_APPEND_WOULD_BLOCK) {
        /* keep everything for the retry of append when memory frees */
        if (c)
            kp_p_icb_put(p, c);
        return KP_SEND_BLOCKED;
    }
    p->pending_records++;
    if (res.wake_sender) { /* batchIsFull || newBatchCreated */
        /* the wakeup itself every time, as Java; its event only when it
         * changes something: the first since the sender last ran */
        if (!p->woke_sender)
            kp_p_emit(p, KP_EV_WAKEUP, rec->topic, partition, KP_ERR_NONE, -1,
                      "KafkaProducer.doSend: batch full or new batch");
        kp_p_wake_sender(p);
    }
    return KP_SEND_OK;
}

/* Copies a record into private storage for a blocked send. */
static bool kp_p_copy_record(kp_producer *p, const kp_producer_record *rec) {
    size_t need = strlen(rec->topic) + 1;
    if (rec->key.kind == KP_DATUM_BYTES || rec->key.kind == KP_DATUM_STRING)
        need += (size_t)(rec->key.len > 0 ? rec->key.len : 0) + 1;
    if (rec->value.kind == KP_DATUM_BYTES || rec->value.kind == KP_DATUM_STRING)
        need += (size_t)(rec->value.len > 0 ? rec->value.len : 0) + 1;
    for (int i = 0; i < rec->header_count; i++)
        need += (size_t)(rec->headers[i].key.len > 0 ? rec->headers[i].key.len : 0) +
                (size_t)(rec->headers[i].value.len > 0 ? rec->headers[i].value.len : 0);
    uint8_t *s = malloc(need);
    kp_header *h = rec->header_count ? calloc((size_t)rec->header_count, sizeof *h) : NULL;
    if (!s || (rec->header_count && !h)) {
        free(s);
        free(h);
        return false;
    }
    p->blk.storage = s;
    p->blk.headers = h;
    p->blk.rec = *rec;
    size_t tl = strlen(rec->topic) + 1;
    memcpy(s, rec->topic, tl);
    p->blk.rec.topic = (const char *)s;
    s += tl;
    kp_datum *ds[2] = { &p->blk.rec.key, &p->blk.rec.value };
    for (int i = 0; i < 2; i++) {
        kp_datum *d = ds[i];
        if ((d->kind == KP_DATUM_BYTES || d->kind == KP_DATUM_STRING) && d->ptr) {
            size_t l = (size_t)(d->len > 0 ? d->len : 0);
            memcpy(s, d->ptr, l);
            s[l] = 0;
            d->ptr = s;
            s += l + 1;
        }
    }
    for (int i = 0; i < rec->header_count; i++) {
        h[i] = rec->headers[i];
        if (h[i].key.len > 0) {
            memcpy(s, h[i].key.ptr, (size_t)h[i].key.len);
            h[i].key.ptr = s;
            s += h[i].key.len;
        }
        if (h[i].value.len > 0) {
            memcpy(s, h[i].value.ptr, (size_t)h[i].value.len);
            h[i].value.ptr = s;
            s += h[i].value.len;
        }
    }
    p->blk.rec.headers = h;
    return true;
}

static void kp_p_waiter_done(void *ctx, kp_pool_waiter *w) {
    (void)w;
    kp_producer *p = ctx;
    p->blk.waiter_done = true;
    if (p->env.wakeup)
        p->env.wakeup(p->env.wakeup_ctx);
}

static void kp_p_unblock(kp_producer *p, int64_t now) {
    kp_p_emit(p, KP_EV_SEND_UNBLOCKED, p->blk.rec.topic, p->blk.partition, KP_ERR_NONE, now - p->blk.begin_ms,
              NULL);
    kp_p_blocked_free(p);
    if (p->on_unblocked)
        p->on_unblocked(p->on_unblocked_ctx);
}

/* doSend's catch (ApiException e): errors.record() — the same "errors"
 * sensor the Sender records into (record-error-rate/total). */
static void kp_p_record_api_error(kp_producer *p, const char *topic, kp_err err, int64_t now) {
    switch (err) {
    case KP_ERR__RECORD_TOO_LARGE:
    case KP_ERR__TIMED_OUT:
    case KP_ERR__BUFFER_EXHAUSTED:
    case KP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case KP_ERR_INVALID_TOPIC_EXCEPTION:
        kp_metrics_record_errors(p->metrics, topic, 1, now);
        break;
    default: /* KafkaException, SerializationException...: thrown, not counted */
        break;
    }
}

/* A blocked send failed: the Java error through its callback (as doSend
 * does for ApiExceptions), interceptors' onSendError first. */
static void kp_p_fail_blocked(kp_producer *p, kp_err err, const char *msg, int64_t now) {
    kp_p_emit(p, KP_EV_SEND_FAILED, p->blk.rec.topic, p->blk.rec.partition, err, now - p->blk.begin_ms, msg);
    kp_p_record_api_error(p, p->blk.rec.topic, err, now);
    kp_interceptors_on_send_error(p->ic, &p->blk.rec, p->blk.rec.partition, err, now);
    /* the record's copy is freed by kp_p_unblock: the callback gets its
     * own copy of the topic (rare path) */
    char *topic = strdup(p->blk.rec.topic);
    kp_record_metadata md;
    memset(&md, 0, sizeof md);
    md.topic = topic ? topic : "";
    md.partition = p->blk.rec.partition;
    md.offset = -1;
    md.timestamp = -1;
    md.serialized_key_size = -1;
    md.serialized_value_size = -1;
    md.relative_offset = -1;
    md.batch_id = -1;
    kp_record_cb *cb = p->blk.cb;
    void *ctx = p->blk.cb_ctx;
    char copy[512];
    snprintf(copy, sizeof copy, "%s", msg);
    kp_p_unblock(p, now);
    if (cb)
        cb(ctx, &md, err, copy);
    free(topic);
}

/* Inline into its callers with the LTO build (the harness's app actor
 * sends every record through it): with its constant arguments folded
 * and its frame gone, ~40 instructions a record fewer. An external
 * definition too, for the builds without LTO. */
__attribute__((always_inline)) inline kp_send_status kp_producer_send(kp_producer *p, const kp_producer_record *in,
                                                                     kp_record_cb *cb, void *cb_ctx, kp_err *err,
                                                                     char *errbuf, size_t n) {
    kp_err e0 = KP_ERR_NONE;
    char ebuf0[8];
    if (!err)
        err = &e0;
    if (!errbuf) {
        errbuf = ebuf0;
        n = sizeof ebuf0;
    }
    int64_t now = kp_p_now(p);
    if (!in || !in->topic || !in->topic[0]) {
        kp_p_seterr(err, errbuf, n, KP_ERR__INVALID_ARG, "a record needs a topic");
        return KP_SEND_ERROR;
    }
    if (p->blk.what != KP_BLK_NONE) {
        kp_p_seterr(err, errbuf, n, KP_ERR__STATE, "a send of this application actor is blocked");
        return KP_SEND_ERROR;
    }
    /* KafkaProducer.send: interceptors first (none: the record itself,
     * without copying it twice through an empty chain) */
    kp_producer_record rec_buf;
    const kp_producer_record *rec = in;
    if (*p->ic_n > 0) {
        kp_interceptors_on_send(p->ic, in, &rec_buf, now);
        rec = &rec_buf;
    }
    kp_p_emit(p, KP_EV_SEND, rec->topic, rec->partition, KP_ERR_NONE, -1, "KafkaProducer.send");
    /* doSend: throwIfProducerClosed */
    if (p->closing || *p->acc_closed) {
        kp_p_seterr(err, errbuf, n, KP_ERR__CLOSED, "Cannot perform operation after producer has been closed");
        kp_p_emit(p, KP_EV_SEND_FAILED, rec->topic, rec->partition, *err, -1, errbuf);
        return KP_SEND_ERROR;
    }
    /* the record's topic, once for the whole send (the metadata, the
     * partitioner and the accumulator are reached through it) */
    kp_p_topic *t = kp_p_topic_of(p, rec->topic);
    if (!t) {
        kp_p_seterr(err, errbuf, n, KP_ERR__NOMEM, "out of memory");
        return KP_SEND_ERROR;
    }
    /* waitOnMetadata */
    /* (metadata.add: once per metadata version, kp_metadata_version_ref:
     * until an update moves the version the topic keeps the mark an add
     * would store) */
    if (t->md_added != *p->md_version && kp_metadata_add_h(p->md, rec->topic, now, &t->md_hint))
        t->md_added = *p->md_version;
    const kp_cluster_topic *ct = kp_p_topic_ct(p, t);
    /* the common answer of waitOnMetadata's first check without the
     * general one: a valid topic with a known count and the partition,
     * if given, in range (kp_p_check_metadata says READY then too) */
    kp_md_state ms = !t->ct_invalid && t->view.count >= 0 && rec->partition < t->view.count
                         ? KP_MD_READY
                         : kp_p_check_metadata(p, rec, t, now, now, true, &ct, err, errbuf, n);
    if (ms == KP_MD_FAIL) {
        kp_p_record_api_error(p, rec->topic, *err, now);
        kp_interceptors_on_send_error(p->ic, rec, rec->partition, *err, now);
        kp_p_emit(p, KP_EV_SEND_FAILED, rec->topic, rec->partition, *err, -1, errbuf);
        return KP_SEND_ERROR;
    }
    if (ms == KP_MD_WAIT) {
        if (!kp_p_copy_record(p, rec)) {
            kp_p_seterr(err, errbuf, n, KP_ERR__NOMEM, "out of memory");
            return KP_SEND_ERROR;
        }
        p->blk.what = KP_BLK_METADATA;
        p->blk.topic_ix = (size_t)(t - p->topics);
        p->blk.cb = cb;
        p->blk.cb_ctx = cb_ctx;
        p->blk.begin_ms = now;
        p->blk.partition = rec->partition;
        p->blk.awaited_version = kp_metadata_request_update(p->md, now);
        kp_p_emit(p, KP_EV_METADATA_WAIT, rec->topic, rec->partition, KP_ERR_NONE, p->blk.awaited_version,
                  "KafkaProducer.waitOnMetadata");
        kp_p_emit(p, KP_EV_SEND_BLOCKED, rec->topic, rec->partition, KP_ERR_NONE, p->cfg.max_block_ms,
                  "waitOnMetadata");
        kp_p_emit(p, KP_EV_WAKEUP, rec->topic, -1, KP_ERR_NONE, -1, "KafkaProducer.waitOnMetadata");
        kp_p_wake_sender(p);
        return KP_SEND_BLOCKED;
    }
    kp_send_status st = kp_p_do_send_rest(p, rec, t, cb, cb_ctx, now, false, err, errbuf, n);
    if (st == KP_SEND_ERROR) {
        kp_p_record_api_error(p, rec->topic, *err, now);
        kp_interceptors_on_send_error(p->ic, rec, rec->partition, *err, now);
        kp_p_emit(p, KP_EV_SEND_FAILED, rec->topic, rec->partition, *err, -1, errbuf);
    } else if (st == KP_SEND_BLOCKED) {
        if (!kp_p_copy_record(p, rec)) {
            kp_buffer_pool_cancel(p->pool, &p->blk.waiter, KP_ERR__NOMEM);
            kp_p_seterr(err, errbuf, n, KP_ERR__NOMEM, "out of memory");
            return KP_SEND_ERROR;
        }
        p->blk.what = KP_BLK_MEMORY;
        p->blk.topic_ix = (size_t)(t - p->topics);
        p->blk.cb = cb;
        p->blk.cb_ctx = cb_ctx;
        p->blk.begin_ms = now;
        p->blk.partition = rec->partition;
        p->blk.waiter.on_done = kp_p_waiter_done;
        p->blk.waiter.ctx = p;
        kp_p_emit(p, KP_EV_SEND_BLOCKED, rec->topic, rec->partition, KP_ERR_NONE, p->cfg.max_block_ms,
                  "BufferPool.allocate");
        /* BufferPool.allocate times out on the application thread whatever
         * the sender does: the sleep run_once already returned knew nothing
         * of this deadline, so ask the driver to run it again (it folds
         * kp_buffer_pool_next_deadline into the next sleep). */
        kp_p_wake_sender(p);
    }
    return st;
}

/* Advances the blocked send (called from run_once); true when it did
 * something the sender should act on at once. */
static bool kp_p_resume_blocked(kp_producer *p, int64_t now) {
    char msg[512];
    kp_err err = KP_ERR_NONE;
    const kp_cluster_topic *ct = NULL;
    kp_p_topic *t = NULL;
    if (p->blk.what == KP_BLK_METADATA) {
        if (kp_metadata_version(p->md) <= p->blk.awaited_version && now - p->blk.begin_ms < p->cfg.max_block_ms)
            return false; /* awaitUpdate still waiting */
        t = &p->topics[p->blk.topic_ix];
        kp_md_state ms = kp_p_check_metadata(p, &p->blk.rec, t, p->blk.begin_ms, now, false, &ct, &err, msg,
                                             sizeof msg);
        if (ms == KP_MD_FAIL) {
            kp_p_fail_blocked(p, err, msg, now);
            return true;
        }
        if (ms == KP_MD_WAIT) {
            /* do { requestUpdate; wakeup; awaitUpdate } while (count == null) */
            p->blk.awaited_version = kp_metadata_request_update(p->md, now);
            kp_p_wake_sender(p);
            return true;
        }
        p->blk.what = KP_BLK_NONE;
        kp_pool_waiter_init(&p->blk.waiter, NULL, NULL);
    } else if (p->blk.what == KP_BLK_MEMORY) {
        if (p->blk.waiter.state == KP_WAITER_QUEUED)
            return false;
        if (p->blk.waiter.state == KP_WAITER_FAILED) {
            kp_pool_waiter_message(&p->blk.waiter, msg, sizeof msg);
            kp_p_fail_blocked(p, p->blk.waiter.err, msg, now);
            return true;
        }
    } else {
        return false;
    }
    /* the rest of doSend with the copied record (memory: re-append with
     * the served waiter) */
    kp_blk_what was = p->blk.what;
    if (was == KP_BLK_MEMORY) {
        t = &p->topics[p->blk.topic_ix];
        kp_p_topic_ct(p, t); /* its view of the cluster now current */
    }
    p->blk.what = KP_BLK_NONE;
    kp_send_status st = kp_p_do_send_rest(p, &p->blk.rec, t, p->blk.cb, p->blk.cb_ctx, p->blk.begin_ms,
                                          was == KP_BLK_MEMORY, &err, msg, sizeof msg);
    p->blk.what = was;
    if (st == KP_SEND_OK) {
        kp_p_unblock(p, now);
    } else if (st == KP_SEND_ERROR) {
        kp_p_fail_blocked(p, err, msg, now);
    } else {
        if (was != KP_BLK_MEMORY) {
            p->blk.what = KP_BLK_MEMORY;
            p->blk.waiter.on_done = kp_p_waiter_done;
            p->blk.waiter.ctx = p;
            kp_p_emit(p, KP_EV_SEND_BLOCKED, p->blk.rec.topic, p->blk.rec.partition, KP_ERR_NONE,
                      p->cfg.max_block_ms - (now - p->blk.begin_ms), "BufferPool.allocate");
        }
    }
    return true;
}

bool kp_producer_send_blocked(const kp_producer *p) {
    return p->blk.what != KP_BLK_NONE;
}

void kp_producer_set_on_unblocked(kp_producer *p, kp_producer_done_fn *fn, void *ctx) {
    p->on_unblocked = fn;
    p->on_unblocked_ctx = ctx;
}

/* ------------------------------------------------------------------ */
/* flush                                                               */
/* ------------------------------------------------------------------ */

void kp_producer_flush(kp_producer *p, kp_producer_done_fn *done, void *ctx) {
    int64_t now = kp_p_now(p);
    for (int i = 0; i < KP_MAX_FLUSHES; i++) {
        if (p->flushes[i].active)
            continue;
        p->flushes[i].active = true;
        p->nflushes++;
        p->flushes[i].token = kp_accumulator_begin_flush(p->acc, now);
        p->flushes[i].done = done;
        p->flushes[i].ctx = ctx;
        kp_p_emit(p, KP_EV_FLUSH_REQUESTED, NULL, -1, KP_ERR_NONE,
                  (int64_t)kp_accumulator_incomplete_count(p->acc), "KafkaProducer.flush");
        kp_p_emit(p, KP_EV_WAKEUP, NULL, -1, KP_ERR_NONE, -1, "KafkaProducer.flush");
        kp_p_wake_sender(p);
        return;
    }
    /* more than KP_MAX_FLUSHES outstanding: join the newest one's wait by
     * polling again later (the caller sees flush_pending) */
    kp_p_wake_sender(p);
}

bool kp_producer_flush_pending(const kp_producer *p) {
    for (int i = 0; i < KP_MAX_FLUSHES; i++)
        if (p->flushes[i].active)
            return true;
    return false;
}

static void kp_p_check_flushes(kp_producer *p, int64_t now) {
    for (int i = 0; i < KP_MAX_FLUSHES && p->nflushes > 0; i++) {
        if (!p->flushes[i].active)
            continue;
        if (!kp_accumulator_flush_completed(p->acc, p->flushes[i].token, !p->cfg.bug_kafka_19479))
            continue;
        p->flushes[i].active = false;
        p->nflushes--;
        kp_accumulator_end_flush(p->acc, now);
        kp_p_emit(p, KP_EV_FLUSH_COMPLETED, NULL, -1, KP_ERR_NONE, -1, "RecordAccumulator.awaitFlushCompletion");
        if (p->flushes[i].done)
            p->flushes[i].done(p->flushes[i].ctx);
    }
}

/* ------------------------------------------------------------------ */
/* close                                                               */
/* ------------------------------------------------------------------ */

void kp_producer_close(kp_producer *p, int64_t timeout_ms, kp_producer_done_fn *done, void *ctx) {
    int64_t now = kp_p_now(p);
    if (p->closing) {
        if (timeout_ms == 0 && !p->close_forced) {
            p->close_forced = true;
            kp_sender_force_close(p->sender);
        }
        return;
    }
    p->closing = true;
    p->closed_cb = done;
    p->closed_ctx = ctx;
    if (timeout_ms < 0)
        timeout_ms = 0;
    if (timeout_ms > 0 && p->in_run_once) {
        /* Java: "Overriding close timeout N ms to 0 ms in order to prevent
         * useless blocking due to self-join" (close from a callback) */
        kp_p_emit(p, KP_EV_CLOSE_REQUESTED, NULL, -1, KP_ERR_NONE, timeout_ms,
                  "KafkaProducer.close from a callback: timeout overridden to 0");
        timeout_ms = 0;
    }
    p->close_deadline = timeout_ms == KP_CLOSE_FOREVER || now > INT64_MAX - timeout_ms ? INT64_MAX : now + timeout_ms;
    kp_p_emit(p, KP_EV_CLOSE_REQUESTED, NULL, -1, KP_ERR_NONE, timeout_ms, "KafkaProducer.close");
    if (p->blk.what != KP_BLK_NONE) {
        if (p->blk.what == KP_BLK_MEMORY && p->blk.waiter.state == KP_WAITER_QUEUED)
            kp_buffer_pool_cancel(p->pool, &p->blk.waiter, KP_ERR__CLOSED);
        if (p->blk.waiter.state == KP_WAITER_SERVED) {
            uint8_t *b = kp_pool_waiter_take_buffer(&p->blk.waiter);
            if (b)
                kp_buffer_pool_deallocate(p->pool, b, p->blk.waiter.size);
        }
        kp_p_fail_blocked(p, KP_ERR__CLOSED, "Producer closed while send in progress", now);
    }
    if (timeout_ms == 0) {
        p->close_forced = true;
        kp_p_emit(p, KP_EV_FORCE_CLOSE, NULL, -1, KP_ERR_NONE, (int64_t)kp_accumulator_incomplete_count(p->acc),
                  "Sender.forceClose");
        kp_sender_force_close(p->sender);
    } else {
        kp_sender_initiate_close(p->sender);
    }
    /* the metadata closes with the network client, once the sender has
     * drained (NetworkClient.close -> DefaultMetadataUpdater.close) */
}

bool kp_producer_is_closed(const kp_producer *p) {
    return kp_sender_is_closed(p->sender);
}

/* ------------------------------------------------------------------ */
/* run_once                                                            */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* transactions (KafkaProducer.initTransactions .. abortTransaction)    */
/* ------------------------------------------------------------------ */

static void kp_p_txn_fire(kp_producer *p, kp_err err, const char *msg) {
    kp_producer_txn_cb *cb = p->txn.cb;
    void *ctx = p->txn.ctx;
    p->txn.active = false;
    if (cb)
        cb(ctx, err, msg);
}

/* result.await for the call in progress; true when it completed. */
static bool kp_p_check_txn(kp_producer *p, int64_t now) {
    if (!p->txn.active)
        return false;
    if (p->txn.res->done) {
        if (p->txn.kind == KP_P_TXN_INIT)
            p->init_res_live = false; /* initTransactionsResult = null */
        kp_txn_result r = *p->txn.res;
        kp_p_txn_fire(p, r.err, r.err == KP_ERR_NONE ? NULL : r.msg);
        return true;
    }
    if (p->txn.kind == KP_P_TXN_INIT && now >= p->txn.deadline) {
        /* the result stays with the manager: a later initTransactions
         * waits for the same one */
        char msg[128];
        snprintf(msg, sizeof msg, "Timeout expired while initializing transactional state in %lldms.",
                 (long long)p->cfg.max_block_ms);
        kp_p_txn_fire(p, KP_ERR__TIMED_OUT, msg);
        return true;
    }
    return false;
}

/* throwIfNoTransactionManager, plus the one-call-at-a-time rule of the
 * single application actor. */
static kp_err kp_p_txn_check(kp_producer *p) {
    if (!p->tm || !kp_txn_is_transactional(p->tm)) {
        snprintf(p->txn_msg, sizeof p->txn_msg, "Cannot use transactional methods without enabling "
                                                "transactions by setting the transactional.id configuration property");
        return KP_ERR__STATE;
    }
    if (p->txn.active) {
        snprintf(p->txn_msg, sizeof p->txn_msg, "a transactional call of this application actor is in progress");
        return KP_ERR__STATE;
    }
    if (p->blk.what != KP_BLK_NONE) {
        /* Java's one application thread is still inside send() */
        snprintf(p->txn_msg, sizeof p->txn_msg, "a send of this application actor is blocked");
        return KP_ERR__STATE;
    }
    if (p->closing) {
        snprintf(p->txn_msg, sizeof p->txn_msg, "Cannot perform operation after producer has been closed");
        return KP_ERR__CLOSED;
    }
    return KP_ERR_NONE;
}

static void kp_p_txn_start(kp_producer *p, int kind, kp_producer_txn_cb *cb, void *ctx, kp_txn_result *res) {
    p->txn.active = true;
    p->txn.kind = kind;
    p->txn.cb = cb;
    p->txn.ctx = ctx;
    p->txn.res = res;
    p->txn.deadline = kind == KP_P_TXN_INIT ? kp_p_now(p) + p->cfg.max_block_ms : INT64_MAX;
    p->txn_msg[0] = '\0';
    kp_p_wake_sender(p);
}

kp_err kp_producer_init_transactions(kp_producer *p, kp_producer_txn_cb *cb, void *ctx) {
    kp_err e = kp_p_txn_check(p);
    if (e != KP_ERR_NONE)
        return e;
    if (!p->init_res_live) {
        e = kp_txn_initialize_transactions(p->tm, &p->init_res, p->txn_msg, sizeof p->txn_msg);
        if (e != KP_ERR_NONE)
            return e;
        p->init_res_live = true;
    }
    kp_p_txn_start(p, KP_P_TXN_INIT, cb, ctx, &p->init_res);
    return KP_ERR_NONE;
}

kp_err kp_producer_begin_transaction(kp_producer *p) {
    kp_err e = kp_p_txn_check(p);
    if (e != KP_ERR_NONE)
        return e;
    e = kp_txn_begin_transaction(p->tm, p->txn_msg, sizeof p->txn_msg);
    if (e == KP_ERR_NONE)
        p->txn_msg[0] = '\0';
    return e;
}

kp_err kp_producer_commit_transaction(kp_producer *p, kp_producer_txn_cb *cb, void *ctx) {
    kp_err e = kp_p_txn_check(p);
    if (e != KP_ERR_NONE)
        return e;
    e = kp_txn_begin_commit(p->tm, &p->end_res, p->txn_msg, sizeof p->txn_msg);
    if (e != KP_ERR_NONE)
        return e;
    kp_p_txn_start(p, KP_P_TXN_COMMIT, cb, ctx, &p->end_res);
    return KP_ERR_NONE;
}

kp_err kp_producer_abort_transaction(kp_producer *p, kp_producer_txn_cb *cb, void *ctx) {
    kp_err e = kp_p_txn_check(p);
    if (e != KP_ERR_NONE)
        return e;
    e = kp_txn_begin_abort(p->tm, &p->end_res, p->txn_msg, sizeof p->txn_msg);
    if (e != KP_ERR_NONE)
        return e;
    kp_p_txn_start(p, KP_P_TXN_ABORT, cb, ctx, &p->end_res);
    return KP_ERR_NONE;
}

const char *kp_producer_txn_error_message(const kp_producer *p) { return p->txn_msg; }

kp_txn_state kp_producer_transaction_state(const kp_producer *p) {
    return p->tm ? kp_txn_get_state(p->tm) : KP_TXN_UNINITIALIZED;
}

bool kp_producer_txn_call_pending(const kp_producer *p) { return p->txn.active; }

int64_t kp_producer_run_once(kp_producer *p) {
    int64_t now = kp_p_now(p);
    kp_buffer_pool_expire(p->pool, now);
    if (p->closing && !p->close_forced && now >= p->close_deadline && !kp_sender_is_closed(p->sender)) {
        /* the I/O thread did not finish within the timeout: forceClose */
        p->close_forced = true;
        kp_p_emit(p, KP_EV_FORCE_CLOSE, NULL, -1, KP_ERR_NONE, (int64_t)kp_accumulator_incomplete_count(p->acc),
                  "KafkaProducer.close: timeout passed, Sender.forceClose");
        kp_sender_force_close(p->sender);
    }
    p->in_run_once = true;
    p->woke_sender = false; /* this run consumes every earlier wakeup */
    int64_t sleep = kp_sender_run_once(p->sender, now);
    p->in_run_once = false;
    now = kp_p_now(p);
    /* the blocked send and the flushes, when there are any (the common
     * run has neither, and the calls cost what their tests do) */
    bool progressed = p->blk.what != KP_BLK_NONE && kp_p_resume_blocked(p, now);
    if (p->nflushes > 0)
        kp_p_check_flushes(p, now);
    if (kp_p_check_txn(p, now))
        progressed = true;
    if (kp_sender_is_closed(p->sender)) {
        if (p->txn.active)
            kp_p_txn_fire(p, KP_ERR__CLOSED, "Producer closed while a transactional call was in progress");
        for (int i = 0; i < KP_MAX_FLUSHES; i++)
            if (p->flushes[i].active)
                kp_p_check_flushes(p, now);
        if (!p->closed_notified) {
            p->closed_notified = true;
            kp_metadata_close(p->md);
            kp_p_emit(p, KP_EV_CLOSED, NULL, -1, KP_ERR_NONE, -1, "KafkaProducer.close complete");
            if (p->closed_cb)
                p->closed_cb(p->closed_ctx);
        }
        return INT64_MAX;
    }
    if (progressed)
        sleep = 0;
    if (p->blk.what == KP_BLK_METADATA) {
        int64_t left = p->blk.begin_ms + p->cfg.max_block_ms - now;
        if (left < sleep)
            sleep = left;
    }
    if (p->txn.active && p->txn.kind == KP_P_TXN_INIT && p->txn.deadline - now < sleep)
        sleep = p->txn.deadline - now;
    int64_t pd = kp_buffer_pool_next_deadline(p->pool);
    if (pd != INT64_MAX && pd - now < sleep)
        sleep = pd - now;
    if (p->closing && !p->close_forced && p->close_deadline != INT64_MAX && p->close_deadline - now < sleep)
        sleep = p->close_deadline - now;
    return sleep < 0 ? 0 : sleep;
}

kp_metrics *kp_producer_metrics(kp_producer *p) { return p->metrics; }
const kp_config *kp_producer_config(const kp_producer *p) { return &p->cfg; }
void kp_producer_sender_stats(const kp_producer *p, kp_sender_stats *out) { kp_sender_stats_get(p->sender, out); }
kp_interceptors *kp_producer_interceptors(kp_producer *p) { return p->ic; }
bool kp_producer_pool_is_whole(const kp_producer *p) { return kp_buffer_pool_is_whole(p->pool); }

const char *kp_producer_topic_name(const kp_producer *p, const char *topic) {
    return kp_accumulator_topic_name(p->acc, topic);
}
int64_t kp_producer_pending_records(const kp_producer *p) { return p->pending_records; }
int64_t kp_producer_metadata_requests(const kp_producer *p) { return kp_metadata_updater_requests(p->upd); }
