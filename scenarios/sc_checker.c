/*
 * sc_checker.c — the invariants over a run's history and final logs.
 * See sc_checker.h for the invariants and the identity-in-value scheme.
 */
#include "sc_checker.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ------------------------------------------------------------ */

static const char *const sc_inv_names[SC_INV_COUNT] = {
    [SC_INV_ONE_CALLBACK] = "one_callback_per_send",
    [SC_INV_NO_CALLBACK_AFTER_CLOSE] = "no_callback_after_close",
    [SC_INV_ACKED_IN_LOG] = "acked_in_log",
    [SC_INV_NO_DUPLICATES] = "no_duplicates",
    [SC_INV_PER_PARTITION_ORDER] = "per_partition_order",
    [SC_INV_DELIVERY_TIMEOUT] = "delivery_timeout_bound",
    [SC_INV_BUFFER_POOL_WHOLE] = "buffer_pool_whole",
    [SC_INV_FLUSH_COMPLETES] = "flush_completes_sends",
    [SC_INV_TXN_READ_COMMITTED] = "txn_read_committed",
};

static const char *const sc_anom_names[SC_ANOM_COUNT] = {
    [SC_ANOM_REORDERING] = "reordering",
    [SC_ANOM_DUPLICATES] = "duplicates",
    [SC_ANOM_ACKED_LOST] = "acked_lost",
    [SC_ANOM_ACKS0_LOSS] = "acks0_loss",
};

const char *sc_invariant_name(sc_invariant inv) {
    return (unsigned)inv < SC_INV_COUNT ? sc_inv_names[inv] : "?";
}

bool sc_invariant_from_name(const char *name, sc_invariant *out) {
    for (int i = 0; i < SC_INV_COUNT; i++)
        if (!strcmp(name, sc_inv_names[i])) {
            *out = (sc_invariant)i;
            return true;
        }
    return false;
}

const char *sc_anomaly_name(sc_anomaly a) {
    return (unsigned)a < SC_ANOM_COUNT ? sc_anom_names[a] : "?";
}

bool sc_anomaly_from_name(const char *name, sc_anomaly *out) {
    for (int i = 0; i < SC_ANOM_COUNT; i++)
        if (!strcmp(name, sc_anom_names[i])) {
            *out = (sc_anomaly)i;
            return true;
        }
    return false;
}

/* ---- state ------------------------------------------------------------ */

enum {
    SC_REC_SENT = 1 << 0,
    SC_REC_SYNC_FAILED = 1 << 1,
    SC_REC_IN_LOG = 1 << 2,        /* seen at least once in a final log */
    SC_REC_AT_OFFSET = 1 << 3,     /* seen at its acknowledged offset */
    SC_REC_RETURNED = 1 << 4
};

/* sc_rec.txn bits */
enum {
    SC_TXN_MEMBER = 1 << 0,    /* in a transaction with a known outcome */
    SC_TXN_COMMITTED = 1 << 1, /* ... which committed */
    SC_TXN_VISIBLE = 1 << 2    /* seen by read_committed at least once */
};

/* One record's digest: 20 bytes (it was 32; at 10 million records that is
 * 200 MB instead of 320 MB).
 *
 *   OFFSET SIZE DESCRIPTION
 *   0      8    when: until the first callback, the time send() returned
 *                (or was called), us; from the first callback on, the
 *                acknowledged offset (-1 if none). The send time is only
 *                needed to measure the callback's latency, so one field
 *                holds both. Two 32-bit halves keep the struct 4-aligned.
 *   8      4    kv_hash   sc_kv_hash of what was sent
 *   12     4    partition from the callback, -1 if none
 *   16     1    err       callback (or synchronous) error (kp_err fits -128..127)
 *   17     1    txn       SC_TXN_* bits (transactions and read_committed)
 *   18     1    topic     topic index from the callback (-1..127), -1 if none
 *   19     1    state     bits 0..4 SC_REC_* flags, bits 5..7 callbacks seen
 *                         (saturating at 7)
 */
