/*
 * age: age v1 for X25519 recipients on OpenSSL 3 (see age.h and the C2SP age spec).
 *
 * Header:  "age-encryption.org/v1\n"
 *          "-> X25519 <b64 share>\n<b64 wrapped file key>\n"   (one per recipient)
 *          "--- <b64 HMAC-SHA-256 over everything up to and including '---'>\n"
 * Payload: 16-byte nonce, then STREAM chunks of 64 KiB (ChaCha20-Poly1305, nonce =
 *          11-byte big-endian counter || last flag).
 */
#include "age.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AGE_INTRO "age-encryption.org/v1"
#define AGE_X25519_INFO "age-encryption.org/v1/X25519"
#define CHUNK_SIZE 65536
#define TAG_SIZE 16
#define ENC_CHUNK_SIZE (CHUNK_SIZE + TAG_SIZE)
#define FILE_KEY_SIZE 16
#define NONCE_SIZE 16
#define HDR_LINE_MAX 4096
#define HDR_STANZA_MAX 64
#define HDR_MAX (1024 * 1024)
#define KEYFILE_MAX_LINE 4096

/* ---------------------------------------------------------------- base64 (no padding) */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Writes 4*ceil(n/3) - padding chars + NUL; returns the string length. */
static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
    }
    out[o] = '\0';
    return o;
}

static int b64_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict canonical decoding of unpadded base64: no padding, no stray characters, unused
 * trailing bits zero. out must hold n*3/4 bytes. Returns 0 and *outlen, or -1. */
static int b64_decode(const char *s, size_t n, uint8_t *out, size_t *outlen)
{
    if (n % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_val(s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-canonical: leftover bits must be zero */
        return -1;
    *outlen = o;
    return 0;
}

/* ---------------------------------------------------------------- bech32 (BIP-173) */

static const char bech32_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t bech32_polymod_step(uint32_t chk, uint8_t v)
{
    static const uint32_t gen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
    uint32_t b = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; i++)
        if ((b >> i) & 1)
            chk ^= gen[i];
    return chk;
}

static uint32_t bech32_hrp_chk(const char *hrp, size_t hlen)
{
    uint32_t chk = 1;
    for (size_t i = 0; i < hlen; i++)
        chk = bech32_polymod_step(chk, (uint8_t)(tolower((unsigned char)hrp[i]) >> 5));
    chk = bech32_polymod_step(chk, 0);
    for (size_t i = 0; i < hlen; i++)
        chk = bech32_polymod_step(chk, (uint8_t)(tolower((unsigned char)hrp[i]) & 31));
    return chk;
}

/* Encode 8-bit data with a lower-case hrp into out (cap bytes). 0 ok, -1 too long. */
static int bech32_encode(const char *hrp, const uint8_t *data, size_t n, char *out, size_t cap)
{
    size_t hlen = strlen(hrp);
    size_t n5 = (n * 8 + 4) / 5;
    if (hlen + 1 + n5 + 6 + 1 > cap)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < hlen; i++)
        out[o++] = (char)tolower((unsigned char)hrp[i]);
    out[o++] = '1';
    uint32_t chk = bech32_hrp_chk(hrp, hlen);
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | data[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            uint8_t v = (uint8_t)((acc >> bits) & 31);
            chk = bech32_polymod_step(chk, v);
            out[o++] = bech32_charset[v];
        }
        acc &= (1u << bits) - 1;
    }
    if (bits > 0) {
        uint8_t v = (uint8_t)((acc << (5 - bits)) & 31);
        chk = bech32_polymod_step(chk, v);
        out[o++] = bech32_charset[v];
    }
    for (int i = 0; i < 6; i++)
        chk = bech32_polymod_step(chk, 0);
    chk ^= 1;
    for (int i = 0; i < 6; i++)
        out[o++] = bech32_charset[(chk >> (5 * (5 - i))) & 31];
    out[o] = '\0';
    return 0;
}

