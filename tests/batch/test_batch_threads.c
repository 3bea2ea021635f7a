/* Tests of the batch engine on worker threads (T x C): T x C attempts at
 * once, spread over T threads other than the caller's; results in order;
 * retries; and the failure paths, each of which must reach an attempt
 * parked on another thread: a per-attempt deadline, halt now, a cancelled
 * caller. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eventor.h"
#include "../common/callback.h"

#define T 3
#define C 4
#define N 200

/* What the work does, set per test before the batch starts. */
static struct {
    int meet;             /* items < T x C wait for each other first */
    int forever;          /* this item parks until cancelled; -1 none */
    int fail;             /* this item fails with EIO; -1 none */
    int fail_first;       /* this item's first attempt fails; -1 none */
    evt_ipc_barrier_t *together;
    pthread_t thread[N];  /* where each item ran (its last attempt) */
    _Atomic int started;  /* attempts begun */
} w;

typedef struct seen {
    int reported[N];
    int status[N];
    uint64_t order[N];
    size_t n;
    char result[N][16];
} seen_t;

static void setup(void)
{
    memset(&w, 0, sizeof w);
    w.forever = w.fail = w.fail_first = -1;
    w.together = evt_ipc_barrier_new(T * C);
    cr_assert(w.together);
}

static void teardown(void)
{
    evt_ipc_barrier_free(w.together);
}

static int work(const evt_batch_task_t *t, void *out, size_t cap,
                size_t *len, void *user)
{
    (void)user;
    atomic_fetch_add(&w.started, 1);
    w.thread[t->index] = pthread_self();
    /* With fewer than T x C attempts at once, this times out (the deadline
     * only keeps a broken engine from hanging the test). */
    if (w.meet && t->index < T * C
        && evt_ipc_barrier_wait(w.together, evt_now() + 10000) < 0)
        return -1;
    /* (Not for ever: a broken cancel fails the test instead of hanging.) */
    if ((int)t->index == w.forever && evt_sleep(evt_now() + 30000) < 0)
        return -1;
    if ((int)t->index == w.fail
        || ((int)t->index == w.fail_first && t->attempt == 0))
        return errno = EIO, -1;
    evt_yield(); /* let the thread's other attempts run meanwhile */
    *len = (size_t)snprintf(out, cap, "%d", atoi(t->item) + 10);
    return 0;
}

static void record(const evt_batch_task_t *t, int status, const void *res,
                   size_t len, void *user)
{
    seen_t *s = user;
    s->reported[t->index]++;
    s->status[t->index] = status;
    s->order[s->n++] = t->index;
    snprintf(s->result[t->index], sizeof s->result[t->index], "%.*s",
             (int)len, (const char *)res);
}

static const char *numbers[N];

static void numbers_init(void)
{
    static char buf[N][8];
    for (int i = 0; i < N; i++) {
        snprintf(buf[i], sizeof buf[i], "%d", i);
        numbers[i] = buf[i];
    }
}

static int run(evt_batch_opts_t *o, seen_t *s, size_t n, evt_batch_report_t *r)
{
    numbers_init();
    memset(s, 0, sizeof *s);
    o->on_result = record;
    o->user = s;
    return evt_batch_run_array(o, work, (const void *const *)numbers, NULL, n,
                               r);
}

TestSuite(batch_threads, .init = setup, .fini = teardown);

Test(batch_threads, t_times_c_at_once_in_order)
{
    static seen_t s;
    evt_batch_report_t r;
    w.meet = 1;
    evt_batch_opts_t o = {.threads = T, .coroutines = C, .ordered = 1};
    cr_assert_eq(run(&o, &s, N, &r), 0);
    cr_assert_eq(r.ok, N, "%llu failed", (unsigned long long)r.failed);
    for (size_t i = 0; i < N; i++) {
        cr_assert_eq(s.order[i], i);
        char want[16];
        snprintf(want, sizeof want, "%zu", i + 10);
        cr_assert_str_eq(s.result[i], want);
    }
    /* The first T x C met, so they ran on T threads, C on each, none of
     * them the caller's. */
    pthread_t seen_threads[T];
    int per[T] = {0}, nthreads = 0;
    for (int i = 0; i < T * C; i++) {
        cr_assert(!pthread_equal(w.thread[i], pthread_self()));
        int k = 0;
        while (k < nthreads && !pthread_equal(seen_threads[k], w.thread[i]))
            k++;
        cr_assert_lt(k, T, "more than T threads");
        if (k == nthreads)
            seen_threads[nthreads++] = w.thread[i];
        per[k]++;
    }
    cr_assert_eq(nthreads, T);
    for (int k = 0; k < T; k++)
        cr_assert_eq(per[k], C);
}

