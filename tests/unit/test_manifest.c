/* Unit tests for the manifest model: an entry's JSON line (lossless non-UTF-8 names, nulls,
 * flags, errors), the journal, the summary, and the assembly of manifest.json from them. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "entry.h"
#include "journal.h"
#include "manifest.h"

int main(void)
{
    struct cu_buf line;
    cu_buf_init(&line, 1u << 20);
    struct mf_entry e;
    mf_entry_init(&e);
    e.path = "/var/log/bad\xffname";
    e.path_len = strlen(e.path);
    e.member = "stem/fs/var/log/bad\xffname";
    e.member_len = strlen(e.member);
    e.have_stat = 1;
    e.type = mf_type_name(S_IFREG | 0640);
    e.mode = S_IFREG | 0640;
    e.size = 10;
    e.collected_bytes = 10;
    e.mtime.tv_sec = 1614211200;
    e.mtime.tv_nsec = 7;
    e.have_digests = 1;
    strcpy(e.digests[DG_SHA256], "ab");
    static const char *const rules[] = {"logs"};
    e.rules = rules;
    e.n_rules = 1;
    e.flags = MF_F_CHANGED | MF_F_PADDED;
    e.status = MF_PARTIAL;
    e.err_errno = 5;
    e.err_msg = "read failed";
    CHECK(mf_entry_to_line(&e, &line) == 0);
    CHECK(!strchr(line.data, '\n'));
    json_t *j = json_loads(line.data, 0, NULL);
    CHECK(j != NULL);
    size_t n;
    unsigned char *raw = cu_base64_decode(json_string_value(json_object_get(j, "path_b64")), &n);
    CHECK(raw && n == e.path_len && !memcmp(raw, e.path, n));
    free(raw);
    CHECK(json_object_get(j, "member_b64") != NULL);
    CHECK_STR(json_string_value(json_object_get(j, "type")), "file");
    CHECK_STR(json_string_value(json_object_get(j, "mode")), "100640");
    CHECK_STR(json_string_value(json_object_get(j, "mtime")), "2021-02-25T00:00:00.000000007Z");
    CHECK(json_is_null(json_object_get(j, "btime")));
    CHECK(json_is_null(json_object_get(j, "link_target")));
    CHECK(json_object_get(j, "sha1") == NULL); /* only what was asked */
    CHECK_STR(json_string_value(json_array_get(json_object_get(j, "flags"), 0)),
              "changed-during-read");
    CHECK_STR(json_string_value(json_array_get(json_object_get(j, "flags"), 1)), "padded");
    CHECK_STR(json_string_value(json_object_get(j, "status")), "partial");
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "error"), "errno")), "EIO");
    json_decref(j);

    /* metadata-only entry: nulls where nothing is known */
    struct mf_entry m;
    mf_entry_init(&m);
    m.path = "/dev/shm/fifo";
    m.path_len = strlen(m.path);
    m.type = "fifo";
    cu_buf_reset(&line);
    CHECK(mf_entry_to_line(&m, &line) == 0);
    j = json_loads(line.data, 0, NULL);
    CHECK(j && json_is_null(json_object_get(j, "member")) && json_is_null(json_object_get(j, "sha256")));
    CHECK(j && json_is_null(json_object_get(j, "size")) && json_is_null(json_object_get(j, "error")));
    json_decref(j);

    /* journal + summary + assembly */
    char dir[] = "/tmp/custody-test-mf-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char jp[256], mp[256];
    snprintf(jp, sizeof jp, "%s/j.journal", dir);
    snprintf(mp, sizeof mp, "%s/manifest.json", dir);
    struct mf_journal *jr = NULL;
    struct cu_err err;
    CHECK(mf_journal_open(&jr, jp, &err) == 0);
    struct mf_journal *jr2 = NULL;
    CHECK(mf_journal_open(&jr2, jp, &err) == -1); /* O_EXCL: never reopened over */
    struct mf_summary sum;
    mf_summary_init(&sum);
    cu_buf_reset(&line);
    mf_entry_to_line(&e, &line);
    mf_summary_add(&sum, &e);
    CHECK(mf_journal_append(jr, line.data, line.len, 1, &err) == 0);
    cu_buf_reset(&line);
    mf_entry_to_line(&m, &line);
    mf_summary_add(&sum, &m);
    CHECK(mf_journal_append(jr, line.data, line.len, 0, &err) == 0);
    CHECK(mf_journal_lines(jr) == 2);
    CHECK(mf_journal_close(jr, &err) == 0);
    /* a torn last line (a run killed mid-write) is not copied */
    FILE *tf = fopen(jp, "a");
    fputs("{\"path\":\"torn", tf);
    fclose(tf);
    json_t *head = json_pack("{s:s,s:{s:s}}", "format", MF_FORMAT, "case", "id", "x");
    json_t *sj = mf_summary_to_json(&sum);
    CHECK(mf_manifest_write(mp, head, jp, NULL, sj, &err) == 0);
    CHECK(mf_manifest_write(mp, head, jp, NULL, sj, &err) == -1); /* never overwrites */
    json_error_t je;
    json_t *mf = json_load_file(mp, JSON_REJECT_DUPLICATES, &je);
    CHECK(mf != NULL);
    CHECK(json_array_size(json_object_get(mf, "entries")) == 2);
    CHECK_STR(json_string_value(json_object_get(mf, "format")), MF_FORMAT);
    json_t *s = json_object_get(mf, "summary");
    CHECK(json_integer_value(json_object_get(s, "entries")) == 2);
    CHECK(json_integer_value(json_object_get(s, "members")) == 1);
    CHECK(json_integer_value(json_object_get(s, "errors")) == 1);
    CHECK(json_integer_value(json_object_get(json_object_get(json_object_get(s, "by_status"),
                                                             "partial"), "count")) == 1);
    CHECK(json_integer_value(json_object_get(json_object_get(s, "by_rule"), "logs")) == 1);
    CHECK(json_is_array(json_object_get(mf, "findings")) &&
          json_array_size(json_object_get(mf, "findings")) == 0);
    json_decref(mf);
    json_decref(head);
    json_decref(sj);
    mf_summary_free(&sum);
    cu_buf_free(&line);
    unlink(jp);
    unlink(mp);
    rmdir(dir);
    return check_result();
}
