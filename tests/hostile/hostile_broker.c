/*
 * hostile_broker.c — a misbehaving Kafka broker for
 * tests/suites/hostile_producer.sh: it speaks just enough of the protocol
 * (protocol/ codecs) for `kpsim produce` to get going — ApiVersions (the
 * kp_api_supported table), Metadata (itself as broker 0, every asked topic
 * with --partitions partitions led by it), InitProducerId (producer id
 * 4242) — and then misbehaves on Produce the way --mode says:
 *
 *   ok                 answers correctly (the control)
 *   wrong-corr         the right answer with correlation id + 1
 *   truncated          a frame whose size is right for what follows, but
 *                      the body is cut in half (the decoder must refuse it)
 *   unknown-partition  answers for partition P+7 of a topic nobody asked
 *                      about, instead of the partitions that were asked
 *   garbage            64 random bytes instead of an answer
 *   close-mid          the first half of the right answer, then close
 *   huge-size          a size prefix of 2 GiB - 1, then the answer's bytes
 *   negative-size      a size prefix of -1
 *   silent             no answer at all (the client's request timeout)
 *   dup-answer         the right answer twice (the second answers nothing)
 *   error              every partition answers NOT_LEADER_FOR_PARTITION
 *
 * The first --times K Produce requests misbehave (default: all); after
 * that every Produce is answered correctly, so a client that recovers
 * (reconnect, refresh, retry) gets its records acknowledged.
 *
 *   hostile_broker --mode M [--times K] [--partitions P] [--seconds S]
 *
 * Listens on 127.0.0.1 on a free port and prints
 * "hostile_broker: listening on 127.0.0.1:PORT" first (flushed); runs until
 * SIGTERM/SIGINT or S seconds (default 60), then prints one line: Produce
 * requests seen, misbehaved, answered well, records in the answered
 * batches. Every accept, request (API, version, correlation id) and close
 * is logged on stderr. Single-threaded poll() loop, loopback only.
 *
 * Memory: each connection owns its input buffer (grown to the frame size,
 * at most 16 MiB: larger frames close it); one arena for decoding, reset
 * per frame.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kp_arena.h"
#include "kp_proto.h"
#include "kp_record_batch.h"

#define HB_MAX_CONNS 64
#define HB_MAX_FRAME (16 * 1024 * 1024)

typedef struct hb_conn {
    int fd;
    uint8_t *in;
    size_t in_len, in_cap;
} hb_conn;

static const char *hb_mode = "ok";
static long hb_times = -1;
static int hb_partitions = 1, hb_port;
static long hb_produce_seen, hb_misbehaved, hb_answered, hb_records;
static int64_t hb_offsets[1024];
static volatile sig_atomic_t hb_stop;
static kp_arena *hb_arena;

static void hb_on_signal(int sig) {
    (void)sig;
    hb_stop = 1;
}

/* Writes all of buf (blocking with a short poll; the peer is local). */
static bool hb_write(hb_conn *c, const uint8_t *buf, size_t len) {
    size_t off = 0;
    while (off < len) {
        ssize_t w = send(c->fd, buf + off, len - off, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd p = { c->fd, POLLOUT, 0 };
            if (poll(&p, 1, 1000) <= 0)
                return false;
            continue;
        }
        if (w <= 0)
            return false;
        off += (size_t)w;
    }
    return true;
}

/* Encodes a whole response frame into a fresh buffer. */
static uint8_t *hb_frame(int16_t api, int16_t ver, int32_t corr, const void *body, size_t *len) {
    kp_writer w;
    kp_wr_init(&w, NULL, 0);
    kp_response_frame_encode(&w, api, ver, corr, body);
    *len = w.len;
    uint8_t *buf = malloc(w.len);
    if (!buf)
        abort();
    kp_wr_init(&w, buf, *len);
    kp_response_frame_encode(&w, api, ver, corr, body);
    return buf;
}

static bool hb_send_body(hb_conn *c, int16_t api, int16_t ver, int32_t corr, const void *body) {
    size_t len;
    uint8_t *f = hb_frame(api, ver, corr, body, &len);
    bool ok = hb_write(c, f, len);
    free(f);
    return ok;
}

