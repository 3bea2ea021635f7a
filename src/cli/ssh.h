/* -S/--sshlogin's declarations (sshlogin.c, remote.c, onall.c; then
 * sshmore.h's), included by cli.h after struct opts and struct strv.
 * Internal to the CLI. */
#ifndef EVT_CLI_SSH_H
#define EVT_CLI_SSH_H

/* sshlogin.c: -S/--sshlogin, --slf and the options of remote jobs. */
struct login {
    char *str;      /* as given, less N/: joblog Host, $PARALLEL_SSHLOGIN */
    char *ssh;      /* its ssh command (--ssh's, or its own), with -p PORT */
    char *host;     /* [user@]host */
    const char *hostname; /* host without user@: $PARALLEL_SSHHOST */
    long slots;     /* N/, -j or its CPUs */
    int local;      /* ':': this machine, no ssh */
    int own_ssh;    /* names its own ssh command (no -M for it) */
    struct strv groups; /* its host groups: @G+G/'s, N/LOGIN, LOGIN */
    int select;     /* -S @G alone: not a login, keeps G's logins */
    int dup;        /* the same login as an earlier one: not used */
    size_t at;      /* its index before --filter-hosts (an --onall child's) */
};
struct sshconf {
    struct strv specs;     /* each login as given (-S items, --slf lines) */
    struct login *login;
    size_t nlogin, nparsed;
    int *slot_login;       /* the login of slot s+1 */
    long nslots;
    const char *ssh;       /* --ssh, $PARALLEL_SSH or "ssh" */
    const char *workdir;   /* --workdir */
    struct strv transfer;  /* --transferfile patterns */
    struct strv ret;       /* --return patterns */
    int cleanup, onall, nonall;
    const struct opts *o;  /* for the file names' placeholders */
    /* sshlogin, more (sshmore.c) */
    struct strv env;       /* --env names, for remote logins */
    struct strv basefile;  /* --basefile files */
    int controlmaster;     /* -M */
    int hostgroups;        /* --hostgroups: @GROUP on the arguments */
    int64_t sshdelay_ms;   /* --sshdelay, -1 not given */
    char *cm_dir;          /* -M: the private dir of the control sockets */
    int env_all;           /* --env _: every variable not ignored_vars' */
    const char *rsync_opts; /* --rsync-opts, $PARALLEL_RSYNC_OPTS or -rlDzR */
    int filter_hosts;      /* --filter-hosts: drop the logins that fail */
};
extern struct sshconf SSH;
#define SSH_ONALL_ENV "EVENTOR_ONALL_LOGIN" /* an --onall child's login */
#define SSH_ONALL_JOBLOG "EVENTOR_ONALL_JOBLOG" /* ... and its joblog */
enum { SSH_OPT_LOGIN, SSH_OPT_SLF, SSH_OPT_SSH, SSH_OPT_WORKDIR,
       SSH_OPT_TRANSFER, SSH_OPT_TRANSFERFILE, SSH_OPT_RETURN,
       SSH_OPT_CLEANUP, SSH_OPT_TRC, SSH_OPT_ONALL, SSH_OPT_NONALL,
       /* sshmore.c's */
       SSH_OPT_ENV, SSH_OPT_BASEFILE, SSH_OPT_CONTROLMASTER,
       SSH_OPT_SSHDELAY, SSH_OPT_HOSTGROUPS, SSH_OPT_RECORD_ENV,
       SSH_OPT_RSYNC_OPTS, SSH_OPT_FILTER_HOSTS };
/* 0, -1 bad value, -2 after its own error line. */
int sshlogin_option(struct opts *o, int which, const char *val);
/* After parsing: defaults, and what cannot go together (-1 reported). */
int sshlogin_check(struct opts *o);
/* Before limits_plan: the logins' slots; o->jobs becomes their sum. */
int sshlogin_plan(struct opts *o);
/* The login that slot runs on; NULL without -S. */
const struct login *sshlogin_of(int slot);
const char *sshlogin_name(int slot); /* its str, or ":" */
int sshlogin_onall(void); /* --onall/--nonall: run onall_main instead */
void sshlogin_help(FILE *f);
void sshlogin_free(void);
/* remote.c: the job's command wrapped for its login (ssh, --workdir,
 * transfers, returns, cleanup) into j->remote; NULL when the job runs as
 * it is. 0, or -1 on ENOMEM. */
struct job;
int remote_prepare(struct job *j, const struct record *r, size_t n);
/* onall.c: --onall/--nonall: eventor again for each login (with
 * SSH_ONALL_ENV), their outputs one after the other. The exit status. */
int onall_main(struct opts *o, int argc, char **argv);
#include "sshmore.h" /* --env, --basefile, -M, host groups */

#endif
