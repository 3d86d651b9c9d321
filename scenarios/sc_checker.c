/*
 * sc_checker.c — the invariants over a run's history and final logs.
 * See sc_checker.h for the invariants and the identity-in-value scheme.
 */
#include "sc_checker.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "kp_crc32c.h"
#include "kp_slab.h"
#include "sc_le.h"

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
    [SC_INV_TXN_ATOMIC] = "txn_atomic",
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
    SC_TXN_VISIBLE = 1 << 2,   /* seen by read_committed at least once */
    SC_TXN_MASK = 7,
    /* not transactions: where a record was seen in a log before its callback */
    SC_EARLY_ONE = 1 << 3,     /* topic, partition and kv_hash hold the first
                                * such position (offset < 2^32) */
    SC_EARLY_MORE = 1 << 4,    /* more positions in ck->early */
    SC_KV_SHORT = 1 << 5,      /* kv_hash no longer holds the hash (an early
                                * position, or clean): compare the short one */
    SC_TXN_UNKNOWN = 1 << 6    /* in a transaction of unknown outcome
                                * (ck->unknown holds its range) */
};

/* The full state of one record while it is in its producer's window, or
 * an exception below it (see sc_checker.h, "Memory"): 20 bytes.
 *
 *   OFFSET SIZE DESCRIPTION
 *   0      8    when: until the first callback, the time send() returned
 *                (or was called), us; from the first callback on, the
 *                acknowledged offset (-1 if none). The send time is only
 *                needed to measure the callback's latency, so one field
 *                holds both. Two 32-bit halves keep the struct 4-aligned.
 *   8      4    kv_hash   sc_kv_hash of what was sent; with SC_EARLY_ONE the
 *                         offset the record was first seen at in a log
 *                         before its callback (the hash was compared then;
 *                         later copies compare the short hash)
 *   12     4    partition from the callback, -1 if none (before the
 *                         callback with SC_EARLY_ONE: that position's)
 *   16     1    err       callback (or synchronous) error (kp_err fits -128..127)
 *   17     1    txn       SC_TXN_* bits (transactions and read_committed,
 *                         the early position flags)
 *   18     1    topic     topic index from the callback (-1..127), -1 if none
 *                         (before the callback with SC_EARLY_ONE: that
 *                         position's)
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

_Static_assert(sizeof(sc_rec) == 20, "a record's full state is 20 bytes");

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

/* A record below the window that is not clean, by sequence number. */
typedef struct sc_exc {
    int64_t seq; /* -1: empty slot */
    sc_rec r;
} sc_exc;

/* The window's blocks: 4,096 records (80 KB) each. */
#define SC_BLK_SHIFT 12
#define SC_BLK ((int64_t)1 << SC_BLK_SHIFT)

/* A window holds this many records before one still waiting for its log
 * position is moved out to the exceptions (memory stays bounded). */
#define SC_WINDOW_SOFT (1 << 16)

typedef struct sc_prod {
    sc_producer_info info;
    int64_t n;           /* records sent */
    int64_t base;        /* records below left the window */
    /* the window: blocks of SC_BLK records, block b = seq >> SC_BLK_SHIFT
     * at blk[b & (nblk - 1)]; allocated are those holding a seq in
     * [base rounded down to a block, n); a block the window left is kept
     * as this producer's spare, or given back (sc_blk_drop), so memory
     * follows the records in flight */
    sc_rec **blk;
    int64_t nblk;        /* a power of two */
    sc_rec *spare;
    uint8_t *kv8;        /* every record's short kv hash */
    int64_t kvcap;
    sc_exc *exc;         /* open addressing by seq, capexc a power of two */
    size_t nexc, capexc;
    int64_t nclean;      /* records below base kept as nothing but "clean" */
    bool closed;
    kp_time_us closed_us;
    /* every record below this has completed (callback or sync failure) */
    int64_t done_prefix;
} sc_prod;

/* The log scan's state per partition: where it is, and per producer the
 * highest sequence seen / seen by read_committed in this partition. */
typedef struct sc_part {
    int32_t topic, partition;
    int64_t fed_end;      /* every offset below was fed (or never will be) */
    int64_t *max_seq;     /* [np] */
    int64_t *max_visible; /* [np] */
} sc_part;

/* A second (third ...) position a record settled at before its callback. */
typedef struct sc_early {
    int32_t p, topic, partition;
    int64_t seq, offset;
} sc_early;

/* A record of a transactional producer that read_committed sees: judged
 * at the finish, once every transaction's outcome is known. */
typedef struct sc_seen {
    int32_t topic, partition, p;
    int64_t offset, seq;
} sc_seen;

#define SC_MAX_ERRS 128 /* index: err - KP_ERR__LOCAL_MIN */

/* A transaction the application never learned the outcome of. */
typedef struct sc_txn_range {
    int p;
    int64_t from, to; /* records [from, to) */
} sc_txn_range;

struct sc_checker {
    int np;
    sc_prod *prods;
    sc_inv_result res[SC_INV_COUNT];
    bool inv_off[SC_INV_COUNT];
    bool expected[SC_ANOM_COUNT];
    int64_t anomalies[SC_ANOM_COUNT];
    sc_counts counts;
    int64_t errs[SC_MAX_ERRS + 200];
    sc_part *parts;
    size_t nparts, capparts, lastpart;
    /* (topic, partition) -> index into parts + 1, for topics -1..127 and
     * partitions >= 0 (others are looked for in parts) */
    int32_t *part_idx[129];
    size_t part_idx_cap[129];
    sc_early *early;
    size_t nearly, capearly;
    sc_seen *seen;
    size_t nseen, capseen;
    sc_txn_range *unknown;      /* transactions of unknown outcome */
    size_t nunknown, capunknown;
    bool finished;
    bool general;               /* sc_checker_general_only: no fast paths */
    /* the window blocks' slab (sc_blk_new; no base: every block a
     * malloc); nmalloc: blocks from malloc held. */
    kp_slab slab;
    size_t nmalloc;
    bool slab_tried;            /* kp_slab_init ran (the first time needed) */
};

/* ---- window blocks -------------------------------------------------------
 * A window block is 80 KB (SC_BLK records of 20 bytes), written record by
 * record as the sends come; a block first touched costs 20 page faults.
 * While the windows hold fewer than SC_SLAB_SMALL blocks a new one is a
 * malloc (a short window, as the quiet hour's, is as it always was); past
 * that they come from a kp_slab reserved then (protocol/kp_slab.h: only
 * touched pages are memory, one fault per 2 MB), so a long window (every
 * record of a run that does not settle early: the faults workload holds
 * all 100,000) costs far fewer faults. A slab block the window leaves goes on the checker's
 * spare stack and is the next one opened: the slab never holds more
 * blocks than the windows held at once. Past the slab, and in sanitizer
 * builds (an overrun is caught at the block's own end), a block is a
 * malloc. */
#define SC_BLK_BYTES ((size_t)SC_BLK * sizeof(sc_rec))
#define SC_SLAB_SMALL 4                    /* malloc'd blocks held before the slab */
#define SC_SLAB_MAX ((size_t)1 << 30)      /* address space reserved at most */

/* A block for a window: a spare slab block first (its pages already
 * touched), then a malloc while fewer than SC_SLAB_SMALL are held, then
 * one carved from the slab, then a malloc. */
static sc_rec *sc_blk_new(sc_checker *ck) {
    sc_rec *b = kp_slab_pop_spare(&ck->slab);
    if (b)
        return b;
    if (ck->nmalloc >= SC_SLAB_SMALL) {
        if (!ck->slab_tried) {
            ck->slab_tried = true;
            (void)kp_slab_init(&ck->slab, SC_BLK_BYTES, SC_SLAB_MAX / SC_BLK_BYTES);
        }
        b = kp_slab_take(&ck->slab);
        if (b)
            return b;
    }
    b = malloc(SC_BLK_BYTES);
    if (!b)
        abort(); /* the checker cannot judge without its history */
    ck->nmalloc++;
    return b;
}

/* Lets a block go: a slab block onto the spare stack, else free(). */
static void sc_blk_free(sc_checker *ck, sc_rec *b) {
    if (kp_slab_holds(&ck->slab, b)) {
        kp_slab_put(&ck->slab, b);
        return;
    }
    ck->nmalloc--;
    free(b);
}

