/*
 * fake_broker.h — a scripted Kafka peer for the producer's unit tests, in
 * the spirit of Kafka's MockClient/MockTime but at the byte level: it is a
 * fake kp_transport plus a fake clock. Requests written by the producer are
 * decoded with the protocol codecs and answered as the test scripts:
 *
 *   - ApiVersions: the kp_api_supported table, narrowed per node;
 *   - Metadata: the nodes and topics the test declared (fb_add_topic);
 *   - InitProducerId: producer ids 1000, 1001, ... or scripted errors;
 *     with a transactional.id (at the coordinator only): one producer id
 *     for the id, epoch 0, 1, ... (each init fences the previous epoch and
 *     aborts its open transaction);
 *   - FindCoordinator / AddPartitionsToTxn / EndTxn for one transactional
 *     id: the coordinator is a chosen node (others answer NOT_COORDINATOR),
 *     old epochs get INVALID_PRODUCER_EPOCH (Produce too), EndTxn marks the
 *     open transaction's records committed or aborted;
 *   - Produce: appends to a per-partition log (values kept for checks)
 *     with a 2.1-like idempotent sequence check (duplicate within the last
 *     5 batches -> the original offset; gap -> OUT_OF_ORDER_SEQUENCE_NUMBER),
 *     unless an error is scripted for that partition (fb_inject).
 *
 * Responses can be held (fb_hold) and released one by one (fb_release) to
 * control in-flight counts, or lost with a disconnect (fb_disconnect);
 * requests whose batches the producer lends can be left unread
 * (fb_hold_requests) to see what the broker reads later.
 * Self-contained: every symbol starts with fb_; linked into every producer
 * test driver. Memory: everything is owned by the fb world; fb_free frees.
 */
#ifndef FAKE_BROKER_H
#define FAKE_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_env.h"

#define FB_MAX_NODES 8
#define FB_MAX_TOPICS 8
#define FB_MAX_PARTS 16
#define FB_MAX_LOG 4096
#define FB_MAX_REQS 4096

typedef struct fb_world fb_world;

typedef struct fb_req {
    int32_t node;
    int16_t api_key;
    int16_t api_version;
    int32_t corr;
    int16_t acks;
    int nparts;                 /* produce: partitions in the request */
    char topic[8][32];
    int32_t partition[8];
    int32_t base_seq[8];
    int32_t count[8];
    int64_t pid[8];
    int32_t bytes[8];
    int64_t at_ms;              /* when the broker read it */
} fb_req;

fb_world *fb_new(void);
void fb_free(fb_world *w);

/* The clock (ms, us) and an env for the producer: clock, transport,
 * observer (may be NULL), rng stream of seed 1, wakeup counter. */
kp_env fb_env(fb_world *w, const kp_observer *obs);
void fb_set_now_ms(fb_world *w, int64_t ms);
void fb_advance_ms(fb_world *w, int64_t ms);
int64_t fb_now_ms(const fb_world *w);
int fb_wakeups(const fb_world *w);

/* Brokers: host "b<id>", port 9000 + id. */
void fb_add_node(fb_world *w, int32_t id);
void fb_add_topic(fb_world *w, const char *topic, int nparts); /* leader = node[p % nnodes] */
void fb_set_leader(fb_world *w, const char *topic, int32_t partition, int32_t leader);
void fb_set_topic_error(fb_world *w, const char *topic, int16_t err); /* metadata topic error */

/* Connection behaviour per node. */
void fb_refuse(fb_world *w, int32_t node, bool refuse);        /* connects fail */
void fb_hold_connect(fb_world *w, int32_t node, bool hold);     /* stay CONNECTING */
void fb_complete_connect(fb_world *w, int32_t node);
void fb_set_api_max(fb_world *w, int32_t node, int16_t api_key, int16_t max); /* -1 removes */
void fb_set_recv_chunk(fb_world *w, size_t max_bytes);          /* partial reads */
int fb_recv_calls(const fb_world *w);   /* transport recv() calls so far */
/* The env's transport offers sendv (send of the joined pieces); calls so
 * far. A test that wants the plain send path clears env.transport.sendv. */
