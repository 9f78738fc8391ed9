/*
 * cmd_collect: `custody collect`, the responder's verb.
 *
 * Order of a run: check the options and the root (refusing an output directory inside a
 * dead-box root), load the root's accounts and the profile, name the archive, open the log,
 * the journal and the archive, then walk the root: each selected item is read once
 * (reader.c) and its entry goes to the journal and the summary. Then the log is archived,
 * manifest.json is assembled from the journal, signed, and the two are the last members.
 * The archive's own SHA-256 goes to the .sha256 sidecar, an ephemeral public key to .pub.
 *
 * SIGINT, SIGTERM and SIGHUP stop the walk between items (cutting the current member, which
 * is then `partial`) and the run finalises with state `interrupted`; a second signal ends
 * the process at once, leaving the journal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts.h"
#include "age.h"
#include "clog.h"
#include "digest.h"
#include "entry.h"
#include "hostinfo.h"
#include "reslimit.h"
#include "live.h"
#include "journal.h"
#include "manifest.h"
#include "outarc.h"
#include "profile.h"
#include "progress.h"
#include "reader.h"
#include "scan.h"
#include "seal.h"
#include "sign.h"
#include "verbs.h"
#include "volume.h"
#include "walk.h"

#define DEFAULT_PROFILE "linux-triage"
#define MAX_PATTERNS 4096
/* Room kept on the output device to finalise: a base, plus twice the journal (the manifest
 * is written once as a file and once into the archive) and the log. */
#define RESERVE_BASE (8u << 20)

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    if (stop_requested) {
        if (sig == SIGALRM)
            return; /* the time limit, while already stopping: nothing more to do */
        _exit(EXIT_STOPPED); /* second signal: at once; the journal is on disk */
    }
    stop_requested = 1;
    stop_signal = sig;
}

struct opts {
    const char *root, *out, *profile, *case_id, *examiner, *note, *sign_key, *pass_file;
    const char *hash, *compress;
    const char *include[MAX_PATTERNS], *exclude[MAX_PATTERNS], *set[MAX_PATTERNS];
    const char *encrypt_to[MAX_PATTERNS];
    size_t n_include, n_exclude, n_set, n_encrypt_to;
    int xdev, quiet, no_live, environ, open_file_content, dry_run;
    const char *max_total, *max_file_size, *rate_limit, *timeout, *progress;
    int normal_priority;
};

struct run {
    struct opts *o;
    int rootfd;
    int live;
    char *stem;
    struct prof_profile *prof;
    struct prof_match match;
    struct acct_db *acct;
    struct clog *log;
    struct mf_journal *journal;
    struct oa_writer *oa;
    struct vol *vol;         /* --split: the parts (volume.c), or NULL */
    struct dg_set *dg;
    struct rd_ctx rd;
    struct mf_summary sum;
    struct cu_buf line;
    struct cu_buf member;
    const char **rule_ids; /* scratch for one entry's rule ids */
    int fatal;             /* the archive writer failed: no more members */
    struct cu_err fatal_err;
    char *reserve_path;
    uint64_t reserved_for; /* journal + log bytes the reserve was last sized for */
    int findings_fd;       /* findings as JSON lines, beside the journal */
    uint64_t findings_bytes; /* written to findings_fd so far */
    int live_captured;
    const char *live_reason; /* why live capture did not run, or NULL */
    struct scan *scan;       /* the profile's content tests */
    uint64_t *rule_used;     /* bytes collected per rule, for max_total_bytes */
    const char *cur_path;    /* the item being read, for findings */
    char reason[256];        /* storage for an entry's skip reason */
    struct age_recipient *recips; /* --encrypt-to: the archive is age-encrypted to these */
    size_t n_recips;
    int mem_fd[4];           /* encrypted runs: sealed journal; log, findings, manifest in memory */
    struct seal *seal;       /* encrypted runs: the journal's key */
    struct limits lim;
    struct progress *prog;
    uint64_t total_collected; /* content bytes collected, for --max-total */
};

