/*
 * kp_compression_estimator.c — CompressionRatioEstimator, per producer.
 * Topics in an array in first-use order; lookups by string compare (a
 * producer writes to a handful of topics; the last hit is cached).
 */
#include "kp_compression_estimator.h"

#include <stdlib.h>
#include <string.h>

typedef struct est_entry {
    char *topic;
    float ratio[KP_CODEC_COUNT];
} est_entry;

struct kp_compression_estimator {
    est_entry *e;
    size_t n, cap;
    size_t last; /* index of the last hit */
    uint32_t gen; /* of the indices (kp_hint); from 1, bumped by remove */
};

kp_compression_estimator *kp_compression_estimator_new(void) {
    kp_compression_estimator *e = calloc(1, sizeof(kp_compression_estimator));
    if (e)
        e->gen = 1;
    return e;
}

void kp_compression_estimator_destroy(kp_compression_estimator *e) {
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++)
        free(e->e[i].topic);
    free(e->e);
    free(e);
}

static void init_ratios(est_entry *x) {
    for (int i = 0; i < KP_CODEC_COUNT; i++)
        x->ratio[i] = 1.0f; /* CompressionType.rate, all 1.0 in 2.1.1 */
}

/* getAndCreateEstimationIfAbsent; NULL only when out of memory. */
static est_entry *get(kp_compression_estimator *e, const char *topic, bool create) {
    if (e->last < e->n && strcmp(e->e[e->last].topic, topic) == 0)
        return &e->e[e->last];
    for (size_t i = 0; i < e->n; i++) {
        if (strcmp(e->e[i].topic, topic) == 0) {
            e->last = i;
            return &e->e[i];
        }
    }
    if (!create)
        return NULL;
    if (e->n == e->cap) {
        size_t nc = e->cap ? e->cap * 2 : 8;
        est_entry *ne = realloc(e->e, nc * sizeof *ne);
        if (!ne)
            return NULL;
        e->e = ne;
        e->cap = nc;
    }
    char *copy = strdup(topic);
    if (!copy)
        return NULL;
    est_entry *x = &e->e[e->n];
    x->topic = copy;
    init_ratios(x);
    e->last = e->n++;
    return x;
}

/* get through a hint: an index of this generation names the same topic
 * (entries move only on remove, which changes the generation). */
static est_entry *get_h(kp_compression_estimator *e, const char *topic, kp_hint *h) {
    if (kp_hint_hit(h, e->gen, e->n))
        return &e->e[h->ix];
    est_entry *x = get(e, topic, true);
    if (x)
        kp_hint_set(h, e->gen, (size_t)(x - e->e));
    return x;
}

static bool codec_ok(kp_codec c) {
    return (int)c >= 0 && (int)c < KP_CODEC_COUNT;
}

float kp_compression_estimator_get(kp_compression_estimator *e, const char *topic,
                                   kp_codec codec) {
    return kp_compression_estimator_get_h(e, topic, codec, NULL);
}

float kp_compression_estimator_get_h(kp_compression_estimator *e, const char *topic,
                                     kp_codec codec, kp_hint *hint) {
    est_entry *x = get_h(e, topic, hint);
    if (!x || !codec_ok(codec))
        return 1.0f;
    return x->ratio[codec];
}

float kp_compression_estimator_update(kp_compression_estimator *e, const char *topic,
                                      kp_codec codec, float observed) {
    return kp_compression_estimator_update_h(e, topic, codec, observed, NULL);
}

float kp_compression_estimator_update_h(kp_compression_estimator *e, const char *topic,
                                        kp_codec codec, float observed, kp_hint *hint) {
    est_entry *x = get_h(e, topic, hint);
    if (!x || !codec_ok(codec))
        return 1.0f;
    float cur = x->ratio[codec];
    if (observed > cur) {
        float up = cur + KP_COMPRESSION_RATIO_DETERIORATE_STEP;
        x->ratio[codec] = up > observed ? up : observed;
    } else if (observed < cur) {
        x->ratio[codec] = cur - KP_COMPRESSION_RATIO_IMPROVING_STEP;
    }
    return x->ratio[codec];
}

void kp_compression_estimator_set(kp_compression_estimator *e, const char *topic,
                                  kp_codec codec, float ratio) {
    est_entry *x = get(e, topic, true);
    if (x && codec_ok(codec))
        x->ratio[codec] = ratio;
}

void kp_compression_estimator_reset(kp_compression_estimator *e, const char *topic) {
    est_entry *x = get(e, topic, true);
    if (x)
        init_ratios(x);
}

void kp_compression_estimator_remove(kp_compression_estimator *e, const char *topic) {
    est_entry *x = get(e, topic, false);
    if (!x)
        return;
    size_t i = (size_t)(x - e->e);
    free(x->topic);
    memmove(&e->e[i], &e->e[i + 1], (e->n - i - 1) * sizeof *x);
    e->n--;
    e->last = 0;
    if (++e->gen == 0)
        e->gen = 1; /* 0 means "unknown" */
}
