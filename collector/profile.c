/*
 * profile: see profile.h. Parsing with jansson (strict: unknown keys and duplicate keys are
 * errors, so a typo in a rule cannot silently collect nothing), pattern expansion, and the
 * per-file selection questions asked by the walker.
 */
#include "profile.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "glob.h"

struct embedded_profile {
    const char *name;
    const char *text;
    size_t len;
};
extern const struct embedded_profile custody_embedded_profiles[];

#define MAX_EXPANDED 100000

/* ---- variable expansion ---------------------------------------------------------------- */

struct strvec {
    char **v;
    size_t n;
};

static void sv_push(struct strvec *sv, char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (!strcmp(sv->v[i], s)) { /* duplicates dropped */
            free(s);
            return;
        }
    sv->v = cu_xrealloc(sv->v, (sv->n + 1) * sizeof *sv->v);
    sv->v[sv->n++] = s;
}

static void sv_free(struct strvec *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = 0;
}

/* Escape glob specials in a literal (a home directory). */
static char *glob_escape(const char *s)
{
    struct cu_buf b;
    cu_buf_init(&b, 1u << 20);
    cu_buf_append(&b, "", 0);
    for (; *s; s++) {
        if (strchr("*?[]\\", *s))
            cu_buf_append(&b, "\\", 1);
        cu_buf_append(&b, s, 1);
    }
    return b.data;
}

static const char *var_value(const char *name, size_t n, const struct prof_env *env,
                             json_t *vars)
{
    for (size_t i = 0; env && i < env->n_set; i++) {
        const char *eq = strchr(env->set[i], '=');
        if (eq && (size_t)(eq - env->set[i]) == n && !strncmp(env->set[i], name, n))
            return eq + 1;
    }
    if (vars) {
        char key[256];
        if (n < sizeof key) {
            memcpy(key, name, n);
            key[n] = '\0';
            json_t *v = json_object_get(vars, key);
            if (json_is_string(v))
                return json_string_value(v);
        }
    }
    return NULL;
}

/* Expand ${...} in pat into out (several patterns when ${home} appears). */
static int expand(const char *pat, const struct prof_env *env, json_t *vars, struct strvec *out,
                  struct cu_err *err)
{
    const char *h = strstr(pat, "${home}");
    if (h) {
        for (size_t i = 0; env && i < env->n_homes; i++) {
            char *home = cu_xstrdup(env->homes[i]);
            size_t hl = strlen(home);
            while (hl > 1 && home[hl - 1] == '/')
                home[--hl] = '\0';
            if (hl <= 1 || home[0] != '/') {
                free(home);
                continue;
            }
            char *esc = glob_escape(home);
            char *sub = cu_xasprintf("%.*s%s%s", (int)(h - pat), pat, esc, h + 7);
            free(esc);
            free(home);
            int r = expand(sub, env, vars, out, err);
            free(sub);
            if (r != 0)
                return -1;
            if (out->n > MAX_EXPANDED)
                return cu_err_set(err, 0, "too many expanded patterns");
        }
        return 0;
    }
    const char *d = strstr(pat, "${");
    if (!d) {
        sv_push(out, cu_xstrdup(pat));
        return 0;
    }
    const char *end = strchr(d, '}');
    if (!end)
        return cu_err_set(err, 0, "'%s': unterminated ${", pat);
    const char *val = var_value(d + 2, (size_t)(end - d - 2), env, vars);
    if (!val)
        return cu_err_set(err, 0, "'%s': undefined variable '%.*s'", pat, (int)(end - d - 2),
                          d + 2);
    char *sub = cu_xasprintf("%.*s%s%s", (int)(d - pat), pat, val, end + 1);
    int r = expand(sub, env, vars, out, err);
    free(sub);
    return r;
}

/* ---- parsing ----------------------------------------------------------------------------- */

static const char *const type_names[] = {"file", "dir", "symlink", "fifo", "socket", "chardev",
                                         "blockdev"};

static int check_keys(json_t *o, const char *const *allowed, const char *where, struct cu_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        int ok = 0;
        for (size_t i = 0; allowed[i]; i++)
            if (!strcmp(key, allowed[i]))
                ok = 1;
        if (!ok)
            return cu_err_set(err, 0, "%sunknown key '%s'", where, key);
    }
    return 0;
}

static int patterns(json_t *arr, const char *field, const char *where, const struct prof_env *env,
                    json_t *vars, char ***out, size_t *n, struct cu_err *err)
{
    *out = NULL;
    *n = 0;
    if (!arr)
        return 0;
    if (!json_is_array(arr))
        return cu_err_set(err, 0, "%s%s: must be an array of patterns", where, field);
    struct strvec sv = {0};
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v)) {
            sv_free(&sv);
            return cu_err_set(err, 0, "%s%s[%zu]: must be a string", where, field, i);
        }
        struct cu_err e2;
        size_t before = sv.n;
        if (expand(json_string_value(v), env, vars, &sv, &e2) != 0) {
            sv_free(&sv);
            return cu_err_set(err, 0, "%s%s[%zu]: %s", where, field, i, e2.msg);
        }
        for (size_t k = before; k < sv.n; k++)
            if (glob_validate(sv.v[k], &e2) != 0) {
                sv_free(&sv);
                return cu_err_set(err, 0, "%s%s[%zu]: %s", where, field, i, e2.msg);
            }
    }
    *out = sv.v;
    *n = sv.n;
    return 0;
}

