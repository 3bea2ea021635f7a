/* Tests of src/loop/loop.c: evt_sleep, and posts from other threads waking
 * a parked coroutine, whether the owner thread is busy or asleep in
 * epoll_wait, in the order each poster made them; the fresh runtime of a
 * forked child; and a reactor whose fds land on fd 0 (stdin closed). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eventor.h"
#include "loop/loop.h"

static void *sleeper(void *arg)
{
    int64_t deadline = *(int64_t *)arg;
    return (void *)(intptr_t)(evt_sleep(deadline) < 0 ? errno : 0);
}

static int join_int(evt_co_t *co)
{
    void *r = NULL;
    cr_assert_eq(evt_join(co, evt_now() + 10000, &r), 0);
    return (int)(intptr_t)r;
}

Test(sleep, waits_until_the_deadline)
{
    int64_t t0 = evt_now();
    cr_assert_eq(evt_sleep(t0 + 20), 0);
    cr_assert_geq(evt_now(), t0 + 20);
    /* A deadline in the past returns at once. */
    cr_assert_eq(evt_sleep(t0), 0);
    cr_assert_eq(evt_sleep(0), 0);
}

Test(sleep, cancel)
{
    int64_t forever = -1;
    evt_co_t *co = evt_spawn(sleeper, &forever);
    evt_yield();
    cr_assert_eq(evt_cancel(co), 0);
    cr_assert_eq(join_int(co), ECANCELED);
    int64_t later = evt_now() + 100000;
    co = evt_spawn(sleeper, &later);
    evt_yield();
    cr_assert_eq(evt_cancel(co), 0);
    cr_assert_eq(join_int(co), ECANCELED);
}

Test(sleep, many_deadlines_fire_in_order)
{
    enum { N = 200 };
    evt_co_t *co[N];
    int64_t d[N], base = evt_now() + 5;
    for (int i = 0; i < N; i++) {
        d[i] = base + (i * 7919) % 40; /* scrambled */
        co[i] = evt_spawn(sleeper, &d[i]);
    }
    for (int i = 0; i < N; i++)
        cr_assert_eq(join_int(co[i]), 0);
    cr_assert_geq(evt_now(), base + 39);
}

/* --- posts from other threads ------------------------------------------ */

/* A coroutine parked until another thread's post wakes it. */
struct wake {
    evt__post_t post;      /* what the other thread posts */
    evt__sched_t *sched;   /* the parked coroutine's thread */
    evt_co_t *co;          /* the parked coroutine */
    int woken;             /* set by the post, on the owner thread */
    pthread_t runner;      /* the thread fn ran on */
    int wait_for_sleep;    /* poster waits until the owner is in epoll_wait */
};

static void wake_fn(void *arg)
{
    struct wake *w = arg;
    w->runner = pthread_self();
    w->woken = 1;
    evt__loop_unhold(w->sched->loop);
    evt__unpark(w->co, 0);
}

static void *poster(void *arg)
{
    struct wake *w = arg;
    if (w->wait_for_sleep) {
        evt__loop_t *l = w->sched->loop;
        while (!atomic_load(&l->sleeping))
            sched_yield();
    }
    evt__post(w->sched, &w->post);
    return NULL;
}

static void park_until_posted(int wait_for_sleep)
{
    evt__sched_t *s = evt__sched();
    evt__loop_t *l = evt__loop_get(s);
    cr_assert_not_null(l);
    struct wake w = {.sched = s, .co = evt_self(),
                     .wait_for_sleep = wait_for_sleep};
    w.post.fn = wake_fn;
    w.post.arg = &w;
    evt__loop_hold(l); /* not a deadlock: a post is on its way */
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, poster, &w), 0);
    int rc;
    do
        rc = evt__wait(evt_now() + 10000);
    while (rc == 0 && !w.woken);
    cr_assert_eq(rc, 0, "not woken: %d", rc);
    cr_assert(pthread_equal(w.runner, pthread_self()),
              "the post ran on the wrong thread");
    pthread_join(t, NULL);
    cr_assert_eq(l->holds, 0);
}

Test(post, wakes_a_parked_coroutine)
{
    park_until_posted(0);
}

Test(post, wakes_a_thread_asleep_in_epoll_wait)
{
    park_until_posted(1);
}

/* Many posts from several threads: each runs once, on the owner thread, and
 * each poster's posts run in the order it made them. */
enum { POSTERS = 4, PER = 5000 };

struct seq_post {
    evt__post_t post;
    int poster, seq;
};

static evt__sched_t *owner;
static evt_co_t *collector; /* parked until the last post has run */
static int last_seq[POSTERS];
static int ran, out_of_order;

static void seq_fn(void *arg)
{
    struct seq_post *p = arg;
    if (p->seq != last_seq[p->poster] + 1)
        out_of_order++;
    last_seq[p->poster] = p->seq;
    evt__loop_unhold(owner->loop);
    if (++ran == POSTERS * PER)
        evt__unpark(collector, 0);
}

static void *seq_poster(void *arg)
{
    struct seq_post *ps = arg;
    for (int i = 0; i < PER; i++)
        evt__post(owner, &ps[i].post);
    return NULL;
}

