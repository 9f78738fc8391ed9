/* cmd_profiles: placeholder until the verb lands (replaced by its implementation). */
#include <stdio.h>

#include "verbs.h"

int cmd_profiles(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "custody: profiles: not built yet\n");
    return EXIT_USAGE;
}
