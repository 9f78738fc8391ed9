/*
 * vset: see vset.h.
 */
#define _GNU_SOURCE
#include "vset.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sign.h"

struct vpart {
    unsigned idx;
    char *file;
};

struct vset {
    char *dir, *stem, *suffix;
    struct vpart *parts;
    size_t n;
};

/* "<stem>.partNNN<suffix>" with a known suffix: stem and suffix (new strings), index. */
static int parse_name(const char *name, char **stem, char **suffix, unsigned *idx)
{
    static const char *const sfx[] = {".tar.zst", ".tar.gz", ".tar", ".zip"};
    const char *p = NULL;
    for (const char *q = strstr(name, ".part"); q; q = strstr(q + 1, ".part"))
        p = q;
    if (!p || p == name)
        return -1;
    const char *d = p + 5;
    size_t nd = 0;
    while (d[nd] >= '0' && d[nd] <= '9')
        nd++;
    if (nd < 3 || nd > 6)
        return -1;
    const char *rest = d + nd;
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        size_t k = strlen(sfx[i]);
        if (!strncmp(rest, sfx[i], k) && (!rest[k] || !strcmp(rest + k, ".age"))) {
            *stem = cu_xstrndup(name, (size_t)(p - name));
            *suffix = cu_xstrdup(rest);
            *idx = (unsigned)strtoul(d, NULL, 10);
            return *idx ? 0 : (free(*stem), free(*suffix), -1);
        }
    }
    return -1;
}

static int by_idx(const void *a, const void *b)
{
    const struct vpart *x = a, *y = b;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void set_free_parts(struct vset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->parts[i].file);
    free(s->parts);
    s->parts = NULL;
    s->n = 0;
}

/* The parts in dir of stem/suffix (any, when stem is NULL: there must be one set). */
static int scan_dir(struct vset *s)
{
    DIR *d = opendir(s->dir);
    if (!d)
        return -1;
    struct dirent *de;
    int mixed = 0;
    while ((de = readdir(d))) {
        char *st, *sf;
        unsigned idx;
        if (parse_name(de->d_name, &st, &sf, &idx) != 0)
            continue;
        if (!s->stem) {
            s->stem = st;
            s->suffix = sf;
        } else if (strcmp(s->stem, st) || strcmp(s->suffix, sf)) {
            mixed = 1;
            free(st);
            free(sf);
            continue;
        } else {
            free(st);
            free(sf);
        }
        s->parts = cu_xrealloc(s->parts, (s->n + 1) * sizeof *s->parts);
        s->parts[s->n].idx = idx;
        s->parts[s->n].file = cu_xstrdup(de->d_name);
        s->n++;
    }
    closedir(d);
    if (mixed)
        fprintf(stderr, "custody verify: %s holds parts of more than one collection; checking "
                        "%s%s only (give a part to choose)\n", s->dir, s->stem, s->suffix);
    qsort(s->parts, s->n, sizeof *s->parts, by_idx);
    return s->n ? 0 : -1;
}

struct vset *vset_detect(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return NULL;
    struct vset *s = cu_xcalloc(1, sizeof *s);
    if (S_ISDIR(st.st_mode)) {
        s->dir = cu_xstrdup(path);
    } else {
        const char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;
        unsigned idx;
        if (parse_name(base, &s->stem, &s->suffix, &idx) != 0) {
            free(s);
            return NULL;
        }
        s->dir = slash ? cu_xstrndup(path, (size_t)(slash - path) + (slash == path)) : cu_xstrdup(".");
    }
    if (scan_dir(s) != 0) {
        vset_free(s);
        return NULL;
    }
    return s;
}

void vset_free(struct vset *s)
{
    if (!s)
        return;
    set_free_parts(s);
    free(s->dir);
    free(s->stem);
    free(s->suffix);
    free(s);
}

struct ctx {
    const struct vf_opts *o;
    size_t problems;
    json_t *list;
};

static void problem(struct ctx *c, const char *kind, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(struct ctx *c, const char *kind, const char *file, const char *fmt, ...)
{
    char detail[512] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    }
    c->problems++;
    if (c->o->report)
        fprintf(c->o->report, "%s%s%s%s%s\n", kind, file ? " " : "", file ? file : "",
                detail[0] ? ": " : "", detail);
    json_t *p = json_object();
    json_object_set_new(p, "kind", json_string(kind));
    json_object_set_new(p, "part", file ? json_string(file) : json_null());
    json_object_set_new(p, "detail", json_string(detail));
    json_array_append_new(c->list, p);
}