typedef struct sc_rec {
    uint32_t when_lo, when_hi;
    uint32_t kv_hash;
    int32_t partition;
    int8_t err;
    uint8_t txn;
    int8_t topic;
    uint8_t state;
} sc_rec;

_Static_assert(sizeof(sc_rec) == 20, "the per-record digest is 20 bytes");

#define SC_REC_NCB_SHIFT 5
#define SC_REC_NCB_MAX 7

static inline int64_t sc_rec_when(const sc_rec *r) {
    return (int64_t)((uint64_t)r->when_hi << 32 | r->when_lo);
}

static inline void sc_rec_set_when(sc_rec *r, int64_t v) {
    r->when_lo = (uint32_t)(uint64_t)v;
    r->when_hi = (uint32_t)((uint64_t)v >> 32);
}

static inline int sc_rec_ncb(const sc_rec *r) {
    return r->state >> SC_REC_NCB_SHIFT;
}

static inline void sc_rec_add_cb(sc_rec *r) {
    if (sc_rec_ncb(r) < SC_REC_NCB_MAX)
        r->state = (uint8_t)(r->state + (1u << SC_REC_NCB_SHIFT));
}

/* The acknowledged offset: valid once a callback came. */
static inline int64_t sc_rec_offset(const sc_rec *r) {
    return sc_rec_ncb(r) ? sc_rec_when(r) : -1;
}

typedef struct sc_prod {
    sc_producer_info info;
    sc_rec *recs;
    int64_t n, cap;
    bool closed;
    kp_time_us closed_us;
    /* log scan: highest seq seen in the current partition */
    int64_t scan_max_seq;
    /* every record below this has completed (callback or sync failure) */
    int64_t done_prefix;
    /* log scan: highest seq a read_committed reader saw in this partition */
    int64_t scan_max_visible;
} sc_prod;

#define SC_MAX_ERRS 128 /* index: err - KP_ERR__LOCAL_MIN */

struct sc_checker {
    int np;
    sc_prod *prods;
    sc_inv_result res[SC_INV_COUNT];
    bool inv_off[SC_INV_COUNT];
    bool expected[SC_ANOM_COUNT];
    int64_t anomalies[SC_ANOM_COUNT];
    sc_counts counts;
    int64_t errs[SC_MAX_ERRS + 200];
    int32_t scan_topic, scan_partition;
    bool finished;
};

static void sc_violation(sc_checker *ck, sc_invariant inv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void sc_violation(sc_checker *ck, sc_invariant inv, const char *fmt, ...) {
    sc_inv_result *r = &ck->res[inv];
    r->violations++;
    if (r->nfirst < 3) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->first[r->nfirst], sizeof r->first[0], fmt, ap);
        va_end(ap);
        r->nfirst++;
    }
}

sc_checker *sc_checker_new(int nproducers, const sc_producer_info *info) {
    assert(nproducers > 0);
    sc_checker *ck = calloc(1, sizeof *ck);
    if (!ck)
        return NULL;
    ck->np = nproducers;
    ck->prods = calloc((size_t)nproducers, sizeof *ck->prods);
    if (!ck->prods) {
        free(ck);
        return NULL;
    }
    for (int i = 0; i < nproducers; i++) {
        ck->prods[i].info = info[i];
        ck->prods[i].scan_max_seq = -1;
    }
    for (int i = 0; i < SC_INV_COUNT; i++)
        ck->res[i].enabled = true;
    ck->scan_topic = ck->scan_partition = -1;
    return ck;
}

void sc_checker_free(sc_checker *ck) {
    if (!ck)
        return;
    for (int i = 0; i < ck->np; i++)
        free(ck->prods[i].recs);
    free(ck->prods);
    free(ck);
}

void sc_checker_disable(sc_checker *ck, sc_invariant inv) {
    ck->inv_off[inv] = true;
    ck->res[inv].enabled = false;
}

void sc_checker_expect(sc_checker *ck, sc_anomaly a) {
    ck->expected[a] = true;
    sc_checker_allow(ck, a);
}

