/* Tests of a batch over an IPC queue: messages consumed as they come until
 * the queue is closed, with results and deadlines going on while the batch
 * waits for the next message; several consumer processes sharing a queue
 * (each message once); a worker SIGKILLed on a message (it runs again on
 * another worker, nothing lost or done twice); and bad input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eventor.h"

#include "../common/workers.h"

#define N 300
#define HANG 1000 /* the message that hangs */

/* Shared with worker processes: how often each message was consumed, and
 * the message whose first attempt kills its worker (-1 none). */
static _Atomic uint32_t *consumed;
static _Atomic int *kill_at;

__attribute__((constructor(200))) static void make_shared(void)
{
    consumed = evt_ipc_array_new(N, sizeof *consumed);
    kill_at = evt_ipc_array_new(1, sizeof *kill_at);
    *kill_at = -1;
}

static int add_ten(const evt_batch_task_t *t, void *out, size_t cap,
                   size_t *len, void *user)
{
    (void)user;
    int v = atoi(t->item);
    if (v == HANG) /* until its deadline */
        return evt_sleep(evt_now() + 30000);
    if (v == *kill_at && t->attempt == 0)
        raise(SIGKILL);
    if (v >= 0 && v < N)
        atomic_fetch_add(&consumed[v], 1);
    *len = (size_t)snprintf(out, cap, "%d", v + 10);
    return 0;
}

typedef struct seen {
    int reported[N];
    int status[N];
    int value[N];
    int results;          /* reports so far */
    evt_event_t *first;   /* set at the first report */
    int timed_out;        /* reports with ETIMEDOUT */
} seen_t;

static void record(const evt_batch_task_t *t, int status, const void *res,
                   size_t len, void *user)
{
    seen_t *s = user;
    s->results++;
    if (s->first)
        evt_event_set(s->first);
    if (status == ETIMEDOUT)
        s->timed_out++;
    if (t->index >= N)
        return;
    s->reported[t->index]++;
    s->status[t->index] = status;
    char buf[32];
    snprintf(buf, sizeof buf, "%.*s", (int)len, (const char *)res);
    s->value[t->index] = atoi(buf);
}

static void put(evt_ipc_queue_t *q, int v)
{
    char msg[16];
    int n = snprintf(msg, sizeof msg, "%d", v);
    cr_assert_eq(evt_ipc_queue_put(q, msg, (size_t)n, evt_now() + 10000), 0);
}

typedef struct feed {
    evt_ipc_queue_t *q;
    seen_t *s;
} feed_t;

/* Puts one message, waits until the batch has reported it (so the batch
 * must report while it waits for the next message), then the rest. */
static void *producer(void *arg)
{
    feed_t *f = arg;
    put(f->q, 0);
    cr_assert_eq(evt_event_wait(f->s->first, evt_now() + 10000), 0,
                 "no result while the batch waits for the queue");
    for (int i = 1; i < N; i++)
        put(f->q, i);
    evt_ipc_queue_close(f->q);
    return NULL;
}

static void reset(seen_t *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < N; i++)
        consumed[i] = 0;
}

Test(broker_queue, results_come_while_waiting_for_messages)
{
    static seen_t s;
    reset(&s);
    s.first = evt_event_new();
    evt_ipc_queue_t *q = evt_ipc_queue_new(8, 16);
    feed_t f = {q, &s};
    evt_co_t *co = evt_spawn(producer, &f);
    evt_batch_opts_t o = {.coroutines = 4, .ordered = 1, .on_result = record,
                          .user = &s};
    evt_batch_report_t r;
    cr_assert_eq(evt_batch_run_queue(&o, add_ten, q, &r), 0);
    cr_assert_eq(evt_join(co, -1, NULL), 0);
    cr_assert_eq(r.read, N);
    cr_assert_eq(r.ok, N);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(s.reported[i], 1);
        cr_assert_eq(s.value[i], i + 10);
    }
    evt_event_free(s.first);
    evt_ipc_queue_free(q);
}

/* A message that hangs times out while the queue is empty and open: the
 * deadline is kept while the batch waits for the source. */
static void *close_after_timeout(void *arg)
{
    feed_t *f = arg;
    put(f->q, HANG);
    cr_assert_eq(evt_event_wait(f->s->first, evt_now() + 10000), 0);
    evt_ipc_queue_close(f->q);
    return NULL;
}

