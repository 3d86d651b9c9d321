/*
 * kp_msg_txn.c — InitProducerId, FindCoordinator, AddPartitionsToTxn and
 * EndTxn codecs. Layouts: the header.
 */
#include "kp_msg_txn.h"

#include "kp_msg_internal.h"

/* ---- InitProducerId ------------------------------------------------ */

#define KP_IPI_OK(v) kp__version_ok(v, KP_INIT_PRODUCER_ID_MIN_VERSION, KP_INIT_PRODUCER_ID_MAX_VERSION)

void kp_init_producer_id_request_encode(kp_writer *w, int16_t version, const kp_init_producer_id_request *m) {
    assert(KP_IPI_OK(version));
    kp__wr_nstr(w, m->transactional_id);
    kp_wr_i32(w, m->transaction_timeout_ms);
}

kp_err kp_init_producer_id_request_decode(kp_reader *r, int16_t version, kp_arena *a,
                                          kp_init_producer_id_request *out) {
    (void)a;
    if (!KP_IPI_OK(version))
        return KP_ERR__UNSUPPORTED;
    out->transactional_id = kp_rd_nullable_string(r);
    out->transaction_timeout_ms = kp_rd_i32(r);
    return kp__rd_finish(r);
}

void kp_init_producer_id_response_encode(kp_writer *w, int16_t version, const kp_init_producer_id_response *m) {
    assert(KP_IPI_OK(version));
    kp_wr_i32(w, m->throttle_time_ms);
    kp_wr_i16(w, m->error_code);
    kp_wr_i64(w, m->producer_id);
    kp_wr_i16(w, m->producer_epoch);
}

kp_err kp_init_producer_id_response_decode(kp_reader *r, int16_t version, kp_arena *a,
                                           kp_init_producer_id_response *out) {
    (void)a;
    if (!KP_IPI_OK(version))
        return KP_ERR__UNSUPPORTED;
    out->throttle_time_ms = kp_rd_i32(r);
    out->error_code = kp_rd_i16(r);
    out->producer_id = kp_rd_i64(r);
    out->producer_epoch = kp_rd_i16(r);
    return kp__rd_finish(r);
}

/* ---- FindCoordinator ----------------------------------------------- */

#define KP_FC_OK(v) kp__version_ok(v, KP_FIND_COORDINATOR_MIN_VERSION, KP_FIND_COORDINATOR_MAX_VERSION)

void kp_find_coordinator_request_encode(kp_writer *w, int16_t version, const kp_find_coordinator_request *m) {
    assert(KP_FC_OK(version));
    kp__wr_str(w, m->key);
    if (version >= 1)
        kp_wr_i8(w, m->key_type);
}

kp_err kp_find_coordinator_request_decode(kp_reader *r, int16_t version, kp_arena *a,
                                          kp_find_coordinator_request *out) {
    (void)a;
    if (!KP_FC_OK(version))
        return KP_ERR__UNSUPPORTED;
    out->key = kp_rd_string(r);
    out->key_type = version >= 1 ? kp_rd_i8(r) : KP_COORDINATOR_GROUP;
    return kp__rd_finish(r);
}

void kp_find_coordinator_response_encode(kp_writer *w, int16_t version, const kp_find_coordinator_response *m) {
    assert(KP_FC_OK(version));
    if (version >= 1)
        kp_wr_i32(w, m->throttle_time_ms);
    kp_wr_i16(w, m->error_code);
    if (version >= 1)
        kp__wr_nstr(w, m->error_message);
    kp_wr_i32(w, m->node_id);
    kp__wr_str(w, m->host);
    kp_wr_i32(w, m->port);
}

kp_err kp_find_coordinator_response_decode(kp_reader *r, int16_t version, kp_arena *a,
                                           kp_find_coordinator_response *out) {
    (void)a;
    if (!KP_FC_OK(version))
        return KP_ERR__UNSUPPORTED;
    out->throttle_time_ms = version >= 1 ? kp_rd_i32(r) : 0;
    out->error_code = kp_rd_i16(r);
    out->error_message = version >= 1 ? kp_rd_nullable_string(r) : KP_SLICE_NULL;
    out->node_id = kp_rd_i32(r);
    out->host = kp_rd_string(r);
    out->port = kp_rd_i32(r);
    return kp__rd_finish(r);
}

/* ---- AddPartitionsToTxn -------------------------------------------- */

#define KP_APT_OK(v) \
    kp__version_ok(v, KP_ADD_PARTITIONS_TO_TXN_MIN_VERSION, KP_ADD_PARTITIONS_TO_TXN_MAX_VERSION)

void kp_add_partitions_to_txn_request_encode(kp_writer *w, int16_t version,
                                             const kp_add_partitions_to_txn_request *m) {
    assert(KP_APT_OK(version));
    kp__wr_str(w, m->transactional_id);
    kp_wr_i64(w, m->producer_id);
    kp_wr_i16(w, m->producer_epoch);
    kp__wr_count(w, m->topic_count, false);
    for (int32_t i = 0; i < m->topic_count; i++) {
        kp__wr_str(w, m->topics[i].topic);
        kp__wr_i32_array(w, m->topics[i].partitions, m->topics[i].partition_count);
    }
}

