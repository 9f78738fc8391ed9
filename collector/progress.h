/*
 * progress: what a collection is doing, for the responder watching it.
 *
 * On a terminal (PROG_TTY): one status line on stderr, redrawn at most five times a second
 * with \r and an erase-line, holding the phase (live, files, metadata, finalise), items and bytes
 * done, the read rate, the elapsed time, an ETA when a total is known (with --max-total, the
 * cap is the only total custody knows: it never walks twice), and the current path, shortened
 * from the left to fit the terminal. Other messages clear the line first (prog_clear).
 * PROG_JSON: one JSON object per line on stderr, once a second and at each phase change,
 * for wrappers. PROG_NONE: nothing (not a terminal, or --quiet).
 *
 * Owner: collection. Fixed memory; the clock is read at most once per call.
 */
#ifndef CUSTODY_PROGRESS_H
#define CUSTODY_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum prog_mode { PROG_NONE = 0, PROG_TTY = 1, PROG_JSON = 2 };

struct progress;

/* total: bytes expected, or 0 when unknown. */
struct progress *prog_new(enum prog_mode mode, FILE *out, uint64_t total);
void prog_free(struct progress *p);
void prog_phase(struct progress *p, const char *phase);
/* An item is being processed: counts it and remembers its path for the line. content says
 * whether its content is collected (phase "files") or only its metadata (phase "metadata");
 * the phase shown follows without forcing a redraw. */
void prog_item(struct progress *p, const char *path, size_t len, int content);
/* n more bytes of content read. */
void prog_bytes(struct progress *p, uint64_t n);
/* Erase the status line (before another message goes to stderr). */
void prog_clear(struct progress *p);
/* The last report: phase "done", the line ended with a newline. */
void prog_end(struct progress *p);

#endif
