/*
 * kp_accumulator.c — RecordAccumulator 2.1.1, single-threaded.
 *
 * Structures:
 *   topics[]   the interned topics (kp_acc_topic), in first-use order,
 *              each allocated on its own (a handle keeps its address for
 *              the accumulator's life) with its partitions by number
 *              (by_partition[p], NULL until p is used): the send path
 *              resolves a record's topic once and finds the deque by
 *              index. Lookups only, never iterated for ordering.
 *   parts[]    one entry per (topic, partition) in first-use order: the
 *              deque (doubly-linked batches, head = oldest) and the mute
 *              time. Iterations (ready, expired, abort) walk this array.
 *   incomplete doubly-linked list of every batch not yet deallocated, in
 *              creation order (Java's IncompleteBatches set).
 *   head_created_lb  no deque head was created before it: lowered by the
 *              deque operations whenever a batch becomes a head, exact
 *              after each expiry walk; the sender skips the walks while
 *              it (and its own bound for in-flight heads) is young.
 *   rq_*       ready()'s shortcut: after a walk that found nothing ready,
 *              the answer stands (no walk) until the earliest time a
 *              deque's answer changes, as long as the deques change only
 *              by new batches of empty deques (noted by the append); every
 *              other deque operation, mute and filling append clears it.
 *   recycling  free lists of batch structs (with their thunk columns) and
 *              of staging buffers, so steady-state appends never malloc.
 *              A batch's staging *capacity* (what bounds its records, so
 *              its batching) is taken from and given back to a list of
 *              capacities at creation and drain as it always was; the
 *              memory behind it is held only while the batch can take
 *              records: a batch that becomes full is compressed at once
 *              (kp_batch_seal, Java's closeForRecordAppends finishing the
 *              compressed stream) and its staging memory goes to a second
 *              free list. So the queued batches of a compressed producer
 *              hold their compressed bytes only (in the pooled buffers),
 *              not their uncompressed records.
 */
#include "kp_accumulator.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_batch_int.h"
#include "kp_events.h"

typedef struct acc_part {
    const char *topic;   /* interned */
    int32_t partition;
    /* the leader ready() found, for the cluster of that generation
     * (kp_cluster_generation; 0 = none yet): a cluster never changes */
    uint64_t leader_gen;
    int32_t leader;
    kp_batch *head, *tail;
    size_t count;
    int64_t muted_until; /* muted while > now; INT64_MIN = never muted */
    kp_hint txn_hint; /* for the transaction-manager hooks */
    kp_hint est_hint; /* for the compression estimator */
} acc_part;

/* Partitions from 0 to below this are found by index in their topic's
 * by_partition; any other number (never one of a real cluster) by a walk
 * of parts[]. */
#define KP_ACC_DIRECT_PARTITIONS (1 << 20)

struct kp_acc_topic {
    char *name;              /* interned: never written, lives with acc */
    size_t ix;               /* acc->topics[ix] == this */
    acc_part **by_partition; /* nby entries, NULL = partition not used yet */
    size_t nby;
};

typedef struct node_index {
    int32_t node;
    int32_t index;
} node_index;

typedef struct staging_buf {
    uint8_t *ptr;
    size_t cap;
} staging_buf;

#define MAX_FREE_STAGING 64
/* Staging memory is back in the list when a batch fills, just before the
 * next batch of its partition takes some: a few idle buffers suffice, and
 * each may be as big as KP__STAGING_MAX_BYTES. */
#define MAX_FREE_STAGING_MEM 16

struct kp_accumulator {
    /* config */
    int32_t batch_size;
    kp_codec codec;
    int64_t linger_ms;
    int64_t retry_backoff_ms;
    int64_t delivery_timeout_ms;
    bool shared_drain_index; /* bug.KAFKA-13834 */
    bool endless_split;       /* bug.KAFKA-8350: split pieces always at batch.size */
    kp_buffer_pool *pool;
    const kp_observer *obs;
    const kp_clock *clock;
    const kp_txn_hooks *txn;
    const kp_record_wrap *wrap; /* every batch's records complete through it */
    kp_compression_estimator *estimator;
    /* topics */
    kp_acc_topic **topics;
    size_t ntopics, topics_cap;
    /* partitions */
    acc_part **parts;
    size_t nparts, parts_cap;
    /* batches */
    kp_batch *inc_head, *inc_tail;
    size_t incomplete;
    kp_batch *free_batches;
    kp_batch *zombies;   /* aborted while in flight, freed at destroy or deallocate */
    /* capacities a new batch takes its staging_capacity from (ptr NULL) */
    staging_buf free_staging[MAX_FREE_STAGING];
    size_t nfree_staging;
    /* staging memory, best fit for a capacity */
    staging_buf free_mem[MAX_FREE_STAGING_MEM];
    size_t nfree_mem;
    kp_dbuf scratch;
    int64_t next_batch_id;
    /* drain */
    int32_t drain_index;           /* shared (2.1.1) */
    node_index *node_idx;          /* per node (fixed) */
    size_t nnode_idx, node_idx_cap;
    /* flags */
    bool closed;
    int flushes_in_progress;
    int64_t next_batch_expiry_ms;
    /* No deque head was created before this (INT64_MAX: no head seen):
     * lowered whenever a batch becomes a deque's head, set exactly by each
     * expiry walk (kp_accumulator_head_created_lb). */
    int64_t head_created_lb;
    /* ready()'s shortcut. rq_ok: since ready()'s last full walk (at
     * rq_since or earlier, cluster generation rq_gen), which found no node
     * ready and no leader unknown, the deques changed only by new batches
     * appended to empty deques (rq_note_new_head); every other change to a
     * deque, a mute or unmute, and an append that fills a batch or closes
     * it clear it. Then, for now in [rq_since, rq_until) with the same
     * generation, the pool not exhausted and neither closed nor flushing,
     * no deque is sendable, and the walk would give no node and a next
     * check delay of rq_next - now (INT64_MAX when rq_next is): rq_next is
     * the earliest time a waiting head's answer changes (its last attempt
     * + linger.ms, or + retry.backoff.ms while it backs off), rq_until the
     * earlier of that and a muted deque's unmute time. */
    bool rq_ok;
    uint64_t rq_gen;
    /* drain's topic lookup: the cluster's name dt_name (its own copy,
     * alive and unchanged with the cluster of generation dt_gen) is the
     * interned topic dt_topic (topics live as long as the accumulator) */
    const char *dt_name;
    uint64_t dt_gen;
    const kp_acc_topic *dt_topic;
    int64_t rq_since, rq_until, rq_next;
    /* result storage */
    int32_t *ready_nodes;
    size_t ready_cap;
    const char **unknown;
    size_t unknown_cap;
    kp_drained_node *drained_nodes;
    size_t drained_nodes_cap;
    kp_batch **drained;
    size_t drained_cap;
    kp_batch **expired;
    size_t expired_cap;
    kp_accumulator_stats stats;
};

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np)
        return false;
    *p = np;
    *cap = nc;
    return true;
}

static kp_time_us ev_time(int64_t now_ms) {
    return now_ms * 1000;
}

/* inline: the append path emits one to three of these per record, and
 * ready/drain one per batch */
static inline __attribute__((always_inline)) void emit_batch(const kp_accumulator *acc, int kind, int64_t now,
                                                              const kp_batch *b, int32_t node, int64_t value,
                                                              const char *detail) {
    if (!acc->obs || !acc->obs->on_event)
        return;
    kp_event ev;
    kp_event_init(&ev, kind, ev_time(now));
    ev.node = node;
    if (b) {
        ev.topic = b->h.topic;
        ev.partition = b->h.partition;
        ev.batch_id = b->h.id;
        ev.record_count = b->h.record_count;
        ev.bytes = b->closed ? b->records.len : (int32_t)kp_batch__est_written(b); /* kp_batch_estimated_size */
        ev.base_sequence = b->h.base_sequence;
        ev.attempt = b->h.attempts;
        ev.producer_id = b->h.producer_id;
        ev.producer_epoch = b->h.producer_epoch;
    }
    ev.value = value;
    ev.detail = detail;
    kp_observer_emit(acc->obs, &ev);
}

