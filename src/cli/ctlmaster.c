/* -M/--controlmaster: one ssh master connection a remote login, its
 * socket in a private dir (mkdtemp under --tmpdir), the login's ssh (and
 * rsync's) then going through it; at exit each master is told to exit
 * and the dir is removed. Not for a login that names its own ssh command
 * (GNU parallel's man page). The masters persist only 30 s past their last
 * session, so a killed eventor leaves none for long. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int uses_master(const struct login *l)
{
    return !l->local && !l->own_ssh;
}

/* Run "SSH -S SOCK ARGS HOST" quietly: its exit status. */
static int run_ssh(const char *ssh, const char *sock, const char *args,
                   const char *host)
{
    char *qs = shell_quote(sock), *qh = shell_quote(host), *cmd = NULL;
    int rc = -1;
    if (qs && qh && asprintf(&cmd, "%s -S %s %s %s </dev/null >/dev/null "
                             "2>&1", ssh, qs, args, qh) >= 0)
        rc = system(cmd);
    free(qs);
    free(qh);
    free(cmd);
    return rc;
}

int ctlmaster_start(const struct opts *o)
{
    if (!SSH.controlmaster)
        return 0;
    for (size_t i = 0; i < SSH.nlogin; i++) {
        struct login *l = &SSH.login[i];
        if (!uses_master(l))
            continue;
        if (!SSH.cm_dir &&
            (asprintf(&SSH.cm_dir, "%s/eventor-ssh-XXXXXX", o->tmpdir) < 0 ||
             !mkdtemp(SSH.cm_dir))) {
            cli_error("--controlmaster: cannot make a dir in %s", o->tmpdir);
            return -1;
        }
        char *sock = NULL, *ssh = NULL;
        if (asprintf(&sock, "%s/%zu", SSH.cm_dir, i) < 0)
            return -1;
        /* -f: back once logged in, so the jobs find it up */
        run_ssh(l->ssh, sock, "-o ControlMaster=yes -o ControlPersist=30 -fN",
                l->host);
        char *q = shell_quote(sock);
        if (!q || asprintf(&ssh, "%s -S %s -o ControlMaster=no", l->ssh, q) < 0) {
            free(q);
            free(sock);
            return -1;
        }
        free(q);
        free(sock);
        free(l->ssh);
        l->ssh = ssh;
    }
    return 0;
}

void ctlmaster_stop(void)
{
    if (!SSH.cm_dir)
        return;
    for (size_t i = 0; i < SSH.nlogin; i++) {
        struct login *l = &SSH.login[i];
        char *sock = NULL;
        if (!uses_master(l) || asprintf(&sock, "%s/%zu", SSH.cm_dir, i) < 0)
            continue;
        if (access(sock, F_OK) == 0)
            run_ssh(l->ssh, sock, "-O exit", l->host);
        unlink(sock);
        free(sock);
    }
    rmdir(SSH.cm_dir);
}
