/*
 * sign: Ed25519 keys and signatures through OpenSSL 3.
 *
 * Private keys are PKCS#8 PEM (optionally encrypted with a passphrase, AES-256-CBC),
 * public keys SubjectPublicKeyInfo PEM, so that `openssl pkeyutl -verify -pubin -inkey
 * KEY.pub -rawin -in manifest.json -sigfile manifest.sig` checks what sig_sign made.
 * A key's fingerprint is the lower-case hex SHA-256 of its DER SubjectPublicKeyInfo.
 *
 * Owner: signing. Private key material is held only inside OpenSSL's EVP_PKEY (which
 * clears it on free) and in buffers this module wipes; an ephemeral key never touches disk.
 */
#ifndef CUSTODY_SIGN_H
#define CUSTODY_SIGN_H

#include <stddef.h>

#include "util.h"

#define SIG_ED25519_LEN 64

struct sig_key;

int sig_key_generate(struct sig_key **out, struct cu_err *err);
/* passphrase may be NULL for an unencrypted key. */
int sig_key_load_private(const char *path, const char *passphrase, struct sig_key **out,
                         struct cu_err *err);
int sig_key_load_public(const char *path, struct sig_key **out, struct cu_err *err);
int sig_key_from_public_pem(const char *pem, size_t len, struct sig_key **out, struct cu_err *err);
/* Write the private key to path (created with O_EXCL, mode 0600); passphrase may be NULL. */
int sig_key_write_private(const struct sig_key *k, const char *path, const char *passphrase,
                          struct cu_err *err);
/* Write the public key to path (O_EXCL, mode 0644). */
int sig_key_write_public(const struct sig_key *k, const char *path, struct cu_err *err);
/* The public key as a new PEM string, or NULL. */
char *sig_key_public_pem(const struct sig_key *k);
/* 0 ok, -1 error. hex gets 64 hex digits and a NUL. */
int sig_key_fingerprint(const struct sig_key *k, char hex[65], struct cu_err *err);
int sig_key_has_private(const struct sig_key *k);

int sig_sign(const struct sig_key *k, const unsigned char *msg, size_t len,
             unsigned char sig[SIG_ED25519_LEN], struct cu_err *err);
/* 1 valid, 0 invalid, -1 could not check (err says why). */
int sig_verify(const struct sig_key *k, const unsigned char *msg, size_t len,
               const unsigned char *sig, size_t siglen, struct cu_err *err);

/* Frees and wipes; NULL is a no-op. */
void sig_key_free(struct sig_key *k);

/* Read a passphrase: from the file named by path (first line, newline stripped) if path is
 * not NULL, else from the environment variable CUSTODY_PASSPHRASE if set, else from the
 * terminal (prompt on /dev/tty, twice when confirm). Returns a new string the caller wipes
 * and frees, or NULL with err set. */
char *sig_passphrase_read(const char *path, const char *prompt, int confirm, struct cu_err *err);

#endif
