/*
 * kp_batch.c — ProducerBatch 2.1.1 over the RecordBatch v2 builder.
 *
 * The size rules (hasRoomFor / isFull / estimatedSizeInBytes) are
 * MemoryRecordsBuilder's for magic 2 with a write limit equal to the pooled
 * buffer's capacity; the builder itself only knows physical room, which
 * the buffer / staging sizes guarantee is never the tighter limit except
 * at the staging cap described in kp_batch_staging_size.
 */
#include "kp_batch_int.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_events.h"

/* A compressed batch's staging never exceeds this many times its write
 * limit, nor KP__STAGING_MAX_BYTES unless the write limit alone is larger:
 * the ratio estimate can fall towards (or below) zero for very
 * compressible data, and Java would then batch without bound; we stop
 * there (hasRoomFor turns false when the staging is full). */
#define KP__STAGING_MAX_FACTOR 64
#define KP__STAGING_MAX_BYTES ((size_t)16 << 20)

size_t kp_batch_staging_size(kp_codec codec, size_t capacity, float ratio) {
    if (codec == KP_CODEC_NONE)
        return 0;
    size_t body = capacity > KP_BATCH_HEADER_SIZE ? capacity - KP_BATCH_HEADER_SIZE : 0;
    float f = ratio * KP_COMPRESSION_RATE_ESTIMATION_FACTOR;
    size_t raw_max = body;
    size_t limit = body * KP__STAGING_MAX_FACTOR;
    if (limit > KP__STAGING_MAX_BYTES)
        limit = body > KP__STAGING_MAX_BYTES ? body : KP__STAGING_MAX_BYTES;
    if (f < 1.0f) {
        double r = f > 0.0f ? (double)body / (double)f + 1.0 : (double)limit;
        raw_max = r >= (double)limit ? limit : (size_t)r;
    }
    size_t bound = kp_compress_bound(codec, raw_max);
    if (bound < raw_max)
        bound = raw_max;
    return KP_BATCH_HEADER_SIZE + bound + 64;
}

kp_batch *kp_batch_new(const kp_batch_params *p) {
    kp_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    if (!kp_batch__thunks_alloc(b)) {
        free(b);
        return NULL;
    }
    kp_batch__init(b, p);
    return b;
}

void kp_batch_destroy(kp_batch *b) {
    if (!b)
        return;
    if (b->is_split_batch) {
        free(b->buffer);
        free(b->staging);
    }
    kp_batch__thunks_free(b);
    free(b);
}

bool kp_batch__thunks_alloc(kp_batch *b) {
    b->thunks = (kp__thunks){ 0 };
    b->thunks.ctx = malloc(KP__THUNKS_INITIAL * sizeof *b->thunks.ctx);
    if (!b->thunks.ctx)
        return false;
    b->thunks.cap = KP__THUNKS_INITIAL;
    return true;
}

void kp_batch__thunks_free(kp_batch *b) {
    free(b->thunks.ctx);
    free(b->thunks.cb);
    free(b->thunks.ts);
    free(b->thunks.key_size);
    free(b->thunks.value_size);
    b->thunks = (kp__thunks){ 0 };
}

/* ------------------------------------------------------------------ */
/* Sizes                                                                */
/* ------------------------------------------------------------------ */

/* MemoryRecordsBuilder.estimatedBytesWritten (magic 2). */
static int64_t estimated_bytes_written(const kp_batch *b) {
    return kp_batch__est_written(b);
}

bool kp_batch_is_full(const kp_batch *b) {
    return kp_batch__is_full(b);
}

int32_t kp_batch_estimated_size(const kp_batch *b) {
    if (b->closed)
        return b->records.len;
    return (int32_t)estimated_bytes_written(b);
}

bool kp_batch_has_room_for(const kp_batch *b, int64_t timestamp, kp_slice key, kp_slice value,
                           const kp_header *headers, int header_count) {
    return kp_batch_has_room_kvh(b, timestamp, kp_record_kvh_size(key, value, headers, header_count));
}


bool kp_batch_has_room_kvh(const kp_batch *b, int64_t timestamp, size_t kvh) {
    return kp_batch__has_room_kvh(b, timestamp, kvh);
}

/* ------------------------------------------------------------------ */
/* Appending                                                            */
/* ------------------------------------------------------------------ */