static void emit_part(const kp_accumulator *acc, int kind, int64_t now, const acc_part *p,
                      int64_t value) {
    if (!acc->obs || !acc->obs->on_event)
        return;
    kp_event ev;
    kp_event_init(&ev, kind, ev_time(now));
    ev.topic = p->topic;
    ev.partition = p->partition;
    ev.value = value;
    kp_observer_emit(acc->obs, &ev);
}

/* ------------------------------------------------------------------ */
/* Lifetime                                                             */
/* ------------------------------------------------------------------ */

kp_accumulator *kp_accumulator_new(const kp_config *cfg, kp_buffer_pool *pool,
                                   const kp_observer *obs) {
    kp_accumulator *acc = calloc(1, sizeof *acc);
    if (!acc)
        return NULL;
    acc->batch_size = cfg->batch_size;
    acc->codec = (kp_codec)cfg->compression_type;
    acc->linger_ms = cfg->linger_ms;
    acc->retry_backoff_ms = cfg->retry_backoff_ms;
    acc->delivery_timeout_ms = cfg->delivery_timeout_ms;
    acc->shared_drain_index = cfg->bug_kafka_13834;
    acc->endless_split = cfg->bug_kafka_8350;
    acc->pool = pool;
    acc->obs = obs;
    acc->estimator = kp_compression_estimator_new();
    acc->next_batch_id = 1;
    acc->next_batch_expiry_ms = INT64_MAX;
    acc->head_created_lb = INT64_MAX;
    kp_dbuf_init(&acc->scratch, 0);
    if (!acc->estimator) {
        free(acc);
        return NULL;
    }
    return acc;
}

void kp_accumulator_set_clock(kp_accumulator *acc, const kp_clock *clock) {
    acc->clock = clock;
}

static void release_staging(kp_accumulator *acc, kp_batch *b);

static void free_batch_memory(kp_accumulator *acc, kp_batch *b) {
    /* gives the pooled buffer back (not for split pieces) and frees b */
    if (!b->is_split_batch && !b->zombie && b->buffer)
        kp_buffer_pool_deallocate(acc->pool, b->buffer, b->capacity);
    if (!b->is_split_batch)
        release_staging(acc, b);
    kp_batch_destroy(b);
}

void kp_accumulator_destroy(kp_accumulator *acc) {
    if (!acc)
        return;
    kp_batch *b = acc->inc_head;
    while (b) {
        kp_batch *next = b->inc_next;
        free_batch_memory(acc, b);
        b = next;
    }
    b = acc->zombies;
    while (b) {
        kp_batch *next = b->free_next;
        free_batch_memory(acc, b);
        b = next;
    }
    b = acc->free_batches;
    while (b) {
        kp_batch *next = b->free_next;
        kp_batch__thunks_free(b);
        free(b);
        b = next;
    }
    for (size_t i = 0; i < acc->nfree_mem; i++)
        free(acc->free_mem[i].ptr);
    for (size_t i = 0; i < acc->nparts; i++)
        free(acc->parts[i]);
    free(acc->parts);
    for (size_t i = 0; i < acc->ntopics; i++) {
        free(acc->topics[i]->name);
        free(acc->topics[i]->by_partition);
        free(acc->topics[i]);
    }
    free(acc->topics);
    free(acc->node_idx);
    free(acc->ready_nodes);
    free(acc->unknown);
    free(acc->drained_nodes);
    free(acc->drained);
    free(acc->expired);
    kp_dbuf_free(&acc->scratch);
    kp_compression_estimator_destroy(acc->estimator);
    free(acc);
}

void kp_accumulator_set_txn_hooks(kp_accumulator *acc, const kp_txn_hooks *hooks) {
    acc->txn = hooks;
}

void kp_accumulator_set_record_wrap(kp_accumulator *acc, const kp_record_wrap *wrap) {
    acc->wrap = wrap;
}

kp_compression_estimator *kp_accumulator_estimator(kp_accumulator *acc) {
    return acc->estimator;
}

/* ------------------------------------------------------------------ */
/* Partition table                                                      */
/* ------------------------------------------------------------------ */

/* The interned topic named `topic` (by address, else by content), NULL if
 * never seen. */
static kp_acc_topic *topic_find(const kp_accumulator *acc, const char *topic) {
    for (size_t i = 0; i < acc->ntopics; i++)
        if (acc->topics[i]->name == topic || strcmp(acc->topics[i]->name, topic) == 0)
            return acc->topics[i];
    return NULL;
}

kp_acc_topic *kp_accumulator_topic(kp_accumulator *acc, const char *topic) {
    kp_acc_topic *t = topic_find(acc, topic);
    if (t)
        return t;
    if (!grow((void **)&acc->topics, &acc->topics_cap, acc->ntopics + 1, sizeof *acc->topics))
        return NULL;
    t = calloc(1, sizeof *t);
    if (!t || !(t->name = strdup(topic))) {
        free(t);
        return NULL;
    }
    t->ix = acc->ntopics;
    acc->topics[acc->ntopics++] = t;
    return t;
}

const char *kp_acc_topic_name(const kp_acc_topic *t) {
    return t->name;
}

size_t kp_acc_topic_index(const kp_acc_topic *t) {
    return t->ix;
}

/* topic_part past the direct table: a partition number too large for
 * it, walked for in every deque. */
static __attribute__((noinline)) acc_part *topic_part_walk(const kp_accumulator *acc, const kp_acc_topic *t, int32_t partition) {
    if (partition >= 0 && partition < KP_ACC_DIRECT_PARTITIONS)
        return NULL;
    for (size_t i = 0; i < acc->nparts; i++)
        if (acc->parts[i]->topic == t->name && acc->parts[i]->partition == partition)
            return acc->parts[i];
    return NULL;
}

/* The deque of partition `partition` of topic t, NULL if none yet.
 * Inline: once or twice per send. */
static inline acc_part *topic_part(const kp_accumulator *acc, const kp_acc_topic *t, int32_t partition) {
    if ((uint32_t)partition < t->nby)
        return t->by_partition[partition];
    return topic_part_walk(acc, t, partition);
}

static inline acc_part *find_part(const kp_accumulator *acc, const char *topic, int32_t partition) {
    const kp_acc_topic *t = topic_find(acc, topic);
    return t ? topic_part(acc, t, partition) : NULL;
}

/* getOrCreateDeque */
static acc_part *get_or_create_part_t(kp_accumulator *acc, kp_acc_topic *t, int32_t partition) {
    acc_part *p = topic_part(acc, t, partition);
    if (p)
        return p;
    bool direct = partition >= 0 && partition < KP_ACC_DIRECT_PARTITIONS;
    if (direct && (size_t)partition >= t->nby) {
        size_t n = t->nby ? t->nby * 2 : 8;
        while (n <= (size_t)partition)
            n *= 2;
        acc_part **nb = realloc(t->by_partition, n * sizeof *nb);
        if (!nb)
            return NULL;
        memset(nb + t->nby, 0, (n - t->nby) * sizeof *nb);
        t->by_partition = nb;
        t->nby = n;
    }
    if (!grow((void **)&acc->parts, &acc->parts_cap, acc->nparts + 1, sizeof *acc->parts))
        return NULL;
    p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->topic = t->name;
    p->partition = partition;
    p->muted_until = INT64_MIN;
    acc->parts[acc->nparts++] = p;
    if (direct)
        t->by_partition[partition] = p;
    return p;
}

static acc_part *get_or_create_part(kp_accumulator *acc, const char *topic, int32_t partition) {
    kp_acc_topic *t = kp_accumulator_topic(acc, topic);
    return t ? get_or_create_part_t(acc, t, partition) : NULL;
}

/* ------------------------------------------------------------------ */
/* Deque and incomplete-set primitives                                  */
/* ------------------------------------------------------------------ */

/* b became a deque's head */
static void dq_new_head(kp_accumulator *acc, const kp_batch *b) {
    if (b->created_ms < acc->head_created_lb)
        acc->head_created_lb = b->created_ms;
}

static void dq_push_back(kp_accumulator *acc, acc_part *p, kp_batch *b) {
    acc->rq_ok = false; /* a new head may be noted again: rq_note_new_head */
    b->dq_prev = p->tail;
    b->dq_next = NULL;
    if (p->tail) {
        p->tail->dq_next = b;
    } else {
        p->head = b;
        dq_new_head(acc, b);
    }
    p->tail = b;
    p->count++;
    b->in_deque = true;
    b->part = p;
}

