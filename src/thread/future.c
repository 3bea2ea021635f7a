/* Futures: a task's outcome, completed on one thread and awaited on any.
 * A waiter links a record on its own stack and is woken by an evt__post to
 * its scheduler (every thread that calls evt_* has one, whose main is a
 * coroutine, so one mechanism serves coroutines and plain threads alike).
 * A future done before anyone looks costs no lock at all. */
#define _GNU_SOURCE
#include "future.h"
#include "../loop/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

/* The stage of a future, plus WATCHED once a waiter or a callback was
 * registered (only then does completing it take the lock). COMPLETING is
 * held by whoever won the right to set err and result. */
enum { PENDING, RUNNING, COMPLETING, DONE, STAGE = 3, WATCHED = 4 };

/* A waiter: lives on the waiting coroutine's stack (or in as_completed's
 * array) and is linked to the future until the completer takes it. */
typedef struct fwaiter {
    evt__post_t post;       /* brings the news to the waiter's thread */
    evt__sched_t *sched;    /* the waiter's thread */
    struct fwaiter *next;   /* other waiters of the same future */
    struct fwaiter *prev;
    int linked;             /* on the future's list (under its lock) */
    int arrived;            /* the post has run (waiter's thread only) */
} fwaiter_t;

typedef struct cbnode {
    evt_future_cb cb;
    void *user;
    struct cbnode *next;
} cbnode_t;

struct evt_future {
    atomic_int state;       /* stage | WATCHED */
    atomic_int refs;        /* the owner's and the producer's */
    int err;                /* written before the stage turns DONE */
    void *result;           /* likewise */
    pthread_mutex_t lock;   /* guards the two lists below */
    fwaiter_t *waiters;     /* coroutines parked on the future */
    cbnode_t *cbs;          /* done callbacks, oldest first */
    cbnode_t **cbs_tail;
};

evt_future_t *evt__future_new(void)
{
    evt_future_t *f = malloc(sizeof *f);
    if (!f) {
        errno = ENOMEM;
        return NULL;
    }
    atomic_init(&f->state, PENDING);
    atomic_init(&f->refs, 2);
    f->err = 0;
    f->result = NULL;
    pthread_mutex_init(&f->lock, NULL);
    f->waiters = NULL;
    f->cbs = NULL;
    f->cbs_tail = &f->cbs;
    return f;
}

