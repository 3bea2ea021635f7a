/* Tests of src/thread/threadpool.c: submit and results, task errors, cancel
 * of a pending vs a running task, callbacks, threads x coroutines, map
 * (ordered, deadline, a bounded queue), shutdown with queued tasks (run or
 * cancelled), shutdown from a task, bad arguments. Tasks that must hold
 * still block their pool thread on a semaphore the test opens. */
#include "thread_test.h"

#include <pthread.h>
#include <stdatomic.h>

static sem_t gate;    /* blocked tasks wait for this */
static sem_t entered; /* posted when a blocked task starts */
static atomic_int ran; /* tasks that ran */

static void setup(void)
{
    sem_init(&gate, 0, 0);
    sem_init(&entered, 0, 0);
    atomic_store(&ran, 0);
}

static void teardown(void)
{
    sem_destroy(&gate);
    sem_destroy(&entered);
}

TestSuite(threadpool, .init = setup, .fini = teardown);

static int twice(void *arg, void **result)
{
    atomic_fetch_add(&ran, 1);
    *result = (void *)((intptr_t)arg * 2);
    return 0;
}

static int fail_eio(void *arg, void **result)
{
    (void)arg, (void)result;
    errno = EIO;
    return -1;
}

/* Fails with -1 and errno ENOENT, or 0 when arg is set: that is EIO. */
static int fail_errno(void *arg, void **result)
{
    (void)result;
    errno = arg ? 0 : ENOENT;
    return -1;
}

/* Holds its thread until the test opens the gate. */
static int blocked(void *arg, void **result)
{
    sem_post(&entered);
    while (sem_wait(&gate) < 0)
        ;
    atomic_fetch_add(&ran, 1);
    *result = arg;
    return 0;
}

static evt_future_t *submit(evt_threadpool_t *p, evt_task_fn fn, intptr_t a)
{
    evt_future_t *f = evt_threadpool_submit(p, fn, (void *)a);
    cr_assert_not_null(f, "submit: %s", strerror(errno));
    return f;
}

Test(threadpool, submit_and_results)
{
    evt_threadpool_t *p = evt_threadpool_new(2, NULL);
    cr_assert_not_null(p);
    enum { N = 100 };
    evt_future_t *fs[N];
    for (intptr_t i = 0; i < N; i++)
        fs[i] = submit(p, twice, i);
    for (intptr_t i = 0; i < N; i++) {
        cr_assert_eq(evt_future_wait(fs[i], evt_now() + 10000), 0);
        cr_assert_eq(evt_future_err(fs[i]), 0);
        cr_assert_eq(evt_future_result(fs[i]), (void *)(i * 2));
        evt_future_free(fs[i]);
    }
    evt_future_t *f = submit(p, fail_eio, 0);
    cr_assert_eq(evt_future_wait(f, evt_now() + 10000), 0);
    cr_assert_eq(evt_future_err(f), EIO);
    evt_future_free(f);
    /* A task fails as every callback does: -1 and errno (0 is EIO). */
    for (intptr_t zero = 0; zero < 2; zero++) {
        f = submit(p, fail_errno, zero);
        cr_assert_eq(evt_future_wait(f, evt_now() + 10000), 0);
        cr_assert_eq(evt_future_err(f), zero ? EIO : ENOENT);
        evt_future_free(f);
    }
    cr_assert_eq(evt_threadpool_free(p), 0);
}

