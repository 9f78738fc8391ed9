/*
 * sign: see sign.h. Ed25519 through OpenSSL 3's EVP interface.
 */
#define _GNU_SOURCE
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

struct sig_key {
    EVP_PKEY *pkey;
    int has_private;
};

static int ossl_err(struct cu_err *err, const char *what)
{
    char buf[256] = "";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return cu_err_set(err, 0, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

static struct sig_key *wrap(EVP_PKEY *p, int priv)
{
    struct sig_key *k = cu_xcalloc(1, sizeof *k);
    k->pkey = p;
    k->has_private = priv;
    return k;
}

static int check_type(EVP_PKEY *p, struct cu_err *err)
{
    if (EVP_PKEY_get_id(p) != EVP_PKEY_ED25519)
        return cu_err_set(err, 0, "not an Ed25519 key (it is %s)",
                          OBJ_nid2sn(EVP_PKEY_get_id(p)) ? OBJ_nid2sn(EVP_PKEY_get_id(p)) : "?");
    return 0;
}

int sig_key_generate(struct sig_key **out, struct cu_err *err)
{
    EVP_PKEY *p = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!p)
        return ossl_err(err, "Ed25519 key generation failed");
    *out = wrap(p, 1);
    return 0;
}

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    const char *pass = u;
    if (!pass)
        return -1;
    size_t n = strlen(pass);
    if (n > (size_t)size)
        return -1;
    memcpy(buf, pass, n);
    return (int)n;
}

static FILE *open_read(const char *path, struct cu_err *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        cu_err_set(err, errno, "cannot read %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    return f;
}

int sig_key_load_private(const char *path, const char *passphrase, struct sig_key **out,
                         struct cu_err *err)
{
    FILE *f = open_read(path, err);
    if (!f)
        return -1;
    EVP_PKEY *p = PEM_read_PrivateKey(f, NULL, pass_cb, (void *)passphrase);
    fclose(f);
    if (!p)
        return ossl_err(err, passphrase ? "cannot load the private key (wrong passphrase?)"
                                        : "cannot load the private key (is it encrypted?)");
    if (check_type(p, err) != 0) {
        EVP_PKEY_free(p);
        return -1;
    }
    *out = wrap(p, 1);
    return 0;
}

int sig_key_load_public(const char *path, struct sig_key **out, struct cu_err *err)
{
    FILE *f = open_read(path, err);
    if (!f)
        return -1;
    EVP_PKEY *p = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    if (!p)
        return ossl_err(err, "cannot load the public key");
    if (check_type(p, err) != 0) {
        EVP_PKEY_free(p);
        return -1;
    }
    *out = wrap(p, 0);
    return 0;
}

int sig_key_from_public_pem(const char *pem, size_t len, struct sig_key **out, struct cu_err *err)
{
    if (len > INT32_MAX)
        return cu_err_set(err, 0, "public key too large");
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *p = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!p)
        return ossl_err(err, "cannot parse the public key");
    if (check_type(p, err) != 0) {
        EVP_PKEY_free(p);
        return -1;
    }
    *out = wrap(p, 0);
    return 0;
}

static FILE *create(const char *path, mode_t mode, struct cu_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        cu_err_set(err, errno, "cannot create %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    return f;
}

int sig_key_write_private(const struct sig_key *k, const char *path, const char *passphrase,
                          struct cu_err *err)
{
    FILE *f = create(path, 0600, err);
    if (!f)
        return -1;
    int ok = PEM_write_PKCS8PrivateKey(f, k->pkey, passphrase ? EVP_aes_256_cbc() : NULL, NULL,
                                       0, NULL, (void *)passphrase);
    if (fclose(f) != 0 || !ok) {
        unlink(path);
        return ok ? cu_err_set(err, errno, "writing %s failed", path)
                  : ossl_err(err, "writing the private key failed");
    }
    return 0;
}

int sig_key_write_public(const struct sig_key *k, const char *path, struct cu_err *err)
{
    FILE *f = create(path, 0644, err);
    if (!f)
        return -1;
    int ok = PEM_write_PUBKEY(f, k->pkey);
    if (fclose(f) != 0 || !ok) {
        unlink(path);
        return ok ? cu_err_set(err, errno, "writing %s failed", path)
                  : ossl_err(err, "writing the public key failed");
    }
    return 0;
}

char *sig_key_public_pem(const struct sig_key *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_PUBKEY(b, k->pkey)) {
        BIO_free(b);
        return NULL;
    }
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *s = n > 0 ? cu_xstrndup(data, (size_t)n) : NULL;
    BIO_free(b);
    return s;
}

