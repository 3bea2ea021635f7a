/* Growable string vectors (NULL-terminated, each string owned), and
 * reading a file named on the command line ("-": stdin) into one, a line
 * each, or whole. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int strv_push(struct strv *s, char *str)
{
    if (s->n + 1 >= s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = str;
    s->v[s->n] = NULL;
    return 0;
}

void strv_free(struct strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

int strv_read_lines(struct strv *out, const char *path, int comments)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        const char *s = comments ? line + strspn(line, " \t") : line;
        if (!*s || (comments && *s == '#'))
            continue;
        char *dup = strdup(s);
        if (!dup || strv_push(out, dup) < 0) {
            free(dup);
            errno = ENOMEM;
            rc = -1;
        }
    }
    if (rc == 0 && ferror(f))
        rc = -1;
    int e = errno;
    free(line);
    if (f != stdin)
        fclose(f);
    errno = e;
    return rc;
}

char *strv_join(char *const *v, size_t n, const char *sep)
{
    size_t len = 1, sl = strlen(sep);
    for (size_t i = 0; i < n; i++)
        len += strlen(v[i]) + sl;
    char *s = malloc(len), *w = s;
    for (size_t i = 0; s && i < n; i++)
        w = stpcpy(stpcpy(w, i ? sep : ""), v[i]);
    if (s)
        *w = 0;
    return s;
}

char *read_whole_file(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, k;
    do {
        if (n + 65536 > cap) {
            char *b = realloc(buf, cap = n + 65536 * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                errno = ENOMEM;
                break;
            }
            buf = b;
        }
        k = fread(buf + n, 1, cap - n - 1, f);
        n += k;
    } while (k > 0);
    int bad = !buf || ferror(f), e = errno;
    if (f != stdin)
        fclose(f);
    if (bad) {
        free(buf);
        errno = e;
        return NULL;
    }
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}
