/*
 * sn_testkit.h — helpers shared by the simnet drivers: a probe that records
 * a connection's events (and can drain it), a server that accepts into
 * probes, and an observer that counts event kinds.
 */
#ifndef SN_TESTKIT_H
#define SN_TESTKIT_H

#include <stdbool.h>
#include <stdint.h>

#include "simnet.h"

#define PROBE_MAX_EV 256

typedef struct probe {
    kp_conn *c;
    sn_world *w;
    kp_transport tr;          /* ops used to read (sim or live) */
    int n;
    kp_conn_event ev[PROBE_MAX_EV];
    kp_err err[PROBE_MAX_EV];
    kp_time_us at[PROBE_MAX_EV];
    bool auto_read;           /* drain on READABLE into got[] */
    bool close_on_closed;     /* close the handle on CLOSED */
    uint8_t *got;
    size_t got_len, got_cap;
    int reads;                /* recv calls that returned > 0 */
    int readable, writable, connected, closed;
    kp_err closed_err;
    int reentered;            /* set if a callback ran inside a user call */
} probe;

/* Set while a test is inside a send/recv/close call: a callback that sees it
 * proves re-entrancy. */
extern int tk_in_call;

void probe_init(probe *p, sn_world *w, kp_transport tr);
void probe_free(probe *p);
kp_conn_cb probe_cb;
/* Drains everything readable now. */
void probe_drain(probe *p);
int probe_count(const probe *p, kp_conn_event ev);

/* A server: accepts into probes[0..max). */
typedef struct tk_server {
    probe *probes;
    int max, n;
    bool auto_read;
    sn_world *w;
    kp_transport tr;
} tk_server;
void tk_accept(void *ctx, kp_conn *c);

/* An observer that counts kinds 300..399 and keeps the last event. */
typedef struct tk_obs {
    int count[100];
    int total;
    kp_event last;
} tk_obs;
void tk_obs_on_event(void *ctx, const kp_event *ev);
kp_observer tk_obs_observer(tk_obs *o);

/* Deterministic test bytes: byte i of stream `tag`. */
static inline uint8_t tk_byte(uint64_t tag, uint64_t i) {
    uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ULL ^ tag;
    x ^= x >> 29;
    return (uint8_t)(x * 0xbf58476d1ce4e5b9ULL >> 56);
}

#endif
