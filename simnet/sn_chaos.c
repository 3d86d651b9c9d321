/*
 * sn_chaos.c — Poisson fault processes on the event queue (see sn_chaos.h).
 *
 * One chaos run = one timer per fault kind (the next fault of that kind) and
 * a fixed table of active faults, each with its embedded end timer: nothing
 * is allocated after sn_chaos_start. Draw order per fault, all from the
 * run's stream: targets, then (for faults with a duration) one-way-ness and
 * duration, then the gap to the next fault of that kind.
 */
#include "sn_events.h"
#include "sn_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CK_DISCONNECT, CK_PARTITION, CK_BLACKHOLE, CK_SLOW, CK_CRASH, CK_N };

typedef struct sn__fault {
    sn__chaos *ch;
    int kind;
    bool active;
    bool both;
    sn_node *a, *b;
    bool had_ab, had_ba;       /* slow link: what it replaced */
    sn_link_cfg saved_ab, saved_ba;
    uint64_t number;
    sn_timer end;
} sn__fault;

typedef struct sn__next {
    sn__chaos *ch;
    int kind;
    sn_timer t;
} sn__next;

struct sn__chaos {
    sn_world *w;
    sn__chaos *next;
    int run;                   /* 1 for the world's first chaos run */
    sn_chaos_cfg cfg;
    sn_node **nodes;
    int n;
    kp_time_us until;
    kp_rng rng;
    sn__next next_fault[CK_N];
    sn__fault *faults;
    int max_active;
    uint64_t count;
    sn_chaos_stats stats;
};

static double sn__rate(const sn_chaos_cfg *cfg, int kind) {
    switch (kind) {
    case CK_DISCONNECT: return cfg->disconnects_per_s;
    case CK_PARTITION:  return cfg->partitions_per_s;
    case CK_BLACKHOLE:  return cfg->blackholes_per_s;
    case CK_SLOW:       return cfg->slow_links_per_s;
    default:            return cfg->crashes_per_s;
    }
}

static void sn__chaos_emit(sn__chaos *ch, int kind, uint64_t number, const char *what) {
    sn_world *w = ch->w;
    if (!w->obs.on_event)
        return;
    kp_event ev;
    kp_event_init(&ev, kind, w->head.now);
    ev.value = (int64_t)number;
    ev.offset = ch->until;
    ev.attempt = ch->run;
    ev.detail = what;
    kp_observer_emit(&w->obs, &ev);
}

static void sn__arm(sn__chaos *ch, int kind) {
    double rate = sn__rate(&ch->cfg, kind);
    if (!(rate > 0))
        return;
    kp_time_us gap = (kp_time_us)kp_rng_exp(&ch->rng, 1e6 / rate) + 1;
    kp_time_us at = ch->w->head.now + gap;
    if (at < ch->until)
        sn_timer_schedule(ch->w, &ch->next_fault[kind].t, at);
}

static bool sn__pick_pair(sn__chaos *ch, sn_node **a, sn_node **b) {
    if (ch->n < 2)
        return false;
    uint64_t i = kp_rng_below(&ch->rng, (uint64_t)ch->n);
    uint64_t j = kp_rng_below(&ch->rng, (uint64_t)ch->n - 1);
    if (j >= i)
        j++;
    *a = ch->nodes[i];
    *b = ch->nodes[j];
    return true;
}

static sn__fault *sn__free_slot(sn__chaos *ch) {
    for (int i = 0; i < ch->max_active; i++)
        if (!ch->faults[i].active)
            return &ch->faults[i];
    return NULL;
}

static void sn__skip(sn__chaos *ch, const char *why) {
    ch->stats.skipped++;
    sn__chaos_emit(ch, SN_EV_CHAOS_SKIP, ch->count, why);
}

