/* fuzz_req_list_offsets.c — libFuzzer target: the list_offsets request decoder at
 * every supported version (byte 0 picks it), with the re-encode oracle of
 * fuzz_proto_common.h. */
#include "fuzz_proto_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_proto_body(true, KP_API_LIST_OFFSETS, data, size);
}
