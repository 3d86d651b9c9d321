/*
 * bm_handlers.c — one handler per API (KafkaApis.handleXxxRequest of 2.1,
 * reduced to what the mock models). Each turns a decoded request into a
 * response body and hands it to bm__conn_set_response, or leaves a bm_wait
 * behind (acks=all Produce, Fetch below min_bytes) that
 * bm__handler_resume completes.
 *
 * Response bodies are built in the connection's arena (reset per request)
 * or, for waits, from the bm_wait copy of what the request asked; record
 * sets of Fetch responses are concatenated into one malloc'd buffer per
 * response (the stored batches are shared and never modified).
 *
 * Injected errors: every partition (or the top-level error code where
 * the API has one) carries the injected error and nothing is applied.
 */
#include "bm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Topics of a Produce request whose shape bm_handle_produce keeps on the
 * stack (a producer's request names each topic once; most name one). */
#define BM_FEW_TOPICS 4

/* A topic name from a slice, bounded, NUL-terminated into buf. False if
 * it does not fit (then no topic can have that name). */
static bool bm_name(kp_slice s, char *buf, size_t cap) {
    if (s.len < 0 || (size_t)s.len >= cap)
        return false;
    memcpy(buf, s.ptr, (size_t)s.len);
    buf[s.len] = 0;
    return true;
}

static void bm_err_event(bm_conn *conn, const char *topic, int32_t partition, kp_err err,
                         const char *why) {
    kp_event ev = bm__ev(conn->c, BM_EV_ERROR, conn->broker);
    ev.api_key = conn->api_key;
    ev.correlation_id = conn->corr;
    ev.topic = topic;
    ev.partition = partition;
    ev.err = err;
    ev.detail = why;
    bm__emit(conn->c, &ev);
}

/* Copies the topic/partition structure of a request into a bm_wait: one
 * zeroed block, struct | parts | topic_name | topic_first | names
 * [| resp_topics | resp_parts for a Produce], each part aligned for what
 * follows it. The block is the connection's wait_mem, grown when too
 * small and freed with the connection: a connection has at most one
 * request in progress, so at most one wait, and a new one is only built
 * once the last is done with (conn->wait is NULL) — no allocation per
 * request. A Produce wait also carries its response's topic and
 * partition arrays, the topics named and the partitions pointed to here,
 * so that bm_produce_respond only copies the results in. */
static bm_wait *bm_wait_new(bm_conn *conn, int16_t api_key, int32_t ntopics,
                            const kp_slice *topics, const int32_t *parts_per_topic) {
    size_t names = 0;
    int64_t total = 0;
    for (int32_t t = 0; t < ntopics; t++) {
        names += (size_t)(topics[t].len > 0 ? topics[t].len : 0) + 1;
        total += parts_per_topic[t];
    }
    if (ntopics < 0 || total > INT32_MAX)
        return NULL;
    int32_t nparts = (int32_t)total;
    size_t parts_at = (sizeof(bm_wait) + 15) & ~(size_t)15;
    size_t tname_at = parts_at + ((size_t)nparts + 1) * sizeof(bm_wait_part);
    tname_at = (tname_at + 15) & ~(size_t)15;
    size_t tfirst_at = tname_at + ((size_t)ntopics + 1) * sizeof(const char *);
    size_t names_at = tfirst_at + ((size_t)ntopics + 1) * sizeof(int32_t);
    size_t need = names_at + names + 1;
    bool produce = api_key == KP_API_PRODUCE;
    size_t rtopics_at = 0, rparts_at = 0;
    if (produce) {
        rtopics_at = (need + 15) & ~(size_t)15;
        rparts_at = rtopics_at + ((size_t)ntopics + 1) * sizeof(kp_produce_topic_response);
        rparts_at = (rparts_at + 15) & ~(size_t)15;
        need = rparts_at + ((size_t)nparts + 1) * sizeof(kp_produce_partition_response);
    }
    if (need > conn->wait_cap) {
        size_t cap = need < 512 ? 512 : need;
        free(conn->wait_mem);
        conn->wait_cap = 0;
        conn->wait_mem = malloc(cap);
        if (!conn->wait_mem)
            return NULL;
        conn->wait_cap = cap;
    }
    uint8_t *block = conn->wait_mem;
    memset(block, 0, need);
    bm_wait *w = (bm_wait *)block;
    w->api_key = api_key;
    w->ntopics = ntopics;
    w->nparts = nparts;
    w->parts = (bm_wait_part *)(block + parts_at);
    w->topic_name = (const char **)(block + tname_at);
    w->topic_first = (int32_t *)(block + tfirst_at);
    w->names = (char *)(block + names_at);
    if (produce) {
        w->resp_topics = (kp_produce_topic_response *)(block + rtopics_at);
        w->resp_parts = (kp_produce_partition_response *)(block + rparts_at);
    }
    size_t off = 0;
    int32_t k = 0;
    for (int32_t t = 0; t < ntopics; t++) {
        char *name = w->names + off;
        size_t l = (size_t)(topics[t].len > 0 ? topics[t].len : 0);
        if (l)
            memcpy(name, topics[t].ptr, l);
        name[l] = 0;
        off += l + 1;
        w->topic_first[t] = k;
        w->topic_name[t] = name;
        if (produce) { /* the name as the broker uses it: up to a NUL in it */
            /* measured on the request's bytes, not on the copy: strlen's
             * wide load of bytes stored a moment ago cannot be forwarded
             * from those narrow stores and waited for them to reach the
             * cache (1.2-1.8% of the quiet hour's perf samples sat in
             * that strlen of a 5-byte name) */
            const char *nul = l ? memchr(topics[t].ptr, 0, l) : NULL;
            w->resp_topics[t] = (kp_produce_topic_response){
                .topic = { (const uint8_t *)name,
                           (int32_t)(nul ? (size_t)(nul - (const char *)topics[t].ptr) : l) },
                .partition_count = parts_per_topic[t],
                .partitions = w->resp_parts + k,
            };
        }
        for (int32_t p = 0; p < parts_per_topic[t]; p++)
            w->parts[k++].topic = name;
    }
    w->topic_first[ntopics] = k;
    return w;
}

/* ==================================================================== */
/* ApiVersions                                                           */
/* ==================================================================== */

static bool bm_handle_api_versions(bm_conn *conn, const kp_request *req, kp_err injected) {
    (void)req;
    kp_api_versions_response r;
    memset(&r, 0, sizeof r);
    r.error_code = (int16_t)injected;
    if (injected == KP_ERR_NONE) {
        r.api_key_count = kp_api_supported_count;
        r.api_keys = (kp_api_version *)kp_api_supported;
    }
    return bm__conn_set_response(conn, conn->api_key, conn->api_version, &r);
}

/* ==================================================================== */
/* Metadata                                                              */
/* ==================================================================== */

static void bm_md_partition(bm_cluster *c, const bm_partition *p, kp_arena *a,
                            kp_metadata_partition *out) {
    out->partition = p->id;
    out->leader = bm__leader_id(p);
    out->leader_epoch = p->leader_epoch;
    out->error_code = out->leader < 0 ? KP_ERR_LEADER_NOT_AVAILABLE : KP_ERR_NONE;
    out->replicas = kp_arena_calloc(a, (size_t)p->nrep + 1, sizeof(int32_t));
    out->isr = kp_arena_calloc(a, (size_t)p->nrep + 1, sizeof(int32_t));
    out->offline_replicas = kp_arena_calloc(a, (size_t)p->nrep + 1, sizeof(int32_t));
    if (!out->replicas || !out->isr || !out->offline_replicas) {
        out->replica_count = out->isr_count = out->offline_replica_count = 0;
        return;
    }
    for (int32_t r = 0; r < p->nrep; r++) {
        out->replicas[out->replica_count++] = p->rep[r].broker;
        if (p->rep[r].in_isr)
            out->isr[out->isr_count++] = p->rep[r].broker;
        if (!bm_cluster_broker_is_up(c, p->rep[r].broker))
            out->offline_replicas[out->offline_replica_count++] = p->rep[r].broker;
    }
}

static void bm_md_topic(bm_cluster *c, const bm_topic *t, kp_arena *a, kp_metadata_topic *out) {
    out->topic = kp_slice_str(t->name);
    out->error_code = KP_ERR_NONE;
    out->partitions = kp_arena_calloc(a, (size_t)t->npart, sizeof(kp_metadata_partition));
    if (!out->partitions)
        return;
    out->partition_count = t->npart;
    for (int32_t p = 0; p < t->npart; p++)
        bm_md_partition(c, &t->parts[p], a, &out->partitions[p]);
}

static bool bm_handle_metadata(bm_conn *conn, const kp_request *req, kp_err injected) {
    bm_cluster *c = conn->c;
    const kp_metadata_request *m = &req->body.metadata;
    kp_arena *a = conn->arena;
    kp_metadata_response r;
    memset(&r, 0, sizeof r);
    r.brokers = kp_arena_calloc(a, (size_t)c->conf.brokers, sizeof(kp_metadata_broker));
    if (!r.brokers)
        return false;
    r.controller_id = -1;
    for (int32_t b = 0; b < c->conf.brokers; b++) {
        if (!c->brokers[b].up)
            continue;
        kp_metadata_broker *mb = &r.brokers[r.broker_count++];
        mb->node_id = b;
        mb->host = kp_slice_str(c->conf.host);
        mb->port = c->conf.port_base + b;
        mb->rack = KP_SLICE_NULL;
        if (r.controller_id < 0)
            r.controller_id = b;
    }
    r.cluster_id = kp_slice_str(c->conf.cluster_id);
    int32_t n = m->topic_count < 0 ? c->ntopics : m->topic_count;
    r.topics = kp_arena_calloc(a, (size_t)n + 1, sizeof(kp_metadata_topic));
    if (!r.topics)
        return false;
    r.topic_count = n;
    for (int32_t i = 0; i < n; i++) {
        kp_metadata_topic *mt = &r.topics[i];
        if (m->topic_count < 0) {
            bm_md_topic(c, &c->topics[i], a, mt);
            continue;
        }
        kp_slice name = m->topics[i];
        mt->topic = name;
        char buf[256];
        bm_topic *t = bm_name(name, buf, sizeof buf) ? bm__topic(c, buf) : NULL;
        if (injected != KP_ERR_NONE) {
            mt->error_code = (int16_t)injected;
            continue;
        }
        if (t) {
            bm_md_topic(c, t, a, mt);
            mt->topic = name;
            continue;
        }
        if (m->allow_auto_topic_creation && c->conf.auto_create_topics && name.len > 0) {
            kp_err e = bm__auto_create(c, (const char *)name.ptr, (size_t)name.len);
            /* KafkaApis.createTopic: the answer that created it says
             * LEADER_NOT_AVAILABLE with no partitions. */
            mt->error_code = (int16_t)(e == KP_ERR_NONE ? KP_ERR_LEADER_NOT_AVAILABLE : e);
        } else {
            mt->error_code = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
    }
    if (injected != KP_ERR_NONE && m->topic_count < 0)
        for (int32_t i = 0; i < n; i++) {
            r.topics[i].error_code = (int16_t)injected;
            r.topics[i].partition_count = 0;
        }
    return bm__conn_set_response(conn, conn->api_key, conn->api_version, &r);
}

/* ==================================================================== */
/* Produce                                                               */
/* ==================================================================== */

/* The response from the wait's results, in the arrays bm_wait_new laid
 * out for it (no allocation; the request's arena is left alone). */
static bool bm_produce_respond(bm_conn *conn, bm_wait *w) {
    for (int32_t k = 0; k < w->nparts; k++) {
        const bm_wait_part *wp = &w->parts[k];
        w->resp_parts[k] = (kp_produce_partition_response){
            .partition = wp->partition,
            .error_code = (int16_t)wp->err,
            .base_offset = wp->base_offset,
            .log_append_time = wp->log_append_time,
            .log_start_offset = wp->log_start_offset,
        };
    }
    kp_produce_response r = {
        .topic_count = w->ntopics,
        .topics = w->resp_topics,
        .throttle_time_ms = w->throttle_ms,
    };
    return bm__conn_set_response(conn, KP_API_PRODUCE, conn->api_version, &r);
}

static bool bm_handle_produce(bm_conn *conn, const kp_request *req, kp_err injected,
                              const char **reason) {
    bm_cluster *c = conn->c;
    const kp_produce_request *m = &req->body.produce;
    kp_time_us now = bm__now(c);
    int32_t nt = m->topic_count > 0 ? m->topic_count : 0;
    /* the request's shape for bm_wait_new: on the stack for the usual
     * handful of topics, else in the request's arena */
    kp_slice names_few[BM_FEW_TOPICS] = { { 0 } };
    int32_t counts_few[BM_FEW_TOPICS] = { 0 };
    bool few = nt <= BM_FEW_TOPICS;
    kp_slice *names = few ? names_few : kp_arena_calloc(conn->arena, (size_t)nt, sizeof(kp_slice));
    int32_t *counts = few ? counts_few : kp_arena_calloc(conn->arena, (size_t)nt, sizeof(int32_t));
    if (!names || !counts)
        return false;
    for (int32_t t = 0; t < nt; t++) {
        names[t] = m->topics[t].topic;
        counts[t] = m->topics[t].partition_count > 0 ? m->topics[t].partition_count : 0;
    }
    bm_wait *w = bm_wait_new(conn, KP_API_PRODUCE, nt, names, counts);
    if (!w)
        return false;
    int64_t bytes = 0;
    uint64_t gen0 = c->ack_gen; /* see the acks=all wait below */
    bool any_pending = false, any_error = false;
    kp_err first_err = KP_ERR_NONE;
    for (int32_t t = 0; t < nt; t++) {
        const kp_produce_topic_data *td = &m->topics[t];
        /* the topic by name once for all its partitions (bm__partition),
         * the name up to a NUL in it (the response's length) read in the
         * request (bm__topic_index_n) */
        int32_t ti = counts[t] > 0 ? bm__topic_index_n(c, td->topic.ptr, (size_t)w->resp_topics[t].topic.len) : -1;
        bm_topic *topic = ti < 0 ? NULL : &c->topics[ti];
        for (int32_t p = 0; p < counts[t]; p++) {
            bm_wait_part *wp = &w->parts[w->topic_first[t] + p];
            const kp_produce_partition_data *pd = &td->partitions[p];
            wp->partition = pd->partition;
            bm_partition *part = topic && pd->partition >= 0 && pd->partition < topic->npart
                                     ? &topic->parts[pd->partition] : NULL;
            wp->part = part;
            wp->base_offset = -1;
            wp->log_append_time = -1;
            wp->log_start_offset = -1;
            if (injected != KP_ERR_NONE) {
                /* KAFKA_STORAGE_ERROR exists from Produce v4 on */
                wp->err = injected == KP_ERR_KAFKA_STORAGE_ERROR && conn->api_version < 4
                              ? KP_ERR_NOT_LEADER_FOR_PARTITION : injected;
                bm_err_event(conn, wp->topic, wp->partition, wp->err, "injected");
            } else if (pd->records.len < 0) {
                wp->err = KP_ERR_CORRUPT_MESSAGE;
                bm_err_event(conn, wp->topic, wp->partition, wp->err, "null record set");
            } else {
                bytes += pd->records.len;
                bm_produce_result res;
                bm__produce(c, part, conn->broker, wp->topic, wp->partition,
                            m->acks, conn->api_version, pd->records.ptr,
                            (size_t)pd->records.len, &res);
                wp->err = res.err;
                wp->base_offset = res.base_offset;
                wp->log_append_time = res.log_append_time;
                wp->log_start_offset = res.log_start_offset;
                wp->pending = res.pending;
                wp->required_offset = res.required_offset;
                wp->leader_epoch = res.leader_epoch;
                any_pending |= res.pending;
            }
            if (wp->err != KP_ERR_NONE && !any_error) {
                any_error = true;
                first_err = wp->err;
            }
        }
    }
    /* ClientQuotaManager: throttle by produced bytes per client id.
     * KafkaApis 2.1 sends the response at once (any version) with
     * throttle_time_ms and mutes the channel for the throttle time: no
     * further request of this connection is read before it ends. */
    int32_t throttle = bm__quota_record(c, req->hdr.client_id.len > 0 ? (const char *)req->hdr.client_id.ptr : "",
                                        req->hdr.client_id.len > 0 ? (size_t)req->hdr.client_id.len : 0,
                                        bytes);
    w->throttle_ms = m->acks == 0 ? 0 : throttle;
    if (throttle > 0) {
        kp_event ev = bm__ev(c, BM_EV_THROTTLE, conn->broker);
        ev.api_key = KP_API_PRODUCE;
        ev.correlation_id = conn->corr;
        ev.value = throttle;
        bm__emit(c, &ev);
        conn->mute_until_us = now + (kp_time_us)throttle * 1000;
        bm__wakeup(c);
    }
    if (m->acks == 0) {
        /* KafkaApis 2.1: acks=0 has no response; on an error the broker
         * closes the connection so the client refreshes its metadata. */
        if (any_error) {
            static char why[96];
            snprintf(why, sizeof why, "acks=0 Produce failed with %s: closing as Kafka does",
                     kp_err_name(first_err));
            *reason = why;
            return false;
        }
        conn->no_response = true;
        return true;
    }
    if (any_pending) {
        /* bm_conn's pump resumes the wait right after this returns (at
         * the same time, nothing in between): the first check is there.
         * Each pending partition was waiting when its append answered
         * (leader and epoch as asked, HW below the batch's end); when
         * nothing a check reads has moved since (ack_gen), that check
         * would find them all still waiting: it is marked done as the
         * resume marks it (seen_gen), and the resume skips it before its
         * deadline (bm__conn_waits_unchanged). */
        conn->wait = w;
        conn->wait_deadline_us = now + (kp_time_us)(m->timeout_ms > 0 ? m->timeout_ms : 0) * 1000;
        if (c->ack_gen == gen0)
            w->seen_gen = gen0 + 1;
        return true;
    }
    bool ok = bm_produce_respond(conn, w);
    return ok;
}

/* DelayedProduce.tryComplete / onExpiration */
static void bm_produce_resume(bm_conn *conn, kp_time_us now) {
    bm_wait *w = conn->wait;
    /* nothing a wait checks has moved since it last found a partition
     * still waiting: it would find the same, before its deadline */
    if (bm__conn_waits_unchanged(conn, now))
        return;
    w->seen_gen = 0;
    uint64_t gen = conn->c->ack_gen;
    bool waiting = false;
    for (int32_t k = 0; k < w->nparts; k++) {
        bm_wait_part *wp = &w->parts[k];
        if (!wp->pending)
            continue;
        /* the partition by name once (partitions live as long as the
         * cluster), then bm_cluster_acks_check's test on it */
        if (!wp->part)
            wp->part = bm__partition(conn->c, wp->topic, wp->partition);
        kp_err e = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        if (wp->part &&
            !bm__acks_check_part(conn->c, wp->part, wp->required_offset, wp->leader_epoch, &e)) {
            waiting = true;
            continue;
        }
        wp->pending = false;
        wp->err = e;
        if (e != KP_ERR_NONE) {
            wp->base_offset = -1;
            bm_err_event(conn, wp->topic, wp->partition, e, "acks=all completion");
        }
    }
    if (waiting && now < conn->wait_deadline_us) {
        w->seen_gen = gen + 1;
        return;
    }
    for (int32_t k = 0; k < w->nparts; k++) {
        bm_wait_part *wp = &w->parts[k];
        if (wp->pending) {
            wp->pending = false;
            wp->err = KP_ERR_REQUEST_TIMED_OUT;
            wp->base_offset = -1;
            bm_err_event(conn, wp->topic, wp->partition, wp->err,
                         "acks=all: ISR did not reach the batch within timeout");
        }
    }
    bm_produce_respond(conn, w);
    conn->wait = NULL;
}

/* ==================================================================== */
/* ListOffsets                                                           */
/* ==================================================================== */

static bool bm_handle_list_offsets(bm_conn *conn, const kp_request *req, kp_err injected) {
    bm_cluster *c = conn->c;
    const kp_list_offsets_request *m = &req->body.list_offsets;
    kp_arena *a = conn->arena;
    kp_list_offsets_response r;
    memset(&r, 0, sizeof r);
    r.topic_count = m->topic_count > 0 ? m->topic_count : 0;
    r.topics = kp_arena_calloc(a, (size_t)r.topic_count + 1, sizeof(kp_list_offsets_topic_response));
    if (!r.topics)
        return false;
    for (int32_t t = 0; t < r.topic_count; t++) {
        const kp_list_offsets_topic *tq = &m->topics[t];
        kp_list_offsets_topic_response *tr = &r.topics[t];
        tr->topic = tq->topic;
        tr->partition_count = tq->partition_count > 0 ? tq->partition_count : 0;
        tr->partitions = kp_arena_calloc(a, (size_t)tr->partition_count + 1,
                                         sizeof(kp_list_offsets_partition_response));
        if (!tr->partitions)
            return false;
        char name[256];
        bool named = bm_name(tq->topic, name, sizeof name);
        for (int32_t k = 0; k < tr->partition_count; k++) {
            kp_list_offsets_partition_response *pr = &tr->partitions[k];
            pr->partition = tq->partitions[k].partition;
            pr->timestamp = -1;
            pr->offset = -1;
            bm_partition *p = named ? bm__partition(c, name, pr->partition) : NULL;
            kp_err e = KP_ERR_NONE;
            if (injected != KP_ERR_NONE)
                e = injected;
            else if (!p)
                e = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            else if (bm__leader_id(p) != conn->broker)
                e = KP_ERR_NOT_LEADER_FOR_PARTITION;
            if (e != KP_ERR_NONE) {
                pr->error_code = (int16_t)e;
                bm_err_event(conn, named ? name : NULL, pr->partition, e, "list offsets");
                continue;
            }
            int64_t ts = tq->partitions[k].timestamp;
            int64_t limit = m->isolation_level == KP_ISOLATION_READ_COMMITTED ? bm__lso(p) : p->hw;
            if (ts == KP_LIST_OFFSETS_EARLIEST) {
                pr->offset = p->log_start;
            } else if (ts == KP_LIST_OFFSETS_LATEST) {
                pr->offset = limit;
            } else if (ts <= p->fold_max_ts && p->fold_off > p->log_start) {
                /* the answer is in the folded prefix, whose batches are
                 * gone (a simulation's digested log, see bm_int.h) */
                pr->error_code = KP_ERR_KAFKA_STORAGE_ERROR;
                bm_err_event(conn, name, pr->partition, KP_ERR_KAFKA_STORAGE_ERROR,
                             "list offsets");
            } else {
                /* First batch holding a timestamp >= ts, below the HW. */
                bm_replica *l = bm__leader_rep(p);
                for (size_t i = 0; i < l->n; i++) {
                    const bm_batch *b = l->log[i];
                    if (b->last_offset >= limit)
                        break;
                    if (b->max_timestamp >= ts && b->ctrl_type < 0) {
                        pr->offset = b->base_offset;
                        pr->timestamp = b->max_timestamp;
                        break;
                    }
                }
            }
        }
    }
    return bm__conn_set_response(conn, KP_API_LIST_OFFSETS, conn->api_version, &r);
}

/* ==================================================================== */
/* Fetch                                                                 */
/* ==================================================================== */

/* Builds the Fetch response from the current logs; returns the record
 * bytes it would carry. With build=false only counts. */
static int64_t bm_fetch_build(bm_conn *conn, bm_wait *w, bool build, bool *ok) {
    bm_cluster *c = conn->c;
    kp_arena *a = conn->arena;
    *ok = true;
    int64_t total = 0;
    int64_t budget = w->max_bytes > 0 ? w->max_bytes : INT32_MAX;
    kp_fetch_response r;
    memset(&r, 0, sizeof r);
    uint8_t *recbuf = NULL;
    size_t recbuf_len = 0, recbuf_cap = 0;
    /* offsets into recbuf per part, resolved after concatenation */
    size_t *rec_off = NULL, *rec_len = NULL;
    if (build) {
        kp_arena_reset(a);
        r.throttle_time_ms = w->throttle_ms;
        r.topic_count = w->ntopics;
        r.topics = kp_arena_calloc(a, (size_t)w->ntopics + 1, sizeof(kp_fetch_topic_response));
        rec_off = kp_arena_calloc(a, (size_t)w->nparts + 1, sizeof(size_t));
        rec_len = kp_arena_calloc(a, (size_t)w->nparts + 1, sizeof(size_t));
        if (!r.topics || !rec_off || !rec_len) {
            *ok = false;
            return 0;
        }
    }
    for (int32_t t = 0; t < w->ntopics; t++) {
        int32_t first = w->topic_first[t], last = w->topic_first[t + 1];
        kp_fetch_topic_response *tr = build ? &r.topics[t] : NULL;
        if (tr) {
            tr->topic = kp_slice_str(w->topic_name[t]);
            tr->partition_count = last - first;
            tr->partitions = kp_arena_calloc(a, (size_t)(last - first) + 1,
                                             sizeof(kp_fetch_partition_response));
            if (!tr->partitions) {
                *ok = false;
                free(recbuf);
                return 0;
            }
        }
        for (int32_t k = first; k < last; k++) {
            bm_wait_part *wp = &w->parts[k];
            kp_fetch_partition_response *pr = tr ? &tr->partitions[k - first] : NULL;
            bm_partition *p = bm__partition(c, wp->topic, wp->partition);
            kp_err e = wp->err;
            if (e == KP_ERR_NONE) {
                if (!p)
                    e = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                else if (bm__leader_id(p) != conn->broker)
                    e = KP_ERR_NOT_LEADER_FOR_PARTITION;
                else if (wp->current_leader_epoch >= 0 && wp->current_leader_epoch < p->leader_epoch)
                    e = KP_ERR_FENCED_LEADER_EPOCH;
                else if (wp->current_leader_epoch > p->leader_epoch)
                    e = KP_ERR_UNKNOWN_LEADER_EPOCH;
                else if (wp->fetch_offset < p->log_start ||
                         wp->fetch_offset > bm__leader_rep(p)->leo)
                    e = KP_ERR_OFFSET_OUT_OF_RANGE;
                else if (c->digest_fn)
                    e = KP_ERR_KAFKA_STORAGE_ERROR; /* digested logs: no bytes to serve */
            }
            if (pr) {
                pr->partition = wp->partition;
                pr->error_code = (int16_t)e;
                pr->high_watermark = p ? p->hw : -1;
                pr->last_stable_offset = p ? bm__lso(p) : -1;
                pr->log_start_offset = p ? p->log_start : -1;
                pr->aborted_transaction_count = -1;
                pr->records = KP_SLICE_NULL;
                if (e != KP_ERR_NONE) {
                    pr->high_watermark = e == KP_ERR_OFFSET_OUT_OF_RANGE ? p->hw : -1;
                    pr->last_stable_offset = e == KP_ERR_OFFSET_OUT_OF_RANGE ? bm__lso(p) : -1;
                    if (e != KP_ERR_OFFSET_OUT_OF_RANGE)
                        pr->log_start_offset = -1;
                    bm_err_event(conn, wp->topic, wp->partition, e, "fetch");
                }
            }
            if (e != KP_ERR_NONE)
                continue;
            bm_replica *l = bm__leader_rep(p);
            int64_t limit = w->isolation == KP_ISOLATION_READ_COMMITTED ? bm__lso(p) : p->hw;
            int64_t part_budget = wp->max_bytes > 0 ? wp->max_bytes : INT32_MAX;
            /* first batch holding fetch_offset */
            size_t lo = 0, hi = l->n;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (l->log[mid]->last_offset < wp->fetch_offset)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            int64_t used = 0, upper = wp->fetch_offset;
            if (build)
                rec_off[k] = recbuf_len;
            for (size_t i = lo; i < l->n; i++) {
                const bm_batch *b = l->log[i];
                if (b->last_offset >= limit)
                    break;
                /* KIP-74: the first batch goes even if larger than the limits. */
                if ((used > 0 || total > 0) &&
                    (used + b->len > part_budget || total + b->len > budget))
                    break;
                used += b->len;
                total += b->len;
                upper = b->last_offset + 1;
                if (build) {
                    if (recbuf_len + b->len > recbuf_cap) {
                        size_t nc = recbuf_cap ? recbuf_cap * 2 : 65536;
                        while (nc < recbuf_len + b->len)
                            nc *= 2;
                        uint8_t *np = realloc(recbuf, nc);
                        if (!np) {
                            *ok = false;
                            free(recbuf);
                            return 0;
                        }
                        recbuf = np;
                        recbuf_cap = nc;
                    }
                    memcpy(recbuf + recbuf_len, b->bytes, b->len);
                    recbuf_len += b->len;
                }
            }
            if (build) {
                rec_len[k] = recbuf_len - rec_off[k];
                if (w->isolation == KP_ISOLATION_READ_COMMITTED) {
                    /* Log.collectAbortedTransactions over [fetch_offset, upper) */
                    int32_t na = 0;
                    for (size_t i = 0; i < p->naborted; i++)
                        if (p->aborted[i].last_offset >= wp->fetch_offset &&
                            p->aborted[i].first_offset < upper)
                            na++;
                    pr->aborted_transaction_count = na;
                    pr->aborted_transactions =
                        kp_arena_calloc(a, (size_t)na + 1, sizeof(kp_fetch_aborted_transaction));
                    if (!pr->aborted_transactions) {
                        *ok = false;
                        free(recbuf);
                        return 0;
                    }
                    na = 0;
                    for (size_t i = 0; i < p->naborted; i++)
                        if (p->aborted[i].last_offset >= wp->fetch_offset &&
                            p->aborted[i].first_offset < upper)
                            pr->aborted_transactions[na++] =
                                (kp_fetch_aborted_transaction){ p->aborted[i].pid,
                                                                p->aborted[i].first_offset };
                }
            }
        }
    }
    if (build) {
        for (int32_t t = 0; t < w->ntopics; t++)
            for (int32_t k = w->topic_first[t]; k < w->topic_first[t + 1]; k++) {
                kp_fetch_partition_response *pr = &r.topics[t].partitions[k - w->topic_first[t]];
                if (pr->error_code == KP_ERR_NONE)
                    pr->records = (kp_slice){ recbuf ? recbuf + rec_off[k] : (const uint8_t *)"",
                                              (int32_t)rec_len[k] };
            }
        *ok = bm__conn_set_response(conn, KP_API_FETCH, conn->api_version, &r);
        free(recbuf);
    }
    return total;
}

static bool bm_handle_fetch(bm_conn *conn, const kp_request *req, kp_err injected) {
    const kp_fetch_request *m = &req->body.fetch;
    int32_t nt = m->topic_count > 0 ? m->topic_count : 0;
    kp_slice *names = kp_arena_calloc(conn->arena, (size_t)nt + 1, sizeof(kp_slice));
    int32_t *counts = kp_arena_calloc(conn->arena, (size_t)nt + 1, sizeof(int32_t));
    if (!names || !counts)
        return false;
    for (int32_t t = 0; t < nt; t++) {
        names[t] = m->topics[t].topic;
        counts[t] = m->topics[t].partition_count > 0 ? m->topics[t].partition_count : 0;
    }
    bm_wait *w = bm_wait_new(conn, KP_API_FETCH, nt, names, counts);
    if (!w)
        return false;
    w->min_bytes = m->min_bytes;
    w->max_bytes = m->max_bytes;
    w->isolation = m->isolation_level;
    for (int32_t t = 0; t < nt; t++)
        for (int32_t p = 0; p < counts[t]; p++) {
            bm_wait_part *wp = &w->parts[w->topic_first[t] + p];
            const kp_fetch_partition *fp = &m->topics[t].partitions[p];
            wp->partition = fp->partition;
            wp->fetch_offset = fp->fetch_offset;
            wp->max_bytes = fp->partition_max_bytes;
            wp->current_leader_epoch = fp->current_leader_epoch;
            wp->err = injected;
        }
    bool ok = true;
    int64_t bytes = bm_fetch_build(conn, w, false, &ok);
    if (injected == KP_ERR_NONE && bytes < m->min_bytes && m->max_wait_ms > 0) {
        /* DelayedFetch: wait for min_bytes or max_wait_ms. */
        conn->wait = w;
        conn->wait_deadline_us = bm__now(conn->c) + (kp_time_us)m->max_wait_ms * 1000;
        return true;
    }
    bm_fetch_build(conn, w, true, &ok);
    return ok;
}

static void bm_fetch_resume(bm_conn *conn, kp_time_us now) {
    bm_wait *w = conn->wait;
    bool ok = true;
    int64_t bytes = bm_fetch_build(conn, w, false, &ok);
    if (bytes < w->min_bytes && now < conn->wait_deadline_us)
        return;
    bm_fetch_build(conn, w, true, &ok);
    conn->wait = NULL;
}

/* ==================================================================== */
/* Coordinator APIs                                                      */
/* ==================================================================== */

static bool bm_handle_find_coordinator(bm_conn *conn, const kp_request *req, kp_err injected) {
    bm_cluster *c = conn->c;
    const kp_find_coordinator_request *m = &req->body.find_coordinator;
    kp_find_coordinator_response r;
    memset(&r, 0, sizeof r);
    r.error_message = KP_SLICE_NULL;
    r.node_id = -1;
    r.host = kp_slice_str("");
    r.port = -1;
    kp_err e = injected;
    if (e == KP_ERR_NONE) {
        if (m->key_type != KP_COORDINATOR_TRANSACTION) {
            e = KP_ERR_COORDINATOR_NOT_AVAILABLE; /* no group coordinator in the mock */
        } else {
            int32_t b = bm__txn_coordinator(c, (const char *)m->key.ptr,
                                            m->key.len > 0 ? (size_t)m->key.len : 0);
            if (b < 0) {
                e = KP_ERR_COORDINATOR_NOT_AVAILABLE;
            } else {
                r.node_id = b;
                r.host = kp_slice_str(c->conf.host);
                r.port = c->conf.port_base + b;
            }
        }
    }
    r.error_code = (int16_t)e;
    if (e != KP_ERR_NONE)
        bm_err_event(conn, NULL, -1, e, "find coordinator");
    return bm__conn_set_response(conn, KP_API_FIND_COORDINATOR, conn->api_version, &r);
}

static bool bm_handle_init_pid(bm_conn *conn, const kp_request *req, kp_err injected) {
    const kp_init_producer_id_request *m = &req->body.init_producer_id;
    kp_init_producer_id_response r;
    memset(&r, 0, sizeof r);
    r.producer_id = -1;
    r.producer_epoch = -1;
    kp_err e = injected;
    if (e == KP_ERR_NONE)
        e = bm__txn_init_pid(conn->c, conn->broker,
                             m->transactional_id.len >= 0 ? (const char *)m->transactional_id.ptr : NULL,
                             m->transactional_id.len > 0 ? (size_t)m->transactional_id.len : 0,
                             m->transaction_timeout_ms, &r.producer_id, &r.producer_epoch);
    r.error_code = (int16_t)e;
    if (e != KP_ERR_NONE) {
        r.producer_id = -1;
        r.producer_epoch = -1;
        bm_err_event(conn, NULL, -1, e, "init producer id");
    }
    return bm__conn_set_response(conn, KP_API_INIT_PRODUCER_ID, conn->api_version, &r);
}

static bool bm_handle_add_partitions(bm_conn *conn, const kp_request *req, kp_err injected) {
    bm_cluster *c = conn->c;
    const kp_add_partitions_to_txn_request *m = &req->body.add_partitions_to_txn;
    kp_arena *a = conn->arena;
    kp_add_partitions_to_txn_response r;
    memset(&r, 0, sizeof r);
    r.topic_count = m->topic_count > 0 ? m->topic_count : 0;
    r.topics = kp_arena_calloc(a, (size_t)r.topic_count + 1,
                               sizeof(kp_add_partitions_to_txn_topic_result));
    if (!r.topics)
        return false;
    const char *id = (const char *)m->transactional_id.ptr;
    size_t idlen = m->transactional_id.len > 0 ? (size_t)m->transactional_id.len : 0;
    kp_err top = injected;
    bm_txn *txn = NULL;
    if (top == KP_ERR_NONE && bm__txn_coordinator(c, id, idlen) != conn->broker)
        top = KP_ERR_NOT_COORDINATOR;
    if (top == KP_ERR_NONE)
        top = bm__txn_check(c, id, idlen, m->producer_id, m->producer_epoch, false, &txn);
    /* KafkaApis: unknown partitions fail, the rest OPERATION_NOT_ATTEMPTED. */
    bool any_unknown = false;
    for (int32_t t = 0; t < r.topic_count; t++) {
        const kp_add_partitions_to_txn_topic *tq = &m->topics[t];
        char name[256];
        bool named = bm_name(tq->topic, name, sizeof name);
        for (int32_t k = 0; k < tq->partition_count; k++)
            if (!named || !bm__partition(c, name, tq->partitions[k]))
                any_unknown = true;
    }
    for (int32_t t = 0; t < r.topic_count; t++) {
        const kp_add_partitions_to_txn_topic *tq = &m->topics[t];
        kp_add_partitions_to_txn_topic_result *tr = &r.topics[t];
        tr->topic = tq->topic;
        tr->partition_count = tq->partition_count > 0 ? tq->partition_count : 0;
        tr->partitions = kp_arena_calloc(a, (size_t)tr->partition_count + 1,
                                         sizeof(kp_add_partitions_to_txn_partition_result));
        if (!tr->partitions)
            return false;
        char name[256];
        bool named = bm_name(tq->topic, name, sizeof name);
        for (int32_t k = 0; k < tr->partition_count; k++) {
            int32_t part = tq->partitions[k];
            kp_err e = top;
            if (e == KP_ERR_NONE && any_unknown)
                e = (!named || !bm__partition(c, name, part)) ? KP_ERR_UNKNOWN_TOPIC_OR_PARTITION
                                                              : KP_ERR_OPERATION_NOT_ATTEMPTED;
            if (e == KP_ERR_NONE)
                bm__txn_add_partition(c, txn, bm__topic_index(c, name), part);
            else
                bm_err_event(conn, named ? name : NULL, part, e, "add partitions to txn");
            tr->partitions[k] = (kp_add_partitions_to_txn_partition_result){ part, (int16_t)e };
        }
    }
    return bm__conn_set_response(conn, KP_API_ADD_PARTITIONS_TO_TXN, conn->api_version, &r);
}

static bool bm_handle_end_txn(bm_conn *conn, const kp_request *req, kp_err injected) {
    bm_cluster *c = conn->c;
    const kp_end_txn_request *m = &req->body.end_txn;
    kp_end_txn_response r;
    memset(&r, 0, sizeof r);
    const char *id = (const char *)m->transactional_id.ptr;
    size_t idlen = m->transactional_id.len > 0 ? (size_t)m->transactional_id.len : 0;
    kp_err e = injected;
    if (e == KP_ERR_NONE && bm__txn_coordinator(c, id, idlen) != conn->broker)
        e = KP_ERR_NOT_COORDINATOR;
    if (e == KP_ERR_NONE)
        e = bm__txn_end(c, id, idlen, m->producer_id, m->producer_epoch, m->committed);
    r.error_code = (int16_t)e;
    if (e != KP_ERR_NONE)
        bm_err_event(conn, NULL, -1, e, "end txn");
    return bm__conn_set_response(conn, KP_API_END_TXN, conn->api_version, &r);
}

/* ==================================================================== */
/* Dispatch                                                              */
/* ==================================================================== */

bool bm__handle(bm_conn *conn, const kp_request *req, kp_err injected, const char **reason) {
    *reason = NULL;
    bool ok;
    switch (req->hdr.api_key) {
    case KP_API_API_VERSIONS: ok = bm_handle_api_versions(conn, req, injected); break;
    case KP_API_METADATA: ok = bm_handle_metadata(conn, req, injected); break;
    case KP_API_PRODUCE: ok = bm_handle_produce(conn, req, injected, reason); break;
    case KP_API_LIST_OFFSETS: ok = bm_handle_list_offsets(conn, req, injected); break;
    case KP_API_FETCH: ok = bm_handle_fetch(conn, req, injected); break;
    case KP_API_FIND_COORDINATOR: ok = bm_handle_find_coordinator(conn, req, injected); break;
    case KP_API_INIT_PRODUCER_ID: ok = bm_handle_init_pid(conn, req, injected); break;
    case KP_API_ADD_PARTITIONS_TO_TXN: ok = bm_handle_add_partitions(conn, req, injected); break;
    case KP_API_END_TXN: ok = bm_handle_end_txn(conn, req, injected); break;
    default:
        *reason = "API decoded by protocol/ but not handled by broker_mock";
        return false;
    }
    if (!ok && !*reason)
        *reason = "out of memory building the response";
    return ok;
}

void bm__handler_resume(bm_conn *conn, kp_time_us now) {
    if (!conn->wait)
        return;
    if (conn->wait->api_key == KP_API_PRODUCE)
        bm_produce_resume(conn, now);
    else
        bm_fetch_resume(conn, now);
}
