/* GNU parallel's options on when and how jobs end and start again, read
 * as GNU reads them: --termseq, --timeout N% (of the median runtime of the
 * jobs that succeeded), --retry-failed (the failed commands of a joblog run
 * again), --shuf, --nice, --memfree, --load, -j PROCFILE; and the
 * profile options, which profile.c has read before. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A signal by name (TERM, SIGTERM) or number: >0, or -1. */
static int signal_number(const char *s, size_t len)
{
    char name[16];
    if (len >= sizeof name || !len)
        return -1;
    memcpy(name, s, len);
    name[len] = 0;
    long n;
    if (optval_digits(name))
        return optval_long(name, &n) == 0 && n > 0 && n < NSIG ? (int)n : -1;
    const char *p = strncmp(name, "SIG", 3) ? name : name + 3;
    for (int sig = 1; sig < NSIG; sig++) {
        const char *abbrev = sigabbrev_np(sig);
        if (abbrev && !strcmp(abbrev, p))
            return sig;
    }
    return -1;
}

/* --termseq SIG,MS,SIG,MS...: a signal, then how long to wait for the job
 * to end before the next (a last signal without one: 0 ms). */
static int termseq(struct opts *o, const char *val)
{
    o->ntermseq = 0;
    for (const char *p = val; *p;) {
        size_t l = strcspn(p, ",");
        if ((size_t)o->ntermseq >= sizeof o->termseq / sizeof o->termseq[0])
            return -1;
        struct termstep *st = &o->termseq[o->ntermseq++];
        if ((st->sig = signal_number(p, l)) < 0)
            return -1;
        p += l + (p[l] == ',');
        st->ms = 0;
        if (!*p)
            break;
        char buf[16];
        l = strcspn(p, ",");
        long ms;
        if (l >= sizeof buf)
            return -1;
        memcpy(buf, p, l);
        buf[l] = 0;
        if (!optval_digits(buf) || optval_long(buf, &ms) < 0 || ms > INT_MAX)
            return -1;
        st->ms = (int)ms;
        p += l + (p[l] == ',');
    }
    return o->ntermseq ? 0 : -1;
}

/* GNU's --timeout N% (N may have decimals). */
static int timeout_pct(struct opts *o, const char *val)
{
    size_t l = strlen(val);
    char buf[32];
    if (l < 2 || l >= sizeof buf || val[l - 1] != '%' ||
        val[0] < '0' || val[0] > '9')
        return -1;
    memcpy(buf, val, l - 1);
    buf[l - 1] = 0;
    char *end;
    double d = strtod(buf, &end);
    if (*end || !(d > 0) || d > 1e9)
        return -1;
    o->timeout_pct = d / 100;
    o->timeout_ms = 0;
    return 0;
}

/* --load: N, N.N, +N, -N (CPUs plus, minus), N% of the CPUs. */
static int load_max(struct opts *o, const char *val)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN), n;
    size_t l = strlen(val);
    char *end;
    if (cpus < 1)
        cpus = 1;
    if ((val[0] == '+' || val[0] == '-') && optval_digits(val + 1) &&
        optval_long(val + 1, &n) == 0)
        o->load_max = (double)(val[0] == '+' ? cpus + n : cpus - n);
    else if (l > 1 && val[l - 1] == '%' && val[0] >= '0' && val[0] <= '9')
        o->load_max = (double)cpus * strtod(val, &end) / 100;
    else if (val[0] >= '0' && val[0] <= '9' &&
             ((o->load_max = strtod(val, &end)), !*end))
        ;
    else
        return -1;
    if (!(o->load_max >= 0) || o->load_max > 1e9)
        return -1;
    /* 0: no limit, as GNU parallel's false "0" */
    return 0;
}

