/* --plus replacement strings, with GNU parallel's meaning: GNU defines
 * each as a Perl expression on the value ({%x} is s/(.*)x$/$1/ with x made
 * ungreedy, ...), parsed from the template in the order of GNU's keys
 * (longest first), so its patterns are Perl regular expressions: matched
 * here by plusre.c as Perl does for the subset a shell user writes.
 * Groups and alternation are refused with one line, never matched as
 * something else. */
#include "cli.h"
#include "plusre.h"
#include "template.h"

#include <stdlib.h>
#include <string.h>

struct plus {
    int op;
    char *x, *y;  /* the pattern (or default, counts) and replacement */
    struct re re, re2; /* x compiled; the fixed ones' second one */
    long n, m;    /* {:N} {:N:M} */
};

enum {
    OP_HASH, OP_HASH2, OP_PCT, OP_PCT2, OP_SUB, OP_SUBG, OP_UC, OP_UCG,
    OP_LC, OP_LCG, OP_DEFAULT, OP_SKIP, OP_SUBSTR,
    OP_DEL, OP_DEL_OR, OP_DEL_THEN, OP_KEEP_EXT, /* the fixed ones */
};

/* {+..} {+...}: s:.*\.(SEG(\.SEG){n-1})$:$1: || s:.*$:: */
static char *keep_ext(const struct plus *px, const char *v)
{
    size_t len = strlen(v), s;
    long e = pre_search(&px->re, v, len, 0, &s);
    if (e < 0) {
        int hit;
        return pre_subst(&px->re2, v, "", 0, 0, &hit);
    }
    size_t g = (size_t)e; /* back over the n segments and their dots */
    for (long k = 0; k < px->n; k++) {
        while (g > s && v[g - 1] != '.' && v[g - 1] != '/')
            g--;
        if (k + 1 < px->n)
            g--;
    }
    char *r = malloc(len + 1);
    if (r) {
        memcpy(r, v, s);
        strcpy(r + s, v + g);
    }
    return r;
}

char *plus_apply(const struct plus *px, const char *v)
{
    int hit, g = px->op == OP_SUBG || px->op == OP_UCG || px->op == OP_LCG;
    size_t len = strlen(v);
    switch (px->op) {
    case OP_HASH:
    case OP_HASH2: {
        long e = pre_match(&px->re, 0, v, len, 0);
        return strdup(v + (e > 0 ? e : 0));
    }
    case OP_PCT: return pre_cut_suffix(&px->re, v);
    case OP_PCT2: case OP_SUB: case OP_SUBG: case OP_DEL:
        return pre_subst(&px->re, v, px->y ? px->y : "", g, 0, &hit);
    case OP_UC: case OP_UCG: case OP_LC: case OP_LCG:
        return pre_subst(&px->re, v, "", g,
                     px->op == OP_UC || px->op == OP_UCG ? 'u' : 'l', &hit);
    case OP_DEFAULT:
        return strdup(!*v || !strcmp(v, "0") ? px->x : v);
    case OP_SKIP: return strdup(v + ((size_t)px->n < len ? (size_t)px->n : len));
    case OP_SUBSTR:
        return (size_t)px->n > len ? strdup("")
                                   : strndup(v + px->n, (size_t)px->m);
    case OP_DEL_OR: case OP_DEL_THEN: {
        char *r = pre_subst(&px->re, v, "", 0, 0, &hit);
        if (r && (px->op == OP_DEL_THEN || !hit)) {
            char *r2 = pre_subst(&px->re2, r, "", 0, 0, &hit);
            free(r);
            r = r2;
        }
        return r;
    }
    case OP_KEEP_EXT: return keep_ext(px, v);
    }
    return strdup(v);
}

void plus_free(struct plus *px)
{
    if (!px)
        return;
    free(px->x);
    free(px->y);
    free(px->re.a);
    free(px->re2.a);
    free(px);
}

/* The fixed ones: GNU's Perl, as s/RE// (|| or ; s/RE2//). */
static const struct fixed {
    const char *name, *re, *re2;
    int op, n;
} fixed[] = {
    {"+...}", ".*\\.[^/.]*\\.[^/.]*\\.[^/.]*$", ".*$", OP_KEEP_EXT, 3},
    {"/...}", ".*/", "\\.[^/.]*\\.[^/.]*\\.[^/.]*$", OP_DEL_THEN, 0},
    {"+..}", ".*\\.[^/.]*\\.[^/.]*$", ".*$", OP_KEEP_EXT, 2},
    {"/..}", ".*/", "\\.[^/.]*\\.[^/.]*$", OP_DEL_THEN, 0},
    {"...}", "\\.[^/.]*\\.[^/.]*\\.[^/.]*$", NULL, OP_DEL, 0},
    {"+/}", "/[^/]*$", ".*$", OP_DEL_OR, 0},
    {"+.}", ".*\\.", ".*$", OP_DEL_OR, 0},
    {"..}", "\\.[^/.]*\\.[^/.]*$", NULL, OP_DEL, 0},
};

