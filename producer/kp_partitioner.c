/*
 * kp_partitioner.c — DefaultPartitioner 2.1.1 and the sticky cache.
 */
#include "kp_partitioner.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kp_events.h"
#include "kp_murmur2.h"

typedef struct topic_state {
    char *topic;
    int32_t value; /* default: next counter value; sticky: the partition */
    /* default: toPositive(value) % rem_of when rem_of > 0 (0: not known),
     * carried from one pick to the next so that a pick divides only when
     * the divisor (the count of available, else all, partitions) moved.
     * The 64-bit `div` of every keyless pick was half of round_robin's
     * cycles (perf). */
    uint32_t rem, rem_of;
} topic_state;

struct kp_partitioner {
    kp_partitioner_kind kind;
    kp_rng *rng;
    const kp_observer *obs;
    topic_state *t;
    size_t n, cap;
};

kp_partitioner *kp_partitioner_new(kp_partitioner_kind kind, kp_rng *rng,
                                   const kp_observer *obs) {
    kp_partitioner *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->kind = kind;
    p->rng = rng;
    p->obs = obs;
    return p;
}

void kp_partitioner_destroy(kp_partitioner *p) {
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        free(p->t[i].topic);
    free(p->t);
    free(p);
}

kp_partitioner_kind kp_partitioner_kind_of(const kp_partitioner *p) {
    return p->kind;
}

static topic_state *find(const kp_partitioner *p, const char *topic) {
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->t[i].topic, topic) == 0)
            return &p->t[i];
    return NULL;
}

/* States are only ever appended: one generation for the partitioner's
 * life, so a hint (kp_hint.h) once filled in names its state for good. */
#define KP_PART_HINT_GEN 1u

/* find through the caller's hint for topic (NULL: by name) */
static inline __attribute__((always_inline)) topic_state *find_h(const kp_partitioner *p, const char *topic,
                                                                kp_hint *hint) {
    if (kp_hint_hit(hint, KP_PART_HINT_GEN, p->n))
        return &p->t[hint->ix];
    topic_state *st = find(p, topic);
    if (st)
        kp_hint_set(hint, KP_PART_HINT_GEN, (size_t)(st - p->t));
    return st;
}

static topic_state *add(kp_partitioner *p, const char *topic, int32_t value) {
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 8;
        topic_state *nt = realloc(p->t, nc * sizeof *nt);
        if (!nt)
            return NULL;
        p->t = nt;
        p->cap = nc;
    }
    char *copy = strdup(topic);
    if (!copy)
        return NULL;
    p->t[p->n] = (topic_state){ .topic = copy, .value = value };
    return &p->t[p->n++];
}

/* ThreadLocalRandom.current().nextInt(): any int32. */
static int32_t random_int(kp_partitioner *p) {
    return (int32_t)kp_rng_u32(p->rng);
}

/* inline: once per keyless or keyed send */
static inline __attribute__((always_inline)) void emit(const kp_partitioner *p, int64_t now, const char *topic,
                                                        int32_t partition, const char *how) {
    if (!p->obs || !p->obs->on_event)
        return;
    kp_event ev;
    kp_event_init(&ev, KP_EV_PARTITION_CHOSEN, now * 1000);
    ev.topic = topic;
    ev.partition = partition;
    ev.detail = how;
    kp_observer_emit(p->obs, &ev);
}

void kp_part_view_of(kp_part_view *v, const kp_cluster *cl, const kp_cluster_topic *ct) {
    v->cl = cl;
    v->ct = ct;
    v->count = kp_cluster_topic_partition_count(ct);
    v->navail = kp_cluster_topic_available_partitions(cl, ct, &v->avail);
}

/* StickyPartitionCache.nextPartition */
static int32_t sticky_next(kp_partitioner *p, const kp_part_view *v, const char *topic, topic_state *st,
                           int32_t prev, bool *ok) {
    *ok = true;
    if (st && st->value != prev)
        return st->value;
    const kp_partition_info *const *avail = v->avail;
    size_t navail = v->navail;
    int32_t np = v->count;
    int32_t part;
    if (navail < 1) {
        part = kp_to_positive(random_int(p)) % np;
    } else if (navail == 1) {
        part = avail[0]->partition;
    } else {
        do {
            int32_t r = kp_to_positive(random_int(p));
            part = avail[(size_t)r % navail]->partition;
        } while (st && part == st->value);
    }
    if (st)
        st->value = part;
    else if (!add(p, topic, part))
        *ok = false;
    return part;
}

int32_t kp_partitioner_partition(kp_partitioner *p, const kp_cluster *cl, const char *topic,
                                 int32_t explicit_partition, kp_slice key, int64_t now,
                                 kp_err *err) {
    return kp_partitioner_partition_in(p, cl, kp_cluster_topic_find(cl, topic), topic, NULL, explicit_partition,
                                       key, now, err);
}

