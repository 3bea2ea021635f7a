/* Command-line parsing of the eventor command and its --help page. Options
 * come first (GNU parallel's spelling), then the command template, then the
 * input sources (:::, ::::, :::+, ::::+). A bad option is one line on stderr
 * and exit 255, before anything is opened or written. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("eventor: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int strv_push(struct strv *s, char *str)
{
    if (s->n + 1 >= s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = str;
    s->v[s->n] = NULL;
    return 0;
}

void strv_free(struct strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static const char help_text[] =
"Usage: eventor [OPTIONS] [COMMAND [ARGS...]] [::: ITEMS...] [:::: FILES...]\n"
"       producer | eventor [OPTIONS] [COMMAND [ARGS...]]\n"
"       eventor --plugin LIB.so:FN [PLUGIN OPTIONS] [FILE]\n"
"\n"
"Run COMMAND once per input item, several at a time, with each job's output\n"
"kept together. Compatible with GNU parallel where their options overlap.\n"
"\n"
"Input (one item per line, or per NUL byte with -0):\n"
"  ::: ITEMS...        the items themselves, on the command line\n"
"  :::: FILES...       items read from FILES (\"-\" is standard input)\n"
"  -a, --arg-file FILE items read from FILE (may be given more than once)\n"
"  (none of these)     items read from standard input\n"
"  Several sources are combined as GNU parallel does: every combination\n"
"  (the last source varies fastest), {1} {2} ... naming each source's value;\n"
"  :::+ and ::::+ (or --link for all) pair a source with the one before\n"
"  instead, item by item, the shorter ones starting over.\n"
"  Only the first source is streamed; the others are read whole.\n"
"\n"
"Placeholders in COMMAND (without any, the values are appended):\n"
"  {}      the item           {.}   without its extension\n"
"  {/}     its basename       {//}  its directory name (as dirname(1))\n"
"  {/.}    basename without extension\n"
"  {#}     the job's sequence number, from 1\n"
"  {%}     the job's slot number, 1 to the number of slots\n"
"  {N} {N.} {N/} {N//} {N/.}  the same for the value of source (or\n"
"          --colsep column) N\n"
"  Values are shell-quoted. A command with no shell syntax (no | & ; < > ( )\n"
"  $ ` \\ \" ' * ? [ ] { } # ~ = % ! or newline, and not a shell keyword or\n"
"  builtin) is started directly, without a shell; otherwise it runs as\n"
"  $PARALLEL_SHELL -c COMMAND (default /bin/sh). Without COMMAND each item is\n"
"  itself run as a command.\n"
"\n"
"Options:\n"
"  -j, --jobs N        run N jobs at once (default: the number of CPUs);\n"
"                      +N / -N: CPUs plus / minus N; N%: percent of the\n"
"                      CPUs; 0: as many as possible\n"
"  -k, --keep-order    write outputs in input order (jobs still run in\n"
"                      parallel); without -k in order of completion\n"
"  -X                  several items per command line; the word holding a\n"
"                      placeholder is repeated for each item\n"
"  -m                  several items per command line; a placeholder\n"
"                      becomes all the items, separated by spaces\n"
"                      (-X and -m fill lines up to the length limit, and\n"
"                      spread the items over the job slots when the input\n"
"                      is short)\n"
"  -n, --max-args N    at most N items per command line\n"
"  -0, --null          items are separated by NUL bytes, not newlines\n"
"  --colsep REGEX      split each item into columns {1} {2} ... at REGEX\n"
"                      (POSIX extended; \\t is a tab)\n"
"  --tag               prefix every output line with the item and a tab\n"
"  --dry-run           print the commands instead of running them\n"
"  --joblog FILE       log every finished job to FILE in GNU parallel's\n"
"                      format (Seq Host Starttime JobRuntime Send Receive\n"
"                      Exitval Signal Command, tab-separated; a job killed\n"
"                      for --timeout has Exitval -1); the log is rewritten\n"
"                      unless --resume or --resume-failed is given. A line\n"
"                      is written once the job's output is written.\n"
"  --resume            with --joblog: skip the jobs the log lists, run the\n"
"                      rest, append to the log\n"
"  --resume-failed     with --joblog: also run again the jobs the log lists\n"
"                      as failed\n"
"  --retries N         run a failing job up to N times in all; only the\n"
"                      last try's output and log line are kept\n"
"  --timeout SECS      kill a job running longer than SECS (decimals\n"
"                      allowed): SIGTERM, SIGTERM after 200 ms, SIGTERM\n"
"                      after 100 ms, SIGKILL after 50 ms, to its whole\n"
"                      process group\n"
"  --delay SECS        wait SECS between starting two jobs\n"
"  --halt WHEN,WHAT=N  stop on a condition: WHEN is now (kill the running\n"
"                      jobs) or soon (let them finish, start no more);\n"
"                      WHAT is fail, success or done; N a count or P%\n"
"                      of all jobs. --halt 0: never (the default); 1:\n"
"                      soon,fail=1; 2: now,fail=1\n"
"  --bar               a progress bar on stderr (reads all input first)\n"
"  --eta               the estimated time left on stderr (reads all input\n"
"                      first)\n"
"  --link              pair all sources item by item instead of combining\n"
"  --tmpdir DIR        where outputs wait to be written (default $TMPDIR,\n"
"                      else /tmp)\n"
"  --will-cite         accepted and ignored (GNU parallel compatibility)\n"
"  -h, --help          this text\n"
"  --version           the version\n"
"\n"
"Each job's standard input is /dev/null; its standard output and standard\n"
"error are kept in temporary files and written to eventor's when the job\n"
"ends, one job at a time (never interleaved). A job runs in a process group\n"
"of its own and is killed if eventor itself dies.\n"
"\n"
"Signals: the first SIGINT or SIGTERM stops starting jobs and lets the\n"
"running ones finish; a second one kills them. A summary is printed.\n"
"\n"
"Exit status: 0 if every job succeeded; 1-100 the number of jobs that\n"
"failed; 101 more than 100 failed; with --halt ...,fail=1 the exit status\n"
"of the failing job (128+signal if it was killed); with fail=P% the\n"
"percentage of jobs that failed; 255 on bad options, unreadable input and\n"
"other errors.\n"
"\n"
"Plugin mode: eventor --plugin LIB.so:FN [OPTIONS] [FILE]\n"
"  Runs the C function FN of the shared object LIB.so (a path; ./ for the\n"
"  current directory) over every line of FILE (default: standard input),\n"
"  and writes its results in input order, one line each.\n"
"  FN is an evt_batch_fn (see eventor.h): int FN(const evt_batch_task_t *t,\n"
"  void *out, size_t cap, size_t *out_len, void *user); t->item is the line\n"
"  without its newline; it returns 0, or an errno value for a failed line\n"
"  (reported on stderr, counted in the exit status). --plugin comes first.\n"
"  -c, --coroutines N  lines at once (default 100), in each process or\n"
"                      thread\n"
"  -P, --processes N   run FN in N worker processes, -c lines at once in\n"
"                      each (default 0: in this process). A regular FILE\n"
"                      is split by byte ranges between them (without\n"
"                      --unit); standard input goes line by line\n"
"  -T, --threads N     run FN on N threads of this process, -c lines at\n"
"                      once on each (FN must be thread-safe); a regular\n"
"                      FILE is split between them as for -P; not with -P\n"
"  --unit N            lines per chunk: each chunk runs to its end, then\n"
"                      --interval passes (the original Eventor's units)\n"
"  --interval SECS     the pause after each chunk\n"
"  --retries N         run a failed line again, up to N more times\n"
"  --timeout SECS      an attempt running longer fails (ETIMEDOUT)\n"
"  --bar               progress on stderr, and a final report\n"
"\n"
"Examples:\n"
"  eventor -j8 gzip ::: *.log\n"
"  find . -name '*.jpg' | eventor -k convert {} {.}.png\n"
"  eventor --joblog run.log --resume --retries 3 ./fetch {} :::: urls.txt\n"
"  eventor echo {1}-{2} ::: a b ::: 1 2        # a-1 a-2 b-1 b-2\n"
"  eventor --plugin ./add_ten.so:add_ten -c 3 --unit 3 --interval 1 data.txt\n";

void opts_help(FILE *f)
{
    fputs(help_text, f);
}

static int isdigit_str(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* Parse a non-negative decimal number of seconds into milliseconds. */
static int parse_secs(const char *s, int64_t *ms)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || *end || !(d >= 0) || d > 1e9)
        return -1;
    *ms = (int64_t)(d * 1000 + 0.5);
    return 0;
}

