/* --pipe --tee: all of standard input to every job, one job a value of
 * the sources, all running at once (GNU parallel's `tee fifo1 fifo2 ...`,
 * with --output-error=warn-nopipe: a job that stops reading drops out and
 * keeps its own exit status). The input is read once, each piece written
 * to every job still reading before the next is read, once all the jobs
 * are started. With --pipepart, each job gets the -a file itself. */
#include "cli.h"
#include "pipemore.h"

#include <errno.h>
#include <eventor.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
    int *fds;        /* the jobs' stdin pipes, -1 once one stopped reading */
    long n, want;    /* registered, to come (the number of jobs) */
    evt_event_t *all_in, *done;
    const char *file; /* --pipepart: the data */
} T;

/* Copy stdin to every registered pipe, once all the jobs are in. */
static void *broadcast(void *arg)
{
    enum { PIECE = 131072 };
    char *buf = malloc(PIECE);
    (void)arg;
    evt_event_wait(T.all_in, -1);
    for (ssize_t r; buf && (r = evt_read(0, buf, PIECE, -1)) > 0;) {
        long reading = 0;
        for (long k = 0; k < T.n; k++) {
            if (T.fds[k] >= 0 && evt_write(T.fds[k], buf, (size_t)r, -1) < 0) {
                evt_close(T.fds[k]);
                T.fds[k] = -1;
            }
            reading += T.fds[k] >= 0;
        }
        if (!reading)
            break; /* tee's: it stops when no one reads */
    }
    free(buf);
    for (long k = 0; k < T.n; k++)
        if (T.fds[k] >= 0)
            evt_close(T.fds[k]);
    evt_event_set(T.done);
    return NULL;
}

int pipetee_init(const struct opts *o, long total)
{
    if (total > o->jobs) {
        cli_error("Error: --tee requires --jobs to be higher. Try --jobs 0.");
        return -1;
    }
    T.want = total;
    T.file = o->pipe == 2 ? o->tee_file : NULL;
    if (T.file || !total)
        return 0;
    T.fds = malloc((size_t)total * sizeof *T.fds);
    T.all_in = evt_event_new();
    T.done = evt_event_new();
    evt_co_t *co = T.fds && T.all_in && T.done ? evt_spawn(broadcast, NULL)
                                                : NULL;
    if (!co) {
        cli_error("out of memory");
        return -1;
    }
    evt_detach(co);
    return 0;
}

int pipetee_start(struct job *j, const char *shell, int *feed)
{
    if (!T.file)
        return pipe_start(j, shell, feed);
    /* --pipepart: the file is the job's stdin, as GNU's `< FILE` */
    *feed = -1;
    if ((j->proc.in_fd = open(T.file, O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    int rc = proc_start(&j->proc, j->remote ? NULL : j->argv,
                        j->remote ? j->remote : j->cmd, shell, j->out_fd,
                        j->err_fd);
    int e = errno;
    close(j->proc.in_fd);
    j->proc.in_fd = 0;
    errno = e;
    return rc;
}

int pipetee_feed(int fd, struct job *j, int64_t deadline)
{
    (void)j;
    (void)deadline;
    if (T.file)
        return 0;
    if (fd >= 0)
        T.fds[T.n++] = fd;
    else
        T.want--; /* it did not start: no one to wait for */
    if (T.n >= T.want)
        evt_event_set(T.all_in);
    if (fd >= 0)
        evt_event_wait(T.done, -1);
    return 0;
}

void pipetee_close(void)
{
    free(T.fds);
    if (T.all_in)
        evt_event_free(T.all_in);
    if (T.done)
        evt_event_free(T.done);
    memset(&T, 0, sizeof T);
}
