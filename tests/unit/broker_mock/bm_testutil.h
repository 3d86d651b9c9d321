/*
 * bm_testutil.h — what the broker_mock unit tests share: a world with a
 * fake clock the test moves itself, an event recorder, RecordBatch v2
 * builders (through protocol/kp_record_batch.h), and a client that speaks
 * frames over a bm_conn (encodes requests with protocol/kp_proto.h, feeds
 * them in chunks of a chosen size, decodes the responses).
 *
 * Memory: a bmt_world owns its cluster and its recorded events; a
 * bmt_client owns its output buffer; free both with their _free.
 */
#ifndef BM_TESTUTIL_H
#define BM_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bm_cluster.h"
#include "bm_conn.h"
#include "bm_events.h"
#include "kp_proto.h"

typedef struct bmt_event {
    int kind;
    int32_t node;
    int32_t partition;
    int64_t offset;
    int64_t value;
    kp_err err;
    int16_t api_key;
    bool watched_topic; /* its topic is the very pointer w->watch_topic */
    char detail[160];
    const char *detail_ptr; /* the event's detail pointer (compare only:
                             * it may be gone after the event) */
} bmt_event;

typedef struct bmt_world {
    kp_time_us now;
    bm_cluster *c;
    bmt_event *ev;
    size_t nev, capev;
    const char *watch_topic; /* NULL, or a pointer events are checked against */
} bmt_world;

/* conf NULL = defaults with 3 brokers. */
bmt_world *bmt_new(const bm_config *conf);
void bmt_free(bmt_world *w);
/* Moves the clock forward by `us`, running bm_cluster_poll at every
 * deadline on the way and at the end. */
void bmt_advance(bmt_world *w, kp_time_us us);
/* Poll now (after a feed or admin call). */
void bmt_poll(bmt_world *w);
int bmt_count(const bmt_world *w, int kind);
const bmt_event *bmt_last(const bmt_world *w, int kind);
/* Aborts the test if bm_cluster_verify finds a broken invariant. */
void bmt_verify(const bmt_world *w);

/* A RecordBatch v2 of `count` records (key "k<i>", value of value_len
 * bytes) with the given producer state; returns its size. */
size_t bmt_batch(uint8_t *buf, size_t cap, int64_t pid, int16_t epoch, int32_t seq,
                 int32_t count, bool transactional, size_t value_len);

/* Builds and produces a batch directly to the cluster. */
bm_produce_result bmt_produce(bmt_world *w, int32_t broker, const char *topic, int32_t part,
                              int16_t acks, int64_t pid, int16_t epoch, int32_t seq,
                              int32_t count);

/* Records of a partition's leader log: offsets and values (first 64). */
typedef struct bmt_log {
    int32_t n;
    int64_t offset[4096];
    int64_t pid[4096];
    int32_t seq[4096];
    int txn_state[4096];
    bool control[4096];
} bmt_log;
void bmt_read(bmt_world *w, const char *topic, int32_t part, bmt_log *out);

typedef struct bmt_client {
    bmt_world *w;
    bm_conn *conn;
    uint8_t *out;
    size_t out_len, out_cap;
    bool closed;
    char reason[256];
    kp_arena *arena;
    /* a keeping carrier (bmt_client_open_keeping): the fed bytes wait in
     * this ring until the connection releases them */
    uint8_t *ring;
    size_t ring_cap, ring_head, ring_len;
    size_t released; /* bytes released so far */
} bmt_client;

bmt_client *bmt_client_open(bmt_world *w, int32_t broker);
/* A client whose carrier keeps the fed bytes in a ring of ring_cap bytes
 * (a power of two) starting at offset head (so frames can lie across its
 * end) and feeds with bm_conn_feed_kept, as simnet's links do. */
bmt_client *bmt_client_open_keeping(bmt_world *w, int32_t broker, size_t ring_cap, size_t head);
void bmt_client_free(bmt_client *cl);
/* Encodes a request frame and feeds it `chunk` bytes at a time (0 = all
 * at once); polls after each chunk. */
void bmt_send(bmt_client *cl, int16_t api_key, int16_t version, int32_t corr, const void *body,
              size_t chunk);
/* Feeds raw bytes. */
void bmt_feed(bmt_client *cl, const void *bytes, size_t len, size_t chunk);
/* Pops the next whole response frame; decodes it as (api_key, version).
 * False when no whole frame is there. */
bool bmt_recv(bmt_client *cl, int16_t api_key, int16_t version, kp_response *out);
/* Whole frames waiting. */
int bmt_pending_frames(const bmt_client *cl);

#endif
