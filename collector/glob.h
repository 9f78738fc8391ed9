// glob: path patterns for selection rules. (Line comments here, since the examples
// hold the two characters that would end a block comment.)
//
// Patterns are absolute paths inside the collected root, matched byte-wise against a path
// (which may hold any bytes but NUL, valid UTF-8 or not):
//   *        any run of bytes within one path component (never '/')
//   ?        exactly one byte that is not '/'
//   [abc] [a-z] [!a-z]   one byte from (or not from) a set; never '/'
//   \x       the byte x literally
//   **       as a whole component: zero or more whole components, so "/var/log/**" matches
//            "/var/log" and everything below it, and "/home/**/.ssh/authorized_keys" matches
//            "/home/.ssh/authorized_keys" and "/home/a/b/.ssh/authorized_keys".
//            "**" inside a component ("a**b") acts as "*".
// A leading dot is not special. Repeated and trailing slashes are ignored in paths. With
// GLOB_CASEFOLD, ASCII letters match either case (NTFS volumes); other bytes match exactly.
//
// Owner: selection. Pure functions, no allocation; matching is linear-backtracking, at most
// O(pattern x path) per call, so no pattern can make it blow up.
#ifndef CUSTODY_GLOB_H
#define CUSTODY_GLOB_H

#include <stddef.h>

#include "util.h"

#define GLOB_CASEFOLD 1

/* 1 if path (len bytes) matches pattern, else 0. */
int glob_match(const char *pattern, const char *path, size_t len, int flags);

/* 1 if some path strictly below directory dir (dir + "/" + something) could match the
 * pattern, so the walker must descend into dir; 0 if nothing below dir can match. dir is
 * "/" for the root. Conservative: may answer 1 where no match is possible, never 0 where
 * one is. */
int glob_may_match_below(const char *pattern, const char *dir, size_t len, int flags);

// The pattern's literal leading part, up to the first component with a wildcard:
// "/var/log" for "/var/log/x*.log", "/etc/passwd" for "/etc/passwd", "/" for "/**".
// Writes at most outsz bytes (NUL-terminated); returns the length.
size_t glob_literal_prefix(const char *pattern, char *out, size_t outsz);

/* 0 if the pattern is well-formed (absolute, balanced brackets, no trailing backslash,
 * no empty component other than a trailing one), else -1 with err saying why. */
int glob_validate(const char *pattern, struct cu_err *err);

#endif
