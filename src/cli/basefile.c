/* --basefile FILE: rsync'd to every remote login once, before its first
 * job (all logins at once, as GNU parallel does, and like GNU's not
 * failing the run when a copy fails: its messages go to stderr), and with
 * --cleanup removed there after the last. An --onall run does it in the
 * parent, not in each login's eventor. */
#include "cli.h"
#include "misc.h"

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

/* GNU's warning when the files' options have no remote login to go to. */
static void warn_local(void)
{
    for (size_t i = 0; i < SSH.nlogin; i++)
        if (!SSH.login[i].local)
            return;
    int all = 0; /* --transfer: "{}" */
    for (size_t i = 0; i < SSH.transfer.n; i++)
        all |= !strcmp(SSH.transfer.v[i], "{}");
    const char *what = SSH.transfer.n && SSH.ret.n && SSH.cleanup ? "--trc"
                       : all ? "--transfer"
                       : SSH.transfer.n ? "--transferfile"
                       : SSH.ret.n ? "--return"
                       : SSH.cleanup && !tmplfile_given() ? "--cleanup"
                       : SSH.basefile.n ? "--basefile" : NULL;
    if (what)
        fprintf(stderr, "eventor: Warning: %s ignored as there are no "
                        "remote --sshlogin.\n", what);
}

void basefile_send(void)
{
    if (getenv(SSH_ONALL_ENV))
        return;
    warn_local();
    if (ours())
        run_lines(0);
}

void basefile_remove(void)
{
    if (ours() && SSH.cleanup)
        run_lines(1);
}
