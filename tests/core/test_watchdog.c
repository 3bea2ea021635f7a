/* Tests of the blocking detector: a spinning coroutine is reported once
 * with its id and thread, idle and scheduler-less threads never are, and
 * turning it off stops reports. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eventor.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int nreports;
static evt_stall_t last;
static int last_nframes;

static void collect(const evt_stall_t *st, void *user)
{
    (void)user;
    pthread_mutex_lock(&mu);
    nreports++;
    last = *st;
    last_nframes = st->nframes;
    pthread_mutex_unlock(&mu);
}

/* Turn the detector on with the count at 0 (tests may share a process). */
static void start(int64_t ms)
{
    pthread_mutex_lock(&mu);
    nreports = 0;
    pthread_mutex_unlock(&mu);
    cr_assert_eq(evt_blocking_detector(ms, collect, NULL), 0);
}

static int reports(void)
{
    pthread_mutex_lock(&mu);
    int n = nreports;
    pthread_mutex_unlock(&mu);
    return n;
}

static int reported(void)
{
    return reports() > 0;
}

struct spin {
    int64_t ms;
    int (*reported)(void); /* NULL: spin for ms alone */
    uint64_t id;
    int tid;
};

/* Spins without yielding, what the detector is for: until reported() says
 * the report has come (however late a loaded machine runs the watchdog)
 * and then ms more, room for a wrong second report; or for ms alone. */
static void *spin(void *arg)
{
    struct spin *s = arg;
    s->id = evt_co_id(evt_self());
    s->tid = gettid();
    int64_t cap = evt_now() + 30000;
    while (s->reported && !s->reported() && evt_now() < cap)
        ;
    int64_t end = evt_now() + s->ms;
    while (evt_now() < end)
        ;
    return NULL;
}

static void run_spin(struct spin *s)
{
    evt_co_t *co = evt_spawn(spin, s);
    cr_assert_not_null(co);
    cr_assert_eq(evt_join(co, -1, NULL), 0);
}

/* Idle for ms (the scheduler waits in the reactor): room for a late
 * report to show, which none may. */
static void idle(int64_t ms)
{
    cr_assert_eq(evt_sleep(evt_now() + ms), 0);
}

Test(watchdog, spinning_coroutine_reported_once_with_its_id)
{
    start(50);
    struct spin s = {.ms = 200, .reported = reported};
    run_spin(&s);
    idle(200); /* no report after the stall ends */
    cr_assert_eq(reports(), 1);
    cr_assert_eq(last.co_id, s.id);
    cr_assert_eq(last.tid, s.tid);
    cr_assert_eq(last.fn, (void *)spin);
    cr_assert_geq(last.stalled_ms, 50);
    cr_assert_gt(last_nframes, 0, "the stalled thread's stack was taken");
    cr_assert_eq(evt_blocking_detector(0, NULL, NULL), 0);
}

static void *sleeper(void *arg)
{
    (void)arg;
    idle(300);
    return NULL;
}

Test(watchdog, idle_scheduler_not_reported)
{
    start(50);
    evt_co_t *co = evt_spawn(sleeper, NULL);
    cr_assert_eq(evt_join(co, -1, NULL), 0);
    cr_assert_eq(reports(), 0);
    evt_blocking_detector(0, NULL, NULL);
}

static void *thread_spin(void *arg)
{
    run_spin(arg);
    return NULL;
}

/* The main thread has no scheduler and blocks in pthread_join meanwhile. */
Test(watchdog, stalled_thread_reported_with_its_tid)
{
    start(50);
    struct spin s = {.ms = 200, .reported = reported};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, thread_spin, &s), 0);
    pthread_join(th, NULL);
    cr_assert_eq(reports(), 1);
    cr_assert_eq(last.tid, s.tid);
    cr_assert_neq(last.tid, gettid());
    cr_assert_eq(last.co_id, s.id);
    evt_blocking_detector(0, NULL, NULL);
}

/* A thread with a scheduler but no coroutine left computes on its own
 * stack: nobody waits for it, nothing to report. */
static void *plain_compute(void *arg)
{
    (void)arg;
    evt_yield(); /* makes the thread's scheduler */
    int64_t end = evt_now() + 300;
    while (evt_now() < end)
        ;
    return NULL;
}

Test(watchdog, thread_without_coroutines_not_reported)
{
    start(50);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, plain_compute, NULL), 0);
    pthread_join(th, NULL);
    cr_assert_eq(reports(), 0);
    evt_blocking_detector(0, NULL, NULL);
}

Test(watchdog, off_stops_reports)
{
    start(50);
    struct spin s = {.ms = 200, .reported = reported};
    run_spin(&s);
    cr_assert_eq(reports(), 1);
    cr_assert_eq(evt_blocking_detector(0, collect, NULL), 0);
    s = (struct spin){.ms = 300};
    run_spin(&s);
    idle(100);
    cr_assert_eq(reports(), 1);
    cr_assert_eq(evt_blocking_detector(-1, NULL, NULL), -1);
}

/* The report on stderr (a pipe here, not read until the end) has begun. */
static int stderr_written(void)
{
    int n = 0;
    return ioctl(2, FIONREAD, &n) == 0 && n > 0;
}

/* EVENTOR_MAX_BLOCKING_MS turns it on in a process whose first scheduler
 * is made after it is set; reports go to stderr. */
Test(watchdog, environment_variable_reports_to_stderr)
{
#if defined(EVT_TSAN)
    /* The TSan harness runs every test in one process, where the watchdog
     * thread of the tests above already runs: TSan forbids the child's new
     * watchdog thread after that fork. */
    cr_skip_test();
#endif
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(p[1], 2);
        setenv("EVENTOR_MAX_BLOCKING_MS", "50", 1);
        struct spin s = {.ms = 100, .reported = stderr_written};
        evt_join(evt_spawn(spin, &s), -1, NULL);
        evt_sleep(evt_now() + 100);
        _exit(0);
    }
    close(p[1]);
    /* Read only after the child is gone: the child watches the pipe fill
     * to know its report came, which reading meanwhile would empty (a
     * report is far below the pipe's capacity). */
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    char buf[4096];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 &&
           (n = read(p[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = 0;
    close(p[0]);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: %s", buf);
    cr_assert_not_null(strstr(buf, "eventor: blocking detector: coroutine"),
                       "stderr: %s", buf);
}
