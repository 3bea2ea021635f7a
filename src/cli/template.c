/* Command templates, compiled: placeholders ({} {.} {/} {//} {/.} {#} {%} {N...},
 * -I STR), GNU parallel's shell quoting of values, -X (repeat the word per
 * value) and -m (all values in place of the placeholder), -q, and the choice
 * between running through the shell and running argv directly: only the
 * template's own text can hold shell syntax, since values are always quoted,
 * so a template without any runs without a shell and means exactly the same.
 * As in GNU parallel, a line's values are one flat list (every value of
 * every record): {N} is its Nth, {-N} its Nth from the end. */
#include "cli.h"
#include "template.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

_Static_assert((int)TMPL_NAME_NOEXT == (int)X_NOEXT &&
                   (int)TMPL_NAME_BASENOEXT == (int)X_BASENOEXT,
               "a renamed {.}-like string is its xform");

/* The length of the renamed replacement string (-I, --er, ...) at p, with
 * its kind in *which; 0 when none starts there. */
static size_t renamed_at(const struct tmpl *t, const char *p, int *which)
{
    for (int k = 0; k < TMPL_NAMES; k++) {
        size_t l = t->names[k] ? strlen(t->names[k]) : 0;
        if (l && !strncmp(p, t->names[k], l)) {
            *which = k;
            return l;
        }
    }
    return 0;
}

/* Parse "{...}" (or a renamed string: -I's STR ...) at p: 1 and the token
 * when it is a placeholder. */
static int parse_placeholder(const struct tmpl *t, const char *p,
                             struct tok *tk, size_t *used)
{
    int which;
    size_t l = renamed_at(t, p, &which);
    if (l) {
        tk->kind = which == TMPL_NAME_SEQ ? T_SEQ
                   : which == TMPL_NAME_SLOT ? T_SLOT : T_ARG;
        tk->xf = which < TMPL_NAME_SEQ ? (enum xform)which : X_NONE;
        *used = l;
        return 1;
    }
    if (t->perl) { /* perl17: {= =} and --rpl first, as GNU parallel */
        int rc = perl_placeholder(t, p, tk, used);
        if (rc)
            return rc;
    }
    if (*p != '{')
        return 0;
    if (t->plus) { /* gnu-results */
        int col, num;
        long n = plus_parse(p, &tk->plus, &col, &num);
        if (n < 0) {
            errno = n == -1 ? EINVAL : ENOMEM;
            return -1;
        }
        if (n > 0) {
            tk->kind = num ? T_PLUSNUM : T_ARG;
            tk->col = num ? num : col;
            *used = (size_t)n;
            return 1;
        }
    }
    const char *q = p + 1;
    int col = parse_position(&q);
    int positional = q > p + 1;
    static const struct { const char *s; enum xform xf; } xf[] = {
        {"}", X_NONE}, {".}", X_NOEXT}, {"/}", X_BASE}, {"//}", X_DIR},
        {"/.}", X_BASENOEXT}};
    for (size_t i = 0; i < sizeof xf / sizeof xf[0]; i++) {
        size_t l = strlen(xf[i].s);
        /* a new name replaces the old one (-I: {} and so its {N} too) */
        if (t->names[xf[i].xf])
            continue;
        if (!strncmp(q, xf[i].s, l)) {
            tk->kind = T_ARG;
            tk->col = col;
            tk->xf = xf[i].xf;
            *used = (size_t)(q - p) + l;
            return 1;
        }
    }
    if (!positional && ((!strncmp(q, "#}", 2) && !t->names[TMPL_NAME_SEQ]) ||
                        (!strncmp(q, "%}", 2) && !t->names[TMPL_NAME_SLOT]))) {
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
    t->word_end = end;
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
            const char *var = NULL;
            long vl = t->plus ? plus_var_at(p, &var) : 0;
            if (vl > 0) { /* GNU's {host}: ${PARALLEL_SSHHOST} as text */
                tk.kind = T_LIT;
                tk.var = 1;
                tk.text = var;
                tk.len = strlen(var);
                if (add_tok(t, tk) < 0)
                    return -1;
                p += vl;
                continue;
            }
            int ph = parse_placeholder(t, p, &tk, &used);
            if (ph < 0)
                return -1;
            if (!ph) {
                used = 1;
                int k;
                while (p + used < end && p[used] != '{' &&
                       !(is_ws(p[used]) && !t->quote_all) &&
                       !renamed_at(t, p + used, &k) &&
                       !(t->perl && perl_may_start(t, p + used)))
                    used++;
                tk.kind = T_LIT;
            }
        }
        tk.text = p;
        tk.len = used;
        if (add_tok(t, tk) < 0 && (plus_free(tk.plus), 1))
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
    return tmpl_compile_text(o, o->tagstring);
}

