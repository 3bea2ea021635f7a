/* Mutexes between the coroutines of one thread. Unlock hands the mutex to
 * the oldest parked locker (FIFO, no barging), which then owns it before it
 * even runs. */
#include "../core/wait.h"

#include <stdlib.h>

struct evt_mutex {
    evt__waitq_t waiters; /* parked in lock, oldest first */
    evt_co_t *owner;      /* holder, NULL when unlocked */
};

evt_mutex_t *evt_mutex_new(void)
{
    return evt__zalloc(sizeof(evt_mutex_t));
}

/* The calling coroutine, or NULL and errno (EINVAL: no m; ENOMEM). */
static evt_co_t *caller(const evt_mutex_t *m)
{
    evt__sched_t *s = evt__sched();
    if (!s)
        return NULL;
    if (evt__unlikely(!m)) {
        errno = EINVAL;
        return NULL;
    }
    return s->current;
}

int evt_mutex_lock(evt_mutex_t *m, int64_t deadline)
{
    evt_co_t *self = caller(m);
    if (!self)
        return -1;
    if (!m->owner) {
        m->owner = self;
        return 0;
    }
    if (m->owner == self) {
        errno = EDEADLK; /* not recursive: waiting would never end */
        return -1;
    }
    /* 0: the unlocker made us the owner. */
    return evt__wait_on(&m->waiters, NULL, deadline);
}

int evt_mutex_unlock(evt_mutex_t *m)
{
    evt_co_t *self = caller(m);
    if (!self)
        return -1;
    if (m->owner != self) {
        errno = EPERM;
        return -1;
    }
    evt__waiter_t *w = evt__waitq_pop(&m->waiters);
    m->owner = w ? w->co : NULL;
    if (w)
        evt__unpark(w->co, 0);
    return 0;
}

int evt_mutex_free(evt_mutex_t *m)
{
    if (!m)
        return 0;
    if (m->owner || evt__waitq_busy(&m->waiters)) {
        errno = EBUSY;
        return -1;
    }
    free(m);
    return 0;
}
