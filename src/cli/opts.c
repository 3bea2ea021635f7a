/* Command-line parsing of the eventor command and its --help page. Options
 * come first (GNU parallel's spelling), then the command template, then the
 * input sources (:::, ::::, :::+, ::::+). A bad option is one line on stderr
 * and exit 255, before anything is opened or written. */
#include "cli.h"
#include "eventor.h"

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
"  or:  producer | eventor [OPTIONS] [COMMAND [ARGS...]]\n"
"  or:  eventor --plugin LIB.so:FN [PLUGIN OPTIONS] [FILE]\n"
"  or:  eventor fetch [FETCH OPTIONS] [URL...]\n"
"  or:  eventor submit|worker|status|results|drop --broker redis://... ...\n"
"\n"
"Run COMMAND once per input item, several at a time, with each job's output\n"
"kept together. Compatible with GNU parallel where their options overlap.\n"
"\n"
"Input (one item per line, or per NUL byte with -0):\n"
"  ::: ITEMS...        the items themselves, on the command line\n"
"  :::: FILES...       items read from FILES (\"-\" is standard input)\n"
"  -a, --arg-file FILE\n"
"                      items read from FILE (may be given more than once)\n"
"  (none of these)     items read from standard input\n"
"  Several sources are combined as GNU parallel does: every combination\n"
"  (the last source varies fastest), {1} {2} ... naming each source's value;\n"
"  :::+ and ::::+ pair a source (each file after ::::+) with the one before\n"
"  instead, item by item, up to the end of the shortest; --link pairs all\n"
"  sources, the shorter ones starting over. An empty source is one empty\n"
"  value, unless every source is empty. A first :::+ is :::.\n"
"  Only the first source is streamed; the others are read whole.\n"
"\n"
"Placeholders in COMMAND (without any, the values are appended):\n"
"  {}      the item\n"
"  {.}     the item without its extension\n"
"  {/}     its basename\n"
"  {//}    its directory name (as dirname(1))\n"
"  {/.}    its basename without extension\n"
"  {#}     the job's sequence number, from 1\n"
"  {%}     the job's slot number, 1 to the number of slots\n"
"  {N} {N.} {N/} {N//} {N/.}\n"
"          the same for the value of source (or --colsep column) N:\n"
"          the Nth value of the command line, {-N} the Nth from the\n"
"          end, nothing past the end; {0} is {}\n"
"  {#} and {%} are placeholders too: with only those, nothing is appended.\n"
"  Values are shell-quoted, except when the command word itself starts\n"
"  with a placeholder (\"{}\", \"{1}\", \"my_{}\"): then the value is part of\n"
"  the command, unquoted, as in GNU parallel. A command with no shell\n"
"  syntax (no | & ; < > ( ) $ ` \\ \" ' * ? [ ] { } # ~ = % ! or newline,\n"
"  and not a shell keyword or builtin) is started directly, without a\n"
"  shell; otherwise it runs as\n"
"  $PARALLEL_SHELL -c COMMAND (default /bin/sh). Without COMMAND each item is\n"
"  itself run as a command.\n"
"\n"
"Options:\n"
"  -j, -P, --jobs, --max-procs N\n"
"                      run N jobs at once (default: the number of CPUs);\n"
"                      +N / -N: CPUs plus / minus N; N%: percent of the\n"
"                      CPUs; 0: as many as possible (at most 100000)\n"
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
"  -N, --max-replace-args N  N items per command line, {1}..{N} naming\n"
"                      them; words holding {} are repeated per item (as -X;\n"
"                      -N0: one item a job, none inserted)\n"
"  -L N                as -N N (with -m or --xargs as -n N); an item that\n"
"                      ends in a blank goes on with the next one\n"
"  --xargs             as many items per command line as fit (as -m, but\n"
"                      not spread over the job slots)\n"
"  -s, --max-chars N   a command line is shorter than N characters (at most\n"
"                      63664, the default, GNU parallel's); one item too\n"
"                      long: exit 255\n"
"  -I STR              STR instead of {} (and {N}); {.} {/} ... stay\n"
"  -q, --quote         each word of COMMAND is one argument, quoted (no\n"
"                      shell syntax in it)\n"
"  --shellquote        print each command line shell-quoted (once per\n"
"                      --shellquote) instead of running it\n"
"  -d, --delimiter D   items are separated by D (\\t \\n \\r \\0 \\NNN octal\n"
"                      understood; more than one character allowed)\n"
"  -r, --no-run-if-empty  skip items that are empty or only blanks\n"
"  -0, --null          items are separated by NUL bytes, not newlines\n"
"  --colsep REGEX      split each item into columns {1} {2} ... at REGEX\n"
"                      (POSIX extended; \\t is a tab, \\s a blank; at most\n"
"                      1000 characters, no stacked quantifiers like a+++ nor\n"
"                      repetitions that expand it past 20000 atoms)\n"
"  --tag               prefix every output line with the item and a tab\n"
"  --tagstring STR     prefix every output line with STR and a tab; STR's\n"
"                      placeholders get the values unquoted (\\t \\n ok)\n"
"  -v, --verbose       print each command line before its output\n"
"  -u, --ungroup       jobs write straight to eventor's stdout and stderr\n"
"                      (outputs may mix; the joblog's Receive is 0)\n"
"  --dry-run, --dryrun print the commands instead of running them (no\n"
"                      joblog is written)\n"
"  --joblog FILE       log every finished job to FILE in GNU parallel's\n"
"                      format (Seq Host Starttime JobRuntime Send Receive\n"
"                      Exitval Signal Command, tab-separated; a job killed\n"
"                      for --timeout has Exitval -1); the log is rewritten\n"
"                      unless --resume or --resume-failed is given;\n"
"                      --joblog +FILE appends, without a header. A line\n"
"                      is written once the job's output is written.\n"
"  --resume            with --joblog: skip the jobs the log lists, run the\n"
"                      rest, append to the log\n"
"  --resume-failed     with --joblog: also run again the jobs the log lists\n"
"                      as failed\n"
"  --retries N         run a failing job up to N times in all (0: until\n"
"                      it succeeds, as GNU parallel); only the\n"
"                      last try's output and log line are kept\n"
"  --timeout SECS      kill a job running longer than SECS (decimals,\n"
"                      or units: 0.5s 2m 1h30m 1d): SIGTERM, SIGTERM after\n"
"                      200 ms, SIGTERM\n"
"                      after 100 ms, SIGKILL after 50 ms, to its whole\n"
"                      process group\n"
"  --delay SECS        wait SECS between starting two jobs (units as for\n"
"                      --timeout)\n"
"  --halt, --halt-on-error WHEN,WHAT=N\n"
"                      stop on a condition: WHEN is now (kill the running\n"
"                      jobs) or soon (let them finish, start no more);\n"
"                      WHAT is fail, success or done; N a count or P%\n"
"                      of all jobs. --halt 0: never (the default); 1:\n"
"                      soon,fail=1; 2: now,fail=1\n"
"  --bar               a progress bar on stderr (reads all input first)\n"
"  --eta               the estimated time left on stderr (reads all input\n"
"                      first)\n"
"  --link, --xapply    pair all sources item by item instead of combining\n"
"  --tmpdir DIR        where outputs wait to be written (default $TMPDIR,\n"
"                      else /tmp)\n"
"  --env NAME          accepted: local jobs get all of eventor's environment\n"
"  --will-cite         accepted and ignored (GNU parallel compatibility)\n"
"  GNU parallel's other spellings work too: --dryrun --keeporder --maxprocs\n"
"  --maxargs --col-sep --argfile --maxreplaceargs --maxchars --norunifempty\n"
"  --shell_quote --tempdir --tag-string.\n"
"  -h, --help          this text\n"
"  --version           the version\n"
"\n"
"Each job's standard input is /dev/null; its standard output and standard\n"
"error are kept in temporary files and written to eventor's when the job\n"
"ends, one job at a time (never interleaved). A job runs in a process group\n"
"of its own and is killed if eventor itself dies. Its environment is\n"
"eventor's with PARALLEL_SEQ ({#}), PARALLEL_JOBSLOT ({%}),\n"
"PARALLEL_JOBSLOT0 ({%} - 1) and PARALLEL_PID (eventor's pid) set.\n"
"\n"
"Signals: the first SIGINT, SIGTERM or SIGHUP stops starting jobs and lets\n"
"the running ones finish; a second one kills them. A summary is printed.\n"
"After SIGINT or SIGTERM the exit status is 255, as GNU parallel's.\n"
"\n"
"Exit status: 0 if every job succeeded; 1-100 the number of jobs that\n"
"failed; 101 more than 100 failed; with --halt ...,fail=1 the exit status\n"
"of the failing job (128+signal if it was killed); with fail=P% the\n"
"percentage of jobs that failed; 255 on bad options, unreadable input and\n"
"other errors (a SIGINT or SIGTERM included); --halt ...,done=N (N > 1)\n"
"reached before any job failed: 101, as GNU parallel.\n"
"\n"
"Plugin mode: eventor --plugin LIB.so:FN [OPTIONS] [FILE]\n"
"  Runs the C function FN of the shared object LIB.so (a path; ./ for the\n"
"  current directory) over every line of FILE (default: standard input),\n"
"  and writes its results in input order, one line each.\n"
"  FN is an evt_batch_fn (see eventor.h): int FN(const evt_batch_task_t *t,\n"
"  void *out, size_t cap, size_t *out_len, void *user); t->item is the line\n"
"  without its newline; it returns 0, or -1 with errno set for a failed\n"
"  line (reported on stderr, counted in the exit status); a result longer\n"
"  than cap fails with EMSGSIZE. --plugin comes first.\n"
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
"Fetch mode: eventor fetch [OPTIONS] [URL...] (see eventor fetch --help)\n"
"  GETs (or -X METHOD) every URL given, or read from -a FILE or standard\n"
"  input, -j at once (default 100) through libcurl, with --retries,\n"
"  --timeout, --rate, -o DIR or --jsonl output, --joblog and --resume.\n"
"\n"
"On several machines (Redis): eventor submit --broker redis://HOST:PORT/NAME\n"
"  adds items to a batch; eventor worker --broker URL COMMAND (on any number\n"
"  of machines) runs COMMAND per item, its stdout the item's result;\n"
"  eventor status, results and drop (see eventor SUBCOMMAND --help).\n"
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
    pipe_help(f);
}

