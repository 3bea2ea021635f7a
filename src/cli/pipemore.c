/* pipe-more: the options of GNU parallel's --pipe extras (--regexp,
 * --round-robin, --tee, --group-by, --fifo, --shard, --bin): their values,
 * what they imply (as GNU 20221122's: --group-by, --fifo and --cat imply
 * --pipe; its man page says --round-robin does too, but it does not),
 * the combinations refused with one line, and their --help. */
#include "cli.h"
#include "pipemore.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int pipex_option(struct opts *o, int which, const char *val)
{
    switch (which) {
    case PIPEX_OPT_REGEXP: o->pipe_regexp = 1; return 0;
    case PIPEX_OPT_RR: o->pipe_rr = 1; return 0;
    case PIPEX_OPT_TEE: o->pipe_tee = 1; return 0;
    case PIPEX_OPT_FIFO: o->pipe_fifo = 1; return 0;
    case PIPEX_OPT_GROUP_BY: o->group_by = val; return *val ? 0 : -1;
    case PIPEX_OPT_SHARD: o->shard_expr = val; return *val ? 0 : -1;
    case PIPEX_OPT_BIN: o->bin_expr = val; return *val ? 0 : -1;
    }
    return -1;
}

/* --group-by VAL: a column number (0 and 1 are the first, as GNU's $F[]
 * index makes them) or a header's column name (o->group_col stays 0, the
 * name is looked up in the first line); GNU's perl expressions refused. */
static int group_by_check(struct opts *o)
{
    const char *v = o->group_by, *p = v;
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    if (*p && !isspace((unsigned char)*p)) {
        cli_error("--group-by %s: only a column number or name is supported "
                  "(not a perl expression)", v);
        return -1;
    }
    for (const char *q = p; *q; q++)
        if (!isspace((unsigned char)*q)) {
            cli_error("--group-by %s: a perl expression after the column is "
                      "not supported", v);
            return -1;
        }
    size_t word = (size_t)(p - v);
    if (word && strspn(v, "0123456789") == word) {
        o->group_col = atol(v);
        o->group_col += !o->group_col;
    } else if (!word || isdigit((unsigned char)*v)) {
        cli_error("--group-by %s: not a column number or name", v);
        return -1;
    }
    if (o->recstart || (o->recend && strcmp(o->recend, "\\n") &&
                        strcmp(o->recend, "\n"))) {
        cli_error("%s is not compatible with --groupby",
                  o->recstart ? "--recstart" : "--recend");
        return -1;
    }
    if (o->pipe == 2 || o->pipe_regexp || (o->header && strcmp(o->header, ":"))) {
        cli_error("--group-by is supported with --pipe, without --pipepart "
                  "and --regexp, and with no --header but ':'");
        return -1;
    }
    return 0;
}

/* --tee, --shard, --bin without values: an empty ::: (GNU's --tee: no
 * jobs then, stdin is the data). */
static int values_source(struct opts *o)
{
    if (o->nsrc)
        return 0;
    if (!(o->src = calloc(1, sizeof *o->src))) {
        cli_error("out of memory");
        return -1;
    }
    o->nsrc = 1;
    return 0;
}

/* --tee: the jobs come from the sources (-a FILE first with --pipepart:
 * the data); all of them run at once (-j 0 unless given). */
static int tee_check(struct opts *o)
{
    if (o->pipe_cat || o->pipe_fifo || o->pipe_rr || o->group_by ||
        o->header || o->max_args) {
        cli_error("--tee is supported without --cat, --fifo, --round-robin, "
                  "--group-by, --header and -N");
        return -1;
    }
    if (o->dry_run || o->resume || o->resume_failed) {
        cli_error("--tee is not supported with --dry-run and --resume");
        return -1;
    }
    if (o->pipe == 2) { /* the first -a is the data, the rest the values */
        if (!o->nsrc || !o->src[0].is_file || !strcmp(o->src[0].path, "-") ||
            o->nsrc < 2) {
            cli_error("--pipepart --tee needs -a FILE (a regular file) and "
                      "the values (::: or a second -a)");
            return -1;
        }
        o->tee_file = o->src[0].path;
        strv_free(&o->src[0].items);
        memmove(o->src, o->src + 1, --o->nsrc * sizeof *o->src);
    }
    if (values_source(o) < 0)
        return -1;
    if (!o->jobs_given)
        o->jobs = CLI_JOBS_MAX;
    return 0;
}

/* --shard, --bin: GNU's --bin decides when both are given, and --shard's
 * expression then. With --pipe the jobs come from the sources, as many
 * as -j (pipetee.c pads them with an empty value), and as GNU's read
 * lines, --header, -N, -L and --block do not apply. */
