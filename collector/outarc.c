/*
 * outarc: see outarc.h.
 */
#define _GNU_SOURCE
#include "outarc.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "age.h"

struct oa_writer {
    struct archive *a;
    enum oa_compress comp;
    int fd;
    EVP_MD_CTX *sha;
    int out_full;
    int write_errno;
    int reserve_fd;
    char *reserve_path;
    uint64_t reserve_bytes;
    struct age_enc *enc; /* age encryption between libarchive and the file, or NULL */
    enum oa_format fmt;
    const struct age_recipient *recips; /* the caller's, kept for oa_next_file */
    size_t n_recips;
    uint64_t file_bytes;  /* written to the current file */
    oa_hook_fn hook;
    void *hook_ctx;
    int in_hook;
};

static const char *const suffixes[] = {".tar.zst", ".tar.gz", ".tar", ".zip"};
static const char *const cnames[] = {"zstd", "gzip", "none", "deflate"};
static const char *const fnames[] = {"pax", "zip"};

const char *oa_compress_name(enum oa_compress c)
{
    return cnames[c];
}

const char *oa_suffix_fmt(enum oa_format f, enum oa_compress c)
{
    return f == OA_ZIP ? ".zip" : suffixes[c];
}

const char *oa_format_name(enum oa_format f)
{
    return fnames[f];
}

int oa_format_parse(const char *s, enum oa_format *out)
{
    for (int i = 0; i < 2; i++)
        if (!strcmp(s, fnames[i])) {
            *out = (enum oa_format)i;
            return 0;
        }
    return -1;
}

int oa_compress_parse(const char *s, enum oa_compress *out)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, cnames[i])) {
            *out = (enum oa_compress)i;
            return 0;
        }
    return -1;
}

/* Bytes as they go to the file (ciphertext when encrypting): written, hashed for the
 * sidecar; a full device releases the reserve and retries. */
static int raw_write(struct oa_writer *w, const void *buf, size_t n, struct cu_err *err)
{
    const char *p = buf;
    size_t left = n;
    while (left) {
        ssize_t r = write(w->fd, p, left);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if ((errno == ENOSPC || errno == EDQUOT) && w->reserve_fd >= 0) {
                oa_reserve_release(w, 1); /* room to finish: stop adding content, finalise */
                continue;
            }
            int e = errno;
            w->write_errno = e;
            if (e == ENOSPC || e == EDQUOT || e == EFBIG)
                w->out_full = 1;
            return cu_err_set(err, e, "writing the archive: %s", strerror(e));
        }
        EVP_DigestUpdate(w->sha, p, (size_t)r);
        w->file_bytes += (uint64_t)r;
        p += r;
        left -= (size_t)r;
    }
    return 0;
}

static int age_sink(void *ctx, const void *buf, size_t len, struct cu_err *err)
{
    return raw_write(ctx, buf, len, err);
}

static la_ssize_t write_cb(struct archive *a, void *ctx, const void *buf, size_t n)
{
    struct oa_writer *w = ctx;
    struct cu_err err;
    int r = w->enc ? age_enc_write(w->enc, buf, n, &err) : raw_write(w, buf, n, &err);
    if (r != 0) {
        archive_set_error(a, err.errnum > 0 ? err.errnum : EIO, "%s", err.msg);
        return -1;
    }
    return (la_ssize_t)n;
}

static int set_arc_err(struct oa_writer *w, struct cu_err *err, const char *what)
{
    int e = archive_errno(w->a);
    return cu_err_set(err, e > 0 ? e : 0, "%s: %s", what,
                      archive_error_string(w->a) ? archive_error_string(w->a) : "archive error");
}

