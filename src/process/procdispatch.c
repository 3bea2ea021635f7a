/* The process pool's dispatch: the FIFO of jobs handed out a few at a
 * time to the worker with the fewest in flight (and up to opts.coroutines
 * more to one that runs that many at once), through the shared ring or the
 * socket, and the reader and writer coroutines that move a worker's frames
 * and give each result back to its job. Runs on the pool's thread. */
#define _GNU_SOURCE
#include "procengine.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* --- handing out jobs -------------------------------------------------- */

static void wake_writer(procworker_t *w)
{
    if (w->writer_parked) {
        w->writer_parked = 0;
        evt__unpark(w->writer, 0);
    }
}

/* Append a frame made of a (alen bytes) and b (blen) to w's output; -1
 * when out of memory. */
static int append(procworker_t *w, const void *a, size_t alen, const void *b,
                  size_t blen)
{
    if (evt__frame_buf_reserve(&w->out, alen + blen) < 0)
        return -1;
    memcpy(w->out.p + w->out.len, a, alen);
    if (blen)
        memcpy(w->out.p + w->out.len + alen, b, blen);
    w->out.len += alen + blen;
    return 0;
}

/* Send j to w as its job number seq: through the ring when it fits, else
 * by the writer (the worker takes jobs in order of seq from either); wake
 * the worker when it sleeps. -1 when out of memory. */
static int frame(procworker_t *w, evt__job_t *j, uint64_t seq)
{
    static const uint32_t wake_frame = 0;
    evt__job_hdr_t h = {
        .len = (uint32_t)(sizeof h - 4 + j->args_len),
        .nitems = j->nitems,
        .out_cap = j->out_cap,
        .stamp = w->pool->watchdog != NULL,
        .slot = j->slot,
        .seq = (uint32_t)seq,
        .fixed = (uint32_t)j->fixed,
        .item_size = j->item_size,
        .fn = (uint64_t)(uintptr_t)j->fn,
    };
    switch (evt__ring_put(w->page, EVT__JOBS, &h, sizeof h, j->args,
                          j->args_len)) {
    case 0:
        return 0;
    case 1:
        return append(w, &wake_frame, sizeof wake_frame, NULL, 0);
    default:
        return append(w, &h, sizeof h, j->args, j->args_len);
    }
}

/* Items to keep sent ahead to w (see AHEAD_NS). */
static size_t items_ahead(const procworker_t *w)
{
    uint32_t ns = atomic_load_explicit(&w->page->item_ns,
                                       memory_order_relaxed);
    return ns ? AHEAD_NS / ns : 0;
}

/* 1 when w may be sent another job now. */
static int has_room(const procworker_t *w)
{
    const evt_procpool_t *p = w->pool;
    uint64_t max = p->opts.max_tasks_per_child;
    return !w->quit && w->nfree && (!max || w->sent < max) &&
           (p->opts.coroutines > 1 || inflight(w) < MIN_AHEAD ||
            w->inflight_items < items_ahead(w));
}

/* Send w the job at the head of the queue (or drop it, when its future was
 * cancelled while queued). -1 when out of memory. */
static int send_one(procworker_t *w)
{
    evt_procpool_t *p = w->pool;
    evt__job_t *j = p->qhead;
    int cancelled = j->future && evt__future_start(j->future) < 0;
    if (!cancelled) {
        j->slot = w->free_slots[w->nfree - 1];
        if (frame(w, j, w->sent + 1) < 0)
            return -1;
    }
    p->qhead = j->next;
    if (!p->qhead)
        p->qtail = NULL;
    j->next = NULL;
    if (cancelled) {
        j->done(j, NULL, ECANCELED);
        return 0;
    }
    /* Started once: sent again after a death, it is running still. */
    j->future = NULL;
    j->seq = ++w->sent;
    w->sent_jobs[j->slot] = j;
    w->nfree--;
    w->inflight_items += j->nitems;
    return 0;
}

/* Hand the queue out, each job to the worker with the fewest in flight (so
 * that long jobs spread over every worker instead of waiting at the first
 * one); end a worker's input once it has nothing left to do and will get
 * nothing more. */
void evt__pool_kick(evt_procpool_t *p)
{
    while (p->qhead) {
        procworker_t *best = NULL;
        for (size_t i = 0; i < p->size; i++) {
            procworker_t *w = p->workers[i];
            if (w && has_room(w) && (!best || inflight(w) < inflight(best)))
                best = w;
        }
        if (!best || send_one(best) < 0)
            break;
    }
    uint64_t max = p->opts.max_tasks_per_child;
    for (size_t i = 0; i < p->size; i++) {
        procworker_t *w = p->workers[i];
        if (!w)
            continue;
        if (inflight(w) == 0 &&
            ((max && w->sent >= max) || (p->state != RUN && !p->qhead)))
            w->quit = 1;
        if (w->out.len || w->quit)
            wake_writer(w);
    }
}

