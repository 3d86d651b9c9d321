/*
 * fuzz_trace_reader.c — libFuzzer target for the trace reader
 * (reports/rp_trace_reader.c) and everything that consumes what it reads.
 *
 * Each input is a candidate trace file, used three ways:
 *   1. streamed frame by frame with rp_trace_reader (a malloc'ed copy of
 *      exactly the input's size, so ASan sees any over-read); a failure
 *      must come with a message naming an offset inside the input;
 *   2. loaded whole with rp_trace_load_mem; when it loads, it is printed as
 *      text, JSON Lines and Perfetto JSON into /dev/null (span pairing,
 *      escaping of hostile strings), records 0 and 1 and batch 1 are
 *      selected and told in both languages (the record-number model, split
 *      chains, templates), and the trace is re-written through the writer
 *      and read back: the second read must give the same number of events;
 *   3. never: no report (gnuplot is a process; out of scope for a fuzzer).
 * Seeds: tests/fuzz/corpus/trace_reader/ (the synthetic fixture, cut and
 * whole).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_explain.h"
#include "rp_format.h"
#include "rp_trace.h"

static FILE *kp_fuzz_null(void) {
    static FILE *f;
    if (!f)
        f = fopen("/dev/null", "w");
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    char err[512];
    rp_trace_reader *r = rp_trace_reader_open_mem(copy, size, "f", err, sizeof err);
    if (!r) {
        if (strncmp(err, "f: offset ", 10) != 0)
            abort();
    } else {
        rp_event ev;
        rp_trace_item it;
        size_t n = 0;
        while ((it = rp_trace_reader_next(r, &ev)) == RP_TRACE_EVENT)
            n++;
        if (it == RP_TRACE_ERROR) {
            unsigned long long off = strtoull(rp_trace_reader_error(r) + 10, NULL, 10);
            if (strncmp(rp_trace_reader_error(r), "f: offset ", 10) != 0 || off >= size)
                abort();
        }
        rp_trace_reader_close(r);
    }
    rp_trace *t = rp_trace_load_mem(copy, size, "f", err, sizeof err);
    if (t) {
        FILE *out = kp_fuzz_null();
        rp_text_widths w = rp_text_widths_of(&t->header);
        rp_text_header(out, &t->header, &w);
        for (size_t i = 0; i < t->n_events; i++) {
            rp_text_event(out, &t->header, &t->events[i], &w);
            rp_json_event(out, &t->header, &t->events[i]);
        }
        if (t->has_summary) {
            rp_text_summary(out, &t->summary);
            rp_json_summary(out, &t->summary);
        }
        rp_json_header(out, &t->header);
        rp_format_perfetto(out, t);
        for (int k = 0; k < 3; k++) {
            rp_explain_sel sel;
            int rc = k < 2 ? rp_explain_select_record(t, NULL, k, &sel)
                           : rp_explain_select_batch(t, NULL, 1, &sel);
            if (rc == 0) {
                rp_explain_print(out, t, &sel, rp_phrasebook_get(k == 1 ? "zh" : "en"));
                rp_explain_sel_free(&sel);
            }
        }
        /* re-write and read back */
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        if (m) {
            rp_trace_writer *w2 = rp_trace_writer_open_file(m);
            /* a header whose kinds repeat a number cannot be written again:
             * the reader already refused those, so this must succeed */
            if (rp_trace_writer_header(w2, &t->header) != KP_ERR_NONE)
                abort();
            for (size_t i = 0; i < t->n_events; i++)
                if (rp_trace_writer_event(w2, &t->events[i].ev, t->events[i].component) != KP_ERR_NONE)
                    abort();
            if (rp_trace_writer_close(w2) != KP_ERR_NONE)
                abort();
            fclose(m);
            rp_trace *t2 = rp_trace_load_mem(buf, len, "g", err, sizeof err);
            if (!t2 || t2->n_events != t->n_events)
                abort();
            rp_trace_free(t2);
            free(buf);
        }
        rp_trace_free(t);
    }
    free(copy);
    return 0;
}
