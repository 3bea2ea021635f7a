/* Tests of the process pool: apply, map (chunks of 1 and auto), imap in
 * order and unordered, task errors, a worker killed or crashing or exiting
 * mid-map, per-task timeout, retries, max tasks per child, terminate with
 * queued tasks, close and join, cancelled callers, coroutines in tasks, a
 * parent with threads, bad arguments. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "eventor.h"

#include "../common/workers.h"

/* Item: an int. Result: the int doubled; some items do something else. */
enum { KILL = -1, SEGV = -2, EXIT3 = -3, HANG = -4, ENOENT_ = -5, BIG = -6,
       PID = -7 };

static ssize_t work(const void *in, size_t len, void *out, size_t cap)
{
    int x;
    if (len != sizeof x)
        return errno = EINVAL, -1;
    memcpy(&x, in, sizeof x);
    switch (x) {
    case KILL:
        raise(SIGKILL);
        break;
    case SEGV:
        /* A plain death, not a sanitizer's report. */
        signal(SIGSEGV, SIG_DFL);
        *(volatile int *)mmap(NULL, 4096, PROT_NONE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) = 1;
        break;
    case EXIT3:
        _exit(3);
    case HANG:
        for (;;)
            pause();
    case ENOENT_:
        errno = ENOENT;
        return -1;
    case BIG:
        return (ssize_t)cap + 1;
    case PID:
        x = (int)getpid();
        memcpy(out, &x, sizeof x);
        return sizeof x;
    }
    if (cap < sizeof x)
        return errno = ENOSPC, -1;
    x *= 2;
    memcpy(out, &x, sizeof x);
    return sizeof x;
}

static int apply_int(evt_procpool_t *p, int x, int *res, int64_t deadline)
{
    ssize_t n = evt_procpool_apply(p, work, &x, sizeof x, res, sizeof *res,
                                   deadline);
    if (n < 0)
        return errno;
    cr_assert_eq(n, (ssize_t)sizeof *res);
    return 0;
}

Test(procpool, apply_and_task_errors)
{
    evt_procpool_t *p = evt_procpool_new(2, NULL);
    cr_assert_not_null(p, "new: %s", strerror(errno));
    int r = 0;
    cr_assert_eq(apply_int(p, 21, &r, -1), 0);
    cr_assert_eq(r, 42);
    cr_assert_eq(apply_int(p, ENOENT_, &r, -1), ENOENT);
    cr_assert_eq(apply_int(p, BIG, &r, -1), EMSGSIZE);
    cr_assert_eq(apply_int(p, KILL, &r, -1), EVT_ESIGNALED(SIGKILL));
    cr_assert(EVT_IS_SIGNALED(EVT_ESIGNALED(SIGKILL)));
    cr_assert_eq(EVT_ERR_CODE(EVT_ESIGNALED(SIGKILL)), SIGKILL);
    cr_assert_eq(apply_int(p, SEGV, &r, -1), EVT_ESIGNALED(SIGSEGV));
    cr_assert_eq(apply_int(p, EXIT3, &r, -1), EVT_EEXITED(3));
    cr_assert(EVT_IS_EXITED(EVT_EEXITED(3)));
    /* The dead workers were replaced. */
    cr_assert_eq(apply_int(p, 5, &r, -1), 0);
    cr_assert_eq(r, 10);
    /* A deadline leaves the task running and drops its result. */
    cr_assert_eq(apply_int(p, HANG, &r, evt_now() + 20), ETIMEDOUT);
    cr_assert_eq(evt_procpool_free(p), 0);
}

