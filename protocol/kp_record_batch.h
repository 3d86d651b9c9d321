/*
 * kp_record_batch.h — RecordBatch v2 (magic 2): build, parse, iterate.
 *
 * The unit a producer sends and a broker stores. Layout (big-endian):
 *
 *   OFFSET SIZE DESCRIPTION
 *   0      8    baseOffset            int64  (producer writes 0; broker assigns)
 *   8      4    batchLength           int32  = total size - 12
 *   12     4    partitionLeaderEpoch  int32  (producer writes -1)
 *   16     1    magic                 int8   = 2
 *   17     4    crc                   uint32 = CRC32C of bytes [21, end)
 *   21     2    attributes            int16  bits 0-2 codec (0 none, 1 gzip,
 *                                            2 snappy, 3 lz4, 4 zstd),
 *                                            bit 3 timestamp type (1 =
 *                                            LogAppendTime), bit 4
 *                                            transactional, bit 5 control
 *   23     4    lastOffsetDelta       int32  = offset delta of the last record
 *   27     8    firstTimestamp        int64  timestamp of the first record
 *   35     8    maxTimestamp          int64
 *   43     8    producerId            int64  (-1 without idempotence)
 *   51     2    producerEpoch         int16  (-1)
 *   53     4    baseSequence          int32  (-1)
 *   57     4    recordCount           int32
 *   61     ...  records; when codec != 0 all of them compressed as one blob
 *
 * The CRC leaves out baseOffset, batchLength, partitionLeaderEpoch and
 * magic so the broker can rewrite them without recomputing it.
 *
 * Record (DefaultRecord), all varints zigzag:
 *
 *   length varint (bytes after this field) | attributes int8 (0) |
 *   timestampDelta varlong (vs firstTimestamp) | offsetDelta varint |
 *   keyLength varint (-1 = null) | key | valueLength varint (-1 = null) |
 *   value | headerCount varint | headers: keyLength varint, key (UTF-8),
 *   valueLength varint (-1 = null), value
 *
 * Control batches (attributes bit 5, with bit 4) hold one record written
 * by the transaction coordinator: key = version int16 (0) + type int16
 * (0 abort, 1 commit); value = version int16 (0) + coordinatorEpoch int32
 * (ControlRecordType / EndTransactionMarker).
 *
 * Memory: nothing here allocates except the record iterator's caller-owned
 * kp_dbuf, which grows (up to its max) when a compressed batch is
 * decompressed. The builder writes only into the caller's buffer; slices
 * returned by parse and iteration point into the caller's input or dbuf
 * and live as long as those.
 *
 * Invariants of a closed builder's batch: batchLength = size - 12; CRC
 * valid; recordCount = number of appended records = lastOffsetDelta + 1;
 * offset deltas 0, 1, 2, ...; first/max timestamps as appended.
 */
#ifndef KP_RECORD_BATCH_H
#define KP_RECORD_BATCH_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kp_buf.h"
#include "kp_compress.h" /* kp_codec, kp_dbuf */
#include "kp_err.h"

#define KP_BATCH_HEADER_SIZE 61
#define KP_BATCH_LOG_OVERHEAD 12  /* baseOffset + batchLength */
#define KP_BATCH_CRC_OFFSET 17
#define KP_BATCH_ATTRIBUTES_OFFSET 21 /* CRC covers [21, end) */
#define KP_BATCH_MAGIC 2

#define KP_BATCH_ATTR_CODEC_MASK 0x07
#define KP_BATCH_ATTR_LOG_APPEND_TIME 0x08
#define KP_BATCH_ATTR_TRANSACTIONAL 0x10
#define KP_BATCH_ATTR_CONTROL 0x20

/* DefaultRecord.MAX_RECORD_OVERHEAD: 5 (length) + 1 (attributes)
 * + 10 (timestamp delta) + 5 (offset delta). */
#define KP_RECORD_MAX_OVERHEAD 21

#define KP_NO_PRODUCER_ID (-1)
#define KP_NO_PRODUCER_EPOCH (-1)
#define KP_NO_SEQUENCE (-1)
#define KP_NO_PARTITION_LEADER_EPOCH (-1)

