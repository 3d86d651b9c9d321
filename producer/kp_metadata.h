/*
 * kp_metadata.h — the producer's cluster view (org.apache.kafka.common.Cluster)
 * and its refresh bookkeeping (org.apache.kafka.clients.Metadata, 2.1.1).
 *
 * Two types:
 *  - kp_cluster: an immutable snapshot of nodes, topics and partitions
 *    (leader, leader epoch, replicas, isr, offline), plus the unauthorized
 *    and invalid topic sets and each topic's error from the response. Built
 *    with kp_cluster_new + kp_cluster_add_*, then sealed (kp_cluster_seal,
 *    or implicitly by kp_metadata_update), after which it never changes.
 *  - kp_metadata: holds the current kp_cluster, a version bumped on each
 *    successful update, needUpdate / lastRefresh / lastSuccessfulRefresh,
 *    the set of topics the producer uses (with expiry: a topic unused for
 *    TOPIC_EXPIRY_MS is dropped at the next update), listeners.
 *
 * Blocking: Java's awaitUpdate(version, maxWait) blocks the application
 * thread. Here the facade (kp_producer) suspends the application actor and
 * watches kp_metadata_version(); everything it needs to decide (version,
 * partition count, invalid / unauthorized topics, the last auth error,
 * closed) is exposed below. Nothing in this module waits.
 *
 * Determinism: topics, nodes and partitions are kept in arrays in the order
 * they were added (the response's order); lookups compare strings, never
 * pointers; no hash table is iterated.
 *
 * Memory: a kp_cluster owns all its strings and arrays. kp_metadata_update
 * TAKES OWNERSHIP of the cluster it is given (also when it ignores it).
 * The cluster returned by kp_metadata_fetch is borrowed: valid until the next
 * successful kp_metadata_update (or kp_metadata_destroy). Strings returned by
 * accessors live as long as their cluster / metadata.
 */
#ifndef KP_METADATA_H
#define KP_METADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_env.h"
#include "kp_err.h"
#include "kp_hint.h"

/* Metadata.TOPIC_EXPIRY_MS: an unused topic leaves the refresh set. */
#define KP_TOPIC_EXPIRY_MS 300000
/* Metadata.TOPIC_EXPIRY_NEEDS_UPDATE: expiry set at the next update. */
#define KP_TOPIC_EXPIRY_NEEDS_UPDATE (-1)

#define KP_NO_LEADER (-1)

typedef struct kp_node {
    int32_t id;          /* broker id; bootstrap nodes are -1, -2, ... */
    const char *host;
    int32_t port;
    const char *rack;    /* NULL if none */
} kp_node;

typedef struct kp_partition_info {
    const char *topic;
    int32_t partition;
    int32_t leader;          /* node id, KP_NO_LEADER if none or unknown node */
    int32_t leader_epoch;    /* -1 unknown (Metadata v7 gives it) */
    kp_err error;            /* partition error from the response */
    const int32_t *replicas; int32_t replica_count;
    const int32_t *isr;      int32_t isr_count;
    const int32_t *offline;  int32_t offline_count;
} kp_partition_info;

/* A (topic, partition) reference; the topic string is borrowed. */
typedef struct kp_tp {
    const char *topic;
    int32_t partition;
} kp_tp;

/* ------------------------------------------------------------------ */
/* kp_cluster                                                          */
/* ------------------------------------------------------------------ */

typedef struct kp_cluster kp_cluster;

kp_cluster *kp_cluster_new(void);
void kp_cluster_destroy(kp_cluster *cl); /* NULL ok */

/* Builders (before seal). Strings are copied. Errors: KP_ERR__STATE after
 * seal, KP_ERR__INVALID_ARG for a duplicate node / partition or a partition
 * of a topic not added, KP_ERR__NOMEM. */
kp_err kp_cluster_add_node(kp_cluster *cl, int32_t id, const char *host,
                           int32_t port, const char *rack);
/* A topic from the response. error TOPIC_AUTHORIZATION_FAILED puts it in the
 * unauthorized set, INVALID_TOPIC_EXCEPTION in the invalid set; any error
 * other than NONE means it gets no partitions (Java MetadataResponse.cluster
 * skips it), so kp_cluster_partition_count returns -1. */
kp_err kp_cluster_add_topic(kp_cluster *cl, const char *topic, kp_err error,
                            bool is_internal);
kp_err kp_cluster_add_partition(kp_cluster *cl, const char *topic,
                                int32_t partition, int32_t leader,
                                int32_t leader_epoch,
                                const int32_t *replicas, int32_t n_replicas,
                                const int32_t *isr, int32_t n_isr,
                                const int32_t *offline, int32_t n_offline,
                                kp_err error);
