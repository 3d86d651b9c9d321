/*
 * test_model.c — the per-event model (rp_model.c): record numbers inferred
 * from send order, append order and callback order the way the producer
 * reports them (no record ids), split pieces taking their parent's records
 * (batch_split: the next ids; split: value = parent), producers told apart
 * by component prefix, and the spans built on top (rp_spans.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_internal.h"
#include "rp_kinds.h"
#include "rp_trace.h"

/* A little trace builder with the producer's own kind names and numbers. */
enum { SEND = 100, CALLBACK = 106, APPEND = 140, CREATED = 141, DRAIN = 144, SPLIT = 146,
       REQ = 162, RESP = 163, DISC = 161, REENQ = 147, RETRY = 168, NET_SEND = 310 };

typedef struct tb {
    char *p;
    size_t len;
    FILE *f;
    rp_trace_writer *w;
    int64_t t;
} tb;

static void tb_open(tb *b) {
    memset(b, 0, sizeof *b);
    b->f = open_memstream(&b->p, &b->len);
    b->w = rp_trace_writer_open_file(b->f);
    static const struct { int k; const char *n; } kinds[] = {
        {SEND, "send"}, {CALLBACK, "callback"}, {APPEND, "append"}, {CREATED, "batch_created"},
        {DRAIN, "drain"}, {SPLIT, "batch_split"}, {REQ, "request_sent"}, {RESP, "response_received"},
        {DISC, "disconnected"}, {REENQ, "batch_reenqueued"}, {RETRY, "retry"}, {NET_SEND, "send"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        assert_int_equal(rp_trace_writer_register_kind(b->w, kinds[i].k, kinds[i].n, NULL, NULL), 0);
    rp_trace_header h = {.scenario = "model"};
    assert_int_equal(rp_trace_writer_header(b->w, &h), 0);
}

static void tb_ev(tb *b, const char *comp, int kind, int64_t batch, int32_t records, int64_t value) {
    kp_event ev;
    kp_event_init(&ev, kind, b->t += 10);
    ev.batch_id = batch;
    ev.record_count = records;
    ev.value = value;
    assert_int_equal(rp_trace_writer_event(b->w, &ev, comp), 0);
}

static void tb_req(tb *b, const char *comp, int kind, int32_t node, int32_t corr) {
    kp_event ev;
    kp_event_init(&ev, kind, b->t += 10);
    ev.node = node;
    ev.correlation_id = corr;
    assert_int_equal(rp_trace_writer_event(b->w, &ev, comp), 0);
}

static rp_trace *tb_close(tb *b) {
    assert_int_equal(rp_trace_writer_close(b->w), 0);
    fclose(b->f);
    char err[256];
    rp_trace *t = rp_trace_load_mem(b->p, b->len, "tb", err, sizeof err);
    assert_non_null(t);
    free(b->p);
    return t;
}

/* records 0..5: 0,1,2 -> batch 1; 3,4,5 -> batch 2; batch 1 is split into
 * pieces 3 (2 records) and 4 (1 record); callbacks in the producer's order */
static void model_infers_records_through_appends_callbacks_and_splits(void **state) {
    (void)state;
    tb b;
    tb_open(&b);
    const char *app = "p app", *acc = "p accumulator";
    tb_ev(&b, app, SEND, -1, -1, -1);       /* 0: record 0 */
    tb_ev(&b, acc, CREATED, 1, 1, 16384);   /* 1 */
    tb_ev(&b, acc, APPEND, 1, 1, 0);        /* 2: record 0 (value = index in batch) */
    tb_ev(&b, app, SEND, -1, -1, -1);       /* 3: record 1 */
    tb_ev(&b, acc, APPEND, 1, 2, 1);        /* 4: record 1 */
    tb_ev(&b, app, SEND, -1, -1, -1);       /* 5: record 2 */
    tb_ev(&b, acc, APPEND, 1, 3, 2);        /* 6: record 2 */
    tb_ev(&b, app, SEND, -1, -1, -1);       /* 7: record 3 */
    tb_ev(&b, acc, CREATED, 2, 1, 16384);   /* 8 */
    tb_ev(&b, acc, APPEND, 2, 1, 0);        /* 9: record 3 */
    tb_ev(&b, app, SEND, -1, -1, -1);       /* 10: record 4 */
    tb_ev(&b, acc, APPEND, 2, 2, 1);        /* 11 */
    tb_ev(&b, app, SEND, -1, -1, -1);       /* 12: record 5 */
    tb_ev(&b, acc, APPEND, 2, 3, 2);        /* 13 */
    tb_ev(&b, acc, SPLIT, 1, 3, 2);         /* 14: batch 1 -> pieces 3, 4 */
    tb_ev(&b, acc, DRAIN, 4, 1, -1);        /* 15: piece 4 first, 1 record: record 0 */
    tb_ev(&b, acc, DRAIN, 3, 2, -1);        /* 16: piece 3, 2 records: records 1, 2 */
    tb_ev(&b, app, CALLBACK, 2, -1, -1);    /* 17: record 3 */
    tb_ev(&b, app, CALLBACK, 3, -1, -1);    /* 18: record 1 */
    tb_ev(&b, app, CALLBACK, 4, -1, -1);    /* 19: record 0 */
    tb_ev(&b, app, CALLBACK, 2, -1, -1);    /* 20: record 4 */
    tb_ev(&b, app, CALLBACK, 3, -1, -1);    /* 21: record 2 */
    tb_ev(&b, app, CALLBACK, 2, -1, 5);     /* 22: a value wins: record 5 */
    tb_ev(&b, "network", NET_SEND, -1, -1, -1); /* 23: bytes on a link, no record */
    rp_trace *t = tb_close(&b);
    rp__model m;
    assert_int_equal(rp__model_build(t, &m), 0);
    static const int64_t want[24] = {0, -1, 0, 1, 1, 2, 2, 3, -1, 3, 4, 4, 5, 5, -1, -1, -1,
                                     3, 1, 0, 4, 2, 5, -1};
    for (int i = 0; i < 24; i++)
        if (m.record[i] != want[i])
            fail_msg("event %d: record %lld, want %lld", i, (long long)m.record[i], (long long)want[i]);
    assert_int_equal(m.role[23], RP_ROLE_NONE);
    assert_int_equal(m.first_piece[14], 3);
    size_t parent;
    assert_true(rp__imap_get(&m.parent, rp__batch_key(&m, 16, 3), &parent));
    assert_true((int64_t)parent == rp__batch_key(&m, 16, 1));
    assert_int_equal(m.n_scopes, 1); /* one producer: one scope */
    /* spans: batch 1 ends at the split, pieces 3 and 4 run split -> drain */
    rp__span *sp;
    size_t n = rp__spans_build(&m, &sp, NULL);
    assert_int_equal(n, 4);
    assert_int_equal(sp[0].batch_id, 1);
    assert_int_equal(sp[0].end_ix, 14);
    assert_int_equal(sp[2].batch_id, 3);
    assert_int_equal(sp[2].start_ix, 14);
    assert_int_equal(sp[2].end_ix, 16);
    assert_int_equal(sp[3].batch_id, 4);
    assert_int_equal(sp[3].end_ix, 15);
    free(sp);
    rp__model_free(&m);
    rp_trace_free(t);
}

/* A piece that takes new appends before its drain (a producer that leaves
 * split pieces open) holds its parent's records first, then its own. */
static void model_open_piece_takes_parent_records_first(void **state) {
    (void)state;
    tb b;
    tb_open(&b);
    const char *app = "p app", *acc = "p accumulator";
    for (int r = 0; r < 3; r++) {                  /* events 0..5 */
        tb_ev(&b, app, SEND, -1, -1, -1);
        tb_ev(&b, acc, APPEND, 1, r + 1, r);
    }
    tb_ev(&b, acc, SPLIT, 1, 3, 2);                /* 6: pieces 2 and 3 */
    tb_ev(&b, app, SEND, -1, -1, -1);              /* 7: record 3 */
    tb_ev(&b, acc, APPEND, 3, 2, 1);               /* 8: into the open piece 3 */
    tb_ev(&b, acc, DRAIN, 2, 2, -1);               /* 9: piece 2: records 0, 1 */
    tb_ev(&b, acc, DRAIN, 3, 2, -1);               /* 10: piece 3: record 2, then 3 */
    tb_ev(&b, app, CALLBACK, 3, -1, -1);           /* 11: record 2 */
    tb_ev(&b, app, CALLBACK, 3, -1, -1);           /* 12: record 3 */
    tb_ev(&b, app, CALLBACK, 2, -1, -1);           /* 13: record 0 */
    rp_trace *t = tb_close(&b);
    rp__model m;
    assert_int_equal(rp__model_build(t, &m), 0);
    assert_int_equal(m.record[8], 3);
    assert_int_equal(m.record[11], 2);
    assert_int_equal(m.record[12], 3);
    assert_int_equal(m.record[13], 0);
    rp__model_free(&m);
    rp_trace_free(t);
}

/* Two producers: their batch ids and send orders are their own. */
static void model_keeps_two_producers_apart(void **state) {
    (void)state;
    tb b;
    tb_open(&b);
    tb_ev(&b, "a app", SEND, -1, -1, -1);        /* a: record 0 */
    tb_ev(&b, "b app", SEND, -1, -1, -1);        /* b: record 0 */
    tb_ev(&b, "b accumulator", APPEND, 1, 1, 0); /* b0 -> b's batch 1 */
    tb_ev(&b, "a accumulator", APPEND, 1, 1, 0); /* a0 -> a's batch 1 */
    tb_ev(&b, "a app", SEND, -1, -1, -1);        /* a: record 1 */
    tb_ev(&b, "a accumulator", APPEND, 1, 2, 1);
    tb_ev(&b, "b app", CALLBACK, 1, -1, -1);     /* b's record 0 */
    tb_ev(&b, "a app", CALLBACK, 1, -1, -1);     /* a's record 0 */
    tb_ev(&b, "a app", CALLBACK, 1, -1, -1);     /* a's record 1 */
    rp_trace *t = tb_close(&b);
    rp__model m;
    assert_int_equal(rp__model_build(t, &m), 0);
    static const int64_t want[9] = {0, 0, 0, 0, 1, 1, 0, 0, 1};
    for (int i = 0; i < 9; i++)
        assert_int_equal(m.record[i], want[i]);
    assert_int_equal(m.n_scopes, 2);
    assert_true(m.scope[0] != m.scope[1]);
    assert_true(rp__batch_key(&m, 2, 1) != rp__batch_key(&m, 3, 1));
    rp__model_free(&m);
    rp_trace_free(t);
}

/* A disconnect ends every request in flight to its node; a retry and a
 * re-enqueue at the same moment are one restart of the batch's span. */
static void model_spans_end_at_disconnects_and_merge_double_restarts(void **state) {
    (void)state;
    tb b;
    tb_open(&b);
    const char *nc = "network client", *acc = "accumulator";
    tb_req(&b, nc, REQ, -2, 0);  /* 0: bootstrap node -2 */
    tb_req(&b, nc, REQ, 1, 1);   /* 1 */
    tb_req(&b, nc, REQ, 1, 2);   /* 2 */
    tb_req(&b, nc, REQ, 2, 3);   /* 3 */
    tb_req(&b, nc, RESP, -2, 0); /* 4 */
    tb_req(&b, nc, DISC, 1, -1); /* 5: ends 1 and 2 */
    tb_ev(&b, acc, CREATED, 7, 1, 100); /* 6 */
    tb_ev(&b, acc, DRAIN, 7, 1, -1);    /* 7 */
    kp_event ev;
    kp_event_init(&ev, RETRY, b.t += 10);
    ev.batch_id = 7;
    assert_int_equal(rp_trace_writer_event(b.w, &ev, "sender"), 0);  /* 8 */
    ev.kind = REENQ;
    assert_int_equal(rp_trace_writer_event(b.w, &ev, acc), 0);       /* 9: same time */
    tb_ev(&b, acc, DRAIN, 7, 1, -1);    /* 10 */
    rp_trace *t = tb_close(&b);
    rp__model m;
    assert_int_equal(rp__model_build(t, &m), 0);
    rp__span *sp;
    size_t n = rp__spans_build(&m, &sp, NULL);
    assert_int_equal(n, 6);
    assert_int_equal(sp[0].end_ix, 4);
    assert_int_equal(sp[1].end_ix, 5);
    assert_int_equal(sp[2].end_ix, 5);
    assert_true(sp[3].end_ix == SIZE_MAX); /* node 2 never answered */
    assert_int_equal(sp[4].end_ix, 7);
    assert_int_equal(sp[5].start_ix, 8); /* the retry, not the re-enqueue */
    assert_int_equal(sp[5].end_ix, 10);
    free(sp);
    rp__model_free(&m);
    rp_trace_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(model_infers_records_through_appends_callbacks_and_splits),
        cmocka_unit_test(model_open_piece_takes_parent_records_first),
        cmocka_unit_test(model_keeps_two_producers_apart),
        cmocka_unit_test(model_spans_end_at_disconnects_and_merge_double_restarts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
