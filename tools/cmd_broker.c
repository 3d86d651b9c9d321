/*
 * cmd_broker.c — `kpsim broker --listen HOST:PORT [--brokers N]
 * [--partitions P] [--topic NAME]... [--verbose]`: broker_mock on real TCP.
 *
 * Broker i listens on HOST:PORT+i and the metadata advertises exactly
 * those addresses, so any Kafka client (kcat, librdkafka, the Java client,
 * `kpsim produce`) can bootstrap from HOST:PORT. The loop is simnet's live
 * loop (simnet/live.h: poll(), CLOCK_MONOTONIC); the cluster is driven the
 * way bm_cluster.h asks: bytes in through bm_conn_feed, bm_cluster_poll
 * after every dispatch and at the deadline it returns (one sn_timer).
 *
 * On SIGINT/SIGTERM it stops, prints a summary of every partition's log
 * (offsets, records, producer ids with their sequence ranges) and exits 0.
 *
 * Per connection: bytes the socket does not take at once are queued and
 * flushed on WRITABLE; when broker_mock closes a connection (malformed
 * input) its reason is printed on stderr and the socket is closed.
 */
#include "kp_cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bm_cluster.h"
#include "bm_conn.h"
#include "bm_events.h"
#include "kp_proto.h"
#include "live.h"
#include "sc_scenario.h"
#include "scenario.pb-c.h"

static int bc_run(int argc, char **argv);

const kp_cmd kp_cmd_broker = {
    .name = "broker",
    .synopsis = "broker --listen HOST:PORT [--brokers N] [--partitions P] [--topic NAME]... "
                "[--scenario FILE] [--verbose]",
    .summary = "Serve the mock Kafka 2.1 cluster (broker_mock) on real TCP.",
    .help =
        "Broker i (0..N-1) listens on HOST:PORT+i; metadata advertises those addresses.\n"
        "Topics are created on first use (auto.create.topics.enable, the first Metadata\n"
        "answer says LEADER_NOT_AVAILABLE) with P partitions, or up front with --topic.\n"
        "Runs until SIGINT or SIGTERM, then prints every partition's log and exits 0.\n"
        "Malformed input closes only that connection; the reason goes to stderr.\n\n"
        "options:\n"
        "  --listen HOST:PORT  address of broker 0 (PORT 0: pick a free run of N\n"
        "                      consecutive ports; the first line printed says which)\n"
        "  --brokers N         number of brokers, 1..64 (default 1)\n"
        "  --partitions P      partitions of auto-created topics (default 1)\n"
        "  --replication R     replication factor of created topics (default min(N, 3))\n"
        "  --topic NAME        create NAME at start (repeatable)\n"
        "  --verbose           log every request (broker, API, version, correlation id)\n"
        "  --scenario FILE     build the cluster from the scenario's `cluster` block:\n"
        "                      brokers, topics with their settings, broker settings\n"
        "                      (options given on the command line win); the\n"
        "                      scenario's workload and faults are not run here\n\n"
        "example:\n"
        "  kpsim broker --listen 127.0.0.1:9092 --brokers 3 --partitions 4 &\n"
        "  kcat -b 127.0.0.1:9092 -L\n",
    .run = bc_run,
};

typedef struct bc_server bc_server;

typedef struct bc_conn {
    bc_server *srv;
    struct bc_conn *prev, *next; /* all live bc_conns of the server */
    kp_conn *kc;
    bm_conn *bm;
    uint8_t *out;
    size_t out_len, out_cap, out_off;
    bool dead;
    bool in_dispatch;
} bc_conn;

typedef struct bc_accept {
    bc_server *srv;
    int32_t broker;
} bc_accept;

struct bc_server {
    sn_live *live;
    kp_transport tr;
    bm_cluster *c;
    sn_timer timer;
    bool verbose;
    int64_t closes;
    bc_conn *conns;
    bc_accept acc[BM_MAX_BROKERS];
};

static sn_live *volatile bc_signal_live;

static void bc_on_signal(int sig) {
    (void)sig;
    if (bc_signal_live)
        sn_live_stop(bc_signal_live);
}

static void bc_timer_fn(void *ctx, sn_world *w);

static void bc_schedule(bc_server *s) {
    kp_time_us now = sn_live_now();
    kp_time_us next = bm_cluster_poll(s->c, now);
    sn_timer_cancel(sn_live_world(s->live), &s->timer);
    if (next != BM_TIME_NEVER)
        sn_timer_schedule(sn_live_world(s->live), &s->timer, next > now ? next : now);
}