/* --- a worker's coroutines ---------------------------------------------- */

/* Write frames as they come; after the last, end the worker's input. */
void *evt__pool_writer_main(void *arg)
{
    procworker_t *w = arg;
    for (;;) {
        while (!w->out.len) {
            if (w->quit) {
                shutdown(w->c.sock, SHUT_WR);
                return NULL;
            }
            w->writer_parked = 1;
            if (evt__wait(-1) == ECANCELED) {
                w->writer_parked = 0;
                return NULL;
            }
        }
        evt__frame_buf_t t = w->wr;
        w->wr = w->out;
        w->out = t;
        ssize_t n = evt_write(w->c.sock, w->wr.p, w->wr.len, -1);
        w->wr.len = 0;
        if (n < 0)
            return NULL; /* dead or cancelled: the keeper sorts it out */
    }
}

/* Hand the result frame at f to its job; -1 when there is no such job
 * (this worker is not ours). */
static int result(procworker_t *w, const unsigned char *f)
{
    evt__res_hdr_t h;
    memcpy(&h, f, sizeof h);
    evt__job_t *j = h.slot < table_size(w->pool) ? w->sent_jobs[h.slot] : NULL;
    if (!j || j->seq != h.seq)
        return -1;
    w->sent_jobs[h.slot] = NULL;
    w->free_slots[w->nfree++] = h.slot;
    w->inflight_items -= j->nitems;
    w->done++;
    j->next = NULL;
    j->done(j, f + sizeof(evt__res_hdr_t), 0);
    return 0;
}

/* Hand over the results in w's ring. 1 when there were some, 0 when none,
 * -1 when the ring holds something else. */
static int take_ring(procworker_t *w)
{
    int bad, some = 0;
    const unsigned char *f;
    while ((f = evt__ring_peek(w->page, EVT__RESULTS, &bad)) != NULL) {
        uint32_t flen;
        memcpy(&flen, f, 4);
        if (flen < sizeof(evt__res_hdr_t) - 4 || result(w, f) < 0)
            return -1;
        evt__ring_done(w->page, EVT__RESULTS, f);
        some = 1;
    }
    return bad ? -1 : some;
}

/* Hand over the whole result frames read from the socket (those that did
 * not fit the ring), skipping wake-ups (empty frames). -1 when one is not
 * a result of ours. */
static int take_read(procworker_t *w)
{
    evt__frame_buf_t *b = &w->in;
    size_t off = 0;
    uint32_t flen;
    int rc = 0;
    while (b->len - off >= 4) {
        memcpy(&flen, b->p + off, 4);
        if (b->len - off < 4 + (size_t)flen) {
            rc = evt__frame_buf_reserve(b, 4 + (size_t)flen);
            break;
        }
        if (flen && (flen < sizeof(evt__res_hdr_t) - 4 ||
                     result(w, b->p + off) < 0)) {
            rc = -1;
            break;
        }
        off += 4 + (size_t)flen;
    }
    memmove(b->p, b->p + off, b->len - off);
    b->len -= off;
    return rc;
}

/* Take results from the ring while there are some, then sleep on the
 * socket until the worker puts more in the ring, sends a result too large
 * for it, or dies; then read what it left. A result nobody asked for
 * means this worker is not ours: it is killed. */
void *evt__pool_reader_main(void *arg)
{
    procworker_t *w = arg;
    evt__frame_buf_t *b = &w->in;
    for (;;) {
        int r = take_ring(w);
        if (r < 0)
            break;
        if (r > 0) {
            evt__pool_kick(w->pool);
            evt_yield(); /* let the map take more before the next round */
            continue;
        }
        if (!evt__ring_sleep(w->page, EVT__RESULTS))
            continue;
        if (evt__frame_buf_reserve(b, 65536) < 0)
            break;
        ssize_t n = evt_read(w->c.sock, b->p + b->len, b->cap - b->len, -1);
        if (n <= 0) {
            /* The worker is gone; what it put in the ring is still there. */
            take_ring(w);
            return NULL;
        }
        b->len += (size_t)n;
        if (take_read(w) < 0)
            break;
        evt__pool_kick(w->pool);
    }
    evt__child_signal(&w->c, SIGKILL);
    return NULL;
}