/* Decode s, require hrp (case-insensitive), produce 8-bit data into out (cap bytes). */
static int bech32_decode(const char *s, const char *hrp, uint8_t *out, size_t cap,
                         size_t *outlen, struct cu_err *err)
{
    size_t len = strlen(s);
    int lower = 0, upper = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 33 || c > 126)
            return cu_err_set(err, 0, "invalid character in key");
        if (islower(c))
            lower = 1;
        if (isupper(c))
            upper = 1;
    }
    if (lower && upper)
        return cu_err_set(err, 0, "mixed case in key");
    const char *sep = strrchr(s, '1');
    if (!sep)
        return cu_err_set(err, 0, "not a bech32 string (no separator)");
    size_t hlen = (size_t)(sep - s);
    size_t dlen = len - hlen - 1;
    if (hlen == 0 || dlen < 6)
        return cu_err_set(err, 0, "bech32 string too short");
    if (hlen != strlen(hrp) || strncasecmp(s, hrp, hlen) != 0)
        return cu_err_set(err, 0, "wrong key type (expected prefix \"%s1\")", hrp);
    uint32_t chk = bech32_hrp_chk(s, hlen);
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < dlen; i++) {
        const char *p = strchr(bech32_charset, tolower((unsigned char)sep[1 + i]));
        if (!p || !*p)
            return cu_err_set(err, 0, "invalid bech32 character");
        uint8_t v = (uint8_t)(p - bech32_charset);
        chk = bech32_polymod_step(chk, v);
        if (i < dlen - 6) {
            acc = (acc << 5) | v;
            bits += 5;
            if (bits >= 8) {
                bits -= 8;
                if (o >= cap)
                    return cu_err_set(err, 0, "key too long");
                out[o++] = (uint8_t)(acc >> bits);
                acc &= (1u << bits) - 1;
            }
        }
    }
    if (chk != 1)
        return cu_err_set(err, 0, "bech32 checksum mismatch");
    if (bits >= 5 || acc != 0)
        return cu_err_set(err, 0, "invalid bech32 padding");
    *outlen = o;
    return 0;
}

/* ---------------------------------------------------------------- crypto primitives */

static int x25519_pub(const uint8_t priv[32], uint8_t pub[32])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
    size_t l = 32;
    int ok = k && EVP_PKEY_get_raw_public_key(k, pub, &l) == 1 && l == 32;
    EVP_PKEY_free(k);
    return ok ? 0 : -1;
}

/* X25519(priv, peer) into out; -1 on failure or all-zero result. */
static int x25519(const uint8_t priv[32], const uint8_t peer[32], uint8_t out[32])
{
    static const uint8_t zero[32];
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
    EVP_PKEY *p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, 32);
    EVP_PKEY_CTX *c = k ? EVP_PKEY_CTX_new(k, NULL) : NULL;
    size_t l = 32;
    int ok = k && p && c && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, p) == 1 &&
             EVP_PKEY_derive(c, out, &l) == 1 && l == 32;
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(p);
    EVP_PKEY_free(k);
    if (ok && CRYPTO_memcmp(out, zero, 32) == 0)
        ok = 0;
    if (!ok)
        cu_wipe(out, 32);
    return ok ? 0 : -1;
}

static int hkdf_sha256(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt, size_t saltlen,
                       const char *info, uint8_t out[32])
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    if (!kc)
        return -1;
    OSSL_PARAM params[5], *p = params;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen);
    if (saltlen)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
    *p = OSSL_PARAM_construct_end();
    int ok = EVP_KDF_derive(kc, out, 32, params) == 1;
    EVP_KDF_CTX_free(kc);
    return ok ? 0 : -1;
}

static int hmac_sha256(const uint8_t key[32], const void *data, size_t n, uint8_t out[32])
{
    size_t l = 0;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, 32, data, n, out, 32, &l) ||
        l != 32)
        return -1;
    return 0;
}

/* ChaCha20-Poly1305 seal: out gets n bytes of ciphertext then the 16-byte tag. */
static int aead_seal(EVP_CIPHER_CTX *c, const uint8_t key[32], const uint8_t nonce[12],
                     const uint8_t *in, size_t n, uint8_t *out)
{
    int l = 0, l2 = 0;
    if (n > INT32_MAX)
        return -1;
    if (EVP_EncryptInit_ex(c, EVP_chacha20_poly1305(), NULL, key, nonce) != 1)
        return -1;
    if (n && EVP_EncryptUpdate(c, out, &l, in, (int)n) != 1)
        return -1;
    if (EVP_EncryptFinal_ex(c, out + l, &l2) != 1 || (size_t)(l + l2) != n)
        return -1;
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAG_SIZE, out + n) != 1)
        return -1;
    return 0;
}

/* ChaCha20-Poly1305 open: in is n bytes including the tag; out gets n-16 bytes. On failure
 * out is wiped so no unauthenticated plaintext survives. */
