/*
 * live.c — real clock, non-blocking TCP sockets and a ppoll() loop behind
 * the kp_env seams (see live.h). The one file of simnet allowed to use the
 * real clock and sockets.
 *
 * One loop iteration, in the order libuv's uv_run reads:
 *   1. update the loop time (the live world's now) from CLOCK_MONOTONIC
 *   2. run timers that are due
 *   3. dispatch events posted by transport calls (refusals, EOF, errors)
 *   4. wait in ppoll() for readiness, the wakeup pipe, or the next timer
 *   5. dispatch readiness: accepts, connects completing, READABLE, WRITABLE
 *   6. free connections their users closed
 *
 * Invariants: conns[] holds every connection in creation order (freed ones
 * are compacted out in step 6 only, so indices stay valid during a
 * dispatch); a released connection has fd -1 and gets no callback.
 */
#include "live.h"

#include "sn_events.h"
#include "sn_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SN_LIVE_MAGIC 0x736e6c76u /* "snlv" */

enum { LEV_CONNECTED = 1, LEV_CLOSED = 8 };

struct kp_conn {
    uint32_t magic;
    sn_live *l;
    uint64_t id;
    int fd;
    kp_conn_state state;
    kp_conn_cb *cb;
    void *cb_ctx;
    bool released;
    bool want_write;
    bool maybe_readable;   /* readiness seen since a recv found nothing */
    unsigned pending;      /* LEV_* posted by transport calls */
    kp_err pending_err;
};

struct sn_live_listener {
    int fd;
    int port;
    sn_accept_cb *on_accept;
    void *ctx;
    bool closed;
};

struct sn_live {
    sn_world *w;
    kp_conn **conns;
    int n_conns, cap_conns;
    sn_live_listener **listeners;
    int n_listeners, cap_listeners;
    int wake[2];           /* self-pipe: [0] polled, [1] written */
    volatile sig_atomic_t stop;
    bool posted;           /* some conn has pending events */
    uint64_t next_id;
    struct pollfd *pfd;
    int cap_pfd;
};

/* ------------------------------------------------------------------ */
/* Clock                                                               */
/* ------------------------------------------------------------------ */

kp_time_us sn_live_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (kp_time_us)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static kp_time_us sn__live_clock_now(void *ctx) {
    (void)ctx;
    return sn_live_now();
}

kp_clock sn_live_clock(sn_live *l) {
    (void)l;
    /* timestamps leave the process: they must be wall time (Java's
     * System.currentTimeMillis), while every timeout stays monotonic */
    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    int64_t real_us = (int64_t)real.tv_sec * 1000000 + real.tv_nsec / 1000;
    return (kp_clock){ .now_us = sn__live_clock_now, .ctx = NULL, .epoch_us = real_us - sn_live_now() };
}

sn_world *sn_live_world(sn_live *l) { return l->w; }

/* ------------------------------------------------------------------ */
/* Loop object                                                         */
/* ------------------------------------------------------------------ */

