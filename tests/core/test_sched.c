/* Tests of the coroutine core: spawn, yield, join, detach, cancel, ids,
 * shared stacks, and stack overflow reports. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eventor.h"

static void *add_ten(void *arg)
{
    return (void *)((intptr_t)arg + 10);
}

Test(sched, spawn_join_returns_result)
{
    for (intptr_t i = 1; i <= 10; i++) {
        evt_co_t *co = evt_spawn(add_ten, (void *)i);
        cr_assert_not_null(co);
        void *r = NULL;
        cr_assert_eq(evt_join(co, -1, &r), 0);
        cr_assert_eq((intptr_t)r, i + 10);
    }
}

static char trace[64];
static size_t trace_len;

static void *tracer(void *arg)
{
    for (int i = 0; i < 3; i++) {
        trace[trace_len++] = *(char *)arg;
        evt_yield();
    }
    return NULL;
}

Test(sched, yield_round_robin)
{
    trace_len = 0;
    evt_co_t *a = evt_spawn(tracer, "a"), *b = evt_spawn(tracer, "b");
    cr_assert_eq(evt_join(a, -1, NULL), 0);
    cr_assert_eq(evt_join(b, -1, NULL), 0);
    trace[trace_len] = 0;
    cr_assert_str_eq(trace, "ababab");
}

static void *sleeper(void *arg)
{
    int64_t ms = (intptr_t)arg;
    if (evt_sleep(evt_now() + ms) < 0)
        return (void *)(intptr_t)errno;
    return (void *)0;
}

Test(sched, join_deadline_expires_then_succeeds)
{
    evt_co_t *co = evt_spawn(sleeper, (void *)(intptr_t)50);
    cr_assert_eq(evt_join(co, 0, NULL), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_join(co, evt_now() + 5, NULL), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    void *r = (void *)1;
    cr_assert_eq(evt_join(co, -1, &r), 0);
    cr_assert_eq((intptr_t)r, 0);
}

Test(sched, cancel_parked_coroutine)
{
    evt_co_t *co = evt_spawn(sleeper, (void *)(intptr_t)100000);
    evt_yield(); /* let it park */
    cr_assert_eq(evt_cancel(co), 0);
    void *r;
    cr_assert_eq(evt_join(co, -1, &r), 0);
    cr_assert_eq((intptr_t)r, ECANCELED);
}

static void *cancel_sticky(void *arg)
{
    (void)arg;
    int a = evt_sleep(evt_now() + 100000) < 0 ? errno : 0;
    int b = evt_yield() < 0 ? errno : 0;
    int c = evt_sleep(-1) < 0 ? errno : 0;
    return (void *)(intptr_t)(a == ECANCELED && b == ECANCELED &&
                              c == ECANCELED && evt_cancelled());
}

Test(sched, cancel_is_sticky)
{
    evt_co_t *co = evt_spawn(cancel_sticky, NULL);
    evt_yield();
    evt_cancel(co);
    void *r;
    cr_assert_eq(evt_join(co, -1, &r), 0);
    cr_assert_eq((intptr_t)r, 1);
}

Test(sched, cancel_before_first_run)
{
    evt_co_t *co = evt_spawn(sleeper, (void *)(intptr_t)100000);
    evt_cancel(co);
    void *r;
    cr_assert_eq(evt_join(co, -1, &r), 0);
    cr_assert_eq((intptr_t)r, ECANCELED);
}

Test(sched, cancel_finished_is_einval)
{
    evt_co_t *co = evt_spawn(add_ten, NULL);
    evt_yield();
    cr_assert(evt_co_done(co));
    cr_assert_eq(evt_cancel(co), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_join(co, 0, NULL), 0);
}

static void *joiner_of(void *arg)
{
    evt_co_t *target = arg;
    return (void *)(intptr_t)(evt_join(target, -1, NULL) < 0 ? errno : 0);
}

Test(sched, cancel_joiner_leaves_target_joinable)
{
    evt_co_t *target = evt_spawn(sleeper, (void *)(intptr_t)30);
    evt_co_t *j = evt_spawn(joiner_of, target);
    evt_yield();
    evt_cancel(j);
    void *r;
    cr_assert_eq(evt_join(j, -1, &r), 0);
    cr_assert_eq((intptr_t)r, ECANCELED);
    cr_assert_eq(evt_join(target, -1, NULL), 0);
}

static void *join_self(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)(evt_join(evt_self(), -1, NULL) < 0 ? errno : 0);
}

Test(sched, bad_arguments)
{
    cr_assert_null(evt_spawn(NULL, NULL));
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_join(NULL, -1, NULL), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_join(evt_self(), -1, NULL), -1);
    cr_assert_eq(errno, EINVAL);
    evt_co_t *co = evt_spawn(join_self, NULL);
    void *r;
    cr_assert_eq(evt_join(co, -1, &r), 0);
    cr_assert_eq((intptr_t)r, EDEADLK);
    cr_assert_eq(evt_set_stack_size(1), -1);
    cr_assert_eq(errno, EINVAL);
}

