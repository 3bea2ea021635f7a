/* The process pool: one keeper coroutine per worker process that starts it
 * through the fork server and replaces it when it dies or retires, the
 * rules for a dead worker's jobs (those it was running fail or are
 * retried, those it never started go back to the queue), the task-timeout
 * watchdog, and the pool's calls. Handing jobs out and taking results
 * back is procdispatch.c's. Everything runs on the creator's thread. */
#define _GNU_SOURCE
#include "procengine.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* --- jobs -------------------------------------------------------------- */

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
static void bury(procworker_t *w)
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

static void worker_free(procworker_t *w)
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
static procworker_t *worker_start(evt_procpool_t *p)
{
    procworker_t *w = calloc(1, sizeof *w);
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
    if (!(w->reader = evt_spawn(evt__pool_reader_main, w)))
        goto fail;
    if (!(w->writer = evt_spawn(evt__pool_writer_main, w))) {
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

/* Keep one worker alive at pool->workers[index] for as long as the pool
 * needs one. */
static void *keeper_main(void *arg)
{
    keeper_t *s = arg;
    evt_procpool_t *p = s->pool;
    while (p->state == RUN || (p->state == CLOSED && p->qhead)) {
        procworker_t *w = worker_start(p);
        if (!w) {
            p->broken = errno;
            fail_queue(p, p->broken);
            break;
        }
        p->workers[s->index] = w;
        evt__pool_kick(p);
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
        evt__pool_kick(p);
    }
    if (--p->nkeepers == 0)
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
            procworker_t *w = p->workers[i];
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
        !(p->keepers = calloc(nproc, sizeof *p->keepers)))
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
        p->keepers[i] = (keeper_t){p, i};
        evt_co_t *co = evt_spawn(keeper_main, &p->keepers[i]);
        if (!co) {
            /* The keepers started see the pool terminated and end. */
            evt_procpool_terminate(p);
            evt_procpool_join(p, -1);
            goto fail;
        }
        evt_detach(co);
        p->nkeepers++;
    }
    return p;
fail:
    if (p) {
        stop_watchdog(p);
        free(p->workers);
        free(p->keepers);
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
    EVT__FIFO_PUSH(p->qhead, p->qtail, j);
    evt__pool_kick(p);
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
    evt__pool_kick(p);
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
    while (p->nkeepers)
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
    evt__waitq_drain(&p->joinq, &p->nkeepers);
    stop_watchdog(p);
    free(p->workers);
    free(p->keepers);
    free(p);
    return 0;
}
