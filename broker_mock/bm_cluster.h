/*
 * bm_cluster.h — an in-process Kafka 2.1 cluster: brokers, topics,
 * partitions with replicas / ISR / leader epoch, logs of record batches,
 * follower replication on the clock, idempotent producer state, a
 * transaction coordinator, quotas and error injection.
 *
 * Why: the producer under test needs a peer that behaves like a 2.1 broker
 * *deterministically*, and that a test can break on purpose (crash a broker,
 * move a leader, make the next three Produce requests fail). broker_mock
 * takes request bytes and returns response bytes (bm_conn.h); it does not
 * know whether simnet or a socket carried them.
 *
 * Time (the contract with the driver):
 *   - every call reads "now" from env->clock;
 *   - time-driven work (replication fetches, ISR shrink checks, acks=all
 *     completion and timeouts, delayed responses, throttled channels, transaction
 *     markers and timeouts) happens in bm_cluster_poll(c, now), which
 *     returns the next time it wants to be called (BM_TIME_NEVER when idle);
 *   - after bm_conn_feed() or any admin call, the driver calls
 *     bm_cluster_poll() again (or at least before the deadline it last
 *     returned): those calls may create earlier deadlines. When the env
 *     has a wakeup hook, the cluster also calls it whenever it creates new
 *     time-driven work.
 *   A simulation driver schedules one event at the returned deadline; the
 *   live driver (tools/cmd_broker.c) uses it as its poll() timeout.
 *
 * Memory: bm_cluster_new copies the config (strings too); the env is
 * copied by value, its ctx pointers are borrowed and must outlive the
 * cluster. Batches are stored once (one malloc per batch, never per
 * record) and shared by reference between the replicas' logs and fetch
 * responses. bm_cluster_destroy frees everything, connections included.
 * With a digester (bm_cluster_set_digester, what a simulation uses) a
 * data batch keeps its header fields and one bm_digest per record instead
 * of its bytes: 12 bytes a record instead of the record, so a long run's
 * logs do not grow with the records' size; such a cluster cannot serve
 * Fetch (record bytes), everything else is unchanged. With a settle hook
 * too (bm_cluster_set_settler), a settled batch is folded: its header
 * leaves every replica's log and is freed, and the producer state a new
 * leader would replay from it is kept per producer id (the 5-batch window,
 * epoch) plus the offsets of aborted transactions' batches, so the logs
 * hold only the unsettled suffix and memory does not grow with the batch
 * count. Every answer stays the same except two that need the folded
 * batches themselves: reading records below the settled offset
 * (KP_ERR__STATE, as before) and ListOffsets by timestamp when the first
 * batch at or after the timestamp may be a folded one (KAFKA_STORAGE_ERROR,
 * like Fetch; no simulated client sends ListOffsets).
 *
 * Determinism: every collection is an array in creation order; the only
 * randomness is the cluster's rng stream (env->rng) with per-broker
 * substreams "broker/<id>" for chaos errors.
 *
 * Faithfulness notes (Kafka 2.1.1, checked in its sources):
 *   - a retried batch whose (epoch, first seq, last seq) matches one of the
 *     last 5 batches of its producer is NOT appended; 2.1 answers NONE with
 *     the original base offset (Log.append returns the duplicate's
 *     metadata). bm_config.duplicate_as_error=true answers
 *     DUPLICATE_SEQUENCE_NUMBER instead (what 0.11-era brokers did);
 *   - ProducerStateManager.checkSequence: new epoch needs seq 0 (else
 *     OUT_OF_ORDER, or UNKNOWN_PRODUCER_ID when the producer is unknown);
 *     same epoch but no known last sequence -> UNKNOWN_PRODUCER_ID; a gap
 *     -> OUT_OF_ORDER_SEQUENCE_NUMBER; lower epoch -> INVALID_PRODUCER_EPOCH;
 *   - batch size > message.max.bytes (the whole batch, header included)
 *     -> MESSAGE_TOO_LARGE; size == limit is accepted;
 *   - acks=all: NOT_ENOUGH_REPLICAS before append when ISR < min.insync;
 *     completion when the high watermark reaches the batch end, then
 *     NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below min.insync.
 */
#ifndef BM_CLUSTER_H
#define BM_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_buf.h"
#include "kp_env.h"
#include "kp_err.h"

#define BM_TIME_NEVER INT64_MAX
#define BM_MAX_BROKERS 64

typedef struct bm_cluster bm_cluster;

