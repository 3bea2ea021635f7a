/* The later -S options, GNU parallel's meaning for each: --env NAME (the
 * variables and exported bash functions a remote job gets), --basefile,
 * -M/--controlmaster, --sshdelay, --hostgroups, --rsync-opts and
 * --filter-hosts; their checks once all options are read, and their --help. --env _ and --record-env are in
 * recordenv.c. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static int env_names(const char *val)
{
    if (!*val)
        return -1;
    const char *p = val;
    for (;;) { /* --env A,B: both */
        size_t n = strcspn(p, ",");
        if (n) {
            char *d = strndup(p, n);
            if (!d || strv_push(&SSH.env, d) < 0) {
                free(d);
                return -1;
            }
        }
        if (!p[n])
            return 0;
        p += n + 1;
    }
}

int sshmore_option(int which, const char *val)
{
    switch (which) {
    case SSH_OPT_ENV:
        if (!strcmp(val, "_")) { /* settled once all are read */
            SSH.env_all = 1;
            return 0;
        }
        return env_names(val);
    case SSH_OPT_BASEFILE: {
        char *d = strdup(val);
        if (!*val || !d || strv_push(&SSH.basefile, d) < 0) {
            free(d);
            return -1;
        }
        return 0;
    }
    case SSH_OPT_CONTROLMASTER: SSH.controlmaster = 1; return 0;
    case SSH_OPT_SSHDELAY:
        return optval_secs(val, &SSH.sshdelay_ms) < 0 ? -1 : 0;
    case SSH_OPT_HOSTGROUPS: SSH.hostgroups = 1; return 0;
    case SSH_OPT_RECORD_ENV: return recordenv_write();
    case SSH_OPT_RSYNC_OPTS: SSH.rsync_opts = val; return 0;
    case SSH_OPT_FILTER_HOSTS: SSH.filter_hosts = 1; return 0;
    }
    return -1;
}

int sshmore_check(struct opts *o)
{
    if (SSH.sshdelay_ms > 0 && !o->delay_ms) /* GNU: --delay, if not given */
        o->delay_ms = SSH.sshdelay_ms;
    if (SSH.env_all && recordenv_add_all(&SSH.env) < 0)
        return -1;
    /* GNU's: the option, else the variable, else its default; and the
     * jobs see the one in use in $PARALLEL_RSYNC_OPTS. */
    if (!SSH.rsync_opts)
        SSH.rsync_opts = getenv("PARALLEL_RSYNC_OPTS");
    if (!SSH.rsync_opts || !*SSH.rsync_opts)
        SSH.rsync_opts = "-rlDzR";
    if (setenv("PARALLEL_RSYNC_OPTS", SSH.rsync_opts, 1) < 0)
        return -1;
    if (SSH.basefile.n && SSH.workdir && !strcmp(SSH.workdir, "...")) {
        for (size_t i = 0; i < SSH.basefile.n; i++)
            if (SSH.basefile.v[i][0] != '/') {
                cli_error("Work dir '...' will not work with relative "
                          "basefiles.");
                return -1;
            }
    }
    if (SSH.basefile.n && SSH.workdir && strchr(SSH.workdir, '{')) {
        cli_error("--basefile with a --workdir of replacement strings is "
                  "not supported");
        return -1;
    }
    return 0;
}

/* Whether login l answers `echo` over ssh: r, its popen'd check (NULL when
 * it could not start), is read and closed. */
static int answers(const struct login *l, FILE *r)
{
    char buf[8] = "";
    int up = r && fgets(buf, sizeof buf, r) && !strcmp(buf, "up\n");
    if (r)
        up &= pclose(r) == 0;
    return l->local || up;
}

int sshmore_filter_hosts(void)
{
    size_t n = SSH.nlogin, kept = 0, gone = 0;
    FILE **r = calloc(n, sizeof *r);
    struct login *order = malloc(n * sizeof *order);
    char *names = NULL;
    size_t len = 0;
    FILE *msg = r && order ? open_memstream(&names, &len) : NULL;
    if (!msg) {
        free(r);
        free(order);
        return -1;
    }
    /* All at once, as GNU's: 10 s each (its --timeout 10), no more. */
    for (size_t i = 0; i < n; i++) {
        const struct login *l = &SSH.login[i];
        char *q = l->local ? NULL : shell_quote(l->host), *cmd = NULL;
        if (q && asprintf(&cmd, "exec timeout 10 %s %s -- echo up "
                          "</dev/null 2>/dev/null", l->ssh, q) >= 0)
            r[i] = popen(cmd, "re");
        free(q);
        free(cmd);
    }
    for (size_t i = 0; i < n; i++) {
        if (answers(&SSH.login[i], r[i])) {
            order[kept++] = SSH.login[i];
            continue;
        }
        fprintf(msg, "%s%s", gone++ ? " " : "", SSH.login[i].str);
        order[n - gone] = SSH.login[i]; /* past nlogin: still freed */
    }
    fclose(msg);
    memcpy(SSH.login, order, n * sizeof *order);
    SSH.nlogin = kept;
    if (gone)
        fprintf(stderr, "eventor: Warning: Removed %s.\n", names);
    free(names);
    free(r);
    free(order);
    if (!kept) {
        cli_error("Cannot run any jobs.");
        return -2;
    }
    return 0;
}

