/*
 * fake_broker.c — the scripted Kafka peer of fake_broker.h.
 */
#include "fake_broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_arena.h"
#include "kp_proto.h"
#include "kp_record_batch.h"

typedef struct fb_frame {
    uint8_t *p;
    size_t len;
} fb_frame;

/* A request written with sendv_keep while the node's requests are held:
 * its pieces in order, each pointing either at the writer's memory (lent,
 * own NULL) or at a copy this world owns (own == ptr). */
typedef struct fb_lent_req {
    int n;
    const uint8_t **ptr;
    size_t *len;
    uint8_t **own;
} fb_lent_req;

struct kp_conn {
    fb_world *w;
    int32_t node;
    kp_conn_state state;
    bool released;
    kp_conn_cb *cb;
    void *cb_ctx;
    uint8_t *in;
    size_t in_len, in_cap;
    uint8_t *out;
    size_t out_len, out_off, out_cap;
    fb_frame held[256];
    int nheld;
    fb_lent_req lent[64];
    int nlent;
    size_t send_budget;   /* bytes send() still accepts (partial writes) */
};

typedef struct fb_batch_rec {
    int64_t pid;
    int32_t first_seq, last_seq;
    int64_t offset;
} fb_batch_rec;

typedef struct fb_part {
    int32_t leader;
    int nvalues;
    char *values[FB_MAX_LOG];
    uint8_t txn_state[FB_MAX_LOG]; /* FB_TXN_NONE / OPEN / COMMITTED / ABORTED */
    int16_t inject_err;
    int inject_times;
    int64_t inject_log_start;
    /* producer state (one producer at a time is enough for the tests) */
    bool has_producer;
    int64_t pid;
    int16_t epoch;
    int32_t last_seq;
    fb_batch_rec window[5];
    int nwindow;
    int64_t log_start;
} fb_part;

typedef struct fb_topic {
    char name[32];
    int nparts;
    int16_t error;
    fb_part parts[FB_MAX_PARTS];
} fb_topic;

typedef struct fb_node {
    int32_t id;
    char host[16];
    bool refuse, hold_connect, hold, blackhole, hold_requests;
    int32_t throttle_ms;
    int16_t api_max[64];
    kp_conn *live;
    int connects;
} fb_node;

struct fb_world {
    int64_t now_us;
    int wakeups;
    fb_node nodes[FB_MAX_NODES];
    int nnodes;
    fb_topic topics[FB_MAX_TOPICS];
    int ntopics;
    kp_conn *conns[512];
    int nconns;
    size_t recv_chunk;
    int recv_calls;       /* transport recv() calls, for fb_recv_calls */
    size_t send_window;   /* bytes accepted per fb_writable (SIZE_MAX: all) */
    int sendv_calls;      /* transport sendv() calls, for fb_sendv_calls */
    int reclaims;         /* transport reclaim() calls, for fb_reclaims */
    int sendv_gathered;   /* ... of them with more than one piece */
    int32_t message_max_bytes;
    bool idem_checks;
    int16_t init_pid_err;
    int init_pid_times;
    int64_t next_pid;
    /* transactions: one transactional.id */
    int32_t coordinator;        /* -1: the first node */
    int16_t api_err[64];
    int api_err_times[64];
    bool has_txn_pid;
    int64_t txn_pid;
    int16_t txn_epoch;
    int txn_nparts;             /* partitions added to the open transaction */
    int txn_commits, txn_aborts;
    fb_req reqs[FB_MAX_REQS];
    int nreqs;
    kp_arena *arena;
};

/* ------------------------------------------------------------------ */

static fb_node *fb_node_by_id(fb_world *w, int32_t id) {
    for (int i = 0; i < w->nnodes; i++)
        if (w->nodes[i].id == id)
            return &w->nodes[i];
    return NULL;
}

static fb_topic *fb_topic_by_name(const fb_world *w, const char *name, size_t len) {
    for (int i = 0; i < w->ntopics; i++)
        if (strlen(w->topics[i].name) == len && memcmp(w->topics[i].name, name, len) == 0)
            return (fb_topic *)&w->topics[i];
    return NULL;
}

static void fb_grow(uint8_t **p, size_t *cap, size_t need) {
    if (need <= *cap)
        return;
    size_t n = *cap ? *cap : 1024;
    while (n < need)
        n *= 2;
    *p = realloc(*p, n);
    *cap = n;
}

fb_world *fb_new(void) {
    fb_world *w = calloc(1, sizeof *w);
    w->recv_chunk = SIZE_MAX;
    w->send_window = SIZE_MAX;
    w->message_max_bytes = INT32_MAX;
    w->idem_checks = true;
    w->next_pid = 1000;
    w->coordinator = -1;
    w->arena = kp_arena_new(0, 0);
    return w;
}

static void fb_lent_req_free(fb_lent_req *r) {
    for (int i = 0; i < r->n; i++)
        free(r->own[i]);
    free(r->ptr);
    free(r->len);
    free(r->own);
    memset(r, 0, sizeof *r);
}

static void fb_lent_drop(kp_conn *c) {
    for (int j = 0; j < c->nlent; j++)
        fb_lent_req_free(&c->lent[j]);
    c->nlent = 0;
}

