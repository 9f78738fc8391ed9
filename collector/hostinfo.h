/*
 * hostinfo: what the manifest says about the host: hostname, machine-id, kernel, OS
 * release, boot time and time zone. In live mode (root "/") from the running system; in
 * dead-box mode only from the root's own files (kernel and boot time are then null).
 *
 * Owner: core. Reads small files only, through rootfs (never leaves the root).
 */
#ifndef CUSTODY_HOSTINFO_H
#define CUSTODY_HOSTINFO_H

#include <jansson.h>

/* A new JSON object with the "host" members. */
json_t *host_info(int rootfd, int live);
/* The host name to put in the archive's name: sanitised, never empty. Caller frees. */
char *host_name_for_file(int rootfd, int live);

#endif
