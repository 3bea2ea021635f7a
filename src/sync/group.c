/* Groups (gevent Group and joinall): coroutines spawned into a group are
 * owned by it, can be joined all at once with a deadline and cancelled all
 * at once; freeing a group cancels and joins what is left, so that no member
 * outlives it. */
#include "../core/wait.h"

#include <stdlib.h>

/* A member; recycled through the group's free list. */
typedef struct member {
    struct member *next; /* younger running member, or next free record */
    struct member *prev; /* older running member */
    evt_group_t *g;      /* its group */
    evt_co_t *co;        /* its coroutine, valid while it runs */
    evt_fn fn;           /* body */
    void *arg;           /* its argument */
} member_t;

struct evt_group {
    member_t *head;       /* running members, oldest first */
    member_t *tail;
    member_t *spare;      /* free member records */
    size_t running;       /* members not yet returned */
    uint64_t finished;    /* members that have returned */
    evt__waitq_t joiners; /* parked until running is 0 */
    int closing;          /* evt_group_free in progress: no more spawns */
};

evt_group_t *evt_group_new(void)
{
    evt_group_t *g = calloc(1, sizeof *g);
    if (!g)
        errno = ENOMEM;
    return g;
}

static void unlink_member(evt_group_t *g, member_t *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        g->head = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        g->tail = m->prev;
    m->next = g->spare;
    g->spare = m;
}

/* Body of every member: run it, then leave the group before the coroutine
 * finishes (it is detached and releases itself right after). */
static void *member_main(void *p)
{
    member_t *m = p;
    m->fn(m->arg);
    evt_group_t *g = m->g;
    unlink_member(g, m);
    g->finished++;
    if (--g->running == 0)
        evt__waitq_wake_all(&g->joiners, 0);
    return NULL;
}

evt_co_t *evt_group_spawn_attr(evt_group_t *g, evt_fn fn, void *arg,
                               const evt_co_attr_t *attr)
{
    if (evt__unlikely(!g || !fn)) {
        errno = EINVAL;
        return NULL;
    }
    if (evt__unlikely(g->closing)) {
        errno = ECANCELED;
        return NULL;
    }
    member_t *m = g->spare;
    if (m)
        g->spare = m->next;
    else if (!(m = malloc(sizeof *m))) {
        errno = ENOMEM;
        return NULL;
    }
    m->g = g;
    m->fn = fn;
    m->arg = arg;
    m->co = evt_spawn_attr(member_main, m, attr);
    if (!m->co) {
        m->next = g->spare;
        g->spare = m;
        return NULL;
    }
    evt_detach(m->co);
    m->next = NULL;
    m->prev = g->tail;
    if (g->tail)
        g->tail->next = m;
    else
        g->head = m;
    g->tail = m;
    g->running++;
    return m->co;
}

evt_co_t *evt_group_spawn(evt_group_t *g, evt_fn fn, void *arg)
{
    return evt_group_spawn_attr(g, fn, arg, NULL);
}

int evt_group_join(evt_group_t *g, int64_t deadline)
{
    if (evt__unlikely(!g)) {
        errno = EINVAL;
        return -1;
    }
    return evt__wait_unless(g->running == 0, &g->joiners, deadline);
}

void evt_group_cancel(evt_group_t *g)
{
    if (!g)
        return;
    for (member_t *m = g->head; m; m = m->next)
        evt_cancel(m->co);
}

size_t evt_group_running(const evt_group_t *g)
{
    return g ? g->running : 0;
}

uint64_t evt_group_finished(const evt_group_t *g)
{
    return g ? g->finished : 0;
}

int evt_group_free(evt_group_t *g)
{
    if (!g)
        return 0;
    evt__sched_t *s = evt__sched();
    if (!s)
        return -1;
    evt_co_t *self = s->current;
    for (member_t *m = g->head; m; m = m->next) {
        if (m->co == self) {
            errno = EDEADLK; /* it would wait for itself */
            return -1;
        }
    }
    g->closing = 1;
    evt_group_cancel(g);
    /* A member left running would use the group after it is freed. */
    evt__waitq_drain(&g->joiners, &g->running);
    member_t *m, *next;
    for (m = g->spare; m; m = next) {
        next = m->next;
        free(m);
    }
    free(g);
    return 0;
}
