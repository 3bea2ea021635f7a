/* Tests of the batch engine on worker processes: the seed's multi-consumer
 * scenario (every item consumed exactly once by one of K processes), P x C
 * attempts at once, a consumer killed mid-item (its item goes to another,
 * nothing lost or done twice), and a per-attempt deadline, kept by
 * cancelling the attempt (C > 1) or killing the worker (C = 1). */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eventor.h"

#include "../common/workers.h"
#include "../common/callback.h"

#define N 9
/* Shared with the workers, which are copies of this process from before
 * the tests: how often each item was consumed, and per test the item whose
 * first attempt kills its worker (ctl[KILL]) or hangs (ctl[HANG]), -1 none,
 * and whether every attempt meets the others at the barrier (ctl[MEET]). */
static _Atomic uint32_t *consumed;
static _Atomic int *ctl;
static evt_ipc_barrier_t *together;
enum { KILL, HANG, MEET };

#define P 2
#define C 4

__attribute__((constructor(200))) static void make_shared(void)
{
    consumed = evt_ipc_array_new(N, sizeof *consumed);
    ctl = evt_ipc_array_new(3, sizeof *ctl);
    ctl[KILL] = ctl[HANG] = -1;
    ctl[MEET] = 0;
    together = evt_ipc_barrier_new(P * C);
}

static int consume(const evt_batch_task_t *t, void *out, size_t cap,
                   size_t *len, void *user)
{
    (void)user;
    if ((int)t->index == ctl[KILL] && t->attempt == 0)
        raise(SIGKILL);
    /* With fewer than P x C attempts at once, this times out (the deadline
     * only keeps a broken engine from hanging the test). */
    if (ctl[MEET] && (int)t->index < P * C
        && evt_ipc_barrier_wait(together, evt_now() + 10000) < 0)
        return -1;
    if ((int)t->index == ctl[HANG])
        evt_sleep(evt_now() + 60000); /* (forever would be a deadlock) */
    atomic_fetch_add(&consumed[t->index], 1);
    *len = (size_t)snprintf(out, cap, "%ld deal with %s", (long)getpid(),
                            (const char *)t->item);
    return 0;
}

typedef struct seen {
    int reported[N], status[N];
    unsigned attempt[N];
    long pid[N];
} seen_t;

static void record(const evt_batch_task_t *t, int status, const void *res,
                   size_t len, void *user)
{
    seen_t *s = user;
    s->reported[t->index]++;
    s->status[t->index] = status;
    s->attempt[t->index] = t->attempt;
    if (status == 0) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.*s", (int)len, (const char *)res);
        s->pid[t->index] = atol(buf);
    }
}

static const char *const DATALIST[N] = {"1", "2", "5", "3", "6",
                                        "8", "23", "data", "232"};

static void run(seen_t *s, evt_batch_opts_t *o, evt_batch_report_t *r)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < N; i++)
        consumed[i] = 0;
    o->on_result = record;
    o->user = s;
    cr_assert_eq(evt_batch_run_array(o, consume, (const void *const *)DATALIST,
                                     NULL, N, r), 0);
}

Test(batch_processes, seed_multi_consumer)
{
    cr_assert(consumed && ctl);
    seen_t s;
    evt_batch_report_t r;
    evt_batch_opts_t o = {.processes = 4, .coroutines = 4};
    run(&s, &o, &r);
    cr_assert_eq(r.ok, N);
    long pids[N];
    int npids = 0;
    for (int i = 0; i < N; i++) {
        cr_assert_eq(s.reported[i], 1);
        cr_assert_eq(consumed[i], 1, "item %d consumed %u times", i,
                     consumed[i]);
        cr_assert_neq(s.pid[i], (long)getpid());
        int known = 0;
        for (int k = 0; k < npids; k++)
            known |= pids[k] == s.pid[i];
        if (!known)
            pids[npids++] = s.pid[i];
    }
    cr_assert_leq(npids, 4);
}

Test(batch_processes, killed_consumer_loses_nothing)
{
    seen_t s;
    evt_batch_report_t r;
    ctl[KILL] = 3;
    evt_batch_opts_t o = {.processes = 2, .coroutines = 2, .retries = 1};
    run(&s, &o, &r);
    ctl[KILL] = -1;
    cr_assert_eq(r.ok, N);
    cr_assert_eq(r.retried, 1);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(s.reported[i], 1);
        cr_assert_eq(consumed[i], 1);
    }
    cr_assert_eq(s.attempt[3], 1);

    /* Without a retry the item reports how its worker died. */
    ctl[KILL] = 5;
    o.retries = 0;
    run(&s, &o, &r);
    ctl[KILL] = -1;
    cr_assert_eq(r.failed, 1);
    cr_assert_eq(s.status[5], EVT_ESIGNALED(SIGKILL));
    cr_assert_eq(consumed[5], 0);
}

Test(batch_processes, p_times_c_attempts_at_once)
{
    seen_t s;
    evt_batch_report_t r;
    ctl[MEET] = 1;
    evt_batch_opts_t o = {.processes = P, .coroutines = C};
    run(&s, &o, &r);
    ctl[MEET] = 0;
    cr_assert_eq(r.ok, N, "%llu failed", (unsigned long long)r.failed);
    int per_pid = 0;
    for (int i = 0; i < P * C; i++)
        per_pid += s.pid[i] == s.pid[0];
    cr_assert_eq(per_pid, C, "each worker runs C of the first P x C");
}

Test(batch_processes, deadline_cancels_the_attempt_or_kills_the_worker)
{
    for (size_t c = 1; c <= 2; c++) {
        seen_t s;
        evt_batch_report_t r;
        ctl[HANG] = 2;
        evt_batch_opts_t o = {.processes = 2, .coroutines = c,
                              .task_timeout_ms = 50};
        run(&s, &o, &r);
        ctl[HANG] = -1;
        cr_assert_eq(r.ok, N - 1, "coroutines %zu", c);
        cr_assert_eq(s.status[2], ETIMEDOUT, "status %d", s.status[2]);
    }
}

Test(batch_processes,
     a_failure_is_minus_one_and_errno_and_a_long_result_fails)
{
    cb_check((evt_batch_opts_t){.processes = 2, .coroutines = 2});
}