void sc_checker_allow(sc_checker *ck, sc_anomaly a) {
    switch (a) {
    case SC_ANOM_REORDERING:
        sc_checker_disable(ck, SC_INV_PER_PARTITION_ORDER);
        break;
    case SC_ANOM_DUPLICATES:
        sc_checker_disable(ck, SC_INV_NO_DUPLICATES);
        break;
    case SC_ANOM_ACKED_LOST:
        sc_checker_disable(ck, SC_INV_ACKED_IN_LOG);
        break;
    default:
        break;
    }
}

/* ---- identity ------------------------------------------------------------ */

/* Decimal digits of v at the end of tmp (which must hold 20); returns the
 * first digit. */
static char *sc_utoa(char *end, uint64_t v) {
    char *p = end;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

size_t sc_value_format(char *buf, size_t cap, int producer, int64_t seq, size_t size) {
    /* The common case (both numbers >= 0, room for the head) without
     * snprintf, and the padding copied from the letter cycle instead of a
     * division per byte: the workload formats every value it sends, and
     * this was 12% of a throughput run's instructions. The bytes are those
     * of the general path below (a unit test compares them). Letter at
     * position j: 'a' + (7j + seq) % 26 = cycle[(j + 15 seq) % 26], since
     * 15 is the inverse of 7 mod 26 and cycle[k] = 'a' + 7k % 26. */
    if (producer >= 0 && seq >= 0 && cap >= 48) {
        static const char cycle[] = "ahovcjqxelszgnubipwdkryfmt" "ahovcjqxelszgnubipwdkryfmt"
                                    "ahovcjqxelszgnubipwdkryfmt" "ahovcjqxelszgnubipwdkryfmt"
                                    "ahovcjqxelszgnubipwdkryfmt" "ahovcjqxelszgnubipwdkryfmt";
        char tmp[48];
        char *end = tmp + sizeof tmp;
        *--end = ' ';
        char *q = sc_utoa(end, (uint64_t)seq);
        *--q = ':';
        q = sc_utoa(q, (uint64_t)producer);
        size_t len = (size_t)(tmp + sizeof tmp - q);
        memcpy(buf, q, len);
        if (len < cap)
            buf[len] = 0; /* as snprintf leaves it */
        size_t stop = size < cap ? size : cap;
        size_t k = (len + 15 * ((uint64_t)seq % 26)) % 26;
        while (len < stop) {
            size_t n = stop - len;
            if (n > sizeof cycle - 1 - 26)
                n = sizeof cycle - 1 - 26;
            memcpy(buf + len, cycle + k, n);
            len += n;
            k = (k + n) % 26;
        }
        return len;
    }
    int n = snprintf(buf, cap, "%d:%" PRId64 " ", producer, seq);
    if (n < 0)
        return 0;
    size_t len = (size_t)n < cap ? (size_t)n : cap;
    /* padding: a repeating, position-dependent pattern so that truncation or
     * corruption of the tail changes the hash */
    while (len < size && len < cap) {
        buf[len] = (char)('a' + (len * 7 + (size_t)seq) % 26);
        len++;
    }
    return len;
}

bool sc_value_parse(kp_slice value, int *producer, int64_t *seq) {
    if (value.len <= 0)
        return false;
    const uint8_t *p = value.ptr, *end = value.ptr + value.len;
    int64_t a = 0, b = 0;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < 9) {
        a = a * 10 + (*p++ - '0');
        digits++;
    }
    if (!digits || p >= end || *p++ != ':')
        return false;
    digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < 18) {
        b = b * 10 + (*p++ - '0');
        digits++;
    }
    if (!digits || p >= end || *p != ' ')
        return false;
    *producer = (int)a;
    *seq = b;
    return true;
}

