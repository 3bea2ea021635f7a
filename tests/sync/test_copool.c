/* Tests of coroutine pools: bounded concurrency, spawn waiting for a slot
 * (deadline, order, cancel), map in input order, imap_unordered, per-task
 * maximum time, progress hook, kill, join, free with running tasks, bad
 * arguments, and a million tasks through a pool of a thousand. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "eventor.h"

static int inside, most_inside, finished, cancelled;

static void reset(void)
{
    inside = most_inside = finished = cancelled = 0;
}

static void *yield_a_bit(void *arg)
{
    if (++inside > most_inside)
        most_inside = inside;
    for (intptr_t i = 0; i < (intptr_t)arg % 5 + 1; i++)
        evt_yield();
    inside--;
    finished++;
    return (void *)((intptr_t)arg * 2);
}

static void *wait_event(void *arg)
{
    if (evt_event_wait(arg, -1) < 0 && errno == ECANCELED)
        cancelled++;
    finished++;
    return NULL;
}

static void *sleep_long(void *arg)
{
    if (evt_sleep(evt_now() + 100000) < 0 && errno == ECANCELED)
        cancelled++;
    finished++;
    return arg;
}

static int join_rc(evt_co_t *co)
{
    void *r;
    cr_assert_eq(evt_join(co, -1, &r), 0);
    return (int)(intptr_t)r;
}

Test(copool, bounds_concurrency)
{
    reset();
    evt_copool_t *p = evt_copool_new(3, NULL);
    cr_assert_not_null(p);
    for (intptr_t i = 0; i < 30; i++)
        cr_assert_eq(evt_copool_spawn(p, yield_a_bit, (void *)i, -1), 0);
    cr_assert_eq(evt_copool_join(p, -1), 0);
    cr_assert_eq(most_inside, 3);
    cr_assert_eq(finished, 30);
    cr_assert_eq(evt_copool_done(p), 30);
    cr_assert_eq(evt_copool_failed(p), 0);
    cr_assert_eq(evt_copool_running(p), 0);
    cr_assert_eq(evt_copool_free(p), 0);
}

Test(copool, spawn_waits_for_a_slot_until_its_deadline)
{
    reset();
    evt_copool_t *p = evt_copool_new(1, NULL);
    evt_event_t *ev = evt_event_new();
    cr_assert_eq(evt_copool_spawn(p, wait_event, ev, -1), 0);
    cr_assert_eq(evt_copool_spawn(p, wait_event, ev, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    int64_t t0 = evt_now();
    cr_assert_eq(evt_copool_spawn(p, wait_event, ev, t0 + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_geq(evt_now() - t0, 19);
    cr_assert_eq(evt_copool_running(p), 1);
    evt_event_set(ev);
    cr_assert_eq(evt_copool_spawn(p, wait_event, ev, -1), 0);
    cr_assert_eq(evt_copool_join(p, -1), 0);
    cr_assert_eq(finished, 2);
    evt_copool_free(p);
    evt_event_free(ev);
}

static int order[16], order_len;

static void *record(void *arg)
{
    order[order_len++] = (int)(intptr_t)arg;
    return NULL;
}

typedef struct spawn_op {
    evt_copool_t *p;
    evt_fn fn;
    void *arg;
    int64_t deadline;
} spawn_op_t;

static void *do_spawn(void *arg)
{
    spawn_op_t *o = arg;
    return (void *)(intptr_t)(evt_copool_spawn(o->p, o->fn, o->arg,
                                               o->deadline) < 0 ? errno : 0);
}

Test(copool, waiting_spawners_are_served_in_order)
{
    reset();
    order_len = 0;
    evt_copool_t *p = evt_copool_new(1, NULL);
    evt_event_t *ev = evt_event_new();
    evt_copool_spawn(p, wait_event, ev, -1);
    enum { N = 5 };
    spawn_op_t o[N];
    evt_co_t *co[N];
    for (int i = 0; i < N; i++) {
        o[i] = (spawn_op_t){p, record, (void *)(intptr_t)i, -1};
        co[i] = evt_spawn(do_spawn, &o[i]);
    }
    evt_yield();
    evt_event_set(ev);
    for (int i = 0; i < N; i++)
        cr_assert_eq(join_rc(co[i]), 0);
    cr_assert_eq(evt_copool_join(p, -1), 0);
    cr_assert_eq(order_len, N);
    for (int i = 0; i < N; i++)
        cr_assert_eq(order[i], i);
    evt_copool_free(p);
    evt_event_free(ev);
}

Test(copool, cancel_while_waiting_for_a_slot)
{
    reset();
    evt_copool_t *p = evt_copool_new(1, NULL);
    evt_event_t *ev = evt_event_new();
    evt_copool_spawn(p, wait_event, ev, -1);
    spawn_op_t o = {p, wait_event, ev, -1};
    evt_co_t *a = evt_spawn(do_spawn, &o), *b = evt_spawn(do_spawn, &o);
    evt_yield();
    /* The task finishes before a runs: its slot must skip a (cancelled,
     * still queued) and go to b, not vanish with a. */
    evt_event_set(ev);
    evt_cancel(a);
    cr_assert_eq(join_rc(a), ECANCELED);
    cr_assert_eq(join_rc(b), 0);
    cr_assert_eq(evt_copool_join(p, -1), 0);
    cr_assert_eq(finished, 2);
    evt_copool_free(p);
    evt_event_free(ev);
}