int more_ask(const char *cmd)
{
    char line[256] = "";
    FILE *tty = fopen("/dev/tty", "re");
    if (!tty) {
        cli_error("--interactive: no terminal (/dev/tty): %s", strerror(errno));
        return -1;
    }
    fprintf(stderr, "%s ?...", cmd); /* GNU's prompt, no newline */
    /* A line (at the end of input: none, so no, where GNU asks forever);
     * a longer one is read to its end. */
    int got = fgets(line, sizeof line, tty) != NULL;
    for (char *nl = line; got && !strchr(nl, '\n');) {
        char rest[256];
        if (!fgets(rest, sizeof rest, tty))
            break;
        nl = rest;
    }
    fclose(tty);
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    return *p == 'y' || *p == 'Y';
}

int more_option(struct opts *o, int which, const char *val)
{
    long v;
    switch (which) {
    case MORE_OPT_PROFILE: /* read by profile.c before */
    case MORE_OPT_PLAIN: return 0;
    case MORE_OPT_TERMSEQ: return termseq(o, val);
    case MORE_OPT_RETRY_FAILED: o->retry_failed = 1; return 0;
    case MORE_OPT_SHUF: o->shuf = 1; return 0;
    case MORE_OPT_NICE:
        if (optval_long(val + (*val == '-' || *val == '+'), &v) < 0)
            return -1;
        o->nice = (int)(v > 40 ? 40 : v) * (*val == '-' ? -1 : 1);
        o->have_nice = 1;
        return 0;
    case MORE_OPT_MEMFREE:
        return optval_size(val, LONG_MAX, &o->memfree);
    case MORE_OPT_LOAD: return load_max(o, val);
    case MORE_OPT_LIMIT: return throttle_limit(o, val);
    case MORE_OPT_MEMSUSPEND:
        return optval_size(val, LONG_MAX, &o->memsuspend);
    case MORE_OPT_TIMEOUT_PCT: return timeout_pct(o, val);
    case MORE_OPT_PROCFILE: return gate_procfile(o, val);
    case MORE_OPT_SEMAPHORE: o->semaphore = 1; return 0;
    case MORE_OPT_FG: o->semaphore = o->sem_fg = 1; return 0;
    case MORE_OPT_BG: o->semaphore = 1; o->sem_fg = 0; return 0;
    case MORE_OPT_WAIT: o->semaphore = o->sem_wait = 1; return 0;
    case MORE_OPT_ID: o->semaphore = 1; o->sem_id = val; return *val ? 0 : -1;
    case MORE_OPT_CAT: o->pipe_cat = 1; return 0;
    case MORE_OPT_INTERACTIVE: o->interactive = 1; return 0;
    case MORE_OPT_SEM_TIMEOUT: {
        int64_t ms;
        o->semaphore = 1;
        if (optval_secs(val + (*val == '-'), &ms) < 0)
            return -1;
        o->sem_timeout_ms = *val == '-' ? -ms : ms;
        return 0;
    }
    }
    return -1;
}

/* One joblog line: Seq, then 7 fields, then the command; ok: it succeeded
 * (Exitval and Signal 0). 0, or -1 when it is not one. */
static int log_line(char *line, long *seq, int *ok, char **cmd)
{
    char *f[8], *p = line, *end;
    for (int k = 0; k < 8; k++) {
        f[k] = p;
        if (!(p = strchr(p, '\t')))
            return -1;
        *p++ = 0;
    }
    *seq = strtol(f[0], &end, 10);
    if (end == f[0] || *end || *seq < 1 || *seq > 100000000)
        return -1;
    *ok = !strcmp(f[6], "0") && !strcmp(f[7], "0");
    *cmd = p;
    return 0;
}

/* --retry-failed: the joblog's commands become the input (by Seq; those
 * that succeeded are skipped, as --resume-failed skips them), with no
 * command template; its lines are added to the same log. */
