/*
 * rp_kinds.c — the one table from kind names to what reports/ does with them
 * (see rp_kinds.h for the contract each name implies).
 */
#include "rp_kinds.h"

#include <string.h>

typedef struct rp_kind_alias {
    const char *name;
    rp_role role;
} rp_kind_alias;

/* The first entry of each role is its canonical name. */
static const rp_kind_alias rp_aliases[] = {
    {"send", RP_ROLE_SEND},
    {"record_send", RP_ROLE_SEND},
    {"append", RP_ROLE_APPEND},
    {"record_appended", RP_ROLE_APPEND},
    {"batch_created", RP_ROLE_BATCH_CREATED},
    {"batch_drained", RP_ROLE_BATCH_DRAINED},
    {"request_sent", RP_ROLE_REQUEST_SENT},
    {"response_received", RP_ROLE_REQUEST_DONE},
    {"request_timed_out", RP_ROLE_REQUEST_DONE},
    {"request_failed", RP_ROLE_REQUEST_DONE},
    {"request_disconnected", RP_ROLE_REQUEST_DONE},
    {"batch_completed", RP_ROLE_BATCH_ACKED},
    {"batch_acked", RP_ROLE_BATCH_ACKED},
    {"batch_failed", RP_ROLE_BATCH_FAILED},
    {"callback", RP_ROLE_CALLBACK},
    {"record_callback", RP_ROLE_CALLBACK},
    {"retry", RP_ROLE_RETRY},
    {"batch_retry", RP_ROLE_RETRY},
    {"split", RP_ROLE_SPLIT},
    {"batch_split", RP_ROLE_SPLIT},
    {"metadata_update_requested", RP_ROLE_METADATA_REFRESH},
    {"metadata_refresh", RP_ROLE_METADATA_REFRESH},
    {"metadata_request", RP_ROLE_METADATA_REFRESH},
    {"batch_expired", RP_ROLE_EXPIRED},
    {"expired", RP_ROLE_EXPIRED},
    {"buffer_allocated", RP_ROLE_BUFFER},
    {"buffer_deallocated", RP_ROLE_BUFFER},
    {"buffer_pool", RP_ROLE_BUFFER},
    {"fault", RP_ROLE_FAULT},
    {"link_down", RP_ROLE_FAULT},
    {"link_partition", RP_ROLE_FAULT},
    {"link_blackhole", RP_ROLE_FAULT},
    {"broker_crash", RP_ROLE_FAULT},
    {"leader_move", RP_ROLE_FAULT},
    {"disconnect_injected", RP_ROLE_FAULT},
};

rp_role rp_kind_role(const char *kind_name) {
    if (!kind_name)
        return RP_ROLE_NONE;
    const char *dot = strrchr(kind_name, '.');
    const char *n = dot ? dot + 1 : kind_name;
    for (size_t i = 0; i < sizeof rp_aliases / sizeof rp_aliases[0]; i++)
        if (strcmp(rp_aliases[i].name, n) == 0)
            return rp_aliases[i].role;
    if (strstr(n, "fault"))
        return RP_ROLE_FAULT;
    return RP_ROLE_NONE;
}

const char *rp_role_name(rp_role role) {
    for (size_t i = 0; i < sizeof rp_aliases / sizeof rp_aliases[0]; i++)
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
