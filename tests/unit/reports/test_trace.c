/*
 * test_trace.c — the trace writer and reader (rp_trace_writer.c,
 * rp_trace_reader.c): round trips, byte-identical re-writes, and malformed
 * input refused with the offset of the frame at fault.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rp_fixture.h"
#include "rp_trace.h"

#define FIXTURE_PATH "tests/data/traces/synthetic.kptrace"

typedef struct membuf {
    char *p;
    size_t len;
} membuf;

static membuf fixture_bytes(void) {
    membuf m = {0};
    FILE *f = open_memstream(&m.p, &m.len);
    assert_non_null(f);
    rp_trace_writer *w = rp_trace_writer_open_file(f);
    assert_non_null(w);
    assert_int_equal(rp_fixture_write(w), KP_ERR_NONE);
    assert_int_equal(rp_trace_writer_close(w), KP_ERR_NONE);
    fclose(f);
    return m;
}

/* Reads every frame and re-writes it through a second writer. */
static membuf rewrite(const membuf *in, size_t *n_events) {
    char err[512];
    rp_trace_reader *r = rp_trace_reader_open_mem(in->p, in->len, "rewrite", err, sizeof err);
    assert_non_null(r);
    membuf m = {0};
    FILE *f = open_memstream(&m.p, &m.len);
    rp_trace_writer *w = rp_trace_writer_open_file(f);
    assert_int_equal(rp_trace_writer_header(w, rp_trace_reader_header(r)), KP_ERR_NONE);
    rp_event ev;
    rp_trace_item it;
    size_t n = 0;
    while ((it = rp_trace_reader_next(r, &ev)) == RP_TRACE_EVENT) {
        assert_int_equal(ev.seq, n);
        assert_int_equal(rp_trace_writer_event(w, &ev.ev, ev.component), KP_ERR_NONE);
        n++;
    }
    assert_int_equal(it, RP_TRACE_SUMMARY);
    assert_int_equal(rp_trace_writer_summary(w, rp_trace_reader_summary(r)), KP_ERR_NONE);
    assert_int_equal(rp_trace_reader_next(r, &ev), RP_TRACE_END);
    assert_int_equal(rp_trace_writer_close(w), KP_ERR_NONE);
    fclose(f);
    rp_trace_reader_close(r);
    *n_events = n;
    return m;
}

static void trace_rewrite_of_a_read_trace_is_byte_identical(void **state) {
    (void)state;
    membuf a = fixture_bytes();
    size_t n = 0;
    membuf b = rewrite(&a, &n);
    assert_true(n > 200);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.p, b.p, a.len);
    membuf c = fixture_bytes(); /* and the generator is deterministic */
    assert_int_equal(a.len, c.len);
    assert_memory_equal(a.p, c.p, a.len);
    free(a.p);
    free(b.p);
    free(c.p);
}

/* The writer's own event encoder and protobuf-c's pack() make the same
 * bytes: 40,000 random events (every field present or not, extremes,
 * negative kinds, NULL / empty / long strings so the length prefixes take
 * 1, 2 and 3 bytes, one detail larger than the output buffer), written
 * through two writers, one forced to protobuf-c. */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}
static int64_t rnd_i64(void) {
    switch (rnd() % 8) {
    case 0: return -1;
    case 1: return 0;
    case 2: return INT64_MIN;
    case 3: return INT64_MAX;
    case 4: return -(int64_t)(rnd() % 1000) - 2;
    case 5: return (int64_t)(rnd() % 200);
    default: return (int64_t)rnd();
    }
}
static int32_t rnd_i32(void) {
    switch (rnd() % 8) {
    case 0: return -1;
    case 1: return 0;
    case 2: return INT32_MIN;
    case 3: return INT32_MAX;
    case 4: return -(int32_t)(rnd() % 1000) - 2;
    case 5: return (int32_t)(rnd() % 200);
    default: return (int32_t)(uint32_t)rnd();
    }
}