size_t sc_checker_blocks_carved(const sc_checker *ck) {
    return ck->slab.used;
}

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

/* Doubles *arr until it holds need elements; aborts without memory (the
 * checker cannot judge without its state). */
static void sc_grow(void **arr, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        abort();
    *arr = p;
    *cap = ncap;
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
    for (int i = 0; i < nproducers; i++)
        ck->prods[i].info = info[i];
    for (int i = 0; i < SC_INV_COUNT; i++)
        ck->res[i].enabled = true;
    return ck;
}

void sc_checker_free(sc_checker *ck) {
    if (!ck)
        return;
    for (int i = 0; i < ck->np; i++) {
        sc_prod *pr = &ck->prods[i];
        for (int64_t k = pr->base >> SC_BLK_SHIFT; pr->n > 0 && k <= (pr->n - 1) >> SC_BLK_SHIFT; k++)
            if (pr->blk[k & (pr->nblk - 1)])
                sc_blk_free(ck, pr->blk[k & (pr->nblk - 1)]);
        free(pr->blk);
        if (pr->spare)
            sc_blk_free(ck, pr->spare);
        free(ck->prods[i].kv8);
        free(ck->prods[i].exc);
    }
    for (size_t i = 0; i < ck->nparts; i++) {
        free(ck->parts[i].max_seq);
        free(ck->parts[i].max_visible);
    }
    free(ck->parts);
    for (size_t i = 0; i < sizeof ck->part_idx / sizeof ck->part_idx[0]; i++)
        free(ck->part_idx[i]);
    free(ck->early);
    free(ck->seen);
    free(ck->unknown);
    free(ck->prods);
    kp_slab_destroy(&ck->slab);
    free(ck);
}

void sc_checker_general_only(sc_checker *ck) {
    ck->general = true;
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

/* How many of the (up to 8) bytes in w, first byte in the low bits, are
 * decimal digits before the first one that is not, and their value in
 * *val. A byte is a digit when its high nibble is 3 and adding 6 keeps it
 * 3; the per-byte sums may carry into the next byte only out of a byte
 * that is no digit (>= 0xfa), i.e. at or after the first non-digit, so
 * the lowest non-digit is found exactly. The digits are moved to the top
 * bytes (the bytes below become leading zeros) and combined in three
 * multiply steps: pairs, quads, eight. */
static inline int sc_digits8(uint64_t w, uint64_t *val) {
    const uint64_t ones = 0x0101010101010101ULL;
    uint64_t nondigit = ((w & (0xf0 * ones)) ^ (0x30 * ones)) | (((w + 0x06 * ones) & (0xf0 * ones)) ^ (0x30 * ones));
    int n = nondigit ? __builtin_ctzll(nondigit) >> 3 : 8;
    if (!n)
        return 0;
    uint64_t d = (w - 0x30 * ones) << (8 * (8 - n)); /* the digits' bytes are exact: no borrow */
    d = (d * 10 + (d >> 8)) & 0x00ff00ff00ff00ffULL;
    d = (d * 100 + (d >> 16)) & 0x0000ffff0000ffffULL;
    d = (d * 10000 + (d >> 32)) & 0xffffffffULL;
    *val = d;
    return n;
}

/* Parses "P:SEQ " at the start of value (P at most 9 digits, SEQ at most
 * 18). The common case, SEQ of at most 7 digits with eight bytes to read,
 * is one sc_digits8; anything else goes digit by digit. Measured
 * (callgrind, throughput workload, 20,000 records, one parse per record in
 * the broker's digest): 2.52M Ir before, as a loop with four tests per
 * digit. */
static inline __attribute__((always_inline)) bool sc_value_parse_in(kp_slice value, int *producer,
                                                                     int64_t *seq) {
    if (value.len <= 0)
        return false;
    const uint8_t *p = value.ptr, *end = value.ptr + value.len;
    int64_t a = 0, b = 0;
    const uint8_t *q = p;
    if (value.len >= 10 && p[1] == ':' && (unsigned)p[0] - '0' <= 9) {
        /* one digit of producer (the workloads' kind): no loop */
        a = p[0] - '0';
        q = p + 1;
    } else {
        const uint8_t *lim = end - p > 9 ? p + 9 : end;
        for (; q < lim; q++) {
            unsigned d = (unsigned)*q - '0';
            if (d > 9)
                break;
            a = a * 10 + d;
        }
        if (q == p || q >= end || *q != ':')
            return false;
    }
    p = ++q;
    uint64_t v;
    int n;
    if (end - p >= 8 && (n = sc_digits8(sc_le64(p), &v)) < 8) {
        /* n digits, then a byte that is no digit */
        if (!n || p[n] != ' ')
            return false;
        b = (int64_t)v;
    } else {
        const uint8_t *lim = end - p > 18 ? p + 18 : end;
        for (; q < lim; q++) {
            unsigned d = (unsigned)*q - '0';
            if (d > 9)
                break;
            b = b * 10 + d;
        }
        if (q == p || q >= end || *q != ' ')
            return false;
    }
    *producer = (int)a;
    *seq = b;
    return true;
}

bool sc_value_parse(kp_slice value, int *producer, int64_t *seq) {
    return sc_value_parse_in(value, producer, seq);
}

/* kv_hash is the CRC32C (Kafka's checksum: kp_crc32c) of the value's bytes
 * after its first SC_KV_HEAD (the rest, empty for a shorter value), then
 * the value's first min(SC_KV_HEAD, len) bytes (its head), then the key's
 * bytes, then the 8-byte little-endian word key.len | value.len << 32 (-1
 * for a null key or value, so null and empty differ, and the lengths fix
 * where each part ends).
 *
 * Why a CRC: it is the checker's identity of a record's bytes, and its job
 * is to notice that what a log holds is not what was sent. CRC32C catches
 * every change of up to three bits and every burst of up to 32 bits in
 * records of this size (a burst across the head's end counts as the two
 * bursts it is in the hashed order), which a multiplicative hash only does
 * with high probability; for any other difference (another record, an
 * unrelated corruption) two inputs of equal length collide when the
 * generator divides their XOR, about 2^-32 for a difference without that
 * structure — the same odds as any 32-bit hash. And it is cheap: the SSE4.2
 * `crc32` instruction takes eight bytes per instruction, so a 100-byte
 * value costs ~50 instructions (callgrind, throughput workload, 20,000
 * records: the previous eight-bytes-per-multiply mix with a fold per word
 * was 5.9M Ir plus 0.56M of memcpy calls for the tail, twice per record:
 * at send and in the broker's digest).
 *
 * Why the rest first: a workload's value is its identity "P:SEQ " (at most
 * SC_KV_HEAD bytes for any seq below 10^13) over letters that depend on the
 * position and seq % 26 alone, and the key and lengths come last, so the
 * CRC of the rest is one of 26 values per value size: the sender keeps them
 * (sc_valgen_rest) and hashes only the head, the key and the lengths per
 * record (sc_kv_hash_from; ~20 Ir instead of ~65). The broker's digest
 * hashes every byte it holds. Without SSE4.2 the table CRC (kp_crc32c_sw)
 * gives the same value; a unit test checks both against the CRC of the
 * bytes in that order and against fixed vectors. */
static uint64_t sc_kv_lens(kp_slice key, kp_slice value) {
    return (uint64_t)(uint32_t)key.len | (uint64_t)(uint32_t)value.len << 32;
}

/* The head's length: min(SC_KV_HEAD, len), 0 for a null value. */
static inline size_t sc_kv_head_len(kp_slice value) {
    return value.len <= 0 ? 0 : value.len < SC_KV_HEAD ? (size_t)value.len : SC_KV_HEAD;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>

static inline uint64_t sc_kv_ld64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v; /* x86 is little-endian: the byte order crc32q wants */
}

static inline uint32_t sc_kv_ld32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The raw CRC register (no pre/post inversion) over p[0..n). */
__attribute__((target("sse4.2"))) static inline uint64_t sc_kv_crc_bytes(uint64_t c, const uint8_t *p,
                                                                         size_t n) {
    /* 32 bytes a step up to the last whole step's end (the loop's own
     * test is one compare of pointers), then each remaining power of two
     * by one bit of n: an 84-byte rest is two steps, 16 and 4 bytes
     * (callgrind: ~34 Ir for it, ~41 with the tail's lengths counted
     * down by compares and subtractions) */
    const uint8_t *end = p + (n & ~(size_t)31);
    for (; p != end; p += 32) {
        c = _mm_crc32_u64(c, sc_kv_ld64(p));
        c = _mm_crc32_u64(c, sc_kv_ld64(p + 8));
        c = _mm_crc32_u64(c, sc_kv_ld64(p + 16));
        c = _mm_crc32_u64(c, sc_kv_ld64(p + 24));
    }
    if (n & 16) {
        c = _mm_crc32_u64(c, sc_kv_ld64(p));
        c = _mm_crc32_u64(c, sc_kv_ld64(p + 8));
        p += 16;
    }
    if (n & 8) {
        c = _mm_crc32_u64(c, sc_kv_ld64(p));
        p += 8;
    }
    uint32_t c32 = (uint32_t)c;
    if (n & 4) {
        c32 = _mm_crc32_u32(c32, sc_kv_ld32(p));
        p += 4;
    }
    if (n & 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        c32 = _mm_crc32_u16(c32, v);
        p += 2;
    }
    if (n & 1)
        c32 = _mm_crc32_u8(c32, *p);
    return c32;
}

/* The pieces with the instruction, inline into their callers with the
 * same target (the sc_kv_* entry points and the broker's digest,
 * sc_log_digest_hw). */
__attribute__((target("sse4.2"), always_inline)) static inline uint32_t sc_kv_rest_hw_in(kp_slice value) {
    if (value.len <= SC_KV_HEAD)
        return 0;
    return ~(uint32_t)sc_kv_crc_bytes(0xffffffffu, value.ptr + SC_KV_HEAD, (size_t)value.len - SC_KV_HEAD);
}

__attribute__((target("sse4.2"), always_inline)) static inline uint32_t sc_kv_from_hw_in(uint32_t rest, kp_slice key,
                                                                                     kp_slice value) {
    uint64_t c = (uint32_t)~rest;
    size_t h = sc_kv_head_len(value);
    if (h == SC_KV_HEAD) { /* the workload's values: two words */
        c = _mm_crc32_u64(c, sc_kv_ld64(value.ptr));
        c = _mm_crc32_u64(c, sc_kv_ld64(value.ptr + 8));
    } else if (h)
        c = sc_kv_crc_bytes(c, value.ptr, h);
    if (key.len > 0)
        c = sc_kv_crc_bytes(c, key.ptr, (size_t)key.len);
    c = _mm_crc32_u64(c, sc_kv_lens(key, value));
    return ~(uint32_t)c;
}

__attribute__((target("sse4.2"), always_inline)) static inline uint32_t sc_kv_hash_hw_in(kp_slice key,
                                                                                     kp_slice value) {
    return sc_kv_from_hw_in(sc_kv_rest_hw_in(value), key, value);
}

__attribute__((target("sse4.2"))) static uint32_t sc_kv_hash_hw(kp_slice key, kp_slice value) {
    return sc_kv_hash_hw_in(key, value);
}

__attribute__((target("sse4.2"))) static uint32_t sc_kv_rest_hw(kp_slice value) {
    return sc_kv_rest_hw_in(value);
}

__attribute__((target("sse4.2"))) static uint32_t sc_kv_from_hw(uint32_t rest, kp_slice key, kp_slice value) {
    return sc_kv_from_hw_in(rest, key, value);
}

/* 1: the instruction is there; 0: not; -1: not asked yet */
static int sc_kv_hw = -1;

static inline bool sc_kv_use_hw(void) {
    if (sc_kv_hw < 0)
        sc_kv_hw = kp_crc32c_hw_available() ? 1 : 0;
    return sc_kv_hw;
}
#endif

static uint32_t sc_kv_rest_sw(kp_slice value) {
    if (value.len <= SC_KV_HEAD)
        return 0;
    return kp_crc32c_sw(0, value.ptr + SC_KV_HEAD, (size_t)value.len - SC_KV_HEAD);
}

static uint32_t sc_kv_from_sw(uint32_t rest, kp_slice key, kp_slice value) {
    uint8_t lens[8];
    uint64_t l = sc_kv_lens(key, value);
    for (int i = 0; i < 8; i++)
        lens[i] = (uint8_t)(l >> (8 * i));
    uint32_t c = rest;
    size_t h = sc_kv_head_len(value);
    if (h)
        c = kp_crc32c_sw(c, value.ptr, h);
    if (key.len > 0)
        c = kp_crc32c_sw(c, key.ptr, (size_t)key.len);
    return kp_crc32c_sw(c, lens, sizeof lens);
}

uint32_t sc_kv_hash(kp_slice key, kp_slice value) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (sc_kv_use_hw())
        return sc_kv_hash_hw(key, value);
#endif
    return sc_kv_hash_sw(key, value);
}

