/* The process pool's engine: one slot coroutine per worker process that
 * starts it through the fork server and replaces it when it dies or
 * retires, a reader and a writer coroutine per worker, a FIFO of jobs
 * handed out a few at a time (and up to opts.coroutines more to a worker
 * that runs that many at once), and the rules for a dead worker's jobs
 * (those it was running fail or are retried, those it never started go
 * back to the queue). Everything runs on the creator's thread. */
#define _GNU_SOURCE
#include "procpool.h"
#include "../core/wait.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Sent ahead to a worker that runs one job at a time: MIN_AHEAD jobs, or
 * once it has said how fast it goes, as many items as it runs in about
 * AHEAD_NS, up to MAX_AHEAD jobs: enough to keep it busy between two
 * rounds of ours, few enough that the load stays even (a job may wait
 * behind a long one for AHEAD_NS, or behind MIN_AHEAD - 1 long ones). A
 * worker that runs several at once gets no more than that many, so that
 * all the workers' coroutines are busy before any job waits in a worker. */
#define MIN_AHEAD 2
#define MAX_AHEAD 1024
#define AHEAD_NS 1000000u

enum { RUN, CLOSED, TERMINATED };


typedef struct worker {
    evt_procpool_t *pool;
    evt__child_t c;             /* the process */
    evt__worker_page_t *page;   /* what it runs since when */
    evt__job_t **sent_jobs;     /* jobs sent and not yet back, by their
                                   slot number (NULL: a free slot) */
    uint32_t *free_slots;       /* stack of free slot numbers */
    size_t nfree;
    size_t inflight_items;      /* items of the jobs sent, not yet back */
    uint64_t sent;              /* jobs sent so far (the last one's seq) */
    uint64_t done;              /* results received so far */
    uint64_t timed_out;         /* seq of the job killed for its timeout */
    evt__frame_buf_t out;       /* frames waiting for the writer */
    evt__frame_buf_t wr;        /* frames being written */
    evt__frame_buf_t in;        /* bytes read, not yet a whole frame */
    evt_co_t *reader, *writer;
    int writer_parked;          /* the writer waits for frames */
    int quit;                   /* no more jobs: end its input */
} worker_t;

/* Where a slot coroutine keeps its worker. */
typedef struct slot {
    evt_procpool_t *pool;
    size_t index; /* in pool->workers */
} slot_t;

struct evt_procpool {
    size_t size;               /* worker processes */
    worker_t **workers;        /* per slot, NULL while being replaced */
    slot_t *slotv;             /* the slot coroutines' arguments */
    evt_procpool_opts_t opts;  /* copy of the options */
    evt__job_t *qhead, *qtail; /* jobs not yet sent */
    int state;                 /* RUN, CLOSED, TERMINATED */
    int broken;                /* errno that stops workers from starting */
    size_t slots;              /* slot coroutines still running */
    size_t batches;            /* maps in progress */
    evt__waitq_t joinq;        /* parked in evt_procpool_join */
    evt_co_t *watchdog;        /* enforces task_timeout_ms (detached), or
                                  NULL once it has returned */
    size_t watching;           /* 1 while the watchdog runs */
};

/* --- jobs -------------------------------------------------------------- */

/* Jobs one worker may have been sent and not yet answered. */
static size_t table_size(const evt_procpool_t *p)
{
    return p->opts.coroutines > 1 ? p->opts.coroutines : MAX_AHEAD;
}

/* Jobs w has been sent and not yet answered. */
static size_t inflight(const worker_t *w)
{
    return table_size(w->pool) - w->nfree;
}

evt__job_t *evt__job_new(size_t args_len)
{
    evt__job_t *j = calloc(1, sizeof *j);
    if (!j || !(j->args = malloc(args_len ? args_len : 1))) {
        free(j);
        errno = ENOMEM;
        return NULL;
    }
    j->args_len = args_len;
    return j;
}

void evt__job_free(evt__job_t *j)
{
    if (j) {
        free(j->args);
        free(j);
    }
}

static void orphan_done(evt__job_t *j, const unsigned char *res, int err)
{
    (void)res;
    (void)err;
    evt__job_free(j);
}

