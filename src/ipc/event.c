/* Process-shared event (multiprocessing.Event): a flag and a count of sets,
 * so that a waiter woken by a set returns even if the flag was cleared
 * again before it looked. */
#include "ipc.h"

#include <errno.h>
#include <stddef.h>

struct evt_ipc_event {
    pthread_mutex_t lock;       /* guards flag and sets */
    int flag;                   /* set or not */
    uint64_t sets;              /* evt_ipc_event_set calls so far */
    evt__ipc_waitset_t waiters; /* parked in wait */
};

evt_ipc_event_t *evt_ipc_event_new(void)
{
    return EVT__IPC_NEW(1, evt_ipc_event_t, lock);
}

void evt_ipc_event_set(evt_ipc_event_t *ev)
{
    if (!ev || evt__ipc_mutex_lock(&ev->lock))
        return;
    ev->flag = 1;
    ev->sets++;
    evt__ipc_mutex_unlock(&ev->lock);
    evt__ipc_waitset_wake(&ev->waiters);
}

void evt_ipc_event_clear(evt_ipc_event_t *ev)
{
    if (!ev || evt__ipc_mutex_lock(&ev->lock))
        return;
    ev->flag = 0;
    evt__ipc_mutex_unlock(&ev->lock);
}

int evt_ipc_event_is_set(evt_ipc_event_t *ev)
{
    return ev ? __atomic_load_n(&ev->flag, __ATOMIC_RELAXED) : 0;
}

int evt_ipc_event_wait(evt_ipc_event_t *ev, int64_t deadline)
{
    if (evt__unlikely(!ev)) {
        errno = EINVAL;
        return -1;
    }
    uint64_t seen = 0;
    for (int first = 1;; first = 0) {
        if (evt__ipc_lock(&ev->lock) < 0)
            return -1;
        if (first)
            seen = ev->sets;
        if (ev->flag || ev->sets != seen) {
            evt__ipc_mutex_unlock(&ev->lock);
            return 0;
        }
        if (evt__ipc_wait(&ev->lock, &ev->waiters, deadline) < 0)
            return -1;
    }
}

void evt_ipc_event_free(evt_ipc_event_t *ev)
{
    if (!ev)
        return;
    pthread_mutex_destroy(&ev->lock);
    evt__ipc_free(ev);
}
