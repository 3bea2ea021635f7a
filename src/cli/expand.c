/* Command templates, expanded per job: each placeholder's value after its
 * transformation, quoted for the shell unless the template says not to,
 * into the command line and (without a shell) its argv; and the lengths
 * -X, -m and -s need to fill a line. */
#include "cli.h"
#include "template.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

void argv_free(char **argv)
{
    if (!argv)
        return;
    for (char **a = argv; *a; a++)
        free(*a);
    free(argv);
}

/* The value of a placeholder after --trim and its transformation
 * (malloc'd). */
static char *transform(const struct tmpl *t, const struct tok *tk,
                       const char *v)
{
    size_t tl;
    enum xform xf = tk->xf;
    v = trim_value(t->trim, v, &tl);
    if (tk->plus) { /* gnu-results */
        char *c = strndup(v, tl);
        char *r = c ? plus_apply(tk->plus, c) : NULL;
        free(c);
        return r;
    }
    if (xf == X_DIR) {
        char *c = strndup(v, tl);
        char *d = c ? strdup(dirname(c)) : NULL;
        free(c);
        return d;
    }
    const char *end = v + tl;
    if (xf == X_BASE || xf == X_BASENOEXT) { /* everything after the last slash */
        const char *s = memrchr(v, '/', tl);
        v = s ? s + 1 : v;
    }
    size_t len = (size_t)(end - v);
    if (xf == X_NOEXT || xf == X_BASENOEXT) { /* s:\.[^/.]*$:: */
        for (size_t i = len; i-- > 0;) {
            if (v[i] == '/')
                break;
            if (v[i] == '.') {
                len = i;
                break;
            }
        }
    }
    return strndup(v, len);
}

/* A growing string. */
struct buf {
    char *s;
    size_t len, cap;
    int oom;
};

static void bput(struct buf *b, const char *s, size_t len)
{
    if (b->oom)
        return;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (b->len + len + 1 > cap)
            cap *= 2;
        char *n = realloc(b->s, cap);
        if (!n) {
            b->oom = 1;
            return;
        }
        b->s = n;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, len);
    b->len += len;
    b->s[b->len] = 0;
}

/* Expansion state: the command line, and the argv being built. */
struct exp {
    const struct tmpl *t;
    struct buf cmd;
    int want_argv;
    struct strv argv;
    struct buf elem;  /* the argv element being built */
    int elem_real;    /* it holds text or a value (even an empty one) */
    int oom;
    uint64_t seq;
    int slot;
    const char **flat; /* every value of the line's records */
    size_t nflat;
    int skip, uq, perl_err; /* perl17: skip(), uq(), a perl that died */
};

static void elem_end(struct exp *e)
{
    if (!e->want_argv)
        return;
    char *s = e->elem.s ? e->elem.s : strdup("");
    /* a word that was only a missing {N} is no word, as in the shell */
    if (!e->elem_real && !e->t->quote_all) {
        free(s);
        s = NULL;
    } else if (!s || e->elem.oom || strv_push(&e->argv, s) < 0) {
        free(s);
        e->oom = 1;
    }
    memset(&e->elem, 0, sizeof e->elem);
    e->elem_real = 0;
}

static void put_text(struct exp *e, const char *s, size_t len)
{
    bput(&e->cmd, s, len);
    if (e->want_argv)
        bput(&e->elem, s, len);
    e->elem_real = 1;
}

/* perl17: {= =}'s value of v (after --trim), with $_ = v and @arg the
 * line's values; *uq when uq() said not to quote it. */
static char *perl_value(struct exp *e, const struct tok *tk, const char *v,
                        int *uq)
{
    size_t tl;
    char *out;
    int flags;
    v = trim_value(e->t->trim, v, &tl);
    if (perl_eval(tk->pexpr, v, tl, e->flat, e->nflat, e->seq, e->slot, &out,
                  &flags) < 0) {
        e->perl_err |= errno == EINVAL;
        return NULL;
    }
    e->skip |= flags & 2;
    e->uq |= *uq = flags & 1;
    return out;
}

