/* Process-shared condition variable (multiprocessing.Condition) over an
 * IPC lock. A notify hands out wake-up tokens that only coroutines already
 * waiting may take (each waiter holds a ticket in arrival order), so a
 * coroutine that starts waiting after a notify cannot steal it. */
#include "ipc.h"

#include <errno.h>
#include <stddef.h>

struct evt_ipc_cond {
    pthread_mutex_t lock;       /* guards the counters below */
    evt_ipc_lock_t *l;          /* the user's lock */
    uint64_t seq;               /* tickets handed out so far */
    uint64_t notify_seq;        /* tickets below this may take a token */
    uint64_t waiting;           /* waiters that have not left */
    uint64_t tokens;            /* wake-ups not yet taken */
    evt__ipc_waitset_t waiters; /* parked in wait */
};

evt_ipc_cond_t *evt_ipc_cond_new(evt_ipc_lock_t *l)
{
    evt_ipc_cond_t *c = EVT__IPC_NEW(l != NULL, evt_ipc_cond_t, lock);
    if (c)
        c->l = l;
    return c;
}

/* Wait for a token with c->lock held; returns with it released. */
static int wait_token(evt_ipc_cond_t *c, uint64_t ticket, int64_t deadline)
{
    int rc = 0;
    for (;;) {
        if (c->tokens && ticket < c->notify_seq) {
            c->tokens--;
            c->waiting--;
            evt__ipc_mutex_unlock(&c->lock);
            return 0;
        }
        if (rc) {
            c->waiting--;
            if (c->tokens > c->waiting)
                c->tokens = c->waiting;
            evt__ipc_mutex_unlock(&c->lock);
            return rc;
        }
        rc = evt__ipc_wait_unlock(&c->lock, &c->waiters, deadline);
        int lrc = evt__ipc_mutex_lock(&c->lock);
        if (lrc)
            return lrc; /* not reached: only EDEADLK, which cannot be */
    }
}

int evt_ipc_cond_wait(evt_ipc_cond_t *c, int64_t deadline)
{
    if (evt__unlikely(!c)) {
        errno = EINVAL;
        return -1;
    }
    if (!evt__ipc_lock_held(c->l)) {
        errno = EPERM;
        return -1;
    }
    if (evt__ipc_lock(&c->lock) < 0)
        return -1;
    uint64_t ticket = c->seq++;
    c->waiting++;
    unsigned levels = evt__ipc_lock_release_all(c->l);
    int rc = wait_token(c, ticket, deadline);
    int lrc = evt__ipc_lock_acquire(c->l, -1, 1, levels);
    if (lrc)
        rc = lrc;
    if (rc) {
        errno = rc;
        return -1;
    }
    return 0;
}

void evt_ipc_cond_notify(evt_ipc_cond_t *c, unsigned n)
{
    if (!c || evt__ipc_mutex_lock(&c->lock))
        return;
    uint64_t idle = c->waiting - c->tokens;
    uint64_t k = n < idle ? n : idle;
    c->tokens += k;
    c->notify_seq = c->seq;
    evt__ipc_mutex_unlock(&c->lock);
    if (k)
        evt__ipc_waitset_wake(&c->waiters);
}

void evt_ipc_cond_notify_all(evt_ipc_cond_t *c)
{
    evt_ipc_cond_notify(c, (unsigned)-1);
}

void evt_ipc_cond_free(evt_ipc_cond_t *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    evt__ipc_free(c);
}
