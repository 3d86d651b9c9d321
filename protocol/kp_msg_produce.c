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

/* The Produce decoders run once per request on the broker and once per
 * response in the producer: they read through a local cursor instead of
 * the kp_rd_* readers, with the same checks in the same order and the
 * same verdicts — KP_ERR__TRUNCATED for a read past the end, BAD_MSG for a
 * length below -1, a null where none is allowed, a count the bytes left
 * cannot hold, or trailing bytes; NOMEM when the arena refuses. On an
 * error the reader fails (p = end) and topic_count is what the generic
 * readers left: 0 when a topic failed, the count when only what follows
 * the topics did (throttle_time_ms, trailing bytes).
 * tests/unit/protocol/test_msg_produce.c compares both on every
 * truncation and on corrupted bytes of reference messages. */
static kp_err kp_produce__fail(kp_reader *r, kp_err err) {
    kp_rd_fail(r, err);
    return err;
}

/* int16-length string at *pp: len -1 is null (BAD_MSG unless nullable). */
static inline kp_err kp_produce__str(const uint8_t **pp, const uint8_t *end, bool nullable, kp_slice *out) {
    const uint8_t *p = *pp;
    if (end - p < 2)
        return KP_ERR__TRUNCATED;
    int32_t len = (int16_t)kp_be16_get(p);
    p += 2;
    if (len < 0) {
        if (len != -1 || !nullable)
            return KP_ERR__BAD_MSG;
        *out = KP_SLICE_NULL;
    } else {
        if (end - p < len)
            return KP_ERR__TRUNCATED;
        *out = (kp_slice){ p, len };
        p += len;
    }
    *pp = p;
    return KP_ERR_NONE;
}

/* Non-nullable int32 array count at *pp (before end), checked against the
 * bytes left: end - *pp, plus `extra` bytes that follow elsewhere (a
 * gathered body's runs and the bytes after them). */
static inline kp_err kp_produce__count(const uint8_t **pp, const uint8_t *end, size_t extra, size_t min_elem,
                                       int32_t *n) {
    const uint8_t *p = *pp;
    if (end - p < 4)
        return KP_ERR__TRUNCATED;
    int32_t v = (int32_t)kp_be32_get(p);
    p += 4;
    if (v < 0 || (uint64_t)v * min_elem > (uint64_t)(end - p) + extra)
        return KP_ERR__BAD_MSG;
    *n = v;
    *pp = p;
    return KP_ERR_NONE;
}

/* The request body from *pp to end, for both decoders. With runs
 * (kp_produce_request_decode_gathered) the bytes [*pp, end) are the body
 * with runs[0..nruns) cut out of it, run i right after the first
 * runs[i].at bytes from base, and each run must be exactly one partition's
 * records (else BAD_MSG); seg is where the bytes before the next run end,
 * cut the run bytes still to come. Without runs (nruns 0) seg is end and
 * this is the plain decode. *pp advances to end on success. */
