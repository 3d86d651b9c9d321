/*
 * test_scenario_load.c — scenario loading (scenarios/sc_scenario.c): the
 * semantic checks with their exact FILE:LINE:COLUMN, defaults, `--set`
 * overrides and their error origin, the producer config the runner gets,
 * reading files, and the catalog files of the repository.
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

#include "sc_scenario.h"

/* A valid head; tests append lines after it (so their line numbers start
 * at 5). */
#define HEAD                                                   \
    "name: \"t\"\n"                                            \
    "purpose: \"a test\"\n"                                    \
    "family: \"basics\"\n"                                     \
    "cluster { brokers: 3 topic { name: \"t\" partitions: 2 } }\n"

#define PRODUCER "producer { workload { topic: \"t\" records: 10 } }\n"

static sc_scenario *load_ok(const char *text) {
    sc_error err = { 0 };
    sc_scenario *sc = sc_scenario_load_text("s.textpb", text, strlen(text), &err);
    if (!sc)
        fail_msg("unexpected error: %s", err.text);
    return sc;
}

static void expect_err(const char *text, int line, int col, const char *want) {
    sc_error err = { 0 };
    sc_scenario *sc = sc_scenario_load_text("s.textpb", text, strlen(text), &err);
    if (sc) {
        sc_scenario_free(sc);
        fail_msg("loaded, but wanted '%s' at %d:%d for:\n%s", want, line, col, text);
    }
    if (err.line != line || err.column != col || !strstr(err.what, want))
        fail_msg("for input:\n%s\n  got:  %s\n  want: s.textpb:%d:%d: ...%s...", text, err.text, line, col, want);
}

/* ---- good scenarios ----------------------------------------------------- */

static void minimal_scenario_loads_with_defaults(void **state) {
    sc_scenario *sc = load_ok(HEAD PRODUCER);
    const Kpsim__Scenario *s = sc_scenario_proto(sc);
    assert_string_equal(s->name, "t");
    assert_int_equal(s->seed, 1);
    assert_int_equal(s->time_limit_ms, 600000);
    assert_int_equal(s->cluster->brokers, 3);
    assert_int_equal(s->cluster->topic[0]->replication_factor, 1);
    assert_int_equal(s->n_producer, 1);
    assert_string_equal(s->producer[0]->name, "producer-1"); /* defaulted */
    assert_int_equal(s->producer[0]->workload->key_distribution, KPSIM__KEY_DISTRIBUTION__NONE);
    assert_null(s->network);
    assert_string_equal(sc_scenario_file(sc), "s.textpb");
    sc_scenario_free(sc);
    sc_scenario_free(NULL);
}

