/*
 * rp_report.h — the report folder of a run, and of a sweep.
 *
 * rp_report_write(DIR, trace) writes:
 *   DIR/index.html     self-contained page (inline CSS, no JavaScript, no
 *                      network): scenario, purpose, seed, settings, the verdict
 *                      of every invariant and expectation, record counts,
 *                      metrics, counters derived from the events, the fault
 *                      list, the kind table, and the charts below (an empty
 *                      chart is replaced by a sentence saying which events it
 *                      would need)
 *   DIR/NAME.dat       the data of each chart (gnuplot columns, time in ms)
 *   DIR/report.gp      the gnuplot script; `cd DIR && gnuplot report.gp`
 *                      redraws everything
 *   DIR/NAME.png/.svg  the charts, drawn by running gnuplot in DIR
 *
 * Charts (every time chart carries the fault markers: a dashed vertical
 * line labelled with the fault's detail or kind name):
 *   records.*          records sent / acked / failed over sim time (cumulative)
 *   inflight.*         requests in flight per broker over time
 *   batch_size.*       distribution of drained batch sizes (bytes)
 *   records_per_request.*  distribution of records per Produce request
 *   latency.*          send -> ack latency p50 / p99 / max per time bucket
 *   counters.*         retries, splits, metadata refreshes, expiries (cumulative)
 *   buffer.*           buffer pool bytes in use over time
 * What each chart reads is decided by kind NAME through rp_kinds.h; the
 * page lists it.
 *
 * Determinism: the page and the data files depend only on the trace (no
 * date, no host, no path).
 */
#ifndef RP_REPORT_H
#define RP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rp_trace.h"

typedef struct rp_report_opts {
    const char *gnuplot; /* program to run; NULL = "gnuplot"; "" = do not run it */
    bool no_svg;         /* PNG only */
    int64_t bucket_us;   /* time bucket of the latency chart; 0 = about 40 buckets */
} rp_report_opts;

typedef struct rp_report_result {
    int charts;            /* charts with data (each a PNG, and an SVG unless no_svg) */
    int charts_empty;      /* charts replaced by a "no data" sentence */
    bool gnuplot_ran;      /* gnuplot started and exited 0 */
    char gnuplot_output[2048]; /* whatever gnuplot printed (warnings): "" when clean */
    char error[512];       /* why rp_report_write failed: "" when it did not */
} rp_report_result;

/* Writes the report of t into dir (created if missing; existing files of
 * the same names are replaced). Returns 0 when everything was written and
 * gnuplot ran silently; 1 when the page and data were written but gnuplot
 * was missing, failed, or printed anything (res->gnuplot_output); -1 when
 * the report could not be written (res->error). opts may be NULL. */
int rp_report_write(const char *dir, const rp_trace *t, const rp_report_opts *opts,
                    rp_report_result *res);

/* ---- sweeps ----------------------------------------------------------- */

/* One seed of a sweep, as the sweep runner saw it. Strings borrowed. */
typedef struct rp_sweep_seed {
    uint64_t seed;
    bool passed;
    const char *failure;      /* first failed invariant/expectation, or NULL */
    const rp_metric *counters;/* e.g. {"retries", 3}, same keys for every seed */
    size_t n_counters;
} rp_sweep_seed;

/* Writes DIR/index.html (pass/fail per seed, failing seeds with the command
 * that reproduces each, and min / p50 / p90 / p99 / max / mean of every
 * counter across seeds) and DIR/sweep_*.png/.svg (a histogram per counter,
 * and pass/fail per seed). `scenario` names the scenario for the page and
 * the reproduce commands. Same return convention as rp_report_write. */
int rp_sweep_report_write(const char *dir, const char *scenario, const rp_sweep_seed *seeds,
                          size_t n, const rp_report_opts *opts, rp_report_result *res);

#endif
