/* The batch engine's one controller (the caller's coroutine): it takes
 * items from a source (batch.h's evt__source_t), starts each attempt on the
 * chosen workers (attempt.c) when admission says (admit.c), and decides
 * everything else alone here — retries, the error policy, signals, order,
 * progress and the report — so attempts only run the work and sources only
 * read items and store outcomes. */
#define _GNU_SOURCE
#include "ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BACKOFF_MAX 60000
#define DEFAULT_GRACE 10000
#define WINDOW_PER_SLOT 64

/* --- reporting ----------------------------------------------------------- */

static void halt(evt__ctl_t *b, evt__stop_t how);

void evt__batch_result(evt__ctl_t *b, const evt_batch_task_t *t, int status,
                       const void *res, size_t len)
{
    if (b->src.chunk_ahead) {
        b->rep.read++;
        b->rep.retried += t->attempt;
    }
    if (status == 0) {
        b->rep.ok++;
    } else {
        b->rep.failed++;
        if (b->o.halt != EVT_HALT_NEVER && ++b->failures >= b->o.halt_after) {
            b->rep.halted = 1;
            halt(b, b->o.halt == EVT_HALT_NOW ? EVT__CANCEL : EVT__DRAIN);
        }
    }
    if (b->o.on_result)
        b->o.on_result(t, status, res, len, b->o.user);
}

void evt__batch_times(evt__ctl_t *b, const evt__hist_t *h)
{
    evt__hist_merge(&b->hist, h);
}

/* Hand j's outcome to the sink, or report it as it is; then free it. */
static void report(evt__ctl_t *b, evt__item_t *j)
{
    b->rep.bytes_done += j->span;
    if (b->src.sink)
        b->src.sink(b->src.self, b, &j->task, j->status, j->result,
                    j->result_len);
    else
        evt__batch_result(b, &j->task, j->status, j->result, j->result_len);
    free(j->result);
    free(j);
}

void evt__ctl_finish(evt__ctl_t *b, evt__item_t *j)
{
    b->chunk_open--;
    if (!b->o.ordered) {
        report(b, j);
        return;
    }
    b->ring[j->task.index % b->window] = j;
    evt__item_t *head;
    while ((head = b->ring[b->deliver_next % b->window]) != NULL) {
        b->ring[b->deliver_next % b->window] = NULL;
        b->deliver_next++;
        report(b, head);
    }
    evt__ctl_wake_reader(b);
}

void evt__ctl_cancel_unstarted(evt__ctl_t *b, evt__item_t *j)
{
    j->status = ECANCELED;
    b->chunk_open++; /* (finish counts it out of the unit it never entered) */
    evt__ctl_finish(b, j);
}

/* Stop starting, or cancel too. Items waiting to start or to retry are
 * finished with ECANCELED or their last failure. */
static void halt(evt__ctl_t *b, evt__stop_t how)
{
    if (b->stop >= how)
        return;
    b->stop = how;
    if (how == EVT__CANCEL) {
        evt__ctl_cancel_running(b);
        if (b->workers) /* their items fail with ECANCELED */
            evt_procpool_terminate(b->workers);
    }
    if (b->reader && !b->reader_done)
        evt_cancel(b->reader);
    evt__item_t *j = b->held;
    b->held = NULL;
    if (j)
        evt__ctl_cancel_unstarted(b, j);
    evt__ctl_drop_ahead(b);
    while ((j = b->retries) != NULL) {
        b->retries = j->next;
        evt__ctl_finish(b, j);
    }
}

/* --- retries -------------------------------------------------------------- */

static int64_t backoff(const evt__ctl_t *b, unsigned attempt)
{
    int64_t d = b->o.backoff_ms;
    for (unsigned i = 1; i < attempt && d < b->o.backoff_max_ms; i++)
        d *= 2;
    return d < b->o.backoff_max_ms ? d : b->o.backoff_max_ms;
}

/* A chunk runs again after its worker died up to this many times a retry
 * (and once more): its source isolates the line that killed the worker,
 * which takes a few deaths a bad line (ranges.c), while a kill from outside
 * is not the lines' fault. */
#define CHUNK_DEATHS 16

/* 1 when j's failed attempt runs again. A chunk's tasks have their own
 * retries where they run: the chunk runs again only for a worker that died
 * (what it reported stays), (retries + 1) * CHUNK_DEATHS times. */
int evt__ctl_again(const evt__ctl_t *b, const evt__item_t *j)
{
    if (j->status == 0 || j->status == ECANCELED || b->stop != EVT__RUN)
        return 0;
    if (!b->src.chunk_ahead)
        return j->task.attempt < b->o.retries;
    return (EVT_IS_SIGNALED(j->status) || EVT_IS_EXITED(j->status))
           && j->task.attempt < ((uint64_t)b->o.retries + 1) * CHUNK_DEATHS;
}

