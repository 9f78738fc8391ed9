/*
 * cmd_profiles: `custody profiles` lists the embedded profiles; `custody profiles show NAME`
 * prints one exactly as embedded, a starting point for a profile of one's own.
 */
#include <stdio.h>
#include <string.h>

#include "profile.h"
#include "verbs.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: custody profiles            list the embedded profiles\n"
               "       custody profiles show NAME  print one as JSON\n"
               "exit codes: 0 ok; 2 usage error or unknown profile\n");
}

int cmd_profiles(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return EXIT_OK;
    }
    if (argc == 1 || (argc == 2 && !strcmp(argv[1], "list"))) {
        const char *desc, *name;
        for (size_t i = 0; (name = prof_embedded_name(i, &desc)) != NULL; i++)
            printf("%s\t%s\n", name, desc);
        return EXIT_OK;
    }
    if (argc == 3 && !strcmp(argv[1], "show")) {
        size_t len;
        const char *t = prof_embedded_text(argv[2], &len);
        if (!t) {
            fprintf(stderr, "custody profiles: no embedded profile '%s'\n", argv[2]);
            return EXIT_USAGE;
        }
        fwrite(t, 1, len, stdout);
        return EXIT_OK;
    }
    usage(stderr);
    return EXIT_USAGE;
}
