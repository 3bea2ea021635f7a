/* Tests of wait groups: counting down to zero wakes every waiter,
 * deadlines, cancellation, going below zero, free with waiters, bad
 * arguments. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include "eventor.h"

typedef struct wg_op {
    evt_wg_t *wg;
    int64_t deadline;
} wg_op_t;

static void *do_wait(void *arg)
{
    wg_op_t *o = arg;
    return (void *)(intptr_t)(evt_wg_wait(o->wg, o->deadline) < 0 ? errno : 0);
}

static int join_rc(evt_co_t *co)
{
    void *r;
    cr_assert_eq(evt_join(co, -1, &r), 0);
    return (int)(intptr_t)r;
}

static int worked;

static void *worker(void *arg)
{
    evt_wg_t *wg = arg;
    evt_yield();
    worked++;
    evt_wg_done(wg);
    return NULL;
}

Test(wg, waits_for_all_work)
{
    worked = 0;
    evt_wg_t *wg = evt_wg_new();
    cr_assert_eq(evt_wg_wait(wg, 0), 0); /* nothing outstanding */
    enum { N = 100 };
    cr_assert_eq(evt_wg_add(wg, N), 0);
    cr_assert_eq(evt_wg_count(wg), N);
    for (int i = 0; i < N; i++)
        evt_detach(evt_spawn(worker, wg));
    wg_op_t o = {wg, -1};
    evt_co_t *other = evt_spawn(do_wait, &o);
    cr_assert_eq(evt_wg_wait(wg, -1), 0);
    cr_assert_eq(worked, N);
    cr_assert_eq(join_rc(other), 0);
    cr_assert_eq(evt_wg_free(wg), 0);
}

Test(wg, waiter_woken_at_zero_returns_0_even_if_work_is_added)
{
    evt_wg_t *wg = evt_wg_new();
    evt_wg_add(wg, 1);
    wg_op_t o = {wg, -1};
    evt_co_t *co = evt_spawn(do_wait, &o);
    evt_yield();
    evt_wg_done(wg);
    evt_wg_add(wg, 1);
    cr_assert_eq(join_rc(co), 0);
    evt_wg_done(wg);
    evt_wg_free(wg);
}

Test(wg, below_zero_is_einval)
{
    evt_wg_t *wg = evt_wg_new();
    cr_assert_eq(evt_wg_done(wg), -1);
    cr_assert_eq(errno, EINVAL);
    evt_wg_add(wg, 2);
    cr_assert_eq(evt_wg_add(wg, -3), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_wg_count(wg), 2);
    cr_assert_eq(evt_wg_add(wg, -2), 0);
    evt_wg_free(wg);
    cr_assert_eq(evt_wg_add(NULL, 1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_wg_wait(NULL, 0), -1);
    cr_assert_eq(errno, EINVAL);
}

Test(wg, deadline_and_cancel)
{
    evt_wg_t *wg = evt_wg_new();
    evt_wg_add(wg, 1);
    int64_t t0 = evt_now();
    cr_assert_eq(evt_wg_wait(wg, t0 + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_geq(evt_now() - t0, 19);
    wg_op_t o = {wg, -1};
    evt_co_t *co = evt_spawn(do_wait, &o);
    evt_yield();
    evt_cancel(co);
    cr_assert_eq(join_rc(co), ECANCELED);
    cr_assert_eq(evt_wg_free(wg), 0); /* outstanding work is no waiter */
}

Test(wg, free_with_waiters_is_ebusy)
{
    evt_wg_t *wg = evt_wg_new();
    evt_wg_add(wg, 1);
    wg_op_t o = {wg, -1};
    evt_co_t *co = evt_spawn(do_wait, &o);
    evt_yield();
    cr_assert_eq(evt_wg_free(wg), -1);
    cr_assert_eq(errno, EBUSY);
    evt_wg_done(wg);
    cr_assert_eq(join_rc(co), 0);
    cr_assert_eq(evt_wg_free(wg), 0);
    cr_assert_eq(evt_wg_free(NULL), 0);
}