/* Room for one more record in every allocated column. A failed realloc
 * leaves cap as it was: every column still holds at least cap entries. */
static bool ensure_thunk(kp_batch *b) {
    kp__thunks *t = &b->thunks;
    if ((uint32_t)b->h.record_count < t->cap)
        return true;
    /* x2 up to KP__THUNKS_DOUBLE_MAX, then +1/4: the accumulator recycles
     * a struct with its columns, so each converges to the largest batch
     * it held, and doubling left up to half of every recycled struct's
     * columns unused (compressed batches hold thousands of records); small
     * columns double to keep the reallocs of the warm-up few */
    uint32_t nc = !t->cap                            ? KP__THUNKS_INITIAL
                  : t->cap < KP__THUNKS_DOUBLE_MAX ? t->cap * 2
                                                     : t->cap + t->cap / 4;
    /* and at least to the count the batch will hold if its records stay
     * the size of those so far (estimated bytes against capacity, as
     * isFull counts them, plus an eighth): a fresh struct's columns grow
     * once for a batch of like records, not four or five times (16 -> 256
     * for 100-byte records in 16 KiB); never beyond what the capacity
     * holds at the smallest record */
    uint32_t want = kp_batch__thunks_expected(b);
    if (want > nc)
        nc = want;
    /* an unallocated column stays so */
#define KP__GROW(col)                                                    \
    do {                                                                 \
        if (t->col) {                                                    \
            void *n_ = realloc(t->col, (size_t)nc * sizeof *t->col);     \
            if (!n_)                                                     \
                return false;                                            \
            t->col = n_;                                                 \
        }                                                                \
    } while (0)
    KP__GROW(ctx);
    KP__GROW(cb);
    KP__GROW(ts);
    KP__GROW(key_size);
    KP__GROW(value_size);
#undef KP__GROW
    t->cap = nc;
    b->thunk_growths++;
    return true;
}

/* (kp_batch_int.h) Before record number record_count gets thunk th:
 * every field in which it differs from the batch's shared value gets its
 * per-record column, filled with the shared value for the records so far.
 * Allocation happens here, before the record is written, so a failure
 * leaves the batch as it was. */
__attribute__((noinline)) bool kp_batch__prepare_thunk_slow(kp_batch *b, const kp__thunk *th) {
    if (!ensure_thunk(b))
        return false;
    kp__thunks *t = &b->thunks;
    int32_t n = b->h.record_count;
    if (n == 0)
        return true;
    if (th->cb == t->cb0 && th->timestamp == t->ts0 && th->key_size == t->ksz0 && th->value_size == t->vsz0)
        return true; /* the common case: nothing differs */
    /* the column, allocated with cap entries unless it already is, gets
     * the shared value for records [0, n) */
#define KP__SPREAD(col, shared, flag)                                    \
    do {                                                                 \
        if (!t->col) {                                                   \
            t->col = malloc((size_t)t->cap * sizeof *t->col);            \
            if (!t->col)                                                 \
                return false;                                            \
        }                                                                \
        for (int32_t i = 0; i < n; i++)                                  \
            t->col[i] = t->shared;                                       \
        t->flag = true;                                                  \
        t->any_each = true;                                              \
    } while (0)
    if (!t->cb_each && th->cb != t->cb0)
        KP__SPREAD(cb, cb0, cb_each);
    if (!t->ts_each && th->timestamp != t->ts0)
        KP__SPREAD(ts, ts0, ts_each);
    if (!t->ksz_each && th->key_size != t->ksz0)
        KP__SPREAD(key_size, ksz0, ksz_each);
    if (!t->vsz_each && th->value_size != t->vsz0)
        KP__SPREAD(value_size, vsz0, vsz_each);
#undef KP__SPREAD
    return true;
}


/* Record number i's thunk. */
static inline kp__thunk thunk_at(const kp_batch *b, int32_t i) {
    const kp__thunks *t = &b->thunks;
    if (!t->any_each)
        return (kp__thunk){ .cb = t->cb0, .ctx = t->ctx[i], .timestamp = t->ts0, .key_size = t->ksz0,
                            .value_size = t->vsz0 };
    return (kp__thunk){
        .cb = t->cb_each ? t->cb[i] : t->cb0,
        .ctx = t->ctx[i],
        .timestamp = t->ts_each ? t->ts[i] : t->ts0,
        .key_size = t->ksz_each ? t->key_size[i] : t->ksz0,
        .value_size = t->vsz_each ? t->value_size[i] : t->vsz0,
    };
}


