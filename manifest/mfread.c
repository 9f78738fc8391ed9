/*
 * mfread: see mfread.h.
 */
#define _GNU_SOURCE
#include "mfread.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "age.h"

#define BLOCK (64u * 1024u)

struct rd_state {
    int fd;
    EVP_MD_CTX *sha;      /* of the file's bytes as they are on disk (ciphertext for .age) */
    struct age_dec *dec;  /* an age-encrypted archive: plaintext comes from here */
    int dec_failed;       /* the age layer failed (authentication, truncation) */
    char dec_msg[256];
    unsigned char buf[BLOCK];
};

/* The age decryptor's source: the file, hashed as it is read. */
static ssize_t age_src(void *ctx, void *buf, size_t len)
{
    struct rd_state *s = ctx;
    for (;;) {
        ssize_t n = read(s->fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0 && s->sha)
            EVP_DigestUpdate(s->sha, buf, (size_t)n);
        return n;
    }
}

static la_ssize_t read_cb(struct archive *a, void *ctx, const void **out)
{
    struct rd_state *s = ctx;
    if (s->dec) {
        struct cu_err e;
        ssize_t n = age_dec_read(s->dec, s->buf, sizeof s->buf, &e);
        if (n < 0) {
            s->dec_failed = 1;
            snprintf(s->dec_msg, sizeof s->dec_msg, "%.250s", e.msg);
            archive_set_error(a, EIO, "%s", e.msg);
            return -1;
        }
        *out = s->buf;
        return n;
    }
    for (;;) {
        ssize_t n = read(s->fd, s->buf, sizeof s->buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            archive_set_error(a, errno, "read: %s", strerror(errno));
            return -1;
        }
        if (s->sha)
            EVP_DigestUpdate(s->sha, s->buf, (size_t)n);
        *out = s->buf;
        return n;
    }
}

static struct archive *new_reader(void)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_format_zip(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_none(a);
    return a;
}

static void rd_state_free(struct rd_state *st)
{
    if (!st)
        return;
    age_dec_free(st->dec);
    EVP_MD_CTX_free(st->sha);
    if (st->fd >= 0)
        close(st->fd);
    free(st);
}

/* Open the file; when it is age-encrypted, start decrypting it with the identities.
 * NULL with err: cannot open, not a regular file, encrypted but no identity given, no
 * identity matches. A damaged age header is not an error here: dec_failed is set, so
 * that the reader reports the file as corrupt (an integrity failure). */
