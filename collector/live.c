/*
 * live: see live.h. Reads /proc, /sys and a few files directly; executes nothing.
 *
 * Documents are built record by record into a capped buffer (each record a small jansson
 * object, dumped and freed at once), so memory is bounded by LIVE_DOC_MAX per document and
 * by a few bounded tables: the (socket inode, pid) pairs, the executable-hash cache and the
 * bitmap of listed pids.
 */
#define _GNU_SOURCE
#include "live.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <jansson.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "accounts.h"
#include "entry.h"
#include "live_parse.h"

#define CMDLINE_MAX (256u << 10)
#define SOCKMAP_MAX (1u << 20)
#define EXE_CACHE 1024
#define OPEN_FILES_MAX_TARGET 4096
#define WTMP_RECORDS 10000
#define PID_SCAN_MAX 4194304u

struct doc {
    struct cu_buf b;
    size_t n;
    int truncated;
    struct timespec taken;
};

struct sockpair {
    unsigned long long inode;
    int pid;
};

struct exe_hash {
    dev_t dev;
    ino_t ino;
    char hex[65];
};

struct live {
    const struct live_opts *o;
    const struct live_sink *s;
    int procfd;
    struct acct_db *acct;
    long long boot_sec;
    long clk_tck;
    long page;
    struct sockpair *pairs;
    size_t n_pairs, cap_pairs;
    int pairs_truncated;
    struct exe_hash cache[EXE_CACHE];
    size_t n_cache, next_cache;
    unsigned char *listed; /* bitmap of pids seen in the /proc listing */
    unsigned pid_max;
    struct doc files; /* open_files.json, built during the process pass */
    unsigned char *buf;
};

void live_opts_default(struct live_opts *o)
{
    memset(o, 0, sizeof *o);
    o->proc = "/proc";
    o->sys = "/sys";
    o->max_fds_per_process = 4096;
    o->max_exe_bytes = 512u << 20;
}

/* ---- small helpers ------------------------------------------------------------------------ */

static void lg(struct live *l, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void lg(struct live *l, int level, const char *fmt, ...)
{
    if (!l->s->log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    l->s->log(l->s->ctx, level, msg);
}

/* Read a small file relative to dirfd into a new NUL-terminated buffer (at most cap bytes;
 * *trunc set when there was more). NULL with errno set on failure. */
static char *slurp(int dirfd, const char *name, size_t cap, size_t *len, int *trunc)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    struct cu_buf b;
    cu_buf_init(&b, cap);
    char tmp[8192];
    if (trunc)
        *trunc = 0;
    for (;;) {
        ssize_t r = read(fd, tmp, sizeof tmp);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            cu_buf_free(&b);
            errno = e;
            return NULL;
        }
        if (r == 0)
            break;
        size_t room = cap - b.len;
        if ((size_t)r > room) {
            cu_buf_append(&b, tmp, room);
            if (trunc)
                *trunc = 1;
            break;
        }
        cu_buf_append(&b, tmp, (size_t)r);
    }
    close(fd);
    cu_buf_append(&b, "", 0);
    if (len)
        *len = b.len;
    return b.data;
}

static char *readlink_new(int dirfd, const char *name)
{
    char buf[8192];
    ssize_t n = readlinkat(dirfd, name, buf, sizeof buf - 1);
    if (n < 0)
        return NULL;
    return cu_xstrndup(buf, (size_t)n);
}

static json_t *time_json(const struct timespec *ts)
{
    char t[CU_TIME_MAX];
    cu_time_format(ts, t);
    return json_string(t);
}

static void doc_begin(struct doc *d, const char *key)
{
    cu_buf_init(&d->b, LIVE_DOC_MAX);
    d->n = 0;
    d->truncated = 0;
    d->taken = cu_time_now();
    char t[CU_TIME_MAX];
    cu_time_format(&d->taken, t);
    cu_buf_printf(&d->b, "{\"taken\":\"%s\",\"%s\":[", t, key);
}

/* Append a record (takes o). Past the cap the document is cut at this record boundary. */
static void doc_add(struct doc *d, json_t *o)
{
    if (!o)
        return;
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        return;
    size_t n = strlen(s);
    if (!d->truncated && d->b.len + n + 2 + 4096 < LIVE_DOC_MAX) {
        if (d->n)
            cu_buf_append(&d->b, ",\n", 2);
        else
            cu_buf_append(&d->b, "\n", 1);
        cu_buf_append(&d->b, s, n);
        d->n++;
    } else {
        d->truncated = 1;
    }
    free(s);
}

