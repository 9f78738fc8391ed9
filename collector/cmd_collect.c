/* cmd_collect: placeholder until the verb lands (replaced by its implementation). */
#include <stdio.h>

#include "verbs.h"

int cmd_collect(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "custody: collect: not built yet\n");
    return EXIT_USAGE;
}
