/* The compiled form of a command template, shared by template.c (which
 * compiles it) and expand.c (which expands it per job). Internal to the
 * CLI. */
#ifndef EVT_CLI_TEMPLATE_H
#define EVT_CLI_TEMPLATE_H

#include "cli.h" /* TMPL_NAMES */

#include <stddef.h>
#include <stdint.h>

struct opts;

enum tok_kind { T_SEP, T_LIT, T_ARG, T_SEQ, T_SLOT, T_PLUSNUM, T_PERL };
enum xform { X_NONE, X_NOEXT, X_BASE, X_DIR, X_BASENOEXT };
#define POS_NONE (-1000000)

struct tok {
    enum tok_kind kind;
    const char *text; /* T_SEP, T_LIT: into t->str */
    size_t len;
    int col;          /* T_ARG: 1-based position, negative from the end, 0 =
                         every value, POS_NONE = never a value ({00}) */
    enum xform xf;
    int word;         /* index of the word holding it (-1 for T_SEP) */
    struct plus *plus; /* T_ARG: --plus's transformation (owned), or NULL;
                          T_PLUSNUM: col is plus_number's which */
    int pexpr;        /* T_PERL (perl17): perlexpr.c's index of its code;
                         col as T_ARG's */
    int var;          /* T_LIT: --plus's {host}...: a placeholder all the
                         same (no value appended) */
};

struct tmpl {
    char *str;        /* the template, words joined by spaces */
    struct tok *tok;
    size_t ntok;
    int nword;
    int *word_has_arg; /* per word: holds a {}-like placeholder (-X repeats it) */
    int shell;        /* needs the shell */
    int raw;          /* values are not quoted: no command, or the command
                         word starts with a placeholder (GNU parallel) */
    int quote_all;    /* -q: every word is one argument, quoted */
    int no_args;      /* -N0: no value is inserted */
    int shellquote;   /* --shellquote: quote the line this many times */
    char xmode;
    const char *names[TMPL_NAMES]; /* -I, --er ...: new names, or NULL */
    char trim;        /* --trim: 'n' 'l' 'r' 'b' */
    int plus;         /* --plus: its replacement strings */
    int needs_total;  /* {##} or {0#}: the number of jobs */
    int perl;         /* perl17: {= =} or --rpl may be in the text */
    int join_tight;   /* gnumisc: a {} of several values puts them side
                         by side (--tmpl's contents, as GNU prints them) */
    const char *word_end; /* while compiling: the end of the word at hand */
};

/* plus.c: --plus's replacement strings. plus_parse: at p ('{'), its
 * length (0: not one, -1 after an error line, -2 ENOMEM), *px its
 * transformation and *col its position, or for {##} {0#} {0%} *num 1 2 3;
 * plus_apply: the transformed value (malloc'd, NULL on ENOMEM). */
struct plus;
long plus_parse(const char *p, struct plus **px, int *col, int *num);
char *plus_apply(const struct plus *px, const char *v);
void plus_free(struct plus *px);
void plus_number(int which, uint64_t seq, int slot, char *out, size_t cap);

/* perlexpr.c (perl17): GNU parallel's {= perl expression =} and --rpl,
 * through one perl coprocess started the first time one is compiled.
 * perl_words: 0, or 1 when the template must look for them, its words
 * then *merged (a {= whose =} is in a later word joined to it as GNU
 * parallel joins them; free with perl_free_words), -1 on ENOMEM;
 * perl_may_start: one may start
 * at p; perl_placeholder: at p, 1 and the T_PERL token (its length in
 * *used), 0 not one, -1 after an error line (errno EINVAL) or ENOMEM;
 * perl_eval: the value of expression idx for v in job seq (slot), the
 * job's values flat[0..n), into *out (malloc'd); *flags 1 uq(), 2 skip();
 * -1 (errno EINVAL: perl said why). */
int perl_words(const struct opts *o, char *const **words, size_t *n,
               char ***merged);
void perl_free_words(char **words, size_t n);
int perl_may_start(const struct tmpl *t, const char *p);
int perl_placeholder(const struct tmpl *t, const char *p, struct tok *tk,
                     size_t *used);
int perl_needs_total(int idx);
int perl_eval(int idx, const char *v, size_t vlen, const char **flat,
              size_t n, uint64_t seq, int slot, char **out, int *flags);
extern const char perl_script[]; /* perlexpr_pl.c */

#endif
