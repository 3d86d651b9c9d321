/*
 * test_report.c — the report folder (rp_report.c): index.html with every
 * verdict, non-empty PNG/SVG charts drawn by gnuplot WITHOUT a word on its
 * output, "no data" instead of broken images, deterministic files, and the
 * sweep page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rp_fixture.h"
#include "rp_report.h"
#include "rp_trace.h"

static char *slurp(const char *dir, const char *name, size_t *len) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    size_t got = fread(p, 1, (size_t)n, f);
    fclose(f);
    p[got] = 0;
    if (len)
        *len = got;
    return p;
}

static void mktmpdir(char *buf, size_t len) {
    snprintf(buf, len, "/tmp/kp_rp_report_XXXXXX");
    assert_non_null(mkdtemp(buf));
}

static void rmrf(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static const char *const charts[] = {"records", "inflight", "batch_size", "records_per_request",
                                     "latency", "counters", "buffer"};

static void report_of_the_fixture_has_every_verdict_and_clean_charts(void **state) {
    (void)state;
    rp_trace *t = rp_fixture_trace();
    char dir[64], sub[128];
    mktmpdir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/a/b", dir); /* parents are created */
    rp_report_result res;
    int rc = rp_report_write(sub, t, NULL, &res);
    if (rc != 0)
        fail_msg("rc %d: error '%s', gnuplot said '%s'", rc, res.error, res.gnuplot_output);
    assert_string_equal(res.gnuplot_output, "");
    assert_true(res.gnuplot_ran);
    assert_int_equal(res.charts, 7);
    assert_int_equal(res.charts_empty, 0);
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++) {
        char name[64];
        size_t len = 0;
        snprintf(name, sizeof name, "%s.png", charts[i]);
        char *png = slurp(sub, name, &len);
        if (!png)
            fail_msg("%s missing", name);
        assert_true(len > 2000);
        assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
        free(png);
        snprintf(name, sizeof name, "%s.svg", charts[i]);
        char *svg = slurp(sub, name, &len);
        assert_non_null(svg);
        assert_non_null(strstr(svg, "<svg"));
        free(svg);
    }
    char *html = slurp(sub, "index.html", NULL);
    assert_non_null(html);
    for (size_t i = 0; i < t->summary.n_invariants; i++)
        if (!strchr(t->summary.invariants[i].name, '\'')) /* escaped: checked below */
            assert_non_null(strstr(html, t->summary.invariants[i].name));
    assert_non_null(strstr(html, "retries &gt;= 1"));
    assert_non_null(strstr(html, "<td class=\"fail\">FAIL</td><td class=\"n\">5</td><td>5 records expired"));
    assert_non_null(strstr(html, "badge fail"));
    assert_non_null(strstr(html, "leader&#39;s log"));
    assert_non_null(strstr(html, "<img src=\"records.png\""));
    assert_non_null(strstr(html, "producer.linger.ms"));
    assert_non_null(strstr(html, "request-latency-avg"));
    assert_non_null(strstr(html, "link client-&gt;2 down"));
    assert_non_null(strstr(html, "send &rarr; ack latency (ms)</th><td class=\"n\">p50 "));
    assert_non_null(strstr(html, "(35 records)</td>"));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "http://"));
    /* fault markers are in the time charts' script */
    char *gp = slurp(sub, "report.gp", NULL);
    assert_non_null(strstr(gp, "set label 'link client->2 down' at "));
    /* the data: 40 sent, 35 acked, 5 failed at the end */
    char *rec = slurp(sub, "records.dat", NULL);
    assert_non_null(strstr(rec, " 40 35 5\n"));
    /* deterministic: a second report is the same, byte for byte */
    char sub2[160];
    snprintf(sub2, sizeof sub2, "%s/again", dir);
    rp_report_opts no_gp = {.gnuplot = ""};
    assert_int_equal(rp_report_write(sub2, t, &no_gp, &res), 0);
    const char *files[] = {"report.gp", "records.dat", "inflight.dat", "latency.dat",
                           "counters.dat", "buffer.dat", "batch_size.dat", "records_per_request.dat"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t l1, l2;
        char *a = slurp(sub, files[i], &l1), *b = slurp(sub2, files[i], &l2);
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(l1, l2);
        assert_memory_equal(a, b, l1);
        free(a);
        free(b);
    }
    free(rec);
    free(gp);
    free(html);
    rmrf(dir);
    rp_trace_free(t);
}