/* kv_hash mixes eight bytes at a time (h = (h ^ w) * K, h ^= h >> 29; a
 * bijection of h for each word, so a change in one word of equal-length
 * input always changes the 64-bit state). It replaced a byte-wise FNV-1a
 * that was 9% of a throughput run's instructions (it runs twice per
 * record: at send and in the log scan). The value never leaves the
 * process, so host-order loads are fine. */
#define SC_KV_K 0x9e3779b97f4a7c15ULL

static inline uint64_t sc_kv_mix(uint64_t h, uint64_t w) {
    h = (h ^ w) * SC_KV_K;
    return h ^ (h >> 29);
}

static uint64_t sc_kv_bytes(uint64_t h, const uint8_t *p, size_t n) {
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = sc_kv_mix(h, w);
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    return sc_kv_mix(h, w);
}

uint32_t sc_kv_hash(kp_slice key, kp_slice value) {
    uint64_t h = sc_kv_mix(KP_FNV1A64_INIT, (uint64_t)(uint32_t)key.len | (uint64_t)(uint32_t)value.len << 32);
    if (key.len > 0)
        h = sc_kv_bytes(h, key.ptr, (size_t)key.len);
    if (value.len > 0)
        h = sc_kv_bytes(h, value.ptr, (size_t)value.len);
    h ^= h >> 32;
    return (uint32_t)h;
}

/* ---- history ------------------------------------------------------------ */

static sc_rec *sc_rec_get(sc_checker *ck, int p, int64_t seq) {
    if (p < 0 || p >= ck->np || seq < 0)
        return NULL;
    sc_prod *pr = &ck->prods[p];
    return seq < pr->n ? &pr->recs[seq] : NULL;
}

void sc_checker_on_send(sc_checker *ck, int p, int64_t seq, uint32_t kv_hash, kp_time_us now) {
    assert(p >= 0 && p < ck->np);
    sc_prod *pr = &ck->prods[p];
    assert(seq == pr->n && "sends are numbered densely in order");
    if (pr->n == pr->cap) {
        int64_t ncap = pr->cap ? pr->cap * 2 : 1024;
        sc_rec *nr = realloc(pr->recs, (size_t)ncap * sizeof *nr);
        if (!nr)
            abort(); /* the checker cannot judge without its history */
        pr->recs = nr;
        pr->cap = ncap;
    }
    sc_rec *r = &pr->recs[pr->n++];
    memset(r, 0, sizeof *r);
    r->partition = -1;
    r->topic = -1;
    sc_rec_set_when(r, now);
    r->kv_hash = kv_hash;
    r->state = SC_REC_SENT;
    ck->counts.sent++;
}

void sc_checker_on_send_returned(sc_checker *ck, int p, int64_t seq, kp_time_us now) {
    sc_rec *r = sc_rec_get(ck, p, seq);
    if (r && sc_rec_ncb(r) == 0) {
        sc_rec_set_when(r, now);
        r->state |= SC_REC_RETURNED;
    }
}

static void sc_count_err(sc_checker *ck, kp_err err) {
    int idx = (int)err - KP_ERR__LOCAL_MIN;
    if (idx >= 0 && idx < (int)(sizeof ck->errs / sizeof ck->errs[0]))
        ck->errs[idx]++;
}

int64_t sc_checker_error_count(const sc_checker *ck, kp_err err) {
    int idx = (int)err - KP_ERR__LOCAL_MIN;
    if (idx >= 0 && idx < (int)(sizeof ck->errs / sizeof ck->errs[0]))
        return ck->errs[idx];
    return 0;
}

void sc_checker_on_send_failed(sc_checker *ck, int p, int64_t seq, kp_err err) {
    sc_rec *r = sc_rec_get(ck, p, seq);
    assert(r);
    r->state |= SC_REC_SYNC_FAILED;
    r->err = (int8_t)err;
    ck->counts.sync_failed++;
    sc_count_err(ck, err);
}