Test(batch_threads, retries_on_threads)
{
    static seen_t s;
    evt_batch_report_t r;
    w.fail_first = 7;
    w.fail = 9;
    evt_batch_opts_t o = {.threads = 2, .coroutines = 2, .retries = 2};
    cr_assert_eq(run(&o, &s, 20, &r), 0);
    cr_assert_eq(r.ok, 19);
    cr_assert_eq(r.failed, 1);
    cr_assert_eq(r.retried, 3);
    cr_assert_eq(s.status[7], 0);
    cr_assert_str_eq(s.result[7], "17");
    cr_assert_eq(s.status[9], EIO);
}

Test(batch_threads, deadline_cancels_the_attempt_on_its_thread)
{
    static seen_t s;
    evt_batch_report_t r;
    w.forever = 3;
    evt_batch_opts_t o = {.threads = 2, .coroutines = 2,
                          .task_timeout_ms = 50};
    cr_assert_eq(run(&o, &s, 20, &r), 0);
    cr_assert_eq(r.ok, 19);
    cr_assert_eq(s.status[3], ETIMEDOUT);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(s.reported[i], 1);
}

Test(batch_threads, halt_now_cancels_attempts_on_threads)
{
    static seen_t s;
    evt_batch_report_t r;
    w.forever = 0; /* running when the failure comes */
    w.fail = 5;
    evt_batch_opts_t o = {.threads = 2, .coroutines = 4,
                          .halt = EVT_HALT_NOW};
    cr_assert_eq(run(&o, &s, N, &r), 0);
    cr_assert_eq(r.halted, 1);
    cr_assert_lt(r.read, N);
    cr_assert_eq(s.status[5], EIO);
    cr_assert_eq(s.status[0], ECANCELED);
    cr_assert_eq(r.ok + r.failed, r.read);
    for (uint64_t i = 0; i < r.read; i++)
        cr_assert_eq(s.reported[i], 1);
}

static void *run_forever_batch(void *arg)
{
    seen_t *s = arg;
    evt_batch_opts_t o = {.threads = 2, .coroutines = 3};
    int rc = run(&o, s, 10, NULL);
    return (void *)(intptr_t)(rc < 0 ? errno : 0);
}

Test(batch_threads, caller_cancelled)
{
    static seen_t s;
    w.forever = 1;
    evt_co_t *co = evt_spawn(run_forever_batch, &s);
    /* Let it run until item 1 is parked for good and the rest are done:
     * the caller's thread has nothing else to do, so it waits for the
     * results the worker threads post back. */
    while (s.reported[9] == 0 || atomic_load(&w.started) < 10)
        evt_sleep(evt_now() + 1);
    evt_cancel(co);
    void *res;
    cr_assert_eq(evt_join(co, evt_now() + 5000, &res), 0);
    cr_assert_eq((intptr_t)res, ECANCELED);
    cr_assert_eq(s.status[1], ECANCELED);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(s.reported[i], 1);
}

Test(batch_threads, bad_shapes)
{
    static seen_t s;
    evt_batch_opts_t o = {.threads = 2, .processes = 2};
    errno = 0;
    cr_assert_eq(run(&o, &s, 1, NULL), -1);
    cr_assert_eq(errno, EINVAL);
    evt_batch_opts_t big = {.threads = 1025};
    errno = 0;
    cr_assert_eq(run(&big, &s, 1, NULL), -1);
    cr_assert_eq(errno, EINVAL);
}

Test(batch_threads, a_failure_is_minus_one_and_errno_and_a_long_result_fails)
{
    cb_check((evt_batch_opts_t){.threads = 2, .coroutines = 2});
}
