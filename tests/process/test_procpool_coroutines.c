/* Tests of process pool workers that run several tasks at once
 * (evt_procpool_opts_t.coroutines): tasks of one worker run together, a
 * late task is cancelled without killing its worker, and a worker killed
 * with several tasks running fails exactly those and requeues the ones it
 * had not started. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "eventor.h"

#include "../common/workers.h"

/* Shared with the workers through the arena; the pointer travels in each
 * item, since workers are copies of the fork server, which predates it. */
static evt_ipc_barrier_t *together;

/* Item: what to do, and the barrier. Result: the worker's pid. */
enum { PID, MEET, MEET_THEN_HANG, MEET_THEN_DIE, HANG };
typedef struct item {
    int what;
    evt_ipc_barrier_t *together;
} item_t;

static ssize_t work(const void *in, size_t len, void *out, size_t cap)
{
    item_t it;
    if (len != sizeof it || cap < sizeof(int))
        return errno = EINVAL, -1;
    memcpy(&it, in, sizeof it);
    int what = it.what;
    /* The deadline only keeps a broken pool from hanging the test: with
     * fewer tasks at once than parties, the barrier times out. */
    if ((what == MEET || what == MEET_THEN_HANG || what == MEET_THEN_DIE)
        && evt_ipc_barrier_wait(it.together, evt_now() + 10000) < 0)
        return -1;
    if (what == MEET_THEN_DIE)
        raise(SIGKILL);
    if (what == MEET_THEN_HANG || what == HANG)
        if (evt_sleep(-1) < 0)
            return -1;
    int pid = (int)getpid();
    memcpy(out, &pid, sizeof pid);
    return sizeof pid;
}

static evt_future_t *submit(evt_procpool_t *p, int what, int *out)
{
    item_t it = {what, together};
    evt_future_t *f = evt_procpool_apply_async(p, work, &it, sizeof it, out,
                                               sizeof *out, NULL, NULL, NULL);
    cr_assert_not_null(f, "apply_async: %s", strerror(errno));
    return f;
}

static int outcome(evt_future_t *f)
{
    cr_assert_eq(evt_future_wait(f, evt_now() + 20000), 0, "never done");
    int err = evt_future_err(f);
    evt_future_free(f);
    return err;
}

Test(procpool_coroutines, tasks_of_one_worker_run_at_once)
{
    enum { C = 16 };
    together = evt_ipc_barrier_new(C);
    evt_procpool_opts_t o = {.coroutines = C};
    evt_procpool_t *p = evt_procpool_new(1, &o);
    cr_assert_not_null(p);
    int pid[C];
    evt_future_t *f[C];
    for (int i = 0; i < C; i++)
        f[i] = submit(p, MEET, &pid[i]);
    for (int i = 0; i < C; i++) {
        cr_assert_eq(outcome(f[i]), 0, "task %d failed", i);
        cr_assert_eq(pid[i], pid[0]);
    }
    cr_assert_eq(evt_procpool_free(p), 0);
    evt_ipc_barrier_free(together);
}

Test(procpool_coroutines, a_late_task_is_cancelled_and_its_worker_lives)
{
    evt_procpool_opts_t o = {.coroutines = 4, .task_timeout_ms = 100};
    evt_procpool_t *p = evt_procpool_new(1, &o);
    cr_assert_not_null(p);
    int before = 0, hung = 0, after = 0;
    cr_assert_eq(outcome(submit(p, PID, &before)), 0);
    evt_future_t *h = submit(p, HANG, &hung);
    evt_future_t *a = submit(p, PID, &after);
    cr_assert_eq(outcome(a), 0, "a task beside the late one must finish");
    cr_assert_eq(outcome(h), ETIMEDOUT);
    cr_assert_eq(outcome(submit(p, PID, &after)), 0);
    cr_assert_eq(before, after, "the worker must not be replaced");
    cr_assert_eq(evt_procpool_free(p), 0);
}

Test(procpool_coroutines, a_killed_worker_fails_what_it_ran_and_requeues_the_rest)
{
    enum { C = 4, QUEUED = 6 };
    together = evt_ipc_barrier_new(C);
    evt_procpool_opts_t o = {.coroutines = C};
    evt_procpool_t *p = evt_procpool_new(1, &o);
    cr_assert_not_null(p);
    int pid[C + QUEUED];
    evt_future_t *f[C + QUEUED];
    for (int i = 0; i < C; i++)
        f[i] = submit(p, i == C - 1 ? MEET_THEN_DIE : MEET_THEN_HANG,
                      &pid[i]);
    for (int i = C; i < C + QUEUED; i++)
        f[i] = submit(p, PID, &pid[i]);
    for (int i = 0; i < C; i++)
        cr_assert_eq(outcome(f[i]), EVT_ESIGNALED(SIGKILL),
                     "running task %d", i);
    for (int i = C; i < C + QUEUED; i++) {
        cr_assert_eq(outcome(f[i]), 0, "queued task %d", i);
        cr_assert_eq(pid[i], pid[C]);
    }
    cr_assert_eq(evt_procpool_free(p), 0);
    evt_ipc_barrier_free(together);
}

Test(procpool_coroutines, too_many_is_einval)
{
    evt_procpool_opts_t o = {.coroutines = 65537};
    errno = 0;
    cr_assert_null(evt_procpool_new(1, &o));
    cr_assert_eq(errno, EINVAL);
}