static void trace_own_encoder_matches_protobuf_c(void **state) {
    (void)state;
    static char text[100000];
    for (size_t i = 0; i < sizeof text - 1; i++)
        text[i] = (char)('a' + i % 26);
    text[sizeof text - 1] = 0;
    const size_t lens[] = { 0, 1, 5, 60, 127, 128, 200, 16383, 16384, 20000 };
    membuf m[2] = { { 0 }, { 0 } };
    for (int pass = 0; pass < 2; pass++) {
        rnd_state = 0x9e3779b97f4a7c15ULL;
        FILE *f = open_memstream(&m[pass].p, &m[pass].len);
        rp_trace_writer *w = rp_trace_writer_open_file(f);
        rp_trace_writer_use_protobuf_c(w, pass == 1);
        assert_int_equal(rp_trace_writer_register_kind(w, 150, "k", "producer", "sender"), KP_ERR_NONE);
        rp_trace_header h = { .scenario = "enc", .seed = 1 };
        assert_int_equal(rp_trace_writer_header(w, &h), KP_ERR_NONE);
        char *strs[3];
        for (int n = 0; n < 40000; n++) {
            kp_event ev;
            int kinds[] = { 150, 0, -5, INT32_MAX, INT32_MIN, 1023, 1024 };
            kp_event_init(&ev, kinds[rnd() % 7], rnd_i64());
            ev.node = rnd_i32();
            ev.partition = rnd_i32();
            ev.batch_id = rnd_i64();
            ev.base_sequence = rnd_i32();
            ev.record_count = rnd_i32();
            ev.bytes = rnd_i64();
            ev.correlation_id = rnd_i32();
            ev.api_key = rnd_i32();
            ev.err = (kp_err)rnd_i32();
            ev.attempt = rnd_i32();
            ev.offset = rnd_i64();
            ev.producer_id = rnd_i64();
            ev.producer_epoch = rnd_i32();
            ev.value = rnd_i64();
            for (int k = 0; k < 3; k++) {
                uint64_t r = rnd() % 16;
                size_t len = lens[rnd() % (sizeof lens / sizeof lens[0])];
                strs[k] = r < 4 ? NULL : text + sizeof text - 1 - (r < 14 ? (len < 300 ? len : len % 300) : len);
            }
            ev.topic = strs[0];
            ev.detail = strs[1];
            if (n == 777)
                ev.detail = text; /* larger than the 64 KiB buffer */
            assert_int_equal(rp_trace_writer_event(w, &ev, strs[2]), KP_ERR_NONE);
        }
        assert_int_equal(rp_trace_writer_count(w), 40000);
        assert_int_equal(rp_trace_writer_close(w), KP_ERR_NONE);
        fclose(f);
    }
    assert_true(m[0].len > 40000 * 20);
    assert_int_equal(m[0].len, m[1].len);
    assert_memory_equal(m[0].p, m[1].p, m[0].len);
    /* and the reader takes every frame back */
    char err[512];
    rp_trace *t = rp_trace_load_mem(m[0].p, m[0].len, "enc", err, sizeof err);
    assert_non_null(t);
    rp_trace_free(t);
    free(m[0].p);
    free(m[1].p);
}

