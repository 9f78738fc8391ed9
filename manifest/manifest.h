/*
 * manifest: the summary counters of a run, and the assembly of manifest.json.
 *
 * mf_summary_add counts each entry as it is journaled (by status, bytes, rule hits; memory
 * bounded by the number of distinct rule ids). mf_manifest_write streams the final
 * manifest.json: the head object (format, tool, case, host, collection), then the journal's
 * lines as the entries array, the findings journal's lines as the findings array, then the
 * summary, so the manifest is never held in memory.
 *
 * Owner: manifest model.
 */
#ifndef CUSTODY_MANIFEST_H
#define CUSTODY_MANIFEST_H

#include <jansson.h>
#include <stdint.h>

#include "entry.h"
#include "util.h"

#define MF_FORMAT "custody-manifest/1"

struct mf_summary {
    uint64_t entries;
    uint64_t members;
    uint64_t bytes_collected;
    uint64_t count[MF_STATUS_COUNT];
    uint64_t bytes[MF_STATUS_COUNT];
    uint64_t errors; /* entries that carry an error */
    char **rule_ids;
    uint64_t *rule_hits;
    size_t n_rules;
    uint64_t findings;
    char **finding_rules;
    uint64_t *finding_hits;
    size_t n_finding_rules;
};

void mf_summary_init(struct mf_summary *s);
void mf_summary_add(struct mf_summary *s, const struct mf_entry *e);
void mf_summary_add_finding(struct mf_summary *s, const char *rule);
json_t *mf_summary_to_json(const struct mf_summary *s);
/* One finding as a line of compact JSON: {"rule","path","line","excerpt","description"}
 * (line may be 0 for none; excerpt may be NULL; the excerpt is cut at 512 bytes). */
int mf_finding_to_line(const char *rule, const char *path, long line, const char *excerpt,
                       const char *description, struct cu_buf *out);
void mf_summary_free(struct mf_summary *s);

/* Write manifest.json to out_path (created O_EXCL): head must be a JSON object without
 * "entries" and "summary"; the journal at journal_path supplies the entries, one per line.
 * Incomplete trailing lines (no newline) are not copied. */
int mf_manifest_write(const char *out_path, const json_t *head, const char *journal_path,
                      const char *findings_path, const json_t *summary, struct cu_err *err);
/* The same into an open descriptor (a memfd for encrypted runs; fd stays open, positioned
 * after the manifest). */
int mf_manifest_write_fd(int fd, const json_t *head, const char *journal_path,
                         const char *findings_path, const json_t *summary, struct cu_err *err);

#endif
