/* Tests of the controller's source/sink interface (src/batch/batch.h), as
 * the sources of src/broker use it: a sink is told each item's final
 * outcome once, after its retries, in order; a chunk source's chunks run
 * one at a time on each worker thread, their tasks are reported through
 * the sink and counted as read; a chunk that fails is not run again (only
 * a dead worker's chunk is); a task failing under halt now cancels the
 * chunks still running. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch.h"

#define N 100
#define TASKS 10 /* a chunk's tasks */

typedef struct src {
    uint64_t at, n;
    char buf[32];
    uint64_t sunk[N];      /* sink calls by item */
    int status[N];         /* the outcome the sink saw */
    uint64_t next_sunk;    /* the index the sink expects */
    int out_of_order;
    uint64_t results;      /* on_result calls */
} src_t;

static int next_item(void *self, const void **item, size_t *len)
{
    src_t *s = self;
    if (s->at == s->n)
        return 0;
    *len = (size_t)snprintf(s->buf, sizeof s->buf, "%llu",
                            (unsigned long long)s->at++);
    *item = s->buf;
    return 1;
}

static void count_result(const evt_batch_task_t *t, int status,
                         const void *res, size_t len, void *user)
{
    (void)t, (void)status, (void)res, (void)len;
    ((src_t *)user)->results++;
}

/* What a sink saw of item t: its order, how often, its outcome. */
static void note(src_t *s, const evt_batch_task_t *t, int status)
{
    if (t->index != s->next_sunk++)
        s->out_of_order++;
    s->sunk[t->index]++;
    s->status[t->index] = status;
}

/* A sink that checks the order, then reports the item as it is. */
static void sink_one(void *self, evt__ctl_t *b, const evt_batch_task_t *t,
                     int status, const void *res, size_t len)
{
    note(self, t, status);
    evt__batch_result(b, t, status, res, len);
}

/* Odd items fail their first attempt; item 50 fails every time. */
static int flaky(const evt_batch_task_t *t, void *out, size_t cap,
                 size_t *len, void *user)
{
    (void)user;
    long i = atol(t->item);
    evt_yield();
    if (i == 50)
        return errno = EIO, -1;
    if (i % 2 && t->attempt == 0)
        return errno = EAGAIN, -1;
    *len = (size_t)snprintf(out, cap, "%ld", i);
    return 0;
}

Test(batch_source, a_sink_sees_each_final_outcome_once_in_order)
{
    static src_t s;
    memset(&s, 0, sizeof s);
    s.n = N;
    evt_batch_opts_t o = {.coroutines = 8, .retries = 2, .ordered = 1,
                          .on_result = count_result, .user = &s};
    evt__source_t src = {.self = &s, .next = next_item, .sink = sink_one};
    evt_batch_report_t r;
    cr_assert_eq(evt__batch_run(&o, flaky, &src, &r, NULL), 0);
    cr_assert_eq(s.out_of_order, 0);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(s.sunk[i], 1, "item %d sunk %llu times", i,
                     (unsigned long long)s.sunk[i]);
        cr_assert_eq(s.status[i], i == 50 ? EIO : 0, "item %d", i);
    }
    cr_assert_eq(r.read, N);
    cr_assert_eq(r.ok, N - 1);
    cr_assert_eq(r.failed, 1);
    cr_assert_eq(r.retried, N / 2 + 2, "the odd ones once, item 50 twice");
    cr_assert_eq(s.results, N);
}

/* --- chunks ------------------------------------------------------------- */

static _Thread_local int busy;     /* chunks running on this thread */
static atomic_int overlapped;      /* a thread ran two chunks at once */
static atomic_int runs[N];         /* runs by chunk */
static int fail_chunk = -1;        /* this chunk fails (EIO) */
static int forever_from = N;       /* chunks from this one wait forever */

