/*
 * kp_metadata.c — Cluster (immutable snapshot) and Metadata (refresh
 * bookkeeping) of kafka-clients 2.1.1.
 *
 * Everything is arrays in insertion order; topic lookup is a string
 * compare over the topics (a producer's cluster view holds the topics it
 * uses), so iteration order never depends on addresses.
 */
#include "kp_metadata.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_events.h"

/* ------------------------------------------------------------------ */
/* Cluster                                                              */
/* ------------------------------------------------------------------ */

struct kp_cluster_topic {
    char *name;
    kp_err error;
    bool internal;
    kp_partition_info *parts;          /* sorted by id after seal */
    size_t np, pcap;
    const kp_partition_info **by_id;   /* pointers into parts (seal) */
    const kp_partition_info **avail;   /* those with a leader (seal) */
    size_t navail;
};
typedef struct kp_cluster_topic cl_topic;

typedef struct cl_order {
    size_t topic;
    int32_t partition;
} cl_order;

typedef struct cl_node_parts {
    kp_tp *tps;
    size_t n;
} cl_node_parts;

struct kp_cluster {
    uint64_t generation;      /* unique in the process (kp_cluster_generation) */
    bool sealed;
    bool bootstrap;
    char *id;
    int32_t controller;
    kp_node *nodes;
    size_t nn, ncap;
    cl_topic *topics;
    size_t nt, tcap;
    cl_order *order;          /* partitions in the order added */
    size_t no, ocap;
    cl_node_parts *node_parts; /* parallel to nodes (seal) */
};

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 8;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np)
        return false;
    *p = np;
    *cap = nc;
    return true;
}

/* The last generation handed out. Only ever compared for equality by
 * caches, never printed or ordered, so runs stay byte-identical whatever
 * the process did before. */
static uint64_t kp_cluster_generations;

kp_cluster *kp_cluster_new(void) {
    kp_cluster *cl = calloc(1, sizeof *cl);
    if (cl) {
        cl->controller = -1;
        cl->generation = ++kp_cluster_generations;
    }
    return cl;
}

uint64_t kp_cluster_generation(const kp_cluster *cl) {
    return cl->generation;
}

void kp_cluster_destroy(kp_cluster *cl) {
    if (!cl)
        return;
    for (size_t i = 0; i < cl->nn; i++) {
        free((char *)cl->nodes[i].host);
        free((char *)cl->nodes[i].rack);
    }
    free(cl->nodes);
    for (size_t i = 0; i < cl->nt; i++) {
        cl_topic *t = &cl->topics[i];
        for (size_t j = 0; j < t->np; j++) {
            free((int32_t *)t->parts[j].replicas);
            free((int32_t *)t->parts[j].isr);
            free((int32_t *)t->parts[j].offline);
        }
        free(t->parts);
        free(t->by_id);
        free(t->avail);
        free(t->name);
    }
    free(cl->topics);
    free(cl->order);
    if (cl->node_parts) {
        for (size_t i = 0; i < cl->nn; i++)
            free(cl->node_parts[i].tps);
        free(cl->node_parts);
    }
    free(cl->id);
    free(cl);
}

static cl_topic *find_topic(const kp_cluster *cl, const char *topic, size_t *idx) {
    if (!topic)
        return NULL;
    for (size_t i = 0; i < cl->nt; i++) {
        if (strcmp(cl->topics[i].name, topic) == 0) {
            if (idx)
                *idx = i;
            return &cl->topics[i];
        }
    }
    return NULL;
}

kp_err kp_cluster_add_node(kp_cluster *cl, int32_t id, const char *host, int32_t port,
                           const char *rack) {
    if (cl->sealed)
        return KP_ERR__STATE;
    if (!host)
        return KP_ERR__INVALID_ARG;
    for (size_t i = 0; i < cl->nn; i++)
        if (cl->nodes[i].id == id)
            return KP_ERR__INVALID_ARG;
    if (!grow((void **)&cl->nodes, &cl->ncap, cl->nn + 1, sizeof *cl->nodes))
        return KP_ERR__NOMEM;
    char *h = strdup(host);
    char *r = rack ? strdup(rack) : NULL;
    if (!h || (rack && !r)) {
        free(h);
        free(r);
        return KP_ERR__NOMEM;
    }
    cl->nodes[cl->nn++] = (kp_node){ .id = id, .host = h, .port = port, .rack = r };
    return KP_ERR_NONE;
}

