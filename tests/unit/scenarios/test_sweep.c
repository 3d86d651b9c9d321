/*
 * test_sweep.c — the pure parts of `kpsim sweep` (scenarios/sc_sweep.c):
 * seed ranges and shards, failure keys, the result file format, the
 * protobuf text writer (round trip through the reader), and the shrinker
 * driven by a fake run function whose verdict the test decides.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sc_sweep.h"

/* ---- seeds and shards ---------------------------------------------------- */

static void seeds_parse(void **state) {
    uint64_t a, b;
    assert_true(sc_sweep_parse_seeds("1..200", &a, &b));
    assert_int_equal(a, 1);
    assert_int_equal(b, 200);
    assert_true(sc_sweep_parse_seeds("7", &a, &b));
    assert_int_equal(a, 7);
    assert_int_equal(b, 7);
    assert_true(sc_sweep_parse_seeds("0..0", &a, &b));
    assert_true(sc_sweep_parse_seeds("18446744073709551610..18446744073709551615", &a, &b));
    assert_int_equal(b - a, 5);
    assert_false(sc_sweep_parse_seeds("5..4", &a, &b));     /* empty */
    assert_false(sc_sweep_parse_seeds("1..", &a, &b));
    assert_false(sc_sweep_parse_seeds("..3", &a, &b));
    assert_false(sc_sweep_parse_seeds("-1..3", &a, &b));
    assert_false(sc_sweep_parse_seeds("1...3", &a, &b));
    assert_false(sc_sweep_parse_seeds("1..3x", &a, &b));
    assert_false(sc_sweep_parse_seeds("18446744073709551616", &a, &b)); /* 2^64 */
    assert_false(sc_sweep_parse_seeds("0..18446744073709551615", &a, &b)); /* too many */
    assert_false(sc_sweep_parse_seeds("", &a, &b));
    assert_false(sc_sweep_parse_seeds(NULL, &a, &b));
}

static void shard_parse(void **state) {
    uint32_t i, n;
    assert_true(sc_sweep_parse_shard("1/1", &i, &n));
    assert_true(sc_sweep_parse_shard("3/8", &i, &n));
    assert_int_equal(i, 3);
    assert_int_equal(n, 8);
    assert_false(sc_sweep_parse_shard("0/3", &i, &n));  /* 1-based */
    assert_false(sc_sweep_parse_shard("4/3", &i, &n));
    assert_false(sc_sweep_parse_shard("1/0", &i, &n));
    assert_false(sc_sweep_parse_shard("1", &i, &n));
    assert_false(sc_sweep_parse_shard("1/3/4", &i, &n));
    assert_false(sc_sweep_parse_shard("/3", &i, &n));
}

/* The shards of a range are disjoint and cover it; sc_sweep_shard_seeds
 * agrees with sc_sweep_in_shard. */
static void shards_cover_range_once(void **state) {
    static const uint64_t ranges[][2] = { { 1, 1 }, { 1, 2 }, { 5, 104 }, { 0, 36 }, { 1000, 1006 } };
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        uint64_t a = ranges[r][0], b = ranges[r][1];
        for (uint32_t n = 1; n <= 9; n++) {
            int *hits = calloc((size_t)(b - a + 1), sizeof *hits);
            for (uint32_t i = 1; i <= n; i++) {
                uint64_t start = 0, count = sc_sweep_shard_seeds(a, b, i, n, &start);
                uint64_t listed = 0;
                for (uint64_t s = a; s <= b; s++)
                    if (sc_sweep_in_shard(s, a, i, n)) {
                        if (!listed)
                            assert_int_equal(start, s);
                        listed++;
                        hits[s - a]++;
                    }
                assert_int_equal(count, listed);
            }
            for (uint64_t s = a; s <= b; s++)
                assert_int_equal(hits[s - a], 1);
            free(hits);
        }
    }
    /* shard 2/3 of 10..20: 11, 14, 17, 20 */
    uint64_t start;
    assert_int_equal(sc_sweep_shard_seeds(10, 20, 2, 3, &start), 4);
    assert_int_equal(start, 11);
    /* more shards than seeds: the extra ones are empty */
    assert_int_equal(sc_sweep_shard_seeds(1, 2, 3, 5, &start), 0);
}

