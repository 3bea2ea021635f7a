/* What is asked of a coroutine from outside: join it, detach it, cancel
 * it, its id and whether it is done. The scheduler (sched.c) runs it. */
#include "core.h"

#include <errno.h>

int evt_join(evt_co_t *co, int64_t deadline, void **result)
{
    evt__sched_t *s = evt__sched();
    if (!s)
        return -1;
    evt_co_t *self = s->current;
    if (!co || co->sched != s || co == &s->main || co->detached) {
        errno = EINVAL;
        return -1;
    }
    if (co == self) {
        errno = EDEADLK;
        return -1;
    }
    if (co->state != EVT__DONE) {
        if (co->joiner && co->joiner != self) {
            errno = EINVAL;
            return -1;
        }
        co->joiner = self;
        int rc;
        do
            rc = evt__wait(deadline);
        while (rc == 0 && co->state != EVT__DONE);
        co->joiner = NULL;
        if (rc) {
            errno = rc;
            return -1;
        }
    }
    if (result)
        *result = co->result;
    evt__co_release(s, co);
    return 0;
}

void evt_detach(evt_co_t *co)
{
    if (!co || co->detached)
        return;
    if (co->state == EVT__DONE) {
        evt__co_release(co->sched, co);
        return;
    }
    co->detached = 1;
}

int evt_cancel(evt_co_t *co)
{
    if (!co || co->state == EVT__DONE) {
        errno = EINVAL;
        return -1;
    }
    co->cancelled = 1;
    evt__unpark(co, ECANCELED);
    return 0;
}

int evt_sched_active(void)
{
    return evt__tls_sched != NULL;
}

evt_co_t *evt_self(void)
{
    evt__sched_t *s = evt__sched();
    return s ? s->current : NULL;
}

uint64_t evt_co_id(const evt_co_t *co)
{
    return co->id;
}

int evt_co_done(const evt_co_t *co)
{
    return co->state == EVT__DONE;
}

int evt_cancelled(void)
{
    evt__sched_t *s = evt__sched();
    return s && s->current->cancelled;
}