static int parse_long(const char *s, long *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *v = x;
    return 0;
}

static int parse_jobs(const char *s, long *jobs)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long v;
    size_t len = strlen(s);
    if (cpus < 1)
        cpus = 1;
    if (len > 1 && s[len - 1] == '%') {
        char buf[32];
        if (len > sizeof buf)
            return -1;
        memcpy(buf, s, len - 1);
        buf[len - 1] = 0;
        if (parse_long(buf, &v) < 0 || v < 0)
            return -1;
        v = cpus * v / 100;
    } else if (s[0] == '+' || s[0] == '-') {
        if (parse_long(s + 1, &v) < 0 || v < 0 || !isdigit_str(s + 1))
            return -1;
        v = s[0] == '+' ? cpus + v : cpus - v;
    } else {
        if (parse_long(s, &v) < 0 || v < 0)
            return -1;
        if (v == 0)
            v = 100000; /* "as many as possible": fds set the real bound */
    }
    *jobs = v < 1 ? 1 : v;
    return 0;
}

static int parse_halt(struct opts *o, const char *s)
{
    if (!strcmp(s, "0") || !strcmp(s, "never")) {
        o->halt_when = HALT_NEVER;
        return 0;
    }
    if (!strcmp(s, "1") || !strcmp(s, "2")) {
        o->halt_when = s[0] == '1' ? HALT_SOON : HALT_NOW;
        o->halt_kind = HALT_FAIL;
        o->halt_count = 1;
        return 0;
    }
    const char *comma = strchr(s, ',');
    if (!comma)
        return -1;
    size_t wl = (size_t)(comma - s);
    if (wl == 3 && !strncmp(s, "now", 3))
        o->halt_when = HALT_NOW;
    else if (wl == 4 && !strncmp(s, "soon", 4))
        o->halt_when = HALT_SOON;
    else
        return -1;
    const char *what = comma + 1, *eq = strchr(what, '=');
    if (!eq)
        return -1;
    size_t kl = (size_t)(eq - what);
    if (kl == 4 && !strncmp(what, "fail", 4))
        o->halt_kind = HALT_FAIL;
    else if (kl == 7 && !strncmp(what, "success", 7))
        o->halt_kind = HALT_SUCCESS;
    else if (kl == 4 && !strncmp(what, "done", 4))
        o->halt_kind = HALT_DONE;
    else
        return -1;
    const char *n = eq + 1;
    size_t nl = strlen(n);
    long v;
    if (nl > 1 && n[nl - 1] == '%') {
        char buf[16];
        if (nl > sizeof buf)
            return -1;
        memcpy(buf, n, nl - 1);
        buf[nl - 1] = 0;
        if (!isdigit_str(buf) || parse_long(buf, &v) < 0 || v < 1 || v > 100)
            return -1;
        o->halt_pct = v / 100.0;
        o->halt_count = 0;
    } else {
        if (!isdigit_str(n) || parse_long(n, &v) < 0 || v < 1)
            return -1;
        o->halt_count = v;
    }
    return 0;
}

