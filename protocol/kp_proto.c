/*
 * kp_proto.c — API names and version table, headers, frames, dispatch.
 * See kp_proto.h for the frame layout and the memory rules.
 */
#include "kp_proto.h"

#include "kp_msg_internal.h"

/* ---- names --------------------------------------------------------- */

static const char *const kp_api_names[] = {
    [0] = "Produce",
    [1] = "Fetch",
    [2] = "ListOffsets",
    [3] = "Metadata",
    [4] = "LeaderAndIsr",
    [5] = "StopReplica",
    [6] = "UpdateMetadata",
    [7] = "ControlledShutdown",
    [8] = "OffsetCommit",
    [9] = "OffsetFetch",
    [10] = "FindCoordinator",
    [11] = "JoinGroup",
    [12] = "Heartbeat",
    [13] = "LeaveGroup",
    [14] = "SyncGroup",
    [15] = "DescribeGroups",
    [16] = "ListGroups",
    [17] = "SaslHandshake",
    [18] = "ApiVersions",
    [19] = "CreateTopics",
    [20] = "DeleteTopics",
    [21] = "DeleteRecords",
    [22] = "InitProducerId",
    [23] = "OffsetForLeaderEpoch",
    [24] = "AddPartitionsToTxn",
    [25] = "AddOffsetsToTxn",
    [26] = "EndTxn",
    [27] = "WriteTxnMarkers",
    [28] = "TxnOffsetCommit",
    [29] = "DescribeAcls",
    [30] = "CreateAcls",
    [31] = "DeleteAcls",
    [32] = "DescribeConfigs",
    [33] = "AlterConfigs",
    [34] = "AlterReplicaLogDirs",
    [35] = "DescribeLogDirs",
    [36] = "SaslAuthenticate",
    [37] = "CreatePartitions",
    [38] = "CreateDelegationToken",
    [39] = "RenewDelegationToken",
    [40] = "ExpireDelegationToken",
    [41] = "DescribeDelegationToken",
    [42] = "DeleteGroups",
};

const char *kp_api_name(int16_t api_key) {
    if (api_key < 0 || (size_t)api_key >= sizeof kp_api_names / sizeof kp_api_names[0])
        return "Unknown";
    return kp_api_names[api_key];
}

/* ---- versions ------------------------------------------------------ */

const kp_api_version kp_api_supported[] = {
    { KP_API_PRODUCE, KP_PRODUCE_MIN_VERSION, KP_PRODUCE_MAX_VERSION },
    { KP_API_FETCH, KP_FETCH_MIN_VERSION, KP_FETCH_MAX_VERSION },
    { KP_API_LIST_OFFSETS, KP_LIST_OFFSETS_MIN_VERSION, KP_LIST_OFFSETS_MAX_VERSION },
    { KP_API_METADATA, KP_METADATA_MIN_VERSION, KP_METADATA_MAX_VERSION },
    { KP_API_FIND_COORDINATOR, KP_FIND_COORDINATOR_MIN_VERSION, KP_FIND_COORDINATOR_MAX_VERSION },
    { KP_API_API_VERSIONS, KP_API_VERSIONS_MIN_VERSION, KP_API_VERSIONS_MAX_VERSION },
    { KP_API_INIT_PRODUCER_ID, KP_INIT_PRODUCER_ID_MIN_VERSION, KP_INIT_PRODUCER_ID_MAX_VERSION },
    { KP_API_ADD_PARTITIONS_TO_TXN, KP_ADD_PARTITIONS_TO_TXN_MIN_VERSION, KP_ADD_PARTITIONS_TO_TXN_MAX_VERSION },
    { KP_API_END_TXN, KP_END_TXN_MIN_VERSION, KP_END_TXN_MAX_VERSION },
};
const int32_t kp_api_supported_count = (int32_t)(sizeof kp_api_supported / sizeof kp_api_supported[0]);

const kp_api_version *kp_api_supported_range(int16_t api_key) {
    for (int32_t i = 0; i < kp_api_supported_count; i++)
        if (kp_api_supported[i].api_key == api_key)
            return &kp_api_supported[i];
    return NULL;
}

