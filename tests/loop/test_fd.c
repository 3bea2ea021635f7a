/* Tests of src/loop/fd.c: evt_wait_fd for reading and writing, deadlines,
 * cancellation, several waiters on one fd, regular files, evt_fd_forget and
 * evt_close waking waiters, and fd numbers reused after close. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "eventor.h"

struct wt {
    int fd, events;
    int64_t deadline;
    int got;
};

static void *waiter(void *arg)
{
    struct wt *w = arg;
    w->got = evt_wait_fd(w->fd, w->events, w->deadline);
    return (void *)(intptr_t)(w->got < 0 ? errno : 0);
}

static int join_int(evt_co_t *co)
{
    void *r = NULL;
    cr_assert_eq(evt_join(co, evt_now() + 10000, &r), 0);
    return (int)(intptr_t)r;
}

static void pair(int sv[2])
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

Test(wait_fd, readable_and_writable)
{
    int sv[2];
    pair(sv);
    cr_assert_eq(evt_wait_fd(sv[0], EVT_OUT, evt_now() + 5000), EVT_OUT);
    struct wt w = {.fd = sv[0], .events = EVT_IN, .deadline = -1};
    evt_co_t *co = evt_spawn(waiter, &w);
    evt_yield(); /* parked */
    cr_assert_eq(write(sv[1], "x", 1), 1);
    cr_assert_eq(join_int(co), 0);
    cr_assert_eq(w.got, EVT_IN);
    /* Both asked, both ready. */
    cr_assert_eq(evt_wait_fd(sv[0], EVT_IN | EVT_OUT, -1), EVT_IN | EVT_OUT);
    evt_close(sv[0]);
    evt_close(sv[1]);
}