static int retry_failed(struct opts *o)
{
    FILE *f = fopen(o->joblog, "re");
    if (!f)
        return 0; /* GNU parallel: then a plain run */
    struct strv cmds = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    for (int first = 1; rc == 0 && (n = getline(&line, &cap, f)) > 0;
         first = 0) {
        if (line[n - 1] == '\n')
            line[--n] = 0;
        long seq;
        int ok;
        char *cmd;
        if (first) /* the header */
            continue;
        if (log_line(line, &seq, &ok, &cmd) < 0) {
            cli_error("Format of '%s' is wrong: %s", o->joblog, line);
            rc = -2;
            break;
        }
        while (rc == 0 && cmds.n < (size_t)seq)
            rc = strv_push(&cmds, strdup("")) < 0 ? -1 : 0;
        char *dup = rc ? NULL : strdup(ok ? "true" : cmd);
        if (!dup || cmds.v[seq - 1] == NULL)
            rc = -1;
        else {
            free(cmds.v[seq - 1]);
            cmds.v[seq - 1] = dup;
        }
    }
    free(line);
    fclose(f);
    for (size_t i = 0; i < cmds.n && rc == 0; i++)
        rc = cmds.v[i] ? 0 : -1;
    if (rc == 0) {
        for (size_t i = 0; i < o->nsrc; i++)
            strv_free(&o->src[i].items);
        o->nsrc = 0;
        o->cmd.n = 0; /* each line is the command */
        struct source *src = cmds.n ? realloc(o->src, sizeof *src) : NULL;
        if (src) { /* one ::: source of the commands */
            memset(src, 0, sizeof *src);
            src->items = cmds;
            memset(&cmds, 0, sizeof cmds);
            o->src = src;
            o->nsrc = 1;
        } else if (cmds.n) {
            rc = -1;
        }
        o->resume_failed = 1;
    }
    strv_free(&cmds);
    if (rc == -1)
        cli_error("out of memory");
    return rc ? -1 : 0;
}

/* --semaphore: one command, no input; -j 1 unless given. */
static int sem_check(struct opts *o)
{
    if (o->nsrc || o->pipe || o->dry_run || o->joblog || o->retry_failed) {
        cli_error("--semaphore runs one command: no ::: :::: -a, --pipe, "
                  "--dry-run, --joblog nor --retry-failed");
        return -1;
    }
    if (!o->cmd.n && !o->sem_wait) {
        cli_error("--semaphore needs a command");
        return -1;
    }
    if (!o->jobs_given)
        o->jobs = 1;
    return 0;
}

int more_check(struct opts *o)
{
    if (o->semaphore)
        return sem_check(o);
    if (o->retry_failed && o->joblog && retry_failed(o) < 0)
        return -1;
    if ((o->procfile || o->memfree || o->load_max) && o->pipe) {
        cli_error("-j FILE, --memfree and --load are not supported with "
                  "--pipe");
        return -1;
    }
    if (o->pipe_cat && !o->pipe) {
        cli_error("--cat is supported only with --pipe or --pipepart");
        return -1;
    }
    if (o->shuf && o->pipe) {
        cli_error("--shuf is not supported with --pipe");
        return -1;
    }
    return 0;
}

/* The timeouts: a fixed one, or N% of the median runtime (GNU's remedian
 * of the last 999 that succeeded: here their exact median, in numbers; GNU
 * sorts them as strings). Before any succeeded, no timeout. */
static double runtimes[999];
static size_t nrun, run_next;
static double median_s = -1;

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void more_succeeded(const struct opts *o, double runtime)
{
    if (!o->timeout_pct)
        return;
    runtimes[run_next] = (double)(long long)(runtime * 1000) / 1000;
    run_next = (run_next + 1) % 999;
    nrun += nrun < 999;
    double sorted[999];
    memcpy(sorted, runtimes, nrun * sizeof *sorted);
    qsort(sorted, nrun, sizeof *sorted, by_value);
    median_s = sorted[(nrun - 1) / 2];
}

