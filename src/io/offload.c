/* The IO layer's thread pool, and regular-file reads and writes on it:
 * epoll cannot wait for a disk, so the blocking read or write runs on a
 * pool thread while only the calling coroutine parks. */
#define _GNU_SOURCE
#include "io.h"
#include "../pool/future.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

/* Lookups can take the name server's whole timeout: enough threads that a
 * few slow names do not hold up the rest (gevent's resolver pool has 10). */
#define IO_THREADS 8

static _Atomic(evt_threadpool_t *) io_pool;
static pthread_mutex_t io_pool_lock = PTHREAD_MUTEX_INITIALIZER;

/* The parent's pool has no threads in a child: forget it (and its lock,
 * which another parent thread may have held) and make a new one there. */
static void io_pool_in_child(void)
{
    atomic_store(&io_pool, NULL);
    pthread_mutex_init(&io_pool_lock, NULL);
}

evt_threadpool_t *evt__io_pool(void)
{
    evt_threadpool_t *p = atomic_load_explicit(&io_pool, memory_order_acquire);
    if (evt__likely(p != NULL))
        return p;
    static int atfork_done;
    pthread_mutex_lock(&io_pool_lock);
    if (!atfork_done && pthread_atfork(NULL, NULL, io_pool_in_child) == 0)
        atfork_done = 1;
    if (!(p = atomic_load(&io_pool)) &&
        (p = evt_threadpool_new(IO_THREADS, NULL)) != NULL)
        atomic_store(&io_pool, p);
    pthread_mutex_unlock(&io_pool_lock);
    return p;
}

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
