/*
 * sn_fault.c — faults as data: name, parse, apply now, apply at a time
 * (see "faults as data" in sn_net.h). Scenario files list faults by name
 * and time; this is the one table that maps them onto the sn_fault_* calls.
 *
 * Memory: each scheduled fault is one small struct with its timer, owned by
 * the world in a doubly linked list in scheduling order; it is freed when it
 * fires or by sn_world_destroy.
 */
#include "sn_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct sn__planned {
    struct sn__planned *prev, *next;
    sn_world *w;
    sn_fault f;
    sn_timer t;
} sn__planned;

static const struct {
    sn_fault_kind kind;
    const char *name;
} sn__fault_names[] = {
    { SN_FAULT_DISCONNECT, "disconnect" },
    { SN_FAULT_PARTITION, "partition" },
    { SN_FAULT_PARTITION_ONEWAY, "partition_oneway" },
    { SN_FAULT_HEAL, "heal" },
    { SN_FAULT_BLACKHOLE_ON, "blackhole_on" },
    { SN_FAULT_BLACKHOLE_OFF, "blackhole_off" },
    { SN_FAULT_NODE_DOWN, "node_down" },
    { SN_FAULT_NODE_UP, "node_up" },
    { SN_FAULT_LINK, "link" },
};

const char *sn_fault_kind_name(sn_fault_kind k) {
    for (size_t i = 0; i < sizeof sn__fault_names / sizeof sn__fault_names[0]; i++)
        if (sn__fault_names[i].kind == k)
            return sn__fault_names[i].name;
    return NULL;
}

sn_fault_kind sn_fault_kind_parse(const char *name) {
    for (size_t i = 0; name && i < sizeof sn__fault_names / sizeof sn__fault_names[0]; i++)
        if (strcmp(sn__fault_names[i].name, name) == 0)
            return sn__fault_names[i].kind;
    return (sn_fault_kind)0;
}

void sn_fault_apply(sn_world *w, const sn_fault *f) {
    switch (f->kind) {
    case SN_FAULT_DISCONNECT:       sn_fault_disconnect(w, f->a, f->b); break;
    case SN_FAULT_PARTITION:        sn_fault_partition(w, f->a, f->b, true); break;
    case SN_FAULT_PARTITION_ONEWAY: sn_fault_partition(w, f->a, f->b, false); break;
    case SN_FAULT_HEAL:             sn_fault_heal(w, f->a, f->b); break;
    case SN_FAULT_BLACKHOLE_ON:     sn_fault_blackhole(w, f->a, f->b, true); break;
    case SN_FAULT_BLACKHOLE_OFF:    sn_fault_blackhole(w, f->a, f->b, false); break;
    case SN_FAULT_NODE_DOWN:        sn_fault_node_down(w, f->a); break;
    case SN_FAULT_NODE_UP:          sn_fault_node_up(w, f->a); break;
    case SN_FAULT_LINK:             sn_set_link(w, f->a, f->b, f->link); break;
    }
}

static void sn__unlink_planned(sn_world *w, sn__planned *p) {
    if (p->prev)
        p->prev->next = p->next;
    else
        w->planned = p->next;
    if (p->next)
        p->next->prev = p->prev;
}

static void sn__planned_fire(void *ctx, sn_world *w) {
    sn__planned *p = ctx;
    sn_fault f = p->f;
    sn__unlink_planned(w, p);
    free(p);
    sn_fault_apply(w, &f);
}

void sn_fault_schedule(sn_world *w, kp_time_us at, const sn_fault *f) {
    sn__planned *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->w = w;
    p->f = *f;
    sn_timer_init(&p->t, sn__planned_fire, p);
    /* append: kept in scheduling order */
    sn__planned **tail = &w->planned;
    sn__planned *prev = NULL;
    while (*tail) {
        prev = *tail;
        tail = &(*tail)->next;
    }
    p->prev = prev;
    *tail = p;
    sn_timer_schedule(w, &p->t, at);
}

void sn__faults_destroy(sn_world *w) {
    while (w->planned) {
        sn__planned *p = w->planned;
        w->planned = p->next;
        sn_timer_cancel(w, &p->t);
        free(p);
    }
}