void sc_checker_on_callback(sc_checker *ck, int p, int64_t seq, int32_t topic, int32_t partition,
                            int64_t offset, kp_err err, kp_time_us now) {
    sc_rec *r = sc_rec_get(ck, p, seq);
    if (!r) {
        sc_violation(ck, SC_INV_ONE_CALLBACK, "callback for producer %d record %" PRId64
                     " that was never sent", p, seq);
        return;
    }
    sc_prod *pr = &ck->prods[p];
    if (r->state & SC_REC_SYNC_FAILED)
        sc_violation(ck, SC_INV_ONE_CALLBACK, "producer %d record %" PRId64
                     ": callback after a synchronous failure (%s)", p, seq, kp_err_name((kp_err)r->err));
    if (sc_rec_ncb(r) >= 1) {
        ck->counts.duplicate_callbacks++;
        sc_violation(ck, SC_INV_ONE_CALLBACK, "producer %d record %" PRId64
                     ": callback #%d%s (first %s, now %s)", p, seq, sc_rec_ncb(r) + 1,
                     sc_rec_ncb(r) == SC_REC_NCB_MAX ? " or later" : "",
                     kp_err_name((kp_err)r->err), kp_err_name(err));
        sc_rec_add_cb(r);
        return; /* the first callback is the record's outcome */
    }
    kp_time_us lat = now - sc_rec_when(r); /* before the offset takes the field */
    sc_rec_add_cb(r);
    if (pr->closed)
        sc_violation(ck, SC_INV_NO_CALLBACK_AFTER_CLOSE, "producer %d record %" PRId64
                     ": callback at %.3f ms, close returned at %.3f ms", p, seq,
                     now / 1000.0, pr->closed_us / 1000.0);
    assert(topic >= -1 && topic <= INT8_MAX && "topic indices fit the digest's byte");
    r->err = (int8_t)err;
    r->topic = (int8_t)topic;
    r->partition = partition;
    sc_rec_set_when(r, err == KP_ERR_NONE ? offset : -1);
    if (err == KP_ERR_NONE)
        ck->counts.acked++;
    else {
        ck->counts.failed++;
        sc_count_err(ck, err);
    }
    if (lat > ck->counts.max_latency_us)
        ck->counts.max_latency_us = lat;
    sc_inv_result *dt = &ck->res[SC_INV_DELIVERY_TIMEOUT];
    dt->checked++;
    int64_t bound_us = (pr->info.delivery_timeout_ms + pr->info.timeout_slack_ms) * 1000;
    if (pr->info.delivery_timeout_ms > 0 && lat > bound_us)
        sc_violation(ck, SC_INV_DELIVERY_TIMEOUT, "producer %d record %" PRId64
                     ": callback (%s) %.3f ms after send, delivery.timeout.ms=%" PRId64,
                     p, seq, kp_err_name(err), lat / 1000.0, pr->info.delivery_timeout_ms);
}

void sc_checker_on_flush_begin(sc_checker *ck, int p, int64_t upto, kp_time_us now) {
    (void)ck;
    (void)p;
    (void)upto;
    (void)now; /* nothing to record: the records before it are known */
}

void sc_checker_on_flush_done(sc_checker *ck, int p, int64_t upto, kp_time_us now) {
    assert(p >= 0 && p < ck->np);
    sc_prod *pr = &ck->prods[p];
    sc_inv_result *r = &ck->res[SC_INV_FLUSH_COMPLETES];
    r->checked++;
    if (upto > pr->n)
        upto = pr->n;
    /* amortised O(1): the completed prefix only grows */
    while (pr->done_prefix < pr->n) {
        const sc_rec *rec = &pr->recs[pr->done_prefix];
        if (!(rec->state & SC_REC_SYNC_FAILED) && sc_rec_ncb(rec) == 0)
            break;
        pr->done_prefix++;
    }
    if (pr->done_prefix < upto)
        sc_violation(ck, SC_INV_FLUSH_COMPLETES, "producer %d: flush completed at %.3f ms while record %" PRId64
                     " (sent before the flush) had no callback yet", p, now / 1000.0, pr->done_prefix);
}