kp_err kp_add_partitions_to_txn_request_decode(kp_reader *r, int16_t version, kp_arena *a,
                                               kp_add_partitions_to_txn_request *out) {
    if (!KP_APT_OK(version))
        return KP_ERR__UNSUPPORTED;
    *out = (kp_add_partitions_to_txn_request){ 0 };
    out->transactional_id = kp_rd_string(r);
    out->producer_id = kp_rd_i64(r);
    out->producer_epoch = kp_rd_i16(r);
    int32_t nt = kp_rd_array_len(r, 2 + 4, false);
    out->topics = kp__rd_alloc(r, a, nt, sizeof *out->topics);
    for (int32_t i = 0; i < nt && !r->err; i++) {
        out->topics[i].topic = kp_rd_string(r);
        out->topics[i].partitions = kp__rd_i32_array(r, a, &out->topics[i].partition_count);
    }
    out->topic_count = r->err ? 0 : nt;
    return kp__rd_finish(r);
}

void kp_add_partitions_to_txn_response_encode(kp_writer *w, int16_t version,
                                              const kp_add_partitions_to_txn_response *m) {
    assert(KP_APT_OK(version));
    kp_wr_i32(w, m->throttle_time_ms);
    kp__wr_count(w, m->topic_count, false);
    for (int32_t i = 0; i < m->topic_count; i++) {
        const kp_add_partitions_to_txn_topic_result *t = &m->topics[i];
        kp__wr_str(w, t->topic);
        kp__wr_count(w, t->partition_count, false);
        for (int32_t j = 0; j < t->partition_count; j++) {
            kp_wr_i32(w, t->partitions[j].partition);
            kp_wr_i16(w, t->partitions[j].error_code);
        }
    }
}

kp_err kp_add_partitions_to_txn_response_decode(kp_reader *r, int16_t version, kp_arena *a,
                                                kp_add_partitions_to_txn_response *out) {
    if (!KP_APT_OK(version))
        return KP_ERR__UNSUPPORTED;
    *out = (kp_add_partitions_to_txn_response){ 0 };
    out->throttle_time_ms = kp_rd_i32(r);
    int32_t nt = kp_rd_array_len(r, 2 + 4, false);
    out->topics = kp__rd_alloc(r, a, nt, sizeof *out->topics);
    for (int32_t i = 0; i < nt && !r->err; i++) {
        kp_add_partitions_to_txn_topic_result *t = &out->topics[i];
        t->topic = kp_rd_string(r);
        int32_t np = kp_rd_array_len(r, 4 + 2, false);
        t->partitions = kp__rd_alloc(r, a, np, sizeof *t->partitions);
        for (int32_t j = 0; j < np && !r->err; j++) {
            t->partitions[j].partition = kp_rd_i32(r);
            t->partitions[j].error_code = kp_rd_i16(r);
        }
        t->partition_count = r->err ? 0 : np;
    }
    out->topic_count = r->err ? 0 : nt;
    return kp__rd_finish(r);
}

/* ---- EndTxn -------------------------------------------------------- */

#define KP_ET_OK(v) kp__version_ok(v, KP_END_TXN_MIN_VERSION, KP_END_TXN_MAX_VERSION)

void kp_end_txn_request_encode(kp_writer *w, int16_t version, const kp_end_txn_request *m) {
    assert(KP_ET_OK(version));
    kp__wr_str(w, m->transactional_id);
    kp_wr_i64(w, m->producer_id);
    kp_wr_i16(w, m->producer_epoch);
    kp_wr_bool(w, m->committed);
}

kp_err kp_end_txn_request_decode(kp_reader *r, int16_t version, kp_arena *a, kp_end_txn_request *out) {
    (void)a;
    if (!KP_ET_OK(version))
        return KP_ERR__UNSUPPORTED;
    out->transactional_id = kp_rd_string(r);
    out->producer_id = kp_rd_i64(r);
    out->producer_epoch = kp_rd_i16(r);
    out->committed = kp_rd_bool(r);
    return kp__rd_finish(r);
}

void kp_end_txn_response_encode(kp_writer *w, int16_t version, const kp_end_txn_response *m) {
    assert(KP_ET_OK(version));
    kp_wr_i32(w, m->throttle_time_ms);
    kp_wr_i16(w, m->error_code);
}

kp_err kp_end_txn_response_decode(kp_reader *r, int16_t version, kp_arena *a, kp_end_txn_response *out) {
    (void)a;
    if (!KP_ET_OK(version))
        return KP_ERR__UNSUPPORTED;
    out->throttle_time_ms = kp_rd_i32(r);
    out->error_code = kp_rd_i16(r);
    return kp__rd_finish(r);
}
