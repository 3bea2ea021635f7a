/* Command-line parsing of the eventor command and its --help page. Options
 * come first (GNU parallel's spelling), then the command template, then the
 * input sources (:::, ::::, :::+, ::::+). A bad option is one line on stderr
 * and exit 255, before anything is opened or written. */
#include "cli.h"
#include "pipemore.h"
#include "perlexpr.h"
#include "spell.h"
#include "misc.h"
#include "eventor.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The --profile/-J values and --plain, gathered before anything else is
 * applied (GNU parallel reads the profiles first); quiet meanwhile. */
static struct scan {
    char *prof[16];
    size_t nprof;
    int plain;
} *scanning;

void cli_error(const char *fmt, ...)
{
    if (scanning)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("eventor: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

enum {
    O_JOBS = 1, O_KEEP, O_X, O_M, O_MAXARGS, O_NULL, O_COLSEP, O_TAG, O_DRY,
    O_JOBLOG, O_RESUME, O_RESUME_FAILED, O_RETRIES, O_TIMEOUT, O_DELAY,
    O_HALT, O_BAR, O_ETA, O_LINK, O_TMPDIR, O_CITE, O_HELP, O_VERSION,
    O_ARGFILE, O_MAXREPL, O_QUOTE, O_SHELLQUOTE, O_REPLACE, O_DELIM,
    O_NOEMPTY, O_XARGS, O_MAXCHARS, O_L, O_VERBOSE, O_UNGROUP,
    O_TAGSTRING, O_CTAG, O_CTAGSTRING, O_COLOR, O_COLOR_FAILED,
    O_PIPE, /* then pipe.c's, in PIPE_OPT_* order */
    /* gnu-results: then gnuopt.c's, in GR_OPT_* order */
    O_GR = O_PIPE + 16,
    O_MORE = O_GR + 16, /* gnu-more: then more.c's, in MORE_OPT_* order */
    O_SSH = O_MORE + 32, /* sshlogin: then sshlogin.c's, SSH_OPT_* order */
    O_SPELL = O_SSH + 32, /* spelling: then spell.c's, SPELL_OPT_* order */
    O_PERL = O_SPELL + 32, /* perl17: then perlexpr.c's, PERL_OPT_* order */
    O_PX = O_PERL + 32, /* pipe-more: then pipemore.c's, PIPEX_OPT_* order */
    O_MISC = O_PX + 32, /* gnumisc: then misc.h's, MISC_OPT_* order */
};

/* The ids of the later groups' options, in their own files' order. */
#define GR(x) (O_GR + GR_OPT_##x)
#define MORE(x) (O_MORE + MORE_OPT_##x)
#define SSHOPT(x) (O_SSH + SSH_OPT_##x)
#define SPELL(x) (O_SPELL + SPELL_OPT_##x)
#define PX(x) (O_PX + PIPEX_OPT_##x)
#define MISC(x) (O_MISC + MISC_OPT_##x)

/* Whether an option takes a value: GNU's optional ones (Getopt::Long's
 * :s and :i) take the next word unless it looks like an option (OPT_STR)
 * or is not a number (OPT_INT); left_out() says their value then. */
enum { NO_VAL, VAL, OPT_STR, OPT_INT };

static const struct optdef {
    const char *lng;
    char shrt;
    int arg; /* NO_VAL, VAL, OPT_STR or OPT_INT */
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
    {NULL, 'L', 1, O_L},                {NULL, 'v', 0, O_VERBOSE},
    {"ungroup", 'u', 0, O_UNGROUP},     {"tagstring", 0, 1, O_TAGSTRING},
    {"tag-string", 0, 1, O_TAGSTRING},  {"ctag", 0, 0, O_CTAG},
    {"ctagstring", 0, 1, O_CTAGSTRING}, {"ctag-string", 0, 1, O_CTAGSTRING},
    {"color", 0, 0, O_COLOR},           {"colour", 0, 0, O_COLOR},
    {"color-failed", 0, 0, O_COLOR_FAILED}, {"cf", 0, 0, O_COLOR_FAILED},
    {"pipe", 0, 0, O_PIPE + PIPE_OPT_PIPE}, {"pipepart", 0, 0, O_PIPE + 5},
    {"block", 0, 1, O_PIPE + PIPE_OPT_BLOCK}, {"recstart", 0, 1, O_PIPE + 2},
    {"block-size", 0, 1, O_PIPE + 1},   {"blocksize", 0, 1, O_PIPE + 1},
    {"recend", 0, 1, O_PIPE + 3},       {"header", 0, 1, O_PIPE + 4},
    {"remove-rec-sep", 0, 0, O_PIPE + PIPE_OPT_RRS},
    {"removerecsep", 0, 0, O_PIPE + PIPE_OPT_RRS},
    {"rrs", 0, 0, O_PIPE + PIPE_OPT_RRS},
    {"block-timeout", 0, 1, O_PIPE + PIPE_OPT_BT},
    {"blocktimeout", 0, 1, O_PIPE + PIPE_OPT_BT},
    {"bt", 0, 1, O_PIPE + PIPE_OPT_BT},
    /* GNU parallel's other spellings */
    {"dryrun", 0, 0, O_DRY},            {"keeporder", 0, 0, O_KEEP},
    {"maxprocs", 0, 1, O_JOBS},         {"maxargs", 0, 1, O_MAXARGS},
    {"col-sep", 0, 1, O_COLSEP},        {"argfile", 0, 1, O_ARGFILE},
    {"maxreplaceargs", 0, 1, O_MAXREPL}, {"maxchars", 0, 1, O_MAXCHARS},
    {"norunifempty", 0, 0, O_NOEMPTY},  {"shell_quote", 0, 0, O_SHELLQUOTE},
    {"tempdir", 0, 1, O_TMPDIR},        {"jl", 0, 1, O_JOBLOG},
    {"pipe-part", 0, 0, O_PIPE + 5},    {"spreadstdin", 0, 0, O_PIPE + PIPE_OPT_PIPE},
    {NULL, 'V', 0, O_VERSION},          {"max-lines", 'l', OPT_INT, O_L},
    {"replace", 'i', OPT_STR, O_REPLACE}, {NULL, 'e', OPT_STR, SPELL(EOF)},
    /* gnu-results */
    {"results", 0, 1, GR(RESULTS)},     {"result", 0, 1, GR(RESULTS)},
    {"res", 0, 1, GR(RESULTS)},         {"files", 0, 0, GR(FILES)},
    {"output-as-files", 0, 0, GR(FILES)}, {"outputasfiles", 0, 0, GR(FILES)},
    {"trim", 0, 1, GR(TRIM)},           {"csv", 0, 0, GR(CSV)},
    {"plus", 0, 0, GR(PLUS)},           {"line-buffer", 0, 0, GR(LINEBUF)},
    {"linebuffer", 0, 0, GR(LINEBUF)},  {"lb", 0, 0, GR(LINEBUF)},
    /* gnu-more */
    {"profile", 'J', 1, MORE(PROFILE)}, {"plain", 0, 0, MORE(PLAIN)},
    {"termseq", 0, 1, MORE(TERMSEQ)},  {"term-seq", 0, 1, MORE(TERMSEQ)},
    {"retry-failed", 0, 0, MORE(RETRY_FAILED)},
    {"retryfailed", 0, 0, MORE(RETRY_FAILED)}, {"shuf", 0, 0, MORE(SHUF)},
    {"nice", 0, 1, MORE(NICE)},         {"memfree", 0, 1, MORE(MEMFREE)},
    {"load", 0, 1, MORE(LOAD)},         {"semaphore", 0, 0, MORE(SEMAPHORE)},
    {"limit", 0, 1, MORE(LIMIT)},       {"memsuspend", 0, 1, MORE(MEMSUSPEND)},
    {"fg", 0, 0, MORE(FG)},             {"bg", 0, 0, MORE(BG)},
    {"wait", 0, 0, MORE(WAIT)},         {"id", 0, 1, MORE(ID)},
    {"semaphorename", 0, 1, MORE(ID)},  {"semaphore-name", 0, 1, MORE(ID)},
    {"semaphoretimeout", 0, 1, MORE(SEM_TIMEOUT)},
    {"semaphore-timeout", 0, 1, MORE(SEM_TIMEOUT)},
    {"st", 0, 1, MORE(SEM_TIMEOUT)},    {"cat", 0, 0, MORE(CAT)},
    {"interactive", 'p', 0, MORE(INTERACTIVE)},
    /* sshlogin */
    /* spell.c: separators, renamed replacement strings, facts */
    {"arg-sep", 0, 1, SPELL(ARG_SEP)},  {"argsep", 0, 1, SPELL(ARG_SEP)},
    {"arg-file-sep", 0, 1, SPELL(ARG_FILE_SEP)},
    {"argfilesep", 0, 1, SPELL(ARG_FILE_SEP)},
    {"eof", 'E', 1, SPELL(EOF)},        {"extensionreplace", 0, 1, SPELL(ER)},
    {"er", 0, 1, SPELL(ER)},            {"basenamereplace", 0, 1, SPELL(BNR)},
    {"bnr", 0, 1, SPELL(BNR)},          {"dirnamereplace", 0, 1, SPELL(DNR)},
    {"dnr", 0, 1, SPELL(DNR)},          {"bner", 0, 1, SPELL(BNER)},
    {"basenameextensionreplace", 0, 1, SPELL(BNER)},
    {"seqreplace", 0, 1, SPELL(SEQ)},   {"slotreplace", 0, 1, SPELL(SLOT)},
    {"number-of-cpus", 0, 0, SPELL(NCPUS)},
    {"number-of-cores", 0, 0, SPELL(NCORES)},
    {"number-of-sockets", 0, 0, SPELL(NSOCKETS)},
    {"number-of-threads", 0, 0, SPELL(NTHREADS)},
    {"max-line-length-allowed", 0, 0, SPELL(MAXLINE)},
    {"tty", 0, 0, SPELL(TTY)},          {"progress", 0, 0, SPELL(PROGRESS)},
    {"process-slot-var", 0, 1, SPELL(SLOT_VAR)},
    {"noswap", 0, 0, SPELL(NOSWAP)},     {"verbose", 't', 0, SPELL(VERBOSE)},
    {"gnu", 0, 0, SPELL(GNU)},          {"silent", 0, 0, SPELL(SILENT)},
    {"group", 0, 0, SPELL(GROUP)},      {"no-keep-order", 0, 0, SPELL(NO_KEEP)},
    {"minversion", 0, 1, SPELL(MINVERSION)},
    {"skip-first-line", 0, 0, SPELL(SKIP_FIRST)},
    {"total-jobs", 0, 1, SPELL(TOTAL)}, {"total", 0, 1, SPELL(TOTAL)},
    {"shebang", 0, 0, SPELL(SHEBANG)},  {"hashbang", 0, 0, SPELL(SHEBANG)},
    {"use-cpus-instead-of-cores", 0, 0, SPELL(USE_CHOICE)},
    {"use-cores-instead-of-threads", 0, 0, SPELL(USE_CHOICE)},
    {"use-sockets-instead-of-threads", 0, 0, SPELL(USE_CHOICE)},
    {"sshlogin", 'S', 1, SSHOPT(LOGIN)}, {"sshloginfile", 0, 1, SSHOPT(SLF)},
    {"slf", 0, 1, SSHOPT(SLF)},         {"ssh", 0, 1, SSHOPT(SSH)},
    {"workdir", 0, 1, SSHOPT(WORKDIR)}, {"wd", 0, 1, SSHOPT(WORKDIR)},
    {"transfer", 0, 0, SSHOPT(TRANSFER)},
    {"transferfile", 0, 1, SSHOPT(TRANSFERFILE)},
    {"transfer-file", 0, 1, SSHOPT(TRANSFERFILE)},
    {"tf", 0, 1, SSHOPT(TRANSFERFILE)}, {"return", 0, 1, SSHOPT(RETURN)},
    {"cleanup", 0, 0, SSHOPT(CLEANUP)}, {"trc", 0, 1, SSHOPT(TRC)},
    {"onall", 0, 0, SSHOPT(ONALL)},     {"nonall", 0, 0, SSHOPT(NONALL)},
    /* perl17 */
    {"rpl", 0, 1, O_PERL + PERL_OPT_RPL}, {"parens", 0, 1, O_PERL + PERL_OPT_PARENS},
    {"filter", 0, 1, O_PERL + PERL_OPT_FILTER},
    /* sshlogin, more (sshmore.c; --env too) */
    {"basefile", 0, 1, SSHOPT(BASEFILE)}, {"bf", 0, 1, SSHOPT(BASEFILE)},
    {"controlmaster", 'M', 0, SSHOPT(CONTROLMASTER)}, {"env", 0, 1, SSHOPT(ENV)},
    {"sshdelay", 0, 1, SSHOPT(SSHDELAY)}, {"ssh-delay", 0, 1, SSHOPT(SSHDELAY)},
    {"hostgroups", 0, 0, SSHOPT(HOSTGROUPS)}, {"hgrp", 0, 0, SSHOPT(HOSTGROUPS)},
    {"hostgroup", 0, 0, SSHOPT(HOSTGROUPS)}, {"hostgrp", 0, 0, SSHOPT(HOSTGROUPS)},
    {"record-env", 0, 0, SSHOPT(RECORD_ENV)}, {"recordenv", 0, 0, SSHOPT(RECORD_ENV)},
    {"rsync-opts", 0, 1, SSHOPT(RSYNC_OPTS)},
    {"filter-hosts", 0, 0, SSHOPT(FILTER_HOSTS)},
    /* pipe-more */
    {"regexp", 0, 0, PX(REGEXP)},       {"regex", 0, 0, PX(REGEXP)},
    {"round-robin", 0, 0, PX(RR)},      {"roundrobin", 0, 0, PX(RR)},
    {"round", 0, 0, PX(RR)},            {"tee", 0, 0, PX(TEE)},
    {"group-by", 0, 1, PX(GROUP_BY)},   {"groupby", 0, 1, PX(GROUP_BY)},
    {"fifo", 0, 0, PX(FIFO)},
    {"shard", 0, 1, PX(SHARD)},         {"bin", 0, 1, PX(BIN)},
    /* gnumisc */
    {"tmpl", 0, 1, MISC(TMPL)},         {"template", 0, 1, MISC(TMPL)},
    {"_pipe-means-argfiles", 0, 0, MISC(PIPE_ARGFILES)},
    {"exit", 'x', 0, MISC(EXIT)},       {"show-limits", 0, 0, MISC(SHOW_LIMITS)},
    {"showlimits", 0, 0, MISC(SHOW_LIMITS)},
    {"open-tty", 'o', 0, MISC(OPEN_TTY)}, {"compress", 0, 0, MISC(COMPRESS)},
    {"compress-program", 0, 1, MISC(COMPRESS_PRG)},
    {"use-compress-program", 0, 1, MISC(COMPRESS_PRG)},
    {"compressprogram", 0, 1, MISC(COMPRESS_PRG)},
    {"usecompressprogram", 0, 1, MISC(COMPRESS_PRG)},
    {"decompress-program", 0, 1, MISC(DECOMPRESS_PRG)},
    {"use-decompress-program", 0, 1, MISC(DECOMPRESS_PRG)},
    {"decompressprogram", 0, 1, MISC(DECOMPRESS_PRG)},
    {"usedecompressprogram", 0, 1, MISC(DECOMPRESS_PRG)},
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

/* apply_*: 0 done, -1 error reported, 1 stop (--help, --version), BAD a
 * bad value (the caller names it), NOT_MINE another group's option. */
enum { BAD = 2, NOT_MINE = 3 };

/* Options that say how items are read and placed on command lines. */
static int apply_items(struct opts *o, int id, const char *val)
{
    switch (id) {
    case O_X: o->xmode = 'X'; o->spread = 1; break;
    case O_M: o->xmode = 'm'; o->spread = 1; o->xargs = 1; break;
    case O_MAXARGS:
        return optval_long(val, &o->max_args) < 0 || o->max_args < 1 ? BAD
                                                                     : 0;
    case O_NULL:
        o->null_sep = 1;
        return optval_delim(o, "\\0");
    case O_MAXREPL: /* -N: like -X for the words, N values a line */
        if (optval_count(val, 0, &o->max_args) < 0)
            return BAD;
        o->no_args = o->max_args == 0;
        o->max_args += o->no_args;
        o->context = 2; /* even with -m or --xargs */
        break;
    case O_L:
        if (optval_count(val, 1, &o->max_args) < 0)
            return BAD;
        o->line_continues = 1;
        o->context = 1;
        break;
    case O_QUOTE: o->quote_all = 1; break;
    case O_SHELLQUOTE: o->shellquote++; break;
    case O_REPLACE:
        if (!*val)
            return BAD;
        o->rpl_name[TMPL_NAME_ARG] = strcmp(val, "{}") ? val : NULL;
        break;
    case O_DELIM: return !*val || optval_delim(o, val) < 0 ? BAD : 0;
    case O_NOEMPTY: o->no_empty = 1; break;
    case O_XARGS: o->xargs = 1; break;
    case O_MAXCHARS:
        if (optval_count(val, 1, &o->max_chars) < 0)
            return BAD;
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
            return BAD;
        o->colsep_raw = val; /* gnu-results: --csv's separator */
        switch (optval_colsep(o, val)) {
        case -1: return BAD;
        case -2: return -1;
        }
        break;
    case O_LINK: o->link = 1; break;
    case O_ARGFILE: return add_source(o, 1, val, 0);
    default: return NOT_MINE;
    }
    return 0;
}

/* Options that say how jobs run and what is written about them. */
static int apply_jobs(struct opts *o, int id, const char *val)
{
    switch (id) {
    case O_JOBS: /* gnu-more: or a file that holds the count */
        o->jobs_given = 1;
        if (optval_jobs(val, &o->jobs) == 0)
            return 0;
        switch (more_option(o, MORE_OPT_PROCFILE, val)) {
        case 0: return 0;
        case -2: return -1;
        }
        return BAD;
    case O_KEEP: o->keep_order = 1; break;
    case O_TAG: o->tag = 1; break;
    case O_CTAG: o->color = o->tag = 1; break; /* --tag in colour */
    case O_COLOR: o->color = 1; break;
    case O_COLOR_FAILED: o->color_failed = 1; break;
    case O_DRY: o->dry_run = 1; break;
    case O_JOBLOG:
        o->joblog_append = val[0] == '+';
        o->joblog = val + o->joblog_append;
        return *o->joblog ? 0 : BAD;
    case O_VERBOSE: o->verbose = 1; break;
    case O_UNGROUP: o->ungroup = 1; break;
    case O_CTAGSTRING: /* --tagstring in colour */
        o->color = 1;
        return apply_jobs(o, O_TAGSTRING, val);
    case O_TAGSTRING:
        free((char *)o->tagstring);
        o->tagstring = NULL; /* '': no tag, as GNU parallel's "" is false */
        if (*val && !(o->tagstring = optval_escapes(val, NULL)))
            return -1;
        break;
    case O_RESUME: o->resume = 1; break;
    case O_RESUME_FAILED: o->resume_failed = 1; break;
    case O_RETRIES:
        return optval_long(val, &o->retries) < 0 || o->retries < 0 ? BAD : 0;
    case O_TIMEOUT:
        if (strchr(val, '%')) /* gnu-more */
            return more_option(o, MORE_OPT_TIMEOUT_PCT, val) ? BAD : 0;
        o->timeout_pct = 0;
        return optval_secs(val, &o->timeout_ms) < 0 || o->timeout_ms == 0
                   ? BAD : 0;
    case O_DELAY: return optval_secs(val, &o->delay_ms) < 0 ? BAD : 0;
    case O_HALT:
        o->halt_given = 1;
        return optval_halt(o, val) < 0 ? BAD : 0;
    case O_BAR: o->bar = 1; break;
    case O_ETA: o->eta = 1; break;
    case O_TMPDIR:
        if (access(val, W_OK | X_OK) < 0) {
            cli_error("--tmpdir %s: %s", val, strerror(errno));
            return -1;
        }
        o->tmpdir = val;
        break;
    default: return NOT_MINE;
    }
    return 0;
}

/* Apply one option; name is how the user spelled it, for messages. */
static int apply(struct opts *o, const struct optdef *d, const char *name,
                 const char *val)
{
    if (scanning) {
        struct scan *sc = scanning;
        if (d->id == O_MORE + MORE_OPT_PLAIN)
            sc->plain = 1;
        else if (d->id == O_MORE + MORE_OPT_PROFILE && sc->nprof < 16)
            sc->prof[sc->nprof++] = (char *)val;
        return 0;
    }
    int rc = apply_items(o, d->id, val);
    if (rc == NOT_MINE)
        rc = apply_jobs(o, d->id, val);
    if (rc == NOT_MINE) {
        switch (d->id) {
        case O_HELP:
            opts_help(stdout);
            return 1;
        case O_VERSION:
            printf("eventor %s\n", evt_version());
            return 1;
        case O_CITE:
            return 0;
        }
        if (d->id >= O_MISC) { /* gnumisc: -2: it said why */
            rc = misc_option(o, d->id - O_MISC, val);
            rc = rc == -2 ? -1 : rc < 0 ? BAD : 0;
        } else if (d->id >= O_PX) { /* pipe-more: -2: it said why */
            rc = pipex_option(o, d->id - O_PX, val);
            rc = rc == -2 ? -1 : rc < 0 ? BAD : 0;
        } else if (d->id >= O_PERL) { /* perl17 */
            rc = perl_option(o, d->id - O_PERL, val) < 0 ? BAD : 0;
        } else if (d->id >= O_SPELL) { /* spelling: 1 printed a fact */
            rc = spell_option(o, d->id - O_SPELL, val);
            rc = rc == -2 ? -1 : rc < 0 ? BAD : rc;
        } else if (d->id >= O_SSH) { /* sshlogin: -2: it said why */
            rc = sshlogin_option(o, d->id - O_SSH, val);
            rc = rc == -2 ? -1 : rc < 0 ? BAD : rc; /* 1: done, exit 0 */
        } else if (d->id >= O_MORE) { /* gnu-more: -1 a bad value, -2 reported */
            rc = more_option(o, d->id - O_MORE, val);
            rc = rc == -2 ? -1 : rc == -1 ? BAD : rc;
        } else if (d->id >= O_GR) /* gnu-results */
            rc = gr_option(o, d->id - O_GR, val) < 0 ? BAD : 0;
        else
            rc = pipe_option(o, d->id - O_PIPE, val) < 0 ? BAD : 0;
    }
    if (rc == BAD)
        cli_error("invalid value for %s: '%s' (see eventor --help)", name,
                  val);
    return rc == BAD ? -1 : rc;
}


static int is_int(const char *s)
{
    s += *s == '-';
    return *s && strspn(s, "0123456789") == strlen(s);
}

/* GNU's value of an optional one left out: -l is -L 1, -i is -I {}, -e
 * is no end-of-file string. */
static const char *left_out(int arg, int id)
{
    return arg == OPT_INT ? "1" : id == O_REPLACE ? "{}" : "";
}

/* An optional value left out of the word: the next word if it can be one
 * (taken: *i moves on), else left_out's. */
static const char *optional_value(const struct optdef *d, int argc,
                                  char **argv, int *i)
{
    const char *next = *i + 1 < argc ? argv[*i + 1] : NULL;
    int take = next && (d->arg == OPT_INT ? is_int(next)
                                          : next[0] != '-' || !next[1]);
    if (!take)
        return left_out(d->arg, d->id);
    ++*i;
    return next;
}

/* Parse one option at argv[*i] (a long one, or a bundle of short ones). */
/* GNU parallel's options eventor leaves out (terminals, tmux, SQL
 * queues, the perl script's own copy): named so, not taken for typos. */
static int gnu_only(const char *name, size_t len)
{
    static const char *const names[] = {
        "embed", "latest-line", "ll", "session",
        "shell-completion", "shellcompletion", "sql", "sqlandworker",
        "sql-and-worker", "sqlmaster", "sql-master", "sqlworker",
        "sql-worker", "tmux", "tmuxpane"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strlen(names[k]) == len && !strncmp(names[k], name, len))
            return 1;
    return 0;
}

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
            if (d->arg == VAL) {
                if (eq)
                    val = eq + 1;
                else if (*i + 1 < argc)
                    val = argv[++*i];
                else {
                    cli_error("option --%s needs a value", d->lng);
                    return -1;
                }
            } else if (d->arg) {
                val = eq ? eq + 1 : optional_value(d, argc, argv, i);
            } else if (eq) {
                cli_error("option --%s takes no value", d->lng);
                return -1;
            }
            return apply(o, d, a, val);
        }
        cli_error(gnu_only(name, len)
                      ? "%s: GNU parallel's option, not supported by eventor"
                      : "unknown option: %s (see eventor --help)", a);
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
        if (d->arg == OPT_INT && p[1] && !is_int(p + 1)) { /* -lk */
            int rc = apply(o, d, name, left_out(d->arg, d->id));
            if (rc)
                return rc;
            continue;
        }
        if (d->arg > VAL) /* GNU's -l2, -iSTR, -e: a value of its own */
            return apply(o, d, name, p[1] ? p + 1
                                          : optional_value(d, argc, argv, i));
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

/* Options from argv[*i] to the first word that is not one (left in *i). */
static int parse_options(struct opts *o, int argc, char **argv, int *i)
{
    for (; *i < argc; ++*i) {
        const char *a = argv[*i];
        if (!strcmp(a, "--")) { /* the end of the options */
            ++*i;
            break;
        }
        if (a[0] != '-' || !a[1] || spell_sep(o, a))
            break;
        int rc = parse_option(o, argc, argv, i);
        if (rc)
            return rc;
    }
    return 0;
}

/* The command template and the input sources, from words[0..n). */
static int parse_rest(struct opts *o, int n, char **words)
{
    int i = 0;
    for (; i < n && !spell_sep(o, words[i]); i++)
        if (strv_push(&o->cmd, words[i]) < 0)
            return -1;
    while (i < n) {
        const char *sep = words[i++];
        int kind = spell_sep(o, sep);
        int is_file = !!(kind & SEP_FILE), linked = !!(kind & SEP_LINKED);
        if (o->pipe_argfiles && o->pipe) { /* --shebang-wrap --pipe: */
            for (; i < n && !spell_sep(o, words[i]); i++) /* GNU's -a */
                if (access(words[i], R_OK) < 0) { /* files, opened and */
                    cli_error("Error: Cannot open input file `%s': %s.",
                              words[i], strerror(errno));
                    return -2;
                }
            continue; /* left unread: its --pipe reads stdin */
        }
        /* a first :::+ has nothing to link to: GNU takes it as ::: */
        if (!is_file && add_source(o, 0, NULL, linked) < 0)
            return -1;
        int any = 0;
        for (; i < n && !spell_sep(o, words[i]); i++, any++) {
            if (is_file) {
                if (add_source(o, 1, words[i], linked) < 0) /* each file */
                    return -1;
            } else {
                char *dup = strdup(words[i]);
                if (!dup || strv_push(&o->src[o->nsrc - 1].items, dup) < 0)
                    return -1;
            }
        }
        if (is_file && !any) {
            cli_error("%s needs at least one file", sep);
            return -2;
        }
    }
    return 0;
}

static void defaults(struct opts *o)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    memset(o, 0, sizeof *o);
    o->jobs = cpus > 0 ? cpus : 1;
    o->retries = 1;
    o->tmpdir = getenv("TMPDIR");
    if (!o->tmpdir || !*o->tmpdir)
        o->tmpdir = "/tmp";
    o->shell = usershell_pick();
}

/* GNU parallel's order: the profiles' options, $PARALLEL's, argv's; then
 * the words that are not options, in that same order (a profile may start
 * the command: `nice`). */
static int parse_all(struct opts *o, int argc, char **argv)
{
    struct scan sc = {0};
    int i = 1, rc;
    scanning = &sc;
    parse_options(o, argc, argv, &i);
    scanning = NULL;
    size_t nfile, nw;
    if (profile_read(o, sc.prof, sc.nprof, sc.plain, &nfile) < 0)
        return -3;
    nw = o->words.n;
    int pi = 0, ei = 0, ai = 1;
    if ((rc = parse_options(o, (int)nfile, o->words.v, &pi)) ||
        (rc = parse_options(o, (int)(nw - nfile), o->words.v + nfile, &ei)) ||
        (rc = parse_options(o, argc, argv, &ai)))
        return rc;
    size_t nrest = nfile - (size_t)pi + (nw - nfile - (size_t)ei) +
                   (size_t)(argc - ai);
    if (!(o->rest = malloc((nrest + 1) * sizeof *o->rest)))
        return -3;
    size_t k = 0;
    for (size_t j = (size_t)pi; j < nfile; j++)
        o->rest[k++] = o->words.v[j];
    for (size_t j = nfile + (size_t)ei; j < nw; j++)
        o->rest[k++] = o->words.v[j];
    for (int j = ai; j < argc; j++)
        o->rest[k++] = argv[j];
    switch (parse_rest(o, (int)k, o->rest)) {
    case -1: return -3;
    case -2: return -1;
    }
    return 0;
}

int opts_parse(struct opts *o, int argc, char **argv)
{
    defaults(o);
    int rc = parse_all(o, argc, argv);
    if (rc == -3) {
        cli_error("out of memory");
        return -1;
    }
    if (rc)
        return rc;
    if (pipex_check(o) < 0 || more_check(o) < 0) /* pipe-more first */
        return -1;
    if (spell_settle(o) < 0 || misc_check(o) < 0)
        return -1;
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
    if (gr_check(o) < 0) /* gnu-results */
        return -1;
    perl_plus(o);
    return pipe_check(o) < 0 ? -1 : sshlogin_check(o);
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
    strv_free(&o->owned); /* gnu-results */
    strv_free(&o->words);
    free(o->rest);
    memset(o, 0, sizeof *o);
}