static struct rd_state *rd_state_open(const char *path, int hash, const struct age_identity *ids,
                                      size_t nids, struct cu_err *err)
{
    struct rd_state *st = cu_xcalloc(1, sizeof *st);
    st->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (st->fd < 0) {
        int e = errno;
        free(st);
        cu_err_set(err, e, "%s: %s", path, strerror(e));
        return NULL;
    }
    struct stat sb;
    if (fstat(st->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        rd_state_free(st);
        cu_err_set(err, 0, "%s: not a regular file", path);
        return NULL;
    }
    if (hash) {
        st->sha = EVP_MD_CTX_new();
        EVP_DigestInit_ex(st->sha, EVP_sha256(), NULL);
    }
    unsigned char head[32];
    ssize_t hn = pread(st->fd, head, sizeof head, 0);
    if (hn > 0 && age_is_age(head, (size_t)hn)) {
        if (!nids) {
            rd_state_free(st);
            cu_err_set(err, 0, "%s is age-encrypted: give --identity FILE (the sidecar can be "
                               "checked without the key: sha256sum -c %s.sha256)", path, path);
            return NULL;
        }
        struct cu_err e;
        st->dec = age_dec_new(ids, nids, age_src, st, &e);
        if (!st->dec) {
            /* A wrong key is not a damaged archive: say so and stop (exit 2). */
            if (strstr(e.msg, "no identity matches")) {
                rd_state_free(st);
                cu_err_set(err, 0, "%s: %s (wrong --identity, or a damaged header)", path, e.msg);
                return NULL;
            }
            st->dec_failed = 1;
            snprintf(st->dec_msg, sizeof st->dec_msg, "%.250s", e.msg);
        }
    }
    return st;
}

static int close_cb(struct archive *a, void *ctx)
{
    (void)a;
    rd_state_free(ctx);
    return ARCHIVE_OK;
}

struct archive *mf_archive_open(const char *path, const struct age_identity *ids, size_t nids,
                                struct cu_err *err)
{
    struct rd_state *st = rd_state_open(path, 0, ids, nids, err);
    if (!st)
        return NULL;
    if (st->dec_failed) {
        cu_err_set(err, 0, "%s: %s", path, st->dec_msg);
        rd_state_free(st);
        return NULL;
    }
    struct archive *a = new_reader();
    if (archive_read_open(a, st, NULL, read_cb, close_cb) != ARCHIVE_OK) {
        cu_err_set(err, archive_errno(a) > 0 ? archive_errno(a) : 0, "%s: %s", path,
                   archive_error_string(a) ? archive_error_string(a) : "cannot open");
        archive_read_free(a);
        return NULL;
    }
    return a;
}

static uint64_t hash_name(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

struct mf_member *mf_scan_find(const struct mf_scan *s, const char *name, size_t len)
{
    if (!s->cap)
        return NULL;
    size_t i = hash_name(name, len) & (s->cap - 1);
    while (s->tab[i].name) {
        if (s->tab[i].name_len == len && !memcmp(s->tab[i].name, name, len))
            return &s->tab[i];
        i = (i + 1) & (s->cap - 1);
    }
    return NULL;
}

static struct mf_member *insert(struct mf_scan *s, const char *name, size_t len, int *dup)
{
    struct mf_member *m = mf_scan_find(s, name, len);
    if (m) {
        m->dups++;
        *dup = 1;
        return m;
    }
    *dup = 0;
    if ((s->count + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 1024;
        struct mf_member *nt = cu_xcalloc(ncap, sizeof *nt);
        for (size_t k = 0; k < s->cap; k++) {
            if (!s->tab[k].name)
                continue;
            size_t i = hash_name(s->tab[k].name, s->tab[k].name_len) & (ncap - 1);
            while (nt[i].name)
                i = (i + 1) & (ncap - 1);
            nt[i] = s->tab[k];
        }
        free(s->tab);
        s->tab = nt;
        s->cap = ncap;
    }
    size_t i = hash_name(name, len) & (s->cap - 1);
    while (s->tab[i].name)
        i = (i + 1) & (s->cap - 1);
    m = &s->tab[i];
    memset(m, 0, sizeof *m);
    m->name = cu_xstrndup(name, len);
    m->name_len = len;
    s->count++;
    return m;
}

/* 1 if name is "<stem>/<leaf>" with a stem free of '/'. */
static int is_top(const char *name, const char *leaf)
{
    const char *slash = strchr(name, '/');
    return slash && slash != name && !strcmp(slash + 1, leaf);
}

int mf_scan(const char *path, int hash, const struct age_identity *ids, size_t nids,
            struct mf_scan *out, struct cu_err *err)
{
    memset(out, 0, sizeof *out);
    out->manifest_index = out->sig_index = -1;
    struct rd_state *st = rd_state_open(path, 1, ids, nids, err);
    if (!st)
        return -1;
    out->encrypted = st->dec != NULL || st->dec_failed;
    struct archive *a = new_reader();
    int rc = -1;
    EVP_MD_CTX *md[3] = {EVP_MD_CTX_new(), EVP_MD_CTX_new(), EVP_MD_CTX_new()};
    const EVP_MD *algs[3] = {EVP_sha256(), EVP_sha1(), EVP_md5()};
    unsigned char *buf = cu_xmalloc(BLOCK);
    struct archive_entry *ae;
    int first = 1;
    if (st->dec_failed) {
        /* a damaged age header: nothing to read, but the file is still hashed below */
        out->read_error = 1;
        snprintf(out->read_error_msg, sizeof out->read_error_msg, "%s", st->dec_msg);
        goto drain;
    }
    if (archive_read_open(a, st, NULL, read_cb, NULL) != ARCHIVE_OK) {
        if (st->dec_failed) {
            out->read_error = 1;
            snprintf(out->read_error_msg, sizeof out->read_error_msg, "%s", st->dec_msg);
            goto drain;
        }
        cu_err_set(err, 0, "%s: not a readable archive: %s", path,
                   archive_error_string(a) ? archive_error_string(a) : "?");
        goto out;
    }
    for (;;) {
        int r = archive_read_next_header(a, &ae);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            if (first && !st->dec_failed) {
                cu_err_set(err, 0, "%s: not a readable archive: %s", path,
                           archive_error_string(a) ? archive_error_string(a) : "?");
                goto out;
            }
            out->read_error = 1;
            snprintf(out->read_error_msg, sizeof out->read_error_msg, "%s",
                     archive_error_string(a) ? archive_error_string(a) : "read error");
            break;
        }
        if (first)
            out->is_zip = archive_format(a) == ARCHIVE_FORMAT_ZIP ||
                          (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP;
        first = 0;
        const char *name = archive_entry_pathname(ae);
        if (!name)
            name = "";
        size_t nlen = strlen(name);
        size_t index = out->n_members++;
        int dup;
        struct mf_member *m = insert(out, name, nlen, &dup);
        int is_mf = is_top(name, "manifest.json"), is_sig = is_top(name, "manifest.sig");
        int is_cm = !dup && is_top(name, "collection-manifest.json");
        int is_csig = !dup && is_top(name, "collection-manifest.sig");
        if (!dup) {
            m->type = archive_entry_filetype(ae);
            m->size = archive_entry_size_is_set(ae) ? (uint64_t)archive_entry_size(ae) : 0;
            m->index = index;
            const char *ln = archive_entry_symlink(ae);
            if (ln)
                m->link = cu_xstrdup(ln);
        }
        if (is_mf) {
            out->manifest_index = (long)index;
            free(out->manifest);
            out->manifest = NULL;
            out->manifest_len = 0;
            free(out->stem);
            out->stem = cu_xstrndup(name, (size_t)(strchr(name, '/') - name));
        }
        if (is_sig)
            out->sig_index = (long)index;
        int want_hash = hash && !dup && m->type == AE_IFREG;
        if (want_hash)
            for (int k = 0; k < 3; k++)
                EVP_DigestInit_ex(md[k], algs[k], NULL);
        struct cu_buf mbuf;
        cu_buf_init(&mbuf, MF_MANIFEST_MAX);
        size_t sig_len = 0;
        uint64_t got = 0;
        int too_big = 0;
        for (;;) {
            la_ssize_t n = archive_read_data(a, buf, BLOCK);
            if (n == 0)
                break;
            if (n < 0) {
                out->read_error = 1;
                snprintf(out->read_error_msg, sizeof out->read_error_msg, "%s: %s", name,
                         archive_error_string(a) ? archive_error_string(a) : "read error");
                if (!dup)
                    m->short_read = 1;
                break;
            }
            got += (uint64_t)n;
            if (want_hash)
                for (int k = 0; k < 3; k++)
                    EVP_DigestUpdate(md[k], buf, (size_t)n);
            if ((is_mf || is_cm) && !too_big && cu_buf_append(&mbuf, buf, (size_t)n) != 0)
                too_big = 1;
            if (is_csig) {
                /* Keep at most 64 bytes; a longer member is not a signature: csig_len then
                 * saturates at 65 so that the length check fails (and never wraps). */
                size_t room = out->csig_len < sizeof out->csig ? sizeof out->csig - out->csig_len : 0;
                size_t take = (size_t)n < room ? (size_t)n : room;
                if (take)
                    memcpy(out->csig + out->csig_len, buf, take);
                if (out->csig_len > sizeof out->csig || (size_t)n > sizeof out->csig - out->csig_len)
                    out->csig_len = sizeof out->csig + 1;
                else
                    out->csig_len += (size_t)n;
            }
            if (is_sig) {
                size_t take = (size_t)n;
                if (sig_len + take > sizeof out->sig)
                    take = sizeof out->sig - sig_len, too_big = 1;
                memcpy(out->sig + sig_len, buf, take);
                sig_len += take;
            }
        }
        if (!dup) {
            m->read_bytes = got;
            if (want_hash && !m->short_read) {
                unsigned char d[EVP_MAX_MD_SIZE];
                unsigned int dl;
                char *dst[3] = {m->sha256, m->sha1, m->md5};
                for (int k = 0; k < 3; k++) {
                    EVP_DigestFinal_ex(md[k], d, &dl);
                    cu_hex(d, dl, dst[k]);
                }
            }
        }
        if (is_mf) {
            if (too_big) {
                out->read_error = 1;
                snprintf(out->read_error_msg, sizeof out->read_error_msg,
                         "manifest.json larger than %u bytes", MF_MANIFEST_MAX);
                cu_buf_free(&mbuf);
            } else {
                out->manifest = (unsigned char *)mbuf.data;
                out->manifest_len = mbuf.len;
                if (!out->manifest)
                    out->manifest = (unsigned char *)cu_xstrdup("");
            }
        } else if (is_cm && !too_big) {
            free(out->cmanifest);
            out->cmanifest = (unsigned char *)(mbuf.data ? mbuf.data : cu_xstrdup(""));
            out->cmanifest_len = mbuf.len;
        } else {
            cu_buf_free(&mbuf);
        }
        if (is_sig)
            out->sig_len = too_big ? sizeof out->sig + 1 : sig_len;
        if (out->read_error)
            break;
    }
    if (first && !out->read_error) {
        /* an archive with no member at all is not a custody archive */
        cu_err_set(err, 0, "%s: empty archive", path);
        goto out;
    }
    if (st->dec && !st->dec_failed) {
        /* Decrypt to the authenticated end: the last chunk, no trailing data. */
        struct cu_err e;
        ssize_t dn;
        while ((dn = age_dec_read(st->dec, buf, BLOCK, &e)) > 0)
            ;
        if (dn < 0 && !out->read_error) {
            out->read_error = 1;
            snprintf(out->read_error_msg, sizeof out->read_error_msg, "%.250s", e.msg);
        }
    }
drain:;
    /* hash whatever the reader left unread, so the sidecar covers the whole file */
    ssize_t n;
    while ((n = read(st->fd, buf, BLOCK)) > 0)
        EVP_DigestUpdate(st->sha, buf, (size_t)n);
    unsigned char d[32];
    unsigned int dl;
    EVP_DigestFinal_ex(st->sha, d, &dl);
    cu_hex(d, 32, out->file_sha256);
    rc = 0;
out:
    archive_read_free(a);
    for (int k = 0; k < 3; k++)
        EVP_MD_CTX_free(md[k]);
    free(buf);
    rd_state_free(st);
    if (rc != 0)
        mf_scan_free(out);
    return rc;
}

void mf_scan_free(struct mf_scan *s)
{
    for (size_t i = 0; i < s->cap; i++) {
        free(s->tab[i].name);
        free(s->tab[i].link);
    }
    free(s->tab);
    free(s->manifest);
    free(s->cmanifest);
    free(s->stem);
    memset(s, 0, sizeof *s);
    s->manifest_index = s->sig_index = -1;
}
