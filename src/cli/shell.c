/* The shell's side of the eventor command's templates: GNU parallel's
 * quoting of a value, the characters and words that need a shell, and the
 * plain lines that can run without one. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

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

int shell_is_meta(char c)
{
    return c && strchr("|&;<>()$`\\\"'*?[]{}#~=%!\n", c);
}

int shell_is_word(const char *w, size_t len)
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

int shell_split(const char *c, char ***argv)
{
    *argv = NULL;
    for (const char *p = c; *p; p++)
        if (shell_is_meta(*p))
            return 0;
    const char *w0 = c + strspn(c, " \t");
    if (shell_is_word(w0, strcspn(w0, " \t")))
        return 0;
    struct strv v = {0};
    for (const char *p = c;;) {
        p += strspn(p, " \t");
        if (!*p)
            break;
        size_t l = strcspn(p, " \t");
        char *w = strndup(p, l);
        if (!w || strv_push(&v, w) < 0) {
            free(w);
            strv_free(&v);
            return -1;
        }
        p += l;
    }
    *argv = v.v;
    return 0;
}

char *shell_join(char **argv)
{
    size_t len = 1;
    for (size_t i = 0; argv[i]; i++)
        len += 5 * strlen(argv[i]) + 3;
    char *line = malloc(len), *w = line;
    if (!line)
        return NULL;
    *w = 0;
    for (size_t i = 0; argv[i]; i++) {
        char *q = shell_quote(argv[i]);
        if (!q) {
            free(line);
            return NULL;
        }
        w = stpcpy(stpcpy(w, i ? " " : ""), q);
        free(q);
    }
    return line;
}