void fb_free(fb_world *w) {
    if (!w)
        return;
    for (int i = 0; i < w->nconns; i++) {
        kp_conn *c = w->conns[i];
        for (int j = 0; j < c->nheld; j++)
            free(c->held[j].p);
        fb_lent_drop(c);
        free(c->in);
        free(c->out);
        free(c);
    }
    for (int t = 0; t < w->ntopics; t++)
        for (int p = 0; p < FB_MAX_PARTS; p++)
            for (int i = 0; i < w->topics[t].parts[p].nvalues; i++)
                free(w->topics[t].parts[p].values[i]);
    kp_arena_destroy(w->arena);
    free(w);
}

/* ---- clock --------------------------------------------------------- */

static kp_time_us fb_clock_now(void *ctx) {
    return ((fb_world *)ctx)->now_us;
}
void fb_set_now_ms(fb_world *w, int64_t ms) { w->now_us = ms * 1000; }
void fb_advance_ms(fb_world *w, int64_t ms) { w->now_us += ms * 1000; }
int64_t fb_now_ms(const fb_world *w) { return w->now_us / 1000; }
int fb_wakeups(const fb_world *w) { return w->wakeups; }
static void fb_wakeup(void *ctx) { ((fb_world *)ctx)->wakeups++; }

/* ---- broker logic -------------------------------------------------- */

static void fb_emit_frame(kp_conn *c, fb_node *n, const uint8_t *p, size_t len) {
    if (n->hold) {
        c->held[c->nheld].p = malloc(len);
        memcpy(c->held[c->nheld].p, p, len);
        c->held[c->nheld].len = len;
        c->nheld++;
        return;
    }
    fb_grow(&c->out, &c->out_cap, c->out_len + len);
    memcpy(c->out + c->out_len, p, len);
    c->out_len += len;
    /* readable: the loop would deliver the readiness callback, which
     * wakes the client up */
    c->w->wakeups++;
}

static void fb_respond(kp_conn *c, fb_node *n, int16_t api_key, int16_t version, int32_t corr,
                       const void *body) {
    kp_writer wr;
    kp_wr_init(&wr, NULL, 0);
    kp_response_frame_encode(&wr, api_key, version, corr, body);
    size_t need = wr.len;
    uint8_t *buf = malloc(need);
    kp_wr_init(&wr, buf, need);
    kp_response_frame_encode(&wr, api_key, version, corr, body);
    fb_emit_frame(c, n, buf, need);
    free(buf);
}

static void fb_handle_api_versions(fb_world *w, kp_conn *c, fb_node *n, const kp_request *rq) {
    int16_t own_max = n->api_max[KP_API_API_VERSIONS];
    if (own_max > 0 && rq->hdr.api_version > own_max) {
        /* a version we do not speak: the v0 layout with UNSUPPORTED_VERSION */
        kp_api_version mine = { KP_API_API_VERSIONS, 0, own_max };
        kp_writer wr;
        kp_wr_init(&wr, NULL, 0);
        kp_api_versions_unsupported_frame_encode(&wr, rq->hdr.correlation_id, &mine, 1);
        size_t need = wr.len;
        uint8_t *buf = malloc(need);
        kp_wr_init(&wr, buf, need);
        kp_api_versions_unsupported_frame_encode(&wr, rq->hdr.correlation_id, &mine, 1);
        fb_emit_frame(c, n, buf, need);
        free(buf);
        return;
    }
    kp_api_version v[64];
    int k = 0;
    for (int32_t i = 0; i < kp_api_supported_count; i++) {
        kp_api_version a = kp_api_supported[i];
        int16_t m = n->api_max[a.api_key];
        if (m == -1)
            continue; /* removed */
        if (m > 0 && m < a.max_version)
            a.max_version = m;
        v[k++] = a;
    }
    kp_api_versions_response r = { 0, k, v, 0 };
    (void)w;
    fb_respond(c, n, KP_API_API_VERSIONS, rq->hdr.api_version, rq->hdr.correlation_id, &r);
}

static void fb_handle_metadata(fb_world *w, kp_conn *c, fb_node *n, const kp_request *rq) {
    const kp_metadata_request *m = &rq->body.metadata;
    kp_metadata_broker brokers[FB_MAX_NODES];
    for (int i = 0; i < w->nnodes; i++) {
        brokers[i].node_id = w->nodes[i].id;
        brokers[i].host = kp_slice_str(w->nodes[i].host);
        brokers[i].port = 9000 + w->nodes[i].id;
        brokers[i].rack = KP_SLICE_NULL;
    }
    kp_metadata_topic topics[FB_MAX_TOPICS];
    kp_metadata_partition parts[FB_MAX_TOPICS][FB_MAX_PARTS];
    int32_t reps[FB_MAX_TOPICS][FB_MAX_PARTS];
    int nt = 0;
    int want = m->topic_count < 0 ? w->ntopics : m->topic_count;
    for (int i = 0; i < want && nt < FB_MAX_TOPICS; i++) {
        fb_topic *t = m->topic_count < 0 ? &w->topics[i]
                                         : fb_topic_by_name(w, (const char *)m->topics[i].ptr,
                                                            (size_t)m->topics[i].len);
        kp_metadata_topic *mt = &topics[nt];
        memset(mt, 0, sizeof *mt);
        if (!t) {
            mt->error_code = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            mt->topic = m->topics[i];
            nt++;
            continue;
        }
        mt->error_code = t->error;
        mt->topic = kp_slice_str(t->name);
        if (t->error == 0) {
            mt->partition_count = t->nparts;
            mt->partitions = parts[nt];
            for (int p = 0; p < t->nparts; p++) {
                kp_metadata_partition *mp = &parts[nt][p];
                memset(mp, 0, sizeof *mp);
                mp->partition = p;
                mp->leader = t->parts[p].leader;
                mp->leader_epoch = 0;
                mp->error_code = mp->leader < 0 ? KP_ERR_LEADER_NOT_AVAILABLE : 0;
                reps[nt][p] = mp->leader < 0 ? 0 : mp->leader;
                mp->replica_count = 1;
                mp->replicas = &reps[nt][p];
                mp->isr_count = 1;
                mp->isr = &reps[nt][p];
            }
        }
        nt++;
    }
    kp_metadata_response r;
    memset(&r, 0, sizeof r);
    r.broker_count = w->nnodes;
    r.brokers = brokers;
    r.cluster_id = kp_slice_str("fake");
    r.controller_id = w->nnodes ? w->nodes[0].id : -1;
    r.topic_count = nt;
    r.topics = topics;
    fb_respond(c, n, KP_API_METADATA, rq->hdr.api_version, rq->hdr.correlation_id, &r);
}