static void check_map(size_t n, size_t chunksize, int kill_at)
{
    evt_procpool_t *p = evt_procpool_new(2, NULL);
    int *in = malloc(n * sizeof *in), *out = calloc(n, sizeof *out);
    int *errs = malloc(n * sizeof *errs);
    size_t *lens = malloc(n * sizeof *lens);
    for (size_t i = 0; i < n; i++)
        in[i] = (int)i == kill_at ? KILL : (int)i;
    cr_assert_eq(evt_procpool_map(p, work, in, sizeof *in, n, out,
                                  sizeof *out, lens, errs, chunksize), 0);
    for (size_t i = 0; i < n; i++) {
        if ((int)i == kill_at) {
            cr_assert_eq(errs[i], EVT_ESIGNALED(SIGKILL));
            continue;
        }
        cr_assert_eq(errs[i], 0, "item %zu: %d", i, errs[i]);
        cr_assert_eq(lens[i], sizeof(int));
        cr_assert_eq(out[i], 2 * (int)i);
    }
    cr_assert_eq(evt_procpool_close(p), 0);
    cr_assert_eq(evt_procpool_join(p, -1), 0);
    cr_assert_eq(evt_procpool_free(p), 0);
    free(in);
    free(out);
    free(errs);
    free(lens);
}

Test(procpool, map_in_order)
{
    check_map(5000, 1, -1);
    check_map(5000, 0, -1);
    check_map(5000, 7, -1);
    check_map(0, 0, -1);
}

Test(procpool, worker_killed_during_map)
{
    /* Only the task that was running fails; the rest succeed. */
    check_map(2000, 1, 777);
}

typedef struct stream {
    int next, n;
    int cur; /* the item given last */
    int seen[600];
    int last;
    int stop_at;
} stream_t;

static int next_int(const void **in, size_t *len, void *user)
{
    stream_t *s = user;
    if (s->next == s->n)
        return 0;
    s->cur = s->next++;
    *in = &s->cur;
    *len = sizeof(int);
    return 1;
}

static int got(size_t index, int err, const void *out, size_t len,
               void *user)
{
    stream_t *s = user;
    cr_assert_eq(err, 0);
    cr_assert_eq(len, sizeof(int));
    int v;
    memcpy(&v, out, sizeof v);
    cr_assert_eq(v, 2 * (int)index);
    s->seen[index]++;
    s->last = (int)index;
    return (int)index == s->stop_at;
}

static int in_order(size_t index, int err, const void *out, size_t len,
                    void *user)
{
    stream_t *s = user;
    cr_assert_eq((int)index, s->last + 1);
    return got(index, err, out, len, user);
}

Test(procpool, imap_ordered_and_unordered)
{
    evt_procpool_t *p = evt_procpool_new(3, NULL);
    static stream_t s;
    s = (stream_t){.n = 600, .last = -1, .stop_at = -1};
    cr_assert_eq(evt_procpool_imap(p, work, next_int, in_order, &s, 0), 0);
    for (int i = 0; i < 600; i++)
        cr_assert_eq(s.seen[i], 1);
    s = (stream_t){.n = 600, .last = -1, .stop_at = -1};
    cr_assert_eq(evt_procpool_imap_unordered(p, work, next_int, got, &s, 4),
                 0);
    for (int i = 0; i < 600; i++)
        cr_assert_eq(s.seen[i], 1);
    /* A callback that says stop stops the map. */
    s = (stream_t){.n = 10000000, .last = -1, .stop_at = 10};
    cr_assert_eq(evt_procpool_imap(p, work, next_int, in_order, &s, 1), -1);
    cr_assert_eq(errno, ECANCELED);
    cr_assert_eq(s.last, 10);
    cr_assert_lt(s.next, 10000000, "the input was not read whole");
    evt_procpool_free(p);
}

/* Item i: a result of i KiB (up to 399, beyond the 256 KiB ring that
 * results take when they fit), each byte (i + offset) & 0xff; KILL dies. */
static ssize_t sized(const void *in, size_t len, void *out, size_t cap)
{
    int i;
    memcpy(&i, in, sizeof i);
    if (i == KILL)
        raise(SIGKILL);
    size_t n = (size_t)i << 10;
    if (len != sizeof i || n > cap)
        return errno = EINVAL, -1;
    for (size_t k = 0; k < n; k++)
        ((unsigned char *)out)[k] = (unsigned char)(i + k);
    return (ssize_t)n;
}