Test(post, many_from_many_threads_in_order)
{
    owner = evt__sched();
    collector = evt_self();
    evt__loop_t *l = evt__loop_get(owner);
    static struct seq_post posts[POSTERS][PER];
    pthread_t t[POSTERS];
    ran = out_of_order = 0;
    for (int p = 0; p < POSTERS; p++) {
        last_seq[p] = 0;
        for (int i = 0; i < PER; i++) {
            posts[p][i].post.fn = seq_fn;
            posts[p][i].post.arg = &posts[p][i];
            posts[p][i].poster = p;
            posts[p][i].seq = i + 1;
            evt__loop_hold(l);
        }
    }
    for (int p = 0; p < POSTERS; p++)
        cr_assert_eq(pthread_create(&t[p], NULL, seq_poster, posts[p]), 0);
    /* Parking with holds outstanding is not a deadlock; every post wakes
     * the thread or is seen on its way in. */
    int64_t end = evt_now() + 10000;
    int rc = 0;
    while (ran < POSTERS * PER && rc == 0)
        rc = evt__wait(end);
    cr_assert_eq(rc, 0, "posts lost: %d of %d ran", ran, POSTERS * PER);
    for (int p = 0; p < POSTERS; p++)
        pthread_join(t[p], NULL);
    cr_assert_eq(ran, POSTERS * PER);
    cr_assert_eq(out_of_order, 0);
    cr_assert_eq(l->holds, 0);
}

/* A forked child gets a runtime of its own: coroutines, timers and fd waits
 * work there without touching the parent's epoll set, from main or from a
 * coroutine of the parent. */
static void *child_sleeper(void *arg)
{
    (void)arg;
    return evt_sleep(evt_now() + 1) == 0 ? (void *)1 : NULL;
}

static int child_runtime_works(void)
{
    int fds[2];
    if (pipe(fds) < 0)
        return 0;
    evt_co_t *co = evt_spawn(child_sleeper, NULL);
    void *res = NULL;
    if (!co || evt_join(co, evt_now() + 5000, &res) < 0 || res != (void *)1)
        return 0;
    char c = 'x', d = 0;
    return evt_write(fds[1], &c, 1, -1) == 1 && evt_read(fds[0], &d, 1, -1) == 1
           && d == 'x';
}

static void *fork_from_coroutine(void *arg)
{
    (void)arg;
    pid_t pid = fork();
    if (pid == 0)
        _exit(child_runtime_works() ? 0 : 1);
    return (void *)(intptr_t)pid;
}

static void expect_child_ok(pid_t pid)
{
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}

Test(fork, child_has_fresh_runtime)
{
    /* The child must not share the parent's epoll set or eventfd: events
     * would go to whichever process waits first. They are closed in the
     * child before it makes its own. */
    evt__loop_t *l = evt__loop_get(evt__sched());
    cr_assert_not_null(l);
    int epfd = l->epfd, wakefd = l->wakefd;
    pid_t closed = fork();
    if (closed == 0)
        _exit(fcntl(epfd, F_GETFD) < 0 && fcntl(wakefd, F_GETFD) < 0 ? 0 : 1);
    expect_child_ok(closed);

    /* The parent's runtime is busy: a sleeper parked on its timers and a
     * pipe end in its epoll set. */
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    char c = 'y', d = 0;
    cr_assert_eq(evt_read(fds[0], &d, 1, evt_now() + 1), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    evt_co_t *sleeper = evt_spawn(child_sleeper, NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(child_runtime_works() ? 0 : 1);
    expect_child_ok(pid);

    evt_co_t *co = evt_spawn(fork_from_coroutine, NULL);
    void *res;
    cr_assert_eq(evt_join(co, -1, &res), 0);
    expect_child_ok((pid_t)(intptr_t)res);

    /* And the parent's own runtime is untouched. */
    cr_assert_eq(evt_join(sleeper, evt_now() + 5000, &res), 0);
    cr_assert_eq(res, (void *)1);
    cr_assert_eq(evt_write(fds[1], &c, 1, -1), 1);
    cr_assert_eq(evt_read(fds[0], &d, 1, evt_now() + 5000), 1);
    cr_assert_eq(d, 'y');
    close(fds[0]);
    close(fds[1]);
}

/* In a child with stdin closed and every other fd under the limit taken:
 * epoll gets fd 0, the eventfd fails, and the failed reactor must close
 * fd 0 again (0 is a real fd, not "unset"). Then, with room again, a
 * reactor on fd 0 works. 0 when all of that holds. */
static int stdin_closed_child(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 10;
    int top = dup(1);
    if (top < 0)
        return 11;
    struct rlimit tight = {(rlim_t)top + 1, rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &tight) < 0)
        return 12;
    while (dup(1) >= 0) /* fill every hole below the limit */
        ;
    close(0);
    errno = 0;
    if (evt__loop_get(evt__sched()) != NULL || errno != EMFILE)
        return 13;
    if (fcntl(0, F_GETFD) >= 0 || errno != EBADF)
        return 14; /* fd 0 leaked */
    close(top);
    evt__loop_t *l = evt__loop_get(evt__sched());
    if (!l || l->epfd != 0)
        return 15;
    int fds[2];
    char c = 'z', d = 0;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || pipe(fds) < 0)
        return 16;
    if (evt_write(fds[1], &c, 1, -1) != 1 ||
        evt_read(fds[0], &d, 1, evt_now() + 5000) != 1 || d != 'z')
        return 17;
    return 0;
}

Test(loop, fd_0_is_a_real_fd)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(stdin_closed_child());
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "child exited with %d", WEXITSTATUS(status));
}