uint32_t sc_kv_hash_rest(kp_slice value) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (sc_kv_use_hw())
        return sc_kv_rest_hw(value);
#endif
    return sc_kv_rest_sw(value);
}

uint32_t sc_kv_hash_from(uint32_t rest, kp_slice key, kp_slice value) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (sc_kv_use_hw())
        return sc_kv_from_hw(rest, key, value);
#endif
    return sc_kv_from_sw(rest, key, value);
}

uint32_t sc_kv_hash_sw(kp_slice key, kp_slice value) {
    return sc_kv_from_sw(sc_kv_rest_sw(value), key, value);
}

/* ---- records: window, exceptions, clean ---------------------------------- */

static inline uint8_t sc_kv8(uint32_t h) {
    return (uint8_t)(h ^ h >> 8 ^ h >> 16 ^ h >> 24);
}

static inline sc_rec *sc_win(sc_prod *pr, int64_t seq) {
    return &pr->blk[(seq >> SC_BLK_SHIFT) & (pr->nblk - 1)][seq & (SC_BLK - 1)];
}

static inline size_t sc_exc_slot(int64_t seq, size_t cap) {
    uint64_t h = (uint64_t)seq * 0x9e3779b97f4a7c15ULL;
    return (size_t)(h ^ h >> 32) & (cap - 1);
}

static sc_rec *sc_exc_find(sc_prod *pr, int64_t seq) {
    if (!pr->nexc)
        return NULL;
    for (size_t i = sc_exc_slot(seq, pr->capexc);; i = (i + 1) & (pr->capexc - 1)) {
        if (pr->exc[i].seq == seq)
            return &pr->exc[i].r;
        if (pr->exc[i].seq < 0)
            return NULL;
    }
}

static sc_rec *sc_exc_put(sc_prod *pr, int64_t seq, const sc_rec *r) {
    if ((pr->nexc + 1) * 2 > pr->capexc) {
        size_t ncap = pr->capexc ? pr->capexc * 2 : 64;
        sc_exc *nt = malloc(ncap * sizeof *nt);
        if (!nt)
            abort();
        for (size_t i = 0; i < ncap; i++)
            nt[i].seq = -1;
        for (size_t i = 0; i < pr->capexc; i++)
            if (pr->exc[i].seq >= 0) {
                size_t k = sc_exc_slot(pr->exc[i].seq, ncap);
                while (nt[k].seq >= 0)
                    k = (k + 1) & (ncap - 1);
                nt[k] = pr->exc[i];
            }
        free(pr->exc);
        pr->exc = nt;
        pr->capexc = ncap;
    }
    size_t k = sc_exc_slot(seq, pr->capexc);
    while (pr->exc[k].seq >= 0)
        k = (k + 1) & (pr->capexc - 1);
    pr->exc[k].seq = seq;
    pr->exc[k].r = *r;
    pr->nexc++;
    return &pr->exc[k].r;
}

/* The state of record (p, seq): in the window or an exception; NULL with
 * *clean set for a clean record below the window; NULL alone for one that
 * was never sent. */
static inline sc_rec *sc_find(sc_checker *ck, int p, int64_t seq, bool *clean) {
    *clean = false;
    if (p < 0 || p >= ck->np || seq < 0)
        return NULL;
    sc_prod *pr = &ck->prods[p];
    if (seq >= pr->n)
        return NULL;
    if (seq >= pr->base)
        return sc_win(pr, seq);
    sc_rec *r = sc_exc_find(pr, seq);
    *clean = r == NULL;
    return r;
}

