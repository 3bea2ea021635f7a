/* The sources a batch reads: an array in memory, and the lines of a file
 * read as they are needed (constant memory for a file of any size). */
#define _GNU_SOURCE
#include "batch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct array_src {
    const void *const *items;
    const size_t *lens;
    size_t n, at;
} array_src_t;

static int array_next(void *p, const void **item, size_t *len)
{
    array_src_t *a = p;
    if (a->at == a->n)
        return 0;
    const void *it = a->items[a->at];
    *item = it;
    *len = a->lens ? a->lens[a->at] : strlen(it);
    a->at++;
    return 1;
}

int evt_batch_run_array(const evt_batch_opts_t *opts, evt_batch_fn fn,
                        const void *const *items, const size_t *lens,
                        size_t n, evt_batch_report_t *rep)
{
    if (!items && n > 0) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!items[i] && !(lens && lens[i] == 0)) {
            errno = EINVAL;
            return -1;
        }
    array_src_t a = {items, lens, n, 0};
    return evt__batch_run(opts, fn, array_next, &a, n, rep, NULL);
}

typedef struct file_src {
    FILE *f;
    char *line;
    size_t cap;
} file_src_t;

static int file_next(void *p, const void **item, size_t *len)
{
    file_src_t *s = p;
    errno = 0;
    ssize_t n = getline(&s->line, &s->cap, s->f);
    if (n < 0)
        return ferror(s->f) ? -1 : 0;
    if (n > 0 && s->line[n - 1] == '\n')
        n--;
    if (n > 0 && s->line[n - 1] == '\r')
        n--;
    *item = s->line;
    *len = (size_t)n;
    return 1;
}

int evt_batch_run_file(const evt_batch_opts_t *opts, evt_batch_fn fn,
                       const char *path, evt_batch_report_t *rep)
{
    if (!path) {
        errno = EINVAL;
        return -1;
    }
    /* On worker processes, a file is split by byte ranges, unless its
     * items must pass one gate in order (chunks, a rate). */
    if (opts && opts->processes && !opts->unit && opts->rate == 0
        && strcmp(path, "-") != 0) {
        if (!evt__batch_valid(opts, fn)) {
            errno = EINVAL;
            return -1;
        }
        int rc = evt__batch_run_ranges(opts, fn, path, rep);
        if (rc <= 0)
            return rc;
    }
    file_src_t s = {NULL, NULL, 0};
    s.f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
    if (!s.f)
        return -1;
    int rc = evt__batch_run(opts, fn, file_next, &s, 0, rep, NULL);
    int err = errno;
    if (s.f != stdin)
        fclose(s.f);
    free(s.line);
    errno = err;
    return rc;
}