static void report_without_data_says_so_instead_of_broken_images(void **state) {
    (void)state;
    char *p = NULL;
    size_t len;
    FILE *f = open_memstream(&p, &len);
    rp_trace_writer *w = rp_trace_writer_open_file(f);
    assert_int_equal(rp_trace_writer_register_kind(w, 100, "mystery", NULL, NULL), 0);
    rp_trace_header h = {.scenario = "<empty & odd>"};
    assert_int_equal(rp_trace_writer_header(w, &h), 0);
    kp_event ev;
    kp_event_init(&ev, 100, 5000);
    assert_int_equal(rp_trace_writer_event(w, &ev, NULL), 0);
    assert_int_equal(rp_trace_writer_close(w), 0);
    fclose(f);
    char err[256];
    rp_trace *t = rp_trace_load_mem(p, len, "e", err, sizeof err);
    assert_non_null(t);
    char dir[64];
    mktmpdir(dir, sizeof dir);
    rp_report_result res;
    assert_int_equal(rp_report_write(dir, t, NULL, &res), 0);
    assert_int_equal(res.charts, 0);
    assert_int_equal(res.charts_empty, 7);
    char *html = slurp(dir, "index.html", NULL);
    assert_non_null(strstr(html, "<h1>&lt;empty &amp; odd&gt;</h1>"));
    assert_non_null(strstr(html, "NO VERDICT"));
    assert_null(strstr(html, "<img"));
    char *s = html;
    int nodata = 0;
    while ((s = strstr(s, "No data: this trace has no ")))
        nodata++, s++;
    assert_int_equal(nodata, 7);
    char png[128];
    snprintf(png, sizeof png, "%s/records.png", dir);
    assert_int_equal(access(png, F_OK), -1);
    free(html);
    rmrf(dir);
    rp_trace_free(t);
    free(p);
}

/* Labels from the trace reach gnuplot and HTML: odd bytes must not make
 * either complain or break. */
static void report_hostile_strings_stay_clean(void **state) {
    (void)state;
    char *p = NULL;
    size_t len;
    FILE *f = open_memstream(&p, &len);
    rp_trace_writer *w = rp_trace_writer_open_file(f);
    assert_int_equal(rp_trace_writer_register_kind(w, 100, "send", NULL, "app"), 0);
    assert_int_equal(rp_trace_writer_register_kind(w, 320, "partition", "net", "net"), 0);
    rp_trace_header h = {.scenario = "s\xff<b>"};
    assert_int_equal(rp_trace_writer_header(w, &h), 0);
    kp_event ev;
    kp_event_init(&ev, 100, 1000);
    assert_int_equal(rp_trace_writer_event(w, &ev, NULL), 0);
    kp_event_init(&ev, 320, 2000);
    ev.detail = "broken \xff\xc3 \xe4\xb8\xad\xe6\x96\x87 'q' \"{x}\" @_^&\x01";
    assert_int_equal(rp_trace_writer_event(w, &ev, NULL), 0);
    kp_event_init(&ev, 100, 3000);
    assert_int_equal(rp_trace_writer_event(w, &ev, NULL), 0);
    assert_int_equal(rp_trace_writer_close(w), 0);
    fclose(f);
    char err[256];
    rp_trace *t = rp_trace_load_mem(p, len, "h", err, sizeof err);
    assert_non_null(t);
    char dir[64];
    mktmpdir(dir, sizeof dir);
    rp_report_result res;
    int rc = rp_report_write(dir, t, NULL, &res);
    if (rc != 0)
        fail_msg("rc %d: '%s' '%s'", rc, res.error, res.gnuplot_output);
    assert_int_equal(res.charts, 1);
    char *html = slurp(dir, "index.html", NULL);
    assert_non_null(strstr(html, "<h1>s\xef\xbf\xbd&lt;b&gt;</h1>"));
    assert_non_null(strstr(html, "broken \xef\xbf\xbd\xef\xbf\xbd \xe4\xb8\xad\xe6\x96\x87 &#39;q&#39; &quot;{x}&quot; @_^&amp;</td>"));
    char *gp = slurp(dir, "report.gp", NULL);
    assert_non_null(strstr(gp, "set label 'broken ?? \xe4\xb8\xad\xe6\x96\x87 ''q'' \"{x}\" @_^&' at 2.000, graph"));
    free(gp);
    free(html);
    rmrf(dir);
    rp_trace_free(t);
    free(p);
}

