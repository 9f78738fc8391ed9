/*
 * rootfs: see rootfs.h.
 */
#define _GNU_SOURCE
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int open_noatime(int dirfd, const char *name, int flags)
{
    int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
    if (fd < 0 && errno == EPERM)
        fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC);
    return fd;
}

int rootfs_open(int rootfd, const char *rel, int flags, struct cu_err *err)
{
    while (*rel == '/')
        rel++;
    char *copy = cu_xstrdup(rel);
    int dir = dup(rootfd);
    char *save = NULL, *next;
    char *comp = strtok_r(copy, "/", &save);
    while (comp && dir >= 0) {
        next = strtok_r(NULL, "/", &save);
        int fd = open_noatime(dir, comp, next ? O_RDONLY | O_DIRECTORY : flags);
        int e = errno;
        close(dir);
        if (fd < 0) {
            cu_err_set(err, e, "%s: %s", rel, strerror(e));
            free(copy);
            return -1;
        }
        dir = fd;
        comp = next;
    }
    free(copy);
    if (dir < 0)
        return cu_err_set(err, errno, "%s: %s", rel, strerror(errno));
    return dir;
}

char *rootfs_read(int rootfd, const char *rel, size_t cap, size_t *len, struct cu_err *err)
{
    int fd = rootfs_open(rootfd, rel, O_RDONLY | O_NONBLOCK, err);
    if (fd < 0)
        return NULL;
    struct cu_buf b;
    cu_buf_init(&b, cap);
    char tmp[8192];
    for (;;) {
        ssize_t r = read(fd, tmp, sizeof tmp);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            cu_err_set(err, errno, "%s: %s", rel, strerror(errno));
            break;
        }
        if (r == 0) {
            close(fd);
            cu_buf_append(&b, "", 0);
            if (len)
                *len = b.len;
            return b.data;
        }
        if (cu_buf_append(&b, tmp, (size_t)r) != 0) {
            cu_err_set(err, EFBIG, "%s: larger than %zu bytes", rel, cap);
            break;
        }
    }
    close(fd);
    cu_buf_free(&b);
    return NULL;
}

char *rootfs_first_line(int rootfd, const char *rel)
{
    char *s = rootfs_read(rootfd, rel, 65536, NULL, NULL);
    if (!s)
        return NULL;
    size_t n = strcspn(s, "\n");
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    size_t start = 0;
    while (start < n && (s[start] == ' ' || s[start] == '\t'))
        start++;
    char *r = n > start ? cu_xstrndup(s + start, n - start) : NULL;
    free(s);
    return r;
}
