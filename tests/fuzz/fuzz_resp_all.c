/* fuzz_resp_all.c — libFuzzer target: api_key int16 + api_version int16
 * (what the client remembers per correlation id), then a whole response
 * frame; any key and version, supported or not. */
#include "fuzz_proto_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_proto_response_frame(data, size);
}
