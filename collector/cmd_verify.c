/* cmd_verify: placeholder until the verb lands (replaced by its implementation). */
#include <stdio.h>

#include "verbs.h"

int cmd_verify(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "custody: verify: not built yet\n");
    return EXIT_USAGE;
}
