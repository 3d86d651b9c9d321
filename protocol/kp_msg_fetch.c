/*
 * kp_msg_fetch.c — ListOffsets v1..v3 and Fetch v4..v10 codecs.
 * Layouts: the header.
 */
#include "kp_msg_fetch.h"

#include "kp_msg_internal.h"

/* ---- ListOffsets --------------------------------------------------- */

#define KP_LO_OK(v) kp__version_ok(v, KP_LIST_OFFSETS_MIN_VERSION, KP_LIST_OFFSETS_MAX_VERSION)

void kp_list_offsets_request_encode(kp_writer *w, int16_t version, const kp_list_offsets_request *m) {
    assert(KP_LO_OK(version));
    kp_wr_i32(w, m->replica_id);
    if (version >= 2)
        kp_wr_i8(w, m->isolation_level);
    kp__wr_count(w, m->topic_count, false);
    for (int32_t i = 0; i < m->topic_count; i++) {
        const kp_list_offsets_topic *t = &m->topics[i];
        kp__wr_str(w, t->topic);
        kp__wr_count(w, t->partition_count, false);
        for (int32_t j = 0; j < t->partition_count; j++) {
            kp_wr_i32(w, t->partitions[j].partition);
            kp_wr_i64(w, t->partitions[j].timestamp);
        }
    }
}

kp_err kp_list_offsets_request_decode(kp_reader *r, int16_t version, kp_arena *a,
                                      kp_list_offsets_request *out) {
    if (!KP_LO_OK(version))
        return KP_ERR__UNSUPPORTED;
    *out = (kp_list_offsets_request){ 0 };
    out->replica_id = kp_rd_i32(r);
    out->isolation_level = version >= 2 ? kp_rd_i8(r) : KP_ISOLATION_READ_UNCOMMITTED;
    int32_t nt = kp_rd_array_len(r, 2 + 4, false);
    out->topics = kp__rd_alloc(r, a, nt, sizeof *out->topics);
    for (int32_t i = 0; i < nt && !r->err; i++) {
        kp_list_offsets_topic *t = &out->topics[i];
        t->topic = kp_rd_string(r);
        int32_t np = kp_rd_array_len(r, 4 + 8, false);
        t->partitions = kp__rd_alloc(r, a, np, sizeof *t->partitions);
        for (int32_t j = 0; j < np && !r->err; j++) {
            t->partitions[j].partition = kp_rd_i32(r);
            t->partitions[j].timestamp = kp_rd_i64(r);
        }
        t->partition_count = r->err ? 0 : np;
    }
    out->topic_count = r->err ? 0 : nt;
    return kp__rd_finish(r);
}

void kp_list_offsets_response_encode(kp_writer *w, int16_t version, const kp_list_offsets_response *m) {
    assert(KP_LO_OK(version));
    if (version >= 2)
        kp_wr_i32(w, m->throttle_time_ms);
    kp__wr_count(w, m->topic_count, false);
    for (int32_t i = 0; i < m->topic_count; i++) {
        const kp_list_offsets_topic_response *t = &m->topics[i];
        kp__wr_str(w, t->topic);
        kp__wr_count(w, t->partition_count, false);
        for (int32_t j = 0; j < t->partition_count; j++) {
            const kp_list_offsets_partition_response *p = &t->partitions[j];
            kp_wr_i32(w, p->partition);
            kp_wr_i16(w, p->error_code);
            kp_wr_i64(w, p->timestamp);
            kp_wr_i64(w, p->offset);
        }
    }
}

kp_err kp_list_offsets_response_decode(kp_reader *r, int16_t version, kp_arena *a,
                                       kp_list_offsets_response *out) {
    if (!KP_LO_OK(version))
        return KP_ERR__UNSUPPORTED;
    *out = (kp_list_offsets_response){ 0 };
    out->throttle_time_ms = version >= 2 ? kp_rd_i32(r) : 0;
    int32_t nt = kp_rd_array_len(r, 2 + 4, false);
    out->topics = kp__rd_alloc(r, a, nt, sizeof *out->topics);
    for (int32_t i = 0; i < nt && !r->err; i++) {
        kp_list_offsets_topic_response *t = &out->topics[i];
        t->topic = kp_rd_string(r);
        int32_t np = kp_rd_array_len(r, 4 + 2 + 8 + 8, false);
        t->partitions = kp__rd_alloc(r, a, np, sizeof *t->partitions);
        for (int32_t j = 0; j < np && !r->err; j++) {
            kp_list_offsets_partition_response *p = &t->partitions[j];
            p->partition = kp_rd_i32(r);
            p->error_code = kp_rd_i16(r);
            p->timestamp = kp_rd_i64(r);
            p->offset = kp_rd_i64(r);
        }
        t->partition_count = r->err ? 0 : np;
    }
    out->topic_count = r->err ? 0 : nt;
    return kp__rd_finish(r);
}

