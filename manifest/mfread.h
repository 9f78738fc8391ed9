/*
 * mfread: one streaming pass over a custody archive, for the analysis-side verbs.
 *
 * mf_scan opens the archive (tar or zip; zstd, gzip or none: only those, so the reader's
 * attack surface stays small), reads every member once, hashes its content (SHA-256, SHA-1
 * and MD5, so whichever the manifest lists can be checked), and keeps per member its name
 * (exact bytes), type, size, digests and link target in a hash table, noting duplicates and
 * the order of manifest.json and manifest.sig. Their bytes are kept (the manifest up to
 * MF_MANIFEST_MAX). The raw file is hashed in the same read (for the .sha256 sidecar).
 *
 * The archive came from a compromised host: every size is bounded, every error is a value.
 * Memory grows with the number of members (one small record each), never with their size.
 *
 * Owner: manifest model (reading side).
 */
#ifndef CUSTODY_MFREAD_H
#define CUSTODY_MFREAD_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define MF_MANIFEST_MAX (1024u << 20)

struct mf_member {
    char *name;
    size_t name_len;
    unsigned type; /* AE_IFREG, AE_IFLNK, ... */
    uint64_t size;
    uint64_t read_bytes; /* content bytes actually read */
    char sha256[65], sha1[41], md5[33];
    char *link;
    size_t index; /* position in the archive */
    int seen;     /* matched by a manifest entry */
    int dups;     /* how many more members had this name */
    int short_read;
};

struct mf_scan {
    struct mf_member *tab; /* open addressing; name == NULL for an empty slot */
    size_t cap, count;
    size_t n_members; /* in the archive, duplicates included */
    unsigned char *manifest;
    size_t manifest_len;
    long manifest_index; /* -1 when absent */
    unsigned char sig[64];
    size_t sig_len;
    long sig_index;
    char *stem; /* the top-level folder, from the manifest member's name */
    char file_sha256[65];
    int read_error; /* the archive ended badly (truncated, corrupt) */
    char read_error_msg[300];
    unsigned char *cmanifest; /* <stem>/collection-manifest.json (last part of a split set) */
    size_t cmanifest_len;
    unsigned char csig[64];   /* <stem>/collection-manifest.sig */
    size_t csig_len;
    int is_zip;
    int encrypted; /* the file is age-encrypted (read through the decryptor) */
};

/* 0: scanned (maybe with read_error set); -1: not a readable archive at all (err). With
 * hash 0, member contents are skipped (list).
 * An age-encrypted file (custody collect --encrypt-to) is decrypted in the stream with one
 * of the identities (nothing decrypted touches the disk); without identities it is an
 * error (-1), and so is an identity that matches none of its recipients. A chunk that fails
 * authentication, a truncated file or a damaged age header is a read_error. file_sha256 is
 * always of the file as it is on disk (the ciphertext). */
struct age_identity;
int mf_scan(const char *path, int hash, const struct age_identity *ids, size_t nids,
            struct mf_scan *out, struct cu_err *err);
struct mf_member *mf_scan_find(const struct mf_scan *s, const char *name, size_t len);
void mf_scan_free(struct mf_scan *s);

/* The open archive for a second pass (extract): formats and filters as mf_scan. */
struct archive *mf_archive_open(const char *path, const struct age_identity *ids, size_t nids,
                                struct cu_err *err);

#endif
