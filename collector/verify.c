/*
 * verify: see verify.h.
 */
#define _GNU_SOURCE
#include "verify.h"

#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mfread.h"
#include "sign.h"

#define MAX_LISTED 10000

struct vf {
    const struct vf_opts *o;
    struct vf_result *r;
    struct mf_scan scan;
};

/* Printable form of a member name for a report line (escapes control and non-UTF-8). */
static char *shown(const char *s, size_t n)
{
    struct cu_buf b;
    cu_buf_init(&b, 16u << 20);
    cu_buf_append(&b, "", 0);
    int utf8 = cu_utf8_valid(s, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '\\' || (!utf8 && c >= 0x80))
            cu_buf_printf(&b, "\\x%02x", c);
        else
            cu_buf_append(&b, s + i, 1);
    }
    return b.data;
}

static void problem(struct vf *v, const char *kind, const char *name, size_t nlen,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void problem(struct vf *v, const char *kind, const char *name, size_t nlen,
                    const char *fmt, ...)
{
    char detail[512] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    }
    char *nm = name ? shown(name, nlen) : NULL;
    v->r->problems++;
    if (v->o->report)
        fprintf(v->o->report, "%s%s%s%s%s\n", kind, nm ? " " : "", nm ? nm : "",
                detail[0] ? ": " : "", detail);
    if (json_array_size(v->r->problem_list) < MAX_LISTED) {
        json_t *p = json_object();
        json_object_set_new(p, "kind", json_string(kind));
        json_object_set_new(p, "member", nm ? json_string(nm) : json_null());
        json_object_set_new(p, "detail", json_string(detail));
        json_array_append_new(v->r->problem_list, p);
    }
    free(nm);
}

static char *decode_field(json_t *e, const char *key, size_t *len)
{
    char k64[64];
    snprintf(k64, sizeof k64, "%s_b64", key);
    json_t *b = json_object_get(e, k64);
    if (json_is_string(b))
        return (char *)cu_base64_decode(json_string_value(b), len);
    json_t *s = json_object_get(e, key);
    if (!json_is_string(s))
        return NULL;
    *len = json_string_length(s);
    return cu_xstrndup(json_string_value(s), *len);
}

char *vf_entry_member(json_t *entry, size_t *len)
{
    return decode_field(entry, "member", len);
}

/* Check one entry against the scanned members. Returns 1 intact, 0 not. */
static int check_entry(struct vf *v, json_t *e)
{
    if (!json_is_object(e)) {
        problem(v, "BAD ENTRY", NULL, 0, "an entry is not an object");
        return 0;
    }
    size_t nlen;
    char *name = vf_entry_member(e, &nlen);
    if (!name) {
        if (!json_is_null(json_object_get(e, "member")))
            problem(v, "BAD ENTRY", NULL, 0, "member is neither a name nor null");
        return 1; /* metadata-only entry */
    }
    v->r->checked++;
    int ok = 1;
    struct mf_member *m = mf_scan_find(&v->scan, name, nlen);
    const char *type = json_string_value(json_object_get(e, "type"));
    if (!m) {
        problem(v, "MISSING", name, nlen, "listed in the manifest, not in the archive");
        free(name);
        return 0;
    }
    m->seen = 1;
    if (type && !strcmp(type, "symlink")) {
        size_t tl;
        char *t = decode_field(e, "link_target", &tl);
        if (m->type != AE_IFLNK) {
            problem(v, "TYPE", name, nlen, "a symlink in the manifest, not in the archive");
            ok = 0;
        } else if (!t || strlen(m->link ? m->link : "") != tl || memcmp(m->link, t, tl) != 0) {
            problem(v, "MISMATCH", name, nlen, "symlink target differs from the manifest");
            ok = 0;
        }
        free(t);
    } else {
        if (m->type != AE_IFREG) {
            problem(v, "TYPE", name, nlen, "a file in the manifest, not in the archive");
            ok = 0;
        } else if (m->short_read) {
            problem(v, "UNREADABLE", name, nlen, "content cut short");
            ok = 0;
        } else {
            static const char *const algs[] = {"sha256", "sha1", "md5"};
            const char *have[] = {m->sha256, m->sha1, m->md5};
            int any = 0;
            for (int k = 0; k < 3; k++) {
                json_t *d = json_object_get(e, algs[k]);
                if (!json_is_string(d))
                    continue;
                any = 1;
                if (strcmp(json_string_value(d), have[k]) != 0) {
                    problem(v, "MISMATCH", name, nlen, "%s is %s, manifest says %s", algs[k],
                            have[k], json_string_value(d));
                    ok = 0;
                }
            }
            if (!any) {
                problem(v, "NO DIGEST", name, nlen, "the entry has no digest to check");
                ok = 0;
            }
        }
    }
    free(name);
    return ok;
}