static int shard_check(struct opts *o)
{
    o->pipe_route = o->bin_expr ? PIPE_ROUTE_BIN : PIPE_ROUTE_SHARD;
    if (!o->shard_expr)
        o->shard_expr = o->bin_expr;
    if (o->pipe == 2 || o->pipe_cat || o->pipe_fifo || o->pipe_rr ||
        o->group_by || o->pipe_regexp || o->recstart || o->recend) {
        cli_error("--shard and --bin are supported with --pipe, without "
                  "--pipepart, --cat, --fifo, --round-robin, --group-by, "
                  "--regexp, --recstart and --recend");
        return -1;
    }
    if (o->dry_run || o->resume || o->resume_failed) {
        cli_error("--shard and --bin are not supported with --dry-run and "
                  "--resume");
        return -1;
    }
    o->pipe_tee = 1;
    o->header = NULL;
    o->max_args = o->line_continues = o->block = 0;
    return values_source(o);
}

int pipex_check(struct opts *o)
{
    if (!o->pipe && (o->group_by || o->pipe_fifo || o->pipe_cat))
        o->pipe = 1;
    if (o->pipe_tee) /* GNU's: --tee first */
        o->shard_expr = o->bin_expr = NULL;
    if (!o->pipe && (o->shard_expr || o->bin_expr)) /* all jobs at once */
        o->pipe_route = o->bin_expr ? PIPE_ROUTE_BIN : PIPE_ROUTE_SHARD;
    if (!o->pipe && o->pipe_tee) { /* GNU's: all at once, -j 0 unless given */
        o->pipe_route = PIPE_ROUTE_TEE;
        if (!o->jobs_given)
            o->jobs = CLI_JOBS_MAX;
    }
    if (!o->pipe) { /* GNU's --round-robin without --pipe: nothing */
        o->pipe_tee = o->pipe_rr = 0;
        if (o->pipe_regexp)
            cli_error("--regexp is supported only with --pipe");
        return o->pipe_regexp ? -1 : 0;
    }
#ifndef EVT_HAVE_PCRE2
    if (o->pipe_regexp) {
        cli_error("--regexp needs eventor built with PCRE2 (libpcre2-dev)");
        return -1;
    }
#endif
    if (o->pipe_fifo && o->pipe_cat) {
        cli_error("--fifo cannot be combined with --cat.");
        return -1;
    }
    if (o->pipe_tee)
        return tee_check(o);
    if (o->shard_expr || o->bin_expr)
        return shard_check(o);
    if (o->pipe_rr && (o->pipe_cat || o->pipe_fifo)) {
        cli_error("--round-robin is supported without --cat and --fifo");
        return -1;
    }
    if (o->pipe_rr && o->pipe == 2) { /* GNU's: one part a job slot */
        o->block = -1;
        o->pipe_rr = 0;
    }
    return o->group_by ? group_by_check(o) : 0;
}

void pipex_help(FILE *f)
{
    fputs(
"  --regexp            --recstart and --recend are Perl regular expressions\n"
"                      (PCRE2), as GNU's, e.g. --recstart '^>' --regexp\n"
"  --round-robin       at most -j jobs in all, each later block to whichever\n"
"                      job is ready to read (with -k: to each in turn); the\n"
"                      --header once a job; with --pipepart: --block -1\n"
"  --tee               all of the input to every job, one job a value of\n"
"                      ::: / -a (with --pipepart: the first -a is the data),\n"
"                      all at once (-j 0 unless given; without --pipe: only\n"
"                      that), e.g.\n"
"                      seq 100 | eventor --pipe --tee 'grep -c {}' ::: 1 2\n"
"  --group-by COL      lines with the same value in column COL (a number,\n"
"                      or a name in the first line, which then goes before\n"
"                      every block, as with --header :) stay in one block;\n"
"                      --colsep splits (default TAB); -N N: N groups a job\n"
"  --shard SHARDEXPR   -j jobs (one a value of ::: / -a, the rest with an\n"
"                      empty one), all at once; each line to one of them,\n"
"                      the same value in the column to the same job. The\n"
"                      column: a number, or a name in the first line (which\n"
"                      goes to no job), then maybe a perl expression on $_;\n"
"                      --colsep splits (default ,), e.g.\n"
"                      eventor --pipe --shard '1 $_=lc' -j4 'sort|uniq -c'\n"
"  --bin BINEXPR       as --shard, the value a number: value % -j (0: the\n"
"                      last job)\n"
"  --fifo              the block through a named pipe in --tmpdir, {} (and\n"
"                      $PARALLEL_TMP) naming it, instead of the job's stdin;\n"
"                      a job that never opens it ends with its block unread\n", f);
}
