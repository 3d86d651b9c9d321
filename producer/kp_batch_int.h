/*
 * kp_batch_int.h — ProducerBatch internals shared by kp_batch.c and
 * kp_accumulator.c (the accumulator links batches into its deques and
 * incomplete set, recycles structs and staging buffers, and appends a
 * record through the inline kp_batch__try_append_kvh, the body of
 * kp_batch_try_append_kvh). Nobody else includes this.
 */
#ifndef KP_BATCH_INT_H
#define KP_BATCH_INT_H

#include "kp_batch.h"

/* ProducerBatch.Thunk of one record, as a value: what append stores and
 * what fire and split read back (no pointer to the record: it is record
 * number `index` of the batch). */
typedef struct kp__thunk {
    kp_record_cb *cb;
    void *ctx;
    int64_t timestamp;
    int32_t key_size;
    int32_t value_size;
} kp__thunk;

/* A batch's thunks, stored by column. ctx has an entry per record; every
 * other field is kept once for the batch (cb0, ts0, ksz0, vsz0: record 0's)
 * for as long as every record has that same value, and gets its own
 * per-record column only from the first record that differs (the column
 * is then filled with the shared value for the records before it). The
 * common batch (one callback function, a ctx per record) thus costs 8
 * bytes a record instead of 32. Allocated columns all hold at least `cap`
 * entries and survive recycling with the batch struct; the *_each flags
 * say which are in use for the current batch (any_each: one of them). */
typedef struct kp__thunks {
    void **ctx;              /* cap entries, always allocated */
    kp_record_cb **cb;       /* cap entries or NULL (not allocated yet) */
    int64_t *ts;
    int32_t *key_size;
    int32_t *value_size;
    uint32_t cap;
    kp_record_cb *cb0;
    int64_t ts0;
    int32_t ksz0, vsz0;
    bool cb_each, ts_each, ksz_each, vsz_each;
    bool any_each;           /* any of the four: the fast paths test this */
} kp__thunks;

#define KP__THUNKS_INITIAL 16
#define KP__THUNKS_DOUBLE_MAX 256 /* then the columns grow by a quarter */

struct kp_batch {
    /* first (kp_batch.h): topic, partition, record_count, id, producer
     * id / epoch / base sequence, attempts, the transaction manager's
     * hint and the sender's slot */
    kp_batch_head h;
    /* identity */
    kp_hint est_hint;     /* the compression estimator's lookup cache */
    int64_t flush_origin;
    kp_codec codec;
    const kp_observer *obs;
    const kp_clock *clock;
    const kp_record_wrap *wrap;
    kp_compression_estimator *estimator;
    /* bytes */
    uint8_t *buffer;          /* pooled (or owned by a split piece) */
    size_t capacity;          /* write limit */
    uint8_t *staging;         /* codec: uncompressed records; NULL when none
                               * (or given back once built: kp_batch_seal) */
    size_t staging_capacity;  /* the records' bound (the builder's cap) */
    size_t staging_alloc;     /* bytes behind staging (>= staging_capacity) */
    bool records_in_staging;  /* closed batch too big for `buffer` */
    kp_batch_builder builder; /* on buffer (none) or staging (codec) */
    float est_ratio;
    double actual_ratio;
    size_t uncompressed;      /* record bytes, header excluded */
    int64_t first_timestamp;
    int32_t max_record_size;
    bool closed_for_appends;
    bool appends_aborted;
    bool closed;
    /* the bytes are built (kp_batch_seal, or close): records and
     * built_ratio are final; closed may still be false */
    bool built;
    double built_ratio;
    kp_slice records;
    /* producer state */
    bool transactional;
    bool reopened;
    /* lifecycle */
    kp_batch_state final_state;
    bool was_split;
    bool is_split_batch;
    int64_t created_ms, last_attempt_ms, last_append_ms, drained_ms;
    bool retry;
    /* thunks */
    kp__thunks thunks;
    uint32_t thunk_growths;
    /* accumulator links */
    kp_batch *dq_prev, *dq_next;      /* partition deque */
    kp_batch *inc_prev, *inc_next;    /* incomplete set */
    bool in_deque, in_incomplete;
    void *part;                       /* the accumulator's partition entry */
    kp_batch *free_next;              /* recycled struct list */
    bool zombie;                      /* aborted while in flight; buffer already returned */
};