static void failure_keys(void **state) {
    char k[256];
    sc_sweep_failure_key("invariant SEND_ORDER: partition 0: record 17 before 16", k, sizeof k);
    assert_string_equal(k, "invariant SEND_ORDER");
    sc_sweep_failure_key("expectation counter retries in 0..4: 11", k, sizeof k);
    assert_string_equal(k, "expectation counter retries in 0..4");
    sc_sweep_failure_key("time limit reached before every producer closed", k, sizeof k);
    assert_string_equal(k, "time limit reached before every producer closed");
    sc_sweep_failure_key("crash: killed by signal 6 (Aborted): x.c:3: f: Assertion `n' failed.", k, sizeof k);
    assert_string_equal(k, "crash: killed by signal 6 (Aborted): x.c:3: f: Assertion `n' failed.");
    sc_sweep_failure_key("timeout: no result after 300 s of wall time (killed)", k, sizeof k);
    assert_string_equal(k, "timeout");
    char small[6];
    sc_sweep_failure_key("invariant X: y", small, sizeof small);
    assert_string_equal(small, "invar");
}

static void counter_columns(void **state) {
    size_t n = sc_sweep_counter_columns();
    assert_true(n >= 16);
    assert_string_equal(sc_sweep_counter_column_name(0), "records_sent");
    assert_int_equal(sc_sweep_counter_number(0), KPSIM__COUNTER__RECORDS_SENT);
    bool seen_retries = false;
    for (size_t c = 0; c < n; c++) {
        assert_true(sc_sweep_counter_number(c) > 0 && sc_sweep_counter_number(c) < SC_SWEEP_NCOUNTERS);
        if (c)
            assert_true(sc_sweep_counter_number(c) > sc_sweep_counter_number(c - 1));
        seen_retries |= !strcmp(sc_sweep_counter_column_name(c), "retries");
    }
    assert_true(seen_retries);
}

/* ---- result files ------------------------------------------------------------ */

static char tmpdir[64];