static void unref(evt_future_t *f)
{
    if (atomic_fetch_sub(&f->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&f->lock);
    free(f);
}

static int is_done(const evt_future_t *f)
{
    return (atomic_load_explicit(&f->state, memory_order_acquire) & STAGE) ==
           DONE;
}

/* Take the right to complete f, from one of the stages in `from` (a bit
 * mask of stages). Returns the stage it had, or -1 when it was not in one. */
static int claim(evt_future_t *f, unsigned from)
{
    int st = atomic_load_explicit(&f->state, memory_order_relaxed);
    do {
        if (!(from & (1u << (st & STAGE))))
            return -1;
    } while (!atomic_compare_exchange_weak(&f->state, &st,
                                           (st & WATCHED) | COMPLETING));
    return st & STAGE;
}

/* Publish the outcome (err and result are set), then wake the waiters and
 * run the callbacks that registered before. */
static void finish(evt_future_t *f)
{
    int old = atomic_exchange(&f->state, DONE);
    if (evt__likely(!(old & WATCHED)))
        return;
    pthread_mutex_lock(&f->lock);
    fwaiter_t *w = f->waiters;
    f->waiters = NULL;
    for (fwaiter_t *x = w; x; x = x->next)
        x->linked = 0;
    cbnode_t *cb = f->cbs;
    f->cbs = NULL;
    f->cbs_tail = &f->cbs;
    pthread_mutex_unlock(&f->lock);
    /* A waiter stays put until its post has run, so w->next is safe to
     * read; after the post, w is not ours. */
    evt__sched_t *here = evt__tls_sched;
    while (w) {
        fwaiter_t *next = w->next;
        if (w->sched == here)
            w->post.fn(w->post.arg);
        else
            evt__post(w->sched, &w->post);
        w = next;
    }
    while (cb) {
        cbnode_t *next = cb->next;
        cb->cb(f, cb->user);
        free(cb);
        cb = next;
    }
}

int evt__future_start(evt_future_t *f)
{
    int st = atomic_load_explicit(&f->state, memory_order_relaxed);
    do {
        if ((st & STAGE) != PENDING)
            return -1;
    } while (!atomic_compare_exchange_weak(&f->state, &st,
                                           (st & WATCHED) | RUNNING));
    return 0;
}

void evt__future_complete(evt_future_t *f, int err, void *result)
{
    if (claim(f, 1u << PENDING | 1u << RUNNING) >= 0) {
        f->err = err;
        f->result = result;
        finish(f);
    }
    unref(f);
}

/* Mark f watched and run link(f, arg) under its lock, unless f is done.
 * Returns 1 when linked, 0 when f was done. */
static int watch(evt_future_t *f, void (*link)(evt_future_t *, void *),
                 void *arg)
{
    pthread_mutex_lock(&f->lock);
    int st = atomic_load(&f->state);
    do {
        if ((st & STAGE) == DONE) {
            pthread_mutex_unlock(&f->lock);
            return 0;
        }
    } while (!atomic_compare_exchange_weak(&f->state, &st, st | WATCHED));
    link(f, arg);
    pthread_mutex_unlock(&f->lock);
    return 1;
}

static void link_waiter(evt_future_t *f, void *arg)
{
    fwaiter_t *w = arg;
    w->prev = NULL;
    w->next = f->waiters;
    if (w->next)
        w->next->prev = w;
    f->waiters = w;
    w->linked = 1;
}

static void link_cb(evt_future_t *f, void *arg)
{
    cbnode_t *n = arg;
    *f->cbs_tail = n;
    f->cbs_tail = &n->next;
}

/* Unlink w. 1 when it was linked; 0 when the completer has taken it and
 * its post is on the way (it points at w: wait for it before w goes). */
static int unwatch(evt_future_t *f, fwaiter_t *w)
{
    pthread_mutex_lock(&f->lock);
    int was = w->linked;
    if (was) {
        if (w->prev)
            w->prev->next = w->next;
        else
            f->waiters = w->next;
        if (w->next)
            w->next->prev = w->prev;
        w->linked = 0;
    }
    pthread_mutex_unlock(&f->lock);
    return was;
}

/* Register w (post fn and arg set) for f from the calling thread, holding
 * its scheduler for the post to come. 1 when registered, 0 when f is done
 * (nothing held). */
static int await(evt_future_t *f, fwaiter_t *w, evt__sched_t *s)
{
    w->sched = s;
    w->arrived = 0;
    w->linked = 0;
    if (!watch(f, link_waiter, w))
        return 0;
    evt__loop_hold(s->loop);
    return 1;
}

/* Stop waiting through w: 1 when unregistered (hold dropped); 0 when the
 * post was on the way and has now arrived (f is done). */
static int unawait(evt_future_t *f, fwaiter_t *w)
{
    if (unwatch(f, w)) {
        evt__loop_unhold(w->sched->loop);
        return 1;
    }
    while (!w->arrived)
        evt__park(); /* not evt__wait: w must outlive the post */
    return 0;
}

/* The calling thread's scheduler with its reactor, ready to be posted to. */
static evt__sched_t *home(void)
{
    evt__sched_t *s = evt__sched();
    return s && evt__loop_get(s) ? s : NULL;
}

/* --- waiting for one future ------------------------------------------- */

struct one_wait {
    fwaiter_t w;
    evt_co_t *co;           /* the parked waiter */
};

static void one_home(void *arg)
{
    struct one_wait *o = arg;
    o->w.arrived = 1;
    evt__loop_unhold(o->w.sched->loop);
    evt__unpark(o->co, 0);
}

int evt__future_wait(evt_future_t *f, int64_t deadline, int cancellable)
{
    if (is_done(f))
        return 0;
    evt__sched_t *s = home();
    if (!s)
        return errno;
    if (cancellable && s->current->cancelled)
        return ECANCELED;
    if (deadline == 0)
        return ETIMEDOUT;
    struct one_wait o = {.w.post = {.fn = one_home, .arg = &o},
                         .co = s->current};
    if (!await(f, &o.w, s))
        return 0;
    int rc;
    for (;;) {
        rc = cancellable ? evt__wait(deadline) : (evt__park(), 0);
        if (o.w.arrived)
            return 0;
        if (rc)
            break;
    }
    return unawait(f, &o.w) ? rc : 0;
}

int evt_future_wait(evt_future_t *f, int64_t deadline)
{
    if (!f) {
        errno = EINVAL;
        return -1;
    }
    int rc = evt__future_wait(f, deadline, 1);
    if (rc) {
        errno = rc;
        return -1;
    }
    return 0;
}

/* --- looking at a future ---------------------------------------------- */

int evt_future_done(const evt_future_t *f)
{
    return f && is_done(f);
}

int evt_future_err(const evt_future_t *f)
{
    if (!f)
        return EINVAL;
    return is_done(f) ? f->err : EINPROGRESS;
}

void *evt_future_result(const evt_future_t *f)
{
    return f && is_done(f) ? f->result : NULL;
}

int evt_future_cancel(evt_future_t *f)
{
    if (!f) {
        errno = EINVAL;
        return -1;
    }
    int was = claim(f, 1u << PENDING);
    if (was < 0) {
        int st = atomic_load(&f->state) & STAGE;
        errno = st == RUNNING ? EBUSY : EALREADY;
        return -1;
    }
    f->err = ECANCELED;
    f->result = NULL;
    finish(f);
    return 0;
}

int evt_future_on_done(evt_future_t *f, evt_future_cb cb, void *user)
{
    if (!f || !cb) {
        errno = EINVAL;
        return -1;
    }
    if (!is_done(f)) {
        cbnode_t *n = malloc(sizeof *n);
        if (!n) {
            errno = ENOMEM;
            return -1;
        }
        n->cb = cb;
        n->user = user;
        n->next = NULL;
        if (watch(f, link_cb, n))
            return 0;
        free(n);
    }
    cb(f, user);
    return 0;
}

void evt_future_free(evt_future_t *f)
{
    if (f)
        unref(f);
}

/* --- as_completed ------------------------------------------------------ */

struct ac;

/* One future of an as_completed call. */
struct ac_wait {
    fwaiter_t w;
    struct ac *ac;
    struct ac_wait *ready;  /* next in the ready list */
    unsigned char watching; /* registered, post not yet arrived */
};

/* The caller's view: futures whose post came, in completion order. */
struct ac {
    evt_co_t *co;
    struct ac_wait *head;
    struct ac_wait **tail;
};

static void ac_home(void *arg)
{
    struct ac_wait *a = arg;
    struct ac *ac = a->ac;
    a->w.arrived = 1;
    a->watching = 0;
    a->ready = NULL;
    *ac->tail = a;
    ac->tail = &a->ready;
    evt__loop_unhold(a->w.sched->loop);
    evt__unpark(ac->co, 0);
}

static struct ac_wait *ac_pop(struct ac *ac)
{
    struct ac_wait *a = ac->head;
    if (a && !(ac->head = a->ready))
        ac->tail = &ac->head;
    return a;
}

int evt_as_completed(evt_future_t *const *fs, size_t n, int64_t deadline,
                     void (*cb)(size_t index, evt_future_t *f, void *user),
                     void *user, size_t *unfinished)
{
    if (unfinished)
        *unfinished = n;
    if (!fs && n) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!fs[i]) {
            errno = EINVAL;
            return -1;
        }
    evt__sched_t *s = home();
    if (!s)
        return -1;
    struct ac_wait *recs = n ? calloc(n, sizeof *recs) : NULL;
    if (n && !recs) {
        errno = ENOMEM;
        return -1;
    }
    struct ac ac = {.co = s->current, .head = NULL, .tail = &ac.head};
    size_t left = n;
    /* Those done already, in index order; then the rest as they finish.
     * Callbacks may take their time: posts queue up meanwhile. */
    for (size_t i = 0; i < n; i++) {
        struct ac_wait *a = &recs[i];
        a->ac = &ac;
        a->w.post.fn = ac_home;
        a->w.post.arg = a;
        if (!is_done(fs[i]) && await(fs[i], &a->w, s)) {
            a->watching = 1;
            continue;
        }
        left--;
        if (cb)
            cb(i, fs[i], user);
    }
    int rc = 0;
    while (left) {
        struct ac_wait *a = ac_pop(&ac);
        if (a) {
            left--;
            if (cb)
                cb((size_t)(a - recs), fs[a - recs], user);
            continue;
        }
        if ((rc = evt__wait(deadline)) != 0 && !ac.head)
            break;
        rc = 0;
    }
    if (rc) {
        /* Stop watching. Posts that were on the way still come (to the
         * ready list): those futures are done and reported like the
         * others. */
        for (size_t i = 0; i < n; i++)
            if (recs[i].watching)
                unawait(fs[i], &recs[i].w);
        for (struct ac_wait *a; (a = ac_pop(&ac)) != NULL;) {
            left--;
            if (cb)
                cb((size_t)(a - recs), fs[a - recs], user);
        }
    }
    free(recs);
    if (unfinished)
        *unfinished = left;
    if (left) {
        errno = rc;
        return -1;
    }
    return 0;
}
