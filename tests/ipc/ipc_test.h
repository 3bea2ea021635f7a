/* Helpers shared by the tests of src/ipc: running a function in a forked
 * child and checking how it ended, and the coroutine-result convention (a
 * body returns 0 or the errno it failed with). */
#ifndef EVT_TESTS_IPC_TEST_H
#define EVT_TESTS_IPC_TEST_H

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eventor.h"

/* Run fn(arg) in a forked child, which exits with fn's result (0 = good). */
static inline pid_t child(int (*fn)(void *), void *arg)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(fn(arg));
    return pid;
}

/* Wait for the child and return its exit status, or 128 + the signal that
 * killed it. */
static inline int reap(pid_t pid)
{
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static inline void expect_ok(pid_t pid)
{
    int st = reap(pid);
    cr_assert_eq(st, 0, "child %d ended with %d", (int)pid, st);
}

/* The errno of a coroutine that returned (void *)(intptr_t)err. */
static inline int join_err(evt_co_t *co)
{
    void *r = NULL;
    cr_assert_eq(evt_join(co, evt_now() + 10000, &r), 0);
    return (int)(intptr_t)r;
}

#define CO_ERR(expr) ((void *)(intptr_t)((expr) < 0 ? errno : 0))

#endif