Test(copool, map_keeps_input_order)
{
    reset();
    evt_copool_t *p = evt_copool_new(4, NULL);
    enum { N = 100 };
    void *args[N], *results[N];
    int errs[N];
    for (intptr_t i = 0; i < N; i++)
        args[i] = (void *)(N - i); /* later items finish first */
    cr_assert_eq(evt_copool_map(p, yield_a_bit, args, results, errs, N), 0);
    for (intptr_t i = 0; i < N; i++) {
        cr_assert_eq((intptr_t)results[i], 2 * (N - i));
        cr_assert_eq(errs[i], 0);
    }
    cr_assert_eq(most_inside, 4);
    cr_assert_eq(evt_copool_map(p, yield_a_bit, args, NULL, NULL, 0), 0);
    cr_assert_eq(evt_copool_map(p, yield_a_bit, NULL, results, NULL, 3), 0);
    cr_assert_null(results[0]);
    evt_copool_free(p);
}

typedef struct seen {
    int count[64];
    int calls;
    evt_co_t *caller;
    int wrong_caller;
    int wrong_result;
    int errs;
} seen_t;

static void on_result(size_t index, void *result, int err, void *user)
{
    seen_t *s = user;
    s->count[index]++;
    s->calls++;
    if (evt_self() != s->caller)
        s->wrong_caller = 1;
    if (!err && (intptr_t)result != 2 * (intptr_t)index)
        s->wrong_result = 1;
    if (err)
        s->errs++;
    evt_yield(); /* callbacks may block; tasks go on meanwhile */
}

Test(copool, imap_unordered_reports_each_item_once_in_the_caller)
{
    reset();
    evt_copool_t *p = evt_copool_new(4, NULL);
    enum { N = 64 };
    void *args[N];
    for (intptr_t i = 0; i < N; i++)
        args[i] = (void *)i;
    seen_t s = {.caller = evt_self()};
    cr_assert_eq(evt_copool_imap_unordered(p, yield_a_bit, args, N, on_result,
                                           &s), 0);
    cr_assert_eq(s.calls, N);
    for (int i = 0; i < N; i++)
        cr_assert_eq(s.count[i], 1);
    cr_assert_not(s.wrong_caller);
    cr_assert_not(s.wrong_result);
    cr_assert_eq(s.errs, 0);
    cr_assert_eq(evt_copool_running(p), 0);
    evt_copool_free(p);
}

static void *odd_ones_hang(void *arg)
{
    intptr_t i = (intptr_t)arg;
    if (i % 2) {
        int rc = evt_sleep(evt_now() + 100000);
        return (void *)(intptr_t)(rc < 0 ? -errno : 0);
    }
    evt_yield();
    return (void *)(i * 2);
}

