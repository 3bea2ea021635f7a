/* perlexpr.c's entry points for the options, the runner and --help (the
 * template's are in template.h). Internal to the CLI. */
#ifndef EVT_CLI_PERLEXPR_H
#define EVT_CLI_PERLEXPR_H

#include "cli.h"

/* perlexpr.c (perl17): --rpl and --parens (-1: a bad value); the
 * job count total_jobs() gives; their --help lines. */
enum { PERL_OPT_RPL, PERL_OPT_PARENS, PERL_OPT_FILTER };
int perl_option(struct opts *o, int which, const char *val);
/* --filter: does job seq (in slot, of recs) pass every filter? 1, 0 (it
 * is skipped), -1 (perl is gone: said why), -2 out of memory. */
int perl_filters(const struct opts *o, const struct record *recs, size_t n,
                 uint64_t seq, int slot);
/* --plus's {choose_k} and {uniq}, which only perl works out: made --rpl
 * tags when the command holds one. */
void perl_plus(struct opts *o);
void perl_set_total(long total);
void perl_help(FILE *f);

#endif
