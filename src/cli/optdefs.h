/* The eventor command's options: each one's names and id (optdefs.c's
 * table), for opts.c, which applies them. Internal to the CLI. */
#ifndef EVT_CLI_OPTDEFS_H
#define EVT_CLI_OPTDEFS_H

#include <stddef.h>

/* The ids: opts.c's own, then each group's first id, its options' ids
 * following in their own files' order. */
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

/* Whether an option takes a value: GNU's optional ones (Getopt::Long's
 * :s and :i) take the next word unless it looks like an option (OPT_STR)
 * or is not a number (OPT_INT); left_out() says their value then. */
enum { NO_VAL, VAL, OPT_STR, OPT_INT };

struct optdef {
    const char *lng;
    char shrt;
    int arg; /* NO_VAL, VAL, OPT_STR or OPT_INT */
    int id;
};

/* The option named name (len bytes: "--name=value" stops at '='), the one
 * of short name c, or NULL. */
const struct optdef *optdef_long(const char *name, size_t len);
const struct optdef *optdef_short(char c);
/* GNU's value of d, an optional one, when it is left out. */
const char *optdef_left_out(const struct optdef *d);
/* name is one of GNU parallel's options eventor leaves out. */
int optdef_gnu_only(const char *name, size_t len);

#endif