static void full_scenario_uses_every_section(void **state) {
    sc_scenario *sc = load_ok(
        HEAD
        "network { latency_ms: 2 jitter_ms: 1 bandwidth_bytes_per_s: 1000000 min_chunk_bytes: 10 max_chunk_bytes: 100\n"
        "  link { a: \"app\" b: \"broker-1\" one_way: true latency_ms: 50 } }\n"
        "producer { name: \"app\" setting { key: \"enable.idempotence\" value: \"true\" }\n"
        "  workload { topic: \"t\" duration_ms: 1000 rate_per_s: 100 key_distribution: ZIPF key_space: 10 zipf_s: 1.5\n"
        "    value_size_min: 1 value_size_max: 10 partition: [1, 0] headers: 2 flush_every: 50 close_timeout_ms: 100 } }\n"
        "producer { name: \"tx\" setting { key: \"transactional.id\" value: \"tx-1\" }\n"
        "  workload { topic: \"t\" records: 100 transactions { records_per_txn: 5 abort_every: 3 } force_close: true } }\n"
        "fault { at_ms: 10 disconnect { node: \"app\" peer: \"broker-0\" } }\n"
        "fault { at_ms: 20 partition { a: [\"app\"] b: [\"broker-0\", \"broker-1\"] one_way: true duration_ms: 5 } }\n"
        "fault { at_ms: 30 heal { } }\n"
        "fault { at_ms: 40 blackhole { node: \"broker-2\" duration_ms: 100 } }\n"
        "fault { at_ms: 50 slow_link { a: \"broker-0\" latency_ms: 30 } }\n"
        "fault { at_ms: 60 crash { broker: 1 restart_after_ms: 500 } }\n"
        "fault { at_ms: 70 restart { broker: 1 } }\n"
        "fault { at_ms: 80 leader_move { topic: \"t\" partition: 1 to_broker: 2 } }\n"
        "fault { at_ms: 90 inject { broker: 0 api: METADATA error: \"LEADER_NOT_AVAILABLE\" count: 2 delay_ms: 5 } }\n"
        "fault { at_ms: 95 reject { topic: \"t\" partition: 0 error: \"NOT_ENOUGH_REPLICAS\" until_ms: 200 } }\n"
        "fault { at_ms: 99 set_broker_setting { key: \"message.max.bytes\" value: \"1000\" } }\n"
        "fault { at_ms: 99 set_topic_setting { topic: \"t\" key: \"max.message.bytes\" value: \"1000\" } }\n"
        "chaos { disconnects_per_min: 2 error { error: \"NOT_LEADER_FOR_PARTITION\" per_min: 1 } end_ms: 5000 }\n"
        "expect { disable: [SEND_ORDER] allow_anomaly: REORDERING expect_anomaly: DUPLICATES\n"
        "  counter { name: RETRIES min: 1 max: 10 producer: \"app\" } error { name: \"_TIMED_OUT\" max: 0 } }\n");
    const Kpsim__Scenario *s = sc_scenario_proto(sc);
    assert_int_equal(s->n_fault, 12);
    assert_int_equal(s->fault[8]->action_case, KPSIM__FAULT__ACTION_INJECT);
    assert_int_equal(s->fault[8]->inject->api, KPSIM__API__METADATA);
    assert_int_equal(s->producer[1]->workload->transactions->abort_every, 3);
    assert_int_equal(s->expect->disable[0], KPSIM__INVARIANT__SEND_ORDER);
    sc_pos p = sc_scenario_pos(sc, s->fault[5]->crash, "broker", 0);
    assert_int_equal(p.line, 17);
    assert_int_equal(p.column, 35);
    sc_scenario_free(sc);
}

static void producer_config_holds_effective_values(void **state) {
    sc_scenario *sc = load_ok(HEAD "producer { name: \"p\" setting { key: \"enable.idempotence\" value: \"true\" }\n"
                                   "  setting { key: \"linger.ms\" value: \"7\" } workload { topic: \"t\" records: 1 } }\n");
    kp_config cfg;
    sc_error err;
    assert_true(sc_scenario_producer_config(sc, 0, &cfg, &err));
    assert_int_equal(cfg.linger_ms, 7);
    assert_true(cfg.enable_idempotence);
    assert_int_equal(cfg.acks, -1); /* idempotence defaults acks to all */
    assert_string_equal(cfg.client_id, "p");
    assert_false(sc_scenario_producer_config(sc, 1, &cfg, &err));
    sc_scenario_free(sc);
}

static void setting_lookup_takes_the_last(void **state) {
    sc_scenario *sc = load_ok(HEAD "producer { setting { key: \"acks\" value: \"all\" } workload { topic: \"t\" records: 1 } }\n");
    const Kpsim__Producer *p = sc_scenario_proto(sc)->producer[0];
    assert_string_equal(sc_setting_get(p->setting, p->n_setting, "acks"), "all");
    assert_null(sc_setting_get(p->setting, p->n_setting, "linger.ms"));
    sc_scenario_free(sc);
}

static void node_names(void **state) {
    assert_int_equal(sc_node_broker_id("broker-0"), 0);
    assert_int_equal(sc_node_broker_id("broker-12"), 12);
    assert_int_equal(sc_node_broker_id("broker-"), -1);
    assert_int_equal(sc_node_broker_id("broker-01"), -1);
    assert_int_equal(sc_node_broker_id("broker-1x"), -1);
    assert_int_equal(sc_node_broker_id("producer-1"), -1);
}

/* ---- semantic errors, each at its place ------------------------------- */

static void error_required_fields(void **state) {
    expect_err("purpose: \"p\" family: \"f\"", 1, 1, "missing required field 'name'");
    expect_err("name: \"\" purpose: \"p\" family: \"f\"", 1, 7, "field 'name' must not be empty");
    expect_err("name: \"n\" purpose: \"p\" family: \"f\"", 1, 1, "missing required field 'cluster'");
    expect_err(HEAD, 1, 1, "a scenario needs at least one producer");
    expect_err(HEAD "producer { name: \"p\" }", 5, 10, "producer 'p' has no workload");
    expect_err(HEAD "producer { workload { records: 5 } }", 5, 21, "missing required field 'topic'");
    expect_err(HEAD PRODUCER "fault { crash { broker: 1 } }", 6, 7, "missing required field 'at_ms'");
    expect_err(HEAD PRODUCER "fault { at_ms: 5 }", 6, 7, "a fault needs one action");
    expect_err(HEAD PRODUCER "fault { at_ms: 5 crash { } }", 6, 24, "missing required field 'broker'");
}

