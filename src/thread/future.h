/* Internal interface of futures, for every producer of them (thread pool,
 * process pool, batch engine): make a pending future, mark it running,
 * complete it from any thread. Self-contained: needs only core and loop. */
#ifndef EVT_THREAD_FUTURE_H
#define EVT_THREAD_FUTURE_H

#include "eventor.h"

#include <stdint.h>

/* A pending future holding two references: the owner's (given up by
 * evt_future_free) and the producer's (given up by evt__future_complete,
 * which every producer calls exactly once per future, whatever happened).
 * NULL and ENOMEM. */
evt_future_t *evt__future_new(void);

/* Pending -> running, just before the task starts. Returns 0; or -1 when
 * the future was cancelled meanwhile (evt_future_cancel): the task must not
 * run, and the producer still calls evt__future_complete, which then only
 * drops its reference. This is where a producer drops a cancelled task: a
 * queued task costs its queue slot until the producer reaches it. */
int evt__future_start(evt_future_t *f);

/* Finish f with err (0 or a positive errno-style code) and result, unless
 * it is done already (cancelled); then drop the producer's reference, so f
 * must not be used after. From any thread, pending or running. Waiting
 * coroutines are woken through evt__post to their schedulers (directly when
 * they live on the calling thread); done callbacks run here, in order. */
void evt__future_complete(evt_future_t *f, int err, void *result);

/* evt_future_wait, returning 0 or an errno value instead of setting errno.
 * With cancellable 0, a cancel of the caller does not cut the wait short
 * (for callers that must not return while the task uses their memory). */
int evt__future_wait(evt_future_t *f, int64_t deadline, int cancellable);

#endif