static void dq_push_front(kp_accumulator *acc, acc_part *p, kp_batch *b) {
    acc->rq_ok = false;
    b->dq_next = p->head;
    b->dq_prev = NULL;
    if (p->head)
        p->head->dq_prev = b;
    else
        p->tail = b;
    p->head = b;
    dq_new_head(acc, b);
    p->count++;
    b->in_deque = true;
    b->part = p;
}

/* inserts b before `at` (at NULL: at the back) */
static void dq_insert_before(kp_accumulator *acc, acc_part *p, kp_batch *at, kp_batch *b) {
    if (!at) {
        dq_push_back(acc, p, b);
        return;
    }
    if (at == p->head) {
        dq_push_front(acc, p, b);
        return;
    }
    acc->rq_ok = false;
    b->dq_prev = at->dq_prev;
    b->dq_next = at;
    at->dq_prev->dq_next = b;
    at->dq_prev = b;
    p->count++;
    b->in_deque = true;
    b->part = p;
}

static void dq_remove(kp_accumulator *acc, acc_part *p, kp_batch *b) {
    if (!b->in_deque)
        return;
    acc->rq_ok = false;
    if (b->dq_prev) {
        b->dq_prev->dq_next = b->dq_next;
    } else {
        p->head = b->dq_next;
        if (p->head)
            dq_new_head(acc, p->head);
    }
    if (b->dq_next)
        b->dq_next->dq_prev = b->dq_prev;
    else
        p->tail = b->dq_prev;
    b->dq_prev = b->dq_next = NULL;
    b->in_deque = false;
    p->count--;
}

static void inc_add(kp_accumulator *acc, kp_batch *b) {
    b->inc_prev = acc->inc_tail;
    b->inc_next = NULL;
    if (acc->inc_tail)
        acc->inc_tail->inc_next = b;
    else
        acc->inc_head = b;
    acc->inc_tail = b;
    b->in_incomplete = true;
    acc->incomplete++;
}

static void inc_remove(kp_accumulator *acc, kp_batch *b) {
    if (!b->in_incomplete)
        return;
    if (b->inc_prev)
        b->inc_prev->inc_next = b->inc_next;
    else
        acc->inc_head = b->inc_next;
    if (b->inc_next)
        b->inc_next->inc_prev = b->inc_prev;
    else
        acc->inc_tail = b->inc_prev;
    b->inc_prev = b->inc_next = NULL;
    b->in_incomplete = false;
    acc->incomplete--;
}

/* ------------------------------------------------------------------ */
/* Recycling                                                            */
/* ------------------------------------------------------------------ */

/* Staging buffers come in size classes (multiples of a quarter of
 * batch.size, at least 1 KiB) so that the small moves of the compression
 * ratio estimate map to the same class and buffers get reused; the
 * smallest free buffer that fits is taken (best fit), so the big ones stay
 * available for the big needs. */
static size_t staging_class(const kp_accumulator *acc, size_t need) {
    size_t q = (size_t)acc->batch_size / 4;
    if (q < 1024)
        q = 1024;
    return (need + q - 1) / q * q;
}

/* Best fit in a free list: the smallest entry of at least `need`, taken
 * out (the last entry moves into its place); false when none fits. */
static bool staging_list_take(staging_buf *list, size_t *n, size_t need, staging_buf *out) {
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < *n; i++) {
        size_t c = list[i].cap;
        if (c >= need && (best == SIZE_MAX || c < list[best].cap))
            best = i;
    }
    if (best == SIZE_MAX)
        return false;
    *out = list[best];
    list[best] = list[--*n];
    return true;
}

/* Into a free list of at most `max`; full: the smallest of it and e is
 * dropped (the one least likely to fit later) and its memory, if any,
 * freed. */
static void staging_list_put(staging_buf *list, size_t *n, size_t max, staging_buf e) {
    if (*n < max) {
        list[(*n)++] = e;
        return;
    }
    size_t small = 0;
    for (size_t i = 1; i < *n; i++)
        if (list[i].cap < list[small].cap)
            small = i;
    if (list[small].cap < e.cap) {
        free(list[small].ptr);
        list[small] = e;
    } else {
        free(e.ptr);
    }
}

/* A new batch's staging: its capacity from the capacity list (else the
 * size class of `need`), memory of at least that from the memory list
 * (else malloc). NULL when out of memory. */
static uint8_t *take_staging(kp_accumulator *acc, size_t need, size_t *cap, size_t *alloc) {
    staging_buf e;
    if (staging_list_take(acc->free_staging, &acc->nfree_staging, need, &e))
        *cap = e.cap;
    else
        *cap = staging_class(acc, need);
    if (staging_list_take(acc->free_mem, &acc->nfree_mem, *cap, &e)) {
        *alloc = e.cap;
        return e.ptr;
    }
    uint8_t *p = malloc(*cap);
    if (p) {
        acc->stats.staging_mallocs++;
        *alloc = *cap;
    }
    return p;
}

/* The staging memory of a batch that takes no more records and whose
 * bytes are built outside it (the capacity stays the batch's). */
static void release_staging_memory(kp_accumulator *acc, kp_batch *b) {
    if (!b->staging)
        return;
    staging_list_put(acc->free_mem, &acc->nfree_mem, MAX_FREE_STAGING_MEM,
                     (staging_buf){ b->staging, b->staging_alloc });
    b->staging = NULL;
    b->staging_alloc = 0;
}

static void release_staging(kp_accumulator *acc, kp_batch *b) {
    if (b->staging_capacity)
        staging_list_put(acc->free_staging, &acc->nfree_staging, MAX_FREE_STAGING,
                         (staging_buf){ NULL, b->staging_capacity });
    release_staging_memory(acc, b);
    b->staging_capacity = 0;
}

static kp_batch *take_batch_struct(kp_accumulator *acc) {
    kp_batch *b = acc->free_batches;
    if (b) {
        acc->free_batches = b->free_next;
        acc->stats.batches_recycled++;
        return b;
    }
    b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    if (!kp_batch__thunks_alloc(b)) {
        free(b);
        return NULL;
    }
    acc->stats.batch_struct_mallocs++;
    return b;
}

static void recycle_batch_struct(kp_accumulator *acc, kp_batch *b) {
    acc->stats.thunk_growths += b->thunk_growths;
    b->free_next = acc->free_batches;
    acc->free_batches = b;
}

/* ------------------------------------------------------------------ */
/* append                                                               */
/* ------------------------------------------------------------------ */

static void put_err(char *errbuf, size_t n, const char *msg) {
    if (errbuf && n)
        snprintf(errbuf, n, "%s", msg);
}

/* A new batch b became the only one of p's deque while ready()'s shortcut
 * held (dq_push_back has cleared it): it holds again when b's deque
 * answers as the walk would, at a time known now. */
static void rq_note_new_head(kp_accumulator *acc, const acc_part *p, const kp_batch *b) {
    if (p->count != 1 || p->leader_gen != acc->rq_gen || p->leader == KP_NO_LEADER ||
        p->muted_until > acc->rq_since || b->h.attempts > 0 || kp_batch__is_full(b))
        return;
    int64_t la = b->last_attempt_ms, wait = acc->linger_ms; /* not retried: lingers */
    if (la > INT64_MAX - wait || la >= acc->rq_until)
        return;
    if (la + wait < acc->rq_next)
        acc->rq_next = la + wait;
    if (la + wait < acc->rq_until)
        acc->rq_until = la + wait;
    if (la > acc->rq_since)
        acc->rq_since = la; /* the walk's arithmetic needs now >= la */
    acc->rq_ok = true;
}