static void report_names_a_missing_gnuplot_and_an_unwritable_dir(void **state) {
    (void)state;
    rp_trace *t = rp_fixture_trace();
    char dir[64];
    mktmpdir(dir, sizeof dir);
    rp_report_opts o = {.gnuplot = "/nonexistent/gnuplot", .no_svg = true};
    rp_report_result res;
    assert_int_equal(rp_report_write(dir, t, &o, &res), 1);
    assert_false(res.gnuplot_ran);
    assert_non_null(strstr(res.gnuplot_output, "/nonexistent/gnuplot: not found"));
    char *html = slurp(dir, "index.html", NULL);
    assert_non_null(strstr(html, "gnuplot did not draw cleanly"));
    free(html);
    char *gp = slurp(dir, "report.gp", NULL);
    assert_null(strstr(gp, "svg")); /* PNG only */
    free(gp);
    rmrf(dir);
    assert_int_equal(rp_report_write("/proc/kpsim/nope", t, NULL, &res), -1);
    assert_non_null(strstr(res.error, "cannot create directory /proc/kpsim/nope"));
    rp_trace_free(t);
}

static void report_sweep_page_lists_failures_and_distributions(void **state) {
    (void)state;
    rp_sweep_seed seeds[50];
    rp_metric counters[50][2];
    for (int i = 0; i < 50; i++) {
        counters[i][0] = (rp_metric){"retries", (double)(i % 7), NULL};
        counters[i][1] = (rp_metric){"splits", (double)(i % 3 == 0), NULL};
        seeds[i] = (rp_sweep_seed){(uint64_t)(100 + i), i != 13 && i != 41,
                                   i == 13 || i == 41 ? "ordering: record 7 before 6" : NULL,
                                   counters[i], 2};
    }
    char dir[64];
    mktmpdir(dir, sizeof dir);
    rp_report_result res;
    int rc = rp_sweep_report_write(dir, "catalog/leader-move.textpb", seeds, 50, NULL, &res);
    if (rc != 0)
        fail_msg("rc %d: %s %s", rc, res.error, res.gnuplot_output);
    char *html = slurp(dir, "index.html", NULL);
    assert_non_null(strstr(html, "48 passed, 2 failed"));
    assert_non_null(strstr(html, "kpsim run catalog/leader-move.textpb --seed 113"));
    assert_non_null(strstr(html, "kpsim run catalog/leader-move.textpb --seed 141"));
    /* retries 0..6 over 50 seeds: min 0, p50 3, max 6 */
    assert_non_null(strstr(html, "<tr><td>retries</td><td class=\"n\">0</td><td class=\"n\">3</td>"));
    size_t len = 0;
    char *png = slurp(dir, "sweep_retries.png", &len);
    assert_non_null(png);
    assert_true(len > 1000);
    free(png);
    png = slurp(dir, "sweep_seeds.png", &len);
    assert_non_null(png);
    free(png);
    free(html);
    rmrf(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(report_of_the_fixture_has_every_verdict_and_clean_charts),
        cmocka_unit_test(report_without_data_says_so_instead_of_broken_images),
        cmocka_unit_test(report_hostile_strings_stay_clean),
        cmocka_unit_test(report_names_a_missing_gnuplot_and_an_unwritable_dir),
        cmocka_unit_test(report_sweep_page_lists_failures_and_distributions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