/* Something happens again to a clean record: it becomes an exception with
 * the state "clean" stands for (one callback without error, in the log at
 * its acknowledged offset; the offset itself is no longer known, nor the
 * full kv hash). */
static sc_rec *sc_unclean(sc_prod *pr, int64_t seq) {
    sc_rec r;
    memset(&r, 0, sizeof r);
    r.partition = -1;
    r.topic = -1;
    r.err = KP_ERR_NONE;
    r.state = SC_REC_SENT | SC_REC_RETURNED | SC_REC_IN_LOG | SC_REC_AT_OFFSET |
              (1u << SC_REC_NCB_SHIFT);
    sc_rec_set_when(&r, pr->info.acks == 0 ? -1 : 0);
    r.txn = SC_KV_SHORT;
    pr->nclean--;
    return sc_exc_put(pr, seq, &r);
}

static __attribute__((noinline)) sc_part *sc_part_get_slow(sc_checker *ck, int32_t topic, int32_t partition) {
    bool mapped = topic >= -1 && topic <= INT8_MAX && partition >= 0;
    if (ck->lastpart < ck->nparts && ck->parts[ck->lastpart].topic == topic &&
        ck->parts[ck->lastpart].partition == partition)
        return &ck->parts[ck->lastpart];
    for (size_t i = 0; i < ck->nparts; i++)
        if (ck->parts[i].topic == topic && ck->parts[i].partition == partition) {
            ck->lastpart = i;
            return &ck->parts[i];
        }
    if (mapped) {
        size_t *cap = &ck->part_idx_cap[topic + 1], old = *cap;
        void *arr = ck->part_idx[topic + 1];
        sc_grow(&arr, cap, (size_t)partition + 1, sizeof(int32_t));
        ck->part_idx[topic + 1] = arr;
        memset(ck->part_idx[topic + 1] + old, 0, (*cap - old) * sizeof(int32_t));
        ck->part_idx[topic + 1][partition] = (int32_t)ck->nparts + 1;
    }
    void *arr = ck->parts;
    sc_grow(&arr, &ck->capparts, ck->nparts + 1, sizeof *ck->parts);
    ck->parts = arr;
    sc_part *sp = &ck->parts[ck->nparts];
    sp->topic = topic;
    sp->partition = partition;
    sp->fed_end = 0;
    sp->max_seq = malloc((size_t)ck->np * sizeof *sp->max_seq);
    sp->max_visible = malloc((size_t)ck->np * sizeof *sp->max_visible);
    if (!sp->max_seq || !sp->max_visible)
        abort();
    for (int i = 0; i < ck->np; i++)
        sp->max_seq[i] = sp->max_visible[i] = -1;
    ck->lastpart = ck->nparts++;
    return sp;
}

/* The partition's state; its index by (topic, partition) inline (once per
 * settled batch: a call of ~40 Ir in the quiet hour's one-record
 * batches), anything else (an unmapped topic, a new partition) out of
 * line. */
static inline sc_part *sc_part_get(sc_checker *ck, int32_t topic, int32_t partition) {
    if (topic >= -1 && topic <= INT8_MAX && partition >= 0 &&
        (size_t)partition < ck->part_idx_cap[topic + 1] && ck->part_idx[topic + 1][partition])
        return &ck->parts[ck->part_idx[topic + 1][partition] - 1];
    return sc_part_get_slow(ck, topic, partition);
}

enum { SC_SETTLE_WAIT, SC_SETTLE_CLEAN, SC_SETTLE_EXCEPTION };

/* The state bits of a clean record (SC_REC_RETURNED aside): one callback,
 * sent, in the log at its acknowledged offset (which AT_OFFSET implies is
 * >= 0, so never an acks=0 record, whose callbacks carry -1). */
#define SC_REC_CLEAN_BITS \
    (SC_REC_SENT | SC_REC_IN_LOG | SC_REC_AT_OFFSET | (1u << SC_REC_NCB_SHIFT))

/* Can record r (it has completed) leave the window, and as what? */
static int sc_settle_kind(sc_checker *ck, const sc_prod *pr, const sc_rec *r) {
    bool plain = !(r->txn & (SC_TXN_MASK | SC_EARLY_ONE | SC_EARLY_MORE));
    if ((r->state & ~SC_REC_RETURNED) == SC_REC_CLEAN_BITS && r->err == KP_ERR_NONE && plain)
        return SC_SETTLE_CLEAN;
    if ((r->state & SC_REC_SYNC_FAILED) || sc_rec_ncb(r) != 1 || r->err != KP_ERR_NONE || !plain)
        return SC_SETTLE_EXCEPTION;
    if (pr->info.acks == 0)
        return (r->state & SC_REC_IN_LOG) ? SC_SETTLE_CLEAN : SC_SETTLE_WAIT;
    int64_t off = sc_rec_offset(r);
    if (off < 0)
        return SC_SETTLE_EXCEPTION; /* acknowledged as a duplicate: no offset */
    if (r->state & SC_REC_AT_OFFSET)
        return SC_SETTLE_CLEAN;
    /* not (yet) at its offset: final once the scan has passed it */
    return sc_part_get(ck, r->topic, r->partition)->fed_end > off ? SC_SETTLE_EXCEPTION
                                                                  : SC_SETTLE_WAIT;
}

/* The window left the block below base: it is the producer's spare, or
 * let go (sc_blk_free) if it has one. */
static void sc_leave_block(sc_checker *ck, sc_prod *pr) {
    sc_rec **slot = &pr->blk[((pr->base >> SC_BLK_SHIFT) - 1) & (pr->nblk - 1)];
    if (!pr->spare)
        pr->spare = *slot;
    else
        sc_blk_free(ck, *slot);
    *slot = NULL;
}

/* The bottom record has left the window (as a count or an exception). */
static inline void sc_base_next(sc_checker *ck, sc_prod *pr) {
    pr->base++;
    if (!(pr->base & (SC_BLK - 1)))
        sc_leave_block(ck, pr);
}

/* sc_settle_kind's first case: one callback without error, in the log at
 * its acknowledged offset, no transaction, no early position left. */
static inline bool sc_rec_plain_clean(const sc_rec *r) {
    return (r->state & ~SC_REC_RETURNED) == SC_REC_CLEAN_BITS && r->err == KP_ERR_NONE &&
           !(r->txn & (SC_TXN_MASK | SC_EARLY_ONE | SC_EARLY_MORE));
}

/* Moves the completed records at the bottom of p's window out: clean ones
 * to a count, the others to the exceptions. A transactional producer's
 * records stay (their outcome and read_committed view come at the end). */
static void sc_advance_slow(sc_checker *ck, sc_prod *pr) {
    while (pr->base < pr->n) {
        /* sc_settle_kind's first case, the common one, without the call:
         * the run of such records from base to the end of its block (or
         * of the window), walked by pointer */
        int64_t b = pr->base;
        sc_rec *r = sc_win(pr, b);
        if (sc_rec_plain_clean(r)) {
            int64_t stop = (b | (SC_BLK - 1)) + 1, k = b + 1;
            if (stop > pr->n)
                stop = pr->n;
            for (r++; k < stop && sc_rec_plain_clean(r); k++, r++)
                ;
            pr->nclean += k - b;
            pr->base = k;
            if (!(k & (SC_BLK - 1))) {
                sc_leave_block(ck, pr);
                continue;
            }
            if (k == pr->n)
                return;
            /* r: the record at the new base, not such a one */
        }
        if (!sc_rec_ncb(r) && !(r->state & SC_REC_SYNC_FAILED))
            return;
        int kind = sc_settle_kind(ck, pr, r);
        if (kind == SC_SETTLE_WAIT && pr->n - pr->base < SC_WINDOW_SOFT)
            return;
        if (kind == SC_SETTLE_CLEAN)
            pr->nclean++;
        else
            sc_exc_put(pr, pr->base, r);
        sc_base_next(ck, pr);
    }
}

static inline void sc_advance(sc_checker *ck, int p) {
    sc_prod *pr = &ck->prods[p];
    if (pr->info.transactional || pr->base == pr->n)
        return;
    const sc_rec *r = sc_win(pr, pr->base);
    if (sc_rec_ncb(r) || (r->state & SC_REC_SYNC_FAILED))
        sc_advance_slow(ck, pr);
}

