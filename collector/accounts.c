/*
 * accounts: see accounts.h. Parses passwd/group lines "name:x:id:..." into sorted tables.
 */
#include "accounts.h"

#include <stdlib.h>
#include <string.h>

#include "rootfs.h"
#include "util.h"

struct acct_name {
    uint32_t id;
    size_t seq; /* line order, so that the first name for an id wins as with getpwuid */
    char *name;
};

struct acct_db {
    struct acct_name *users, *groups;
    size_t n_users, n_groups;
    char **homes;
    size_t n_homes;
};

static int cmp_id(const void *a, const void *b)
{
    const struct acct_name *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_id_only(const void *a, const void *b)
{
    const struct acct_name *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Parse one "name:pw:id:..." file; with want_homes, field 6 (home) is collected too. */
static void parse(int rootfd, const char *rel, struct acct_name **tab, size_t *n, struct acct_db *db,
                  int want_homes)
{
    char *text = rootfs_read(rootfd, rel, 64u << 20, NULL, NULL);
    if (!text)
        return;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (*n >= ACCT_MAX)
            break;
        char *f[7] = {0};
        int nf = 0;
        char *p = line;
        while (nf < 7) {
            f[nf++] = p;
            char *c = strchr(p, ':');
            if (!c)
                break;
            *c = '\0';
            p = c + 1;
        }
        if (nf < 3 || !*f[0] || !*f[2])
            continue;
        char *end;
        unsigned long id = strtoul(f[2], &end, 10);
        if (*end || id > UINT32_MAX)
            continue;
        *tab = cu_xrealloc(*tab, (*n + 1) * sizeof **tab);
        (*tab)[*n].id = (uint32_t)id;
        (*tab)[*n].seq = *n;
        (*tab)[*n].name = cu_xstrdup(f[0]);
        (*n)++;
        if (want_homes && nf >= 6 && f[5][0] == '/') {
            size_t k = 0;
            while (k < db->n_homes && strcmp(db->homes[k], f[5]) != 0)
                k++;
            if (k == db->n_homes && db->n_homes < ACCT_MAX) {
                db->homes = cu_xrealloc(db->homes, (db->n_homes + 1) * sizeof *db->homes);
                db->homes[db->n_homes++] = cu_xstrdup(f[5]);
            }
        }
    }
    free(text);
    if (*n)
        qsort(*tab, *n, sizeof **tab, cmp_id);
}

struct acct_db *acct_load(int rootfd)
{
    struct acct_db *db = cu_xcalloc(1, sizeof *db);
    parse(rootfd, "etc/passwd", &db->users, &db->n_users, db, 1);
    parse(rootfd, "etc/group", &db->groups, &db->n_groups, db, 0);
    return db;
}

void acct_free(struct acct_db *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->n_users; i++)
        free(db->users[i].name);
    for (size_t i = 0; i < db->n_groups; i++)
        free(db->groups[i].name);
    for (size_t i = 0; i < db->n_homes; i++)
        free(db->homes[i]);
    free(db->users);
    free(db->groups);
    free(db->homes);
    free(db);
}

static const char *find(const struct acct_name *tab, size_t n, uint32_t id)
{
    if (!n)
        return NULL;
    struct acct_name key = {id, 0, NULL};
    const struct acct_name *r = bsearch(&key, tab, n, sizeof *tab, cmp_id_only);
    if (!r)
        return NULL;
    while (r > tab && r[-1].id == id) /* duplicates: the first one */
        r--;
    return r->name;
}

const char *acct_user(const struct acct_db *db, uint32_t uid)
{
    return find(db->users, db->n_users, uid);
}

const char *acct_group(const struct acct_db *db, uint32_t gid)
{
    return find(db->groups, db->n_groups, gid);
}

const char *const *acct_homes(const struct acct_db *db, size_t *n)
{
    *n = db->n_homes;
    return (const char *const *)db->homes;
}