static inline __attribute__((always_inline)) kp_err kp_produce__body(const uint8_t *base, const uint8_t **pp, const uint8_t *end, const kp_wr_run *runs,
                               int nruns, kp_arena *a, kp_produce_request *out) {
    const uint8_t *p = *pp;
    int ri = 0;
    size_t cut = 0;
    for (int i = 0; i < nruns; i++)
        cut += runs[i].len;
    const uint8_t *seg = nruns ? base + runs[0].at : end;
    if (seg < p || seg > end)
        return KP_ERR__BAD_MSG;
    kp_err err;
    if ((err = kp_produce__str(&p, seg, true, &out->transactional_id)))
        return err;
    if (seg - p < 2 + 4)
        return KP_ERR__TRUNCATED;
    out->acks = (int16_t)kp_be16_get(p);
    out->timeout_ms = (int32_t)kp_be32_get(p + 2);
    p += 2 + 4;
    int32_t nt;
    if ((err = kp_produce__count(&p, seg, (size_t)(end - seg) + cut, 2 + 4, &nt)))
        return err;
    kp_produce_topic_data *topics = NULL;
    if (nt > 0 && !(topics = kp_arena_calloc(a, (size_t)nt, sizeof *topics)))
        return KP_ERR__NOMEM;
    out->topics = topics;
    for (int32_t i = 0; i < nt; i++) {
        kp_produce_topic_data *t = &topics[i];
        if ((err = kp_produce__str(&p, seg, false, &t->topic)))
            return err;
        int32_t np;
        if ((err = kp_produce__count(&p, seg, (size_t)(end - seg) + cut, 4 + 4, &np)))
            return err;
        kp_produce_partition_data *parts = NULL;
        if (np > 0 && !(parts = kp_arena_calloc(a, (size_t)np, sizeof *parts)))
            return KP_ERR__NOMEM;
        t->partitions = parts;
        for (int32_t j = 0; j < np; j++) {
            if (seg - p < 4 + 4)
                return KP_ERR__TRUNCATED;
            parts[j].partition = (int32_t)kp_be32_get(p);
            int32_t len = (int32_t)kp_be32_get(p + 4);
            p += 4 + 4;
            if (len < 0) {
                if (len != -1)
                    return KP_ERR__BAD_MSG;
                parts[j].records = KP_SLICE_NULL;
            } else if (p == seg && ri < nruns) { /* these records are the next run */
                if (runs[ri].len != (size_t)len)
                    return KP_ERR__BAD_MSG;
                parts[j].records = (kp_slice){ runs[ri].ptr, len };
                cut -= runs[ri].len;
                ri++;
                seg = ri < nruns ? base + runs[ri].at : end;
                if (seg < p || seg > end)
                    return KP_ERR__BAD_MSG;
            } else {
                if (seg - p < len)
                    return KP_ERR__TRUNCATED;
                parts[j].records = (kp_slice){ p, len };
                p += len;
            }
        }
        t->partition_count = np;
    }
    out->topic_count = nt;
    if (ri != nruns || p != end)
        return KP_ERR__BAD_MSG;
    *pp = p;
    return KP_ERR_NONE;
}

kp_err kp_produce_request_decode(kp_reader *r, int16_t version, kp_arena *a, kp_produce_request *out) {
    if (!kp__version_ok(version, KP_PRODUCE_MIN_VERSION, KP_PRODUCE_MAX_VERSION))
        return KP_ERR__UNSUPPORTED;
    *out = (kp_produce_request){ 0 };
    if (r->err)
        return r->err;
    const uint8_t *p = r->p;
    kp_err err = kp_produce__body(p, &p, r->end, NULL, 0, a, out);
    if (err)
        return kp_produce__fail(r, err);
    r->p = p;
    return KP_ERR_NONE;
}

bool kp_produce_request_decode_gathered(const uint8_t *base, const uint8_t *p, const uint8_t *end,
                                        const kp_wr_run *runs, int nruns, int16_t version, kp_arena *a,
                                        kp_produce_request *out) {
    if (!kp__version_ok(version, KP_PRODUCE_MIN_VERSION, KP_PRODUCE_MAX_VERSION))
        return false;
    *out = (kp_produce_request){ 0 };
    return kp_produce__body(base, &p, end, runs, nruns, a, out) == KP_ERR_NONE;
}

/* The response in one store pass when the writer has the room for all of
 * it (the broker's case: a reused buffer): the size first (false when a
 * field the generic path asserts on is out of range), then the bytes with
 * no per-field room test. The same bytes as kp_produce_response_encode's
 * generic path (tests/unit/protocol/test_msg_produce.c compares them). */