static void error_names_and_formats(void **state) {
    expect_err("name: \"a b\" purpose: \"p\" family: \"f\"", 1, 7, "may only use letters, digits");
    expect_err("name: \"n\" purpose: \"two\\nlines\" family: \"f\"", 1, 20, "purpose must be one line");
    expect_err("name: \"n\" purpose: \"p\" family: \"Faults\"", 1, 32, "lower-case letters");
    expect_err(HEAD "producer { name: \"a.b\" workload { topic: \"t\" records: 1 } }", 5, 18, "producer name \"a.b\"");
    expect_err(HEAD "producer { name: \"broker-1\" workload { topic: \"t\" records: 1 } }", 5, 18, "reserved for a broker");
    expect_err(HEAD "producer { name: \"p\" workload { topic: \"t\" records: 1 } }\n"
                    "producer { name: \"p\" workload { topic: \"t\" records: 1 } }",
               6, 18, "producer name 'p' is used twice (first at 5:18)");
}

static void error_cluster(void **state) {
    expect_err("name: \"n\" purpose: \"p\" family: \"f\"\ncluster { brokers: 0 }", 2, 20, "brokers must be in 1..64, got 0");
    expect_err("name: \"n\" purpose: \"p\" family: \"f\"\ncluster { brokers: 2 topic { name: \"t\" replication_factor: 3 } }", 2,
               60, "replication_factor 3 for topic 't' must be in 1..2");
    expect_err("name: \"n\" purpose: \"p\" family: \"f\"\ncluster { topic { name: \"a/b\" } }", 2, 25,
               "\"a/b\" is not a valid Kafka topic name");
    expect_err("name: \"n\" purpose: \"p\" family: \"f\"\ncluster { topic { name: \"x\" } topic { name: \"x\" } }", 2, 45,
               "topic 'x' is declared twice (first at 2:25)");
    expect_err("name: \"n\" purpose: \"p\" family: \"f\"\ncluster { topic { name: \"x\" partitions: 0 } }", 2, 41,
               "partitions must be in 1..10000, got 0");
    expect_err("name: \"n\" purpose: \"p\" family: \"f\"\ncluster { broker_setting { key: \"message.max.byte\" value: \"1\" } }",
               2, 33, "unknown broker setting 'message.max.byte'; did you mean 'message.max.bytes'?");
    expect_err("name: \"n\" purpose: \"p\" family: \"f\"\ncluster { broker_setting { key: \"min.insync.replicas\" value: \"0\" } }",
               2, 62, "min.insync.replicas must be a whole number from 1 to 2147483647, got '0'");
    expect_err("name: \"n\" purpose: \"p\" family: \"f\"\ncluster { broker_setting { key: \"unclean.leader.election.enable\" value: \"yes\" } }",
               2, 73, "unclean.leader.election.enable must be true or false, got 'yes'");
    expect_err("name: \"n\" purpose: \"p\" family: \"f\"\ncluster { topic { name: \"x\" setting { key: \"max.message.bytes\" } } }",
               2, 37, "setting 'max.message.bytes' has no 'value'");
    expect_err("name: \"n\" purpose: \"p\" family: \"f\"\ncluster { broker_setting { key: \"num.partitions\" value: \"2\" }\n"
               "  broker_setting { key: \"num.partitions\" value: \"3\" } }",
               3, 25, "broker setting 'num.partitions' is given twice (first at 2:33)");
}

/* Broker and topic settings are judged by broker_mock's own setters: the
 * loader accepts exactly what the runner can apply. */
