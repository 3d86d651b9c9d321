/*
 * acc_fixtures.h — small builders shared by the accumulator-side producer
 * tests (header-only so each driver links only what it uses): clusters with
 * a given leader layout, a record-callback recorder, an event recorder.
 */
#ifndef ACC_FIXTURES_H
#define ACC_FIXTURES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kp_batch.h"
#include "kp_env.h"
#include "kp_metadata.h"

/* A sealed cluster: nodes 0..nnodes-1 (localhost:9092+i), topic with
 * nparts partitions led by leaders[i] (-1 = no leader). */
static inline kp_cluster *fx_cluster(int nnodes, const char *topic, int nparts,
                                     const int32_t *leaders) {
    kp_cluster *cl = kp_cluster_new();
    for (int i = 0; i < nnodes; i++)
        kp_cluster_add_node(cl, i, "localhost", 9092 + i, NULL);
    if (topic) {
        kp_cluster_add_topic(cl, topic, KP_ERR_NONE, false);
        for (int p = 0; p < nparts; p++) {
            int32_t l = leaders ? leaders[p] : 0;
            kp_cluster_add_partition(cl, topic, p, l, 0, &l, 1, &l, 1, NULL, 0, KP_ERR_NONE);
        }
    }
    kp_cluster_seal(cl);
    return cl;
}

/* Records every callback. */
#define FX_MAX_CB 4096
typedef struct fx_cb {
    int count;
    int64_t offsets[FX_MAX_CB];
    int64_t timestamps[FX_MAX_CB];
    kp_err errs[FX_MAX_CB];
    int32_t partitions[FX_MAX_CB];
    intptr_t tags[FX_MAX_CB];
} fx_cb;

typedef struct fx_cb_ctx {
    fx_cb *rec;
    intptr_t tag;
} fx_cb_ctx;

static inline void fx_record_cb(void *ctx, const kp_record_metadata *md, kp_err err,
                                const char *errmsg) {
    (void)errmsg;
    fx_cb_ctx *c = ctx;
    fx_cb *r = c->rec;
    if (r->count < FX_MAX_CB) {
        r->offsets[r->count] = md->offset;
        r->timestamps[r->count] = md->timestamp;
        r->errs[r->count] = err;
        r->partitions[r->count] = md->partition;
        r->tags[r->count] = c->tag;
    }
    r->count++;
}

/* Counts events per kind. */
typedef struct fx_events {
    int count[512];
    int total;
} fx_events;

static inline void fx_on_event(void *ctx, const kp_event *ev) {
    fx_events *e = ctx;
    if (ev->kind >= 0 && ev->kind < 512)
        e->count[ev->kind]++;
    e->total++;
}

static inline kp_slice fx_s(const char *s) {
    return kp_slice_str(s);
}

#endif