static bool kp_produce__response_direct(kp_writer *w, int16_t version, const kp_produce_response *m) {
    const size_t psize = 4 + 2 + 8 + 8 + (version >= 5 ? 8 : 0);
    if (!w->buf || m->topic_count < 0)
        return false;
    size_t need = 4 + 4;
    for (int32_t i = 0; i < m->topic_count; i++) {
        const kp_produce_topic_response *t = &m->topics[i];
        if (t->topic.len < 0 || t->topic.len > INT16_MAX || t->partition_count < 0)
            return false;
        need += 2 + (size_t)t->topic.len + 4 + (size_t)t->partition_count * psize;
    }
    if (w->len > w->cap || need > w->cap - w->len)
        return false;
    uint8_t *p = w->buf + w->len;
    w->len += need;
    kp_be32_put(p, (uint32_t)m->topic_count);
    p += 4;
    for (int32_t i = 0; i < m->topic_count; i++) {
        const kp_produce_topic_response *t = &m->topics[i];
        kp_be16_put(p, (uint16_t)t->topic.len);
        if (t->topic.len)
            memcpy(p + 2, t->topic.ptr, (size_t)t->topic.len);
        p += 2 + (size_t)t->topic.len;
        kp_be32_put(p, (uint32_t)t->partition_count);
        p += 4;
        for (int32_t j = 0; j < t->partition_count; j++) {
            const kp_produce_partition_response *pr = &t->partitions[j];
            kp_be32_put(p, (uint32_t)pr->partition);
            kp_be16_put(p + 4, (uint16_t)pr->error_code);
            kp_be64_put(p + 6, (uint64_t)pr->base_offset);
            kp_be64_put(p + 14, (uint64_t)pr->log_append_time);
            if (version >= 5)
                kp_be64_put(p + 22, (uint64_t)pr->log_start_offset);
            p += psize;
        }
    }
    kp_be32_put(p, (uint32_t)m->throttle_time_ms);
    return true;
}

void kp_produce_response_encode(kp_writer *w, int16_t version, const kp_produce_response *m) {
    assert(kp__version_ok(version, KP_PRODUCE_MIN_VERSION, KP_PRODUCE_MAX_VERSION));
    if (kp_produce__response_direct(w, version, m))
        return;
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
    if (r->err)
        return r->err;
    const uint8_t *p = r->p, *end = r->end;
    const bool v5 = version >= 5;
    const size_t psize = 4 + 2 + 8 + 8 + (v5 ? 8 : 0);
    kp_err err;
    int32_t nt;
    if ((err = kp_produce__count(&p, end, 0, 2 + 4, &nt)))
        return kp_produce__fail(r, err);
    kp_produce_topic_response *topics = NULL;
    if (nt > 0 && !(topics = kp_arena_calloc(a, (size_t)nt, sizeof *topics)))
        return kp_produce__fail(r, KP_ERR__NOMEM);
    out->topics = topics;
    for (int32_t i = 0; i < nt; i++) {
        kp_produce_topic_response *t = &topics[i];
        if ((err = kp_produce__str(&p, end, false, &t->topic)))
            return kp_produce__fail(r, err);
        int32_t np;
        if ((err = kp_produce__count(&p, end, 0, psize, &np)))
            return kp_produce__fail(r, err);
        kp_produce_partition_response *parts = NULL;
        if (np > 0 && !(parts = kp_arena_calloc(a, (size_t)np, sizeof *parts)))
            return kp_produce__fail(r, KP_ERR__NOMEM);
        t->partitions = parts;
        /* fixed-size elements: the count check above proved np * psize
         * bytes are there */
        for (int32_t j = 0; j < np; j++) {
            kp_produce_partition_response *pp = &parts[j];
            pp->partition = (int32_t)kp_be32_get(p);
            pp->error_code = (int16_t)kp_be16_get(p + 4);
            pp->base_offset = (int64_t)kp_be64_get(p + 6);
            pp->log_append_time = (int64_t)kp_be64_get(p + 14);
            pp->log_start_offset = v5 ? (int64_t)kp_be64_get(p + 22) : -1;
            p += psize;
        }
        t->partition_count = np;
    }
    out->topic_count = nt;
    if (end - p < 4)
        return kp_produce__fail(r, KP_ERR__TRUNCATED);
    out->throttle_time_ms = (int32_t)kp_be32_get(p);
    p += 4;
    if (p != end)
        return kp_produce__fail(r, KP_ERR__BAD_MSG);
    r->p = p;
    return KP_ERR_NONE;
}
