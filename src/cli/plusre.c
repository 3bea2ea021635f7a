/* The matcher of --plus's Perl patterns (plusre.h): compiled into atoms,
 * matched by backtracking in Perl's order, and Perl's s/// on top. */
#include "plusre.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static void set_bit(unsigned char *s, unsigned c) { s[c >> 3] |= 1u << (c & 7); }
static int has_bit(const unsigned char *s, unsigned c)
{
    return s[c >> 3] >> (c & 7) & 1;
}

/* \d \w \s and their negations into set; 0 when e is no class letter. */
static int class_escape(unsigned char *set, char e)
{
    int (*is)(int) = e == 'd' || e == 'D' ? isdigit
                     : e == 's' || e == 'S' ? isspace : NULL;
    if (!is && e != 'w' && e != 'W')
        return 0;
    for (unsigned c = 0; c < 256; c++) {
        int in = is ? c < 128 && is((int)c)
                    : c < 128 && (isalnum((int)c) || c == '_');
        if (in != (isupper((unsigned char)e) != 0))
            set_bit(set, c);
    }
    return 1;
}

static unsigned char plain_escape(char e)
{
    static const char from[] = "tnrfe0", to[] = {'\t', '\n', '\r', '\f', 27, 0};
    const char *p = strchr(from, e);
    return p && e ? (unsigned char)to[p - from] : (unsigned char)e;
}

/* [...] at *p (past '['): the set; -1 when unterminated. */
static int parse_class(const char **p, struct atom *a)
{
    const char *s = *p;
    int neg = *s == '^';
    s += neg;
    unsigned char set[32] = {0};
    for (int first = 1; *s && (*s != ']' || first); first = 0) {
        unsigned lo = (unsigned char)*s++;
        if (lo == '\\' && *s) {
            if (class_escape(set, *s)) {
                s++;
                continue;
            }
            lo = plain_escape(*s++);
        }
        unsigned hi = lo;
        if (*s == '-' && s[1] && s[1] != ']') {
            hi = (unsigned char)s[1];
            s += 2;
            if (hi == '\\' && *s)
                hi = plain_escape(*s++);
        }
        for (unsigned c = lo; c <= hi; c++)
            set_bit(set, c);
    }
    if (*s != ']')
        return -1;
    for (int i = 0; i < 32; i++)
        a->set[i] = neg ? (unsigned char)~set[i] : set[i];
    a->kind = A_CLASS;
    *p = s + 1;
    return 0;
}

/* One atom at *p: 0, or -1 for what this subset does not have. */
static int parse_atom(const char **p, struct atom *a)
{
    const char *s = *p;
    memset(a, 0, sizeof *a);
    a->min = a->max = 1;
    if (strchr("()|*+?", *s))
        return -1; /* groups, alternation, a quantifier of nothing (Perl
                      reads ^* as a quantified ^: the forms differ) */
    if (*s == '[') {
        *p = s + 1;
        return parse_class(p, a);
    }
    a->kind = *s == '.' ? A_ANY : *s == '^' ? A_BOL : *s == '$' ? A_EOL
                                                               : A_CHAR;
    a->c = (unsigned char)*s++;
    if (a->c == '\\') {
        if (!*s)
            return -1;
        if (class_escape(a->set, *s))
            a->kind = A_CLASS;
        else if (isalnum((unsigned char)*s) && !strchr("tnrfe0", *s))
            return -1; /* \b \A \z \1 ...: not in this subset */
        a->c = plain_escape(*s++);
    }
    *p = s;
    return 0;
}

int pre_compile(struct re *re, const char *s)
{
    for (; *s; re->n++) {
        struct atom *v = realloc(re->a, (re->n + 1) * sizeof *v);
        if (!v)
            return -1;
        re->a = v;
        struct atom *a = &v[re->n];
        if (parse_atom(&s, a) < 0)
            return -2;
        if (*s == '*' || *s == '+' || *s == '?') {
            if (a->kind == A_BOL || a->kind == A_EOL)
                return -2;
            a->min = *s == '+';
            a->max = *s == '?' ? 1 : -1;
            s++;
            if (*s == '?')
                a->lazy = 1, s++;
            if (*s == '*' || *s == '+' || *s == '?')
                return -2; /* possessive and stacked quantifiers */
        }
    }
    return 0;
}

static int atom_at(const struct atom *a, const char *v, size_t len, size_t i)
{
    if (i >= len)
        return 0;
    unsigned char c = (unsigned char)v[i];
    switch (a->kind) {
    case A_CHAR: return c == a->c;
    case A_ANY: return c != '\n';
    default: return has_bit(a->set, c);
    }
}

/* Match atoms [k, n) at v[i..]: the end, or -1. Perl's order: a greedy
 * atom tries its most repetitions first, a lazy one its fewest. */
