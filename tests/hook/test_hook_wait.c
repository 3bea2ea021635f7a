/* Tests of src/hook/wait.c: poll and select on a coroutine park it (a mix
 * of a socket, a pipe and a regular file included), their timeouts still
 * expire, the sleeps let other coroutines run, and a cancel ends a hooked
 * sleep with ECANCELED. */
#include "hook_test.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/select.h>
#include <time.h>

static int sv[2], pp[2];

static void pipes_open(void)
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(pipe(pp), 0);
}

static void pipes_close(void)
{
    close(sv[0]);
    close(sv[1]);
    close(pp[0]);
    close(pp[1]);
}

static void *poll_two(void *arg)
{
    int timeout = *(int *)arg;
    struct pollfd p[2] = {{.fd = sv[0], .events = POLLIN},
                          {.fd = pp[0], .events = POLLIN}};
    int r = poll(p, 2, timeout);
    if (r < 0)
        return CO_RESULT(-errno);
    /* Which fds: 1 socket, 2 pipe. */
    return CO_RESULT(r == 0 ? 0 : (p[0].revents & POLLIN ? 1 : 0) |
                                      (p[1].revents & POLLIN ? 2 : 0));
}

static void *feed_pipe(void *arg)
{
    (void)arg;
    return CO_RESULT(write(pp[1], "p", 1) == 1 ? 0 : errno);
}

Test(hook_wait, poll_parks_until_one_fd_fires)
{
    pipes_open();
    int forever = -1;
    evt_co_t *p = evt_spawn(poll_two, &forever);
    evt_yield(); /* p parks in poll: the feeder below runs only then */
    evt_co_t *f = evt_spawn(feed_pipe, NULL);
    cr_assert_eq(join_int(f), 0);
    cr_assert_eq(join_int(p), 2);
    pipes_close();
}

Test(hook_wait, poll_timeout_still_expires)
{
    pipes_open();
    int t = 50;
    int64_t t0 = evt_now();
    cr_assert_eq(join_int(evt_spawn(poll_two, &t)), 0);
    cr_assert_geq(evt_now() - t0, 50);
    pipes_close();
}

Test(hook_wait, poll_on_a_mix_with_a_regular_file)
{
    pipes_open();
    char path[] = "/tmp/evt_hook_pollXXXXXX";
    int f = mkstemp(path);
    cr_assert_geq(f, 0);
    unlink(path);
    struct pollfd p[3] = {{.fd = sv[0], .events = POLLIN},
                          {.fd = pp[0], .events = POLLIN},
                          {.fd = f, .events = POLLIN}};
    /* A regular file is always ready: at once, from a coroutine too. */
    cr_assert_eq(poll(p, 3, -1), 1);
    cr_assert(p[2].revents & POLLIN);
    cr_assert_eq(p[0].revents | p[1].revents, 0);
    close(f);
    pipes_close();
}

static void *select_pipe(void *arg)
{
    (void)arg;
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(pp[0], &rd);
    FD_SET(sv[0], &rd);
    struct timeval tv = {5, 0};
    int r = select((pp[0] > sv[0] ? pp[0] : sv[0]) + 1, &rd, NULL, NULL, &tv);
    if (r < 0)
        return CO_RESULT(-errno);
    return CO_RESULT(r == 1 && FD_ISSET(pp[0], &rd) && !FD_ISSET(sv[0], &rd)
                         ? 1 : 100 + r);
}

Test(hook_wait, select_parks_and_fills_the_sets)
{
    pipes_open();
    evt_co_t *s = evt_spawn(select_pipe, NULL);
    evt_yield();
    cr_assert_eq(join_int(evt_spawn(feed_pipe, NULL)), 0);
    cr_assert_eq(join_int(s), 1);
    pipes_close();
}

static void *nap(void *arg)
{
    int kind = *(int *)arg;
    if (kind == 0)
        return CO_RESULT(usleep(100 * 1000) == 0 ? 0 : errno);
    if (kind == 1) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        return CO_RESULT(nanosleep(&ts, NULL) == 0 ? 0 : errno);
    }
    struct timespec ts = {0, 100 * 1000 * 1000};
    return CO_RESULT(clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL));
}

Test(hook_wait, sleeps_park_only_their_coroutine)
{
    /* 90 sleeps of 100 ms: 9 s one after the other, about 0.1 s together. */
    enum { N = 90 };
    evt_co_t *co[N];
    int kinds[3] = {0, 1, 2};
    int64_t t0 = evt_now();
    for (int i = 0; i < N; i++)
        co[i] = evt_spawn(nap, &kinds[i % 3]);
    for (int i = 0; i < N; i++)
        cr_assert_eq(join_int(co[i]), 0);
    int64_t took = evt_now() - t0;
    cr_assert_geq(took, 100);
    cr_assert_lt(took, 3000, "the sleeps took %lld ms", (long long)took);
}

static void *long_sleep(void *arg)
{
    (void)arg;
    struct timespec ts = {30, 0}, rem = {0, 0};
    int r = nanosleep(&ts, &rem);
    if (r == 0)
        return CO_RESULT(0);
    /* What was not slept comes back, as after EINTR. */
    return CO_RESULT(rem.tv_sec > 0 ? errno : EIO);
}

Test(hook_wait, cancel_ends_a_hooked_sleep)
{
    evt_co_t *s = evt_spawn(long_sleep, NULL);
    evt_yield();
    cr_assert_eq(evt_cancel(s), 0);
    cr_assert_eq(join_int(s), ECANCELED);
}
