/*
 * seal: scratch files whose bytes on disk are AES-256-CTR ciphertext under a key that exists
 * only in this process's memory (random per run, never written, wiped at the end).
 *
 * An encrypted collection keeps its journal in such a file on the output device: the device
 * never holds the plaintext (the entries name every file and carry digests), and memory does
 * not grow with the number of files, as it would if the journal were kept in RAM. The file is
 * unlinked as soon as it is made; when the process ends, the key is gone and the bytes are
 * noise. CTR mode lets any byte range be read back (the counter follows the file offset).
 *
 * Readers that know only a path (manifest assembly, split parts) open it with seal_fopen,
 * which decrypts when the path was registered and is plain fopen otherwise.
 *
 * Owner: manifest model.
 */
#ifndef CUSTODY_SEAL_H
#define CUSTODY_SEAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

struct seal;

struct seal *seal_new(struct cu_err *err);
/* Wipes the key. Unregisters its paths. NULL is a no-op. */
void seal_free(struct seal *s);
/* XOR the key stream for file offset off into buf (encrypts and decrypts alike). */
int seal_apply(struct seal *s, uint64_t off, unsigned char *buf, size_t n);
/* From now on, seal_fopen(path) decrypts the file at path with s. */
void seal_register(struct seal *s, const char *path);
/* fopen(path, "r"), decrypting when path is registered (then seeking works with fseeko). */
FILE *seal_fopen(const char *path);

#endif
