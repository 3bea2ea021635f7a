/* The batch engine: one controller (the caller's coroutine) reads the
 * source, starts each attempt in a coroutine of its own, and decides
 * everything else alone — capacity, chunks and pauses, rate, per-attempt
 * deadlines, retries, halting, ordering — so attempts only run the work and
 * hand their job back. */
#define _GNU_SOURCE
#include "batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_MAX_RESULT 4096
#define DEFAULT_BACKOFF_MAX 60000
#define DEFAULT_GRACE 10000
#define WINDOW_PER_SLOT 64
#define RATE_SLACK_US 2000
#define READ_AHEAD 64

typedef struct batch batch_t;

/* One item, from the moment it is read until it is reported. */
typedef struct job {
    evt_batch_task_t task;  /* what fn and on_result see */
    batch_t *b;             /* its batch */
    int status;             /* of the last attempt */
    int timed_out;          /* its attempt was cancelled for its deadline */
    evt_co_t *co;           /* the running attempt, NULL otherwise */
    size_t slot;            /* the running attempt's slot (result buffer) */
    int64_t deadline;       /* running: when the attempt times out, -1 */
    int64_t not_before;     /* waiting to retry: when it may start */
    int64_t started_us;     /* running: when the attempt started */
    void *result;           /* finished: its result, malloc'd */
    size_t result_len;
    struct job *next;       /* link in the retry or done list */
    unsigned char data[];   /* the item's bytes */
} job_t;

struct batch {
    evt_batch_opts_t o;       /* the options, defaults filled in */
    evt_batch_fn fn;
    evt_batch_next_fn next;   /* the source */
    void *src;
    evt_group_t *attempts;    /* every running attempt, and sig_watch */
    evt_procpool_t *workers;  /* processes: where attempts run */
    evt__threads_t *threads;  /* threads: where attempts run */
    evt_event_t *wake;        /* set by an attempt that finished */
    size_t width;             /* attempts at once: coroutines, times
                                 processes or threads when there are */
    job_t **slots;            /* running jobs by slot, width of them */
    size_t *free_slots;       /* stack of free slot numbers */
    size_t nfree;
    unsigned char *out;       /* coroutines * max_result result buffers */
    job_t *retries;           /* waiting for their retry, unordered */
    job_t *done, **done_tail; /* finished attempts not yet looked at */
    job_t *held;              /* read, waiting for the pause to end */
    job_t **ring;             /* ordered: finished jobs by index % window */
    size_t window;
    uint64_t deliver_next;    /* ordered: the next index to report */
    uint64_t chunk_left;      /* items the chunk may still read */
    uint64_t chunk_open;      /* items of the chunk not yet reported */
    int64_t pause_until;      /* no start before this (chunk interval) */
    int64_t rate_next_us;     /* no start before this (rate limit) */
    uint64_t failures;        /* items reported with a non-zero status */
    int stop;                 /* 0 run, 1 start nothing new, 2 cancel all */
    int src_done;             /* the source said it has no more */
    int src_err;              /* its errno, when it failed */
    uint64_t taken;           /* items taken to start (or to hold) */
    evt_co_t *reader;         /* a source that may wait is read here, a
                                 few items ahead, so that the controller
                                 never waits on it (borrowed, in attempts) */
    evt_event_t *room;        /* set when the reader may read on */
    int reader_waits;         /* the reader waits for room */
    int reader_done;          /* it has returned */
    job_t *ahead, **ahead_tail; /* read by the reader, not yet taken
                                   (rep.read - taken of them) */
    evt__signals_t sig;       /* stop_on_signals: where signals arrive */
    evt_co_t *sig_watch;      /* the coroutine reading them (borrowed) */
    int64_t grace_end;        /* after a signal: cancel the rest then, -1 */
    unsigned sig_seen;        /* signals acted upon */
    evt__progress_t prog;
    evt__hist_t hist;         /* attempt times */
    evt_batch_report_t rep;
};

/* --- attempts ------------------------------------------------------------ */

/* What an attempt sends to a worker process: this header, the item, and a
 * NUL so that a line can be used as a string there too. */
typedef struct frame {
    evt_batch_fn fn;  /* valid in the worker: same binary, forked */
    void *user;       /* likewise: the worker's copy */
    uint64_t index;
    unsigned attempt;
} frame_t;