int sig_key_fingerprint(const struct sig_key *k, char hex[65], struct cu_err *err)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k->pkey, &der);
    if (n <= 0)
        return ossl_err(err, "encoding the public key failed");
    unsigned char md[32];
    unsigned int mdlen = 0;
    int ok = EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
    OPENSSL_free(der);
    if (!ok)
        return ossl_err(err, "sha256 failed");
    cu_hex(md, 32, hex);
    return 0;
}

int sig_key_has_private(const struct sig_key *k)
{
    return k && k->has_private;
}

int sig_sign(const struct sig_key *k, const unsigned char *msg, size_t len,
             unsigned char sig[SIG_ED25519_LEN], struct cu_err *err)
{
    if (!k->has_private)
        return cu_err_set(err, 0, "no private key to sign with");
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    size_t siglen = SIG_ED25519_LEN;
    int ok = c && EVP_DigestSignInit(c, NULL, NULL, NULL, k->pkey) == 1 &&
             EVP_DigestSign(c, sig, &siglen, msg, len) == 1 && siglen == SIG_ED25519_LEN;
    EVP_MD_CTX_free(c);
    return ok ? 0 : ossl_err(err, "signing failed");
}

int sig_verify(const struct sig_key *k, const unsigned char *msg, size_t len,
               const unsigned char *sig, size_t siglen, struct cu_err *err)
{
    if (siglen != SIG_ED25519_LEN)
        return 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || EVP_DigestVerifyInit(c, NULL, NULL, NULL, k->pkey) != 1) {
        EVP_MD_CTX_free(c);
        return ossl_err(err, "cannot start verification");
    }
    int r = EVP_DigestVerify(c, sig, siglen, msg, len);
    EVP_MD_CTX_free(c);
    ERR_clear_error();
    return r == 1 ? 1 : 0;
}

void sig_key_free(struct sig_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey); /* OpenSSL clears private key material on free */
    cu_wipe(k, sizeof *k);
    free(k);
}

static char *read_tty(const char *prompt, struct cu_err *err)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        cu_err_set(err, errno, "no terminal to ask for the passphrase (use --passphrase-file "
                               "or CUSTODY_PASSPHRASE)");
        return NULL;
    }
    struct termios old, quiet;
    int have = tcgetattr(fd, &old) == 0;
    if (have) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    ssize_t w = write(fd, prompt, strlen(prompt));
    (void)w;
    char buf[1024];
    size_t n = 0;
    for (;;) {
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r <= 0 || ch == '\n' || ch == '\r')
            break;
        if (n < sizeof buf - 1)
            buf[n++] = ch;
    }
    buf[n] = '\0';
    if (have)
        tcsetattr(fd, TCSAFLUSH, &old);
    w = write(fd, "\n", 1);
    close(fd);
    char *s = cu_xstrdup(buf);
    cu_wipe(buf, sizeof buf);
    return s;
}

char *sig_passphrase_read(const char *path, const char *prompt, int confirm, struct cu_err *err)
{
    if (path) {
        size_t cap = 4096;
        char *buf = cu_xmalloc(cap);
        FILE *f = open_read(path, err);
        if (!f) {
            free(buf);
            return NULL;
        }
        if (!fgets(buf, (int)cap, f)) {
            fclose(f);
            cu_wipe(buf, cap);
            free(buf);
            cu_err_set(err, 0, "%s: empty passphrase file", path);
            return NULL;
        }
        fclose(f);
        buf[strcspn(buf, "\r\n")] = '\0';
        if (!buf[0]) {
            free(buf);
            cu_err_set(err, 0, "%s: empty passphrase", path);
            return NULL;
        }
        return buf;
    }
    const char *env = getenv("CUSTODY_PASSPHRASE");
    if (env && *env)
        return cu_xstrdup(env);
    char *a = read_tty(prompt, err);
    if (!a)
        return NULL;
    if (confirm) {
        char *b = read_tty("again: ", err);
        int same = b && strcmp(a, b) == 0;
        if (b) {
            cu_wipe(b, strlen(b));
            free(b);
        }
        if (!same) {
            cu_wipe(a, strlen(a));
            free(a);
            cu_err_set(err, 0, "the passphrases differ");
            return NULL;
        }
    }
    if (!a[0]) {
        free(a);
        cu_err_set(err, 0, "empty passphrase");
        return NULL;
    }
    return a;
}