/* "time": {"field": ..., "after": ..., "before": ...}; times may hold ${variables}. */
static int parse_time(json_t *t, const char *where, const struct prof_env *env, json_t *vars,
                      struct prof_rule *r, struct cu_err *err)
{
    static const char *const keys[] = {"field", "after", "before", NULL};
    static const char *const fields[] = {"mtime", "ctime", "atime", "btime", "created_or_modified"};
    if (!t)
        return 0;
    char w2[320];
    snprintf(w2, sizeof w2, "%stime: ", where);
    if (!json_is_object(t))
        return cu_err_set(err, 0, "%smust be an object", w2);
    if (check_keys(t, keys, w2, err) != 0)
        return -1;
    const char *f = json_string_value(json_object_get(t, "field"));
    for (int i = 0; f && i < 5; i++)
        if (!strcmp(f, fields[i]))
            r->time_field = (enum prof_time)(PROF_TIME_MTIME + i);
    if (r->time_field == PROF_TIME_NONE)
        return cu_err_set(err, 0, "%sfield: one of mtime, ctime, atime, btime, "
                                  "created_or_modified", w2);
    static const char *const ends[] = {"after", "before"};
    for (int b = 0; b < 2; b++) {
        json_t *v = json_object_get(t, ends[b]);
        if (!v)
            continue;
        struct strvec sv = {0};
        struct cu_err e2;
        if (!json_is_string(v))
            return cu_err_set(err, 0, "%s%s: must be a time string", w2, ends[b]);
        if (expand(json_string_value(v), env, vars, &sv, &e2) != 0) {
            sv_free(&sv);
            return cu_err_set(err, 0, "%s%s: %s", w2, ends[b], e2.msg);
        }
        struct timespec ts;
        if (sv.n == 1 && !sv.v[0][0]) { /* an empty variable: this end is not set */
            sv_free(&sv);
            continue;
        }
        int bad = sv.n != 1 || cu_time_parse(sv.v[0], &ts) != 0;
        if (bad) {
            cu_err_set(err, 0, "%s%s: '%s' is not a time (YYYY-MM-DD or RFC 3339)", w2, ends[b],
                       sv.n ? sv.v[0] : "");
            sv_free(&sv);
            return -1;
        }
        sv_free(&sv);
        if (b == 0) {
            r->have_after = 1;
            r->after = ts;
        } else {
            r->have_before = 1;
            r->before = ts;
        }
    }
    if (!json_object_get(t, "after") && !json_object_get(t, "before"))
        return cu_err_set(err, 0, "%sgive \"after\", \"before\" or both", w2);
    if (!r->have_after && !r->have_before)
        r->off = 1; /* every end was an empty variable: the rule waits for --set */
    return 0;
}


/* ---- content tests ------------------------------------------------------------------------ */

static unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void add_sig(struct prof_content *c, const unsigned char *b, size_t n, size_t str, int utf16)
{
    size_t len = utf16 ? 2 * n : n;
    unsigned char *p = cu_xmalloc(len ? len : 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char v = c->nocase ? fold(b[i]) : b[i];
        if (utf16) {
            p[2 * i] = v;
            p[2 * i + 1] = 0;
        } else {
            p[i] = v;
        }
    }
    c->sig = cu_xrealloc(c->sig, (c->n_sig + 1) * sizeof *c->sig);
    c->sig[c->n_sig++] = (struct prof_sig){p, len, str};
}

static void content_free(struct prof_content *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_sig; i++)
        free(c->sig[i].pat);
    for (size_t i = 0; i < c->n_str; i++)
        free(c->label[i]);
    free(c->sig);
    free(c->label);
    free(c);
}

/* "content": {"strings": [...], "hex": [...], "match": "any"|"all", "nocase": bool,
 *             "utf16le": bool, "within_bytes": N} */
static int parse_content(json_t *o, const char *where, struct prof_rule *r, struct cu_err *err)
{
    static const char *const keys[] = {"strings", "hex", "match", "nocase", "utf16le",
                                       "within_bytes", NULL};
    char w[340];
    snprintf(w, sizeof w, "%scontent: ", where);
    if (!json_is_object(o))
        return cu_err_set(err, 0, "%smust be an object", w);
    if (check_keys(o, keys, w, err) != 0)
        return -1;
    struct prof_content *c = cu_xcalloc(1, sizeof *c);
    r->content = c;
    json_t *v;
    if ((v = json_object_get(o, "nocase"))) {
        if (!json_is_boolean(v))
            return cu_err_set(err, 0, "%snocase: must be true or false", w);
        c->nocase = json_is_true(v);
    }
    int utf16 = 0;
    if ((v = json_object_get(o, "utf16le"))) {
        if (!json_is_boolean(v))
            return cu_err_set(err, 0, "%sutf16le: must be true or false", w);
        utf16 = json_is_true(v);
    }
    if ((v = json_object_get(o, "match"))) {
        const char *m = json_string_value(v);
        if (!m || (strcmp(m, "any") && strcmp(m, "all")))
            return cu_err_set(err, 0, "%smatch: must be \"any\" or \"all\"", w);
        c->all = !strcmp(m, "all");
    }
    if ((v = json_object_get(o, "within_bytes"))) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return cu_err_set(err, 0, "%swithin_bytes: must be a positive integer", w);
        c->within = (uint64_t)json_integer_value(v);
    }
    static const char *const kinds[] = {"strings", "hex"};
    for (int k = 0; k < 2; k++) {
        json_t *a = json_object_get(o, kinds[k]);
        if (!a)
            continue;
        if (!json_is_array(a))
            return cu_err_set(err, 0, "%s%s: must be an array of strings", w, kinds[k]);
        size_t i;
        json_array_foreach(a, i, v) {
            if (!json_is_string(v) || !json_string_length(v))
                return cu_err_set(err, 0, "%s%s[%zu]: must be a non-empty string", w, kinds[k], i);
            const unsigned char *s = (const unsigned char *)json_string_value(v);
            size_t n = json_string_length(v);
            unsigned char *bytes = cu_xmalloc(n + 1);
            size_t bn = 0;
            if (k == 0) {
                memcpy(bytes, s, n);
                bn = n;
            } else {
                for (size_t j = 0; j < n;) {
                    if (s[j] == ' ') {
                        j++;
                        continue;
                    }
                    int hi = hexval(s[j]), lo = j + 1 < n ? hexval(s[j + 1]) : -1;
                    if (hi < 0 || lo < 0) {
                        free(bytes);
                        return cu_err_set(err, 0, "%shex[%zu]: not pairs of hex digits", w, i);
                    }
                    bytes[bn++] = (unsigned char)(hi << 4 | lo);
                    j += 2;
                }
                if (!bn) {
                    free(bytes);
                    return cu_err_set(err, 0, "%shex[%zu]: empty", w, i);
                }
            }
            if (bn > 4096) {
                free(bytes);
                return cu_err_set(err, 0, "%s%s[%zu]: longer than 4096 bytes", w, kinds[k], i);
            }
            size_t str = c->n_str++;
            c->label = cu_xrealloc(c->label, c->n_str * sizeof *c->label);
            c->label[str] = k == 0 ? cu_xstrdup((const char *)s) : cu_xasprintf("hex:%s", (const char *)s);
            add_sig(c, bytes, bn, str, 0);
            if (utf16)
                add_sig(c, bytes, bn, str, 1);
            free(bytes);
        }
    }
    if (!c->n_str)
        return cu_err_set(err, 0, "%sgive at least one of \"strings\" or \"hex\"", w);
    if (c->n_str > 64)
        return cu_err_set(err, 0, "%sat most 64 strings", w);
    return 0;
}