static struct vpart *find_part(struct vset *s, const char *file)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->parts[i].file, file))
            return &s->parts[i];
    return NULL;
}

int vset_verify(struct vset *s, const struct vf_opts *o, int json)
{
    struct ctx c = {o, 0, json_array()};
    struct vf_result *res = cu_xcalloc(s->n, sizeof *res);
    int *readable = cu_xcalloc(s->n, sizeof *readable);
    long cm_from = -1;
    FILE *rep = o->report;
    if (rep)
        fprintf(rep, "split collection %s.partNNN%s in %s: %zu part(s) present\n", s->stem, s->suffix,
                s->dir, s->n);
    for (size_t i = 0; i < s->n; i++) {
        char *path = cu_xasprintf("%s/%s", s->dir, s->parts[i].file);
        struct cu_err err;
        if (rep)
            fprintf(rep, "== part %u: %s\n", s->parts[i].idx, s->parts[i].file);
        if (vf_verify(path, o, &res[i], &err) != 0) {
            problem(&c, "DAMAGED PART", s->parts[i].file, "unreadable: %s", err.msg);
        } else {
            readable[i] = 1;
            json_t *pt = res[i].part;
            json_int_t pi = json_integer_value(json_object_get(pt, "index"));
            const char *pc = json_string_value(json_object_get(pt, "collection"));
            if (!res[i].ok)
                problem(&c, "DAMAGED PART", s->parts[i].file, "%zu problem(s) inside (above)",
                        res[i].problems);
            else if (!pt || pi != (json_int_t)s->parts[i].idx || !pc || strcmp(pc, s->stem))
                problem(&c, "DAMAGED PART", s->parts[i].file, "its manifest does not name it "
                        "part %u of %s", s->parts[i].idx, s->stem);
            if (res[i].cmanifest)
                cm_from = (long)i;
            if (rep)
                fprintf(rep, "part %u: %s\n", s->parts[i].idx, res[i].ok ? "OK" : "FAILED");
        }
        free(path);
    }
    if (rep)
        fprintf(rep, "== the set\n");
    json_t *cm = NULL;
    char fp[65] = "";
    if (cm_from >= 0) {
        struct vf_result *r = &res[cm_from];
        cm = json_loadb((const char *)r->cmanifest, r->cmanifest_len, JSON_REJECT_DUPLICATES, NULL);
        struct sig_key *key = NULL;
        struct cu_err err;
        json_t *signer = json_object_get(json_object_get(cm, "collection"), "signer");
        const char *pem = json_string_value(json_object_get(signer, "public_key"));
        int kr = o->pubkey ? sig_key_load_public(o->pubkey, &key, &err)
                           : pem ? sig_key_from_public_pem(pem, strlen(pem), &key, &err) : -1;
        if (!cm || !json_is_object(cm))
            problem(&c, "BAD COLLECTION MANIFEST", s->parts[cm_from].file, "not a JSON object");
        else if (kr != 0 || !key)
            problem(&c, "BAD COLLECTION MANIFEST", s->parts[cm_from].file, "no usable key");
        else if (r->csig_len != 64 ||
                 sig_verify(key, r->cmanifest, r->cmanifest_len, r->csig, 64, &err) != 1)
            problem(&c, "BAD SIGNATURE", s->parts[cm_from].file,
                    "collection-manifest.sig does not verify");
        if (key)
            sig_key_fingerprint(key, fp, NULL);
        sig_key_free(key);
    }
    if (!cm || !json_is_object(cm)) {
        if (cm_from < 0)
            problem(&c, "NO COLLECTION MANIFEST", NULL, "the last part, which carries it, is "
                    "missing or damaged: parts after part %u may be missing too",
                    s->n ? s->parts[s->n - 1].idx : 0);
        unsigned max = s->n ? s->parts[s->n - 1].idx : 0;
        for (unsigned k = 1; k < max; k++) {
            int have = 0;
            for (size_t i = 0; i < s->n; i++)
                have |= s->parts[i].idx == k;
            if (!have) {
                char *name = cu_xasprintf("%s.part%03u%s", s->stem, k, s->suffix);
                problem(&c, "MISSING PART", name, "not in %s", s->dir);
                free(name);
            }
        }
    } else {
        json_t *parts = json_object_get(cm, "parts"), *p;
        size_t i;
        int *listed = cu_xcalloc(s->n ? s->n : 1, sizeof *listed);
        if (!json_is_array(parts))
            problem(&c, "BAD COLLECTION MANIFEST", NULL, "no parts array");
        json_array_foreach(parts, i, p) {
            const char *file = json_string_value(json_object_get(p, "file"));
            if (!file || strchr(file, '/')) {
                problem(&c, "BAD COLLECTION MANIFEST", NULL, "a part without a file name");
                continue;
            }
            struct vpart *vp = find_part(s, file);
            if (!vp) {
                problem(&c, "MISSING PART", file, "listed in the collection manifest, not in %s",
                        s->dir);
                continue;
            }
            size_t k = (size_t)(vp - s->parts);
            listed[k] = 1;
            json_t *sz = json_object_get(p, "size");
            const char *sha = json_string_value(json_object_get(p, "sha256"));
            char *path = cu_xasprintf("%s/%s", s->dir, file);
            struct stat st;
            if (json_is_integer(sz) && (stat(path, &st) != 0 ||
                                        (json_int_t)st.st_size != json_integer_value(sz)))
                problem(&c, "DAMAGED PART", file, "its size is not the %lld bytes the collection "
                        "manifest lists", (long long)json_integer_value(sz));
            else if (sha && readable[k] && strcmp(sha, res[k].file_sha256) != 0)
                problem(&c, "DAMAGED PART", file, "its sha256 is %s, the collection manifest "
                        "lists %s", res[k].file_sha256, sha);
            free(path);
            if (readable[k] && fp[0] && res[k].fingerprint[0] && strcmp(fp, res[k].fingerprint))
                problem(&c, "KEY", file, "signed by %s, the collection manifest by %s",
                        res[k].fingerprint, fp);
        }
        for (size_t k = 0; k < s->n; k++)
            if (!listed[k])
                problem(&c, "EXTRA PART", s->parts[k].file, "not listed in the collection manifest");
        free(listed);
    }
    size_t part_problems = 0;
    for (size_t i = 0; i < s->n; i++)
        part_problems += res[i].problems;
    int ok = c.problems == 0 && part_problems == 0;
    if (json) {
        json_t *j = json_object(), *pa = json_array();
        json_object_set_new(j, "collection", json_string(s->stem));
        json_object_set_new(j, "ok", json_boolean(ok));
        for (size_t i = 0; i < s->n; i++) {
            json_t *x = json_object();
            json_object_set_new(x, "index", json_integer(s->parts[i].idx));
            json_object_set_new(x, "file", json_string(s->parts[i].file));
            json_object_set_new(x, "ok", json_boolean(readable[i] && res[i].ok));
            json_object_set_new(x, "problems", res[i].problem_list ? json_incref(res[i].problem_list)
                                                                   : json_array());
            json_array_append_new(pa, x);
        }
        json_object_set_new(j, "parts", pa);
        json_object_set(j, "problems", c.list);
        json_object_set_new(j, "fingerprint", fp[0] ? json_string(fp) : json_null());
        json_object_set_new(j, "pinned", json_boolean(o->pubkey != NULL));
        char *t = json_dumps(j, JSON_INDENT(1));
        printf("%s\n", t ? t : "{}");
        free(t);
        json_decref(j);
    } else {
        if (fp[0])
            printf("%s %s\n", o->pubkey ? "collection signed by the pinned key"
                   : "note: collection manifest checked with its own key, NOT pinned; fingerprint",
                   fp);
        printf("%zu part(s) present, %zu set problem(s), %zu problem(s) inside parts\n", s->n,
               c.problems, part_problems);
        printf("verify: %s\n", ok ? "OK" : "FAILED");
    }
    for (size_t i = 0; i < s->n; i++)
        vf_result_free(&res[i]);
    free(res);
    free(readable);
    json_decref(cm);
    json_decref(c.list);
    return ok ? 0 : 1;
}
