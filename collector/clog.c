/*
 * clog: see clog.h.
 */
#define _GNU_SOURCE
#include "clog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct clog {
    int fd;
    int quiet;
    void (*hook)(void *); /* called before a line goes to stderr (the progress line) */
    void *hook_ctx;
    unsigned long long bytes;
};

int clog_open(struct clog **out, const char *path, int quiet, struct cu_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return cu_err_set(err, errno, "cannot create log %s: %s", path, strerror(errno));
    struct clog *l = cu_xcalloc(1, sizeof *l);
    l->fd = fd;
    l->quiet = quiet;
    *out = l;
    return 0;
}

int clog_open_fd(struct clog **out, int fd, int quiet)
{
    struct clog *l = cu_xcalloc(1, sizeof *l);
    l->fd = fd;
    l->quiet = quiet;
    *out = l;
    return 0;
}

static const char *const level_names[] = {"INFO", "WARN", "ERROR"};

void clog_printf(struct clog *l, enum clog_level lvl, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* one line per message: fold newlines a hostile file name may carry */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    struct timespec now = cu_time_now();
    char t[CU_TIME_MAX];
    cu_time_format(&now, t);
    char line[2200];
    int n = snprintf(line, sizeof line, "%s %s %s\n", t, level_names[lvl], msg);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = (int)sizeof line - 1;
    if (l && l->fd >= 0) {
        ssize_t w = write(l->fd, line, (size_t)n);
        if (w > 0)
            l->bytes += (unsigned long long)w;
    }
    if (!l || !l->quiet || lvl == CLOG_ERROR) {
        if (l && l->hook)
            l->hook(l->hook_ctx);
        fprintf(stderr, "custody: %s%s\n", lvl == CLOG_INFO ? "" : lvl == CLOG_WARN ? "warning: " : "error: ", msg);
    }
}

void clog_set_hook(struct clog *l, void (*fn)(void *), void *ctx)
{
    if (l) {
        l->hook = fn;
        l->hook_ctx = ctx;
    }
}

void clog_close_file(struct clog *l)
{
    if (l && l->fd >= 0) {
        fsync(l->fd);
        close(l->fd);
        l->fd = -1;
    }
}

void clog_free(struct clog *l)
{
    if (!l)
        return;
    clog_close_file(l);
    free(l);
}

unsigned long long clog_bytes(const struct clog *l)
{
    return l ? l->bytes : 0;
}