/* A scripted error for this API's next answer (fb_inject_api), else 0. */
static int16_t fb_api_err(fb_world *w, int16_t api) {
    if (api < 0 || api >= 64 || w->api_err_times[api] <= 0)
        return 0;
    w->api_err_times[api]--;
    return w->api_err[api];
}

static int32_t fb_coordinator(const fb_world *w) {
    return w->coordinator >= 0 ? w->coordinator : (w->nnodes ? w->nodes[0].id : -1);
}

/* EndTxn: the open transaction's records become committed or aborted. */
static void fb_end_txn(fb_world *w, bool commit) {
    for (int t = 0; t < w->ntopics; t++)
        for (int p = 0; p < w->topics[t].nparts; p++) {
            fb_part *pp = &w->topics[t].parts[p];
            for (int i = 0; i < pp->nvalues; i++)
                if (pp->txn_state[i] == FB_TXN_OPEN)
                    pp->txn_state[i] = commit ? FB_TXN_COMMITTED : FB_TXN_ABORTED;
        }
    w->txn_nparts = 0;
    if (commit)
        w->txn_commits++;
    else
        w->txn_aborts++;
}

static void fb_handle_find_coordinator(fb_world *w, kp_conn *c, fb_node *n, const kp_request *rq) {
    kp_find_coordinator_response r;
    memset(&r, 0, sizeof r);
    r.error_message = KP_SLICE_NULL;
    r.error_code = fb_api_err(w, KP_API_FIND_COORDINATOR);
    fb_node *cn = fb_node_by_id(w, fb_coordinator(w));
    if (r.error_code == 0 && cn) {
        r.node_id = cn->id;
        r.host = kp_slice_str(cn->host);
        r.port = 9000 + cn->id;
    } else {
        if (r.error_code == 0)
            r.error_code = KP_ERR_COORDINATOR_NOT_AVAILABLE;
        r.node_id = -1;
        r.host = kp_slice_str("");
        r.port = -1;
    }
    fb_respond(c, n, KP_API_FIND_COORDINATOR, rq->hdr.api_version, rq->hdr.correlation_id, &r);
}

static void fb_handle_add_partitions(fb_world *w, kp_conn *c, fb_node *n, const kp_request *rq) {
    const kp_add_partitions_to_txn_request *m = &rq->body.add_partitions_to_txn;
    int16_t err = fb_api_err(w, KP_API_ADD_PARTITIONS_TO_TXN);
    if (err == 0 && n->id != fb_coordinator(w))
        err = KP_ERR_NOT_COORDINATOR;
    if (err == 0 && (!w->has_txn_pid || m->producer_id != w->txn_pid))
        err = KP_ERR_INVALID_PRODUCER_ID_MAPPING;
    if (err == 0 && m->producer_epoch != w->txn_epoch)
        err = KP_ERR_INVALID_PRODUCER_EPOCH;
    kp_add_partitions_to_txn_topic_result tr[8];
    kp_add_partitions_to_txn_partition_result pr[8][FB_MAX_PARTS];
    int32_t nt = m->topic_count < 8 ? m->topic_count : 8;
    for (int32_t i = 0; i < nt; i++) {
        tr[i].topic = m->topics[i].topic;
        tr[i].partition_count = m->topics[i].partition_count < FB_MAX_PARTS ? m->topics[i].partition_count
                                                                            : FB_MAX_PARTS;
        tr[i].partitions = pr[i];
        for (int32_t j = 0; j < tr[i].partition_count; j++) {
            pr[i][j].partition = m->topics[i].partitions[j];
            pr[i][j].error_code = err;
            if (err == 0)
                w->txn_nparts++;
        }
    }
    kp_add_partitions_to_txn_response r = { 0, nt, tr };
    fb_respond(c, n, KP_API_ADD_PARTITIONS_TO_TXN, rq->hdr.api_version, rq->hdr.correlation_id, &r);
}

