/* Command-line parsing of the eventor command and its --help page. Options
 * come first (GNU parallel's spelling), then the command template, then the
 * input sources (:::, ::::, :::+, ::::+). A bad option is one line on stderr
 * and exit 255, before anything is opened or written. */
#include "cli.h"
#include "pipemore.h"
#include "perlexpr.h"
#include "spell.h"
#include "misc.h"
#include "optdefs.h"
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

/* An optional value left out of the word: the next word if it can be one
 * (taken: *i moves on), else optdef_left_out's. */
static const char *optional_value(const struct optdef *d, int argc,
                                  char **argv, int *i)
{
    const char *next = *i + 1 < argc ? argv[*i + 1] : NULL;
    int take = next && (d->arg == OPT_INT ? is_int(next)
                                          : next[0] != '-' || !next[1]);
    if (!take)
        return optdef_left_out(d);
    ++*i;
    return next;
}

/* Parse one option at argv[*i] (a long one, or a bundle of short ones). */
static int parse_option(struct opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (a[1] == '-') {
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct optdef *d = optdef_long(name, len);
        if (d) {
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
        cli_error(optdef_gnu_only(name, len)
                      ? "%s: GNU parallel's option, not supported by eventor"
                      : "unknown option: %s (see eventor --help)", a);
        return -1;
    }
    for (const char *p = a + 1; *p; p++) {
        const struct optdef *d = optdef_short(*p);
        if (!d) {
            cli_error("unknown option: -%c (see eventor --help)", *p);
            return -1;
        }
        char name[3] = {'-', *p, 0};
        if (d->arg == OPT_INT && p[1] && !is_int(p + 1)) { /* -lk */
            int rc = apply(o, d, name, optdef_left_out(d));
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