/* A record header; value.len == -1 is a null value. The key must not be
 * null (Java's RecordHeader rejects a null key). */
typedef struct kp_header {
    kp_slice key;
    kp_slice value;
} kp_header;

/* ------------------------------------------------------------------ */
/* Sizes                                                                */
/* ------------------------------------------------------------------ */

/* Exact encoded size of one record including its length varint
 * (DefaultRecord.sizeInBytes). key/value len -1 = null. */
size_t kp_record_size(int64_t timestamp_delta, int32_t offset_delta, kp_slice key,
                      kp_slice value, const kp_header *h, int nh);

/* AbstractRecords.estimateSizeInBytesUpperBound for magic 2:
 * 61 + DefaultRecord.recordSizeUpperBound = 61 + 21 + key, value and
 * header sizes. Key "key" / value "value", no headers -> 93. The producer
 * sizes a new batch buffer as max(batch.size, this). */
int32_t kp_record_size_upper_bound(kp_slice key, kp_slice value, const kp_header *h, int nh);

/* The key, value and header part of a record's size (DefaultRecord.sizeOf
 * without the length, attributes, timestamp and offset deltas): what a
 * producer computes once per record and passes to the *_kvh variants
 * below, which give the same results as the functions above without
 * walking key, value and headers again. */
static inline __attribute__((always_inline)) size_t kp_record_kvh_size(kp_slice key, kp_slice value, const kp_header *h, int nh);
/* kp_record_kvh_size of any record (the inline one takes a record
 * without headers itself) */
size_t kp_record_kvh_size_general(kp_slice key, kp_slice value, const kp_header *h, int nh);
size_t kp_record_size_kvh(int64_t timestamp_delta, int32_t offset_delta, size_t kvh);
static inline int32_t kp_record_size_upper_bound_kvh(size_t kvh) {
    size_t n = KP_BATCH_HEADER_SIZE + KP_RECORD_MAX_OVERHEAD + kvh;
    return n > INT32_MAX ? INT32_MAX : (int32_t)n;
}

/* ------------------------------------------------------------------ */
/* Builder (MemoryRecordsBuilder for magic 2)                           */
/* ------------------------------------------------------------------ */

/* Embeddable; all fields private to kp_record_batch.c. */
typedef struct kp_batch_builder {
    uint8_t *buf;        /* caller's buffer; header at [0, 61), records after */
    size_t cap;
    size_t len;          /* 61 + record bytes (open) / batch size (closed) */
    size_t records_len;  /* uncompressed record bytes appended */
    int64_t first_timestamp;
    int64_t max_timestamp;
    int32_t count;
    kp_codec codec;
    bool transactional;
    bool control;
    bool closed;
    /* what close writes into the header: -1/-1/-1 unless set by
     * kp_batch_builder_set_producer_state */
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
} kp_batch_builder;

/* Starts an empty batch in buf[0..cap). Nothing is written to buf until
 * the first append. cap < 61 gives a builder that fits nothing. */
void kp_batch_builder_init(kp_batch_builder *b, uint8_t *buf, size_t cap, kp_codec codec,
                           bool transactional);

/* MemoryRecordsBuilder.append: offset delta = records so far, timestamp
 * delta vs the first record's timestamp. Errors (nothing written):
 * KP_ERR__NOMEM if it does not fit in cap; KP_ERR__STATE after close;
 * KP_ERR__INVALID_ARG for a header with a null key, nh < 0, or h NULL
 * with nh > 0. */
kp_err kp_batch_builder_append(kp_batch_builder *b, int64_t timestamp_ms, kp_slice key,
                               kp_slice value, const kp_header *h, int nh);
/* The same with kvh = kp_record_kvh_size(key, value, h, nh), computed by
 * the caller (a different value is a caller bug: the record would be
 * written with a wrong length; the write's own size check asserts).
 * Inline below: the common record is written here, every other one (and
 * every error) by kp_batch_builder_append_kvh_general. */
static inline __attribute__((always_inline)) kp_err
kp_batch_builder_append_kvh(kp_batch_builder *b, int64_t timestamp_ms, kp_slice key, kp_slice value,
                            const kp_header *h, int nh, size_t kvh);