static void broker_settings_agree_with_the_broker_mock(void **state) {
    sc_scenario *sc = load_ok("name: \"n\" purpose: \"p\" family: \"f\"\n"
                              "cluster { broker_setting { key: \"kpsim.chaos.error.rate\" value: \"0.5\" }\n"
                              "  broker_setting { key: \"num.partitions\" value: \"50000\" }\n"
                              "  topic { name: \"t\" setting { key: \"message.timestamp.type\" value: \"LogAppendTime\" } } }\n"
                              PRODUCER);
    sc_scenario_free(sc);
    expect_err("name: \"n\" purpose: \"p\" family: \"f\"\n"
               "cluster { broker_setting { key: \"auto.create.topics.enable\" value: \"True\" } }\n" PRODUCER,
               2, 68, "auto.create.topics.enable must be true or false, got 'True'");
    expect_err("name: \"n\" purpose: \"p\" family: \"f\"\n"
               "cluster { broker_setting { key: \"kpsim.chaos.error.rate\" value: \"2\" } }\n" PRODUCER,
               2, 65, "kpsim.chaos.error.rate must be a number from 0 to 1, got '2'");
    expect_err("name: \"n\" purpose: \"p\" family: \"f\"\n"
               "cluster { topic { name: \"t\" setting { key: \"max.messages.bytes\" value: \"1\" } } }\n" PRODUCER,
               2, 44, "unknown topic setting 'max.messages.bytes'; did you mean 'max.message.bytes'?");
    expect_err("name: \"n\" purpose: \"p\" family: \"f\"\n"
               "cluster { broker_setting { key: \"compression.type\" value: \"gzip\" } }\n" PRODUCER,
               2, 33, "unknown broker setting 'compression.type' (known: message.max.bytes, min.insync.replicas");
}

static void error_network(void **state) {
    expect_err(HEAD PRODUCER "network { latency_ms: -1 }", 6, 23, "latency_ms must be >= 0, got -1");
    expect_err(HEAD PRODUCER "network { min_chunk_bytes: 10 max_chunk_bytes: 5 }", 6, 48, "max_chunk_bytes 5 is below min_chunk_bytes 10");
    expect_err(HEAD PRODUCER "network { link { a: \"producer-1\" b: \"broker-3\" } }", 6, 37,
               "node 'broker-3' does not exist: the cluster has 3 brokers (broker-0..broker-2)");
    expect_err(HEAD PRODUCER "network { link { a: \"broker-1\" b: \"broker-1\" } }", 6, 35, "a link joins two different nodes");
}

static void error_producer_settings(void **state) {
    expect_err(HEAD "producer { setting { key: \"lingr.ms\" value: \"5\" } workload { topic: \"t\" records: 1 } }", 5, 27,
               "producer 'producer-1': unknown producer setting 'lingr.ms'; did you mean 'linger.ms'?");
    expect_err(HEAD "producer { setting { key: \"linger.ms\" value: \"soon\" } workload { topic: \"t\" records: 1 } }", 5, 46,
               "producer 'producer-1': Invalid value soon for configuration linger.ms");
    expect_err(HEAD "producer { setting { key: \"bootstrap.servers\" value: \"x:1\" } workload { topic: \"t\" records: 1 } }", 5,
               27, "bootstrap.servers is set by the simulator");
    expect_err(HEAD "producer {\n  setting { key: \"enable.idempotence\" value: \"true\" }\n"
                    "  setting { key: \"acks\" value: \"1\" }\n  workload { topic: \"t\" records: 1 } }",
               7, 32, "acks=1 contradicts the other settings: Must set acks to all in order to use the idempotent producer");
    expect_err(HEAD "producer {\n  setting { key: \"enable.idempotence\" value: \"true\" }\n"
                    "  setting { key: \"acks\" value: \"1\" }\n  workload { topic: \"t\" records: 1 } }",
               7, 32, "(idempotence is on: enable.idempotence=true at 6:46)");
    expect_err(HEAD "producer { setting { key: \"enable.idempotence\" value: \"true\" }\n"
                    "  setting { key: \"max.in.flight.requests.per.connection\" value: \"6\" } workload { topic: \"t\" records: 1 } }",
               6, 65, "Must set max.in.flight.requests.per.connection to at most 5");
    expect_err(HEAD "producer { setting { key: \"transactional.id\" value: \"x\" }\n"
                    "  setting { key: \"enable.idempotence\" value: \"false\" } workload { topic: \"t\" records: 1 transactions {} } }",
               6, 46, "Cannot set a transactional.id without also enabling idempotence. (see: transactional.id=x at 5:53)");
    expect_err(HEAD "producer { setting { key: \"acks\" value: \"1\" } setting { key: \"acks\" value: \"all\" }\n"
                    " workload { topic: \"t\" records: 1 } }",
               5, 62, "producer setting 'acks' is given twice (first at 5:27)");
}

