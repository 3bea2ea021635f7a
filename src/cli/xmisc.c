/* GNU parallel's odd options, as it has them: --tmpl (tmplfile.c),
 * --_pipe-means-argfiles (--shebang-wrap's), -x/--exit (xargs': a line over
 * -s stops the run, which eventor always does, as GNU does), --show-limits,
 * -o/--open-tty, --compress and its programs (output.c). */
#include "cli.h"
#include "misc.h"

#include <stdio.h>
#include <string.h>

/* What GNU's probe of the longest command line finds on Linux; cli.h's
 * CLI_MAX_LINE, the usable length, is (this - 3000) / 2. */
#define REAL_MAX_LINE 130329

int misc_option(struct opts *o, int which, const char *val)
{
    switch (which) {
    case MISC_OPT_TMPL: return tmplfile_option(o, val);
    case MISC_OPT_PIPE_ARGFILES: o->pipe_argfiles = 1; return 0;
    case MISC_OPT_EXIT: return 0; /* GNU only keeps $opt::x */
    case MISC_OPT_SHOW_LIMITS: o->show_limits = 1; return 0;
    case MISC_OPT_OPEN_TTY: o->open_tty = 1; return 0;
    case MISC_OPT_COMPRESS: o->compress = 1; return 0;
    case MISC_OPT_COMPRESS_PRG:
    case MISC_OPT_DECOMPRESS_PRG:
        if (!*val) /* GNU's "" is no program: false, left out */
            return 0;
        *(which == MISC_OPT_COMPRESS_PRG ? &o->compress_prg
                                         : &o->decompress_prg) = val;
        return 0;
    }
    return -1;
}

int misc_check(struct opts *o)
{
    if (tmplfile_read(o) < 0 || compress_settle(o) < 0)
        return -1;
    if (o->show_limits) { /* GNU's words, then it goes on */
        printf("Maximal size of command: %d\n"
               "Maximal usable size of command: %d\n\n"
               "Execution will continue now, and it will try to read its "
               "input\nand run commands; if this is not what you wanted to "
               "happen, please\npress CTRL-D or CTRL-C\n",
               REAL_MAX_LINE, CLI_MAX_LINE);
        fflush(stdout);
    }
    return 0;
}