/* The append of any record (the general encoder; the same bytes as the
 * inline path for the records that one takes). */
kp_err kp_batch_builder_append_kvh_general(kp_batch_builder *b, int64_t timestamp_ms, kp_slice key,
                                           kp_slice value, const kp_header *h, int nh, size_t kvh);

int32_t kp_batch_builder_count(const kp_batch_builder *b);
/* 61 + the uncompressed record bytes so far. */
size_t kp_batch_builder_uncompressed_bytes(const kp_batch_builder *b);
/* True if this record would still fit in cap uncompressed (false once
 * closed). */
bool kp_batch_builder_has_room_for(const kp_batch_builder *b, int64_t timestamp_ms,
                                   kp_slice key, kp_slice value, const kp_header *h, int nh);

/* MemoryRecordsBuilder.setProducerState: the producerId, epoch,
 * baseSequence and transactional bit that close writes into the header,
 * so that a batch whose producer state is known before close is
 * checksummed once (close) instead of twice (close, then
 * kp_batch_set_producer_state). Gives the same bytes as close followed by
 * kp_batch_set_producer_state with the transactional bit set to
 * `transactional`. Ignored once closed (rewrite a closed batch with
 * kp_batch_set_producer_state). */
void kp_batch_builder_set_producer_state(kp_batch_builder *b, int64_t producer_id, int16_t epoch,
                                         int32_t base_sequence, bool transactional);

/* Scratch bytes kp_batch_builder_close needs: 0 for NONE, else
 * 61 + kp_compress_bound(codec, record bytes). */
size_t kp_batch_builder_close_bound(const kp_batch_builder *b);

/* MemoryRecordsBuilder.close: for a codec, compresses the records into
 * scratch and copies them back behind the header when 61 + compressed
 * size fits in cap (else KP_ERR__NOMEM: builder still open and
 * unchanged). Writes baseOffset 0, batchLength, partitionLeaderEpoch -1,
 * magic 2, attributes (codec, transactional, control), lastOffsetDelta,
 * first/max timestamp, producerId, epoch and baseSequence (-1 each
 * unless kp_batch_builder_set_producer_state set them), count and the
 * CRC. *out is the batch (inside the builder's buffer).
 * Errors: KP_ERR__STATE for an empty builder; KP_ERR__NOMEM also when
 * scratch_cap < close_bound; KP_ERR__COMPRESSION from the codec.
 * scratch (unused for NONE, may be NULL then) must not overlap buf.
 * Closing a closed builder returns the same batch again. */
kp_err kp_batch_builder_close(kp_batch_builder *b, uint8_t *scratch, size_t scratch_cap,
                              kp_slice *out);
bool kp_batch_builder_is_closed(const kp_batch_builder *b);

/* ------------------------------------------------------------------ */
/* Rewriting a closed batch in place                                    */
/* ------------------------------------------------------------------ */

/* Writes producerId/epoch/baseSequence and recomputes the CRC over
 * [21, len) (they are inside the CRC). len is the batch size; batches
 * shorter than 61 bytes are left alone. */
void kp_batch_set_producer_state(uint8_t *batch, size_t len, int64_t producer_id,
                                 int16_t epoch, int32_t base_sequence);
/* Outside the CRC: no recomputation. */
void kp_batch_set_base_offset(uint8_t *batch, int64_t base_offset);
void kp_batch_set_partition_leader_epoch(uint8_t *batch, int32_t epoch);
/* Recomputes and stores the CRC of batch[0..len) (len >= 61). */
void kp_batch_update_crc(uint8_t *batch, size_t len);

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

typedef struct kp_batch_header {
    int64_t base_offset;
    int32_t batch_length;
    int32_t partition_leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t first_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t record_count;
} kp_batch_header;

