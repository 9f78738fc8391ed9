/* Unit tests for profile: the embedded profiles load, selection answers for the default
 * profile, ${home} and --set expansion, and data-driven valid/invalid profile cases from
 * tests/data/profiles/{valid,invalid}. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "profile.h"

static struct stat st_of(mode_t mode)
{
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_mode = mode;
    return st;
}

static int sel(const struct prof_profile *p, const char *path, mode_t mode, struct prof_match *m)
{
    struct stat st = st_of(mode);
    return prof_select(p, path, strlen(path), &st, NULL, m);
}

static int has_rule(const struct prof_profile *p, const struct prof_match *m, const char *id)
{
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(p->rules[m->rule_idx[i]].id, id))
            return 1;
    return 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return buf;
}

static void data_cases(const char *data)
{
    char dir[4096];
    struct dirent *de;
    const char *homes[] = {"/home/alice"};
    struct prof_env env = {homes, 1, NULL, 0};
    int n_valid = 0, n_invalid = 0;

    snprintf(dir, sizeof dir, "%s/profiles/valid", data);
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    while (d && (de = readdir(d))) {
        if (!strstr(de->d_name, ".json"))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct prof_profile *p = NULL;
        struct cu_err err;
        int r = prof_load_file(path, &env, &p, &err);
        if (r != 0)
            fprintf(stderr, "valid case %s failed: %s\n", de->d_name, err.msg);
        CHECK(r == 0);
        prof_free(p);
        n_valid++;
    }
    if (d)
        closedir(d);

    snprintf(dir, sizeof dir, "%s/profiles/invalid", data);
    d = opendir(dir);
    CHECK(d != NULL);
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[8192], epath[8192];
        snprintf(path, sizeof path, "%s/%s/profile.json", dir, de->d_name);
        snprintf(epath, sizeof epath, "%s/%s/error", dir, de->d_name);
        char *want = slurp(epath);
        CHECK(want != NULL);
        if (!want)
            continue;
        char expect[1024];
        strncpy(expect, want, sizeof expect - 1);
        expect[sizeof expect - 1] = '\0';
        struct prof_profile *p = NULL;
        struct cu_err err;
        int r = prof_load_file(path, &env, &p, &err);
        if (r == 0 || !strstr(err.msg, expect))
            fprintf(stderr, "invalid case %s: want error containing '%s', got %s '%s'\n",
                    de->d_name, expect, r == 0 ? "success" : "error", r == 0 ? "" : err.msg);
        CHECK(r == -1 && strstr(err.msg, expect) != NULL);
        prof_free(p);
        n_invalid++;
    }
    if (d)
        closedir(d);
    CHECK(n_valid >= 2);
    CHECK(n_invalid >= 8);
}


/* An included Windows profile's global excludes keep matching case-insensitively in a
 * case-sensitive profile that includes it; a hash list with a line longer than 1 KiB (a
 * sha256sum line with a long name) loads. */
static void include_cases(void)
{
    char dir[] = "/tmp/custody-prof-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    char p1[256], p2[256], p3[256];
    snprintf(p1, sizeof p1, "%s/win.json", dir);
    snprintf(p2, sizeof p2, "%s/top.json", dir);
    snprintf(p3, sizeof p3, "%s/list.sha256", dir);
    FILE *f = fopen(p1, "w");
    fputs("{\"name\":\"win\",\"windows\":true,\"exclude\":[\"/Windows/Temp/**\"],"
          "\"rules\":[{\"id\":\"w\",\"include\":[\"/Windows/**\"]}]}", f);
    fclose(f);
    f = fopen(p3, "w");
    fprintf(f, "%064d  /", 7);
    for (int i = 0; i < 3000; i++)
        fputc('a', f);
    fputs("\n", f);
    fclose(f);
    f = fopen(p2, "w");
    fputs("{\"name\":\"top\",\"includes\":[\"win.json\"],\"rules\":[{\"id\":\"t\","
          "\"include\":[\"/x/**\"],\"action\":\"flag\",\"hashes\":{\"files\":[\"list.sha256\"]}}]}", f);
    fclose(f);
    struct prof_profile *p = NULL;
    struct cu_err err;
    int r = prof_load_file(p2, NULL, &p, &err);
    if (r != 0)
        fprintf(stderr, "include case: %s\n", err.msg);
    CHECK(r == 0);
    if (p) {
        struct prof_match m = {0};
        CHECK(sel(p, "/WINDOWS/system32/x.dll", S_IFREG | 0644, &m)); /* win's rule: casefold */
        CHECK(!sel(p, "/windows/TEMP/x.tmp", S_IFREG | 0644, &m));     /* win's exclude too */
        CHECK(!sel(p, "/X/y", S_IFREG | 0644, &m));                     /* top: case-sensitive */
        CHECK(p->rules[1].hashes && p->rules[1].hashes->n[DG_SHA256] == 1);
        prof_match_free(&m);
        prof_free(p);
    }
    unlink(p1);
    unlink(p2);
    unlink(p3);
    rmdir(dir);
}

