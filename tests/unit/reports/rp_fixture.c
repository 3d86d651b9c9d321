/*
 * rp_fixture.c — writes the synthetic trace described in rp_fixture.h.
 */
#include "rp_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const rp_kind_def fx_kinds[] = {
    {FX_SEND, "send", "producer", "application"},
    {FX_APPEND, "append", "producer", "accumulator"},
    {FX_BATCH_CREATED, "batch_created", "producer", "accumulator"},
    {FX_BATCH_DRAINED, "batch_drained", "producer", "accumulator"},
    {FX_REQUEST_SENT, "request_sent", "producer", "network client"},
    {FX_RESPONSE, "response_received", "producer", "network client"},
    {FX_BATCH_COMPLETED, "batch_completed", "producer", "sender"},
    {FX_BATCH_FAILED, "batch_failed", "producer", "sender"},
    {FX_CALLBACK, "callback", "producer", "application"},
    {FX_RETRY, "retry", "producer", "sender"},
    {FX_SPLIT, "split", "producer", "sender"},
    {FX_METADATA, "metadata_update_requested", "producer", "sender"},
    {FX_EXPIRED, "batch_expired", "producer", "sender"},
    {FX_BUF_ALLOC, "buffer_allocated", "producer", "accumulator"},
    {FX_BUF_FREE, "buffer_deallocated", "producer", "accumulator"},
    {FX_WAKEUP, "wakeup", "producer", "sender"},
    {FX_READY, "ready", "producer", "sender"},
    {FX_REQ_TIMEOUT, "request_timed_out", "producer", "network client"},
    {FX_BROKER_PRODUCE, "produce_received", "broker", NULL},
    {FX_BROKER_APPEND, "log_append", "broker", NULL},
    {FX_FAULT_LINK_DOWN, "fault_link_down", "net", NULL},
    {FX_LINK_UP, "link_up", "net", NULL},
    {FX_LEADER_MOVE, "leader_move", "harness", "harness"},
};

#define FX_MAX_EVENTS 2048

typedef struct fx_item {
    kp_event ev;
    const char *component;
} fx_item;

typedef struct fx {
    rp_trace_writer *w;
    fx_item items[FX_MAX_EVENTS]; /* buffered, then written in time order */
    size_t n;
    kp_err err;
    int64_t batch_id;
    int32_t corr;
    int64_t pool_used;
    int64_t log_end[2];     /* per partition */
    int32_t leader[2];      /* per partition */
    int64_t acked, failed;
} fx;

#define FX_BATCH_BYTES 1024
#define FX_RECORD_BYTES 100

static void fx_emit(fx *f, const kp_event *ev, const char *component) {
    if (f->n == FX_MAX_EVENTS) {
        f->err = KP_ERR__NOMEM;
        return;
    }
    f->items[f->n].ev = *ev;
    f->items[f->n].component = component;
    f->n++;
}

/* Insertion sort by time: stable, so same-time events keep emission order. */
static void fx_flush(fx *f) {
    for (size_t i = 1; i < f->n; i++) {
        fx_item it = f->items[i];
        size_t j = i;
        while (j > 0 && f->items[j - 1].ev.time_us > it.ev.time_us) {
            f->items[j] = f->items[j - 1];
            j--;
        }
        f->items[j] = it;
    }
    for (size_t i = 0; i < f->n && !f->err; i++)
        f->err = rp_trace_writer_event(f->w, &f->items[i].ev, f->items[i].component);
}

static kp_event fx_ev(int kind, int64_t t_us) {
    kp_event ev;
    kp_event_init(&ev, kind, t_us);
    return ev;
}

static const char *fx_broker(int32_t node) {
    return node == 1 ? "broker 1" : "broker 2";
}
static const char *fx_link(int32_t node) {
    return node == 1 ? "link client->1" : "link client->2";
}

/* One request carrying one batch to `node`; returns the response time.
 * err_code: what the broker answers. */
