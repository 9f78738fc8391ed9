/*
 * manifest: see manifest.h.
 */
#define _GNU_SOURCE
#include "manifest.h"
#include "seal.h"

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

void mf_summary_add_finding(struct mf_summary *s, const char *rule)
{
    s->findings++;
    size_t k = 0;
    while (k < s->n_finding_rules && strcmp(s->finding_rules[k], rule) != 0)
        k++;
    if (k == s->n_finding_rules) {
        s->finding_rules = cu_xrealloc(s->finding_rules, (k + 1) * sizeof *s->finding_rules);
        s->finding_hits = cu_xrealloc(s->finding_hits, (k + 1) * sizeof *s->finding_hits);
        s->finding_rules[k] = cu_xstrdup(rule);
        s->finding_hits[k] = 0;
        s->n_finding_rules++;
    }
    s->finding_hits[k]++;
}

int mf_finding_to_line(const char *rule, const char *path, long line, const char *excerpt,
                       const char *description, struct cu_buf *out)
{
    json_t *o = json_object();
    json_object_set_new(o, "rule", json_string(rule));
    char *p = cu_utf8_lossy(path, strlen(path));
    json_object_set_new(o, "path", json_string(p));
    free(p);
    json_object_set_new(o, "line", line > 0 ? json_integer(line) : json_null());
    if (excerpt) {
        size_t n = strlen(excerpt);
        char *e = cu_utf8_lossy(excerpt, n > 512 ? 512 : n);
        json_object_set_new(o, "excerpt", json_string(e));
        free(e);
    } else {
        json_object_set_new(o, "excerpt", json_null());
    }
    char *d = cu_utf8_lossy(description, strlen(description));
    json_object_set_new(o, "description", json_string(d));
    free(d);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    int r = s ? cu_buf_append(out, s, strlen(s)) : -1;
    free(s);
    return r;
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
    json_object_set_new(o, "findings", json_integer((json_int_t)s->findings));
    json_t *fr = json_object();
    for (size_t k = 0; k < s->n_finding_rules; k++)
        json_object_set_new(fr, s->finding_rules[k], json_integer((json_int_t)s->finding_hits[k]));
    json_object_set_new(o, "findings_by_rule", fr);
    return o;
}

void mf_summary_free(struct mf_summary *s)
{
    for (size_t k = 0; k < s->n_rules; k++)
        free(s->rule_ids[k]);
    free(s->rule_ids);
    free(s->rule_hits);
    for (size_t k = 0; k < s->n_finding_rules; k++)
        free(s->finding_rules[k]);
    free(s->finding_rules);
    free(s->finding_hits);
    memset(s, 0, sizeof *s);
}

/* Copy the complete lines of a JSON-lines file as array elements. */
static int copy_lines(FILE *in, FILE *out, char **line, size_t *cap)
{
    int first = 1;
    ssize_t n;
    while ((n = getline(line, cap, in)) > 0) {
        if ((*line)[n - 1] != '\n')
            break; /* an incomplete last line: never ours after a clean run */
        fputs(first ? "\n" : ",\n", out);
        fwrite(*line, 1, (size_t)n - 1, out);
        first = 0;
    }
    return ferror(in) ? -1 : 0;
}

static int manifest_write(int fd, const char *out_path, const json_t *head,
                          const char *journal_path, const char *findings_path,
                          const json_t *summary, struct cu_err *err);

int mf_manifest_write(const char *out_path, const json_t *head, const char *journal_path,
                      const char *findings_path, const json_t *summary, struct cu_err *err)
{
    int fd = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return cu_err_set(err, errno, "cannot create %s: %s", out_path, strerror(errno));
    return manifest_write(fd, out_path, head, journal_path, findings_path, summary, err);
}

int mf_manifest_write_fd(int fd, const json_t *head, const char *journal_path,
                         const char *findings_path, const json_t *summary, struct cu_err *err)
{
    int d = dup(fd);
    if (d < 0)
        return cu_err_set(err, errno, "dup: %s", strerror(errno));
    return manifest_write(d, "the manifest", head, journal_path, findings_path, summary, err);
}

static int manifest_write(int fd, const char *out_path, const json_t *head,
                          const char *journal_path, const char *findings_path,
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
        close(fd);
        goto out;
    }
    if (!(out = fdopen(fd, "w"))) {
        cu_err_set(err, errno, "cannot write %s: %s", out_path, strerror(errno));
        close(fd);
        goto out;
    }
    in = seal_fopen(journal_path);
    if (!in) {
        cu_err_set(err, errno, "cannot read journal %s: %s", journal_path, strerror(errno));
        goto out;
    }
    h[strlen(h) - 1] = '\0';
    fprintf(out, "%s,\"entries\":[", h);
    if (copy_lines(in, out, &line, &cap) != 0) {
        cu_err_set(err, errno, "reading journal: %s", strerror(errno));
        goto out;
    }
    fputs("\n],\"findings\":[", out);
    FILE *fin = findings_path ? seal_fopen(findings_path) : NULL;
    if (fin) {
        int fr = copy_lines(fin, out, &line, &cap);
        fclose(fin);
        if (fr != 0) {
            cu_err_set(err, errno, "reading findings: %s", strerror(errno));
            goto out;
        }
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