int main(void)
{
    const char *homes[] = {"/home/alice", "/root/", "/", "/srv/we*ird"};
    struct prof_env env = {homes, 4, NULL, 0};
    struct cu_err err;
    const char *name, *desc;
    size_t count = 0;
    for (size_t i = 0; (name = prof_embedded_name(i, &desc)) != NULL; i++, count++) {
        struct prof_profile *p = NULL;
        int r = prof_load_embedded(name, &env, &p, &err);
        if (r != 0)
            fprintf(stderr, "embedded %s: %s\n", name, err.msg);
        CHECK(r == 0);
        CHECK(desc && *desc);
        CHECK(p && strlen(p->sha256_hex) == 64);
        prof_free(p);
    }
    CHECK(count >= 1);
    CHECK(prof_load_embedded("no-such", &env, NULL, &err) == -1);

    struct prof_profile *p = NULL;
    CHECK(prof_load_embedded("linux-triage", &env, &p, &err) == 0);
    struct prof_match m = {0};
    CHECK(sel(p, "/etc/passwd", S_IFREG | 0644, &m) && has_rule(p, &m, "accounts"));
    CHECK(m.action == PROF_ACTION_COLLECT && m.max_file_bytes == 0);
    CHECK(sel(p, "/var/log/syslog", S_IFREG | 0640, &m) && has_rule(p, &m, "logs"));
    CHECK(m.max_file_bytes == 268435456);
    CHECK(sel(p, "/tmp/x", S_IFREG | 0755, &m) && has_rule(p, &m, "tmp-executables"));
    CHECK(!sel(p, "/tmp/notes.txt", S_IFREG | 0644, &m));
    CHECK(sel(p, "/tmp/a/b/run.sh", S_IFREG | 0644, &m) && has_rule(p, &m, "tmp-scripts"));
    CHECK(sel(p, "/tmp/.hidden/x", S_IFREG | 0644, &m));
    CHECK(!sel(p, "/usr/bin/ls", S_IFREG | 0755, &m));
    CHECK(!sel(p, "/etc", S_IFDIR | 0755, &m)); /* directories are never selected */
    CHECK(sel(p, "/home/alice/.bash_history", S_IFREG | 0600, &m) &&
          has_rule(p, &m, "user-histories"));
    CHECK(sel(p, "/srv/we*ird/.bash_history", S_IFREG | 0600, &m)); /* home escaped */
    CHECK(!sel(p, "/srv/weXird/.bash_history", S_IFREG | 0600, &m));
    CHECK(sel(p, "/root/.bash_history", S_IFREG | 0600, &m) && has_rule(p, &m, "root-home"));
    CHECK(!sel(p, "/.bash_history", S_IFREG | 0600, &m)); /* the home "/" is skipped */
    CHECK(sel(p, "/etc/ssh/ssh_host_ed25519_key", S_IFREG | 0600, &m) &&
          m.action == PROF_ACTION_METADATA && !has_rule(p, &m, "ssh-config"));
    CHECK(sel(p, "/etc/ssh/sshd_config", S_IFREG | 0644, &m) && m.action == PROF_ACTION_COLLECT);
    CHECK(prof_descend(p, "/var", 4) && prof_descend(p, "/var/log", 8));
    /* /usr is walked for SUID/SGID files, but not /usr/include; /var/cache holds nothing. */
    CHECK(prof_descend(p, "/usr/bin", 8) && !prof_descend(p, "/usr/include", 12));
    CHECK(!prof_descend(p, "/var/cache", 10) && !prof_descend(p, "/usrx", 5));
    CHECK(prof_descend(p, "/home", 5));
    CHECK(sel(p, "/usr/bin/passwd", S_IFREG | 04755, &m) && has_rule(p, &m, "suid-sgid") &&
          m.action == PROF_ACTION_METADATA);
    CHECK(!sel(p, "/usr/bin/ls", S_IFREG | 0755, &m));
    CHECK(sel(p, "/etc/ld.so.preload", S_IFREG | 0644, &m) && has_rule(p, &m, "ld-so-preload"));
    /* changed-binaries is off until since is set */
    CHECK(!sel(p, "/usr/bin/ls", S_IFREG | 0755, &m));
    CHECK(!prof_names(p, "/proc", 5));
    CHECK(prof_names(p, "/dev", 4)); /* /dev/shm is named */
    CHECK(prof_add_exclude(p, "/var/log/**", &err) == 0);
    CHECK(!sel(p, "/var/log/syslog", S_IFREG | 0640, &m));
    CHECK(!prof_descend(p, "/var/log", 8));
    CHECK(prof_add_include(p, "/opt/app/*.log", &err) == 0);
    CHECK(sel(p, "/opt/app/a.log", S_IFREG | 0644, &m) && has_rule(p, &m, "include-1"));
    CHECK(prof_add_include(p, "relative", &err) == -1);
    prof_match_free(&m);
    prof_free(p);

    /* variables: default, --set override, undefined */
    const char *json = "{\"name\":\"v\",\"variables\":{\"root\":\"/srv\"},"
                       "\"rules\":[{\"id\":\"r\",\"include\":[\"${root}/**\"]}]}";
    CHECK(prof_load_buffer("t", json, strlen(json), &env, &p, &err) == 0);
    CHECK(sel(p, "/srv/x", S_IFREG | 0644, &m));
    prof_free(p);
    const char *set[] = {"root=/opt"};
    struct prof_env env2 = {NULL, 0, set, 1};
    CHECK(prof_load_buffer("t", json, strlen(json), &env2, &p, &err) == 0);
    CHECK(!sel(p, "/srv/x", S_IFREG | 0644, &m) && sel(p, "/opt/x", S_IFREG | 0644, &m));
    prof_free(p);
    prof_match_free(&m);

    /* size bounds and time windows: the ProxyLogon guidance, "*.zip, *.rar, *.7z, *.dmp
     * created or modified on or after 2021-02-25", with --set since= */
    const char *tw = "{\"name\":\"t\",\"case_insensitive\":true,\"variables\":{\"since\":\"2021-02-25\"},"
                     "\"rules\":[{\"id\":\"arch\",\"include\":[\"/**/*.zip\",\"/**/*.7z\",\"/**/*.dmp\"],"
                     "\"types\":[\"file\"],\"size_min\":1,\"size_max\":1000,"
                     "\"time\":{\"field\":\"created_or_modified\",\"after\":\"${since}\"}},"
                     "{\"id\":\"old\",\"include\":[\"/old/*\"],"
                     "\"time\":{\"field\":\"btime\",\"before\":\"2020-01-01T00:00:00Z\"}}]}";
    CHECK(prof_load_buffer("t", tw, strlen(tw), &env, &p, &err) == 0);
    struct stat st = st_of(S_IFREG | 0644);
    st.st_size = 10;
    st.st_mtim.tv_sec = 1614211200; /* exactly 2021-02-25T00:00:00Z: on or after */
    CHECK(prof_select(p, "/inetpub/X.ZIP", 14, &st, NULL, &m) == 1);
    st.st_mtim.tv_sec = 1614211199; /* one second before */
    CHECK(prof_select(p, "/inetpub/X.ZIP", 14, &st, NULL, &m) == 0);
    struct timespec bt = {1614300000, 0}; /* created after, modified before: selected */
    CHECK(prof_select(p, "/inetpub/X.ZIP", 14, &st, &bt, &m) == 1);
    st.st_mtim.tv_sec = 1700000000;
    st.st_size = 0;
    CHECK(prof_select(p, "/a.7z", 5, &st, NULL, &m) == 0); /* below size_min */
    st.st_size = 1001;
    CHECK(prof_select(p, "/a.7z", 5, &st, NULL, &m) == 0); /* above size_max */
    st.st_size = 1000;
    CHECK(prof_select(p, "/a.dmp", 6, &st, NULL, &m) == 1);
    /* a btime window with no btime known does not select; with one before the bound it does */
    CHECK(prof_select(p, "/old/f", 6, &st, NULL, &m) == 0);
    struct timespec oldbt = {1500000000, 0};
    CHECK(prof_select(p, "/old/f", 6, &st, &oldbt, &m) == 1);
    prof_free(p);
    const char *set2[] = {"since=2023-01-01"};
    struct prof_env env3 = {NULL, 0, set2, 1};
    CHECK(prof_load_buffer("t", tw, strlen(tw), &env3, &p, &err) == 0);
    st.st_mtim.tv_sec = 1614211200;
    CHECK(prof_select(p, "/x.zip", 6, &st, NULL, &m) == 0); /* --set moved the window */
    prof_free(p);
    prof_match_free(&m);

    const char *data = getenv("CUSTODY_TEST_DATA");
    CHECK(data != NULL);
    if (data)
        data_cases(data);
    include_cases();
    return check_result();
}