static void error_workload(void **state) {
    expect_err(HEAD "producer { workload { topic: \"tt\" records: 1 } }", 5, 30,
               "topic 'tt' is not a topic of the cluster; did you mean 't'?");
    expect_err(HEAD "producer { workload { topic: \"zzzzzz\" records: 1 } }", 5, 30,
               "topic 'zzzzzz' is not a topic of the cluster (topics: t) (to send to a missing topic on purpose");
    expect_err(HEAD "producer { workload { topic: \"t\" } }", 5, 21, "the workload needs 'records' or 'duration_ms'");
    expect_err(HEAD "producer { workload { topic: \"t\" records: 0 } }", 5, 43, "records must be >= 1, got 0");
    expect_err(HEAD "producer { workload { topic: \"t\" records: 1 rate_per_s: -5 } }", 5, 57, "rate_per_s must be a finite number >= 0");
    expect_err(HEAD "producer { workload { topic: \"t\" records: 1 partition: [0, 2] } }", 5, 60,
               "partition 2 is out of range: topic 't' has 2 partitions (0..1)");
    expect_err(HEAD "producer { workload { topic: \"t\" records: 1 key_distribution: UNIFORM } }", 5, 63,
               "key_distribution UNIFORM needs key_space");
    expect_err(HEAD "producer { workload { topic: \"t\" records: 1 key_space: 5 } }", 5, 56, "key_distribution is NONE");
    expect_err(HEAD "producer { workload { topic: \"t\" records: 1 value_size: 5 value_size_min: 1 value_size_max: 9 } }", 5,
               75, "give either value_size (fixed) or value_size_min and value_size_max");
    expect_err(HEAD "producer { workload { topic: \"t\" records: 1 value_size_min: 9 value_size_max: 1 } }", 5, 79,
               "value_size_max 1 is below value_size_min 9");
    expect_err(HEAD "producer { workload { topic: \"t\" records: 1 start_ms: 700000 } }", 5, 55,
               "start_ms 700000 is beyond the scenario's time_limit_ms 600000");
    expect_err(HEAD "producer { workload { topic: \"t\" records: 1 transactions { } } }", 5, 58,
               "sends in transactions but has no transactional.id");
    expect_err(HEAD "producer { setting { key: \"transactional.id\" value: \"x\" } workload { topic: \"t\" records: 1 } }", 5, 68,
               "has a transactional.id but its workload has no transactions");
    expect_err(HEAD "producer { workload { topic: \"t\" records: 1 close_timeout_ms: 5 force_close: true } }", 5, 78,
               "force_close: true contradicts close_timeout_ms (set at 5:63)");
}

