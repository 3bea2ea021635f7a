/* The thread pool: worker threads, each running up to C task coroutines
 * ("runners") on its own scheduler, all fed from one FIFO queue. A runner
 * that finds the queue empty parks and is woken by an evt__post, one wake
 * in flight at a time (see more_hands), so a busy pool takes tasks without
 * any system call. */
#define _GNU_SOURCE
#include "future.h"
#include "thread.h"
#include "../loop/loop.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct task {
    evt_task_fn fn;
    void *arg;
    evt_future_t *f;        /* the producer's reference */
};

/* One task slot of a worker thread: a coroutine taking tasks in a loop. */
struct runner {
    evt__post_t post;       /* wakes it when it is idle */
    evt_threadpool_t *pool;
    evt__sched_t *sched;    /* its thread */
    evt_co_t *co;           /* itself */
    struct runner *next;    /* in pool->idle */
    int counted;            /* counted in pool->waking until it looks at
                               the queue (under the pool's lock) */
    int woken;              /* the wake post has run (its thread only) */
};

struct evt_threadpool {
    pthread_mutex_t lock;   /* guards the fields up to `threads` */
    struct task *ring;      /* queued tasks, a ring of cap slots */
    size_t cap, head, len;
    struct runner *idle;    /* parked runners, most recent first */
    size_t waking;          /* runners woken or started that have not yet
                               looked at the queue */
    size_t started;         /* threads started (their ids in tids) */
    size_t alive;           /* threads not yet finished */
    int closing;            /* shutdown has begun: no more submits */
    int joined;             /* a shutdown has joined the threads */
    pthread_t *tids;
    /* Fixed at creation. */
    size_t threads;
    size_t coroutines;
    size_t queue_max;
    size_t stack_size;
    evt_future_t *stopped;  /* done when the last thread has finished */
};

/* The pool whose worker this thread is, to refuse a shutdown from inside. */
static _Thread_local evt_threadpool_t *serving;

evt_threadpool_t *evt_threadpool_new(size_t threads,
                                     const evt_threadpool_opts_t *opts)
{
    if (threads == 0) {
        errno = EINVAL;
        return NULL;
    }
    evt_threadpool_t *p = calloc(1, sizeof *p);
    if (!p)
        goto nomem;
    p->tids = calloc(threads, sizeof *p->tids);
    p->stopped = evt__future_new();
    if (!p->tids || !p->stopped)
        goto nomem;
    pthread_mutex_init(&p->lock, NULL);
    p->threads = threads;
    p->coroutines = opts && opts->coroutines ? opts->coroutines : 1;
    p->queue_max = opts ? opts->queue_max : 0;
    p->stack_size = opts ? opts->stack_size : 0;
    return p;
nomem:
    if (p) {
        free(p->tids);
        if (p->stopped) {
            evt__future_complete(p->stopped, 0, NULL);
            evt_future_free(p->stopped);
        }
        free(p);
    }
    errno = ENOMEM;
    return NULL;
}

static int start_thread(evt_threadpool_t *p);

/* Under the lock: get one more runner looking at the queue when tasks wait
 * and no runner is on its way already: an idle one to wake (returned, for
 * the caller to wake after unlocking), else a new thread. Each runner that
 * takes a task calls this again, so a burst ramps the pool up without the
 * submitter paying a post per runner, and trivial tasks that one runner
 * keeps up with wake no others. */
static struct runner *more_hands(evt_threadpool_t *p)
{
    if (!p->len || p->waking)
        return NULL;
    struct runner *r = p->idle;
    if (r) {
        p->idle = r->next;
        r->counted = 1;
        p->waking++;
        return r;
    }
    if (p->started < p->threads)
        start_thread(p); /* failing, the threads there are do the work */
    return NULL;
}

static void runner_woken(void *arg)
{
    struct runner *r = arg;
    r->woken = 1;
    evt__loop_unhold(r->sched->loop);
    evt__unpark(r->co, 0);
}

static void wake(struct runner *r)
{
    if (r->sched == evt__tls_sched)
        runner_woken(r);
    else
        evt__post(r->sched, &r->post);
}

static void run(struct task *t)
{
    void *result = NULL;
    int err = ECANCELED;
    if (evt__future_start(t->f) == 0) {
        errno = 0; /* a task fails with -1 and errno, 0 meaning EIO */
        if ((err = t->fn(t->arg, &result)) != 0)
            err = errno ? errno : EIO;
    }
    evt__future_complete(t->f, err, result);
    /* A task that cancelled its own coroutine ends the cancel with it:
     * the runner goes on with the next task. */
    evt__tls_sched->current->cancelled = 0;
}

