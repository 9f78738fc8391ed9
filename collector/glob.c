/*
 * glob: see glob.h.
 *
 * Matching works at two levels, both with the linear "remember the last star" backtracking
 * of wildcard matching, so no pattern can make it exponential: within a component, '*'
 * against bytes; across components, a "**" component against whole components (every other
 * component pattern matches exactly one component). Both cost at most O(pattern * path).
 */
#include "glob.h"

#include <string.h>

#define MAX_TOKENS 256

struct span {
    const char *s;
    size_t n;
};

static int fold(int c, int flags)
{
    if ((flags & GLOB_CASEFOLD) && c >= 'A' && c <= 'Z')
        return c - 'A' + 'a';
    return c;
}

/* Match one bracket expression at p (after '['), against byte c. Returns the length of the
 * expression after '[' (to the closing ']'), or 0 when malformed; *hit says whether c is in. */
static size_t bracket(const char *p, size_t n, int c, int flags, int *hit)
{
    size_t i = 0;
    int neg = 0, in = 0;
    if (i < n && (p[i] == '!' || p[i] == '^')) {
        neg = 1;
        i++;
    }
    int first = 1;
    while (i < n && (p[i] != ']' || first)) {
        first = 0;
        int lo = (unsigned char)p[i];
        if (lo == '\\' && i + 1 < n)
            lo = (unsigned char)p[++i];
        i++;
        int hi = lo;
        if (i + 1 < n && p[i] == '-' && p[i + 1] != ']') {
            hi = (unsigned char)p[i + 1];
            if (hi == '\\' && i + 2 < n) {
                hi = (unsigned char)p[i + 2];
                i++;
            }
            i += 2;
        }
        int fc = fold(c, flags);
        if ((c >= lo && c <= hi) || (fc >= fold(lo, flags) && fc <= fold(hi, flags)))
            in = 1;
        if ((flags & GLOB_CASEFOLD) && c >= 'a' && c <= 'z' && c - 'a' + 'A' >= lo &&
            c - 'a' + 'A' <= hi)
            in = 1;
    }
    if (i >= n)
        return 0;
    *hit = in != neg;
    return i + 1;
}

/* One component pattern against one component (neither holds '/'). */
static int match_comp(const char *p, size_t pn, const char *s, size_t sn, int flags)
{
    size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
    while (si < sn) {
        if (pi < pn) {
            char pc = p[pi];
            if (pc == '*') {
                while (pi < pn && p[pi] == '*')
                    pi++;
                star_p = pi;
                star_s = si;
                continue;
            }
            if (pc == '?') {
                pi++;
                si++;
                continue;
            }
            if (pc == '[') {
                int hit = 0;
                size_t len = bracket(p + pi + 1, pn - pi - 1, (unsigned char)s[si], flags, &hit);
                if (len && hit) {
                    pi += 1 + len;
                    si++;
                    continue;
                }
                if (!len && s[si] == '[') { /* malformed: a literal '[' */
                    pi++;
                    si++;
                    continue;
                }
            } else {
                size_t step = 1;
                if (pc == '\\' && pi + 1 < pn) {
                    pc = p[pi + 1];
                    step = 2;
                }
                if (fold((unsigned char)pc, flags) == fold((unsigned char)s[si], flags)) {
                    pi += step;
                    si++;
                    continue;
                }
            }
        }
        if (star_p == (size_t)-1)
            return 0;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < pn && p[pi] == '*')
        pi++;
    return pi == pn;
}

/* Split an absolute path or pattern into components; trailing and leading '/' dropped.
 * Returns the count, or -1 when there are more than max. */
static int split(const char *s, size_t n, struct span *out, int max)
{
    int k = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && s[i] == '/')
            i++;
        if (i >= n)
            break;
        size_t start = i;
        while (i < n && s[i] != '/')
            i++;
        if (k >= max)
            return -1;
        out[k].s = s + start;
        out[k].n = i - start;
        k++;
    }
    return k;
}

static int is_globstar(const struct span *t)
{
    return t->n == 2 && t->s[0] == '*' && t->s[1] == '*';
}

