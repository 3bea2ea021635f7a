/* -S/--sshlogin and its options: the logins (GNU parallel's
 * [N/][sshcommand ] [user@]host[:port], ':' this machine, --slf files), how
 * many job slots each gets, and which login a slot runs on: slots are dealt
 * to the logins in turn, as GNU parallel starts one job on each in turn. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sshconf SSH;

static int push_dup(struct strv *v, const char *s, size_t len)
{
    char *d = strndup(s, len);
    if (!d || strv_push(v, d) < 0) {
        free(d);
        return -1;
    }
    return 0;
}

/* -S LIST: split at ',' or newline (',,' and '\,' are a comma). */
static int add_list(const char *val)
{
    char *buf = malloc(strlen(val) + 1), *w = buf;
    if (!buf)
        return -1;
    int rc = 0;
    for (const char *p = val;; p++) {
        if ((p[0] == ',' && p[1] == ',') || (p[0] == '\\' && p[1] == ',')) {
            *w++ = ',';
            p++;
        } else if (*p && *p != ',' && *p != '\n') {
            *w++ = *p;
        } else {
            if (w > buf && push_dup(&SSH.specs, buf, (size_t)(w - buf)) < 0)
                rc = -1;
            w = buf;
            if (!*p)
                break;
        }
    }
    free(buf);
    return rc;
}

/* --slf FILE: a login a line; blank lines and '#' comments skipped. */
static int add_file(const char *path)
{
    char *home = getenv("HOME"), *alt = NULL;
    if (!strcmp(path, "..")) { /* GNU's ~/.parallel/sshloginfile */
        if (!home || asprintf(&alt, "%s/.parallel/sshloginfile", home) < 0)
            return -1;
        path = alt;
    }
    int rc = strv_read_lines(&SSH.specs, path, 1);
    if (rc < 0) {
        cli_error("cannot read --sshloginfile %s: %s", path, strerror(errno));
        rc = -2;
    }
    free(alt);
    return rc;
}

int sshlogin_option(struct opts *o, int which, const char *val)
{
    (void)o;
    switch (which) {
    case SSH_OPT_LOGIN:
        return strcmp(val, "..") ? add_list(val) : add_file(val);
    case SSH_OPT_SLF: return add_file(val);
    case SSH_OPT_SSH: SSH.ssh = val; return *val ? 0 : -1;
    case SSH_OPT_WORKDIR: SSH.workdir = val; return *val ? 0 : -1;
    case SSH_OPT_TRANSFER: return push_dup(&SSH.transfer, "{}", 2);
    case SSH_OPT_TRANSFERFILE: return push_dup(&SSH.transfer, val, strlen(val));
    case SSH_OPT_RETURN: return push_dup(&SSH.ret, val, strlen(val));
    case SSH_OPT_CLEANUP: SSH.cleanup = 1; return 0;
    case SSH_OPT_TRC:
        SSH.cleanup = 1;
        if (push_dup(&SSH.transfer, "{}", 2) < 0)
            return -1;
        return push_dup(&SSH.ret, val, strlen(val));
    case SSH_OPT_ONALL: SSH.onall = 1; return 0;
    case SSH_OPT_NONALL: SSH.nonall = 1; return 0;
    }
    return sshmore_option(which, val);
}

/* One spec into l: N/ first, then ':' or [sshcommand ] [user@]host[:port]. */
static int parse_login(const char *spec, struct login *l)
{
    int rc = hostgroup_parse(&spec, l);
    if (rc < 0 || l->select)
        return rc;
    const char *s = spec;
    while (isdigit((unsigned char)*s))
        s++;
    if (s > spec && *s == '/') {
        l->slots = atol(spec);
        spec = s + 1;
    }
    l->local = !strcmp(spec, ":");
    if (!(l->str = strdup(spec)) || hostgroup_add(l, spec) < 0)
        return -1;
    if (l->local)
        return 0;
    const char *host = strrchr(spec, ' ');
    host = host ? host + 1 : spec;
    if (!*host) {
        cli_error("--sshlogin '%s': no host", spec);
        return -2;
    }
    const char *colon = strrchr(host, ':'), *port = NULL;
    size_t hl = strlen(host);
    if (colon && strchr(host, ':') == colon && optval_digits(colon + 1)) {
        port = colon + 1;
        hl = (size_t)(colon - host);
    }
    l->own_ssh = host > spec;
    const char *cmd = host > spec ? spec : SSH.ssh;
    size_t cl = host > spec ? (size_t)(host - spec - 1) : strlen(SSH.ssh);
    if (asprintf(&l->ssh, "%.*s%s%s", (int)cl, cmd, port ? " -p " : "",
                 port ? port : "") < 0)
        return -1;
    if (!(l->host = strndup(host, hl)))
        return -1;
    const char *at = strrchr(l->host, '@');
    l->hostname = at ? at + 1 : l->host;
    return 0;
}

