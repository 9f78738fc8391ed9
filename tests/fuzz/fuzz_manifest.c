/* libFuzzer target: a hostile manifest.json through every check verify makes of it (parsing,
 * format, signature key, entries, member names in base64, digests, link targets). */
#include <stddef.h>
#include <stdint.h>

#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vf_opts o = {NULL, NULL, NULL, NULL, 0};
    struct vf_result r;
    vf_verify_manifest(data, size, &o, &r);
    vf_result_free(&r);
    return 0;
}
