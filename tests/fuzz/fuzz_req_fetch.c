/* fuzz_req_fetch.c — libFuzzer target: the fetch request decoder at
 * every supported version (byte 0 picks it), with the re-encode oracle of
 * fuzz_proto_common.h. */
#include "fuzz_proto_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_proto_body(true, KP_API_FETCH, data, size);
}