int64_t more_deadline(const struct opts *o, int64_t t0)
{
    if (o->timeout_ms)
        return t0 + o->timeout_ms;
    if (!o->timeout_pct)
        return -1;
    if (median_s < 0)
        return t0 + 1000000000LL; /* GNU's 1,000,000 s */
    return t0 + (int64_t)(median_s * o->timeout_pct * 1000);
}

void more_help(FILE *f)
{
    fputs(
"Starting and stopping jobs, as GNU parallel:\n"
"  --termseq SIG,MS,...  the signals a job gets when it is killed (for\n"
"                      --timeout, --halt now, a second Ctrl-C, --memfree),\n"
"                      each then MS milliseconds to end (default\n"
"                      TERM,200,TERM,100,TERM,50,KILL,25)\n"
"  --retry-failed      with --joblog FILE: run again the commands that\n"
"                      failed in FILE, as logged (the command line and the\n"
"                      ::: sources given now are not used)\n"
"  --shuf              run the jobs in a random order (reads all input\n"
"                      first)\n"
"  --nice N            run the jobs with niceness N\n"
"  --memfree SIZE      start a job only while SIZE bytes are free (1G,\n"
"                      500M: K M G T 1024^n, k m g t 1000^n); below half\n"
"                      of SIZE, the youngest job is killed\n"
"  --cat               with --pipe or --pipepart: each job's block in a\n"
"                      temporary file named by {} (appended without one),\n"
"                      removed when the job is done, instead of its stdin\n"
"  --load MAX          start a job only while fewer than MAX processes are\n"
"                      running or waiting for the disk (N, N% of the CPUs,\n"
"                      +N, -N; 0: no limit)\n"
"  --limit \"CMD ARGS\"  run CMD ARGS before starting each job and while\n"
"                      jobs run: exit 0 starts one, 1 starts none, 2 also\n"
"                      kills the youngest job (Exitval -1 in the joblog);\n"
"                      built in: \"io N\" (the busiest disk over N% busy),\n"
"                      \"load N\" (as --load), \"mem SIZE\" (as --memfree)\n"
"  --memsuspend SIZE   with less than 2*SIZE free, stop (SIGSTOP) the\n"
"                      youngest jobs, all but one below SIZE; resume them\n"
"                      (SIGCONT) as memory comes back; start a job only\n"
"                      with SIZE free\n"
"Option files, read before the command line (not with --plain):\n"
"  /etc/parallel/config, then config in each of $PARALLEL_HOME,\n"
"  $XDG_CONFIG_HOME/parallel, $XDG_CONFIG_DIRS/parallel and ~/.parallel,\n"
"  then ~/.parallelrc: options, split as a shell splits words, a line\n"
"  starting with # ignored; then the options in $PARALLEL. Words that are\n"
"  not options start the command.\n"
"  -J, --profile NAME  read NAME in those directories (or the path NAME\n"
"                      when it starts with / or ./) instead of the config\n"
"                      files; may be given more than once\n"
"  --plain             read no option files nor $PARALLEL\n"
"Semaphore (GNU parallel's sem): eventor sem [OPTIONS] COMMAND, or\n"
"eventor --semaphore [OPTIONS] COMMAND (or the binary run as sem):\n"
"  run COMMAND once, holding one of the -j N (default 1) slots of the\n"
"  semaphore shared by every eventor with the same --id; in the background\n"
"  (exit 0 at once) unless --fg; its output written when it ends. A slot is\n"
"  an flock(2) on a file in $PARALLEL_HOME or ~/.parallel\n"
"  /eventor-semaphores/id-NAME: a holder that dies, even by kill -9, frees\n"
"  it (not shared with GNU parallel's own sem).\n"
"  --id, --semaphorename NAME  the semaphore (default: the terminal's name)\n"
"  --fg                run COMMAND in the foreground: its exit status\n"
"  --bg                in the background (the default)\n"
"  --wait              wait until no one holds the semaphore\n"
"  --st, --semaphore-timeout SECS  after SECS waiting, go ahead anyway\n"
"                      (-SECS: give up, exit 1)\n", f);
}