/* ---- Fetch --------------------------------------------------------- */

#define KP_FE_OK(v) kp__version_ok(v, KP_FETCH_MIN_VERSION, KP_FETCH_MAX_VERSION)

void kp_fetch_request_encode(kp_writer *w, int16_t version, const kp_fetch_request *m) {
    assert(KP_FE_OK(version));
    kp_wr_i32(w, m->replica_id);
    kp_wr_i32(w, m->max_wait_ms);
    kp_wr_i32(w, m->min_bytes);
    kp_wr_i32(w, m->max_bytes);
    kp_wr_i8(w, m->isolation_level);
    if (version >= 7) {
        kp_wr_i32(w, m->session_id);
        kp_wr_i32(w, m->session_epoch);
    }
    kp__wr_count(w, m->topic_count, false);
    for (int32_t i = 0; i < m->topic_count; i++) {
        const kp_fetch_topic *t = &m->topics[i];
        kp__wr_str(w, t->topic);
        kp__wr_count(w, t->partition_count, false);
        for (int32_t j = 0; j < t->partition_count; j++) {
            const kp_fetch_partition *p = &t->partitions[j];
            kp_wr_i32(w, p->partition);
            if (version >= 9)
                kp_wr_i32(w, p->current_leader_epoch);
            kp_wr_i64(w, p->fetch_offset);
            if (version >= 5)
                kp_wr_i64(w, p->log_start_offset);
            kp_wr_i32(w, p->partition_max_bytes);
        }
    }
    if (version >= 7) {
        kp__wr_count(w, m->forgotten_topic_count, false);
        for (int32_t i = 0; i < m->forgotten_topic_count; i++) {
            kp__wr_str(w, m->forgotten_topics[i].topic);
            kp__wr_i32_array(w, m->forgotten_topics[i].partitions, m->forgotten_topics[i].partition_count);
        }
    }
}

kp_err kp_fetch_request_decode(kp_reader *r, int16_t version, kp_arena *a, kp_fetch_request *out) {
    if (!KP_FE_OK(version))
        return KP_ERR__UNSUPPORTED;
    *out = (kp_fetch_request){ 0 };
    out->replica_id = kp_rd_i32(r);
    out->max_wait_ms = kp_rd_i32(r);
    out->min_bytes = kp_rd_i32(r);
    out->max_bytes = kp_rd_i32(r);
    out->isolation_level = kp_rd_i8(r);
    out->session_id = version >= 7 ? kp_rd_i32(r) : 0;
    out->session_epoch = version >= 7 ? kp_rd_i32(r) : -1;
    int32_t nt = kp_rd_array_len(r, 2 + 4, false);
    out->topics = kp__rd_alloc(r, a, nt, sizeof *out->topics);
    for (int32_t i = 0; i < nt && !r->err; i++) {
        kp_fetch_topic *t = &out->topics[i];
        t->topic = kp_rd_string(r);
        size_t min = 4 + (version >= 9 ? 4 : 0) + 8 + (version >= 5 ? 8 : 0) + 4;
        int32_t np = kp_rd_array_len(r, min, false);
        t->partitions = kp__rd_alloc(r, a, np, sizeof *t->partitions);
        for (int32_t j = 0; j < np && !r->err; j++) {
            kp_fetch_partition *p = &t->partitions[j];
            p->partition = kp_rd_i32(r);
            p->current_leader_epoch = version >= 9 ? kp_rd_i32(r) : -1;
            p->fetch_offset = kp_rd_i64(r);
            p->log_start_offset = version >= 5 ? kp_rd_i64(r) : -1;
            p->partition_max_bytes = kp_rd_i32(r);
        }
        t->partition_count = r->err ? 0 : np;
    }
    out->topic_count = r->err ? 0 : nt;
    if (version >= 7) {
        int32_t nf = kp_rd_array_len(r, 2 + 4, false);
        out->forgotten_topics = kp__rd_alloc(r, a, nf, sizeof *out->forgotten_topics);
        for (int32_t i = 0; i < nf && !r->err; i++) {
            kp_fetch_forgotten_topic *f = &out->forgotten_topics[i];
            f->topic = kp_rd_string(r);
            f->partitions = kp__rd_i32_array(r, a, &f->partition_count);
        }
        out->forgotten_topic_count = r->err ? 0 : nf;
    }
    return kp__rd_finish(r);
}

