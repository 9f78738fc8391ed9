/*
 * volume: see volume.h.
 */
#define _GNU_SOURCE
#include "volume.h"
#include "seal.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clog.h"
#include "entry.h"
#include "manifest.h"
#include "sign.h"

/* collect's options that take a value, so that a value such as `--note --split` is not
 * mistaken for one of ours */
static int takes_value(const char *a)
{
    static const char *const longs[] = {"--root", "--out", "--profile", "--include", "--exclude",
                                        "--set", "--case", "--examiner", "--note", "--sign-key",
                                        "--passphrase-file", "--hash", "--compress",
                                        "--encrypt-to", "--max-total", "--max-file-size",
                                        "--rate-limit", "--timeout", "--progress", NULL};
    if (a[0] == '-' && a[1] && a[1] != '-' && !a[2])
        return strchr("ropixsceknHz", a[1]) != NULL;
    for (int i = 0; longs[i]; i++)
        if (!strcmp(a, longs[i]))
            return 1;
    return 0;
}

static int set_opt(struct vol_opts *vo, int split, const char *val)
{
    if (split) {
        if (cu_size_parse(val, &vo->split) != 0 || vo->split < (64u << 10)) {
            fprintf(stderr, "custody collect: --split %s: a size of at least 64K (e.g. 4000M)\n",
                    val);
            return -1;
        }
        return 0;
    }
    if (oa_format_parse(val, &vo->fmt) != 0) {
        fprintf(stderr, "custody collect: --format must be pax or zip\n");
        return -1;
    }
    return 0;
}

int vol_opts_take(int argc, char **argv, struct vol_opts *vo, int *cargc, char ***cargv)
{
    memset(vo, 0, sizeof *vo);
    char **out = cu_xcalloc((size_t)argc + 1, sizeof *out);
    int n = 0, ended = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (i == 0 || ended) {
            out[n++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--")) {
            ended = 1;
            out[n++] = argv[i];
            continue;
        }
        int split = !strncmp(a, "--split", 7), fmt = !strncmp(a, "--format", 8);
        size_t k = split ? 7 : 8;
        if ((split || fmt) && (a[k] == '\0' || a[k] == '=')) {
            const char *val = a[k] == '=' ? a + k + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!val) {
                fprintf(stderr, "custody collect: %s needs a value\n", a);
                free(out);
                return -1;
            }
            if (set_opt(vo, split, val) != 0) {
                free(out);
                return -1;
            }
            continue;
        }
        out[n++] = argv[i];
        if (takes_value(a) && i + 1 < argc)
            out[n++] = argv[++i];
    }
    *cargc = n;
    *cargv = out;
    return 0;
}

void vol_usage(FILE *f)
{
    fprintf(f,
        "\n"
        "container: --format pax|zip (default pax: <stem>.tar.zst; zip: <stem>.zip, deflate,\n"
        "           or stored with --compress none; zip64 always on)\n"
        "           --split SIZE (e.g. 4000M for FAT32): parts <stem>.part001.tar.zst, ...,\n"
        "           each a complete signed archive, none larger than SIZE; the last one also\n"
        "           carries the collection manifest; a file larger than a part is skipped\n");
}

int vol_compress(const struct vol_opts *vo, enum oa_compress *c)
{
    if (vo->fmt == OA_ZIP) {
        if (*c != OA_NONE)
            *c = OA_DEFLATE;
        return 0;
    }
    if (*c == OA_DEFLATE) {
        fprintf(stderr, "custody collect: --compress deflate is for --format zip\n");
        return -1;
    }
    return 0;
}

static char *part_path(const char *outdir, const char *stem, unsigned idx, enum oa_format f,
                       enum oa_compress c, int encrypted)
{
    return cu_xasprintf("%s/%s.part%03u%s%s", outdir, stem, idx, oa_suffix_fmt(f, c),
                        encrypted ? ".age" : "");
}