Test(threadpool, bad_arguments)
{
    cr_assert_null(evt_threadpool_new(0, NULL));
    cr_assert_eq(errno, EINVAL);
    evt_threadpool_t *p = evt_threadpool_new(1, NULL);
    cr_assert_null(evt_threadpool_submit(NULL, twice, NULL));
    cr_assert_eq(errno, EINVAL);
    cr_assert_null(evt_threadpool_submit(p, NULL, NULL));
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_threadpool_map(NULL, twice, NULL, NULL, NULL, 1, -1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_threadpool_map(p, NULL, NULL, NULL, NULL, 1, -1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_threadpool_map(p, twice, NULL, NULL, NULL, 0, -1), 0);
    cr_assert_eq(evt_threadpool_shutdown(NULL, 0), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_threadpool_free(NULL), 0);
    cr_assert_eq(evt_threadpool_free(p), 0, "a pool never used");
}

Test(threadpool, cancel_pending_but_not_running)
{
    evt_threadpool_t *p = evt_threadpool_new(1, NULL);
    evt_future_t *a = submit(p, blocked, 1);
    evt_future_t *b = submit(p, twice, 2);
    gate_wait(&entered);
    cr_assert_eq(evt_future_cancel(a), -1);
    cr_assert_eq(errno, EBUSY);
    cr_assert_eq(evt_future_cancel(b), 0);
    cr_assert_eq(evt_future_done(b), 1);
    cr_assert_eq(evt_future_err(b), ECANCELED);
    sem_post(&gate);
    cr_assert_eq(evt_future_wait(a, evt_now() + 10000), 0);
    cr_assert_eq(evt_future_result(a), (void *)1);
    cr_assert_eq(evt_future_cancel(a), -1);
    cr_assert_eq(errno, EALREADY);
    cr_assert_eq(evt_threadpool_free(p), 0);
    cr_assert_eq(atomic_load(&ran), 1, "the cancelled task ran");
    evt_future_free(a);
    evt_future_free(b);
}

static pthread_t cb_thread;
static atomic_int cb_calls;

static void note_cb(evt_future_t *f, void *user)
{
    (void)user;
    cr_assert_eq(evt_future_done(f), 1);
    cb_thread = pthread_self();
    atomic_fetch_add(&cb_calls, 1);
}

Test(threadpool, done_callbacks)
{
    atomic_store(&cb_calls, 0);
    evt_threadpool_t *p = evt_threadpool_new(1, NULL);
    evt_future_t *f = submit(p, blocked, 5);
    cr_assert_eq(evt_future_on_done(f, note_cb, NULL), 0);
    sem_post(&gate);
    cr_assert_eq(evt_future_wait(f, evt_now() + 10000), 0);
    cr_assert_eq(evt_threadpool_shutdown(p, 0), 0);
    cr_assert_eq(atomic_load(&cb_calls), 1);
    cr_assert_not(pthread_equal(cb_thread, pthread_self()),
                  "ran on the pool thread");
    /* Added after completion: at once, here. */
    cr_assert_eq(evt_future_on_done(f, note_cb, NULL), 0);
    cr_assert_eq(atomic_load(&cb_calls), 2);
    cr_assert(pthread_equal(cb_thread, pthread_self()));
    evt_future_free(f);
    evt_threadpool_free(p);
}

static void *open_gate(void *arg)
{
    for (intptr_t i = 0; i < (intptr_t)arg; i++)
        sem_post(&gate);
    return NULL;
}

Test(threadpool, shutdown_cancels_queued_tasks)
{
    evt_threadpool_t *p = evt_threadpool_new(1, NULL);
    evt_future_t *a = submit(p, blocked, 1);
    evt_future_t *b = submit(p, twice, 2);
    evt_future_t *c = submit(p, twice, 3);
    gate_wait(&entered);
    /* Opens the gate once shutdown parks the test's coroutine. */
    evt_co_t *opener = evt_spawn(open_gate, (void *)1);
    cr_assert_eq(evt_threadpool_shutdown(p, 1), 0);
    join_int(opener);
    cr_assert_eq(evt_future_done(a), 1, "shutdown waits for running tasks");
    cr_assert_eq(evt_future_err(a), 0);
    cr_assert_eq(evt_future_err(b), ECANCELED);
    cr_assert_eq(evt_future_err(c), ECANCELED);
    cr_assert_eq(atomic_load(&ran), 1);
    cr_assert_null(evt_threadpool_submit(p, twice, NULL));
    cr_assert_eq(errno, EPIPE);
    cr_assert_eq(evt_threadpool_shutdown(p, 1), 0, "again: nothing more");
    evt_future_free(a);
    evt_future_free(b);
    evt_future_free(c);
    cr_assert_eq(evt_threadpool_free(p), 0);
}

Test(threadpool, shutdown_runs_queued_tasks)
{
    evt_threadpool_t *p = evt_threadpool_new(1, NULL);
    evt_future_t *a = submit(p, blocked, 1);
    evt_future_t *b = submit(p, twice, 2);
    evt_future_t *freed = submit(p, twice, 3);
    evt_future_free(freed); /* runs anyway; its result is dropped */
    gate_wait(&entered);
    evt_co_t *opener = evt_spawn(open_gate, (void *)1);
    cr_assert_eq(evt_threadpool_shutdown(p, 0), 0);
    join_int(opener);
    cr_assert_eq(evt_future_err(b), 0);
    cr_assert_eq(evt_future_result(b), (void *)4);
    cr_assert_eq(atomic_load(&ran), 3);
    evt_future_free(a);
    evt_future_free(b);
    evt_threadpool_free(p);
}

static evt_threadpool_t *self_pool;

static int shutdown_self(void *arg, void **result)
{
    (void)arg, (void)result;
    return evt_threadpool_shutdown(self_pool, 0);
}

Test(threadpool, shutdown_from_a_task)
{
    self_pool = evt_threadpool_new(1, NULL);
    evt_future_t *f = submit(self_pool, shutdown_self, 0);
    cr_assert_eq(evt_future_wait(f, evt_now() + 10000), 0);
    cr_assert_eq(evt_future_err(f), EDEADLK);
    evt_future_free(f);
    cr_assert_eq(evt_threadpool_free(self_pool), 0);
}

/* Tasks run in coroutines: C of them share one thread, switching while
 * they wait. Each waits (cooperatively) until all have started. */
static atomic_int together;

static int meet(void *arg, void **result)
{
    (void)result;
    int want = (int)(intptr_t)arg;
    atomic_fetch_add(&together, 1);
    int64_t end = evt_now() + 5000;
    while (atomic_load(&together) < want && evt_now() < end)
        if (evt_sleep(evt_now() + 1) < 0)
            return -1;
    if (atomic_load(&together) >= want)
        return 0;
    errno = ETIMEDOUT;
    return -1;
}

Test(threadpool, threads_times_coroutines)
{
    atomic_store(&together, 0);
    evt_threadpool_opts_t o = {.coroutines = 4, .stack_size = 32 * 1024};
    evt_threadpool_t *p = evt_threadpool_new(1, &o);
    evt_future_t *fs[4];
    for (int i = 0; i < 4; i++)
        fs[i] = submit(p, meet, 4);
    size_t left;
    cr_assert_eq(evt_as_completed(fs, 4, evt_now() + 10000, NULL, NULL,
                                  &left), 0);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(evt_future_err(fs[i]), 0, "4 tasks on 1 thread at once");
        evt_future_free(fs[i]);
    }
    evt_threadpool_free(p);
}

