/*
 * walk: the file-system walk of one root, by directory descriptors.
 *
 * Every directory is opened with openat(parent, name, O_NOFOLLOW|O_DIRECTORY|O_NOATIME) and
 * every name is examined with statx(AT_SYMLINK_NOFOLLOW), so symbolic links are never
 * followed and paths longer than PATH_MAX are fine (the path string is only a label).
 * The walker enters a directory only when the profile says something below it could be
 * selected (prof_descend); it enters /proc, /sys, /dev and /run only when a rule names a
 * path in them (prof_names); it does not enter pseudo or network file systems mounted
 * inside the root (proc, sysfs, cgroup, debugfs, nfs, cifs, ...), nor any other file system
 * with xdev, nor the output directory. Each skip is logged.
 *
 * Birth times come from statx. On an ntfs-3g (FUSE) mount statx knows none: there the NTFS
 * creation time is read from the `system.ntfs_crtime_be` (or `system.ntfs_crtime`) extended
 * attribute, and the item says so (btime_source "ntfs-crtime").
 *
 * Owner: walking. Memory: one open directory stream per level of depth, and the path.
 */
#ifndef CUSTODY_WALK_H
#define CUSTODY_WALK_H

#include <signal.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "clog.h"
#include "profile.h"
#include "util.h"

#define WALK_MAX_DEPTH 4096

struct walk_item {
    int dirfd;          /* the parent directory */
    const char *name;   /* the name inside it */
    const char *path;   /* path inside the root: "/etc/passwd" */
    size_t path_len;
    const struct stat *st; /* lstat of the item */
    int have_btime;
    struct timespec btime;
    const char *btime_source; /* "statx" or "ntfs-crtime" (ntfs-3g: system.ntfs_crtime) */
    int open_errno; /* 0; or, for a directory that could not be opened, its errno */
};

/* Return 0 to go on, -1 to stop the walk (the run is being interrupted). */
typedef int (*walk_visit_fn)(void *ctx, const struct walk_item *it);

struct walk_opts {
    const struct prof_profile *prof;
    int xdev;              /* stay on the root's file system */
    int have_skip;         /* skip the directory skip_dev/skip_ino (the output) */
    dev_t skip_dev;
    ino_t skip_ino;
    struct clog *log;
    volatile sig_atomic_t *stop; /* set by a signal handler: stop between items */
};

/* Walk rootfd. Calls fn for every non-directory item below it (selection is the caller's),
 * and for directories that could not be opened (open_errno set). Returns 0, or -1 when fn
 * or *stop asked to stop. */
int walk_tree(int rootfd, const struct walk_opts *o, walk_visit_fn fn, void *ctx);

/* Fill st (and btime) for name in dirfd without following symlinks. 0 or -1 (errno). */
int walk_stat(int dirfd, const char *name, int flags, struct stat *st, int *have_btime,
              struct timespec *btime);

#endif
