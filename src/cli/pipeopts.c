/* --pipe's options (--pipe, --pipepart, --block, --recstart, --recend,
 * --header, --rrs, --block-timeout) as GNU parallel reads them, and what
 * cannot go with --pipe, checked once all options are read. The cutting
 * itself is pipe.c's. */
#include "cli.h"

#include <string.h>

#define TWO_GB 2147483647L /* GNU parallel's largest block */

int pipe_option(struct opts *o, int which, const char *val)
{
    switch (which) {
    case PIPE_OPT_PIPE: o->pipe = 1; return 0;
    case PIPE_OPT_PIPEPART: o->pipe = 2; return 0;
    case PIPE_OPT_BLOCK: /* -N: --pipepart's N blocks a job slot */
        if (optval_size(val + (*val == '-'), TWO_GB, &o->block) < 0)
            return -1;
        o->block *= *val == '-' ? -1 : 1;
        return 0;
    case PIPE_OPT_RECSTART: o->recstart = val; return 0;
    case PIPE_OPT_RECEND: o->recend = val; return 0;
    case PIPE_OPT_HEADER: o->header = val; return *val ? 0 : -1;
    case PIPE_OPT_RRS: o->rrs = 1; return 0;
    case PIPE_OPT_BT: /* GNU's int(seconds), refused under 1 (pipe_check) */
        if (optval_secs(val, &o->block_timeout) < 0)
            return -1;
        o->block_timeout = o->block_timeout / 1000 * 1000;
        o->block_timeout += o->block_timeout ? 0 : -1;
        return 0;
    }
    return -1;
}

int pipe_check(struct opts *o)
{
    if (o->block_timeout < 0) { /* GNU's, with --pipe or without */
        cli_error("Error: --block-timeout must be at least 1");
        return -1;
    }
    if (!o->pipe) {
        /* --header without --pipe: names the columns (header.c) */
        const char *what = o->recstart ? "--recstart"
                         : o->recend ? "--recend" : o->block ? "--block" : NULL;
        if (what)
            cli_error("%s is supported only with --pipe", what);
        return what ? -1 : 0;
    }
    if (!o->cmd.n) {
        cli_error("--pipe needs a command to feed");
        return -1;
    }
    if (o->pipe == 2 && !o->pipe_tee && (o->nsrc != 1 || !o->src[0].is_file ||
                         !strcmp(o->src[0].path, "-"))) {
        cli_error("--pipepart needs one -a FILE (a regular file)");
        return -1;
    }
    if (o->pipe == 1 && o->block < 0) {
        cli_error("--block -N is only for --pipepart");
        return -1;
    }
    if (o->nsrc && o->pipe == 1 && !o->pipe_tee) { /* GNU's reads stdin */
        cli_error("--pipe reads standard input (use < FILE, not ::: :::: "
                  "or -a)");
        return -1;
    }
    if (o->line_continues && o->pipe == 2) {
        cli_error("--pipepart is incompatible with --max-replace-args, "
                  "--max-lines, and -L.");
        return -1;
    }
    if (o->line_continues) { /* -L N: records of N lines, as GNU's */
        o->pipe_lines = o->max_args;
        o->max_args = o->line_continues = o->context = 0;
        o->xmode = 0;
    }
    if (o->line_continues || o->no_args || o->xargs ||
        (o->xmode == 'X' && o->context != 2)) {
        cli_error("--pipe supports -N RECORDS, not -L, -N0, -X, -m or --xargs");
        return -1;
    }
    if (o->bar || o->eta || o->halt_pct) {
        cli_error("--bar, --eta and --halt N%% are not supported with --pipe");
        return -1;
    }
    if (!o->block)
        o->block = o->pipe == 2 ? -10 : 1024 * 1024;
    return 0;
}