void sc_checker_on_closed(sc_checker *ck, int p, kp_time_us now) {
    assert(p >= 0 && p < ck->np);
    ck->prods[p].closed = true;
    ck->prods[p].closed_us = now;
}

void sc_checker_on_pool(sc_checker *ck, int p, int64_t available, int64_t total) {
    sc_inv_result *r = &ck->res[SC_INV_BUFFER_POOL_WHOLE];
    r->checked++;
    if (available != total)
        sc_violation(ck, SC_INV_BUFFER_POOL_WHOLE, "producer %d: buffer pool has %" PRId64
                     " of %" PRId64 " bytes after close", p, available, total);
}

/* ---- logs ------------------------------------------------------------ */

static void sc_scan_switch(sc_checker *ck, int32_t topic, int32_t partition) {
    if (topic == ck->scan_topic && partition == ck->scan_partition)
        return;
    ck->scan_topic = topic;
    ck->scan_partition = partition;
    for (int i = 0; i < ck->np; i++) {
        ck->prods[i].scan_max_seq = -1;
        ck->prods[i].scan_max_visible = -1;
    }
}

void sc_checker_on_txn_end(sc_checker *ck, int p, int64_t from_seq, int64_t to_seq, bool committed) {
    assert(p >= 0 && p < ck->np);
    sc_prod *pr = &ck->prods[p];
    if (to_seq > pr->n)
        to_seq = pr->n;
    for (int64_t q = from_seq < 0 ? 0 : from_seq; q < to_seq; q++) {
        pr->recs[q].txn |= SC_TXN_MEMBER;
        if (committed)
            pr->recs[q].txn |= SC_TXN_COMMITTED;
    }
}

/* The read_committed half of the log scan. */
static void sc_txn_view(sc_checker *ck, sc_prod *pr, sc_rec *r, int p, int64_t seq, int32_t topic,
                        int32_t partition, int64_t offset, bool committed_view) {
    if (!(r->txn & SC_TXN_MEMBER) || !committed_view)
        return;
    sc_inv_result *res = &ck->res[SC_INV_TXN_READ_COMMITTED];
    res->checked++;
    if (!(r->txn & SC_TXN_COMMITTED))
        sc_violation(ck, SC_INV_TXN_READ_COMMITTED, "topic %d partition %d offset %" PRId64
                     ": producer %d record %" PRId64 " of an aborted transaction is visible to read_committed",
                     topic, partition, offset, p, seq);
    else if (r->txn & SC_TXN_VISIBLE)
        sc_violation(ck, SC_INV_TXN_READ_COMMITTED, "topic %d partition %d offset %" PRId64
                     ": producer %d record %" PRId64 " is visible to read_committed twice",
                     topic, partition, offset, p, seq);
    else if (seq < pr->scan_max_visible)
        sc_violation(ck, SC_INV_TXN_READ_COMMITTED, "topic %d partition %d offset %" PRId64
                     ": producer %d record %" PRId64 " is read after record %" PRId64 " (read_committed)",
                     topic, partition, offset, p, seq, pr->scan_max_visible);
    r->txn |= SC_TXN_VISIBLE;
    if (seq > pr->scan_max_visible)
        pr->scan_max_visible = seq;
}

void sc_checker_log_record(sc_checker *ck, int32_t topic, int32_t partition, int64_t offset,
                           kp_slice key, kp_slice value) {
    sc_checker_log_record_txn(ck, topic, partition, offset, key, value, true);
}

#define SC_ID_SEQ_BITS 40

void sc_log_digest_of(kp_slice key, kp_slice value, sc_log_digest *out) {
    int p;
    int64_t seq;
    uint64_t id = 0;
    /* an identity that does not fit the packing names no sent record
     * (producers are few, sequences below 2^40): foreign either way */
    if (sc_value_parse(value, &p, &seq) && p >= 0 && p < (1 << 23) && seq >= 0 &&
        seq < ((int64_t)1 << SC_ID_SEQ_BITS))
        id = (uint64_t)(p + 1) << SC_ID_SEQ_BITS | (uint64_t)seq;
    out->id_lo = (uint32_t)id;
    out->id_hi = (uint32_t)(id >> 32);
    out->kv_hash = sc_kv_hash(key, value);
}

