/*
 * kp_env.c — the little code the seams need (see kp_env.h).
 */
#include "kp_env.h"

#include <string.h>

void kp_event_init(kp_event *ev, int kind, kp_time_us now) {
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->time_us = now;
    ev->node = -1;
    ev->partition = -1;
    ev->batch_id = -1;
    ev->base_sequence = -1;
    ev->record_count = -1;
    ev->bytes = -1;
    ev->correlation_id = -1;
    ev->api_key = -1;
    ev->err = KP_ERR_NONE;
    ev->attempt = -1;
    ev->offset = -1;
    ev->producer_id = -1;
    ev->producer_epoch = -1;
    ev->value = -1;
}
