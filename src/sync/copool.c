/* Coroutine pools (gevent.pool.Pool, asyncpool): at most N tasks at once,
 * each in its own detached coroutine (stacks come from the core's pool, so a
 * task costs no mapping), spawners parked in FIFO order for a free slot,
 * ordered map and unordered imap, a watchdog that cancels tasks running
 * past max_task_ms, and a progress hook every log_every_n tasks. */
#include "../core/wait.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

struct comap;

/* A started task; recycled through the pool's spare list. */
typedef struct cotask {
    struct cotask *next;    /* younger running task; or next on a done or
                             spare list */
    struct cotask *prev;    /* older running task */
    evt_copool_t *pool;   /* its pool */
    evt_co_t *co;         /* its coroutine, valid while it is listed */
    evt_fn fn;            /* body */
    void *arg;            /* its argument */
    struct comap *batch;  /* the map or imap it belongs to, or NULL */
    size_t index;         /* its item in the batch */
    int64_t deadline;     /* start + max_task_ms */
    void *result;         /* imap: fn's result, while on the done list */
    int err;              /* imap: its status, likewise */
    int timed_out;        /* the watchdog cancelled it */
} cotask_t;

/* One call of map or imap; lives on the caller's stack. */
typedef struct comap {
    evt_fn fn;                /* body of every task */
    void *const *args;        /* n arguments, or NULL */
    size_t n;                 /* items */
    void **results;           /* map: where results go, or NULL */
    int *errs;                /* map: where statuses go, or NULL */
    evt_copool_result_fn cb;  /* imap: reports each item, or NULL for map */
    void *user;               /* imap: cb's argument */
    size_t pending;           /* tasks started and not finished */
    cotask_t *done_head;        /* imap: finished tasks not yet reported */
    cotask_t *done_tail;
    evt_co_t *caller;         /* who called map or imap */
    uint64_t epoch;           /* the pool's kill count at the start */
    int parked;               /* the caller is parked in a batch wait, where a
                                 finishing task may wake it */
} comap_t;

struct evt_copool {
    size_t size;            /* most tasks at once */
    size_t running;         /* slots taken: running tasks, plus slots handed
                               to spawners that have not started theirs */
    cotask_t *head;           /* running tasks, oldest first */
    cotask_t *tail;
    cotask_t *cursor;         /* oldest running task not yet timed out; the
                               ones before it all are */
    cotask_t *spare;          /* free task records */
    evt__waitq_t slotq;     /* spawners parked for a slot; only while every
                               slot is taken */
    evt__waitq_t joinq;     /* parked until running is 0 */
    evt_copool_opts_t opts; /* copy of the options */
    evt_co_t *watchdog;     /* enforces max_task_ms; NULL without it */
    int wd_parked;          /* the watchdog waits for the next deadline */
    int closing;            /* evt_copool_free in progress */
    size_t batches;         /* map and imap calls in progress */
    uint64_t kills;         /* evt_copool_kill calls so far */
    uint64_t done;          /* tasks finished */
    uint64_t failed;        /* of which with an error */
};

static void *watchdog_main(void *arg);

evt_copool_t *evt_copool_new(size_t size, const evt_copool_opts_t *opts)
{
    if (size == 0 || (opts && opts->max_task_ms < 0)) {
        errno = EINVAL;
        return NULL;
    }
    evt_copool_t *p = calloc(1, sizeof *p);
    if (!p) {
        errno = ENOMEM;
        return NULL;
    }
    p->size = size;
    if (opts)
        p->opts = *opts;
    if (p->opts.max_task_ms > 0) {
        p->watchdog = evt_spawn(watchdog_main, p);
        if (!p->watchdog) {
            free(p);
            return NULL;
        }
        evt_detach(p->watchdog);
    }
    return p;
}

/* --- slots ------------------------------------------------------------- */

/* Give a slot back: to the oldest parked spawner if there is one, so that
 * nobody arriving later takes it first. */
static void slot_put(evt_copool_t *p)
{
    evt__waiter_t *w = evt__waitq_pop(&p->slotq);
    if (w) {
        w->got = 1;
        evt__unpark(w->co, 0);
        return;
    }
    if (--p->running == 0)
        evt__waitq_wake_all(&p->joinq, 0);
}

/* --- tasks ------------------------------------------------------------- */

static inline void task_recycle(evt_copool_t *p, cotask_t *t)
{
    t->next = p->spare;
    p->spare = t;
}

static void progress_default(uint64_t done, uint64_t failed, void *user)
{
    (void)user;
    fprintf(stderr, "eventor: copool: %" PRIu64 " tasks done, %" PRIu64
            " failed\n", done, failed);
}

/* Body of every task's coroutine: run it, report it, and leave the pool
 * before the coroutine finishes (it is detached and releases itself). */
