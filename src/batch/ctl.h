/* Inside the batch controller (src/batch only): its state, shared by the
 * files that each keep one part of it — admission (admit.c), the attempts
 * on the worker shapes (attempt.c, threads.c), the decisions and the run
 * (batch.c) — and the helpers it uses: progress, signals, clocks. */
#ifndef EVT_BATCH_CTL_H
#define EVT_BATCH_CTL_H

#include "batch.h"

#include <signal.h>
#include <stdint.h>
#include <time.h>

/* How far a batch is from its end: named levels, each one more. */
typedef enum evt__stop {
    EVT__RUN = 0,       /* start what may start */
    EVT__DRAIN = 1,     /* start nothing new; what runs finishes */
    EVT__CANCEL = 2,    /* cancel what runs too */
} evt__stop_t;

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

/* --- worker threads (threads.c) ---------------------------------------- */

/* T worker threads running batch attempts, C at once each. */
typedef struct evt__threads evt__threads_t;
/* threads threads for calls in slots [0, slots): slot s runs on thread
 * s % threads, at most limit calls at once on a thread (0: no limit), the
 * others waiting there in order. NULL and errno. */
evt__threads_t *evt__threads_new(size_t threads, size_t slots, size_t limit);
/* Run fn(task, out, cap, len, user) on the thread of slot (no other call
 * in that slot meanwhile) and return 0 or its error (the errno it failed
 * with, read on its thread), parking the calling coroutine. A cancel of the caller cancels fn's coroutine there, and the
 * call still waits for fn to return. */
int evt__threads_run(evt__threads_t *ts, size_t slot, evt_batch_fn fn,
                     const evt_batch_task_t *task, void *out, size_t cap,
                     size_t *len, void *user);
/* Stop the threads (no call may be running) and free ts (NULL is fine). */
void evt__threads_free(evt__threads_t *ts);

/* --- progress (progress.c) --------------------------------------------- */

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

/* --- signals (signals.c) ----------------------------------------------- */

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
/* What the signals caught since *seen ask of a batch: EVT__RUN nothing
 * new; EVT__DRAIN (the first one: rep->signal is set, and *grace_end to
 * grace_ms from now); EVT__CANCEL (a second one). Marks rep halted. */
evt__stop_t evt__signals_check(unsigned *seen, evt_batch_report_t *rep,
                               int64_t *grace_end, int64_t grace_ms);
/* A coroutine body (argument: s) that sets s->wake each time the pipe says
 * a signal came, until it is cancelled; the controller decides with
 * evt__signals_check. */
void *evt__signals_watch(void *s);

/* --- the controller's state -------------------------------------------- */

/* One item (a task, or a chunk of them), from the moment it is read until
 * it is reported. */
typedef struct evt__item {
    evt_batch_task_t task;  /* what fn and the sink see */
    evt__ctl_t *b;          /* its batch */
    int status;             /* of the last attempt */
    int timed_out;          /* its attempt was cancelled for its deadline */
    evt_co_t *co;           /* the running attempt, NULL otherwise */
    size_t slot;            /* the running attempt's slot (result buffer) */
    int64_t deadline;       /* running: when the attempt times out, -1 */
    int64_t not_before;     /* waiting to retry: when it may start */
    int64_t started_us;     /* running: when the attempt started */
    void *result;           /* finished: its result, malloc'd */
    size_t result_len;
    uint64_t span;          /* bytes of the source it covers (src.pos) */
    struct evt__item *next; /* link in the retry, done or ahead list */
    unsigned char data[];   /* the item's bytes */
} evt__item_t;

