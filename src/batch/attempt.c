/* The batch's worker shapes: each attempt runs in a coroutine of its own,
 * which runs fn here (coroutines), hands it to a worker thread (threads x
 * C, threads.c) or sends it to a worker process (processes x C), and hands
 * its item back to the controller when it ends. The controller decides
 * everything else. */
#define _GNU_SOURCE
#include "ctl.h"
#include "../core/crash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RATE_SLACK_US 2000

/* What an attempt sends to a worker process: this header, the item, and a
 * NUL so that a line can be used as a string there too. */
typedef struct frame {
    evt_batch_fn fn;  /* valid in the worker: same binary, forked */
    void *user;       /* likewise: the worker's copy */
    uint64_t index, seq;
    unsigned attempt;
} frame_t;

static ssize_t run_in_worker(const void *in, size_t in_len, void *out,
                             size_t cap)
{
    frame_t f;
    memcpy(&f, in, sizeof f);
    evt_batch_task_t t = {f.index, (const char *)in + sizeof f,
                          in_len - sizeof f - 1, f.attempt, f.seq};
    size_t len = 0;
    if (f.fn(&t, out, cap, &len, f.user) != 0)
        return -1; /* (errno says why; the child reads it at once) */
    return (ssize_t)len; /* (more than cap: the child says EMSGSIZE) */
}

/* One attempt in a worker process: 0 or the task's error. */
static int run_remote(evt__ctl_t *b, evt__item_t *j, void *out, size_t cap,
                      size_t *len)
{
    size_t n = sizeof(frame_t) + j->task.len + 1;
    unsigned char *in = malloc(n);
    if (!in)
        return ENOMEM;
    frame_t f = {b->fn, b->o.user, j->task.index, j->task.seq,
                 j->task.attempt};
    memcpy(in, &f, sizeof f);
    memcpy(in + sizeof f, j->task.item, j->task.len + 1);
    ssize_t r = evt_procpool_apply(b->workers, run_in_worker, in, n, out, cap,
                                   -1);
    int err = r < 0 ? errno : 0;
    free(in);
    *len = r < 0 ? 0 : (size_t)r;
    return err;
}

/* Keep the attempt's result, or fail it: ENOMEM. */
static int keep_result(evt__item_t *j, const void *out, size_t len)
{
    if (!(j->result = malloc(len)))
        return ENOMEM;
    j->result_len = len;
    memcpy(j->result, out, len);
    return 0;
}

/* A crash while the batch function runs names the item it ran (on this
 * process's stderr, async-signal-safe) before the process dies of it. */
static int item_note(int sig, const siginfo_t *si)
{
    (void)si;
    uint64_t item = evt__crash_item();
    if (!item)
        return 0;
    static const char a[] = "eventor: item ", b[] = " crashed (signal ";
    char msg[96];
    size_t n = sizeof a - 1;
    memcpy(msg, a, n);
    n += evt__crash_fmt_u64(msg + n, item);
    memcpy(msg + n, b, sizeof b - 1);
    n += sizeof b - 1;
    n += evt__crash_fmt_u64(msg + n, (uint64_t)sig);
    memcpy(msg + n, ")\n", 2);
    evt__crash_write(msg, n + 2);
    return 0;
}

void evt__batch_crash_watch(void)
{
    evt__crash_note(item_note);
}

int evt__batch_call(evt_batch_fn fn, const evt_batch_task_t *t, void *out,
                    size_t cap, size_t *len, void *user)
{
    evt__crash_set_item(t->index + 1);
    errno = 0; /* fn fails with -1 and errno, 0 meaning EIO */
    int rc = fn(t, out, cap, len, user);
    evt__crash_set_item(0);
    return rc == 0 ? 0 : errno ? errno : EIO;
}

static void *attempt_main(void *arg)
{
    evt__item_t *j = arg;
    evt__ctl_t *b = j->b;
    size_t cap = b->o.max_result, len = 0;
    unsigned char *out = b->out + j->slot * cap;
    int rc = b->workers   ? run_remote(b, j, out, cap, &len)
             : b->threads ? evt__threads_run(b->threads, j->slot, b->fn,
                                             &j->task, out, cap, &len,
                                             b->o.user)
                          : evt__batch_call(b->fn, &j->task, out, cap, &len,
                                            b->o.user);
    if (rc == 0 && len > cap) /* a result cut short would pass for whole */
        rc = EMSGSIZE;
    if (!b->src.chunk_ahead) /* (a chunk's tasks are timed where they run) */
        evt__hist_add(&b->hist, evt__now_us() - j->started_us);
    if (j->timed_out)
        rc = ETIMEDOUT;
    else if (rc != 0 && b->stop == EVT__CANCEL)
        rc = ECANCELED;
    j->status = rc;
    /* Kept by the source at once, when it will not run again: a crash of
     * this process from now on does not lose it. */
    int kept = b->src.settle && !evt__ctl_again(b, j)
               && b->src.settle(b->src.self, &j->task, rc, out, rc ? 0 : len);
    if (!kept && rc == 0 && len > 0)
        j->status = keep_result(j, out, len);
    j->co = NULL;
    b->slots[j->slot] = NULL;
    b->free_slots[b->nfree++] = j->slot;
    j->next = NULL;
    *b->done_tail = j;
    b->done_tail = &j->next;
    evt_event_set(b->wake);
    return NULL;
}

int evt__ctl_start(evt__ctl_t *b, evt__item_t *j, int64_t now_us)
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

void evt__ctl_cancel_running(evt__ctl_t *b)
{
    for (size_t i = 0; i < b->width; i++)
        if (b->slots[i] && b->slots[i]->co)
            evt_cancel(b->slots[i]->co);
}

int64_t evt__ctl_expire(evt__ctl_t *b)
{
    int64_t now = evt_now(), next = -1;
    for (size_t i = 0; i < b->width; i++) {
        evt__item_t *j = b->slots[i];
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

int evt__ctl_workers_new(evt__ctl_t *b)
{
    /* A chunk runs alone on its worker: its tasks are its coroutines. */
    size_t per_worker = b->src.chunk_ahead ? 1 : b->o.coroutines;
    if (b->o.processes) {
        evt_procpool_opts_t po = {.coroutines = per_worker,
                                  .task_timeout_ms = b->o.task_timeout_ms,
                                  .max_result = b->o.max_result};
        if (!(b->workers = evt_procpool_new(b->o.processes, &po)))
            return -1;
    }
    if (b->o.threads
        && !(b->threads = evt__threads_new(b->o.threads, b->width,
                                           b->src.chunk_ahead ? 1 : 0)))
        return -1;
    return 0;
}

void evt__ctl_workers_free(evt__ctl_t *b)
{
    evt_procpool_free(b->workers);
    b->workers = NULL;
    evt__threads_free(b->threads);
    b->threads = NULL;
}