/* The bodies of kp_batch_is_full and kp_batch_waited_ms, inline for the
 * accumulator's per-run walks (ready looks at every non-empty deque). */
static inline int64_t kp_batch__est_written(const kp_batch *b) {
    if (b->codec == KP_CODEC_NONE)
        return KP_BATCH_HEADER_SIZE + (int64_t)b->uncompressed;
    float est = (float)(int32_t)b->uncompressed * b->est_ratio * KP_COMPRESSION_RATE_ESTIMATION_FACTOR;
    return KP_BATCH_HEADER_SIZE + (int64_t)(int32_t)est;
}

static inline bool kp_batch__is_full(const kp_batch *b) {
    if (b->closed_for_appends || b->closed)
        return true;
    return b->h.record_count > 0 && (int64_t)b->capacity <= kp_batch__est_written(b);
}

static inline int64_t kp_batch__waited_ms(const kp_batch *b, int64_t now) {
    int64_t w = now - b->last_attempt_ms;
    return w > 0 ? w : 0;
}

/* Zeroes *b with 16-byte stores written out in line. The plain
 * assignment of a compound literal zeroed the struct's 520 bytes with one
 * `rep stosq`, whose startup on a block this small cost more cycles than
 * the stores (14% of kp_accumulator_append_t's samples under perf, none
 * of it visible to callgrind, which counts the rep as one instruction per
 * word). The unroll pragma makes gcc write the stores before its loop
 * distribution could turn the loop back into a memset. */
typedef unsigned char kp__zv16 __attribute__((vector_size(16), may_alias, aligned(8)));
static inline void kp_batch__zero(kp_batch *b) {
    unsigned char *p = (unsigned char *)b;
    const kp__zv16 z = { 0 };
    size_t i = 0;
#pragma GCC unroll 64
    for (i = 0; i < sizeof *b / 16; i++)
        *(kp__zv16 *)(p + 16 * i) = z;
    if (sizeof *b % 16 >= 8) {
        typedef uint64_t kp__zw __attribute__((may_alias, aligned(8)));
        *(kp__zw *)(p + 16 * (sizeof *b / 16)) = 0;
    }
    _Static_assert(sizeof(kp_batch) % 8 == 0, "kp_batch is a whole number of words");
}

/* (Re)initialises b for params p, keeping its thunk columns (which are in
 * use is per batch). Inline, one zeroing of the whole struct and a store
 * of each field that is not zero, the builder's included (what
 * kp_batch_builder_init sets; a call would zero them again): a new batch
 * per record is the quiet producer's common case. */
static inline void kp_batch__init(kp_batch *b, const kp_batch_params *p) {
    kp__thunks th = b->thunks;
    bool none = p->codec == KP_CODEC_NONE;
    uint8_t *bbuf = none ? p->buffer : p->staging;
    size_t bcap = none ? p->capacity : p->staging_capacity;
    kp_batch__zero(b);
    /* then the fields that are not zero, each stored once (a compound
     * literal assignment would zero the struct a second time) */
    b->h.topic = p->topic;
    b->h.partition = p->partition;
    b->h.id = p->batch_id;
    b->h.producer_id = KP_NO_PRODUCER_ID;
    b->h.producer_epoch = KP_NO_PRODUCER_EPOCH;
    b->h.base_sequence = KP_NO_SEQUENCE;
    b->flush_origin = p->flush_origin ? p->flush_origin : p->batch_id;
    b->codec = p->codec;
    b->obs = p->obs;
    b->clock = p->clock;
    b->wrap = p->wrap;
    b->estimator = p->estimator;
    b->buffer = p->buffer;
    b->capacity = p->capacity;
    b->staging = none ? NULL : p->staging;
    b->staging_capacity = none ? 0 : p->staging_capacity;
    b->is_split_batch = p->is_split_batch;
    b->created_ms = p->now_ms;
    b->last_attempt_ms = p->now_ms;
    b->last_append_ms = p->now_ms;
    b->final_state = KP_BATCH_OPEN;
    b->records = KP_SLICE_NULL;
    b->actual_ratio = 1.0;
    /* ProducerBatch constructor: setEstimatedCompressionRatio */
    b->est_hint = p->est_hint;
    b->est_ratio = p->has_est_ratio ? p->est_ratio : 1.0f;
    b->thunks.ctx = th.ctx;
    b->thunks.cb = th.cb;
    b->thunks.ts = th.ts;
    b->thunks.key_size = th.key_size;
    b->thunks.value_size = th.value_size;
    b->thunks.cap = th.cap;
    /* kp_batch_builder_init(on buffer (none) or staging (codec)),
     * written here: the call zeroed it a second time */
    b->builder.buf = bbuf;
    b->builder.cap = bbuf ? bcap : 0;
    b->builder.len = KP_BATCH_HEADER_SIZE;
    b->builder.codec = p->codec;
    b->builder.first_timestamp = -1;
    b->builder.max_timestamp = -1;
    b->builder.producer_id = KP_NO_PRODUCER_ID;
    b->builder.producer_epoch = KP_NO_PRODUCER_EPOCH;
    b->builder.base_sequence = KP_NO_SEQUENCE;
    if (!p->has_est_ratio && p->estimator)
        b->est_ratio = kp_compression_estimator_get_h(p->estimator, p->topic, p->codec, &b->est_hint);
}

