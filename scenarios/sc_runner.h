/*
 * sc_runner.h — runs one scenario with one seed: builds the world, drives
 * it to the end, judges it.
 *
 * The story of a run (TigerBeetle's vopr reads the same way):
 *   1. world    simnet world from the seed; one node per broker and per
 *               producer; links from the scenario's network section
 *   2. cluster  broker_mock with the scenario's brokers, topics, settings,
 *               served on each broker node at localhost:9092+id
 *   3. actors   per producer: the producer library on its node (clock,
 *               transport, rng stream "producer/<name>"), its sender timer,
 *               and the application actor that runs the workload
 *   4. faults   scripted faults as timers; chaos from the "chaos" stream
 *   5. run      the event loop until every producer is closed (or the
 *               scenario's time limit)
 *   6. check    the checker over the history and the final logs, then the
 *               scenario's expectations (counters, errors, anomalies)
 *
 * Everything observable leaves through one kp_observer: the runner counts
 * events (for the expectations), folds them into a digest (two runs with
 * the same scenario and seed have the same digest; sc_digest.h says what it
 * covers), and streams them to the trace file when asked.
 *
 * Memory: sc_run allocates the whole world and frees it before returning;
 * the result struct holds only plain values and a printed report.
 */
#ifndef SC_RUNNER_H
#define SC_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sc_scenario.h"

typedef struct sc_run_opts {
    uint64_t seed;            /* used when seed_set, else the scenario's */
    bool seed_set;
    const char *trace_path;   /* NULL: no trace file */
    const char *report_dir;   /* NULL: no report (needs a trace; a temporary one is used) */
    FILE *out;                /* the run's report (NULL: none) */
    bool quiet;               /* only the verdict line */
    const char *reproduce;    /* the command line that reproduces this run */
    int64_t time_limit_ms;    /* > 0 overrides the scenario's */
} sc_run_opts;

typedef struct sc_run_result {
    bool passed;              /* invariants and expectations */
    bool timed_out;           /* hit the time limit before every producer closed */
    uint64_t seed;
    uint64_t digest;          /* hash of every event: same run, same digest */
    uint64_t events;
    int64_t sim_end_us;
    int64_t sent, acked, failed;
    int64_t counters[32];     /* by Kpsim__Counter number, all producers */
    char first_failure[256];  /* the first failed check, in words */
} sc_run_result;

/* Runs the scenario. Returns 0 when it ran (see res->passed), 2 when the
 * world could not be built (message on opts->out / stderr). */
int sc_run(const sc_scenario *sc, const sc_run_opts *opts, sc_run_result *res);

#endif
