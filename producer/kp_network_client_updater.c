/*
 * kp_network_client_updater.c — NetworkClient.DefaultMetadataUpdater of
 * kafka-clients 2.1 (declared in kp_network_client.h). Kept in its own file
 * so that the client links without the metadata module (its tests use a
 * static node list instead).
 */
#include "kp_network_client.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_arena.h"
#include "kp_events.h"
#include "kp_proto.h"

static void kp_mu_emit(const kp_env *env, int kind, int32_t node, int32_t corr, kp_err err,
                       int64_t value, const char *detail) {
    kp_event ev;
    kp_event_init(&ev, kind, kp_clock_now_us(&env->clock));
    ev.node = node;
    ev.correlation_id = corr;
    ev.api_key = KP_API_METADATA;
    ev.err = err;
    ev.value = value;
    ev.detail = detail;
    kp_observer_emit(&env->observer, &ev);
}

/* ------------------------------------------------------------------ */
/* DefaultMetadataUpdater                                              */
/* ------------------------------------------------------------------ */

struct kp_metadata_updater {
    kp_netclient *nc;
    kp_metadata *md;
    kp_env env;
    int64_t request_timeout_ms;
    int64_t reconnect_backoff_ms;
    bool fetch_in_progress;
    int64_t requests;
    kp_arena *arena;
};

static int kp_mu_fetch_nodes(void *ctx, kp_node *out, int cap) {
    kp_metadata_updater *u = ctx;
    const kp_cluster *cl = kp_metadata_fetch(u->md);
    size_t n = kp_cluster_node_count(cl);
    int k = 0;
    for (size_t i = 0; i < n && k < cap; i++)
        out[k++] = *kp_cluster_node_at(cl, i);
    return k;
}

/* DefaultMetadataUpdater.isUpdateDue */
static bool kp_mu_is_update_due(void *ctx, int64_t now) {
    kp_metadata_updater *u = ctx;
    return !u->fetch_in_progress && kp_metadata_time_to_next_update(u->md, now) == 0;
}

static void kp_mu_request_update(void *ctx) {
    kp_metadata_updater *u = ctx;
    kp_metadata_request_update(u->md, kp_clock_now_ms(&u->env.clock));
}

/* MetadataRequest body: the topics the producer uses, or null for all. */
static bool kp_mu_encode(void *ctx, kp_writer *w, int16_t version) {
    kp_metadata_updater *u = ctx;
    size_t n = kp_metadata_topic_count(u->md);
    if (kp_metadata_need_all_topics(u->md)) {
        kp_wr_array_len(w, -1);
    } else {
        kp_wr_array_len(w, (int32_t)n);
        for (size_t i = 0; i < n; i++)
            kp_wr_cstring(w, kp_metadata_topic_at(u->md, i));
    }
    if (version >= 4)
        kp_wr_bool(w, true); /* allow_auto_topic_creation: producers do */
    return true;
}

static kp_cluster *kp_mu_cluster_from(const kp_metadata_response *m, kp_err *err) {
    kp_cluster *cl = kp_cluster_new();
    char host[256], topic[256], rack[256], cid[256];
    *err = KP_ERR__NOMEM;
    if (!cl)
        return NULL;
#define KP_MU_STR(dst, s) \
    (snprintf((dst), sizeof(dst), "%.*s", (int)((s).len < 0 ? 0 : (s).len), (const char *)(s).ptr), (dst))
    for (int32_t i = 0; i < m->broker_count; i++) {
        const kp_metadata_broker *b = &m->brokers[i];
        const char *r = b->rack.len >= 0 ? KP_MU_STR(rack, b->rack) : NULL;
        if (kp_cluster_add_node(cl, b->node_id, KP_MU_STR(host, b->host), b->port, r) != KP_ERR_NONE)
            goto bad;
    }
    if (m->cluster_id.len >= 0)
        kp_cluster_set_id(cl, KP_MU_STR(cid, m->cluster_id));
    kp_cluster_set_controller(cl, m->controller_id);
    for (int32_t i = 0; i < m->topic_count; i++) {
        const kp_metadata_topic *t = &m->topics[i];
        KP_MU_STR(topic, t->topic);
        if (kp_cluster_add_topic(cl, topic, (kp_err)t->error_code, t->is_internal) != KP_ERR_NONE)
            goto bad;
        if (t->error_code != KP_ERR_NONE)
            continue;
        for (int32_t j = 0; j < t->partition_count; j++) {
            const kp_metadata_partition *p = &t->partitions[j];
            if (kp_cluster_add_partition(cl, topic, p->partition, p->leader, p->leader_epoch,
                                         p->replicas, p->replica_count, p->isr, p->isr_count,
                                         p->offline_replicas, p->offline_replica_count,
                                         (kp_err)p->error_code) != KP_ERR_NONE)
                goto bad;
        }
    }
#undef KP_MU_STR
    *err = KP_ERR_NONE;
    return cl;
bad:
    kp_cluster_destroy(cl);
    *err = KP_ERR__BAD_MSG;
    return NULL;
}

/* DefaultMetadataUpdater.handleCompletedMetadataResponse (and
 * handleDisconnection for a disconnected response). */