static void lines_free(struct prof_lines *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n_match; i++)
        regfree(&l->match[i]);
    for (size_t i = 0; i < l->n_not; i++)
        regfree(&l->not_match[i]);
    free(l->match);
    free(l->not_match);
    free(l->contains);
    free(l);
}

static int compile_list(json_t *a, const char *field, const char *w, int cflags, regex_t **out,
                        size_t *n, struct cu_err *err)
{
    if (!a)
        return 0;
    if (!json_is_array(a))
        return cu_err_set(err, 0, "%s%s: must be an array of regular expressions", w, field);
    *out = cu_xcalloc(json_array_size(a) + 1, sizeof **out);
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        if (!json_is_string(v))
            return cu_err_set(err, 0, "%s%s[%zu]: must be a string", w, field, i);
        int rc = regcomp(&(*out)[i], json_string_value(v), cflags);
        if (rc != 0) {
            char msg[200];
            regerror(rc, &(*out)[i], msg, sizeof msg);
            return cu_err_set(err, 0, "%s%s[%zu]: bad regular expression '%s': %s", w, field, i,
                              json_string_value(v), msg);
        }
        *n = i + 1;
    }
    return 0;
}

/* "lines": {"contains": "...", "match": [ERE...], "not_match": [ERE...], "nocase": bool,
 *           "max_hits": N} */
static int parse_lines(json_t *o, const char *where, struct prof_rule *r, struct cu_err *err)
{
    static const char *const keys[] = {"contains", "match", "not_match", "nocase", "max_hits",
                                       NULL};
    char w[340];
    snprintf(w, sizeof w, "%slines: ", where);
    if (!json_is_object(o))
        return cu_err_set(err, 0, "%smust be an object", w);
    if (check_keys(o, keys, w, err) != 0)
        return -1;
    struct prof_lines *l = cu_xcalloc(1, sizeof *l);
    r->lines = l;
    l->max_hits = 100;
    json_t *v;
    if ((v = json_object_get(o, "nocase"))) {
        if (!json_is_boolean(v))
            return cu_err_set(err, 0, "%snocase: must be true or false", w);
        l->nocase = json_is_true(v);
    }
    if ((v = json_object_get(o, "contains"))) {
        if (!json_is_string(v) || !json_string_length(v))
            return cu_err_set(err, 0, "%scontains: must be a non-empty string", w);
        l->contains = cu_xstrdup(json_string_value(v));
        l->contains_len = json_string_length(v);
        if (l->nocase)
            for (size_t i = 0; i < l->contains_len; i++)
                l->contains[i] = (char)fold((unsigned char)l->contains[i]);
    }
    if ((v = json_object_get(o, "max_hits"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 100000)
            return cu_err_set(err, 0, "%smax_hits: must be an integer from 1 to 100000", w);
        l->max_hits = (unsigned)json_integer_value(v);
    }
    int cflags = REG_EXTENDED | REG_NOSUB | (l->nocase ? REG_ICASE : 0);
    if (compile_list(json_object_get(o, "match"), "match", w, cflags, &l->match, &l->n_match,
                     err) != 0 ||
        compile_list(json_object_get(o, "not_match"), "not_match", w, cflags, &l->not_match,
                     &l->n_not, err) != 0)
        return -1;
    if (!l->n_match && !l->contains)
        return cu_err_set(err, 0, "%sgive \"match\" (one or more expressions) or \"contains\"", w);
    return 0;
}

static int hash_cmp32(const void *a, const void *b) { return memcmp(a, b, 32); }
static int hash_cmp20(const void *a, const void *b) { return memcmp(a, b, 20); }
static int hash_cmp16(const void *a, const void *b) { return memcmp(a, b, 16); }

static const size_t dg_len[DG_COUNT] = {32, 20, 16};

/* Add one hex digest; its length says the algorithm. 0 ok, -1 not a digest. */
static int hash_add(struct prof_hashes *h, const char *s, size_t n)
{
    int a = n == 64 ? DG_SHA256 : n == 40 ? DG_SHA1 : n == 32 ? DG_MD5 : -1;
    if (a < 0)
        return -1;
    unsigned char bin[32];
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        bin[i] = (unsigned char)(hi << 4 | lo);
    }
    if (h->n[a] >= 10000000)
        return -1;
    h->v[a] = cu_xrealloc(h->v[a], (h->n[a] + 1) * dg_len[a]);
    memcpy(h->v[a] + h->n[a] * dg_len[a], bin, dg_len[a]);
    h->n[a]++;
    return 0;
}

static void hashes_free(struct prof_hashes *h)
{
    if (!h)
        return;
    for (int a = 0; a < DG_COUNT; a++)
        free(h->v[a]);
    free(h->list_name);
    free(h);
}

/* A hash-list file: one digest per line (the first word: sha256sum output works), '#'
 * comments and blank lines ignored. */