/* Look at the attempts that finished: retry them or finish them. */
static void collect(evt__ctl_t *b)
{
    evt__item_t *j;
    while ((j = b->done) != NULL) {
        b->done = j->next;
        if (!b->done)
            b->done_tail = &b->done;
        if (!evt__ctl_again(b, j)) {
            evt__ctl_finish(b, j);
            continue;
        }
        if (!b->src.chunk_ahead)
            b->rep.retried++;
        j->task.attempt++;
        j->not_before = evt_now() + backoff(b, j->task.attempt);
        j->next = b->retries;
        b->retries = j;
    }
}

/* --- signals ------------------------------------------------------------ */

/* The first signal stops the starts and opens the grace period; a second
 * one cancels what runs. */
void evt__ctl_signals(evt__ctl_t *b)
{
    evt__stop_t how = evt__signals_check(&b->sig_seen, &b->rep,
                                         &b->grace_end, b->o.grace_ms);
    if (how != EVT__RUN)
        halt(b, how);
}

static int watch_start(evt__ctl_t *b)
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

/* --- options -------------------------------------------------------------- */

int evt__batch_valid(const evt_batch_opts_t *o, evt_batch_fn fn)
{
    return fn && (!o || (o->interval_ms >= 0 && o->rate >= 0
                         && o->task_timeout_ms >= 0 && o->backoff_ms >= 0
                         && o->backoff_max_ms >= 0 && o->halt <= EVT_HALT_NOW
                         && o->progress_fd >= 0 && o->grace_ms >= 0
                         && o->max_result <= EVT_MAX_RESULT_MAX
                         && o->processes <= 4096 && o->threads <= 1024
                         && !(o->processes && o->threads)
                         && o->coroutines <= ((size_t)1 << 24)
                         && (!o->processes || o->coroutines <= 65536)
                         && o->coroutines * (o->threads ? o->threads : 1)
                                <= ((size_t)1 << 24)));
}

static void defaults(evt_batch_opts_t *o)
{
    if (!o->coroutines)
        o->coroutines = 1;
    if (!o->max_result)
        o->max_result = EVT_MAX_RESULT_DEFAULT;
    if (!o->backoff_max_ms)
        o->backoff_max_ms = DEFAULT_BACKOFF_MAX;
    if (!o->halt_after)
        o->halt_after = 1;
    if (!o->progress_fd)
        o->progress_fd = 2;
    if (!o->grace_ms)
        o->grace_ms = DEFAULT_GRACE;
}

/* The buffers of b's width: -1 (ENOMEM) leaves them for fini. */
static int alloc_slots(evt__ctl_t *b)
{
    size_t c = b->width;
    b->slots = calloc(c, sizeof *b->slots);
    b->free_slots = malloc(c * sizeof *b->free_slots);
    b->out = malloc(c * b->o.max_result);
    b->ring = b->o.ordered ? calloc(b->window, sizeof *b->ring) : NULL;
    if (!b->slots || !b->free_slots || !b->out || (b->o.ordered && !b->ring))
        return errno = ENOMEM, -1;
    for (size_t i = 0; i < c; i++)
        b->free_slots[i] = c - 1 - i;
    b->nfree = c;
    return 0;
}

/* Fill b in and start its helpers (workers, the reader, the signals'
 * watch); -1 and errno leaves it for fini. */
static int init(evt__ctl_t *b, const evt_batch_opts_t *opts, evt_batch_fn fn,
                const evt__source_t *src)
{
    memset(b, 0, sizeof *b);
    if (opts)
        b->o = *opts;
    defaults(&b->o);
    b->fn = fn;
    evt__batch_crash_watch(); /* a crashing item is named */
    b->src = *src;
    if (src->chunk_ahead) {
        /* A chunk's tasks are reported in order; its result is their
         * times; their deadlines are kept where they run. */
        b->o.ordered = 1;
        b->o.max_result = sizeof(evt__hist_t);
        b->o.task_timeout_ms = 0;
    }
    b->grace_end = -1;
    if (b->o.rate > 0)
        b->rate_next_us = evt__now_us();
    /* Each worker process or thread runs coroutines attempts at once, or
     * has chunk_ahead chunks in flight. */
    size_t per = src->chunk_ahead ? src->chunk_ahead : b->o.coroutines;
    b->width = per * (b->o.processes ? b->o.processes
                      : b->o.threads ? b->o.threads
                                     : 1);
    b->window = b->width * WINDOW_PER_SLOT;
    b->done_tail = &b->done;
    b->ahead_tail = &b->ahead;
    if (alloc_slots(b) < 0 || !(b->attempts = evt_group_new())
        || !(b->wake = evt_event_new()) || evt__ctl_workers_new(b) < 0)
        return -1;
    if (src->waits
        && (!(b->room = evt_event_new())
            || !(b->reader = evt_group_spawn(b->attempts, evt__ctl_reader,
                                             b))))
        return -1;
    if (b->o.stop_on_signals && watch_start(b) < 0)
        return -1;
    b->rep.bytes_total = src->bytes;
    if (b->o.progress)
        evt__progress_init(&b->prog, b->o.progress_fd, src->total);
    return 0;
}

