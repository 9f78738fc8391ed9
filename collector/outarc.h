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

enum oa_compress { OA_ZSTD = 0, OA_GZIP = 1, OA_NONE = 2 };

/* Suffix for the compression: ".tar.zst", ".tar.gz", ".tar". */
const char *oa_suffix(enum oa_compress c);
const char *oa_compress_name(enum oa_compress c);
int oa_compress_parse(const char *s, enum oa_compress *out);

/* Create path (O_EXCL) and start the archive. With n_recipients > 0 the file is age v1
 * encrypted to them: libarchive's output is encrypted in the write callback before it
 * reaches the file (no plaintext is ever written), the sidecar digest is of the ciphertext,
 * and the full-device reserve works as without encryption. */
int oa_open(struct oa_writer **out, const char *path, enum oa_compress c,
            const struct age_recipient *recipients, size_t n_recipients, struct cu_err *err);
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
