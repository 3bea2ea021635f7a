/* Tests of src/hook/fds.c: what makes and ends fds. close, or dup2 onto
 * it, wakes a coroutine waiting on the fd with EBADF; connect and accept
 * park; accept4(SOCK_NONBLOCK) and dup keep the user's O_NONBLOCK. */
#include "hook_test.h"

#include <arpa/inet.h>

static int sv[2];

static void *read_errno(void *arg)
{
    char c;
    ssize_t n = read(*(int *)arg, &c, 1);
    return CO_RESULT(n < 0 ? errno : 0);
}

static void *closer(void *arg)
{
    (void)arg;
    return CO_RESULT(close(sv[0]) == 0 ? 0 : errno);
}

Test(hook_fds, close_wakes_a_waiter_with_ebadf)
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    evt_co_t *r = evt_spawn(read_errno, &sv[0]);
    evt_yield(); /* r parks in read */
    evt_co_t *c = evt_spawn(closer, NULL);
    cr_assert_eq(join_int(c), 0);
    cr_assert_eq(join_int(r), EBADF);
    close(sv[1]);
}

Test(hook_fds, dup2_over_a_watched_fd_wakes_its_waiter)
{
    int p[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(pipe(p), 0);
    evt_co_t *r = evt_spawn(read_errno, &sv[0]);
    evt_yield();
    cr_assert_eq(dup2(p[0], sv[0]), sv[0]);
    cr_assert_eq(join_int(r), EBADF);
    /* sv[0] is now the pipe: a read parks on it and gets its byte. */
    evt_co_t *r2 = evt_spawn(read_errno, &sv[0]);
    evt_yield();
    cr_assert_eq(write(p[1], "z", 1), 1);
    cr_assert_eq(join_int(r2), 0);
    close(sv[0]);
    close(sv[1]);
    close(p[0]);
    close(p[1]);
}

Test(hook_fds, dup_keeps_the_users_nonblock)
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    int d = dup(sv[0]);
    cr_assert_geq(d, 0);
    cr_assert_eq(join_int(evt_spawn(read_errno, &d)), EAGAIN);
    int d2 = fcntl(sv[0], F_DUPFD_CLOEXEC, 100);
    cr_assert_geq(d2, 100);
    cr_assert_eq(join_int(evt_spawn(read_errno, &d2)), EAGAIN);
    close(d);
    close(d2);
    close(sv[0]);
    close(sv[1]);
}

static int port;

static void *acceptor(void *arg)
{
    int lfd = *(int *)arg;
    int c = accept(lfd, NULL, NULL);
    if (c < 0)
        return CO_RESULT(errno);
    ssize_t n = write(c, "hi", 2);
    close(c);
    return CO_RESULT(n == 2 ? 0 : errno);
}

static void *client(void *arg)
{
    (void)arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
        return CO_RESULT(errno);
    char buf[4] = {0};
    ssize_t n = recv(fd, buf, 2, MSG_WAITALL);
    close(fd);
    return CO_RESULT(n == 2 && !memcmp(buf, "hi", 2) ? 0 : n < 0 ? errno : EIO);
}

Test(hook_fds, accept_and_connect_park)
{
    /* A blocking listener: accept parks until the client comes, which runs
     * only because accept did not block the thread. */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(lfd, 16), 0);
    cr_assert_eq(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    evt_co_t *s = evt_spawn(acceptor, &lfd), *c = evt_spawn(client, NULL);
    cr_assert_eq(join_int(s), 0);
    cr_assert_eq(join_int(c), 0);
    close(lfd);
}

Test(hook_fds, connect_refused_reports_the_error)
{
    port = free_port();
    cr_assert_eq(join_int(evt_spawn(client, NULL)), ECONNREFUSED);
}

static void *accept_nb(void *arg)
{
    int lfd = *(int *)arg;
    int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
    if (c < 0)
        return CO_RESULT(-errno);
    return CO_RESULT(c);
}

Test(hook_fds, accept4_nonblock_is_the_users)
{
    int lfd = evt_tcp_listen("127.0.0.1", 0, 16);
    cr_assert_geq(lfd, 0);
    int cfd = evt_tcp_connect("127.0.0.1", evt_local_port(lfd), evt_now() + 5000);
    cr_assert_geq(cfd, 0);
    int c = join_int(evt_spawn(accept_nb, &lfd));
    cr_assert_geq(c, 0, "accept4: %s", strerror(-c));
    cr_assert_eq(join_int(evt_spawn(read_errno, &c)), EAGAIN);
    close(c);
    close(cfd);
    close(lfd);
}