static void trace_events_read_back_field_for_field(void **state) {
    (void)state;
    membuf m = {0};
    FILE *f = open_memstream(&m.p, &m.len);
    rp_trace_writer *w = rp_trace_writer_open_file(f);
    assert_int_equal(rp_trace_writer_register_kind(w, 150, "weird", "producer", "sender"),
                     KP_ERR_NONE);
    rp_trace_header h = {.scenario = "s", .seed = UINT64_MAX, .start_time_us = -5};
    assert_int_equal(rp_trace_writer_header(w, &h), KP_ERR_NONE);
    kp_event evs[3];
    kp_event_init(&evs[0], 150, 0); /* nothing applies */
    kp_event_init(&evs[1], 150, INT64_MAX);
    evs[1].node = 0;
    evs[1].topic = "";
    evs[1].partition = INT32_MAX;
    evs[1].batch_id = INT64_MIN;
    evs[1].base_sequence = 0;
    evs[1].record_count = 0;
    evs[1].bytes = 1;
    evs[1].correlation_id = INT32_MIN;
    evs[1].api_key = 0;
    evs[1].err = KP_ERR__EXPIRED;
    evs[1].attempt = 0;
    evs[1].offset = 0;
    evs[1].producer_id = INT64_MAX;
    evs[1].producer_epoch = 0;
    evs[1].value = -2;
    evs[1].detail = "d\xc3\xa9tail \"quoted\"\n";
    kp_event_init(&evs[2], 999, -1); /* a kind with no name */
    evs[2].err = KP_ERR_UNKNOWN_SERVER_ERROR;
    assert_int_equal(rp_trace_writer_event(w, &evs[0], NULL), KP_ERR_NONE);
    assert_int_equal(rp_trace_writer_event(w, &evs[1], "explicit"), KP_ERR_NONE);
    assert_int_equal(rp_trace_writer_event(w, &evs[2], NULL), KP_ERR_NONE);
    assert_int_equal(rp_trace_writer_count(w), 3);
    assert_int_equal(rp_trace_writer_close(w), KP_ERR_NONE);
    fclose(f);

    char err[512];
    rp_trace *t = rp_trace_load_mem(m.p, m.len, "mem", err, sizeof err);
    assert_non_null(t);
    assert_int_equal(t->n_events, 3);
    assert_false(t->has_summary);
    assert_string_equal(t->header.scenario, "s");
    assert_null(t->header.purpose);
    assert_true(t->header.seed == UINT64_MAX);
    assert_int_equal(t->header.start_time_us, -5);
    assert_int_equal(t->header.n_kinds, 1);
    for (int i = 0; i < 3; i++) {
        const kp_event *a = &evs[i], *b = &t->events[i].ev;
        assert_int_equal(t->events[i].seq, i);
        assert_int_equal(a->kind, b->kind);
        assert_true(a->time_us == b->time_us);
        assert_int_equal(a->node, b->node);
        assert_int_equal(a->partition, b->partition);
        assert_true(a->batch_id == b->batch_id);
        assert_int_equal(a->base_sequence, b->base_sequence);
        assert_int_equal(a->record_count, b->record_count);
        assert_true(a->bytes == b->bytes);
        assert_int_equal(a->correlation_id, b->correlation_id);
        assert_int_equal(a->api_key, b->api_key);
        assert_int_equal(a->err, b->err);
        assert_int_equal(a->attempt, b->attempt);
        assert_true(a->offset == b->offset);
        assert_true(a->producer_id == b->producer_id);
        assert_int_equal(a->producer_epoch, b->producer_epoch);
        assert_true(a->value == b->value);
        if (a->topic)
            assert_string_equal(a->topic, b->topic);
        else
            assert_null(b->topic);
        if (a->detail)
            assert_string_equal(a->detail, b->detail);
        else
            assert_null(b->detail);
    }
    assert_string_equal(t->events[0].component, "sender"); /* from the kind table */
    assert_string_equal(t->events[0].kind_name, "weird");
    assert_string_equal(t->events[1].component, "explicit");
    assert_null(t->events[2].component);
    assert_null(t->events[2].kind_name);
    rp_trace_free(t);
    free(m.p);
}

/* Cut the fixture at every length: a cut at a frame boundary is a shorter
 * valid trace; anywhere else it is an error naming the frame's offset. */
static void trace_truncated_anywhere_gives_an_error_with_the_offset(void **state) {
    (void)state;
    membuf a = fixture_bytes();
    /* frame boundaries */
    size_t *bounds = calloc(a.len + 1, sizeof *bounds);
    size_t nb = 0;
    for (size_t off = 0; off < a.len;) {
        bounds[nb++] = off;
        uint32_t len = 0;
        int sh = 0;
        while ((unsigned char)a.p[off] & 0x80) {
            len |= (uint32_t)((unsigned char)a.p[off++] & 0x7f) << sh;
            sh += 7;
        }
        len |= (uint32_t)((unsigned char)a.p[off++]) << sh;
        off += len;
    }
    bounds[nb] = a.len;
    size_t fr = 0;
    for (size_t cut = 0; cut < a.len; cut++) {
        while (fr + 1 <= nb && bounds[fr + 1] <= cut)
            fr++;
        char err[512] = "";
        rp_trace *t = rp_trace_load_mem(a.p, cut, "cut", err, sizeof err);
        if (cut == bounds[fr] && cut > 0) {
            assert_non_null(t);
            assert_int_equal(t->n_events, fr - 1);
            assert_false(t->has_summary);
        } else {
            assert_null(t);
            char want[64];
            snprintf(want, sizeof want, "cut: offset %zu: ", cut == 0 ? (size_t)0 : bounds[fr]);
            if (strncmp(err, want, strlen(want)) != 0)
                fail_msg("cut at %zu: got '%s', want prefix '%s'", cut, err, want);
        }
        rp_trace_free(t);
    }
    free(bounds);
    free(a.p);
}

