/* The child side of processes and pool workers: a fresh eventor scheduler,
 * then jobs read from the socket to the parent, each run on a coroutine
 * with a full-size stack (so a task may itself spawn coroutines, sleep, do
 * IO). A worker runs up to page->coroutines jobs at once (1: in the reading
 * coroutine itself, one after another), and hands each job's results back
 * as soon as it ends, through the ring of its page (ring.c). */
#define _GNU_SOURCE
#include "forkserver.h"
#include "../thread/thread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Tasks run on a stack as large as a thread's. */
#define TASK_STACK (8u << 20)

typedef struct child {
    int kind;
    int sock;
    evt__worker_page_t *page; /* NULL for a process */
    size_t coroutines;        /* jobs at once */
    int64_t timeout_ms;       /* coroutines > 1: cancel a task past it */
    evt__frame_buf_t in;      /* bytes read, the next frame at in.off */
    int eof;                  /* the socket is at its end */
    evt__frame_buf_t out;     /* results waiting to be written */
    evt__frame_buf_t wr;      /* results being written */
    int writing;              /* a coroutine is writing them */
    int broken;               /* a write failed: the parent is gone */
    evt_sem_t *room;          /* coroutines > 1: jobs that may start now */
    evt_group_t *jobs;        /* coroutines > 1: the running jobs */
    int code;                 /* exit code */
} child_t;

static uint32_t frame_seq(const unsigned char *f)
{
    evt__job_hdr_t h;
    memcpy(&h, f, sizeof h);
    return h.seq;
}

/* The next job frame, number seq: from the ring when it is there, else
 * from the socket (a job that did not fit the ring; empty frames there
 * only wake us up). *in_ring says where it is, for job_done. NULL at a
 * clean end of input (*end set) or on error. */
static const unsigned char *next_job(child_t *c, uint64_t seq, int *in_ring,
                                     int *end)
{
    evt__frame_buf_t *b = &c->in;
    for (;;) {
        int bad = 0;
        const unsigned char *f =
            c->page ? evt__ring_peek(c->page, EVT__JOBS, &bad) : NULL;
        if (bad)
            return NULL;
        if (f && frame_seq(f) == (uint32_t)seq) {
            *in_ring = 1;
            return f;
        }
        size_t have = b->len - b->off;
        uint32_t flen = 0;
        if (have >= 4) {
            memcpy(&flen, b->p + b->off, 4);
            if (flen == 0) {
                b->off += 4;
                continue;
            }
            if (have >= 4 + (size_t)flen) {
                if (flen < sizeof(evt__job_hdr_t) - 4 ||
                    (c->page && frame_seq(b->p + b->off) != (uint32_t)seq))
                    return NULL;
                *in_ring = 0;
                return b->p + b->off;
            }
        }
        if (c->eof) {
            *end = !f && have == 0;
            return NULL;
        }
        /* Sleep only when the ring is empty: a job in it that is not the
         * next one means the next one is on its way here. */
        if (!f && c->page && !evt__ring_sleep(c->page, EVT__JOBS))
            continue;
        if (b->off) {
            memmove(b->p, b->p + b->off, have);
            b->len = have;
            b->off = 0;
        }
        size_t want = have >= 4 ? 4 + (size_t)flen : 4096;
        if (evt__frame_buf_reserve(b, want < 65536 ? 65536 : want) < 0)
            return NULL;
        ssize_t n = evt_read(c->sock, b->p + b->len, b->cap - b->len, -1);
        if (n < 0)
            return NULL;
        /* At the end of input, what the ring still holds comes first. */
        c->eof = n == 0;
        b->len += (size_t)n;
    }
}

/* Release the job frame f, taken from next_job. */
static void job_done(child_t *c, const unsigned char *f, int in_ring)
{
    uint32_t flen;
    memcpy(&flen, f, 4);
    if (in_ring)
        evt__ring_done(c->page, EVT__JOBS, f);
    else
        c->in.off += 4 + (size_t)flen;
}

/* One task on a coroutine of its own, so that it can be cancelled at its
 * deadline without touching the job around it. */
typedef struct taskrun {
    evt_proc_fn fn;
    const void *in;
    size_t len;
    void *out;
    size_t cap;
    ssize_t r;
    int err;
} taskrun_t;

static void *task_main(void *arg)
{
    taskrun_t *t = arg;
    errno = 0;
    t->r = t->fn(t->in, t->len, t->out, t->cap);
    t->err = errno;
    return NULL;
}