static int hash_file(struct prof_hashes *h, const char *path, const char *w, struct cu_err *err)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return cu_err_set(err, 0, "%shash list %s: cannot open: %s", w, path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    long ln = 0;
    int rc = 0;
    while (getline(&line, &cap, f) > 0) { /* any length: sha256sum lines with long names */
        ln++;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || !*p)
            continue;
        size_t n = 0;
        while (isxdigit((unsigned char)p[n]))
            n++;
        if ((p[n] && !isspace((unsigned char)p[n])) || hash_add(h, p, n) != 0) {
            rc = cu_err_set(err, 0, "%shash list %s:%ld: not a SHA-256, SHA-1 or MD5 hex digest",
                            w, path, ln);
            break;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

/* "hashes": {"sha256": [...], "sha1": [...], "md5": [...], "files": ["list.txt"]} */
static int parse_hashes(json_t *o, const char *where, const char *dir, struct prof_rule *r,
                        unsigned *mask, struct cu_err *err)
{
    static const char *const keys[] = {"sha256", "sha1", "md5", "files", NULL};
    char w[340];
    snprintf(w, sizeof w, "%shashes: ", where);
    if (!json_is_object(o))
        return cu_err_set(err, 0, "%smust be an object", w);
    if (check_keys(o, keys, w, err) != 0)
        return -1;
    struct prof_hashes *h = cu_xcalloc(1, sizeof *h);
    r->hashes = h;
    struct cu_buf names;
    cu_buf_init(&names, 4096);
    cu_buf_append(&names, "", 0);
    for (int k = 0; k < 4; k++) {
        json_t *a = json_object_get(o, keys[k]), *v;
        if (!a)
            continue;
        size_t i;
        if (!json_is_array(a)) {
            cu_buf_free(&names);
            return cu_err_set(err, 0, "%s%s: must be an array of strings", w, keys[k]);
        }
        json_array_foreach(a, i, v) {
            const char *s = json_string_value(v);
            if (!s) {
                cu_buf_free(&names);
                return cu_err_set(err, 0, "%s%s[%zu]: must be a string", w, keys[k], i);
            }
            if (k < 3) {
                size_t want = 2 * dg_len[k];
                if (strlen(s) != want || hash_add(h, s, want) != 0) {
                    cu_buf_free(&names);
                    return cu_err_set(err, 0, "%s%s[%zu]: not a %s hex digest", w, keys[k], i,
                                      keys[k]);
                }
                continue;
            }
            char *path = s[0] == '/' || !dir ? cu_xstrdup(s) : cu_xasprintf("%s/%s", dir, s);
            int rc = hash_file(h, path, w, err);
            free(path);
            if (rc != 0) {
                cu_buf_free(&names);
                return -1;
            }
            cu_buf_printf(&names, "%s%s", names.len ? ", " : "", s);
        }
    }
    int (*cmp[DG_COUNT])(const void *, const void *) = {hash_cmp32, hash_cmp20, hash_cmp16};
    size_t total = 0;
    for (int a = 0; a < DG_COUNT; a++) {
        if (h->n[a]) {
            qsort(h->v[a], h->n[a], dg_len[a], cmp[a]);
            *mask |= 1u << a;
        }
        total += h->n[a];
    }
    h->list_name = names.len ? cu_xstrdup(names.data) : cu_xstrdup("the rule's list");
    cu_buf_free(&names);
    if (!total)
        return cu_err_set(err, 0, "%sno digests given", w);
    return 0;
}

int prof_hash_known(const struct prof_hashes *h, enum dg_algo a, const char *hex)
{
    if (!h || !h->n[a] || strlen(hex) != 2 * dg_len[a])
        return 0;
    unsigned char bin[32];
    for (size_t i = 0; i < dg_len[a]; i++)
        bin[i] = (unsigned char)(hexval((unsigned char)hex[2 * i]) << 4 |
                                 hexval((unsigned char)hex[2 * i + 1]));
    int (*cmp[DG_COUNT])(const void *, const void *) = {hash_cmp32, hash_cmp20, hash_cmp16};
    return bsearch(bin, h->v[a], h->n[a], dg_len[a], cmp[a]) != NULL;
}

static int parse_rule(json_t *o, size_t idx, const struct prof_env *env, json_t *vars,
                      const char *dir, int casefold, unsigned *mask, struct prof_rule *r,
                      struct cu_err *err)
{
    static const char *const keys[] = {"id", "description", "include", "exclude", "types",
                                       "perm_any", "max_file_bytes", "max_total_bytes",
                                       "size_min", "size_max", "time", "action", "finding",
                                       "case_insensitive", "content", "lines", "hashes", NULL};
    char where[300];
    memset(r, 0, sizeof *r);
    if (!json_is_object(o))
        return cu_err_set(err, 0, "rules[%zu]: must be an object", idx);
    json_t *id = json_object_get(o, "id");
    if (!json_is_string(id) || !json_string_length(id))
        return cu_err_set(err, 0, "rules[%zu]: 'id' is required (a non-empty string)", idx);
    r->id = cu_xstrdup(json_string_value(id));
    snprintf(where, sizeof where, "rule '%.200s': ", r->id);
    if (check_keys(o, keys, where, err) != 0)
        return -1;
    json_t *d = json_object_get(o, "description");
    if (d && !json_is_string(d))
        return cu_err_set(err, 0, "%sdescription: must be a string", where);
    r->description = cu_xstrdup(d ? json_string_value(d) : "");
    r->casefold = casefold;
    json_t *ci = json_object_get(o, "case_insensitive");
    if (ci) {
        if (!json_is_boolean(ci))
            return cu_err_set(err, 0, "%scase_insensitive: must be true or false", where);
        r->casefold = json_is_true(ci);
    }
    if (patterns(json_object_get(o, "include"), "include", where, env, vars, &r->include,
                 &r->n_include, err) != 0 ||
        patterns(json_object_get(o, "exclude"), "exclude", where, env, vars, &r->exclude,
                 &r->n_exclude, err) != 0)
        return -1;
    json_t *inc = json_object_get(o, "include");
    if (!inc || !json_array_size(inc))
        return cu_err_set(err, 0, "%sinclude: at least one pattern is required", where);
    json_t *t = json_object_get(o, "types");
    r->types = PROF_T_ALL_BUT_DIR;
    if (t) {
        if (!json_is_array(t) || !json_array_size(t))
            return cu_err_set(err, 0, "%stypes: must be a non-empty array", where);
        r->types = 0;
        size_t i;
        json_t *v;
        json_array_foreach(t, i, v) {
            size_t k;
            for (k = 0; k < sizeof type_names / sizeof type_names[0]; k++)
                if (json_is_string(v) && !strcmp(json_string_value(v), type_names[k]))
                    break;
            if (k == sizeof type_names / sizeof type_names[0])
                return cu_err_set(err, 0, "%stypes[%zu]: unknown type (file, dir, symlink, "
                                          "fifo, socket, chardev, blockdev)", where, i);
            r->types |= 1u << k;
        }
    }
    json_t *pa = json_object_get(o, "perm_any");
    if (pa) {
        char *end = NULL;
        unsigned long v = json_is_string(pa) ? strtoul(json_string_value(pa), &end, 8) : 0;
        if (!json_is_string(pa) || !end || *end || v == 0 || v > 07777)
            return cu_err_set(err, 0, "%sperm_any: must be an octal string such as \"0111\"",
                              where);
        r->perm_any = (unsigned)v;
    }
    json_t *mx = json_object_get(o, "max_file_bytes");
    if (mx) {
        if (!json_is_integer(mx) || json_integer_value(mx) < 0)
            return cu_err_set(err, 0, "%smax_file_bytes: must be a non-negative integer", where);
        r->max_file_bytes = (uint64_t)json_integer_value(mx);
    }
    json_t *mt = json_object_get(o, "max_total_bytes");
    if (mt) {
        if (!json_is_integer(mt) || json_integer_value(mt) <= 0)
            return cu_err_set(err, 0, "%smax_total_bytes: must be a positive integer", where);
        r->max_total_bytes = (uint64_t)json_integer_value(mt);
    }
    static const char *const bounds[] = {"size_min", "size_max"};
    for (int b = 0; b < 2; b++) {
        json_t *v = json_object_get(o, bounds[b]);
        if (!v)
            continue;
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return cu_err_set(err, 0, "%s%s: must be a non-negative integer", where, bounds[b]);
        if (b == 0) {
            r->have_size_min = 1;
            r->size_min = (uint64_t)json_integer_value(v);
        } else {
            r->have_size_max = 1;
            r->size_max = (uint64_t)json_integer_value(v);
        }
    }
    if (parse_time(json_object_get(o, "time"), where, env, vars, r, err) != 0)
        return -1;
    json_t *ac = json_object_get(o, "action");
    r->action = PROF_ACTION_COLLECT;
    if (ac) {
        if (json_is_string(ac) && !strcmp(json_string_value(ac), "collect"))
            r->action = PROF_ACTION_COLLECT;
        else if (json_is_string(ac) && !strcmp(json_string_value(ac), "metadata"))
            r->action = PROF_ACTION_METADATA;
        else if (json_is_string(ac) && !strcmp(json_string_value(ac), "flag"))
            r->action = PROF_ACTION_FLAG;
        else
            return cu_err_set(err, 0, "%saction: must be \"collect\", \"metadata\" or \"flag\"",
                              where);
    }
    json_t *fi = json_object_get(o, "finding");
    if (fi && !json_is_boolean(fi))
        return cu_err_set(err, 0, "%sfinding: must be true or false", where);
    r->finding = r->action == PROF_ACTION_FLAG || (fi && json_is_true(fi));
    json_t *v;
    if ((v = json_object_get(o, "content")) && parse_content(v, where, r, err) != 0)
        return -1;
    if ((v = json_object_get(o, "lines")) && parse_lines(v, where, r, err) != 0)
        return -1;
    if ((v = json_object_get(o, "hashes")) && parse_hashes(v, where, dir, r, mask, err) != 0)
        return -1;
    if (PROF_RULE_TESTS(r)) {
        if (r->action == PROF_ACTION_METADATA)
            return cu_err_set(err, 0, "%scontent, lines and hashes need the content read: use "
                                      "action \"flag\" or \"collect\"", where);
        r->finding = 1; /* a test that matches is a finding */
        if (!(r->types & PROF_T_FILE))
            return cu_err_set(err, 0, "%scontent, lines and hashes apply to regular files: "
                                      "types must include \"file\"", where);
    }
    return 0;
}

static void rule_free(struct prof_rule *r)
{
    free(r->id);
    free(r->description);
    for (size_t i = 0; i < r->n_include; i++)
        free(r->include[i]);
    for (size_t i = 0; i < r->n_exclude; i++)
        free(r->exclude[i]);
    free(r->include);
    free(r->exclude);
    free(r->inc_pre);
    free(r->exc_pre);
    content_free(r->content);
    lines_free(r->lines);
    hashes_free(r->hashes);
}

struct prof_profile *prof_new_empty(const char *name)
{
    struct prof_profile *p = cu_xcalloc(1, sizeof *p);
    p->name = cu_xstrdup(name);
    p->description = cu_xstrdup("");
    return p;
}

void prof_free(struct prof_profile *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_rules; i++)
        rule_free(&p->rules[i]);
    free(p->rules);
    for (size_t i = 0; i < p->n_exclude; i++)
        free(p->exclude[i]);
    free(p->exclude);
    free(p->exc_fold);
    free(p->exc_pre);
    for (size_t i = 0; i < p->n_included; i++)
        free(p->included[i]);
    free(p->included);
    free(p->name);
    free(p->description);
    free(p);
}

#define PROF_INCLUDE_DEPTH 8

static int load(const char *source, const char *dir, const char *json, size_t len,
                const struct prof_env *env, int depth, struct prof_profile **out,
                struct cu_err *err);
/* The sources being loaded, outermost first: an include of one of them is a cycle. */
static const char *load_chain[PROF_INCLUDE_DEPTH + 2];
static int load_path(const char *path, const struct prof_env *env, int depth,
                     struct prof_profile **out, struct cu_err *err);

/* Load the profile named by an "includes" item: an embedded name, or a file (relative to the
 * including profile's directory). The including profile's variables are passed down as
 * overrides after --set, so its defaults win over the included profile's. */
static int load_include(const char *name, const char *dir, const struct prof_env *env,
                        json_t *vars, int depth, struct prof_profile **out, struct cu_err *err)
{
    struct prof_env e2 = {0};
    if (env)
        e2 = *env;
    size_t nv = vars ? json_object_size(vars) : 0;
    const char **set = cu_xcalloc(e2.n_set + nv + 1, sizeof *set);
    char **owned = cu_xcalloc(nv + 1, sizeof *owned);
    size_t n = 0, no = 0;
    for (size_t i = 0; i < e2.n_set; i++)
        set[n++] = e2.set[i];
    const char *k;
    json_t *v;
    if (vars)
        json_object_foreach(vars, k, v) set[n++] = owned[no++] =
            cu_xasprintf("%s=%s", k, json_string_value(v));
    e2.set = set;
    e2.n_set = n;
    size_t tl;
    const char *text = strchr(name, '/') ? NULL : prof_embedded_text(name, &tl);
    char *path = text ? cu_xasprintf("embedded:%s", name)
               : name[0] == '/' || !dir ? cu_xstrdup(name) : cu_xasprintf("%s/%s", dir, name);
    char *real = text ? NULL : realpath(path, NULL);
    int cycle = 0;
    for (int i = 0; i < depth && i < PROF_INCLUDE_DEPTH + 2; i++)
        if (load_chain[i] && (!strcmp(load_chain[i], path) || (real && !strcmp(load_chain[i], real))))
            cycle = 1;
    free(real);
    int rc = cycle ? cu_err_set(err, 0, "include cycle: '%s' includes itself", path)
           : text  ? load(path, NULL, text, tl, &e2, depth, out, err)
                   : load_path(path, &e2, depth, out, err);
    free(path);
    for (size_t i = 0; i < no; i++)
        free(owned[i]);
    free(owned);
    free(set);
    return rc;
}

/* Move the included profile's rules, excludes and names into p. */
static int merge(struct prof_profile *p, struct prof_profile *c, struct cu_err *err)
{
    for (size_t i = 0; i < c->n_rules; i++)
        for (size_t k = 0; k < p->n_rules; k++)
            if (!strcmp(p->rules[k].id, c->rules[i].id))
                return cu_err_set(err, 0, "rule '%s' is defined twice (by '%s' and an earlier "
                                          "profile)", c->rules[i].id, c->name);
    p->rules = cu_xrealloc(p->rules, (p->n_rules + c->n_rules + 1) * sizeof *p->rules);
    memcpy(p->rules + p->n_rules, c->rules, c->n_rules * sizeof *c->rules);
    p->n_rules += c->n_rules;
    c->n_rules = 0;
    p->exclude = cu_xrealloc(p->exclude, (p->n_exclude + c->n_exclude + 1) * sizeof *p->exclude);
    memcpy(p->exclude + p->n_exclude, c->exclude, c->n_exclude * sizeof *c->exclude);
    /* An included profile's excludes keep its own case rule. */
    p->exc_fold = cu_xrealloc(p->exc_fold, p->n_exclude + c->n_exclude + 1);
    memcpy(p->exc_fold + p->n_exclude, c->exc_fold, c->n_exclude);
    p->n_exclude += c->n_exclude;
    c->n_exclude = 0;
    p->included = cu_xrealloc(p->included, (p->n_included + c->n_included + 2) * sizeof *p->included);
    p->included[p->n_included++] = cu_xstrdup(c->name);
    for (size_t i = 0; i < c->n_included; i++)
        p->included[p->n_included++] = cu_xstrdup(c->included[i]);
    p->digest_mask |= c->digest_mask;
    p->live |= c->live;
    return 0;
}

/* Literal prefix lengths of every pattern: bytes before the first glob special. */
static size_t *prefixes(char *const *pats, size_t n, size_t *old)
{
    free(old);
    size_t *v = cu_xcalloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = strcspn(pats[i], "*?[\\");
    return v;
}

static void finalize(struct prof_profile *p)
{
    p->exc_pre = prefixes(p->exclude, p->n_exclude, p->exc_pre);
    for (size_t i = 0; i < p->n_rules; i++) {
        struct prof_rule *r = &p->rules[i];
        r->inc_pre = prefixes(r->include, r->n_include, r->inc_pre);
        r->exc_pre = prefixes(r->exclude, r->n_exclude, r->exc_pre);
    }
}

int prof_load_buffer(const char *source, const char *json, size_t len, const struct prof_env *env,
                     struct prof_profile **out, struct cu_err *err)
{
    return load(source, NULL, json, len, env, 0, out, err);
}

static int load(const char *source, const char *dir, const char *json, size_t len,
                const struct prof_env *env, int depth, struct prof_profile **out,
                struct cu_err *err)
{
    static const char *const keys[] = {"name", "description", "case_insensitive", "windows",
                                       "live", "variables", "includes", "exclude", "rules", NULL};
    if (depth > PROF_INCLUDE_DEPTH)
        return cu_err_set(err, 0, "%s: includes nested deeper than %d", source,
                          PROF_INCLUDE_DEPTH);
    char *real = realpath(source, NULL);
    load_chain[depth] = real ? real : source;
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        free(real);
        return cu_err_set(err, 0, "%s:%d:%d: %s", source, je.line, je.column, je.text);
    }
    struct prof_profile *p = cu_xcalloc(1, sizeof *p);
    struct cu_err e2;
    int rc = -1;
    if (!json_is_object(root)) {
        cu_err_set(&e2, 0, "the profile must be a JSON object");
        goto out;
    }
    if (check_keys(root, keys, "", &e2) != 0)
        goto out;
    json_t *name = json_object_get(root, "name");
    if (!json_is_string(name) || !json_string_length(name)) {
        cu_err_set(&e2, 0, "'name' is required (a non-empty string)");
        goto out;
    }
    p->name = cu_xstrdup(json_string_value(name));
    json_t *desc = json_object_get(root, "description");
    if (desc && !json_is_string(desc)) {
        cu_err_set(&e2, 0, "description: must be a string");
        goto out;
    }
    p->description = cu_xstrdup(desc ? json_string_value(desc) : "");
    json_t *win = json_object_get(root, "windows");
    if (win && !json_is_boolean(win)) {
        cu_err_set(&e2, 0, "windows: must be true or false");
        goto out;
    }
    json_t *ci = json_object_get(root, "case_insensitive");
    if (ci && !json_is_boolean(ci)) {
        cu_err_set(&e2, 0, "case_insensitive: must be true or false");
        goto out;
    }
    /* NTFS names are case-insensitive: a Windows profile matches that way unless told not to. */
    p->casefold = ci ? json_is_true(ci) : (win && json_is_true(win));
    json_t *lv = json_object_get(root, "live");
    if (lv && !json_is_boolean(lv)) {
        cu_err_set(&e2, 0, "live: must be true or false");
        goto out;
    }
    p->live = lv && json_is_true(lv);
    json_t *vars = json_object_get(root, "variables");
    if (vars) {
        const char *k;
        json_t *v;
        if (!json_is_object(vars)) {
            cu_err_set(&e2, 0, "variables: must be an object of strings");
            goto out;
        }
        json_object_foreach(vars, k, v) if (!json_is_string(v))
        {
            cu_err_set(&e2, 0, "variables.%s: must be a string", k);
            goto out;
        }
    }
    json_t *incs = json_object_get(root, "includes");
    if (incs) {
        size_t i;
        json_t *v;
        if (!json_is_array(incs)) {
            cu_err_set(&e2, 0, "includes: must be an array of profile names or files");
            goto out;
        }
        json_array_foreach(incs, i, v) {
            if (!json_is_string(v) || !json_string_length(v)) {
                cu_err_set(&e2, 0, "includes[%zu]: must be a non-empty string", i);
                goto out;
            }
            struct prof_profile *c = NULL;
            struct cu_err e3;
            if (load_include(json_string_value(v), dir, env, vars, depth + 1, &c, &e3) != 0) {
                cu_err_set(&e2, 0, "includes[%zu]: %s", i, e3.msg);
                goto out;
            }
            int m = merge(p, c, &e3);
            prof_free(c);
            if (m != 0) {
                cu_err_set(&e2, 0, "includes[%zu]: %s", i, e3.msg);
                goto out;
            }
        }
        if (lv) /* given: it wins over what the included profiles say (merge ORs them) */
            p->live = json_is_true(lv);
    }
    char **gx = NULL;
    size_t ngx = 0;
    if (patterns(json_object_get(root, "exclude"), "exclude", "", env, vars, &gx, &ngx, &e2) != 0)
        goto out;
    p->exc_fold = cu_xrealloc(p->exc_fold, p->n_exclude + ngx + 1);
    memset(p->exc_fold + p->n_exclude, p->casefold, ngx);
    p->exclude = cu_xrealloc(p->exclude, (p->n_exclude + ngx + 1) * sizeof *p->exclude);
    if (ngx) /* gx is NULL when there are none: memcpy's arguments must not be */
        memcpy(p->exclude + p->n_exclude, gx, ngx * sizeof *gx);
    p->n_exclude += ngx;
    free(gx);
    json_t *rules = json_object_get(root, "rules");
    if (!json_is_array(rules)) {
        cu_err_set(&e2, 0, "'rules' is required (an array)");
        goto out;
    }
    size_t base = p->n_rules;
    p->rules = cu_xrealloc(p->rules, (base + json_array_size(rules) + 1) * sizeof *p->rules);
    size_t i;
    json_t *ro;
    json_array_foreach(rules, i, ro) {
        struct prof_rule *r = &p->rules[base + i];
        int pr = parse_rule(ro, i, env, vars, dir, p->casefold, &p->digest_mask, r, &e2);
        p->n_rules = base + i + 1;
        if (pr != 0)
            goto out;
        for (size_t k = 0; k < base + i; k++)
            if (!strcmp(p->rules[k].id, r->id)) {
                cu_err_set(&e2, 0, "rule '%s': duplicate rule id", r->id);
                goto out;
            }
    }
    unsigned char md[32];
    unsigned int mdl = 0;
    EVP_Digest(json, len, md, &mdl, EVP_sha256(), NULL);
    cu_hex(md, 32, p->sha256_hex);
    finalize(p);
    rc = 0;
out:
    json_decref(root);
    load_chain[depth] = NULL;
    free(real);
    if (rc != 0) {
        prof_free(p);
        return cu_err_set(err, 0, "%s: %s", source, e2.msg);
    }
    *out = p;
    return 0;
}

