/*
 * reader: see reader.h.
 */
#define _GNU_SOURCE
#include "reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

int rd_init(struct rd_ctx *c, struct oa_writer *oa, struct dg_set *dg, const struct acct_db *acct,
            volatile sig_atomic_t *stop)
{
    memset(c, 0, sizeof *c);
    c->oa = oa;
    c->dg = dg;
    c->acct = acct;
    c->stop = stop;
    c->buf = cu_xmalloc(RD_BUF_SIZE);
    return 0;
}

void rd_done(struct rd_ctx *c)
{
    free(c->buf);
    free(c->regions);
    c->buf = NULL;
    c->regions = NULL;
}

static void entry_error(struct rd_ctx *c, struct mf_entry *e, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void entry_error(struct rd_ctx *c, struct mf_entry *e, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    e->err_errno = errnum;
    e->err_msg = c->msg;
}

void rd_entry_stat(const struct rd_ctx *c, struct mf_entry *e, const struct stat *st,
                   int have_btime, const struct timespec *btime)
{
    e->have_stat = 1;
    e->type = mf_type_name(st->st_mode);
    e->size = (uint64_t)st->st_size;
    e->mode = st->st_mode;
    e->uid = st->st_uid;
    e->gid = st->st_gid;
    e->user = c->acct ? acct_user(c->acct, st->st_uid) : NULL;
    e->group = c->acct ? acct_group(c->acct, st->st_gid) : NULL;
    e->inode = st->st_ino;
    e->device = st->st_dev;
    e->nlink = st->st_nlink;
    e->atime = st->st_atim;
    e->mtime = st->st_mtim;
    e->ctime = st->st_ctim;
    e->have_btime = have_btime;
    if (have_btime)
        e->btime = *btime;
}

static struct archive_entry *header_for(const struct rd_ctx *c, const struct stat *st,
                                        const char *member, size_t member_len, uint64_t size)
{
    struct archive_entry *ae = archive_entry_new();
    char *name = cu_xstrndup(member, member_len);
    archive_entry_copy_pathname(ae, name);
    free(name);
    archive_entry_set_filetype(ae, st->st_mode & S_IFMT);
    archive_entry_set_perm(ae, st->st_mode & 07777);
    archive_entry_set_uid(ae, st->st_uid);
    archive_entry_set_gid(ae, st->st_gid);
    const char *u = c->acct ? acct_user(c->acct, st->st_uid) : NULL;
    const char *g = c->acct ? acct_group(c->acct, st->st_gid) : NULL;
    if (u)
        archive_entry_copy_uname(ae, u);
    if (g)
        archive_entry_copy_gname(ae, g);
    archive_entry_set_mtime(ae, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
    archive_entry_set_atime(ae, st->st_atim.tv_sec, st->st_atim.tv_nsec);
    archive_entry_set_ctime(ae, st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
    archive_entry_set_size(ae, (la_int64_t)size);
    return ae;
}

/* Copy the file's extended attributes into the header (bounded). */
static void add_xattrs(struct archive_entry *ae, int fd)
{
    char names[RD_XATTR_MAX];
    ssize_t n = flistxattr(fd, names, sizeof names);
    if (n <= 0)
        return;
    char *val = cu_xmalloc(RD_XATTR_MAX);
    for (char *p = names; p < names + n; p += strlen(p) + 1) {
        ssize_t v = fgetxattr(fd, p, val, RD_XATTR_MAX);
        if (v >= 0)
            archive_entry_xattr_add_entry(ae, p, val, (size_t)v);
    }
    free(val);
}

/* Stream up to want bytes of fd into digests and archive; pad to want. Unless whole, a
 * stop request or a full output device cuts the member (the rest is zeros). */
static int copy_loop(struct rd_ctx *c, int fd, uint64_t want, int whole, struct mf_entry *e,
                     struct cu_err *fatal)
{
    uint64_t got = 0;
    int read_errno = 0, eof = 0;
    while (got < want) {
        if (!whole && c->stop && *c->stop) {
            e->flags |= MF_F_INTERRUPTED;
            break;
        }
        if (!whole && oa_output_full(c->oa)) {
            e->flags |= MF_F_OUTPUT_FULL;
            break;
        }
        size_t ask = want - got < RD_BUF_SIZE ? (size_t)(want - got) : RD_BUF_SIZE;
        ssize_t r = read(fd, c->buf, ask);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            read_errno = errno;
            break;
        }
        if (r == 0) {
            eof = 1;
            break;
        }
        dg_set_update(c->dg, c->buf, (size_t)r);
        if (c->tap)
            c->tap(c->tap_ctx, c->buf, (size_t)r);
        if (c->account)
            c->account(c->account_ctx, (size_t)r);
        if (oa_data(c->oa, c->buf, (size_t)r, fatal) != 0)
            return -1;
        got += (uint64_t)r;
    }
    e->collected_bytes = got;
    if (got < want) {
        /* The header promised want bytes: fill with zeros, and say so. */
        memset(c->buf, 0, RD_BUF_SIZE);
        uint64_t pad = want - got;
        while (pad) {
            size_t n = pad < RD_BUF_SIZE ? (size_t)pad : RD_BUF_SIZE;
            dg_set_update(c->dg, c->buf, n);
            if (oa_data(c->oa, c->buf, n, fatal) != 0)
                return -1;
            pad -= n;
        }
        e->flags |= MF_F_PADDED;
        e->status = MF_PARTIAL;
        if (eof)
            e->flags |= MF_F_SHRANK | MF_F_CHANGED;
        if (read_errno)
            entry_error(c, e, read_errno, "read failed after %llu bytes: %s",
                        (unsigned long long)got, strerror(read_errno));
    }
    return 0;
}

/* Sparse files: the data regions of [0, want) from SEEK_DATA/SEEK_HOLE, so holes are never
 * read from disk. Returns the number of regions (0: not sparse, or too fragmented to map). */
#define RD_SPARSE_MAX 65536
static size_t sparse_map(int fd, uint64_t want, const struct stat *st, int64_t (*reg)[2])
{
    if (want < (1u << 20) || (uint64_t)st->st_blocks * 512 >= (uint64_t)st->st_size)
        return 0;
    size_t n = 0;
    off_t pos = 0;
    while ((uint64_t)pos < want) {
        off_t d = lseek(fd, pos, SEEK_DATA);
        if (d < 0 || (uint64_t)d >= want)
            break; /* ENXIO: only a hole remains */
        off_t h = lseek(fd, d, SEEK_HOLE);
        if (h < 0)
            return 0;
        if ((uint64_t)h > want)
            h = (off_t)want;
        if (n == RD_SPARSE_MAX)
            return 0;
        reg[n][0] = d;
        reg[n][1] = h - d;
        n++;
        pos = h;
    }
    lseek(fd, 0, SEEK_SET);
    return n ? n : (size_t)-1; /* all hole: one empty region below */
}

/* Feed n zero bytes (a hole) to the digests and the writer, which stores no bytes for it. */
static int zeros(struct rd_ctx *c, uint64_t n, struct cu_err *fatal)
{
    memset(c->buf, 0, RD_BUF_SIZE);
    while (n) {
        size_t k = n < RD_BUF_SIZE ? (size_t)n : RD_BUF_SIZE;
        dg_set_update(c->dg, c->buf, k);
        if (c->tap)
            c->tap(c->tap_ctx, c->buf, k);
        if (oa_data(c->oa, c->buf, k, fatal) != 0)
            return -1;
        n -= k;
    }
    return 0;
}

/* The copy loop for a sparse file: data regions read at their offsets, holes as zeros.
 * collected_bytes counts the bytes read from disk. */
static int sparse_copy(struct rd_ctx *c, int fd, uint64_t want, int64_t (*reg)[2], size_t n,
                       struct mf_entry *e, struct cu_err *fatal)
{
    uint64_t pos = 0, got = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t off = (uint64_t)reg[i][0], len = (uint64_t)reg[i][1];
        if (zeros(c, off - pos, fatal) != 0)
            return -1;
        pos = off;
        while (len) {
            if ((c->stop && *c->stop) || oa_output_full(c->oa)) {
                e->flags |= (c->stop && *c->stop) ? MF_F_INTERRUPTED : MF_F_OUTPUT_FULL;
                e->collected_bytes = got;
                e->flags |= MF_F_PADDED;
                e->status = MF_PARTIAL;
                return zeros(c, want - pos, fatal);
            }
            size_t k = len < RD_BUF_SIZE ? (size_t)len : RD_BUF_SIZE;
            ssize_t r = pread(fd, c->buf, k, (off_t)pos);
            if (r <= 0) {
                if (r < 0 && errno == EINTR)
                    continue;
                if (r < 0)
                    entry_error(c, e, errno, "read failed at offset %llu: %s",
                                (unsigned long long)pos, strerror(errno));
                else
                    e->flags |= MF_F_SHRANK | MF_F_CHANGED;
                e->flags |= MF_F_PADDED;
                e->status = MF_PARTIAL;
                e->collected_bytes = got;
                return zeros(c, want - pos, fatal);
            }
            dg_set_update(c->dg, c->buf, (size_t)r);
            if (c->tap)
                c->tap(c->tap_ctx, c->buf, (size_t)r);
            if (c->account)
                c->account(c->account_ctx, (size_t)r);
            if (oa_data(c->oa, c->buf, (size_t)r, fatal) != 0)
                return -1;
            pos += (uint64_t)r;
            got += (uint64_t)r;
            len -= (uint64_t)r;
        }
    }
    e->collected_bytes = got;
    return zeros(c, want - pos, fatal);
}

static int finish_member(struct rd_ctx *c, struct mf_entry *e, struct cu_err *fatal)
{
    if (oa_finish(c->oa, fatal) != 0)
        return -1;
    struct cu_err derr;
    if (dg_set_end(c->dg, e->digests, &derr) == 0)
        e->have_digests = 1;
    return 0;
}

int rd_file(struct rd_ctx *c, int dirfd, const char *name, const struct stat *st,
            const char *member, size_t member_len, uint64_t cap, struct mf_entry *e,
            struct cu_err *fatal)
{
    int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
    int fd = openat(dirfd, name, flags | O_NOATIME);
    if (fd < 0 && errno == EPERM) {
        fd = openat(dirfd, name, flags);
        if (fd >= 0)
            e->flags |= MF_F_ATIME;
    }
    if (fd < 0) {
        int en = errno;
        e->status = MF_ERROR;
        if (en == ENOENT)
            e->flags |= MF_F_VANISHED;
        if (en == ELOOP)
            e->flags |= MF_F_REPLACED; /* became a symlink */
        entry_error(c, e, en, "open: %s", strerror(en));
        return 0;
    }
    struct stat before;
    if (fstat(fd, &before) != 0) {
        e->status = MF_ERROR;
        entry_error(c, e, errno, "fstat: %s", strerror(errno));
        close(fd);
        return 0;
    }
    if (!S_ISREG(before.st_mode) || before.st_dev != st->st_dev || before.st_ino != st->st_ino) {
        e->status = MF_ERROR;
        e->flags |= MF_F_REPLACED;
        entry_error(c, e, 0, "replaced between the walk and the open (now a %s, inode %llu)",
                    mf_type_name(before.st_mode), (unsigned long long)before.st_ino);
        close(fd);
        return 0;
    }
    if (before.st_size != st->st_size || before.st_mtim.tv_sec != st->st_mtim.tv_sec ||
        before.st_mtim.tv_nsec != st->st_mtim.tv_nsec)
        e->flags |= MF_F_CHANGED;
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    uint64_t size = (uint64_t)before.st_size, want = size;
    if (cap && size > cap) {
        want = cap;
        e->flags |= MF_F_TRUNCATED;
        e->status = MF_PARTIAL;
    }
    if (oa_room_for(c->oa, want) != 0) {
        /* An uncompressed archive knows it cannot hold this member: do not start it. */
        oa_reserve_release(c->oa, 1);
        e->status = MF_SKIPPED;
        e->flags |= MF_F_OUTPUT_FULL;
        entry_error(c, e, ENOSPC, "no room for %llu bytes on the output device",
                    (unsigned long long)want);
        close(fd);
        return 0;
    }
    struct archive_entry *ae = header_for(c, &before, member, member_len, want);
    add_xattrs(ae, fd);
    if (!c->regions)
        c->regions = cu_xmalloc(RD_SPARSE_MAX * sizeof *c->regions);
    size_t nreg = sparse_map(fd, want, &before, c->regions);
    if (nreg == (size_t)-1) { /* nothing but a hole */
        nreg = 0;
        archive_entry_sparse_add_entry(ae, (la_int64_t)want, 0);
        e->flags |= MF_F_SPARSE;
    } else if (nreg) {
        for (size_t i = 0; i < nreg; i++)
            archive_entry_sparse_add_entry(ae, c->regions[i][0], c->regions[i][1]);
        e->flags |= MF_F_SPARSE;
    }
    int hr = oa_header(c->oa, ae, fatal);
    archive_entry_free(ae);
    if (hr != 0) {
        close(fd);
        return -1;
    }
    e->member = member;
    e->member_len = member_len;
    dg_set_begin(c->dg, NULL);
    int cr = (e->flags & MF_F_SPARSE) ? sparse_copy(c, fd, want, c->regions, nreg, e, fatal)
                                      : copy_loop(c, fd, want, 0, e, fatal);
    if (cr != 0) {
        close(fd);
        return -1;
    }
    if (!(e->flags & (MF_F_TRUNCATED | MF_F_SPARSE | MF_F_PADDED))) {
        /* Did it grow past what the header allowed? */
        char probe;
        ssize_t r = read(fd, &probe, 1);
        if (r > 0) {
            e->flags |= MF_F_GREW | MF_F_CHANGED;
            e->status = MF_PARTIAL;
        }
    }
    struct stat after;
    if (fstat(fd, &after) == 0 &&
        (after.st_size != before.st_size || after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
         after.st_mtim.tv_nsec != before.st_mtim.tv_nsec))
        e->flags |= MF_F_CHANGED;
    if (e->flags & (MF_F_INTERRUPTED | MF_F_OUTPUT_FULL))
        e->status = MF_PARTIAL;
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
    return finish_member(c, e, fatal);
}

/* Header from st with `want` content bytes, then the copy loop from fd (whole: never cut). */
static int archive_fd(struct rd_ctx *c, int fd, const struct stat *st, const char *member,
                      size_t member_len, uint64_t want, int whole, struct mf_entry *e,
                      struct cu_err *fatal)
{
    struct archive_entry *ae = header_for(c, st, member, member_len, want);
    int hr = oa_header(c->oa, ae, fatal);
    archive_entry_free(ae);
    if (hr != 0)
        return -1;
    e->member = member;
    e->member_len = member_len;
    dg_set_begin(c->dg, NULL);
    if (copy_loop(c, fd, want, whole, e, fatal) != 0)
        return -1;
    if (e->flags & (MF_F_INTERRUPTED | MF_F_OUTPUT_FULL))
        e->status = MF_PARTIAL;
    return finish_member(c, e, fatal);
}

int rd_fd(struct rd_ctx *c, int fd, const char *member, size_t member_len, struct mf_entry *e,
          struct cu_err *fatal)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        e->status = MF_ERROR;
        entry_error(c, e, errno, "fstat: %s", strerror(errno));
        return 0;
    }
    /* the tool's own files are always written whole */
    return archive_fd(c, fd, &st, member, member_len, (uint64_t)st.st_size, 1, e, fatal);
}

