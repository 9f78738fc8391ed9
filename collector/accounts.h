/*
 * accounts: user and group names, and home directories, from the collected root's own
 * /etc/passwd and /etc/group, never through NSS (the static binary has none, and the
 * host's resolvers are not to be trusted or run).
 *
 * Owner: core. Bounded: at most ACCT_MAX entries of each kind are kept.
 */
#ifndef CUSTODY_ACCOUNTS_H
#define CUSTODY_ACCOUNTS_H

#include <stddef.h>
#include <stdint.h>

#define ACCT_MAX 200000

struct acct_db;

/* Reads etc/passwd and etc/group under rootfd; missing files give an empty table. */
struct acct_db *acct_load(int rootfd);
void acct_free(struct acct_db *db);
const char *acct_user(const struct acct_db *db, uint32_t uid);   /* NULL if unknown */
const char *acct_group(const struct acct_db *db, uint32_t gid);  /* NULL if unknown */
/* The distinct home directories listed in passwd (absolute paths). */
const char *const *acct_homes(const struct acct_db *db, size_t *n);

#endif