/* Parses the header of the batch at p (len bytes available, may be more
 * than one batch). Checks, in order: len >= 17 and magic == 2 (0/1 ->
 * KP_ERR__UNSUPPORTED, else KP_ERR__BAD_MSG); len >= 61
 * (KP_ERR__TRUNCATED); 49 <= batchLength <= INT32_MAX - 12 (KP_ERR__BAD_MSG) and
 * 12 + batchLength <= len (KP_ERR__TRUNCATED); codec <= 4;
 * recordCount >= 0; lastOffsetDelta >= recordCount - 1 (offset deltas
 * are distinct and <= lastOffsetDelta; a compacted batch may have fewer
 * records than lastOffsetDelta + 1); for an uncompressed batch
 * recordCount * 7 <= record bytes (7 = the smallest record). Does NOT
 * check the CRC. *total = 12 + batchLength. */
kp_err kp_batch_parse_header(const uint8_t *p, size_t len, kp_batch_header *h, size_t *total);

/* Reads the 61 header bytes at p into h, every field as stored (big
 * endian) and nothing checked: kp_batch_parse_header's reads, shared with
 * a caller that has checked the magic and the length itself (the broker's
 * produce path, which hands h to kp_record_iter_init_parsed). */
static inline void kp_batch_header_read(kp_batch_header *h, const uint8_t *p) {
    h->base_offset = (int64_t)kp_be64_get(p);
    h->batch_length = (int32_t)kp_be32_get(p + 8);
    h->partition_leader_epoch = (int32_t)kp_be32_get(p + 12);
    h->magic = (int8_t)p[16];
    h->crc = kp_be32_get(p + 17);
    h->attributes = (int16_t)kp_be16_get(p + 21);
    h->last_offset_delta = (int32_t)kp_be32_get(p + 23);
    h->first_timestamp = (int64_t)kp_be64_get(p + 27);
    h->max_timestamp = (int64_t)kp_be64_get(p + 35);
    h->producer_id = (int64_t)kp_be64_get(p + 43);
    h->producer_epoch = (int16_t)kp_be16_get(p + 51);
    h->base_sequence = (int32_t)kp_be32_get(p + 53);
    h->record_count = (int32_t)kp_be32_get(p + 57);
}

/* KP_ERR__CRC if the stored CRC is not the CRC32C of batch[21, total);
 * KP_ERR__TRUNCATED if total < 61. */
kp_err kp_batch_verify_crc(const uint8_t *batch, size_t total);

static inline kp_codec kp_batch_codec(const kp_batch_header *h) {
    return (kp_codec)(h->attributes & KP_BATCH_ATTR_CODEC_MASK);
}
static inline bool kp_batch_is_transactional(const kp_batch_header *h) {
    return (h->attributes & KP_BATCH_ATTR_TRANSACTIONAL) != 0;
}
static inline bool kp_batch_is_control(const kp_batch_header *h) {
    return (h->attributes & KP_BATCH_ATTR_CONTROL) != 0;
}
static inline bool kp_batch_is_log_append_time(const kp_batch_header *h) {
    return (h->attributes & KP_BATCH_ATTR_LOG_APPEND_TIME) != 0;
}
/* baseOffset + lastOffsetDelta (DefaultRecordBatch.lastOffset). */
static inline int64_t kp_batch_last_offset(const kp_batch_header *h) {
    return h->base_offset + h->last_offset_delta;
}

/* DefaultRecordBatch.incrementSequence: seq + inc wrapping past INT32_MAX
 * to 0. inc(INT32_MAX, 1) = 0; inc(INT32_MAX - 5, 10) = 4. */
int32_t kp_sequence_increment(int32_t seq, int32_t inc);
/* DefaultRecordBatch.lastSequence: -1 when baseSequence is -1, else
 * increment(baseSequence, lastOffsetDelta). */
int32_t kp_batch_last_sequence(const kp_batch_header *h);

/* ------------------------------------------------------------------ */
/* Record iteration                                                     */
/* ------------------------------------------------------------------ */

typedef struct kp_record {
    int8_t attributes;
    int64_t timestamp;     /* firstTimestamp + delta; maxTimestamp for LogAppendTime */
    int64_t offset_delta;
    int64_t offset;        /* baseOffset + offset_delta */
    kp_slice key;          /* len -1 = null */
    kp_slice value;        /* len -1 = null */
    int32_t header_count;
    kp_slice headers_raw;  /* the header_count encoded headers (validated) */
} kp_record;