static void bc_timer_fn(void *ctx, sn_world *w) {
    (void)w;
    bc_schedule(ctx);
}

static void bc_conn_free(bc_conn *cc) {
    if (cc->prev)
        cc->prev->next = cc->next;
    else
        cc->srv->conns = cc->next;
    if (cc->next)
        cc->next->prev = cc->prev;
    if (cc->kc)
        cc->srv->tr.close(cc->srv->tr.ctx, cc->kc);
    free(cc->out);
    free(cc);
}

static void bc_flush(bc_conn *cc) {
    while (cc->out_off < cc->out_len) {
        ssize_t n = cc->srv->tr.send(cc->srv->tr.ctx, cc->kc, cc->out + cc->out_off,
                                     cc->out_len - cc->out_off);
        if (n <= 0)
            break;
        cc->out_off += (size_t)n;
    }
    if (cc->out_off == cc->out_len)
        cc->out_off = cc->out_len = 0;
}

static void bc_io_write(void *ctx, const uint8_t *bytes, size_t len) {
    bc_conn *cc = ctx;
    if (cc->dead)
        return;
    if (cc->out_len + len > cc->out_cap) {
        if (cc->out_off > 0) {
            memmove(cc->out, cc->out + cc->out_off, cc->out_len - cc->out_off);
            cc->out_len -= cc->out_off;
            cc->out_off = 0;
        }
        size_t nc = cc->out_cap ? cc->out_cap : 65536;
        while (nc < cc->out_len + len)
            nc *= 2;
        uint8_t *p = realloc(cc->out, nc);
        if (!p) {
            cc->dead = true;
            return;
        }
        cc->out = p;
        cc->out_cap = nc;
    }
    memcpy(cc->out + cc->out_len, bytes, len);
    cc->out_len += len;
    bc_flush(cc);
}

static void bc_io_close(void *ctx, const char *reason) {
    bc_conn *cc = ctx;
    cc->srv->closes++;
    fprintf(stderr, "kpsim broker: closed a connection: %s\n", reason);
    cc->bm = NULL;
    cc->dead = true;
    if (!cc->in_dispatch)
        bc_conn_free(cc);
}

static void bc_on_conn(void *ctx, kp_conn *kc, kp_conn_event ev, kp_err err) {
    (void)err;
    bc_conn *cc = ctx;
    cc->in_dispatch = true;
    if (ev == KP_CONN_EV_READABLE && !cc->dead) {
        static uint8_t buf[1 << 16];
        for (;;) {
            ssize_t n = cc->srv->tr.recv(cc->srv->tr.ctx, kc, buf, sizeof buf);
            if (n > 0) {
                bm_conn_feed(cc->bm, buf, (size_t)n);
                if (cc->dead)
                    break;
                continue;
            }
            if (n < 0) {
                bm_conn_close(cc->bm);
                cc->bm = NULL;
                cc->dead = true;
            }
            break;
        }
    } else if (ev == KP_CONN_EV_WRITABLE && !cc->dead) {
        bc_flush(cc);
    } else if (ev == KP_CONN_EV_CLOSED) {
        if (cc->bm)
            bm_conn_close(cc->bm);
        cc->bm = NULL;
        cc->dead = true;
    }
    cc->in_dispatch = false;
    bc_server *s = cc->srv;
    if (cc->dead)
        bc_conn_free(cc);
    bc_schedule(s);
}

static void bc_on_accept(void *ctx, kp_conn *kc) {
    bc_accept *a = ctx;
    bc_conn *cc = calloc(1, sizeof *cc);
    if (!cc) {
        a->srv->tr.close(a->srv->tr.ctx, kc);
        return;
    }
    cc->srv = a->srv;
    cc->kc = kc;
    cc->next = a->srv->conns;
    if (cc->next)
        cc->next->prev = cc;
    a->srv->conns = cc;
    static const bm_conn_io io = { .write = bc_io_write, .close = bc_io_close };
    cc->bm = bm_conn_open(a->srv->c, a->broker, &io, cc);
    if (!cc->bm) {
        bc_conn_free(cc);
        return;
    }
    sn_live_conn_set_cb(kc, bc_on_conn, cc);
}

