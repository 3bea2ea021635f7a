/* Tests of mutexes: exclusion across yields, FIFO hand-off, EDEADLK and
 * EPERM, deadlines, cancellation (the mutex is not handed to a cancelled
 * waiter), free while held or waited for, bad arguments. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include "eventor.h"

typedef struct lock_op {
    evt_mutex_t *m;
    int64_t deadline;
    int id;
    int *order;
    int *len;
} lock_op_t;

static void *do_lock(void *arg)
{
    lock_op_t *o = arg;
    if (evt_mutex_lock(o->m, o->deadline) < 0)
        return (void *)(intptr_t)errno;
    if (o->order)
        o->order[(*o->len)++] = o->id;
    evt_yield();
    evt_mutex_unlock(o->m);
    return NULL;
}

static int join_rc(evt_co_t *co)
{
    void *r;
    cr_assert_eq(evt_join(co, -1, &r), 0);
    return (int)(intptr_t)r;
}

static int counter, broken;

static void *critical(void *arg)
{
    evt_mutex_t *m = arg;
    for (int i = 0; i < 100; i++) {
        if (evt_mutex_lock(m, -1) < 0)
            return (void *)(intptr_t)errno;
        int seen = counter;
        evt_yield(); /* others run, but none may enter */
        if (counter != seen)
            broken = 1;
        counter = seen + 1;
        evt_mutex_unlock(m);
    }
    return NULL;
}

Test(mutex, excludes_across_yields)
{
    counter = broken = 0;
    evt_mutex_t *m = evt_mutex_new();
    evt_co_t *co[10];
    for (int i = 0; i < 10; i++)
        co[i] = evt_spawn(critical, m);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(join_rc(co[i]), 0);
    cr_assert_eq(counter, 1000);
    cr_assert_not(broken);
    cr_assert_eq(evt_mutex_free(m), 0);
}

Test(mutex, fifo_hand_off)
{
    evt_mutex_t *m = evt_mutex_new();
    cr_assert_eq(evt_mutex_lock(m, -1), 0);
    enum { N = 5 };
    int order[N], len = 0;
    lock_op_t o[N];
    evt_co_t *co[N];
    for (int i = 0; i < N; i++) {
        o[i] = (lock_op_t){m, -1, i, order, &len};
        co[i] = evt_spawn(do_lock, &o[i]);
    }
    evt_yield();
    cr_assert_eq(evt_mutex_unlock(m), 0);
    /* Held by the first waiter already: a newcomer cannot barge in. */
    cr_assert_eq(evt_mutex_lock(m, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    for (int i = 0; i < N; i++)
        cr_assert_eq(join_rc(co[i]), 0);
    for (int i = 0; i < N; i++)
        cr_assert_eq(order[i], i);
    evt_mutex_free(m);
}

Test(mutex, relock_is_edeadlk_and_foreign_unlock_is_eperm)
{
    evt_mutex_t *m = evt_mutex_new();
    cr_assert_eq(evt_mutex_unlock(m), -1);
    cr_assert_eq(errno, EPERM);
    cr_assert_eq(evt_mutex_lock(m, -1), 0);
    cr_assert_eq(evt_mutex_lock(m, -1), -1);
    cr_assert_eq(errno, EDEADLK);
    lock_op_t o = {m, 0, 0, NULL, NULL};
    cr_assert_eq(join_rc(evt_spawn(do_lock, &o)), ETIMEDOUT);
    cr_assert_eq(evt_mutex_unlock(m), 0);
    evt_mutex_free(m);
}

static void *unlock_foreign(void *arg)
{
    return (void *)(intptr_t)(evt_mutex_unlock(arg) < 0 ? errno : 0);
}

Test(mutex, unlock_by_another_coroutine_is_eperm)
{
    evt_mutex_t *m = evt_mutex_new();
    evt_mutex_lock(m, -1);
    cr_assert_eq(join_rc(evt_spawn(unlock_foreign, m)), EPERM);
    evt_mutex_unlock(m);
    evt_mutex_free(m);
}

Test(mutex, deadline_expires)
{
    evt_mutex_t *m = evt_mutex_new();
    evt_mutex_lock(m, -1);
    lock_op_t o = {m, evt_now() + 20, 0, NULL, NULL};
    int64_t t0 = evt_now();
    cr_assert_eq(join_rc(evt_spawn(do_lock, &o)), ETIMEDOUT);
    cr_assert_geq(evt_now() - t0, 19);
    evt_mutex_unlock(m);
    evt_mutex_free(m);
}

Test(mutex, cancelled_waiter_is_not_made_owner)
{
    evt_mutex_t *m = evt_mutex_new();
    evt_mutex_lock(m, -1);
    lock_op_t o = {m, -1, 0, NULL, NULL};
    evt_co_t *a = evt_spawn(do_lock, &o);
    evt_yield();
    evt_cancel(a);
    cr_assert_eq(evt_mutex_unlock(m), 0);
    /* Free again, not held by the cancelled a. */
    cr_assert_eq(evt_mutex_lock(m, 0), 0);
    cr_assert_eq(join_rc(a), ECANCELED);
    evt_co_t *b = evt_spawn(do_lock, &o);
    evt_yield();
    evt_cancel(b);
    cr_assert_eq(join_rc(b), ECANCELED);
    evt_mutex_unlock(m);
    cr_assert_eq(evt_mutex_free(m), 0);
}

Test(mutex, free_while_held_or_waited_is_ebusy)
{
    evt_mutex_t *m = evt_mutex_new();
    evt_mutex_lock(m, -1);
    cr_assert_eq(evt_mutex_free(m), -1);
    cr_assert_eq(errno, EBUSY);
    lock_op_t o = {m, -1, 0, NULL, NULL};
    evt_co_t *a = evt_spawn(do_lock, &o);
    evt_yield();
    evt_mutex_unlock(m); /* a owns it now */
    cr_assert_eq(evt_mutex_free(m), -1);
    cr_assert_eq(errno, EBUSY);
    cr_assert_eq(join_rc(a), 0);
    cr_assert_eq(evt_mutex_free(m), 0);
    cr_assert_eq(evt_mutex_free(NULL), 0);
}

Test(mutex, bad_arguments)
{
    cr_assert_eq(evt_mutex_lock(NULL, 0), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_mutex_unlock(NULL), -1);
    cr_assert_eq(errno, EINVAL);
}