bool kp_batch_try_append(kp_batch *b, int64_t timestamp, kp_slice key, kp_slice value,
                         const kp_header *headers, int header_count, kp_record_cb *cb,
                         void *cb_ctx, int64_t now, int32_t *relative_offset) {
    return kp_batch_try_append_kvh(b, timestamp, key, value, headers, header_count,
                                   kp_record_kvh_size(key, value, headers, header_count), cb, cb_ctx,
                                   now, relative_offset);
}


bool kp_batch_try_append_kvh(kp_batch *b, int64_t timestamp, kp_slice key, kp_slice value,
                             const kp_header *headers, int header_count, size_t kvh,
                             kp_record_cb *cb, void *cb_ctx, int64_t now, int32_t *relative_offset) {
    return kp_batch__try_append_kvh(b, timestamp, key, value, headers, header_count, kvh, cb, cb_ctx, now,
                                    relative_offset);
}

void kp_batch_close_for_appends(kp_batch *b) {
    b->closed_for_appends = true;
}

void kp_batch_abort_record_appends(kp_batch *b) {
    b->closed_for_appends = true;
    b->appends_aborted = true;
}

/* ------------------------------------------------------------------ */
/* Closing and producer state                                           */
/* ------------------------------------------------------------------ */

static void write_producer_state(kp_batch *b) {
    uint8_t *p = (uint8_t *)b->records.ptr;
    size_t len = (size_t)b->records.len;
    if (!p || len < KP_BATCH_HEADER_SIZE)
        return;
    /* attributes int16 at 21: the transactional bit lives in the low byte */
    if (b->transactional)
        p[KP_BATCH_ATTRIBUTES_OFFSET + 1] |= (uint8_t)KP_BATCH_ATTR_TRANSACTIONAL;
    else
        p[KP_BATCH_ATTRIBUTES_OFFSET + 1] &= (uint8_t)~KP_BATCH_ATTR_TRANSACTIONAL;
    /* rewrites pid/epoch/sequence and recomputes the CRC over [21, end) */
    kp_batch_set_producer_state(p, len, b->h.producer_id, b->h.producer_epoch, b->h.base_sequence);
}

/* MemoryRecordsBuilder.close's bytes: the records (compressed with a
 * codec) behind a header, in b->records; with a codec in the pooled
 * buffer when they fit, else left in the staging buffer. The ratio goes
 * to b->built_ratio; nothing else of close (producer state, the
 * estimator) happens here. */
static kp_err build_records(kp_batch *b, kp_dbuf *scratch) {
    kp_slice out;
    kp_err e;
    size_t uncompressed = b->uncompressed;
    if (b->codec == KP_CODEC_NONE) {
        e = kp_batch_builder_close(&b->builder, NULL, 0, &out);
    } else {
        size_t need = kp_batch_builder_close_bound(&b->builder);
        kp_dbuf local;
        kp_dbuf *d = scratch;
        if (!d) {
            kp_dbuf_init(&local, 0);
            d = &local;
        }
        d->len = 0;
        e = kp_dbuf_reserve(d, need);
        if (!e)
            e = kp_batch_builder_close(&b->builder, d->ptr, d->cap, &out);
        if (d == &local)
            kp_dbuf_free(&local);
    }
    if (e)
        return e;
    /* actualCompressionRatio = compressed record bytes / uncompressed */
    size_t written = (size_t)out.len - KP_BATCH_HEADER_SIZE;
    b->built_ratio = uncompressed ? (double)(float)((float)written / (float)uncompressed) : 1.0;
    if (b->codec != KP_CODEC_NONE) {
        if ((size_t)out.len <= b->capacity) {
            memcpy(b->buffer, out.ptr, (size_t)out.len);
            b->records = (kp_slice){ b->buffer, out.len };
            b->records_in_staging = false;
        } else {
            b->records.ptr = out.ptr; /* inside the staging buffer; */
            b->records.len = out.len; /* by field, as below */
            b->records_in_staging = true;
        }
    } else {
        /* field by field: kp_batch_builder_close stored out's pointer and
         * length with two narrow stores a moment ago, and the struct copy
         * read them back as one 16-byte load, which the store buffer
         * cannot forward (60% of build_records' perf samples, one batch
         * per record in the quiet hour, sat on the store after it) */
        b->records.ptr = out.ptr;
        b->records.len = out.len;
    }
    b->built = true;
    return KP_ERR_NONE;
}

