/* The child side of processes and pool workers: a fresh eventor scheduler,
 * then jobs read from the socket to the parent, each task run on a
 * coroutine with a full-size stack (so a task may itself spawn coroutines,
 * sleep, do IO), each job's results written back as soon as it ends. */
#define _GNU_SOURCE
#include "forkserver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Tasks run on a stack as large as a thread's. */
#define TASK_STACK (8u << 20)

typedef struct child {
    int kind;
    int sock;
    evt__worker_page_t *page; /* NULL for a process */
    evt__frame_buf_t in, out;
    int code; /* exit code */
} child_t;

/* Make the next whole frame readable at in.p + in.off. 1 when there is
 * one, 0 at a clean end of input, -1 on error. */
static int next_frame(child_t *c)
{
    evt__frame_buf_t *b = &c->in;
    for (;;) {
        size_t have = b->len - b->off;
        uint32_t flen;
        if (have >= 4) {
            memcpy(&flen, b->p + b->off, 4);
            if (have >= 4 + (size_t)flen)
                return 1;
        }
        if (b->off) {
            memmove(b->p, b->p + b->off, have);
            b->len = have;
            b->off = 0;
        }
        size_t want = have >= 4 ? 4 + (size_t)flen : 4096;
        if (evt__frame_buf_reserve(b, want < 65536 ? 65536 : want) < 0)
            return -1;
        ssize_t n = evt_read(c->sock, b->p + b->len, b->cap - b->len, -1);
        if (n <= 0)
            return n == 0 && have == 0 ? 0 : -1;
        b->len += (size_t)n;
    }
}

/* Run the job at in.p + in.off and append its results to out. */
static int run_job(child_t *c, uint64_t seq)
{
    const unsigned char *f = c->in.p + c->in.off;
    evt__job_hdr_t h;
    memcpy(&h, f, sizeof h);
    const unsigned char *end = f + 4 + h.len, *q = f + sizeof h;
    evt_proc_fn fn = (evt_proc_fn)(uintptr_t)h.fn;
    size_t start = c->out.len;
    if (evt__frame_buf_reserve(&c->out, sizeof(evt__res_hdr_t)) < 0)
        return -1;
    c->out.len += sizeof(evt__res_hdr_t);
    for (uint32_t i = 0; i < h.nitems; i++) {
        uint32_t len;
        if (q + 4 > end)
            return -1;
        memcpy(&len, q, 4);
        q += 4;
        if ((size_t)(end - q) < len)
            return -1;
        if (evt__frame_buf_reserve(&c->out, sizeof(evt__res_item_t) + h.out_cap) < 0)
            return -1;
        if (c->page) {
            if (h.stamp)
                atomic_store_explicit(&c->page->started_ms, evt_now(),
                                      memory_order_relaxed);
            if (i == 0)
                atomic_store_explicit(&c->page->started, seq,
                                      memory_order_release);
        }
        unsigned char *o = c->out.p + c->out.len + sizeof(evt__res_item_t);
        errno = 0;
        ssize_t r = fn(q, len, h.out_cap ? o : NULL, h.out_cap);
        evt__res_item_t it = {0, 0};
        if (r < 0)
            it.err = errno ? errno : EIO;
        else if ((size_t)r > h.out_cap)
            it.err = EMSGSIZE;
        else
            it.len = (uint32_t)r;
        if (c->kind == EVT__CHILD_PROCESS)
            c->code = r < 0;
        memcpy(c->out.p + c->out.len, &it, sizeof it);
        c->out.len += sizeof it + it.len;
        q += len;
    }
    evt__res_hdr_t rh = {(uint32_t)(c->out.len - start - 4), h.nitems};
    memcpy(c->out.p + start, &rh, sizeof rh);
    c->in.off += 4 + (size_t)h.len;
    return 0;
}

static void *child_loop(void *arg)
{
    child_t *c = arg;
    for (uint64_t seq = 1;; seq++) {
        int r = next_frame(c);
        if (r <= 0) {
            c->code = r < 0;
            return NULL;
        }
        if (run_job(c, seq) < 0) {
            c->code = 1;
            return NULL;
        }
        if (c->kind == EVT__CHILD_PROCESS)
            return NULL;
        /* One write per job, so that every result the parent lacks when
         * this worker dies belongs to a job it never finished. */
        if (evt_write(c->sock, c->out.p, c->out.len, -1) < 0) {
            c->code = 1;
            return NULL;
        }
        c->out.len = 0;
    }
}

_Noreturn void evt__child_main(int kind, int sock, int memfd)
{
    child_t c = {.kind = kind, .sock = sock, .code = 1};
    if (memfd >= 0) {
        void *p = mmap(NULL, sizeof *c.page, PROT_READ | PROT_WRITE,
                       MAP_SHARED, memfd, 0);
        close(memfd);
        if (p == MAP_FAILED)
            _exit(1);
        c.page = p;
    }
    evt_co_attr_t attr = {.stack_size = TASK_STACK};
    evt_co_t *co = evt_spawn_attr(child_loop, &c, &attr);
    if (co)
        evt_join(co, -1, NULL);
    /* Not exit(): the atexit handlers and leak checks of the parent's
     * copy must not run here; the child's own output must be written. */
    fflush(NULL);
    _exit(c.code);
}
