/* Batch attempts on T worker threads (T x C): the controller's attempt
 * coroutine hands its call to a thread in a post, parks, and is woken by
 * the thread's post back. A thread runs each call in a coroutine of its own
 * scheduler, so one thread runs C calls at once while they wait on IO.
 * The threads come from a thread pool, one long "host" task each. */
#define _GNU_SOURCE
#include "ctl.h"
#include "../loop/loop.h"
#include "../thread/future.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

/* One attempt handed to a thread. It lives on the stack of the controller
 * coroutine that waits for it, which returns only once `back` has run. */
typedef struct tcall {
    evt__post_t go;             /* to the worker thread: start it */
    evt__post_t back;           /* to the controller's thread: it ended */
    evt__threads_t *ts;
    size_t slot;                /* the attempt's slot: names it for cancel */
    evt_batch_fn fn;
    const evt_batch_task_t *task;
    void *out;
    size_t cap;
    size_t len;                 /* what fn set */
    void *user;
    int rc;                     /* what fn returned */
    struct tcall *next;          /* in its worker's queue of waiting calls */
    evt__sched_t *home;         /* the controller's thread */
    evt_co_t *waiter;           /* the coroutine parked in evt__threads_run */
    int returned;               /* back has run (home thread only) */
} tcall_t;

/* One worker thread. */
typedef struct wthread {
    evt__threads_t *ts;
    evt__sched_t *sched;        /* its scheduler, set before `ready` */
    evt_co_t *host;             /* the host task, parked until quit */
    evt_group_t *attempts;      /* the calls running there */
    size_t active;              /* how many (its thread only) */
    tcall_t *queued, **queued_tail; /* calls waiting for one to end */
    evt__post_t cancel;         /* cancels what want_cancel asks for */
    atomic_int cancel_posted;   /* `cancel` is in the inbox, not yet run */
    evt__post_t quit;
    int quitting;               /* quit has run (its thread only) */
    evt_future_t *ready;        /* done when sched is set, or it failed */
} wthread_t;

struct evt__threads {
    evt_threadpool_t *pool;     /* where the host tasks run */
    evt_future_t **hosts;       /* their futures */
    wthread_t *w;
    size_t n;                   /* threads; slot s runs on thread s % n */
    size_t slots;
    size_t limit;               /* calls at once on a thread, 0 = slots */
    atomic_uchar *want_cancel;  /* by slot: cancel the call there */
    evt_co_t **running;         /* by slot: the call's coroutine, or NULL
                                   (touched by the slot's thread only) */
};

/* --- the worker side ------------------------------------------------------ */

static void *attempt(void *arg);

/* End c with rc without running it (any more). */
static void send_back(tcall_t *c, int rc)
{
    c->rc = rc;
    evt__post(c->home, &c->back); /* c is not ours after this */
}

static void start_call(wthread_t *w, tcall_t *c)
{
    evt_co_t *co = evt_group_spawn(w->attempts, attempt, c);
    if (!co) {
        send_back(c, errno ? errno : ENOMEM);
        return;
    }
    w->active++;
    c->ts->running[c->slot] = co;
}

static void *attempt(void *arg)
{
    tcall_t *c = arg;
    evt__threads_t *ts = c->ts;
    wthread_t *w = &ts->w[c->slot % ts->n];
    int rc = evt__batch_call(c->fn, c->task, c->out, c->cap, &c->len,
                             c->user);
    ts->running[c->slot] = NULL;
    w->active--;
    send_back(c, rc);
    tcall_t *next = w->queued;
    if (next) {
        if (!(w->queued = next->next))
            w->queued_tail = &w->queued;
        start_call(w, next);
    }
    return NULL;
}

static void go(void *arg)
{
    tcall_t *c = arg;
    wthread_t *w = &c->ts->w[c->slot % c->ts->n];
    if (c->ts->limit && w->active >= c->ts->limit) {
        c->next = NULL;
        *w->queued_tail = c;
        w->queued_tail = &c->next;
        return;
    }
    start_call(w, c);
}

/* The flag is cleared before the scan, so a cancel asked for during the
 * scan either is seen by it or posts the node again (the inbox has read
 * the node's link before running it). Asks for a slot whose call ended
 * meanwhile find nothing running: a slot's next call is posted after this
 * node, and posts from one thread run in order. */
static void cancel_slots(void *arg)
{
    wthread_t *w = arg;
    evt__threads_t *ts = w->ts;
    atomic_store(&w->cancel_posted, 0);
    /* A queued call is ended here, as fn cancelled before it ran. */
    for (tcall_t **p = &w->queued; *p;) {
        tcall_t *c = *p;
        if (atomic_exchange(&ts->want_cancel[c->slot], 0)) {
            if (!(*p = c->next))
                w->queued_tail = p;
            send_back(c, ECANCELED);
        } else {
            p = &c->next;
        }
    }
    for (size_t s = (size_t)(w - ts->w); s < ts->slots; s += ts->n)
        if (atomic_exchange(&ts->want_cancel[s], 0) && ts->running[s])
            evt_cancel(ts->running[s]);
}

static void quit(void *arg)
{
    wthread_t *w = arg;
    w->quitting = 1;
    evt__loop_unhold(w->sched->loop);
    evt__unpark(w->host, 0);
}