static int cancel_self(void *arg, void **result)
{
    (void)arg, (void)result;
    evt_cancel(evt_self());
    return evt_sleep(evt_now() + 1000);
}

static int sleepy(void *arg, void **result)
{
    (void)arg, (void)result;
    return evt_sleep(evt_now() + 1);
}

Test(threadpool, a_tasks_cancel_ends_with_it)
{
    evt_threadpool_t *p = evt_threadpool_new(1, NULL);
    evt_future_t *a = submit(p, cancel_self, 0);
    evt_future_t *b = submit(p, sleepy, 0);
    cr_assert_eq(evt_future_wait(b, evt_now() + 10000), 0);
    cr_assert_eq(evt_future_err(a), ECANCELED);
    cr_assert_eq(evt_future_err(b), 0, "the next task is not cancelled");
    evt_future_free(a);
    evt_future_free(b);
    evt_threadpool_free(p);
}

static void *ticker(void *arg)
{
    int *ticks = arg;
    while (evt_sleep(evt_now() + 1) == 0)
        ++*ticks;
    return NULL;
}

static void *wait_co(void *arg)
{
    return CO_RESULT(evt_future_wait(arg, evt_now() + 10000) < 0 ? errno : 0);
}

Test(threadpool, waiting_parks_only_the_coroutine)
{
    evt_threadpool_t *p = evt_threadpool_new(1, NULL);
    evt_future_t *f = submit(p, blocked, 1);
    evt_co_t *w = evt_spawn(wait_co, f);
    int ticks = 0;
    evt_co_t *t = evt_spawn(ticker, &ticks);
    settle();
    while (ticks < 3)
        evt_sleep(evt_now() + 1);
    cr_assert_eq(evt_co_done(w), 0);
    sem_post(&gate);
    cr_assert_eq(join_int(w), 0);
    evt_cancel(t);
    join_int(t);
    evt_future_free(f);
    evt_threadpool_free(p);
}