static void fb_handle_end_txn(fb_world *w, kp_conn *c, fb_node *n, const kp_request *rq, fb_req *log) {
    const kp_end_txn_request *m = &rq->body.end_txn;
    kp_end_txn_response r = { 0, fb_api_err(w, KP_API_END_TXN) };
    log->acks = m->committed ? 1 : 0; /* (EndTxn: the transaction result) */
    if (r.error_code == 0 && n->id != fb_coordinator(w))
        r.error_code = KP_ERR_NOT_COORDINATOR;
    if (r.error_code == 0 && m->producer_epoch != w->txn_epoch)
        r.error_code = KP_ERR_INVALID_PRODUCER_EPOCH;
    if (r.error_code == 0)
        fb_end_txn(w, m->committed);
    fb_respond(c, n, KP_API_END_TXN, rq->hdr.api_version, rq->hdr.correlation_id, &r);
}

static void fb_handle_init_pid(fb_world *w, kp_conn *c, fb_node *n, const kp_request *rq) {
    kp_init_producer_id_response r = { 0, 0, -1, -1 };
    bool txn = rq->body.init_producer_id.transactional_id.len >= 0;
    if (w->init_pid_times > 0) {
        w->init_pid_times--;
        r.error_code = w->init_pid_err;
    } else if (txn && (r.error_code = fb_api_err(w, KP_API_INIT_PRODUCER_ID)) != 0) {
        /* scripted */
    } else if (txn && n->id != fb_coordinator(w)) {
        r.error_code = KP_ERR_NOT_COORDINATOR;
    } else if (txn) {
        /* the same producer id for the transactional.id, a new epoch;
         * an open transaction of the old epoch is aborted */
        if (!w->has_txn_pid) {
            w->has_txn_pid = true;
            w->txn_pid = w->next_pid++;
            w->txn_epoch = 0;
        } else {
            w->txn_epoch++;
            if (w->txn_nparts > 0)
                fb_end_txn(w, false);
        }
        r.producer_id = w->txn_pid;
        r.producer_epoch = w->txn_epoch;
    } else {
        r.producer_id = w->next_pid++;
        r.producer_epoch = 0;
    }
    fb_respond(c, n, KP_API_INIT_PRODUCER_ID, rq->hdr.api_version, rq->hdr.correlation_id, &r);
}

/* Appends one batch (or says why not), 2.1-like sequence checks. */
static int16_t fb_append(fb_world *w, fb_part *p, const uint8_t *bytes, size_t len,
                         int64_t *base_offset, int64_t *log_start) {
    kp_batch_header h;
    size_t total;
    *log_start = p->log_start;
    if (kp_batch_parse_header(bytes, len, &h, &total) != KP_ERR_NONE || total != len)
        return KP_ERR_CORRUPT_MESSAGE;
    if ((int64_t)len > w->message_max_bytes)
        return KP_ERR_MESSAGE_TOO_LARGE;
    if (w->has_txn_pid && h.producer_id == w->txn_pid && h.producer_epoch < w->txn_epoch)
        return KP_ERR_INVALID_PRODUCER_EPOCH; /* fenced */
    int32_t first = h.base_sequence;
    int32_t last = kp_batch_last_sequence(&h);
    if (w->idem_checks && h.producer_id >= 0) {
        if (!p->has_producer || p->pid != h.producer_id) {
            if (first != 0)
                return KP_ERR_UNKNOWN_PRODUCER_ID;
            p->has_producer = true;
            p->pid = h.producer_id;
            p->epoch = h.producer_epoch;
            p->last_seq = -1;
            p->nwindow = 0;
        } else {
            for (int i = 0; i < p->nwindow; i++)
                if (p->window[i].first_seq == first && p->window[i].last_seq == last) {
                    *base_offset = p->window[i].offset;
                    return KP_ERR_NONE; /* duplicate: the original's offset */
                }
            if (first != p->last_seq + 1)
                return KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
        }
    }
    *base_offset = p->nvalues;
    kp_record_iter it;
    kp_record r;
    if (kp_record_iter_init(&it, bytes, len, NULL) != KP_ERR_NONE)
        return KP_ERR_CORRUPT_MESSAGE;
    while (kp_record_iter_next(&it, &r) && p->nvalues < FB_MAX_LOG) {
        int vl = r.value.len < 0 ? 0 : r.value.len;
        char *v = malloc((size_t)vl + 1);
        memcpy(v, r.value.ptr ? (const char *)r.value.ptr : "", (size_t)vl);
        v[vl] = 0;
        p->txn_state[p->nvalues] = kp_batch_is_transactional(&h) ? FB_TXN_OPEN : FB_TXN_NONE;
        p->values[p->nvalues++] = v;
    }
    if (w->idem_checks && h.producer_id >= 0) {
        p->last_seq = last;
        if (p->nwindow == 5)
            memmove(p->window, p->window + 1, 4 * sizeof p->window[0]), p->nwindow = 4;
        p->window[p->nwindow++] = (fb_batch_rec){ h.producer_id, first, last, *base_offset };
    }
    return KP_ERR_NONE;
}