static ssize_t run_in_worker(const void *in, size_t in_len, void *out,
                             size_t cap)
{
    frame_t f;
    memcpy(&f, in, sizeof f);
    evt_batch_task_t t = {f.index, (const char *)in + sizeof f,
                          in_len - sizeof f - 1, f.attempt};
    size_t len = 0;
    int rc = f.fn(&t, out, cap, &len, f.user);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return (ssize_t)(len < cap ? len : cap);
}

/* One attempt in a worker process: 0 or the task's error. */
static int run_remote(batch_t *b, job_t *j, void *out, size_t cap,
                      size_t *len)
{
    size_t n = sizeof(frame_t) + j->task.len + 1;
    unsigned char *in = malloc(n);
    if (!in)
        return ENOMEM;
    frame_t f = {b->fn, b->o.user, j->task.index, j->task.attempt};
    memcpy(in, &f, sizeof f);
    memcpy(in + sizeof f, j->task.item, j->task.len + 1);
    ssize_t r = evt_procpool_apply(b->workers, run_in_worker, in, n, out, cap,
                                   -1);
    int err = r < 0 ? errno : 0;
    free(in);
    *len = r < 0 ? 0 : (size_t)r;
    return err;
}

static void *attempt_main(void *arg)
{
    job_t *j = arg;
    batch_t *b = j->b;
    size_t cap = b->o.max_result, len = 0;
    unsigned char *out = b->out + j->slot * cap;
    int rc = b->workers   ? run_remote(b, j, out, cap, &len)
             : b->threads ? evt__threads_run(b->threads, j->slot, b->fn,
                                             &j->task, out, cap, &len,
                                             b->o.user)
                          : b->fn(&j->task, out, cap, &len, b->o.user);
    evt__hist_add(&b->hist, evt__now_us() - j->started_us);
    if (j->timed_out)
        rc = ETIMEDOUT;
    else if (rc != 0 && b->stop == 2)
        rc = ECANCELED;
    if (rc == 0 && len > 0) {
        j->result = malloc(len < cap ? len : cap);
        if (j->result) {
            j->result_len = len < cap ? len : cap;
            memcpy(j->result, out, j->result_len);
        } else {
            rc = ENOMEM;
        }
    }
    j->status = rc;
    j->co = NULL;
    b->slots[j->slot] = NULL;
    b->free_slots[b->nfree++] = j->slot;
    j->next = NULL;
    *b->done_tail = j;
    b->done_tail = &j->next;
    evt_event_set(b->wake);
    return NULL;
}

/* Start j's attempt; now_us: the time, read once for a round of starts
 * (a clock read per item was a noticeable part of a trivial item's cost). */
static int start(batch_t *b, job_t *j, int64_t now_us)
{
    j->slot = b->free_slots[--b->nfree];
    j->timed_out = 0;
    j->started_us = now_us;
    /* A worker process's deadline is its pool's to keep: it kills it. */
    j->deadline = b->o.task_timeout_ms && !b->workers
                      ? now_us / 1000 + b->o.task_timeout_ms
                      : -1;
    b->slots[j->slot] = j;
    j->co = evt_group_spawn(b->attempts, attempt_main, j);
    if (!j->co) {
        b->slots[j->slot] = NULL;
        b->free_slots[b->nfree++] = j->slot;
        return -1;
    }
    if (b->o.rate > 0) {
        /* Starts are due every 1/rate s. The controller wakes on whole
         * milliseconds, so it may start a little late: a start up to
         * RATE_SLACK_US late keeps its due time, and the next starts catch
         * up, instead of every delay lowering the rate. */
        int64_t now = evt__now_us();
        if (b->rate_next_us < now - RATE_SLACK_US)
            b->rate_next_us = now - RATE_SLACK_US;
        b->rate_next_us += (int64_t)(1e6 / b->o.rate);
    }
    return 0;
}

/* Cancel every running attempt (halt now, or the caller was cancelled). */
static void cancel_running(batch_t *b)
{
    for (size_t i = 0; i < b->width; i++)
        if (b->slots[i] && b->slots[i]->co)
            evt_cancel(b->slots[i]->co);
}