kp_err kp_cluster_add_topic(kp_cluster *cl, const char *topic, kp_err error, bool is_internal) {
    if (cl->sealed)
        return KP_ERR__STATE;
    if (!topic || find_topic(cl, topic, NULL))
        return KP_ERR__INVALID_ARG;
    if (!grow((void **)&cl->topics, &cl->tcap, cl->nt + 1, sizeof *cl->topics))
        return KP_ERR__NOMEM;
    char *name = strdup(topic);
    if (!name)
        return KP_ERR__NOMEM;
    cl_topic *t = &cl->topics[cl->nt++];
    memset(t, 0, sizeof *t);
    t->name = name;
    t->error = error;
    t->internal = is_internal;
    return KP_ERR_NONE;
}

static int32_t *dup_ids(const int32_t *a, int32_t n, bool *ok) {
    if (n <= 0 || !a)
        return NULL;
    int32_t *c = malloc((size_t)n * sizeof *c);
    if (!c) {
        *ok = false;
        return NULL;
    }
    memcpy(c, a, (size_t)n * sizeof *c);
    return c;
}

kp_err kp_cluster_add_partition(kp_cluster *cl, const char *topic, int32_t partition,
                                int32_t leader, int32_t leader_epoch,
                                const int32_t *replicas, int32_t n_replicas,
                                const int32_t *isr, int32_t n_isr,
                                const int32_t *offline, int32_t n_offline, kp_err error) {
    if (cl->sealed)
        return KP_ERR__STATE;
    size_t ti;
    cl_topic *t = find_topic(cl, topic, &ti);
    if (!t || partition < 0)
        return KP_ERR__INVALID_ARG;
    for (size_t j = 0; j < t->np; j++)
        if (t->parts[j].partition == partition)
            return KP_ERR__INVALID_ARG;
    if (!grow((void **)&t->parts, &t->pcap, t->np + 1, sizeof *t->parts) ||
        !grow((void **)&cl->order, &cl->ocap, cl->no + 1, sizeof *cl->order))
        return KP_ERR__NOMEM;
    bool ok = true;
    int32_t *r = dup_ids(replicas, n_replicas, &ok);
    int32_t *i = dup_ids(isr, n_isr, &ok);
    int32_t *o = dup_ids(offline, n_offline, &ok);
    if (!ok) {
        free(r);
        free(i);
        free(o);
        return KP_ERR__NOMEM;
    }
    kp_partition_info *pi = &t->parts[t->np++];
    *pi = (kp_partition_info){
        .topic = NULL, /* set at seal: t->name is stable, parts may move */
        .partition = partition,
        .leader = leader,
        .leader_epoch = leader_epoch,
        .error = error,
        .replicas = r, .replica_count = r ? n_replicas : 0,
        .isr = i, .isr_count = i ? n_isr : 0,
        .offline = o, .offline_count = o ? n_offline : 0,
    };
    cl->order[cl->no++] = (cl_order){ .topic = ti, .partition = partition };
    return KP_ERR_NONE;
}

void kp_cluster_set_id(kp_cluster *cl, const char *cluster_id) {
    if (cl->sealed)
        return;
    free(cl->id);
    cl->id = cluster_id ? strdup(cluster_id) : NULL;
}

void kp_cluster_set_controller(kp_cluster *cl, int32_t node_id) {
    if (!cl->sealed)
        cl->controller = node_id;
}

static int cmp_part(const void *a, const void *b) {
    const kp_partition_info *x = a, *y = b;
    return (x->partition > y->partition) - (x->partition < y->partition);
}

static ssize_t node_index(const kp_cluster *cl, int32_t id) {
    for (size_t i = 0; i < cl->nn; i++)
        if (cl->nodes[i].id == id)
            return (ssize_t)i;
    return -1;
}

