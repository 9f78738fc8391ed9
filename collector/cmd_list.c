/* cmd_list: placeholder until the verb lands (replaced by its implementation). */
#include <stdio.h>

#include "verbs.h"

int cmd_list(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "custody: list: not built yet\n");
    return EXIT_USAGE;
}