char *vol_archive_path(const struct vol_opts *vo, const char *outdir, const char *stem,
                       enum oa_compress c, int encrypted)
{
    if (vo->split)
        return part_path(outdir, stem, 1, vo->fmt, c, encrypted);
    return cu_xasprintf("%s/%s%s%s", outdir, stem, oa_suffix_fmt(vo->fmt, c),
                        encrypted ? ".age" : "");
}

void vol_annotate(json_t *head, const struct vol_opts *vo)
{
    json_t *c = json_object_get(head, "collection");
    if (json_is_object(c))
        json_object_set_new(c, "format", json_string(oa_format_name(vo->fmt)));
}

/* ---- split ---- */

struct part_rec {
    char *file; /* base name */
    uint64_t size;
    char sha256[65];
};

struct vol {
    struct vol_opts vo;
    struct oa_writer *oa;
    char *outdir, *stem;
    enum oa_compress comp;
    int n_recips;
    char *journal_path;
    const struct sig_key *key;
    int ephemeral;
    vol_head_fn head_fn;
    void *head_ctx;
    struct clog *log;
    unsigned index;       /* the open part, from 1 */
    char *cur_path;
    uint64_t part_u;      /* estimated uncompressed bytes in the open part */
    uint64_t part_members;
    uint64_t part_names;  /* name bytes of its members (zip's central directory) */
    uint64_t part_off;    /* journal offset where the open part's entries start */
    uint64_t head_len;    /* a head's size, measured once */
    struct part_rec *parts;
    size_t n_parts;
    int slice_fd;         /* the last part's journal (memfd) */
    char *slice_path;
    int fatal;
    int finishing;        /* vol_finish ran: the rest goes into the last part, no rotation */
};

static uint64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Compressed (zstd, gzip, deflate) output is never larger than its input plus 1/128 and a
 * few bytes; age adds 16 bytes per 64 KiB chunk and its header. */
static uint64_t projected(const struct vol *v, uint64_t u)
{
    uint64_t p = u + u / 128 + 4096;
    if (v->n_recips)
        p += (u / 65536 + 2) * 16 + 1024 + 256u * (uint64_t)v->n_recips;
    return p;
}

/* Bytes the part's end takes: manifest.json (head, its entry lines, summary), the
 * signature, their headers, the archive's end (tar blocking, zip central directory). */
static uint64_t closing(const struct vol *v, uint64_t extra_json)
{
    uint64_t jr = file_size(v->journal_path);
    uint64_t slice = jr > v->part_off ? jr - v->part_off : 0;
    uint64_t c = v->head_len + slice + extra_json + 16384;
    c += v->vo.fmt == OA_PAX ? 11264 : v->part_members * 128 + v->part_names + 1024;
    return c;
}

static uint64_t est_header(struct archive_entry *e)
{
    const char *p = archive_entry_pathname(e), *l = archive_entry_symlink(e);
    uint64_t n = 2048 + 3 * (p ? strlen(p) : 0) + 2 * (l ? strlen(l) : 0);
    const char *xn;
    const void *xv;
    size_t xs;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &xn, &xv, &xs) == ARCHIVE_OK)
        n += 3 * (strlen(xn) + xs) + 64;
    n += 64 * (uint64_t)archive_entry_sparse_count(e);
    return n;
}

static uint64_t round512(uint64_t n)
{
    return (n + 511) & ~(uint64_t)511;
}

static void measure_head(struct vol *v)
{
    if (v->head_len)
        return;
    json_t *h = v->head_fn(v->head_ctx);
    char *s = json_dumps(h, JSON_COMPACT);
    v->head_len = (s ? strlen(s) : 8192) + 2048;
    free(s);
    json_decref(h);
}

int vol_fits(const struct vol *v, uint64_t bytes, char *reason, size_t rsz)
{
    uint64_t need = projected(v, v->head_len + round512(bytes) + 2048 + 3 * 4096 + 16384 + 11264);
    if (need <= v->vo.split)
        return 1;
    snprintf(reason, rsz, "split: %llu bytes do not fit in a part of --split %llu bytes "
             "(files larger than a part are not collected)", (unsigned long long)bytes,
             (unsigned long long)v->vo.split);
    return 0;
}

