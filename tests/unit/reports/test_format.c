/*
 * test_format.c — text, JSON Lines and Perfetto output (rp_format.c) and the
 * span pairing under them (rp_spans.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_fixture.h"
#include "rp_format.h"
#include "rp_internal.h"
#include "rp_json_check.h"
#include "rp_kinds.h"
#include "rp_trace.h"

typedef struct out {
    char *p;
    size_t len;
    FILE *f;
} out;

static void out_open(out *o) {
    o->p = NULL;
    o->f = open_memstream(&o->p, &o->len);
    assert_non_null(o->f);
}
static void out_close(out *o) {
    fclose(o->f);
}

static size_t count_str(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Formats the fixture bytes through the streaming reader. */
static void stream_fixture(out *o, rp_format fmt) {
    size_t len;
    char *b = rp_fixture_bytes(&len);
    assert_non_null(b);
    char err[256];
    rp_trace_reader *r = rp_trace_reader_open_mem(b, len, "fx", err, sizeof err);
    assert_non_null(r);
    out_open(o);
    assert_int_equal(rp_format_stream(o->f, r, fmt), 0);
    out_close(o);
    rp_trace_reader_close(r);
    free(b);
}

static void format_text_is_one_aligned_line_per_event(void **state) {
    (void)state;
    rp_trace *t = rp_fixture_trace();
    assert_non_null(t);
    rp_text_widths w = rp_text_widths_of(&t->header);
    assert_int_equal(w.kind, 25); /* strlen("metadata_update_requested") */
    out o;
    stream_fixture(&o, RP_FORMAT_TEXT);
    size_t events = 0, comments = 0;
    int kind_col = 12 + 1 + 6 + 2, comp_col = kind_col + w.kind + 2;
    for (char *line = strtok(o.p, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') {
            comments++;
            continue;
        }
        const rp_event *e = &t->events[events];
        char ms[32];
        rp__ms3(ms, sizeof ms, e->ev.time_us);
        char head[64];
        snprintf(head, sizeof head, "%12s %6zu  ", ms, events);
        if (strncmp(line, head, strlen(head)) != 0)
            fail_msg("line %zu: '%s' does not start with '%s'", events, line, head);
        assert_memory_equal(line + kind_col, e->kind_name, strlen(e->kind_name));
        const char *comp = rp__event_component(&t->header, e);
        assert_memory_equal(line + comp_col, comp, strlen(comp));
        assert_true(line[strlen(line) - 1] != ' '); /* no trailing blanks */
        events++;
    }
    assert_int_equal(events, t->n_events);
    assert_true(comments >= 5 + 8 + 1 + 12); /* header, settings, columns, summary */
    free(o.p);
    /* one exact line, to pin the layout */
    out one;
    out_open(&one);
    rp_text_event(one.f, &t->header, &t->events[13], &w);
    out_close(&one);
    assert_string_equal(one.p, "      17.805     13  ready                      sender          node=1  detail=\"batch full\"\n");
    free(one.p);
    rp_trace_free(t);
}

static void format_text_escapes_odd_bytes_and_names_errors(void **state) {
    (void)state;
    rp_trace_header h = {.format_version = 1};
    rp_text_widths w = rp_text_widths_of(&h);
    rp_event e;
    memset(&e, 0, sizeof e);
    kp_event_init(&e.ev, 123, -1500);
    e.ev.detail = "two\nlines \"quoted\" \x01";
    e.ev.err = KP_ERR_NOT_LEADER_FOR_PARTITION;
    e.ev.api_key = 99;
    e.ev.topic = "a b";
    e.component = "";
    out o;
    out_open(&o);
    rp_text_event(o.f, &h, &e, &w);
    out_close(&o);
    assert_string_equal(o.p, "      -1.500      0  kind_123   unknown                 topic=\"a b\"  api=99  "
                             "err=NOT_LEADER_FOR_PARTITION  detail=\"two\\nlines \\\"quoted\\\" \\x01\"\n");
    free(o.p);
}