int32_t kp_partitioner_partition_in(kp_partitioner *p, const kp_cluster *cl, const kp_cluster_topic *ct,
                                    const char *topic, kp_hint *hint, int32_t explicit_partition, kp_slice key,
                                    int64_t now, kp_err *err) {
    kp_part_view v;
    kp_part_view_of(&v, cl, ct);
    return kp_partitioner_partition_v(p, &v, topic, hint, explicit_partition, key, now, err);
}

/* DefaultPartitioner, no key: the topic's counter (a random start on its
 * first use), toPositive(counter++) over the available partitions (all
 * when none is). -1: out of memory. */
static inline __attribute__((always_inline)) int32_t round_robin(kp_partitioner *p, const kp_part_view *v,
                                                                 const char *topic, topic_state *st,
                                                                 kp_hint *hint, int64_t now) {
    /* DefaultPartitioner.nextValue: counter.getAndIncrement() */
    if (!st) {
        st = add(p, topic, random_int(p));
        if (!st)
            return -1;
        kp_hint_set(hint, KP_PART_HINT_GEN, (size_t)(st - p->t));
    }
    int32_t next = st->value;
    uint32_t nv = (uint32_t)next + 1u;
    st->value = (int32_t)nv; /* AtomicInteger wraps */
    /* toPositive(next) % d over the available partitions (all when none
     * is): d <= INT32_MAX, a partition count */
    uint32_t d = v->navail > 0 ? (uint32_t)v->navail : (uint32_t)v->count;
    uint32_t r = st->rem;
    if (__builtin_expect(st->rem_of != d, 0)) {
        r = (uint32_t)kp_to_positive(next) % d;
        st->rem_of = d;
    }
    /* toPositive(next + 1) is toPositive(next) + 1, or 0 where it wraps */
    st->rem = r + 1 == d || (nv & 0x7fffffffu) == 0 ? 0 : r + 1;
    int32_t part = v->navail > 0 ? v->avail[r]->partition : (int32_t)r;
    emit(p, now, topic, part, "round-robin");
    return part;
}

/* Inline into the producer's send with the LTO build (its only caller
 * there): the call's frame and argument moves were about a third of
 * the pick's instructions. */
__attribute__((always_inline)) inline int32_t kp_partitioner_round_robin_v(kp_partitioner *p, const kp_part_view *v,
                                                                          const char *topic, kp_hint *hint,
                                                                          int64_t now) {
    assert(p->kind == KP_PARTITIONER_DEFAULT && v->count > 0);
    return round_robin(p, v, topic, find_h(p, topic, hint), hint, now);
}

int32_t kp_partitioner_partition_v(kp_partitioner *p, const kp_part_view *v, const char *topic, kp_hint *hint,
                                   int32_t explicit_partition, kp_slice key, int64_t now, kp_err *err) {
    if (err)
        *err = KP_ERR_NONE;
    if (explicit_partition >= 0) {
        emit(p, now, topic, explicit_partition, "explicit");
        return explicit_partition;
    }
    int32_t np = v->count;
    if (np <= 0) {
        if (err)
            *err = KP_ERR__NOENT;
        return -1;
    }
    if (key.len >= 0) {
        int32_t part = kp_partition_for_key(key.ptr, (size_t)key.len, np);
        emit(p, now, topic, part, "keyed");
        return part;
    }
    topic_state *st = find_h(p, topic, hint);
    if (p->kind == KP_PARTITIONER_STICKY) {
        bool ok;
        int32_t part = st ? st->value : sticky_next(p, v, topic, NULL, -1, &ok);
        if (!st && !ok) {
            if (err)
                *err = KP_ERR__NOMEM;
            return -1;
        }
        emit(p, now, topic, part, "sticky");
        return part;
    }
    int32_t part = round_robin(p, v, topic, st, hint, now);
    if (part < 0 && err)
        *err = KP_ERR__NOMEM;
    return part;
}

int32_t kp_partitioner_on_new_batch(kp_partitioner *p, const kp_cluster *cl, const char *topic,
                                    int32_t prev_partition, int64_t now) {
    if (p->kind != KP_PARTITIONER_STICKY)
        return -1;
    kp_part_view v;
    kp_part_view_of(&v, cl, kp_cluster_topic_find(cl, topic));
    if (v.count <= 0)
        return -1;
    topic_state *st = find(p, topic);
    bool ok;
    int32_t part = sticky_next(p, &v, topic, st, prev_partition, &ok);
    if (!ok)
        return -1;
    emit(p, now, topic, part, "sticky-switch");
    return part;
}

bool kp_partitioner_peek(const kp_partitioner *p, const char *topic, int32_t *value) {
    const topic_state *st = find(p, topic);
    if (!st)
        return false;
    *value = st->value;
    return true;
}