Test(sched, second_joiner_is_einval)
{
    evt_co_t *target = evt_spawn(sleeper, (void *)(intptr_t)20);
    evt_co_t *j = evt_spawn(joiner_of, target);
    evt_yield();
    cr_assert_eq(evt_join(target, 0, NULL), -1);
    cr_assert_eq(errno, EINVAL);
    void *r;
    cr_assert_eq(evt_join(j, -1, &r), 0);
    cr_assert_eq((intptr_t)r, 0);
}

static int detached_ran;

static void *detached_body(void *arg)
{
    (void)arg;
    evt_sleep(evt_now() + 1);
    detached_ran++;
    return NULL;
}

Test(sched, detached_coroutines_release_themselves)
{
    detached_ran = 0;
    for (int i = 0; i < 1000; i++)
        evt_detach(evt_spawn(detached_body, NULL));
    while (detached_ran < 1000)
        evt_sleep(evt_now() + 1);
    cr_assert_eq(detached_ran, 1000);
}

Test(sched, ids_are_unique_and_main_is_zero)
{
    cr_assert_eq(evt_co_id(evt_self()), 0);
    evt_co_t *a = evt_spawn(add_ten, NULL), *b = evt_spawn(add_ten, NULL);
    cr_assert_neq(evt_co_id(a), evt_co_id(b));
    cr_assert_neq(evt_co_id(a), 0);
    evt_join(a, -1, NULL);
    evt_join(b, -1, NULL);
}

/* Deep recursion that the compiler cannot turn into a loop. */
static int deep(int n, volatile char *prev)
{
    volatile char buf[512];
    buf[0] = (char)n;
    buf[511] = prev ? prev[0] : 0;
    return n == 0 ? buf[511] : deep(n - 1, buf) + buf[0];
}

static void *use_stack(void *arg)
{
    return (void *)(intptr_t)deep((int)(intptr_t)arg, NULL);
}

Test(sched, shared_stack_coroutines_keep_their_frames)
{
    evt_co_attr_t attr = {.shared_stack = 1};
    enum { N = 50 };
    evt_co_t *cos[N];
    trace_len = 0;
    for (int i = 0; i < N; i++)
        cos[i] = evt_spawn_attr(use_stack, (void *)(intptr_t)(i * 3), &attr);
    evt_co_t *x = evt_spawn_attr(tracer, "x", &attr);
    evt_co_t *y = evt_spawn(tracer, "y");
    evt_co_t *z = evt_spawn_attr(tracer, "z", &attr);
    for (int i = 0; i < N; i++) {
        void *r;
        cr_assert_eq(evt_join(cos[i], -1, &r), 0);
        cr_assert_eq((intptr_t)r, (intptr_t)deep(i * 3, NULL));
    }
    evt_join(x, -1, NULL);
    evt_join(y, -1, NULL);
    evt_join(z, -1, NULL);
    trace[trace_len] = 0;
    cr_assert_str_eq(trace, "xyzxyzxyz");
}

Test(sched, custom_stack_size)
{
    evt_co_attr_t attr = {.stack_size = 1 << 20};
    evt_co_t *co = evt_spawn_attr(use_stack, (void *)(intptr_t)1000, &attr);
    void *r;
    cr_assert_eq(evt_join(co, -1, &r), 0);
    cr_assert_eq((intptr_t)r, (intptr_t)deep(1000, NULL));
}

/* A coroutine of an odd stack size spawned after another one ended gets the
 * stack that one gave back (its record lands where the first one's was),
 * and runs as deep. */
Test(sched, odd_stack_size_is_reused)
{
    evt_co_attr_t attr = {.stack_size = 256 * 1024};
    void *r;
    evt_co_t *a = evt_spawn_attr(use_stack, (void *)(intptr_t)300, &attr);
    cr_assert_eq(evt_join(a, -1, &r), 0);
    evt_co_t *b = evt_spawn_attr(use_stack, (void *)(intptr_t)300, &attr);
    cr_assert_eq((void *)b, (void *)a, "a new stack for the second one");
    cr_assert_eq(evt_join(b, -1, &r), 0);
    cr_assert_eq((intptr_t)r, (intptr_t)deep(300, NULL));
    /* Another size maps its own, and works too. */
    evt_co_attr_t other = {.stack_size = 512 * 1024};
    evt_co_t *c = evt_spawn_attr(use_stack, (void *)(intptr_t)300, &other);
    cr_assert_neq((void *)c, (void *)a);
    cr_assert_eq(evt_join(c, -1, &r), 0);
    cr_assert_eq((intptr_t)r, (intptr_t)deep(300, NULL));
}