static void sc_log_scan_one(sc_checker *ck, int32_t topic, int32_t partition, int64_t offset,
                            int p, int64_t seq, uint32_t kv_hash, bool committed_view);

void sc_checker_log_record_txn(sc_checker *ck, int32_t topic, int32_t partition, int64_t offset,
                               kp_slice key, kp_slice value, bool committed_view) {
    sc_log_digest d;
    sc_log_digest_of(key, value, &d);
    sc_checker_log_digest(ck, topic, partition, offset, &d, committed_view);
}

void sc_checker_log_digest(sc_checker *ck, int32_t topic, int32_t partition, int64_t offset,
                           const sc_log_digest *d, bool committed_view) {
    uint64_t id = (uint64_t)d->id_hi << 32 | d->id_lo;
    int p = id ? (int)(id >> SC_ID_SEQ_BITS) - 1 : -1;
    int64_t seq = (int64_t)(id & (((uint64_t)1 << SC_ID_SEQ_BITS) - 1));
    sc_log_scan_one(ck, topic, partition, offset, p, seq, d->kv_hash, committed_view);
}

static void sc_log_scan_one(sc_checker *ck, int32_t topic, int32_t partition, int64_t offset,
                            int p, int64_t seq, uint32_t kv_hash, bool committed_view) {
    sc_scan_switch(ck, topic, partition);
    ck->counts.log_records++;
    sc_rec *r = sc_rec_get(ck, p, seq);
    if (!r) {
        ck->counts.log_foreign++;
        return;
    }
    sc_prod *pr = &ck->prods[p];
    bool order_applies = pr->info.idempotent || pr->info.max_in_flight == 1;
    bool dup_applies = pr->info.idempotent;

    if (kv_hash != r->kv_hash)
        sc_violation(ck, SC_INV_ACKED_IN_LOG, "topic %d partition %d offset %" PRId64
                     ": producer %d record %" PRId64 " has a different key/value than was sent",
                     topic, partition, offset, p, seq);

    if (r->state & SC_REC_IN_LOG) {
        ck->anomalies[SC_ANOM_DUPLICATES]++;
        if (dup_applies)
            sc_violation(ck, SC_INV_NO_DUPLICATES, "producer %d record %" PRId64
                         " appears again at topic %d partition %d offset %" PRId64,
                         p, seq, topic, partition, offset);
    } else {
        r->state |= SC_REC_IN_LOG;
        if (seq < pr->scan_max_seq) {
            ck->anomalies[SC_ANOM_REORDERING]++;
            if (order_applies)
                sc_violation(ck, SC_INV_PER_PARTITION_ORDER, "topic %d partition %d offset %" PRId64
                             ": producer %d record %" PRId64 " after record %" PRId64,
                             topic, partition, offset, p, seq, pr->scan_max_seq);
        }
    }
    if (seq > pr->scan_max_seq)
        pr->scan_max_seq = seq;
    if (order_applies)
        ck->res[SC_INV_PER_PARTITION_ORDER].checked++;
    if (dup_applies)
        ck->res[SC_INV_NO_DUPLICATES].checked++;

    if (r->err == KP_ERR_NONE && sc_rec_ncb(r) && sc_rec_offset(r) == offset && r->partition == partition &&
        r->topic == topic)
        r->state |= SC_REC_AT_OFFSET;
    sc_txn_view(ck, pr, r, p, seq, topic, partition, offset, committed_view);
}