static int64_t fx_request(fx *f, int64_t t, int32_t node, int32_t partition, int64_t batch,
                          int32_t records, int attempt, kp_err err_code, bool lost) {
    int32_t corr = f->corr++;
    kp_event ev = fx_ev(FX_BATCH_DRAINED, t + 10);
    ev.batch_id = batch;
    ev.node = node;
    ev.topic = "orders";
    ev.partition = partition;
    ev.record_count = records;
    ev.bytes = records * FX_RECORD_BYTES + 61;
    ev.attempt = attempt;
    fx_emit(f, &ev, NULL);
    ev = fx_ev(FX_REQUEST_SENT, t + 20);
    ev.node = node;
    ev.correlation_id = corr;
    ev.api_key = 0;
    ev.batch_id = batch;
    ev.record_count = records;
    ev.bytes = records * FX_RECORD_BYTES + 61 + 70;
    fx_emit(f, &ev, NULL);
    if (lost) {
        ev = fx_ev(FX_REQ_TIMEOUT, t + 30000);
        ev.node = node;
        ev.correlation_id = corr;
        ev.api_key = 0;
        ev.err = KP_ERR_REQUEST_TIMED_OUT;
        ev.detail = "request.timeout.ms expired";
        fx_emit(f, &ev, NULL);
        return t + 30000;
    }
    int64_t at = t + 1500;
    ev = fx_ev(FX_BROKER_PRODUCE, at);
    ev.node = node;
    ev.correlation_id = corr;
    ev.api_key = 0;
    ev.topic = "orders";
    ev.partition = partition;
    ev.record_count = records;
    fx_emit(f, &ev, fx_broker(node));
    if (err_code == KP_ERR_NONE) {
        ev = fx_ev(FX_BROKER_APPEND, at + 100);
        ev.node = node;
        ev.correlation_id = corr;
        ev.topic = "orders";
        ev.partition = partition;
        ev.offset = f->log_end[partition];
        ev.record_count = records;
        f->log_end[partition] += records;
        fx_emit(f, &ev, fx_broker(node));
    }
    ev = fx_ev(FX_RESPONSE, t + 3000);
    ev.node = node;
    ev.correlation_id = corr;
    ev.api_key = 0;
    ev.err = err_code;
    fx_emit(f, &ev, NULL);
    return t + 3000;
}

/* A batch completes: batch_completed or batch_failed, one callback per
 * record, the buffer goes back to the pool. */
static void fx_complete(fx *f, int64_t t, int64_t batch, int32_t partition, int first,
                        int32_t records, int64_t base_offset, kp_err err) {
    kp_event ev = fx_ev(err ? FX_BATCH_FAILED : FX_BATCH_COMPLETED, t + 10);
    ev.batch_id = batch;
    ev.topic = "orders";
    ev.partition = partition;
    ev.record_count = records;
    ev.offset = err ? -1 : base_offset;
    ev.err = err;
    fx_emit(f, &ev, NULL);
    for (int i = 0; i < records; i++) {
        ev = fx_ev(FX_CALLBACK, t + 20 + i);
        ev.value = first + i;
        ev.batch_id = batch;
        ev.topic = "orders";
        ev.partition = partition;
        ev.offset = err ? -1 : base_offset + i;
        ev.err = err;
        fx_emit(f, &ev, NULL);
    }
    if (err)
        f->failed += records;
    else
        f->acked += records;
}

static void fx_buffer(fx *f, int64_t t, int kind, int64_t batch) {
    f->pool_used += kind == FX_BUF_ALLOC ? FX_BATCH_BYTES : -FX_BATCH_BYTES;
    kp_event ev = fx_ev(kind, t);
    ev.batch_id = batch;
    ev.bytes = FX_BATCH_BYTES;
    ev.value = f->pool_used;
    fx_emit(f, &ev, NULL);
}

