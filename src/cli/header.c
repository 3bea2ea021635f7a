/* GNU parallel's column names and value clean-up: --header (the first
 * line of every input source names its columns, so {name} is {N}),
 * --trim (and --colsep's default trimming) and --csv's record parsing
 * (Text::CSV with binary => 1, as GNU parallel uses it). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static struct strv names; /* names.v[i]: the name of column i + 1 */

static int perl_space(char c)
{
    return c && strchr(" \t\n\r\f\v", c) != NULL; /* Perl's \s */
}

const char *trim_value(char trim, const char *v, size_t *len)
{
    size_t n = strlen(v);
    if (trim == 'l' || trim == 'b')
        while (perl_space(*v))
            v++, n--;
    if (trim == 'r' || trim == 'b')
        while (n && perl_space(v[n - 1]))
            n--;
    *len = n;
    return v;
}

int record_push(struct record *r, const char *s, size_t len)
{
    char **nv = realloc(r->val, (r->nval + 1) * sizeof *nv);
    if (!nv)
        return -1;
    r->val = nv;
    if (!(r->val[r->nval] = strndup(s, len)))
        return -1;
    r->nval++;
    return 0;
}

/* One quoted field at *p (past its opening quote): "" is a quote; the
 * closing quote must be followed by the separator or the end. */
static int csv_quoted(const char **p, const char *sep, size_t sl, char *out,
                      size_t *olen)
{
    const char *s = *p;
    size_t n = 0;
    for (;; s++) {
        if (!*s)
            return -1;
        if (*s != '"') {
            out[n++] = *s;
            continue;
        }
        if (s[1] == '"') {
            out[n++] = '"';
            s++;
            continue;
        }
        s++;
        if (*s && strncmp(s, sep, sl))
            return -1;
        *p = s;
        *olen = n;
        return 0;
    }
}

int csv_split(const struct opts *o, const char *line, struct record *r)
{
    const char *sep = o->colsep_raw ? o->colsep_raw : ",";
    size_t sl = strlen(sep);
    char *field = malloc(strlen(line) + 1);
    if (!field)
        return -1;
    for (const char *p = line;;) {
        size_t n = 0;
        if (*p == '"') {
            p++;
            if (csv_quoted(&p, sep, sl, field, &n) < 0)
                goto bad;
        } else {
            const char *e = strstr(p, sep);
            n = e ? (size_t)(e - p) : strlen(p);
            if (memchr(p, '"', n))
                goto bad;
            memcpy(field, p, n);
            p += n;
        }
        if (record_push(r, field, n) < 0) {
            free(field);
            return -1;
        }
        if (!*p)
            break;
        p += sl;
    }
    free(field);
    return 0;
bad:
    free(field);
    cli_error("CSV has unexpected format: ^%s^", line);
    return -2;
}

/* The first line of a source: its columns' names, split at --colsep as
 * Perl's split does (trailing empty fields dropped). */
int header_line(const struct opts *o, char *line)
{
    size_t len = strlen(line);
    if (len && line[len - 1] == '\r')
        line[--len] = 0;
    struct record r = {0};
    const char *v = line;
    for (regmatch_t m; *v && regexec(&o->colsep, v, 1, &m, 0) == 0 &&
                       m.rm_eo > 0; v += m.rm_eo)
        if (record_push(&r, v, (size_t)m.rm_so) < 0)
            goto nomem;
    if (*v && record_push(&r, v, strlen(v)) < 0)
        goto nomem;
    while (r.nval && !*r.val[r.nval - 1])
        free(r.val[--r.nval]);
    for (size_t i = 0; i < r.nval; i++) {
        if (strv_push(&names, r.val[i]) < 0)
            goto nomem;
        r.val[i] = NULL;
    }
    record_free(&r);
    return 0;
nomem:
    record_free(&r);
    cli_error("out of memory");
    return -1;
}

const char *header_name(size_t col)
{
    return col >= 1 && col <= names.n ? names.v[col - 1] : NULL;
}

/* Does "{NAME" + one of "" "/" "//" "." "/." + "}" start at p? Its length
 * and the suffix in *suf. NAME as GNU's regex: a '.' is any character. */
static const char perl_open[] = "{="; /* perl17: {=NAME ... =} */