static int aead_open(EVP_CIPHER_CTX *c, const uint8_t key[32], const uint8_t nonce[12],
                     const uint8_t *in, size_t n, uint8_t *out)
{
    int l = 0, l2 = 0;
    if (n < TAG_SIZE || n - TAG_SIZE > INT32_MAX)
        return -1;
    size_t pn = n - TAG_SIZE;
    int ok = EVP_DecryptInit_ex(c, EVP_chacha20_poly1305(), NULL, key, nonce) == 1 &&
             (pn == 0 || EVP_DecryptUpdate(c, out, &l, in, (int)pn) == 1) &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAG_SIZE, (void *)(in + pn)) == 1 &&
             EVP_DecryptFinal_ex(c, out + l, &l2) == 1 && (size_t)(l + l2) == pn;
    if (!ok) {
        cu_wipe(out, pn);
        return -1;
    }
    return 0;
}

static void stream_nonce(uint64_t counter, int last, uint8_t nonce[12])
{
    memset(nonce, 0, 12);
    for (int i = 0; i < 8; i++)
        nonce[10 - i] = (uint8_t)(counter >> (8 * i));
    nonce[11] = last ? 1 : 0;
}

/* ---------------------------------------------------------------- keys */

void age_recipient_string(const uint8_t pub[32], char out[AGE_RECIPIENT_MAX])
{
    if (bech32_encode("age", pub, 32, out, AGE_RECIPIENT_MAX) != 0)
        out[0] = '\0';
}

int age_recipient_parse(const char *s, struct age_recipient *out, struct cu_err *err)
{
    uint8_t buf[64];
    size_t n = 0;
    struct cu_err e2;
    if (!s || bech32_decode(s, "age", buf, sizeof buf, &n, &e2) != 0)
        return cu_err_set(err, 0, "invalid age recipient: %s", s ? e2.msg : "(null)");
    if (n != 32)
        return cu_err_set(err, 0, "invalid age recipient: wrong key length %zu", n);
    memcpy(out->pub, buf, 32);
    return 0;
}

int age_identity_parse(const char *s, struct age_identity *out, struct cu_err *err)
{
    uint8_t buf[64];
    size_t n = 0;
    struct cu_err e2;
    int rc = -1;
    if (!s || bech32_decode(s, "AGE-SECRET-KEY-", buf, sizeof buf, &n, &e2) != 0)
        cu_err_set(err, 0, "invalid age identity: %s", s ? e2.msg : "(null)");
    else if (n != 32)
        cu_err_set(err, 0, "invalid age identity: wrong key length %zu", n);
    else if (x25519_pub(buf, out->pub) != 0)
        cu_err_set(err, 0, "invalid age identity: cannot derive public key");
    else {
        memcpy(out->priv, buf, 32);
        rc = 0;
    }
    cu_wipe(buf, sizeof buf);
    return rc;
}

static void identity_string(const uint8_t priv[32], char out[AGE_IDENTITY_MAX])
{
    if (bech32_encode("age-secret-key-", priv, 32, out, AGE_IDENTITY_MAX) != 0) {
        out[0] = '\0';
        return;
    }
    for (char *p = out; *p; p++)
        *p = (char)toupper((unsigned char)*p);
}

int age_keygen(struct age_identity *id, char recipient[AGE_RECIPIENT_MAX],
               char identity[AGE_IDENTITY_MAX], struct cu_err *err)
{
    if (RAND_bytes(id->priv, 32) != 1)
        return cu_err_set(err, 0, "age keygen: random generator failed");
    if (x25519_pub(id->priv, id->pub) != 0) {
        cu_wipe(id->priv, 32);
        return cu_err_set(err, 0, "age keygen: X25519 failed");
    }
    if (recipient)
        age_recipient_string(id->pub, recipient);
    if (identity)
        identity_string(id->priv, identity);
    return 0;
}

/* Trim trailing whitespace (incl. \r\n) and leading whitespace; returns the start. */
static char *trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    while (*s && isspace((unsigned char)*s))
        s++;
    return s;
}

/* Read a key file: one key per line, '#' comments and blank lines ignored; each key line goes
 * to add(ctx, line). what names the file's kind in messages ("recipients", "identity"); with
 * secret, the line buffer is wiped. */