static void fb_handle_produce(fb_world *w, kp_conn *c, fb_node *n, const kp_request *rq, fb_req *log) {
    const kp_produce_request *m = &rq->body.produce;
    kp_produce_topic_response tr[8];
    kp_produce_partition_response pr[8][FB_MAX_PARTS];
    log->acks = m->acks;
    int nt = 0;
    for (int32_t i = 0; i < m->topic_count && i < 8; i++) {
        const kp_produce_topic_data *td = &m->topics[i];
        fb_topic *t = fb_topic_by_name(w, (const char *)td->topic.ptr, (size_t)td->topic.len);
        tr[nt].topic = td->topic;
        tr[nt].partition_count = td->partition_count > FB_MAX_PARTS ? FB_MAX_PARTS : td->partition_count;
        tr[nt].partitions = pr[nt];
        for (int32_t j = 0; j < tr[nt].partition_count; j++) {
            const kp_produce_partition_data *pd = &td->partitions[j];
            kp_produce_partition_response *o = &pr[nt][j];
            o->partition = pd->partition;
            o->base_offset = -1;
            o->log_append_time = -1;
            o->log_start_offset = -1;
            if (log->nparts < 8) {
                int k = log->nparts++;
                snprintf(log->topic[k], sizeof log->topic[k], "%.*s", td->topic.len, (const char *)td->topic.ptr);
                log->partition[k] = pd->partition;
                kp_batch_header h;
                size_t total;
                if (pd->records.len >= 61 &&
                    kp_batch_parse_header(pd->records.ptr, (size_t)pd->records.len, &h, &total) == KP_ERR_NONE) {
                    log->base_seq[k] = h.base_sequence;
                    log->count[k] = h.record_count;
                    log->pid[k] = h.producer_id;
                }
                log->bytes[k] = pd->records.len;
            }
            fb_part *p = t && pd->partition >= 0 && pd->partition < t->nparts ? &t->parts[pd->partition] : NULL;
            if (!p) {
                o->error_code = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            } else if (p->inject_times > 0) {
                p->inject_times--;
                o->error_code = p->inject_err;
                o->log_start_offset = p->inject_log_start;
            } else if (p->leader != n->id) {
                o->error_code = KP_ERR_NOT_LEADER_FOR_PARTITION;
            } else {
                int64_t bo = -1, ls = 0;
                o->error_code = fb_append(w, p, pd->records.ptr, (size_t)pd->records.len, &bo, &ls);
                o->base_offset = o->error_code == 0 ? bo : -1;
                o->log_start_offset = ls;
            }
        }
        nt++;
    }
    if (m->acks == 0)
        return;
    kp_produce_response r = { nt, tr, n->throttle_ms };
    fb_respond(c, n, KP_API_PRODUCE, rq->hdr.api_version, rq->hdr.correlation_id, &r);
}

static void fb_process(fb_world *w, kp_conn *c) {
    fb_node *n = fb_node_by_id(w, c->node);
    for (;;) {
        size_t flen;
        if (kp_frame_peek(c->in, c->in_len, KP_FRAME_MAX_DEFAULT, &flen) != KP_ERR_NONE)
            return;
        kp_arena_reset(w->arena);
        kp_request rq;
        memset(&rq, 0, sizeof rq);
        kp_err e = kp_request_frame_decode(c->in, flen, w->arena, &rq);
        if (e == KP_ERR_NONE && !n->blackhole && w->nreqs < FB_MAX_REQS) {
            fb_req *log = &w->reqs[w->nreqs++];
            memset(log, 0, sizeof *log);
            log->node = n->id;
            log->api_key = rq.hdr.api_key;
            log->api_version = rq.hdr.api_version;
            log->corr = rq.hdr.correlation_id;
            log->acks = -2;
            log->at_ms = w->now_us / 1000;
            switch (rq.hdr.api_key) {
            case KP_API_API_VERSIONS: fb_handle_api_versions(w, c, n, &rq); break;
            case KP_API_METADATA: fb_handle_metadata(w, c, n, &rq); break;
            case KP_API_INIT_PRODUCER_ID: fb_handle_init_pid(w, c, n, &rq); break;
            case KP_API_PRODUCE: fb_handle_produce(w, c, n, &rq, log); break;
            case KP_API_FIND_COORDINATOR: fb_handle_find_coordinator(w, c, n, &rq); break;
            case KP_API_ADD_PARTITIONS_TO_TXN: fb_handle_add_partitions(w, c, n, &rq); break;
            case KP_API_END_TXN: fb_handle_end_txn(w, c, n, &rq, log); break;
            default: break;
            }
        }
        memmove(c->in, c->in + flen, c->in_len - flen);
        c->in_len -= flen;
    }
}

/* ---- transport ----------------------------------------------------- */

static kp_conn *fb_t_connect(void *ctx, const char *host, int port, kp_conn_cb *cb, void *cb_ctx) {
    fb_world *w = ctx;
    kp_conn *c = calloc(1, sizeof *c);
    c->w = w;
    c->cb = cb;
    c->cb_ctx = cb_ctx;
    c->node = port - 9000;
    c->send_budget = w->send_window;
    w->conns[w->nconns++] = c;
    fb_node *n = fb_node_by_id(w, c->node);
    if (!n || strcmp(n->host, host) != 0 || n->refuse) {
        c->state = KP_CONN_CLOSED;
        if (n)
            n->connects++;
        return c;
    }
    n->connects++;
    n->live = c; /* the newest; older connections to the node stay open */
    c->state = n->hold_connect ? KP_CONN_CONNECTING : KP_CONN_CONNECTED;
    return c;
}