int fb_sendv_calls(const fb_world *w);
int fb_reclaims(const fb_world *w);  /* transport reclaim() calls */
/* sendv calls with more than one piece: frames sent with bytes gathered
 * from where they lie (the producer's batches). */
int fb_sendv_gathered(const fb_world *w);
void fb_set_throttle(fb_world *w, int32_t node, int32_t throttle_ms);
void fb_set_message_max_bytes(fb_world *w, int32_t max);        /* MESSAGE_TOO_LARGE above */
void fb_set_idempotence_checks(fb_world *w, bool on);           /* default on */

/* Responses: hold them (the request is processed, the answer waits), then
 * release the oldest n held answers of a node. blackhole: requests vanish. */
void fb_hold(fb_world *w, int32_t node, bool hold);
int fb_release(fb_world *w, int32_t node, int n);
int fb_held(const fb_world *w, int32_t node);
void fb_blackhole(fb_world *w, int32_t node, bool on);
/* Requests not yet read: while a node's requests are held, a gathered
 * write that may lend pieces (kp_transport.sendv_keep) is kept as it was
 * given, the lent pieces by reference, as simnet keeps them; the broker
 * reads them when released (fb_release_requests), so a change the
 * producer makes to lent bytes before then, without reclaiming them
 * first (kp_transport.reclaim copies what is still lent), reaches the
 * broker. Other writes are read at once, as always. fb_lent counts the
 * requests of a node still unread. */
void fb_hold_requests(fb_world *w, int32_t node, bool hold);
int fb_release_requests(fb_world *w, int32_t node);
int fb_lent(const fb_world *w, int32_t node);
/* Resets the node's live connection (held answers are lost). */
void fb_disconnect(fb_world *w, int32_t node);
bool fb_connected(const fb_world *w, int32_t node);
int fb_connects(const fb_world *w, int32_t node); /* connect attempts */

/* The next `times` Produce answers for topic-partition carry err (the
 * batch is not appended). log_start is the answer's log_start_offset. */
void fb_inject(fb_world *w, const char *topic, int32_t partition, int16_t err, int times,
               int64_t log_start);
/* The next `times` InitProducerId answers carry err. */
void fb_inject_init_pid(fb_world *w, int16_t err, int times);
/* Transactions (one transactional.id). The coordinator defaults to the
 * first node. fb_inject_api: the next `times` answers of api_key
 * (FindCoordinator, InitProducerId with a transactional.id,
 * AddPartitionsToTxn, EndTxn) carry err. fb_fence: another producer
 * initialised the same id (epoch + 1). */
#define FB_TXN_NONE 0
#define FB_TXN_OPEN 1
#define FB_TXN_COMMITTED 2
#define FB_TXN_ABORTED 3
void fb_set_coordinator(fb_world *w, int32_t node);
void fb_inject_api(fb_world *w, int16_t api_key, int16_t err, int times);
void fb_fence(fb_world *w);
int fb_txn_commits(const fb_world *w);
int fb_txn_aborts(const fb_world *w);
int fb_txn_partitions(const fb_world *w); /* added to the open transaction */
int16_t fb_txn_epoch(const fb_world *w);
/* FB_TXN_* of the i-th record of a partition log, -1 if none */
int fb_log_txn_state(const fb_world *w, const char *topic, int32_t partition, int i);

/* Forget the producer state of every partition (UNKNOWN_PRODUCER_ID next). */
void fb_forget_producers(fb_world *w, int64_t log_start);

/* Requests seen (in order). */
int fb_nreqs(const fb_world *w);
const fb_req *fb_req_at(const fb_world *w, int i);
int fb_count_api(const fb_world *w, int16_t api_key);

/* Partition logs: records appended, their values (NUL-terminated copies). */
int fb_log_len(const fb_world *w, const char *topic, int32_t partition);
const char *fb_log_value(const fb_world *w, const char *topic, int32_t partition, int i);



/* Partial writes: each connection's send() accepts at most `bytes` until
 * the next fb_writable (which fires WRITABLE). SIZE_MAX: no limit. */
void fb_set_send_window(fb_world *w, size_t bytes);
void fb_writable(fb_world *w, int32_t node);

/* Puts raw bytes on the node's live connection as if the broker sent them. */
void fb_push_raw(fb_world *w, int32_t node, const void *bytes, size_t len);

#endif