static int keyfile_load(const char *path, const char *what, const char *things, int secret,
                        int (*add)(void *ctx, const char *t, struct cu_err *err), void *ctx,
                        struct cu_err *err)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return cu_err_set(err, errno, "cannot open %s file %s: %s", what, path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, lineno = 0, found = 0;
    ssize_t l;
    int rc = 0;
    while ((l = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (l > KEYFILE_MAX_LINE) {
            rc = cu_err_set(err, 0, "%s:%zu: line too long", path, lineno);
            break;
        }
        char *t = trim(line);
        if (!*t || *t == '#')
            continue;
        struct cu_err e2;
        if (add(ctx, t, &e2) != 0) {
            rc = cu_err_set(err, 0, "%s:%zu: %s", path, lineno, e2.msg);
            break;
        }
        found++;
    }
    if (rc == 0 && ferror(f))
        rc = cu_err_set(err, EIO, "cannot read %s file %s", what, path);
    if (rc == 0 && found == 0)
        rc = cu_err_set(err, 0, "no %s in %s", things, path);
    if (line && secret)
        cu_wipe(line, cap);
    free(line);
    fclose(f);
    return rc;
}

struct rlist {
    struct age_recipient **list;
    size_t *n;
};

static int add_recipient(void *ctx, const char *t, struct cu_err *err)
{
    struct rlist *rl = ctx;
    struct age_recipient r;
    if (age_recipient_parse(t, &r, err) != 0)
        return -1;
    *rl->list = cu_xrealloc(*rl->list, (*rl->n + 1) * sizeof **rl->list);
    (*rl->list)[(*rl->n)++] = r;
    return 0;
}

int age_recipients_load(const char *s, struct age_recipient **list, size_t *n,
                        struct cu_err *err)
{
    if (!s)
        return cu_err_set(err, 0, "no recipient given");
    struct rlist rl = {list, n};
    if (strncasecmp(s, "age1", 4) == 0)
        return add_recipient(&rl, s, err);
    return keyfile_load(s, "recipients", "recipients", 0, add_recipient, &rl, err);
}

struct ilist {
    struct age_identity **list;
    size_t *n;
};

static int add_identity(void *ctx, const char *t, struct cu_err *err)
{
    struct ilist *il = ctx;
    struct age_identity id;
    int rc = age_identity_parse(t, &id, err);
    if (rc == 0) {
        /* Grow by hand: realloc would free the old block, private keys and all, unwiped. */
        struct age_identity *nl = cu_xcalloc(*il->n + 1, sizeof *nl);
        if (*il->n)
            memcpy(nl, *il->list, *il->n * sizeof *nl);
        age_identities_free(*il->list, *il->n);
        nl[*il->n] = id;
        *il->list = nl;
        (*il->n)++;
    }
    cu_wipe(&id, sizeof id);
    return rc;
}

void age_identities_free(struct age_identity *ids, size_t n)
{
    if (ids)
        cu_wipe(ids, n * sizeof *ids);
    free(ids);
}

int age_identities_load(const char *path, struct age_identity **list, size_t *n,
                        struct cu_err *err)
{
    struct ilist il = {list, n};
    return keyfile_load(path, "identity", "identities", 1, add_identity, &il, err);
}

int age_is_age(const void *buf, size_t len)
{
    static const char intro[] = AGE_INTRO "\n";
    return len >= sizeof intro - 1 && memcmp(buf, intro, sizeof intro - 1) == 0;
}

/* ---------------------------------------------------------------- encryption */

struct age_enc {
    age_sink_fn sink;
    void *ctx;
    EVP_CIPHER_CTX *c;
    uint8_t key[32];
    uint64_t counter;
    int finished, failed;
    size_t ptlen;
    uint8_t pt[CHUNK_SIZE];
    uint8_t ct[ENC_CHUNK_SIZE];
};

/* One "-> X25519" stanza for r, wrapping file_key; appended to hdr. */
static int x25519_wrap(EVP_CIPHER_CTX *c, const struct age_recipient *r,
                       const uint8_t file_key[FILE_KEY_SIZE], struct cu_buf *hdr,
                       struct cu_err *err)
{
    uint8_t eph[32], share[32], shared[32], salt[64], wrap[32], body[FILE_KEY_SIZE + TAG_SIZE];
    static const uint8_t zero_nonce[12];
    char s1[64], s2[64];
    int rc = -1;
    if (RAND_bytes(eph, 32) != 1) {
        cu_err_set(err, 0, "age: random generator failed");
        goto out;
    }
    if (x25519_pub(eph, share) != 0 || x25519(eph, r->pub, shared) != 0) {
        cu_err_set(err, 0, "age: invalid X25519 recipient");
        goto out;
    }
    memcpy(salt, share, 32);
    memcpy(salt + 32, r->pub, 32);
    if (hkdf_sha256(shared, 32, salt, 64, AGE_X25519_INFO, wrap) != 0 ||
        aead_seal(c, wrap, zero_nonce, file_key, FILE_KEY_SIZE, body) != 0) {
        cu_err_set(err, 0, "age: wrapping the file key failed");
        goto out;
    }
    b64_encode(share, 32, s1);
    b64_encode(body, sizeof body, s2); /* 43 chars: one short line */
    if (cu_buf_printf(hdr, "-> X25519 %s\n%s\n", s1, s2) != 0) {
        cu_err_set(err, 0, "age: header too large");
        goto out;
    }
    rc = 0;
out:
    cu_wipe(eph, sizeof eph);
    cu_wipe(shared, sizeof shared);
    cu_wipe(wrap, sizeof wrap);
    return rc;
}

struct age_enc *age_enc_new(const struct age_recipient *r, size_t nr, age_sink_fn sink,
                            void *ctx, struct cu_err *err)
{
    if (nr == 0) {
        cu_err_set(err, 0, "age: no recipients");
        return NULL;
    }
    if (nr > HDR_STANZA_MAX) {
        cu_err_set(err, 0, "age: too many recipients (max %d)", HDR_STANZA_MAX);
        return NULL;
    }
    struct age_enc *e = cu_xcalloc(1, sizeof *e);
    e->sink = sink;
    e->ctx = ctx;
    e->c = EVP_CIPHER_CTX_new();
    uint8_t file_key[FILE_KEY_SIZE], hkey[32], mac[32], nonce[NONCE_SIZE];
    char macb64[64];
    struct cu_buf hdr;
    cu_buf_init(&hdr, HDR_MAX);
    int ok = 0;
    if (!e->c) {
        cu_err_set(err, 0, "age: cipher context allocation failed");
        goto out;
    }
    if (RAND_bytes(file_key, sizeof file_key) != 1 || RAND_bytes(nonce, sizeof nonce) != 1) {
        cu_err_set(err, 0, "age: random generator failed");
        goto out;
    }
    cu_buf_append(&hdr, AGE_INTRO "\n", sizeof AGE_INTRO);
    for (size_t i = 0; i < nr; i++)
        if (x25519_wrap(e->c, &r[i], file_key, &hdr, err) != 0)
            goto out;
    if (cu_buf_append(&hdr, "---", 3) != 0) {
        cu_err_set(err, 0, "age: header too large");
        goto out;
    }
    if (hkdf_sha256(file_key, sizeof file_key, NULL, 0, "header", hkey) != 0 ||
        hmac_sha256(hkey, hdr.data, hdr.len, mac) != 0 ||
        hkdf_sha256(file_key, sizeof file_key, nonce, sizeof nonce, "payload", e->key) != 0) {
        cu_err_set(err, 0, "age: key derivation failed");
        goto out;
    }
    b64_encode(mac, sizeof mac, macb64);
    if (cu_buf_printf(&hdr, " %s\n", macb64) != 0 ||
        cu_buf_append(&hdr, nonce, sizeof nonce) != 0) {
        cu_err_set(err, 0, "age: header too large");
        goto out;
    }
    if (sink(ctx, hdr.data, hdr.len, err) != 0)
        goto out;
    ok = 1;
out:
    cu_wipe(file_key, sizeof file_key);
    cu_wipe(hkey, sizeof hkey);
    cu_buf_free(&hdr);
    if (!ok) {
        age_enc_free(e);
        return NULL;
    }
    return e;
}

static int enc_flush(struct age_enc *e, int last, struct cu_err *err)
{
    uint8_t nonce[12];
    stream_nonce(e->counter, last, nonce);
    if (aead_seal(e->c, e->key, nonce, e->pt, e->ptlen, e->ct) != 0) {
        e->failed = 1;
        return cu_err_set(err, 0, "age: encryption failed");
    }
    size_t n = e->ptlen + TAG_SIZE;
    cu_wipe(e->pt, e->ptlen);
    e->ptlen = 0;
    e->counter++;
    if (e->sink(e->ctx, e->ct, n, err) != 0) {
        e->failed = 1;
        return -1;
    }
    return 0;
}

int age_enc_write(struct age_enc *e, const void *buf, size_t len, struct cu_err *err)
{
    if (e->failed)
        return cu_err_set(err, 0, "age: encryptor failed earlier");
    if (e->finished)
        return cu_err_set(err, 0, "age: write after finish");
    const uint8_t *p = buf;
    while (len > 0) {
        /* A full buffer is flushed as non-final only once we know more data follows. */
        if (e->ptlen == CHUNK_SIZE && enc_flush(e, 0, err) != 0)
            return -1;
        size_t k = CHUNK_SIZE - e->ptlen;
        if (k > len)
            k = len;
        memcpy(e->pt + e->ptlen, p, k);
        e->ptlen += k;
        p += k;
        len -= k;
    }
    return 0;
}

int age_enc_finish(struct age_enc *e, struct cu_err *err)
{
    if (e->failed)
        return cu_err_set(err, 0, "age: encryptor failed earlier");
    if (e->finished)
        return cu_err_set(err, 0, "age: finish called twice");
    e->finished = 1;
    return enc_flush(e, 1, err);
}

void age_enc_free(struct age_enc *e)
{
    if (!e)
        return;
    EVP_CIPHER_CTX_free(e->c);
    cu_wipe(e->key, sizeof e->key);
    cu_wipe(e->pt, sizeof e->pt);
    free(e);
}

/* ---------------------------------------------------------------- decryption */

struct x25519_stanza {
    uint8_t share[32];
    uint8_t body[FILE_KEY_SIZE + TAG_SIZE];
};

struct age_dec {
    age_source_fn src;
    void *ctx;
    EVP_CIPHER_CTX *c;
    uint8_t key[32];
    uint64_t counter;
    int done, failed, src_eof;
    uint8_t rbuf[4096];
    size_t rpos, rlen;
    size_t inlen; /* bytes carried over in in[] from the previous read */
    size_t ptpos, ptlen;
    uint8_t in[ENC_CHUNK_SIZE + 1];
    uint8_t pt[CHUNK_SIZE];
};

/* read(2) from the source, retrying EINTR. */
static ssize_t src_read(struct age_dec *d, void *buf, size_t n, struct cu_err *err)
{
    for (;;) {
        ssize_t r = d->src(d->ctx, buf, n);
        if (r >= 0) {
            if (r == 0)
                d->src_eof = 1;
            return r;
        }
        if (errno == EINTR)
            continue;
        int e = errno;
        cu_err_set(err, e, "age: read error: %s", strerror(e));
        return -1;
    }
}

/* Read up to n bytes, stopping only at EOF. *got gets the count. */
static int dec_read_full(struct age_dec *d, uint8_t *buf, size_t n, size_t *got,
                         struct cu_err *err)
{
    size_t o = 0;
    while (o < n) {
        if (d->rpos < d->rlen) {
            size_t k = d->rlen - d->rpos;
            if (k > n - o)
                k = n - o;
            memcpy(buf + o, d->rbuf + d->rpos, k);
            d->rpos += k;
            o += k;
            continue;
        }
        if (d->src_eof)
            break;
        ssize_t r = src_read(d, buf + o, n - o, err);
        if (r < 0)
            return -1;
        o += (size_t)r;
    }
    *got = o;
    return 0;
}

/* Read one header line (without '\n') into line (NUL-terminated), appending the raw bytes
 * including '\n' to hdr. -1 on EOF before '\n', overlong line, NUL byte or read error. */
static int dec_line(struct age_dec *d, char *line, size_t *len, struct cu_buf *hdr,
                    struct cu_err *err)
{
    size_t n = 0;
    for (;;) {
        if (d->rpos >= d->rlen) {
            if (d->src_eof)
                return cu_err_set(err, 0, "age: truncated header");
            ssize_t r = src_read(d, d->rbuf, sizeof d->rbuf, err);
            if (r < 0)
                return -1;
            d->rpos = 0;
            d->rlen = (size_t)r;
            continue;
        }
        char c = (char)d->rbuf[d->rpos++];
        if (c == '\n')
            break;
        if (c == '\0' || n + 1 >= HDR_LINE_MAX)
            return cu_err_set(err, 0, "age: malformed header (bad line)");
        line[n++] = c;
    }
    line[n] = '\0';
    if (cu_buf_append(hdr, line, n) != 0 || cu_buf_append(hdr, "\n", 1) != 0)
        return cu_err_set(err, 0, "age: header too large");
    *len = n;
    return 0;
}

static int try_unwrap(EVP_CIPHER_CTX *c, const struct age_identity *id,
                      const struct x25519_stanza *st, uint8_t file_key[FILE_KEY_SIZE])
{
    static const uint8_t zero_nonce[12];
    uint8_t shared[32], salt[64], wrap[32];
    int rc = -1;
    if (x25519(id->priv, st->share, shared) != 0)
        goto out;
    memcpy(salt, st->share, 32);
    memcpy(salt + 32, id->pub, 32);
    if (hkdf_sha256(shared, 32, salt, 64, AGE_X25519_INFO, wrap) != 0)
        goto out;
    if (aead_open(c, wrap, zero_nonce, st->body, sizeof st->body, file_key) != 0)
        goto out;
    rc = 0;
out:
    cu_wipe(shared, sizeof shared);
    cu_wipe(wrap, sizeof wrap);
    return rc;
}

static int vchar_arg(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126)
            return 0;
    return 1;
}