static const char *tmp_path(const char *name) {
    static char p[256];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void result_file_round_trip(void **state) {
    const char *sets[] = { "producer.acks=1", "net.latency.ms=5" };
    sc_sweep_meta m = { .scenario_path = "scenarios/catalog/x y.textpb", .name = "x", .first = 10, .last = 20,
                        .shard_index = 2, .shard_count = 3, .sets = sets, .nsets = 2 };
    const char *path = tmp_path("r.tsv");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    sc_sweep_write_header(f, &m);
    sc_sweep_seed s[3];
    memset(s, 0, sizeof s);
    s[0].seed = 11;
    s[0].digest = 0x0123456789abcdefULL;
    s[0].events = 4711;
    s[0].sim_end_us = 3000000;
    s[0].counters[KPSIM__COUNTER__RETRIES] = 3;
    s[0].counters[KPSIM__COUNTER__RECORDS_SENT] = 100;
    s[1].seed = 14;
    s[1].verdict = SC_SWEEP_FAIL;
    snprintf(s[1].failure, sizeof s[1].failure, "invariant SEND_ORDER:\tp0\nline two");
    s[2].seed = 17;
    s[2].verdict = SC_SWEEP_TIMEOUT;
    snprintf(s[2].failure, sizeof s[2].failure, "timeout: killed");
    for (int i = 0; i < 3; i++)
        sc_sweep_write_seed(f, &s[i]);
    sc_sweep_write_trailer(f, 1, 2);
    fclose(f);

    sc_sweep_file rf;
    sc_error err;
    if (!sc_sweep_file_read(path, &rf, &err))
        fail_msg("%s", err.text);
    assert_string_equal(rf.scenario_path, "scenarios/catalog/x y.textpb");
    assert_string_equal(rf.name, "x");
    assert_int_equal(rf.first, 10);
    assert_int_equal(rf.last, 20);
    assert_int_equal(rf.shard_index, 2);
    assert_int_equal(rf.shard_count, 3);
    assert_int_equal(rf.nsets, 2);
    assert_string_equal(rf.sets[1], "net.latency.ms=5");
    assert_true(rf.complete);
    assert_int_equal(rf.nseeds, 3);
    assert_int_equal(rf.seeds[0].seed, 11);
    assert_int_equal(rf.seeds[0].verdict, SC_SWEEP_PASS);
    assert_int_equal(rf.seeds[0].digest, 0x0123456789abcdefULL);
    assert_int_equal(rf.seeds[0].events, 4711);
    assert_int_equal(rf.seeds[0].sim_end_us, 3000000);
    assert_int_equal(rf.seeds[0].counters[KPSIM__COUNTER__RETRIES], 3);
    assert_int_equal(rf.seeds[0].counters[KPSIM__COUNTER__RECORDS_SENT], 100);
    assert_string_equal(rf.seeds[0].failure, "");
    assert_int_equal(rf.seeds[1].verdict, SC_SWEEP_FAIL);
    /* one field on one line: TAB and newline became spaces */
    assert_string_equal(rf.seeds[1].failure, "invariant SEND_ORDER: p0 line two");
    assert_int_equal(rf.seeds[2].verdict, SC_SWEEP_TIMEOUT);
    sc_sweep_file_free(&rf);

    /* without the trailer: read, but not complete */
    f = fopen(path, "w");
    sc_sweep_write_header(f, &m);
    sc_sweep_write_seed(f, &s[0]);
    fclose(f);
    assert_true(sc_sweep_file_read(path, &rf, &err));
    assert_false(rf.complete);
    assert_int_equal(rf.nseeds, 1);
    sc_sweep_file_free(&rf);
}

/* A malformed file is an error at its line, never a skipped seed. */
static void result_file_errors(void **state) {
    const char *path = tmp_path("bad.tsv");
    sc_sweep_meta m = { .scenario_path = "a.textpb", .name = "a", .first = 1, .last = 3,
                        .shard_index = 1, .shard_count = 1 };
    char *good = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&good, &len);
    sc_sweep_write_header(f, &m);
    fclose(f);
    size_t ncols = sc_sweep_counter_columns();
    char line[1024];
    struct {
        const char *body;
        int line;
        const char *what;
    } cases[] = {
        { "1\tmaybe\t0000000000000000\t1\t1", 7, "bad verdict 'maybe'" },
        { "1\tpass\t00\t1\t1", 7, "bad digest" },
        { "x\tpass\t0000000000000000\t1\t1", 7, "bad seed" },
        { "1\tpass", 7, "fields, the column line has" },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t off = (size_t)snprintf(line, sizeof line, "%s", cases[c].body);
        if (c < 3)
            for (size_t k = 0; k < ncols + 1; k++)
                off += (size_t)snprintf(line + off, sizeof line - off, "\t%s", k < ncols ? "0" : "-");
        char *text = NULL;
        if (asprintf(&text, "%s%s\n", good, line) < 0)
            fail();
        write_text(path, text);
        free(text);
        sc_sweep_file rf;
        sc_error err;
        assert_false(sc_sweep_file_read(path, &rf, &err));
        assert_int_equal(err.line, cases[c].line);
        if (!strstr(err.what, cases[c].what))
            fail_msg("case %zu: got '%s'", c, err.text);
        assert_null(rf.seeds);
    }
    write_text(path, "seed\tverdict\n");
    sc_sweep_file rf;
    sc_error err;
    assert_false(sc_sweep_file_read(path, &rf, &err));
    assert_non_null(strstr(err.what, "not a kpsim sweep result file"));
    write_text(path, good); /* header only: fine, zero seeds, incomplete */
    assert_true(sc_sweep_file_read(path, &rf, &err));
    assert_int_equal(rf.nseeds, 0);
    assert_false(rf.complete);
    sc_sweep_file_free(&rf);
    assert_false(sc_sweep_file_read(tmp_path("absent.tsv"), &rf, &err));
    assert_non_null(strstr(err.what, "cannot read"));
    free(good);
}

/* ---- text writer ------------------------------------------------------------- */

static uint8_t *packed(const Kpsim__Scenario *s, size_t *n) {
    *n = kpsim__scenario__get_packed_size(s);
    uint8_t *b = malloc(*n + 1);
    kpsim__scenario__pack(s, b);
    return b;
}