static int read_text(const char *path, struct cu_buf *b, struct cu_err *err)
{
    FILE *f = fopen(path, "rbe");
    if (!f)
        return cu_err_set(err, 0, "%s: cannot open: %s", path, strerror(errno));
    cu_buf_init(b, 16u << 20);
    char tmp[8192];
    size_t n;
    int too_big = 0;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        if (cu_buf_append(b, tmp, n) != 0) {
            too_big = 1;
            break;
        }
    fclose(f);
    if (too_big) {
        cu_buf_free(b);
        return cu_err_set(err, 0, "%s: larger than 16 MiB", path);
    }
    return 0;
}

/* A profile file: relative includes and hash lists are looked up beside it. */
static int load_path(const char *path, const struct prof_env *env, int depth,
                     struct prof_profile **out, struct cu_err *err)
{
    struct cu_buf b;
    if (read_text(path, &b, err) != 0)
        return -1;
    char *pd = cu_xstrdup(path);
    char *sl = strrchr(pd, '/');
    const char *dir = ".";
    if (sl) {
        *sl = '\0';
        dir = pd[0] ? pd : "/";
    }
    int r = load(path, dir, b.data ? b.data : "", b.len, env, depth, out, err);
    free(pd);
    cu_buf_free(&b);
    return r;
}

