/*
 * entry: one manifest entry (docs/format.md, "Entries") and its JSON form.
 *
 * The collector fills a struct mf_entry for each item it processes and turns it into one
 * line of compact JSON with mf_entry_to_line; that line goes to the journal and, unchanged,
 * into manifest.json. Names that are not valid UTF-8 are kept losslessly: the string field
 * holds a readable form (U+FFFD for bad bytes) and a *_b64 field holds the exact bytes.
 *
 * Owner: manifest model. Entries are built and dropped one at a time: memory does not grow
 * with the number of files.
 */
#ifndef CUSTODY_ENTRY_H
#define CUSTODY_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "digest.h"
#include "util.h"

enum mf_status { MF_OK = 0, MF_PARTIAL = 1, MF_ERROR = 2, MF_SKIPPED = 3, MF_STATUS_COUNT = 4 };

enum mf_flag {
    MF_F_CHANGED = 1 << 0,      /* changed-during-read */
    MF_F_TRUNCATED = 1 << 1,    /* truncated-by-limit */
    MF_F_ATIME = 1 << 2,        /* atime-not-preserved */
    MF_F_VANISHED = 1 << 3,     /* vanished */
    MF_F_REPLACED = 1 << 4,     /* replaced */
    MF_F_GREW = 1 << 5,         /* size-grew */
    MF_F_SHRANK = 1 << 6,       /* size-shrank */
    MF_F_PADDED = 1 << 7,       /* padded */
    MF_F_INTERRUPTED = 1 << 8,  /* interrupted */
    MF_F_OUTPUT_FULL = 1 << 9,  /* output-full */
    MF_F_SPARSE = 1 << 10,      /* sparse: stored with a sparse map, holes not read */
};

struct mf_entry {
    const char *path; /* bytes, path_len long (not necessarily NUL-free... never holds NUL) */
    size_t path_len;
    const char *member; /* NULL when only metadata was recorded */
    size_t member_len;
    const char *type; /* "file", "dir", ... */
    int have_stat;    /* the stat fields below are known */
    uint64_t size;
    uint64_t collected_bytes;
    uint32_t mode;
    uint32_t uid, gid;
    const char *user, *group; /* may be NULL */
    uint64_t inode, device, nlink;
    struct timespec atime, mtime, ctime, btime;
    int have_btime;
    const char *link_target; /* NULL unless symlink */
    size_t link_target_len;
    int have_digests;
    char digests[DG_COUNT][DG_HEX_MAX]; /* "" for algorithms not computed */
    const char *const *rules;           /* rule ids */
    size_t n_rules;
    unsigned flags;
    enum mf_status status;
    int err_errno; /* -1: no error; 0: an error without errno */
    const char *err_msg;
    const struct timespec *taken; /* live documents: when the snapshot was taken; else NULL */
    const char *btime_source; /* "statx" or "ntfs-crtime" when the birth time is known */
    const char *time_used;    /* "btime"/"mtime": what a created_or_modified window used */
    const char *reason;       /* why an entry is `skipped` (a limit), else NULL */
};

void mf_entry_init(struct mf_entry *e);
const char *mf_status_name(enum mf_status s);
/* Append the entry as one line of compact JSON (no newline) to out. -1 if the cap is hit. */
int mf_entry_to_line(const struct mf_entry *e, struct cu_buf *out);
/* The manifest's convention for bytes from the host: o[key] is the text (U+FFFD for bytes
 * that are not UTF-8) and, only when it was not UTF-8, o[key_b64] holds the exact bytes.
 * s NULL sets null. Used for entries and for the live documents alike. */
void mf_json_set_bytes(json_t *o, const char *key, const char *s, size_t n);
/* A JSON string of s, lossy when s is not UTF-8; null for NULL. */
json_t *mf_json_text(const char *s);

/* The entry's type name for a st_mode. */
const char *mf_type_name(uint32_t mode);

#endif