bool kp_api_version_supported(int16_t api_key, int16_t version) {
    const kp_api_version *v = kp_api_supported_range(api_key);
    return v && version >= v->min_version && version <= v->max_version;
}

/* ---- headers ------------------------------------------------------- */

void kp_request_header_encode(kp_writer *w, const kp_request_header *h) {
    kp_wr_i16(w, h->api_key);
    kp_wr_i16(w, h->api_version);
    kp_wr_i32(w, h->correlation_id);
    kp__wr_nstr(w, h->client_id);
}

/* kp_request_header_decode, inline into both frame decoders (the broker's
 * every request). */
static inline __attribute__((always_inline)) kp_err kp_request__header_decode(kp_reader *r,
                                                                              kp_request_header *out) {
    /* Every request the broker reads: the whole header present and well
     * formed (a null or an in-range client id) in one test; anything else
     * (a short or bad header, a reader already failed) through the readers,
     * whose checks and verdicts are the same. */
    const uint8_t *p = r->p;
    size_t left = (size_t)(r->end - p);
    if (!r->err && left >= 10) {
        int32_t cl = (int16_t)kp_be16_get(p + 8);
        if (cl == -1 || (cl >= 0 && (size_t)cl <= left - 10)) {
            out->api_key = (int16_t)kp_be16_get(p);
            out->api_version = (int16_t)kp_be16_get(p + 2);
            out->correlation_id = (int32_t)kp_be32_get(p + 4);
            out->client_id = cl < 0 ? KP_SLICE_NULL : (kp_slice){ p + 10, cl };
            r->p = p + 10 + (cl < 0 ? 0 : (size_t)cl);
            return KP_ERR_NONE;
        }
    }
    out->api_key = kp_rd_i16(r);
    out->api_version = kp_rd_i16(r);
    out->correlation_id = kp_rd_i32(r);
    out->client_id = kp_rd_nullable_string(r);
    return r->err;
}

kp_err kp_request_header_decode(kp_reader *r, kp_request_header *out) {
    return kp_request__header_decode(r, out);
}

void kp_response_header_encode(kp_writer *w, const kp_response_header *h) {
    kp_wr_i32(w, h->correlation_id);
}

kp_err kp_response_header_decode(kp_reader *r, kp_response_header *out) {
    out->correlation_id = kp_rd_i32(r);
    return r->err;
}

/* ---- dispatch ------------------------------------------------------ */

void kp_request_body_encode(kp_writer *w, int16_t api_key, int16_t version, const void *body) {
    switch (api_key) {
    case KP_API_PRODUCE: kp_produce_request_encode(w, version, body); return;
    case KP_API_FETCH: kp_fetch_request_encode(w, version, body); return;
    case KP_API_LIST_OFFSETS: kp_list_offsets_request_encode(w, version, body); return;
    case KP_API_METADATA: kp_metadata_request_encode(w, version, body); return;
    case KP_API_FIND_COORDINATOR: kp_find_coordinator_request_encode(w, version, body); return;
    case KP_API_API_VERSIONS: kp_api_versions_request_encode(w, version, body); return;
    case KP_API_INIT_PRODUCER_ID: kp_init_producer_id_request_encode(w, version, body); return;
    case KP_API_ADD_PARTITIONS_TO_TXN: kp_add_partitions_to_txn_request_encode(w, version, body); return;
    case KP_API_END_TXN: kp_end_txn_request_encode(w, version, body); return;
    }
    assert(!"kp_request_body_encode: api key not implemented");
}

kp_err kp_request_body_decode(kp_reader *r, int16_t api_key, int16_t version, kp_arena *a,
                              kp_request_body *out) {
    switch (api_key) {
    case KP_API_PRODUCE: return kp_produce_request_decode(r, version, a, &out->produce);
    case KP_API_FETCH: return kp_fetch_request_decode(r, version, a, &out->fetch);
    case KP_API_LIST_OFFSETS: return kp_list_offsets_request_decode(r, version, a, &out->list_offsets);
    case KP_API_METADATA: return kp_metadata_request_decode(r, version, a, &out->metadata);
    case KP_API_FIND_COORDINATOR:
        return kp_find_coordinator_request_decode(r, version, a, &out->find_coordinator);
    case KP_API_API_VERSIONS: return kp_api_versions_request_decode(r, version, a, &out->api_versions);
    case KP_API_INIT_PRODUCER_ID:
        return kp_init_producer_id_request_decode(r, version, a, &out->init_producer_id);
    case KP_API_ADD_PARTITIONS_TO_TXN:
        return kp_add_partitions_to_txn_request_decode(r, version, a, &out->add_partitions_to_txn);
    case KP_API_END_TXN: return kp_end_txn_request_decode(r, version, a, &out->end_txn);
    }
    return KP_ERR__UNSUPPORTED;
}

