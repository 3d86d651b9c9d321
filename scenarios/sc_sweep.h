/*
 * sc_sweep.h — the pure parts of `kpsim sweep`: seed ranges and shards, the
 * per-seed result file (write and read, for `--out` and `--merge`), a
 * protobuf text-format writer, and the shrinker that turns a failing
 * scenario + seed into a smaller scenario that fails the same way.
 *
 * What is NOT here: processes, wall clocks and terminals. Running a seed in
 * a child process with a wall-time limit is the command line's job
 * (tools/cmd_sweep.c); the shrinker asks for runs through a callback, so
 * this file stays deterministic and unit-testable.
 *
 * ---- Seeds and shards ---------------------------------------------------
 * `--seeds A..B` is the inclusive range A <= seed <= B (A..A is one seed).
 * `--shard I/N` (1 <= I <= N) keeps the seeds with (seed - A) % N == I - 1:
 * shard 1 gets A, A+N, A+2N, ...; shard 2 gets A+1, A+1+N, ... The N shards
 * of one range are disjoint and together are the whole range, whatever the
 * range's length (a shard may be empty when the range has fewer than N
 * seeds). A batch system whose job index is 0-based passes I = index + 1.
 *
 * ---- Result file (`kpsim sweep --out FILE`) -----------------------------
 * UTF-8 text, one record per line, fields separated by one TAB. Lines
 * starting with '#' are metadata, in this order:
 *
 *   # kpsim sweep results v1
 *   # scenario<TAB>PATH           the SCENARIO argument, as given
 *   # name<TAB>NAME               the scenario's name field
 *   # seeds<TAB>A..B              the whole range (not just this shard)
 *   # shard<TAB>I/N               1/1 when --shard was not given
 *   # set<TAB>KEY=VALUE           one line per --set, in command-line order
 *
 * then one column-header line, then one line per seed of the shard in
 * increasing seed order, then a trailer that only a finished sweep writes:
 *
 *   seed verdict digest events sim_end_us <counter>... first_failure
 *   # end<TAB>P passed, F failed
 *
 * COLUMN          TYPE        MEANING
 * seed            uint64      the seed
 * verdict         word        pass | fail (a check failed) | crash (the
 *                             child died: signal or exit without a result)
 *                             | timeout (wall-time limit; killed)
 * digest          16 hex      hash of every event (sc_run_result, sc_digest.h)
 * events          int         number of events
 * sim_end_us      int         simulated time at the end of the run, us
 * <counter>       int         one column per kpsim.Counter value
 *                             (scenario.proto), lower-case name, in enum
 *                             number order: records_sent records_acked ...
 * first_failure   text        the first failed check in words; "-" when
 *                             passed; TABs and newlines replaced by spaces
 * Crash and timeout lines have digest 0 and zero counters. The file is a
 * function of (scenario, --set, seeds, shard) only: the same for any
 * --jobs, no times or host names, so shard files can be compared and
 * merged byte for byte.
 *
 * ---- Shrinking ------------------------------------------------------------
 * sc_sweep_shrink starts from the failing scenario (its --set overrides
 * already applied) and tries, one at a time and in a fixed order:
 *   drop scripted fault i            (every fault, first to last)
 *   drop the chaos block
 *   set one chaos rate to 0          (disconnects, partitions, blackholes,
 *                                     slow links, crashes, leader moves)
 *   drop one chaos error
 *   halve one chaos rate / error rate (while it is above 0.5 per minute)
 *   halve chaos.mean_duration_ms     (while above 10)
 *   halve a workload's records / duration_ms (while above 1)
 *   halve an injected error count    (while above 1)
 *   drop one producer setting        (back to its 2.1.1 default; skipped
 *                                     when the rest no longer validates)
 * A candidate that does not validate (sc_scenario_load_text) is skipped
 * without a run. The expectations are never touched: they define the
 * failure being kept.
 * A change is kept when the candidate still fails with the same failure key
 * (sc_sweep_failure_key: "invariant SEND_ORDER", "expectation counter
 * retries >= 3", a crash with the same signal and last stderr line, ...).
 * After a kept change the same position is tried again
 * (the next fault slides into it; a halved value is halved again); a pass
 * with no kept change ends the search, as does the run budget. Every run
 * uses the failing seed; the result carries that seed in its `seed` field.
 *
 * Memory: every function that returns a heap object says who frees it;
 * nothing here keeps a pointer to a caller's string past the call, except
 * sc_sweep_file, which owns copies of everything it read.
 */
#ifndef SC_SWEEP_H
#define SC_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#include "sc_runner.h"
#include "sc_scenario.h"
#include "sc_textpb.h"

/* ---- seeds and shards ---------------------------------------------------- */

/* At most this many seeds in one range (a sanity bound, not a memory one). */
#define SC_SWEEP_MAX_SEEDS (UINT64_C(1) << 40)

/* "A..B" (decimal, A <= B, at most SC_SWEEP_MAX_SEEDS seeds) or "A". */
bool sc_sweep_parse_seeds(const char *s, uint64_t *first, uint64_t *last);

/* "I/N", 1 <= I <= N <= 1000000. */
bool sc_sweep_parse_shard(const char *s, uint32_t *index, uint32_t *count);

/* True when `seed` (first <= seed) belongs to shard index/count. */
bool sc_sweep_in_shard(uint64_t seed, uint64_t first, uint32_t index, uint32_t count);

/* The first seed of the shard in [first, last] and how many it has
 * (0: *start is undefined). */
uint64_t sc_sweep_shard_seeds(uint64_t first, uint64_t last, uint32_t index, uint32_t count,
                              uint64_t *start);

/* ---- one seed's result ----------------------------------------------------- */

