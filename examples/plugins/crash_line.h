/* What the crashing example plugins (crash_on.c, once.c) do with a bad
 * line: "segv" dies of SIGSEGV, "abort" of abort(); any other returns. */
#ifndef EXAMPLES_PLUGINS_CRASH_LINE_H
#define EXAMPLES_PLUGINS_CRASH_LINE_H

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static inline void crash_line(const char *item)
{
    if (!strcmp(item, "segv"))
        raise(SIGSEGV);
    if (!strcmp(item, "abort"))
        abort();
}

#endif
