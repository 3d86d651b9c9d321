/*
 * fuzz_scenario_reader.c — libFuzzer target for the scenario reader: the
 * protobuf text-format parser (scenarios/sc_textpb.c) and the semantic
 * checks and --set overrides on top of it (scenarios/sc_scenario.c).
 *
 * Each input is a candidate scenario file, used three ways:
 *   1. parsed against the selftest schema (every field type: ints of every
 *      width, floats, bools, enums, strings/bytes with escapes, nested and
 *      repeated messages, a oneof); a success is packed with protobuf-c and
 *      unpacked again (the message must be exactly what protobuf-c's own
 *      code expects to free), and a failure must name a position inside
 *      the input (line >= 1, column >= 1) — nothing may be reported at 0:0;
 *   2. loaded as a kpsim.Scenario with every check; when it loads, a few
 *      --set overrides are applied and the checks run again, and every
 *      producer's kp_config is built;
 *   3. the input is a malloc'd copy of exactly its size and is not
 *      NUL-terminated, so ASan sees any read past the end.
 * Seeds: tests/fuzz/corpus/scenario_reader/ (the catalog examples and the
 * bad-scenario fixtures).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_scenario.h"
#include "sc_textpb_selftest.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);

    sc_error err;
    sc_positions *pos = NULL;
    ProtobufCMessage *m = sc_textpb_parse(&kpsim__selftest__all__descriptor, "f", text, size, &pos, &err);
    if (m) {
        sc_pos np, vp;
        sc_positions_field(pos, m, "rm", 0, &np, &vp);
        size_t n = protobuf_c_message_get_packed_size(m);
        uint8_t *buf = malloc(n ? n : 1);
        if (buf) {
            protobuf_c_message_pack(m, buf);
            ProtobufCMessage *u = protobuf_c_message_unpack(&kpsim__selftest__all__descriptor, NULL, n, buf);
            if (!u)
                abort(); /* we built something protobuf-c cannot read back */
            protobuf_c_message_free_unpacked(u, NULL);
            free(buf);
        }
        protobuf_c_message_free_unpacked(m, NULL);
        sc_positions_free(pos);
    } else if (err.line < 1 || err.column < 1) {
        fprintf(stderr, "error without a position: %s\n", err.text);
        abort();
    }

    sc_scenario *sc = sc_scenario_load_text("f", text, size, &err);
    if (sc) {
        static const char *const sets[] = { "producer.acks=1", "producer.linger.ms=7", "net.latency.ms=3",
                                            "broker.message.max.bytes=1000", "time.limit.ms=1000" };
        for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
            sc_scenario_apply_set(sc, sets[i], &err);
        sc_scenario_validate(sc, &err);
        kp_config cfg;
        for (size_t i = 0; i < sc_scenario_proto(sc)->n_producer; i++)
            sc_scenario_producer_config(sc, i, &cfg, &err);
        sc_scenario_free(sc);
    }
    free(text);
    return 0;
}