static void sn__slow_apply(sn__chaos *ch, sn__fault *f) {
    sn_world *w = ch->w;
    sn__link *ab = sn__link_of(w, f->a, f->b), *ba = sn__link_of(w, f->b, f->a);
    f->had_ab = ab->has_cfg;
    f->saved_ab = ab->cfg;
    f->had_ba = ba->has_cfg;
    f->saved_ba = ba->cfg;
    double factor = ch->cfg.slow_factor > 1 ? ch->cfg.slow_factor : 10.0;
    sn_link_cfg c1 = sn_link_get(w, f->a, f->b), c2 = sn_link_get(w, f->b, f->a);
    c1.latency_us = (kp_time_us)((double)c1.latency_us * factor);
    c2.latency_us = (kp_time_us)((double)c2.latency_us * factor);
    if (ch->cfg.slow_bandwidth_bps > 0)
        c1.bandwidth_bps = c2.bandwidth_bps = ch->cfg.slow_bandwidth_bps;
    sn_set_link_oneway(w, f->a, f->b, c1);
    sn_set_link_oneway(w, f->b, f->a, c2);
    ab->slow_chaos = ba->slow_chaos = true;
}

static void sn__slow_restore(sn__chaos *ch, sn__fault *f) {
    sn_world *w = ch->w;
    sn__link *ab = sn__link_of(w, f->a, f->b), *ba = sn__link_of(w, f->b, f->a);
    if (f->had_ab)
        sn_set_link_oneway(w, f->a, f->b, f->saved_ab);
    else
        ab->has_cfg = false;
    if (f->had_ba)
        sn_set_link_oneway(w, f->b, f->a, f->saved_ba);
    else
        ba->has_cfg = false;
    ab->slow_chaos = ba->slow_chaos = false;
}

static void sn__fault_end(void *ctx, sn_world *w) {
    sn__fault *f = ctx;
    sn__chaos *ch = f->ch;
    (void)w;
    f->active = false;
    sn__chaos_emit(ch, SN_EV_CHAOS_END, f->number, "");
    switch (f->kind) {
    case CK_PARTITION: sn__partition(ch->w, f->a, f->b, f->both, true, false); break;
    case CK_BLACKHOLE: sn__blackhole(ch->w, f->a, f->b, false, true); break;
    case CK_SLOW:      sn__slow_restore(ch, f); break;
    case CK_CRASH:
        sn__node_up(ch->w, f->a, "chaos");
        if (ch->cfg.on_crash)
            ch->cfg.on_crash(ch->cfg.on_crash_ctx, f->a, false);
        break;
    default: break;
    }
}

static void sn__fault_fire(void *ctx, sn_world *w) {
    sn__next *nx = ctx;
    sn__chaos *ch = nx->ch;
    int kind = nx->kind;
    if (w->head.now >= ch->until)
        return;
    ch->count++;
    sn_node *a = NULL, *b = NULL;
    if (kind == CK_DISCONNECT) {
        if (sn__pick_pair(ch, &a, &b)) {
            ch->stats.disconnects++;
            sn__disconnect(w, a, b, "chaos");
        } else {
            sn__skip(ch, "disconnect: fewer than two nodes");
        }
        sn__arm(ch, kind);
        return;
    }
    sn__fault *f = sn__free_slot(ch);
    bool picked = kind == CK_CRASH
                      ? (ch->n > 0 && (a = ch->nodes[kp_rng_below(&ch->rng, (uint64_t)ch->n)]))
                      : sn__pick_pair(ch, &a, &b);
    bool both = kind != CK_PARTITION || !kp_rng_chance(&ch->rng, ch->cfg.one_way_fraction);
    kp_time_us dur = (kp_time_us)kp_rng_exp(&ch->rng, (double)ch->cfg.mean_duration_us) + 1;
    if (!f || !picked) {
        sn__skip(ch, !f ? "active-fault table full" : "no target");
    } else if (kind == CK_SLOW && (sn__link_of(w, a, b)->slow_chaos || sn__link_of(w, b, a)->slow_chaos)) {
        sn__skip(ch, "link already slow");
    } else if (kind == CK_CRASH && !a->up) {
        sn__skip(ch, "node already down");
    } else {
        f->active = true;
        f->kind = kind;
        f->a = a;
        f->b = b;
        f->both = both;
        f->number = ch->count;
        kp_time_us end = w->head.now + dur;
        if (end > ch->until)
            end = ch->until;
        switch (kind) {
        case CK_PARTITION:
            ch->stats.partitions++;
            sn__partition(w, a, b, both, true, true);
            break;
        case CK_BLACKHOLE:
            ch->stats.blackholes++;
            sn__blackhole(w, a, b, true, true);
            break;
        case CK_SLOW:
            ch->stats.slow_links++;
            sn__slow_apply(ch, f);
            break;
        default:
            ch->stats.crashes++;
            sn__node_down(w, a, "chaos");
            if (ch->cfg.on_crash)
                ch->cfg.on_crash(ch->cfg.on_crash_ctx, a, true);
            break;
        }
        sn_timer_schedule(w, &f->end, end);
    }
    sn__arm(ch, kind);
}