/* One value v: transformed, quoted on the command line. */
static void put_value(struct exp *e, const char *v, const struct tok *tk)
{
    int uq = 0;
    char *x = tk->kind == T_PERL ? perl_value(e, tk, v, &uq)
                                 : transform(e->t, tk, v);
    char *q = x && !e->t->raw && !uq ? shell_quote(x) : x;
    if (!x || !q) {
        e->oom = 1;
    } else {
        bput(&e->cmd, q, strlen(q));
        if (e->want_argv)
            bput(&e->elem, x, strlen(x));
        e->elem_real = 1;
    }
    if (q != x)
        free(q);
    free(x);
}

/* A placeholder: every value of vals (separated like words), or for {N}
 * the Nth of the line, if there is one (Perl's indexing, as GNU's). */
static void put_values(struct exp *e, const struct tok *tk, const char **vals,
                       size_t n)
{
    if (tk->col) {
        long i = tk->col > 0 ? tk->col - 1 : (long)e->nflat + tk->col;
        if (i < 0 && tk->col != POS_NONE)
            i += (long)e->nflat;
        if (tk->col != POS_NONE && i >= 0 && (size_t)i < e->nflat)
            put_value(e, e->flat[i], tk);
        return;
    }
    for (size_t k = 0; k < n; k++) {
        if (k) {
            if (!e->t->join_tight)
                bput(&e->cmd, " ", 1);
            elem_end(e);
        }
        put_value(e, vals[k], tk);
    }
}

/* Tokens [i, j) of one word, for values vals[0..n). */
static void put_word(struct exp *e, size_t i, size_t j, const char **vals,
                     size_t n)
{
    for (; i < j; i++) {
        const struct tok *tk = &e->t->tok[i];
        char num[32];
        switch (tk->kind) {
        case T_LIT:
            put_text(e, tk->text, tk->len);
            break;
        case T_ARG:
        case T_PERL:
            put_values(e, tk, vals, n);
            break;
        case T_SEQ:
        case T_SLOT:
            snprintf(num, sizeof num, "%llu",
                     tk->kind == T_SEQ ? (unsigned long long)e->seq
                                       : (unsigned long long)e->slot);
            put_text(e, num, strlen(num));
            break;
        case T_PLUSNUM: /* gnu-results */
            plus_number(tk->col, e->seq, e->slot, num, sizeof num);
            put_text(e, num, strlen(num));
            break;
        case T_SEP:
            break;
        }
    }
    elem_end(e);
}

static int flatten(struct exp *e, const struct record *r, size_t n)
{
    size_t total = 0;
    for (size_t k = 0; k < n; k++)
        total += r[k].nval;
    e->flat = malloc((total + 1) * sizeof *e->flat);
    if (!e->flat)
        return -1;
    if (e->t->no_args)
        return 0;
    for (size_t k = 0; k < n; k++)
        for (size_t c = 0; c < r[k].nval; c++)
            e->flat[e->nflat++] = r[k].val[c];
    return 0;
}

/* Unquoted values (the value is the command): a line without shell syntax
 * means the same as its words run directly, so run them so. */
static int split_plain(struct exp *e)
{
    char **argv;
    if (shell_split(e->cmd.s, &argv) < 0)
        return -1;
    e->argv.v = argv; /* NULL: the shell runs it */
    return 0;
}

