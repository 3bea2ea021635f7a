/* Counting semaphores. A release hands its unit straight to the oldest
 * parked acquirer, so that a coroutine arriving later cannot take it first
 * and waiters are served in order. */
#include "../core/wait.h"

#include <limits.h>
#include <stdlib.h>

struct evt_sem {
    evt__waitq_t waiters; /* parked in acquire; only while value is 0 */
    unsigned value;       /* units available */
};

evt_sem_t *evt_sem_new(unsigned value)
{
    evt_sem_t *s = calloc(1, sizeof *s);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    s->value = value;
    return s;
}

int evt_sem_acquire(evt_sem_t *sem, int64_t deadline)
{
    if (evt__unlikely(!sem)) {
        errno = EINVAL;
        return -1;
    }
    if (sem->value) {
        sem->value--;
        return 0;
    }
    /* 0: the releaser gave us its unit. */
    return evt__wait_on(&sem->waiters, NULL, deadline);
}

int evt_sem_release(evt_sem_t *sem)
{
    if (evt__unlikely(!sem)) {
        errno = EINVAL;
        return -1;
    }
    evt__waiter_t *w = evt__waitq_pop(&sem->waiters);
    if (w) {
        evt__unpark(w->co, 0);
        return 0;
    }
    if (sem->value == UINT_MAX) {
        errno = EOVERFLOW;
        return -1;
    }
    sem->value++;
    return 0;
}

unsigned evt_sem_value(const evt_sem_t *sem)
{
    return sem ? sem->value : 0;
}

int evt_sem_free(evt_sem_t *sem)
{
    return sem ? evt__waitq_free(sem, &sem->waiters) : 0;
}