/* Private fields; embeddable. */
typedef struct kp_record_iter {
    kp_batch_header hdr;
    kp_reader rd;          /* over the (decompressed) records */
    int32_t index;         /* records returned so far */
    int64_t prev_offset_delta;
    kp_err err;            /* KP_ERR_NONE at a clean end */
} kp_record_iter;

/* Starts iterating the batch batch[0..total): parses the header (total
 * must be exactly its size), verifies the CRC (KP_ERR__CRC), and for a
 * compressed batch decompresses the records into scratch (reset first;
 * scratch->max bounds the output: KP_ERR__NOMEM past it). scratch may be
 * NULL for uncompressed batches (else KP_ERR__INVALID_ARG). On error
 * it->err is set too and kp_record_iter_next returns false. */
kp_err kp_record_iter_init(kp_record_iter *it, const uint8_t *batch, size_t total,
                           kp_dbuf *scratch);
/* The same for a caller that has read the header's fields itself and
 * checked the CRC (the broker's validation: a CRC mismatch is its own
 * error there, and it reads the fields before it walks the records): it
 * has written every field of batch[0..total)'s header into it->hdr as
 * kp_batch_parse_header reads them (total >= KP_BATCH_HEADER_SIZE); the
 * rest of *it is set here. The fields are not read a second time nor the
 * CRC computed; kp_batch_parse_header's checks on them (magic, lengths
 * against total, codec, counts) are made, with its errors, and the rest
 * is as above. */
kp_err kp_record_iter_init_parsed(kp_record_iter *it, const uint8_t *batch, size_t total,
                                  kp_dbuf *scratch);

/* Next record, or false at the end or on an error (it->err says which).
 * Validates every length (key, value, header key/value, the record length
 * against what its fields used), offset deltas
 * strictly increasing within [0, lastOffsetDelta], at most recordCount
 * records, and at the end exactly recordCount records and no trailing
 * bytes. */
static inline bool kp_record_iter_next(kp_record_iter *it, kp_record *r);
/* The general decoder behind it: every record shape and every error. */
bool kp_record_iter_next_slow(kp_record_iter *it, kp_record *r);
/* kp_record_iter_next for a caller that reads only the record's key and
 * value (the broker's validation walk, which digests them): the same
 * records, checks and errors, without filling a kp_record for the common
 * record. */
static inline bool kp_record_iter_next_kv(kp_record_iter *it, kp_slice *key, kp_slice *value);

/* kp_record_iter_next takes the common record inline: a record of at
 * least 7 bytes whose varints are one or two bytes each, no headers, a
 * key and a value that are null or lie inside the record, offset delta in
 * order. Anything else, any doubt and every error go to
 * kp_record_iter_next_slow from the same state (the inline part changes
 * nothing until it has accepted the whole record), so the results and
 * errors are the general decoder's. Measured (callgrind, throughput
 * workload, the broker's validation walk): ~174 instructions per record
 * through the general decoder alone. */

/* A varint of one or two bytes at *pp (two bytes must be readable there);
 * false (nothing moved) for a longer one. */
static inline __attribute__((always_inline)) bool kp_rec__uv12(const uint8_t **pp, uint32_t *v) {
    const uint8_t *p = *pp;
    if (!(p[0] & 0x80)) {
        *v = p[0];
        *pp = p + 1;
        return true;
    }
    if (p[1] & 0x80)
        return false;
    *v = (uint32_t)(p[0] & 0x7f) | (uint32_t)p[1] << 7;
    *pp = p + 2;
    return true;
}

/* The inline part over a cursor: accepts the common record (see above)
 * at *pp (records end at `end`; the last offset delta accepted so far is
 * *prev_od, the batch's lastOffsetDelta is last_od) and gives its fields,
 * stepping *pp and *prev_od past it; false, with nothing moved, for
 * anything else. The caller checks the iterator's error and record count
 * and counts the record. A walk whose loop makes a call per record keeps
 * the cursor in locals through this (the broker's digest walk): held in
 * the iterator, whose address escapes, it was reloaded and stored again
 * around every record's call. */
