/*
 * util: the small things every module of custody shares.
 *
 * - struct cu_err: how errors travel as values. A failing function returns -1
 *   (or NULL) and fills the caller-owned struct cu_err with the errno value (0
 *   when the error is not a system error) and a message. There is no global
 *   error state, and nothing here exits the process.
 * - struct cu_buf: a growable byte buffer with a hard cap (like curl's dynbuf),
 *   so that no input can make memory grow without bound.
 * - Time stamps in RFC 3339 UTC with nanoseconds, UTF-8 validation, base64, hex.
 *
 * Owner: core. Everything here is pure (no I/O) except cu_xmalloc's abort on
 * out-of-memory, which is the one failure the tool does not try to survive, and
 * cu_write_new, the one way custody writes a small file of its own (sidecar, key, .pub).
 */
#ifndef CUSTODY_UTIL_H
#define CUSTODY_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define CU_ERR_MSG_MAX 512

struct cu_err {
    int errnum;                /* errno value, or 0 for a non-system error */
    char msg[CU_ERR_MSG_MAX];  /* human-readable, never empty after a failure */
};

/* Fill err (if not NULL) and return -1, so callers can write `return cu_err_set(...)`. */
int cu_err_set(struct cu_err *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Symbolic errno name ("ENOENT"); "E?" for unknown values. Never NULL. */
const char *cu_errno_name(int errnum);

/* Allocation that aborts on out-of-memory (the only failure we do not carry as a value). */
void *cu_xmalloc(size_t n);
void *cu_xcalloc(size_t n, size_t size);
void *cu_xrealloc(void *p, size_t n);
char *cu_xstrdup(const char *s);
char *cu_xstrndup(const char *s, size_t n);
char *cu_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Wipe memory that held secrets, in a way the compiler may not drop. */
void cu_wipe(void *p, size_t n);

/* A byte buffer that refuses to grow past cap. Always NUL-terminated after data. */
struct cu_buf {
    char *data;
    size_t len;
    size_t alloc;
    size_t cap; /* maximum len */
};
void cu_buf_init(struct cu_buf *b, size_t cap);
/* 0 on success; -1 (and nothing appended) when the cap would be exceeded. */
int cu_buf_append(struct cu_buf *b, const void *data, size_t n);
int cu_buf_printf(struct cu_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cu_buf_reset(struct cu_buf *b);
void cu_buf_free(struct cu_buf *b);

/* RFC 3339 UTC with nanoseconds: "2021-02-25T00:00:00.000000000Z". */
#define CU_TIME_MAX 48
void cu_time_format(const struct timespec *ts, char out[CU_TIME_MAX]);
/* Compact stamp for file names: "20210225T000000Z". */
void cu_time_stamp(time_t t, char out[20]);
/* Parse "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS[.frac]Z" or with +HH:MM offset. 0 ok, -1 bad. */
int cu_time_parse(const char *s, struct timespec *out);
struct timespec cu_time_now(void);

/* 1 if the n bytes are valid UTF-8 (no overlongs, no surrogates), else 0. */
int cu_utf8_valid(const char *s, size_t n);
/* Copy s into a new string, replacing each invalid UTF-8 byte with U+FFFD. */
char *cu_utf8_lossy(const char *s, size_t n);

/* Base64 (RFC 4648, with padding). Returns a new string. */
char *cu_base64_encode(const unsigned char *data, size_t n);
/* Decode; returns a new buffer (NUL-terminated beyond *outlen) or NULL when invalid. */
unsigned char *cu_base64_decode(const char *s, size_t *outlen);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void cu_hex(const unsigned char *data, size_t n, char *out);

/* Print n bytes of a name so that it cannot forge a line: \n, \t, \\ escaped, other control
 * bytes and (in a name that is not UTF-8) bytes >= 0x80 as \xHH. */
void cu_fput_escaped(FILE *f, const char *s, size_t n);

/* Create path (never an existing file, never through a symlink) holding text, fsync'ed; on
 * failure nothing is left at path. 0 ok, -1 with err. */
int cu_write_new(const char *path, const char *text, unsigned mode, struct cu_err *err);

/* Parse a size such as "4000M", "64K", "2G", "123" (binary units). 0 ok, -1 bad. */
int cu_size_parse(const char *s, uint64_t *out);

#endif