void sn_chaos_start(sn_world *w, const sn_chaos_cfg *cfg, sn_node **nodes, int n,
                    kp_time_us until) {
    sn__chaos *ch = calloc(1, sizeof *ch);
    if (!ch)
        abort();
    int run = 1;
    for (sn__chaos *o = w->chaos; o; o = o->next)
        run++;
    ch->w = w;
    ch->run = run;
    ch->cfg = *cfg;
    ch->n = n > 0 ? n : 0;
    ch->until = until;
    ch->max_active = cfg->max_active > 0 ? cfg->max_active : 64;
    ch->nodes = calloc((size_t)(ch->n ? ch->n : 1), sizeof *ch->nodes);
    ch->faults = calloc((size_t)ch->max_active, sizeof *ch->faults);
    if (!ch->nodes || !ch->faults)
        abort();
    if (ch->n)
        memcpy(ch->nodes, nodes, (size_t)ch->n * sizeof *nodes);
    char name[32];
    if (run == 1)
        snprintf(name, sizeof name, "chaos");
    else
        snprintf(name, sizeof name, "chaos#%d", run);
    ch->rng = sn_rng_stream(w, name);
    for (int i = 0; i < ch->max_active; i++) {
        ch->faults[i].ch = ch;
        sn_timer_init(&ch->faults[i].end, sn__fault_end, &ch->faults[i]);
    }
    /* append: runs are kept in start order */
    sn__chaos **tail = &w->chaos;
    while (*tail)
        tail = &(*tail)->next;
    *tail = ch;
    sn__chaos_emit(ch, SN_EV_CHAOS_START, (uint64_t)run, name);
    for (int k = 0; k < CK_N; k++) {
        ch->next_fault[k].ch = ch;
        ch->next_fault[k].kind = k;
        sn_timer_init(&ch->next_fault[k].t, sn__fault_fire, &ch->next_fault[k]);
        sn__arm(ch, k);
    }
}

sn_chaos_stats sn_chaos_get_stats(const sn_world *w) {
    sn_chaos_stats s = { 0 };
    for (const sn__chaos *ch = w->chaos; ch; ch = ch->next) {
        s.disconnects += ch->stats.disconnects;
        s.partitions += ch->stats.partitions;
        s.blackholes += ch->stats.blackholes;
        s.slow_links += ch->stats.slow_links;
        s.crashes += ch->stats.crashes;
        s.skipped += ch->stats.skipped;
    }
    return s;
}

void sn__chaos_destroy(sn_world *w) {
    while (w->chaos) {
        sn__chaos *ch = w->chaos;
        w->chaos = ch->next;
        for (int k = 0; k < CK_N; k++)
            sn_timer_cancel(w, &ch->next_fault[k].t);
        for (int i = 0; i < ch->max_active; i++)
            sn_timer_cancel(w, &ch->faults[i].end);
        free(ch->faults);
        free(ch->nodes);
        free(ch);
    }
}
