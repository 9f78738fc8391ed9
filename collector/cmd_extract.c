/*
 * cmd_extract: `custody extract ARCHIVE --to DIR [--force] [--pubkey FILE] [--max-bytes N]`.
 *
 * Verifies first and refuses to write anything when integrity does not hold (unless
 * --force). Then writes members below DIR only, with libarchive's disk writer in its secure
 * mode (no absolute names, no "..", no writing through symbolic links) after our own checks:
 * hard links, device nodes, FIFOs and sockets are refused, setuid/setgid/sticky bits are
 * dropped, owners are not restored, and --max-bytes caps what a hostile archive can make it
 * write. Modification times are restored.
 */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "age.h"
#include "mfread.h"
#include "verbs.h"
#include "verify.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: custody extract ARCHIVE --to DIR [--force] [--pubkey FILE] [--max-bytes SIZE]\n"
        "                       [--identity FILE]...\n"
        "\n"
        "Verifies the archive (as custody verify), then writes its members below DIR. Refuses\n"
        "absolute names, '..', writing through symbolic links, hard links, devices, FIFOs and\n"
        "sockets; drops setuid/setgid bits; restores modification times. An age-encrypted\n"
        "archive (.age) is decrypted in the stream with --identity (age identity file).\n"
        "exit codes: 0 verified and extracted; 1 verification failed (nothing written unless\n"
        "--force) or members were refused; 2 usage error or unreadable input\n");
}