int prof_load_file(const char *path, const struct prof_env *env, struct prof_profile **out,
                   struct cu_err *err)
{
    return load_path(path, env, 0, out, err);
}

const char *prof_embedded_text(const char *name, size_t *len)
{
    for (const struct embedded_profile *e = custody_embedded_profiles; e->name; e++)
        if (!strcmp(e->name, name)) {
            if (len)
                *len = e->len;
            return e->text;
        }
    return NULL;
}

int prof_load_embedded(const char *name, const struct prof_env *env, struct prof_profile **out,
                       struct cu_err *err)
{
    size_t len;
    const char *t = prof_embedded_text(name, &len);
    if (!t)
        return cu_err_set(err, 0, "no embedded profile '%s' (see 'custody profiles')", name);
    char src[300];
    snprintf(src, sizeof src, "embedded:%s", name);
    return prof_load_buffer(src, t, len, env, out, err);
}

const char *prof_embedded_name(size_t i, const char **description)
{
    const struct embedded_profile *e = custody_embedded_profiles;
    for (size_t k = 0; k < i; k++, e++)
        if (!e->name)
            return NULL;
    if (!e->name)
        return NULL;
    if (description) {
        static char desc[512];
        desc[0] = '\0';
        json_t *j = json_loadb(e->text, e->len, 0, NULL);
        json_t *d = j ? json_object_get(j, "description") : NULL;
        if (json_is_string(d))
            snprintf(desc, sizeof desc, "%s", json_string_value(d));
        json_decref(j);
        *description = desc;
    }
    return e->name;
}

