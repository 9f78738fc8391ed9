/* Unit tests for glob: matching, "**" semantics, casefold, classes, escapes, raw bytes,
 * pruning (may_match_below), literal prefixes, validation, and a pathological pattern. */
#include <string.h>
#include <time.h>

#include "check.h"
#include "glob.h"

static int m(const char *p, const char *s)
{
    return glob_match(p, s, strlen(s), 0);
}
static int mi(const char *p, const char *s)
{
    return glob_match(p, s, strlen(s), GLOB_CASEFOLD);
}
static int below(const char *p, const char *d)
{
    return glob_may_match_below(p, d, strlen(d), 0);
}

int main(void)
{
    CHECK(m("/etc/passwd", "/etc/passwd"));
    CHECK(!m("/etc/passwd", "/etc/passwd-"));
    CHECK(!m("/etc/passwd", "/etc"));
    CHECK(m("/etc/*", "/etc/hosts"));
    CHECK(!m("/etc/*", "/etc/ssh/sshd_config")); /* * stays in one component */
    CHECK(m("/etc/*.conf", "/etc/a.conf"));
    CHECK(m("/etc/*.conf", "/etc/.conf"));
    CHECK(m("/etc/ho?ts", "/etc/hosts"));
    CHECK(!m("/etc/ho?ts", "/etc/hots"));
    CHECK(!m("/a?b", "/a/b")); /* ? never matches / */
    /* ** as a whole component */
    CHECK(m("/var/log/**", "/var/log"));
    CHECK(m("/var/log/**", "/var/log/syslog"));
    CHECK(m("/var/log/**", "/var/log/nginx/access.log"));
    CHECK(!m("/var/log/**", "/var/logs/x"));
    CHECK(m("/home/**/.ssh/authorized_keys", "/home/.ssh/authorized_keys"));
    CHECK(m("/home/**/.ssh/authorized_keys", "/home/a/.ssh/authorized_keys"));
    CHECK(m("/home/**/.ssh/authorized_keys", "/home/a/b/c/.ssh/authorized_keys"));
    CHECK(!m("/home/**/.ssh/authorized_keys", "/home/a/.ssh/authorized_keys2"));
    CHECK(m("/**", "/anything/at/all"));
    CHECK(m("/**", "/"));
    CHECK(m("/**/x/**/y", "/a/x/b/c/y"));
    CHECK(!m("/**/x/**/y", "/a/x/b/c/z"));
    CHECK(m("/tmp/**/*.sh", "/tmp/a.sh"));
    CHECK(m("/tmp/**/*.sh", "/tmp/d/e/a.sh"));
    CHECK(m("/a**b", "/aXYb")); /* inside a component ** is * */
    CHECK(!m("/a**b", "/aX/Yb"));
    /* classes and escapes */
    CHECK(m("/x/[abc]", "/x/b"));
    CHECK(!m("/x/[abc]", "/x/d"));
    CHECK(m("/x/[a-c]z", "/x/bz"));
    CHECK(m("/x/[!a-c]z", "/x/dz"));
    CHECK(!m("/x/[!a-c]z", "/x/az"));
    CHECK(m("/x/[]]", "/x/]"));
    CHECK(m("/x/\\*", "/x/*"));
    CHECK(!m("/x/\\*", "/x/a"));
    CHECK(m("/x/a\\?", "/x/a?"));
    /* case folding (NTFS) */
    CHECK(!m("/Windows/*.EVTX", "/windows/a.evtx"));
    CHECK(mi("/Windows/*.EVTX", "/windows/a.evtx"));
    CHECK(mi("/x/[A-C].log", "/x/b.LOG"));
    /* raw bytes, newlines */
    CHECK(m("/var/log/*.log", "/var/log/bad\xffname.log"));
    CHECK(m("/var/log/*", "/var/log/new\nline"));
    CHECK(glob_match("/a/*", "/a/b\0c", 5, 0)); /* length, not NUL, ends the path */
    /* repeated and trailing slashes */
    CHECK(m("/etc/passwd", "//etc//passwd"));
    CHECK(m("/etc/", "/etc"));

    /* pruning */
    CHECK(below("/var/log/**", "/"));
    CHECK(below("/var/log/**", "/var"));
    CHECK(below("/var/log/**", "/var/log"));
    CHECK(below("/var/log/**", "/var/log/nginx"));
    CHECK(!below("/var/log/**", "/usr"));
    CHECK(below("/home/*/.ssh/authorized_keys", "/home"));
    CHECK(below("/home/*/.ssh/authorized_keys", "/home/alice"));
    CHECK(below("/home/*/.ssh/authorized_keys", "/home/alice/.ssh"));
    CHECK(!below("/home/*/.ssh/authorized_keys", "/home/alice/docs"));
    CHECK(!below("/etc/passwd", "/etc/passwd"));
    CHECK(below("/etc/passwd", "/etc"));
    CHECK(below("/**", "/any/where"));
    CHECK(below("/tmp/**/*.sh", "/tmp/a/b"));

    char pre[256];
    glob_literal_prefix("/var/log/*.log", pre, sizeof pre);
    CHECK_STR(pre, "/var/log");
    glob_literal_prefix("/**", pre, sizeof pre);
    CHECK_STR(pre, "/");
    glob_literal_prefix("/dev/shm/**", pre, sizeof pre);
    CHECK_STR(pre, "/dev/shm");
    glob_literal_prefix("/etc/passwd", pre, sizeof pre);
    CHECK_STR(pre, "/etc/passwd");

    struct cu_err err;
    CHECK(glob_validate("/etc/passwd", &err) == 0);
    CHECK(glob_validate("etc/passwd", &err) == -1 && strstr(err.msg, "absolute"));
    CHECK(glob_validate("/x/[abc", &err) == -1 && strstr(err.msg, "unclosed"));
    CHECK(glob_validate("/x\\", &err) == -1 && strstr(err.msg, "backslash"));
    CHECK(glob_validate("/a//b", &err) == -1);
    CHECK(glob_validate("/x/[]]", &err) == 0);

    /* a pattern that would be exponential for naive backtracking finishes at once */
    char path[4096], pat[256];
    memset(path, 'a', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    path[0] = '/';
    strcpy(pat, "/*a*a*a*a*a*a*a*a*a*a*a*a*b");
    clock_t t0 = clock();
    CHECK(!m(pat, path));
    char deep[8192];
    size_t o = 0;
    for (int i = 0; i < 1000; i++) {
        memcpy(deep + o, "/a", 2);
        o += 2;
    }
    deep[o] = '\0';
    CHECK(!m("/**/a/**/a/**/a/**/a/**/b", deep));
    CHECK(m("/**/a/**/a/**/a/**/a", deep));
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(secs < 2.0);
    return check_result();
}
