/*
 * scan: see scan.h.
 */
#define _GNU_SOURCE
#include "scan.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One signature pattern's automaton. */
struct kmp {
    const struct prof_sig *sig;
    size_t *fail;
    size_t q;      /* bytes of the pattern matched so far */
    int done;      /* found */
    uint64_t at;   /* offset just past the first match */
};

struct rule_state {
    const struct prof_rule *r;
    struct kmp *k; /* one per signature of r->content */
    uint64_t *found_at; /* per source string: offset past the first match, 0 = not found */
    int content_on;
    unsigned hits;      /* line hits reported */
    uint64_t more_hits; /* line hits beyond max_hits */
};

struct scan {
    const struct prof_profile *p;
    struct rule_state *rs; /* one per profile rule (unused ones stay empty) */
    size_t *armed;         /* indexes of the rules armed for this file */
    size_t n_armed;
    int any_lines, any_content, lines_nocase;
    uint64_t offset;
    long line_no;
    char line[SCAN_LINE_MAX + 1];
    char folded[SCAN_LINE_MAX + 1];
    size_t line_len;
    int line_overflow; /* the current line is longer than SCAN_LINE_MAX */
    scan_finding_fn fn;
    void *ctx;
};

static unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

struct scan *scan_new(const struct prof_profile *p)
{
    struct scan *s = cu_xcalloc(1, sizeof *s);
    s->p = p;
    s->rs = cu_xcalloc(p->n_rules + 1, sizeof *s->rs);
    s->armed = cu_xcalloc(p->n_rules + 1, sizeof *s->armed);
    for (size_t i = 0; i < p->n_rules; i++) {
        const struct prof_rule *r = &p->rules[i];
        struct rule_state *st = &s->rs[i];
        st->r = r;
        if (!r->content)
            continue;
        st->k = cu_xcalloc(r->content->n_sig, sizeof *st->k);
        st->found_at = cu_xcalloc(r->content->n_str, sizeof *st->found_at);
        for (size_t j = 0; j < r->content->n_sig; j++) {
            const struct prof_sig *g = &r->content->sig[j];
            struct kmp *k = &st->k[j];
            k->sig = g;
            k->fail = cu_xcalloc(g->len ? g->len : 1, sizeof *k->fail);
            for (size_t q = 1, x = 0; q < g->len; q++) {
                while (x && g->pat[q] != g->pat[x])
                    x = k->fail[x - 1];
                if (g->pat[q] == g->pat[x])
                    x++;
                k->fail[q] = x;
            }
        }
    }
    return s;
}

void scan_free(struct scan *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->p->n_rules; i++) {
        struct rule_state *st = &s->rs[i];
        if (st->k)
            for (size_t j = 0; j < st->r->content->n_sig; j++)
                free(st->k[j].fail);
        free(st->k);
        free(st->found_at);
    }
    free(s->rs);
    free(s->armed);
    free(s);
}

int scan_begin(struct scan *s, const struct prof_match *m, scan_finding_fn fn, void *ctx)
{
    s->n_armed = 0;
    s->any_lines = s->any_content = s->lines_nocase = 0;
    s->offset = 0;
    s->line_no = 0;
    s->line_len = 0;
    s->line_overflow = 0;
    s->fn = fn;
    s->ctx = ctx;
    if (!m->tests)
        return 0;
    for (size_t i = 0; i < m->n; i++) {
        struct rule_state *st = &s->rs[m->rule_idx[i]];
        const struct prof_rule *r = st->r;
        if (!PROF_RULE_TESTS(r))
            continue;
        st->hits = 0;
        st->more_hits = 0;
        st->content_on = r->content != NULL;
        if (r->content) {
            s->any_content = 1;
            for (size_t j = 0; j < r->content->n_sig; j++) {
                st->k[j].q = 0;
                st->k[j].done = 0;
                st->k[j].at = 0;
            }
            memset(st->found_at, 0, r->content->n_str * sizeof *st->found_at);
        }
        if (r->lines) {
            s->any_lines = 1;
            if (r->lines->nocase)
                s->lines_nocase = 1;
        }
        s->armed[s->n_armed++] = m->rule_idx[i];
    }
    return s->n_armed > 0;
}

/* Run one rule's signature automata over buf (which starts at file offset off). */
static void content_feed(struct rule_state *st, const unsigned char *buf, size_t n, uint64_t off)
{
    const struct prof_content *c = st->r->content;
    if (c->within && off >= c->within) {
        st->content_on = 0;
        return;
    }
    if (c->within && off + n > c->within)
        n = (size_t)(c->within - off);
    int live = 0;
    for (size_t j = 0; j < c->n_sig; j++) {
        struct kmp *k = &st->k[j];
        if (k->done || st->found_at[k->sig->str])
            continue;
        const unsigned char *pat = k->sig->pat;
        size_t len = k->sig->len, q = k->q;
        for (size_t i = 0; i < n; i++) {
            unsigned char b = c->nocase ? fold(buf[i]) : buf[i];
            if (q == 0) {
                /* Fast path: skip to the next byte that can start the pattern. */
                if (b != pat[0]) {
                    if (c->nocase)
                        continue;
                    const unsigned char *nx = memchr(buf + i, pat[0], n - i);
                    if (!nx)
                        break;
                    i = (size_t)(nx - buf);
                    b = buf[i];
                }
            }
            while (q && pat[q] != b)
                q = k->fail[q - 1];
            if (pat[q] == b)
                q++;
            if (q == len) {
                k->done = 1;
                k->at = off + i + 1;
                if (!st->found_at[k->sig->str])
                    st->found_at[k->sig->str] = k->at;
                break;
            }
        }
        k->q = q;
        if (!k->done)
            live = 1;
    }
    if (!live)
        st->content_on = 0; /* every pattern found: nothing left to look for */
}