/* ------------------------------------------------------------------ */
/* Configuration (broker settings keep their Kafka names in comments)  */
/* ------------------------------------------------------------------ */

typedef struct bm_config {
    int32_t brokers;                    /* N brokers, ids 0..N-1 (default 3) */
    char host[64];                      /* advertised host (default "localhost") */
    int32_t port_base;                  /* broker i advertises port_base + i (9092) */
    char cluster_id[64];                /* "kpsim-cluster" */
    int32_t num_partitions;             /* num.partitions for auto-created topics (1) */
    int32_t default_replication_factor; /* default.replication.factor, capped at N (3) */
    int32_t min_insync_replicas;        /* min.insync.replicas (1) */
    int32_t message_max_bytes;          /* message.max.bytes (1000012) */
    bool auto_create_topics;            /* auto.create.topics.enable (true) */
    bool unclean_leader_election;       /* unclean.leader.election.enable (false) */
    bool log_append_time;               /* message.timestamp.type=LogAppendTime (false) */
    int64_t replica_fetch_interval_us;  /* a follower fetch every .. (5 ms) */
    int64_t replica_lag_us;             /* a batch reaches followers this late (0) */
    int64_t replica_lag_time_max_ms;    /* replica.lag.time.max.ms (10000) */
    int64_t transaction_max_timeout_ms; /* transaction.max.timeout.ms (900000) */
    int64_t txn_marker_delay_us;        /* EndTxn -> markers written (2 ms) */
    int64_t produce_quota_bytes_per_sec;/* per client.id produce quota, 0 = none */
    int64_t socket_request_max_bytes;   /* socket.request.max.bytes (104857600) */
    double chaos_error_rate;            /* P(a produced partition gets a random error) */
    bool duplicate_as_error;            /* answer DUPLICATE_SEQUENCE_NUMBER (not 2.1) */
} bm_config;

/* Fills Kafka 2.1 broker defaults (as listed above). */
void bm_config_defaults(bm_config *conf);

/* Sets one broker setting by its KafkaConfig name from a string (the
 * `broker.KEY=VALUE` of `--set` and scenario.proto's Cluster settings):
 *   message.max.bytes int >= 0 | min.insync.replicas int >= 1 |
 *   unclean.leader.election.enable bool | replica.lag.time.max.ms long >= 0 |
 *   replica.fetch.wait.max.ms int >= 0 (the follower fetch interval; 0 = 1 ms) |
 *   kpsim.replica.lag.ms long >= 0 | auto.create.topics.enable bool |
 *   num.partitions int >= 1 | default.replication.factor int >= 1 |
 *   quota.producer.default long >= 0 | log.message.timestamp.type
 *   CreateTime|LogAppendTime | transaction.max.timeout.ms long >= 1 |
 *   socket.request.max.bytes int >= 1 | kpsim.txn.marker.delay.ms long >= 0 |
 *   kpsim.chaos.error.rate 0..1 | kpsim.duplicate.as.error bool
 * bool = "true" / "false". KP_ERR__CONFIG with a message in errbuf (may be
 * NULL) for an unknown name or a bad value; conf is unchanged then. */
kp_err bm_config_set(bm_config *conf, const char *name, const char *value, char *errbuf,
                     size_t errlen);

/* Topic-level overrides (LogConfig names); -1 = use the broker's. */
typedef struct bm_topic_config {
    int32_t max_message_bytes;       /* max.message.bytes */
    int32_t min_insync_replicas;     /* min.insync.replicas */
    int8_t unclean_leader_election;  /* unclean.leader.election.enable: 0/1 */
    int8_t log_append_time;          /* message.timestamp.type: 0 Create, 1 LogAppend */
} bm_topic_config;

void bm_topic_config_defaults(bm_topic_config *tc);
/* max.message.bytes | min.insync.replicas | unclean.leader.election.enable |
 * message.timestamp.type; errors as bm_config_set. */
kp_err bm_topic_config_set(bm_topic_config *tc, const char *name, const char *value,
                           char *errbuf, size_t errlen);

/* Creates the cluster, every broker up, no topics. The controller view
 * elects leaders itself. Returns NULL on a bad config (brokers outside
 * 1..BM_MAX_BROKERS) or no memory. */
bm_cluster *bm_cluster_new(const bm_config *conf, const kp_env *env);
/* Frees everything; open connections are freed without io->close calls.
 * Accepts NULL. */
void bm_cluster_destroy(bm_cluster *c);

