/* cmd_keygen: placeholder until the verb lands (replaced by its implementation). */
#include <stdio.h>

#include "verbs.h"

int cmd_keygen(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "custody: keygen: not built yet\n");
    return EXIT_USAGE;
}