Test(copool, max_task_time_cancels_stuck_tasks)
{
    evt_copool_opts_t opts = {.max_task_ms = 30};
    evt_copool_t *p = evt_copool_new(10, &opts);
    enum { N = 20 };
    void *args[N], *results[N];
    int errs[N];
    for (intptr_t i = 0; i < N; i++)
        args[i] = (void *)i;
    /* Twice: the watchdog goes idle in between and must wake again. */
    for (int round = 0; round < 2; round++) {
        int64_t t0 = evt_now();
        cr_assert_eq(evt_copool_map(p, odd_ones_hang, args, results, errs, N),
                     0);
        int64_t took = evt_now() - t0;
        cr_assert(took >= 29 && took < 5000, "took %lld ms", (long long)took);
        for (intptr_t i = 0; i < N; i++) {
            if (i % 2) {
                cr_assert_eq(errs[i], ETIMEDOUT, "item %ld", (long)i);
                /* The task saw its sleep cancelled. */
                cr_assert_eq((intptr_t)results[i], -ECANCELED);
            } else {
                cr_assert_eq(errs[i], 0);
                cr_assert_eq((intptr_t)results[i], 2 * i);
            }
        }
    }
    cr_assert_eq(evt_copool_failed(p), N);
    /* A spawned task stuck in evt_sleep is cancelled as well. */
    reset();
    cr_assert_eq(evt_copool_spawn(p, sleep_long, NULL, -1), 0);
    cr_assert_eq(evt_copool_join(p, evt_now() + 5000), 0);
    cr_assert_eq(cancelled, 1);
    cr_assert_eq(evt_copool_failed(p), N + 1);
    cr_assert_eq(evt_copool_free(p), 0);
}

static uint64_t hook_done[16], hook_failed[16];
static int hook_calls;

static void hook(uint64_t done, uint64_t failed, void *user)
{
    *(int *)user += 1;
    hook_done[hook_calls] = done;
    hook_failed[hook_calls] = failed;
    hook_calls++;
}

static void *some_hang(void *arg)
{
    if ((intptr_t)arg % 19 == 0)
        return sleep_long(NULL);
    return yield_a_bit(arg);
}

Test(copool, progress_every_n_tasks)
{
    reset();
    hook_calls = 0;
    int user = 0;
    /* 500 ms: far above a quick task's time, even on a loaded machine */
    evt_copool_opts_t opts = {.max_task_ms = 500, .log_every_n = 10,
                              .progress = hook, .progress_user = &user};
    evt_copool_t *p = evt_copool_new(8, &opts);
    for (intptr_t i = 0; i < 95; i++)
        cr_assert_eq(evt_copool_spawn(p, some_hang, (void *)i, -1), 0);
    cr_assert_eq(evt_copool_join(p, -1), 0);
    cr_assert_eq(hook_calls, 9);
    cr_assert_eq(user, 9);
    for (int k = 0; k < 9; k++) {
        cr_assert_eq(hook_done[k], (uint64_t)(10 * (k + 1)));
        cr_assert(k == 0 || hook_failed[k] >= hook_failed[k - 1]);
    }
    cr_assert_eq(evt_copool_failed(p), 5); /* 0, 19, 38, 57, 76 */
    evt_copool_free(p);
}

Test(copool, default_progress_writes_a_line_to_stderr)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fds[1], 2);
    evt_copool_opts_t opts = {.log_every_n = 2};
    evt_copool_t *p = evt_copool_new(2, &opts);
    for (intptr_t i = 0; i < 4; i++)
        evt_copool_spawn(p, yield_a_bit, (void *)i, -1);
    evt_copool_join(p, -1);
    evt_copool_free(p);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fds[1]);
    char buf[512] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    cr_assert_gt(n, 0);
    cr_assert(strstr(buf, "2 tasks done, 0 failed") != NULL, "got: %s", buf);
    cr_assert(strstr(buf, "4 tasks done, 0 failed") != NULL, "got: %s", buf);
}