static ssize_t fb_t_send(void *ctx, kp_conn *c, const void *buf, size_t len) {
    fb_world *w = ctx;
    if (c->state != KP_CONN_CONNECTED)
        return -1;
    if (w->send_window != SIZE_MAX) {
        if (c->send_budget == 0)
            return 0; /* socket buffer full: wait for WRITABLE */
        if (len > c->send_budget)
            len = c->send_budget;
        c->send_budget -= len;
    }
    fb_grow(&c->in, &c->in_cap, c->in_len + len);
    memcpy(c->in + c->in_len, buf, len);
    c->in_len += len;
    fb_process(w, c);
    return (ssize_t)len;
}

/* The gather write: send of the pieces joined (what simnet's does). */
static ssize_t fb_t_sendv(void *ctx, kp_conn *c, const kp_iov *iov, int n) {
    fb_world *w = ctx;
    w->sendv_calls++;
    w->sendv_gathered += n > 1;
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += iov[i].len;
    uint8_t *joined = malloc(len ? len : 1);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        if (iov[i].len)
            memcpy(joined + at, iov[i].ptr, iov[i].len);
        at += iov[i].len;
    }
    ssize_t r = fb_t_send(ctx, c, joined, len);
    free(joined);
    return r;
}

/* sendv that may keep the pieces marked in `keep` by reference: only
 * while the node's requests are held (then the whole write is kept unread
 * until fb_release_requests); otherwise the same as sendv. */
static ssize_t fb_t_sendv_keep(void *ctx, kp_conn *c, const kp_iov *iov, int n, uint32_t keep) {
    fb_world *w = ctx;
    fb_node *nd = fb_node_by_id(w, c->node);
    if (!nd || !nd->hold_requests || c->state != KP_CONN_CONNECTED || w->send_window != SIZE_MAX ||
        c->in_len != 0 || c->nlent == (int)(sizeof c->lent / sizeof c->lent[0]))
        return fb_t_sendv(ctx, c, iov, n);
    w->sendv_calls++;
    w->sendv_gathered += n > 1;
    fb_lent_req *r = &c->lent[c->nlent++];
    r->n = n;
    r->ptr = calloc((size_t)n, sizeof *r->ptr);
    r->len = calloc((size_t)n, sizeof *r->len);
    r->own = calloc((size_t)n, sizeof *r->own);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        r->len[i] = iov[i].len;
        total += iov[i].len;
        if (i < 32 && (keep >> i & 1)) {
            r->ptr[i] = iov[i].ptr; /* lent: read where it lies, later */
        } else {
            r->own[i] = malloc(iov[i].len ? iov[i].len : 1);
            if (iov[i].len)
                memcpy(r->own[i], iov[i].ptr, iov[i].len);
            r->ptr[i] = r->own[i];
        }
    }
    return (ssize_t)total;
}

/* The writer takes its lent bytes back: copy what is still referenced. */
static void fb_t_reclaim(void *ctx, kp_conn *c) {
    fb_world *w = ctx;
    w->reclaims++;
    for (int j = 0; j < c->nlent; j++) {
        fb_lent_req *r = &c->lent[j];
        for (int i = 0; i < r->n; i++)
            if (!r->own[i]) {
                r->own[i] = malloc(r->len[i] ? r->len[i] : 1);
                if (r->len[i])
                    memcpy(r->own[i], r->ptr[i], r->len[i]);
                r->ptr[i] = r->own[i];
            }
    }
}

void fb_hold_requests(fb_world *w, int32_t node, bool hold) { fb_node_by_id(w, node)->hold_requests = hold; }

int fb_release_requests(fb_world *w, int32_t node) {
    int k = 0;
    for (int i = 0; i < w->nconns; i++) {
        kp_conn *c = w->conns[i];
        if (c->node != node || c->state == KP_CONN_CLOSED || c->nlent == 0)
            continue;
        for (int j = 0; j < c->nlent; j++) {
            fb_lent_req *r = &c->lent[j];
            size_t total = 0;
            for (int p = 0; p < r->n; p++)
                total += r->len[p];
            fb_grow(&c->in, &c->in_cap, c->in_len + total);
            for (int p = 0; p < r->n; p++) {
                if (r->len[p])
                    memcpy(c->in + c->in_len, r->ptr[p], r->len[p]);
                c->in_len += r->len[p];
            }
            k++;
        }
        fb_lent_drop(c);
        fb_process(w, c);
    }
    return k;
}

int fb_lent(const fb_world *w, int32_t node) {
    int n = 0;
    for (int i = 0; i < w->nconns; i++)
        if (w->conns[i]->node == node && w->conns[i]->state != KP_CONN_CLOSED)
            n += w->conns[i]->nlent;
    return n;
}

int fb_reclaims(const fb_world *w) {
    return w->reclaims;
}

int fb_sendv_calls(const fb_world *w) {
    return w->sendv_calls;
}

int fb_sendv_gathered(const fb_world *w) {
    return w->sendv_gathered;
}

static ssize_t fb_t_recv(void *ctx, kp_conn *c, void *buf, size_t cap) {
    fb_world *w = ctx;
    w->recv_calls++;
    size_t avail = c->out_len - c->out_off;
    if (avail == 0)
        return c->state == KP_CONN_CLOSED ? -1 : 0;
    size_t n = avail < cap ? avail : cap;
    if (n > w->recv_chunk)
        n = w->recv_chunk;
    memcpy(buf, c->out + c->out_off, n);
    c->out_off += n;
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    return (ssize_t)n;
}

