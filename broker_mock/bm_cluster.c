/*
 * bm_cluster.c — the controller view, partition logs, replication, the
 * idempotent producer state and the time-driven steps of broker_mock (see
 * bm_cluster.h for the contract, bm_int.h for the structures).
 *
 * A poll is a list of phases, one call each:
 *   1. replication fetches due (followers copy visible batches, ISR expand,
 *      high watermark);
 *   2. ISR shrink (replica.lag.time.max.ms);
 *   3. transaction coordinator (markers, timeouts);
 *   4. connections (acks=all completion, delayed responses, muted input).
 */
#include "bm_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_crc32c.h"
#include "kp_record_batch.h"

/* ==================================================================== */
/* Small helpers                                                         */
/* ==================================================================== */

/* Something an acks=all wait depends on moved (see bm_cluster.ack_gen). */
static void bm_ack_gen_bump(bm_cluster *c) {
    c->ack_gen++;
}

static inline bool bm_broker_fetches(const bm_cluster *c, int32_t id);

/* The last_caught_up_us of p's followers that are still what the last
 * full ISR-shrink scan saw (caught up, in the ISR) is the time of the
 * last poll: every poll since saw them so (bm_isr_shrink). Written into
 * them before anything reads it or they change. */
static void bm_caught_up_sync(const bm_cluster *c, bm_partition *p) {
    if (!p->caught_up_any)
        return;
    p->caught_up_any = false;
    for (int32_t r = 0; r < p->nrep; r++) {
        bm_replica *rp = &p->rep[r];
        if (rp->caught_up && rp->last_caught_up_us < c->shrink_poll_us)
            rp->last_caught_up_us = c->shrink_poll_us;
        rp->caught_up = false;
    }
}

/* A replica of p changes (other than by the leader's append): its log or
 * LEO, the ISR, the leader, a broker. The next poll scans again. */
static void bm_repl_changed(bm_cluster *c, bm_partition *p) {
    bm_caught_up_sync(c, p);
    c->isr_clean = false;
    c->pend_clean = false;
}

/* Every partition changes (a broker went down or up, fetching paused). */
static void bm_repl_changed_all(bm_cluster *c) {
    for (int32_t t = 0; t < c->ntopics; t++)
        for (int32_t pi = 0; pi < c->topics[t].npart; pi++)
            bm_repl_changed(c, &c->topics[t].parts[pi]);
}

/* The leader of p appended a batch: its caught-up followers fall behind
 * (their last_caught_up_us stops at the last poll, their earliest shrink
 * is from then) and replication has work if one of them fetches. */
static void bm_leader_appended(bm_cluster *c, bm_partition *p) {
    if (p->caught_up_any) {
        p->caught_up_any = false;
        int64_t max_us = c->conf.replica_lag_time_max_ms * 1000;
        for (int32_t r = 0; r < p->nrep; r++) {
            bm_replica *rp = &p->rep[r];
            if (!rp->caught_up)
                continue;
            rp->caught_up = false;
            if (rp->last_caught_up_us < c->shrink_poll_us)
                rp->last_caught_up_us = c->shrink_poll_us;
            bm__min_deadline(&c->isr_next, rp->last_caught_up_us + max_us + 1);
        }
    }
    /* nothing was pending: every active follower was caught up and in the
     * ISR, so now those of p are behind */
    if (c->pend_clean && !c->pending)
        for (int32_t r = 0; r < p->nrep; r++)
            if (r != p->leader && bm_broker_fetches(c, p->rep[r].broker)) {
                c->pending = true;
                break;
            }
}

void bm__wakeup(bm_cluster *c) {
    if (c->env.wakeup)
        c->env.wakeup(c->env.wakeup_ctx);
}