/* A record's digest, made by the embedding's digester when the leader
 * appends the record; opaque to the broker (the scenario runner stores the
 * checker's identity of the record and a hash of its key and value). */
typedef struct bm_digest {
    uint32_t w[3];
} bm_digest;

/* Called once per record, with its key and value (len -1 = null), while
 * the leader validates a data batch's records (LogValidator): so also for
 * records of a batch that is then rejected (a later record does not parse,
 * its producer state is wrong) or answered as a duplicate, whose digests
 * are dropped; only an appended batch keeps them. Never for control
 * batches. It must be a pure function of its arguments. */
typedef void bm_digest_fn(void *ctx, kp_slice key, kp_slice value, bm_digest *out);

/* From now on data batches keep per record only fn's digest, not their
 * bytes; bm_cluster_read_log hands the digests out (bm_record_view.digest)
 * and Fetch answers KAFKA_STORAGE_ERROR for every partition (there are no
 * bytes to serve). Control batches (transaction markers) keep their bytes.
 * Call it before the first append: a log holds one kind of batch or the
 * other only by accident, and nothing depends on which. fn NULL restores
 * byte logs for later appends. */
void bm_cluster_set_digester(bm_cluster *c, bm_digest_fn *fn, void *ctx);

/* A settled batch (or the part of it from the settled offset on): records
 * base_offset .. base_offset + count - 1 whose position no election,
 * truncation or transaction outcome can change any more. */
typedef struct bm_settled_batch {
    const char *topic;
    int32_t partition;
    int64_t base_offset;
    int32_t count;
    int64_t producer_id;      /* -1 when not idempotent */
    int16_t producer_epoch;
    bool control;             /* a commit/abort marker (no digests) */
    int txn_state;            /* BM_TXN_*, final */
    const bm_digest *digests; /* count digests in offset order; NULL for a
                               * control batch or a batch kept as bytes */
} bm_settled_batch;
typedef void bm_settle_fn(void *ctx, const bm_settled_batch *b);

/* With a digester: hand every batch to fn once it is settled — it is in
 * every replica's log (up or down: no leader election can remove it, no
 * follower truncates below it) and, for a transactional data batch, its
 * producer's commit/abort marker after it is too (so txn_state is final).
 * Per partition in offset order, each record once, control batches
 * included; then the batch drops its digests: a long run's logs keep per
 * record nothing but what bm_cluster_read_log_from still has to give (the
 * unsettled suffix, from bm_cluster_settled_offset on). Called from inside
 * the cluster (appends, replication, elections): fn must not call back
 * into it. Set it with the digester, before the first append. */
void bm_cluster_set_settler(bm_cluster *c, bm_settle_fn *fn, void *ctx);
/* Records below this offset of topic/partition were handed to the settle
 * hook (0 without one); -1 for an unknown partition. */
int64_t bm_cluster_settled_offset(const bm_cluster *c, const char *topic, int32_t partition);

/* Runs every time-driven step due at `now` (now >= previous now) and
 * returns the next deadline, or BM_TIME_NEVER. */
kp_time_us bm_cluster_poll(bm_cluster *c, kp_time_us now);

const bm_config *bm_cluster_config(const bm_cluster *c);

/* ------------------------------------------------------------------ */
/* Topics and the controller view                                      */
/* ------------------------------------------------------------------ */

/* Creates a topic with replicas of partition p on brokers
 * (p + i) % N, i < replication_factor (first = preferred leader).
 * replication_factor <= 0 uses the default. KP_ERR_TOPIC_ALREADY_EXISTS,
 * KP_ERR_INVALID_PARTITIONS, KP_ERR_INVALID_REPLICATION_FACTOR,
 * KP_ERR_INVALID_TOPIC_EXCEPTION (empty / too long / bad characters). */
kp_err bm_cluster_create_topic(bm_cluster *c, const char *topic,
                               int32_t partitions, int32_t replication_factor);
/* The same with topic-level overrides (tc NULL = none). */
kp_err bm_cluster_create_topic_with(bm_cluster *c, const char *topic, int32_t partitions,
                                    int32_t replication_factor, const bm_topic_config *tc);

typedef struct bm_partition_info {
    int32_t leader;        /* -1 when none */
    int32_t leader_epoch;
    int32_t replicas[BM_MAX_BROKERS];
    int32_t nreplicas;
    int32_t isr[BM_MAX_BROKERS];
    int32_t nisr;
    int64_t log_start_offset;
    int64_t log_end_offset;    /* leader's (or -1 without a leader) */
    int64_t high_watermark;
    int64_t last_stable_offset;
    int64_t replica_leo[BM_MAX_BROKERS]; /* per replica, index as replicas[] */
} bm_partition_info;