/* --- handing out jobs -------------------------------------------------- */

static void wake_writer(worker_t *w)
{
    if (w->writer_parked) {
        w->writer_parked = 0;
        evt__unpark(w->writer, 0);
    }
}

/* Append a frame made of a (alen bytes) and b (blen) to w's output; -1
 * when out of memory. */
static int append(worker_t *w, const void *a, size_t alen, const void *b,
                  size_t blen)
{
    if (evt__frame_buf_reserve(&w->out, alen + blen) < 0)
        return -1;
    memcpy(w->out.p + w->out.len, a, alen);
    if (blen)
        memcpy(w->out.p + w->out.len + alen, b, blen);
    w->out.len += alen + blen;
    return 0;
}

/* Send j to w as its job number seq: through the ring when it fits, else
 * by the writer (the worker takes jobs in order of seq from either); wake
 * the worker when it sleeps. -1 when out of memory. */
static int frame(worker_t *w, evt__job_t *j, uint64_t seq)
{
    static const uint32_t wake_frame = 0;
    evt__job_hdr_t h = {
        .len = (uint32_t)(sizeof h - 4 + j->args_len),
        .nitems = j->nitems,
        .out_cap = j->out_cap,
        .stamp = w->pool->watchdog != NULL,
        .slot = j->slot,
        .seq = (uint32_t)seq,
        .fixed = (uint32_t)j->fixed,
        .item_size = j->item_size,
        .fn = (uint64_t)(uintptr_t)j->fn,
    };
    switch (evt__ring_put(w->page, EVT__JOBS, &h, sizeof h, j->args,
                          j->args_len)) {
    case 0:
        return 0;
    case 1:
        return append(w, &wake_frame, sizeof wake_frame, NULL, 0);
    default:
        return append(w, &h, sizeof h, j->args, j->args_len);
    }
}

/* Items to keep sent ahead to w (see AHEAD_NS). */
static size_t items_ahead(const worker_t *w)
{
    uint32_t ns = atomic_load_explicit(&w->page->item_ns,
                                       memory_order_relaxed);
    return ns ? AHEAD_NS / ns : 0;
}

/* 1 when w may be sent another job now. */
static int has_room(const worker_t *w)
{
    const evt_procpool_t *p = w->pool;
    uint64_t max = p->opts.max_tasks_per_child;
    return !w->quit && w->nfree && (!max || w->sent < max) &&
           (p->opts.coroutines > 1 || inflight(w) < MIN_AHEAD ||
            w->inflight_items < items_ahead(w));
}

/* Send w the job at the head of the queue (or drop it, when its future was
 * cancelled while queued). -1 when out of memory. */
static int send_one(worker_t *w)
{
    evt_procpool_t *p = w->pool;
    evt__job_t *j = p->qhead;
    int cancelled = j->future && evt__future_start(j->future) < 0;
    if (!cancelled) {
        j->slot = w->free_slots[w->nfree - 1];
        if (frame(w, j, w->sent + 1) < 0)
            return -1;
    }
    p->qhead = j->next;
    if (!p->qhead)
        p->qtail = NULL;
    j->next = NULL;
    if (cancelled) {
        j->done(j, NULL, ECANCELED);
        return 0;
    }
    /* Started once: sent again after a death, it is running still. */
    j->future = NULL;
    j->seq = ++w->sent;
    w->sent_jobs[j->slot] = j;
    w->nfree--;
    w->inflight_items += j->nitems;
    return 0;
}

/* Hand the queue out, each job to the worker with the fewest in flight (so
 * that long jobs spread over every worker instead of waiting at the first
 * one); end a worker's input once it has nothing left to do and will get
 * nothing more. */
static void kick(evt_procpool_t *p)
{
    while (p->qhead) {
        worker_t *best = NULL;
        for (size_t i = 0; i < p->size; i++) {
            worker_t *w = p->workers[i];
            if (w && has_room(w) && (!best || inflight(w) < inflight(best)))
                best = w;
        }
        if (!best || send_one(best) < 0)
            break;
    }
    uint64_t max = p->opts.max_tasks_per_child;
    for (size_t i = 0; i < p->size; i++) {
        worker_t *w = p->workers[i];
        if (!w)
            continue;
        if (inflight(w) == 0 &&
            ((max && w->sent >= max) || (p->state != RUN && !p->qhead)))
            w->quit = 1;
        if (w->out.len || w->quit)
            wake_writer(w);
    }
}