bool bm__grow(void **arr, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 8;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

/* A block for a batch whose bytes (or digests) after the header take
 * `tail` bytes: from the pool when it is small enough. Not zeroed; only
 * `pooled` is set. */
static bm_batch *bm_batch_alloc(bm_cluster *c, size_t tail) {
    bm_batch *b;
    if (tail > BM_POOL_TAIL) {
        b = malloc(sizeof *b + tail);
        if (b)
            b->pooled = false;
        return b;
    }
    if (c->batch_pool) {
        b = c->batch_pool;
        c->batch_pool = (bm_batch *)(void *)b->dig;
        c->nbatch_pool--;
        return b; /* pooled stays true */
    }
    b = malloc(sizeof *b + BM_POOL_TAIL);
    if (b)
        b->pooled = true;
    return b;
}

static void bm_batch_release(bm_cluster *c, bm_batch *b) {
    if (BM_POOL_ON && b->pooled && c->nbatch_pool < BM_POOL_MAX) {
        b->dig = (bm_digest *)(void *)c->batch_pool;
        c->batch_pool = b;
        c->nbatch_pool++;
        return;
    }
    free(b); /* the digests, if any, are in the same allocation */
}

static void bm_batch_unref(bm_cluster *c, bm_batch *b) {
    if (b && --b->refs == 0)
        bm_batch_release(c, b);
}

static inline void bm_part_event(const bm_cluster *c, const bm_partition *p, int kind,
                          int32_t node, int64_t offset, int64_t value, const char *detail) {
    kp_event ev = bm__ev(c, kind, node);
    ev.topic = p->topic->name;
    ev.partition = p->id;
    ev.offset = offset;
    ev.value = value;
    ev.detail = detail;
    bm__emit(c, &ev);
}

/* ==================================================================== */
/* Configuration, creation                                               */
/* ==================================================================== */

void bm_config_defaults(bm_config *conf) {
    memset(conf, 0, sizeof *conf);
    conf->brokers = 3;
    snprintf(conf->host, sizeof conf->host, "localhost");
    conf->port_base = 9092;
    snprintf(conf->cluster_id, sizeof conf->cluster_id, "kpsim-cluster");
    conf->num_partitions = 1;
    conf->default_replication_factor = 3;
    conf->min_insync_replicas = 1;
    conf->message_max_bytes = 1000012;
    conf->auto_create_topics = true;
    conf->unclean_leader_election = false;
    conf->log_append_time = false;
    conf->replica_fetch_interval_us = 5000;
    conf->replica_lag_us = 0;
    conf->replica_lag_time_max_ms = 10000;
    conf->transaction_max_timeout_ms = 900000;
    conf->txn_marker_delay_us = 2000;
    conf->produce_quota_bytes_per_sec = 0;
    conf->socket_request_max_bytes = 104857600;
    conf->chaos_error_rate = 0.0;
    conf->duplicate_as_error = false;
}

bm_cluster *bm_cluster_new(const bm_config *conf, const kp_env *env) {
    if (!conf || conf->brokers < 1 || conf->brokers > BM_MAX_BROKERS)
        return NULL;
    bm_cluster *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->conf = *conf;
    c->conf.host[sizeof c->conf.host - 1] = 0;
    c->conf.cluster_id[sizeof c->conf.cluster_id - 1] = 0;
    if (c->conf.replica_fetch_interval_us <= 0)
        c->conf.replica_fetch_interval_us = 1000;
    if (env)
        c->env = *env;
    c->now = bm__now(c);
    c->next_pid = 1000;
    c->next_tick_us = BM_TIME_NEVER;
    kp_dbuf_init(&c->scratch, 0);
    for (int32_t i = 0; i < conf->brokers; i++) {
        char name[32];
        snprintf(name, sizeof name, "broker/%d", (int)i);
        c->brokers[i].id = i;
        c->brokers[i].up = true;
        c->brokers[i].rng = kp_rng_substream(&c->env.rng, name);
    }
    return c;
}

static void bm_partition_free(bm_cluster *c, bm_partition *p) {
    for (int32_t r = 0; r < p->nrep; r++) {
        for (size_t i = 0; i < p->rep[r].n; i++)
            bm_batch_unref(c, p->rep[r].log[i]);
        free(p->rep[r].mem);
    }
    free(p->rep);
    free(p->fold);
    free(p->fold_txn);
    free(p->prod);
    free(p->open);
    free(p->aborted);
}

void bm_cluster_destroy(bm_cluster *c) {
    if (!c)
        return;
    while (c->nconns > 0)
        bm__conn_free(c->conns[c->nconns - 1]);
    free(c->conns);
    for (int32_t t = 0; t < c->ntopics; t++) {
        for (int32_t p = 0; p < c->topics[t].npart; p++)
            bm_partition_free(c, &c->topics[t].parts[p]);
        free(c->topics[t].parts);
        free(c->topics[t].name);
    }
    free(c->topics);
    bm__txn_free(c);
    free(c->rules);
    for (size_t i = 0; i < c->nquota; i++)
        free(c->quota[i].client_id);
    free(c->quota);
    for (size_t i = 0; i < c->nclient_ids; i++)
        free(c->client_ids[i].s);
    free(c->client_ids);
    kp_dbuf_free(&c->scratch);
    while (c->batch_pool) {
        bm_batch *b = c->batch_pool;
        c->batch_pool = (bm_batch *)(void *)b->dig;
        free(b);
    }
    free(c);
}

const bm_config *bm_cluster_config(const bm_cluster *c) {
    return &c->conf;
}

/* What bm_hw_update does changed (it settles, it folds): every partition
 * takes it at its next replication tick. */
static void bm_hw_dirty_all(bm_cluster *c) {
    for (int32_t t = 0; t < c->ntopics; t++)
        for (int32_t pi = 0; pi < c->topics[t].npart; pi++)
            c->topics[t].parts[pi].hw_dirty = true;
}

void bm_cluster_set_digester(bm_cluster *c, bm_digest_fn *fn, void *ctx) {
    c->digest_fn = fn;
    c->digest_ctx = fn ? ctx : NULL;
    bm_hw_dirty_all(c);
}

void bm_cluster_set_settler(bm_cluster *c, bm_settle_fn *fn, void *ctx) {
    c->settle_fn = fn;
    c->settle_ctx = fn ? ctx : NULL;
    bm_hw_dirty_all(c);
}

/* ==================================================================== */
/* Topics                                                                */
/* ==================================================================== */

bm_topic *bm__topic(const bm_cluster *c, const char *name) {
    int32_t i = bm__topic_index(c, name);
    return i < 0 ? NULL : &c->topics[i];
}

int32_t bm__topic_index(const bm_cluster *c, const char *name) {
    for (int32_t i = 0; i < c->ntopics; i++)
        if (strcmp(c->topics[i].name, name) == 0)
            return i;
    return -1;
}

int32_t bm__topic_index_n(const bm_cluster *c, const uint8_t *name, size_t n) {
    for (int32_t i = 0; i < c->ntopics; i++)
        if ((n == 0 || strncmp(c->topics[i].name, (const char *)name, n) == 0) && c->topics[i].name[n] == 0)
            return i;
    return -1;
}

bm_partition *bm__partition(const bm_cluster *c, const char *topic, int32_t partition) {
    bm_topic *t = bm__topic(c, topic);
    if (!t || partition < 0 || partition >= t->npart)
        return NULL;
    return &t->parts[partition];
}

int32_t bm__leader_id(const bm_partition *p) {
    return p->leader < 0 ? -1 : p->rep[p->leader].broker;
}

bm_replica *bm__leader_rep(const bm_partition *p) {
    return p->leader < 0 ? NULL : &p->rep[p->leader];
}

int32_t bm__isr_size(const bm_partition *p) {
    return p->nisr;
}

/* Topic.validate in 2.1: 1..249 chars of [a-zA-Z0-9._-], not "." or "..". */
static bool bm_topic_name_valid(const char *s, size_t len) {
    if (len == 0 || len > 249)
        return false;
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

static bool bm_broker_up(const bm_cluster *c, int32_t id) {
    return id >= 0 && id < c->conf.brokers && c->brokers[id].up;
}

int32_t bm__max_message_bytes(const bm_cluster *c, const bm_topic *t) {
    return t->conf.max_message_bytes >= 0 ? t->conf.max_message_bytes : c->conf.message_max_bytes;
}

int32_t bm__min_isr(const bm_cluster *c, const bm_topic *t) {
    return t->conf.min_insync_replicas >= 1 ? t->conf.min_insync_replicas
                                            : c->conf.min_insync_replicas;
}

bool bm__unclean(const bm_cluster *c, const bm_topic *t) {
    return t->conf.unclean_leader_election >= 0 ? t->conf.unclean_leader_election == 1
                                                : c->conf.unclean_leader_election;
}

bool bm__log_append_time(const bm_cluster *c, const bm_topic *t) {
    return t->conf.log_append_time >= 0 ? t->conf.log_append_time == 1 : c->conf.log_append_time;
}

static kp_err bm_create_topic_n(bm_cluster *c, const char *name, size_t len,
                                int32_t partitions, int32_t rf, bool auto_created,
                                const bm_topic_config *tc) {
    if (!bm_topic_name_valid(name, len))
        return KP_ERR_INVALID_TOPIC_EXCEPTION;
    if (partitions <= 0 || partitions > 100000)
        return KP_ERR_INVALID_PARTITIONS;
    if (rf <= 0)
        rf = c->conf.default_replication_factor < c->conf.brokers
                 ? c->conf.default_replication_factor : c->conf.brokers;
    if (rf <= 0 || rf > c->conf.brokers)
        return KP_ERR_INVALID_REPLICATION_FACTOR;
    for (int32_t i = 0; i < c->ntopics; i++)
        if (strlen(c->topics[i].name) == len && memcmp(c->topics[i].name, name, len) == 0)
            return KP_ERR_TOPIC_ALREADY_EXISTS;
    size_t cap = (size_t)c->captopics;
    void *arr = c->topics;
    if (!bm__grow(&arr, &cap, (size_t)c->ntopics + 1, sizeof(bm_topic)))
        return KP_ERR__NOMEM;
    c->topics = arr;
    c->captopics = (int32_t)cap;
    bm_topic *t = &c->topics[c->ntopics];
    memset(t, 0, sizeof *t);
    t->name = malloc(len + 1);
    t->parts = calloc((size_t)partitions, sizeof(bm_partition));
    if (!t->name || !t->parts) {
        free(t->name);
        free(t->parts);
        return KP_ERR__NOMEM;
    }
    memcpy(t->name, name, len);
    t->name[len] = 0;
    t->npart = partitions;
    if (tc)
        t->conf = *tc;
    else
        bm_topic_config_defaults(&t->conf);
    for (int32_t p = 0; p < partitions; p++) {
        bm_partition *pp = &t->parts[p];
        pp->topic = t;
        pp->id = p;
        pp->leader = -1;
        pp->fold_max_ts = INT64_MIN;
        pp->hw_dirty = true;
        pp->reject_err = KP_ERR_NONE;
        for (int32_t k = 0; k < BM_TXN_WAITS; k++)
            pp->txw[k].pid = -1;
        pp->rep = calloc((size_t)rf, sizeof(bm_replica));
        if (!pp->rep) {
            for (int32_t q = 0; q < p; q++)
                bm_partition_free(c, &t->parts[q]);
            free(t->parts);
            free(t->name);
            return KP_ERR__NOMEM;
        }
        pp->nrep = rf;
        for (int32_t r = 0; r < rf; r++) {
            pp->rep[r].broker = (p + r) % c->conf.brokers;
            pp->rep[r].in_isr = bm_broker_up(c, pp->rep[r].broker);
            pp->nisr += pp->rep[r].in_isr;
            pp->rep[r].last_caught_up_us = bm__now(c);
            pp->rep[r].last_fetch_us = bm__now(c);
        }
    }
    c->ntopics++;
    c->isr_clean = c->pend_clean = false;
    /* Topic pointers of partitions moved with the realloc: refresh all. */
    for (int32_t i = 0; i < c->ntopics; i++)
        for (int32_t p = 0; p < c->topics[i].npart; p++)
            c->topics[i].parts[p].topic = &c->topics[i];
    kp_event ev = bm__ev(c, BM_EV_TOPIC_CREATED, -1);
    ev.topic = t->name;
    ev.value = partitions;
    ev.record_count = rf;
    ev.detail = auto_created ? "auto" : "admin";
    bm__emit(c, &ev);
    for (int32_t p = 0; p < partitions; p++) {
        bm_partition *pp = &t->parts[p];
        for (int32_t r = 0; r < pp->nrep; r++)
            if (bm_broker_up(c, pp->rep[r].broker)) {
                pp->leader = r;
                bm_ack_gen_bump(c);
                break;
            }
        bm_part_event(c, pp, BM_EV_LEADER_CHANGE, bm__leader_id(pp), -1, pp->leader_epoch, "create");
    }
    return KP_ERR_NONE;
}

kp_err bm_cluster_create_topic(bm_cluster *c, const char *topic, int32_t partitions,
                               int32_t replication_factor) {
    if (!topic)
        return KP_ERR_INVALID_TOPIC_EXCEPTION;
    return bm_create_topic_n(c, topic, strlen(topic), partitions, replication_factor, false, NULL);
}

kp_err bm_cluster_create_topic_with(bm_cluster *c, const char *topic, int32_t partitions,
                                    int32_t replication_factor, const bm_topic_config *tc) {
    if (!topic)
        return KP_ERR_INVALID_TOPIC_EXCEPTION;
    return bm_create_topic_n(c, topic, strlen(topic), partitions, replication_factor, false, tc);
}

kp_err bm__auto_create(bm_cluster *c, const char *topic, size_t len) {
    return bm_create_topic_n(c, topic, len, c->conf.num_partitions, 0, true, NULL);
}

bool bm_cluster_detail_is_stable(const bm_cluster *c, const char *s) {
    for (size_t i = 0; i < c->nclient_ids; i++)
        if (c->client_ids[i].s == s)
            return true;
    return false;
}

int32_t bm_cluster_topic_count(const bm_cluster *c) {
    return c->ntopics;
}

const char *bm_cluster_topic_name(const bm_cluster *c, int32_t index) {
    return index >= 0 && index < c->ntopics ? c->topics[index].name : NULL;
}

int32_t bm_cluster_partition_count(const bm_cluster *c, const char *topic) {
    bm_topic *t = bm__topic(c, topic);
    return t ? t->npart : -1;
}

int64_t bm__lso(const bm_partition *p) {
    int64_t lso = p->hw;
    if (p->nopen > 0 && p->open[0].first_offset < lso)
        lso = p->open[0].first_offset;
    return lso;
}

kp_err bm_cluster_partition_info(const bm_cluster *c, const char *topic, int32_t partition,
                                 bm_partition_info *out) {
    bm_partition *p = bm__partition(c, topic, partition);
    if (!p)
        return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    memset(out, 0, sizeof *out);
    out->leader = bm__leader_id(p);
    out->leader_epoch = p->leader_epoch;
    out->nreplicas = p->nrep;
    for (int32_t r = 0; r < p->nrep; r++) {
        out->replicas[r] = p->rep[r].broker;
        out->replica_leo[r] = p->rep[r].leo;
        if (p->rep[r].in_isr)
            out->isr[out->nisr++] = p->rep[r].broker;
    }
    out->log_start_offset = p->log_start;
    out->log_end_offset = p->leader >= 0 ? p->rep[p->leader].leo : -1;
    out->high_watermark = p->hw;
    out->last_stable_offset = bm__lso(p);
    return KP_ERR_NONE;
}

/* ==================================================================== */
/* Producer state (ProducerStateManager 2.1)                             */
/* ==================================================================== */

static bm_producer *bm_producer_find(const bm_partition *p, int64_t pid) {
    size_t h = p->prod_hint; /* the last one asked for, mostly asked again */
    if (h < p->nprod && p->prod[h].pid == pid)
        return &p->prod[h];
    size_t lo = 0, hi = p->nprod;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->prod[mid].pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < p->nprod && p->prod[lo].pid == pid ? &p->prod[lo] : NULL;
}

static bm_producer *bm_producer_get(bm_partition *p, int64_t pid) {
    bm_producer *e = bm_producer_find(p, pid);
    if (e) {
        p->prod_hint = (size_t)(e - p->prod);
        return e;
    }
    void *arr = p->prod;
    if (!bm__grow(&arr, &p->capprod, p->nprod + 1, sizeof(bm_producer)))
        return NULL;
    p->prod = arr;
    size_t at = 0;
    while (at < p->nprod && p->prod[at].pid < pid)
        at++;
    memmove(&p->prod[at + 1], &p->prod[at], (p->nprod - at) * sizeof(bm_producer));
    p->nprod++;
    p->prod_hint = at;
    e = &p->prod[at];
    memset(e, 0, sizeof *e);
    e->pid = pid;
    e->epoch = -1;
    e->txn_first_offset = -1;
    return e;
}

/* ProducerStateEntry.maybeUpdateProducerEpoch */
static void bm_producer_set_epoch(bm_producer *e, int16_t epoch) {
    if (e->epoch != epoch) {
        e->nb = 0;
        e->head = 0;
        e->epoch = epoch;
    }
}

static int32_t bm_seq_add(int32_t seq, int32_t delta) {
    /* DefaultRecordBatch.incrementSequence: wraps at INT_MAX to 0. */
    if (seq > INT32_MAX - delta)
        return delta - (INT32_MAX - seq) - 1;
    return seq + delta;
}

static int32_t bm_batch_last_seq(const bm_batch *b) {
    return bm_seq_add(b->base_seq, (int32_t)(b->last_offset - b->base_offset));
}

/* ProducerStateEntry.addBatch: the window keeps the last 5 (a ring: the
 * newest takes the oldest's slot once it is full). */
static void bm_producer_push(bm_producer *e, const bm_batch *b) {
    int32_t at = e->head + e->nb;
    e->b[at >= BM_PRODUCER_WINDOW ? at - BM_PRODUCER_WINDOW : at] =
        (bm_batch_meta){ b->base_seq, bm_batch_last_seq(b), b->base_offset, b->last_offset,
                         b->max_timestamp };
    if (e->nb < BM_PRODUCER_WINDOW)
        e->nb++;
    else
        e->head = (int16_t)(e->head + 1 == BM_PRODUCER_WINDOW ? 0 : e->head + 1);
}

/* ProducerAppendInfo.append of one stored batch to its producer's entry:
 * the epoch, the window, the open transaction. Returns the first offset
 * of the transaction a marker ended (-1: none); *opened when a data batch
 * opened one. The leader's state (bm_state_apply) and the fold
 * (bm_fold_apply) add what they keep beside the entry from these two. */
static inline int64_t bm_producer_apply(bm_producer *e, const bm_batch *b, bool *opened) {
    bm_producer_set_epoch(e, b->epoch);
    *opened = false;
    if (b->ctrl_type >= 0) {
        int64_t first = e->txn_first_offset;
        e->txn_first_offset = -1;
        return first;
    }
    bm_producer_push(e, b);
    if ((b->attributes & BM_ATTR_TRANSACTIONAL) && e->txn_first_offset < 0) {
        e->txn_first_offset = b->base_offset;
        *opened = true;
    }
    return -1;
}

static bool bm_txn_range_push(bm_txn_range **arr, size_t *n, size_t *cap, bm_txn_range r) {
    void *a = *arr;
    if (!bm__grow(&a, cap, *n + 1, sizeof r))
        return false;
    *arr = a;
    (*arr)[(*n)++] = r;
    return true;
}

static void bm_open_remove(bm_partition *p, int64_t pid) {
    for (size_t i = 0; i < p->nopen; i++)
        if (p->open[i].pid == pid) {
            memmove(&p->open[i], &p->open[i + 1], (p->nopen - i - 1) * sizeof(bm_txn_range));
            p->nopen--;
            return;
        }
}

/* bm_state_apply to the batch's producer's entry e (found or made). */
static void bm_state_apply_entry(bm_partition *p, bm_producer *e, const bm_batch *b) {
    bool opened;
    int64_t ended = bm_producer_apply(e, b, &opened);
    if (opened)
        bm_txn_range_push(&p->open, &p->nopen, &p->capopen,
                          (bm_txn_range){ b->pid, b->base_offset, -1 });
    if (ended >= 0) {
        if (b->ctrl_type == 0)
            bm_txn_range_push(&p->aborted, &p->naborted, &p->capaborted,
                              (bm_txn_range){ b->pid, ended, b->base_offset });
        bm_open_remove(p, b->pid);
    }
}

/* ProducerAppendInfo.append without validation: applies one stored batch
 * to the leader-side state (used at append and when rebuilding). */
static void bm_state_apply(bm_partition *p, const bm_batch *b) {
    if (b->pid < 0)
        return;
    bm_producer *e = bm_producer_get(p, b->pid);
    if (e)
        bm_state_apply_entry(p, e, b);
}

/* ---- the folded prefix (bm_int.h) ----------------------------------- */

static bm_fold_producer *bm_fold_get(bm_partition *p, int64_t pid) {
    if (p->fold_hint < p->nfold && p->fold[p->fold_hint].st.pid == pid)
        return &p->fold[p->fold_hint]; /* the last one folded */
    size_t lo = 0, hi = p->nfold;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->fold[mid].st.pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    p->fold_hint = lo;
    if (lo < p->nfold && p->fold[lo].st.pid == pid)
        return &p->fold[lo];
    void *arr = p->fold;
    if (!bm__grow(&arr, &p->capfold, p->nfold + 1, sizeof(bm_fold_producer)))
        return NULL;
    p->fold = arr;
    memmove(&p->fold[lo + 1], &p->fold[lo], (p->nfold - lo) * sizeof(bm_fold_producer));
    p->nfold++;
    bm_fold_producer *f = &p->fold[lo];
    memset(f, 0, sizeof *f);
    f->st.pid = pid;
    f->st.epoch = -1;
    f->st.txn_first_offset = -1;
    return f;
}

/* Folds one settled batch (txs: its final BM_TXN_* state): its producer's
 * entry takes the update the leader's takes (bm_producer_apply), and the
 * batches of aborted transactions are kept as offsets. False when out of
 * memory (nothing changed then). */
static bool bm_fold_apply(bm_partition *p, const bm_batch *b, int txs) {
    if (b->pid >= 0) {
        void *arr = p->fold_txn; /* room first: failing leaves all as it was */
        if ((b->attributes & BM_ATTR_TRANSACTIONAL) &&
            !bm__grow(&arr, &p->capfold_txn, p->nfold_txn + 1, sizeof(bm_fold_txn)))
            return false;
        p->fold_txn = arr;
    }
    bm_fold_producer *f = b->pid >= 0 ? bm_fold_get(p, b->pid) : NULL;
    if (b->pid >= 0 && !f)
        return false;
    if (b->ctrl_type < 0 && b->max_timestamp > p->fold_max_ts)
        p->fold_max_ts = b->max_timestamp;
    if (!f)
        return true;
    f->last_offset = b->last_offset;
    bool opened;
    int64_t ended = bm_producer_apply(&f->st, b, &opened);
    if (b->ctrl_type >= 0 ? b->ctrl_type == 0 && ended >= 0
                          : (b->attributes & BM_ATTR_TRANSACTIONAL) && txs == BM_TXN_ABORTED)
        p->fold_txn[p->nfold_txn++] =
            (bm_fold_txn){ b->pid, b->base_offset, b->last_offset, b->ctrl_type >= 0 };
    return true;
}

/* The producer state a replay of the folded batches at or after the log
 * start gives (the log start moves only by DeleteRecords): per producer,
 * present when its last folded batch is still there, with the epoch of
 * that batch and the window's batches still there (the last 5 of a suffix
 * are the window's entries inside that suffix); then the aborted
 * transactions, each opened at its first batch still there. */
static void bm_fold_restore(bm_partition *p) {
    int64_t start = p->log_start;
    for (size_t i = 0; i < p->nfold; i++) {
        const bm_fold_producer *f = &p->fold[i];
        if (f->last_offset < start)
            continue;
        void *arr = p->prod;
        if (!bm__grow(&arr, &p->capprod, p->nprod + 1, sizeof(bm_producer)))
            return;
        p->prod = arr;
        bm_producer *e = &p->prod[p->nprod++];
        memset(e, 0, sizeof *e);
        e->pid = f->st.pid;
        e->epoch = f->st.epoch;
        e->txn_first_offset = -1;
        for (int32_t k = 0; k < f->st.nb; k++) {
            const bm_batch_meta *m = bm__producer_meta(&f->st, k);
            if (m->last_offset >= start)
                e->b[e->nb++] = *m;
        }
    }
    for (size_t i = 0; i < p->nfold_txn; i++) {
        const bm_fold_txn *t = &p->fold_txn[i];
        if (t->last_offset < start)
            continue;
        bm_producer *e = bm_producer_find(p, t->pid);
        if (!e)
            continue;
        if (!t->marker) {
            if (e->txn_first_offset < 0) {
                e->txn_first_offset = t->base_offset;
                bm_txn_range_push(&p->open, &p->nopen, &p->capopen,
                                  (bm_txn_range){ t->pid, t->base_offset, -1 });
            }
        } else if (e->txn_first_offset >= 0) {
            bm_txn_range_push(&p->aborted, &p->naborted, &p->capaborted,
                              (bm_txn_range){ t->pid, e->txn_first_offset, t->base_offset });
            bm_open_remove(p, t->pid);
            e->txn_first_offset = -1;
        }
    }
}

/* Leader change / truncation: the new leader replays its log (as a Kafka
 * replica maintains its own ProducerStateManager from what it appended),
 * the folded prefix first. */
static void bm_state_rebuild(bm_partition *p) {
    p->nprod = 0;
    p->nopen = 0;
    p->naborted = 0;
    bm_replica *l = bm__leader_rep(p);
    if (!l)
        return;
    bm_fold_restore(p);
    for (size_t i = 0; i < l->n; i++)
        bm_state_apply(p, l->log[i]);
}

/* ProducerAppendInfo.checkProducerEpoch + checkSequence (2.1.1), for the
 * producer whose entry is e (NULL: none yet). */
static kp_err bm_state_check(const bm_producer *e, int16_t epoch, int32_t first_seq) {
    int16_t cur_epoch = e ? e->epoch : -1;
    if (epoch < cur_epoch)
        return KP_ERR_INVALID_PRODUCER_EPOCH;
    if (epoch != cur_epoch) {
        if (first_seq != 0)
            return cur_epoch != -1 ? KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER
                                   : KP_ERR_UNKNOWN_PRODUCER_ID;
        return KP_ERR_NONE;
    }
    int32_t last = (e && e->nb > 0) ? bm__producer_meta(e, e->nb - 1)->last_seq : -1;
    if (last == -1 && first_seq != 0)
        return KP_ERR_UNKNOWN_PRODUCER_ID;
    bool in_seq = (int64_t)first_seq == (int64_t)last + 1 || (first_seq == 0 && last == INT32_MAX);
    return in_seq ? KP_ERR_NONE : KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
}

/* ProducerStateEntry.findDuplicateBatch, in the producer's entry e (NULL:
 * none yet). */
static const bm_batch_meta *bm_state_duplicate(const bm_producer *e, int16_t epoch,
                                               int32_t first_seq, int32_t last_seq) {
#ifdef KP_MUTANT_NO_DUP_WINDOW /* mutant (tests/mutants): the 5-batch duplicate window never matches */
    e = NULL;
#endif
    if (!e || e->epoch != epoch)
        return NULL;
    /* the window is b[0 .. nb) in some order (head is 0 until it is full);
     * its sequence ranges are distinct (each batch appended in sequence) */
    for (int32_t i = 0; i < e->nb; i++)
        if (e->b[i].first_seq == first_seq && e->b[i].last_seq == last_seq)
            return &e->b[i];
    return NULL;
}

/* ==================================================================== */
/* Logs                                                                  */
/* ==================================================================== */

static inline bool bm_log_push(bm_replica *r, bm_batch *b) {
    if (r->head + r->n == r->cap) {
        if (r->head > 0 && r->head >= r->n) {
            memmove(r->mem, r->log, r->n * sizeof(bm_batch *));
            r->head = 0;
            r->log = r->mem;
        } else {
            void *arr = r->mem;
            if (!bm__grow(&arr, &r->cap, r->head + r->n + 1, sizeof(bm_batch *)))
                return false;
            r->mem = arr;
            r->log = r->mem + r->head;
        }
    }
    r->log[r->n++] = b;
    b->refs++;
    r->leo = b->last_offset + 1;
    return true;
}

static size_t bm_log_find(const bm_replica *r, int64_t off);

/* The settle walk's progress (bm_settle) no longer holds: the leader's
 * log is another one, or batches left the front of the logs unevenly. */
static void bm_settle_forget(bm_partition *p) {
    for (int32_t r = 0; r < p->nrep; r++)
        p->rep[r].same_n = 0;
    for (int32_t k = 0; k < BM_TXN_WAITS; k++)
        p->txw[k].pid = -1;
}

static void bm_replica_truncate_to(bm_cluster *c, bm_partition *p, bm_replica *r, size_t keep,
                                   const char *why) {
    if (keep >= r->n)
        return;
    bm_repl_changed(c, p);
    p->hw_dirty = true;
    if (r->same_n > keep)
        r->same_n = keep;
    int64_t removed = 0;
    for (size_t i = keep; i < r->n; i++) {
        removed += r->log[i]->count;
        bm_batch_unref(c, r->log[i]);
    }
    r->n = keep;
    r->leo = keep > 0 ? r->log[keep - 1]->last_offset + 1 : bm__log_base(p);
    bm_part_event(c, p, BM_EV_TRUNCATE, r->broker, r->leo, removed, why);
}

/* Truncates r to the longest common prefix with the leader's log (what
 * the leader-epoch based truncation of a follower amounts to here, since
 * replicas share batch pointers). */
static void bm_replica_reconcile(bm_cluster *c, bm_partition *p, bm_replica *r) {
    bm_replica *l = bm__leader_rep(p);
    if (!l || l == r)
        return;
    size_t k = 0, lim = r->n < l->n ? r->n : l->n;
    while (k < lim && r->log[k] == l->log[k])
        k++;
    bm_replica_truncate_to(c, p, r, k, "diverged from leader");
}

static void bm_settle(bm_cluster *c, bm_partition *p);

/* Settles what became settled (bm_settle: with a digester that frees the
 * folded batches, so no batch pointer is valid across this call) and
 * moves the high watermark. */
static void bm_hw_update(bm_cluster *c, bm_partition *p) {
    bm_replica *l = bm__leader_rep(p);
    if (!l)
        return;
    p->hw_dirty = false;
    bm_settle(c, p);
    int64_t hw = l->leo;
    for (int32_t r = 0; r < p->nrep; r++)
        if (p->rep[r].in_isr && p->rep[r].leo < hw)
            hw = p->rep[r].leo;
    if (hw > p->hw) {
        p->hw = hw;
        bm_ack_gen_bump(c);
        bm_part_event(c, p, BM_EV_HW_ADVANCE, l->broker, hw, -1, NULL);
    } else if (p->hw > l->leo) {
        p->hw = l->leo; /* unclean election: the new leader has less */
        bm_ack_gen_bump(c);
    }
}

/* bm_hw_update after the leader of p appended a batch, when it can change
 * something: with nothing changed before (hw_dirty clear: the HW is the
 * least LEO of the ISR, and what every replica holds is settled), a batch
 * the leader alone holds moves neither while a follower is in the ISR
 * (its LEO is at most the leader's old end) and another replica exists. */
static inline void bm_hw_after_append(bm_cluster *c, bm_partition *p) {
    if (p->hw_dirty || p->nisr == 1 || p->nrep == 1)
        bm_hw_update(c, p);
}

static void bm_isr_set(bm_cluster *c, bm_partition *p, bm_replica *r, bool in) {
    if (r->in_isr == in)
        return;
    bm_repl_changed(c, p);
    p->hw_dirty = true;
    r->in_isr = in;
    p->nisr += in ? 1 : -1;
    bm_part_event(c, p, in ? BM_EV_ISR_EXPAND : BM_EV_ISR_SHRINK, r->broker, -1,
                  bm__isr_size(p), NULL);
}

/* The one setter of leadership: logs OLD -> NEW, bumps the epoch, rebuilds
 * the leader-side state and truncates live followers that diverged. */
static void bm_leader_set(bm_cluster *c, bm_partition *p, int32_t idx, const char *why) {
    int32_t old = bm__leader_id(p);
    bm_repl_changed(c, p);
    bm_settle_forget(p);
    p->hw_dirty = true;
    p->leader = idx;
    p->leader_epoch++;
    bm_ack_gen_bump(c);
    char detail[64];
    snprintf(detail, sizeof detail, "%s: %d -> %d", why, (int)old, (int)bm__leader_id(p));
    bm_part_event(c, p, BM_EV_LEADER_CHANGE, bm__leader_id(p), -1, p->leader_epoch, detail);
    if (idx < 0)
        return;
    bm_replica *l = &p->rep[idx];
    if (!l->in_isr) {
        l->in_isr = true;
        p->nisr++;
    }
    for (int32_t r = 0; r < p->nrep; r++)
        if (r != idx && bm_broker_up(c, p->rep[r].broker))
            bm_replica_reconcile(c, p, &p->rep[r]);
    for (int32_t r = 0; r < p->nrep; r++) {
        p->rep[r].last_fetch_leader_leo = 0;
        if (r != idx && p->rep[r].in_isr)
            p->rep[r].last_caught_up_us = bm__now(c);
    }
    if (p->hw > l->leo) {
        p->hw = l->leo;
        bm_ack_gen_bump(c);
    }
    bm_state_rebuild(p);
    bm_hw_update(c, p);
}

/* PartitionLeaderElectionAlgorithms: first live ISR member in assignment
 * order; with unclean election, else the first live replica. */
static int32_t bm_elect(const bm_cluster *c, const bm_partition *p, int32_t exclude_broker,
                        bool unclean, bool *was_unclean) {
    *was_unclean = false;
    for (int32_t r = 0; r < p->nrep; r++)
        if (p->rep[r].in_isr && p->rep[r].broker != exclude_broker &&
            bm_broker_up(c, p->rep[r].broker))
            return r;
    if (!unclean)
        return -1;
    for (int32_t r = 0; r < p->nrep; r++)
        if (p->rep[r].broker != exclude_broker && bm_broker_up(c, p->rep[r].broker)) {
            *was_unclean = true;
            return r;
        }
    return -1;
}

/* ==================================================================== */
/* Faults and admin                                                      */
/* ==================================================================== */

kp_err bm_cluster_crash_broker(bm_cluster *c, int32_t id) {
    if (id < 0 || id >= c->conf.brokers)
        return KP_ERR__INVALID_ARG;
    if (!c->brokers[id].up)
        return KP_ERR__STATE;
    c->now = bm__now(c);
    c->brokers[id].up = false;
    bm_repl_changed_all(c);
    kp_event ev = bm__ev(c, BM_EV_BROKER_DOWN, id);
    bm__emit(c, &ev);
    for (size_t i = c->nconns; i-- > 0;)
        if (i < c->nconns && bm__conn_broker(c->conns[i]) == id)
            bm__conn_kill(c->conns[i], "broker crashed");
    for (int32_t t = 0; t < c->ntopics; t++)
        for (int32_t pi = 0; pi < c->topics[t].npart; pi++) {
            bm_partition *p = &c->topics[t].parts[pi];
            int32_t ri = -1;
            for (int32_t r = 0; r < p->nrep; r++)
                if (p->rep[r].broker == id)
                    ri = r;
            if (ri < 0)
                continue;
            if (p->leader == ri) {
                bool unclean;
                int32_t nl = bm_elect(c, p, id, bm__unclean(c, p->topic), &unclean);
                if (nl >= 0) {
                    if (unclean)
                        for (int32_t r = 0; r < p->nrep; r++)
                            if (r != nl)
                                bm_isr_set(c, p, &p->rep[r], false);
                    bm_isr_set(c, p, &p->rep[ri], false);
                    bm_leader_set(c, p, nl, unclean ? "unclean election after crash" : "crash");
                } else {
                    /* No eligible leader: the ISR keeps its last member. */
                    bm_leader_set(c, p, -1, "crash, no eligible replica");
                }
            } else {
                bm_isr_set(c, p, &p->rep[ri], false);
                bm_hw_update(c, p);
            }
        }
    bm__wakeup(c);
    return KP_ERR_NONE;
}

kp_err bm_cluster_restart_broker(bm_cluster *c, int32_t id) {
    if (id < 0 || id >= c->conf.brokers)
        return KP_ERR__INVALID_ARG;
    if (c->brokers[id].up)
        return KP_ERR__STATE;
    c->now = bm__now(c);
    c->brokers[id].up = true;
    bm_repl_changed_all(c);
    kp_event ev = bm__ev(c, BM_EV_BROKER_UP, id);
    bm__emit(c, &ev);
    for (int32_t t = 0; t < c->ntopics; t++)
        for (int32_t pi = 0; pi < c->topics[t].npart; pi++) {
            bm_partition *p = &c->topics[t].parts[pi];
            int32_t ri = -1;
            for (int32_t r = 0; r < p->nrep; r++)
                if (p->rep[r].broker == id)
                    ri = r;
            if (ri < 0)
                continue;
            bm_replica *r = &p->rep[ri];
            r->last_fetch_us = bm__now(c);
            r->last_fetch_leader_leo = 0;
            if (p->leader < 0) {
                if (r->in_isr) {
                    bm_leader_set(c, p, ri, "restart of last ISR member");
                } else if (bm__unclean(c, p->topic)) {
                    for (int32_t q = 0; q < p->nrep; q++)
                        if (q != ri)
                            bm_isr_set(c, p, &p->rep[q], false);
                    bm_isr_set(c, p, r, true);
                    bm_leader_set(c, p, ri, "unclean election at restart");
                }
            } else {
                bm_replica_reconcile(c, p, r);
            }
        }
    c->next_tick_us = BM_TIME_NEVER;
    bm__wakeup(c);
    return KP_ERR_NONE;
}

bool bm_cluster_broker_is_up(const bm_cluster *c, int32_t id) {
    return bm_broker_up(c, id);
}

kp_err bm_cluster_move_leader(bm_cluster *c, const char *topic, int32_t partition,
                              int32_t new_leader, bool unclean) {
    bm_partition *p = bm__partition(c, topic, partition);
    if (!p)
        return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    c->now = bm__now(c);
    int32_t ri = -1;
    for (int32_t r = 0; r < p->nrep; r++)
        if (p->rep[r].broker == new_leader)
            ri = r;
    if (ri < 0 || !bm_broker_up(c, new_leader))
        return KP_ERR__INVALID_ARG;
    if (ri == p->leader)
        return KP_ERR_NONE;
    if (!p->rep[ri].in_isr) {
        if (!unclean)
            return KP_ERR__STATE;
        for (int32_t r = 0; r < p->nrep; r++)
            if (r != ri)
                bm_isr_set(c, p, &p->rep[r], false);
        bm_isr_set(c, p, &p->rep[ri], true);
        bm_leader_set(c, p, ri, "unclean move");
    } else {
        bm_leader_set(c, p, ri, "move");
    }
    bm__wakeup(c);
    return KP_ERR_NONE;
}

kp_err bm_cluster_delete_records(bm_cluster *c, const char *topic, int32_t partition,
                                 int64_t offset) {
    bm_partition *p = bm__partition(c, topic, partition);
    if (!p)
        return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (offset <= p->log_start)
        return KP_ERR_NONE;
    if (offset > p->hw)
        return KP_ERR_OFFSET_OUT_OF_RANGE;
    p->log_start = offset;
    bm_repl_changed(c, p);
    p->hw_dirty = true;
    bm_settle_forget(p);
    if (c->settle_fn && p->settled < offset)
        p->settled = offset; /* gone before they settled: never handed out */
    for (int32_t ri = 0; ri < p->nrep; ri++) {
        bm_replica *r = &p->rep[ri];
        size_t k = 0;
        while (k < r->n && r->log[k]->last_offset < offset)
            bm_batch_unref(c, r->log[k++]);
        memmove(r->log, r->log + k, (r->n - k) * sizeof(bm_batch *));
        r->n -= k;
        if (r->leo < offset)
            r->leo = offset;
    }
    /* the settled batches left: the same in every log */
    p->settled_n = bm_log_find(&p->rep[0], p->settled);
    /* ProducerStateManager.truncateHead: forget producers whose last
     * written offset is gone, and aborted ranges that ended below. */
    size_t w = 0;
    for (size_t i = 0; i < p->nprod; i++) {
        bm_producer *e = &p->prod[i];
        int64_t last = e->nb > 0 ? bm__producer_meta(e, e->nb - 1)->last_offset : -1;
        if (last >= offset || e->txn_first_offset >= 0)
            p->prod[w++] = *e;
    }
    p->nprod = w;
    w = 0;
    for (size_t i = 0; i < p->naborted; i++)
        if (p->aborted[i].last_offset >= offset)
            p->aborted[w++] = p->aborted[i];
    p->naborted = w;
    /* the folded prefix: what no replay from the new start can see */
    w = 0;
    for (size_t i = 0; i < p->nfold; i++)
        if (p->fold[i].last_offset >= offset)
            p->fold[w++] = p->fold[i];
    p->nfold = w;
    w = 0;
    for (size_t i = 0; i < p->nfold_txn; i++)
        if (p->fold_txn[i].last_offset >= offset)
            p->fold_txn[w++] = p->fold_txn[i];
    p->nfold_txn = w;
    bm_part_event(c, p, BM_EV_LOG_START, -1, offset, -1, NULL);
    return KP_ERR_NONE;
}

void bm_cluster_set_message_max_bytes(bm_cluster *c, int32_t bytes) {
    c->conf.message_max_bytes = bytes;
}

void bm_cluster_set_min_insync_replicas(bm_cluster *c, int32_t n) {
    c->conf.min_insync_replicas = n;
}

void bm_cluster_set_unclean_election(bm_cluster *c, bool on) {
    c->conf.unclean_leader_election = on;
}

void bm_cluster_set_replica_lag(bm_cluster *c, int64_t lag_us) {
    c->conf.replica_lag_us = lag_us < 0 ? 0 : lag_us;
}

kp_err bm_cluster_pause_follower(bm_cluster *c, int32_t id, bool paused) {
    if (id < 0 || id >= c->conf.brokers)
        return KP_ERR__INVALID_ARG;
    c->brokers[id].follower_paused = paused;
    bm_repl_changed_all(c);
    bm__wakeup(c);
    return KP_ERR_NONE;
}

void bm_cluster_set_quota(bm_cluster *c, int64_t bps) {
    c->conf.produce_quota_bytes_per_sec = bps < 0 ? 0 : bps;
}

void bm_cluster_set_chaos(bm_cluster *c, double rate) {
    c->conf.chaos_error_rate = rate;
}

/* ==================================================================== */
/* Error injection and quotas                                            */
/* ==================================================================== */

kp_err bm_cluster_inject(bm_cluster *c, int32_t broker, int16_t api, int32_t count, kp_err err,
                         int64_t delay_us) {
    if (count <= 0 || delay_us < 0 || broker < -1 || broker >= c->conf.brokers)
        return KP_ERR__INVALID_ARG;
    void *arr = c->rules;
    if (!bm__grow(&arr, &c->caprules, c->nrules + 1, sizeof(bm_inject_rule)))
        return KP_ERR__NOMEM;
    c->rules = arr;
    c->rules[c->nrules++] = (bm_inject_rule){ broker, api, count, err, delay_us };
    return KP_ERR_NONE;
}

bool bm__inject_take(bm_cluster *c, int32_t broker, int16_t api, kp_err *err, int64_t *delay_us) {
    for (size_t i = 0; i < c->nrules; i++) {
        bm_inject_rule *r = &c->rules[i];
        if ((r->broker != -1 && r->broker != broker) || (r->api != -1 && r->api != api))
            continue;
        *err = r->err;
        *delay_us = r->delay_us;
        if (--r->left == 0) {
            memmove(&c->rules[i], &c->rules[i + 1], (c->nrules - i - 1) * sizeof *r);
            c->nrules--;
        }
        return true;
    }
    return false;
}

int32_t bm_cluster_injections_pending(const bm_cluster *c) {
    int32_t n = 0;
    for (size_t i = 0; i < c->nrules; i++)
        n += c->rules[i].left;
    return n;
}

kp_err bm_cluster_reject_partition(bm_cluster *c, const char *topic, int32_t partition, kp_err err,
                                   kp_time_us until) {
    bm_partition *p = bm__partition(c, topic, partition);
    if (!p)
        return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    p->reject_err = err;
    p->reject_until = until;
    return KP_ERR_NONE;
}

/* ClientQuotaManager.recordAndGetThrottleTimeMs (2.1): a rate over
 * quota.window.num samples of quota.window.size; when the rate exceeds the
 * quota, throttle = (rate - quota) / quota * window length. */
int32_t bm__quota_record(bm_cluster *c, const char *client_id, size_t id_len, int64_t bytes) {
    int64_t quota = c->conf.produce_quota_bytes_per_sec;
    if (quota <= 0)
        return 0;
    int64_t now_ms = bm__now(c) / 1000;
    bm_quota_client *q = NULL;
    for (size_t i = 0; i < c->nquota; i++)
        if (strlen(c->quota[i].client_id) == id_len &&
            memcmp(c->quota[i].client_id, client_id, id_len) == 0)
            q = &c->quota[i];
    if (!q) {
        void *arr = c->quota;
        if (!bm__grow(&arr, &c->capquota, c->nquota + 1, sizeof *q))
            return 0;
        c->quota = arr;
        q = &c->quota[c->nquota];
        memset(q, 0, sizeof *q);
        q->client_id = malloc(id_len + 1);
        if (!q->client_id)
            return 0;
        c->nquota++;
        memcpy(q->client_id, client_id, id_len);
        q->client_id[id_len] = 0;
        for (int i = 0; i < BM_QUOTA_SAMPLES; i++)
            q->sample_start_ms[i] = now_ms;
    }
    if (now_ms - q->sample_start_ms[q->cur] >= BM_QUOTA_SAMPLE_MS) {
        q->cur = (q->cur + 1) % BM_QUOTA_SAMPLES;
        q->sample_start_ms[q->cur] = now_ms;
        q->sample_bytes[q->cur] = 0;
    }
    q->sample_bytes[q->cur] += bytes;
    int64_t total = 0, oldest = now_ms;
    for (int i = 0; i < BM_QUOTA_SAMPLES; i++) {
        if (now_ms - q->sample_start_ms[i] > (int64_t)BM_QUOTA_SAMPLES * BM_QUOTA_SAMPLE_MS)
            continue; /* an expired sample (Kafka purges those) */
        total += q->sample_bytes[i];
        if (q->sample_start_ms[i] < oldest)
            oldest = q->sample_start_ms[i];
    }
    int64_t window_ms = now_ms - oldest;
    int64_t min_window = (int64_t)(BM_QUOTA_SAMPLES - 1) * BM_QUOTA_SAMPLE_MS;
    if (window_ms < min_window)
        window_ms = min_window;
    double rate = (double)total * 1000.0 / (double)window_ms;
    if (rate <= (double)quota)
        return 0;
    double t = (rate - (double)quota) / (double)quota * (double)window_ms;
    return t > 2147483647.0 ? INT32_MAX : (int32_t)t;
}

/* ==================================================================== */
/* Produce                                                               */
/* ==================================================================== */

static void bm_produce_fail(bm_cluster *c, bm_partition *p, int32_t broker, kp_err err,
                            const char *topic, int32_t partition, int16_t api_version,
                            const char *why, bm_produce_result *out) {
    /* KAFKA_STORAGE_ERROR exists from Produce v4; older clients get
     * NOT_LEADER_FOR_PARTITION (ProduceResponse 2.1). */
    if (err == KP_ERR_KAFKA_STORAGE_ERROR && api_version < 4)
        err = KP_ERR_NOT_LEADER_FOR_PARTITION;
    out->err = err;
    out->base_offset = -1;
    out->log_start_offset = p ? p->log_start : -1;
    kp_event ev = bm__ev(c, BM_EV_ERROR, broker);
    ev.api_key = 0;
    ev.topic = topic;
    ev.partition = partition;
    ev.err = err;
    ev.detail = why;
    bm__emit(c, &ev);
}

/* The digest walk's common records (kp_record__common_at), from the
 * iterator's position on, each digested by fn into dig[0..): in a frame
 * of their own, with the cursor, the digester and the output in
 * registers. In bm__produce's frame they lived on its stack around each
 * record's call (~140 instructions a record, callgrind, throughput).
 * Returns the count digested; the iterator is left after them, where the
 * general walk (kp_record_iter_next_kv) goes on with the same records,
 * checks and errors it would have seen from the start. */
static __attribute__((noinline)) size_t bm__digest_common(kp_record_iter *it, bm_digest_fn *fn, void *ctx,
                                                          bm_digest *dig) {
    const uint8_t *p = it->rd.p, *end = it->rd.end;
    int64_t prev = it->prev_offset_delta;
    int32_t last = it->hdr.last_offset_delta;
    size_t n = it->err ? 0 : (size_t)(it->hdr.record_count - it->index), i = 0;
    while (i < n) {
        kp_slice key, value;
        int8_t attributes;
        int32_t offset_delta;
        uint32_t ts;
        if (!kp_record__common_at(&p, end, &prev, last, &attributes, &key, &value, &offset_delta, &ts))
            break;
        fn(ctx, key, value, &dig[i++]);
    }
    it->rd.p = p;
    it->prev_offset_delta = prev;
    it->index += (int32_t)i;
    return i;
}

static const kp_err bm_chaos_errors[] = {
    KP_ERR_NOT_LEADER_FOR_PARTITION, KP_ERR_NOT_ENOUGH_REPLICAS, KP_ERR_REQUEST_TIMED_OUT,
    KP_ERR_LEADER_NOT_AVAILABLE,
};

void bm_cluster_produce(bm_cluster *c, int32_t broker, const char *topic, int32_t partition,
                        int16_t acks, int16_t api_version, const uint8_t *rec, size_t len,
                        bm_produce_result *out) {
    bm__produce(c, bm__partition(c, topic, partition), broker, topic, partition, acks,
                api_version, rec, len, out);
}

void bm__produce(bm_cluster *c, bm_partition *p, int32_t broker, const char *topic,
                 int32_t partition, int16_t acks, int16_t api_version, const uint8_t *rec,
                 size_t len, bm_produce_result *out) {
    memset(out, 0, sizeof *out);
    out->base_offset = -1;
    out->log_append_time = -1;
    out->log_start_offset = -1;
    out->required_offset = -1;
    out->leader_epoch = -1;
    kp_time_us now = bm__now(c);
    c->now = now;

    /* ProduceRequest.validateRecords (v3+): one batch of magic 2. */
    if (!rec || len < BM_BATCH_HDR || rec[16] != 2) {
        bm_produce_fail(c, p, broker, KP_ERR_CORRUPT_MESSAGE, topic, partition, api_version,
                        "not one RecordBatch v2", out);
        return;
    }
    int32_t blen = (int32_t)kp_be32_get(rec + 8);
    if (blen < BM_BATCH_HDR - 12 || (size_t)blen + 12 != len) {
        bm_produce_fail(c, p, broker, KP_ERR_CORRUPT_MESSAGE, topic, partition, api_version,
                        (size_t)blen + 12 < len ? "more than one batch" : "batch length mismatch",
                        out);
        return;
    }
    if (!p) {
        bm_produce_fail(c, p, broker, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION, topic, partition,
                        api_version, "unknown topic or partition", out);
        return;
    }
    if (bm__leader_id(p) != broker || !bm_broker_up(c, broker)) {
        bm_produce_fail(c, p, broker, KP_ERR_NOT_LEADER_FOR_PARTITION, topic, partition,
                        api_version, "not the leader", out);
        return;
    }
    if (p->reject_err != KP_ERR_NONE && now < p->reject_until) {
        bm_produce_fail(c, p, broker, p->reject_err, topic, partition, api_version,
                        "injected: partition rejects", out);
        return;
    }
    if (c->conf.chaos_error_rate > 0 &&
        kp_rng_chance(&c->brokers[broker].rng, c->conf.chaos_error_rate)) {
        kp_err e = bm_chaos_errors[kp_rng_below(&c->brokers[broker].rng,
                                                sizeof bm_chaos_errors / sizeof bm_chaos_errors[0])];
        bm_produce_fail(c, p, broker, e, topic, partition, api_version, "chaos", out);
        return;
    }
    if (acks != -1 && acks != 0 && acks != 1) {
        bm_produce_fail(c, p, broker, KP_ERR_INVALID_REQUIRED_ACKS, topic, partition, api_version,
                        "acks must be -1, 0 or 1", out);
        return;
    }
    /* Partition.appendRecordsToLeader */
    if (acks == -1 && bm__isr_size(p) < bm__min_isr(c, p->topic)) {
        bm_produce_fail(c, p, broker, KP_ERR_NOT_ENOUGH_REPLICAS, topic, partition, api_version,
                        "ISR smaller than min.insync.replicas", out);
        return;
    }
    /* Log.analyzeAndValidateRecords */
    int32_t max_bytes = bm__max_message_bytes(c, p->topic);
    if (len > (size_t)(max_bytes < 0 ? 0 : max_bytes)) {
        bm_produce_fail(c, p, broker, KP_ERR_MESSAGE_TOO_LARGE, topic, partition, api_version,
                        "batch larger than message.max.bytes", out);
        return;
    }
    uint32_t crc = kp_be32_get(rec + 17);
    if (kp_crc32c(0, rec + 21, len - 21) != crc) {
        bm_produce_fail(c, p, broker, KP_ERR_CORRUPT_MESSAGE, topic, partition, api_version,
                        "CRC mismatch", out);
        return;
    }
    /* the header's fields, read once, into the record walk's iterator:
     * the checks below and kp_record_iter_init_parsed take them there */
    kp_record_iter it;
    kp_batch_header *h = &it.hdr; /* every field, one store each */
    kp_batch_header_read(h, rec);
    int64_t base_offset_in = h->base_offset;
    int16_t attrs = h->attributes;
    int32_t last_delta = h->last_offset_delta;
    int64_t max_ts = h->max_timestamp;
    int64_t pid = h->producer_id;
    int16_t epoch = h->producer_epoch;
    int32_t base_seq = h->base_sequence;
    int32_t count = h->record_count;
    const char *bad = NULL;
    if (base_offset_in != 0)
        bad = "baseOffset of a client batch must be 0";
    else if (attrs & BM_ATTR_CONTROL)
        bad = "clients may not write control batches";
    else if (count <= 0 || last_delta != count - 1)
        bad = "record count does not match lastOffsetDelta";
    else if (pid >= 0 && base_seq < 0)
        bad = "idempotent batch without a sequence";
    else if ((attrs & BM_ATTR_TRANSACTIONAL) && pid < 0)
        bad = "transactional batch without a producer id";
    /* A digested batch's block comes before the walk, which digests each
     * record straight into it; every way out below gives it back. */
    bool digested = c->digest_fn != NULL;
    bm_batch *b = NULL;
    if (!bad) {
        /* LogValidator: every record must parse (decompressed when the
         * batch is compressed), offset deltas in order, exactly
         * recordCount records. The scratch buffer is reused. */
        kp_err e = kp_record_iter_init_parsed(&it, rec, len, &c->scratch); /* CRC: above */
        if (e == KP_ERR_NONE && digested) {
            /* the same walk digests every record for a digested log */
            b = bm_batch_alloc(c, (size_t)count * sizeof(bm_digest));
            if (!b)
                e = KP_ERR__NOMEM;
            bm_digest *dig = b ? (bm_digest *)(void *)b->bytes : NULL;
            kp_slice key, value;
            size_t i = 0;
            /* (a batch of one or two records: the loop below, without a
             * frame to set up, costs less) */
            if (b && count > 2)
                i = bm__digest_common(&it, c->digest_fn, c->digest_ctx, dig);
            /* the rest (a record of another shape, an error) one by one */
            while (e == KP_ERR_NONE && kp_record_iter_next_kv(&it, &key, &value)) {
                if (i == (size_t)count) { /* the iterator stops at recordCount */
                    e = KP_ERR__BAD_MSG;
                    break;
                }
                c->digest_fn(c->digest_ctx, key, value, &dig[i++]);
            }
            if (e == KP_ERR_NONE)
                e = it.err;
        } else if (e == KP_ERR_NONE) {
            kp_slice key, value;
            while (kp_record_iter_next_kv(&it, &key, &value))
                ;
            e = it.err;
        }
        if (e == KP_ERR__NOMEM) {
            if (b)
                bm_batch_release(c, b);
            bm_produce_fail(c, p, broker, KP_ERR_KAFKA_STORAGE_ERROR, topic, partition,
                            api_version, "out of memory", out);
            return;
        }
        if (e != KP_ERR_NONE)
            bad = e == KP_ERR__COMPRESSION ? "records do not decompress" : "malformed records";
    }
    if (bad) {
        if (b)
            bm_batch_release(c, b);
        bm_produce_fail(c, p, broker, KP_ERR_CORRUPT_MESSAGE, topic, partition, api_version, bad,
                        out);
        return;
    }
    /* Log.analyzeAndValidateProducerState: the duplicate window first.
     * The producer's entry is found once for the checks and the append
     * (nothing in between changes the table). */
    bm_producer *prod = NULL;
#ifdef KP_MUTANT_BROKER_IGNORES_SEQUENCE /* mutant (tests/mutants): no duplicate or sequence check at all */
    if (0)
#else
    if (pid >= 0)
#endif
    {
        prod = bm_producer_find(p, pid);
        int32_t last_seq = bm_seq_add(base_seq, last_delta);
        const bm_batch_meta *dup = bm_state_duplicate(prod, epoch, base_seq, last_seq);
        if (dup) {
            kp_event ev = bm__ev(c, BM_EV_DUPLICATE, broker);
            ev.topic = topic;
            ev.partition = partition;
            ev.offset = dup->first_offset;
            ev.producer_id = pid;
            ev.producer_epoch = epoch;
            ev.base_sequence = base_seq;
            bm__emit(c, &ev);
            out->err = c->conf.duplicate_as_error ? KP_ERR_DUPLICATE_SEQUENCE_NUMBER : KP_ERR_NONE;
            out->duplicate = true;
            out->base_offset = dup->first_offset;
            out->log_append_time = dup->timestamp; /* 2.1: the duplicate's timestamp */
            out->log_start_offset = p->log_start;
            out->required_offset = dup->last_offset + 1;
            out->leader_epoch = p->leader_epoch;
            if (acks == -1 && p->hw < out->required_offset)
                out->pending = true;
            if (b)
                bm_batch_release(c, b);
            return;
        }
        kp_err e = bm_state_check(prod, epoch, base_seq);
        if (e != KP_ERR_NONE) {
            if (b)
                bm_batch_release(c, b);
            bm_produce_fail(c, p, broker, e, topic, partition, api_version,
                            e == KP_ERR_INVALID_PRODUCER_EPOCH ? "fenced epoch"
                            : e == KP_ERR_UNKNOWN_PRODUCER_ID  ? "unknown producer id"
                                                               : "sequence gap",
                            out);
            return;
        }
    }

    /* Append: one allocation holding the header and either the bytes or
     * the digests (a digested batch is freed when it settles and folds, so
     * its digests need no allocation of their own: one malloc per batch;
     * a digested one was taken for the walk above). */
    if (!digested && !(b = bm_batch_alloc(c, len))) {
        bm_produce_fail(c, p, broker, KP_ERR_KAFKA_STORAGE_ERROR, topic, partition, api_version,
                        "out of memory", out);
        return;
    }
    bm_replica *l = bm__leader_rep(p);
    /* every field is set below (pooled by bm_batch_alloc) */
    b->refs = 0;
    bm_digest *dig = NULL;
    if (digested)
        dig = (bm_digest *)(void *)b->bytes;
    else
        memcpy(b->bytes, rec, len);
    b->dig = dig;
    b->digested = digested;
    b->len = (uint32_t)len;
    b->base_offset = l->leo;
    b->last_offset = l->leo + last_delta;
    b->count = count;
    b->pid = pid;
    b->epoch = epoch;
    b->base_seq = base_seq;
    b->attributes = attrs;
    b->ctrl_type = -1;
    b->max_timestamp = max_ts;
    b->append_us = now;
    b->leader_epoch = p->leader_epoch;
    if (!digested) {
        kp_be64_put(b->bytes, (uint64_t)b->base_offset);
        kp_be32_put(b->bytes + 12, (uint32_t)b->leader_epoch);
    }
    if (bm__log_append_time(c, p->topic)) {
        /* LogValidator: LogAppendTime rewrites maxTimestamp and the
         * timestamp-type bit, so the CRC is computed again. */
        int64_t now_ms = (now + c->env.clock.epoch_us) / 1000; /* wall time */
        b->attributes = (int16_t)(attrs | BM_ATTR_LOG_APPEND_TIME);
        b->max_timestamp = now_ms;
        if (!digested) {
            kp_be16_put(b->bytes + 21, (uint16_t)b->attributes);
            kp_be64_put(b->bytes + 35, (uint64_t)now_ms);
            kp_be32_put(b->bytes + 17, kp_crc32c(0, b->bytes + 21, len - 21));
        }
        out->log_append_time = now_ms;
    }
    if (!bm_log_push(l, b)) {
        bm_batch_release(c, b);
        bm_produce_fail(c, p, broker, KP_ERR_KAFKA_STORAGE_ERROR, topic, partition, api_version,
                        "out of memory", out);
        return;
    }
    bm_leader_appended(c, p);
    if (prod) {
        p->prod_hint = (size_t)(prod - p->prod); /* as bm_producer_get */
        bm_state_apply_entry(p, prod, b);
    } else {
        bm_state_apply(p, b);
    }
    kp_event ev = bm__ev(c, BM_EV_APPEND, broker);
    /* the topic's own name (the same bytes as `topic`, which found p):
     * it never moves, so the runner's digest finds it by address */
    ev.topic = p->topic->name;
    ev.partition = partition;
    ev.offset = b->base_offset;
    ev.record_count = count;
    ev.producer_id = pid;
    ev.producer_epoch = epoch;
    ev.base_sequence = base_seq;
    ev.bytes = (int64_t)len;
    ev.value = (attrs & BM_ATTR_TRANSACTIONAL) ? 1 : 0;
    bm__emit(c, &ev);
    int64_t base_offset = b->base_offset, last_offset = b->last_offset;
    bm_hw_after_append(c, p); /* may settle b and fold it away (one replica): b is gone */
    out->err = KP_ERR_NONE;
    out->base_offset = base_offset;
    out->log_start_offset = p->log_start;
    out->required_offset = last_offset + 1;
    out->leader_epoch = p->leader_epoch;
#ifdef KP_MUTANT_ACKS_ALL_AS_ONE /* mutant (tests/mutants): acks=all answers once the leader alone has the batch */
    acks = acks == -1 ? 1 : acks;
#endif
    if (acks == -1 && p->hw < out->required_offset)
        out->pending = true;
    bm__wakeup(c);
}

bool bm_cluster_acks_check(const bm_cluster *c, const char *topic, int32_t partition,
                           int64_t required_offset, int32_t leader_epoch, kp_err *err) {
    bm_partition *p = bm__partition(c, topic, partition);
    if (!p) {
        *err = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        return true;
    }
    return bm__acks_check_part(c, p, required_offset, leader_epoch, err);
}

kp_err bm__acks_done_err(const bm_cluster *c, const bm_partition *p) {
    return bm__isr_size(p) >= bm__min_isr(c, p->topic) ? KP_ERR_NONE
                                                       : KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND;
}

/* ==================================================================== */
/* Transaction markers (written for the coordinator)                     */
/* ==================================================================== */

/* A control batch: attributes transactional|control, one record whose key
 * is (version int16 = 0, type int16: 0 abort, 1 commit) and value is
 * (version int16 = 0, coordinator_epoch int32) — EndTransactionMarker. */
bool bm__write_marker(bm_cluster *c, bm_partition *p, int64_t pid, int16_t epoch, bool commit) {
    bm_replica *l = bm__leader_rep(p);
    if (!l || !bm_broker_up(c, l->broker))
        return false;
    kp_time_us now = bm__now(c);
    int64_t ts = now / 1000;
    uint8_t rec[32];
    kp_writer w;
    kp_wr_init(&w, rec, sizeof rec);
    uint8_t key[4] = { 0, 0, 0, (uint8_t)(commit ? 1 : 0) };
    uint8_t val[6] = { 0, 0, 0, 0, 0, 0 };
    int body = 1 + kp_varlong_size(0) + kp_varint_size(0) + kp_varint_size(4) + 4 +
               kp_varint_size(6) + 6 + kp_uvarint_size(0);
    kp_wr_varint(&w, body);
    kp_wr_i8(&w, 0);
    kp_wr_varlong(&w, 0);
    kp_wr_varint(&w, 0);
    kp_wr_varint(&w, 4);
    kp_wr_raw(&w, key, 4);
    kp_wr_varint(&w, 6);
    kp_wr_raw(&w, val, 6);
    kp_wr_varint(&w, 0);
    size_t len = BM_BATCH_HDR + w.len;
    bm_batch *b = malloc(sizeof *b + len);
    if (!b)
        return false;
    memset(b, 0, sizeof *b + len);
    uint8_t *h = b->bytes;
    kp_be64_put(h, (uint64_t)l->leo);
    kp_be32_put(h + 8, (uint32_t)(len - 12));
    kp_be32_put(h + 12, (uint32_t)p->leader_epoch);
    h[16] = 2;
    kp_be16_put(h + 21, BM_ATTR_TRANSACTIONAL | BM_ATTR_CONTROL);
    kp_be32_put(h + 23, 0);
    kp_be64_put(h + 27, (uint64_t)ts);
    kp_be64_put(h + 35, (uint64_t)ts);
    kp_be64_put(h + 43, (uint64_t)pid);
    kp_be16_put(h + 51, (uint16_t)epoch);
    kp_be32_put(h + 53, (uint32_t)-1);
    kp_be32_put(h + 57, 1);
    memcpy(h + BM_BATCH_HDR, rec, w.len);
    kp_be32_put(h + 17, kp_crc32c(0, h + 21, len - 21));
    b->len = (uint32_t)len;
    b->base_offset = b->last_offset = l->leo;
    b->count = 1;
    b->pid = pid;
    b->epoch = epoch;
    b->base_seq = -1;
    b->attributes = BM_ATTR_TRANSACTIONAL | BM_ATTR_CONTROL;
    b->ctrl_type = commit ? 1 : 0;
    b->max_timestamp = ts;
    b->append_us = now;
    b->leader_epoch = p->leader_epoch;
    if (!bm_log_push(l, b)) {
        free(b);
        return false;
    }
    bm_leader_appended(c, p);
    bm_state_apply(p, b);
    kp_event ev = bm__ev(c, BM_EV_TXN_MARKER, l->broker);
    ev.topic = p->topic->name;
    ev.partition = p->id;
    ev.offset = b->base_offset;
    ev.producer_id = pid;
    ev.producer_epoch = epoch;
    ev.value = commit;
    bm__emit(c, &ev);
    bm_hw_after_append(c, p);
    return true;
}

/* ==================================================================== */
/* Replication and the ISR (ReplicaFetcherThread / Partition 2.1)        */
/* ==================================================================== */

/* Follower r of p fetches from p's leader l. */
static inline void bm_follower_fetch(bm_cluster *c, bm_partition *p, const bm_replica *l,
                                     bm_replica *r, kp_time_us now) {
    int64_t fetch_offset = r->leo;
    int64_t leader_leo = l->leo;
    /* Replica.updateLogReadResult: caught up now, or as of the previous
     * fetch if it reached the leader's end of then. */
    if (fetch_offset >= leader_leo)
        r->last_caught_up_us = now;
    else if (fetch_offset >= r->last_fetch_leader_leo && r->last_fetch_us > r->last_caught_up_us)
        r->last_caught_up_us = r->last_fetch_us;
    r->last_fetch_leader_leo = leader_leo;
    r->last_fetch_us = now;
    bool moved = false;
    while (r->n < l->n) {
        bm_batch *b = l->log[r->n];
        if (b->append_us + c->conf.replica_lag_us > now)
            break;
        if (!bm_log_push(r, b))
            break;
        moved = true;
        p->hw_dirty = true;
    }
    if (moved)
        bm_part_event(c, p, BM_EV_REPLICATE, r->broker, r->leo, -1, NULL);
    if (r->leo >= leader_leo)
        r->last_caught_up_us = now;
    /* Partition.maybeExpandIsr */
    if (!r->in_isr && r->leo >= p->hw)
        bm_isr_set(c, p, r, true);
}

/* An active follower: a replica of a partition that has a leader, not the
 * leader, on a broker for which this is true (up, fetching not paused). */
static inline bool bm_broker_fetches(const bm_cluster *c, int32_t id) {
    /* a replica's broker: an id below conf.brokers, set at creation */
    return c->brokers[id].up && !c->brokers[id].follower_paused;
}

/* What the full ISR-shrink scan (bm_isr_shrink) and the replication-
 * pending scan (bm_replication_pending) do with p at `now`, but the
 * shrink: the caught-up ISR followers marked, the earliest shrink into
 * *next, *pending set when an active follower is behind or out of the
 * ISR. False when a follower of the ISR is due to shrink: the full scan
 * must run then, with its events (the marks made are the ones it makes
 * again). */
static bool bm_isr_look(bm_cluster *c, bm_partition *p, kp_time_us now, int64_t max_us,
                        kp_time_us *next, bool *pending) {
    int32_t li = p->leader;
    bm_replica *rep = p->rep;
    int64_t leader_leo = rep[li].leo;
    for (int32_t r = 0, nrep = p->nrep; r < nrep; r++) {
        bm_replica *rp = &rep[r];
        if (r == li)
            continue;
        if (rp->leo >= leader_leo && rp->in_isr) {
            if (now > rp->last_caught_up_us)
                rp->last_caught_up_us = now;
            rp->caught_up = true;
            p->caught_up_any = true;
            continue;
        }
        if (bm_broker_fetches(c, rp->broker))
            *pending = true;
        if (!rp->in_isr)
            continue;
        if (now - rp->last_caught_up_us > max_us)
            return false;
        bm__min_deadline(next, rp->last_caught_up_us + max_us + 1);
    }
    return true;
}

/* The fetches of every active follower, then each partition's HW. The
 * tick changes every partition it fetches for, so the poll's ISR-shrink
 * and replication-pending scans would both run in full after it; since
 * nothing but a partition's own fetches and HW update changes its
 * replicas here (the settle hook must not call into the cluster), each
 * partition is looked at as they would look at it right after its own
 * update (bm_isr_look), and their answers are left for them (isr_clean,
 * pend_clean) unless a follower is due to shrink. */
static void bm_replication_tick(bm_cluster *c, kp_time_us now) {
    int64_t max_us = c->conf.replica_lag_time_max_ms * 1000;
    kp_time_us next = BM_TIME_NEVER;
    bool exact = true, pending = false;
    for (int32_t t = 0; t < c->ntopics; t++) {
        bm_partition *parts = c->topics[t].parts;
        for (int32_t pi = 0, np = c->topics[t].npart; pi < np; pi++) {
            bm_partition *p = &parts[pi];
            int32_t li = p->leader;
            bm_caught_up_sync(c, p); /* the fetches read and write last_caught_up_us */
            if (li < 0)
                continue;
            bm_replica *rep = p->rep, *l = &rep[li];
            if (c->brokers[l->broker].up) { /* a replica's broker */
                for (int32_t r = 0, nrep = p->nrep; r < nrep; r++)
                    if (r != li && bm_broker_fetches(c, rep[r].broker)) /* active */
                        bm_follower_fetch(c, p, l, &rep[r], now);
                if (p->hw_dirty) /* else it would change nothing */
                    bm_hw_update(c, p);
            }
            if (exact && !bm_isr_look(c, p, now, max_us, &next, &pending))
                exact = false;
        }
    }
    c->isr_clean = c->pend_clean = exact;
    if (exact) {
        c->isr_next = next;
        c->shrink_poll_us = now;
        c->pending = pending;
    }
}

/* Partition.maybeShrinkIsr; returns the next time a shrink could happen.
 * A caught-up follower's last_caught_up_us is the time of the last poll
 * that saw it caught up. A full scan marks the caught-up followers
 * (bm_replica.caught_up) and finds the earliest shrink; while no replica
 * changes but by the leaders' appends (c->isr_clean), a poll before that
 * time would find the same: it only notes its time (c->shrink_poll_us),
 * which the marked followers take when they stop being caught up. */
static kp_time_us bm_isr_shrink(bm_cluster *c, kp_time_us now) {
    if (c->isr_clean && now < c->isr_next) {
        c->shrink_poll_us = now;
        return c->isr_next;
    }
    c->isr_clean = true; /* a shrink below makes it false again */
    kp_time_us next = BM_TIME_NEVER;
    int64_t max_us = c->conf.replica_lag_time_max_ms * 1000;
    for (int32_t t = 0; t < c->ntopics; t++) {
        bm_partition *parts = c->topics[t].parts;
        for (int32_t pi = 0, np = c->topics[t].npart; pi < np; pi++) {
            bm_partition *p = &parts[pi];
            int32_t li = p->leader;
            bm_caught_up_sync(c, p);
            if (li < 0)
                continue;
            bm_replica *rep = p->rep;
            int64_t leader_leo = rep[li].leo;
            bool changed = false;
            for (int32_t r = 0, nrep = p->nrep; r < nrep; r++) {
                bm_replica *rp = &rep[r];
                if (r == li || !rp->in_isr)
                    continue;
                if (rp->leo >= leader_leo) {
                    if (now > rp->last_caught_up_us)
                        rp->last_caught_up_us = now;
                    rp->caught_up = true;
                    p->caught_up_any = true;
                    continue;
                }
                if (now - rp->last_caught_up_us > max_us) {
                    bm_isr_set(c, p, rp, false);
                    changed = true;
                } else {
                    bm__min_deadline(&next, rp->last_caught_up_us + max_us + 1);
                }
            }
            if (changed)
                bm_hw_update(c, p);
        }
    }
    c->isr_next = next;
    c->shrink_poll_us = now;
    return next;
}

/* Is any active follower (bm_broker_fetches) behind its leader or out of
 * the ISR (so a replication tick is needed)? Asked at every poll; the
 * answer is kept while no replica changes (c->pend_clean), and a leader's
 * append can only make it true (bm_leader_appended). */
static bool bm_replication_pending(bm_cluster *c) {
    if (c->pend_clean)
        return c->pending;
    c->pend_clean = true;
    c->pending = false;
    for (int32_t t = 0; t < c->ntopics; t++) {
        const bm_partition *parts = c->topics[t].parts;
        for (int32_t pi = 0, np = c->topics[t].npart; pi < np; pi++) {
            const bm_partition *p = &parts[pi];
            int32_t li = p->leader;
            if (li < 0)
                continue;
            const bm_replica *rep = p->rep;
            int64_t leader_leo = rep[li].leo;
            for (int32_t r = 0, nrep = p->nrep; r < nrep; r++)
                if ((rep[r].leo < leader_leo || !rep[r].in_isr) && r != li &&
                    bm_broker_fetches(c, rep[r].broker)) {
                    c->pending = true;
                    return true;
                }
        }
    }
    return false;
}

kp_time_us bm_cluster_poll(bm_cluster *c, kp_time_us now) {
    if (now < c->now)
        now = c->now;
    c->now = now;
    kp_time_us deadline = BM_TIME_NEVER;
    int64_t iv = c->conf.replica_fetch_interval_us;

    /* 1. replication fetches */
    if (c->next_tick_us != BM_TIME_NEVER && now >= c->next_tick_us) {
        bm_replication_tick(c, now);
        c->next_tick_us = BM_TIME_NEVER;
    }
    /* 2. ISR shrink */
    bm__min_deadline(&deadline, bm_isr_shrink(c, now));
    /* 3. transaction coordinator */
    bm__txn_poll(c, &deadline);
    /* 4. connections (a poll may close and remove one); one with no
     * request in progress and no unread input (its own or held for it by
     * a keeping carrier) has nothing to do, one whose acks=all wait would
     * find nothing done only its deadline to give */
    for (size_t i = 0; i < c->nconns;) {
        bm_conn *conn = c->conns[i];
        if (!conn->busy && conn->in_off == conn->in_len && !conn->kept_len) {
            i++;
            continue;
        }
        if (bm__conn_waits_unchanged(conn, bm__now(c))) { /* its poll's whole effect */
            bm__min_deadline(&deadline, conn->wait_deadline_us);
            i++;
            continue;
        }
        bm__conn_poll(conn, &deadline);
        if (i < c->nconns && c->conns[i] == conn)
            i++;
    }
    if (bm_replication_pending(c)) {
        if (c->next_tick_us == BM_TIME_NEVER || c->next_tick_us <= now)
            c->next_tick_us = (now / iv + 1) * iv;
        bm__min_deadline(&deadline, c->next_tick_us);
    }
    return deadline;
}

/* ==================================================================== */
/* Verification                                                          */
/* ==================================================================== */

const char *bm_cluster_verify(const bm_cluster *c) {
    for (int32_t t = 0; t < c->ntopics; t++)
        for (int32_t pi = 0; pi < c->topics[t].npart; pi++) {
            const bm_partition *p = &c->topics[t].parts[pi];
            int32_t nisr = 0;
            for (int32_t r = 0; r < p->nrep; r++)
                nisr += p->rep[r].in_isr;
            if (nisr != p->nisr)
                return "ISR size out of step with the ISR";
            for (int32_t r = 0; r < p->nrep; r++) {
                const bm_replica *rp = &p->rep[r];
                for (size_t i = 0; i < rp->n; i++) {
                    if (i > 0 && rp->log[i]->base_offset != rp->log[i - 1]->last_offset + 1)
                        return "replica log not contiguous";
                    if (rp->log[i]->refs == 0)
                        return "batch without references";
                }
                if (rp->n > 0 && rp->leo != rp->log[rp->n - 1]->last_offset + 1)
                    return "log end offset does not match the last batch";
                if (rp->n == 0 && rp->leo < bm__log_base(p))
                    return "empty log ends before the log start";
                if (rp->n > 0 && rp->log[0]->base_offset < p->fold_off)
                    return "a folded batch is still in a log";
                if (rp->mem && rp->log != rp->mem + rp->head)
                    return "replica log not inside its array";
            }
            if (p->leader < 0)
                continue;
            const bm_replica *l = &p->rep[p->leader];
            if (!l->in_isr)
                return "leader not in ISR";
            if (bm__lso(p) > p->hw)
                return "last stable offset above the high watermark";
            for (size_t i = 1; i < p->naborted; i++)
                if (p->aborted[i - 1].last_offset > p->aborted[i].last_offset)
                    return "aborted transaction index not in offset order";
            if (p->hw > l->leo)
                return "high watermark above the leader's log end";
            if (!p->hw_dirty) { /* what bm_hw_after_append counts on */
                int64_t least = l->leo;
                for (int32_t r = 0; r < p->nrep; r++)
                    if (p->rep[r].in_isr && p->rep[r].leo < least)
                        least = p->rep[r].leo;
                if (p->hw != least)
                    return "high watermark not the least LEO of the ISR while nothing changed";
            }
            for (int32_t r = 0; r < p->nrep; r++) {
                const bm_replica *rp = &p->rep[r];
                if (r == p->leader || !bm_broker_up(c, rp->broker))
                    continue;
                if (rp->in_isr && rp->leo < p->hw)
                    return "ISR member below the high watermark";
                if (rp->n > l->n)
                    return "live follower longer than its leader";
                for (size_t i = 0; i < rp->n; i++)
                    if (rp->log[i] != l->log[i])
                        return "live follower log not a prefix of the leader's";
            }
            for (int32_t r = 0; r < p->nrep; r++) {
                const bm_replica *rp = &p->rep[r];
                if (rp->same_n > rp->n || rp->same_n > l->n)
                    return "settle walk progress past a log's end";
                for (size_t i = 0; i < rp->same_n; i++)
                    if (rp->log[i] != l->log[i])
                        return "settle walk progress past where a log differs from the leader's";
            }
            if (c->settle_fn) {
                size_t ls = bm_log_find(l, p->settled);
                if (p->settled_n != ls)
                    return "settled batch count out of step with the settled offset";
                for (int32_t r = 0; r < p->nrep; r++) {
                    const bm_replica *rp = &p->rep[r];
                    if (bm_log_find(rp, p->settled) != ls)
                        return "a replica lacks a settled batch";
                    for (size_t i = 0; i < ls; i++)
                        if (rp->log[i] != l->log[i])
                            return "a replica lacks a settled batch";
                }
            }
            for (size_t i = 1; i < p->nprod; i++)
                if (p->prod[i - 1].pid >= p->prod[i].pid)
                    return "producer table not sorted";
            for (size_t i = 0; i < p->nprod; i++)
                if (p->prod[i].nb > BM_PRODUCER_WINDOW || p->prod[i].head < 0 ||
                    p->prod[i].head >= BM_PRODUCER_WINDOW ||
                    (p->prod[i].head > 0 && p->prod[i].nb < BM_PRODUCER_WINDOW))
                    return "producer window larger than 5";
            for (size_t i = 1; i < p->nopen; i++)
                if (p->open[i - 1].first_offset > p->open[i].first_offset)
                    return "open transactions not sorted";
        }
    return NULL;
}

/* ==================================================================== */
/* Reading the logs back                                                 */
/* ==================================================================== */

/* Transaction state of every batch of a log in one backward pass: a
 * transactional data batch takes the type of the first marker of its
 * producer after it (none yet: open). `pending` holds, per producer seen
 * while walking back, the type of its nearest later marker. */
static int *bm_txn_states(const bm_replica *l) {
    int *st = calloc(l->n + 1, sizeof(int));
    struct { int64_t pid; int type; } *later = NULL;
    size_t nlater = 0, caplater = 0;
    if (!st)
        return NULL;
    for (size_t i = l->n; i-- > 0;) {
        const bm_batch *b = l->log[i];
        if (b->ctrl_type >= 0) {
            st[i] = b->ctrl_type == 1 ? BM_TXN_COMMITTED : BM_TXN_ABORTED;
            size_t k = 0;
            while (k < nlater && later[k].pid != b->pid)
                k++;
            if (k == nlater) {
                void *arr = later;
                if (!bm__grow(&arr, &caplater, nlater + 1, sizeof *later)) {
                    free(later);
                    free(st);
                    return NULL;
                }
                later = arr;
                later[nlater++].pid = b->pid;
            }
            later[k].type = st[i];
        } else if (b->attributes & BM_ATTR_TRANSACTIONAL) {
            st[i] = BM_TXN_OPEN;
            for (size_t k = 0; k < nlater; k++)
                if (later[k].pid == b->pid)
                    st[i] = later[k].type;
        } else {
            st[i] = BM_TXN_NONE;
        }
    }
    free(later);
    return st;
}

/* Hands the records of one stored batch at or above `from` to fn (txs: its
 * BM_TXN_* state). Returns false when fn said stop or on an error (*err). */
static bool bm_emit_batch(const bm_partition *p, const bm_batch *b, int txs, int64_t from,
                          kp_dbuf *scratch, bm_record_fn *fn, void *ctx, kp_err *err) {
    bm_record_view v;
    memset(&v, 0, sizeof v);
    v.topic = p->topic->name;
    v.partition = p->id;
    v.producer_id = b->pid;
    v.producer_epoch = b->epoch;
    v.transactional = (b->attributes & BM_ATTR_TRANSACTIONAL) != 0;
    v.control = b->ctrl_type >= 0;
    v.txn_state = txs;
    if (b->digested) {
        if (!b->dig) {
            *err = KP_ERR__STATE; /* settled: handed out and dropped */
            return false;
        }
        v.timestamp = b->max_timestamp;
        v.key = v.value = KP_SLICE_NULL;
        v.header_count = -1;
        /* validated at append: offset deltas are exactly 0..count-1 */
        int32_t k = from > b->base_offset ? (int32_t)(from - b->base_offset) : 0;
        for (; k < b->count; k++) {
            v.offset = b->base_offset + k;
            v.digest = &b->dig[k];
            v.sequence = b->base_seq < 0 ? -1 : bm_seq_add(b->base_seq, k);
            v.committed = v.offset < p->hw;
            if (!fn(ctx, &v))
                return false;
        }
        return true;
    }
    kp_record_iter it;
    *err = kp_record_iter_init(&it, b->bytes, b->len, scratch);
    if (*err != KP_ERR_NONE)
        return false;
    kp_record rec;
    while (kp_record_iter_next(&it, &rec)) {
        if (rec.offset < from)
            continue;
        v.offset = rec.offset;
        v.timestamp = rec.timestamp;
        v.key = rec.key;
        v.value = rec.value;
        v.header_count = rec.header_count;
        v.sequence = b->base_seq < 0 ? -1 : bm_seq_add(b->base_seq, (int32_t)rec.offset_delta);
        v.committed = rec.offset < p->hw;
        if (!fn(ctx, &v))
            return false;
    }
    *err = it.err;
    return it.err == KP_ERR_NONE;
}

/* First index of r's log whose batch ends at or after `off`. */
static size_t bm_log_find(const bm_replica *r, int64_t off) {
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->log[mid]->last_offset < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Drops the first k batches of every replica's log (settled, so the same
 * pointers in all) once they are folded. */
static void bm_fold_drop(bm_cluster *c, bm_partition *p, size_t k) {
    bm_batch **log = p->rep[p->leader].log;
    p->fold_off = log[k - 1]->last_offset + 1;
    for (size_t i = 0; i < k; i++) {
        /* one reference per replica log, the same pointer in each */
        assert(log[i]->refs == (uint32_t)p->nrep);
        log[i]->refs -= (uint32_t)p->nrep - 1;
        bm_batch_unref(c, log[i]);
    }
    for (int32_t ri = 0; ri < p->nrep; ri++) {
        bm_replica *r = &p->rep[ri];
        r->log += k;
        r->head += k;
        r->n -= k;
        /* the walk that settled them went past them in every follower's
         * log (the leader's same_n is 0 since it leads) */
        assert(ri == p->leader ? r->same_n == 0 : r->same_n >= k);
        if (ri != p->leader)
            r->same_n -= k;
    }
    p->settled_n -= k;
}

/* The outcome (BM_TXN_COMMITTED / ABORTED) of the transactional data batch
 * l->log[i], from the first marker of its producer after it among the
 * batches below `bound`; 0 when there is none yet. The search takes up
 * where the last one for the same transaction stopped (p->txw), so a
 * transaction of m batches that stays open through m calls, then settles
 * batch by batch, costs O(m) in all, not O(m^2). */
static __attribute__((noinline)) int bm_settle_txn_outcome(bm_cluster *c, bm_partition *p,
                                                          const bm_replica *l, size_t i,
                                                          size_t bound) {
    const bm_batch *b = l->log[i];
    int64_t off = b->base_offset, end = l->log[bound - 1]->last_offset + 1;
    bm_txn_wait *tw = NULL;
    for (int32_t k = 0; k < BM_TXN_WAITS; k++)
        if (p->txw[k].pid == b->pid && p->txw[k].from <= off && off < p->txw[k].to) {
            tw = &p->txw[k];
            break;
        }
    size_t j = i + 1;
    if (tw) {
        if (tw->outcome) /* its marker, if already below the bound */
            return tw->to < end ? tw->outcome : 0;
        size_t at = bm_log_find(l, tw->to); /* the batch at `to`: not looked at */
        if (at > j)
            j = at;
    } else {
        tw = &p->txw[p->txw_next];
        p->txw_next = p->txw_next + 1 == BM_TXN_WAITS ? 0 : p->txw_next + 1;
        *tw = (bm_txn_wait){ .pid = b->pid, .from = off, .to = off + 1, .outcome = 0 };
    }
    for (; j < bound; j++) {
        const bm_batch *m = l->log[j];
        c->settle_steps++;
        if (m->ctrl_type >= 0 && m->pid == b->pid) {
            tw->to = m->base_offset;
            tw->outcome = m->ctrl_type == 1 ? BM_TXN_COMMITTED : BM_TXN_ABORTED;
            return tw->outcome;
        }
    }
    tw->to = end;
    return 0;
}

/* Hands out what became settled on p (bm_cluster_set_settler): the batches
 * after p->settled that every replica's log holds (the same pointers: a
 * batch is created once, so equal pointers mean an equal prefix), up to the
 * first transactional data batch whose marker is not among them. Each
 * replica's walk starts where its log is known to equal the leader's
 * (bm_replica.same_n), so batches waiting behind an open transaction are
 * compared once, not at every call. */
static void bm_settle(bm_cluster *c, bm_partition *p) {
    if (!c->settle_fn || p->leader < 0)
        return;
    bm_replica *l = &p->rep[p->leader];
    size_t a = p->settled_n; /* the batches below `settled`, in every log */
    /* the replica that lagged last holds nothing unsettled (the common
     * case after an append): nothing settles */
    if (p->rep[p->settle_lag].n <= a && p->settle_lag != p->leader)
        return;
    size_t bound = l->n;
    /* every replica holds the settled batches at the same indices (they
     * share the leader's prefix from the same log start). The replica that
     * lagged last time first: it bounds the others' walk (a broker down
     * for long must not make every call walk the rest); each replica once,
     * in turn from there */
    bm_replica *rep = p->rep;
    /* One unsettled batch (the common case: each tick's fetches bring a
     * partition's new batch to every follower): when every follower holds
     * it (known equal past it, or the same pointer there), the walk below
     * would find exactly that, in any order: each follower's same_n
     * becomes a + 1, a step counted where it compared. */
    bool walk = true;
    if (bound == a + 1) {
        const bm_batch *x = l->log[a];
        walk = false;
        for (int32_t ri = 0; ri < p->nrep; ri++) {
            const bm_replica *r = &rep[ri];
            if (r != l && !(r->n > a && (r->same_n > a || r->log[a] == x))) {
                walk = true;
                break;
            }
        }
        if (!walk)
            for (int32_t ri = 0; ri < p->nrep; ri++) {
                bm_replica *r = &rep[ri];
                if (r == l)
                    continue;
                c->settle_steps += r->same_n <= a;
                r->same_n = a + 1;
            }
    }
    for (int32_t i = 0, n = p->nrep, ri = p->settle_lag; walk && i < n && bound > a;
         i++, ri = ri + 1 == n ? 0 : ri + 1) {
        bm_replica *r = &rep[ri];
        if (r == l)
            continue;
        size_t end = r->n < bound ? r->n : bound;
        size_t k = r->same_n > a ? (r->same_n < end ? r->same_n : end) : a, k0 = k;
        while (k < end && r->log[k] == l->log[k])
            k++;
        c->settle_steps += k - k0;
        r->same_n = k; /* below where it was only when the bound is */
        if (k < bound) {
            p->settle_lag = ri;
            bound = k;
        }
    }
    /* Fold what settles (a digested log only: a byte log keeps its bytes
     * readable): `folded` batches from the front of the logs. Only when
     * nothing settled is left unfolded in front (a == 0; not so after a
     * failed fold, or when the digester came late). */
    bool fold = c->digest_fn && !p->fold_stuck;
    size_t folded = 0;
    for (size_t i = a; i < bound; i++) {
        bm_batch *b = l->log[i];
        int txs = BM_TXN_NONE;
        if (b->ctrl_type >= 0) {
            txs = b->ctrl_type == 1 ? BM_TXN_COMMITTED : BM_TXN_ABORTED;
        } else if (b->attributes & BM_ATTR_TRANSACTIONAL) {
            txs = bm_settle_txn_outcome(c, p, l, i, bound);
            if (!txs)
                break; /* its outcome is not settled yet */
        }
        int64_t skip = p->settled > b->base_offset ? p->settled - b->base_offset : 0;
        bm_settled_batch sb = {
            .topic = p->topic->name,
            .partition = p->id,
            .base_offset = b->base_offset + skip,
            .count = b->count - (int32_t)skip,
            .producer_id = b->pid,
            .producer_epoch = b->epoch,
            .control = b->ctrl_type >= 0,
            .txn_state = txs,
            .digests = b->dig ? b->dig + skip : NULL,
        };
        c->settle_fn(c->settle_ctx, &sb);
        b->dig = NULL; /* handed out: no longer readable (its memory goes with b) */
        p->settled = b->last_offset + 1;
        p->settled_n = i + 1;
        if (fold && folded == i) {
            if (bm_fold_apply(p, b, txs))
                folded++;
            else
                fold = false, p->fold_stuck = true;
        }
    }
    if (folded > 0)
        bm_fold_drop(c, p, folded);
}

int64_t bm_cluster_settled_offset(const bm_cluster *c, const char *topic, int32_t partition) {
    const bm_partition *p = bm__partition(c, topic, partition);
    return p ? p->settled : -1;
}

kp_err bm_cluster_read_log_from(const bm_cluster *c, const char *topic, int32_t partition,
                                int64_t from, bm_record_fn *fn, void *ctx) {
    const bm_partition *p = bm__partition(c, topic, partition);
    if (!p)
        return KP_ERR__NOENT;
    const bm_replica *l = bm__leader_rep(p);
    if (!l) {
        for (int32_t r = 0; r < p->nrep; r++)
            if (!l || p->rep[r].leo > l->leo)
                l = &p->rep[r];
    }
    if (from < p->fold_off && p->fold_off > p->log_start)
        return KP_ERR__STATE; /* folded: settled, handed out and dropped */
    int *states = bm_txn_states(l);
    if (!states)
        return KP_ERR__NOMEM;
    kp_dbuf scratch;
    kp_dbuf_init(&scratch, 0);
    kp_err err = KP_ERR_NONE;
    for (size_t i = bm_log_find(l, from); i < l->n; i++)
        if (!bm_emit_batch(p, l->log[i], states[i], from, &scratch, fn, ctx, &err))
            break;
    kp_dbuf_free(&scratch);
    free(states);
    return err;
}

kp_err bm_cluster_read_log(const bm_cluster *c, const char *topic, int32_t partition,
                           bm_record_fn *fn, void *ctx) {
    return bm_cluster_read_log_from(c, topic, partition, INT64_MIN, fn, ctx);
}
