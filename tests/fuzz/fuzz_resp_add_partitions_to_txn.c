/* fuzz_resp_add_partitions_to_txn.c — libFuzzer target: the add_partitions_to_txn response decoder at
 * every supported version (byte 0 picks it), with the re-encode oracle of
 * fuzz_proto_common.h. */
#include "fuzz_proto_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_proto_body(false, KP_API_ADD_PARTITIONS_TO_TXN, data, size);
}