kp_err kp_batch_seal(kp_batch *b, kp_dbuf *scratch) {
    if (b->closed || b->built || !b->closed_for_appends || b->appends_aborted ||
        b->h.record_count == 0 || b->codec == KP_CODEC_NONE)
        return KP_ERR_NONE;
    return build_records(b, scratch);
}

kp_err kp_batch_close(kp_batch *b, kp_dbuf *scratch) {
    if (b->closed)
        return KP_ERR_NONE;
    if (b->appends_aborted || b->h.record_count == 0)
        return KP_ERR__STATE;
    b->closed_for_appends = true;
    bool has_state = b->h.producer_id != KP_NO_PRODUCER_ID || b->transactional;
    bool state_written = false;
    if (!b->built) {
        /* the producer state goes into the header at close, so the batch
         * is checksummed once (write_producer_state's bytes, one CRC) */
        if (has_state)
            kp_batch_builder_set_producer_state(&b->builder, b->h.producer_id, b->h.producer_epoch,
                                                b->h.base_sequence, b->transactional);
        kp_err e = build_records(b, scratch);
        if (e)
            return e;
        state_written = has_state;
    }
    b->actual_ratio = b->built_ratio;
    b->closed = true;
    if (has_state && !state_written)
        write_producer_state(b); /* built earlier (a sealed compressed batch) */
    /* CompressionRatioEstimator.updateEstimation. An uncompressed batch's
     * estimate is never read (its estimated size is exact: no factor, no
     * staging), so for codec none the update is left out. */
    if (b->estimator && b->codec != KP_CODEC_NONE)
        kp_compression_estimator_update_h(b->estimator, b->h.topic, b->codec, (float)b->actual_ratio,
                                          &b->est_hint);
    b->reopened = false;
    return KP_ERR_NONE;
}

bool kp_batch_is_closed(const kp_batch *b) {
    return b->closed;
}

kp_slice kp_batch_records(const kp_batch *b) {
    return b->closed ? b->records : KP_SLICE_NULL;
}

void kp_batch_assign_producer_state(kp_batch *b, int64_t producer_id, int16_t epoch,
                                    int32_t base_sequence, bool transactional) {
    b->h.producer_id = producer_id;
    b->h.producer_epoch = epoch;
    b->h.base_sequence = base_sequence;
    b->transactional = transactional;
    if (b->closed)
        write_producer_state(b);
}

void kp_batch_reset_producer_state(kp_batch *b, int64_t producer_id, int16_t epoch,
                                   int32_t base_sequence, bool transactional) {
    b->reopened = true;
    kp_batch_assign_producer_state(b, producer_id, epoch, base_sequence, transactional);
}

bool kp_batch_sequence_has_been_reset(const kp_batch *b) {
    return b->reopened;
}

/* ------------------------------------------------------------------ */
/* Completing                                                           */
/* ------------------------------------------------------------------ */

static void emit_done(const kp_batch *b, int kind, int64_t base_offset, kp_err err) {
    if (!b->obs || !b->obs->on_event)
        return;
    kp_event ev;
    kp_event_init(&ev, kind, -1);
    ev.topic = b->h.topic;
    ev.partition = b->h.partition;
    ev.batch_id = b->h.id;
    ev.record_count = b->h.record_count;
    ev.offset = base_offset;
    ev.err = err;
    ev.base_sequence = b->h.base_sequence;
    ev.attempt = b->h.attempts;
    /* the clock last: its read may be a call, and then nothing but b is
     * live across it */
    if (b->clock)
        ev.time_us = kp_clock_now_us(b->clock);
    kp_observer_emit(b->obs, &ev);
}

