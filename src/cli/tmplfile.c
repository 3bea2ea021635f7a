/* --tmpl FILE=NAME (GNU parallel's --template): before each job, FILE's
 * contents with the job's replacement strings put in (unquoted, by the
 * command's own expander: {} {#} {%} {N} {= =} --header's names) are
 * written to NAME, itself expanded; with --cleanup removed after the job. */
#include "cli.h"
#include "misc.h"
#include "template.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
    struct tmpl *name[16], *text[16];
    int n, cleanup, given;
} T;

int tmplfile_option(struct opts *o, const char *val)
{
    const char *eq = strchr(val, '=');
    if (!eq) /* GNU's hash option: "key requires a value" */
        return -1;
    /* GNU splits at the first '=' and keeps the last NAME of a FILE */
    char *src = strndup(val, (size_t)(eq - val));
    if (!src || strv_push(&o->owned, src) < 0) {
        free(src);
        return -1;
    }
    int k = 0;
    while (k < o->ntmpl && strcmp(o->tmpl_src[k], src))
        k++;
    if (k == o->ntmpl) {
        if (o->ntmpl == 16)
            return -1;
        o->ntmpl++;
    }
    o->tmpl_src[k] = src;
    o->tmpl_name[k] = eq + 1;
    T.given = 1;
    return 0;
}

int tmplfile_read(struct opts *o)
{
    for (int k = 0; k < o->ntmpl; k++) {
        char *s = read_whole_file(o->tmpl_src[k], NULL);
        if (!s || strv_push(&o->owned, s) < 0) {
            free(s);
            cli_error("Error: Cannot open '%s'.", o->tmpl_src[k]);
            return -1;
        }
        o->tmpl_text[k] = s;
    }
    return 0;
}

int tmplfile_given(void)
{
    return T.given;
}

int tmplfile_init(const struct opts *o)
{
    T.cleanup = SSH.cleanup;
    for (; T.n < o->ntmpl; T.n++)
        if (!(T.name[T.n] = tmpl_compile_text(o, o->tmpl_name[T.n])) ||
            !(T.text[T.n] = tmpl_compile_text(o, o->tmpl_text[T.n]))) {
            tmpl_free(T.name[T.n]);
            return -1;
        } else /* GNU prints the list of its groups: no blank between */
            T.text[T.n]->join_tight = 1;
    return 0;
}

/* Template t expanded for job j's records (malloc'd; NULL and errno). */
static char *expand(const struct tmpl *t, const struct job *j,
                    const struct record *r, size_t n)
{
    char *s = NULL, **argv = NULL;
    int rc = tmpl_expand(t, r, n, j->seq, j->slot, &s, &argv);
    argv_free(argv);
    if (rc < 0) {
        free(s);
        return NULL;
    }
    return s;
}

/* Write text as the file name: 0, or -1 after an error line. */
static int write_file(const char *name, const char *text)
{
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    int rc = fd < 0 ? -1 : output_write(fd, text, strlen(text));
    int e = errno;
    if (fd >= 0 && close(fd) < 0 && rc == 0)
        rc = -1, e = errno;
    if (rc < 0)
        cli_error("Error: Cannot write '%s': %s.", name, strerror(e));
    return rc;
}

int tmplfile_fill(struct job *j, const struct record *r, size_t n)
{
    for (int k = 0; k < T.n; k++) {
        char *name = expand(T.name[k], j, r, n), *text = NULL;
        if (name)
            text = expand(T.text[k], j, r, n);
        int rc = text ? write_file(name, text) : -1;
        int e = text ? EINVAL : errno; /* EINVAL: said why */
        free(text);
        if (rc == 0 && T.cleanup && strv_push(&j->tmpl_files, name) == 0)
            name = NULL;
        else if (rc == 0 && T.cleanup) /* no room to remember it: now */
            rc = -1, e = ENOMEM, unlink(name);
        free(name);
        if (rc < 0) {
            errno = e;
            return -1;
        }
    }
    return 0;
}

void tmplfile_remove(struct job *j)
{
    for (size_t i = 0; i < j->tmpl_files.n; i++)
        unlink(j->tmpl_files.v[i]);
    strv_free(&j->tmpl_files);
}

void tmplfile_finish(void)
{
    for (int k = 0; k < T.n; k++) {
        tmpl_free(T.name[k]);
        tmpl_free(T.text[k]);
    }
    T.n = 0;
}
