/* The compiled form of a command template, shared by template.c (which
 * compiles it) and expand.c (which expands it per job). Internal to the
 * CLI. */
#ifndef EVT_CLI_TEMPLATE_H
#define EVT_CLI_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

enum tok_kind { T_SEP, T_LIT, T_ARG, T_SEQ, T_SLOT, T_PLUSNUM };
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
    const char *rstr; /* -I STR, or NULL for {} */
    char trim;        /* --trim: 'n' 'l' 'r' 'b' */
    int plus;         /* --plus: its replacement strings */
    int needs_total;  /* {##} or {0#}: the number of jobs */
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

#endif