static void error_faults(void **state) {
    expect_err(HEAD PRODUCER "fault { at_ms: -1 crash { broker: 0 } }", 6, 16, "at_ms -1 is in the past");
    expect_err(HEAD "time_limit_ms: 1000\n" PRODUCER "fault { at_ms: 1001 crash { broker: 0 } }", 7, 16,
               "at_ms 1001 is beyond the scenario's time_limit_ms 1000");
    expect_err(HEAD PRODUCER "fault { at_ms: 5 crash { broker: 3 } }", 6, 34, "broker 3 does not exist: the cluster has 3 brokers (ids 0..2)");
    expect_err(HEAD PRODUCER "fault { at_ms: 5 disconnect { node: \"prodcer-1\" } }", 6, 37, "unknown node 'prodcer-1'; did you mean 'producer-1'?");
    expect_err(HEAD PRODUCER "fault { at_ms: 5 disconnect { node: \"zzz\" } }", 6, 37, "unknown node 'zzz' (nodes: producer-1, broker-0, broker-1, broker-2)");
    expect_err(HEAD PRODUCER "fault { at_ms: 5 partition { a: [\"broker-0\"] b: [\"broker-1\", \"broker-0\"] } }", 6, 62,
               "node 'broker-0' is on both sides of the partition");
    expect_err(HEAD PRODUCER "fault { at_ms: 5 partition { a: [\"broker-0\"] } }", 6, 28, "missing 'b'");
    expect_err(HEAD PRODUCER "fault { at_ms: 5 leader_move { topic: \"t\" partition: 2 to_broker: 1 } }", 6, 54,
               "partition 2 is out of range: topic 't' has 2 partitions");
    expect_err(HEAD PRODUCER "fault { at_ms: 5 leader_move { topic: \"x\" partition: 0 to_broker: 1 } }", 6, 39,
               "topic 'x' is not a topic of the cluster");
    expect_err(HEAD PRODUCER "fault { at_ms: 5 inject { broker: 0 error: \"NOT_LEADER_FOR_PARTITON\" } }", 6, 44,
               "unknown error name 'NOT_LEADER_FOR_PARTITON'; did you mean 'NOT_LEADER_FOR_PARTITION'?");
    expect_err(HEAD PRODUCER "fault { at_ms: 5 inject { broker: 0 error: \"NONE\" } }", 6, 44, "error NONE is not an error");
    expect_err(HEAD PRODUCER "fault { at_ms: 5 inject { broker: 0 error: \"REQUEST_TIMED_OUT\" count: 0 } }", 6, 71, "count must be >= 1");
    expect_err(HEAD PRODUCER "fault { at_ms: 50 reject { topic: \"t\" partition: 0 error: \"NOT_ENOUGH_REPLICAS\" until_ms: 50 } }", 6,
               91, "until_ms 50 must be after the fault's at_ms 50");
    expect_err(HEAD PRODUCER "fault { at_ms: 5 set_broker_setting { broker: 0 key: \"message.max.bytes\" value: \"-1\" } }", 6, 81,
               "message.max.bytes must be a whole number from 0 to 2147483647, got '-1'");
    expect_err(HEAD PRODUCER "fault { at_ms: 5 slow_link { a: \"broker-0\" } }", 6, 28, "slow_link changes nothing");
    expect_err(HEAD PRODUCER "fault { at_ms: 5 heal { a: [\"broker-0\"] } }", 6, 29, "heal takes both sides");
    expect_err(HEAD PRODUCER "fault { at_ms: 5 disconnect { node: \"broker-0\" peer: \"broker-0\" } }", 6, 54,
               "peer 'broker-0' is the node itself");
    expect_err(HEAD PRODUCER "fault { at_ms: 5 slow_link { a: \"broker-0\" b: \"broker-0\" latency_ms: 5 } }", 6, 47,
               "a link joins two different nodes");
}

static void error_chaos_and_expect(void **state) {
    expect_err(HEAD PRODUCER "chaos { disconnects_per_min: -1 }", 6, 30, "disconnects_per_min must be a finite number >= 0");
    expect_err(HEAD PRODUCER "chaos { start_ms: 100 end_ms: 50 }", 6, 31, "end_ms 50 must be after start_ms 100");
    expect_err(HEAD PRODUCER "chaos { error { error: \"BAD\" per_min: 1 } }", 6, 24, "unknown error name 'BAD'");
    expect_err(HEAD PRODUCER "chaos { error { error: \"NETWORK_EXCEPTION\" } }", 6, 15, "missing required field 'per_min'");
    expect_err(HEAD PRODUCER "expect { counter { name: RETRIES min: 5 max: 2 } }", 6, 46, "max 2 is below min 5");
    expect_err(HEAD PRODUCER "expect { counter { min: 5 } }", 6, 18, "a counter bound needs a counter name");
    expect_err(HEAD PRODUCER "expect { error { name: \"MESSAGE_TOO_LARG\" } }", 6, 24, "did you mean 'MESSAGE_TOO_LARGE'?");
    expect_err(HEAD PRODUCER "expect { error { name: \"MESSAGE_TOO_LARGE\" producer: \"nobody\" } }", 6, 54, "no producer is named 'nobody'");
    expect_err(HEAD PRODUCER "expect { disable: INVARIANT_UNSPECIFIED }", 6, 19, "is not an invariant");
    /* enum spelling errors come from the text reader */
    expect_err(HEAD PRODUCER "expect { counter { name: RETRIE } }", 6, 26, "did you mean 'RETRIES'?");
}

static void syntax_errors_come_through_with_positions(void **state) {
    expect_err(HEAD "producer { workload { topic: \"t\" records: \"ten\" } }", 5, 43,
               "expected an integer for field 'records' (int64), got \"ten\"");
    expect_err(HEAD "producr { }", 5, 1, "unknown field 'producr' in kpsim.Scenario; did you mean 'producer'?");
}

/* ---- --set ---------------------------------------------------------------- */

static sc_scenario *parse_only(const char *text) {
    /* load_with_sets needs a file; write one */
    char path[] = "/tmp/kpsim_test_scenario_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    sc_error err;
    sc_scenario *sc = sc_scenario_load(path, &err);
    unlink(path);
    if (!sc)
        fail_msg("%s", err.text);
    return sc;
}

