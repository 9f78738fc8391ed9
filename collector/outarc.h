/*
 * outarc: the output archive as it is written.
 *
 * Wraps a libarchive writer (pax format; zstd, gzip or no compression) whose bytes go
 * through our own write callback: it writes them to the output file and feeds them to a
 * SHA-256 of the archive file itself, so the sidecar `<archive>.sha256` costs no second
 * read. The callback also notices a full output device (ENOSPC/EDQUOT) and says so through
 * oa_output_full(), so that the run can end with state `output-full`.
 *
 * The reserve: a file preallocated on the output device (oa_reserve) and grown as the
 * journal grows, so that when the device fills up there is still room to end the current
 * member, write the log, manifest.json and manifest.sig and close the archive. When a write
 * fails with ENOSPC, the callback releases the reserve, marks the writer output-full and
 * retries; the collector then stops adding content and finalises.
 *
 * Owner: output. One writer per run; members are written strictly one after another:
 * oa_header, oa_data..., oa_finish.
 *
 * Encryption (--encrypt-to): an age encryptor sits between libarchive's output and the
 * file write, so the bytes written (and hashed for the sidecar) are age ciphertext.
 */
#ifndef CUSTODY_OUTARC_H
#define CUSTODY_OUTARC_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct archive_entry;
struct oa_writer;
struct age_recipient;

/* OA_DEFLATE is zip's per-member compression; a zip is OA_DEFLATE or OA_NONE (stored). */
enum oa_compress { OA_ZSTD = 0, OA_GZIP = 1, OA_NONE = 2, OA_DEFLATE = 3 };
/* The container: POSIX pax tar (default) or zip (zip64 extensions always on). */
enum oa_format { OA_PAX = 0, OA_ZIP = 1 };

/* Suffix for format and compression: ".tar.zst", ".tar.gz", ".tar", or ".zip". */
const char *oa_suffix_fmt(enum oa_format f, enum oa_compress c);
const char *oa_compress_name(enum oa_compress c);
const char *oa_format_name(enum oa_format f); /* "pax", "zip" */
int oa_compress_parse(const char *s, enum oa_compress *out);
int oa_format_parse(const char *s, enum oa_format *out);

/* Create path (O_EXCL) and start the archive. With n_recipients > 0 the file is age v1
 * encrypted to them: libarchive's output is encrypted in the write callback before it
 * reaches the file (no plaintext is ever written), the sidecar digest is of the ciphertext,
 * and the full-device reserve works as without encryption. */
int oa_open(struct oa_writer **out, const char *path, enum oa_compress c,
            const struct age_recipient *recipients, size_t n_recipients, struct cu_err *err);
/* The same with a format: OA_ZIP writes libarchive's zip (zip64 on for every member, so
 * that sizes over 4 GiB and the data descriptors of a streamed write work; c is
 * OA_DEFLATE or OA_NONE), with the experimental "xl" extra field, so that a streaming
 * reader (a pipe, a decryptor) still sees each member's type and mode. */
int oa_open_fmt(struct oa_writer **out, const char *path, enum oa_format f, enum oa_compress c,
                const struct age_recipient *recipients, size_t n_recipients,
                struct cu_err *err);
/* Split volumes: before each member header (except those written by the hook itself)
 * hook is called with the member's header; it may end the current file (oa_put_file for
 * its closing members, then oa_next_file) so that the member starts the next one. */
typedef int (*oa_hook_fn)(void *ctx, struct oa_writer *w, struct archive_entry *e,
                          struct cu_err *err);
void oa_set_hook(struct oa_writer *w, oa_hook_fn hook, void *ctx);
/* A whole small regular file member (mode 0644, mtime now), bypassing the hook. */
int oa_put_file(struct oa_writer *w, const char *name, const void *data, size_t len,
                struct cu_err *err);
/* Close the current file (archive end, age end, fsync), give its SHA-256 and size, and
 * open path (O_EXCL) as a new archive of the same format, compression and recipients. */
int oa_next_file(struct oa_writer *w, const char *path, char sha256_hex[65], uint64_t *size,
                 struct cu_err *err);
int oa_header(struct oa_writer *w, struct archive_entry *e, struct cu_err *err);
int oa_data(struct oa_writer *w, const void *buf, size_t n, struct cu_err *err);
int oa_finish(struct oa_writer *w, struct cu_err *err);
/* Finish the archive, fsync and close the file; sha256_hex gets the digest of the whole file. */
int oa_close(struct oa_writer *w, char sha256_hex[65], struct cu_err *err);
/* Free without finishing (after a fatal error). NULL is a no-op. */
void oa_free(struct oa_writer *w);
int oa_output_full(const struct oa_writer *w);
/* Create (first call) or grow the reserve file at path to at least bytes. -1 when the
 * device cannot hold it (err set). */
int oa_reserve(struct oa_writer *w, const char *path, uint64_t bytes, struct cu_err *err);
/* Give the reserve's room back (unlink it); with full, also mark the writer output-full.
 * Idempotent. */
void oa_reserve_release(struct oa_writer *w, int full);
/* 0 if a member of `bytes` content bytes surely fits on the output device now. Only an
 * uncompressed archive can know; compressed ones rely on the reserve and answer 0. */
int oa_room_for(struct oa_writer *w, uint64_t bytes);

#endif
