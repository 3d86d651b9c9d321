/*
 * test_explain.c — selecting one record's events (batch chain through
 * splits, the requests that carried it, broker side, faults in between)
 * and telling them from the en/zh phrasebooks (rp_explain.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_explain.h"
#include "rp_fixture.h"
#include "rp_kinds.h"
#include "rp_trace.h"

/* (static buffers: gcc's -Wdangling-pointer does not follow open_memstream) */
static char *tell(const rp_trace *t, const rp_explain_sel *s, const char *lang) {
    static char *p;
    static size_t len;
    p = NULL;
    FILE *f = open_memstream(&p, &len);
    rp_explain_print(f, t, s, rp_phrasebook_get(lang));
    fclose(f);
    return p;
}

/* Kind names of the selection, space separated. */
static char *names(const rp_trace *t, const rp_explain_sel *s) {
    static char *p;
    static size_t len;
    p = NULL;
    FILE *f = open_memstream(&p, &len);
    for (size_t i = 0; i < s->n; i++)
        fprintf(f, "%s%s", i ? " " : "", t->events[s->ix[i]].kind_name);
    fclose(f);
    return p;
}

static void explain_record_follows_its_batch_request_and_broker(void **state) {
    (void)state;
    rp_trace *t = rp_fixture_trace();
    rp_explain_sel s;
    assert_int_equal(rp_explain_select_record(t, NULL, 2, &s), 0);
    assert_int_equal(s.n_batches, 1);
    assert_int_equal(s.batches[0], 0);
    char *n = names(t, &s);
    assert_string_equal(n, "buffer_allocated batch_created send append ready batch_drained request_sent "
                           "produce_received log_append response_received batch_completed callback "
                           "buffer_deallocated");
    free(n);
    char *en = tell(t, &s, "en");
    assert_non_null(strstr(en, "The life of record 2 in synthetic/leader-move-and-split (seed 42)"));
    assert_non_null(strstr(en, " 3.      8.100 ms  KafkaProducer.send — The application calls send() for record 2 to orders-0 (100 bytes).\n"));
    assert_non_null(strstr(en, "RecordAccumulator.append — Record 2 is appended to batch 0: appended (records in the batch: 3).\n"));
    assert_non_null(strstr(en, "NetworkClient.doSend — The Produce request with correlation id 0 goes to node 1 carrying 5 records (631 bytes).\n"));
    assert_non_null(strstr(en, "Node 1 answers correlation id 0.\n")); /* no error: the bracket drops */
    assert_non_null(strstr(en, "ProducerBatch.done — The callback of record 2 runs: offset 2.\n"));
    free(en);
    char *zh = tell(t, &s, "zh");
    assert_non_null(strstr(zh, "记录 2 的一生：synthetic/leader-move-and-split（种子 42）"));
    assert_non_null(strstr(zh, "应用调用 send() 发送记录 2，目标 orders-0（100 字节）。"));
    assert_non_null(strstr(zh, "Broker 1 把 5 条记录写入 orders-0，偏移量 0。"));
    free(zh);
    rp_explain_sel_free(&s);
    rp_trace_free(t);
}

static void explain_record_in_a_split_batch_includes_the_pieces(void **state) {
    (void)state;
    rp_trace *t = rp_fixture_trace();
    /* batch 3 (records 14..18) meets MESSAGE_TOO_LARGE and splits into 4, 5 */
    rp_explain_sel s;
    assert_int_equal(rp_explain_select_record(t, NULL, 17, &s), 0);
    assert_int_equal(s.n_batches, 2); /* record 17 went on in piece 5, not 4 */
    assert_int_equal(s.batches[0], 3);
    assert_int_equal(s.batches[1], 5);
    char *en = tell(t, &s, "en");
    assert_non_null(strstr(en, "Node 2 answers correlation id 3 with error MESSAGE_TOO_LARGE."));
    assert_null(strstr(en, "piece 4 with 2 records"));
    assert_null(strstr(en, "correlation id 4"));
    assert_non_null(strstr(en, "Batch 3 was too big (MESSAGE_TOO_LARGE): piece 5 with 3 records is re-enqueued."));
    assert_non_null(strstr(en, "The callback of record 17 runs: offset"));
    /* other records' own events stay out */
    assert_null(strstr(en, "record 16 runs"));
    assert_null(strstr(en, "for record 18"));
    /* steps come in trace order: send before split before callback */
    assert_non_null(strstr(en, "calls send()"));
    assert_non_null(strstr(strstr(en, "calls send()"), "was too big"));
    assert_non_null(strstr(strstr(en, "was too big"), "callback of record 17"));
    free(en);
    rp_explain_sel_free(&s);
    /* by batch: the parent and both pieces, no record-level filter */
    assert_int_equal(rp_explain_select_batch(t, NULL, 3, &s), 0);
    assert_int_equal(s.n_batches, 3);
    assert_int_equal(s.record, -1);
    char *n = names(t, &s);
    size_t cbs = 0;
    for (char *p = n; (p = strstr(p, "callback")); p++)
        cbs++;
    assert_int_equal(cbs, 5);
    free(n);
    rp_explain_sel_free(&s);
    rp_trace_free(t);
}