/* The records a batch will hold when those to come are the size of those
 * so far (estimated bytes, as kp_batch__is_full counts them), plus an
 * eighth; 0 without records. At most what its capacity holds at the
 * smallest record (7 bytes: one per field), so a batch of tiny first
 * records cannot ask for more than that. */
static inline uint32_t kp_batch__thunks_expected(const kp_batch *b) {
    int64_t n = b->h.record_count;
    int64_t so_far = kp_batch__est_written(b) - KP_BATCH_HEADER_SIZE;
    int64_t room = (int64_t)b->capacity - KP_BATCH_HEADER_SIZE;
    if (n <= 0 || so_far <= 0 || room <= 0)
        return 0;
    int64_t avg = so_far / n > 0 ? so_far / n : 1;
    int64_t want = room / avg + 1;
    want += want / 8 + 1;
    int64_t max = room / 7 + 1;
    if (want > max)
        want = max;
    return want > INT32_MAX ? (uint32_t)INT32_MAX : (uint32_t)want;
}

/* ------------------------------------------------------------------ */
/* The append path (kp_batch_try_append_kvh), inline here so that the   */
/* accumulator's per-record append makes no call into kp_batch.c (the   */
/* struct call with eleven arguments cost about what the work does);    */
/* the builder's append of a common record is inline too               */
/* (kp_record_batch.h).                                                 */
/* ------------------------------------------------------------------ */

bool kp_batch__prepare_thunk_slow(kp_batch *b, const kp__thunk *th);

/* hasRoomFor for a record of size rec */
static inline bool kp_batch__has_room_for_size(const kp_batch *b, size_t physical, size_t rec) {
    if (KP_BATCH_HEADER_SIZE + b->uncompressed + rec > physical)
        return false;
    if (b->h.record_count == 0)
        return true; /* "always allow at least one record" */
    return (int64_t)b->capacity >= kp_batch__est_written(b) + (int64_t)rec;
}

/* kp_batch_has_room_kvh's body, inline in the append path (one call for
 * the whole append of a record) */
static inline __attribute__((always_inline)) bool kp_batch__has_room_kvh(const kp_batch *b,
                                                                        int64_t timestamp, size_t kvh) {
    if (b->appends_aborted || kp_batch__is_full(b))
        return false;
    /* physical room in the builder's buffer (61 + record bytes so far, as
     * kp_batch_builder_uncompressed_bytes counts): never tighter than the
     * estimate for codec none (capacity >= the record upper bound); for a
     * codec, the staging cap */
    size_t physical = b->codec == KP_CODEC_NONE ? b->capacity : b->staging_capacity;
    /* The record's exact size (DefaultRecord.sizeInBytes) is at most
     * MAX_RECORD_OVERHEAD + kvh, and both limits only ever admit a smaller
     * record more easily: when that bound fits, the exact size does, and
     * the answer is the same without computing it. Only a record near the
     * end of the batch needs the exact size. */
    if (kvh <= INT32_MAX && kp_batch__has_room_for_size(b, physical, KP_RECORD_MAX_OVERHEAD + kvh))
        return true;
    int64_t ts_delta = b->h.record_count ? timestamp - b->first_timestamp : 0;
    return kp_batch__has_room_for_size(b, physical, kp_record_size_kvh(ts_delta, b->h.record_count, kvh));
}