static void set_overrides_producers_broker_topic_net(void **state) {
    sc_scenario *sc = parse_only(HEAD "producer { name: \"a\" workload { topic: \"t\" records: 1 } }\n"
                                      "producer { name: \"b\" setting { key: \"linger.ms\" value: \"1\" } workload { topic: \"t\" records: 1 } }\n");
    sc_error err;
    assert_true(sc_scenario_apply_set(sc, "producer.linger.ms=5", &err));
    assert_true(sc_scenario_apply_set(sc, "producer.b.batch.size=100", &err));
    assert_true(sc_scenario_apply_set(sc, "broker.message.max.bytes=10000", &err));
    assert_true(sc_scenario_apply_set(sc, "topic.t.min.insync.replicas=2", &err));
    assert_true(sc_scenario_apply_set(sc, "net.latency.ms=5", &err));
    assert_true(sc_scenario_apply_set(sc, "seed=42", &err));
    assert_true(sc_scenario_apply_set(sc, "time.limit.ms=5000", &err));
    assert_true(sc_scenario_validate(sc, &err));
    const Kpsim__Scenario *s = sc_scenario_proto(sc);
    const Kpsim__Producer *a = s->producer[0], *b = s->producer[1];
    assert_string_equal(sc_setting_get(a->setting, a->n_setting, "linger.ms"), "5");
    assert_null(sc_setting_get(a->setting, a->n_setting, "batch.size"));
    assert_string_equal(sc_setting_get(b->setting, b->n_setting, "linger.ms"), "5");
    assert_int_equal(b->n_setting, 2); /* replaced, not appended */
    assert_string_equal(sc_setting_get(b->setting, b->n_setting, "batch.size"), "100");
    assert_string_equal(sc_setting_get(s->cluster->broker_setting, s->cluster->n_broker_setting, "message.max.bytes"), "10000");
    assert_string_equal(sc_setting_get(s->cluster->topic[0]->setting, s->cluster->topic[0]->n_setting, "min.insync.replicas"), "2");
    assert_int_equal(s->network->latency_ms, 5);
    assert_int_equal(s->network->max_chunk_bytes, 65536); /* created with its defaults */
    assert_int_equal(s->seed, 42);
    assert_int_equal(s->time_limit_ms, 5000);
    kp_config cfg;
    assert_true(sc_scenario_producer_config(sc, 1, &cfg, &err));
    assert_int_equal(cfg.linger_ms, 5);
    assert_int_equal(cfg.batch_size, 100);
    sc_scenario_free(sc);
}

static void set_errors_name_the_argument(void **state) {
    sc_scenario *sc = parse_only(HEAD PRODUCER);
    sc_error err;
    assert_false(sc_scenario_apply_set(sc, "linger.ms=5", &err));
    assert_non_null(strstr(err.text, "--set linger.ms=5: unknown key 'linger.ms': it must start with producer."));
    assert_false(sc_scenario_apply_set(sc, "producer.lnger.ms=5", &err));
    assert_string_equal(err.text, "--set producer.lnger.ms=5: unknown producer setting 'lnger.ms'; did you mean 'linger.ms'?");
    assert_false(sc_scenario_apply_set(sc, "producer.p2.linger.ms=5", &err));
    assert_string_equal(err.text, "--set producer.p2.linger.ms=5: 'p2.linger.ms' is not a producer setting, and no "
                                  "producer is named 'p2' (producers: producer-1); write producer.KEY=VALUE or "
                                  "producer.NAME.KEY=VALUE");
    assert_false(sc_scenario_apply_set(sc, "producer.acks=2", &err));
    assert_non_null(strstr(err.text, "--set producer.acks=2: Invalid value 2 for configuration acks"));
    assert_false(sc_scenario_apply_set(sc, "broker.message.max.byte=1", &err));
    assert_non_null(strstr(err.text, "did you mean 'message.max.bytes'?"));
    assert_false(sc_scenario_apply_set(sc, "net.latency=1", &err));
    assert_non_null(strstr(err.text, "did you mean 'net.latency.ms'?"));
    assert_false(sc_scenario_apply_set(sc, "net.jitter.ms=x", &err));
    assert_false(sc_scenario_apply_set(sc, "topic.nope.max.message.bytes=1", &err));
    assert_false(sc_scenario_apply_set(sc, "producer.linger.ms", &err));
    assert_non_null(strstr(err.text, "expected KEY=VALUE"));
    assert_int_equal(err.line, 0);
    assert_true(sc_scenario_validate(sc, &err)); /* nothing changed */
    /* a contradiction that only --set creates is reported against --set */
    assert_true(sc_scenario_apply_set(sc, "producer.enable.idempotence=true", &err));
    assert_true(sc_scenario_apply_set(sc, "producer.acks=1", &err));
    assert_false(sc_scenario_validate(sc, &err));
    assert_string_equal(err.text, "--set producer.acks=1: producer 'producer-1': acks=1 contradicts the other settings: "
                                  "Must set acks to all in order to use the idempotent producer. Otherwise we cannot "
                                  "guarantee idempotence. (idempotence is on: enable.idempotence=true from --set "
                                  "producer.enable.idempotence=true)");
    /* and fixed by a later one */
    assert_true(sc_scenario_apply_set(sc, "producer.acks=all", &err));
    assert_true(sc_scenario_validate(sc, &err));
    sc_scenario_free(sc);
}