static void explain_record_through_a_fault_and_a_retry(void **state) {
    (void)state;
    rp_trace *t = rp_fixture_trace();
    /* batch 7 is in flight to broker 2 when the link dies */
    rp_explain_sel s;
    int64_t rec = -1;
    for (size_t i = 0; i < t->n_events && rec < 0; i++)
        if (rp_event_role(&t->events[i]) == RP_ROLE_APPEND && t->events[i].ev.batch_id == 7)
            rec = t->events[i].ev.value;
    assert_true(rec >= 0);
    assert_int_equal(rp_explain_select_record(t, NULL, rec, &s), 0);
    char *n = names(t, &s);
    assert_non_null(strstr(n, "request_sent fault_link_down request_timed_out retry metadata_update_requested leader_move"));
    free(n);
    char *en = tell(t, &s, "en");
    assert_non_null(strstr(en, "Fault injected at link client->2: link client->2 down."));
    assert_non_null(strstr(en, "Sender.reenqueueBatch — Batch 7 goes back to the accumulator for another try (attempt 1) after REQUEST_TIMED_OUT; 2147483646 retries left."));
    assert_non_null(strstr(en, "The cluster moves leadership: orders-1 leader 2 -> 1."));
    free(en);
    char *zh = tell(t, &s, "zh");
    assert_non_null(strstr(zh, "注入故障，位置 link client->2：link client->2 down。"));
    free(zh);
    rp_explain_sel_free(&s);
    /* a record nobody sent */
    assert_int_equal(rp_explain_select_record(t, NULL, 999, &s), 0);
    assert_int_equal(s.n, 0);
    char *none = tell(t, &s, "en");
    assert_non_null(strstr(none, "The trace holds no event about it."));
    free(none);
    rp_explain_sel_free(&s);
    rp_trace_free(t);
}

/* With the producer's and the broker's own kind names: the wakeup doSend
 * caused, the ready before the drain, the broker append found by its log
 * position, the followers' replication and the high watermark. */