static void fb_t_close(void *ctx, kp_conn *c) {
    (void)ctx;
    c->state = KP_CONN_CLOSED;
    c->released = true;
    fb_node *n = fb_node_by_id(c->w, c->node);
    if (n && n->live == c)
        n->live = NULL;
}

static kp_conn_state fb_t_state(void *ctx, kp_conn *c) {
    (void)ctx;
    return c->state;
}

/* Exact, like simnet's: false only when recv would return 0. */
static bool fb_t_pending(void *ctx, kp_conn *c) {
    (void)ctx;
    return c->state != KP_CONN_CONNECTED || c->out_len > c->out_off;
}

kp_env fb_env(fb_world *w, const kp_observer *obs) {
    kp_env e;
    memset(&e, 0, sizeof e);
    e.clock.now_us = fb_clock_now;
    e.clock.ctx = w;
    e.transport.connect = fb_t_connect;
    e.transport.send = fb_t_send;
    e.transport.sendv = fb_t_sendv;
    e.transport.recv = fb_t_recv;
    e.transport.close = fb_t_close;
    e.transport.state = fb_t_state;
    e.transport.pending = fb_t_pending;
    e.transport.sendv_keep = fb_t_sendv_keep;
    e.transport.reclaim = fb_t_reclaim;
    e.transport.ctx = w;
    if (obs)
        e.observer = *obs;
    e.rng = kp_rng_stream(1, "producer");
    e.wakeup = fb_wakeup;
    e.wakeup_ctx = w;
    return e;
}

/* ---- scripting ----------------------------------------------------- */

void fb_add_node(fb_world *w, int32_t id) {
    fb_node *n = &w->nodes[w->nnodes++];
    memset(n, 0, sizeof *n);
    n->id = id;
    snprintf(n->host, sizeof n->host, "b%d", (int)id);
}

