/* Regular-file reads and writes on the offload pool (src/thread/offload.c):
 * epoll cannot wait for a disk, so the blocking read or write runs on a
 * pool thread while only the calling coroutine parks. */
#define _GNU_SOURCE
#include "io.h"
#include "../thread/future.h"

#include <unistd.h>

struct file_op {
    int fd;
    int write;              /* 1: write all of buf; 0: read into it */
    char *buf;
    size_t len;
    ssize_t n;              /* what read returned, or len written */
};

static int file_task(void *arg, void **result)
{
    struct file_op *op = arg;
    (void)result;
    size_t done = 0;
    do {
        ssize_t n = op->write ? write(op->fd, op->buf + done, op->len - done)
                              : read(op->fd, op->buf, op->len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (!op->write) {
            op->n = n;
            return 0;
        }
        if (n == 0)
            return errno = EIO, -1; /* (a file taking nothing: for ever) */
        done += (size_t)n;
    } while (done < op->len);
    op->n = (ssize_t)op->len;
    return 0;
}

/* Where the job runs on the calling thread: see evt__file_io. */
static int inline_io(evt__sched_t *s, int64_t deadline)
{
    return deadline == 0 || s->current->cancelled ||
           (s->current == &s->main && s->live == 0);
}

ssize_t evt__file_io(int fd, void *buf, size_t len, int write,
                     int64_t deadline)
{
    struct file_op op = {fd, write, buf, len, 0};
    evt__sched_t *s = evt__sched();
    evt_threadpool_t *pool;
    evt_future_t *f = NULL;
    int err;
    if (!s || inline_io(s, deadline) || !(pool = evt__io_pool()) ||
        !(f = evt_threadpool_submit(pool, file_task, &op))) {
        err = file_task(&op, NULL); /* no pool to be had: block, as before */
    } else {
        err = evt__future_wait(f, deadline, 1);
        /* Withdrawn while queued: buf was never touched. Else a pool
         * thread has it: wait for the end, whatever comes. */
        if (err && evt_future_cancel(f) == 0) {
            evt_future_free(f);
            errno = err;
            return -1;
        }
        if (err)
            evt__future_wait(f, -1, 0);
        err = evt_future_err(f);
        evt_future_free(f);
    }
    if (err) {
        errno = err;
        return -1;
    }
    return op.n;
}