typedef enum sc_sweep_verdict {
    SC_SWEEP_PASS = 0,
    SC_SWEEP_FAIL = 1,     /* ran; a check failed */
    SC_SWEEP_CRASH = 2,    /* the run died (signal, or exit without a result) */
    SC_SWEEP_TIMEOUT = 3   /* the run exceeded its wall-time limit */
} sc_sweep_verdict;

#define SC_SWEEP_NCOUNTERS 32  /* by kpsim.Counter number, as sc_run_result */

typedef struct sc_sweep_seed {
    uint64_t seed;
    sc_sweep_verdict verdict;
    uint64_t digest;
    uint64_t events;
    int64_t sim_end_us;
    int64_t counters[SC_SWEEP_NCOUNTERS];
    char failure[256];     /* "" when passed */
} sc_sweep_seed;

const char *sc_sweep_verdict_name(sc_sweep_verdict v);

/* Fills *out from a finished run. */
void sc_sweep_seed_from_run(sc_sweep_seed *out, const sc_run_result *res);

/* The part of a failure text that names the check, without the observed
 * values: up to the first ": " ("invariant SEND_ORDER: p0 ..." ->
 * "invariant SEND_ORDER"; "expectation counter retries >= 3: 0" ->
 * "expectation counter retries >= 3"), the whole text when there is none.
 * A crash ("crash: killed by signal 6 (Aborted): file.c:363: ... Assertion
 * `x' failed.") is named by its whole text: signal and last words. */
void sc_sweep_failure_key(const char *failure, char *out, size_t cap);

/* Number of counter columns and the kpsim.Counter number of column i. */
size_t sc_sweep_counter_columns(void);
int sc_sweep_counter_number(size_t column);
/* Lower-case column name of counter column i ("records_sent"); static. */
const char *sc_sweep_counter_column_name(size_t column);

/* ---- result files ------------------------------------------------------------ */

typedef struct sc_sweep_meta {
    const char *scenario_path;
    const char *name;
    uint64_t first, last;
    uint32_t shard_index, shard_count;
    const char *const *sets;
    size_t nsets;
} sc_sweep_meta;

/* The header (metadata lines and the column line). */
void sc_sweep_write_header(FILE *f, const sc_sweep_meta *meta);
void sc_sweep_write_seed(FILE *f, const sc_sweep_seed *s);
void sc_sweep_write_trailer(FILE *f, uint64_t passed, uint64_t failed);

/* A result file read back. Owns every string and the seeds array. */
typedef struct sc_sweep_file {
    char *path;
    char *scenario_path;
    char *name;
    uint64_t first, last;
    uint32_t shard_index, shard_count;
    char **sets;
    size_t nsets;
    bool complete;         /* the "# end" trailer was there */
    sc_sweep_seed *seeds;  /* file order */
    size_t nseeds;
} sc_sweep_file;

/* Reads `path`. False + *err ("PATH:LINE: what") on a malformed file;
 * *out is then empty (nothing to free, though freeing is harmless). */
bool sc_sweep_file_read(const char *path, sc_sweep_file *out, sc_error *err);
void sc_sweep_file_free(sc_sweep_file *f);

/* ---- protobuf text format writer ------------------------------------------- */

/* Writes `msg` in protobuf text format, one field per line, nested
 * messages indented by two spaces per level, fields in field-number order,
 * only the fields that are present (has_ flag, non-NULL pointer, chosen
 * oneof member, non-empty repeated). sc_textpb_parse reads the output back
 * into an identical message. Returns 0, or -1 when writing failed. */
int sc_sweep_write_textpb(FILE *f, const ProtobufCMessage *msg);

/* The same into a malloc'd NUL-terminated string (caller frees); NULL
 * when out of memory. */
char *sc_sweep_textpb_string(const ProtobufCMessage *msg, size_t *len);

/* ---- shrinking --------------------------------------------------------------- */

/* Runs `sc` with `seed` and fills *out; false when it could not run at all
 * (then the candidate counts as "does not fail the same way"). */
typedef bool (*sc_sweep_run_fn)(void *ctx, const sc_scenario *sc, uint64_t seed, sc_sweep_seed *out);

typedef struct sc_sweep_shrink_result {
    Kpsim__Scenario *scenario; /* the smallest failing scenario (free with
                                * protobuf_c_message_free_unpacked(..., NULL)) */
    int runs;                  /* candidate runs made */
    int kept;                  /* changes kept */
    bool budget_exhausted;     /* stopped by max_runs, not by a quiet pass */
    bool reproduced;           /* the unchanged scenario failed the same way
                                * again (the first run); when false nothing
                                * was tried: the run is not deterministic */
    sc_sweep_seed last_fail;   /* the failing run of the final scenario */
    char summary[512];         /* "faults 5 -> 1, chaos rates ... records 3000 -> 375" */
} sc_sweep_shrink_result;

/* Shrinks `sc` (which fails with `seed`, first failure `failure`). Uses at
 * most max_runs runs; the first reruns `sc` unchanged and must fail the same
 * way (else res->reproduced is false and the search stops there). Returns 0 and fills *res (res->scenario is at least a
 * copy of the input), -1 when out of memory. */
int sc_sweep_shrink(const sc_scenario *sc, uint64_t seed, const char *failure, int max_runs,
                    sc_sweep_run_fn run, void *ctx, sc_sweep_shrink_result *res);

/* Builds a scenario from a message (written as text and loaded, so every
 * validation applies). `name` appears in error positions. NULL + *err when
 * the message does not validate. */
sc_scenario *sc_sweep_scenario_from_proto(const Kpsim__Scenario *msg, const char *name, sc_error *err);

#endif