long pre_match(const struct re *re, size_t k, const char *v, size_t len,
                  size_t i)
{
    if (k == re->n)
        return (long)i;
    const struct atom *a = &re->a[k];
    if (a->kind == A_BOL)
        return i == 0 ? pre_match(re, k + 1, v, len, i) : -1;
    if (a->kind == A_EOL)
        return i == len || (i + 1 == len && v[i] == '\n')
                   ? pre_match(re, k + 1, v, len, i) : -1;
    size_t most = 0;
    while ((a->max < 0 || most < (size_t)a->max) && atom_at(a, v, len, i + most))
        most++;
    if (most < (size_t)a->min)
        return -1;
    for (size_t c = a->lazy ? (size_t)a->min : most;;) {
        long e = pre_match(re, k + 1, v, len, i + c);
        if (e >= 0)
            return e;
        if (a->lazy ? c == most : c == (size_t)a->min)
            return -1;
        c += a->lazy ? 1 : (size_t)-1;
    }
}

/* The leftmost match at or after from: its start in *s, end, or -1. */
long pre_search(const struct re *re, const char *v, size_t len,
                   size_t from, size_t *s)
{
    for (size_t i = from; i <= len; i++) {
        long e = pre_match(re, 0, v, len, i);
        if (e >= 0) {
            *s = i;
            return e;
        }
    }
    return -1;
}

/* A string builder for the results. */
struct sb {
    char *s;
    size_t len;
    int oom;
};

static void sb_put(struct sb *b, const char *s, size_t n)
{
    char *g = b->oom ? NULL : realloc(b->s, b->len + n + 1);
    if (!g) {
        b->oom = 1;
        return;
    }
    memcpy(g + b->len, s, n);
    b->s = g;
    b->len += n;
    g[b->len] = 0;
}

/* s/RE/Y/ (once, or g: every match, Perl's way with empty matches), or
 * with case 'u'/'l' the matches upper- or lower-cased. *hit: matched. */
char *pre_subst(const struct re *re, const char *v, const char *y, int g,
                   int cas, int *hit)
{
    size_t len = strlen(v), at = 0, from = 0, s;
    long last_empty = -1;
    struct sb b = {0};
    sb_put(&b, "", 0);
    *hit = 0;
    long e;
    while (from <= len && (e = pre_search(re, v, len, from, &s)) >= 0) {
        if ((size_t)e == s && (long)s == last_empty) { /* no second empty */
            from = s + 1;
            if (s >= len || (e = pre_search(re, v, len, from, &s)) < 0)
                break;
        }
        *hit = 1;
        sb_put(&b, v + at, s - at);
        if (cas)
            for (size_t i = s; i < (size_t)e; i++) {
                char c = cas == 'u' ? (char)toupper((unsigned char)v[i])
                                    : (char)tolower((unsigned char)v[i]);
                sb_put(&b, &c, 1);
            }
        else
            sb_put(&b, y, strlen(y));
        at = (size_t)e;
        last_empty = (size_t)e == s ? e : -1;
        from = (size_t)e;
        if (!g)
            break;
    }
    sb_put(&b, v + at, len - at);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* s/(.*)X$/$1/: the latest start of X (ungreedy, with $) after (.*). */
char *pre_cut_suffix(const struct re *re, const char *v)
{
    size_t len = strlen(v);
    for (size_t p = 0; p <= len; p++) {
        size_t q = p;
        while (q < len && v[q] != '\n')
            q++;
        for (;; q--) {
            long e = pre_match(re, 0, v, len, q);
            if (e >= 0) {
                char *r = malloc(len + 1);
                if (r) {
                    memcpy(r, v, q);
                    strcpy(r + q, v + e);
                }
                return r;
            }
            if (q == p)
                break;
        }
    }
    return strdup(v);
}

/* GNU's make_regexp_ungreedy: a ? after each * + } quantifier. */
char *pre_ungreedy(const char *x)
{
    char *u = malloc(2 * strlen(x) + 1), *w = u;
    int cls = 0, esc = 0, found = 0;
    for (; u && *x; x++) {
        if (found && *x != '?')
            *w++ = '?';
        found = 0;
        *w++ = *x;
        if (esc) {
            esc = 0;
        } else if (*x == '\\') {
            esc = 1;
        } else if (*x == '[') {
            cls = 1;
        } else if (cls) {
            cls = *x != ']';
        } else if (strchr("*}+", *x)) {
            found = 1;
        }
    }
    if (u && found)
        *w++ = '?';
    if (u)
        *w = 0;
    return u;
}

/* Compile pre + x + post into re: 0, -1 ENOMEM, -2 not in the subset. */
int pre_compile_wrapped(struct re *re, const char *pre, const char *x,
                           const char *post)
{
    size_t len = strlen(pre) + strlen(x) + strlen(post) + 1;
    char *s = malloc(len);
    if (!s)
        return -1;
    strcpy(stpcpy(stpcpy(s, pre), x), post);
    int rc = pre_compile(re, s);
    free(s);
    return rc;
}