/* Create the file and start the archive in it (age header first when encrypting). */
static int start_file(struct oa_writer *w, const char *path, struct cu_err *err)
{
    w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (w->fd < 0)
        return cu_err_set(err, errno, "cannot create %s: %s", path, strerror(errno));
    w->file_bytes = 0;
    if (!w->sha)
        w->sha = EVP_MD_CTX_new();
    if (!w->sha || !EVP_DigestInit_ex(w->sha, EVP_sha256(), NULL))
        return cu_err_set(err, 0, "sha256 unavailable");
    if (w->n_recips) {
        /* The age header goes out now; from here on only ciphertext reaches the file. */
        w->enc = age_enc_new(w->recips, w->n_recips, age_sink, w, err);
        if (!w->enc) {
            close(w->fd);
            w->fd = -1;
            unlink(path);
            return -1;
        }
    }
    w->a = archive_write_new();
    enum oa_compress c = w->comp;
    int r;
    if (w->fmt == OA_ZIP) {
        r = archive_write_set_format_zip(w->a);
        if (r == ARCHIVE_OK)
            r = archive_write_set_format_option(w->a, "zip", "zip64", "1");
        if (r == ARCHIVE_OK)
            r = archive_write_set_format_option(w->a, "zip", "experimental", "1");
        if (r == ARCHIVE_OK)
            r = c == OA_NONE ? archive_write_zip_set_compression_store(w->a)
                             : archive_write_zip_set_compression_deflate(w->a);
        if (r != ARCHIVE_OK)
            return set_arc_err(w, err, "zip format");
    } else if (archive_write_set_format_pax(w->a) != ARCHIVE_OK) {
        return set_arc_err(w, err, "pax format");
    }
    r = ARCHIVE_OK;
    if (w->fmt == OA_PAX && c == OA_ZSTD)
        r = archive_write_add_filter_zstd(w->a);
    else if (w->fmt == OA_PAX && c == OA_GZIP)
        r = archive_write_add_filter_gzip(w->a);
    if (r != ARCHIVE_OK)
        return set_arc_err(w, err, "compression");
    /* Whole 10 KiB tar blocks are not needed on a file; keep the output exact. */
    archive_write_set_bytes_per_block(w->a, w->fmt == OA_PAX && c == OA_NONE ? 10240 : 0);
    if (archive_write_open2(w->a, w, NULL, write_cb, NULL, NULL) != ARCHIVE_OK)
        return set_arc_err(w, err, "opening the archive");
    return 0;
}

int oa_open_fmt(struct oa_writer **out, const char *path, enum oa_format f, enum oa_compress c,
                const struct age_recipient *recipients, size_t n_recipients, struct cu_err *err)
{
    struct oa_writer *w = cu_xcalloc(1, sizeof *w);
    w->reserve_fd = -1;
    w->fd = -1;
    w->fmt = f;
    if (f == OA_ZIP && c != OA_NONE)
        c = OA_DEFLATE;
    if (f == OA_PAX && c == OA_DEFLATE) {
        free(w);
        return cu_err_set(err, 0, "deflate is zip's compression: use zstd, gzip or none");
    }
    w->comp = c;
    w->recips = recipients;
    w->n_recips = n_recipients;
    if (start_file(w, path, err) != 0) {
        int created = w->fd >= 0;
        oa_free(w);
        if (created)
            unlink(path);
        return -1;
    }
    *out = w;
    return 0;
}

int oa_open(struct oa_writer **out, const char *path, enum oa_compress c,
            const struct age_recipient *recipients, size_t n_recipients, struct cu_err *err)
{
    return oa_open_fmt(out, path, OA_PAX, c, recipients, n_recipients, err);
}

void oa_set_hook(struct oa_writer *w, oa_hook_fn hook, void *ctx)
{
    w->hook = hook;
    w->hook_ctx = ctx;
}

int oa_put_file(struct oa_writer *w, const char *name, const void *data, size_t len,
                struct cu_err *err)
{
    struct archive_entry *ae = archive_entry_new();
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    archive_entry_copy_pathname(ae, name);
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_perm(ae, 0644);
    archive_entry_set_size(ae, (la_int64_t)len);
    archive_entry_set_mtime(ae, now.tv_sec, now.tv_nsec);
    archive_entry_set_uid(ae, geteuid());
    archive_entry_set_gid(ae, getegid());
    int saved = w->in_hook;
    w->in_hook = 1;
    int r = oa_header(w, ae, err);
    w->in_hook = saved;
    archive_entry_free(ae);
    if (r != 0 || oa_data(w, data, len, err) != 0)
        return -1;
    return oa_finish(w, err);
}