static bool hb_metadata(hb_conn *c, const kp_request *rq) {
    const kp_metadata_request *m = &rq->body.metadata;
    kp_metadata_broker self = { 0, kp_slice_str("127.0.0.1"), hb_port, KP_SLICE_NULL };
    int nt = m->topic_count < 0 ? 0 : m->topic_count > 16 ? 16 : m->topic_count;
    kp_metadata_topic topics[16];
    static kp_metadata_partition parts[16][64];
    static int32_t replica[1] = { 0 };
    int np = hb_partitions > 64 ? 64 : hb_partitions;
    for (int i = 0; i < nt; i++) {
        memset(&topics[i], 0, sizeof topics[i]);
        topics[i].topic = m->topics[i];
        topics[i].partition_count = np;
        topics[i].partitions = parts[i];
        for (int p = 0; p < np; p++) {
            memset(&parts[i][p], 0, sizeof parts[i][p]);
            parts[i][p].partition = p;
            parts[i][p].leader = 0;
            parts[i][p].replica_count = 1;
            parts[i][p].replicas = replica;
            parts[i][p].isr_count = 1;
            parts[i][p].isr = replica;
        }
    }
    kp_metadata_response r;
    memset(&r, 0, sizeof r);
    r.broker_count = 1;
    r.brokers = &self;
    r.cluster_id = kp_slice_str("hostile");
    r.controller_id = 0;
    r.topic_count = nt;
    r.topics = topics;
    return hb_send_body(c, KP_API_METADATA, rq->hdr.api_version, rq->hdr.correlation_id, &r);
}

/* Produce: the right answer, then bent as the mode says. */
static bool hb_produce(hb_conn *c, const kp_request *rq) {
    const kp_produce_request *m = &rq->body.produce;
    hb_produce_seen++;
    bool bad = hb_times < 0 || hb_misbehaved < hb_times;
    if (!strcmp(hb_mode, "ok"))
        bad = false;
    bool err_mode = bad && !strcmp(hb_mode, "error");
    /* dup-answer: the first answer is a good one */
    bool good = !bad || !strcmp(hb_mode, "dup-answer");
    kp_produce_topic_response tr[8];
    kp_produce_partition_response pr[8][16];
    int nt = m->topic_count > 8 ? 8 : m->topic_count;
    long records = 0;
    for (int i = 0; i < nt; i++) {
        const kp_produce_topic_data *td = &m->topics[i];
        tr[i].topic = td->topic;
        tr[i].partition_count = td->partition_count > 16 ? 16 : td->partition_count;
        tr[i].partitions = pr[i];
        for (int j = 0; j < tr[i].partition_count; j++) {
            const kp_produce_partition_data *pd = &td->partitions[j];
            kp_produce_partition_response *o = &pr[i][j];
            memset(o, 0, sizeof *o);
            o->partition = pd->partition;
            o->log_append_time = -1;
            o->log_start_offset = 0;
            kp_batch_header h;
            size_t total;
            int32_t count = 0;
            if (pd->records.len > 0 &&
                kp_batch_parse_header(pd->records.ptr, (size_t)pd->records.len, &h, &total) == KP_ERR_NONE)
                count = h.record_count;
            int slot = pd->partition >= 0 && pd->partition < 1024 ? pd->partition : 0;
            if (err_mode) {
                o->error_code = KP_ERR_NOT_LEADER_FOR_PARTITION;
                o->base_offset = -1;
            } else {
                o->base_offset = hb_offsets[slot];
                if (good) {
                    hb_offsets[slot] += count;
                    records += count;
                }
            }
            if (bad && !strcmp(hb_mode, "unknown-partition")) {
                tr[i].topic = kp_slice_str("not-asked");
                o->partition = pd->partition + 7;
            }
        }
    }
    kp_produce_response r = { nt, tr, 0 };
    if (m->acks == 0) {
        hb_answered += good;
        hb_records += records;
        return true;
    }
    int32_t corr = rq->hdr.correlation_id;
    int16_t ver = rq->hdr.api_version;
    size_t len;
    uint8_t *f = hb_frame(KP_API_PRODUCE, ver, corr, &r, &len);
    bool keep = true;
    if (!bad) {
        keep = hb_write(c, f, len);
        hb_answered++;
        hb_records += records;
    } else {
        hb_misbehaved++;
        if (!strcmp(hb_mode, "wrong-corr")) {
            kp_be32_put(f + 4, (uint32_t)(corr + 1));
            keep = hb_write(c, f, len);
        } else if (!strcmp(hb_mode, "truncated")) {
            size_t half = 8 + (len - 8) / 2;
            kp_be32_put(f, (uint32_t)(half - 4));
            keep = hb_write(c, f, half);
        } else if (!strcmp(hb_mode, "unknown-partition") || !strcmp(hb_mode, "error")) {
            keep = hb_write(c, f, len);
        } else if (!strcmp(hb_mode, "garbage")) {
            uint8_t g[64];
            for (size_t k = 0; k < sizeof g; k++)
                g[k] = (uint8_t)(corr * 131 + (int32_t)k * 197 + (int32_t)(k >> 2));
            keep = hb_write(c, g, sizeof g);
        } else if (!strcmp(hb_mode, "close-mid")) {
            hb_write(c, f, len / 2);
            keep = false;
        } else if (!strcmp(hb_mode, "huge-size")) {
            kp_be32_put(f, 0x7fffffffu);
            keep = hb_write(c, f, len);
        } else if (!strcmp(hb_mode, "negative-size")) {
            kp_be32_put(f, 0xffffffffu);
            keep = hb_write(c, f, len);
        } else if (!strcmp(hb_mode, "silent")) {
            keep = true;
        } else if (!strcmp(hb_mode, "dup-answer")) {
            keep = hb_write(c, f, len) && hb_write(c, f, len);
            hb_answered++;
            hb_records += records;
        }
    }
    free(f);
    return keep;
}