int glob_match(const char *pattern, const char *path, size_t len, int flags)
{
    struct span pt[MAX_TOKENS];
    int np = split(pattern, strlen(pattern), pt, MAX_TOKENS);
    if (np < 0)
        return 0;
    /* Components of the path are produced on the fly, to allow any depth. */
    size_t pos = 0;
    int pi = 0;
    int star_p = -1;
    size_t star_pos = 0;
    for (;;) {
        while (pos < len && path[pos] == '/')
            pos++;
        if (pos >= len)
            break;
        size_t end = pos;
        while (end < len && path[end] != '/')
            end++;
        if (pi < np && is_globstar(&pt[pi])) {
            star_p = ++pi;
            star_pos = pos;
            continue;
        }
        if (pi < np && match_comp(pt[pi].s, pt[pi].n, path + pos, end - pos, flags)) {
            pi++;
            pos = end;
            continue;
        }
        if (star_p < 0)
            return 0;
        /* let the last ** take one more component */
        pi = star_p;
        pos = star_pos;
        while (pos < len && path[pos] == '/')
            pos++;
        while (pos < len && path[pos] != '/')
            pos++;
        star_pos = pos;
    }
    while (pi < np && is_globstar(&pt[pi]))
        pi++;
    return pi == np;
}

int glob_may_match_below(const char *pattern, const char *dir, size_t len, int flags)
{
    struct span pt[MAX_TOKENS];
    int np = split(pattern, strlen(pattern), pt, MAX_TOKENS);
    if (np < 0)
        return 1;
    unsigned char cur[MAX_TOKENS + 1], next[MAX_TOKENS + 1];
    memset(cur, 0, sizeof cur);
    cur[0] = 1;
    /* epsilon closure: a ** may match nothing */
    for (int i = 0; i < np; i++)
        if (cur[i] && is_globstar(&pt[i]))
            cur[i + 1] = 1;
    size_t pos = 0;
    for (;;) {
        while (pos < len && dir[pos] == '/')
            pos++;
        if (pos >= len)
            break;
        size_t end = pos;
        while (end < len && dir[end] != '/')
            end++;
        memset(next, 0, sizeof next);
        int any = 0;
        for (int i = 0; i < np; i++) {
            if (!cur[i])
                continue;
            if (is_globstar(&pt[i])) {
                next[i] = 1;
                any = 1;
            } else if (match_comp(pt[i].s, pt[i].n, dir + pos, end - pos, flags)) {
                next[i + 1] = 1;
                any = 1;
            }
        }
        if (!any)
            return 0;
        for (int i = 0; i < np; i++)
            if (next[i] && is_globstar(&pt[i]))
                next[i + 1] = 1;
        memcpy(cur, next, sizeof cur);
        pos = end;
    }
    for (int i = 0; i < np; i++)
        if (cur[i])
            return 1; /* tokens remain to match something below dir */
    return 0;
}

static int has_special(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '*' || s[i] == '?' || s[i] == '[' || s[i] == '\\')
            return 1;
    return 0;
}

size_t glob_literal_prefix(const char *pattern, char *out, size_t outsz)
{
    struct span pt[MAX_TOKENS];
    int np = split(pattern, strlen(pattern), pt, MAX_TOKENS);
    size_t o = 0;
    if (outsz == 0)
        return 0;
    for (int i = 0; i < np && !has_special(pt[i].s, pt[i].n); i++) {
        if (o + 1 + pt[i].n + 1 > outsz)
            break;
        out[o++] = '/';
        memcpy(out + o, pt[i].s, pt[i].n);
        o += pt[i].n;
    }
    if (o == 0 && outsz > 1)
        out[o++] = '/';
    out[o] = '\0';
    return o;
}

int glob_validate(const char *pattern, struct cu_err *err)
{
    size_t n = strlen(pattern);
    if (n == 0 || pattern[0] != '/')
        return cu_err_set(err, 0, "'%s': a pattern must be an absolute path inside the root "
                                  "(start with '/')", pattern);
    for (size_t i = 0; i < n; i++) {
        if (pattern[i] == '\\') {
            if (i + 1 >= n)
                return cu_err_set(err, 0, "'%s': trailing backslash", pattern);
            i++;
        } else if (pattern[i] == '[') {
            size_t j = i + 1;
            if (j < n && (pattern[j] == '!' || pattern[j] == '^'))
                j++;
            if (j < n && pattern[j] == ']')
                j++;
            while (j < n && pattern[j] != ']' && pattern[j] != '/')
                j++;
            if (j >= n || pattern[j] != ']')
                return cu_err_set(err, 0, "'%s': unclosed '[' at offset %zu", pattern, i);
            i = j;
        } else if (pattern[i] == '/' && i + 1 < n && pattern[i + 1] == '/') {
            return cu_err_set(err, 0, "'%s': empty path component ('//')", pattern);
        }
    }
    struct span pt[MAX_TOKENS];
    if (split(pattern, n, pt, MAX_TOKENS) < 0)
        return cu_err_set(err, 0, "'%s': more than %d components", pattern, MAX_TOKENS);
    return 0;
}