/* Cancel the attempts past their deadline; the earliest deadline left. */
static int64_t expire(batch_t *b)
{
    int64_t now = evt_now(), next = -1;
    for (size_t i = 0; i < b->width; i++) {
        job_t *j = b->slots[i];
        if (!j || j->deadline < 0 || j->timed_out)
            continue;
        if (j->deadline <= now) {
            j->timed_out = 1;
            evt_cancel(j->co);
        } else {
            next = evt__earliest(next, j->deadline);
        }
    }
    return next;
}

/* --- reporting ----------------------------------------------------------- */

/* 1 when the reader may not read another item yet: as many as READ_AHEAD
 * wait to be taken, or the next one would fall out of the window of
 * ordered results. */
static int reader_full(const batch_t *b)
{
    return b->rep.read - b->taken >= READ_AHEAD
           || (b->o.ordered && b->rep.read - b->deliver_next >= b->window);
}

/* Wake the reader if it waits and there is room now (an item was taken or
 * one was reported), and not for nothing. */
static void wake_reader(batch_t *b)
{
    if (b->reader_waits && !reader_full(b))
        evt_event_set(b->room);
}

static void report(batch_t *b, job_t *j)
{
    if (b->o.on_result)
        b->o.on_result(&j->task, j->status, j->result, j->result_len,
                       b->o.user);
    free(j->result);
    free(j);
}

static void halt(batch_t *b, int how);
static void drop_ahead(batch_t *b);

/* j is done for good: count it, then report it now or in its turn. */
static void finish(batch_t *b, job_t *j)
{
    if (j->status == 0) {
        b->rep.ok++;
    } else {
        b->rep.failed++;
        if (b->o.halt != EVT_HALT_NEVER && ++b->failures >= b->o.halt_after) {
            b->rep.halted = 1;
            halt(b, b->o.halt == EVT_HALT_NOW ? 2 : 1);
        }
    }
    b->chunk_open--;
    if (!b->o.ordered) {
        report(b, j);
        return;
    }
    b->ring[j->task.index % b->window] = j;
    job_t *head;
    while ((head = b->ring[b->deliver_next % b->window]) != NULL) {
        b->ring[b->deliver_next % b->window] = NULL;
        b->deliver_next++;
        report(b, head);
    }
    wake_reader(b);
}

/* j was read but never started, and the batch stops: reported with
 * ECANCELED (finish counts it out of the chunk it never entered). */
static void cancel_unstarted(batch_t *b, job_t *j)
{
    j->status = ECANCELED;
    b->chunk_open++;
    finish(b, j);
}

/* Stop starting (how 1) or cancel too (how 2). Items waiting to start or
 * to retry are finished with ECANCELED or their last failure. */
static void halt(batch_t *b, int how)
{
    if (b->stop >= how)
        return;
    b->stop = how;
    if (how == 2) {
        cancel_running(b);
        if (b->workers) /* their items fail with ECANCELED */
            evt_procpool_terminate(b->workers);
    }
    if (b->reader && !b->reader_done)
        evt_cancel(b->reader);
    job_t *j = b->held;
    b->held = NULL;
    if (j)
        cancel_unstarted(b, j);
    drop_ahead(b);
    while ((j = b->retries) != NULL) {
        b->retries = j->next;
        finish(b, j);
    }
}

static int64_t backoff(const batch_t *b, unsigned attempt)
{
    int64_t d = b->o.backoff_ms;
    for (unsigned i = 1; i < attempt && d < b->o.backoff_max_ms; i++)
        d *= 2;
    return d < b->o.backoff_max_ms ? d : b->o.backoff_max_ms;
}

/* Look at the attempts that finished: retry them or finish them. */
static void collect(batch_t *b)
{
    job_t *j;
    while ((j = b->done) != NULL) {
        b->done = j->next;
        if (!b->done)
            b->done_tail = &b->done;
        if (j->status != 0 && j->status != ECANCELED && b->stop == 0
            && j->task.attempt < b->o.retries) {
            b->rep.retried++;
            j->task.attempt++;
            j->not_before = evt_now() + backoff(b, j->task.attempt);
            j->next = b->retries;
            b->retries = j;
        } else {
            finish(b, j);
        }
    }
}

/* --- starting ------------------------------------------------------------ */

static void check_signals(batch_t *b);