sn_live *sn_live_new(kp_observer obs) {
    sn_live *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->w = sn_world_new(0, obs);
    if (!l->w || pipe2(l->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        sn_world_destroy(l->w);
        free(l);
        return NULL;
    }
    sn__world_set_live(l->w, sn_live_clock(l));
    sn__world_set_now(l->w, sn_live_now());
    l->next_id = 1;
    return l;
}

static void sn__live_conn_free(kp_conn *c) {
    if (c->fd >= 0)
        close(c->fd);
    c->magic = 0;
    free(c);
}

void sn_live_destroy(sn_live *l) {
    if (!l)
        return;
    for (int i = 0; i < l->n_conns; i++)
        sn__live_conn_free(l->conns[i]);
    for (int i = 0; i < l->n_listeners; i++) {
        if (l->listeners[i]->fd >= 0)
            close(l->listeners[i]->fd);
        free(l->listeners[i]);
    }
    free(l->conns);
    free(l->listeners);
    free(l->pfd);
    close(l->wake[0]);
    close(l->wake[1]);
    sn_world_destroy(l->w);
    free(l);
}

void sn_live_wakeup(sn_live *l) {
    char b = 1;
    ssize_t r = write(l->wake[1], &b, 1); /* a full pipe is awake already */
    (void)r;
}

void sn_live_stop(sn_live *l) {
    l->stop = 1;
    sn_live_wakeup(l);
}

static void sn__live_emit(sn_live *l, int kind, const kp_conn *c, kp_err err, const char *detail) {
    sn__emit(l->w, kind, -1, c ? (int64_t)c->id : -1, -1, err, detail);
}

static void sn__live_post(kp_conn *c, unsigned bit, kp_err err) {
    if (c->released)
        return;
    c->pending |= bit;
    if (bit == LEV_CLOSED)
        c->pending_err = err;
    c->l->posted = true;
}

/* The one place a live connection changes state (STYLE: one setter). */
static void sn__live_set_closed(kp_conn *c, kp_err err) {
    if (c->state == KP_CONN_CLOSED)
        return;
    c->state = KP_CONN_CLOSED;
    c->want_write = false;
    sn__live_emit(c->l, err == KP_ERR__CLOSED ? SN_EV_PEER_CLOSED
                        : err == KP_ERR__TRANSPORT ? SN_EV_RESET : SN_EV_CLOSE,
                  c, err, NULL);
    sn__live_post(c, LEV_CLOSED, err);
}

static kp_conn *sn__live_conn_new(sn_live *l, int fd, kp_conn_state st) {
    if (l->n_conns == l->cap_conns) {
        int cap = l->cap_conns ? l->cap_conns * 2 : 16;
        kp_conn **v = realloc(l->conns, (size_t)cap * sizeof *v);
        if (!v)
            return NULL;
        l->conns = v;
        l->cap_conns = cap;
    }
    kp_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->magic = SN_LIVE_MAGIC;
    c->l = l;
    c->id = l->next_id++;
    c->fd = fd;
    c->state = st;
    c->maybe_readable = true; /* nothing is known yet */
    l->conns[l->n_conns++] = c;
    return c;
}

static void sn__sock_setup(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* ------------------------------------------------------------------ */
/* Transport ops                                                       */
/* ------------------------------------------------------------------ */

static kp_conn *sn__live_connect(void *ctx, const char *host, int port, kp_conn_cb *cb, void *cb_ctx) {
    sn_live *l = ctx;
    if (!host || port < 0 || port > 65535)
        return NULL;
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, ports, &hints, &res) != 0 || !res)
        return NULL;
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        sn__sock_setup(fd);
        err = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
        break;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return NULL;
    kp_conn *c = sn__live_conn_new(l, fd, KP_CONN_CONNECTING);
    if (!c) {
        close(fd);
        return NULL;
    }
    c->cb = cb;
    c->cb_ctx = cb_ctx;
    char detail[300];
    snprintf(detail, sizeof detail, ">%s:%d", host, port);
    sn__live_emit(l, SN_EV_CONNECT, c, KP_ERR_NONE, detail);
    if (err == 0) {
        c->state = KP_CONN_CONNECTED;
        sn__live_emit(l, SN_EV_CONNECTED, c, KP_ERR_NONE, NULL);
        sn__live_post(c, LEV_CONNECTED, KP_ERR_NONE);
    } else if (err != EINPROGRESS) {
        c->state = KP_CONN_CLOSED;
        sn__live_emit(l, SN_EV_REFUSED, c, KP_ERR__TRANSPORT, NULL);
        sn__live_post(c, LEV_CLOSED, KP_ERR__TRANSPORT);
    }
    return c;
}

static kp_conn *sn__live_check(kp_conn *c) {
    assert(c && c->magic == SN_LIVE_MAGIC && !c->released);
    return c;
}