void kp_cluster_set_id(kp_cluster *cl, const char *cluster_id); /* NULL ok */
void kp_cluster_set_controller(kp_cluster *cl, int32_t node_id);
/* Resolves leaders (an id not among the nodes becomes KP_NO_LEADER), sorts
 * each topic's partitions by id and builds partitionsForNode. Idempotent. */
void kp_cluster_seal(kp_cluster *cl);

/* Cluster.bootstrap: nodes -1, -2, ... from "host:port,host:port"
 * (whitespace around entries ignored; "[v6addr]:port" accepted). NULL with
 * *err set (KP_ERR__CONFIG) when an entry does not parse. Sealed. */
kp_cluster *kp_cluster_bootstrap(const char *servers, kp_err *err);

/* Accessors (after seal). */
bool kp_cluster_is_bootstrap(const kp_cluster *cl);
const char *kp_cluster_id(const kp_cluster *cl);           /* NULL if none */
int32_t kp_cluster_controller(const kp_cluster *cl);        /* -1 if none */
size_t kp_cluster_node_count(const kp_cluster *cl);
const kp_node *kp_cluster_node_at(const kp_cluster *cl, size_t i);
const kp_node *kp_cluster_node_by_id(const kp_cluster *cl, int32_t id);

size_t kp_cluster_topic_count(const kp_cluster *cl);
const char *kp_cluster_topic_at(const kp_cluster *cl, size_t i);
/* Cluster.partitionCountForTopic: -1 when unknown (absent or error). */
int32_t kp_cluster_partition_count(const kp_cluster *cl, const char *topic);
/* The topic's error in the response; KP_ERR__NOENT if the topic is absent. */
kp_err kp_cluster_topic_error(const kp_cluster *cl, const char *topic);
bool kp_cluster_topic_is_internal(const kp_cluster *cl, const char *topic);
bool kp_cluster_topic_unauthorized(const kp_cluster *cl, const char *topic);
bool kp_cluster_topic_invalid(const kp_cluster *cl, const char *topic);
/* A topic of a sealed cluster, looked up by name once and then asked without
 * comparing names again (the send path asks four questions per record).
 * Borrowed from the cluster: valid as long as the cluster, NULL when the
 * cluster does not know the topic (then the answers below are those of an
 * absent topic: -1, false, 0). */
typedef struct kp_cluster_topic kp_cluster_topic;
const kp_cluster_topic *kp_cluster_topic_find(const kp_cluster *cl, const char *topic);
int32_t kp_cluster_topic_partition_count(const kp_cluster_topic *ct);
/* The topic's error in the response is `error` (false for NULL). */
bool kp_cluster_topic_has_error(const kp_cluster_topic *ct, kp_err error);
size_t kp_cluster_topic_available_partitions(const kp_cluster *cl, const kp_cluster_topic *ct,
                                             const kp_partition_info *const **out);
/* A number no other cluster of this process has had or will have (and a
 * new one when the cluster is sealed): a cache keyed by it cannot mistake
 * a new cluster at a freed one's address for the old one. Only for
 * equality tests (it depends on what the process did before, so it never
 * reaches a trace). */
uint64_t kp_cluster_generation(const kp_cluster *cl);

/* Partition info, NULL if unknown. */
const kp_partition_info *kp_cluster_partition(const kp_cluster *cl,
                                              const char *topic,
                                              int32_t partition);
/* Cluster.leaderFor: node id, or KP_NO_LEADER. */
int32_t kp_cluster_leader_for(const kp_cluster *cl, const char *topic,
                              int32_t partition);
/* Cluster.partitionsForTopic, sorted by partition id; returns the count
 * (0 when unknown) and sets *out to an internal array. */
size_t kp_cluster_partitions_for_topic(const kp_cluster *cl, const char *topic,
                                       const kp_partition_info *const **out);
/* Cluster.availablePartitionsForTopic: those with a leader, by id. */
size_t kp_cluster_available_partitions(const kp_cluster *cl, const char *topic,
                                       const kp_partition_info *const **out);
/* Cluster.partitionsForNode: partitions led by node_id, in the order the
 * partitions were added (the response's order). */
size_t kp_cluster_partitions_for_node(const kp_cluster *cl, int32_t node_id,
                                      const kp_tp **out);

/* ------------------------------------------------------------------ */
/* kp_metadata                                                         */
/* ------------------------------------------------------------------ */

typedef struct kp_metadata kp_metadata;

/* Metadata.Listener.onMetadataUpdate: called after each successful update
 * with the new cluster (borrowed). */
typedef void kp_metadata_listener_fn(void *ctx, const kp_cluster *cl);

/* refresh_backoff_ms = retry.backoff.ms, max_age_ms = metadata.max.age.ms;
 * topic_expiry: the producer passes true. obs may be NULL (borrowed).
 * Starts with an empty cluster, version 0, lastRefresh = 0. */
