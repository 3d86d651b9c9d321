/*
 * rp_kinds.c — the one table from kind names to what reports/ does with them
 * (see rp_kinds.h for the contract each name implies).
 */
#include "rp_kinds.h"

#include <string.h>

enum { L_PRODUCER = 1, L_BROKER = 2, L_NET = 4, L_HARNESS = 8, L_ANY = 15 };

typedef struct rp_kind_alias {
    const char *name;
    rp_role role;
    int layers;
} rp_kind_alias;

/* The first entry of each role is its canonical name. */
static const rp_kind_alias rp_aliases[] = {
    {"send", RP_ROLE_SEND, L_PRODUCER},
    {"record_send", RP_ROLE_SEND, L_PRODUCER},
    {"append", RP_ROLE_APPEND, L_PRODUCER},
    {"record_appended", RP_ROLE_APPEND, L_PRODUCER},
    {"batch_created", RP_ROLE_BATCH_CREATED, L_PRODUCER},
    {"drain", RP_ROLE_BATCH_DRAINED, L_PRODUCER},
    {"batch_drained", RP_ROLE_BATCH_DRAINED, L_PRODUCER},
    {"request_sent", RP_ROLE_REQUEST_SENT, L_PRODUCER},
    {"response_received", RP_ROLE_REQUEST_DONE, L_PRODUCER},
    {"request_timed_out", RP_ROLE_REQUEST_DONE, L_PRODUCER},
    {"request_failed", RP_ROLE_REQUEST_DONE, L_PRODUCER},
    {"request_disconnected", RP_ROLE_REQUEST_DONE, L_PRODUCER},
    {"disconnected", RP_ROLE_REQUEST_ABORT_NODE, L_PRODUCER},
    {"produce_request", RP_ROLE_PRODUCE_REQUEST, L_PRODUCER},
    {"batch_done", RP_ROLE_BATCH_ACKED, L_PRODUCER},
    {"batch_completed", RP_ROLE_BATCH_ACKED, L_PRODUCER},
    {"batch_acked", RP_ROLE_BATCH_ACKED, L_PRODUCER},
    {"batch_failed", RP_ROLE_BATCH_FAILED, L_PRODUCER},
    {"batch_aborted", RP_ROLE_BATCH_FAILED, L_PRODUCER},
    {"callback", RP_ROLE_CALLBACK, L_PRODUCER},
    {"record_callback", RP_ROLE_CALLBACK, L_PRODUCER},
    {"retry", RP_ROLE_RETRY, L_PRODUCER},
    {"batch_retry", RP_ROLE_RETRY, L_PRODUCER},
    {"batch_reenqueued", RP_ROLE_REENQUEUE, L_PRODUCER},
    {"split", RP_ROLE_SPLIT, L_PRODUCER},
    {"batch_split", RP_ROLE_SPLIT_PARENT, L_PRODUCER},
    {"metadata_update_requested", RP_ROLE_METADATA_REFRESH, L_PRODUCER},
    {"metadata_refresh", RP_ROLE_METADATA_REFRESH, L_PRODUCER},
    {"batch_expired", RP_ROLE_EXPIRED, L_PRODUCER},
    {"sender_expired", RP_ROLE_EXPIRED, L_PRODUCER},
    {"expired", RP_ROLE_EXPIRED, L_PRODUCER},
    {"buffer_allocated", RP_ROLE_BUFFER, L_PRODUCER},
    {"buffer_deallocated", RP_ROLE_BUFFER, L_PRODUCER},
    {"buffer_pool", RP_ROLE_BUFFER, L_PRODUCER},
    {"ready", RP_ROLE_READY, L_PRODUCER},
    {"wakeup", RP_ROLE_WAKEUP, L_PRODUCER},
    {"replicate", RP_ROLE_REPLICATE, L_BROKER},
    {"hw_advance", RP_ROLE_HW_ADVANCE, L_BROKER},
    {"fault", RP_ROLE_FAULT, L_ANY},
    {"disconnect", RP_ROLE_FAULT, L_NET},
    {"partition", RP_ROLE_FAULT, L_NET},
    {"blackhole_on", RP_ROLE_FAULT, L_NET},
    {"node_down", RP_ROLE_FAULT, L_NET},
    {"heal", RP_ROLE_FAULT, L_NET},
    {"blackhole_off", RP_ROLE_FAULT, L_NET},
    {"node_up", RP_ROLE_FAULT, L_NET},
    {"broker_down", RP_ROLE_FAULT, L_BROKER},
    {"broker_up", RP_ROLE_FAULT, L_BROKER},
    {"injected", RP_ROLE_FAULT, L_BROKER},
    {"leader_change", RP_ROLE_FAULT, L_BROKER},
    {"leader_move", RP_ROLE_FAULT, L_HARNESS | L_BROKER},
    {"link_down", RP_ROLE_FAULT, L_HARNESS | L_NET},
    {"link_partition", RP_ROLE_FAULT, L_HARNESS | L_NET},
    {"link_blackhole", RP_ROLE_FAULT, L_HARNESS | L_NET},
    {"broker_crash", RP_ROLE_FAULT, L_HARNESS | L_BROKER},
    {"disconnect_injected", RP_ROLE_FAULT, L_HARNESS | L_NET},
};

#define RP_NALIASES (sizeof rp_aliases / sizeof rp_aliases[0])

static int rp_layer_of(int kind) {
    if (kind >= 100 && kind < 200)
        return L_PRODUCER;
    if (kind >= 200 && kind < 300)
        return L_BROKER;
    if (kind >= 300 && kind < 400)
        return L_NET;
    if (kind >= 400 && kind < 500)
        return L_HARNESS;
    return L_ANY;
}

static rp_role rp_lookup(int layer, const char *kind_name) {
    if (!kind_name)
        return RP_ROLE_NONE;
    const char *dot = strrchr(kind_name, '.');
    const char *n = dot ? dot + 1 : kind_name;
    for (size_t i = 0; i < RP_NALIASES; i++)
        if ((rp_aliases[i].layers & layer) && strcmp(rp_aliases[i].name, n) == 0)
            return rp_aliases[i].role;
    if (strstr(n, "fault"))
        return RP_ROLE_FAULT;
    return RP_ROLE_NONE;
}

rp_role rp_kind_role_n(int kind, const char *kind_name) {
    return rp_lookup(rp_layer_of(kind), kind_name);
}

rp_role rp_kind_role(const char *kind_name) {
    return rp_lookup(L_ANY, kind_name);
}

rp_role rp_event_role(const rp_event *e) {
    rp_role r = rp_lookup(rp_layer_of(e->ev.kind), e->kind_name);
    /* a leader chosen at topic creation is no fault */
    if (r == RP_ROLE_FAULT && e->ev.detail && !strcmp(e->ev.detail, "create") && e->kind_name &&
        strstr(e->kind_name, "leader_change"))
        return RP_ROLE_NONE;
    return r;
}

const char *rp_role_name(rp_role role) {
    for (size_t i = 0; i < RP_NALIASES; i++)
        if (rp_aliases[i].role == role)
            return rp_aliases[i].name;
    return "none";
}

const char *rp_api_name(int api_key) {
    switch (api_key) {
    case 0: return "Produce";
    case 3: return "Metadata";
    case 10: return "FindCoordinator";
    case 18: return "ApiVersions";
    case 22: return "InitProducerId";
    case 24: return "AddPartitionsToTxn";
    case 26: return "EndTxn";
    default: return NULL;
    }
}