/* Run one task; its result record at it. */
static void call(child_t *c, evt_proc_fn fn, const void *in, size_t len,
                 void *out, size_t cap, evt__res_item_t *it)
{
    ssize_t r;
    int err;
    if (c->coroutines > 1 && c->timeout_ms > 0) {
        taskrun_t t = {fn, in, len, out, cap, -1, 0};
        evt_co_t *co = evt_spawn(task_main, &t);
        if (!co) {
            *it = (evt__res_item_t){errno ? errno : ENOMEM, 0};
            return;
        }
        if (evt_join(co, evt_now() + c->timeout_ms, NULL) < 0) {
            evt_cancel(co);
            evt_join(co, -1, NULL);
            *it = (evt__res_item_t){ETIMEDOUT, 0};
            return;
        }
        r = t.r;
        err = t.err;
    } else {
        errno = 0;
        r = fn(in, len, out, cap);
        err = errno;
    }
    *it = (evt__res_item_t){0, 0};
    if (r < 0)
        it->err = err ? err : EIO;
    else if ((size_t)r > cap)
        it->err = EMSGSIZE;
    else
        it->len = (uint32_t)r;
    if (c->kind == EVT__CHILD_PROCESS)
        c->code = r < 0;
}

/* Run the job frame f (number seq) and append its results to out. */
static int run_job(child_t *c, const unsigned char *f, uint64_t seq,
                   evt__frame_buf_t *out)
{
    evt__job_hdr_t h;
    memcpy(&h, f, sizeof h);
    const unsigned char *end = f + 4 + h.len, *q = f + sizeof h;
    evt_proc_fn fn = (evt_proc_fn)(uintptr_t)h.fn;
    size_t start = out->len;
    if (evt__frame_buf_reserve(out, sizeof(evt__res_hdr_t)) < 0)
        return -1;
    out->len += sizeof(evt__res_hdr_t);
    if (h.fixed && (uint64_t)h.nitems * h.item_size != (uint64_t)(end - q))
        return -1;
    for (uint32_t i = 0; i < h.nitems; i++) {
        uint32_t len = h.item_size;
        if (!h.fixed) {
            if (end - q < 4)
                return -1;
            memcpy(&len, q, 4);
            q += 4;
            if ((size_t)(end - q) < len)
                return -1;
        }
        if (evt__frame_buf_reserve(out, sizeof(evt__res_item_t) + h.out_cap) < 0)
            return -1;
        if (c->page && h.stamp)
            atomic_store_explicit(&c->page->started_ms, evt_now(),
                                  memory_order_relaxed);
        unsigned char *o = out->p + out->len + sizeof(evt__res_item_t);
        evt__res_item_t it;
        call(c, fn, q, len, h.out_cap ? o : NULL, h.out_cap, &it);
        memcpy(out->p + out->len, &it, sizeof it);
        out->len += sizeof it + it.len;
        q += len;
    }
    evt__res_hdr_t rh = {.len = (uint32_t)(out->len - start - 4),
                         .nitems = h.nitems, .slot = h.slot, .seq = seq};
    memcpy(out->p + start, &rh, sizeof rh);
    return 0;
}

/* Hand the result frames in b to the parent: into the ring while they fit
 * (a worker's), the others on the socket. */
static void send_frames(child_t *c, const evt__frame_buf_t *b)
{
    size_t off = 0;
    int wake = 0;
    while (c->page && off < b->len) {
        uint32_t flen;
        memcpy(&flen, b->p + off, 4);
        int r = evt__ring_put(c->page, EVT__RESULTS, b->p + off,
                              4 + (size_t)flen, NULL, 0);
        if (r < 0)
            break;
        wake |= r;
        off += 4 + (size_t)flen;
    }
    static const uint32_t wake_frame = 0;
    const void *rest = b->p + off;
    size_t len = b->len - off;
    if (!len && wake) {
        rest = &wake_frame;
        len = sizeof wake_frame;
    }
    if (len && evt_write(c->sock, rest, len, -1) < 0)
        c->broken = 1;
}

/* Send what is in out. One coroutine sends at a time; results that finish
 * meanwhile go out with its next round. */
static void flush(child_t *c)
{
    if (c->writing)
        return;
    c->writing = 1;
    while (c->out.len && !c->broken) {
        evt__frame_buf_t t = c->wr;
        c->wr = c->out;
        c->out = t;
        send_frames(c, &c->wr);
        c->wr.len = 0;
    }
    c->writing = 0;
}

/* Say that job seq runs now: the parent fails the jobs a dead worker had
 * started and sends the others elsewhere. */
static void started(child_t *c, uint64_t seq)
{
    if (c->page)
        atomic_store_explicit(&c->page->started, seq, memory_order_release);
}

/* A job running beside others: its own copy of the frame and results. */
typedef struct jobrun {
    child_t *c;
    uint64_t seq;
    evt__frame_buf_t res;
    unsigned char frame[];
} jobrun_t;

