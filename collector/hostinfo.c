/*
 * hostinfo: see hostinfo.h.
 */
#define _GNU_SOURCE
#include "hostinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "rootfs.h"
#include "util.h"

static json_t *str_new_or_null(char *s) /* takes s */
{
    json_t *j = s ? json_string(s) : NULL;
    if (s && !j) {
        char *l = cu_utf8_lossy(s, strlen(s));
        j = json_string(l);
        free(l);
    }
    free(s);
    return j ? j : json_null();
}

static char *hostname(int rootfd, int live)
{
    if (live) {
        struct utsname u;
        if (uname(&u) == 0 && u.nodename[0])
            return cu_xstrdup(u.nodename);
    }
    return rootfs_first_line(rootfd, "etc/hostname");
}

static char *os_pretty_name(int rootfd)
{
    char *s = rootfs_read(rootfd, "etc/os-release", 65536, NULL, NULL);
    if (!s)
        s = rootfs_read(rootfd, "usr/lib/os-release", 65536, NULL, NULL);
    if (!s)
        return NULL;
    char *r = NULL, *save = NULL;
    for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (strncmp(l, "PRETTY_NAME=", 12) != 0)
            continue;
        char *v = l + 12;
        size_t n = strlen(v);
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
            v++;
            n -= 2;
        }
        r = cu_xstrndup(v, n);
        break;
    }
    free(s);
    return r;
}

static char *timezone_name(int rootfd)
{
    char *tz = rootfs_first_line(rootfd, "etc/timezone");
    if (tz)
        return tz;
    int etc = rootfs_open(rootfd, "etc", O_RDONLY | O_DIRECTORY, NULL);
    if (etc < 0)
        return NULL;
    char buf[4096];
    ssize_t n = readlinkat(etc, "localtime", buf, sizeof buf - 1);
    close(etc);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    const char *z = strstr(buf, "zoneinfo/");
    return cu_xstrdup(z ? z + 9 : buf);
}

static json_t *boot_time(void)
{
    int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char *s = proc >= 0 ? rootfs_read(proc, "stat", 1u << 20, NULL, NULL) : NULL;
    if (proc >= 0)
        close(proc);
    json_t *r = json_null();
    if (!s)
        return r;
    char *p = strstr(s, "\nbtime ");
    if (p) {
        struct timespec ts = {strtoll(p + 7, NULL, 10), 0};
        char t[CU_TIME_MAX];
        cu_time_format(&ts, t);
        json_decref(r);
        r = json_string(t);
    }
    free(s);
    return r;
}

json_t *host_info(int rootfd, int live)
{
    json_t *o = json_object();
    json_object_set_new(o, "hostname", str_new_or_null(hostname(rootfd, live)));
    json_object_set_new(o, "machine_id", str_new_or_null(rootfs_first_line(rootfd, "etc/machine-id")));
    if (live) {
        struct utsname u;
        char *k = NULL;
        if (uname(&u) == 0)
            k = cu_xasprintf("%s %s %s %s", u.sysname, u.release, u.version, u.machine);
        json_object_set_new(o, "kernel", str_new_or_null(k));
    } else {
        json_object_set_new(o, "kernel", json_null());
    }
    json_object_set_new(o, "os_release", str_new_or_null(os_pretty_name(rootfd)));
    json_object_set_new(o, "boot_time", live ? boot_time() : json_null());
    json_object_set_new(o, "timezone", str_new_or_null(timezone_name(rootfd)));
    return o;
}

char *host_name_for_file(int rootfd, int live)
{
    char *h = hostname(rootfd, live);
    if (!h || !*h) {
        free(h);
        return cu_xstrdup("unknown-host");
    }
    for (char *p = h; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            *p = '_';
    if (strlen(h) > 64)
        h[64] = '\0';
    return h;
}
