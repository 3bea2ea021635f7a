/* Tests of the process-shared barrier: parties across processes and
 * coroutines, arrival indexes, reuse, a waiter that times out or is
 * cancelled breaking it (EPIPE for the others), reset, bad arguments. */
#include "ipc_test.h"

Test(ipc_barrier, bad_arguments)
{
    cr_assert_null(evt_ipc_barrier_new(0));
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_barrier_wait(NULL, 0), -1);
    cr_assert_eq(errno, EINVAL);
    evt_ipc_barrier_reset(NULL);
    evt_ipc_barrier_free(NULL);
}

Test(ipc_barrier, one_party_passes_at_once)
{
    evt_ipc_barrier_t *b = evt_ipc_barrier_new(1);
    cr_assert_eq(evt_ipc_barrier_wait(b, 0), 0);
    cr_assert_eq(evt_ipc_barrier_wait(b, 0), 0);
    evt_ipc_barrier_free(b);
}

static void *wait_barrier(void *arg)
{
    int r = evt_ipc_barrier_wait(arg, evt_now() + 10000);
    return (void *)(intptr_t)(r < 0 ? -errno : r);
}

static int two_rounds(void *arg)
{
    for (int i = 0; i < 2; i++)
        if (evt_ipc_barrier_wait(arg, evt_now() + 10000) < 0)
            return 1;
    return 0;
}

Test(ipc_barrier, parties_in_processes_and_coroutines_two_rounds)
{
    evt_ipc_barrier_t *b = evt_ipc_barrier_new(4);
    pid_t p1 = child(two_rounds, b), p2 = child(two_rounds, b);
    for (int round = 0; round < 2; round++) {
        evt_co_t *c = evt_spawn(wait_barrier, b);
        int mine = evt_ipc_barrier_wait(b, evt_now() + 10000);
        cr_assert_geq(mine, 0);
        int theirs = join_err(c);
        cr_assert_geq(theirs, 0);
        cr_assert_lt(mine, 4);
        cr_assert_neq(mine, theirs);
    }
    expect_ok(p1);
    expect_ok(p2);
    evt_ipc_barrier_free(b);
}

Test(ipc_barrier, a_timeout_breaks_it_for_everyone_until_reset)
{
    evt_ipc_barrier_t *b = evt_ipc_barrier_new(3);
    evt_co_t *c = evt_spawn(wait_barrier, b);
    evt_yield();
    cr_assert_eq(evt_ipc_barrier_wait(b, evt_now() + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(join_err(c), -EPIPE);
    cr_assert_eq(evt_ipc_barrier_wait(b, 0), -1);
    cr_assert_eq(errno, EPIPE);
    evt_ipc_barrier_reset(b);
    cr_assert_eq(evt_ipc_barrier_wait(b, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT); /* broken again by that */
    evt_ipc_barrier_reset(b);
    evt_co_t *x = evt_spawn(wait_barrier, b), *y = evt_spawn(wait_barrier, b);
    evt_yield(); /* both arrive first */
    cr_assert_eq(evt_ipc_barrier_wait(b, evt_now() + 10000), 2);
    cr_assert_geq(join_err(x), 0);
    cr_assert_geq(join_err(y), 0);
    evt_ipc_barrier_free(b);
}

static void *wait_forever(void *arg)
{
    return CO_ERR(evt_ipc_barrier_wait(arg, -1));
}

Test(ipc_barrier, cancel_and_reset_fail_the_waiters)
{
    evt_ipc_barrier_t *b = evt_ipc_barrier_new(3);
    evt_co_t *c = evt_spawn(wait_forever, b), *d = evt_spawn(wait_forever, b);
    evt_yield();
    cr_assert_eq(evt_cancel(c), 0);
    cr_assert_eq(join_err(c), ECANCELED);
    cr_assert_eq(join_err(d), EPIPE);
    evt_ipc_barrier_reset(b);
    evt_co_t *e = evt_spawn(wait_forever, b);
    evt_yield();
    evt_ipc_barrier_reset(b);
    cr_assert_eq(join_err(e), EPIPE);
    evt_ipc_barrier_free(b);
}
