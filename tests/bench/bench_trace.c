/*
 * bench_trace.c — how fast the trace goes: the writer (events/s, bytes per
 * event, no malloc per event), the streaming reader, the in-memory load,
 * and the Perfetto export, on a synthetic producer-like stream.
 *
 *   build/bench/bench_trace [EVENTS]     (default 1000000)
 *
 * Prints one line per stage; the numbers are wall-clock (this is a bench,
 * not part of any simulation).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rp_format.h"
#include "rp_trace.h"

static double kp_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    if (n < 1)
        n = 1;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    rp_trace_writer *w = rp_trace_writer_open_file(f);
    static const char *const names[] = {"send", "append", "drain", "request_sent",
                                        "response_received", "callback"};
    static const char *const comps[] = {"producer-1 app", "producer-1 accumulator",
                                        "producer-1 accumulator", "producer-1 network",
                                        "producer-1 network", "producer-1 app"};
    for (int k = 0; k < 6; k++)
        rp_trace_writer_register_kind(w, 100 + k, names[k], "producer", comps[k]);
    rp_trace_header h = {.scenario = "bench", .seed = 1};
    rp_trace_writer_header(w, &h);
    double t0 = kp_now_s();
    kp_event ev;
    for (long i = 0; i < n; i++) {
        kp_event_init(&ev, 100 + (int)(i % 6), i * 37);
        ev.topic = "orders";
        ev.partition = (int32_t)(i % 12);
        ev.batch_id = i / 30;
        ev.record_count = (int32_t)(i % 30);
        ev.bytes = 100 + i % 900;
        if (i % 6 == 3 || i % 6 == 4) {
            ev.node = (int32_t)(i % 3);
            ev.correlation_id = (int32_t)(i / 6);
            ev.api_key = 0;
        }
        rp_trace_writer_event(w, &ev, NULL);
    }
    kp_err e = rp_trace_writer_close(w);
    fclose(f);
    double t1 = kp_now_s();
    if (e) {
        fprintf(stderr, "bench_trace: writer failed: %s\n", kp_err_name(e));
        return 1;
    }
    printf("write     %ld events in %.3f s: %.2f M events/s, %.1f bytes/event\n", n, t1 - t0,
           (double)n / (t1 - t0) / 1e6, (double)len / (double)n);
    char err[256];
    rp_trace_reader *r = rp_trace_reader_open_mem(buf, len, "bench", err, sizeof err);
    rp_event re;
    long got = 0;
    t0 = kp_now_s();
    while (rp_trace_reader_next(r, &re) == RP_TRACE_EVENT)
        got++;
    t1 = kp_now_s();
    rp_trace_reader_close(r);
    printf("read      %ld events in %.3f s: %.2f M events/s\n", got, t1 - t0,
           (double)got / (t1 - t0) / 1e6);
    t0 = kp_now_s();
    rp_trace *t = rp_trace_load_mem(buf, len, "bench", err, sizeof err);
    t1 = kp_now_s();
    if (!t) {
        fprintf(stderr, "bench_trace: %s\n", err);
        return 1;
    }
    printf("load      %zu events in %.3f s: %.2f M events/s\n", t->n_events, t1 - t0,
           (double)t->n_events / (t1 - t0) / 1e6);
    FILE *devnull = fopen("/dev/null", "w");
    t0 = kp_now_s();
    rp_format_perfetto(devnull, t);
    t1 = kp_now_s();
    printf("perfetto  %zu events in %.3f s: %.2f M events/s\n", t->n_events, t1 - t0,
           (double)t->n_events / (t1 - t0) / 1e6);
    fclose(devnull);
    rp_trace_free(t);
    free(buf);
    return got == n ? 0 : 1;
}
