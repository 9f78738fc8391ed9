/*
 * main: dispatch to one verb. Each verb lives in its own cmd_<verb>.c and returns the exit
 * code; this is the only place the process exits.
 */
#include <stdio.h>
#include <string.h>

#include "verbs.h"

struct verb {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct verb verbs[] = {
    {"collect", cmd_collect, "collect evidence into a hashed, signed archive"},
    {"verify", cmd_verify, "check an archive's digests, completeness and signature"},
    {"list", cmd_list, "list the entries of an archive's manifest"},
    {"extract", cmd_extract, "verify, then safely extract an archive"},
    {"decrypt", cmd_decrypt, "decrypt an age-encrypted archive (.age) to the plain archive"},
    {"keygen", cmd_keygen, "make an Ed25519 signing key pair, or an age key pair (--age)"},
    {"profiles", cmd_profiles, "list or show the embedded collection profiles"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: custody COMMAND [OPTIONS]\n"
               "       custody COMMAND --help\n"
               "       custody --version\n\ncommands:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(f, "\nexit codes: 0 success; 1 evidence errors or failed verification;\n"
               "            2 usage or fatal error; 3 collection stopped early (partial archive)\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("custody %s\n", CUSTODY_VERSION);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(argv[1], verbs[i].name))
            return verbs[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "custody: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
