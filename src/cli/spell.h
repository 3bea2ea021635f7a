/* spell.c's entry points, for opts.c and gate.c. Internal to the CLI. */
#ifndef EVT_CLI_SPELL_H
#define EVT_CLI_SPELL_H

#include "cli.h"

/* spell.c: options that rename separators and replacement strings, or
 * print a fact of the machine (spell_option: 0, -1 a bad value, 1 printed:
 * exit 0, -2 said why: exit 255); spell_settle after all are parsed (-1
 * after an error line); spell_sep tells a separator word (SEP_* bits, 0:
 * not one); spell_swapping for --noswap; shebang_argv: argv as GNU's
 * --shebang rewrites it (the #! line's words split, the script the input,
 * its first line skipped), or argv itself. */
enum { SPELL_OPT_ARG_SEP, SPELL_OPT_ARG_FILE_SEP, SPELL_OPT_EOF,
       SPELL_OPT_ER, SPELL_OPT_BNR, SPELL_OPT_DNR, SPELL_OPT_BNER,
       SPELL_OPT_SEQ, SPELL_OPT_SLOT, SPELL_OPT_NCPUS, SPELL_OPT_NCORES,
       SPELL_OPT_NSOCKETS, SPELL_OPT_NTHREADS, SPELL_OPT_MAXLINE,
       SPELL_OPT_TTY, SPELL_OPT_PROGRESS, SPELL_OPT_NOSWAP,
       SPELL_OPT_USE_CHOICE, SPELL_OPT_VERBOSE, SPELL_OPT_SLOT_VAR,
       SPELL_OPT_GNU, SPELL_OPT_SILENT, SPELL_OPT_GROUP, SPELL_OPT_NO_KEEP,
       SPELL_OPT_MINVERSION, SPELL_OPT_SKIP_FIRST, SPELL_OPT_SHEBANG,
       SPELL_OPT_TOTAL };
enum { SEP_IS = 1, SEP_FILE = 2, SEP_LINKED = 4 };
int spell_option(struct opts *o, int which, const char *val);
int spell_settle(struct opts *o);
int spell_sep(const struct opts *o, const char *a);
int spell_swapping(void);
char **shebang_argv(int *argc, char **argv);

#endif