void kp_response_body_encode(kp_writer *w, int16_t api_key, int16_t version, const void *body) {
    switch (api_key) {
    case KP_API_PRODUCE: kp_produce_response_encode(w, version, body); return;
    case KP_API_FETCH: kp_fetch_response_encode(w, version, body); return;
    case KP_API_LIST_OFFSETS: kp_list_offsets_response_encode(w, version, body); return;
    case KP_API_METADATA: kp_metadata_response_encode(w, version, body); return;
    case KP_API_FIND_COORDINATOR: kp_find_coordinator_response_encode(w, version, body); return;
    case KP_API_API_VERSIONS: kp_api_versions_response_encode(w, version, body); return;
    case KP_API_INIT_PRODUCER_ID: kp_init_producer_id_response_encode(w, version, body); return;
    case KP_API_ADD_PARTITIONS_TO_TXN: kp_add_partitions_to_txn_response_encode(w, version, body); return;
    case KP_API_END_TXN: kp_end_txn_response_encode(w, version, body); return;
    }
    assert(!"kp_response_body_encode: api key not implemented");
}

kp_err kp_response_body_decode(kp_reader *r, int16_t api_key, int16_t version, kp_arena *a,
                               kp_response_body *out) {
    switch (api_key) {
    case KP_API_PRODUCE: return kp_produce_response_decode(r, version, a, &out->produce);
    case KP_API_FETCH: return kp_fetch_response_decode(r, version, a, &out->fetch);
    case KP_API_LIST_OFFSETS: return kp_list_offsets_response_decode(r, version, a, &out->list_offsets);
    case KP_API_METADATA: return kp_metadata_response_decode(r, version, a, &out->metadata);
    case KP_API_FIND_COORDINATOR:
        return kp_find_coordinator_response_decode(r, version, a, &out->find_coordinator);
    case KP_API_API_VERSIONS: return kp_api_versions_response_decode(r, version, a, &out->api_versions);
    case KP_API_INIT_PRODUCER_ID:
        return kp_init_producer_id_response_decode(r, version, a, &out->init_producer_id);
    case KP_API_ADD_PARTITIONS_TO_TXN:
        return kp_add_partitions_to_txn_response_decode(r, version, a, &out->add_partitions_to_txn);
    case KP_API_END_TXN: return kp_end_txn_response_decode(r, version, a, &out->end_txn);
    }
    return KP_ERR__UNSUPPORTED;
}

bool kp_api_has_response(int16_t api_key, int16_t version, const void *req) {
    (void)version;
    if (api_key == KP_API_PRODUCE && req)
        return ((const kp_produce_request *)req)->acks != 0;
    return true;
}

/* ---- frames -------------------------------------------------------- */

kp_err kp_frame_peek(const void *buf, size_t len, int32_t max_size, size_t *frame_len) {
    if (len < 4) {
        *frame_len = 4;
        return KP_ERR__TRUNCATED;
    }
    int32_t size = (int32_t)kp_be32_get(buf);
    if (size < 0 || size > max_size) {
        *frame_len = 0;
        return KP_ERR__BAD_MSG;
    }
    *frame_len = 4 + (size_t)size;
    return len >= *frame_len ? KP_ERR_NONE : KP_ERR__TRUNCATED;
}

size_t kp_frame_begin(kp_writer *w) {
    return kp_wr_reserve_i32(w);
}

void kp_frame_end(kp_writer *w, size_t begin) {
    size_t size = w->len - begin - 4;
    assert(size <= INT32_MAX);
    kp_wr_patch_i32(w, begin, (int32_t)size);
}

