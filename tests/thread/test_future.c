/* Tests of src/thread/future.c: the life of a future (pending, running,
 * done), waiting from coroutines and plain threads with deadlines and
 * cancels, cancel of pending vs running futures, done callbacks (once, in
 * order, also when added after completion), as_completed with its
 * deadline, and bad arguments. Producers are plain threads calling the
 * internal interface, as a pool's workers do. */
#include "thread_test.h"
#include "thread/future.h"

#include <pthread.h>
#include <stdatomic.h>

/* A producer thread: waits for its gate (if any), then starts and
 * completes f. */
struct job {
    evt_future_t *f;
    sem_t *gate;
    int err;
    void *result;
};

static void *producer(void *arg)
{
    struct job *j = arg;
    if (j->gate)
        while (sem_wait(j->gate) < 0)
            ;
    evt__future_start(j->f);
    evt__future_complete(j->f, j->err, j->result);
    return NULL;
}

static pthread_t produce(struct job *j)
{
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, producer, j), 0);
    return t;
}

static void *wait_co(void *arg)
{
    return CO_RESULT(evt_future_wait(arg, evt_now() + 10000) < 0 ? errno : 0);
}

static void *ticker(void *arg)
{
    int *ticks = arg;
    while (evt_sleep(evt_now() + 1) == 0)
        ++*ticks;
    return NULL;
}

