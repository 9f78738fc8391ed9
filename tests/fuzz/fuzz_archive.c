/* libFuzzer target: hostile archive bytes through the reading path of verify and list (the
 * tar/zip readers, zstd/gzip filters, member hashing, manifest capture and checks). */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mfread.h"
#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-archive", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct vf_opts o = {NULL, NULL, NULL, NULL, 0};
    struct vf_result r;
    struct cu_err err;
    if (vf_verify(path, &o, &r, &err) == 0)
        vf_result_free(&r);
    else
        vf_result_free(&r);
    struct mf_scan s;
    if (mf_scan(path, 0, NULL, 0, &s, &err) == 0)
        mf_scan_free(&s);
    close(fd);
    return 0;
}