/* --- a worker's coroutines ---------------------------------------------- */

/* Write frames as they come; after the last, end the worker's input. */
static void *writer_main(void *arg)
{
    worker_t *w = arg;
    for (;;) {
        while (!w->out.len) {
            if (w->quit) {
                shutdown(w->c.sock, SHUT_WR);
                return NULL;
            }
            w->writer_parked = 1;
            if (evt__wait(-1) == ECANCELED) {
                w->writer_parked = 0;
                return NULL;
            }
        }
        evt__frame_buf_t t = w->wr;
        w->wr = w->out;
        w->out = t;
        ssize_t n = evt_write(w->c.sock, w->wr.p, w->wr.len, -1);
        w->wr.len = 0;
        if (n < 0)
            return NULL; /* dead or cancelled: the slot sorts it out */
    }
}

/* Hand the result frame at f to its job; -1 when there is no such job
 * (this worker is not ours). */
static int result(worker_t *w, const unsigned char *f)
{
    evt__res_hdr_t h;
    memcpy(&h, f, sizeof h);
    evt__job_t *j = h.slot < table_size(w->pool) ? w->sent_jobs[h.slot] : NULL;
    if (!j || j->seq != h.seq)
        return -1;
    w->sent_jobs[h.slot] = NULL;
    w->free_slots[w->nfree++] = h.slot;
    w->inflight_items -= j->nitems;
    w->done++;
    j->next = NULL;
    j->done(j, f + sizeof(evt__res_hdr_t), 0);
    return 0;
}

/* Hand over the results in w's ring. 1 when there were some, 0 when none,
 * -1 when the ring holds something else. */
static int take_ring(worker_t *w)
{
    int bad, some = 0;
    const unsigned char *f;
    while ((f = evt__ring_peek(w->page, EVT__RESULTS, &bad)) != NULL) {
        uint32_t flen;
        memcpy(&flen, f, 4);
        if (flen < sizeof(evt__res_hdr_t) - 4 || result(w, f) < 0)
            return -1;
        evt__ring_done(w->page, EVT__RESULTS, f);
        some = 1;
    }
    return bad ? -1 : some;
}

/* Hand over the whole result frames read from the socket (those that did
 * not fit the ring), skipping wake-ups (empty frames). -1 when one is not
 * a result of ours. */
static int take_read(worker_t *w)
{
    evt__frame_buf_t *b = &w->in;
    size_t off = 0;
    uint32_t flen;
    int rc = 0;
    while (b->len - off >= 4) {
        memcpy(&flen, b->p + off, 4);
        if (b->len - off < 4 + (size_t)flen) {
            rc = evt__frame_buf_reserve(b, 4 + (size_t)flen);
            break;
        }
        if (flen && (flen < sizeof(evt__res_hdr_t) - 4 ||
                     result(w, b->p + off) < 0)) {
            rc = -1;
            break;
        }
        off += 4 + (size_t)flen;
    }
    memmove(b->p, b->p + off, b->len - off);
    b->len -= off;
    return rc;
}

/* Take results from the ring while there are some, then sleep on the
 * socket until the worker puts more in the ring, sends a result too large
 * for it, or dies; then read what it left. A result nobody asked for
 * means this worker is not ours: it is killed. */
static void *reader_main(void *arg)
{
    worker_t *w = arg;
    evt__frame_buf_t *b = &w->in;
    for (;;) {
        int r = take_ring(w);
        if (r < 0)
            break;
        if (r > 0) {
            kick(w->pool);
            evt_yield(); /* let the map take more before the next round */
            continue;
        }
        if (!evt__ring_sleep(w->page, EVT__RESULTS))
            continue;
        if (evt__frame_buf_reserve(b, 65536) < 0)
            break;
        ssize_t n = evt_read(w->c.sock, b->p + b->len, b->cap - b->len, -1);
        if (n <= 0) {
            /* The worker is gone; what it put in the ring is still there. */
            take_ring(w);
            return NULL;
        }
        b->len += (size_t)n;
        if (take_read(w) < 0)
            break;
        kick(w->pool);
    }
    evt__child_signal(&w->c, SIGKILL);
    return NULL;
}