static ssize_t sn__live_send(void *ctx, kp_conn *c, const void *buf, size_t len) {
    (void)ctx;
    sn__live_check(c);
    if (c->state == KP_CONN_CLOSED)
        return -1;
    if (c->state != KP_CONN_CONNECTED || len == 0)
        return 0;
    for (;;) {
        ssize_t r = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r >= 0) {
            if ((size_t)r < len)
                c->want_write = true;
            return r;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->want_write = true;
            return 0;
        }
        sn__live_set_closed(c, KP_ERR__TRANSPORT);
        return -1;
    }
}

static ssize_t sn__live_recv(void *ctx, kp_conn *c, void *buf, size_t cap) {
    (void)ctx;
    sn__live_check(c);
    if (c->state == KP_CONN_CONNECTING || cap == 0)
        return 0;
    if (c->state == KP_CONN_CLOSED && c->fd < 0)
        return -1;
    for (;;) {
        ssize_t r = recv(c->fd, buf, cap, MSG_DONTWAIT);
        if (r > 0)
            return r;
        if (r == 0) {
            sn__live_set_closed(c, KP_ERR__CLOSED);
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->maybe_readable = false; /* until ppoll reports POLLIN */
            return c->state == KP_CONN_CLOSED ? -1 : 0;
        }
        sn__live_set_closed(c, KP_ERR__TRANSPORT);
        return -1;
    }
}

static void sn__live_release(kp_conn *c) {
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->released = true;
    c->pending = 0;
    c->state = KP_CONN_CLOSED;
}

static void sn__live_close(void *ctx, kp_conn *c) {
    (void)ctx;
    sn__live_check(c);
    sn__live_emit(c->l, SN_EV_CLOSE, c, KP_ERR_NONE, NULL);
    sn__live_release(c);
}

void sn_live_conn_abort(kp_conn *c) {
    sn__live_check(c);
    if (c->fd >= 0) {
        struct linger lg = { .l_onoff = 1, .l_linger = 0 };
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    sn__live_emit(c->l, SN_EV_RESET, c, KP_ERR__TRANSPORT, "abort");
    sn__live_release(c);
}

static kp_conn_state sn__live_state(void *ctx, kp_conn *c) {
    (void)ctx;
    assert(c && c->magic == SN_LIVE_MAGIC);
    return c->state;
}

/* The kernel is not asked: false only after a recv found nothing and no
 * ppoll since reported the socket readable (POLLIN is level-triggered, so
 * bytes arriving in between are reported by the next wait). */
static bool sn__live_pending(void *ctx, kp_conn *c) {
    (void)ctx;
    assert(c && c->magic == SN_LIVE_MAGIC);
    return c->state != KP_CONN_CONNECTED || c->maybe_readable;
}

kp_transport sn_live_transport(sn_live *l) {
    return (kp_transport){
        .connect = sn__live_connect,
        .send = sn__live_send,
        .recv = sn__live_recv,
        .close = sn__live_close,
        .state = sn__live_state,
        .pending = sn__live_pending,
        .ctx = l,
    };
}

void sn_live_conn_set_cb(kp_conn *c, kp_conn_cb *cb, void *cb_ctx) {
    sn__live_check(c);
    c->cb = cb;
    c->cb_ctx = cb_ctx;
}

/* ------------------------------------------------------------------ */
/* Listeners                                                           */
/* ------------------------------------------------------------------ */

sn_live_listener *sn_live_listen(sn_live *l, const char *host, int port,
                                 sn_accept_cb *on_accept, void *ctx) {
    if (port < 0 || port > 65535)
        return NULL;
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE };
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, ports, &hints, &res) != 0 || !res)
        return NULL;
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int bound = port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            bound = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    if (l->n_listeners == l->cap_listeners) {
        int cap = l->cap_listeners ? l->cap_listeners * 2 : 4;
        sn_live_listener **v = realloc(l->listeners, (size_t)cap * sizeof *v);
        if (!v) {
            close(fd);
            return NULL;
        }
        l->listeners = v;
        l->cap_listeners = cap;
    }
    sn_live_listener *ls = calloc(1, sizeof *ls);
    if (!ls) {
        close(fd);
        return NULL;
    }
    *ls = (sn_live_listener){ .fd = fd, .port = bound, .on_accept = on_accept, .ctx = ctx };
    l->listeners[l->n_listeners++] = ls;
    return ls;
}

