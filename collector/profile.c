/*
 * profile: see profile.h. Parsing with jansson (strict: unknown keys and duplicate keys are
 * errors, so a typo in a rule cannot silently collect nothing), pattern expansion, and the
 * per-file selection questions asked by the walker.
 */
#include "profile.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    if (!r->have_after && !r->have_before)
        return cu_err_set(err, 0, "%sgive \"after\", \"before\" or both", w2);
    return 0;
}

static int parse_rule(json_t *o, size_t idx, const struct prof_env *env, json_t *vars,
                      struct prof_rule *r, struct cu_err *err)
{
    static const char *const keys[] = {"id", "description", "include", "exclude", "types",
                                       "perm_any", "max_file_bytes", "size_min", "size_max",
                                       "time", "action", NULL};
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
        else
            return cu_err_set(err, 0, "%saction: must be \"collect\" or \"metadata\"", where);
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
    free(p->name);
    free(p->description);
    free(p);
}

int prof_load_buffer(const char *source, const char *json, size_t len, const struct prof_env *env,
                     struct prof_profile **out, struct cu_err *err)
{
    static const char *const keys[] = {"name", "description", "case_insensitive", "live",
                                       "variables", "exclude", "rules", NULL};
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return cu_err_set(err, 0, "%s:%d:%d: %s", source, je.line, je.column, je.text);
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
    json_t *ci = json_object_get(root, "case_insensitive");
    if (ci && !json_is_boolean(ci)) {
        cu_err_set(&e2, 0, "case_insensitive: must be true or false");
        goto out;
    }
    p->casefold = ci && json_is_true(ci);
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
    if (patterns(json_object_get(root, "exclude"), "exclude", "", env, vars, &p->exclude,
                 &p->n_exclude, &e2) != 0)
        goto out;
    json_t *rules = json_object_get(root, "rules");
    if (!json_is_array(rules)) {
        cu_err_set(&e2, 0, "'rules' is required (an array)");
        goto out;
    }
    p->rules = cu_xcalloc(json_array_size(rules) + 1, sizeof *p->rules);
    size_t i;
    json_t *ro;
    json_array_foreach(rules, i, ro) {
        if (parse_rule(ro, i, env, vars, &p->rules[i], &e2) != 0) {
            p->n_rules = i + 1;
            goto out;
        }
        p->n_rules = i + 1;
        for (size_t k = 0; k < i; k++)
            if (!strcmp(p->rules[k].id, p->rules[i].id)) {
                cu_err_set(&e2, 0, "rule '%s': duplicate rule id", p->rules[i].id);
                goto out;
            }
    }
    unsigned char md[32];
    unsigned int mdl = 0;
    EVP_Digest(json, len, md, &mdl, EVP_sha256(), NULL);
    cu_hex(md, 32, p->sha256_hex);
    rc = 0;
out:
    json_decref(root);
    if (rc != 0) {
        prof_free(p);
        return cu_err_set(err, 0, "%s: %s", source, e2.msg);
    }
    *out = p;
    return 0;
}

int prof_load_file(const char *path, const struct prof_env *env, struct prof_profile **out,
                   struct cu_err *err)
{
    FILE *f = fopen(path, "rbe");
    if (!f)
        return cu_err_set(err, 0, "%s: cannot open: %m", path);
    struct cu_buf b;
    cu_buf_init(&b, 16u << 20);
    char tmp[8192];
    size_t n;
    int too_big = 0;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        if (cu_buf_append(&b, tmp, n) != 0) {
            too_big = 1;
            break;
        }
    fclose(f);
    if (too_big) {
        cu_buf_free(&b);
        return cu_err_set(err, 0, "%s: larger than 16 MiB", path);
    }
    int r = prof_load_buffer(path, b.data ? b.data : "", b.len, env, out, err);
    cu_buf_free(&b);
    return r;
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
    p->n_rules++;
    return 0;
}

int prof_add_exclude(struct prof_profile *p, const char *pattern, struct cu_err *err)
{
    if (glob_validate(pattern, err) != 0)
        return -1;
    p->exclude = cu_xrealloc(p->exclude, (p->n_exclude + 1) * sizeof *p->exclude);
    p->exclude[p->n_exclude++] = cu_xstrdup(pattern);
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

static int any_match(char *const *pats, size_t n, const char *path, size_t len, int flags)
{
    for (size_t i = 0; i < n; i++)
        if (glob_match(pats[i], path, len, flags))
            return 1;
    return 0;
}

static int ts_cmp(const struct timespec *a, const struct timespec *b)
{
    if (a->tv_sec != b->tv_sec)
        return a->tv_sec < b->tv_sec ? -1 : 1;
    return a->tv_nsec < b->tv_nsec ? -1 : a->tv_nsec > b->tv_nsec;
}

/* Does the rule's time window hold for this item? */
static int time_ok(const struct prof_rule *r, const struct stat *st, const struct timespec *btime)
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
        if (btime && ts_cmp(btime, &v) > 0)
            v = *btime;
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
    unsigned tb = type_bit(st->st_mode);
    if (tb == PROF_T_DIR || !tb)
        return 0;
    int flags = p->casefold ? GLOB_CASEFOLD : 0;
    if (any_match(p->exclude, p->n_exclude, path, len, flags))
        return 0;
    int uncapped = 0;
    uint64_t cap = 0;
    for (size_t i = 0; i < p->n_rules; i++) {
        const struct prof_rule *r = &p->rules[i];
        if (!(r->types & tb))
            continue;
        if (r->perm_any && !(st->st_mode & r->perm_any))
            continue;
        if ((r->have_size_min && (uint64_t)st->st_size < r->size_min) ||
            (r->have_size_max && (uint64_t)st->st_size > r->size_max) || !time_ok(r, st, btime))
            continue;
        if (!any_match(r->include, r->n_include, path, len, flags) ||
            any_match(r->exclude, r->n_exclude, path, len, flags))
            continue;
        if (m->n == m->alloc) {
            m->alloc = m->alloc ? m->alloc * 2 : 8;
            m->rule_idx = cu_xrealloc(m->rule_idx, m->alloc * sizeof *m->rule_idx);
        }
        m->rule_idx[m->n++] = i;
        if (r->action == PROF_ACTION_COLLECT) {
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
    int flags = p->casefold ? GLOB_CASEFOLD : 0;
    for (size_t i = 0; i < p->n_exclude; i++)
        if (covers_subtree(p->exclude[i], dir, len, flags))
            return 0;
    for (size_t i = 0; i < p->n_rules; i++) {
        const struct prof_rule *r = &p->rules[i];
        int pruned = 0;
        for (size_t k = 0; k < r->n_exclude && !pruned; k++)
            pruned = covers_subtree(r->exclude[k], dir, len, flags);
        if (pruned)
            continue;
        for (size_t k = 0; k < r->n_include; k++)
            if (glob_may_match_below(r->include[k], dir, len, flags))
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