static void bc_on_event(void *ctx, const kp_event *ev) {
    bc_server *s = ctx;
    if (!s->verbose)
        return;
    if (ev->kind == BM_EV_REQUEST)
        fprintf(stderr, "kpsim broker: broker %d <- %s v%lld corr %d client '%s' (%lld bytes)\n",
                (int)ev->node, kp_api_name((int16_t)ev->api_key), (long long)ev->value,
                (int)ev->correlation_id, ev->detail ? ev->detail : "", (long long)ev->bytes);
    else if (ev->kind == BM_EV_ERROR)
        fprintf(stderr, "kpsim broker: broker %d answers %s: %s\n", (int)ev->node,
                kp_err_name(ev->err), ev->detail ? ev->detail : "");
    else if (ev->kind == BM_EV_TOPIC_CREATED || ev->kind == BM_EV_LEADER_CHANGE ||
             ev->kind == BM_EV_TXN_STATE)
        fprintf(stderr, "kpsim broker: %s %s %s\n", bm_event_name(ev->kind),
                ev->topic ? ev->topic : "", ev->detail ? ev->detail : "");
}

/* ---- summary -------------------------------------------------------- */

typedef struct bc_pid {
    int64_t pid;
    int64_t records;
    int32_t first_seq, last_seq;
} bc_pid;

typedef struct bc_sum {
    int64_t records, data, control, first, last;
    bc_pid pids[64];
    int npids;
    bool more_pids;
} bc_sum;

static bool bc_sum_rec(void *ctx, const bm_record_view *r) {
    bc_sum *s = ctx;
    if (s->records == 0)
        s->first = r->offset;
    s->last = r->offset;
    s->records++;
    if (r->control) {
        s->control++;
        return true;
    }
    s->data++;
    if (r->producer_id < 0)
        return true;
    for (int i = 0; i < s->npids; i++)
        if (s->pids[i].pid == r->producer_id) {
            s->pids[i].records++;
            s->pids[i].last_seq = r->sequence;
            return true;
        }
    if (s->npids == 64) {
        s->more_pids = true;
        return true;
    }
    s->pids[s->npids++] = (bc_pid){ r->producer_id, 1, r->sequence, r->sequence };
    return true;
}

static void bc_summary(bm_cluster *c) {
    printf("kpsim broker: summary of %d topic(s)\n", (int)bm_cluster_topic_count(c));
    for (int32_t t = 0; t < bm_cluster_topic_count(c); t++) {
        const char *name = bm_cluster_topic_name(c, t);
        for (int32_t p = 0; p < bm_cluster_partition_count(c, name); p++) {
            bm_partition_info pi;
            bm_cluster_partition_info(c, name, p, &pi);
            bc_sum s;
            memset(&s, 0, sizeof s);
            kp_err e = bm_cluster_read_log(c, name, p, bc_sum_rec, &s);
            printf("%s-%d: leader %d epoch %d isr %d/%d log [%lld, %lld) hw %lld lso %lld: "
                   "%lld records (%lld data, %lld control)",
                   name, (int)p, (int)pi.leader, (int)pi.leader_epoch, (int)pi.nisr, (int)pi.nreplicas,
                   (long long)pi.log_start_offset, (long long)pi.log_end_offset,
                   (long long)pi.high_watermark, (long long)pi.last_stable_offset,
                   (long long)s.records, (long long)s.data, (long long)s.control);
            if (s.records > 0)
                printf(" offsets %lld..%lld", (long long)s.first, (long long)s.last);
            if (e != KP_ERR_NONE)
                printf(" [log unreadable: %s]", kp_err_name(e));
            printf("\n");
            for (int i = 0; i < s.npids; i++)
                printf("  producer %lld: %lld records, sequences %d..%d\n", (long long)s.pids[i].pid,
                       (long long)s.pids[i].records, (int)s.pids[i].first_seq, (int)s.pids[i].last_seq);
            if (s.more_pids)
                printf("  (more producers not listed)\n");
        }
    }
}

/* ---- main ----------------------------------------------------------- */

