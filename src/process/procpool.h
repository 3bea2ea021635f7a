/* Internal interface of the process pool between its engine (procpool.c:
 * workers, dispatch, deaths, timeouts) and its front ends (procmap.c:
 * apply, apply_async, map, imap): a job is one or more items sent to one
 * worker as one frame, and told its results once. */
#ifndef EVT_PROCESS_PROCPOOL_H
#define EVT_PROCESS_PROCPOOL_H

#include "forkserver.h"
#include "../core/core.h"
#include "../thread/future.h"

#include <stddef.h>
#include <stdint.h>

typedef struct evt__job evt__job_t;

/* Most tasks one worker may run at once (evt_procpool_opts_t.coroutines). */
#define EVT__POOL_MAX_COROUTINES 65536

/* Told a job's outcome: res points at its nitems result records (see
 * evt__res_item_t; valid during the call) and err is 0; or res is NULL and
 * err says why every item failed. It owns j from then on and frees it with
 * evt__job_free. */
typedef void (*evt__job_done_fn)(evt__job_t *j, const unsigned char *res,
                                 int err);

struct evt__job {
    evt__job_t *next;      /* in the pool's queue or a worker's in-flight
                              list */
    evt_proc_fn fn;        /* the task */
    uint32_t nitems;       /* items in args */
    uint32_t out_cap;      /* most bytes of each result */
    unsigned char *args;   /* items, each a uint32_t length and bytes, or
                              (fixed) item_size bytes each */
    size_t args_len;
    int fixed;
    uint32_t item_size;
    unsigned tries;        /* runs lost to a dying worker so far */
    uint64_t seq;          /* its number on the worker it was sent to */
    uint32_t slot;         /* where that worker's table keeps it */
    evt__job_done_fn done; /* told the outcome */
    void *owner;           /* the front end's record */
    size_t first;          /* map: the index of the first item */
    int err;               /* front ends: the whole job's error, once done */
    evt_future_t *future;  /* apply_async: the future to start when the
                              job is first sent, then NULL (the front end
                              keeps it) */
};

/* A job of nitems items taking args_len bytes of args (filled by the
 * caller). NULL and ENOMEM. */
evt__job_t *evt__job_new(size_t args_len);
void evt__job_free(evt__job_t *j);

/* Queue j (at the back) and hand work to idle workers. Returns 0, or -1
 * and EPIPE (the pool is closed), ECANCELED (terminated) or the error that
 * keeps the pool from starting workers; then j stays the caller's. */
int evt__pool_submit(evt_procpool_t *pool, evt__job_t *j);

/* Take the queued jobs of owner out of the queue and free them; returns
 * how many. */
size_t evt__pool_unqueue(evt_procpool_t *pool, const void *owner);

/* Find the jobs of owner sent to workers and make their outcome dropped
 * (their done becomes a plain free). */
void evt__pool_orphan(evt_procpool_t *pool, const void *owner);

/* Worker processes of the pool, and its opts.max_result. */
size_t evt__pool_size(const evt_procpool_t *pool);
size_t evt__pool_max_result(const evt_procpool_t *pool);

/* Count map and imap calls in progress (evt_procpool_free refuses then). */
void evt__pool_batch(evt_procpool_t *pool, int delta);

#endif