/* Parse the header; fills stanzas, the MAC and the length of the MAC'd prefix of hdr. */
static int dec_header(struct age_dec *d, struct cu_buf *hdr, struct x25519_stanza *xs,
                      size_t *nxs, uint8_t mac[32], size_t *maclen_prefix, struct cu_err *err)
{
    char *line = cu_xcalloc(1, HDR_LINE_MAX);
    size_t len, nst = 0;
    int rc = -1;
    struct cu_err e2;
    *nxs = 0;
    if (dec_line(d, line, &len, hdr, &e2) != 0 || strcmp(line, AGE_INTRO) != 0) {
        if (strncmp(line, "-----BEGIN AGE ENCRYPTED FILE-----", 34) == 0)
            cu_err_set(err, 0, "age: armored age files are not supported");
        else
            cu_err_set(err, 0, "not an age file");
        goto out;
    }
    for (;;) {
        size_t start = hdr->len;
        if (dec_line(d, line, &len, hdr, err) != 0)
            goto out;
        if (strncmp(line, "---", 3) == 0) {
            size_t ml = 0;
            if (nst == 0) {
                cu_err_set(err, 0, "age: malformed header (no recipients)");
                goto out;
            }
            if (len != 4 + 43 || line[3] != ' ' || b64_decode(line + 4, 43, mac, &ml) != 0 ||
                ml != 32) {
                cu_err_set(err, 0, "age: malformed header (bad MAC line)");
                goto out;
            }
            *maclen_prefix = start + 3;
            break;
        }
        if (strncmp(line, "-> ", 3) != 0) {
            cu_err_set(err, 0, "age: malformed header (unexpected line)");
            goto out;
        }
        if (++nst > HDR_STANZA_MAX) {
            cu_err_set(err, 0, "age: too many stanzas in header (max %d)", HDR_STANZA_MAX);
            goto out;
        }
        /* Arguments: single-space separated, non-empty, visible ASCII. */
        const char *args[3];
        size_t arglen[3], nargs = 0;
        const char *p = line + 3, *end = line + len;
        for (;;) {
            const char *sp = memchr(p, ' ', (size_t)(end - p));
            const char *e = sp ? sp : end;
            if (!vchar_arg(p, (size_t)(e - p))) {
                cu_err_set(err, 0, "age: malformed stanza");
                goto out;
            }
            if (nargs < 3) {
                args[nargs] = p;
                arglen[nargs] = (size_t)(e - p);
            }
            nargs++;
            if (!sp)
                break;
            p = sp + 1;
        }
        int is_x = arglen[0] == 6 && memcmp(args[0], "X25519", 6) == 0;
        struct x25519_stanza st;
        size_t bodylen = 0, sl = 0;
        /* Decode the share now: line is reused for the body lines. */
        if (is_x && (nargs != 2 || arglen[1] != 43 ||
                     b64_decode(args[1], 43, st.share, &sl) != 0 || sl != 32)) {
            cu_err_set(err, 0, "age: malformed X25519 stanza");
            goto out;
        }
        /* Body: base64 lines of 64 columns, the last one shorter (possibly empty). */
        for (;;) {
            uint8_t dec[48];
            size_t dl = 0;
            if (dec_line(d, line, &len, hdr, err) != 0)
                goto out;
            if (len > 64 || b64_decode(line, len, dec, &dl) != 0) {
                cu_err_set(err, 0, "age: malformed stanza body");
                goto out;
            }
            if (is_x) {
                if (bodylen + dl > sizeof st.body) {
                    cu_err_set(err, 0, "age: malformed X25519 stanza (body length)");
                    goto out;
                }
                memcpy(st.body + bodylen, dec, dl);
            }
            bodylen += dl;
            if (len < 64)
                break;
        }
        if (is_x) {
            if (bodylen != sizeof st.body) {
                cu_err_set(err, 0, "age: malformed X25519 stanza");
                goto out;
            }
            xs[(*nxs)++] = st;
        }
    }
    rc = 0;
out:
    free(line);
    return rc;
}