/* RecordAccumulator.tryAppend: into the last batch of the deque. */
static inline __attribute__((always_inline)) bool try_append_last(kp_accumulator *acc, acc_part *p, int64_t ts, kp_slice key,
                            kp_slice value, const kp_header *h, int nh, size_t kvh,
                            kp_record_cb *cb, void *ctx, int64_t now, kp_append_result *res) {
    kp_batch *last = p->tail;
    if (!last)
        return false;
    int32_t rel;
    if (!kp_batch__try_append_kvh(last, ts, key, value, h, nh, kvh, cb, ctx, now, &rel)) {
        if (!last->closed_for_appends)
            emit_batch(acc, KP_EV_BATCH_FULL, now, last, -1, -1, "no room for the next record");
        kp_batch_close_for_appends(last);
        acc->rq_ok = false; /* full now */
        /* its bytes now (a codec failure is left to close, at drain) */
        if (!last->is_split_batch && kp_batch_seal(last, &acc->scratch) == KP_ERR_NONE &&
            last->built && !last->records_in_staging)
            release_staging_memory(acc, last);
        return false;
    }
    /* isFull once: nothing between the two uses changes the batch */
    bool full = kp_batch__is_full(last);
    if (full)
        acc->rq_ok = false;
    res->batch = last;
    res->relative_offset = rel;
    res->batch_is_full = p->count > 1 || full;
    res->new_batch_created = false;
    res->wake_sender = res->batch_is_full;
    acc->stats.appends++;
    emit_batch(acc, KP_EV_APPEND, now, last, -1, rel, NULL);
    if (full)
        emit_batch(acc, KP_EV_BATCH_FULL, now, last, -1, -1, "full");
    return true;
}

/* RecordAccumulator.append with abortOnNewBatch: tryAppend on the last
 * batch, or "abort for a new batch" (here: the answer, nothing appended). */
bool kp_accumulator_would_start_new_batch(const kp_accumulator *acc, const char *topic, int32_t partition,
                                          int64_t timestamp, kp_slice key, kp_slice value,
                                          const kp_header *headers, int header_count) {
    return kp_accumulator_would_start_new_batch_kvh(acc, topic, partition, timestamp,
                                                    kp_record_kvh_size(key, value, headers, header_count));
}

static bool would_start_new_batch(const acc_part *p, int64_t timestamp, size_t kvh) {
    if (!p || !p->tail)
        return true;
    return !kp_batch__has_room_kvh(p->tail, timestamp, kvh);
}

bool kp_accumulator_would_start_new_batch_kvh(const kp_accumulator *acc, const char *topic,
                                              int32_t partition, int64_t timestamp, size_t kvh) {
    return would_start_new_batch(find_part(acc, topic, partition), timestamp, kvh);
}

bool kp_accumulator_would_start_new_batch_t(const kp_accumulator *acc, const kp_acc_topic *t,
                                            int32_t partition, int64_t timestamp, size_t kvh) {
    return would_start_new_batch(topic_part(acc, t, partition), timestamp, kvh);
}

kp_append_status kp_accumulator_append(kp_accumulator *acc, const char *topic, int32_t partition,
                                       int64_t timestamp, kp_slice key, kp_slice value,
                                       const kp_header *headers, int header_count,
                                       kp_record_cb *cb, void *cb_ctx, int64_t now,
                                       int64_t max_block_ms, kp_pool_waiter *waiter,
                                       kp_append_result *res, kp_err *err, char *errbuf,
                                       size_t errbuf_len) {
    kp_acc_topic *t = kp_accumulator_topic(acc, topic);
    if (!t) {
        memset(res, 0, sizeof *res);
        *err = KP_ERR__NOMEM;
        put_err(errbuf, errbuf_len, "out of memory");
        return KP_APPEND_ERROR;
    }
    return kp_accumulator_append_t(acc, t, partition, timestamp, key, value, headers, header_count,
                                   kp_record_kvh_size(key, value, headers, header_count), cb, cb_ctx,
                                   now, max_block_ms, waiter, res, err, errbuf, errbuf_len);
}

/* Inline into the producer's send with the LTO build (and the append of
 * a record to the last batch, try_append_last, inline here): the call of
 * eighteen arguments, its frame and the send's spills around it were
 * ~30 instructions of every record. An external definition too, for the
 * other callers and the builds without LTO. */
__attribute__((always_inline)) inline kp_append_status
kp_accumulator_append_t(kp_accumulator *acc, kp_acc_topic *topic, int32_t partition, int64_t timestamp,
                        kp_slice key, kp_slice value, const kp_header *headers, int header_count, size_t kvh,
                        kp_record_cb *cb, void *cb_ctx, int64_t now, int64_t max_block_ms, kp_pool_waiter *waiter,
                        kp_append_result *res, kp_err *err, char *errbuf, size_t errbuf_len) {
    memset(res, 0, sizeof *res);
    *err = KP_ERR_NONE;
    uint8_t *buffer = NULL;
    size_t size = 0;

    if (waiter && waiter->state == KP_WAITER_FAILED) {
        *err = waiter->err;
        kp_pool_waiter_message(waiter, errbuf, errbuf_len);
        waiter->state = KP_WAITER_IDLE;
        return KP_APPEND_ERROR;
    }
    if (waiter && waiter->state == KP_WAITER_SERVED) {
        size = waiter->size;
        buffer = kp_pool_waiter_take_buffer(waiter);
    }
    assert(!waiter || waiter->state == KP_WAITER_IDLE);

    acc_part *p = get_or_create_part_t(acc, topic, partition);
    if (!p) {
        if (buffer)
            kp_buffer_pool_deallocate(acc->pool, buffer, size);
        *err = KP_ERR__NOMEM;
        put_err(errbuf, errbuf_len, "out of memory");
        return KP_APPEND_ERROR;
    }
    if (acc->closed) {
        if (buffer)
            kp_buffer_pool_deallocate(acc->pool, buffer, size);
        *err = KP_ERR__CLOSED;
        put_err(errbuf, errbuf_len, "Producer closed while send in progress");
        return KP_APPEND_ERROR;
    }
    /* check if we have an in-progress batch */
    if (try_append_last(acc, p, timestamp, key, value, headers, header_count, kvh, cb, cb_ctx, now,
                        res)) {
        if (buffer) /* Java's finally: the buffer we waited for is not needed */
            kp_buffer_pool_deallocate(acc->pool, buffer, size);
        return KP_APPEND_OK;
    }

    if (!buffer) {
        /* we don't have an in-progress record batch: allocate a new one */
        int32_t ub = kp_record_size_upper_bound_kvh(kvh);
        size = (size_t)(ub > acc->batch_size ? ub : acc->batch_size);
        buffer = kp_buffer_pool_take_pooled(acc->pool, size);
        if (!buffer) {
            kp_pool_status st = kp_buffer_pool_allocate(acc->pool, size, now, max_block_ms, waiter,
                                                        &buffer, err, errbuf, errbuf_len);
            if (st == KP_POOL_WOULD_BLOCK)
                return KP_APPEND_WOULD_BLOCK;
            if (st == KP_POOL_ERROR)
                return KP_APPEND_ERROR;
        }
        /* the Java code re-checks `closed` and tryAppend here: nothing can
         * have changed in between on a single thread */
    }

    kp_batch *b = take_batch_struct(acc);
    uint8_t *staging = NULL;
    size_t staging_cap = 0, staging_alloc = 0;
    /* the ProducerBatch constructor's CompressionRatioEstimator.estimation,
     * asked once here: it also sizes a codec's staging */
    float ratio = kp_compression_estimator_get_h(acc->estimator, p->topic, acc->codec, &p->est_hint);
    if (b && acc->codec != KP_CODEC_NONE)
        staging = take_staging(acc, kp_batch_staging_size(acc->codec, size, ratio), &staging_cap,
                               &staging_alloc);
    if (!b || (acc->codec != KP_CODEC_NONE && !staging)) {
        if (b)
            recycle_batch_struct(acc, b);
        free(staging);
        kp_buffer_pool_deallocate(acc->pool, buffer, size);
        *err = KP_ERR__NOMEM;
        put_err(errbuf, errbuf_len, "out of memory");
        return KP_APPEND_ERROR;
    }
    kp_batch_params bp = {
        .topic = p->topic,
        .partition = p->partition,
        .batch_id = acc->next_batch_id++,
        .buffer = buffer,
        .capacity = size,
        .codec = acc->codec,
        .now_ms = now,
        .estimator = acc->estimator,
        .est_hint = p->est_hint,
        .has_est_ratio = true,
        .est_ratio = ratio,
        .staging = staging,
        .staging_capacity = staging_cap,
        .is_split_batch = false,
        .obs = acc->obs,
        .clock = acc->clock,
        .wrap = acc->wrap,
    };
    kp_batch__init(b, &bp);
    b->staging_alloc = staging_alloc;
    int32_t rel = 0;
    if (!kp_batch__try_append_kvh(b, timestamp, key, value, headers, header_count, kvh, cb, cb_ctx,
                                 now, &rel)) {
        /* cannot happen: a new batch always takes its first record */
        release_staging(acc, b);
        recycle_batch_struct(acc, b);
        kp_buffer_pool_deallocate(acc->pool, buffer, size);
        *err = KP_ERR__STATE;
        put_err(errbuf, errbuf_len, "a new batch refused its first record");
        return KP_APPEND_ERROR;
    }
    bool rq_was_ok = acc->rq_ok;
    dq_push_back(acc, p, b);
    if (rq_was_ok)
        rq_note_new_head(acc, p, b);
    inc_add(acc, b);
    acc->stats.batches_created++;
    acc->stats.appends++;
    res->batch = b;
    res->relative_offset = rel;
    res->batch_is_full = p->count > 1 || kp_batch__is_full(b);
    res->new_batch_created = true;
    res->wake_sender = true;
    emit_batch(acc, KP_EV_BATCH_CREATED, now, b, -1, (int64_t)size, NULL);
    emit_batch(acc, KP_EV_APPEND, now, b, -1, rel, NULL);
    if (kp_batch__is_full(b))
        emit_batch(acc, KP_EV_BATCH_FULL, now, b, -1, -1, "full");
    return KP_APPEND_OK;
}