/* Close the document, with extra top-level members (takes extra; may be NULL), and give it
 * to the sink. */
static int doc_end(struct live *l, struct doc *d, const char *name, json_t *extra)
{
    cu_buf_printf(&d->b, "\n],\"truncated\":%s", d->truncated ? "true" : "false");
    if (extra) {
        const char *k;
        json_t *v;
        json_object_foreach(extra, k, v) {
            char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            if (s && cu_buf_printf(&d->b, ",\"%s\":%s", k, s) != 0)
                d->truncated = 1;
            free(s);
        }
        json_decref(extra);
    }
    cu_buf_append(&d->b, "}\n", 2);
    int r = l->s->doc(l->s->ctx, name, d->b.data, d->b.len, &d->taken);
    cu_buf_free(&d->b);
    return r;
}

static int stopped(const struct live *l)
{
    return l->o->stop && *l->o->stop;
}

/* ---- processes ----------------------------------------------------------------------------- */

static void add_pair(struct live *l, unsigned long long inode, int pid)
{
    if (l->n_pairs >= SOCKMAP_MAX) {
        l->pairs_truncated = 1;
        return;
    }
    if (l->n_pairs == l->cap_pairs) {
        l->cap_pairs = l->cap_pairs ? l->cap_pairs * 2 : 1024;
        l->pairs = cu_xrealloc(l->pairs, l->cap_pairs * sizeof *l->pairs);
    }
    l->pairs[l->n_pairs].inode = inode;
    l->pairs[l->n_pairs].pid = pid;
    l->n_pairs++;
}

static int cmp_pair(const void *a, const void *b)
{
    const struct sockpair *x = a, *y = b;
    if (x->inode != y->inode)
        return x->inode < y->inode ? -1 : 1;
    return x->pid - y->pid;
}

/* SHA-256 of an open executable (bounded), cached by device and inode. */
static const char *exe_sha256(struct live *l, int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return NULL;
    for (size_t i = 0; i < l->n_cache; i++)
        if (l->cache[i].dev == st.st_dev && l->cache[i].ino == st.st_ino && st.st_nlink)
            return l->cache[i].hex;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    uint64_t total = 0;
    ssize_t n;
    while (total < l->o->max_exe_bytes && (n = pread(fd, l->buf, 65536, (off_t)total)) > 0) {
        EVP_DigestUpdate(c, l->buf, (size_t)n);
        total += (uint64_t)n;
    }
    unsigned char md[32];
    unsigned int ml;
    EVP_DigestFinal_ex(c, md, &ml);
    EVP_MD_CTX_free(c);
    struct exe_hash *h = &l->cache[l->n_cache < EXE_CACHE ? l->n_cache++ : l->next_cache++ % EXE_CACHE];
    h->dev = st.st_dev;
    h->ino = st.st_ino;
    cu_hex(md, 32, h->hex);
    return h->hex;
}

static void sanitise(char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            *s = '_';
}

static json_t *argv_json(json_t *o, const char *key, const char *buf, size_t len)
{
    json_t *a = json_array(), *b64 = NULL;
    size_t i = 0;
    while (i < len) {
        size_t n = strnlen(buf + i, len - i);
        if (!cu_utf8_valid(buf + i, n)) {
            if (!b64) {
                b64 = json_array();
                for (size_t k = 0; k < json_array_size(a); k++) {
                    const char *v = json_string_value(json_array_get(a, k));
                    char *e = cu_base64_encode((const unsigned char *)v, strlen(v));
                    json_array_append_new(b64, json_string(e));
                    free(e);
                }
            }
        }
        char *l = cu_utf8_lossy(buf + i, n);
        json_array_append_new(a, json_string(l));
        free(l);
        if (b64) {
            char *e = cu_base64_encode((const unsigned char *)buf + i, n);
            json_array_append_new(b64, json_string(e));
            free(e);
        }
        i += n + 1;
    }
    json_object_set_new(o, key, a);
    if (b64) {
        char k[64];
        snprintf(k, sizeof k, "%s_b64", key);
        json_object_set_new(o, k, b64);
    }
    return o;
}