struct age_dec *age_dec_new(const struct age_identity *ids, size_t nid, age_source_fn src,
                            void *ctx, struct cu_err *err)
{
    struct age_dec *d = cu_xcalloc(1, sizeof *d);
    d->src = src;
    d->ctx = ctx;
    d->c = EVP_CIPHER_CTX_new();
    struct x25519_stanza *xs = cu_xcalloc(HDR_STANZA_MAX, sizeof *xs);
    size_t nxs = 0, macpfx = 0, got = 0;
    uint8_t mac[32], mac2[32], file_key[FILE_KEY_SIZE], hkey[32], nonce[NONCE_SIZE];
    int ok = 0, have_key = 0;
    struct cu_buf hdr;
    cu_buf_init(&hdr, HDR_MAX);
    if (!d->c) {
        cu_err_set(err, 0, "age: cipher context allocation failed");
        goto out;
    }
    if (dec_header(d, &hdr, xs, &nxs, mac, &macpfx, err) != 0)
        goto out;
    for (size_t i = 0; i < nid && !have_key; i++)
        for (size_t j = 0; j < nxs && !have_key; j++)
            if (try_unwrap(d->c, &ids[i], &xs[j], file_key) == 0)
                have_key = 1;
    if (!have_key) {
        cu_err_set(err, 0, "age: no identity matches any of the file's recipients");
        goto out;
    }
    if (hkdf_sha256(file_key, sizeof file_key, NULL, 0, "header", hkey) != 0 ||
        hmac_sha256(hkey, hdr.data, macpfx, mac2) != 0) {
        cu_err_set(err, 0, "age: key derivation failed");
        goto out;
    }
    if (CRYPTO_memcmp(mac, mac2, 32) != 0) {
        cu_err_set(err, 0, "age: header MAC mismatch");
        goto out;
    }
    if (dec_read_full(d, nonce, sizeof nonce, &got, err) != 0)
        goto out;
    if (got != sizeof nonce) {
        cu_err_set(err, 0, "age: truncated file (no payload nonce)");
        goto out;
    }
    if (hkdf_sha256(file_key, sizeof file_key, nonce, sizeof nonce, "payload", d->key) != 0) {
        cu_err_set(err, 0, "age: key derivation failed");
        goto out;
    }
    ok = 1;
out:
    cu_wipe(file_key, sizeof file_key);
    cu_wipe(hkey, sizeof hkey);
    cu_buf_free(&hdr);
    free(xs);
    if (!ok) {
        age_dec_free(d);
        return NULL;
    }
    return d;
}

