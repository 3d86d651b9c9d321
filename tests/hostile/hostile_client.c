/*
 * hostile_client.c — a hostile Kafka client for tests/suites/hostile_broker.sh:
 * it attacks `kpsim broker` on loopback the ways a broker meets in the
 * wild, and checks what the broker must still get right.
 *
 *   hostile_client MODE --port P [--brokers N] [--conns C] [--seconds S]
 *                       [--bytes B] [--seed X] [--host H]
 *
 * Connection i talks to broker i % N (port P + i % N). Modes:
 *
 *   slowloris  C connections; every 50 ms each gets ONE more byte of a
 *              stream of valid ApiVersions requests (v0, v1, v2 in turn,
 *              correlation ids 1, 2, 3, ...). Checks: the broker keeps every
 *              connection open and answers each request once it is whole,
 *              in order, with its correlation id.
 *   bigframe   C connections each announce a frame of 2 GiB (0x7fffffff;
 *              every 3rd 0x80000000 = negative, every 3rd 100 MiB + 1 =
 *              one past socket.request.max.bytes) and then keep writing
 *              zeros. Checks: the broker closes every one of them (it must
 *              not wait for, or allocate, the announced size).
 *   churn      C connections opened and dropped, at most 64 at a time:
 *              plain close right after connect, RST (SO_LINGER 0), close
 *              after 2 bytes of a size prefix, close after a whole request
 *              without reading the answer. Checks: >= 90% connected.
 *   garbage    C connections each write B random bytes and close.
 *   badbody    C connections; each writes one frame with a valid request
 *              header (an API key and version the broker speaks) and a
 *              random body, then a valid ApiVersions request. Checks: if
 *              the broker answers the ApiVersions request, the answer has
 *              its correlation id (it either rejects the frame and closes,
 *              or answers it and goes on; never answers out of order).
 *
 * Prints one line "MODE: ..." with what happened; exit 0 when the checks
 * held, 1 when not, 2 on bad usage. Every wait is bounded by --seconds (+2
 * s to drain). Loopback only; no threads; one poll() loop.
 *
 * Memory: a fixed table of connections (calloc'd once, freed at exit).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HC_MAX_CONNS 4096

typedef struct hc_conn {
    int fd;
    int port;
    bool connected, closed_by_peer, done;
    /* what we write */
    uint8_t out[512];
    size_t out_len, out_off;
    /* slowloris: the request stream */
    int32_t next_corr;         /* correlation id of the next request to generate */
    int32_t expect_corr;       /* the next answer must carry this id */
    int32_t completed;         /* requests fully written */
    int32_t answered;          /* answers with the right id */
    int32_t wrong;             /* answers with a wrong id */
    uint8_t in[8192];
    size_t in_len;
    int64_t skip;              /* bytes of a big answer body still to skip */
    int64_t written;           /* bytes the broker accepted */
    int kind;                  /* churn / bigframe variant */
} hc_conn;

static const char *hc_host = "127.0.0.1";
static int hc_port, hc_brokers = 1, hc_conns = 100, hc_seconds = 5;
static long hc_bytes = 4096;
static uint64_t hc_rng = 0x9e3779b97f4a7c15ull;

static uint64_t hc_rand(void) { /* xorshift64* */
    hc_rng ^= hc_rng >> 12;
    hc_rng ^= hc_rng << 25;
    hc_rng ^= hc_rng >> 27;
    return hc_rng * 2685821657736338717ull;
}

static int64_t hc_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void hc_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static void hc_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static uint32_t hc_get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A request frame: size, api_key, api_version, correlation id, client id
 * "hostile" (request header v1), then `body_len` body bytes.
 *   OFFSET SIZE DESCRIPTION
 *   0      4    size (everything after this field)
 *   4      2    api_key
 *   6      2    api_version
 *   8      4    correlation_id
 *   12     2+7  client_id "hostile"
 *   21     n    body
 * Returns the frame length (21 + body_len). */
static size_t hc_request(uint8_t *p, int16_t api, int16_t ver, int32_t corr, const uint8_t *body, size_t body_len) {
    hc_be32(p, (uint32_t)(17 + body_len));
    hc_be16(p + 4, (uint16_t)api);
    hc_be16(p + 6, (uint16_t)ver);
    hc_be32(p + 8, (uint32_t)corr);
    hc_be16(p + 12, 7);
    memcpy(p + 14, "hostile", 7);
    if (body_len)
        memcpy(p + 21, body, body_len);
    return 21 + body_len;
}

