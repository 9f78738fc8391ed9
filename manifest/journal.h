/*
 * journal: the entries of a running collection as JSON lines, written as they happen.
 *
 * Each entry line is written with one write(2) as soon as the item is done, and the file is
 * fsync'ed at least every JR_SYNC_SECONDS and whenever the caller asks (after a large
 * file), so that a run killed with SIGKILL or a pulled USB stick leaves a record of what
 * was archived. At the end the journal is copied, line by line, into manifest.json
 * (mf_manifest_write), so the manifest never has to be held in memory.
 *
 * Owner: manifest model.
 */
#ifndef CUSTODY_JOURNAL_H
#define CUSTODY_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define JR_SYNC_SECONDS 2

struct mf_journal;

int mf_journal_open(struct mf_journal **out, const char *path, struct cu_err *err);
/* The same on an open descriptor (a memfd for encrypted runs); the journal owns fd. */
int mf_journal_open_fd(struct mf_journal **out, int fd);
/* Encrypt every line from now on with s (at its file offset; the journal must start empty). */
struct seal;
void mf_journal_seal(struct mf_journal *j, struct seal *s);
/* Append line (no newline in it) and a newline. sync: fsync now. */
int mf_journal_append(struct mf_journal *j, const char *line, size_t n, int sync,
                      struct cu_err *err);
int mf_journal_sync(struct mf_journal *j, struct cu_err *err);
uint64_t mf_journal_lines(const struct mf_journal *j);
uint64_t mf_journal_bytes(const struct mf_journal *j);
/* fsync and close; NULL is a no-op. */
int mf_journal_close(struct mf_journal *j, struct cu_err *err);

#endif
