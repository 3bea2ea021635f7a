/* Tests of events: set wakes every waiter, clear, deadlines, cancellation,
 * free with waiters, bad arguments. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include "eventor.h"

typedef struct wait_op {
    evt_event_t *ev;
    int64_t deadline;
} wait_op_t;

static void *do_wait(void *arg)
{
    wait_op_t *o = arg;
    return (void *)(intptr_t)(evt_event_wait(o->ev, o->deadline) < 0 ? errno
                                                                      : 0);
}

static int join_rc(evt_co_t *co)
{
    void *r;
    cr_assert_eq(evt_join(co, -1, &r), 0);
    return (int)(intptr_t)r;
}

Test(event, set_wakes_every_waiter)
{
    evt_event_t *ev = evt_event_new();
    cr_assert_not_null(ev);
    cr_assert_not(evt_event_is_set(ev));
    enum { N = 100 };
    wait_op_t o = {ev, -1};
    evt_co_t *co[N];
    for (int i = 0; i < N; i++)
        co[i] = evt_spawn(do_wait, &o);
    evt_yield();
    evt_event_set(ev);
    cr_assert(evt_event_is_set(ev));
    for (int i = 0; i < N; i++)
        cr_assert_eq(join_rc(co[i]), 0);
    /* Set: waits return at once, even with deadline 0. */
    cr_assert_eq(evt_event_wait(ev, 0), 0);
    evt_event_clear(ev);
    cr_assert_eq(evt_event_wait(ev, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_event_free(ev), 0);
}

Test(event, woken_waiter_returns_0_even_if_cleared_before_it_runs)
{
    evt_event_t *ev = evt_event_new();
    wait_op_t o = {ev, -1};
    evt_co_t *co = evt_spawn(do_wait, &o);
    evt_yield();
    evt_event_set(ev);
    evt_event_clear(ev);
    cr_assert_eq(join_rc(co), 0);
    evt_event_free(ev);
}

Test(event, deadline_expires)
{
    evt_event_t *ev = evt_event_new();
    int64_t t0 = evt_now();
    cr_assert_eq(evt_event_wait(ev, t0 + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_geq(evt_now() - t0, 19);
    wait_op_t o = {ev, evt_now() + 10};
    evt_co_t *co = evt_spawn(do_wait, &o);
    cr_assert_eq(join_rc(co), ETIMEDOUT);
    cr_assert_eq(evt_event_free(ev), 0);
}

Test(event, cancel_while_waiting)
{
    evt_event_t *ev = evt_event_new();
    wait_op_t o = {ev, -1};
    evt_co_t *a = evt_spawn(do_wait, &o), *b = evt_spawn(do_wait, &o);
    evt_yield();
    evt_cancel(a);
    cr_assert_eq(join_rc(a), ECANCELED);
    evt_event_set(ev);
    cr_assert_eq(join_rc(b), 0);
    evt_event_free(ev);
}

Test(event, free_with_waiters_is_ebusy)
{
    evt_event_t *ev = evt_event_new();
    wait_op_t o = {ev, -1};
    evt_co_t *co = evt_spawn(do_wait, &o);
    evt_yield();
    cr_assert_eq(evt_event_free(ev), -1);
    cr_assert_eq(errno, EBUSY);
    evt_event_set(ev);
    cr_assert_eq(join_rc(co), 0);
    cr_assert_eq(evt_event_free(ev), 0);
    cr_assert_eq(evt_event_free(NULL), 0);
}

Test(event, bad_arguments)
{
    cr_assert_eq(evt_event_wait(NULL, 0), -1);
    cr_assert_eq(errno, EINVAL);
    evt_event_set(NULL);
    evt_event_clear(NULL);
    cr_assert_eq(evt_event_is_set(NULL), 0);
}