/* ---- history ------------------------------------------------------------ */

/* The first record of a new block (n is a multiple of SC_BLK): the block,
 * the ring of block pointers and the short hashes grown as needed (the
 * short hashes' capacity is a multiple of SC_BLK too, so they are full
 * only here). */
static __attribute__((noinline)) void sc_send_grow(sc_checker *ck, sc_prod *pr) {
    int64_t lo = pr->base >> SC_BLK_SHIFT, b = pr->n >> SC_BLK_SHIFT;
    if (b - lo + 1 > pr->nblk) {
        int64_t ncap = pr->nblk ? pr->nblk * 2 : 4;
        sc_rec **nb = calloc((size_t)ncap, sizeof *nb);
        if (!nb)
            abort(); /* the checker cannot judge without its history */
        for (int64_t k = lo; k < b; k++)
            nb[k & (ncap - 1)] = pr->blk[k & (pr->nblk - 1)];
        free(pr->blk);
        pr->blk = nb;
        pr->nblk = ncap;
    }
    sc_rec *blk = pr->spare ? pr->spare : sc_blk_new(ck);
    pr->spare = NULL;
    pr->blk[b & (pr->nblk - 1)] = blk;
    if (pr->n == pr->kvcap) {
        int64_t ncap = pr->kvcap ? pr->kvcap * 2 : SC_BLK;
        uint8_t *nk = realloc(pr->kv8, (size_t)ncap);
        if (!nk)
            abort();
        pr->kv8 = nk;
        pr->kvcap = ncap;
    }
}

static inline __attribute__((always_inline)) void sc_send_put(sc_checker *ck, sc_prod *pr, uint32_t kv_hash,
                                                              kp_time_us now) {
    pr->kv8[pr->n] = sc_kv8(kv_hash);
    *sc_win(pr, pr->n++) = (sc_rec){ .when_lo = (uint32_t)(uint64_t)now,
                                     .when_hi = (uint32_t)((uint64_t)now >> 32),
                                     .kv_hash = kv_hash,
                                     .partition = -1,
                                     .topic = -1,
                                     .state = SC_REC_SENT };
    ck->counts.sent++;
}

/* A send that opens a block: the growth, then the record. */
static __attribute__((noinline)) void sc_send_new_block(sc_checker *ck, sc_prod *pr, uint32_t kv_hash,
                                                        kp_time_us now) {
    sc_send_grow(ck, pr);
    sc_send_put(ck, pr, kv_hash, now);
}

/* (The growth out of line with the record it opens: nothing is live
 * across a call in the common send, so its frame saves no registers.) */
void sc_checker_on_send(sc_checker *ck, int p, int64_t seq, uint32_t kv_hash, kp_time_us now) {
    assert(p >= 0 && p < ck->np);
    sc_prod *pr = &ck->prods[p];
    assert(seq == pr->n && "sends are numbered densely in order");
    (void)seq;
    if (!(pr->n & (SC_BLK - 1))) {
        sc_send_new_block(ck, pr, kv_hash, now);
        return;
    }
    sc_send_put(ck, pr, kv_hash, now);
}

void sc_checker_on_send_returned(sc_checker *ck, int p, int64_t seq, kp_time_us now) {
    bool clean;
    sc_rec *r = sc_find(ck, p, seq, &clean);
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
    bool clean;
    sc_rec *r = sc_find(ck, p, seq, &clean);
    assert(r);
    r->state |= SC_REC_SYNC_FAILED;
    r->err = (int8_t)err;
    ck->counts.sync_failed++;
    sc_count_err(ck, err);
}

/* The first callback of (p, seq) acknowledges (topic, partition, off), off
 * -1 for none: was the record already seen there in a log (before the
 * callback)? Call it before the callback's fields overwrite r's. */
static void sc_early_resolve(sc_checker *ck, int p, int64_t seq, sc_rec *r, int32_t topic,
                             int32_t partition, int64_t off) {
    if ((r->txn & SC_EARLY_ONE) && off >= 0 && r->topic == topic && r->partition == partition &&
        (uint64_t)off == r->kv_hash)
        r->state |= SC_REC_AT_OFFSET;
    if (r->txn & SC_EARLY_MORE) {
        size_t w = 0;
        for (size_t i = 0; i < ck->nearly; i++) {
            const sc_early *e = &ck->early[i];
            if (e->p != p || e->seq != seq) {
                ck->early[w++] = *e;
                continue;
            }
            if (off >= 0 && e->offset == off && e->topic == topic && e->partition == partition)
                r->state |= SC_REC_AT_OFFSET;
        }
        ck->nearly = w;
    }
    r->txn &= (uint8_t)~(SC_EARLY_ONE | SC_EARLY_MORE);
}

static __attribute__((noinline)) void sc_latency_violation(sc_checker *ck, const sc_prod *pr, int p, int64_t seq,
                                                            kp_err err, kp_time_us lat) {
    sc_violation(ck, SC_INV_DELIVERY_TIMEOUT, "producer %d record %" PRId64
                 ": callback (%s) %.3f ms after send, delivery.timeout.ms=%" PRId64,
                 p, seq, kp_err_name(err), lat / 1000.0, pr->info.delivery_timeout_ms);
}

/* The delivery_timeout_bound check of one callback (lat: send returned ->
 * callback). */
static inline void sc_check_latency(sc_checker *ck, const sc_prod *pr, int p, int64_t seq, kp_err err,
                                    kp_time_us lat) {
    if (lat > ck->counts.max_latency_us)
        ck->counts.max_latency_us = lat;
    ck->res[SC_INV_DELIVERY_TIMEOUT].checked++;
    int64_t bound_us = (pr->info.delivery_timeout_ms + pr->info.timeout_slack_ms) * 1000;
    if (pr->info.delivery_timeout_ms > 0 && lat > bound_us)
        sc_latency_violation(ck, pr, p, seq, err, lat);
}

/* The common callback, taken without the general path's steps: a record
 * in a non-transactional producer's window, already found in a log once
 * (before its callback) at exactly the position the callback acknowledges
 * without error, before close. The general path would find no violation,
 * resolve the early position (AT_OFFSET), fill the callback's fields
 * (topic and partition are those of the early position already, the
 * offset replaces the send time) and move the window's bottom on; this
 * does the same. */
static inline bool sc_callback_fast(sc_checker *ck, int p, int64_t seq, int32_t topic, int32_t partition,
                                    int64_t offset, kp_err err, kp_time_us now) {
    if (p < 0 || p >= ck->np || err != KP_ERR_NONE)
        return false;
    sc_prod *pr = &ck->prods[p];
    if (seq < pr->base || seq >= pr->n || pr->closed || pr->info.transactional)
        return false;
    sc_rec *r = sc_win(pr, seq);
    if ((r->state & ~SC_REC_RETURNED) != (SC_REC_SENT | SC_REC_IN_LOG) ||
        r->txn != (SC_EARLY_ONE | SC_KV_SHORT) || offset < 0 || (uint64_t)offset != r->kv_hash ||
        r->topic != topic || r->partition != partition)
        return false;
    kp_time_us lat = now - sc_rec_when(r);
    r->state |= SC_REC_AT_OFFSET | (1u << SC_REC_NCB_SHIFT);
    r->txn = SC_KV_SHORT;
    sc_rec_set_when(r, offset);
    ck->counts.acked++;
    sc_check_latency(ck, pr, p, seq, err, lat);
    if (seq == pr->base)
        sc_advance_slow(ck, pr);
    return true;
}

/* Every other callback: the general path. */
static __attribute__((noinline)) void sc_callback_slow(sc_checker *ck, int p, int64_t seq, int32_t topic,
                                                       int32_t partition, int64_t offset, kp_err err,
                                                       kp_time_us now) {
    bool clean;
    sc_rec *r = sc_find(ck, p, seq, &clean);
    if (!r && !clean) {
        sc_violation(ck, SC_INV_ONE_CALLBACK, "callback for producer %d record %" PRId64
                     " that was never sent", p, seq);
        return;
    }
    sc_prod *pr = &ck->prods[p];
    if (clean)
        r = sc_unclean(pr, seq);
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
    if (r->txn & (SC_EARLY_ONE | SC_EARLY_MORE))
        sc_early_resolve(ck, p, seq, r, topic, partition, err == KP_ERR_NONE ? offset : -1);
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
    sc_check_latency(ck, pr, p, seq, err, lat);
    sc_advance(ck, p);
}