/* End the archive in the current file: libarchive's end, age's last chunk, fsync, close. */
static int end_file(struct oa_writer *w, char sha256_hex[65], struct cu_err *err)
{
    int rc = 0;
    if (archive_write_close(w->a) != ARCHIVE_OK)
        rc = set_arc_err(w, err, "closing the archive");
    archive_write_free(w->a);
    w->a = NULL;
    if (rc == 0 && w->enc && age_enc_finish(w->enc, err) != 0)
        rc = -1; /* the final chunk did not get out: the file cannot be decrypted to its end */
    age_enc_free(w->enc);
    w->enc = NULL;
    if (rc == 0 && fsync(w->fd) != 0 && errno != EINVAL)
        rc = cu_err_set(err, errno, "fsync of the archive: %s", strerror(errno));
    if (close(w->fd) != 0 && rc == 0)
        rc = cu_err_set(err, errno, "closing the archive: %s", strerror(errno));
    w->fd = -1;
    unsigned char md[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(w->sha, md, &len);
    cu_hex(md, 32, sha256_hex);
    return rc;
}

int oa_next_file(struct oa_writer *w, const char *path, char sha256_hex[65], uint64_t *size,
                 struct cu_err *err)
{
    if (end_file(w, sha256_hex, err) != 0)
        return -1;
    *size = w->file_bytes;
    if (start_file(w, path, err) != 0) {
        if (w->fd >= 0) {
            close(w->fd);
            w->fd = -1;
            unlink(path);
        }
        return -1;
    }
    return 0;
}

int oa_header(struct oa_writer *w, struct archive_entry *e, struct cu_err *err)
{
    if (w->hook && !w->in_hook) {
        w->in_hook = 1;
        int hr = w->hook(w->hook_ctx, w, e, err);
        w->in_hook = 0;
        if (hr != 0)
            return -1;
    }
    int r = archive_write_header(w->a, e);
    if (r == ARCHIVE_WARN)
        return 0;
    if (r != ARCHIVE_OK)
        return set_arc_err(w, err, "writing a member header");
    return 0;
}

int oa_data(struct oa_writer *w, const void *buf, size_t n, struct cu_err *err)
{
    const char *p = buf;
    while (n) {
        la_ssize_t r = archive_write_data(w->a, p, n);
        if (r < 0)
            return set_arc_err(w, err, "writing member data");
        if (r == 0)
            return cu_err_set(err, 0, "writing member data: more than the header's size");
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int oa_finish(struct oa_writer *w, struct cu_err *err)
{
    if (archive_write_finish_entry(w->a) < ARCHIVE_WARN)
        return set_arc_err(w, err, "finishing a member");
    return 0;
}

int oa_close(struct oa_writer *w, char sha256_hex[65], struct cu_err *err)
{
    int rc = end_file(w, sha256_hex, err);
    oa_free(w);
    return rc;
}

void oa_free(struct oa_writer *w)
{
    if (!w)
        return;
    if (w->a)
        archive_write_free(w->a); /* also closes it: may flush, errors ignored */
    if (w->fd >= 0)
        close(w->fd);
    age_enc_free(w->enc);
    EVP_MD_CTX_free(w->sha);
    if (w->reserve_fd >= 0) {
        close(w->reserve_fd);
        unlink(w->reserve_path);
    }
    free(w->reserve_path);
    free(w);
}

int oa_reserve(struct oa_writer *w, const char *path, uint64_t bytes, struct cu_err *err)
{
    if (w->out_full)
        return cu_err_set(err, ENOSPC, "the output device is full");
    if (w->reserve_fd < 0) {
        w->reserve_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (w->reserve_fd < 0)
            return cu_err_set(err, errno, "cannot create reserve %s: %s", path, strerror(errno));
        w->reserve_path = cu_xstrdup(path);
    }
    if (bytes <= w->reserve_bytes)
        return 0;
    int r = posix_fallocate(w->reserve_fd, 0, (off_t)bytes);
    if (r != 0)
        return cu_err_set(err, r, "cannot reserve %llu bytes on the output device: %s",
                          (unsigned long long)bytes, strerror(r));
    w->reserve_bytes = bytes;
    return 0;
}

void oa_reserve_release(struct oa_writer *w, int full)
{
    if (full)
        w->out_full = 1;
    if (w->reserve_fd < 0)
        return;
    close(w->reserve_fd);
    unlink(w->reserve_path);
    w->reserve_fd = -1;
    w->reserve_bytes = 0;
}

int oa_room_for(struct oa_writer *w, uint64_t bytes)
{
    if (w->comp != OA_NONE)
        return 0; /* zip stored counts too: its sizes are the content's */
    if (w->enc)
        bytes += bytes / 4096 + 4096; /* 16 bytes of tag per 64 KiB chunk, and slack */
    struct statvfs sv;
    if (fstatvfs(w->fd, &sv) != 0)
        return 0;
    uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
    return avail >= bytes + (64u << 10) ? 0 : -1;
}

int oa_output_full(const struct oa_writer *w)
{
    return w->out_full;
}