/* The summary object of the entry lines in path (and the findings file, if any). */
static json_t *summary_of(const char *path, const char *findings_path)
{
    struct mf_summary s;
    mf_summary_init(&s);
    FILE *f = seal_fopen(path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (f && (n = getline(&line, &cap, f)) > 0) {
        json_t *e = json_loadb(line, (size_t)n, 0, NULL);
        if (!e)
            continue;
        struct mf_entry me;
        mf_entry_init(&me);
        if (json_is_string(json_object_get(e, "member")) ||
            json_is_string(json_object_get(e, "member_b64")))
            me.member = "x";
        me.collected_bytes = (uint64_t)json_integer_value(json_object_get(e, "collected_bytes"));
        const char *st = json_string_value(json_object_get(e, "status"));
        for (int k = 0; k < MF_STATUS_COUNT; k++)
            if (st && !strcmp(st, mf_status_name((enum mf_status)k)))
                me.status = (enum mf_status)k;
        me.err_errno = json_is_object(json_object_get(e, "error")) ? 0 : -1;
        json_t *rules = json_object_get(e, "rules");
        size_t nr = json_array_size(rules);
        const char **ids = cu_xcalloc(nr + 1, sizeof *ids);
        for (size_t i = 0; i < nr; i++)
            ids[i] = json_string_value(json_array_get(rules, i)) ? json_string_value(json_array_get(rules, i)) : "";
        me.rules = ids;
        me.n_rules = nr;
        mf_summary_add(&s, &me);
        free(ids);
        json_decref(e);
    }
    if (f)
        fclose(f);
    FILE *ff = findings_path ? seal_fopen(findings_path) : NULL;
    while (ff && (n = getline(&line, &cap, ff)) > 0) {
        json_t *e = json_loadb(line, (size_t)n, 0, NULL);
        const char *rule = e ? json_string_value(json_object_get(e, "rule")) : NULL;
        if (rule)
            mf_summary_add_finding(&s, rule);
        json_decref(e);
    }
    if (ff)
        fclose(ff);
    free(line);
    json_t *o = mf_summary_to_json(&s);
    mf_summary_free(&s);
    return o;
}

/* Copy bytes [from, to) of the journal into a new memfd; its path in *path. */
static int slice_journal(const char *jpath, uint64_t from, uint64_t to, char **path,
                         struct cu_err *err)
{
    int fd = memfd_create("custody-part-journal", MFD_CLOEXEC);
    if (fd < 0)
        return cu_err_set(err, errno, "memfd_create: %s", strerror(errno));
    FILE *in = seal_fopen(jpath); /* the journal of an encrypted run is sealed */
    if (!in || fseeko(in, (off_t)from, SEEK_SET) != 0) {
        int en = errno;
        if (in)
            fclose(in);
        close(fd);
        return cu_err_set(err, en, "reading the journal %s: %s", jpath, strerror(en));
    }
    char buf[65536];
    uint64_t pos = from;
    while (pos < to) {
        size_t want = to - pos < sizeof buf ? (size_t)(to - pos) : sizeof buf;
        size_t r = fread(buf, 1, want, in);
        if (r == 0 || write(fd, buf, r) != (ssize_t)r) {
            fclose(in);
            close(fd);
            return cu_err_set(err, errno, "copying the journal");
        }
        pos += r;
    }
    fclose(in);
    *path = cu_xasprintf("/proc/self/fd/%d", fd);
    return fd;
}

static json_t *part_object(const struct vol *v, int last)
{
    json_t *p = json_object();
    json_object_set_new(p, "index", json_integer(v->index));
    json_object_set_new(p, "of", last ? json_integer(v->index) : json_null());
    json_object_set_new(p, "collection", json_string(v->stem));
    return p;
}

/* Write a manifest (head + entries of jpath + findings + summary) to memory, then as the
 * member <stem>/<name> and its signature as <stem>/<signame>. */
static int put_signed(struct vol *v, const json_t *head, const char *jpath, const char *findings,
                      const json_t *summary, const char *name, const char *signame,
                      struct cu_err *err)
{
    int mfd = memfd_create("custody-part-manifest", MFD_CLOEXEC);
    if (mfd < 0)
        return cu_err_set(err, errno, "memfd_create: %s", strerror(errno));
    int rc = -1;
    if (mf_manifest_write_fd(mfd, head, jpath, findings, summary, err) != 0)
        goto out;
    struct stat st;
    if (fstat(mfd, &st) != 0 || st.st_size == 0) {
        cu_err_set(err, errno, "reading back a part manifest");
        goto out;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, mfd, 0);
    if (m == MAP_FAILED) {
        cu_err_set(err, errno, "mmap: %s", strerror(errno));
        goto out;
    }
    unsigned char sig[SIG_ED25519_LEN];
    char *mn = cu_xasprintf("%s/%s", v->stem, name), *sn = cu_xasprintf("%s/%s", v->stem, signame);
    if (sig_sign(v->key, m, (size_t)st.st_size, sig, err) == 0 &&
        oa_put_file(v->oa, mn, m, (size_t)st.st_size, err) == 0 &&
        oa_put_file(v->oa, sn, sig, sizeof sig, err) == 0)
        rc = 0;
    free(mn);
    free(sn);
    munmap(m, (size_t)st.st_size);
out:
    close(mfd);
    return rc;
}

/* Close the open part: its manifest and signature, the file, its sidecar (and .pub), then
 * open the next part. */
static int rotate(struct vol *v, struct cu_err *err)
{
    uint64_t end = file_size(v->journal_path);
    char *jpath = NULL;
    int jfd = slice_journal(v->journal_path, v->part_off, end, &jpath, err);
    if (jfd < 0)
        return -1;
    json_t *head = v->head_fn(v->head_ctx);
    vol_annotate(head, &v->vo);
    json_object_set_new(head, "part", part_object(v, 0));
    json_t *sum = summary_of(jpath, NULL);
    int rc = put_signed(v, head, jpath, NULL, sum, "manifest.json", "manifest.sig", err);
    json_decref(head);
    json_decref(sum);
    close(jfd);
    free(jpath);
    if (rc != 0)
        return -1;
    char *next = part_path(v->outdir, v->stem, v->index + 1, v->vo.fmt, v->comp, v->n_recips > 0);
    struct part_rec pr = {0};
    if (oa_next_file(v->oa, next, pr.sha256, &pr.size, err) != 0) {
        free(next);
        return -1;
    }
    const char *base = strrchr(v->cur_path, '/') + 1;
    pr.file = cu_xstrdup(base);
    v->parts = cu_xrealloc(v->parts, (v->n_parts + 1) * sizeof *v->parts);
    v->parts[v->n_parts++] = pr;
    char *side = cu_xasprintf("%s.sha256", v->cur_path);
    char *text = cu_xasprintf("%s  %s\n", pr.sha256, base);
    if (cu_write_new(side, text, 0644, err) != 0)
        clog_printf(v->log, CLOG_WARN, "%s", err->msg);
    free(side);
    free(text);
    if (v->ephemeral) {
        char *pub = cu_xasprintf("%s.pub", v->cur_path);
        if (sig_key_write_public(v->key, pub, err) != 0)
            clog_printf(v->log, CLOG_WARN, "%s", err->msg);
        free(pub);
    }
    clog_printf(v->log, CLOG_INFO, "part %u done: %s, %llu bytes; next part %s", v->index, base,
                (unsigned long long)pr.size, next);
    free(v->cur_path);
    v->cur_path = next;
    v->index++;
    v->part_u = 0;
    v->part_members = 0;
    v->part_names = 0;
    v->part_off = end;
    return 0;
}

static int hook(void *ctx, struct oa_writer *w, struct archive_entry *e, struct cu_err *err)
{
    (void)w;
    struct vol *v = ctx;
    if (v->fatal)
        return cu_err_set(err, 0, "an earlier part could not be finished");
    measure_head(v);
    const char *p = archive_entry_pathname(e);
    size_t nl = p ? strlen(p) : 0;
    uint64_t size = archive_entry_size_is_set(e) ? (uint64_t)archive_entry_size(e) : 0;
    uint64_t est = est_header(e) + round512(size);
    if (v->part_members && !v->finishing &&
        projected(v, v->part_u + est + closing(v, 1500 + 3 * nl)) > v->vo.split) {
        if (rotate(v, err) != 0) {
            v->fatal = 1;
            return -1;
        }
    }
    v->part_u += est;
    v->part_members++;
    v->part_names += 2 * nl;
    return 0;
}

struct vol *vol_new(const struct vol_opts *vo, struct oa_writer *oa, const char *outdir,
                    const char *stem, enum oa_compress c, int n_recips, const char *journal_path,
                    const struct sig_key *key, int ephemeral, vol_head_fn head_fn,
                    void *head_ctx, struct clog *log)
{
    struct vol *v = cu_xcalloc(1, sizeof *v);
    v->vo = *vo;
    v->oa = oa;
    v->outdir = cu_xstrdup(outdir);
    v->stem = cu_xstrdup(stem);
    v->comp = c;
    v->n_recips = n_recips;
    v->journal_path = cu_xstrdup(journal_path);
    v->key = key;
    v->ephemeral = ephemeral;
    v->head_fn = head_fn;
    v->head_ctx = head_ctx;
    v->log = log;
    v->index = 1;
    v->cur_path = part_path(outdir, stem, 1, vo->fmt, c, n_recips > 0);
    v->slice_fd = -1;
    measure_head(v);
    oa_set_hook(oa, hook, v);
    return v;
}

/* One entry line for a member the tool wrote itself (the collection manifest). */
static void own_entry_line(struct cu_buf *b, const char *path, const char *member,
                           uint64_t len, const char *sha)
{
    static const char *const rules[] = {"parts"};
    struct mf_entry e;
    mf_entry_init(&e);
    e.path = path;
    e.path_len = strlen(path);
    e.member = member;
    e.member_len = strlen(member);
    e.type = "file";
    e.size = len;
    e.collected_bytes = len;
    e.have_digests = 1;
    snprintf(e.digests[DG_SHA256], DG_HEX_MAX, "%s", sha);
    e.rules = rules;
    e.n_rules = 1;
    mf_entry_to_line(&e, b);
    cu_buf_append(b, "\n", 1);
}

int vol_finish(struct vol *v, json_t *head, const char *journal_path, const char *findings_path,
               json_t **summary, const char **part_journal, char **archive_path, FILE *out,
               struct cu_err *err)
{
    uint64_t jr = file_size(journal_path), fr = findings_path ? file_size(findings_path) : 0;
    /* The collection manifest and this part's manifest: is there room left in this part? */
    uint64_t cm = v->head_len + jr + fr + 256 * (v->n_parts + 2) + 8192;
    if (v->part_members && projected(v, v->part_u + cm + closing(v, fr + 4096)) > v->vo.split &&
        rotate(v, err) != 0)
        return -1;
    v->finishing = 1; /* the collection manifest and this part's own must stay together */
    if (projected(v, cm + closing(v, fr + 4096)) > v->vo.split && v->log)
        clog_printf(v->log, CLOG_WARN, "the collection manifest (about %llu bytes) does not fit "
                    "in a part of --split %llu: the last part will be larger than that",
                    (unsigned long long)cm, (unsigned long long)v->vo.split);
    /* The collection manifest: every entry, every part. */
    json_t *ch = json_deep_copy(head);
    json_t *parts = json_array();
    for (size_t i = 0; i < v->n_parts; i++) {
        json_t *p = json_object();
        json_object_set_new(p, "index", json_integer((json_int_t)i + 1));
        json_object_set_new(p, "file", json_string(v->parts[i].file));
        json_object_set_new(p, "size", json_integer((json_int_t)v->parts[i].size));
        json_object_set_new(p, "sha256", json_string(v->parts[i].sha256));
        json_array_append_new(parts, p);
    }
    json_t *lp = json_object();
    json_object_set_new(lp, "index", json_integer(v->index));
    json_object_set_new(lp, "file", json_string(strrchr(v->cur_path, '/') + 1));
    json_object_set_new(lp, "size", json_null());
    json_object_set_new(lp, "sha256", json_null());
    json_array_append_new(parts, lp);
    json_object_set_new(ch, "parts", parts);
    char sha_cm[65] = "", sha_sig[65] = "";
    size_t cm_len = 0;
    int mfd = memfd_create("custody-collection-manifest", MFD_CLOEXEC);
    if (mfd < 0) {
        json_decref(ch);
        return cu_err_set(err, errno, "memfd_create: %s", strerror(errno));
    }
    int rc = mf_manifest_write_fd(mfd, ch, journal_path, findings_path, *summary, err);
    json_decref(ch);
    struct stat st;
    void *m = MAP_FAILED;
    if (rc == 0 && fstat(mfd, &st) == 0 && st.st_size > 0)
        m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, mfd, 0);
    close(mfd);
    if (m == MAP_FAILED)
        return rc != 0 ? -1 : cu_err_set(err, errno, "reading back the collection manifest");
    cm_len = (size_t)st.st_size;
    unsigned char sig[SIG_ED25519_LEN], d[32];
    unsigned int dl;
    char *mn = cu_xasprintf("%s/collection-manifest.json", v->stem);
    char *sn = cu_xasprintf("%s/collection-manifest.sig", v->stem);
    rc = sig_sign(v->key, m, cm_len, sig, err) == 0 &&
         oa_put_file(v->oa, mn, m, cm_len, err) == 0 &&
         oa_put_file(v->oa, sn, sig, sizeof sig, err) == 0 ? 0 : -1;
    EVP_Digest(m, cm_len, d, &dl, EVP_sha256(), NULL);
    cu_hex(d, 32, sha_cm);
    EVP_Digest(sig, sizeof sig, d, &dl, EVP_sha256(), NULL);
    cu_hex(d, 32, sha_sig);
    munmap(m, cm_len);
    if (rc != 0) {
        free(mn);
        free(sn);
        return -1;
    }
    /* The last part's journal: its own entries and the two collection-manifest members. */
    uint64_t end = file_size(journal_path);
    char *jpath = NULL;
    int jfd = slice_journal(journal_path, v->part_off, end, &jpath, err);
    if (jfd < 0) {
        free(mn);
        free(sn);
        return -1;
    }
    struct cu_buf b;
    cu_buf_init(&b, 1u << 20);
    own_entry_line(&b, "collection-manifest.json", mn, cm_len, sha_cm);
    own_entry_line(&b, "collection-manifest.sig", sn, sizeof sig, sha_sig);
    int wr = write(jfd, b.data, b.len) == (ssize_t)b.len;
    cu_buf_free(&b);
    free(mn);
    free(sn);
    if (!wr) {
        close(jfd);
        free(jpath);
        return cu_err_set(err, errno, "writing the part journal");
    }
    v->slice_fd = jfd;
    v->slice_path = jpath;
    json_decref(*summary);
    *summary = summary_of(jpath, findings_path);
    json_object_set_new(head, "part", part_object(v, 1));
    *part_journal = jpath;
    for (size_t i = 0; i < v->n_parts; i++)
        fprintf(out, "%s/%s\n", v->outdir, v->parts[i].file);
    free(*archive_path);
    *archive_path = cu_xstrdup(v->cur_path);
    return 0;
}

void vol_free(struct vol *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n_parts; i++)
        free(v->parts[i].file);
    free(v->parts);
    free(v->outdir);
    free(v->stem);
    free(v->journal_path);
    free(v->cur_path);
    if (v->slice_fd >= 0)
        close(v->slice_fd);
    free(v->slice_path);
    free(v);
}
