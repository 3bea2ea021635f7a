/* Tests of the process-shared locks: ownership by coroutine (EDEADLK,
 * EPERM), recursion, deadlines, cancellation, mutual exclusion across
 * processes, and a holder that dies (EOWNERDEAD, for a locker that comes
 * later and for one already parked). */
#include "ipc_test.h"

Test(ipc_lock, lock_and_release)
{
    evt_ipc_lock_t *l = evt_ipc_lock_new();
    cr_assert_not_null(l);
    cr_assert_eq(evt_ipc_lock_acquire(l, 0), 0);
    cr_assert_eq(evt_ipc_lock_acquire(l, 0), -1);
    cr_assert_eq(errno, EDEADLK);
    cr_assert_eq(evt_ipc_lock_free(l), -1);
    cr_assert_eq(errno, EBUSY);
    cr_assert_eq(evt_ipc_lock_release(l), 0);
    cr_assert_eq(evt_ipc_lock_release(l), -1);
    cr_assert_eq(errno, EPERM);
    cr_assert_eq(evt_ipc_lock_free(l), 0);
    cr_assert_eq(evt_ipc_lock_free(NULL), 0);
}

Test(ipc_lock, recursive)
{
    evt_ipc_lock_t *l = evt_ipc_rlock_new();
    cr_assert_eq(evt_ipc_lock_acquire(l, -1), 0);
    cr_assert_eq(evt_ipc_lock_acquire(l, -1), 0);
    cr_assert_eq(evt_ipc_lock_release(l), 0);
    cr_assert_eq(evt_ipc_lock_free(l), -1); /* still held once */
    cr_assert_eq(evt_ipc_lock_release(l), 0);
    cr_assert_eq(evt_ipc_lock_release(l), -1);
    cr_assert_eq(errno, EPERM);
    cr_assert_eq(evt_ipc_lock_free(l), 0);
}

Test(ipc_lock, bad_arguments)
{
    cr_assert_eq(evt_ipc_lock_acquire(NULL, 0), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_lock_release(NULL), -1);
    cr_assert_eq(errno, EINVAL);
}

typedef struct lock_op {
    evt_ipc_lock_t *l;
    int64_t deadline;
    int release;
} lock_op_t;

static void *do_lock(void *arg)
{
    lock_op_t *o = arg;
    if (evt_ipc_lock_acquire(o->l, o->deadline) < 0)
        return (void *)(intptr_t)errno;
    if (o->release)
        evt_ipc_lock_release(o->l);
    return NULL;
}

Test(ipc_lock, another_coroutine_waits_times_out_is_cancelled_or_gets_it)
{
    evt_ipc_lock_t *l = evt_ipc_rlock_new();
    cr_assert_eq(evt_ipc_lock_acquire(l, -1), 0);
    /* Held by another coroutine of the same thread: not ours to take. */
    lock_op_t late = {l, evt_now() + 20, 1};
    cr_assert_eq(join_err(evt_spawn(do_lock, &late)), ETIMEDOUT);
    lock_op_t now = {l, 0, 1};
    cr_assert_eq(join_err(evt_spawn(do_lock, &now)), ETIMEDOUT);
    lock_op_t forever = {l, -1, 1};
    evt_co_t *c = evt_spawn(do_lock, &forever);
    evt_yield();
    cr_assert_eq(evt_cancel(c), 0);
    cr_assert_eq(join_err(c), ECANCELED);
    evt_co_t *w = evt_spawn(do_lock, &forever);
    evt_yield();
    cr_assert_eq(evt_ipc_lock_release(l), 0);
    cr_assert_eq(join_err(w), 0);
    cr_assert_eq(evt_ipc_lock_free(l), 0);
}

#define ROUNDS 300

typedef struct excl {
    evt_ipc_lock_t *l;
    long *counter; /* a plain shared array: only the lock protects it */
} excl_t;

static int add_under_lock(void *arg)
{
    excl_t *x = arg;
    for (int i = 0; i < ROUNDS; i++) {
        if (evt_ipc_lock_acquire(x->l, evt_now() + 10000) < 0)
            return 1;
        long v = *x->counter;
        if (i % 16 == 0)
            evt_sleep(0); /* let others run while we hold it */
        *x->counter = v + 1;
        if (evt_ipc_lock_release(x->l) < 0)
            return 2;
    }
    return 0;
}

Test(ipc_lock, mutual_exclusion_across_processes)
{
    excl_t x = {evt_ipc_lock_new(), evt_ipc_array_new(1, sizeof(long))};
    pid_t a = child(add_under_lock, &x), b = child(add_under_lock, &x);
    cr_assert_eq(add_under_lock(&x), 0);
    expect_ok(a);
    expect_ok(b);
    cr_assert_eq(*x.counter, 3 * ROUNDS);
    evt_ipc_array_free(x.counter);
    evt_ipc_lock_free(x.l);
}

typedef struct die_args {
    evt_ipc_lock_t *l;
    evt_ipc_event_t *held;
} die_args_t;

static int take_and_die(void *arg)
{
    die_args_t *a = arg;
    if (evt_ipc_lock_acquire(a->l, -1) < 0)
        return 1;
    evt_ipc_event_set(a->held);
    for (;;)
        pause(); /* until killed */
}

Test(ipc_lock, a_dead_holder_gives_eownerdead_to_the_next_locker)
{
    die_args_t a = {evt_ipc_lock_new(), evt_ipc_event_new()};
    pid_t p = child(take_and_die, &a);
    cr_assert_eq(evt_ipc_event_wait(a.held, evt_now() + 5000), 0);
    cr_assert_eq(evt_ipc_lock_acquire(a.l, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    kill(p, SIGKILL);
    cr_assert_eq(reap(p), 128 + SIGKILL);
    cr_assert_eq(evt_ipc_lock_acquire(a.l, evt_now() + 5000), -1);
    cr_assert_eq(errno, EOWNERDEAD);
    /* The caller holds it now, and it works as before. */
    cr_assert_eq(evt_ipc_lock_release(a.l), 0);
    cr_assert_eq(evt_ipc_lock_acquire(a.l, 0), 0);
    cr_assert_eq(evt_ipc_lock_release(a.l), 0);
    evt_ipc_lock_free(a.l);
    evt_ipc_event_free(a.held);
}

Test(ipc_lock, a_parked_locker_notices_the_holder_died)
{
    die_args_t a = {evt_ipc_rlock_new(), evt_ipc_event_new()};
    pid_t p = child(take_and_die, &a);
    cr_assert_eq(evt_ipc_event_wait(a.held, evt_now() + 5000), 0);
    lock_op_t op = {a.l, evt_now() + 10000, 0};
    evt_co_t *c = evt_spawn(do_lock, &op);
    evt_yield(); /* parked now */
    kill(p, SIGKILL);
    cr_assert_eq(join_err(c), EOWNERDEAD);
    cr_assert_eq(reap(p), 128 + SIGKILL);
    evt_ipc_event_free(a.held);
}