static void *task_main(void *arg)
{
    cotask_t *t = arg;
    void *r = t->fn(t->arg);
    evt_copool_t *p = t->pool;
    int err = t->timed_out ? ETIMEDOUT : t->co->cancelled ? ECANCELED : 0;
    if (p->cursor == t)
        p->cursor = t->next;
    if (t->prev)
        t->prev->next = t->next;
    else
        p->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        p->tail = t->prev;
    p->done++;
    if (err)
        p->failed++;
    comap_t *b = t->batch;
    if (!b) {
        task_recycle(p, t);
    } else if (b->cb) {
        /* imap reports in the caller's coroutine, which may block. */
        t->result = r;
        t->err = err;
        EVT__FIFO_PUSH(b->done_head, b->done_tail, t);
    } else {
        if (b->results)
            b->results[t->index] = r;
        if (b->errs)
            b->errs[t->index] = err;
        task_recycle(p, t);
    }
    slot_put(p);
    if (b) {
        b->pending--;
        if (b->parked && (b->cb || b->pending == 0))
            evt__unpark(b->caller, 0);
    }
    size_t every = p->opts.log_every_n;
    if (every && p->done % every == 0) {
        evt_copool_progress_fn fn = p->opts.progress ? p->opts.progress
                                                     : progress_default;
        fn(p->done, p->failed, p->opts.progress_user);
    }
    return NULL;
}

/* Start fn(arg) in a slot the caller holds. 0, or an errno value (then the
 * caller still holds the slot). */
static int task_start(evt_copool_t *p, evt_fn fn, void *arg, comap_t *b,
                      size_t index)
{
    cotask_t *t = p->spare;
    if (evt__likely(t != NULL))
        p->spare = t->next;
    else if (!(t = malloc(sizeof *t)))
        return ENOMEM;
    t->pool = p;
    t->fn = fn;
    t->arg = arg;
    t->batch = b;
    t->index = index;
    t->timed_out = 0;
    t->co = evt_spawn_attr(task_main, t, &p->opts.co_attr);
    if (evt__unlikely(!t->co)) {
        task_recycle(p, t);
        return errno;
    }
    evt_detach(t->co);
    t->next = NULL;
    t->prev = p->tail;
    if (p->tail)
        p->tail->next = t;
    else
        p->head = t;
    p->tail = t;
    if (p->opts.max_task_ms > 0) {
        /* Deadlines grow with start order: the list is sorted by them. */
        t->deadline = evt_now() + p->opts.max_task_ms;
        if (!p->cursor) {
            p->cursor = t;
            if (p->wd_parked)
                evt__unpark(p->watchdog, 0);
        }
    }
    return 0;
}

/* Cancel the running tasks that have passed their deadline, then sleep
 * until the next one's. */
static void *watchdog_main(void *arg)
{
    evt_copool_t *p = arg;
    for (;;) {
        /* Cancelled by evt_copool_free: p may be gone already. */
        if (evt_cancelled())
            return NULL;
        p->wd_parked = 0;
        int64_t now = evt_now();
        cotask_t *t;
        while ((t = p->cursor) != NULL && t->deadline <= now) {
            t->timed_out = 1;
            p->cursor = t->next;
            evt_cancel(t->co);
        }
        p->wd_parked = 1;
        evt__wait(t ? t->deadline : -1);
    }
}

/* The entry check of the calls that start tasks: 0, or -1 and EINVAL
 * (ok is 0: an argument is missing) or ECANCELED (the pool is closing). */
static int can_start(const evt_copool_t *p, int ok)
{
    if (evt__unlikely(!p || !ok)) {
        errno = EINVAL;
        return -1;
    }
    if (evt__unlikely(p->closing)) {
        errno = ECANCELED;
        return -1;
    }
    return 0;
}

int evt_copool_spawn(evt_copool_t *p, evt_fn fn, void *arg, int64_t deadline)
{
    if (can_start(p, fn != NULL) < 0)
        return -1;
    if (p->running < p->size) {
        p->running++;
    } else {
        uint64_t epoch = p->kills;
        if (evt__wait_on(&p->slotq, NULL, deadline) < 0)
            return -1;
        if (p->kills != epoch) {
            /* Killed after the slot was handed over: spawners that were
             * waiting fail, whoever got there first. */
            slot_put(p);
            errno = ECANCELED;
            return -1;
        }
    }
    int rc = task_start(p, fn, arg, NULL, 0);
    if (rc) {
        slot_put(p);
        errno = rc;
        return -1;
    }
    return 0;
}

/* --- map and imap ------------------------------------------------------ */

/* imap: report the finished tasks, in the caller's coroutine. */
static void batch_drain(evt_copool_t *p, comap_t *b)
{
    cotask_t *t;
    while ((t = b->done_head) != NULL) {
        b->done_head = t->next;
        if (!b->done_head)
            b->done_tail = NULL;
        size_t i = t->index;
        void *r = t->result;
        int err = t->err;
        task_recycle(p, t);
        b->cb(i, r, err, b->user);
    }
}

/* Take a slot for the next item of b, reporting finished items while
 * waiting. 0, or an errno value (ECANCELED: the caller was cancelled or the
 * pool killed). */