/* A login's CPUs: this machine's, or `nproc` run over ssh (1 when it
 * cannot be known, with a warning). */
static long login_cpus(const struct login *l)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (l->local)
        return cpus > 0 ? cpus : 1;
    char *q = shell_quote(l->host), *cmd = NULL;
    long n = 0;
    if (q && asprintf(&cmd, "%s %s -- nproc </dev/null", l->ssh, q) >= 0) {
        FILE *p = popen(cmd, "re");
        if (p) {
            if (fscanf(p, "%ld", &n) != 1)
                n = 0;
            pclose(p);
        }
    }
    free(q);
    free(cmd);
    if (n < 1) {
        fprintf(stderr, "eventor: Warning: Could not figure out number of "
                        "cpus on %s (nproc failed). Using 1.\n", l->str);
        n = 1;
    }
    return n;
}

/* Deal the slots to the logins in turn: 2/A,1/B,2/C gives A B C A C. */
static int deal_slots(struct opts *o)
{
    long total = 0;
    for (size_t i = 0; i < SSH.nlogin; i++)
        total += SSH.login[i].slots;
    if (total > CLI_JOBS_MAX)
        total = CLI_JOBS_MAX;
    long *left = calloc(SSH.nlogin, sizeof *left);
    SSH.slot_login = calloc((size_t)total, sizeof *SSH.slot_login);
    if (!left || !SSH.slot_login) {
        free(left);
        return -1;
    }
    for (size_t i = 0; i < SSH.nlogin; i++)
        left[i] = SSH.login[i].slots;
    for (long s = 0; s < total;)
        for (size_t i = 0; i < SSH.nlogin && s < total; i++)
            if (left[i]-- > 0)
                SSH.slot_login[s++] = (int)i;
    free(left);
    SSH.nslots = total;
    o->jobs = total;
    return 0;
}

/* A login given again is the same one (GNU parallel): its N/, if given,
 * replaces the first's; its groups are not added. */
static void same_login(struct login *l)
{
    for (struct login *k = SSH.login; k < l && !l->select; k++)
        if (!k->select && !k->dup && !strcmp(k->str, l->str)) {
            if (l->slots)
                k->slots = l->slots;
            l->dup = 1;
            return;
        }
}

static int plan(struct opts *o)
{
    SSH.login = calloc(SSH.specs.n, sizeof *SSH.login);
    if (!SSH.login)
        return -1;
    for (size_t i = 0; i < SSH.specs.n; i++) {
        struct login *l = &SSH.login[SSH.nlogin++];
        SSH.nparsed = SSH.nlogin;
        int rc = parse_login(SSH.specs.v[i], l);
        if (rc < 0)
            return rc;
        same_login(l);
    }
    int rc = hostgroup_select();
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < SSH.nlogin; i++)
        SSH.login[i].at = i;
    const char *only = getenv(SSH_ONALL_ENV); /* an --onall child's login */
    /* An --onall child's login is one its parent kept: no filter again. */
    if (SSH.filter_hosts && !only && (rc = sshmore_filter_hosts()) < 0)
        return rc;
    if (sshlogin_onall()) /* each child finds its own */
        return 0;
    if (only) {
        size_t k = (size_t)atol(only);
        if (k >= SSH.nlogin) {
            cli_error("%s=%s: no such login", SSH_ONALL_ENV, only);
            return -2;
        }
        struct login keep = SSH.login[k];
        SSH.login[k] = SSH.login[0];
        SSH.login[0] = keep;
        SSH.nlogin = 1; /* the others stay allocated up to nparsed */
        SSH.login[0].slots = 1; /* GNU's -j1 under --onall */
        if (o->tag) {
            free((char *)o->tagstring);
            if (!(o->tagstring = strdup(SSH.login[0].str)))
                return -1;
        }
    }
    for (size_t i = 0; i < SSH.nlogin; i++)
        if (!SSH.login[i].slots)
            SSH.login[i].slots = o->jobs_given ? o->jobs
                                               : login_cpus(&SSH.login[i]);
    return deal_slots(o);
}

int sshlogin_plan(struct opts *o)
{
    if (!SSH.specs.n)
        return 0;
    int rc = plan(o);
    if (rc == -1)
        cli_error("out of memory");
    return rc < 0 ? -1 : 0;
}

const struct login *sshlogin_of(int slot)
{
    if (!SSH.nlogin || slot < 1 || slot > SSH.nslots)
        return NULL;
    return &SSH.login[SSH.slot_login[slot - 1]];
}