/* kp_batch__prepare_thunk_slow's answer for the common record, inline: room in the
 * columns and nothing that differs from the batch's shared values (or the
 * first record), so nothing to allocate or spread. */
static inline bool kp_batch__prepare_thunk(kp_batch *b, const kp__thunk *th) {
    const kp__thunks *t = &b->thunks;
    int32_t n = b->h.record_count;
    /* the sizes through locals: compared as two fields of each struct,
     * gcc folded the pair into one 64-bit compare, a load over the two
     * 32-bit stores the caller had just made to *th, which cannot be
     * forwarded from them (perf, throughput, LTO build: 30% of
     * kp_accumulator_append_t's samples just after that compare) */
    int32_t ksz = th->key_size, vsz = th->value_size;
    if ((uint32_t)n < t->cap &&
        (n == 0 || (th->cb == t->cb0 && th->timestamp == t->ts0 && ksz == t->ksz0 && vsz == t->vsz0)))
        return true;
    return kp_batch__prepare_thunk_slow(b, th);
}

/* Stores thunk th as record number record_count's (kp_batch__prepare_thunk made
 * room); allocates nothing. */
static inline void kp_batch__store_thunk(kp_batch *b, const kp__thunk *th) {
    kp__thunks *t = &b->thunks;
    int32_t i = b->h.record_count;
    if (i == 0) {
        t->cb0 = th->cb;
        t->ts0 = th->timestamp;
        t->ksz0 = th->key_size;
        t->vsz0 = th->value_size;
    }
    t->ctx[i] = th->ctx;
    if (!t->any_each)
        return;
    if (t->cb_each)
        t->cb[i] = th->cb;
    if (t->ts_each)
        t->ts[i] = th->timestamp;
    if (t->ksz_each)
        t->key_size[i] = th->key_size;
    if (t->vsz_each)
        t->value_size[i] = th->value_size;
}

/* kvh: kp_record_kvh_size of the record (computed once by the caller).
 * Inline: the append path makes one call per record, not three. */
static inline __attribute__((always_inline)) bool
kp_batch__append_record(kp_batch *b, int64_t timestamp, kp_slice key, kp_slice value, const kp_header *headers,
                        int header_count, size_t kvh, const kp__thunk *thunk) {
    if (!kp_batch__prepare_thunk(b, thunk))
        return false;
    if (kp_batch_builder_append_kvh(&b->builder, timestamp, key, value, headers, header_count, kvh))
        return false;
    if (b->h.record_count == 0)
        b->first_timestamp = timestamp;
    /* kp_batch_builder_uncompressed_bytes(&b->builder) - 61, without the call */
    b->uncompressed = b->builder.records_len;
    int32_t ub = kp_record_size_upper_bound_kvh(kvh);
    if (ub > b->max_record_size)
        b->max_record_size = ub;
    kp_batch__store_thunk(b, thunk);
    b->h.record_count++;
    return true;
}

/* kp_batch_try_append_kvh's body. */
static inline __attribute__((always_inline)) bool
kp_batch__try_append_kvh(kp_batch *b, int64_t timestamp, kp_slice key, kp_slice value, const kp_header *headers,
                         int header_count, size_t kvh, kp_record_cb *cb, void *cb_ctx, int64_t now,
                         int32_t *relative_offset) {
    if (!kp_batch__has_room_kvh(b, timestamp, kvh))
        return false;
    kp__thunk t = {
        .cb = cb,
        .ctx = cb_ctx,
        .timestamp = timestamp,
        .key_size = key.len,
        .value_size = value.len,
    };
    int32_t index = b->h.record_count;
    if (!kp_batch__append_record(b, timestamp, key, value, headers, header_count, kvh, &t))
        return false;
    b->last_append_ms = now;
    if (relative_offset)
        *relative_offset = index;
    return true;
}

/* A fresh struct's thunk columns (ctx: KP__THUNKS_INITIAL entries);
 * false when out of memory. */
bool kp_batch__thunks_alloc(kp_batch *b);
/* Frees b's thunk columns (not b). */
void kp_batch__thunks_free(kp_batch *b);

#endif