static int host(void *arg, void **result)
{
    (void)result;
    wthread_t *w = arg;
    w->attempts = evt_group_new();
    if (!w->attempts) {
        evt__future_complete(w->ready, ENOMEM, NULL);
        errno = ENOMEM;
        return -1;
    }
    /* Set only now: quit is posted to the hosts that got this far. */
    w->sched = evt__tls_sched;
    w->host = w->sched->current;
    evt__loop_hold(w->sched->loop); /* until quit */
    evt__future_complete(w->ready, 0, NULL);
    while (!w->quitting)
        evt__park();
    /* Every call has posted back by now; this waits for their returns. */
    evt_group_free(w->attempts);
    return 0;
}

/* --- the controller side ------------------------------------------------- */

static void call_back(void *arg)
{
    tcall_t *c = arg;
    c->returned = 1;
    evt__loop_unhold(c->home->loop);
    evt__unpark(c->waiter, 0);
}

static void ask_cancel(evt__threads_t *ts, size_t slot)
{
    wthread_t *w = &ts->w[slot % ts->n];
    atomic_store(&ts->want_cancel[slot], 1);
    if (!atomic_exchange(&w->cancel_posted, 1))
        evt__post(w->sched, &w->cancel);
}

int evt__threads_run(evt__threads_t *ts, size_t slot, evt_batch_fn fn,
                     const evt_batch_task_t *task, void *out, size_t cap,
                     size_t *len, void *user)
{
    tcall_t c = {.ts = ts, .slot = slot, .fn = fn, .task = task, .out = out,
                .cap = cap, .user = user, .home = evt__tls_sched};
    c.waiter = c.home->current;
    c.go = (evt__post_t){NULL, go, &c};
    c.back = (evt__post_t){NULL, call_back, &c};
    evt__loop_hold(c.home->loop); /* until back */
    evt__post(ts->w[slot % ts->n].sched, &c.go);
    /* A cancel of the waiter (deadline, halt now, a cancelled batch) is
     * passed on to the call, then the wait goes on: the call uses c. */
    int asked = 0;
    while (!c.returned) {
        if (!asked && c.waiter->cancelled) {
            asked = 1;
            ask_cancel(ts, slot);
        }
        evt__park();
    }
    *len = c.len;
    return c.rc;
}

static void stop(evt__threads_t *ts)
{
    for (size_t i = 0; i < ts->n; i++)
        if (ts->w[i].sched)
            evt__post(ts->w[i].sched, &ts->w[i].quit);
    evt_threadpool_free(ts->pool); /* waits for the hosts to return */
}

void evt__threads_free(evt__threads_t *ts)
{
    if (!ts)
        return;
    if (ts->pool)
        stop(ts);
    for (size_t i = 0; i < ts->n; i++) {
        evt_future_free(ts->hosts[i]);
        evt_future_free(ts->w[i].ready);
    }
    free(ts->hosts);
    free(ts->w);
    free(ts->want_cancel);
    free(ts->running);
    free(ts);
}

evt__threads_t *evt__threads_new(size_t threads, size_t slots, size_t limit)
{
    evt__threads_t *ts = calloc(1, sizeof *ts);
    if (!ts)
        return NULL;
    ts->n = threads;
    ts->slots = slots;
    ts->limit = limit;
    ts->hosts = calloc(threads, sizeof *ts->hosts);
    ts->w = calloc(threads, sizeof *ts->w);
    ts->want_cancel = calloc(slots, sizeof *ts->want_cancel);
    ts->running = calloc(slots, sizeof *ts->running);
    if (!ts->hosts || !ts->w || !ts->want_cancel || !ts->running)
        goto nomem;
    /* One runner per thread: each host task gets a thread of its own. */
    evt_threadpool_opts_t po = {.coroutines = 1};
    ts->pool = evt_threadpool_new(threads, &po);
    if (!ts->pool)
        goto fail;
    int err = 0;
    for (size_t i = 0; i < threads && !err; i++) {
        wthread_t *w = &ts->w[i];
        w->ts = ts;
        w->queued_tail = &w->queued;
        w->cancel = (evt__post_t){NULL, cancel_slots, w};
        w->quit = (evt__post_t){NULL, quit, w};
        atomic_init(&w->cancel_posted, 0);
        if (!(w->ready = evt__future_new())) {
            err = ENOMEM;
        } else if (!(ts->hosts[i] = evt_threadpool_submit(ts->pool, host,
                                                          w))) {
            /* It will never run: complete its ready future here. */
            err = errno;
            evt__future_complete(w->ready, err, NULL);
        }
    }
    /* Every host started must be ready (or failed) before any is told to
     * quit: quit goes to the scheduler a host names when ready. */
    for (size_t i = 0; i < threads && ts->w[i].ready; i++) {
        evt__future_wait(ts->w[i].ready, -1, 0);
        if (!err)
            err = evt_future_err(ts->w[i].ready);
    }
    if (err) {
        evt__threads_free(ts);
        errno = err;
        return NULL;
    }
    return ts;
nomem:
    errno = ENOMEM;
fail:;
    int e = errno;
    evt__threads_free(ts);
    errno = e;
    return NULL;
}
