/* libFuzzer target: the command templates (template.c) and GNU parallel's
 * quoting (shell.c), on any command line with `:::` sources. Checked: a
 * quoted value reads back as itself under the shell's quoting rules, and
 * a line that runs without a shell (argv) is the words its quoted text
 * splits into, so a value can never become two words or an operator. */
#include "fuzz_argv.h"

#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define JOBS_MAX 64

/* The words of s under sh's quoting ('...', "...", \), split at unquoted
 * blanks; NULL-terminated into w (at most cap - 1), each malloc'd. The
 * count, or -1 on an unquoted operator (then s needed the shell). */
static int sh_words(const char *s, char **w, int cap)
{
    int n = 0;
    char *cur = NULL;
    size_t len = 0;
    for (const char *p = s;; p++) {
        if (!*p || ((*p == ' ' || *p == '\t' || *p == '\n') && cur)) {
            if (cur) {
                if (n == cap - 1)
                    return free(cur), -1;
                cur[len] = 0;
                w[n++] = cur;
                cur = NULL;
            }
            if (!*p)
                break;
            continue;
        }
        if (*p == ' ' || *p == '\t' || *p == '\n')
            continue;
        if (!cur) {
            cur = malloc(strlen(s) + 1);
            len = 0;
        }
        if (*p == '\'') {
            for (p++; *p && *p != '\''; p++)
                cur[len++] = *p;
            if (!*p)
                return free(cur), -1;
        } else if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1] && strchr("$`\"\\\n", p[1]))
                    p++;
                else if (*p == '$' || *p == '`')
                    return free(cur), -1;
                cur[len++] = *p;
            }
            if (!*p)
                return free(cur), -1;
        } else if (*p == '\\' && p[1]) {
            cur[len++] = *++p;
        } else if (shell_is_meta(*p)) {
            return free(cur), -1;
        } else {
            cur[len++] = *p;
        }
    }
    w[n] = NULL;
    return n;
}

static void check_quote(const char *v)
{
    char *q = shell_quote(v);
    char *w[4];
    int n = q ? sh_words(q, w, 4) : -1;
    if (n != 1 || strcmp(w[0], v)) {
        fprintf(stderr, "shell_quote(\"%s\") = [%s] reads back wrong\n", v,
                q ? q : "(null)");
        abort();
    }
    free(w[0]);
    free(q);
}

static void check_job(const struct tmpl *t, const struct record *r, size_t n,
                      uint64_t seq)
{
    char *cmd = NULL, **argv = NULL;
    if (tmpl_expand(t, r, n, seq, 1, &cmd, &argv) < 0)
        return;
    (void)tmpl_line_length(t, r, n); /* (it counts {#} and {%} as at job
                                          1, slot 1: not compared) */
    if (argv) {
        char *w[256];
        int k = sh_words(cmd, w, 256);
        int i = 0;
        for (; k >= 0 && i < k && argv[i] && !strcmp(argv[i], w[i]); i++)
            ;
        if (k >= 0 && (i != k || argv[i])) {
            fprintf(stderr, "[%s] runs as argv[%d] = [%s]\n", cmd, i,
                    argv[i] ? argv[i] : "(end)");
            abort();
        }
        for (i = 0; i < k; i++)
            free(w[i]);
    }
    free(cmd);
    argv_free(argv);
}

static void expand_all(const struct opts *o)
{
    struct tmpl *t = tmpl_compile(o);
    struct input *in = t ? input_open(o) : NULL;
    struct record r[3];
    size_t n = 0;
    for (uint64_t seq = 1; in && seq <= JOBS_MAX; seq++) {
        if (input_next(in, &r[n]) != 1)
            break;
        for (size_t k = 0; k < r[n].nval; k++)
            check_quote(r[n].val[k]);
        free(tmpl_tag(&r[n], 1, o->trim));
        check_job(t, &r[n], 1, seq);
        if (++n == 3) { /* -X / -m: three records on one line */
            check_job(t, r, 3, seq);
            for (n = 0; n < 3; n++)
                record_free(&r[n]);
            n = 0;
        }
    }
    while (n)
        record_free(&r[--n]);
    input_close(in);
    tmpl_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_parsed(data, size, expand_all);
    return 0;
}