/* write -> parse gives the same message (compared packed). */
static void assert_round_trip(const sc_scenario *sc) {
    const Kpsim__Scenario *s = sc_scenario_proto(sc);
    size_t tlen;
    char *text = sc_sweep_textpb_string(&s->base, &tlen);
    assert_non_null(text);
    assert_int_equal(strlen(text), tlen);
    sc_error err;
    sc_scenario *back = sc_scenario_load_text("written", text, tlen, &err);
    if (!back)
        fail_msg("%s\n--- text ---\n%s", err.text, text);
    size_t n1, n2;
    uint8_t *p1 = packed(s, &n1), *p2 = packed(sc_scenario_proto(back), &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(p1, p2, n1);
    free(p1);
    free(p2);
    free(text);
    sc_scenario_free(back);
}

static void textpb_round_trip_files(void **state) {
    const char *dirs[] = { "scenarios/catalog", "tests/data/sweep" };
    int files = 0;
    for (size_t d = 0; d < 2; d++) {
        DIR *dir = opendir(dirs[d]);
        assert_non_null(dir);
        struct dirent *de;
        while ((de = readdir(dir))) {
            size_t l = strlen(de->d_name);
            if (l < 8 || strcmp(de->d_name + l - 7, ".textpb"))
                continue;
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dirs[d], de->d_name);
            sc_error err;
            sc_scenario *sc = sc_scenario_load(path, &err);
            if (!sc)
                fail_msg("%s", err.text);
            assert_round_trip(sc);
            sc_scenario_free(sc);
            files++;
        }
        closedir(dir);
    }
    assert_true(files >= 4);
}

/* Escapes, doubles that need many digits, enums, lists, oneofs, bools. */
static void textpb_round_trip_awkward_values(void **state) {
    const char *text =
        "name: \"t\"\npurpose: \"quote \\\" back\\\\slash tab\\t e-acute \\303\\251\"\n"
        "family: \"basics\"\nseed: 18446744073709551615\n"
        "cluster { brokers: 3 topic { name: \"t\" partitions: 4 } broker_setting { key: \"min.insync.replicas\" value: \"2\" } }\n"
        "network { latency_ms: 0 jitter_ms: 3 bandwidth_bytes_per_s: 1000000 }\n"
        "producer { name: \"p\" setting { key: \"linger.ms\" value: \"7\" }\n"
        "  workload { topic: \"t\" records: 10 rate_per_s: 0.1 partition: [3, 1, 2] key_distribution: ZIPF key_space: 9 zipf_s: 1.2345678901234567 } }\n"
        "fault { at_ms: 5 partition { a: [\"p\"] b: [\"broker-0\", \"broker-1\"] one_way: true duration_ms: 3 } }\n"
        "fault { at_ms: 6 inject { broker: 1 api: METADATA error: \"NOT_LEADER_FOR_PARTITION\" count: 2 } }\n"
        "chaos { disconnects_per_min: 1e-05 leader_moves_per_min: 123456789012 error { error: \"NOT_ENOUGH_REPLICAS\" per_min: 0.3333333333333333 } }\n"
        "expect { disable: [SEND_ORDER] counter { name: RETRIES min: 0 max: 0 } }\n";
    sc_error err;
    sc_scenario *sc = sc_scenario_load_text("awkward", text, strlen(text), &err);
    if (!sc)
        fail_msg("%s", err.text);
    assert_round_trip(sc);
    char *out = sc_sweep_textpb_string(&sc_scenario_proto(sc)->base, NULL);
    /* the reader's layout choices: short flat messages on one line, lists */
    assert_non_null(strstr(out, "  setting { key: \"linger.ms\" value: \"7\" }\n"));
    assert_non_null(strstr(out, "partition: [3, 1, 2]"));
    assert_non_null(strstr(out, "api: METADATA"));
    assert_non_null(strstr(out, "one_way: true"));
    assert_non_null(strstr(out, "disconnects_per_min: 1e-05"));
    free(out);
    sc_scenario_free(sc);
}

/* ---- shrinking ------------------------------------------------------------------ */

/* A fake world: the run "fails" with the bound on failed records when the
 * scenario still has a fault at 500 ms and at least 100 records; with a
 * different check when the chaos block holds any leader moves; else passes. */
typedef struct fake_ctx {
    int calls;
    uint64_t seeds_seen;
} fake_ctx;

