/*
 * reslimit: see reslimit.h.
 */
#define _GNU_SOURCE
#include "reslimit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

int lim_duration_parse(const char *s, uint64_t *seconds)
{
    uint64_t total = 0;
    if (!s || !*s)
        return -1;
    while (*s) {
        if (*s < '0' || *s > '9')
            return -1;
        uint64_t v = 0;
        while (*s >= '0' && *s <= '9') {
            if (v > (UINT64_MAX - 9) / 10)
                return -1;
            v = v * 10 + (uint64_t)(*s++ - '0');
        }
        uint64_t unit = 1;
        switch (*s) {
        case '\0': break;
        case 's': unit = 1; s++; break;
        case 'm': unit = 60; s++; break;
        case 'h': unit = 3600; s++; break;
        case 'd': unit = 86400; s++; break;
        default: return -1;
        }
        if (v > UINT64_MAX / unit || total + v * unit < total)
            return -1;
        total += v * unit;
    }
    if (!total)
        return -1;
    *seconds = total;
    return 0;
}

/* ioprio_set(2): glibc has no wrapper. */
#define IOPRIO_CLASS_IDLE 3
#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_WHO_PROCESS 1

void lim_apply_priority(struct limits *l)
{
    l->priority_note[0] = '\0';
    if (!l->low_priority)
        return;
    errno = 0;
    if (setpriority(PRIO_PROCESS, 0, 19) == 0) {
        l->nice_applied = getpriority(PRIO_PROCESS, 0);
    } else {
        snprintf(l->priority_note, sizeof l->priority_note, "setpriority: %s; ", strerror(errno));
    }
#ifdef SYS_ioprio_set
    if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT) == 0)
        l->ionice_applied = 1;
    else {
        size_t n = strlen(l->priority_note);
        snprintf(l->priority_note + n, sizeof l->priority_note - n, "ioprio_set: %s",
                 strerror(errno));
    }
#else
    snprintf(l->priority_note, sizeof l->priority_note, "ioprio_set: not available");
#endif
}

static uint64_t ns_between(const struct timespec *a, const struct timespec *b)
{
    int64_t d = (int64_t)(b->tv_sec - a->tv_sec) * 1000000000 + (b->tv_nsec - a->tv_nsec);
    return d > 0 ? (uint64_t)d : 0;
}

void lim_rate_account(struct limits *l, uint64_t n)
{
    if (!l || !l->rate || !n)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!l->rate_started) {
        l->rate_t0 = now;
        l->rate_started = 1;
    }
    l->rate_bytes += n;
    /* When should rate_bytes have been read by, at the rate? Sleep until then. */
    long double due_ns = (long double)l->rate_bytes * 1e9L / (long double)l->rate;
    uint64_t elapsed = ns_between(&l->rate_t0, &now);
    if (due_ns <= (long double)elapsed)
        return;
    uint64_t wait = (uint64_t)(due_ns - (long double)elapsed);
    while (wait && !(l->stop && *l->stop)) {
        uint64_t slice = wait < 100000000u ? wait : 100000000u; /* 100 ms */
        struct timespec ts = {0, (long)slice};
        if (nanosleep(&ts, NULL) != 0 && errno == EINTR)
            continue; /* look at the stop flag again */
        wait -= slice;
        l->slept_ns += slice;
    }
}

static json_t *num_or_null(uint64_t v)
{
    return v ? json_integer((json_int_t)v) : json_null();
}

json_t *lim_to_json(const struct limits *l)
{
    json_t *o = json_object();
    json_object_set_new(o, "max_total_bytes", num_or_null(l->max_total));
    json_object_set_new(o, "max_file_bytes", num_or_null(l->max_file_size));
    json_object_set_new(o, "rate_limit_bytes_per_second", num_or_null(l->rate));
    json_object_set_new(o, "timeout_seconds", num_or_null(l->timeout_s));
    json_object_set_new(o, "split_bytes", num_or_null(l->split));
    json_t *p = json_object();
    json_object_set_new(p, "low", json_boolean(l->low_priority));
    json_object_set_new(p, "nice", l->low_priority ? json_integer(l->nice_applied) : json_null());
    json_object_set_new(p, "io_class", json_string(l->ionice_applied ? "idle" : "unchanged"));
    json_object_set_new(p, "note", l->priority_note[0] ? json_string(l->priority_note) : json_null());
    json_object_set_new(o, "priority", p);
    json_object_set_new(o, "rate_limit_slept_seconds",
                        json_real((double)l->slept_ns / 1e9));
    return o;
}