int rd_stream(struct rd_ctx *c, int fd, const char *member, uint64_t cap, struct mf_entry *e,
              struct cu_err *fatal)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        e->status = MF_ERROR;
        entry_error(c, e, errno, "fstat: %s", strerror(errno));
        return 0;
    }
    rd_entry_stat(c, e, &st, 0, NULL);
    uint64_t want = (uint64_t)st.st_size;
    if (cap && want > cap) {
        want = cap;
        e->flags |= MF_F_TRUNCATED;
        e->status = MF_PARTIAL;
    }
    return archive_fd(c, fd, &st, member, strlen(member), want, 0, e, fatal);
}

int rd_readlink(struct rd_ctx *c, int dirfd, const char *name, const struct stat *st,
                struct mf_entry *e)
{
    ssize_t n = readlinkat(dirfd, name, c->link, sizeof c->link - 1);
    if (n < 0) {
        e->status = MF_ERROR;
        if (errno == ENOENT)
            e->flags |= MF_F_VANISHED;
        if (errno == EINVAL)
            e->flags |= MF_F_REPLACED;
        entry_error(c, e, errno, "readlink: %s", strerror(errno));
        return -1;
    }
    c->link[n] = '\0';
    e->link_target = c->link;
    e->link_target_len = (size_t)n;
    /* readlink has no O_NOATIME: on a relatime mount it may touch the link's atime. */
    struct stat after;
    if (fstatat(dirfd, name, &after, AT_SYMLINK_NOFOLLOW) == 0 &&
        (after.st_atim.tv_sec != st->st_atim.tv_sec || after.st_atim.tv_nsec != st->st_atim.tv_nsec))
        e->flags |= MF_F_ATIME;
    return 0;
}

