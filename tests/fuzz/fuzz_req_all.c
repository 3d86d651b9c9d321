/* fuzz_req_all.c — libFuzzer target: whole request frames (size, header v1,
 * body), dispatched on the header's api key and version like broker_mock
 * does; includes the ApiVersions UNSUPPORTED_VERSION answer path. */
#include "fuzz_proto_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_proto_request_frame(data, size);
}
