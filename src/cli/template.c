/* Command templates: placeholders ({} {.} {/} {//} {/.} {#} {%} {N...},
 * -I STR), GNU parallel's shell quoting of values, -X (repeat the word per
 * value) and -m (all values in place of the placeholder), -q, and the choice
 * between running through the shell and running argv directly: only the
 * template's own text can hold shell syntax, since values are always quoted,
 * so a template without any runs without a shell and means exactly the same.
 * As in GNU parallel, a line's values are one flat list (every value of
 * every record): {N} is its Nth, {-N} its Nth from the end. */
#include "cli.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

enum tok_kind { T_SEP, T_LIT, T_ARG, T_SEQ, T_SLOT };
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
};

/* The position of {N...}: digits as GNU parallel reads them ("0" is every
 * value, "00" and "-0" none). */
static int parse_position(const char **q)
{
    const char *p = *q;
    int neg = *p == '-', v = 0;
    p += neg;
    const char *d = p;
    while (*p >= '0' && *p <= '9' && v < 100000)
        v = v * 10 + (*p++ - '0');
    if (p == d)
        return 0;
    *q = p;
    if (v == 0)
        return p - d == 1 && !neg ? 0 : POS_NONE;
    return neg ? -v : v;
}

/* Parse "{...}" (or -I's STR) at p: 1 and the token when it is a
 * placeholder. */
static int parse_placeholder(const struct tmpl *t, const char *p,
                             struct tok *tk, size_t *used)
{
    if (t->rstr && !strncmp(p, t->rstr, strlen(t->rstr))) {
        tk->kind = T_ARG;
        *used = strlen(t->rstr);
        return 1;
    }
    if (*p != '{')
        return 0;
    const char *q = p + 1;
    int col = parse_position(&q);
    int positional = q > p + 1;
    static const struct { const char *s; enum xform xf; } xf[] = {
        {"}", X_NONE}, {".}", X_NOEXT}, {"/}", X_BASE}, {"//}", X_DIR},
        {"/.}", X_BASENOEXT}};
    for (size_t i = 0; i < sizeof xf / sizeof xf[0]; i++) {
        size_t l = strlen(xf[i].s);
        /* -I replaces {} and so its {N} too; {.} {/} ... stay */
        if (t->rstr && xf[i].xf == X_NONE)
            continue;
        if (!strncmp(q, xf[i].s, l)) {
            tk->kind = T_ARG;
            tk->col = col;
            tk->xf = xf[i].xf;
            *used = (size_t)(q - p) + l;
            return 1;
        }
    }
    if (!positional && (!strncmp(q, "#}", 2) || !strncmp(q, "%}", 2))) {
        tk->kind = *q == '#' ? T_SEQ : T_SLOT;
        *used = 3;
        return 1;
    }
    return 0;
}