static void explain_tells_wakeup_ready_replication_and_high_watermark(void **state) {
    (void)state;
    static char *p;
    static size_t len;
    p = NULL;
    FILE *f = open_memstream(&p, &len);
    rp_trace_writer *w = rp_trace_writer_open_file(f);
    static const struct { int k; const char *n; } kinds[] = {
        {100, "send"}, {105, "wakeup"}, {106, "callback"}, {140, "append"}, {141, "batch_created"},
        {143, "ready"}, {144, "drain"}, {167, "produce_response"}, {202, "append"},
        {209, "replicate"}, {210, "hw_advance"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        assert_int_equal(rp_trace_writer_register_kind(w, kinds[i].k, kinds[i].n, NULL, NULL), 0);
    rp_trace_header h = {.scenario = "broker side"};
    assert_int_equal(rp_trace_writer_header(w, &h), 0);
    struct { int kind; int32_t node; int64_t batch; int32_t records; int64_t offset; int32_t corr;
             const char *comp; } evs[] = {
        {100, -1, -1, -1, -1, -1, "p app"},          /* 0 send: record 0 */
        {141, -1, 1, 1, -1, -1, "p accumulator"},    /* 1 */
        {140, -1, 1, 1, -1, -1, "p accumulator"},    /* 2 append */
        {105, -1, -1, -1, -1, -1, "p app"},          /* 3 wakeup */
        {143, 2, -1, -1, -1, -1, "p accumulator"},   /* 4 ready node 2: not ours */
        {143, 1, -1, -1, -1, -1, "p accumulator"},   /* 5 ready node 1 */
        {144, 1, 1, 1, -1, -1, "p accumulator"},     /* 6 drain */
        {202, 1, -1, 1, 7, -1, "broker-1"},          /* 7 broker append at 7 */
        {209, 2, -1, -1, 7, -1, "broker-2"},         /* 8 replicate, not yet past */
        {209, 2, -1, -1, 8, -1, "broker-2"},         /* 9 replicate past the end */
        {209, 2, -1, -1, 9, -1, "broker-2"},         /* 10 later: once is enough */
        {210, 1, -1, -1, 8, -1, "broker-1"},         /* 11 high watermark */
        {210, 1, -1, -1, 9, -1, "broker-1"},         /* 12 later */
        {167, 1, 1, 1, 7, 4, "p sender"},            /* 13 produce_response */
        {106, -1, 1, -1, 7, -1, "p app"},            /* 14 callback */
    };
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
        kp_event ev;
        kp_event_init(&ev, evs[i].kind, (int64_t)i * 1000);
        ev.node = evs[i].node;
        ev.batch_id = evs[i].batch;
        ev.record_count = evs[i].records;
        ev.offset = evs[i].offset;
        ev.correlation_id = evs[i].corr;
        if (evs[i].kind >= 200 || evs[i].kind == 167 || evs[i].kind == 141 || evs[i].kind == 140 ||
            evs[i].kind == 144) {
            ev.topic = "t";
            ev.partition = 0;
        }
        if (evs[i].kind == 105)
            kp_event_init(&ev, 105, 2000); /* doSend wakes the sender at once */
        assert_int_equal(rp_trace_writer_event(w, &ev, evs[i].comp), 0);
    }
    assert_int_equal(rp_trace_writer_close(w), 0);
    fclose(f);
    char err[256];
    rp_trace *t = rp_trace_load_mem(p, len, "b", err, sizeof err);
    assert_non_null(t);
    free(p);
    rp_explain_sel s;
    assert_int_equal(rp_explain_select_record(t, NULL, 0, &s), 0);
    static const size_t want[] = {0, 1, 2, 3, 5, 6, 7, 9, 11, 13, 14};
    assert_int_equal(s.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < s.n; i++)
        assert_int_equal(s.ix[i], want[i]);
    char *zh = tell(t, &s, "zh");
    assert_non_null(strstr(zh, "Follower 2 把 t-0 复制到偏移量 8。"));
    assert_non_null(strstr(zh, "Broker 1 上 t-0 的高水位到达 8。"));
    free(zh);
    rp_explain_sel_free(&s);
    rp_trace_free(t);
}

/* The story of a record names the pipeline's steps in the order the Java
 * producer takes them, and it is stable: the text for record 17 (split on
 * the way) in both languages is the committed golden text
 * (KP_REGEN_FIXTURES=1 rewrites it, from the repo root). */
static void explain_steps_come_in_pipeline_order_and_stay_stable(void **state) {
    (void)state;
    rp_trace *t = rp_fixture_trace();
    rp_explain_sel s;
    assert_int_equal(rp_explain_select_record(t, NULL, 2, &s), 0);
    char *en = tell(t, &s, "en");
    static const char *const steps[] = {
        "BufferPool.allocate", "RecordAccumulator.append", "KafkaProducer.send",
        "RecordAccumulator.append", "RecordAccumulator.ready", "RecordAccumulator.drain",
        "NetworkClient.doSend", "KafkaApis.handleProduceRequest", "Log.append",
        "NetworkClient.handleCompletedReceives", "Sender.completeBatch", "ProducerBatch.done",
        "BufferPool.deallocate",
    };
    const char *at = en;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        const char *next = strstr(at, steps[i]);
        if (!next)
            fail_msg("step %zu (%s) missing or out of order", i, steps[i]);
        at = next + strlen(steps[i]);
    }
    free(en);
    rp_explain_sel_free(&s);
    static const char *const langs[] = {"en", "zh"};
    assert_int_equal(rp_explain_select_record(t, NULL, 17, &s), 0);
    for (int l = 0; l < 2; l++) {
        char *text = tell(t, &s, langs[l]);
        char path[96];
        snprintf(path, sizeof path, "tests/data/traces/synthetic.record17.%s.txt", langs[l]);
        if (getenv("KP_REGEN_FIXTURES")) {
            FILE *g = fopen(path, "wb");
            assert_non_null(g);
            fputs(text, g);
            fclose(g);
        }
        FILE *g = fopen(path, "rb");
        if (!g)
            fail_msg("%s missing (run from the repo root; KP_REGEN_FIXTURES=1 writes it)", path);
        static char golden[16384];
        size_t n = fread(golden, 1, sizeof golden - 1, g);
        fclose(g);
        golden[n] = 0;
        assert_string_equal(text, golden);
        free(text);
    }
    rp_explain_sel_free(&s);
    rp_trace_free(t);
}

static void explain_unknown_kinds_use_the_fallback(void **state) {
    (void)state;
    rp_trace *t = rp_fixture_trace();
    assert_null(rp_phrasebook_get("fr"));
    assert_null(rp_phrasebook_get(NULL));
    rp_event e = t->events[0];
    e.kind_name = "brand_new_kind";
    e.component = "sender";
    e.ev.detail = NULL;
    static char *p;
    static size_t len;
    FILE *f = open_memstream(&p, &len);
    rp_explain_sentence(f, t, &e, rp_phrasebook_get("en"), -1);
    fputc('|', f);
    e.kind_name = NULL;
    e.ev.kind = 777;
    e.ev.detail = "x";
    rp_explain_sentence(f, t, &e, rp_phrasebook_get("zh"), -1);
    fclose(f);
    assert_string_equal(p, "brand_new_kind at sender.|sender 上的 kind_777：x。");
    free(p);
    rp_trace_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(explain_record_follows_its_batch_request_and_broker),
        cmocka_unit_test(explain_record_in_a_split_batch_includes_the_pieces),
        cmocka_unit_test(explain_record_through_a_fault_and_a_retry),
        cmocka_unit_test(explain_tells_wakeup_ready_replication_and_high_watermark),
        cmocka_unit_test(explain_steps_come_in_pipeline_order_and_stay_stable),
        cmocka_unit_test(explain_unknown_kinds_use_the_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