Test(wait_fd, deadline)
{
    int sv[2];
    pair(sv);
    int64_t t0 = evt_now();
    cr_assert_eq(evt_wait_fd(sv[0], EVT_IN, t0 + 30), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_geq(evt_now(), t0 + 30);
    cr_assert_eq(evt_wait_fd(sv[0], EVT_IN, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    evt_close(sv[0]);
    evt_close(sv[1]);
}

Test(wait_fd, cancel)
{
    int sv[2];
    pair(sv);
    struct wt w = {.fd = sv[0], .events = EVT_IN, .deadline = -1};
    evt_co_t *co = evt_spawn(waiter, &w);
    evt_yield();
    cr_assert_eq(evt_cancel(co), 0);
    cr_assert_eq(join_int(co), ECANCELED);
    evt_close(sv[0]);
    evt_close(sv[1]);
}

Test(wait_fd, deadline_zero_reports_what_is_ready)
{
    int sv[2];
    pair(sv);
    cr_assert_eq(evt_wait_fd(sv[0], EVT_IN, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_wait_fd(sv[0], EVT_OUT, 0), EVT_OUT);
    cr_assert_eq(write(sv[1], "x", 1), 1);
    cr_assert_eq(evt_wait_fd(sv[0], EVT_IN, 0), EVT_IN);
    evt_close(sv[0]);
    evt_close(sv[1]);
}

Test(wait_fd, bad_arguments)
{
    int sv[2];
    pair(sv);
    cr_assert_eq(evt_wait_fd(sv[0], 0, -1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_wait_fd(sv[0], 4, -1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_wait_fd(-1, EVT_IN, -1), -1);
    cr_assert_eq(errno, EBADF);
    evt_close(sv[0]);
    evt_close(sv[1]);
    cr_assert_eq(evt_wait_fd(sv[0], EVT_IN, -1), -1);
    cr_assert_eq(errno, EBADF);
}

Test(wait_fd, several_waiters_each_for_its_event)
{
    int sv[2];
    pair(sv);
    /* Fill sv[0] so that writing waits too. */
    char junk[65536];
    while (send(sv[0], junk, sizeof junk, MSG_DONTWAIT) > 0)
        ;
    struct wt r1 = {.fd = sv[0], .events = EVT_IN, .deadline = -1};
    struct wt r2 = r1;
    struct wt wr = {.fd = sv[0], .events = EVT_OUT, .deadline = -1};
    evt_co_t *a = evt_spawn(waiter, &r1), *b = evt_spawn(waiter, &r2);
    evt_co_t *c = evt_spawn(waiter, &wr);
    evt_yield();
    cr_assert_eq(write(sv[1], "x", 1), 1);
    cr_assert_eq(join_int(a), 0);
    cr_assert_eq(join_int(b), 0);
    cr_assert_eq(r1.got, EVT_IN);
    cr_assert_eq(r2.got, EVT_IN);
    cr_assert_not(evt_co_done(c)); /* still no room */
    while (recv(sv[1], junk, sizeof junk, MSG_DONTWAIT) > 0)
        ;
    cr_assert_eq(join_int(c), 0);
    cr_assert_eq(wr.got, EVT_OUT);
    evt_close(sv[0]);
    evt_close(sv[1]);
}

Test(wait_fd, hang_up_shows_as_both)
{
    int sv[2];
    pair(sv);
    struct wt w = {.fd = sv[0], .events = EVT_IN, .deadline = -1};
    evt_co_t *co = evt_spawn(waiter, &w);
    evt_yield();
    close(sv[1]);
    cr_assert_eq(join_int(co), 0);
    cr_assert(w.got & EVT_IN);
    evt_close(sv[0]);
}

Test(wait_fd, regular_file_is_always_ready)
{
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    int fd = fileno(f);
    cr_assert_eq(evt_wait_fd(fd, EVT_IN, -1), EVT_IN);
    cr_assert_eq(evt_wait_fd(fd, EVT_OUT, -1), EVT_OUT);
    cr_assert_eq(evt_wait_fd(fd, EVT_IN | EVT_OUT, 0), EVT_IN | EVT_OUT);
    evt_fd_forget(fd);
    fclose(f);
}

Test(wait_fd, forget_and_close_wake_waiters_with_ebadf)
{
    int sv[2];
    pair(sv);
    struct wt w1 = {.fd = sv[0], .events = EVT_IN, .deadline = -1};
    struct wt w2 = w1;
    evt_co_t *a = evt_spawn(waiter, &w1), *b = evt_spawn(waiter, &w2);
    evt_yield();
    evt_fd_forget(sv[0]);
    cr_assert_eq(join_int(a), EBADF);
    cr_assert_eq(join_int(b), EBADF);
    /* Forgotten, not closed: it can be waited on again. */
    cr_assert_eq(write(sv[1], "x", 1), 1);
    cr_assert_eq(evt_wait_fd(sv[0], EVT_IN, evt_now() + 5000), EVT_IN);
    struct wt w3 = {.fd = sv[1], .events = EVT_IN, .deadline = -1};
    evt_co_t *c = evt_spawn(waiter, &w3);
    evt_yield();
    cr_assert_eq(evt_close(sv[1]), 0);
    cr_assert_eq(join_int(c), EBADF);
    evt_close(sv[0]);
    /* Forgetting what was never seen is harmless. */
    evt_fd_forget(12345);
    evt_fd_forget(-1);
}

/* Wait on fd for reading while a coroutine writes to peer. */
static void *late_write(void *arg)
{
    int fd = (int)(intptr_t)arg;
    evt_yield();
    cr_assert_eq(write(fd, "y", 1), 1);
    return NULL;
}

static void wait_for_late_byte(int fd, int peer)
{
    evt_co_t *w = evt_spawn(late_write, (void *)(intptr_t)peer);
    cr_assert_eq(evt_wait_fd(fd, EVT_IN, evt_now() + 2000), EVT_IN,
                 "%s", strerror(errno));
    join_int(w);
}

Test(wait_fd, number_reused_after_close_and_forget)
{
    int sv[2];
    pair(sv);
    wait_for_late_byte(sv[0], sv[1]);
    int num = sv[0];
    evt_fd_forget(sv[0]);
    close(sv[0]);
    close(sv[1]);
    pair(sv);
    cr_assert_eq(sv[0], num);
    wait_for_late_byte(sv[0], sv[1]);
    evt_close(sv[0]);
    evt_close(sv[1]);
}

Test(wait_fd, number_reused_after_plain_close_with_new_interest)
{
    /* The reactor's record is stale, but the new wait asks for more than
     * it recorded: the kernel is asked and the stale record corrected. */
    int sv[2];
    pair(sv);
    wait_for_late_byte(sv[0], sv[1]);
    int num = sv[0];
    close(sv[0]);
    close(sv[1]);
    pair(sv);
    cr_assert_eq(sv[0], num);
    cr_assert(evt_wait_fd(sv[0], EVT_OUT, evt_now() + 2000) & EVT_OUT);
    wait_for_late_byte(sv[0], sv[1]);
    evt_close(sv[0]);
    evt_close(sv[1]);
}