/* Take tasks until the pool closes and its queue is empty. */
static void runner_loop(struct runner *r)
{
    evt_threadpool_t *p = r->pool;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        if (r->counted) {
            r->counted = 0;
            p->waking--;
        }
        if (p->len) {
            struct task t = p->ring[p->head];
            p->head = (p->head + 1) % p->cap;
            p->len--;
            struct runner *next = more_hands(p);
            pthread_mutex_unlock(&p->lock);
            if (next)
                wake(next);
            run(&t);
            pthread_mutex_lock(&p->lock);
            continue;
        }
        if (p->closing)
            break;
        r->woken = 0;
        r->next = p->idle;
        p->idle = r;
        pthread_mutex_unlock(&p->lock);
        evt__loop_hold(r->sched->loop);
        while (!r->woken)
            evt__park(); /* a task's evt_cancel of its runner wakes it */
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
}

static void *runner_co(void *arg)
{
    runner_loop(arg);
    return NULL;
}

static void *worker_main(void *arg)
{
    evt_threadpool_t *p = arg;
    serving = p;
    evt__sched_t *s = evt__sched();
    size_t c = p->coroutines;
    struct runner *rs = s && evt__loop_get(s) ? calloc(c, sizeof *rs) : NULL;
    evt_co_t **cos = rs ? calloc(c, sizeof *cos) : NULL;
    if (!cos) {
        /* Nothing to run tasks with: unrecoverable for this thread, and
         * the tasks already promised to it would wait for ever. */
        fputs("eventor: out of memory starting a pool thread\n", stderr);
        abort();
    }
    evt_co_attr_t attr = {.stack_size = p->stack_size};
    size_t missing = 0;
    for (size_t i = 0; i < c; i++) {
        rs[i].post.fn = runner_woken;
        rs[i].post.arg = &rs[i];
        rs[i].pool = p;
        rs[i].sched = s;
        rs[i].counted = 1;
        if (i == 0) {
            rs[i].co = s->current;
        } else if (!(cos[i] = rs[i].co = evt_spawn_attr(runner_co, &rs[i],
                                                          &attr))) {
            rs[i].counted = 0;
            missing++;
        }
    }
    if (missing) {
        pthread_mutex_lock(&p->lock);
        p->waking -= missing;
        pthread_mutex_unlock(&p->lock);
    }
    runner_loop(&rs[0]);
    for (size_t i = 1; i < c; i++)
        if (cos[i])
            evt_join(cos[i], -1, NULL);
    free(cos);
    free(rs);
    pthread_mutex_lock(&p->lock);
    int last = --p->alive == 0;
    evt_future_t *stopped = p->stopped;
    pthread_mutex_unlock(&p->lock);
    if (last)
        evt__future_complete(stopped, 0, NULL);
    return NULL;
}

void (*evt__before_first_thread)(void);

/* Set by the first thread start: in a process forked from there on (the
 * fork server's children included) the hook has had its turn. An atomic
 * flag, not pthread_once: a child forked from inside the hook would find
 * a once that never completes. */
static atomic_int first_thread_started;

/* Under the lock: start one more thread, with every signal blocked so that
 * signals meant for the process are never handled there. 0 or an errno
 * value. */
static int start_thread(evt_threadpool_t *p)
{
    if (evt__unlikely(!atomic_load_explicit(&first_thread_started,
                                            memory_order_relaxed)) &&
        !atomic_exchange(&first_thread_started, 1) && evt__before_first_thread)
        evt__before_first_thread();
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&p->tids[p->started], NULL, worker_main, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        return rc;
    p->started++;
    p->alive++;
    p->waking += p->coroutines;
    return 0;
}

/* Under the lock: append t, growing the ring. 0 or ENOMEM. */
static int push(evt_threadpool_t *p, const struct task *t)
{
    if (p->len == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        struct task *ring = malloc(cap * sizeof *ring);
        if (!ring)
            return ENOMEM;
        for (size_t i = 0; i < p->len; i++)
            ring[i] = p->ring[(p->head + i) % p->cap];
        free(p->ring);
        p->ring = ring;
        p->cap = cap;
        p->head = 0;
    }
    p->ring[(p->head + p->len) % p->cap] = *t;
    p->len++;
    return 0;
}