static void format_json_lines_each_parse(void **state) {
    (void)state;
    out o;
    stream_fixture(&o, RP_FORMAT_JSON);
    size_t lines = 0;
    char *save = NULL;
    for (char *line = strtok_r(o.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t bad = rp_json_check(line, strlen(line));
        if (bad)
            fail_msg("line %zu not JSON at %zu: %s", lines, bad - 1, line);
        if (lines == 0)
            assert_non_null(strstr(line, "{\"type\":\"header\",\"format_version\":1,"));
        lines++;
    }
    assert_int_equal(lines, 1 + 235 + 1);
    free(o.p);
    /* hostile strings stay valid JSON */
    rp_trace_header h = {.format_version = 1};
    rp_event e;
    memset(&e, 0, sizeof e);
    kp_event_init(&e.ev, 1, 0);
    e.ev.detail = "bad \xff\xfe utf8 \xc3( and \x7f \x1b ok \xe2\x82\xac";
    e.ev.topic = "\"\\";
    out_open(&o);
    rp_json_event(o.f, &h, &e);
    out_close(&o);
    assert_int_equal(rp_json_check(o.p, strlen(o.p)), 0);
    assert_non_null(strstr(o.p, "\\ufffd\\ufffd utf8 \\ufffd( and \\u007f \\u001b ok \xe2\x82\xac"));
    free(o.p);
}

static void format_perfetto_has_the_tracks_spans_and_faults(void **state) {
    (void)state;
    rp_trace *t = rp_fixture_trace();
    out o;
    out_open(&o);
    assert_int_equal(rp_format_perfetto(o.f, t), 0);
    out_close(&o);
    size_t bad = rp_json_check(o.p, o.len);
    if (bad)
        fail_msg("perfetto JSON invalid at %zu: %.60s", bad - 1, o.p + bad - 1);
    /* one named track per header component */
    for (size_t i = 0; i < t->header.n_components; i++) {
        char want[96];
        snprintf(want, sizeof want, "\"name\":\"thread_name\",\"args\":{\"name\":\"%s\"}",
                 t->header.components[i].name);
        if (!strstr(o.p, want))
            fail_msg("no track for %s", t->header.components[i].name);
    }
    size_t n_req = 0, n_created = 0, n_split = 0, n_retry = 0, n_fault = 0;
    for (size_t i = 0; i < t->n_events; i++) {
        rp_role r = rp_event_role(&t->events[i]);
        n_req += r == RP_ROLE_REQUEST_SENT;
        n_created += r == RP_ROLE_BATCH_CREATED;
        n_split += r == RP_ROLE_SPLIT;
        n_retry += r == RP_ROLE_RETRY;
        n_fault += r == RP_ROLE_FAULT;
    }
    assert_int_equal(count_str(o.p, "\"cat\":\"request\""), n_req);
    assert_int_equal(count_str(o.p, "\"cat\":\"batch\""), n_created + n_split + n_retry);
    assert_int_equal(count_str(o.p, "\"cat\":\"fault\",\"s\":\"g\""), n_fault);
    assert_int_equal(n_fault, 2);
    assert_non_null(strstr(o.p, "\"name\":\"link client->2 down\""));
    /* the lost request is a span that ends at its timeout */
    assert_non_null(strstr(o.p, "\"name\":\"Produce #7 -> node 2 REQUEST_TIMED_OUT\""));
    assert_non_null(strstr(o.p, "\"name\":\"in-flight requests node 1\""));
    assert_non_null(strstr(o.p, "\"name\":\"buffer pool in use\""));
    assert_non_null(strstr(o.p, "network client: requests #1"));
    free(o.p);
    rp_trace_free(t);
}

/* Spans follow kind names; unknown kinds become instants; open spans end at
 * the last event, unfinished. */
static void format_spans_pair_by_name_and_degrade(void **state) {
    (void)state;
    char *p = NULL;
    size_t len;
    FILE *f = open_memstream(&p, &len);
    rp_trace_writer *w = rp_trace_writer_open_file(f);
    assert_int_equal(rp_trace_writer_register_kind(w, 100, "producer.request_sent", "producer", "network client"), 0);
    assert_int_equal(rp_trace_writer_register_kind(w, 101, "response_received", "producer", "network client"), 0);
    assert_int_equal(rp_trace_writer_register_kind(w, 102, "something_new", "producer", NULL), 0);
    assert_int_equal(rp_trace_writer_register_kind(w, 300, "net_fault_slow_link", "net", "link"), 0);
    rp_trace_header h = {.scenario = "spans"};
    assert_int_equal(rp_trace_writer_header(w, &h), 0);
    kp_event ev;
    /* corr 1 to node 1: answered; corr 1 to node 2: never; a response with
     * no request; an unknown kind; an unnamed kind */
    int64_t times[] = {0, 10, 20, 30, 40, 50, 60};
    int kinds[] = {100, 100, 101, 101, 102, 999, 300};
    int nodes[] = {1, 2, 1, 3, -1, -1, -1};
    for (int i = 0; i < 7; i++) {
        kp_event_init(&ev, kinds[i], times[i]);
        ev.node = nodes[i];
        ev.correlation_id = nodes[i] >= 0 ? 1 : -1;
        assert_int_equal(rp_trace_writer_event(w, &ev, NULL), 0);
    }
    assert_int_equal(rp_trace_writer_close(w), 0);
    fclose(f);
    char err[256];
    rp_trace *t = rp_trace_load_mem(p, len, "s", err, sizeof err);
    assert_non_null(t);
    rp__span *sp;
    unsigned char bnd[7] = {0};
    rp__model m;
    assert_int_equal(rp__model_build(t, &m), 0);
    size_t n = rp__spans_build(&m, &sp, bnd);
    rp__model_free(&m);
    assert_int_equal(n, 2);
    assert_int_equal(sp[0].start_ix, 0);
    assert_int_equal(sp[0].end_ix, 2);
    assert_int_equal(sp[0].end_us, 20);
    assert_int_equal(sp[1].start_ix, 1);
    assert_true(sp[1].end_ix == SIZE_MAX);
    assert_int_equal(sp[1].end_us, 60);
    unsigned char want[7] = {1, 1, 1, 0, 0, 0, 0};
    assert_memory_equal(bnd, want, 7);
    free(sp);
    out o;
    out_open(&o);
    assert_int_equal(rp_format_perfetto(o.f, t), 0);
    out_close(&o);
    assert_int_equal(rp_json_check(o.p, o.len), 0);
    assert_int_equal(count_str(o.p, "\"ph\":\"X\""), 2);
    assert_int_equal(count_str(o.p, "\"ph\":\"i\""), 4);
    assert_non_null(strstr(o.p, "\"name\":\"kind_999\""));
    assert_non_null(strstr(o.p, "\"unfinished\":true"));
    assert_int_equal(count_str(o.p, "\"cat\":\"fault\""), 1);
    /* two overlapping requests of one component sit on two lanes */
    assert_non_null(strstr(o.p, "network client: requests #2"));
    free(o.p);
    rp_trace_free(t);
    free(p);
}

/* Network events of a one-word component that name a link in simnet's way
 * ("A>B", own end first) share one track per link, both directions. */
static void format_perfetto_gives_each_link_a_track(void **state) {
    (void)state;
    char *p = NULL;
    size_t len;
    FILE *f = open_memstream(&p, &len);
    rp_trace_writer *w = rp_trace_writer_open_file(f);
    assert_int_equal(rp_trace_writer_register_kind(w, 310, "send", "net", "network"), 0);
    assert_int_equal(rp_trace_writer_register_kind(w, 311, "deliver", "net", "network"), 0);
    rp_trace_header h = {.scenario = "links"};
    assert_int_equal(rp_trace_writer_header(w, &h), 0);
    static const char *const details[] = {"p-1>broker-1", "broker-1>p-1", "p-1>broker-2", "a>b>c", NULL};
    for (int i = 0; i < 5; i++) {
        kp_event ev;
        kp_event_init(&ev, 310 + (i & 1), i);
        ev.detail = details[i];
        assert_int_equal(rp_trace_writer_event(w, &ev, NULL), 0);
    }
    assert_int_equal(rp_trace_writer_close(w), 0);
    fclose(f);
    char err[256];
    rp_trace *t = rp_trace_load_mem(p, len, "l", err, sizeof err);
    out o;
    out_open(&o);
    assert_int_equal(rp_format_perfetto(o.f, t), 0);
    out_close(&o);
    assert_int_equal(rp_json_check(o.p, o.len), 0);
    assert_int_equal(count_str(o.p, "\"args\":{\"name\":\"link broker-1<->p-1\"}"), 1);
    assert_int_equal(count_str(o.p, "\"args\":{\"name\":\"link broker-2<->p-1\"}"), 1);
    assert_int_equal(count_str(o.p, "\"args\":{\"name\":\"network\"}"), 1); /* "a>b>c", none */
    assert_int_equal(count_str(o.p, "\"pid\":1,\"tid\":1000,\"args\""), 2); /* both directions of link 1 */
    free(o.p);
    rp_trace_free(t);
    free(p);
}

static void format_names_parse(void **state) {
    (void)state;
    rp_format f;
    assert_true(rp_format_parse("text", &f) && f == RP_FORMAT_TEXT);
    assert_true(rp_format_parse("json", &f) && f == RP_FORMAT_JSON);
    assert_true(rp_format_parse("perfetto", &f) && f == RP_FORMAT_PERFETTO);
    assert_false(rp_format_parse("xml", &f));
    assert_false(rp_format_parse(NULL, &f));
    char b[32];
    rp__ms3(b, sizeof b, 0);
    assert_string_equal(b, "0.000");
    rp__ms3(b, sizeof b, -1);
    assert_string_equal(b, "-0.001");
    rp__ms3(b, sizeof b, INT64_MIN);
    assert_string_equal(b, "-9223372036854775.808");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_text_is_one_aligned_line_per_event),
        cmocka_unit_test(format_text_escapes_odd_bytes_and_names_errors),
        cmocka_unit_test(format_json_lines_each_parse),
        cmocka_unit_test(format_perfetto_has_the_tracks_spans_and_faults),
        cmocka_unit_test(format_spans_pair_by_name_and_degrade),
        cmocka_unit_test(format_perfetto_gives_each_link_a_track),
        cmocka_unit_test(format_names_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
