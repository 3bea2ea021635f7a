/* --basefile FILE: rsync'd to every remote login once, before its first
 * job (all logins at once, as GNU parallel does, and like GNU's not
 * failing the run when a copy fails: its messages go to stderr), and with
 * --cleanup removed there after the last. An --onall run does it in the
 * parent, not in each login's eventor. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every (login, file) line run at once by one sh, its output on stderr. */
static void run_lines(int clean)
{
    char *script = NULL;
    size_t len = 0;
    FILE *s = open_memstream(&script, &len);
    if (!s)
        return;
    for (size_t i = 0; i < SSH.nlogin; i++) {
        if (SSH.login[i].local)
            continue;
        for (size_t k = 0; k < SSH.basefile.n; k++) {
            const char *file = SSH.basefile.v[k];
            if (!clean && access(file, R_OK) != 0) {
                fprintf(stderr, "eventor: Warning: %s is not readable and "
                                "will not be transferred.\n", file);
                continue;
            }
            char *line = remote_basefile(&SSH.login[i], file, clean);
            if (line)
                fprintf(s, "(%s) </dev/null >&2 &\n", line);
            free(line);
        }
    }
    fputs("wait\n", s);
    if (fclose(s) == 0 && system(script) == -1)
        fprintf(stderr, "eventor: Warning: --basefile: cannot run sh\n");
    free(script);
}

static int ours(void)
{
    return SSH.basefile.n && !getenv(SSH_ONALL_ENV);
}

void basefile_send(void)
{
    if (ours())
        run_lines(0);
}

void basefile_remove(void)
{
    if (ours() && SSH.cleanup)
        run_lines(1);
}