kp_metadata *kp_metadata_new(int64_t refresh_backoff_ms, int64_t max_age_ms,
                             bool topic_expiry, const kp_observer *obs);
void kp_metadata_destroy(kp_metadata *md); /* NULL ok */

/* Metadata.fetch: the current cluster (borrowed, see above). Never NULL. */
const kp_cluster *kp_metadata_fetch(const kp_metadata *md);
/* kp_cluster_generation(kp_metadata_fetch(md)) in place, valid as long as
 * md and updated with every new current cluster: the producer compares it
 * with the generation it last resolved a topic in, on every send, without
 * a call. */
const uint64_t *kp_metadata_generation_ref(const kp_metadata *md);

/* Metadata.add: use a topic (resets its expiry). A topic new to the set
 * requests an update at once (lastRefresh := 0, needUpdate). now is for
 * the event only. */
void kp_metadata_add(kp_metadata *md, const char *topic, int64_t now);
/* The same through the caller's hint for that topic (kp_hint.h; NULL:
 * by name): the send path keeps one per topic, so a record's topic is
 * found without a string compare. The set's generation changes only when
 * an update expires topics out of it. True when the topic is in the set
 * and marked, false only when out of memory. */
bool kp_metadata_add_h(kp_metadata *md, const char *topic, int64_t now, kp_hint *hint);
/* kp_metadata_version in place, valid as long as md. Only a successful
 * update moves it, and only such an update changes a topic's expiry mark
 * (KP_TOPIC_EXPIRY_NEEDS_UPDATE -> a time) or drops a topic: a caller that
 * added a topic at version v need not add it again while the version still
 * reads v (the add would store the mark the topic already holds). The
 * producer's send adds its topic once per version this way. */
const int32_t *kp_metadata_version_ref(const kp_metadata *md);
bool kp_metadata_contains_topic(const kp_metadata *md, const char *topic);
/* Topics in the refresh set, in the order first added. */
size_t kp_metadata_topic_count(const kp_metadata *md);
const char *kp_metadata_topic_at(const kp_metadata *md, size_t i);

/* Metadata.requestUpdate: sets needUpdate, returns the current version. */
int32_t kp_metadata_request_update(kp_metadata *md, int64_t now);
bool kp_metadata_update_requested(const kp_metadata *md);
/* Metadata.timeToAllowUpdate: max(lastRefresh + backoff - now, 0). */
int64_t kp_metadata_time_to_allow_update(const kp_metadata *md, int64_t now);
/* Metadata.timeToNextUpdate: max(needUpdate ? 0 :
 * max(lastSuccessfulRefresh + max_age - now, 0), timeToAllowUpdate). */
int64_t kp_metadata_time_to_next_update(const kp_metadata *md, int64_t now);

/* Applies a response-derived cluster (TAKES OWNERSHIP, seals it).
 * A cluster without nodes is ignored and counted as a failed update
 * (NetworkClient.handleCompletedMetadataResponse 2.1): returns false.
 * Otherwise Metadata.update: needUpdate := false, lastRefresh :=
 * lastSuccessfulRefresh := now, version++, topic expiry, listeners;
 * returns true. After close, the cluster is freed and false returned. */
bool kp_metadata_update(kp_metadata *md, kp_cluster *cl, int64_t now);
/* Metadata.failedUpdate: lastRefresh := now; remembers auth_err when it is
 * not KP_ERR_NONE (an AuthenticationException). */
void kp_metadata_failed_update(kp_metadata *md, int64_t now, kp_err auth_err);
/* Metadata.getAndClearAuthenticationException. */
kp_err kp_metadata_take_auth_error(kp_metadata *md);

int32_t kp_metadata_version(const kp_metadata *md);
int64_t kp_metadata_last_refresh(const kp_metadata *md);
int64_t kp_metadata_last_successful_update(const kp_metadata *md);

/* needMetadataForAllTopics (false for the producer). Turning it on requests
 * an update; with it on, an update keeps only the topics in the set. */
void kp_metadata_set_need_all_topics(kp_metadata *md, bool v);
bool kp_metadata_need_all_topics(const kp_metadata *md);

/* Up to 4 listeners; returns KP_ERR__NOMEM when full. */
kp_err kp_metadata_add_listener(kp_metadata *md, kp_metadata_listener_fn *fn,
                                void *ctx);

/* Metadata.close: later updates are ignored; waiters should fail with
 * "Requested metadata update after close". */
void kp_metadata_close(kp_metadata *md);
bool kp_metadata_is_closed(const kp_metadata *md);

/* Bootstrap (KafkaProducer constructor): update(Cluster.bootstrap(...)).
 * Returns KP_ERR__CONFIG if the server list does not parse. */
kp_err kp_metadata_bootstrap(kp_metadata *md, const char *servers, int64_t now);

#endif
