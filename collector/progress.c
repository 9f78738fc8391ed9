/*
 * progress: see progress.h.
 */
#define _GNU_SOURCE
#include "progress.h"

#include <jansson.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "entry.h"
#include "util.h"

#define PATH_KEEP 1024

struct progress {
    enum prog_mode mode;
    FILE *out;
    uint64_t total, files, bytes;
    const char *phase;
    struct timespec t0, last;
    char path[PATH_KEEP + 1];
    int shown; /* a status line is on the terminal */
};

static double since(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

struct progress *prog_new(enum prog_mode mode, FILE *out, uint64_t total)
{
    struct progress *p = cu_xcalloc(1, sizeof *p);
    p->mode = mode;
    p->out = out;
    p->total = total;
    p->phase = "start";
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    p->last.tv_sec = 0;
    return p;
}

void prog_free(struct progress *p)
{
    free(p);
}

static void human(double v, char *out, size_t n)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(out, n, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static void hms(double s, char *out, size_t n)
{
    unsigned long t = s > 0 ? (unsigned long)s : 0;
    snprintf(out, n, "%02lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
}

static int width(FILE *f)
{
    struct winsize ws;
    if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        return ws.ws_col;
    return 80;
}

static void draw(struct progress *p, const struct timespec *now, int final)
{
    double el = since(&p->t0, now);
    double rate = el > 0.2 ? (double)p->bytes / el : 0;
    double eta = -1;
    if (p->total && rate > 0 && p->bytes <= p->total)
        eta = (double)(p->total - p->bytes) / rate;
    if (p->mode == PROG_JSON) {
        json_t *o = json_object();
        json_object_set_new(o, "phase", json_string(p->phase));
        json_object_set_new(o, "files", json_integer((json_int_t)p->files));
        json_object_set_new(o, "bytes", json_integer((json_int_t)p->bytes));
        json_object_set_new(o, "rate_bytes_per_second", json_integer((json_int_t)rate));
        json_object_set_new(o, "elapsed_seconds", json_real(el));
        json_object_set_new(o, "eta_seconds", eta >= 0 ? json_integer((json_int_t)eta) : json_null());
        json_object_set_new(o, "total_bytes", p->total ? json_integer((json_int_t)p->total) : json_null());
        json_object_set_new(o, "path", p->path[0] ? mf_json_text(p->path) : json_null());
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (s) {
            fprintf(p->out, "%s\n", s);
            free(s);
        }
        fflush(p->out);
        return;
    }
    char b[32], r[32], e[48], eta_s[64] = "";
    human((double)p->bytes, b, sizeof b);
    human(rate, r, sizeof r);
    hms(el, e, sizeof e);
    if (eta >= 0) {
        char t[48];
        hms(eta, t, sizeof t);
        snprintf(eta_s, sizeof eta_s, "  ETA %s", t);
    }
    char head[256];
    int n = snprintf(head, sizeof head, "[%s] %llu files  %s  %s/s  %s%s", p->phase,
                     (unsigned long long)p->files, b, r, e, eta_s);
    if (n < 0)
        return;
    int room = width(p->out) - 1 - n - 2;
    fprintf(p->out, "\r\033[K%s", head);
    size_t pl = strlen(p->path);
    if (room > 8 && pl && !final) {
        if (pl <= (size_t)room)
            fprintf(p->out, "  %s", p->path);
        else /* keep the end of the path: the file name matters most */
            fprintf(p->out, "  ...%s", p->path + pl - (size_t)(room - 3));
    }
    if (final)
        fputc('\n', p->out);
    fflush(p->out);
    p->shown = !final;
}

static void maybe(struct progress *p, int force)
{
    if (!p || p->mode == PROG_NONE)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double gap = p->mode == PROG_TTY ? 0.2 : 1.0;
    if (!force && p->last.tv_sec && since(&p->last, &now) < gap)
        return;
    p->last = now;
    draw(p, &now, 0);
}

void prog_phase(struct progress *p, const char *phase)
{
    if (!p)
        return;
    p->phase = phase;
    maybe(p, 1);
}

void prog_item(struct progress *p, const char *path, size_t len, int content)
{
    if (!p || p->mode == PROG_NONE)
        return;
    p->files++;
    p->phase = content ? "files" : "metadata";
    size_t n = len < PATH_KEEP ? len : PATH_KEEP;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        p->path[i] = c < 0x20 || c == 0x7f ? '?' : (char)c; /* a name cannot move the cursor */
    }
    p->path[n] = '\0';
    if (!cu_utf8_valid(p->path, n)) /* no stray high bytes on the terminal */
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)p->path[i] >= 0x80)
                p->path[i] = '?';
    maybe(p, 0);
}

void prog_bytes(struct progress *p, uint64_t n)
{
    if (!p || p->mode == PROG_NONE)
        return;
    p->bytes += n;
    maybe(p, 0);
}

void prog_clear(struct progress *p)
{
    if (p && p->mode == PROG_TTY && p->shown) {
        fputs("\r\033[K", p->out);
        p->shown = 0;
        p->last.tv_sec = 0; /* redraw at the next call */
    }
}

void prog_end(struct progress *p)
{
    if (!p || p->mode == PROG_NONE)
        return;
    p->phase = "done";
    p->path[0] = '\0';
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    draw(p, &now, 1);
}
