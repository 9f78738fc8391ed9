/*
 * walk: see walk.h.
 */
#define _GNU_SOURCE
#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

struct walker {
    const struct walk_opts *o;
    walk_visit_fn fn;
    void *ctx;
    struct cu_buf path;
    int stopped;
};

int walk_stat(int dirfd, const char *name, int flags, struct stat *st, int *have_btime,
              struct timespec *btime)
{
    struct statx sx;
    *have_btime = 0;
    if (statx(dirfd, name, flags | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
              STATX_BASIC_STATS | STATX_BTIME, &sx) == 0) {
        memset(st, 0, sizeof *st);
        st->st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
        st->st_ino = sx.stx_ino;
        st->st_mode = sx.stx_mode;
        st->st_nlink = sx.stx_nlink;
        st->st_uid = sx.stx_uid;
        st->st_gid = sx.stx_gid;
        st->st_rdev = makedev(sx.stx_rdev_major, sx.stx_rdev_minor);
        st->st_size = (off_t)sx.stx_size;
        st->st_blksize = sx.stx_blksize;
        st->st_blocks = (blkcnt_t)sx.stx_blocks;
        st->st_atim.tv_sec = sx.stx_atime.tv_sec;
        st->st_atim.tv_nsec = sx.stx_atime.tv_nsec;
        st->st_mtim.tv_sec = sx.stx_mtime.tv_sec;
        st->st_mtim.tv_nsec = sx.stx_mtime.tv_nsec;
        st->st_ctim.tv_sec = sx.stx_ctime.tv_sec;
        st->st_ctim.tv_nsec = sx.stx_ctime.tv_nsec;
        if (sx.stx_mask & STATX_BTIME) {
            *have_btime = 1;
            btime->tv_sec = sx.stx_btime.tv_sec;
            btime->tv_nsec = sx.stx_btime.tv_nsec;
        }
        return 0;
    }
    if (errno != ENOSYS)
        return -1;
    return fstatat(dirfd, name, st, flags | AT_SYMLINK_NOFOLLOW);
}

/* NTFS time (100 ns units since 1601-01-01) to a timespec. */
static void ntfs_time(uint64_t t, struct timespec *ts)
{
    const uint64_t epoch = 116444736000000000ull; /* 1970-01-01 in NTFS time */
    int64_t d = (int64_t)(t - epoch);
    int64_t sec = d / 10000000, rem = d % 10000000;
    if (rem < 0) {
        rem += 10000000;
        sec--;
    }
    ts->tv_sec = (time_t)sec;
    ts->tv_nsec = (long)(rem * 100);
}

/* ntfs-3g gives the NTFS creation time as an extended attribute (there is no getxattr on a
 * name relative to a directory descriptor: go through /proc/self/fd; l- does not follow). */
static int ntfs_crtime(int dirfd, const char *name, struct timespec *ts)
{
    char path[64 + 256];
    if (snprintf(path, sizeof path, "/proc/self/fd/%d/%s", dirfd, name) >= (int)sizeof path)
        return -1;
    unsigned char v[8];
    if (lgetxattr(path, "system.ntfs_crtime_be", v, sizeof v) == 8) {
        uint64_t t = 0;
        for (int i = 0; i < 8; i++)
            t = t << 8 | v[i];
        ntfs_time(t, ts);
        return 0;
    }
    if (lgetxattr(path, "system.ntfs_crtime", v, sizeof v) == 8) {
        uint64_t t;
        memcpy(&t, v, 8); /* host order */
        ntfs_time(t, ts);
        return 0;
    }
    return -1;
}

/* File systems that hold no evidence on disk, or live across a network. */
static int pseudo_fs(long type)
{
    switch ((unsigned long)type) {
    case PROC_SUPER_MAGIC: case SYSFS_MAGIC: case DEVPTS_SUPER_MAGIC: case CGROUP_SUPER_MAGIC:
    case CGROUP2_SUPER_MAGIC: case DEBUGFS_MAGIC: case TRACEFS_MAGIC: case SECURITYFS_MAGIC:
    case PSTOREFS_MAGIC: case BPF_FS_MAGIC: case NFS_SUPER_MAGIC: case SMB_SUPER_MAGIC:
    case AUTOFS_SUPER_MAGIC: case BINFMTFS_MAGIC: case 0x62656570 /* configfs */:
    case 0x19800202 /* mqueue */: case EFIVARFS_MAGIC: case NSFS_MAGIC:
    case 0xFF534D42 /* cifs */: case 0xFE534D42 /* smb2 */:
        return 1;
    default:
        return 0;
    }
}

static int open_dir(int parent, const char *name)
{
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
    if (fd < 0 && errno == EPERM)
        fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd;
}

static const char *shown(const struct walker *w)
{
    return w->path.len ? w->path.data : "/";
}

static void walk_dir(struct walker *w, int dirfd, dev_t dev, size_t depth);