static int hc_open(hc_conn *c, int i) {
    memset(c, 0, sizeof *c);
    c->port = hc_port + i % hc_brokers;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)c->port);
    if (inet_pton(AF_INET, hc_host, &sa.sin_addr) != 1)
        return -1;
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

static void hc_close(hc_conn *c, bool rst) {
    if (c->fd < 0)
        return;
    if (rst) {
        struct linger lg = { 1, 0 };
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(c->fd);
    c->fd = -1;
}

/* Reads what is there; parses answers (size, correlation id, body) and
 * checks the ids come in the expected order. Returns false on EOF/error. */
static bool hc_read(hc_conn *c) {
    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
        if (n == 0)
            return false;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        c->in_len += (size_t)n;
        size_t off = 0;
        for (;;) {
            if (c->skip > 0) {
                size_t k = c->in_len - off < (size_t)c->skip ? c->in_len - off : (size_t)c->skip;
                off += k;
                c->skip -= (int64_t)k;
                if (c->skip > 0)
                    break;
            }
            if (c->in_len - off < 8)
                break;
            uint32_t size = hc_get32(c->in + off);
            int32_t corr = (int32_t)hc_get32(c->in + off + 4);
            if (size < 4 || size > (1u << 30)) {
                c->wrong++;
                return false;
            }
            if (corr == c->expect_corr) {
                c->answered++;
                c->expect_corr++;
            } else {
                c->wrong++;
            }
            off += 8;
            c->skip = (int64_t)size - 4;
        }
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
}

static bool hc_connected(hc_conn *c) {
    int err = 0;
    socklen_t l = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0 || err != 0)
        return false;
    c->connected = true;
    return true;
}

/* ---- slowloris ------------------------------------------------------ */

static void hc_slow_next(hc_conn *c) {
    if (c->out_off < c->out_len)
        return;
    int16_t ver = (int16_t)(c->next_corr % 3);
    c->out_len = hc_request(c->out, 18, ver, c->next_corr, NULL, 0);
    c->out_off = 0;
    c->next_corr++;
}

static int hc_slowloris(hc_conn *cs) {
    int n = hc_conns > 0 && hc_conns <= HC_MAX_CONNS ? hc_conns : 1;
    for (int i = 0; i < n; i++) {
        if (hc_open(&cs[i], i) < 0) {
            fprintf(stderr, "slowloris: connect %d failed: %s\n", i, strerror(errno));
            return 1;
        }
        cs[i].next_corr = cs[i].expect_corr = 1;
    }
    static struct pollfd pf[HC_MAX_CONNS];
    int64_t start = hc_now_ms(), end = start + hc_seconds * 1000, next_tick = start;
    long dripped = 0;
    while (hc_now_ms() < end) {
        int64_t now = hc_now_ms();
        if (now >= next_tick) {
            next_tick += 50;
            for (int i = 0; i < n; i++) {
                hc_conn *c = &cs[i];
                if (c->fd < 0 || (!c->connected && !hc_connected(c)))
                    continue;
                hc_slow_next(c);
                ssize_t w = send(c->fd, c->out + c->out_off, 1, MSG_NOSIGNAL);
                if (w == 1) {
                    c->out_off++;
                    dripped++;
                    if (c->out_off == c->out_len)
                        c->completed++;
                }
            }
        }
        for (int i = 0; i < n; i++) {
            pf[i].fd = cs[i].fd;
            pf[i].events = POLLIN;
            pf[i].revents = 0;
        }
        int wait = (int)(next_tick - hc_now_ms());
        poll(pf, (nfds_t)n, wait < 0 ? 0 : wait);
        for (int i = 0; i < n; i++)
            if (cs[i].fd >= 0 && (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) && !hc_read(&cs[i])) {
                cs[i].closed_by_peer = true;
                hc_close(&cs[i], false);
            }
    }
    /* drain: the answers to the last whole requests */
    int64_t drain_end = hc_now_ms() + 2000;
    for (;;) {
        bool all = true;
        for (int i = 0; i < n; i++)
            if (cs[i].fd >= 0 && cs[i].answered + cs[i].wrong < cs[i].completed)
                all = false;
        if (all || hc_now_ms() >= drain_end)
            break;
        for (int i = 0; i < n; i++) {
            pf[i].fd = cs[i].fd;
            pf[i].events = POLLIN;
            pf[i].revents = 0;
        }
        poll(pf, (nfds_t)n, 50);
        for (int i = 0; i < n; i++)
            if (cs[i].fd >= 0 && (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) && !hc_read(&cs[i])) {
                cs[i].closed_by_peer = true;
                hc_close(&cs[i], false);
            }
    }
    long completed = 0, answered = 0, wrong = 0, closed = 0, unanswered = 0;
    for (int i = 0; i < n; i++) {
        completed += cs[i].completed;
        answered += cs[i].answered;
        wrong += cs[i].wrong;
        closed += cs[i].closed_by_peer;
        if (cs[i].answered < cs[i].completed)
            unanswered += cs[i].completed - cs[i].answered;
        hc_close(&cs[i], false);
    }
    printf("slowloris: %d connections, %ld bytes dripped one at a time, %ld requests whole, %ld answered "
           "in order, %ld wrong ids, %ld unanswered, %ld closed by the broker\n",
           n, dripped, completed, answered, wrong, unanswered, closed);
    return wrong == 0 && unanswered == 0 && closed == 0 && completed >= n ? 0 : 1;
}