int tmpl_expand(const struct tmpl *t, const struct record *r, size_t n,
                uint64_t seq, int slot, char **cmd, char ***argv)
{
    struct exp e = {.t = t, .want_argv = !t->shell || t->quote_all,
                    .seq = seq, .slot = slot};
    if (flatten(&e, r, n) < 0)
        return -1;
    for (size_t i = 0; i < t->ntok;) {
        const struct tok *tk = &t->tok[i];
        if (tk->kind == T_SEP) {
            bput(&e.cmd, tk->text, tk->len);
            i++;
            continue;
        }
        size_t j = i;
        while (j < t->ntok && t->tok[j].word == tk->word)
            j++;
        if (t->xmode == 'X' && t->word_has_arg[tk->word]) {
            for (size_t k = 0; k < e.nflat; k++) { /* the word per value */
                if (k)
                    bput(&e.cmd, " ", 1);
                put_word(&e, i, j, &e.flat[k], 1);
            }
        } else {
            put_word(&e, i, j, e.flat, e.nflat);
        }
        i = j;
    }
    free(e.flat);
    if (!e.cmd.s && !e.cmd.oom) /* nothing at all: -N0 alone, --tagstring '' */
        e.cmd.oom = !(e.cmd.s = strdup(""));
    if (!e.oom && !e.cmd.oom && t->quote_all && e.argv.v) {
        free(e.cmd.s);
        e.cmd.s = shell_join(e.argv.v);
        if (t->shell) { /* a builtin: the shell runs the quoted line */
            strv_free(&e.argv);
        }
    }
    /* uq(): an unquoted value may hold shell syntax, as one that is the
     * command */
    if (!e.oom && !e.cmd.oom && e.cmd.s && (t->raw || (e.uq && !t->shell && !t->quote_all))) {
        strv_free(&e.argv);
        if (split_plain(&e) < 0)
            e.oom = 1;
    }
    for (int k = 0; k < t->shellquote && e.cmd.s; k++) {
        char *q = shell_quote(e.cmd.s);
        free(e.cmd.s);
        e.cmd.s = q;
    }
    if (e.oom || e.cmd.oom || !e.cmd.s) {
        free(e.cmd.s);
        free(e.elem.s);
        strv_free(&e.argv);
        errno = e.perl_err ? EINVAL : ENOMEM;
        return -1;
    }
    *cmd = e.cmd.s;
    *argv = e.argv.v;
    return e.skip ? 1 : 0;
}

static size_t quoted_length(const struct tmpl *t, const char *v,
                            const struct tok *tk)
{
    char *x = transform(t, tk, v);
    char *q = x && !t->raw ? shell_quote(x) : x;
    size_t len = q ? strlen(q) : 5 * strlen(v) + 2;
    if (q != x)
        free(q);
    free(x);
    return len;
}

/* The length one more record adds to a line, as GNU parallel counts it (it
 * decides where lines end): every placeholder adds each value of this
 * record and a space ({N}: the record's Nth, {#}: a digit); with -X each
 * word holding one is counted again per value instead of the spaces. */
size_t tmpl_record_length(const struct tmpl *t, const struct record *r)
{
    size_t len = 0;
    int x = t->xmode == 'X';
    for (size_t i = 0; i < t->ntok; i++) {
        const struct tok *tk = &t->tok[i];
        if (tk->kind == T_SEQ || tk->kind == T_SLOT || tk->kind == T_PLUSNUM)
            len += 1 + !x;
        if (tk->kind != T_ARG && tk->kind != T_PERL)
            continue;
        if (!tk->col) {
            for (size_t c = 0; c < r->nval; c++)
                len += quoted_length(t, r->val[c], tk) + !x;
            continue;
        }
        len += !x;
        long c = tk->col > 0 ? tk->col - 1 : (long)r->nval + tk->col;
        if (tk->col != POS_NONE && c >= 0 && (size_t)c < r->nval)
            len += quoted_length(t, r->val[c], tk);
    }
    for (int w = 0; x && w < t->nword; w++) {
        size_t text = 0;
        int holds = 0;
        for (size_t i = 0; i < t->ntok; i++)
            if (t->tok[i].word == w) {
                holds |= t->tok[i].kind != T_LIT;
                text += t->tok[i].kind == T_LIT ? t->tok[i].len : 0;
            }
        len += holds ? (text + 1) * r->nval : 0;
    }
    return len;
}

size_t tmpl_line_length(const struct tmpl *t, const struct record *r,
                        size_t n)
{
    char *cmd, **argv;
    if (tmpl_expand(t, r, n, 1, 1, &cmd, &argv) < 0)
        return 0;
    size_t len = strlen(cmd);
    free(cmd);
    argv_free(argv);
    return len;
}

char *tmpl_tag(const struct record *r, size_t n, char trim)
{
    struct buf b = {0};
    for (size_t k = 0; k < n; k++)
        for (size_t c = 0; c < r[k].nval; c++) {
            if (k || c)
                bput(&b, " ", 1);
            size_t len;
            const char *v = trim_value(trim, r[k].val[c], &len);
            bput(&b, v, len);
        }
    if (!b.s && !b.oom)
        return strdup("");
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