static void *job_main(void *arg)
{
    jobrun_t *j = arg;
    child_t *c = j->c;
    /* Jobs start in the order they were spawned (the run queue is FIFO),
     * so started only grows. */
    started(c, j->seq);
    if (run_job(c, j->frame, j->seq, &j->res) < 0
        || evt__frame_buf_reserve(&c->out, j->res.len) < 0) {
        c->broken = 1;
    } else {
        memcpy(c->out.p + c->out.len, j->res.p, j->res.len);
        c->out.len += j->res.len;
        flush(c);
    }
    free(j->res.p);
    free(j);
    evt_sem_release(c->room);
    return NULL;
}

/* Start the job frame f on a coroutine of its own, once there is room
 * (a free coroutine of the c->coroutines). */
static int spawn_job(child_t *c, const unsigned char *f, uint64_t seq)
{
    uint32_t flen;
    memcpy(&flen, f, 4);
    if (evt_sem_acquire(c->room, -1) < 0)
        return -1;
    jobrun_t *j = malloc(sizeof *j + 4 + (size_t)flen);
    if (!j) {
        evt_sem_release(c->room);
        return -1;
    }
    *j = (jobrun_t){.c = c, .seq = seq};
    memcpy(j->frame, f, 4 + (size_t)flen);
    if (!evt_group_spawn(c->jobs, job_main, j)) {
        free(j);
        evt_sem_release(c->room);
        return -1;
    }
    return 0;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Run the job frame f (number seq) here and send its results. Every 16th
 * job is timed, to tell the parent how many items to send ahead. */
static int run_here(child_t *c, const unsigned char *f, uint64_t seq)
{
    int timed = c->page && seq % 16 == 1;
    int64_t t0 = timed ? now_ns() : 0;
    started(c, seq);
    if (run_job(c, f, seq, &c->out) < 0)
        return -1;
    if (timed) {
        evt__job_hdr_t h;
        memcpy(&h, f, sizeof h);
        uint64_t ns = (uint64_t)(now_ns() - t0) / (h.nitems ? h.nitems : 1);
        if (ns > UINT32_MAX)
            ns = UINT32_MAX;
        /* 0 would read as "not known yet". */
        atomic_store_explicit(&c->page->item_ns, ns ? (uint32_t)ns : 1,
                              memory_order_relaxed);
    }
    /* Sent at once, so that every result the parent lacks when this
     * worker dies belongs to a job it never finished. */
    flush(c);
    return 0;
}

static void *child_loop(void *arg)
{
    child_t *c = arg;
    for (uint64_t seq = 1; !c->broken; seq++) {
        int in_ring = 0, end = 0;
        const unsigned char *f = next_job(c, seq, &in_ring, &end);
        if (!f) {
            c->code = !end;
            break;
        }
        if (c->kind == EVT__CHILD_PROCESS) {
            if (run_job(c, f, seq, &c->out) < 0)
                c->broken = 1;
            return NULL;
        }
        if (c->coroutines > 1 ? spawn_job(c, f, seq) : run_here(c, f, seq))
            c->broken = 1;
        job_done(c, f, in_ring);
    }
    if (c->jobs)
        evt_group_join(c->jobs, -1);
    if (c->broken)
        c->code = 1;
    return NULL;
}

_Noreturn void evt__child_main(int kind, int sock, int memfd)
{
    child_t c = {.kind = kind, .sock = sock, .code = 1, .coroutines = 1};
    /* A child that starts threads (a lookup, say) does not get a fork
     * server of its own for it; evt_forkserver_start still makes one. */
    evt__before_first_thread = NULL;
    if (memfd >= 0) {
        void *p = mmap(NULL, EVT__PAGE_BYTES, PROT_READ | PROT_WRITE,
                       MAP_SHARED, memfd, 0);
        close(memfd);
        if (p == MAP_FAILED)
            _exit(1);
        c.page = p;
        if (c.page->coroutines > 1) {
            c.coroutines = c.page->coroutines;
            c.timeout_ms = c.page->timeout_ms;
            c.room = evt_sem_new((unsigned)c.coroutines);
            c.jobs = evt_group_new();
            if (!c.room || !c.jobs)
                _exit(1);
        }
    }
    if (kind == EVT__CHILD_PROCESS)
        evt__process_adopt_conns(sock);
    /* Every coroutine here gets such a stack, from the scheduler's pool. */
    if (evt_set_stack_size(TASK_STACK) < 0)
        _exit(1);
    evt_co_t *co = evt_spawn(child_loop, &c);
    if (co)
        evt_join(co, -1, NULL);
    /* Not exit(): the atexit handlers and leak checks of the parent's
     * copy must not run here; the child's own output must be written. */
    fflush(NULL);
    _exit(c.code);
}
