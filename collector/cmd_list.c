/*
 * cmd_list: `custody list ARCHIVE [--json]`, the manifest's entries: type, size, mtime,
 * status and path, one per line (names escaped so that none can forge a line), or the
 * entries as JSON lines. Listing does not verify: use `custody verify` for that.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "age.h"
#include "mfread.h"
#include "verbs.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: custody list ARCHIVE [--json] [--identity FILE]...\n"
               "An age-encrypted archive (.age) is decrypted in the stream with --identity.\n"
               "exit codes: 0 listed; 2 usage error, unreadable input or no manifest\n");
}

int cmd_list(int argc, char **argv)
{
    static const struct option lo[] = {
        {"json", no_argument, 0, 'J'}, {"help", no_argument, 0, 'h'},
        {"identity", required_argument, 0, 'i'}, {0, 0, 0, 0}};
    int json = 0, c;
    struct age_identity *ids = NULL;
    size_t n_ids = 0;
    struct cu_err err;
    optind = 1;
    while ((c = getopt_long(argc, argv, "Jhi:", lo, NULL)) != -1) {
        if (c == 'J')
            json = 1;
        else if (c == 'i') {
            if (age_identities_load(optarg, &ids, &n_ids, &err) != 0) {
                fprintf(stderr, "custody list: --identity %s: %s\n", optarg, err.msg);
                age_identities_free(ids, n_ids);
                return EXIT_USAGE;
            }
        } else if (c == 'h') {
            age_identities_free(ids, n_ids);
            usage(stdout);
            return EXIT_OK;
        } else {
            age_identities_free(ids, n_ids);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        age_identities_free(ids, n_ids);
        usage(stderr);
        return EXIT_USAGE;
    }
    struct mf_scan s;
    int sr = mf_scan(argv[optind], 0, ids, n_ids, &s, &err);
    if (ids) {
        age_identities_free(ids, n_ids);
    }
    if (sr != 0) {
        fprintf(stderr, "custody list: %s\n", err.msg);
        return EXIT_USAGE;
    }
    if (!s.manifest) {
        fprintf(stderr, "custody list: %s has no manifest.json%s%s\n", argv[optind],
                s.read_error ? " (truncated or corrupt): " : "",
                s.read_error ? s.read_error_msg : "");
        mf_scan_free(&s);
        return EXIT_USAGE;
    }
    json_error_t je;
    json_t *mf = json_loadb((const char *)s.manifest, s.manifest_len, JSON_REJECT_DUPLICATES, &je);
    mf_scan_free(&s);
    json_t *entries = mf ? json_object_get(mf, "entries") : NULL;
    if (!json_is_array(entries)) {
        fprintf(stderr, "custody list: the manifest is not readable: %d:%d: %s\n", je.line,
                je.column, mf ? "no entries" : je.text);
        json_decref(mf);
        return EXIT_USAGE;
    }
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e) {
        if (json) {
            char *line = json_dumps(e, JSON_COMPACT);
            if (line)
                printf("%s\n", line);
            free(line);
            continue;
        }
        const char *type = json_string_value(json_object_get(e, "type"));
        json_t *size = json_object_get(e, "size");
        const char *mtime = json_string_value(json_object_get(e, "mtime"));
        const char *status = json_string_value(json_object_get(e, "status"));
        printf("%-8s ", type ? type : "?");
        if (json_is_integer(size))
            printf("%12lld ", (long long)json_integer_value(size));
        else
            printf("%12s ", "-");
        printf("%-30s %-8s ", mtime ? mtime : "-", status ? status : "?");
        json_t *b64 = json_object_get(e, "path_b64");
        size_t n = 0;
        char *p = NULL;
        if (json_is_string(b64))
            p = (char *)cu_base64_decode(json_string_value(b64), &n);
        if (p) {
            cu_fput_escaped(stdout, p, n);
            free(p);
        } else {
            const char *ps = json_string_value(json_object_get(e, "path"));
            cu_fput_escaped(stdout, ps ? ps : "?", ps ? strlen(ps) : 1);
        }
        putchar('\n');
    }
    json_decref(mf);
    return EXIT_OK;
}