void kp_fetch_response_encode(kp_writer *w, int16_t version, const kp_fetch_response *m) {
    assert(KP_FE_OK(version));
    kp_wr_i32(w, m->throttle_time_ms);
    if (version >= 7) {
        kp_wr_i16(w, m->error_code);
        kp_wr_i32(w, m->session_id);
    }
    kp__wr_count(w, m->topic_count, false);
    for (int32_t i = 0; i < m->topic_count; i++) {
        const kp_fetch_topic_response *t = &m->topics[i];
        kp__wr_str(w, t->topic);
        kp__wr_count(w, t->partition_count, false);
        for (int32_t j = 0; j < t->partition_count; j++) {
            const kp_fetch_partition_response *p = &t->partitions[j];
            kp_wr_i32(w, p->partition);
            kp_wr_i16(w, p->error_code);
            kp_wr_i64(w, p->high_watermark);
            kp_wr_i64(w, p->last_stable_offset);
            if (version >= 5)
                kp_wr_i64(w, p->log_start_offset);
            kp__wr_count(w, p->aborted_transaction_count, true);
            for (int32_t k = 0; k < p->aborted_transaction_count; k++) {
                kp_wr_i64(w, p->aborted_transactions[k].producer_id);
                kp_wr_i64(w, p->aborted_transactions[k].first_offset);
            }
            kp_wr_bytes(w, p->records);
        }
    }
}

static void kp_fetch_partition_response_decode(kp_reader *r, int16_t version, kp_arena *a,
                                               kp_fetch_partition_response *p) {
    p->partition = kp_rd_i32(r);
    p->error_code = kp_rd_i16(r);
    p->high_watermark = kp_rd_i64(r);
    p->last_stable_offset = kp_rd_i64(r);
    p->log_start_offset = version >= 5 ? kp_rd_i64(r) : -1;
    int32_t na = kp_rd_array_len(r, 8 + 8, true);
    p->aborted_transactions = kp__rd_alloc(r, a, na, sizeof *p->aborted_transactions);
    for (int32_t k = 0; k < na && !r->err; k++) {
        p->aborted_transactions[k].producer_id = kp_rd_i64(r);
        p->aborted_transactions[k].first_offset = kp_rd_i64(r);
    }
    p->aborted_transaction_count = r->err ? 0 : na;
    p->records = kp_rd_nullable_bytes(r);
}

kp_err kp_fetch_response_decode(kp_reader *r, int16_t version, kp_arena *a, kp_fetch_response *out) {
    if (!KP_FE_OK(version))
        return KP_ERR__UNSUPPORTED;
    *out = (kp_fetch_response){ 0 };
    out->throttle_time_ms = kp_rd_i32(r);
    if (version >= 7) {
        out->error_code = kp_rd_i16(r);
        out->session_id = kp_rd_i32(r);
    }
    int32_t nt = kp_rd_array_len(r, 2 + 4, false);
    out->topics = kp__rd_alloc(r, a, nt, sizeof *out->topics);
    for (int32_t i = 0; i < nt && !r->err; i++) {
        kp_fetch_topic_response *t = &out->topics[i];
        t->topic = kp_rd_string(r);
        /* partition, error, hw, lso, [log start], aborted count, records len */
        size_t min = 4 + 2 + 8 + 8 + (version >= 5 ? 8 : 0) + 4 + 4;
        int32_t np = kp_rd_array_len(r, min, false);
        t->partitions = kp__rd_alloc(r, a, np, sizeof *t->partitions);
        for (int32_t j = 0; j < np && !r->err; j++)
            kp_fetch_partition_response_decode(r, version, a, &t->partitions[j]);
        t->partition_count = r->err ? 0 : np;
    }
    out->topic_count = r->err ? 0 : nt;
    return kp__rd_finish(r);
}