void sc_checker_on_callback(sc_checker *ck, int p, int64_t seq, int32_t topic, int32_t partition,
                            int64_t offset, kp_err err, kp_time_us now) {
    if (ck->general || !sc_callback_fast(ck, p, seq, topic, partition, offset, err, now))
        sc_callback_slow(ck, p, seq, topic, partition, offset, err, now);
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
    /* amortised O(1): the completed prefix only grows; below the window
     * every record has completed */
    if (pr->done_prefix < pr->base)
        pr->done_prefix = pr->base;
    while (pr->done_prefix < pr->n) {
        const sc_rec *rec = sc_win(pr, pr->done_prefix);
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

void sc_checker_on_txn_end(sc_checker *ck, int p, int64_t from_seq, int64_t to_seq, bool committed) {
    assert(p >= 0 && p < ck->np);
    sc_prod *pr = &ck->prods[p];
    assert(pr->info.transactional && "transactions only for producers declared transactional");
    if (to_seq > pr->n)
        to_seq = pr->n;
    for (int64_t q = from_seq < 0 ? 0 : from_seq; q < to_seq; q++) {
        sc_rec *r = sc_win(pr, q); /* a transactional producer's window holds all */
        r->txn |= SC_TXN_MEMBER;
        if (committed)
            r->txn |= SC_TXN_COMMITTED;
    }
}

void sc_checker_on_txn_unknown(sc_checker *ck, int p, int64_t from_seq, int64_t to_seq) {
    assert(p >= 0 && p < ck->np);
    sc_prod *pr = &ck->prods[p];
    assert(pr->info.transactional && "transactions only for producers declared transactional");
    if (to_seq > pr->n)
        to_seq = pr->n;
    if (from_seq < 0)
        from_seq = 0;
    if (from_seq >= to_seq)
        return;
    for (int64_t q = from_seq; q < to_seq; q++)
        sc_win(pr, q)->txn |= SC_TXN_UNKNOWN;
    void *arr = ck->unknown;
    sc_grow(&arr, &ck->capunknown, ck->nunknown + 1, sizeof *ck->unknown);
    ck->unknown = arr;
    ck->unknown[ck->nunknown++] = (sc_txn_range){ p, from_seq, to_seq };
}

/* The read_committed half of the log scan (at the finish, in log order). */
static void sc_txn_view(sc_checker *ck, sc_part *sp, sc_rec *r, int p, int64_t seq, int64_t offset) {
    if (r->txn & SC_TXN_UNKNOWN) {
        /* outcome unknown: which way it went is txn_atomic's question;
         * seen twice is still wrong */
        if (r->txn & SC_TXN_VISIBLE) {
            ck->res[SC_INV_TXN_READ_COMMITTED].checked++;
            sc_violation(ck, SC_INV_TXN_READ_COMMITTED, "topic %d partition %d offset %" PRId64
                         ": producer %d record %" PRId64 " is visible to read_committed twice",
                         sp->topic, sp->partition, offset, p, seq);
        }
        r->txn |= SC_TXN_VISIBLE;
        return;
    }
    if (!(r->txn & SC_TXN_MEMBER))
        return;
    int32_t topic = sp->topic, partition = sp->partition;
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
    else if (seq < sp->max_visible[p])
        sc_violation(ck, SC_INV_TXN_READ_COMMITTED, "topic %d partition %d offset %" PRId64
                     ": producer %d record %" PRId64 " is read after record %" PRId64 " (read_committed)",
                     topic, partition, offset, p, seq, sp->max_visible[p]);
    r->txn |= SC_TXN_VISIBLE;
    if (seq > sp->max_visible[p])
        sp->max_visible[p] = seq;
}

#define SC_ID_SEQ_BITS 40

/* The identity part of a log digest: an identity that does not fit the
 * packing names no sent record (producers are few, sequences below 2^40):
 * foreign either way (0). */
static inline __attribute__((always_inline)) uint64_t sc_log_id_of(kp_slice value) {
    int p;
    int64_t seq;
    if (sc_value_parse_in(value, &p, &seq) && p >= 0 && p < (1 << 23) && seq >= 0 &&
        seq < ((int64_t)1 << SC_ID_SEQ_BITS))
        return (uint64_t)(p + 1) << SC_ID_SEQ_BITS | (uint64_t)seq;
    return 0;
}

static inline __attribute__((always_inline)) void sc_log_digest_put(void *out, uint64_t id, uint32_t kv_hash) {
    /* each field stored straight to out: a struct built on the stack and
     * copied was two 32-bit stores read back at once by one 64-bit load,
     * which cannot be forwarded from them (perf: 36-40% of
     * sc_log_digest_hw's cycles on that load) */
    uint32_t lo = (uint32_t)id, hi = (uint32_t)(id >> 32);
    char *o = out;
    memcpy(o + offsetof(sc_log_digest, id_lo), &lo, sizeof lo);
    memcpy(o + offsetof(sc_log_digest, id_hi), &hi, sizeof hi);
    memcpy(o + offsetof(sc_log_digest, kv_hash), &kv_hash, sizeof kv_hash);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* The digest with the CRC instruction: the parse and the hash in one
 * function (the broker asks it once per appended record; through
 * sc_kv_hash it was two more calls, ~20 Ir a record). */
__attribute__((target("sse4.2"))) static void sc_log_digest_hw(void *ctx, kp_slice key, kp_slice value,
                                                               struct bm_digest *out) {
    (void)ctx;
    sc_log_digest_put(out, sc_log_id_of(value), sc_kv_hash_hw_in(key, value));
}
#endif

/* sc_log_digest_of in the digester's shape (no CRC instruction) */
static void sc_log_digest_any(void *ctx, kp_slice key, kp_slice value, struct bm_digest *out) {
    (void)ctx;
    sc_log_digest_of(key, value, out);
}

sc_log_digest_fn *sc_log_digest_best(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (sc_kv_use_hw())
        return sc_log_digest_hw;
#endif
    return sc_log_digest_any;
}

void sc_log_digest_of(kp_slice key, kp_slice value, void *out) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (sc_kv_hw > 0) {
        sc_log_digest_hw(NULL, key, value, out);
        return;
    }
#endif
    sc_log_digest_put(out, sc_log_id_of(value), sc_kv_hash(key, value));
}

static void sc_log_scan_one(sc_checker *ck, sc_part *sp, int64_t offset, const sc_log_digest *d,
                            bool committed_view);

/* The common log records, taken without sc_log_scan_one's general steps:
 * a run of the next (at most n) digests, from offset on, each a record of
 * the same non-transactional producer, in its window, seen in no log, with
 * the key and value it was sent with, after every record of its producer
 * this partition showed so far, at an offset the record's fields can hold
 * (sp->topic must fit its byte: the caller checks), and either with no
 * callback yet or with one callback that acknowledged this very position
 * without error. The general path would find each clean of every anomaly,
 * count the order and duplicate checks, and remember the position for the
 * callback to come, or mark the record at its offset and, at the window's
 * bottom, move the window on; this does exactly that, with the producer's
 * window and the partition's highest sequence in locals for the run (a
 * batch is one producer's records in order). Returns how many digests it
 * took (0: the first is not such a record). */
/* The common log record alone (a batch of one record, the quiet
 * workloads' kind): sc_log_scan_run's first case for one digest, without
 * the run's set-up. */
static inline __attribute__((always_inline)) bool sc_log_scan_fast(sc_checker *ck, sc_part *sp, int64_t offset,
                                                                 const sc_log_digest *d) {
    uint64_t id = (uint64_t)d->id_hi << 32 | d->id_lo;
    int p = (int)(id >> SC_ID_SEQ_BITS) - 1;
    int64_t seq = (int64_t)(id & (((uint64_t)1 << SC_ID_SEQ_BITS) - 1));
    if (p < 0 || p >= ck->np || offset < 0 || offset > UINT32_MAX)
        return false;
    sc_prod *pr = &ck->prods[p];
    if (seq < pr->base || seq >= pr->n || pr->info.transactional || seq <= sp->max_seq[p])
        return false;
    sc_rec *r = sc_win(pr, seq);
    if (r->txn || (r->state & ~SC_REC_RETURNED) != SC_REC_SENT || r->kv_hash != d->kv_hash)
        return false;
    if (offset >= sp->fed_end)
        sp->fed_end = offset + 1;
    ck->counts.log_records++;
    r->state |= SC_REC_IN_LOG;
    sp->max_seq[p] = seq;
    if (pr->info.idempotent || pr->info.max_in_flight == 1)
        ck->res[SC_INV_PER_PARTITION_ORDER].checked++;
    if (pr->info.idempotent)
        ck->res[SC_INV_NO_DUPLICATES].checked++;
    r->txn = SC_EARLY_ONE | SC_KV_SHORT;
    r->kv_hash = (uint32_t)offset;
    r->topic = (int8_t)sp->topic;
    r->partition = sp->partition;
    return true;
}

static __attribute__((noinline)) int64_t sc_run_advance(sc_checker *ck, sc_prod *pr, sc_part *sp, int64_t off) {
    if (off >= sp->fed_end)
        sp->fed_end = off + 1;
    sc_advance_slow(ck, pr);
    return pr->base;
}

static __attribute__((noinline)) int32_t sc_log_scan_run(sc_checker *ck, sc_part *sp, int64_t offset,
                                                         const unsigned char *at, int32_t n) {
    sc_log_digest d;
    memcpy(&d, at, sizeof d);
    uint64_t id = (uint64_t)d.id_hi << 32 | d.id_lo;
    int p = (int)(id >> SC_ID_SEQ_BITS) - 1;
    if (p < 0 || p >= ck->np || offset < 0)
        return 0;
    sc_prod *pr = &ck->prods[p];
    if (pr->info.transactional)
        return 0;
    const uint64_t pid = (uint64_t)(p + 1) << SC_ID_SEQ_BITS;
    int64_t base = pr->base;
    const int64_t end = pr->n;
    sc_rec *const *blk = pr->blk;
    const int64_t mask = pr->nblk - 1;
    const int8_t topic = (int8_t)sp->topic;
    const int32_t partition = sp->partition;
    int64_t max_seq = sp->max_seq[p];
    /* the records whose offset a record's fields can hold (the offset is
     * checked once here, not per record) */
    int32_t kn = offset > (int64_t)UINT32_MAX ? 0 : (int64_t)UINT32_MAX - offset + 1 < n ? (int32_t)((int64_t)UINT32_MAX - offset + 1) : n;
    int32_t k = 0;
    for (; k < kn; k++) {
        /* the digest's fields read straight from the batch (sc_log_digest's
         * layout: id_lo, id_hi, kv_hash) */
        const unsigned char *dk = at + (size_t)k * sizeof d;
        uint32_t lo, hi, kvh;
        memcpy(&lo, dk + offsetof(sc_log_digest, id_lo), 4);
        memcpy(&hi, dk + offsetof(sc_log_digest, id_hi), 4);
        memcpy(&kvh, dk + offsetof(sc_log_digest, kv_hash), 4);
        id = (uint64_t)hi << 32 | lo;
        int64_t seq = (int64_t)(id - pid);
        int64_t off = offset + k;
        /* id - pid < 2^40 when id is p's (p + 1 in the bits above) */
        if ((uint64_t)seq >> SC_ID_SEQ_BITS || seq < base || seq >= end || seq <= max_seq)
            break;
        sc_rec *r = &blk[(seq >> SC_BLK_SHIFT) & mask][seq & (SC_BLK - 1)];
        if (r->txn || r->kv_hash != kvh)
            break;
        unsigned st = r->state & ~SC_REC_RETURNED;
        if (st == SC_REC_SENT) { /* before its callback: the early position */
            r->state |= SC_REC_IN_LOG;
            r->txn = SC_EARLY_ONE | SC_KV_SHORT;
            r->kv_hash = (uint32_t)off;
            r->topic = topic;
            r->partition = partition;
        } else if (st == (SC_REC_SENT | (1u << SC_REC_NCB_SHIFT)) && r->err == KP_ERR_NONE &&
                   sc_rec_when(r) == off && r->topic == topic && r->partition == partition) {
            /* after its one callback, at the position it acknowledged */
            r->state |= SC_REC_IN_LOG | SC_REC_AT_OFFSET;
            if (seq == pr->base) /* the window's bottom is done: move on, as the general path */
                base = sc_run_advance(ck, pr, sp, off);
        } else
            break;
        max_seq = seq;
    }
    if (!k)
        return 0;
    sp->max_seq[p] = max_seq;
    if (offset + k > sp->fed_end)
        sp->fed_end = offset + k;
    ck->counts.log_records += k;
    if (pr->info.idempotent || pr->info.max_in_flight == 1)
        ck->res[SC_INV_PER_PARTITION_ORDER].checked += k;
    if (pr->info.idempotent)
        ck->res[SC_INV_NO_DUPLICATES].checked += k;
    return k;
}

void sc_checker_log_record(sc_checker *ck, int32_t topic, int32_t partition, int64_t offset,
                           kp_slice key, kp_slice value) {
    sc_checker_log_record_txn(ck, topic, partition, offset, key, value, true);
}

void sc_checker_log_record_txn(sc_checker *ck, int32_t topic, int32_t partition, int64_t offset,
                               kp_slice key, kp_slice value, bool committed_view) {
    sc_log_digest d;
    sc_log_digest_of(key, value, &d);
    sc_checker_log_digest(ck, topic, partition, offset, &d, committed_view);
}

void sc_checker_log_digest(sc_checker *ck, int32_t topic, int32_t partition, int64_t offset,
                           const sc_log_digest *d, bool committed_view) {
    sc_log_scan_one(ck, sc_part_get(ck, topic, partition), offset, d, committed_view);
}

static __attribute__((noinline)) void sc_log_digests_general(sc_checker *ck, int32_t topic, int32_t partition,
                                                              int64_t first_offset, const void *digests,
                                                              int32_t n, bool committed_view) {
    sc_part *sp = sc_part_get(ck, topic, partition);
    const unsigned char *at = digests;
    bool early_fits = sp->topic >= -1 && sp->topic <= INT8_MAX && !ck->general;
    if (n == 1 && early_fits) { /* one record: no run to set up */
        sc_log_digest d;
        memcpy(&d, at, sizeof d);
        if (!sc_log_scan_fast(ck, sp, first_offset, &d))
            sc_log_scan_one(ck, sp, first_offset, &d, committed_view);
        return;
    }
    for (int32_t i = 0; i < n;) {
        if (early_fits) {
            i += sc_log_scan_run(ck, sp, first_offset + i, at + (size_t)i * sizeof(sc_log_digest), n - i);
            if (i == n)
                break;
        }
        sc_log_digest d;
        memcpy(&d, at + (size_t)i * sizeof d, sizeof d);
        sc_log_scan_one(ck, sp, first_offset + i, &d, committed_view);
        i++;
    }
}

/* One record of a mapped partition seen by sc_log_scan_fast (the quiet
 * workloads' batches) makes no call, so this frame saves no registers;
 * anything else is sc_log_digests_general. */
void sc_checker_log_digests(sc_checker *ck, int32_t topic, int32_t partition, int64_t first_offset,
                            const void *digests, int32_t n, bool committed_view) {
    if (n == 1 && !ck->general && topic >= -1 && topic <= INT8_MAX && partition >= 0 &&
        (size_t)partition < ck->part_idx_cap[topic + 1] && ck->part_idx[topic + 1][partition]) {
        sc_log_digest d;
        memcpy(&d, digests, sizeof d);
        if (sc_log_scan_fast(ck, &ck->parts[ck->part_idx[topic + 1][partition] - 1], first_offset, &d))
            return;
    }
    sc_log_digests_general(ck, topic, partition, first_offset, digests, n, committed_view);
}

static void sc_log_scan_one(sc_checker *ck, sc_part *sp, int64_t offset, const sc_log_digest *d,
                            bool committed_view) {
    uint64_t id = (uint64_t)d->id_hi << 32 | d->id_lo;
    int p = id ? (int)(id >> SC_ID_SEQ_BITS) - 1 : -1;
    int64_t seq = (int64_t)(id & (((uint64_t)1 << SC_ID_SEQ_BITS) - 1));
    uint32_t kv_hash = d->kv_hash;
    int32_t topic = sp->topic, partition = sp->partition;
    if (offset >= sp->fed_end)
        sp->fed_end = offset + 1;
    ck->counts.log_records++;
    bool clean;
    sc_rec *r = sc_find(ck, p, seq, &clean);
    if (!r && !clean) {
        ck->counts.log_foreign++;
        return;
    }
    sc_prod *pr = &ck->prods[p];
    bool order_applies = pr->info.idempotent || pr->info.max_in_flight == 1;
    bool dup_applies = pr->info.idempotent;

    bool kv_same = r && !(r->txn & SC_KV_SHORT) ? kv_hash == r->kv_hash
                                                : sc_kv8(kv_hash) == pr->kv8[seq];
    if (!kv_same)
        sc_violation(ck, SC_INV_ACKED_IN_LOG, "topic %d partition %d offset %" PRId64
                     ": producer %d record %" PRId64 " has a different key/value than was sent",
                     topic, partition, offset, p, seq);

    if (clean || (r->state & SC_REC_IN_LOG)) {
        ck->anomalies[SC_ANOM_DUPLICATES]++;
        if (dup_applies)
            sc_violation(ck, SC_INV_NO_DUPLICATES, "producer %d record %" PRId64
                         " appears again at topic %d partition %d offset %" PRId64,
                         p, seq, topic, partition, offset);
    } else {
        r->state |= SC_REC_IN_LOG;
        if (seq < sp->max_seq[p]) {
            ck->anomalies[SC_ANOM_REORDERING]++;
            if (order_applies)
                sc_violation(ck, SC_INV_PER_PARTITION_ORDER, "topic %d partition %d offset %" PRId64
                             ": producer %d record %" PRId64 " after record %" PRId64,
                             topic, partition, offset, p, seq, sp->max_seq[p]);
        }
    }
    if (seq > sp->max_seq[p])
        sp->max_seq[p] = seq;
    if (order_applies)
        ck->res[SC_INV_PER_PARTITION_ORDER].checked++;
    if (dup_applies)
        ck->res[SC_INV_NO_DUPLICATES].checked++;

    if (r && sc_rec_ncb(r)) {
        if (r->err == KP_ERR_NONE && sc_rec_offset(r) == offset && r->partition == partition &&
            r->topic == topic)
            r->state |= SC_REC_AT_OFFSET;
    } else if (r && !(r->txn & SC_EARLY_ONE) && offset >= 0 && offset <= UINT32_MAX &&
               topic >= -1 && topic <= INT8_MAX) {
        /* in the log before its callback: remember where, in the fields
         * the callback fills (the kv hash was compared above; later
         * copies compare the short one) */
        r->txn |= SC_EARLY_ONE | SC_KV_SHORT;
        r->kv_hash = (uint32_t)offset;
        r->topic = (int8_t)topic;
        r->partition = partition;
    } else if (r) {
        void *arr = ck->early;
        sc_grow(&arr, &ck->capearly, ck->nearly + 1, sizeof *ck->early);
        ck->early = arr;
        ck->early[ck->nearly++] = (sc_early){ p, topic, partition, seq, offset };
        r->txn |= SC_EARLY_MORE;
    }
    if (committed_view && pr->info.transactional) {
        void *arr = ck->seen;
        sc_grow(&arr, &ck->capseen, ck->nseen + 1, sizeof *ck->seen);
        ck->seen = arr;
        ck->seen[ck->nseen++] = (sc_seen){ topic, partition, p, offset, seq };
    }
    /* the bottom of the window may be done now (a record waiting for its
     * offset to be scanned; one that waits on another record's position
     * moves on with the next callback) */
    if (seq == pr->base)
        sc_advance(ck, p);
}

static int sc_seen_cmp(const void *a, const void *b) {
    const sc_seen *x = a, *y = b;
    if (x->topic != y->topic)
        return x->topic < y->topic ? -1 : 1;
    if (x->partition != y->partition)
        return x->partition < y->partition ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* The finish's judgement of one record that is not clean (an exception
 * below the window, or a record still in it). */
static void sc_finish_rec(sc_checker *ck, const sc_prod *pr, int p, int64_t seq, const sc_rec *r) {
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
        return;
    if (pr->info.acks == 0) {
        if (!(r->state & SC_REC_IN_LOG))
            ck->anomalies[SC_ANOM_ACKS0_LOSS]++;
        return; /* no offset to check */
    }
    if (sc_rec_offset(r) < 0)
        return; /* acknowledged as a duplicate: no offset */
    ck->res[SC_INV_ACKED_IN_LOG].checked++;
    if (r->state & SC_REC_AT_OFFSET)
        return;
    ck->anomalies[SC_ANOM_ACKED_LOST]++;
    sc_violation(ck, SC_INV_ACKED_IN_LOG, "producer %d record %" PRId64
                 " acknowledged at topic %d partition %d offset %" PRId64 " is %s",
                 p, seq, (int)r->topic, r->partition, sc_rec_offset(r),
                 (r->state & SC_REC_IN_LOG) ? "in the log at another offset"
                                            : "not in the final log");
}

static int sc_i64_cmp(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void sc_checker_finish(sc_checker *ck) {
    if (ck->finished)
        return;
    ck->finished = true;
    /* read_committed, partition by partition in log order */
    if (ck->nseen)
        qsort(ck->seen, ck->nseen, sizeof *ck->seen, sc_seen_cmp);
    for (size_t i = 0; i < ck->nseen; i++) {
        const sc_seen *e = &ck->seen[i];
        sc_txn_view(ck, sc_part_get(ck, e->topic, e->partition), sc_win(&ck->prods[e->p], e->seq), e->p,
                    e->seq, e->offset);
    }
    /* txn_atomic: of a transaction whose outcome nobody told the
     * application, read_committed sees all that reached a log or none */
    for (size_t i = 0; i < ck->nunknown; i++) {
        const sc_txn_range *u = &ck->unknown[i];
        sc_prod *pr = &ck->prods[u->p];
        int64_t in_log = 0, visible = 0;
        for (int64_t q = u->from; q < u->to; q++) {
            const sc_rec *r = sc_win(pr, q);
            in_log += (r->state & SC_REC_IN_LOG) != 0;
            visible += (r->txn & SC_TXN_VISIBLE) != 0;
        }
        ck->res[SC_INV_TXN_ATOMIC].checked++;
        if (visible != 0 && visible != in_log)
            sc_violation(ck, SC_INV_TXN_ATOMIC, "producer %d records %" PRId64 "..%" PRId64
                         " (a transaction of unknown outcome): read_committed sees %" PRId64
                         " of the %" PRId64 " in the logs",
                         u->p, u->from, u->to - 1, visible, in_log);
    }
    for (int p = 0; p < ck->np; p++) {
        sc_prod *pr = &ck->prods[p];
        /* clean records: one callback, acknowledged, in the log at its offset */
        ck->res[SC_INV_ONE_CALLBACK].checked += pr->nclean;
        if (pr->info.acks != 0)
            ck->res[SC_INV_ACKED_IN_LOG].checked += pr->nclean;
        /* below the window only exceptions carry state: visit them in
         * sequence order (so the first violation reported is the lowest),
         * not every sequence number, then the window */
        if (pr->nexc) {
            int64_t *xs = malloc(pr->nexc * sizeof *xs);
            if (!xs)
                abort();
            size_t nx = 0;
            for (size_t i = 0; i < pr->capexc; i++)
                if (pr->exc[i].seq >= 0 && pr->exc[i].seq < pr->base)
                    xs[nx++] = pr->exc[i].seq;
            qsort(xs, nx, sizeof *xs, sc_i64_cmp);
            for (size_t i = 0; i < nx; i++)
                sc_finish_rec(ck, pr, p, xs[i], sc_exc_find(pr, xs[i]));
            free(xs);
        }
        for (int64_t seq = pr->base; seq < pr->n; seq++)
            sc_finish_rec(ck, pr, p, seq, sc_win(pr, seq));
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