kp_err rp_fixture_write(rp_trace_writer *w) {
    static fx f; /* big; tests are single-threaded */
    memset(&f, 0, sizeof f);
    f.w = w;
    f.leader[0] = 1;
    f.leader[1] = 2;
    /* kinds: half registered one by one, half through the header */
    size_t nk = sizeof fx_kinds / sizeof fx_kinds[0];
    for (size_t i = 0; i < nk / 2; i++) {
        kp_err e = rp_trace_writer_register_kind(w, fx_kinds[i].kind, fx_kinds[i].name,
                                                 fx_kinds[i].layer, fx_kinds[i].component);
        if (e)
            return e;
    }
    static const rp_kv settings[] = {
        {"producer.acks", "all"},
        {"producer.linger.ms", "5"},
        {"producer.batch.size", "1024"},
        {"producer.max.in.flight.requests.per.connection", "5"},
        {"producer.retries", "2147483647"},
        {"producer.delivery.timeout.ms", "300"},
        {"broker.count", "2"},
        {"net.latency.ms", "1"},
    };
    static const rp_component_def comps[] = {
        {"application", "producer", -1},    {"accumulator", "producer", -1},
        {"sender", "producer", -1},         {"network client", "producer", -1},
        {"broker 1", "broker", 1},          {"broker 2", "broker", 2},
        {"link client->1", "link", 1},      {"link client->2", "link", 2},
        {"harness", "harness", -1},
    };
    rp_trace_header h = {
        .kpsim_version = "0.1.0",
        .scenario = "synthetic/leader-move-and-split",
        .purpose = "A link fault, a leader move, a split on MESSAGE_TOO_LARGE and an expiry, "
                   "in 40 records.",
        .seed = 42,
        .settings = settings,
        .n_settings = sizeof settings / sizeof settings[0],
        .kinds = fx_kinds + nk / 2,
        .n_kinds = nk - nk / 2,
        .components = comps,
        .n_components = sizeof comps / sizeof comps[0],
    };
    kp_err e = rp_trace_writer_header(w, &h);
    if (e)
        return e;

    int64_t t = 0;
    int record = 0;
    for (int b = 0; record < RP_FIXTURE_RECORDS; b++) {
        int32_t partition = b % 2;
        int32_t n = 5 - (b % 3 == 2); /* 5, 5, 4, 5, 5, 4 ... */
        if (record + n > RP_FIXTURE_RECORDS)
            n = RP_FIXTURE_RECORDS - record;
        int64_t batch = f.batch_id++;
        int first = record;
        for (int i = 0; i < n; i++, record++) {
            t += 2000 + (record % 3) * 700;
            kp_event ev = fx_ev(FX_SEND, t);
            ev.value = record;
            ev.topic = "orders";
            ev.partition = partition;
            ev.bytes = FX_RECORD_BYTES;
            fx_emit(&f, &ev, NULL);
            if (i == 0) {
                fx_buffer(&f, t + 5, FX_BUF_ALLOC, batch);
                ev = fx_ev(FX_BATCH_CREATED, t + 10);
                ev.batch_id = batch;
                ev.topic = "orders";
                ev.partition = partition;
                fx_emit(&f, &ev, NULL);
            }
            ev = fx_ev(FX_APPEND, t + 15);
            ev.value = record;
            ev.batch_id = batch;
            ev.topic = "orders";
            ev.partition = partition;
            ev.record_count = i + 1;
            ev.bytes = (i + 1) * FX_RECORD_BYTES;
            ev.detail = i == 0 ? "new batch" : "appended";
            fx_emit(&f, &ev, NULL);
        }
        t += 5000; /* linger.ms */
        kp_event ev = fx_ev(FX_WAKEUP, t);
        fx_emit(&f, &ev, NULL);
        ev = fx_ev(FX_READY, t + 5);
        ev.node = f.leader[partition];
        ev.detail = n == 5 ? "batch full" : "linger expired";
        fx_emit(&f, &ev, NULL);
        int32_t node = f.leader[partition];
        if (b == 5 && partition == 1) {
            /* the link to broker 2 goes down with the request in flight */
            ev = fx_ev(FX_FAULT_LINK_DOWN, t + 500);
            ev.node = 2;
            ev.detail = "link client->2 down";
            int64_t done = fx_request(&f, t, node, partition, batch, n, 0, KP_ERR_NONE, true);
            fx_emit(&f, &ev, fx_link(2));
            ev = fx_ev(FX_RETRY, done + 10);
            ev.batch_id = batch;
            ev.attempt = 1;
            ev.err = KP_ERR_REQUEST_TIMED_OUT;
            ev.value = 2147483646; /* retries left */
            fx_emit(&f, &ev, NULL);
            ev = fx_ev(FX_METADATA, done + 20);
            ev.detail = "request timed out";
            fx_emit(&f, &ev, NULL);
            ev = fx_ev(FX_LEADER_MOVE, done + 5000);
            ev.topic = "orders";
            ev.partition = 1;
            ev.node = 1;
            ev.value = 2;
            ev.detail = "orders-1 leader 2 -> 1";
            fx_emit(&f, &ev, NULL);
            f.leader[1] = 1;
            int64_t t2 = fx_request(&f, done + 100000, 1, partition, batch, n, 1, KP_ERR_NONE,
                                    false);
            fx_complete(&f, t2, batch, partition, first, n, f.log_end[partition] - n,
                        KP_ERR_NONE);
            fx_buffer(&f, t2 + 40, FX_BUF_FREE, batch);
            ev = fx_ev(FX_LINK_UP, t2 + 200);
            ev.node = 2;
            fx_emit(&f, &ev, fx_link(2));
            t = t2 + 1000;
        } else if (b == 3) {
            /* MESSAGE_TOO_LARGE: split in two pieces */
            int64_t done = fx_request(&f, t, node, partition, batch, n, 0,
                                      KP_ERR_MESSAGE_TOO_LARGE, false);
            int32_t half = n / 2;
            int64_t pieces[2];
            pieces[0] = f.batch_id++; /* two statements: an initializer list has no order */
            pieces[1] = f.batch_id++;
            int32_t counts[2] = {half, n - half};
            for (int k = 0; k < 2; k++) {
                ev = fx_ev(FX_SPLIT, done + 10 + k);
                ev.batch_id = pieces[k];
                ev.value = batch;
                ev.record_count = counts[k];
                ev.topic = "orders";
                ev.partition = partition;
                ev.err = KP_ERR_MESSAGE_TOO_LARGE;
                fx_emit(&f, &ev, NULL);
            }
            int64_t tt = done + 100;
            int off = first;
            for (int k = 0; k < 2; k++) {
                int64_t t2 = fx_request(&f, tt, node, partition, pieces[k], counts[k], 1,
                                        KP_ERR_NONE, false);
                fx_complete(&f, t2, pieces[k], partition, off, counts[k],
                            f.log_end[partition] - counts[k], KP_ERR_NONE);
                off += counts[k];
                tt = t2 + 50;
            }
            fx_buffer(&f, tt, FX_BUF_FREE, batch);
            t = tt;
        } else if (b == 7) {
            /* nobody drains it in time: delivery.timeout.ms */
            ev = fx_ev(FX_EXPIRED, t + 300000);
            ev.batch_id = batch;
            ev.record_count = n;
            ev.topic = "orders";
            ev.partition = partition;
            ev.err = KP_ERR__EXPIRED;
            ev.detail = "delivery.timeout.ms";
            fx_emit(&f, &ev, NULL);
            fx_complete(&f, t + 300000, batch, partition, first, n, -1, KP_ERR__EXPIRED);
            fx_buffer(&f, t + 300050, FX_BUF_FREE, batch);
            t += 100; /* the others go on meanwhile */
        } else {
            int64_t t2 = fx_request(&f, t, node, partition, batch, n, 0, KP_ERR_NONE, false);
            fx_complete(&f, t2, batch, partition, first, n, f.log_end[partition] - n,
                        KP_ERR_NONE);
            fx_buffer(&f, t2 + 40, FX_BUF_FREE, batch);
            t = t2 - 1000; /* the next sends overlap this request a little */
        }
        if (f.err)
            return f.err;
    }
    fx_flush(&f);
    if (f.err)
        return f.err;
    static const rp_verdict inv[] = {
        {"every send gets exactly one callback", true, 40, NULL},
        {"acked records are in the leader's log", true, 35, NULL},
        {"per-partition order of acked records", true, 35, NULL},
        {"buffer pool whole after close", true, 0, NULL},
    };
    static const rp_verdict exp[] = {
        {"retries >= 1", true, 1, "saw 1 retry"},
        {"splits >= 1", true, 2, "saw 2 split pieces"},
        {"no record fails", false, 5, "5 records expired (delivery.timeout.ms)"},
    };
    static const rp_metric met[] = {
        {"record-send-total", 40, NULL},
        {"record-retry-total", 5, NULL},
        {"record-error-total", 5, NULL},
        {"request-latency-avg", 3.0, "ms"},
        {"batch-size-avg", 491.5, "bytes"},
    };
    rp_trace_summary s = {
        .passed = false,
        .invariants = inv,
        .n_invariants = sizeof inv / sizeof inv[0],
        .expectations = exp,
        .n_expectations = sizeof exp / sizeof exp[0],
        .metrics = met,
        .n_metrics = sizeof met / sizeof met[0],
        .records_sent = RP_FIXTURE_RECORDS,
        .records_acked = f.acked,
        .records_failed = f.failed,
        .end_time_us = f.items[f.n - 1].ev.time_us,
        .reproduce = "kpsim run synthetic/leader-move-and-split --seed 42",
    };
    return rp_trace_writer_summary(w, &s);
}

char *rp_fixture_bytes(size_t *len) {
    char *p = NULL;
    FILE *f = open_memstream(&p, len);
    if (!f)
        return NULL;
    rp_trace_writer *w = rp_trace_writer_open_file(f);
    kp_err e = rp_fixture_write(w);
    kp_err c = rp_trace_writer_close(w);
    fclose(f);
    if (e || c) {
        free(p);
        return NULL;
    }
    return p;
}

rp_trace *rp_fixture_trace(void) {
    size_t len;
    char *p = rp_fixture_bytes(&len);
    if (!p)
        return NULL;
    char err[256];
    rp_trace *t = rp_trace_load_mem(p, len, "fixture", err, sizeof err);
    free(p);
    return t;
}
