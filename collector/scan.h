/*
 * scan: the content tests of a profile's rules, run on the bytes of each file as the reader
 * archives them (the one read that hashes and stores them; nothing is read twice).
 *
 * - content signatures: byte strings (exact or ASCII case-insensitive, also as UTF-16LE),
 *   searched with one Knuth-Morris-Pratt automaton per pattern, so a match that spans two
 *   read buffers is found; within the first N bytes or the whole file;
 * - line patterns: the stream is cut into lines (at most SCAN_LINE_MAX bytes are tested of a
 *   longer line) and each line is tested against the rule's POSIX extended regular
 *   expressions; each hit is reported with its line number and the (bounded) line, at most
 *   max_hits per file and rule, then one finding counts the rest;
 * - known hashes: the file's digests, once the read is done, against the rule's lists.
 *
 * Findings go to the caller's callback as they are found. Memory is fixed when the scanner is
 * made from the profile; nothing grows with file size or count.
 *
 * Owner: selection.
 */
#ifndef CUSTODY_SCAN_H
#define CUSTODY_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "profile.h"

#define SCAN_LINE_MAX 4096
#define SCAN_EXCERPT_MAX 512

/* line is 0 when the finding is not about one line; excerpt may be NULL. */
typedef void (*scan_finding_fn)(void *ctx, const struct prof_rule *r, long line,
                                const char *excerpt, const char *description);

struct scan;

struct scan *scan_new(const struct prof_profile *p);
void scan_free(struct scan *s);
/* Start a file selected with match m: arms the tests of the matching rules that have them.
 * Returns 1 if some test is armed (then feed the content and call scan_end), else 0. */
int scan_begin(struct scan *s, const struct prof_match *m, scan_finding_fn fn, void *ctx);
void scan_feed(struct scan *s, const void *buf, size_t n);
/* The file's content has all been fed: end the last line, report content signatures and
 * check known hashes against digests (ignored when have_digests is 0). */
void scan_end(struct scan *s, const char digests[DG_COUNT][DG_HEX_MAX], int have_digests);

#endif
