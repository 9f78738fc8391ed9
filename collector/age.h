/*
 * age: age v1 (https://age-encryption.org/v1) encryption and decryption for X25519
 * recipients, interoperable with the reference `age` tool, built on OpenSSL 3 only.
 *
 * - Keys: Bech32 "age1..." recipients and "AGE-SECRET-KEY-1..." identities.
 * - age_enc: a streaming encryptor that pushes ciphertext to a sink with constant memory.
 * - age_dec: a streaming decryptor that pulls ciphertext from a source and never returns
 *   plaintext of a chunk that has not been authenticated.
 *
 * Every secret (file key, payload key, ephemeral secret, shared secret) is wiped after use.
 * Owner: core.
 */
#ifndef CUSTODY_AGE_H
#define CUSTODY_AGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

#define AGE_RECIPIENT_MAX 128 /* enough for "age1..." */
#define AGE_IDENTITY_MAX 128

struct age_recipient {
    uint8_t pub[32];
};
struct age_identity {
    uint8_t priv[32];
    uint8_t pub[32];
};

/* Parse "age1..." (bech32, lower or upper case). 0 ok, -1 with err. */
int age_recipient_parse(const char *s, struct age_recipient *out, struct cu_err *err);
/* Parse "AGE-SECRET-KEY-1..." 0 ok, -1 with err. */
int age_identity_parse(const char *s, struct age_identity *out, struct cu_err *err);
/* Read a file of recipients (one per line, '#' comments and blank lines ignored) or, if s
 * starts with "age1", parse it directly. Appends to *list (realloc'd), *n updated. */
int age_recipients_load(const char *s_or_path, struct age_recipient **list, size_t *n,
                        struct cu_err *err);
/* Wipe and free a list of identities (NULL ok). */
void age_identities_free(struct age_identity *ids, size_t n);
/* Read an identity file as written by age-keygen (comment lines start with '#'; the key
 * line is AGE-SECRET-KEY-1...). Appends to list. */
int age_identities_load(const char *path, struct age_identity **list, size_t *n,
                        struct cu_err *err);
/* New random key pair; strings are NUL-terminated; identity in upper case like age-keygen. */
int age_keygen(struct age_identity *id, char recipient[AGE_RECIPIENT_MAX],
               char identity[AGE_IDENTITY_MAX], struct cu_err *err);
/* Format a recipient string from a public key. */
void age_recipient_string(const uint8_t pub[32], char out[AGE_RECIPIENT_MAX]);

/* Streaming encryptor: ciphertext bytes go to sink as they are produced (in pieces of at
 * most 64 KiB + 16). Memory is constant (one chunk buffer). */
typedef int (*age_sink_fn)(void *ctx, const void *buf, size_t len, struct cu_err *err);
struct age_enc;
/* Writes the header + payload nonce through sink immediately. */
struct age_enc *age_enc_new(const struct age_recipient *r, size_t nr, age_sink_fn sink,
                            void *ctx, struct cu_err *err);
int age_enc_write(struct age_enc *e, const void *buf, size_t len, struct cu_err *err);
int age_enc_finish(struct age_enc *e, struct cu_err *err); /* writes the final chunk */
void age_enc_free(struct age_enc *e);                      /* wipes keys; NULL ok */

/* Streaming decryptor pulling ciphertext from a source. */
typedef ssize_t (*age_source_fn)(void *ctx, void *buf, size_t len); /* like read(2) */
struct age_dec;
/* Reads and checks the header; finds the file key with one of the identities. NULL with
 * err on failure ("no identity matches", "header MAC mismatch", "not an age file"...). */
struct age_dec *age_dec_new(const struct age_identity *ids, size_t nid, age_source_fn src,
                            void *ctx, struct cu_err *err);
/* Fills buf with up to len plaintext bytes. Returns >0 bytes, 0 at the authenticated end,
 * -1 with err (truncated, tampered, trailing data). Never returns unauthenticated plaintext. */
ssize_t age_dec_read(struct age_dec *d, void *buf, size_t len, struct cu_err *err);
void age_dec_free(struct age_dec *d);
/* 1 if the first bytes look like an age file ("age-encryption.org/v1\n"). */
int age_is_age(const void *buf, size_t len);

#endif