static void fini(evt__ctl_t *b)
{
    /* Every attempt returns before the batch does, even for a cancelled
     * caller (the group's drain does not give up). */
    if (b->attempts)
        evt_group_free(b->attempts);
    if (b->sig_watch)
        evt__signals_give(&b->sig);
    evt__ctl_workers_free(b);
    if (b->wake)
        evt_event_free(b->wake);
    if (b->room)
        evt_event_free(b->room);
    free(b->slots);
    free(b->free_slots);
    free(b->out);
    free(b->ring);
}

/* --- the run ------------------------------------------------------------- */

static int finished(const evt__ctl_t *b)
{
    return b->nfree == b->width && !b->retries && !b->done && !b->held
           && !b->ahead && (!b->reader || b->reader_done)
           && (b->src_done || b->stop);
}

/* Draw the progress, or tell on_progress; final: the end (the report is
 * whole). */
static void show_progress(evt__ctl_t *b, int final)
{
    /* (a chunk's tasks run unseen) */
    uint64_t running = final || b->src.chunk_ahead ? 0 : b->width - b->nfree;
    if (!b->o.on_progress) {
        if (final)
            evt__progress_final(&b->prog, &b->rep);
        else
            evt__progress_draw(&b->prog, &b->rep, running);
        return;
    }
    evt_batch_report_t r = b->rep;
    if (!final) {
        r.wall_ms = evt_now() - b->prog.start_ms;
        r.p50_ms = evt__hist_quantile(&b->hist, 0.50);
        r.p99_ms = evt__hist_quantile(&b->hist, 0.99);
        b->prog.next_ms = evt_now() + evt__progress_period(&b->prog);
    }
    b->o.on_progress(&r, running, b->o.user);
}

/* One look at everything: what finished, the signals, the source's error,
 * the grace period, what may start, the deadlines, the progress. The time
 * to look again, or -1; *over: the batch is over. */
static int64_t step(evt__ctl_t *b, int *over)
{
    collect(b);
    evt__ctl_check_signals(b);
    if (b->src_err && !b->ahead) /* the items read before still run */
        halt(b, EVT__DRAIN);
    if (b->grace_end >= 0 && evt_now() >= b->grace_end)
        halt(b, EVT__CANCEL);
    /* Start first: the deadlines of what starts now count too. */
    int64_t wake = evt__ctl_start_more(b);
    wake = evt__earliest(wake, evt__ctl_expire(b));
    if (b->stop < EVT__CANCEL)
        wake = evt__earliest(wake, b->grace_end);
    if (b->stop)
        evt__ctl_drop_ahead(b); /* what the reader read as it was stopped */
    if ((*over = finished(b)))
        return -1;
    if (b->o.progress) {
        if (evt_now() >= b->prog.next_ms)
            show_progress(b, 0);
        wake = evt__earliest(wake, b->prog.next_ms);
    }
    return wake;
}

/* Run b to its end: 0, or ECANCELED when the caller was cancelled. */
static int run(evt__ctl_t *b)
{
    for (;;) {
        int over;
        int64_t wake = step(b, &over);
        if (over)
            return 0;
        if (evt_event_wait(b->wake, wake) < 0 && errno == ECANCELED) {
            halt(b, EVT__CANCEL);
            return ECANCELED;
        }
        evt_event_clear(b->wake);
    }
}

int evt__batch_run(const evt_batch_opts_t *opts, evt_batch_fn fn,
                   const evt__source_t *src, evt_batch_report_t *rep,
                   evt__hist_t *hist)
{
    if (!src || !src->next || !evt__batch_valid(opts, fn)) {
        errno = EINVAL;
        return -1;
    }
    evt__ctl_t b;
    if (init(&b, opts, fn, src) < 0) {
        int err = errno;
        fini(&b);
        errno = err;
        return -1;
    }
    int64_t start_ms = evt_now();
    int err = run(&b);
    /* The attempts return, then what they left is reported. */
    evt_group_free(b.attempts);
    b.attempts = NULL;
    collect(&b);
    evt__ctl_drop_ahead(&b);
    b.rep.wall_ms = evt_now() - start_ms;
    b.rep.p50_ms = evt__hist_quantile(&b.hist, 0.50);
    b.rep.p99_ms = evt__hist_quantile(&b.hist, 0.99);
    if (hist)
        evt__hist_merge(hist, &b.hist);
    if (b.o.progress)
        show_progress(&b, 1);
    if (rep)
        *rep = b.rep;
    if (!err)
        err = b.src_err;
    fini(&b);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}