static void status_ids(const char *status, const char *key, json_t *o, const char *real,
                       const char *eff, struct live *l, int user)
{
    const char *p = status ? strstr(status, key) : NULL;
    if (!p)
        return;
    unsigned long r, e;
    if (sscanf(p + strlen(key), "%lu %lu", &r, &e) != 2)
        return;
    json_object_set_new(o, real, json_integer((json_int_t)r));
    json_object_set_new(o, eff, json_integer((json_int_t)e));
    const char *nm = user ? acct_user(l->acct, (uint32_t)r) : acct_group(l->acct, (uint32_t)r);
    char k[64];
    snprintf(k, sizeof k, "%s_name", real);
    json_object_set_new(o, k, nm ? json_string(nm) : json_null());
    if (user) {
        nm = acct_user(l->acct, (uint32_t)e);
        snprintf(k, sizeof k, "%s_name", eff);
        json_object_set_new(o, k, nm ? json_string(nm) : json_null());
    }
}

static json_t *vanished(int pid, int err)
{
    json_t *o = json_object();
    json_object_set_new(o, "pid", json_integer(pid));
    json_object_set_new(o, "vanished", json_true());
    json_object_set_new(o, "error", json_string(cu_errno_name(err)));
    return o;
}

/* Descriptors of one process: count, socket pairs, open-files record. Returns the count. */
static long scan_fds(struct live *l, int pfd, int pid, const char *comm)
{
    int fdd = openat(pfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fdd < 0)
        return -1;
    DIR *d = fdopendir(fdd);
    if (!d) {
        close(fdd);
        return -1;
    }
    json_t *rec = json_object();
    json_object_set_new(rec, "pid", json_integer(pid));
    json_object_set_new(rec, "comm", json_string(comm));
    json_t *fds = json_array();
    long count = 0;
    int truncated = 0;
    struct dirent *de;
    char target[4096];
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        count++;
        ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof target - 1);
        if (n < 0)
            continue;
        target[n] = '\0';
        unsigned long long ino;
        if (sscanf(target, "socket:[%llu]", &ino) == 1)
            add_pair(l, ino, pid);
        if ((size_t)json_array_size(fds) >= l->o->max_fds_per_process) {
            truncated = 1;
            continue;
        }
        json_t *f = json_object();
        json_object_set_new(f, "fd", json_integer(atol(de->d_name)));
        mf_json_set_bytes(f, "target", target, (size_t)n);
        int deleted = n > 10 && !strcmp(target + n - 10, " (deleted)") && target[0] == '/';
        json_object_set_new(f, "deleted", json_boolean(deleted));
        json_array_append_new(fds, f);
        if (deleted && l->o->open_file_content) {
            int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
            struct stat cst;
            if (cfd >= 0 && fstat(cfd, &cst) == 0 && S_ISREG(cst.st_mode)) {
                char name[320], origin[320];
                snprintf(name, sizeof name, "live/deleted/%d-%s", pid, de->d_name);
                snprintf(origin, sizeof origin, "/proc/%d/fd/%s", pid, de->d_name);
                l->s->file(l->s->ctx, name, cfd, l->o->max_exe_bytes, origin);
                l->s->finding(l->s->ctx, "deleted-open-file", origin,
                              "a process holds open a file that was deleted; its content was "
                              "collected through /proc", target);
            }
            if (cfd >= 0)
                close(cfd);
        }
    }
    closedir(d);
    json_object_set_new(rec, "fds", fds);
    json_object_set_new(rec, "fds_truncated", json_boolean(truncated));
    doc_add(&l->files, rec);
    return count;
}

