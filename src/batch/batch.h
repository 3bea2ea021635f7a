/* Internal interface of the batch engine: the latency histogram and the
 * progress display, kept apart from the scheduling logic of batch.c. */
#ifndef EVT_BATCH_BATCH_H
#define EVT_BATCH_BATCH_H

#include "eventor.h"

#include <signal.h>
#include <stdint.h>
#include <time.h>


/* 1 when fn and opts (NULL: defaults) make a batch. */
int evt__batch_valid(const evt_batch_opts_t *opts, evt_batch_fn fn);

/* T worker threads running batch attempts, C at once each (threads.c). */
typedef struct evt__threads evt__threads_t;
/* threads threads for calls in slots [0, slots): slot s runs on thread
 * s % threads, at most limit calls at once on a thread (0: no limit), the
 * others waiting there in order. NULL and errno. */
evt__threads_t *evt__threads_new(size_t threads, size_t slots, size_t limit);
/* Run fn(task, out, cap, len, user) on the thread of slot (no other call
 * in that slot meanwhile) and return what it returned, parking the calling
 * coroutine. A cancel of the caller cancels fn's coroutine there, and the
 * call still waits for fn to return. */
int evt__threads_run(evt__threads_t *ts, size_t slot, evt_batch_fn fn,
                     const evt_batch_task_t *task, void *out, size_t cap,
                     size_t *len, void *user);
/* Stop the threads (no call may be running) and free ts (NULL is fine). */
void evt__threads_free(evt__threads_t *ts);

/* CLOCK_MONOTONIC in microseconds. */
static inline int64_t evt__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The earlier of two deadlines, -1 meaning none. */
static inline int64_t evt__earliest(int64_t a, int64_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

/* Attempt times in buckets 3% wide or less (32 per power of two), from 1
 * us to 2^40 us (12 days), so that percentiles of any number of items take
 * constant memory. */
#define EVT__HIST_BUCKETS (40 * 32)
typedef struct evt__hist {
    uint64_t count[EVT__HIST_BUCKETS];
    uint64_t total;
} evt__hist_t;

void evt__hist_add(evt__hist_t *h, int64_t us);
/* Add the counts of from to h. */
void evt__hist_merge(evt__hist_t *h, const evt__hist_t *from);
/* The q-quantile (0 < q <= 1) in milliseconds; 0 when empty. */
double evt__hist_quantile(const evt__hist_t *h, double q);

/* evt_batch_run. source_waits: next may park (a pipe, a queue), so it is
 * called in a reader coroutine of its own, a few items ahead, and results,
 * deadlines and signals go on meanwhile; 0: next returns at once (memory,
 * a regular file), and is called when an item may start. total: the
 * number of items when the source knows it (0: unknown), for the progress
 * display's ETA. hist (or NULL) gets the attempt times added. */
int evt__batch_run(const evt_batch_opts_t *opts, evt_batch_fn fn,
                   evt_batch_next_fn next, void *src, int source_waits,
                   uint64_t total, evt_batch_report_t *rep, evt__hist_t *hist);

/* Progress on a file descriptor: a bar redrawn in place on a terminal, a
 * line per period otherwise. */
typedef struct evt__progress {
    int fd;             /* where to write */
    int tty;            /* fd is a terminal */
    int64_t start_ms;   /* evt_now() at the start */
    int64_t next_ms;    /* when to draw next */
    uint64_t total;     /* items in all, 0 when unknown */
} evt__progress_t;

void evt__progress_init(evt__progress_t *p, int fd, uint64_t total);
/* The period between two draws, ms. */
int64_t evt__progress_period(const evt__progress_t *p);
/* Draw the counts now. */
void evt__progress_draw(evt__progress_t *p, const evt_batch_report_t *r,
                        uint64_t running);
/* The last line: counts, wall time, rate, p50/p99. */
void evt__progress_final(evt__progress_t *p, const evt_batch_report_t *r);

/* SIGINT/SIGTERM routed to a pipe while a batch runs; one batch at a time. */
typedef struct evt__signals {
    int fds[2];                  /* the pipe: read end, write end */
    struct sigaction old_int;    /* the handlers to put back */
    struct sigaction old_term;
    evt_event_t *wake;           /* set when a signal comes */
} evt__signals_t;

/* Route the signals to s, which sets wake (see evt__signals_watch).
 * Returns 0, or -1 and EBUSY (another batch has them), or pipe's errno. */
int evt__signals_take(evt__signals_t *s, evt_event_t *wake);
/* Put the previous handlers back and close the pipe. */
void evt__signals_give(evt__signals_t *s);
/* Signals caught since evt__signals_take; *first gets the first one's
 * number. The handler counts them at once, so a controller can look before
 * every start without waiting for the pipe. */
unsigned evt__signals_count(int *first);
/* What the signals caught since *seen ask of a batch: 0 nothing new; 1
 * start nothing new (the first one: rep->signal is set, and *grace_end to
 * grace_ms from now); 2 cancel what runs (a second one). Marks rep halted. */
int evt__signals_check(unsigned *seen, evt_batch_report_t *rep,
                       int64_t *grace_end, int64_t grace_ms);
/* A coroutine body (argument: s) that sets s->wake each time the pipe says
 * a signal came, until it is cancelled; the controller decides with
 * evt__signals_check. */
void *evt__signals_watch(void *s);

#endif
