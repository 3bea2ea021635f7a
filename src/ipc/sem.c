/* Process-shared counting semaphore (multiprocessing.Semaphore): a count
 * under the short lock; a release rings the parked acquirers, which race
 * for the unit (no hand-off across processes). */
#include "ipc.h"

#include <errno.h>
#include <stddef.h>
#include <limits.h>

struct evt_ipc_sem {
    pthread_mutex_t lock;       /* guards value */
    unsigned value;             /* units available */
    evt__ipc_waitset_t waiters; /* acquirers parked */
};

evt_ipc_sem_t *evt_ipc_sem_new(unsigned value)
{
    evt_ipc_sem_t *s = EVT__IPC_NEW(1, evt_ipc_sem_t, lock);
    if (s)
        s->value = value;
    return s;
}

int evt_ipc_sem_acquire(evt_ipc_sem_t *s, int64_t deadline)
{
    if (evt__unlikely(!s)) {
        errno = EINVAL;
        return -1;
    }
    for (;;) {
        if (evt__ipc_lock(&s->lock) < 0)
            return -1;
        if (s->value) {
            s->value--;
            evt__ipc_mutex_unlock(&s->lock);
            return 0;
        }
        if (evt__ipc_wait(&s->lock, &s->waiters, deadline) < 0)
            return -1;
    }
}

int evt_ipc_sem_release(evt_ipc_sem_t *s)
{
    if (evt__unlikely(!s)) {
        errno = EINVAL;
        return -1;
    }
    if (evt__ipc_lock(&s->lock) < 0)
        return -1;
    if (s->value == UINT_MAX) {
        evt__ipc_mutex_unlock(&s->lock);
        errno = EOVERFLOW;
        return -1;
    }
    s->value++;
    evt__ipc_mutex_unlock(&s->lock);
    evt__ipc_waitset_wake(&s->waiters);
    return 0;
}

unsigned evt_ipc_sem_value(evt_ipc_sem_t *s)
{
    return s ? __atomic_load_n(&s->value, __ATOMIC_RELAXED) : 0;
}

void evt_ipc_sem_free(evt_ipc_sem_t *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->lock);
    evt__ipc_free(s);
}
