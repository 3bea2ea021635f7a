/* Binary min-heap of parked coroutines by deadline (see timer.h). */
#include "timer.h"
#include "core.h"

#include <errno.h>
#include <stdlib.h>

static inline void place(evt__timers_t *t, size_t i, evt_co_t *co)
{
    t->heap[i] = co;
    co->timer_slot = i;
}

static void sift_up(evt__timers_t *t, size_t i)
{
    evt_co_t *co = t->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (t->heap[parent]->deadline <= co->deadline)
            break;
        place(t, i, t->heap[parent]);
        i = parent;
    }
    place(t, i, co);
}

static void sift_down(evt__timers_t *t, size_t i)
{
    evt_co_t *co = t->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= t->len)
            break;
        if (child + 1 < t->len &&
            t->heap[child + 1]->deadline < t->heap[child]->deadline)
            child++;
        if (co->deadline <= t->heap[child]->deadline)
            break;
        place(t, i, t->heap[child]);
        i = child;
    }
    place(t, i, co);
}

int evt__timers_add(evt__timers_t *t, evt_co_t *co)
{
    if (t->len == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        evt_co_t **h = realloc(t->heap, cap * sizeof *h);
        if (!h)
            return ENOMEM;
        t->heap = h;
        t->cap = cap;
    }
    t->heap[t->len] = co;
    sift_up(t, t->len++);
    return 0;
}

void evt__timers_remove(evt__timers_t *t, evt_co_t *co)
{
    size_t i = co->timer_slot;
    co->timer_slot = SIZE_MAX;
    if (i == --t->len)
        return;
    evt_co_t *last = t->heap[t->len];
    place(t, i, last);
    if (i > 0 && t->heap[(i - 1) / 2]->deadline > last->deadline)
        sift_up(t, i);
    else
        sift_down(t, i);
}

int64_t evt__timers_next(const evt__timers_t *t)
{
    return t->len ? t->heap[0]->deadline : -1;
}

evt_co_t *evt__timers_expired(evt__timers_t *t, int64_t now)
{
    if (!t->len || t->heap[0]->deadline > now)
        return NULL;
    evt_co_t *co = t->heap[0];
    evt__timers_remove(t, co);
    return co;
}

void evt__timers_fini(evt__timers_t *t)
{
    free(t->heap);
    t->heap = NULL;
    t->len = t->cap = 0;
}