/* ---- bigframe ------------------------------------------------------- */

static int hc_bigframe(hc_conn *cs) {
    int n = hc_conns > 0 && hc_conns <= HC_MAX_CONNS ? hc_conns : 1;
    static const uint32_t sizes[3] = { 0x7fffffffu, 0x80000000u, 100u * 1024 * 1024 + 1 };
    for (int i = 0; i < n; i++) {
        if (hc_open(&cs[i], i) < 0)
            return 1;
        cs[i].kind = i % 3;
        hc_be32(cs[i].out, sizes[i % 3]);
        /* a plausible Produce v7 header after the size, then zeros */
        hc_be16(cs[i].out + 4, 0);
        hc_be16(cs[i].out + 6, 7);
        hc_be32(cs[i].out + 8, (uint32_t)i);
        cs[i].out_len = sizeof cs[i].out;
    }
    static struct pollfd pf[HC_MAX_CONNS];
    int64_t end = hc_now_ms() + hc_seconds * 1000;
    int open = n;
    while (open > 0 && hc_now_ms() < end) {
        for (int i = 0; i < n; i++) {
            pf[i].fd = cs[i].fd;
            pf[i].events = POLLIN | (cs[i].fd >= 0 ? POLLOUT : 0);
            pf[i].revents = 0;
        }
        poll(pf, (nfds_t)n, 50);
        for (int i = 0; i < n; i++) {
            hc_conn *c = &cs[i];
            if (c->fd < 0)
                continue;
            if (pf[i].revents & (POLLHUP | POLLERR)) {
                c->closed_by_peer = true;
            } else if (pf[i].revents & POLLIN) {
                uint8_t b[512];
                ssize_t r = recv(c->fd, b, sizeof b, 0);
                if (r <= 0 && !(r < 0 && (errno == EAGAIN || errno == EINTR)))
                    c->closed_by_peer = true;
                else if (r > 0)
                    c->wrong++; /* an answer to a frame that was never whole */
            } else if (pf[i].revents & POLLOUT) {
                ssize_t w = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
                if (w < 0 && errno != EAGAIN && errno != EINTR)
                    c->closed_by_peer = true;
                else if (w > 0) {
                    c->written += w;
                    if (c->out_len == sizeof c->out && c->written >= 12)
                        memset(c->out, 0, sizeof c->out); /* after the header: zeros */
                }
            }
            if (c->closed_by_peer) {
                hc_close(c, false);
                open--;
            }
        }
    }
    long closed = 0, answered = 0;
    int64_t most = 0;
    for (int i = 0; i < n; i++) {
        closed += cs[i].closed_by_peer;
        answered += cs[i].wrong;
        if (cs[i].written > most)
            most = cs[i].written;
        hc_close(&cs[i], false);
    }
    printf("bigframe: %d connections announcing 2 GiB / negative / 100 MiB + 1, %ld closed by the broker, "
           "%ld answered, at most %lld bytes accepted on one\n",
           n, closed, answered, (long long)most);
    return closed == n && answered == 0 ? 0 : 1;
}

/* ---- churn ---------------------------------------------------------- */