evt_future_t *evt_threadpool_submit(evt_threadpool_t *pool, evt_task_fn fn,
                                    void *arg)
{
    if (!pool || !fn) {
        errno = EINVAL;
        return NULL;
    }
    struct task t = {fn, arg, evt__future_new()};
    if (!t.f)
        return NULL;
    int err = 0;
    struct runner *r = NULL;
    pthread_mutex_lock(&pool->lock);
    if (pool->closing)
        err = EPIPE;
    else if (pool->queue_max && pool->len >= pool->queue_max)
        err = EAGAIN;
    else
        err = push(pool, &t);
    if (!err && !(r = more_hands(pool)) && pool->started == 0) {
        pool->len--; /* no thread at all to run it */
        err = EAGAIN;
    }
    pthread_mutex_unlock(&pool->lock);
    if (err) {
        evt__future_complete(t.f, ECANCELED, NULL);
        evt_future_free(t.f);
        errno = err;
        return NULL;
    }
    if (r)
        wake(r);
    return t.f;
}

int evt_threadpool_shutdown(evt_threadpool_t *pool, int cancel_pending)
{
    if (!pool) {
        errno = EINVAL;
        return -1;
    }
    if (serving == pool) {
        errno = EDEADLK;
        return -1;
    }
    struct task *dropped = NULL;
    size_t ndropped = 0, head = 0, cap = 0;
    pthread_mutex_lock(&pool->lock);
    int first = !pool->closing;
    pool->closing = 1;
    if (cancel_pending && pool->len) {
        dropped = pool->ring;
        ndropped = pool->len;
        head = pool->head;
        cap = pool->cap;
        pool->ring = NULL;
        pool->len = pool->cap = pool->head = 0;
    }
    struct runner *idle = pool->idle;
    pool->idle = NULL;
    int nobody = first && pool->started == 0;
    pthread_mutex_unlock(&pool->lock);
    /* Outside the lock: completing runs callbacks, which may submit. */
    for (size_t i = 0; i < ndropped; i++)
        evt__future_complete(dropped[(head + i) % cap].f, ECANCELED, NULL);
    free(dropped);
    while (idle) {
        struct runner *next = idle->next;
        wake(idle);
        idle = next;
    }
    if (nobody)
        evt__future_complete(pool->stopped, 0, NULL);
    evt__future_wait(pool->stopped, -1, 0);
    pthread_mutex_lock(&pool->lock);
    int join = !pool->joined;
    pool->joined = 1;
    pthread_mutex_unlock(&pool->lock);
    /* The threads are past their last look at the pool; joining waits
     * only for them to exit. */
    for (size_t i = 0; join && i < pool->started; i++)
        pthread_join(pool->tids[i], NULL);
    return 0;
}

int evt_threadpool_free(evt_threadpool_t *pool)
{
    if (!pool)
        return 0;
    if (evt_threadpool_shutdown(pool, 0) < 0)
        return -1;
    free(pool->ring);
    free(pool->tids);
    evt_future_free(pool->stopped);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
    return 0;
}

static void put(void **results, int *errs, size_t i, int err, void *result)
{
    if (results)
        results[i] = result;
    if (errs)
        errs[i] = err;
}

int evt_threadpool_map(evt_threadpool_t *pool, evt_task_fn fn,
                       void *const *args, void **results, int *errs, size_t n,
                       int64_t deadline)
{
    if (!pool || !fn) {
        errno = EINVAL;
        return -1;
    }
    if (n == 0)
        return 0;
    size_t win = 2 * pool->threads * pool->coroutines;
    if (win > n)
        win = n;
    evt_future_t **fs = calloc(win, sizeof *fs);
    if (!fs) {
        errno = ENOMEM;
        return -1;
    }
    /* Items [i, next) are submitted and not yet collected. */
    size_t i = 0, next = 0;
    int serr = 0, rc = 0;
    for (;;) {
        while (!serr && next < n && next - i < win) {
            evt_future_t *f =
                evt_threadpool_submit(pool, fn, args ? args[next] : NULL);
            if (!f) {
                if (errno != EAGAIN || next == i)
                    serr = errno;
                break; /* a full queue: collect one, then try again */
            }
            fs[next++ % win] = f;
        }
        if (i == next)
            break;
        evt_future_t *f = fs[i % win];
        if ((rc = evt__future_wait(f, deadline, 1)) != 0)
            break;
        put(results, errs, i++, evt_future_err(f), evt_future_result(f));
        evt_future_free(f);
    }
    /* Given up: what has not started never will; what runs finishes on its
     * own. */
    for (; i < next; i++) {
        evt_future_t *f = fs[i % win];
        if (evt_future_cancel(f) == 0 || !evt_future_done(f))
            put(results, errs, i, rc, NULL);
        else
            put(results, errs, i, evt_future_err(f), evt_future_result(f));
        evt_future_free(f);
    }
    if (!rc)
        rc = serr;
    for (; i < n; i++)
        put(results, errs, i, rc, NULL);
    free(fs);
    if (rc) {
        errno = rc;
        return -1;
    }
    return 0;
}