static void usage(FILE *f)
{
    fprintf(f,
        "usage: custody collect [--root DIR] [--out DIR] [--profile NAME|FILE]\n"
        "                       [--include GLOB]... [--exclude GLOB]... [--set NAME=VALUE]...\n"
        "                       [--case ID] [--examiner NAME] [--note TEXT]\n"
        "                       [--sign-key FILE [--passphrase-file FILE]]\n"
        "                       [--hash sha256[,sha1][,md5]] [--compress zstd|gzip|none]\n"
        "                       [--xdev] [--quiet] [--no-live] [--environ] [--open-file-content]\n"
        "                       [--encrypt-to RECIPIENT|FILE]... [--dry-run]\n"
        "                       [--max-total SIZE] [--max-file-size SIZE] [--rate-limit SIZE]\n"
        "                       [--timeout DURATION] [--normal-priority]\n"
        "                       [--progress auto|json|none]\n"
        "\n"
        "Collects the files the profile selects under --root (default /) into one pax archive\n"
        "<host>-<UTC stamp>[-<case>].tar.zst in --out (default .), every member hashed in the\n"
        "read that archives it, with a signed manifest.json. The default profile is '%s';\n"
        "--include without --profile collects only the includes. Without --sign-key an\n"
        "ephemeral Ed25519 key signs; its public key is written beside the archive (.pub) and\n"
        "its fingerprint printed: write it down. The last line on stdout is the archive path.\n"
        "In live mode (root /) a profile marked live (linux-triage, live) first captures\n"
        "processes, sockets, network, users, kernel and open files from /proc into live/;\n"
        "--no-live skips that, --environ adds process environments (secrets!),\n"
        "--open-file-content collects deleted files that processes still hold open.\n"
        "--encrypt-to age1... (or a file of such lines; repeatable) writes the archive age\n"
        "encrypted (<name>.tar.zst.age): no plaintext evidence, log, journal or manifest is\n"
        "written to --out (the journal is sealed with a key held in memory only, so there is\n"
        "no recovery after SIGKILL).\n"
        "--dry-run prints the plan (action, size, rules, path per selected item; totals) and\n"
        "writes nothing.\n"
        "Limits (for a production server): --max-total and --max-file-size leave files out\n"
        "(entries with status skipped and the reason); --rate-limit caps the read rate in\n"
        "bytes per second (20M); --timeout (90s, 30m, 2h) finalises cleanly with state\n"
        "time-limit. custody runs at the lowest CPU priority and in the idle I/O class unless\n"
        "--normal-priority. --progress: a status line on a terminal (auto, the default),\n"
        "JSON lines on stderr (json), or none; --quiet prints only errors (and an ephemeral\n"
        "key's fingerprint).\n"
        "\n"
        "exit codes: 0 complete without evidence errors; 1 complete, with evidence errors\n"
        "            listed in the manifest; 2 usage or fatal error before anything was\n"
        "            written; 3 stopped early (state interrupted, output-full or time-limit)\n",
        DEFAULT_PROFILE);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    enum { O_XDEV = 256, O_PASSFILE, O_NOLIVE, O_ENVIRON, O_OPENFILES, O_DRYRUN, O_ENCRYPT,
           O_MAXTOTAL, O_MAXFILE, O_RATE, O_TIMEOUT, O_NORMALPRIO, O_PROGRESS };
    static const struct option lo[] = {
        {"root", required_argument, 0, 'r'},     {"out", required_argument, 0, 'o'},
        {"profile", required_argument, 0, 'p'},  {"include", required_argument, 0, 'i'},
        {"exclude", required_argument, 0, 'x'},  {"set", required_argument, 0, 's'},
        {"case", required_argument, 0, 'c'},     {"examiner", required_argument, 0, 'e'},
        {"note", required_argument, 0, 'n'},     {"sign-key", required_argument, 0, 'k'},
        {"passphrase-file", required_argument, 0, O_PASSFILE},
        {"hash", required_argument, 0, 'H'},     {"compress", required_argument, 0, 'z'},
        {"xdev", no_argument, 0, O_XDEV},        {"quiet", no_argument, 0, 'q'},
        {"no-live", no_argument, 0, O_NOLIVE},   {"environ", no_argument, 0, O_ENVIRON},
        {"open-file-content", no_argument, 0, O_OPENFILES},
        {"dry-run", no_argument, 0, O_DRYRUN},
        {"encrypt-to", required_argument, 0, O_ENCRYPT},
        {"max-total", required_argument, 0, O_MAXTOTAL},
        {"max-file-size", required_argument, 0, O_MAXFILE},
        {"rate-limit", required_argument, 0, O_RATE},
        {"timeout", required_argument, 0, O_TIMEOUT},
        {"normal-priority", no_argument, 0, O_NORMALPRIO},
        {"progress", required_argument, 0, O_PROGRESS},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->root = "/";
    o->out = ".";
    o->hash = "sha256";
    o->compress = "zstd";
    optind = 1;
    opterr = 1;
    int c;
    while ((c = getopt_long(argc, argv, "r:o:p:i:x:s:c:e:n:k:H:z:qh", lo, NULL)) != -1) {
        switch (c) {
        case 'r': o->root = optarg; break;
        case 'o': o->out = optarg; break;
        case 'p': o->profile = optarg; break;
        case 'i':
        case 'x':
        case 's':
        case O_ENCRYPT: {
            const char **arr = c == 'i' ? o->include : c == 'x' ? o->exclude
                             : c == 's' ? o->set : o->encrypt_to;
            size_t *n = c == 'i' ? &o->n_include : c == 'x' ? &o->n_exclude
                      : c == 's' ? &o->n_set : &o->n_encrypt_to;
            if (*n >= MAX_PATTERNS) {
                fprintf(stderr, "custody collect: too many patterns\n");
                return -1;
            }
            arr[(*n)++] = optarg;
            break;
        }
        case 'c': o->case_id = optarg; break;
        case 'e': o->examiner = optarg; break;
        case 'n': o->note = optarg; break;
        case 'k': o->sign_key = optarg; break;
        case O_PASSFILE: o->pass_file = optarg; break;
        case 'H': o->hash = optarg; break;
        case 'z': o->compress = optarg; break;
        case O_XDEV: o->xdev = 1; break;
        case O_NOLIVE: o->no_live = 1; break;
        case O_ENVIRON: o->environ = 1; break;
        case O_OPENFILES: o->open_file_content = 1; break;
        case O_DRYRUN: o->dry_run = 1; break;
        case 'q': o->quiet = 1; break;
        case O_MAXTOTAL: o->max_total = optarg; break;
        case O_MAXFILE: o->max_file_size = optarg; break;
        case O_RATE: o->rate_limit = optarg; break;
        case O_TIMEOUT: o->timeout = optarg; break;
        case O_NORMALPRIO: o->normal_priority = 1; break;
        case O_PROGRESS: o->progress = optarg; break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "custody collect: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

/* 1 if directory a is b or below it (both real paths). */
static int path_within(const char *a, const char *b)
{
    size_t n = strlen(b);
    if (!strcmp(b, "/"))
        return 1;
    return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/');
}

static const char **rule_scratch(struct run *r, size_t n)
{
    r->rule_ids = cu_xrealloc(r->rule_ids, (n ? n : 1) * sizeof *r->rule_ids);
    return r->rule_ids;
}

static int journal_entry(struct run *r, struct mf_entry *e, int sync)
{
    struct cu_err err;
    cu_buf_reset(&r->line);
    if (mf_entry_to_line(e, &r->line) != 0) {
        clog_printf(r->log, CLOG_ERROR, "an entry too large for the journal: %.200s", e->path);
        return -1;
    }
    mf_summary_add(&r->sum, e);
    if (mf_journal_append(r->journal, r->line.data, r->line.len, sync, &err) != 0) {
        if (err.errnum == ENOSPC || err.errnum == EDQUOT) {
            /* The device filled under the journal: use the reserve and finish up. */
            oa_reserve_release(r->oa, 1);
            if (mf_journal_append(r->journal, r->line.data, r->line.len, 1, &err) == 0)
                return 0;
        }
        /* The manifest is built from the journal: an item it cannot record must not be
         * archived silently. Stop here; the journal so far and the archive stay. */
        clog_printf(r->log, CLOG_ERROR, "%s", err.msg);
        r->fatal = 1;
        cu_err_set(&r->fatal_err, err.errnum, "%s", err.msg);
        return -1;
    }
    /* Keep the reserve large enough to finalise what the journal now holds. */
    uint64_t need = mf_journal_bytes(r->journal) + clog_bytes(r->log);
    if (!oa_output_full(r->oa) && need > r->reserved_for + (256u << 10)) {
        if (oa_reserve(r->oa, r->reserve_path, RESERVE_BASE + 2 * need, &err) != 0) {
            clog_printf(r->log, CLOG_WARN, "output device nearly full (%s): finishing", err.msg);
            oa_reserve_release(r->oa, 1);
        }
        r->reserved_for = need;
    }
    return 0;
}

static int member_name(struct run *r, const char *sub, const char *path, size_t len)
{
    cu_buf_reset(&r->member);
    return cu_buf_printf(&r->member, "%s/%s", r->stem, sub) || cu_buf_append(&r->member, path, len);
}

/* The limits on content: may a file of size bytes, of which want would be collected (after
 * the rules' per-file caps), still be collected? Not when it is over --max-file-size, would
 * pass --max-total, cannot fit in a --split part, or when every matching rule that collects
 * has reached its max_total_bytes. Otherwise reason says which limit left it out. The
 * collection and the dry run ask the same question. */
static int budget_ok(struct run *r, uint64_t size, uint64_t want, char *reason, size_t rsz)
{
    const struct prof_rule *full = NULL;
    if (r->lim.max_file_size && size > r->lim.max_file_size) {
        snprintf(reason, rsz, "max-file-size: %llu bytes is over --max-file-size %llu",
                 (unsigned long long)size, (unsigned long long)r->lim.max_file_size);
        return 0;
    }
    if (r->lim.max_total &&
        (r->total_collected >= r->lim.max_total || want > r->lim.max_total - r->total_collected)) {
        snprintf(reason, rsz, "max-total: %llu bytes collected, %llu more would pass --max-total "
                 "%llu", (unsigned long long)r->total_collected, (unsigned long long)want,
                 (unsigned long long)r->lim.max_total);
        return 0;
    }
    if (r->vol && !vol_fits(r->vol, want, reason, rsz))
        return 0;
    for (size_t i = 0; i < r->match.n; i++) {
        size_t k = r->match.rule_idx[i];
        const struct prof_rule *ru = &r->prof->rules[k];
        if (ru->action == PROF_ACTION_METADATA)
            continue;
        if (!ru->max_total_bytes || r->rule_used[k] + want <= ru->max_total_bytes)
            return 1;
        full = ru;
    }
    if (!full)
        return 1;
    snprintf(reason, rsz, "rule-total-cap: rule '%.100s' has collected %llu of its max_total_bytes "
             "%llu; this file needs %llu", full->id,
             (unsigned long long)r->rule_used[full - r->prof->rules],
             (unsigned long long)full->max_total_bytes, (unsigned long long)want);
    return 0;
}

static void budget_charge(struct run *r, uint64_t bytes)
{
    r->total_collected += bytes;
    for (size_t i = 0; i < r->match.n; i++) {
        size_t k = r->match.rule_idx[i];
        if (r->prof->rules[k].action != PROF_ACTION_METADATA)
            r->rule_used[k] += bytes;
    }
}

static int add_finding(struct run *r, const char *rule, const char *path, long line,
                       const char *description, const char *excerpt);

static void scan_finding(void *ctx, const struct prof_rule *rule, long line, const char *excerpt,
                         const char *description)
{
    struct run *r = ctx;
    add_finding(r, rule->id, r->cur_path, line, description, excerpt);
}

/* Findings of the matching rules that report without content tests (flag, "finding"). */
static void select_findings(struct run *r, const char *path)
{
    for (size_t i = 0; i < r->match.n; i++) {
        const struct prof_rule *ru = &r->prof->rules[r->match.rule_idx[i]];
        if (ru->finding && !PROF_RULE_TESTS(ru))
            add_finding(r, ru->id, path, 0, ru->description, NULL);
    }
}

static void progress_clear_hook(void *ctx)
{
    prog_clear(ctx);
}

/* Every read of evidence: the rate limit, then the progress line. */
static void read_account(void *ctx, size_t n)
{
    struct run *r = ctx;
    lim_rate_account(&r->lim, n);
    prog_bytes(r->prog, n);
}

static void scan_tap(void *ctx, const void *buf, size_t n)
{
    scan_feed(ctx, buf, n);
}

static int visit(void *ctx, const struct walk_item *it)
{
    struct run *r = ctx;
    if (r->fatal)
        return -1;
    struct mf_entry e;
    mf_entry_init(&e);
    e.path = it->path;
    e.path_len = it->path_len;
    if (it->open_errno) {
        /* A directory that may hold selected files could not be opened. */
        rd_entry_stat(&r->rd, &e, it->st, it->have_btime, &it->btime);
        e.status = MF_ERROR;
        e.err_errno = it->open_errno;
        e.err_msg = strerror(it->open_errno);
        clog_printf(r->log, CLOG_WARN, "cannot open directory %s: %s", it->path,
                    strerror(it->open_errno));
        journal_entry(r, &e, 0);
        return stop_requested ? -1 : 0;
    }
    if (!prof_select(r->prof, it->path, it->path_len, it->st, it->have_btime ? &it->btime : NULL,
                     &r->match))
        return stop_requested ? -1 : 0;
    const char **ids = rule_scratch(r, r->match.n);
    for (size_t i = 0; i < r->match.n; i++)
        ids[i] = r->prof->rules[r->match.rule_idx[i]].id;
    e.rules = ids;
    e.n_rules = r->match.n;
    rd_entry_stat(&r->rd, &e, it->st, it->have_btime, &it->btime);
    e.btime_source = it->btime_source;
    e.time_used = r->match.time_used;
    int rc = 0;
    mode_t t = it->st->st_mode & S_IFMT;
    uint64_t want = (uint64_t)it->st->st_size;
    if (r->match.max_file_bytes && want > r->match.max_file_bytes)
        want = r->match.max_file_bytes;
    int collect = r->match.action == PROF_ACTION_COLLECT && (t == S_IFREG || t == S_IFLNK);
    if (collect && t == S_IFREG &&
        !budget_ok(r, (uint64_t)it->st->st_size, want, r->reason, sizeof r->reason)) {
        collect = 0;
        e.status = MF_SKIPPED;
        e.reason = r->reason;
    }
    prog_item(r->prog, it->path, it->path_len, collect);
    select_findings(r, it->path);
    if (collect) {
        if (member_name(r, "fs", it->path, it->path_len) != 0) {
            e.status = MF_ERROR;
            e.err_errno = ENAMETOOLONG;
            e.err_msg = "member name too long";
        } else if (t == S_IFREG) {
            int scanning = scan_begin(r->scan, &r->match, scan_finding, r);
            r->cur_path = it->path;
            if (scanning) {
                r->rd.tap = scan_tap;
                r->rd.tap_ctx = r->scan;
            }
            /* The global caps also bound a file that grew after the walk saw it: it is cut
             * (truncated-by-limit) rather than passing --max-total or --max-file-size. */
            uint64_t cap = r->match.max_file_bytes;
            uint64_t caps[2] = {r->lim.max_file_size,
                                r->lim.max_total ? r->lim.max_total - r->total_collected : 0};
            for (int k = 0; k < 2; k++)
                if (caps[k] && (!cap || caps[k] < cap))
                    cap = caps[k];
            rc = rd_file(&r->rd, it->dirfd, it->name, it->st, r->member.data, r->member.len,
                         cap, &e, &r->fatal_err);
            r->rd.tap = NULL;
            if (scanning && rc == 0)
                scan_end(r->scan, (const char(*)[DG_HEX_MAX])e.digests, e.have_digests);
            budget_charge(r, e.collected_bytes);
        } else {
            rc = rd_symlink(&r->rd, it->dirfd, it->name, it->st, r->member.data, r->member.len,
                            &e, &r->fatal_err);
        }
    } else if (t == S_IFLNK) {
        rd_readlink(&r->rd, it->dirfd, it->name, it->st, &e); /* metadata: the target too */
    }
    if (rc != 0) {
        /* The archive is broken (output device full or a writer error): this member may be
         * cut; record it as such and stop adding content. */
        r->fatal = 1;
        e.status = MF_ERROR;
        e.flags |= oa_output_full(r->oa) ? MF_F_OUTPUT_FULL : 0;
        e.err_errno = r->fatal_err.errnum;
        e.err_msg = r->fatal_err.msg;
        e.have_digests = 0;
        clog_printf(r->log, CLOG_ERROR, "archive write failed at %s: %s", it->path,
                    r->fatal_err.msg);
    }
    if (e.err_errno >= 0 && !r->fatal)
        clog_printf(r->log, CLOG_WARN, "%s: %s", it->path, e.err_msg ? e.err_msg : "error");
    journal_entry(r, &e, e.collected_bytes >= (64u << 20));
    if (r->fatal || oa_output_full(r->oa))
        return -1;
    return stop_requested ? -1 : 0;
}

/* ---- the live-capture sink: documents and executables become members, findings go to the
 * findings journal ---- */

static const char *const live_rules[] = {"live"};

static int live_doc(void *ctx, const char *name, const char *data, size_t len,
                    const struct timespec *taken)
{
    struct run *r = ctx;
    if (r->fatal || oa_output_full(r->oa))
        return -1;
    struct mf_entry e;
    mf_entry_init(&e);
    e.path = name;
    e.path_len = strlen(name);
    e.rules = live_rules;
    e.n_rules = 1;
    e.taken = taken;
    cu_buf_reset(&r->member);
    cu_buf_printf(&r->member, "%s/%s", r->stem, name);
    if (rd_buffer(&r->rd, data, len, r->member.data, taken, &e, &r->fatal_err) != 0) {
        r->fatal = 1;
        return -1;
    }
    journal_entry(r, &e, 0);
    return oa_output_full(r->oa) ? -1 : 0;
}

static int live_file(void *ctx, const char *name, int fd, uint64_t cap, const char *origin)
{
    struct run *r = ctx;
    if (r->fatal || oa_output_full(r->oa))
        return -1;
    struct mf_entry e;
    mf_entry_init(&e);
    e.path = origin;
    e.path_len = strlen(origin);
    e.rules = live_rules;
    e.n_rules = 1;
    char *member = cu_xasprintf("%s/%s", r->stem, name);
    int rc = rd_stream(&r->rd, fd, member, cap, &e, &r->fatal_err);
    if (rc != 0)
        r->fatal = 1;
    else
        journal_entry(r, &e, 1);
    free(member);
    return rc;
}

static int add_finding(struct run *r, const char *rule, const char *path, long line,
                       const char *description, const char *excerpt)
{
    cu_buf_reset(&r->line);
    if (mf_finding_to_line(rule, path, line, excerpt, description, &r->line) != 0 ||
        cu_buf_append(&r->line, "\n", 1) != 0)
        return -1;
    /* The whole line or nothing (a half line would break the manifest), at the end of what
     * is written so far; counted only once written. A full device gets the reserve's room. */
    for (int attempt = 0; attempt < 2; attempt++) {
        size_t done = 0;
        while (done < r->line.len) {
            ssize_t w = pwrite(r->findings_fd, r->line.data + done, r->line.len - done,
                               (off_t)(r->findings_bytes + done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            done += (size_t)w;
        }
        if (done == r->line.len) {
            r->findings_bytes += done;
            mf_summary_add_finding(&r->sum, rule);
            clog_printf(r->log, CLOG_WARN, "finding %s: %s: %s", rule, path, description);
            return 0;
        }
        int e = errno;
        if (ftruncate(r->findings_fd, (off_t)r->findings_bytes) != 0) { /* keep the first error */ }
        if (attempt == 0 && (e == ENOSPC || e == EDQUOT)) {
            oa_reserve_release(r->oa, 1);
            continue;
        }
        clog_printf(r->log, CLOG_ERROR, "finding %s: %s: could not be recorded: %s", rule, path,
                    strerror(e));
        return -1;
    }
    return -1;
}

static int live_finding(void *ctx, const char *rule, const char *path, const char *description,
                        const char *excerpt)
{
    return add_finding(ctx, rule, path, 0, description, excerpt);
}

static void live_log(void *ctx, int level, const char *msg)
{
    struct run *r = ctx;
    clog_printf(r->log, level ? CLOG_WARN : CLOG_INFO, "%s", msg);
}

static void capture_live(struct run *r)
{
    if (!r->live) {
        r->live_reason = "dead-box mode (root is not /): volatile state is not the suspect's";
        return;
    }
    if (!r->prof->live) {
        r->live_reason = "the profile does not ask for it";
        return;
    }
    if (r->o->no_live) {
        r->live_reason = "--no-live";
        return;
    }
    struct live_opts lo;
    live_opts_default(&lo);
    lo.environ = r->o->environ;
    lo.open_file_content = r->o->open_file_content;
    lo.stop = &stop_requested;
    struct live_sink sink = {r, live_doc, live_file, live_finding, live_log};
    struct cu_err err;
    if (live_capture(&lo, &sink, &err) != 0) {
        clog_printf(r->log, CLOG_WARN, "live capture: %s", err.msg);
        r->live_reason = "stopped before it finished";
    }
    r->live_captured = 1;
}

/* --dry-run: what the walk selects, one line each, and totals; nothing is written. */
struct plan {
    struct run *r;
    uint64_t items, collect, bytes;
};

static int plan_visit(void *ctx, const struct walk_item *it)
{
    struct plan *pl = ctx;
    struct run *r = pl->r;
    if (it->open_errno) {
        printf("error\t-\t-\t");
        cu_fput_escaped(stdout, it->path, it->path_len);
        printf("\t%s\n", strerror(it->open_errno));
        return 0;
    }
    if (!prof_select(r->prof, it->path, it->path_len, it->st, it->have_btime ? &it->btime : NULL,
                     &r->match))
        return stop_requested ? -1 : 0;
    mode_t t = it->st->st_mode & S_IFMT;
    int content = r->match.action == PROF_ACTION_COLLECT && t == S_IFREG;
    uint64_t size = (uint64_t)it->st->st_size;
    if (content && r->match.max_file_bytes && size > r->match.max_file_bytes)
        size = r->match.max_file_bytes;
    int skipped = content && !budget_ok(r, (uint64_t)it->st->st_size, size, r->reason,
                                        sizeof r->reason);
    if (skipped)
        content = 0;
    pl->items++;
    if (content) {
        pl->collect++;
        pl->bytes += size;
        budget_charge(r, size);
    }
    printf("%s\t%llu\t", skipped ? "skipped" : content ? "collect"
                        : t == S_IFLNK && r->match.action == PROF_ACTION_COLLECT ? "link" : "metadata",
           (unsigned long long)(content ? size : 0));
    for (size_t i = 0; i < r->match.n; i++)
        printf("%s%s", i ? "," : "", r->prof->rules[r->match.rule_idx[i]].id);
    putchar('\t');
    cu_fput_escaped(stdout, it->path, it->path_len);
    putchar('\n');
    return stop_requested ? -1 : 0;
}

static int dry_run(struct run *r)
{
    struct plan pl = {r, 0, 0, 0};
    struct walk_opts wo = {r->prof, r->o->xdev, 0, 0, 0, NULL, &stop_requested};
    printf("# action\tbytes\trules\tpath\n");
    walk_tree(r->rootfd, &wo, plan_visit, &pl);
    printf("# %llu items selected, %llu files to collect, %llu bytes%s\n",
           (unsigned long long)pl.items, (unsigned long long)pl.collect,
           (unsigned long long)pl.bytes,
           r->live && r->prof->live && !r->o->no_live ? "; live capture would run first" : "");
    return EXIT_OK;
}

static char *self_sha256(void)
{
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct cu_err err;
    struct dg_set *d = dg_set_new(0, &err);
    char hex[DG_COUNT][DG_HEX_MAX];
    char *buf = cu_xmalloc(65536);
    ssize_t n;
    dg_set_begin(d, NULL);
    while ((n = read(fd, buf, 65536)) > 0)
        dg_set_update(d, buf, (size_t)n);
    close(fd);
    free(buf);
    char *r = NULL;
    if (n == 0 && dg_set_end(d, hex, &err) == 0)
        r = cu_xstrdup(hex[DG_SHA256]);
    dg_set_free(d);
    return r;
}

/* The collector's own effective capabilities (CapEff of /proc/self/status, hex), so the
 * manifest says what an unprivileged run could not read. */
static json_t *capabilities(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    json_t *r = json_null();
    if (!f)
        return r;
    char line[256];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "CapEff:", 7)) {
            char *v = line + 7;
            while (*v == ' ' || *v == '\t')
                v++;
            v[strcspn(v, "\n")] = '\0';
            json_decref(r);
            r = json_string(v);
        }
    fclose(f);
    return r;
}

static json_t *build_head(struct run *r, int argc, char **argv, const struct timespec *start,
                          const char *state, struct sig_key *key, int ephemeral,
                          unsigned hash_mask, enum oa_compress comp)
{
    json_t *h = json_object();
    json_object_set_new(h, "format", json_string(MF_FORMAT));
    json_t *tool = json_object();
    json_object_set_new(tool, "name", json_string("custody"));
    json_object_set_new(tool, "version", json_string(CUSTODY_VERSION));
    char *self = self_sha256();
    json_object_set_new(tool, "sha256", mf_json_text(self));
    free(self);
    json_object_set_new(h, "tool", tool);
    json_t *cs = json_object();
    json_object_set_new(cs, "id", mf_json_text(r->o->case_id));
    json_object_set_new(cs, "examiner", mf_json_text(r->o->examiner));
    json_object_set_new(cs, "note", mf_json_text(r->o->note));
    json_object_set_new(h, "case", cs);
    json_object_set_new(h, "host", host_info(r->rootfd, r->live));
    json_t *c = json_object();
    char t[CU_TIME_MAX];
    cu_time_format(start, t);
    json_object_set_new(c, "started", json_string(t));
    struct timespec now = cu_time_now();
    cu_time_format(&now, t);
    json_object_set_new(c, "finished", json_string(t));
    json_t *cl = json_array();
    json_array_append_new(cl, json_string("custody"));
    for (int i = 0; i < argc; i++)
        json_array_append_new(cl, mf_json_text(argv[i]));
    json_object_set_new(c, "command_line", cl);
    char rootreal[PATH_MAX];
    json_object_set_new(c, "root", mf_json_text(realpath(r->o->root, rootreal) ? rootreal : r->o->root));
    json_object_set_new(c, "mode", json_string(r->live ? "live" : "dead-box"));
    json_t *p = json_object();
    json_object_set_new(p, "name", mf_json_text(r->prof->name));
    json_object_set_new(p, "sha256", r->prof->sha256_hex[0] ? json_string(r->prof->sha256_hex)
                                                             : json_null());
    json_t *inc = json_array();
    for (size_t i = 0; i < r->prof->n_included; i++)
        json_array_append_new(inc, mf_json_text(r->prof->included[i]));
    json_object_set_new(p, "includes", inc);
    json_object_set_new(c, "profile", p);
    json_t *ha = json_array();
    for (int a = 0; a < DG_COUNT; a++)
        if (hash_mask & (1u << a))
            json_array_append_new(ha, json_string(dg_algo_name((enum dg_algo)a)));
    json_object_set_new(c, "hash_algorithms", ha);
    json_object_set_new(c, "compress", json_string(oa_compress_name(comp)));
    json_object_set_new(c, "state", json_string(state));
    json_object_set_new(c, "limits", lim_to_json(&r->lim));
    json_t *lv = json_object();
    json_object_set_new(lv, "captured", json_boolean(r->live_captured));
    json_object_set_new(lv, "reason", mf_json_text(r->live_reason));
    json_object_set_new(c, "live", lv);
    json_object_set_new(c, "euid", json_integer(geteuid()));
    json_object_set_new(c, "egid", json_integer(getegid()));
    json_object_set_new(c, "capabilities", capabilities());
    json_t *sg = json_object();
    json_object_set_new(sg, "algorithm", json_string("ed25519"));
    char *pem = sig_key_public_pem(key);
    json_object_set_new(sg, "public_key", mf_json_text(pem));
    free(pem);
    char fp[65] = "";
    sig_key_fingerprint(key, fp, NULL);
    json_object_set_new(sg, "fingerprint", json_string(fp));
    json_object_set_new(sg, "ephemeral", json_boolean(ephemeral));
    json_object_set_new(c, "signer", sg);
    if (r->n_recips) {
        json_t *en = json_object(), *rl = json_array();
        json_object_set_new(en, "format", json_string("age-encryption.org/v1"));
        for (size_t i = 0; i < r->n_recips; i++) {
            char rs[AGE_RECIPIENT_MAX];
            age_recipient_string(r->recips[i].pub, rs);
            json_array_append_new(rl, json_string(rs));
        }
        json_object_set_new(en, "recipients", rl);
        json_object_set_new(c, "encryption", en);
    }
    json_object_set_new(h, "collection", c);
    return h;
}

static struct sig_key *load_key(const struct opts *o, struct cu_err *err)
{
    struct sig_key *k = NULL;
    if (!o->pass_file && sig_key_load_private(o->sign_key, NULL, &k, err) == 0)
        return k;
    char *pass = sig_passphrase_read(o->pass_file, "passphrase for the signing key: ", 0, err);
    if (!pass)
        return NULL;
    int r = sig_key_load_private(o->sign_key, pass, &k, err);
    cu_wipe(pass, strlen(pass));
    free(pass);
    return r == 0 ? k : NULL;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* The head of a running collection, for the manifests of split parts (volume.c). */
struct head_args {
    struct run *r;
    int argc;
    char **argv;
    const struct timespec *start;
    struct sig_key *key;
    int ephemeral;
    unsigned hash_mask;
    enum oa_compress comp;
};

static json_t *running_head(void *ctx)
{
    struct head_args *h = ctx;
    return build_head(h->r, h->argc, h->argv, h->start, "running", h->key, h->ephemeral,
                      h->hash_mask, h->comp);
}

int cmd_collect(int argc, char **argv)
{
    struct opts o;
    struct vol_opts vo;
    int cargc;
    char **cargv;
    if (vol_opts_take(argc, argv, &vo, &cargc, &cargv) != 0)
        return EXIT_USAGE;
    int pr = parse_opts(cargc, cargv, &o);
    free(cargv);
    if (pr > 0)
        vol_usage(stdout);
    if (pr != 0)
        return pr > 0 ? EXIT_OK : EXIT_USAGE;

    struct cu_err err;
    struct run r;
    memset(&r, 0, sizeof r);
    r.o = &o;
    r.rootfd = -1;
    r.findings_fd = -1;
    for (int i = 0; i < 4; i++)
        r.mem_fd[i] = -1;
    int ret = EXIT_USAGE;
    struct sig_key *key = NULL;
    char *archive_path = NULL, *journal_path = NULL, *log_path = NULL, *mf_path = NULL;
    char *findings_path = NULL;
    json_t *head = NULL;
    int ephemeral = 0;
    unsigned hash_mask;
    enum oa_compress comp;
    struct timespec start = cu_time_now();

    if (dg_parse_list(o.hash, &hash_mask, &err) != 0) {
        fprintf(stderr, "custody collect: --hash: %s\n", err.msg);
        goto out;
    }
    if (oa_compress_parse(o.compress, &comp) != 0) {
        fprintf(stderr, "custody collect: --compress must be zstd, gzip or none\n");
        goto out;
    }
    if (vol_compress(&vo, &comp) != 0)
        goto out;
    {
        const char *sz[3] = {o.max_total, o.max_file_size, o.rate_limit};
        const char *nm[3] = {"--max-total", "--max-file-size", "--rate-limit"};
        uint64_t *dst[3] = {&r.lim.max_total, &r.lim.max_file_size, &r.lim.rate};
        for (int i = 0; i < 3; i++) {
            if (!sz[i])
                continue;
            char tmp[64];
            snprintf(tmp, sizeof tmp, "%s", sz[i]);
            size_t tl = strlen(tmp);
            if (i == 2 && tl > 2 && !strcmp(tmp + tl - 2, "/s"))
                tmp[tl - 2] = '\0'; /* "10M/s" */
            if (cu_size_parse(tmp, dst[i]) != 0 || *dst[i] == 0) {
                fprintf(stderr, "custody collect: %s: '%s' is not a size (e.g. 500M, 2G)\n", nm[i],
                        sz[i]);
                goto out;
            }
        }
        if (o.timeout && lim_duration_parse(o.timeout, &r.lim.timeout_s) != 0) {
            fprintf(stderr, "custody collect: --timeout: '%s' is not a duration (90s, 30m, 2h)\n",
                    o.timeout);
            goto out;
        }
        enum prog_mode pm = PROG_NONE;
        if (!o.progress || !strcmp(o.progress, "auto"))
            pm = !o.quiet && isatty(STDERR_FILENO) ? PROG_TTY : PROG_NONE;
        else if (!strcmp(o.progress, "json"))
            pm = PROG_JSON;
        else if (!strcmp(o.progress, "tty"))
            pm = PROG_TTY;
        else if (strcmp(o.progress, "none")) {
            fprintf(stderr, "custody collect: --progress must be auto, json or none\n");
            goto out;
        }
        if (!o.dry_run)
            r.prog = prog_new(pm, stderr, r.lim.max_total);
        r.lim.split = vo.split;
        r.lim.stop = &stop_requested;
        r.lim.low_priority = !o.normal_priority;
        lim_apply_priority(&r.lim); /* before the walk: the host keeps serving */
    }
    for (size_t i = 0; i < o.n_encrypt_to; i++)
        if (age_recipients_load(o.encrypt_to[i], &r.recips, &r.n_recips, &err) != 0) {
            fprintf(stderr, "custody collect: --encrypt-to %s: %s\n", o.encrypt_to[i], err.msg);
            goto out;
        }
    char rootreal[PATH_MAX], outreal[PATH_MAX];
    r.rootfd = open(o.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r.rootfd < 0 || !realpath(o.root, rootreal)) {
        fprintf(stderr, "custody collect: --root %s: %s\n", o.root, strerror(errno));
        goto out;
    }
    r.live = !strcmp(rootreal, "/");
    struct stat outst, rootst;
    if (o.dry_run)
        goto load_profile; /* nothing is written: no output directory to check */
    if (mkdir(o.out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "custody collect: --out %s: %s\n", o.out, strerror(errno));
        goto out;
    }
    if (!realpath(o.out, outreal)) {
        fprintf(stderr, "custody collect: --out %s: %s\n", o.out, strerror(errno));
        goto out;
    }
    if (stat(outreal, &outst) != 0 || !S_ISDIR(outst.st_mode) || fstat(r.rootfd, &rootst) != 0) {
        fprintf(stderr, "custody collect: --out %s is not a directory\n", o.out);
        goto out;
    }
    if (!r.live && path_within(outreal, rootreal)) {
        fprintf(stderr, "custody collect: refusing to write the output (%s) inside the root "
                        "being collected (%s): it would change the evidence\n", outreal, rootreal);
        goto out;
    }

load_profile:
    r.acct = acct_load(r.rootfd);
    size_t n_homes;
    const char *const *homes = acct_homes(r.acct, &n_homes);
    struct prof_env env = {homes, n_homes, o.set, o.n_set};
    int pe;
    if (o.profile) {
        if (strchr(o.profile, '/') || strstr(o.profile, ".json"))
            pe = prof_load_file(o.profile, &env, &r.prof, &err);
        else
            pe = prof_load_embedded(o.profile, &env, &r.prof, &err);
    } else if (o.n_include) {
        r.prof = prof_new_empty("ad-hoc");
        pe = 0;
    } else {
        pe = prof_load_embedded(DEFAULT_PROFILE, &env, &r.prof, &err);
    }
    if (pe != 0) {
        fprintf(stderr, "custody collect: profile: %s\n", err.msg);
        goto out;
    }
    r.rule_used = cu_xcalloc(r.prof->n_rules + o.n_include + 1, sizeof *r.rule_used);
    hash_mask |= r.prof->digest_mask; /* known-hash lists need their algorithms */
    for (size_t i = 0; i < o.n_include; i++)
        if (prof_add_include(r.prof, o.include[i], &err) != 0) {
            fprintf(stderr, "custody collect: --include %s: %s\n", o.include[i], err.msg);
            goto out;
        }
    for (size_t i = 0; i < o.n_exclude; i++)
        if (prof_add_exclude(r.prof, o.exclude[i], &err) != 0) {
            fprintf(stderr, "custody collect: --exclude %s: %s\n", o.exclude[i], err.msg);
            goto out;
        }
    r.scan = scan_new(r.prof); /* after the rules are final: it points into them */

    if (o.dry_run) {
        ret = dry_run(&r);
        goto out;
    }
    if (o.sign_key) {
        key = load_key(&o, &err);
        if (!key) {
            fprintf(stderr, "custody collect: --sign-key %s: %s\n", o.sign_key, err.msg);
            goto out;
        }
    } else {
        if (sig_key_generate(&key, &err) != 0) {
            fprintf(stderr, "custody collect: key generation: %s\n", err.msg);
            goto out;
        }
        ephemeral = 1;
    }
    char fp[65];
    if (sig_key_fingerprint(key, fp, &err) != 0) {
        fprintf(stderr, "custody collect: %s\n", err.msg);
        goto out;
    }

    /* Names. */
    char *host = host_name_for_file(r.rootfd, r.live);
    char stamp[20];
    cu_time_stamp(start.tv_sec, stamp);
    if (o.case_id) {
        char *cs = cu_xstrdup(o.case_id);
        for (char *p = cs; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
                *p = '_';
        if (strlen(cs) > 64)
            cs[64] = '\0';
        r.stem = cu_xasprintf("%s-%s-%s", host, stamp, cs);
        free(cs);
    } else {
        r.stem = cu_xasprintf("%s-%s", host, stamp);
    }
    free(host);
    archive_path = vol_archive_path(&vo, outreal, r.stem, comp, r.n_recips > 0);
    r.reserve_path = cu_xasprintf("%s/%s.reserve", outreal, r.stem);
    if (r.n_recips) {
        /* Encrypted run: the journal, log, findings and manifest hold evidence (names,
         * digests, excerpts) and must never reach the output device in plaintext. The
         * journal, which grows with every file, goes to an unlinked file on the output device
         * sealed with a key that lives only in memory (seal.h), so memory stays flat; the log,
         * findings and (at the end) the manifest live in memory (memfd). All are reached by
         * the rest of the run through /proc/self/fd paths. */
        static const char *const mem_names[4] = {"custody-journal", "custody-log",
                                                 "custody-findings", "custody-manifest"};
        char **paths[4] = {&journal_path, &log_path, &findings_path, &mf_path};
        for (int i = 0; i < 4; i++) {
            if (i == 0) {
                char *sp = cu_xasprintf("%s/.%s.sealed-journal", outreal, r.stem);
                r.mem_fd[0] = open(sp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (r.mem_fd[0] >= 0)
                    unlink(sp); /* no name: nothing is left behind, whatever happens */
                free(sp);
                if (r.mem_fd[0] < 0) {
                    fprintf(stderr, "custody collect: the sealed journal: %s\n", strerror(errno));
                    goto out;
                }
                r.seal = seal_new(&err);
                if (!r.seal) {
                    fprintf(stderr, "custody collect: %s\n", err.msg);
                    goto out;
                }
            } else
            r.mem_fd[i] = memfd_create(mem_names[i], MFD_CLOEXEC);
            if (r.mem_fd[i] < 0) {
                fprintf(stderr, "custody collect: memfd_create: %s\n", strerror(errno));
                goto out;
            }
            fchmod(r.mem_fd[i], 0644); /* the log member's mode, as for a file */
            *paths[i] = cu_xasprintf("/proc/self/fd/%d", r.mem_fd[i]);
            if (access(*paths[i], R_OK | W_OK) != 0) {
                fprintf(stderr, "custody collect: --encrypt-to needs /proc (%s: %s)\n",
                        *paths[i], strerror(errno));
                goto out;
            }
        }
        int jfd = dup(r.mem_fd[0]), lfd = dup(r.mem_fd[1]);
        r.findings_fd = dup(r.mem_fd[2]);
        if (jfd < 0 || lfd < 0 || r.findings_fd < 0) {
            fprintf(stderr, "custody collect: dup: %s\n", strerror(errno));
            if (jfd >= 0)
                close(jfd);
            if (lfd >= 0)
                close(lfd);
            goto out;
        }
        clog_open_fd(&r.log, lfd, o.quiet);
        mf_journal_open_fd(&r.journal, jfd);
        mf_journal_seal(r.journal, r.seal);
        seal_register(r.seal, journal_path);
        if (oa_open_fmt(&r.oa, archive_path, vo.fmt, comp, r.recips, r.n_recips, &err) != 0) {
            fprintf(stderr, "custody collect: %s\n", err.msg);
            goto out;
        }
    } else {
        journal_path = cu_xasprintf("%s/%s.journal", outreal, r.stem);
        log_path = cu_xasprintf("%s/%s.log", outreal, r.stem);
        mf_path = cu_xasprintf("%s/%s.manifest.json", outreal, r.stem);
        findings_path = cu_xasprintf("%s/%s.findings", outreal, r.stem);
        if (clog_open(&r.log, log_path, o.quiet, &err) != 0 ||
            mf_journal_open(&r.journal, journal_path, &err) != 0 ||
            oa_open_fmt(&r.oa, archive_path, vo.fmt, comp, NULL, 0, &err) != 0) {
            fprintf(stderr, "custody collect: %s\n", err.msg);
            goto out;
        }
        r.findings_fd = open(findings_path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND |
                                                O_NOFOLLOW | O_CLOEXEC, 0644);
    }
    if (r.findings_fd < 0) {
        fprintf(stderr, "custody collect: cannot create %s: %s\n", findings_path, strerror(errno));
        goto out;
    }
    if (oa_reserve(r.oa, r.reserve_path, RESERVE_BASE, &err) != 0) {
        fprintf(stderr, "custody collect: %s: the output device is too full to start\n",
                err.msg);
        unlink(archive_path);
        if (!r.n_recips) {
            unlink(journal_path);
            unlink(log_path);
            unlink(findings_path);
        }
        goto out;
    }
    r.dg = dg_set_new(hash_mask, &err);
    if (!r.dg) {
        fprintf(stderr, "custody collect: %s\n", err.msg);
        goto out;
    }
    rd_init(&r.rd, r.oa, r.dg, r.acct, &stop_requested);
    struct head_args ha = {&r, argc, argv, &start, key, ephemeral, hash_mask, comp};
    if (vo.split)
        r.vol = vol_new(&vo, r.oa, outreal, r.stem, comp, (int)r.n_recips, journal_path, key,
                        ephemeral, running_head, &ha, r.log);
    cu_buf_init(&r.line, 16u << 20);
    cu_buf_init(&r.member, 2u << 20);
    mf_summary_init(&r.sum);
    raise_fd_limit();

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (r.lim.timeout_s)
        alarm(r.lim.timeout_s > 86400u * 365 ? 86400u * 365 : (unsigned)r.lim.timeout_s);
    clog_set_hook(r.log, progress_clear_hook, r.prog);
    r.rd.account = read_account;
    r.rd.account_ctx = &r;

    clog_printf(r.log, CLOG_INFO, "custody %s collect: root %s (%s mode), profile %s, output %s",
                CUSTODY_VERSION, rootreal, r.live ? "live" : "dead-box", r.prof->name, archive_path);
    clog_printf(r.log, CLOG_INFO, "signing key fingerprint %s (%s)", fp,
                ephemeral ? "ephemeral key: write this fingerprint down" : o.sign_key);
    for (size_t i = 0; i < r.n_recips; i++) {
        char rs[AGE_RECIPIENT_MAX];
        age_recipient_string(r.recips[i].pub, rs);
        clog_printf(r.log, CLOG_INFO, "encrypting the archive (age) to %s", rs);
    }
    if (r.live && outst.st_dev == rootst.st_dev)
        clog_printf(r.log, CLOG_WARN, "the output %s is on the same file system as the evidence: "
                    "writing it may overwrite deleted data; prefer an external device", outreal);
    if (geteuid() != 0)
        clog_printf(r.log, CLOG_WARN, "not running as root: files the user cannot read are "
                    "recorded as errors");

    /* Volatile state first (order of volatility), then the walk. */
    prog_phase(r.prog, "live");
    capture_live(&r);
    prog_phase(r.prog, "files");
    if (!r.live_captured && r.live_reason)
        clog_printf(r.log, CLOG_INFO, "live capture skipped: %s", r.live_reason);
    struct walk_opts wo = {r.prof, o.xdev, 1, outst.st_dev, outst.st_ino, r.log, &stop_requested};
    if (!r.fatal && !oa_output_full(r.oa) && !stop_requested)
        walk_tree(r.rootfd, &wo, visit, &r);

    const char *state = "complete";
    if (r.fatal || oa_output_full(r.oa)) {
        state = oa_output_full(r.oa) ? "output-full" : "interrupted";
        if (!r.fatal)
            clog_printf(r.log, CLOG_WARN, "the output device is full: no more content is added; "
                        "finalising a partial archive with the room reserved for it");
    } else if (stop_requested && stop_signal == SIGALRM) {
        state = "time-limit";
        clog_printf(r.log, CLOG_WARN, "the time limit of %llu s is reached: finalising a partial "
                    "archive", (unsigned long long)r.lim.timeout_s);
    } else if (stop_requested) {
        state = "interrupted";
        clog_printf(r.log, CLOG_WARN, "stopped by signal %d: finalising a partial archive",
                    (int)stop_signal);
    }
    alarm(0);
    if (r.lim.slept_ns)
        clog_printf(r.log, CLOG_INFO, "rate limit: %.1f s spent waiting",
                    (double)r.lim.slept_ns / 1e9);
    prog_phase(r.prog, "finalise");
    r.rd.account = NULL; /* our own log and manifest are not evidence: no rate limit, no count */
    clog_printf(r.log, CLOG_INFO, "%llu entries, %llu members, %llu bytes collected, %llu errors; "
                "state %s", (unsigned long long)r.sum.entries, (unsigned long long)r.sum.members,
                (unsigned long long)r.sum.bytes_collected, (unsigned long long)r.sum.errors, state);

    if (r.fatal) {
        /* The writer cannot take more members; the journal stays for recovery. */
        clog_printf(r.log, CLOG_ERROR, "the archive could not be finalised: %s; the journal %s "
                    "records what was written", r.fatal_err.msg, journal_path);
        ret = EXIT_STOPPED;
        goto out_keep;
    }

    /* The log as a member, then the manifest and its signature, in the reserved room. */
    oa_reserve_release(r.oa, 0);
    clog_printf(r.log, CLOG_INFO, "finalising: log, manifest, signature");
    clog_close_file(r.log);
    {
        struct mf_entry e;
        mf_entry_init(&e);
        e.path = "collection.log";
        e.path_len = strlen(e.path);
        static const char *const log_rules[] = {"log"};
        e.rules = log_rules;
        e.n_rules = 1;
        cu_buf_reset(&r.member);
        cu_buf_printf(&r.member, "%s/collection.log", r.stem);
        int lfd = open(log_path, O_RDONLY | O_CLOEXEC);
        int rc = lfd >= 0 ? rd_fd(&r.rd, lfd, r.member.data, r.member.len, &e, &r.fatal_err) : -1;
        if (lfd >= 0)
            close(lfd);
        if (rc != 0 || journal_entry(&r, &e, 1) != 0) {
            fprintf(stderr, "custody collect: archiving the log failed: %s\n", r.fatal_err.msg);
            ret = EXIT_STOPPED;
            goto out_keep;
        }
    }
    if (mf_journal_close(r.journal, &err) != 0) {
        r.journal = NULL;
        fprintf(stderr, "custody collect: %s\n", err.msg);
        ret = EXIT_STOPPED;
        goto out_keep;
    }
    r.journal = NULL;
    head = build_head(&r, argc, argv, &start, state, key, ephemeral, hash_mask, comp);
    vol_annotate(head, &vo);
    json_t *summary = mf_summary_to_json(&r.sum);
    const char *mf_journal = journal_path; /* split: the last part's entries */
    if (r.vol && vol_finish(r.vol, head, journal_path, findings_path, &summary, &mf_journal,
                            &archive_path, stdout, &err) != 0) {
        json_decref(summary);
        fprintf(stderr, "custody collect: the last part: %s\n", err.msg);
        ret = EXIT_STOPPED;
        goto out_keep;
    }
    int mw = r.n_recips
        ? mf_manifest_write_fd(r.mem_fd[3], head, mf_journal, findings_path, summary, &err)
        : mf_manifest_write(mf_path, head, mf_journal, findings_path, summary, &err);
    json_decref(summary);
    if (mw != 0) {
        fprintf(stderr, "custody collect: %s\n", err.msg);
        ret = EXIT_STOPPED;
        goto out_keep;
    }
    {
        int mfd = open(mf_path, O_RDONLY | O_CLOEXEC);
        struct stat mst;
        if (mfd < 0 || fstat(mfd, &mst) != 0) {
            fprintf(stderr, "custody collect: reading back the manifest: %s\n", strerror(errno));
            if (mfd >= 0)
                close(mfd);
            ret = EXIT_STOPPED;
            goto out_keep;
        }
        void *m = mmap(NULL, (size_t)mst.st_size, PROT_READ, MAP_PRIVATE, mfd, 0);
        close(mfd);
        unsigned char sig[SIG_ED25519_LEN];
        struct timespec now = cu_time_now();
        struct mf_entry e; /* scratch: manifest members are not entries */
        int ok = m != MAP_FAILED && sig_sign(key, m, (size_t)mst.st_size, sig, &err) == 0;
        char *mname = cu_xasprintf("%s/manifest.json", r.stem);
        char *sname = cu_xasprintf("%s/manifest.sig", r.stem);
        if (ok) {
            mf_entry_init(&e);
            ok = rd_buffer(&r.rd, m, (size_t)mst.st_size, mname, &now, &e, &r.fatal_err) == 0;
            mf_entry_init(&e);
            ok = ok && rd_buffer(&r.rd, sig, sizeof sig, sname, &now, &e, &r.fatal_err) == 0;
            if (!ok)
                snprintf(err.msg, sizeof err.msg, "%s", r.fatal_err.msg);
        }
        free(mname);
        free(sname);
        if (m != MAP_FAILED)
            munmap(m, (size_t)mst.st_size);
        if (!ok) {
            fprintf(stderr, "custody collect: signing or writing the manifest: %s\n", err.msg);
            ret = EXIT_STOPPED;
            goto out_keep;
        }
    }
    char sha[65];
    struct oa_writer *oa = r.oa;
    r.oa = NULL;
    if (oa_close(oa, sha, &err) != 0) {
        fprintf(stderr, "custody collect: %s\n", err.msg);
        ret = EXIT_STOPPED;
        goto out_keep;
    }
    {
        const char *base = strrchr(archive_path, '/') + 1;
        char *side = cu_xasprintf("%s.sha256", archive_path);
        char *text = cu_xasprintf("%s  %s\n", sha, base);
        int sr = cu_write_new(side, text, 0644, &err);
        free(side);
        free(text);
        if (sr != 0)
            fprintf(stderr, "custody collect: %s\n", err.msg);
        if (ephemeral) {
            char *pub = cu_xasprintf("%s.pub", archive_path);
            if (sig_key_write_public(key, pub, &err) != 0)
                fprintf(stderr, "custody collect: %s\n", err.msg);
            free(pub);
        }
    }
    if (!r.n_recips) {
        unlink(mf_path);
        unlink(journal_path);
        unlink(log_path);
        unlink(findings_path);
    }
    prog_end(r.prog);
    if (!o.quiet || strcmp(state, "complete") != 0 || r.sum.errors)
        fprintf(stderr, "custody: %s: %llu entries, %llu bytes, %llu errors, state %s\n",
            strcmp(state, "complete") ? "stopped early" : "done",
            (unsigned long long)r.sum.entries, (unsigned long long)r.sum.bytes_collected,
            (unsigned long long)r.sum.errors, state);
    if (!o.quiet || ephemeral) /* an ephemeral key's fingerprint is never silenced */
        fprintf(stderr, "custody: signer fingerprint %s%s\n", fp,
            ephemeral ? " (ephemeral key; public key beside the archive as .pub)" : "");
    /* stderr ends with the findings tally */
    if (r.sum.findings && !o.quiet) {
        fprintf(stderr, "custody: %llu findings:", (unsigned long long)r.sum.findings);
        for (size_t i = 0; i < r.sum.n_finding_rules; i++)
            fprintf(stderr, " %s %llu%s", r.sum.finding_rules[i],
                    (unsigned long long)r.sum.finding_hits[i], i + 1 < r.sum.n_finding_rules ? "," : "");
        fprintf(stderr, " (see manifest.json findings)\n");
    }
    printf("%s\n", archive_path);
    fflush(stdout);
    if (strcmp(state, "complete") != 0)
        ret = EXIT_STOPPED;
    else
        ret = r.sum.errors ? EXIT_EVIDENCE : EXIT_OK;
    goto out;

out_keep:
    prog_clear(r.prog);
    if (r.n_recips)
        fprintf(stderr, "custody: the partial archive %s is kept; it is encrypted and cut short, "
                "and its journal was sealed with a key that is gone (nothing plaintext remains)\n",
                archive_path ? archive_path : "?");
    else
        fprintf(stderr, "custody: the partial archive %s and the journal %s are kept\n",
                archive_path ? archive_path : "?", journal_path ? journal_path : "?");
out:
    prog_free(r.prog);
    seal_free(r.seal);
    json_decref(head);
    mf_journal_close(r.journal, NULL);
    oa_free(r.oa);
    vol_free(r.vol);
    rd_done(&r.rd);
    dg_set_free(r.dg);
    clog_free(r.log);
    sig_key_free(key);
    prof_match_free(&r.match);
    scan_free(r.scan);
    free(r.rule_used);
    prof_free(r.prof);
    acct_free(r.acct);
    mf_summary_free(&r.sum);
    cu_buf_free(&r.line);
    cu_buf_free(&r.member);
    free(r.rule_ids);
    free(r.stem);
    free(archive_path);
    free(journal_path);
    free(log_path);
    free(mf_path);
    free(findings_path);
    if (r.findings_fd >= 0)
        close(r.findings_fd);
    free(r.reserve_path);
    free(r.recips);
    for (int i = 0; i < 4; i++)
        if (r.mem_fd[i] >= 0)
            close(r.mem_fd[i]);
    if (r.rootfd >= 0)
        close(r.rootfd);
    return ret;
}