static int is_own(const struct vf *v, const struct mf_member *m)
{
    return (long)m->index == v->scan.manifest_index || (long)m->index == v->scan.sig_index;
}

static void check_leftovers(struct vf *v)
{
    for (size_t i = 0; i < v->scan.cap; i++) {
        struct mf_member *m = &v->scan.tab[i];
        if (!m->name)
            continue;
        if (m->dups)
            problem(v, "DUPLICATE", m->name, m->name_len, "%d more member(s) with this name",
                    m->dups);
        if (!m->seen && !is_own(v, m))
            problem(v, "EXTRA", m->name, m->name_len, "in the archive, not in the manifest");
    }
}

static void check_sidecar(struct vf *v, const char *archive)
{
    char *side = cu_xasprintf("%s.sha256", archive);
    FILE *f = fopen(side, "re");
    free(side);
    if (!f) {
        v->r->sidecar = -1;
        if (v->o->report)
            fprintf(v->o->report, "note: no .sha256 sidecar beside the archive (not a failure)\n");
        return;
    }
    char line[512] = "";
    char *got = fgets(line, sizeof line, f);
    fclose(f);
    if (!got || strncmp(line, v->scan.file_sha256, 64) != 0 || (line[64] != ' ' && line[64] != '\t')) {
        v->r->sidecar = 0;
        problem(v, "SIDECAR", NULL, 0, "the .sha256 file does not match the archive (it is %s)",
                v->scan.file_sha256);
    } else {
        v->r->sidecar = 1;
    }
}

static void check_signature(struct vf *v, json_t *mf)
{
    struct cu_err err;
    struct sig_key *key = NULL;
    json_t *signer = json_object_get(json_object_get(mf, "collection"), "signer");
    const char *mf_fp = json_string_value(json_object_get(signer, "fingerprint"));
    if (v->o->pubkey) {
        if (sig_key_load_public(v->o->pubkey, &key, &err) != 0) {
            problem(v, "KEY", NULL, 0, "%s", err.msg);
            return;
        }
        v->r->pinned = 1;
    } else {
        const char *pem = json_string_value(json_object_get(signer, "public_key"));
        if (!pem || sig_key_from_public_pem(pem, strlen(pem), &key, &err) != 0) {
            problem(v, "BAD SIGNATURE", NULL, 0, "the manifest holds no usable public key");
            return;
        }
    }
    sig_key_fingerprint(key, v->r->fingerprint, NULL);
    if (v->o->pubkey && mf_fp && strcmp(mf_fp, v->r->fingerprint) != 0 && v->o->report)
        fprintf(v->o->report, "note: the manifest names signer %s, the pinned key is %s\n", mf_fp,
                v->r->fingerprint);
    if (v->scan.sig_index < 0 || v->scan.sig_len != 64) {
        problem(v, "BAD SIGNATURE", NULL, 0, "manifest.sig is missing or not 64 bytes");
    } else if (sig_verify(key, v->scan.manifest, v->scan.manifest_len, v->scan.sig, 64, &err) != 1) {
        problem(v, "BAD SIGNATURE", NULL, 0, "manifest.sig does not verify with key %s",
                v->r->fingerprint);
    } else {
        v->r->signature_ok = 1;
    }
    sig_key_free(key);
}

static char *default_journal(const char *archive)
{
    static const char *const sfx[] = {".tar.zst", ".tar.gz", ".tar", ".zip"};
    size_t n = strlen(archive);
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        size_t k = strlen(sfx[i]);
        if (n > k && !strcmp(archive + n - k, sfx[i]))
            return cu_xasprintf("%.*s.journal", (int)(n - k), archive);
    }
    return cu_xasprintf("%s.journal", archive);
}

/* No manifest: check what the archive holds against the run's journal. */
static void check_journal(struct vf *v, const char *archive)
{
    char *path = v->o->journal ? cu_xstrdup(v->o->journal) : default_journal(archive);
    FILE *f = fopen(path, "re");
    if (!f) {
        problem(v, "NO MANIFEST", NULL, 0, "manifest.json is missing and there is no journal "
                                           "(%s) to check the members against", path);
        free(path);
        return;
    }
    v->r->from_journal = 1;
    if (v->o->report)
        fprintf(v->o->report, "note: no manifest: checking the members against the journal %s "
                              "(unsigned: it proves only what was written, not who wrote it)\n",
                path);
    problem(v, "NO MANIFEST", NULL, 0, "the archive is incomplete (the run was cut short)");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n')
            break; /* the last line was being written when the run died */
        json_t *e = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
        if (!e)
            continue;
        v->r->entries++;
        size_t nl;
        char *name = vf_entry_member(e, &nl);
        if (name) {
            size_t before = v->r->problems;
            int ok = check_entry(v, e);
            if (ok)
                v->r->intact++;
            else
                v->r->lost++;
            (void)before;
            if (ok && v->o->report) {
                char *s = shown(name, nl);
                fprintf(v->o->report, "INTACT %s\n", s);
                free(s);
            }
            free(name);
        }
        json_decref(e);
    }
    free(line);
    fclose(f);
    /* members after the last journaled one were being written: report them */
    for (size_t i = 0; i < v->scan.cap; i++) {
        struct mf_member *m = &v->scan.tab[i];
        if (m->name && !m->seen)
            problem(v, "UNLISTED", m->name, m->name_len, "not in the journal (cut short?)");
    }
    free(path);
}

