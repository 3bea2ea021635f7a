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
/* --shard, --bin: perl_compile compiles code (its index; -1 after an
 * error line); perl_map runs expression idx with $_ = each of in[0..n)
 * and gives the $_ it leaves, each out[k] pointing into perlexpr.c's
 * buffer until its next call (-1: perl died, it said why). */
struct perl_val {
    const char *s;
    size_t len;
};
int perl_compile(const char *code);
int perl_map(int idx, const struct perl_val *in, size_t n,
             struct perl_val *out);
void perl_help(FILE *f);

#endif