static size_t name_at(const char *p, const char *name, const char **suf)
{
    if (*p != '{')
        return 0;
    size_t k = 0;
    if (p[1] == '=') { /* {=NAME ... =} is {=N ... =}, as GNU parallel's */
        for (; name[k]; k++)
            if (!p[2 + k] || (name[k] != '.' && p[2 + k] != name[k]))
                return 0;
        *suf = perl_open;
        return k && strstr(p + 2 + k, "=}") ? 2 + k : 0;
    }
    for (; name[k]; k++)
        if (!p[1 + k] || (name[k] != '.' && p[1 + k] != name[k]))
            return 0;
    static const char *const sfx[] = {"/.}", "//}", "/}", ".}", "}"};
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++)
        if (!strncmp(p + 1 + k, sfx[i], strlen(sfx[i]))) {
            *suf = sfx[i];
            return 1 + k + strlen(sfx[i]);
        }
    return 0;
}

/* s is text given by the user: {NAME...} becomes {ID...} (malloc'd, or s
 * itself when nothing changed). */
static char *rewrite(const char *s, const char *name, size_t id)
{
    size_t len = strlen(s), cap = len + 1;
    char *out = NULL;
    size_t o = 0;
    for (const char *p = s; *p;) {
        const char *suf;
        size_t used = name_at(p, name, &suf);
        if (!used) {
            if (out)
                out[o++] = *p;
            p++;
            continue;
        }
        if (!out) {
            cap = len * 2 + 64;
            if (!(out = malloc(cap)))
                return NULL;
            memcpy(out, s, (size_t)(p - s));
            o = (size_t)(p - s);
        }
        if (o + 32 + len >= cap && !(out = realloc(out, cap *= 2)))
            return NULL;
        o += (size_t)(suf == perl_open ? sprintf(out + o, "{=%zu", id)
                                       : sprintf(out + o, "{%zu%s", id, suf));
        p += used;
    }
    if (out)
        out[o] = 0;
    return out ? out : (char *)s;
}

/* Rewrite *w (the user's, or one of o->owned) for name -> id. */
static int rewrite_text(struct opts *o, const char **w, const char *name,
                        size_t id)
{
    if (!*w)
        return 0;
    char *n = rewrite(*w, name, id);
    if (!n)
        return -1;
    if (n == *w)
        return 0;
    if (strv_push(&o->owned, n) < 0) {
        free(n);
        return -1;
    }
    *w = n;
    return 0;
}

static int rewrite_all(struct opts *o, const char *name, size_t id)
{
    for (size_t i = 0; i < o->cmd.n; i++)
        if (rewrite_text(o, (const char **)&o->cmd.v[i], name, id) < 0)
            return -1;
    if (rewrite_text(o, &o->results, name, id) < 0)
        return -1;
    for (int k = 0; k < o->ntmpl; k++) /* gnumisc: --tmpl's, both */
        if (rewrite_text(o, &o->tmpl_name[k], name, id) < 0 ||
            rewrite_text(o, &o->tmpl_text[k], name, id) < 0)
            return -1;
    /* --tagstring's copy is opts' own: rewrite it in place of itself */
    const char *tag = o->tagstring;
    if (rewrite_text(o, &tag, name, id) < 0)
        return -1;
    if (tag != o->tagstring) {
        o->owned.v[--o->owned.n] = NULL;
        free((char *)o->tagstring);
        o->tagstring = tag;
    }
    return 0;
}

/* After the headers were read: {NAME} becomes {N} in the command,
 * --tagstring, --results and --tmpl's; then, as GNU parallel, each file source's
 * path names it too (numbered over the file sources alone). */
int header_rewrite(struct opts *o)
{
    if (!o->header || o->pipe)
        return 0;
    for (size_t i = 0; i < names.n; i++)
        if (rewrite_all(o, names.v[i], i + 1) < 0)
            goto nomem;
    size_t id = 0;
    for (size_t s = 0; s < o->nsrc; s++) {
        if (!o->src[s].is_file)
            continue;
        id++;
        while (names.n < id)
            if (strv_push(&names, strdup("")) < 0)
                goto nomem;
        char *p = strdup(o->src[s].path);
        if (!p)
            goto nomem;
        free(names.v[id - 1]);
        names.v[id - 1] = p;
        if (rewrite_all(o, p, id) < 0)
            goto nomem;
    }
    return 0;
nomem:
    cli_error("out of memory");
    return -1;
}

void header_free(void)
{
    strv_free(&names);
}