static int compile_colsep(struct opts *o, const char *re)
{
    /* GNU parallel takes a Perl regex; translate the escapes people use. */
    size_t len = strlen(re);
    char *buf = malloc(len * 6 + 1), *w = buf; /* \s grows sixfold */
    if (!buf)
        return -1;
    for (const char *p = re; *p; p++) {
        if (p[0] == '\\' && p[1] == 't') {
            *w++ = '\t';
            p++;
        } else if (p[0] == '\\' && p[1] == 's') {
            w = stpcpy(w, "[[:space:]]");
            p++;
        } else {
            *w++ = *p;
        }
    }
    *w = 0;
    int rc = regcomp(&o->colsep, buf, REG_EXTENDED);
    free(buf);
    if (rc)
        return -1;
    o->have_colsep = 1;
    return 0;
}

enum {
    O_JOBS = 1, O_KEEP, O_X, O_M, O_MAXARGS, O_NULL, O_COLSEP, O_TAG, O_DRY,
    O_JOBLOG, O_RESUME, O_RESUME_FAILED, O_RETRIES, O_TIMEOUT, O_DELAY,
    O_HALT, O_BAR, O_ETA, O_LINK, O_TMPDIR, O_CITE, O_HELP, O_VERSION,
    O_ARGFILE,
};