static json_t *one_process(struct live *l, int pid)
{
    char pidname[16];
    snprintf(pidname, sizeof pidname, "%d", pid);
    int pfd = openat(l->procfd, pidname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0)
        return vanished(pid, errno);
    char *stat = slurp(pfd, "stat", 65536, NULL, NULL);
    if (!stat) {
        int e = errno;
        close(pfd);
        return vanished(pid, e);
    }
    char comm[64];
    unsigned long long f[24] = {0};
    int nf = lp_stat_fields(stat, comm, f, 24);
    free(stat);
    json_t *o = json_object();
    json_object_set_new(o, "pid", json_integer(pid));
    if (nf >= 22) {
        char st[2] = {(char)f[0], 0};
        json_object_set_new(o, "ppid", json_integer((json_int_t)f[1]));
        json_object_set_new(o, "state", json_string(st));
        json_object_set_new(o, "tty_nr", json_integer((json_int_t)f[4]));
        json_object_set_new(o, "threads", json_integer((json_int_t)f[17]));
        long long ticks = (long long)f[19];
        struct timespec start = {(time_t)(l->boot_sec + ticks / l->clk_tck),
                                 (long)((ticks % l->clk_tck) * (1000000000L / l->clk_tck))};
        json_object_set_new(o, "start_time", l->boot_sec ? time_json(&start) : json_null());
        json_object_set_new(o, "vsz", json_integer((json_int_t)f[20]));
        json_object_set_new(o, "rss", json_integer((json_int_t)(f[21] * (unsigned long long)l->page)));
    }
    mf_json_set_bytes(o, "comm", comm, strlen(comm));
    char *status = slurp(pfd, "status", 65536, NULL, NULL);
    status_ids(status, "\nUid:", o, "uid", "euid", l, 1);
    status_ids(status, "\nGid:", o, "gid", "egid", l, 0);
    free(status);
    size_t clen = 0;
    int ctrunc = 0;
    char *cmd = slurp(pfd, "cmdline", CMDLINE_MAX, &clen, &ctrunc);
    argv_json(o, "argv", cmd ? cmd : "", cmd ? clen : 0);
    json_object_set_new(o, "cmdline_truncated", json_boolean(ctrunc));
    free(cmd);
    if (l->o->environ) {
        size_t elen = 0;
        char *env = slurp(pfd, "environ", CMDLINE_MAX, &elen, NULL);
        argv_json(o, "environ", env ? env : "", env ? elen : 0);
        free(env);
    }
    char *exe = readlink_new(pfd, "exe");
    int deleted = 0, memfd = 0;
    if (exe) {
        size_t n = strlen(exe);
        deleted = n > 10 && !strcmp(exe + n - 10, " (deleted)");
        memfd = !strncmp(exe, "/memfd:", 7);
    }
    mf_json_set_bytes(o, "exe", exe, exe ? strlen(exe) : 0);
    json_object_set_new(o, "exe_deleted", json_boolean(deleted || memfd));
    int efd = exe ? openat(pfd, "exe", O_RDONLY | O_CLOEXEC) : -1;
    const char *sha = efd >= 0 ? exe_sha256(l, efd) : NULL;
    json_object_set_new(o, "exe_sha256", sha ? json_string(sha) : json_null());
    if (efd >= 0 && (deleted || memfd)) {
        char name[160], origin[64], c2[64];
        snprintf(c2, sizeof c2, "%s", comm);
        sanitise(c2);
        snprintf(name, sizeof name, "live/exe/%d-%s", pid, c2);
        snprintf(origin, sizeof origin, "/proc/%d/exe", pid);
        lseek(efd, 0, SEEK_SET);
        l->s->file(l->s->ctx, name, efd, l->o->max_exe_bytes, origin);
        char desc[512];
        snprintf(desc, sizeof desc, "process %d (%s) runs from a %s executable (%s); its image "
                 "was collected as %s, sha256 %s", pid, comm, memfd ? "memory-only" : "deleted",
                 exe, name, sha ? sha : "?");
        l->s->finding(l->s->ctx, "deleted-executable", origin, desc, exe);
    }
    if (efd >= 0)
        close(efd);
    free(exe);
    char *cwd = readlink_new(pfd, "cwd"), *root = readlink_new(pfd, "root");
    mf_json_set_bytes(o, "cwd", cwd, cwd ? strlen(cwd) : 0);
    mf_json_set_bytes(o, "root", root, root ? strlen(root) : 0);
    free(cwd);
    free(root);
    long nfd = scan_fds(l, pfd, pid, comm);
    json_object_set_new(o, "open_files", nfd >= 0 ? json_integer(nfd) : json_null());
    static const char *const nss[] = {"cgroup", "ipc", "mnt", "net", "pid", "user", "uts"};
    json_t *ns = json_object();
    for (size_t i = 0; i < sizeof nss / sizeof nss[0]; i++) {
        char p[32], t[64];
        snprintf(p, sizeof p, "ns/%s", nss[i]);
        ssize_t n = readlinkat(pfd, p, t, sizeof t - 1);
        unsigned long long id;
        if (n > 0) {
            t[n] = '\0';
            char *br = strchr(t, '[');
            if (br && sscanf(br, "[%llu]", &id) == 1) {
                json_object_set_new(ns, nss[i], json_integer((json_int_t)id));
                continue;
            }
        }
        json_object_set_new(ns, nss[i], json_null());
    }
    json_object_set_new(o, "namespaces", ns);
    char *cg = slurp(pfd, "cgroup", 4096, NULL, NULL);
    json_t *cga = json_array();
    if (cg) {
        char *save = NULL;
        for (char *line = strtok_r(cg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            json_array_append_new(cga, json_string(line));
        free(cg);
    }
    json_object_set_new(o, "cgroup", cga);
    close(pfd);
    return o;
}

static int processes(struct live *l)
{
    struct doc d;
    doc_begin(&d, "processes");
    doc_begin(&l->files, "open_files");
    DIR *dir = fdopendir(dup(l->procfd));
    if (!dir)
        return doc_end(l, &d, "live/processes.json", NULL);
    rewinddir(dir);
    struct dirent *de;
    while ((de = readdir(dir)) && !stopped(l)) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        if ((unsigned long)pid < l->pid_max)
            l->listed[pid / 8] |= (unsigned char)(1u << (pid % 8));
        doc_add(&d, one_process(l, (int)pid));
    }
    closedir(dir);
    qsort(l->pairs, l->n_pairs, sizeof *l->pairs, cmp_pair);
    return doc_end(l, &d, "live/processes.json", NULL);
}

/* ---- sockets ------------------------------------------------------------------------------- */

static void add_pids(struct live *l, json_t *o)
{
    unsigned long long ino = (unsigned long long)json_integer_value(json_object_get(o, "inode"));
    json_t *pids = json_array();
    struct sockpair key = {ino, 0};
    /* lower bound */
    size_t lo = 0, hi = l->n_pairs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cmp_pair(&l->pairs[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    int last = -1;
    for (size_t i = lo; i < l->n_pairs && l->pairs[i].inode == ino; i++)
        if (l->pairs[i].pid != last && ino) {
            json_array_append_new(pids, json_integer(l->pairs[i].pid));
            last = l->pairs[i].pid;
        }
    json_object_set_new(o, "pids", pids);
}

static void net_table(struct live *l, struct doc *d, const char *file, const char *proto, int v6,
                      int unix_table)
{
    char path[64];
    snprintf(path, sizeof path, "net/%s", file);
    int fd = openat(l->procfd, path, O_RDONLY | O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    int first = 1;
    while (getline(&line, &cap, f) > 0) {
        if (first) { /* header */
            first = 0;
            continue;
        }
        json_t *o = unix_table ? lp_unix_line(line) : lp_inet_line(line, proto, v6);
        if (!o)
            continue;
        add_pids(l, o);
        doc_add(d, o);
    }
    free(line);
    fclose(f);
}

static int sockets(struct live *l)
{
    struct doc d;
    doc_begin(&d, "sockets");
    net_table(l, &d, "tcp", "tcp", 0, 0);
    net_table(l, &d, "tcp6", "tcp", 1, 0);
    net_table(l, &d, "udp", "udp", 0, 0);
    net_table(l, &d, "udp6", "udp", 1, 0);
    net_table(l, &d, "raw", "raw", 0, 0);
    net_table(l, &d, "raw6", "raw", 1, 0);
    net_table(l, &d, "unix", "unix", 0, 1);
    json_t *extra = json_object();
    json_object_set_new(extra, "pid_map_truncated", json_boolean(l->pairs_truncated));
    return doc_end(l, &d, "live/sockets.json", extra);
}

/* ---- network ------------------------------------------------------------------------------- */

static json_t *lines_of(int dirfd, const char *name, size_t cap)
{
    char *t = slurp(dirfd, name, cap, NULL, NULL);
    if (!t)
        return json_null();
    json_t *a = json_array();
    char *save = NULL;
    for (char *line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *o = json_object();
        mf_json_set_bytes(o, "l", line, strlen(line));
        json_array_append(a, json_object_get(o, "l"));
        json_decref(o);
    }
    free(t);
    return a;
}

/* Parse each line of a /proc table with fn into an array (bounded by the file cap). */
static json_t *table_of(int dirfd, const char *name, json_t *(*fn)(const char *))
{
    char *t = slurp(dirfd, name, 8u << 20, NULL, NULL);
    if (!t)
        return json_null();
    json_t *a = json_array();
    char *save = NULL;
    for (char *line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *o = fn(line);
        if (o)
            json_array_append_new(a, o);
    }
    free(t);
    return a;
}

static int network(struct live *l)
{
    struct doc d;
    doc_begin(&d, "interfaces");
    struct ifaddrs *ifa = NULL;
    int sysfd = open(l->o->sys, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (getifaddrs(&ifa) == 0) {
        for (struct ifaddrs *p = ifa; p; p = p->ifa_next) {
            json_t *o = json_object();
            json_object_set_new(o, "name", json_string(p->ifa_name));
            json_object_set_new(o, "up", json_boolean((p->ifa_flags & IFF_UP) != 0));
            json_object_set_new(o, "flags", json_integer(p->ifa_flags));
            char a[INET6_ADDRSTRLEN] = "";
            if (p->ifa_addr && p->ifa_addr->sa_family == AF_INET) {
                inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)p->ifa_addr)->sin_addr, a, sizeof a);
                json_object_set_new(o, "family", json_string("inet"));
            } else if (p->ifa_addr && p->ifa_addr->sa_family == AF_INET6) {
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)p->ifa_addr)->sin6_addr, a, sizeof a);
                json_object_set_new(o, "family", json_string("inet6"));
            } else {
                json_object_set_new(o, "family", json_string("link"));
            }
            json_object_set_new(o, "address", a[0] ? json_string(a) : json_null());
            if (sysfd >= 0 && (!p->ifa_addr || p->ifa_addr->sa_family == AF_PACKET)) {
                char path[300];
                snprintf(path, sizeof path, "class/net/%s/address", p->ifa_name);
                char *mac = slurp(sysfd, path, 256, NULL, NULL);
                if (mac)
                    mac[strcspn(mac, "\n")] = '\0';
                json_object_set_new(o, "mac", mac ? json_string(mac) : json_null());
                free(mac);
                snprintf(path, sizeof path, "class/net/%s/mtu", p->ifa_name);
                char *mtu = slurp(sysfd, path, 64, NULL, NULL);
                json_object_set_new(o, "mtu", mtu ? json_integer(atol(mtu)) : json_null());
                free(mtu);
                snprintf(path, sizeof path, "class/net/%s/operstate", p->ifa_name);
                char *os = slurp(sysfd, path, 64, NULL, NULL);
                if (os)
                    os[strcspn(os, "\n")] = '\0';
                json_object_set_new(o, "operstate", os ? json_string(os) : json_null());
                free(os);
            }
            doc_add(&d, o);
        }
        freeifaddrs(ifa);
    }
    if (sysfd >= 0)
        close(sysfd);
    json_t *extra = json_object();
    json_object_set_new(extra, "routes_ipv4", table_of(l->procfd, "net/route", lp_route_line));
    json_object_set_new(extra, "routes_ipv6", table_of(l->procfd, "net/ipv6_route", lp_route6_line));
    json_object_set_new(extra, "neighbours", table_of(l->procfd, "net/arp", lp_arp_line));
    int etc = open("/etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    json_object_set_new(extra, "resolv_conf", etc >= 0 ? lines_of(etc, "resolv.conf", 1u << 20)
                                                       : json_null());
    if (etc >= 0)
        close(etc);
    return doc_end(l, &d, "live/network.json", extra);
}