/* Topics in creation order (index 0 .. count-1; topics are never removed).
 * A topic's name keeps its address and bytes until bm_cluster_destroy;
 * the events about a partition (replication, high watermark, ...) carry
 * this pointer as their topic. */
int32_t bm_cluster_topic_count(const bm_cluster *c);
/* True when s (an event's detail) is one of the cluster's client ids: the
 * REQUEST event's detail is the cluster's copy of the request's client id
 * (one per distinct id), which keeps its address and bytes until
 * bm_cluster_destroy, so an observer may key a cache on its address (the
 * runner's digest pins it). A walk over the distinct ids: for an
 * observer's slow path, not per event. */
bool bm_cluster_detail_is_stable(const bm_cluster *c, const char *s);
const char *bm_cluster_topic_name(const bm_cluster *c, int32_t index);
/* Partitions of a topic, -1 if unknown. */
int32_t bm_cluster_partition_count(const bm_cluster *c, const char *topic);
kp_err bm_cluster_partition_info(const bm_cluster *c, const char *topic,
                                 int32_t partition, bm_partition_info *out);

/* ------------------------------------------------------------------ */
/* Faults and admin                                                    */
/* ------------------------------------------------------------------ */

/* Crash: the broker stops; its connections are closed (io->close with
 * reason "broker crashed"); it leaves every ISR; partitions it led elect a
 * new leader from the ISR (or, with unclean election, from any live
 * replica; else none). Its log stays as it was ("on disk"). */
kp_err bm_cluster_crash_broker(bm_cluster *c, int32_t broker_id);
/* Restart: the broker comes back as a follower everywhere (or leader where
 * the partition had none and it is the last ISR member), truncates to its
 * leader's log, catches up, and rejoins the ISR when caught up. */
kp_err bm_cluster_restart_broker(bm_cluster *c, int32_t broker_id);
bool bm_cluster_broker_is_up(const bm_cluster *c, int32_t broker_id);

/* Controlled leader move. The new leader must be a live ISR member unless
 * `unclean` (then any live replica; the others truncate to it). */
kp_err bm_cluster_move_leader(bm_cluster *c, const char *topic, int32_t partition,
                              int32_t new_leader, bool unclean);

/* Retention / DeleteRecords: removes whole batches below `offset`, moves
 * the log start offset, and forgets producers whose last batch is gone
 * (ProducerStateManager.truncateHead), which makes their next
 * non-zero sequence UNKNOWN_PRODUCER_ID. */
kp_err bm_cluster_delete_records(bm_cluster *c, const char *topic, int32_t partition,
                                 int64_t offset);

void bm_cluster_set_message_max_bytes(bm_cluster *c, int32_t bytes);
void bm_cluster_set_min_insync_replicas(bm_cluster *c, int32_t n);
void bm_cluster_set_unclean_election(bm_cluster *c, bool on);
/* replica fetch lag (us): a batch reaches followers this long after its
 * append. A large lag makes followers fall out of the ISR. */
void bm_cluster_set_replica_lag(bm_cluster *c, int64_t lag_us);
/* Stop/resume one follower's replication (a slow or stuck follower that is
 * still up). */
kp_err bm_cluster_pause_follower(bm_cluster *c, int32_t broker_id, bool paused);
void bm_cluster_set_quota(bm_cluster *c, int64_t produce_bytes_per_sec);
void bm_cluster_set_chaos(bm_cluster *c, double error_rate);

/* ------------------------------------------------------------------ */
/* Error injection                                                     */
/* ------------------------------------------------------------------ */

/* The next `count` requests of api_key (-1 = any API) to broker_id (-1 =
 * any broker) get `err` (KP_ERR_NONE = answered normally, only delayed),
 * each answered `delay_us` late. Rules form a FIFO per (broker, api): the
 * first matching rule with count left is used. For Produce the error goes
 * to every partition and nothing is appended. Returns KP_ERR__INVALID_ARG
 * on count <= 0. */
kp_err bm_cluster_inject(bm_cluster *c, int32_t broker_id, int16_t api_key,
                         int32_t count, kp_err err, int64_t delay_us);
/* Produce to topic/partition is rejected with err until time `until`. */
kp_err bm_cluster_reject_partition(bm_cluster *c, const char *topic,
                                   int32_t partition, kp_err err, kp_time_us until);
