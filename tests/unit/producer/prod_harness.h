/*
 * prod_harness.h — a whole producer (kp_producer) over the fake broker
 * with a fake clock, for the Sender / TransactionManager / facade tests:
 * builds the producer from "name=value" settings, runs it like the
 * simulation driver does (advance the clock by what run_once returns,
 * bounded), and records every callback. Self-contained: symbols ph_.
 */
#ifndef PROD_HARNESS_H
#define PROD_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "fake_broker.h"
#include "kp_producer.h"

#define PH_MAX_CB 4096

typedef struct ph_cb {
    int id;              /* the send's number */
    kp_err err;
    int64_t offset;
    int32_t partition;
    int64_t at_ms;
    char msg[160];
    char topic[32];      /* md->topic as the callback saw it */
} ph_cb;

typedef struct ph {
    fb_world *w;
    kp_env env;
    kp_producer *p;
    ph_cb cbs[PH_MAX_CB];
    int ncb;
    int per_id[PH_MAX_CB]; /* callbacks per send id */
    int next_id;
    int unblocked;
    int flushed;
    int closed;
    int events[200];     /* count per producer event kind - 100 */
    kp_err last_err[200]; /* err of the last event per producer kind - 100 */
    uint64_t trace_hash; /* FNV-1a over every event's fields, in order */
    int bad_answers;     /* produce_response events of no batch (malformed body) */
    kp_err bad_answer_err;
    kp_observer obs;
} ph;

/* nodes brokers 0..nodes-1, topic "t" with nparts partitions; settings are
 * "name=value" strings, NULL-terminated. bootstrap is set to b0:9000. */
ph *ph_new(int nodes, int nparts, const char *const *settings);
void ph_free(ph *h);

/* Sends value "v<id>" (key NULL unless key given) to t/partition (-1 none).
 * Returns the status; *id the send's number. */
kp_send_status ph_send(ph *h, int32_t partition, const char *key, int *id);
kp_send_status ph_send_value(ph *h, int32_t partition, const char *value, int *id, kp_err *err);

/* Runs the producer: one run_once, then advance the clock by its answer
 * clamped to [0, max_step_ms] (at least 1 ms when it returned 0 twice). */
void ph_step(ph *h, int64_t max_step_ms);
/* Steps until the simulated time passed ms. */
void ph_run_for(ph *h, int64_t ms);
/* Steps until every send got its callback or ms passed; true if all. */
bool ph_run_until_acked(ph *h, int64_t ms);

int ph_callbacks_ok(const ph *h);
int ph_callbacks_err(const ph *h, kp_err err);
int ph_callbacks_total(const ph *h);
const ph_cb *ph_cb_of(const ph *h, int id); /* last callback of a send */
bool ph_each_once(const ph *h);             /* every send so far exactly one callback */

#endif