static inline __attribute__((always_inline)) bool
kp_record__common_at(const uint8_t **pp, const uint8_t *end, int64_t *prev_od, int32_t last_od,
                     int8_t *attributes_out, kp_slice *key_out, kp_slice *value_out,
                     int32_t *offset_delta_out, uint32_t *ts_out) {
    const uint8_t *p = *pp;
    uint32_t u, ts, od, kl, vl;
    /* The zigzag varints below are read without unzigzag: an even one is
     * its half (>= 0), an odd one negative, -1 only for 1. The record
     * length and the offset delta are never negative here (a negative
     * offset delta is not above the last one, which starts at -1). */
    if (end - p < 2 || !kp_rec__uv12(&p, &u) || (u & 1))
        return false;
    uint32_t len = u >> 1;
    /* 7 bytes: attributes and up to two bytes each of the timestamp
     * delta, offset delta and key length, read below without more checks */
    if (len < 7 || (size_t)len > (size_t)(end - p))
        return false;
    const uint8_t *be = p + len;
    int8_t attributes = (int8_t)*p++;
    if (!kp_rec__uv12(&p, &ts) || !kp_rec__uv12(&p, &od) || !kp_rec__uv12(&p, &kl) || (od & 1))
        return false;
    /* the key, then at least two bytes: the value length (one or two
     * bytes, readable) and the header count */
    kp_slice key = KP_SLICE_NULL;
    if (!(kl & 1)) {
        if ((size_t)(kl >> 1) + 2 > (size_t)(be - p))
            return false;
        key = (kp_slice){ p, (int32_t)(kl >> 1) };
        p += kl >> 1;
    } else if (kl != 1 || be - p < 2) {
        return false;
    }
    if (!kp_rec__uv12(&p, &vl))
        return false;
    /* the value, then exactly one byte: a header count of 0 */
    kp_slice value = KP_SLICE_NULL;
    size_t vbytes = 0;
    if (!(vl & 1)) {
        vbytes = vl >> 1;
        value = (kp_slice){ p, (int32_t)vbytes };
    } else if (vl != 1) {
        return false;
    }
    if (p > be || vbytes + 1 != (size_t)(be - p) || p[vbytes] != 0)
        return false;
    int32_t offset_delta = (int32_t)(od >> 1);
    if (offset_delta <= *prev_od || offset_delta > last_od)
        return false;
    *pp = be;
    *prev_od = offset_delta;
    *attributes_out = attributes;
    *key_out = key;
    *value_out = value;
    *offset_delta_out = offset_delta;
    *ts_out = ts;
    return true;
}

/* The same through the iterator (its error, record count and cursor). */
static inline __attribute__((always_inline)) bool
kp_record__next_common(kp_record_iter *it, int8_t *attributes_out, kp_slice *key_out,
                       kp_slice *value_out, int32_t *offset_delta_out, uint32_t *ts_out) {
    if (it->err || it->index == it->hdr.record_count)
        return false;
    if (!kp_record__common_at(&it->rd.p, it->rd.end, &it->prev_offset_delta, it->hdr.last_offset_delta,
                              attributes_out, key_out, value_out, offset_delta_out, ts_out))
        return false;
    it->index++;
    return true;
}

static inline __attribute__((always_inline)) bool kp_record_iter_next(kp_record_iter *it,
                                                                     kp_record *r) {
    int8_t attributes;
    kp_slice key, value;
    int32_t offset_delta;
    uint32_t ts;
    if (!kp_record__next_common(it, &attributes, &key, &value, &offset_delta, &ts))
        return kp_record_iter_next_slow(it, r);
    const uint8_t *be = it->rd.p;
    r->attributes = attributes;
    r->key = key;
    r->value = value;
    r->header_count = 0;
    r->headers_raw = (kp_slice){ be, 0 };
    r->offset_delta = offset_delta;
    r->offset = (int64_t)((uint64_t)it->hdr.base_offset + (uint64_t)(int64_t)offset_delta);
    if (kp_batch_is_log_append_time(&it->hdr))
        r->timestamp = it->hdr.max_timestamp;
    else
        r->timestamp = (int64_t)((uint64_t)it->hdr.first_timestamp + (uint64_t)kp_unzigzag64(ts));
    return true;
}

