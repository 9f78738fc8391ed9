/*
 * volume: the container options of `custody collect` (--format pax|zip, --split SIZE) and
 * the split volumes.
 *
 * --format and --split are taken out of the command line before collect's own option
 * parsing (vol_opts_take), so that collect's parser knows nothing about them.
 *
 * Split volumes: the collection is written as parts <stem>.part001<suffix>, part002, ...,
 * each a complete archive on its own (its members, its manifest.json listing the entries
 * journaled while it was open, with "part": {"index", "of", "collection"}, and its
 * manifest.sig), so that a lost part loses only its own files. The writer (outarc) asks
 * the hook (vol_hook) before every member header whether the member still fits: the part's
 * size is estimated conservatively from the uncompressed bytes put into it (each member's
 * content size plus a generous bound for its headers), the room its closing manifest needs
 * (the head, the journal lines of the part so far and one more entry, the signature, the
 * archive's end) and a bound for compression and encryption overhead; when the estimate
 * passes SIZE, the part is closed (manifest, signature, sidecar) and the member starts the
 * next part. A regular file that cannot fit even in an empty part is not collected: its
 * entry is `skipped` with the reason (vol_fits). The last part also carries the collection
 * manifest (<stem>/collection-manifest.json and .sig): every entry of every part, and every
 * part with its file name, size and SHA-256 (the last part's own size and digest are null:
 * they are in its sidecar and its own manifest is signed).
 *
 * Owner: output.
 */
#ifndef CUSTODY_VOLUME_H
#define CUSTODY_VOLUME_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "outarc.h"
#include "util.h"

struct sig_key;
struct clog;

struct vol_opts {
    enum oa_format fmt;
    uint64_t split; /* 0: one archive */
};

/* Take --format X / --split X (also --opt=X) out of argv: *cargv (new array, free it; the
 * strings are argv's) gets the rest. -1 on a bad value (message printed). */
int vol_opts_take(int argc, char **argv, struct vol_opts *vo, int *cargc, char ***cargv);
void vol_usage(FILE *f);
/* The compression for the format: a zip is deflate (zstd, gzip, deflate asked) or stored
 * (none); a pax archive refuses deflate. -1 with a message printed. */
int vol_compress(const struct vol_opts *vo, enum oa_compress *c);
/* Path of the (first) archive file: <out>/<stem>[.part001]<suffix>[.age]. */
char *vol_archive_path(const struct vol_opts *vo, const char *outdir, const char *stem,
                       enum oa_compress c, int encrypted);
/* Record collection.format in a manifest head. */
void vol_annotate(json_t *head, const struct vol_opts *vo);

struct vol;
typedef json_t *(*vol_head_fn)(void *ctx); /* a manifest head of the running collection */

/* Split mode on the open writer (vo->split > 0); installs the hook. */
struct vol *vol_new(const struct vol_opts *vo, struct oa_writer *oa, const char *outdir,
                    const char *stem, enum oa_compress c, int n_recips, const char *journal_path,
                    const struct sig_key *key, int ephemeral, vol_head_fn head_fn,
                    void *head_ctx, struct clog *log);
/* 1 if a regular file of `bytes` content bytes can go into a part; else 0 and the reason. */
int vol_fits(const struct vol *v, uint64_t bytes, char *reason, size_t rsz);
/* Before the last part's manifest: rotate if the collection manifest needs room, write
 * collection-manifest.json and .sig into the last part, give the journal and the summary
 * of the last part (*journal_path: a path valid until vol_free; *summary replaced) and set
 * head's "part". *archive_path becomes the last part's path; earlier parts are printed on
 * out, one per line. */
int vol_finish(struct vol *v, json_t *head, const char *journal_path, const char *findings_path,
               json_t **summary, const char **part_journal, char **archive_path, FILE *out,
               struct cu_err *err);
void vol_free(struct vol *v);

#endif
