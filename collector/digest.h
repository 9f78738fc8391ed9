/*
 * digest: the set of message digests computed over one stream of bytes.
 *
 * One struct dg_set holds an OpenSSL context per requested algorithm (SHA-256 always
 * available, SHA-1 and MD5 on request). The reader feeds every buffer it archives into
 * dg_set_update once, so all digests describe exactly the bytes stored (one read per file).
 * Contexts are reused from file to file: no allocation per file.
 *
 * Owner: reading.
 */
#ifndef CUSTODY_DIGEST_H
#define CUSTODY_DIGEST_H

#include <stddef.h>

#include "util.h"

enum dg_algo { DG_SHA256 = 0, DG_SHA1 = 1, DG_MD5 = 2, DG_COUNT = 3 };
#define DG_HEX_MAX 65

struct dg_set;

/* mask: bit (1 << DG_x) for each algorithm wanted. */
struct dg_set *dg_set_new(unsigned mask, struct cu_err *err);
void dg_set_free(struct dg_set *s);
int dg_set_begin(struct dg_set *s, struct cu_err *err);
int dg_set_update(struct dg_set *s, const void *data, size_t n);
/* Finish: hex[a] gets the lower-case hex digest of each requested algorithm, "" otherwise. */
int dg_set_end(struct dg_set *s, char hex[DG_COUNT][DG_HEX_MAX], struct cu_err *err);

const char *dg_algo_name(enum dg_algo a);
/* Parse "sha256,sha1,md5" into a mask (sha256 always included). 0 ok, -1 bad name. */
int dg_parse_list(const char *s, unsigned *mask, struct cu_err *err);

#endif
