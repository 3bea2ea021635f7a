/* The batch controller's interface to the layers below it: a source/sink
 * (src/broker's array, iterator, file lines, byte ranges, IPC queue; next,
 * Redis Streams) hands its items to the one controller, evt__batch_run, and
 * takes their outcomes back. Nothing else of the controller is seen here. */
#ifndef EVT_BATCH_BATCH_H
#define EVT_BATCH_BATCH_H

#include "eventor.h"

#include <stdint.h>

/* 1 when fn and opts (NULL: defaults) make a batch. */
int evt__batch_valid(const evt_batch_opts_t *opts, evt_batch_fn fn);

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

/* A source's next item: as evt_batch_next_fn, with the source's state
 * first (self). */
typedef int (*evt__next_fn)(void *self, const void **item, size_t *len);

/* A running batch, as its source's sink sees it. */
typedef struct evt__ctl evt__ctl_t;

/* Told an item's final outcome (after its retries): status 0 and len bytes
 * of result at res (borrowed for the call), or an error and no result. A
 * sink reports what the item holds with evt__batch_result. */
typedef void (*evt__sink_fn)(void *self, evt__ctl_t *b,
                             const evt_batch_task_t *item, int status,
                             const void *res, size_t len);

/* Told a task's final outcome (no retry follows) the moment its attempt
 * ends, in the attempt's coroutine, before it waits for its turn in order:
 * status 0 and len bytes of result at res (borrowed), or an error. 1 when
 * the source kept it (then the controller keeps no copy, and on_result
 * later sees the task with no result), 0 when it did not. */
typedef int (*evt__settle_fn)(void *self, const evt_batch_task_t *item,
                              int status, const void *res, size_t len);

/* Where a batch's items come from and where their outcomes go: the one
 * interface between the controller and every source. The controller owns
 * admission, units/interval, rate, deadlines, retries, halting, signals,
 * order, progress and the report; a source only reads items and, with a
 * sink, stores or acknowledges what came of them. */
typedef struct evt__source {
    void *self;             /* the source's state, for next and sink */
    evt__next_fn next;      /* the next item, copied at once by the
                               controller: 1, 0 at the end, -1 and errno */
    int waits;              /* next may park (a pipe, a queue): it is read
                               in a reader coroutine, a few items ahead, so
                               that results, deadlines and signals go on;
                               0: next returns at once (memory, a file) */
    uint64_t total;         /* items in all when known (progress ETA), 0 */
    const uint64_t *pos;    /* bytes of the source read so far, as next
                               moves it (an item covers the bytes it moved
                               over; report's bytes_done), or NULL */
    const uint64_t *seq;    /* the number (from 1) of the item next just
                               gave, as the source numbers them (task's
                               seq), or NULL: index + 1 */
    uint64_t bytes;         /* bytes in all when known (progress by bytes
                               when total is 0), 0 */
    evt__sink_fn sink;      /* NULL: an item's outcome is its result,
                               reported as it is (evt__batch_result) */
    evt__settle_fn settle;  /* NULL, or where each outcome is kept as
                               soon as it is known: a source that keeps it
                               somewhere that outlives a crash of this
                               process (a spool) then knows every task
                               whose fn returned, not only those reported */
    size_t chunk_ahead;     /* 0: an item is one task of fn. Otherwise an
                               item is a chunk of many tasks (fn runs a
                               whole chunk and returns an evt__hist_t of
                               their attempt times, see evt__batch_times;
                               the chunk itself has no deadline):
                               chunks are reported in order, chunk_ahead
                               of them are in flight per worker, a worker
                               runs one at a time, a chunk runs again only
                               when its worker died (up to (retries + 1)
                               * 16 times, so that its source can isolate
                               a line that kills workers; its tasks' own
                               retries and deadlines
                               are the chunk's business), and the sink
                               reports each task with evt__batch_result */
} evt__source_t;

/* Run fn over src's items under opts (defaults filled in) and fill rep, as
 * evt_batch_run. hist (or NULL) gets the attempt times added. */
int evt__batch_run(const evt_batch_opts_t *opts, evt_batch_fn fn,
                   const evt__source_t *src, evt_batch_report_t *rep,
                   evt__hist_t *hist);

/* Report one task's outcome: count it, apply the error policy (which may
 * halt the batch), and hand it to on_result. A chunk's task counts as read
 * here, and its attempt number as its retries. */
void evt__batch_result(evt__ctl_t *b, const evt_batch_task_t *t, int status,
                       const void *res, size_t len);

/* A chunk's attempt times, for the report's percentiles. */
void evt__batch_times(evt__ctl_t *b, const evt__hist_t *h);

#endif