/* --- deaths ------------------------------------------------------------ */

/* The task error for jobs lost with a worker that ended with status. */
static int death_err(int status)
{
    return WIFSIGNALED(status) ? EVT_ESIGNALED(WTERMSIG(status))
                               : EVT_EEXITED(WEXITSTATUS(status));
}

static int by_seq(const void *a, const void *b)
{
    uint64_t x = (*(evt__job_t *const *)a)->seq;
    uint64_t y = (*(evt__job_t *const *)b)->seq;
    return x < y ? -1 : x > y;
}

/* Settle the jobs w still had: those it was running fail (or go back to
 * the queue while they have retries left), those it never started go back
 * to the front of the queue in their order. */
static void bury(worker_t *w)
{
    evt_procpool_t *p = w->pool;
    uint64_t started = w->page ? atomic_load_explicit(&w->page->started,
                                                      memory_order_acquire)
                               : 0;
    int st = w->c.status;
    int killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
    /* Gathered at the front of sent_jobs, oldest first. */
    evt__job_t **lost = w->sent_jobs, *back = NULL, *last = NULL;
    size_t n = 0, cap = table_size(p);
    for (size_t i = 0; i < cap; i++)
        if (w->sent_jobs[i])
            lost[n++] = w->sent_jobs[i];
    qsort(lost, n, sizeof *lost, by_seq);
    for (size_t i = 0; i < n; i++) {
        evt__job_t *j = lost[i];
        j->next = NULL;
        int err = 0;
        if (p->state == TERMINATED)
            err = ECANCELED;
        else if (j->seq <= started && j->tries++ >= p->opts.retries)
            err = j->seq == w->timed_out && killed ? ETIMEDOUT
                                                  : death_err(w->c.status);
        if (err) {
            j->done(j, NULL, err);
        } else {
            if (last)
                last->next = j;
            else
                back = j;
            last = j;
        }
    }
    if (back) {
        last->next = p->qhead;
        if (!p->qhead)
            p->qtail = last;
        p->qhead = back;
    }
}

static void worker_free(worker_t *w)
{
    evt__child_close(&w->c);
    if (w->page)
        munmap(w->page, EVT__PAGE_BYTES);
    free(w->sent_jobs);
    free(w->free_slots);
    free(w->out.p);
    free(w->wr.p);
    free(w->in.p);
    free(w);
}

/* Start a worker for p; NULL and errno. */
static worker_t *worker_start(evt_procpool_t *p)
{
    worker_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->pool = p;
    w->c.sock = w->c.ctl = w->c.pidfd = -1;
    size_t cap = table_size(p);
    int memfd = -1;
    w->sent_jobs = calloc(cap, sizeof *w->sent_jobs);
    w->free_slots = malloc(cap * sizeof *w->free_slots);
    if (!w->sent_jobs || !w->free_slots)
        goto fail;
    for (size_t i = 0; i < cap; i++)
        w->free_slots[i] = (uint32_t)(cap - 1 - i);
    w->nfree = cap;
    memfd = memfd_create("eventor-worker", MFD_CLOEXEC);
    if (memfd < 0 || ftruncate(memfd, EVT__PAGE_BYTES) < 0)
        goto fail;
    w->page = mmap(NULL, EVT__PAGE_BYTES, PROT_READ | PROT_WRITE,
                   MAP_SHARED, memfd, 0);
    if (w->page == MAP_FAILED) {
        w->page = NULL;
        goto fail;
    }
    w->page->coroutines = (uint32_t)p->opts.coroutines;
    w->page->timeout_ms = p->opts.task_timeout_ms;
    if (evt__child_spawn(&w->c, EVT__CHILD_WORKER, memfd, -1) < 0)
        goto fail;
    close(memfd);
    memfd = -1;
    if (!(w->reader = evt_spawn(reader_main, w)))
        goto fail;
    if (!(w->writer = evt_spawn(writer_main, w))) {
        evt_cancel(w->reader);
        evt_join(w->reader, -1, NULL);
        goto fail;
    }
    return w;
fail:;
    int e = errno;
    if (memfd >= 0)
        close(memfd);
    if (w->c.pid > 0)
        evt__child_signal(&w->c, SIGKILL);
    worker_free(w);
    errno = e;
    return NULL;
}