/* Every single-byte corruption: an error or a trace, never a crash (ASan
 * run) and never a message without an offset. */
static void trace_corrupted_bytes_never_crash(void **state) {
    (void)state;
    membuf a = fixture_bytes();
    size_t errors = 0;
    for (size_t i = 0; i < a.len; i++) {
        for (int flip = 0; flip < 1 + (i % 4 == 0); flip++) {
            char saved = a.p[i];
            a.p[i] = flip ? (char)0xff : (char)(saved ^ 0x01);
            char err[512] = "";
            rp_trace *t = rp_trace_load_mem(a.p, a.len, "x", err, sizeof err);
            if (!t) {
                errors++;
                assert_non_null(strstr(err, "x: offset "));
            }
            rp_trace_free(t);
            a.p[i] = saved;
        }
    }
    print_message("%zu of %zu corruptions refused\n", errors, a.len + a.len / 4);
    assert_true(errors > a.len / 8); /* much damage is noticed (protobuf itself is lenient) */
    free(a.p);
}

static void trace_malformed_files_are_named(void **state) {
    (void)state;
    char err[512];
    static const struct {
        const char *bytes;
        size_t len;
        const char *want;
    } cases[] = {
        {"", 0, "t: offset 0: empty file"},
        {"\x00", 1, "t: offset 0: frame length 0 out of range"},
        {"\xff\xff\xff\xff\x7f", 5, "t: offset 0: frame length varint longer"},
        {"\x80", 1, "t: offset 0: truncated frame length"},
        {"\x05\x0a\x03", 3, "t: offset 0: truncated frame: length 5, only 2 bytes left"},
        {"\x02\x12\x00", 3, "t: offset 0: first frame is not a trace header"},
        {"\x02\x0a\x00", 3, "t: offset 0: not a kpsim trace"},
        {"\x03\xff\xff\xff", 4, "t: offset 0: frame of 3 bytes is not a valid kptrace.Record"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = 0;
        assert_null(rp_trace_reader_open_mem(cases[i].bytes, cases[i].len, "t", err, sizeof err));
        if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("case %zu: got '%s', want '%s'", i, err, cases[i].want);
    }
    /* a valid trace followed by garbage after the summary */
    membuf a = fixture_bytes();
    a.p = realloc(a.p, a.len + 3);
    memcpy(a.p + a.len, "\x02\x12\x00", 3);
    assert_null(rp_trace_load_mem(a.p, a.len + 3, "t", err, sizeof err));
    char want[64];
    snprintf(want, sizeof want, "t: offset %zu: frame after the summary", a.len);
    assert_string_equal(err, want);
    /* a second header */
    membuf h = {0};
    FILE *f = open_memstream(&h.p, &h.len);
    rp_trace_writer *w = rp_trace_writer_open_file(f);
    rp_trace_header hd = {.scenario = "x"};
    assert_int_equal(rp_trace_writer_header(w, &hd), KP_ERR_NONE);
    assert_int_equal(rp_trace_writer_close(w), KP_ERR_NONE);
    fclose(f);
    membuf two = {malloc(h.len * 2), h.len * 2};
    memcpy(two.p, h.p, h.len);
    memcpy(two.p + h.len, h.p, h.len);
    assert_null(rp_trace_load_mem(two.p, two.len, "t", err, sizeof err));
    snprintf(want, sizeof want, "t: offset %zu: a second trace header", h.len);
    assert_string_equal(err, want);
    /* not a file at all */
    assert_null(rp_trace_reader_open_path("/nonexistent/x.kptrace", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/x.kptrace: "));
    free(two.p);
    free(h.p);
    free(a.p);
}

static void trace_seq_gaps_are_refused(void **state) {
    (void)state;
    membuf a = fixture_bytes();
    /* drop the 3rd frame (event seq 1): the next event has seq 2 */
    size_t off = 0, starts[4];
    for (int k = 0; k < 4; k++) {
        starts[k] = off;
        uint32_t len = 0;
        int sh = 0;
        while ((unsigned char)a.p[off] & 0x80) {
            len |= (uint32_t)((unsigned char)a.p[off++] & 0x7f) << sh;
            sh += 7;
        }
        len |= (uint32_t)((unsigned char)a.p[off++]) << sh;
        off += len;
    }
    memmove(a.p + starts[2], a.p + starts[3], a.len - starts[3]);
    size_t len = a.len - (starts[3] - starts[2]);
    char err[512];
    assert_null(rp_trace_load_mem(a.p, len, "g", err, sizeof err));
    char want[80];
    snprintf(want, sizeof want, "g: offset %zu: event seq 2 where 1 was due", starts[2]);
    assert_string_equal(err, want);
    free(a.p);
}

static void trace_writer_enforces_its_order(void **state) {
    (void)state;
    membuf m = {0};
    FILE *f = open_memstream(&m.p, &m.len);
    rp_trace_writer *w = rp_trace_writer_open_file(f);
    kp_event ev;
    kp_event_init(&ev, 100, 0);
    assert_int_equal(rp_trace_writer_event(w, &ev, NULL), KP_ERR__STATE);
    assert_int_equal(rp_trace_writer_register_kind(w, 100, "send", NULL, NULL), KP_ERR_NONE);
    assert_int_equal(rp_trace_writer_register_kind(w, 100, "again", NULL, NULL),
                     KP_ERR__INVALID_ARG);
    assert_int_equal(rp_trace_writer_register_kind(w, 101, "", NULL, NULL), KP_ERR__INVALID_ARG);
    assert_int_equal(rp_trace_writer_register_kind(w, 5000, "far", NULL, NULL), KP_ERR_NONE);
    rp_kind_def dup = {100, "dup", NULL, NULL};
    rp_trace_header h = {.kinds = &dup, .n_kinds = 1};
    assert_int_equal(rp_trace_writer_header(w, &h), KP_ERR__INVALID_ARG);
    h.n_kinds = 0;
    assert_int_equal(rp_trace_writer_header(w, &h), KP_ERR_NONE);
    assert_int_equal(rp_trace_writer_header(w, &h), KP_ERR__STATE);
    assert_int_equal(rp_trace_writer_register_kind(w, 102, "late", NULL, NULL), KP_ERR__STATE);
    /* an event too big for a frame is refused and does not use a seq */
    size_t big = RP_TRACE_MAX_FRAME + 10;
    char *s = malloc(big + 1);
    memset(s, 'a', big);
    s[big] = 0;
    ev.detail = s;
    assert_int_equal(rp_trace_writer_event(w, &ev, NULL), KP_ERR__INVALID_ARG);
    /* flush: what was written so far is on the FILE and readable */
    size_t before = m.len;
    assert_int_equal(rp_trace_writer_flush(w), KP_ERR_NONE);
    assert_true(m.len > before);
    char err0[256];
    rp_trace *t0 = rp_trace_load_mem(m.p, m.len, "flushed", err0, sizeof err0);
    assert_non_null(t0);
    assert_int_equal(t0->n_events, 0);
    rp_trace_free(t0);
    ev.detail = s;
    /* one bigger than the writer's buffer goes through the scratch path */
    s[200000] = 0;
    assert_int_equal(rp_trace_writer_event(w, &ev, NULL), KP_ERR_NONE);
    ev.detail = "small";
    ev.kind = 5000;
    kp_observer o = rp_trace_writer_observer(w);
    kp_observer_emit(&o, &ev);
    rp_trace_summary sum = {.passed = true, .records_sent = -1, .records_acked = -1,
                            .records_failed = -1, .end_time_us = -1};
    assert_int_equal(rp_trace_writer_summary(w, &sum), KP_ERR_NONE);
    assert_int_equal(rp_trace_writer_event(w, &ev, NULL), KP_ERR__STATE);
    assert_int_equal(rp_trace_writer_summary(w, &sum), KP_ERR__STATE);
    assert_int_equal(rp_trace_writer_close(w), KP_ERR_NONE);
    fclose(f);
    char err[512];
    rp_trace *t = rp_trace_load_mem(m.p, m.len, "w", err, sizeof err);
    assert_non_null(t);
    assert_int_equal(t->n_events, 2);
    assert_int_equal(strlen(t->events[0].ev.detail), 200000);
    assert_string_equal(t->events[1].kind_name, "far");
    assert_true(t->has_summary);
    assert_true(t->summary.passed);
    assert_int_equal(t->summary.records_sent, -1);
    assert_int_equal(t->summary.event_count, 2);
    rp_trace_free(t);
    free(s);
    free(m.p);
}

static void trace_files_by_path_and_the_committed_fixture(void **state) {
    (void)state;
    membuf a = fixture_bytes();
    if (getenv("KP_REGEN_FIXTURES")) {
        FILE *f = fopen(FIXTURE_PATH, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(a.p, 1, a.len, f), a.len);
        fclose(f);
    }
    /* the committed fixture is what the generator writes today */
    FILE *f = fopen(FIXTURE_PATH, "rb");
    if (!f)
        fail_msg("%s missing (run from the repo root; KP_REGEN_FIXTURES=1 writes it)",
                 FIXTURE_PATH);
    char *disk = malloc(a.len + 1);
    size_t n = fread(disk, 1, a.len + 1, f);
    fclose(f);
    assert_int_equal(n, a.len);
    assert_memory_equal(disk, a.p, a.len);
    free(disk);
    /* writer by path, reader by path */
    char path[] = "/tmp/kp_rp_trace_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    kp_err e;
    rp_trace_writer *w = rp_trace_writer_open_path(path, &e);
    assert_non_null(w);
    assert_int_equal(rp_fixture_write(w), KP_ERR_NONE);
    assert_int_equal(rp_trace_writer_close(w), KP_ERR_NONE);
    char err[512];
    rp_trace *t = rp_trace_load_path(path, err, sizeof err);
    if (!t)
        fail_msg("%s", err);
    assert_true(t->has_summary);
    assert_int_equal(t->summary.records_sent, RP_FIXTURE_RECORDS);
    assert_int_equal(t->summary.records_acked + t->summary.records_failed, RP_FIXTURE_RECORDS);
    assert_int_equal(t->summary.event_count, t->n_events);
    assert_string_equal(t->header.scenario, "synthetic/leader-move-and-split");
    assert_int_equal(t->header.n_components, 9);
    assert_string_equal(t->header.kinds[0].name, "metadata_update_requested"); /* header's kinds first */
    rp_trace_free(t);
    /* a truncated file on disk names the offset too */
    assert_int_equal(truncate(path, (off_t)(a.len - 7)), 0);
    assert_null(rp_trace_load_path(path, err, sizeof err));
    assert_non_null(strstr(err, ": offset "));
    assert_non_null(strstr(err, "truncated frame"));
    unlink(path);
    assert_null(rp_trace_writer_open_path("/nonexistent/dir/x", &e));
    assert_int_equal(e, KP_ERR__NOENT);
    free(a.p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trace_rewrite_of_a_read_trace_is_byte_identical),
        cmocka_unit_test(trace_events_read_back_field_for_field),
        cmocka_unit_test(trace_truncated_anywhere_gives_an_error_with_the_offset),
        cmocka_unit_test(trace_corrupted_bytes_never_crash),
        cmocka_unit_test(trace_malformed_files_are_named),
        cmocka_unit_test(trace_seq_gaps_are_refused),
        cmocka_unit_test(trace_writer_enforces_its_order),
        cmocka_unit_test(trace_files_by_path_and_the_committed_fixture),
        cmocka_unit_test(trace_own_encoder_matches_protobuf_c),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
