/* The core's wait queue and the one blocking step built on it
 * (evt__wait_on): the FIFO list of coroutines parked on an object
 * (channel, event, semaphore, IPC bell, process pool...), for every layer
 * above. Each waiter record lives on the stack of the coroutine it stands
 * for, so waiting never allocates. */
#ifndef EVT_CORE_WAIT_H
#define EVT_CORE_WAIT_H

#include "core.h"

#include <errno.h>
#include <stdlib.h>

/* calloc(1, size) for the constructors of objects coroutines wait on: NULL
 * and ENOMEM. */
static inline void *evt__zalloc(size_t size)
{
    void *p = calloc(1, size);
    if (!p)
        errno = ENOMEM;
    return p;
}

typedef struct evt__waitq evt__waitq_t;

/* One parked coroutine. Lives on its coroutine's stack. */
typedef struct evt__waiter {
    evt_co_t *co;               /* who waits */
    struct evt__waiter *next;   /* younger waiter */
    struct evt__waiter *prev;   /* older waiter */
    evt__waitq_t *q;            /* the list it is on; NULL once unlinked */
    void *item;                 /* channels: where the item comes from or
                                   goes to */
    int got;                    /* pools: a slot was handed over */
} evt__waiter_t;

/* Waiters, oldest first. */
struct evt__waitq {
    evt__waiter_t *head; /* oldest */
    evt__waiter_t *tail; /* youngest */
};

static inline void evt__waitq_push(evt__waitq_t *q, evt__waiter_t *w)
{
    w->q = q;
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
}

static inline void evt__waitq_remove(evt__waiter_t *w)
{
    evt__waitq_t *q = w->q;
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->q = NULL;
}

/* Unlink and return the oldest waiter that is still parked, or NULL. A
 * linked waiter that is no longer parked was woken by its deadline or a
 * cancel and has not run yet: it gets nothing, so it is unlinked and
 * skipped. A waker hands something over only to what this returns, and
 * then unparks it with 0 before anything else can run: a waiter that
 * returns with an error has never consumed anything. */
static inline evt__waiter_t *evt__waitq_pop(evt__waitq_t *q)
{
    evt__waiter_t *w;
    while ((w = q->head) != NULL) {
        evt__waitq_remove(w);
        if (evt__likely(w->co->state == EVT__PARKED))
            return w;
    }
    return NULL;
}

/* Unlink every waiter; those still parked return rc. */
static inline void evt__waitq_wake_all(evt__waitq_t *q, int rc)
{
    evt__waiter_t *w;
    while ((w = evt__waitq_pop(q)) != NULL)
        evt__unpark(w->co, rc);
}

/* 1 while some coroutine is parked on q. Stale waiters (see
 * evt__waitq_pop) are unlinked on the way, so that the object can be freed
 * under them: they never look at it again. */
static inline int evt__waitq_busy(evt__waitq_t *q)
{
    evt__waiter_t *w = q->head, *next;
    for (; w; w = next) {
        next = w->next;
        if (w->co->state == EVT__PARKED)
            return 1;
        evt__waitq_remove(w);
    }
    return 0;
}

/* Park the caller (w->co) on q until a waker unlinks it and unparks it
 * with 0 (returns 0), or until the deadline or a cancel (returns ETIMEDOUT
 * or ECANCELED; w is unlinked), or a waker unparks it with an error code
 * (returned). A wake-up with 0 that left w linked came from elsewhere and
 * is ignored, so that callers need not loop. */
static inline int evt__waitq_wait(evt__waitq_t *q, evt__waiter_t *w,
                                  int64_t deadline)
{
    evt__waitq_push(q, w);
    int rc;
    do
        rc = evt__wait(deadline);
    while (rc == 0 && w->q != NULL);
    if (w->q)
        evt__waitq_remove(w);
    return rc;
}

/* The one blocking step of the waits on a queue (channels, events,
 * semaphores, mutexes, wait groups, groups, pools): the three steps of
 * libdill's wait, of which only the first differs between callers. The
 * clauses are the queue (its waker hands over what the caller waits for,
 * item for channels), the deadline and a cancel (both through evt__wait);
 * which one fired is the return: 0 (the queue's), or -1 and errno
 * ETIMEDOUT, ECANCELED, or the error code the waker gave (EPIPE...), or
 * ENOMEM when the thread has no scheduler. */
static inline int evt__wait_on(evt__waitq_t *q, void *item, int64_t deadline)
{
    evt__sched_t *s = evt__sched();
    if (evt__unlikely(!s))
        return -1;
    evt__waiter_t me = {.co = s->current, .item = item};
    int rc = evt__waitq_wait(q, &me, deadline);
    if (evt__unlikely(rc != 0)) {
        errno = rc;
        return -1;
    }
    return 0;
}

/* evt__wait_on without an item, unless done already: the whole wait of
 * an event, a wait group, a group's or a pool's join. */
static inline int evt__wait_unless(int done, evt__waitq_t *q, int64_t deadline)
{
    return done ? 0 : evt__wait_on(q, NULL, deadline);
}

/* The public wait of an object obj whose waiters park on its field
 * waiters: -1 and EINVAL when obj is NULL, else evt__wait_unless(done...)
 * (done is read only then). */
#define EVT__WAIT_OBJ(obj, done, deadline)                                   \
    (evt__unlikely(!(obj))                                                   \
         ? (errno = EINVAL, -1)                                              \
         : evt__wait_unless((done), &(obj)->waiters, (deadline)))

/* For the frees of objects coroutines wait on: 0 when nobody is parked on
 * q, else -1 and EBUSY (see evt__waitq_busy). */
static inline int evt__waitq_idle(evt__waitq_t *q)
{
    if (evt__waitq_busy(q)) {
        errno = EBUSY;
        return -1;
    }
    return 0;
}

/* The free of a heap object obj whose waiters park on q only: free(obj)
 * and 0, or -1 and EBUSY while one is parked (obj stays). */
static inline int evt__waitq_free(void *obj, evt__waitq_t *q)
{
    if (evt__waitq_idle(q) < 0)
        return -1;
    free(obj);
    return 0;
}

/* Park on q until *running drops to 0, whatever cancels the caller: for
 * the frees that must not return while members still use the object. Then
 * wake the waiters left on q (only stale ones can be). */
static inline void evt__waitq_drain(evt__waitq_t *q, const size_t *running)
{
    while (*running) {
        evt__waiter_t me = {.co = evt__tls_sched->current};
        evt__waitq_push(q, &me);
        evt__park(); /* not evt__wait: a cancel must not cut this short */
        if (me.q)
            evt__waitq_remove(&me);
    }
    evt__waitq_wake_all(q, 0);
}

#endif