/* Read and authenticate the next chunk into pt. */
static int dec_chunk(struct age_dec *d, struct cu_err *err)
{
    size_t got = 0;
    uint8_t nonce[12];
    if (dec_read_full(d, d->in + d->inlen, sizeof d->in - d->inlen, &got, err) != 0)
        return -1;
    size_t total = d->inlen + got;
    if (total == sizeof d->in) {
        /* A full chunk followed by more data: not the last one. */
        stream_nonce(d->counter, 0, nonce);
        if (aead_open(d->c, d->key, nonce, d->in, ENC_CHUNK_SIZE, d->pt) != 0)
            return cu_err_set(err, 0, "age: payload chunk %llu failed authentication",
                              (unsigned long long)d->counter);
        d->in[0] = d->in[ENC_CHUNK_SIZE];
        d->inlen = 1;
        d->ptlen = CHUNK_SIZE;
    } else {
        if (total < TAG_SIZE)
            return cu_err_set(err, 0, "age: truncated payload");
        stream_nonce(d->counter, 1, nonce);
        if (aead_open(d->c, d->key, nonce, d->in, total, d->pt) != 0)
            return cu_err_set(err, 0,
                              "age: final payload chunk %llu failed authentication "
                              "(truncated, tampered or trailing data)",
                              (unsigned long long)d->counter);
        if (total == TAG_SIZE && d->counter > 0)
            return cu_err_set(err, 0, "age: empty final chunk after data");
        d->inlen = 0;
        d->ptlen = total - TAG_SIZE;
        d->done = 1;
    }
    d->ptpos = 0;
    d->counter++;
    return 0;
}

ssize_t age_dec_read(struct age_dec *d, void *buf, size_t len, struct cu_err *err)
{
    if (d->failed)
        return cu_err_set(err, 0, "age: decryption failed earlier");
    if (len == 0)
        return 0;
    if (len > SSIZE_MAX)
        len = SSIZE_MAX;
    while (d->ptpos == d->ptlen) {
        if (d->done)
            return 0;
        if (dec_chunk(d, err) != 0) {
            d->failed = 1;
            cu_wipe(d->pt, sizeof d->pt);
            d->ptpos = d->ptlen = 0;
            return -1;
        }
    }
    size_t k = d->ptlen - d->ptpos;
    if (k > len)
        k = len;
    memcpy(buf, d->pt + d->ptpos, k);
    d->ptpos += k;
    return (ssize_t)k;
}

void age_dec_free(struct age_dec *d)
{
    if (!d)
        return;
    EVP_CIPHER_CTX_free(d->c);
    cu_wipe(d->key, sizeof d->key);
    cu_wipe(d->pt, sizeof d->pt);
    free(d);
}
