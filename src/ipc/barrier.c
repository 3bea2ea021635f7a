/* Process-shared barrier (multiprocessing.Barrier): arrivals counted per
 * generation; the last arrival opens the generation. A waiter that gives up
 * breaks the barrier for everyone, as in Python, so that no party waits
 * for one that will never come. */
#include "ipc.h"

#include <errno.h>
#include <stddef.h>

struct evt_ipc_barrier {
    pthread_mutex_t lock;       /* guards the fields below */
    unsigned parties;           /* callers per generation */
    unsigned arrived;           /* callers waiting in this generation */
    uint64_t generation;        /* ended generations so far */
    uint64_t broken_gens;       /* bit g % 64: generation g ended broken
                                   (read by its waiters after it ended) */
    int broken;                 /* a waiter gave up: arrivals fail */
    evt__ipc_waitset_t waiters; /* parked in wait */
};

evt_ipc_barrier_t *evt_ipc_barrier_new(unsigned parties)
{
    evt_ipc_barrier_t *b = EVT__IPC_NEW(parties > 0, evt_ipc_barrier_t, lock);
    if (b)
        b->parties = parties;
    return b;
}

/* End the current generation, opened or broken, and wake its waiters.
 * Unlocks b. */
static void end_unlock(evt_ipc_barrier_t *b, int broken)
{
    uint64_t bit = (uint64_t)1 << (b->generation % 64);
    if (broken)
        b->broken_gens |= bit;
    else
        b->broken_gens &= ~bit;
    b->arrived = 0;
    b->generation++;
    evt__ipc_mutex_unlock(&b->lock);
    evt__ipc_waitset_wake(&b->waiters);
}

int evt_ipc_barrier_wait(evt_ipc_barrier_t *b, int64_t deadline)
{
    if (evt__unlikely(!b)) {
        errno = EINVAL;
        return -1;
    }
    if (evt__ipc_lock(&b->lock) < 0)
        return -1;
    if (b->broken) {
        evt__ipc_mutex_unlock(&b->lock);
        errno = EPIPE;
        return -1;
    }
    uint64_t gen = b->generation;
    int index = (int)b->arrived++;
    if (b->arrived == b->parties) {
        end_unlock(b, 0);
        return index;
    }
    for (;;) {
        int rc = evt__ipc_wait_unlock(&b->lock, &b->waiters, deadline);
        if (evt__ipc_lock(&b->lock) < 0)
            return -1;
        if (b->generation != gen) {
            /* Opened, or broken by someone else (or reset) meanwhile. */
            int broken = (int)(b->broken_gens >> (gen % 64)) & 1;
            evt__ipc_mutex_unlock(&b->lock);
            if (broken) {
                errno = EPIPE;
                return -1;
            }
            return index;
        }
        if (rc) {
            b->broken = 1;
            end_unlock(b, 1);
            errno = rc;
            return -1;
        }
    }
}

void evt_ipc_barrier_reset(evt_ipc_barrier_t *b)
{
    if (!b || evt__ipc_mutex_lock(&b->lock))
        return;
    b->broken = 0;
    if (b->arrived)
        end_unlock(b, 1); /* the waiters of this generation fail */
    else
        evt__ipc_mutex_unlock(&b->lock);
}

void evt_ipc_barrier_free(evt_ipc_barrier_t *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->lock);
    evt__ipc_free(b);
}
