/* Unit tests for seal and the sealed journal: the bytes on disk are not the plaintext (no
 * line, no name survives), seal_fopen reads them back exactly, from any offset, and another
 * key (another run) reads noise. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "journal.h"
#include "seal.h"

int main(void)
{
    char path[] = "/tmp/custody-seal-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    struct cu_err err;
    struct seal *s = seal_new(&err), *other = seal_new(&err);
    CHECK(s && other);
    struct mf_journal *j = NULL;
    CHECK(mf_journal_open_fd(&j, dup(fd)) == 0);
    mf_journal_seal(j, s);
    char line[256];
    struct cu_buf want;
    cu_buf_init(&want, 1u << 24);
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(line, sizeof line, "{\"path\":\"/etc/secret-%05d\",\"sha256\":\"%064d\"}", i, i);
        CHECK(mf_journal_append(j, line, (size_t)n, 0, &err) == 0);
        cu_buf_append(&want, line, (size_t)n);
        cu_buf_append(&want, "\n", 1);
    }
    CHECK(mf_journal_close(j, &err) == 0);
    /* Raw bytes: same length, not the plaintext, no recognisable piece. */
    off_t size = lseek(fd, 0, SEEK_END);
    CHECK(size == (off_t)want.len);
    char *raw = malloc((size_t)size + 1);
    CHECK(pread(fd, raw, (size_t)size, 0) == size);
    raw[size] = '\0';
    CHECK(memcmp(raw, want.data, want.len) != 0);
    CHECK(!memmem(raw, (size_t)size, "secret", 6) && !memmem(raw, (size_t)size, "\"path\"", 6));
    /* Registered: read back exactly, then from the middle (CTR follows the offset). */
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    seal_register(s, proc);
    FILE *f = seal_fopen(proc);
    CHECK(f != NULL);
    char *back = malloc(want.len + 1);
    CHECK(f && fread(back, 1, want.len, f) == want.len && memcmp(back, want.data, want.len) == 0);
    CHECK(f && fseeko(f, 12345, SEEK_SET) == 0 && fread(back, 1, 1000, f) == 1000 &&
          memcmp(back, want.data + 12345, 1000) == 0);
    if (f)
        fclose(f);
    /* Another key: noise. */
    memcpy(back, raw, (size_t)size);
    CHECK(seal_apply(other, 0, (unsigned char *)back, (size_t)size) == 0);
    CHECK(memcmp(back, want.data, want.len) != 0);
    /* Not registered: plain fopen gives the raw bytes. */
    seal_free(s);
    f = seal_fopen(proc);
    CHECK(f && fread(back, 1, 64, f) == 64 && memcmp(back, raw, 64) == 0);
    if (f)
        fclose(f);
    seal_free(other);
    free(raw);
    free(back);
    cu_buf_free(&want);
    close(fd);
    unlink(path);
    return check_result();
}