/* Run fn in a child process; return its wait status and what it wrote to
 * stderr. */
static int in_child(void (*fn)(void), char *err, size_t errlen)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        fn();
        _exit(0);
    }
    close(p[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < errlen && (r = read(p[0], err + n, errlen - 1 - n)) > 0)
        n += (size_t)r;
    err[n] = 0;
    close(p[0]);
    int status;
    waitpid(pid, &status, 0);
    return status;
}

static void overflow_dedicated(void)
{
    evt_co_t *co = evt_spawn(use_stack, (void *)(intptr_t)100000);
    evt_join(co, -1, NULL);
}

/* The overflow of a stack that was a pool's spare: its guard is there. */
static void overflow_reused(void)
{
    evt_co_attr_t attr = {.stack_size = 128 * 1024};
    evt_join(evt_spawn_attr(use_stack, (void *)(intptr_t)10, &attr), -1, NULL);
    evt_co_t *co = evt_spawn_attr(use_stack, (void *)(intptr_t)100000, &attr);
    evt_join(co, -1, NULL);
}

static void overflow_shared(void)
{
    evt_co_attr_t attr = {.shared_stack = 1};
    evt_co_t *co = evt_spawn_attr(use_stack, (void *)(intptr_t)100000, &attr);
    evt_join(co, -1, NULL);
}

Test(sched, stack_overflow_is_reported)
{
    char err[512];
    int st = in_child(overflow_dedicated, err, sizeof err);
    cr_assert(WIFSIGNALED(st), "child status %d, stderr: %s", st, err);
    cr_assert(strstr(err, "eventor: coroutine ") != NULL, "stderr: %s", err);
    cr_assert(strstr(err, "overflowed its stack") != NULL, "stderr: %s", err);
    st = in_child(overflow_shared, err, sizeof err);
    cr_assert(WIFSIGNALED(st), "child status %d, stderr: %s", st, err);
    cr_assert(strstr(err, "overflowed its stack") != NULL, "stderr: %s", err);
    st = in_child(overflow_reused, err, sizeof err);
    cr_assert(WIFSIGNALED(st), "child status %d, stderr: %s", st, err);
    cr_assert(strstr(err, "overflowed its stack") != NULL, "stderr: %s", err);
}

static void deadlock_body(void)
{
    evt_sleep(-1);
}

Test(sched, deadlock_is_reported_not_hung)
{
    char err[512];
    int st = in_child(deadlock_body, err, sizeof err);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "status %d", st);
    cr_assert(strstr(err, "deadlock") != NULL, "stderr: %s", err);
}

static void *noop(void *arg)
{
    return arg;
}

Test(sched, million_spawn_join)
{
    enum { BATCH = 1000 };
#if defined(EVT_TSAN) /* a TSan fiber per coroutine: 100k is enough there */
    enum { ROUNDS = 100 };
#else
    enum { ROUNDS = 1000 };
#endif
    evt_co_t *cos[BATCH];
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < BATCH; i++)
            cos[i] = evt_spawn(noop, (void *)(intptr_t)i);
        for (int i = 0; i < BATCH; i++) {
            void *r;
            cr_assert_eq(evt_join(cos[i], -1, &r), 0);
            if ((intptr_t)r != i)
                cr_assert_fail("bad result");
        }
    }
}

static void *thread_body(void *arg)
{
    (void)arg;
    evt_co_attr_t attr = {.shared_stack = 1};
    evt_co_t *a = evt_spawn_attr(add_ten, (void *)(intptr_t)1, &attr);
    evt_co_t *b = evt_spawn(sleeper, (void *)(intptr_t)1);
    void *r;
    if (evt_join(a, -1, &r) || (intptr_t)r != 11 || evt_join(b, -1, NULL))
        return (void *)1;
    return NULL;
}

Test(sched, each_thread_has_its_scheduler_and_frees_it_at_exit)
{
    for (int i = 0; i < 4; i++) {
        pthread_t t;
        void *r = (void *)1;
        cr_assert_eq(pthread_create(&t, NULL, thread_body, NULL), 0);
        cr_assert_eq(pthread_join(t, &r), 0);
        cr_assert_null(r);
    }
}

static void *ask_active(void *arg)
{
    (void)arg;
    int first = evt_sched_active();
    return (void *)(intptr_t)(first | evt_sched_active() << 1);
}

Test(sched, sched_active_says_whether_the_thread_has_one)
{
    /* A fresh thread has none, and asking does not make one. */
    pthread_t th;
    void *r;
    cr_assert_eq(pthread_create(&th, NULL, ask_active, NULL), 0);
    pthread_join(th, &r);
    cr_assert_eq((int)(intptr_t)r, 0);
    evt_yield(); /* makes this thread's */
    cr_assert_eq(evt_sched_active(), 1);
}