Test(future, pending_running_done)
{
    evt_future_t *f = evt__future_new();
    cr_assert_not_null(f);
    cr_assert_eq(evt_future_done(f), 0);
    cr_assert_eq(evt_future_err(f), EINPROGRESS);
    cr_assert_null(evt_future_result(f));
    cr_assert_eq(evt_future_wait(f, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt__future_start(f), 0);
    cr_assert_eq(evt__future_start(f), -1, "started twice");
    evt__future_complete(f, 0, (void *)42);
    cr_assert_eq(evt_future_done(f), 1);
    cr_assert_eq(evt_future_err(f), 0);
    cr_assert_eq(evt_future_result(f), (void *)42);
    cr_assert_eq(evt_future_wait(f, 0), 0);
    cr_assert_eq(evt_future_wait(f, -1), 0);
    evt_future_free(f);
}

Test(future, the_tasks_error)
{
    evt_future_t *f = evt__future_new();
    evt__future_start(f);
    evt__future_complete(f, EIO, NULL);
    cr_assert_eq(evt_future_wait(f, -1), 0, "waiting succeeds");
    cr_assert_eq(evt_future_err(f), EIO);
    evt_future_free(f);
}

static void nop_cb(evt_future_t *f, void *user)
{
    (void)f, (void)user;
}

static void nop_ac(size_t i, evt_future_t *f, void *user)
{
    (void)i, (void)f, (void)user;
}

Test(future, bad_arguments)
{
    evt_future_t *f = evt__future_new();
    cr_assert_eq(evt_future_wait(NULL, -1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_future_cancel(NULL), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_future_on_done(NULL, nop_cb, NULL), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_future_on_done(f, NULL, NULL), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_future_done(NULL), 0);
    cr_assert_eq(evt_future_err(NULL), EINVAL);
    cr_assert_null(evt_future_result(NULL));
    evt_future_free(NULL);
    size_t left = 7;
    cr_assert_eq(evt_as_completed(NULL, 1, -1, nop_ac, NULL, &left), -1);
    cr_assert_eq(errno, EINVAL);
    evt_future_t *fs[2] = {f, NULL};
    cr_assert_eq(evt_as_completed(fs, 2, -1, nop_ac, NULL, &left), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_as_completed(NULL, 0, -1, nop_ac, NULL, &left), 0);
    cr_assert_eq(left, 0);
    evt__future_complete(f, 0, NULL);
    evt_future_free(f);
}

Test(future, deadline_expires)
{
    evt_future_t *f = evt__future_new();
    int64_t t0 = evt_now();
    cr_assert_eq(evt_future_wait(f, t0 + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_geq(evt_now(), t0 + 20);
    cr_assert_eq(evt_future_done(f), 0);
    evt__future_complete(f, 0, NULL);
    evt_future_free(f);
}

Test(future, another_thread_wakes_only_the_waiting_coroutine)
{
    sem_t gate;
    sem_init(&gate, 0, 0);
    evt_future_t *f = evt__future_new();
    struct job j = {f, &gate, 0, (void *)7};
    evt_co_t *w = evt_spawn(wait_co, f);
    int ticks = 0;
    evt_co_t *t = evt_spawn(ticker, &ticks);
    pthread_t p = produce(&j);
    settle();
    /* The waiter is parked; this thread goes on. */
    while (ticks < 3)
        evt_sleep(evt_now() + 1);
    cr_assert_eq(evt_co_done(w), 0);
    sem_post(&gate);
    cr_assert_eq(join_int(w), 0);
    cr_assert_eq(evt_future_result(f), (void *)7);
    evt_cancel(t);
    join_int(t);
    pthread_join(p, NULL);
    evt_future_free(f);
    sem_destroy(&gate);
}

Test(future, a_plain_thread_waits)
{
    sem_t gate;
    sem_init(&gate, 0, 0);
    evt_future_t *f = evt__future_new();
    struct job j = {f, &gate, 0, (void *)9};
    pthread_t p = produce(&j);
    sem_post(&gate);
    cr_assert_eq(evt_future_wait(f, evt_now() + 10000), 0);
    cr_assert_eq(evt_future_result(f), (void *)9);
    pthread_join(p, NULL);
    evt_future_free(f);
    sem_destroy(&gate);
}

/* A thread that never used coroutines waits on a future the test
 * completes (whether it is parked by then or not, it must see it done). */
static sem_t waiting;

static void *plain_waiter(void *arg)
{
    sem_post(&waiting);
    return CO_RESULT(evt_future_wait(arg, evt_now() + 10000) < 0 ? errno : 0);
}

Test(future, a_thread_without_coroutines_is_woken)
{
    evt_future_t *f = evt__future_new();
    pthread_t p;
    sem_init(&waiting, 0, 0);
    cr_assert_eq(pthread_create(&p, NULL, plain_waiter, f), 0);
    gate_wait(&waiting);
    evt__future_complete(f, 0, NULL);
    void *r;
    pthread_join(p, &r);
    cr_assert_eq((int)(intptr_t)r, 0);
    evt_future_free(f);
    sem_destroy(&waiting);
}

Test(future, cancel_pending_then_running_then_done)
{
    evt_future_t *f = evt__future_new();
    cr_assert_eq(evt_future_cancel(f), 0);
    cr_assert_eq(evt_future_done(f), 1);
    cr_assert_eq(evt_future_err(f), ECANCELED);
    cr_assert_eq(evt__future_start(f), -1, "a cancelled task must not run");
    evt__future_complete(f, 0, (void *)1); /* only drops its reference */
    cr_assert_eq(evt_future_err(f), ECANCELED);
    cr_assert_null(evt_future_result(f));
    cr_assert_eq(evt_future_cancel(f), -1);
    cr_assert_eq(errno, EALREADY);
    evt_future_free(f);

    f = evt__future_new();
    evt__future_start(f);
    cr_assert_eq(evt_future_cancel(f), -1);
    cr_assert_eq(errno, EBUSY);
    cr_assert_eq(evt_future_done(f), 0);
    evt__future_complete(f, 0, (void *)3);
    cr_assert_eq(evt_future_result(f), (void *)3);
    evt_future_free(f);
}

Test(future, cancel_wakes_waiters)
{
    evt_future_t *f = evt__future_new();
    evt_co_t *w = evt_spawn(wait_co, f);
    settle();
    cr_assert_eq(evt_future_cancel(f), 0);
    cr_assert_eq(join_int(w), 0);
    cr_assert_eq(evt_future_err(f), ECANCELED);
    evt__future_complete(f, 0, NULL);
    evt_future_free(f);
}

Test(future, the_waiting_coroutine_is_cancelled)
{
    evt_future_t *f = evt__future_new();
    evt_co_t *w = evt_spawn(wait_co, f);
    settle();
    cr_assert_eq(evt_cancel(w), 0);
    cr_assert_eq(join_int(w), ECANCELED);
    cr_assert_eq(evt_future_done(f), 0);
    /* A cancelled coroutine that need not wait still gets its answer. */
    evt__future_complete(f, 0, NULL);
    w = evt_spawn(wait_co, f);
    evt_cancel(w);
    cr_assert_eq(join_int(w), 0);
    evt_future_free(f);
}

static void *uncancellable_co(void *arg)
{
    return CO_RESULT(evt__future_wait(arg, -1, 0));
}

Test(future, an_uncancellable_wait_outlasts_a_cancel)
{
    evt_future_t *f = evt__future_new();
    evt_co_t *w = evt_spawn(uncancellable_co, f);
    settle();
    evt_cancel(w);
    settle();
    cr_assert_eq(evt_co_done(w), 0);
    evt__future_complete(f, 0, NULL);
    cr_assert_eq(join_int(w), 0);
    evt_future_free(f);
}

struct cb_log {
    int order[4];
    atomic_int n;
    pthread_t thread[4];
};

static void log_cb(evt_future_t *f, void *user)
{
    struct cb_log *log = user;
    (void)f;
    int i = atomic_fetch_add(&log->n, 1);
    if (i < 4) {
        log->order[i] = (int)(intptr_t)evt_future_result(f) * 10 + i;
        log->thread[i] = pthread_self();
    }
}

Test(future, callbacks_run_once_in_order)
{
    struct cb_log log = {.n = 0};
    evt_future_t *f = evt__future_new();
    cr_assert_eq(evt_future_on_done(f, log_cb, &log), 0);
    cr_assert_eq(evt_future_on_done(f, log_cb, &log), 0);
    struct job j = {f, NULL, 0, (void *)1};
    pthread_t p = produce(&j);
    pthread_join(p, NULL);
    cr_assert_eq(atomic_load(&log.n), 2);
    cr_assert_eq(log.order[0], 10);
    cr_assert_eq(log.order[1], 11);
    cr_assert(pthread_equal(log.thread[0], p), "on the completing thread");
    /* Added after completion: at once, in the caller. */
    cr_assert_eq(evt_future_on_done(f, log_cb, &log), 0);
    cr_assert_eq(atomic_load(&log.n), 3);
    cr_assert(pthread_equal(log.thread[2], pthread_self()));
    evt_future_free(f);
    cr_assert_eq(atomic_load(&log.n), 3);
}

Test(future, freeing_a_pending_future)
{
    struct cb_log log = {.n = 0};
    evt_future_t *f = evt__future_new();
    evt_future_on_done(f, log_cb, &log);
    evt_future_free(f); /* the producer's reference keeps it */
    cr_assert_eq(evt__future_start(f), 0);
    evt__future_complete(f, 0, (void *)2);
    cr_assert_eq(atomic_load(&log.n), 1);
    cr_assert_eq(log.order[0], 20);
}

struct seen {
    size_t idx[8];
    size_t n;
};

static void note_ac(size_t i, evt_future_t *f, void *user)
{
    struct seen *s = user;
    cr_assert_eq(evt_future_done(f), 1);
    s->idx[s->n++] = i;
}

/* Completes its futures one after the other, in the order given. */
struct seq {
    evt_future_t **fs;
    size_t n;
    sem_t *gate;
};

static void *complete_in_order(void *arg)
{
    struct seq *q = arg;
    while (sem_wait(q->gate) < 0)
        ;
    for (size_t i = 0; i < q->n; i++)
        evt__future_complete(q->fs[i], 0, (void *)(intptr_t)i);
    return NULL;
}

static void *open_gate(void *arg)
{
    sem_post(arg);
    return NULL;
}

Test(future, as_completed_in_completion_order)
{
    sem_t gate;
    sem_init(&gate, 0, 0);
    evt_future_t *fs[3];
    for (int i = 0; i < 3; i++)
        fs[i] = evt__future_new();
    evt__future_complete(fs[2], 0, NULL);
    evt_future_t *later[2] = {fs[1], fs[0]};
    struct seq q = {later, 2, &gate};
    pthread_t p;
    cr_assert_eq(pthread_create(&p, NULL, complete_in_order, &q), 0);
    /* Open the gate once as_completed has registered and parked. */
    evt_co_t *opener = evt_spawn(open_gate, &gate);
    struct seen s = {.n = 0};
    size_t left = 9;
    cr_assert_eq(evt_as_completed(fs, 3, evt_now() + 10000, note_ac, &s,
                                  &left), 0);
    cr_assert_eq(left, 0);
    cr_assert_eq(s.n, 3);
    cr_assert_eq(s.idx[0], 2, "the one done already comes first");
    cr_assert_eq(s.idx[1], 1);
    cr_assert_eq(s.idx[2], 0);
    join_int(opener);
    pthread_join(p, NULL);
    for (int i = 0; i < 3; i++)
        evt_future_free(fs[i]);
    sem_destroy(&gate);
}

Test(future, as_completed_deadline)
{
    /* The seed: three tasks, two finish in time, TimeoutError: 1 (of 3)
     * futures unfinished. */
    evt_future_t *fs[3];
    for (int i = 0; i < 3; i++)
        fs[i] = evt__future_new();
    evt__future_complete(fs[0], 0, NULL);
    evt__future_complete(fs[1], 0, NULL);
    struct seen s = {.n = 0};
    size_t left = 0;
    int64_t t0 = evt_now();
    cr_assert_eq(evt_as_completed(fs, 3, t0 + 20, note_ac, &s, &left), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_geq(evt_now(), t0 + 20);
    cr_assert_eq(left, 1);
    cr_assert_eq(s.n, 2);
    /* Deadline 0: only a look. */
    s.n = 0;
    cr_assert_eq(evt_as_completed(fs, 3, 0, NULL, NULL, &left), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(left, 1);
    /* The late one is still reported by the next call. */
    evt__future_complete(fs[2], 0, NULL);
    cr_assert_eq(evt_as_completed(fs, 3, 0, note_ac, &s, &left), 0);
    cr_assert_eq(s.n, 3);
    cr_assert_eq(left, 0);
    for (int i = 0; i < 3; i++)
        evt_future_free(fs[i]);
}

static void *as_completed_co(void *arg)
{
    evt_future_t **fs = arg;
    size_t left;
    if (evt_as_completed(fs, 2, -1, NULL, NULL, &left) == 0)
        return CO_RESULT(0);
    return CO_RESULT(left == 2 ? errno : -1);
}

Test(future, as_completed_cancelled)
{
    evt_future_t *fs[2] = {evt__future_new(), evt__future_new()};
    evt_co_t *co = evt_spawn(as_completed_co, fs);
    settle();
    evt_cancel(co);
    cr_assert_eq(join_int(co), ECANCELED);
    for (int i = 0; i < 2; i++) {
        evt__future_complete(fs[i], 0, NULL);
        evt_future_free(fs[i]);
    }
}

/* Many producers, many waiters: the lock-free fast path and the
 * registration race, for TSan. */
enum { PRODUCERS = 4, EACH = 200 };

static void *produce_many(void *arg)
{
    evt_future_t **fs = arg;
    for (int i = 0; i < EACH; i++) {
        evt__future_start(fs[i]);
        evt__future_complete(fs[i], 0, (void *)(intptr_t)i);
    }
    return NULL;
}

static void *wait_many(void *arg)
{
    evt_future_t **fs = arg;
    for (int i = 0; i < EACH; i++)
        if (evt_future_wait(fs[i], evt_now() + 10000) < 0 ||
            evt_future_result(fs[i]) != (void *)(intptr_t)i)
            return CO_RESULT(EIO);
    return CO_RESULT(0);
}

Test(future, many_threads_many_waiters)
{
    static evt_future_t *fs[PRODUCERS][EACH];
    pthread_t p[PRODUCERS];
    evt_co_t *w[PRODUCERS];
    for (int t = 0; t < PRODUCERS; t++) {
        for (int i = 0; i < EACH; i++)
            fs[t][i] = evt__future_new();
        w[t] = evt_spawn(wait_many, fs[t]);
    }
    settle();
    for (int t = 0; t < PRODUCERS; t++)
        cr_assert_eq(pthread_create(&p[t], NULL, produce_many, fs[t]), 0);
    for (int t = 0; t < PRODUCERS; t++)
        cr_assert_eq(join_int(w[t]), 0);
    for (int t = 0; t < PRODUCERS; t++) {
        pthread_join(p[t], NULL);
        cr_assert_eq(evt_as_completed(fs[t], EACH, 0, NULL, NULL, NULL), 0);
        for (int i = 0; i < EACH; i++)
            evt_future_free(fs[t][i]);
    }
}
