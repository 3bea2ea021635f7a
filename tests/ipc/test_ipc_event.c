/* Tests of the process-shared event: set, clear, deadlines, cancellation,
 * a set from another process waking waiters, waiters woken by a set that
 * is cleared at once, bad arguments. */
#include "ipc_test.h"

Test(ipc_event, set_clear_wait)
{
    evt_ipc_event_t *ev = evt_ipc_event_new();
    cr_assert_eq(evt_ipc_event_is_set(ev), 0);
    cr_assert_eq(evt_ipc_event_wait(ev, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_ipc_event_wait(ev, evt_now() + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    evt_ipc_event_set(ev);
    cr_assert_eq(evt_ipc_event_is_set(ev), 1);
    cr_assert_eq(evt_ipc_event_wait(ev, 0), 0);
    evt_ipc_event_clear(ev);
    cr_assert_eq(evt_ipc_event_is_set(ev), 0);
    evt_ipc_event_free(ev);
    cr_assert_eq(evt_ipc_event_wait(NULL, 0), -1);
    cr_assert_eq(errno, EINVAL);
    evt_ipc_event_set(NULL);
    evt_ipc_event_clear(NULL);
    cr_assert_eq(evt_ipc_event_is_set(NULL), 0);
    evt_ipc_event_free(NULL);
}

static void *wait_event(void *arg)
{
    return CO_ERR(evt_ipc_event_wait(arg, evt_now() + 10000));
}

Test(ipc_event, a_set_then_clear_still_wakes_every_waiter)
{
    evt_ipc_event_t *ev = evt_ipc_event_new();
    evt_co_t *c[3];
    for (int i = 0; i < 3; i++)
        c[i] = evt_spawn(wait_event, ev);
    evt_yield();
    evt_ipc_event_set(ev);
    evt_ipc_event_clear(ev);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(join_err(c[i]), 0);
    evt_ipc_event_free(ev);
}

Test(ipc_event, cancel_a_waiter)
{
    evt_ipc_event_t *ev = evt_ipc_event_new();
    evt_co_t *c = evt_spawn(wait_event, ev);
    evt_yield();
    cr_assert_eq(evt_cancel(c), 0);
    cr_assert_eq(join_err(c), ECANCELED);
    evt_ipc_event_free(ev);
}

static int set_it(void *arg)
{
    evt_ipc_event_set(arg);
    return 0;
}

Test(ipc_event, set_from_another_process)
{
    evt_ipc_event_t *ev = evt_ipc_event_new();
    evt_co_t *c = evt_spawn(wait_event, ev);
    evt_yield();
    pid_t p = child(set_it, ev);
    cr_assert_eq(evt_ipc_event_wait(ev, evt_now() + 10000), 0);
    cr_assert_eq(join_err(c), 0);
    expect_ok(p);
    evt_ipc_event_free(ev);
}