/* ------------------------------------------------------------------ */
/* ready                                                                */
/* ------------------------------------------------------------------ */

static bool part_muted(const acc_part *p, int64_t now) {
    return p->muted_until > now;
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

void kp_accumulator_ready(kp_accumulator *acc, const kp_cluster *cl, int64_t now,
                          kp_ready_result *out) {
    size_t nready = 0, nunknown = 0;
    int64_t next_delay = INT64_MAX;
    bool exhausted = kp_buffer_pool_queued(acc->pool) > 0;
    bool flushing = acc->flushes_in_progress > 0;
    uint64_t gen = kp_cluster_generation(cl);
    if (acc->rq_ok && gen == acc->rq_gen && now >= acc->rq_since && now < acc->rq_until && !exhausted &&
        !flushing && !acc->closed) {
        /* what the walk would find (see rq_ok) */
        out->ready_nodes = acc->ready_nodes;
        out->ready_count = 0;
        out->next_ready_check_delay_ms = acc->rq_next == INT64_MAX ? INT64_MAX : acc->rq_next - now;
        out->unknown_leader_topics = acc->unknown;
        out->unknown_leader_count = 0;
        return;
    }
    /* the shortcut's bounds, kept by the walk below: the earliest unmute
     * of a muted deque, and whether every head's last attempt is past */
    int64_t unmute_min = INT64_MAX;
    bool la_past = true;
    for (size_t i = 0; i < acc->nparts; i++) {
        acc_part *p = acc->parts[i];
        /* An empty deque is skipped whatever its leader (Java looks the
         * leader up first, then finds no batch): no lookup for it. */
        if (!p->head)
            continue;
        if (p->leader_gen != gen) {
            p->leader = kp_cluster_leader_for(cl, p->topic, p->partition);
            p->leader_gen = gen;
        }
        int32_t leader = p->leader;
        if (leader == KP_NO_LEADER) {
            /* leader unknown but messages are available to send */
            bool seen = false;
            for (size_t k = 0; k < nunknown; k++)
                if (acc->unknown[k] == p->topic)
                    seen = true;
            if (!seen && grow((void **)&acc->unknown, &acc->unknown_cap, nunknown + 1,
                              sizeof *acc->unknown)) {
                acc->unknown[nunknown++] = p->topic;
                emit_part(acc, KP_EV_UNKNOWN_LEADER, now, p, -1);
            }
            continue;
        }
        bool already = false;
        for (size_t k = 0; k < nready; k++)
            if (acc->ready_nodes[k] == leader)
                already = true;
        if (already)
            continue;
        if (part_muted(p, now)) {
            if (p->muted_until < unmute_min)
                unmute_min = p->muted_until;
            continue;
        }
        kp_batch *b = p->head;
        int64_t waited = kp_batch__waited_ms(b, now);
        bool backing_off = b->h.attempts > 0 && waited < acc->retry_backoff_ms;
        int64_t time_to_wait = backing_off ? acc->retry_backoff_ms : acc->linger_ms;
        /* full || expired || exhausted || closed || flushing, the cheap
         * tests first (all are pure) */
        bool sendable = waited >= time_to_wait || exhausted || acc->closed || flushing || p->count > 1 ||
                        kp_batch__is_full(b);
        if (sendable && !backing_off) {
            if (grow((void **)&acc->ready_nodes, &acc->ready_cap, nready + 1,
                     sizeof *acc->ready_nodes))
                acc->ready_nodes[nready++] = leader;
        } else {
            int64_t left = time_to_wait - waited;
            if (left < 0)
                left = 0;
            if (left < next_delay)
                next_delay = left;
            la_past &= b->last_attempt_ms <= now;
        }
    }
    /* the shortcut holds from here when nothing was ready and every
     * answer's change is ahead at a known time: with now >= every head's
     * last attempt, each waiting deque's left is (its change time - now) */
    acc->stats.ready_walks++;
    acc->rq_ok = nready == 0 && nunknown == 0 && la_past && !exhausted && !flushing && !acc->closed &&
                 (next_delay == INT64_MAX || next_delay <= INT64_MAX - now);
    if (acc->rq_ok) {
        acc->rq_gen = gen;
        acc->rq_since = now;
        acc->rq_next = next_delay == INT64_MAX ? INT64_MAX : now + next_delay;
        acc->rq_until = unmute_min < acc->rq_next ? unmute_min : acc->rq_next;
    }
    if (nready > 1)
        qsort(acc->ready_nodes, nready, sizeof *acc->ready_nodes, cmp_i32);
    out->ready_nodes = acc->ready_nodes;
    out->ready_count = nready;
    out->next_ready_check_delay_ms = next_delay;
    out->unknown_leader_topics = acc->unknown;
    out->unknown_leader_count = nunknown;
    for (size_t k = 0; k < nready; k++)
        emit_batch(acc, KP_EV_READY, now, NULL, acc->ready_nodes[k], next_delay, NULL);
}

/* ------------------------------------------------------------------ */
/* drain                                                                */
/* ------------------------------------------------------------------ */

/* shouldStopDrainBatchesForPartition (2.1.1) */
static bool should_stop_drain(const kp_accumulator *acc, const kp_batch *first, acc_part *p) {
    const kp_txn_hooks *t = acc->txn;
    if (!t)
        return false;
    /* if (!transactionManager.isSendToPartitionAllowed(tp)) return true; */
    if (t->send_allowed && !t->send_allowed(t->ctx, p->topic, p->partition))
        return true;
    /* if (!producerIdAndEpoch.isValid()) return true; */
    int64_t pid = KP_NO_PRODUCER_ID;
    int16_t epoch = KP_NO_PRODUCER_EPOCH;
    if (!t->producer_id_and_epoch || !t->producer_id_and_epoch(t->ctx, &pid, &epoch))
        return true;
    /* if (!first.hasSequence() && hasUnresolvedSequence(tp)) return true; */
    if (!kp_batch_has_sequence(first) && t->has_unresolved_sequence &&
        t->has_unresolved_sequence(t->ctx, p->topic, p->partition, &p->txn_hint))
        return true;
    /* firstInFlightSequence != NO_SEQUENCE && first.hasSequence() &&
     * first.baseSequence() != firstInFlightSequence -> return true */
    int32_t first_in_flight = t->first_in_flight_sequence
                                  ? t->first_in_flight_sequence(t->ctx, p->topic, p->partition, &p->txn_hint)
                                  : KP_NO_SEQUENCE;
    if (first_in_flight != KP_NO_SEQUENCE && kp_batch_has_sequence(first) &&
        first->h.base_sequence != first_in_flight)
        return true;
    return false;
}

static int32_t *node_drain_index(kp_accumulator *acc, int32_t node) {
    for (size_t i = 0; i < acc->nnode_idx; i++)
        if (acc->node_idx[i].node == node)
            return &acc->node_idx[i].index;
    if (!grow((void **)&acc->node_idx, &acc->node_idx_cap, acc->nnode_idx + 1,
              sizeof *acc->node_idx))
        return NULL;
    acc->node_idx[acc->nnode_idx] = (node_index){ node, 0 };
    return &acc->node_idx[acc->nnode_idx++].index;
}

static bool push_drained(kp_accumulator *acc, size_t *n, kp_batch *b) {
    if (!grow((void **)&acc->drained, &acc->drained_cap, *n + 1, sizeof *acc->drained))
        return false;
    acc->drained[(*n)++] = b;
    return true;
}

/* drainBatchesForOneNode. The two drain-index variants:
 *   2.1.1 (bug.KAFKA-13834): `start = drainIndex = drainIndex % size`, then
 *     per step `drainIndex = (drainIndex + 1) % size` BEFORE the checks, on
 *     one index shared by every node;
 *   fixed (later Kafka): the node's own index, updated to the partition
 *     being looked at (updateDrainIndex) before stepping. */
static void drain_node(kp_accumulator *acc, const kp_cluster *cl, int32_t node, int32_t max_size,
                       int64_t now, size_t *ndrained) {
    const kp_tp *parts;
    size_t nparts = kp_cluster_partitions_for_node(cl, node, &parts);
    if (nparts == 0)
        return;
    uint64_t gen = kp_cluster_generation(cl);
    int32_t fallback = 0;
    int32_t *idx = acc->shared_drain_index ? &acc->drain_index : node_drain_index(acc, node);
    if (!idx)
        idx = &fallback;
    int64_t size = 0;
    size_t taken = 0;
    int32_t n = (int32_t)nparts;
    int32_t cur = *idx % n;
    int32_t start = cur;
    if (acc->shared_drain_index)
        *idx = cur;
    do {
        const kp_tp *tp = &parts[cur];
        if (!acc->shared_drain_index)
            *idx = cur; /* updateDrainIndex(node, drainIndex) */
        cur = (cur + 1) % n;
        if (acc->shared_drain_index)
            *idx = cur; /* this.drainIndex = (this.drainIndex + 1) % parts.size() */

        const kp_acc_topic *at = acc->dt_topic;
        if (tp->topic != acc->dt_name || gen != acc->dt_gen) {
            at = topic_find(acc, tp->topic);
            if (at) {
                acc->dt_name = tp->topic;
                acc->dt_gen = gen;
                acc->dt_topic = at;
            }
        }
        acc_part *p = at ? topic_part(acc, at, tp->partition) : NULL;
        /* Only proceed if the partition has no in-flight batches. */
        if (!p || part_muted(p, now))
            continue;
        kp_batch *first = p->head;
        if (!first)
            continue;
        /* Only drain the batch if it is not during backoff period. */
        bool backoff = first->h.attempts > 0 && kp_batch__waited_ms(first, now) < acc->retry_backoff_ms;
        if (backoff)
            continue;
        if (size + kp_batch_estimated_size(first) > max_size && taken > 0) {
            /* a single batch larger than the request size still goes alone */
            break;
        }
        const kp_txn_hooks *t = acc->txn;
        if (t && t->drain_take) {
            /* should_stop_drain and the producer state below in one call */
            bool fresh = !kp_batch_has_sequence(first);
            if (t->drain_take(t->ctx, first, p->topic, p->partition, &p->txn_hint))
                break;
            dq_remove(acc, p, first);
            if (fresh)
                first->h.txn_hint = p->txn_hint;
        } else {
            if (should_stop_drain(acc, first, p))
                break;
            dq_remove(acc, p, first);
            if (t && !kp_batch_has_sequence(first)) {
                /* "If the batch already has an assigned sequence, then we
                 * should not change the producer id and sequence number" */
                int64_t pid = KP_NO_PRODUCER_ID;
                int16_t epoch = KP_NO_PRODUCER_EPOCH;
                t->producer_id_and_epoch(t->ctx, &pid, &epoch);
                int32_t seq = t->sequence_number
                                  ? t->sequence_number(t->ctx, p->topic, p->partition, &p->txn_hint)
                                  : 0;
                kp_batch_assign_producer_state(first, pid, epoch, seq, t->is_transactional);
                if (t->increment_sequence_number)
                    t->increment_sequence_number(t->ctx, p->topic, p->partition, first->h.record_count,
                                                 &p->txn_hint);
                first->h.txn_hint = p->txn_hint; /* same manager, same partition */
                if (t->add_in_flight_batch)
                    t->add_in_flight_batch(t->ctx, first);
            }
        }
        kp_err ce = kp_batch_close(first, &acc->scratch);
        if (!first->is_split_batch && first->staging_capacity && !first->records_in_staging)
            release_staging(acc, first);
        if (ce) {
            /* a batch that cannot be built (codec failure) fails on its own */
            inc_remove(acc, first);
            kp_batch_done(first, -1, -1, ce, "Failed to build the record batch", NULL);
            free_batch_memory(acc, first);
            continue;
        }
        size += kp_batch_records(first).len;
        kp_batch_drained(first, now);
        if (!push_drained(acc, ndrained, first)) {
            dq_push_front(acc, p, first); /* cannot hand it out now: back where it was */
            break;
        }
        taken++;
        acc->stats.drained++;
        emit_batch(acc, KP_EV_DRAIN, now, first, node, size, NULL);
    } while (start != cur);
}

void kp_accumulator_drain(kp_accumulator *acc, const kp_cluster *cl, const int32_t *nodes,
                          size_t node_count, int32_t max_size, int64_t now,
                          kp_drain_result *out) {
    size_t ndrained = 0;
    size_t nn = 0;
    if (node_count == 0) { /* nothing ready: most runs */
        out->nodes = acc->drained_nodes;
        out->node_count = 0;
        out->batch_count = 0;
        return;
    }
    if (!grow((void **)&acc->drained_nodes, &acc->drained_nodes_cap, node_count,
              sizeof *acc->drained_nodes)) {
        out->nodes = NULL;
        out->node_count = 0;
        out->batch_count = 0;
        return;
    }
    /* first pass: drain, remembering where each node's batches start */
    size_t *starts = NULL;
    size_t starts_local[16];
    starts = node_count <= 16 ? starts_local : malloc(node_count * sizeof *starts);
    if (!starts) {
        out->nodes = NULL;
        out->node_count = 0;
        out->batch_count = 0;
        return;
    }
    for (size_t i = 0; i < node_count; i++) {
        starts[i] = ndrained;
        drain_node(acc, cl, nodes[i], max_size, now, &ndrained);
    }
    for (size_t i = 0; i < node_count; i++) {
        size_t end = i + 1 < node_count ? starts[i + 1] : ndrained;
        acc->drained_nodes[nn++] = (kp_drained_node){
            .node = nodes[i],
            .batches = acc->drained ? acc->drained + starts[i] : NULL,
            .count = end - starts[i],
        };
    }
    if (starts != starts_local)
        free(starts);
    out->nodes = acc->drained_nodes;
    out->node_count = nn;
    out->batch_count = ndrained;
}

/* ------------------------------------------------------------------ */
/* expiry                                                               */
/* ------------------------------------------------------------------ */

void kp_accumulator_reset_next_batch_expiry_time(kp_accumulator *acc) {
    acc->next_batch_expiry_ms = INT64_MAX;
}

void kp_accumulator_maybe_update_next_batch_expiry_time(kp_accumulator *acc, const kp_batch *b) {
    kp_accumulator_maybe_update_next_batch_expiry_time_ms(acc, b->created_ms);
}

void kp_accumulator_maybe_update_next_batch_expiry_time_ms(kp_accumulator *acc, int64_t created_ms) {
    if (created_ms > INT64_MAX - acc->delivery_timeout_ms)
        return; /* "Skipping next batch expiry time update due to addition overflow" */
    int64_t t = created_ms + acc->delivery_timeout_ms;
    if (t < acc->next_batch_expiry_ms)
        acc->next_batch_expiry_ms = t;
}

int64_t kp_accumulator_next_expiry_time_ms(const kp_accumulator *acc) {
    return acc->next_batch_expiry_ms;
}

int64_t kp_accumulator_delivery_timeout_ms(const kp_accumulator *acc) {
    return acc->delivery_timeout_ms;
}

size_t kp_accumulator_expired_batches(kp_accumulator *acc, int64_t now, kp_batch *const **out) {
    size_t n = 0;
    int64_t lb = INT64_MAX; /* the heads left, exactly */
    for (size_t i = 0; i < acc->nparts; i++) {
        acc_part *p = acc->parts[i];
        /* expire the batches in the order of sending */
        while (p->head) {
            kp_batch *b = p->head;
            if (now - b->created_ms < acc->delivery_timeout_ms) {
                /* young: kp_batch_has_reached_delivery_timeout would say
                 * false (the common case, without the call) */
                kp_accumulator_maybe_update_next_batch_expiry_time_ms(acc, b->created_ms);
                break;
            }
            if (kp_batch_has_reached_delivery_timeout(b, acc->delivery_timeout_ms, now)) {
                if (!grow((void **)&acc->expired, &acc->expired_cap, n + 1, sizeof *acc->expired))
                    break;
                dq_remove(acc, p, b);
                kp_batch_abort_record_appends(b);
                acc->expired[n++] = b;
                acc->stats.expired++;
                emit_batch(acc, KP_EV_BATCH_EXPIRED, now, b, -1, now - b->created_ms, NULL);
            } else {
                kp_accumulator_maybe_update_next_batch_expiry_time(acc, b);
                break;
            }
        }
        if (p->head && p->head->created_ms < lb)
            lb = p->head->created_ms;
    }
    acc->head_created_lb = lb;
    *out = acc->expired;
    return n;
}

int64_t kp_accumulator_head_created_lb(const kp_accumulator *acc) {
    return acc->head_created_lb;
}

/* ------------------------------------------------------------------ */
/* reenqueue / split                                                    */
/* ------------------------------------------------------------------ */

/* insertInSequenceOrder: keeps the deque ordered by sequence when batches
 * come back out of order (several in flight to one partition). */
static const char *insert_in_sequence_order(kp_accumulator *acc, acc_part *p, kp_batch *b) {
    /* "When we are requeing and have enabled idempotence, the reenqueued
     * batch must always have a sequence." (IllegalStateException in Java) */
    assert(kp_batch_has_sequence(b));
    /* "We are re-enqueueing a batch which is not tracked as part of the in
     * flight requests" (IllegalStateException in Java, logged by
     * Sender.run): reported as an event; the batch still goes back so its
     * records keep their one callback. */
    const kp_txn_hooks *t = acc->txn;
    const char *warning = NULL;
    if (t->has_in_flight_batches && !t->has_in_flight_batches(t->ctx, p->topic, p->partition))
        warning = "re-enqueued batch not tracked as in flight";
    kp_batch *first = p->head;
    if (first && kp_batch_has_sequence(first) && first->h.base_sequence < b->h.base_sequence) {
        kp_batch *at = first;
        while (at && kp_batch_has_sequence(at) && at->h.base_sequence < b->h.base_sequence)
            at = at->dq_next;
        dq_insert_before(acc, p, at, b);
    } else {
        dq_push_front(acc, p, b);
    }
    return warning;
}

void kp_accumulator_reenqueue(kp_accumulator *acc, kp_batch *b, int64_t now) {
    kp_batch_reenqueued(b, now);
    acc_part *p = b->part ? (acc_part *)b->part : get_or_create_part(acc, b->h.topic, b->h.partition);
    if (!p)
        return;
    const char *warning = NULL;
    if (acc->txn && kp_batch_has_sequence(b))
        warning = insert_in_sequence_order(acc, p, b);
    else
#ifdef KP_MUTANT_REENQUEUE_BACK /* mutant (tests/mutants): a retried batch goes behind the newer ones */
        dq_push_back(acc, p, b);
#else
        dq_push_front(acc, p, b);
#endif
    acc->stats.reenqueued++;
    emit_batch(acc, KP_EV_BATCH_REENQUEUED, now, b, -1, b->h.attempts, warning);
}

int kp_accumulator_split_and_reenqueue(kp_accumulator *acc, kp_batch *big, int64_t now,
                                       kp_err *err) {
    *err = KP_ERR_NONE;
    /* Reset the estimated compression ratio to the initial value or the big
     * batch compression ratio, whichever is bigger. */
    float r = (float)kp_batch_compression_ratio(big);
    kp_compression_estimator_set(acc->estimator, big->h.topic, big->codec, r > 1.0f ? r : 1.0f);
    size_t max_out = (size_t)(big->h.record_count > 0 ? big->h.record_count : 1);
    kp_batch **pieces = malloc(max_out * sizeof *pieces);
    if (!pieces) {
        *err = KP_ERR__NOMEM;
        return -1;
    }
    /* KAFKA-8350 (fixed by apache/kafka#20358): a batch that is itself a
     * split piece is cut at max(its largest record, half its size), so
     * splitting converges; with bug.KAFKA-8350 the pieces are batch.size
     * again and again, as in 2.1. */
    size_t split_size = (size_t)acc->batch_size;
    if (!acc->endless_split && kp_batch_is_split_batch(big)) {
        int32_t half = kp_batch_estimated_size(big) / 2;
        int32_t maxrec = kp_batch_max_record_size(big);
        split_size = (size_t)(maxrec > half ? maxrec : half);
    }
    int n = kp_batch_split(big, split_size, &acc->scratch, &acc->next_batch_id, pieces,
                           max_out, err);
    if (n < 0) {
        free(pieces);
        return -1;
    }
    acc_part *p = big->part ? (acc_part *)big->part : get_or_create_part(acc, big->h.topic, big->h.partition);
    for (int i = n - 1; i >= 0; i--) {
        kp_batch *b = pieces[i];
        b->part = p;
        inc_add(acc, b);
        /* "We treat the newly split batches as if they are not even tried." */
        if (acc->txn) {
            if (acc->txn->add_in_flight_batch)
                acc->txn->add_in_flight_batch(acc->txn->ctx, b);
            if (kp_batch_has_sequence(b))
                insert_in_sequence_order(acc, p, b);
            else
                dq_push_front(acc, p, b);
        } else {
            dq_push_front(acc, p, b);
        }
    }
    free(pieces);
    acc->stats.splits++;
    emit_batch(acc, KP_EV_BATCH_SPLIT, now, big, -1, n, NULL);
    return n;
}

/* ------------------------------------------------------------------ */
/* mute                                                                 */
/* ------------------------------------------------------------------ */

void kp_accumulator_mute_partition(kp_accumulator *acc, const char *topic, int32_t partition,
                                   int64_t now) {
    acc_part *p = get_or_create_part(acc, topic, partition);
    if (!p)
        return;
    p->muted_until = INT64_MAX;
    acc->rq_ok = false;
    emit_part(acc, KP_EV_PARTITION_MUTED, now, p, -1);
}

void kp_accumulator_unmute_partition(kp_accumulator *acc, const char *topic, int32_t partition,
                                     int64_t throttle_until_ms, int64_t now) {
    acc_part *p = get_or_create_part(acc, topic, partition);
    if (!p)
        return;
    p->muted_until = throttle_until_ms;
    acc->rq_ok = false;
    emit_part(acc, KP_EV_PARTITION_UNMUTED, now, p, throttle_until_ms);
}

bool kp_accumulator_is_muted(const kp_accumulator *acc, const char *topic, int32_t partition,
                             int64_t now) {
    const acc_part *p = find_part(acc, topic, partition);
    return p && part_muted(p, now);
}

/* ------------------------------------------------------------------ */
/* completion                                                           */
/* ------------------------------------------------------------------ */

void kp_accumulator_deallocate(kp_accumulator *acc, kp_batch *b) {
    if (b->zombie) {
        /* aborted while in flight: unlink from the zombie list and free */
        kp_batch **pp = &acc->zombies;
        while (*pp && *pp != b)
            pp = &(*pp)->free_next;
        if (*pp)
            *pp = b->free_next;
        kp_batch_destroy(b);
        return;
    }
    inc_remove(acc, b);
    if (b->in_deque)
        dq_remove(acc, (acc_part *)b->part, b);
    if (b->is_split_batch) {
        /* split batches are allocated outside the buffer pool */
        acc->stats.thunk_growths += b->thunk_growths;
        kp_batch_destroy(b);
        return;
    }
    kp_buffer_pool_deallocate(acc->pool, b->buffer, b->capacity);
    b->buffer = NULL;
    release_staging(acc, b);
    recycle_batch_struct(acc, b);
}

uint64_t kp_accumulator_begin_flush(kp_accumulator *acc, int64_t now) {
    acc->flushes_in_progress++;
    if (acc->obs && acc->obs->on_event) {
        kp_event ev;
        kp_event_init(&ev, KP_EV_FLUSH_BEGIN, ev_time(now));
        ev.value = (int64_t)acc->incomplete;
        kp_observer_emit(acc->obs, &ev);
    }
    return (uint64_t)(acc->next_batch_id - 1);
}

bool kp_accumulator_flush_completed(const kp_accumulator *acc, uint64_t token,
                                    bool count_split_pieces) {
    for (const kp_batch *b = acc->inc_head; b; b = b->inc_next) {
        int64_t key = count_split_pieces ? b->flush_origin : b->h.id;
        if ((uint64_t)key <= token)
            return false;
    }
    return true;
}

void kp_accumulator_end_flush(kp_accumulator *acc, int64_t now) {
    if (acc->flushes_in_progress > 0)
        acc->flushes_in_progress--;
    if (acc->obs && acc->obs->on_event) {
        kp_event ev;
        kp_event_init(&ev, KP_EV_FLUSH_DONE, ev_time(now));
        kp_observer_emit(acc->obs, &ev);
    }
}

bool kp_accumulator_flush_in_progress(const kp_accumulator *acc) {
    return acc->flushes_in_progress > 0;
}

bool kp_accumulator_has_undrained(const kp_accumulator *acc) {
    for (size_t i = 0; i < acc->nparts; i++)
        if (acc->parts[i]->count)
            return true;
    return false;
}

bool kp_accumulator_has_incomplete(const kp_accumulator *acc) {
    return acc->incomplete > 0;
}

size_t kp_accumulator_incomplete_count(const kp_accumulator *acc) {
    return acc->incomplete;
}

size_t kp_accumulator_queued_batches(const kp_accumulator *acc, const char *topic,
                                     int32_t partition) {
    const acc_part *p = find_part(acc, topic, partition);
    return p ? p->count : 0;
}

kp_batch *kp_accumulator_queued_batch(const kp_accumulator *acc, const char *topic,
                                      int32_t partition, size_t i) {
    const acc_part *p = find_part(acc, topic, partition);
    kp_batch *b = p ? p->head : NULL;
    while (b && i--)
        b = b->dq_next;
    return b;
}

/* abortBatches(reason): every incomplete batch. Batches still queued are
 * deallocated at once; batches in flight (drained) are aborted and their
 * buffer returned as Java does, but their struct is kept (zombie) because
 * the sender still points at them; a later done() on them is ignored. */
void kp_accumulator_abort_batches(kp_accumulator *acc, kp_err err, const char *errmsg) {
    if (!errmsg)
        errmsg = "Producer is closed forcefully.";
    kp_batch *b = acc->inc_head;
    while (b) {
        kp_batch *next = b->inc_next;
        bool queued = b->in_deque;
        if (queued)
            dq_remove(acc, (acc_part *)b->part, b);
        kp_batch_abort_record_appends(b);
        kp_batch_abort(b, err ? err : KP_ERR__ABORTED, errmsg);
        if (queued) {
            kp_accumulator_deallocate(acc, b);
        } else {
            inc_remove(acc, b);
            if (!b->is_split_batch) {
                kp_buffer_pool_deallocate(acc->pool, b->buffer, b->capacity);
                b->buffer = NULL;
                release_staging(acc, b);
            }
            b->zombie = true;
            b->free_next = acc->zombies;
            acc->zombies = b;
        }
        b = next;
    }
}

void kp_accumulator_abort_incomplete_batches(kp_accumulator *acc, kp_err err, const char *errmsg) {
    kp_accumulator_abort_batches(acc, err, errmsg);
    /* this.batches.clear(): every deque is empty now */
    for (size_t i = 0; i < acc->nparts; i++)
        assert(acc->parts[i]->count == 0);
}

void kp_accumulator_abort_undrained_batches(kp_accumulator *acc, kp_err err, const char *errmsg) {
    kp_batch *b = acc->inc_head;
    while (b) {
        kp_batch *next = b->inc_next;
        bool abort_it = acc->txn ? !kp_batch_has_sequence(b) : !b->closed;
        if (abort_it && b->in_deque) {
            dq_remove(acc, (acc_part *)b->part, b);
            kp_batch_abort_record_appends(b);
            kp_batch_abort(b, err ? err : KP_ERR__ABORTED, errmsg);
            kp_accumulator_deallocate(acc, b);
        }
        b = next;
    }
}

void kp_accumulator_close(kp_accumulator *acc) {
    acc->closed = true;
}

bool kp_accumulator_is_closed(const kp_accumulator *acc) {
    return acc->closed;
}

const bool *kp_accumulator_closed_ref(const kp_accumulator *acc) {
    return &acc->closed;
}

const char *kp_accumulator_topic_name(const kp_accumulator *acc, const char *topic) {
    const kp_acc_topic *t = topic ? topic_find(acc, topic) : NULL;
    return t ? t->name : NULL;
}

bool kp_accumulator_verify(const kp_accumulator *acc, char *why, size_t n) {
#define FAIL(...) do { if (why && n) snprintf(why, n, __VA_ARGS__); return false; } while (0)
    size_t inc = 0;
    for (const kp_batch *b = acc->inc_head; b; b = b->inc_next) {
        if (!b->in_incomplete)
            FAIL("batch %" PRId64 " in the incomplete list without the flag", b->h.id);
        if (++inc > acc->incomplete)
            FAIL("incomplete list longer than its count %zu", acc->incomplete);
    }
    if (inc != acc->incomplete)
        FAIL("incomplete list %zu != count %zu", inc, acc->incomplete);
    for (size_t i = 0; i < acc->nparts; i++) {
        const acc_part *p = acc->parts[i];
        size_t c = 0;
        const kp_batch *prev = NULL;
        for (const kp_batch *b = p->head; b; b = b->dq_next) {
            c++;
            if (b->dq_prev != prev)
                FAIL("%s-%d: broken back link", p->topic, p->partition);
            if (b->part != p || b->h.partition != p->partition || strcmp(b->h.topic, p->topic))
                FAIL("%s-%d: batch %" PRId64 " of another partition", p->topic, p->partition, b->h.id);
            if (!b->in_deque || !b->in_incomplete)
                FAIL("%s-%d: batch %" PRId64 " flags", p->topic, p->partition, b->h.id);
            if (kp_batch_is_done(b))
                FAIL("%s-%d: done batch %" PRId64 " still queued", p->topic, p->partition, b->h.id);
            prev = b;
        }
        if (prev != p->tail || c != p->count)
            FAIL("%s-%d: count %zu != %zu or tail", p->topic, p->partition, c, p->count);
        if (p->head && p->head->created_ms < acc->head_created_lb)
            FAIL("%s-%d: head created at %" PRId64 " before the bound %" PRId64 ": expiry would skip it",
                 p->topic, p->partition, p->head->created_ms, acc->head_created_lb);
        /* ready()'s shortcut: every non-empty deque answers "not yet, until
         * rq_until or later" the way the walk would reach it */
        const kp_batch *h = p->head;
        if (acc->rq_ok && h) {
            if (p->leader_gen != acc->rq_gen || p->leader == KP_NO_LEADER)
                FAIL("%s-%d: ready shortcut with a leader not looked up", p->topic, p->partition);
            if (p->muted_until > acc->rq_since) {
                if (p->muted_until < acc->rq_until)
                    FAIL("%s-%d: ready shortcut past an unmute", p->topic, p->partition);
                continue;
            }
            bool boff = h->h.attempts > 0 && acc->rq_since - h->last_attempt_ms < acc->retry_backoff_ms;
            int64_t wait = boff ? acc->retry_backoff_ms : acc->linger_ms;
            if (h->last_attempt_ms > acc->rq_since || h->last_attempt_ms + wait < acc->rq_next ||
                acc->rq_next < acc->rq_until)
                FAIL("%s-%d: ready shortcut until %" PRId64 " past the head's change", p->topic, p->partition,
                     acc->rq_until);
            if (!boff && (p->count > 1 || kp_batch__is_full(h)))
                FAIL("%s-%d: ready shortcut with a sendable deque", p->topic, p->partition);
        }
    }
    return true;
#undef FAIL
}

void kp_accumulator_stats_get(const kp_accumulator *acc, kp_accumulator_stats *out) {
    *out = acc->stats;
    /* add the growth of batches still alive */
    for (const kp_batch *b = acc->inc_head; b; b = b->inc_next)
        out->thunk_growths += b->thunk_growths;
}
