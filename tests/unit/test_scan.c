/* Unit tests for scan: content signatures (exact, case-insensitive, UTF-16LE, "all", within
 * the first N bytes, matches split across buffers), line patterns (must and must-not match,
 * line numbers, CRLF, a last line without newline, long lines, max_hits) and known hashes.
 * Every case is fed whole, one byte at a time and in odd-sized pieces: the answer must not
 * depend on how the reader's buffers fall. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "profile.h"
#include "scan.h"

#define MAXF 64
struct found {
    char rule[64];
    long line;
    char excerpt[600];
};
static struct found fnd[MAXF];
static size_t nf;

static void cb(void *ctx, const struct prof_rule *r, long line, const char *excerpt,
               const char *description)
{
    (void)ctx;
    (void)description;
    if (nf < MAXF) {
        snprintf(fnd[nf].rule, sizeof fnd[nf].rule, "%s", r->id);
        fnd[nf].line = line;
        snprintf(fnd[nf].excerpt, sizeof fnd[nf].excerpt, "%s", excerpt ? excerpt : "");
    }
    nf++;
}

static const char *PROFILE =
    "{\"name\":\"t\",\"rules\":["
    "{\"id\":\"shell\",\"include\":[\"/**/*.aspx\"],\"action\":\"flag\","
    " \"content\":{\"strings\":[\"eval(Request\"],\"nocase\":true,\"utf16le\":true}},"
    "{\"id\":\"both\",\"include\":[\"/**/*.evtx\"],\"action\":\"flag\","
    " \"content\":{\"strings\":[\"MSExchange Unified Messaging\",\"System.InvalidCastException\"],"
    "  \"utf16le\":true,\"match\":\"all\"}},"
    "{\"id\":\"head\",\"include\":[\"/**/*.bin\"],\"action\":\"flag\","
    " \"content\":{\"hex\":[\"4d5a\"],\"within_bytes\":4}},"
    "{\"id\":\"proxy\",\"include\":[\"/**/*.log\"],\"action\":\"flag\","
    " \"lines\":{\"contains\":\"ServerInfo~\",\"match\":[\"ServerInfo~[^/,]*/\"],"
    "  \"not_match\":[\"ServerInfo~[^/,]*/autodiscover\",\"ServerInfo~localhost\"],\"max_hits\":2}},"
    "{\"id\":\"known\",\"include\":[\"/**/*.dat\"],\"action\":\"flag\","
    " \"hashes\":{\"sha256\":[\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\"],"
    "  \"md5\":[\"5d41402abc4b2a76b9719d911017c592\"]}}"
    "]}";

static struct prof_profile *prof;
static struct scan *sc;
static struct prof_match m;

/* Feed data for path in pieces of step bytes (0: whole); return the number of findings. */
static size_t run(const char *path, const void *data, size_t n, size_t step,
                  const char digests[DG_COUNT][DG_HEX_MAX])
{
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_mode = S_IFREG | 0644;
    st.st_size = (off_t)n;
    nf = 0;
    if (!prof_select(prof, path, strlen(path), &st, NULL, &m))
        return (size_t)-1;
    if (!scan_begin(sc, &m, cb, NULL))
        return (size_t)-2;
    const unsigned char *p = data;
    if (!step)
        step = n ? n : 1;
    for (size_t off = 0; off < n; off += step)
        scan_feed(sc, p + off, off + step > n ? n - off : step);
    scan_end(sc, digests, digests != NULL);
    return nf;
}

static const size_t steps[] = {0, 1, 3, 7, 4096};
#define NSTEPS (sizeof steps / sizeof steps[0])

static size_t utf16(const char *s, unsigned char *out)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = (unsigned char)s[i];
        out[2 * i + 1] = 0;
    }
    return 2 * n;
}

