/*
 * live: volatile state captured straight from /proc and /sys before any file is read
 * (RFC 3227's order of volatility), without executing any program of the host.
 *
 * live_capture produces, in this order, the JSON documents live/processes.json,
 * live/sockets.json, live/network.json, live/users.json, live/kernel.json and
 * live/open_files.json, hands each one to sink->doc as soon as it is complete, hands the
 * content of deleted or memfd-backed executables of running processes to sink->file
 * (read through /proc/PID/exe), and reports findings (deleted executables, hidden
 * processes) to sink->finding. Races with exiting processes (ENOENT, ESRCH) are recorded in
 * the documents, never fatal. Every document is bounded (LIVE_DOC_MAX); a document that
 * would exceed it is cut at a record boundary and says so ("truncated": true).
 *
 * Owner: live capture. The /proc parsers are exposed for unit tests on captured samples.
 */
#ifndef CUSTODY_LIVE_H
#define CUSTODY_LIVE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util.h"

#define LIVE_DOC_MAX (64u << 20)

struct live_sink {
    void *ctx;
    /* A finished document: name is "live/processes.json" etc.; taken is when it was read. */
    int (*doc)(void *ctx, const char *name, const char *data, size_t len,
               const struct timespec *taken);
    /* Content to archive from fd (at most cap bytes; 0 = no cap) as member `name`
     * ("live/exe/1234-bash"); origin is where it came from ("/proc/1234/exe"). */
    int (*file)(void *ctx, const char *name, int fd, uint64_t cap, const char *origin);
    /* A finding: rule id ("deleted-executable", "hidden-process", ...), the path it is
     * about, a description and a bounded excerpt (may be NULL). */
    int (*finding)(void *ctx, const char *rule, const char *path, const char *description,
                   const char *excerpt);
    /* A log line (level 0 info, 1 warning). */
    void (*log)(void *ctx, int level, const char *msg);
};

struct live_opts {
    const char *proc;           /* "/proc" (tests may point elsewhere) */
    const char *sys;            /* "/sys" */
    int environ;                /* include process environments (off by default: secrets) */
    int open_file_content;      /* archive the content of deleted-but-open files */
    size_t max_fds_per_process; /* bound on descriptors listed per process */
    uint64_t max_exe_bytes;     /* cap on an archived executable */
    volatile sig_atomic_t *stop;
};

void live_opts_default(struct live_opts *o);
/* 0 done (possibly with recorded races), -1 when the sink refused (stop), err set. */
int live_capture(const struct live_opts *o, const struct live_sink *sink, struct cu_err *err);

#endif