static int bc_run(int argc, char **argv) {
    const kp_cmd *cmd = &kp_cmd_broker;
    const char *listen = NULL;
    const char *scenario = NULL;
    int64_t brokers = 1, partitions = 1, rf = -1;
    bool brokers_given = false, partitions_given = false;
    bool verbose = false;
    const char *topics[64];
    int ntopics = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--listen")) {
            if (!v)
                return kp_cli_usage(cmd, "--listen needs HOST:PORT");
            listen = v;
            i++;
        } else if (!strcmp(a, "--brokers")) {
            if (!v || !kp_cli_parse_i64(v, 1, BM_MAX_BROKERS, &brokers))
                return kp_cli_usage(cmd, "--brokers must be a whole number from 1 to %d", BM_MAX_BROKERS);
            brokers_given = true;
            i++;
        } else if (!strcmp(a, "--partitions")) {
            if (!v || !kp_cli_parse_i64(v, 1, 10000, &partitions))
                return kp_cli_usage(cmd, "--partitions must be a whole number from 1 to 10000");
            partitions_given = true;
            i++;
        } else if (!strcmp(a, "--replication")) {
            if (!v || !kp_cli_parse_i64(v, 1, BM_MAX_BROKERS, &rf))
                return kp_cli_usage(cmd, "--replication must be a whole number from 1 to %d",
                                    BM_MAX_BROKERS);
            i++;
        } else if (!strcmp(a, "--topic")) {
            if (!v)
                return kp_cli_usage(cmd, "--topic needs a name");
            if (ntopics == 64)
                return kp_cli_usage(cmd, "at most 64 --topic options");
            topics[ntopics++] = v;
            i++;
        } else if (!strcmp(a, "--verbose")) {
            verbose = true;
        } else if (!strcmp(a, "--scenario")) {
            if (!v)
                return kp_cli_usage(cmd, "--scenario needs a file");
            scenario = v;
            i++;
        } else {
            return kp_cli_usage(cmd, "unknown option '%s'", a);
        }
    }
    if (!listen)
        return kp_cli_usage(cmd, "--listen HOST:PORT is required");
    const char *colon = strrchr(listen, ':');
    int64_t port;
    if (!colon || colon == listen || (size_t)(colon - listen) >= 64 ||
        !kp_cli_parse_i64(colon + 1, 0, 65535, &port))
        return kp_cli_usage(cmd, "--listen wants HOST:PORT with PORT 0..65535, got '%s'", listen);
    /* The scenario's cluster block: brokers and settings now, topics once
     * the cluster exists. */
    sc_scenario *sc = NULL;
    const Kpsim__Cluster *scl = NULL;
    bm_config conf;
    bm_config_defaults(&conf);
    if (scenario) {
        sc_error serr;
        memset(&serr, 0, sizeof serr);
        sc = sc_scenario_load(scenario, &serr);
        if (!sc) {
            fprintf(stderr, "kpsim broker: %s\n", serr.text);
            return KP_EXIT_USAGE;
        }
        scl = sc_scenario_proto(sc)->cluster;
        if (scl && !brokers_given)
            brokers = scl->brokers;
        for (size_t i = 0; scl && i < scl->n_broker_setting; i++) {
            char why[256];
            const Kpsim__Setting *st = scl->broker_setting[i];
            if (bm_config_set(&conf, st->key, st->value, why, sizeof why) != KP_ERR_NONE) {
                fprintf(stderr, "kpsim broker: %s: %s\n", scenario, why);
                sc_scenario_free(sc);
                return KP_EXIT_USAGE;
            }
        }
    }
    if (rf > brokers) {
        sc_scenario_free(sc);
        return kp_cli_usage(cmd, "--replication %lld is more than --brokers %lld", (long long)rf,
                            (long long)brokers);
    }
    if (port > 0 && port + brokers - 1 > 65535) {
        sc_scenario_free(sc);
        return kp_cli_usage(cmd, "ports %lld..%lld do not fit", (long long)port,
                            (long long)(port + brokers - 1));
    }
    char host[64];
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = 0;

    bc_server s;
    memset(&s, 0, sizeof s);
    s.verbose = verbose;
    s.live = sn_live_new((kp_observer){ NULL, NULL });
    if (!s.live) {
        fprintf(stderr, "kpsim broker: cannot start the event loop\n");
        sc_scenario_free(sc);
        return KP_EXIT_FAILED;
    }
    s.tr = sn_live_transport(s.live);
    sn_live_listener *ls[BM_MAX_BROKERS];
    int base = (int)port;
    /* PORT 0: broker 0 takes a free port P and brokers 1..N-1 need P+1..;
     * one of those may be held by some other socket (a client's ephemeral
     * port), so a run that fails is let go and tried again from a fresh P.
     * Each failed P stays bound until the search ends, so the kernel cannot
     * hand the same P out twice. */
    const int attempts = base == 0 ? 64 : 1;
    sn_live_listener *held[64];
    int n_held = 0;
    for (int a = 0;; a++) {
        int try_base = base, opened = 0;
        const char *why = NULL;
        for (int32_t b = 0; b < brokers && !why; b++) {
            s.acc[b] = (bc_accept){ &s, b };
            ls[b] = sn_live_listen(s.live, host, try_base == 0 ? 0 : try_base + b, bc_on_accept, &s.acc[b]);
            if (!ls[b]) {
                why = "cannot listen";
                break;
            }
            opened++;
            if (b == 0 && try_base == 0)
                try_base = sn_live_listener_port(ls[0]);
            if (try_base + brokers - 1 > 65535)
                why = "ports do not fit";
        }
        if (!why) {
            base = try_base;
            break;
        }
        for (int k = 0; k < opened; k++) {
            if (k == 0 && base == 0)
                held[n_held++] = ls[0];
            else
                sn_live_unlisten(s.live, ls[k]);
        }
        if (a + 1 < attempts)
            continue;
        if (base == 0)
            fprintf(stderr, "kpsim broker: found no %lld consecutive free ports on %s in %d tries\n",
                    (long long)brokers, host, attempts);
        else if (why[0] == 'p')
            fprintf(stderr, "kpsim broker: ports from %d do not fit %lld brokers\n", base,
                    (long long)brokers);
        else if (opened == 0)
            fprintf(stderr, "kpsim broker: cannot listen on %s:%d\n", host, base);
        else
            fprintf(stderr, "kpsim broker: cannot listen on %s:%d (broker %d)\n", host, base + opened,
                    opened);
        sn_live_destroy(s.live);
        sc_scenario_free(sc);
        return KP_EXIT_USAGE;
    }
    for (int k = 0; k < n_held; k++)
        sn_live_unlisten(s.live, held[k]);
    conf.brokers = (int32_t)brokers;
    snprintf(conf.host, sizeof conf.host, "%s", host);
    conf.port_base = base;
    if (partitions_given || !scenario)
        conf.num_partitions = (int32_t)partitions;
    if (rf > 0 || !scenario)
        conf.default_replication_factor = (int32_t)(rf > 0 ? rf : (brokers < 3 ? brokers : 3));
    kp_env env;
    memset(&env, 0, sizeof env);
    env.clock = sn_live_clock(s.live);
    env.observer = (kp_observer){ bc_on_event, &s };
    env.rng = kp_rng_stream(1, "broker");
    s.c = bm_cluster_new(&conf, &env);
    if (!s.c) {
        fprintf(stderr, "kpsim broker: cannot create the cluster\n");
        sn_live_destroy(s.live);
        sc_scenario_free(sc);
        return KP_EXIT_FAILED;
    }
    for (size_t i = 0; scl && i < scl->n_topic; i++) {
        const Kpsim__Topic *tp = scl->topic[i];
        bm_topic_config tc;
        bm_topic_config_defaults(&tc);
        char why[256];
        kp_err e = KP_ERR_NONE;
        for (size_t k = 0; k < tp->n_setting && e == KP_ERR_NONE; k++)
            e = bm_topic_config_set(&tc, tp->setting[k]->key, tp->setting[k]->value, why, sizeof why);
        if (e == KP_ERR_NONE) {
            int32_t trf = tp->replication_factor > (int32_t)brokers ? (int32_t)brokers
                                                                    : tp->replication_factor;
            e = bm_cluster_create_topic_with(s.c, tp->name, tp->partitions, trf, &tc);
            snprintf(why, sizeof why, "%s", kp_err_name(e));
        }
        if (e != KP_ERR_NONE) {
            fprintf(stderr, "kpsim broker: %s: topic %s: %s\n", scenario, tp->name, why);
            bm_cluster_destroy(s.c);
            sn_live_destroy(s.live);
            sc_scenario_free(sc);
            return KP_EXIT_USAGE;
        }
    }
    sc_scenario_free(sc);
    for (int i = 0; i < ntopics; i++) {
        kp_err e = bm_cluster_create_topic(s.c, topics[i], (int32_t)partitions, 0);
        if (e != KP_ERR_NONE) {
            bm_cluster_destroy(s.c);
            sn_live_destroy(s.live);
            return kp_cli_usage(cmd, "cannot create topic '%s': %s", topics[i], kp_err_name(e));
        }
    }
    sn_timer_init(&s.timer, bc_timer_fn, &s);
    printf("kpsim broker: %lld broker(s) listening on %s:%d..%d\n", (long long)brokers, host, base,
           base + (int)brokers - 1);
    fflush(stdout);

    bc_signal_live = s.live;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = bc_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    bc_schedule(&s);
    sn_live_run(s.live, NULL, NULL, -1);

    bc_signal_live = NULL;
    sn_timer_cancel(sn_live_world(s.live), &s.timer);
    bc_summary(s.c);
    printf("kpsim broker: %lld connection(s) closed for malformed input or errors\n",
           (long long)s.closes);
    fflush(stdout);
    /* The cluster frees its bm_conns without calling back; then our
     * per-socket structs (closing their sockets), then the loop. */
    bm_cluster_destroy(s.c);
    while (s.conns)
        bc_conn_free(s.conns);
    sn_live_destroy(s.live);
    return KP_EXIT_OK;
}