static bool fake_run(void *ctx, const sc_scenario *sc, uint64_t seed, sc_sweep_seed *out) {
    fake_ctx *c = ctx;
    c->calls++;
    c->seeds_seen |= seed == 42 ? 1 : 2;
    const Kpsim__Scenario *s = sc_scenario_proto(sc);
    memset(out, 0, sizeof *out);
    out->seed = seed;
    bool has500 = false;
    for (size_t i = 0; i < s->n_fault; i++)
        has500 |= s->fault[i]->at_ms == 500;
    int64_t records = s->producer[0]->workload->records;
    if (has500 && records >= 100) {
        out->verdict = SC_SWEEP_FAIL;
        snprintf(out->failure, sizeof out->failure, "expectation counter records_failed == 0: %d",
                 (int)(records / 7));
    } else if (s->chaos && s->chaos->leader_moves_per_min > 0) {
        out->verdict = SC_SWEEP_FAIL;
        snprintf(out->failure, sizeof out->failure, "invariant SEND_ORDER: something else");
    }
    return true;
}

#define SHRINK_SCENARIO                                                                             \
    "name: \"s\" purpose: \"p\" family: \"basics\"\n"                                               \
    "cluster { brokers: 3 topic { name: \"t\" partitions: 2 } }\n"                                  \
    "producer { name: \"app\" setting { key: \"acks\" value: \"all\" }\n"                              \
    "  setting { key: \"enable.idempotence\" value: \"true\" }\n"                                     \
    "  setting { key: \"linger.ms\" value: \"5\" } workload { topic: \"t\" records: 1000 } }\n"       \
    "fault { at_ms: 100 disconnect { node: \"app\" } }\n"                                           \
    "fault { at_ms: 500 blackhole { node: \"broker-0\" duration_ms: 100 } }\n"                      \
    "fault { at_ms: 700 inject { broker: 1 error: \"NOT_ENOUGH_REPLICAS\" count: 8 } }\n"           \
    "fault { at_ms: 900 leader_move { topic: \"t\" partition: 0 to_broker: 1 } }\n"                 \
    "chaos { disconnects_per_min: 8 leader_moves_per_min: 4 error { error: \"NOT_ENOUGH_REPLICAS\" per_min: 2 } }\n"

static void shrink_keeps_only_what_fails(void **state) {
    sc_error err;
    sc_scenario *sc = sc_scenario_load_text("s", SHRINK_SCENARIO, strlen(SHRINK_SCENARIO), &err);
    if (!sc)
        fail_msg("%s", err.text);
    fake_ctx c = { 0 };
    sc_sweep_shrink_result r;
    assert_int_equal(sc_sweep_shrink(sc, 42, "expectation counter records_failed == 0: 142", 500, fake_run, &c, &r),
                     0);
    const Kpsim__Scenario *s = r.scenario;
    /* the blackhole at 500 alone is left, the chaos block is gone (leader
     * moves there fail differently, so dropping it was kept) */
    assert_int_equal(s->n_fault, 1);
    assert_int_equal(s->fault[0]->at_ms, 500);
    assert_null(s->chaos);
    /* records halved while >= 100 still fails: 1000 500 250 125 -> 62 passes */
    assert_int_equal(s->producer[0]->workload->records, 125);
    assert_true(s->has_seed);
    assert_int_equal(s->seed, 42);
    assert_true(r.reproduced);
    assert_int_equal(r.runs, c.calls);
    assert_int_equal(c.seeds_seen, 1); /* every run with the failing seed */
    assert_false(r.budget_exhausted);
    assert_true(r.kept >= 5);
    assert_string_equal(r.last_fail.failure, "expectation counter records_failed == 0: 17");
    assert_non_null(strstr(r.summary, "faults 4 -> 1"));
    assert_non_null(strstr(r.summary, "chaos dropped"));
    assert_non_null(strstr(r.summary, "records of app 1000 -> 125"));
    /* settings dropped back to defaults; dropping acks=all while
     * idempotence was on did not validate and was skipped, not run */
    assert_int_equal(r.scenario->producer[0]->n_setting, 0);
    assert_non_null(strstr(r.summary, "settings of app 3 -> 0"));
    /* the input is untouched */
    assert_int_equal(sc_scenario_proto(sc)->n_fault, 4);
    /* the result is a valid scenario that still fails the same way */
    sc_scenario *back = sc_sweep_scenario_from_proto(s, "shrunk", &err);
    if (!back)
        fail_msg("%s", err.text);
    sc_sweep_seed out;
    fake_run(&c, back, 42, &out);
    assert_int_equal(out.verdict, SC_SWEEP_FAIL);
    sc_scenario_free(back);
    kpsim__scenario__free_unpacked(r.scenario, NULL);

    /* a budget of 2 runs stops early and says so */
    c = (fake_ctx){ 0 };
    assert_int_equal(sc_sweep_shrink(sc, 42, "expectation counter records_failed == 0: 142", 2, fake_run, &c, &r), 0);
    assert_int_equal(r.runs, 2);
    assert_true(r.budget_exhausted);
    /* the rerun of the input, then the first candidate (drop the fault at
     * 100), kept */
    assert_true(r.reproduced);
    assert_int_equal(r.kept, 1);
    assert_int_equal(r.scenario->n_fault, 3);
    assert_int_equal(r.scenario->fault[0]->at_ms, 500);
    kpsim__scenario__free_unpacked(r.scenario, NULL);

    /* a failure that does not come back on the rerun (nondeterminism, as
     * far as the shrinker can tell): one run, nothing tried, said so */
    c = (fake_ctx){ 0 };
    assert_int_equal(sc_sweep_shrink(sc, 42, "invariant NO_DUPLICATES: x", 500, fake_run, &c, &r), 0);
    assert_false(r.reproduced);
    assert_int_equal(r.runs, 1);
    assert_string_equal(r.last_fail.failure, "expectation counter records_failed == 0: 142");
    assert_int_equal(r.kept, 0);
    assert_int_equal(r.scenario->n_fault, 4);
    assert_non_null(r.scenario->chaos);
    assert_int_equal(r.scenario->producer[0]->workload->records, 1000);
    assert_string_equal(r.summary, "faults 4 -> 4, chaos 14 -> 14 faults/min");
    kpsim__scenario__free_unpacked(r.scenario, NULL);
    sc_scenario_free(sc);
}