static const struct optdef {
    const char *lng;
    char shrt;
    int arg; /* takes a value */
    int id;
} optdefs[] = {
    {"jobs", 'j', 1, O_JOBS},           {"max-procs", 'P', 1, O_JOBS},
    {"keep-order", 'k', 0, O_KEEP},     {NULL, 'X', 0, O_X},
    {NULL, 'm', 0, O_M},                {"max-args", 'n', 1, O_MAXARGS},
    {"null", '0', 0, O_NULL},           {"colsep", 'C', 1, O_COLSEP},
    {"tag", 0, 0, O_TAG},               {"dry-run", 0, 0, O_DRY},
    {"joblog", 0, 1, O_JOBLOG},         {"resume", 0, 0, O_RESUME},
    {"resume-failed", 0, 0, O_RESUME_FAILED},
    {"retries", 0, 1, O_RETRIES},       {"timeout", 0, 1, O_TIMEOUT},
    {"delay", 0, 1, O_DELAY},           {"halt", 0, 1, O_HALT},
    {"halt-on-error", 0, 1, O_HALT},    {"bar", 0, 0, O_BAR},
    {"eta", 0, 0, O_ETA},               {"link", 0, 0, O_LINK},
    {"xapply", 0, 0, O_LINK},           {"tmpdir", 0, 1, O_TMPDIR},
    {"will-cite", 0, 0, O_CITE},        {"help", 'h', 0, O_HELP},
    {"version", 0, 0, O_VERSION},       {"arg-file", 'a', 1, O_ARGFILE},
};

static int add_source(struct opts *o, int is_file, const char *path,
                      int linked)
{
    struct source *s = realloc(o->src, (o->nsrc + 1) * sizeof *s);
    if (!s)
        return -1;
    o->src = s;
    s += o->nsrc++;
    memset(s, 0, sizeof *s);
    s->is_file = is_file;
    s->path = path;
    s->linked = linked;
    return 0;
}

/* Apply one option; name is how the user spelled it, for messages. */
static int apply(struct opts *o, const struct optdef *d, const char *name,
                 const char *val)
{
    switch (d->id) {
    case O_JOBS:
        if (parse_jobs(val, &o->jobs) < 0)
            goto bad;
        break;
    case O_KEEP: o->keep_order = 1; break;
    case O_X: o->xmode = 'X'; o->spread = 1; break;
    case O_M: o->xmode = 'm'; o->spread = 1; break;
    case O_MAXARGS:
        if (parse_long(val, &o->max_args) < 0 || o->max_args < 1)
            goto bad;
        break;
    case O_NULL: o->null_sep = 1; break;
    case O_COLSEP:
        if (o->have_colsep)
            regfree(&o->colsep);
        o->have_colsep = 0;
        if (!*val || compile_colsep(o, val) < 0)
            goto bad;
        break;
    case O_TAG: o->tag = 1; break;
    case O_DRY: o->dry_run = 1; break;
    case O_JOBLOG:
        if (!*val)
            goto bad;
        o->joblog = val;
        break;
    case O_RESUME: o->resume = 1; break;
    case O_RESUME_FAILED: o->resume_failed = 1; break;
    case O_RETRIES:
        if (parse_long(val, &o->retries) < 0 || o->retries < 0)
            goto bad;
        if (o->retries == 0)
            o->retries = 1;
        break;
    case O_TIMEOUT:
        if (parse_secs(val, &o->timeout_ms) < 0 || o->timeout_ms == 0)
            goto bad;
        break;
    case O_DELAY:
        if (parse_secs(val, &o->delay_ms) < 0)
            goto bad;
        break;
    case O_HALT:
        if (parse_halt(o, val) < 0)
            goto bad;
        o->halt_given = 1;
        break;
    case O_BAR: o->bar = 1; break;
    case O_ETA: o->eta = 1; break;
    case O_LINK: o->link = 1; break;
    case O_TMPDIR:
        if (access(val, W_OK | X_OK) < 0) {
            cli_error("--tmpdir %s: %s", val, strerror(errno));
            return -1;
        }
        o->tmpdir = val;
        break;
    case O_CITE: break;
    case O_HELP:
        opts_help(stdout);
        return 1;
    case O_VERSION:
        printf("eventor %d.%d.%d\n", 0, 1, 0);
        return 1;
    case O_ARGFILE:
        if (add_source(o, 1, val, 0) < 0)
            return -1;
        break;
    }
    return 0;
bad:
    cli_error("invalid value for %s: '%s' (see eventor --help)", name, val);
    return -1;
}