/* A chunk: TASKS tasks, timed 1 ms each. */
static int run_chunk(const evt_batch_task_t *t, void *out, size_t cap,
                     size_t *len, void *user)
{
    (void)user;
    int k = atoi(t->item), rc = 0;
    atomic_fetch_add(&runs[k], 1);
    if (++busy > 1)
        atomic_store(&overlapped, 1);
    if (k >= forever_from)
        rc = evt_sleep(-1) < 0 ? errno : EIO;
    else if (evt_sleep(evt_now() + 1) < 0)
        rc = errno;
    busy--;
    if (rc == 0 && k == fail_chunk)
        rc = EIO;
    if (rc || cap < sizeof(evt__hist_t))
        return errno = rc ? rc : EINVAL, -1;
    evt__hist_t h;
    memset(&h, 0, sizeof h);
    for (int i = 0; i < TASKS; i++)
        evt__hist_add(&h, 1000);
    memcpy(out, &h, sizeof h);
    *len = sizeof h;
    return 0;
}

/* Report a chunk's tasks (task 0 of chunk fail_task_of fails). */
static int fail_task_of = -1;
static void sink_chunk(void *self, evt__ctl_t *b, const evt_batch_task_t *c,
                       int status, const void *res, size_t len)
{
    note(self, c, status);
    if (status == 0 && len == sizeof(evt__hist_t))
        evt__batch_times(b, res);
    for (int i = 0; i < TASKS; i++) {
        evt_batch_task_t t = {c->index * TASKS + (uint64_t)i, "", 0, 0, 0};
        int st = status ? status
                 : (int)c->index == fail_task_of && i == 0 ? EIO
                                                            : 0;
        evt__batch_result(b, &t, st, NULL, 0);
    }
}

static void run_chunks(src_t *s, evt_batch_opts_t *o, evt_batch_report_t *r)
{
    memset(s, 0, sizeof *s);
    s->n = N;
    for (int i = 0; i < N; i++)
        runs[i] = 0;
    overlapped = 0;
    o->threads = 2;
    o->on_result = count_result;
    o->user = s;
    evt__source_t src = {.self = s, .next = next_item, .sink = sink_chunk,
                         .chunk_ahead = 2};
    cr_assert_eq(evt__batch_run(o, run_chunk, &src, r, NULL), 0, "%s",
                 strerror(errno));
    cr_assert_eq(s->out_of_order, 0, "chunks are reported in order");
    cr_assert_eq(s->results, r->read, "every task read is reported");
    cr_assert_eq(r->ok + r->failed, r->read);
}

Test(batch_source, chunks_run_alone_on_their_thread_and_report_their_tasks)
{
    static src_t s;
    evt_batch_opts_t o = {.coroutines = 8, .retries = 3};
    evt_batch_report_t r;
    fail_chunk = 7;
    run_chunks(&s, &o, &r);
    fail_chunk = -1;
    cr_assert_eq(overlapped, 0, "one chunk at a time on a thread");
    cr_assert_eq(r.read, N * TASKS);
    cr_assert_eq(r.failed, TASKS, "the failed chunk's tasks");
    cr_assert_eq(s.status[7], EIO);
    for (int i = 0; i < N; i++)
        cr_assert_eq(runs[i], 1, "chunk %d ran %d times", i, runs[i]);
    cr_assert_eq(r.retried, 0);
    cr_assert(r.p50_ms > 0.5 && r.p50_ms < 2, "the tasks' times: %f",
              r.p50_ms);
}

Test(batch_source, a_failed_task_under_halt_now_cancels_the_chunks_running)
{
    static src_t s;
    evt_batch_opts_t o = {.halt = EVT_HALT_NOW};
    evt_batch_report_t r;
    fail_task_of = 0;
    forever_from = 1;
    run_chunks(&s, &o, &r);
    fail_task_of = -1;
    forever_from = N;
    cr_assert_eq(r.halted, 1);
    cr_assert_lt(r.read, N * TASKS, "chunks not read are not reported");
    cr_assert_eq(s.status[0], 0);
    for (uint64_t i = 1; i < r.read / TASKS; i++)
        cr_assert_eq(s.status[i], ECANCELED, "chunk %llu",
                     (unsigned long long)i);
}
