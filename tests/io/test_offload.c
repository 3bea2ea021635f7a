/* Tests of src/io/offload.c: regular-file reads and writes from coroutines
 * go through the IO pool (a caller waits while the pool is busy, and only
 * it), a deadline or cancel withdraws a job still queued without touching
 * the file, errors of the read or write come back, and a thread with no
 * other coroutine, a deadline of 0 or a cancelled caller do the IO at once.
 * The pool is kept busy with tasks blocked on a semaphore. */
#include "io_test.h"
#include "io/io.h"

#include <semaphore.h>
#include <stdlib.h>
#include <string.h>

#define IO_THREADS 8 /* as in offload.c */

static sem_t gate;
static sem_t entered;
static evt_future_t *blockers[IO_THREADS];

static int blocked(void *arg, void **result)
{
    (void)arg, (void)result;
    sem_post(&entered);
    while (sem_wait(&gate) < 0)
        ;
    return 0;
}

/* Take every IO pool thread. */
static void fill_pool(void)
{
    for (int i = 0; i < IO_THREADS; i++) {
        blockers[i] = evt_threadpool_submit(evt__io_pool(), blocked, NULL);
        cr_assert_not_null(blockers[i]);
    }
    for (int i = 0; i < IO_THREADS; i++)
        while (sem_wait(&entered) < 0)
            ;
}

static void free_pool(void)
{
    for (int i = 0; i < IO_THREADS; i++)
        sem_post(&gate);
    for (int i = 0; i < IO_THREADS; i++) {
        cr_assert_eq(evt_future_wait(blockers[i], evt_now() + 10000), 0);
        evt_future_free(blockers[i]);
    }
}

static int tmpfd;

static void setup(void)
{
    sem_init(&gate, 0, 0);
    sem_init(&entered, 0, 0);
    char path[] = "/tmp/evt_offload_XXXXXX";
    tmpfd = mkstemp(path);
    cr_assert_geq(tmpfd, 0);
    unlink(path);
}

static void teardown(void)
{
    evt_close(tmpfd);
    sem_destroy(&gate);
    sem_destroy(&entered);
}

TestSuite(offload, .init = setup, .fini = teardown);

struct io_arg {
    int fd;
    int write;
    char *buf;
    size_t len;
    int64_t deadline;
    ssize_t n;
};

static void *io_co(void *arg)
{
    struct io_arg *a = arg;
    a->n = a->write ? evt_write(a->fd, a->buf, a->len, a->deadline)
                    : evt_read(a->fd, a->buf, a->len, a->deadline);
    return CO_RESULT(a->n < 0 ? errno : 0);
}

Test(offload, write_then_read_from_coroutines)
{
    char out[] = "hello, file", in[64] = {0};
    struct io_arg w = {tmpfd, 1, out, sizeof out, evt_now() + 10000, 0};
    cr_assert_eq(join_int(evt_spawn(io_co, &w)), 0);
    cr_assert_eq(w.n, (ssize_t)sizeof out);
    cr_assert_eq(lseek(tmpfd, 0, SEEK_CUR), (off_t)sizeof out);
    lseek(tmpfd, 0, SEEK_SET);
    struct io_arg r = {tmpfd, 0, in, sizeof in, evt_now() + 10000, 0};
    cr_assert_eq(join_int(evt_spawn(io_co, &r)), 0);
    cr_assert_eq(r.n, (ssize_t)sizeof out);
    cr_assert_str_eq(in, out);
    /* At the end of the file: 0. */
    cr_assert_eq(join_int(evt_spawn(io_co, &r)), 0);
    cr_assert_eq(r.n, 0);
}

Test(offload, the_job_waits_for_a_pool_thread)
{
    fill_pool();
    char out[] = "queued";
    struct io_arg w = {tmpfd, 1, out, 6, -1, 0};
    evt_co_t *co = evt_spawn(io_co, &w);
    settle();
    settle();
    cr_assert_eq(evt_co_done(co), 0, "the write did not wait for the pool");
    cr_assert_eq(lseek(tmpfd, 0, SEEK_END), 0);
    free_pool();
    cr_assert_eq(join_int(co), 0);
    cr_assert_eq(lseek(tmpfd, 0, SEEK_END), 6);
}

Test(offload, deadline_withdraws_a_queued_job)
{
    fill_pool();
    char out[] = "never";
    struct io_arg w = {tmpfd, 1, out, 5, evt_now() + 20, 0};
    cr_assert_eq(join_int(evt_spawn(io_co, &w)), ETIMEDOUT);
    free_pool();
    cr_assert_eq(lseek(tmpfd, 0, SEEK_END), 0, "the file was written");
}

Test(offload, cancel_withdraws_a_queued_job)
{
    fill_pool();
    char in[8];
    struct io_arg r = {tmpfd, 0, in, sizeof in, -1, 0};
    evt_co_t *co = evt_spawn(io_co, &r);
    settle();
    evt_cancel(co);
    cr_assert_eq(join_int(co), ECANCELED);
    free_pool();
}

Test(offload, errors_come_back)
{
    char buf[4];
    /* A read-only file written to. */
    int ro = open("/proc/self/stat", O_RDONLY);
    cr_assert_geq(ro, 0);
    struct io_arg w = {ro, 1, buf, sizeof buf, evt_now() + 10000, 0};
    cr_assert_eq(join_int(evt_spawn(io_co, &w)), EBADF);
    evt_close(ro);
    cr_assert_eq(evt_read(-1, buf, sizeof buf, -1), -1);
    cr_assert_eq(errno, EBADF);
}

static void *other(void *arg)
{
    (void)arg;
    return NULL;
}

Test(offload, done_at_once_where_waiting_is_pointless)
{
    /* This thread has no other coroutine: it just blocks. */
    fill_pool();
    cr_assert_eq(evt_write(tmpfd, "ab", 2, evt_now() + 5000), 2);
    /* A deadline of 0 is one attempt, and a file is always ready. */
    evt_co_t *o = evt_spawn(other, NULL);
    cr_assert_eq(evt_write(tmpfd, "cd", 2, 0), 2);
    /* A cancelled caller's IO need not wait: it is done. */
    struct io_arg w = {tmpfd, 1, "ef", 2, evt_now() + 5000, 0};
    evt_co_t *co = evt_spawn(io_co, &w);
    evt_cancel(co);
    cr_assert_eq(join_int(co), 0);
    join_int(o);
    free_pool();
    char in[8] = {0};
    lseek(tmpfd, 0, SEEK_SET);
    cr_assert_eq(evt_read(tmpfd, in, sizeof in, -1), 6);
    cr_assert_str_eq(in, "abcdef");
}