static int batch_slot(evt_copool_t *p, comap_t *b)
{
    for (;;) {
        if (b->cb)
            batch_drain(p, b);
        /* A batch is long: once cancelled it starts nothing more, even
         * where a slot is free. */
        if (p->kills != b->epoch || b->caller->cancelled)
            return ECANCELED;
        if (p->running < p->size) {
            p->running++;
            return 0;
        }
        evt__waiter_t me = {.co = b->caller};
        evt__waitq_push(&p->slotq, &me);
        b->parked = 1;
        int rc = evt__wait(-1);
        b->parked = 0;
        /* Woken by one of our tasks finishing, we are still linked (or were
         * skipped as not parked): go report, then queue again. */
        if (me.q)
            evt__waitq_remove(&me);
        if (me.got) {
            if (p->kills == b->epoch)
                return 0;
            slot_put(p);
            return ECANCELED;
        }
        if (rc)
            return rc;
    }
}

static void batch_report(comap_t *b, size_t i, int err)
{
    if (b->cb) {
        b->cb(i, NULL, err, b->user);
        return;
    }
    if (b->results)
        b->results[i] = NULL;
    if (b->errs)
        b->errs[i] = err;
}

static void batch_cancel(evt_copool_t *p, comap_t *b)
{
    for (cotask_t *t = p->head; t; t = t->next)
        if (t->batch == b)
            evt_cancel(t->co);
}

static int batch_run(evt_copool_t *p, comap_t *b)
{
    evt__sched_t *s = evt__sched();
    if (!s)
        return -1;
    b->caller = s->current;
    b->epoch = p->kills;
    p->batches++;
    int err = 0;
    size_t next = 0;
    while (next < b->n) {
        int rc = batch_slot(p, b);
        if (!rc) {
            rc = task_start(p, b->fn, b->args ? b->args[next] : NULL, b, next);
            if (rc)
                slot_put(p);
        }
        if (rc) {
            err = rc;
            break;
        }
        b->pending++;
        next++;
    }
    for (size_t i = next; i < b->n; i++)
        batch_report(b, i, err);
    /* Our tasks write into the caller's arrays (or reach the caller's
     * callback): wait for every one of them, even if cancelled. */
    int cancelled = 0;
    if (err == ECANCELED) {
        batch_cancel(p, b);
        cancelled = 1;
    }
    for (;;) {
        if (b->cb)
            batch_drain(p, b);
        if (!b->pending)
            break;
        b->parked = 1;
        int rc = cancelled ? evt__park() : evt__wait(-1);
        b->parked = 0;
        if (rc == ECANCELED && !cancelled) {
            batch_cancel(p, b);
            cancelled = 1;
            if (!err)
                err = ECANCELED;
        }
    }
    p->batches--;
    if (!err && p->kills != b->epoch)
        err = ECANCELED;
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

int evt_copool_map(evt_copool_t *p, evt_fn fn, void *const *args,
                   void **results, int *errs, size_t n)
{
    if (can_start(p, fn != NULL) < 0)
        return -1;
    comap_t b = {.fn = fn, .args = args, .n = n, .results = results,
                 .errs = errs};
    return batch_run(p, &b);
}

int evt_copool_imap_unordered(evt_copool_t *p, evt_fn fn, void *const *args,
                              size_t n, evt_copool_result_fn cb, void *user)
{
    if (can_start(p, fn && cb) < 0)
        return -1;
    comap_t b = {.fn = fn, .args = args, .n = n, .cb = cb, .user = user};
    return batch_run(p, &b);
}

/* --- the pool as a whole ----------------------------------------------- */

int evt_copool_join(evt_copool_t *p, int64_t deadline)
{
    if (evt__unlikely(!p)) {
        errno = EINVAL;
        return -1;
    }
    return evt__wait_unless(p->running == 0, &p->joinq, deadline);
}

void evt_copool_kill(evt_copool_t *p)
{
    if (!p)
        return;
    p->kills++;
    for (cotask_t *t = p->head; t; t = t->next)
        evt_cancel(t->co);
    evt__waitq_wake_all(&p->slotq, ECANCELED);
}

size_t evt_copool_running(const evt_copool_t *p)
{
    return p ? p->running : 0;
}

uint64_t evt_copool_done(const evt_copool_t *p)
{
    return p ? p->done : 0;
}

uint64_t evt_copool_failed(const evt_copool_t *p)
{
    return p ? p->failed : 0;
}

int evt_copool_free(evt_copool_t *p)
{
    if (!p)
        return 0;
    evt__sched_t *s = evt__sched();
    if (!s)
        return -1;
    if (p->batches) {
        errno = EBUSY;
        return -1;
    }
    evt_co_t *self = s->current;
    for (cotask_t *t = p->head; t; t = t->next) {
        if (t->co == self) {
            errno = EDEADLK; /* it would wait for itself */
            return -1;
        }
    }
    p->closing = 1;
    evt_copool_kill(p);
    /* A task left running would use the pool after it is freed. */
    evt__waitq_drain(&p->joinq, &p->running);
    evt__waitq_wake_all(&p->slotq, ECANCELED);
    if (p->watchdog)
        evt_cancel(p->watchdog);
    cotask_t *t, *next;
    for (t = p->spare; t; t = next) {
        next = t->next;
        free(t);
    }
    free(p);
    return 0;
}
