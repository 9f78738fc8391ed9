/*
 * vset: `custody verify` of a split collection (collect --split), given any part or the
 * folder that holds the parts.
 *
 * Every part present is verified as the archive it is (verify.c: its members against its
 * own manifest, its signature, its sidecar); the collection manifest, carried by the last
 * part, is checked against its signature (the pinned key, or the key in it, NOT pinned) and
 * lists every part: each must be present with the listed size and SHA-256 (the last part's
 * are not listed: its sidecar and signed manifest stand for them). Every missing or
 * damaged part is named; the others are still checked. Without the collection manifest
 * (the last part lost or damaged), the gaps in the numbering are named.
 *
 * Owner: analysis side.
 */
#ifndef CUSTODY_VSET_H
#define CUSTODY_VSET_H

#include "verify.h"

struct vset;

/* Is path a part (<stem>.partNNN<suffix>) or a folder holding parts? NULL if not. */
struct vset *vset_detect(const char *path);
/* Verify the whole set; prints a report (or JSON with json). Returns the exit code. */
int vset_verify(struct vset *s, const struct vf_opts *o, int json);
void vset_free(struct vset *s);

#endif
