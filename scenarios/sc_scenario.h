/*
 * sc_scenario.h — loading and validating scenario files.
 *
 * A scenario file is one kpsim.Scenario message (scenarios/scenario.proto,
 * which documents every field) in protobuf text format. Loading is:
 *
 *   read the file -> sc_textpb_parse (syntax, types, ranges; a position for
 *   every field) -> defaults that depend on other fields (producer names)
 *   -> `--set` overrides -> sc_scenario_validate (meaning: names that must
 *   exist, counts, times, settings and the producer's own config checks).
 *
 * Every error is one sc_error whose text is "FILE:LINE:COLUMN: what" — or
 * "--set ARG: what" when the offending value came from a --set override —
 * and a command prints it and exits 2.
 *
 * Memory / ownership:
 * - sc_scenario owns the protobuf-c message (every string, array and
 *   sub-message malloc'd, freed by protobuf_c_message_free_unpacked), its
 *   positions table, a copy of the file name, and the list of --set
 *   overrides. sc_scenario_free releases all of it; it accepts NULL.
 * - sc_scenario_proto returns a pointer INTO the scenario: valid until
 *   sc_scenario_free, and until the next sc_scenario_apply_set (which may
 *   grow arrays and replace strings). Callers treat it as read-only.
 * - No function keeps a pointer to the caller's text or error struct.
 *
 * Invariants after a successful sc_scenario_load / sc_scenario_validate:
 * - every Producer has a name (defaulted to "producer-<n>") and a
 *   workload; names are unique;
 * - every name a fault, link or bound mentions exists; every time is in
 *   [0, time_limit_ms]; every error name is known to kp_err_from_name;
 * - every producer's settings pass kp_config_set and kp_config_validate
 *   (sc_scenario_producer_config gives the validated kp_config).
 */
#ifndef SC_SCENARIO_H
#define SC_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_config.h"
#include "sc_textpb.h"
#include "scenario.pb-c.h"

/* Files larger than this are refused (a scenario is a page of text). */
#define SC_SCENARIO_MAX_FILE (4u << 20)

typedef struct sc_scenario sc_scenario;

/* Reads, parses and validates `path`. NULL + *err on any problem
 * (cannot read: "PATH: cannot read: <strerror>"). */
sc_scenario *sc_scenario_load(const char *path, sc_error *err);

/* The same from memory; `name` is used in error positions. */
sc_scenario *sc_scenario_load_text(const char *name, const char *text, size_t len, sc_error *err);

/* Load, apply each of `sets` ("producer.linger.ms=5", ...) in order, then
 * validate once: the way `kpsim run --set ...` loads. */
sc_scenario *sc_scenario_load_with_sets(const char *path, const char *const *sets, size_t nsets,
                                        sc_error *err);

void sc_scenario_free(sc_scenario *sc);

/* One `--set` override:
 *   producer.KEY=VALUE         every producer's setting KEY (Java name)
 *   producer.NAME.KEY=VALUE    only producer NAME's
 *   broker.KEY=VALUE           cluster broker setting (scenario.proto Cluster)
 *   topic.NAME.KEY=VALUE       topic NAME's setting
 *   net.latency.ms | net.jitter.ms | net.bandwidth.bytes.per.s |
 *   net.min.chunk.bytes | net.max.chunk.bytes = N    network defaults
 *   seed=N | time.limit.ms=N   the scenario's seed / time limit
 * Checks the key and the value's syntax and range; replaces an existing
 * setting or adds one. The whole-scenario cross-checks (idempotence with
 * acks=1, ...) need every override in place, so call sc_scenario_validate
 * after the last apply_set. False + *err ("--set ARG: what") on error; the
 * scenario is unchanged then. */
bool sc_scenario_apply_set(sc_scenario *sc, const char *assignment, sc_error *err);

/* The semantic checks (see the invariants above). Idempotent. */
bool sc_scenario_validate(sc_scenario *sc, sc_error *err);

/* The message (read-only; see Memory above). */
const Kpsim__Scenario *sc_scenario_proto(const sc_scenario *sc);

/* The file name given to load (or the name given to load_text). */
const char *sc_scenario_file(const sc_scenario *sc);

/* Where the `index`-th value of `field` of `msg` (any message inside this
 * scenario) is in the file; 0:0 when it was not written there (a default,
 * or a --set). For messages, the opening brace. */
sc_pos sc_scenario_pos(const sc_scenario *sc, const void *msg, const char *field, size_t index);

/* Formats an error about `field` of `msg` at its position, with the same
 * rules as validation (a --set origin instead when it came from one). For
 * the runner, e.g. a fault it cannot apply. Returns false. */
bool sc_scenario_error(const sc_scenario *sc, sc_error *err, const void *msg, const char *field, size_t index,
                       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Value of setting `key` in a settings list, or NULL. */
const char *sc_setting_get(Kpsim__Setting *const *settings, size_t n, const char *key);

/* Producer `i`'s kp_config: 2.1.1 defaults, client.id = the producer's
 * name unless set, its settings applied, kp_config_validate run (so the
 * fields hold effective values). False + *err if it does not validate
 * (cannot happen after a successful sc_scenario_validate). */
bool sc_scenario_producer_config(const sc_scenario *sc, size_t i, kp_config *out, sc_error *err);

/* Node names: "broker-<id>" -> id (>= 0), else -1. */
int32_t sc_node_broker_id(const char *node);

#endif