static inline __attribute__((always_inline)) bool
kp_record_iter_next_kv(kp_record_iter *it, kp_slice *key, kp_slice *value) {
    int8_t attributes;
    int32_t offset_delta;
    uint32_t ts;
    if (kp_record__next_common(it, &attributes, key, value, &offset_delta, &ts))
        return true;
    kp_record r;
    if (!kp_record_iter_next_slow(it, &r))
        return false;
    *key = r.key;
    *value = r.value;
    return true;
}

/* Headers of a record returned by the iterator. */
typedef struct kp_header_iter {
    kp_reader rd;
    int32_t left;
} kp_header_iter;
void kp_header_iter_init(kp_header_iter *hi, const kp_record *r);
bool kp_header_iter_next(kp_header_iter *hi, kp_header *h);

/* ------------------------------------------------------------------ */
/* Record sets: several batches back to back (Produce/Fetch payloads)   */
/* ------------------------------------------------------------------ */

typedef struct kp_records_walk {
    const uint8_t *p;
    size_t left;
    kp_err err;      /* KP_ERR_NONE at a clean end */
} kp_records_walk;

void kp_records_walk_init(kp_records_walk *w, const uint8_t *records, size_t len);
/* Next batch: its parsed header and its bytes. Returns false at the end
 * or on error; w->err is KP_ERR__TRUNCATED when the set ends inside a
 * batch (Fetch responses may do that; a Produce request must not), or the
 * header error. Does not verify CRCs. */
bool kp_records_next_batch(kp_records_walk *w, kp_batch_header *h, kp_slice *batch);

/* ------------------------------------------------------------------ */
/* Control batches (transaction markers)                                */
/* ------------------------------------------------------------------ */

typedef enum kp_control_type {
    KP_CONTROL_ABORT = 0,
    KP_CONTROL_COMMIT = 1
} kp_control_type;

/* Size of an end-transaction marker batch (one 4-byte key, 6-byte value). */
#define KP_CONTROL_BATCH_SIZE 78

/* MemoryRecords.withEndTransactionMarker: a control + transactional batch
 * holding one marker record, uncompressed, baseOffset 0, baseSequence -1,
 * the given producer id/epoch, timestamp and partition leader epoch.
 * KP_ERR__NOMEM if cap < KP_CONTROL_BATCH_SIZE. */
kp_err kp_control_batch_build(uint8_t *buf, size_t cap, kp_control_type type,
                              int32_t coordinator_epoch, int64_t producer_id,
                              int16_t producer_epoch, int32_t partition_leader_epoch,
                              int64_t timestamp_ms, kp_slice *out);

/* Reads a control record (from a batch with the control bit): key version
 * >= 0 and type 0/1 (KP_ERR__BAD_MSG otherwise), value version >= 0 and
 * the coordinator epoch. A key/value version above 0 is accepted, as Java
 * does, reading the fields it knows. */
kp_err kp_control_record_parse(const kp_record *r, kp_control_type *type,
                               int32_t *coordinator_epoch);

/* ------------------------------------------------------------------ */
/* Varint sizes and the key/value part of a record's size, inline        */
/* ------------------------------------------------------------------ */

/* The size of v as an unsigned varint: one byte per started group of
 * seven significant bits; with b of them (v | 1: zero takes one byte
 * too), ceil(b / 7) = (9 b + 64) / 64 for b in 1..64, without a division.
 * The same as kp_varint_size / kp_varlong_size of the zigzagged value. */
static inline size_t kp_rb_leb_size(uint64_t v) {
    unsigned b = 64u - (unsigned)__builtin_clzll(v | 1);
    return (9u * b + 64u) / 64u;
}

static inline size_t kp_rb_varint_size(int32_t v) {
    return kp_rb_leb_size(kp_zigzag32(v));
}

/* A length-prefixed field's size (len -1: null, the length alone). */
static inline size_t kp_rb_lenfield_size(kp_slice s) {
    return s.len < 0 ? 1 : kp_rb_varint_size(s.len) + (size_t)s.len;
}

/* Inline: a producer sizes each record once, here, for a record without
 * headers (the count's one byte); kp_record_kvh_size_general walks
 * headers. */
