/* Command templates: placeholders ({} {.} {/} {//} {/.} {#} {%} {N...}),
 * GNU parallel's shell quoting of values, -X (repeat the word per item) and
 * -m (all items in place of the placeholder), and the choice between running
 * through the shell and running argv directly: only the template's own text
 * can hold shell syntax, since values are always quoted, so a template
 * without any runs without a shell and means exactly the same. */
#include "cli.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

enum tok_kind { T_SEP, T_LIT, T_ARG, T_SEQ, T_SLOT };
enum xform { X_NONE, X_NOEXT, X_BASE, X_DIR, X_BASENOEXT };

struct tok {
    enum tok_kind kind;
    const char *text; /* T_SEP, T_LIT: into t->str */
    size_t len;
    int col;          /* T_ARG: 1-based column, 0 = every value */
    enum xform xf;
    int word;         /* index of the word holding it (-1 for T_SEP) */
};

struct tmpl {
    char *str;        /* the template, words joined by spaces */
    struct tok *tok;
    size_t ntok;
    int nword;
    int *word_has_arg; /* per word: holds an argument placeholder */
    int shell;        /* needs the shell */
    int raw;          /* no command: the item is the command, unquoted */
    char xmode;
};

char *shell_quote(const char *s)
{
    size_t len = strlen(s);
    if (!len)
        return strdup("''");
    int plain = 1;
    for (const char *p = s; *p && plain; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                (*p >= '0' && *p <= '9') || strchr("-_.+/", *p);
    if (plain)
        return strdup(s);
    /* '...' with each ' as '"'"'; then '' at either end dropped. */
    char *q = malloc(len * 5 + 3), *w = q;
    if (!q)
        return NULL;
    *w++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(w, "'\"'\"'", 5);
            w += 5;
        } else {
            *w++ = *p;
        }
    }
    *w++ = '\'';
    *w = 0;
    char *start = q;
    if (w - start >= 2 && start[0] == '\'' && start[1] == '\'')
        start += 2;
    if (w - start >= 2 && w[-1] == '\'' && w[-2] == '\'')
        *(w -= 2) = 0;
    if (start != q)
        memmove(q, start, (size_t)(w - start) + 1);
    return q;
}

static int is_meta(char c)
{
    return c && strchr("|&;<>()$`\\\"'*?[]{}#~=%!\n", c);
}

static int is_shell_word(const char *w, size_t len)
{
    static const char *const words[] = {
        "if", "then", "else", "elif", "fi", "case", "esac", "for", "while",
        "until", "do", "done", "function", "select", "time", "cd", "export",
        "exit", "set", "unset", "source", ".", "alias", "unalias", "eval",
        "exec", "read", "return", "shift", "trap", "ulimit", "umask", "wait",
        "local", "declare", "typeset", "readonly", "type", "hash", "command",
        "builtin", "let", "break", "continue", "jobs", "fg", "bg", ":",
        "getopts", "times", "shopt", "enable", "mapfile", "printf", NULL};
    for (const char *const *k = words; *k; k++)
        if (strlen(*k) == len && !memcmp(*k, w, len))
            return 1;
    return 0;
}

