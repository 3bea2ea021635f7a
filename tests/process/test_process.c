/* Tests of evt_process: start and join, exit codes and signals, the
 * argument's bytes, terminate and kill, join deadlines, a segfaulting
 * child, a parent with threads, bad arguments, pipe ends handed to a
 * child. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "eventor.h"

/* Exits with the sum of its argument's bytes. */
static ssize_t sum_exit(const void *in, size_t len, void *out, size_t cap)
{
    (void)out;
    (void)cap;
    const unsigned char *p = in;
    unsigned s = 0;
    for (size_t i = 0; i < len; i++)
        s += p[i];
    _exit((int)(s & 0xff));
}

static ssize_t ok(const void *in, size_t len, void *out, size_t cap)
{
    (void)in, (void)len, (void)out, (void)cap;
    return 0;
}

static ssize_t fail(const void *in, size_t len, void *out, size_t cap)
{
    (void)in, (void)len, (void)out, (void)cap;
    errno = EIO;
    return -1;
}

static _Noreturn ssize_t forever(const void *in, size_t len, void *out,
                                 size_t cap)
{
    (void)in, (void)len, (void)out, (void)cap;
    for (;;)
        pause();
}

static ssize_t segfault(const void *in, size_t len, void *out, size_t cap)
{
    (void)in, (void)len, (void)out, (void)cap;
    /* A plain death, not a sanitizer's report: a store to a page that
     * cannot be written, with the default action. */
    signal(SIGSEGV, SIG_DFL);
    volatile int *page = mmap(NULL, 4096, PROT_NONE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *page = 1;
    return 0;
}

/* Sleeps on its own scheduler in coroutines, then exits with their sum. */
static void *nap(void *arg)
{
    evt_sleep(evt_now() + 5);
    return arg;
}

static ssize_t coroutines(const void *in, size_t len, void *out, size_t cap)
{
    (void)in, (void)len, (void)out, (void)cap;
    evt_co_t *co[10];
    for (intptr_t i = 0; i < 10; i++)
        co[i] = evt_spawn(nap, (void *)i);
    intptr_t s = 0;
    for (int i = 0; i < 10; i++) {
        void *r;
        evt_join(co[i], -1, &r);
        s += (intptr_t)r;
    }
    _exit((int)s);
}

static int run_to_end(evt_proc_fn fn, const void *arg, size_t len)
{
    evt_process_t *p = evt_process_start(fn, arg, len);
    cr_assert_not_null(p, "start: %s", strerror(errno));
    cr_assert_gt(evt_process_pid(p), 0);
    cr_assert_eq(evt_process_join(p, evt_now() + 10000), 0);
    cr_assert_not(evt_process_alive(p));
    int code = evt_process_exitcode(p);
    evt_process_free(p);
    return code;
}

Test(process, exit_codes)
{
    cr_assert_eq(run_to_end(ok, NULL, 0), 0);
    cr_assert_eq(run_to_end(fail, NULL, 0), 1);
    unsigned char arg[3] = {1, 2, 39};
    cr_assert_eq(run_to_end(sum_exit, arg, sizeof arg), 42);
}

Test(process, large_argument)
{
    size_t n = 1 << 20;
    unsigned char *arg = calloc(n, 1);
    arg[0] = 7;
    arg[n - 1] = 9;
    cr_assert_eq(run_to_end(sum_exit, arg, n), 16);
    free(arg);
}

Test(process, segfault_reports_the_signal)
{
    cr_assert_eq(run_to_end(segfault, NULL, 0), -SIGSEGV);
}

Test(process, child_runs_coroutines)
{
    cr_assert_eq(run_to_end(coroutines, NULL, 0), 45);
}

Test(process, join_deadline_terminate_kill)
{
    evt_process_t *p = evt_process_start(forever, NULL, 0);
    cr_assert_not_null(p);
    cr_assert_eq(evt_process_exitcode(p), EVT_EXITCODE_NONE);
    cr_assert_eq(evt_process_join(p, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_process_join(p, evt_now() + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert(evt_process_alive(p));
    cr_assert_eq(evt_process_terminate(p), 0);
    cr_assert_eq(evt_process_join(p, -1), 0);
    cr_assert_eq(evt_process_exitcode(p), -SIGTERM);
    /* Signals after the end are not sent anywhere. */
    cr_assert_eq(evt_process_kill(p), 0);
    evt_process_free(p);

    p = evt_process_start(forever, NULL, 0);
    cr_assert_eq(evt_process_kill(p), 0);
    cr_assert_eq(evt_process_join(p, -1), 0);
    cr_assert_eq(evt_process_exitcode(p), -SIGKILL);
    evt_process_free(p);
}

static void *do_join(void *arg)
{
    return (void *)(intptr_t)evt_process_join(arg, -1);
}

Test(process, two_coroutines_join)
{
    evt_process_t *p = evt_process_start(forever, NULL, 0);
    evt_co_t *a = evt_spawn(do_join, p), *b = evt_spawn(do_join, p);
    evt_yield();
    evt_process_kill(p);
    void *ra, *rb;
    cr_assert_eq(evt_join(a, -1, &ra), 0);
    cr_assert_eq(evt_join(b, -1, &rb), 0);
    cr_assert_eq((intptr_t)ra, 0);
    cr_assert_eq((intptr_t)rb, 0);
    evt_process_free(p);
}

static void *block_on(void *arg)
{
    char c;
    (void)!read(*(int *)arg, &c, 1);
    return NULL;
}

/* The test runner starts threads of its own before the tests run: start
 * the fork server before them, as a program that starts threads early
 * does (a thread already running would make it fail with EDEADLK). */
__attribute__((constructor)) static void start_server_early(void)
{
    evt_forkserver_start();
}

Test(process, threads_after_the_server_are_fine)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pthread_t t;
    cr_assert_eq(evt_forkserver_start(), 0);
    cr_assert_eq(pthread_create(&t, NULL, block_on, &fds[0]), 0);
    cr_assert_eq(run_to_end(ok, NULL, 0), 0);
    cr_assert_eq(evt_forkserver_start(), 0);
    (void)!write(fds[1], "x", 1);
    pthread_join(t, NULL);
    close(fds[0]);
    close(fds[1]);
}

Test(process, bad_arguments)
{
    cr_assert_null(evt_process_start(NULL, NULL, 0));
    cr_assert_eq(errno, EINVAL);
    cr_assert_null(evt_process_start(ok, NULL, 3));
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_process_join(NULL, 0), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_process_kill(NULL), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_process_exitcode(NULL), EVT_EXITCODE_NONE);
    cr_assert_eq(evt_process_pid(NULL), -1);
    evt_process_free(NULL);
}

/* Echo each message from pipe end 0 to pipe end 1 until end 0 closes;
 * exit 0 when that end reports EPIPE and no third end was given. */
static ssize_t relay(const void *in, size_t len, void *out, size_t cap)
{
    (void)in, (void)len, (void)out, (void)cap;
    evt_ipc_conn_t *from = evt_process_conn(0), *to = evt_process_conn(1);
    if (!from || !to || evt_process_conn(2) || errno != EINVAL)
        _exit(10);
    char buf[64];
    ssize_t n;
    while ((n = evt_ipc_conn_recv(from, buf, sizeof buf, -1)) >= 0)
        if (evt_ipc_conn_send(to, buf, (size_t)n, -1) < 0)
            _exit(11);
    _exit(errno == EPIPE ? 0 : 12);
}

/* Never reads: waits to be killed. */
static ssize_t hold(const void *in, size_t len, void *out, size_t cap)
{
    (void)in, (void)len, (void)out, (void)cap;
    if (!evt_process_conn(0))
        _exit(10);
    for (;;)
        pause();
}

Test(process, pipe_ends_passed_to_the_child)
{
    evt_ipc_conn_t *a[2], *b[2];
    cr_assert_eq(evt_ipc_pipe(a), 0);
    cr_assert_eq(evt_ipc_pipe(b), 0);
    evt_ipc_conn_t *child_ends[2] = {a[1], b[1]};
    evt_process_t *p = evt_process_start_conns(relay, NULL, 0, child_ends, 2);
    cr_assert_not_null(p, "start: %s", strerror(errno));
    /* Once the child holds them, the parent's copies can go. */
    evt_ipc_conn_close(a[1]);
    evt_ipc_conn_close(b[1]);
    char buf[64];
    for (int i = 0; i < 3; i++) {
        char msg[16];
        int len = snprintf(msg, sizeof msg, "message %d", i);
        cr_assert_eq(evt_ipc_conn_send(a[0], msg, (size_t)len, -1), 0);
        ssize_t n = evt_ipc_conn_recv(b[0], buf, sizeof buf, evt_now() + 5000);
        cr_assert_eq(n, len, "recv: %s", strerror(errno));
        cr_assert_eq(memcmp(buf, msg, (size_t)len), 0);
    }
    /* Closing our end of the first pipe ends the child's loop. */
    evt_ipc_conn_close(a[0]);
    cr_assert_eq(evt_process_join(p, evt_now() + 5000), 0);
    cr_assert_eq(evt_process_exitcode(p), 0);
    /* And its end of the second pipe closed with it. */
    cr_assert_eq(evt_ipc_conn_recv(b[0], buf, sizeof buf, evt_now() + 5000),
                 -1);
    cr_assert_eq(errno, EPIPE);
    evt_ipc_conn_close(b[0]);
    evt_process_free(p);
}

Test(process, a_killed_child_closes_its_pipe_end)
{
    evt_ipc_conn_t *e[2];
    cr_assert_eq(evt_ipc_pipe(e), 0);
    evt_process_t *p = evt_process_start_conns(hold, NULL, 0, &e[1], 1);
    cr_assert_not_null(p);
    evt_ipc_conn_close(e[1]);
    /* The child holds its end: nothing arrives, and no EPIPE either. */
    char buf[8];
    cr_assert_eq(evt_ipc_conn_recv(e[0], buf, sizeof buf, evt_now() + 50),
                 -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_process_kill(p), 0);
    cr_assert_eq(evt_ipc_conn_recv(e[0], buf, sizeof buf, evt_now() + 5000),
                 -1);
    cr_assert_eq(errno, EPIPE);
    cr_assert_eq(evt_process_join(p, -1), 0);
    cr_assert_eq(evt_process_exitcode(p), -SIGKILL);
    evt_ipc_conn_close(e[0]);
    evt_process_free(p);
}

Test(process, bad_pipe_ends)
{
    evt_ipc_conn_t *e[2];
    cr_assert_eq(evt_ipc_pipe(e), 0);
    evt_ipc_conn_t *many[EVT_PROCESS_MAX_CONNS + 1];
    for (size_t i = 0; i <= EVT_PROCESS_MAX_CONNS; i++)
        many[i] = e[1];
    errno = 0;
    cr_assert_null(evt_process_start_conns(ok, NULL, 0, many,
                                           EVT_PROCESS_MAX_CONNS + 1));
    cr_assert_eq(errno, EINVAL);
    evt_ipc_conn_t *none[1] = {NULL};
    cr_assert_null(evt_process_start_conns(ok, NULL, 0, none, 1));
    cr_assert_eq(errno, EINVAL);
    cr_assert_null(evt_process_start_conns(ok, NULL, 0, NULL, 1));
    cr_assert_eq(errno, EINVAL);
    /* Not in a child given ends: none. */
    cr_assert_null(evt_process_conn(0));
    cr_assert_eq(errno, EINVAL);
    /* The most ends at once all arrive. */
    evt_process_t *p = evt_process_start_conns(ok, NULL, 0, many,
                                               EVT_PROCESS_MAX_CONNS);
    cr_assert_not_null(p);
    cr_assert_eq(evt_process_join(p, -1), 0);
    cr_assert_eq(evt_process_exitcode(p), 0);
    evt_process_free(p);
    evt_ipc_conn_close(e[0]);
    evt_ipc_conn_close(e[1]);
}