/* The pattern forms, longest of GNU's keys first: prefix, then X up to
 * '}' ('/' when there is a Y), how X is wrapped, the op. */
static const struct form {
    const char *prefix;
    int has_y, op, ungreedy;
    const char *pre, *post;
} forms[] = {
    {"/#", 1, OP_SUBG, 0, "^", ""},  {"/%", 1, OP_SUBG, 0, "", "$"},
    {"//", 1, OP_SUBG, 0, "", ""},   {"##", 0, OP_HASH2, 0, "", ""},
    {"#", 0, OP_HASH, 1, "", ""},    {"%%", 0, OP_PCT2, 0, "", "$"},
    {":-", 0, OP_DEFAULT, 0, "", ""}, {"^^", 0, OP_UCG, 0, "", ""},
    {",,", 0, OP_LCG, 0, "", ""},    {"%", 0, OP_PCT, 1, "", "$"},
    {"^", 0, OP_UC, 0, "^", ""},     {",", 0, OP_LC, 0, "^", ""},
};

static int digits(const char *p, long *v)
{
    int n = 0;
    for (*v = 0; p[n] >= '0' && p[n] <= '9' && n < 9; n++)
        *v = *v * 10 + (p[n] - '0');
    return n;
}

/* X (and Y) of a form at q (past its prefix): their lengths, or 0. */
static size_t form_at(const struct form *f, const char *q, size_t *xl,
                      size_t *yl)
{
    const char *close = strchr(q, '}');
    if (!close || close == q)
        return 0;
    *xl = (size_t)(close - q);
    *yl = 0;
    if (f->prefix[0] == '#' && (q[0] == '#' || q[0] == '}'))
        return 0; /* [^#}] first */
    if (f->has_y) {
        const char *sl = memchr(q + 1, '/', (size_t)(close - q - 1));
        if (!sl)
            return 0;
        *xl = (size_t)(sl - q);
        *yl = (size_t)(close - sl - 1);
    }
    return (size_t)(close - q) + 1;
}

/* {/X/Y}: X has none of # % } / (GNU's first key). */
static size_t slash_form(const char *q, size_t *xl, size_t *yl)
{
    if (*q++ != '/')
        return 0;
    size_t n = strcspn(q, "#%}/");
    const char *close = q[n] == '/' ? strchr(q + n + 1, '}') : NULL;
    if (!n || !close)
        return 0;
    *xl = n;
    *yl = (size_t)(close - q) - n - 1;
    return (size_t)(close - q) + 2;
}

static long total_jobs, job_slots;

void plus_set_counts(long total, long slots)
{
    total_jobs = total;
    job_slots = slots;
}

/* {##} {0#} {0%}: the number of jobs, the 0-padded seq and slot. */
void plus_number(int which, uint64_t seq, int slot, char *out, size_t cap)
{
    if (which == 1) {
        snprintf(out, cap, "%ld", total_jobs);
        return;
    }
    long of = which == 2 ? total_jobs : job_slots ? job_slots : 1, w = 1;
    for (long v = of; v >= 10; v /= 10)
        w++; /* 1 + int(log10(of)) */
    snprintf(out, cap, "%0*llu", (int)w,
             which == 2 ? (unsigned long long)seq : (unsigned long long)slot);
}

static struct plus *new_plus(int op, const char *x, size_t xl, const char *y,
                             size_t yl)
{
    struct plus *px = calloc(1, sizeof *px);
    if (!px)
        return NULL;
    px->op = op;
    px->x = x ? strndup(x, xl) : NULL;
    px->y = y ? strndup(y, yl) : NULL;
    if ((x && !px->x) || (y && !px->y)) {
        plus_free(px);
        return NULL;
    }
    return px;
}

static int fixed_at(const char *q, struct plus **px)
{
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        const struct fixed *f = &fixed[i];
        if (strncmp(q, f->name, strlen(f->name)))
            continue;
        if (!(*px = new_plus(f->op, NULL, 0, NULL, 0)) ||
            pre_compile(&(*px)->re, f->re) < 0 ||
            (f->re2 && pre_compile(&(*px)->re2, f->re2) < 0))
            return -2;
        (*px)->n = f->n;
        return (int)strlen(f->name);
    }
    return 0;
}

