/*
 * sn_chaos.h — random faults at given rates ("chaos" mode).
 *
 * Each fault kind with a rate > 0 is a Poisson process on the event queue:
 * the gap to its next fault is exponential with mean 1/rate seconds. Each
 * fault picks its target among the given nodes (two distinct nodes for pair
 * faults, one node for a crash) and, except disconnects, lasts an
 * exponential duration with mean mean_duration_us, clamped so that every
 * chaos fault has ended by `until`: after `until` the network is whole again
 * (partitions healed, blackholes off, slow links restored, crashed nodes
 * up). No fault starts at or after `until`.
 *
 * Every draw (gaps, targets, durations, one-way-ness) comes from the stream
 * sn_rng_stream(w, "chaos") for the first chaos run of a world, "chaos#2"
 * for the second, and so on; the faults themselves emit their usual events
 * with " chaos" in the detail.
 *
 * Interaction with scripted faults: chaos partitions and blackholes are
 * counted separately from scripted ones, so a chaos fault ending does not
 * lift a scripted one; sn_fault_heal lifts both kinds of partition. A slow
 * link restores the configuration it replaced (a sn_set_link on that pair
 * during the slowdown is overwritten at its end). A crash is skipped when
 * the node is already down; an active-fault table of max_active entries
 * bounds concurrent faults (a draw that finds it full is skipped and emits
 * SN_EV_CHAOS_SKIP).
 *
 * Memory: the world owns the chaos state (freed by sn_world_destroy); the
 * nodes array is copied.
 */
#ifndef SN_CHAOS_H
#define SN_CHAOS_H

#include <stdbool.h>

#include "sn_net.h"
#include "sn_world.h"

typedef struct sn_chaos_cfg {
    double disconnects_per_s;  /* reset every connection between two nodes */
    double partitions_per_s;   /* partition two nodes */
    double blackholes_per_s;   /* blackhole two nodes */
    double slow_links_per_s;   /* multiply a pair's latency, cap its bandwidth */
    double crashes_per_s;      /* node down, later up */
    kp_time_us mean_duration_us; /* mean length of a partition/blackhole/slow/crash */
    double one_way_fraction;   /* share of partitions that block one direction only */
    double slow_factor;        /* latency multiplier of a slow link (<= 1: x10) */
    int64_t slow_bandwidth_bps;/* bandwidth of a slow link (0: unchanged) */
    int max_active;            /* concurrent faults with a duration (<= 0: 64) */
    /* Told of every chaos crash (down = true) and restart; may be NULL. The
     * runner stops and restarts the broker behind the node here. */
    void (*on_crash)(void *ctx, sn_node *node, bool down);
    void *on_crash_ctx;
} sn_chaos_cfg;

/* Starts a chaos run over nodes[0..n) from now until `until`. */
void sn_chaos_start(sn_world *w, const sn_chaos_cfg *cfg, sn_node **nodes, int n,
                    kp_time_us until);

/* Faults started so far by all chaos runs of w, by kind. */
typedef struct sn_chaos_stats {
    uint64_t disconnects, partitions, blackholes, slow_links, crashes, skipped;
} sn_chaos_stats;
sn_chaos_stats sn_chaos_get_stats(const sn_world *w);

#endif
