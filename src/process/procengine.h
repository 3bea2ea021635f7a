/* The process pool engine's own state, shared by its two halves:
 * procpool.c (the pool, its workers' lives and deaths, timeouts) and
 * procdispatch.c (jobs handed out to workers, results taken back). */
#ifndef EVT_PROCESS_PROCENGINE_H
#define EVT_PROCESS_PROCENGINE_H

#include "procpool.h"
#include "../core/wait.h"

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

/* One worker process and what it has been sent. */
typedef struct procworker {
    evt_procpool_t *pool;
    evt__child_t c;             /* the process */
    evt__worker_page_t *page;   /* what it runs since when */
    evt__job_t **sent_jobs;     /* jobs sent and not yet back, by their
                                   slot in this table (NULL: a free
                                   slot), told in the job's frame */
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
} procworker_t;

/* A keeper coroutine's argument: which of pool->workers it keeps. */
typedef struct keeper {
    evt_procpool_t *pool;
    size_t index; /* in pool->workers */
} keeper_t;

struct evt_procpool {
    size_t size;               /* worker processes */
    procworker_t **workers;        /* per keeper, NULL while being replaced */
    keeper_t *keepers;         /* the keeper coroutines' arguments */
    evt_procpool_opts_t opts;  /* copy of the options */
    evt__job_t *qhead, *qtail; /* jobs not yet sent */
    int state;                 /* RUN, CLOSED, TERMINATED */
    int broken;                /* errno that stops workers from starting */
    size_t nkeepers;           /* keeper coroutines still running */
    size_t batches;            /* maps in progress */
    evt__waitq_t joinq;        /* parked in evt_procpool_join */
    evt_co_t *watchdog;        /* enforces task_timeout_ms (detached), or
                                  NULL once it has returned */
    size_t watching;           /* 1 while the watchdog runs */
};

/* Jobs one worker may have been sent and not yet answered. */
static inline size_t table_size(const evt_procpool_t *p)
{
    return p->opts.coroutines > 1 ? p->opts.coroutines : MAX_AHEAD;
}

/* Jobs w has been sent and not yet answered. */
static inline size_t inflight(const procworker_t *w)
{
    return table_size(w->pool) - w->nfree;
}

/* Hand the queue out to the workers with room, and end the input of those
 * that will get nothing more. */
void evt__pool_kick(evt_procpool_t *p);

/* A worker's writer and reader coroutines (arg: its procworker_t). */
void *evt__pool_writer_main(void *arg);
void *evt__pool_reader_main(void *arg);

#endif