/* Fail every queued job with err. */
static void fail_queue(evt_procpool_t *p, int err)
{
    evt__job_t *j;
    while ((j = p->qhead) != NULL) {
        p->qhead = j->next;
        j->next = NULL;
        j->done(j, NULL, err);
    }
    p->qtail = NULL;
}

/* Keep one worker alive in slot i for as long as the pool needs one. */
static void *slot_main(void *arg)
{
    slot_t *s = arg;
    evt_procpool_t *p = s->pool;
    while (p->state == RUN || (p->state == CLOSED && p->qhead)) {
        worker_t *w = worker_start(p);
        if (!w) {
            p->broken = errno;
            fail_queue(p, p->broken);
            break;
        }
        p->workers[s->index] = w;
        kick(p);
        /* Death shows at once on the pidfd; then the results it managed
         * to write are read before its jobs are settled. */
        evt_wait_fd(w->c.pidfd, EVT_IN, -1);
        evt_join(w->reader, -1, NULL);
        evt_cancel(w->writer);
        evt_join(w->writer, -1, NULL);
        evt__child_wait(&w->c, -1);
        p->workers[s->index] = NULL;
        bury(w);
        worker_free(w);
        kick(p);
    }
    if (--p->slots == 0)
        evt__waitq_wake_all(&p->joinq, 0);
    return NULL;
}

/* Kill the worker whose task runs past task_timeout_ms; sleep until the
 * next task could. A worker's page is read twice around its start time so
 * that a job that changed meanwhile (it made progress) is left alone. */
static void *watchdog_main(void *arg)
{
    evt_procpool_t *p = arg;
    int64_t limit = p->opts.task_timeout_ms;
    for (;;) {
        int64_t now = evt_now(), next = now + limit;
        for (size_t i = 0; i < p->size; i++) {
            worker_t *w = p->workers[i];
            if (!w || !inflight(w))
                continue;
            uint64_t s1 = atomic_load_explicit(&w->page->started,
                                               memory_order_acquire);
            int64_t ms = atomic_load_explicit(&w->page->started_ms,
                                              memory_order_relaxed);
            uint64_t s2 = atomic_load_explicit(&w->page->started,
                                               memory_order_acquire);
            if (s1 != s2 || s1 <= w->done || s1 == w->timed_out)
                continue;
            if (ms + limit <= now) {
                w->timed_out = s1;
                evt__child_signal(&w->c, SIGKILL);
            } else if (ms + limit < next) {
                next = ms + limit;
            }
        }
        if (evt_sleep(next) < 0)
            break;
    }
    /* Cancelled by stop_watchdog, which waits for this. */
    p->watchdog = NULL;
    p->watching = 0;
    evt__waitq_wake_all(&p->joinq, 0);
    return NULL;
}

/* Stop the watchdog and wait until it has returned, even when the caller
 * is cancelled: the pool is freed next, under its feet otherwise. */
static void stop_watchdog(evt_procpool_t *p)
{
    if (p->watchdog)
        evt_cancel(p->watchdog);
    evt__waitq_drain(&p->joinq, &p->watching);
}