Test(threadpool, map_in_order)
{
    evt_threadpool_t *p = evt_threadpool_new(3, NULL);
    enum { N = 200 };
    void *args[N], *results[N];
    int errs[N];
    for (intptr_t i = 0; i < N; i++)
        args[i] = (void *)i;
    cr_assert_eq(evt_threadpool_map(p, twice, args, results, errs, N, -1), 0);
    for (intptr_t i = 0; i < N; i++) {
        cr_assert_eq(errs[i], 0);
        cr_assert_eq(results[i], (void *)(i * 2));
    }
    cr_assert_eq(evt_threadpool_map(p, fail_eio, NULL, NULL, errs, 3, -1), 0);
    cr_assert_eq(errs[2], EIO);
    evt_threadpool_free(p);
}

Test(threadpool, map_deadline)
{
    evt_threadpool_t *p = evt_threadpool_new(1, NULL);
    enum { N = 5 };
    void *results[N];
    int errs[N];
    int64_t t0 = evt_now();
    cr_assert_eq(evt_threadpool_map(p, blocked, NULL, results, errs, N,
                                    t0 + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_geq(evt_now(), t0 + 20);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(errs[i], ETIMEDOUT);
        cr_assert_null(results[i]);
    }
    sem_post(&gate); /* the running one finishes, its result dropped */
    evt_threadpool_free(p);
    cr_assert_eq(atomic_load(&ran), 1, "items not started never ran");
}

Test(threadpool, bounded_queue)
{
    evt_threadpool_opts_t o = {.queue_max = 2};
    evt_threadpool_t *p = evt_threadpool_new(1, &o);
    evt_future_t *a = submit(p, blocked, 1);
    gate_wait(&entered);
    evt_future_t *b = submit(p, twice, 2);
    evt_future_t *c = submit(p, twice, 3);
    cr_assert_null(evt_threadpool_submit(p, twice, NULL));
    cr_assert_eq(errno, EAGAIN);
    sem_post(&gate);
    evt_future_t *fs[3] = {a, b, c};
    cr_assert_eq(evt_as_completed(fs, 3, evt_now() + 10000, NULL, NULL, NULL),
                 0);
    for (int i = 0; i < 3; i++)
        evt_future_free(fs[i]);
    /* map waits for room instead of failing. */
    enum { N = 50 };
    int errs[N];
    cr_assert_eq(evt_threadpool_map(p, twice, NULL, NULL, errs, N, -1), 0);
    for (int i = 0; i < N; i++)
        cr_assert_eq(errs[i], 0);
    evt_threadpool_free(p);
}

/* Many submitting coroutines on this thread, many pool threads. */
static evt_threadpool_t *busy_pool;

static void *submit_many(void *arg)
{
    (void)arg;
    for (intptr_t i = 0; i < 100; i++) {
        evt_future_t *f = evt_threadpool_submit(busy_pool, twice, (void *)i);
        if (!f)
            return CO_RESULT(errno);
        int bad = evt_future_wait(f, evt_now() + 10000) < 0 ||
                  evt_future_result(f) != (void *)(i * 2);
        evt_future_free(f);
        if (bad)
            return CO_RESULT(EIO);
    }
    return CO_RESULT(0);
}

Test(threadpool, many_submitters)
{
    evt_threadpool_opts_t o = {.coroutines = 2};
    busy_pool = evt_threadpool_new(4, &o);
    evt_co_t *co[8];
    for (int i = 0; i < 8; i++)
        co[i] = evt_spawn(submit_many, NULL);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(join_int(co[i]), 0);
    cr_assert_eq(atomic_load(&ran), 800);
    evt_threadpool_free(busy_pool);
}