static void set_time_limit_rechecks_fault_times(void **state) {
    sc_scenario *sc = parse_only(HEAD PRODUCER "fault { at_ms: 5000 crash { broker: 0 } }\n");
    sc_error err;
    assert_true(sc_scenario_apply_set(sc, "time.limit.ms=1000", &err));
    assert_false(sc_scenario_validate(sc, &err));
    assert_non_null(strstr(err.text, ":6:16: at_ms 5000 is beyond the scenario's time_limit_ms 1000 "
                                     "(raise time_limit_ms or move the event earlier)"));
    assert_int_equal(err.line, 6);
    assert_int_equal(err.column, 16);
    sc_scenario_free(sc);
}

/* ---- files ---------------------------------------------------------------- */

static void missing_file_says_so(void **state) {
    sc_error err;
    assert_null(sc_scenario_load("/nonexistent/x.textpb", &err));
    assert_string_equal(err.text, "/nonexistent/x.textpb: cannot read: No such file or directory");
    assert_null(sc_scenario_load("/tmp", &err)); /* a directory */
    assert_non_null(strstr(err.text, "/tmp: cannot read"));
}

static void file_errors_use_the_path(void **state) {
    char path[] = "/tmp/kpsim_test_scenario_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs(HEAD "producer { workload { topic: \"t\" records: -1 } }\n", f);
    fclose(f);
    sc_error err;
    assert_null(sc_scenario_load(path, &err));
    char want[128];
    snprintf(want, sizeof want, "%s:5:43: records must be >= 1, got -1", path);
    assert_string_equal(err.text, want);
    unlink(path);
}

/* Every file of the repository's catalog loads (the unit tests run from
 * the repository root). */
static void catalog_files_load(void **state) {
    DIR *d = opendir("scenarios/catalog");
    if (!d)
        skip();
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 8 || strcmp(de->d_name + l - 7, ".textpb"))
            continue;
        char path[512];
        snprintf(path, sizeof path, "scenarios/catalog/%s", de->d_name);
        sc_error err;
        sc_scenario *sc = sc_scenario_load(path, &err);
        if (!sc)
            fail_msg("%s", err.text);
        sc_scenario_free(sc);
        n++;
    }
    closedir(d);
    assert_true(n >= 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(minimal_scenario_loads_with_defaults),
        cmocka_unit_test(full_scenario_uses_every_section),
        cmocka_unit_test(producer_config_holds_effective_values),
        cmocka_unit_test(setting_lookup_takes_the_last),
        cmocka_unit_test(node_names),
        cmocka_unit_test(error_required_fields),
        cmocka_unit_test(error_names_and_formats),
        cmocka_unit_test(error_cluster),
        cmocka_unit_test(broker_settings_agree_with_the_broker_mock),
        cmocka_unit_test(error_network),
        cmocka_unit_test(error_producer_settings),
        cmocka_unit_test(error_workload),
        cmocka_unit_test(error_faults),
        cmocka_unit_test(error_chaos_and_expect),
        cmocka_unit_test(syntax_errors_come_through_with_positions),
        cmocka_unit_test(set_overrides_producers_broker_topic_net),
        cmocka_unit_test(set_errors_name_the_argument),
        cmocka_unit_test(set_time_limit_rechecks_fault_times),
        cmocka_unit_test(missing_file_says_so),
        cmocka_unit_test(file_errors_use_the_path),
        cmocka_unit_test(catalog_files_load),
    };
    return cmocka_run_group_tests_name("scenarios: loading and validation", tests, NULL, NULL);
}