evt_procpool_t *evt_procpool_new(size_t nproc,
                                 const evt_procpool_opts_t *opts)
{
    if (opts && (opts->task_timeout_ms < 0 ||
                 opts->max_result > UINT32_MAX - 4096u ||
                 opts->coroutines > EVT__POOL_MAX_COROUTINES)) {
        errno = EINVAL;
        return NULL;
    }
    if (nproc == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        nproc = n > 0 ? (size_t)n : 1;
    }
    if (evt_forkserver_start() < 0)
        return NULL;
    evt_procpool_t *p = calloc(1, sizeof *p);
    if (!p || !(p->workers = calloc(nproc, sizeof *p->workers)) ||
        !(p->slotv = calloc(nproc, sizeof *p->slotv)))
        goto fail;
    p->size = nproc;
    if (opts)
        p->opts = *opts;
    if (!p->opts.coroutines)
        p->opts.coroutines = 1;
    /* A worker running several tasks at once cancels the late one itself;
     * one running a task at a time is killed, which stops any task. */
    if (p->opts.task_timeout_ms > 0 && p->opts.coroutines == 1) {
        if (!(p->watchdog = evt_spawn(watchdog_main, p)))
            goto fail;
        evt_detach(p->watchdog);
        p->watching = 1;
    }
    for (size_t i = 0; i < nproc; i++) {
        p->slotv[i] = (slot_t){p, i};
        evt_co_t *co = evt_spawn(slot_main, &p->slotv[i]);
        if (!co) {
            /* The slots started see the pool terminated and end. */
            evt_procpool_terminate(p);
            evt_procpool_join(p, -1);
            goto fail;
        }
        evt_detach(co);
        p->slots++;
    }
    return p;
fail:
    if (p) {
        stop_watchdog(p);
        free(p->workers);
        free(p->slotv);
        free(p);
    }
    errno = ENOMEM;
    return NULL;
}

int evt__pool_submit(evt_procpool_t *p, evt__job_t *j)
{
    if (p->state != RUN || p->broken) {
        errno = p->state == TERMINATED ? ECANCELED
                : p->state == CLOSED   ? EPIPE
                                       : p->broken;
        return -1;
    }
    j->next = NULL;
    if (p->qtail)
        p->qtail->next = j;
    else
        p->qhead = j;
    p->qtail = j;
    kick(p);
    return 0;
}

size_t evt__pool_unqueue(evt_procpool_t *p, const void *owner)
{
    size_t n = 0;
    evt__job_t **pj = &p->qhead, *last = NULL;
    while (*pj) {
        evt__job_t *j = *pj;
        if (j->owner == owner) {
            *pj = j->next;
            evt__job_free(j);
            n++;
        } else {
            last = j;
            pj = &j->next;
        }
    }
    p->qtail = last;
    return n;
}

void evt__pool_orphan(evt_procpool_t *p, const void *owner)
{
    size_t cap = table_size(p);
    for (size_t i = 0; i < p->size; i++)
        for (size_t k = 0; p->workers[i] && k < cap; k++) {
            evt__job_t *j = p->workers[i]->sent_jobs[k];
            if (j && j->owner == owner)
                j->done = orphan_done;
        }
}

size_t evt__pool_size(const evt_procpool_t *p)
{
    return p->size;
}

size_t evt__pool_max_result(const evt_procpool_t *p)
{
    return p->opts.max_result;
}

void evt__pool_batch(evt_procpool_t *p, int delta)
{
    p->batches += (size_t)delta;
}

int evt_procpool_close(evt_procpool_t *p)
{
    if (!p) {
        errno = EINVAL;
        return -1;
    }
    if (p->state == RUN)
        p->state = CLOSED;
    kick(p);
    return 0;
}

int evt_procpool_terminate(evt_procpool_t *p)
{
    if (!p) {
        errno = EINVAL;
        return -1;
    }
    p->state = TERMINATED;
    fail_queue(p, ECANCELED);
    for (size_t i = 0; i < p->size; i++)
        if (p->workers[i])
            evt__child_signal(&p->workers[i]->c, SIGKILL);
    return 0;
}

int evt_procpool_join(evt_procpool_t *p, int64_t deadline)
{
    if (!p || p->state == RUN) {
        errno = EINVAL;
        return -1;
    }
    while (p->slots)
        if (evt__wait_on(&p->joinq, NULL, deadline) < 0)
            return -1;
    return 0;
}

int evt_procpool_free(evt_procpool_t *p)
{
    if (!p)
        return 0;
    if (p->batches) {
        errno = EBUSY;
        return -1;
    }
    evt_procpool_terminate(p);
    evt__waitq_drain(&p->joinq, &p->slots);
    stop_watchdog(p);
    free(p->workers);
    free(p->slotv);
    free(p);
    return 0;
}