int prof_add_include(struct prof_profile *p, const char *pattern, struct cu_err *err)
{
    if (glob_validate(pattern, err) != 0)
        return -1;
    p->rules = cu_xrealloc(p->rules, (p->n_rules + 1) * sizeof *p->rules);
    struct prof_rule *r = &p->rules[p->n_rules];
    memset(r, 0, sizeof *r);
    size_t n = 1;
    for (size_t i = 0; i < p->n_rules; i++)
        if (!strncmp(p->rules[i].id, "include-", 8))
            n++;
    r->id = cu_xasprintf("include-%zu", n);
    r->description = cu_xasprintf("--include %s", pattern);
    r->include = cu_xmalloc(sizeof *r->include);
    r->include[0] = cu_xstrdup(pattern);
    r->n_include = 1;
    r->types = PROF_T_ALL_BUT_DIR;
    r->action = PROF_ACTION_COLLECT;
    r->casefold = p->casefold;
    p->n_rules++;
    finalize(p);
    return 0;
}

int prof_add_exclude(struct prof_profile *p, const char *pattern, struct cu_err *err)
{
    if (glob_validate(pattern, err) != 0)
        return -1;
    p->exclude = cu_xrealloc(p->exclude, (p->n_exclude + 1) * sizeof *p->exclude);
    p->exc_fold = cu_xrealloc(p->exc_fold, p->n_exclude + 1);
    p->exc_fold[p->n_exclude] = (unsigned char)p->casefold;
    p->exclude[p->n_exclude++] = cu_xstrdup(pattern);
    finalize(p);
    return 0;
}

/* ---- selection --------------------------------------------------------------------------- */

static unsigned type_bit(mode_t m)
{
    switch (m & S_IFMT) {
    case S_IFREG: return PROF_T_FILE;
    case S_IFDIR: return PROF_T_DIR;
    case S_IFLNK: return PROF_T_SYMLINK;
    case S_IFIFO: return PROF_T_FIFO;
    case S_IFSOCK: return PROF_T_SOCKET;
    case S_IFCHR: return PROF_T_CHARDEV;
    case S_IFBLK: return PROF_T_BLOCKDEV;
    default: return 0;
    }
}

