/*
 * profile: selection rules loaded from JSON, and the question "is this path selected, by
 * which rules, with which cap?" asked by the walker for every file.
 *
 * A profile (docs/profiles.md) is a JSON object:
 *   {"name": "linux-triage", "description": "...", "case_insensitive": false, "live": true,
 *    "exclude": ["/proc/\*\*", ...],              global excludes
 *    "rules": [ {"id": "logs", "description": "...",
 *                "include": ["/var/log/\*\*"], "exclude": ["/var/log/journal/\*\*"],
 *                "types": ["file", "symlink"],   default: every type but dir
 *                "perm_any": "0111",             optional: some of these mode bits set
 *                "max_file_bytes": 268435456,    optional per-file cap on bytes collected
 *                "size_min": 1, "size_max": 1048576,  optional bounds on the file size
 *                "time": {"field": "mtime"|"ctime"|"atime"|"btime"|"created_or_modified",
 *                         "after": "2021-02-25", "before": "..."},  optional window
 *                "max_total_bytes": N,           optional per-rule total cap
 *                "case_insensitive": true,       optional, overrides the profile's
 *                "content": {...}, "lines": {...}, "hashes": {...},  optional content tests
 *                                                (run by scan.c in the single read)
 *                "action": "collect" | "metadata" | "flag", "finding": true} ],
 *    "windows": true, "includes": ["linux-triage", "more.json"], "variables": {...}}
 * docs/profiles.md and docs/profile.schema.json give every key.
 * Patterns use glob.h syntax and may hold ${home}, which expands to each home directory
 * listed in the root's /etc/passwd (one pattern per home, duplicates dropped), and
 * ${NAME} for variables given by the profile's "variables" object or --set NAME=VALUE.
 *
 * Embedded profiles are compiled into the binary (collector/profiles/<name>.json).
 *
 * Owner: selection. Memory is bounded by the profile's size, never by the number of
 * files looked at: prof_select reuses the caller's struct prof_match.
 */
#ifndef CUSTODY_PROFILE_H
#define CUSTODY_PROFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "util.h"

#include <regex.h>

#include "digest.h"

/* collect: archive the content; metadata: record the entry only; flag: collect and report a
 * finding (when the rule has content tests: only when one of them matches). */
enum prof_action { PROF_ACTION_COLLECT = 0, PROF_ACTION_METADATA = 1, PROF_ACTION_FLAG = 2 };

/* Which time a rule's window applies to. CREATED_OR_MODIFIED is the later of btime (when the
 * file system knows it) and mtime: "created or modified on or after". */
enum prof_time { PROF_TIME_NONE, PROF_TIME_MTIME, PROF_TIME_CTIME, PROF_TIME_ATIME,
                 PROF_TIME_BTIME, PROF_TIME_CREATED_OR_MODIFIED };

/* Bits for prof_rule.types. */
enum prof_type {
    PROF_T_FILE = 1 << 0,
    PROF_T_DIR = 1 << 1,
    PROF_T_SYMLINK = 1 << 2,
    PROF_T_FIFO = 1 << 3,
    PROF_T_SOCKET = 1 << 4,
    PROF_T_CHARDEV = 1 << 5,
    PROF_T_BLOCKDEV = 1 << 6,
};
#define PROF_T_ALL_BUT_DIR (PROF_T_FILE | PROF_T_SYMLINK | PROF_T_FIFO | PROF_T_SOCKET | PROF_T_CHARDEV | PROF_T_BLOCKDEV)

/* Content signatures: byte strings looked for while the file is read. Each string gives one
 * or two patterns (its bytes, and with utf16le also as UTF-16LE); with nocase ASCII letters
 * are folded to lower case in the pattern and in the data. */
struct prof_sig {
    unsigned char *pat;
    size_t len;
    size_t str; /* index of the source string (content.strings, then content.hex) */
};
struct prof_content {
    struct prof_sig *sig;
    size_t n_sig;
    char **label; /* printable form of each source string, for findings */
    size_t n_str;
    int all;      /* every string must be found (else any one) */
    int nocase;
    uint64_t within; /* only the first N bytes; 0 = the whole file */
};
/* Line patterns (POSIX ERE): a line is a hit when it holds `contains` (if given), matches
 * every `match` expression and none of the `not_match` ones. */
struct prof_lines {
    char *contains;
    size_t contains_len;
    regex_t *match;
    size_t n_match;
    regex_t *not_match;
    size_t n_not;
    int nocase;
    unsigned max_hits; /* findings per file; further hits are counted in one last finding */
};
/* Known-hash lists: sorted binary digests per algorithm. */
struct prof_hashes {
    unsigned char *v[DG_COUNT];
    size_t n[DG_COUNT];
    char *list_name; /* where they came from, for findings */
};

