/* Process-shared locks (multiprocessing.Lock and RLock). The holder's thread
 * holds a robust pthread mutex for as long as the lock is held, so that the
 * kernel tells the next locker when the holder died (EOWNERDEAD); the
 * holding coroutine is recorded beside it. Lockers never block in the
 * mutex: they try it, and park on a doorbell in between. */
#define _GNU_SOURCE
#include "ipc.h"

#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <unistd.h>

/* Parked lockers look again this often, to notice a holder that died
 * (nobody rings for it). */
#define DEAD_HOLDER_POLL_MS 100

struct evt_ipc_lock {
    pthread_mutex_t m;          /* held by the holder's thread */
    _Atomic int32_t owner_tid;  /* holder's thread, 0 when free */
    _Atomic uint64_t owner_co;  /* holder coroutine's evt_co_id */
    unsigned count;             /* recursion depth of the holder */
    int recursive;              /* an RLock */
    evt__ipc_waitset_t waiters; /* lockers parked */
};

static _Thread_local int32_t tls_tid;

static void after_fork_in_child(void)
{
    tls_tid = 0; /* the child's thread has a tid of its own */
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, after_fork_in_child);
}

static int32_t my_tid(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (evt__unlikely(!tls_tid)) {
        pthread_once(&once, register_atfork);
        tls_tid = (int32_t)gettid();
    }
    return tls_tid;
}

static evt_ipc_lock_t *lock_new(int recursive)
{
    evt_ipc_lock_t *l = EVT__IPC_NEW(1, evt_ipc_lock_t, m);
    if (l)
        l->recursive = recursive;
    return l;
}

evt_ipc_lock_t *evt_ipc_lock_new(void)
{
    return lock_new(0);
}

evt_ipc_lock_t *evt_ipc_rlock_new(void)
{
    return lock_new(1);
}

static int held_by_me(evt_ipc_lock_t *l, int32_t tid, uint64_t co)
{
    return atomic_load_explicit(&l->owner_tid, memory_order_relaxed) == tid &&
           atomic_load_explicit(&l->owner_co, memory_order_relaxed) == co;
}

int evt__ipc_lock_acquire(evt_ipc_lock_t *l, int64_t deadline, int nocancel,
                          unsigned count)
{
    evt__sched_t *s = evt__sched();
    if (!s)
        return ENOMEM;
    int32_t tid = my_tid();
    uint64_t co = s->current->id;
    int added = 0;
    for (;;) {
        int rc = pthread_mutex_trylock(&l->m);
        if (rc == 0 || rc == EOWNERDEAD) {
            if (rc)
                pthread_mutex_consistent(&l->m);
            atomic_store_explicit(&l->owner_co, co, memory_order_relaxed);
            atomic_store_explicit(&l->owner_tid, tid, memory_order_relaxed);
            l->count = count;
            return rc;
        }
        /* EDEADLK: our own thread holds it (robust error-checking mutexes
         * say so even to a try). */
        if (rc != EBUSY && rc != EDEADLK)
            return rc;
        if (held_by_me(l, tid, co)) {
            if (!l->recursive)
                return EDEADLK;
            if (l->count > UINT_MAX - count)
                return EAGAIN;
            l->count += count;
            return 0;
        }
        if (deadline == 0)
            return ETIMEDOUT;
        if (!nocancel && s->current->cancelled)
            return ECANCELED;
        if (!added) {
            /* Register, then try once more: a release between our try and
             * the registration saw no waiter and rang nobody. */
            rc = evt__ipc_waitset_add(&l->waiters);
            if (rc)
                return rc;
            atomic_thread_fence(memory_order_seq_cst);
            added = 1;
            continue;
        }
        added = 0;
        int64_t poll = evt_now() + DEAD_HOLDER_POLL_MS;
        rc = evt__ipc_bell_wait(deadline < 0 || deadline > poll ? poll
                                                                : deadline,
                                nocancel);
        if (rc == ETIMEDOUT && (deadline < 0 || evt_now() < deadline))
            continue;
        if (rc)
            return rc;
    }
}

int evt_ipc_lock_acquire(evt_ipc_lock_t *l, int64_t deadline)
{
    if (evt__unlikely(!l)) {
        errno = EINVAL;
        return -1;
    }
    int rc = evt__ipc_lock_acquire(l, deadline, 0, 1);
    if (rc) {
        errno = rc;
        return -1;
    }
    return 0;
}

unsigned evt__ipc_lock_release_all(evt_ipc_lock_t *l)
{
    unsigned n = l->count;
    l->count = 0;
    atomic_store_explicit(&l->owner_tid, 0, memory_order_relaxed);
    atomic_store_explicit(&l->owner_co, 0, memory_order_relaxed);
    pthread_mutex_unlock(&l->m);
    /* Pairs with the fence of a locker between its registration and its
     * last try: it either gets the lock or is rung. */
    atomic_thread_fence(memory_order_seq_cst);
    evt__ipc_waitset_wake(&l->waiters);
    return n;
}

int evt__ipc_lock_held(evt_ipc_lock_t *l)
{
    evt__sched_t *s = evt__sched();
    return s && held_by_me(l, my_tid(), s->current->id);
}

int evt_ipc_lock_release(evt_ipc_lock_t *l)
{
    if (evt__unlikely(!l)) {
        errno = EINVAL;
        return -1;
    }
    if (!evt__ipc_lock_held(l)) {
        errno = EPERM;
        return -1;
    }
    if (l->count > 1)
        l->count--;
    else
        evt__ipc_lock_release_all(l);
    return 0;
}

int evt_ipc_lock_free(evt_ipc_lock_t *l)
{
    if (!l)
        return 0;
    int rc = pthread_mutex_trylock(&l->m);
    if (rc == EBUSY || rc == EDEADLK) {
        errno = EBUSY;
        return -1;
    }
    if (rc == EOWNERDEAD)
        pthread_mutex_consistent(&l->m);
    if (rc == 0 || rc == EOWNERDEAD)
        pthread_mutex_unlock(&l->m);
    pthread_mutex_destroy(&l->m);
    evt__ipc_free(l);
    return 0;
}
