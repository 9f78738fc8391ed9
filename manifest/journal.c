/*
 * journal: see journal.h.
 */
#define _GNU_SOURCE
#include "journal.h"
#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

struct mf_journal {
    int fd;
    uint64_t lines;
    uint64_t bytes;
    time_t last_sync;
    struct seal *seal;  /* encrypt each line at its offset (encrypted runs) */
    struct cu_buf sbuf; /* the sealed line */
};

void mf_journal_seal(struct mf_journal *j, struct seal *s)
{
    j->seal = s;
    cu_buf_init(&j->sbuf, 64u << 20);
}

int mf_journal_open(struct mf_journal **out, const char *path, struct cu_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return cu_err_set(err, errno, "cannot create journal %s: %s", path, strerror(errno));
    struct mf_journal *j = cu_xcalloc(1, sizeof *j);
    j->fd = fd;
    j->last_sync = time(NULL);
    *out = j;
    return 0;
}

int mf_journal_open_fd(struct mf_journal **out, int fd)
{
    struct mf_journal *j = cu_xcalloc(1, sizeof *j);
    j->fd = fd;
    j->last_sync = time(NULL);
    *out = j;
    return 0;
}

int mf_journal_sync(struct mf_journal *j, struct cu_err *err)
{
    j->last_sync = time(NULL);
    if (fdatasync(j->fd) != 0 && errno != EINVAL)
        return cu_err_set(err, errno, "journal fsync: %s", strerror(errno));
    return 0;
}

int mf_journal_append(struct mf_journal *j, const char *line, size_t n, int sync,
                      struct cu_err *err)
{
    struct iovec iov[2] = {{(void *)line, n}, {(void *)"\n", 1}};
    size_t total = n + 1, done = 0;
    if (j->seal) {
        cu_buf_reset(&j->sbuf);
        if (cu_buf_append(&j->sbuf, line, n) != 0 || cu_buf_append(&j->sbuf, "\n", 1) != 0 ||
            seal_apply(j->seal, j->bytes, (unsigned char *)j->sbuf.data, total) != 0)
            return cu_err_set(err, 0, "journal: cannot seal a line of %zu bytes", n);
        iov[0].iov_base = j->sbuf.data;
        iov[0].iov_len = total;
        iov[1].iov_len = 0;
    }
    /* Written at its offset (the end of the lines so far), so the file offset can never drift
     * from the count (the sealed journal's key stream follows it); a line that cannot be
     * written whole is cut off again, so a retry (after the reserve is released) or the
     * manifest never sees half a line. */
    while (done < total) {
        ssize_t r = pwritev(j->fd, iov, 2, (off_t)(j->bytes + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : ENOSPC;
            if (ftruncate(j->fd, (off_t)j->bytes) != 0) { /* keep the first error */ }
            return cu_err_set(err, e, "journal write: %s", strerror(e));
        }
        done += (size_t)r;
        /* advance the iovecs past what was written */
        size_t adv = (size_t)r;
        for (int i = 0; i < 2; i++) {
            size_t take = adv < iov[i].iov_len ? adv : iov[i].iov_len;
            iov[i].iov_base = (char *)iov[i].iov_base + take;
            iov[i].iov_len -= take;
            adv -= take;
        }
    }
    j->lines++;
    j->bytes += total;
    if (sync || time(NULL) - j->last_sync >= JR_SYNC_SECONDS)
        return mf_journal_sync(j, err);
    return 0;
}

uint64_t mf_journal_lines(const struct mf_journal *j)
{
    return j->lines;
}

uint64_t mf_journal_bytes(const struct mf_journal *j)
{
    return j->bytes;
}

int mf_journal_close(struct mf_journal *j, struct cu_err *err)
{
    if (!j)
        return 0;
    int rc = mf_journal_sync(j, err);
    close(j->fd);
    cu_buf_free(&j->sbuf);
    free(j);
    return rc;
}
