/* cmd_extract: placeholder until the verb lands (replaced by its implementation). */
#include <stdio.h>

#include "verbs.h"

int cmd_extract(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "custody: extract: not built yet\n");
    return EXIT_USAGE;
}
