/* The options GNU parallel reads before the command line's: the config
 * files (/etc/parallel/config, each config dir's config, ~/.parallelrc), or
 * the --profile/-J files instead, then $PARALLEL; each split into words as
 * Perl's Text::ParseWords::shellwords splits them. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

/* One quoted piece from p (at its quote) into w: the end, or NULL when it
 * is not closed. Backslashes escape in "..." and are kept in '...'. */
static const char *quoted(const char *p, char *w, size_t *wl)
{
    char q = *p++;
    for (; *p && *p != q; p++) {
        if (*p == '\\' && p[1]) {
            if (q == '\'')
                w[(*wl)++] = *p;
            p++;
        }
        w[(*wl)++] = *p;
    }
    return *p ? p + 1 : NULL;
}

/* Text::ParseWords::shellwords: words into v (owned). A line it cannot
 * parse (an open quote) gives no words, as it gives Perl none. */
static int shellwords(const char *line, struct strv *v)
{
    size_t n0 = v->n;
    char *w = malloc(strlen(line) + 1);
    if (!w)
        return -1;
    const char *p = line;
    while (is_space(*p))
        p++;
    while (*p) {
        size_t wl = 0;
        while (*p && !is_space(*p)) {
            if (*p == '"' || *p == '\'') {
                if (!(p = quoted(p, w, &wl)))
                    goto unparsable;
            } else if (*p == '\\') {
                if (!p[1])
                    goto unparsable;
                w[wl++] = p[1];
                p += 2;
            } else {
                w[wl++] = *p++;
            }
        }
        while (is_space(*p))
            p++;
        char *word = strndup(w, wl);
        if (!word || strv_push(v, word) < 0) {
            free(word);
            free(w);
            return -1;
        }
    }
    free(w);
    return 0;
unparsable:
    while (v->n > n0)
        free(v->v[--v->n]);
    free(w);
    return 0;
}

/* A profile file: each line's words, but for comment lines. */
static int read_file(const char *path, struct strv *v)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return 0; /* GNU parallel: a profile not there adds nothing */
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n')
            line[n - 1] = 0;
        const char *p = line;
        while (is_space(*p))
            p++;
        if (*p != '#')
            rc = shellwords(line, v);
    }
    free(line);
    fclose(f);
    return rc;
}

static int is_dir(const char *d)
{
    struct stat st;
    return d && *d && stat(d, &st) == 0 && S_ISDIR(st.st_mode);
}

/* GNU parallel's config dirs that exist: $PARALLEL_HOME,
 * $XDG_CONFIG_HOME/parallel, each of $XDG_CONFIG_DIRS/parallel, and
 * ~/.parallel: the file name in each is read into v. */
static int each_dir(const char *name, struct strv *v)
{
    const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
    const char *dirs = getenv("XDG_CONFIG_DIRS");
    struct strv cand = {0};
    char *s;
    int rc = 0;
    if ((s = getenv("PARALLEL_HOME")) && *s)
        rc |= !(s = strdup(s)) || strv_push(&cand, s);
    if (xdg && *xdg)
        rc |= asprintf(&s, "%s/parallel", xdg) < 0 || strv_push(&cand, s);
    for (const char *d = dirs; d && *d && !rc;) {
        size_t l = strcspn(d, ":");
        rc |= asprintf(&s, "%.*s/parallel", (int)l, d) < 0 ||
              strv_push(&cand, s);
        d += l + (d[l] == ':');
    }
    if (home)
        rc |= asprintf(&s, "%s/.parallel", home) < 0 || strv_push(&cand, s);
    for (size_t i = 0; i < cand.n && !rc; i++) {
        if (!is_dir(cand.v[i]))
            continue;
        char *path;
        rc = asprintf(&path, "%s/%s", cand.v[i], name) < 0 ? -1 : 0;
        if (!rc) {
            rc = read_file(path, v);
            free(path);
        }
    }
    strv_free(&cand);
    return rc ? -1 : 0;
}

int profile_read(struct opts *o, char **prof, size_t nprof, int plain,
                 size_t *nfile)
{
    int rc = 0;
    if (plain) {
        *nfile = 0;
        return 0;
    }
    if (!nprof) {
        const char *home = getenv("HOME");
        char *rc_path = NULL;
        rc = read_file("/etc/parallel/config", &o->words);
        if (!rc)
            rc = each_dir("config", &o->words);
        if (!rc && home && asprintf(&rc_path, "%s/.parallelrc", home) >= 0)
            rc = read_file(rc_path, &o->words);
        free(rc_path);
    }
    for (size_t i = 0; i < nprof && !rc; i++)
        rc = prof[i][0] == '/' || !strncmp(prof[i], "./", 2)
                 ? read_file(prof[i], &o->words)
                 : each_dir(prof[i], &o->words);
    *nfile = o->words.n;
    const char *env = getenv("PARALLEL");
    if (!rc && env && *env)
        rc = shellwords(env, &o->words);
    return rc;
}
