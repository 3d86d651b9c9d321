/*
 * kp_msg_produce.c — Produce v3..v7 codecs. Layouts: the header.
 */
#include "kp_msg_produce.h"

#include "kp_msg_internal.h"

void kp_produce_request_encode(kp_writer *w, int16_t version, const kp_produce_request *m) {
    assert(kp__version_ok(version, KP_PRODUCE_MIN_VERSION, KP_PRODUCE_MAX_VERSION));
    kp__wr_nstr(w, m->transactional_id);
    kp_wr_i16(w, m->acks);
    kp_wr_i32(w, m->timeout_ms);
    kp__wr_count(w, m->topic_count, false);
    for (int32_t i = 0; i < m->topic_count; i++) {
        const kp_produce_topic_data *t = &m->topics[i];
        kp__wr_str(w, t->topic);
        kp__wr_count(w, t->partition_count, false);
        for (int32_t j = 0; j < t->partition_count; j++) {
            kp_wr_i32(w, t->partitions[j].partition);
            kp_wr_bytes(w, t->partitions[j].records);
        }
    }
}

kp_err kp_produce_request_decode(kp_reader *r, int16_t version, kp_arena *a, kp_produce_request *out) {
    if (!kp__version_ok(version, KP_PRODUCE_MIN_VERSION, KP_PRODUCE_MAX_VERSION))
        return KP_ERR__UNSUPPORTED;
    *out = (kp_produce_request){ 0 };
    out->transactional_id = kp_rd_nullable_string(r);
    out->acks = kp_rd_i16(r);
    out->timeout_ms = kp_rd_i32(r);
    int32_t nt = kp_rd_array_len(r, 2 + 4, false);
    out->topics = kp__rd_alloc(r, a, nt, sizeof *out->topics);
    for (int32_t i = 0; i < nt && !r->err; i++) {
        kp_produce_topic_data *t = &out->topics[i];
        t->topic = kp_rd_string(r);
        int32_t np = kp_rd_array_len(r, 4 + 4, false);
        t->partitions = kp__rd_alloc(r, a, np, sizeof *t->partitions);
        for (int32_t j = 0; j < np && !r->err; j++) {
            t->partitions[j].partition = kp_rd_i32(r);
            t->partitions[j].records = kp_rd_nullable_bytes(r);
        }
        t->partition_count = r->err ? 0 : np;
    }
    out->topic_count = r->err ? 0 : nt;
    return kp__rd_finish(r);
}

void kp_produce_response_encode(kp_writer *w, int16_t version, const kp_produce_response *m) {
    assert(kp__version_ok(version, KP_PRODUCE_MIN_VERSION, KP_PRODUCE_MAX_VERSION));
    kp__wr_count(w, m->topic_count, false);
    for (int32_t i = 0; i < m->topic_count; i++) {
        const kp_produce_topic_response *t = &m->topics[i];
        kp__wr_str(w, t->topic);
        kp__wr_count(w, t->partition_count, false);
        for (int32_t j = 0; j < t->partition_count; j++) {
            const kp_produce_partition_response *p = &t->partitions[j];
            kp_wr_i32(w, p->partition);
            kp_wr_i16(w, p->error_code);
            kp_wr_i64(w, p->base_offset);
            kp_wr_i64(w, p->log_append_time);
            if (version >= 5)
                kp_wr_i64(w, p->log_start_offset);
        }
    }
    kp_wr_i32(w, m->throttle_time_ms);
}

kp_err kp_produce_response_decode(kp_reader *r, int16_t version, kp_arena *a, kp_produce_response *out) {
    if (!kp__version_ok(version, KP_PRODUCE_MIN_VERSION, KP_PRODUCE_MAX_VERSION))
        return KP_ERR__UNSUPPORTED;
    *out = (kp_produce_response){ 0 };
    int32_t nt = kp_rd_array_len(r, 2 + 4, false);
    out->topics = kp__rd_alloc(r, a, nt, sizeof *out->topics);
    for (int32_t i = 0; i < nt && !r->err; i++) {
        kp_produce_topic_response *t = &out->topics[i];
        t->topic = kp_rd_string(r);
        int32_t np = kp_rd_array_len(r, 4 + 2 + 8 + 8 + (version >= 5 ? 8 : 0), false);
        t->partitions = kp__rd_alloc(r, a, np, sizeof *t->partitions);
        for (int32_t j = 0; j < np && !r->err; j++) {
            kp_produce_partition_response *p = &t->partitions[j];
            p->partition = kp_rd_i32(r);
            p->error_code = kp_rd_i16(r);
            p->base_offset = kp_rd_i64(r);
            p->log_append_time = kp_rd_i64(r);
            p->log_start_offset = version >= 5 ? kp_rd_i64(r) : -1;
        }
        t->partition_count = r->err ? 0 : np;
    }
    out->topic_count = r->err ? 0 : nt;
    out->throttle_time_ms = kp_rd_i32(r);
    return kp__rd_finish(r);
}
