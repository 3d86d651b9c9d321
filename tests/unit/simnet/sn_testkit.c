/*
 * sn_testkit.c — see sn_testkit.h.
 */
#include "sn_testkit.h"

#include <stdlib.h>
#include <string.h>

int tk_in_call;

void probe_init(probe *p, sn_world *w, kp_transport tr) {
    memset(p, 0, sizeof *p);
    p->w = w;
    p->tr = tr;
}

void probe_free(probe *p) {
    free(p->got);
    p->got = NULL;
}

void probe_drain(probe *p) {
    uint8_t buf[1000];
    for (;;) {
        ssize_t n = p->tr.recv(p->tr.ctx, p->c, buf, sizeof buf);
        if (n <= 0)
            break;
        if (p->got_len + (size_t)n > p->got_cap) {
            p->got_cap = (p->got_len + (size_t)n) * 2;
            p->got = realloc(p->got, p->got_cap);
        }
        memcpy(p->got + p->got_len, buf, (size_t)n);
        p->got_len += (size_t)n;
        p->reads++;
    }
}

void probe_cb(void *ctx, kp_conn *c, kp_conn_event ev, kp_err err) {
    probe *p = ctx;
    if (tk_in_call)
        p->reentered++;
    p->c = c;
    if (p->n < PROBE_MAX_EV) {
        p->ev[p->n] = ev;
        p->err[p->n] = err;
        p->at[p->n] = p->w ? sn_now(p->w) : 0;
        p->n++;
    }
    switch (ev) {
    case KP_CONN_EV_CONNECTED: p->connected++; break;
    case KP_CONN_EV_READABLE:
        p->readable++;
        if (p->auto_read)
            probe_drain(p);
        break;
    case KP_CONN_EV_WRITABLE: p->writable++; break;
    case KP_CONN_EV_CLOSED:
        p->closed++;
        p->closed_err = err;
        if (p->auto_read)
            probe_drain(p);
        if (p->close_on_closed) {
            p->tr.close(p->tr.ctx, c);
            p->c = NULL;
        }
        break;
    }
}

int probe_count(const probe *p, kp_conn_event ev) {
    int n = 0;
    for (int i = 0; i < p->n; i++)
        n += p->ev[i] == ev;
    return n;
}

void tk_accept(void *ctx, kp_conn *c) {
    tk_server *s = ctx;
    if (s->n >= s->max)
        return;
    probe *p = &s->probes[s->n++];
    probe_init(p, s->w, s->tr);
    p->c = c;
    p->auto_read = s->auto_read;
    sn_conn_set_cb(c, probe_cb, p);
}

void tk_obs_on_event(void *ctx, const kp_event *ev) {
    tk_obs *o = ctx;
    if (ev->kind >= 300 && ev->kind < 400)
        o->count[ev->kind - 300]++;
    o->total++;
    o->last = *ev;
}

kp_observer tk_obs_observer(tk_obs *o) {
    return (kp_observer){ .on_event = tk_obs_on_event, .ctx = o };
}