/* Read the next item into a new job: 1, 0 at the end, -1 on error. */
static int read_item(batch_t *b, job_t **out)
{
    const void *item;
    size_t len;
    int r = b->next(b->src, &item, &len);
    if (r <= 0) {
        if (r < 0)
            b->src_err = errno ? errno : EIO;
        b->src_done = 1;
        return r;
    }
    job_t *j = malloc(sizeof *j + len + 1);
    if (!j) {
        b->src_err = ENOMEM;
        b->src_done = 1;
        return -1;
    }
    memset(j, 0, sizeof *j);
    memcpy(j->data, item, len);
    j->data[len] = 0; /* a line can be used as a string */
    j->b = b;
    j->task.index = b->rep.read++;
    j->task.item = j->data;
    j->task.len = len;
    *out = j;
    return 1;
}

/* Take the next item to start: 1, or 0 when there is none now (see
 * src_done, or wait for the reader's wake). */
static int take_item(batch_t *b, job_t **out)
{
    if (!b->reader) {
        if (read_item(b, out) <= 0)
            return 0;
    } else {
        if (!b->ahead)
            return 0;
        *out = b->ahead;
        if (!(b->ahead = b->ahead->next))
            b->ahead_tail = &b->ahead;
    }
    b->taken++;
    wake_reader(b);
    return 1;
}

/* Items read ahead but not taken when the batch stops: read, so reported,
 * with ECANCELED. */
static void drop_ahead(batch_t *b)
{
    job_t *j;
    while ((j = b->ahead) != NULL) {
        b->ahead = j->next;
        b->taken++; /* (taken to be dropped) */
        cancel_unstarted(b, j);
    }
    b->ahead_tail = &b->ahead;
}

/* The reader of a source that may wait: up to READ_AHEAD items ahead, and
 * in order within the window of results kept back. */
static void *reader_main(void *arg)
{
    batch_t *b = arg;
    while (!b->stop) {
        if (reader_full(b)) {
            b->reader_waits = 1;
            int rc = evt_event_wait(b->room, -1);
            b->reader_waits = 0;
            if (rc < 0)
                break;
            evt_event_clear(b->room);
            continue;
        }
        job_t *j;
        if (read_item(b, &j) <= 0) {
            if (b->stop) /* cancelled by the halt: not the source's fault */
                b->src_err = 0;
            break;
        }
        j->next = NULL;
        *b->ahead_tail = j;
        b->ahead_tail = &j->next;
        evt_event_set(b->wake);
    }
    b->reader_done = 1;
    evt_event_set(b->wake);
    return NULL;
}

/* The due retry with the earliest time, or NULL; *next gets the earliest
 * time of those not yet due. */
static job_t *due_retry(batch_t *b, int64_t now, int64_t *next)
{
    job_t **best = NULL;
    for (job_t **p = &b->retries; *p; p = &(*p)->next) {
        if ((*p)->not_before > now)
            *next = evt__earliest(*next, (*p)->not_before);
        else if (!best || (*p)->not_before < (*best)->not_before)
            best = p;
    }
    if (!best)
        return NULL;
    job_t *j = *best;
    *best = j->next;
    return j;
}

/* Start what may start now; returns the earliest time something else may
 * (a retry, the end of a pause, the rate limit), or -1. */
static int64_t start_more(batch_t *b)
{
    int64_t wake = -1, now_us = evt__now_us(), now = now_us / 1000;
    for (;;) {
        check_signals(b); /* a signal stops the very next start */
        if (b->stop != 0 || b->nfree == 0)
            return wake;
        if (b->o.rate > 0) {
            int64_t early_us = b->rate_next_us - evt__now_us();
            if (early_us > 0)
                return evt__earliest(wake, now + early_us / 1000 + 1);
        }
        job_t *j = due_retry(b, now, &wake);
        if (j) {
            if (start(b, j, now_us) < 0) {
                j->status = errno;
                finish(b, j);
            }
            continue;
        }
        if (b->held) {
            if (b->pause_until > now)
                return evt__earliest(wake, b->pause_until);
            j = b->held;
            b->held = NULL;
        } else {
            if (b->o.ordered && b->taken - b->deliver_next >= b->window)
                return wake;
            if (b->o.unit && b->chunk_left == 0) {
                /* The chunk ends when its last item is reported; then the
                 * pause, but only if there is another item at all. */
                if (b->chunk_open > 0)
                    return wake;
                if (!take_item(b, &j))
                    return wake;
                b->chunk_left = b->o.unit;
                /* The pause comes between chunks, not before the first. */
                b->pause_until = j->task.index ? now + b->o.interval_ms : now;
                b->held = j;
                continue;
            }
            if (!take_item(b, &j))
                return wake;
        }
        if (b->o.unit)
            b->chunk_left--;
        b->chunk_open++;
        if (start(b, j, now_us) < 0) {
            j->status = errno;
            finish(b, j);
        }
    }
}