void kp_request_frame_encode(kp_writer *w, const kp_request_header *h, const void *body) {
    size_t begin = kp_frame_begin(w);
    kp_request_header_encode(w, h);
    kp_request_body_encode(w, h->api_key, h->api_version, body);
    kp_frame_end(w, begin);
}

/* The reader over a frame's payload, after checking the size prefix
 * matches the frame's length exactly. */
static kp_err kp_frame_open(const void *frame, size_t len, kp_reader *r) {
    if (len < 4)
        return KP_ERR__TRUNCATED;
    int32_t size = (int32_t)kp_be32_get(frame);
    if (size < 0 || (size_t)size != len - 4)
        return KP_ERR__BAD_MSG;
    kp_rd_init(r, (const uint8_t *)frame + 4, len - 4);
    return KP_ERR_NONE;
}

kp_err kp_request_frame_decode(const void *frame, size_t len, kp_arena *a, kp_request *out) {
    kp_reader r;
    kp_err err = kp_frame_open(frame, len, &r);
    if (err)
        return err;
    if ((err = kp_request__header_decode(&r, &out->hdr)))
        return err;
    if (!kp_api_version_supported(out->hdr.api_key, out->hdr.api_version))
        return KP_ERR__UNSUPPORTED;
    return kp_request_body_decode(&r, out->hdr.api_key, out->hdr.api_version, a, &out->body);
}

bool kp_request_frame_decode_gathered(const uint8_t *frame, size_t len, const kp_wr_run *runs, int nruns,
                                      kp_arena *a, kp_request *out) {
    size_t total = len;
    for (int i = 0; i < nruns; i++) {
        if (runs[i].at > len || (i && runs[i].at < runs[i - 1].at))
            return false;
        total += runs[i].len;
    }
    if (len < 4 || total - 4 > INT32_MAX || kp_be32_get(frame) != (uint32_t)(total - 4))
        return false;
    const uint8_t *seg = nruns ? frame + runs[0].at : frame + len;
    if (seg < frame + 4)
        return false;
    /* the header, whole before the first run */
    kp_reader r;
    kp_rd_init(&r, frame + 4, (size_t)(seg - frame - 4));
    if (kp_request__header_decode(&r, &out->hdr) != KP_ERR_NONE)
        return false;
    const uint8_t *p = r.p;
    if (out->hdr.api_key != KP_API_PRODUCE || !kp_api_version_supported(out->hdr.api_key, out->hdr.api_version))
        return false;
    return kp_produce_request_decode_gathered(frame, p, frame + len, runs, nruns, out->hdr.api_version, a,
                                              &out->body.produce);
}

void kp_response_frame_encode(kp_writer *w, int16_t api_key, int16_t version, int32_t correlation_id,
                              const void *body) {
    size_t begin = kp_frame_begin(w);
    kp_wr_i32(w, correlation_id);
    kp_response_body_encode(w, api_key, version, body);
    kp_frame_end(w, begin);
}

kp_err kp_response_frame_header(const void *frame, size_t len, kp_response_header *out) {
    kp_reader r;
    kp_err err = kp_frame_open(frame, len, &r);
    if (err)
        return err;
    return kp_response_header_decode(&r, out);
}

kp_err kp_response_frame_decode(const void *frame, size_t len, int16_t api_key, int16_t version,
                                kp_arena *a, kp_response *out) {
    kp_reader r;
    kp_err err = kp_frame_open(frame, len, &r);
    if (err)
        return err;
    if ((err = kp_response_header_decode(&r, &out->hdr)))
        return err;
    if (!kp_api_version_supported(api_key, version))
        return KP_ERR__UNSUPPORTED;
    return kp_response_body_decode(&r, api_key, version, a, &out->body);
}

void kp_api_versions_unsupported_frame_encode(kp_writer *w, int32_t correlation_id,
                                              const kp_api_version *api_keys, int32_t api_key_count) {
    size_t begin = kp_frame_begin(w);
    kp_wr_i32(w, correlation_id);
    kp_api_versions_response_encode_unsupported(w, api_keys, api_key_count);
    kp_frame_end(w, begin);
}
