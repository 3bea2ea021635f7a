/* Tests of the process-shared condition: wait releases and retakes the
 * lock (every level of an rlock), notify of one and of all, a notify
 * before anyone waits is not kept, deadlines and cancellation (the lock is
 * held again after both), a notifier in another process, bad arguments. */
#include "ipc_test.h"

Test(ipc_cond, bad_arguments_and_not_holding_the_lock)
{
    cr_assert_null(evt_ipc_cond_new(NULL));
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_cond_wait(NULL, 0), -1);
    cr_assert_eq(errno, EINVAL);
    evt_ipc_lock_t *l = evt_ipc_lock_new();
    evt_ipc_cond_t *c = evt_ipc_cond_new(l);
    cr_assert_eq(evt_ipc_cond_wait(c, 0), -1);
    cr_assert_eq(errno, EPERM);
    evt_ipc_cond_notify(NULL, 1);
    evt_ipc_cond_free(c);
    evt_ipc_cond_free(NULL);
    evt_ipc_lock_free(l);
}

Test(ipc_cond, timeout_keeps_the_lock_and_notify_is_not_kept)
{
    evt_ipc_lock_t *l = evt_ipc_rlock_new();
    evt_ipc_cond_t *c = evt_ipc_cond_new(l);
    evt_ipc_cond_notify_all(c); /* nobody waits: lost */
    cr_assert_eq(evt_ipc_lock_acquire(l, -1), 0);
    cr_assert_eq(evt_ipc_lock_acquire(l, -1), 0);
    cr_assert_eq(evt_ipc_cond_wait(c, evt_now() + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_ipc_cond_wait(c, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    /* Both levels are back. */
    cr_assert_eq(evt_ipc_lock_release(l), 0);
    cr_assert_eq(evt_ipc_lock_release(l), 0);
    cr_assert_eq(evt_ipc_lock_release(l), -1);
    evt_ipc_cond_free(c);
    evt_ipc_lock_free(l);
}

typedef struct shared {
    evt_ipc_lock_t *l;
    evt_ipc_cond_t *c;
    int *ready; /* in the arena: the predicate */
    int *woken; /* waiters past their wait */
} shared_t;

static void *wait_ready(void *arg)
{
    shared_t *s = arg;
    if (evt_ipc_lock_acquire(s->l, -1) < 0)
        return (void *)(intptr_t)errno;
    int rc = 0;
    while (!*s->ready && rc == 0)
        rc = evt_ipc_cond_wait(s->c, evt_now() + 10000) < 0 ? errno : 0;
    if (rc == 0)
        ++*s->woken;
    if (evt_ipc_lock_release(s->l) < 0)
        rc = EPERM; /* the lock must be held after the wait, whatever it returned */
    return (void *)(intptr_t)rc;
}

static shared_t make_shared(void)
{
    shared_t s;
    s.l = evt_ipc_lock_new();
    s.c = evt_ipc_cond_new(s.l);
    s.ready = evt_ipc_array_new(2, sizeof(int));
    s.woken = s.ready + 1;
    return s;
}

static void free_shared(shared_t *s)
{
    evt_ipc_cond_free(s->c);
    evt_ipc_lock_free(s->l);
    evt_ipc_array_free(s->ready);
}

Test(ipc_cond, notify_one_then_all)
{
    shared_t s = make_shared();
    evt_co_t *c[3];
    for (int i = 0; i < 3; i++)
        c[i] = evt_spawn(wait_ready, &s);
    evt_yield();
    cr_assert_eq(evt_ipc_lock_acquire(s.l, -1), 0);
    *s.ready = 1;
    evt_ipc_cond_notify(s.c, 1);
    cr_assert_eq(evt_ipc_lock_release(s.l), 0);
    /* Exactly one gets through; the others stay parked. */
    while (*s.woken < 1)
        cr_assert_eq(evt_sleep(0), 0);
    for (int i = 0; i < 10; i++)
        evt_yield();
    cr_assert_eq(*s.woken, 1);
    evt_ipc_cond_notify_all(s.c);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(join_err(c[i]), 0);
    cr_assert_eq(*s.woken, 3);
    free_shared(&s);
}

static void *wait_forever(void *arg)
{
    shared_t *s = arg;
    if (evt_ipc_lock_acquire(s->l, -1) < 0)
        return (void *)(intptr_t)errno;
    int rc = evt_ipc_cond_wait(s->c, -1) < 0 ? errno : 0;
    if (evt_ipc_lock_release(s->l) < 0)
        rc = EPERM;
    return (void *)(intptr_t)rc;
}

Test(ipc_cond, cancel_a_waiter_which_gets_the_lock_back)
{
    shared_t s = make_shared();
    evt_co_t *c = evt_spawn(wait_forever, &s);
    evt_yield();
    /* Hold the lock while cancelling: the waiter must wait to retake it. */
    cr_assert_eq(evt_ipc_lock_acquire(s.l, -1), 0);
    cr_assert_eq(evt_cancel(c), 0);
    evt_yield();
    cr_assert_eq(evt_co_done(c), 0);
    cr_assert_eq(evt_ipc_lock_release(s.l), 0);
    cr_assert_eq(join_err(c), ECANCELED);
    free_shared(&s);
}

static int make_ready(void *arg)
{
    shared_t *s = arg;
    if (evt_ipc_lock_acquire(s->l, evt_now() + 5000) < 0)
        return 1;
    *s->ready = 1;
    evt_ipc_cond_notify_all(s->c);
    return evt_ipc_lock_release(s->l) < 0;
}

Test(ipc_cond, notified_from_another_process)
{
    shared_t s = make_shared();
    evt_co_t *c[2] = {evt_spawn(wait_ready, &s), evt_spawn(wait_ready, &s)};
    evt_yield();
    pid_t p = child(make_ready, &s);
    cr_assert_eq(join_err(c[0]), 0);
    cr_assert_eq(join_err(c[1]), 0);
    expect_ok(p);
    free_shared(&s);
}
