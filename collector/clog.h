/*
 * clog: the collection log. Each line is "<UTC time> <LEVEL> <message>", written to the
 * log file (which becomes the archive member collection.log) and to stderr (quiet: errors only).
 * The file is written unbuffered, so a killed run still leaves its log.
 *
 * Owner: output.
 */
#ifndef CUSTODY_CLOG_H
#define CUSTODY_CLOG_H

#include "util.h"

struct clog;

enum clog_level { CLOG_INFO, CLOG_WARN, CLOG_ERROR };

int clog_open(struct clog **out, const char *path, int quiet, struct cu_err *err);
/* The same on an open descriptor (a memfd for encrypted runs); the log owns fd. */
int clog_open_fd(struct clog **out, int fd, int quiet);
/* fn(ctx) is called before each line printed to stderr (to clear a progress line). */
void clog_set_hook(struct clog *l, void (*fn)(void *), void *ctx);
void clog_printf(struct clog *l, enum clog_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Close the file; further lines go to stderr only. NULL is a no-op. */
void clog_close_file(struct clog *l);
void clog_free(struct clog *l);
/* Bytes written to the file so far. */
unsigned long long clog_bytes(const struct clog *l);

#endif