static void kp_mu_done(void *ctx, const kp_client_response *r) {
    kp_metadata_updater *u = ctx;
    u->fetch_in_progress = false;
    int64_t now = r->received_ms;
    if (r->disconnected || r->version_mismatch || !r->body) {
        kp_mu_emit(&u->env, KP_EV_METADATA_RESPONSE, r->node, r->correlation_id,
                   r->version_mismatch ? KP_ERR_UNSUPPORTED_VERSION : KP_ERR_NETWORK_EXCEPTION, -1,
                   "DefaultMetadataUpdater.handleDisconnection");
        return;
    }
    kp_arena_reset(u->arena);
    kp_reader rd;
    kp_rd_init(&rd, r->body, r->body_len);
    kp_metadata_response m;
    memset(&m, 0, sizeof m);
    kp_err err = kp_metadata_response_decode(&rd, r->api_version, u->arena, &m);
    kp_cluster *cl = err == KP_ERR_NONE ? kp_mu_cluster_from(&m, &err) : NULL;
    kp_mu_emit(&u->env, KP_EV_METADATA_RESPONSE, r->node, r->correlation_id, err,
               err == KP_ERR_NONE ? m.broker_count : -1,
               "DefaultMetadataUpdater.handleCompletedMetadataResponse");
    if (cl) {
        /* "Error while fetching metadata with correlation id {} : {}"
         * (response.errors()): each topic-level error is an outcome of its
         * own (LEADER_NOT_AVAILABLE while a topic is auto-created,
         * UNKNOWN_TOPIC_OR_PARTITION, ...), in response order. */
        for (int32_t i = 0; i < m.topic_count; i++) {
            const kp_metadata_topic *t = &m.topics[i];
            if (t->error_code == KP_ERR_NONE)
                continue;
            char topic[256];
            snprintf(topic, sizeof topic, "%.*s", (int)(t->topic.len < 0 ? 0 : t->topic.len),
                     (const char *)t->topic.ptr);
            kp_event ev;
            kp_event_init(&ev, KP_EV_METADATA_TOPIC_ERROR, kp_clock_now_us(&u->env.clock));
            ev.node = r->node;
            ev.correlation_id = r->correlation_id;
            ev.api_key = KP_API_METADATA;
            ev.topic = topic;
            ev.err = (kp_err)t->error_code;
            ev.detail = "DefaultMetadataUpdater.handleCompletedMetadataResponse: Error while fetching metadata";
            kp_observer_emit(&u->env.observer, &ev);
        }
    }
    if (!cl) {
        kp_metadata_failed_update(u->md, now, KP_ERR_NONE);
        return;
    }
    if (r->api_version >= 6 && m.throttle_time_ms > 0)
        kp_netclient_throttle(u->nc, r->node, m.throttle_time_ms, now);
    /* an empty node list is ignored as a failed update inside */
    kp_metadata_update(u->md, cl, now);
}

/* DefaultMetadataUpdater.maybeUpdate(now, node) */
static int64_t kp_mu_maybe_update_node(kp_metadata_updater *u, const kp_node *node, int64_t now) {
    if (kp_netclient_can_send(u->nc, node->id, now)) {
        u->fetch_in_progress = true;
        int32_t corr = kp_netclient_send(u->nc, node->id, KP_API_METADATA, KP_METADATA_MIN_VERSION,
                                         KP_METADATA_MAX_VERSION, kp_mu_encode, u, true,
                                         u->request_timeout_ms, kp_mu_done, u, now);
        if (corr < 0) {
            u->fetch_in_progress = false;
            return u->reconnect_backoff_ms;
        }
        u->requests++;
        kp_event ev;
        kp_event_init(&ev, KP_EV_METADATA_REQUEST, kp_clock_now_us(&u->env.clock));
        ev.node = node->id;
        ev.correlation_id = corr;
        ev.api_key = KP_API_METADATA;
        ev.record_count = (int32_t)kp_metadata_topic_count(u->md);
        ev.detail = "DefaultMetadataUpdater.maybeUpdate";
        kp_observer_emit(&u->env.observer, &ev);
        return u->request_timeout_ms;
    }
    /* Java: "connect timeout" is reconnect backoff while anything connects */
    if (kp_netclient_is_any_connecting(u->nc))
        return u->reconnect_backoff_ms;
    if (kp_netclient_maybe_connect(u->nc, node, now))
        return u->reconnect_backoff_ms;
    /* connected but cannot send more, or connecting: wait for the network */
    return INT64_MAX;
}

/* DefaultMetadataUpdater.maybeUpdate(now) */
static int64_t kp_mu_maybe_update(void *ctx, int64_t now) {
    kp_metadata_updater *u = ctx;
    int64_t ttn = kp_metadata_time_to_next_update(u->md, now);
    int64_t wait = u->fetch_in_progress ? u->request_timeout_ms : 0;
    int64_t timeout = ttn > wait ? ttn : wait;
    if (timeout > 0)
        return timeout;
    kp_node node;
    if (!kp_netclient_least_loaded_node(u->nc, now, &node))
        return u->reconnect_backoff_ms;
    return kp_mu_maybe_update_node(u, &node, now);
}

static const kp_metadata_updater_ops kp_mu_ops = {
    kp_mu_fetch_nodes, kp_mu_is_update_due, kp_mu_maybe_update, kp_mu_request_update
};

kp_metadata_updater *kp_metadata_updater_new(kp_netclient *nc, kp_metadata *md,
                                             int64_t request_timeout_ms,
                                             int64_t reconnect_backoff_ms, const kp_env *env) {
    kp_metadata_updater *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->arena = kp_arena_new(0, 0);
    if (!u->arena) {
        free(u);
        return NULL;
    }
    u->nc = nc;
    u->md = md;
    u->env = *env;
    u->request_timeout_ms = request_timeout_ms;
    u->reconnect_backoff_ms = reconnect_backoff_ms;
    kp_netclient_set_updater(nc, &kp_mu_ops, u);
    return u;
}

void kp_metadata_updater_destroy(kp_metadata_updater *u) {
    if (!u)
        return;
    kp_arena_destroy(u->arena);
    free(u);
}

bool kp_metadata_updater_fetch_in_progress(const kp_metadata_updater *u) {
    return u->fetch_in_progress;
}

int64_t kp_metadata_updater_requests(const kp_metadata_updater *u) {
    return u->requests;
}
