/* Tests of the process-shared semaphore: counting, deadlines, cancellation,
 * a release from another process waking a parked acquirer, overflow, bad
 * arguments. */
#include "ipc_test.h"

#include <limits.h>

Test(ipc_sem, counts_and_deadlines)
{
    evt_ipc_sem_t *s = evt_ipc_sem_new(2);
    cr_assert_eq(evt_ipc_sem_value(s), 2);
    cr_assert_eq(evt_ipc_sem_acquire(s, 0), 0);
    cr_assert_eq(evt_ipc_sem_acquire(s, -1), 0);
    cr_assert_eq(evt_ipc_sem_acquire(s, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_ipc_sem_acquire(s, evt_now() + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_ipc_sem_release(s), 0);
    cr_assert_eq(evt_ipc_sem_value(s), 1);
    evt_ipc_sem_free(s);
}

Test(ipc_sem, overflow_and_bad_arguments)
{
    evt_ipc_sem_t *s = evt_ipc_sem_new(UINT_MAX);
    cr_assert_eq(evt_ipc_sem_release(s), -1);
    cr_assert_eq(errno, EOVERFLOW);
    evt_ipc_sem_free(s);
    cr_assert_eq(evt_ipc_sem_acquire(NULL, 0), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_sem_release(NULL), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_sem_value(NULL), 0);
    evt_ipc_sem_free(NULL);
}

static void *acquire_forever(void *arg)
{
    return CO_ERR(evt_ipc_sem_acquire(arg, -1));
}

Test(ipc_sem, cancel_a_parked_acquirer)
{
    evt_ipc_sem_t *s = evt_ipc_sem_new(0);
    evt_co_t *c = evt_spawn(acquire_forever, s);
    evt_yield();
    cr_assert_eq(evt_cancel(c), 0);
    cr_assert_eq(join_err(c), ECANCELED);
    cr_assert_eq(evt_ipc_sem_release(s), 0);
    cr_assert_eq(evt_ipc_sem_value(s), 1); /* nobody took the unit */
    evt_ipc_sem_free(s);
}

static int release_three(void *arg)
{
    for (int i = 0; i < 3; i++)
        if (evt_ipc_sem_release(arg) < 0)
            return 1;
    return 0;
}

Test(ipc_sem, releases_from_another_process)
{
    evt_ipc_sem_t *s = evt_ipc_sem_new(0);
    evt_co_t *c[3];
    for (int i = 0; i < 3; i++)
        c[i] = evt_spawn(acquire_forever, s);
    evt_yield();
    pid_t p = child(release_three, s);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(join_err(c[i]), 0);
    expect_ok(p);
    cr_assert_eq(evt_ipc_sem_value(s), 0);
    evt_ipc_sem_free(s);
}