Test(broker_queue, deadline_while_waiting_for_messages)
{
    static seen_t s;
    reset(&s);
    s.first = evt_event_new();
    evt_ipc_queue_t *q = evt_ipc_queue_new(8, 16);
    feed_t f = {q, &s};
    evt_co_t *co = evt_spawn(close_after_timeout, &f);
    evt_batch_opts_t o = {.coroutines = 2, .task_timeout_ms = 50,
                          .on_result = record, .user = &s};
    evt_batch_report_t r;
    cr_assert_eq(evt_batch_run_queue(&o, add_ten, q, &r), 0);
    cr_assert_eq(evt_join(co, -1, NULL), 0);
    cr_assert_eq(r.read, 1);
    cr_assert_eq(s.timed_out, 1);
    evt_event_free(s.first);
    evt_ipc_queue_free(q);
}

/* K consumer processes share one queue: each message is consumed once. */
Test(broker_queue, consumer_processes_share_a_queue)
{
    enum { K = 3 };
    evt_ipc_queue_t *q = evt_ipc_queue_new(16, 16);
    _Atomic int *counts = evt_ipc_array_new(K, sizeof *counts);
    cr_assert(q && counts);
    for (int i = 0; i < N; i++)
        consumed[i] = 0;
    pid_t pids[K];
    for (int k = 0; k < K; k++) {
        pids[k] = fork();
        cr_assert_geq(pids[k], 0);
        if (pids[k] == 0) {
            evt_batch_opts_t o = {.coroutines = 4};
            evt_batch_report_t r;
            int rc = evt_batch_run_queue(&o, add_ten, q, &r);
            counts[k] = (int)r.ok;
            _exit(rc == 0 && r.failed == 0 ? 0 : 1);
        }
    }
    for (int i = 0; i < N; i++)
        put(q, i);
    evt_ipc_queue_close(q);
    int total = 0;
    for (int k = 0; k < K; k++) {
        int st;
        cr_assert_eq(waitpid(pids[k], &st, 0), pids[k]);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        total += counts[k];
    }
    cr_assert_eq(total, N);
    for (int i = 0; i < N; i++)
        cr_assert_eq(consumed[i], 1, "message %d consumed %u times", i,
                     consumed[i]);
    evt_ipc_array_free(counts);
    evt_ipc_queue_free(q);
}

/* With processes, messages are taken here: a worker killed on one loses
 * nothing; the message runs again on another worker. */
static void *fill(void *arg)
{
    evt_ipc_queue_t *q = arg;
    for (int i = 0; i < N; i++)
        put(q, i);
    evt_ipc_queue_close(q);
    return NULL;
}

Test(broker_queue, killed_worker_loses_no_message)
{
    static seen_t s;
    reset(&s);
    *kill_at = 17;
    evt_ipc_queue_t *q = evt_ipc_queue_new(8, 16);
    evt_co_t *co = evt_spawn(fill, q);
    evt_batch_opts_t o = {.processes = 2, .coroutines = 3, .retries = 1,
                          .on_result = record, .user = &s};
    evt_batch_report_t r;
    cr_assert_eq(evt_batch_run_queue(&o, add_ten, q, &r), 0);
    *kill_at = -1;
    cr_assert_eq(evt_join(co, -1, NULL), 0);
    cr_assert_eq(r.ok, N, "%llu failed", (unsigned long long)r.failed);
    cr_assert_geq(r.retried, 1);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(s.reported[i], 1);
        cr_assert_eq(consumed[i], 1, "message %d consumed %u times", i,
                     consumed[i]);
    }
    evt_ipc_queue_free(q);
}

Test(broker_queue, closed_empty_queue_and_bad_input)
{
    evt_ipc_queue_t *q = evt_ipc_queue_new(4, 8);
    evt_ipc_queue_close(q);
    evt_batch_report_t r;
    cr_assert_eq(evt_batch_run_queue(NULL, add_ten, q, &r), 0);
    cr_assert_eq(r.read, 0);
    errno = 0;
    cr_assert_eq(evt_batch_run_queue(NULL, add_ten, NULL, &r), -1);
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_eq(evt_batch_run_queue(NULL, NULL, q, &r), -1);
    cr_assert_eq(errno, EINVAL);
    evt_ipc_queue_free(q);
}
