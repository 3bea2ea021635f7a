/* A matcher of the Perl regular expressions --plus's patterns are (see
 * plus.c): characters, '.', escapes (\d \w \s ...), [classes], * + ? and
 * their lazy forms, ^ and $, matched as Perl does: leftmost, backtracking,
 * greedy or lazy. Internal to the CLI. */
#ifndef EVT_CLI_PLUSRE_H
#define EVT_CLI_PLUSRE_H

#include <stddef.h>

enum { A_CHAR, A_ANY, A_CLASS, A_BOL, A_EOL };
struct atom {
    int kind;
    unsigned char c;
    unsigned char set[32]; /* A_CLASS: a bit per byte */
    int min, max;          /* repetitions; max -1: any */
    int lazy;
};
struct re {
    struct atom *a;
    size_t n;
};


/* Compile s (pre + x + post) into re: 0, -1 ENOMEM, -2 not in the subset
 * (groups, alternation, stacked quantifiers). Free re->a. */
int pre_compile(struct re *re, const char *s);
int pre_compile_wrapped(struct re *re, const char *pre, const char *x,
                        const char *post);
/* Atoms [k, n) matched at v[i..]: the end, or -1. */
long pre_match(const struct re *re, size_t k, const char *v, size_t len,
               size_t i);
/* The leftmost match at or after from: *s its start; its end, or -1. */
long pre_search(const struct re *re, const char *v, size_t len, size_t from,
                size_t *s);
/* s/RE/Y/ (g: every match), or with cas 'u'/'l' the matches upper- or
 * lower-cased; *hit: something matched. malloc'd, NULL on ENOMEM. */
char *pre_subst(const struct re *re, const char *v, const char *y, int g,
                int cas, int *hit);
/* s/(.*)RE/$1/ (RE ends in $): malloc'd. */
char *pre_cut_suffix(const struct re *re, const char *v);
/* GNU's make_regexp_ungreedy: a ? after each * + } quantifier. */
char *pre_ungreedy(const char *x);

#endif
