/*
 * reslimit: what a collection may take from the production server it runs on.
 *
 * - priority: the lowest CPU priority (nice 19) and the idle I/O scheduling class
 *   (ioprio_set IOPRIO_CLASS_IDLE), applied at start unless turned off; what was applied and
 *   what the kernel refused is recorded;
 * - a read-rate limit: lim_rate_account() is told of every byte read from evidence and sleeps
 *   just long enough that the average since the first read stays at or below the rate, in
 *   slices of at most 100 ms so that a stop request (a signal, --timeout) is seen at once;
 * - durations ("90s", "30m", "2h", "1h30m", plain seconds) for --timeout.
 *
 * The size caps (--max-total, --max-file-size) are decisions of the collector (cmd_collect);
 * their values and these settings go into the manifest through lim_to_json.
 *
 * Owner: collection. No allocation; one struct per run.
 */
#ifndef CUSTODY_RESLIMIT_H
#define CUSTODY_RESLIMIT_H

#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

struct limits {
    uint64_t max_total;     /* 0 = none */
    uint64_t max_file_size; /* 0 = none */
    uint64_t rate;          /* bytes per second; 0 = none */
    uint64_t timeout_s;     /* 0 = none */
    uint64_t split;         /* --split part size (recorded only; volume.c applies it), 0 = none */
    int low_priority;       /* asked for */
    int nice_applied;       /* the nice value set, or 0 */
    int ionice_applied;     /* 1 if the idle I/O class was set */
    char priority_note[160]; /* what the kernel refused, or "" */
    volatile sig_atomic_t *stop; /* a stop request (signal, --timeout) ends a rate-limit wait */
    /* rate state */
    struct timespec rate_t0;
    uint64_t rate_bytes;
    int rate_started;
    uint64_t slept_ns;
};

/* Parse a duration: "90", "90s", "30m", "2h", "1h30m", "1d". 0 ok, -1 bad or zero. */
int lim_duration_parse(const char *s, uint64_t *seconds);
/* Lower this process's CPU and I/O priority; fills the *_applied fields and the note. */
void lim_apply_priority(struct limits *l);
/* n more bytes were read: sleep if the run is ahead of the rate. */
void lim_rate_account(struct limits *l, uint64_t n);
/* {"max_total_bytes", "max_file_bytes", "rate_limit_bytes_per_second", "timeout_seconds",
 *  "split_bytes", "priority": {"low", "nice", "io_class", "note"}} with null for the limits
 *  not set. */
json_t *lim_to_json(const struct limits *l);

#endif
