/*
 * rootfs: reading small files of the collected root without leaving it.
 *
 * The root may be a mounted image of a compromised system, so its own symlinks must not
 * lead the collector to files outside it (an /etc/passwd linking to the analyst's). Paths
 * are opened one component at a time from the root's directory descriptor with O_NOFOLLOW:
 * a symlink anywhere on the way makes the file unavailable. O_NOATIME where permitted.
 *
 * Owner: core.
 */
#ifndef CUSTODY_ROOTFS_H
#define CUSTODY_ROOTFS_H

#include <stddef.h>

#include "util.h"

/* Open rel ("etc/passwd", no leading slash) under rootfd. Returns an fd or -1 (err set). */
int rootfs_open(int rootfd, const char *rel, int flags, struct cu_err *err);
/* Read the whole file (at most cap bytes; more is an error) into a new NUL-terminated
 * buffer. Returns it, or NULL with err set. */
char *rootfs_read(int rootfd, const char *rel, size_t cap, size_t *len, struct cu_err *err);
/* First line of a small file, trimmed; NULL when unavailable or empty. */
char *rootfs_first_line(int rootfd, const char *rel);

#endif