void sc_checker_finish(sc_checker *ck) {
    if (ck->finished)
        return;
    ck->finished = true;
    for (int p = 0; p < ck->np; p++) {
        sc_prod *pr = &ck->prods[p];
        for (int64_t seq = 0; seq < pr->n; seq++) {
            sc_rec *r = &pr->recs[seq];
            ck->res[SC_INV_ONE_CALLBACK].checked++;
            if ((r->txn & SC_TXN_COMMITTED) && !(r->txn & SC_TXN_VISIBLE) &&
                !(r->state & SC_REC_SYNC_FAILED) && r->err == KP_ERR_NONE) {
                ck->res[SC_INV_TXN_READ_COMMITTED].checked++;
                sc_violation(ck, SC_INV_TXN_READ_COMMITTED, "producer %d record %" PRId64
                             ": its transaction committed but read_committed does not see it", p, seq);
            }
            if (!(r->state & SC_REC_SYNC_FAILED) && sc_rec_ncb(r) == 0) {
                ck->counts.missing_callbacks++;
                sc_violation(ck, SC_INV_ONE_CALLBACK, "producer %d record %" PRId64
                             ": no callback by the end of the run", p, seq);
            }
            if (sc_rec_ncb(r) == 0 || r->err != KP_ERR_NONE)
                continue;
            if (pr->info.acks == 0) {
                if (!(r->state & SC_REC_IN_LOG))
                    ck->anomalies[SC_ANOM_ACKS0_LOSS]++;
                continue; /* no offset to check */
            }
            if (sc_rec_offset(r) < 0)
                continue; /* acknowledged as a duplicate: no offset */
            ck->res[SC_INV_ACKED_IN_LOG].checked++;
            if (r->state & SC_REC_AT_OFFSET)
                continue;
            ck->anomalies[SC_ANOM_ACKED_LOST]++;
            sc_violation(ck, SC_INV_ACKED_IN_LOG, "producer %d record %" PRId64
                         " acknowledged at topic %d partition %d offset %" PRId64 " is %s",
                         p, seq, (int)r->topic, r->partition, sc_rec_offset(r),
                         (r->state & SC_REC_IN_LOG) ? "in the log at another offset"
                                                    : "not in the final log");
        }
    }
    for (int i = 0; i < SC_INV_COUNT; i++) {
        sc_inv_result *r = &ck->res[i];
        r->passed = !r->enabled || r->violations == 0;
    }
}

/* ---- results ------------------------------------------------------------ */

const sc_inv_result *sc_checker_result(const sc_checker *ck, sc_invariant inv) {
    return &ck->res[inv];
}

int64_t sc_checker_anomaly_count(const sc_checker *ck, sc_anomaly a) {
    return ck->anomalies[a];
}

bool sc_checker_anomaly_expected(const sc_checker *ck, sc_anomaly a) {
    return ck->expected[a];
}

sc_counts sc_checker_counts(const sc_checker *ck) {
    return ck->counts;
}

bool sc_checker_passed(const sc_checker *ck) {
    for (int i = 0; i < SC_INV_COUNT; i++)
        if (ck->res[i].enabled && ck->res[i].violations)
            return false;
    for (int a = 0; a < SC_ANOM_COUNT; a++)
        if (ck->expected[a] && ck->anomalies[a] == 0)
            return false;
    return true;
}

void sc_checker_print(const sc_checker *ck, FILE *out) {
    for (int i = 0; i < SC_INV_COUNT; i++) {
        const sc_inv_result *r = &ck->res[i];
        const char *verdict = !r->enabled ? "off " : r->violations ? "FAIL" : "ok  ";
        fprintf(out, "  %s invariant %-24s checked %" PRId64 ", violations %" PRId64 "\n", verdict,
                sc_invariant_name((sc_invariant)i), r->checked, r->violations);
        for (int k = 0; k < r->nfirst; k++)
            fprintf(out, "         - %s\n", r->first[k]);
    }
    for (int a = 0; a < SC_ANOM_COUNT; a++) {
        bool exp = ck->expected[a];
        const char *verdict = exp ? (ck->anomalies[a] ? "ok  " : "FAIL") : "    ";
        fprintf(out, "  %s anomaly   %-24s observed %" PRId64 "%s\n", verdict, sc_anomaly_name((sc_anomaly)a),
                ck->anomalies[a], exp ? " (expected by the scenario)" : "");
    }
}