/* Parse "{...}" at p: 1 and the token when it is a placeholder. */
static int parse_placeholder(const char *p, struct tok *tk, size_t *used)
{
    const char *q = p + 1;
    int col = 0;
    while (*q >= '0' && *q <= '9' && col < 100000)
        col = col * 10 + (*q++ - '0');
    if (q > p + 1 && col == 0)
        return 0;
    static const struct { const char *s; enum xform xf; } xf[] = {
        {"}", X_NONE}, {".}", X_NOEXT}, {"/}", X_BASE}, {"//}", X_DIR},
        {"/.}", X_BASENOEXT}};
    for (size_t i = 0; i < sizeof xf / sizeof xf[0]; i++) {
        size_t l = strlen(xf[i].s);
        if (!strncmp(q, xf[i].s, l)) {
            tk->kind = T_ARG;
            tk->col = col;
            tk->xf = xf[i].xf;
            *used = (size_t)(q - p) + l;
            return 1;
        }
    }
    if (col == 0 && (!strncmp(q, "#}", 2) || !strncmp(q, "%}", 2))) {
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

struct tmpl *tmpl_compile(const struct opts *o)
{
    struct tmpl *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->xmode = o->xmode;
    size_t len = 0;
    for (size_t i = 0; i < o->cmd.n; i++)
        len += strlen(o->cmd.v[i]) + 1;
    t->str = malloc(len + 4);
    if (!t->str)
        goto fail;
    char *w = t->str;
    for (size_t i = 0; i < o->cmd.n; i++)
        w = stpcpy(stpcpy(w, i ? " " : ""), o->cmd.v[i]);
    *w = 0;
    t->raw = o->cmd.n == 0;
    if (t->raw)
        strcpy(t->str, "{}");

    int have_arg = 0, word = -1, in_word = 0;
    for (const char *p = t->str; *p;) {
        struct tok tk = {0};
        size_t used = 0;
        if (*p == ' ' || *p == '\t') {
            used = strspn(p, " \t");
            tk.kind = T_SEP;
            tk.word = -1;
            in_word = 0;
        } else {
            if (!in_word)
                word++;
            in_word = 1;
            tk.word = word;
            if (*p == '{' && parse_placeholder(p, &tk, &used)) {
                have_arg |= tk.kind == T_ARG;
            } else {
                used = 1;
                while (p[used] && p[used] != ' ' && p[used] != '\t' &&
                       p[used] != '{')
                    used++;
                tk.kind = T_LIT;
            }
        }
        tk.text = p;
        tk.len = used;
        if (add_tok(t, tk) < 0)
            goto fail;
        p += used;
    }
    if (!have_arg) { /* no placeholder: the values go at the end */
        if (o->cmd.n && add_tok(t, (struct tok){T_SEP, " ", 1, 0, 0, -1}) < 0)
            goto fail;
        if (add_tok(t, (struct tok){T_ARG, "{}", 2, 0, X_NONE, ++word}) < 0)
            goto fail;
    }
    t->nword = word + 1;
    t->word_has_arg = calloc((size_t)t->nword + 1, sizeof(int));
    if (!t->word_has_arg)
        goto fail;
    for (size_t i = 0; i < t->ntok; i++) {
        const struct tok *tk = &t->tok[i];
        if (tk->kind == T_ARG)
            t->word_has_arg[tk->word] = 1;
        if (tk->kind == T_LIT)
            for (size_t k = 0; k < tk->len; k++)
                t->shell |= is_meta(tk->text[k]);
    }
    t->shell |= t->raw;
    for (size_t i = 0; i < t->ntok && !t->shell; i++)
        if (t->tok[i].word == 0 && t->tok[i].kind == T_LIT &&
            (i + 1 == t->ntok || t->tok[i + 1].word != 0))
            t->shell = is_shell_word(t->tok[i].text, t->tok[i].len);
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
    int oom;
    uint64_t seq;
    int slot;
};

static void elem_end(struct exp *e)
{
    if (!e->want_argv)
        return;
    char *s = e->elem.s ? e->elem.s : strdup("");
    if (!s || e->elem.oom || strv_push(&e->argv, s) < 0) {
        free(s);
        e->oom = 1;
    }
    memset(&e->elem, 0, sizeof e->elem);
}

/* One placeholder's values from records r[0..n), separated like words. */
static void put_values(struct exp *e, const struct tok *tk,
                       const struct record *r, size_t n)
{
    int first = 1;
    for (size_t k = 0; k < n; k++) {
        size_t lo = tk->col ? (size_t)tk->col - 1 : 0;
        size_t hi = tk->col ? lo + 1 : r[k].nval;
        for (size_t c = lo; c < hi; c++) {
            const char *v = c < r[k].nval ? r[k].val[c] : "";
            char *x = transform(v, tk->xf);
            char *q = x && !e->t->raw ? shell_quote(x) : x;
            if (!x || !q) {
                e->oom = 1;
                if (q != x)
                    free(q);
                free(x);
                return;
            }
            if (!first) {
                bput(&e->cmd, " ", 1);
                elem_end(e);
            }
            first = 0;
            bput(&e->cmd, q, strlen(q));
            if (e->want_argv)
                bput(&e->elem, x, strlen(x));
            if (q != x)
                free(q);
            free(x);
        }
    }
}

/* Tokens [i, j) of one word, for records r[0..n). */
static void put_word(struct exp *e, size_t i, size_t j,
                     const struct record *r, size_t n)
{
    for (; i < j; i++) {
        const struct tok *tk = &e->t->tok[i];
        char num[32];
        switch (tk->kind) {
        case T_LIT:
            bput(&e->cmd, tk->text, tk->len);
            if (e->want_argv)
                bput(&e->elem, tk->text, tk->len);
            break;
        case T_ARG:
            put_values(e, tk, r, n);
            break;
        case T_SEQ:
        case T_SLOT:
            snprintf(num, sizeof num, "%llu",
                     tk->kind == T_SEQ ? (unsigned long long)e->seq
                                       : (unsigned long long)e->slot);
            bput(&e->cmd, num, strlen(num));
            if (e->want_argv)
                bput(&e->elem, num, strlen(num));
            break;
        case T_SEP:
            break;
        }
    }
    elem_end(e);
}

int tmpl_expand(const struct tmpl *t, const struct record *r, size_t n,
                uint64_t seq, int slot, char **cmd, char ***argv)
{
    struct exp e = {.t = t, .want_argv = !t->shell, .seq = seq, .slot = slot};
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
            for (size_t k = 0; k < n; k++) { /* the word once per item */
                if (k)
                    bput(&e.cmd, " ", 1);
                put_word(&e, i, j, &r[k], 1);
            }
        } else {
            put_word(&e, i, j, r, n);
        }
        i = j;
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

size_t tmpl_base_length(const struct tmpl *t)
{
    return strlen(t->str);
}

size_t tmpl_record_length(const struct tmpl *t, const struct record *r)
{
    size_t len = 0, vals = 0;
    for (size_t c = 0; c < r->nval; c++) {
        char *q = shell_quote(r->val[c]);
        len += (q ? strlen(q) : strlen(r->val[c]) * 5) + 1;
        free(q);
    }
    for (size_t i = 0; i < t->ntok; i++)
        vals += t->tok[i].kind == T_ARG;
    /* -X repeats whole words; count the word's text once more per item */
    return len * (vals ? vals : 1) + (t->xmode == 'X' ? strlen(t->str) : 0);
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