void fb_add_topic(fb_world *w, const char *topic, int nparts) {
    fb_topic *t = &w->topics[w->ntopics++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", topic);
    t->nparts = nparts;
    for (int p = 0; p < nparts; p++)
        t->parts[p].leader = w->nnodes ? w->nodes[p % w->nnodes].id : -1;
}

void fb_set_leader(fb_world *w, const char *topic, int32_t partition, int32_t leader) {
    fb_topic *t = fb_topic_by_name(w, topic, strlen(topic));
    if (t)
        t->parts[partition].leader = leader;
}

void fb_set_topic_error(fb_world *w, const char *topic, int16_t err) {
    fb_topic *t = fb_topic_by_name(w, topic, strlen(topic));
    if (t)
        t->error = err;
}

void fb_refuse(fb_world *w, int32_t node, bool refuse) { fb_node_by_id(w, node)->refuse = refuse; }
void fb_hold_connect(fb_world *w, int32_t node, bool hold) { fb_node_by_id(w, node)->hold_connect = hold; }

void fb_complete_connect(fb_world *w, int32_t node) {
    fb_node *n = fb_node_by_id(w, node);
    if (n->live && n->live->state == KP_CONN_CONNECTING) {
        n->live->state = KP_CONN_CONNECTED;
        if (n->live->cb)
            n->live->cb(n->live->cb_ctx, n->live, KP_CONN_EV_CONNECTED, KP_ERR_NONE);
    }
}

void fb_set_api_max(fb_world *w, int32_t node, int16_t api_key, int16_t max) {
    fb_node_by_id(w, node)->api_max[api_key] = max;
}
void fb_set_recv_chunk(fb_world *w, size_t max_bytes) { w->recv_chunk = max_bytes; }
int fb_recv_calls(const fb_world *w) { return w->recv_calls; }
void fb_set_throttle(fb_world *w, int32_t node, int32_t ms) { fb_node_by_id(w, node)->throttle_ms = ms; }
void fb_set_message_max_bytes(fb_world *w, int32_t max) { w->message_max_bytes = max; }
void fb_set_idempotence_checks(fb_world *w, bool on) { w->idem_checks = on; }
void fb_hold(fb_world *w, int32_t node, bool hold) { fb_node_by_id(w, node)->hold = hold; }
void fb_blackhole(fb_world *w, int32_t node, bool on) { fb_node_by_id(w, node)->blackhole = on; }

int fb_release(fb_world *w, int32_t node, int n) {
    fb_node *nd = fb_node_by_id(w, node);
    int k = 0;
    bool hold = nd->hold;
    nd->hold = false;
    for (int i = 0; i < w->nconns && k < n; i++) {
        kp_conn *c = w->conns[i];
        if (c->node != node || c->state == KP_CONN_CLOSED)
            continue;
        int before = k;
        while (k < n && c->nheld > 0) {
            fb_emit_frame(c, nd, c->held[0].p, c->held[0].len);
            free(c->held[0].p);
            memmove(c->held, c->held + 1, (size_t)(c->nheld - 1) * sizeof c->held[0]);
            c->nheld--;
            k++;
        }
        if (k > before && c->cb)
            c->cb(c->cb_ctx, c, KP_CONN_EV_READABLE, KP_ERR_NONE);
    }
    nd->hold = hold;
    return k;
}

int fb_held(const fb_world *w, int32_t node) {
    int n = 0;
    for (int i = 0; i < w->nconns; i++)
        if (w->conns[i]->node == node && w->conns[i]->state != KP_CONN_CLOSED)
            n += w->conns[i]->nheld;
    return n;
}

void fb_disconnect(fb_world *w, int32_t node) {
    fb_node *n = fb_node_by_id(w, node);
    for (int i = 0; i < w->nconns; i++) {
        kp_conn *c = w->conns[i];
        if (c->node != node || c->state == KP_CONN_CLOSED || c->released)
            continue;
        c->state = KP_CONN_CLOSED;
        for (int j = 0; j < c->nheld; j++)
            free(c->held[j].p);
        c->nheld = 0;
        fb_lent_drop(c);
        c->out_len = c->out_off = 0;
        if (c->cb)
            c->cb(c->cb_ctx, c, KP_CONN_EV_CLOSED, KP_ERR__TRANSPORT);
    }
    n->live = NULL;
}

bool fb_connected(const fb_world *w, int32_t node) {
    for (int i = 0; i < w->nnodes; i++)
        if (w->nodes[i].id == node)
            return w->nodes[i].live && w->nodes[i].live->state == KP_CONN_CONNECTED;
    return false;
}

int fb_connects(const fb_world *w, int32_t node) {
    for (int i = 0; i < w->nnodes; i++)
        if (w->nodes[i].id == node)
            return w->nodes[i].connects;
    return 0;
}

void fb_inject(fb_world *w, const char *topic, int32_t partition, int16_t err, int times, int64_t log_start) {
    fb_part *p = &fb_topic_by_name(w, topic, strlen(topic))->parts[partition];
    p->inject_err = err;
    p->inject_times = times;
    p->inject_log_start = log_start;
}

void fb_set_coordinator(fb_world *w, int32_t node) { w->coordinator = node; }
void fb_inject_api(fb_world *w, int16_t api_key, int16_t err, int times) {
    if (api_key < 0 || api_key >= 64)
        return;
    w->api_err[api_key] = err;
    w->api_err_times[api_key] = times;
}
void fb_fence(fb_world *w) {
    if (w->has_txn_pid)
        w->txn_epoch++;
}
int fb_txn_commits(const fb_world *w) { return w->txn_commits; }
int fb_txn_aborts(const fb_world *w) { return w->txn_aborts; }
int fb_txn_partitions(const fb_world *w) { return w->txn_nparts; }
int16_t fb_txn_epoch(const fb_world *w) { return w->txn_epoch; }
int fb_log_txn_state(const fb_world *w, const char *topic, int32_t partition, int i) {
    const fb_topic *t = fb_topic_by_name(w, topic, strlen(topic));
    if (!t || partition < 0 || partition >= t->nparts || i < 0 || i >= t->parts[partition].nvalues)
        return -1;
    return t->parts[partition].txn_state[i];
}

void fb_inject_init_pid(fb_world *w, int16_t err, int times) {
    w->init_pid_err = err;
    w->init_pid_times = times;
}

void fb_forget_producers(fb_world *w, int64_t log_start) {
    for (int t = 0; t < w->ntopics; t++)
        for (int p = 0; p < FB_MAX_PARTS; p++) {
            w->topics[t].parts[p].has_producer = false;
            w->topics[t].parts[p].log_start = log_start;
        }
}

int fb_nreqs(const fb_world *w) { return w->nreqs; }
const fb_req *fb_req_at(const fb_world *w, int i) { return &w->reqs[i]; }

int fb_count_api(const fb_world *w, int16_t api_key) {
    int n = 0;
    for (int i = 0; i < w->nreqs; i++)
        n += w->reqs[i].api_key == api_key;
    return n;
}

int fb_log_len(const fb_world *w, const char *topic, int32_t partition) {
    fb_topic *t = fb_topic_by_name(w, topic, strlen(topic));
    return t ? t->parts[partition].nvalues : 0;
}

const char *fb_log_value(const fb_world *w, const char *topic, int32_t partition, int i) {
    fb_topic *t = fb_topic_by_name(w, topic, strlen(topic));
    return t && i < t->parts[partition].nvalues ? t->parts[partition].values[i] : NULL;
}

void fb_push_raw(fb_world *w, int32_t node, const void *bytes, size_t len) {
    fb_node *n = fb_node_by_id(w, node);
    if (!n->live)
        return;
    fb_grow(&n->live->out, &n->live->out_cap, n->live->out_len + len);
    memcpy(n->live->out + n->live->out_len, bytes, len);
    n->live->out_len += len;
}

void fb_set_send_window(fb_world *w, size_t bytes) {
    w->send_window = bytes;
    for (int i = 0; i < w->nconns; i++)
        w->conns[i]->send_budget = bytes;
}

void fb_writable(fb_world *w, int32_t node) {
    for (int i = 0; i < w->nconns; i++) {
        kp_conn *c = w->conns[i];
        if (c->node != node || c->state != KP_CONN_CONNECTED)
            continue;
        c->send_budget = w->send_window;
        if (c->cb)
            c->cb(c->cb_ctx, c, KP_CONN_EV_WRITABLE, KP_ERR_NONE);
    }
}