static int add_tok(struct tmpl *t, struct tok tk)
{
    struct tok *v = realloc(t->tok, (t->ntok + 1) * sizeof *v);
    if (!v)
        return -1;
    t->tok = v;
    t->tok[t->ntok++] = tk;
    return 0;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* Tokens of [p, end): words split at blanks (with -q only the command's own
 * words are words: their blanks are text). */
static int tokenize(struct tmpl *t, const char *p, const char *end,
                    int *word, int *in_word)
{
    while (p < end) {
        struct tok tk = {0};
        size_t used = 0;
        if (is_ws(*p) && !t->quote_all) {
            while (p + used < end && is_ws(p[used]))
                used++;
            tk.kind = T_SEP;
            tk.word = -1;
            *in_word = 0;
        } else {
            if (!*in_word)
                ++*word;
            *in_word = 1;
            tk.word = *word;
            if (!parse_placeholder(t, p, &tk, &used)) {
                used = 1;
                while (p + used < end && p[used] != '{' &&
                       !(is_ws(p[used]) && !t->quote_all) &&
                       !(t->rstr && !strncmp(p + used, t->rstr,
                                             strlen(t->rstr))))
                    used++;
                tk.kind = T_LIT;
            }
        }
        tk.text = p;
        tk.len = used;
        if (add_tok(t, tk) < 0)
            return -1;
        p += used;
    }
    return 0;
}

/* GNU parallel quotes no value when the command word itself starts with a
 * placeholder ("{}", "{2}", "my_{}"), so that the value can be a command. */
static int starts_with_placeholder(const struct tmpl *t)
{
    for (size_t i = 0; i < t->ntok; i++) {
        const struct tok *tk = &t->tok[i];
        if (tk->kind == T_SEP)
            return 0;
        if (tk->kind != T_LIT)
            return 1;
        for (size_t k = 0; k < tk->len; k++)
            if (strchr(" \t\n=", tk->text[k]))
                return 0;
    }
    return 0;
}

/* Does the command need the shell: its own text has shell syntax, or its
 * command word is a shell keyword or builtin. */
static int needs_shell(const struct tmpl *t)
{
    if (t->raw)
        return 1;
    for (size_t i = 0; i < t->ntok && !t->quote_all; i++)
        if (t->tok[i].kind == T_LIT)
            for (size_t k = 0; k < t->tok[i].len; k++)
                if (shell_is_meta(t->tok[i].text[k]))
                    return 1;
    for (size_t i = 0; i < t->ntok; i++)
        if (t->tok[i].word == 0 && t->tok[i].kind == T_LIT &&
            (i + 1 == t->ntok || t->tok[i + 1].word != 0))
            return shell_is_word(t->tok[i].text, t->tok[i].len);
    return 0;
}

static struct tmpl *compile(const struct opts *o, char *const *words,
                            size_t nwords, int tag);

struct tmpl *tmpl_compile(const struct opts *o)
{
    return compile(o, o->cmd.v, o->cmd.n, 0);
}

struct tmpl *tmpl_compile_tag(const struct opts *o)
{
    char *w = (char *)o->tagstring;
    return compile(o, &w, 1, 1);
}

/* tag: --tagstring's text: one word, its blanks text, values unquoted,
 * nothing appended. */
static struct tmpl *compile(const struct opts *o, char *const *words,
                            size_t nwords, int tag)
{
    struct tmpl *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->xmode = tag ? 0 : o->xmode;
    t->quote_all = o->quote_all || tag;
    t->rstr = o->replace_str;
    t->no_args = o->no_args;
    t->shellquote = o->shellquote;
    size_t len = 0;
    for (size_t i = 0; i < nwords; i++)
        len += strlen(words[i]) + 1;
    t->str = malloc(len + 4);
    if (!t->str)
        goto fail;
    char *w = t->str;
    for (size_t i = 0; i < nwords; i++)
        w = stpcpy(stpcpy(w, i ? " " : ""), words[i]);
    *w = 0;
    int word = -1, in_word = 0;
    if (nwords == 0) {
        strcpy(t->str, "{}");
        t->raw = !t->quote_all;
        if (add_tok(t, (struct tok){T_ARG, t->str, 2, 0, X_NONE, ++word}) < 0)
            goto fail;
    }
    for (size_t i = 0, off = 0; i < nwords; i++) {
        size_t wl = strlen(words[i]);
        if (i && add_tok(t, (struct tok){T_SEP, t->str + off - 1, 1, 0, 0,
                                         -1}) < 0)
            goto fail;
        in_word = 0;
        if (tokenize(t, t->str + off, t->str + off + wl, &word, &in_word) < 0)
            goto fail;
        off += wl + 1;
    }
    int have_arg = 0;
    for (size_t i = 0; i < t->ntok; i++)
        have_arg |= t->tok[i].kind != T_LIT && t->tok[i].kind != T_SEP;
    if (!have_arg && !tag && !o->pipe) { /* no placeholder: values at end */
        if (add_tok(t, (struct tok){T_SEP, " ", 1, 0, 0, -1}) < 0)
            goto fail;
        if (add_tok(t, (struct tok){T_ARG, "{}", 2, 0, X_NONE, ++word}) < 0)
            goto fail;
    }
    t->raw |= !t->quote_all && starts_with_placeholder(t);
    t->nword = word + 1;
    t->word_has_arg = calloc((size_t)t->nword + 1, sizeof(int));
    if (!t->word_has_arg)
        goto fail;
    for (size_t i = 0; i < t->ntok; i++)
        if (t->tok[i].kind == T_ARG && t->tok[i].col == 0)
            t->word_has_arg[t->tok[i].word] = 1;
    t->shell = needs_shell(t);
    if (tag) { /* a text, never run: no quoting, no argv */
        t->quote_all = 0;
        t->raw = t->shell = 1;
    }
    return t;
fail:
    tmpl_free(t);
    return NULL;
}

void tmpl_free(struct tmpl *t)
{
    if (!t)
        return;
    free(t->str);
    free(t->tok);
    free(t->word_has_arg);
    free(t);
}

void argv_free(char **argv)
{
    if (!argv)
        return;
    for (char **a = argv; *a; a++)
        free(*a);
    free(argv);
}

/* The value of a placeholder after its transformation (malloc'd). */
static char *transform(const char *v, enum xform xf)
{
    if (xf == X_DIR) {
        char *c = strdup(v);
        char *d = c ? strdup(dirname(c)) : NULL;
        free(c);
        return d;
    }
    if (xf == X_BASE || xf == X_BASENOEXT) { /* everything after the last slash */
        const char *s = strrchr(v, '/');
        v = s ? s + 1 : v;
    }
    size_t len = strlen(v);
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

/* One value v: transformed, quoted on the command line. */
static void put_value(struct exp *e, const char *v, enum xform xf)
{
    char *x = transform(v, xf);
    char *q = x && !e->t->raw ? shell_quote(x) : x;
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
            put_value(e, e->flat[i], tk->xf);
        return;
    }
    for (size_t k = 0; k < n; k++) {
        if (k) {
            bput(&e->cmd, " ", 1);
            elem_end(e);
        }
        put_value(e, vals[k], tk->xf);
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
            put_values(e, tk, vals, n);
            break;
        case T_SEQ:
        case T_SLOT:
            snprintf(num, sizeof num, "%llu",
                     tk->kind == T_SEQ ? (unsigned long long)e->seq
                                       : (unsigned long long)e->slot);
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
    if (!e.oom && !e.cmd.oom && t->raw && e.cmd.s && split_plain(&e) < 0)
        e.oom = 1;
    for (int k = 0; k < t->shellquote && e.cmd.s; k++) {
        char *q = shell_quote(e.cmd.s);
        free(e.cmd.s);
        e.cmd.s = q;
    }
    if (e.oom || e.cmd.oom || !e.cmd.s) {
        free(e.cmd.s);
        free(e.elem.s);
        strv_free(&e.argv);
        return -1;
    }
    *cmd = e.cmd.s;
    *argv = e.argv.v;
    return 0;
}

static size_t quoted_length(const struct tmpl *t, const char *v,
                            enum xform xf)
{
    char *x = transform(v, xf);
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
        if (tk->kind == T_SEQ || tk->kind == T_SLOT)
            len += 1 + !x;
        if (tk->kind != T_ARG)
            continue;
        if (!tk->col) {
            for (size_t c = 0; c < r->nval; c++)
                len += quoted_length(t, r->val[c], tk->xf) + !x;
            continue;
        }
        len += !x;
        long c = tk->col > 0 ? tk->col - 1 : (long)r->nval + tk->col;
        if (tk->col != POS_NONE && c >= 0 && (size_t)c < r->nval)
            len += quoted_length(t, r->val[c], tk->xf);
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

char *tmpl_tag(const struct record *r, size_t n)
{
    struct buf b = {0};
    for (size_t k = 0; k < n; k++)
        for (size_t c = 0; c < r[k].nval; c++) {
            if (k || c)
                bput(&b, " ", 1);
            bput(&b, r[k].val[c], strlen(r[k].val[c]));
        }
    if (!b.s && !b.oom)
        return strdup("");
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
