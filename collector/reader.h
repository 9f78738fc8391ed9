/*
 * reader: the single read of a piece of evidence.
 *
 * rd_file opens a walked file with O_RDONLY|O_NOFOLLOW|O_NOATIME|O_NONBLOCK (without
 * O_NOATIME only where the kernel refuses it, and then the entry says
 * `atime-not-preserved`), checks with fstat that it is still the regular file the walk saw
 * (same device and inode; else `replaced`), writes the member header with the size taken at
 * open (or the rule's cap, `truncated-by-limit`), and streams each buffer into every digest
 * and into the archive. A file that shrinks while read is padded with zeros to the header's
 * size (`size-shrank`, `padded`) and one that grows is cut at it (`size-grew`); both are
 * `changed-during-read`, as is any change of size or mtime between open and the end of the
 * read. The digests are always of exactly the bytes stored in the member.
 *
 * Sparse files (fewer blocks than their size) are mapped with SEEK_DATA/SEEK_HOLE and stored
 * sparse (pax GNU.sparse 1.0): only data regions are read from disk, holes are fed as zeros
 * from memory, so the digest is of the logical content that `tar -x` restores, and holes are
 * never read. `collected_bytes` then counts the bytes read from disk; the entry says `sparse`.
 *
 * Owner: reading. One buffer and one digest set per run; nothing grows with file count.
 */
#ifndef CUSTODY_READER_H
#define CUSTODY_READER_H

#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>

#include "accounts.h"
#include "digest.h"
#include "entry.h"
#include "outarc.h"

#define RD_BUF_SIZE (256u * 1024u)
#define RD_XATTR_MAX (64u * 1024u)

struct rd_ctx {
    struct oa_writer *oa;
    struct dg_set *dg;
    const struct acct_db *acct;
    volatile sig_atomic_t *stop; /* a stop request cuts the current member */
    /* When set, every byte of file content archived by rd_file (holes as zeros, not the
     * padding of a file that shrank) is also given to tap, in order: the content tests. */
    void (*tap)(void *tap_ctx, const void *buf, size_t n);
    void *tap_ctx;
    /* When set, told of every byte read from evidence by rd_file (rate limit, progress). */
    void (*account)(void *account_ctx, size_t n);
    void *account_ctx;
    unsigned char *buf;
    int64_t (*regions)[2]; /* sparse map scratch (offset, length), allocated on first use */
    char msg[512];       /* storage for the entry's error message */
    char link[65536];    /* storage for a symlink target */
};

int rd_init(struct rd_ctx *c, struct oa_writer *oa, struct dg_set *dg, const struct acct_db *acct,
            volatile sig_atomic_t *stop);
void rd_done(struct rd_ctx *c);

/* Fill e's metadata fields from a stat (and names from the accounts). */
void rd_entry_stat(const struct rd_ctx *c, struct mf_entry *e, const struct stat *st,
                   int have_btime, const struct timespec *btime);

/* Archive the regular file name in dirfd, walked as st, as member (len bytes). cap 0 = no
 * cap. Fills e (status, flags, digests, error). Returns 0, or -1 when the archive writer
 * failed (the run cannot go on; fatal says why). */
int rd_file(struct rd_ctx *c, int dirfd, const char *name, const struct stat *st,
            const char *member, size_t member_len, uint64_t cap, struct mf_entry *e,
            struct cu_err *fatal);
/* Archive an already open regular file (the tool's own log): same loop, no walk checks. */
int rd_fd(struct rd_ctx *c, int fd, const char *member, size_t member_len, struct mf_entry *e,
          struct cu_err *fatal);
/* Read the symlink's target into the entry; flags atime-not-preserved when the read moved
 * the link's atime (readlink has no O_NOATIME). 0 ok, -1 (entry error set). */
int rd_readlink(struct rd_ctx *c, int dirfd, const char *name, const struct stat *st,
                struct mf_entry *e);
/* Archive what can be read from fd (an executable through /proc/PID/exe), at most cap bytes
 * (0 = no cap), as member; the entry takes fd's fstat for its metadata. */
int rd_stream(struct rd_ctx *c, int fd, const char *member, uint64_t cap, struct mf_entry *e,
              struct cu_err *fatal);
/* Record the symlink name in dirfd as a symlink member with its target. */
int rd_symlink(struct rd_ctx *c, int dirfd, const char *name, const struct stat *st,
               const char *member, size_t member_len, struct mf_entry *e, struct cu_err *fatal);
/* Archive a document held in memory (live snapshots, manifest) as a regular file member. */
int rd_buffer(struct rd_ctx *c, const void *data, size_t len, const char *member,
              const struct timespec *mtime, struct mf_entry *e, struct cu_err *fatal);

#endif