static const kp_partition_info *topic_part(const cl_topic *t, int32_t partition) {
    /* by_id is sorted; partitions are usually 0..np-1, so try the slot
     * of that number first, then binary search */
    if (partition >= 0 && (size_t)partition < t->np && t->by_id[partition]->partition == partition)
        return t->by_id[partition];
    size_t lo = 0, hi = t->np;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int32_t p = t->by_id[mid]->partition;
        if (p == partition)
            return t->by_id[mid];
        if (p < partition)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void kp_cluster_seal(kp_cluster *cl) {
    if (cl->sealed)
        return;
    for (size_t i = 0; i < cl->nt; i++) {
        cl_topic *t = &cl->topics[i];
        /* MetadataResponse.cluster(): a topic with an error has no partitions */
        if (t->error != KP_ERR_NONE) {
            for (size_t j = 0; j < t->np; j++) {
                free((int32_t *)t->parts[j].replicas);
                free((int32_t *)t->parts[j].isr);
                free((int32_t *)t->parts[j].offline);
            }
            t->np = 0;
        }
        if (t->np > 1)
            qsort(t->parts, t->np, sizeof *t->parts, cmp_part);
        t->by_id = t->np ? calloc(t->np, sizeof *t->by_id) : NULL;
        t->avail = t->np ? calloc(t->np, sizeof *t->avail) : NULL;
        if (t->np && (!t->by_id || !t->avail)) {
            /* out of memory: the topic is unknown rather than half-built */
            free(t->by_id);
            free(t->avail);
            t->by_id = NULL;
            t->avail = NULL;
            t->np = 0;
        }
        t->navail = 0;
        for (size_t j = 0; j < t->np; j++) {
            kp_partition_info *pi = &t->parts[j];
            pi->topic = t->name;
            if (pi->leader >= 0 && node_index(cl, pi->leader) < 0)
                pi->leader = KP_NO_LEADER; /* Java: leader Node null */
            if (pi->leader < 0)
                pi->leader = KP_NO_LEADER;
            t->by_id[j] = pi;
            if (pi->leader != KP_NO_LEADER)
                t->avail[t->navail++] = pi;
        }
    }
    cl->node_parts = cl->nn ? calloc(cl->nn, sizeof *cl->node_parts) : NULL;
    if (cl->node_parts) {
        for (size_t k = 0; k < cl->no; k++) {
            cl_topic *t = &cl->topics[cl->order[k].topic];
            const kp_partition_info *pi = t->np ? topic_part(t, cl->order[k].partition) : NULL;
            if (!pi || pi->leader == KP_NO_LEADER)
                continue;
            ssize_t ni = node_index(cl, pi->leader);
            cl_node_parts *np = &cl->node_parts[ni];
            kp_tp *ntps = realloc(np->tps, (np->n + 1) * sizeof *ntps);
            if (!ntps)
                continue;
            np->tps = ntps;
            np->tps[np->n++] = (kp_tp){ .topic = t->name, .partition = pi->partition };
        }
    }
    cl->sealed = true;
    cl->generation = ++kp_cluster_generations; /* answers may differ from before the seal */
}

static bool parse_host_port(const char *s, size_t len, char *host, size_t hcap, int32_t *port) {
    const char *colon;
    const char *hs = s;
    size_t hl;
    if (len > 0 && s[0] == '[') {
        const char *rb = memchr(s, ']', len);
        if (!rb || (size_t)(rb - s) + 1 >= len || rb[1] != ':')
            return false;
        hs = s + 1;
        hl = (size_t)(rb - s) - 1;
        colon = rb + 1;
    } else {
        colon = NULL;
        for (size_t i = 0; i < len; i++)
            if (s[i] == ':')
                colon = s + i;
        if (!colon)
            return false;
        hl = (size_t)(colon - s);
    }
    if (hl == 0 || hl >= hcap)
        return false;
    memcpy(host, hs, hl);
    host[hl] = '\0';
    const char *ps = colon + 1;
    size_t pl = len - (size_t)(ps - s);
    if (pl == 0 || pl > 5)
        return false;
    int32_t p = 0;
    for (size_t i = 0; i < pl; i++) {
        if (ps[i] < '0' || ps[i] > '9')
            return false;
        p = p * 10 + (ps[i] - '0');
    }
    if (p <= 0 || p > 65535)
        return false;
    *port = p;
    return true;
}

kp_cluster *kp_cluster_bootstrap(const char *servers, kp_err *err) {
    *err = KP_ERR_NONE;
    kp_cluster *cl = kp_cluster_new();
    if (!cl) {
        *err = KP_ERR__NOMEM;
        return NULL;
    }
    cl->bootstrap = true;
    int32_t next_id = -1;
    const char *p = servers ? servers : "";
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        size_t len = (size_t)(e - p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        char host[256];
        int32_t port;
        if (!parse_host_port(p, len, host, sizeof host, &port)) {
            *err = KP_ERR__CONFIG;
            kp_cluster_destroy(cl);
            return NULL;
        }
        kp_err e2 = kp_cluster_add_node(cl, next_id--, host, port, NULL);
        if (e2) {
            *err = e2;
            kp_cluster_destroy(cl);
            return NULL;
        }
        p = e;
    }
    if (cl->nn == 0) {
        *err = KP_ERR__CONFIG; /* "No resolvable bootstrap urls given in bootstrap.servers" */
        kp_cluster_destroy(cl);
        return NULL;
    }
    kp_cluster_seal(cl);
    return cl;
}

bool kp_cluster_is_bootstrap(const kp_cluster *cl) { return cl->bootstrap; }
const char *kp_cluster_id(const kp_cluster *cl) { return cl->id; }
int32_t kp_cluster_controller(const kp_cluster *cl) { return cl->controller; }
size_t kp_cluster_node_count(const kp_cluster *cl) { return cl->nn; }

const kp_node *kp_cluster_node_at(const kp_cluster *cl, size_t i) {
    return i < cl->nn ? &cl->nodes[i] : NULL;
}

const kp_node *kp_cluster_node_by_id(const kp_cluster *cl, int32_t id) {
    ssize_t i = node_index(cl, id);
    return i < 0 ? NULL : &cl->nodes[i];
}

size_t kp_cluster_topic_count(const kp_cluster *cl) { return cl->nt; }

const char *kp_cluster_topic_at(const kp_cluster *cl, size_t i) {
    return i < cl->nt ? cl->topics[i].name : NULL;
}

const kp_cluster_topic *kp_cluster_topic_find(const kp_cluster *cl, const char *topic) {
    return find_topic(cl, topic, NULL);
}

int32_t kp_cluster_topic_partition_count(const kp_cluster_topic *t) {
    if (!t || t->np == 0)
        return -1;
    return (int32_t)t->np;
}

bool kp_cluster_topic_has_error(const kp_cluster_topic *t, kp_err error) {
    return t && t->error == error;
}

size_t kp_cluster_topic_available_partitions(const kp_cluster *cl, const kp_cluster_topic *t,
                                             const kp_partition_info *const **out) {
    if (!t || !cl->sealed || t->navail == 0) {
        *out = NULL;
        return 0;
    }
    *out = t->avail;
    return t->navail;
}

int32_t kp_cluster_partition_count(const kp_cluster *cl, const char *topic) {
    return kp_cluster_topic_partition_count(find_topic(cl, topic, NULL));
}

kp_err kp_cluster_topic_error(const kp_cluster *cl, const char *topic) {
    const cl_topic *t = find_topic(cl, topic, NULL);
    return t ? t->error : KP_ERR__NOENT;
}

bool kp_cluster_topic_is_internal(const kp_cluster *cl, const char *topic) {
    const cl_topic *t = find_topic(cl, topic, NULL);
    return t && t->internal;
}

bool kp_cluster_topic_unauthorized(const kp_cluster *cl, const char *topic) {
    return kp_cluster_topic_has_error(find_topic(cl, topic, NULL), KP_ERR_TOPIC_AUTHORIZATION_FAILED);
}

bool kp_cluster_topic_invalid(const kp_cluster *cl, const char *topic) {
    return kp_cluster_topic_has_error(find_topic(cl, topic, NULL), KP_ERR_INVALID_TOPIC_EXCEPTION);
}

const kp_partition_info *kp_cluster_partition(const kp_cluster *cl, const char *topic,
                                              int32_t partition) {
    const cl_topic *t = find_topic(cl, topic, NULL);
    if (!t || !cl->sealed || t->np == 0)
        return NULL;
    return topic_part(t, partition);
}

int32_t kp_cluster_leader_for(const kp_cluster *cl, const char *topic, int32_t partition) {
    const kp_partition_info *pi = kp_cluster_partition(cl, topic, partition);
    return pi ? pi->leader : KP_NO_LEADER;
}

size_t kp_cluster_partitions_for_topic(const kp_cluster *cl, const char *topic,
                                       const kp_partition_info *const **out) {
    const cl_topic *t = find_topic(cl, topic, NULL);
    if (!t || !cl->sealed || t->np == 0) {
        *out = NULL;
        return 0;
    }
    *out = t->by_id;
    return t->np;
}

size_t kp_cluster_available_partitions(const kp_cluster *cl, const char *topic,
                                       const kp_partition_info *const **out) {
    return kp_cluster_topic_available_partitions(cl, find_topic(cl, topic, NULL), out);
}

size_t kp_cluster_partitions_for_node(const kp_cluster *cl, int32_t node_id, const kp_tp **out) {
    ssize_t i = node_index(cl, node_id);
    if (i < 0 || !cl->node_parts) {
        *out = NULL;
        return 0;
    }
    *out = cl->node_parts[i].tps;
    return cl->node_parts[i].n;
}

/* ------------------------------------------------------------------ */
/* Metadata                                                             */
/* ------------------------------------------------------------------ */

typedef struct md_topic {
    char *name;
    int64_t expire_ms; /* KP_TOPIC_EXPIRY_NEEDS_UPDATE or an absolute time */
} md_topic;

typedef struct md_listener {
    kp_metadata_listener_fn *fn;
    void *ctx;
} md_listener;

struct kp_metadata {
    kp_cluster *cluster;
    uint64_t cluster_gen; /* cluster->generation, for kp_metadata_generation_ref */
    int32_t version;
    bool need_update;
    int64_t last_refresh_ms;
    int64_t last_successful_refresh_ms;
    int64_t refresh_backoff_ms;
    int64_t metadata_expire_ms;
    bool topic_expiry;
    bool need_all_topics;
    bool closed;
    kp_err auth_err;
    md_topic *topics;
    size_t nt, tcap;
    uint32_t topics_gen;  /* of the indices in topics (kp_hint): from 1,
                           * bumped when expiry removes topics */
    md_listener listeners[4];
    int nlisteners;
    const kp_observer *obs;
};

static void md_emit(const kp_metadata *md, int kind, int64_t now, const char *topic,
                    int64_t value, const char *detail) {
    if (!md->obs || !md->obs->on_event)
        return;
    kp_event ev;
    kp_event_init(&ev, kind, now * 1000);
    ev.topic = topic;
    ev.value = value;
    ev.detail = detail;
    if (kind == KP_EV_METADATA_UPDATED) {
        ev.record_count = (int32_t)md->cluster->nt;
        ev.node = (int32_t)md->cluster->nn;
    }
    kp_observer_emit(md->obs, &ev);
}

kp_metadata *kp_metadata_new(int64_t refresh_backoff_ms, int64_t max_age_ms, bool topic_expiry,
                             const kp_observer *obs) {
    kp_metadata *md = calloc(1, sizeof *md);
    if (!md)
        return NULL;
    md->cluster = kp_cluster_new(); /* Cluster.empty() */
    if (!md->cluster) {
        free(md);
        return NULL;
    }
    kp_cluster_seal(md->cluster);
    md->cluster_gen = md->cluster->generation; /* sealed: final */
    md->refresh_backoff_ms = refresh_backoff_ms;
    md->metadata_expire_ms = max_age_ms;
    md->topic_expiry = topic_expiry;
    md->obs = obs;
    md->topics_gen = 1;
    return md;
}

void kp_metadata_destroy(kp_metadata *md) {
    if (!md)
        return;
    kp_cluster_destroy(md->cluster);
    for (size_t i = 0; i < md->nt; i++)
        free(md->topics[i].name);
    free(md->topics);
    free(md);
}

const kp_cluster *kp_metadata_fetch(const kp_metadata *md) {
    return md->cluster;
}

const uint64_t *kp_metadata_generation_ref(const kp_metadata *md) {
    return &md->cluster_gen;
}

static md_topic *md_find(const kp_metadata *md, const char *topic) {
    for (size_t i = 0; i < md->nt; i++)
        if (strcmp(md->topics[i].name, topic) == 0)
            return &md->topics[i];
    return NULL;
}

/* requestUpdateForNewTopics: Java sets lastRefreshMs = 0, which on its
 * wall clock means "long ago", so the update may go at once. kpsim's clock
 * starts at 0, where 0 would mean "just now" and the new topic would wait a
 * whole retry.backoff.ms; KP_MD_LONG_AGO keeps Java's meaning. */
#define KP_MD_LONG_AGO (INT64_MIN / 4)
static void request_update_for_new_topics(kp_metadata *md, int64_t now, const char *why) {
    md->last_refresh_ms = KP_MD_LONG_AGO;
    md->need_update = true;
    md_emit(md, KP_EV_METADATA_UPDATE_REQUESTED, now, NULL, md->version, why);
}

/* md_add past its hint: by name, or a new topic. Out of line: the send
 * path's call (kp_metadata_add_h with a good hint) stays a few loads. */
static bool __attribute__((noinline)) md_add(kp_metadata *md, const char *topic, int64_t now, kp_hint *hint) {
    md_topic *t = md_find(md, topic);
    if (t) {
        kp_hint_set(hint, md->topics_gen, (size_t)(t - md->topics));
        t->expire_ms = KP_TOPIC_EXPIRY_NEEDS_UPDATE;
        return true;
    }
    if (!grow((void **)&md->topics, &md->tcap, md->nt + 1, sizeof *md->topics))
        return false;
    char *name = strdup(topic);
    if (!name)
        return false;
    kp_hint_set(hint, md->topics_gen, md->nt);
    md->topics[md->nt++] = (md_topic){ .name = name, .expire_ms = KP_TOPIC_EXPIRY_NEEDS_UPDATE };
    md_emit(md, KP_EV_METADATA_TOPIC_ADDED, now, name, -1, NULL);
    request_update_for_new_topics(md, now, "new topic");
    return true;
}

void kp_metadata_add(kp_metadata *md, const char *topic, int64_t now) {
    md_add(md, topic, now, NULL);
}

bool kp_metadata_add_h(kp_metadata *md, const char *topic, int64_t now, kp_hint *hint) {
    if (kp_hint_hit(hint, md->topics_gen, md->nt)) {
        md->topics[hint->ix].expire_ms = KP_TOPIC_EXPIRY_NEEDS_UPDATE;
        return true;
    }
    return md_add(md, topic, now, hint);
}

bool kp_metadata_contains_topic(const kp_metadata *md, const char *topic) {
    return md_find(md, topic) != NULL;
}

size_t kp_metadata_topic_count(const kp_metadata *md) { return md->nt; }

const char *kp_metadata_topic_at(const kp_metadata *md, size_t i) {
    return i < md->nt ? md->topics[i].name : NULL;
}

int32_t kp_metadata_request_update(kp_metadata *md, int64_t now) {
    md->need_update = true;
    md_emit(md, KP_EV_METADATA_UPDATE_REQUESTED, now, NULL, md->version, "requestUpdate");
    return md->version;
}

bool kp_metadata_update_requested(const kp_metadata *md) { return md->need_update; }

int64_t kp_metadata_time_to_allow_update(const kp_metadata *md, int64_t now) {
    int64_t t = md->last_refresh_ms + md->refresh_backoff_ms - now;
    return t > 0 ? t : 0;
}

int64_t kp_metadata_time_to_next_update(const kp_metadata *md, int64_t now) {
    int64_t expire = 0;
    if (!md->need_update) {
        expire = md->last_successful_refresh_ms + md->metadata_expire_ms - now;
        if (expire < 0)
            expire = 0;
    }
    int64_t allow = kp_metadata_time_to_allow_update(md, now);
    return expire > allow ? expire : allow;
}

/* getClusterForCurrentTopics: the new cluster restricted to the topics in
 * the set (needMetadataForAllTopics). NULL on allocation failure. */
static kp_cluster *restrict_to_topics(const kp_metadata *md, const kp_cluster *src) {
    kp_cluster *cl = kp_cluster_new();
    if (!cl)
        return NULL;
    kp_err e = KP_ERR_NONE;
    kp_cluster_set_id(cl, src->id);
    kp_cluster_set_controller(cl, src->controller);
    for (size_t i = 0; i < src->nn && !e; i++)
        e = kp_cluster_add_node(cl, src->nodes[i].id, src->nodes[i].host, src->nodes[i].port,
                                src->nodes[i].rack);
    for (size_t i = 0; i < src->nt && !e; i++) {
        const cl_topic *t = &src->topics[i];
        bool keep = md_find(md, t->name) != NULL ||
                    t->error == KP_ERR_INVALID_TOPIC_EXCEPTION; /* invalid topics are kept */
        if (!keep)
            continue;
        e = kp_cluster_add_topic(cl, t->name, t->error, t->internal);
        for (size_t j = 0; j < t->np && !e; j++) {
            const kp_partition_info *pi = &t->parts[j];
            e = kp_cluster_add_partition(cl, t->name, pi->partition, pi->leader, pi->leader_epoch,
                                         pi->replicas, pi->replica_count, pi->isr, pi->isr_count,
                                         pi->offline, pi->offline_count, pi->error);
        }
    }
    if (e) {
        kp_cluster_destroy(cl);
        return NULL;
    }
    kp_cluster_seal(cl);
    return cl;
}

bool kp_metadata_update(kp_metadata *md, kp_cluster *cl, int64_t now) {
    if (!cl)
        return false;
    if (md->closed) {
        kp_cluster_destroy(cl);
        return false;
    }
    kp_cluster_seal(cl);
    if (cl->nn == 0) {
        /* "don't update the cluster if there are no valid nodes" */
        kp_cluster_destroy(cl);
        kp_metadata_failed_update(md, now, KP_ERR_NONE);
        md_emit(md, KP_EV_METADATA_UPDATE_FAILED, now, NULL, md->version,
                "Ignoring empty metadata response");
        return false;
    }
    md->need_update = false;
    md->last_refresh_ms = now;
    md->last_successful_refresh_ms = now;
    md->version += 1;
    if (md->topic_expiry) {
        size_t w = 0;
        for (size_t i = 0; i < md->nt; i++) {
            md_topic *t = &md->topics[i];
            if (t->expire_ms == KP_TOPIC_EXPIRY_NEEDS_UPDATE) {
                t->expire_ms = now + KP_TOPIC_EXPIRY_MS;
            } else if (t->expire_ms <= now) {
                md_emit(md, KP_EV_METADATA_TOPIC_EXPIRED, now, t->name, t->expire_ms, NULL);
                free(t->name);
                continue;
            }
            md->topics[w++] = *t;
        }
        if (w != md->nt && ++md->topics_gen == 0)
            md->topics_gen = 1; /* 0 means "unknown" */
        md->nt = w;
    }
    for (int i = 0; i < md->nlisteners; i++)
        md->listeners[i].fn(md->listeners[i].ctx, cl);
    kp_cluster *next = cl;
    if (md->need_all_topics) {
        md->need_update = false;
        kp_cluster *r = restrict_to_topics(md, cl);
        if (r) {
            kp_cluster_destroy(cl);
            next = r;
        }
    }
    kp_cluster_destroy(md->cluster);
    md->cluster = next;
    md->cluster_gen = next->generation; /* sealed above: final */
    md_emit(md, KP_EV_METADATA_UPDATED, now, NULL, md->version, NULL);
    return true;
}

void kp_metadata_failed_update(kp_metadata *md, int64_t now, kp_err auth_err) {
    md->last_refresh_ms = now;
    md->auth_err = auth_err;
}

kp_err kp_metadata_take_auth_error(kp_metadata *md) {
    kp_err e = md->auth_err;
    md->auth_err = KP_ERR_NONE;
    return e;
}

int32_t kp_metadata_version(const kp_metadata *md) { return md->version; }
const int32_t *kp_metadata_version_ref(const kp_metadata *md) { return &md->version; }
int64_t kp_metadata_last_refresh(const kp_metadata *md) { return md->last_refresh_ms; }
int64_t kp_metadata_last_successful_update(const kp_metadata *md) {
    return md->last_successful_refresh_ms;
}

void kp_metadata_set_need_all_topics(kp_metadata *md, bool v) {
    if (v && !md->need_all_topics)
        request_update_for_new_topics(md, md->last_refresh_ms, "all topics");
    md->need_all_topics = v;
}

bool kp_metadata_need_all_topics(const kp_metadata *md) { return md->need_all_topics; }

kp_err kp_metadata_add_listener(kp_metadata *md, kp_metadata_listener_fn *fn, void *ctx) {
    if (md->nlisteners == 4)
        return KP_ERR__NOMEM;
    md->listeners[md->nlisteners++] = (md_listener){ fn, ctx };
    return KP_ERR_NONE;
}

void kp_metadata_close(kp_metadata *md) { md->closed = true; }
bool kp_metadata_is_closed(const kp_metadata *md) { return md->closed; }

kp_err kp_metadata_bootstrap(kp_metadata *md, const char *servers, int64_t now) {
    kp_err err;
    kp_cluster *cl = kp_cluster_bootstrap(servers, &err);
    if (!cl)
        return err;
    kp_metadata_update(md, cl, now);
    return KP_ERR_NONE;
}