/* ---- users --------------------------------------------------------------------------------- */

static json_t *utmp_file(struct live *l, const char *path, size_t last, int only_users)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOATIME);
    if (fd < 0 && errno == EPERM)
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return json_null();
    struct stat st;
    json_t *a = json_array();
    if (fstat(fd, &st) == 0) {
        off_t n = st.st_size / LP_UTMP_SIZE;
        off_t from = n > (off_t)last ? n - (off_t)last : 0;
        unsigned char rec[LP_UTMP_SIZE];
        for (off_t i = from; i < n && !stopped(l); i++) {
            if (pread(fd, rec, sizeof rec, i * LP_UTMP_SIZE) != (ssize_t)sizeof rec)
                break;
            json_t *o = lp_utmp_record(rec, sizeof rec);
            if (!o)
                continue;
            if (only_users && strcmp(json_string_value(json_object_get(o, "type")), "USER_PROCESS")) {
                json_decref(o);
                continue;
            }
            json_array_append_new(a, o);
        }
    }
    close(fd);
    return a;
}

static int users(struct live *l)
{
    struct doc d;
    doc_begin(&d, "sessions");
    const char *utmp = access("/run/utmp", F_OK) == 0 ? "/run/utmp" : "/var/run/utmp";
    json_t *cur = utmp_file(l, utmp, 100000, 1);
    size_t i;
    json_t *v;
    if (json_is_array(cur))
        json_array_foreach(cur, i, v) doc_add(&d, json_incref(v));
    json_decref(cur);
    json_t *extra = json_object();
    json_object_set_new(extra, "utmp", json_string(utmp));
    json_object_set_new(extra, "logins", utmp_file(l, "/var/log/wtmp", WTMP_RECORDS, 0));
    json_object_set_new(extra, "failed_logins", utmp_file(l, "/var/log/btmp", WTMP_RECORDS, 0));
    json_object_set_new(extra, "records_max", json_integer(WTMP_RECORDS));
    return doc_end(l, &d, "live/users.json", extra);
}

