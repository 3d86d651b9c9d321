/*
 * sc_checker.h — judges a run from what it observed: every send, every
 * callback, and the final partition logs. It knows nothing of how the run
 * was produced (TigerBeetle's state_checker: it judges only what it sees).
 *
 * Records are known by (producer, sequence number in send order). They
 * carry their identity in the value ("<producer>:<seq> " then padding,
 * written by the workload), so a record found in a log is matched back to
 * its send without any side table.
 *
 * The final logs may be fed while the run goes on: a log position whose
 * record can no longer change (the broker's "settled" prefix: every replica
 * holds it) is as final as the end of the run, so the runner feeds each
 * partition's settled records as they settle, in offset order, and the rest
 * of the final log at the end. Each log record is judged when it is fed,
 * except for read_committed: what a transactional producer's records look
 * like to it (txn_read_committed, txn_atomic) is judged at the finish, once
 * every transaction's outcome is known.
 *
 * Invariants (DESIGN.md "The checker"), each reported by name with counts:
 *   one_callback_per_send    every send got exactly one callback (or failed
 *                            synchronously and got none)
 *   no_callback_after_close  no callback after close() returned
 *   acked_in_log             an acknowledged record is in the partition's
 *                            final log at the offset reported, with its key
 *                            and value (not for acks=0, where offsets are -1)
 *   no_duplicates            with idempotence: no record twice in a log
 *   per_partition_order      with idempotence or max.in.flight=1: per
 *                            partition, a producer's records are in send order
 *   delivery_timeout_bound   send() returned -> callback <= delivery.timeout.ms
 *                            (+ the producer's timeout_slack_ms)
 *   buffer_pool_whole        the producer's buffer pool is whole after close
 *   flush_completes_sends    when flush() completes, every record sent before
 *                            it has had its callback (KafkaProducer.flush)
 *   txn_read_committed       with transactions: a read_committed view of the
 *                            final logs holds exactly the records of the
 *                            committed transactions, once each, in send order
 *                            per partition; no record of an aborted one
 *   txn_atomic               a transaction whose outcome the application
 *                            never learned (its commit or abort failed, or
 *                            the producer went fatal with it open: fenced,
 *                            timed out) is all or nothing: read_committed
 *                            sees either every one of its records that
 *                            reached a log, or none
 *
 * Anomalies are measured whether or not an invariant is on: reordered
 * records, duplicate copies, acknowledged-but-lost records. A scenario that
 * expects an anomaly (reordering with max.in.flight=5 and no idempotence,
 * duplicates without idempotence, acks=1 loss on unclean failover) turns the
 * matching invariant off and demands the anomaly be seen at least once.
 *
 * Memory: per producer a window of full record states (20 bytes each) from
 * the oldest record that is not finished to the newest; a finished record
 * (its callback came and, if acknowledged at an offset, that offset was
 * fed) leaves the window: a clean one (one callback, no error, in the log
 * at its offset) is kept as nothing but a count, any other as an exception
 * in a table by sequence number. What stays per record is a one-byte hash
 * of its key and value, to compare a later copy in a log with. So memory
 * grows with the records in flight and the exceptions, plus one byte a
 * record. A record waiting for its log position leaves the window as an
 * exception once the window holds 65,536 records. A transactional
 * producer's records all stay in the window (their outcome comes late),
 * and each of their log copies that read_committed sees is kept (~32
 * bytes) until the finish judges them. A record found in a log a second
 * time before its callback keeps that position in a side list (~32 bytes)
 * until the callback comes: both grow with such records, not with clean
 * ones.
 * The window's blocks of 4,096 records are malloc'd while the windows
 * hold a few; more come from one region the checker reserves, in
 * transparent huge pages (sc_checker.c "window blocks": fewer page faults
 * for a long window); such a block a window left is reused first, so the
 * region never holds more blocks than the windows held at once; past it,
 * and in sanitizer builds, a block is a malloc.
 * Arrays grow by doubling, never per record; sc_checker_free releases all.
 */
#ifndef SC_CHECKER_H
#define SC_CHECKER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kp_buf.h"
#include "kp_env.h"
#include "kp_err.h"

typedef enum sc_invariant {
    SC_INV_ONE_CALLBACK = 0,
    SC_INV_NO_CALLBACK_AFTER_CLOSE,
    SC_INV_ACKED_IN_LOG,
    SC_INV_NO_DUPLICATES,
    SC_INV_PER_PARTITION_ORDER,
    SC_INV_DELIVERY_TIMEOUT,
    SC_INV_BUFFER_POOL_WHOLE,
    SC_INV_FLUSH_COMPLETES,
    SC_INV_TXN_READ_COMMITTED,
    SC_INV_TXN_ATOMIC,
    SC_INV_COUNT
} sc_invariant;

