/*
 * cmd_decrypt: `custody decrypt --identity FILE [--out FILE|-] ARCHIVE.age`, the plaintext
 * archive of an age-encrypted collection (collect --encrypt-to), for tools that cannot read
 * age (tar, bsdtar). verify, list and extract do not need it: they decrypt in the stream.
 *
 * The output is created O_EXCL (never overwritten); default: ARCHIVE without ".age". Only
 * authenticated plaintext is written (age_dec_read never returns a chunk before its tag is
 * checked), and when the file fails authentication further on, the partial output is
 * removed (with --out -, what was already written to stdout cannot be taken back).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "age.h"
#include "verbs.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: custody decrypt --identity FILE [--identity FILE]... [--out FILE|-] ARCHIVE.age\n"
        "\n"
        "Writes the plaintext archive of an age-encrypted collection to --out (default: ARCHIVE\n"
        "without .age; '-' for stdout), never overwriting a file. --identity is an age identity\n"
        "file (custody keygen --age, or age-keygen). On an authentication failure the partial\n"
        "output is removed. verify, list and extract read .age archives directly (--identity).\n"
        "exit codes: 0 decrypted; 1 the file does not decrypt or authenticate (no identity\n"
        "            matches, tampered, truncated); 2 usage error, unreadable identity or input,\n"
        "            not an age file, output exists\n");
}

struct src {
    int fd;
};

static ssize_t src_read(void *ctx, void *buf, size_t len)
{
    struct src *s = ctx;
    for (;;) {
        ssize_t n = read(s->fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        return n;
    }
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int cmd_decrypt(int argc, char **argv)
{
    static const struct option lo[] = {
        {"identity", required_argument, 0, 'i'},
        {"out", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *idfiles[64], *out = NULL;
    size_t n_idfiles = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:o:h", lo, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (n_idfiles == sizeof idfiles / sizeof idfiles[0]) {
                fprintf(stderr, "custody decrypt: too many --identity files\n");
                return EXIT_USAGE;
            }
            idfiles[n_idfiles++] = optarg;
            break;
        case 'o': out = optarg; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (!n_idfiles || optind != argc - 1) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *in = argv[optind];
    size_t inlen = strlen(in);
    if (!out && (inlen <= 4 || strcmp(in + inlen - 4, ".age") != 0)) {
        fprintf(stderr, "custody decrypt: %s does not end in .age: give --out FILE\n", in);
        return EXIT_USAGE;
    }

    struct cu_err err;
    struct age_identity *ids = NULL;
    size_t n_ids = 0;
    struct age_dec *d = NULL;
    struct src s = {-1};
    int ofd = -1, to_stdout = out && !strcmp(out, "-");
    char *outpath = NULL, *buf = NULL;
    int ret = EXIT_USAGE, created = 0;

    for (size_t i = 0; i < n_idfiles; i++)
        if (age_identities_load(idfiles[i], &ids, &n_ids, &err) != 0) {
            fprintf(stderr, "custody decrypt: --identity %s: %s\n", idfiles[i], err.msg);
            goto done;
        }
    s.fd = open(in, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (s.fd < 0 || fstat(s.fd, &sb) != 0) {
        fprintf(stderr, "custody decrypt: %s: %s\n", in, strerror(errno));
        goto done;
    }
    unsigned char head[32];
    ssize_t hn = pread(s.fd, head, sizeof head, 0);
    if (hn <= 0 || !age_is_age(head, (size_t)hn)) {
        fprintf(stderr, "custody decrypt: %s is not an age file\n", in);
        goto done;
    }
    outpath = out ? cu_xstrdup(out) : cu_xstrndup(in, inlen - 4);
    if (to_stdout) {
        ofd = STDOUT_FILENO;
    } else {
        ofd = open(outpath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (ofd < 0) {
            fprintf(stderr, "custody decrypt: cannot create %s: %s%s\n", outpath, strerror(errno),
                    errno == EEXIST ? " (not overwriting)" : "");
            goto done;
        }
        created = 1;
    }
    ret = EXIT_EVIDENCE; /* from here on, a failure is the file's */
    d = age_dec_new(ids, n_ids, src_read, &s, &err);
    if (!d) {
        fprintf(stderr, "custody decrypt: %s: %s\n", in, err.msg);
        goto done;
    }
    buf = cu_xmalloc(64u << 10);
    for (;;) {
        ssize_t n = age_dec_read(d, buf, 64u << 10, &err);
        if (n < 0) {
            fprintf(stderr, "custody decrypt: %s: %s\n", in, err.msg);
            goto done;
        }
        if (n == 0)
            break;
        if (write_all(ofd, buf, (size_t)n) != 0) {
            fprintf(stderr, "custody decrypt: writing %s: %s\n", to_stdout ? "stdout" : outpath,
                    strerror(errno));
            ret = EXIT_USAGE;
            goto done;
        }
    }
    if (!to_stdout && (fsync(ofd) != 0 || close(ofd) != 0)) {
        ofd = -1;
        fprintf(stderr, "custody decrypt: writing %s: %s\n", outpath, strerror(errno));
        ret = EXIT_USAGE;
        goto done;
    }
    if (!to_stdout)
        ofd = -1;
    if (!to_stdout)
        fprintf(stderr, "custody decrypt: wrote %s\n", outpath);
    ret = EXIT_OK;
done:
    if (ofd >= 0 && !to_stdout)
        close(ofd);
    if (ret != EXIT_OK && created) {
        unlink(outpath);
        fprintf(stderr, "custody decrypt: removed the partial output %s\n", outpath);
    }
    age_dec_free(d);
    if (s.fd >= 0)
        close(s.fd);
    if (ids) {
        age_identities_free(ids, n_ids);
    }
    free(buf);
    free(outpath);
    return ret;
}