static void enter(struct walker *w, int dirfd, const char *name, const struct stat *st,
                  const struct walk_item *it, dev_t dev, size_t depth)
{
    const struct walk_opts *o = w->o;
    if (depth == 0 && (!strcmp(name, "proc") || !strcmp(name, "sys") || !strcmp(name, "dev") ||
                       !strcmp(name, "run"))) {
        if (!prof_names(o->prof, w->path.data, w->path.len))
            return; /* pseudo file systems: only where a rule names them */
    }
    if (!prof_descend(o->prof, w->path.data, w->path.len))
        return;
    if (o->have_skip && st->st_dev == o->skip_dev && st->st_ino == o->skip_ino) {
        clog_printf(o->log, CLOG_INFO, "not walking the output directory %s", shown(w));
        return;
    }
    if (depth + 1 >= WALK_MAX_DEPTH) {
        clog_printf(o->log, CLOG_WARN, "not entering %s: deeper than %d levels", shown(w),
                    WALK_MAX_DEPTH);
        return;
    }
    int fd = open_dir(dirfd, name);
    if (fd < 0) {
        struct walk_item e = *it;
        e.open_errno = errno;
        if (w->fn(w->ctx, &e) < 0)
            w->stopped = 1;
        return;
    }
    struct stat now;
    if (fstat(fd, &now) != 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
        clog_printf(o->log, CLOG_WARN, "not entering %s: replaced while walking", shown(w));
        close(fd);
        return;
    }
    if (now.st_dev != dev) {
        struct statfs sf;
        if (fstatfs(fd, &sf) == 0 && pseudo_fs(sf.f_type)) {
            clog_printf(o->log, CLOG_INFO, "not entering %s: pseudo or network file system (0x%lx)",
                        shown(w), (unsigned long)sf.f_type);
            close(fd);
            return;
        }
        if (o->xdev) {
            clog_printf(o->log, CLOG_INFO, "not entering %s: another file system (--xdev)", shown(w));
            close(fd);
            return;
        }
    }
    walk_dir(w, fd, now.st_dev, depth + 1);
}

static void walk_dir(struct walker *w, int fd, dev_t dev, size_t depth)
{
    struct statfs sf;
    int fuse = fstatfs(fd, &sf) == 0 && (unsigned long)sf.f_type == 0x65735546; /* FUSE */
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *de;
    while (!w->stopped) {
        if (w->o->stop && *w->o->stop) {
            w->stopped = 1;
            break;
        }
        errno = 0;
        de = readdir(d);
        if (!de) {
            if (errno)
                clog_printf(w->o->log, CLOG_WARN, "reading directory %s: %s", shown(w),
                            strerror(errno));
            break;
        }
        const char *name = de->d_name;
        if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
            continue;
        size_t save = w->path.len;
        if (cu_buf_append(&w->path, "/", 1) != 0 ||
            cu_buf_append(&w->path, name, strlen(name)) != 0) {
            clog_printf(w->o->log, CLOG_WARN, "path too long below %s", shown(w));
            w->path.len = save;
            w->path.data[save] = '\0';
            continue;
        }
        struct stat st;
        struct walk_item it = {0};
        if (walk_stat(dirfd(d), name, 0, &st, &it.have_btime, &it.btime) != 0) {
            if (errno != ENOENT) /* vanished between readdir and stat: nothing to record */
                clog_printf(w->o->log, CLOG_WARN, "cannot stat %s: %s", w->path.data,
                            strerror(errno));
        } else {
            if (it.have_btime)
                it.btime_source = "statx";
            else if (fuse && ntfs_crtime(dirfd(d), name, &it.btime) == 0) {
                it.have_btime = 1;
                it.btime_source = "ntfs-crtime";
            }
            it.dirfd = dirfd(d);
            it.name = name;
            it.path = w->path.data;
            it.path_len = w->path.len;
            it.st = &st;
            if (S_ISDIR(st.st_mode))
                enter(w, dirfd(d), name, &st, &it, dev, depth);
            else if (w->fn(w->ctx, &it) < 0)
                w->stopped = 1;
        }
        w->path.len = save;
        w->path.data[save] = '\0';
    }
    closedir(d);
}

int walk_tree(int rootfd, const struct walk_opts *o, walk_visit_fn fn, void *ctx)
{
    struct walker w = {o, fn, ctx, {0}, 0};
    cu_buf_init(&w.path, 1u << 20);
    cu_buf_append(&w.path, "", 0);
    /* A fresh open file description: dup() would share (and move) the caller's offset. */
    int fd = open_dir(rootfd, ".");
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && prof_descend(o->prof, "/", 1))
        walk_dir(&w, fd, st.st_dev, 0);
    else if (fd >= 0)
        close(fd);
    cu_buf_free(&w.path);
    return w.stopped ? -1 : 0;
}