Test(copool, kill_cancels_tasks_and_waiting_spawners)
{
    reset();
    evt_copool_t *p = evt_copool_new(2, NULL);
    evt_copool_spawn(p, sleep_long, NULL, -1);
    evt_copool_spawn(p, sleep_long, NULL, -1);
    spawn_op_t o = {p, sleep_long, NULL, -1};
    evt_co_t *co[3];
    for (int i = 0; i < 3; i++)
        co[i] = evt_spawn(do_spawn, &o);
    evt_yield();
    evt_copool_kill(p);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(join_rc(co[i]), ECANCELED);
    cr_assert_eq(evt_copool_join(p, evt_now() + 5000), 0);
    cr_assert_eq(finished, 2);
    cr_assert_eq(cancelled, 2);
    cr_assert_eq(evt_copool_failed(p), 2);
    /* Still usable. */
    cr_assert_eq(evt_copool_spawn(p, yield_a_bit, NULL, -1), 0);
    cr_assert_eq(evt_copool_join(p, -1), 0);
    cr_assert_eq(finished, 3);
    cr_assert_eq(evt_copool_failed(p), 2);
    evt_copool_free(p);
}

typedef struct map_op {
    evt_copool_t *p;
    evt_fn fn;
    size_t n;
    void *results[10];
    int errs[10];
} map_op_t;

static void *do_map(void *arg)
{
    map_op_t *m = arg;
    void *args[10];
    for (intptr_t i = 0; i < 10; i++)
        args[i] = (void *)(i + 1);
    return (void *)(intptr_t)(evt_copool_map(m->p, m->fn, args, m->results,
                                             m->errs, m->n) < 0 ? errno : 0);
}

Test(copool, kill_stops_a_map)
{
    reset();
    evt_copool_t *p = evt_copool_new(2, NULL);
    map_op_t m = {.p = p, .fn = sleep_long, .n = 10};
    evt_co_t *co = evt_spawn(do_map, &m);
    evt_yield(); /* two started, the map waits for a slot */
    cr_assert_eq(evt_copool_running(p), 2);
    evt_copool_kill(p);
    cr_assert_eq(join_rc(co), ECANCELED);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(m.errs[i], ECANCELED);
    cr_assert_eq((intptr_t)m.results[0], 1); /* started: its own result */
    cr_assert_null(m.results[9]);            /* never started */
    cr_assert_eq(finished, 2);
    cr_assert_eq(evt_copool_running(p), 0);
    evt_copool_free(p);
}

Test(copool, cancelled_map_caller_leaves_no_task_behind)
{
    reset();
    evt_copool_t *p = evt_copool_new(3, NULL);
    map_op_t m = {.p = p, .fn = sleep_long, .n = 10};
    evt_co_t *co = evt_spawn(do_map, &m);
    evt_yield();
    evt_cancel(co);
    cr_assert_eq(join_rc(co), ECANCELED);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(m.errs[i], ECANCELED);
    cr_assert_eq(finished, 3);
    cr_assert_eq(cancelled, 3);
    cr_assert_eq(evt_copool_running(p), 0);
    /* Cancelled while waiting for its last tasks, likewise. */
    reset();
    m.n = 2;
    co = evt_spawn(do_map, &m);
    evt_yield();
    evt_cancel(co);
    cr_assert_eq(join_rc(co), ECANCELED);
    cr_assert_eq(finished, 2);
    cr_assert_eq(evt_copool_running(p), 0);
    evt_copool_free(p);
}

typedef struct imap_op {
    evt_copool_t *p;
    seen_t s;
} imap_op_t;

static void *do_imap(void *arg)
{
    imap_op_t *m = arg;
    m->s.caller = evt_self();
    return (void *)(intptr_t)(evt_copool_imap_unordered(m->p, sleep_long,
                                                        NULL, 20, on_result,
                                                        &m->s) < 0 ? errno
                                                                   : 0);
}

Test(copool, cancelled_imap_still_reports_every_item)
{
    reset();
    evt_copool_t *p = evt_copool_new(4, NULL);
    imap_op_t m = {.p = p};
    evt_co_t *co = evt_spawn(do_imap, &m);
    evt_yield();
    evt_cancel(co);
    cr_assert_eq(join_rc(co), ECANCELED);
    cr_assert_eq(m.s.calls, 20);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(m.s.count[i], 1);
    cr_assert_eq(m.s.errs, 20);
    cr_assert_not(m.s.wrong_caller);
    cr_assert_eq(evt_copool_running(p), 0);
    evt_copool_free(p);
}

