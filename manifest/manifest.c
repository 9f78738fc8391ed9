/*
 * manifest: see manifest.h.
 */
#define _GNU_SOURCE
#include "manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void mf_summary_init(struct mf_summary *s)
{
    memset(s, 0, sizeof *s);
}

void mf_summary_add(struct mf_summary *s, const struct mf_entry *e)
{
    s->entries++;
    if (e->member)
        s->members++;
    s->bytes_collected += e->collected_bytes;
    s->count[e->status]++;
    s->bytes[e->status] += e->collected_bytes;
    if (e->err_errno >= 0)
        s->errors++;
    for (size_t i = 0; i < e->n_rules; i++) {
        size_t k = 0;
        while (k < s->n_rules && strcmp(s->rule_ids[k], e->rules[i]) != 0)
            k++;
        if (k == s->n_rules) {
            s->rule_ids = cu_xrealloc(s->rule_ids, (k + 1) * sizeof *s->rule_ids);
            s->rule_hits = cu_xrealloc(s->rule_hits, (k + 1) * sizeof *s->rule_hits);
            s->rule_ids[k] = cu_xstrdup(e->rules[i]);
            s->rule_hits[k] = 0;
            s->n_rules++;
        }
        s->rule_hits[k]++;
    }
}

json_t *mf_summary_to_json(const struct mf_summary *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "entries", json_integer((json_int_t)s->entries));
    json_object_set_new(o, "members", json_integer((json_int_t)s->members));
    json_object_set_new(o, "bytes_collected", json_integer((json_int_t)s->bytes_collected));
    json_object_set_new(o, "errors", json_integer((json_int_t)s->errors));
    json_t *bs = json_object();
    for (int i = 0; i < MF_STATUS_COUNT; i++) {
        json_t *c = json_object();
        json_object_set_new(c, "count", json_integer((json_int_t)s->count[i]));
        json_object_set_new(c, "bytes", json_integer((json_int_t)s->bytes[i]));
        json_object_set_new(bs, mf_status_name((enum mf_status)i), c);
    }
    json_object_set_new(o, "by_status", bs);
    json_t *br = json_object();
    for (size_t k = 0; k < s->n_rules; k++)
        json_object_set_new(br, s->rule_ids[k], json_integer((json_int_t)s->rule_hits[k]));
    json_object_set_new(o, "by_rule", br);
    return o;
}

void mf_summary_free(struct mf_summary *s)
{
    for (size_t k = 0; k < s->n_rules; k++)
        free(s->rule_ids[k]);
    free(s->rule_ids);
    free(s->rule_hits);
    memset(s, 0, sizeof *s);
}

int mf_manifest_write(const char *out_path, const json_t *head, const char *journal_path,
                      const json_t *summary, struct cu_err *err)
{
    int rc = -1;
    FILE *in = NULL, *out = NULL;
    char *line = NULL;
    size_t cap = 0;
    char *h = json_dumps(head, JSON_COMPACT);
    char *sm = json_dumps(summary, JSON_COMPACT);
    if (!h || !sm || h[strlen(h) - 1] != '}') {
        cu_err_set(err, 0, "manifest head is not a JSON object");
        goto out;
    }
    int fd = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 || !(out = fdopen(fd, "w"))) {
        cu_err_set(err, errno, "cannot create %s: %s", out_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto out;
    }
    in = fopen(journal_path, "re");
    if (!in) {
        cu_err_set(err, errno, "cannot read journal %s: %s", journal_path, strerror(errno));
        goto out;
    }
    h[strlen(h) - 1] = '\0';
    fprintf(out, "%s,\"entries\":[", h);
    int first = 1;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) > 0) {
        if (line[n - 1] != '\n')
            break; /* an incomplete last line: never ours after a clean run */
        fputs(first ? "\n" : ",\n", out);
        fwrite(line, 1, (size_t)n - 1, out);
        first = 0;
    }
    if (ferror(in)) {
        cu_err_set(err, errno, "reading journal: %s", strerror(errno));
        goto out;
    }
    fprintf(out, "\n],\"summary\":%s}\n", sm);
    if (fflush(out) != 0 || fsync(fileno(out)) != 0) {
        cu_err_set(err, errno, "writing %s: %s", out_path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (out && fclose(out) != 0 && rc == 0)
        rc = cu_err_set(err, errno, "closing %s: %s", out_path, strerror(errno));
    if (in)
        fclose(in);
    free(line);
    free(h);
    free(sm);
    return rc;
}