struct evt__ctl {
    evt_batch_opts_t o;       /* the options, defaults filled in */
    evt_batch_fn fn;
    evt__source_t src;        /* where items come from, outcomes go */
    evt_group_t *attempts;    /* every running attempt, the reader and
                                 sig_watch */
    evt_procpool_t *workers;  /* processes: where attempts run */
    evt__threads_t *threads;  /* threads: where attempts run */
    evt_event_t *wake;        /* set by an attempt that finished */
    size_t width;             /* attempts at once: coroutines (chunks in
                                 flight), times processes or threads */
    evt__item_t **slots;      /* running items by slot, width of them */
    size_t *free_slots;       /* stack of free slot numbers */
    size_t nfree;
    unsigned char *out;       /* width * max_result result buffers */
    evt__item_t *retries;     /* waiting for their retry, unordered */
    evt__item_t *done, **done_tail; /* finished attempts not looked at */
    evt__item_t *held;        /* read, waiting for the pause to end */
    evt__item_t **ring;       /* ordered: finished items by index % window */
    size_t window;
    uint64_t nread;           /* items read (the next one's index) */
    uint64_t pos_read;        /* *src.pos after the last item read */
    uint64_t deliver_next;    /* ordered: the next index to report */
    uint64_t chunk_left;      /* items the unit may still read */
    uint64_t chunk_open;      /* items of the unit not yet reported */
    int64_t pause_until;      /* no start before this (unit interval) */
    int64_t rate_next_us;     /* no start before this (rate limit) */
    uint64_t failures;        /* results reported with a non-zero status */
    evt__stop_t stop;
    int src_done;             /* the source said it has no more */
    int src_err;              /* its errno, when it failed */
    uint64_t taken;           /* items taken to start (or to hold) */
    evt_co_t *reader;         /* a source that may wait is read here, a
                                 few items ahead, so that the controller
                                 never waits on it (borrowed, in attempts) */
    evt_event_t *room;        /* set when the reader may read on */
    int reader_waits;         /* the reader waits for room */
    int reader_done;          /* it has returned */
    evt__item_t *ahead, **ahead_tail; /* read by the reader, not yet taken
                                         (nread - taken of them) */
    evt__signals_t sig;       /* stop_on_signals: where signals arrive */
    evt_co_t *sig_watch;      /* the coroutine reading them (borrowed) */
    int64_t grace_end;        /* after a signal: cancel the rest then, -1 */
    unsigned sig_seen;        /* signals acted upon */
    evt__progress_t prog;
    evt__hist_t hist;         /* attempt times */
    evt_batch_report_t rep;
};

/* attempt.c: the worker shapes. Make b's workers (processes or threads),
 * or none for coroutines here: 0, or -1 and errno. */
int evt__ctl_workers_new(evt__ctl_t *b);
void evt__ctl_workers_free(evt__ctl_t *b);
/* Start j's attempt in a free slot; now_us: the time, read once for a
 * round of starts. 0, or -1 and errno (j is not started). */
int evt__ctl_start(evt__ctl_t *b, evt__item_t *j, int64_t now_us);

/* Call the batch function on t here (attempt.c): 0, or its error (errno
 * it set, EIO when none). A crash meanwhile names t's item on stderr once
 * evt__batch_crash_watch has been called in this process. */
int evt__batch_call(evt_batch_fn fn, const evt_batch_task_t *t, void *out,
                    size_t cap, size_t *len, void *user);
void evt__batch_crash_watch(void);
/* Cancel every running attempt. */
void evt__ctl_cancel_running(evt__ctl_t *b);
/* Cancel the attempts past their deadline; the earliest deadline left. */
int64_t evt__ctl_expire(evt__ctl_t *b);

/* admit.c: what starts when. Start what may start now; the earliest time
 * something else may (a retry, the end of a pause, the rate), or -1. */
int64_t evt__ctl_start_more(evt__ctl_t *b);
/* A coroutine body (argument: b) reading a source that may wait. */
void *evt__ctl_reader(void *b);
/* Wake the reader if it waits and there is room now (the slow path of
 * evt__ctl_wake_reader, below). */
void evt__ctl_room(evt__ctl_t *b);
/* Report the items read ahead but not taken (ECANCELED). */
void evt__ctl_drop_ahead(evt__ctl_t *b);

/* batch.c: the decisions. j is done for good: count it, then report it
 * now or in its turn. */
void evt__ctl_finish(evt__ctl_t *b, evt__item_t *j);
/* 1 when j's failed attempt (status set) runs again. Once 0, it stays 0
 * for that attempt: the batch only moves towards its end. */
int evt__ctl_again(const evt__ctl_t *b, const evt__item_t *j);
/* j was read but never started, and the batch stops: ECANCELED. */
void evt__ctl_cancel_unstarted(evt__ctl_t *b, evt__item_t *j);
/* Act on the signals caught since the last look (the slow path of
 * evt__ctl_check_signals, below). */
void evt__ctl_signals(evt__ctl_t *b);

/* Both are looked at for every item: inline, they cost nothing when
 * there is no reader waiting or no signal watch. */
static inline void evt__ctl_wake_reader(evt__ctl_t *b)
{
    if (b->reader_waits)
        evt__ctl_room(b);
}

static inline void evt__ctl_check_signals(evt__ctl_t *b)
{
    if (b->sig_watch)
        evt__ctl_signals(b);
}

#endif