/* ---- kernel -------------------------------------------------------------------------------- */

static json_t *text_or_null(int dirfd, const char *name, size_t cap)
{
    size_t n;
    char *t = slurp(dirfd, name, cap, &n, NULL);
    if (!t)
        return json_null();
    while (n && (t[n - 1] == '\n' || t[n - 1] == '\0'))
        t[--n] = '\0';
    json_t *o = json_object();
    mf_json_set_bytes(o, "v", t, n);
    json_t *r = json_incref(json_object_get(o, "v"));
    json_decref(o);
    free(t);
    return r;
}

static int kernel(struct live *l)
{
    struct doc d;
    doc_begin(&d, "modules");
    int fd = openat(l->procfd, "modules", O_RDONLY | O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (f) {
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0)
            doc_add(&d, lp_module_line(line));
        free(line);
        fclose(f);
    } else if (fd >= 0) {
        close(fd);
    }
    json_t *x = json_object();
    json_object_set_new(x, "version", text_or_null(l->procfd, "version", 65536));
    json_object_set_new(x, "cmdline", text_or_null(l->procfd, "cmdline", 65536));
    char *tainted = slurp(l->procfd, "sys/kernel/tainted", 64, NULL, NULL);
    unsigned long mask = tainted ? strtoul(tainted, NULL, 10) : 0;
    free(tainted);
    json_object_set_new(x, "tainted", json_integer((json_int_t)mask));
    json_object_set_new(x, "taint_flags", lp_taint_decode(mask));
    json_object_set_new(x, "uptime", text_or_null(l->procfd, "uptime", 256));
    json_object_set_new(x, "loadavg", text_or_null(l->procfd, "loadavg", 256));
    char *mi = slurp(l->procfd, "meminfo", 65536, NULL, NULL);
    json_t *mem = json_object();
    static const char *const keys[] = {"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached",
                                       "SwapTotal", "SwapFree", "Shmem"};
    for (size_t i = 0; mi && i < sizeof keys / sizeof keys[0]; i++) {
        char k[64];
        snprintf(k, sizeof k, "\n%s:", keys[i]);
        const char *p = strstr(mi, k);
        if (!p && !strncmp(mi, k + 1, strlen(k + 1)))
            p = mi - 1;
        if (p)
            json_object_set_new(mem, keys[i], json_integer(atoll(p + strlen(k)) * 1024));
    }
    free(mi);
    json_object_set_new(x, "memory_bytes", mem);
    json_object_set_new(x, "mountinfo", lines_of(l->procfd, "self/mountinfo", 8u << 20));
    json_object_set_new(x, "swaps", lines_of(l->procfd, "swaps", 1u << 20));
    struct utsname u;
    if (uname(&u) == 0) {
        json_object_set_new(x, "hostname", json_string(u.nodename));
        json_object_set_new(x, "release", json_string(u.release));
    }
    json_t *clocks = json_object();
    static const struct { const char *n; clockid_t id; } cl[] = {
        {"realtime", CLOCK_REALTIME}, {"monotonic", CLOCK_MONOTONIC}, {"boottime", CLOCK_BOOTTIME}};
    for (size_t i = 0; i < 3; i++) {
        struct timespec ts;
        clock_gettime(cl[i].id, &ts);
        char v[64];
        snprintf(v, sizeof v, "%lld.%09ld", (long long)ts.tv_sec, ts.tv_nsec);
        json_object_set_new(clocks, cl[i].n, json_string(v));
    }
    json_object_set_new(x, "clocks", clocks);
    int etc = open("/etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    json_t *tz = etc >= 0 ? text_or_null(etc, "timezone", 256) : json_null();
    if (json_is_null(tz) && etc >= 0) {
        char *lt = readlink_new(etc, "localtime");
        if (lt) {
            const char *z = strstr(lt, "zoneinfo/");
            json_decref(tz);
            tz = json_string(z ? z + 9 : lt);
            free(lt);
        }
    }
    if (etc >= 0)
        close(etc);
    json_object_set_new(x, "timezone", tz);
    return doc_end(l, &d, "live/kernel.json", x);
}

/* ---- hidden processes ---------------------------------------------------------------------- */

/* pids alive (kill(pid, 0)) but absent from two /proc listings, one before and one after the
 * scan (so a process that starts meanwhile is not reported), and that lead a thread group. */
static void hidden(struct live *l)
{
    unsigned char *again = cu_xcalloc(l->pid_max / 8 + 1, 1);
    unsigned max = l->pid_max < PID_SCAN_MAX ? l->pid_max : PID_SCAN_MAX;
    int *cand = NULL;
    size_t nc = 0;
    for (unsigned pid = 1; pid < max && !stopped(l); pid++) {
        if (l->listed[pid / 8] & (1u << (pid % 8)))
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno == EPERM) {
            if (nc < 100000) {
                cand = cu_xrealloc(cand, (nc + 1) * sizeof *cand);
                cand[nc++] = (int)pid;
            }
        }
    }
    DIR *dir = fdopendir(dup(l->procfd));
    if (dir) {
        rewinddir(dir);
        struct dirent *de;
        while ((de = readdir(dir))) {
            char *end;
            long pid = strtol(de->d_name, &end, 10);
            if (!*end && pid > 0 && (unsigned long)pid < l->pid_max)
                again[pid / 8] |= (unsigned char)(1u << (pid % 8));
        }
        closedir(dir);
    }
    for (size_t i = 0; i < nc; i++) {
        int pid = cand[i];
        if (again[pid / 8] & (1u << (pid % 8)))
            continue;
        char path[64];
        snprintf(path, sizeof path, "%d/status", pid);
        char *st = slurp(l->procfd, path, 65536, NULL, NULL);
        if (!st)
            continue;
        const char *t = strstr(st, "\nTgid:");
        long tgid = t ? atol(t + 6) : -1;
        if (tgid == pid) {
            char desc[256], where[64];
            snprintf(where, sizeof where, "/proc/%d", pid);
            snprintf(desc, sizeof desc, "process %d exists (kill(pid, 0) and /proc/%d/status "
                     "answer) but is missing from the /proc listing: a rootkit may hide it", pid, pid);
            const char *nm = strstr(st, "Name:");
            char excerpt[128] = "";
            if (nm)
                snprintf(excerpt, sizeof excerpt, "%.*s", (int)strcspn(nm, "\n"), nm);
            l->s->finding(l->s->ctx, "hidden-process", where, desc, excerpt);
        }
        free(st);
    }
    free(cand);
    free(again);
}

