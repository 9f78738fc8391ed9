/*
 * verify: checks an archive against its manifest in one streaming pass (mfread), for
 * `custody verify` and, before writing anything, `custody extract`.
 *
 * Integrity holds when: every member named by an entry is present once, with the entry's
 * type, digests (sha256, and sha1/md5 where listed) and link target; no member is missing,
 * extra or duplicated; manifest.json and manifest.sig are the last two members; the Ed25519
 * signature over manifest.json's exact bytes is valid (by the pinned key, or else by the
 * manifest's own key, which is reported as not pinned); the .sha256 sidecar, when present,
 * matches the archive file. A collection whose state is interrupted or output-full can
 * still hold integrity: its state is reported, not judged.
 *
 * Recovery: an archive cut short (SIGKILL, a pulled USB stick) has no manifest. When the
 * run's journal (<stem>.journal beside the archive) is there, the members are checked
 * against its entries and reported intact or lost; the result is never "integrity holds",
 * since nothing was signed.
 *
 * Owner: analysis side.
 */
#ifndef CUSTODY_VERIFY_H
#define CUSTODY_VERIFY_H

#include <jansson.h>
#include <stdio.h>

#include "util.h"

struct age_identity;

struct vf_opts {
    const char *pubkey; /* pinned key file, or NULL */
    const char *journal; /* journal to check against when the manifest is missing, or NULL:
                            then <archive minus .tar*>.journal is tried */
    FILE *report;        /* problem and summary lines; NULL for none */
    const struct age_identity *ids; /* for an age-encrypted archive (--identity), or NULL */
    size_t n_ids;
};

struct vf_result {
    int ok;               /* integrity holds */
    size_t problems;
    size_t members, entries, checked;
    char state[32];       /* the collection's state, "" when unknown */
    char fingerprint[65]; /* of the key the signature was checked with */
    int pinned;
    int signature_ok;
    int sidecar;          /* -1 absent, 0 mismatch, 1 match */
    int from_journal;     /* checked against the journal: no manifest */
    size_t intact, lost;  /* with from_journal */
    json_t *problem_list; /* array of {"kind":..,"member":..,"detail":..} (bounded) */
    /* for split sets (vset.c) */
    char file_sha256[65];     /* of the archive file as it is on disk */
    json_t *part;             /* the manifest's "part" object, or NULL */
    unsigned char *cmanifest; /* collection-manifest.json bytes, or NULL */
    size_t cmanifest_len;
    unsigned char csig[64];
    size_t csig_len;
};

/* 0: checked (res filled; res->ok says the verdict); -1: unreadable input (err). */
int vf_verify(const char *archive, const struct vf_opts *o, struct vf_result *res,
              struct cu_err *err);
/* The checks that follow the scan, on a manifest held in memory and an archive holding
 * nothing else (for the fuzzer: every path through the manifest's parsing and checks). */
int vf_verify_manifest(const unsigned char *manifest, size_t len, const struct vf_opts *o,
                       struct vf_result *res);
void vf_result_free(struct vf_result *res);

/* The member name an entry names, as bytes (member_b64 decoded when present). Returns a new
 * buffer and its length, or NULL when the entry has no member. */
char *vf_entry_member(json_t *entry, size_t *len);

#endif
