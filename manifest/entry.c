/*
 * entry: see entry.h. Builds each entry as a small jansson object, dumps it, frees it.
 */
#include "entry.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const status_names[] = {"ok", "partial", "error", "skipped"};

static const char *const flag_names[] = {
    "changed-during-read", "truncated-by-limit", "atime-not-preserved", "vanished", "replaced",
    "size-grew", "size-shrank", "padded", "interrupted", "output-full", "sparse",
};

void mf_entry_init(struct mf_entry *e)
{
    memset(e, 0, sizeof *e);
    e->type = "file";
    e->err_errno = -1;
}

const char *mf_status_name(enum mf_status s)
{
    return s < MF_STATUS_COUNT ? status_names[s] : "error";
}

const char *mf_type_name(uint32_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return "file";
    case S_IFDIR: return "dir";
    case S_IFLNK: return "symlink";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "socket";
    case S_IFCHR: return "chardev";
    case S_IFBLK: return "blockdev";
    default: return "unknown";
    }
}

void mf_json_set_bytes(json_t *o, const char *key, const char *s, size_t n)
{
    if (!s) {
        json_object_set_new(o, key, json_null());
        return;
    }
    if (cu_utf8_valid(s, n)) {
        json_object_set_new(o, key, json_stringn(s, n));
        return;
    }
    char *lossy = cu_utf8_lossy(s, n);
    json_object_set_new(o, key, json_string(lossy));
    free(lossy);
    char *b64 = cu_base64_encode((const unsigned char *)s, n);
    char k[64];
    snprintf(k, sizeof k, "%s_b64", key);
    json_object_set_new(o, k, json_string(b64));
    free(b64);
}

static json_t *time_or_null(int have, const struct timespec *ts)
{
    if (!have)
        return json_null();
    char t[CU_TIME_MAX];
    cu_time_format(ts, t);
    return json_string(t);
}

static json_t *int_or_null(int have, uint64_t v)
{
    return have ? json_integer((json_int_t)v) : json_null();
}

json_t *mf_json_text(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (!j) { /* a name from the suspect host that is not UTF-8 */
        char *lossy = cu_utf8_lossy(s, strlen(s));
        j = json_string(lossy);
        free(lossy);
    }
    return j;
}

int mf_entry_to_line(const struct mf_entry *e, struct cu_buf *out)
{
    json_t *o = json_object();
    mf_json_set_bytes(o, "path", e->path, e->path_len);
    mf_json_set_bytes(o, "member", e->member, e->member_len);
    json_object_set_new(o, "type", json_string(e->type));
    int st = e->have_stat;
    json_object_set_new(o, "size", int_or_null(st, e->size));
    json_object_set_new(o, "collected_bytes", json_integer((json_int_t)e->collected_bytes));
    if (st) {
        char mode[16];
        snprintf(mode, sizeof mode, "%o", e->mode);
        json_object_set_new(o, "mode", json_string(mode));
    } else {
        json_object_set_new(o, "mode", json_null());
    }
    json_object_set_new(o, "uid", int_or_null(st, e->uid));
    json_object_set_new(o, "gid", int_or_null(st, e->gid));
    json_object_set_new(o, "user", mf_json_text(st ? e->user : NULL));
    json_object_set_new(o, "group", mf_json_text(st ? e->group : NULL));
    json_object_set_new(o, "inode", int_or_null(st, e->inode));
    json_object_set_new(o, "device", int_or_null(st, e->device));
    json_object_set_new(o, "nlink", int_or_null(st, e->nlink));
    json_object_set_new(o, "atime", time_or_null(st, &e->atime));
    json_object_set_new(o, "mtime", time_or_null(st, &e->mtime));
    json_object_set_new(o, "ctime", time_or_null(st, &e->ctime));
    json_object_set_new(o, "btime", time_or_null(st && e->have_btime, &e->btime));
    mf_json_set_bytes(o, "link_target", e->link_target, e->link_target_len);
    for (int a = 0; a < DG_COUNT; a++) {
        if (a != DG_SHA256 && !e->digests[a][0])
            continue;
        json_object_set_new(o, dg_algo_name((enum dg_algo)a),
                            e->have_digests && e->digests[a][0] ? json_string(e->digests[a])
                                                                : json_null());
    }
    json_t *rules = json_array();
    for (size_t i = 0; i < e->n_rules; i++)
        json_array_append_new(rules, mf_json_text(e->rules[i]));
    json_object_set_new(o, "rules", rules);
    json_t *flags = json_array();
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
        if (e->flags & (1u << i))
            json_array_append_new(flags, json_string(flag_names[i]));
    json_object_set_new(o, "flags", flags);
    json_object_set_new(o, "status", json_string(mf_status_name(e->status)));
    if (e->err_errno >= 0) {
        json_t *er = json_object();
        json_object_set_new(er, "errno", e->err_errno > 0 ? json_string(cu_errno_name(e->err_errno))
                                                          : json_null());
        json_object_set_new(er, "message", mf_json_text(e->err_msg ? e->err_msg : "error"));
        json_object_set_new(o, "error", er);
    } else {
        json_object_set_new(o, "error", json_null());
    }
    if (e->taken)
        json_object_set_new(o, "taken", time_or_null(1, e->taken));
    if (st && e->have_btime && e->btime_source)
        json_object_set_new(o, "btime_source", json_string(e->btime_source));
    if (e->time_used)
        json_object_set_new(o, "time_used", json_string(e->time_used));
    if (e->reason)
        json_object_set_new(o, "reason", mf_json_text(e->reason));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        return -1;
    int r = cu_buf_append(out, s, strlen(s));
    free(s);
    return r;
}
