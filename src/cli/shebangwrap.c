/* GNU parallel's --shebang-wrap: `#!/usr/bin/eventor --shebang-wrap
 * [OPTIONS] PARSER [PARSER-OPTIONS]` makes a script parallel: each of the
 * script's arguments becomes a job `PARSER [PARSER-OPTIONS] SCRIPT ARG`
 * (with --pipe its standard input is split among jobs instead). */
#include "cli.h"
#include "misc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The tail of the #! line after --shebang-wrap (or GNU's --shebangwrap)
 * and the blanks after it, or NULL when a is not that. */
static const char *wrap_tail(const char *a)
{
    static const char *const tags[] = {"--shebang-wrap", "--shebangwrap"};
    for (size_t k = 0; k < 2; k++)
        if (!strncmp(a, tags[k], strlen(tags[k]))) {
            a += strlen(tags[k]);
            return a + strspn(a, " ");
        }
    return NULL;
}

/* Linux hands the whole #! tail over as one word, argv[1], then the
 * script, then its arguments. GNU then runs, through the shell (which
 * splits the tail into words, and the arguments too: they are not quoted,
 * as GNU does not quote them), `$0 --_pipe-means-argfiles TAIL 'SCRIPT'
 * ::: ARGS`. */
int shebang_wrap(int argc, char **argv)
{
    const char *tail = argc >= 3 ? wrap_tail(argv[1]) : NULL;
    if (!tail)
        return 0;
    char *self = shell_quote(argv[0]), *script = shell_quote(argv[2]);
    char *args = strv_join(argv + 3, (size_t)(argc - 3), " ");
    size_t len = (self ? strlen(self) : 0) + strlen(tail) +
                 (script ? strlen(script) : 0) + (args ? strlen(args) : 0) +
                 64;
    char *line = self && script && args ? malloc(len) : NULL;
    if (line) {
        /* no ARGS: GNU's last word ::: is dropped, stdin read instead */
        snprintf(line, len, "%s --_pipe-means-argfiles %s %s%s%s", self,
                 tail, script, argc > 3 ? " ::: " : "", args);
        execl("/bin/sh", "sh", "-c", line, (char *)NULL);
        cli_error("cannot run /bin/sh: %s", strerror(errno));
    } else
        cli_error("out of memory");
    free(line);
    free(self);
    free(script);
    free(args);
    return -1;
}