static int hc_churn(hc_conn *cs) {
    int total = hc_conns, started = 0, finished = 0, ok = 0, failed = 0;
    enum { WINDOW = 64 };
    hc_conn *win = cs; /* WINDOW slots */
    for (int k = 0; k < WINDOW; k++)
        win[k].fd = -1;
    struct pollfd pf[WINDOW];
    int64_t end = hc_now_ms() + hc_seconds * 1000;
    while (finished < total && hc_now_ms() < end) {
        for (int k = 0; k < WINDOW && started < total; k++) {
            if (win[k].fd >= 0)
                continue;
            if (hc_open(&win[k], started) < 0) {
                failed++;
                finished++;
            }
            win[k].kind = started % 4;
            started++;
        }
        for (int k = 0; k < WINDOW; k++) {
            pf[k].fd = win[k].fd;
            pf[k].events = POLLOUT;
            pf[k].revents = 0;
        }
        poll(pf, WINDOW, 20);
        for (int k = 0; k < WINDOW; k++) {
            hc_conn *c = &win[k];
            if (c->fd < 0 || !pf[k].revents)
                continue;
            if (hc_connected(c)) {
                ok++;
                uint8_t req[64];
                size_t len = hc_request(req, 18, 2, 7, NULL, 0);
                if (c->kind == 2)
                    (void)!send(c->fd, req, 2, MSG_NOSIGNAL);
                else if (c->kind == 3)
                    (void)!send(c->fd, req, len, MSG_NOSIGNAL);
            } else {
                failed++;
            }
            hc_close(c, c->kind == 1);
            finished++;
        }
    }
    for (int k = 0; k < WINDOW; k++)
        hc_close(&win[k], false);
    printf("churn: %d connections opened and dropped (close, RST, half a size prefix, a request unread): "
           "%d connected, %d failed, %d not finished\n",
           total, ok, failed, total - finished);
    return ok >= total * 9 / 10 ? 0 : 1;
}

/* ---- garbage -------------------------------------------------------- */

static int hc_garbage(hc_conn *cs) {
    int n = hc_conns > 0 && hc_conns <= HC_MAX_CONNS ? hc_conns : 1;
    long sent = 0;
    int connected = 0;
    for (int i = 0; i < n; i++) {
        hc_conn *c = &cs[i];
        if (hc_open(c, i) < 0)
            continue;
        /* blocking from here: connect completes, then write, bounded */
        int fl = fcntl(c->fd, F_GETFL);
        fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK);
        struct timeval tv = { 1, 0 };
        setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        struct pollfd p = { c->fd, POLLOUT, 0 };
        if (poll(&p, 1, 1000) != 1 || !hc_connected(c)) {
            hc_close(c, false);
            continue;
        }
        connected++;
        uint8_t buf[4096];
        long left = hc_bytes;
        while (left > 0) {
            size_t k = left < (long)sizeof buf ? (size_t)left : sizeof buf;
            for (size_t j = 0; j < k; j += 8) {
                uint64_t r = hc_rand();
                memcpy(buf + j, &r, k - j < 8 ? k - j : 8);
            }
            ssize_t w = send(c->fd, buf, k, MSG_NOSIGNAL);
            if (w <= 0)
                break; /* the broker closed it: fine */
            sent += w;
            left -= w;
        }
        hc_close(c, i % 2 == 1);
    }
    printf("garbage: %d connections, %ld random bytes written\n", connected, sent);
    return connected >= n * 9 / 10 ? 0 : 1;
}

/* ---- badbody -------------------------------------------------------- */

