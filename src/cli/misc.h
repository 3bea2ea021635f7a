/* GNU parallel's odd options (tmplfile.c, shebangwrap.c, compress.c,
 * xmisc.c): --tmpl, --shebang-wrap, -x, --show-limits, -o, --compress and
 * its programs. Internal to the CLI. */
#ifndef EVT_CLI_MISC_H
#define EVT_CLI_MISC_H

#include "cli.h"

enum { MISC_OPT_TMPL, MISC_OPT_PIPE_ARGFILES, MISC_OPT_EXIT,
       MISC_OPT_SHOW_LIMITS, MISC_OPT_OPEN_TTY, MISC_OPT_COMPRESS,
       MISC_OPT_COMPRESS_PRG, MISC_OPT_DECOMPRESS_PRG };
/* xmisc.c: misc_option applies one (-1: a bad value, -2 said why);
 * misc_check after all are parsed (-1 after an error line). */
int misc_option(struct opts *o, int which, const char *val);
int misc_check(struct opts *o);

/* tmplfile.c: --tmpl FILE=NAME. tmplfile_option keeps one (a later one
 * for the same FILE replaces it, as GNU's hash); tmplfile_read reads the
 * files (-1 after GNU's error line); tmplfile_init compiles them (-1
 * ENOMEM); tmplfile_fill writes job j's files for its records r[0..n)
 * (names kept in j for tmplfile_remove with --cleanup): 0, -1 and errno
 * (EINVAL: the perl of a {= =} died, said why). */
int tmplfile_option(struct opts *o, const char *val);
int tmplfile_read(struct opts *o);
int tmplfile_given(void);
int tmplfile_init(const struct opts *o);
int tmplfile_fill(struct job *j, const struct record *r, size_t n);
void tmplfile_remove(struct job *j);
void tmplfile_finish(void);

/* compress.c: compress_settle picks the programs (GNU's defaults; -1
 * after an error line); compress_job puts finished job j's spooled output
 * through them (a failure said, j->exitval 255). */
int compress_settle(struct opts *o);
void compress_job(struct job *j);

/* shebangwrap.c: a #! line's `--shebang-wrap [OPTIONS] PARSER [ARGS]`
 * makes the kernel run `eventor '--shebang-wrap ...' SCRIPT ARG...`; as
 * GNU does, eventor then runs itself through /bin/sh as `eventor
 * --_pipe-means-argfiles OPTIONS PARSER ARGS 'SCRIPT' ::: ARG...`. Returns
 * only when argv is not that (or the exec failed: said why, -1). */
int shebang_wrap(int argc, char **argv);

#endif