/* Rules still pending (counts left summed). */
int32_t bm_cluster_injections_pending(const bm_cluster *c);
/* Transactions whose EndTxn was accepted but whose markers are not all
 * written yet (PrepareCommit / PrepareAbort): a read_committed view of the
 * logs is final only when this is 0. */
int32_t bm_cluster_txn_markers_pending(const bm_cluster *c);

/* ------------------------------------------------------------------ */
/* Direct produce (what the Produce handler calls per partition)       */
/* ------------------------------------------------------------------ */

typedef struct bm_produce_result {
    kp_err err;
    int64_t base_offset;       /* -1 on error */
    int64_t log_append_time;   /* ms, -1 with CreateTime */
    int64_t log_start_offset;
    bool duplicate;            /* matched the 5-batch window */
    /* acks=all: the append waits for the ISR (pending=true): call
     * bm_cluster_acks_check until it returns true. */
    bool pending;
    int64_t required_offset;   /* batch last offset + 1 */
    int32_t leader_epoch;      /* epoch the batch was appended in */
} bm_produce_result;

/* Appends one record set (a single RecordBatch v2, bytes as received) to
 * topic/partition as broker `broker_id`, with full 2.1 validation. The
 * bytes are copied once into the log. `api_version` is the Produce version
 * (KAFKA_STORAGE_ERROR only for v4+). Never fails on malformed bytes: they
 * give CORRUPT_MESSAGE. */
void bm_cluster_produce(bm_cluster *c, int32_t broker_id, const char *topic,
                        int32_t partition, int16_t acks, int16_t api_version,
                        const uint8_t *records, size_t len, bm_produce_result *out);

/* acks=all completion (Partition.checkEnoughReplicasReachOffset): true and
 * *err set when done (NONE, NOT_ENOUGH_REPLICAS_AFTER_APPEND,
 * NOT_LEADER_FOR_PARTITION after a leader change); false while waiting. */
bool bm_cluster_acks_check(const bm_cluster *c, const char *topic, int32_t partition,
                           int64_t required_offset, int32_t leader_epoch, kp_err *err);

/* ------------------------------------------------------------------ */
/* Reading the logs back (for the checker)                             */
/* ------------------------------------------------------------------ */

enum { BM_TXN_NONE = 0, BM_TXN_OPEN = 1, BM_TXN_COMMITTED = 2, BM_TXN_ABORTED = 3 };

typedef struct bm_record_view {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp;        /* a digested batch: the batch's max timestamp */
    kp_slice key;             /* len -1 = null; borrowed for the callback */
    kp_slice value;           /* (both null in a digested batch) */
    const bm_digest *digest;  /* a digested batch's record: its digest; else NULL */
    int32_t header_count;     /* -1 in a digested batch */
    int64_t producer_id;      /* -1 when not idempotent */
    int16_t producer_epoch;
    int32_t sequence;         /* this record's sequence, -1 without pid */
    bool transactional;
    bool control;             /* a commit/abort marker (key/value raw) */
    int txn_state;            /* BM_TXN_* */
    bool committed;           /* below the high watermark */
} bm_record_view;

/* Return false to stop. */
typedef bool bm_record_fn(void *ctx, const bm_record_view *rec);

/* Walks the records of the leader's log of topic/partition (the replica
 * with the highest log end offset when there is no leader), in offset
 * order. Returns KP_ERR__NOENT for an unknown partition, a decode error if
 * a stored batch cannot be decompressed. Records of digested batches come
 * with their digest and no key/value (nothing is decoded). */
kp_err bm_cluster_read_log(const bm_cluster *c, const char *topic, int32_t partition,
                           bm_record_fn *fn, void *ctx);
/* The same from the first batch holding offset `from` on, records below
 * `from` skipped. Reading records a settle hook was given (whose digests,
 * and with a digester the batches, are gone) returns KP_ERR__STATE: read
 * from bm_cluster_settled_offset. */
kp_err bm_cluster_read_log_from(const bm_cluster *c, const char *topic, int32_t partition,
                                int64_t from, bm_record_fn *fn, void *ctx);

/* A consistency walk over every structure (replica logs are pointer
 * prefixes of their leader's where in sync, offsets contiguous, HW <= every
 * ISR member's LEO, ...). Returns a static message for the first broken
 * invariant, NULL when all hold. Tests call it at every step. */
const char *bm_cluster_verify(const bm_cluster *c);

#endif