const char *sc_invariant_name(sc_invariant inv);
bool sc_invariant_from_name(const char *name, sc_invariant *out);

typedef enum sc_anomaly {
    SC_ANOM_REORDERING = 0,
    SC_ANOM_DUPLICATES,
    SC_ANOM_ACKED_LOST,
    SC_ANOM_ACKS0_LOSS,
    SC_ANOM_COUNT
} sc_anomaly;

const char *sc_anomaly_name(sc_anomaly a);
bool sc_anomaly_from_name(const char *name, sc_anomaly *out);

/* What the checker needs to know about one producer. */
typedef struct sc_producer_info {
    bool idempotent;
    int max_in_flight;
    int acks;                   /* -1, 0, 1 */
    int64_t delivery_timeout_ms;
    int64_t timeout_slack_ms;   /* allowed lateness for delivery_timeout_bound */
    bool transactional;         /* sends in transactions (sc_checker_on_txn_end) */
} sc_producer_info;

typedef struct sc_checker sc_checker;

sc_checker *sc_checker_new(int nproducers, const sc_producer_info *info);
void sc_checker_free(sc_checker *ck);

/* Judge every callback and log record by the general path only: the
 * common cases' fast paths (a callback for a record already seen at its
 * position, a batch's records seen for the first time, in order, intact)
 * are off. The verdicts, counts and messages are the same either way; a
 * unit test compares both on random histories. */
void sc_checker_general_only(sc_checker *ck);
/* Switch an invariant off (the scenario said so). All are on by default;
 * the ones that do not apply to a producer's settings are skipped for it. */
void sc_checker_disable(sc_checker *ck, sc_invariant inv);
/* The scenario expects this anomaly: the matching invariant is relaxed and
 * the anomaly must be observed at least once. */
void sc_checker_expect(sc_checker *ck, sc_anomaly a);
/* The scenario allows it: the matching invariant is relaxed, nothing more. */
void sc_checker_allow(sc_checker *ck, sc_anomaly a);

/* ---- history (called by the runner as things happen) -------------- */

/* The value/key identity helpers used by the workload and the log scan. */
size_t sc_value_format(char *buf, size_t cap, int producer, int64_t seq, size_t size);
bool sc_value_parse(kp_slice value, int *producer, int64_t *seq);
uint32_t sc_kv_hash(kp_slice key, kp_slice value);
/* The same value computed with the table CRC on any CPU (what sc_kv_hash
 * falls back to without SSE4.2; tests compare the two). */
uint32_t sc_kv_hash_sw(kp_slice key, kp_slice value);
/* sc_kv_hash hashes the value's bytes after its first SC_KV_HEAD first
 * (their CRC32C: sc_kv_hash_rest, 0 for a shorter value), then its head,
 * the key and the lengths: sc_kv_hash(key, value) ==
 * sc_kv_hash_from(sc_kv_hash_rest(value), key, value), so a sender whose
 * values share their rest computes it once (sc_valgen_rest). */
#define SC_KV_HEAD 16
uint32_t sc_kv_hash_rest(kp_slice value);
uint32_t sc_kv_hash_from(uint32_t rest, kp_slice key, kp_slice value);

/* A send was issued. seq must be the next sequence number of producer p
 * (0, 1, 2 ...). kv_hash = sc_kv_hash(key, value) of what was sent. */
void sc_checker_on_send(sc_checker *ck, int p, int64_t seq, uint32_t kv_hash, kp_time_us now);
/* The send call returned (it may have been blocked in waitOnMetadata or the
 * buffer pool): delivery.timeout.ms counts from here (KIP-91). */
void sc_checker_on_send_returned(sc_checker *ck, int p, int64_t seq, kp_time_us now);
/* The send failed synchronously: no callback may follow. */
void sc_checker_on_send_failed(sc_checker *ck, int p, int64_t seq, kp_err err);
/* A callback. offset -1 when not known (acks=0, error, duplicate). topic
 * is the caller's topic index, -1..127 (it is kept in one byte). */
void sc_checker_on_callback(sc_checker *ck, int p, int64_t seq, int32_t topic, int32_t partition,
                            int64_t offset, kp_err err, kp_time_us now);
/* flush() was called after `upto` sends of producer p / it completed. */
void sc_checker_on_flush_begin(sc_checker *ck, int p, int64_t upto, kp_time_us now);
void sc_checker_on_flush_done(sc_checker *ck, int p, int64_t upto, kp_time_us now);
/* A transaction of producer p holding records [from_seq, to_seq) ended:
 * committed (commitTransaction succeeded) or aborted. A transaction whose
 * outcome is unknown (a fatal error) goes to sc_checker_on_txn_unknown
 * instead. p must have been declared transactional. */
void sc_checker_on_txn_end(sc_checker *ck, int p, int64_t from_seq, int64_t to_seq, bool committed);
/* Records [from_seq, to_seq) of producer p were sent in a transaction the
 * application never learned the outcome of (txn_atomic judges it: all or
 * none visible to read_committed). At most once per record. */