/* --- signals ------------------------------------------------------------ */

/* The first signal stops the starts and opens the grace period; a second
 * one cancels what runs. */
static void check_signals(batch_t *b)
{
    int how = b->sig_watch ? evt__signals_check(&b->sig_seen, &b->rep,
                                                &b->grace_end, b->o.grace_ms)
                           : 0;
    if (how)
        halt(b, how);
}

static int watch_start(batch_t *b)
{
    if (evt__signals_take(&b->sig, b->wake) < 0)
        return -1;
    /* In the attempts' group, whose drain at the end cancels it. */
    b->sig_watch = evt_group_spawn(b->attempts, evt__signals_watch, &b->sig);
    if (!b->sig_watch) {
        evt__signals_give(&b->sig);
        return -1;
    }
    return 0;
}

/* --- the run ------------------------------------------------------------- */

int evt__batch_valid(const evt_batch_opts_t *o, evt_batch_fn fn)
{
    return fn && (!o || (o->interval_ms >= 0 && o->rate >= 0
                         && o->task_timeout_ms >= 0 && o->backoff_ms >= 0
                         && o->backoff_max_ms >= 0 && o->halt <= EVT_HALT_NOW
                         && o->progress_fd >= 0 && o->grace_ms >= 0
                         && o->processes <= 4096 && o->threads <= 1024
                         && !(o->processes && o->threads)
                         && o->coroutines <= ((size_t)1 << 24)
                         && (!o->processes || o->coroutines <= 65536)
                         && o->coroutines * (o->threads ? o->threads : 1)
                                <= ((size_t)1 << 24)));
}

/* Fill b in; -1 and errno (ENOMEM, the process pool's) leaves it for fini. */
static int init(batch_t *b, const evt_batch_opts_t *opts, evt_batch_fn fn)
{
    memset(b, 0, sizeof *b);
    if (opts)
        b->o = *opts;
    b->fn = fn;
    if (!b->o.coroutines)
        b->o.coroutines = 1;
    if (!b->o.max_result)
        b->o.max_result = DEFAULT_MAX_RESULT;
    if (!b->o.backoff_max_ms)
        b->o.backoff_max_ms = DEFAULT_BACKOFF_MAX;
    if (!b->o.halt_after)
        b->o.halt_after = 1;
    if (!b->o.progress_fd)
        b->o.progress_fd = 2;
    if (!b->o.grace_ms)
        b->o.grace_ms = DEFAULT_GRACE;
    b->grace_end = -1;
    if (b->o.rate > 0)
        b->rate_next_us = evt__now_us();
    /* Each worker process or thread runs coroutines attempts at once. */
    size_t c = b->o.coroutines * (b->o.processes   ? b->o.processes
                                  : b->o.threads ? b->o.threads
                                                 : 1);
    b->width = c;
    b->window = c * WINDOW_PER_SLOT;
    b->done_tail = &b->done;
    b->ahead_tail = &b->ahead;
    b->slots = calloc(c, sizeof *b->slots);
    b->free_slots = malloc(c * sizeof *b->free_slots);
    b->out = malloc(c * b->o.max_result);
    b->ring = b->o.ordered ? calloc(b->window, sizeof *b->ring) : NULL;
    b->attempts = evt_group_new();
    b->wake = evt_event_new();
    if (b->o.processes) {
        evt_procpool_opts_t po = {.coroutines = b->o.coroutines,
                                  .task_timeout_ms = b->o.task_timeout_ms,
                                  .max_result = b->o.max_result};
        b->workers = evt_procpool_new(b->o.processes, &po);
        if (!b->workers)
            return -1;
    }
    if (b->o.threads && !(b->threads = evt__threads_new(b->o.threads, c, 0)))
        return -1;
    if (!b->slots || !b->free_slots || !b->out || (b->o.ordered && !b->ring)
        || !b->attempts || !b->wake)
        return -1;
    for (size_t i = 0; i < c; i++)
        b->free_slots[i] = c - 1 - i;
    b->nfree = c;
    return 0;
}