static int hc_badbody(hc_conn *cs) {
    /* (api key, version) pairs the broker speaks */
    static const int16_t apis[][2] = { { 0, 3 }, { 0, 5 }, { 0, 7 }, { 1, 4 }, { 1, 10 }, { 2, 1 },
                                       { 2, 3 }, { 3, 0 }, { 3, 5 }, { 3, 7 }, { 10, 1 }, { 18, 1 },
                                       { 22, 0 }, { 22, 1 }, { 24, 1 }, { 26, 1 } };
    int n = hc_conns > 0 && hc_conns <= HC_MAX_CONNS ? hc_conns : 1;
    long answered = 0, closed = 0, wrong = 0, silent = 0;
    for (int i = 0; i < n; i++) {
        hc_conn *c = &cs[i];
        if (hc_open(c, i) < 0)
            continue;
        struct pollfd p = { c->fd, POLLOUT, 0 };
        if (poll(&p, 1, 1000) != 1 || !hc_connected(c)) {
            hc_close(c, false);
            continue;
        }
        uint8_t body[256], frame[512];
        size_t blen = (size_t)(hc_rand() % 200);
        for (size_t j = 0; j < blen; j++)
            body[j] = (uint8_t)hc_rand();
        int a = (int)(hc_rand() % (sizeof apis / sizeof apis[0]));
        if (apis[a][0] == 0 && blen >= 4)
            memset(body, 0xff, 4); /* null transactional id, acks -1: acks 0 would rightly get no answer */
        size_t len = hc_request(frame, apis[a][0], apis[a][1], 1, body, blen);
        len += hc_request(frame + len, 18, 2, 2, NULL, 0);
        if (send(c->fd, frame, len, MSG_NOSIGNAL) != (ssize_t)len) {
            hc_close(c, false);
            continue;
        }
        /* the bad frame may be answered (id 1, whatever it decoded to);
         * the ApiVersions request after it must then be answered with id 2 */
        c->expect_corr = 1;
        int64_t end = hc_now_ms() + 2000;
        bool eof = false;
        while (hc_now_ms() < end) {
            struct pollfd q = { c->fd, POLLIN, 0 };
            if (poll(&q, 1, 50) == 1) {
                if (!hc_read(c)) {
                    eof = true;
                    break;
                }
                if (c->expect_corr == 3 || c->wrong)
                    break;
            }
        }
        /* an answer with id 2 alone (the bad frame ignored) is not allowed:
         * hc_read counts it as wrong */
        if (c->wrong)
            wrong++;
        else if (c->expect_corr == 3)
            answered++;
        else if (eof)
            closed++;
        else
            silent++;
        hc_close(c, false);
    }
    printf("badbody: %d frames with a valid header and a random body: %ld answered then the next "
           "request answered, %ld connections closed by the broker, %ld out of order, %ld neither\n",
           n, answered, closed, wrong, silent);
    return wrong == 0 && silent == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: hostile_client slowloris|bigframe|churn|garbage|badbody --port P [--brokers N] "
                        "[--conns C] [--seconds S] [--bytes B] [--seed X] [--host H]\n");
        return 2;
    }
    const char *mode = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--port")) hc_port = atoi(v);
        else if (!strcmp(k, "--brokers")) hc_brokers = atoi(v);
        else if (!strcmp(k, "--conns")) hc_conns = atoi(v);
        else if (!strcmp(k, "--seconds")) hc_seconds = atoi(v);
        else if (!strcmp(k, "--bytes")) hc_bytes = atol(v);
        else if (!strcmp(k, "--seed")) hc_rng ^= strtoull(v, NULL, 10) * 0x2545F4914F6CDD1Dull;
        else if (!strcmp(k, "--host")) hc_host = v;
        else {
            fprintf(stderr, "hostile_client: unknown option %s\n", k);
            return 2;
        }
    }
    if (hc_port <= 0 || hc_brokers < 1 || hc_conns < 1 || hc_conns > HC_MAX_CONNS * 16 || hc_seconds < 1) {
        fprintf(stderr, "hostile_client: bad --port/--brokers/--conns/--seconds\n");
        return 2;
    }
    int slots = hc_conns > HC_MAX_CONNS ? HC_MAX_CONNS : hc_conns;
    hc_conn *cs = calloc((size_t)(slots < 64 ? 64 : slots), sizeof *cs);
    if (!cs)
        return 1;
    int rc;
    if (!strcmp(mode, "slowloris") && hc_conns <= HC_MAX_CONNS) rc = hc_slowloris(cs);
    else if (!strcmp(mode, "bigframe") && hc_conns <= HC_MAX_CONNS) rc = hc_bigframe(cs);
    else if (!strcmp(mode, "churn")) rc = hc_churn(cs);
    else if (!strcmp(mode, "garbage") && hc_conns <= HC_MAX_CONNS) rc = hc_garbage(cs);
    else if (!strcmp(mode, "badbody") && hc_conns <= HC_MAX_CONNS) rc = hc_badbody(cs);
    else {
        fprintf(stderr, "hostile_client: unknown mode %s (or --conns above %d)\n", mode, HC_MAX_CONNS);
        rc = 2;
    }
    free(cs);
    return rc;
}