static inline __attribute__((always_inline)) size_t kp_record_kvh_size(kp_slice key, kp_slice value, const kp_header *h, int nh) {
    if (nh != 0)
        return kp_record_kvh_size_general(key, value, h, nh);
    return kp_rb_lenfield_size(key) + kp_rb_lenfield_size(value) + 1;
}

/* ------------------------------------------------------------------ */
/* The builder's per-record append, inline                               */
/* ------------------------------------------------------------------ */

/* A varint of a value below 2^14 (one or two bytes). */
static inline uint8_t *kp_rb_put_leb14(uint8_t *p, uint32_t v) {
    if (v < 0x80) {
        *p = (uint8_t)v;
        return p + 1;
    }
    p[0] = (uint8_t)(v | 0x80);
    p[1] = (uint8_t)(v >> 7);
    return p + 2;
}

/* A record of n bytes with timestamp_ms was written at b->len: count it
 * (the builder's one bookkeeping step, for the inline common append below
 * and the general one in kp_record_batch.c). */
static inline void kp_rb_appended(kp_batch_builder *b, int64_t timestamp_ms, size_t n) {
    if (b->count == 0) {
        b->first_timestamp = timestamp_ms;
        b->max_timestamp = timestamp_ms;
    } else if (timestamp_ms > b->max_timestamp) {
        b->max_timestamp = timestamp_ms;
    }
    b->count++;
    b->len += n;
    b->records_len += n;
}

/* The common record: no headers, a timestamp delta whose varint is one
 * byte, offset delta below 8,192, a key of at most 63 bytes (or null),
 * key/value/header part below 4,096 bytes (so the body is below 8,192: a
 * length of one or two bytes), and room for it. Every size is then one
 * comparison and every varint one or two stores; the bytes are those of
 * kp_batch_builder_append_kvh_general (the same encoding), which takes
 * every other record and every error. Inline: a producer appends each
 * record through here, and the call with seven arguments cost a fifth of
 * the work. */
static inline __attribute__((always_inline)) kp_err
kp_batch_builder_append_kvh(kp_batch_builder *b, int64_t timestamp_ms, kp_slice key, kp_slice value,
                            const kp_header *h, int nh, size_t kvh) {
    int64_t tsd = b->count == 0 ? 0 : (int64_t)((uint64_t)timestamp_ms - (uint64_t)b->first_timestamp);
    uint64_t zt = kp_zigzag64(tsd);
    if (nh != 0 || b->closed || zt >= 0x80 || b->count >= 0x2000 || kvh >= 0x1000 || key.len >= 0x40)
        return kp_batch_builder_append_kvh_general(b, timestamp_ms, key, value, h, nh, kvh);
    uint32_t zc = (uint32_t)b->count << 1; /* zigzag of a count >= 0 */
    size_t body = 2 + (zc < 0x80 ? 1 : 2) + kvh;
    size_t n = (body < 0x40 ? 1 : 2) + body;
    if (b->len > b->cap || n > b->cap - b->len)
        return KP_ERR__NOMEM;
    uint8_t *start = b->buf + b->len, *p = start;
    p = kp_rb_put_leb14(p, (uint32_t)body << 1);
    *p++ = 0; /* record attributes: unused */
    *p++ = (uint8_t)zt;
    p = kp_rb_put_leb14(p, zc);
    if (key.len < 0) {
        *p++ = 1; /* zigzag(-1) */
    } else {
        *p++ = (uint8_t)(key.len << 1);
        if (key.len)
            memcpy(p, key.ptr, (size_t)key.len);
        p += key.len;
    }
    if (value.len < 0) {
        *p++ = 1;
    } else {
        p = kp_rb_put_leb14(p, (uint32_t)value.len << 1); /* value.len <= kvh < 4,096 */
        if (value.len)
            memcpy(p, value.ptr, (size_t)value.len);
        p += value.len;
    }
    *p++ = 0; /* no headers */
    assert((size_t)(p - start) == n);
    if ((size_t)(p - start) != n)
        return KP_ERR__STATE; /* kvh disagrees with key and value: a caller bug */
    kp_rb_appended(b, timestamp_ms, n);
    return KP_ERR_NONE;
}

#endif