int sn_live_listener_port(const sn_live_listener *ls) { return ls->port; }

void sn_live_unlisten(sn_live *l, sn_live_listener *ls) {
    (void)l;
    if (ls->fd >= 0)
        close(ls->fd);
    ls->fd = -1;
    ls->closed = true; /* freed in the reap phase */
}

static void sn__live_accept(sn_live *l, sn_live_listener *ls) {
    for (int k = 0; k < 64 && !ls->closed; k++) { /* bounded per iteration */
        int fd = accept4(ls->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        sn__sock_setup(fd);
        kp_conn *c = sn__live_conn_new(l, fd, KP_CONN_CONNECTED);
        if (!c) {
            close(fd);
            return;
        }
        sn__live_emit(l, SN_EV_ACCEPT, c, KP_ERR_NONE, NULL);
        if (ls->on_accept)
            ls->on_accept(ls->ctx, c);
    }
}

/* ------------------------------------------------------------------ */
/* The loop                                                            */
/* ------------------------------------------------------------------ */

static void sn__live_fire(kp_conn *c, kp_conn_event ev, kp_err err) {
    if (!c->released && c->cb)
        c->cb(c->cb_ctx, c, ev, err);
}

static void sn__live_dispatch_posted(sn_live *l) {
    /* conns created by callbacks are appended; walk by index */
    l->posted = false;
    for (int i = 0; i < l->n_conns; i++) {
        kp_conn *c = l->conns[i];
        unsigned p = c->pending;
        c->pending = 0;
        if (p & LEV_CONNECTED)
            sn__live_fire(c, KP_CONN_EV_CONNECTED, KP_ERR_NONE);
        if (p & LEV_CLOSED)
            sn__live_fire(c, KP_CONN_EV_CLOSED, c->pending_err);
    }
}

static void sn__live_reap(sn_live *l) {
    int j = 0;
    for (int i = 0; i < l->n_conns; i++) {
        if (l->conns[i]->released)
            sn__live_conn_free(l->conns[i]);
        else
            l->conns[j++] = l->conns[i];
    }
    l->n_conns = j;
    j = 0;
    for (int i = 0; i < l->n_listeners; i++) {
        if (l->listeners[i]->closed)
            free(l->listeners[i]);
        else
            l->listeners[j++] = l->listeners[i];
    }
    l->n_listeners = j;
}

/* Runs due timers; returns how many ran. */
static uint32_t sn__live_run_timers(sn_live *l) {
    sn__world_set_now(l->w, sn_live_now());
    kp_time_us next;
    /* bounded: timers scheduled now by these callbacks wait for the next
     * iteration, so a self-rescheduling timer cannot starve the sockets */
    uint32_t budget = sn_world_pending(l->w), ran = 0;
    while (budget-- && sn_world_next_time(l->w, &next) && next <= sn_now(l->w)) {
        sn_world_step(l->w);
        ran++;
    }
    return ran;
}

void sn_live_run_once(sn_live *l, kp_time_us until) {
    /* when callbacks ran already, only look at the sockets without waiting,
     * so that the caller's done() sees their effect at once */
    bool ran = sn__live_run_timers(l) > 0 || l->posted;
    if (l->posted)
        sn__live_dispatch_posted(l);
    sn__live_reap(l);

    /* how long to wait */
    kp_time_us now = sn_live_now(), wake_at = until;
    kp_time_us next;
    if (sn_world_next_time(l->w, &next) && (wake_at < 0 || next < wake_at))
        wake_at = next;
    kp_time_us wait_us = wake_at < 0 ? 1000000 : wake_at - now; /* idle: re-check each second */
    if (wait_us < 0 || ran || l->posted || l->stop)
        wait_us = 0;

    int n = 1 + l->n_listeners + l->n_conns;
    if (n > l->cap_pfd) {
        struct pollfd *v = realloc(l->pfd, (size_t)n * 2 * sizeof *v);
        if (!v)
            return;
        l->pfd = v;
        l->cap_pfd = n * 2;
    }
    struct pollfd *pfd = l->pfd;
    pfd[0] = (struct pollfd){ .fd = l->wake[0], .events = POLLIN };
    int nl = l->n_listeners, nc = l->n_conns;
    for (int i = 0; i < nl; i++)
        pfd[1 + i] = (struct pollfd){ .fd = l->listeners[i]->fd, .events = POLLIN };
    for (int i = 0; i < nc; i++) {
        kp_conn *c = l->conns[i];
        short ev = 0;
        if (c->state == KP_CONN_CONNECTING)
            ev = POLLOUT;
        else if (c->state == KP_CONN_CONNECTED)
            ev = (short)(POLLIN | (c->want_write ? POLLOUT : 0));
        /* CLOSED but unreleased: not polled (fd -1 is ignored by poll) */
        pfd[1 + nl + i] = (struct pollfd){ .fd = ev ? c->fd : -1, .events = ev };
    }
    struct timespec ts = { .tv_sec = wait_us / 1000000, .tv_nsec = (long)(wait_us % 1000000) * 1000 };
    int r = ppoll(pfd, (nfds_t)n, &ts, NULL);
    sn__world_set_now(l->w, sn_live_now());
    if (r <= 0)
        return;
    if (pfd[0].revents) {
        char buf[64];
        while (read(l->wake[0], buf, sizeof buf) > 0) {}
    }
    for (int i = 0; i < nl; i++)
        if (pfd[1 + i].revents && !l->listeners[i]->closed)
            sn__live_accept(l, l->listeners[i]);
    for (int i = 0; i < nc; i++) {
        kp_conn *c = l->conns[i];
        short re = pfd[1 + nl + i].revents;
        if (!re || c->released)
            continue;
        if (c->state == KP_CONN_CONNECTING) {
            int err = 0;
            socklen_t el = sizeof err;
            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
                err = errno;
            if (err == 0 && !(re & (POLLERR | POLLHUP))) {
                c->state = KP_CONN_CONNECTED;
                sn__live_emit(l, SN_EV_CONNECTED, c, KP_ERR_NONE, NULL);
                sn__live_fire(c, KP_CONN_EV_CONNECTED, KP_ERR_NONE);
            } else {
                c->state = KP_CONN_CLOSED;
                sn__live_emit(l, SN_EV_REFUSED, c, KP_ERR__TRANSPORT, NULL);
                sn__live_fire(c, KP_CONN_EV_CLOSED, KP_ERR__TRANSPORT);
            }
            continue;
        }
        if (c->state != KP_CONN_CONNECTED)
            continue;
        if (re & (POLLIN | POLLHUP | POLLERR)) {
            c->maybe_readable = true;
            sn__live_fire(c, KP_CONN_EV_READABLE, KP_ERR_NONE);
        }
        if ((re & POLLOUT) && !c->released && c->state == KP_CONN_CONNECTED && c->want_write) {
            c->want_write = false;
            sn__live_fire(c, KP_CONN_EV_WRITABLE, KP_ERR_NONE);
        }
    }
    sn__live_run_timers(l);
    if (l->posted)
        sn__live_dispatch_posted(l);
    sn__live_reap(l);
}

bool sn_live_run(sn_live *l, bool (*done)(void *ctx), void *ctx, kp_time_us until) {
    for (;;) {
        if (done && done(ctx))
            return true;
        if (l->stop) {
            l->stop = 0; /* consumed: the next run goes on */
            return false;
        }
        if (until >= 0 && sn_live_now() >= until)
            return false;
        sn_live_run_once(l, until);
    }
}
