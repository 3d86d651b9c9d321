/*
 * kp_msg_metadata.c — Metadata v1..v7 codecs. Layouts: the header.
 */
#include "kp_msg_metadata.h"

#include "kp_msg_internal.h"

void kp_metadata_request_encode(kp_writer *w, int16_t version, const kp_metadata_request *m) {
    assert(kp__version_ok(version, KP_METADATA_MIN_VERSION, KP_METADATA_MAX_VERSION));
    kp__wr_count(w, m->topic_count, true);
    for (int32_t i = 0; i < m->topic_count; i++)
        kp__wr_str(w, m->topics[i]);
    if (version >= 4)
        kp_wr_bool(w, m->allow_auto_topic_creation);
}

kp_err kp_metadata_request_decode(kp_reader *r, int16_t version, kp_arena *a, kp_metadata_request *out) {
    if (!kp__version_ok(version, KP_METADATA_MIN_VERSION, KP_METADATA_MAX_VERSION))
        return KP_ERR__UNSUPPORTED;
    *out = (kp_metadata_request){ 0 };
    int32_t n = kp_rd_array_len(r, 2, true);
    out->topics = kp__rd_alloc(r, a, n, sizeof *out->topics);
    for (int32_t i = 0; i < n && !r->err; i++)
        out->topics[i] = kp_rd_string(r);
    out->topic_count = r->err ? 0 : n;
    out->allow_auto_topic_creation = version >= 4 ? kp_rd_bool(r) : true;
    return kp__rd_finish(r);
}

void kp_metadata_response_encode(kp_writer *w, int16_t version, const kp_metadata_response *m) {
    assert(kp__version_ok(version, KP_METADATA_MIN_VERSION, KP_METADATA_MAX_VERSION));
    if (version >= 3)
        kp_wr_i32(w, m->throttle_time_ms);
    kp__wr_count(w, m->broker_count, false);
    for (int32_t i = 0; i < m->broker_count; i++) {
        const kp_metadata_broker *b = &m->brokers[i];
        kp_wr_i32(w, b->node_id);
        kp__wr_str(w, b->host);
        kp_wr_i32(w, b->port);
        kp__wr_nstr(w, b->rack);
    }
    if (version >= 2)
        kp__wr_nstr(w, m->cluster_id);
    kp_wr_i32(w, m->controller_id);
    kp__wr_count(w, m->topic_count, false);
    for (int32_t i = 0; i < m->topic_count; i++) {
        const kp_metadata_topic *t = &m->topics[i];
        kp_wr_i16(w, t->error_code);
        kp__wr_str(w, t->topic);
        kp_wr_bool(w, t->is_internal);
        kp__wr_count(w, t->partition_count, false);
        for (int32_t j = 0; j < t->partition_count; j++) {
            const kp_metadata_partition *p = &t->partitions[j];
            kp_wr_i16(w, p->error_code);
            kp_wr_i32(w, p->partition);
            kp_wr_i32(w, p->leader);
            if (version >= 7)
                kp_wr_i32(w, p->leader_epoch);
            kp__wr_i32_array(w, p->replicas, p->replica_count);
            kp__wr_i32_array(w, p->isr, p->isr_count);
            if (version >= 5)
                kp__wr_i32_array(w, p->offline_replicas, p->offline_replica_count);
        }
    }
}

static void kp_metadata_partition_decode(kp_reader *r, int16_t version, kp_arena *a,
                                         kp_metadata_partition *p) {
    p->error_code = kp_rd_i16(r);
    p->partition = kp_rd_i32(r);
    p->leader = kp_rd_i32(r);
    p->leader_epoch = version >= 7 ? kp_rd_i32(r) : -1;
    p->replicas = kp__rd_i32_array(r, a, &p->replica_count);
    p->isr = kp__rd_i32_array(r, a, &p->isr_count);
    if (version >= 5)
        p->offline_replicas = kp__rd_i32_array(r, a, &p->offline_replica_count);
}

kp_err kp_metadata_response_decode(kp_reader *r, int16_t version, kp_arena *a, kp_metadata_response *out) {
    if (!kp__version_ok(version, KP_METADATA_MIN_VERSION, KP_METADATA_MAX_VERSION))
        return KP_ERR__UNSUPPORTED;
    *out = (kp_metadata_response){ 0 };
    out->cluster_id = KP_SLICE_NULL;
    if (version >= 3)
        out->throttle_time_ms = kp_rd_i32(r);

    /* node_id + host + port + rack */
    int32_t nb = kp_rd_array_len(r, 4 + 2 + 4 + 2, false);
    out->brokers = kp__rd_alloc(r, a, nb, sizeof *out->brokers);
    for (int32_t i = 0; i < nb && !r->err; i++) {
        kp_metadata_broker *b = &out->brokers[i];
        b->node_id = kp_rd_i32(r);
        b->host = kp_rd_string(r);
        b->port = kp_rd_i32(r);
        b->rack = kp_rd_nullable_string(r);
    }
    out->broker_count = r->err ? 0 : nb;
    if (version >= 2)
        out->cluster_id = kp_rd_nullable_string(r);
    out->controller_id = kp_rd_i32(r);

    /* error_code + topic + is_internal + partitions count */
    int32_t nt = kp_rd_array_len(r, 2 + 2 + 1 + 4, false);
    out->topics = kp__rd_alloc(r, a, nt, sizeof *out->topics);
    for (int32_t i = 0; i < nt && !r->err; i++) {
        kp_metadata_topic *t = &out->topics[i];
        t->error_code = kp_rd_i16(r);
        t->topic = kp_rd_string(r);
        t->is_internal = kp_rd_bool(r);
        /* error, partition, leader, [epoch], replicas, isr, [offline] */
        size_t min = 2 + 4 + 4 + (version >= 7 ? 4 : 0) + 4 + 4 + (version >= 5 ? 4 : 0);
        int32_t np = kp_rd_array_len(r, min, false);
        t->partitions = kp__rd_alloc(r, a, np, sizeof *t->partitions);
        for (int32_t j = 0; j < np && !r->err; j++)
            kp_metadata_partition_decode(r, version, a, &t->partitions[j]);
        t->partition_count = r->err ? 0 : np;
    }
    out->topic_count = r->err ? 0 : nt;
    return kp__rd_finish(r);
}
