/* --pipe --fifo (and --pipepart --fifo): each job's block goes through a
 * named pipe in --tmpdir instead of its stdin, {} and $PARALLEL_TMP naming
 * it (GNU parallel's fifo_wrap: mkfifo, start the job, write the block
 * into the fifo once the job opens it, remove it). A job that never opens
 * the fifo blocks GNU's for ever; here its end is noticed, and the block
 * dropped. */
#include "cli.h"
#include "pipemore.h"

#include <errno.h>
#include <eventor.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pipefifo_make(const struct opts *o, struct job *j)
{
    for (int tries = 0; tries < 100; tries++) {
        char *path = jobenv_tmpname(o->tmpdir);
        if (!path)
            return -2;
        if (mkfifo(path, 0600) == 0) {
            j->cat_path = path; /* removed with the job */
            return 0;
        }
        int e = errno;
        free(path);
        if (e != EEXIST) {
            cli_error("cannot make a --fifo in %s: %s", o->tmpdir, strerror(e));
            return -1;
        }
    }
    cli_error("cannot make a --fifo in %s: every name taken", o->tmpdir);
    return -1;
}

int pipefifo_feed(struct job *j, int64_t deadline)
{
    /* Opening for writing without a reader fails (ENXIO) at once: try
     * again, each wait also a wait for the job's end (1 ms, up to 50). */
    int fd, wait_ms = 1;
    while ((fd = open(j->cat_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
        if (errno != ENXIO && errno != EINTR)
            return 0;
        int64_t until = evt_now() + wait_ms;
        if (deadline >= 0 && until > deadline)
            until = deadline;
        if (proc_wait(&j->proc, until) == 0 ||
            (deadline >= 0 && evt_now() >= deadline))
            return 0; /* it ended (or timed out) without reading it */
        wait_ms = wait_ms < 50 ? wait_ms * 2 : 50;
    }
    return pipe_feed(fd, j, deadline);
}
