/*
 * bm_events.c — names of broker_mock's event kinds (see bm_events.h).
 */
#include "bm_events.h"

static const char *const bm_event_names[] = {
    "request", "response", "append", "duplicate", "error",
    "isr_shrink", "isr_expand", "leader_change", "truncate", "replicate",
    "hw_advance", "conn_closed", "broker_down", "broker_up", "topic_created",
    "txn_state", "txn_marker", "throttle", "injected", "pid_alloc", "log_start",
};

const char *bm_event_name(int kind) {
    int i = kind - KP_EV_BASE_BROKER;
    if (i < 0 || i >= (int)(sizeof bm_event_names / sizeof bm_event_names[0]))
        return 0;
    return bm_event_names[i];
}