struct prof_rule {
    char *id;
    char *description;
    char **include; /* expanded patterns */
    size_t n_include;
    char **exclude;
    size_t n_exclude;
    unsigned types;          /* PROF_T_* bits; directories are never collected */
    unsigned perm_any;       /* 0, or mode bits of which at least one must be set */
    uint64_t max_file_bytes; /* 0 = no cap */
    enum prof_action action;
    int have_size_min, have_size_max;
    uint64_t size_min, size_max; /* inclusive bounds on st_size */
    enum prof_time time_field;   /* the window below applies to this time */
    int have_after, have_before;
    struct timespec after, before; /* after: on or after; before: strictly before */
    int off;                       /* its window's variables are all empty: selects nothing */
    int casefold;                  /* ASCII case-insensitive patterns */
    uint64_t max_total_bytes;      /* 0 = no per-rule total cap */
    int finding;                   /* report a finding (flag, or "finding": true) */
    struct prof_content *content;  /* NULL when none */
    struct prof_lines *lines;
    struct prof_hashes *hashes;
    size_t *inc_pre, *exc_pre; /* literal prefix length of each pattern (a quick reject) */
};
/* 1 if the rule has content tests (content, lines or hashes). */
#define PROF_RULE_TESTS(r) ((r)->content || (r)->lines || (r)->hashes)

struct prof_profile {
    char *name;
    char *description;
    int casefold; /* "case_insensitive": true, or "windows": true */
    int live;     /* "live": true: capture volatile state first (live mode only) */
    char **exclude; /* global excludes, applied to every rule */
    size_t n_exclude;
    size_t *exc_pre;
    unsigned char *exc_fold; /* per global exclude: its profile matched case-insensitively */
    struct prof_rule *rules;
    size_t n_rules;
    char sha256_hex[65]; /* of the profile's JSON text as loaded */
    char **included;     /* names of the profiles it includes (recursively), in load order */
    size_t n_included;
    unsigned digest_mask; /* (1 << DG_x) for every algorithm a known-hash list needs */
};

/* Values used while expanding patterns. */
struct prof_env {
    const char *const *homes; /* home directories from the root's /etc/passwd */
    size_t n_homes;
    const char *const *set; /* "NAME=VALUE" overrides (--set) */
    size_t n_set;
};

/* What prof_select found for one path. Reused across calls; free with prof_match_free. */
struct prof_match {
    size_t *rule_idx; /* indexes into profile->rules of every matching rule */
    size_t n;
    size_t alloc;
    enum prof_action action; /* COLLECT if any matching rule collects or flags */
    uint64_t max_file_bytes; /* the largest cap of the matching collect rules; 0 = none */
    int tests;               /* some matching rule has content tests */
    const char *time_used;   /* "btime" or "mtime": what the first created_or_modified window
                                matched on; NULL when no such window */
};

/* Load from JSON text. source names it in error messages ("profile.json", "embedded:x").
 * Relative includes and hash-list files are looked up in the current directory (a profile
 * loaded with prof_load_file: in the file's directory).
 * Errors say where: "profile.json:12:5: rule 'logs': include[0]: ...". */
int prof_load_buffer(const char *source, const char *json, size_t len, const struct prof_env *env,
                     struct prof_profile **out, struct cu_err *err);
int prof_load_file(const char *path, const struct prof_env *env, struct prof_profile **out,
                   struct cu_err *err);
/* name is an embedded profile's name. */
int prof_load_embedded(const char *name, const struct prof_env *env, struct prof_profile **out,
                       struct cu_err *err);
/* An empty profile (for --include without --profile). */
struct prof_profile *prof_new_empty(const char *name);
void prof_free(struct prof_profile *p);

/* Add an ad-hoc collect rule (id "include-N") for --include, or a global exclude. */
int prof_add_include(struct prof_profile *p, const char *pattern, struct cu_err *err);
int prof_add_exclude(struct prof_profile *p, const char *pattern, struct cu_err *err);

/* Is the item at path (len bytes, inside the root) with this lstat (and birth time, NULL when
 * unknown) selected? 1 yes (m is filled), 0 no. Directories are never selected. A rule whose
 * window needs a birth time that is unknown does not select. */
int prof_select(const struct prof_profile *p, const char *path, size_t len, const struct stat *st,
                const struct timespec *btime, struct prof_match *m);
void prof_match_free(struct prof_match *m);

/* Should the walker descend into directory dir? 1 if some rule could select something
 * below it (and no global exclude covers the whole directory). */
int prof_descend(const struct prof_profile *p, const char *dir, size_t len);
/* 1 if some include pattern's literal prefix names dir or a path below it, e.g. "/dev/shm/x"
 * names "/dev". The walker enters /proc, /sys, /dev and /run only when named. */
int prof_names(const struct prof_profile *p, const char *dir, size_t len);

/* 1 if hex (a digest of algorithm a) is in the rule's known-hash list. */
int prof_hash_known(const struct prof_hashes *h, enum dg_algo a, const char *hex);

/* Embedded profiles: name and one-line description of the i-th, or NULL past the end. */
const char *prof_embedded_name(size_t i, const char **description);
/* The embedded profile's JSON text, or NULL. */
const char *prof_embedded_text(const char *name, size_t *len);

#endif