/* Everything after the scan: the manifest, its signature, the entries against the members. */
static void check_scanned(struct vf *v, const char *archive)
{
    struct vf_result *res = v->r;
    res->members = v->scan.n_members;
    if (v->scan.read_error)
        problem(v, "UNREADABLE", NULL, 0, "the archive is truncated or corrupt: %s",
                v->scan.read_error_msg);
    if (archive)
        check_sidecar(v, archive);
    if (v->scan.manifest_index < 0 || !v->scan.manifest) {
        if (archive && v->scan.encrypted && !v->o->journal)
            problem(v, "NO MANIFEST", NULL, 0, "manifest.json is missing (an encrypted run "
                    "keeps no journal to check the members against)");
        else if (archive)
            check_journal(v, archive);
        else
            problem(v, "NO MANIFEST", NULL, 0, "manifest.json is missing");
        res->ok = 0;
        return;
    }
    json_error_t je;
    json_t *mf = json_loadb((const char *)v->scan.manifest, v->scan.manifest_len,
                            JSON_REJECT_DUPLICATES, &je);
    if (!mf || !json_is_object(mf)) {
        problem(v, "BAD MANIFEST", NULL, 0, "manifest.json is not a JSON object: %d:%d: %s",
                je.line, je.column, je.text);
        json_decref(mf);
        res->ok = 0;
        return;
    }
    const char *fmt = json_string_value(json_object_get(mf, "format"));
    if (!fmt || strcmp(fmt, "custody-manifest/1") != 0)
        problem(v, "BAD MANIFEST", NULL, 0, "unknown format %s", fmt ? fmt : "(none)");
    const char *state = json_string_value(json_object_get(json_object_get(mf, "collection"), "state"));
    snprintf(res->state, sizeof res->state, "%s", state ? state : "unknown");
    check_signature(v, mf);
    json_t *part = json_object_get(mf, "part");
    if (json_is_object(part))
        res->part = json_incref(part);
    if (v->scan.manifest_index != (long)v->scan.n_members - 2 ||
        v->scan.sig_index != (long)v->scan.n_members - 1)
        problem(v, "ORDER", NULL, 0, "manifest.json and manifest.sig are not the last two members");
    json_t *entries = json_object_get(mf, "entries");
    if (!json_is_array(entries)) {
        problem(v, "BAD MANIFEST", NULL, 0, "no entries array");
    } else {
        size_t i;
        json_t *e;
        res->entries = json_array_size(entries);
        json_array_foreach(entries, i, e) check_entry(v, e);
    }
    check_leftovers(v);
    json_decref(mf);
    res->ok = res->problems == 0;
}

int vf_verify(const char *archive, const struct vf_opts *o, struct vf_result *res,
              struct cu_err *err)
{
    memset(res, 0, sizeof *res);
    res->problem_list = json_array();
    res->sidecar = -1;
    struct vf v = {o, res, {0}};
    if (mf_scan(archive, 1, o->ids, o->n_ids, &v.scan, err) != 0)
        return -1;
    check_scanned(&v, archive);
    memcpy(res->file_sha256, v.scan.file_sha256, sizeof res->file_sha256);
    if (v.scan.cmanifest) {
        res->cmanifest = v.scan.cmanifest;
        res->cmanifest_len = v.scan.cmanifest_len;
        v.scan.cmanifest = NULL;
        res->csig_len = v.scan.csig_len;
        memcpy(res->csig, v.scan.csig, sizeof res->csig);
    }
    mf_scan_free(&v.scan);
    return 0;
}

int vf_verify_manifest(const unsigned char *manifest, size_t len, const struct vf_opts *o,
                       struct vf_result *res)
{
    memset(res, 0, sizeof *res);
    res->problem_list = json_array();
    res->sidecar = -1;
    struct vf v = {o, res, {0}};
    v.scan.manifest_index = 0;
    v.scan.sig_index = -1;
    v.scan.n_members = 1;
    v.scan.manifest = cu_xmalloc(len + 1);
    memcpy(v.scan.manifest, manifest, len);
    v.scan.manifest_len = len;
    check_scanned(&v, NULL);
    mf_scan_free(&v.scan);
    return 0;
}

void vf_result_free(struct vf_result *res)
{
    json_decref(res->problem_list);
    res->problem_list = NULL;
    json_decref(res->part);
    res->part = NULL;
    free(res->cmanifest);
    res->cmanifest = NULL;
}