int live_capture(const struct live_opts *o, const struct live_sink *s, struct cu_err *err)
{
    struct live l;
    memset(&l, 0, sizeof l);
    l.o = o;
    l.s = s;
    l.procfd = open(o->proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (l.procfd < 0)
        return cu_err_set(err, errno, "%s: %s", o->proc, strerror(errno));
    int rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    l.acct = acct_load(rootfd);
    close(rootfd);
    l.clk_tck = sysconf(_SC_CLK_TCK);
    if (l.clk_tck <= 0)
        l.clk_tck = 100;
    l.page = sysconf(_SC_PAGESIZE);
    char *stat = slurp(l.procfd, "stat", 1u << 20, NULL, NULL);
    const char *bt = stat ? strstr(stat, "\nbtime ") : NULL;
    l.boot_sec = bt ? atoll(bt + 7) : 0;
    free(stat);
    char *pm = slurp(l.procfd, "sys/kernel/pid_max", 64, NULL, NULL);
    l.pid_max = pm ? (unsigned)strtoul(pm, NULL, 10) : 32768;
    free(pm);
    if (l.pid_max < 2 || l.pid_max > PID_SCAN_MAX)
        l.pid_max = PID_SCAN_MAX;
    l.listed = cu_xcalloc(l.pid_max / 8 + 1, 1);
    l.buf = cu_xmalloc(65536);
    int rc = 0;
    lg(&l, 0, "live: capturing processes, sockets, network, users, kernel, open files");
    if (processes(&l) != 0 || stopped(&l))
        rc = -1;
    if (!rc && (sockets(&l) != 0 || stopped(&l)))
        rc = -1;
    if (!rc && (network(&l) != 0 || stopped(&l)))
        rc = -1;
    if (!rc && (users(&l) != 0 || stopped(&l)))
        rc = -1;
    if (!rc && (kernel(&l) != 0 || stopped(&l)))
        rc = -1;
    if (!rc && doc_end(&l, &l.files, "live/open_files.json", NULL) != 0)
        rc = -1;
    else if (rc)
        cu_buf_free(&l.files.b);
    if (!rc)
        hidden(&l);
    if (rc)
        cu_err_set(err, 0, "live capture stopped");
    free(l.buf);
    free(l.listed);
    free(l.pairs);
    acct_free(l.acct);
    close(l.procfd);
    return rc;
}
