/* Tests of semaphores: counting, FIFO hand-off, bounded concurrency,
 * deadlines, cancellation (no unit lost), free with waiters, overflow, bad
 * arguments. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>

#include "eventor.h"

typedef struct acq_op {
    evt_sem_t *sem;
    int64_t deadline;
    int id;
    int *order;      /* where to log the id once acquired */
    int *order_len;
} acq_op_t;

static void *do_acquire(void *arg)
{
    acq_op_t *o = arg;
    if (evt_sem_acquire(o->sem, o->deadline) < 0)
        return (void *)(intptr_t)errno;
    if (o->order)
        o->order[(*o->order_len)++] = o->id;
    return NULL;
}

static int join_rc(evt_co_t *co)
{
    void *r;
    cr_assert_eq(evt_join(co, -1, &r), 0);
    return (int)(intptr_t)r;
}

Test(sem, counts)
{
    evt_sem_t *s = evt_sem_new(2);
    cr_assert_eq(evt_sem_value(s), 2);
    cr_assert_eq(evt_sem_acquire(s, 0), 0);
    cr_assert_eq(evt_sem_acquire(s, 0), 0);
    cr_assert_eq(evt_sem_acquire(s, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_sem_release(s), 0);
    cr_assert_eq(evt_sem_value(s), 1);
    cr_assert_eq(evt_sem_release(s), 0);
    cr_assert_eq(evt_sem_free(s), 0);
}

Test(sem, release_hands_to_oldest_waiter)
{
    evt_sem_t *s = evt_sem_new(0);
    enum { N = 5 };
    int order[N], len = 0;
    acq_op_t o[N];
    evt_co_t *co[N];
    for (int i = 0; i < N; i++) {
        o[i] = (acq_op_t){s, -1, i, order, &len};
        co[i] = evt_spawn(do_acquire, &o[i]);
    }
    evt_yield();
    for (int i = 0; i < N; i++) {
        cr_assert_eq(evt_sem_release(s), 0);
        /* The unit went to a waiter, not to the count. */
        cr_assert_eq(evt_sem_value(s), 0);
    }
    for (int i = 0; i < N; i++)
        cr_assert_eq(join_rc(co[i]), 0);
    cr_assert_eq(len, N);
    for (int i = 0; i < N; i++)
        cr_assert_eq(order[i], i);
    evt_sem_free(s);
}

static int inside, most_inside;

static void *limited(void *arg)
{
    evt_sem_t *s = arg;
    if (evt_sem_acquire(s, -1) < 0)
        return (void *)(intptr_t)errno;
    if (++inside > most_inside)
        most_inside = inside;
    for (int i = 0; i < 3; i++)
        evt_yield();
    inside--;
    evt_sem_release(s);
    return NULL;
}

Test(sem, bounds_concurrency)
{
    inside = most_inside = 0;
    evt_sem_t *s = evt_sem_new(3);
    enum { N = 50 };
    evt_co_t *co[N];
    for (int i = 0; i < N; i++)
        co[i] = evt_spawn(limited, s);
    for (int i = 0; i < N; i++)
        cr_assert_eq(join_rc(co[i]), 0);
    cr_assert_eq(most_inside, 3);
    cr_assert_eq(evt_sem_value(s), 3);
    evt_sem_free(s);
}

Test(sem, deadline_expires)
{
    evt_sem_t *s = evt_sem_new(0);
    int64_t t0 = evt_now();
    cr_assert_eq(evt_sem_acquire(s, t0 + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_geq(evt_now() - t0, 19);
    evt_sem_free(s);
}

Test(sem, cancelled_waiter_does_not_take_the_unit)
{
    evt_sem_t *s = evt_sem_new(0);
    acq_op_t o = {s, -1, 0, NULL, NULL};
    evt_co_t *a = evt_spawn(do_acquire, &o);
    evt_yield();
    evt_cancel(a);
    /* a is ready but has not run: the unit must not go to it. */
    cr_assert_eq(evt_sem_release(s), 0);
    cr_assert_eq(evt_sem_value(s), 1);
    cr_assert_eq(join_rc(a), ECANCELED);
    cr_assert_eq(evt_sem_acquire(s, 0), 0);
    /* And cancelling a parked waiter plainly. */
    evt_co_t *b = evt_spawn(do_acquire, &o);
    evt_yield();
    evt_cancel(b);
    cr_assert_eq(join_rc(b), ECANCELED);
    cr_assert_eq(evt_sem_value(s), 0);
    cr_assert_eq(evt_sem_free(s), 0);
}

Test(sem, free_with_waiters_is_ebusy)
{
    evt_sem_t *s = evt_sem_new(0);
    acq_op_t o = {s, -1, 0, NULL, NULL};
    evt_co_t *a = evt_spawn(do_acquire, &o);
    evt_yield();
    cr_assert_eq(evt_sem_free(s), -1);
    cr_assert_eq(errno, EBUSY);
    evt_sem_release(s);
    cr_assert_eq(join_rc(a), 0);
    cr_assert_eq(evt_sem_free(s), 0);
    cr_assert_eq(evt_sem_free(NULL), 0);
}

Test(sem, overflow_and_bad_arguments)
{
    evt_sem_t *s = evt_sem_new(UINT_MAX);
    cr_assert_eq(evt_sem_release(s), -1);
    cr_assert_eq(errno, EOVERFLOW);
    cr_assert_eq(evt_sem_value(s), UINT_MAX);
    evt_sem_free(s);
    cr_assert_eq(evt_sem_acquire(NULL, 0), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_sem_release(NULL), -1);
    cr_assert_eq(errno, EINVAL);
}