Test(procpool, results_larger_than_the_ring_and_a_full_ring)
{
    enum { N = 400, CAP = N << 10 };
    evt_procpool_t *p = evt_procpool_new(2, NULL);
    int *in = malloc(N * sizeof *in), *errs = malloc(N * sizeof *errs);
    size_t *lens = malloc(N * sizeof *lens);
    unsigned char *out = malloc((size_t)N * CAP);
    cr_assert(p && in && errs && lens && out);
    for (int kill_at = -1; kill_at <= 250; kill_at += 251) {
        for (int i = 0; i < N; i++)
            in[i] = i == kill_at ? KILL : i;
        cr_assert_eq(evt_procpool_map(p, sized, in, sizeof *in, N, out, CAP,
                                      lens, errs, 1), 0);
        for (int i = 0; i < N; i++) {
            if (i == kill_at) {
                cr_assert_eq(errs[i], EVT_ESIGNALED(SIGKILL));
                continue;
            }
            cr_assert_eq(errs[i], 0, "item %d: %d", i, errs[i]);
            cr_assert_eq(lens[i], (size_t)i << 10);
            const unsigned char *o = out + (size_t)i * CAP;
            for (size_t k = 0; k < lens[i]; k += 997)
                cr_assert_eq(o[k], (unsigned char)(i + k), "item %d", i);
        }
    }
    evt_procpool_free(p);
    free(in);
    free(errs);
    free(lens);
    free(out);
}

static int *map_errs(evt_procpool_t *p, const int *in, size_t n)
{
    static int out[64], errs[64];
    cr_assert_eq(evt_procpool_map(p, work, in, sizeof *in, n, out,
                                  sizeof *out, NULL, errs, 1), 0);
    return errs;
}

Test(procpool, crashes_exits_and_timeouts_in_a_map)
{
    evt_procpool_opts_t o = {.task_timeout_ms = 200};
    evt_procpool_t *p = evt_procpool_new(2, &o);
    int in[8] = {1, SEGV, 2, EXIT3, 3, HANG, 4, 5};
    int *errs = map_errs(p, in, 8);
    cr_assert_eq(errs[1], EVT_ESIGNALED(SIGSEGV));
    cr_assert_eq(errs[3], EVT_EEXITED(3), "%x", errs[3]);
    cr_assert_eq(errs[5], ETIMEDOUT);
    for (int i = 0; i < 8; i += 2)
        cr_assert_eq(errs[i], 0);
    cr_assert_eq(errs[7], 0);
    evt_procpool_free(p);
}

static char marker[64];

/* Dies the first time it runs, succeeds the second. */
static ssize_t die_once(const void *in, size_t len, void *out, size_t cap)
{
    (void)in, (void)len, (void)out, (void)cap;
    int fd = open(marker, O_CREAT | O_EXCL | O_WRONLY, 0600);
    if (fd >= 0)
        raise(SIGKILL);
    return 0;
}

Test(procpool, retries)
{
    snprintf(marker, sizeof marker, "/tmp/evt-procpool-%d", (int)getpid());
    unlink(marker);
    evt_procpool_opts_t o = {.retries = 1};
    evt_procpool_t *p = evt_procpool_new(1, &o);
    cr_assert_eq(evt_procpool_apply(p, die_once, NULL, 0, NULL, 0, -1), 0);
    unlink(marker);
    evt_procpool_free(p);
}

Test(procpool, max_tasks_per_child)
{
    evt_procpool_opts_t o = {.max_tasks_per_child = 2};
    evt_procpool_t *p = evt_procpool_new(2, &o);
    enum { N = 20 };
    int in[N], out[N], errs[N];
    for (int i = 0; i < N; i++)
        in[i] = PID;
    cr_assert_eq(evt_procpool_map(p, work, in, sizeof(int), N, out,
                                  sizeof(int), NULL, errs, 1), 0);
    int distinct = 0;
    for (int i = 0; i < N; i++) {
        cr_assert_eq(errs[i], 0);
        int same = 0, first = 1;
        for (int k = 0; k < N; k++) {
            same += out[k] == out[i];
            if (k < i && out[k] == out[i])
                first = 0;
        }
        cr_assert_leq(same, 2, "pid %d ran %d tasks", out[i], same);
        distinct += first;
    }
    cr_assert_geq(distinct, N / 2);
    evt_procpool_free(p);
}