/* The value of --env's name, or its bash function ("() {...}"). */
static const char *env_value(const char *name, int *func)
{
    char *fn = NULL;
    const char *v = getenv(name);
    *func = v && !strncmp(v, "() {", 4);
    if (v)
        return v;
    for (int i = 0; i < 2 && !v; i++) { /* bash's two spellings */
        if (asprintf(&fn, i ? "BASH_FUNC_%s()" : "BASH_FUNC_%s%%%%",
                     name) < 0)
            return NULL;
        v = getenv(fn);
        free(fn);
    }
    *func = v != NULL;
    return v;
}

/* The NAME=VALUE words of --env's variables, each quoted times times. */
void sshmore_env_vars(FILE *f, int times, void (*fq)(FILE *, const char *,
                                                      int))
{
    for (size_t i = 0; i < SSH.env.n; i++) {
        int func;
        const char *v = env_value(SSH.env.v[i], &func);
        char *w = NULL;
        if (!v || func || asprintf(&w, "%s=%s", SSH.env.v[i], v) < 0)
            continue;
        fputc(' ', f);
        fq(f, w, times);
        free(w);
    }
}

/* --env's bash functions as GNU parallel puts them before the command:
 * "name() {...};\nexport -f name 2> /dev/null;\n" each; "" for none. */
char *sshmore_env_funcs(void)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        return NULL;
    for (size_t i = 0; i < SSH.env.n; i++) {
        int func;
        const char *v = env_value(SSH.env.v[i], &func);
        if (v && func)
            fprintf(f, "%s%s;\nexport -f %s 2> /dev/null;\n", SSH.env.v[i],
                    v, SSH.env.v[i]);
    }
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

void sshmore_free(void)
{
    strv_free(&SSH.env);
    strv_free(&SSH.basefile);
    free(SSH.cm_dir);
}

void sshmore_help(FILE *f)
{
    fputs(
"  --env NAME[,NAME]   export NAME (a variable, or a bash function exported\n"
"                      with export -f) to the remote jobs (repeatable; jobs\n"
"                      here have the whole environment anyway); --env _:\n"
"                      every one not in $PARALLEL_HOME/ignored_vars\n"
"  --record-env        write the names of this environment's variables to\n"
"                      $PARALLEL_HOME/ignored_vars (~/.parallel) and exit\n"
"  --basefile, --bf FILE\n"
"                      rsync FILE to every remote login (into --workdir)\n"
"                      once, before its first job; removed with --cleanup\n"
"  -M, --controlmaster one ssh master connection a login (ControlMaster,\n"
"                      its socket in a private dir under --tmpdir, closed\n"
"                      and removed at exit); not for a login that names\n"
"                      its own ssh command\n"
"  --filter-hosts      first ask every login to run `echo` over ssh (10 s\n"
"                      at most) and drop those that fail, with a warning\n"
"  --rsync-opts OPTS   rsync's options for --transferfile, --return and\n"
"                      --basefile (default $PARALLEL_RSYNC_OPTS, or -rlDzR;\n"
"                      the jobs see it in $PARALLEL_RSYNC_OPTS)\n"
"  --sshdelay, --ssh-delay SECS\n"
"                      start no ssh sooner than SECS after the last one\n"
"                      (GNU: --delay SECS when --delay is not given)\n"
"  --hostgroups, --hgrp\n"
"                      an argument's @GRP[+GRP] (taken off it) names the\n"
"                      host groups its job may run on (-S @GRP[+GRP]/LOGIN\n"
"                      puts a login in groups, -S @GRP keeps only the\n"
"                      logins of GRP); with --plus, {host} {sshlogin}\n"
"                      {hgrp} {agrp} {slot} are their $PARALLEL_ variables\n",
          f);
}
