/* Events (gevent.event.Event): a flag that coroutines wait to see set.
 * Setting it wakes every waiter; a waiter woken by a set returns 0 even if
 * the flag was cleared again before it ran. */
#include "../core/wait.h"

#include <stdlib.h>

struct evt_event {
    evt__waitq_t waiters; /* parked until the next set */
    int set;              /* the flag */
};

evt_event_t *evt_event_new(void)
{
    return evt__zalloc(sizeof(evt_event_t));
}

void evt_event_set(evt_event_t *ev)
{
    if (!ev)
        return;
    ev->set = 1;
    evt__waitq_wake_all(&ev->waiters, 0);
}

void evt_event_clear(evt_event_t *ev)
{
    if (ev)
        ev->set = 0;
}

int evt_event_is_set(const evt_event_t *ev)
{
    return ev ? ev->set : 0;
}

int evt_event_wait(evt_event_t *ev, int64_t deadline)
{
    return EVT__WAIT_OBJ(ev, ev->set, deadline);
}

int evt_event_free(evt_event_t *ev)
{
    return ev ? evt__waitq_free(ev, &ev->waiters) : 0;
}