static int is_sep(const char *a)
{
    return !strcmp(a, ":::") || !strcmp(a, "::::") || !strcmp(a, ":::+") ||
           !strcmp(a, "::::+");
}

/* Parse one option at argv[*i] (a long one, or a bundle of short ones). */
static int parse_option(struct opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    const size_t nd = sizeof optdefs / sizeof optdefs[0];
    if (a[1] == '-') {
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        for (size_t k = 0; k < nd; k++) {
            const struct optdef *d = &optdefs[k];
            if (!d->lng || strlen(d->lng) != len || strncmp(d->lng, name, len))
                continue;
            const char *val = NULL;
            if (d->arg) {
                if (eq)
                    val = eq + 1;
                else if (*i + 1 < argc)
                    val = argv[++*i];
                else {
                    cli_error("option --%s needs a value", d->lng);
                    return -1;
                }
            } else if (eq) {
                cli_error("option --%s takes no value", d->lng);
                return -1;
            }
            return apply(o, d, a, val);
        }
        cli_error("unknown option: %s (see eventor --help)", a);
        return -1;
    }
    for (const char *p = a + 1; *p; p++) {
        const struct optdef *d = NULL;
        for (size_t k = 0; k < nd && !d; k++)
            if (optdefs[k].shrt == *p)
                d = &optdefs[k];
        if (!d) {
            cli_error("unknown option: -%c (see eventor --help)", *p);
            return -1;
        }
        char name[3] = {'-', *p, 0};
        if (!d->arg) {
            int rc = apply(o, d, name, NULL);
            if (rc)
                return rc;
            continue;
        }
        const char *val = p[1] ? p + 1 : *i + 1 < argc ? argv[++*i] : NULL;
        if (!val) {
            cli_error("option %s needs a value", name);
            return -1;
        }
        return apply(o, d, name, val);
    }
    return 0;
}

int opts_parse(struct opts *o, int argc, char **argv)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    memset(o, 0, sizeof *o);
    o->jobs = cpus > 0 ? cpus : 1;
    o->retries = 1;
    o->tmpdir = getenv("TMPDIR");
    if (!o->tmpdir || !*o->tmpdir)
        o->tmpdir = "/tmp";
    o->shell = getenv("PARALLEL_SHELL");
    if (!o->shell || !*o->shell)
        o->shell = "/bin/sh";

    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) { /* the end of the options */
            i++;
            break;
        }
        if (a[0] != '-' || !a[1] || is_sep(a))
            break;
        int rc = parse_option(o, argc, argv, &i);
        if (rc)
            return rc;
    }
    for (; i < argc && !is_sep(argv[i]); i++)
        if (strv_push(&o->cmd, argv[i]) < 0)
            goto nomem;
    while (i < argc) {
        const char *sep = argv[i++];
        int is_file = strlen(sep) >= 4 && sep[3] == ':';
        int linked = sep[strlen(sep) - 1] == '+';
        if (linked && o->nsrc == 0) {
            cli_error("%s needs a source before it", sep);
            return -1;
        }
        if (!is_file && add_source(o, 0, NULL, linked) < 0)
            goto nomem;
        int any = 0;
        for (; i < argc && !is_sep(argv[i]); i++, any++) {
            if (is_file) {
                if (add_source(o, 1, argv[i], any ? 0 : linked) < 0)
                    goto nomem;
            } else {
                char *dup = strdup(argv[i]);
                if (!dup || strv_push(&o->src[o->nsrc - 1].items, dup) < 0)
                    goto nomem;
            }
        }
        if (is_file && !any) {
            cli_error("%s needs at least one file", sep);
            return -1;
        }
    }
    if ((o->resume || o->resume_failed) && !o->joblog) {
        cli_error("--resume and --resume-failed need --joblog FILE");
        return -1;
    }
    if (o->max_args && !o->xmode)
        o->xmode = 'm'; /* GNU parallel: -n N alone behaves as -m -n N */
    return 0;
nomem:
    cli_error("out of memory");
    return -1;
}

void opts_free(struct opts *o)
{
    for (size_t i = 0; i < o->nsrc; i++)
        strv_free(&o->src[i].items);
    free(o->src);
    free(o->cmd.v); /* the words are argv's */
    if (o->have_colsep)
        regfree(&o->colsep);
    memset(o, 0, sizeof *o);
}