/* completeFutureAndFireCallbacks */
static void fire(kp_batch *b, int64_t base_offset, int64_t log_append_time, kp_err err,
                 const char *errmsg) {
    const kp__thunks *ts = &b->thunks;
    if (b->wrap && !ts->any_each) {
        /* the common batch: every record completes through the wrap with
         * the batch's one callback, timestamp and sizes; only the ctx and
         * the record's place change from one record to the next */
        const char *msg = err ? (errmsg ? errmsg : kp_err_desc(err)) : NULL;
        kp_record_metadata md = {
            .topic = b->h.topic,
            .partition = b->h.partition,
            .offset = -1,
            .timestamp = err ? -1 : (log_append_time != -1 ? log_append_time : ts->ts0),
            .serialized_key_size = ts->ksz0,
            .serialized_value_size = ts->vsz0,
            .batch_id = b->h.id,
        };
        bool offsets = !err && base_offset >= 0;
        if (b->wrap->run && b->h.record_count > 1) { /* one record: a call either way */
            b->wrap->run(b->wrap->ctx, ts->cb0, ts->ctx, b->h.record_count, offsets ? base_offset : -1, &md, err,
                         msg);
            return;
        }
        for (int32_t i = 0; i < b->h.record_count; i++) {
            if (offsets) /* Java's long addition wraps (see below) */
                md.offset = (int64_t)((uint64_t)base_offset + (uint64_t)i);
            md.relative_offset = i;
            b->wrap->fn(b->wrap->ctx, ts->cb0, ts->ctx[i], &md, err, msg);
        }
        return;
    }
    for (int32_t i = 0; i < b->h.record_count; i++) {
        kp__thunk th = thunk_at(b, i);
        const kp__thunk *t = &th;
        if (!t->cb && !b->wrap)
            continue;
        kp_record_metadata md = {
            .topic = b->h.topic,
            .partition = b->h.partition,
            /* Java's long addition wraps; a broker's base offset near
             * INT64_MAX must not be signed overflow (UB) here */
            .offset = (err || base_offset < 0) ? -1 : (int64_t)((uint64_t)base_offset + (uint64_t)i),
            .timestamp = err ? -1 : (log_append_time != -1 ? log_append_time : t->timestamp),
            .serialized_key_size = t->key_size,
            .serialized_value_size = t->value_size,
            .relative_offset = i,
            .batch_id = b->h.id,
        };
        const char *msg = err ? (errmsg ? errmsg : kp_err_desc(err)) : NULL;
        if (b->wrap)
            b->wrap->fn(b->wrap->ctx, t->cb, t->ctx, &md, err, msg);
        else
            t->cb(t->ctx, &md, err, msg);
    }
}

bool kp_batch_done(kp_batch *b, int64_t base_offset, int64_t log_append_time, kp_err err,
                   const char *errmsg, bool *illegal) {
    if (illegal)
        *illegal = false;
    kp_batch_state want = err ? KP_BATCH_FAILED : KP_BATCH_SUCCEEDED;
    if (b->final_state == KP_BATCH_OPEN) {
        b->final_state = want;
        emit_done(b, KP_EV_BATCH_DONE, base_offset, err);
        fire(b, base_offset, log_append_time, err, errmsg);
        return true;
    }
    if (b->final_state == KP_BATCH_SUCCEEDED) {
        /* "A SUCCEEDED batch must not attempt another state change to X" */
        if (illegal)
            *illegal = true;
    }
    /* FAILED -> FAILED, ABORTED -> FAILED, x -> SUCCEEDED after failure: ignored */
    return false;
}

kp_err kp_batch_abort(kp_batch *b, kp_err err, const char *errmsg) {
    if (b->final_state != KP_BATCH_OPEN)
        return KP_ERR__STATE; /* "Batch has already been completed in final state X" */
    b->final_state = KP_BATCH_ABORTED;
    emit_done(b, KP_EV_BATCH_ABORTED, -1, err);
    fire(b, -1, -1, err ? err : KP_ERR__ABORTED, errmsg);
    return KP_ERR_NONE;
}

kp_batch_state kp_batch_final_state(const kp_batch *b) { return b->final_state; }
bool kp_batch_is_done(const kp_batch *b) { return b->final_state != KP_BATCH_OPEN; }

bool kp_batch_has_reached_delivery_timeout(const kp_batch *b, int64_t delivery_timeout_ms,
                                           int64_t now) {
#ifdef KP_MUTANT_IGNORE_DELIVERY_TIMEOUT /* mutant (tests/mutants): delivery.timeout.ms never expires a batch */
    return false;
#endif
    return delivery_timeout_ms <= now - b->created_ms;
}

/* ------------------------------------------------------------------ */
/* Splitting                                                            */
/* ------------------------------------------------------------------ */