/* 0 if the literal prefix of pat (pre bytes) already differs from s (len bytes): then
 * neither s nor anything below it can match. */
static int prefix_ok(const char *pat, size_t pre, const char *s, size_t len, int flags)
{
    size_t n = pre < len ? pre : len;
    return flags & GLOB_CASEFOLD ? strncasecmp(pat, s, n) == 0 : memcmp(pat, s, n) == 0;
}

static int any_match(char *const *pats, const size_t *pre, size_t n, const char *path, size_t len,
                     int flags)
{
    for (size_t i = 0; i < n; i++)
        if (prefix_ok(pats[i], pre[i], path, len, flags) && glob_match(pats[i], path, len, flags))
            return 1;
    return 0;
}

static int ts_cmp(const struct timespec *a, const struct timespec *b)
{
    if (a->tv_sec != b->tv_sec)
        return a->tv_sec < b->tv_sec ? -1 : 1;
    return a->tv_nsec < b->tv_nsec ? -1 : a->tv_nsec > b->tv_nsec;
}

/* Does the rule's time window hold for this item? *used says which time decided a
 * created_or_modified window. */
static int time_ok(const struct prof_rule *r, const struct stat *st, const struct timespec *btime,
                   const char **used)
{
    struct timespec v;
    switch (r->time_field) {
    case PROF_TIME_NONE: return 1;
    case PROF_TIME_MTIME: v = st->st_mtim; break;
    case PROF_TIME_CTIME: v = st->st_ctim; break;
    case PROF_TIME_ATIME: v = st->st_atim; break;
    case PROF_TIME_BTIME:
        if (!btime)
            return 0;
        v = *btime;
        break;
    case PROF_TIME_CREATED_OR_MODIFIED:
        v = st->st_mtim;
        *used = "mtime";
        if (btime && ts_cmp(btime, &v) > 0) {
            v = *btime;
            *used = "btime";
        }
        break;
    default: return 0;
    }
    if (r->have_after && ts_cmp(&v, &r->after) < 0)
        return 0;
    if (r->have_before && ts_cmp(&v, &r->before) >= 0)
        return 0;
    return 1;
}

int prof_select(const struct prof_profile *p, const char *path, size_t len, const struct stat *st,
                const struct timespec *btime, struct prof_match *m)
{
    m->n = 0;
    m->action = PROF_ACTION_METADATA;
    m->max_file_bytes = 0;
    m->tests = 0;
    m->time_used = NULL;
    unsigned tb = type_bit(st->st_mode);
    if (tb == PROF_T_DIR || !tb)
        return 0;
    for (size_t i = 0; i < p->n_exclude; i++) {
        int gf = p->exc_fold[i] ? GLOB_CASEFOLD : 0;
        if (prefix_ok(p->exclude[i], p->exc_pre[i], path, len, gf) &&
            glob_match(p->exclude[i], path, len, gf))
            return 0;
    }
    int uncapped = 0;
    uint64_t cap = 0;
    for (size_t i = 0; i < p->n_rules; i++) {
        const struct prof_rule *r = &p->rules[i];
        int flags = r->casefold ? GLOB_CASEFOLD : 0;
        const char *used = NULL;
        if (!(r->types & tb) || r->off)
            continue;
        if (r->perm_any && !(st->st_mode & r->perm_any))
            continue;
        if ((r->have_size_min && (uint64_t)st->st_size < r->size_min) ||
            (r->have_size_max && (uint64_t)st->st_size > r->size_max) ||
            !time_ok(r, st, btime, &used))
            continue;
        if (!any_match(r->include, r->inc_pre, r->n_include, path, len, flags) ||
            any_match(r->exclude, r->exc_pre, r->n_exclude, path, len, flags))
            continue;
        if (used && !m->time_used)
            m->time_used = used;
        if (PROF_RULE_TESTS(r) && tb == PROF_T_FILE)
            m->tests = 1;
        if (m->n == m->alloc) {
            m->alloc = m->alloc ? m->alloc * 2 : 8;
            m->rule_idx = cu_xrealloc(m->rule_idx, m->alloc * sizeof *m->rule_idx);
        }
        m->rule_idx[m->n++] = i;
        if (r->action != PROF_ACTION_METADATA) {
            m->action = PROF_ACTION_COLLECT;
            if (!r->max_file_bytes)
                uncapped = 1;
            else if (r->max_file_bytes > cap)
                cap = r->max_file_bytes;
        }
    }
    m->max_file_bytes = uncapped ? 0 : cap;
    return m->n > 0;
}

void prof_match_free(struct prof_match *m)
{
    free(m->rule_idx);
    m->rule_idx = NULL;
    m->n = m->alloc = 0;
}

/* 1 if pattern is "X/ **" (a whole subtree) and covers dir. */
static int covers_subtree(const char *pat, const char *dir, size_t len, int flags)
{
    size_t n = strlen(pat);
    return n >= 3 && !strcmp(pat + n - 3, "/**") && glob_match(pat, dir, len, flags);
}

int prof_descend(const struct prof_profile *p, const char *dir, size_t len)
{
    for (size_t i = 0; i < p->n_exclude; i++)
        if (covers_subtree(p->exclude[i], dir, len, p->exc_fold[i] ? GLOB_CASEFOLD : 0))
            return 0;
    for (size_t i = 0; i < p->n_rules; i++) {
        const struct prof_rule *r = &p->rules[i];
        int flags = r->casefold ? GLOB_CASEFOLD : 0;
        if (r->off)
            continue;
        int pruned = 0;
        for (size_t k = 0; k < r->n_exclude && !pruned; k++)
            pruned = covers_subtree(r->exclude[k], dir, len, flags);
        if (pruned)
            continue;
        for (size_t k = 0; k < r->n_include; k++)
            if (prefix_ok(r->include[k], r->inc_pre[k], dir, len, flags) &&
                glob_may_match_below(r->include[k], dir, len, flags))
                return 1;
    }
    return 0;
}

int prof_names(const struct prof_profile *p, const char *dir, size_t len)
{
    char pre[4096];
    for (size_t i = 0; i < p->n_rules; i++)
        for (size_t k = 0; k < p->rules[i].n_include; k++) {
            size_t n = glob_literal_prefix(p->rules[i].include[k], pre, sizeof pre);
            if (n >= len && !strncmp(pre, dir, len) && (n == len || pre[len] == '/'))
                return 1;
        }
    return 0;
}