static void fini(batch_t *b)
{
    evt_procpool_free(b->workers);
    evt__threads_free(b->threads);
    if (b->attempts)
        evt_group_free(b->attempts);
    if (b->wake)
        evt_event_free(b->wake);
    if (b->room)
        evt_event_free(b->room);
    free(b->slots);
    free(b->free_slots);
    free(b->out);
    free(b->ring);
}

static int finished(const batch_t *b)
{
    return b->nfree == b->width && !b->retries && !b->done && !b->held
           && !b->ahead && (!b->reader || b->reader_done)
           && (b->src_done || b->stop);
}

int evt__batch_run(const evt_batch_opts_t *opts, evt_batch_fn fn,
                   evt_batch_next_fn next, void *src, int source_waits,
                   uint64_t total, evt_batch_report_t *rep, evt__hist_t *hist)
{
    batch_t b;
    if (!next || !evt__batch_valid(opts, fn)) {
        errno = EINVAL;
        return -1;
    }
    if (init(&b, opts, fn) < 0) {
        int err = errno;
        fini(&b);
        errno = err;
        return -1;
    }
    b.next = next;
    b.src = src;
    if (source_waits
        && (!(b.room = evt_event_new())
            || !(b.reader = evt_group_spawn(b.attempts, reader_main, &b)))) {
        int err = errno;
        fini(&b);
        errno = err;
        return -1;
    }
    if (b.o.stop_on_signals && watch_start(&b) < 0) {
        int err = errno;
        fini(&b);
        errno = err;
        return -1;
    }
    int64_t start_ms = evt_now();
    if (b.o.progress)
        evt__progress_init(&b.prog, b.o.progress_fd, total);
    int cancelled = 0;
    for (;;) {
        collect(&b);
        check_signals(&b);
        if (b.src_err && !b.ahead) /* the items read before still run */
            halt(&b, 1);
        if (b.grace_end >= 0 && evt_now() >= b.grace_end)
            halt(&b, 2);
        /* Start first: the deadlines of what starts now count too. */
        int64_t wake = start_more(&b);
        wake = evt__earliest(wake, expire(&b));
        if (b.stop < 2)
            wake = evt__earliest(wake, b.grace_end);
        if (b.stop)
            drop_ahead(&b); /* what the reader read as it was stopped */
        if (finished(&b))
            break;
        if (b.o.progress) {
            if (evt_now() >= b.prog.next_ms)
                evt__progress_draw(&b.prog, &b.rep,
                                   b.width - b.nfree);
            wake = evt__earliest(wake, b.prog.next_ms);
        }
        if (evt_event_wait(b.wake, wake) < 0 && errno == ECANCELED) {
            cancelled = 1;
            halt(&b, 2);
            break;
        }
        evt_event_clear(b.wake);
    }
    /* Every attempt returns before the batch does, even for a cancelled
     * caller (the group's drain does not give up); then what they left is
     * reported. */
    evt_group_free(b.attempts);
    b.attempts = NULL;
    if (b.sig_watch)
        evt__signals_give(&b.sig);
    collect(&b);
    drop_ahead(&b);
    b.rep.wall_ms = evt_now() - start_ms;
    b.rep.p50_ms = evt__hist_quantile(&b.hist, 0.50);
    b.rep.p99_ms = evt__hist_quantile(&b.hist, 0.99);
    if (hist)
        evt__hist_merge(hist, &b.hist);
    if (b.o.progress)
        evt__progress_final(&b.prog, &b.rep);
    if (rep)
        *rep = b.rep;
    int err = cancelled ? ECANCELED : b.src_err;
    fini(&b);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

int evt_batch_run(const evt_batch_opts_t *opts, evt_batch_fn fn,
                  evt_batch_next_fn next, void *src, evt_batch_report_t *rep)
{
    /* Any iterator may wait (on a socket, a queue...): read it apart. */
    return evt__batch_run(opts, fn, next, src, 1, 0, rep, NULL);
}