/* createBatchOffAccumulatorForRecord */
static kp_batch *new_piece(const kp_batch *big, kp_slice key, kp_slice value,
                           const kp_header *h, int nh, size_t split_size, int64_t id) {
    size_t ub = (size_t)kp_record_size_upper_bound(key, value, h, nh);
    size_t cap = ub > split_size ? ub : split_size;
    float ratio = big->estimator ? kp_compression_estimator_get(big->estimator, big->h.topic, big->codec)
                                 : 1.0f;
    kp_batch_params p = {
        .topic = big->h.topic,
        .partition = big->h.partition,
        .batch_id = id,
        .buffer = malloc(cap),
        .capacity = cap,
        .codec = big->codec,
        .now_ms = big->created_ms, /* "Retain the create time of the original batch" */
        .estimator = big->estimator,
        .is_split_batch = true,
        .obs = big->obs,
        .clock = big->clock,
        .flush_origin = big->flush_origin,
        .wrap = big->wrap,
    };
    if (big->codec != KP_CODEC_NONE) {
        p.staging_capacity = kp_batch_staging_size(big->codec, cap, ratio);
        p.staging = malloc(p.staging_capacity);
    }
    if (!p.buffer || (big->codec != KP_CODEC_NONE && !p.staging)) {
        free(p.buffer);
        free(p.staging);
        return NULL;
    }
    kp_batch *b = kp_batch_new(&p);
    if (!b) {
        free(p.buffer);
        free(p.staging);
    }
    return b;
}

int kp_batch_split(kp_batch *b, size_t split_batch_size, kp_dbuf *scratch,
                   int64_t *next_batch_id, kp_batch **out, size_t max_out, kp_err *err) {
    *err = KP_ERR_NONE;
    if (!b->closed || b->h.record_count == 0) {
        *err = KP_ERR__STATE; /* "Cannot split an empty producer batch." */
        return -1;
    }
    kp_dbuf local;
    kp_dbuf *d = scratch;
    if (!d) {
        kp_dbuf_init(&local, 0);
        d = &local;
    }
    kp_record_iter it;
    size_t count = 0;
    kp_header hbuf[32];
    kp_header *hdrs = hbuf;
    size_t hcap = 32;
    kp_batch *cur = NULL;
    kp_err e = kp_record_iter_init(&it, b->records.ptr, (size_t)b->records.len,
                                   b->codec == KP_CODEC_NONE ? NULL : d);
    int32_t i = 0;
    kp_record r;
    while (!e && kp_record_iter_next(&it, &r)) {
        if (i >= b->h.record_count) {
            e = KP_ERR__BAD_MSG;
            break;
        }
        /* collect headers */
        if ((size_t)r.header_count > hcap) {
            kp_header *nh = malloc((size_t)r.header_count * sizeof *nh);
            if (!nh) {
                e = KP_ERR__NOMEM;
                break;
            }
            if (hdrs != hbuf)
                free(hdrs);
            hdrs = nh;
            hcap = (size_t)r.header_count;
        }
        kp_header_iter hi;
        kp_header_iter_init(&hi, &r);
        int nh = 0;
        while (nh < r.header_count && kp_header_iter_next(&hi, &hdrs[nh]))
            nh++;
        kp__thunk th = thunk_at(b, i);
        const kp__thunk *t = &th;
        size_t kvh = kp_record_kvh_size(r.key, r.value, hdrs, nh);
        if (!cur || !kp_batch_has_room_kvh(cur, r.timestamp, kvh)) {
            if (cur) {
                if (count == max_out) {
                    e = KP_ERR__NOMEM;
                    break;
                }
                out[count++] = cur;
            }
            cur = new_piece(b, r.key, r.value, hdrs, nh, split_batch_size, (*next_batch_id)++);
            if (!cur) {
                e = KP_ERR__NOMEM;
                break;
            }
        }
        /* tryAppendForSplit: a new batch can always host its first record */
        if (!kp_batch__append_record(cur, r.timestamp, r.key, r.value, hdrs, nh, kvh, t)) {
            e = KP_ERR__NOMEM;
            break;
        }
        cur->last_append_ms = b->last_append_ms;
        i++;
    }
    if (!e && it.err)
        e = it.err;
    if (!e && i != b->h.record_count)
        e = KP_ERR__BAD_MSG;
    if (!e && cur) {
        if (count == max_out)
            e = KP_ERR__NOMEM;
        else {
            out[count++] = cur;
            cur = NULL;
        }
    }
    if (hdrs != hbuf)
        free(hdrs);
    if (d == &local)
        kp_dbuf_free(&local);
    if (e) {
        kp_batch_destroy(cur);
        for (size_t k = 0; k < count; k++)
            kp_batch_destroy(out[k]);
        *err = e;
        return -1;
    }
    /* every piece is closed for appends (ProducerBatch.split calls
     * closeForRecordAppends on each): the last piece can end up at the
     * tail of the deque, and a record the application appends there
     * would ride on a piece whose sequence range is already fixed */
    for (size_t k = 0; k < count; k++)
        out[k]->closed_for_appends = true;
    /* pieces inherit the sequence range when the big batch had one */
    if (kp_batch_has_sequence(b)) {
        int32_t seq = b->h.base_sequence;
        for (size_t k = 0; k < count; k++) {
            kp_batch_assign_producer_state(out[k], b->h.producer_id, b->h.producer_epoch, seq,
                                           b->transactional);
#ifndef KP_MUTANT_SPLIT_KEEPS_SEQUENCE /* mutant (tests/mutants): every piece keeps the big batch's base sequence */
            seq = kp_sequence_increment(seq, out[k]->h.record_count);
#endif
        }
    }
#ifdef KP_MUTANT_SPLIT_DOUBLE_CALLBACK /* mutant (tests/mutants): the big batch's callbacks fire too, before its pieces' */
    fire(b, -1, -1, KP_ERR_MESSAGE_TOO_LARGE, NULL);
#endif
    b->was_split = true;
    return (int)count;
}