static int unsafe_name(const char *n)
{
    if (!*n || n[0] == '/')
        return 1;
    for (const char *p = n; *p;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

static int extract(const char *archive, const char *to, const char *pubkey, int force,
                   uint64_t max_bytes, const struct age_identity *ids, size_t n_ids);

int cmd_extract(int argc, char **argv)
{
    static const struct option lo[] = {
        {"to", required_argument, 0, 't'},        {"force", no_argument, 0, 'f'},
        {"pubkey", required_argument, 0, 'k'},    {"max-bytes", required_argument, 0, 'm'},
        {"help", no_argument, 0, 'h'},            {"identity", required_argument, 0, 'i'},
        {0, 0, 0, 0},
    };
    const char *to = NULL, *pubkey = NULL;
    int force = 0, c;
    uint64_t max_bytes = UINT64_MAX;
    const char *idfiles[64];
    size_t n_idfiles = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:fk:m:hi:", lo, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (n_idfiles == sizeof idfiles / sizeof idfiles[0]) {
                fprintf(stderr, "custody extract: too many --identity files\n");
                return EXIT_USAGE;
            }
            idfiles[n_idfiles++] = optarg;
            break;
        case 't': to = optarg; break;
        case 'f': force = 1; break;
        case 'k': pubkey = optarg; break;
        case 'm':
            if (cu_size_parse(optarg, &max_bytes) != 0) {
                fprintf(stderr, "custody extract: bad --max-bytes '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (!to || optind != argc - 1) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *archive = argv[optind];
    struct cu_err err;
    struct age_identity *ids = NULL;
    size_t n_ids = 0;
    int ret = EXIT_USAGE;
    for (size_t i = 0; i < n_idfiles; i++)
        if (age_identities_load(idfiles[i], &ids, &n_ids, &err) != 0) {
            fprintf(stderr, "custody extract: --identity %s: %s\n", idfiles[i], err.msg);
            goto out;
        }
    ret = extract(archive, to, pubkey, force, max_bytes, ids, n_ids);
out:
    if (ids) {
        age_identities_free(ids, n_ids);
    }
    return ret;
}

static int extract(const char *archive, const char *to, const char *pubkey, int force,
                   uint64_t max_bytes, const struct age_identity *ids, size_t n_ids)
{
    struct cu_err err;
    struct vf_opts vo = {pubkey, NULL, stderr, ids, n_ids};
    struct vf_result vr;
    if (vf_verify(archive, &vo, &vr, &err) != 0) {
        fprintf(stderr, "custody extract: %s\n", err.msg);
        vf_result_free(&vr);
        return EXIT_USAGE;
    }
    int verified = vr.ok;
    vf_result_free(&vr);
    if (!verified && !force) {
        fprintf(stderr, "custody extract: verification FAILED: nothing extracted "
                        "(--force extracts anyway)\n");
        return EXIT_EVIDENCE;
    }
    if (!verified)
        fprintf(stderr, "custody extract: verification FAILED: extracting anyway (--force)\n");
    /* The archive is opened before moving into --to, so a relative ARCHIVE path works. */
    struct archive *a = mf_archive_open(archive, ids, n_ids, &err);
    if (!a) {
        fprintf(stderr, "custody extract: %s\n", err.msg);
        return EXIT_USAGE;
    }
    if (mkdir(to, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "custody extract: --to %s: %s\n", to, strerror(errno));
        archive_read_free(a);
        return EXIT_USAGE;
    }
    int dirfd = open(to, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0 || cwd < 0 || fchdir(dirfd) != 0) {
        fprintf(stderr, "custody extract: --to %s: %s\n", to, strerror(errno));
        if (dirfd >= 0)
            close(dirfd);
        if (cwd >= 0)
            close(cwd);
        archive_read_free(a);
        return EXIT_USAGE;
    }
    struct archive *d = archive_write_disk_new();
    archive_write_disk_set_options(d, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                          ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                          ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
                                          ARCHIVE_EXTRACT_NO_OVERWRITE);
    int refused = 0, failed = 0;
    uint64_t written = 0;
    size_t count = 0;
    char *buf = cu_xmalloc(65536);
    struct archive_entry *ae;
    int r;
    while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        const char *name = archive_entry_pathname(ae);
        unsigned type = archive_entry_filetype(ae);
        const char *why = NULL;
        if (!name || unsafe_name(name))
            why = "absolute name or '..'";
        else if (archive_entry_hardlink(ae))
            why = "hard link";
        else if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
            why = "device, FIFO or socket";
        if (why) {
            fprintf(stderr, "REFUSED %s: %s\n", name ? name : "(no name)", why);
            refused++;
            continue;
        }
        archive_entry_set_perm(ae, archive_entry_perm(ae) & 0777);
        if (type == AE_IFREG && archive_entry_size(ae) > 0 &&
            (uint64_t)archive_entry_size(ae) > max_bytes - written) {
            fprintf(stderr, "custody extract: --max-bytes reached before %s: stopping\n", name);
            refused++;
            break;
        }
        if (archive_write_header(d, ae) < ARCHIVE_WARN) {
            fprintf(stderr, "REFUSED %s: %s\n", name, archive_error_string(d));
            refused++;
            continue;
        }
        la_ssize_t n;
        while ((n = archive_read_data(a, buf, 65536)) > 0) {
            if (archive_write_data(d, buf, (size_t)n) < 0) {
                fprintf(stderr, "custody extract: writing %s: %s\n", name, archive_error_string(d));
                failed = 1;
                break;
            }
            written += (uint64_t)n;
        }
        if (n < 0) {
            fprintf(stderr, "custody extract: reading %s: %s\n", name, archive_error_string(a));
            failed = 1;
        }
        if (archive_write_finish_entry(d) < ARCHIVE_WARN)
            failed = 1;
        count++;
        if (failed)
            break;
    }
    if (r < ARCHIVE_WARN && r != ARCHIVE_EOF) {
        fprintf(stderr, "custody extract: %s\n", archive_error_string(a));
        failed = 1;
    }
    archive_write_free(d);
    archive_read_free(a);
    free(buf);
    if (fchdir(cwd) != 0)
        perror("fchdir");
    close(cwd);
    close(dirfd);
    fprintf(stderr, "custody extract: %zu members written below %s (%llu bytes), %d refused\n",
            count, to, (unsigned long long)written, refused);
    if (failed)
        return EXIT_USAGE;
    return (refused || !verified) ? EXIT_EVIDENCE : EXIT_OK;
}