int main(void)
{
    struct cu_err err;
    CHECK(prof_load_buffer("t", PROFILE, strlen(PROFILE), NULL, &prof, &err) == 0);
    if (!prof)
        return 1;
    sc = scan_new(prof);

    for (size_t s = 0; s < NSTEPS; s++) {
        size_t st = steps[s];
        /* Case-insensitive literal, found across buffer edges. */
        const char *shell = "<%@ Page %><script runat=server>EVAL(request.Item[\"x\"])</script>";
        CHECK(run("/w/a.aspx", shell, strlen(shell), st, NULL) == 1);
        CHECK(!strcmp(fnd[0].rule, "shell") && fnd[0].line == 0 &&
              strstr(fnd[0].excerpt, "eval(Request") && strstr(fnd[0].excerpt, "ending at byte"));
        /* Benign page: nothing. */
        const char *benign = "<html><body>evaluate(Requests)</body></html>";
        CHECK(run("/w/b.aspx", benign, strlen(benign), st, NULL) == 0);
        /* The same signature as UTF-16LE. */
        unsigned char u[512];
        size_t un = utf16("xx eval(Request.Form) yy", u);
        CHECK(run("/w/c.aspx", u, un, st, NULL) == 1);
        /* KMP: a near miss right before the match ("eval(eval(Request"). */
        const char *tricky = "eval(eval(Request";
        CHECK(run("/w/d.aspx", tricky, strlen(tricky), st, NULL) == 1);

        /* "all": both UTF-16LE strings, in either order, each alone is not enough. */
        unsigned char ev[2048];
        size_t en = utf16("....System.InvalidCastException......MSExchange Unified Messaging..", ev);
        CHECK(run("/l/Application.evtx", ev, en, st, NULL) == 1 && !strcmp(fnd[0].rule, "both"));
        en = utf16("....MSExchange Unified Messaging only....", ev);
        CHECK(run("/l/Application.evtx", ev, en, st, NULL) == 0);
        /* ASCII (not UTF-16) text does not count for a UTF-16LE-only string? It does: both
         * forms are looked for. */
        const char *ascii = "MSExchange Unified Messaging System.InvalidCastException";
        CHECK(run("/l/x.evtx", ascii, strlen(ascii), st, NULL) == 1);

        /* within_bytes: "MZ" at 0 is found, at 4 is not. */
        CHECK(run("/b/x.bin", "MZ\x90\x00rest", 8, st, NULL) == 1);
        CHECK(run("/b/y.bin", "\x00\x00\x00\x00MZ", 6, st, NULL) == 0);
        CHECK(run("/b/z.bin", "\x00\x00MZ", 4, st, NULL) == 1);

        /* Lines: must match, must not match, line numbers, CRLF, last line without \n. */
        const char *log =
            "#Fields: DateTime,AnchorMailbox,HttpStatus\r\n"
            "2021-03-02T01:00:00Z,ServerInfo~a]@exch.local:444/ecp/x.js,200\r\n"
            "2021-03-02T01:00:01Z,ServerInfo~exch/autodiscover/autodiscover.xml,200\r\n"
            "2021-03-02T01:00:02Z,ServerInfo~localhost/ecp/y,200\r\n"
            "2021-03-02T01:00:03Z,user@example.com,200\r\n"
            "2021-03-02T01:00:04Z,ServerInfo~b]@exch.local/mapi/emsmdb,241";
        CHECK(run("/x/HttpProxy.log", log, strlen(log), st, NULL) == 2);
        CHECK(fnd[0].line == 2 && strstr(fnd[0].excerpt, "ServerInfo~a]@exch.local:444/ecp/x.js,200") &&
              !strchr(fnd[0].excerpt, '\r'));
        CHECK(fnd[1].line == 6 && strstr(fnd[1].excerpt, "emsmdb,241"));
        /* max_hits 2: the third and fourth hits are counted in one more finding. */
        const char *many = "ServerInfo~a/1\nServerInfo~a/2\nServerInfo~a/3\nServerInfo~a/4\n";
        CHECK(run("/x/many.log", many, strlen(many), st, NULL) == 3);
        CHECK(fnd[2].line == 0 && strstr(fnd[2].excerpt, "2 more matching lines"));
    }

    /* A line longer than SCAN_LINE_MAX: its head is tested, its line number stays right. */
    size_t big = SCAN_LINE_MAX * 3;
    char *lng = malloc(big + 64);
    memset(lng, 'x', big);
    memcpy(lng, "ServerInfo~z/", 13);
    memcpy(lng + big, "\nServerInfo~q/2\n", 16);
    CHECK(run("/x/long.log", lng, big + 16, 1000, NULL) == 2);
    CHECK(fnd[0].line == 1 && strlen(fnd[0].excerpt) == SCAN_EXCERPT_MAX && fnd[1].line == 2);
    free(lng);

    /* Known hashes: sha256 of "hello", md5 of "hello". */
    char dg[DG_COUNT][DG_HEX_MAX] = {"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
                                     "", ""};
    CHECK(run("/k/a.dat", "hello", 5, 0, (const char(*)[DG_HEX_MAX])dg) == 1);
    CHECK(strstr(fnd[0].excerpt, "sha256 2cf24dba") != NULL);
    char dg2[DG_COUNT][DG_HEX_MAX] = {"0000000000000000000000000000000000000000000000000000000000000000",
                                      "", "5d41402abc4b2a76b9719d911017c592"};
    CHECK(run("/k/b.dat", "hello", 5, 0, (const char(*)[DG_HEX_MAX])dg2) == 1);
    CHECK(strstr(fnd[0].excerpt, "md5 5d41402a") != NULL);
    dg2[DG_MD5][0] = '0';
    CHECK(run("/k/c.dat", "hello", 5, 0, (const char(*)[DG_HEX_MAX])dg2) == 0);
    /* Without digests (a read that failed), no hash finding. */
    CHECK(run("/k/d.dat", "hello", 5, 0, NULL) == 0);

    /* A file no tested rule selects arms nothing. */
    CHECK(run("/k/none.txt", "x", 1, 0, NULL) == (size_t)-1);
    CHECK((prof->digest_mask & (1u << DG_MD5)) && !(prof->digest_mask & (1u << DG_SHA1)));

    scan_free(sc);
    prof_match_free(&m);
    prof_free(prof);
    return check_result();
}