static void excerpt_of(const char *s, size_t n, char *out)
{
    if (n > SCAN_EXCERPT_MAX)
        n = SCAN_EXCERPT_MAX;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
    }
    out[n] = '\0';
}

static int line_hit(const struct prof_lines *l, const char *line, const char *folded, size_t n)
{
    if (l->contains && !memmem(l->nocase ? folded : line, n, l->contains, l->contains_len))
        return 0;
    for (size_t i = 0; i < l->n_match; i++) {
        regmatch_t pm = {.rm_so = 0, .rm_eo = (regoff_t)n};
        if (regexec(&l->match[i], line, 1, &pm, REG_STARTEND) != 0)
            return 0;
    }
    for (size_t i = 0; i < l->n_not; i++) {
        regmatch_t pm = {.rm_so = 0, .rm_eo = (regoff_t)n};
        if (regexec(&l->not_match[i], line, 1, &pm, REG_STARTEND) == 0)
            return 0;
    }
    return 1;
}

/* Test the line held in s->line against every armed line rule. */
static void line_end(struct scan *s)
{
    s->line_no++;
    size_t n = s->line_len;
    if (n && s->line[n - 1] == '\r')
        n--;
    s->line[n] = '\0';
    if (s->lines_nocase) {
        for (size_t i = 0; i < n; i++)
            s->folded[i] = (char)fold((unsigned char)s->line[i]);
        s->folded[n] = '\0';
    }
    for (size_t a = 0; a < s->n_armed; a++) {
        struct rule_state *st = &s->rs[s->armed[a]];
        const struct prof_lines *l = st->r->lines;
        if (!l || !line_hit(l, s->line, s->folded, n))
            continue;
        if (st->hits >= l->max_hits) {
            st->more_hits++;
            continue;
        }
        st->hits++;
        char ex[SCAN_EXCERPT_MAX + 1];
        excerpt_of(s->line, n, ex);
        s->fn(s->ctx, st->r, s->line_no, ex, st->r->description);
    }
    s->line_len = 0;
    s->line_overflow = 0;
}

static void lines_feed(struct scan *s, const char *buf, size_t n)
{
    while (n) {
        const char *nl = memchr(buf, '\n', n);
        size_t k = nl ? (size_t)(nl - buf) : n;
        size_t room = SCAN_LINE_MAX - s->line_len;
        size_t take = k < room ? k : room;
        memcpy(s->line + s->line_len, buf, take);
        s->line_len += take;
        if (k > take)
            s->line_overflow = 1; /* the rest of a long line is not tested */
        if (!nl)
            return;
        line_end(s);
        buf += k + 1;
        n -= k + 1;
    }
}

void scan_feed(struct scan *s, const void *buf, size_t n)
{
    if (!s->n_armed)
        return;
    if (s->any_content)
        for (size_t a = 0; a < s->n_armed; a++) {
            struct rule_state *st = &s->rs[s->armed[a]];
            if (st->content_on)
                content_feed(st, buf, n, s->offset);
        }
    if (s->any_lines)
        lines_feed(s, buf, n);
    s->offset += n;
}

static void report_content(struct scan *s, struct rule_state *st)
{
    const struct prof_content *c = st->r->content;
    size_t found = 0;
    for (size_t j = 0; j < c->n_str; j++)
        found += st->found_at[j] != 0;
    if (!found || (c->all && found < c->n_str))
        return;
    char ex[SCAN_EXCERPT_MAX + 1];
    struct cu_buf b;
    cu_buf_init(&b, 4096);
    for (size_t j = 0; j < c->n_str; j++)
        if (st->found_at[j])
            cu_buf_printf(&b, "%s\"%s\" ending at byte %llu", b.len ? "; " : "", c->label[j],
                          (unsigned long long)st->found_at[j]);
    excerpt_of(b.data, b.len, ex);
    cu_buf_free(&b);
    s->fn(s->ctx, st->r, 0, ex, st->r->description);
}

void scan_end(struct scan *s, const char digests[DG_COUNT][DG_HEX_MAX], int have_digests)
{
    if (!s->n_armed)
        return;
    if (s->any_lines && (s->line_len || s->line_overflow))
        line_end(s); /* a last line without a newline */
    for (size_t a = 0; a < s->n_armed; a++) {
        struct rule_state *st = &s->rs[s->armed[a]];
        const struct prof_rule *r = st->r;
        if (r->content)
            report_content(s, st);
        if (r->lines && st->more_hits) {
            char ex[128];
            snprintf(ex, sizeof ex, "%llu more matching lines not listed (max_hits %u)",
                     (unsigned long long)st->more_hits, r->lines->max_hits);
            s->fn(s->ctx, r, 0, ex, r->description);
        }
        if (r->hashes && have_digests)
            for (int d = 0; d < DG_COUNT; d++)
                if (digests[d][0] && prof_hash_known(r->hashes, (enum dg_algo)d, digests[d])) {
                    char ex[160];
                    snprintf(ex, sizeof ex, "%s %s in %.60s", dg_algo_name((enum dg_algo)d),
                             digests[d], r->hashes->list_name);
                    s->fn(s->ctx, r, 0, ex, r->description);
                    break;
                }
    }
    s->n_armed = 0;
}