int rd_symlink(struct rd_ctx *c, int dirfd, const char *name, const struct stat *st,
               const char *member, size_t member_len, struct mf_entry *e, struct cu_err *fatal)
{
    if (rd_readlink(c, dirfd, name, st, e) != 0)
        return 0;
    struct archive_entry *ae = header_for(c, st, member, member_len, 0);
    archive_entry_copy_symlink(ae, c->link);
    int hr = oa_header(c->oa, ae, fatal);
    archive_entry_free(ae);
    if (hr != 0)
        return -1;
    e->member = member;
    e->member_len = member_len;
    return oa_finish(c->oa, fatal);
}

int rd_buffer(struct rd_ctx *c, const void *data, size_t len, const char *member,
              const struct timespec *mtime, struct mf_entry *e, struct cu_err *fatal)
{
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_mode = S_IFREG | 0644;
    st.st_uid = geteuid();
    st.st_gid = getegid();
    st.st_mtim = st.st_atim = st.st_ctim = *mtime;
    struct archive_entry *ae = header_for(c, &st, member, strlen(member), len);
    int hr = oa_header(c->oa, ae, fatal);
    archive_entry_free(ae);
    if (hr != 0)
        return -1;
    e->member = member;
    e->member_len = strlen(member);
    dg_set_begin(c->dg, NULL);
    dg_set_update(c->dg, data, len);
    if (oa_data(c->oa, data, len, fatal) != 0)
        return -1;
    e->collected_bytes = len;
    return finish_member(c, e, fatal);
}
