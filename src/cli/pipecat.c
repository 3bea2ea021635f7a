/* --pipe --cat (and --pipepart --cat): each job's block goes to a
 * temporary file instead of its stdin, {} naming the file (GNU parallel's
 * $PARALLEL_TMP), removed when the job is done. */
#include "cli.h"
#include "pipemore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --cat's file: the block written, j->cat_path naming it. */
static int cat_file(const struct opts *o, struct job *j)
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
    j->in.data = NULL; /* its sizes stay: the joblog's Send (GNU's) */
    return 0;
}

int pipecat_file(const struct opts *o, struct job *j, struct record **recs,
                 size_t *cap, size_t *n)
{
    /* --fifo (pipefifo.c): the block stays, to go through the fifo */
    int rc = o->pipe_fifo ? pipefifo_make(o, j) : cat_file(o, j);
    if (rc < 0)
        return rc;
    if (*cap < 1) {
        struct record *r = realloc(*recs, sizeof *r);
        if (!r)
            return -2;
        *recs = r;
        *cap = 1;
    }
    (*recs)[0].val = malloc(sizeof *(*recs)[0].val);
    if (!(*recs)[0].val || !((*recs)[0].val[0] = strdup(j->cat_path))) {
        free((*recs)[0].val);
        return -2;
    }
    (*recs)[0].nval = 1;
    *n = 1;
    return 0;
}