const char *sshlogin_name(int slot)
{
    const struct login *l = sshlogin_of(slot);
    return l ? l->str : ":";
}

int sshlogin_check(struct opts *o)
{
    SSH.o = o;
    if (!SSH.ssh) {
        SSH.ssh = getenv("PARALLEL_SSH");
        if (!SSH.ssh || !*SSH.ssh)
            SSH.ssh = "ssh";
    }
    if ((SSH.onall || SSH.nonall) && !SSH.specs.n) {
        cli_error("--%s needs --sshlogin", SSH.onall ? "onall" : "nonall");
        return -1;
    }
    if (sshmore_check(o) < 0)
        return -1;
    if ((SSH.onall || SSH.nonall) &&
        (o->pipe || o->resume || o->resume_failed)) {
        cli_error("--%s is not supported with %s", SSH.onall ? "onall"
                  : "nonall", o->pipe ? "--pipe" : "--resume");
        return -1;
    }
    const char *jl = getenv(SSH_ONALL_JOBLOG); /* an --onall child's own */
    if (jl && getenv(SSH_ONALL_ENV) && o->joblog) {
        o->joblog = jl;
        o->joblog_append = 0;
    }
    if (SSH.nonall && o->nsrc) {
        cli_error("--nonall takes no arguments (no ::: :::: or -a)");
        return -1;
    }
    if (SSH.nonall) { /* one job, no value: GNU's "\0noarg" */
        struct source *s = calloc(1, sizeof *s);
        if (!s || push_dup(&s->items, "", 0) < 0) {
            free(s);
            return -1;
        }
        o->src = s;
        o->nsrc = 1;
        o->no_args = 1;
        o->max_args = 1;
        o->xmode = 'X';
    }
    return 0;
}

int sshlogin_onall(void)
{
    return (SSH.onall || SSH.nonall) && !getenv(SSH_ONALL_ENV);
}

void sshlogin_free(void)
{
    for (size_t i = 0; i < SSH.nparsed; i++) {
        free(SSH.login[i].str);
        free(SSH.login[i].ssh);
        free(SSH.login[i].host);
        strv_free(&SSH.login[i].groups);
    }
    hostgroup_free();
    sshmore_free();
    free(SSH.login);
    free(SSH.slot_login);
    strv_free(&SSH.specs);
    strv_free(&SSH.transfer);
    strv_free(&SSH.ret);
    memset(&SSH, 0, sizeof SSH);
}

void sshlogin_help(FILE *f)
{
    fputs("\nRemote execution (GNU parallel's, over ssh; rsync for files):\n"
"  -S, --sshlogin [@GRP[+GRP]/][N/][SSHCOMMAND ][USER@]HOST[:PORT],...\n"
"                      run the jobs on these logins (repeatable; ':' is\n"
"                      this machine): N jobs at once on each, else -j's\n"
"                      value, else its CPUs (nproc run there once); slots\n"
"                      are dealt to the logins in turn; the joblog's Host\n"
"                      names the login. The command runs in the login's\n"
"                      $SHELL with PARALLEL_SEQ, PARALLEL_JOBSLOT,\n"
"                      PARALLEL_PID, PARALLEL_SSHLOGIN, PARALLEL_SSHHOST;\n"
"                      needs perl there: it kills the remote job when ssh\n"
"                      dies (--timeout, signals)\n"
"  --slf, --sshloginfile FILE\n"
"                      logins from FILE, one a line, # comments ('..':\n"
"                      ~/.parallel/sshloginfile)\n"
"  --ssh CMD           the ssh command (default $PARALLEL_SSH, or ssh)\n"
"  --workdir, --wd DIR the jobs run in DIR (made if missing): '.' the same\n"
"                      dir as here (relative to $HOME within it), '...' a\n"
"                      dir of each job's own under ~/.parallel/tmp\n"
"  --transferfile, --tf FILE\n"
"                      rsync FILE to the login's DIR first (placeholders\n"
"                      expanded; /./ as rsync -R); --transfer is --tf {}\n"
"  --return FILE       rsync FILE back after the job\n"
"  --cleanup           remove the transferred and returned files there\n"
"  --trc FILE          --transfer --return FILE --cleanup\n"
"  --onall             every job on every login (-j logins at once, one job\n"
"                      at a time on each), output grouped by login (sorted\n"
"                      with -k; --tag tags with the login); exit: the number\n"
"                      of logins where something failed; --joblog: a line\n"
"                      for each job on each login\n"
"  --nonall            --onall with no arguments: the command once on each\n",
          f);
    sshmore_help(f);
}