void sc_checker_on_txn_unknown(sc_checker *ck, int p, int64_t from_seq, int64_t to_seq);
/* close() returned for producer p (after this no callback is legal). */
void sc_checker_on_closed(sc_checker *ck, int p, kp_time_us now);
/* Pool accounting after close: available vs total bytes. */
void sc_checker_on_pool(sc_checker *ck, int p, int64_t available, int64_t total);

/* ---- final logs ----------------------------------------------------- */

/* Feed every record of a partition's final (leader) log, in offset order
 * per partition (partitions may interleave), each position once, no
 * earlier than the position became final: settled, or the end of the run.
 * Records whose value is not a workload identity are counted as foreign
 * and otherwise ignored (control batches, other writers). */
void sc_checker_log_record(sc_checker *ck, int32_t topic, int32_t partition, int64_t offset,
                           kp_slice key, kp_slice value);
/* The same with the record's transactional state: `committed_view` is
 * whether a read_committed reader sees it (non-transactional, or its
 * transaction committed). */
void sc_checker_log_record_txn(sc_checker *ck, int32_t topic, int32_t partition, int64_t offset,
                               kp_slice key, kp_slice value, bool committed_view);
/* What the log scan needs of one record, computed from its key and value
 * when the broker appends it (the broker then keeps these 12 bytes instead
 * of the record): the identity the workload wrote in the value, packed as
 * ((producer + 1) << 40 | seq) over id_hi:id_lo (0: not a workload value),
 * and sc_kv_hash(key, value). */
typedef struct sc_log_digest {
    uint32_t id_lo, id_hi;
    uint32_t kv_hash;
} sc_log_digest;

/* Writes the digest's 12 bytes (the sc_log_digest layout) at out, any
 * alignment (the broker's bm_digest is such a place). */
void sc_log_digest_of(kp_slice key, kp_slice value, void *out);
/* sc_log_digest_of for this CPU, chosen once (the same bytes; the CRC
 * instruction's version when there is one), in the shape of the broker's
 * digester (bm_digest_fn, broker_mock/bm_cluster.h: a context, ignored
 * here, and the record's 12-byte digest slot, written as bytes), so the
 * runner hands it to the cluster as it is: no CPU test and no wrapper's
 * call per record (through the runner's wrapper it was one call more,
 * ~15 Ir a record). */
struct bm_digest;
typedef void sc_log_digest_fn(void *ctx, kp_slice key, kp_slice value, struct bm_digest *out);
sc_log_digest_fn *sc_log_digest_best(void);
/* sc_checker_log_record_txn for a record known by its digest. */
void sc_checker_log_digest(sc_checker *ck, int32_t topic, int32_t partition, int64_t offset,
                           const sc_log_digest *d, bool committed_view);
/* The same for n consecutive records from first_offset on: `digests`
 * points at n sc_log_digest layouts (12 bytes each, any alignment). */
void sc_checker_log_digests(sc_checker *ck, int32_t topic, int32_t partition, int64_t first_offset,
                            const void *digests, int32_t n, bool committed_view);
/* Call once all logs were fed. */
void sc_checker_finish(sc_checker *ck);

/* ---- results --------------------------------------------------------- */

typedef struct sc_inv_result {
    bool enabled;
    bool passed;
    int64_t checked;      /* records the invariant looked at */
    int64_t violations;
    char first[3][160];   /* the first violations, in words */
    int nfirst;
} sc_inv_result;

const sc_inv_result *sc_checker_result(const sc_checker *ck, sc_invariant inv);
int64_t sc_checker_anomaly_count(const sc_checker *ck, sc_anomaly a);
bool sc_checker_anomaly_expected(const sc_checker *ck, sc_anomaly a);

typedef struct sc_counts {
    int64_t sent, acked, failed, sync_failed, missing_callbacks, duplicate_callbacks;
    int64_t log_records, log_foreign;
    int64_t max_latency_us;
} sc_counts;
sc_counts sc_checker_counts(const sc_checker *ck);

/* How many window blocks (4,096 records each) were carved from the
 * checker's slab so far (0 in sanitizer builds, which have no slab, and
 * while the windows held at most 4 blocks at once): a slab block a window
 * let go of is reused before another is carved (tests). */
size_t sc_checker_blocks_carved(const sc_checker *ck);
/* Error counts seen in callbacks, by code: returns count for err. */
int64_t sc_checker_error_count(const sc_checker *ck, kp_err err);

/* True when every enabled invariant passed and every expected anomaly was
 * seen. */
bool sc_checker_passed(const sc_checker *ck);
/* Human report: one line per invariant and anomaly, then the first
 * violations. */
void sc_checker_print(const sc_checker *ck, FILE *out);

#endif