typedef struct mapper {
    evt_procpool_t *p;
    int in[50], out[50], errs[50];
    int rc, err;
} mapper_t;

static void *do_map(void *arg)
{
    mapper_t *m = arg;
    m->rc = evt_procpool_map(m->p, work, m->in, sizeof(int), 50, m->out,
                             sizeof(int), NULL, m->errs, 1);
    m->err = errno;
    return NULL;
}

Test(procpool, terminate_with_queued_tasks)
{
    evt_procpool_t *p = evt_procpool_new(1, NULL);
    static mapper_t m;
    m.p = p;
    for (int i = 0; i < 50; i++)
        m.in[i] = HANG;
    evt_co_t *co = evt_spawn(do_map, &m);
    evt_yield();
    cr_assert_eq(evt_procpool_join(p, 0), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_procpool_free(p), -1);
    cr_assert_eq(errno, EBUSY);
    cr_assert_eq(evt_procpool_terminate(p), 0);
    cr_assert_eq(evt_join(co, -1, NULL), 0);
    for (int i = 0; i < 50; i++)
        cr_assert_eq(m.errs[i], ECANCELED);
    cr_assert_eq(evt_procpool_join(p, -1), 0);
    int r;
    cr_assert_eq(apply_int(p, 1, &r, -1), ECANCELED);
    cr_assert_eq(evt_procpool_free(p), 0);
}

Test(procpool, cancelled_map_caller)
{
    evt_procpool_t *p = evt_procpool_new(2, NULL);
    static mapper_t m;
    m.p = p;
    for (int i = 0; i < 50; i++)
        m.in[i] = HANG;
    evt_co_t *co = evt_spawn(do_map, &m);
    evt_yield();
    evt_cancel(co);
    cr_assert_eq(evt_join(co, -1, NULL), 0);
    cr_assert_eq(m.rc, -1);
    cr_assert_eq(m.err, ECANCELED);
    cr_assert_eq(evt_procpool_free(p), 0);
}

Test(procpool, close_then_join)
{
    evt_procpool_t *p = evt_procpool_new(2, NULL);
    int r;
    cr_assert_eq(apply_int(p, 4, &r, -1), 0);
    cr_assert_eq(evt_procpool_close(p), 0);
    cr_assert_eq(apply_int(p, 4, &r, -1), EPIPE);
    int in[3] = {1, 2, 3}, out[3];
    cr_assert_eq(evt_procpool_map(p, work, in, sizeof(int), 3, out,
                                  sizeof(int), NULL, NULL, 1), -1);
    cr_assert_eq(errno, EPIPE);
    cr_assert_eq(evt_procpool_join(p, evt_now() + 10000), 0);
    cr_assert_eq(evt_procpool_free(p), 0);
}

static void *nap(void *arg)
{
    evt_sleep(evt_now() + 5);
    return arg;
}

/* Sums 0..9 from ten coroutines of the worker's own scheduler. */
static ssize_t coroutines(const void *in, size_t len, void *out, size_t cap)
{
    (void)in, (void)len;
    evt_copool_t *cp = evt_copool_new(4, NULL);
    void *args[10], *res[10];
    for (intptr_t i = 0; i < 10; i++)
        args[i] = (void *)i;
    evt_copool_map(cp, nap, args, res, NULL, 10);
    evt_copool_free(cp);
    int s = 0;
    for (int i = 0; i < 10; i++)
        s += (int)(intptr_t)res[i];
    if (cap < sizeof s)
        return errno = ENOSPC, -1;
    memcpy(out, &s, sizeof s);
    return sizeof s;
}

static void *block_on(void *arg)
{
    char c;
    (void)!read(*(int *)arg, &c, 1);
    return NULL;
}

