/*
 * seal: see seal.h.
 */
#define _GNU_SOURCE
#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEAL_MAX_PATHS 8

struct seal {
    unsigned char key[32];
    unsigned char nonce[8];
    EVP_CIPHER_CTX *ctx;
};

static struct {
    char *path;
    struct seal *s;
} reg[SEAL_MAX_PATHS];

struct seal *seal_new(struct cu_err *err)
{
    struct seal *s = cu_xcalloc(1, sizeof *s);
    s->ctx = EVP_CIPHER_CTX_new();
    if (!s->ctx || RAND_bytes(s->key, sizeof s->key) != 1 ||
        RAND_bytes(s->nonce, sizeof s->nonce) != 1) {
        seal_free(s);
        cu_err_set(err, 0, "seal: no random key");
        return NULL;
    }
    return s;
}

void seal_free(struct seal *s)
{
    if (!s)
        return;
    for (int i = 0; i < SEAL_MAX_PATHS; i++)
        if (reg[i].s == s) {
            free(reg[i].path);
            reg[i].path = NULL;
            reg[i].s = NULL;
        }
    cu_wipe(s->key, sizeof s->key);
    EVP_CIPHER_CTX_free(s->ctx);
    free(s);
}

int seal_apply(struct seal *s, uint64_t off, unsigned char *buf, size_t n)
{
    /* Counter block: nonce (8 bytes) || block index (8 bytes, big-endian). */
    unsigned char iv[16];
    memcpy(iv, s->nonce, 8);
    uint64_t blk = off / 16;
    for (int i = 0; i < 8; i++)
        iv[15 - i] = (unsigned char)(blk >> (8 * i));
    if (EVP_EncryptInit_ex(s->ctx, EVP_aes_256_ctr(), NULL, s->key, iv) != 1)
        return -1;
    int outl;
    unsigned char skip[16] = {0};
    size_t k = (size_t)(off % 16);
    if (k && EVP_EncryptUpdate(s->ctx, skip, &outl, skip, (int)k) != 1)
        return -1;
    while (n) {
        int step = n > (1u << 30) ? (1 << 30) : (int)n;
        if (EVP_EncryptUpdate(s->ctx, buf, &outl, buf, step) != 1)
            return -1;
        buf += step;
        n -= (size_t)step;
    }
    return 0;
}

void seal_register(struct seal *s, const char *path)
{
    for (int i = 0; i < SEAL_MAX_PATHS; i++)
        if (!reg[i].path) {
            reg[i].path = cu_xstrdup(path);
            reg[i].s = s;
            return;
        }
}

struct reader {
    int fd;
    off64_t pos;
    struct seal *s;
};

static ssize_t r_read(void *c, char *buf, size_t n)
{
    struct reader *r = c;
    ssize_t got = pread(r->fd, buf, n, r->pos);
    if (got > 0) {
        if (seal_apply(r->s, (uint64_t)r->pos, (unsigned char *)buf, (size_t)got) != 0) {
            errno = EIO;
            return -1;
        }
        r->pos += got;
    }
    return got;
}

static int r_seek(void *c, off64_t *off, int whence)
{
    struct reader *r = c;
    off64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? r->pos : lseek(r->fd, 0, SEEK_END);
    if (base < 0 || base + *off < 0)
        return -1;
    r->pos = base + *off;
    *off = r->pos;
    return 0;
}

static int r_close(void *c)
{
    struct reader *r = c;
    close(r->fd);
    free(r);
    return 0;
}

FILE *seal_fopen(const char *path)
{
    for (int i = 0; i < SEAL_MAX_PATHS; i++)
        if (reg[i].path && !strcmp(reg[i].path, path)) {
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                return NULL;
            struct reader *r = cu_xcalloc(1, sizeof *r);
            r->fd = fd;
            r->s = reg[i].s;
            cookie_io_functions_t io = {r_read, NULL, r_seek, r_close};
            FILE *f = fopencookie(r, "r", io);
            if (!f)
                r_close(r);
            return f;
        }
    return fopen(path, "re");
}