/* Handles every whole frame in c->in; false closes the connection. */
static bool hb_process(hb_conn *c) {
    for (;;) {
        size_t flen;
        kp_err e = kp_frame_peek(c->in, c->in_len, HB_MAX_FRAME, &flen);
        if (e == KP_ERR__TRUNCATED)
            return true;
        if (e != KP_ERR_NONE)
            return false;
        kp_arena_reset(hb_arena);
        kp_request rq;
        memset(&rq, 0, sizeof rq);
        e = kp_request_frame_decode(c->in, flen, hb_arena, &rq);
        bool keep = true;
        if (e == KP_ERR__UNSUPPORTED && rq.hdr.api_key == KP_API_API_VERSIONS) {
            kp_writer w;
            kp_wr_init(&w, NULL, 0);
            kp_api_versions_unsupported_frame_encode(&w, rq.hdr.correlation_id, kp_api_supported,
                                                     kp_api_supported_count);
            size_t len = w.len;
            uint8_t *buf = malloc(len);
            kp_wr_init(&w, buf, len);
            kp_api_versions_unsupported_frame_encode(&w, rq.hdr.correlation_id, kp_api_supported,
                                                     kp_api_supported_count);
            keep = hb_write(c, buf, len);
            free(buf);
        } else if (e != KP_ERR_NONE) {
            fprintf(stderr, "hostile_broker: undecodable request (%s), closing\n", kp_err_name(e));
            keep = false;
        } else {
            fprintf(stderr, "hostile_broker: fd %d: %s v%d correlation id %d\n", c->fd,
                    kp_api_name(rq.hdr.api_key), rq.hdr.api_version, rq.hdr.correlation_id);
            switch (rq.hdr.api_key) {
            case KP_API_API_VERSIONS: {
                kp_api_versions_response r = { 0, kp_api_supported_count, (kp_api_version *)kp_api_supported, 0 };
                keep = hb_send_body(c, KP_API_API_VERSIONS, rq.hdr.api_version, rq.hdr.correlation_id, &r);
                break;
            }
            case KP_API_METADATA: keep = hb_metadata(c, &rq); break;
            case KP_API_INIT_PRODUCER_ID: {
                kp_init_producer_id_response r = { 0, 0, 4242, 0 };
                keep = hb_send_body(c, KP_API_INIT_PRODUCER_ID, rq.hdr.api_version, rq.hdr.correlation_id, &r);
                break;
            }
            case KP_API_PRODUCE: keep = hb_produce(c, &rq); break;
            default:
                fprintf(stderr, "hostile_broker: %s not served, closing\n", kp_api_name(rq.hdr.api_key));
                keep = false;
            }
        }
        memmove(c->in, c->in + flen, c->in_len - flen);
        c->in_len -= flen;
        if (!keep)
            return false;
    }
}

