/* --pipe --cat (and --pipepart --cat): each job's block goes to a
 * temporary file instead of its stdin, {} naming the file (GNU parallel's
 * $PARALLEL_TMP), removed when the job is done. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int pipecat_file(const struct opts *o, struct job *j, struct record **recs,
                 size_t *cap, size_t *n)
{
    char *path = NULL;
    if (asprintf(&path, "%s/parXXXXXX", o->tmpdir) < 0)
        return -2;
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0 || pipe_write_block(fd, &j->in) < 0) {
        cli_error("cannot write a --cat file in %s: %s", o->tmpdir,
                  strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        free(path);
        return -1;
    }
    close(fd);
    j->cat_path = path;
    free(j->in.data);
    memset(&j->in, 0, sizeof j->in);
    if (*cap < 1) {
        struct record *r = realloc(*recs, sizeof *r);
        if (!r)
            return -2;
        *recs = r;
        *cap = 1;
    }
    (*recs)[0].val = malloc(sizeof *(*recs)[0].val);
    if (!(*recs)[0].val || !((*recs)[0].val[0] = strdup(path))) {
        free((*recs)[0].val);
        return -2;
    }
    (*recs)[0].nval = 1;
    *n = 1;
    return 0;
}