Test(procpool, tasks_run_coroutines_and_threads_are_fine)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, block_on, &fds[0]), 0);
    evt_procpool_t *p = evt_procpool_new(2, NULL);
    cr_assert_not_null(p);
    int s = 0;
    cr_assert_eq(evt_procpool_apply(p, coroutines, NULL, 0, &s, sizeof s,
                                    -1), (ssize_t)sizeof s);
    cr_assert_eq(s, 45);
    evt_procpool_free(p);
    (void)!write(fds[1], "x", 1);
    pthread_join(t, NULL);
    close(fds[0]);
    close(fds[1]);
}

static int never(const void **in, size_t *len, void *user)
{
    (void)user, (void)in, (void)len;
    return 0;
}

static int ignore(size_t index, int err, const void *out, size_t len,
                  void *user)
{
    (void)user, (void)index, (void)err, (void)out, (void)len;
    return 0;
}

Test(procpool, bad_arguments)
{
    evt_procpool_opts_t o = {.task_timeout_ms = -1};
    cr_assert_null(evt_procpool_new(1, &o));
    cr_assert_eq(errno, EINVAL);
    evt_procpool_t *p = evt_procpool_new(1, NULL);
    int x = 1;
    cr_assert_eq(evt_procpool_apply(p, NULL, &x, sizeof x, NULL, 0, -1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_procpool_apply(p, work, NULL, 4, NULL, 0, -1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_procpool_apply(NULL, work, &x, 4, NULL, 0, -1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_procpool_map(p, work, NULL, 4, 3, NULL, 0, NULL, NULL,
                                  1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_procpool_imap(p, work, never, NULL, NULL, 1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_procpool_imap_unordered(p, work, NULL, ignore, NULL, 1),
                 -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_procpool_imap(p, work, never, ignore, NULL, 1), 0);
    cr_assert_eq(evt_procpool_close(NULL), -1);
    cr_assert_eq(evt_procpool_terminate(NULL), -1);
    cr_assert_eq(evt_procpool_join(NULL, 0), -1);
    cr_assert_eq(evt_procpool_free(NULL), 0);
    evt_procpool_free(p);
}

typedef struct tally {
    int ok, failed, last_err;
    int sum;
} tally_t;

static void on_ok(int err, void *out, size_t len, void *user)
{
    tally_t *t = user;
    cr_assert_eq(err, 0);
    cr_assert_eq(len, sizeof(int));
    int v;
    memcpy(&v, out, sizeof v);
    t->sum += v;
    t->ok++;
}

static void on_err(int err, void *out, size_t len, void *user)
{
    tally_t *t = user;
    cr_assert_null(out);
    cr_assert_eq(len, 0);
    t->last_err = err;
    t->failed++;
}

Test(procpool, apply_async_with_callbacks_and_futures)
{
    evt_procpool_t *p = evt_procpool_new(2, NULL);
    enum { N = 200 };
    static int out[N];
    evt_future_t *fs[N];
    tally_t t = {0};
    for (int i = 0; i < N; i++) {
        int x = i == 50 ? ENOENT_ : i == 60 ? KILL : i;
        fs[i] = evt_procpool_apply_async(p, work, &x, sizeof x, &out[i],
                                         sizeof out[i], on_ok, on_err, &t);
        cr_assert_not_null(fs[i]);
    }
    size_t left = 1;
    cr_assert_eq(evt_as_completed(fs, N, evt_now() + 30000, NULL, NULL,
                                  &left), 0);
    cr_assert_eq(left, 0);
    cr_assert_eq(t.ok, N - 2);
    cr_assert_eq(t.failed, 2);
    int expect = 0;
    for (int i = 0; i < N; i++) {
        if (i == 50) {
            cr_assert_eq(evt_future_err(fs[i]), ENOENT);
        } else if (i == 60) {
            cr_assert_eq(evt_future_err(fs[i]), EVT_ESIGNALED(SIGKILL));
        } else {
            cr_assert_eq(evt_future_err(fs[i]), 0);
            cr_assert_eq((size_t)(uintptr_t)evt_future_result(fs[i]),
                         sizeof(int));
            cr_assert_eq(out[i], 2 * i);
            expect += 2 * i;
        }
        evt_future_free(fs[i]);
    }
    cr_assert_eq(t.sum, expect);
    evt_procpool_free(p);
}

Test(procpool, apply_async_cancel_and_terminate)
{
    evt_procpool_t *p = evt_procpool_new(1, NULL);
    int x = 3, out = 0;
    tally_t t = {0};
    /* No worker has started yet: the task is queued, and can be
     * cancelled. */
    evt_future_t *f = evt_procpool_apply_async(p, work, &x, sizeof x, &out,
                                               sizeof out, on_ok, on_err, &t);
    cr_assert_eq(evt_future_cancel(f), 0);
    cr_assert_eq(evt_future_wait(f, -1), 0);
    cr_assert_eq(evt_future_err(f), ECANCELED);
    evt_future_free(f);
    /* Once a worker runs, a task goes to it at once and counts as
     * running; terminated, its future fails with ECANCELED. */
    cr_assert_eq(apply_int(p, 1, &out, -1), 0);
    x = HANG;
    f = evt_procpool_apply_async(p, work, &x, sizeof x, &out, sizeof out,
                                 on_ok, on_err, &t);
    cr_assert_eq(evt_future_wait(f, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_future_cancel(f), -1);
    cr_assert_eq(errno, EBUSY);
    evt_procpool_terminate(p);
    cr_assert_eq(evt_future_wait(f, -1), 0);
    cr_assert_eq(evt_future_err(f), ECANCELED);
    evt_future_free(f);
    cr_assert_eq(t.ok, 0);
    cr_assert_eq(t.failed, 1);
    cr_assert_eq(t.last_err, ECANCELED);
    cr_assert_null(evt_procpool_apply_async(p, work, &x, sizeof x, NULL, 0,
                                            NULL, NULL, NULL));
    cr_assert_eq(errno, ECANCELED);
    cr_assert_null(evt_procpool_apply_async(p, NULL, &x, sizeof x, NULL, 0,
                                            NULL, NULL, NULL));
    cr_assert_eq(errno, EINVAL);
    evt_procpool_free(p);
}

/* An IPC object made after the pool (and its fork server) started is seen
 * by the workers at the same address: the arena was mapped before the
 * server forked. */
static ssize_t bump(const void *in, size_t len, void *out, size_t cap)
{
    evt_ipc_value_t *v;
    (void)out, (void)cap;
    if (len != sizeof v)
        return -1;
    memcpy(&v, in, sizeof v);
    evt_ipc_value_add(v, 1);
    return 0;
}

Test(procpool, ipc_objects_made_later_are_shared)
{
    evt_procpool_t *pool = evt_procpool_new(2, NULL);
    cr_assert_not_null(pool);
    evt_ipc_value_t *v = evt_ipc_value_new(0);
    cr_assert_not_null(v);
    evt_ipc_value_t *items[50];
    for (int i = 0; i < 50; i++)
        items[i] = v;
    int errs[50];
    cr_assert_eq(evt_procpool_map(pool, bump, items, sizeof v, 50, NULL, 0,
                                  NULL, errs, 1), 0);
    for (int i = 0; i < 50; i++)
        cr_assert_eq(errs[i], 0);
    cr_assert_eq(evt_ipc_value_get(v), 50);
    cr_assert_eq(evt_procpool_free(pool), 0);
    evt_ipc_value_free(v);
}

/* A cancelled caller still frees a pool whose watchdog runs: free waits
 * for the watchdog to return before the memory goes (ASan would see it). */
static void *free_when_cancelled(void *arg)
{
    (void)arg;
    evt_procpool_opts_t o = {.task_timeout_ms = 60000};
    evt_procpool_t *pool = evt_procpool_new(1, &o);
    if (!pool)
        return (void *)1;
    evt_cancel(evt_self());
    return (void *)(intptr_t)evt_procpool_free(pool);
}

Test(procpool, free_by_a_cancelled_caller_with_a_watchdog)
{
    evt_co_t *co = evt_spawn(free_when_cancelled, NULL);
    void *res;
    cr_assert_eq(evt_join(co, evt_now() + 10000, &res), 0);
    cr_assert_eq((intptr_t)res, 0);
}
