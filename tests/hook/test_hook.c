/* Tests of src/hook/hook.c, where a hooked call parks and where it is
 * libc's: in each worker of a process pool with coroutines (the seed's
 * process + coroutine template) a plain usleep parks only its task; a
 * thread-pool task parks only its own coroutine; a forked child
 * waits on a reactor of its own; a signal does not end a hooked wait (as
 * SA_RESTART would not); a thread's hooks can be turned off. */
#include "hook_test.h"
#include "../common/workers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#ifndef SYS_epoll_wait /* aarch64 has only epoll_pwait */
#define SYS_epoll_wait SYS_epoll_pwait
#endif

static int pp[2];

enum { PROC_TASKS = 10, NAP_MS = 300 };

/* A task that knows nothing of eventor: libc's usleep. */
static ssize_t proc_nap(const void *in, size_t len, void *out, size_t cap)
{
    (void)in;
    (void)len;
    (void)out;
    (void)cap;
    return usleep(NAP_MS * 1000) == 0 ? 0 : -1;
}

static evt_procpool_t *procs;

static void *apply_nap(void *arg)
{
    (void)arg;
    char out[1];
    ssize_t r = evt_procpool_apply(procs, proc_nap, "", 0, out, sizeof out,
                                   evt_now() + 20000);
    return CO_RESULT(r == 0 ? 0 : errno ? errno : EIO);
}

Test(hook, procpool_worker_coroutines_run_plain_sleeps_side_by_side)
{
    /* One worker, 10 coroutines: 10 x 300 ms is 3 s one after another. */
    evt_procpool_opts_t o = {.coroutines = PROC_TASKS};
    procs = evt_procpool_new(1, &o);
    cr_assert_not_null(procs);
    evt_co_t *co[PROC_TASKS];
    int64_t t0 = evt_now();
    for (int i = 0; i < PROC_TASKS; i++)
        co[i] = evt_spawn(apply_nap, NULL);
    for (int i = 0; i < PROC_TASKS; i++)
        cr_assert_eq(join_int(co[i]), 0);
    int64_t took = evt_now() - t0;
    evt_procpool_free(procs);
    cr_assert_geq(took, NAP_MS);
    cr_assert_lt(took, PROC_TASKS * NAP_MS / 2, "took %lld ms", (long long)took);
}


static int task_read(void *arg, void **result)
{
    (void)arg;
    char c;
    ssize_t n = read(pp[0], &c, 1);
    *result = (void *)(intptr_t)n;
    return n == 1 ? 0 : errno;
}

static int task_write(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return write(pp[1], "t", 1) == 1 ? 0 : errno;
}

Test(hook, threadpool_task_parks_only_its_coroutine)
{
    /* One thread, two coroutines: the writer runs only if the reader's
     * read parked instead of blocking the thread. */
    cr_assert_eq(pipe(pp), 0);
    evt_threadpool_opts_t o = {.coroutines = 2};
    evt_threadpool_t *tp = evt_threadpool_new(1, &o);
    cr_assert_not_null(tp);
    evt_future_t *r = evt_threadpool_submit(tp, task_read, NULL);
    evt_future_t *w = evt_threadpool_submit(tp, task_write, NULL);
    cr_assert_eq(evt_future_wait(r, evt_now() + 10000), 0, "the task blocked");
    cr_assert_eq(evt_future_wait(w, evt_now() + 10000), 0);
    cr_assert_eq(evt_future_err(r), 0);
    cr_assert_eq(evt_future_err(w), 0);
    evt_future_free(r);
    evt_future_free(w);
    evt_threadpool_free(tp);
    close(pp[0]);
    close(pp[1]);
}

static void *co_read(void *arg)
{
    char c;
    ssize_t n = read(*(int *)arg, &c, 1);
    return CO_RESULT(n == 1 ? 0 : n < 0 ? errno : EIO);
}

static void *co_write(void *arg)
{
    return CO_RESULT(write(*(int *)arg, "f", 1) == 1 ? 0 : errno);
}

Test(hook, forked_child_parks_on_its_own_reactor)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    /* The parent waits on sv[0] when it forks: the epoll set it registered
     * in must not be the child's. */
    evt_co_t *waiting = evt_spawn(co_read, &sv[0]);
    evt_yield();
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int q[2];
        if (pipe(q) < 0)
            _exit(10);
        evt_co_t *r = evt_spawn(co_read, &q[0]), *w = evt_spawn(co_write, &q[1]);
        void *a = NULL, *b = NULL;
        if (evt_join(r, evt_now() + 10000, &a) || evt_join(w, evt_now() + 10000, &b))
            _exit(11);
        _exit(a || b ? 12 : 0);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
    cr_assert_eq(write(sv[1], "p", 1), 1);
    cr_assert_eq(join_int(waiting), 0);
    close(sv[0]);
    close(sv[1]);
}

static atomic_int got_signal; /* lock-free: safe in a handler */
static pthread_t main_thread;
static pid_t main_tid;
static int sv2[2];

static void on_usr1(int sig)
{
    int saved = errno;
    (void)sig;
    atomic_store(&got_signal, 1);
    errno = saved;
}

static void *signal_then_write(void *arg)
{
    (void)arg;
    /* Into the reactor's wait, where a signal makes epoll_wait fail. */
    if (!wait_in_syscall(main_tid, SYS_epoll_wait, SYS_epoll_pwait,
                         evt_now() + 10000))
        return CO_RESULT(ETIMEDOUT);
    pthread_kill(main_thread, SIGUSR1);
    while (!got_signal)
        sched_yield();
    return CO_RESULT(write(sv2[1], "s", 1) == 1 ? 0 : errno);
}

Test(hook, signal_does_not_end_a_hooked_read)
{
    struct sigaction sa = {.sa_handler = on_usr1}; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2), 0);
    main_thread = pthread_self();
    main_tid = gettid();
    got_signal = 0;
    evt_co_t *r = evt_spawn(co_read, &sv2[0]);
    evt_yield(); /* r parks in read */
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, signal_then_write, NULL), 0);
    cr_assert_eq(join_int(r), 0); /* the byte, not EINTR */
    void *w;
    pthread_join(th, &w);
    cr_assert_eq((int)(intptr_t)w, 0);
    cr_assert_eq(got_signal, 1);
    signal(SIGUSR1, SIG_DFL);
    close(sv2[0]);
    close(sv2[1]);
}

static void *nap(void *arg)
{
    (void)arg;
    return CO_RESULT(usleep(20 * 1000) == 0 ? 0 : errno);
}

Test(hook, hooks_off_for_a_thread_make_calls_block)
{
    cr_assert_eq(evt_hook_enable(0), 1);
    evt_co_t *n = evt_spawn(nap, NULL);
    evt_yield(); /* n sleeps in libc's usleep, the thread with it */
    cr_assert_eq(evt_hook_enable(1), 0);
    cr_assert_eq(evt_co_done(n), 1, "the sleep parked although hooks were off");
    cr_assert_eq(join_int(n), 0);
}