static bool always_fails(void *ctx, const sc_scenario *sc, uint64_t seed, sc_sweep_seed *out) {
    ((fake_ctx *)ctx)->calls++;
    memset(out, 0, sizeof *out);
    out->seed = seed;
    out->verdict = SC_SWEEP_FAIL;
    snprintf(out->failure, sizeof out->failure, "invariant X: y");
    return true;
}

/* A candidate that does not validate costs no run: dropping acks=all while
 * enable.idempotence=true is refused by the config checks (2.1.1 defaults
 * acks to 1), so the shrinker runs: the rerun, drop idempotence, then (next
 * pass) drop acks — three runs, not four. */
static void shrink_skips_invalid_candidates(void **state) {
    const char *text = "name: \"s\" purpose: \"p\" family: \"basics\"\n"
                       "cluster { brokers: 3 topic { name: \"t\" } }\n"
                       "producer { setting { key: \"acks\" value: \"all\" }\n"
                       "  setting { key: \"enable.idempotence\" value: \"true\" }\n"
                       "  workload { topic: \"t\" records: 1 } }\n";
    sc_error err;
    sc_scenario *sc = sc_scenario_load_text("s", text, strlen(text), &err);
    if (!sc)
        fail_msg("%s", err.text);
    fake_ctx c = { 0 };
    sc_sweep_shrink_result r;
    assert_int_equal(sc_sweep_shrink(sc, 1, "invariant X: y", 100, always_fails, &c, &r), 0);
    assert_int_equal(c.calls, 3);
    assert_int_equal(r.runs, 3);
    assert_int_equal(r.kept, 2);
    assert_int_equal(r.scenario->producer[0]->n_setting, 0);
    assert_string_equal(r.summary, "settings of producer-1 2 -> 0");
    kpsim__scenario__free_unpacked(r.scenario, NULL);
    sc_scenario_free(sc);
}

static int setup(void **state) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/kp_test_sweep.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    const char *names[] = { "r.tsv", "bad.tsv" };
    for (size_t i = 0; i < 2; i++)
        unlink(tmp_path(names[i]));
    rmdir(tmpdir);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seeds_parse),
        cmocka_unit_test(shard_parse),
        cmocka_unit_test(shards_cover_range_once),
        cmocka_unit_test(failure_keys),
        cmocka_unit_test(counter_columns),
        cmocka_unit_test(result_file_round_trip),
        cmocka_unit_test(result_file_errors),
        cmocka_unit_test(textpb_round_trip_files),
        cmocka_unit_test(textpb_round_trip_awkward_values),
        cmocka_unit_test(shrink_keeps_only_what_fails),
        cmocka_unit_test(shrink_skips_invalid_candidates),
    };
    return cmocka_run_group_tests_name("sweep", tests, setup, teardown);
}
