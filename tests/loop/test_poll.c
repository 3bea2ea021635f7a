/* Tests of src/loop/poll.c: evt_poll parks only the caller until one of
 * several fds fires, returns 0 at its deadline, reports a regular file
 * ready at once and an fd closed with evt_close as POLLNVAL, and fails
 * with ECANCELED when the caller is cancelled. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "eventor.h"

static int sv[2], pp[2];
static struct pollfd fds[3];

static int join_int(evt_co_t *co)
{
    void *r = NULL;
    cr_assert_eq(evt_join(co, evt_now() + 10000, &r), 0);
    return (int)(intptr_t)r;
}

static void setup(void)
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    cr_assert_eq(pipe2(pp, O_NONBLOCK), 0);
    fds[0] = (struct pollfd){.fd = sv[0], .events = POLLIN};
    fds[1] = (struct pollfd){.fd = pp[0], .events = POLLIN};
    fds[2] = (struct pollfd){.fd = -1, .events = POLLIN}; /* ignored */
}

static void teardown(void)
{
    evt_close(sv[0]);
    evt_close(sv[1]);
    evt_close(pp[0]);
    evt_close(pp[1]);
}

TestSuite(poll, .init = setup, .fini = teardown);

static void *poller(void *arg)
{
    int64_t deadline = *(int64_t *)arg;
    int r = evt_poll(fds, 3, deadline);
    return (void *)(intptr_t)(r < 0 ? -errno : r);
}

static void *feeder(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)(write(pp[1], "x", 1) == 1 ? 0 : errno);
}

Test(poll, parks_until_one_of_several_fires)
{
    int64_t forever = -1;
    evt_co_t *p = evt_spawn(poller, &forever);
    evt_yield(); /* p parks; the feeder runs only because it did */
    cr_assert_eq(join_int(evt_spawn(feeder, NULL)), 0);
    cr_assert_eq(join_int(p), 1);
    cr_assert_eq(fds[0].revents, 0);
    cr_assert(fds[1].revents & POLLIN);
    cr_assert_eq(fds[2].revents, 0);
}

Test(poll, deadline_gives_zero)
{
    int64_t d = evt_now() + 30;
    cr_assert_eq(join_int(evt_spawn(poller, &d)), 0);
    cr_assert_geq(evt_now(), d);
    cr_assert_eq(evt_poll(fds, 3, 0), 0);
}

Test(poll, writable_and_hangup_show_at_once)
{
    struct pollfd w = {.fd = sv[1], .events = POLLOUT};
    cr_assert_eq(evt_poll(&w, 1, -1), 1);
    cr_assert(w.revents & POLLOUT);
    close(pp[1]);
    pp[1] = -1;
    int64_t forever = -1;
    cr_assert_eq(join_int(evt_spawn(poller, &forever)), 1);
    cr_assert(fds[1].revents & POLLHUP);
}

Test(poll, regular_file_is_ready_at_once)
{
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    fds[2].fd = fileno(f);
    int64_t forever = -1;
    cr_assert_eq(join_int(evt_spawn(poller, &forever)), 1);
    cr_assert(fds[2].revents & POLLIN);
    fclose(f);
}

static void *closer(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)evt_close(sv[0]);
}

Test(poll, fd_closed_while_waited_on_shows_pollnval)
{
    int64_t forever = -1;
    evt_co_t *p = evt_spawn(poller, &forever);
    evt_yield();
    cr_assert_eq(join_int(evt_spawn(closer, NULL)), 0);
    cr_assert_eq(join_int(p), 1);
    cr_assert(fds[0].revents & POLLNVAL);
    sv[0] = -1;
}

Test(poll, cancel_gives_ecanceled)
{
    int64_t forever = -1;
    evt_co_t *p = evt_spawn(poller, &forever);
    evt_yield();
    cr_assert_eq(evt_cancel(p), 0);
    cr_assert_eq(join_int(p), -ECANCELED);
}

enum { MANY = 40 };
static struct pollfd many[MANY];

static void *poll_many(void *arg)
{
    (void)arg;
    int r = evt_poll(many, MANY, evt_now() + 5000);
    return (void *)(intptr_t)(r < 0 ? -errno : r);
}

Test(poll, many_fds_beyond_the_stack_array)
{
    int p[MANY][2];
    for (int i = 0; i < MANY; i++) {
        cr_assert_eq(pipe2(p[i], O_NONBLOCK), 0);
        many[i] = (struct pollfd){.fd = p[i][0], .events = POLLIN};
    }
    evt_co_t *c = evt_spawn(poll_many, NULL);
    evt_yield(); /* it parks on all 40 */
    cr_assert_eq(write(p[MANY - 1][1], "x", 1), 1);
    cr_assert_eq(join_int(c), 1);
    cr_assert(many[MANY - 1].revents & POLLIN);
    for (int i = 0; i < MANY; i++) {
        evt_close(p[i][0]);
        evt_close(p[i][1]);
    }
}