struct tmpl *tmpl_compile_text(const struct opts *o, const char *text)
{
    char *w = (char *)text;
    return compile(o, &w, 1, 1);
}

/* The words joined into t->str, and their tokens (*word: the last word's
 * index). */
static int tokenize_words(struct tmpl *t, char *const *words, size_t nwords,
                          int *word)
{
    char *w = t->str;
    for (size_t i = 0; i < nwords; i++)
        w = stpcpy(stpcpy(w, i ? " " : ""), words[i]);
    *w = 0;
    for (size_t i = 0, off = 0; i < nwords; i++) {
        size_t wl = strlen(words[i]);
        int in_word = 0;
        if (i && add_tok(t, (struct tok){.kind = T_SEP,
                                         .text = t->str + off - 1, .len = 1,
                                         .word = -1}) < 0)
            return -1;
        if (tokenize(t, t->str + off, t->str + off + wl, word, &in_word) < 0)
            return -1;
        /* -q: an empty word is an empty argument ('' on the line) */
        if (!wl && t->quote_all &&
            add_tok(t, (struct tok){.kind = T_LIT, .text = t->str + off,
                                    .word = ++*word}) < 0)
            return -1;
        off += wl + 1;
    }
    return 0;
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
    memcpy(t->names, o->rpl_name, sizeof t->names);
    t->no_args = o->no_args;
    t->shellquote = o->shellquote;
    t->trim = o->trim ? o->trim : 'n';
    t->plus = o->plus;
    char **merged = NULL; /* perl17: {= ... =} across words is one */
    if ((t->perl = perl_words(o, &words, &nwords, &merged)) < 0)
        goto fail;
    size_t len = 0;
    for (size_t i = 0; i < nwords; i++)
        len += strlen(words[i]) + 1;
    t->str = malloc(len + 4);
    if (!t->str)
        goto fail;
    int word = -1;
    if (nwords == 0) {
        strcpy(t->str, "{}");
        t->raw = !t->quote_all;
        if (add_tok(t, (struct tok){.kind = T_ARG, .text = t->str, .len = 2,
                                    .word = ++word}) < 0)
            goto fail;
    }
    if (tokenize_words(t, words, nwords, &word) < 0)
        goto fail;
    int have_arg = 0;
    for (size_t i = 0; i < t->ntok; i++)
        have_arg |= (t->tok[i].kind != T_LIT && t->tok[i].kind != T_SEP) ||
                    t->tok[i].var;
    /* no placeholder: the values at the end (--cat's file name too) */
    if (!have_arg && !tag && (!o->pipe || o->pipe_cat || o->pipe_fifo)) {
        if (add_tok(t, (struct tok){.kind = T_SEP, .text = " ", .len = 1,
                                    .word = -1}) < 0)
            goto fail;
        if (add_tok(t, (struct tok){.kind = T_ARG, .text = "{}", .len = 2,
                                    .word = ++word}) < 0)
            goto fail;
    }
    t->raw |= !t->quote_all && starts_with_placeholder(t);
    t->nword = word + 1;
    t->word_has_arg = calloc((size_t)t->nword + 1, sizeof(int));
    if (!t->word_has_arg)
        goto fail;
    for (size_t i = 0; i < t->ntok; i++) {
        if ((t->tok[i].kind == T_ARG || t->tok[i].kind == T_PERL) &&
            t->tok[i].col == 0)
            t->word_has_arg[t->tok[i].word] = 1;
        t->needs_total |= t->tok[i].kind == T_PLUSNUM && t->tok[i].col != 3;
        t->needs_total |= t->tok[i].kind == T_PERL &&
                          perl_needs_total(t->tok[i].pexpr);
    }
    t->shell = needs_shell(t);
    if (tag) { /* a text, never run: no quoting, no argv */
        t->quote_all = 0;
        t->raw = t->shell = 1;
    }
    perl_free_words(merged, nwords);
    return t;
fail:
    perl_free_words(merged, nwords);
    tmpl_free(t);
    return NULL;
}

int tmpl_needs_total(const struct tmpl *t)
{
    return t->needs_total;
}

void tmpl_free(struct tmpl *t)
{
    if (!t)
        return;
    free(t->str);
    for (size_t i = 0; i < t->ntok; i++)
        plus_free(t->tok[i].plus);
    free(t->tok);
    free(t->word_has_arg);
    free(t);
}
