/*
 * digest: see digest.h. A thin layer over OpenSSL EVP digests.
 */
#include "digest.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

struct dg_set {
    unsigned mask;
    EVP_MD_CTX *ctx[DG_COUNT];
    const EVP_MD *md[DG_COUNT];
};

static const char *const names[DG_COUNT] = {"sha256", "sha1", "md5"};

const char *dg_algo_name(enum dg_algo a)
{
    return a < DG_COUNT ? names[a] : "?";
}

struct dg_set *dg_set_new(unsigned mask, struct cu_err *err)
{
    struct dg_set *s = cu_xcalloc(1, sizeof *s);
    s->mask = mask | (1u << DG_SHA256);
    for (int a = 0; a < DG_COUNT; a++) {
        if (!(s->mask & (1u << a)))
            continue;
        s->md[a] = a == DG_SHA256 ? EVP_sha256() : a == DG_SHA1 ? EVP_sha1() : EVP_md5();
        s->ctx[a] = EVP_MD_CTX_new();
        if (!s->md[a] || !s->ctx[a]) {
            dg_set_free(s);
            cu_err_set(err, 0, "digest %s is not available", names[a]);
            return NULL;
        }
    }
    return s;
}

void dg_set_free(struct dg_set *s)
{
    if (!s)
        return;
    for (int a = 0; a < DG_COUNT; a++)
        EVP_MD_CTX_free(s->ctx[a]);
    free(s);
}

int dg_set_begin(struct dg_set *s, struct cu_err *err)
{
    for (int a = 0; a < DG_COUNT; a++)
        if (s->ctx[a] && !EVP_DigestInit_ex(s->ctx[a], s->md[a], NULL))
            return cu_err_set(err, 0, "%s init failed", names[a]);
    return 0;
}

int dg_set_update(struct dg_set *s, const void *data, size_t n)
{
    for (int a = 0; a < DG_COUNT; a++)
        if (s->ctx[a] && !EVP_DigestUpdate(s->ctx[a], data, n))
            return -1;
    return 0;
}

int dg_set_end(struct dg_set *s, char hex[DG_COUNT][DG_HEX_MAX], struct cu_err *err)
{
    for (int a = 0; a < DG_COUNT; a++) {
        hex[a][0] = '\0';
        if (!s->ctx[a])
            continue;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (!EVP_DigestFinal_ex(s->ctx[a], md, &len))
            return cu_err_set(err, 0, "%s final failed", names[a]);
        cu_hex(md, len, hex[a]);
    }
    return 0;
}

int dg_parse_list(const char *s, unsigned *mask, struct cu_err *err)
{
    unsigned m = 1u << DG_SHA256;
    char *copy = cu_xstrdup(s), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (int a = 0; a < DG_COUNT; a++)
            if (!strcmp(tok, names[a])) {
                m |= 1u << a;
                found = 1;
            }
        if (!found) {
            cu_err_set(err, 0, "unknown hash '%s' (choose from sha256, sha1, md5)", tok);
            free(copy);
            return -1;
        }
    }
    free(copy);
    *mask = m;
    return 0;
}