int main(int argc, char **argv) {
    int seconds = 60;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--mode")) hb_mode = argv[i + 1];
        else if (!strcmp(argv[i], "--times")) hb_times = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--partitions")) hb_partitions = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: hostile_broker --mode M [--times K] [--partitions P] [--seconds S]\n");
            return 2;
        }
    }
    static const char *modes[] = { "ok", "wrong-corr", "truncated", "unknown-partition", "garbage",
                                   "close-mid", "huge-size", "negative-size", "silent", "dup-answer",
                                   "error" };
    bool known = false;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        known |= !strcmp(hb_mode, modes[i]);
    if (!known || hb_partitions < 1 || hb_partitions > 64 || seconds < 1) {
        fprintf(stderr, "hostile_broker: bad --mode/--partitions/--seconds\n");
        return 2;
    }
    signal(SIGTERM, hb_on_signal);
    signal(SIGINT, hb_on_signal);
    signal(SIGPIPE, SIG_IGN);
    hb_arena = kp_arena_new(0, 64u << 20);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 64) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0) {
        perror("hostile_broker: listen");
        return 1;
    }
    hb_port = ntohs(sa.sin_port);
    printf("hostile_broker: listening on 127.0.0.1:%d (mode %s, times %ld)\n", hb_port, hb_mode, hb_times);
    fflush(stdout);

    hb_conn conns[HB_MAX_CONNS];
    int nconns = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!hb_stop) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec >= seconds)
            break;
        struct pollfd pf[HB_MAX_CONNS + 1];
        pf[0] = (struct pollfd){ lfd, POLLIN, 0 };
        for (int i = 0; i < nconns; i++)
            pf[i + 1] = (struct pollfd){ conns[i].fd, POLLIN, 0 };
        if (poll(pf, (nfds_t)nconns + 1, 100) < 0)
            continue;
        for (int i = nconns - 1; i >= 0; i--) {
            if (!pf[i + 1].revents)
                continue;
            hb_conn *c = &conns[i];
            bool keep = true;
            if (c->in_cap - c->in_len < 65536) {
                size_t nc = c->in_cap ? c->in_cap * 2 : 131072;
                if (nc > HB_MAX_FRAME + 65536u) {
                    keep = false;
                } else {
                    c->in = realloc(c->in, nc);
                    c->in_cap = nc;
                }
            }
            if (keep) {
                ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
                if (n > 0) {
                    c->in_len += (size_t)n;
                    keep = hb_process(c);
                } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                    keep = false;
                }
            }
            if (!keep) {
                fprintf(stderr, "hostile_broker: fd %d: closed\n", c->fd);
                close(c->fd);
                free(c->in);
                conns[i] = conns[--nconns];
            }
        }
        if (pf[0].revents & POLLIN) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0 && nconns < HB_MAX_CONNS) {
                conns[nconns++] = (hb_conn){ fd, NULL, 0, 0 };
                fprintf(stderr, "hostile_broker: fd %d: accepted\n", fd);
            }
            else if (fd >= 0)
                close(fd);
        }
    }
    for (int i = 0; i < nconns; i++) {
        close(conns[i].fd);
        free(conns[i].in);
    }
    close(lfd);
    kp_arena_destroy(hb_arena);
    printf("hostile_broker: %ld Produce requests, %ld misbehaved, %ld answered well, %ld records in them\n",
           hb_produce_seen, hb_misbehaved, hb_answered, hb_records);
    return 0;
}