/* ------------------------------------------------------------------ */
/* Bookkeeping                                                          */
/* ------------------------------------------------------------------ */

int32_t kp_batch_max_record_size(const kp_batch *b) { return b->max_record_size; }
kp_codec kp_batch_compression(const kp_batch *b) { return b->codec; }
bool kp_batch_is_compressed(const kp_batch *b) { return b->codec != KP_CODEC_NONE; }
bool kp_batch_is_split_batch(const kp_batch *b) { return b->is_split_batch; }
int64_t kp_batch_created_ms(const kp_batch *b) { return b->created_ms; }
int64_t kp_batch_last_attempt_ms(const kp_batch *b) { return b->last_attempt_ms; }
int64_t kp_batch_last_append_ms(const kp_batch *b) { return b->last_append_ms; }
int64_t kp_batch_drained_ms(const kp_batch *b) { return b->drained_ms; }
bool kp_batch_in_retry(const kp_batch *b) { return b->retry; }

int64_t kp_batch_waited_ms(const kp_batch *b, int64_t now) {
    return kp_batch__waited_ms(b, now);
}

int64_t kp_batch_queue_time_ms(const kp_batch *b) { return b->drained_ms - b->created_ms; }

void kp_batch_reenqueued(kp_batch *b, int64_t now) {
    b->h.attempts++;
    int64_t t = b->last_append_ms > now ? b->last_append_ms : now;
    b->last_attempt_ms = t;
    b->last_append_ms = t;
    b->retry = true;
}

void kp_batch_drained(kp_batch *b, int64_t now) {
    if (now > b->drained_ms)
        b->drained_ms = now;
}

bool kp_batch_transactional(const kp_batch *b) { return b->transactional; }
double kp_batch_compression_ratio(const kp_batch *b) { return b->actual_ratio; }
float kp_batch_estimated_ratio(const kp_batch *b) { return b->est_ratio; }
size_t kp_batch_uncompressed_bytes(const kp_batch *b) { return b->uncompressed; }
uint8_t *kp_batch_buffer(const kp_batch *b) { return b->buffer; }
size_t kp_batch_initial_capacity(const kp_batch *b) { return b->capacity; }
uint32_t kp_batch_thunk_growths(const kp_batch *b) { return b->thunk_growths; }

size_t kp_batch_thunk_bytes(const kp_batch *b) {
    const kp__thunks *t = &b->thunks;
    size_t per = sizeof *t->ctx;
    if (t->cb_each)
        per += sizeof *t->cb;
    if (t->ts_each)
        per += sizeof *t->ts;
    if (t->ksz_each)
        per += sizeof *t->key_size;
    if (t->vsz_each)
        per += sizeof *t->value_size;
    return per * t->cap;
}
int64_t kp_batch_flush_origin(const kp_batch *b) { return b->flush_origin; }