/* A pattern form at q: its length, 0, -1 (reported), -2 (ENOMEM). */
static long pattern_at(const char *p, const char *q, struct plus **px)
{
    const char *q0 = q;
    size_t xl, yl, used = slash_form(q, &xl, &yl);
    const struct form *f = NULL, sub = {"", 1, OP_SUB, 0, "", ""};
    if (used)
        f = &sub;
    for (size_t i = 0; !f && i < sizeof forms / sizeof forms[0]; i++) {
        size_t pl = strlen(forms[i].prefix);
        if (!strncmp(q, forms[i].prefix, pl) &&
            (used = form_at(&forms[i], q + pl, &xl, &yl))) {
            f = &forms[i];
            q += pl;
        }
    }
    if (!f)
        return 0;
    if (f == &sub)
        q++; /* its '/' */
    if (!(*px = new_plus(f->op, q, xl, f->has_y ? q + xl + 1 : NULL, yl)))
        return -2;
    used += (size_t)(q - q0); /* the prefix */
    if (f->op == OP_DEFAULT)
        return (long)used;
    char *x = f->ungreedy ? pre_ungreedy((*px)->x) : (*px)->x;
    int rc = x ? pre_compile_wrapped(&(*px)->re, f->pre, x, f->post) : -1;
    if (x != (*px)->x)
        free(x);
    if (rc == -2)
        cli_error("--plus: %.*s: only characters, '.', escapes, [classes], "
                  "* + ? and ^ $ are supported in its pattern",
                  (int)((q0 - p) + (long)used), p);
    return rc == 0 ? (long)used : rc == -2 ? -1 : -2;
}

/* At p ('{'): a --plus replacement string? Its length in bytes (0: not
 * one; -1 after an error line; -2 ENOMEM), with *px its transformation
 * and *col its position, or for {##} {0#} {0%} *num 1, 2, 3. */
static long parse(const char *p, struct plus **px, int *col, int *num);

long plus_parse(const char *p, struct plus **px, int *col, int *num)
{
    long n = parse(p, px, col, num);
    if (n < 0) { /* nothing half-made is kept */
        plus_free(*px);
        *px = NULL;
    }
    return n;
}

static long parse(const char *p, struct plus **px, int *col, int *num)
{
    const char *q = p + 1;
    long v, used;
    int n;
    *px = NULL;
    *col = *num = 0;
    if (!strncmp(q, "0#}", 3) || !strncmp(q, "0%}", 3)) {
        *num = q[1] == '#' ? 2 : 3;
        return 4;
    }
    int neg = *q == '-' && q[1] >= '0' && q[1] <= '9';
    if ((n = digits(q + neg, &v)) > 0) {
        *col = neg ? -(int)v : (int)v;
        q += neg + n;
        while (*q == ' ' || *q == '\t' || *q == '\n')
            q++;
    }
    if ((used = pattern_at(p, q, px)) != 0)
        return used < 0 ? used : (long)(q - p) + used;
    static const char *const refused[] = {"choose_k}", "uniq}"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (!strncmp(q, refused[i], strlen(refused[i]))) {
            cli_error("--plus: {%s is not supported", refused[i]);
            return -1;
        }
    long m;
    if (*q == ':' && (n = digits(q + 1, &v)) > 0) {
        const char *r = q + 1 + n;
        int k = *r == ':' ? digits(r + 1, &m) : 0;
        if (*r == '}' || (k > 0 && r[1 + k] == '}')) {
            if (!(*px = new_plus(k ? OP_SUBSTR : OP_SKIP, NULL, 0, NULL, 0)))
                return -2;
            (*px)->n = v;
            (*px)->m = k ? m : 0;
            return (long)(r - p) + (k ? k + 2 : 1);
        }
    }
    if (!strncmp(q, "##}", 3)) {
        *num = 1;
        return (long)(q - p) + 3;
    }
    int f = fixed_at(q, px);
    return f > 0 ? (long)(q - p) + f : f;
}

long plus_var_at(const char *p, const char **text)
{
    static const char *const var[][2] = {
        {"{slot}", "${PARALLEL_JOBSLOT}"}, {"{host}", "${PARALLEL_SSHHOST}"},
        {"{sshlogin}", "${PARALLEL_SSHLOGIN}"},
        {"{hgrp}", "${PARALLEL_HOSTGROUPS}"},
        {"{agrp}", "${PARALLEL_ARGHOSTGROUPS}"}};
    for (size_t i = 0; i < sizeof var / sizeof var[0]; i++)
        if (!strncmp(p, var[i][0], strlen(var[i][0]))) {
            *text = var[i][1];
            return (long)strlen(var[i][0]);
        }
    return 0;
}