typedef struct join_op {
    evt_copool_t *p;
    int64_t deadline;
} join_op_t;

static void *do_join(void *arg)
{
    join_op_t *o = arg;
    return (void *)(intptr_t)(evt_copool_join(o->p, o->deadline) < 0 ? errno
                                                                      : 0);
}

Test(copool, join_deadline_and_cancel)
{
    reset();
    evt_copool_t *p = evt_copool_new(2, NULL);
    evt_event_t *ev = evt_event_new();
    cr_assert_eq(evt_copool_join(p, 0), 0); /* idle */
    evt_copool_spawn(p, wait_event, ev, -1);
    int64_t t0 = evt_now();
    cr_assert_eq(evt_copool_join(p, t0 + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_geq(evt_now() - t0, 19);
    join_op_t o = {p, -1};
    evt_co_t *a = evt_spawn(do_join, &o), *b = evt_spawn(do_join, &o);
    evt_yield();
    evt_cancel(a);
    cr_assert_eq(join_rc(a), ECANCELED);
    evt_event_set(ev);
    cr_assert_eq(join_rc(b), 0);
    evt_copool_free(p);
    evt_event_free(ev);
}

Test(copool, free_cancels_and_waits_for_running_tasks)
{
    reset();
    evt_copool_opts_t opts = {.max_task_ms = 100000};
    evt_copool_t *p = evt_copool_new(5, &opts);
    evt_event_t *ev = evt_event_new();
    for (int i = 0; i < 5; i++)
        evt_copool_spawn(p, i % 2 ? sleep_long : wait_event, ev, -1);
    spawn_op_t o = {p, sleep_long, NULL, -1};
    evt_co_t *sp = evt_spawn(do_spawn, &o);
    join_op_t j = {p, -1};
    evt_co_t *jo = evt_spawn(do_join, &j);
    evt_yield();
    cr_assert_eq(evt_copool_free(p), 0);
    cr_assert_eq(finished, 5);
    cr_assert_eq(cancelled, 5);
    cr_assert_eq(join_rc(sp), ECANCELED);
    cr_assert_eq(join_rc(jo), 0);
    cr_assert_eq(evt_event_free(ev), 0);
    cr_assert_eq(evt_copool_free(NULL), 0);
}

static void *pool_owner(void *arg)
{
    evt_event_t *never = arg;
    evt_copool_t *p = evt_copool_new(4, NULL);
    for (int i = 0; i < 4; i++)
        evt_copool_spawn(p, sleep_long, NULL, -1);
    int rc = evt_event_wait(never, -1) < 0 ? errno : 0;
    evt_copool_free(p);
    return (void *)(intptr_t)(rc == ECANCELED && finished == 4);
}

Test(copool, free_in_a_cancelled_coroutine_still_waits)
{
    reset();
    evt_event_t *never = evt_event_new();
    evt_co_t *co = evt_spawn(pool_owner, never);
    evt_yield();
    evt_cancel(co);
    cr_assert_eq(join_rc(co), 1);
    cr_assert_eq(finished, 4);
    evt_event_free(never);
}

Test(copool, free_during_a_map_is_ebusy)
{
    reset();
    evt_copool_t *p = evt_copool_new(1, NULL);
    evt_event_t *ev = evt_event_new();
    map_op_t m = {.p = p, .fn = yield_a_bit, .n = 1};
    /* The only slot is taken until ev is set: the map waits for it. */
    evt_copool_spawn(p, wait_event, ev, -1);
    evt_co_t *co = evt_spawn(do_map, &m);
    evt_yield();
    cr_assert_eq(evt_copool_free(p), -1);
    cr_assert_eq(errno, EBUSY);
    evt_event_set(ev);
    cr_assert_eq(join_rc(co), 0);
    cr_assert_eq(evt_copool_free(p), 0);
    evt_event_free(ev);
}

static evt_copool_t *the_pool;

static void *free_own_pool(void *arg)
{
    *(int *)arg = evt_copool_free(the_pool) < 0 ? errno : 0;
    return NULL;
}

static int respawn_rc;

static void *respawner(void *arg)
{
    (void)arg;
    evt_sleep(-1); /* until the pool's free cancels it */
    respawn_rc = evt_copool_spawn(the_pool, yield_a_bit, NULL, -1) < 0 ? errno
                                                                       : 0;
    return NULL;
}

Test(copool, free_from_a_task_and_spawn_while_freeing)
{
    the_pool = evt_copool_new(2, NULL);
    int rc = -1;
    evt_copool_spawn(the_pool, free_own_pool, &rc, -1);
    cr_assert_eq(evt_copool_join(the_pool, -1), 0);
    cr_assert_eq(rc, EDEADLK);
    respawn_rc = 0;
    evt_copool_spawn(the_pool, respawner, NULL, -1);
    evt_yield();
    cr_assert_eq(evt_copool_free(the_pool), 0);
    cr_assert_eq(respawn_rc, ECANCELED);
}

static void noop_cb(size_t i, void *r, int e, void *u)
{
    (void)i, (void)r, (void)e, (void)u;
}

Test(copool, bad_arguments)
{
    cr_assert_null(evt_copool_new(0, NULL));
    cr_assert_eq(errno, EINVAL);
    evt_copool_opts_t opts = {.max_task_ms = -1};
    cr_assert_null(evt_copool_new(1, &opts));
    cr_assert_eq(errno, EINVAL);
    evt_copool_t *p = evt_copool_new(1, NULL);
    cr_assert_eq(evt_copool_spawn(NULL, yield_a_bit, NULL, 0), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_copool_spawn(p, NULL, NULL, 0), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_copool_map(p, NULL, NULL, NULL, NULL, 1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_copool_map(NULL, yield_a_bit, NULL, NULL, NULL, 1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_copool_imap_unordered(p, yield_a_bit, NULL, 1, NULL,
                                           NULL), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_copool_imap_unordered(p, NULL, NULL, 1, noop_cb, NULL),
                 -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_copool_join(NULL, 0), -1);
    cr_assert_eq(errno, EINVAL);
    evt_copool_kill(NULL);
    cr_assert_eq(evt_copool_running(NULL), 0);
    evt_copool_free(p);
}

static uint64_t stress_done;

static void *stress_task(void *arg)
{
    (void)arg;
    evt_yield(); /* so that the thousand really run together */
    stress_done++;
    return NULL;
}

Test(copool, a_million_tasks_through_a_thousand_slots)
{
#if defined(EVT_TSAN) /* a TSan fiber per coroutine: 100k is enough there */
    enum { N = 100000 };
#else
    enum { N = 1000000 };
#endif
    stress_done = 0;
    evt_copool_t *p = evt_copool_new(1000, NULL);
    int64_t t0 = evt_now();
    for (int i = 0; i < N; i++)
        if (evt_copool_spawn(p, stress_task, NULL, -1) < 0)
            cr_assert_fail("spawn %d: %s", i, strerror(errno));
    cr_assert_eq(evt_copool_join(p, -1), 0);
    cr_assert_eq(stress_done, N);
    cr_assert_eq(evt_copool_done(p), N);
    cr_log_info("%d tasks through 1000 slots: %lld ms", N,
                (long long)(evt_now() - t0));
    cr_assert_eq(evt_copool_free(p), 0);
}

Test(copool, map_of_a_hundred_thousand)
{
    enum { N = 100000 };
    static void *args[N], *results[N];
    static int errs[N];
    for (intptr_t i = 0; i < N; i++)
        args[i] = (void *)i;
    reset();
    evt_copool_t *p = evt_copool_new(500, NULL);
    cr_assert_eq(evt_copool_map(p, yield_a_bit, args, results, errs, N), 0);
    for (intptr_t i = 0; i < N; i++)
        if ((intptr_t)results[i] != 2 * i || errs[i])
            cr_assert_fail("item %ld", (long)i);
    cr_assert_eq(most_inside, 500);
    evt_copool_free(p);
}