enum {
    O_JOBS = 1, O_KEEP, O_X, O_M, O_MAXARGS, O_NULL, O_COLSEP, O_TAG, O_DRY,
    O_JOBLOG, O_RESUME, O_RESUME_FAILED, O_RETRIES, O_TIMEOUT, O_DELAY,
    O_HALT, O_BAR, O_ETA, O_LINK, O_TMPDIR, O_CITE, O_HELP, O_VERSION,
    O_ARGFILE, O_MAXREPL, O_QUOTE, O_SHELLQUOTE, O_REPLACE, O_DELIM,
    O_NOEMPTY, O_XARGS, O_MAXCHARS, O_L, O_ENV, O_VERBOSE, O_UNGROUP,
    O_TAGSTRING, O_PIPE, /* then pipe.c's, in PIPE_OPT_* order */
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
    {"max-replace-args", 'N', 1, O_MAXREPL},
    {"quote", 'q', 0, O_QUOTE},         {"shellquote", 0, 0, O_SHELLQUOTE},
    {"shell-quote", 0, 0, O_SHELLQUOTE}, {NULL, 'I', 1, O_REPLACE},
    {"delimiter", 'd', 1, O_DELIM},     {"no-run-if-empty", 'r', 0, O_NOEMPTY},
    {"xargs", 0, 0, O_XARGS},           {"max-chars", 's', 1, O_MAXCHARS},
    {NULL, 'L', 1, O_L},
    {"env", 0, 1, O_ENV},               {"verbose", 'v', 0, O_VERBOSE},
    {"ungroup", 'u', 0, O_UNGROUP},     {"tagstring", 0, 1, O_TAGSTRING},
    {"tag-string", 0, 1, O_TAGSTRING},
    {"pipe", 0, 0, O_PIPE + PIPE_OPT_PIPE}, {"pipepart", 0, 0, O_PIPE + 5},
    {"block", 0, 1, O_PIPE + PIPE_OPT_BLOCK}, {"recstart", 0, 1, O_PIPE + 2},
    {"block-size", 0, 1, O_PIPE + 1},   {"blocksize", 0, 1, O_PIPE + 1},
    {"recend", 0, 1, O_PIPE + 3},       {"header", 0, 1, O_PIPE + 4},
    /* GNU parallel's other spellings */
    {"dryrun", 0, 0, O_DRY},            {"keeporder", 0, 0, O_KEEP},
    {"maxprocs", 0, 1, O_JOBS},         {"maxargs", 0, 1, O_MAXARGS},
    {"col-sep", 0, 1, O_COLSEP},        {"argfile", 0, 1, O_ARGFILE},
    {"maxreplaceargs", 0, 1, O_MAXREPL}, {"maxchars", 0, 1, O_MAXCHARS},
    {"norunifempty", 0, 0, O_NOEMPTY},  {"shell_quote", 0, 0, O_SHELLQUOTE},
    {"tempdir", 0, 1, O_TMPDIR},
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
        if (optval_jobs(val, &o->jobs) < 0)
            goto bad;
        break;
    case O_KEEP: o->keep_order = 1; break;
    case O_X: o->xmode = 'X'; o->spread = 1; break;
    case O_M: o->xmode = 'm'; o->spread = 1; o->xargs = 1; break;
    case O_MAXARGS:
        if (optval_long(val, &o->max_args) < 0 || o->max_args < 1)
            goto bad;
        break;
    case O_NULL:
        o->null_sep = 1;
        if (optval_delim(o, "\\0") < 0)
            return -1;
        break;
    case O_MAXREPL: /* -N: like -X for the words, N values a line */
        if (optval_count(val, 0, &o->max_args) < 0)
            goto bad;
        o->no_args = o->max_args == 0;
        o->max_args += o->no_args;
        o->context = 2; /* even with -m or --xargs */
        break;
    case O_L:
        if (optval_count(val, 1, &o->max_args) < 0)
            goto bad;
        o->line_continues = 1;
        o->context = 1;
        break;
    case O_QUOTE: o->quote_all = 1; break;
    case O_SHELLQUOTE: o->shellquote++; break;
    case O_REPLACE:
        if (!*val)
            goto bad;
        o->replace_str = strcmp(val, "{}") ? val : NULL;
        break;
    case O_DELIM:
        if (!*val || optval_delim(o, val) < 0)
            goto bad;
        break;
    case O_NOEMPTY: o->no_empty = 1; break;
    case O_XARGS: o->xargs = 1; break;
    case O_MAXCHARS:
        if (optval_count(val, 1, &o->max_chars) < 0)
            goto bad;
        if (o->max_chars > CLI_MAX_LINE) { /* GNU parallel's warning */
            fprintf(stderr, "eventor: Warning: Value for option -s should "
                            "be < %d.\n", CLI_MAX_LINE);
            o->max_chars = CLI_MAX_LINE;
        }
        break;
    case O_COLSEP:
        if (o->have_colsep)
            regfree(&o->colsep);
        o->have_colsep = 0;
        if (!*val)
            goto bad;
        switch (optval_colsep(o, val)) {
        case -1: goto bad;
        case -2: return -1;
        }
        break;
    case O_TAG: o->tag = 1; break;
    case O_DRY: o->dry_run = 1; break;
    case O_JOBLOG:
        o->joblog_append = val[0] == '+';
        o->joblog = val + o->joblog_append;
        if (!*o->joblog)
            goto bad;
        break;
    case O_ENV: /* local jobs inherit the whole environment anyway */
        if (!*val)
            goto bad;
        break;
    case O_VERBOSE: o->verbose = 1; break;
    case O_UNGROUP: o->ungroup = 1; break;
    case O_TAGSTRING:
        free((char *)o->tagstring);
        o->tagstring = NULL; /* '': no tag, as GNU parallel's "" is false */
        if (*val && !(o->tagstring = optval_escapes(val, NULL)))
            return -1;
        break;
    case O_RESUME: o->resume = 1; break;
    case O_RESUME_FAILED: o->resume_failed = 1; break;
    case O_RETRIES:
        if (optval_long(val, &o->retries) < 0 || o->retries < 0)
            goto bad;
        break;
    case O_TIMEOUT:
        if (optval_secs(val, &o->timeout_ms) < 0 || o->timeout_ms == 0)
            goto bad;
        break;
    case O_DELAY:
        if (optval_secs(val, &o->delay_ms) < 0)
            goto bad;
        break;
    case O_HALT:
        if (optval_halt(o, val) < 0)
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
        printf("eventor %s\n", evt_version());
        return 1;
    case O_ARGFILE:
        if (add_source(o, 1, val, 0) < 0)
            return -1;
        break;
    default:
        if (d->id >= O_PIPE && pipe_option(o, d->id - O_PIPE, val) < 0)
            goto bad;
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

/* GNU parallel's {= perl =} (across words too): refused, never run as
 * text. */
static int has_perl_expr(const struct opts *o)
{
    int open = 0;
    for (size_t i = 0; i <= o->cmd.n; i++) {
        const char *w = i < o->cmd.n ? o->cmd.v[i] : o->tagstring;
        for (const char *p = w; p && *p; p++) {
            if (p[0] == '{' && p[1] == '=')
                open = 1, p++;
            else if (open && p[0] == '=' && p[1] == '}')
                return 1;
        }
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
        /* a first :::+ has nothing to link to: GNU takes it as ::: */
        if (!is_file && add_source(o, 0, NULL, linked) < 0)
            goto nomem;
        int any = 0;
        for (; i < argc && !is_sep(argv[i]); i++, any++) {
            if (is_file) {
                if (add_source(o, 1, argv[i], linked) < 0) /* each file */
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
    if (has_perl_expr(o)) {
        cli_error("{= perl expression =} is not supported (use {} {.} {/} "
                  "... or a shell command)");
        return -1;
    }
    if ((o->resume || o->resume_failed) && !o->joblog) {
        cli_error("--resume and --resume-failed need --joblog FILE");
        return -1;
    }
    /* GNU parallel: -N and -L repeat the words as -X does, unless -m or
     * --xargs is given; -n N alone behaves as -m -n N. */
    if ((o->context && !o->xargs && !o->xmode) || o->context == 2)
        o->xmode = 'X';
    if ((o->max_args || o->xargs) && !o->xmode)
        o->xmode = 'm';
    if (o->shellquote)
        o->dry_run = 1; /* it prints the quoted command lines */
    return pipe_check(o);
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
    free(o->delim);
    free((char *)o->tagstring);
    memset(o, 0, sizeof *o);
}
